"""What a lab graph shows, as values: ``GraphModel``, from the file or from the kernel.

Owns: the view model every renderer of ``vnetkit.topology.graph`` draws
(nodes = namespaces with their interfaces; edges = veth pairs, bridge ports
and lower devices; published ports; NAT notes), how it is read off a
resolved ``LabSpec``, and how a live ``Inventory`` is compared with it:
each node, interface and edge marked ``ok``, ``missing`` (in the file, not
in the kernel), ``extra`` (in the kernel, not in the file) or ``drifted``
(there, but its addresses, master, kind or up state differ). Pure. Does not
own: reading the kernel (``vnetkit.links.inventory``), drawing
(``vnetkit.topology.graph``), or anything about rules: published ports and
NAT notes always come from the file.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Literal

from vnetkit.links.inventory import Inventory, InventoryLink
from vnetkit.model import Rule
from vnetkit.model.links import Bridge, Veth
from vnetkit.topology.model import Node
from vnetkit.topology.spec import LabSpec, NodeSpec

__all__ = [
    "End",
    "GraphEdge",
    "GraphInterface",
    "GraphModel",
    "GraphNode",
    "GraphPublish",
    "State",
    "from_live",
    "from_spec",
]

State = Literal["ok", "missing", "extra", "drifted"]
EdgeKind = Literal["veth", "port", "lower"]


@dataclass(frozen=True, slots=True)
class GraphInterface:
    """One interface of a node: its kind (``veth``, ``bridge``...; '' unknown), addresses and master.

    ``up`` is whether it is (or should be) administratively up, None when
    not said. ``notes`` are lines to print beside it (NAT, how it drifted).
    """

    name: str
    kind: str = ""
    addresses: tuple[str, ...] = ()
    master: str | None = None
    up: bool | None = None
    state: State = "ok"
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One node of the lab: its namespace and interfaces (in the file's order, extra ones last)."""

    name: str
    netns: str
    interfaces: tuple[GraphInterface, ...] = ()
    state: State = "ok"
    notes: tuple[str, ...] = ()

    def interface(self, name: str) -> GraphInterface | None:
        """The interface called ``name``, or None."""
        return next((i for i in self.interfaces if i.name == name), None)


@dataclass(frozen=True, slots=True, order=True)
class End:
    """An interface of a node, as the end of an edge."""

    node: str
    iface: str

    def __str__(self) -> str:
        return f"{self.node}:{self.iface}"


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """A connection between two interfaces.

    ``veth``: the two ends of a pair (``a`` before ``b`` in the file's
    order). ``port``: ``a`` is a port of bridge ``b`` (same node).
    ``lower``: ``a`` sits on ``b`` (vlan, macvlan, vxlan underlay; same node).
    """

    kind: EdgeKind
    a: End
    b: End
    state: State = "ok"

    @property
    def key(self) -> tuple[str, End, End]:
        """What makes two edges the same one (a veth pair has no direction)."""
        if self.kind == "veth":
            a, b = sorted((self.a, self.b))
            return (self.kind, a, b)
        return (self.kind, self.a, self.b)


@dataclass(frozen=True, slots=True)
class GraphPublish:
    """A published port: ``node:host_port/proto`` reaches ``container``'s ``address:port``.

    ``iface`` is the container's interface holding ``address`` (None if none does).
    """

    node: str
    host_port: int
    proto: str
    container: str
    address: str
    port: int
    iface: str | None = None
    state: State = "ok"

    @property
    def label(self) -> str:
        """``8080/tcp -> 80``."""
        return f"{self.host_port}/{self.proto} -> {self.port}"


@dataclass(frozen=True, slots=True)
class GraphModel:
    """A whole lab as a picture sees it; ``source`` says whether it was read from the file or the kernel."""

    lab: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...] = ()
    published: tuple[GraphPublish, ...] = ()
    source: Literal["file", "live"] = "file"

    def node(self, name: str) -> GraphNode:
        """The node called ``name`` (KeyError if none)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    @property
    def drift(self) -> bool:
        """Whether anything differs between the file and the kernel."""
        items: list[State] = [n.state for n in self.nodes]
        items += [i.state for n in self.nodes for i in n.interfaces]
        items += [e.state for e in self.edges]
        return any(state != "ok" for state in items)


# -- from the file ---------------------------------------------------------------


def _address_text(value: str) -> str:
    """``ADDRESS/PREFIX`` written one way, so file and kernel compare equal."""
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError:
        return value


class _FileNode:
    """What the file says about one node's interfaces, from its ``NodeSpec`` and the ``Lab`` behind it."""

    def __init__(self, spec: LabSpec, node: NodeSpec) -> None:
        self.node = node
        self.decl: Node | None = spec.lab.nodes.get(node.name)
        self.links = {link.name: link for link in node.links}
        self.peer_of: dict[str, Veth] = {}  # veth ends made from another node, by name
        for other in spec.nodes:
            for link in other.links:
                if isinstance(link, Veth) and (link.peer_netns or other.netns) == node.netns:
                    self.peer_of.setdefault(link.peer, link)

    def names(self) -> list[str]:
        names = dict.fromkeys(self.node.interfaces)
        names.update(dict.fromkeys(self.links))
        if self.decl is not None:
            names.update(dict.fromkeys(self.decl.interfaces))
        names.update(dict.fromkeys(a.dev for a in self.node.addresses if a.dev is not None))
        return list(names)

    def interface(self, name: str) -> GraphInterface:
        link = self.links.get(name)
        decl = self.decl.interfaces.get(name) if self.decl is not None else None
        peer = self.peer_of.get(name)
        kind, master, up = "", None, None
        if link is not None:
            kind, master, up = link.kind, link.master, link.up
        elif peer is not None:
            kind, up = "veth", peer.peer_up
        if decl is not None:
            kind = kind or decl.kind
            master = master or decl.master
            up = decl.up if up is None else up
        if master is None:
            master = next(
                (b.name for b in self.links.values() if isinstance(b, Bridge) and name in b.ports), None
            )
        if not kind and name == "lo":
            kind = "loopback"
        addresses = tuple(str(a.interface) for a in self.node.addresses_of(name))
        return GraphInterface(name=name, kind=kind, addresses=addresses, master=master, up=up)

    def nat_notes(self) -> tuple[dict[str, list[str]], list[str]]:
        """NAT lines per interface (a rule's ``-o``) and for the node as a whole (no ``-o``, or ``! -o``).

        Read off the node's nat rules (what the lab's ``nat:`` entries and a
        recipe's exact rules both become): a subnet's MASQUERADE or SNAT,
        without destination, protocol or match; narrower ones (Docker's
        hairpin rules) would only clutter the picture.
        """
        per: dict[str, list[str]] = {}
        whole: list[str] = []
        for rule in _nat_rules(self.node):
            target = rule.target
            if target is None or target.name not in ("MASQUERADE", "SNAT"):
                continue
            if rule.destination is not None or rule.protocol is not None or rule.matches:
                continue
            source = ("not " if rule.source_negated else "") + (rule.source or "all")
            text = f"{target.name.lower()} {source}"
            to = next((o.values for o in target.options if o.name == "--to-source"), ())
            if to:
                text += f" to {' '.join(to)}"
            out = rule.out_interface
            if out is not None and not rule.out_interface_negated:
                lines = per.setdefault(out, [])
                line = f"{text} out"
            else:
                lines = whole
                line = text if out is None else f"{text} out of all but {out}"
            if line not in lines:
                lines.append(line)
        return per, whole


def _nat_rules(node: NodeSpec) -> Iterator[Rule]:
    """Every rule of the node's nat table, owned chains first, in order."""
    for rules in node.rules:
        for (table, _), chain in rules.chains:
            if table == "nat":
                yield from chain
        for (table, _), rule in rules.placed:
            if table == "nat":
                yield rule


def _file_node(spec: LabSpec, node: NodeSpec) -> GraphNode:
    reader = _FileNode(spec, node)
    per, whole = reader.nat_notes()
    interfaces = []
    names = reader.names()
    for name in names:
        iface = reader.interface(name)
        if name in per:
            iface = replace(iface, notes=tuple(per[name]))
        interfaces.append(iface)
    # NAT out of an interface the node does not have (the real host's, say): on the node.
    whole += [f"{line} {out}" for out, lines in per.items() if out not in names for line in lines]
    return GraphNode(name=node.name, netns=node.netns, interfaces=tuple(interfaces), notes=tuple(whole))


def _file_edges(spec: LabSpec, nodes: Iterable[GraphNode]) -> list[GraphEdge]:
    node_of = {n.netns: n.name for n in spec.nodes}
    edges: dict[tuple[str, End, End], GraphEdge] = {}

    def add(edge: GraphEdge) -> None:
        edges.setdefault(edge.key, edge)

    for link in spec.lab.links:
        (na, ia), (nb, ib) = link.ends()
        add(GraphEdge("veth", End(na, ia), End(nb, ib)))
    for node in spec.nodes:
        for spec_link in node.links:
            if isinstance(spec_link, Veth):
                other = node_of.get(spec_link.peer_netns or node.netns)
                if other is not None:
                    add(GraphEdge("veth", End(node.name, spec_link.name), End(other, spec_link.peer)))
    for gnode in nodes:
        names = {i.name for i in gnode.interfaces}
        file_node = spec.node(gnode.name)
        lowers = {link.name: link.lower for link in file_node.links if link.lower is not None}
        decl = spec.lab.nodes.get(gnode.name)
        for iface in gnode.interfaces:
            if iface.master is not None and iface.master in names:
                add(GraphEdge("port", End(gnode.name, iface.name), End(gnode.name, iface.master)))
            item = decl.interfaces.get(iface.name) if decl is not None else None
            lower = lowers.get(iface.name) or getattr(item, "lower", None) or getattr(item, "underlay", None)
            if isinstance(lower, str) and lower in names:
                add(GraphEdge("lower", End(gnode.name, iface.name), End(gnode.name, lower)))
    return list(edges.values())


def _file_published(spec: LabSpec, nodes: Iterable[GraphNode]) -> list[GraphPublish]:
    by_name = {n.name: n for n in nodes}
    out = []
    for pub in spec.publish:
        container = by_name.get(pub.container)
        iface = None
        if container is not None:
            iface = next(
                (
                    i.name
                    for i in container.interfaces
                    if any(ipaddress.ip_interface(a).ip == pub.address for a in i.addresses)
                ),
                None,
            )
        out.append(
            GraphPublish(
                node=pub.node,
                host_port=pub.host_port,
                proto=pub.proto,
                container=pub.container,
                address=str(pub.address),
                port=pub.port,
                iface=iface,
            )
        )
    return out


def from_spec(spec: LabSpec) -> GraphModel:
    """The lab as its file describes it: every object ``ok``."""
    nodes = tuple(_file_node(spec, node) for node in spec.nodes)
    return GraphModel(
        lab=spec.name,
        nodes=nodes,
        edges=tuple(_file_edges(spec, nodes)),
        published=tuple(_file_published(spec, nodes)),
        source="file",
    )


# -- from the kernel ---------------------------------------------------------------


def _live_addresses(link: InventoryLink, wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The link's addresses, without the IPv6 link-local ones the kernel adds by itself (unless wanted)."""
    out = []
    for text in link.addresses:
        norm = _address_text(text)
        try:
            ip = ipaddress.ip_interface(norm).ip
        except ValueError:
            ip = None
        if isinstance(ip, ipaddress.IPv6Address) and ip.is_link_local and norm not in wanted:
            continue
        out.append(norm)
    return tuple(out)


# Kinds the file and the kernel spell differently.
_SAME_KIND = {"tuntap": ("tun", "tap", "tuntap")}


def _compare(want: GraphInterface, have: InventoryLink) -> GraphInterface:
    """The live interface, ``drifted`` with one note per difference from ``want``, else ``ok``."""
    wanted = tuple(_address_text(a) for a in want.addresses)
    live = _live_addresses(have, wanted)
    notes = list(want.notes)
    drifted = False
    if want.kind and have.kind not in _SAME_KIND.get(want.kind, (want.kind,)):
        drifted = True
        notes.append(f"kind {have.kind or 'unknown'}, file: {want.kind}")
    if set(live) != set(wanted):
        drifted = True
        gone = [a for a in wanted if a not in live]
        more = [a for a in live if a not in wanted]
        if gone:
            notes.append("missing " + ", ".join(gone))
        if more:
            notes.append("extra " + ", ".join(more))
    if have.master != want.master:
        drifted = True
        notes.append(f"master {have.master or 'none'}, file: {want.master or 'none'}")
    up = have.link.up
    if want.up is not None and up is not None and up != want.up:
        drifted = True
        notes.append(f"{'up' if up else 'down'}, file: {'up' if want.up else 'down'}")
    return GraphInterface(
        name=want.name,
        kind=have.kind or want.kind,
        addresses=live,
        master=have.master,
        up=up,
        state="drifted" if drifted else "ok",
        notes=tuple(notes),
    )


def _extra(have: InventoryLink, note: str | None) -> GraphInterface:
    return GraphInterface(
        name=have.name,
        kind=have.kind,
        addresses=_live_addresses(have, ()),
        master=have.master,
        up=have.link.up,
        state="extra",
        notes=(note,) if note else (),
    )


def _elsewhere(inv: Inventory, entry: InventoryLink, lab: set[str]) -> str | None:
    """A note when a veth's other end is outside the lab's namespaces (or could not be located)."""
    if entry.kind != "veth" or entry.peer is None:
        return None
    if entry.peer.located and entry.peer.netns in lab:
        return None
    return f"peer {entry.peer} (outside the lab)"


def _live_node(want: GraphNode, inv: Inventory, lab: set[str]) -> tuple[GraphNode, list[GraphEdge]]:
    """One node as the kernel has it, and the bridge-port and lower-device edges inside it."""
    if want.netns not in inv.namespaces:  # the namespace itself is missing, so is all in it
        missing = tuple(replace(i, state="missing") for i in want.interfaces)
        return replace(want, interfaces=missing, state="missing"), []
    wanted = {i.name for i in want.interfaces}
    live = {e.name: e for e in inv.of(want.netns) if e.name != "lo" or "lo" in wanted}
    interfaces = []
    for iface in want.interfaces:
        have = live.get(iface.name)
        if have is None:
            interfaces.append(replace(iface, state="missing"))
            continue
        found = _compare(iface, have)
        note = _elsewhere(inv, have, lab)
        if note is not None:
            found = replace(found, state="drifted", notes=(*found.notes, note))
        interfaces.append(found)
    for name, have in live.items():
        if name not in wanted:
            interfaces.append(_extra(have, _elsewhere(inv, have, lab)))
    edges = []
    names = {i.name for i in interfaces if i.state != "missing"}
    for have in live.values():
        if have.master is not None and have.master in names:
            edges.append(GraphEdge("port", End(want.name, have.name), End(want.name, have.master)))
        lower = have.lower
        if lower is not None and lower.located and lower.netns == want.netns and lower.name in names:
            edges.append(GraphEdge("lower", End(want.name, have.name), End(want.name, lower.name)))
    return replace(want, interfaces=tuple(interfaces)), edges


def from_live(spec: LabSpec, inventory: Inventory) -> GraphModel:
    """The lab as the kernel has it (``inventory`` of at least its namespaces), marked against the file.

    Only the lab's namespaces (``spec.namespaces``) are looked at. A node
    whose namespace was not read is ``missing`` with everything in it.
    Published ports and NAT notes are the file's (rules are not read here).
    """
    want = from_spec(spec)
    lab = set(spec.namespaces)
    node_of = {n.netns: n.name for n in spec.nodes}
    nodes = []
    live_edges: dict[tuple[str, End, End], GraphEdge] = {}
    for gnode in want.nodes:
        node, edges = _live_node(gnode, inventory, lab)
        nodes.append(node)
        live_edges.update((e.key, e) for e in edges)
    for a, b in inventory.pairs():
        if a.netns in node_of and b.netns in node_of:
            edge = GraphEdge("veth", End(node_of[a.netns], a.name), End(node_of[b.netns], b.name))
            live_edges.setdefault(edge.key, edge)
    edges = []
    for edge in want.edges:
        edges.append(edge if edge.key in live_edges else replace(edge, state="missing"))
    wanted = {e.key for e in want.edges}
    edges += [replace(e, state="extra") for key, e in live_edges.items() if key not in wanted]
    return GraphModel(
        lab=spec.name,
        nodes=tuple(nodes),
        edges=tuple(edges),
        published=want.published,
        source="live",
    )
