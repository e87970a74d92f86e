"""Durable journal files, and the programs a killed journal writer left running.

Owns: the journal directory (``$VNETKIT_RUN_DIR/journal``, by default
``/run/vnetkit/journal``: tmpfs, so journals end with the boot, as namespaces
and their rules do); writing a journal so that a crash leaves either no file or
the whole file (temp file, fsync, rename, fsync of the directory); removing one
durably; the one-``stat`` answer "no journal anywhere"; naming a network
namespace by its nsfs device and inode (as the per-namespace lock does) plus
its netns cookie, which tells a namespace from a later one that reuses the
inode number (the kernel hands a freed number out again within a second); and
finding the programs a killed writer left running in a namespace: killing a
process does not kill its children, and an orphaned ``iptables-restore`` goes
on reading its input and committing tables.
``MemoryJournals`` is the fake for code above ``exec/``.
Does not own: what a journal says or how to act on it
(``vnetkit.iptables.journal``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vnetkit.errors import OperationError, PermissionDenied
from vnetkit.exec import _linux, nsfs
from vnetkit.exec.runner import netns_path

__all__ = [
    "DEFAULT_RUN_DIR",
    "RUN_DIR_ENV",
    "FileJournals",
    "Journals",
    "MemoryJournals",
    "Namespace",
    "Writer",
]

RUN_DIR_ENV = "VNETKIT_RUN_DIR"
DEFAULT_RUN_DIR = "/run/vnetkit"

_SO_NETNS_COOKIE = 71  # asm-generic/socket.h; Linux 5.14+
_POLL = 0.02  # seconds between looks for leftover programs


@dataclass(frozen=True, slots=True)
class Namespace:
    """A network namespace as the lock names it: nsfs device and inode; ``name`` for messages."""

    name: str | None
    dev: int
    ino: int

    def describe(self) -> str:
        return f"netns {self.name}" if self.name is not None else "the caller's network namespace"


@dataclass(frozen=True, slots=True)
class Writer:
    """A process that wrote or acted on a journal: its pid and process group."""

    pid: int
    pgid: int


class Journals(Protocol):
    """Where journals live and what their writers left behind (real: ``FileJournals``)."""

    def any(self) -> bool:
        """False when no journal exists for any namespace (the cheap check before every write)."""
        ...

    def locate(self, netns: str | None) -> Namespace:
        """The namespace ``netns`` names now (None: the caller's); ``NotFound`` if it is gone."""
        ...

    def cookie(self, netns: str | None) -> int | None:
        """The netns cookie of ``netns`` (unique for the boot); None when the kernel has none."""
        ...

    def kinds(self, ns: Namespace) -> list[str]:
        """The kinds of journal that exist for ``ns`` (``ipt-ipv4-nft``...)."""
        ...

    def read(self, ns: Namespace, kind: str) -> bytes | None:
        """The journal of ``kind`` for ``ns``, or None."""
        ...

    def write(self, ns: Namespace, kind: str, data: bytes) -> None:
        """Store the journal durably: afterwards a crash leaves exactly ``data`` (or the old one)."""
        ...

    def remove(self, ns: Namespace, kind: str) -> None:
        """Remove the journal durably (nothing happens when it is not there)."""
        ...

    def writer(self) -> Writer:
        """This process, as it records itself in a journal."""
        ...

    def wait_for_leftovers(
        self, ns: Namespace, program: str, writers: Sequence[Writer], timeout: float
    ) -> list[int]:
        """Wait until no ``program`` left by a dead ``writers`` process runs in ``ns``.

        Returns the pids still running after ``timeout`` seconds (empty: none left).
        """
        ...


def _cookie_here() -> int | None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        try:
            raw = sock.getsockopt(socket.SOL_SOCKET, _SO_NETNS_COOKIE, 8)
        except OSError:  # ENOPROTOOPT before Linux 5.14
            return None
    return int.from_bytes(raw, sys.byteorder)


def _failure(exc: OSError, what: str) -> OperationError:
    if isinstance(exc, PermissionError):
        return PermissionDenied(f"{what}: {exc.strerror} (run as root)")
    return OperationError(f"{what}: {exc.strerror or exc}")


class FileJournals:
    """Journals as files under ``run_dir/journal`` (default: ``$VNETKIT_RUN_DIR`` or ``/run/vnetkit``).

    One file per namespace and kind, named ``<dev>-<ino>.<kind>``; the
    directory exists only while some journal does, so "no journal" costs one
    ``stat``.
    """

    def __init__(self, run_dir: str | None = None) -> None:
        base = run_dir if run_dir is not None else os.environ.get(RUN_DIR_ENV) or DEFAULT_RUN_DIR
        self.directory = os.path.join(base, "journal")

    def any(self) -> bool:
        try:
            os.stat(self.directory)
        except FileNotFoundError:
            return False
        return True

    def locate(self, netns: str | None) -> Namespace:
        path = "/proc/self/ns/net" if netns is None else netns_path(netns)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise nsfs.missing(netns) from None
        return Namespace(netns, st.st_dev, st.st_ino)

    def cookie(self, netns: str | None) -> int | None:
        if netns is None:
            return _cookie_here()
        try:
            fd = os.open(netns_path(netns), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise nsfs.missing(netns) from None
        got: list[int | OSError | None] = []

        def inside() -> None:  # a short-lived thread enters the namespace; the caller stays put
            try:
                _linux.setns(fd)
                got.append(_cookie_here())
            except OSError as exc:
                got.append(exc)

        try:
            thread = threading.Thread(target=inside, name=f"vnetkit-cookie-{netns}", daemon=True)
            thread.start()
            thread.join()
        finally:
            os.close(fd)
        if isinstance(got[0], OSError):
            raise _failure(got[0], f"enter network namespace {netns!r}")
        return got[0]

    def _path(self, ns: Namespace, kind: str) -> str:
        return os.path.join(self.directory, f"{ns.dev}-{ns.ino}.{kind}")

    def kinds(self, ns: Namespace) -> list[str]:
        # A temp file counts too (``read`` then answers None): its writer died
        # before the rename, so nothing was applied, and ``remove`` clears it.
        prefix = f"{ns.dev}-{ns.ino}."
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        found = set()
        for name in names:
            if name.startswith(prefix):
                found.add(name[len(prefix) :])
            elif name.startswith(f".{prefix}") and name.endswith(".tmp"):
                found.add(name[len(prefix) + 1 :].rsplit(".", 2)[0])
        return sorted(found)

    def read(self, ns: Namespace, kind: str) -> bytes | None:
        path = self._path(ns, kind)
        try:
            with open(path, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _failure(exc, f"read the journal {path}") from None

    def write(self, ns: Namespace, kind: str, data: bytes) -> None:
        path = self._path(ns, kind)
        temp = os.path.join(self.directory, f".{ns.dev}-{ns.ino}.{kind}.{os.getpid()}.tmp")
        try:
            fd = self._create(temp)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temp, path)
            self._sync_directory()
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise _failure(
                exc, f"write the journal {path} (set {RUN_DIR_ENV} to a writable directory)"
            ) from None

    def _create(self, temp: str) -> int:
        # Another process removes the directory when its last journal goes;
        # if that happens between our mkdir and open, make it again.
        for _ in range(10):
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            try:
                return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            except FileNotFoundError:
                continue
        raise OSError(errno.ENOENT, f"{self.directory} keeps disappearing")

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, ns: Namespace, kind: str) -> None:
        path = self._path(ns, kind)
        # Temp files of this journal belong to dead writers: the caller holds the lock.
        leftovers = f".{ns.dev}-{ns.ino}.{kind}."
        try:
            for name in os.listdir(self.directory):
                if name.startswith(leftovers) and name.endswith(".tmp"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(self.directory, name))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            self._sync_directory()
        except FileNotFoundError:  # no directory: no journal
            return
        except OSError as exc:
            raise _failure(exc, f"remove the journal {path}") from None
        with contextlib.suppress(OSError):  # ENOTEMPTY: another namespace's journal is there
            os.rmdir(self.directory)

    def writer(self) -> Writer:
        return Writer(os.getpid(), os.getpgrp())

    def wait_for_leftovers(
        self, ns: Namespace, program: str, writers: Sequence[Writer], timeout: float
    ) -> list[int]:
        deadline = time.monotonic() + timeout
        while True:
            pids = list(_leftovers(ns, program, writers))
            if not pids or time.monotonic() >= deadline:
                return pids
            time.sleep(_POLL)


def _leftovers(ns: Namespace, program: str, writers: Sequence[Writer]) -> Iterator[int]:
    """Processes running ``program`` in ``ns`` that a dead writer started.

    A child keeps its parent's process group; once the parent is dead its
    parent pid is someone else's (a live writer's own children are not
    leftovers). Zombies have finished.
    """
    groups = {w.pgid for w in writers}
    parents = {w.pid for w in writers}
    name = os.fsencode(program)
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read()
            state, ppid, pgid = stat[stat.rindex(b")") + 2 :].split(maxsplit=4)[:3]
            if int(pgid) not in groups or int(ppid) in parents or state in (b"Z", b"X"):
                continue
            st = os.stat(f"/proc/{entry.name}/ns/net")
            if (st.st_dev, st.st_ino) != (ns.dev, ns.ino):
                continue
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                argv0 = handle.read().split(b"\0", 1)[0]
        except (OSError, ValueError):  # gone meanwhile, or not ours to read
            continue
        if os.path.basename(argv0) == name:
            yield int(entry.name)


@dataclass
class MemoryJournals:
    """A ``Journals`` in memory, for tests: namespaces are names, cookies are settable.

    ``stuck`` are pids that ``wait_for_leftovers`` reports as still running;
    ``writes`` counts durable writes.
    """

    files: dict[tuple[int, str], bytes] = field(default_factory=dict)
    cookies: dict[str | None, int | None] = field(default_factory=dict)
    stuck: list[int] = field(default_factory=list)
    me: Writer = Writer(4242, 4242)
    writes: int = 0
    waits: list[tuple[str, tuple[Writer, ...]]] = field(default_factory=list)
    _inodes: dict[str | None, int] = field(default_factory=dict)

    def any(self) -> bool:
        return bool(self.files)

    def locate(self, netns: str | None) -> Namespace:
        return Namespace(netns, 0, self._inodes.setdefault(netns, len(self._inodes) + 1))

    def cookie(self, netns: str | None) -> int | None:
        return self.cookies.get(netns, 1)

    def kinds(self, ns: Namespace) -> list[str]:
        return sorted(kind for ino, kind in self.files if ino == ns.ino)

    def read(self, ns: Namespace, kind: str) -> bytes | None:
        return self.files.get((ns.ino, kind))

    def write(self, ns: Namespace, kind: str, data: bytes) -> None:
        self.files[(ns.ino, kind)] = data
        self.writes += 1

    def remove(self, ns: Namespace, kind: str) -> None:
        self.files.pop((ns.ino, kind), None)

    def writer(self) -> Writer:
        return self.me

    def wait_for_leftovers(
        self, ns: Namespace, program: str, writers: Sequence[Writer], timeout: float
    ) -> list[int]:
        self.waits.append((program, tuple(writers)))
        return list(self.stuck)
