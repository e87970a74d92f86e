"""``read_state`` on the real kernel: exactly what the single reads return, in three dumps, and how fast.

The differential: a namespace holding every link kind this kernel has (a
veth pair across namespaces and one inside, bridges with ports, hairpin on
one, vxlan over IPv4 and IPv6, macvlans, a macvtap, an ifb, a tun and a
tap), IPv4 and IPv6 addresses with flags, routes of both families with
gateways and metrics in several tables; ``read_state`` must equal
``Links.list()``, ``address_list()`` and ``route_list(table=...)``, records
compared whole. The kernel changes some things by itself (DAD clears
``tentative``, linkwatch settles operational states), so each comparison is
made between two reads the old way that agree with each other.

The benchmark (printed, not asserted on time: this machine is shared):
100 container-like namespaces (``lo`` and an ``eth0`` veth whose peer is a
port of a bridge in a hub namespace, an address and a default route), read
the old way and with ``read_state``, per namespace; and the hub (a bridge
and its 100 ports). Every namespace is made by the fixtures, never
connected to the root namespace, and deleted afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from vnetkit.exec.netlink import NLM_F_DUMP, default_netlink
from vnetkit.links import Address, Bridge, Ifb, Links, Macvlan, Macvtap, Route, Tuntap, Veth, Vxlan, messages
from vnetkit.links.state import MAIN, NamespaceState, read_state

pytestmark = pytest.mark.integration

Factory = Callable[[], str]
_NLM_F_DUMP_FILTERED = 0x20
_SETTLE_TRIES = 50


def the_old_way(links: Links, table: int) -> NamespaceState:
    return NamespaceState(links.list(), links.address_list(), links.route_list(table=table), table)


def assert_same(links: Links, table: int = MAIN) -> NamespaceState:
    """``read_state`` equals the single reads, taken between two of them that agree."""
    for _ in range(_SETTLE_TRIES):
        before = the_old_way(links, table)
        got = read_state(links, table=table)
        after = the_old_way(links, table)
        if before == after:
            assert got == before
            return got
        time.sleep(0.1)  # the kernel is still settling something (DAD, linkwatch)
    pytest.fail(f"{links.netns} never held still long enough to compare")


def _root_view() -> tuple[frozenset[tuple[int, str]], frozenset[str]]:
    state = read_state(Links())  # reading the root namespace only
    return frozenset((link.index, link.name) for link in state.links), frozenset(
        f"{address.interface} {address.dev}" for address in state.addresses
    )


@pytest.fixture(autouse=True)
def _root_namespace_untouched() -> Iterator[None]:
    before = _root_view()
    yield
    assert _root_view() == before, "the ROOT namespace's links or addresses changed"


@pytest.fixture
def every_kind(netns_factory: Factory) -> tuple[Links, Links]:
    """Namespaces ``a`` (every kind, addresses, routes in tables main, 100 and 1000) and ``b``."""
    a, b = Links(netns_factory()), Links(netns_factory())
    a.add(Bridge(name="br0", ageing=30))
    a.add(Veth(name="veth-b", peer="eth0", peer_netns=b.netns, master="br0", hairpin=True, mtu=1400))
    a.add(Veth(name="p1", peer="p2", mac="02:00:00:00:01:01"))
    a.add(Bridge(name="br1", stp=True, ports=("p1",)))
    a.add(Vxlan(name="vx0", vni=42, remote="10.1.1.2", local="10.1.1.1", dev="p2", up=False))
    a.add(Vxlan(name="vx6", vni=43, local="2001:db8:ff::1", remote="2001:db8:ff::2", ttl=9, learning=False))
    a.set_down("vx6")  # quiet: an up vxlan sends what IPv6 sends, to its remote
    a.add(Macvlan(name="mv0", link="p2", mode="private", mtu=1300))
    a.add(Macvlan(name="mv1", link="p2", mode="bridge"))
    a.add(Macvtap(name="mt0", link="p2", mode="vepa"))
    a.add(Ifb(name="ifb0", master="br0"))
    a.add(Tuntap(name="tap0", mode="tap", owner=65534, multi_queue=True))
    a.add(Tuntap(name="tun0", mode="tun", up=False))
    a.add(Veth(name="w1", peer="w2", up=False, alias="vnetkit:lab:n:w1", ifgroup=7))
    a.add_address("br0", "172.18.0.1/16")
    a.add_address("br0", "fd00:18::1/64")
    a.add_address("p2", "10.0.0.1/24")
    a.add_address("p2", "10.0.0.2/24")  # a secondary
    a.add_address("p2", Address.parse("2001:db8:2::1/64 nodad"))
    a.add_address("p2", Address.parse("2001:db8:3::1/64 noprefixroute"))
    a.add_address("p2", Address.parse("10.0.12.1/24 scope link noprefixroute"))
    b.add_address("eth0", "172.18.0.5/16")
    b.add_address("eth0", Address.parse("fd00:18::5/64 nodad"))
    a.add_route("default", via="172.18.0.254")
    a.add_route("10.5.0.0/16", via="10.0.0.254", metric=10)
    a.add_route("10.5.0.0/16", via="10.0.0.253", metric=20)
    a.add_route("10.6.0.0/16", dev="p2", table=100)
    a.add_route("default", dev="p2", table=100)
    a.add_route("10.7.0.0/16", dev="p2", table=1000)  # above 255: rtm_table says 252
    a.add_route("2001:db8:5::/48", via="2001:db8:2::fe", metric=7)
    a.add_route("default", via="2001:db8:2::fe")
    a.add_route(Route.parse("unreachable 2001:db8:66::/48"))
    a.add_route(Route.parse("blackhole 10.66.0.0/16"))
    a.add_route(Route.parse("prohibit 10.67.0.0/16 table 100"))
    a.add_route(Route.parse("10.68.0.0/16 dev p2 proto static scope global"))
    b.add_route("default", via="172.18.0.1")
    b.add_route("2001:db8:9::/48", via="fd00:18::1", metric=300)
    return a, b


@pytest.mark.parametrize("table", [MAIN, 100, 1000, 252, 255])
def test_it_reads_exactly_what_the_single_reads_return(every_kind: tuple[Links, Links], table: int) -> None:
    a, b = every_kind
    state = assert_same(a, table)
    # Not vacuous: what the comparison covered.
    kinds = {link.kind for link in state.links}
    assert kinds >= {"loopback", "bridge", "veth", "vxlan", "macvlan", "macvtap", "ifb", "tun"}
    named = {link.name: link for link in state.links}
    assert (named["veth-b"].hairpin, named["p1"].hairpin, named["ifb0"].hairpin) == (True, False, False)
    assert (named["veth-b"].link_netnsid is not None, named["p1"].info) == (True, {"peer": "p2"})
    assert (named["tap0"].info["mode"], named["tap0"].info["owner"], named["tun0"].mac) == (
        "tap",
        65534,
        None,
    )
    assert (named["vx6"].info["local"], named["vx6"].info["ttl"]) == ("2001:db8:ff::1", 9)
    assert (named["w1"].alias, named["w1"].group) == ("vnetkit:lab:n:w1", 7)
    assert {"noprefixroute", "secondary", "nodad"} <= {flag for x in state.addresses for flag in x.flags}
    assert {route.table for route in state.routes} == ({table} if table != 252 else set())
    wanted = {
        MAIN: {
            "10.5.0.0/16 via 10.0.0.253 dev p2 metric 20",
            "2001:db8:5::/48 via 2001:db8:2::fe dev p2 metric 7",
        },
        100: {"default dev p2 table 100 scope link", "prohibit 10.67.0.0/16 table 100"},
        1000: {"10.7.0.0/16 dev p2 table 1000 scope link"},
        252: set(),
        255: {"local 10.0.0.2 dev p2 table local proto kernel scope host"},
    }[table]
    assert wanted <= {str(route) for route in state.routes}
    b_state = assert_same(b, table)
    assert [link.name for link in b_state.links] == ["lo", "eth0"]


def test_the_kernel_sends_less(every_kind: tuple[Links, Links]) -> None:
    a, _ = every_kind
    netlink = default_netlink()
    routes = netlink.exchange(
        a.netns, "dump", messages.routes_of_table(100), messages.RTM_GETROUTE, NLM_F_DUMP
    )
    assert routes
    assert all(int.from_bytes(reply[6:8], "little") & _NLM_F_DUMP_FILTERED for reply in routes)
    assert len(routes) == len(a.route_list(table=100))  # nothing of another table came
    # The mask drops the statistics inside IFLA_AF_SPEC (IPv6's, the largest part); IFLA_STATS and
    # IFLA_STATS64 the kernel sends whatever the mask says, and the reader steps over them unread.
    masked = netlink.exchange(a.netns, "dump", messages.link_dump(), messages.RTM_GETLINK, NLM_F_DUMP)
    everything = messages.link([("IFLA_EXT_MASK", 0)])
    full = netlink.exchange(a.netns, "dump", everything, messages.RTM_GETLINK, NLM_F_DUMP)
    assert len(masked) == len(full)
    assert all(len(short) < len(whole) for short, whole in zip(masked, full, strict=True))


# -- the micro-benchmark ----------------------------------------------------------------------------

CONTAINERS = 100


def _per_namespace(fn: Callable[[], object], count: int, passes: int = 3) -> float:
    """The best of ``passes`` runs of ``fn`` (one pass over every namespace), in ms per namespace."""
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best / count * 1e3


def test_benchmark_old_and_new_over_a_hundred_namespaces(netns_factory: Factory) -> None:
    hub = Links(netns_factory())
    hub.add(Bridge(name="br0"))
    hub.add_address("br0", "172.18.0.1/16")
    containers = []
    for i in range(CONTAINERS):
        name = netns_factory()
        hub.add(Veth(name=f"veth{i}", peer="eth0", peer_netns=name, master="br0"))
        container = Links(name)
        container.add_address("eth0", f"172.18.{(i + 2) // 256}.{(i + 2) % 256}/16")
        container.add_route("default", via="172.18.0.1")
        containers.append(container)

    for container in containers:  # the same records both ways, in every namespace
        assert_same(container)
    assert_same(hub)
    one = read_state(containers[0])
    assert [link.name for link in one.links] == ["lo", "eth0"]

    old = _per_namespace(lambda: [the_old_way(c, MAIN) for c in containers], CONTAINERS)
    new = _per_namespace(lambda: [read_state(c) for c in containers], CONTAINERS)
    hub_old = _per_namespace(lambda: the_old_way(hub, MAIN), 1)
    hub_new = _per_namespace(lambda: read_state(hub), 1)
    print(
        f"\nread_state over {CONTAINERS} container namespaces "
        f"({len(one.links)} links, {len(one.addresses)} addresses, {len(one.routes)} main routes each): "
        f"old {old:.3f} ms, new {new:.3f} ms per namespace ({old / new:.1f}x); "
        f"the hub (a bridge and {CONTAINERS} ports): old {hub_old:.2f} ms, new {hub_new:.2f} ms"
    )
