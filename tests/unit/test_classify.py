"""``classify_iptables``: real iptables 1.8.9 failures (nft and legacy) map to one error class each."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vnetkit.errors import (
    AlreadyExists,
    CommandError,
    InUse,
    LockTimeout,
    NotFound,
    PermissionDenied,
    RuleError,
    UnsupportedError,
    VnetkitError,
)
from vnetkit.exec.classify import classify_iptables, first_error_line
from vnetkit.exec.runner import Completed

ARGV = ("iptables-nft", "--wait", "-t", "filter", "-X", "C2")
ACTION = "iptables-nft: delete chain C2 of table filter"

NFT_MISSING_CHAIN = (
    "iptables v1.8.9 (nf_tables): chain `NOPE' in table `filter' is incompatible, use 'nft' tool.\n"
)
NO_CHAIN = "iptables: No chain/target/match by that name.\n"
BAD_RULE = "iptables: Bad rule (does a matching rule exist in that chain?).\n"
INDEX_TOO_BIG = "iptables: Index of deletion too big.\n"
CHAIN_EXISTS = "iptables: Chain already exists.\n"
FILE_EXISTS = "iptables: File exists.\n"
LEGACY_NOT_EMPTY = "iptables: Directory not empty.\n"
LEGACY_REFERENCED = "iptables: Too many links.\n"
NFT_BUSY = "iptables v1.8.9 (nf_tables):  CHAIN_DEL failed (Device or resource busy): chain C2\n"
NFT_NOT_ROOT = (
    "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: "
    "Permission denied (you must be root)\n"
)
LOCK_FILE_DENIED = "Fatal: can't open lock file /run/xtables.lock: Permission denied\n"
LOCK_HELD = (
    "Can't lock /run/xtables.lock: Resource temporarily unavailable\n"
    "Another app is currently holding the xtables lock. Stopped waiting after 1s.\n"
)
NFT_NO_SUCH_TARGET = (
    "iptables v1.8.9 (nf_tables): Chain 'NOSUCH' does not exist\n"
    "Try `iptables -h' or 'iptables --help' for more information.\n"
)
LEGACY_NO_TABLE = (
    "iptables v1.8.9 (legacy): can't initialize iptables table `bogus': "
    "Table does not exist (do you need to insmod?)\n"
    "Perhaps iptables or your kernel needs to be upgraded.\n"
)
WARNING = "# Warning: iptables-legacy tables present, use iptables-legacy to see them\n"

CASES = [
    pytest.param(NFT_MISSING_CHAIN, 1, NotFound, id="nft-missing-chain"),
    pytest.param(NO_CHAIN, 1, NotFound, id="no-chain-target-match"),
    pytest.param(BAD_RULE, 1, NotFound, id="bad-rule"),
    pytest.param(INDEX_TOO_BIG, 1, NotFound, id="index-too-big"),
    pytest.param(CHAIN_EXISTS, 1, AlreadyExists, id="chain-exists"),
    pytest.param(FILE_EXISTS, 1, AlreadyExists, id="file-exists"),
    pytest.param(LEGACY_NOT_EMPTY, 1, InUse, id="legacy-not-empty"),
    pytest.param(LEGACY_REFERENCED, 1, InUse, id="legacy-referenced"),
    pytest.param(NFT_BUSY, 4, InUse, id="nft-busy"),
    pytest.param(NFT_NOT_ROOT, 4, PermissionDenied, id="nft-not-root"),
    pytest.param(LOCK_FILE_DENIED, 4, PermissionDenied, id="lock-file-denied"),
    pytest.param(LOCK_HELD, 4, LockTimeout, id="lock-held"),
    pytest.param(NFT_NO_SUCH_TARGET, 2, RuleError, id="nft-jump-to-missing-chain"),
    pytest.param(LEGACY_NO_TABLE, 3, UnsupportedError, id="legacy-no-table"),
    pytest.param(WARNING + NO_CHAIN, 1, NotFound, id="warning-then-no-chain"),
    pytest.param("iptables: something new.\n", 1, CommandError, id="unknown-exit-1"),
    pytest.param("", 4, CommandError, id="empty-exit-4"),
]


@pytest.mark.parametrize(("stderr", "status", "cls"), CASES)
def test_class_and_fields(stderr: str, status: int, cls: type[VnetkitError]) -> None:
    err = classify_iptables(Completed(ARGV, status, "", stderr), action=ACTION)
    assert type(err) is cls
    assert err.argv == ARGV
    assert err.exit_status == status
    assert err.stderr == stderr
    assert str(err).startswith(ACTION + ": ")
    assert err.message == str(err)


@pytest.mark.parametrize(("stderr", "status", "cls"), CASES)
def test_class_does_not_depend_on_warning_lines(stderr: str, status: int, cls: type[VnetkitError]) -> None:
    err = classify_iptables(Completed(ARGV, status, "", WARNING + stderr), action=ACTION)
    assert type(err) is cls


def test_classify_returns_an_error_it_does_not_raise() -> None:
    err = classify_iptables(Completed(ARGV, 1, "", NO_CHAIN), action=ACTION)
    assert isinstance(err, NotFound)
    assert err.is_not_exist()
    with pytest.raises(LookupError):
        raise err


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        (NO_CHAIN, "No chain/target/match by that name."),
        (NFT_BUSY, "CHAIN_DEL failed (Device or resource busy): chain C2"),
        (NFT_NO_SUCH_TARGET, "Chain 'NOSUCH' does not exist"),
        (WARNING + BAD_RULE, "Bad rule (does a matching rule exist in that chain?)."),
    ],
)
def test_message_carries_the_first_error_line(stderr: str, reason: str) -> None:
    err = classify_iptables(Completed(ARGV, 1, "", stderr), action=ACTION)
    assert reason in str(err)
    assert "Warning" not in str(err)
    assert "Try `" not in str(err)


def test_nft_missing_chain_message_is_plain() -> None:
    # iptables-nft says "incompatible, use 'nft' tool" for a chain that is not there.
    err = classify_iptables(Completed(ARGV, 1, "", NFT_MISSING_CHAIN), action=ACTION)
    assert str(err) == f"{ACTION}: the chain does not exist"
    assert err.stderr == NFT_MISSING_CHAIN


def test_permission_message_names_the_capability() -> None:
    for stderr in (NFT_NOT_ROOT, LOCK_FILE_DENIED):
        err = classify_iptables(Completed(ARGV, 4, "", stderr), action=ACTION)
        assert str(err) == f"{ACTION}: permission denied; CAP_NET_ADMIN is needed (run as root)"


def test_lock_message_says_who_holds_it() -> None:
    err = classify_iptables(Completed(ARGV, 4, "", LOCK_HELD), action=ACTION)
    assert "xtables lock is held by another program" in str(err)
    assert "Can't lock /run/xtables.lock" in str(err)


def test_unsupported_table_message_suggests_the_module() -> None:
    err = classify_iptables(Completed(ARGV, 3, "", LEGACY_NO_TABLE), action=ACTION)
    assert "table `bogus'" in str(err)
    assert "kernel module" in str(err)
    assert "Perhaps iptables" not in str(err)


def test_empty_stderr_names_the_exit_status() -> None:
    err = classify_iptables(Completed(ARGV, 4, "", ""), action=ACTION)
    assert str(err) == f"{ACTION}: exit status 4"


def test_exit_2_without_known_text_is_a_rule_error_exit_1_is_not() -> None:
    stderr = 'iptables v1.8.9 (nf_tables): unknown option "--bogus"\n'
    assert type(classify_iptables(Completed(ARGV, 2, "", stderr), action=ACTION)) is RuleError
    assert type(classify_iptables(Completed(ARGV, 1, "", stderr), action=ACTION)) is CommandError


def test_known_text_wins_over_exit_status() -> None:
    # iptables exits 1 or 4 depending on version and backend; the text decides.
    for status in (1, 2, 4):
        assert type(classify_iptables(Completed(ARGV, status, "", NO_CHAIN), action=ACTION)) is NotFound


# -- first_error_line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "line"),
    [
        ("", ""),
        ("\n\n", ""),
        (WARNING, ""),
        (WARNING + NO_CHAIN, "iptables: No chain/target/match by that name."),
        (
            NFT_NO_SUCH_TARGET,
            "iptables v1.8.9 (nf_tables): Chain 'NOSUCH' does not exist",
        ),
        (
            LEGACY_NO_TABLE,
            "iptables v1.8.9 (legacy): can't initialize iptables table `bogus': "
            "Table does not exist (do you need to insmod?)",
        ),
        (LOCK_HELD, "Can't lock /run/xtables.lock: Resource temporarily unavailable"),
        ("  \n   iptables: File exists.  \n", "iptables: File exists."),
        (
            "Try `iptables -h' or 'iptables --help' for more information.\n"
            "Perhaps iptables or your kernel needs to be upgraded.\n",
            "",
        ),
    ],
)
def test_first_error_line(stderr: str, line: str) -> None:
    assert first_error_line(stderr) == line


# -- iptables-restore: the action names what the failed input line came from ------------------------

RESTORE_ARGV = ("iptables-nft-restore", "--wait", "--noflush")
NFT_RESTORE_NO_CHAIN = "iptables-nft-restore: line 7 failed: No chain/target/match by that name.\n"
LEGACY_RESTORE_BAD_TARGET = (
    "iptables-restore v1.8.9 (legacy): Couldn't load target `VNK-NOPE':No such file or directory\n"
    "\n"
    "Error occurred at line: 4\n"
    "Try `iptables-restore -h' or 'iptables-restore --help' for more information.\n"
)


def at_line(seen: list[int]) -> Callable[[int], str]:
    def action(line: int) -> str:
        seen.append(line)
        return f"iptables-nft-restore: apply transaction at line {line}"

    return action


def test_restore_action_gets_the_failed_line_and_the_reason_loses_restores_prefix() -> None:
    seen: list[int] = []
    err = classify_iptables(Completed(RESTORE_ARGV, 1, "", NFT_RESTORE_NO_CHAIN), action=at_line(seen))
    assert seen == [7]
    assert type(err) is NotFound
    assert (
        str(err) == "iptables-nft-restore: apply transaction at line 7: No chain/target/match by that name."
    )
    assert err.stderr == NFT_RESTORE_NO_CHAIN


def test_restore_line_after_a_reason_of_its_own() -> None:
    seen: list[int] = []
    err = classify_iptables(Completed(RESTORE_ARGV, 2, "", LEGACY_RESTORE_BAD_TARGET), action=at_line(seen))
    assert seen == [4]
    assert type(err) is RuleError
    assert str(err).endswith(
        ": iptables-restore v1.8.9 (legacy): Couldn't load target `VNK-NOPE':No such file or directory"
    )


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("iptables-nft-restore: line 3 failed\n", "iptables-restore gave no reason, only the line"),
        ("", "exit status 4"),
    ],
)
def test_restore_without_a_reason(stderr: str, reason: str) -> None:
    err = classify_iptables(Completed(RESTORE_ARGV, 4, "", stderr), action=lambda line: f"restore at {line}")
    assert type(err) is CommandError
    assert str(err) == f"restore at {3 if stderr else 0}: {reason}"


def test_restore_refusals_keep_their_class_message() -> None:
    err = classify_iptables(
        Completed(RESTORE_ARGV, 4, "", NFT_NOT_ROOT), action=lambda line: "restore tables filter"
    )
    assert str(err) == "restore tables filter: permission denied; CAP_NET_ADMIN is needed (run as root)"


def test_a_text_action_reads_no_line() -> None:
    # Only a restore's action is a function; text keeps the whole first error line.
    err = classify_iptables(Completed(RESTORE_ARGV, 1, "", NFT_RESTORE_NO_CHAIN), action="restore tables nat")
    assert str(err) == f"restore tables nat: {NFT_RESTORE_NO_CHAIN.strip()}"
