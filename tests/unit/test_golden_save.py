"""The save-format parser and renderer against real dumps of both backends (tests/golden/save).

Five realistic rulesets (Docker host, kube-proxy node, Neutron router, Neutron
security groups, host firewall), each applied with iptables-nft and
iptables-legacy, IPv4 and IPv6, saved with and without counters; see
scripts/capture/golden_rulesets/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vnetkit.iptables.rules import parse_rule, render_line, rule_args
from vnetkit.iptables.savefile import parse_save, render_save

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "save"
DUMPS = sorted(GOLDEN.glob("*.save"))
RULESETS = sorted({path.name.split("-nft-")[0] for path in GOLDEN.glob("*-nft-*.save")})


def test_the_corpus_is_there() -> None:
    assert len(DUMPS) == 40
    assert RULESETS == ["docker", "host-firewall", "kube-proxy", "neutron-router", "neutron-sg"]


@pytest.mark.parametrize("path", DUMPS, ids=[p.name for p in DUMPS])
def test_round_trip_is_byte_exact(path: Path) -> None:
    text = path.read_text()
    ruleset = parse_save(text, source=path.name)
    assert render_save(ruleset) == text
    rules = [entry for table in ruleset.tables for entry in table.rules]
    assert rules, "every golden dump has rules"
    for entry in rules:
        # Rendering from the parts (not the remembered line) gives the same bytes.
        assert render_line(entry.chain, entry.rule, entry.counters) == entry.source
        # argv form parses back to the same rule.
        assert parse_rule(rule_args(entry.rule)) == entry.rule


@pytest.mark.parametrize("name", RULESETS)
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_both_backends_hold_the_same_rules(name: str, family: str) -> None:
    nft = parse_save((GOLDEN / f"{name}-nft-{family}.save").read_text())
    legacy = parse_save((GOLDEN / f"{name}-legacy-{family}.save").read_text())
    # Table order differs by backend (legacy prints the newest table first).
    assert sorted(t.name for t in nft.tables) == sorted(t.name for t in legacy.tables)
    for table in nft.tables:
        other = legacy.table(table.name)
        assert other is not None
        assert [(e.chain, e.rule) for e in table.rules] == [(e.chain, e.rule) for e in other.rules]


@pytest.mark.parametrize("name", RULESETS)
def test_counters_dump_has_the_same_rules(name: str) -> None:
    plain = parse_save((GOLDEN / f"{name}-nft-ipv4.save").read_text())
    counted = parse_save((GOLDEN / f"{name}-nft-ipv4.counters.save").read_text())
    for table in plain.tables:
        other = counted.table(table.name)
        assert other is not None
        assert [(e.chain, e.rule) for e in table.rules] == [(e.chain, e.rule) for e in other.rules]
        assert all(e.counters is None for e in table.rules)
        assert all(e.counters is not None for e in other.rules)
