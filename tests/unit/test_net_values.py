"""Addresses, routes and neighbours as values: checked when made, read back from the text they print.

Pure. Property tests: ``parse(str(value)) == value`` for every value the
types can hold (the text is close to what ``ip`` prints), and plain text
in the forms people write reads as they mean it. Bad input is a
``ConfigError`` that says what to give instead.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnetkit.errors import ConfigError
from vnetkit.model import Address, Link, Neighbour, Route
from vnetkit.model.names import ADDRESS_FLAGS, NUD_STATES, ROUTE_PROTOCOLS, ROUTE_TYPES, SCOPES, TABLES

# -- strategies -------------------------------------------------------------------------------

ifnames = st.text(string.ascii_letters + string.digits + "-_.@", min_size=1, max_size=15).filter(
    lambda name: name not in (".", "..")
)
v4 = st.ip_addresses(v=4)
v6 = st.ip_addresses(v=6)


@st.composite
def interfaces(draw: st.DrawFn) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    ip = draw(st.one_of(v4, v6))
    return ipaddress.ip_interface((ip, draw(st.integers(0, ip.max_prefixlen))))


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    scope = draw(
        st.one_of(st.just(""), st.sampled_from(sorted(SCOPES.values())), st.integers(0, 255).map(str))
    )
    return Address(
        draw(interfaces()),
        dev=draw(st.none() | ifnames),
        scope=scope,
        flags=draw(st.frozensets(st.sampled_from([*ADDRESS_FLAGS.values(), "temporary", "0x1000"]))),
        index=draw(st.integers(0, 2**31)),
    )


@st.composite
def routes(draw: st.DrawFn) -> Route:
    family = draw(st.sampled_from((4, 6)))
    ip = draw(v4 if family == 4 else v6)
    dst = ipaddress.ip_network((ip, draw(st.integers(0, ip.max_prefixlen))), strict=False)
    return Route(
        dst,
        gateway=draw(st.none() | (v4 if family == 4 else v6)),
        dev=draw(st.none() | ifnames),
        metric=draw(st.none() | st.integers(0, 2**32 - 1)),
        table=draw(st.integers(1, 2**32 - 1) | st.sampled_from(sorted(TABLES))),
        protocol=draw(st.sampled_from(sorted(ROUTE_PROTOCOLS.values())) | st.integers(0, 255).map(str)),
        scope=draw(st.just("") | st.sampled_from(sorted(SCOPES.values()))),
        type=draw(st.sampled_from(sorted(ROUTE_TYPES.values()))),
        index=draw(st.integers(0, 2**31)),
    )


lladdrs = st.binary(min_size=1, max_size=32).map(lambda raw: ":".join(f"{b:02X}" for b in raw))


@st.composite
def neighbours(draw: st.DrawFn) -> Neighbour:
    return Neighbour(
        draw(st.one_of(v4, v6)),
        lladdr=draw(st.none() | lladdrs),
        dev=draw(st.none() | ifnames),
        state=draw(st.frozensets(st.sampled_from(sorted(NUD_STATES.values())))),
        index=draw(st.integers(0, 2**31)),
    )


# -- round trips ----------------------------------------------------------------------------


@given(addresses())
def test_an_address_reads_back_from_its_text(address: Address) -> None:
    again = Address.parse(str(address))
    assert again == address
    assert hash(again) == hash(address)
    assert str(again) == str(address)


@given(interfaces())
def test_plain_address_text_reads_as_the_interface(interface: ipaddress.IPv4Interface) -> None:
    address = Address.parse(str(interface))
    assert address.interface == interface
    assert (address.ip, address.network, address.prefixlen) == (
        interface.ip,
        interface.network,
        interface.network.prefixlen,
    )
    assert address.family == ("ipv4" if interface.version == 4 else "ipv6")
    assert str(address).startswith(f"{interface} scope ")


@given(routes())
def test_a_route_reads_back_from_its_text(route: Route) -> None:
    again = Route.parse(str(route))
    assert again == route
    assert hash(again) == hash(route)
    assert str(again) == str(route)


@given(neighbours())
def test_a_neighbour_reads_back_from_its_text(entry: Neighbour) -> None:
    again = Neighbour.parse(str(entry))
    assert again == entry
    assert hash(again) == hash(entry)


# -- the text, as ip writes it --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("10.0.0.1/24", "10.0.0.1/24 scope global"),
        ("10.0.0.1", "10.0.0.1/32 scope global"),
        ("10.0.0.1/24 dev eth0 permanent", "10.0.0.1/24 dev eth0 scope global permanent"),
        ("127.0.0.1/8 dev lo scope host permanent", "127.0.0.1/8 dev lo scope host permanent"),
        ("fe80::1/64 dev eth0", "fe80::1/64 dev eth0 scope link"),  # the kernel's scope for IPv6
        ("::1/128", "::1/128 scope host"),
        ("2001:DB8::1/64 scope 200 nodad", "2001:db8::1/64 scope site nodad"),
    ],
)
def test_address_text(text: str, printed: str) -> None:
    assert str(Address.parse(text)) == printed


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("default via 10.0.0.1", "default via 10.0.0.1"),
        ("default via 10.0.0.1 dev eth0 proto boot scope global metric 0", "default via 10.0.0.1 dev eth0"),
        ("10.1.0.0/16 dev eth0", "10.1.0.0/16 dev eth0 scope link"),
        ("10.1.2.3/16 dev eth0 priority 5", "10.1.0.0/16 dev eth0 scope link metric 5"),  # host bits go
        ("10.2.0.0/16 via 10.0.0.1 table 100", "10.2.0.0/16 via 10.0.0.1 table 100"),
        ("default via fd00::1", "default via fd00::1 metric 1024"),  # IPv6, the kernel's metric
        ("::/0 dev eth0", "::/0 dev eth0 metric 1024"),  # no gateway: not read as IPv4
        (
            "local 10.0.0.1 dev eth0 table local proto kernel",
            "local 10.0.0.1 dev eth0 table local proto kernel scope host",
        ),
        ("blackhole 192.0.2.0/24 table 254", "blackhole 192.0.2.0/24"),
        ("10.3.0.0/16 dev eth0 proto 42 scope global", "10.3.0.0/16 dev eth0 proto babel scope global"),
    ],
)
def test_route_text(text: str, printed: str) -> None:
    assert str(Route.parse(text)) == printed


def test_route_of_takes_ip_route_add_arguments() -> None:
    assert Route.of(via="10.0.0.1") == Route.parse("default via 10.0.0.1")
    assert Route.of("default", via="fd00::1").dst == ipaddress.ip_network("::/0")
    assert Route.of("10.0.0.0/24", dev="eth0", metric=7, table="main") == Route(
        ipaddress.ip_network("10.0.0.0/24"), dev="eth0", metric=7, scope="link"
    )
    route = Route.of(ipaddress.ip_network("fd00::/64"), via=ipaddress.ip_address("fd00::1"))
    assert (route.metric, route.scope, route.table, route.protocol, route.type) == (
        1024,
        "global",
        254,
        "boot",
        "unicast",
    )
    assert route.family == "ipv6"
    assert route.is_default is False


def test_index_is_read_but_not_compared() -> None:
    one = Address.parse("10.0.0.1/24 dev eth0")
    assert dataclasses.replace(one, index=7) == one
    route = Route(ipaddress.ip_network("0.0.0.0/0"), gateway=ipaddress.ip_address("10.0.0.1"), index=3)
    assert route == Route.parse("default via 10.0.0.1")
    assert Neighbour.parse("10.0.0.2") == Neighbour(
        ipaddress.ip_address("10.0.0.2"), state=frozenset(), index=4
    )


def test_neighbour_text() -> None:
    entry = Neighbour.parse("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:0A PERMANENT")
    assert str(entry) == "10.0.0.2 dev eth0 lladdr 02:00:00:00:00:0a PERMANENT"
    assert entry.nud == 0x80
    assert entry.family == "ipv4"
    assert str(Neighbour.parse("fd00::2 dev eth0 FAILED")) == "fd00::2 dev eth0 FAILED"
    assert str(Neighbour(ipaddress.ip_address("10.0.0.3"), state=frozenset())) == "10.0.0.3 NONE"
    assert Neighbour.parse("10.0.0.3 NONE").state == frozenset()


def test_values_are_frozen_and_hashable() -> None:
    address = Address.parse("10.0.0.1/24")
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.dev = "eth1"  # type: ignore[misc]
    assert len({address, Address.parse("10.0.0.1/24 scope global")}) == 1
    assert len({Route.parse("default via 10.0.0.1"), Route.of(via="10.0.0.1")}) == 1
    link = Link(
        index=1,
        name="br0",
        kind="bridge",
        state="UP",
        mtu=1500,
        mac=None,
        master=None,
        alias=None,
        group=0,
        link_index=None,
        link_netnsid=None,
        info={"stp": False},
        addresses=("10.0.0.1/24", "fd00::1/64"),
    )
    assert hash(link) == hash(dataclasses.replace(link, info={"stp": True}))  # info: equality only
    assert link != dataclasses.replace(link, info={"stp": True})
    assert link.interfaces == (ipaddress.ip_interface("10.0.0.1/24"), ipaddress.ip_interface("fd00::1/64"))


# -- bad input says what to give instead -----------------------------------------------------


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Address.parse("10.0.0.1/33"), r"10\.0\.0\.1/33.*ADDRESS/PREFIX"),
        (lambda: Address.parse("nonsense"), "ADDRESS/PREFIX"),
        (lambda: Address.parse(""), "empty"),
        (lambda: Address.parse("10.0.0.1/24 dev"), "dev needs a value"),
        (lambda: Address.parse("10.0.0.1/24 bogus"), "scope SCOPE or a flag"),
        (lambda: Address.parse("10.0.0.1/24 scope galaxy"), "global, site, link, host"),
        (lambda: Address.parse("10.0.0.1/24 dev eth0", dev="eth1"), "eth1"),
        (lambda: Address.parse("10.0.0.1/24 dev a/b"), "no '/'"),
        (lambda: Address("10.0.0.1/24"), "Address.parse"),  # type: ignore[arg-type]
        (lambda: Address(ipaddress.ip_interface("10.0.0.1/24"), flags=frozenset({"shiny"})), "address flag"),
        (lambda: Route.parse("10.0.0.0/33 dev eth0"), "'default' or a network"),
        (lambda: Route.parse("default via 10.0.0"), "gateway"),
        (lambda: Route.parse("default via 10.0.0.1 table nope"), "main"),
        (lambda: Route.parse("default via 10.0.0.1 table 0"), "1..4294967295"),
        (lambda: Route.parse("default via 10.0.0.1 metric -1"), "metric"),
        (lambda: Route.parse("default via 10.0.0.1 colour red"), "via"),
        (lambda: Route.parse("default via"), "needs a value"),
        (lambda: Route.parse("10.0.0.0/8 via fd00::1"), "not of its family"),
        (lambda: Route.parse("default via 10.0.0.1 proto martian"), "boot"),
        (lambda: Route.of("default", via="10.0.0.1", table=2**32), "routing table"),
        (lambda: Route("10.0.0.0/8"), "Route.parse"),  # type: ignore[arg-type]
        (lambda: Route(ipaddress.ip_network("10.0.0.0/8"), gateway="10.0.0.1"), "Route.of"),  # type: ignore[arg-type]
        (lambda: Route(ipaddress.ip_network("10.0.0.0/8"), type="teleport"), "unicast"),
        (lambda: Neighbour.parse("not-an-ip dev eth0"), "not an IP address"),
        (lambda: Neighbour.parse("10.0.0.2 lladdr zz"), "hex bytes"),
        (lambda: Neighbour.parse("10.0.0.2 SLEEPY"), "PERMANENT"),
    ],
)
def test_bad_input_is_a_config_error_saying_what_to_give(make: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make()  # type: ignore[operator]
