"""Rule grammar: argv and save lines to ``Rule`` and back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnetkit.errors import ParseError, RuleError
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line, rule_args
from vnetkit.model import Counters, Match, Option, Rule, Target


def test_core_options_in_any_spelling_and_order() -> None:
    rule = parse_rule(
        ["--protocol", "tcp", "!", "--src", "10.0.0.0/8", "--in-interface", "eth0", "-j", "DROP"]
    )
    assert rule == Rule(
        source="10.0.0.0/8",
        source_negated=True,
        in_interface="eth0",
        protocol="tcp",
        target=Target("DROP"),
    )
    assert rule_args(rule) == ("!", "-s", "10.0.0.0/8", "-i", "eth0", "-p", "tcp", "-j", "DROP")


def test_implicit_protocol_match_and_negated_options() -> None:
    rule = parse_rule("-p tcp ! --dport 22 --tcp-flags SYN,ACK SYN -j ACCEPT")
    assert rule.matches == (
        Match("tcp", (Option("--dport", ("22",), negated=True), Option("--tcp-flags", ("SYN,ACK", "SYN")))),
    )
    assert rule_args(rule) == (
        "-p", "tcp", "-m", "tcp", "!", "--dport", "22", "--tcp-flags", "SYN,ACK", "SYN", "-j", "ACCEPT",
    )  # fmt: skip


def test_target_options_goto_and_fragments() -> None:
    rule = parse_rule("-f -j DNAT --to-destination 10.0.0.2:80 --random")
    assert rule.fragment is True
    assert rule.target == Target("DNAT", (Option("--to-destination", ("10.0.0.2:80",)), Option("--random")))
    assert parse_rule("! -f -g VNK-X").fragment is False
    assert parse_rule("-g VNK-X").target == Target("VNK-X", goto=True)
    assert rule_args(parse_rule("! -f -g VNK-X")) == ("!", "-f", "-g", "VNK-X")


def test_counters_in_both_forms() -> None:
    chain, rule, counters = parse_rule_line("[5:300] -A INPUT -s 192.0.2.1/32 -j DROP")
    assert (chain, counters) == ("INPUT", Counters(5, 300))
    assert parse_rule_line("-A INPUT -s 192.0.2.1/32 -c 5 300 -j DROP") == (chain, rule, counters)
    assert render_line(chain, rule, counters) == "[5:300] -A INPUT -s 192.0.2.1/32 -j DROP"


def test_quoting_follows_iptables() -> None:
    rule = parse_rule(["-m", "comment", "--comment", "a.b", "-j", "LOG", "--log-prefix", 'say "x" \\'])
    assert render_line("C", rule) == '-A C -m comment --comment "a.b" -j LOG --log-prefix "say \\"x\\" \\\\"'
    plain = parse_rule(["-m", "comment", "--comment", "plain_word-1", "-j", "ACCEPT"])
    assert render_line("C", plain) == "-A C -m comment --comment plain_word-1 -j ACCEPT"
    spaced = parse_rule(["-m", "foo", "--x", "a b", "--y", "", "-j", "ACCEPT"])
    assert render_line("C", spaced) == '-A C -m foo --x "a b" --y "" -j ACCEPT'
    chain, again, _ = parse_rule_line(render_line("C", spaced))
    assert (chain, again) == ("C", spaced)


@pytest.mark.parametrize(
    "args",
    [
        ["-s"],
        ["-s", "1.2.3.4", "-s", "5.6.7.8"],
        ["--dport", "22"],  # no -p, no -m
        ["-j", "ACCEPT", "-j", "DROP"],
        ["!", "!", "-s", "1.2.3.4"],
        ["!", "-j", "ACCEPT"],
        ["-s", "1.2.3.4", "stray"],
        ["-j", "ACCEPT", "!"],
        ["-c", "1"],
    ],
)
def test_bad_rules_are_rule_errors(args: list[str]) -> None:
    with pytest.raises(RuleError):
        parse_rule(args)


def test_bad_lines_are_parse_errors() -> None:
    with pytest.raises(ParseError):
        parse_rule_line("-I INPUT -j DROP")
    with pytest.raises(ParseError):
        parse_rule_line("[x:1] -A INPUT -j DROP")


_WORDS = st.sampled_from(
    ["-s", "-p", "tcp", "--dport", "22", "!", "-m", "-j", "ACCEPT", "-c", "1", "x y", '"', "-f"]
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(_WORDS, max_size=12))
def test_fuzz_parse_raises_only_rule_errors(args: list[str]) -> None:
    try:
        rule = parse_rule(args)
    except RuleError:
        return
    assert parse_rule(rule_args(rule)) == rule
