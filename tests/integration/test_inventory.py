"""``inventory`` against the real kernel: veth peers and lower devices found across namespaces.

Every link is made inside namespaces from ``netns_factory`` (deleted after
each test, leaks fail the test); the root namespace is only read, and each
test proves its links are the same afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from vnetkit.errors import NotFound
from vnetkit.exec import default_runner
from vnetkit.links import Bridge, Links, Veth
from vnetkit.links.inventory import Ref, inventory

pytestmark = pytest.mark.integration

Factory = Callable[[], str]


@pytest.fixture(autouse=True)
def root_namespace_untouched() -> Iterator[None]:
    """Reading the root namespace is allowed; changing it is not: its links must stay as they were."""
    before = {(link.name, link.kind) for link in Links().list()}
    yield
    assert {(link.name, link.kind) for link in Links().list()} == before


def docker_like(netns_factory: Factory) -> tuple[str, list[str]]:
    """A host namespace with br0 and three containers, each eth0 made directly in its namespace."""
    host = netns_factory()
    containers = [netns_factory() for _ in range(3)]
    links = Links(host)
    links.add(Bridge(name="br0"))
    links.add_address("br0", "172.18.0.1/16")
    for n, container in enumerate(containers, start=1):
        links.add(Veth(name=f"veth-c{n}", peer="eth0", peer_netns=container, master="br0"))
        Links(container).add_address("eth0", f"172.18.0.{n + 1}/16")
    return host, containers


def test_each_bridge_port_maps_to_its_container(netns_factory: Factory) -> None:
    host, containers = docker_like(netns_factory)
    inv = inventory(namespaces=[host, *containers])
    assert inv.namespaces == (None, host, *containers)
    ports = inv.ports("br0", host)
    assert [port.name for port in ports] == ["veth-c1", "veth-c2", "veth-c3"]
    for n, (port, container) in enumerate(zip(ports, containers, strict=True), start=1):
        assert port.peer is not None
        assert (port.peer.netns, port.peer.name, port.peer.located) == (container, "eth0", True)
        eth0 = inv.peer_of(port)
        assert eth0 is not None
        assert (eth0.netns, eth0.name) == (container, "eth0")
        assert f"172.18.0.{n + 1}/16" in eth0.addresses
        assert eth0.peer is not None
        assert (eth0.peer.netns, eth0.peer.name) == (host, f"veth-c{n}")
        assert str(eth0.peer) == f"{host}:veth-c{n}"


def test_pairs_list_each_pair_once_host_side_first(netns_factory: Factory) -> None:
    host, containers = docker_like(netns_factory)
    inv = inventory(namespaces=[host, *containers], include_root=False)
    pairs = [(str(a), str(b)) for a, b in inv.pairs()]
    assert pairs == [(f"{host}:veth-c{n}", f"{c}:eth0") for n, c in enumerate(containers, start=1)]


def test_default_reads_every_named_namespace(netns_factory: Factory) -> None:
    host, containers = docker_like(netns_factory)
    inv = inventory()
    assert inv.namespaces[0] is None
    assert inv.find("lo") is not None  # the root namespace, read only
    for n, container in enumerate(containers, start=1):
        eth0 = inv.find("eth0", container)
        assert eth0 is not None
        assert str(eth0.peer) == f"{host}:veth-c{n}"


def test_peer_in_a_namespace_that_was_not_read(netns_factory: Factory) -> None:
    host, containers = docker_like(netns_factory)
    inv = inventory(namespaces=[containers[0]], include_root=False)
    assert inv.namespaces == (containers[0],)
    eth0 = inv.find("eth0", containers[0])
    assert eth0 is not None
    port = Links(host).get("veth-c1")
    assert eth0.peer == Ref(netns=host, index=port.index, name="veth-c1", netnsid=eth0.link.link_netnsid)
    assert inv.peer_of(eth0) is None  # located and named, but not part of this snapshot


def test_ends_with_the_same_ifindex(netns_factory: Factory) -> None:
    a, b = netns_factory(), netns_factory()
    Links(a).add(Veth(name="x", peer="y", peer_netns=b))
    inv = inventory(namespaces=[a, b], include_root=False)
    x, y = inv.find("x", a), inv.find("y", b)
    assert x is not None
    assert y is not None
    assert inv.peer_of(x) == y
    assert inv.peer_of(y) == x
    assert [(str(p), str(q)) for p, q in inv.pairs()] == [(f"{a}:x", f"{b}:y")]


def test_pair_inside_one_namespace(netns_factory: Factory) -> None:
    lab = netns_factory()
    Links(lab).add(Veth(name="a0", peer="a1", peer_netns=lab))
    inv = inventory(namespaces=[lab], include_root=False)
    a0 = inv.find("a0", lab)
    assert a0 is not None
    assert a0.peer is not None
    assert (a0.peer.netns, a0.peer.name, a0.peer.netnsid) == (lab, "a1", None)
    assert len(inv.pairs()) == 1


def test_lower_device_in_another_namespace(netns_factory: Factory) -> None:
    host, vm = netns_factory(), netns_factory()
    Links(host).add(Veth(name="up0", peer="up1", peer_netns=host))
    # Made directly in ``vm`` on top of ``up0`` in ``host`` (ip does this in one request).
    argv = (
        "ip",
        "link",
        "add",
        "link",
        "up0",
        "name",
        "mv0",
        "netns",
        vm,
        "type",
        "macvlan",
        "mode",
        "bridge",
    )
    done = default_runner().run(argv, netns=host)
    assert done.returncode == 0, done.stderr
    inv = inventory(namespaces=[host, vm], include_root=False)
    mv0 = inv.find("mv0", vm)
    assert mv0 is not None
    assert mv0.peer is None
    assert mv0.lower is not None
    assert (mv0.lower.netns, mv0.lower.name) == (host, "up0")
    assert inv.resolve(mv0.lower) == inv.find("up0", host)


def test_reading_leaves_no_thread_behind(netns_factory: Factory) -> None:
    host, _ = docker_like(netns_factory)
    Links(host).list()  # the default runner's own worker, made before counting
    before = threading.active_count()
    inventory()
    assert threading.active_count() == before


def test_a_missing_namespace_asked_for_by_name(netns_factory: Factory) -> None:
    lab = netns_factory()
    with pytest.raises(NotFound, match="does not exist"):
        inventory(namespaces=[lab, f"{lab}-missing"])
