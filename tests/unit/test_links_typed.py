"""``Links`` reads and writes typed values, without a kernel: a backend answers from canned replies.

The replies are real rtnetlink messages (built and encoded with the same
message classes the kernel's replies are decoded with); every request
``Links`` sends is kept, encoded, so a write given a value can be compared
byte for byte with the same write given text. Also: the old string and
dict reads still answer as before and warn, naming their replacement,
and what ``route ls --json`` prints is what ``routes()`` gave.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from vnetkit.cli.render_links import route_as_dict
from vnetkit.errors import AlreadyExists, ConfigError, NotFound
from vnetkit.exec.netlink import NLM_F_DUMP, NetlinkBackend
from vnetkit.exec.runner import SystemRunner
from vnetkit.links import Address, Links, Neighbour, Route, messages

T = TypeVar("T")


def _encoded(msg: Any) -> bytes:
    msg.encode()
    return bytes(msg.data)


def _route(family: int, dst: str | None, dst_len: int, **fields: Any) -> bytes:
    msg = messages.route(
        delete=False,
        family=family,
        dst=dst,
        dst_len=dst_len,
        gateway=fields.get("gateway"),
        oif=fields.get("oif"),
        metric=fields.get("metric"),
        table=fields.get("table"),
        protocol=fields.get("protocol", 3),
        scope=fields.get("scope"),
        type=fields.get("type", 1),
    )
    return _encoded(msg)


def _mpls_route() -> bytes:
    msg = messages.routes(28)  # AF_MPLS
    msg["attrs"] = [("RTA_OIF", 2)]
    return _encoded(msg)


class CannedKernel(NetlinkBackend):
    """Answers reads from canned replies and keeps every other request (encoded) instead of sending it."""

    def __init__(self) -> None:
        super().__init__(SystemRunner())  # never started: nothing here enters a namespace
        self.links = {1: "lo", 2: "eth0", 3: "br0"}
        self.routes = [
            _route(socket.AF_INET, None, 0, gateway="10.0.0.254", oif=2),
            _route(socket.AF_INET, "10.0.0.0", 24, oif=2, protocol=2),
            _route(socket.AF_INET, "10.9.0.0", 16, oif=3, metric=50, table=100),
            _route(socket.AF_INET, "10.0.0.1", 32, oif=2, table=255, protocol=2, scope=254, type=2),
            _route(socket.AF_INET6, None, 0, gateway="fd00::fe", oif=2, metric=1024),
            _route(socket.AF_INET6, "::1", 128, oif=1, metric=0, table=255, protocol=2, scope=0, type=2),
            _mpls_route(),  # not IP: left out of route_list
        ]
        self.addresses = [
            _encoded(messages.address(1, "127.0.0.1", 8, scope=254, flags=0x80)),
            _encoded(messages.address(2, "10.0.0.1", 24, flags=0x80)),
            _encoded(messages.address(2, "fe80::1", 64, scope=253, flags=0x80)),
        ]
        fdb = messages.neighbours()
        fdb["family"] = socket.AF_BRIDGE
        fdb["ifindex"] = 3
        fdb["attrs"] = [("NDA_LLADDR", "02:00:00:00:00:99")]
        self.neighbours = [
            _encoded(messages.neighbour(2, "10.0.0.254", "02:00:00:00:00:fe")),
            _encoded(messages.neighbour(2, "fd00::fe", "02:00:00:00:00:fe", state=0x02)),
            _encoded(fdb),  # a bridge's forwarding entry: no IP, not a neighbour
        ]
        self.sent: list[tuple[int, int, bytes]] = []

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        dump = (flags & NLM_F_DUMP) == NLM_F_DUMP
        if msg_type == messages.RTM_GETLINK:
            return self._links(msg, dump, action)
        if msg_type == messages.RTM_GETROUTE and dump:
            return list(self.routes)
        if msg_type == messages.RTM_GETADDR and dump:
            return [r for r in self.addresses if msg["index"] in (0, messages.ifindex_of(r))]
        if msg_type == messages.RTM_GETNEIGH and dump:
            return list(self.neighbours)
        self.sent.append((msg_type, flags, _encoded(msg)))
        return []

    def _links(self, msg: Any, dump: bool, action: str) -> list[bytes]:
        every = {i: _encoded(messages.link([("IFLA_IFNAME", n)], index=i)) for i, n in self.links.items()}
        if dump:
            return list(every.values())
        name = msg.get_attr("IFLA_IFNAME")
        for index, known in self.links.items():
            if known == name or (name is None and index == msg["index"]):
                return [every[index]]
        raise NotFound(f"{action}: No such device")

    def in_namespace(self, netns: str | None, fn: Callable[[], T]) -> T:
        raise AssertionError("nothing here runs in a namespace")


@pytest.fixture
def kernel() -> CannedKernel:
    return CannedKernel()


@pytest.fixture
def links(kernel: CannedKernel) -> Links:
    return Links("lab", backend=kernel)


# -- reads --------------------------------------------------------------------------------------


def test_route_list_gives_route_values_with_link_names(links: Links) -> None:
    got = links.route_list()
    assert [str(r) for r in got] == [
        "default via 10.0.0.254 dev eth0",
        "10.0.0.0/24 dev eth0 proto kernel scope link",
        "10.9.0.0/16 dev br0 table 100 scope link metric 50",
        "local 10.0.0.1 dev eth0 table local proto kernel scope host",
        "default via fd00::fe dev eth0 metric 1024",
        "local ::1 dev lo table local proto kernel metric 0",
    ]
    assert [r.index for r in got[:3]] == [2, 2, 3]
    assert got[0].gateway == ipaddress.ip_address("10.0.0.254")
    assert links.route_list(table=100) == [Route.parse("10.9.0.0/16 dev br0 table 100 metric 50")]


def test_route_ls_json_is_what_routes_gave(links: Links) -> None:
    with pytest.warns(DeprecationWarning, match=r"Links\.routes\(\) is deprecated.*Links\.route_list\(\)"):
        legacy = links.routes()
    ip_only = [row for row in legacy if row["dst"] != "default" or row["gateway"] is not None]
    assert ip_only == [route_as_dict(r) for r in links.route_list()]
    assert ip_only[0] == {
        "dst": "default",
        "gateway": "10.0.0.254",
        "metric": None,  # IPv4 metric 0: the kernel leaves it out
        "table": 254,
        "family": "ipv4",
        "dev": "eth0",
    }
    assert [row["metric"] for row in ip_only[4:]] == [1024, 0]
    with pytest.warns(DeprecationWarning, match="route_list"):
        assert links.routes(table=100) == [route_as_dict(links.route_list(table=100)[0])]


def test_address_list_gives_address_values(links: Links) -> None:
    assert [str(a) for a in links.address_list()] == [
        "127.0.0.1/8 dev lo scope host permanent",
        "10.0.0.1/24 dev eth0 scope global permanent",
        "fe80::1/64 dev eth0 scope link permanent",
    ]
    assert links.address_list("eth0") == [
        Address.parse("10.0.0.1/24 dev eth0 permanent"),
        Address.parse("fe80::1/64 dev eth0 permanent"),
    ]
    assert [a.index for a in links.address_list("eth0")] == [2, 2]
    with pytest.raises(NotFound, match="nope"):
        links.address_list("nope")
    with pytest.warns(DeprecationWarning, match="address_list"):
        assert links.addresses("eth0") == ["10.0.0.1/24", "fe80::1/64"]
    with pytest.warns(DeprecationWarning, match="address_list"):
        assert links.addresses() == [str(a.interface) for a in links.address_list()]


def test_neighbour_list_gives_neighbour_values(links: Links) -> None:
    assert [str(n) for n in links.neighbour_list()] == [
        "10.0.0.254 dev eth0 lladdr 02:00:00:00:00:fe PERMANENT",
        "fd00::fe dev eth0 lladdr 02:00:00:00:00:fe REACHABLE",
    ]
    assert links.neighbour_list("br0") == []
    assert links.neighbour_list("eth0")[0] == Neighbour.parse(
        "10.0.0.254 dev eth0 lladdr 02:00:00:00:00:fe PERMANENT"
    )
    with pytest.warns(DeprecationWarning, match="neighbour_list"):
        legacy = links.neighbours()
    assert legacy[:2] == [
        {"ip": "10.0.0.254", "mac": "02:00:00:00:00:fe", "dev": "eth0", "state": 0x80},
        {"ip": "fd00::fe", "mac": "02:00:00:00:00:fe", "dev": "eth0", "state": 0x02},
    ]


# -- writes: a value sends exactly what the text sends ---------------------------------------------


def _sent_by(kernel: CannedKernel, write: Callable[[], object]) -> list[tuple[int, int, bytes]]:
    kernel.sent.clear()
    write()
    return list(kernel.sent)


@pytest.mark.parametrize("verb", ["add_route", "delete_route"])
@pytest.mark.parametrize(
    ("args", "text"),
    [
        (("default",), {"via": "10.0.0.254"}),
        (("10.9.0.0/16",), {"dev": "br0", "metric": 50, "table": 100}),
        (("default",), {"via": "fd00::fe", "dev": "eth0"}),
        (("fd00:1::/64",), {"dev": "eth0", "metric": 7}),
    ],
)
def test_a_route_value_sends_what_the_arguments_send(
    kernel: CannedKernel, links: Links, verb: str, args: tuple[str], text: dict[str, Any]
) -> None:
    write = getattr(links, verb)
    value = Route.of(*args, **text)
    by_text = _sent_by(kernel, lambda: write(*args, **text))
    by_value = _sent_by(kernel, lambda: write(value))
    by_parse = _sent_by(kernel, lambda: write(Route.parse(str(value))))
    assert by_text == by_value == by_parse
    assert len(by_text) == 1


def test_route_writes_refuse_mixed_or_incomplete_input(kernel: CannedKernel, links: Links) -> None:
    with pytest.raises(ConfigError, match="not both"):
        links.add_route(Route.parse("default via 10.0.0.254"), via="10.0.0.1")
    with pytest.raises(ConfigError, match="via"):
        links.add_route("10.8.0.0/16")
    with pytest.raises(ConfigError, match="via"):
        links.add_route(Route(ipaddress.ip_network("10.8.0.0/16")))
    assert kernel.sent == []
    links.add_route(Route.parse("blackhole 10.8.0.0/16"))  # no gateway or device needed
    [(_, _, request)] = kernel.sent
    [decoded] = messages.decode_routes([request])
    assert (decoded["type"], decoded["dst_len"], decoded.get_attr("RTA_OIF")) == (6, 16, None)


def test_ensure_route_compares_values(kernel: CannedKernel, links: Links) -> None:
    assert links.ensure_route(Route.parse("default via 10.0.0.254")) is False
    assert links.ensure_route("10.9.0.0/16", dev="br0", metric=50, table=100) is False
    assert links.ensure_route("default", via="fd00::fe") is False  # metric 1024 on both sides
    assert kernel.sent == []
    with pytest.raises(AlreadyExists, match=r"goes via 10\.0\.0\.254 dev eth0, wanted via 10\.0\.0\.9"):
        links.ensure_route(via="10.0.0.9")
    assert links.ensure_route(Route.parse("10.7.0.0/16 via 10.0.0.9")) is True
    assert len(kernel.sent) == 1


@pytest.mark.parametrize("verb", ["add_address", "delete_address"])
def test_an_address_value_sends_what_the_text_sends(kernel: CannedKernel, links: Links, verb: str) -> None:
    write = getattr(links, verb)
    by_text = _sent_by(kernel, lambda: write("eth0", "10.0.0.2/24"))
    by_value = _sent_by(kernel, lambda: write("eth0", Address.parse("10.0.0.2/24 dev eth0")))
    by_interface = _sent_by(kernel, lambda: write("eth0", ipaddress.ip_interface("10.0.0.2/24")))
    assert by_text == by_value == by_interface
    assert len(by_text) == 1
    with pytest.raises(ConfigError, match="not on eth0"):
        write("eth0", Address.parse("10.0.0.2/24 dev br0"))


def test_an_address_value_sends_its_scope_and_settable_flags(kernel: CannedKernel, links: Links) -> None:
    links.add_address("lo", Address.parse("127.0.0.2/8 scope host nodad permanent tentative"))
    [(_, _, request)] = kernel.sent
    [msg] = messages.decode_addresses([request])
    assert (msg["scope"], msg.get_attr("IFA_FLAGS")) == (254, 0x02)  # nodad; the kernel's own are not asked


def test_ensure_address_takes_values(kernel: CannedKernel, links: Links) -> None:
    assert links.ensure_address("eth0", Address.parse("10.0.0.1/24")) is False
    with pytest.raises(AlreadyExists, match=r"10\.0\.0\.1/24, wanted 10\.0\.0\.1/16"):
        links.ensure_address("eth0", ipaddress.ip_interface("10.0.0.1/16"))
    assert kernel.sent == []
