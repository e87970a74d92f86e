"""Benchmark results and how they are shown: a table for people, JSON for programs.

Owns: the ``Comparison`` record (samples of both sides for one operation),
medians, ratios against the target, and their rendering; likewise the
``Measured`` record of the rulesets benchmark, whose rows each name their own
baseline and target; and the labs benchmark's ``Labs`` record (samples by
operation, size and side, the all-pairs outcomes) with its judged targets
(``Goal``); and the trace benchmark's ``Trace`` (decisions per second by way
of asking and ruleset size, ``TraceRow``, and the live probe's times). Pure: no I/O.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "TARGET",
    "Comparison",
    "Goal",
    "Labs",
    "Measured",
    "Target",
    "Trace",
    "TraceRow",
    "format_labs",
    "format_rulesets",
    "format_table",
    "format_trace",
    "labs_to_json",
    "layout",
    "rulesets_to_json",
    "to_json",
    "trace_to_json",
]

TARGET = 1.05  # vnetkit may take at most this many times go-iptables' time (issue 9: spawn as fast as Go)


@dataclass(slots=True)
class Comparison:
    """Timings of one measured phase (seconds), go-iptables and vnetkit, over the repetitions."""

    op: str
    backend: str
    n: int
    calls: int
    go: list[float] = field(default_factory=list)
    vnetkit: list[float] = field(default_factory=list)

    @property
    def go_median(self) -> float | None:
        return statistics.median(self.go) if self.go else None

    @property
    def vnetkit_median(self) -> float | None:
        return statistics.median(self.vnetkit) if self.vnetkit else None

    @property
    def ratio(self) -> float | None:
        """vnetkit / go-iptables, medians of each; None without an anchor."""
        go, vnk = self.go_median, self.vnetkit_median
        if go is None or vnk is None or go <= 0:
            return None
        return vnk / go

    @property
    def verdict(self) -> str:
        ratio = self.ratio
        if ratio is None:
            return "n/a"
        return "ok" if ratio <= TARGET else "FAIL"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_table(results: list[Comparison]) -> str:
    """One row per operation and backend: both medians, the ratio, the target and the verdict."""
    header = ("op", "backend", "calls", "go-iptables s", "vnetkit s", "ratio", "target", "verdict")
    rows = [header]
    for r in results:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        rows.append(
            (
                r.op,
                r.backend,
                str(r.calls),
                _seconds(r.go_median),
                _seconds(r.vnetkit_median),
                ratio,
                f"<={TARGET}",
                r.verdict,
            )
        )
    return layout(rows, numeric={2, 3, 4, 5})


def layout(rows: Sequence[Sequence[str]], *, numeric: Collection[int]) -> str:
    """Rows as aligned columns; the first row is the header, underlined; ``numeric`` columns right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def to_json(results: list[Comparison], *, reps: int) -> dict[str, object]:
    """Every sample and the summary of each comparison, for programs."""
    return {
        "target": TARGET,
        "reps": reps,
        "results": [
            {
                "op": r.op,
                "backend": r.backend,
                "n": r.n,
                "calls": r.calls,
                "go_seconds": r.go,
                "vnetkit_seconds": r.vnetkit,
                "go_median": r.go_median,
                "vnetkit_median": r.vnetkit_median,
                "ratio": r.ratio,
                "verdict": r.verdict,
            }
            for r in results
        ],
    }


# -- the rulesets benchmark: one baseline per row, three kinds of target --------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """What a row must reach: ``ratio`` (vnetkit / baseline <= value), ``speedup``
    (baseline / vnetkit >= value) or ``seconds`` (vnetkit's own time <= value)."""

    kind: Literal["ratio", "speedup", "seconds"]
    value: float

    def __str__(self) -> str:
        if self.kind == "ratio":
            return f"<={self.value:g}"
        if self.kind == "speedup":
            return f">={self.value:g}x faster"
        return f"<={self.value:g} s"


@dataclass(slots=True)
class Measured:
    """Timings (seconds) of one rulesets operation on one backend: vnetkit and its named baseline.

    ``note`` says how the numbers were obtained. ``qualifier`` (``"scaled"``,
    ``"est."``) marks a baseline that was not measured in full, and shows next
    to the verdict.
    """

    op: str
    backend: str
    baseline_name: str
    target: Target
    baseline: list[float] = field(default_factory=list)
    vnetkit: list[float] = field(default_factory=list)
    note: str = ""
    qualifier: str = ""

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def vnetkit_median(self) -> float | None:
        return statistics.median(self.vnetkit) if self.vnetkit else None

    @property
    def ratio(self) -> float | None:
        """vnetkit / baseline, medians of each; None when either side is missing."""
        base, vnk = self.baseline_median, self.vnetkit_median
        if base is None or vnk is None or base <= 0:
            return None
        return vnk / base

    @property
    def verdict(self) -> str:
        vnk, ratio = self.vnetkit_median, self.ratio
        if self.target.kind == "seconds":
            ok = None if vnk is None else vnk <= self.target.value
        elif ratio is None:
            ok = None
        elif self.target.kind == "ratio":
            ok = ratio <= self.target.value
        else:
            ok = ratio > 0 and 1 / ratio >= self.target.value
        if ok is None:
            return "n/a"
        verdict = "ok" if ok else "FAIL"
        return f"{verdict} ({self.qualifier})" if self.qualifier else verdict


def _ratio_cell(m: Measured) -> str:
    ratio = m.ratio
    if ratio is None:
        return "-"
    if m.target.kind == "speedup":
        return f"{1 / ratio:.0f}x faster" if ratio > 0 else "-"
    return f"{ratio:.2f}"


def format_rulesets(results: list[Measured]) -> str:
    """The rulesets table (op, backend, baseline, both medians, ratio, target, verdict), then notes."""
    header = ("op", "backend", "baseline", "baseline s", "vnetkit s", "ratio", "target", "verdict")
    rows = [header]
    notes = []
    for m in results:
        rows.append(
            (
                m.op,
                m.backend,
                m.baseline_name,
                _seconds(m.baseline_median),
                _seconds(m.vnetkit_median),
                _ratio_cell(m),
                str(m.target),
                m.verdict,
            )
        )
        if m.note:
            notes.append(f"  {m.op}/{m.backend}: {m.note}")
    table = layout(rows, numeric={3, 4, 5})
    return table + ("\n\nhow each row was measured:\n" + "\n".join(notes) if notes else "")


def rulesets_to_json(results: list[Measured]) -> list[dict[str, object]]:
    """Every sample and the summary of each rulesets row, for programs."""
    return [
        {
            "op": m.op,
            "backend": m.backend,
            "baseline": m.baseline_name,
            "target": {"kind": m.target.kind, "value": m.target.value},
            "baseline_seconds": m.baseline,
            "vnetkit_seconds": m.vnetkit,
            "baseline_median": m.baseline_median,
            "vnetkit_median": m.vnetkit_median,
            "ratio": m.ratio,
            "verdict": m.verdict,
            "qualifier": m.qualifier,
            "note": m.note,
        }
        for m in results
    ]


# -- the labs benchmark: samples by (op, containers, side), and the targets judged -----------

LabKey = tuple[str, int, str]  # (op, containers, side)


@dataclass(frozen=True, slots=True)
class Goal:
    """One target, judged: the medians behind it (``Measured``) and any false failures, which fail it."""

    what: str
    measured: Measured
    failures: int = 0

    @property
    def verdict(self) -> str:
        return f"FAIL ({self.failures} false failures)" if self.failures else self.measured.verdict

    def cell(self) -> str:
        """What was measured: seconds, a speedup, or (ratio targets) the ratio and both sides in ms."""
        m, ratio = self.measured, self.measured.ratio
        if m.target.kind == "speedup":
            return f"{1 / ratio:.1f}x faster" if ratio else "-"
        if m.target.kind == "ratio":
            if ratio is None or m.baseline_median is None or m.vnetkit_median is None:
                return "-"
            return f"{ratio:.2f} ({m.vnetkit_median * 1000:.2f} / {m.baseline_median * 1000:.2f} ms)"
        value = m.vnetkit_median
        return "-" if value is None else f"{value * 1000:.1f} ms" if value < 1 else f"{value:.3f} s"


@dataclass(slots=True)
class Labs:
    """A labs run: seconds by (op, containers, side), the all-pairs outcomes, notes and judged targets."""

    sizes: tuple[int, ...]
    check_size: int
    reps: int
    compare_size: int = 0  # the all-pairs size both vnetkit and Mininet run at (the host's table allows)
    samples: dict[LabKey, list[float]] = field(default_factory=dict)
    pairs: int = 0
    failures: list[int] = field(default_factory=list)  # vnetkit all-pairs: false failures per run
    reasons: Counter[str] = field(default_factory=Counter)
    loss: list[float] = field(default_factory=list)  # Mininet pingAll loss %, per run
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)

    def add(self, op: str, size: int, side: str, seconds: float) -> None:
        self.samples.setdefault((op, size, side), []).append(seconds)

    def get(self, op: str, size: int, side: str) -> list[float]:
        return self.samples.get((op, size, side), [])

    def median(self, op: str, size: int, side: str) -> float | None:
        values = self.samples.get((op, size, side))
        return statistics.median(values) if values else None


def _ms3(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _x(base: float | None, mine: float | None) -> str:
    return "-" if base is None or not mine else f"{base / mine:.1f}x"


def _per(value: float | None, size: int) -> str:
    return "-" if value is None else f"{value / size * 1000:.2f}"


_LAB_HEADER = (
    "op|containers|vnetkit s|shell s|mininet s|shell/vnk|mininet/vnk|vnk ms/ctr|shell ms/ctr|mininet ms/ctr"
)
_PAIRS_HEADER = (
    "all-pairs|containers|pairs|vnetkit s|failed (worst)|mininet pingAll s|mininet loss %|mininet/vnk"
)


def format_labs(result: Labs) -> str:
    """Medians per op and size (speedups, ms per container), then all-pairs, the targets and notes."""
    rows = [_LAB_HEADER.split("|")]
    for op in ("up", "down", "re-up", "cli up", "cli down"):
        for size in result.sizes:
            vnk, shell, mn = (result.median(op, size, side) for side in ("vnetkit", "shell", "mininet"))
            if vnk is not None:
                times = [_ms3(v) for v in (vnk, shell, mn)]
                per = [_per(v, size) for v in (vnk, shell, mn)]
                rows.append([op, str(size), *times, _x(shell, vnk), _x(mn, vnk), *per])
    parts = [layout(rows, numeric=set(range(1, 10)))] if len(rows) > 1 else []
    ping_rows = [_PAIRS_HEADER.split("|")]
    for n in sorted({result.check_size, result.compare_size or result.check_size}):
        vnk, mn = result.median("all-pairs", n, "vnetkit"), result.median("all-pairs", n, "mininet")
        if vnk is None and mn is None:
            continue
        failed = "-"
        if n == result.check_size and result.failures:
            failed = str(max(result.failures)) + (f" {dict(result.reasons)}" if result.reasons else "")
        loss = f"{statistics.median(result.loss):.1f}" if result.loss and mn is not None else "-"
        pairs = str(result.pairs if n == result.check_size and result.pairs else n * (n - 1))
        times = [_ms3(v) for v in (vnk, mn)]
        ping_rows.append(["ping", str(n), pairs, times[0], failed, times[1], loss, _x(mn, vnk)])
    if len(ping_rows) > 1:
        parts.append(layout(ping_rows, numeric={1, 2, 3, 5, 6, 7}))
    goals = [("target", "measured", "target", "verdict")]
    goals += [(g.what, g.cell(), str(g.measured.target), g.verdict) for g in result.goals]
    if len(goals) > 1:
        parts.append(layout(goals, numeric={1}))
    if result.notes:
        parts.append("\n".join(f"note: {line}" for line in result.notes))
    return "\n\n".join(parts)


def labs_to_json(result: Labs) -> dict[str, object]:
    """Every sample, the all-pairs outcomes and every target's verdict, for programs."""
    samples = [
        {"op": op, "containers": size, "side": side, "seconds": values, "median": statistics.median(values)}
        for (op, size, side), values in result.samples.items()
    ]
    targets = [
        {
            "what": g.what,
            "target": {"kind": g.measured.target.kind, "value": g.measured.target.value},
            "vnetkit_median": g.measured.vnetkit_median,
            "baseline_median": g.measured.baseline_median,
            "ratio": g.measured.ratio,
            "verdict": g.verdict,
        }
        for g in result.goals
    ]
    return {
        "sizes": list(result.sizes),
        "check_containers": result.check_size,
        "compare_containers": result.compare_size,
        "reps": result.reps,
        "samples": samples,
        "all_pairs": {
            "pairs": result.pairs,
            "false_failures": result.failures,
            "reasons": dict(result.reasons),
            "mininet_loss_pct": result.loss,
        },
        "targets": targets,
        "notes": result.notes,
    }


# -- the trace benchmark: decisions per second by ruleset size, and a live probe --------------------


@dataclass(slots=True)
class TraceRow:
    """One way of asking the engine at one ruleset size: seconds per batch of ``packets`` decisions.

    ``target`` is the decisions per second the row must reach (None: shown, not judged).
    """

    what: str
    rules: int
    packets: int
    seconds: list[float] = field(default_factory=list)
    target: float | None = None

    @property
    def rate(self) -> float | None:
        """Decisions per second of the median batch."""
        if not self.seconds:
            return None
        median = statistics.median(self.seconds)
        return self.packets / median if median > 0 else None

    @property
    def verdict(self) -> str:
        if self.target is None or self.rate is None:
            return "n/a"
        return "ok" if self.rate >= self.target else "FAIL"


@dataclass(slots=True)
class Trace:
    """A trace run: the rate rows, the live probe's seconds per connection, notes."""

    sizes: tuple[int, ...]
    reps: int
    rows: list[TraceRow] = field(default_factory=list)
    probe: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def probe_median(self) -> float | None:
        return statistics.median(self.probe) if self.probe else None


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def format_trace(result: Trace) -> str:
    """Decisions/s per way and size (growth shows down the rows), the live probe beside, then the targets."""
    rows = [("ask", "rules", "packets", "decisions/s", "us/decision", "target", "verdict")]
    for r in result.rows:
        rate = r.rate
        per = "-" if not rate else f"{1e6 / rate:.1f}"
        target = "-" if r.target is None else f">={r.target:,.0f}/s"
        rows.append((r.what, str(r.rules), str(r.packets), _rate(rate), per, target, r.verdict))
    parts = [layout(rows, numeric={1, 2, 3, 4})] if len(rows) > 1 else []
    probe = result.probe_median
    if probe is not None:
        rates = [f"{probe * r.rate:,.0f} at {r.rules}" for r in result.rows if r.what == "decide" and r.rate]
        beside = f"; decide answers in that time, by rules: {', '.join(rates)}" if rates else ""
        parts.append(
            f"live probe A -> R -> B (one TCP connection, run_probes): {probe * 1000:.2f} ms "
            f"(median of {len(result.probe)}){beside}"
        )
    goals = [("target", "measured", "target", "verdict")]
    goals += [
        (f"decisions/s at {r.rules} rules ({r.what})", _rate(r.rate), f">={r.target:,.0f}", r.verdict)
        for r in result.rows
        if r.target is not None
    ]
    if len(goals) > 1:
        parts.append(layout(goals, numeric={1}))
    if result.notes:
        parts.append("\n".join(f"note: {line}" for line in result.notes))
    return "\n\n".join(parts)


def trace_to_json(result: Trace) -> dict[str, object]:
    """Every sample, rate and verdict of a trace run, for programs."""
    return {
        "sizes": list(result.sizes),
        "reps": result.reps,
        "rows": [
            {
                "ask": r.what,
                "rules": r.rules,
                "packets": r.packets,
                "seconds": r.seconds,
                "decisions_per_second": r.rate,
                "target_per_second": r.target,
                "verdict": r.verdict,
            }
            for r in result.rows
        ],
        "probe_seconds": result.probe,
        "probe_median": result.probe_median,
        "notes": result.notes,
    }
