"""Session-wide safety net: the run fails if it leaked a namespace or changed the root namespace.

At session start we record the root namespace's rules (iptables-save and
ip6tables-save of both backends, counters and comment lines dropped); at the
end they must be identical and no ``vnktest-<pid>-`` namespace of this run may remain. Reading
the root namespace is fine; nothing here changes it.

Tests marked ``@pytest.mark.kernel_vm("vlan", ...)`` need kernel features this
machine's kernel may lack. Each named feature is probed once per session, in a
throwaway namespace (never the root one); a test whose feature is missing is
skipped with a reason naming it. The VM tier (``make test-vm``) runs them on a
stock Debian kernel with ``VNETKIT_VM_TIER=1``, where a missing feature, or any
other skip of a kernel_vm test, is a failure instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Generator, Sequence

import pytest

from vnetkit.errors import VnetkitError
from vnetkit.exec import default_runner
from vnetkit.exec import netns as _netns
from vnetkit.testing import TEST_PREFIX, scratch_netns

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
    # Only this run's: names carry the pid of the process that made them (labs: vnk-<lab>-<node>,
    # with lab names t<pid>x<n> and k<pid>x<n>).
    pid = os.getpid()
    mine = (f"{TEST_PREFIX}{pid}-", f"vnk-t{pid % 100000}x", f"vnk-k{pid % 100000}x")
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


# --- kernel features of kernel_vm tests ------------------------------------
#
# Feature name -> the commands that succeed only on a kernel that has it. They
# run in a fresh namespace that already holds a veth pair ``vkp0``/``vkp1``
# (the lower device a vlan or ipvlan needs). To test a new feature, add it here
# and mark the test ``@pytest.mark.kernel_vm("name")``.
KERNEL_FEATURES: dict[str, tuple[tuple[str, ...], ...]] = {
    "vlan": (
        ("ip", "link", "add", "link", "vkp0", "name", "vkp0.10", "type", "vlan", "id", "10"),
        (
            "ip",
            "link",
            "add",
            "link",
            "vkp0",
            "name",
            "vkp0.20",
            "type",
            "vlan",
            "protocol",
            "802.1ad",
            "id",
            "20",
        ),
    ),
    "ipvlan": (("ip", "link", "add", "link", "vkp0", "name", "vkipv0", "type", "ipvlan", "mode", "l2"),),
    "vlan_filtering": (
        ("ip", "link", "add", "vkbr0", "type", "bridge", "vlan_filtering", "1"),
        ("bridge", "vlan", "add", "dev", "vkbr0", "vid", "10", "self"),
    ),
    "dummy": (("ip", "link", "add", "vkd0", "type", "dummy"),),
    "bond": (("ip", "link", "add", "vkbond0", "type", "bond"),),
    # netfilter extensions (canonical() forms measured in the VM tier)
    "xt_LED": (
        ("iptables-legacy", "-w", "-N", "VKP"),
        ("iptables-legacy", "-w", "-A", "VKP", "-j", "LED", "--led-trigger-id", "vkprobe"),
    ),
    "xt_ipvs": (
        ("iptables-legacy", "-w", "-N", "VKP"),
        ("iptables-legacy", "-w", "-A", "VKP", "-m", "ipvs", "--ipvs", "-j", "ACCEPT"),
    ),
    "CLUSTERIP": (
        ("ip", "link", "set", "vkp0", "up"),
        (
            "iptables-legacy",
            "-w",
            "-A",
            "INPUT",
            "-d",
            "192.0.2.7",
            "-i",
            "vkp0",
            "-j",
            "CLUSTERIP",
            "--new",
            "--hashmode",
            "sourceip",
            "--clustermac",
            "01:00:5e:00:00:01",
            "--total-nodes",
            "2",
            "--local-node",
            "1",
        ),
    ),
}

VM_TIER = os.environ.get("VNETKIT_VM_TIER") == "1"
_FEATURES = pytest.StashKey[dict[str, str | None]]()  # feature -> None if present, else why not


def _probe(feature: str) -> str | None:
    """None if the running kernel has ``feature``, else what failed (probed in a scratch namespace)."""
    runner = default_runner()
    try:
        with scratch_netns() as ns:
            veth = ("ip", "link", "add", "vkp0", "type", "veth", "peer", "name", "vkp1")
            for argv in (veth, *KERNEL_FEATURES[feature]):
                done = runner.run(argv, netns=ns)
                if done.returncode != 0:
                    return f"`{' '.join(argv)}` failed: {done.stderr.strip() or done.returncode}"
    except VnetkitError as exc:
        return f"cannot probe in a scratch namespace: {exc}"
    return None


def _features_of(item: pytest.Item) -> list[str]:
    return [str(arg) for mark in item.iter_markers("kernel_vm") for arg in mark.args]


def pytest_collection_modifyitems(config: pytest.Config, items: Sequence[pytest.Item]) -> None:
    bad = []
    for item in items:
        if item.get_closest_marker("kernel_vm") is None:
            continue
        features = _features_of(item)
        unknown = [f for f in features if f not in KERNEL_FEATURES]
        if not features or unknown:
            bad.append(f"{item.nodeid}: {unknown or 'no feature named'}")
    if bad:
        raise pytest.UsageError(
            "kernel_vm marks must name known features, e.g. @pytest.mark.kernel_vm('vlan'); "
            f"known: {', '.join(sorted(KERNEL_FEATURES))} (tests/conftest.py KERNEL_FEATURES); "
            f"wrong: {'; '.join(bad)}"
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    features = _features_of(item)
    if not features:
        return
    known = item.config.stash.setdefault(_FEATURES, {})
    missing: dict[str, str] = {}
    for feature in dict.fromkeys(features):
        if feature not in known:
            known[feature] = _probe(feature)
        why = known[feature]
        if why is not None:
            missing[feature] = why
    if not missing:
        return
    if VM_TIER:
        details = "; ".join(f"{f}: {why}" for f, why in missing.items())
        pytest.fail(f"the VM tier's kernel lacks {', '.join(missing)} ({details})", pytrace=False)
    unprobed = [why for why in missing.values() if why.startswith("cannot probe")]
    if unprobed:
        pytest.skip(f"kernel features {', '.join(missing)} unknown: {unprobed[0]}")
    pytest.skip(f"kernel lacks {', '.join(missing)}; runs in the VM tier (make test-vm)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In the VM tier a kernel_vm test must run: any skip of one is a failure."""
    report: pytest.TestReport = yield
    if (
        VM_TIER
        and report.skipped
        and item.get_closest_marker("kernel_vm")
        and not hasattr(report, "wasxfail")
    ):
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"kernel_vm test skipped in the VM tier (VNETKIT_VM_TIER=1), where it must run: {why}"
        )
    return report
