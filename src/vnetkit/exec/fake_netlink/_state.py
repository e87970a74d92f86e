"""The state of ``FakeNetlink``'s kernel: namespaces, links, addresses, routes, neighbours, as plain records.

Owns: the records and the refusal the fake kernel raises (``KernelError``:
an errno and the kernel's extended-ack text), the flag and number constants
they use, and the little queries every part of the model needs (a link by
name, its operational state as the kernel computes it). Pure data; the
behaviour is in ``_links`` (links) and ``_ip`` (addresses,
routes, neighbours). Nothing here touches the system.
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass, field

Netns = str | None  # None: the caller's own namespace
IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

IFF_UP = 0x1
IFF_BROADCAST = 0x2
IFF_LOOPBACK = 0x8
IFF_RUNNING = 0x40
IFF_NOARP = 0x80
IFF_MULTICAST = 0x1000
IFF_LOWER_UP = 0x10000

IFA_F_SECONDARY = 0x01
IFA_F_NODAD = 0x02
IFA_F_TENTATIVE = 0x40
IFA_F_PERMANENT = 0x80
IFA_F_NOPREFIXROUTE = 0x200

RT_TABLE_MAIN = 254
RT_TABLE_LOCAL = 255
RTPROT_KERNEL = 2
RT_SCOPE_UNIVERSE = 0
RT_SCOPE_LINK = 253
RT_SCOPE_HOST = 254
RT_SCOPE_NOWHERE = 255
RTN_UNICAST = 1
RTN_LOCAL = 2
RTN_BROADCAST = 3
RTN_MULTICAST = 5
RTNH_F_LINKDOWN = 0x10
NUD_PERMANENT = 0x80

ZERO_MAC = "00:00:00:00:00:00"
IPV6_MIN_MTU = 1280


class KernelError(Exception):
    """A fake kernel's refusal: ``errno`` and the extended-ack message ('' when the kernel gives none)."""

    def __init__(self, errno: int, message: str = "") -> None:
        super().__init__(errno, message)
        self.errno = errno
        self.message = message


@dataclass(eq=False)
class Link:
    """One network device. ``kind`` is '' for ``lo`` (it has no rtnl_link_ops)."""

    index: int
    name: str
    kind: str
    mac: str
    mtu: int
    up: bool = False
    carrier: bool = True  # netif_carrier_ok(): kept while the device is down, except by veth
    watched: bool = False  # linkwatch has computed an operstate (else UNKNOWN while up)
    group: int = 0
    alias: str | None = None
    master: int | None = None  # ifindex of the bridge it is a port of
    hairpin: bool = False  # as a bridge port: IFLA_BRPORT_MODE (a new port starts without it)
    lower: int | None = None  # macvlan/macvtap: IFLA_LINK; vxlan: IFLA_VXLAN_LINK
    peer: tuple[Netns, int] | None = None  # veth: the other end's namespace and ifindex
    data: dict[str, object] = field(default_factory=dict)  # IFLA_INFO_DATA, pyroute2 names
    mac_set: bool = False  # set by the user: a bridge then keeps it (NET_ADDR_SET)
    mtu_set: bool = False  # set on a bridge by the user: no more automatic MTU
    ready: bool = False  # IPv6 IF_READY: configured (link-local made) since it last went up
    ipv6: bool = True  # an inet6 device exists (removed while the MTU is below 1280)

    @property
    def loopback(self) -> bool:
        return self.kind == "" and self.name == "lo"

    @property
    def noarp(self) -> bool:
        return self.kind == "ifb"

    @property
    def iflink(self) -> int:
        """dev_get_iflink(): the peer's or lower device's ifindex (in *its* namespace), else its own."""
        if self.peer is not None:
            return self.peer[1]
        if self.kind in ("macvlan", "macvtap") and self.lower is not None:
            return self.lower
        return self.index

    def flags(self, operstate: str) -> int:
        """ifi_flags as the kernel reports them (dev_get_flags)."""
        flags = IFF_LOOPBACK if self.loopback else IFF_BROADCAST
        if self.noarp:
            flags |= IFF_NOARP
        elif not self.loopback:
            flags |= IFF_MULTICAST
        if self.up:
            flags |= IFF_UP
            if operstate in ("UP", "UNKNOWN"):
                flags |= IFF_RUNNING
            if self.carrier:
                flags |= IFF_LOWER_UP
        return flags


@dataclass(eq=False)
class Address:
    """An interface address (IPv4 or IPv6) on link ``index``."""

    ip: IP
    prefixlen: int
    index: int
    flags: int = IFA_F_PERMANENT
    scope: int = RT_SCOPE_UNIVERSE
    proto: int = 0  # IFA_PROTO: 1 kernel (lo), 3 kernel link-local; 0 not sent

    @property
    def network(self) -> Network:
        return ipaddress.ip_network(f"{self.ip}/{self.prefixlen}", strict=False)


@dataclass(eq=False)
class Route:
    """One route; ``seq`` keeps the order routes of one prefix were added in."""

    dst: Network
    table: int
    oif: int | None
    metric: int = 0
    proto: int = RTPROT_KERNEL
    scope: int = RT_SCOPE_UNIVERSE
    type: int = RTN_UNICAST
    gateway: IP | None = None
    prefsrc: IP | None = None
    seq: int = 0

    @property
    def family(self) -> int:
        return self.dst.version


@dataclass(eq=False)
class Neighbour:
    """A neighbour table entry (only permanent ones are ever made: no traffic flows in the fake)."""

    ip: IP
    index: int
    lladdr: str
    state: int = NUD_PERMANENT


@dataclass(eq=False)
class Space:
    """One network namespace."""

    name: Netns
    links: dict[int, Link] = field(default_factory=dict)
    last_index: int = 0
    v4: dict[int, list[Address]] = field(default_factory=dict)  # per ifindex, in the kernel's order
    v6: dict[int, list[Address]] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    neighbours: list[Neighbour] = field(default_factory=list)
    nsids: dict[Netns, int] = field(default_factory=dict)  # the ids this namespace gives others
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def next_seq(self) -> int:
        return next(self._seq)

    def named(self, name: str) -> Link | None:
        return next((link for link in self.links.values() if link.name == name), None)

    def ports(self, bridge: Link) -> list[Link]:
        return [link for link in self.links.values() if link.master == bridge.index]

    def uppers(self, lower: Link) -> list[Link]:
        """The macvlans, macvtaps and vxlans sitting on ``lower``."""
        return [link for link in self.links.values() if link.lower == lower.index]

    def operstate(self, link: Link) -> str:
        """IFLA_OPERSTATE: default_operstate() once linkwatch has seen the device, UNKNOWN before."""
        if not link.up:
            return "DOWN"
        if not link.watched:
            return "UNKNOWN"
        if link.carrier:
            return "UP"
        iflink = link.iflink
        if iflink == link.index:
            return "DOWN"
        # The kernel looks the peer's ifindex up in the device's *own* namespace,
        # even when the peer lives elsewhere.
        other = self.links.get(iflink)
        if other is None or other.carrier:
            return "DOWN"
        return "LOWERLAYERDOWN"

    def nsid(self, other: Netns) -> int:
        """The id this namespace gives ``other``, allocated (lowest free) if it has none yet.

        The kernel allocates one when it first writes IFLA_LINK_NETNSID for
        this namespace: a dump, a get, an echo (or a notification someone
        listens to; the fake has no listeners).
        """
        if other not in self.nsids:
            taken = set(self.nsids.values())
            self.nsids[other] = next(n for n in itertools.count() if n not in taken)
        return self.nsids[other]
