"""Whole-ruleset operations of ``IPTables``: save, restore, transactions.

Owns: running ``iptables-save`` and ``iptables-restore`` through the client's
funnel, applying a :class:`Transaction` all or nothing (one restore; when it
spans tables, the tables committed before a failure are restored from a
snapshot), and naming the call behind a failed restore line.
Does not own: the text formats (``savefile``, ``transaction``) or the verbs.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Literal

from vnetkit.errors import ApplyError, OperationError, VnetkitError
from vnetkit.exec.host import Host
from vnetkit.exec.journals import FileJournals, Journals, MemoryJournals
from vnetkit.exec.resolver import HostResolver
from vnetkit.exec.runner import Completed, Input, Runner, SystemRunner
from vnetkit.iptables.fallback import FallbackCanonical
from vnetkit.iptables.journal import Journal, Recovery, begin, finish, pending, recover_pending, undo
from vnetkit.iptables.names import check_table
from vnetkit.iptables.savefile import parse_save, render_save
from vnetkit.iptables.snapshot import Snapshot
from vnetkit.iptables.sync import (
    Canonical,
    Desired,
    LiveTable,
    RenderCache,
    SyncPlan,
    live_from_save,
    plan_sync,
)
from vnetkit.iptables.transaction import Transaction
from vnetkit.model import Rule, Ruleset

__all__ = ["BulkOps"]

Tool = Literal["", "-save", "-restore"]  # which program of the backend: iptables, -save or -restore
# What a call tried, for its error: text, or (a restore) a function of the input line that failed.
Action = str | Callable[[int], str]


class BulkOps:
    """Mixed into ``IPTables``; relies on its funnel (``_call``), runner, namespace and binary."""

    _runner: Runner
    _host: Host
    _netns: str | None
    _binary: str
    _wait: tuple[str, ...]
    _journals: Journals | None = None  # made on first use: _journal_store()

    @abstractmethod
    def list_chains(self, table: str) -> list[str]: ...

    @property
    @abstractmethod
    def protocol(self) -> Literal["ipv4", "ipv6"]: ...

    @property
    @abstractmethod
    def backend(self) -> Literal["nft", "legacy"]: ...

    @abstractmethod
    def _call(self, action: Action, *args: str, tool: Tool = "", input: Input = None) -> Completed:
        """The client's funnel: run ``<binary><tool>`` with ``args``; raise the classified failure."""

    def save(self, *, counters: bool = False, table: str | None = None) -> Ruleset:
        """The live ruleset (one table, or all), as ``iptables-save`` prints it."""
        return parse_save(self._save_text(counters=counters, table=table), source=f"{self._binary}-save")

    def save_text(self, *, counters: bool = False, table: str | None = None) -> str:
        """The live ruleset (one table, or all) as the text ``iptables-save`` prints."""
        return self._save_text(counters=counters, table=table)

    def _save_text(self, *, counters: bool = False, table: str | None = None) -> str:
        args: tuple[str, ...] = ("-c",) if counters else ()
        if table is not None:
            check_table(table)
            args += ("-t", table)
        action = f"save table {table}" if table is not None else "save the ruleset"
        return self._call(action, *args, tool="-save").stdout

    def snapshot(self, *, table: str | None = None) -> Snapshot:
        """One ``iptables-save`` indexed for many ``exists`` questions (see :class:`Snapshot`).

        Questions are compared in canonical form; a rule canonical() cannot
        derive is answered by the tool in a scratch namespace (``fallback``).
        """
        text = self._save_text(table=table)
        return Snapshot.of_save(text, canonical=self._canonical(), source=f"{self._binary}-save")

    def restore(self, ruleset: Ruleset, *, flush: bool = True, counters: bool = False) -> None:
        """Load ``ruleset``: with ``flush`` each table in it is replaced, else its lines are added.

        ``counters=True`` sets the rule and policy counters from the ruleset.
        """
        self._recover_if_pending()
        args = (("-c",) if counters else ()) + (() if flush else ("--noflush",))
        names = ", ".join(table.name for table in ruleset.tables) or "nothing"

        def action(line: int) -> str:
            return f"restore tables {names}" + (f" (line {line} of the input)" if line else "")

        self._call(action, *args, tool="-restore", input=render_save(ruleset))

    @contextmanager
    def transaction(self, *, test: bool = False) -> Iterator[Transaction]:
        """Collect changes in the ``with`` block; apply them together when it ends without error.

        ``test=True`` only checks them (``iptables-restore --test`` plus a check
        of jump targets, which ``iptables-nft-restore --test`` skips).
        """
        tx = Transaction()
        yield tx
        self.apply(tx, test=test)

    def apply(self, tx: Transaction, *, test: bool = False) -> None:
        """Apply (or with ``test`` only check) a transaction: all of it or none of it.

        A transaction over several tables is journaled first, so that even a
        crash part way is undone by the next vnetkit call that takes this
        namespace's lock (or :meth:`recover`); that call recovers before
        anything else.
        """
        if not len(tx):
            return
        with self._runner.lock(self._netns):
            self._recover_locked()
            self._apply_locked(tx, test=test)

    def _apply_locked(self, tx: Transaction, *, test: bool = False) -> None:
        # A caller that read the ruleset under the lock before recovering planned
        # from a half-applied state: undo that, and apply nothing planned from it.
        stale = [r for r in self._recover_locked() if r.restored]
        if stale:
            raise OperationError(
                f"{stale[0].describe()} before this change, which was planned from the "
                "half-applied state and is not applied: run it again"
            )
        if test:
            targets = self._host.installed_targets()
            for table in tx.tables:
                tx.check_references(table, self.list_chains(table), targets)
            self._restore_tx(tx, tx.tables, test=True)
            return
        journal = None
        if len(tx.tables) > 1:
            # iptables-restore commits table by table: record the old state of these
            # tables first, so a crash part way can be undone (vnetkit.iptables.journal).
            journal = begin(
                self._journal_store(),
                netns=self._netns,
                family=self.protocol,
                backend=self.backend,
                binary=self._binary,
                wait=self._wait,
                tables=tx.tables,
                restore=tx.render(tx.tables),
                saved=self._save_text(counters=True),
            )
        self._apply_with_rollback(tx, journal)

    def sync(
        self, desired: Desired, *, dry_run: bool = False, canonical: Canonical | None = None
    ) -> SyncPlan:
        """Make the owned chains and jumps of ``desired`` true in one transaction; return the plan.

        Reads the live ruleset once, diffs (see :func:`plan_sync`), applies
        only the difference, and holds the per-namespace lock throughout, so
        concurrent syncs from other vnetkit processes neither lose nor
        duplicate anything. ``dry_run`` plans without applying.

        Desired rules are compared in canonical form, names resolved as
        iptables resolves them on this host; rules canonical() cannot derive
        are first added in one batch in a private scratch namespace and read
        back (see :mod:`vnetkit.iptables.fallback`), so they converge too.
        """
        cache = self._host.cache("iptables rendered rules", RenderCache)

        def plan(live: dict[str, LiveTable], canon: Canonical) -> SyncPlan:
            return plan_sync(desired, live, canonical=canon, cache=cache)

        return self.converge(plan, desired.rules(), dry_run=dry_run, canonical=canonical)

    def converge(
        self,
        planner: Callable[[dict[str, LiveTable], Canonical], SyncPlan],
        rules: Iterable[tuple[str, Rule]] = (),
        *,
        dry_run: bool = False,
        canonical: Canonical | None = None,
    ) -> SyncPlan:
        """Read the live tables once, plan with ``planner(live, canonical)``, apply; all under the lock.

        What :meth:`sync` does, for a caller with its own idea of ownership
        (a lab owns chains by name, and single rules in built-in chains):
        ``rules`` (table, rule) are the desired rules, prefetched so
        canonical forms the tool must supply come in one batch.
        """
        canon = canonical if canonical is not None else self._canonical()
        prefetch = getattr(canon, "prefetch", None)
        if prefetch is not None:
            prefetch(rules)
        with self._runner.lock(self._netns):
            self._recover_locked()  # a transaction a dead process left half-applied goes first
            # One iptables-save; the diff works on its lines (no full parse).
            text = self._call("save the ruleset", tool="-save").stdout
            plan = planner(live_from_save(text), canon)
            if plan and not dry_run:
                self._apply_locked(plan.transaction)
        return plan

    def canonicalizer(self) -> FallbackCanonical:
        """canonical() as :meth:`sync` uses it: derived, names resolved as this host does, the tool
        (in a private scratch namespace) for the rest; one per family and backend in the host."""
        return self._canonical()

    def _canonical(self) -> FallbackCanonical:
        """canonical() for this client's family and backend, with this machine's resolver and the
        tool behind it: one per (family, backend, runner) in the host, so what it remembers serves
        every client and sync of that host."""
        runner = self._runner

        def make() -> tuple[Runner, FallbackCanonical]:  # the runner is kept: its id stays unique
            return runner, FallbackCanonical(
                runner, family=self.protocol, backend=self.backend, resolver=HostResolver()
            )

        return self._host.cache(("iptables canonical", self.protocol, self.backend, id(runner)), make)[1]

    def _apply_with_rollback(self, tx: Transaction, journal: Journal | None) -> None:
        try:
            self._restore_tx(tx, tx.tables, test=False)
        except _TxFailure as failure:
            if journal is not None:  # tables committed before the failure go back to the snapshot
                try:
                    undo(self._runner, self._journal_store(), journal, self._netns)
                except VnetkitError as exc:
                    committed = tx.tables[: tx.tables.index(failure.table)] if failure.table else tx.tables
                    raise ApplyError(
                        f"{failure.error}; undoing tables {', '.join(committed)} failed too: {exc} "
                        "(the journal stays: the next vnetkit change here, or 'vnetkit ipt recover', "
                        "tries again)",
                        completed=committed,
                        failed=failure.what,
                    ) from exc
            raise failure.error from None
        if journal is not None:
            finish(self._journal_store(), journal)

    def recover(self, *, discard: bool = False) -> list[Recovery]:
        """Undo what a killed vnetkit process left half-applied in this namespace; say what was done.

        Every call that takes the namespace's lock does this first; call it to
        recover without changing anything else (``vnetkit ipt recover``). It
        covers the journals of every family and backend in the namespace, and
        first waits for an ``iptables-restore`` the dead process left running.
        ``discard=True`` drops the journals and leaves the tables as they are
        (for when undoing keeps failing). Empty when there was nothing to do.
        """
        with self._runner.lock(self._netns):
            return recover_pending(self._runner, self._journal_store(), self._netns, discard=discard)

    def _recover_locked(self) -> list[Recovery]:
        """Recover this namespace's journals, if any (one ``stat`` when none exists); the lock is held."""
        return recover_pending(self._runner, self._journal_store(), self._netns)

    def _recover_if_pending(self) -> None:
        """For a change made without the lock: if this namespace has a journal, lock and recover."""
        store = self._journal_store()
        if pending(store, self._netns):
            with self._runner.lock(self._netns):
                recover_pending(self._runner, store, self._netns)

    def _journal_store(self) -> Journals:
        """Where this client's journals live: files with the real runner; memory with any other
        (a fake's changes never reach the system, and a journal must name the namespace the
        changes went to)."""
        if self._journals is None:
            self._journals = FileJournals() if isinstance(self._runner, SystemRunner) else MemoryJournals()
        return self._journals

    def _restore_tx(self, tx: Transaction, tables: list[str], *, test: bool) -> None:
        at = _FailedAt(tx, tables, "check" if test else "apply")
        try:
            # Streamed: iptables-restore parses the first lines while the rest are rendered.
            self._call(
                at, "--noflush", *(("--test",) if test else ()), tool="-restore", input=tx.chunks(tables)
            )
        except VnetkitError as error:
            if at.what is None:  # not iptables-restore refusing a line (e.g. the program is missing)
                raise
            raise _TxFailure(error, at.table, at.what) from None


class _FailedAt:
    """The action of a transaction's restore: names the call behind the input line it failed at."""

    def __init__(self, tx: Transaction, tables: list[str], verb: str) -> None:
        self._tx = tx
        self._tables = tables
        self._verb = verb
        self.table = ""  # the table of that call ("" if the line is no call's)
        self.what: str | None = None  # the call, once a failure was classified

    def __call__(self, line: int) -> str:
        op = self._tx.op_at(line, self._tables)
        if op is not None:
            self.table, self.what = op.table, op.describe()
        else:
            self.what = f"line {line} of the restore input"
        return f"{self._verb} transaction at {self.what}"


class _TxFailure(Exception):
    """Internal: a restore failed at a known table; carries the user-facing error."""

    def __init__(self, error: VnetkitError, table: str, what: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.table = table
        self.what = what
