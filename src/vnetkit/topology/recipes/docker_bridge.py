"""The ``docker-bridge`` recipe: a Docker bridge network, as a short lab file.

Owns: ``DockerBridgeLab`` (the file's shape, a contract: bridge, uplink,
containers, published ports, icc / hairpin / internal / masquerade, checks,
each validated on load), ``expand`` (the recipe as the low-level ``Lab``:
node ``host`` with the bridge, one veth port per container, the uplink,
ip_forward and Docker's rules; node ``outside`` playing the internet; one
node per container) and ``published`` (the published ports, for reports).
Addresses come as Docker's IPAM hands them out: the gateway first, then
the containers in order. Pure. Does not own: Docker's rules themselves
(``docker_rules``), reading YAML or wording errors with their path
(``load``), nor anything after expansion (``resolve`` and later steps).

The shape, with its defaults::

    name: web
    recipe: docker-bridge
    bridge: {name: docker0, subnet: 172.17.0.0/16}
    uplink: {subnet: 198.51.100.0/24}      # host .1, outside .2
    containers: [c1, c2]
    publish: [{container: c1, port: 80, host_port: 8080, proto: tcp}]
    icc: true
    hairpin: true                          # userland proxy off
    internal: false
    masquerade: true
    checks: [...]
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vnetkit.topology.model import (
    BridgeInterface,
    Check,
    Firewall,
    Interface,
    Lab,
    LinkDecl,
    Node,
    RouteDecl,
    VethEnd,
    check_ifname,
    check_name,
)
from vnetkit.topology.recipes.docker_rules import USER_CHAIN, Binding, docker_rules
from vnetkit.topology.spec import Publish

__all__ = [
    "HOST",
    "OUTSIDE",
    "BridgeConf",
    "DockerBridgeLab",
    "PublishConf",
    "UplinkConf",
    "container_addresses",
    "expand",
    "published",
    "veth_names",
]

HOST = "host"
OUTSIDE = "outside"
_RESERVED_IFNAMES = ("eth0", "lo")
Port = Annotated[int, Field(ge=1, le=65535)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ipv4_network(value: object, what: str) -> ipaddress.IPv4Network:
    """A subnet as written (``172.17.0.0/16``): IPv4, no host bits, room for .1 and .2."""
    if isinstance(value, ipaddress.IPv4Network):
        network = value
    elif isinstance(value, str):
        try:
            loose = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{what} {value!r} is not a network such as 172.17.0.0/16") from None
        if not isinstance(loose, ipaddress.IPv4Network):
            raise ValueError(f"{what} {value!r} is IPv6; this recipe is IPv4 only")
        if loose.network_address != ipaddress.ip_interface(value.strip()).ip:
            raise ValueError(f"{what} {value!r} has host bits set; did you mean {loose}?")
        network = loose
    else:
        raise ValueError(f"{what} must be written as a network such as 172.17.0.0/16, not {value!r}")
    if network.prefixlen > 30:
        raise ValueError(f"{what} {network} is too small: use a prefix of /30 or shorter")
    return network


class BridgeConf(_Strict):
    """The bridge in node ``host``; its gateway address is the subnet's first."""

    name: str = Field(default="docker0", description="the bridge's interface name")
    subnet: ipaddress.IPv4Network = Field(default=ipaddress.IPv4Network("172.17.0.0/16"))

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        check_ifname(value)
        if value in _RESERVED_IFNAMES:
            raise ValueError(f"bridge name {value!r} is taken in node {HOST!r}; choose another")
        return value

    @field_validator("subnet", mode="before")
    @classmethod
    def _subnet(cls, value: Any) -> Any:
        return _ipv4_network(value, "bridge subnet")

    @property
    def gateway(self) -> ipaddress.IPv4Interface:
        """The bridge's own address, with the subnet's prefix length."""
        return ipaddress.IPv4Interface(f"{self.subnet.network_address + 1}/{self.subnet.prefixlen}")

    @property
    def capacity(self) -> int:
        """How many containers the subnet holds (all but network, broadcast and gateway)."""
        return self.subnet.num_addresses - 3


class UplinkConf(_Strict):
    """The link between ``host`` (first address) and ``outside`` (second address)."""

    subnet: ipaddress.IPv4Network = Field(default=ipaddress.IPv4Network("198.51.100.0/24"))

    @field_validator("subnet", mode="before")
    @classmethod
    def _subnet(cls, value: Any) -> Any:
        return _ipv4_network(value, "uplink subnet")

    def address(self, n: int) -> ipaddress.IPv4Interface:
        """The subnet's ``n``-th address with its prefix length."""
        return ipaddress.IPv4Interface(f"{self.subnet.network_address + n}/{self.subnet.prefixlen}")


class PublishConf(_Strict):
    """``docker run -p host_port:port/proto``: the host's ``host_port`` reaches ``container:port``."""

    container: str
    port: Port
    host_port: Port
    proto: Literal["tcp", "udp"] = "tcp"


class DockerBridgeLab(_Strict):
    """A lab written as ``recipe: docker-bridge`` (see the module docstring for the shape)."""

    name: str
    recipe: Literal["docker-bridge"]
    bridge: BridgeConf = Field(default_factory=BridgeConf)
    uplink: UplinkConf = Field(default_factory=UplinkConf, validate_default=True)  # checked against bridge
    containers: list[str] = Field(default_factory=list, description="each a node; addresses in this order")
    publish: list[PublishConf] = Field(default_factory=list)
    icc: bool = Field(default=True, description="containers may talk to each other")
    hairpin: bool = Field(
        default=True, description="userland proxy off: published ports via the host's address"
    )
    internal: bool = Field(default=False, description="no way in or out of the bridge network")
    masquerade: bool = Field(default=True, description="SNAT of the subnet towards the uplink")
    checks: list[Check] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value, "lab name")

    @field_validator("uplink")
    @classmethod
    def _uplink(cls, value: UplinkConf, info: ValidationInfo) -> UplinkConf:
        bridge = info.data.get("bridge")
        if isinstance(bridge, BridgeConf) and bridge.subnet.overlaps(value.subnet):
            raise ValueError(f"uplink subnet {value.subnet} overlaps the bridge subnet {bridge.subnet}")
        return value

    @field_validator("containers")
    @classmethod
    def _containers(cls, value: list[str], info: ValidationInfo) -> list[str]:
        seen: set[str] = set()
        for i, name in enumerate(value):  # "[i] ..." puts the item's index in the error's path
            try:
                check_name(name, "container name")
            except ValueError as exc:
                raise ValueError(f"[{i}] {exc}") from None
            if name in (HOST, OUTSIDE):
                raise ValueError(f"[{i}] container name {name!r} is taken by the recipe's node {name!r}")
            if name in seen:
                raise ValueError(f"[{i}] container {name!r} is listed twice")
            seen.add(name)
        bridge = info.data.get("bridge")
        if isinstance(bridge, BridgeConf) and len(value) > bridge.capacity:
            raise ValueError(
                f"{len(value)} containers do not fit in bridge subnet {bridge.subnet}: "
                f"it holds {bridge.capacity} besides the gateway"
            )
        return value

    @field_validator("publish")
    @classmethod
    def _publish(cls, value: list[PublishConf], info: ValidationInfo) -> list[PublishConf]:
        containers = info.data.get("containers")
        seen: dict[tuple[int, str], str] = {}
        for i, entry in enumerate(value):
            if containers is not None and entry.container not in containers:
                valid = ", ".join(containers) or "none declared"
                raise ValueError(
                    f"[{i}].container: no container {entry.container!r}; the containers are: {valid}"
                )
            key = (entry.host_port, entry.proto)
            if key in seen:
                raise ValueError(
                    f"[{i}] host port {entry.host_port}/{entry.proto} is published twice "
                    f"(to {seen[key]} and {entry.container})"
                )
            seen[key] = entry.container
        return value

    @field_validator("internal")
    @classmethod
    def _internal(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("publish"):
            raise ValueError("an internal network publishes no ports (Docker ignores them): drop 'publish'")
        return value


def container_addresses(lab: DockerBridgeLab) -> dict[str, ipaddress.IPv4Interface]:
    """Each container's address, as Docker's IPAM hands them out: the subnet's 2nd, 3rd... in order."""
    net = lab.bridge.subnet
    return {
        name: ipaddress.IPv4Interface(f"{net.network_address + 2 + i}/{net.prefixlen}")
        for i, name in enumerate(lab.containers)
    }


def veth_names(lab: DockerBridgeLab) -> dict[str, str]:
    """Each container's veth end in ``host``: ``veth`` and 7 hex digits, as Docker names them.

    The digits are the start of sha256(lab name, container name), so a
    container keeps its name across runs; should two containers of one lab
    collide (one chance in 2**28), the later one is rehashed with a counter.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for container in lab.containers:
        for n in itertools.count():
            salt = "" if n == 0 else f"\0{n}"
            digest = hashlib.sha256(f"{lab.name}\0{container}{salt}".encode()).hexdigest()
            name = f"veth{digest[:7]}"
            if name not in taken:
                break
        taken.add(name)
        names[container] = name
    return names


def _bindings(lab: DockerBridgeLab) -> list[Binding]:
    addresses = container_addresses(lab)
    return [Binding(addresses[p.container].ip, p.port, p.host_port, p.proto) for p in lab.publish]


def published(lab: DockerBridgeLab) -> tuple[Publish, ...]:
    """The published ports as the spec lists them: ``host:host_port`` reaches ``container:port``."""
    addresses = container_addresses(lab)
    return tuple(
        Publish(HOST, p.host_port, p.container, addresses[p.container].ip, p.port, p.proto)
        for p in lab.publish
    )


def _firewall(lab: DockerBridgeLab) -> Firewall:
    rules = docker_rules(
        bridge=lab.bridge.name,
        subnet=lab.bridge.subnet,
        endpoints=[a.ip for a in container_addresses(lab).values()],
        bindings=_bindings(lab),
        icc=lab.icc,
        hairpin=lab.hairpin,
        internal=lab.internal,
        masquerade=lab.masquerade,
    )
    return Firewall(
        raw=rules.get("raw", {}),
        nat=rules.get("nat", {}),
        filter=rules.get("filter", {}),
        exact=True,
        keep={"filter": [USER_CHAIN]},
    )


def expand(lab: DockerBridgeLab) -> Lab:
    """The recipe as a low-level lab: nodes ``host``, ``outside`` and one per container, and their links."""
    bridge = lab.bridge.name
    gateway = lab.bridge.gateway
    veths = veth_names(lab)
    addresses = container_addresses(lab)

    host_ifaces: dict[str, Interface] = {
        bridge: BridgeInterface(kind="bridge", addresses=[gateway]),
        "eth0": VethEnd(addresses=[lab.uplink.address(1)]),
    }
    for container in lab.containers:
        host_ifaces[veths[container]] = VethEnd(master=bridge, hairpin=True if lab.hairpin else None)
    nodes: dict[str, Node] = {
        HOST: Node(
            interfaces=host_ifaces,
            routes=[RouteDecl(to="default", via=lab.uplink.address(2).ip)],
            sysctls={"net.ipv4.ip_forward": 1},
            firewall=_firewall(lab),
        ),
        OUTSIDE: Node(interfaces={"eth0": VethEnd(addresses=[lab.uplink.address(2)])}),
    }
    links = [LinkDecl(endpoints=(f"{HOST}:eth0", f"{OUTSIDE}:eth0"))]
    for container in lab.containers:
        nodes[container] = Node(
            interfaces={"eth0": VethEnd(addresses=[addresses[container]])},
            routes=[RouteDecl(to="default", via=gateway.ip)],
        )
        # The container's end first: the veth is made in its namespace, the peer directly in host's.
        links.append(LinkDecl(endpoints=(f"{container}:eth0", f"{HOST}:{veths[container]}")))
    return Lab(name=lab.name, nodes=nodes, links=links, checks=list(lab.checks))
