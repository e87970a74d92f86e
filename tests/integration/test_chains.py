"""Chain lifecycle on both backends, IPv4 and IPv6, each test in its own namespace."""

from __future__ import annotations

import pytest

from vnetkit.errors import InUse, NotFound, RuleError
from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration


def test_clear_chain_creates_lists_flushes_and_deletes(ipt: IPTables) -> None:
    start = ipt.list_chains("filter")
    assert start == ["INPUT", "FORWARD", "OUTPUT"]
    assert not ipt.chain_exists("filter", "VNK-T")

    ipt.clear_chain("filter", "VNK-T")  # missing: created
    assert ipt.chain_exists("filter", "VNK-T")
    assert ipt.list_chains("filter") == [*start, "VNK-T"]

    ipt.append("filter", "VNK-T", "-j", "ACCEPT")
    with pytest.raises(InUse) as err:
        ipt.delete_chain("filter", "VNK-T")
    assert err.value.exit_status == (4 if ipt.backend == "nft" else 1)
    assert err.value.argv is not None
    assert "-X" in err.value.argv

    ipt.clear_chain("filter", "VNK-T")  # exists: flushed
    assert ipt.list("filter", "VNK-T") == ["-N VNK-T"]

    ipt.rename_chain("filter", "VNK-T", "VNK-U")
    assert not ipt.chain_exists("filter", "VNK-T")
    assert ipt.chain_exists("filter", "VNK-U")

    ipt.delete_chain("filter", "VNK-U")
    assert ipt.list_chains("filter") == start

    ipt.clear_and_delete_chain("filter", "VNK-U")
    ipt.clear_and_delete_chain("filter", "VNK-U")
    assert ipt.list_chains("filter") == start


def test_missing_chain_is_not_found_on_both_backends(ipt: IPTables) -> None:
    for call in (
        lambda: ipt.list("filter", "NOPE"),
        lambda: ipt.stats("filter", "NOPE"),
        lambda: ipt.delete_chain("filter", "NOPE"),
        lambda: ipt.append("filter", "NOPE", "-j", "ACCEPT"),
        lambda: ipt.rename_chain("filter", "NOPE", "NOPE2"),
    ):
        with pytest.raises(NotFound) as err:
            call()
        assert err.value.is_not_exist()


def test_policy_of_builtin_chain(ipt: IPTables) -> None:
    ipt.change_policy("filter", "FORWARD", "DROP")
    assert ipt.list("filter", "FORWARD") == ["-P FORWARD DROP"]
    ipt.change_policy("filter", "FORWARD", "ACCEPT")
    assert ipt.list("filter", "FORWARD") == ["-P FORWARD ACCEPT"]
    ipt.new_chain("filter", "VNK-P")
    with pytest.raises(RuleError):
        ipt.change_policy("filter", "VNK-P", "DROP")
    with pytest.raises(RuleError):
        ipt.change_policy("filter", "INPUT", "RETURN")


def test_flush_chain_and_list_table(ipt: IPTables) -> None:
    with pytest.raises(NotFound):
        ipt.flush_chain("filter", "VNK-F")
    assert not ipt.chain_exists("filter", "VNK-F")  # flush never creates
    ipt.new_chain("filter", "VNK-F")
    ipt.append("filter", "VNK-F", "-j", "RETURN")
    ipt.append("filter", "INPUT", "-j", "VNK-F")

    table = ipt.list_table("filter")
    assert list(table) == ["INPUT", "FORWARD", "OUTPUT", "VNK-F"]
    assert table == {name: ipt.list("filter", name) for name in table}
    counted = ipt.list_table("filter", counters=True)
    assert counted == {name: ipt.list_with_counters("filter", name) for name in table}

    ipt.flush_chain("filter", "VNK-F")
    assert ipt.list("filter", "VNK-F") == ["-N VNK-F"]
