"""The host's name databases, asked the way iptables asks them.

Owns: ``HostResolver``, the real implementation of
``vnetkit.iptables.canonical.Resolver``: service names (getservbyname),
protocol names and numbers (getprotobyname, getprotobynumber), users
(getpwnam) and groups (getgrnam), through the C library, so NSS and
/etc/services, /etc/protocols, /etc/passwd and /etc/group answer exactly as
they answer iptables on this host. Answers are remembered per resolver.
Does not own: where these names may appear in a rule (``canonical``).
"""

from __future__ import annotations

import grp
import pwd
import socket

from vnetkit.exec import _linux

__all__ = ["HostResolver"]


class HostResolver:
    """This host's answers for service, protocol, user and group names (None: not known here)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str | int, str], int | str | None] = {}

    def _remember(self, key: tuple[str, str | int, str], value: int | str | None) -> int | str | None:
        self._cache[key] = value
        return value

    def service(self, name: str, protocol: str | None) -> int | None:
        key = ("service", name, protocol or "")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        try:
            found: int | None = (
                socket.getservbyname(name, protocol) if protocol else socket.getservbyname(name)
            )
        except (OSError, UnicodeError, ValueError):
            found = None
        return self._remember(key, found)  # type: ignore[return-value]

    def protocol_number(self, name: str) -> int | None:
        key = ("protocol", name, "")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        try:
            found: int | None = socket.getprotobyname(name)
        except (OSError, UnicodeError, ValueError):
            found = None
        return self._remember(key, found)  # type: ignore[return-value]

    def protocol_name(self, number: int) -> str | None:
        key = ("protocol-number", number, "")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        return self._remember(key, _linux.getprotobynumber(number))  # type: ignore[return-value]

    def user(self, name: str) -> int | None:
        key = ("user", name, "")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        try:
            found: int | None = pwd.getpwnam(name).pw_uid
        except (KeyError, UnicodeError, ValueError):
            found = None
        return self._remember(key, found)  # type: ignore[return-value]

    def group(self, name: str) -> int | None:
        key = ("group", name, "")
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        try:
            found: int | None = grp.getgrnam(name).gr_gid
        except (KeyError, UnicodeError, ValueError):
            found = None
        return self._remember(key, found)  # type: ignore[return-value]
