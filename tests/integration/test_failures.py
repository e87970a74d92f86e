"""Failures a user meets: no permission, no iptables, no such namespace. Clear errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Literal

import pytest

from vnetkit.errors import ConfigError, MissingTool, NotFound
from vnetkit.exec import default_runner
from vnetkit.exec import netns as nsops
from vnetkit.iptables import IPTables
from vnetkit.testing import unique_name

pytestmark = pytest.mark.integration

UNPRIVILEGED = textwrap.dedent(
    """
    import sys
    from vnetkit.errors import VnetkitError
    from vnetkit.iptables import IPTables
    try:
        IPTables(backend=sys.argv[1]).append("filter", "INPUT", "-j", "ACCEPT")
    except VnetkitError as exc:
        print(type(exc).__name__, exc, sep="|")
    """
)


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_no_permission_says_cap_net_admin(netns: str, backend: Literal["nft", "legacy"]) -> None:
    # Inside the test's namespace, as user nobody: iptables must refuse.
    done = subprocess.run(
        [
            *("ip", "netns", "exec", netns),
            *("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"),
            *(sys.executable, "-c", UNPRIVILEGED, backend),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    kind, message = done.stdout.strip().split("|")
    assert kind == "PermissionDenied"
    assert "CAP_NET_ADMIN" in message
    assert IPTables(backend=backend, netns=netns).list("filter", "INPUT") == ["-P INPUT ACCEPT"]


def test_missing_iptables_binary_names_the_package(
    netns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no iptables anywhere
    with pytest.raises(MissingTool) as err:
        IPTables(backend="nft", netns=netns)
    assert "iptables-nft" in str(err.value)
    assert "apt-get install iptables" in str(err.value)


def test_namespace_that_does_not_exist(netns: str) -> None:
    with pytest.raises(NotFound) as err:
        IPTables(netns=netns + "-missing").list("filter", "INPUT")
    assert "does not exist" in str(err.value)
    with pytest.raises(ConfigError):
        IPTables(netns="../etc")


def workers_in(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"vnetkit-netns-{name}" and t.is_alive()]


def test_namespace_recreated_under_the_same_name_is_followed() -> None:
    name = unique_name()
    nsops.create(name)
    try:
        ipt = IPTables(netns=name)
        ipt.new_chain("filter", "VNK-OLD")
        assert name in default_runner()._files  # programs are started from the caller's thread
        nsops.delete(name)
        assert workers_in(name) == []  # no thread left pinning the deleted namespace
        assert name not in default_runner()._files  # nor an open file
        nsops.create(name)
        assert ipt.list_chains("filter") == ["INPUT", "FORWARD", "OUTPUT"]
    finally:
        nsops.delete(name)
    assert workers_in(name) == []


def run_cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, env=env)


def test_cli_without_iptables_prints_one_line_and_the_fix(netns: str, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    done = run_cli(sys.executable, "-m", "vnetkit", "ipt", "--netns", netns, "list", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("vnetkit: iptables: command not found")
    assert "apt-get install iptables" in done.stderr


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_cli_without_permission_prints_one_line(netns: str, backend: str) -> None:
    done = run_cli(
        *("ip", "netns", "exec", netns),
        *("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"),
        *(sys.executable, "-m", "vnetkit", "ipt", "--backend", backend, "append", "INPUT", "-j", "DROP"),
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "permission denied; CAP_NET_ADMIN is needed (run as root)" in done.stderr
