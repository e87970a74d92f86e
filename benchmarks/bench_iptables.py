"""The firewall benchmark: the go-iptables anchor's five operations, done by vnetkit too.

For each backend, in one scratch namespace made for it (and always deleted),
every operation runs once through ``goipt`` and once through
``IPTables(backend=..., netns=...)`` on exactly the same rules, each timing
only its measured phase. The two sides alternate which goes first, and each
repetition repeats the pair, so drift on a busy machine hits both alike.

The operations (see the anchor's ``main.go``), on chain BENCH of table filter:

- ``append``: append N rules, one call each;
- ``exists``: after N appends, 100 ``exists`` of the last rule;
- ``list``: after N appends, 20 ``list`` of the chain;
- ``stats``: after N appends, 20 ``structured_stats`` of the chain;
- ``delete``: after N appends, delete them one by one.

Rule ``i`` is ``-s 10.A.B.C/32 -p tcp --dport (1000 + i%50000) -j ACCEPT``
with A.B.C = i in base 256.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from benchmarks.anchor import run_goipt
from benchmarks.report import Comparison
from vnetkit.iptables import IPTables, Stat
from vnetkit.iptables.caps import Backend
from vnetkit.testing import scratch_netns

__all__ = [
    "BACKENDS",
    "CALLS",
    "NETNS_PREFIX",
    "OPS",
    "BenchmarkError",
    "Spec",
    "calls_of",
    "in_turn",
    "rule",
    "run",
    "run_vnetkit",
]

OPS = ("append", "exists", "list", "stats", "delete")
BACKENDS: tuple[Backend, ...] = ("nft", "legacy")
NETNS_PREFIX = "vnkbench-"
TABLE, CHAIN = "filter", "BENCH"
# Calls in each measured phase besides the N of append and delete (as in main.go).
CALLS = {"exists": 100, "list": 20, "stats": 20}
_WARMUP_N = 20

Progress = Callable[[str], None]
Spec = tuple[str, ...]
T = TypeVar("T")


class BenchmarkError(Exception):
    """vnetkit gave a wrong answer during a benchmark (so its timing would mean nothing)."""


def rule(i: int) -> Spec:
    """The spec of rule ``i``, the same as ``spec(i)`` in the anchor's main.go."""
    source = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"
    return ("-s", source, "-p", "tcp", "--dport", str(1000 + i % 50000), "-j", "ACCEPT")


def in_turn(sides: Sequence[T], rep: int, k: int = 0) -> Sequence[T]:
    """``sides`` in the order to run them in repetition ``rep`` of operation ``k``.

    Who goes first alternates by repetition and by operation, so drift on a
    busy machine hits both sides alike.
    """
    return sides if (rep + k) % 2 == 0 else sides[::-1]


def calls_of(op: str, n: int) -> int:
    """How many verb calls the measured phase of ``op`` makes."""
    return CALLS.get(op, n)


def _append(ipt: IPTables, rules: list[Spec]) -> int:
    for spec in rules:
        ipt.append(TABLE, CHAIN, *spec)
    return len(rules)


def _exists(ipt: IPTables, rules: list[Spec]) -> int:
    last = rules[-1]
    return sum(ipt.exists(TABLE, CHAIN, *last) for _ in range(CALLS["exists"]))


def _list(ipt: IPTables, rules: list[Spec]) -> int:
    listed: list[str] = []
    for _ in range(CALLS["list"]):
        listed = ipt.list(TABLE, CHAIN)
    return len(listed) - 1  # the -N line


def _stats(ipt: IPTables, rules: list[Spec]) -> int:
    stats: list[Stat] = []
    for _ in range(CALLS["stats"]):
        stats = ipt.structured_stats(TABLE, CHAIN)
    return len(stats)


def _delete(ipt: IPTables, rules: list[Spec]) -> int:
    for spec in rules:
        ipt.delete(TABLE, CHAIN, *spec)
    return len(rules)


# Each measured phase returns a count that is checked after the clock stopped.
_PHASES: dict[str, Callable[[IPTables, list[Spec]], int]] = {
    "append": _append,
    "exists": _exists,
    "list": _list,
    "stats": _stats,
    "delete": _delete,
}


def run_vnetkit(ipt: IPTables, op: str, n: int) -> float:
    """Do what ``goipt OP N`` does with vnetkit and return the seconds of the measured phase.

    Like goipt: clear (create) the chain, fill it unless the operation is the
    fill itself, time the operation, then remove the chain. A wrong answer
    raises ``BenchmarkError``.
    """
    phase = _PHASES[op]
    rules = [rule(i) for i in range(n)]
    ipt.clear_chain(TABLE, CHAIN)
    try:
        if op != "append":
            _append(ipt, rules)
        gc.collect()
        start = time.perf_counter()
        seen = phase(ipt, rules)
        elapsed = time.perf_counter() - start
        expected = calls_of(op, n) if op == "exists" else n
        left = len(ipt.list(TABLE, CHAIN)) - 1
        if seen != expected or left != (0 if op == "delete" else n):
            raise BenchmarkError(f"{op}: saw {seen} (expected {expected}); {left} rules left in {CHAIN}")
        return elapsed
    finally:
        ipt.clear_and_delete_chain(TABLE, CHAIN)


def _bench_backend(
    goipt: Path | None, backend: Backend, *, n: int, reps: int, ops: Sequence[str], progress: Progress
) -> list[Comparison]:
    results = [Comparison(op, backend, n, calls_of(op, n)) for op in ops]
    with scratch_netns(prefix=NETNS_PREFIX) as ns:
        ipt = IPTables(backend=backend, netns=ns)
        sides: list[tuple[str, Callable[[str, int], float]]] = [
            ("vnetkit", lambda op, count: run_vnetkit(ipt, op, count))
        ]
        if goipt is not None:
            harness = goipt
            sides.insert(0, ("go", lambda op, count: run_goipt(harness, ns, op, count, backend=backend)))
        # Warm both sides up (modules, page cache, the namespace's worker) off the clock.
        for _, measure in sides:
            measure("append", _WARMUP_N)
        for rep in range(reps):
            for k, result in enumerate(results):
                for side, measure in in_turn(sides, rep, k):
                    seconds = measure(result.op, n)
                    (result.go if side == "go" else result.vnetkit).append(seconds)
                go = f"go {result.go[-1]:.3f}s  " if result.go else ""
                progress(f"[{backend} {rep + 1}/{reps}] {result.op:<6} {go}vnetkit {result.vnetkit[-1]:.3f}s")
    return results


def run(
    goipt: Path | None,
    *,
    n: int,
    reps: int,
    ops: Sequence[str] = OPS,
    backends: Sequence[Backend] = BACKENDS,
    progress: Progress = lambda _line: None,
) -> list[Comparison]:
    """Measure ``ops`` on ``backends``; without ``goipt``, vnetkit alone (no ratios)."""
    results: list[Comparison] = []
    for backend in backends:
        results += _bench_backend(goipt, backend, n=n, reps=reps, ops=ops, progress=progress)
    return results
