"""``Links``, the inventory and the link planner on ``FakeNetlink``: no root, no kernel.

The fake is proved against the real kernel by
``tests/integration/test_fake_netlink.py``; these tests pin down, without
root, what each part of it models, through the public API a user has:
``Links`` (and raw ``exchange`` where only the protocol says it), the
inventory and ``plan_links``/``execute``. Named namespaces are found by
their files, as by the real backend: the namespace directory points at a
temporary one holding a file per namespace. Each test has its own ``Host``,
so what one fake kernel lacks is not remembered for the next test.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vnetkit.errors import (
    AlreadyExists,
    ConfigError,
    InUse,
    NotFound,
    OperationError,
    PermissionDenied,
    UnsupportedError,
)
from vnetkit.exec import FakeNetlink, runner
from vnetkit.exec import netns as netns_module
from vnetkit.exec.host import Host
from vnetkit.exec.netlink import NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL, Netlink
from vnetkit.links import (
    Bridge,
    Ifb,
    Links,
    Macvlan,
    Macvtap,
    Veth,
    Vlan,
    Vxlan,
    execute,
    inventory,
    messages,
    plan_links,
)
from vnetkit.model import Address, Route

MAC = "02:00:00:00:00:01"
Make = Callable[[str | None], Links]


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A namespace directory of our own: a file per namespace, as /run/netns has one."""
    monkeypatch.setattr(runner, "NETNS_RUN_DIR", str(tmp_path))
    monkeypatch.setattr(netns_module, "NETNS_RUN_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def fake(run_dir: Path) -> FakeNetlink:
    """A fake kernel with namespaces ``a`` and ``b`` besides the caller's own."""
    backend = FakeNetlink(seed=9)
    for name in ("a", "b"):
        (run_dir / name).touch()
        backend.add_namespace(name)
    return backend


@pytest.fixture
def host() -> Iterator[Host]:
    with Host() as made:
        yield made


@pytest.fixture
def links(fake: FakeNetlink, host: Host) -> Make:
    return lambda netns: Links(netns, backend=fake, host=host)


def test_it_is_a_netlink_backend(fake: FakeNetlink) -> None:
    backend: Netlink = fake
    assert backend is fake
    assert fake.namespaces == ["a", "b"]


# -- links ----------------------------------------------------------------------------------


def test_every_kind_reads_back_as_the_kernel_reports_it(links: Make) -> None:
    a = links("a")
    a.add(Bridge(name="br0", ageing=30))
    a.add(Veth(name="veth0", peer="eth0", peer_netns="b", master="br0", mtu=1400))
    a.add(Veth(name="p1", peer="p2"))
    a.add(Vxlan(name="vx0", vni=42, remote="10.1.1.2", dev="p2"))
    a.add(Macvlan(name="mv0", link="p2", mode="private"))
    a.add(Macvtap(name="mt0", link="p2"))
    a.add(Ifb(name="ifb0"))
    got = {link.name: link for link in a.list()}
    assert [(link.index, link.name, link.kind) for link in got.values()] == [
        (1, "lo", "loopback"),
        (2, "br0", "bridge"),
        (3, "veth0", "veth"),
        (4, "p2", "veth"),  # a veth's peer is registered first
        (5, "p1", "veth"),
        (6, "vx0", "vxlan"),
        (7, "mv0", "macvlan"),
        (8, "mt0", "macvtap"),
        (9, "ifb0", "ifb"),
    ]
    assert {name: link.state for name, link in got.items()} == {
        "lo": "UNKNOWN",
        "br0": "UP",
        "veth0": "UP",
        "p2": "UP",
        "p1": "UP",
        "vx0": "UNKNOWN",  # never changes carrier, so linkwatch never names a state
        "mv0": "UP",
        "mt0": "UP",
        "ifb0": "UNKNOWN",
    }
    assert got["br0"].mtu == 1400  # its one port's
    assert got["br0"].mac == got["veth0"].mac
    assert got["br0"].info == {"stp": False, "vlan_filtering": False, "ageing": 30.0}
    assert (got["veth0"].master, got["veth0"].link_index, got["veth0"].link_netnsid) == ("br0", 2, 0)
    assert got["p1"].info == {"peer": "p2"}
    assert (got["vx0"].mtu, got["vx0"].info["link"], got["vx0"].info["vxlan_id"]) == (1450, 4, 42)
    assert (got["mv0"].link_index, got["mv0"].info, got["mt0"].info) == (
        4,
        {"mode": "private"},
        {"mode": "bridge"},
    )
    [eth0] = [link for link in links("b").list() if link.name == "eth0"]
    assert (eth0.mtu, eth0.link_index, eth0.link_netnsid, eth0.state) == (1500, 3, 0, "UP")
    assert a.get("p1") == got["p1"]


def test_macs_are_random_locally_administered_and_a_seed_repeats_them(run_dir: Path, host: Host) -> None:
    def macs(seed: int) -> list[str | None]:
        backend = FakeNetlink(seed=seed)
        Links(backend=backend, host=host).add(Veth(name="v0", peer="v1"))
        return [link.mac for link in Links(backend=backend, host=host).list()[1:]]

    first = macs(1)
    assert first == macs(1) != macs(2)
    for mac in first:
        assert mac is not None
        assert int(mac[:2], 16) & 0x03 == 0x02  # unicast, locally administered


def test_carrier_and_operational_state_follow_the_kernels_rules(links: Make) -> None:
    a, b = links("a"), links("b")
    a.add(Veth(name="p1", peer="p2", peer_up=False))
    a.add(Macvlan(name="mv0", link="p1"))
    a.add(Veth(name="x1", peer="x2", peer_netns="b", peer_up=False))
    a.add(Bridge(name="br0"))
    state = {link.name: link.state for link in a.list()}
    # p1 is up but its peer is not, and the peer has no carrier: "lower layer down". x1's peer
    # is x2 (ifindex 2) in b, but the kernel looks 2 up in a: p2, without a carrier either.
    assert (state["p1"], state["p2"], state["mv0"], state["x1"], state["br0"]) == (
        "LOWERLAYERDOWN",
        "DOWN",
        "LOWERLAYERDOWN",
        "LOWERLAYERDOWN",
        "UNKNOWN",
    )
    a.set_up("p2")
    b.set_up("x2")
    state = {link.name: link.state for link in a.list()}
    assert (state["p1"], state["mv0"], state["x1"]) == ("UP", "UP", "UP")
    a.add(Veth(name="q1", peer="q2", peer_up=False, master="br0"))
    assert a.get("br0").state == "DOWN"  # its one port has no carrier
    a.set_up("q2")
    assert a.get("br0").state == "UP"


def test_a_bridge_follows_its_ports(links: Make) -> None:
    a = links("a")
    a.add(Bridge(name="br0"))
    a.add(Veth(name="p1", peer="p2", mac=MAC, mtu=1400, master="br0"))
    a.add(Veth(name="q1", peer="q2", mtu=1600, master="br0"))
    br0 = a.get("br0")
    assert (br0.mac, br0.mtu, br0.state) == (MAC, 1400, "UP")
    # Its link-local address was made when it came up, from the MAC it had then: a random one.
    [link_local] = br0.addresses
    assert ipaddress.ip_interface(link_local).ip.is_link_local
    assert link_local != "fe80::ff:fe00:1/64"
    a.set_nomaster("p1")
    a.set_nomaster("q1")
    br0 = a.get("br0")
    assert (br0.mac, br0.mtu, br0.state) == ("00:00:00:00:00:00", 1500, "DOWN")  # as the kernel leaves it
    a.set_mtu("br0", 1300)  # set by the user: no longer follows the ports
    a.set_master("q1", "br0")
    assert a.get("br0").mtu == 1300


def test_failures_after_registration_use_up_ifindexes(links: Make) -> None:
    a = links("a")
    a.add(Ifb(name="ifb0"))
    with pytest.raises(UnsupportedError):  # a veth cannot be a port of an ifb
        a.add(Veth(name="x1", peer="x2", master="ifb0"))
    with pytest.raises(AlreadyExists):  # refused before registration: no index used
        a.add(Ifb(name="ifb0"))
    a.add(Ifb(name="ifb1"))
    assert a.index("ifb1") == 5  # 3 and 4 went to x2 and x1, made and unmade


def test_refusals_carry_the_kernels_errno_and_words(links: Make) -> None:
    a = links("a")
    a.add(Bridge(name="br0"))
    a.add(Veth(name="p1", peer="p2", master="br0"))
    a.add(Macvlan(name="mv0", link="p2"))
    with pytest.raises(AlreadyExists, match=r"create veth p1 in netns a: File exists$"):
        a.add(Veth(name="p1", peer="zz"))
    with pytest.raises(OperationError, match=r"Can not enslave a bridge to a bridge"):
        a.add(Bridge(name="br1", master="br0"))
    with pytest.raises(InUse, match=r"p1 is a port of br0"):
        a.add(Macvlan(name="mv1", link="p1"))
    with pytest.raises(InUse):
        a.set_master("p2", "br0")  # it carries a macvlan
    with pytest.raises(UnsupportedError, match=r"delete lo in netns a: Operation not supported"):
        a.delete("lo")
    with pytest.raises(NotFound, match=r"set state up of nope in netns a: No such device"):
        a.set_up("nope")
    a.add(Vxlan(name="vx0", vni=1, remote="10.0.0.2"))
    with pytest.raises(ConfigError, match=r"\(mtu greater than device maximum\)"):
        a.set_mtu("vx0", 65535)
    with pytest.raises(AlreadyExists, match=r"A VXLAN device with the specified VNI already exists"):
        a.add(Vxlan(name="vx1", vni=1, remote="10.0.0.3"))
    with pytest.raises(NotFound, match=r"Cannot assign requested address"):
        a.set_mac("p1", "01:00:00:00:00:01")
    with pytest.raises(UnsupportedError, match=r"this kernel lacks 802.1Q vlan devices"):
        a.add(Vlan(name="v10", link="p2", id=10))
    with pytest.raises(NotFound, match=r"network namespace 'gone' does not exist"):
        Links("gone", backend=a._nl).list()


def test_deletes_take_along_what_cannot_live_without_the_link(fake: FakeNetlink, links: Make) -> None:
    a, b = links("a"), links("b")
    a.add(Bridge(name="br0"))
    a.add(Veth(name="p1", peer="p2", master="br0"))
    a.add(Vxlan(name="vx0", vni=5, remote="10.0.0.2", dev="p2"))
    a.add(Macvlan(name="mv0", link="p2"))
    a.add(Veth(name="x1", peer="x2", peer_netns="b"))
    a.delete("p2")
    assert [link.name for link in a.list()] == ["lo", "br0", "x1"]
    b.delete("x2")
    assert [link.name for link in a.list()] == ["lo", "br0"]
    a.add(Veth(name="g1", peer="g2", ifgroup=7, master="br0"))
    a.add(Ifb(name="g3", ifgroup=7))
    before = len(fake.requests)
    assert a.delete_group(7) == 2
    assert [request[1] for request in fake.requests[before:]] == [18, 17]  # a dump, then one bulk delete
    assert [link.name for link in a.list()] == ["lo", "br0"]
    with pytest.raises(PermissionDenied):
        a.delete_group(0)  # lo is in group 0: the kernel refuses the whole group


# -- addresses, routes, neighbours ---------------------------------------------------------------


def test_ipv4_addresses_bring_their_routes(links: Make) -> None:
    a = links("a")
    a.add(Veth(name="p1", peer="p2"))
    a.add_address("p1", "10.0.0.1/24")
    a.add_address("p1", "10.0.0.2/24")  # same subnet: secondary
    a.add_address("p1", "10.0.9.1/32")
    assert [
        (str(x.interface), sorted(x.flags)) for x in a.address_list("p1") if x.interface.version == 4
    ] == [
        ("10.0.0.1/24", ["permanent"]),
        ("10.0.9.1/32", ["permanent"]),
        ("10.0.0.2/24", ["permanent", "secondary"]),
    ]
    routes = [str(r) for r in a.route_list(family=socket.AF_INET)]
    assert routes == [
        "10.0.0.0/24 dev p1 proto kernel scope link",
        "local 10.0.0.1 dev p1 table local proto kernel scope host",
        "local 10.0.0.2 dev p1 table local proto kernel scope host",
        "broadcast 10.0.0.255 dev p1 table local proto kernel scope link",
        "local 10.0.9.1 dev p1 table local proto kernel scope host",  # a /32: no prefix route
        "local 127.0.0.0/8 dev lo table local proto kernel scope host",
        "local 127.0.0.1 dev lo table local proto kernel scope host",
        "broadcast 127.255.255.255 dev lo table local proto kernel scope link",
    ]
    a.set_down("p1")  # the prefix and broadcast routes go; local routes and addresses stay
    assert [str(r) for r in a.route_list(family=socket.AF_INET, table=254)] == []
    a.set_up("p1")
    a.delete_address("p1", "10.0.0.1/24")  # the primary takes its secondary along
    assert [str(x.interface) for x in a.address_list("p1") if x.interface.version == 4] == ["10.0.9.1/32"]
    with pytest.raises(NotFound, match=r"\(ipv4: Address not found\)"):
        a.delete_address("p1", "10.0.0.1/24")


def test_ipv6_link_local_and_tentative_addresses(links: Make) -> None:
    a = links("a")
    a.add(Veth(name="p1", peer="p2", mac=MAC, peer_up=False))
    a.add_address("p1", "2001:db8::1/64")
    [tentative] = a.address_list("p1")
    assert sorted(tentative.flags) == ["permanent", "tentative"]  # no carrier: DAD waits
    a.set_up("p2")
    assert [(str(x.interface), x.scope, sorted(x.flags)) for x in a.address_list("p1")] == [
        ("2001:db8::1/64", "global", ["permanent"]),
        ("fe80::ff:fe00:1/64", "link", ["permanent"]),  # EUI-64 of the MAC
    ]
    six = [str(r) for r in a.route_list(family=socket.AF_INET6)]
    assert "2001:db8::/64 dev p1 proto kernel metric 256" in six[0]
    assert any(r.startswith("fe80::/64 dev p1") for r in six)
    assert any(r.startswith("local fe80::ff:fe00:1 dev p1 table local") for r in six)
    assert any(r.startswith("multicast ff00::/8 dev p1 table local") for r in six)
    with pytest.raises(AlreadyExists, match=r"\(ipv6: address already assigned\)"):
        a.add_address("p1", "2001:db8::1/48")
    a.set_down("p1")  # IPv6 addresses go with the link
    assert [str(x.interface) for x in a.address_list("p1")] == []


def test_routes_are_checked_as_the_kernel_checks_them(links: Make) -> None:
    a = links("a")
    a.add(Veth(name="p1", peer="p2"))
    a.add_address("p1", "10.0.0.1/24")
    a.add_address("p1", "2001:db8::1/64")
    a.add_route("default", via="10.0.0.254")
    a.add_route("2001:db8:5::/48", via="2001:db8::fe", metric=5)
    a.add_route(Route.parse("blackhole 10.66.0.0/16"))
    a.add_route("10.6.0.0/16", dev="p1", table=100)
    main = [str(r) for r in a.route_list(table=254)]
    assert "default via 10.0.0.254 dev p1" in main  # the device found from the gateway
    assert "blackhole 10.66.0.0/16" in main
    assert "2001:db8:5::/48 via 2001:db8::fe dev p1 metric 5" in main
    assert [str(r) for r in a.route_list(table=100)] == ["10.6.0.0/16 dev p1 table 100 scope link"]
    with pytest.raises(AlreadyExists):
        a.add_route("default", via="10.0.0.253")  # same table, prefix and metric
    with pytest.raises(OperationError, match=r"Network is unreachable \(Nexthop has invalid gateway\)"):
        a.add_route("10.7.0.0/16", via="10.9.9.9")
    with pytest.raises(OperationError, match=r"No route to host"):
        a.add_route("2001:db8:7::/48", via="2001:db8:9::9")
    with pytest.raises(NotFound, match=r"No such process"):
        a.delete_route("10.8.0.0/16", via="10.0.0.254")
    a.delete_route("default", via="10.0.0.254")
    assert a.ensure_route("default", via="10.0.0.254") is True
    assert a.ensure_route("default", via="10.0.0.254") is False
    a.set_down("p1")  # routes through a link that goes down go
    assert [str(r) for r in a.route_list(table=254) if r.dev != "p2"] == ["blackhole 10.66.0.0/16"]


def test_neighbours_are_permanent_and_go_when_their_link_goes_down(links: Make) -> None:
    a = links("a")
    a.add(Veth(name="p1", peer="p2"))
    a.add_neighbour("p1", "10.0.0.9", MAC)
    a.add_neighbour("p1", "2001:db8::9", MAC)
    assert [str(n) for n in a.neighbour_list()] == [
        f"10.0.0.9 dev p1 lladdr {MAC} PERMANENT",
        f"2001:db8::9 dev p1 lladdr {MAC} PERMANENT",
    ]
    with pytest.raises(AlreadyExists):
        a.add_neighbour("p1", "10.0.0.9", MAC)
    a.set_down("p2")  # the peer: p1 loses its carrier, and keeps its entries
    assert len(a.neighbour_list()) == 2
    a.set_down("p1")
    assert a.neighbour_list() == []


def test_deprecated_reads_work_too(links: Make) -> None:
    a = links("a")
    a.add(Veth(name="p1", peer="p2"))
    a.add_address("p1", Address.parse("10.0.0.1/24"))
    with pytest.warns(DeprecationWarning, match="use Links.address_list"):
        assert "10.0.0.1/24" in a.addresses("p1")
    with pytest.warns(DeprecationWarning, match="use Links.route_list"):
        assert {"dst": "10.0.0.0/24", "dev": "p1"}.items() <= a.routes(table=254)[0].items()


# -- the protocol ---------------------------------------------------------------------------------


def test_an_echoed_create_answers_with_the_new_link(fake: FakeNetlink) -> None:
    request = messages.link([("IFLA_IFNAME", "e0"), messages.link_info("ifb")])
    [reply] = fake.exchange(
        "a", "create e0", request, messages.RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO
    )
    assert messages.ifindex_of(reply) == 2
    request = messages.link([("IFLA_IFNAME", "e1"), messages.link_info("ifb")])
    assert fake.exchange("a", "create e1", request, messages.RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL) == []


def test_namespace_ids_as_each_namespace_gives_them(fake: FakeNetlink, links: Make, run_dir: Path) -> None:
    links("a").add(Veth(name="x1", peer="x2", peer_netns="b"))

    def nsid(view: str, target: str) -> object:
        fd = os.open(run_dir / target, os.O_RDONLY)
        try:
            return messages.nsid_of(fake.exchange(view, "id", messages.netnsid(fd), messages.RTM_GETNSID, 0))
        finally:
            os.close(fd)

    assert nsid("a", "b") == 0xFFFFFFFF  # not given until a reply names it
    links("a").list()
    assert (nsid("a", "b"), nsid("b", "a"), nsid("a", "a")) == (0, 0xFFFFFFFF, 0xFFFFFFFF)


def test_inventory_finds_peers_across_namespaces(fake: FakeNetlink, host: Host) -> None:
    a = Links("a", backend=fake, host=host)
    a.add(Bridge(name="br0"))
    a.add(Veth(name="veth-b", peer="eth0", peer_netns="b", master="br0"))
    a.add(Veth(name="p1", peer="p2"))
    seen = inventory(namespaces=["a", "b"], include_root=False, backend=fake)
    assert [(str(one), str(other)) for one, other in seen.pairs()] == [
        ("a:veth-b", "b:eth0"),
        ("a:p2", "a:p1"),
    ]
    assert [str(port) for port in seen.ports("br0", "a")] == ["a:veth-b"]
    [eth0] = [entry for entry in seen.of("b") if entry.name == "eth0"]
    assert str(eth0.peer) == "a:veth-b"


def test_a_plan_is_executed_on_the_fake(fake: FakeNetlink, host: Host) -> None:
    desired = {
        "a": [Bridge(name="br0"), Veth(name="veth-b", peer="eth0", peer_netns="b", master="br0", mtu=1400)],
    }
    observed = {netns: Links(netns, backend=fake, host=host).list() for netns in ("a", "b")}
    plan = plan_links(desired, observed)
    execute(plan, links=lambda netns: Links(netns, backend=fake, host=host))
    again = {netns: Links(netns, backend=fake, host=host).list() for netns in ("a", "b")}
    assert not plan_links(desired, again)
    assert Links("a", backend=fake, host=host).get("br0").mtu == 1400


# -- the fake itself ------------------------------------------------------------------------------


def test_namespaces_are_made_and_deleted(fake: FakeNetlink, host: Host) -> None:
    with pytest.raises(AlreadyExists):
        fake.add_namespace("a")
    Links("a", backend=fake, host=host).add(Veth(name="x1", peer="x2", peer_netns="b"))
    fake.delete_namespace("b")
    assert [link.name for link in Links("a", backend=fake, host=host).list()] == ["lo"]
    with pytest.raises(NotFound, match="network namespace 'b' does not exist"):
        fake.delete_namespace("b")
    fake.add_namespace("c", loopback_up=False)
    [lo] = Links("c", backend=fake, host=host).list()
    assert (lo.state, lo.addresses) == ("DOWN", ())


def test_a_kernel_without_a_kind(run_dir: Path, host: Host) -> None:
    backend = FakeNetlink(kinds={"veth", "bridge"})
    with pytest.raises(UnsupportedError, match="this kernel lacks vxlan devices"):
        Links(backend=backend, host=host).add(Vxlan(name="vx0", vni=1, remote="10.0.0.2"))


def test_a_caller_without_cap_net_admin(run_dir: Path, host: Host) -> None:
    backend = FakeNetlink(privileged=False)
    with pytest.raises(PermissionDenied, match="CAP_NET_ADMIN"):
        Links(backend=backend, host=host).add(Ifb(name="ifb0"))
    assert [link.name for link in Links(backend=backend, host=host).list()] == ["lo"]  # reading is allowed


def test_what_runs_inside_a_namespace_is_refused(fake: FakeNetlink) -> None:
    with pytest.raises(UnsupportedError, match="rtnetlink only"):
        fake.in_namespace("a", lambda: None)
    with pytest.raises(NotFound):
        fake.in_namespace("gone", lambda: None)
