"""What a link *is* right now, read back from the kernel: ``Link``.

Owns: turning an RTM_NEWLINK message into a plain value (kind, state, MTU,
MAC, master, lower device, veth peer, addresses) and comparing a live link
with a spec (for ``ensure``). Pure apart from reading the message object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from vnetkit.links.specs import Bridge, Ipvlan, LinkSpec, Macvlan, Tuntap, Veth, Vlan, Vxlan

__all__ = ["Link", "link_from_message"]


@dataclass(frozen=True, slots=True)
class Link:
    """One link as the kernel reports it.

    ``link_index``/``link_netnsid`` point at the peer of a veth or the lower
    device of a vlan/macvlan/ipvlan/vxlan (``link_netnsid`` set when it lives
    in another namespace, as seen from this one).
    """

    index: int
    name: str
    kind: str
    state: str
    mtu: int
    mac: str | None
    master: str | None
    alias: str | None
    group: int
    link_index: int | None
    link_netnsid: int | None
    info: Mapping[str, object]
    addresses: tuple[str, ...] = ()

    def with_addresses(self, addresses: tuple[str, ...]) -> Link:
        """The same link with its addresses filled in."""
        return dataclasses.replace(self, addresses=addresses)

    def differences(self, spec: LinkSpec) -> list[str]:
        """How this link differs from ``spec`` in what cannot be changed in place."""
        problems = []
        want_kind = spec.kind if not isinstance(spec, Tuntap) else "tun"
        if self.kind != want_kind:
            problems.append(f"kind is {self.kind or 'unknown'}, wanted {want_kind}")
            return problems
        checks: list[tuple[str, object, object]] = []
        if isinstance(spec, Vlan):
            checks.append(("VLAN id", self.info.get("vlan_id"), spec.id))
        if isinstance(spec, Vxlan):
            checks.append(("VNI", self.info.get("vxlan_id"), spec.vni))
            checks.append(("destination port", self.info.get("vxlan_port"), spec.dstport))
        if isinstance(spec, Macvlan):
            checks.append(("mode", self.info.get("mode"), spec.mode))
        if isinstance(spec, Tuntap):
            checks.append(("mode", self.info.get("mode"), spec.mode))
        if isinstance(spec, Ipvlan):
            checks.append(("mode", self.info.get("mode"), spec.mode))
        if isinstance(spec, Bridge):
            checks.append(("vlan_filtering", bool(self.info.get("vlan_filtering")), spec.vlan_filtering))
        if isinstance(spec, Veth) and spec.peer_netns is None:
            checks.append(("peer", self.info.get("peer"), spec.peer))
        if spec.mtu is not None:
            checks.append(("MTU", self.mtu, spec.mtu))
        if spec.mac is not None:
            checks.append(("MAC", self.mac, spec.mac))
        for what, have, want in checks:
            if have is not None and have != want:
                problems.append(f"{what} is {have}, wanted {want}")
        return problems


_MACVLAN_MODES = {1: "private", 2: "vepa", 4: "bridge", 8: "passthru", 16: "source"}
_IPVLAN_MODES = {0: "l2", 1: "l3", 2: "l3s"}


def _info(kind: str, data: Any) -> dict[str, object]:  # noqa: PLR0911 - one return per kind
    if data is None:
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
    if linkinfo is not None:
        kind = linkinfo.get_attr("IFLA_INFO_KIND") or ""
        data = linkinfo.get_attr("IFLA_INFO_DATA")
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
    )
