"""Links on the real kernel: every kind this kernel has, created, inspected, changed and deleted.

Each test works in namespaces of its own (``netns`` / ``netns_factory``),
never in the root namespace, and nothing it makes is connected to the root
namespace. What ``Links`` reports is checked against an independent oracle,
``ip -d -j`` run inside the same namespace, and every test ends by proving
its links are gone. An autouse fixture also proves the root namespace's
links and addresses were the same before and after each test (read only).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from vnetkit.cli.render_links import route_as_dict
from vnetkit.errors import (
    AlreadyExists,
    ConfigError,
    InUse,
    NotFound,
    PermissionDenied,
    UnsupportedError,
    VnetkitError,
)
from vnetkit.exec import default_runner
from vnetkit.exec import netns as netns_mod
from vnetkit.exec.netlink import NetlinkBackend, default_netlink
from vnetkit.links import (
    Address,
    Bridge,
    Ifb,
    Ipvlan,
    Link,
    Links,
    LinkSpec,
    Macvlan,
    Macvtap,
    Namespaces,
    Neighbour,
    Route,
    Tuntap,
    Veth,
    Vlan,
    Vxlan,
)
from vnetkit.testing import unique_name

pytestmark = pytest.mark.integration

Factory = Callable[[], str]
T = TypeVar("T")
Json = dict[str, Any]

VM_TIER = os.environ.get("VNETKIT_VM_TIER") == "1"


# -- the oracle: iproute2's JSON, run inside the namespace ---------------------------------------


def ip_json(ns: str | None, *args: str) -> list[Json]:
    """``ip -d -j ARGS`` in ``ns`` (None: read the caller's namespace), parsed."""
    done = default_runner().run(("ip", "-d", "-j", *args), netns=ns)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr}"
    return cast(list[Json], json.loads(done.stdout or "[]"))


def ip_link(ns: str, name: str) -> Json:
    [link] = ip_json(ns, "link", "show", "dev", name)
    return link


def ip_names(ns: str) -> set[str]:
    return {link["ifname"] for link in ip_json(ns, "link", "show")}


def info_data(ns: str, name: str) -> Json:
    return cast(Json, ip_link(ns, name)["linkinfo"].get("info_data", {}))


def snapshot(ns: str) -> list[tuple[str, str, str | None]]:
    """Every link of ``ns``: name, kind, master (what a failed create must leave as it was)."""
    return sorted(
        (link["ifname"], link.get("linkinfo", {}).get("info_kind", ""), link.get("master"))
        for link in ip_json(ns, "link", "show")
    )


def assert_matches_ip(links: Links) -> None:
    """``Links.list()`` agrees with ``ip -d -j addr show`` on every link of the namespace."""
    assert links.netns is not None
    oracle = {link["ifname"]: link for link in ip_json(links.netns, "addr", "show")}
    mine = {link.name: link for link in links.list()}
    assert set(mine) == set(oracle)
    for name, link in mine.items():
        want = oracle[name]
        group = want.get("group", "default")
        assert link.index == want["ifindex"], name
        assert link.mtu == want["mtu"], name
        assert link.master == want.get("master"), name
        assert link.alias == want.get("ifalias"), name
        assert link.group == (0 if group == "default" else int(group)), name
        assert link.kind == want.get("linkinfo", {}).get("info_kind", "loopback" if name == "lo" else ""), (
            name
        )
        if "address" in want and want.get("link_type") != "none":
            assert link.mac == want["address"], name
        addrs = _stable({f"{a['local']}/{a['prefixlen']}" for a in want.get("addr_info", ())})
        assert _stable(link.addresses) == addrs, name
        got = links.get(name)  # the same link on its own (with or without its addresses)
        assert dataclasses.replace(got, state="", addresses=()) == dataclasses.replace(
            link, state="", addresses=()
        ), name
        assert not got.addresses or _stable(got.addresses) == addrs, name


def _stable(addresses: Iterable[str]) -> set[str]:
    # IPv6 link-local addresses appear when the kernel sees the carrier, which
    # it reports asynchronously: between two reads one may have appeared.
    return {a for a in addresses if not a.startswith("fe80:")}


# -- fixtures --------------------------------------------------------------------------------------


def root_state() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    # Read-only look at the root namespace: no link or address may appear, vanish or change.
    links = sorted(
        (x["ifname"], x["ifindex"], x["mtu"], x.get("address")) for x in ip_json(None, "link", "show")
    )
    addrs = sorted(
        (x["ifname"], a["local"], a["prefixlen"])
        for x in ip_json(None, "addr", "show")
        for a in x["addr_info"]
    )
    return links, addrs


@pytest.fixture(autouse=True)
def _root_namespace_untouched() -> Iterator[None]:
    before = root_state()
    yield
    assert root_state() == before, "the ROOT namespace's links or addresses changed"


@pytest.fixture
def two(netns_factory: Factory) -> tuple[str, str]:
    """Two fresh namespaces, ``a`` and ``b``."""
    return netns_factory(), netns_factory()


def lower_device(links: Links, name: str, peer_ns: str) -> Link:
    """A veth end ``name`` in ``links``' namespace (peer ``x<name>`` in ``peer_ns``): a lower device."""
    links.add(Veth(name=name, peer=f"x{name}"[:15], peer_netns=peer_ns))
    return links.get(name)


def in_state(links: Links, name: str, state: str, *, timeout: float = 3.0) -> Link:
    """The link once its operational state is ``state``: the kernel reports it asynchronously (linkwatch)."""
    deadline = time.monotonic() + timeout
    while (link := links.get(name)).state != state and time.monotonic() < deadline:
        time.sleep(0.02)
    assert link.state == state, f"{name} is {link.state}, not {state}, after {timeout} s"
    return link


def assert_gone(links: Links, *names: str) -> None:
    assert links.netns is not None
    left = ip_names(links.netns) & set(names)
    assert not left, f"still there: {left}"
    for name in names:
        assert not links.exists(name)


# -- veth ------------------------------------------------------------------------------------------


def test_veth_peer_is_made_in_the_other_namespace_with_its_name_mtu_and_state(two: tuple[str, str]) -> None:
    a, b = two
    host, guest = Links(a), Links(b)
    before_b = ip_names(b)

    host.add(
        Veth(
            name="vh0",
            peer="eth0",
            peer_netns=b,
            mtu=1400,
            peer_mtu=1300,
            mac="02:00:00:aa:00:01",
            peer_mac="02:00:00:bb:00:01",
        )
    )

    mine, peer = in_state(host, "vh0", "UP"), in_state(guest, "eth0", "UP")
    assert (mine.kind, mine.mtu, mine.mac) == ("veth", 1400, "02:00:00:aa:00:01")
    assert (peer.kind, peer.mtu, peer.mac) == ("veth", 1300, "02:00:00:bb:00:01")
    assert mine.link_netnsid is not None  # each sees the other in another namespace
    assert peer.link_netnsid is not None
    assert "eth0" not in ip_names(a)
    assert ip_names(b) == before_b | {"eth0"}
    oracle = ip_link(b, "eth0")
    assert oracle["linkinfo"]["info_kind"] == "veth"
    assert (oracle["mtu"], oracle["address"], oracle["operstate"]) == (1300, "02:00:00:bb:00:01", "UP")
    assert "UP" in oracle["flags"]
    assert "link_netnsid" in oracle
    assert_matches_ip(host)
    assert_matches_ip(guest)

    host.delete("vh0")  # the peer goes with it
    assert_gone(host, "vh0")
    assert_gone(guest, "eth0")


def test_veth_peer_state_follows_peer_up(two: tuple[str, str]) -> None:
    a, b = two
    Links(a).add(Veth(name="vh1", peer="eth1", peer_netns=b, peer_up=False, up=False))
    assert "UP" not in ip_link(b, "eth1")["flags"]
    assert "UP" not in ip_link(a, "vh1")["flags"]
    Links(b).set_up("eth1")
    Links(a).set_up("vh1")
    in_state(Links(b), "eth1", "UP")
    Links(b).delete("eth1")  # from the other end
    assert_gone(Links(a), "vh1")


def test_veth_with_both_ends_in_one_namespace(netns: str) -> None:
    links = Links(netns)
    peer = "vnkpeer-q7"
    if Links().exists(peer):  # read-only: a bug would touch this name in the caller's namespace
        pytest.skip(f"{peer} exists in the caller's namespace")

    links.add(Veth(name="va", peer=peer))

    mine, other = in_state(links, "va", "UP"), in_state(links, peer, "UP")  # peer_up: in THIS namespace
    assert mine.info["peer"] == peer
    assert other.info["peer"] == "va"
    assert mine.link_netnsid is None
    assert "UP" in ip_link(netns, peer)["flags"]
    assert_matches_ip(links)
    links.delete(peer)
    assert_gone(links, "va", peer)


# -- bridge ----------------------------------------------------------------------------------------


def test_bridge_with_stp_ageing_and_ports(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    for port in ("bp0", "bp1"):
        lower_device(links, port, b)

    links.add(Bridge(name="br0", stp=True, ageing=30, ports=("bp0", "bp1"), mtu=1450))

    br = links.get("br0")
    assert br.kind == "bridge"
    assert (br.info["stp"], br.info["ageing"], br.info["vlan_filtering"]) == (True, 30.0, False)
    data = info_data(a, "br0")
    assert (data["stp_state"], data["ageing_time"], data["vlan_filtering"]) == (1, 3000, 0)
    assert {p["ifname"] for p in ip_json(a, "link", "show", "master", "br0")} == {"bp0", "bp1"}
    assert links.get("bp0").master == "br0"
    assert ip_link(a, "bp1")["linkinfo"]["info_slave_kind"] == "bridge"
    assert_matches_ip(links)

    links.set_nomaster("bp1")
    assert links.get("bp1").master is None
    assert [p["ifname"] for p in ip_json(a, "link", "show", "master", "br0")] == ["bp0"]

    links.delete("br0")  # ports stay, released
    assert_gone(links, "br0")
    assert links.get("bp0").master is None
    links.delete("bp0")
    links.delete("bp1")
    assert_gone(links, "bp0", "bp1")


def test_bridge_defaults(netns: str) -> None:
    links = Links(netns)
    links.add(Bridge(name="br1", up=False))
    data = info_data(netns, "br1")
    assert (data["stp_state"], data["vlan_filtering"]) == (0, 0)
    assert "UP" not in ip_link(netns, "br1")["flags"]
    links.delete("br1")
    assert_gone(links, "br1")


# -- vxlan -----------------------------------------------------------------------------------------


def test_vxlan_unicast(netns: str) -> None:
    links = Links(netns)
    links.add(
        Vxlan(name="vx0", vni=42, local="10.0.0.1", remote="10.0.0.2", dstport=4790, learning=False, ttl=10)
    )

    info = links.get("vx0").info
    expected = {
        "vxlan_id": 42,
        "vxlan_port": 4790,
        "learning": False,
        "local": "10.0.0.1",
        "remote": "10.0.0.2",
        "ttl": 10,
    }
    assert {key: info.get(key) for key in expected} == expected
    data = info_data(netns, "vx0")
    assert (data["id"], data["local"], data["remote"], data["port"]) == (42, "10.0.0.1", "10.0.0.2", 4790)
    assert (data["learning"], data["ttl"]) == (False, 10)
    assert_matches_ip(links)
    links.delete("vx0")
    assert_gone(links, "vx0")


def test_vxlan_multicast_group_on_a_device(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower = lower_device(links, "ul0", b)

    links.add(Vxlan(name="vx1", vni=16_777_215, group="239.1.1.1", dev="ul0", dstport=8472))

    data = info_data(a, "vx1")
    assert (data["id"], data["group"], data["link"], data["port"]) == (16_777_215, "239.1.1.1", "ul0", 8472)
    assert data["learning"] is True
    assert links.get("vx1").info["remote"] == "239.1.1.1"
    assert lower.mtu - links.get("vx1").mtu == 50  # the kernel sized it for the VXLAN header
    links.delete("vx1")
    links.delete("ul0")
    assert_gone(links, "vx1", "ul0")


def test_vxlan_ipv6(netns: str) -> None:
    links = Links(netns)
    links.add(Vxlan(name="vx6", vni=0, local="fd00::1", remote="fd00::2"))
    data = info_data(netns, "vx6")
    assert (data["id"], data["local6"], data["remote6"]) == (0, "fd00::1", "fd00::2")
    info = links.get("vx6").info
    assert (info["local"], info["remote"]) == ("fd00::1", "fd00::2")
    links.delete("vx6")
    assert_gone(links, "vx6")


# -- macvlan, macvtap ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["bridge", "vepa", "private", "passthru", "source"])
def test_macvlan_in_every_mode(two: tuple[str, str], mode: str) -> None:
    a, b = two
    links = Links(a)
    lower = lower_device(links, "ml0", b)

    links.add(Macvlan(name="mv0", link="ml0", mode=cast(Any, mode)))

    mv = links.get("mv0")
    assert (mv.kind, mv.info["mode"], mv.link_index) == ("macvlan", mode, lower.index)
    oracle = ip_link(a, "mv0")
    assert oracle["linkinfo"]["info_kind"] == "macvlan"
    assert oracle["linkinfo"]["info_data"]["mode"] == mode
    assert oracle["link"] == "ml0"
    assert_matches_ip(links)
    links.delete("mv0")
    assert_gone(links, "mv0")
    assert links.exists("ml0")
    links.delete("ml0")
    assert_gone(links, "ml0")


@pytest.mark.parametrize("mode", ["bridge", "vepa", "private", "passthru"])
def test_macvtap_on_a_veth(two: tuple[str, str], mode: str) -> None:
    a, b = two
    links = Links(a)
    lower = lower_device(links, "tl0", b)

    links.add(Macvtap(name="mvt0", link="tl0", mode=cast(Any, mode)))

    oracle = ip_link(a, "mvt0")
    assert oracle["linkinfo"]["info_kind"] == "macvtap"
    assert oracle["linkinfo"]["info_data"]["mode"] == mode
    assert oracle["link"] == "tl0"
    mvt = links.get("mvt0")
    assert (mvt.kind, mvt.link_index) == ("macvtap", lower.index)
    links.delete("mvt0")
    assert_gone(links, "mvt0")
    assert links.exists("tl0")
    assert mvt.info["mode"] == mode  # read back from IFLA_MACVTAP_MODE


@pytest.mark.parametrize("kind", [Macvlan, Macvtap])
def test_macvlan_on_a_bridge_port_names_the_bridge(
    two: tuple[str, str], kind: type[Macvlan | Macvtap]
) -> None:
    # The kernel answers only EBUSY (the bridge holds the port's receive handler).
    a, b = two
    links = Links(a)
    links.add(Bridge(name="bpbr0"))
    lower_device(links, "bp0", b)
    links.set_master("bp0", "bpbr0")
    before = snapshot(a)

    with pytest.raises(InUse, match=f"Device or resource busy: bp0 is a port of bpbr0.*{kind.kind} on bpbr0"):
        links.add(kind(name="bp-mv0", link="bp0"))

    assert snapshot(a) == before
    links.add(kind(name="bp-mv0", link="bpbr0"))  # the advice works
    assert links.get("bp-mv0").link_index == links.index("bpbr0")


# -- tun, tap, ifb ---------------------------------------------------------------------------------


def _user(uid: int) -> str | int:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return uid


@pytest.mark.parametrize("mode", ["tun", "tap"])
def test_persistent_tun_and_tap_with_owner_and_queues(netns: str, mode: str) -> None:
    links = Links(netns)
    links.add(
        Tuntap(
            name=f"{mode}0", mode=cast(Any, mode), owner=65534, group_owner=65534, multi_queue=True, mtu=1400
        )
    )

    oracle = ip_link(netns, f"{mode}0")
    data = oracle["linkinfo"]["info_data"]
    assert oracle["linkinfo"]["info_kind"] == "tun"
    assert (data["type"], data["persist"], data["multi_queue"], data["pi"]) == (mode, True, True, False)
    assert data["user"] == _user(65534)
    assert oracle["mtu"] == 1400
    assert "UP" in oracle["flags"]  # admin up; no carrier until a program attaches
    link = links.get(f"{mode}0")
    assert (link.kind, link.mtu) == ("tun", 1400)
    assert (link.mac is None) == (mode == "tun")
    assert_matches_ip(links)
    links.delete(f"{mode}0")
    assert_gone(links, f"{mode}0")


def test_tap_without_owner_stays_down_with_its_mac(netns: str) -> None:
    links = Links(netns)
    links.add(Tuntap(name="tap1", mac="02:00:00:00:00:07", up=False, ifgroup=3, alias="vnetkit:t:n:tap1"))
    oracle = ip_link(netns, "tap1")
    data = oracle["linkinfo"]["info_data"]
    assert (data["type"], data["multi_queue"]) == ("tap", False)
    assert not {"user", "group"} & set(data)
    assert "UP" not in oracle["flags"]
    assert (oracle["address"], oracle["group"], oracle["ifalias"]) == (
        "02:00:00:00:00:07",
        "3",
        "vnetkit:t:n:tap1",
    )
    with pytest.raises(AlreadyExists, match="tap1"):
        links.add(Tuntap(name="tap1"))
    links.delete("tap1")
    assert_gone(links, "tap1")


def test_ifb(netns: str) -> None:
    links = Links(netns)
    links.add(Ifb(name="ifb7", mtu=9000))
    oracle = ip_link(netns, "ifb7")
    assert (oracle["linkinfo"]["info_kind"], oracle["mtu"]) == ("ifb", 9000)
    assert links.get("ifb7").kind == "ifb"
    assert_matches_ip(links)
    links.delete("ifb7")
    assert_gone(links, "ifb7")


# -- configuration ---------------------------------------------------------------------------------


def test_up_down_mtu_mac_master_alias(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "cf0", b)
    links.add(Bridge(name="cbr0"))

    links.set_down("cf0")
    assert "UP" not in ip_link(a, "cf0")["flags"]
    in_state(links, "cf0", "DOWN")
    links.set_up("cf0")
    assert "UP" in ip_link(a, "cf0")["flags"]
    in_state(links, "cf0", "UP")

    links.set_mtu("cf0", 1280)
    links.set_mac("cf0", "02:00:00:00:CF:01")
    links.set_alias("cf0", "vnetkit:lab:node:cf0")
    links.set_master("cf0", "cbr0")
    oracle = ip_link(a, "cf0")
    assert (oracle["mtu"], oracle["address"]) == (1280, "02:00:00:00:cf:01")
    assert (oracle["ifalias"], oracle["master"]) == ("vnetkit:lab:node:cf0", "cbr0")
    link = links.get("cf0")
    assert (link.mtu, link.mac, link.alias, link.master) == (
        1280,
        "02:00:00:00:cf:01",
        oracle["ifalias"],
        "cbr0",
    )

    links.set_nomaster("cf0")
    assert "master" not in ip_link(a, "cf0")
    assert links.get("cf0").master is None

    with pytest.raises(ConfigError, match="MTU"):
        links.set_mtu("cf0", 67)
    with pytest.raises(ConfigError, match="MAC"):
        links.set_mac("cf0", "02:00:00:00:cf")
    with pytest.raises(NotFound, match="nope"):
        links.set_up("nope")
    with pytest.raises(NotFound, match="nobr"):
        links.set_master("cf0", "nobr")
    assert_matches_ip(links)
    links.delete("cbr0")
    links.delete("cf0")
    assert_gone(links, "cbr0", "cf0")


def test_addresses_ipv4_and_ipv6(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "ad0", b)

    links.add_address("ad0", "10.20.0.1/24")
    links.add_address("ad0", "10.20.1.1/16")
    links.add_address("ad0", "fd00:20::1/64")

    typed = links.address_list("ad0")
    mine = {str(x.interface) for x in typed}
    assert {"10.20.0.1/24", "10.20.1.1/16", "fd00:20::1/64"} <= mine
    info = ip_json(a, "addr", "show", "dev", "ad0")[0]["addr_info"]
    oracle = {f"{x['local']}/{x['prefixlen']}": x for x in info}
    assert mine == set(oracle)
    index = links.index("ad0")
    for address in typed:  # dev, scope and flags as ip reads them
        want = oracle[str(address.interface)]
        assert (address.dev, address.index, address.scope) == ("ad0", index, want["scope"])
        assert "permanent" in address.flags or want.get("dynamic")
    [ten] = [x for x in typed if str(x.interface) == "10.20.0.1/24"]
    assert ten == Address.parse("10.20.0.1/24 dev ad0 permanent")
    assert str(ten) == "10.20.0.1/24 dev ad0 scope global permanent"
    assert {"10.20.0.1/24", "fd00:20::1/64"} <= set(
        next(x for x in links.list() if x.name == "ad0").addresses
    )
    everywhere = links.address_list()
    assert Address.parse("127.0.0.1/8 dev lo scope host permanent") in everywhere
    assert {x.dev for x in everywhere} == {"lo", "ad0"}
    with pytest.warns(DeprecationWarning, match="address_list"):
        assert set(links.addresses("ad0")) == mine  # the old strings, for one release
    with pytest.warns(DeprecationWarning, match="address_list"):
        assert "127.0.0.1/8" in links.addresses()

    with pytest.raises(AlreadyExists, match=r"10\.20\.0\.1/24"):
        links.add_address("ad0", "10.20.0.1/24")
    with pytest.raises(ConfigError, match=r"10\.20\.0\.1/33"):
        links.add_address("ad0", "10.20.0.1/33")
    with pytest.raises(NotFound):
        links.add_address("nope", "10.20.0.9/24")

    links.delete_address("ad0", Address.parse("10.20.1.1/16"))
    links.delete_address("ad0", "fd00:20::1/64")
    assert "10.20.1.1/16" not in {str(x.interface) for x in links.address_list("ad0")}
    assert "fd00:20::1" not in {x["local"] for x in ip_json(a, "addr", "show", "dev", "ad0")[0]["addr_info"]}
    with pytest.raises(NotFound):
        links.delete_address("ad0", "10.20.1.1/16")
    links.delete("ad0")
    assert_gone(links, "ad0")


def test_routes_default_dev_metric_table(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "rt0", b)
    links.add_address("rt0", "10.30.0.1/24")
    links.add_address("rt0", "fd00:30::1/64")

    links.add_route(via="10.30.0.254")
    links.add_route("10.31.0.0/16", dev="rt0", metric=50)
    links.add_route("10.32.0.0/16", via="10.30.0.254", table=100)
    links.add_route("default", via="fd00:30::fe", dev="rt0")

    mine = links.route_list()
    assert Route.parse("default via 10.30.0.254 dev rt0") in mine
    assert Route.parse("10.31.0.0/16 dev rt0 metric 50") in mine
    assert Route.parse("default via fd00:30::fe dev rt0") in mine  # metric 1024, the kernel's
    assert Route.parse("10.30.0.0/24 dev rt0 proto kernel scope link") in mine
    [dev_route] = [r for r in mine if str(r.dst) == "10.31.0.0/16"]
    assert (dev_route.dev, dev_route.metric, dev_route.gateway, dev_route.scope) == ("rt0", 50, None, "link")
    assert dev_route.index == links.index("rt0")
    assert links.route_list(table=100) == [Route.parse("10.32.0.0/16 via 10.30.0.254 dev rt0 table 100")]
    assert all(r.family == "ipv4" for r in links.route_list(family=socket.AF_INET))
    assert {r.table for r in mine} >= {254, 255, 100}
    with pytest.warns(DeprecationWarning, match="route_list"):
        legacy = links.routes()  # the old dicts, for one release
    assert {"dst": "default", "gateway": "10.30.0.254", "dev": "rt0", "family": "ipv4", "table": 254} in [
        {k: r[k] for k in ("dst", "gateway", "dev", "family", "table")} for r in legacy
    ]
    [old] = [r for r in legacy if r["dst"] == "10.31.0.0/16"]
    assert (old["dev"], old["metric"], old["gateway"]) == ("rt0", 50, None)
    # What route ls --json prints is what routes() gave (IPv6 link-local routes come and go).
    steady = {254, 100}
    assert [r for r in legacy if r["table"] in steady and not str(r["dst"]).startswith("fe80")] == [
        route_as_dict(r) for r in mine if r.table in steady and not r.dst.is_link_local
    ]

    oracle = ip_json(a, "route", "show", "table", "all")
    assert any(r["dst"] == "default" and r.get("gateway") == "10.30.0.254" for r in oracle)
    assert any(r["dst"] == "10.31.0.0/16" and r.get("metric") == 50 and r["dev"] == "rt0" for r in oracle)
    assert any(r["dst"] == "10.32.0.0/16" and r.get("table") == "100" for r in oracle)
    assert any(r["dst"] == "default" and r.get("gateway") == "fd00:30::fe" for r in ip_json(a, "-6", "route"))

    links.delete_route(via="10.30.0.254")
    links.delete_route(Route.parse("10.31.0.0/16 dev rt0 metric 50"))
    links.delete_route("10.32.0.0/16", via="10.30.0.254", table=100)
    links.delete_route("default", via="fd00:30::fe", dev="rt0")
    left = {r["dst"] for r in ip_json(a, "route", "show", "table", "all")}
    left |= {r["dst"] for r in ip_json(a, "-6", "route", "show", "table", "all")}
    assert not left & {"default", "10.31.0.0/16", "10.32.0.0/16"}
    with pytest.raises(NotFound):
        links.delete_route("10.31.0.0/16", dev="rt0")
    with pytest.raises(ConfigError, match="via"):
        links.add_route("10.33.0.0/16")
    with pytest.raises(ConfigError, match=r"10\.33\.0\.0/33"):
        links.add_route("10.33.0.0/33", dev="rt0")
    with pytest.raises(ConfigError, match="gateway"):
        links.add_route("10.33.0.0/16", via="10.30.0")
    links.delete("rt0")
    assert_gone(links, "rt0")


def test_neighbours(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "nb0", b)

    links.add_neighbour("nb0", "10.40.0.9", "02:00:00:00:40:09")
    links.add_neighbour("nb0", "fd00:40::9", "02:00:00:00:40:0A")

    mine = links.neighbour_list()
    assert Neighbour.parse("10.40.0.9 dev nb0 lladdr 02:00:00:00:40:09 PERMANENT") in mine
    assert Neighbour.parse("fd00:40::9 dev nb0 lladdr 02:00:00:00:40:0a PERMANENT") in mine
    assert {str(n) for n in links.neighbour_list("nb0")} == {
        "10.40.0.9 dev nb0 lladdr 02:00:00:00:40:09 PERMANENT",
        "fd00:40::9 dev nb0 lladdr 02:00:00:00:40:0a PERMANENT",
    }
    assert links.neighbour_list("lo") == []
    with pytest.warns(DeprecationWarning, match="neighbour_list"):
        legacy = {(n["ip"], n["mac"], n["dev"], n["state"]) for n in links.neighbours()}
    assert {
        ("10.40.0.9", "02:00:00:00:40:09", "nb0", 0x80),
        ("fd00:40::9", "02:00:00:00:40:0a", "nb0", 0x80),
    } <= legacy
    oracle = {n["dst"]: n for n in ip_json(a, "neigh", "show")}
    assert oracle["10.40.0.9"]["lladdr"] == "02:00:00:00:40:09"
    assert oracle["10.40.0.9"]["state"] == ["PERMANENT"]
    assert oracle["fd00:40::9"]["state"] == ["PERMANENT"]
    with pytest.raises(AlreadyExists):
        links.add_neighbour("nb0", "10.40.0.9", "02:00:00:00:40:09")
    with pytest.raises(ConfigError, match="MAC"):
        links.add_neighbour("nb0", "10.40.0.10", "02:00:00:00:40")
    links.delete("nb0")
    assert_gone(links, "nb0")
    assert "10.40.0.9" not in {n["dst"] for n in ip_json(a, "neigh", "show")}
    with pytest.raises(ConfigError, match="not-an-ip"):  # bad input is a ConfigError, like everywhere else
        links.add_neighbour("lo", "not-an-ip", "02:00:00:00:40:0b")


# -- sysctls ---------------------------------------------------------------------------------------

ROOT_KEYS = (
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.all.accept_local",
    "net.ipv4.conf.default.accept_local",
    "net.ipv4.conf.all.proxy_arp",
    "net.ipv4.conf.default.proxy_arp",
)


def _read_own(key: str) -> str:
    """Read ``key`` in this process's own (the root) namespace, straight from /proc. Read only."""
    return Path("/proc/sys", *key.split(".")).read_text().strip()


def _cat_in(ns: str, path: str) -> str:
    done = default_runner().run(("cat", path), netns=ns)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sysctls_are_read_and_written_in_the_namespace_only(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "sy0", b)
    root_before = {key: _read_own(key) for key in ROOT_KEYS}
    sibling_before = Links(b).sysctl("net.ipv4.ip_forward")
    wanted = {
        "net.ipv4.ip_forward": "0" if root_before["net.ipv4.ip_forward"] == "1" else "1",
        "net.ipv4.conf.sy0.rp_filter": "2",
        "net.ipv4.conf.sy0.accept_local": "1",
        "net.ipv4.conf.sy0.proxy_arp": "1",
        "net.ipv4.conf.all.rp_filter": "1" if root_before["net.ipv4.conf.all.rp_filter"] != "1" else "2",
    }

    for key, value in wanted.items():
        links.set_sysctl(key, int(value))
    for key, value in wanted.items():
        assert links.sysctl(key) == value, key
        assert _cat_in(a, "/proc/sys/" + key.replace(".", "/")) == value, key
    assert links.sysctl("net/ipv4/conf/sy0/proxy_arp") == "1"  # '/' separators work too
    assert Links(b).sysctl("net.ipv4.ip_forward") == sibling_before  # a sibling namespace is its own
    assert {key: _read_own(key) for key in ROOT_KEYS} == root_before
    assert Links().sysctl("net.ipv4.ip_forward") == root_before["net.ipv4.ip_forward"]  # read only

    with pytest.raises(ConfigError, match=r"kernel\.hostname"):
        links.set_sysctl("kernel.hostname", "x")
    with pytest.raises(ConfigError, match=r"\.\."):
        links.sysctl("net.ipv4.conf....rp_filter")
    with pytest.raises(NotFound, match="nope0"):
        links.sysctl("net.ipv4.conf.nope0.rp_filter")
    with pytest.raises(ConfigError, match="banana"):
        links.set_sysctl("net.ipv4.ip_forward", "banana")  # refused by the kernel: bad input, exit 2
    read_only = "net.ipv4.tcp_available_congestion_control"  # 0444: EACCES even for root
    with pytest.raises(PermissionDenied, match="read-only"):
        links.set_sysctl(read_only, "reno")
    assert links.ensure_sysctl(read_only, links.sysctl(read_only)) is False
    links.delete("sy0")
    assert_gone(links, "sy0")


def test_sysctl_of_an_interface_with_a_dot_in_its_name(two: tuple[str, str]) -> None:
    # VLAN sub-interfaces are named like eth0.10; sysctl(8) addresses them as
    # net/ipv4/conf/eth0.10/rp_filter (with '/' separators a '.' is literal).
    a, b = two
    links = Links(a)
    links.add(Veth(name="d0.10", peer="xd0", peer_netns=b))
    links.set_sysctl("net/ipv4/conf/d0.10/rp_filter", 2)
    assert _cat_in(a, "/proc/sys/net/ipv4/conf/d0.10/rp_filter") == "2"
    assert links.sysctl("net/ipv4/conf/d0.10/rp_filter") == "2"
    links.delete("d0.10")
    assert_gone(links, "d0.10")


def test_set_sysctl_refuses_the_callers_own_namespace() -> None:
    key = "net.ipv4.ip_forward"
    current = _read_own(key)
    with pytest.raises(UnsupportedError, match="netns"):
        Links().set_sysctl(key, current)  # the same value: even a broken guard would change nothing
    assert _read_own(key) == current


# -- ensure ----------------------------------------------------------------------------------------


def _ensure_specs(b: str) -> list[LinkSpec]:
    return [
        Bridge(name="ebr0", stp=True, ageing=30),
        Vxlan(name="evx0", vni=5, remote="10.0.0.2"),
        Veth(name="eve0", peer="eth9", peer_netns=b),
        Macvlan(name="emv0", link="el0", mode="vepa"),
        Macvtap(name="emt0", link="el1", mode="bridge"),
        Tuntap(name="etap0", mode="tap"),
        Ifb(name="eifb0"),
    ]


@pytest.mark.parametrize(
    "index", range(7), ids=["bridge", "vxlan", "veth", "macvlan", "macvtap", "tap", "ifb"]
)
def test_ensure_twice_creates_once(two: tuple[str, str], index: int) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "el0", b)
    lower_device(links, "el1", b)
    spec = _ensure_specs(b)[index]

    assert links.ensure(spec) is True
    made = ip_link(a, spec.name)
    assert links.ensure(spec) is False
    assert ip_link(a, spec.name)["ifindex"] == made["ifindex"]  # left alone, not re-created
    links.delete(spec.name)
    assert_gone(links, spec.name)


def test_ensure_reports_the_difference_of_a_conflicting_link(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "el0", b)
    links.add(Bridge(name="c0"))
    links.add(Vxlan(name="c1", vni=5, remote="10.0.0.2"))
    links.add(Macvlan(name="c2", link="el0", mode="bridge"))
    links.add(Veth(name="c3", peer="c3p", peer_up=False))  # peer_up=False: see test_veth_with_both_ends...
    before = snapshot(a)

    cases: list[tuple[LinkSpec, str]] = [
        (Vxlan(name="c0", vni=5, remote="10.0.0.2"), "kind is bridge, wanted vxlan"),
        (Vxlan(name="c1", vni=6, remote="10.0.0.2"), "VNI is 5, wanted 6"),
        (Vxlan(name="c1", vni=5, remote="10.0.0.2", dstport=4790), "destination port is 4789, wanted 4790"),
        (Macvlan(name="c2", link="el0", mode="private"), "mode is bridge, wanted private"),
        (Veth(name="c3", peer="other"), "peer is c3p, wanted other"),
        (Bridge(name="c1"), "kind is vxlan, wanted bridge"),
    ]
    for spec, difference in cases:
        with pytest.raises(AlreadyExists) as err:
            links.ensure(spec)
        assert spec.name in str(err.value), spec
        assert difference in str(err.value), spec
    assert snapshot(a) == before  # nothing was changed or removed
    for name in ("c0", "c1", "c2", "c3", "el0"):
        links.delete(name)
    assert_gone(links, "c0", "c1", "c2", "c3", "c3p", "el0")


@pytest.mark.parametrize(("have", "want"), [("tun", "tap"), ("tap", "tun")])
def test_ensure_of_a_tap_over_an_existing_tun_is_a_conflict(netns: str, have: str, want: str) -> None:
    links = Links(netns)
    links.add(Tuntap(name="c4", mode=cast(Any, have)))
    with pytest.raises(AlreadyExists) as err:
        links.ensure(Tuntap(name="c4", mode=cast(Any, want)))
    for word in ("c4", have, want):
        assert word in str(err.value)
    assert info_data(netns, "c4")["type"] == have
    links.delete("c4")
    assert_gone(links, "c4")


def test_ensure_address_route_and_sysctl(two: tuple[str, str]) -> None:
    a, _ = two
    links = Links(a)
    links.add(Veth(name="ea0", peer="ea1"))

    assert links.ensure_address("ea0", "10.63.0.1/24") is True
    assert links.ensure_address("ea0", "10.63.0.1/24") is False
    assert links.ensure_address("ea0", "fd63::0001/64") is True
    assert links.ensure_address("ea0", "fd63::1/64") is False  # the same address, written longer
    with pytest.raises(AlreadyExists, match=r"ea0 in netns .* has 10\.63\.0\.1/24, wanted 10\.63\.0\.1/16"):
        links.ensure_address("ea0", "10.63.0.1/16")
    inet = [
        x["local"] for x in ip_json(a, "addr", "show", "dev", "ea0")[0]["addr_info"] if x["scope"] == "global"
    ]
    assert sorted(inet) == ["10.63.0.1", "fd63::1"]  # each once, nothing added by the conflict

    assert links.ensure_route("10.64.0.0/16", via="10.63.0.2") is True
    assert links.ensure_route("10.64.1.2/16", via="10.63.0.2") is False  # the same network
    assert links.ensure_route("default", via="fd63::2") is True
    assert links.ensure_route("default", via="fd63::2") is False
    assert (
        links.ensure_route("10.64.0.0/16", via="10.63.0.3", metric=10) is True
    )  # another metric: another route
    with pytest.raises(
        AlreadyExists, match=r"route 10\.64\.0\.0/16 .*goes via 10\.63\.0\.2 dev ea0, wanted via 10\.63\.0\.9"
    ):
        links.ensure_route("10.64.0.0/16", via="10.63.0.9")
    assert links.ensure_route("10.65.0.0/16", dev="ea0", table=100) is True
    assert links.ensure_route("10.65.0.0/16", dev="ea0", table=100) is False
    v4 = ip_json(a, "-4", "route", "show", "table", "all")
    ours = sorted(
        (r["dst"], r.get("gateway") or r.get("dev"), r.get("metric", 0))
        for r in v4
        if r["dst"].startswith("10.6") and r.get("type", "unicast") == "unicast"
    )
    assert ours == [
        ("10.63.0.0/24", "ea0", 0),
        ("10.64.0.0/16", "10.63.0.2", 0),
        ("10.64.0.0/16", "10.63.0.3", 10),
        ("10.65.0.0/16", "ea0", 0),
    ]
    [v6_default] = [r for r in ip_json(a, "-6", "route", "show") if r["dst"] == "default"]
    assert v6_default["gateway"] == "fd63::2"

    assert links.ensure_sysctl("net.ipv4.ip_forward", 1) is True
    assert links.ensure_sysctl("net.ipv4.ip_forward", "1") is False
    assert _cat_in(a, "/proc/sys/net/ipv4/ip_forward") == "1"
    links.delete("ea0")
    assert_gone(links, "ea0", "ea1")


def test_namespaces_ensure() -> None:
    name = unique_name()
    spaces = Namespaces()
    try:
        assert spaces.ensure(name) is True
        inode = os.stat(f"/run/netns/{name}").st_ino
        assert spaces.ensure(name) is False
        assert os.stat(f"/run/netns/{name}").st_ino == inode  # the same namespace, left alone
        assert Path(spaces.resolv_conf(name)).exists()
    finally:
        spaces.delete(name)
    assert not netns_mod.exists(name)
    assert not Path(spaces.resolv_conf(name)).exists()


# -- failures leave nothing behind ------------------------------------------------------------------


def test_failed_creates_leave_nothing_behind(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "fp0", b)
    links.add(Veth(name="taken", peer="eth5", peer_netns=b))
    before_a, before_b = snapshot(a), snapshot(b)
    missing_ns = unique_name("vnktest-missing-")

    failures: list[tuple[LinkSpec, type[Exception], str]] = [
        (Bridge(name="fbr0", ports=("missing-port",)), NotFound, "missing-port"),
        (Bridge(name="fbr1", ports=("fp0", "missing-port")), NotFound, "missing-port"),
        (Veth(name="fv0", peer="eth6", peer_netns=b, master="nobr"), NotFound, "nobr"),
        (Veth(name="fv1", peer="eth7", peer_netns=missing_ns), NotFound, missing_ns),
        (Veth(name="fv2", peer="eth5", peer_netns=b), AlreadyExists, "fv2"),  # peer name taken over there
        (Tuntap(name="ftap0", master="nobr"), NotFound, "nobr"),
        (Macvlan(name="fmv0", link="missing-low"), NotFound, "missing-low"),
        (Vxlan(name="fvx0", vni=1, group="239.0.0.1", dev="missing-low"), NotFound, "missing-low"),
        (Bridge(name="taken"), AlreadyExists, "taken"),  # the existing link must survive
        (Ifb(name="fifb0", master="nobr"), NotFound, "nobr"),
    ]
    for spec, error, words in failures:
        with pytest.raises(error, match=words):
            links.add(spec)
        assert snapshot(a) == before_a, spec
        assert snapshot(b) == before_b, spec
    assert links.get("fp0").master is None  # enslaved to fbr1, then released with it
    assert not netns_mod.exists(missing_ns)
    links.delete("taken")
    links.delete("fp0")
    assert_gone(links, "taken", "fp0")


def test_kernel_errors_carry_the_kernels_own_reason(two: tuple[str, str]) -> None:
    # The socket asks for extended acks: the kernel's words follow the errno's.
    a, _ = two
    links = Links(a)
    links.add(Bridge(name="erbr0"))
    links.add(Veth(name="erv0", peer="erv1"))
    links.add_address("erv0", "10.61.0.1/24")
    with pytest.raises(AlreadyExists, match=r"File exists \(ipv4: Address already assigned\)"):
        links.add_address("erv0", "10.61.0.1/24")
    with pytest.raises(
        VnetkitError, match=r"set master erbr0 of erbr0 .*\(Can not enslave a bridge to a bridge\)"
    ):
        links.set_master("erbr0", "erbr0")
    links.delete("erv0")
    links.delete("erbr0")
    assert_gone(links, "erv0", "erv1", "erbr0")


# -- traffic stays inside ----------------------------------------------------------------------------


def _ping(ns: str, address: str) -> None:
    done = default_runner().run(("ping", "-c", "2", "-i", "0.2", "-W", "2", "-n", address), netns=ns)
    assert done.returncode == 0, f"ping {address} from {ns}: {done.stdout}{done.stderr}"


def test_ping_over_a_veth_pair_both_ways(two: tuple[str, str]) -> None:
    a, b = two
    Links(a).add(Veth(name="pv0", peer="eth0", peer_netns=b))
    Links(a).add_address("pv0", "10.250.0.1/30")
    Links(b).add_address("eth0", "10.250.0.2/30")

    _ping(a, "10.250.0.2")
    _ping(b, "10.250.0.1")

    rx = ip_json(b, "-s", "link", "show", "dev", "eth0")[0]["stats64"]["rx"]["packets"]
    assert rx >= 4  # the echo requests and replies went over this pair
    Links(a).delete("pv0")
    assert_gone(Links(b), "eth0")


def test_ping_between_two_namespaces_through_a_bridge(netns_factory: Factory) -> None:
    host, c1, c2 = netns_factory(), netns_factory(), netns_factory()
    links = Links(host)
    links.add(Bridge(name="br0"))
    links.add(Veth(name="veth-c1", peer="eth0", peer_netns=c1, master="br0"))
    links.add(Veth(name="veth-c2", peer="eth0", peer_netns=c2, master="br0"))
    Links(c1).add_address("eth0", "172.18.0.2/24")
    Links(c2).add_address("eth0", "172.18.0.3/24")

    _ping(c1, "172.18.0.3")
    _ping(c2, "172.18.0.2")

    assert {p["ifname"] for p in ip_json(host, "link", "show", "master", "br0")} == {"veth-c1", "veth-c2"}
    links.delete("br0")
    links.delete("veth-c1")
    links.delete("veth-c2")
    assert_gone(links, "br0", "veth-c1", "veth-c2")
    assert_gone(Links(c1), "eth0")


# -- bulk deletion by interface group -----------------------------------------------------------------


def test_delete_group_removes_exactly_that_group(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    for i in range(5):
        links.add(Veth(name=f"g{i}", peer=f"eth{i}", peer_netns=b, ifgroup=77))
    links.add(Veth(name="keep", peer="ethk", peer_netns=b, ifgroup=78))
    links.add(Bridge(name="keepbr"))
    in_group = ip_json(a, "link", "show", "group", "77")  # iproute2 prints {} for each other link
    assert {x["ifname"] for x in in_group if x} == {f"g{i}" for i in range(5)}

    assert links.delete_group(77) == 5

    assert_gone(links, *(f"g{i}" for i in range(5)))
    assert_gone(Links(b), *(f"eth{i}" for i in range(5)))
    assert links.exists("keep")
    assert links.exists("keepbr")
    assert links.delete_group(77) == 0
    assert links.delete_group(78) == 1
    links.delete("keepbr")
    assert_gone(links, "keep", "keepbr")


class _CountingBackend(NetlinkBackend):
    """The real backend, recording the action of every netlink call."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[str] = []

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        self.actions.append(action)
        return super().exchange(netns, action, msg, msg_type, flags)


def test_delete_group_is_one_bulk_request(two: tuple[str, str]) -> None:
    # Tearing a lab down is one bulk call (ARCHITECTURE.md): one RTM_DELLINK
    # with ifindex 0 and IFLA_GROUP, as `ip link delete group N` sends, not
    # one request per link (each veth deletion waits for the kernel, ~20 ms).
    a, b = two
    backend = _CountingBackend()
    try:
        links = Links(a, backend=backend)
        for i in range(5):
            links.add(Veth(name=f"g{i}", peer=f"eth{i}", peer_netns=b, ifgroup=77))
        backend.actions.clear()
        assert links.delete_group(77) == 5
        deletions = [action for action in backend.actions if action.startswith("delete")]
        assert_gone(links, *(f"g{i}" for i in range(5)))
        assert len(deletions) == 1, deletions
    finally:
        backend.close()  # its sockets would keep the namespaces alive


def test_get_and_ensure_cost_the_same_however_many_links_there_are(two: tuple[str, str]) -> None:
    # A topology ensures link after link: reading one must not dump the whole namespace.
    a, b = two
    backend = _CountingBackend()
    try:
        links = Links(a, backend=backend)
        links.add(Bridge(name="cbr0"))
        counts = []
        for total in (2, 40):
            for i in range(len(links.list()) - 2, total):
                links.add(Veth(name=f"cv{i}", peer=f"cp{i}", peer_netns=b, master="cbr0"))
            links.add_address("cv1", f"10.68.{total}.1/24")
            backend.actions.clear()
            link = links.get("cv1")
            assert links.ensure(Veth(name="cv1", peer="cp1", peer_netns=b, master="cbr0")) is False
            counts.append(len(backend.actions))
            assert (link.master, link.kind) == ("cbr0", "veth")
            assert f"10.68.{total}.1/24" in link.addresses
        assert counts[0] == counts[1], counts
        assert not any(action.startswith("list") and "links" in action for action in backend.actions)
    finally:
        backend.close()


# -- namespaces --------------------------------------------------------------------------------------


def test_namespace_lifecycle() -> None:
    name = unique_name()
    netns_mod.create(name)
    try:
        assert netns_mod.exists(name)
        assert name in netns_mod.list_names()
        done = default_runner().run(("ip", "netns", "list"))
        assert name in done.stdout
        assert "UP" in ip_link(name, "lo")["flags"]
        assert ip_names(name) == {"lo"}
        with pytest.raises(AlreadyExists, match=name):
            netns_mod.create(name)
        Links(name).add(Ifb(name="nsifb0"))
    finally:
        netns_mod.delete(name)
    assert not netns_mod.exists(name)
    with pytest.raises(NotFound, match=name):
        netns_mod.delete(name)
    with pytest.raises(NotFound, match=name):
        Links(name).list()

    netns_mod.create(name)  # the same name again: a new namespace, and a new socket for it
    try:
        assert [link.name for link in Links(name).list()] == ["lo"]
    finally:
        netns_mod.delete(name)
    assert not netns_mod.exists(name)


def test_a_namespace_made_by_vnetkit_brings_its_netlink_socket_along() -> None:
    # netns.create opens the socket on the thread that made the namespace, so
    # netlink there needs no worker thread (a thread and a setns per namespace).
    default_netlink()  # the backend Links uses by default, listening for new namespaces
    name = unique_name()
    netns_mod.create(name)
    try:
        links = Links(name)
        links.add(Veth(name="hv0", peer="hv1"))
        links.add_address("hv0", "10.62.0.1/24")
        assert not [t.name for t in threading.enumerate() if t.name == f"vnetkit-netns-{name}"]
        [oracle] = ip_json(name, "addr", "show", "dev", "hv0")  # from inside, by another tool
        assert [a["local"] for a in oracle["addr_info"] if a["family"] == "inet"] == ["10.62.0.1"]
    finally:
        netns_mod.delete(name)
    assert not netns_mod.exists(name)


def _threads_in(inode: int) -> list[str]:
    """Names of this process's Python threads that live in the namespace with ``inode``."""
    out = []
    for thread in threading.enumerate():
        try:
            if os.stat(f"/proc/self/task/{thread.native_id}/ns/net").st_ino == inode:
                out.append(thread.name)
        except FileNotFoundError:  # ended meanwhile
            continue
    return out


def test_the_thread_that_makes_namespaces_goes_back_home_after_each() -> None:
    # A thread left inside a namespace would keep it alive after its deletion.
    names = [unique_name() for _ in range(3)]
    try:
        for name in names:
            netns_mod.create(name)
            # At once: the maker is home before create returns, not some time after.
            assert _threads_in(os.stat(f"/run/netns/{name}").st_ino) == []
        for name in names:
            assert _threads_in(os.stat(f"/run/netns/{name}").st_ino) == []
        home = os.stat("/proc/self/ns/net").st_ino
        assert "vnetkit-netns-maker" in _threads_in(home)
        with pytest.raises(AlreadyExists):  # a failed create leaves the maker at home too
            netns_mod.create(names[0])
        assert "vnetkit-netns-maker" in _threads_in(home)
    finally:
        for name in names:
            if netns_mod.exists(name):
                netns_mod.delete(name)


def test_a_forked_child_makes_namespaces_too() -> None:
    # The maker thread is not copied by fork(); the child must not wait for it forever.
    netns_mod.create(warm := unique_name())  # the parent's maker exists
    netns_mod.delete(warm)
    name = unique_name()
    pid = os.fork()
    if pid == 0:  # the child: make and delete a namespace, report by exit status
        code = 1
        try:
            netns_mod.create(name)
            netns_mod.delete(name)
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 10
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    try:
        assert done[0] == pid, "the child hung making a namespace"
        assert os.waitstatus_to_exitcode(done[1]) == 0
    finally:
        if netns_mod.exists(name):
            netns_mod.delete(name)


def test_namespace_without_loopback_up() -> None:
    name = unique_name()
    netns_mod.create(name, loopback_up=False)
    try:
        assert "UP" not in ip_link(name, "lo")["flags"]
    finally:
        netns_mod.delete(name)
    assert not netns_mod.exists(name)


def test_bad_namespace_names_are_config_errors() -> None:
    for bad in ("", ".", "..", "a/b"):
        with pytest.raises(ConfigError):
            Links(bad)


# -- kinds this kernel lacks ------------------------------------------------------------------------

UNSUPPORTED: list[tuple[str, Callable[[], LinkSpec], tuple[str, ...]]] = [
    ("vlan", lambda: Vlan(name="ul0.10", link="ul0", id=10), ("vlan", "vxlan")),
    ("vlan-802.1ad", lambda: Vlan(name="ul0.20", link="ul0", id=20, protocol="802.1ad"), ("vlan", "vxlan")),
    ("ipvlan", lambda: Ipvlan(name="uipv0", link="ul0"), ("ipvlan", "macvlan")),
    (
        "vlan_filtering",
        lambda: Bridge(name="ubr0", vlan_filtering=True),
        ("vlan_filtering", "one bridge per"),
    ),
]


@pytest.mark.skipif(
    VM_TIER, reason="the VM tier's kernel has these kinds (tests/integration/test_links_vm.py)"
)
@pytest.mark.parametrize(
    ("make", "words"), [(m, w) for _, m, w in UNSUPPORTED], ids=[k for k, *_ in UNSUPPORTED]
)
def test_missing_kinds_are_unsupported_naming_the_alternative(
    two: tuple[str, str], make: Callable[[], LinkSpec], words: tuple[str, ...]
) -> None:
    a, b = two
    links = Links(a)
    lower_device(links, "ul0", b)
    before = snapshot(a)
    spec = make()
    try:
        links.add(spec)
    except UnsupportedError as exc:
        first = str(exc)
    else:
        links.delete(spec.name)
        pytest.skip(f"this kernel has {spec.kind}: see test_links_vm.py")
    for word in (*words, spec.name):
        assert word in first
    assert snapshot(a) == before
    with pytest.raises(UnsupportedError) as again:  # detected once: later attempts fail fast, same advice
        links.add(spec)
    assert snapshot(a) == before
    links.delete("ul0")
    assert_gone(links, "ul0")
    # ...and still say what was attempted on which object
    assert words[-1] in str(again.value)
    assert spec.name in str(again.value)
