"""Name rules checked before any command runs: tables, chains, policies, positions."""

from __future__ import annotations

import pytest

from vnetkit.errors import ConfigError, RuleError
from vnetkit.iptables.names import (
    BUILTIN_CHAINS,
    POLICIES,
    TABLES,
    check_chain,
    check_policy,
    check_position,
    check_table,
    is_builtin,
)


def test_tables_and_builtin_chains() -> None:
    assert TABLES == ("filter", "nat", "mangle", "raw", "security")
    assert set(BUILTIN_CHAINS) == set(TABLES)
    assert BUILTIN_CHAINS["filter"] == ("INPUT", "FORWARD", "OUTPUT")
    assert BUILTIN_CHAINS["nat"] == ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING")
    assert BUILTIN_CHAINS["raw"] == ("PREROUTING", "OUTPUT")
    assert POLICIES == ("ACCEPT", "DROP")


@pytest.mark.parametrize("table", ["filter", "nat", "mangle", "raw", "security"])
def test_check_table_valid(table: str) -> None:
    assert check_table(table) == table


@pytest.mark.parametrize("table", ["", "bogus", "FILTER", "filter ", "broute"])
def test_check_table_invalid_lists_the_tables(table: str) -> None:
    with pytest.raises(RuleError) as info:
        check_table(table)
    assert info.value.choices == TABLES
    assert repr(table) in str(info.value)
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize(
    "chain",
    ["INPUT", "C1", "VNK-lab", "DOCKER-USER", "a" * 28, "x.y", "chain_1", "ÄÖ", "queue", "accept"],
)
def test_check_chain_valid(chain: str) -> None:
    assert check_chain(chain) == chain


@pytest.mark.parametrize(
    ("chain", "problem"),
    [
        ("", "empty"),
        ("a" * 29, "29 characters long (at most 28)"),
        ("a b", "whitespace"),
        ("a\tb", "whitespace"),
        ("ab\n", "whitespace"),
        ("-x", "starts with '-'"),
        ("!x", "starts with '!'"),
        ("ACCEPT", "standard target"),
        ("DROP", "standard target"),
        ("QUEUE", "standard target"),
        ("RETURN", "standard target"),
    ],
)
def test_check_chain_invalid(chain: str, problem: str) -> None:
    with pytest.raises(RuleError, match="invalid chain name") as info:
        check_chain(chain)
    assert problem in str(info.value)
    assert info.value.choices == ()


@pytest.mark.parametrize("policy", ["ACCEPT", "DROP"])
def test_check_policy_valid(policy: str) -> None:
    assert check_policy(policy) == policy


@pytest.mark.parametrize("policy", ["", "accept", "REJECT", "RETURN", "QUEUE", "C1"])
def test_check_policy_invalid_lists_the_policies(policy: str) -> None:
    with pytest.raises(RuleError, match="invalid policy") as info:
        check_policy(policy)
    assert info.value.choices == POLICIES


@pytest.mark.parametrize("position", [1, 2, 10**6])
def test_check_position_valid(position: int) -> None:
    assert check_position(position) == position


@pytest.mark.parametrize("position", [0, -1, True, False, 1.0, "1", None])
def test_check_position_invalid(position: object) -> None:
    with pytest.raises(RuleError, match="invalid rule position"):
        check_position(position)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("table", "chain", "builtin"),
    [
        ("filter", "INPUT", True),
        ("filter", "PREROUTING", False),
        ("nat", "PREROUTING", True),
        ("nat", "FORWARD", False),
        ("mangle", "FORWARD", True),
        ("raw", "INPUT", False),
        ("security", "OUTPUT", True),
        ("filter", "C1", False),
        ("bogus", "INPUT", False),
    ],
)
def test_is_builtin(table: str, chain: str, builtin: bool) -> None:
    assert is_builtin(table, chain) is builtin
