"""sync() never plans a change to another tool's rule, whatever text that rule carries.

The data-loss defect this guards: a counting rule with no target, ``-m comment
--comment "count -j VNK-A"``, was read as a jump to the owned chain VNK-A
(the save line was scanned for ``-j`` by hand) and removed. Save lines are
now read with the rule grammar; these tests put random rules of other owners
(comments, log prefixes, string matches holding any text, ``-j VNK-...``
included) into shared chains next to our own jumps, stale ones among them,
and check the plan touches exactly ours.
"""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from vnetkit.iptables.canonical import canonical
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line
from vnetkit.iptables.sync import Desired, Jump, LiveTable, jumps_to_owned, plan_sync
from vnetkit.model import Match, Option, Rule, Target

PREFIX = "VNK-"
DESIRED = Desired(
    PREFIX,
    {("filter", "VNK-WEB"): [parse_rule("-p tcp --dport 443 -j ACCEPT")]},
    [Jump("filter", "INPUT", parse_rule("-j VNK-WEB"))],
)

# Text as other tools write it: anything printable, with our prefix and jump
# syntax mixed in on purpose. iptables-save prints control characters raw
# (a newline would break the line), so tools cannot use them in a ruleset.
_TRICKS = ["-j VNK-A", "-g VNK-WEB", "VNK-", '"', "\\", "' ", " -j ", "-j", "--comment", "!"]
_TEXT = st.lists(
    st.one_of(st.sampled_from(_TRICKS), st.text(string.printable.strip() + " é", max_size=8)),
    min_size=1,
    max_size=5,
).map(lambda parts: "".join(parts).strip() or "x")


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` bytes of UTF-8 (iptables' limits are in bytes)."""
    while len(text.encode()) > limit:
        text = text[:-1]
    return text or "x"


@st.composite
def foreign_rule(draw: st.DrawFn) -> Rule:
    """A rule some other tool owns: never a jump to a chain named with our prefix."""
    text = draw(_TEXT)
    matches: list[Match] = []
    kind = draw(st.sampled_from(["comment", "string", "log", "nflog", "plain"]))
    if kind == "comment":
        matches.append(Match("comment", (Option("--comment", (_cut(text, 255),)),)))
    elif kind == "string":
        matches.append(Match("string", (Option("--string", (_cut(text, 128),)), Option("--algo", ("bm",)))))
    target: Target | None
    if kind == "log":
        target = Target("LOG", (Option("--log-prefix", (_cut(text, 29),)),))
    elif kind == "nflog":
        target = Target("NFLOG", (Option("--nflog-prefix", (_cut(text, 63),)),))
    else:
        name = draw(st.sampled_from([None, "ACCEPT", "DROP", "RETURN", "KUBE-SVC", "OTHER-VNK-X", "vnk-low"]))
        target = None if name is None else Target(name)
    protocol = draw(st.sampled_from([None, "tcp", "udp"]))
    return Rule(protocol=protocol, matches=tuple(matches), target=target)


def _line(chain: str, rule: Rule) -> str:
    """What iptables-save prints for ``rule`` (canonical form, iptables' quoting)."""
    return render_line(chain, canonical(rule, backend="legacy"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(foreign_rule(), min_size=1, max_size=8),
    st.lists(st.sampled_from(["INPUT", "FORWARD", "OUTPUT"]), min_size=8, max_size=8),
    st.booleans(),
    st.booleans(),
)
def test_sync_never_touches_rules_of_other_owners(
    rules: list[Rule], chains: list[str], jump_there: bool, stale_jump: bool
) -> None:
    live = LiveTable({"INPUT", "FORWARD", "OUTPUT", "VNK-WEB", "VNK-OLD"})
    foreign: set[tuple[str, str]] = set()
    for rule, chain in zip(rules, chains, strict=False):
        line = _line(chain, rule)
        assert parse_rule_line(line)[1] == canonical(rule, backend="legacy")  # the grammar reads it back
        live.lines.setdefault(chain, []).append(line)
        foreign.add((chain, line))
    if jump_there:
        live.lines.setdefault("INPUT", []).insert(0, "-A INPUT -j VNK-WEB")
    if stale_jump:
        live.lines.setdefault("FORWARD", []).append("-A FORWARD -p udp -j VNK-OLD")
    live.lines["VNK-WEB"] = ["-A VNK-WEB -p tcp -m tcp --dport 443 -j ACCEPT"]

    plan = plan_sync(DESIRED, {"filter": live}, canonical=canonical)

    touched = {(c.chain, c.rule) for c in plan.changes}
    assert not touched & foreign, plan.changes
    removed = {(c.chain, c.rule) for c in plan.changes if c.action == "remove"}
    assert removed == ({("FORWARD", "-A FORWARD -p udp -j VNK-OLD")} if stale_jump else set())
    added = {(c.chain, c.rule) for c in plan.changes if c.action == "add"}
    assert added == (set() if jump_there else {("INPUT", "-A INPUT -j VNK-WEB")})
    # and the transaction removes nothing by content but our stale jump
    deletes = [line for line in plan.transaction.render(["filter"]).splitlines() if line.startswith("-D ")]
    assert deletes == (["-D FORWARD -p udp -j VNK-OLD"] if stale_jump else [])


def test_the_reported_case_counting_rule_with_jump_text_in_its_comment() -> None:
    counting = '-A INPUT -p tcp -m comment --comment "count -j VNK-A"'
    live = LiveTable({"INPUT", "FORWARD", "OUTPUT"}, {"INPUT": [counting]})
    plan = plan_sync(DESIRED, {"filter": live}, canonical=canonical)
    assert [(c.action, c.chain) for c in plan.changes] == [
        ("create", "VNK-WEB"),
        ("add", "VNK-WEB"),
        ("add", "INPUT"),
    ]
    assert not jumps_to_owned(counting, PREFIX)


def test_jumps_to_owned_reads_the_target_with_the_grammar() -> None:
    assert jumps_to_owned("-A INPUT -j VNK-WEB", PREFIX)
    assert jumps_to_owned("-A INPUT -s 10.0.0.0/8 -g VNK-WEB", PREFIX)
    assert jumps_to_owned('-A INPUT -m comment --comment "-j KUBE" -j VNK-WEB', PREFIX)
    assert not jumps_to_owned('-A INPUT -m comment --comment "-j VNK-WEB"', PREFIX)
    assert not jumps_to_owned('-A INPUT -m comment --comment "x -j VNK-WEB" -j ACCEPT', PREFIX)
    assert not jumps_to_owned('-A INPUT -j LOG --log-prefix "-j VNK-WEB"', PREFIX)
    assert not jumps_to_owned('-A INPUT -m string --string "-g VNK-A" --algo bm -j DROP', PREFIX)
    assert not jumps_to_owned("-A INPUT -j OTHER-VNK-X", PREFIX)
