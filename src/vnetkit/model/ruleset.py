"""A whole iptables ruleset as values: tables, their chains and rules, in order.

Owns: ``Ruleset``, ``Table``, ``Chain`` and ``Entry`` (a rule in its chain,
with its counters). Comment lines of a dump are kept (so a dump renders back
byte for byte) but never take part in equality. Does not own: the text
format (``vnetkit.iptables.savefile``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vnetkit.model.rule import Counters, Rule

__all__ = ["Chain", "Entry", "Ruleset", "Table"]


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain of a table: built-in chains have a policy, user chains have None."""

    name: str
    policy: str | None = None
    counters: Counters | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One rule in its chain, with counters when the dump carried them.

    ``source`` is the line a parser read this entry from, so rendering an
    unchanged dump is a copy; it is never an argument, so an entry built or
    ``dataclasses.replace``-d by anyone else has None and renders from its parts.
    """

    chain: str
    rule: Rule
    counters: Counters | None = None
    source: str | None = field(default=None, init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Table:
    """One table (``filter``, ``nat``...): chains in dump order, then rules in order."""

    name: str
    chains: tuple[Chain, ...] = ()
    rules: tuple[Entry, ...] = ()
    comments: tuple[str, ...] = field(default=(), compare=False)

    def chain(self, name: str) -> Chain | None:
        """The chain called ``name``, if the table has it."""
        for chain in self.chains:
            if chain.name == name:
                return chain
        return None

    def rules_of(self, chain: str) -> list[Rule]:
        """The rules of ``chain``, in order."""
        return [entry.rule for entry in self.rules if entry.chain == chain]


@dataclass(frozen=True, slots=True)
class Ruleset:
    """Tables in the order of the dump. ``trailer`` holds comment lines after the last table."""

    tables: tuple[Table, ...] = ()
    trailer: tuple[str, ...] = field(default=(), compare=False)

    def table(self, name: str) -> Table | None:
        """The table called ``name``, if present."""
        for table in self.tables:
            if table.name == name:
                return table
        return None
