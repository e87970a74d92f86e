"""The trace benchmark: packet decisions per second on kube-proxy-like rulesets, and one live probe.

The ruleset (``kube_ruleset``) is what kube-proxy's iptables mode writes for
many services, scaled to N rules (1,000 / 10,000 / 100,000): in ``nat``,
PREROUTING and OUTPUT jump to ``KUBE-SERVICES``, which holds one rule per
service (``-d VIP/32 -p tcp -m tcp --dport P -j KUBE-SVC-...``) and the
nodeports rule last; each ``KUBE-SVC`` chain picks one of two ``KUBE-SEP``
endpoint chains with ``-m statistic --mode random`` (the engine's documented
assumption: the first alternative matches), each ``KUBE-SEP`` marks hairpin
traffic for masquerade and DNATs to its endpoint; ``KUBE-POSTROUTING``
masquerades marked packets; ``filter`` has kube-proxy's ``KUBE-FORWARD``
(policy FORWARD DROP). Seven rules per service.

Measured, single thread, packets built before the clock starts (new TCP
connections from random clients and ports to random services, each one a
different packet):

- ``decide``: ``Engine.decide`` (disposition, reason, final addresses, hits:
  what scripts and counters need; no steps). Target: >= 100,000 decisions/s
  at 10,000 rules (issue 11);
- ``matched-only``: ``Engine.simulate(misses=False)``, the steps of the
  rules that matched (``vnetkit trace --matched-only``);
- ``all steps``: ``Engine.simulate()``, every rule walked past listed too
  (what ``vnetkit trace`` prints for people), on fewer packets.

Beside them, ``probe``: one real TCP connection through three scratch
namespaces A -> R -> B (R forwards), timed with ``run_probes``: what asking
the kernel itself costs. The namespaces are made here and always deleted;
none is connected to the root namespace.

Absolute rates on a shared machine are noise; each sample is the time of a
whole batch, and the median of the repetitions is reported.
"""

from __future__ import annotations

import functools
import ipaddress
import random
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from benchmarks.bench_iptables import NETNS_PREFIX, BenchmarkError, Progress
from benchmarks.report import Trace, TraceRow
from vnetkit.exec.host import default_host
from vnetkit.exec.probe import Listen, Probe, run_probes
from vnetkit.iptables.savefile import parse_save
from vnetkit.model.routes import Route
from vnetkit.testing import scratch_netns
from vnetkit.trace.engine import Engine
from vnetkit.trace.packet import Packet
from vnetkit.trace.snapshot import Snapshot
from vnetkit.trace.snapshot_values import Interface

__all__ = ["OPS", "QUICK_SIZES", "SIZES", "TARGET", "kube_ruleset", "kube_snapshot", "run"]

OPS = ("decide", "matched-only", "all-steps", "probe")
SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
TARGET = 100_000.0  # decisions per second at TARGET_RULES rules (issue 11)
TARGET_RULES = 10_000
PACKETS = 20_000  # per sample for decide and matched-only
STEP_PACKETS = 200  # per sample for all-steps (each lists thousands of steps)
_PER_SERVICE = 7
_CLIENT_NET = ipaddress.ip_network("192.168.0.0/16")


@dataclass(frozen=True, slots=True)
class Service:
    """One generated service: its virtual address and port."""

    vip: ipaddress.IPv4Address
    port: int


def kube_ruleset(rules: int) -> tuple[str, list[Service]]:
    """``iptables-save`` text of a kube-proxy-like ruleset of about ``rules`` rules, and its services."""
    count = max(1, rules // _PER_SERVICE)
    chains = ["KUBE-SERVICES", "KUBE-MARK-MASQ", "KUBE-POSTROUTING", "KUBE-NODEPORTS"]
    body = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
    ]
    services = []
    base_vip = ipaddress.IPv4Address("10.96.0.1")
    base_pod = ipaddress.IPv4Address("10.244.0.2")
    for i in range(count):
        vip, port = base_vip + i, 80 + i % 1000
        svc = f"KUBE-SVC-{i:016X}"
        chains.append(svc)
        comment = f'-m comment --comment "ns{i % 50}/svc{i}:http"'
        body.append(f"-A KUBE-SERVICES -d {vip}/32 -p tcp {comment} -m tcp --dport {port} -j {svc}")
        for e in range(2):
            sep = f"KUBE-SEP-{i:014X}{e:02X}"
            pod = base_pod + (2 * i + e) % 65000
            chains.append(sep)
            pick = "-m statistic --mode random --probability 0.50000000000 " if e == 0 else ""
            body.append(f"-A {svc} {comment} {pick}-j {sep}")
            body.append(f"-A {sep} -s {pod}/32 {comment} -j KUBE-MARK-MASQ")
            body.append(f"-A {sep} -p tcp {comment} -m tcp -j DNAT --to-destination {pod}:8080")
        services.append(Service(vip, port))
    body.append(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" '
        "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
    )
    builtin = [f":{name} ACCEPT [0:0]" for name in ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")]
    nat = ["*nat", *builtin, *(f":{name} - [0:0]" for name in chains), *body, "COMMIT"]
    filter_ = [
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD DROP [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":KUBE-FORWARD - [0:0]",
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP",
        "-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT",
        "-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        "-A KUBE-FORWARD -s 10.244.0.0/16 -j ACCEPT",
        "-A KUBE-FORWARD -d 10.244.0.0/16 -j ACCEPT",
        "COMMIT",
    ]
    return "\n".join(nat + filter_) + "\n", services


def kube_snapshot(rules: int) -> tuple[Snapshot, list[Service], int]:
    """A node's snapshot of ``kube_ruleset(rules)`` (eth0: clients, cni0: pods) and its rule count."""
    text, services = kube_ruleset(rules)

    def iface(name: str, index: int, address: str) -> Interface:
        return Interface(name, index, (ipaddress.ip_interface(address),), up=True)

    snapshot = Snapshot(
        rules4=parse_save(text, source="bench"),
        interfaces=(
            iface("lo", 1, "127.0.0.1/8"),
            iface("eth0", 2, "192.168.0.1/16"),
            iface("cni0", 3, "10.244.0.1/16"),
        ),
        routes=(Route.of("192.168.0.0/16", dev="eth0"), Route.of("10.244.0.0/16", dev="cni0")),
    )
    assert snapshot.rules4 is not None
    total = sum(len(table.rules) for table in snapshot.rules4.tables)
    return snapshot, services, total


def _packets(services: Sequence[Service], count: int, seed: int) -> list[Packet]:
    """``count`` new TCP connections from random clients and ports to random services."""
    rng = random.Random(seed)  # noqa: S311 - benchmark traffic, not secrets
    first, size = int(_CLIENT_NET.network_address) + 2, _CLIENT_NET.num_addresses - 4
    syn = frozenset({"syn"})
    out = []
    for _ in range(count):
        service = rng.choice(services)
        client = ipaddress.IPv4Address(first + rng.randrange(size))
        out.append(Packet(6, client, service.vip, rng.randrange(1024, 65536), service.port,
                          in_interface="eth0", tcp_flags=syn))  # fmt: skip
    return out


def _rate_row(
    what: str,
    rules: int,
    ask: Callable[[Packet], object],
    packets: list[Packet],
    *,
    reps: int,
    target: float | None = None,
) -> TraceRow:
    row = TraceRow(what, rules, len(packets), target=target)
    for _ in range(reps):
        started = time.perf_counter()
        for packet in packets:
            ask(packet)
        row.seconds.append(time.perf_counter() - started)
    return row


def _check(engine: Engine, packets: list[Packet]) -> None:
    """Off the clock: every benchmark packet is DNATed to a pod and forwarded, as kube-proxy would."""
    for packet in packets[:50]:
        answer = engine.decide(packet)
        if answer.disposition != "forwarded" or not answer.final["dst"].startswith("10.244."):
            raise BenchmarkError(f"trace benchmark: {packet} gave {answer.disposition}: {answer.reason}")


def run(*, sizes: Sequence[int], reps: int, ops: Sequence[str], progress: Progress) -> Trace:
    """Decisions per second at each size for the chosen ``ops``, and the live probe when asked."""
    result = Trace(sizes=tuple(sizes), reps=reps)
    for size in sizes:
        build = time.perf_counter()
        snapshot, services, total = kube_snapshot(size)
        engine = Engine(snapshot)
        result.notes.append(
            f"{total} rules ({len(services)} services): snapshot and engine built in "
            f"{time.perf_counter() - build:.2f} s"
        )
        packets = _packets(services, PACKETS, seed=size)
        _check(engine, packets)
        if "decide" in ops:
            progress(f"trace: decide, {total} rules, {reps} x {len(packets)} packets")
            target = TARGET if size == TARGET_RULES else None
            result.rows.append(_rate_row("decide", total, engine.decide, packets, reps=reps, target=target))
        if "matched-only" in ops:
            progress(f"trace: simulate --matched-only, {total} rules")
            ask = functools.partial(engine.simulate, misses=False)
            result.rows.append(_rate_row("matched-only", total, ask, packets, reps=reps))
        if "all-steps" in ops:
            progress(f"trace: simulate with every step, {total} rules")
            few = packets[:STEP_PACKETS]
            result.rows.append(_rate_row("all-steps", total, engine.simulate, few, reps=reps))
    if "probe" in ops:
        progress("trace: live probe A -> R -> B")
        result.probe = _probe(reps)
    return result


def _ip(*argv: str) -> None:
    done = subprocess.run(("ip", *argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"ip {' '.join(argv)}: {done.stderr.strip()}")


@contextmanager
def _three() -> Iterator[tuple[str, str, str]]:
    """Scratch namespaces A -> R -> B: 10.250.1.0/24 between A and R, 10.250.2.0/24 between R and B."""
    with ExitStack() as stack:
        a, r, b = (stack.enter_context(scratch_netns(prefix=NETNS_PREFIX)) for _ in range(3))
        _ip("-n", a, "link", "add", "a0", "type", "veth", "peer", "name", "r0", "netns", r)
        _ip("-n", b, "link", "add", "b0", "type", "veth", "peer", "name", "r1", "netns", r)
        for ns, dev, address in ((a, "a0", "10.250.1.2/24"), (r, "r0", "10.250.1.1/24"),
                                 (r, "r1", "10.250.2.1/24"), (b, "b0", "10.250.2.2/24")):  # fmt: skip
            _ip("-n", ns, "addr", "add", address, "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
        _ip("-n", a, "route", "add", "default", "via", "10.250.1.1")
        _ip("-n", b, "route", "add", "default", "via", "10.250.2.1")
        # Forwarding on in R only (a sysctl of R's own namespace).
        _ip("netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        yield a, r, b


def _probe(reps: int) -> list[float]:
    """Seconds of one TCP connection A -> B through R, ``reps`` times (after one untimed warm-up)."""
    host = default_host()
    samples = []
    with _three() as (a, _r, b):
        probe = Probe(a, ipaddress.IPv4Address("10.250.2.2"), "tcp", 8080, listen=(Listen(b, 8080),))
        for k in range(reps + 1):
            started = time.perf_counter()
            (found,) = run_probes(host, [probe], timeout=2.0)
            elapsed = time.perf_counter() - started
            if not found.ok:
                raise BenchmarkError(f"trace benchmark: probe A -> R -> B failed: {found.reason}")
            if k:
                samples.append(elapsed)
    return samples
