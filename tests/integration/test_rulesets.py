"""Transactions, save/restore and desired-state sync against real iptables, both backends and families."""

from __future__ import annotations

import socket

import pytest

from vnetkit.errors import NotFound, RuleError, VnetkitError
from vnetkit.exec import default_runner
from vnetkit.iptables import IPTables
from vnetkit.iptables.rules import parse_rule
from vnetkit.iptables.savefile import parse_save, render_save
from vnetkit.iptables.sync import Desired, Jump, desired_from_save
from vnetkit.iptables.transaction import Transaction
from vnetkit.model import Counters, Ruleset

pytestmark = pytest.mark.integration


def net(ipt: IPTables, n: int) -> str:
    return f"192.0.2.{n}/32" if ipt.protocol == "ipv4" else f"2001:db8::{n:x}/128"


def snapshot(ipt: IPTables) -> str:
    """The whole ruleset as text, without comment lines (they carry a timestamp).

    Tables in their pristine state (no rules, no user chains, every policy
    ACCEPT) are left out: iptables-legacy instantiates a table as soon as a
    restore names it, even one that fails, and a pristine table filters
    exactly like an absent one.
    """
    ruleset = ipt.save()
    kept = Ruleset(tuple(t for t in ruleset.tables if t.rules or any(c.policy != "ACCEPT" for c in t.chains)))
    return "\n".join(line for line in render_save(kept).splitlines() if not line.startswith("#"))


def test_transaction_applies_across_tables(ipt: IPTables) -> None:
    with ipt.transaction() as tx:
        tx.new_chain("filter", "VNK-T")
        tx.append(
            "filter", "VNK-T", "-s", net(ipt, 1), "-m", "comment", "--comment", "two words", "-j", "ACCEPT"
        )
        tx.append("filter", "VNK-T", parse_rule(["-s", net(ipt, 2), "-j", "DROP"]))
        tx.insert("filter", "VNK-T", 1, "-j", "RETURN")
        tx.append("filter", "INPUT", "-j", "VNK-T")
        tx.change_policy("filter", "FORWARD", "DROP")
        tx.clear_chain("mangle", "VNK-M")
        tx.append("mangle", "VNK-M", "-j", "RETURN")
    assert ipt.list("filter", "VNK-T") == [
        "-N VNK-T",
        "-A VNK-T -j RETURN",
        f'-A VNK-T -s {net(ipt, 1)} -m comment --comment "two words" -j ACCEPT',
        f"-A VNK-T -s {net(ipt, 2)} -j DROP",
    ]
    assert ipt.list("filter", "INPUT") == ["-P INPUT ACCEPT", "-A INPUT -j VNK-T"]
    assert ipt.list("filter", "FORWARD") == ["-P FORWARD DROP"]
    assert ipt.list("mangle", "VNK-M") == ["-N VNK-M", "-A VNK-M -j RETURN"]


def test_failed_transaction_changes_nothing_and_names_the_call(ipt: IPTables) -> None:
    ipt.new_chain("filter", "VNK-T")
    ipt.append("filter", "VNK-T", "-j", "ACCEPT")
    before = snapshot(ipt)
    # The failure is in the second table: the first has been committed by then
    # and must be rolled back.
    tx = Transaction()
    tx.append("filter", "VNK-T", "-j", "RETURN")
    tx.new_chain("filter", "VNK-NEW")
    tx.append("mangle", "VNK-MISSING", "-j", "RETURN")
    with pytest.raises(VnetkitError) as err:
        ipt.apply(tx)
    assert "append('mangle', 'VNK-MISSING', '-j', 'RETURN')" in str(err.value)
    assert snapshot(ipt) == before

    tx = Transaction()
    tx.append("filter", "VNK-T", "-j", "RETURN")
    tx.append("filter", "VNK-T", "-s", "300.1.2.3", "-j", "DROP")
    with pytest.raises(RuleError) as bad:
        ipt.apply(tx)
    assert "'-s', '300.1.2.3'" in str(bad.value)
    assert snapshot(ipt) == before

    with pytest.raises(NotFound if ipt.backend == "nft" else VnetkitError), ipt.transaction() as tx:
        tx.delete("filter", "VNK-T", "-j", "DROP")  # no such rule
    assert snapshot(ipt) == before


def test_test_mode_checks_without_applying(ipt: IPTables) -> None:
    before = snapshot(ipt)
    with ipt.transaction(test=True) as tx:
        tx.new_chain("filter", "VNK-T")
        tx.append("filter", "VNK-T", "-j", "LOG", "--log-prefix", "vnk: ")
        tx.append("filter", "INPUT", "-j", "VNK-T")
    assert snapshot(ipt) == before
    # iptables-nft-restore --test alone accepts this; vnetkit does not.
    with pytest.raises(RuleError) as err, ipt.transaction(test=True) as tx:
        tx.append("filter", "INPUT", "-j", "VNK-UNDEFINED")
    assert "VNK-UNDEFINED" in str(err.value)
    assert snapshot(ipt) == before


def test_save_restore_round_trip_with_counters(ipt: IPTables) -> None:
    with ipt.transaction() as tx:
        tx.new_chain("filter", "VNK-S")
        tx.append(
            "filter", "VNK-S", "-s", net(ipt, 7), "-m", "comment", "--comment", 'say "hi"', "-j", "DROP"
        )
        tx.append("filter", "INPUT", "-j", "VNK-S")
        tx.new_chain("nat", "VNK-N")
    text = render_save(ipt.save(counters=True))
    saved = parse_save(text)
    filter_table = saved.table("filter")
    assert filter_table is not None
    assert filter_table.rules_of("VNK-S")[0].source == net(ipt, 7)

    ipt.clear_all_tables()
    ipt.delete_all_tables()
    assert ipt.list_chains("filter") == ["INPUT", "FORWARD", "OUTPUT"]

    edited = parse_save(text.replace("[0:0] -A VNK-S", "[5:500] -A VNK-S"))
    ipt.restore(edited, counters=True)
    restored = ipt.save(counters=True)
    assert restored.table("nat") == edited.table("nat")
    table = restored.table("filter")
    assert table is not None
    expected = edited.table("filter")
    assert expected is not None
    assert [(e.chain, e.rule) for e in table.rules] == [(e.chain, e.rule) for e in expected.rules]
    counters = [e.counters for e in table.rules if e.chain == "VNK-S"]
    # ip6tables-nft-restore 1.8.9 ignores rule counters given with -c (a bug of
    # that tool; iptables-nft-restore and both legacy restores honour them).
    assert counters == [
        Counters(0, 0) if (ipt.backend, ipt.protocol) == ("nft", "ipv6") else Counters(5, 500)
    ]


def test_sync_owns_only_its_chains_and_is_idempotent(ipt: IPTables) -> None:
    other = ("-s", net(ipt, 9), "-j", "DROP")
    ipt.append("filter", "INPUT", *other)  # another tool's rule, before ours
    web = [parse_rule(f"-p tcp -m tcp --dport {port} -j ACCEPT") for port in (80, 443)]
    desired = Desired(
        "VNK-", {("filter", "VNK-WEB"): web}, [Jump("filter", "INPUT", parse_rule("-j VNK-WEB"))]
    )
    plan = ipt.sync(desired)
    assert [c.action for c in plan.changes] == ["create", "add", "add", "add"]
    ipt.append("filter", "INPUT", "-s", net(ipt, 10), "-j", "DROP")  # another tool's rule, after ours
    assert not ipt.sync(desired)  # second sync: nothing to do

    changed = Desired(
        "VNK-",
        {
            ("filter", "VNK-WEB"): [web[0], parse_rule("-p tcp -m tcp --dport 8443 -j ACCEPT")],
            ("filter", "VNK-NEW"): [parse_rule("-j RETURN")],
        },
        desired.jumps,
    )
    plan = ipt.sync(changed)
    assert sorted((c.action, c.chain) for c in plan.changes) == [
        ("add", "VNK-NEW"),
        ("add", "VNK-WEB"),
        ("create", "VNK-NEW"),
        ("remove", "VNK-WEB"),
    ]
    assert ipt.list("filter", "INPUT") == [
        "-P INPUT ACCEPT",
        f"-A INPUT -s {net(ipt, 9)} -j DROP",
        "-A INPUT -j VNK-WEB",
        f"-A INPUT -s {net(ipt, 10)} -j DROP",
    ]
    assert ipt.list("filter", "VNK-WEB")[1:] == [
        "-A VNK-WEB -p tcp -m tcp --dport 80 -j ACCEPT",
        "-A VNK-WEB -p tcp -m tcp --dport 8443 -j ACCEPT",
    ]
    assert not ipt.sync(changed)

    plan = ipt.sync(Desired("VNK-"))  # own nothing any more: our chains and jump go, others stay
    assert ipt.list_table("filter") == {
        "INPUT": [
            "-P INPUT ACCEPT",
            f"-A INPUT -s {net(ipt, 9)} -j DROP",
            f"-A INPUT -s {net(ipt, 10)} -j DROP",
        ],
        "FORWARD": ["-P FORWARD ACCEPT"],
        "OUTPUT": ["-P OUTPUT ACCEPT"],
    }


def test_sync_keeps_counters_of_unchanged_rules(ipt: IPTables) -> None:
    assert ipt.netns is not None
    v4 = ipt.protocol == "ipv4"
    loop = "127.0.0.1/32" if v4 else "::1/128"
    rules = [parse_rule(f"-d {loop} -p udp -m udp --dport {9001 + n} -j ACCEPT") for n in range(5)]
    jump = Jump("filter", "OUTPUT", parse_rule("-j VNK-C"))
    ipt.sync(Desired("VNK-", {("filter", "VNK-C"): rules}, [jump]))

    def send() -> None:  # one packet to each port, over lo, inside the test's namespace
        family = socket.AF_INET if v4 else socket.AF_INET6
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            for n in range(5):
                sock.sendto(b"x", ("127.0.0.1" if v4 else "::1", 9001 + n))

    default_runner().call_in(ipt.netns, send)
    ipt.sync(
        Desired("VNK-", {("filter", "VNK-C"): [*rules[:2], parse_rule("-j RETURN"), *rules[3:]]}, [jump])
    )
    after = ipt.save(counters=True).table("filter")
    assert after is not None
    packets = [e.counters.packets for e in after.rules if e.chain == "VNK-C" and e.counters is not None]
    assert packets == [1, 1, 0, 1, 1]


def test_desired_state_file(ipt: IPTables) -> None:
    text = f"""\
*filter
:INPUT ACCEPT [0:0]
:VNK-IN - [0:0]
-A INPUT -j VNK-IN
-A VNK-IN -s {net(ipt, 3)} -j ACCEPT
COMMIT
"""
    desired = desired_from_save(text, prefix="VNK-")
    assert [c.action for c in ipt.sync(desired).changes] == ["create", "add", "add"]
    assert not ipt.sync(desired)
    with pytest.raises(VnetkitError):
        desired_from_save("*filter\n-A INPUT -j DROP\nCOMMIT\n", prefix="VNK-")
