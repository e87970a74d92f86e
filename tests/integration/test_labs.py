"""Labs against the real kernel: up, idempotent re-up, incremental edits, kill mid-up, down, side by side.

Every lab here has a name unique to this run (``t<pid>...``), so its
namespaces ``vnk-<lab>-<node>`` are its own; its ledger lives in a
temporary directory. Each test checks that nothing of its labs remains.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vnetkit.errors import ApplyError
from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.topology import lab as labs
from vnetkit.topology.check import run_checks
from vnetkit.topology.ledger import Ledgers
from vnetkit.topology.load import load_data
from vnetkit.topology.resolve import resolve
from vnetkit.topology.spec import LabSpec

_COUNT = iter(range(10_000))


def _name() -> str:
    return f"t{os.getpid() % 100000}x{next(_COUNT)}"


def _mine(lab: str) -> list[str]:
    return [n for n in _netns.list_names() if n.startswith(f"vnk-{lab}-")]


@pytest.fixture
def host() -> Iterator[Host]:
    with Host() as h:
        yield h


@pytest.fixture
def ledgers(tmp_path: Path) -> Ledgers:
    return Ledgers(str(tmp_path / "labs"))


@pytest.fixture
def made(host: Host, ledgers: Ledgers) -> Iterator[list[str]]:
    """Lab names a test made: each is taken down afterwards and must leave nothing."""
    names: list[str] = []
    yield names
    for name in names:
        labs.down(name, host=host, ledgers=ledgers)
        assert _mine(name) == [], f"lab {name} left namespaces behind"
    assert ledgers.labs() == []


def _docker(name: str, containers: list[str], **extra: Any) -> LabSpec:
    return resolve(load_data({"name": name, "recipe": "docker-bridge", "containers": containers, **extra}))


def _save(netns: str, table: str) -> str:
    out = subprocess.run(
        ["ip", "netns", "exec", netns, "iptables-save", "-t", table],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith("#"))


def test_up_is_idempotent_and_checks_pass(host: Host, ledgers: Ledgers, made: list[str]) -> None:
    name = _name()
    made.append(name)
    spec = _docker(
        name,
        ["c1", "c2", "c3"],
        publish=[{"container": "c1", "port": 80, "host_port": 8080}],
        checks=[
            {"from": "c1", "to": "outside", "expect": "pass"},
            {"from": "c1", "to": "c3", "expect": "pass"},
            {"from": "outside", "to": "host:8080", "proto": "tcp", "expect": "pass"},
            {"from": "outside", "to": "c2", "proto": "tcp", "port": 80, "expect": "fail"},
        ],
    )
    first = labs.up(spec, host=host, ledgers=ledgers)
    assert first.plan
    assert sorted(_mine(name)) == sorted(spec.namespaces)
    again = labs.up(spec, host=host, ledgers=ledgers)
    assert not again.plan, again.plan.lines()
    assert labs.status(spec, host=host, ledgers=ledgers).ok
    report = run_checks(spec, host=host)
    assert report.ok, [r.to_json() for r in report.failed]
    # Docker's layout is in node host, rule for rule.
    nat = _save(spec.node("host").netns, "nat")
    assert "-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80" in nat


def test_docker_user_rules_survive_reapply(host: Host, ledgers: Ledgers, made: list[str]) -> None:
    name = _name()
    made.append(name)
    spec = _docker(name, ["c1"])
    labs.up(spec, host=host, ledgers=ledgers)
    ns = spec.node("host").netns
    subprocess.run(
        ["ip", "netns", "exec", ns, "iptables", "-A", "DOCKER-USER", "-s", "10.9.9.9", "-j", "DROP"],
        check=True,
    )
    edited = _docker(name, ["c1"], publish=[{"container": "c1", "port": 80, "host_port": 8080}])
    labs.up(edited, host=host, ledgers=ledgers)
    assert "-A DOCKER-USER -s 10.9.9.9/32 -j DROP" in _save(ns, "filter")
    assert not labs.plan(edited, host=host, ledgers=ledgers)[0]


def test_edit_applies_only_the_difference_and_a_ping_loses_nothing(
    host: Host, ledgers: Ledgers, made: list[str]
) -> None:
    name = _name()
    made.append(name)
    spec = _docker(name, ["c1", "c2"])
    labs.up(spec, host=host, ledgers=ledgers)
    c1, c2 = spec.node("c1"), spec.node("c2")
    target = str(c2.addresses[0].interface.ip)
    ping = subprocess.Popen(
        ["ip", "netns", "exec", c1.netns, "ping", "-n", "-q", "-i", "0.01", "-c", "200", "-W", "1", target],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.3)
        edited = _docker(
            name, ["c1", "c2", "c3"], publish=[{"container": "c2", "port": 80, "host_port": 8080}]
        )
        plan, _ = labs.plan(edited, host=host, ledgers=ledgers)
        text = plan.lines()
        assert all(not line.startswith(("c1:", "c2:")) for line in text), text
        assert not any(" delete " in f" {line} " or " remove " in f" {line} " for line in text), text
        assert any("namespace" in line and "c3" in line for line in text)
        assert any("DNAT" in line for line in text)
        labs.up(edited, host=host, ledgers=ledgers)
        assert not labs.plan(edited, host=host, ledgers=ledgers)[0]
    finally:
        out, _ = ping.communicate(timeout=30)
    assert " 0% packet loss" in out, out
    # and an address change is one delete and one add
    moved = resolve(
        load_data(
            {
                "name": name,
                "recipe": "docker-bridge",
                "containers": ["c1", "c2", "c3"],
                "publish": [{"container": "c2", "port": 80, "host_port": 8080}],
                "uplink": {"subnet": "203.0.113.0/24"},
            }
        )
    )
    lines = labs.plan(moved, host=host, ledgers=ledgers)[0].lines()
    assert "host: delete address 198.51.100.1/24 on eth0" in lines
    assert "host: add address 203.0.113.1/24 on eth0" in lines
    # a container removed from the file: its namespace goes, and its rules in node host with it
    fewer = _docker(name, ["c1", "c2"], publish=[{"container": "c2", "port": 80, "host_port": 8080}])
    labs.up(fewer, host=host, ledgers=ledgers)
    assert sorted(_mine(name)) == sorted(fewer.namespaces)
    assert "172.17.0.4" not in _save(fewer.node("host").netns, "raw")
    assert not labs.plan(fewer, host=host, ledgers=ledgers)[0]


def test_plan_is_a_dry_run(host: Host, ledgers: Ledgers) -> None:
    name = _name()
    plan, observed = labs.plan(_docker(name, ["c1"]), host=host, ledgers=ledgers)
    assert plan
    assert not any(state.exists for state in observed.nodes.values())
    assert _mine(name) == []
    assert ledgers.labs() == []


def test_two_labs_with_the_same_node_names(host: Host, ledgers: Ledgers, made: list[str]) -> None:
    a, b = _name(), _name()
    made.extend([a, b])
    spec_a, spec_b = _docker(a, ["c1", "c2"]), _docker(b, ["c1", "c2"])
    labs.up(spec_a, host=host, ledgers=ledgers)
    labs.up(spec_b, host=host, ledgers=ledgers)
    assert {info.name for info in labs.labs(ledgers)} == {a, b}
    labs.down(a, host=host, ledgers=ledgers)
    assert _mine(a) == []
    assert sorted(_mine(b)) == sorted(spec_b.namespaces)
    assert not labs.plan(spec_b, host=host, ledgers=ledgers)[0]
    assert labs.down(a, host=host, ledgers=ledgers) == []  # twice: nothing to do


def test_a_kernel_refusal_mid_apply_leaves_nothing(host: Host, ledgers: Ledgers) -> None:
    name = _name()
    data: dict[str, Any] = {
        "name": name,
        "nodes": {
            "a": {"interfaces": {"eth0": {"addresses": ["10.1.0.1/24"]}}},
            "b": {"interfaces": {"eth0": {"addresses": ["10.1.0.2/24"]}}},
        },
        "links": [{"endpoints": ["a:eth0", "b:eth0"]}],
        # a rule the kernel refuses only when applied: a jump to a chain that does not exist
        "checks": [],
    }
    data["nodes"]["b"]["firewall"] = {"filter": {"INPUT": ["-j VNK-NOWHERE"]}}
    spec = resolve(load_data(data))
    with pytest.raises(ApplyError) as caught:
        labs.up(spec, host=host, ledgers=ledgers)
    assert caught.value.completed
    assert caught.value.rolled_back
    assert _mine(name) == []
    assert ledgers.labs() == []


def test_a_failed_edit_leaves_the_lab_as_it_was(host: Host, ledgers: Ledgers, made: list[str]) -> None:
    name = _name()
    made.append(name)
    base: dict[str, Any] = {
        "name": name,
        "nodes": {
            "a": {"interfaces": {"eth0": {"addresses": ["10.3.0.1/24"]}}},
            "b": {"interfaces": {"eth0": {"addresses": ["10.3.0.2/24"]}}},
        },
        "links": [{"endpoints": ["a:eth0", "b:eth0"]}],
    }
    spec = resolve(load_data(base))
    labs.up(spec, host=host, ledgers=ledgers)
    before = ledgers.load(name)
    edited = json.loads(json.dumps(base))
    edited["nodes"]["c"] = {"interfaces": {"eth0": {"addresses": ["10.4.0.2/24"]}}}
    edited["nodes"]["a"]["interfaces"]["eth1"] = {"addresses": ["10.4.0.1/24"]}
    edited["links"].append({"endpoints": ["a:eth1", "c:eth0"]})
    edited["nodes"]["b"]["interfaces"]["eth0"]["addresses"] = ["10.3.0.3/24"]
    edited["nodes"]["b"]["firewall"] = {"filter": {"INPUT": ["-j VNK-NOWHERE"]}}  # the kernel refuses it
    with pytest.raises(ApplyError) as caught:
        labs.up(resolve(load_data(edited)), host=host, ledgers=ledgers)
    assert caught.value.rolled_back
    assert sorted(_mine(name)) == sorted(spec.namespaces)  # c's namespace was made, then undone
    assert not labs.plan(spec, host=host, ledgers=ledgers)[0]  # b's address is back, a has no eth1
    assert ledgers.load(name) == before


def test_up_down_cycles_leave_nothing(host: Host, ledgers: Ledgers) -> None:
    name = _name()
    spec = _docker(
        name, [f"c{i}" for i in range(10)], publish=[{"container": "c0", "port": 80, "host_port": 80}]
    )
    links_before = _root_links()
    for _ in range(int(os.environ.get("VNETKIT_LAB_CYCLES", "100"))):
        labs.up(spec, host=host, ledgers=ledgers)
        assert len(_mine(name)) == 12
        labs.down(name, host=host, ledgers=ledgers)
        assert _mine(name) == []
    assert ledgers.labs() == []
    assert not os.path.exists(ledgers.directory)  # the last lab down removes the empty directory
    assert _root_links() == links_before


def _root_links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return sorted(line.split(":")[1].strip() for line in out.splitlines())


_UP = textwrap.dedent(
    """
    import sys
    from vnetkit.exec.host import Host
    from vnetkit.topology import lab
    from vnetkit.topology.ledger import Ledgers
    from vnetkit.topology.load import load_data
    from vnetkit.topology.resolve import resolve
    spec = resolve(load_data({"name": sys.argv[1], "recipe": "docker-bridge",
                              "containers": [f"c{i}" for i in range(40)]}))
    with Host() as host:
        print("go", flush=True)
        lab.up(spec, host=host, ledgers=Ledgers(sys.argv[2]))
    """
)


def test_killed_mid_up_then_down_removes_everything(host: Host, ledgers: Ledgers) -> None:
    rng = random.Random(os.getpid())  # noqa: S311 - kill times, not secrets
    for attempt in range(6):
        name = _name()
        child = subprocess.Popen(
            [sys.executable, "-c", _UP, name, ledgers.directory], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "go"
        time.sleep(rng.uniform(0.0, 0.25) if attempt else 0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        had = _mine(name)
        deleted = labs.down(name, host=host, ledgers=ledgers)
        assert sorted(deleted) == sorted(had)
        assert _mine(name) == []
        assert ledgers.labs() == []


def test_cli_up_status_json_and_down(tmp_path: Path) -> None:
    name = _name()
    path = tmp_path / "lab.yaml"
    path.write_text(f"name: {name}\nrecipe: docker-bridge\ncontainers: [c1, c2]\n")
    env = {**os.environ, "VNETKIT_LAB_DIR": str(tmp_path / "labs")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "vnetkit", "lab", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    try:
        up = run("up", str(path), "--json")
        assert up.returncode == 0, up.stderr
        assert json.loads(up.stdout)["changed"] is True
        status = run("status", name, "--json")
        assert status.returncode == 0, status.stderr
        data = json.loads(status.stdout)
        nodes = {n["name"]: n for n in data["nodes"]}
        assert nodes["c1"]["netns"] == f"vnk-{name}-c1"
        eth0 = next(i for i in nodes["c1"]["interfaces"] if i["name"] == "eth0")
        assert eth0["addresses"] == ["172.17.0.2/16"]
        assert run("up", str(path), "--json").stdout.count('"changed": false') == 1
        ls = json.loads(run("ls", "--json").stdout)
        assert [entry["name"] for entry in ls] == [name]
        exec_ = run("exec", name, "c2", "--", "ip", "-br", "addr", "show", "eth0")
        assert "172.17.0.3/16" in exec_.stdout
        live = run("graph", name, "--format", "dot", "--live")
        assert live.returncode == 0, live.stderr
        assert f"vnk-{name}-c1" in live.stdout or "c1" in live.stdout
        svg = run("graph", name, "--format", "svg")
        assert svg.returncode == 0, svg.stderr
        assert "<svg" in svg.stdout
    finally:
        down = run("down", name, "--json")
    assert down.returncode == 0, down.stderr
    assert len(json.loads(down.stdout)["deleted"]) == 4
    assert run("down", name).returncode == 0
    assert _mine(name) == []


def test_cli_bad_file_exits_2_with_the_yaml_path(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nrecipe: docker-bridge\ncontainers: [c1, c2, 'c 1']\n")
    result = subprocess.run(
        [sys.executable, "-m", "vnetkit", "lab", "up", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "containers" in result.stderr
    assert "has whitespace" in result.stderr
    assert "Traceback" not in result.stderr
