"""The lab file, as typed objects: what a user writes in YAML or builds in Python.

Owns: the low-level model (``Lab``: nodes with interfaces, addresses,
routes, sysctls, firewall and NAT; links between nodes; checks) and the
validation of each field on its own (names, addresses, ports, choices),
with pydantic v2 so ``vnetkit lab schema`` exports a JSON Schema editors
understand. Recipes (``recipe: docker-bridge``) have their own models in
``vnetkit.topology.recipes`` and expand into a ``Lab``. Pure. Does not own:
reading YAML and wording errors with their path (``load``), checks that
need the whole lab at once (duplicate names, overlapping subnets, unknown
nodes: ``resolve``), or anything the kernel does.

The shape, in short::

    name: routed                        # namespaces are vnk-<name>-<node>
    nodes:
      r1:
        interfaces:
          eth0: {addresses: [10.0.1.1/24]}          # a veth end: made by a link below
          br0: {kind: bridge, addresses: [...]}     # other kinds are made in the node
        routes: [{to: default, via: 10.0.2.254}]
        sysctls: {net.ipv4.ip_forward: 1}
        firewall:                        # desired state of this node's rules
          filter: {FORWARD: ["-i eth0 -o eth1 -j ACCEPT", "-j DROP"]}
        nat: [{type: masquerade, source: 10.0.1.0/24, out: eth1}]
    links:
      - endpoints: [h1:eth0, r1:eth0]    # a veth pair, each end made in its node
    checks:
      - {from: h1, to: h2, proto: icmp, expect: pass}
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

__all__ = [
    "BridgeInterface",
    "Check",
    "Dnat",
    "Firewall",
    "Interface",
    "IpvlanInterface",
    "Lab",
    "LinkDecl",
    "MacvlanInterface",
    "Masquerade",
    "Nat",
    "Node",
    "RouteDecl",
    "Snat",
    "VethEnd",
    "VlanInterface",
    "VxlanInterface",
    "check_name",
]

IfAddress = ipaddress.IPv4Interface | ipaddress.IPv6Interface
Proto = Literal["tcp", "udp"]

_NAME = re.compile(r"[a-z0-9]([a-z0-9_-]*[a-z0-9])?\Z", re.IGNORECASE)
_IFNAME_BAD = re.compile(r"[/:\s]")
TABLES = ("raw", "mangle", "nat", "filter", "security")


def check_name(value: str, what: str) -> str:
    """A lab or node name: letters, digits, '-' and '_' (it becomes part of namespace names)."""
    if not value:
        raise ValueError(f"{what} is empty")
    if any(c.isspace() for c in value):
        raise ValueError(f"{what} {value!r} has whitespace")
    if not _NAME.match(value):
        raise ValueError(f"{what} {value!r}: use letters, digits, '-' and '_' (not first or last)")
    if len(value) > 40:
        raise ValueError(f"{what} {value!r} is longer than 40 characters")
    return value


def check_ifname(value: str) -> str:
    """An interface name the kernel accepts: 1-15 bytes, no '/', ':' or whitespace."""
    if not value:
        raise ValueError("interface name is empty")
    if len(value.encode()) > 15:
        raise ValueError(f"interface name {value!r} is longer than 15 bytes")
    if _IFNAME_BAD.search(value) or value in (".", ".."):
        raise ValueError(f"interface name {value!r} has '/', ':' or whitespace")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _InterfaceBase(_Strict):
    addresses: list[IfAddress] = Field(default_factory=list, description="addresses with prefix length")
    mtu: Annotated[int, Field(ge=68, le=65535)] | None = None
    mac: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
    master: str | None = Field(
        default=None, description="the bridge of this node this interface is a port of"
    )
    hairpin: bool | None = Field(
        default=None, description="as a bridge port: send frames back out of the port they came in on"
    )
    up: bool = True

    @field_validator("master")
    @classmethod
    def _master(cls, value: str | None) -> str | None:
        return None if value is None else check_ifname(value)


class VethEnd(_InterfaceBase):
    """One end of a veth pair: made by the link in ``links`` that names it."""

    kind: Literal["veth"] = "veth"


class BridgeInterface(_InterfaceBase):
    """A Linux bridge in this node."""

    kind: Literal["bridge"]
    stp: bool | None = None
    forward_delay: Annotated[int, Field(ge=0)] | None = None
    vlan_filtering: bool | None = None


class VxlanInterface(_InterfaceBase):
    """A VXLAN device over an underlay interface of this node."""

    kind: Literal["vxlan"]
    vni: Annotated[int, Field(ge=0, le=16777215)]
    remote: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    group: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    local: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    underlay: str | None = Field(default=None, description="the interface of this node it runs over")
    port: Annotated[int, Field(ge=1, le=65535)] = 4789
    learning: bool = True


class MacvlanInterface(_InterfaceBase):
    """A macvlan (or macvtap) device on an interface of this node."""

    kind: Literal["macvlan", "macvtap"]
    lower: str
    mode: Literal["private", "vepa", "bridge", "passthru", "source"] = "bridge"


class IpvlanInterface(_InterfaceBase):
    """An ipvlan device on an interface of this node."""

    kind: Literal["ipvlan"]
    lower: str
    mode: Literal["l2", "l3", "l3s"] = "l2"


class VlanInterface(_InterfaceBase):
    """An 802.1Q VLAN device on an interface of this node."""

    kind: Literal["vlan"]
    lower: str
    id: Annotated[int, Field(ge=1, le=4094)]


def _kind(value: Any) -> str:
    """The interface's kind; an interface without one is a veth end."""
    if isinstance(value, dict):
        kind = value.get("kind", "veth")
        return kind if isinstance(kind, str) else "?"
    return str(getattr(value, "kind", "veth"))


Interface = Annotated[
    Annotated[VethEnd, Tag("veth")]
    | Annotated[BridgeInterface, Tag("bridge")]
    | Annotated[VxlanInterface, Tag("vxlan")]
    | Annotated[MacvlanInterface, Tag("macvlan")]
    | Annotated[MacvlanInterface, Tag("macvtap")]
    | Annotated[IpvlanInterface, Tag("ipvlan")]
    | Annotated[VlanInterface, Tag("vlan")],
    Discriminator(_kind),
]


class RouteDecl(_Strict):
    """A route in a node: ``to`` a network (or ``default``) ``via`` a gateway and/or ``dev``."""

    to: str = "default"
    via: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    dev: str | None = None
    metric: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        if value in ("default", "default6"):
            return value
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"route destination {value!r}: use 'default', 'default6' or a network") from None
        return value

    @model_validator(mode="after")
    def _needs_next_hop(self) -> RouteDecl:
        if self.via is None and self.dev is None:
            raise ValueError("a route needs 'via' (a gateway), 'dev' (an interface) or both")
        return self

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The destination as a network (``default`` is 0.0.0.0/0, or ::/0 with an IPv6 gateway)."""
        if self.to == "default6" or (self.to == "default" and isinstance(self.via, ipaddress.IPv6Address)):
            return ipaddress.IPv6Network("::/0")
        if self.to == "default":
            return ipaddress.IPv4Network("0.0.0.0/0")
        return ipaddress.ip_network(self.to, strict=False)


class Masquerade(_Strict):
    """SNAT to the address of the outgoing interface, for packets from ``source`` leaving by ``out``."""

    type: Literal["masquerade"]
    source: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    out: str | None = None


class Snat(_Strict):
    """SNAT to a fixed address (``to``), for packets from ``source`` leaving by ``out``."""

    type: Literal["snat"]
    to: ipaddress.IPv4Address | ipaddress.IPv6Address
    source: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    out: str | None = None


class Dnat(_Strict):
    """A published port: packets to this node's ``port`` (``proto``) go to ``to`` (address[:port])."""

    type: Literal["dnat"]
    proto: Proto = "tcp"
    port: Annotated[int, Field(ge=1, le=65535)]
    to: str
    in_: str | None = Field(default=None, alias="in", description="only packets arriving on this interface")
    destination: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        split_target(value)
        return value


def split_target(value: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int | None]:
    """``10.0.0.2``, ``10.0.0.2:80`` or ``[2001:db8::2]:80`` as (address, port or None)."""
    text, port = value, None
    if value.startswith("["):
        text, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"target {value!r}: use address, address:port or [v6]:port")
            port = int(rest[1:])
    elif value.count(":") == 1:
        text, _, digits = value.partition(":")
        if not digits.isdigit():
            raise ValueError(f"target {value!r}: the port must be a number")
        port = int(digits)
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(f"target {value!r}: {text!r} is not an IP address") from None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"target {value!r}: port {port} is not in 1-65535")
    return address, port


Nat = Annotated[Masquerade | Snat | Dnat, Field(discriminator="type")]


class Firewall(_Strict):
    """Desired rules of a node, by table then chain, as iptables rule text.

    Rules under a built-in chain (``FORWARD``) go into an owned chain
    ``VNK-FORWARD`` that a tagged jump from the built-in chain reaches;
    chains named ``VNK-...`` are owned chains of your own (jump to them
    from the others). ``policies`` sets built-in chains' policies. A sync
    makes the owned chains exactly these rules and leaves every other rule
    alone.
    """

    raw: dict[str, list[str]] = Field(default_factory=dict)
    mangle: dict[str, list[str]] = Field(default_factory=dict)
    nat: dict[str, list[str]] = Field(default_factory=dict)
    filter: dict[str, list[str]] = Field(default_factory=dict)
    security: dict[str, list[str]] = Field(default_factory=dict)
    policies: dict[str, dict[str, Literal["ACCEPT", "DROP"]]] = Field(default_factory=dict)
    ipv6: bool = Field(default=False, description="the rules are for ip6tables")
    exact: bool = Field(default=False, description="rules and chain names as written, untagged")
    keep: dict[str, list[str]] = Field(
        default_factory=dict, description="table -> chains made if missing, their rules never touched"
    )

    def tables(self) -> dict[str, dict[str, list[str]]]:
        """Each table with rules, in iptables' order."""
        return {t: getattr(self, t) for t in TABLES if getattr(self, t)}


class Node(_Strict):
    """A node: one network namespace with its interfaces, routes, sysctls, firewall and NAT."""

    interfaces: dict[str, Interface] = Field(default_factory=dict)
    routes: list[RouteDecl] = Field(default_factory=list)
    sysctls: dict[str, str | int] = Field(default_factory=dict)
    firewall: Firewall | None = None
    nat: list[Nat] = Field(default_factory=list)

    @field_validator("interfaces")
    @classmethod
    def _interfaces(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            check_ifname(name)
            if name == "lo":
                raise ValueError("interface 'lo' exists in every node; do not declare it")
        return value

    @field_validator("sysctls")
    @classmethod
    def _sysctls(cls, value: dict[str, str | int]) -> dict[str, str | int]:
        for key in value:
            if not re.fullmatch(r"net\.[A-Za-z0-9_.\-/]+", key) or ".." in key:
                raise ValueError(f"sysctl {key!r}: a lab sets only per-namespace keys under 'net.'")
        return value


class LinkDecl(_Strict):
    """A veth pair between two nodes: ``endpoints: [node:iface, node:iface]``."""

    endpoints: tuple[str, str]
    mtu: Annotated[int, Field(ge=68, le=65535)] | None = None

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: tuple[str, str]) -> tuple[str, str]:
        for end in value:
            node, sep, iface = end.partition(":")
            if not sep:
                raise ValueError(f"endpoint {end!r}: write node:interface")
            check_name(node, "node name")
            check_ifname(iface)
        if value[0] == value[1]:
            raise ValueError(f"both endpoints are {value[0]!r}")
        return value

    def ends(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """The two ends as (node, interface)."""
        a, b = (tuple(end.split(":", 1)) for end in self.endpoints)
        return (a[0], a[1]), (b[0], b[1])


class Check(_Strict):
    """An expectation: ``from`` a node ``to`` a node, address or ``node:port``; ``expect`` pass or fail."""

    source: str = Field(alias="from")
    to: str
    proto: Literal["icmp", "tcp", "udp"] = "icmp"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    expect: Literal["pass", "fail"] = "pass"

    @model_validator(mode="after")
    def _port(self) -> Check:
        if self.proto != "icmp" and self.port is None and ":" not in self.to.strip("[]"):
            raise ValueError(f"a {self.proto} check needs 'port' (or to: node:port)")
        return self


class Lab(_Strict):
    """A whole lab in the low-level form every recipe expands into."""

    name: str
    recipe: None = Field(default=None, description="none: this file is the low-level form")
    nodes: dict[str, Node] = Field(default_factory=dict)
    links: list[LinkDecl] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "lab name")

    @field_validator("nodes")
    @classmethod
    def _nodes(cls, value: dict[str, Node]) -> dict[str, Node]:
        for name in value:
            check_name(name, "node name")
        return value
