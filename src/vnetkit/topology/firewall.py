"""A node's rules: desired ``RulesSpec`` against the live tables -> one transaction; pure.

Owns: ``plan_rules`` and ``Owned`` (what a lab applied last time: its
chains and the single rules it placed in built-in chains, as the ledger
keeps them). The rules a lab owns are: every rule of the chains it owns
(diffed in place, so unchanged rules keep their counters), and each rule it
placed in a chain it does not own. A placed rule no longer desired is
removed only if the last apply placed it (``Owned``); a chain no longer
desired is deleted only if the last apply owned it. Kept chains (a user's
DOCKER-USER) are created when missing and never touched after. Every other
rule in the namespace is left alone. Does not own: reading or applying
(``IPTables.converge``), the ledger file (``ledger``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from vnetkit.iptables.rules import render_line
from vnetkit.iptables.sync import Canonical, Change, LiveTable, SyncPlan, edit_chain
from vnetkit.iptables.transaction import Transaction
from vnetkit.model import Rule
from vnetkit.topology.spec import RulesSpec

__all__ = ["Owned", "desired_rules", "owned_after", "plan_rules"]


@dataclass(frozen=True, slots=True)
class Owned:
    """What the last apply owned in one node and family: chains, and placed rules as save lines."""

    chains: frozenset[tuple[str, str]] = frozenset()
    placed: frozenset[tuple[str, str, str]] = frozenset()

    def to_json(self) -> dict[str, list[list[str]]]:
        """Plain lists for the ledger."""
        return {
            "chains": sorted([t, c] for t, c in self.chains),
            "placed": sorted([t, c, line] for t, c, line in self.placed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Owned:
        """The inverse of :meth:`to_json` (a missing key is empty)."""
        chains = data.get("chains", [])
        placed = data.get("placed", [])
        return cls(
            frozenset((str(t), str(c)) for t, c in chains if True)
            if isinstance(chains, list)
            else frozenset(),
            frozenset((str(t), str(c), str(x)) for t, c, x in placed)
            if isinstance(placed, list)
            else frozenset(),
        )


def desired_rules(spec: RulesSpec) -> Iterable[tuple[str, Rule]]:
    """Every desired rule with its table (what canonical forms are needed for)."""
    for (table, _), rules in spec.chains:
        for rule in rules:
            yield table, rule
    for (table, _), rule in spec.placed:
        yield table, rule


def owned_after(spec: RulesSpec, canonical: Canonical) -> Owned:
    """What an apply of ``spec`` owns, for the ledger."""
    return Owned(
        frozenset(key for key, _ in spec.chains),
        frozenset((t, c, render_line(c, canonical(r))) for (t, c), r in spec.placed),
    )


def plan_rules(
    spec: RulesSpec,
    live: Mapping[str, LiveTable],
    *,
    canonical: Canonical,
    owned: Owned = Owned(),
) -> SyncPlan:
    """The transaction that makes ``spec`` true in ``live``, touching only what the lab owns."""
    tx = Transaction()
    changes: list[Change] = []
    tables = [*spec.tables]
    for t, _ in owned.chains:
        if t not in tables:
            tables.append(t)
    for t, _, _ in owned.placed:
        if t not in tables:
            tables.append(t)
    for table in tables:
        _table(tx, changes, spec, table, live.get(table, LiveTable()), canonical, owned)
    return SyncPlan(tx, tuple(changes))


def _table(  # noqa: PLR0917 - the plan's parts, passed down from plan_rules
    tx: Transaction,
    changes: list[Change],
    spec: RulesSpec,
    table: str,
    have: LiveTable,
    canonical: Canonical,
    owned: Owned,
) -> None:
    want = {
        chain: [render_line(chain, canonical(rule)) for rule in rules]
        for (t, chain), rules in spec.chains
        if t == table
    }
    kept = [chain for t, chain in spec.kept if t == table]
    for chain in [*want, *kept]:
        if chain not in have.chains:
            tx.new_chain(table, chain)
            changes.append(Change("create", table, chain))
    _placed(tx, changes, spec, table, have, canonical, owned)
    for chain, lines in want.items():
        changes.extend(edit_chain(tx, table, chain, have.lines.get(chain, []), lines))
    obsolete = sorted(
        chain
        for t, chain in owned.chains
        if t == table and chain not in want and chain in have.chains and chain not in kept
    )
    for chain in obsolete:
        tx.flush_chain(table, chain)
    for chain in obsolete:
        tx.delete_chain(table, chain)
        changes.append(Change("delete", table, chain))
    for (t, chain), policy in spec.policies:
        if t == table and have.policies.get(chain, "ACCEPT") != policy:
            tx.change_policy(table, chain, policy)
            changes.append(Change("policy", table, chain, policy))


def _placed(  # noqa: PLR0917 - the plan's parts, passed down from plan_rules
    tx: Transaction,
    changes: list[Change],
    spec: RulesSpec,
    table: str,
    have: LiveTable,
    canonical: Canonical,
    owned: Owned,
) -> None:
    """Rules in chains the lab does not own: add the missing; remove those it placed and no longer wants."""
    placed = [(chain, render_line(chain, canonical(rule))) for (t, chain), rule in spec.placed if t == table]
    wanted = set(placed)
    for chain, line in placed:
        if line not in have.lines.get(chain, ()):
            tx.append_line(table, chain, line)
            changes.append(Change("add", table, chain, line))
    for t, chain, line in sorted(owned.placed):
        if t == table and (chain, line) not in wanted and line in have.lines.get(chain, ()):
            tx.delete_line(table, chain, line)
            changes.append(Change("remove", table, chain, line))
