"""The sysctl verbs of ``Links``: read, write and ensure ``net.*`` sysctls of one namespace.

Owns: running the reads and writes on the namespace's own thread (where
``/proc/sys/net`` shows that namespace) and refusing to write the caller's
own namespace. Does not own: which keys are valid, the files, or what a
failure means (``vnetkit.exec.sysctl``).
"""

from __future__ import annotations

from vnetkit.errors import UnsupportedError
from vnetkit.exec import sysctl as _sysctl
from vnetkit.links.base import ClientBase

__all__ = ["SysctlOps"]


class SysctlOps(ClientBase):
    """Per-namespace ``net.*`` sysctls."""

    def sysctl(self, key: str) -> str:
        """Read a ``net.*`` sysctl of this namespace."""
        _sysctl.path(key)  # bad input is refused before any thread is asked
        where = self._here
        return self._in_namespace(lambda: _sysctl.read(key, where=where))

    def ensure_sysctl(self, key: str, value: str | int) -> bool:
        """Write a ``net.*`` sysctl of this namespace unless it already reads ``value``; True if written."""
        if self.sysctl(key).split() == str(value).split():
            return False
        self.set_sysctl(key, value)
        return True

    def set_sysctl(self, key: str, value: str | int) -> None:
        """Write a ``net.*`` sysctl of this namespace (never of another)."""
        if self._netns is None:
            raise UnsupportedError(
                f"set sysctl {key}: refusing to change the caller's own namespace; give netns="
            )
        _sysctl.path(key)
        where = self._netns
        self._in_namespace(lambda: _sysctl.write(key, value, where=where))
