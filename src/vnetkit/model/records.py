"""What a link *is* right now, as read back from the kernel: ``Link``.

Owns: the value (kind, state, MTU, MAC, master, peer or lower device,
kind-specific details, a bridge port's hairpin mode, addresses) and
comparing it with a spec in what cannot be changed in place (for
``ensure``). Pure. Does not own: reading
it from a netlink reply (``vnetkit.links.records``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from vnetkit.model.links import Bridge, Ipvlan, LinkSpec, Macvlan, Tuntap, Veth, Vlan, Vxlan

__all__ = ["Link"]


@dataclass(frozen=True, slots=True)
class Link:
    """One link as the kernel reports it.

    ``link_index``/``link_netnsid`` point at the peer of a veth or the lower
    device of a vlan/macvlan/ipvlan/vxlan (``link_netnsid`` set when it lives
    in another namespace, as seen from this one). ``info`` holds what only
    its kind has (a VLAN id, a VNI, a mode...); it takes part in equality,
    not in the hash. ``addresses`` are ``ADDRESS/PREFIX`` strings
    (``interfaces`` gives them as ``ipaddress`` values; ``Links.address_list``
    gives whole ``Address`` values). ``hairpin`` is a bridge port's hairpin
    mode (IFLA_BRPORT_MODE); None for a link that is not a bridge port.
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
    info: Mapping[str, object] = field(hash=False)
    addresses: tuple[str, ...] = ()
    up: bool | None = None  # administratively up (IFF_UP); None when not read
    hairpin: bool | None = None  # a bridge port's hairpin mode; None when not a bridge port

    @property
    def interfaces(self) -> tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, ...]:
        """The addresses as ``ipaddress`` interfaces (address and prefix)."""
        return tuple(ipaddress.ip_interface(text) for text in self.addresses)

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
