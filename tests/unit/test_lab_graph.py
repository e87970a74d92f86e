"""Lab graphs without root: the view model from hand-built ``LabSpec`` values and assembled inventories,
and what the Mermaid and DOT renderers make of it.

Mermaid output is read back by a small parser of the flowchart syntax the
renderer uses (it refuses anything else: unbalanced subgraphs, bad ids,
raw quotes in labels, edges to undefined ids, styles of links that do not
exist). DOT output is handed to Graphviz itself (``dot -Tjson`` for its
structure, ``dot -Tsvg`` for the picture): that changes no network state.
"""

from __future__ import annotations

import ipaddress
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from vnetkit.errors import CommandError, MissingTool
from vnetkit.exec import FakeRunner, SystemRunner
from vnetkit.links.inventory import Inventory, assemble
from vnetkit.model import Option, Rule, Target
from vnetkit.model.addresses import Address
from vnetkit.model.links import Bridge, LinkSpec, Macvlan, Veth, Vxlan
from vnetkit.model.records import Link
from vnetkit.topology.graph import (
    End,
    GraphEdge,
    GraphModel,
    dot_text,
    from_live,
    from_spec,
    mermaid_text,
    to_dot,
    to_mermaid,
    to_svg,
)
from vnetkit.topology.model import Lab
from vnetkit.topology.spec import LabSpec, NodeSpec, Publish, RulesSpec

# -- hand-built labs ------------------------------------------------------------------


def addr(text: str, dev: str) -> Address:
    return Address(ipaddress.ip_interface(text), dev=dev)


def node(
    lab: str,
    name: str,
    *,
    links: Sequence[LinkSpec] = (),
    interfaces: Sequence[str] = (),
    addresses: str = "",
) -> NodeSpec:
    """A NodeSpec; ``addresses`` as ``dev=a/p dev=a/p``."""
    parsed = tuple(addr(a, d) for d, a in (item.split("=") for item in addresses.split()))
    return NodeSpec(
        name=name,
        netns=f"vnk-{lab}-{name}",
        links=tuple(links),
        interfaces=tuple(interfaces),
        addresses=parsed,
    )


def docker_like() -> LabSpec:
    """Docker's bridge network: host with docker0 and a veth port per container, outside, a published port."""
    lab = Lab.model_validate(
        {
            "name": "web",
            "nodes": {
                "host": {
                    "interfaces": {
                        "docker0": {"kind": "bridge", "addresses": ["172.17.0.1/16"]},
                        "eth0": {"addresses": ["198.51.100.1/24"]},
                        "veth1111111": {"master": "docker0"},
                        "veth2222222": {"master": "docker0"},
                    },
                },
                "outside": {"interfaces": {"eth0": {"addresses": ["198.51.100.2/24"]}}},
                "c1": {"interfaces": {"eth0": {"addresses": ["172.17.0.2/16"]}}},
                "c2": {"interfaces": {"eth0": {"addresses": ["172.17.0.3/16"]}}},
            },
            "links": [
                {"endpoints": ["host:eth0", "outside:eth0"]},
                {"endpoints": ["c1:eth0", "host:veth1111111"]},
                {"endpoints": ["c2:eth0", "host:veth2222222"]},
            ],
        }
    )
    host = node(
        "web",
        "host",
        links=(
            Bridge(name="docker0"),
            Veth(name="eth0", peer="eth0", peer_netns="vnk-web-outside"),
            Veth(name="veth1111111", peer="eth0", peer_netns="vnk-web-c1", master="docker0"),
            Veth(name="veth2222222", peer="eth0", peer_netns="vnk-web-c2", master="docker0"),
        ),
        interfaces=("docker0", "eth0", "veth1111111", "veth2222222"),
        addresses="docker0=172.17.0.1/16 eth0=198.51.100.1/24",
    )
    # NAT as the resolver leaves it: rules. A subnet's MASQUERADE becomes a note (on its -o
    # interface, or on the node for ! -o); Docker's narrower hairpin rules do not.
    masquerade = Target("MASQUERADE")
    host = replace(
        host,
        rules=(
            RulesSpec(
                chains=(
                    (
                        ("nat", "VNK-POSTROUTING"),
                        (Rule(source="172.17.0.0/16", out_interface="eth0", target=masquerade),),
                    ),
                ),
                placed=(
                    (
                        ("nat", "POSTROUTING"),
                        Rule(
                            source="172.17.0.0/16",
                            out_interface="docker0",
                            out_interface_negated=True,
                            target=masquerade,
                        ),
                    ),
                    (
                        ("nat", "POSTROUTING"),
                        Rule(
                            source="172.17.0.2/32",
                            destination="172.17.0.2/32",
                            protocol="tcp",
                            target=masquerade,
                        ),
                    ),
                    (
                        ("nat", "POSTROUTING"),
                        Rule(
                            source="10.0.0.0/8",
                            target=Target("SNAT", (Option("--to-source", ("198.51.100.1",)),)),
                        ),
                    ),
                    (
                        ("nat", "POSTROUTING"),
                        Rule(source="192.168.9.0/24", out_interface="wan9", target=masquerade),
                    ),
                    (
                        ("filter", "FORWARD"),
                        Rule(source="172.17.0.0/16", out_interface="eth0", target=Target("ACCEPT")),
                    ),
                ),
            ),
        ),
    )
    return LabSpec(
        name="web",
        lab=lab,
        nodes=(
            host,
            node("web", "outside", interfaces=("eth0",), addresses="eth0=198.51.100.2/24"),
            node("web", "c1", interfaces=("eth0",), addresses="eth0=172.17.0.2/16"),
            node("web", "c2", interfaces=("eth0",), addresses="eth0=172.17.0.3/16"),
        ),
        publish=(Publish("host", 8080, "c1", ipaddress.ip_address("172.17.0.2"), 80, "tcp"),),
    )


ODD_IFACE = 'w"e#i|r<d`'  # a name the kernel takes: no '/', ':' or whitespace


def odd_names() -> LabSpec:
    """Names with '-', '_', '.', quotes and markup characters; IPv6; a vxlan on an underlay; an empty node."""
    lab = Lab.model_validate(
        {
            "name": "odd-lab_1",
            "nodes": {
                "r-1": {
                    "interfaces": {
                        "br.0": {"kind": "bridge", "addresses": ["2001:db8:0:1::1/64"]},
                        "eth-0.1": {"addresses": ["2001:db8::1/64"]},
                        "vx.100": {"kind": "vxlan", "vni": 100, "underlay": "eth-0.1", "master": "br.0"},
                        ODD_IFACE: {"kind": "macvlan", "lower": "eth-0.1"},
                    }
                },
                "h_2": {"interfaces": {"e_x.2": {"addresses": ["2001:db8::2/64", "10.9.0.2/24"]}}},
                "empty": {},
            },
            "links": [{"endpoints": ["r-1:eth-0.1", "h_2:e_x.2"]}],
        }
    )
    r1 = node(
        "odd-lab_1",
        "r-1",
        links=(
            Bridge(name="br.0"),
            Veth(name="eth-0.1", peer="e_x.2", peer_netns="vnk-odd-lab_1-h_2"),
            Vxlan(name="vx.100", vni=100, dev="eth-0.1", master="br.0"),
            Macvlan(name=ODD_IFACE, link="eth-0.1"),
        ),
        interfaces=("br.0", "eth-0.1", "vx.100", ODD_IFACE),
        addresses="br.0=2001:db8:0:1::1/64 eth-0.1=2001:db8::1/64",
    )
    h2 = node("odd-lab_1", "h_2", interfaces=("e_x.2",), addresses="e_x.2=2001:db8::2/64 e_x.2=10.9.0.2/24")
    return LabSpec(
        name="odd-lab_1",
        lab=lab,
        nodes=(r1, h2, node("odd-lab_1", "empty")),
        publish=(
            # A published port whose target address is on no interface: drawn to a stand-in.
            Publish("r-1", 53, "h_2", ipaddress.ip_address("2001:db8::99"), 5353, "udp"),
            # The same port published again (as two DNAT rules would): one box, two arrows.
            Publish("r-1", 53, "h_2", ipaddress.ip_address("10.9.0.2"), 53, "udp"),
        ),
    )


# -- live inventories, assembled from Link records ----------------------------------------


def mk(
    index: int,
    name: str,
    kind: str = "veth",
    *,
    link_index: int | None = None,
    netnsid: int | None = None,
    master: str | None = None,
    addresses: tuple[str, ...] = (),
    up: bool = True,
) -> Link:
    """A Link as the kernel would report it."""
    return Link(
        index=index,
        name=name,
        kind=kind,
        state="UP" if up else "DOWN",
        mtu=1500,
        mac="02:00:00:00:00:01",
        master=master,
        alias=None,
        group=0,
        link_index=link_index,
        link_netnsid=netnsid,
        info={},
        addresses=addresses,
        up=up,
    )


def lo() -> Link:
    return mk(1, "lo", "loopback", addresses=("127.0.0.1/8", "::1/128"))


HOST, OUTSIDE, C1, C2 = "vnk-web-host", "vnk-web-outside", "vnk-web-c1", "vnk-web-c2"


def live_web(
    *, host: list[Link] | None = None, c1: list[Link] | None = None, skip: tuple[str, ...] = ()
) -> Inventory:
    """The docker-like lab as the kernel would have it (ids: host numbers outside 0, c1 1, c2 2)."""
    links: dict[str | None, list[Link]] = {
        None: [lo(), mk(2, "ens3", "", addresses=("192.0.2.10/24",))],
        HOST: host
        if host is not None
        else [
            lo(),
            mk(2, "docker0", "bridge", addresses=("172.17.0.1/16", "fe80::1/64")),
            mk(3, "eth0", link_index=2, netnsid=0, addresses=("198.51.100.1/24",)),
            mk(4, "veth1111111", link_index=2, netnsid=1, master="docker0"),
            mk(5, "veth2222222", link_index=2, netnsid=2, master="docker0"),
        ],
        OUTSIDE: [lo(), mk(2, "eth0", link_index=3, netnsid=0, addresses=("198.51.100.2/24",))],
        C1: c1
        if c1 is not None
        else [lo(), mk(2, "eth0", link_index=4, netnsid=0, addresses=("172.17.0.2/16",))],
        C2: [lo(), mk(2, "eth0", link_index=5, netnsid=0, addresses=("172.17.0.3/16", "fe80::42/64"))],
    }
    for name in skip:
        del links[name]
    ids = {HOST: {0: OUTSIDE, 1: C1, 2: C2}, OUTSIDE: {0: HOST}, C1: {0: HOST}, C2: {0: HOST}}
    return assemble(links, netnsids={k: v for k, v in ids.items() if k in links})


def states(model: GraphModel) -> dict[str, str]:
    """``node:iface`` (and ``node``) -> state, for every node and interface."""
    out: dict[str, str] = {n.name: n.state for n in model.nodes}
    out.update({f"{n.name}:{i.name}": i.state for n in model.nodes for i in n.interfaces})
    return out


def edge_states(model: GraphModel) -> dict[tuple[str, str, str], str]:
    return {(e.kind, str(e.a), str(e.b)): e.state for e in model.edges}


# -- the model from the file ------------------------------------------------------------


def test_from_spec_reads_nodes_interfaces_and_addresses() -> None:
    model = from_spec(docker_like())
    assert model.source == "file"
    assert model.lab == "web"
    assert [n.name for n in model.nodes] == ["host", "outside", "c1", "c2"]
    assert [n.netns for n in model.nodes] == [HOST, OUTSIDE, C1, C2]
    host = model.node("host")
    assert [(i.name, i.kind, i.addresses, i.master) for i in host.interfaces] == [
        ("docker0", "bridge", ("172.17.0.1/16",), None),
        ("eth0", "veth", ("198.51.100.1/24",), None),
        ("veth1111111", "veth", (), "docker0"),
        ("veth2222222", "veth", (), "docker0"),
    ]
    # A veth end made from the other side is a veth all the same.
    assert [(i.name, i.kind, i.addresses) for i in model.node("c2").interfaces] == [
        ("eth0", "veth", ("172.17.0.3/16",))
    ]
    assert host.interface("eth0") is not None
    assert host.interface("eth0").notes == ("masquerade 172.17.0.0/16 out",)  # type: ignore[union-attr]
    assert host.notes == (
        "masquerade 172.17.0.0/16 out of all but docker0",
        "snat 10.0.0.0/8 to 198.51.100.1",
        "masquerade 192.168.9.0/24 out wan9",  # an interface the node does not have
    )
    assert all(i.notes == () for i in host.interfaces if i.name != "eth0")
    assert set(states(model).values()) == {"ok"}
    assert not model.drift


def test_from_spec_edges_are_veth_pairs_and_bridge_ports() -> None:
    model = from_spec(docker_like())
    assert edge_states(model) == {
        ("veth", "host:eth0", "outside:eth0"): "ok",
        ("veth", "c1:eth0", "host:veth1111111"): "ok",
        ("veth", "c2:eth0", "host:veth2222222"): "ok",
        ("port", "host:veth1111111", "host:docker0"): "ok",
        ("port", "host:veth2222222", "host:docker0"): "ok",
    }
    [pub] = model.published
    assert (pub.node, pub.host_port, pub.proto, pub.container, pub.address, pub.port, pub.iface) == (
        "host",
        8080,
        "tcp",
        "c1",
        "172.17.0.2",
        80,
        "eth0",
    )
    assert pub.label == "8080/tcp -> 80"


def test_from_spec_without_lab_links_reads_veths_from_link_specs() -> None:
    """Edges come from NodeSpec's Veth specs too (peer in another node, or in the same one)."""
    spec = LabSpec(
        name="bare",
        lab=Lab(name="bare"),
        nodes=(
            node(
                "bare",
                "a",
                links=(
                    Bridge(name="br0", ports=("p0",)),
                    Veth(name="p0", peer="eth0", peer_netns="vnk-bare-b"),
                    Veth(name="x0", peer="x1"),  # both ends in node a
                ),
                interfaces=("br0", "p0", "x0", "x1"),
            ),
            node("bare", "b", interfaces=("eth0",), addresses="eth0=10.0.0.2/24"),
        ),
    )
    model = from_spec(spec)
    assert edge_states(model) == {
        ("veth", "a:p0", "b:eth0"): "ok",
        ("veth", "a:x0", "a:x1"): "ok",
        ("port", "a:p0", "a:br0"): "ok",  # the master from the bridge's ports
    }
    assert model.node("a").interface("x1") is not None
    assert model.node("a").interface("x1").kind == "veth"  # type: ignore[union-attr]


def test_from_spec_lower_devices_and_odd_names() -> None:
    model = from_spec(odd_names())
    assert edge_states(model) == {
        ("veth", "r-1:eth-0.1", "h_2:e_x.2"): "ok",
        ("port", "r-1:vx.100", "r-1:br.0"): "ok",
        ("lower", "r-1:vx.100", "r-1:eth-0.1"): "ok",
        ("lower", f"r-1:{ODD_IFACE}", "r-1:eth-0.1"): "ok",
    }
    assert model.node("empty").interfaces == ()
    nowhere, there = model.published
    assert (nowhere.iface, nowhere.address) == (None, "2001:db8::99")
    assert (there.iface, there.address, there.label) == ("e_x.2", "10.9.0.2", "53/udp -> 53")


# -- the model from the kernel -----------------------------------------------------------


def test_from_live_matching_lab_is_all_ok() -> None:
    model = from_live(docker_like(), live_web())
    assert model.source == "live"
    assert set(states(model).values()) == {"ok"}, states(model)
    assert set(edge_states(model).values()) == {"ok"}
    assert edge_states(model).keys() == edge_states(from_spec(docker_like())).keys()
    # The kernel's own IPv6 link-local addresses are not drift, and are not drawn.
    assert model.node("c2").interfaces[0].addresses == ("172.17.0.3/16",)
    assert not model.drift
    # The root namespace and lo were read but are not part of the lab.
    assert all(i.name not in ("lo", "ens3") for n in model.nodes for i in n.interfaces)


def test_from_live_marks_missing_and_extra_interfaces_and_pairs() -> None:
    host = [
        lo(),
        mk(2, "docker0", "bridge", addresses=("172.17.0.1/16",)),
        mk(3, "eth0", link_index=2, netnsid=0, addresses=("198.51.100.1/24",)),
        mk(4, "veth1111111", link_index=2, netnsid=1, master="docker0"),
        # veth2222222 is gone (and with it c2's eth0); a pair nobody declared is there instead.
        mk(6, "stray0", link_index=7, master="docker0"),
        mk(7, "stray1", link_index=6),
    ]
    inv = live_web(host=host, skip=(C2,))
    model = from_live(docker_like(), inv)
    got = states(model)
    assert got["host:veth2222222"] == "missing"
    assert got["host:stray0"] == got["host:stray1"] == "extra"
    assert got["c2"] == "missing"
    assert got["c2:eth0"] == "missing"
    assert got["host:docker0"] == got["c1:eth0"] == "ok"
    edges = edge_states(model)
    assert edges[("veth", "c2:eth0", "host:veth2222222")] == "missing"
    assert edges[("port", "host:veth2222222", "host:docker0")] == "missing"
    assert edges[("veth", "host:stray0", "host:stray1")] == "extra"
    assert edges[("port", "host:stray0", "host:docker0")] == "extra"
    assert edges[("veth", "c1:eth0", "host:veth1111111")] == "ok"
    assert model.drift


def test_from_live_marks_drift_of_addresses_master_and_state() -> None:
    host = [
        lo(),
        mk(2, "docker0", "bridge", addresses=("172.17.0.1/16",)),
        mk(3, "eth0", link_index=2, netnsid=0, addresses=("198.51.100.1/24",), up=False),
        mk(4, "veth1111111", link_index=2, netnsid=1),  # no longer a port of docker0
        mk(5, "veth2222222", link_index=2, netnsid=2, master="docker0"),
    ]
    c1 = [lo(), mk(2, "eth0", link_index=4, netnsid=0, addresses=("172.17.0.9/16",))]
    model = from_live(docker_like(), live_web(host=host, c1=c1))
    got = states(model)
    assert got["c1:eth0"] == got["host:veth1111111"] == got["host:eth0"] == "drifted"
    assert got["host:docker0"] == got["host:veth2222222"] == "ok"
    eth0 = model.node("c1").interface("eth0")
    assert eth0 is not None
    assert eth0.addresses == ("172.17.0.9/16",)
    assert "missing 172.17.0.2/16" in eth0.notes
    assert "extra 172.17.0.9/16" in eth0.notes
    port = model.node("host").interface("veth1111111")
    assert port is not None
    assert port.master is None
    assert "master none, file: docker0" in port.notes
    uplink = model.node("host").interface("eth0")
    assert uplink is not None
    assert uplink.up is False
    assert "down, file: up" in uplink.notes
    assert edge_states(model)[("port", "host:veth1111111", "host:docker0")] == "missing"


def test_from_live_names_a_peer_outside_the_lab() -> None:
    host = [
        lo(),
        mk(2, "docker0", "bridge", addresses=("172.17.0.1/16",)),
        mk(3, "eth0", link_index=2, netnsid=0, addresses=("198.51.100.1/24",)),
        mk(4, "veth1111111", link_index=2, netnsid=1, master="docker0"),
        mk(5, "veth2222222", link_index=2, netnsid=2, master="docker0"),
        mk(8, "leak0", link_index=9, netnsid=7),  # its peer is in a namespace with no name
    ]
    model = from_live(docker_like(), live_web(host=host))
    leak = model.node("host").interface("leak0")
    assert leak is not None
    assert leak.state == "extra"
    assert leak.notes == ("peer netnsid 7:if9 (outside the lab)",)


# -- Mermaid ---------------------------------------------------------------------------

_MERMAID_ID = r"[A-Za-z][A-Za-z0-9_]*"
_MERMAID_LABEL = r'"[^"]*"'
_KEYWORDS = {
    "end",
    "subgraph",
    "graph",
    "flowchart",
    "class",
    "classDef",
    "style",
    "linkStyle",
    "click",
    "default",
}
_SHAPES = {"[": "]", "{{": "}}", "([": "])", "[/": "/]"}
_NODE = re.compile(rf"^({_MERMAID_ID})(\[/|\(\[|\{{\{{|\[)({_MERMAID_LABEL})(/\]|\]\)|\}}\}}|\])$")
_EDGE = re.compile(rf"^({_MERMAID_ID}) (---|-\.-|-\.->|-->)(?:\|({_MERMAID_LABEL})\|)? ({_MERMAID_ID})$")
_SUBGRAPH = re.compile(rf"^subgraph ({_MERMAID_ID})\[({_MERMAID_LABEL})\]$")
_ENTITIES = {"#quot;": '"', "#35;": "#", "#lt;": "<", "#96;": "`", "#124;": "|"}


def unescape(label: str) -> list[str]:
    """A quoted Mermaid label back to its lines of text."""
    assert label.startswith('"')
    assert label.endswith('"')
    text = label[1:-1]
    lines = text.split("<br/>")
    assert "<" not in "".join(lines), f"markup left in {label!r}"
    return [re.sub(r"#[a-z0-9]+;", lambda m: _ENTITIES[m.group(0)], line) for line in lines]


@dataclass
class Flowchart:
    """What a flowchart defines, read back."""

    subgraphs: dict[str, list[str]] = field(default_factory=dict)  # id -> label lines
    members: dict[str, str] = field(default_factory=dict)  # node id -> subgraph id ('' for none)
    nodes: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # id -> (shape, label lines)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # (a, arrow, label, b)
    classes: dict[str, set[str]] = field(default_factory=dict)
    link_styles: dict[str, set[int]] = field(default_factory=dict)

    def find(self, subgraph: str, first: str) -> str:
        """The id of the node in ``subgraph`` whose label's first line is ``first``."""
        [hit] = [
            i for i, (_, lines) in self.nodes.items() if self.members[i] == subgraph and lines[0] == first
        ]
        return hit

    def subgraph(self, name: str) -> str:
        [hit] = [s for s, lines in self.subgraphs.items() if lines[0] == name]
        return hit


def parse_flowchart(text: str) -> Flowchart:
    """Read the renderer's flowchart back, refusing anything Mermaid would not take."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    chart = Flowchart()
    current = ""
    defined: set[str] = set()
    for raw in lines[1:]:
        line = raw.strip()
        if not line or line.startswith("%%"):
            continue
        if m := _SUBGRAPH.match(line):
            assert not current, "subgraphs are not nested"
            current = m.group(1)
            assert current not in defined
            assert current not in _KEYWORDS
            defined.add(current)
            chart.subgraphs[current] = unescape(m.group(2))
        elif line == "end":
            assert current, "an 'end' without a subgraph"
            current = ""
        elif m := _NODE.match(line):
            ident, opening, label, closing = m.groups()
            assert _SHAPES[opening] == closing, line
            assert ident not in defined, line
            assert ident not in _KEYWORDS, line
            defined.add(ident)
            chart.nodes[ident] = (opening, unescape(label))
            chart.members[ident] = current
        elif m := _EDGE.match(line):
            a, arrow, label, b = m.groups()
            assert a in chart.nodes, f"edge from an undefined node: {line}"
            assert b in chart.nodes, f"edge to an undefined node: {line}"
            chart.edges.append((a, arrow, "\n".join(unescape(label)) if label else "", b))
        elif line.startswith("classDef "):
            assert re.fullmatch(r"classDef [a-z]+ [a-z-]+:[^;]+", line), line
        elif m := re.fullmatch(rf"class ({_MERMAID_ID}(?:,{_MERMAID_ID})*) ([a-z]+)", line):
            ids = set(m.group(1).split(","))
            assert ids <= defined, line
            chart.classes[m.group(2)] = ids
        elif m := re.fullmatch(r"linkStyle (\d+(?:,\d+)*) [a-z-]+:.+", line):
            numbers = {int(n) for n in m.group(1).split(",")}
            assert max(numbers) < len(chart.edges), line
            chart.link_styles[line.split(" ")[2].split(":")[1].split(",")[0]] = numbers
        else:
            raise AssertionError(f"not flowchart syntax the renderer should write: {raw!r}")
    assert not current, "a subgraph is not closed"
    return chart


def check_mermaid_matches(model: GraphModel, chart: Flowchart) -> None:
    """Every node, interface (name, addresses), edge and published port of ``model`` is in ``chart``."""
    assert len(chart.subgraphs) == len(model.nodes)
    for gnode in model.nodes:
        sub = chart.subgraph(gnode.name)
        assert chart.subgraphs[sub][1] == gnode.netns
        for iface in gnode.interfaces:
            ident = chart.find(sub, f"{iface.name} ({iface.kind})" if iface.kind else iface.name)
            lines = chart.nodes[ident][1]
            assert all(a in lines for a in iface.addresses), (iface, lines)
            assert chart.nodes[ident][0] == ("{{" if iface.kind == "bridge" else "[")
    drawn = {(a, b): (arrow, label) for a, arrow, label, b in chart.edges}
    for edge in model.edges:
        a = chart.find(chart.subgraph(edge.a.node), _first(model, edge.a))
        b = chart.find(chart.subgraph(edge.b.node), _first(model, edge.b))
        arrow, label = drawn.get((a, b)) or drawn[(b, a)]
        if edge.kind == "veth":
            assert arrow == "---"
            assert edge.a.iface in label
            assert edge.b.iface in label
        else:
            assert arrow == ("---" if edge.kind == "port" else "-.-")
    for pub in model.published:
        [(arrow, label)] = [(arrow, label) for a, arrow, label, _ in chart.edges if label == pub.label]
        assert arrow == "-.->"


def _first(model: GraphModel, end: End) -> str:
    iface = model.node(end.node).interface(end.iface)
    assert iface is not None
    return f"{iface.name} ({iface.kind})" if iface.kind else iface.name


def test_mermaid_of_the_file_is_a_flowchart_with_everything() -> None:
    model = from_spec(docker_like())
    chart = parse_flowchart(to_mermaid(model))
    check_mermaid_matches(model, chart)
    host = chart.subgraph("host")
    c1 = chart.subgraph("c1")
    pub = chart.find(host, "published :8080/tcp")
    assert chart.nodes[pub][0] == "(["
    assert (pub, "-.->", "8080/tcp -> 80", chart.find(c1, "eth0 (veth)")) in chart.edges
    assert "masquerade 172.17.0.0/16 out" in chart.nodes[chart.find(host, "eth0 (veth)")][1]
    assert chart.classes == {}
    assert chart.link_styles == {}


def test_mermaid_escapes_names_and_draws_odd_labs() -> None:
    model = from_spec(odd_names())
    text = to_mermaid(model)
    chart = parse_flowchart(text)
    check_mermaid_matches(model, chart)
    assert chart.find(chart.subgraph("r-1"), f"{ODD_IFACE} (macvlan)")
    assert chart.nodes[chart.find(chart.subgraph("empty"), "(no interfaces)")]
    stand_in = chart.find(chart.subgraph("h_2"), "[2001:db8::99]:5353")
    port = chart.find(chart.subgraph("r-1"), "published :53/udp")
    assert (port, "-.->", "53/udp -> 5353", stand_in) in chart.edges
    assert (port, "-.->", "53/udp -> 53", chart.find(chart.subgraph("h_2"), "e_x.2 (veth)")) in chart.edges
    assert mermaid_text('a"b#c|d<e`f') == '"a#quot;b#35;c#124;d#lt;e#96;f"'
    assert mermaid_text("fe80::1/64 eth-0.1_x") == '"fe80::1/64 eth-0.1_x"'


def test_mermaid_of_a_drifted_lab_styles_each_state() -> None:
    host = [
        lo(),
        mk(2, "docker0", "bridge", addresses=("172.17.0.1/16",)),
        mk(3, "eth0", link_index=2, netnsid=0, addresses=("198.51.100.7/24",)),
        mk(4, "veth1111111", link_index=2, netnsid=1, master="docker0"),
        mk(6, "stray0", link_index=7, master="docker0"),
        mk(7, "stray1", link_index=6),
    ]
    model = from_live(docker_like(), live_web(host=host, skip=(C2,)))
    chart = parse_flowchart(to_mermaid(model))
    check_mermaid_matches(model, chart)
    hostg, c2g = chart.subgraph("host"), chart.subgraph("c2")
    assert chart.classes["missing"] == {
        chart.find(hostg, "veth2222222 (veth)"),
        chart.find(c2g, "eth0 (veth)"),
        c2g,
    }
    assert chart.classes["extra"] == {chart.find(hostg, "stray0 (veth)"), chart.find(hostg, "stray1 (veth)")}
    assert chart.classes["drifted"] == {chart.find(hostg, "eth0 (veth)")}
    assert "[missing]" in chart.nodes[chart.find(c2g, "eth0 (veth)")][1]
    # linkStyle numbers edges in the order they are written: each points at an edge of that state.
    index = {(a, b): n for n, (a, _, _, b) in enumerate(chart.edges)}
    ends = {n: (a, b) for (a, b), n in index.items()}
    missing = {frozenset(ends[n]) for n in chart.link_styles["#d00000"]}
    port = chart.find(hostg, "veth2222222 (veth)")
    assert frozenset({port, chart.find(c2g, "eth0 (veth)")}) in missing
    assert frozenset({port, chart.find(hostg, "docker0 (bridge)")}) in missing
    extra = {frozenset(ends[n]) for n in chart.link_styles["#ff8c00"]}
    assert extra == {
        frozenset({chart.find(hostg, "stray0 (veth)"), chart.find(hostg, "stray1 (veth)")}),
        frozenset({chart.find(hostg, "stray0 (veth)"), chart.find(hostg, "docker0 (bridge)")}),
    }


def test_mermaid_parser_refuses_what_mermaid_refuses() -> None:
    """The checker above is only worth something if it fails on broken charts."""
    good = to_mermaid(from_spec(docker_like()))
    broken = [
        good.replace("  end\n", "", 1),  # a subgraph left open
        good.replace("#quot;", '"') + '  x["a"b"]\n',  # a raw quote in a label
        good + '  end["x"]\n',  # a keyword as an id
        good + "  b0 --- nowhere\n",  # an edge to nothing
        good + "  linkStyle 99 stroke:red\n",  # a style of an edge that does not exist
    ]
    for text in broken:
        with pytest.raises(AssertionError):
            parse_flowchart(text)


# -- DOT and SVG ---------------------------------------------------------------------------


def graphviz_json(dot: str) -> dict[str, Any]:
    """What Graphviz made of ``dot`` (it refuses bad syntax: a CommandError then)."""
    runner = SystemRunner()
    try:
        done = runner.run(("dot", "-Tjson"), input=dot)
    finally:
        runner.close()
    if done.returncode != 0:
        raise CommandError(f"dot refused the graph: {done.stderr}")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def dot_lines(label: str) -> list[str]:
    """A label as Graphviz keeps it (``\\n`` between lines, ``\\\\`` for a backslash), as lines."""
    return [part.replace("\\\\", "\\") for part in label.split("\\n")]


def check_dot_matches(model: GraphModel, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    objects = data["objects"]
    assert isinstance(objects, list)
    by_name = {o["name"]: o for o in objects}
    by_gvid = {o["_gvid"]: o["name"] for o in objects}
    for gnode in model.nodes:
        cluster = by_name[f"cluster_{gnode.name}"]
        assert dot_lines(cluster["label"])[:2] == [gnode.name, gnode.netns]
        members = {by_gvid[i] for i in cluster.get("nodes", [])}
        for iface in gnode.interfaces:
            key = f"{gnode.name}:{iface.name}"
            assert key in members
            lines = dot_lines(by_name[key]["label"])
            assert lines[0] == (f"{iface.name} ({iface.kind})" if iface.kind else iface.name)
            assert all(a in lines for a in iface.addresses)
            assert by_name[key].get("shape", "box") == ("hexagon" if iface.kind == "bridge" else "box")
    edges = data.get("edges", [])
    assert isinstance(edges, list)
    drawn = {frozenset({by_gvid[e["tail"]], by_gvid[e["head"]]}): e for e in edges}
    for edge in model.edges:
        got = drawn[frozenset({str(edge.a), str(edge.b)})]
        if edge.kind == "veth":
            assert edge.a.iface in got["label"]
            assert edge.b.iface in got["label"]
    for pub in model.published:
        source = f"{pub.node}:{pub.host_port}/{pub.proto}"
        [got] = [e for e in edges if by_gvid[e["tail"]] == source and e["label"] == pub.label]
        assert got["label"] == pub.label
        assert got["style"] == "dashed"
    return by_name


def test_dot_of_the_file_has_a_cluster_per_node_and_every_edge() -> None:
    model = from_spec(docker_like())
    by_name = check_dot_matches(model, graphviz_json(to_dot(model)))
    assert by_name["host:docker0"]["shape"] == "hexagon"
    assert "masquerade 172.17.0.0/16 out" in dot_lines(by_name["host:eth0"]["label"])


def test_dot_escapes_odd_names() -> None:
    model = from_spec(odd_names())
    by_name = check_dot_matches(model, graphviz_json(to_dot(model)))
    assert f"r-1:{ODD_IFACE}" in by_name
    assert "h_2:[2001:db8::99]:5353" in by_name  # the stand-in for a target on no interface
    assert dot_text('a"b\\c') == '"a\\"b\\\\c"'


def test_dot_colours_each_state() -> None:
    host = [
        lo(),
        mk(2, "docker0", "bridge", addresses=("172.17.0.1/16",)),
        mk(3, "eth0", link_index=2, netnsid=0, addresses=("198.51.100.7/24",)),
        mk(4, "veth1111111", link_index=2, netnsid=1, master="docker0"),
        mk(6, "stray0", link_index=7),
        mk(7, "stray1", link_index=6),
    ]
    model = from_live(docker_like(), live_web(host=host, skip=(C2,)))
    data = graphviz_json(to_dot(model))
    by_name = check_dot_matches(model, data)
    missing = by_name["host:veth2222222"]
    assert (missing["color"], missing["style"]) == ("red", "rounded,dashed")
    assert by_name["cluster_c2"]["color"] == "red"
    assert by_name["host:stray0"]["color"] == "darkorange"
    assert (by_name["host:eth0"]["fillcolor"], by_name["host:eth0"]["style"]) == ("yellow", "rounded,filled")
    assert "color" not in by_name["host:docker0"]
    by_gvid = {o["_gvid"]: o["name"] for o in data["objects"]}
    colours = {frozenset({by_gvid[e["tail"]], by_gvid[e["head"]]}): e.get("color") for e in data["edges"]}
    assert colours[frozenset({"c2:eth0", "host:veth2222222"})] == "red"
    assert colours[frozenset({"host:stray0", "host:stray1"})] == "darkorange"
    assert colours[frozenset({"c1:eth0", "host:veth1111111"})] is None


def svg_titles(svg: bytes) -> dict[str, set[str]]:
    """The ``<title>`` of every group in an SVG, by its class (graph, cluster, node, edge)."""
    root = ET.fromstring(svg)  # noqa: S314 - Graphviz's own output, made by this test
    ns = {"svg": "http://www.w3.org/2000/svg"}
    out: dict[str, set[str]] = {}
    for group in root.iter("{http://www.w3.org/2000/svg}g"):
        title = group.find("svg:title", ns)
        if title is not None and title.text is not None:
            out.setdefault(group.get("class", ""), set()).add(title.text)
    return out


def test_svg_has_a_title_per_node_and_interface() -> None:
    runner = SystemRunner()
    try:
        for spec in (docker_like(), odd_names()):
            model = from_spec(spec)
            svg = to_svg(model, runner)
            titles = svg_titles(svg)
            assert titles["cluster"] == {f"cluster_{n.name}" for n in model.nodes}
            interfaces = {f"{n.name}:{i.name}" for n in model.nodes for i in n.interfaces}
            assert interfaces <= titles["node"]
            assert len(titles["edge"]) == len(model.edges) + len(model.published)
    finally:
        runner.close()


def test_svg_feeds_the_dot_to_graphviz_and_reports_its_refusal() -> None:
    model = from_spec(docker_like())
    fake = FakeRunner().respond(("dot", "-Tsvg"), stdout="<svg/>")
    assert to_svg(model, fake) == b"<svg/>"
    [(argv, netns, given)] = fake.calls
    assert argv == ("dot", "-Tsvg")
    assert netns is None
    assert given == to_dot(model)
    refusing = FakeRunner().respond(("dot",), returncode=1, stderr="Error: <stdin>: syntax error in line 3\n")
    with pytest.raises(CommandError, match="syntax error in line 3") as info:
        to_svg(model, refusing)
    assert info.value.argv == ("dot", "-Tsvg")
    assert info.value.exit_status == 1


def test_svg_without_graphviz_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with no dot on it
    runner = SystemRunner()
    try:
        with pytest.raises(MissingTool, match="apt-get install graphviz"):
            to_svg(from_spec(docker_like()), runner)
    finally:
        runner.close()


def test_edge_keys_ignore_the_direction_of_a_veth_only() -> None:
    a, b = End("x", "eth0"), End("y", "eth0")
    assert GraphEdge("veth", a, b).key == GraphEdge("veth", b, a).key
    assert GraphEdge("port", a, b).key != GraphEdge("port", b, a).key
