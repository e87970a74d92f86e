"""Answer many ``exists`` questions from one saved ruleset instead of one ``-C`` each.

Owns: ``Snapshot``, an index of a ``Ruleset`` by (table, chain) with the
rules in canonical form, so a rule given as the user wrote it is found when
iptables-save prints it differently. On iptables-nft every ``-C`` re-reads the
whole chain; one save and a set lookup per question does not. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from vnetkit.iptables.canonical import canonical
from vnetkit.iptables.rules import parse_rule
from vnetkit.model import Rule, Ruleset

__all__ = ["Snapshot"]


class Snapshot:
    """A point-in-time view of a ruleset, indexed for fast membership questions."""

    def __init__(self, ruleset: Ruleset, *, canonical: Callable[[Rule], Rule] = canonical) -> None:
        self.ruleset = ruleset
        self._canonical = canonical
        self._rules: dict[tuple[str, str], Counter[Rule]] = {}
        self._chains: set[tuple[str, str]] = set()
        for table in ruleset.tables:
            for chain in table.chains:
                self._chains.add((table.name, chain.name))
            for entry in table.rules:
                self._rules.setdefault((table.name, entry.chain), Counter())[entry.rule] += 1

    def chain_exists(self, table: str, chain: str) -> bool:
        """True if the snapshot has ``chain`` in ``table``."""
        return (table, chain) in self._chains

    def count(self, table: str, chain: str, *spec: str | Rule) -> int:
        """How many times the rule occurs in the chain."""
        rule = spec[0] if len(spec) == 1 and isinstance(spec[0], Rule) else parse_rule(spec)  # type: ignore[arg-type]
        rules = self._rules.get((table, chain))
        return 0 if rules is None else rules[self._canonical(rule)]

    def exists(self, table: str, chain: str, *spec: str | Rule) -> bool:
        """True if the rule (strings as for ``IPTables.exists``, or a ``Rule``) is in the chain."""
        return self.count(table, chain, *spec) > 0
