"""A route, as a value: ``Route``.

Owns: a route's destination network, gateway, output link, metric, table,
protocol, scope and type; their checking (``ConfigError`` saying what to
give instead), the kernel's defaults (the metric and scope a route gets
when none is asked for), reading one from text or from ``ip route add``-like
arguments (``Route.parse``, ``Route.of``) and writing it back the way
``ip route`` words it. Pure. Does not own: reading routes from the kernel
or adding them (``vnetkit.links``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from vnetkit.errors import ConfigError
from vnetkit.model.names import (
    ROUTE_PROTOCOLS,
    ROUTE_TYPES,
    SCOPES,
    TABLES,
    check_ifname,
    check_range,
    number,
    word,
)

__all__ = ["Gateway", "Network", "Route"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Gateway = ipaddress.IPv4Address | ipaddress.IPv6Address

MAIN = 254
_U32 = 2**32 - 1
_V6_METRIC = 1024  # IP6_RT_PRIO_USER: the kernel's metric for an IPv6 route asked for without one
_KEYWORDS = {
    "via": "via",
    "dev": "dev",
    "table": "table",
    "proto": "protocol",
    "protocol": "protocol",
    "scope": "scope",
    "metric": "metric",
    "priority": "metric",
    "preference": "metric",
}


def _network(text: str) -> Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ConfigError(f"invalid route destination {text!r}: use 'default' or a network") from None


def _gateway(text: str) -> Gateway:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(f"invalid gateway {text!r}: not an IP address") from None


def _destination(dst: str | Network, gateway: Gateway | None) -> Network:
    """``default`` (of the gateway's family, IPv4 without one) or a network (host bits dropped)."""
    if not isinstance(dst, str):
        return dst
    if dst == "default":
        return ipaddress.ip_network("::/0" if gateway is not None and gateway.version == 6 else "0.0.0.0/0")
    return _network(dst)


def _table(value: str | int) -> int:
    return number(TABLES, value, "routing table", low=1, high=_U32)


@dataclass(frozen=True, slots=True)
class Route:
    """``10.1.0.0/16 via 10.0.0.254 dev eth0 metric 50``: where packets to a network go.

    ``dst`` is the destination network (``0.0.0.0/0`` / ``::/0`` is the
    default route); ``gateway`` the next hop, ``dev`` the output link's name
    (either may be None). ``metric`` not given (None) becomes the kernel's
    default: 0 for IPv4, 1024 for IPv6; once made it is always a number.
    ``table`` is a number (254: main). ``protocol``, ``scope`` and ``type``
    are words of ``ip route`` (``boot``, ``global``, ``unicast``...; a
    number when it has none); given no scope, a route gets the one ``ip
    route add`` would ask for (``host`` for a local route, ``link`` for one
    without a gateway, else ``global``; always ``global`` for IPv6, as the
    kernel reports them). ``index`` is the output link's ifindex as read
    (0: not known), not part of equality.
    """

    dst: Network
    gateway: Gateway | None = None
    dev: str | None = None
    metric: int | None = None
    table: int = MAIN
    protocol: str = "boot"
    scope: str = ""
    type: str = "unicast"
    index: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.dst, ipaddress.IPv4Network | ipaddress.IPv6Network):
            raise ConfigError(
                f"invalid route destination {self.dst!r}: give an ipaddress network, or text to "
                "Route.parse or Route.of ('default' or a network like 10.0.0.0/24)"
            )
        if self.gateway is not None:
            if not isinstance(self.gateway, ipaddress.IPv4Address | ipaddress.IPv6Address):
                raise ConfigError(
                    f"invalid gateway {self.gateway!r}: give an ipaddress address, or use Route.of"
                )
            if self.gateway.version != self.dst.version:
                raise ConfigError(f"route {self._dst_text()}: gateway {self.gateway} is not of its family")
        if self.dev is not None:
            check_ifname(self.dev, what="route device name")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise ConfigError(f"invalid ifindex {self.index!r}: use a number 0 or more")
        if self.metric is None:
            object.__setattr__(self, "metric", 0 if self.dst.version == 4 else _V6_METRIC)
        else:
            check_range(self.metric, 0, _U32, "route metric")
        check_range(self.table, 1, _U32, "routing table")
        object.__setattr__(
            self, "protocol", word(ROUTE_PROTOCOLS, number(ROUTE_PROTOCOLS, self.protocol, "route protocol"))
        )
        object.__setattr__(self, "type", word(ROUTE_TYPES, number(ROUTE_TYPES, self.type, "route type")))
        scope = self.scope or self.default_scope
        object.__setattr__(self, "scope", word(SCOPES, number(SCOPES, scope, "route scope")))

    @classmethod
    def of(
        cls,
        dst: str | Network = "default",
        *,
        via: str | Gateway | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | str | None = None,
        protocol: str = "boot",
        scope: str = "",
        type: str = "unicast",
    ) -> Route:
        """A route from ``ip route add``'s arguments: ``dst`` ``default`` or a network, as text or not."""
        gateway = _gateway(via) if isinstance(via, str) else via
        return cls(
            _destination(dst, gateway),
            gateway=gateway,
            dev=dev,
            metric=metric,
            table=MAIN if table is None else _table(table),
            protocol=protocol,
            scope=scope,
            type=type,
        )

    @classmethod
    def parse(cls, text: str) -> Route:
        """A route from ``[TYPE] DST [via IP] [dev NAME] [table T] [proto P] [scope S] [metric N]``.

        The words are those of ``ip route`` (and ``str()`` of a route reads
        back equal); ``default`` is IPv6 when the gateway is.
        """
        words = text.split() if isinstance(text, str) else []
        if not words:
            raise ConfigError(f"invalid route {text!r}: use [TYPE] DST [via IP] [dev NAME] ...")
        kind = "unicast"
        if words[0] in ROUTE_TYPES.values() and len(words) > 1:
            kind, words = words[0], words[1:]
        options: dict[str, str] = {}
        rest = iter(words[1:])
        for key in rest:
            if key not in _KEYWORDS:
                raise ConfigError(
                    f"invalid route {text!r}: {key!r} is not one of {', '.join(sorted(set(_KEYWORDS)))}"
                )
            value = next(rest, None)
            if value is None:
                raise ConfigError(f"invalid route {text!r}: {key} needs a value")
            options[_KEYWORDS[key]] = value
        metric = options.get("metric")
        if metric is not None and not (metric.isascii() and metric.isdigit()):
            raise ConfigError(f"invalid route metric {metric!r}: use 0..{_U32}")
        return cls.of(
            words[0],
            via=options.get("via"),
            dev=options.get("dev"),
            metric=None if metric is None else int(metric),
            table=options.get("table"),
            protocol=options.get("protocol", "boot"),
            scope=options.get("scope", ""),
            type=kind,
        )

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        """``ipv4`` or ``ipv6``."""
        return "ipv4" if self.dst.version == 4 else "ipv6"

    @property
    def is_default(self) -> bool:
        """True for a default route (``0.0.0.0/0``, ``::/0``)."""
        return self.dst.prefixlen == 0

    @property
    def default_scope(self) -> str:
        """The scope ``ip route add`` asks for when given none (and the kernel reports for IPv6)."""
        if self.dst.version == 6:
            return "global"
        if self.type in ("local", "nat"):
            return "host"
        if self.type in ("broadcast", "multicast", "anycast"):
            return "link"
        if self.type == "unicast" and self.gateway is None:
            return "link"
        return "global"

    def _dst_text(self) -> str:
        if self.dst.prefixlen == 0 and (self.dst.version == 4 or self.gateway is not None):
            return "default"  # (IPv6 without a gateway: ::/0, so that it reads back as IPv6)
        if self.dst.prefixlen == self.dst.max_prefixlen:
            return str(self.dst.network_address)  # a host route, as ip writes it
        return str(self.dst)

    def __str__(self) -> str:
        parts = [] if self.type == "unicast" else [self.type]
        parts.append(self._dst_text())
        if self.gateway is not None:
            parts += ["via", str(self.gateway)]
        if self.dev is not None:
            parts += ["dev", self.dev]
        if self.table != MAIN:
            parts += ["table", word(TABLES, self.table)]
        if self.protocol != "boot":
            parts += ["proto", self.protocol]
        if self.scope != "global" or self.default_scope != "global":
            parts += ["scope", self.scope]
        if self.metric or self.dst.version == 6:  # as ip: an IPv4 route's metric 0 is left out
            parts += ["metric", str(self.metric)]
        return " ".join(parts)
