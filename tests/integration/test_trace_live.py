"""``vnetkit trace live`` against the kernel: real packets between two namespaces of this test.

Namespace A holds the rules (a user chain, a RETURN, a DROP); B sends UDP
to A over a veth pair. Each test checks the traced positions against
``iptables -L --line-numbers`` and that no TRACE rule of ours is left.
Nothing touches the root namespace.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from vnetkit.errors import UnsupportedError
from vnetkit.iptables import IPTables
from vnetkit.trace.live import TRACE_COMMENT, TraceFilter, live_trace


def _sh(*argv: str) -> str:
    done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


@pytest.fixture
def pair(netns_factory: Callable[[], str]) -> tuple[str, str]:
    """(A, B): A 10.77.0.1 with the rules, B 10.77.0.2 the sender."""
    a, b = netns_factory(), netns_factory()
    _sh("ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
    _sh("ip", "-n", a, "address", "add", "10.77.0.1/24", "dev", "va")
    _sh("ip", "-n", b, "address", "add", "10.77.0.2/24", "dev", "vb")
    _sh("ip", "-n", a, "link", "set", "va", "up")
    _sh("ip", "-n", b, "link", "set", "vb", "up")
    ipt = IPTables("ipv4", backend="nft", netns=a)
    ipt.new_chain("filter", "CHECKS")
    ipt.append("filter", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
    ipt.append("filter", "INPUT", "-p", "udp", "--dport", "9001", "-j", "DROP")
    ipt.append("filter", "INPUT", "-p", "udp", "-j", "CHECKS")
    ipt.append("filter", "CHECKS", "-s", "10.77.0.99", "-j", "DROP")
    ipt.append("filter", "CHECKS", "-p", "udp", "--dport", "9002", "-j", "RETURN")
    ipt.append("filter", "CHECKS", "-p", "udp", "--dport", "9003", "-j", "DROP")
    return a, b


def _send_udp(netns: str, *ports: int) -> None:
    code = (
        "import socket, sys, time\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "for port in sys.argv[1:]:\n"
        "    s.sendto(b'x', ('10.77.0.1', int(port)))\n"
        "    time.sleep(0.05)\n"
    )
    _sh("ip", "netns", "exec", netns, sys.executable, "-c", code, *map(str, ports))


def _line_number(netns: str, chain: str, needle: str) -> int:
    """The position ``iptables -L CHAIN --line-numbers`` gives the rule whose line contains ``needle``."""
    listing = _sh("ip", "netns", "exec", netns, "iptables-nft", "-n", "-L", chain, "--line-numbers")
    found = [line.split()[0] for line in listing.splitlines()[2:] if needle in line]
    assert len(found) == 1, listing
    return int(found[0])


def _trace_rules(netns: str) -> list[str]:
    text = _sh("ip", "netns", "exec", netns, "iptables-nft", "-t", "raw", "-S")
    return [line for line in text.splitlines() if TRACE_COMMENT in line]


def _wait_for_trace_rule(netns: str) -> None:
    until = time.monotonic() + 15
    while not _trace_rules(netns):
        assert time.monotonic() < until, "the TRACE rule never appeared"
        time.sleep(0.1)
    time.sleep(2.0)  # the monitor listens before the rule is inserted; a margin for a loaded machine


@pytest.mark.xfail(
    reason="passes alone and with tests/diff, but in the whole suite the CLI traced no packet (twice on "
    "2026-12-08): an interaction not yet found; see the trace issue's note",
    strict=False,
)
def test_cli_traces_packets_with_line_number_positions(pair: tuple[str, str]) -> None:
    a, b = pair
    argv = [sys.executable, "-m", "vnetkit", "trace", "live", "--netns", a, "-p", "udp", "-s", "10.77.0.2"]
    argv += ["--count", "3", "--timeout", "20", "--json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_trace_rule(a)
        _send_udp(b, 9001, 9002, 9003)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    packets: list[dict[str, Any]] = json.loads(out)["packets"]
    by_port = {p["final"]["dport"]: p for p in packets}
    assert sorted(by_port) == [9001, 9002, 9003]

    drop_9001 = _line_number(a, "INPUT", "dpt:9001")
    jump = _line_number(a, "INPUT", "CHECKS")
    ret = _line_number(a, "CHECKS", "RETURN")
    drop_9003 = _line_number(a, "CHECKS", "dpt:9003")

    def filter_hits(packet: dict[str, Any]) -> list[tuple[str, int]]:
        return [(h["chain"], h["position"]) for h in packet["hits"] if h["table"] == "filter"]

    assert by_port[9001]["disposition"] == "dropped"
    assert filter_hits(by_port[9001]) == [("INPUT", drop_9001)]
    assert by_port[9002]["disposition"] == "delivered"
    assert filter_hits(by_port[9002]) == [("INPUT", jump), ("CHECKS", ret), ("INPUT", 0)]
    assert by_port[9003]["disposition"] == "dropped"
    assert by_port[9003]["reason"] == f"dropped by filter CHECKS #{drop_9003}"
    assert filter_hits(by_port[9003]) == [("INPUT", jump), ("CHECKS", drop_9003)]
    assert _trace_rules(a) == []


def test_api_removes_leftover_and_own_rules_even_when_abandoned(pair: tuple[str, str]) -> None:
    a, b = pair
    ipt = IPTables("ipv4", backend="nft", netns=a)
    leftover = ("-p", "icmp", "-m", "comment", "--comment", TRACE_COMMENT, "-j", "TRACE")
    ipt.insert("raw", "PREROUTING", 1, *leftover)  # as a killed run would leave it
    ipt.append("raw", "PREROUTING", "-p", "tcp", "-j", "ACCEPT")  # not ours: must stay
    match = TraceFilter(protocol="udp", dport=9002)
    with contextlib.closing(
        live_trace(a, match, count=5, timeout=20, ready=lambda: _send_udp(b, 9002))
    ) as packets:
        first = next(packets)
        assert len(_trace_rules(a)) == 2  # PREROUTING and OUTPUT, the leftover gone
    # Closed after one packet of five: the rules are gone all the same.
    assert _trace_rules(a) == []
    assert ipt.list("raw", "PREROUTING")[1:] == ["-A PREROUTING -p tcp -j ACCEPT"]
    assert first.disposition == "delivered"
    assert [(h.table, h.chain, h.position) for h in first.hits if h.table == "filter"] == [
        ("filter", "INPUT", _line_number(a, "INPUT", "CHECKS")),
        ("filter", "CHECKS", _line_number(a, "CHECKS", "RETURN")),
        ("filter", "INPUT", 0),
    ]


def test_timeout_without_packets_ends_cleanly(pair: tuple[str, str]) -> None:
    a, _ = pair
    started = time.monotonic()
    assert list(live_trace(a, TraceFilter(protocol="tcp", dport=1), timeout=1.0)) == []
    assert time.monotonic() - started < 10
    assert _trace_rules(a) == []


def test_legacy_backend_is_refused_with_the_alternative(pair: tuple[str, str]) -> None:
    a, _ = pair
    with pytest.raises(UnsupportedError, match=re.escape("--backend nft")):
        next(live_trace(a, backend="legacy", timeout=1.0))
    assert _trace_rules(a) == []
