"""Links of ``FakeNetlink``'s kernel: namespaces, devices of each kind, how their states follow each other.

Owns: namespaces (``lo`` first, ifindexes handed out as the kernel does:
per namespace, counting up, never reused, a veth's peer numbered before
it), creating links (veth pairs, also across namespaces, bridges, vxlan,
macvlan, macvtap, ifb) with the kernel's refusals, changing them (up/down,
MTU, MAC, master, alias, group, name, a bridge port's hairpin mode, lost
when it leaves the bridge) and deleting them with what goes along (a
veth's peer, the macvlans and vxlans on a device, a bridge's ports
released). Follows the
kernel's carrier and operational state: a veth has a carrier while both
ends are up, a macvlan has its lower device's, a bridge has one while a
port forwards (it keeps the one it was made with until its first port
comes, unless it runs STP, and has none once its last port left), and
devices whose carrier never changes stay UNKNOWN; a bridge takes its
ports' lowest MAC and MTU unless they were set, and a MAC of zeros when
its last port leaves. A bridge asking for VLAN filtering is refused once
registered, as on a kernel without it, unless the fake kernel has it.
Carrier changes are handled in order, like linkwatch events, which
decides which link IPv6 configures first. Addresses, routes and
neighbours are ``_ip``'s; this module tells it what happened.

Does not model: STP timers (ports forward at once), link kinds beyond the six
above (vlan, ipvlan, dummy... are "Unknown device type", as on a kernel
without them), bonds, moving links between namespaces, tun/tap (made by
ioctl, not netlink), link statistics.
"""

from __future__ import annotations

import errno
import ipaddress
import random
from collections.abc import Iterable
from dataclasses import dataclass

from vnetkit.exec.fake_netlink import _ip as ip
from vnetkit.exec.fake_netlink._state import ZERO_MAC, KernelError, Link, Netns, Space

__all__ = ["KINDS", "Kernel", "PeerSpec"]

KINDS = frozenset({"veth", "bridge", "vxlan", "macvlan", "macvtap", "ifb"})
"""The link kinds the fake kernel models."""

_MACVLAN_PASSTHRU = 8
_MACVLAN_VEPA = 2
_ETH_MIN_MTU = 68
_ETH_MAX_MTU = 65535
_VXLAN_HEADROOM = {False: 50, True: 70}  # IPv4, IPv6 underlay
_BRIDGE_DEFAULTS: dict[str, object] = {
    "IFLA_BR_FORWARD_DELAY": 1500,
    "IFLA_BR_HELLO_TIME": 200,
    "IFLA_BR_MAX_AGE": 2000,
    "IFLA_BR_AGEING_TIME": 30000,
    "IFLA_BR_STP_STATE": 0,
    "IFLA_BR_PRIORITY": 32768,
    "IFLA_BR_VLAN_FILTERING": 0,
    "IFLA_BR_GROUP_FWD_MASK": 0,
    "IFLA_BR_MCAST_SNOOPING": 1,
}
_VXLAN_DEFAULTS: dict[str, object] = {
    "IFLA_VXLAN_ID": 0,
    "IFLA_VXLAN_TTL": 0,
    "IFLA_VXLAN_TOS": 0,
    "IFLA_VXLAN_LEARNING": 1,
    "IFLA_VXLAN_AGEING": 300,
    "IFLA_VXLAN_LIMIT": 0,
    "IFLA_VXLAN_PORT": 8472,
    "IFLA_VXLAN_UDP_CSUM": 1,
}


@dataclass(frozen=True)
class PeerSpec:
    """The other end of a veth being made: its name, namespace and what was asked for it."""

    name: str
    netns: Netns
    mtu: int | None = None
    mac: str | None = None
    up: bool = False


def valid_mac(mac: str) -> bool:
    """is_valid_ether_addr(): six bytes, not multicast, not all zeros."""
    parts = mac.split(":")
    return len(parts) == 6 and mac != ZERO_MAC and not int(parts[0], 16) & 1


class Kernel:
    """The namespaces and links of one fake kernel; ``_ip`` keeps their addresses and routes."""

    def __init__(
        self, *, kinds: Iterable[str] = KINDS, vlan_filtering: bool = False, rng: random.Random
    ) -> None:
        self.kinds = frozenset(kinds)
        self.vlan_filtering = vlan_filtering
        self.spaces: dict[Netns, Space] = {}
        self._rng = rng
        self._events: list[tuple[Space, Link]] = []

    # -- namespaces -------------------------------------------------------------------

    def add_namespace(self, name: Netns, *, loopback_up: bool) -> None:
        space = self.spaces[name] = Space(name)
        lo = self._register(space, name="lo", kind="", mac=ZERO_MAC, mtu=65536)
        if loopback_up:
            self.set_up(space, lo, up=True)

    def delete_namespace(self, name: Netns) -> None:
        space = self.spaces.pop(name)
        for link in list(space.links.values()):
            if link.peer is not None and link.peer[0] != name and link.peer[0] in self.spaces:
                other = self.spaces[link.peer[0]]
                self._remove(other, other.links[link.peer[1]])
        for other in self.spaces.values():
            other.nsids.pop(name, None)
        self._drain()

    # -- creating ----------------------------------------------------------------------

    def _random_mac(self) -> str:
        first = (self._rng.randrange(256) & 0xFE) | 0x02  # unicast, locally administered
        return ":".join(f"{b:02x}" for b in (first, *(self._rng.randrange(256) for _ in range(5))))

    def _register(self, space: Space, *, name: str, kind: str, mac: str, mtu: int) -> Link:
        space.last_index += 1
        link = Link(index=space.last_index, name=name, kind=kind, mac=mac, mtu=mtu)
        space.links[link.index] = link
        return link

    @staticmethod
    def _check_mtu(link_kind: str, mtu: int | None, maximum: int = _ETH_MAX_MTU) -> None:
        if mtu is None:
            return
        if mtu < (0 if link_kind == "ifb" else _ETH_MIN_MTU):
            raise KernelError(errno.EINVAL, "mtu less than device minimum")
        if link_kind != "ifb" and mtu > maximum:
            raise KernelError(errno.EINVAL, "mtu greater than device maximum")

    @staticmethod
    def _check_mac(mac: str | None) -> None:
        if mac is not None and not valid_mac(mac):
            raise KernelError(errno.EADDRNOTAVAIL)

    def _free(self, space: Space, name: str) -> None:
        if space.named(name) is not None:
            raise KernelError(errno.EEXIST)

    def _lower(self, space: Space, kind: str, index: int | None) -> Link | None:
        """The device a macvlan/macvtap/vxlan sits on, checked as the kind checks it."""
        if index is None:
            if kind in ("macvlan", "macvtap"):
                raise KernelError(errno.EINVAL)
            return None
        lower = space.links.get(index)
        if lower is None:
            raise KernelError(errno.ENODEV)
        if kind == "vxlan":
            return lower
        if lower.kind in ("macvlan", "macvtap") and lower.lower is not None:
            lower = space.links[lower.lower]  # a macvlan on a macvlan sits on the real device
        if lower.loopback:
            raise KernelError(errno.EINVAL)
        if lower.master is not None:  # the bridge holds the device's receive handler
            raise KernelError(errno.EBUSY)
        return lower

    def _check_kind(self, space: Space, kind: str, data: dict[str, object], lower: Link | None) -> None:
        if kind in ("macvlan", "macvtap"):
            assert lower is not None  # noqa: S101 - _lower refused it otherwise
            siblings = [u for u in space.uppers(lower) if u.kind in ("macvlan", "macvtap")]
            passthru = data.get(f"IFLA_{kind.upper()}_MODE") == _MACVLAN_PASSTHRU
            if siblings and (passthru or any(s.data.get("mode") == _MACVLAN_PASSTHRU for s in siblings)):
                raise KernelError(errno.EINVAL)
        if kind == "vxlan":
            remote = data.get("IFLA_VXLAN_GROUP") or data.get("IFLA_VXLAN_GROUP6")
            if remote is not None and ipaddress.ip_address(str(remote)).is_multicast and lower is None:
                raise KernelError(errno.EINVAL, "Local interface required for multicast remote destination")
            six = "IFLA_VXLAN_GROUP6" in data or "IFLA_VXLAN_LOCAL6" in data
            for other in space.links.values():
                if other.kind == "vxlan" and (
                    other.data["IFLA_VXLAN_ID"],
                    other.data["IFLA_VXLAN_PORT"],
                    "IFLA_VXLAN_GROUP6" in other.data or "IFLA_VXLAN_LOCAL6" in other.data,
                ) == (data.get("IFLA_VXLAN_ID", 0), data.get("IFLA_VXLAN_PORT", 8472), six):
                    raise KernelError(errno.EEXIST, "A VXLAN device with the specified VNI already exists")

    def create(
        self,
        space: Space,
        *,
        name: str,
        kind: str,
        mtu: int | None = None,
        mac: str | None = None,
        group: int = 0,
        master: int | None = None,
        lower: int | None = None,
        up: bool = False,
        data: dict[str, object] | None = None,
        peer: PeerSpec | None = None,
    ) -> Link:
        """RTM_NEWLINK for a new link, with the kernel's checks in the kernel's order.

        Refused before registration, it leaves nothing; refused after (a
        master that will not take it, a bridge option this kernel lacks), it
        has used up its ifindexes, as on the kernel.
        """
        data = dict(data or {})
        below = self._check_new(space, kind=kind, mtu=mtu, mac=mac, lower=lower, data=data)
        peer_space = self._check_peer(space, name, kind, peer) if peer is not None else None
        self._free(space, name)
        made: list[tuple[Space, Link]] = []
        if peer is not None and peer_space is not None:
            other = self._register(
                peer_space,
                name=peer.name,
                kind=kind,
                mac=peer.mac or self._random_mac(),
                mtu=peer.mtu or 1500,
            )
            other.mac_set = peer.mac is not None
            made.append((peer_space, other))
        link = self._register(space, name=name, kind=kind, mac=mac or self._random_mac(), mtu=mtu or 1500)
        link.group, link.mac_set = group, mac is not None
        self._setup(space, link, data, below, mtu)
        if made:
            other = made[0][1]
            other.peer, link.peer = (space.name, link.index), (made[0][0].name, other.index)
            other.carrier = link.carrier = False  # veth_newlink: no carrier until both ends are up
            other.watched = link.watched = True
        made.append((space, link))
        try:
            if link.data.get("IFLA_BR_VLAN_FILTERING") and not self.vlan_filtering:
                raise KernelError(errno.EOPNOTSUPP)  # refused by the bridge once registered
            if master is not None:
                self.set_master(space, link, master)
        except KernelError:
            for where, gone in reversed(made):
                self._remove(where, gone)
            self._drain()
            raise
        if up:
            self.set_up(space, link, up=True)
        self._drain()
        return link

    def _check_new(
        self,
        space: Space,
        *,
        kind: str,
        mtu: int | None,
        mac: str | None,
        lower: int | None,
        data: dict[str, object],
    ) -> Link | None:
        """What the kernel checks before it registers a link; the lower device, if the kind has one."""
        if kind == "tun":
            raise KernelError(errno.EOPNOTSUPP, "tun/tap creation via rtnetlink is not supported.")
        if kind not in self.kinds:
            raise KernelError(errno.EOPNOTSUPP, "Unknown device type")
        self._check_mac(mac)
        below = self._lower(space, kind, lower)
        self._check_kind(space, kind, data, below)
        if kind in ("macvlan", "macvtap") and below is not None and mtu is not None and mtu > below.mtu:
            raise KernelError(errno.EINVAL)
        self._check_mtu(kind, mtu)
        return below

    def _check_peer(self, space: Space, name: str, kind: str, peer: PeerSpec) -> Space:
        """A veth's peer: its own MAC and MTU checked, its name free where it goes."""
        peer_space = self.spaces[peer.netns]
        self._check_mac(peer.mac)
        self._check_mtu(kind, peer.mtu)
        self._free(peer_space, peer.name)
        if peer_space is space and peer.name == name:
            raise KernelError(errno.EEXIST)
        if peer.up:  # the peer is opened before the pair is joined
            raise KernelError(errno.ENOTCONN)
        return peer_space

    def _setup(
        self, space: Space, link: Link, data: dict[str, object], below: Link | None, mtu: int | None
    ) -> None:
        if link.kind == "bridge":
            link.data = {**_BRIDGE_DEFAULTS, **data}
        elif link.kind == "vxlan":
            link.data = {**_VXLAN_DEFAULTS, **data}
            link.lower = below.index if below is not None else None
            six = "IFLA_VXLAN_GROUP6" in data or "IFLA_VXLAN_LOCAL6" in data
            if mtu is None and below is not None:
                link.mtu = below.mtu - _VXLAN_HEADROOM[six]
        elif link.kind in ("macvlan", "macvtap") and below is not None:
            key = f"IFLA_{link.kind.upper()}_MODE"
            link.data = {"mode": data.get(key, _MACVLAN_VEPA)}
            link.lower = below.index
            link.mtu = mtu or below.mtu
            link.carrier, link.watched = below.carrier, True
            if link.data["mode"] == _MACVLAN_PASSTHRU:
                link.mac = below.mac

    # -- changing ------------------------------------------------------------------------

    def _carrier(self, space: Space, link: Link, on: bool) -> None:
        """netif_carrier_on/off(): a change is a linkwatch event, handled in order by ``_drain``."""
        if link.carrier != on:
            link.carrier, link.watched = on, True
            self._events.append((space, link))

    def _drain(self) -> None:
        while self._events:
            space, link = self._events.pop(0)
            if link.index not in space.links:
                continue
            ip.carrier_changed(space, link)
            self._follow(space, link)

    def _follow(self, space: Space, link: Link) -> None:
        """What stacks on ``link`` follows its state: macvlans take its carrier, its bridge re-elects."""
        for upper in space.uppers(link):
            if upper.kind in ("macvlan", "macvtap"):
                self._carrier(space, upper, link.carrier)
        if link.master is not None:
            self._bridge(space, space.links[link.master], ports_changed=False)

    def _bridge(self, space: Space, bridge: Link, *, ports_changed: bool) -> None:
        """A bridge whose ports changed: the lowest port MAC and MTU (unless set), carrier if one forwards."""
        ports = space.ports(bridge)
        if ports_changed:
            bridge.watched = True
            if not bridge.mac_set:
                bridge.mac = min((p.mac for p in ports), default=ZERO_MAC)
            if not bridge.mtu_set:
                self._apply_mtu(space, bridge, min((p.mtu for p in ports), default=1500))
        # Without ports a bridge keeps the carrier it was made with, unless it runs STP
        # (the fake's STP ports forward at once: no listening and learning delay).
        if bridge.up and (ports or ports_changed or bridge.data.get("IFLA_BR_STP_STATE")):
            self._carrier(space, bridge, any(p.up and p.carrier for p in ports))

    def set_up(self, space: Space, link: Link, *, up: bool) -> None:
        """dev_open()/dev_close() and what follows from them."""
        if link.up == up:
            return
        link.up = up
        had = link.carrier and not (link.peer is not None)
        if link.peer is not None:
            other_space = self.spaces.get(link.peer[0])
            other = other_space.links.get(link.peer[1]) if other_space is not None else None
            both = up and other is not None and other.up
            self._carrier(space, link, both)
            if other_space is not None and other is not None:
                self._carrier(other_space, other, both)
        if link.kind == "bridge" and up:
            self._bridge(space, link, ports_changed=False)
        if up:
            # IPv6 starts at once only on a link whose carrier linkwatch has already seen;
            # a veth's comes with the carrier event handled after this.
            ip.link_up(space, link, ready=had and link.carrier)
        else:
            ip.link_down(space, link)
        for upper in space.uppers(link):
            if upper.kind in ("macvlan", "macvtap"):
                self._carrier(space, upper, link.carrier)
        if link.master is not None:
            self._bridge(space, space.links[link.master], ports_changed=False)
        self._drain()

    def set_master(self, space: Space, link: Link, master: int) -> None:
        """do_set_master(): leave the current master, then join ``master`` (0: none)."""
        if link.master == master:
            return
        if link.master is not None:
            old = space.links[link.master]
            link.master, link.hairpin = None, False  # the port goes, and its settings with it
            self._bridge(space, old, ports_changed=True)
        if not master:
            return
        bridge = space.links.get(master)
        if bridge is None:
            raise KernelError(errno.EINVAL)
        if bridge.kind != "bridge":
            raise KernelError(errno.EOPNOTSUPP)
        if link.kind == "bridge":
            raise KernelError(errno.ELOOP, "Can not enslave a bridge to a bridge")
        if link.loopback:
            raise KernelError(errno.EINVAL)
        if any(u.kind in ("macvlan", "macvtap") for u in space.uppers(link)):
            raise KernelError(errno.EBUSY)
        link.master = bridge.index
        self._bridge(space, bridge, ports_changed=True)

    @staticmethod
    def set_port(link: Link, port: dict[str, object]) -> None:
        """br_port_slave_changelink(): a bridge port's settings (only hairpin mode is modelled)."""
        if link.master is None:
            raise KernelError(errno.EOPNOTSUPP)  # no master whose ports take settings
        if "IFLA_BRPORT_MODE" in port:
            link.hairpin = bool(port["IFLA_BRPORT_MODE"])

    def _apply_mtu(self, space: Space, link: Link, mtu: int) -> None:
        if link.mtu == mtu:
            return
        link.mtu = mtu
        for upper in space.uppers(link):
            if upper.kind in ("macvlan", "macvtap") and upper.mtu > mtu:
                self._apply_mtu(space, upper, mtu)
        if link.master is not None:
            bridge = space.links[link.master]
            if not bridge.mtu_set:
                self._apply_mtu(space, bridge, min(p.mtu for p in space.ports(bridge)))
        ip.mtu_changed(space, link)

    def set_mtu(self, space: Space, link: Link, mtu: int) -> None:
        """dev_set_mtu(): checked against the device's limits; a bridge keeps a user's MTU."""
        maximum, ceiling = _ETH_MAX_MTU, None
        below = space.links.get(link.lower) if link.lower is not None else None
        if link.kind == "vxlan":
            six = "IFLA_VXLAN_GROUP6" in link.data or "IFLA_VXLAN_LOCAL6" in link.data
            maximum -= _VXLAN_HEADROOM[six]
            ceiling = below.mtu - _VXLAN_HEADROOM[six] if below is not None else None
        elif link.kind in ("macvlan", "macvtap") and below is not None:
            ceiling = below.mtu
        self._check_mtu(link.kind or "lo", mtu, maximum)
        if ceiling is not None and mtu > ceiling:  # the kind's own check, without a message
            raise KernelError(errno.EINVAL)
        if link.kind == "bridge":
            link.mtu_set = True
        self._apply_mtu(space, link, mtu)
        self._drain()

    def set_mac(self, space: Space, link: Link, mac: str) -> None:
        """dev_set_mac_address(): a port's new MAC may become its bridge's."""
        self._check_mac(mac)
        link.mac = mac
        if link.kind == "bridge":
            link.mac_set = True
        if link.master is not None:
            bridge = space.links[link.master]
            if not bridge.mac_set:
                bridge.mac = min(p.mac for p in space.ports(bridge))

    def rename(self, space: Space, link: Link, name: str) -> None:
        if name == link.name:
            return
        if link.up:
            raise KernelError(errno.EBUSY)
        self._free(space, name)
        link.name = name

    # -- deleting ------------------------------------------------------------------------

    def delete(self, space: Space, link: Link) -> None:
        """RTM_DELLINK: the link, and what cannot live without it."""
        if link.loopback:
            raise KernelError(errno.EOPNOTSUPP)
        self._remove(space, link)
        self._drain()

    def delete_group(self, space: Space, group: int) -> None:
        """RTM_DELLINK of a group: every link in it, in one request."""
        members = [link for link in space.links.values() if link.group == group]
        if not members:
            raise KernelError(errno.ENODEV)
        if any(link.loopback for link in members):
            raise KernelError(errno.EPERM)
        for link in members:
            if link.index in space.links:
                self._remove(space, link)
        self._drain()

    def _remove(self, space: Space, link: Link) -> None:
        if link.index not in space.links:
            return
        self.set_up(space, link, up=False)
        del space.links[link.index]
        if link.master is not None and link.master in space.links:
            link_master, link.master = space.links[link.master], None
            self._bridge(space, link_master, ports_changed=True)
        for port in space.ports(link):
            port.master = None
        ip.link_deleted(space, link)
        for upper in space.uppers(link):
            self._remove(space, upper)
        if link.peer is not None and link.peer[0] in self.spaces:
            other_space = self.spaces[link.peer[0]]
            other = other_space.links.get(link.peer[1])
            if other is not None and other.peer == (space.name, link.index):
                self._remove(other_space, other)
