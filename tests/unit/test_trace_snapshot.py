"""``Snapshot.load`` and its parsers on tool output captured in a scratch namespace (tests/unit/data/trace/).

The samples: a namespace with a veth pair v0/v1, 10.0.0.1/24 and 2001:db8::1/64
on v0, 10.0.1.1/24 on v1, 10.9.0.0/16 via 10.0.0.254 (metric 50), a default
route in table 100, 2001:db8:5::/48 via 2001:db8::fe, rules 1000 (from
10.0.1.0/24), 1001 (fwmark 0x10 iif v1) and IPv6 2000 (to 2001:db8:7::/48),
all to table 100, an ipset ``blk``, and iptables rules (iptables 1.8.9, nft).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from vnetkit.errors import ParseError
from vnetkit.model.routes import Route
from vnetkit.trace import Interface, IpSet, PolicyRule, Snapshot, sysctl_argv
from vnetkit.trace.snapshot_load import parse_sysctl_text

DATA = Path(__file__).parent / "data" / "trace"


def _read(name: str) -> str:
    return (DATA / name).read_text()


def _full() -> Snapshot:
    return Snapshot.load(
        rules4=_read("rules4.txt"),
        rules6=_read("rules6.txt"),
        addr_json=_read("addr.json"),
        route_json=_read("route_all.json"),
        rule_json=_read("rule4.json"),
        rule6_json=_read("rule6.json"),
        ipsets=_read("ipset.txt"),
        sysctls={"net.ipv4.ip_forward": "1", "net.ipv4.conf.v0.rp_filter": "2"},
    )


def test_interfaces_from_ip_addr() -> None:
    snap = _full()
    assert [i.name for i in snap.interfaces] == ["lo", "v1", "v0"]
    v0 = snap.interface("v0")
    assert v0.index == 3
    assert v0.up
    assert v0.mac == "8a:d3:eb:65:fc:d4"
    assert v0.addresses[:2] == (
        ipaddress.ip_interface("10.0.0.1/24"),
        ipaddress.ip_interface("2001:db8::1/64"),
    )
    assert snap.interface("lo").kind == "loopback"
    assert v0.kind is None  # ip -j addr without -d does not say
    assert ipaddress.ip_interface("10.0.1.1/24") in snap.local_addresses()
    assert len(snap.local_addresses()) == 7


def test_interface_lookup_names_the_known_ones() -> None:
    with pytest.raises(LookupError, match=r"no interface 'eth9'.*lo, v1, v0"):
        _full().interface("eth9")


def test_routes_of_every_table_and_both_families() -> None:
    snap = _full()
    assert len(snap.routes) == 21
    assert snap.routes_of(100) == (Route.parse("default via 10.0.0.254 dev v0 table 100"),)
    main = [str(route) for route in snap.routes_of(254)]
    assert "10.9.0.0/16 via 10.0.0.254 dev v0 metric 50" in main
    assert "2001:db8:5::/48 via 2001:db8::fe dev v0 metric 1024" in main
    assert "10.0.0.0/24 dev v0 proto kernel scope link" in main
    local = snap.routes_of(255)
    assert Route.parse("local 10.0.0.1 dev v0 table local proto kernel scope host") in local
    assert Route.parse("broadcast 10.0.1.255 dev v1 table local proto kernel scope link") in local
    assert all(route.index == snap.interface(route.dev).index for route in snap.routes if route.dev)


def test_default_route_family_from_what_ip_prints() -> None:
    addr = json.dumps([{"ifindex": 2, "ifname": "eth0", "flags": ["UP"], "addr_info": []}])
    routes = json.dumps(
        [
            {"dst": "default", "dev": "eth0", "metric": 1024, "flags": [], "pref": "medium"},
            {"dst": "default", "dev": "eth0", "scope": "link", "flags": []},
            {"type": "unreachable", "dst": "default", "dev": "lo", "metric": 4294967295, "pref": "medium"},
        ]
    ).replace('"dev": "lo", ', "")
    snap = Snapshot.load(addr_json=addr, route_json=routes)
    assert [str(route.dst) for route in snap.routes] == ["::/0", "0.0.0.0/0", "::/0"]
    assert snap.routes[2].type == "unreachable"
    assert snap.routes[2].dev is None


def test_policy_rules_both_families() -> None:
    rules = _full().rules
    assert [(r.family, r.priority, r.table) for r in rules] == [
        ("ipv4", 0, 255),
        ("ipv4", 1000, 100),
        ("ipv4", 1001, 100),
        ("ipv4", 32766, 254),
        ("ipv4", 32767, 253),
        ("ipv6", 0, 255),
        ("ipv6", 2000, 100),
        ("ipv6", 32766, 254),
    ]
    assert rules[1].src == ipaddress.ip_network("10.0.1.0/24")
    assert rules[1].dst is None
    assert (rules[2].fwmark, rules[2].fwmask, rules[2].iif) == (0x10, 0xFFFFFFFF, "v1")
    assert rules[6].dst == ipaddress.ip_network("2001:db8:7::/48")


def test_policy_rule_not_action_and_unmodelled_selectors() -> None:
    text = json.dumps(
        [
            {"priority": 5, "not": None, "src": "10.1.0.0", "srclen": 16, "action": "prohibit"},
            {"priority": 6, "src": "all", "ipproto": "tcp", "dport": 22, "table": "main"},
        ]
    )
    first, second = Snapshot.load(rule_json=text).rules
    assert first == PolicyRule(
        "ipv4", 5, src=ipaddress.ip_network("10.1.0.0/16"), invert=True, action="prohibit"
    )
    assert second.extra == (("dport", "22"), ("ipproto", '"tcp"'))
    assert second.table == 254


def test_ipsets_and_rulesets() -> None:
    snap = _full()
    blk = snap.ipsets["blk"]
    assert blk == IpSet("blk", "hash:ip", blk.options, frozenset({"192.0.2.7", "192.0.2.9"}))
    assert blk.family == "ipv4"
    assert snap.rules4 is not None
    assert [t.name for t in snap.rules4.tables] == ["filter", "nat"]
    assert snap.rules6 is not None
    assert snap.ruleset("ipv6") is snap.rules6


def test_sysctls_given_as_mapping_or_text() -> None:
    snap = _full()
    assert snap.sysctl("net.ipv4.conf.v0.rp_filter") == "2"
    assert snap.sysctl("net.ipv4.conf.v1.rp_filter") is None
    text = "net.ipv4.ip_forward = 1\nnet.ipv4.conf.eth0/100.rp_filter = 1\n"
    assert Snapshot.load(sysctls=text).sysctls == {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.eth0.100.rp_filter": "1",
    }
    argv = sysctl_argv(["eth0.100"])
    assert argv[:3] == ("sysctl", "-e", "net/ipv4/ip_forward")
    assert "net/ipv4/conf/eth0.100/rp_filter" in argv


def test_snapshot_is_a_value() -> None:
    snap = _full()
    assert snap == _full()
    assert snap != Snapshot.load(addr_json=_read("addr.json"))
    with pytest.raises(TypeError):
        snap.sysctls["x"] = "1"  # type: ignore[index]
    assert Snapshot() == Snapshot(interfaces=(), sysctls={})
    assert isinstance(snap.interfaces[0], Interface)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"addr_json": "{not json"}, r"ip -j addr: not JSON"),
        ({"addr_json": '{"ifname": "x"}'}, r"ip -j addr: expected a JSON list"),
        ({"addr_json": '[{"ifname": "x"}]'}, r"ip -j addr: link x has no valid 'ifindex'"),
        (
            {
                "addr_json": '[{"ifname": "x", "ifindex": 1, '
                '"addr_info": [{"family": "inet", "local": "1.2.3"}]}]'
            },
            r"link x has a bad address",
        ),
        ({"route_json": '[{"dst": "10.0.0.0/8", "dev": "eth7"}]'}, r"ip -j route: route #1 .*'eth7'"),
        ({"route_json": '[{"dev": "lo"}]'}, r"ip -j route: route #1 \(None\) has no destination"),
        ({"route_json": '[{"dst": "10.0.0.0/33"}]'}, r"ip -j route: route #1 \(10.0.0.0/33\)"),
        (
            {"route_json": '[{"dst": "default", "table": "nosuch"}]'},
            r"ip -j route: route #1 \(default\).*table",
        ),
        ({"rule_json": '[{"src": "all"}]'}, r"ip -j rule: rule #1 has no valid 'priority'"),
        (
            {"rule_json": '[{"priority": 3, "src": "2001:db8::", "srclen": 32}]'},
            r"rule 3 has src .* not an ipv4",
        ),
        ({"rule_json": '[{"priority": 3, "fwmark": "0xzz"}]'}, r"rule 3 has a bad mark"),
        ({"rule6_json": '[{"priority": 4, "table": "x y"}]'}, r"ip -j -6 rule: rule 4 has a bad table"),
        ({"ipsets": "add s 1.2.3.4\n"}, r"ipset save: line 1: add to set 's'"),
        ({"ipsets": "create s hash:ip\ncreate s hash:ip\n"}, r"line 2: set 's' created twice"),
        ({"ipsets": "flush\n"}, r"line 1: expected 'create NAME TYPE"),
        ({"sysctls": "net.ipv4.ip_forward: 1\n"}, r"sysctl: line 1: expected 'key = value'"),
        ({"sysctls": {"net.ipv4.ip_forward": 1}}, r"sysctls: 'net.ipv4.ip_forward' = 1"),
        ({"rules4": "-A INPUT -j DROP\n"}, r"."),
    ],
)
def test_bad_input_is_a_parse_error_naming_the_source(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        Snapshot.load(**kwargs)  # type: ignore[arg-type]


def test_route_device_error_names_it() -> None:
    addr = _read("addr.json")
    routes = json.loads(_read("route_all.json"))
    routes[3]["dev"] = "gone0"
    with pytest.raises(ParseError, match="'gone0', which is not among the interfaces") as caught:
        Snapshot.load(addr_json=addr, route_json=json.dumps(routes))
    assert caught.value.source == "ip -j route"


def test_sysctl_text_skips_blank_lines() -> None:
    assert parse_sysctl_text("\n a.b = 1 2\n") == {"a.b": "1 2"}
