"""What a virtual NIC should be: one typed spec class per link kind, checked on construction.

Owns: the options of each kind (veth, bridge, vlan, vxlan, macvlan, macvtap,
ipvlan, tun/tap, ifb), their validation (interface names, VLAN ids, VNIs,
modes, addresses: ``ConfigError`` before anything touches the kernel), and
their translation into netlink attributes. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from vnetkit.errors import ConfigError

__all__ = [
    "Bridge",
    "Ifb",
    "Ipvlan",
    "LinkSpec",
    "Macvlan",
    "Macvtap",
    "Tuntap",
    "Veth",
    "Vlan",
    "Vxlan",
    "check_ifname",
    "check_mac",
]

_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")


def check_ifname(name: str, *, what: str = "interface name") -> str:
    """``name`` if the kernel accepts it as an interface name (1-15 bytes, no '/', ':' or whitespace)."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"invalid {what} {name!r}: it is empty")
    size = len(name.encode())
    if size > 15:
        raise ConfigError(f"invalid {what} {name!r}: {size} bytes, at most 15")
    if name in (".", "..") or any(ch in "/:" or ch.isspace() for ch in name):
        raise ConfigError(f"invalid {what} {name!r}: no '/', ':' or whitespace, not '.' or '..'")
    return name


def check_mac(mac: str) -> str:
    """``mac`` in lower case if it is a 6-byte colon-separated address."""
    if not _MAC.fullmatch(mac):
        raise ConfigError(f"invalid MAC address {mac!r}: use six hex bytes like 02:00:00:00:00:01")
    return mac.lower()


def _check_range(value: int, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"invalid {what} {value!r}: use {low}..{high}")
    return value


def _check_ip(value: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(f"invalid {what} {value!r}: not an IP address") from None


@dataclass(frozen=True, kw_only=True)
class LinkSpec:
    """Options every kind shares. ``up`` brings the link up after creating it."""

    kind: ClassVar[str] = ""
    name: str
    mtu: int | None = None
    mac: str | None = None
    up: bool = True
    master: str | None = None
    alias: str | None = None
    ifgroup: int | None = None

    def __post_init__(self) -> None:
        check_ifname(self.name)
        if self.mtu is not None:
            _check_range(self.mtu, 68, 65535, "MTU")
        if self.mac is not None:
            object.__setattr__(self, "mac", check_mac(self.mac))
        if self.master is not None:
            check_ifname(self.master, what="master name")
        if self.ifgroup is not None:
            _check_range(self.ifgroup, 0, 2**32 - 1, "interface group")
        if self.alias is not None and len(self.alias.encode()) > 255:
            raise ConfigError(f"alias of {self.name} is longer than 255 bytes")

    @property
    def lower(self) -> str | None:
        """The device this link sits on (vlan, macvlan...), if any."""
        return None

    def attributes(self) -> dict[str, object]:
        """Kind-specific attributes (IFLA_INFO_DATA, by their kernel names as pyroute2 knows them)."""
        return {}


@dataclass(frozen=True, kw_only=True)
class Veth(LinkSpec):
    """A veth pair; ``peer`` is made directly in ``peer_netns`` (never created then moved)."""

    kind: ClassVar[str] = "veth"
    peer: str
    peer_netns: str | None = None
    peer_mtu: int | None = None
    peer_mac: str | None = None
    peer_up: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ifname(self.peer, what="peer name")
        if self.peer_mac is not None:
            object.__setattr__(self, "peer_mac", check_mac(self.peer_mac))
        if self.peer_mtu is not None:
            _check_range(self.peer_mtu, 68, 65535, "peer MTU")


@dataclass(frozen=True, kw_only=True)
class Bridge(LinkSpec):
    """A Linux bridge. ``ageing`` in seconds; ``ports`` (existing links) are enslaved after creation."""

    kind: ClassVar[str] = "bridge"
    stp: bool = False
    ageing: float | None = None
    vlan_filtering: bool = False
    ports: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
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


@dataclass(frozen=True, kw_only=True)
class Vlan(LinkSpec):
    """An 802.1Q (or 802.1ad) sub-interface of ``link`` with VLAN ``id``."""

    kind: ClassVar[str] = "vlan"
    link: str
    id: int
    protocol: Literal["802.1Q", "802.1ad"] = "802.1Q"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ifname(self.link, what="lower device name")
        _check_range(self.id, 1, 4094, "VLAN id")
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


@dataclass(frozen=True, kw_only=True)
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
        super().__post_init__()
        _check_range(self.vni, 0, 16_777_215, "VNI")
        _check_range(self.dstport, 1, 65535, "VXLAN destination port")
        if self.remote is not None and self.group is not None:
            raise ConfigError(f"vxlan {self.name}: give remote or group, not both")
        for what in ("local", "remote", "group"):
            value = getattr(self, what)
            if value is not None:
                object.__setattr__(self, what, _check_ip(value, f"vxlan {what} address"))
        versions = {ipaddress.ip_address(a).version for a in (self.local, self.remote, self.group) if a}
        if len(versions) > 1:
            raise ConfigError(f"vxlan {self.name}: local and remote/group must be all IPv4 or all IPv6")
        if self.group is not None and not ipaddress.ip_address(self.group).is_multicast:
            raise ConfigError(f"vxlan {self.name}: group {self.group} is not a multicast address")
        if self.dev is not None:
            check_ifname(self.dev, what="vxlan device name")
        if self.ttl is not None:
            _check_range(self.ttl, 0, 255, "TTL")

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


@dataclass(frozen=True, kw_only=True)
class Macvlan(LinkSpec):
    """A MAC-based sub-interface of ``link`` in one of the five modes."""

    kind: ClassVar[str] = "macvlan"
    link: str
    mode: MacvlanMode = "bridge"

    def __post_init__(self) -> None:
        super().__post_init__()
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


@dataclass(frozen=True, kw_only=True)
class Macvtap(Macvlan):
    """A macvlan with a tap character device (/dev/tapN) for a VM."""

    kind: ClassVar[str] = "macvtap"


_IPVLAN_MODES = {"l2": 0, "l3": 1, "l3s": 2}


@dataclass(frozen=True, kw_only=True)
class Ipvlan(LinkSpec):
    """An IP-based sub-interface of ``link`` (l2, l3 or l3s)."""

    kind: ClassVar[str] = "ipvlan"
    link: str
    mode: Literal["l2", "l3", "l3s"] = "l2"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_ifname(self.link, what="lower device name")
        if self.mode not in _IPVLAN_MODES:
            raise ConfigError(f"invalid ipvlan mode {self.mode!r}: use l2, l3 or l3s")

    @property
    def lower(self) -> str | None:
        return self.link

    def attributes(self) -> dict[str, object]:
        return {"IFLA_IPVLAN_MODE": _IPVLAN_MODES[self.mode]}


@dataclass(frozen=True, kw_only=True)
class Tuntap(LinkSpec):
    """A persistent tun (layer 3) or tap (layer 2) device, optionally owned by a user/group."""

    kind: ClassVar[str] = "tuntap"
    mode: Literal["tun", "tap"] = "tap"
    owner: int | None = None
    group_owner: int | None = None
    multi_queue: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in ("tun", "tap"):
            raise ConfigError(f"invalid tuntap mode {self.mode!r}: use 'tun' or 'tap'")
        for what in ("owner", "group_owner"):
            value = getattr(self, what)
            if value is not None:
                _check_range(value, 0, 2**32 - 2, what)


@dataclass(frozen=True, kw_only=True)
class Ifb(LinkSpec):
    """An intermediate functional block device (ingress shaping)."""

    kind: ClassVar[str] = "ifb"
