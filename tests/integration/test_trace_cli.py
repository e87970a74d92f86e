"""``vnetkit trace simulate`` from the command line: live from a namespace, and offline from saved files.

Each test builds its own namespace (a veth pair, addresses, a route,
forwarding on, iptables rules) from the ``netns`` fixture; nothing touches
the root namespace and no packet is sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vnetkit.iptables import IPTables


def _sh(*argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(argv, check=False, capture_output=True, text=True, input=stdin)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def _vnetkit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnetkit", "trace", "simulate", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _build(netns: str) -> None:
    batch = """\
link add v0 type veth peer name v1
link set v0 up
link set v1 up
address add 10.0.0.1/24 dev v0
address add 10.0.1.1/24 dev v1
route add 10.9.0.0/16 via 10.0.1.254 dev v1
"""
    _sh("ip", "-n", netns, "-batch", "-", stdin=batch)
    _sh("ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
    ipt = IPTables("ipv4", netns=netns)
    ipt.change_policy("filter", "FORWARD", "DROP")
    ipt.append("filter", "FORWARD", "-i", "v0", "-o", "v1", "-p", "tcp", "--dport", "80", "-j", "ACCEPT")
    ipt.append("filter", "INPUT", "-p", "tcp", "--dport", "22", "-j", "REJECT")
    ipt.append("nat", "PREROUTING", "-i", "v0", "-p", "tcp", "--dport", "8080", "-j", "DNAT",
               "--to-destination", "10.9.0.5:80")  # fmt: skip


def _answer(*args: str) -> dict[str, Any]:
    done = _vnetkit(*args, "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _hits(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(h["table"], h["chain"], h["position"]) for h in data["hits"]]


def test_live_namespace(netns: str) -> None:
    _build(netns)
    dnat = _answer("--netns", netns, "--packet", "tcp 10.0.0.2:40000 -> 10.0.0.1:8080 in v0")
    assert dnat["disposition"] == "forwarded"
    assert dnat["out_interface"] == "v1"
    assert dnat["final"] == {"src": "10.0.0.2", "dst": "10.9.0.5", "sport": 40000, "dport": 80}
    assert ("nat", "PREROUTING", 1) in _hits(dnat)
    assert ("filter", "FORWARD", 1) in _hits(dnat)

    blocked = _answer("--netns", netns, "--packet", "tcp 10.0.0.2:40000 -> 10.9.0.5:81 in v0")
    assert blocked["disposition"] == "dropped"
    assert _hits(blocked)[-1] == ("filter", "FORWARD", 0)

    ssh = _answer("--netns", netns, "--packet", "tcp 10.0.0.2:40000 -> 10.0.1.1:22 in v0")
    assert (ssh["disposition"], _hits(ssh)[-1]) == ("rejected", ("filter", "INPUT", 1))

    text = _vnetkit("--netns", netns, "--packet", "tcp 10.0.0.2:40000 -> 10.0.0.1:8080 in v0")
    assert text.returncode == 0
    assert "FORWARDED" in text.stdout
    assert "DNAT" in text.stdout


def test_offline_files_give_the_live_answer(netns: str, tmp_path: Path) -> None:
    _build(netns)
    files = {
        "rules": _sh("ip", "netns", "exec", netns, "iptables-save"),
        "addr": _sh("ip", "-n", netns, "-j", "addr"),
        "routes": _sh("ip", "-n", netns, "-j", "route", "show", "table", "all"),
        "sysctls": "net.ipv4.ip_forward = 1\n",
    }
    args: list[str] = []
    for option, text in files.items():
        (tmp_path / option).write_text(text)
        args += [f"--{option}", str(tmp_path / option)]
    spec = "tcp 10.0.0.2:40000 -> 10.0.0.1:8080 in v0"
    offline = _answer(*args, "--packet", spec)
    live = _answer("--netns", netns, "--packet", spec)
    for key in ("disposition", "out_interface", "final", "hits"):
        assert offline[key] == live[key], key
    assert offline["disposition"] == "forwarded"

    unknown = _vnetkit(*args, "--packet", "tcp 10.0.0.2:40000 -> 10.0.0.1:80 in eth9")
    assert unknown.returncode == 2
    assert "eth9" in unknown.stderr

    (tmp_path / "bad").write_text("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -x nonsense\nCOMMIT\n")
    bad = _vnetkit("--rules", str(tmp_path / "bad"), "--packet", spec)
    assert bad.returncode != 0
    assert str(tmp_path / "bad") in bad.stderr
    assert "line 3" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_malformed_packet_exits_2_with_the_grammar(tmp_path: Path) -> None:
    (tmp_path / "rules").write_text("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")
    done = _vnetkit("--rules", str(tmp_path / "rules"), "--packet", "tcp 10.0.0.2 => 10.0.0.1")
    assert done.returncode == 2
    assert "PROTO SRC[:SPORT] -> DST[:DPORT]" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("state", ["established"])
def test_state_option_skips_nat(netns: str, state: str) -> None:
    _build(netns)
    data = _answer(
        "--netns", netns, "--state", state, "--packet", "tcp 10.0.0.2:40000 -> 10.0.0.1:8080 in v0 ack"
    )
    assert data["disposition"] == "delivered"  # no DNAT for a packet of a known connection
    assert not any(h["table"] == "nat" for h in data["hits"])
