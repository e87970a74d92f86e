"""The pure parts of lab checks: which address all-pairs pings, where listeners go, the report."""

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
from vnetkit.exec.probe import Listen, NeighbourTable, Probe, reason_of, run_probes
from vnetkit.model.addresses import Address
from vnetkit.topology.check import (
    CheckReport,
    CheckResult,
    all_pairs,
    choose_address,
    destination,
    listeners,
    neighbour_warnings,
    neighbours_needed,
    probe_for,
    run_checks,
)
from vnetkit.topology.model import Lab
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


def test_all_pairs_on_one_subnet_need_an_entry_per_ordered_pair() -> None:
    nodes = [_node(f"n{i}", f"10.0.0.{i + 1}/24") for i in range(5)]
    spec = _spec(*nodes)
    assert neighbours_needed(spec, all_pairs(spec)) == {4: 20}
    # a routed destination takes no entry of its own; one check on a link takes one each side
    routed = _check("n0", "192.0.2.1", proto="tcp", port=80)
    assert neighbours_needed(spec, [routed]) == {}
    assert neighbours_needed(spec, [_check("n0", "10.0.0.2", target="n1")]) == {4: 2}
    dual = _spec(_node("a", "fd00::1/64", "10.0.0.1/24"), _node("b", "fd00::2/64"))
    assert neighbours_needed(dual, [_check("a", "fd00::2", target="b")]) == {6: 2}


def test_a_warning_when_the_checks_do_not_fit_in_the_kernels_table() -> None:
    fits = neighbour_warnings({4: 2450}, [NeighbourTable(4, 10, 4096)])
    assert fits == []
    [warning] = neighbour_warnings({4: 2450, 6: 4}, [NeighbourTable(4, 10, 1024), NeighbourTable(6, 0, 1024)])
    assert "2450 neighbour entries (IPv4)" in warning
    assert "net.ipv4.neigh.default.gc_thresh3" in warning
    assert "holds 1024" in warning
    assert neighbour_warnings({6: 1000}, [NeighbourTable(6, 100, 1024)]) != []
    assert neighbour_warnings({}, [NeighbourTable(4, 1024, 1024)]) == []
