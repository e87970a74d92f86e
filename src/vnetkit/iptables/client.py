"""``IPTables``: every verb of go-iptables, on either backend, in any namespace.

Owns: the mapping from verbs to iptables argv and the reading of their output.
Every run of iptables, iptables-save and iptables-restore goes through one
funnel, :meth:`IPTables._call`, which builds the argv (the backend's program,
the wait flags, the arguments), runs it in the client's namespace through the
``Runner`` and has ``exec.classify`` turn a failure into a typed error that
says what was tried. Arguments are checked before anything runs.
Does not own: processes or namespaces (``exec``), text formats (``text``,
``stats``), name rules (``names``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import Literal

from vnetkit.errors import AlreadyExists, ConfigError, NotFound, ParseError, RuleError, UnsupportedError
from vnetkit.exec.classify import classify_iptables
from vnetkit.exec.host import Host, default_host
from vnetkit.exec.runner import Completed, Input, Runner, validate_netns_name
from vnetkit.iptables.bulk import Action, BulkOps, Tool
from vnetkit.iptables.caps import Backend, Capabilities, blank_opt_column, parse_version
from vnetkit.iptables.names import (
    BUILTIN_CHAINS,
    TABLES,
    check_chain,
    check_policy,
    check_position,
    check_table,
    is_builtin,
)
from vnetkit.iptables.rules import rule_args
from vnetkit.iptables.stats import ListingCache, Stat, parse_listing, parse_stats
from vnetkit.iptables.text import counters_first
from vnetkit.model import Rule

__all__ = ["BackendChoice", "IPTables", "Protocol"]

Protocol = Literal["ipv4", "ipv6"]
BackendChoice = Literal["auto", "nft", "legacy"]

_BASE = {"ipv4": "iptables", "ipv6": "ip6tables"}

_COUNTERS_PREFIX = re.compile(r"^\[\d+:\d+\] ")
# Commands that change the ruleset: before one, a transaction a dead process left
# half-applied is undone (reads see what is there, like any iptables reader).
_CHANGES = frozenset({"-A", "-I", "-R", "-D", "-N", "-F", "-X", "-E", "-P", "-Z"})

# Aliases: inside the class, ``list`` is the go-iptables verb, not the builtin.
Lines = list[str]
Rows = list[list[str]]
Stats = list[Stat]


def _check_spec(spec: Sequence[str | Rule]) -> tuple[str, ...]:
    """A rule as argv: separate strings as given, or the arguments of one ``Rule``."""
    if len(spec) == 1 and isinstance(spec[0], Rule):
        return rule_args(spec[0])
    for arg in spec:
        if not isinstance(arg, str):
            raise RuleError(f"rule arguments must be strings (or one Rule), got {arg!r} in {list(spec)!r}")
    return tuple(spec)  # type: ignore[arg-type]


def _check_place(table: str, chain: str | None = None) -> None:
    """Raise RuleError unless ``table`` (and ``chain``, when given) can be named to iptables."""
    check_table(table)
    if chain is not None:
        check_chain(chain)


def _lines(done: Completed) -> list[str]:
    return [line for line in done.stdout.splitlines() if line and not line.startswith("#")]


class IPTables(BulkOps):
    """A client for one protocol's iptables, bound to one backend and one namespace.

    ``backend="auto"`` uses whatever ``iptables`` is on this system (the
    Debian alternatives link); ``netns=None`` works in the caller's own
    namespace. ``timeout`` is passed to ``--wait`` (None waits for the xtables
    lock as long as it takes, like go-iptables). The version is read once, here.

    Rule specs are separate strings, as in go-iptables::

        ipt = IPTables(netns="lab")
        ipt.append("filter", "INPUT", "-s", "192.0.2.1", "-j", "DROP")
    """

    def __init__(
        self,
        protocol: Protocol = "ipv4",
        *,
        backend: BackendChoice = "auto",
        netns: str | None = None,
        timeout: float | None = None,
        runner: Runner | None = None,
        host: Host | None = None,
    ) -> None:
        if protocol not in _BASE:
            raise ConfigError(f"unknown protocol {protocol!r}: use 'ipv4' or 'ipv6'")
        if backend not in ("auto", "nft", "legacy"):
            raise ConfigError(f"unknown backend {backend!r}: use 'auto', 'nft' or 'legacy'")
        if timeout is not None and (isinstance(timeout, bool) or not math.isfinite(timeout) or timeout < 0):
            raise ConfigError(f"invalid timeout {timeout!r}: use a number of seconds >= 0")
        self._protocol: Protocol = protocol
        self._netns = validate_netns_name(netns) if netns is not None else None
        self._timeout = timeout
        # The host keeps the caches, probes and (with its runner) the namespace threads this
        # client shares with others; a runner given explicitly runs the programs instead.
        self._host = host if host is not None else default_host()
        self._runner: Runner = runner if runner is not None else self._host.runner
        self._binary, self._caps = self._detect(_BASE[protocol], backend)
        self._wait: tuple[str, ...] = ()
        if self._caps.has_wait:
            if timeout is not None and self._caps.has_wait_seconds:
                # iptables reads whole seconds with sscanf("%i"): round up, never to 0.
                self._wait = ("--wait", str(max(1, math.ceil(timeout))) if timeout > 0 else "0")
            else:
                self._wait = ("--wait",)

    def _detect(self, base: str, backend: BackendChoice) -> tuple[str, Capabilities]:
        # "auto" keeps calling the plain name (the system's alternatives link),
        # as go-iptables does; an explicit backend calls that backend's binary.
        binary = base if backend == "auto" else f"{base}-{backend}"

        def probe() -> Capabilities:
            done = self._runner.run((binary, "--version"))
            if done.returncode != 0:
                raise classify_iptables(done, action=f"read the version of {binary}")
            return parse_version(done.stdout or done.stderr)

        # Probed once per host (capabilities are detected once); a runner of the caller's own
        # (a fake, a scratch namespace's) is asked every time.
        caps = (
            self._host.cache(("iptables version", binary, os.environ.get("PATH", "")), probe)
            if self._runner is self._host.runner
            else probe()
        )
        if backend not in ("auto", caps.backend):
            raise UnsupportedError(f"{binary} reports the {caps.backend} backend, not {backend}")
        return binary, caps

    # -- properties -------------------------------------------------------------

    @property
    def protocol(self) -> Protocol:
        """``"ipv4"`` or ``"ipv6"``."""
        return self._protocol

    @property
    def backend(self) -> Backend:
        """The detected backend: ``"nft"`` or ``"legacy"``."""
        return self._caps.backend

    @property
    def version(self) -> tuple[int, int, int]:
        """The iptables version, e.g. ``(1, 8, 9)``."""
        return self._caps.version

    @property
    def has_wait(self) -> bool:
        """True if this iptables takes ``--wait``."""
        return self._caps.has_wait

    @property
    def has_random_fully(self) -> bool:
        """True if this iptables takes ``--random-fully``."""
        return self._caps.has_random_fully

    @property
    def netns(self) -> str | None:
        """The namespace this client works in (None: the caller's own)."""
        return self._netns

    @property
    def binary(self) -> str:
        """The program this client runs, e.g. ``iptables-nft``."""
        return self._binary

    # -- the funnel -------------------------------------------------------------

    def _where(self, table: str, chain: str | None = None) -> str:
        place = f"table {table}" if chain is None else f"chain {chain} of table {table}"
        if self._netns is not None:
            place += f" in netns {self._netns}"
        return place

    def _call(self, action: Action, *args: str, tool: Tool = "", input: Input = None) -> Completed:
        """Run ``<binary><tool> [wait flags] args`` in the client's namespace; raise what a failure means.

        Every iptables, iptables-save and iptables-restore this client runs
        goes through here (iptables-save takes no wait flags). A command that
        changes the ruleset (``-A``, ``-D``, ... as ``args[2]``) first undoes a
        transaction a dead process left half-applied, if there is one.
        ``action`` says what was tried, for the error (for a restore, it may
        be a function of the input line that failed; see ``classify_iptables``).
        """
        program = self._binary + tool
        if tool == "-save":
            argv: tuple[str, ...] = (program, *args)
        else:
            argv = (program, *self._wait, *args)
            if not tool and len(args) > 2 and args[2] in _CHANGES:
                self._recover_if_pending()  # one stat when no journal exists anywhere
        done = self._runner.run(argv, netns=self._netns, input=input)
        if done.returncode == 0:
            return done
        if isinstance(action, str):
            raise classify_iptables(done, action=f"{program}: {action}")
        raise classify_iptables(done, action=lambda line: f"{program}: {action(line)}")

    # -- rules ------------------------------------------------------------------

    def exists(self, table: str, chain: str, *spec: str | Rule) -> bool:
        """True if the rule ``spec`` is in ``chain`` (``-C``); False if it or the chain is missing."""
        rule = _check_spec(spec)
        _check_place(table, chain)
        try:
            self._call(f"check a rule in {self._where(table, chain)}", "-t", table, "-C", chain, *rule)
        except NotFound:
            return False
        return True

    def insert(self, table: str, chain: str, pos: int, *spec: str | Rule) -> None:
        """Insert the rule at 1-based position ``pos`` (``-I``)."""
        rule = _check_spec(spec)
        _check_place(table, chain)
        check_position(pos)
        where = self._where(table, chain)
        self._call(f"insert a rule at {pos} in {where}", "-t", table, "-I", chain, str(pos), *rule)

    def insert_unique(self, table: str, chain: str, pos: int, *spec: str | Rule) -> bool:
        """Insert the rule unless it is already in the chain; True if it was inserted.

        Safe against concurrent vnetkit calls on the same namespace: a lock
        shared by every vnetkit process covers the check and the insert.
        """
        check_position(pos)
        with self._runner.lock(self._netns):
            self._recover_locked()
            if self.exists(table, chain, *spec):
                return False
            self.insert(table, chain, pos, *spec)
            return True

    def replace(self, table: str, chain: str, pos: int, *spec: str | Rule) -> None:
        """Replace the rule at 1-based position ``pos`` (``-R``)."""
        rule = _check_spec(spec)
        _check_place(table, chain)
        check_position(pos)
        where = self._where(table, chain)
        self._call(f"replace rule {pos} in {where}", "-t", table, "-R", chain, str(pos), *rule)

    def append(self, table: str, chain: str, *spec: str | Rule) -> None:
        """Append the rule to the chain (``-A``)."""
        rule = _check_spec(spec)
        _check_place(table, chain)
        self._call(f"append a rule to {self._where(table, chain)}", "-t", table, "-A", chain, *rule)

    def append_unique(self, table: str, chain: str, *spec: str | Rule) -> bool:
        """Append the rule unless it is already in the chain; True if it was appended.

        Safe against concurrent vnetkit calls on the same namespace (see
        :meth:`insert_unique`).
        """
        with self._runner.lock(self._netns):
            self._recover_locked()
            if self.exists(table, chain, *spec):
                return False
            self.append(table, chain, *spec)
            return True

    def delete(self, table: str, chain: str, *spec: str | Rule) -> None:
        """Delete the first rule matching ``spec`` (``-D``); ``NotFound`` if there is none."""
        rule = _check_spec(spec)
        _check_place(table, chain)
        self._call(f"delete a rule from {self._where(table, chain)}", "-t", table, "-D", chain, *rule)

    def delete_if_exists(self, table: str, chain: str, *spec: str | Rule) -> bool:
        """Delete the rule if it is there (or do nothing); True if a rule was deleted.

        Safe against concurrent vnetkit calls: iptables-nft's ``-D`` finds the
        rule, then deletes it by handle, and the lock keeps two vnetkit
        processes from racing between those steps.
        """
        with self._runner.lock(self._netns):
            self._recover_locked()
            try:
                self.delete(table, chain, *spec)
            except NotFound:
                return False
            return True

    def delete_by_id(self, table: str, chain: str, id: int) -> None:
        """Delete the rule at 1-based position ``id``; ``NotFound`` past the end."""
        _check_place(table, chain)
        check_position(id)
        self._call(f"delete rule {id} from {self._where(table, chain)}", "-t", table, "-D", chain, str(id))

    # -- listing ----------------------------------------------------------------

    def list(self, table: str, chain: str) -> Lines:
        """The chain as ``-S`` prints it: its ``-N``/``-P`` line, then one ``-A`` line per rule."""
        _check_place(table, chain)
        return _lines(self._call(f"list {self._where(table, chain)}", "-t", table, "-S", chain))

    def list_table(self, table: str, *, counters: bool = False) -> dict[str, Lines]:
        """Every chain of ``table`` from one ``-S``: chain name -> its lines.

        The lines are those of :meth:`list`, or with ``counters=True`` those of
        :meth:`list_with_counters`; one process either way.
        """
        _check_place(table)
        where = self._where(table)
        if counters:
            done = self._call(f"list {where} with counters", "-t", table, "-v", "-S")
            lines = [counters_first(text) for text in _lines(done)]
        else:
            lines = _lines(self._call(f"list {where}", "-t", table, "-S"))
        chains: dict[str, Lines] = {}
        for text in lines:
            words = _COUNTERS_PREFIX.sub("", text).split(maxsplit=2)
            if len(words) < 2:
                raise ParseError(f"unexpected line in {where}: {text!r}", source=f"{self._binary} -S")
            kind, name = words[:2]
            if kind in ("-P", "-N"):
                chains[name] = [text]
            elif kind == "-A" and name in chains:
                chains[name].append(text)
        return chains

    def list_by_id(self, table: str, chain: str, id: int) -> str:
        """The ``-A`` line of rule ``id`` (1-based); ``NotFound`` past the end (go-iptables panics)."""
        _check_place(table, chain)
        check_position(id)
        where = self._where(table, chain)
        lines = _lines(self._call(f"list rule {id} of {where}", "-t", table, "-S", chain, str(id)))
        if not lines:
            raise NotFound(f"{self._binary}: list rule {id} of {where}: the chain has fewer rules")
        return lines[0]

    def list_with_counters(self, table: str, chain: str) -> Lines:
        """Like :meth:`list`, with counters first on each line: ``[P:B] -A CHAIN ...``.

        Both backends give this one form (iptables prints ``-c P B`` inside the
        line on some versions and ``[P:B]`` in front on others).
        """
        _check_place(table, chain)
        done = self._call(f"list {self._where(table, chain)} with counters", "-t", table, "-v", "-S", chain)
        return [counters_first(line) for line in _lines(done)]

    def list_chains(self, table: str) -> Lines:
        """Names of the table's chains: built-in first, then user chains, as iptables orders them."""
        _check_place(table)
        done = self._call(f"list the chains of {self._where(table)}", "-t", table, "-S")
        return [line.split()[1] for line in _lines(done) if line.startswith(("-P ", "-N "))]

    def chain_exists(self, table: str, chain: str) -> bool:
        """True if ``chain`` exists in ``table``."""
        _check_place(table, chain)
        try:
            self._call(f"look for {self._where(table, chain)}", "-t", table, "-S", chain, "1")
        except NotFound:
            return False
        return True

    def stats(self, table: str, chain: str) -> Rows:
        """Rows of 10 strings per rule, as go-iptables' ``Stats`` (see :func:`parse_listing`)."""
        done = self._counters(table, chain)
        return parse_listing(done.stdout, source=f"{self._binary} -L {chain}", cache=self._listing_cache())

    def structured_stats(self, table: str, chain: str) -> Stats:
        """The counters and columns of each rule as typed :class:`Stat` values (one process)."""
        done = self._counters(table, chain)
        return parse_stats(
            done.stdout,
            blank_opt=blank_opt_column(self.version, self.protocol),
            source=f"{self._binary} -L {chain}",
            cache=self._listing_cache(),
        )

    def _counters(self, table: str, chain: str) -> Completed:
        """``-L CHAIN -v -n -x``: the listing both stats verbs read."""
        _check_place(table, chain)
        where = self._where(table, chain)
        return self._call(f"read the counters of {where}", "-t", table, "-L", chain, "-v", "-n", "-x")

    def _listing_cache(self) -> ListingCache:
        """The host's cache of listing lines and addresses (a chain polled again reads faster)."""
        return self._host.cache("iptables listing", ListingCache)

    # -- chains -----------------------------------------------------------------

    def new_chain(self, table: str, chain: str) -> None:
        """Create a user chain (``-N``); ``AlreadyExists`` if it is there."""
        _check_place(table, chain)
        self._call(f"create {self._where(table, chain)}", "-t", table, "-N", chain)

    def clear_chain(self, table: str, chain: str) -> None:
        """Flush the chain, creating it first when it is missing."""
        try:
            self.new_chain(table, chain)
        except AlreadyExists:
            self._call(f"flush {self._where(table, chain)}", "-t", table, "-F", chain)

    def flush_chain(self, table: str, chain: str) -> None:
        """Delete every rule of an existing chain (``-F CHAIN``); ``NotFound`` if it is missing."""
        _check_place(table, chain)
        self._call(f"flush {self._where(table, chain)}", "-t", table, "-F", chain)

    def rename_chain(self, table: str, old: str, new: str) -> None:
        """Rename a user chain (``-E``)."""
        _check_place(table, old)
        check_chain(new)
        self._call(f"rename {self._where(table, old)} to {new}", "-t", table, "-E", old, new)

    def delete_chain(self, table: str, chain: str) -> None:
        """Delete an empty, unreferenced user chain (``-X``); ``InUse`` otherwise."""
        self._check_user_chain(table, chain)
        self._call(f"delete {self._where(table, chain)}", "-t", table, "-X", chain)

    def clear_and_delete_chain(self, table: str, chain: str) -> None:
        """Flush and delete a user chain; nothing happens when it is missing."""
        self._check_user_chain(table, chain)
        where = self._where(table, chain)
        try:
            self._call(f"flush {where}", "-t", table, "-F", chain)
            self._call(f"delete {where}", "-t", table, "-X", chain)
        except NotFound:
            pass

    def _check_user_chain(self, table: str, chain: str) -> None:
        _check_place(table, chain)
        if is_builtin(table, chain):
            raise RuleError(f"cannot delete {self._where(table, chain)}: it is a built-in chain")

    def clear_all(self, table: str = "filter") -> None:
        """Flush every chain of ``table`` (``-F``)."""
        _check_place(table)
        self._call(f"flush every chain of {self._where(table)}", "-t", table, "-F")

    def delete_all(self, table: str = "filter") -> None:
        """Delete every user chain of ``table`` (``-X``); they must be empty and unreferenced."""
        _check_place(table)
        self._call(f"delete every user chain of {self._where(table)}", "-t", table, "-X")

    def clear_all_tables(self) -> None:
        """:meth:`clear_all` on every table the kernel has."""
        for table in self._tables():
            self.clear_all(table)

    def delete_all_tables(self) -> None:
        """:meth:`delete_all` on every table the kernel has."""
        for table in self._tables():
            self.delete_all(table)

    def _tables(self) -> Lines:
        present: Lines = []
        for table in TABLES:
            try:
                self._call(f"look for {self._where(table)}", "-t", table, "-S", BUILTIN_CHAINS[table][0], "1")
            except UnsupportedError:
                continue
            present.append(table)
        return present

    def change_policy(self, table: str, chain: str, target: str) -> None:
        """Set the policy of a built-in chain to ``ACCEPT`` or ``DROP`` (``-P``)."""
        _check_place(table, chain)
        where = self._where(table, chain)
        if not is_builtin(table, chain):
            raise RuleError(
                f"cannot set the policy of {where}: only built-in chains have one",
                choices=BUILTIN_CHAINS[table],
            )
        check_policy(target)
        self._call(f"set the policy of {where} to {target}", "-t", table, "-P", chain, target)
