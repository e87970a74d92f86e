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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from vnetkit.errors import ConfigError, ParseError, RuleError
from vnetkit.iptables.names import check_chain, check_table, is_builtin
from vnetkit.iptables.rules import line_chain, normal_line, parse_rule_line, render_line
from vnetkit.iptables.savefile import parse_save
from vnetkit.iptables.transaction import Transaction
from vnetkit.model import Rule, Ruleset

__all__ = [
    "Change",
    "Desired",
    "Jump",
    "LiveTable",
    "RenderCache",
    "SyncPlan",
    "desired_from_save",
    "edit_chain",
    "live_from_ruleset",
    "live_from_save",
    "plan_sync",
]

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

    def rules(self) -> Iterator[tuple[str, Rule]]:
        """Every desired rule with its table: the owned chains' rules, then the jumps."""
        for (table, _), chain_rules in self.chains.items():
            for rule in chain_rules:
                yield table, rule
        for jump in self.jumps:
            yield jump.table, jump.rule

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
class LiveTable:
    """What a sync needs of one live table: its chains and each chain's rules as save lines."""

    chains: set[str] = field(default_factory=set)
    lines: dict[str, list[str]] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)


def live_from_ruleset(ruleset: Ruleset) -> dict[str, LiveTable]:
    """Tables of a parsed ruleset in the form :func:`plan_sync` diffs."""
    out: dict[str, LiveTable] = {}
    for table in ruleset.tables:
        live = out[table.name] = LiveTable({c.name for c in table.chains})
        for entry in table.rules:
            live.lines.setdefault(entry.chain, []).append(render_line(entry.chain, entry.rule))
    return out


def live_from_save(text: str) -> dict[str, LiveTable]:
    """Tables straight from iptables-save text (no counters), without parsing every rule.

    A sync compares rules as the lines iptables-save prints; parsing them
    into ``Rule`` values first would cost most of the time of a large sync.
    """
    out: dict[str, LiveTable] = {}
    current: LiveTable | None = None
    for line in text.splitlines():
        if line.startswith("-A "):
            if current is not None:
                current.lines.setdefault(line_chain(line), []).append(normal_line(line))
        elif line.startswith(":"):
            if current is not None:
                name, _, rest = line[1:].partition(" ")
                current.chains.add(name)
                policy = rest.split(" ", 1)[0]
                if policy != "-":
                    current.policies[name] = policy
        elif line.startswith("*"):
            current = out.setdefault(line[1:].strip(), LiveTable())
    return out


def jumps_to_owned(line: str, prefix: str) -> bool:
    """True if the save line's rule jumps or goes to a chain named ``prefix...``.

    The line is read with the rule grammar (:func:`parse_rule_line`): text in
    a comment, a log prefix or a string match that looks like ``-j VNK-X`` is
    a value, not a target. A line without ``-j PREFIX``/``-g PREFIX`` anywhere
    cannot jump to an owned chain and is not parsed at all; a line the grammar
    cannot read is never ours.
    """
    if f"-j {prefix}" not in line and f"-g {prefix}" not in line:
        return False
    try:
        rule = parse_rule_line(line)[1]
    except (ParseError, RuleError):
        return False
    return rule.target is not None and rule.target.name.startswith(prefix)


def edit_chain(
    tx: Transaction, table: str, chain: str, live: Sequence[str], want: Sequence[str]
) -> list[Change]:
    """Add to ``tx`` the edits that turn chain ``live`` into ``want`` (save lines); return the changes.

    -D/-I/-R by position, from the bottom up so positions hold; lines equal
    at both ends are never rewritten (their counters stay).
    """
    changes: list[Change] = []
    if live == want:
        return changes
    # Trim what is equal at both ends; diff only the middle (usually a few lines).
    head = 0
    while head < min(len(live), len(want)) and live[head] == want[head]:
        head += 1
    tail = 0
    while tail < min(len(live), len(want)) - head and live[-1 - tail] == want[-1 - tail]:
        tail += 1
    a, b = live[head : len(live) - tail], want[head : len(want) - tail]
    if len(a) == len(b):
        # Same length: replace in place what differs (-R keeps positions;
        # cheaper than a general diff over the whole middle).
        for k, (have, need) in enumerate(zip(a, b, strict=True)):
            if have != need:
                tx.replace_line(table, chain, head + k + 1, need)
                changes.append(Change("remove", table, chain, have))
                changes.append(Change("add", table, chain, need))
        return changes
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if tag == "equal":
            continue
        for pos in range(i2, i1, -1):  # delete or replace: remove a[i1:i2]
            tx.delete_by_id(table, chain, head + pos)
            changes.append(Change("remove", table, chain, a[pos - 1]))
        for k in range(j1, j2):  # insert or replace: add b[j1:j2] at i1
            tx.insert_line(table, chain, head + i1 + 1 + (k - j1), b[k])
            changes.append(Change("add", table, chain, b[k]))
    return changes


class RenderCache:
    """Desired rule -> its canonical save text, by object identity.

    A controller re-syncs a state that is mostly the same ``Rule`` objects;
    looking them up by identity costs far less than hashing nested rule
    values or rendering them again. Entries keep their rule alive, so an id
    cannot be reused while cached; the cache empties itself past ``limit``.
    A client keeps one in its host (``Host.cache``) and passes it to
    :func:`plan_sync`; without one, each plan renders from scratch.
    """

    def __init__(self, limit: int = 1 << 18) -> None:
        self._entries: dict[int, tuple[Rule, Canonical, str]] = {}
        self._limit = limit

    def line(self, chain: str, rule: Rule, canonical: Canonical) -> str:
        entry = self._entries.get(id(rule))
        if entry is not None and entry[0] is rule and entry[1] == canonical:
            return f"-A {chain} {entry[2]}" if entry[2] else f"-A {chain}"
        text = render_line(chain, canonical(rule))
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[id(rule)] = (rule, canonical, text[len(chain) + 4 :])
        return text


@dataclass
class _Planner:
    """Accumulates one plan: the transaction and the readable changes, table by table."""

    desired: Desired
    canonical: Canonical
    rendered: RenderCache = field(default_factory=RenderCache)
    tx: Transaction = field(default_factory=Transaction)
    changes: list[Change] = field(default_factory=list)

    def table(self, name: str, live: LiveTable) -> None:
        line = self.rendered.line
        want = {
            chain: [line(chain, r, self.canonical) for r in chain_rules]
            for (t, chain), chain_rules in self.desired.chains.items()
            if t == name
        }
        for chain in want:
            if chain not in live.chains:
                self.tx.new_chain(name, chain)
                self.changes.append(Change("create", name, chain))
        for chain, want_lines in want.items():
            self.chain(name, chain, live.lines.get(chain, []), want_lines)
        self.jumps(name, live)
        obsolete = sorted(c for c in live.chains if c.startswith(self.desired.prefix) and c not in want)
        for chain in obsolete:
            self.tx.flush_chain(name, chain)
        for chain in obsolete:
            self.tx.delete_chain(name, chain)
            self.changes.append(Change("delete", name, chain))

    def chain(self, table: str, chain: str, live: Sequence[str], want: Sequence[str]) -> None:
        """Edit ``live`` into ``want`` (see :func:`edit_chain`)."""
        self.changes.extend(edit_chain(self.tx, table, chain, live, want))

    def jumps(self, table: str, live: LiveTable) -> None:
        """Add missing jumps; remove jumps to owned chains that are no longer wanted."""
        prefix = self.desired.prefix
        wanted = [
            (j, render_line(j.chain, self.canonical(j.rule))) for j in self.desired.jumps if j.table == table
        ]
        for jump, line in wanted:
            if line in live.lines.get(jump.chain, ()):
                continue
            if jump.position is None:
                self.tx.append_line(table, jump.chain, line)
            else:
                self.tx.insert_line(table, jump.chain, jump.position, line)
            self.changes.append(Change("add", table, jump.chain, line))
        keep = {(jump.chain, line) for jump, line in wanted}
        for chain, lines in live.lines.items():
            if chain.startswith(prefix):
                continue
            for line in lines:
                if (chain, line) not in keep and jumps_to_owned(line, prefix):
                    self.tx.delete_line(table, chain, line)
                    self.changes.append(Change("remove", table, chain, line))


def plan_sync(
    desired: Desired,
    live: Ruleset | Mapping[str, LiveTable],
    *,
    canonical: Canonical = _identity,
    cache: RenderCache | None = None,
) -> SyncPlan:
    """The transaction that turns ``live`` into ``desired`` for what we own; empty when they agree.

    ``live`` is a parsed ruleset or the tables of :func:`live_from_save`.
    ``canonical`` maps a desired rule to the form iptables-save prints, so it
    compares equal (as a save line) to the live rule it describes.
    """
    tables = live_from_ruleset(live) if isinstance(live, Ruleset) else live
    planner = _Planner(desired, canonical, cache if cache is not None else RenderCache())
    owned = {name for name, t in tables.items() if any(c.startswith(desired.prefix) for c in t.chains)}
    for name in sorted({*desired.tables, *owned}):
        planner.table(name, tables.get(name, LiveTable()))
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
