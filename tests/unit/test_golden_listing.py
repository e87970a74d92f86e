"""The parsers against real iptables 1.8.9 output of both backends (tests/golden/listing).

The files come from scripts/capture/golden_listing.py, which applies the same rules
with each backend and family in a scratch namespace.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from vnetkit.iptables import parse_listing, parse_stat
from vnetkit.iptables.text import counters_first, split_line

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "listing"
COMBOS = [f"{backend}-{protocol}" for backend in ("nft", "legacy") for protocol in ("ipv4", "ipv6")]


def read(combo: str, kind: str) -> str:
    return (GOLDEN / f"{combo}.{kind}.txt").read_text()


@pytest.mark.parametrize("combo", COMBOS)
def test_every_listed_rule_parses_to_a_stat(combo: str) -> None:
    rules = [line for line in read(combo, "S").splitlines() if line.startswith("-A ")]
    stats = [parse_stat(row) for row in parse_listing(read(combo, "L"))]
    assert len(stats) == len(rules)
    v6 = combo.endswith("ipv6")

    first, second, third, fourth = stats[:4]
    assert first.source == ipaddress.ip_network("2001:db8::/32" if v6 else "192.0.2.0/24")
    assert first.source_negated
    assert (first.input, first.output, first.target) == ("eth0", "*", "ACCEPT")
    assert first.options == "tcp dpt:22"

    assert second.source == ipaddress.ip_network("2001:db8:1::7/128" if v6 else "198.51.100.7/32")
    assert second.output == "eth1"
    assert second.output_negated
    assert not second.source_negated

    assert third.target == ""  # a rule without -j
    assert third.destination == ipaddress.ip_network("2001:db8:2::/48" if v6 else "203.0.113.0/25")

    assert fourth.options == "multiport dports 53,123 /* two  words */"
    assert stats[-1].target == "VNK-OTHER"
    assert all(stat.packets == 0 and stat.bytes == 0 for stat in stats)


@pytest.mark.parametrize("combo", COMBOS)
def test_counters_first_matches_plain_listing(combo: str) -> None:
    plain = read(combo, "S").splitlines()
    counted = read(combo, "vS").splitlines()
    assert [counters_first(line) for line in counted] == [plain[0]] + [f"[0:0] {line}" for line in plain[1:]]


@pytest.mark.parametrize("combo", COMBOS)
def test_split_line_unquotes_what_iptables_quoted(combo: str) -> None:
    lines = read(combo, "S").splitlines()
    comments = [args[args.index("--comment") + 1] for args in map(split_line, lines) if "--comment" in args]
    assert comments == ["two  words", 'say "hi" \\ there']
    prefixes = [
        args[args.index("--log-prefix") + 1] for args in map(split_line, lines) if "--log-prefix" in args
    ]
    assert prefixes == ["vnk: "]


@pytest.mark.parametrize("protocol", ["ipv4", "ipv6"])
@pytest.mark.parametrize("kind", ["S", "vS", "L"])
def test_both_backends_print_the_same(protocol: str, kind: str) -> None:
    assert read(f"nft-{protocol}", kind) == read(f"legacy-{protocol}", kind)
