"""Desired-state sync: make the chains we own look exactly as declared, touching nothing else.

Owns: ``Desired`` (owned chains by prefix, their rules, and the jump rules
they need in chains we do not own), ``plan_sync`` (a pure diff of a desired
state against a live ruleset, as a ``Transaction`` plus a readable plan), and
reading a desired state from an iptables-save style file. This is the
kube-proxy / Neutron pattern: compute, diff, apply the difference in one
iptables-restore.

The diff is by rule, per chain, with positions: unchanged rules are never
rewritten (their counters stay), other tools' rules in shared chains keep
their places, and a second sync of the same state plans nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from vnetkit.errors import ConfigError
from vnetkit.iptables.names import check_chain, check_table, is_builtin
from vnetkit.iptables.rules import render_line
from vnetkit.iptables.savefile import parse_save
from vnetkit.iptables.transaction import Transaction
from vnetkit.model import Rule, Ruleset, Table

__all__ = ["Change", "Desired", "Jump", "SyncPlan", "desired_from_save", "plan_sync"]

Canonical = Callable[[Rule], Rule]


def _identity(rule: Rule) -> Rule:
    return rule


@dataclass(frozen=True, slots=True)
class Jump:
    """A rule we need in a chain we do not own (normally a built-in chain) that targets one we own.

    ``position`` 1 inserts a missing jump at the top; None appends it. An
    existing jump is left where it is.
    """

    table: str
    chain: str
    rule: Rule
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Desired:
    """Everything we own: chains named ``prefix...`` with their rules, and our jumps.

    ``chains`` maps (table, chain) to its rules in order. Owned chains that
    exist but are not listed are deleted by a sync, and so are jumps to owned
    chains that are not listed in ``jumps``.
    """

    prefix: str
    chains: Mapping[tuple[str, str], Sequence[Rule]] = field(default_factory=dict)
    jumps: Sequence[Jump] = ()

    def __post_init__(self) -> None:
        if not self.prefix:
            raise ConfigError("a desired state needs a non-empty chain prefix (e.g. 'VNK-')")
        for table, chain in self.chains:
            check_table(table)
            check_chain(chain)
            if not chain.startswith(self.prefix):
                raise ConfigError(
                    f"chain {chain} of table {table} does not start with the owned prefix {self.prefix!r}"
                )
        for jump in self.jumps:
            check_table(jump.table)
            if jump.chain.startswith(self.prefix):
                raise ConfigError(
                    f"jump in chain {jump.chain}: that chain is owned; put its rules in `chains`"
                )
            if not self.targets_owned(jump.rule):
                raise ConfigError(
                    f"rule in chain {jump.chain} of table {jump.table} does not jump to a chain "
                    f"starting with {self.prefix!r}; sync only manages rules that lead to chains it owns"
                )

    def targets_owned(self, rule: Rule) -> bool:
        """True if ``rule`` jumps (or goes) to a chain with our prefix."""
        return rule.target is not None and rule.target.name.startswith(self.prefix)

    @property
    def tables(self) -> list[str]:
        """The tables this state involves, in a stable order."""
        seen = dict.fromkeys(table for table, _ in self.chains)
        seen.update(dict.fromkeys(jump.table for jump in self.jumps))
        return list(seen)


@dataclass(frozen=True, slots=True)
class Change:
    """One planned change: ``add``/``remove`` a rule, ``create``/``delete`` a chain."""

    action: str
    table: str
    chain: str
    rule: str = ""


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a sync would do: the transaction to apply and the changes it makes."""

    transaction: Transaction
    changes: tuple[Change, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)


@dataclass
class _Planner:
    """Accumulates one plan: the transaction and the readable changes, table by table."""

    desired: Desired
    canonical: Canonical
    tx: Transaction = field(default_factory=Transaction)
    changes: list[Change] = field(default_factory=list)

    def table(self, name: str, table: Table | None) -> None:
        live_chains = {c.name for c in table.chains} if table is not None else set()
        rules: dict[str, list[Rule]] = {}
        for entry in table.rules if table is not None else ():
            rules.setdefault(entry.chain, []).append(entry.rule)
        want = {
            chain: [self.canonical(r) for r in chain_rules]
            for (t, chain), chain_rules in self.desired.chains.items()
            if t == name
        }
        for chain in want:
            if chain not in live_chains:
                self.tx.new_chain(name, chain)
                self.changes.append(Change("create", name, chain))
        for chain, want_rules in want.items():
            self.chain(name, chain, rules.get(chain, []), want_rules)
        self.jumps(name, rules)
        obsolete = sorted(c for c in live_chains if c.startswith(self.desired.prefix) and c not in want)
        for chain in obsolete:
            self.tx.flush_chain(name, chain)
        for chain in obsolete:
            self.tx.delete_chain(name, chain)
            self.changes.append(Change("delete", name, chain))

    def chain(self, table: str, chain: str, live: Sequence[Rule], want: Sequence[Rule]) -> None:
        """Edit ``live`` into ``want`` with -D/-I by position, from the bottom up so positions hold."""
        if list(live) == list(want):
            return
        matcher = difflib.SequenceMatcher(a=live, b=want, autojunk=False)
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                continue
            for pos in range(i2, i1, -1):  # delete or replace: remove live[i1:i2]
                self.tx.delete_by_id(table, chain, pos)
                self.changes.append(Change("remove", table, chain, render_line(chain, live[pos - 1])))
            for k in range(j1, j2):  # insert or replace: add want[j1:j2] at i1
                self.tx.insert(table, chain, i1 + 1 + (k - j1), want[k])
                self.changes.append(Change("add", table, chain, render_line(chain, want[k])))

    def jumps(self, table: str, rules: Mapping[str, list[Rule]]) -> None:
        """Add missing jumps; remove jumps to owned chains that are no longer wanted."""
        wanted = [(j, self.canonical(j.rule)) for j in self.desired.jumps if j.table == table]
        for jump, rule in wanted:
            if rule in rules.get(jump.chain, ()):
                continue
            if jump.position is None:
                self.tx.append(table, jump.chain, rule)
            else:
                self.tx.insert(table, jump.chain, jump.position, rule)
            self.changes.append(Change("add", table, jump.chain, render_line(jump.chain, rule)))
        keep = {(jump.chain, rule) for jump, rule in wanted}
        for chain, chain_rules in rules.items():
            if chain.startswith(self.desired.prefix):
                continue
            for rule in chain_rules:
                if self.desired.targets_owned(rule) and (chain, rule) not in keep:
                    self.tx.delete(table, chain, rule)
                    self.changes.append(Change("remove", table, chain, render_line(chain, rule)))


def plan_sync(desired: Desired, live: Ruleset, *, canonical: Canonical = _identity) -> SyncPlan:
    """The transaction that turns ``live`` into ``desired`` for what we own; empty when they agree.

    ``canonical`` maps a desired rule to the form iptables-save prints, so it
    compares equal to the live rule it describes.
    """
    planner = _Planner(desired, canonical)
    owned = {t.name for t in live.tables if any(c.name.startswith(desired.prefix) for c in t.chains)}
    for name in sorted({*desired.tables, *owned}):
        planner.table(name, live.table(name))
    return SyncPlan(planner.tx, tuple(planner.changes))


def desired_from_save(text: str, *, prefix: str, source: str = "desired state") -> Desired:
    """A desired state from an iptables-save style file.

    Chains named ``prefix...`` are owned: their rules are exactly the file's.
    Rules in other chains (built-in ones) are jumps we need; each must target
    an owned chain. Policies and counters in the file are ignored.
    """
    ruleset = parse_save(text, source=source)
    chains: dict[tuple[str, str], list[Rule]] = {}
    jumps: list[Jump] = []
    for table in ruleset.tables:
        for chain in table.chains:
            if chain.name.startswith(prefix):
                chains.setdefault((table.name, chain.name), [])
            elif not is_builtin(table.name, chain.name):
                raise ConfigError(
                    f"{source}: chain {chain.name} of table {table.name} is not owned (prefix {prefix!r})"
                )
        for entry in table.rules:
            if entry.chain.startswith(prefix):
                chains.setdefault((table.name, entry.chain), []).append(entry.rule)
            else:
                jumps.append(Jump(table.name, entry.chain, entry.rule))
    return Desired(prefix, chains, tuple(jumps))
