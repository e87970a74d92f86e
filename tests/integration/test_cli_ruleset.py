"""``vnetkit ipt save|restore|apply|diff`` against real iptables in the test's namespace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest

from vnetkit.cli.main import main
from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration

DESIRED = """\
# desired state: chains starting with VNK- are ours
*filter
:INPUT ACCEPT [0:0]
:VNK-WEB - [0:0]
-A INPUT -j VNK-WEB
-A VNK-WEB -p tcp --dport 80 -j ACCEPT
-A VNK-WEB -s 192.0.2.7 -p tcp -m tcp --dport 443 -m comment --comment "office https" -j ACCEPT
COMMIT
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_apply_diff_save_restore(
    netns: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: Literal["nft", "legacy"]
) -> None:
    base = ("ipt", "--netns", netns, "--backend", backend)
    desired = tmp_path / "desired.v4"
    desired.write_text(DESIRED)

    code, out, _ = run(capsys, *base, "--json", "diff", str(desired))
    assert code == 0
    plan = json.loads(out)
    assert plan["applied"] is False
    assert [c["action"] for c in plan["changes"]] == ["create", "add", "add", "add"]
    ipt = IPTables(backend=backend, netns=netns)
    assert not ipt.chain_exists("filter", "VNK-WEB")  # diff changed nothing

    code, out, _ = run(capsys, *base, "apply", str(desired))
    assert code == 0
    assert out.splitlines()[-1] == "4 change(s) applied"
    assert ipt.list("filter", "VNK-WEB")[1:] == [
        "-A VNK-WEB -p tcp -m tcp --dport 80 -j ACCEPT",
        '-A VNK-WEB -s 192.0.2.7/32 -p tcp -m tcp --dport 443 -m comment --comment "office https" -j ACCEPT',
    ]
    assert run(capsys, *base, "apply", str(desired))[1] == "in sync: nothing to change\n"

    code, saved, _ = run(capsys, *base, "save")
    assert code == 0
    assert "-A INPUT -j VNK-WEB" in saved
    rules_file = tmp_path / "rules.v4"
    rules_file.write_text(saved)

    ipt.delete("filter", "INPUT", "-j", "VNK-WEB")
    ipt.clear_and_delete_chain("filter", "VNK-WEB")
    assert run(capsys, *base, "restore", str(rules_file))[0] == 0
    assert ipt.list("filter", "INPUT") == ["-P INPUT ACCEPT", "-A INPUT -j VNK-WEB"]
    code, again, _ = run(capsys, *base, "save")
    body = [line for line in again.splitlines() if not line.startswith("#")]
    assert body == [line for line in saved.splitlines() if not line.startswith("#")]


def test_bad_files_are_bad_input(netns: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.v4"
    broken.write_text("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT --dport 22 -j ACCEPT\nCOMMIT\n")
    code, out, err = run(capsys, "ipt", "--netns", netns, "restore", str(broken))
    assert code == 2
    assert out == ""
    assert err.startswith(f"vnetkit: {broken}:3:")
    assert err.count("\n") == 1

    foreign = tmp_path / "foreign.v4"
    foreign.write_text("*filter\n-A INPUT -j DROP\nCOMMIT\n")  # not a jump to an owned chain
    code, _, err = run(capsys, "ipt", "--netns", netns, "apply", str(foreign))
    assert code == 2
    assert "VNK-" in err

    code, _, err = run(capsys, "ipt", "--netns", netns, "apply", str(tmp_path / "missing.v4"))
    assert code == 2
    assert "cannot read" in err
    assert IPTables(netns=netns).list("filter", "INPUT") == ["-P INPUT ACCEPT"]
