"""The idempotent verbs are safe against other vnetkit processes on the same namespace.

go-iptables checks then acts, so two processes can both see "missing" and both
append. vnetkit holds a per-namespace lock across the check and the act.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration

PROCESSES = 8
CALLS = 50
DISTINCT = 100

WORKER = textwrap.dedent(
    """
    import sys
    from vnetkit.iptables import IPTables

    backend, protocol, netns, verb, worker = sys.argv[1:6]
    ipt = IPTables(protocol, backend=backend, netns=netns)
    fmt = "192.0.2.{}" if protocol == "ipv4" else "2001:db8::{:x}"
    for k in range(50):
        n = (int(worker) * 25 + k) % 100  # every rule is wanted by 4 of the 8 workers
        spec = ("-s", fmt.format(n), "-j", "ACCEPT")
        if verb == "append_unique":
            ipt.append_unique("filter", "VNK-RACE", *spec)
        elif verb == "insert_unique":
            ipt.insert_unique("filter", "VNK-RACE", 1, *spec)
        else:
            ipt.delete_if_exists("filter", "VNK-RACE", *spec)
    """
)


def run_workers(ipt: IPTables, verb: str) -> None:
    assert ipt.netns is not None
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, ipt.backend, ipt.protocol, ipt.netns, verb, str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    failures = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        if proc.returncode != 0:
            failures.append(err.strip().splitlines()[-1:] or [out])
    assert not failures, failures


def rule_counts(ipt: IPTables) -> Counter[str]:
    return Counter(line for line in ipt.list("filter", "VNK-RACE") if line.startswith("-A "))


@pytest.mark.parametrize("verb", ["append_unique", "insert_unique"])
def test_unique_verbs_from_eight_processes_leave_each_rule_once(ipt: IPTables, verb: str) -> None:
    ipt.new_chain("filter", "VNK-RACE")
    run_workers(ipt, verb)
    counts = rule_counts(ipt)
    assert len(counts) == DISTINCT
    assert set(counts.values()) == {1}


def test_delete_if_exists_from_eight_processes(ipt: IPTables) -> None:
    ipt.new_chain("filter", "VNK-RACE")
    fmt = "192.0.2.{}" if ipt.protocol == "ipv4" else "2001:db8::{:x}"
    for n in range(DISTINCT):
        ipt.append("filter", "VNK-RACE", "-s", fmt.format(n), "-j", "ACCEPT")
    run_workers(ipt, "delete_if_exists")
    assert rule_counts(ipt) == Counter()


SYNC_WORKER = textwrap.dedent(
    """
    import sys
    from vnetkit.iptables import Desired, IPTables, Jump, parse_rule

    backend, protocol, netns, worker = sys.argv[1:5]
    ipt = IPTables(protocol, backend=backend, netns=netns)
    fmt = "192.0.2.{}" if protocol == "ipv4" else "2001:db8::{:x}"
    rules = [parse_rule(["-s", fmt.format(n), "-j", "ACCEPT"]) for n in range(20)]
    jump = Jump("filter", "INPUT", parse_rule("-j VNK-SYNC"))
    desired = Desired("VNK-", {("filter", "VNK-SYNC"): rules}, [jump])
    for k in range(10):
        ipt.sync(desired)
        with ipt.transaction() as tx:  # and its own rules, in a chain sync does not own
            tx.append("filter", "APP-TX", "-s", fmt.format(int(worker) * 10 + k), "-j", "ACCEPT")
            tx.append("filter", "APP-TX", "-m", "comment", "--comment", f"worker {worker} step {k}")
    """
)


def test_syncs_and_transactions_from_eight_processes(ipt: IPTables) -> None:
    assert ipt.netns is not None
    ipt.new_chain("filter", "APP-TX")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SYNC_WORKER, ipt.backend, ipt.protocol, ipt.netns, str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(PROCESSES)
    ]
    failures = [p.communicate(timeout=180)[1].strip().splitlines()[-1:] for p in procs]
    assert all(p.returncode == 0 for p in procs), failures
    # The synced chain is exactly the desired one, its jump is there once.
    assert len(ipt.list("filter", "VNK-SYNC")) == 1 + 20
    assert ipt.list("filter", "INPUT").count("-A INPUT -j VNK-SYNC") == 1
    # Every transaction landed whole: 8 workers x 10 transactions x 2 rules, no loss, no duplicate.
    lines = Counter(line for line in ipt.list("filter", "APP-TX") if line.startswith("-A "))
    assert sum(lines.values()) == PROCESSES * 10 * 2
    assert set(lines.values()) == {1}
