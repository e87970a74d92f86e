"""Benchmark results and how they are shown: a table for people, JSON for programs.

Owns: the ``Comparison`` record (samples of both sides for one operation),
medians, ratios against the target, and their rendering. Pure: no I/O.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

__all__ = ["TARGET", "Comparison", "format_table", "to_json"]

TARGET = 1.25  # vnetkit may take at most this many times go-iptables' time


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
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {2, 3, 4, 5}
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
