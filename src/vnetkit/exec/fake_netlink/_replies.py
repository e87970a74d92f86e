"""The replies of ``FakeNetlink``: its kernel's state written as the kernel writes it.

Owns: one message per link (``ifinfmsg``: flags, operational state, MTU,
MAC, master, alias, kind-specific data, bridge port data, the peer's
namespace id, allocated on first report as the kernel does), address (``ifaddrmsg``), route
(``rtmsg``, linkdown flagged while the device has no carrier), neighbour
(``ndmsg``) and namespace id (``nsidmsg``), with the attributes and values
the kernel sends for them (the kernel sends more; what is here is compared
with it by ``tests/integration/test_fake_netlink.py``), and their netlink
headers. Pure: builds pyroute2 messages from ``_state`` records.
"""

from __future__ import annotations

import socket
from typing import Any

from pyroute2.netlink.rtnl import (
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETNSID,
    RTM_GETROUTE,
    RTM_NEWNSID,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from vnetkit.exec.fake_netlink._state import (
    RTN_LOCAL,
    RTNH_F_LINKDOWN,
    Address,
    Link,
    Neighbour,
    Route,
    Space,
)

__all__ = [
    "address_message",
    "encode",
    "family",
    "link_message",
    "neighbour_message",
    "nsid_message",
    "route_message",
]

_NLM_F_MULTI = 0x2
_NSID_NOT_ASSIGNED = 0xFFFFFFFF
_TXQLEN = {"ifb": 32, "macvtap": 500}
_PORT_COST = {"veth": 2}  # by link speed: a veth says 10 Gb/s; others say nothing, costing 100
_VXLAN_ORDER = (
    "ID",
    "GROUP",
    "GROUP6",
    "LOCAL",
    "LOCAL6",
    "TTL",
    "TOS",
    "LEARNING",
    "AGEING",
    "LIMIT",
    "PORT",
)
_FOREVER = {"ifa_preferred": 0xFFFFFFFF, "ifa_valid": 0xFFFFFFFF, "cstamp": 0, "tstamp": 0}
_RT_CACHE = dict.fromkeys(("rta_clntref", "rta_lastuse", "rta_expires", "rta_error", "rta_used"), 0)
_RT_CACHE |= dict.fromkeys(("rta_id", "rta_ts", "rta_tsage"), 0)
_ND_CACHE = dict.fromkeys(("ndm_confirmed", "ndm_used", "ndm_updated", "ndm_refcnt"), 0)


def family(version: int) -> int:
    """AF_INET or AF_INET6 for IP version 4 or 6."""
    return socket.AF_INET if version == 4 else socket.AF_INET6


def encode(reply: Any, request_type: int, seq: int, dump: bool) -> bytes:
    """``reply`` with the header the kernel puts on an answer to ``request_type`` (dumps: NLM_F_MULTI)."""
    reply_type = {RTM_GETNSID: RTM_NEWNSID}.get(request_type, request_type)
    if request_type in (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH):
        reply_type = request_type - 2  # RTM_GETx is answered with RTM_NEWx
    header = reply["header"]
    header["type"] = reply_type
    header["flags"] = _NLM_F_MULTI if dump else 0
    header["sequence_number"] = seq
    header["pid"] = 0
    reply.encode()
    return bytes(reply.data)


def link_message(space: Space, link: Link) -> Any:
    """RTM_NEWLINK for ``link`` as ``space`` sees it (the peer's namespace by the id ``space`` gives it)."""
    state = space.operstate(link)
    msg = ifinfmsg()
    msg["family"] = 0
    msg["ifi_type"] = 772 if link.loopback else 1
    msg["index"] = link.index
    msg["flags"] = link.flags(state)
    msg["change"] = 0
    attrs: list[tuple[str, object]] = [
        ("IFLA_IFNAME", link.name),
        ("IFLA_TXQLEN", _TXQLEN.get(link.kind, 1000)),
        ("IFLA_OPERSTATE", state),
        ("IFLA_LINKMODE", 0),
        ("IFLA_MTU", link.mtu),
        ("IFLA_GROUP", link.group),
    ]
    if link.master is not None:
        attrs.append(("IFLA_MASTER", link.master))
    attrs.append(("IFLA_CARRIER", int(link.carrier)))
    broadcast = "00:00:00:00:00:00" if link.loopback else "ff:ff:ff:ff:ff:ff"
    attrs += [("IFLA_ADDRESS", link.mac), ("IFLA_BROADCAST", broadcast)]
    if link.alias:
        attrs.append(("IFLA_IFALIAS", link.alias))
    if link.kind:
        attrs.append(("IFLA_LINKINFO", {"attrs": _link_info(space, link)}))
    put_link = link.iflink != link.index
    if link.peer is not None and link.peer[0] != space.name:
        attrs.append(("IFLA_LINK_NETNSID", space.nsid(link.peer[0])))
        put_link = True
    if put_link:
        attrs.append(("IFLA_LINK", link.iflink))
    msg["attrs"] = attrs
    return msg


def _link_info(space: Space, link: Link) -> list[tuple[str, object]]:
    info: list[tuple[str, object]] = [("IFLA_INFO_KIND", link.kind)]
    data: list[tuple[str, object]] = []
    if link.kind == "bridge":
        data = [*link.data.items(), ("IFLA_BR_BRIDGE_ID", {"prio": 128, "addr": link.mac})]
        data.append(("IFLA_BR_GROUP_ADDR", "01:80:c2:00:00:00"))
    elif link.kind == "vxlan":
        data = [
            (f"IFLA_VXLAN_{k}", link.data[f"IFLA_VXLAN_{k}"])
            for k in _VXLAN_ORDER
            if f"IFLA_VXLAN_{k}" in link.data
        ]
        if link.lower is not None:
            data.insert(
                1 + ("IFLA_VXLAN_GROUP" in link.data or "IFLA_VXLAN_GROUP6" in link.data),
                ("IFLA_VXLAN_LINK", link.lower),
            )
        data.append(("IFLA_VXLAN_UDP_CSUM", link.data["IFLA_VXLAN_UDP_CSUM"]))
    elif link.kind in ("macvlan", "macvtap"):
        prefix = f"IFLA_{link.kind.upper()}_"
        data = [
            (prefix + "MODE", link.data["mode"]),
            (prefix + "FLAGS", 0),
            (prefix + "MACADDR_COUNT", 0),
        ]
    if data:
        info.append(("IFLA_INFO_DATA", {"attrs": data}))
    if link.master is not None:
        bridge = space.links[link.master]
        forwarding = link.up and link.carrier and bridge.up
        info.append(("IFLA_INFO_SLAVE_KIND", "bridge"))
        port = [("IFLA_BRPORT_STATE", 3 if forwarding else 0), ("IFLA_BRPORT_PRIORITY", 32)]
        port += [
            ("IFLA_BRPORT_COST", _PORT_COST.get(link.kind, 100)),
            ("IFLA_BRPORT_MODE", int(link.hairpin)),
            ("IFLA_BRPORT_LEARNING", 1),
            ("IFLA_BRPORT_UNICAST_FLOOD", 1),
        ]
        info.append(("IFLA_INFO_SLAVE_DATA", {"attrs": port}))
    return info


def address_message(space: Space, addr: Address) -> Any:
    """RTM_NEWADDR for ``addr`` (IPv4 with its local address and label, IPv6 with its protocol)."""
    msg = ifaddrmsg()
    msg["family"] = family(addr.ip.version)
    msg["prefixlen"] = addr.prefixlen
    msg["flags"] = addr.flags & 0xFF
    msg["scope"] = addr.scope
    msg["index"] = addr.index
    if addr.ip.version == 4:
        label = space.links[addr.index].name
        attrs: list[tuple[str, object]] = [("IFA_ADDRESS", str(addr.ip)), ("IFA_LOCAL", str(addr.ip))]
        attrs += [("IFA_LABEL", label), ("IFA_FLAGS", addr.flags), ("IFA_CACHEINFO", _FOREVER)]
    else:
        attrs = [("IFA_ADDRESS", str(addr.ip)), ("IFA_CACHEINFO", _FOREVER), ("IFA_FLAGS", addr.flags)]
        if addr.proto:
            attrs.append(("IFA_PROTO", addr.proto))
    msg["attrs"] = attrs
    return msg


def route_message(space: Space, route: Route) -> Any:
    """RTM_NEWROUTE for ``route``: RTNH_F_LINKDOWN while its device has no carrier (not on local routes)."""
    msg = rtmsg()
    msg["family"] = family(route.family)
    msg["dst_len"] = route.dst.prefixlen
    msg["table"] = route.table if route.table < 256 else 252
    msg["proto"] = route.proto
    msg["scope"] = route.scope
    msg["type"] = route.type
    link = space.links.get(route.oif) if route.oif is not None else None
    down = route.type != RTN_LOCAL and link is not None and not link.carrier
    msg["flags"] = RTNH_F_LINKDOWN if down else 0
    attrs: list[tuple[str, object]] = [("RTA_TABLE", route.table)]
    if route.dst.prefixlen:
        attrs.append(("RTA_DST", str(route.dst.network_address)))
    if route.family == 4:
        if route.metric:
            attrs.append(("RTA_PRIORITY", route.metric))
        if route.prefsrc is not None:
            attrs.append(("RTA_PREFSRC", str(route.prefsrc)))
    else:
        attrs.append(("RTA_PRIORITY", route.metric))
    if route.gateway is not None:
        attrs.append(("RTA_GATEWAY", str(route.gateway)))
    if route.oif is not None:
        attrs.append(("RTA_OIF", route.oif))
    if route.family == 6:
        attrs += [("RTA_CACHEINFO", _RT_CACHE), ("RTA_PREF", 0)]
    msg["attrs"] = attrs
    return msg


def neighbour_message(entry: Neighbour) -> Any:
    """RTM_NEWNEIGH for ``entry``."""
    msg = ndmsg()
    msg["family"] = family(entry.ip.version)
    msg["ifindex"] = entry.index
    msg["state"] = entry.state
    msg["flags"] = 0
    msg["ndm_type"] = 1
    msg["attrs"] = [
        ("NDA_DST", str(entry.ip)),
        ("NDA_LLADDR", entry.lladdr),
        ("NDA_PROBES", 0),
        ("NDA_CACHEINFO", _ND_CACHE),
    ]
    return msg


def nsid_message(number: int | None) -> Any:
    """RTM_NEWNSID answering RTM_GETNSID: the id, or -1 (unsigned) when none is given."""
    msg = nsidmsg()
    msg["attrs"] = [("NETNSA_NSID", _NSID_NOT_ASSIGNED if number is None else number)]
    return msg
