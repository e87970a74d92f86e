"""The printed form of a rule, from the tool itself, when ``canonical()`` cannot derive it.

Owns: ``ToolCanonical``, which answers "what does iptables-save print for
this rule?" by asking the real tool: the rules go into one
``iptables-restore`` in a private scratch namespace (``Runner.scratch``:
unnamed, gone when the batch ends; the caller's namespace is never touched)
with the same backend and family, ``iptables-save`` is read back, and each
answer is kept by (table, rule). A batch the tool refuses is split until the
refused rules are found; each becomes a ``RuleError`` with the tool's reason.
And ``FallbackCanonical``: ``canonical()`` with this host's resolver first,
the tool for what that cannot derive (what ``sync`` and ``Snapshot`` use).
Does not own: deriving forms (``canonical``) or running programs (``exec``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from vnetkit.errors import CannotDerive, ParseError, RuleError, VnetkitError
from vnetkit.exec.classify import first_error_line
from vnetkit.exec.runner import Runner
from vnetkit.iptables.canonical import TARGETS, Resolver, canonical
from vnetkit.iptables.canonical._values import check_text
from vnetkit.iptables.names import check_chain
from vnetkit.iptables.rules import line_chain, parse_rule_line, render_line, rule_args
from vnetkit.iptables.text import join_args
from vnetkit.model import Rule

__all__ = ["FallbackCanonical", "ToolCanonical"]

Family = Literal["ipv4", "ipv6"]
Backend = Literal["nft", "legacy"]

_CHAIN = "VNK-CANON"
_SEEN_LIMIT = 1 << 18
_BASE = {"ipv4": "iptables", "ipv6": "ip6tables"}


def _sets(rule: Rule) -> set[str]:
    """ipset names the rule refers to (``-m set --match-set``, ``-j SET --add-set``...)."""
    names = set()
    for options in (*(m.options for m in rule.matches), rule.target.options if rule.target else ()):
        for opt in options:
            if opt.name in ("--match-set", "--add-set", "--del-set", "--map-set") and opt.values:
                names.add(opt.values[0])
    return names


def _chains(rule: Rule) -> set[str]:
    """User chains the rule jumps to: a target no extension defines, given without options."""
    target = rule.target
    if target is None or target.options or target.name in TARGETS:
        return set()
    try:
        return {check_chain(target.name)}
    except RuleError:
        return set()


class ToolCanonical:
    """Answers from ``<iptables>-restore`` + ``-save`` in a scratch namespace, remembered.

    ``batches`` counts the scratch namespaces used (each batch is one), for
    tests and benchmarks.
    """

    def __init__(self, runner: Runner, *, family: Family, backend: Backend) -> None:
        self._runner = runner
        self._family: Family = family
        self._binary = f"{_BASE[family]}-{backend}"
        self._answers: dict[tuple[str, Rule], Rule | RuleError] = {}
        self.batches = 0

    def known(self, table: str, rule: Rule) -> bool:
        return (table, rule) in self._answers

    def printed(self, table: str, rule: Rule) -> Rule:
        """The rule as iptables-save prints it in ``table`` (asks the tool when not known yet)."""
        self.ask([(table, rule)])
        answer = self._answers[(table, rule)]
        if isinstance(answer, RuleError):
            raise answer
        return answer

    def ask(self, items: Iterable[tuple[str, Rule]]) -> None:
        """Learn the printed form of every (table, rule) not known yet, in one scratch namespace."""
        todo = list(dict.fromkeys(item for item in items if item not in self._answers))
        if not todo:
            return
        ready: list[tuple[str, Rule]] = []
        for table, rule in todo:
            try:
                for arg in rule_args(rule):
                    check_text(arg, "rule")  # a control character would break the save line
            except RuleError as exc:
                self._answers[(table, rule)] = exc
                continue
            ready.append((table, rule))
        if not ready:
            return
        self.batches += 1
        with self._runner.scratch() as scratch:
            self._setup(scratch, ready)
            self._solve(scratch, ready)

    # ------------------------------------------------------------ in the scratch namespace

    def _setup(self, scratch: Runner, items: Sequence[tuple[str, Rule]]) -> None:
        family = "inet" if self._family == "ipv4" else "inet6"
        for name in sorted({name for _, rule in items for name in _sets(rule)}):
            scratch.run(("ipset", "create", name, "hash:ip", "family", family))

    def _text(self, items: Sequence[tuple[str, Rule]]) -> str:
        by_table: dict[str, list[Rule]] = {}
        for table, rule in items:
            by_table.setdefault(table, []).append(rule)
        out: list[str] = []
        for table, rules in by_table.items():
            chains = sorted({chain for rule in rules for chain in _chains(rule)} - {_CHAIN})
            out += [f"*{table}", f":{_CHAIN} - [0:0]", *(f":{chain} - [0:0]" for chain in chains)]
            out += [render_line(_CHAIN, rule) for rule in rules]
            out.append("COMMIT")
        return "\n".join(out) + "\n"

    def _solve(self, scratch: Runner, items: Sequence[tuple[str, Rule]]) -> None:
        """Restore ``items`` (replacing the scratch tables), read them back; split on refusal."""
        done = scratch.run((f"{self._binary}-restore", "-w"), input=self._text(items))
        if done.returncode != 0:
            if len(items) == 1:
                self._refused(scratch, *items[0], first_error_line(done.stderr))
                return
            half = len(items) // 2
            self._solve(scratch, items[:half])
            self._solve(scratch, items[half:])
            return
        saved = scratch.run((f"{self._binary}-save",))
        if saved.returncode != 0:
            why = first_error_line(saved.stderr)
            raise VnetkitError(f"{self._binary}-save in a scratch namespace: {why}")
        printed: dict[str, list[str]] = {}
        table = ""
        for line in saved.stdout.splitlines():
            if line.startswith("*"):
                table = line[1:].strip()
            elif line.startswith("-A ") and line_chain(line) == _CHAIN:
                printed.setdefault(table, []).append(line)
        position: dict[str, int] = {}
        lines_of = {t: len([1 for tt, _ in items if tt == t]) for t, _ in items}
        for table, rule in items:
            lines = printed.get(table, [])
            if len(lines) != lines_of[table]:  # one rule printed as several lines: ask one by one
                if len(items) == 1:
                    self._answers[(table, rule)] = RuleError(
                        f"{self._binary} adds {' '.join(rule_args(rule))!r} as {len(lines)} rules, not one"
                    )
                    continue
                for item in items:
                    self._solve(scratch, [item])
                return
            k = position.get(table, 0)
            position[table] = k + 1
            try:
                self._answers[(table, rule)] = parse_rule_line(lines[k])[1]
            except (ParseError, RuleError) as exc:
                self._answers[(table, rule)] = RuleError(f"{self._binary}-save printed {lines[k]!r}: {exc}")

    def _refused(self, scratch: Runner, table: str, rule: Rule, reason: str) -> None:
        # iptables-legacy-restore names only the line; one -A gives the tool's reason.
        done = scratch.run((self._binary, "-w", "-t", table, "-A", _CHAIN, *rule_args(rule)))
        why = first_error_line(done.stderr) or reason or f"exit status {done.returncode}"
        self._answers[(table, rule)] = RuleError(
            f"{self._binary} refuses {join_args(rule_args(rule))!r} in table {table}: {why}",
            argv=done.argv,
            exit_status=done.returncode,
            stderr=done.stderr,
        )


class FallbackCanonical:
    """``canonical()`` for one family and backend with this host's resolver, and the tool behind it.

    Call it like ``canonical`` (``Rule -> Rule``). A rule it cannot derive is
    answered by the tool: ``prefetch`` learns a batch of them at once (what
    ``sync`` and ``Snapshot`` do before comparing); one not prefetched is
    asked alone, in the filter table.
    """

    def __init__(self, runner: Runner, *, family: Family, backend: Backend, resolver: Resolver) -> None:
        self.family: Family = family
        self.backend: Backend = backend
        self.resolver = resolver
        self.tool = ToolCanonical(runner, family=family, backend=backend)
        self._table_of: dict[Rule, str] = {}
        # Rules already answered, by identity (each kept alive, so an id is not reused while
        # here): a re-sync of a large, mostly unchanged state looks each up once, without
        # hashing the nested rule values again. Emptied past _SEEN_LIMIT.
        self._seen: dict[int, Rule] = {}
        # canonical() remembered per rule value: a re-sync of a large state costs a lookup per
        # unchanged rule. Emptied past _SEEN_LIMIT.
        self._derived: dict[Rule, Rule] = {}

    def derive(self, rule: Rule) -> Rule:
        """canonical() alone: ``CannotDerive`` when the tool would have to answer."""
        found = self._derived.get(rule)
        if found is None:
            if len(self._derived) > _SEEN_LIMIT:
                self._derived.clear()
            found = self._derived[rule] = canonical(
                rule, family=self.family, backend=self.backend, resolver=self.resolver
            )
        return found

    def prefetch(self, items: Iterable[tuple[str, Rule]]) -> None:
        """Ask the tool, in one batch, for every (table, rule) canonical() cannot derive."""
        pending: list[tuple[str, Rule]] = []
        seen = self._seen
        if len(seen) > _SEEN_LIMIT:
            seen.clear()
        for table, rule in items:
            if seen.get(id(rule)) is rule:
                continue
            try:
                self.derive(rule)
                seen[id(rule)] = rule
            except CannotDerive:
                pending.append((table, rule))
                self._table_of.setdefault(rule, table)
            except RuleError:
                continue  # raised again, with its context, when the rule is compared
        self.tool.ask(pending)

    def __call__(self, rule: Rule) -> Rule:
        try:
            return self.derive(rule)
        except CannotDerive:
            return self.tool.printed(self._table_of.get(rule, "filter"), rule)
