"""The rulesets benchmark: whole-ruleset operations against the raw tools they stand for.

For each backend, in one scratch namespace made for it (and always deleted),
each operation runs through vnetkit and through its baseline on exactly the
same rules, interleaved and repeated where a run is cheap; every answer is
checked after the clock stopped, against ``iptables-save`` text read raw.

- ``apply``: ``with ipt.transaction() as tx: tx.new_chain(...)`` and 10,000
  ``tx.append`` calls (the whole block is timed; the specs are built before
  the clock starts), vs ``nsenter --net=/run/netns/NS
  iptables-<backend>-restore --noflush < file`` of the same rules, as a user
  would run it; the chain is deleted before each side runs (a legacy restore
  costs O(table), so both sides see the same table); three interleaved pairs
  of samples per repetition (the restore itself is noisy). ``apply-1k`` and
  ``apply-30k`` show the growth at a tenth and three times the size;
- ``apply-go``: the same transaction vs ``goipt append 10000`` (one
  go-iptables call per rule), measured once; a cheaper probe first bounds
  its time, and past a budget only smaller sizes are measured and the
  per-call trend extrapolated (the row then says so);
- ``sync``: ``ipt.sync()`` of a desired chain VNK-BENCH of 10,000 rules (and
  a jump from INPUT) in which 10 rules changed, vs one raw ``-save`` of the
  table plus one raw ``-restore --noflush`` of just the 10 lines of the
  difference;
- ``snapshot``: one ``ipt.snapshot()`` of a 10,000-rule table and 1,000
  ``snap.exists()`` questions, vs 1,000 ``ipt.exists()`` (``-C``) calls
  (scaled from every 10th question when the full run would be too long);
- ``parse``: ``render_save(parse_save(text))`` of a 100,000-rule dump,
  against an absolute target; its ratio to the raw ``-save`` is shown.

Rule ``i`` is the anchor's: ``-s 10.A.B.C/32 -p tcp --dport (1000 + i%50000)
-j ACCEPT`` with A.B.C = i in base 256.
"""

from __future__ import annotations

import gc
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from benchmarks.anchor import HarnessError, run_goipt
from benchmarks.bench_iptables import BACKENDS, NETNS_PREFIX, BenchmarkError, Progress, Spec, in_turn, rule
from benchmarks.report import Measured, Target
from vnetkit.exec import default_runner
from vnetkit.iptables import (
    Desired,
    IPTables,
    Jump,
    Snapshot,
    Transaction,
    parse_rule,
    parse_save,
    render_save,
)
from vnetkit.iptables.caps import Backend
from vnetkit.model import Rule
from vnetkit.testing import scratch_netns

__all__ = ["OPS", "QUICK", "REFERENCE", "TARGETS", "Sizes", "run", "saved_line", "user_rule"]

OPS = ("apply", "apply-1k", "apply-30k", "apply-go", "sync", "snapshot", "parse")
APPLY_SAMPLES = 3  # interleaved pairs of apply samples per repetition
TABLE, CHAIN = "filter", "BENCH"
PREFIX = "VNK-"
OWNED = f"{PREFIX}BENCH"
T = TypeVar("T")

TARGETS: dict[str, Target] = {
    "apply/nft": Target("ratio", 1.1),
    "apply/legacy": Target("ratio", 1.2),
    # the growth rows: the targets are set at 10,000 rules; these show the trend
    "apply-1k": Target("ratio", 1.5),
    "apply-30k": Target("ratio", 1.5),
    "apply-go": Target("speedup", 100),
    "sync": Target("ratio", 2),
    "snapshot": Target("speedup", 50),
    "parse": Target("seconds", 1.0),
}


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big each operation is; the targets are set for ``REFERENCE``."""

    rules: int = 10_000  # apply, apply-go, sync, snapshot
    changed: int = 10  # sync: rules that differ between the two desired states
    questions: int = 1_000  # snapshot
    dump: int = 100_000  # parse
    go_probe: int = 2_000  # apply-go: first, cheap measurement
    go_second_probe: int = 5_000  # apply-go: if the full run may exceed the budget
    go_budget: float = 180.0  # seconds the full goipt run may take
    check_budget: float = 15.0  # seconds 1,000 -C calls may take before they are sampled instead


REFERENCE = Sizes()
QUICK = Sizes(rules=1_000, questions=100, dump=10_000, go_probe=200, go_second_probe=500)


def _target(op: str, backend: str) -> Target:
    return TARGETS.get(f"{op}/{backend}") or TARGETS[op]


def _ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _port(i: int) -> int:
    return 1000 + i % 50000


def user_rule(i: int) -> Spec:
    """Rule ``i`` as a user writes it: no ``/32``, no ``-m tcp``."""
    return ("-s", _ip(i), "-p", "tcp", "--dport", str(_port(i)), "-j", "ACCEPT")


def saved_line(chain: str, i: int, port: int | None = None) -> str:
    """Rule ``i`` (with ``port`` instead of its own) as ``iptables-save`` prints it, on both backends."""
    return f"-A {chain} -s {_ip(i)}/32 -p tcp -m tcp --dport {_port(i) if port is None else port} -j ACCEPT"


def _restore_text(lines: Iterable[str]) -> str:
    return "".join(["*filter\n", *(f"{line}\n" for line in lines), "COMMIT\n"])


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``fn()`` took (a full collection first, off the clock) and what it returned."""
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


class _Bench:
    """The operations of one backend, in one scratch namespace; each leaves the table as it found it."""

    def __init__(self, backend: Backend, netns: str, sizes: Sizes, reps: int, progress: Progress) -> None:
        self.backend = backend
        self.netns = netns
        self.sizes = sizes
        self.reps = reps
        self.progress = progress
        self.ipt = IPTables(backend=backend, netns=netns)
        self.runner = default_runner()
        self._apply_samples: list[float] = []
        self._files: list[Path] = []

    # -- raw tools and checks ------------------------------------------------------

    def raw(self, tool: str, *args: str, input: str | None = None) -> str:
        """Run ``iptables-<backend>-<tool>`` in the namespace the way vnetkit spawns; its stdout."""
        argv = (f"iptables-{self.backend}-{tool}", *args)
        done = self.runner.run(argv, netns=self.netns, input=input)
        if done.returncode != 0:
            raise BenchmarkError(f"{' '.join(argv)} failed (exit {done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def chain_lines(self, chain: str) -> list[str]:
        """The chain's rules as raw ``iptables-save`` prints them (no vnetkit parsing involved)."""
        head = f"-A {chain} "
        return [line for line in self.raw("save", "-t", TABLE).splitlines() if line.startswith(head)]

    def expect(self, what: str, chain: str, want: list[str]) -> None:
        got = self.chain_lines(chain)
        if got != want:
            wrong = next((k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
            raise BenchmarkError(
                f"{what}: chain {chain} has {len(got)} rules, expected {len(want)}"
                + ("" if wrong is None else f"; rule {wrong + 1} is {got[wrong]!r}, not {want[wrong]!r}")
            )

    def say(self, line: str) -> None:
        self.progress(f"[rulesets {self.backend}] {line}")

    def measure(
        self, op: str, sides: list[tuple[str, Callable[[], float]]], reps: int
    ) -> dict[str, list[float]]:
        """Run each side once off the clock, then ``reps`` interleaved times; the samples by side."""
        for _, side in sides:
            side()
        samples: dict[str, list[float]] = {name: [] for name, _ in sides}
        for rep in range(reps):
            for name, side in in_turn(sides, rep):
                samples[name].append(side())
            self.say(
                f"{op:<8} {rep + 1}/{reps}  " + "  ".join(f"{k} {v[-1]:.4f}s" for k, v in samples.items())
            )
        return samples

    # -- apply ---------------------------------------------------------------------

    def _drop(self) -> None:
        """Delete the chain BENCH (either side's) so the next side starts from the same table."""
        if self.ipt.chain_exists(TABLE, CHAIN):
            self.ipt.clear_and_delete_chain(TABLE, CHAIN)

    def _apply_sides(self, n: int) -> tuple[Callable[[], float], Callable[[], float]]:
        specs = [rule(i) for i in range(n)]
        lines = [f"-A {CHAIN} {' '.join(spec)}" for spec in specs]
        fd, name = tempfile.mkstemp(prefix="vnetkit-bench-apply-", suffix=".rules")
        file = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(_restore_text([f":{CHAIN} - [0:0]", *lines]))
        self._files.append(file)
        want = [saved_line(CHAIN, i) for i in range(n)]
        raw_argv = (
            "nsenter",
            f"--net=/run/netns/{self.netns}",
            f"iptables-{self.backend}-restore",
            "--noflush",
        )

        def transaction() -> Transaction:
            with self.ipt.transaction() as tx:
                tx.new_chain(TABLE, CHAIN)
                for spec in specs:
                    tx.append(TABLE, CHAIN, *spec)
            return tx

        def vnetkit() -> float:
            self._drop()
            seconds, tx = _timed(transaction)
            if tx.render().splitlines()[2:-1] != lines:
                raise BenchmarkError("apply: the transaction's restore text differs from the raw side's")
            self.expect("apply (vnetkit)", CHAIN, want)
            return seconds

        def user() -> None:
            with file.open("rb") as stdin:
                done = subprocess.run(raw_argv, stdin=stdin, capture_output=True, check=False)
            if done.returncode != 0:
                raise BenchmarkError(f"{' '.join(raw_argv)} < {file} failed: {done.stderr.decode().strip()}")

        def raw() -> float:
            self._drop()
            seconds, _ = _timed(user)
            self.expect("apply (raw restore)", CHAIN, want)
            return seconds

        return vnetkit, raw

    def apply(self, op: str = "apply", scale: float = 1.0) -> Measured:
        n = max(1, int(self.sizes.rules * scale))
        result = Measured(op, self.backend, "nsenter ...-restore < file", _target(op, self.backend))
        # Cheap (well under a second a pair) and noisy: one iptables-nft-restore of the same
        # 10,000 rules takes 170 ms or 250 ms depending on what the shared machine is doing,
        # in phases longer than a pair of samples. Three medians of three are at the mercy of
        # one phase change; APPLY_SAMPLES pairs per repetition are not.
        reps = self.reps * APPLY_SAMPLES
        try:
            vnetkit, raw = self._apply_sides(n)
            samples = self.measure(op, [("vnetkit", vnetkit), ("raw", raw)], reps)
        finally:
            self._drop()
            for file in self._files:
                file.unlink(missing_ok=True)
        result.vnetkit, result.baseline = samples["vnetkit"], samples["raw"]
        if op == "apply":
            self._apply_samples = result.vnetkit
        result.note = (
            f"{n} rules; the whole transaction block timed (new_chain + appends + apply), specs built"
            f" before; the raw side a user's nsenter + restore of a file; median of {reps}, interleaved"
        )
        return result

    # -- apply against go-iptables -----------------------------------------------------

    def _goipt(self, goipt: Path, n: int, timeout: float | None = None) -> float:
        self.say(f"apply-go goipt append {n} (once) ...")
        limit = {} if timeout is None else {"timeout": timeout}
        try:
            seconds = run_goipt(goipt, self.netns, "append", n, backend=self.backend, **limit)
        finally:
            self.ipt.clear_and_delete_chain(TABLE, CHAIN)  # goipt deletes it, unless it was killed
        self.say(f"apply-go goipt append {n}: {seconds:.2f}s, {seconds / n * 1e3:.2f} ms/call")
        return seconds

    def apply_go(self, goipt: Path | None) -> Measured:
        n = self.sizes.rules
        result = Measured("apply-go", self.backend, "goipt append", _target("apply-go", self.backend))
        ours = "the apply row's samples"
        if not self._apply_samples:
            try:
                vnetkit, _ = self._apply_sides(n)
                self._apply_samples = self.measure("apply-go", [("vnetkit", vnetkit)], self.reps)["vnetkit"]
            finally:
                self._drop()
                for file in self._files:
                    file.unlink(missing_ok=True)
            ours = f"one transaction, median of {self.reps}"
        result.vnetkit = self._apply_samples
        if goipt is None:
            result.note = "no go-iptables anchor: not measured"
            return result
        budget, second = self.sizes.go_budget, self.sizes.go_second_probe
        probes = {self.sizes.go_probe: self._goipt(goipt, self.sizes.go_probe)}
        if _extrapolate(probes, n) > budget:  # the quadratic bound is too loose: measure the trend
            probes[second] = self._goipt(goipt, second)
        estimate = _extrapolate(probes, n)
        why = f"estimated {estimate:.0f} s > budget {budget:g} s"
        if estimate <= budget:
            try:
                probes[n] = self._goipt(goipt, n, 2 * budget)
            except HarnessError as exc:
                self.say(f"apply-go {exc}; measuring the trend instead")
                why = f"killed after {2 * budget:g} s"
                if second not in probes:
                    probes[second] = self._goipt(goipt, second)
                estimate = _extrapolate(probes, n)
        trend = ", ".join(f"{probes[k] / k * 1e3:.2f} ms/call at {k}" for k in sorted(probes) if k != n)
        if n in probes:
            result.baseline = [probes[n]]
            result.note = (
                f"goipt append {n} measured once ({probes[n] / n * 1e3:.2f} ms/call; probe: {trend}); "
                f"vnetkit: {ours}"
            )
        else:
            result.baseline = [estimate]
            result.qualifier = "est."
            result.note = (
                f"goipt append {n} NOT measured ({why}); measured {trend}; baseline s = those per-call "
                f"costs extrapolated linearly in table size; vnetkit: {ours}"
            )
        return result

    # -- sync ----------------------------------------------------------------------

    def sync(self) -> Measured:
        n, k = self.sizes.rules, self.sizes.changed
        result = Measured("sync", self.backend, f"save + {k}-line restore", _target("sync", self.backend))
        # Spread positions; each changed rule gets a port no other rule has.
        changed = {n * j // k + n // (2 * k): 60000 + j for j in range(k)}
        old = [saved_line(OWNED, i) for i in range(n)]
        new = [saved_line(OWNED, i, changed.get(i)) for i in range(n)]
        desired1 = _desired([user_rule(i) for i in range(n)])
        desired2 = _desired([_with_port(user_rule(i), changed.get(i)) for i in range(n)])

        def diff(want: list[str]) -> str:
            lines: list[str] = []
            for i in sorted(changed):  # the minimal difference: replace each changed rule in place
                lines.append(f"-R {OWNED} {i + 1} {want[i].split(' ', 2)[2]}")
            return _restore_text(lines)

        forward, back = diff(new), diff(old)

        def vnetkit() -> float:
            seconds, plan = _timed(lambda: self.ipt.sync(desired2))
            if len(plan.transaction) != k:
                raise BenchmarkError(f"sync applied {len(plan.transaction)} lines, expected {k}")
            self.expect("sync (vnetkit)", OWNED, new)
            self.raw("restore", "--noflush", input=back)
            return seconds

        def raw() -> float:
            def go() -> None:
                self.raw("save", "-t", TABLE)
                self.raw("restore", "--noflush", input=forward)

            seconds, _ = _timed(go)
            self.expect("sync (raw)", OWNED, new)
            self.raw("restore", "--noflush", input=back)
            return seconds

        try:
            first = self.ipt.sync(desired1)  # untimed: creates the chain and the jump
            if len(first.transaction) != n + 2:
                raise BenchmarkError(f"first sync applied {len(first.transaction)} lines, expected {n + 2}")
            self.expect("first sync", OWNED, old)
            if self.chain_lines("INPUT") != [f"-A INPUT -j {OWNED}"]:
                raise BenchmarkError(f"first sync: INPUT lacks the jump to {OWNED}")
            samples = self.measure("sync", [("vnetkit", vnetkit), ("raw", raw)], self.reps)
        finally:
            self.ipt.sync(Desired(PREFIX))  # removes the owned chain and its jump
        if self.chain_lines("INPUT") or OWNED in self.raw("save", "-t", TABLE):
            raise BenchmarkError("sync: an empty desired state did not remove the chain and the jump")
        result.vnetkit, result.baseline = samples["vnetkit"], samples["raw"]
        result.note = (
            f"{n} rules, {k} changed; Desired built before the clock; baseline = save -t filter + "
            f"restore --noflush of the {k} diff lines (-R in place); median of {self.reps}, interleaved; "
            f"checked: {k} lines applied, chain equals desired2"
        )
        return result

    # -- exists ---------------------------------------------------------------------

    def snapshot(self) -> Measured:
        n, q = self.sizes.rules, self.sizes.questions
        result = Measured("snapshot", self.backend, f"{q} x exists (-C)", _target("snapshot", self.backend))
        questions = [user_rule(n * j // q) for j in range(q)]
        absent = _with_port(user_rule(0), 60000)

        def snapshot() -> float:
            def go() -> tuple[Snapshot, list[bool]]:
                snap = self.ipt.snapshot(table=TABLE)
                return snap, [snap.exists(TABLE, CHAIN, *spec) for spec in questions]

            seconds, (snap, answers) = _timed(go)
            if len(answers) != q or not all(answers):
                raise BenchmarkError(f"snapshot exists: {answers.count(False)} of {q} answered False")
            if snap.exists(TABLE, CHAIN, *absent):
                raise BenchmarkError("snapshot exists: found a rule that is not there")
            return seconds

        def checks(specs: Sequence[Spec]) -> float:
            seconds, answers = _timed(lambda: [self.ipt.exists(TABLE, CHAIN, *spec) for spec in specs])
            if not all(answers):
                raise BenchmarkError(f"exists (-C): {answers.count(False)} of {len(specs)} answered False")
            return seconds

        self.ipt.new_chain(TABLE, CHAIN)
        try:
            self.raw("restore", "--noflush", input=_restore_text(saved_line(CHAIN, i) for i in range(n)))
            if self.ipt.exists(TABLE, CHAIN, *absent):
                raise BenchmarkError("exists (-C) found a rule that is not there")
            result.vnetkit = self.measure("snapshot", [("snapshot", snapshot)], self.reps)["snapshot"]
            every = 10
            sample = questions[::every]
            self.say(f"snapshot {len(sample)} x -C (every {every}th question) ...")
            partial = checks(sample)
            if partial * q / len(sample) > self.sizes.check_budget:
                result.baseline = [partial * q / len(sample)]
                result.qualifier = "scaled"
                per_call = partial / len(sample) * 1e3
                how = (
                    f"-C timed on {len(sample)} of the {q} questions (every {every}th) and scaled "
                    f"x{q / len(sample):g} ({partial:.2f} s measured, {per_call:.1f} ms/call)"
                )
            else:
                self.say(f"snapshot {q} x -C ...")
                result.baseline = [checks(questions)]
                how = f"all {q} -C calls timed once ({result.baseline[0] / q * 1e3:.1f} ms/call)"
        finally:
            self.ipt.clear_and_delete_chain(TABLE, CHAIN)
        self.say(f"snapshot {q} x -C: {result.baseline[0]:.2f}s{' (scaled)' if result.qualifier else ''}")
        result.note = (
            f"{n}-rule chain; snapshot + {q} snap.exists (user-style specs), median of {self.reps}; {how}; "
            "all answers True"
        )
        return result

    # -- parse ---------------------------------------------------------------------

    def parse(self) -> Measured:
        m = self.sizes.dump
        result = Measured("parse", self.backend, f"{self.backend}-save", _target("parse", self.backend))
        self.ipt.new_chain(TABLE, CHAIN)
        try:
            dump = _restore_text(saved_line(CHAIN, i) for i in range(m))
            load, _ = _timed(lambda: self.raw("restore", "--noflush", input=dump))
            self.say(f"parse    loaded {m} rules in {load:.2f}s (one restore)")
            text = ""
            for _ in range(self.reps):
                seconds, text = _timed(lambda: self.raw("save"))
                result.baseline.append(seconds)
            held = text.count(f"\n-A {CHAIN} ")
            if held != m:
                raise BenchmarkError(f"parse: the dump holds {held} rules, not {m}")
            for rep in range(self.reps):
                seconds, out = _timed(lambda: render_save(parse_save(text)))
                result.vnetkit.append(seconds)
                if out != text:
                    raise BenchmarkError("parse: render_save(parse_save(dump)) differs from the dump")
                save = result.baseline[rep]
                self.say(f"parse    {rep + 1}/{self.reps}  save {save:.4f}s  vnetkit {seconds:.4f}s")
        finally:
            self.ipt.clear_and_delete_chain(TABLE, CHAIN)
        result.note = (
            f"{m}-rule dump ({len(text) / 1e6:.1f} MB) of iptables-{self.backend}-save; both median of "
            f"{self.reps}; output equals input byte for byte; ratio shown for information"
        )
        return result


def _with_port(spec: Spec, port: int | None) -> Spec:
    if port is None:
        return spec
    k = spec.index("--dport")
    return (*spec[: k + 1], str(port), *spec[k + 2 :])


def _desired(specs: Sequence[Spec]) -> Desired:
    rules: list[Rule] = [parse_rule(spec) for spec in specs]
    return Desired(PREFIX, {(TABLE, OWNED): rules}, (Jump(TABLE, "INPUT", parse_rule(("-j", OWNED))),))


def _extrapolate(probes: dict[int, float], n: int) -> float:
    """Seconds for ``n`` one-call-each appends, from the measured ``probes`` (size -> seconds).

    The k-th append costs a + b*k (legacy rewrites the whole table each call).
    From one probe only an upper bound: all its cost grows with the table
    (a = 0), so time grows with the square of the size. From two, the fit.
    """
    sizes = sorted(probes)
    if len(sizes) == 1:
        (k,) = sizes
        return probes[k] * (n / k) ** 2
    (k1, k2) = sizes[-2:]
    y1, y2 = probes[k1] / k1, probes[k2] / k2  # mean cost per call = a + b*k/2
    b = max(0.0, (y2 - y1) / ((k2 - k1) / 2))
    a = y2 - b * k2 / 2
    return n * (a + b * n / 2)


def run(
    goipt: Path | None,
    *,
    sizes: Sizes = REFERENCE,
    reps: int,
    ops: Sequence[str] = OPS,
    backends: Sequence[Backend] = BACKENDS,
    progress: Progress = lambda _line: None,
) -> list[Measured]:
    """Measure ``ops`` on ``backends``; without ``goipt`` the ``apply-go`` rows have no baseline."""
    results: list[Measured] = []
    for backend in backends:
        with scratch_netns(prefix=NETNS_PREFIX) as ns:
            bench = _Bench(backend, ns, sizes, reps, progress)
            steps: dict[str, Callable[[], Measured]] = {
                "apply": bench.apply,
                "apply-1k": partial(bench.apply, "apply-1k", 0.1),
                "apply-30k": partial(bench.apply, "apply-30k", 3.0),
                "apply-go": partial(bench.apply_go, goipt),
                "sync": bench.sync,
                "snapshot": bench.snapshot,
                "parse": bench.parse,
            }
            results += [steps[op]() for op in OPS if op in ops]
    return results
