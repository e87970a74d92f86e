"""The tool as canonical()'s fallback: rules it cannot derive still converge in one sync.

An extension canonical() does not model is simulated by taking real ones out
of its registry for the test (as if they had been added to iptables after
vnetkit): ``time``, ``hashlimit`` and ``HMARK`` print forms that differ from
what a user writes, so comparing them as written would churn. Each sync must
converge (a second sync plans nothing), with one scratch-namespace batch for
all of them, none on the second sync, and nothing but the desired rules in the
user's namespace. Names (``--dport http``, ``-p gre``, ``--uid-owner root``)
are resolved the way iptables resolves them on this host.
"""

from __future__ import annotations

import pytest

from vnetkit.errors import CannotDerive, RuleError
from vnetkit.exec import default_runner
from vnetkit.exec.resolver import HostResolver
from vnetkit.iptables import IPTables
from vnetkit.iptables.canonical import MATCHES, TARGETS, canonical
from vnetkit.iptables.fallback import FallbackCanonical, ToolCanonical
from vnetkit.iptables.rules import parse_rule
from vnetkit.iptables.savefile import render_save
from vnetkit.iptables.snapshot import Snapshot
from vnetkit.iptables.sync import Desired, Jump

pytestmark = pytest.mark.integration

UNMODELLED_MATCHES = ("time", "hashlimit")
UNMODELLED_TARGETS = ("HMARK",)


@pytest.fixture
def unmodelled(monkeypatch: pytest.MonkeyPatch) -> None:
    """canonical() without the time and hashlimit matches and the HMARK target."""
    for name in UNMODELLED_MATCHES:
        monkeypatch.delitem(MATCHES, name, raising=False)
    for name in UNMODELLED_TARGETS:
        monkeypatch.delitem(TARGETS, name, raising=False)


def _desired(ipt: IPTables) -> Desired:
    net = "192.0.2.0/24" if ipt.protocol == "ipv4" else "2001:db8::/64"
    rules = [
        parse_rule("-m time --timestart 9:00 --timestop 17:00 --weekdays Mon,Tue -j ACCEPT"),
        parse_rule(f"-s {net} -m hashlimit --hashlimit-upto 1/sec --hashlimit-name web -j ACCEPT"),
        parse_rule("-p tcp --dport http -j ACCEPT"),
        parse_rule("-p udp -m multiport --dports domain,ntp -j ACCEPT"),
        parse_rule("-m owner --uid-owner root -j RETURN"),
        parse_rule("-p gre -j ACCEPT"),
    ]
    mangle = [parse_rule("-j HMARK --hmark-tuple src,dst --hmark-mod 4 --hmark-rnd 1")]
    return Desired(
        "VNK-",
        {("filter", "VNK-WEB"): rules, ("mangle", "VNK-MARK"): mangle},
        [
            Jump("filter", "OUTPUT", parse_rule("-j VNK-WEB")),
            Jump("mangle", "OUTPUT", parse_rule("-j VNK-MARK")),
        ],
    )


@pytest.mark.usefixtures("unmodelled")
def test_rules_canonical_cannot_derive_converge_in_one_sync(ipt: IPTables) -> None:
    desired = _desired(ipt)
    with pytest.raises(CannotDerive):
        canonical(parse_rule("-m time --timestart 9:00 -j ACCEPT"), backend=ipt.backend)
    # a fallback of its own (the client's shared one may remember forms from before the patch)
    fallback = FallbackCanonical(
        default_runner(), family=ipt.protocol, backend=ipt.backend, resolver=HostResolver()
    )
    batches = fallback.tool.batches
    plan = ipt.sync(desired, canonical=fallback)
    assert len([c for c in plan.changes if c.action == "add"]) == 9
    assert fallback.tool.batches == batches + 1  # one scratch namespace for every unmodelled rule
    live = ipt.list("filter", "VNK-WEB")
    assert any("--timestart 09:00:00 --timestop 17:00:00" in line for line in live), live
    assert any("--hashlimit-burst 5" in line for line in live), live
    assert any("--dport 80 " in line for line in live), live
    assert not ipt.sync(desired, canonical=fallback)  # converged: nothing planned the second time
    assert fallback.tool.batches == batches + 1  # and the tool was not asked again
    snap = Snapshot.of_save(render_save(ipt.save()), canonical=fallback)
    assert snap.exists("filter", "VNK-WEB", "-m", "time", "--timestart", "9:00", "--timestop", "17:00",
                       "--weekdays", "Mon,Tue", "-j", "ACCEPT")  # fmt: skip
    assert snap.exists("mangle", "VNK-MARK", desired.chains[("mangle", "VNK-MARK")][0])
    assert not snap.exists("filter", "VNK-WEB", "-m", "time", "--timestart", "9:01", "-j", "ACCEPT")


def test_the_tool_answers_a_batch_and_names_each_refusal(ipt: IPTables) -> None:
    tool = ToolCanonical(default_runner(), family=ipt.protocol, backend=ipt.backend)
    good = parse_rule("-m time --timestart 9:00 -j ACCEPT")
    bad = parse_rule("-m time --timestart 25:00 -j ACCEPT")
    nat_only = parse_rule("-p tcp -j REDIRECT --to-ports 8080")
    tool.ask([("filter", good), ("filter", bad), ("filter", nat_only), ("nat", nat_only)])
    assert tool.batches == 1
    assert tool.printed("filter", good).match("time") is not None
    assert tool.printed("nat", nat_only).target is not None
    with pytest.raises(RuleError, match="25:00"):
        tool.printed("filter", bad)
    with pytest.raises(RuleError, match="table filter"):
        tool.printed("filter", nat_only)
    assert tool.batches == 1  # every answer came from the one batch


def test_the_scratch_namespace_is_private_and_gone_afterwards(netns: str) -> None:
    ipt = IPTables("ipv4", backend="legacy", netns=netns)
    before = ipt.save()
    tool = ToolCanonical(default_runner(), family="ipv4", backend="legacy")
    tool.ask([("filter", parse_rule("-m time --timestart 9:00 -j ACCEPT"))])
    assert ipt.save() == before  # the user's namespace saw nothing
    with default_runner().scratch() as scratch:
        assert "VNK-CANON" not in scratch.run(("iptables-legacy-save",)).stdout  # a fresh one each time
