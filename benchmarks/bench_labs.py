"""The labs benchmark: a ``docker-bridge`` lab of 10, 100 and 300 containers, up and down.

Three ways to build the same network from nothing, interleaved per size (who
goes first rotates by repetition and size), each only inside namespaces of
its own (the "host" side is a namespace too; nothing reaches the root
namespace):

- ``vnetkit``: the Python API in-process, as a user calls it: ``resolve(
  load_data(...))``, then ``lab.up`` and ``lab.down`` with one ``Host`` (made
  off the clock) and a ledger directory under /tmp. The recipe's lab: node
  ``host`` (bridge docker0 172.17.0.1/16, one veth port per container with
  hairpin on, ip_forward, Docker's iptables rules, an uplink to node
  ``outside``) and a namespace per container (eth0 with its address, a
  default route). After ``up``, once the machine is quiet again, a second
  ``up`` of the unchanged lab is timed (``re-up``: observe and an empty plan).
- ``shell``: a generated /bin/sh script of ``ip`` commands, one process per
  operation, as a user writes it, making the same network: per container
  ``ip netns add``, lo up, ``ip -n host link add vethI type veth peer name
  eth0 netns cI``, set master, hairpin on, up both ends, the address, the
  default route; plus the bridge, the uplink and ``outside``, ip_forward and
  the same Docker rules through one ``iptables-restore`` (``ip netns exec``).
  Its teardown: one ``ip netns del`` per namespace. Timed as the script's
  wall time.
- ``mininet``: Mininet 2.3 through ``shared/anchors/mininet/run.sh N``: N
  hosts on one Linux bridge, each in a namespace, inside a sandbox namespace;
  its own up (build + start) and down (stop) seconds. It makes less (no
  rules, uplink or hairpin).

Once per repetition at 100 containers, ``vnetkit lab up FILE --json`` and
``vnetkit lab down FILE --json`` are timed as processes too (the CLI row;
skipped when ``vnetkit lab --help`` fails).

Then ``lab check --all-pairs`` on 50 containers: ``run_checks`` of a ping from
every container to every other (2,450 ordered pairs) on a fresh lab, against
Mininet's ``pingAll`` on 50 hosts, once per run: each ping it loses waits 1 s,
and 2,450 pairs need more ARP entries than the kernel's neighbour table holds
for all namespaces together (``gc_thresh3``, 1024 by default), so it takes
minutes.

"down" is timed until the call returns (the namespaces are unmounted); the
kernel frees them later for all three alike, so each measurement first waits
for the CPUs to go quiet. Each built network is checked off the clock
(bridge, ports with hairpin, every container's eth0 up and addressed), and
each teardown must leave none of its namespaces.

Targets (issue: labs), at 100 containers: up <= 1.0 s, down <= 0.5 s, each
>= 2x faster than Mininet; re-up <= 50 ms; the marginal cost per container
flat from 10 to 300 (the last interval's at most 1.5x the first's); all-pairs
on 50 <= 10 s with no false failure.
"""

from __future__ import annotations

import gc
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.anchor import ANCHORS_ENV
from benchmarks.bench_iptables import NETNS_PREFIX, BenchmarkError, Progress, in_turn
from benchmarks.quiet import wait_for_quiet
from benchmarks.report import Goal, Labs, Measured, Target
from vnetkit.errors import VnetkitError
from vnetkit.exec import netns
from vnetkit.exec.host import Host
from vnetkit.iptables.names import is_builtin
from vnetkit.links import Links
from vnetkit.topology import lab as L
from vnetkit.topology.check import CheckReport, all_pairs, run_checks
from vnetkit.topology.ledger import Ledgers
from vnetkit.topology.load import load_data
from vnetkit.topology.recipes.docker_rules import USER_CHAIN, docker_rules
from vnetkit.topology.resolve import resolve
from vnetkit.topology.spec import LabSpec

__all__ = [
    "CHECK_SIZE",
    "MAX_CONTAINERS",
    "OPS",
    "QUICK_CHECK_SIZE",
    "QUICK_SIZES",
    "SIZES",
    "goals",
    "lab_prefix",
    "run",
]

OPS = ("lab-up", "lab-check")
SIZES = (10, 100, 300)
QUICK_SIZES = (10, 50)
CHECK_SIZE = 50
QUICK_CHECK_SIZE = 20
MAX_CONTAINERS = 1000  # per lab, for the command line's sake
REFERENCE = 100  # containers: where the up/down/re-up targets apply
SIDES = ("vnetkit", "shell", "mininet")
UP_SECONDS, DOWN_SECONDS = Target("seconds", 1.0), Target("seconds", 0.5)
MININET_SPEEDUP = Target("speedup", 2.0)
REUP_SECONDS = Target("seconds", 0.05)
FLAT = Target("ratio", 1.5)  # marginal s/container, last interval / first
CHECK_SECONDS = Target("seconds", 10.0)
_SUBNET, _GATEWAY, _GATEWAY_IP, _UPLINK = "172.17.0.0/16", "172.17.0.1/16", "172.17.0.1", "198.51.100"
_MININET_TIMEOUT = 900.0


def lab_prefix() -> str:
    """The start of every namespace this process's vnetkit labs make: ``vnk-bnch<pid>x``."""
    return f"vnk-bnch{os.getpid()}x"


def _address(i: int) -> str:
    """Container ``i``'s address, as Docker's IPAM (and the recipe) hands them out."""
    return f"{ipaddress.IPv4Address('172.17.0.2') + i}/16"


def goals(result: Labs) -> list[Goal]:
    """The issue's targets, judged on ``result``: those whose sizes were measured."""
    found: list[Goal] = []
    if REFERENCE in result.sizes:
        n = REFERENCE
        for op, target in (("up", UP_SECONDS), ("down", DOWN_SECONDS)):
            mine, theirs = result.get(op, n, "vnetkit"), result.get(op, n, "mininet")
            found.append(Goal(f"{op} {n}", Measured(op, "vnetkit", "-", target, [], mine)))
            found.append(
                Goal(
                    f"{op} {n} vs mininet", Measured(op, "vnetkit", "mininet", MININET_SPEEDUP, theirs, mine)
                )
            )
        reup = result.get("re-up", n, "vnetkit")
        found.append(Goal(f"re-up {n}", Measured("re-up", "vnetkit", "-", REUP_SECONDS, [], reup)))
    if len(result.sizes) >= 3:
        (a, b), (c, d) = result.sizes[:2], result.sizes[-2:]
        for op in ("up", "down"):
            first, last = _marginal(result, op, a, b), _marginal(result, op, c, d)
            if first is not None and last is not None:
                what = f"{op} flat: cost per added container {c}->{d} / {a}->{b}"
                found.append(Goal(what, Measured(op, "vnetkit", "first", FLAT, [first], [last])))
    mine = result.get("all-pairs", result.check_size, "vnetkit")
    if mine:
        what = f"all-pairs {result.check_size} ({result.pairs} pairs)"
        measured = Measured("all-pairs", "vnetkit", "-", CHECK_SECONDS, [], mine)
        found.append(Goal(what, measured, max(result.failures, default=0)))
    return found


def _marginal(result: Labs, op: str, a: int, b: int) -> float | None:
    """vnetkit's seconds per container added from ``a`` to ``b`` containers."""
    ta, tb = result.median(op, a, "vnetkit"), result.median(op, b, "vnetkit")
    return None if ta is None or tb is None else (tb - ta) / (b - a)


# -- the three ways ----------------------------------------------------------------------------------


def _lab_data(lab: str, size: int) -> dict[str, object]:
    """The lab file: recipe docker-bridge with containers c0, c1, ..."""
    return {"name": lab, "recipe": "docker-bridge", "containers": [f"c{i}" for i in range(size)]}


def _spec(lab: str, size: int) -> LabSpec:
    return resolve(load_data(_lab_data(lab, size)))


def _check_built(host_ns: str, containers: Sequence[str], who: str) -> None:
    """The network is there: docker0 up and addressed, one hairpin port per container, each eth0 ok."""
    with Host() as host:
        links = {link.name: link for link in Links(host_ns, host=host).list()}
        bridge = links.get("docker0")
        if bridge is None or not bridge.up or _GATEWAY not in bridge.addresses:
            raise BenchmarkError(f"{who}: docker0 in {host_ns} wrong: {bridge}")
        ports = [x for x in links.values() if x.master == "docker0"]
        if len(ports) != len(containers) or not all(x.up and x.hairpin for x in ports):
            raise BenchmarkError(
                f"{who}: {len(ports)} ports on docker0, expected {len(containers)} up, hairpin"
            )
        for i, name in enumerate(containers):
            eth0 = {x.name: x for x in Links(name, host=host).list()}.get("eth0")
            if eth0 is None or not eth0.up or _address(i) not in eth0.addresses:
                raise BenchmarkError(f"{who}: eth0 in {name} wrong: {eth0}")


def _gone(names: Sequence[str], who: str) -> None:
    left = [name for name in names if netns.exists(name)]
    if left:
        raise BenchmarkError(f"{who}: {len(left)} namespaces left after down, e.g. {left[0]}")


class _Bench:
    """One run's scratch directory, lab names and the anchors' whereabouts."""

    def __init__(self, workdir: Path, mininet: Path | None, cli: Path | None) -> None:
        self.workdir = workdir
        self.ledgers = Ledgers(str(workdir / "ledgers"))
        self.run_sh = mininet
        self.cli = cli
        self._count = 0

    def name(self) -> str:
        self._count += 1
        return f"bnch{os.getpid()}x{self._count}"

    # vnetkit, the API in-process

    def vnetkit(self, size: int) -> dict[str, float]:
        spec = _spec(self.name(), size)
        times: dict[str, float] = {}
        with Host() as host:
            try:
                gc.collect()
                start = time.perf_counter()
                first = L.up(spec, host=host, ledgers=self.ledgers)
                times["up"] = time.perf_counter() - start
                if not first.plan:
                    raise BenchmarkError(f"vnetkit: up of the new lab {spec.name} planned nothing")
                # As every measurement here: once the machine is quiet again (right after an up, the
                # kernel is still setting the new namespaces up in the background, e.g. IPv6 addrconf).
                wait_for_quiet("labs re-up", lambda _line: None)
                gc.collect()
                start = time.perf_counter()
                again = L.up(spec, host=host, ledgers=self.ledgers)
                times["re-up"] = time.perf_counter() - start
                if again.plan:
                    raise BenchmarkError(
                        f"vnetkit: re-up of the unchanged lab planned {len(again.plan)} actions, "
                        f"e.g. {again.plan.lines()[0]}"
                    )
                host_ns = spec.node("host").netns
                _check_built(host_ns, [spec.node(f"c{i}").netns for i in range(size)], "vnetkit")
                gc.collect()
                start = time.perf_counter()
                deleted = L.down(spec.name, host=host, ledgers=self.ledgers)
                times["down"] = time.perf_counter() - start
                if len(deleted) != len(spec.nodes):
                    raise BenchmarkError(
                        f"vnetkit: down deleted {len(deleted)} of {len(spec.nodes)} namespaces"
                    )
            finally:
                L.down(spec.name, host=host, ledgers=self.ledgers, spec=spec)  # safe twice
        _gone(spec.namespaces, "vnetkit")
        return times

    # vnetkit, the CLI as processes

    def vnetkit_cli(self, size: int) -> dict[str, float]:
        assert self.cli is not None  # only called with a CLI
        spec = _spec(self.name(), size)
        path = self.workdir / f"{spec.name}.yaml"
        path.write_text(json.dumps(_lab_data(spec.name, size)))  # JSON is YAML
        env = {**os.environ, "VNETKIT_LAB_DIR": self.ledgers.directory}
        times: dict[str, float] = {}
        try:
            for verb in ("up", "down"):
                argv = (str(self.cli), "lab", verb, str(path), "--json")
                start = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
                times[verb] = time.perf_counter() - start
                if done.returncode != 0:
                    raise BenchmarkError(
                        f"{' '.join(argv)}: exit {done.returncode}: {done.stderr.strip()[-400:]}"
                    )
                out = json.loads(done.stdout)
                if verb == "up" and not out.get("changed"):
                    raise BenchmarkError(f"{' '.join(argv)}: changed nothing: {done.stdout[:200]}")
                if verb == "down" and len(out.get("deleted", ())) != len(spec.nodes):
                    raise BenchmarkError(f"{' '.join(argv)}: deleted {out.get('deleted')}")
        finally:
            with Host() as host:
                L.down(spec.name, host=host, ledgers=self.ledgers, spec=spec)
        _gone(spec.namespaces, "vnetkit CLI")
        return times

    # a shell script of ip commands

    def shell(self, size: int) -> dict[str, float]:
        base = f"{NETNS_PREFIX}{os.getpid()}-sh{self._count}"
        self._count += 1
        hns, ons = f"{base}-host", f"{base}-outside"
        containers = [f"{base}-c{i}" for i in range(size)]
        names = [hns, ons, *containers]
        rules = self.workdir / f"{base}.rules"
        rules.write_text(_restore_text(size))
        up, down = self.workdir / f"{base}-up.sh", self.workdir / f"{base}-down.sh"
        up.write_text(_up_script(hns, ons, containers, rules))
        down.write_text("".join(f"ip netns del {name}\n" for name in names))
        times: dict[str, float] = {}
        try:
            times["up"] = _run_script(up)
            _check_built(hns, containers, "shell")
            times["down"] = _run_script(down)
        finally:
            for name in names:
                if netns.exists(name):
                    netns.delete(name)
        _gone(names, "shell")
        return times

    # Mininet

    def mininet_run(self, size: int, *, ping: bool = False) -> dict[str, Any]:
        assert self.run_sh is not None  # only called with the anchor
        argv = ("sh", str(self.run_sh), str(size), *(("ping",) if ping else ()))
        child = subprocess.Popen(  # its own session: on the way out we stop all it started
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        sandbox = f"vnkanchor-mn-{child.pid}"  # run.sh's sandbox namespace: named after its pid
        try:
            out, err = child.communicate(timeout=_MININET_TIMEOUT)
        except BaseException:
            _stop(child)
            raise
        finally:
            if netns.exists(sandbox):  # run.sh deletes it on exit; if it was killed, we do
                netns.delete(sandbox)
        lines = out.strip().splitlines()
        if child.returncode != 0 or not lines:
            raise BenchmarkError(f"{' '.join(argv)}: exit {child.returncode}: {err.strip()[-400:]}")
        result: dict[str, Any] = json.loads(lines[-1])
        if result.get("hosts") != size:
            raise BenchmarkError(f"{' '.join(argv)}: unexpected output {lines[-1]!r}")
        return result

    def mininet(self, size: int) -> dict[str, float]:
        result = self.mininet_run(size)
        return {"up": float(result["up_s"]), "down": float(result["down_s"])}

    # lab check --all-pairs

    def check_pairs(self, size: int, progress: Progress) -> tuple[float, CheckReport]:
        spec = _spec(self.name(), size)
        containers = {f"c{i}" for i in range(size)}
        with Host() as host:
            try:
                L.up(spec, host=host, ledgers=self.ledgers)
                checks = [c for c in all_pairs(spec) if c.source in containers and c.target in containers]
                wait_for_quiet("labs all-pairs", progress)
                gc.collect()
                start = time.perf_counter()
                report = run_checks(spec, checks, host=host)
                seconds = time.perf_counter() - start
            finally:
                L.down(spec.name, host=host, ledgers=self.ledgers, spec=spec)
        _gone(spec.namespaces, "vnetkit all-pairs")
        return seconds, report


def _stop(child: subprocess.Popen[str]) -> None:
    """Stop the Mininet run we started: its session, politely, then not."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(child.pid, sig)
            child.wait(timeout=grace)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _run_script(path: Path) -> float:
    gc.collect()
    start = time.perf_counter()
    done = subprocess.run(("sh", "-e", str(path)), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchmarkError(
            f"shell: {path.name} failed (exit {done.returncode}): {done.stderr.strip()[-400:]}"
        )
    return seconds


def _restore_text(size: int) -> str:
    """Docker's rules for the network, as the recipe has them, in iptables-restore's format."""
    endpoints = [ipaddress.IPv4Interface(_address(i)).ip for i in range(size)]
    rules = docker_rules(bridge="docker0", subnet=ipaddress.IPv4Network(_SUBNET), endpoints=endpoints)
    rules.setdefault("filter", {}).setdefault(USER_CHAIN, [])
    lines = []
    for table, chains in rules.items():
        lines.append(f"*{table}")
        lines += [f":{chain} - [0:0]" for chain in chains if not is_builtin(table, chain)]
        lines += [f"-A {chain} {rule}" for chain, body in chains.items() for rule in body]
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def _up_script(hns: str, ons: str, containers: Sequence[str], rules: Path) -> str:
    """The docker-bridge network as a user writes it in sh: one ``ip`` process per operation."""
    lines = [
        f"ip netns add {hns}",
        f"ip -n {hns} link set lo up",
        f"ip -n {hns} link add docker0 type bridge",
        f"ip -n {hns} addr add {_GATEWAY} dev docker0",
        f"ip -n {hns} link set docker0 up",
        f"ip netns add {ons}",
        f"ip -n {ons} link set lo up",
        f"ip -n {hns} link add eth0 type veth peer name eth0 netns {ons}",
        f"ip -n {hns} addr add {_UPLINK}.1/24 dev eth0",
        f"ip -n {hns} link set eth0 up",
        f"ip -n {ons} addr add {_UPLINK}.2/24 dev eth0",
        f"ip -n {ons} link set eth0 up",
        f"ip -n {hns} route add default via {_UPLINK}.2",
        f"ip netns exec {hns} sysctl -qw net.ipv4.ip_forward=1",
    ]
    for i, cns in enumerate(containers):
        veth = f"veth{i}"
        lines += [
            f"ip netns add {cns}",
            f"ip -n {cns} link set lo up",
            f"ip -n {hns} link add {veth} type veth peer name eth0 netns {cns}",
            f"ip -n {hns} link set {veth} master docker0",
            f"ip -n {hns} link set {veth} type bridge_slave hairpin on",
            f"ip -n {hns} link set {veth} up",
            f"ip -n {cns} addr add {_address(i)} dev eth0",
            f"ip -n {cns} link set eth0 up",
            f"ip -n {cns} route add default via {_GATEWAY_IP}",
        ]
    lines.append(f"ip netns exec {hns} iptables-restore {rules}")
    return "\n".join(lines) + "\n"


# -- the run --------------------------------------------------------------------------------------------


def _find_mininet(anchors: str | None) -> Path | None:
    given = anchors or os.environ.get(ANCHORS_ENV)
    base = Path(given) if given else Path(__file__).resolve().parent.parent.parent / "shared" / "anchors"
    run_sh = base / "mininet" / "run.sh"
    return run_sh if run_sh.is_file() else None


def _find_cli() -> Path | None:
    cli = Path(sys.executable).with_name("vnetkit")
    found = cli if cli.is_file() else (Path(p) if (p := shutil.which("vnetkit")) else None)
    if found is None:
        return None
    done = subprocess.run((str(found), "lab", "--help"), capture_output=True, check=False)
    return found if done.returncode == 0 else None


@contextmanager
def _workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="vnk-bench-labs-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run(
    *,
    sizes: Sequence[int] = SIZES,
    check_size: int = CHECK_SIZE,
    reps: int = 3,
    ops: Sequence[str] = OPS,
    anchors: str | None = None,
    progress: Progress = lambda _line: None,
) -> Labs:
    """Up, re-up and down at each size and all-pairs at ``check_size``, ``reps`` times; every sample."""
    result = Labs(tuple(sizes) if "lab-up" in ops else (), check_size if "lab-check" in ops else 0, reps)
    mininet, cli = _find_mininet(anchors), _find_cli()
    if mininet is None:
        result.notes.append("Mininet anchor not found (shared/anchors/mininet/run.sh): no Mininet column")
    if cli is None:
        result.notes.append("'vnetkit lab --help' failed: no CLI row")
    gc.collect()
    gc.freeze()  # what earlier suites left alive stays out of the collector's way (see bench_links)
    try:
        with _workdir() as workdir:
            bench = _Bench(workdir, mininet, cli)
            if "lab-up" in ops:
                _updown(bench, result, progress)
            if "lab-check" in ops:
                _check(bench, result, progress)
    except (VnetkitError, OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:
        raise BenchmarkError(f"labs: {type(exc).__name__}: {exc}") from exc
    finally:
        gc.unfreeze()
    result.goals = goals(result)
    return result


def _updown(bench: _Bench, result: Labs, progress: Progress) -> None:
    ways = {"vnetkit": bench.vnetkit, "shell": bench.shell, "mininet": bench.mininet}
    sides = [side for side in SIDES if side != "mininet" or bench.run_sh is not None]
    for side in sides:  # off the clock: imports, page cache, capability probes
        ways[side](2)
    for rep in range(result.reps):
        for k, size in enumerate(result.sizes):
            for side in in_turn(sides, rep, k):
                wait_for_quiet(f"labs {rep + 1}", progress)
                times = ways[side](size)
                for op, seconds in times.items():
                    result.add(op, size, side, seconds)
                shown = ", ".join(f"{op} {s:.3f} s" for op, s in times.items())
                progress(f"[labs {rep + 1}/{result.reps}] {size} containers, {side}: {shown}")
            if bench.cli is not None and size == REFERENCE:
                wait_for_quiet(f"labs {rep + 1}", progress)
                for op, seconds in bench.vnetkit_cli(size).items():
                    result.add(f"cli {op}", size, "vnetkit", seconds)


def safe_pingall_size() -> int:
    """The most hosts whose all-pairs ARP entries fit in half the kernel's neighbour table.

    That table is shared by every namespace, the root one included (its limit,
    gc_thresh3, is the root's: read here, never changed); a ping run that fills
    it stalls the host's own neighbour resolution. Mininet's pingAll resolves
    every pair dynamically, so it runs only at this size; vnetkit pins the
    neighbours of a large run (permanent entries are outside that limit).
    """
    try:
        with open("/proc/sys/net/ipv4/neigh/default/gc_thresh3", encoding="ascii") as handle:
            limit = int(handle.read())
    except (OSError, ValueError):
        limit = 1024
    m = 2
    while (m + 1) * m <= limit // 2:
        m += 1
    return m


def _check(bench: _Bench, result: Labs, progress: Progress) -> None:
    n = result.check_size
    m = result.compare_size = min(n, safe_pingall_size())
    for rep in range(result.reps):
        sides = ["vnetkit", *(["mininet"] if bench.run_sh is not None and rep == 0 else [])]
        for side in in_turn(sides, rep):
            for size in dict.fromkeys([n, m] if side == "vnetkit" else [m]):
                wait_for_quiet(f"labs all-pairs {rep + 1}", progress)
                if side == "vnetkit":
                    seconds, report = bench.check_pairs(size, progress)
                    reasons = Counter(r.reason for r in report.failed)
                    if size == n:
                        result.pairs = len(report.results)
                        result.failures.append(len(report.failed))
                        result.reasons.update(reasons)
                    result.add("all-pairs", size, "vnetkit", seconds)
                    result.notes += [w for w in report.warnings if w not in result.notes]
                    failed = f"{len(report.failed)} of {len(report.results)} failed"
                    shown = f"{seconds:.2f} s, {failed} {dict(reasons)}"
                else:
                    progress(
                        f"[labs all-pairs] Mininet pingAll on {size} hosts (each lost ping waits 1 s) ..."
                    )
                    out = bench.mininet_run(size, ping=True)
                    result.add("all-pairs", size, "mininet", float(out["pingall_s"]))
                    result.loss.append(float(out["pingall_loss_pct"]))
                    shown = f"{out['pingall_s']:.1f} s, loss {out['pingall_loss_pct']:.1f} %"
                progress(f"[labs all-pairs {rep + 1}/{result.reps}] {size} containers, {side}: {shown}")
    if m < n:
        result.notes.append(
            f"Mininet's pingAll ran on {m} hosts, not {n}: {n} hosts need {n * (n - 1)} ARP entries in the "
            "kernel's neighbour table, which every namespace shares with the host (gc_thresh3 of the root "
            "namespace); filling it would stall the host's own traffic. vnetkit is measured at both sizes."
        )
    if any("neighbour" in note for note in result.notes) and result.loss:
        result.notes.append("Mininet's pingAll meets the same neighbour table: each ping it loses waits 1 s")
