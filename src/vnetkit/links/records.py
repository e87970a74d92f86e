"""What the kernel reports, read into model values: ``Link``, ``Address``, ``Route``, ``Neighbour``.

Owns: turning a decoded RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE or
RTM_NEWNEIGH message (``messages``) into the value ``vnetkit.model`` defines
for it: kind-specific link details, a bridge port's hairpin mode, numbers
into ``ip``'s words, ifindexes into names. Pure apart from reading the
message object. ``Link`` itself lives in ``vnetkit.model`` (re-exported
here).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping
from typing import Any

from vnetkit.model.addresses import Address
from vnetkit.model.names import (
    ADDRESS_FLAGS,
    NUD_STATES,
    ROUTE_PROTOCOLS,
    ROUTE_TYPES,
    SCOPES,
    flag_words,
    word,
)
from vnetkit.model.neighbours import Neighbour
from vnetkit.model.records import Link
from vnetkit.model.routes import Route

__all__ = [
    "Link",
    "address_from_message",
    "address_text",
    "link_from_message",
    "neighbour_from_message",
    "route_from_message",
]

_MACVLAN_MODES = {1: "private", 2: "vepa", 4: "bridge", 8: "passthru", 16: "source"}
_IPVLAN_MODES = {0: "l2", 1: "l3", 2: "l3s"}
_IFF_UP = 0x1


def _info(kind: str, data: Any) -> dict[str, object]:  # noqa: PLR0911 - one return per kind
    if data is None or not hasattr(data, "get"):  # none, or a kind pyroute2 does not know (raw bytes)
        return {}
    get = data.get
    if kind == "vlan":
        proto = get("IFLA_VLAN_PROTOCOL")
        return {"vlan_id": get("IFLA_VLAN_ID"), "protocol": "802.1ad" if proto == 0x88A8 else "802.1Q"}
    if kind == "vxlan":
        return {
            "vxlan_id": get("IFLA_VXLAN_ID"),
            "vxlan_port": get("IFLA_VXLAN_PORT"),
            "learning": bool(get("IFLA_VXLAN_LEARNING")),
            "local": get("IFLA_VXLAN_LOCAL") or get("IFLA_VXLAN_LOCAL6"),
            "remote": get("IFLA_VXLAN_GROUP") or get("IFLA_VXLAN_GROUP6"),
            "ttl": get("IFLA_VXLAN_TTL"),
            "link": get("IFLA_VXLAN_LINK"),
        }
    if kind in ("macvlan", "macvtap"):
        mode = get("IFLA_MACVLAN_MODE") if kind == "macvlan" else get("IFLA_MACVTAP_MODE")
        return {"mode": _MACVLAN_MODES.get(mode, str(mode))}
    if kind == "tun":
        return {
            "mode": {1: "tun", 2: "tap"}.get(get("IFLA_TUN_TYPE")),
            "owner": get("IFLA_TUN_OWNER"),
            "group_owner": get("IFLA_TUN_GROUP"),
            "multi_queue": bool(get("IFLA_TUN_MULTI_QUEUE")),
            "persist": bool(get("IFLA_TUN_PERSIST")),
        }
    if kind == "ipvlan":
        return {"mode": _IPVLAN_MODES.get(get("IFLA_IPVLAN_MODE"), str(get("IFLA_IPVLAN_MODE")))}
    if kind == "bridge":
        return {
            "stp": bool(get("IFLA_BR_STP_STATE")),
            "vlan_filtering": bool(get("IFLA_BR_VLAN_FILTERING")),
            "ageing": (get("IFLA_BR_AGEING_TIME") or 0) / 100,
        }
    return {}


def _link_index(value: object, index: int, netnsid: object) -> int | None:
    """IFLA_LINK as the peer/lower ifindex; in another namespace it may equal our own index."""
    if not value:
        return None
    if netnsid is None and int(str(value)) == index:
        return None
    return int(str(value))


def link_from_message(msg: Any, names: Mapping[int, str]) -> Link:
    """A ``Link`` from a pyroute2 RTM_NEWLINK message; ``names`` maps ifindex to name."""
    linkinfo = msg.get_attr("IFLA_LINKINFO")
    kind = ""
    data = None
    hairpin = None
    if linkinfo is not None:
        kind = linkinfo.get_attr("IFLA_INFO_KIND") or ""
        data = linkinfo.get_attr("IFLA_INFO_DATA")
        hairpin = _hairpin(linkinfo)
    if not kind and msg.get_attr("IFLA_IFNAME") == "lo":
        kind = "loopback"
    master = msg.get_attr("IFLA_MASTER")
    link_index = msg.get_attr("IFLA_LINK")
    netnsid = msg.get_attr("IFLA_LINK_NETNSID")
    index = int(msg["index"])
    info = _info(kind, data)
    if kind == "veth" and link_index and netnsid is None:
        info["peer"] = names.get(int(link_index))
    return Link(
        index=index,
        name=str(msg.get_attr("IFLA_IFNAME")),
        kind=kind,
        state=str(msg.get_attr("IFLA_OPERSTATE") or "UNKNOWN"),
        mtu=int(msg.get_attr("IFLA_MTU") or 0),
        mac=msg.get_attr("IFLA_ADDRESS"),
        master=names.get(int(master)) if master else None,
        alias=msg.get_attr("IFLA_IFALIAS"),
        group=int(msg.get_attr("IFLA_GROUP") or 0),
        # IFLA_LINK is the peer/lower ifindex; in another namespace it may equal ours.
        link_index=int(link_index)
        if link_index and (netnsid is not None or int(link_index) != index)
        else None,
        link_netnsid=int(netnsid) if netnsid is not None else None,
        info=info,
        up=bool(int(msg["flags"]) & _IFF_UP),
        hairpin=hairpin,
    )


def _hairpin(linkinfo: Any) -> bool | None:
    """A bridge port's hairpin mode (IFLA_INFO_SLAVE_DATA / IFLA_BRPORT_MODE); None if not a bridge port."""
    if linkinfo.get_attr("IFLA_INFO_SLAVE_KIND") != "bridge":
        return None
    port = linkinfo.get_attr("IFLA_INFO_SLAVE_DATA")
    mode = port.get_attr("IFLA_BRPORT_MODE") if port is not None else None
    return None if mode is None else bool(mode)


def address_text(msg: Any) -> str:
    """``ADDRESS/PREFIX`` of an RTM_NEWADDR message (IFA_LOCAL, else IFA_ADDRESS): ``Link.addresses``."""
    local = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
    return f"{local}/{msg['prefixlen']}"


def _packed(family: int, text: str) -> int:
    """An address in text as the number ipaddress keeps (inet_pton: far faster than parsing in Python)."""
    return int.from_bytes(socket.inet_pton(family, text), "big")


def _interface(family: int, text: str, prefix: int) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    if family == socket.AF_INET6:
        return ipaddress.IPv6Interface((_packed(family, text), prefix))
    return ipaddress.IPv4Interface((_packed(family, text), prefix))


def address_from_message(msg: Any, names: Mapping[int, str]) -> Address:
    """An ``Address`` from a pyroute2 RTM_NEWADDR message; ``names`` maps ifindex to name."""
    index = int(msg["index"])
    flags = msg.get_attr("IFA_FLAGS")
    words = flag_words(ADDRESS_FLAGS, int(flags if flags is not None else msg["flags"]))
    if msg["family"] == socket.AF_INET6:
        words = tuple("temporary" if flag == "secondary" else flag for flag in words)
    local = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
    return Address(
        _interface(msg["family"], str(local), int(msg["prefixlen"])),
        dev=names.get(index),
        scope=word(SCOPES, int(msg["scope"])),
        flags=frozenset(words),
        index=index,
    )


def route_from_message(msg: Any, names: Mapping[int, str]) -> Route | None:
    """A ``Route`` from a pyroute2 RTM_NEWROUTE message; None if it is not IPv4 or IPv6 (MPLS, ipmr...)."""
    family = msg["family"]
    if family not in (socket.AF_INET, socket.AF_INET6):
        return None
    six = family == socket.AF_INET6
    net_class = ipaddress.IPv6Network if six else ipaddress.IPv4Network
    dst = msg.get_attr("RTA_DST")
    network = net_class((_packed(family, str(dst)) if dst else 0, int(msg["dst_len"])), strict=False)
    gateway = msg.get_attr("RTA_GATEWAY")
    oif = int(msg.get_attr("RTA_OIF") or 0)
    return Route(
        network,
        gateway=(ipaddress.IPv6Address if six else ipaddress.IPv4Address)(_packed(family, str(gateway)))
        if gateway
        else None,
        dev=names.get(oif) if oif else None,
        metric=int(msg.get_attr("RTA_PRIORITY") or 0),
        table=int(msg.get_attr("RTA_TABLE") or msg["table"]),
        protocol=word(ROUTE_PROTOCOLS, int(msg["proto"])),
        scope=word(SCOPES, int(msg["scope"])),
        type=word(ROUTE_TYPES, int(msg["type"])),
        index=oif,
    )


def neighbour_from_message(msg: Any, names: Mapping[int, str]) -> Neighbour | None:
    """A ``Neighbour`` from a pyroute2 RTM_NEWNEIGH message; None for one without an IP (a bridge's FDB)."""
    dst = msg.get_attr("NDA_DST")
    if not dst or msg["family"] not in (socket.AF_INET, socket.AF_INET6):
        return None
    index = int(msg["ifindex"])
    lladdr = msg.get_attr("NDA_LLADDR")
    return Neighbour(
        ipaddress.ip_address(dst),
        lladdr=str(lladdr) if lladdr else None,
        dev=names.get(index),
        state=frozenset(flag_words(NUD_STATES, int(msg["state"]))),
        index=index,
    )
