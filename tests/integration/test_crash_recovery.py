"""A process killed (SIGKILL) at any point of a two-table transaction leaves, after recovery,
the old state or the new one in every table: never a mix, and no journal behind.

``iptables-restore`` commits table by table, and the restore a killed process started
goes on committing what it has read. A child process applies a transaction that creates
VNK-KF in filter and VNK-KN in nat with many rules each (about a second of apply here) and
is killed at a point spread over the whole apply (stratified: each kill in its own slice of
the measured apply time). Then one of: the next vnetkit write call (a transaction on
another table) recovers; ``vnetkit ipt recover`` recovers; or that command is itself killed
part way and run again. ``iptables-save`` must then show exactly the old or the new rules.
The seed is printed on failure; ``VNK_CRASH_SEED=<seed>`` replays it.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Literal

import pytest

from vnetkit.exec import default_runner
from vnetkit.exec.journals import FileJournals, Namespace, Writer
from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration

# Rules per table: sized so that one apply takes about a second on this machine.
RULES = {"nft": 30_000, "legacy": 80_000}
KILLS = 5  # per backend; recovery modes take turns
SINGLE_KILLS = 3
MODES = ("write call", "vnetkit ipt recover", "recover killed, then recover")

CHILD = textwrap.dedent(
    """
    import sys
    from vnetkit.iptables import IPTables, Transaction

    backend, netns, n, tables = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    ipt = IPTables("ipv4", backend=backend, netns=netns)
    tx = Transaction()
    tx.new_chain("filter", "VNK-KF")
    if tables == "two":
        tx.new_chain("nat", "VNK-KN")
    for i in range(n):
        source = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        tx.append("filter", "VNK-KF", "-s", source, "-j", "ACCEPT")
        if tables == "two":
            tx.append("nat", "VNK-KN", "-s", source, "-j", "RETURN")
    tx.insert("filter", "INPUT", 1, "-j", "VNK-KF")
    if tables == "two":
        tx.append("nat", "POSTROUTING", "-j", "VNK-KN")
    print("ready", flush=True)
    ipt.apply(tx)
    print("done", flush=True)
    """
)

State = dict[str, list[str]]


def save_text(ipt: IPTables) -> str:
    done = default_runner().run((f"{ipt.binary}-save",), netns=ipt.netns)
    assert done.returncode == 0, done.stderr
    return done.stdout


def state(ipt: IPTables) -> State:
    """Every table's lines without comments or counters; pristine tables (no rules, no user
    chains, ACCEPT policies) left out, as they filter like absent ones."""
    tables: State = {}
    current: list[str] = []
    for line in save_text(ipt).splitlines():
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], [])
        else:
            current.append(re.sub(r" \[\d+:\d+\]$", "", line))
    return {
        name: lines
        for name, lines in tables.items()
        if not all(line.startswith(":") and line.endswith(" ACCEPT") for line in lines)
    }


def summary(found: State) -> str:
    return ", ".join(f"{name}: {len(lines)} lines" for name, lines in sorted(found.items()))


def wait_group_gone(pgid: int, timeout: float = 60.0) -> None:
    """Wait until no process of the killed child's group (its orphaned restore) is left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.01)
    pytest.fail(f"processes of group {pgid} still running after {timeout} s")


class Crash:
    """One backend's runs: the child, the CLI, the states to compare with."""

    def __init__(self, ipt: IPTables, run_dir: Path) -> None:
        assert ipt.netns is not None
        self.ipt = ipt
        self.netns = ipt.netns
        self.run_dir = run_dir
        self.env = {**os.environ, "VNETKIT_RUN_DIR": str(run_dir)}

    def child(self, tables: str = "two") -> subprocess.Popen[str]:
        n = str(RULES[self.ipt.backend])
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, self.ipt.backend, self.netns, n, tables],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            start_new_session=True,  # its own process group: the test can tell when its orphans end
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n", proc.communicate()[1]
        return proc

    def recover_cli(self) -> subprocess.Popen[str]:
        argv = [sys.executable, "-m", "vnetkit", "ipt", "--netns", self.netns]
        argv += ["--backend", self.ipt.backend, "recover", "--json"]
        return subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            start_new_session=True,
        )

    def journals(self) -> list[str]:
        directory = self.run_dir / "journal"
        return sorted(p.name for p in directory.iterdir()) if directory.exists() else []

    def reset(self, text: str) -> None:
        done = default_runner().run((f"{self.ipt.binary}-restore",), netns=self.netns, input=text)
        assert done.returncode == 0, done.stderr


def kill_after(proc: subprocess.Popen[str], delay: float) -> None:
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


def calibrate(crash: Crash) -> tuple[float, State]:
    """Run the whole apply once: its time from "ready" (the transaction is built) to the end,
    and the new state."""
    proc = crash.child()
    start = time.monotonic()
    _, err = proc.communicate(timeout=120)
    apply_time = time.monotonic() - start
    assert proc.returncode == 0, err
    new = state(crash.ipt)
    n = RULES[crash.ipt.backend]
    assert sum(line.startswith("-A VNK-KF ") for line in new["filter"]) == n
    assert sum(line.startswith("-A VNK-KN ") for line in new["nat"]) == n
    assert crash.journals() == []
    return apply_time, new


def recover(crash: Crash, mode: str, rng: random.Random) -> str:
    """Recover the way ``mode`` says; the tables restored (as the CLI reports them), "?" if unknown."""
    if mode == "write call":
        with crash.ipt.transaction() as tx:  # a change through the lock recovers first
            tx.clear_chain("mangle", "VNK-AFTER")
        crash.ipt.delete_chain("mangle", "VNK-AFTER")
        return "?"
    if mode.startswith("recover killed"):
        recoverer = crash.recover_cli()
        kill_after(recoverer, rng.uniform(0.0, 1.0))
        wait_group_gone(recoverer.pid)
    cli = crash.recover_cli()
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    recovered = json.loads(out)["recovered"]
    assert all(r["action"] == "undone" for r in recovered), recovered
    return ",".join(t for r in recovered for t in r["restored"]) or "-"


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_killed_transaction_recovers_to_old_or_new(
    backend: Literal["nft", "legacy"], netns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VNETKIT_RUN_DIR", str(tmp_path))  # this process's own clients too
    ipt = IPTables("ipv4", backend=backend, netns=netns)
    ipt.append("filter", "INPUT", "-s", "192.0.2.1", "-j", "ACCEPT")
    ipt.append("nat", "POSTROUTING", "-s", "192.0.2.0/24", "-j", "MASQUERADE")
    crash = Crash(ipt, tmp_path)
    old_text, old = save_text(ipt), state(ipt)
    apply_time, new = calibrate(crash)
    crash.reset(old_text)
    assert state(ipt) == old

    seed = int(os.environ.get("VNK_CRASH_SEED", random.randrange(2**32)))  # noqa: S311 - kill times, not secrets
    rng = random.Random(seed)  # noqa: S311 - replayable kill times
    log = [f"{backend}: seed {seed}, apply {apply_time:.2f} s, {RULES[backend]} rules per table"]
    for k in range(KILLS):
        mode = MODES[k % len(MODES)]
        at = apply_time * 1.05 * (k + rng.random()) / KILLS  # kill k lands in slice k of the apply
        proc = crash.child()
        kill_after(proc, at)
        left = crash.journals()
        began = time.monotonic()
        restored = recover(crash, mode, rng)
        took = time.monotonic() - began
        wait_group_gone(proc.pid)  # a late commit by the killed child's restore would show now
        found = state(ipt)
        result = "old" if found == old else "new" if found == new else "MIX"
        log.append(
            f"kill {k} at {at:.2f} s, journal {left or 'none'}, {mode} {took:.2f} s "
            f"(restored {restored}): {result} ({summary(found)})"
        )
        assert result != "MIX", "\n".join(log)
        assert crash.journals() == [], "\n".join(log)
        if result == "new":
            crash.reset(old_text)
            assert state(ipt) == old
    print("\n".join(log))  # shown with -s: where the kills landed and what each left


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_a_killed_single_table_transaction_is_all_or_nothing_without_a_journal(
    backend: Literal["nft", "legacy"], netns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why one table needs no journal: iptables-restore commits a table in one step."""
    monkeypatch.setenv("VNETKIT_RUN_DIR", str(tmp_path))
    ipt = IPTables("ipv4", backend=backend, netns=netns)
    ipt.append("filter", "INPUT", "-s", "192.0.2.1", "-j", "ACCEPT")
    crash = Crash(ipt, tmp_path)
    old_text, old = save_text(ipt), state(ipt)
    proc = crash.child("one")
    start = time.monotonic()
    proc.communicate(timeout=120)
    apply_time = time.monotonic() - start
    new = state(ipt)
    crash.reset(old_text)
    assert state(ipt) == old != new
    seed = int(os.environ.get("VNK_CRASH_SEED", random.randrange(2**32)))  # noqa: S311 - kill times, not secrets
    rng = random.Random(seed)  # noqa: S311 - replayable kill times
    log = [f"{backend}, one table: seed {seed}, apply {apply_time:.2f} s"]
    for k in range(SINGLE_KILLS):
        at = apply_time * 1.05 * (k + rng.random()) / SINGLE_KILLS
        proc = crash.child("one")
        kill_after(proc, at)
        wait_group_gone(proc.pid)
        found = state(ipt)
        result = "old" if found == old else "new" if found == new else "MIX"
        log.append(
            f"kill {k} at {at:.2f} s, journal {crash.journals() or 'none'}: {result} ({summary(found)})"
        )
        assert result != "MIX", "\n".join(log)
        assert crash.journals() == [], "\n".join(log)
        crash.reset(old_text)
        assert state(ipt) == old
    print("\n".join(log))


def test_a_restore_left_by_a_dead_writer_is_found_and_waited_for(tmp_path: Path) -> None:
    """The scan behind recovery's wait: same namespace, same process group, the restore's name,
    and a parent that is not the writer (a live writer's own child is not left over)."""
    store = FileJournals(str(tmp_path))
    ns = store.locate(None)
    # Stands in for an orphaned restore; reading /proc changes nothing.
    proc = subprocess.Popen(["bash", "-c", "exec -a iptables-nft-restore sleep 30"], start_new_session=True)
    try:
        dead = Writer(pid=2**22 + 1, pgid=proc.pid)  # above pid_max on most systems: never alive
        deadline = time.monotonic() + 5
        while store.wait_for_leftovers(ns, "iptables-nft-restore", [dead], 0) != [proc.pid]:
            assert time.monotonic() < deadline, "the stand-in restore was never found"
            time.sleep(0.01)
        assert store.wait_for_leftovers(ns, "iptables-legacy-restore", [dead], 0) == []
        assert store.wait_for_leftovers(ns, "iptables-nft-restore", [Writer(os.getpid(), proc.pid)], 0) == []
        other = Namespace(None, ns.dev, ns.ino + 1)
        assert store.wait_for_leftovers(other, "iptables-nft-restore", [dead], 0) == []
        started = time.monotonic()
        assert store.wait_for_leftovers(ns, "iptables-nft-restore", [dead], 0.2) == [proc.pid]
        assert time.monotonic() - started >= 0.2
    finally:
        proc.kill()
        proc.wait()
    assert store.wait_for_leftovers(ns, "iptables-nft-restore", [dead], 5) == []
