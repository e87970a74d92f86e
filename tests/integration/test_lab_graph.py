"""Lab graphs of a live lab: namespaces built by hand, read back with ``inventory``, compared with a spec.

Every link is made inside namespaces from ``netns_factory`` (deleted after
each test, leaks fail the test); the root namespace is neither read nor
changed. The spec describes what was built plus an interface that was not;
a veth pair and an address added by hand are the drift the graph must show.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import pytest

from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.links import Bridge, Links, Veth, inventory
from vnetkit.model.addresses import Address
from vnetkit.topology.graph import from_live, from_spec, to_dot, to_mermaid, to_svg
from vnetkit.topology.model import Lab
from vnetkit.topology.spec import LabSpec, NodeSpec, Publish

pytestmark = pytest.mark.integration

Factory = Callable[[], str]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def root_namespace_untouched() -> Iterator[None]:
    """The root namespace's links are the same afterwards (it is only ever read by Links().list())."""
    before = {(link.name, link.kind) for link in Links().list()}
    yield
    assert {(link.name, link.kind) for link in Links().list()} == before


def addr(text: str, dev: str) -> Address:
    return Address(ipaddress.ip_interface(text), dev=dev)


def lab_spec(host: str, a: str, b: str, gone: str) -> LabSpec:
    """Node host (bridge br0 with port p1 to a, up0 to b, and ghost0: never made), a, b, and c (gone)."""
    lab = Lab.model_validate(
        {
            "name": "g",
            "nodes": {
                "host": {
                    "interfaces": {
                        "br0": {"kind": "bridge", "addresses": ["10.20.0.1/24"]},
                        "ghost0": {"kind": "bridge"},
                        "p1": {"master": "br0"},
                        "up0": {"addresses": ["10.30.0.1/24", "fd00:30::1/64"]},
                    }
                },
                "a": {"interfaces": {"eth0": {"addresses": ["10.20.0.2/24"]}}},
                "b": {"interfaces": {"eth0": {"addresses": ["10.30.0.2/24", "fd00:30::2/64"]}}},
                "c": {"interfaces": {"eth0": {"addresses": ["10.40.0.2/24"]}}},
            },
            "links": [
                {"endpoints": ["host:p1", "a:eth0"]},
                {"endpoints": ["host:up0", "b:eth0"]},
                {"endpoints": ["host:ghost1", "c:eth0"]},
            ],
        }
    )
    return LabSpec(
        name="g",
        lab=lab,
        nodes=(
            NodeSpec(
                name="host",
                netns=host,
                links=(
                    Bridge(name="br0"),
                    Bridge(name="ghost0"),
                    Veth(name="p1", peer="eth0", peer_netns=a, master="br0"),
                    Veth(name="up0", peer="eth0", peer_netns=b),
                    Veth(name="ghost1", peer="eth0", peer_netns=gone),
                ),
                interfaces=("br0", "ghost0", "p1", "up0", "ghost1"),
                addresses=(
                    addr("10.20.0.1/24", "br0"),
                    addr("10.30.0.1/24", "up0"),
                    addr("fd00:30::1/64", "up0"),
                ),
            ),
            NodeSpec(name="a", netns=a, interfaces=("eth0",), addresses=(addr("10.20.0.2/24", "eth0"),)),
            NodeSpec(
                name="b",
                netns=b,
                interfaces=("eth0",),
                addresses=(addr("10.30.0.2/24", "eth0"), addr("fd00:30::2/64", "eth0")),
            ),
            NodeSpec(name="c", netns=gone, interfaces=("eth0",), addresses=(addr("10.40.0.2/24", "eth0"),)),
        ),
        publish=(Publish("host", 8080, "a", ipaddress.ip_address("10.20.0.2"), 80, "tcp"),),
    )


def build(host_ns: str, a: str, b: str, host: Host) -> None:
    """What the spec says but ghost0 and node c; plus a stray pair x0-x1 and an address nobody asked for."""
    links = Links(host_ns, host=host)
    links.add(Bridge(name="br0"))
    links.add_address("br0", "10.20.0.1/24")
    links.add(Veth(name="p1", peer="eth0", peer_netns=a, master="br0"))
    links.add(Veth(name="up0", peer="eth0", peer_netns=b))
    links.add_address("up0", "10.30.0.1/24")
    links.add_address("up0", "fd00:30::1/64")
    Links(a, host=host).add_address("eth0", "10.20.0.2/24")
    Links(b, host=host).add_address("eth0", "10.30.0.2/24")
    Links(b, host=host).add_address("eth0", "fd00:30::2/64")
    # Drift: a veth pair the file does not have, and a second address on a's eth0.
    links.add(Veth(name="x0", peer="x1", peer_netns=b))
    Links(a, host=host).add_address("eth0", "10.20.0.99/24")


def test_live_graph_marks_missing_extra_and_drifted(netns_factory: Factory) -> None:
    host_ns, a, b = netns_factory(), netns_factory(), netns_factory()
    gone = f"{host_ns}-gone"  # never made
    assert not _netns.exists(gone)
    spec = lab_spec(host_ns, a, b, gone)
    with Host() as host:
        build(host_ns, a, b, host)
        inv = inventory(namespaces=[host_ns, a, b], include_root=False, host=host)
    assert inv.namespaces == (host_ns, a, b)

    model = from_live(spec, inv)
    states = {f"{n.name}:{i.name}": i.state for n in model.nodes for i in n.interfaces}
    assert states == {
        "host:br0": "ok",
        "host:ghost0": "missing",
        "host:p1": "ok",
        "host:up0": "ok",  # IPv4 and IPv6 as declared; the kernel's fe80:: address is not drift
        "host:ghost1": "missing",
        "host:x0": "extra",
        "a:eth0": "drifted",
        "b:eth0": "ok",
        "b:x1": "extra",
        "c:eth0": "missing",
    }
    assert [n.state for n in model.nodes] == ["ok", "ok", "ok", "missing"]
    eth0 = model.node("a").interface("eth0")
    assert eth0 is not None
    assert eth0.notes == ("extra 10.20.0.99/24",)
    edges = {(e.kind, str(e.a), str(e.b)): e.state for e in model.edges}
    assert edges == {
        ("veth", "host:p1", "a:eth0"): "ok",
        ("veth", "host:up0", "b:eth0"): "ok",
        ("veth", "host:ghost1", "c:eth0"): "missing",
        ("port", "host:p1", "host:br0"): "ok",
        ("veth", "host:x0", "b:x1"): "extra",
    }
    # The file alone has none of this drift.
    assert not from_spec(spec).drift
    assert model.drift

    # Drawn: Mermaid classes and Graphviz colours follow the states.
    mermaid = to_mermaid(model)
    assert "classDef missing" in mermaid
    assert "classDef extra" in mermaid
    assert "classDef drifted" in mermaid
    assert "fd00:30::1/64" in mermaid
    assert "8080/tcp -> 80" in mermaid
    with Host() as host:
        svg = to_svg(model, host.runner)
    strokes = _node_strokes(svg)
    assert strokes["host:ghost0"] == ("red", True)
    assert strokes["host:x0"] == ("darkorange", False)
    assert strokes["host:br0"] == ("black", False)
    assert "cluster_c" in svg.decode()
    assert '"host:x0" -> "b:x1"' in to_dot(model)


def _node_strokes(svg: bytes) -> dict[str, tuple[str, bool]]:
    """Each drawn node's outline colour and whether it is dashed, by its title."""
    out = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):  # noqa: S314 - Graphviz's own output, made by this test
        if group.get("class") != "node":
            continue
        title = group.find(f"{SVG}title")
        shape = next((el for el in group if el.tag in (f"{SVG}polygon", f"{SVG}path")), None)
        if title is None or title.text is None or shape is None:
            continue
        out[title.text] = (shape.get("stroke", ""), shape.get("stroke-dasharray") is not None)
    return out
