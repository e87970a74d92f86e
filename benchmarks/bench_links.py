"""The links benchmark: N veth pairs (200), each with one end in a namespace of its own.

Per pair ``i``: make namespace ``ns_i``, a veth ``vh<i>`` in a "host"
namespace with its peer ``eth0`` made directly in ``ns_i``, an address on
each end (``10.200.x.y/30``), both ends up. Three ways, interleaved pair by
pair (who goes first rotates), each into its own host namespace:

- ``vnetkit``: ``exec.netns.create``, ``Links(host).add(Veth(..., peer_netns=ns_i,
  ifgroup=G))`` (which brings both ends up), ``add_address`` on both ends;
- ``ip``: one process per operation, the peer made in its namespace:
  ``ip netns add``, ``ip -n host link add vh<i> type veth peer name eth0 netns
  ns_i``, ``ip -n host|ns_i addr add`` x2, ``ip -n host|ns_i link set up`` x2;
- ``pyroute2``: what a plain pyroute2 user writes: ``NetNS(ns_i)`` (creates the
  namespace, forks a helper to open its socket) for the namespace side, and
  one ``IPRoute(netns=host)`` (opened once, off the clock) for the host side.

The host side is always a scratch namespace, never the root namespace; nothing
is connected to the root namespace. Every pair is checked after the clock
stopped (both ends up, addressed, the peer in its namespace).

Then each set of N pairs is torn down, timed until the host holds no veth and
no namespace of the set is left:

- the ``vnetkit`` set with the public API: ``Links(host).delete_group(G)``,
  then ``netns.delete`` of each namespace (target: <= 1 s for 200 pairs);
- the ``ip`` set by ``netns.delete`` alone: the kernel removes each veth when
  its namespace goes, and the host end with it;
- the ``pyroute2`` set with ONE ``RTM_DELLINK`` for the whole group (ifindex 0 +
  IFLA_GROUP, as ``ip link delete group G`` sends) through pyroute2's
  ``IPRoute``, then ``netns.delete`` of each namespace.

Last, one request both ways (``request`` row): bring a veth up by name,
1,000 times, through ``Links.set_up`` and through pyroute2's
``IPRoute.link("set", ...)`` on a socket in the same namespace: the cost of
pyroute2's request layer against vnetkit's own exchange with the same
pyroute2 message classes.

pyroute2 is imported here only as the baseline being measured.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from pyroute2 import IPRoute, NetNS
from pyroute2 import config as pyroute2_config

from benchmarks.bench_iptables import NETNS_PREFIX, BenchmarkError, Progress, in_turn
from benchmarks.quiet import wait_for_quiet
from benchmarks.report import Measured, Target, layout
from vnetkit.exec import default_runner, netns
from vnetkit.links import Links, Veth
from vnetkit.testing import unique_name

__all__ = ["OPS", "PAIRS", "QUICK_PAIRS", "Row", "format_links", "links_to_json", "run"]

OPS = ("pairs",)
PAIRS = 200
QUICK_PAIRS = 50
REQUESTS = 1000  # per sample of the one-request row
GROUP = 4242  # the interface group of the host ends (vnetkit and pyroute2 sets)
SIDES = ("vnetkit", "ip", "pyroute2")
PAIR_SPEEDUP = Target("speedup", 2.0)  # ip / vnetkit per pair
PAIR_SECONDS = Target("seconds", 0.003)  # vnetkit per pair
TEARDOWN_SECONDS = Target("seconds", 1.0)  # vnetkit, 200 pairs
_GONE_TIMEOUT = 60.0
_UP_TIMEOUT = 5.0


@dataclass(slots=True)
class Row:
    """One line of the links tables: vnetkit's samples (seconds), a baseline's, and a target if set."""

    op: str
    how: str
    baseline_name: str = "-"
    baseline: list[float] = field(default_factory=list)
    vnetkit: list[float] = field(default_factory=list)
    target: Target | None = None
    note: str = ""

    @property
    def measured(self) -> Measured | None:
        """The row as the rulesets report's record (medians, ratio, verdict); None without a target."""
        if self.target is None:
            return None
        return Measured(self.op, self.how, self.baseline_name, self.target, self.baseline, self.vnetkit)

    @property
    def verdict(self) -> str:
        measured = self.measured
        return "info" if measured is None else measured.verdict


def _addresses(i: int) -> tuple[str, str]:
    """Host and namespace ends of pair ``i``: a /30 of 10.200.0.0/16."""
    base = 4 * i
    net = f"10.{200 + (base >> 16)}.{(base >> 8) & 255}"
    return f"{net}.{(base & 255) + 1}/30", f"{net}.{(base & 255) + 2}/30"


# -- one pair, three ways -------------------------------------------------------------------------


class _Set:
    """One host namespace and the N namespaces hung off it by one of the three ways."""

    def __init__(self, side: str) -> None:
        self.side = side
        self.host = unique_name(NETNS_PREFIX)
        self.names: list[str] = []  # every namespace this set made (or tried to make)
        self.samples: list[float] = []
        self.steps: dict[str, list[float]] = {}
        self.links = Links(self.host)
        self._runner = default_runner()
        self._ipr: Any = None  # pyroute2's IPRoute (untyped)
        self._owner = os.getpid()

    def open(self) -> None:
        """Make the host namespace (and, for pyroute2, its ``IPRoute``: off the clock, as a user would)."""
        netns.create(self.host)
        if self.side == "pyroute2":
            self._ipr = IPRoute(netns=self.host)

    def pair(self, i: int) -> float:
        """Make pair ``i``; the seconds it took."""
        name = unique_name(NETNS_PREFIX)
        self.names.append(name)
        start = time.perf_counter()
        if self.side == "vnetkit":
            self._vnetkit(i, name, start)
        elif self.side == "ip":
            self._ip(i, name)
        else:
            self._pyroute2(i, name)
        seconds = time.perf_counter() - start
        self.samples.append(seconds)
        return seconds

    def _step(self, what: str, since: float) -> float:
        now = time.perf_counter()
        self.steps.setdefault(what, []).append(now - since)
        return now

    def _vnetkit(self, i: int, name: str, start: float) -> None:
        mine, theirs = _addresses(i)
        netns.create(name)
        t = self._step("netns.create", start)
        self.links.add(Veth(name=f"vh{i}", peer="eth0", peer_netns=name, ifgroup=GROUP))
        t = self._step("add(Veth)", t)
        self.links.add_address(f"vh{i}", mine)
        t = self._step("add_address host", t)
        Links(name).add_address("eth0", theirs)
        self._step("add_address peer", t)

    def _ip(self, i: int, name: str) -> None:
        mine, theirs = _addresses(i)
        host = self.host
        for argv in (
            ("ip", "netns", "add", name),
            (
                "ip",
                "-n",
                host,
                "link",
                "add",
                f"vh{i}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                name,
            ),
            ("ip", "-n", host, "addr", "add", mine, "dev", f"vh{i}"),
            ("ip", "-n", name, "addr", "add", theirs, "dev", "eth0"),
            ("ip", "-n", host, "link", "set", f"vh{i}", "up"),
            ("ip", "-n", name, "link", "set", "eth0", "up"),
        ):
            done = self._runner.run(argv)
            if done.returncode != 0:
                raise BenchmarkError(
                    f"{' '.join(argv)} failed (exit {done.returncode}): {done.stderr.strip()}"
                )

    def _pyroute2(self, i: int, name: str) -> None:
        mine, theirs = _addresses(i)
        host = self._ipr
        with NetNS(name) as inside:  # makes the namespace (O_CREAT) and forks to open a socket in it
            host.link(
                "add", ifname=f"vh{i}", kind="veth", peer={"ifname": "eth0", "net_ns_fd": name}, group=GROUP
            )
            [index] = host.link_lookup(ifname=f"vh{i}")
            address, prefix = mine.split("/")
            host.addr("add", index=index, address=address, prefixlen=int(prefix))
            host.link("set", index=index, state="up")
            [peer] = inside.link_lookup(ifname="eth0")
            address, prefix = theirs.split("/")
            inside.addr("add", index=peer, address=address, prefixlen=int(prefix))
            inside.link("set", index=peer, state="up")

    # -- checks and teardown ---------------------------------------------------------------------

    def check(self, n: int) -> None:
        """Every pair is there: host end up and addressed, peer ``eth0`` up and addressed in its namespace.

        The kernel reports a link's operational state asynchronously
        (linkwatch), so a pair just made may still read DOWN: look again
        for a while before calling it wrong.
        """
        deadline = time.monotonic() + _UP_TIMEOUT
        while True:
            problems = self._problems(n)
            if not problems:
                return
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{self.side}: {len(problems)} pairs wrong, e.g. {problems[0]}")
            time.sleep(0.05)

    def _problems(self, n: int) -> list[str]:
        host = {link.name: link for link in self.links.list() if link.kind == "veth"}
        if set(host) != {f"vh{i}" for i in range(n)}:
            return [f"host has {len(host)} veths, expected {n}"]
        problems = []
        for i, name in enumerate(self.names):
            mine, theirs = _addresses(i)
            link = host[f"vh{i}"]
            peers = {x.name: x for x in Links(name).list()}
            peer = peers.get("eth0")
            if link.state != "UP" or mine not in link.addresses or link.link_netnsid is None:
                problems.append(f"pair {i}: host end {link.name}: {link.state}, {link.addresses}")
            elif peer is None or peer.state != "UP" or theirs not in peer.addresses or peer.kind != "veth":
                problems.append(f"pair {i}: peer {peer}")
            elif set(peers) != {"lo", "eth0"}:
                problems.append(f"pair {i}: links in {name}: {sorted(peers)}")
        return problems

    def host_veths(self) -> int:
        return sum(1 for link in self.links.list() if link.kind == "veth")

    def teardown(self, how: str) -> float:
        """Remove every pair and namespace of the set ``how``; seconds until all are gone."""
        gc.collect()
        start = time.perf_counter()
        if how == "delete_group":
            removed = self.links.delete_group(GROUP)
            if removed != len(self.names):
                raise BenchmarkError(f"delete_group removed {removed} links, expected {len(self.names)}")
        elif how == "bulk":
            self._ipr.link("del", index=0, group=GROUP)
        for name in self.names:
            netns.delete(name)
        while self.host_veths():  # the kernel removes the pairs of deleted namespaces asynchronously
            if time.perf_counter() - start > _GONE_TIMEOUT:
                raise BenchmarkError(
                    f"{self.side}: host veths still there {_GONE_TIMEOUT:.0f} s after teardown"
                )
            time.sleep(0.001)
        seconds = time.perf_counter() - start
        left = [name for name in self.names if netns.exists(name)]
        if left:
            raise BenchmarkError(f"{self.side}: namespaces left after teardown: {', '.join(left)}")
        return seconds

    def close(self) -> None:
        """Delete whatever the set made and is still there, the host namespace last."""
        if os.getpid() != self._owner:
            # A helper pyroute2 forked, unwinding our stack: the namespaces are the parent's to delete.
            return
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None
        for name in [*self.names, self.host]:
            if netns.exists(name):
                netns.delete(name)


# Which set is torn down which way: (label, how).
_TEARDOWNS = {
    "vnetkit": ("Links.delete_group + netns.delete", "delete_group"),
    "ip": ("netns.delete only (kernel removes the veths)", "namespaces"),
    "pyroute2": ("IPRoute.link('del', group=G) + netns.delete", "bulk"),
}


@contextmanager
def _sets() -> Iterator[dict[str, _Set]]:
    """One set per side, each with its host namespace; everything deleted on the way out."""
    with ExitStack() as stack:
        sets = {side: _Set(side) for side in SIDES}
        for one in sets.values():
            stack.callback(one.close)
            one.open()
        yield sets


@contextmanager
def _quiet_pyroute2_children() -> Iterator[None]:
    """Let pyroute2's forked helpers die of SIGTERM instead of running our handler.

    ``benchmarks/run.py`` turns SIGTERM into SystemExit so that a run unwinds
    and deletes its namespaces. pyroute2 forks a helper per namespace socket
    and stops it with SIGTERM; with our handler inherited, the helper would
    unwind *our* stack in the child. This pyroute2 option resets SIGTERM to
    the default in its children (and only there).
    """
    saved = pyroute2_config.disable_mp_signal
    pyroute2_config.disable_mp_signal = True
    try:
        yield
    finally:
        pyroute2_config.disable_mp_signal = saved


def _one_rep(n: int, rep: int, progress: Progress) -> tuple[dict[str, _Set], dict[str, float]]:
    with _sets() as sets:
        order = [sets[side] for side in SIDES]
        for i in range(n):
            for one in in_turn(order, rep, i):
                one.pair(i)
            if (i + 1) % 50 == 0:
                progress(
                    f"[links {rep + 1}] {i + 1}/{n} pairs  "
                    + "  ".join(f"{s.side} {statistics.median(s.samples) * 1000:.2f} ms" for s in order)
                )
        for one in order:
            one.check(n)
        torn = {}
        for one in order:
            torn[one.side] = one.teardown(_TEARDOWNS[one.side][1])
            one.names.clear()
        progress(f"[links {rep + 1}] teardown  " + "  ".join(f"{k} {v:.3f} s" for k, v in torn.items()))
        return sets, torn


def _warm_up(progress: Progress) -> None:
    """One pair each way off the clock: modules, page cache, pyroute2's imports."""
    with _sets() as sets:
        for one in sets.values():
            one.pair(0)
            one.check(1)


def run(*, pairs: int = PAIRS, reps: int = 3, progress: Progress = lambda _line: None) -> list[Row]:
    """Make and tear down ``pairs`` veth pairs three ways, ``reps`` times; the rows of the two tables."""
    with _quiet_pyroute2_children(), _heap_set_aside():
        return _run(pairs, reps, progress)


@contextmanager
def _heap_set_aside() -> Iterator[None]:
    """Collect once, then keep what is alive out of the collector's way for the run.

    A pair costs about 2 ms; a full collection of what the suites before left
    in this process (1.5 million objects after the rulesets suite) costs
    far more, and one before each pair evicted every cache the pair then
    missed: 3.1 ms per pair instead of 2.0, measured with a 1.5-million-object
    heap. Frozen objects are not scanned; the garbage a pair makes still is.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _requests(reps: int, progress: Progress) -> Row:
    """One request, the same both ways: bring a link up by name, REQUESTS times, per call."""
    samples: dict[str, list[float]] = {"vnetkit": [], "pyroute2": []}
    host = unique_name(NETNS_PREFIX)
    netns.create(host)
    try:
        links = Links(host)
        links.add(Veth(name="rq0", peer="rq1"))
        ipr = IPRoute(netns=host)  # opened off the clock, as a user would
        try:
            ways: dict[str, Callable[[], object]] = {
                "vnetkit": lambda: links.set_up("rq0"),
                "pyroute2": lambda: ipr.link("set", ifname="rq0", state="up"),
            }
            for way in ways.values():  # warm
                way()
            for rep in range(reps):
                for side in in_turn(list(ways), rep):
                    call = ways[side]
                    gc.collect()
                    start = time.perf_counter()
                    for _ in range(REQUESTS):
                        call()
                    samples[side].append((time.perf_counter() - start) / REQUESTS)
        finally:
            ipr.close()
    finally:
        netns.delete(host)
    progress(
        f"[links] one request: vnetkit {statistics.median(samples['vnetkit']) * 1e6:.0f} us, "
        f"pyroute2 {statistics.median(samples['pyroute2']) * 1e6:.0f} us"
    )
    return Row(
        "request",
        "Links.set_up",
        "pyroute2 IPRoute.link('set')",
        samples["pyroute2"],
        samples["vnetkit"],
        note=f"one RTM_NEWLINK (up, by name) each way, {REQUESTS} calls per sample, median ms per call",
    )


def _run(pairs: int, reps: int, progress: Progress) -> list[Row]:
    _warm_up(progress)
    samples: dict[str, list[float]] = {side: [] for side in SIDES}
    steps: dict[str, list[float]] = {}
    teardown: dict[str, list[float]] = {side: [] for side in SIDES}
    for rep in range(reps):
        # The kernel frees the namespaces of the suite before (or of the last
        # repetition) asynchronously, under the locks link creation needs.
        wait_for_quiet(f"links {rep + 1}", progress)
        sets, torn = _one_rep(pairs, rep, progress)
        for side, one in sets.items():
            samples[side] += one.samples
            teardown[side].append(torn[side])
        for what, values in sets["vnetkit"].steps.items():
            steps.setdefault(what, []).extend(values)
    breakdown = ", ".join(f"{what} {statistics.median(v) * 1000:.2f}" for what, v in steps.items())
    rows = [
        Row("pair", "vnetkit", "ip, 1 process per op", samples["ip"], samples["vnetkit"], PAIR_SPEEDUP),
        Row("pair", "vnetkit", "pyroute2 NetNS(name)", samples["pyroute2"], samples["vnetkit"]),
        Row(
            "pair",
            "vnetkit",
            "(absolute target)",
            vnetkit=samples["vnetkit"],
            target=PAIR_SECONDS,
            note=f"vnetkit per pair, median ms of each step: {breakdown}",
        ),
    ]
    rows.append(_requests(reps, progress))
    for side in SIDES:
        label, _ = _TEARDOWNS[side]
        rows.append(
            Row(
                f"teardown {pairs}",
                label,
                vnetkit=teardown[side],
                target=TEARDOWN_SECONDS if side == "vnetkit" else None,
                note=f"on the {side} set" if side != "vnetkit" else "",
            )
        )
    return rows


# -- output ---------------------------------------------------------------------------------------------


def _ms(values: Sequence[float], digits: int = 2) -> str:
    return f"{statistics.median(values) * 1000:.{digits}f}" if values else "-"


def _seconds(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.3f}" if values else "-"


def _target(target: Target | None, unit: Callable[[float], str]) -> str:
    if target is None:
        return "-"
    if target.kind == "seconds":
        return f"<={unit(target.value)}"
    return str(target)


def _speedup(row: Row) -> str:
    if not row.baseline or not row.vnetkit:
        return "-"
    return f"{statistics.median(row.baseline) / statistics.median(row.vnetkit):.1f}x faster"


def format_links(rows: list[Row]) -> str:
    """Two tables: median ms per pair (with the speedup over each baseline), then teardown seconds."""
    pair_rows = [("op", "baseline", "baseline ms", "vnetkit ms", "speedup", "target", "verdict")]
    teardown_rows = [("op", "how", "s", "target", "verdict")]
    notes = []
    for row in rows:
        if row.op in ("pair", "request"):
            digits = 3 if row.op == "request" else 2
            pair_rows.append(
                (
                    row.op,
                    row.baseline_name,
                    _ms(row.baseline, digits),
                    _ms(row.vnetkit, digits),
                    _speedup(row),
                    _target(row.target, lambda v: f"{v * 1000:g} ms"),
                    row.verdict,
                )
            )
        else:
            teardown_rows.append(
                (
                    row.op,
                    row.how,
                    _seconds(row.vnetkit),
                    _target(row.target, lambda v: f"{v:g} s"),
                    row.verdict,
                )
            )
        if row.note:
            notes.append(f"  {row.op}/{row.how}: {row.note}")
    text = layout(pair_rows, numeric={2, 3, 4}) + "\n\n" + layout(teardown_rows, numeric={2})
    return text + ("\n\n" + "\n".join(notes) if notes else "")


def links_to_json(rows: list[Row]) -> list[dict[str, object]]:
    """Every sample and the summary of each row, for programs."""
    return [
        {
            "op": row.op,
            "how": row.how,
            "baseline": row.baseline_name,
            "target": None if row.target is None else {"kind": row.target.kind, "value": row.target.value},
            "baseline_seconds": row.baseline,
            "vnetkit_seconds": row.vnetkit,
            "baseline_median": statistics.median(row.baseline) if row.baseline else None,
            "vnetkit_median": statistics.median(row.vnetkit) if row.vnetkit else None,
            "verdict": row.verdict,
            "note": row.note,
        }
        for row in rows
    ]
