"""``read_state`` and the fast reader under it, without root: on ``FakeNetlink`` and on crafted replies.

The heart is differential: whatever a namespace holds, ``read_state`` must
return exactly what ``Links.list()``, ``address_list()`` and
``route_list(table=...)`` return (the records compared whole, ``info``
included), in three dumps. The fake's replies are the kernel's layout
(``tests/integration/test_fake_netlink.py`` holds it to that); kinds this
kernel lacks (vlan, ipvlan), names that are not UTF-8 and odd attributes are
crafted with pyroute2's encoder and read both ways: by the fast reader and
by pyroute2's full decode, through the same ``records`` functions. The
requests the fast path packs itself must be the bytes pyroute2 would send.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vnetkit.errors import NotFound
from vnetkit.exec import FakeNetlink, runner
from vnetkit.exec import netns as netns_module
from vnetkit.exec.host import Host
from vnetkit.exec.netlink import NLM_F_DUMP
from vnetkit.links import Bridge, Ifb, Links, Macvlan, Macvtap, Route, Veth, Vxlan, messages
from vnetkit.links.records import address_from_message, link_from_message, route_from_message
from vnetkit.links.state import MAIN, NamespaceState, StateOps, read_state
from vnetkit.model import Address

_IFF_UP = 0x1
_NLM_F_MULTI = 0x2


class StateLinks(Links, StateOps):
    """``Links`` with ``state()``, as the lead wires it."""


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeNetlink:
    """A fake kernel with namespaces ``a`` and ``b``, found by their files as the real backend finds them."""
    monkeypatch.setattr(runner, "NETNS_RUN_DIR", str(tmp_path))
    monkeypatch.setattr(netns_module, "NETNS_RUN_DIR", str(tmp_path))
    backend = FakeNetlink(seed=4)
    for name in ("a", "b"):
        (tmp_path / name).touch()
        backend.add_namespace(name)
    return backend


@pytest.fixture
def host() -> Iterator[Host]:
    with Host() as made:
        yield made


def populate(a: Links, b: Links) -> None:
    """Every kind the fake has, ports with and without hairpin, addresses and routes of both families."""
    a.add(Bridge(name="br0", ageing=30))
    a.add(Veth(name="veth-b", peer="eth0", peer_netns=b.netns, master="br0", hairpin=True))
    a.add(Veth(name="p1", peer="p2", mac="02:00:00:00:01:01"))
    a.add(Bridge(name="br1", stp=True, ports=("p1",)))
    a.add(Vxlan(name="vx0", vni=42, remote="10.1.1.2", local="10.1.1.1", dev="p2"))
    a.add(Vxlan(name="vx6", vni=43, local="2001:db8:ff::1", remote="2001:db8:ff::2", ttl=9, learning=False))
    a.add(Macvlan(name="mv0", link="p2", mode="private", mtu=1300))
    a.add(Macvtap(name="mt0", link="p2", mode="vepa"))
    a.add(Ifb(name="ifb0", up=False))
    a.add(Veth(name="w1", peer="w2", up=False, alias="vnetkit:lab:n:w1", ifgroup=7))
    a.set_master("ifb0", "br0")
    a.add_address("br0", "172.18.0.1/16")
    a.add_address("br0", "fd00:18::1/64")
    a.add_address("p2", "10.0.0.1/24")
    a.add_address("p2", "10.0.0.2/24")  # a secondary
    a.add_address("p2", Address.parse("2001:db8:2::1/64 nodad"))
    a.add_address("p2", Address.parse("2001:db8:3::1/64 noprefixroute"))
    a.add_address("p2", Address.parse("10.0.12.1/24 scope link noprefixroute"))
    b.add_address("eth0", "172.18.0.5/16")
    b.add_address("eth0", "fd00:18::5/64")
    a.add_route("default", via="172.18.0.254")
    a.add_route("10.5.0.0/16", via="10.0.0.254", metric=10)
    a.add_route("10.6.0.0/16", dev="p2", table=100)
    a.add_route("default", dev="p2", table=100)
    a.add_route("10.7.0.0/16", dev="p2", table=1000)  # above 255: rtm_table says 252
    a.add_route("2001:db8:5::/48", via="fd00:18::fe", metric=7)
    a.add_route("default", via="fd00:18::fe")
    a.add_route(Route.parse("unreachable 2001:db8:66::/48"))
    a.add_route(Route.parse("prohibit 10.67.0.0/16 table 100"))
    a.add_route(Route.parse("10.68.0.0/16 dev p2 proto static scope global"))
    b.add_route("default", via="172.18.0.1")


def the_old_way(links: Links, table: int) -> NamespaceState:
    return NamespaceState(links.list(), links.address_list(), links.route_list(table=table), table)


@pytest.mark.parametrize("table", [MAIN, 100, 1000, 252, 255])
def test_it_reads_exactly_what_the_single_reads_return(fake: FakeNetlink, host: Host, table: int) -> None:
    a, b = Links("a", backend=fake, host=host), Links("b", backend=fake, host=host)
    populate(a, b)
    for links in (a, b, Links(backend=fake, host=host)):
        got = read_state(links, table=table)
        assert got == the_old_way(links, table)
    # Not vacuous: the namespace holds what the comparison is about.
    state = read_state(a, table=table)
    assert {link.kind for link in state.links} >= {"bridge", "veth", "vxlan", "macvlan", "macvtap", "ifb"}
    assert {link.hairpin for link in state.links} == {True, False, None}
    assert {route.table for route in state.routes} == ({table} if table != 252 else set())
    wanted = {
        MAIN: {"default via 172.18.0.254 dev br0", "2001:db8:5::/48 via fd00:18::fe dev br0 metric 7"},
        100: {"default dev p2 table 100 scope link", "prohibit 10.67.0.0/16 table 100"},
        1000: {"10.7.0.0/16 dev p2 table 1000 scope link"},
        252: set(),  # 1000's routes say 252 in their header, and are not of table 252
        255: {"local 10.0.0.1 dev p2 table local proto kernel scope host"},
    }[table]
    assert wanted <= {str(route) for route in state.routes}


def test_values_and_addresses_come_through(fake: FakeNetlink, host: Host) -> None:
    a, b = Links("a", backend=fake, host=host), Links("b", backend=fake, host=host)
    populate(a, b)
    state = read_state(a)
    links = {link.name: link for link in state.links}
    assert links["br0"].info == {"stp": False, "vlan_filtering": False, "ageing": 30.0}
    assert links["br1"].info["stp"] is True
    assert (links["veth-b"].master, links["veth-b"].hairpin, links["veth-b"].link_netnsid) == ("br0", True, 0)
    assert (links["p1"].master, links["p1"].hairpin, links["p1"].info) == ("br1", False, {"peer": "p2"})
    assert links["p1"].mac == "02:00:00:00:01:01"
    assert (links["w1"].alias, links["w1"].group, links["w1"].up) == ("vnetkit:lab:n:w1", 7, False)
    assert (links["vx0"].info["vxlan_id"], links["vx0"].info["remote"]) == (42, "10.1.1.2")
    assert (links["vx6"].info["local"], links["vx6"].info["learning"]) == ("2001:db8:ff::1", False)
    assert (links["mv0"].mtu, links["mv0"].info, links["mt0"].info) == (
        1300,
        {"mode": "private"},
        {"mode": "vepa"},
    )
    assert links["p2"].addresses[:5] == (
        "10.0.12.1/24",
        "10.0.0.1/24",
        "10.0.0.2/24",
        "2001:db8:3::1/64",
        "2001:db8:2::1/64",
    )
    secondary = next(x for x in state.addresses if str(x.interface) == "10.0.0.2/24")
    assert (secondary.dev, "secondary" in secondary.flags) == ("p2", True)
    [default] = [r for r in state.routes if r.dst.prefixlen == 0 and r.dst.version == 4]
    assert (str(default.gateway), default.dev) == ("172.18.0.254", "br0")
    assert {(str(r.dst), r.metric) for r in state.routes if r.dst.version == 6} >= {("2001:db8:5::/48", 7)}


def test_three_dumps_and_nothing_else(fake: FakeNetlink, host: Host) -> None:
    a, b = Links("a", backend=fake, host=host), Links("b", backend=fake, host=host)
    populate(a, b)
    fake.requests.clear()
    read_state(a)
    assert fake.requests == [
        ("a", messages.RTM_GETLINK, NLM_F_DUMP),
        ("a", messages.RTM_GETADDR, NLM_F_DUMP),
        ("a", messages.RTM_GETROUTE, NLM_F_DUMP),
    ]


def test_the_mixin_is_the_same_read(fake: FakeNetlink, host: Host) -> None:
    a, b = StateLinks("a", backend=fake, host=host), Links("b", backend=fake, host=host)
    populate(a, b)
    assert a.state() == read_state(a)
    assert a.state(table=100) == read_state(a, table=100) != a.state()


def test_a_namespace_that_is_gone_is_not_found(fake: FakeNetlink, host: Host) -> None:
    a = Links("a", backend=fake, host=host)
    fake.delete_namespace("a")
    with pytest.raises(NotFound):
        read_state(a)


# -- the requests packed without pyroute2's encoder ---------------------------------------------


def _encoded(msg: Any, msg_type: int, seq: int = 7) -> bytes:
    header = msg["header"]
    header["type"] = msg_type
    header["flags"] = NLM_F_DUMP | 0x1
    header["sequence_number"] = seq
    header["pid"] = 0
    msg.encode()
    return bytes(msg.data)


def _route_dump_by_pyroute2(table: int) -> Any:
    msg = messages.routes(0)
    msg["attrs"] = [("RTA_TABLE", table)]
    return msg


@pytest.mark.parametrize(
    ("fast", "slow", "msg_type"),
    [
        (messages.link_dump, messages.links, messages.RTM_GETLINK),
        (messages.address_dump, lambda: messages.address(0), messages.RTM_GETADDR),
        (lambda: messages.routes_of_table(254), lambda: _route_dump_by_pyroute2(254), messages.RTM_GETROUTE),
        (
            lambda: messages.routes_of_table(70000),
            lambda: _route_dump_by_pyroute2(70000),
            messages.RTM_GETROUTE,
        ),
    ],
)
def test_packed_requests_are_the_bytes_pyroute2_writes(fast: Any, slow: Any, msg_type: int) -> None:
    mine = fast()
    assert _encoded(mine, msg_type) == _encoded(slow(), msg_type)
    # Sent again (a dump the kernel interrupted): the same bytes, with the new sequence number only.
    again = _encoded(mine, msg_type, seq=8)
    assert again == _encoded(slow(), msg_type, seq=8)
    # And read back as the message it stands for.
    decoded = messages.decode(type(mine), [again])[0]
    assert (decoded["header"]["type"], decoded["header"]["sequence_number"]) == (msg_type, 8)


# -- the reader against pyroute2's decode, on crafted replies -----------------------------------


def _reply(msg: Any, msg_type: int) -> bytes:
    header = msg["header"]
    header["type"] = msg_type
    header["flags"] = _NLM_F_MULTI
    header["sequence_number"] = 1
    header["pid"] = 0
    msg.encode()
    return bytes(msg.data)


def _link(index: int, attrs: list[tuple[str, object]], *, flags: int = _IFF_UP) -> bytes:
    msg = messages.link(attrs, index=index, flags=flags)
    msg["ifi_type"] = 1
    return _reply(msg, messages.RTM_NEWLINK)


NAMES = {1: "lo", 2: "eth0", 3: "br0", 5: "p2"}
LINKS: dict[str, list[tuple[str, object]]] = {
    "vlan 802.1ad": [
        ("IFLA_IFNAME", "v10"),
        ("IFLA_OPERSTATE", "LOWERLAYERDOWN"),
        ("IFLA_MTU", 1500),
        ("IFLA_LINK", 5),
        ("IFLA_ADDRESS", "02:00:00:00:00:0a"),
        ("IFLA_LINKINFO", messages.link_info("vlan", {"IFLA_VLAN_ID": 10, "IFLA_VLAN_PROTOCOL": 0x88A8})[1]),
    ],
    "vlan on a bridge, a port itself": [
        ("IFLA_IFNAME", "v20"),
        ("IFLA_MASTER", 3),
        ("IFLA_LINK", 5),
        (
            "IFLA_LINKINFO",
            {
                "attrs": [
                    ("IFLA_INFO_KIND", "vlan"),
                    ("IFLA_INFO_DATA", {"attrs": [("IFLA_VLAN_ID", 20)]}),
                    ("IFLA_INFO_SLAVE_KIND", "bridge"),
                    ("IFLA_INFO_SLAVE_DATA", {"attrs": [("IFLA_BRPORT_STATE", 3), ("IFLA_BRPORT_MODE", 1)]}),
                ]
            },
        ),
    ],
    "ipvlan l3s": [
        ("IFLA_IFNAME", "ipv0"),
        ("IFLA_LINK", 5),
        ("IFLA_LINKINFO", messages.link_info("ipvlan", {"IFLA_IPVLAN_MODE": 2})[1]),
    ],
    "tap": [
        ("IFLA_IFNAME", "tap0"),
        ("IFLA_OPERSTATE", "DOWN"),
        (
            "IFLA_LINKINFO",
            messages.link_info(
                "tun",
                {
                    "IFLA_TUN_TYPE": 2,
                    "IFLA_TUN_OWNER": 1000,
                    "IFLA_TUN_PERSIST": 1,
                    "IFLA_TUN_MULTI_QUEUE": 0,
                },
            )[1],
        ),
    ],
    "veth peer elsewhere, negative netnsid": [
        ("IFLA_IFNAME", "eth0"),
        ("IFLA_LINK", 2),
        ("IFLA_LINK_NETNSID", -1),
        ("IFLA_IFALIAS", "vnetkit:lab:c1:eth0"),
        ("IFLA_GROUP", 4096),
        ("IFLA_LINKINFO", {"attrs": [("IFLA_INFO_KIND", "veth")]}),
    ],
    "port of another kind of master": [
        ("IFLA_IFNAME", "b0"),
        ("IFLA_MASTER", 3),
        (
            "IFLA_LINKINFO",
            {"attrs": [("IFLA_INFO_KIND", "veth"), ("IFLA_INFO_SLAVE_KIND", "bond")]},
        ),
    ],
    "no attributes the records read": [("IFLA_TXQLEN", 1000), ("IFLA_CARRIER", 1)],
    "loopback": [("IFLA_IFNAME", "lo"), ("IFLA_ADDRESS", "00:00:00:00:00:00"), ("IFLA_OPERSTATE", "UNKNOWN")],
}


@pytest.mark.parametrize("case", sorted(LINKS))
def test_a_link_reads_as_pyroute2_decodes_it(case: str) -> None:
    reply = _link(7, LINKS[case], flags=0 if "tap" in case else _IFF_UP)
    [fast] = messages.read_links([reply])
    [full] = messages.decode_links([reply])
    assert link_from_message(fast, NAMES) == link_from_message(full, NAMES)
    for field in ("family", "ifi_type", "index", "flags", "change"):
        assert fast[field] == full[field], field


def test_data_of_a_kind_pyroute2_does_not_know_is_its_hex_there_too() -> None:
    # (``records`` cannot read such a link, by either reader: its ``_info`` expects a mapping.)
    info = {"attrs": [("IFLA_INFO_KIND", "netkit"), ("IFLA_INFO_DATA", "00:01:02:03")]}
    attrs: list[tuple[str, object]] = [("IFLA_IFNAME", "nk0"), ("IFLA_LINKINFO", info)]
    reply = _link(7, attrs)
    [fast] = messages.read_links([reply])
    [full] = messages.decode_links([reply])
    data = fast.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
    assert data == full.get_attr("IFLA_LINKINFO").get_attr("IFLA_INFO_DATA")
    assert isinstance(data, str)


def test_the_reader_reads_each_attribute_as_pyroute2() -> None:
    attrs: list[tuple[str, object]] = [
        ("IFLA_IFNAME", "eth0"),
        ("IFLA_MTU", 9000),
        ("IFLA_LINK", 2),
        ("IFLA_MASTER", 3),
        ("IFLA_OPERSTATE", "DORMANT"),
        ("IFLA_IFALIAS", "x"),
        ("IFLA_GROUP", 0xFFFFFFFF),
        ("IFLA_LINK_NETNSID", 5),
        ("IFLA_ADDRESS", "02:ab:cd:ef:00:01"),
    ]
    reply = _link(2, attrs)
    [fast] = messages.read_links([reply])
    [full] = messages.decode_links([reply])
    for name, _ in attrs:
        assert fast.get_attr(name) == full.get_attr(name), name
    assert fast.get_attr("IFLA_TXQLEN") is None  # not read: absent


def test_a_name_that_is_not_utf8_stays_bytes_as_in_pyroute2() -> None:
    msg = messages.link([("IFLA_IFNAME", "x")], index=9)
    reply = bytearray(_reply(msg, messages.RTM_NEWLINK))
    at = reply.index(b"x\0")
    reply[at] = 0xFF
    [fast] = messages.read_links([bytes(reply)])
    [full] = messages.decode_links([bytes(reply)])
    assert fast.get_attr("IFLA_IFNAME") == full.get_attr("IFLA_IFNAME") == b"\xff"


def test_a_link_layer_address_of_another_length_is_read_whole() -> None:
    # pyroute2 reads 6 bytes whatever the length; the reader writes the bytes there are.
    msg = messages.link([("IFLA_IFNAME", "gre1")], index=9)
    reply = _reply(msg, messages.RTM_NEWLINK)
    attribute = b"\x08\x00\x01\x00" + bytes([10, 0, 0, 1])  # IFLA_ADDRESS, 4 bytes (an ipip/gre link)
    reply = (len(reply) + len(attribute)).to_bytes(4, "little") + reply[4:] + attribute
    [fast] = messages.read_links([reply])
    assert fast.get_attr("IFLA_ADDRESS") == "0a:00:00:01"
    assert fast.get_attr("IFLA_IFNAME") == "gre1"


def _address(
    family: int, prefixlen: int, attrs: list[tuple[str, object]], *, flags: int, scope: int
) -> bytes:
    msg = messages.address(0)
    msg["family"], msg["prefixlen"], msg["flags"], msg["scope"], msg["index"] = (
        family,
        prefixlen,
        flags,
        scope,
        2,
    )
    msg["attrs"] = attrs
    return _reply(msg, messages.RTM_NEWADDR)


ADDRESSES: dict[str, tuple[int, int, list[tuple[str, object]]]] = {
    "ipv4 with flags": (
        socket.AF_INET,
        24,
        [("IFA_ADDRESS", "10.0.0.1"), ("IFA_LOCAL", "10.0.0.1"), ("IFA_FLAGS", 0x281)],
    ),
    "ipv4 peer": (socket.AF_INET, 32, [("IFA_ADDRESS", "10.9.9.9"), ("IFA_LOCAL", "10.0.0.1")]),
    "ipv6 temporary": (socket.AF_INET6, 64, [("IFA_ADDRESS", "2001:db8::1"), ("IFA_FLAGS", 0x1)]),
    "ipv6 no IFA_FLAGS": (socket.AF_INET6, 128, [("IFA_ADDRESS", "::1")]),
    "ipv6 zeros": (socket.AF_INET6, 64, [("IFA_ADDRESS", "fe80::"), ("IFA_FLAGS", 0x40)]),
}


@pytest.mark.parametrize("case", sorted(ADDRESSES))
def test_an_address_reads_as_pyroute2_decodes_it(case: str) -> None:
    family, prefixlen, attrs = ADDRESSES[case]
    reply = _address(family, prefixlen, attrs, flags=0x80, scope=200 if family == socket.AF_INET else 0)
    [fast] = messages.read_addresses([reply])
    [full] = messages.decode_addresses([reply])
    assert address_from_message(fast, NAMES) == address_from_message(full, NAMES)
    assert messages.read_addresses([reply])[0].get_attr("IFA_LOCAL") == full.get_attr("IFA_LOCAL")


def _route(family: int, attrs: list[tuple[str, object]], *, table: int, dst_len: int = 0) -> bytes:
    msg = messages.routes(family)
    msg["dst_len"], msg["table"], msg["proto"], msg["scope"], msg["type"] = dst_len, table, 4, 0, 1
    msg["attrs"] = attrs
    return _reply(msg, messages.RTM_NEWROUTE)


ROUTES = [
    _route(socket.AF_INET, [("RTA_TABLE", 254), ("RTA_GATEWAY", "10.0.0.254"), ("RTA_OIF", 2)], table=254),
    _route(
        socket.AF_INET6,
        [("RTA_TABLE", 254), ("RTA_DST", "2001:db8::"), ("RTA_PRIORITY", 1024), ("RTA_OIF", 5)],
        table=254,
        dst_len=32,
    ),
    _route(
        socket.AF_INET, [("RTA_TABLE", 255), ("RTA_DST", "127.0.0.1"), ("RTA_OIF", 1)], table=255, dst_len=32
    ),
    _route(
        socket.AF_INET, [("RTA_TABLE", 1000), ("RTA_DST", "10.7.0.0"), ("RTA_OIF", 5)], table=252, dst_len=16
    ),
    _route(
        socket.AF_INET, [("RTA_TABLE", 252), ("RTA_DST", "10.8.0.0"), ("RTA_OIF", 5)], table=252, dst_len=16
    ),
    _route(
        socket.AF_INET, [("RTA_DST", "10.9.0.0"), ("RTA_PRIORITY", 5)], table=254, dst_len=16
    ),  # no RTA_TABLE
]


@pytest.mark.parametrize("table", [None, 254, 255, 252, 1000, 7])
def test_routes_read_as_pyroute2_decodes_them_and_only_of_the_table(table: int | None) -> None:
    fast = [route_from_message(msg, NAMES) for msg in messages.read_routes(ROUTES, table=table)]
    full = [route_from_message(msg, NAMES) for msg in messages.decode_routes(ROUTES)]
    assert fast == [route for route in full if route is not None and (table is None or route.table == table)]
    assert len(fast) == {None: 6, 254: 3, 255: 1, 252: 1, 1000: 1, 7: 0}[table]


def test_a_route_of_another_family_is_read_and_left_to_the_records() -> None:
    mpls = _route(28, [("RTA_OIF", 2)], table=254)  # AF_MPLS: records skip it
    [fast] = messages.read_routes([mpls], table=254)
    assert route_from_message(fast, NAMES) is None
