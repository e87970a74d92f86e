"""Wait until the machine is idle before a suite or a repetition starts.

The kernel frees a deleted network namespace asynchronously (its links,
its iptables tables: seconds of work for the 100,000-rule namespaces of the
rulesets suite), on kernel worker threads that hold the same locks link
creation needs. Measured: the links suite's per-pair median was 2.2 ms run
alone and 3.0 ms when started right after the rulesets suite, with the
``ip`` and pyroute2 columns slowed alike. So the benchmarks wait for the CPUs
to go quiet (from ``/proc/stat``) before measuring, up to a limit, and say
how long they waited.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["busy_fraction", "wait_for_quiet"]

_WINDOW = 0.2  # seconds per sample
_QUIET = 0.15  # busy fraction of all CPUs below which the machine counts as quiet
_IN_A_ROW = 3  # quiet windows needed in a row


def _jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user..steal; guest time is already counted in user
    return total - idle, total


def busy_fraction(window: float = _WINDOW) -> float:
    """How busy all CPUs were over the next ``window`` seconds (0..1)."""
    busy0, total0 = _jiffies()
    time.sleep(window)
    busy1, total1 = _jiffies()
    return (busy1 - busy0) / max(total1 - total0, 1)


def wait_for_quiet(what: str, progress: Callable[[str], None], *, limit: float = 60.0) -> float:
    """Block until the CPUs were quiet for a few windows in a row (at most ``limit`` s); seconds waited."""
    start = time.monotonic()
    quiet = 0
    last = 0.0
    while quiet < _IN_A_ROW and time.monotonic() - start < limit:
        last = busy_fraction()
        quiet = quiet + 1 if last < _QUIET else 0
    waited = time.monotonic() - start
    if quiet < _IN_A_ROW:
        progress(f"[{what}] machine still busy ({last:.0%}) after {limit:.0f} s; measuring anyway")
    elif waited > _IN_A_ROW * _WINDOW * 2:
        progress(f"[{what}] waited {waited:.1f} s for the kernel's cleanup and other load to settle")
    return waited
