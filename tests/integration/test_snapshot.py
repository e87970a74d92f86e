"""``IPTables.snapshot``: many ``exists`` answers from one save, the same as ``-C`` gives, on every backend.

The oracle is the kernel through the real tool: every question is also asked
with ``iptables -C`` for the rules that are there. The questions are written
the way users write rules, which iptables-save prints differently (implicit
matches, host prefixes, quoting, protocol names, negations), and include
rules that are not there, found once they are added. (``-C`` is no oracle
for absence: ip6tables-legacy 1.8.9 answers yes to ``-p tcp --dport 23``
when only ``--dport 22`` is in the chain.)
"""

from __future__ import annotations

import pytest

from vnetkit.errors import ParseError
from vnetkit.iptables import IPTables, Snapshot
from vnetkit.iptables.canonical import canonical
from vnetkit.iptables.rules import parse_rule

pytestmark = pytest.mark.integration

Spec = tuple[str, ...]


def host(ipt: IPTables, n: int) -> str:
    return f"192.0.2.{n}" if ipt.protocol == "ipv4" else f"2001:db8::{n:x}"


def rules(ipt: IPTables) -> list[Spec]:
    icmp = "icmp" if ipt.protocol == "ipv4" else "ipv6-icmp"
    return [
        ("-p", "tcp", "--dport", "22", "-j", "ACCEPT"),
        ("-s", host(ipt, 1), "-p", "udp", "--sport", "53", "-j", "ACCEPT"),
        ("!", "-d", host(ipt, 2), "-i", "eth0", "-j", "DROP"),
        ("-m", "comment", "--comment", "two words", "-j", "RETURN"),
        ("-p", icmp, "-j", "ACCEPT"),
        ("-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"),
        ("-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "REJECT"),
        ("-j", "LOG", "--log-prefix", "vnk: "),
    ]


def absent(ipt: IPTables) -> list[Spec]:
    return [
        ("-p", "tcp", "--dport", "23", "-j", "ACCEPT"),  # another port
        ("-s", host(ipt, 9), "-p", "udp", "--sport", "53", "-j", "ACCEPT"),  # another source
        ("-d", host(ipt, 2), "-i", "eth0", "-j", "DROP"),  # not negated
        ("-m", "comment", "--comment", "two  words", "-j", "RETURN"),  # another comment
        ("-j", "LOG", "--log-prefix", "vnk:"),
    ]


def test_snapshot_answers_as_dash_c_does(ipt: IPTables) -> None:
    ipt.new_chain("filter", "VNK-S")
    for spec in rules(ipt):
        ipt.append("filter", "VNK-S", *spec)
    ipt.append("filter", "VNK-S", *rules(ipt)[0])  # twice
    ipt.append("filter", "INPUT", "-j", "VNK-S")

    snap = ipt.snapshot()
    for spec in rules(ipt):
        assert ipt.exists("filter", "VNK-S", *spec), spec  # the oracle agrees it is there
        assert snap.exists("filter", "VNK-S", *spec), spec
        assert snap.exists("filter", "VNK-S", parse_rule(spec)), spec  # a Rule works too
    for spec in absent(ipt):
        assert not snap.exists("filter", "VNK-S", *spec), spec
    assert not snap.exists("filter", "INPUT", *rules(ipt)[0])  # there, but in another chain
    assert snap.exists("filter", "INPUT", "-j", "VNK-S")
    assert snap.count("filter", "VNK-S", *rules(ipt)[0]) == 2
    assert snap.count("filter", "VNK-S", *rules(ipt)[1]) == 1
    assert snap.chain_exists("filter", "VNK-S")
    assert snap.chain_exists("filter", "FORWARD")
    assert not snap.chain_exists("filter", "VNK-NONE")
    assert not snap.chain_exists("nat", "VNK-S")

    # A point in time: later changes are not in it; a new snapshot sees them.
    ipt.delete("filter", "VNK-S", *rules(ipt)[1])
    for spec in absent(ipt):
        ipt.append("filter", "VNK-S", *spec)
    assert snap.exists("filter", "VNK-S", *rules(ipt)[1])
    later = ipt.snapshot()
    assert not later.exists("filter", "VNK-S", *rules(ipt)[1])
    for spec in absent(ipt):  # what was absent is found once it is there
        assert ipt.exists("filter", "VNK-S", *spec), spec
        assert later.exists("filter", "VNK-S", *spec), spec
        assert not snap.exists("filter", "VNK-S", *spec), spec

    # The ruleset is there when asked for, and is what save reads.
    [table] = [t for t in snap.ruleset.tables if t.name == "filter"]
    assert sum(1 for e in table.rules if e.chain == "VNK-S") == len(rules(ipt)) + 1


def test_snapshot_of_one_table_and_from_a_parsed_ruleset(ipt: IPTables) -> None:
    ipt.new_chain("filter", "VNK-S")
    ipt.new_chain("mangle", "VNK-M")
    for spec in rules(ipt):
        ipt.append("filter", "VNK-S", *spec)
    ipt.append("mangle", "VNK-M", "-j", "RETURN")

    only = ipt.snapshot(table="mangle")
    assert only.exists("mangle", "VNK-M", "-j", "RETURN")
    assert not only.exists("filter", "VNK-S", *rules(ipt)[0])  # not read
    whole = ipt.save()
    parsed = Snapshot(whole, canonical=lambda rule: canonical(rule, family=ipt.protocol, backend=ipt.backend))
    text = ipt.snapshot()
    for spec in rules(ipt) + absent(ipt):
        assert parsed.exists("filter", "VNK-S", *spec) == text.exists("filter", "VNK-S", *spec), spec
    assert parsed.ruleset is whole


def test_snapshot_of_a_rule_outside_a_table_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="outside any table") as caught:
        Snapshot.of_save("# dump\n-A INPUT -j ACCEPT\n")
    assert caught.value.line == 2
