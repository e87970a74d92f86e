"""All pairs of a 50-container Docker bridge lab, checked right after ``up``: fast, true, and harmless.

The lab (a docker-bridge recipe: node ``host`` with the bridge, ``outside``,
containers c0..c49) has 52 nodes, so all pairs are 2,652 pings and ~2,550
neighbour entries on one segment: more than the kernel's table, shared by
every namespace and the host's own, is allowed to hold by default
(gc_thresh3 1,024). The run pins them (permanent entries, not counted
against that limit), so it must not fill the table even once
(``table_fulls`` unchanged), every failure must be a true one (``outside``
has no route to the containers: nothing else fails), it must take at most
10 s, and no pinned entry may remain afterwards.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.exec.neighbours import neighbour_table
from vnetkit.topology import LabSpec, Ledgers, down, load_data, resolve, up
from vnetkit.topology.check import all_pairs, run_checks

CONTAINERS = 50


def _mine(lab: str) -> list[str]:
    return [name for name in _netns.list_names() if name.startswith(f"vnk-{lab}-")]


def _entries(netns: str, *args: str) -> list[str]:
    out = subprocess.run(
        ["ip", "-n", netns, "neigh", "show", *args], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line.strip()]


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[LabSpec, Host]]:
    """The lab, up, with the host whose threads made it; always taken down, and must leave nothing."""
    name = f"sc{os.getpid()}"
    spec = resolve(
        load_data(
            {"name": name, "recipe": "docker-bridge", "containers": [f"c{i}" for i in range(CONTAINERS)]}
        )
    )
    ledgers = Ledgers(str(tmp_path / "labs"))
    with Host() as host:
        try:
            up(spec, host=host, ledgers=ledgers)
            yield spec, host
        finally:
            down(name, host=host, ledgers=ledgers)
    assert _mine(name) == [], f"lab {name} left namespaces behind"


def test_all_pairs_of_fifty_containers_right_after_up(lab: tuple[LabSpec, Host]) -> None:
    spec, host = lab
    checks = all_pairs(spec)
    assert len(checks) == 52 * 51
    table = neighbour_table(4)
    assert table is not None
    started = time.monotonic()
    report = run_checks(spec, checks, host=host, timeout=5.0)
    elapsed = time.monotonic() - started
    after = neighbour_table(4)
    assert after is not None
    assert after.fulls == table.fulls, "the kernel's neighbour table overflowed during the run"
    assert elapsed <= 10.0
    true_failures = {
        (r.check.source, r.check.target)
        for r in report.failed
        if r.check.source == "outside" and r.check.target != "host" and r.reason == "no route"
    }
    assert true_failures == {("outside", f"c{i}") for i in range(CONTAINERS)}
    assert [r.to_json() for r in report.failed if (r.check.source, r.check.target) not in true_failures] == []
    assert all(r.rtt_ms is not None and r.rtt_ms < 1000 for r in report.results if r.ok)
    [note] = report.warnings
    assert note.startswith("neighbours pinned for this run: ")
    assert "in 52 namespaces" in note
    for netns in spec.namespaces:
        assert _entries(netns, "nud", "permanent") == [], f"pinned entries left in {netns}"
