"""Trace matches one by one: each option decides True, False or undetermined (None), negation included."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from vnetkit.iptables.rules import parse_rule
from vnetkit.trace.matches import Ctx, compile_rule
from vnetkit.trace.snapshot_values import IpSet

SETS = {
    "nets": IpSet("nets", "hash:net", ("family", "inet"), frozenset({"10.0.0.0/8", "10.9.0.0/16 nomatch"})),
    "svc": IpSet("svc", "hash:ip,port", ("family", "inet"), frozenset({"192.0.2.7,tcp:443"})),
}


def _ctx(**changes: Any) -> Ctx:
    values: dict[str, Any] = {
        "proto": 6,
        "src": ipaddress.ip_address("10.1.2.3"),
        "dst": ipaddress.ip_address("192.0.2.7"),
        "sport": 40000,
        "dport": 443,
        "iif": "eth0",
        "oif": "eth1",
        "table": "filter",
        "hook": "FORWARD",
        "tcp_flags": frozenset({"syn"}),
        "local": frozenset({ipaddress.ip_address("192.0.2.1")}),
    }
    values.update(changes)
    for key in ("src", "dst"):
        if isinstance(values[key], str):
            values[key] = ipaddress.ip_address(values[key])
    return Ctx(**values)


def _test(rule: str, family: str = "ipv4", **changes: Any) -> bool | None:
    return compile_rule(parse_rule(rule), family, SETS).test(_ctx(**changes))


CASES = [
    # core
    ("-s 10.0.0.0/8", {}, True),
    ("! -s 10.0.0.0/8", {}, False),
    ("-d 192.0.2.0/25", {"dst": "192.0.2.200"}, False),
    ("-i eth+", {}, True),
    ("! -i eth+", {}, False),
    ("-i docker0", {}, False),
    ("-o eth1", {}, True),
    ("-o eth1", {"oif_known": False}, None),
    ("! -o eth1", {"oif_known": False}, None),
    ("-p udp", {}, False),
    ("! -p udp", {}, True),
    ("-p all", {}, True),
    ("-f", {}, False),
    ("! -f", {}, True),
    # tcp/udp/multiport
    ("-p tcp --dport 400:500", {}, True),
    ("-p tcp --dport 400:500", {"dport": 501}, False),
    ("-p tcp ! --dport 443", {}, False),
    ("-p tcp --sport 1024:", {}, True),
    ("-p tcp --syn", {}, True),
    ("-p tcp --syn", {"tcp_flags": frozenset({"syn", "ack"})}, False),
    ("-p tcp --tcp-flags SYN,ACK ACK", {"tcp_flags": frozenset({"ack"})}, True),
    ("-p tcp ! --tcp-flags SYN,RST SYN", {}, False),
    ("-p tcp -m multiport --dports 80,443", {}, True),
    ("-p tcp -m multiport --dports 80,8000:8080", {}, False),
    ("-p tcp -m multiport ! --sports 1:1024", {}, True),
    ("-p udp --dport 53", {"proto": 17, "dport": 53}, True),
    # icmp
    ("-p icmp --icmp-type echo-request", {"proto": 1, "icmp_type": 8, "icmp_code": 0}, True),
    ("-p icmp --icmp-type 3/3", {"proto": 1, "icmp_type": 3, "icmp_code": 1}, False),
    ("-p icmp ! --icmp-type 0", {"proto": 1, "icmp_type": 8, "icmp_code": 0}, True),
    # conntrack / state
    ("-m conntrack --ctstate NEW", {}, True),
    ("-m conntrack --ctstate RELATED,ESTABLISHED", {}, False),
    ("-m conntrack --ctstate RELATED,ESTABLISHED", {"state": "ESTABLISHED"}, True),
    ("-m state --state INVALID", {"table": "raw"}, True),  # conntrack has not run yet in raw
    ("-m conntrack --ctstate UNTRACKED", {"state": "UNTRACKED"}, True),
    ("-m conntrack ! --ctstate INVALID", {}, True),
    ("-m conntrack --ctorigdst 198.51.100.1", {"orig_dst": ipaddress.ip_address("198.51.100.1")}, True),
    ("-m conntrack --ctstatus DNAT", {}, None),
    # marks
    ("-m mark --mark 0x1/0x1", {"mark": 0x11}, True),
    ("-m mark --mark 0x10", {"mark": 0x11}, False),
    ("-m mark ! --mark 0x10", {"mark": 0x11}, True),
    ("-m connmark --mark 0x4000/0x4000", {"ctmark": 0x4000}, True),
    # addresses
    ("-m addrtype --dst-type LOCAL", {"dst": "192.0.2.1"}, True),
    ("-m addrtype --dst-type LOCAL", {}, False),
    ("-m addrtype ! --dst-type LOCAL", {}, True),
    ("-m addrtype --src-type UNICAST", {}, True),
    ("-m addrtype --dst-type MULTICAST", {"dst": "224.0.0.5"}, True),
    ("-m iprange --src-range 10.1.2.0-10.1.2.9", {}, True),
    ("-m iprange ! --dst-range 192.0.2.10-192.0.2.20", {}, True),
    ("-m set --match-set nets src", {}, True),
    ("-m set --match-set nets src", {"src": "10.9.1.1"}, False),  # nomatch entry wins
    ("-m set ! --match-set nets src", {"src": "172.16.0.1"}, True),
    ("-m set --match-set svc dst,dst", {}, True),
    ("-m set --match-set svc dst,dst", {"dport": 80}, False),
    ("-m set --match-set missing src", {}, None),
    # sizes
    ("-m length --length 0:100", {}, True),
    ("-m length --length 1000:1500", {}, False),
    ("-m ttl --ttl-gt 10", {}, True),
    ("-m ttl --ttl-eq 1", {}, False),
    ("-m pkttype --pkt-type unicast", {}, True),
    ("-m pkttype --pkt-type broadcast", {}, False),
    # decided by documented assumptions, or never
    ("-m comment --comment hello", {}, True),
    ("-m limit --limit 5/sec", {}, True),
    ("-m statistic --mode random --probability 0.5", {}, True),
    ("-m recent --rcheck --name ssh", {}, False),
    ("-m mac --mac-source 00:11:22:33:44:55", {}, None),
    ("-m mac ! --mac-source 00:11:22:33:44:55", {}, None),
    ("-m owner --uid-owner 0", {"hook": "OUTPUT"}, None),
    ("-m physdev --physdev-is-bridged", {}, False),
    ("-m policy --dir in --pol none", {}, True),
    ("-m u32 --u32 0x0>>22&0x3C@0>>16=0x1", {}, None),
    # a False option wins over an undetermined one
    ("-s 172.16.0.0/12 -m mac --mac-source 00:11:22:33:44:55", {}, False),
]


@pytest.mark.parametrize(("rule", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_match(rule: str, changes: dict[str, Any], expected: bool | None) -> None:
    assert _test(rule, **changes) is expected


def test_ipv6_core_and_icmp6() -> None:
    ctx = {"proto": 58, "src": "2001:db8::2", "dst": "2001:db8:1::1", "sport": None, "dport": None}
    assert _test("-s 2001:db8::/64 -p ipv6-icmp --icmpv6-type 128", "ipv6", icmp_type=128, **ctx) is True
    assert _test("-s 2001:db8::/64 -p icmpv6 --icmpv6-type echo-reply", "ipv6", icmp_type=128, **ctx) is False


def test_undetermined_rules_say_why() -> None:
    compiled = compile_rule(parse_rule("-m mac --mac-source 00:11:22:33:44:55 -j DROP"), "ipv4", SETS)
    assert any("MAC" in why for why in compiled.unsure)
    assumed = compile_rule(parse_rule("-m limit --limit 1/s -j ACCEPT"), "ipv4", SETS)
    assert assumed.assumed == ("limit",)
