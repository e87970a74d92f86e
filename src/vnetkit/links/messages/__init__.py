"""The rtnetlink requests of the links layer, as pyroute2 messages, and the replies read back.

Owns: the shape of each request (which message type and class, header
fields and attributes a link, address, route, neighbour or netns-id request
carries, the way iproute2 fills them) and reading replies: the ifindex
straight from the header of a reply (no full decode on the hot path),
whole messages decoded by pyroute2, or, for reading a namespace fast
(``read_links``, ``read_addresses``, ``read_routes``, in ``reader``), the
fixed header and only the attributes ``links.records`` reads. The one
package of ``links`` that imports pyroute2 (its codec); the rest use the
message types and decoders here. Pure: nothing here talks to the kernel.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Mapping
from typing import Any

from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETNSID,
    RTM_GETROUTE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWNEIGH,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from vnetkit.links.messages.reader import (
    SKIP_STATS,
    Reply,
    address_dump,
    link_dump,
    read_addresses,
    read_links,
    read_routes,
    routes_of_table,
)

__all__ = [
    "RTM_DELADDR",
    "RTM_DELLINK",
    "RTM_DELROUTE",
    "RTM_GETADDR",
    "RTM_GETLINK",
    "RTM_GETNEIGH",
    "RTM_GETNSID",
    "RTM_GETROUTE",
    "RTM_NEWADDR",
    "RTM_NEWLINK",
    "RTM_NEWNEIGH",
    "RTM_NEWROUTE",
    "SKIP_STATS",
    "Reply",
    "address",
    "address_dump",
    "bridge_port",
    "decode",
    "decode_addresses",
    "decode_links",
    "decode_neighbours",
    "decode_routes",
    "ifindex_of",
    "link",
    "link_by_name",
    "link_dump",
    "link_info",
    "links",
    "neighbour",
    "neighbours",
    "netnsid",
    "nsid_of",
    "read_addresses",
    "read_links",
    "read_routes",
    "route",
    "routes",
    "routes_of_table",
    "veth_peer",
]

IFF_UP = 0x1
_INDEX = struct.Struct("=i")  # ifi_index / ifa_index... just after the 16-byte nlmsghdr and 4 bytes
_RT_TABLE_MAIN = 254
_RTPROT_BOOT = 3
_RT_SCOPE_UNIVERSE = 0
_RT_SCOPE_LINK = 253
_RT_SCOPE_NOWHERE = 255
_RTN_UNICAST = 1
_NUD_PERMANENT = 0x80


def link(attrs: Iterable[tuple[str, object]] = (), *, index: int = 0, flags: int = 0, change: int = 0) -> Any:
    """An ``ifinfmsg`` (RTM_NEWLINK/DELLINK/GETLINK) for ``index`` with ``attrs``."""
    msg = ifinfmsg()
    msg["index"] = index
    msg["flags"] = flags
    msg["change"] = change
    msg["attrs"] = list(attrs)
    return msg


def link_by_name(name: str) -> Any:
    """RTM_GETLINK by name, without statistics."""
    return link([("IFLA_IFNAME", name), ("IFLA_EXT_MASK", SKIP_STATS)])


def links() -> Any:
    """A link dump request, without statistics."""
    return link([("IFLA_EXT_MASK", SKIP_STATS)])


def link_info(kind: str, data: Mapping[str, object] | None = None) -> tuple[str, object]:
    """The IFLA_LINKINFO attribute: ``kind`` and its IFLA_INFO_DATA."""
    info: list[tuple[str, object]] = [("IFLA_INFO_KIND", kind)]
    if data:
        info.append(("IFLA_INFO_DATA", {"attrs": list(data.items())}))
    return ("IFLA_LINKINFO", {"attrs": info})


def bridge_port(data: Mapping[str, object]) -> tuple[str, object]:
    """The IFLA_LINKINFO attribute that changes a bridge port: IFLA_INFO_SLAVE_DATA (IFLA_BRPORT_*).

    Sent in RTM_NEWLINK on a link that is already a port (the kernel hands it
    to the bridge's ``slave_changelink`` before it applies a new master, so a
    master and port settings cannot share a request), the way ``ip link set
    DEV type bridge_slave ...`` sends it.
    """
    port = [("IFLA_INFO_SLAVE_KIND", "bridge"), ("IFLA_INFO_SLAVE_DATA", {"attrs": list(data.items())})]
    return ("IFLA_LINKINFO", {"attrs": port})


def veth_peer(attrs: Iterable[tuple[str, object]]) -> dict[str, object]:
    """IFLA_INFO_DATA of a veth: its peer, an ``ifinfmsg`` of its own."""
    return {"VETH_INFO_PEER": {"attrs": list(attrs), "index": 0, "flags": 0, "change": 0}}


def ifindex_of(reply: bytes) -> int:
    """The ifindex in an RTM_NEWLINK reply, read from its fixed header."""
    return int(_INDEX.unpack_from(reply, 20)[0])


def decode(cls: Any, replies: Iterable[bytes]) -> list[Any]:
    """The replies decoded as pyroute2 messages of class ``cls``."""
    out = []
    for data in replies:
        msg = cls(data)
        msg.decode()
        out.append(msg)
    return out


def decode_links(replies: Iterable[bytes]) -> list[Any]:
    """RTM_NEWLINK replies as pyroute2 ``ifinfmsg`` messages."""
    return decode(ifinfmsg, replies)


def decode_addresses(replies: Iterable[bytes]) -> list[Any]:
    """RTM_NEWADDR replies as pyroute2 ``ifaddrmsg`` messages."""
    return decode(ifaddrmsg, replies)


def decode_routes(replies: Iterable[bytes]) -> list[Any]:
    """RTM_NEWROUTE replies as pyroute2 ``rtmsg`` messages."""
    return decode(rtmsg, replies)


def decode_neighbours(replies: Iterable[bytes]) -> list[Any]:
    """RTM_NEWNEIGH replies as pyroute2 ``ndmsg`` messages."""
    return decode(ndmsg, replies)


def _family(ip: str) -> int:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def address(index: int, ip: str = "", prefixlen: int = 0, *, scope: int = 0, flags: int = 0) -> Any:
    """An ``ifaddrmsg`` for ``ip/prefixlen`` on ``index`` (IFA_LOCAL and IFA_ADDRESS, as ``ip`` sends).

    ``flags`` (IFA_F_*) go in IFA_FLAGS, which holds all 32 bits, when any is set.
    """
    msg = ifaddrmsg()
    msg["index"] = index
    if ip:
        msg["family"] = _family(ip)
        msg["prefixlen"] = prefixlen
        msg["scope"] = scope
        attrs: list[tuple[str, object]] = [("IFA_LOCAL", ip), ("IFA_ADDRESS", ip)]
        if flags:
            msg["flags"] = flags & 0xFF
            attrs.append(("IFA_FLAGS", flags))
        msg["attrs"] = attrs
    return msg


def route(
    *,
    delete: bool,
    family: int,
    dst: str | None,
    dst_len: int,
    gateway: str | None,
    oif: int | None,
    metric: int | None,
    table: int | None,
    protocol: int = _RTPROT_BOOT,
    scope: int | None = None,
    type: int = _RTN_UNICAST,
) -> Any:
    """An ``rtmsg`` filled the way ``ip route add|del`` fills it.

    Added: ``protocol`` (boot), ``type`` (unicast) and ``scope`` (None:
    universe with a gateway, else link, as ``ip`` picks). Deleted: scope
    nowhere (any), protocol and type unset (any) unless ``type`` is not unicast.
    """
    msg = rtmsg()
    number = _RT_TABLE_MAIN if table is None else table
    msg["family"] = family
    msg["dst_len"] = dst_len
    msg["table"] = number if number < 256 else 0
    if delete:
        msg["scope"] = _RT_SCOPE_NOWHERE
        if type != _RTN_UNICAST:
            msg["type"] = type
    else:
        msg["proto"] = protocol
        msg["type"] = type
        if scope is None:
            scope = _RT_SCOPE_UNIVERSE if gateway is not None else _RT_SCOPE_LINK
        msg["scope"] = scope
    attrs: list[tuple[str, object]] = [("RTA_TABLE", number)]
    if dst is not None:
        attrs.append(("RTA_DST", dst))
    if gateway is not None:
        attrs.append(("RTA_GATEWAY", gateway))
    if oif is not None:
        attrs.append(("RTA_OIF", oif))
    if metric is not None:
        attrs.append(("RTA_PRIORITY", metric))
    msg["attrs"] = attrs
    return msg


def routes(family: int) -> Any:
    """A route dump request for ``family`` (0: every family)."""
    msg = rtmsg()
    msg["family"] = family
    return msg


def neighbour(index: int, ip: str, mac: str, *, state: int = _NUD_PERMANENT) -> Any:
    """An ``ndmsg`` for a neighbour entry (permanent unless told)."""
    msg = ndmsg()
    msg["family"] = _family(ip)
    msg["ifindex"] = index
    msg["state"] = state
    msg["attrs"] = [("NDA_DST", ip), ("NDA_LLADDR", mac)]
    return msg


def neighbours() -> Any:
    """A neighbour dump request (every family)."""
    return ndmsg()


def netnsid(fd: int) -> Any:
    """RTM_GETNSID for the namespace behind ``fd`` (looks up, never allocates)."""
    msg = nsidmsg()
    msg["attrs"] = [("NETNSA_FD", fd)]
    return msg


def nsid_of(replies: Iterable[bytes]) -> object:
    """The NETNSA_NSID of an RTM_GETNSID reply (None without one)."""
    replies = list(replies)
    return decode(nsidmsg, replies)[0].get_attr("NETNSA_NSID") if replies else None


# -- reading a namespace fast: the fixed header and only the attributes the records read ----------
