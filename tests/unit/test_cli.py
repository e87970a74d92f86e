"""The ``vnetkit`` CLI over a FakeRunner: parsing, the argv it sends, output shapes, exit statuses.

No root, no processes: every client the CLI builds runs through a
:class:`~vnetkit.exec.FakeRunner` (``main(argv, runner=fake)``) or a factory
passed in an :class:`~vnetkit.cli.Env`.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import click
import pytest
from click.testing import CliRunner

from vnetkit import __version__
from vnetkit.cli import Env, main
from vnetkit.cli.ipt import ipt
from vnetkit.cli.main import cli
from vnetkit.errors import MissingTool, PermissionDenied
from vnetkit.exec import FakeRunner
from vnetkit.iptables import IPTables, Stat
from vnetkit.iptables.client import BackendChoice, Protocol

NFT_VERSION = "iptables v1.8.9 (nf_tables)\n"
LEGACY_VERSION = "iptables v1.8.9 (legacy)\n"
NO_RULE = "iptables: Bad rule (does a matching rule exist in that chain?).\n"
NO_CHAIN = "iptables: No chain/target/match by that name.\n"

LISTING = (
    "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n"
    "    pkts      bytes target     prot opt in     out     source               destination\n"
    "       7      420 DROP       tcp  --  !eth0  *       192.0.2.1            0.0.0.0/0"
    "            tcp dpt:22 /* two words */\n"
    "       0        0            all  --  *      *      !198.51.100.0/24      0.0.0.0/0\n"
)

# A rule whose comment looks like rich markup: it must print as it is.
MARKUP_RULE = '-A INPUT -s 192.0.2.1/32 -m comment --comment "[bold]x[/bold]" -j DROP'

Result = tuple[int, str, str]


@pytest.fixture
def fake() -> FakeRunner:
    """A runner that knows both backends' ``--version`` answers and succeeds at everything else."""
    runner = FakeRunner()
    runner.respond(("--version",), stdout=NFT_VERSION)
    runner.respond(
        lambda argv: argv[0].endswith("-legacy") and argv[1:] == ("--version",), stdout=LEGACY_VERSION
    )
    return runner


@pytest.fixture
def cli_run(fake: FakeRunner, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``main(argv, runner=fake)``; give back (exit status, stdout, stderr)."""

    def run(*argv: str) -> Result:
        code = main(list(argv), runner=fake)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def commands(fake: FakeRunner) -> list[tuple[str, ...]]:
    """The iptables argvs run, without the program, ``--wait`` and ``--version`` probes."""
    return [argv[2:] for argv, _, _ in fake.calls if argv[1:] != ("--version",)]


def assert_one_error_line(err: str) -> None:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vnetkit: ")
    assert "Traceback" not in err


# -- help, version, usage ----------------------------------------------------------


def test_version(cli_run: Callable[..., Result]) -> None:
    code, out, _ = cli_run("--version")
    assert (code, out) == (0, f"vnetkit {__version__}\n")


@pytest.mark.parametrize("name", sorted(ipt.commands))
def test_every_command_has_help(cli_run: Callable[..., Result], fake: FakeRunner, name: str) -> None:
    code, out, err = cli_run("ipt", name, "--help")
    assert code == 0
    assert err == ""
    assert out.startswith(f"Usage: vnetkit ipt {name} ")
    help_text = ipt.commands[name].help
    assert help_text
    assert help_text.split("\n")[0].strip() in " ".join(out.split())
    assert fake.calls == []  # help runs nothing


def test_help_lists_every_command_with_a_summary() -> None:
    result = CliRunner().invoke(cli, ["ipt", "--help"])
    assert result.exit_code == 0
    for name in ipt.commands:
        assert f"  {name} " in result.output
    for option in ("--table", "-6", "--backend", "--netns", "--json", "--timeout"):
        assert option in result.output


def test_no_subcommand_shows_help_and_exits_2(cli_run: Callable[..., Result]) -> None:
    code, out, err = cli_run("ipt")
    assert code == 2
    assert out == ""
    assert "Usage: vnetkit ipt" in err
    assert "append" in err


@pytest.mark.parametrize(
    "argv",
    [
        ("ipt", "-t", "fiter", "list"),
        ("ipt", "list", "-t", "fiter"),
        ("ipt", "--backend", "iptables", "chains"),
        ("ipt", "--timeout", "-1", "chains"),
        ("ipt", "append"),
        ("ipt", "append", "INPUT"),
        ("ipt", "nope"),
        ("ipt", "chains", "--bogus"),
        ("nope",),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    cli_run: Callable[..., Result], fake: FakeRunner, argv: tuple[str, ...]
) -> None:
    code, out, err = cli_run(*argv)
    assert code == 2
    assert out == ""
    assert_one_error_line(err)
    assert "--help" in err  # points at the help of the command that failed
    assert fake.calls == []


def test_bad_table_message_names_the_choices(cli_run: Callable[..., Result]) -> None:
    _, _, err = cli_run("ipt", "-t", "fiter", "list")
    assert "'fiter'" in err
    assert "'filter'" in err
    assert "'security'" in err


# -- the argv each command sends -------------------------------------------------------


def test_append_passes_the_rule_through(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    rule = ("-s", "192.0.2.1", "-m", "comment", "--comment", "a b", "-j", "DROP")
    assert cli_run("ipt", "--netns", "lab", "append", "INPUT", *rule) == (0, "", "")
    argv, netns, _ = fake.calls[-1]
    assert argv[0].startswith("iptables")
    assert argv[1:] == ("--wait", "-t", "filter", "-A", "INPUT", *rule)
    assert netns == "lab"


def test_rule_options_that_look_like_ours_belong_to_the_rule(
    cli_run: Callable[..., Result], fake: FakeRunner
) -> None:
    code, _, _ = cli_run(
        "ipt", "append", "INPUT", "-j", "SET", "--add-set", "s", "src", "--timeout", "5", "--json"
    )
    assert code == 0
    assert commands(fake) == [
        ("-t", "filter", "-A", "INPUT", "-j", "SET", "--add-set", "s", "src", "--timeout", "5", "--json")
    ]


@pytest.mark.parametrize(
    ("argv", "table"),
    [
        (("ipt", "-t", "nat", "list", "PREROUTING"), "nat"),
        (("ipt", "list", "-t", "nat", "PREROUTING"), "nat"),
        (("ipt", "-t", "nat", "list", "-t", "raw", "PREROUTING"), "raw"),
        (("ipt", "append", "--table", "mangle", "PREROUTING", "-j", "ACCEPT"), "mangle"),
    ],
)
def test_table_on_group_or_command_and_the_command_wins(
    cli_run: Callable[..., Result], fake: FakeRunner, argv: tuple[str, ...], table: str
) -> None:
    assert cli_run(*argv)[0] == 0
    assert commands(fake)[0][:2] == ("-t", table)


def test_ipv6_backend_netns_and_timeout_reach_the_client(
    fake: FakeRunner, capsys: pytest.CaptureFixture[str]
) -> None:
    made: list[tuple[Protocol, BackendChoice, str | None, float | None]] = []

    def factory(
        protocol: Protocol, *, backend: BackendChoice, netns: str | None, timeout: float | None
    ) -> IPTables:
        made.append((protocol, backend, netns, timeout))
        return IPTables(protocol, backend=backend, netns=netns, timeout=timeout, runner=fake)

    argv = ["ipt", "-6", "--backend", "legacy", "--netns", "lab", "--timeout", "2.5", "chains"]
    assert main(argv, env=Env(make_iptables=factory)) == 0
    assert made == [("ipv6", "legacy", "lab", 2.5)]
    argv_run, netns, _ = fake.calls[-1]
    assert argv_run[0].startswith("ip6tables")
    assert argv_run[1:3] == ("--wait", "3")  # iptables takes whole seconds: rounded up
    assert netns == "lab"
    capsys.readouterr()


@pytest.mark.parametrize(
    ("argv", "sent"),
    [
        (("insert", "INPUT", "-j", "DROP"), ("-I", "INPUT", "1", "-j", "DROP")),
        (("insert", "INPUT", "3", "-j", "DROP"), ("-I", "INPUT", "3", "-j", "DROP")),
        (("delete", "INPUT", "-j", "DROP"), ("-D", "INPUT", "-j", "DROP")),
        (("delete", "INPUT", "--id", "2"), ("-D", "INPUT", "2")),
        (("delete", "INPUT", "--id=2"), ("-D", "INPUT", "2")),
        (("delete", "--id", "2", "INPUT"), ("-D", "INPUT", "2")),
        (("new-chain", "VNK-A"), ("-N", "VNK-A")),
        (("delete-chain", "VNK-A"), ("-X", "VNK-A")),
        (("rename-chain", "VNK-A", "VNK-B"), ("-E", "VNK-A", "VNK-B")),
        (("policy", "FORWARD", "DROP"), ("-P", "FORWARD", "DROP")),
        (("flush",), ("-F",)),
    ],
)
def test_verbs_map_to_iptables_commands(
    cli_run: Callable[..., Result], fake: FakeRunner, argv: tuple[str, ...], sent: tuple[str, ...]
) -> None:
    code, out, err = cli_run("ipt", *argv)
    assert (code, out, err) == (0, "", "")
    assert commands(fake) == [("-t", "filter", *sent)]


def test_flush_one_chain_never_creates_it(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    assert cli_run("ipt", "flush", "VNK-A")[0] == 0
    assert commands(fake) == [("-t", "filter", "-F", "VNK-A")]

    fake.calls.clear()
    fake.respond(("-F", "VNK-B"), returncode=1, stderr=NO_CHAIN)
    code, _, err = cli_run("ipt", "flush", "VNK-B")
    assert code == 1
    assert_one_error_line(err)
    assert "VNK-B" in err
    assert all("-N" not in argv for argv in commands(fake))


@pytest.mark.parametrize("verb", ["append", "insert"])
def test_unique_skips_a_rule_that_is_there(
    cli_run: Callable[..., Result], fake: FakeRunner, verb: str
) -> None:
    assert cli_run("ipt", verb, "--unique", "INPUT", "-j", "DROP")[0] == 0
    assert [argv[2] for argv in commands(fake)] == ["-C"]

    fake.calls.clear()
    fake.respond(("-C",), returncode=1, stderr=NO_RULE)
    assert cli_run("ipt", verb, "--unique", "INPUT", "-j", "DROP")[0] == 0
    assert [argv[2] for argv in commands(fake)] == ["-C", "-A" if verb == "append" else "-I"]


def test_delete_if_exists(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    fake.respond(("-D",), returncode=1, stderr=NO_RULE)
    code, _, err = cli_run("ipt", "delete", "INPUT", "-j", "DROP")
    assert code == 1
    assert_one_error_line(err)
    assert cli_run("ipt", "delete", "--if-exists", "INPUT", "-j", "DROP") == (0, "", "")


@pytest.mark.parametrize(
    "argv",
    [
        ("delete", "INPUT"),
        ("delete", "INPUT", "--id", "x"),
        ("delete", "--id", "2", "INPUT", "-j", "DROP"),
        ("delete", "--id", "2", "--if-exists", "INPUT"),
        ("insert", "INPUT", "2"),
    ],
)
def test_rule_command_usage_errors(
    cli_run: Callable[..., Result], fake: FakeRunner, argv: tuple[str, ...]
) -> None:
    code, out, err = cli_run("ipt", *argv)
    assert code == 2
    assert out == ""
    assert_one_error_line(err)
    assert commands(fake) == []


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (("insert", "INPUT", "0", "-j", "DROP"), "rule numbers start at 1"),
        (("delete", "INPUT", "--id", "0"), "rule numbers start at 1"),
        (("policy", "INPUT", "RETURN"), "choose from: ACCEPT, DROP"),
        (("policy", "VNK-A", "DROP"), "choose from: INPUT, FORWARD, OUTPUT"),
        (("new-chain", "VNK-" + "x" * 30), "invalid chain name"),
        (("new-chain", "--", "-bad"), "invalid chain name"),
        (("delete-chain", "INPUT"), "built-in"),
    ],
)
def test_api_config_errors_exit_2(
    cli_run: Callable[..., Result], fake: FakeRunner, argv: tuple[str, ...], fragment: str
) -> None:
    code, out, err = cli_run("ipt", *argv)
    assert code == 2
    assert out == ""
    assert_one_error_line(err)
    assert fragment in err
    assert commands(fake) == []


def test_iptables_rejecting_the_rule_exits_2(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    fake.respond(
        ("-A",),
        returncode=2,
        stderr='iptables v1.8.9 (nf_tables): unknown option "--bogus"\nTry `iptables -h\'\n',
    )
    code, _, err = cli_run("ipt", "append", "INPUT", "--bogus")
    assert code == 2
    assert_one_error_line(err)
    assert "--bogus" in err


# -- exists -----------------------------------------------------------------------


def test_exists_yes_and_no(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    assert cli_run("ipt", "exists", "INPUT", "-j", "DROP") == (0, "yes\n", "")
    assert cli_run("ipt", "--json", "exists", "INPUT", "-j", "DROP") == (0, '{\n  "exists": true\n}\n', "")
    fake.respond(("-C",), returncode=1, stderr=NO_RULE)
    assert cli_run("ipt", "exists", "INPUT", "-j", "DROP") == (1, "no\n", "")
    code, out, err = cli_run("ipt", "exists", "--json", "INPUT", "-j", "DROP")
    assert (code, json.loads(out), err) == (1, {"exists": False}, "")


# -- listing ----------------------------------------------------------------------


def _respond_chains(fake: FakeRunner, *, counters: bool = False) -> None:
    prefix = "[0:0] " if counters else ""
    whole = f"{prefix}-P INPUT ACCEPT\n{prefix}{MARKUP_RULE}\n{prefix}-P FORWARD DROP\n-N VNK-A\n"
    fake.respond(lambda argv: argv[-1] == "-S", stdout=whole)
    fake.respond(
        lambda argv: argv[-2:] == ("-S", "INPUT"),
        stdout=f"{prefix}-P INPUT ACCEPT\n{prefix}{MARKUP_RULE}\n",
    )
    fake.respond(lambda argv: argv[-2:] == ("-S", "FORWARD"), stdout=f"{prefix}-P FORWARD DROP\n")
    fake.respond(lambda argv: argv[-2:] == ("-S", "VNK-A"), stdout="-N VNK-A\n")


def test_list_json_shape(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    _respond_chains(fake)
    code, out, err = cli_run("ipt", "list", "--json")
    assert code == 0
    assert err == ""
    assert json.loads(out) == [
        {
            "table": "filter",
            "chain": "INPUT",
            "lines": [
                "-P INPUT ACCEPT",
                '-A INPUT -s 192.0.2.1/32 -m comment --comment "[bold]x[/bold]" -j DROP',
            ],
        },
        {"table": "filter", "chain": "FORWARD", "lines": ["-P FORWARD DROP"]},
        {"table": "filter", "chain": "VNK-A", "lines": ["-N VNK-A"]},
    ]
    code, out, _ = cli_run("ipt", "--json", "list", "FORWARD")
    assert json.loads(out) == [{"table": "filter", "chain": "FORWARD", "lines": ["-P FORWARD DROP"]}]


def test_list_counters_uses_verbose_listing(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    _respond_chains(fake, counters=True)
    code, out, _ = cli_run("ipt", "list", "--counters", "--json", "INPUT")
    assert code == 0
    assert json.loads(out)[0]["lines"][0] == "[0:0] -P INPUT ACCEPT"
    assert commands(fake) == [("-t", "filter", "-v", "-S", "INPUT")]


def test_list_table_for_people_numbers_rules_and_keeps_brackets(
    cli_run: Callable[..., Result], fake: FakeRunner
) -> None:
    _respond_chains(fake)
    code, out, _ = cli_run("ipt", "list", "INPUT")
    assert code == 0
    assert "INPUT (filter)" in out
    assert "-P INPUT ACCEPT" in out
    assert "[bold]x[/bold]" in " ".join(out.split())  # not taken for rich markup
    assert "\x1b[" not in out  # no colour codes when stdout is not a terminal


def test_chains(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    _respond_chains(fake)
    code, out, _ = cli_run("ipt", "chains", "--json")
    assert (code, json.loads(out)) == (0, ["INPUT", "FORWARD", "VNK-A"])
    code, out, _ = cli_run("ipt", "chains")
    assert code == 0
    assert all(name in out for name in ("INPUT", "FORWARD", "VNK-A"))


def test_stats_json_has_every_stat_field(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    fake.respond(("-L", "INPUT"), stdout=LISTING)
    code, out, err = cli_run("ipt", "stats", "--json", "INPUT")
    assert code == 0
    assert err == ""
    rows = json.loads(out)
    assert [set(row) for row in rows] == [set(Stat._fields)] * 2
    assert rows[0] == {
        "packets": 7,
        "bytes": 420,
        "target": "DROP",
        "protocol": "tcp",
        "opt": "--",
        "input": "eth0",
        "output": "*",
        "source": "192.0.2.1/32",
        "destination": "0.0.0.0/0",
        "options": "tcp dpt:22 /* two words */",
        "source_negated": False,
        "destination_negated": False,
        "input_negated": True,
        "output_negated": False,
    }
    assert rows[1]["target"] == ""
    assert rows[1]["source"] == "198.51.100.0/24"
    assert rows[1]["source_negated"]


def test_stats_table_for_people(fake: FakeRunner) -> None:
    fake.respond(("-L", "INPUT"), stdout=LISTING)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        cli, ["ipt", "stats", "INPUT"], obj=Env.with_runner(fake)
    )
    assert result.exit_code == 0, result.output
    assert "!eth0" in result.output
    assert "!198.51.100.0/24" in result.output
    assert "/* two words */" in result.output


# -- refusals -----------------------------------------------------------------------


def test_missing_chain_exits_1_with_one_line(cli_run: Callable[..., Result], fake: FakeRunner) -> None:
    fake.respond(("-S", "NOPE"), returncode=1, stderr=NO_CHAIN)
    code, out, err = cli_run("ipt", "--netns", "lab", "list", "NOPE")
    assert code == 1
    assert out == ""
    assert_one_error_line(err)
    assert "NOPE" in err
    assert "lab" in err


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MissingTool("iptables-legacy: command not found; install it: apt-get install iptables"), 1),
        (PermissionDenied("list: permission denied; CAP_NET_ADMIN is needed (run as root)"), 1),
        (RuntimeError("boom\nsecond line"), 1),
    ],
)
def test_failures_building_the_client(
    capsys: pytest.CaptureFixture[str], error: Exception, status: int
) -> None:
    def factory(
        protocol: Protocol, *, backend: BackendChoice, netns: str | None, timeout: float | None
    ) -> IPTables:
        raise error

    assert main(["ipt", "chains"], env=Env(make_iptables=factory)) == status
    out, err = capsys.readouterr()
    assert out == ""
    assert_one_error_line(err)


def test_unreadable_version_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeRunner().respond(("--version",), stdout="something else\n")
    assert main(["ipt", "chains"], runner=fake) == 1
    assert_one_error_line(capsys.readouterr().err)


def test_wrong_backend_is_unsupported(capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeRunner().respond(("--version",), stdout=NFT_VERSION)
    assert main(["ipt", "--backend", "legacy", "chains"], runner=fake) == 1
    err = capsys.readouterr().err
    assert_one_error_line(err)
    assert "legacy" in err


def test_cli_group_works_under_clirunner_without_main() -> None:
    result = CliRunner().invoke(
        cli,
        ["ipt", "--json", "exists", "INPUT", "-j", "DROP"],
        obj=Env.with_runner(FakeRunner().respond(("--version",), stdout=NFT_VERSION)),
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"exists": True}


def test_ipt_commands_are_ipt_commands() -> None:
    # Every ipt command takes the shared options (the group's command class adds them).
    for command in ipt.commands.values():
        names = {opt for param in command.params if isinstance(param, click.Option) for opt in param.opts}
        assert {"-t", "-6", "--backend", "--netns", "--json", "--timeout"} <= names
