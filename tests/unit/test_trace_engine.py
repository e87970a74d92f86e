"""The trace engine on whole paths: delivery, forwarding and routing choice, NAT, verdicts, chains, forks."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping

import pytest

from vnetkit.errors import ConfigError
from vnetkit.iptables.savefile import parse_save
from vnetkit.model.routes import Route
from vnetkit.topology.recipes.docker_rules import Binding, docker_rules
from vnetkit.trace.answer import Answer
from vnetkit.trace.engine import Engine, simulate
from vnetkit.trace.packet import parse_packet
from vnetkit.trace.render import render_text
from vnetkit.trace.snapshot import Snapshot
from vnetkit.trace.snapshot_values import Interface, PolicyRule

_BUILTIN = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")


def _iface(name: str, index: int, *addresses: str) -> Interface:
    return Interface(name, index, tuple(ipaddress.ip_interface(a) for a in addresses), up=True)


INTERFACES = (
    _iface("lo", 1, "127.0.0.1/8", "::1/128"),
    _iface("eth0", 2, "198.51.100.1/24", "2001:db8:1::1/64"),
    _iface("eth1", 3, "10.0.0.1/24", "2001:db8:2::1/64"),
    _iface("eth2", 4, "10.0.9.1/24"),
    _iface("docker0", 5, "172.17.0.1/16"),
)
ROUTES = (
    Route.of("default", via="198.51.100.254", dev="eth0"),
    Route.of("198.51.100.0/24", dev="eth0"),
    Route.of("10.0.0.0/24", dev="eth1"),
    Route.of("10.0.9.0/24", dev="eth2"),
    Route.of("10.1.0.0/16", via="10.0.0.254", dev="eth1", metric=100),
    Route.of("10.1.0.0/16", via="10.0.9.254", dev="eth2", metric=50),
    Route.of("10.1.5.0/24", via="10.0.0.254", dev="eth1"),
    Route.of("172.17.0.0/16", dev="docker0"),
    Route.of("default", via="10.0.9.254", dev="eth2", table=100),
    Route.of("2001:db8:1::/64", dev="eth0"),
    Route.of("2001:db8:2::/64", dev="eth1"),
)


def _save(tables: Mapping[str, Mapping[str, list[str]]], policies: Mapping[str, str] | None = None) -> str:
    """iptables-save text from {table: {chain: [rule...]}}; built-in chains get ``policies`` (or ACCEPT)."""
    lines: list[str] = []
    for table, chains in tables.items():
        lines.append(f"*{table}")
        for chain in chains:
            policy = (policies or {}).get(f"{table} {chain}", "ACCEPT") if chain in _BUILTIN else "-"
            lines.append(f":{chain} {policy} [0:0]")
        lines += [f"-A {chain} {rule}" for chain, rules in chains.items() for rule in rules]
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _snapshot(
    tables: Mapping[str, Mapping[str, list[str]]],
    policies: Mapping[str, str] | None = None,
    *,
    rules: tuple[PolicyRule, ...] = (),
    sysctls: Mapping[str, str] | None = None,
    v6: Mapping[str, Mapping[str, list[str]]] | None = None,
) -> Snapshot:
    return Snapshot(
        rules4=parse_save(_save(tables, policies)),
        rules6=parse_save(_save(v6)) if v6 is not None else None,
        interfaces=INTERFACES,
        routes=ROUTES,
        rules=rules,
        sysctls=sysctls or {},
    )


def _run(snapshot: Snapshot, spec: str, **kwargs: object) -> Answer:
    answer = simulate(snapshot, parse_packet(spec, **kwargs))  # type: ignore[arg-type]
    json.dumps(answer.to_json())  # always serialisable
    assert render_text(answer)
    return answer


def _hits(answer: Answer) -> list[tuple[str, str, int]]:
    return [(h.table, h.chain, h.position) for h in answer.hits]


def _route_text(answer: Answer) -> str:
    return next(s.text for s in answer.steps if s.kind == "route")


def test_local_delivery_through_input() -> None:
    snap = _snapshot({"filter": {"INPUT": ["-p tcp --dport 22 -j ACCEPT", "-j DROP"]}})
    answer = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:22 in eth0")
    assert answer.disposition == "delivered"
    assert _hits(answer) == [("filter", "INPUT", 1)]
    assert answer.out_interface is None
    assert answer.to_json()["counters"] == [
        {"table": "filter", "chain": "INPUT", "position": 1, "packets": 1, "bytes": 60}
    ]


def test_policy_drop_is_position_zero() -> None:
    snap = _snapshot({"filter": {"INPUT": ["-p tcp --dport 22 -j ACCEPT"]}}, {"filter INPUT": "DROP"})
    answer = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:80 in eth0")
    assert answer.disposition == "dropped"
    assert _hits(answer) == [("filter", "INPUT", 0)]
    assert "policy DROP" in answer.reason


def test_reject_is_final() -> None:
    snap = _snapshot(
        {"filter": {"FORWARD": ["-p tcp --dport 25 -j REJECT --reject-with tcp-reset", "-j ACCEPT"]}}
    )
    answer = _run(snap, "tcp 10.0.0.2:40000 -> 192.0.2.9:25 in eth1")
    assert answer.disposition == "rejected"
    assert _hits(answer) == [("filter", "FORWARD", 1)]


@pytest.mark.parametrize(
    ("dst", "out", "via"),
    [
        ("10.1.5.9", "eth1", "10.1.5.0/24"),  # longest prefix wins over the lower metric
        ("10.1.7.9", "eth2", "10.1.0.0/16 via 10.0.9.254"),  # same prefix: the lower metric
        ("192.0.2.9", "eth0", "0.0.0.0/0"),  # the default route
    ],
)
def test_forwarding_chooses_the_route(dst: str, out: str, via: str) -> None:
    answer = _run(_snapshot({"filter": {"FORWARD": []}}), f"udp 10.0.0.2:5000 -> {dst}:53 in eth1")
    assert answer.disposition == "forwarded"
    assert answer.out_interface == out
    assert via in _route_text(answer)
    assert answer.final == {"src": "10.0.0.2", "dst": dst, "sport": 5000, "dport": 53}


def test_mark_set_in_mangle_selects_a_policy_rule() -> None:
    rules = (
        PolicyRule("ipv4", 0, table=255),
        PolicyRule("ipv4", 100, table=100, fwmark=0x10, fwmask=0xFF),
        PolicyRule("ipv4", 32766, table=254),
    )
    tables = {"mangle": {"PREROUTING": ["-s 10.0.0.2/32 -j MARK --set-xmark 0x10/0xff"]}}
    marked = _run(_snapshot(tables, rules=rules), "tcp 10.0.0.2:40000 -> 192.0.2.9:443 in eth1")
    assert marked.out_interface == "eth2"
    assert "table 100 (rule 100)" in _route_text(marked)
    plain = _run(_snapshot(tables, rules=rules), "tcp 10.0.0.3:40000 -> 192.0.2.9:443 in eth1")
    assert plain.out_interface == "eth0"


def _docker() -> dict[str, dict[str, list[str]]]:
    tables = docker_rules(
        bridge="docker0",
        subnet=ipaddress.IPv4Network("172.17.0.0/16"),
        endpoints=[ipaddress.IPv4Address("172.17.0.2")],
        bindings=[Binding(ipaddress.IPv4Address("172.17.0.2"), 80, 8080)],
    )
    tables["filter"]["DOCKER-USER"] = []
    return tables


def test_docker_published_port_is_dnatted_and_rerouted() -> None:
    answer = _run(_snapshot(_docker()), "tcp 203.0.113.5:40000 -> 198.51.100.1:8080 in eth0")
    assert answer.disposition == "forwarded"
    assert answer.out_interface == "docker0"
    assert answer.final == {"src": "203.0.113.5", "dst": "172.17.0.2", "sport": 40000, "dport": 80}
    assert ("nat", "DOCKER", 1) in _hits(answer)
    assert ("filter", "DOCKER", 1) in _hits(answer)  # the published port's ACCEPT
    assert "172.17.0.0/16 dev docker0" in _route_text(answer)  # routed after DNAT
    nat = [s for s in answer.steps if s.kind == "nat"]
    assert len(nat) == 1
    assert nat[0].action == "DNAT"


def test_docker_unpublished_port_to_container_is_dropped_in_raw() -> None:
    answer = _run(_snapshot(_docker()), "tcp 203.0.113.5:40000 -> 172.17.0.2:22 in eth0")
    assert (answer.disposition, _hits(answer)) == ("dropped", [("raw", "PREROUTING", 1)])


def test_masquerade_takes_the_output_interfaces_address() -> None:
    answer = _run(_snapshot(_docker()), "tcp 172.17.0.2:40000 -> 192.0.2.9:443 in docker0")
    assert answer.disposition == "forwarded"
    assert answer.final == {"src": "198.51.100.1", "dst": "192.0.2.9", "sport": 40000, "dport": 443}
    assert ("nat", "POSTROUTING", 2) in _hits(answer)


def test_snat_with_port() -> None:
    snap = _snapshot({"nat": {"POSTROUTING": ["-o eth0 -p udp -j SNAT --to-source 198.51.100.9:6000-7000"]}})
    answer = _run(snap, "udp 10.0.0.2:5000 -> 192.0.2.9:53 in eth1")
    assert answer.final == {"src": "198.51.100.9", "dst": "192.0.2.9", "sport": 6000, "dport": 53}


def test_redirect_delivers_locally() -> None:
    snap = _snapshot({"nat": {"PREROUTING": ["-i eth1 -p tcp --dport 80 -j REDIRECT --to-ports 3128"]}})
    answer = _run(snap, "tcp 10.0.0.2:40000 -> 192.0.2.9:80 in eth1")
    assert answer.disposition == "delivered"
    assert answer.final["dst"] == "10.0.0.1"
    assert answer.final["dport"] == 3128


def test_established_skips_nat() -> None:
    snap = _snapshot(_docker())
    answer = _run(snap, "tcp 203.0.113.5:40000 -> 198.51.100.1:8080 in eth0 ack state established")
    assert not any(h.table == "nat" for h in answer.hits)
    assert answer.disposition == "delivered"  # no DNAT: the host's own address
    assert any("nat PREROUTING not consulted" in s.text for s in answer.steps)


def test_notrack_makes_the_packet_untracked() -> None:
    snap = _snapshot(
        {
            "raw": {"PREROUTING": ["-p udp --dport 53 -j CT --notrack"]},
            "nat": {"PREROUTING": ["-p udp -j DNAT --to-destination 10.0.0.99"]},
            "filter": {"INPUT": ["-m conntrack --ctstate UNTRACKED -j ACCEPT", "-j DROP"]},
        }
    )
    answer = _run(snap, "udp 198.51.100.7:5000 -> 198.51.100.1:53 in eth0")
    assert answer.disposition == "delivered"
    assert ("filter", "INPUT", 1) in _hits(answer)
    assert not any(h.table == "nat" for h in answer.hits)


def test_return_and_goto() -> None:
    tables = {
        "filter": {
            "INPUT": ["-j A", "-g B", "-j DROP"],
            "A": ["-p tcp -j RETURN", "-j DROP"],
            "B": ["-j C", "-p tcp --dport 22 -j ACCEPT"],
            "C": ["-p tcp -j RETURN"],
        }
    }
    snap = _snapshot(tables, {"filter INPUT": "DROP"})
    ssh = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:22 in eth0")
    assert ssh.disposition == "delivered"
    assert _hits(ssh) == [("filter", "INPUT", 1), ("filter", "A", 1), ("filter", "INPUT", 2),
                          ("filter", "B", 1), ("filter", "C", 1), ("filter", "B", 2)]  # fmt: skip
    # a goto returns to the caller's caller: falling off B ends INPUT (policy), never INPUT #3
    web = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:80 in eth0")
    assert _hits(web)[-1] == ("filter", "INPUT", 0)
    assert "policy" in web.reason


def test_accept_ends_only_the_current_table() -> None:
    snap = _snapshot(
        {
            "mangle": {"INPUT": ["-j ACCEPT", "-j MARK --set-xmark 0x1/0xffffffff"]},
            "filter": {"INPUT": ["-j DROP"]},
        }
    )
    answer = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:22 in eth0")
    assert _hits(answer) == [("mangle", "INPUT", 1), ("filter", "INPUT", 1)]
    assert answer.disposition == "dropped"


def test_undetermined_gives_both_continuations() -> None:
    snap = _snapshot({"filter": {"INPUT": ["-m mac --mac-source 00:11:22:33:44:55 -j DROP", "-j ACCEPT"]}})
    answer = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:22 in eth0")
    assert answer.disposition == "undetermined"
    assert answer.undetermined_at is not None
    assert answer.undetermined_at.position == 1
    assert answer.reason.startswith("undetermined at")
    yes, no = answer.continuations["if_matched"], answer.continuations["if_not_matched"]
    assert (yes.disposition, _hits(yes)) == ("dropped", [("filter", "INPUT", 1)])
    assert (no.disposition, _hits(no)) == ("delivered", [("filter", "INPUT", 2)])
    data = answer.to_json()
    assert data["continuations"]["if_not_matched"]["disposition"] == "delivered"


def test_forwarding_disabled_and_unknown_interface() -> None:
    snap = _snapshot({"filter": {"FORWARD": []}}, sysctls={"net.ipv4.ip_forward": "0"})
    assert _run(snap, "udp 10.0.0.2:5000 -> 192.0.2.9:53 in eth1").disposition == "dropped"
    with pytest.raises(ConfigError, match="wlan0"):
        _run(snap, "udp 10.0.0.2:5000 -> 192.0.2.9:53 in wlan0")


def test_local_output_rerouted_by_mark_and_local_to_local() -> None:
    rules = (
        PolicyRule("ipv4", 0, table=255),
        PolicyRule("ipv4", 100, table=100, fwmark=0x2, fwmask=0x2),
        PolicyRule("ipv4", 32766, table=254),
    )
    tables = {
        "mangle": {"OUTPUT": ["-p tcp --dport 443 -j MARK --set-xmark 0x2/0x2"]},
        "filter": {"OUTPUT": ["-o eth2 -j ACCEPT"], "INPUT": ["-i lo -j ACCEPT"]},
    }
    snap = _snapshot(tables, rules=rules)
    out = _run(snap, "tcp 198.51.100.1:40000 -> 192.0.2.9:443", from_local=True)
    assert (out.disposition, out.out_interface) == ("forwarded", "eth2")
    assert "sent out of eth2" in out.reason
    assert ("filter", "OUTPUT", 1) in _hits(out)
    local = _run(snap, "tcp 127.0.0.1:40000 -> 10.0.0.1:80", from_local=True)
    assert local.disposition == "delivered"
    assert ("filter", "INPUT", 1) in _hits(local)


def test_ipv6_forward_and_engine_reuse() -> None:
    v6 = {"filter": {"FORWARD": ["-s 2001:db8:2::/64 -p tcp --dport 80 -j ACCEPT", "-j DROP"]}}
    engine = Engine(_snapshot({}, v6=v6))
    ok = engine.simulate(parse_packet("tcp [2001:db8:2::5]:40000 -> [2001:db8:1::9]:80 in eth1"))
    assert (ok.disposition, ok.out_interface) == ("forwarded", "eth0")
    no = engine.simulate(parse_packet("tcp [2001:db8:2::5]:40000 -> [2001:db8:1::9]:81 in eth1"))
    assert (no.disposition, [(h.chain, h.position) for h in no.hits]) == ("dropped", [("FORWARD", 2)])


def test_rules_only_snapshot_forks_on_whether_the_destination_is_local() -> None:
    snap = Snapshot(
        rules4=parse_save(_save({"filter": {"INPUT": ["-j DROP"], "FORWARD": ["-o eth1 -j ACCEPT"]}}))
    )
    answer = simulate(snap, parse_packet("tcp 10.0.0.2:40000 -> 10.0.0.1:80 in eth0"))
    assert answer.disposition == "undetermined"
    local, remote = answer.continuations["if_local"], answer.continuations["if_not_local"]
    assert (local.disposition, _hits(local)) == ("dropped", [("filter", "INPUT", 1)])
    # forwarded, but out of an interface nobody can tell: the -o rule is itself undetermined
    assert remote.disposition == "undetermined"
    assert set(remote.continuations) == {"if_matched", "if_not_matched"}
    assert remote.continuations["if_not_matched"].hits[-1].position == 0


def test_a_target_not_modelled_forks_and_the_queue_too() -> None:
    snap = _snapshot(
        {"filter": {"INPUT": ["-p tcp -j FANCY", "-j DROP"], "FORWARD": ["-j NFQUEUE --queue-num 3"]}}
    )
    answer = _run(snap, "tcp 198.51.100.7:40000 -> 198.51.100.1:22 in eth0")
    assert answer.disposition == "undetermined"
    assert answer.continuations["if_continues"].disposition == "dropped"
    assert _hits(answer.continuations["if_continues"]) == [("filter", "INPUT", 1), ("filter", "INPUT", 2)]
    assert answer.continuations["if_drops"].disposition == "dropped"
    queued = _run(snap, "tcp 10.0.0.2:40000 -> 192.0.2.9:80 in eth1")
    assert queued.continuations["if_accepted"].disposition == "forwarded"
    assert queued.continuations["if_dropped"].disposition == "dropped"
