"""``IPTables`` against ``FakeRunner``: detection, the exact argv of every verb, errors.

No processes run: every call is recorded by the fake and answered from the
responses each test scripts with real iptables 1.8.9 output and stderr.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from typing import Literal

import pytest

from vnetkit.errors import (
    AlreadyExists,
    CommandError,
    ConfigError,
    InUse,
    MissingTool,
    NotFound,
    ParseError,
    PermissionDenied,
    RuleError,
    UnsupportedError,
)
from vnetkit.exec import Completed, FakeRunner
from vnetkit.exec.runner import Input
from vnetkit.iptables import BUILTIN_CHAINS, TABLES, IPTables, Stat
from vnetkit.iptables.savefile import parse_save, render_save
from vnetkit.iptables.transaction import Transaction

NFT_189 = "iptables v1.8.9 (nf_tables)\n"
LEGACY_189 = "iptables v1.8.9 (legacy)\n"

NO_CHAIN = "iptables: No chain/target/match by that name.\n"
NFT_MISSING_CHAIN = (
    "iptables v1.8.9 (nf_tables): chain `C1' in table `filter' is incompatible, use 'nft' tool.\n"
)
BAD_RULE = "iptables: Bad rule (does a matching rule exist in that chain?).\n"
CHAIN_EXISTS = "iptables: Chain already exists.\n"
NOT_ROOT = (
    "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: "
    "Permission denied (you must be root)\n"
)
NFT_BUSY = "iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain C1\n"
LEGACY_NO_TABLE = (
    "iptables v1.8.9 (legacy): can't initialize iptables table `security': "
    "Table does not exist (do you need to insmod?)\n"
    "Perhaps iptables or your kernel needs to be upgraded.\n"
)

BIN = "iptables-nft"
W = (BIN, "--wait")

Proto = Literal["ipv4", "ipv6"]
BackendChoice = Literal["auto", "nft", "legacy"]


def make(
    *,
    protocol: Proto = "ipv4",
    backend: BackendChoice = "nft",
    version: str = NFT_189,
    netns: str | None = None,
    timeout: float | None = None,
) -> tuple[IPTables, FakeRunner]:
    fake = FakeRunner()
    fake.respond(("--version",), stdout=version)
    ipt = IPTables(protocol, backend=backend, netns=netns, timeout=timeout, runner=fake)
    return ipt, fake


def argvs(fake: FakeRunner) -> list[tuple[str, ...]]:
    """The argv of every call after the ``--version`` probe."""
    return [argv for argv, _, _ in fake.calls[1:]]


# -- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "backend", "version", "binary"),
    [
        ("ipv4", "nft", NFT_189, "iptables-nft"),
        ("ipv4", "legacy", LEGACY_189, "iptables-legacy"),
        ("ipv6", "nft", "ip6tables v1.8.9 (nf_tables)\n", "ip6tables-nft"),
        ("ipv6", "legacy", "ip6tables v1.8.9 (legacy)\n", "ip6tables-legacy"),
    ],
)
def test_explicit_backend(protocol: Proto, backend: BackendChoice, version: str, binary: str) -> None:
    ipt, fake = make(protocol=protocol, backend=backend, version=version)
    assert fake.calls == [((binary, "--version"), None, None)]
    assert ipt.binary == binary
    assert ipt.protocol == protocol
    assert ipt.backend == backend
    assert ipt.version == (1, 8, 9)
    assert ipt.has_wait
    assert ipt.has_random_fully
    assert ipt.netns is None


@pytest.mark.parametrize(
    ("version", "backend"),
    [(NFT_189, "nft"), (LEGACY_189, "legacy"), ("iptables v1.6.1\n", "legacy")],
)
def test_auto_backend_calls_the_plain_name(version: str, backend: str) -> None:
    # "auto" uses the system's alternatives link, as go-iptables does.
    ipt, fake = make(backend="auto", version=version)
    assert fake.calls[0] == (("iptables", "--version"), None, None)
    assert ipt.backend == backend
    assert ipt.binary == "iptables"
    ipt.append("filter", "INPUT", "-j", "ACCEPT")
    assert argvs(fake)[0][0] == "iptables"


def test_auto_backend_ipv6() -> None:
    ipt, fake = make(protocol="ipv6", backend="auto", version="ip6tables v1.8.9 (legacy)\n")
    assert fake.calls[0][0] == ("ip6tables", "--version")
    assert (ipt.binary, ipt.backend) == ("ip6tables", "legacy")


def test_version_read_from_stderr_when_stdout_is_empty() -> None:
    fake = FakeRunner().respond(("--version",), stderr="iptables v1.4.21\n")
    ipt = IPTables(backend="legacy", runner=fake)
    assert ipt.version == (1, 4, 21)
    assert ipt.backend == "legacy"
    assert not ipt.has_random_fully


def test_backend_mismatch_is_unsupported() -> None:
    fake = FakeRunner().respond(("--version",), stdout=NFT_189)
    with pytest.raises(UnsupportedError, match="iptables-legacy reports the nft backend"):
        IPTables(backend="legacy", runner=fake)


def test_unreadable_version_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        IPTables(backend="nft", runner=FakeRunner())


def test_failing_version_call_is_classified() -> None:
    fake = FakeRunner().respond(("--version",), returncode=4, stderr=NOT_ROOT)
    with pytest.raises(PermissionDenied) as info:
        IPTables(backend="nft", runner=fake)
    assert str(info.value).startswith("read the version of iptables-nft: ")
    assert info.value.argv == ("iptables-nft", "--version")
    assert info.value.exit_status == 4


class NoBinaryRunner(FakeRunner):
    """A runner on a system without iptables: every spawn fails like SystemRunner's would."""

    def run(self, argv: Sequence[str], *, netns: str | None = None, input: Input = None) -> Completed:
        args = tuple(argv)
        self.calls.append((args, netns, input if input is None or isinstance(input, str) else "".join(input)))
        raise MissingTool(f"{args[0]}: command not found; install it: apt-get install iptables", argv=args)


class VanishingBinaryRunner(FakeRunner):
    """Answers ``--version``, then the binary is gone (uninstalled between calls)."""

    def run(self, argv: Sequence[str], *, netns: str | None = None, input: Input = None) -> Completed:
        if "--version" in argv:
            return super().run(argv, netns=netns, input=input)
        self.calls.append(
            (tuple(argv), netns, input if input is None or isinstance(input, str) else "".join(input))
        )
        raise MissingTool(f"{argv[0]}: command not found", argv=argv)


def test_missing_binary_propagates_missing_tool() -> None:
    runner = NoBinaryRunner()
    with pytest.raises(MissingTool, match="apt-get install iptables") as info:
        IPTables(backend="nft", runner=runner)
    assert info.value.argv == ("iptables-nft", "--version")
    assert isinstance(info.value, UnsupportedError)
    assert len(runner.calls) == 1


def test_missing_binary_during_a_verb_propagates_missing_tool() -> None:
    runner = VanishingBinaryRunner()
    runner.respond(("--version",), stdout=NFT_189)
    ipt = IPTables(backend="nft", runner=runner)
    with pytest.raises(MissingTool):
        ipt.append("filter", "INPUT", "-j", "ACCEPT")
    with pytest.raises(MissingTool):
        ipt.chain_exists("filter", "C1")
    with pytest.raises(MissingTool):
        ipt.delete_if_exists("filter", "C1", "-j", "DROP")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "ipv5"}, "unknown protocol"),
        ({"backend": "iptables"}, "unknown backend"),
        ({"timeout": -1}, "invalid timeout"),
        ({"timeout": True}, "invalid timeout"),
        ({"netns": "a/b"}, "invalid network namespace name"),
        ({"netns": ".."}, "invalid network namespace name"),
        ({"netns": ""}, "invalid network namespace name"),
    ],
)
def test_bad_constructor_arguments_run_nothing(kwargs: dict[str, object], message: str) -> None:
    fake = FakeRunner().respond(("--version",), stdout=NFT_189)
    options = {key: value for key, value in kwargs.items() if key != "protocol"}
    with pytest.raises(ConfigError, match=message):
        IPTables(kwargs.get("protocol", "ipv4"), runner=fake, **options)  # type: ignore[arg-type]
    assert fake.calls == []


# -- the wait flag -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "timeout", "wait"),
    [
        ("iptables v1.8.9 (legacy)", None, ("--wait",)),
        ("iptables v1.8.9 (legacy)", 5, ("--wait", "5")),
        ("iptables v1.8.9 (legacy)", 5.0, ("--wait", "5")),
        ("iptables v1.8.9 (legacy)", 0, ("--wait", "0")),
        ("iptables v1.4.22", 5, ("--wait", "5")),
        ("iptables v1.4.21", 5, ("--wait",)),
        ("iptables v1.4.20", None, ("--wait",)),
        ("iptables v1.4.19", 5, ()),
        ("iptables v1.4.19", None, ()),
    ],
)
def test_wait_flag_follows_the_binary(version: str, timeout: float | None, wait: tuple[str, ...]) -> None:
    ipt, fake = make(backend="legacy", version=version, timeout=timeout)
    assert ipt.has_wait == (wait != ())
    ipt.new_chain("filter", "C1")
    assert argvs(fake) == [("iptables-legacy", *wait, "-t", "filter", "-N", "C1")]


@pytest.mark.parametrize("timeout", [1_000_000, 10_000_000.0, 0.5, 2.5])
def test_wait_seconds_is_an_integer_iptables_can_read(timeout: float) -> None:
    # iptables reads the value with sscanf("%i"): "1e+06" would mean 1 second and
    # "0.5" would mean 0 (do not wait at all). The value must be whole seconds,
    # and not shorter than what the caller asked for.
    ipt, fake = make(timeout=timeout)
    ipt.new_chain("filter", "C1")
    [argv] = argvs(fake)
    assert argv[1] == "--wait"
    assert argv[2].isdigit(), argv
    assert int(argv[2]) >= timeout


# -- the argv of every verb ----------------------------------------------------------------------

Verb = Callable[[IPTables], object]

VERBS: list[tuple[str, Verb, list[tuple[str, ...]]]] = [
    (
        "append",
        lambda i: i.append("filter", "INPUT", "-s", "192.0.2.1", "-j", "DROP"),
        [(*W, "-t", "filter", "-A", "INPUT", "-s", "192.0.2.1", "-j", "DROP")],
    ),
    (
        "append-comment",
        lambda i: i.append("filter", "C1", "-m", "comment", "--comment", "two  words", "-j", "ACCEPT"),
        [(*W, "-t", "filter", "-A", "C1", "-m", "comment", "--comment", "two  words", "-j", "ACCEPT")],
    ),
    (
        "insert",
        lambda i: i.insert("nat", "POSTROUTING", 2, "-o", "eth0", "-j", "MASQUERADE"),
        [(*W, "-t", "nat", "-I", "POSTROUTING", "2", "-o", "eth0", "-j", "MASQUERADE")],
    ),
    (
        "replace",
        lambda i: i.replace("mangle", "C1", 3, "-j", "RETURN"),
        [(*W, "-t", "mangle", "-R", "C1", "3", "-j", "RETURN")],
    ),
    (
        "exists",
        lambda i: i.exists("raw", "PREROUTING", "-j", "NOTRACK"),
        [(*W, "-t", "raw", "-C", "PREROUTING", "-j", "NOTRACK")],
    ),
    (
        "delete",
        lambda i: i.delete("filter", "INPUT", "-j", "DROP"),
        [(*W, "-t", "filter", "-D", "INPUT", "-j", "DROP")],
    ),
    (
        "delete_if_exists",
        lambda i: i.delete_if_exists("filter", "INPUT", "-j", "DROP"),
        [(*W, "-t", "filter", "-D", "INPUT", "-j", "DROP")],
    ),
    ("delete_by_id", lambda i: i.delete_by_id("filter", "C1", 4), [(*W, "-t", "filter", "-D", "C1", "4")]),
    ("list", lambda i: i.list("filter", "C1"), [(*W, "-t", "filter", "-S", "C1")]),
    ("list_table", lambda i: i.list_table("nat"), [(*W, "-t", "nat", "-S")]),
    ("list_table-counters", lambda i: i.list_table("nat", counters=True), [(*W, "-t", "nat", "-v", "-S")]),
    ("flush_chain", lambda i: i.flush_chain("filter", "C1"), [(*W, "-t", "filter", "-F", "C1")]),
    (
        "list_with_counters",
        lambda i: i.list_with_counters("filter", "C1"),
        [(*W, "-t", "filter", "-v", "-S", "C1")],
    ),
    ("list_chains", lambda i: i.list_chains("nat"), [(*W, "-t", "nat", "-S")]),
    ("chain_exists", lambda i: i.chain_exists("filter", "C1"), [(*W, "-t", "filter", "-S", "C1", "1")]),
    ("stats", lambda i: i.stats("filter", "C1"), [(*W, "-t", "filter", "-L", "C1", "-v", "-n", "-x")]),
    (
        "structured_stats",
        lambda i: i.structured_stats("filter", "C1"),
        [(*W, "-t", "filter", "-L", "C1", "-v", "-n", "-x")],
    ),
    ("new_chain", lambda i: i.new_chain("filter", "C1"), [(*W, "-t", "filter", "-N", "C1")]),
    ("clear_chain-new", lambda i: i.clear_chain("filter", "C1"), [(*W, "-t", "filter", "-N", "C1")]),
    (
        "rename_chain",
        lambda i: i.rename_chain("filter", "C1", "C2"),
        [(*W, "-t", "filter", "-E", "C1", "C2")],
    ),
    ("delete_chain", lambda i: i.delete_chain("filter", "C1"), [(*W, "-t", "filter", "-X", "C1")]),
    (
        "clear_and_delete_chain",
        lambda i: i.clear_and_delete_chain("filter", "C1"),
        [(*W, "-t", "filter", "-F", "C1"), (*W, "-t", "filter", "-X", "C1")],
    ),
    ("clear_all", lambda i: i.clear_all("nat"), [(*W, "-t", "nat", "-F")]),
    ("clear_all-default", lambda i: i.clear_all(), [(*W, "-t", "filter", "-F")]),
    ("delete_all", lambda i: i.delete_all("mangle"), [(*W, "-t", "mangle", "-X")]),
    ("delete_all-default", lambda i: i.delete_all(), [(*W, "-t", "filter", "-X")]),
    (
        "clear_all_tables",
        lambda i: i.clear_all_tables(),
        [(*W, "-t", t, "-S", BUILTIN_CHAINS[t][0], "1") for t in TABLES]
        + [(*W, "-t", t, "-F") for t in TABLES],
    ),
    (
        "delete_all_tables",
        lambda i: i.delete_all_tables(),
        [(*W, "-t", t, "-S", BUILTIN_CHAINS[t][0], "1") for t in TABLES]
        + [(*W, "-t", t, "-X") for t in TABLES],
    ),
    (
        "change_policy",
        lambda i: i.change_policy("filter", "FORWARD", "DROP"),
        [(*W, "-t", "filter", "-P", "FORWARD", "DROP")],
    ),
]


@pytest.mark.parametrize(("verb", "expected"), [(v, e) for _, v, e in VERBS], ids=[n for n, _, _ in VERBS])
def test_exact_argv_of_every_verb(verb: Verb, expected: list[tuple[str, ...]]) -> None:
    ipt, fake = make()
    verb(ipt)
    assert argvs(fake) == expected


@pytest.mark.parametrize(("verb", "expected"), [(v, e) for _, v, e in VERBS], ids=[n for n, _, _ in VERBS])
def test_every_verb_runs_in_the_clients_namespace(verb: Verb, expected: list[tuple[str, ...]]) -> None:
    ipt, fake = make(netns="lab", timeout=3)
    assert ipt.netns == "lab"
    verb(ipt)
    calls = fake.calls[1:]
    assert [netns for _, netns, _ in calls] == ["lab"] * len(expected)
    assert [argv for argv, _, _ in calls] == [(BIN, "--wait", "3", *argv[2:]) for argv in expected]
    assert all(stdin is None for _, _, stdin in calls)


def test_ipv6_client_runs_ip6tables() -> None:
    ipt, fake = make(protocol="ipv6", version="ip6tables v1.8.9 (nf_tables)\n")
    ipt.append("filter", "INPUT", "-s", "2001:db8::1", "-j", "DROP")
    assert argvs(fake) == [
        ("ip6tables-nft", "--wait", "-t", "filter", "-A", "INPUT", "-s", "2001:db8::1", "-j", "DROP")
    ]


# -- idempotent verbs ---------------------------------------------------------------------------


def test_append_unique_skips_the_append_when_the_rule_exists() -> None:
    ipt, fake = make()
    assert ipt.append_unique("filter", "INPUT", "-j", "DROP") is False
    assert argvs(fake) == [(*W, "-t", "filter", "-C", "INPUT", "-j", "DROP")]
    assert fake.locks == 1


def test_append_unique_appends_a_missing_rule() -> None:
    ipt, fake = make()
    fake.respond(("-C",), returncode=1, stderr=BAD_RULE)
    assert ipt.append_unique("filter", "INPUT", "-j", "DROP") is True
    assert argvs(fake) == [
        (*W, "-t", "filter", "-C", "INPUT", "-j", "DROP"),
        (*W, "-t", "filter", "-A", "INPUT", "-j", "DROP"),
    ]
    assert fake.locks == 1


def test_insert_unique_skips_or_inserts() -> None:
    ipt, fake = make()
    assert ipt.insert_unique("filter", "INPUT", 1, "-j", "DROP") is False
    assert argvs(fake) == [(*W, "-t", "filter", "-C", "INPUT", "-j", "DROP")]
    fake.respond(("-C",), returncode=1, stderr=BAD_RULE)
    assert ipt.insert_unique("filter", "INPUT", 1, "-j", "DROP") is True
    assert argvs(fake)[1:] == [
        (*W, "-t", "filter", "-C", "INPUT", "-j", "DROP"),
        (*W, "-t", "filter", "-I", "INPUT", "1", "-j", "DROP"),
    ]
    assert fake.locks == 2


def test_unique_verbs_propagate_a_refusal_of_the_check() -> None:
    ipt, fake = make()
    fake.respond(("-C",), returncode=4, stderr=NOT_ROOT)
    with pytest.raises(PermissionDenied):
        ipt.append_unique("filter", "INPUT", "-j", "DROP")
    assert [argv[4] for argv in argvs(fake)] == ["-C"]


@pytest.mark.parametrize("stderr", [BAD_RULE, NO_CHAIN, NFT_MISSING_CHAIN])
def test_exists_is_false_when_the_rule_or_chain_is_missing(stderr: str) -> None:
    ipt, fake = make()
    fake.respond(("-C",), returncode=1, stderr=stderr)
    assert ipt.exists("filter", "C1", "-j", "DROP") is False


def test_exists_is_true_on_success_and_raises_other_errors() -> None:
    ipt, fake = make()
    assert ipt.exists("filter", "C1", "-j", "DROP") is True
    fake.respond(("-C",), returncode=4, stderr=NOT_ROOT)
    with pytest.raises(PermissionDenied):
        ipt.exists("filter", "C1", "-j", "DROP")


@pytest.mark.parametrize("stderr", [BAD_RULE, NO_CHAIN, NFT_MISSING_CHAIN])
def test_delete_if_exists_swallows_not_found(stderr: str) -> None:
    ipt, fake = make()
    fake.respond(("-D",), returncode=1, stderr=stderr)
    assert ipt.delete_if_exists("filter", "C1", "-j", "DROP") is False
    assert len(argvs(fake)) == 1
    assert fake.locks == 1
    with pytest.raises(NotFound):
        ipt.delete("filter", "C1", "-j", "DROP")


def test_delete_if_exists_deletes_an_existing_rule() -> None:
    ipt, fake = make()
    assert ipt.delete_if_exists("filter", "C1", "-j", "DROP") is True
    assert argvs(fake) == [(*W, "-t", "filter", "-D", "C1", "-j", "DROP")]
    assert fake.locks == 1


def test_delete_if_exists_raises_other_errors() -> None:
    ipt, fake = make()
    fake.respond(("-D",), returncode=4, stderr=NOT_ROOT)
    with pytest.raises(PermissionDenied):
        ipt.delete_if_exists("filter", "C1", "-j", "DROP")


def test_clear_chain_flushes_an_existing_chain() -> None:
    ipt, fake = make()
    fake.respond(("-N",), returncode=1, stderr=CHAIN_EXISTS)
    ipt.clear_chain("filter", "C1")
    assert argvs(fake) == [(*W, "-t", "filter", "-N", "C1"), (*W, "-t", "filter", "-F", "C1")]
    with pytest.raises(AlreadyExists):
        ipt.new_chain("filter", "C1")


def test_clear_and_delete_chain_of_a_missing_chain_does_nothing() -> None:
    ipt, fake = make()
    fake.respond(("-F",), returncode=1, stderr=NO_CHAIN)
    ipt.clear_and_delete_chain("filter", "C1")
    assert argvs(fake) == [(*W, "-t", "filter", "-F", "C1")]


def test_delete_chain_in_use() -> None:
    ipt, fake = make()
    fake.respond(("-X",), returncode=4, stderr=NFT_BUSY)
    with pytest.raises(InUse) as info:
        ipt.delete_chain("filter", "C1")
    assert str(info.value).startswith("iptables-nft: delete chain C1 of table filter: ")


def test_all_tables_skip_a_table_the_kernel_lacks() -> None:
    ipt, fake = make()
    fake.respond(("-t", "security", "-S"), returncode=3, stderr=LEGACY_NO_TABLE)
    ipt.clear_all_tables()
    flushed = [argv[3] for argv in argvs(fake) if argv[-1] == "-F"]
    assert flushed == ["filter", "nat", "mangle", "raw"]


# -- reading output ------------------------------------------------------------------------------


def test_list_returns_the_rule_lines() -> None:
    ipt, fake = make()
    fake.respond(
        ("-S", "C1"),
        stdout=(
            "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n"
            "-N C1\n"
            '-A C1 -m comment --comment "two  words" -j ACCEPT\n'
            "\n"
        ),
    )
    assert ipt.list("filter", "C1") == ["-N C1", '-A C1 -m comment --comment "two  words" -j ACCEPT']


def test_list_by_id_returns_one_line() -> None:
    ipt, fake = make()
    fake.respond(("-S", "C1", "2"), stdout="-A C1 -s 192.0.2.1/32 -j DROP\n")
    assert ipt.list_by_id("filter", "C1", 2) == "-A C1 -s 192.0.2.1/32 -j DROP"


def test_list_by_id_past_the_end_is_not_found() -> None:
    ipt, fake = make(netns="lab")
    fake.respond(
        ("-S", "C1", "9"),
        stdout="# Warning: iptables-legacy tables present, use iptables-legacy to see them\n",
    )
    with pytest.raises(NotFound) as info:
        ipt.list_by_id("filter", "C1", 9)
    assert str(info.value) == (
        "iptables-nft: list rule 9 of chain C1 of table filter in netns lab: the chain has fewer rules"
    )
    assert info.value.is_not_exist()


def test_list_by_id_of_a_missing_chain_is_not_found() -> None:
    ipt, fake = make()
    fake.respond(("-S",), returncode=1, stderr=NFT_MISSING_CHAIN)
    with pytest.raises(NotFound):
        ipt.list_by_id("filter", "C1", 1)


def test_list_with_counters_normalises_both_forms() -> None:
    ipt, fake = make()
    fake.respond(
        ("-v", "-S", "C1"),
        stdout=(
            "-P INPUT ACCEPT -c 5 300\n"
            "-N C1\n"
            '-A C1 -m comment --comment "say \\"hi\\" \\\\ there" -c 0 0 -j DROP\n'
            '-A C1 -m comment --comment "-c 1 2" -c 7 8 -j DROP\n'
            "[3:4] -A C1 -j ACCEPT\n"
        ),
    )
    assert ipt.list_with_counters("filter", "C1") == [
        "[5:300] -P INPUT ACCEPT",
        "-N C1",
        '[0:0] -A C1 -m comment --comment "say \\"hi\\" \\\\ there" -j DROP',
        '[7:8] -A C1 -m comment --comment "-c 1 2" -j DROP',
        "[3:4] -A C1 -j ACCEPT",
    ]


TABLE_WITH_COUNTERS = (
    "-P INPUT ACCEPT -c 5 300\n"
    "-P FORWARD DROP -c 0 0\n"
    "-P OUTPUT ACCEPT -c 1 2\n"
    "-N C1\n"
    "-A INPUT -i eth0 -c 3 4 -j C1\n"
    '-A C1 -m comment --comment "-A INPUT" -c 0 0 -j RETURN\n'
)


def test_list_table_groups_lines_by_chain() -> None:
    ipt, fake = make()
    fake.respond(("-t", "filter", "-S"), stdout=TABLE_WITH_COUNTERS.replace(" -c 5 300", ""))
    plain = ipt.list_table("filter")
    assert list(plain) == ["INPUT", "FORWARD", "OUTPUT", "C1"]
    assert plain["INPUT"][0] == "-P INPUT ACCEPT"
    assert plain["C1"][0] == "-N C1"


def test_list_table_with_counters() -> None:
    ipt, fake = make()
    fake.respond(("-t", "filter", "-v", "-S"), stdout=TABLE_WITH_COUNTERS)
    assert ipt.list_table("filter", counters=True) == {
        "INPUT": ["[5:300] -P INPUT ACCEPT", "[3:4] -A INPUT -i eth0 -j C1"],
        "FORWARD": ["[0:0] -P FORWARD DROP"],
        "OUTPUT": ["[1:2] -P OUTPUT ACCEPT"],
        "C1": ["-N C1", '[0:0] -A C1 -m comment --comment "-A INPUT" -j RETURN'],
    }


def test_flush_chain_of_a_missing_chain_is_not_found() -> None:
    ipt, fake = make()
    fake.respond(("-F",), returncode=1, stderr=NFT_MISSING_CHAIN)
    with pytest.raises(NotFound):
        ipt.flush_chain("filter", "C1")


def test_list_chains_builtin_then_user() -> None:
    ipt, fake = make()
    fake.respond(
        ("-t", "filter", "-S"),
        stdout=(
            "-P INPUT ACCEPT\n-P FORWARD DROP\n-P OUTPUT ACCEPT\n-N C1\n-N VNK-lab\n"
            "-A INPUT -j C1\n-A C1 -j RETURN\n"
        ),
    )
    assert ipt.list_chains("filter") == ["INPUT", "FORWARD", "OUTPUT", "C1", "VNK-lab"]


@pytest.mark.parametrize("stderr", [NO_CHAIN, NFT_MISSING_CHAIN])
def test_chain_exists_false_on_not_found(stderr: str) -> None:
    ipt, fake = make()
    assert ipt.chain_exists("filter", "C1") is True
    fake.respond(("-S", "C1"), returncode=1, stderr=stderr)
    assert ipt.chain_exists("filter", "C1") is False


def test_chain_exists_raises_other_errors() -> None:
    ipt, fake = make()
    fake.respond(("-S", "C1"), returncode=4, stderr=NOT_ROOT)
    with pytest.raises(PermissionDenied):
        ipt.chain_exists("filter", "C1")


LISTING = (
    "Chain C1 (0 references)\n"
    "    pkts      bytes target     prot opt in     out     source               destination         \n"
    "       0        0 ACCEPT     6    --  eth0   *      !192.0.2.0/24         0.0.0.0/0            "
    "tcp dpt:22 /* two words */\n"
    "123456789012 98765432109876            0    --  *      *       1.2.3.4              "
    "0.0.0.0/0           \n"
)


def test_stats_and_structured_stats_parse_the_listing() -> None:
    ipt, fake = make()
    fake.respond(("-L", "C1"), stdout=LISTING)
    assert ipt.stats("filter", "C1") == [
        [
            "0",
            "0",
            "ACCEPT",
            "6",
            "--",
            "eth0",
            "*",
            "!192.0.2.0/24",
            "0.0.0.0/0",
            "tcp dpt:22 /* two words */",
        ],
        ["123456789012", "98765432109876", "", "0", "--", "*", "*", "1.2.3.4/32", "0.0.0.0/0", ""],
    ]
    first, second = ipt.structured_stats("filter", "C1")
    assert isinstance(first, Stat)
    assert first.source == ipaddress.IPv4Network("192.0.2.0/24")
    assert first.source_negated
    assert (second.packets, second.bytes, second.target) == (123456789012, 98765432109876, "")


def test_stats_of_unreadable_output_names_the_binary() -> None:
    ipt, fake = make()
    fake.respond(("-L", "C1"), stdout="Chain C1 (0 references)\nnonsense\n")
    with pytest.raises(ParseError) as info:
        ipt.stats("filter", "C1")
    assert info.value.source == "iptables-nft -L C1"
    assert info.value.line == 2


# -- errors carry what was attempted -------------------------------------------------------------


def test_errors_carry_argv_status_and_the_object() -> None:
    ipt, fake = make(netns="lab")
    fake.respond(("-D",), returncode=1, stderr=BAD_RULE)
    with pytest.raises(NotFound) as info:
        ipt.delete("filter", "C1", "-j", "DROP")
    err = info.value
    assert err.argv == (*W, "-t", "filter", "-D", "C1", "-j", "DROP")
    assert err.exit_status == 1
    assert err.stderr == BAD_RULE
    assert str(err).startswith("iptables-nft: delete a rule from chain C1 of table filter in netns lab: ")


def test_unknown_failure_is_a_command_error() -> None:
    ipt, fake = make()
    fake.respond(("-A",), returncode=1, stderr="iptables: something new.\n")
    with pytest.raises(CommandError):
        ipt.append("filter", "C1", "-j", "DROP")


def test_rejected_rule_is_a_rule_error() -> None:
    ipt, fake = make()
    fake.respond(
        ("-A",),
        returncode=2,
        stderr=(
            "iptables v1.8.9 (nf_tables): Chain 'NOSUCH' does not exist\n"
            "Try `iptables -h' or 'iptables --help' for more information.\n"
        ),
    )
    with pytest.raises(RuleError, match="Chain 'NOSUCH' does not exist"):
        ipt.append("filter", "C1", "-j", "NOSUCH")


# -- bad input is refused before any command runs ---------------------------------------------------

BAD_INPUT: list[tuple[str, Verb, str]] = [
    ("unknown-table", lambda i: i.append("bogus", "INPUT", "-j", "DROP"), "unknown table"),
    ("unknown-table-exists", lambda i: i.exists("bogus", "INPUT", "-j", "DROP"), "unknown table"),
    ("unknown-table-list-chains", lambda i: i.list_chains("bogus"), "unknown table"),
    ("unknown-table-clear-all", lambda i: i.clear_all("bogus"), "unknown table"),
    ("unknown-table-delete-all", lambda i: i.delete_all("bogus"), "unknown table"),
    ("unknown-table-list-table", lambda i: i.list_table("bogus"), "unknown table"),
    ("bad-chain-flush", lambda i: i.flush_chain("filter", "!x"), "starts with"),
    ("chain-with-space", lambda i: i.append("filter", "bad chain", "-j", "DROP"), "whitespace"),
    ("chain-too-long", lambda i: i.new_chain("filter", "C" * 29), "at most 28"),
    ("chain-empty", lambda i: i.list("filter", ""), "empty"),
    ("chain-dash", lambda i: i.stats("filter", "-L"), "starts with"),
    ("chain-verdict", lambda i: i.new_chain("filter", "RETURN"), "standard target"),
    ("rename-to-bad", lambda i: i.rename_chain("filter", "C1", "ACCEPT"), "standard target"),
    ("non-str-arg", lambda i: i.append("filter", "INPUT", "--dport", 22, "-j", "DROP"), "strings"),  # type: ignore[arg-type]
    ("non-str-arg-delete", lambda i: i.delete("filter", "INPUT", None), "strings"),  # type: ignore[arg-type]
    ("position-0-insert", lambda i: i.insert("filter", "INPUT", 0, "-j", "DROP"), "rule position"),
    ("position-neg-replace", lambda i: i.replace("filter", "INPUT", -1, "-j", "DROP"), "rule position"),
    ("position-0-delete", lambda i: i.delete_by_id("filter", "INPUT", 0), "rule position"),
    ("position-0-list", lambda i: i.list_by_id("filter", "INPUT", 0), "rule position"),
    ("position-bool", lambda i: i.insert("filter", "INPUT", True, "-j", "DROP"), "rule position"),
    ("policy-user-chain", lambda i: i.change_policy("filter", "C1", "ACCEPT"), "only built-in chains"),
    ("policy-nat-forward", lambda i: i.change_policy("nat", "FORWARD", "ACCEPT"), "only built-in chains"),
    ("policy-bad-target", lambda i: i.change_policy("filter", "INPUT", "REJECT"), "invalid policy"),
    ("delete-builtin", lambda i: i.delete_chain("filter", "INPUT"), "built-in chain"),
    ("clear-delete-builtin", lambda i: i.clear_and_delete_chain("nat", "POSTROUTING"), "built-in chain"),
    ("append-unique-bad-table", lambda i: i.append_unique("bogus", "INPUT", "-j", "DROP"), "unknown table"),
    (
        "insert-unique-position",
        lambda i: i.insert_unique("filter", "INPUT", 0, "-j", "DROP"),
        "rule position",
    ),
    ("delete-if-exists-chain", lambda i: i.delete_if_exists("filter", "a b", "-j", "DROP"), "whitespace"),
]


@pytest.mark.parametrize(
    ("verb", "message"), [(v, m) for _, v, m in BAD_INPUT], ids=[n for n, _, _ in BAD_INPUT]
)
def test_bad_input_raises_before_any_command_runs(verb: Verb, message: str) -> None:
    ipt, fake = make()
    fake.respond(("-C",), returncode=1, stderr=BAD_RULE)  # so *_unique would go on to write
    with pytest.raises(RuleError, match=message):
        verb(ipt)
    assert [argv for argv, _, _ in fake.calls] == [(BIN, "--version")]


def test_rule_errors_name_the_choices() -> None:
    ipt, _ = make()
    with pytest.raises(RuleError) as table:
        ipt.append("bogus", "INPUT")
    assert table.value.choices == TABLES
    with pytest.raises(RuleError) as policy:
        ipt.change_policy("filter", "C1", "ACCEPT")
    assert policy.value.choices == BUILTIN_CHAINS["filter"]
    with pytest.raises(RuleError) as target:
        ipt.change_policy("filter", "INPUT", "REJECT")
    assert target.value.choices == ("ACCEPT", "DROP")


# -- save and restore go through the same funnel ------------------------------------------------------

SAVED = (
    "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j DROP\nCOMMIT\n"
)


def test_save_runs_the_save_program_without_wait_flags_in_the_namespace() -> None:
    ipt, fake = make(netns="lab", timeout=3)
    fake.respond(("iptables-nft-save",), stdout=SAVED)
    assert [table.name for table in ipt.save().tables] == ["filter"]
    ipt.save(counters=True, table="nat")
    assert fake.calls[1:] == [
        (("iptables-nft-save",), "lab", None),
        (("iptables-nft-save", "-c", "-t", "nat"), "lab", None),
    ]


def test_save_of_an_unknown_table_runs_nothing() -> None:
    ipt, fake = make()
    with pytest.raises(RuleError, match="unknown table"):
        ipt.save(table="bogus")
    assert argvs(fake) == []


def test_a_failed_save_names_the_program_and_the_table() -> None:
    ipt, fake = make()
    fake.respond(("iptables-nft-save",), returncode=1, stderr=LEGACY_NO_TABLE)
    with pytest.raises(UnsupportedError) as info:
        ipt.save(table="security")
    assert str(info.value).startswith("iptables-nft-save: save table security: ")


def test_restore_adds_the_wait_flags_and_sends_the_rendered_ruleset() -> None:
    ipt, fake = make(netns="lab", timeout=3)
    ruleset = parse_save(SAVED)
    ipt.restore(ruleset, flush=False, counters=True)
    assert fake.calls[1:] == [
        (("iptables-nft-restore", "--wait", "3", "-c", "--noflush"), "lab", render_save(ruleset))
    ]


def test_a_failed_restore_names_the_tables_and_the_line() -> None:
    ipt, fake = make()
    fake.respond(
        ("iptables-nft-restore",), returncode=1, stderr="iptables-nft-restore: line 5 failed: Bad rule.\n"
    )
    with pytest.raises(CommandError) as info:
        ipt.restore(parse_save(SAVED))
    assert str(info.value) == "iptables-nft-restore: restore tables filter (line 5 of the input): Bad rule."


def test_a_failed_transaction_names_the_call_behind_the_line() -> None:
    ipt, fake = make(netns="lab")
    fake.respond(
        ("iptables-nft-restore",),
        returncode=2,
        stderr="iptables-nft-restore: line 3 failed: Chain 'NOPE' does not exist\n",
    )
    tx = Transaction()
    tx.append("filter", "INPUT", "-j", "ACCEPT")
    tx.append("filter", "INPUT", "-j", "NOPE")
    with pytest.raises(RuleError) as info:
        ipt.apply(tx)
    assert str(info.value) == (
        "iptables-nft-restore: apply transaction at append('filter', 'INPUT', '-j', 'NOPE'): "
        "Chain 'NOPE' does not exist"
    )
    assert info.value.argv == ("iptables-nft-restore", "--wait", "--noflush")
    assert fake.calls[-1][1:] == ("lab", "*filter\n-A INPUT -j ACCEPT\n-A INPUT -j NOPE\nCOMMIT\n")


def test_a_transaction_without_the_restore_program_raises_missing_tool_as_it_is() -> None:
    runner = VanishingBinaryRunner()
    runner.respond(("--version",), stdout=NFT_189)
    ipt = IPTables(backend="nft", runner=runner)
    with pytest.raises(MissingTool, match="iptables-nft-restore: command not found"), ipt.transaction() as tx:
        tx.append("filter", "INPUT", "-j", "ACCEPT")
