"""Collect many changes and write them as one ``iptables-restore --noflush`` input.

Owns: ``Transaction``, which records appends, inserts, deletes and chain
operations across tables as restore lines, remembers which call made each
line (so a failure at "line 12" names the call), and checks jump targets
against the chains that will exist. Bookkeeping costs about a microsecond a
call. Does not own: running iptables-restore or rolling back (``client``).
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from vnetkit.errors import RuleError
from vnetkit.iptables.names import BUILTIN_CHAINS, check_chain, check_policy, check_position, check_table
from vnetkit.iptables.rules import parse_rule, render_line, rule_args
from vnetkit.iptables.text import QUOTED_OPTIONS, join_args, split_line
from vnetkit.model import Rule

__all__ = ["Op", "Transaction", "jump_targets"]

Spec = tuple[str, ...] | tuple[Rule]

_STANDARD_TARGETS = frozenset({"ACCEPT", "DROP", "RETURN", "QUEUE"})
_SPEC = operator.itemgetter(1)  # the spec of a deferred append (chain, spec)
# One pass for every option whose value iptables quotes (11 substring scans cost 7x more).
_QUOTED_OPTION = re.compile("|".join(re.escape(option) for option in sorted(QUOTED_OPTIONS)))
# Lines rendered per piece of a streamed restore input (the first piece smaller).
_FIRST_CHUNK, _CHUNK = 256, 2048


@dataclass(frozen=True, slots=True)
class Op:
    """One recorded call: the verb and arguments as the caller gave them."""

    verb: str
    table: str
    args: tuple[object, ...]

    def describe(self) -> str:
        """``append('filter', 'INPUT', '-j', 'DROP')``, for error messages."""
        shown = ", ".join(
            repr(arg) if not isinstance(arg, Rule) else repr(rule_args(arg)) for arg in self.args
        )
        return f"{self.verb}({self.table!r}, {shown})"


def _line(verb: str, chain: str, spec: Sequence[str | Rule], extra: tuple[str, ...] = ()) -> str:
    """A restore line for a rule given as strings or as one ``Rule``."""
    head = f"{verb} {chain} {' '.join(extra)}" if extra else f"{verb} {chain}"
    if len(spec) == 1 and isinstance(spec[0], Rule):
        return render_line(head.split(" ", 1)[1], spec[0], verb=verb)
    if not spec:
        raise RuleError(f"{verb} {chain}: the rule is empty")
    try:
        return f"{head} {join_args(spec)}"  # type: ignore[arg-type]
    except TypeError:
        raise RuleError(f"rule arguments must be strings (or one Rule), got {list(spec)!r}") from None


class Transaction:
    """Changes to apply together; see :meth:`IPTables.transaction`.

    Methods mirror the client's verbs. Nothing runs until the transaction is
    applied; then either every change is made or none is.
    """

    def __init__(self) -> None:
        # Per table, restore lines in order; a plain append is kept as its spec
        # (the tuple of strings it was given) and turned into its line in bulk by
        # _materialize. Its chain is in _runs: (first line, chain) each time the
        # chain of plain appends changes, so an append stores nothing but its spec
        # (no new object the garbage collector must track: 10,000 appends would
        # otherwise trigger collections that cost more than the appends).
        self._lines: dict[str, list[str | tuple[str, ...]]] = {}
        self._runs: dict[str, list[tuple[int, str]]] = {}
        # The table, chain and lines of the latest plain append: the next one to the
        # same chain only appends its spec.
        self._hot: tuple[str, str, list[str | tuple[str, ...]]] | None = None
        # Per table, line number -> the call that made it as (verb, args), for
        # every line but the deferred appends (their call is what _given keeps);
        # an Op is built only when an error or a check needs it.
        self._calls: dict[str, dict[int, tuple[str, tuple[object, ...]]]] = {}
        self._given: dict[str, list[str | tuple[str, ...]]] = {}
        self._chains_ok: set[str] = set()

    def _add(self, verb: str, table: str, line: str, args: tuple[object, ...]) -> None:
        lines = self._lines.get(table)
        if lines is None:
            check_table(table)
            lines = self._lines[table] = []
            self._calls[table] = {}
            self._runs[table] = []
        self._calls[table][len(lines)] = (verb, args)
        lines.append(line)

    def _op(self, table: str, k: int) -> Op:
        call = self._calls[table].get(k)
        if call is None:  # a deferred append: its chain and spec as they were given
            given = self._given[table][k]
            if isinstance(given, tuple):
                return Op("append", table, (self._chain_at(table, k), *given))
        return Op(call[0], table, call[1])  # type: ignore[index]

    def _chain_at(self, table: str, k: int) -> str:
        """The chain of the deferred append at line ``k``: that of the latest run started at or before it."""
        runs = self._runs[table]
        return runs[bisect.bisect_right(runs, (k, "\U0010ffff")) - 1][1]

    def _materialize(self, table: str, start: int = 0, stop: int | None = None) -> list[str]:
        """Turn the deferred appends among lines ``start:stop`` into lines; return all the lines.

        One join per rule, then a few C-speed scans over the block: when they
        show no argument needs quoting (no quote, backslash, tab or empty
        argument, exactly one space between arguments, no quoted option),
        the bare lines stand; otherwise each deferred rule is rendered
        carefully.
        """
        items = self._lines.get(table, [])
        end = len(items) if stop is None else stop
        block = items[start:end]
        if not any(type(x) is tuple for x in block):
            return items  # type: ignore[return-value]
        # What each call gave, for error messages. Lines are only ever appended,
        # so entries recorded by an earlier render stay valid.
        given = self._given.get(table, [])
        if len(given) < end:
            self._given[table] = given + items[len(given) :]
        # The block in segments of one chain each (a run starts a segment).
        runs = self._runs[table]
        cuts = [start, *(first for first, _ in runs if start < first < end), end]
        segments = [
            (self._chain_at(table, a) if runs and runs[0][0] <= a else "", a, b)
            for a, b in itertools.pairwise(cuts)
        ]
        pending = [(chain, x) for chain, a, b in segments for x in items[a:b] if type(x) is tuple]
        try:
            built = [
                line
                for chain, a, b in segments
                for line in map(
                    f"-A {chain} ".__add__, map(" ".join, [x for x in items[a:b] if type(x) is tuple])
                )
            ]
            text = "\n".join(built)
            fine = (
                '"' not in text
                and "\\" not in text
                and "  " not in text
                and "\t" not in text
                and "\r" not in text
                and " \n" not in text
                and not text.endswith(" ")
                and text.count("\n") == len(built) - 1
                and text.count(" ") == len(built) + sum(map(len, map(_SPEC, pending)))
                and _QUOTED_OPTION.search(text) is None
            )
        except TypeError:  # a non-string argument: the careful path names it
            fine = False
        if not fine:
            built = [_line("-A", chain, spec) for chain, spec in pending]
        if len(built) == len(block):  # appends only, the bulk-load case
            items[start:end] = built
        else:
            lines = iter(built)
            items[start:end] = [next(lines) if type(x) is tuple else x for x in block]
        return items  # type: ignore[return-value]

    def _chain(self, chain: str) -> str:
        if chain not in self._chains_ok:
            check_chain(chain)
            self._chains_ok.add(chain)
        return chain

    # -- rules ----------------------------------------------------------------

    def append(self, table: str, chain: str, *spec: str | Rule) -> None:
        """Append a rule (``-A``)."""
        # The hot path of bulk loads: remember the spec; the line is built with
        # the others in _materialize (a few C-speed passes for all).
        hot = self._hot
        if hot is not None and hot[1] == chain and hot[0] == table and spec and type(spec[0]) is not Rule:
            hot[2].append(spec)  # type: ignore[arg-type]
            return
        lines = self._lines.get(table)
        if lines is None or chain not in self._chains_ok or not spec or type(spec[0]) is Rule:
            self._add("append", table, _line("-A", self._chain(chain), spec), (chain, *spec))
            return
        runs = self._runs[table]
        if not runs or runs[-1][1] != chain:
            runs.append((len(lines), chain))
        lines.append(spec)  # type: ignore[arg-type]
        self._hot = (table, chain, lines)

    def insert(self, table: str, chain: str, pos: int, *spec: str | Rule) -> None:
        """Insert a rule at 1-based ``pos`` (``-I``)."""
        extra = (str(check_position(pos)),)
        self._add("insert", table, _line("-I", self._chain(chain), spec, extra), (chain, pos, *spec))

    def replace(self, table: str, chain: str, pos: int, *spec: str | Rule) -> None:
        """Replace the rule at 1-based ``pos`` (``-R``)."""
        extra = (str(check_position(pos)),)
        self._add("replace", table, _line("-R", self._chain(chain), spec, extra), (chain, pos, *spec))

    def delete(self, table: str, chain: str, *spec: str | Rule) -> None:
        """Delete the first rule matching ``spec`` (``-D``); the transaction fails if there is none."""
        self._add("delete", table, _line("-D", self._chain(chain), spec), (chain, *spec))

    def delete_by_id(self, table: str, chain: str, id: int) -> None:
        """Delete rule number ``id`` (``-D CHAIN N``)."""
        self._add("delete_by_id", table, f"-D {self._chain(chain)} {check_position(id)}", (chain, id))

    # Save lines as they are (a sync diffs iptables-save lines and replays them).

    def append_line(self, table: str, chain: str, line: str) -> None:
        """Append the rule of a save line ``-A CHAIN ...``."""
        self._add("append", table, line, (chain, line))

    def insert_line(self, table: str, chain: str, pos: int, line: str) -> None:
        """Insert the rule of a save line ``-A CHAIN ...`` at ``pos``."""
        rest = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        self._add(
            "insert", table, f"-I {self._chain(chain)} {check_position(pos)} {rest}", (chain, pos, line)
        )

    def replace_line(self, table: str, chain: str, pos: int, line: str) -> None:
        """Replace rule ``pos`` with the rule of a save line ``-A CHAIN ...``."""
        rest = line.split(" ", 2)[2] if line.count(" ") >= 2 else ""
        self._add(
            "replace", table, f"-R {self._chain(chain)} {check_position(pos)} {rest}", (chain, pos, line)
        )

    def delete_line(self, table: str, chain: str, line: str) -> None:
        """Delete the rule of a save line ``-A CHAIN ...`` (the first that matches)."""
        self._add("delete", table, "-D" + line[2:], (chain, line))

    # -- chains -----------------------------------------------------------------

    def new_chain(self, table: str, chain: str) -> None:
        """Create a user chain (``-N``); the transaction fails if it exists."""
        self._add("new_chain", table, f"-N {self._chain(chain)}", (chain,))

    def clear_chain(self, table: str, chain: str) -> None:
        """Create the chain, or flush it if it exists (a ``:CHAIN`` declaration)."""
        if chain in BUILTIN_CHAINS.get(table, ()):
            self.flush_chain(table, chain)
            return
        self._add("clear_chain", table, f":{self._chain(chain)} - [0:0]", (chain,))

    def flush_chain(self, table: str, chain: str) -> None:
        """Delete every rule of an existing chain (``-F``)."""
        self._add("flush_chain", table, f"-F {self._chain(chain)}", (chain,))

    def delete_chain(self, table: str, chain: str) -> None:
        """Delete an empty, unreferenced user chain (``-X``)."""
        if chain in BUILTIN_CHAINS.get(table, ()):
            raise RuleError(f"cannot delete chain {chain} of table {table}: it is a built-in chain")
        self._add("delete_chain", table, f"-X {self._chain(chain)}", (chain,))

    def rename_chain(self, table: str, old: str, new: str) -> None:
        """Rename a user chain (``-E``)."""
        self._add("rename_chain", table, f"-E {self._chain(old)} {self._chain(new)}", (old, new))

    def change_policy(self, table: str, chain: str, target: str) -> None:
        """Set a built-in chain's policy (``-P``)."""
        if chain not in BUILTIN_CHAINS.get(check_table(table), ()):
            raise RuleError(
                f"cannot set the policy of chain {chain} of table {table}: only built-in chains have one",
                choices=BUILTIN_CHAINS[table],
            )
        self._add("change_policy", table, f"-P {chain} {check_policy(target)}", (chain, target))

    # -- output -----------------------------------------------------------------

    def __len__(self) -> int:
        return sum(len(lines) for lines in self._lines.values())

    @property
    def tables(self) -> list[str]:
        """The tables this transaction touches, in first-use order."""
        return list(self._lines)

    def render(self, tables: Iterable[str] | None = None) -> str:
        """The iptables-restore input (for ``--noflush``), table by table."""
        return "".join(self.chunks(tables))

    def chunks(self, tables: Iterable[str] | None = None) -> Iterator[str]:
        """:meth:`render`'s text in pieces, each made when asked for.

        Fed to iptables-restore as they come, the rendering of later lines
        overlaps the tool's parsing of earlier ones (the tool reads its input
        line by line, and commits only at ``COMMIT``); the first piece is small
        so that the tool starts early.
        """
        for table in self._lines if tables is None else tables:
            yield f"*{table}\n"
            count = len(self._lines.get(table, ()))
            start, size = 0, _FIRST_CHUNK
            while start < count:
                stop = min(start + size, count)
                lines = self._materialize(table, start, stop)
                yield "\n".join(lines[start:stop]) + "\n"
                start, size = stop, _CHUNK
            yield "COMMIT\n"

    def op_at(self, line: int, tables: Iterable[str] | None = None) -> Op | None:
        """The call that produced 1-based ``line`` of :meth:`render` (None for ``*table``/COMMIT)."""
        first = 1
        for table in self._lines if tables is None else tables:
            count = len(self._lines[table])
            if first < line <= first + count:
                return self._op(table, line - first - 1)
            first += count + 2
        return None

    def check_references(self, table: str, existing: Collection[str], targets: Collection[str]) -> None:
        """Raise RuleError for a jump to a chain that will not exist.

        ``existing`` are the table's chains now; ``targets`` the names of the
        installed target extensions. (``iptables-nft-restore --test`` accepts a
        jump to an undefined chain, so this is checked here.)
        """
        chains = set(existing)
        for k, line in enumerate(self._materialize(table)):
            op = self._op(table, k)
            if op.verb in ("new_chain", "clear_chain"):
                chains.add(str(op.args[0]))
            elif op.verb == "rename_chain":
                chains.add(str(op.args[1]))
            for target in jump_targets(line):
                if target not in chains and target not in _STANDARD_TARGETS and target not in targets:
                    raise RuleError(
                        f"{op.describe()}: jump to chain {target!r}, which does not exist in table {table}"
                    )


def jump_targets(line: str) -> list[str]:
    """The chain or target a restore line's rule jumps or goes to (none, or one).

    The rule is read with the rule grammar, so ``-j X`` inside a comment or a
    log prefix is a value, not a jump.
    """
    words = split_line(line)
    if len(words) < 3 or words[0] not in ("-A", "-I", "-R", "-D"):
        return []
    spec = words[3:] if words[0] in ("-I", "-R") and words[2].isdecimal() else words[2:]
    try:
        target = parse_rule(spec).target
    except RuleError:
        return []  # not a rule the grammar reads: the restore names the line
    return [] if target is None else [target.name]
