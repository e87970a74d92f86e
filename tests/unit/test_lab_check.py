"""The pure parts of lab checks: which address all-pairs pings, where listeners go, the report,
and what the checks ask of the kernel's neighbour table (what to pin, when to refuse)."""

from __future__ import annotations

import errno
import ipaddress
import json
from typing import Literal

import pytest
from rich.console import Console
from rich.table import Table

from vnetkit.errors import ConfigError, TopologyError
from vnetkit.exec.host import Host
from vnetkit.exec.neighbours import NeighbourTable, Pin
from vnetkit.exec.probe import Listen, Probe, reason_of, run_probes
from vnetkit.model.addresses import Address
from vnetkit.topology.check import (
    CheckReport,
    CheckResult,
    all_pairs,
    choose_address,
    destination,
    listeners,
    neighbour_demands,
    neighbour_needs,
    probe_for,
    run_checks,
)
from vnetkit.topology.load import load_data
from vnetkit.topology.model import Lab
from vnetkit.topology.resolve import best_address, resolve
from vnetkit.topology.spec import CheckSpec, LabSpec, NodeSpec, Publish


def _node(name: str, *addresses: str) -> NodeSpec:
    found = tuple(Address(ipaddress.ip_interface(text), dev=f"eth{i}") for i, text in enumerate(addresses))
    return NodeSpec(name=name, netns=f"vnk-lab-{name}", addresses=found)


def _spec(*nodes: NodeSpec, publish: tuple[Publish, ...] = ()) -> LabSpec:
    return LabSpec(name="lab", nodes=nodes, lab=Lab(name="lab"), publish=publish)


def _check(
    source: str,
    to: str,
    *,
    target: str | None = None,
    proto: Literal["icmp", "tcp", "udp"] = "icmp",
    port: int | None = None,
    expect: Literal["pass", "fail"] = "pass",
) -> CheckSpec:
    return CheckSpec(
        source=source, address=ipaddress.ip_address(to), proto=proto, port=port, expect=expect, target=target
    )


def _text(table: Table) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


# -- all pairs --------------------------------------------------------------------------


def test_all_pairs_pings_every_other_node_once_in_node_order() -> None:
    spec = _spec(_node("a", "10.0.0.1/24"), _node("b", "10.0.0.2/24"), _node("c", "10.0.0.3/24"))
    checks = all_pairs(spec)
    assert [(c.source, c.target, str(c.address)) for c in checks] == [
        ("a", "b", "10.0.0.2"),
        ("a", "c", "10.0.0.3"),
        ("b", "a", "10.0.0.1"),
        ("b", "c", "10.0.0.3"),
        ("c", "a", "10.0.0.1"),
        ("c", "b", "10.0.0.2"),
    ]
    assert {(c.proto, c.expect, c.port) for c in checks} == {("icmp", "pass", None)}


def test_all_pairs_prefers_the_address_on_a_shared_subnet() -> None:
    router = _node("r", "192.168.9.1/24", "10.1.0.254/24", "10.2.0.254/24")
    h1, h2 = _node("h1", "10.1.0.1/24"), _node("h2", "10.2.0.1/24")
    spec = _spec(h1, h2, router)
    chosen = {(c.source, c.target): str(c.address) for c in all_pairs(spec)}
    assert chosen[("h1", "r")] == "10.1.0.254"
    assert chosen[("h2", "r")] == "10.2.0.254"
    assert chosen[("r", "h1")] == "10.1.0.1"
    assert chosen[("h1", "h2")] == "10.2.0.1"  # no shared subnet: its first address


def test_all_pairs_without_a_shared_subnet_takes_the_first_address_of_a_family_the_source_has() -> None:
    v4 = _node("v4", "10.1.0.1/24")
    dual = _node("dual", "fd00::9/64", "10.9.0.9/24")
    v6 = _node("v6", "fd00:1::1/64")
    assert choose_address(v4, dual) == ipaddress.ip_address("10.9.0.9")
    assert choose_address(v6, dual) == ipaddress.ip_address("fd00::9")
    assert choose_address(v6, v4) == ipaddress.ip_address("10.1.0.1")  # none of its family: the first


def test_a_node_without_addresses_is_neither_pinged_nor_pinging() -> None:
    spec = _spec(
        _node("a", "10.0.0.1/24"),
        _node("switch"),
        _node("lo-only", "127.0.0.2/8", "fe80::1/64"),  # loopback and link-local do not count
        _node("b", "10.0.0.2/24"),
    )
    checks = all_pairs(spec)
    assert [(c.source, c.target) for c in checks] == [("a", "b"), ("b", "a")]
    assert all_pairs(_spec()) == []
    assert choose_address(spec.node("a"), spec.node("switch")) is None


# -- where listeners go -------------------------------------------------------------------


def _published_lab() -> LabSpec:
    host = _node("host", "172.17.0.1/16", "192.0.2.1/24")
    c1, c2 = _node("c1", "172.17.0.2/16"), _node("c2", "172.17.0.3/16")
    outside = _node("outside", "192.0.2.9/24")
    c1_ip = ipaddress.ip_address("172.17.0.2")
    publish = (
        Publish("host", 8080, "c1", c1_ip, 80, "tcp"),
        Publish("host", 5353, "c1", c1_ip, 53, "udp"),
    )
    return _spec(host, c1, c2, outside, publish=publish)


def test_tcp_and_udp_listen_in_the_destination_node_on_the_port() -> None:
    spec = _published_lab()
    assert listeners(spec, _check("outside", "172.17.0.3", target="c2", proto="tcp", port=22)) == (
        Listen("vnk-lab-c2", 22),
    )
    assert listeners(spec, _check("c1", "172.17.0.3", target="c2", proto="udp", port=53)) == (
        Listen("vnk-lab-c2", 53),
    )


def test_an_address_check_listens_in_the_node_that_has_the_address() -> None:
    spec = _published_lab()
    check = _check("outside", "172.17.0.3", proto="tcp", port=443)
    assert destination(spec, check) == spec.node("c2")
    assert listeners(spec, check) == (Listen("vnk-lab-c2", 443),)
    outside_the_lab = _check("c1", "8.8.8.8", proto="tcp", port=53)
    assert destination(spec, outside_the_lab) is None
    assert listeners(spec, outside_the_lab) == ()


def test_a_published_port_listens_only_in_the_dnat_target_on_the_container_port() -> None:
    spec = _published_lab()
    by_name = _check("outside", "192.0.2.1", target="host", proto="tcp", port=8080)
    by_address = _check("outside", "192.0.2.1", proto="udp", port=5353)
    assert listeners(spec, by_name) == (Listen("vnk-lab-c1", 80),)
    assert listeners(spec, by_address) == (Listen("vnk-lab-c1", 53),)


def test_a_published_port_of_another_protocol_or_port_is_not_the_dnat_target() -> None:
    spec = _published_lab()
    assert listeners(spec, _check("outside", "192.0.2.1", target="host", proto="udp", port=8080)) == (
        Listen("vnk-lab-host", 8080),
    )
    assert listeners(spec, _check("outside", "192.0.2.1", target="host", proto="tcp", port=8081)) == (
        Listen("vnk-lab-host", 8081),
    )


def test_listeners_are_placed_when_failure_is_expected_too_and_never_for_icmp() -> None:
    spec = _published_lab()
    fail = _check("outside", "172.17.0.3", target="c2", proto="tcp", port=22, expect="fail")
    assert listeners(spec, fail) == (Listen("vnk-lab-c2", 22),)
    assert listeners(spec, _check("outside", "172.17.0.3", target="c2")) == ()


def test_probe_for_sends_from_the_source_namespace() -> None:
    spec = _published_lab()
    probe = probe_for(spec, _check("outside", "192.0.2.1", target="host", proto="tcp", port=8080))
    assert probe == Probe(
        netns="vnk-lab-outside",
        address=ipaddress.ip_address("192.0.2.1"),
        proto="tcp",
        port=8080,
        listen=(Listen("vnk-lab-c1", 80),),
    )
    assert probe_for(spec, _check("c1", "172.17.0.1", target="host")) == Probe(
        "vnk-lab-c1", ipaddress.ip_address("172.17.0.1")
    )


def test_unknown_nodes_and_portless_checks_are_topology_errors() -> None:
    spec = _published_lab()
    with pytest.raises(TopologyError, match="'ghost' is not a node"):
        probe_for(spec, _check("ghost", "172.17.0.1"))
    with pytest.raises(TopologyError, match="'ghost' is not a node"):
        probe_for(spec, _check("c1", "172.17.0.1", target="ghost", proto="tcp", port=1))
    with pytest.raises(TopologyError, match="needs a port"):
        probe_for(spec, _check("c1", "172.17.0.1", proto="tcp"))
    broken = _spec(*spec.nodes, publish=(Publish("host", 1, "gone", ipaddress.ip_address("10.0.0.1"), 1),))
    with pytest.raises(TopologyError, match="published container 'gone'"):
        listeners(broken, _check("c1", "172.17.0.1", target="host", proto="tcp", port=1))


# -- probes: values and reasons -----------------------------------------------------------


@pytest.mark.parametrize(
    ("proto", "port", "listen"),
    [
        ("tcp", None, ()),
        ("udp", 0, ()),
        ("tcp", 65536, ()),
        ("tcp", 80, (Listen("ns", 0),)),
        ("icmp", 80, ()),
        ("icmp", None, (Listen("ns", 80),)),
        ("sctp", 80, ()),
    ],
)
def test_probe_refuses_what_cannot_be_probed(
    proto: str, port: int | None, listen: tuple[Listen, ...]
) -> None:
    with pytest.raises(ConfigError):
        Probe("ns", ipaddress.ip_address("10.0.0.1"), proto, port, listen)  # type: ignore[arg-type]


def test_errno_reasons_are_short_words() -> None:
    assert reason_of(errno.ECONNREFUSED) == "refused"
    assert reason_of(errno.ENETUNREACH) == "no route"
    assert reason_of(errno.EHOSTUNREACH) == "host unreachable"
    assert reason_of(errno.EPERM) == "not permitted"
    assert reason_of(errno.ENOTCONN) == "enotconn"


def test_no_probes_touch_nothing_and_bad_timeouts_are_config_errors() -> None:
    with Host() as host:
        assert run_probes(host, []) == []
        report = run_checks(_spec(_node("a", "10.0.0.1/24")), host=host)  # the lab has no checks
        assert report.results == ()
        assert report.ok
        for bad in (0, -1.0, float("nan"), float("inf"), True):
            with pytest.raises(ConfigError, match="timeout"):
                run_probes(host, [Probe("ns", ipaddress.ip_address("10.0.0.1"))], timeout=bad)


# -- the report -----------------------------------------------------------------------------


def _report() -> CheckReport:
    results = (
        CheckResult(_check("a", "10.0.0.2", target="b"), "pass", 0.25, "reply"),
        CheckResult(_check("a", "10.0.0.3", target="c", proto="tcp", port=80), "fail", None, "refused"),
        CheckResult(_check("b", "10.0.0.3", proto="udp", port=53, expect="fail"), "fail", None, "timeout"),
        CheckResult(_check("b", "10.0.0.1", target="a", expect="fail"), "pass", 0.5, "reply"),
    )
    return CheckReport(results, nodes=("a", "b", "c"))


def test_ok_is_whether_the_outcome_is_what_was_expected() -> None:
    report = _report()
    assert [r.ok for r in report.results] == [True, False, True, False]
    assert not report.ok
    assert report.failed == [report.results[1], report.results[3]]
    assert CheckReport(report.results[:1] + report.results[2:3]).ok
    assert CheckReport(()).ok


def test_json_is_plain_values_with_the_contract_keys() -> None:
    data = _report().to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["ok"] is False
    checks = data["checks"]
    assert isinstance(checks, list)
    assert checks[0] == {
        "from": "a",
        "to": "b",
        "address": "10.0.0.2",
        "proto": "icmp",
        "port": None,
        "expect": "pass",
        "result": "pass",
        "ok": True,
        "rtt_ms": 0.25,
        "reason": "reply",
    }
    assert checks[2]["to"] == "10.0.0.3"  # named by address: the address
    assert (checks[1]["result"], checks[1]["ok"], checks[1]["reason"]) == ("fail", False, "refused")


def test_table_has_a_row_per_check_with_marks() -> None:
    table = _report().table()
    assert table.row_count == 4
    text = _text(table)
    assert "2 of 4 as expected" in text
    lines = [line for line in text.splitlines() if "10.0.0." in line]
    assert [line.split()[0] for line in lines] == ["✓", "✗", "✓", "✗"]
    assert "refused" in lines[1]
    assert "0.25" in lines[0]


def test_matrix_is_nodes_by_nodes_with_a_dot_for_self() -> None:
    spec = _spec(_node("a", "10.0.0.1/24"), _node("b", "10.0.0.2/24"), _node("c", "10.0.0.3/24"))
    checks = all_pairs(spec)
    failing = {("c", "a")}
    results = tuple(
        CheckResult(c, "fail" if (c.source, c.target) in failing else "pass", None, "") for c in checks
    )
    matrix = CheckReport(results, nodes=("a", "b", "c")).matrix()
    assert matrix.row_count == 3
    assert len(matrix.columns) == 4
    rows = [
        line.split() for line in _text(matrix).splitlines() if line.strip().startswith(("a ", "b ", "c "))
    ]
    assert rows == [["a", "·", "✓", "✓"], ["b", "✓", "·", "✓"], ["c", "✗", "✓", "·"]]
    assert "5 of 6 as expected" in _text(matrix)


def test_matrix_leaves_pairs_without_a_check_blank_and_colours_expected_failures_green() -> None:
    results = (
        CheckResult(_check("a", "10.0.0.2", target="b", expect="fail"), "fail", None, "timeout"),
        CheckResult(_check("a", "10.0.0.9"), "pass", 1.0, "reply"),  # by address: not in the matrix
    )
    matrix = CheckReport(results, nodes=("a", "b", "c")).matrix()
    assert matrix.row_count == 2  # only the nodes some check names
    cell = matrix.columns[2]._cells[0]  # row a, column b
    assert str(cell) == "✗"
    assert "green" in str(getattr(cell, "style", ""))
    blank = matrix.columns[1]._cells[1]  # row b, column a
    assert str(blank) == ""


# -- the kernel's neighbour table -------------------------------------------------------------


def _table(in_use: int = 0, soft: int = 512, limit: int = 1024, version: int = 4) -> NeighbourTable:
    return NeighbourTable(version, in_use, soft, limit)


def test_all_pairs_on_one_subnet_need_an_entry_per_ordered_pair_each_pinnable() -> None:
    nodes = [_node(f"n{i}", f"10.0.0.{i + 1}/24") for i in range(5)]
    spec = _spec(*nodes)
    needs = neighbour_needs(spec, all_pairs(spec))
    assert len(needs) == 20
    assert len({(need.netns, need.address) for need in needs}) == 20
    first = needs[0]  # n0 -> n1: in n0, on its eth0, at the link-layer address of n1's eth0
    assert first.pin() == Pin("vnk-lab-n0", "eth0", ipaddress.ip_address("10.0.0.2"), "vnk-lab-n1", "eth0")
    assert needs[1].pin() == Pin("vnk-lab-n1", "eth0", ipaddress.ip_address("10.0.0.1"), "vnk-lab-n0", "eth0")


def test_a_check_needs_its_entry_and_the_answer_back_a_routed_one_none() -> None:
    router = _node("r", "10.1.0.254/24", "10.2.0.254/24")
    spec = _spec(_node("h1", "10.1.0.1/24"), router, _node("dual", "fd00::2/64", "10.1.0.9/24"))
    one = neighbour_needs(spec, [_check("h1", "10.1.0.254", target="r")])
    assert [(n.netns, str(n.address), n.dev, n.owner) for n in one] == [
        ("vnk-lab-h1", "10.1.0.254", "eth0", ("vnk-lab-r", "eth0")),
        ("vnk-lab-r", "10.1.0.1", "eth0", ("vnk-lab-h1", "eth0")),
    ]
    assert neighbour_needs(spec, [_check("h1", "10.2.0.254", target="r")]) == []  # via a gateway
    assert neighbour_needs(spec, [_check("h1", "192.0.2.1", proto="tcp", port=80)]) == []
    # the second address of r and of dual: the entry goes on the interface that has it
    [there, back] = neighbour_needs(spec, [_check("dual", "10.1.0.1", target="h1")])
    assert (there.dev, back.dev, back.owner) == ("eth1", "eth0", ("vnk-lab-dual", "eth1"))
    # an address on the subnet that no node has: an entry no pin can stand in for
    [stranger] = neighbour_needs(spec, [_check("h1", "10.1.0.77", expect="fail")])
    assert (stranger.owner, stranger.pin()) == (None, None)


def _star(count: int) -> LabSpec:
    return _spec(*(_node(f"n{i}", f"10.8.{i // 200}.{i % 200 + 1}/16") for i in range(count)))


def test_few_entries_are_not_pinned() -> None:
    spec = _star(5)
    [demand] = neighbour_demands(spec, all_pairs(spec), [_table(in_use=10)])
    assert (demand.need, demand.pins, demand.left, demand.room) == (20, (), 20, 251)
    assert demand.refusal() is None
    assert demand.warning() is None
    assert neighbour_demands(spec, all_pairs(spec), [_table(version=6)]) == []  # no IPv6 checks


def test_more_than_a_safe_share_of_the_table_is_pinned_every_entry() -> None:
    spec = _star(50)
    checks = all_pairs(spec)
    [demand] = neighbour_demands(spec, checks, [_table(in_use=40)])
    assert demand.need == 2450 > demand.room == 236
    assert len(demand.pins) == 2450
    assert demand.left == 0
    assert demand.refusal() is None
    assert {(pin.netns, pin.owner_netns) for pin in demand.pins} == {
        (f"vnk-lab-n{a}", f"vnk-lab-n{b}") for a in range(50) for b in range(50) if a != b
    }
    note = demand.pinned(2449, 1, 50)
    assert "2449 permanent entries (IPv4) in 50 namespaces" in note
    assert "1 were there already" in note
    assert "removed afterwards" in note
    assert "room for about 236 (gc_thresh2 512, 40 in use)" in note
    # asked: pinned whatever the need; or never
    [small] = neighbour_demands(_star(3), all_pairs(_star(3)), [_table()], pin=True)
    assert len(small.pins) == 6
    [never] = neighbour_demands(spec, checks, [_table(in_use=40)], pin=False)
    assert (never.pins, never.left) == ((), 2450)
    assert never.refusal() is not None


def test_what_cannot_be_pinned_and_would_overflow_the_table_is_refused() -> None:
    spec = _star(2)
    strangers = [_check("n0", f"10.8.{100 + i // 250}.{i % 250 + 1}", expect="fail") for i in range(1100)]
    [demand] = neighbour_demands(spec, strangers, [_table(in_use=30)])
    assert (demand.need, len(demand.pins), demand.left) == (1100, 0, 1100)
    refusal = demand.refusal()
    assert refusal is not None
    for words in (
        "about 1100 neighbour entries (IPv4)",
        "1100 cannot be pinned",
        "not interfaces of the lab",
        "shared by every namespace, the host's own included",
        "holds 1024 (net.ipv4.neigh.default.gc_thresh3) and has 30 in use",
        "Check fewer pairs at once",
        "in the root namespace",
    ):
        assert words in refusal
    assert "could not find" in (demand.refusal(1100, "could not find") or "")
    # fewer: no refusal, but a warning that the host's entries may be reclaimed meanwhile
    [crowding] = neighbour_demands(spec, strangers[:600], [_table(in_use=30)])
    assert crowding.refusal() is None
    warning = crowding.warning()
    assert warning is not None
    assert "600 neighbour entries (IPv4) that cannot be pinned" in warning


def test_ipv6_needs_go_to_the_ndp_table() -> None:
    spec = _spec(*(_node(f"n{i}", f"fd00::{i + 1}/64") for i in range(30)))
    tables = [_table(version=4), _table(in_use=100, soft=256, version=6)]
    [demand] = neighbour_demands(spec, all_pairs(spec), tables)
    assert demand.table.version == 6
    assert (demand.need, len(demand.pins), demand.room) == (870, 870, 78)
    assert "net.ipv6.neigh.default.gc_thresh3" in (demand.refusal(2000) or "")


# -- a check to a node picks the address all-pairs picks -----------------------------------------


def test_a_check_to_a_node_resolves_to_the_address_all_pairs_pings() -> None:
    names = ["host", "outside", "c1", "c2"]
    pairs = [(a, b) for a in names for b in names if a != b]
    data = {
        "name": "pick",
        "recipe": "docker-bridge",
        "containers": ["c1", "c2"],
        "checks": [{"from": a, "to": b} for a, b in pairs],
    }
    spec = resolve(load_data(data))
    chosen = {(c.source, c.target): c.address for c in all_pairs(spec)}
    assert {(c.source, c.target): c.address for c in spec.checks} == chosen
    assert chosen[("c1", "host")] == ipaddress.ip_address("172.17.0.1")  # the bridge, not the uplink
    assert chosen[("outside", "host")] == ipaddress.ip_address("198.51.100.1")
    for a, b in pairs:
        assert best_address(spec, a, b) == choose_address(spec.node(a), spec.node(b))
