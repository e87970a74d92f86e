"""What every part of ``Links`` stands on: one namespace, one door to netlink, names and ifindexes.

Owns: the namespace a client works in and how messages name it, sending a
request or a dump through a ``Netlink`` (the host's backend, or one given,
such as ``FakeNetlink``; it classifies what the kernel refuses), running a
function on the namespace's own thread (the host's runner), the
ifindex of a link name and the names of ifindexes, and the
``ADDRESS/PREFIX`` strings of links that ``Link.addresses`` holds.
Does not own: the verbs (``linkops``, ``addrops``, ``routeops``,
``sysctlops``), sockets or namespaces (``vnetkit.exec``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from vnetkit.errors import NotFound, UnsupportedError
from vnetkit.exec.host import Host, default_host
from vnetkit.exec.netlink import NLM_F_DUMP, Netlink
from vnetkit.exec.runner import validate_netns_name
from vnetkit.links import messages
from vnetkit.links.records import address_text
from vnetkit.model.names import check_ifname

__all__ = ["ClientBase"]

T = TypeVar("T")


class ClientBase:
    """One namespace (``netns=None``: the caller's), the host whose threads and sockets reach it,
    and the netlink backend (the host's unless one is given)."""

    def __init__(
        self, netns: str | None = None, *, backend: Netlink | None = None, host: Host | None = None
    ) -> None:
        self._netns = validate_netns_name(netns) if netns is not None else None
        self._host = host if host is not None else default_host()
        self._nl: Netlink = backend if backend is not None else self._host.netlink
        # Given a backend of its own (a FakeNetlink) and no host, this client must not reach
        # the real system through the default host: no tun/tap or sysctl, its own probes.
        self._detached = backend is not None and host is None
        self._probes: dict[str, str] = {}

    @property
    def netns(self) -> str | None:
        """The namespace this client works in."""
        return self._netns

    @property
    def _here(self) -> str:
        return self._netns or "this namespace"

    def _where(self, name: str) -> str:
        return f"{name} in netns {self._netns}" if self._netns else name

    def _send(self, action: str, msg: Any, msg_type: int, flags: int = 0) -> list[bytes]:
        return self._nl.exchange(self._netns, action, msg, msg_type, flags)

    def _in_namespace(self, fn: Callable[[], T]) -> T:
        """``fn()`` on a thread inside this namespace (``/dev/net/tun``, ``/proc/sys`` follow the thread)."""
        if self._detached:
            raise UnsupportedError(
                f"tun/tap devices and sysctls of {self._here} are made through a host's threads, and this"
                " client was given a netlink backend of its own: pass host= as well"
            )
        return fn() if self._netns is None else self._host.runner.call_in(self._netns, fn)

    def _dump(self, what: str, msg: Any, msg_type: int) -> list[bytes]:
        return self._send(f"list {what} of {self._here}", msg, msg_type, NLM_F_DUMP)

    def index(self, name: str) -> int:
        """The ifindex of ``name``; ``NotFound`` if there is no such link."""
        request = messages.link_by_name(check_ifname(name))
        try:
            [reply] = self._send(f"look up {self._where(name)}", request, messages.RTM_GETLINK)
        except NotFound:
            raise NotFound(f"link {self._where(name)} does not exist") from None
        return messages.ifindex_of(reply)

    def _name_of(self, index: int) -> str | None:
        """The name of link ``index``; None if it is gone."""
        request = messages.link([("IFLA_EXT_MASK", messages.SKIP_STATS)], index=index)
        try:
            replies = self._send(f"look up link {index} in {self._here}", request, messages.RTM_GETLINK)
        except NotFound:
            return None
        return str(messages.decode_links(replies)[0].get_attr("IFLA_IFNAME"))

    def _link_messages(self) -> list[Any]:
        """Every link of the namespace, decoded (without statistics)."""
        return messages.decode_links(self._dump("links", messages.links(), messages.RTM_GETLINK))

    def _names(self) -> dict[int, str]:
        """The name of every link, by ifindex."""
        return {int(m["index"]): str(m.get_attr("IFLA_IFNAME")) for m in self._link_messages()}

    def _address_messages(self, index: int = 0) -> list[Any]:
        """The addresses of every link, or only of ``index`` (filtered by the kernel), decoded."""
        replies = self._dump("addresses", messages.address(index), messages.RTM_GETADDR)
        return messages.decode_addresses(replies)

    def _addresses_by_index(self, index: int = 0) -> dict[int, tuple[str, ...]]:
        """``ADDRESS/PREFIX`` strings per ifindex: of every link, or only of ``index``."""
        out: dict[int, list[str]] = {}
        for msg in self._address_messages(index):
            out.setdefault(int(msg["index"]), []).append(address_text(msg))
        return {k: tuple(v) for k, v in out.items()}
