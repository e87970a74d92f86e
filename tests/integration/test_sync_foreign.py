"""sync() against the kernel leaves other tools' rules alone, however their text reads.

The reported data-loss case (a counting rule whose comment says
``count -j VNK-A``) and random rules of other owners, added with the real
tool in shared chains of this test's namespace, both backends and families:
after a sync, and after a second one, every foreign rule is still there in
its place, and the second sync plans nothing.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vnetkit.iptables import IPTables
from vnetkit.iptables.rules import parse_rule
from vnetkit.iptables.sync import Desired, Jump

pytestmark = pytest.mark.integration

DESIRED = Desired(
    "VNK-",
    {("filter", "VNK-WEB"): [parse_rule("-p tcp --dport 443 -j ACCEPT")]},
    [Jump("filter", "INPUT", parse_rule("-j VNK-WEB"))],
)


def test_the_reported_counting_rule_survives(ipt: IPTables) -> None:
    ipt.append("filter", "INPUT", "-p", "tcp", "-m", "comment", "--comment", "count -j VNK-A")
    before = ipt.list("filter", "INPUT")
    plan = ipt.sync(DESIRED)
    assert [(c.action, c.chain) for c in plan.changes] == [
        ("create", "VNK-WEB"),
        ("add", "VNK-WEB"),
        ("add", "INPUT"),
    ]
    assert ipt.list("filter", "INPUT") == [*before, "-A INPUT -j VNK-WEB"]
    assert not ipt.sync(DESIRED)


_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["-j VNK-A", "-g VNK-WEB", '"', "\\", " -j ", "-j", "!"]),
        st.text(string.ascii_letters + string.digits + " _-.:/'\"\\$#=,", max_size=8),
    ),
    min_size=1,
    max_size=4,
).map(lambda parts: "".join(parts).strip() or "x")


@st.composite
def foreign(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(chain, argv) of a rule another tool adds; never a jump to a VNK- chain."""
    text = draw(_TEXT)
    chain = draw(st.sampled_from(["INPUT", "FORWARD", "OUTPUT"]))
    kind = draw(st.sampled_from(["comment", "string", "log", "nflog"]))
    argv = {
        "comment": ["-m", "comment", "--comment", text],
        "string": ["-m", "string", "--string", text[:100], "--algo", "bm", "-j", "DROP"],
        "log": ["-j", "LOG", "--log-prefix", text[:29]],
        "nflog": ["-j", "NFLOG", "--nflog-prefix", text[:63]],
    }[kind]
    return chain, argv


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(foreign(), min_size=3, max_size=6))
def test_random_foreign_rules_survive_two_syncs(ipt: IPTables, rules: list[tuple[str, list[str]]]) -> None:
    ipt.clear_all("filter")
    ipt.delete_all("filter")
    for chain, argv in rules:
        ipt.append("filter", chain, *argv)
    before = ipt.list_table("filter")
    ipt.sync(DESIRED)
    after = ipt.list_table("filter")
    for chain in ("FORWARD", "OUTPUT"):
        assert after[chain] == before[chain]
    assert after["INPUT"] == [*before["INPUT"], "-A INPUT -j VNK-WEB"]
    assert not ipt.sync(DESIRED)
    assert ipt.list_table("filter") == after
