"""What a virtual NIC should be: one typed spec class per link kind, checked on construction.

Owns: the options of each kind (veth, bridge, vlan, vxlan, macvlan, macvtap,
ipvlan, tun/tap, ifb), their validation (interface names, VLAN ids, VNIs,
modes, addresses: ``ConfigError`` before anything touches the kernel), and
the kind-specific attributes each asks the kernel for (``attributes()``, by
their rtnetlink names). Pure: no I/O. Does not own: building or sending the
requests (``vnetkit.links``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar, Literal

from vnetkit.errors import ConfigError
from vnetkit.model.names import check_ifname, check_ip, check_mac, check_range

__all__ = [
    "Bridge",
    "Ifb",
    "Ipvlan",
    "LinkSpec",
    "Macvlan",
    "MacvlanMode",
    "Macvtap",
    "Tuntap",
    "Veth",
    "Vlan",
    "Vxlan",
]

# Zero-argument super() does not reach the class a slotted dataclass becomes
# (before Python 3.14), so each kind calls its base's __post_init__ by name.


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkSpec:
    """Options every kind shares. ``up`` brings the link up after creating it.

    ``hairpin``, for a bridge port (it needs ``master``): True lets the
    bridge send a frame back out of the port it came in on (what a container
    needs to reach its own published port through the host's address, as
    Docker sets it with the userland proxy off); None leaves the port as the
    kernel makes it (off).
    """

    kind: ClassVar[str] = ""
    name: str
    mtu: int | None = None
    mac: str | None = None
    up: bool = True
    master: str | None = None
    alias: str | None = None
    ifgroup: int | None = None
    hairpin: bool | None = None

    def __post_init__(self) -> None:
        check_ifname(self.name)
        if self.mtu is not None:
            check_range(self.mtu, 68, 65535, "MTU")
        if self.mac is not None:
            object.__setattr__(self, "mac", check_mac(self.mac))
        if self.master is not None:
            check_ifname(self.master, what="master name")
        if self.ifgroup is not None:
            check_range(self.ifgroup, 0, 2**32 - 1, "interface group")
        if self.alias is not None and len(self.alias.encode()) > 255:
            raise ConfigError(f"alias of {self.name} is longer than 255 bytes")
        if self.hairpin is not None and self.master is None:
            raise ConfigError(
                f"hairpin of {self.name} is a bridge port's setting: give {self.name} a master too"
            )

    @property
    def lower(self) -> str | None:
        """The device this link sits on (vlan, macvlan...), if any."""
        return None

    def attributes(self) -> dict[str, object]:
        """Kind-specific attributes (IFLA_INFO_DATA, by their kernel names as pyroute2 knows them)."""
        return {}


@dataclass(frozen=True, kw_only=True, slots=True)
class Veth(LinkSpec):
    """A veth pair; ``peer`` is made directly in ``peer_netns`` (never created then moved)."""

    kind: ClassVar[str] = "veth"
    peer: str
    peer_netns: str | None = None
    peer_mtu: int | None = None
    peer_mac: str | None = None
    peer_up: bool = True

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        check_ifname(self.peer, what="peer name")
        if self.peer_mac is not None:
            object.__setattr__(self, "peer_mac", check_mac(self.peer_mac))
        if self.peer_mtu is not None:
            check_range(self.peer_mtu, 68, 65535, "peer MTU")


@dataclass(frozen=True, kw_only=True, slots=True)
class Bridge(LinkSpec):
    """A Linux bridge. ``ageing`` in seconds; ``ports`` (existing links) are enslaved after creation."""

    kind: ClassVar[str] = "bridge"
    stp: bool = False
    ageing: float | None = None
    vlan_filtering: bool = False
    ports: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        for port in self.ports:
            check_ifname(port, what="bridge port name")
        if self.ageing is not None and not 0 <= self.ageing <= 1_000_000:
            raise ConfigError(f"invalid ageing time {self.ageing!r}: use 0..1000000 seconds")

    def attributes(self) -> dict[str, object]:
        attrs: dict[str, object] = {"IFLA_BR_STP_STATE": int(self.stp)}
        if self.ageing is not None:
            attrs["IFLA_BR_AGEING_TIME"] = int(self.ageing * 100)  # centiseconds
        if self.vlan_filtering:
            attrs["IFLA_BR_VLAN_FILTERING"] = 1
        return attrs


@dataclass(frozen=True, kw_only=True, slots=True)
class Vlan(LinkSpec):
    """An 802.1Q (or 802.1ad) sub-interface of ``link`` with VLAN ``id``."""

    kind: ClassVar[str] = "vlan"
    link: str
    id: int
    protocol: Literal["802.1Q", "802.1ad"] = "802.1Q"

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        check_ifname(self.link, what="lower device name")
        check_range(self.id, 1, 4094, "VLAN id")
        if self.protocol not in ("802.1Q", "802.1ad"):
            raise ConfigError(f"invalid VLAN protocol {self.protocol!r}: use '802.1Q' or '802.1ad'")

    @property
    def lower(self) -> str | None:
        return self.link

    def attributes(self) -> dict[str, object]:
        return {
            "IFLA_VLAN_ID": self.id,
            "IFLA_VLAN_PROTOCOL": 0x8100 if self.protocol == "802.1Q" else 0x88A8,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Vxlan(LinkSpec):
    """A VXLAN tunnel endpoint: ``vni``, and ``remote`` (unicast) or ``group`` (multicast)."""

    kind: ClassVar[str] = "vxlan"
    vni: int
    local: str | None = None
    remote: str | None = None
    group: str | None = None
    dev: str | None = None
    dstport: int = 4789
    learning: bool = True
    ttl: int | None = None

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        check_range(self.vni, 0, 16_777_215, "VNI")
        check_range(self.dstport, 1, 65535, "VXLAN destination port")
        if self.remote is not None and self.group is not None:
            raise ConfigError(f"vxlan {self.name}: give remote or group, not both")
        for what in ("local", "remote", "group"):
            value = getattr(self, what)
            if value is not None:
                object.__setattr__(self, what, check_ip(value, f"vxlan {what} address"))
        versions = {ipaddress.ip_address(a).version for a in (self.local, self.remote, self.group) if a}
        if len(versions) > 1:
            raise ConfigError(f"vxlan {self.name}: local and remote/group must be all IPv4 or all IPv6")
        if self.group is not None and not ipaddress.ip_address(self.group).is_multicast:
            raise ConfigError(f"vxlan {self.name}: group {self.group} is not a multicast address")
        if self.dev is not None:
            check_ifname(self.dev, what="vxlan device name")
        if self.ttl is not None:
            check_range(self.ttl, 0, 255, "TTL")

    @property
    def lower(self) -> str | None:
        return self.dev

    def attributes(self) -> dict[str, object]:
        attrs: dict[str, object] = {
            "IFLA_VXLAN_ID": self.vni,
            "IFLA_VXLAN_PORT": self.dstport,
            "IFLA_VXLAN_LEARNING": int(self.learning),
        }
        six = any(":" in a for a in (self.local, self.remote, self.group) if a)
        if self.local is not None:
            attrs["IFLA_VXLAN_LOCAL6" if six else "IFLA_VXLAN_LOCAL"] = self.local
        peer = self.remote or self.group
        if peer is not None:
            attrs["IFLA_VXLAN_GROUP6" if six else "IFLA_VXLAN_GROUP"] = peer
        if self.ttl is not None:
            attrs["IFLA_VXLAN_TTL"] = self.ttl
        return attrs


MacvlanMode = Literal["bridge", "vepa", "private", "passthru", "source"]
_MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}


@dataclass(frozen=True, kw_only=True, slots=True)
class Macvlan(LinkSpec):
    """A MAC-based sub-interface of ``link`` in one of the five modes."""

    kind: ClassVar[str] = "macvlan"
    link: str
    mode: MacvlanMode = "bridge"

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        check_ifname(self.link, what="lower device name")
        if self.mode not in _MACVLAN_MODES:
            raise ConfigError(
                f"invalid {self.kind} mode {self.mode!r}: use one of {', '.join(_MACVLAN_MODES)}"
            )

    @property
    def lower(self) -> str | None:
        return self.link

    def attributes(self) -> dict[str, object]:
        return {f"IFLA_{self.kind.upper()}_MODE": _MACVLAN_MODES[self.mode]}


@dataclass(frozen=True, kw_only=True, slots=True)
class Macvtap(Macvlan):
    """A macvlan with a tap character device (/dev/tapN) for a VM."""

    kind: ClassVar[str] = "macvtap"


_IPVLAN_MODES = {"l2": 0, "l3": 1, "l3s": 2}


@dataclass(frozen=True, kw_only=True, slots=True)
class Ipvlan(LinkSpec):
    """An IP-based sub-interface of ``link`` (l2, l3 or l3s)."""

    kind: ClassVar[str] = "ipvlan"
    link: str
    mode: Literal["l2", "l3", "l3s"] = "l2"

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        check_ifname(self.link, what="lower device name")
        if self.mode not in _IPVLAN_MODES:
            raise ConfigError(f"invalid ipvlan mode {self.mode!r}: use l2, l3 or l3s")

    @property
    def lower(self) -> str | None:
        return self.link

    def attributes(self) -> dict[str, object]:
        return {"IFLA_IPVLAN_MODE": _IPVLAN_MODES[self.mode]}


@dataclass(frozen=True, kw_only=True, slots=True)
class Tuntap(LinkSpec):
    """A persistent tun (layer 3) or tap (layer 2) device, optionally owned by a user/group."""

    kind: ClassVar[str] = "tuntap"
    mode: Literal["tun", "tap"] = "tap"
    owner: int | None = None
    group_owner: int | None = None
    multi_queue: bool = False

    def __post_init__(self) -> None:
        LinkSpec.__post_init__(self)
        if self.mode not in ("tun", "tap"):
            raise ConfigError(f"invalid tuntap mode {self.mode!r}: use 'tun' or 'tap'")
        for what in ("owner", "group_owner"):
            value = getattr(self, what)
            if value is not None:
                check_range(value, 0, 2**32 - 2, what)


@dataclass(frozen=True, kw_only=True, slots=True)
class Ifb(LinkSpec):
    """An intermediate functional block device (ingress shaping)."""

    kind: ClassVar[str] = "ifb"
