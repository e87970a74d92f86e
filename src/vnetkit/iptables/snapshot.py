"""Answer many ``exists`` questions from one saved ruleset instead of one ``-C`` each.

Owns: ``Snapshot``, an index of a ruleset by (table, chain) with each rule as
the line iptables-save prints for it; a question (a rule given as the user
wrote it) is put in canonical form and rendered the same way, so it is found
when iptables-save prints it differently. On iptables-nft every ``-C``
re-reads the whole chain; one save and a set lookup per question does not.
Pure.

Why lines and not parsed rules: a saved line renders back from its parsed
rule byte for byte (``tests/golden/save``), so two rules are equal exactly
when their lines are; indexing the lines skips parsing 10,000 rules that
only a few questions will ever be about (the ruleset itself is parsed when
first asked for).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from vnetkit.errors import ParseError
from vnetkit.iptables.canonical import canonical
from vnetkit.iptables.rules import line_chain, normal_line, parse_rule, render_line
from vnetkit.iptables.savefile import parse_save
from vnetkit.model import Rule, Ruleset

__all__ = ["Snapshot"]

Index = dict[tuple[str, str], Counter[str]]


def _without_counters(line: str) -> str:
    """``[P:B] -A ...`` -> ``-A ...``."""
    return line[line.index("]") + 2 :] if line.startswith("[") else line


class Snapshot:
    """A point-in-time view of a ruleset, indexed for fast membership questions."""

    def __init__(self, ruleset: Ruleset, *, canonical: Callable[[Rule], Rule] = canonical) -> None:
        self._canonical = canonical
        self._ruleset: Ruleset | None = ruleset
        self._text = ""
        self._source = ""
        self._rules: Index = {}
        self._chains: set[tuple[str, str]] = set()
        for table in ruleset.tables:
            self._chains.update((table.name, chain.name) for chain in table.chains)
            for entry in table.rules:
                line = entry.source if entry.source is not None else render_line(entry.chain, entry.rule)
                self._rules.setdefault((table.name, entry.chain), Counter())[
                    normal_line(_without_counters(line))
                ] += 1

    @classmethod
    def of_save(
        cls, text: str, *, canonical: Callable[[Rule], Rule] = canonical, source: str = "iptables-save"
    ) -> Snapshot:
        """Index the output of ``iptables-save`` without parsing its rules (see the module's note)."""
        snap = cls(Ruleset(()), canonical=canonical)
        snap._ruleset = None
        snap._text, snap._source = text, source
        table: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            head = line[:1]
            if head in ("-", "["):
                if table is None:
                    raise ParseError(f"a rule outside any table: {line!r}", source=source, line=number)
                bare = normal_line(_without_counters(line))
                snap._rules.setdefault((table, line_chain(bare)), Counter())[bare] += 1
            elif head == ":" and table is not None:
                snap._chains.add((table, line[1:].split(" ", 1)[0]))
            elif head == "*":
                table = line[1:].strip()
            elif line == "COMMIT":
                table = None
        return snap

    @property
    def ruleset(self) -> Ruleset:
        """The ruleset the snapshot was taken of."""
        if self._ruleset is None:
            self._ruleset = parse_save(self._text, source=self._source)
        return self._ruleset

    def chain_exists(self, table: str, chain: str) -> bool:
        """True if the snapshot has ``chain`` in ``table``."""
        return (table, chain) in self._chains

    def count(self, table: str, chain: str, *spec: str | Rule) -> int:
        """How many times the rule occurs in the chain."""
        rule = spec[0] if len(spec) == 1 and isinstance(spec[0], Rule) else parse_rule(spec)  # type: ignore[arg-type]
        prefetch = getattr(self._canonical, "prefetch", None)
        if prefetch is not None:  # a rule canonical() cannot derive: the tool answers, for this table
            prefetch([(table, rule)])
        rules = self._rules.get((table, chain))
        return 0 if rules is None else rules[render_line(chain, self._canonical(rule))]

    def exists(self, table: str, chain: str, *spec: str | Rule) -> bool:
        """True if the rule (strings as for ``IPTables.exists``, or a ``Rule``) is in the chain."""
        return self.count(table, chain, *spec) > 0
