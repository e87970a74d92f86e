"""The packet grammar of ``vnetkit trace``: what parses, into what, and what is refused (with the grammar)."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnetkit.errors import ConfigError
from vnetkit.trace.packet import GRAMMAR, Packet, parse_packet


def test_the_contract_examples() -> None:
    p = parse_packet("tcp 10.0.0.2:40000 -> 198.51.100.2:80 in eth0")
    assert (p.proto, p.src, p.sport, p.dst, p.dport, p.in_interface) == (
        6,
        ipaddress.ip_address("10.0.0.2"),
        40000,
        ipaddress.ip_address("198.51.100.2"),
        80,
        "eth0",
    )
    assert p.tcp_flags == frozenset({"syn"})
    assert p.state == "new"
    six = parse_packet("tcp [2001:db8:1::2]:40000 -> [2001:db8:2::2]:80 in eth0")
    assert six.family == "ipv6"
    assert (six.sport, six.dport) == (40000, 80)
    icmp = parse_packet("icmp 10.0.0.2 -> 10.0.0.1 in eth0")
    assert (icmp.proto, icmp.icmp_type, icmp.icmp_code, icmp.sport, icmp.dport) == (1, 8, 0, None, None)
    assert parse_packet("icmpv6 2001:db8::1 -> 2001:db8::2 in eth0").icmp_type == 128


def test_flags_and_options() -> None:
    p = parse_packet("tcp 10.0.0.2:1 -> 10.0.0.1:22 in eth0 ack state established mark 0x7 ttl 3 len 1500")
    assert p.tcp_flags == frozenset({"ack"})
    assert (p.state, p.mark, p.ttl, p.length) == ("established", 7, 3, 1500)
    local = parse_packet("udp 10.0.0.1 -> 10.0.0.9:53", from_local=True)
    assert local.from_local
    assert local.in_interface is None
    assert parse_packet("47 10.0.0.1 -> 10.0.0.2 in gre0").proto == 47
    assert parse_packet("udp 10.0.0.1 -> 10.0.0.2:53 in eth0", state="established").state == "established"


@pytest.mark.parametrize(
    "text",
    [
        "tcp 10.0.0.2 10.0.0.1 in eth0",  # no arrow
        "tcp 10.0.0.2 -> nowhere in eth0",
        "foo 10.0.0.2 -> 10.0.0.1 in eth0",
        "icmp 10.0.0.2:5 -> 10.0.0.1 in eth0",  # icmp has no ports
        "tcp 10.0.0.2 -> 2001:db8::1 in eth0",  # two families
        "tcp 10.0.0.2 -> 10.0.0.1",  # arrives where?
        "tcp 10.0.0.2 -> 10.0.0.1 in",
        "udp 10.0.0.2 -> 10.0.0.1 in eth0 syn",  # a TCP flag on udp
        "tcp 10.0.0.2 -> 10.0.0.1 in eth0 state sleepy",
        "tcp 10.0.0.2 -> 10.0.0.1 in eth0 mark x",
        "tcp 10.0.0.2:70000 -> 10.0.0.1 in eth0",
        "tcp 10.0.0.2 -> 10.0.0.1 in eth0 colour blue",
    ],
)
def test_malformed_specs_show_the_grammar(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_packet(text)
    assert GRAMMAR in str(caught.value)
    assert repr(text) in str(caught.value)


@given(
    st.sampled_from(["tcp", "udp"]),
    st.ip_addresses(v=4),
    st.ip_addresses(v=4),
    st.integers(0, 65535),
    st.integers(0, 65535),
)
def test_str_parses_back(
    proto: str, src: ipaddress.IPv4Address, dst: ipaddress.IPv4Address, sp: int, dp: int
) -> None:
    packet = parse_packet(f"{proto} {src}:{sp} -> {dst}:{dp} in eth0")
    again = parse_packet(str(packet))
    assert isinstance(again, Packet)
    assert (again.proto, again.src, again.dst, again.sport, again.dport) == (
        packet.proto,
        packet.src,
        packet.dst,
        packet.sport,
        packet.dport,
    )


@given(st.text(max_size=60))
def test_any_text_is_a_packet_or_a_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):  # anything else fails the test
        parse_packet(text)
