"""Resolve a lab: the low-level file model becomes a ``LabSpec`` every later step reads.

Owns: checks that need the whole lab at once (a link naming a node or an
interface that does not exist, an interface in two links, a master that is
not a bridge of the same node, duplicate addresses, overlapping subnets, an
address outside its segment's subnet, a route via a gateway on no subnet of
its node, rules iptables' grammar refuses, checks naming unknown nodes),
each a ``TopologyError`` with its YAML path and the valid choices; and the
translation into typed values: link specs (which end of a veth makes it),
addresses, routes, sysctls, the rules of each node with how they are owned,
checks with their addresses, published ports. Pure. Does not own: reading
the file (``load``), recipe expansion (``recipes``), the kernel.
"""

from __future__ import annotations

import ipaddress
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vnetkit.errors import ConfigError, TopologyError
from vnetkit.model.addresses import Address
from vnetkit.model.links import Bridge, Ipvlan, LinkSpec, Macvlan, Macvtap, Veth, Vlan, Vxlan
from vnetkit.model.routes import Route
from vnetkit.topology.check import choose_address
from vnetkit.topology.model import (
    BridgeInterface,
    Check,
    Dnat,
    IpvlanInterface,
    Lab,
    MacvlanInterface,
    Node,
    VethEnd,
    VlanInterface,
    VxlanInterface,
    split_target,
)
from vnetkit.topology.recipes import expand_any
from vnetkit.topology.recipes.docker_bridge import DockerBridgeLab, published
from vnetkit.topology.resolve_rules import FirewallRules, nat_family, tag
from vnetkit.topology.spec import CheckSpec, LabSpec, NodeSpec, Publish, RulesSpec, netns_name

__all__ = ["lab_group", "resolve", "tag"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
End = tuple[str, str]  # (node, interface)


def lab_group(lab: str) -> int:
    """The interface group of a lab's links: a stable number from its name (1 .. 2**31-1)."""
    return zlib.crc32(lab.encode()) % (2**31 - 2) + 1


def alias(lab: str, node: str, iface: str) -> str:
    """The ifalias marking a link a lab made: ``vnetkit:<lab>:<node>:<iface>``."""
    return f"vnetkit:{lab}:{node}:{iface}"


def _fail(where: str, message: str) -> TopologyError:
    return TopologyError(f"{where}: {message}", location=where)


def _choices(names: Iterable[str]) -> str:
    names = sorted(names)
    return ", ".join(names) if names else "(none)"


@dataclass
class _Segments:
    """Union-find over (node, interface): veth ends and bridge ports share a segment."""

    parent: dict[End, End] = field(default_factory=dict)

    def find(self, end: End) -> End:
        self.parent.setdefault(end, end)
        while self.parent[end] != end:
            self.parent[end] = self.parent[self.parent[end]]
            end = self.parent[end]
        return end

    def join(self, a: End, b: End) -> None:
        self.parent[self.find(a)] = self.find(b)


def resolve(lab: object) -> LabSpec:
    """The ``LabSpec`` of a lab model (low-level ``Lab`` or a recipe's model, expanded first)."""
    recipe: str | None = None
    publish: tuple[Publish, ...] | None = None
    if not isinstance(lab, Lab):
        recipe = str(getattr(lab, "recipe", None))
        if isinstance(lab, DockerBridgeLab):
            publish = published(lab)  # the expansion keeps no link from a DNAT back to its container
        lab = expand_any(lab)  # type: ignore[arg-type]
    return _Resolver(lab, recipe, publish).run()


class _Resolver:
    def __init__(self, lab: Lab, recipe: str | None, publish: tuple[Publish, ...] | None = None) -> None:
        self.lab = lab
        self.recipe = recipe
        self.published = publish
        self.group = lab_group(lab.name)
        self.peer: dict[End, End] = {}
        self.link_of: dict[End, int] = {}
        self.segments = _Segments()

    # -- the whole lab -----------------------------------------------------------------

    def run(self) -> LabSpec:
        lab = self.lab
        self._links()
        self._masters()
        self._addresses()
        nodes = tuple(self._node(name, node) for name, node in lab.nodes.items())
        spec = LabSpec(
            name=lab.name,
            nodes=nodes,
            lab=lab,
            recipe=self.recipe,
            group=self.group,
        )
        checks = tuple(self._check(f"checks[{i}]", check, spec) for i, check in enumerate(lab.checks))
        publish = self.published if self.published is not None else tuple(self._publish(spec))
        return LabSpec(
            name=lab.name,
            nodes=nodes,
            lab=lab,
            checks=checks,
            publish=publish,
            recipe=self.recipe,
            group=self.group,
        )

    def _links(self) -> None:
        nodes = self.lab.nodes
        for i, link in enumerate(self.lab.links):
            where = f"links[{i}].endpoints"
            ends = link.ends()
            for node, iface in ends:
                if node not in nodes:
                    raise _fail(where, f"node {node!r} does not exist; nodes: {_choices(nodes)}")
                declared = nodes[node].interfaces.get(iface)
                if declared is not None and not isinstance(declared, VethEnd):
                    raise _fail(
                        where,
                        f"{node}:{iface} is a {declared.kind} interface; a link's ends are veth "
                        "(declare it without 'kind', or use another name)",
                    )
                if (node, iface) in self.peer:
                    other = self.link_of[(node, iface)]
                    raise _fail(where, f"{node}:{iface} is already an end of links[{other}]")
            a, b = ends
            self.peer[a], self.peer[b] = b, a
            self.link_of[a] = self.link_of[b] = i
            self.segments.join(a, b)
        for name, declared_node in nodes.items():
            for iface, decl in declared_node.interfaces.items():
                if isinstance(decl, VethEnd) and (name, iface) not in self.peer:
                    raise _fail(
                        f"nodes.{name}.interfaces.{iface}",
                        "a veth end in no link: add it to 'links' "
                        f"(endpoints: [{name}:{iface}, other:ifname]) or give it a 'kind'",
                    )

    def _interfaces(self, name: str) -> dict[str, object]:
        """Every interface of node ``name``: declared ones and link ends it did not declare."""
        node = self.lab.nodes[name]
        out: dict[str, object] = dict(node.interfaces)
        for (n, iface), _ in self.peer.items():
            if n == name and iface not in out:
                out[iface] = VethEnd()
        return out

    def _masters(self) -> None:
        for name in self.lab.nodes:
            interfaces = self._interfaces(name)
            for iface, decl in interfaces.items():
                where = f"nodes.{name}.interfaces.{iface}"
                master = getattr(decl, "master", None)
                if master is not None:
                    target = interfaces.get(master)
                    if not isinstance(target, BridgeInterface):
                        bridges = [n for n, d in interfaces.items() if isinstance(d, BridgeInterface)]
                        raise _fail(
                            f"{where}.master",
                            f"{master!r} is not a bridge of node {name}; bridges: {_choices(bridges)}",
                        )
                    self.segments.join((name, iface), (name, master))
                lower = getattr(decl, "lower", None) or getattr(decl, "underlay", None)
                if lower is not None and lower not in interfaces:
                    key = "lower" if getattr(decl, "lower", None) else "underlay"
                    raise _fail(
                        f"{where}.{key}",
                        f"{lower!r} is not an interface of node {name}; interfaces: {_choices(interfaces)}",
                    )
                if getattr(decl, "hairpin", None) and master is None:
                    raise _fail(f"{where}.hairpin", "hairpin is a bridge port's setting: give 'master' too")
                if isinstance(decl, MacvlanInterface | IpvlanInterface):
                    self.segments.join((name, iface), (name, decl.lower))  # on its lower's wire
                elif isinstance(decl, VxlanInterface):
                    self.segments.join(
                        (name, iface), ("#vxlan", f"{decl.vni}/{decl.port}")
                    )  # one VNI, one wire
        # A VLAN's wire: its id on its lower's wire (known once every other join is made).
        for name, declared in self.lab.nodes.items():
            for iface, decl in declared.interfaces.items():
                if isinstance(decl, VlanInterface):
                    wire = self.segments.find((name, decl.lower))
                    self.segments.join((name, iface), ("#vlan", f"{wire[0]}:{wire[1]}.{decl.id}"))

    def _addresses(self) -> None:
        seen: dict[IPAddress, str] = {}
        by_segment: dict[End, list[tuple[str, ipaddress.IPv4Interface | ipaddress.IPv6Interface]]] = {}
        for name, node in self.lab.nodes.items():
            for iface, decl in node.interfaces.items():
                for k, address in enumerate(decl.addresses):
                    where = f"nodes.{name}.interfaces.{iface}.addresses[{k}]"
                    if address.ip in seen:
                        raise _fail(where, f"{address.ip} is already the address of {seen[address.ip]}")
                    seen[address.ip] = f"{name}:{iface}"
                    by_segment.setdefault(self.segments.find((name, iface)), []).append((where, address))
        # Within a segment, addresses of one subnet share its prefix; across segments, subnets are apart.
        networks: list[tuple[Network, str]] = []
        for entries in by_segment.values():
            mine: dict[Network, str] = {}
            for where, address in entries:
                net = address.network
                for other, other_where in mine.items():
                    if net != other and net.version == other.version and net.overlaps(other):
                        raise _fail(
                            where,
                            f"{address} is outside its subnet {other} (as {other_where} has it): "
                            "one segment, one prefix per subnet",
                        )
                mine.setdefault(net, where)
            for net, where in mine.items():
                for other, other_where in networks:
                    if net.version == other.version and net.overlaps(other):
                        raise _fail(
                            where,
                            f"subnet {net} overlaps {other} of another segment ({other_where}); "
                            "give each segment its own subnet",
                        )
            networks.extend(mine.items())

    # -- one node --------------------------------------------------------------------------

    def _node(self, name: str, node: Node) -> NodeSpec:
        lab = self.lab.name
        netns = netns_name(lab, name)
        interfaces = self._interfaces(name)
        links: list[LinkSpec] = []
        addresses: list[Address] = []
        for iface, decl in interfaces.items():
            where = f"nodes.{name}.interfaces.{iface}"
            link = self._link_spec(name, iface, decl, where)
            if link is not None:
                links.append(link)
            for address in getattr(decl, "addresses", ()):
                addresses.append(Address(address, dev=iface))
        routes = [self._route(name, node, i, interfaces, addresses) for i in range(len(node.routes))]
        sysctls = tuple(
            (key, str(int(v)) if isinstance(v, bool) else str(v)) for key, v in node.sysctls.items()
        )
        rules = self._rules(name, node)
        return NodeSpec(
            name=name,
            netns=netns,
            links=tuple(links),
            interfaces=tuple(interfaces),
            addresses=tuple(addresses),
            routes=tuple(routes),
            sysctls=sysctls,
            rules=rules,
        )

    def _creates(self, end: End) -> bool:
        """Which end of a veth makes the pair: the one that is a bridge port, else the link's first."""
        peer = self.peer[end]
        mine = self._decl(end)
        theirs = self._decl(peer)
        if (mine.master is None) != (theirs.master is None):
            return mine.master is not None
        return self.lab.links[self.link_of[end]].ends()[0] == end

    def _decl(self, end: End) -> VethEnd:
        decl = self.lab.nodes[end[0]].interfaces.get(end[1])
        return decl if isinstance(decl, VethEnd) else VethEnd()

    def _link_spec(  # noqa: PLR0911 - one return per interface kind reads best
        self, node: str, iface: str, decl: object, where: str
    ) -> LinkSpec | None:
        lab = self.lab.name
        common = {
            "name": iface,
            "alias": alias(lab, node, iface),
            "ifgroup": self.group,
            "mtu": getattr(decl, "mtu", None),
            "mac": getattr(decl, "mac", None),
            "up": getattr(decl, "up", True),
            "master": getattr(decl, "master", None),
            "hairpin": getattr(decl, "hairpin", None),
        }
        try:
            if isinstance(decl, VethEnd):
                end = (node, iface)
                if not self._creates(end):
                    return None
                peer_node, peer_iface = self.peer[end]
                peer = self._decl(self.peer[end])
                if peer.master is not None:
                    raise _fail(
                        where,
                        f"both ends of links[{self.link_of[end]}] are bridge ports; "
                        "join two bridges with a port on one side only",
                    )
                link_mtu = self.lab.links[self.link_of[end]].mtu
                if link_mtu is not None and common["mtu"] is None:
                    common["mtu"] = link_mtu
                return Veth(
                    **common,  # type: ignore[arg-type]
                    peer=peer_iface,
                    peer_netns=netns_name(lab, peer_node),
                    peer_mtu=peer.mtu if peer.mtu is not None else link_mtu,
                    peer_mac=peer.mac,
                    peer_up=peer.up,
                )
            if isinstance(decl, BridgeInterface):
                return Bridge(
                    **common,  # type: ignore[arg-type]
                    stp=bool(decl.stp),
                    vlan_filtering=bool(decl.vlan_filtering),
                )
            if isinstance(decl, VxlanInterface):
                return Vxlan(
                    **common,  # type: ignore[arg-type]
                    vni=decl.vni,
                    remote=None if decl.remote is None else str(decl.remote),
                    group=None if decl.group is None else str(decl.group),
                    local=None if decl.local is None else str(decl.local),
                    dev=decl.underlay,
                    dstport=decl.port,
                    learning=decl.learning,
                )
            if isinstance(decl, MacvlanInterface):
                cls = Macvtap if decl.kind == "macvtap" else Macvlan
                return cls(**common, link=decl.lower, mode=decl.mode)  # type: ignore[arg-type]
            if isinstance(decl, IpvlanInterface):
                return Ipvlan(**common, link=decl.lower, mode=decl.mode)  # type: ignore[arg-type]
            if isinstance(decl, VlanInterface):
                return Vlan(**common, link=decl.lower, id=decl.id)  # type: ignore[arg-type]
        except TopologyError:
            raise
        except ConfigError as exc:
            raise _fail(where, str(exc)) from None
        raise _fail(where, f"unknown interface {decl!r}")  # pragma: no cover - the model's union is closed

    def _route(
        self,
        name: str,
        node: Node,
        i: int,
        interfaces: dict[str, object],
        addresses: Sequence[Address],
    ) -> Route:
        decl = node.routes[i]
        where = f"nodes.{name}.routes[{i}]"
        if decl.dev is not None and decl.dev not in interfaces:
            raise _fail(
                f"{where}.dev",
                f"{decl.dev!r} is not an interface of node {name}; interfaces: {_choices(interfaces)}",
            )
        if decl.via is not None:
            on = [a for a in addresses if decl.via in a.interface.network and decl.via != a.interface.ip]
            if decl.dev is not None:
                on = [a for a in on if a.dev == decl.dev]
            if not on:
                subnets = sorted({str(a.interface.network) for a in addresses})
                raise _fail(
                    f"{where}.via",
                    f"gateway {decl.via} is not on any subnet of node {name} "
                    f"(its subnets: {_choices(subnets)})",
                )
        try:
            return Route(dst=decl.network, gateway=decl.via, dev=decl.dev, metric=decl.metric)
        except ConfigError as exc:
            raise _fail(where, str(exc)) from None

    # -- rules -------------------------------------------------------------------------------

    def _rules(self, name: str, node: Node) -> tuple[RulesSpec, ...]:
        out: list[RulesSpec] = []
        fw = node.firewall
        nat = list(node.nat)
        families = {bool(fw.ipv6)} if fw is not None else set()
        v6_nat = [n for n in nat if nat_family(n) == 6]
        if v6_nat:
            families.add(True)
        if nat and len(v6_nat) < len(nat):
            families.add(False)
        for ipv6 in sorted(families):
            rules = FirewallRules(self.lab.name, f"nodes.{name}", ipv6)
            if fw is not None and fw.ipv6 == ipv6:
                rules.firewall(fw)
            for i, entry in enumerate(nat):
                if (nat_family(entry) == 6) == ipv6:
                    rules.nat(f"nodes.{name}.nat[{i}]", entry)
            out.append(rules.spec())
        return tuple(out)

    # -- checks and published ports ------------------------------------------------------

    def _check(self, where: str, check: Check, spec: LabSpec) -> CheckSpec:
        names = [n.name for n in spec.nodes]
        if check.source not in names:
            raise _fail(f"{where}.from", f"node {check.source!r} does not exist; nodes: {_choices(names)}")
        to, port = check.to, check.port
        target: str | None = None
        try:
            address, parsed_port = split_target(to)
        except ValueError:
            node, sep, digits = to.partition(":")
            if sep:
                if not digits.isdigit() or not 1 <= int(digits) <= 65535:
                    raise _fail(f"{where}.to", f"{to!r}: the port after ':' must be 1-65535") from None
                parsed_port = int(digits)
            else:
                parsed_port = None
            if node not in names:
                raise _fail(
                    f"{where}.to", f"{to!r} is neither an address nor a node; nodes: {_choices(names)}"
                ) from None
            target = node
            found = best_address(spec, check.source, node)
            if found is None:
                raise _fail(f"{where}.to", f"node {node} has no address to reach it by") from None
            address = found
        if parsed_port is not None:
            if port is not None and port != parsed_port:
                raise _fail(where, f"port {port} and {to!r} disagree")
            port = parsed_port
        if check.proto == "icmp":
            port = None
        elif port is None:
            raise _fail(f"{where}.port", f"a {check.proto} check needs a port")
        text = f"{check.source} -> {to} {check.proto}" + (f"/{port}" if port and ":" not in to else "")
        return CheckSpec(
            source=check.source,
            address=address,
            proto=check.proto,
            port=port,
            expect=check.expect,
            target=target,
            text=text,
        )

    def _publish(self, spec: LabSpec) -> Iterable[Publish]:
        owner = {a.interface.ip: n.name for n in spec.nodes for a in n.addresses}
        for name, node in self.lab.nodes.items():
            for entry in node.nat:
                if isinstance(entry, Dnat):
                    address, port = split_target(entry.to)
                    container = owner.get(address)
                    if container is not None:
                        yield Publish(name, entry.port, container, address, port or entry.port, entry.proto)


def best_address(spec: LabSpec, source: str, target: str) -> IPAddress | None:
    """The address of ``target`` to reach it from ``source`` at: ``check.choose_address``'s choice,
    so a check to a node and ``all_pairs`` pick the same one."""
    return choose_address(spec.node(source), spec.node(target))
