"""Session-wide safety net: the run fails if it leaked a namespace or changed the root namespace.

At session start we record the root namespace's rules (iptables-save and
ip6tables-save of both backends, counters and comment lines dropped); at the
end they must be identical and no ``vnktest-<pid>-`` namespace of this run may remain. Reading
the root namespace is fine; nothing here changes it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from vnetkit.exec import netns as _netns
from vnetkit.testing import TEST_PREFIX

_SAVERS = ("iptables-nft-save", "ip6tables-nft-save", "iptables-legacy-save", "ip6tables-legacy-save")
_COUNTERS = re.compile(r"\[\d+:\d+\]")


def _root_rules() -> dict[str, str]:
    state = {}
    for saver in _SAVERS:
        if shutil.which(saver) is None:
            continue
        out = subprocess.run([saver], capture_output=True, text=True, check=False).stdout
        lines = [_COUNTERS.sub("[0:0]", line) for line in out.splitlines() if not line.startswith("#")]
        state[saver] = "\n".join(lines)
    return state


def _own_namespaces() -> list[str]:
    # Only this run's: names carry the pid of the process that made them.
    mine = f"{TEST_PREFIX}{os.getpid()}-"
    return [name for name in _netns.list_names() if name.startswith(mine)]


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _root_rules()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    problems = []
    leftover = _own_namespaces()
    if leftover:
        problems.append(f"test namespaces left behind: {', '.join(leftover)}")
    before = session.config.stash[_BEFORE]
    after = _root_rules()
    for saver in sorted(before.keys() | after.keys()):
        if before.get(saver) != after.get(saver):
            problems.append(f"the ROOT namespace's rules changed during the run ({saver})")
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for problem in problems:
            if reporter is not None:
                reporter.write_line(f"SAFETY: {problem}", red=True, bold=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[dict[str, str]]()
