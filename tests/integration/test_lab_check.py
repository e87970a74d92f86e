"""``run_checks`` against real namespaces: pings, tcp/udp with listeners vnetkit opens, DNAT, all pairs,
neighbours pinned for a run (added only where missing, removed exactly).

Each test builds its small network by hand in namespaces named
``vnk-t<pid>-<node>`` (made and deleted by ``_Net``, which checks none
remain), describes it as a ``LabSpec``, and asserts what the probes found.
Every run also checks that it left no descriptor open in this process.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Literal

import pytest

from vnetkit.exec import neighbours as _neighbours
from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.exec.neighbours import Pin, pin_neighbours
from vnetkit.exec.probe import Listen, Probe, run_probes
from vnetkit.iptables import IPTables
from vnetkit.links import Bridge, Links, Veth
from vnetkit.model.addresses import Address
from vnetkit.topology.check import CheckReport, all_pairs, run_checks
from vnetkit.topology.model import Lab
from vnetkit.topology.spec import CheckSpec, LabSpec, NodeSpec, Publish

_SERIAL = itertools.count(1)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class _Net:
    """Namespaces ``vnk-t<pid>-<serial><node>`` and what is in them, all deleted by ``close``."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.prefix = f"vnk-t{os.getpid()}-{next(_SERIAL)}"
        self.made: list[str] = []
        self.addresses: dict[str, list[Address]] = {}

    def netns(self, node: str) -> str:
        return f"{self.prefix}{node}"

    def node(self, *names: str) -> None:
        for name in names:
            self.host.create_netns(self.netns(name))
            self.made.append(self.netns(name))
            self.addresses[name] = []

    def links(self, node: str) -> Links:
        return Links(self.netns(node), host=self.host)

    def address(self, node: str, dev: str, text: str) -> None:
        self.links(node).add_address(dev, text)
        self.addresses[node].append(Address(ipaddress.ip_interface(text), dev=dev))

    def wire(self, a_end: str, a_addr: str | None, b_end: str, b_addr: str | None) -> None:
        """A veth between two ``node:interface`` ends (both up), with an address on each end given one."""
        (a, a_if), (b, b_if) = a_end.split(":"), b_end.split(":")
        self.links(a).add(Veth(name=a_if, peer=b_if, peer_netns=self.netns(b)))
        self.links(a).set_up(a_if)
        for node, dev, text in ((a, a_if, a_addr), (b, b_if, b_addr)):
            if text is not None:
                self.address(node, dev, text)

    def ipt(self, node: str, protocol: Literal["ipv4", "ipv6"] = "ipv4") -> IPTables:
        return IPTables(protocol, netns=self.netns(node), host=self.host)

    def spec(self, *, publish: tuple[Publish, ...] = ()) -> LabSpec:
        nodes = tuple(
            NodeSpec(name=name, netns=self.netns(name), addresses=tuple(found))
            for name, found in self.addresses.items()
        )
        return LabSpec(name="t", nodes=nodes, lab=Lab(name="t"), publish=publish)

    def close(self) -> None:
        for name in reversed(self.made):
            if _netns.exists(name):
                self.host.delete_netns(name)
        left = [name for name in self.made if _netns.exists(name)]
        assert not left, f"namespaces left behind: {left}"


@pytest.fixture
def net() -> Iterator[_Net]:
    with Host() as host:
        made = _Net(host)
        try:
            yield made
        finally:
            made.close()


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


def _run(
    net: _Net, checks: list[CheckSpec], spec: LabSpec | None = None, timeout: float = 1.0
) -> CheckReport:
    """Run the checks; assert the run closed every descriptor it opened."""
    before = _fds()
    report = run_checks(spec or net.spec(), checks, host=net.host, timeout=timeout)
    assert _fds() == before
    return report


@pytest.fixture
def trio(net: _Net) -> _Net:
    """a -eth0- b (10.1.0.0/24), a -eth1- c (10.2.0.0/24), a -eth2- d (10.4.0.0/24).

    c drops icmp, tcp/8080 and udp/5353 in INPUT; d rejects icmp (admin prohibited) and tcp/8080 (reset).
    """
    net.node("a", "b", "c", "d")
    net.wire("a:eth0", "10.1.0.1/24", "b:eth0", "10.1.0.2/24")
    net.wire("a:eth1", "10.2.0.1/24", "c:eth0", "10.2.0.2/24")
    net.wire("a:eth2", "10.4.0.1/24", "d:eth0", "10.4.0.2/24")
    ipt = net.ipt("c")
    ipt.append("filter", "INPUT", "-p", "icmp", "-j", "DROP")
    ipt.append("filter", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "DROP")
    ipt.append("filter", "INPUT", "-p", "udp", "--dport", "5353", "-j", "DROP")
    ipt = net.ipt("d")
    ipt.append("filter", "INPUT", "-p", "icmp", "-j", "REJECT", "--reject-with", "icmp-admin-prohibited")
    ipt.append(
        "filter", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "REJECT", "--reject-with", "tcp-reset"
    )
    return net


def test_icmp_pass_and_fail_by_drop_and_by_no_route(trio: _Net) -> None:
    checks = [
        _check("a", "10.1.0.2", target="b"),
        _check("a", "10.2.0.2", target="c", expect="fail"),  # dropped by c
        _check("a", "10.2.0.2", target="c"),  # the same, expecting pass: does not hold
        _check("a", "10.3.0.1", expect="fail"),  # a has no route there
        _check("b", "10.2.0.2", expect="fail"),  # b has no route to c's subnet
        _check("a", "10.4.0.2", target="d", expect="fail"),  # rejected by d: an ICMP error, at once
    ]
    started = time.monotonic()
    report = _run(trio, checks)
    elapsed = time.monotonic() - started
    got = [(r.outcome, r.ok, r.reason) for r in report.results]
    assert got == [
        ("pass", True, "reply"),
        ("fail", True, "timeout"),
        ("fail", False, "timeout"),
        ("fail", True, "no route"),
        ("fail", True, "no route"),
        ("fail", True, "prohibited"),
    ]
    assert report.results[0].rtt_ms is not None
    assert 0 < report.results[0].rtt_ms < 1000
    assert report.results[1].rtt_ms is None
    assert not report.ok
    assert report.to_json()["ok"] is False
    assert 0.9 < elapsed < 2.5  # a timeout decides the dropped ones: one second, not more


def test_all_pass_ends_early_and_reports_ok(trio: _Net) -> None:
    started = time.monotonic()
    report = _run(trio, [_check("a", "10.1.0.2", target="b"), _check("b", "10.1.0.1", target="a")], timeout=5)
    assert report.ok
    assert [r.reason for r in report.results] == ["reply", "reply"]
    assert time.monotonic() - started < 1.0  # nothing waits for the 5 s deadline


def test_tcp_pass_with_nothing_listening_and_fail_by_drop(trio: _Net) -> None:
    checks = [
        _check("a", "10.1.0.2", target="b", proto="tcp", port=8080),
        _check("a", "10.2.0.2", target="c", proto="tcp", port=8080, expect="fail"),
        _check("a", "10.2.0.2", target="c", proto="tcp", port=9090),  # not dropped: passes
        _check("a", "10.4.0.2", target="d", proto="tcp", port=8080, expect="fail"),  # reset by d
    ]
    report = _run(trio, checks)
    assert [(r.outcome, r.reason) for r in report.results] == [
        ("pass", "connected"),
        ("fail", "timeout"),
        ("pass", "connected"),
        ("fail", "refused"),
    ]
    assert report.ok
    # the listeners are gone with the run: the same port without one is refused now
    after = run_probes(trio.host, [Probe(trio.netns("a"), ipaddress.ip_address("10.1.0.2"), "tcp", 8080)])
    assert (after[0].ok, after[0].reason) == (False, "refused")


def test_tcp_port_in_use_is_probed_without_a_listener_of_ours(trio: _Net) -> None:
    def listen() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("10.1.0.2", 7070))
        sock.listen(4)
        return sock

    theirs = trio.host.runner.call_in(trio.netns("b"), listen)
    try:
        report = _run(trio, [_check("a", "10.1.0.2", target="b", proto="tcp", port=7070)])
        assert (report.results[0].outcome, report.results[0].reason) == ("pass", "connected")
        theirs.settimeout(1)
        conn, _ = theirs.accept()  # the probe reached the listener that was there
        conn.close()
    finally:
        theirs.close()


def test_udp_pass_and_fail_by_drop(trio: _Net) -> None:
    checks = [
        _check("a", "10.1.0.2", target="b", proto="udp", port=5353),
        _check("a", "10.2.0.2", target="c", proto="udp", port=5353, expect="fail"),
        _check("a", "10.2.0.2", target="c", proto="udp", port=5354),
        _check("a", "10.2.0.2", proto="udp", port=5353),  # by address: c still listens, still dropped
    ]
    report = _run(trio, checks)
    assert [(r.outcome, r.reason) for r in report.results] == [
        ("pass", "echo"),
        ("fail", "timeout"),
        ("pass", "echo"),
        ("fail", "timeout"),
    ]
    after = run_probes(trio.host, [Probe(trio.netns("a"), ipaddress.ip_address("10.1.0.2"), "udp", 5353)])
    assert (after[0].ok, after[0].reason) == (False, "refused")


def test_published_port_listens_in_the_dnat_target(net: _Net) -> None:
    """outside -> host:8080 (tcp) and host:5300 (udp), DNAT'd by host to c1:80 and c1:53."""
    net.node("out", "host", "c1")
    net.wire("out:eth0", "10.5.0.2/24", "host:eth0", "10.5.0.1/24")
    net.wire("host:eth1", "10.6.0.1/24", "c1:eth0", "10.6.0.2/24")
    net.links("host").set_sysctl("net.ipv4.ip_forward", 1)
    net.links("c1").add_route(via="10.6.0.1")
    nat = net.ipt("host")
    rules = [
        ("-p", "tcp", "--dport", "8080", "-j", "DNAT", "--to-destination", "10.6.0.2:80"),
        ("-p", "udp", "--dport", "5300", "-j", "DNAT", "--to-destination", "10.6.0.2:53"),
    ]
    for rule in rules:
        nat.append("nat", "PREROUTING", *rule)
    c1 = ipaddress.ip_address("10.6.0.2")
    spec = net.spec(
        publish=(Publish("host", 8080, "c1", c1, 80, "tcp"), Publish("host", 5300, "c1", c1, 53, "udp"))
    )
    checks = [
        _check("out", "10.5.0.1", target="host", proto="tcp", port=8080),
        _check("out", "10.5.0.1", target="host", proto="udp", port=5300),
    ]
    report = _run(net, checks, spec)
    assert [(r.outcome, r.reason) for r in report.results] == [("pass", "connected"), ("pass", "echo")]
    # without the DNAT rules nothing answers on host: no listener stood in for the missing rule
    for rule in rules:
        nat.delete("nat", "PREROUTING", *rule)
    report = _run(net, checks, spec)
    assert [(r.outcome, r.reason) for r in report.results] == [("fail", "refused"), ("fail", "refused")]


def test_ipv6_icmp_and_tcp(net: _Net) -> None:
    net.node("a", "b")
    for node in ("a", "b"):  # no duplicate address detection: addresses usable at once
        net.links(node).set_sysctl("net.ipv6.conf.default.accept_dad", 0)
        net.links(node).set_sysctl("net.ipv6.conf.all.accept_dad", 0)
    net.wire("a:eth0", "fd00:77::1/64", "b:eth0", "fd00:77::2/64")
    net.ipt("b", "ipv6").append("filter", "INPUT", "-p", "tcp", "--dport", "81", "-j", "DROP")
    checks = [
        _check("a", "fd00:77::2", target="b"),
        _check("a", "fd00:77::2", target="b", proto="tcp", port=80),
        _check("a", "fd00:77::2", target="b", proto="tcp", port=81, expect="fail"),
        _check("a", "fd00:77::2", target="b", proto="udp", port=53),
        _check("a", "fd00:78::1", expect="fail"),
    ]
    report = _run(net, checks)
    assert [(r.outcome, r.reason) for r in report.results] == [
        ("pass", "reply"),
        ("pass", "connected"),
        ("fail", "timeout"),
        ("pass", "echo"),
        ("fail", "no route"),
    ]


def _star(net: _Net, count: int) -> None:
    """``count`` nodes n0.. on one bridge in node ``sw`` (which has no address), 10.8.0.0/24."""
    net.node("sw", *(f"n{i}" for i in range(count)))
    net.links("sw").add(Bridge(name="br0"))
    net.links("sw").set_up("br0")
    for i in range(count):
        net.wire(f"sw:p{i}", None, f"n{i}:eth0", f"10.8.0.{i + 1}/24")
        net.links("sw").set_master(f"p{i}", "br0")


def test_all_pairs_on_ten_nodes(net: _Net) -> None:
    _star(net, 10)
    spec = net.spec()
    checks = all_pairs(spec)
    assert len(checks) == 90  # sw has no address: neither pinged nor pinging
    assert {c.source for c in checks} == {f"n{i}" for i in range(10)}
    started = time.monotonic()
    report = _run(net, checks, spec, timeout=2.5)
    elapsed = time.monotonic() - started
    assert [r for r in report.results if not r.ok] == [], report.warnings
    assert report.ok
    assert elapsed < 3.0
    matrix = report.matrix()
    assert matrix.row_count == 10


def test_missing_namespace_is_not_found_and_leaks_nothing(trio: _Net) -> None:
    from vnetkit.errors import NotFound  # noqa: PLC0415 - only this test needs it

    spec = trio.spec()
    ghost = NodeSpec(name="ghost", netns=trio.netns("ghost"))
    spec = LabSpec(name="t", nodes=(*spec.nodes, ghost), lab=spec.lab)
    before = _fds()
    with pytest.raises(NotFound):
        run_checks(
            spec,
            [_check("a", "10.1.0.2", target="b", proto="tcp", port=80), _check("ghost", "10.1.0.2")],
            host=trio.host,
        )
    assert _fds() == before


def test_probes_listen_where_told(trio: _Net) -> None:
    """A probe to an address of b listening in b on another port than it connects to is refused."""
    b = ipaddress.ip_address("10.1.0.2")
    found = run_probes(
        trio.host,
        [Probe(trio.netns("a"), b, "tcp", 8000, (Listen(trio.netns("b"), 8001),))],
        timeout=1.0,
    )
    assert (found[0].ok, found[0].reason) == (False, "refused")


# -- neighbours pinned for a run -------------------------------------------------------------------


def _neigh(net: _Net, node: str, *args: str) -> list[str]:
    out = subprocess.run(
        ["ip", "-4", "-n", net.netns(node), "neigh", "show", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def _ip(net: _Net, node: str, *args: str) -> None:
    subprocess.run(["ip", "-n", net.netns(node), *args], check=True)


def _mac(net: _Net, node: str, dev: str) -> str:
    found = net.links(node).get(dev).mac
    assert found is not None
    return found


def test_pins_are_added_where_missing_and_exactly_they_are_removed(net: _Net) -> None:
    net.node("a", "b")
    net.wire("a:eth0", "10.9.0.1/16", "b:eth0", "10.9.0.2/16")
    b_mac = _mac(net, "b", "eth0")
    # someone's entry, not permanent: it must stay as it is
    _ip(net, "a", "neigh", "add", "10.9.1.7", "lladdr", "02:00:00:00:00:07", "dev", "eth0", "nud", "stale")
    theirs = _neigh(net, "a")
    addresses = [ipaddress.ip_address("10.9.1.1") + i for i in range(300)]
    pins = [Pin(net.netns("a"), "eth0", address, net.netns("b"), "eth0") for address in addresses]
    pins.append(Pin(net.netns("a"), "eth9", ipaddress.ip_address("10.9.2.1"), net.netns("b"), "eth0"))
    pins.append(Pin(net.netns("b"), "eth0", ipaddress.ip_address("10.9.0.1"), net.netns("a"), "eth0"))
    before = _fds()
    pinned = pin_neighbours(net.host, pins)
    try:
        assert len(pinned.added) == 300  # 299 in a (10.9.1.7 was there), 1 in b
        assert [pin.address for pin in pinned.existing] == [ipaddress.ip_address("10.9.1.7")]
        assert [(pin.dev, why) for pin, why in pinned.missed] == [
            ("eth9", f"no link eth9 in netns {net.netns('a')}")
        ]
        assert sorted(pinned.namespaces) == sorted([net.netns("a"), net.netns("b")])
        permanent = _neigh(net, "a", "nud", "permanent")
        assert len(permanent) == 299
        assert all(f"lladdr {b_mac} PERMANENT" in line for line in permanent)
        assert _neigh(net, "b", "nud", "permanent") == [
            f"10.9.0.1 dev eth0 lladdr {_mac(net, 'a', 'eth0')} PERMANENT"
        ]
        # one of ours replaced meanwhile by someone else: theirs now, left alone
        _ip(net, "a", "neigh", "replace", "10.9.1.1", "lladdr", "02:00:00:00:00:01", "dev", "eth0")
    finally:
        pinned.remove()
    pinned.remove()  # safe twice
    assert _fds() == before
    assert _neigh(net, "a") == sorted([*theirs, "10.9.1.1 dev eth0 lladdr 02:00:00:00:00:01 PERMANENT"])
    assert _neigh(net, "b", "nud", "permanent") == []


def test_pinning_a_namespace_that_does_not_exist_leaves_nothing(net: _Net) -> None:
    from vnetkit.errors import NotFound  # noqa: PLC0415 - only this test needs it

    net.node("a", "b")
    net.wire("a:eth0", "10.9.0.1/16", "b:eth0", "10.9.0.2/16")
    pins = [Pin(net.netns("a"), "eth0", ipaddress.ip_address("10.9.0.2"), net.netns("b"), "eth0")]
    pins.append(Pin(net.netns("ghost"), "eth0", ipaddress.ip_address("10.9.0.1"), net.netns("a"), "eth0"))
    before = _fds()
    with pytest.raises(NotFound, match="ghost"):
        pin_neighbours(net.host, pins)
    assert _fds() == before
    assert _neigh(net, "a", "nud", "permanent") == []


def test_the_hosts_own_namespace_is_recognised_and_never_opened(net: _Net) -> None:
    net.node("a")
    host = _neighbours._host_namespaces()
    own = os.stat("/proc/self/ns/net")
    assert (own.st_dev, own.st_ino) in host
    assert not _neighbours._is_host_namespace(net.netns("a"), host)
    mine = os.stat(f"/run/netns/{net.netns('a')}")
    assert _neighbours._is_host_namespace(net.netns("a"), {(mine.st_dev, mine.st_ino)})


def test_all_pairs_with_pinned_neighbours_resolve_nothing(net: _Net) -> None:
    _star(net, 6)
    spec = net.spec()
    checks = all_pairs(spec)
    report = _run(net, checks, spec, timeout=2.0)
    assert report.ok
    assert report.warnings == ()  # 30 entries: not worth pinning
    dynamic = {node: _neigh(net, node) for node in ("n0", "n5")}
    assert all(len(found) == 5 for found in dynamic.values()), dynamic  # ARP made one per peer
    for node in (f"n{i}" for i in range(6)):
        _ip(net, node, "neigh", "flush", "all")
    before = _fds()
    report = run_checks(spec, checks, host=net.host, timeout=2.0, pin=True)
    assert _fds() == before
    assert report.ok
    [note] = report.warnings
    assert note.startswith("neighbours pinned for this run: 30 permanent entries (IPv4) in 6 namespaces")
    for node in (f"n{i}" for i in range(6)):
        assert _neigh(net, node) == []  # no entry left, and none was resolved: all were pinned
