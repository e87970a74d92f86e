"""Crash safety for transactions that span tables: the journal, and recovery from it.

``iptables-restore`` commits each table on its own, so a process killed while
applying a transaction over two tables can leave one applied and the other
not (and the restore it started goes on without it, committing what it has
read). Before such a transaction is applied its journal is written durably:
the namespace, family and backend, the programs, the restore input, and the
snapshot (``iptables-save -c``) of the tables it touches, taken under the
per-namespace lock. It is removed once the apply has succeeded or failed and
been undone. A journal found by a holder of that lock was left by a dead
writer (a live one would hold the lock), or by one whose own undo failed.
Recovery first waits for any restore a dead writer left running, then puts
every journaled table that differs from its snapshot back from the snapshot:
readers see the old state, never a mix (a writer killed after its restore
finished but before it removed the journal is undone too; it never returned).
Recovery repeats safely: killed part way, the journal is still there and the
next recovery restores the same snapshot.

Owns: the journal's content and encoding, which tables differ from the
snapshot, and the recovery procedure (through a ``Runner`` and a
``Journals``). Does not own: files and processes (``exec.journals``) or
applying transactions (``bulk``).
"""

from __future__ import annotations

import json
import re
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from vnetkit.errors import OperationError, ParseError, VnetkitError
from vnetkit.exec.classify import classify_iptables, first_error_line
from vnetkit.exec.journals import Journals, Namespace, Writer
from vnetkit.exec.runner import Runner
from vnetkit.iptables.names import BUILTIN_CHAINS

__all__ = [
    "LEFTOVER_TIMEOUT",
    "Journal",
    "Recovery",
    "begin",
    "changed_tables",
    "decode",
    "encode",
    "finish",
    "normalize",
    "pending",
    "recover_pending",
    "table_sections",
    "undo",
]

MAGIC = b"vnetkit-ipt-journal 1\n"
_KIND = "ipt-"  # journal kinds of this module: ipt-<family>-<backend>
# How long recovery waits for an iptables-restore a dead writer left running.
LEFTOVER_TIMEOUT = 60.0
_ENCODING = ("utf-8", "surrogateescape")  # as the runner reads and writes tool text
_COUNTERS = re.compile(r"^\[\d+:\d+\] ")
_CHAIN_COUNTERS = re.compile(r" \[\d+:\d+\]$")
_DISCARD_HINT = "'vnetkit ipt recover --discard' drops the journal and leaves the tables as they are"


@dataclass(frozen=True, slots=True)
class Journal:
    """What a multi-table transaction is about to do, and the state to go back to."""

    netns: str | None
    dev: int
    ino: int
    cookie: int | None
    family: str
    backend: str
    binary: str  # iptables-nft, ip6tables-legacy, iptables...
    wait: tuple[str, ...]
    tables: tuple[str, ...]
    started: float
    writers: tuple[Writer, ...]
    restore: str  # the transaction's iptables-restore --noflush input
    snapshot: dict[str, str] = field(compare=False)  # table -> its iptables-save -c section

    @property
    def kind(self) -> str:
        return f"{_KIND}{self.family}-{self.backend}"

    @property
    def namespace(self) -> Namespace:
        return Namespace(self.netns, self.dev, self.ino)

    def describe(self) -> str:
        """``the transaction of 2026-12-08 00:17:25 on tables filter, nat in netns lab (iptables-nft)``."""
        return _describe(self.tables, self.started, self.netns, self.binary)


def _describe(tables: Sequence[str], started: float, netns: str | None, binary: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started else "unknown time"
    where = f"netns {netns}" if netns is not None else "the caller's network namespace"
    on = f" on tables {', '.join(tables)}" if tables else ""
    return f"the transaction of {when}{on} in {where}" + (f" ({binary})" if binary else "")


@dataclass(frozen=True, slots=True)
class Recovery:
    """What recovery did with one journal.

    ``action``: ``undone`` (the tables in ``restored`` were put back from the
    snapshot; the others had not changed), ``stale`` (the journal belonged
    to an earlier namespace whose inode number this one reuses: dropped,
    nothing touched) or ``discarded`` (dropped on request, nothing touched).
    """

    netns: str | None
    family: str
    backend: str
    binary: str
    tables: tuple[str, ...]
    started: float
    action: Literal["undone", "stale", "discarded"]
    restored: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for people: what was found and what was done."""
        what = _describe(self.tables, self.started, self.netns, self.binary)
        if self.action == "stale":
            return f"dropped the journal of {what}: that namespace is gone (this one reuses its inode)"
        if self.action == "discarded":
            return f"discarded the journal of {what}; the tables were left as they are"
        if not self.restored:
            return f"undid {what}: none of its tables had changed"
        return f"undid {what}: restored {', '.join(self.restored)} from the snapshot"

    def as_dict(self) -> dict[str, object]:
        return {
            "netns": self.netns,
            "family": self.family,
            "backend": self.backend,
            "binary": self.binary,
            "tables": list(self.tables),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "action": self.action,
            "restored": list(self.restored),
        }


# -- encoding ------------------------------------------------------------------


def encode(journal: Journal) -> bytes:
    """The journal as bytes: a magic line, a JSON header (sizes, CRC), then the texts."""
    parts = [journal.restore.encode(*_ENCODING)]
    parts += [journal.snapshot[table].encode(*_ENCODING) for table in journal.tables]
    body = b"".join(parts)
    header = {
        "netns": journal.netns,
        "dev": journal.dev,
        "ino": journal.ino,
        "cookie": journal.cookie,
        "family": journal.family,
        "backend": journal.backend,
        "binary": journal.binary,
        "wait": list(journal.wait),
        "tables": list(journal.tables),
        "started": journal.started,
        "writers": [[w.pid, w.pgid] for w in journal.writers],
        "sizes": [len(part) for part in parts],
        "crc32": zlib.crc32(body),
    }
    return MAGIC + json.dumps(header, separators=(",", ":")).encode() + b"\n" + body


def decode(data: bytes, *, source: str = "journal") -> Journal:
    """Read what :func:`encode` wrote; ``ParseError`` for anything else (or a damaged file)."""
    if not data.startswith(MAGIC):
        raise ParseError(f"{source}: not a vnetkit iptables journal (or a newer format)", source=source)
    end = data.find(b"\n", len(MAGIC))
    try:
        header = json.loads(data[len(MAGIC) : end])
        body = data[end + 1 :]
        sizes = [int(n) for n in header["sizes"]]
        tables = tuple(str(t) for t in header["tables"])
        if end < 0 or len(body) != sum(sizes) or zlib.crc32(body) != header["crc32"]:
            raise ValueError("size or checksum mismatch")
        if len(sizes) != len(tables) + 1:
            raise ValueError("one text per table expected")
        texts, offset = [], 0
        for size in sizes:
            texts.append(body[offset : offset + size].decode(*_ENCODING))
            offset += size
        return Journal(
            netns=header["netns"],
            dev=int(header["dev"]),
            ino=int(header["ino"]),
            cookie=header["cookie"],
            family=str(header["family"]),
            backend=str(header["backend"]),
            binary=str(header["binary"]),
            wait=tuple(str(w) for w in header["wait"]),
            tables=tables,
            started=float(header["started"]),
            writers=tuple(Writer(int(pid), int(pgid)) for pid, pgid in header["writers"]),
            restore=texts[0],
            snapshot=dict(zip(tables, texts[1:], strict=True)),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"{source}: damaged journal ({exc})", source=source) from None


# -- comparing tables ----------------------------------------------------------


def empty_table(table: str) -> str:
    """The save section of a table with no rules and ACCEPT policies (what an absent table acts like)."""
    chains = "".join(f":{chain} ACCEPT [0:0]\n" for chain in BUILTIN_CHAINS.get(table, ()))
    return f"*{table}\n{chains}COMMIT\n"


def table_sections(save_text: str, tables: Iterable[str]) -> dict[str, str]:
    """Each of ``tables`` as its own ``*table ... COMMIT`` section of an iptables-save text.

    A table the text lacks (not instantiated yet) gets :func:`empty_table`:
    restoring that is how it is put back, since iptables cannot remove a table.
    """
    wanted = set(tables)
    found: dict[str, str] = {}
    current: list[str] | None = None
    name = ""
    for line in save_text.splitlines():
        if current is None:
            if line.startswith("*") and line[1:].strip() in wanted:
                name, current = line[1:].strip(), [line]
            continue
        current.append(line)
        if line.strip() == "COMMIT":
            found[name] = "\n".join(current) + "\n"
            current = None
    return {table: found.get(table) or empty_table(table) for table in tables}


def normalize(section: str) -> list[str]:
    """A table section's lines without comments or counters, for comparing states."""
    lines = []
    for raw in section.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            line = _COUNTERS.sub("", line)
        elif line.startswith(":"):
            line = _CHAIN_COUNTERS.sub("", line)
        lines.append(line)
    return lines


def changed_tables(journal: Journal, save_text: str) -> list[str]:
    """The journaled tables whose live state (``save_text``) differs from the snapshot."""
    live = table_sections(save_text, journal.tables)
    return [t for t in journal.tables if normalize(live[t]) != normalize(journal.snapshot[t])]


# -- writing and recovering ----------------------------------------------------


def begin(
    store: Journals,
    *,
    netns: str | None,
    family: str,
    backend: str,
    binary: str,
    wait: Sequence[str],
    tables: Sequence[str],
    restore: str,
    saved: str,
) -> Journal:
    """Write the journal of a transaction about to be applied; ``saved`` is ``iptables-save -c`` now.

    The caller holds the namespace's lock and took ``saved`` under it.
    """
    ns = store.locate(netns)
    journal = Journal(
        netns=netns,
        dev=ns.dev,
        ino=ns.ino,
        cookie=store.cookie(netns),
        family=family,
        backend=backend,
        binary=binary,
        wait=tuple(wait),
        tables=tuple(tables),
        started=time.time(),
        writers=(store.writer(),),
        restore=restore,
        snapshot=table_sections(saved, tables),
    )
    store.write(ns, journal.kind, encode(journal))
    return journal


def finish(store: Journals, journal: Journal) -> None:
    """The transaction is over (applied, or failed and undone): remove its journal."""
    store.remove(journal.namespace, journal.kind)


def _run(
    runner: Runner, journal: Journal, netns: str | None, argv: tuple[str, ...], input: str | None
) -> str:
    done = runner.run(argv, netns=netns, input=input)
    if done.returncode != 0:
        error = classify_iptables(done, action="")
        reason = first_error_line(done.stderr) or f"exit status {done.returncode}"
        error.message = f"undo {journal.describe()}: {argv[0]}: {reason}"
        error.args = (error.message,)
        raise error
    return done.stdout


def undo(runner: Runner, store: Journals, journal: Journal, netns: str | None) -> tuple[str, ...]:
    """Put back from the snapshot every journaled table that differs from it; remove the journal.

    Returns the tables restored. The caller holds the lock. Safe to repeat:
    a table already back equals its snapshot and is left alone.
    """
    saved = _run(runner, journal, netns, (f"{journal.binary}-save",), None)
    changed = tuple(changed_tables(journal, saved))
    if changed:
        text = "".join(journal.snapshot[table] for table in changed)
        _run(runner, journal, netns, (f"{journal.binary}-restore", *journal.wait, "-c"), text)
    finish(store, journal)
    return changed


def pending(store: Journals, netns: str | None) -> bool:
    """True when namespace ``netns`` has a journal (one ``stat`` when no journal exists anywhere)."""
    return store.any() and any(kind.startswith(_KIND) for kind in store.kinds(store.locate(netns)))


def recover_pending(
    runner: Runner,
    store: Journals,
    netns: str | None,
    *,
    discard: bool = False,
    timeout: float = LEFTOVER_TIMEOUT,
) -> list[Recovery]:
    """Recover (or with ``discard`` drop) every journal of namespace ``netns``; the caller holds its lock.

    Costs one ``stat`` when no journal exists anywhere.
    """
    if not store.any():
        return []
    ns = store.locate(netns)
    done = []
    for kind in store.kinds(ns):
        if not kind.startswith(_KIND):  # another part of vnetkit's journal
            continue
        data = store.read(ns, kind)
        if data is None:  # only the temp file of a writer killed while writing it: nothing was applied
            store.remove(ns, kind)
            continue
        done.append(_recover_one(runner, store, ns, kind, data, discard=discard, timeout=timeout))
    return done


def _recover_one(
    runner: Runner,
    store: Journals,
    ns: Namespace,
    kind: str,
    data: bytes,
    *,
    discard: bool,
    timeout: float,
) -> Recovery:
    try:
        journal = decode(data, source=f"the {kind} journal of {ns.describe()}")
    except ParseError as exc:
        if not discard:
            raise ParseError(f"{exc}; {_DISCARD_HINT}", source=exc.source) from None
        store.remove(ns, kind)
        family, _, backend = kind.removeprefix(_KIND).partition("-")
        return Recovery(ns.name, family, backend, "", (), 0.0, "discarded")

    def outcome(action: Literal["undone", "stale", "discarded"], restored: tuple[str, ...] = ()) -> Recovery:
        return Recovery(
            ns.name,
            journal.family,
            journal.backend,
            journal.binary,
            journal.tables,
            journal.started,
            action,
            restored,
        )

    if discard:
        store.remove(ns, kind)
        return outcome("discarded")
    if journal.cookie is not None:
        now = store.cookie(ns.name)
        if now is not None and now != journal.cookie:
            store.remove(ns, kind)
            return outcome("stale")
    program = f"{journal.binary}-restore"
    running = store.wait_for_leftovers(ns, program, journal.writers, timeout)
    if running:
        pids = ", ".join(map(str, running))
        raise OperationError(
            f"cannot undo {journal.describe()} yet: the {program} it started (pid {pids}) "
            f"is still running after {timeout:g} s; try again when it has ended"
        )
    me = store.writer()
    if me not in journal.writers:  # a recovery killed part way leaves its restore running too
        journal = replace(journal, writers=(*journal.writers, me))
        store.write(ns, kind, encode(journal))
    try:
        restored = undo(runner, store, journal, ns.name)
    except VnetkitError as exc:
        exc.message = f"{exc.message}; {_DISCARD_HINT}"
        exc.args = (exc.message,)
        raise
    return outcome("undone", restored)
