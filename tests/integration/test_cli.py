"""The ``vnetkit ipt`` CLI against real iptables, both backends, IPv4 and IPv6.

Every command names ``--netns`` with the test's own namespace (the ``netns``
fixture makes it and deletes it); nothing here touches the root namespace.
Most tests run the CLI in-process through ``main(argv)``; the last ones spawn
the installed entry points to prove they work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from vnetkit.cli import main
from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration

COMBOS = [("nft", "ipv4"), ("nft", "ipv6"), ("legacy", "ipv4"), ("legacy", "ipv6")]
ADDRESS = {"ipv4": ("192.0.2.1", "192.0.2.1/32"), "ipv6": ("2001:db8::1", "2001:db8::1/128")}


@dataclass(frozen=True)
class Cli:
    """Runs ``vnetkit ipt`` with this test's backend, protocol and namespace."""

    netns: str
    backend: str
    protocol: str
    capsys: pytest.CaptureFixture[str]

    @property
    def common(self) -> list[str]:
        return [
            "--netns",
            self.netns,
            "--backend",
            self.backend,
            *(["-6"] if self.protocol == "ipv6" else []),
        ]

    def __call__(self, command: str, *args: str) -> tuple[int, str, str]:
        code = main(["ipt", *self.common, command, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, command: str, *args: str) -> Any:
        """Run with ``--json``; the status must be 0 and stderr empty."""
        code = main(["ipt", *self.common, "--json", command, *args])
        out, err = self.capsys.readouterr()
        assert (code, err) == (0, ""), err
        return json.loads(out)

    def client(self) -> IPTables:
        """The API's view of the same namespace, to check what the CLI did."""
        return IPTables(
            "ipv6" if self.protocol == "ipv6" else "ipv4",
            backend="nft" if self.backend == "nft" else "legacy",
            netns=self.netns,
        )


@pytest.fixture(params=COMBOS, ids=[f"{b}-{p}" for b, p in COMBOS])
def cli(request: pytest.FixtureRequest, netns: str, capsys: pytest.CaptureFixture[str]) -> Cli:
    backend, protocol = request.param
    return Cli(netns=netns, backend=backend, protocol=protocol, capsys=capsys)


def _snapshot(cli: Cli) -> dict[str, Any]:
    return {table: cli.json("list", "-t", table) for table in ("filter", "nat", "mangle", "raw")}


def assert_one_error_line(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vnetkit: ")
    assert "Traceback" not in err


def test_rule_round_trip_with_a_quoted_comment(cli: Cli) -> None:
    before = _snapshot(cli)
    addr, network = ADDRESS[cli.protocol]
    rule = ("-s", addr, "-m", "comment", "--comment", "two words", "-j", "DROP")
    line = f'-A INPUT -s {network} -m comment --comment "two words" -j DROP'

    assert cli("exists", "INPUT", *rule) == (1, "no\n", "")
    assert cli("append", "INPUT", *rule) == (0, "", "")
    assert cli("exists", "INPUT", *rule) == (0, "yes\n", "")
    assert cli.json("exists", "INPUT", *rule) == {"exists": True}
    assert cli.json("list", "INPUT") == [
        {"table": "filter", "chain": "INPUT", "lines": ["-P INPUT ACCEPT", line]}
    ]

    code, out, err = cli("list", "INPUT")
    assert (code, err) == (0, "")
    assert "two words" in out

    assert cli("append", "--unique", "INPUT", *rule) == (0, "", "")
    assert cli.client().list("filter", "INPUT") == ["-P INPUT ACCEPT", line]

    assert cli("delete", "INPUT", *rule) == (0, "", "")
    assert cli("exists", "INPUT", *rule) == (1, "no\n", "")
    code, _, err = cli("delete", "INPUT", *rule)
    assert code == 1
    assert_one_error_line(err)
    assert cli("delete", "--if-exists", "INPUT", *rule) == (0, "", "")
    assert _snapshot(cli) == before


def test_insert_at_a_position_and_delete_by_id(cli: Cli) -> None:
    addr, network = ADDRESS[cli.protocol]
    assert cli("append", "INPUT", "-j", "ACCEPT")[0] == 0
    assert cli("insert", "INPUT", "-s", addr, "-j", "DROP")[0] == 0  # default: position 1
    assert cli("insert", "INPUT", "2", "-p", "tcp", "-j", "RETURN")[0] == 0
    assert cli.client().list("filter", "INPUT")[1:] == [
        f"-A INPUT -s {network} -j DROP",
        "-A INPUT -p tcp -j RETURN",
        "-A INPUT -j ACCEPT",
    ]
    assert cli("delete", "INPUT", "--id", "2") == (0, "", "")
    code, _, err = cli("delete", "INPUT", "--id", "9")
    assert code == 1
    assert_one_error_line(err)
    assert cli("flush", "INPUT") == (0, "", "")
    assert cli.client().list("filter", "INPUT") == ["-P INPUT ACCEPT"]


def test_counters_and_stats_after_appending(cli: Cli) -> None:
    addr, network = ADDRESS[cli.protocol]
    assert (
        cli("append", "OUTPUT", "-s", addr, "-m", "comment", "--comment", "two words", "-j", "DROP")[0] == 0
    )
    assert cli("append", "OUTPUT", "!", "-o", "lo")[0] == 0

    listing = cli.json("list", "--counters", "OUTPUT")
    assert listing == [
        {
            "table": "filter",
            "chain": "OUTPUT",
            "lines": [
                "[0:0] -P OUTPUT ACCEPT",
                f'[0:0] -A OUTPUT -s {network} -m comment --comment "two words" -j DROP',
                "[0:0] -A OUTPUT ! -o lo",
            ],
        }
    ]

    rows = cli.json("stats", "OUTPUT")
    assert isinstance(rows, list)
    assert len(rows) == 2
    first, second = rows
    assert first["packets"] == 0
    assert first["bytes"] == 0
    assert first["target"] == "DROP"
    assert first["source"] == network
    assert first["destination"] == ("0.0.0.0/0" if cli.protocol == "ipv4" else "::/0")
    assert "/* two words */" in first["options"]
    assert not first["source_negated"]
    assert second["target"] == ""
    assert second["output"] == "lo"
    assert second["output_negated"]

    code, out, err = cli("stats", "OUTPUT")
    assert (code, err) == (0, "")
    assert "OUTPUT (filter)" in out


def test_policy(cli: Cli) -> None:
    assert cli("policy", "FORWARD", "DROP") == (0, "", "")
    assert cli.json("list", "FORWARD")[0]["lines"] == ["-P FORWARD DROP"]
    assert cli("policy", "FORWARD", "ACCEPT") == (0, "", "")
    assert cli.client().list("filter", "FORWARD") == ["-P FORWARD ACCEPT"]
    code, _, err = cli("policy", "FORWARD", "RETURN")
    assert code == 2
    assert_one_error_line(err)


def test_chains_new_rename_flush_delete(cli: Cli) -> None:
    assert cli.json("chains") == ["INPUT", "FORWARD", "OUTPUT"]
    assert cli.json("chains", "-t", "nat") == ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]
    assert cli("new-chain", "VNK-A") == (0, "", "")
    code, _, err = cli("new-chain", "VNK-A")
    assert code == 1
    assert_one_error_line(err)
    assert cli("append", "VNK-A", "-j", "RETURN")[0] == 0
    assert cli("rename-chain", "VNK-A", "VNK-B") == (0, "", "")
    assert cli.json("chains") == ["INPUT", "FORWARD", "OUTPUT", "VNK-B"]

    code, _, err = cli("delete-chain", "VNK-B")  # it still has a rule
    assert code == 1
    assert_one_error_line(err)
    assert cli("flush", "VNK-B") == (0, "", "")
    assert cli("delete-chain", "VNK-B") == (0, "", "")
    assert cli.json("chains") == ["INPUT", "FORWARD", "OUTPUT"]

    assert cli("flush", "VNK-B")[0] == 1  # a missing chain is not created by flush
    assert cli.json("chains") == ["INPUT", "FORWARD", "OUTPUT"]

    assert cli("append", "INPUT", "-j", "ACCEPT")[0] == 0
    assert cli("flush") == (0, "", "")
    assert cli.client().list("filter", "INPUT") == ["-P INPUT ACCEPT"]


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (("list", "NOPE"), 1),
        (("stats", "NOPE"), 1),
        (("append", "NOPE", "-j", "ACCEPT"), 1),
        (("rename-chain", "NOPE", "NOPE2"), 1),
        (("delete-chain", "NOPE"), 1),
        (("list", "-t", "fiter"), 2),
        (("append", "INPUT", "--no-such-option"), 2),
        (("delete-chain", "INPUT"), 2),
    ],
)
def test_errors_are_one_line_with_the_right_status(cli: Cli, argv: tuple[str, ...], status: int) -> None:
    code, out, err = cli(*argv)
    assert code == status
    assert out == ""
    assert_one_error_line(err)


def test_missing_namespace_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ipt", "--netns", "vnktest-does-not-exist", "list"]) == 1
    assert_one_error_line(capsys.readouterr().err)


# -- the installed entry points -------------------------------------------------------------

ENTRY_POINTS: dict[str, Callable[[], list[str]]] = {
    "console-script": lambda: [str(Path(sys.executable).with_name("vnetkit"))],
    "python-m": lambda: [sys.executable, "-m", "vnetkit"],
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_entry_points_run_the_cli(netns: str, entry: str) -> None:
    base = [*ENTRY_POINTS[entry](), "ipt", "--netns", netns, "--backend", "nft"]

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *argv], capture_output=True, text=True, check=False, timeout=60)

    done = run("append", "INPUT", "-s", "192.0.2.7", "-m", "comment", "--comment", "two words", "-j", "DROP")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    done = run("--json", "list", "INPUT")
    assert done.returncode == 0
    assert json.loads(done.stdout)[0]["lines"][1] == (
        '-A INPUT -s 192.0.2.7/32 -m comment --comment "two words" -j DROP'
    )

    done = run("list", "NOPE")
    assert done.returncode == 1
    assert done.stdout == ""
    assert_one_error_line(done.stderr)

    done = run("-t", "fiter", "list")
    assert done.returncode == 2
    assert_one_error_line(done.stderr)

    done = subprocess.run([*ENTRY_POINTS[entry](), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.startswith("vnetkit ")
