"""Run programs, in the caller's or in a named network namespace.

Owns: the ``Runner`` protocol (one method that runs an argv), its real
implementation ``SystemRunner``, and the per-namespace worker threads.
Does not own: what a failure means (``classify``) or namespace lifetime
(``netns``).

Entering a namespace costs no extra process: each namespace gets one worker
thread that calls setns(2) once and then spawns every program itself; children
inherit the thread's namespace (a ``preexec_fn`` would force the slow fork
path, and ``ip netns exec`` costs a whole extra process per call). The thread
only starts a program; the caller feeds it, waits for it and reads its output
(``_launch``), so programs in one namespace run one after another only if
their callers do. Programs start through posix_spawn(3) with file actions for
their stdin and output: ~0.1 ms a call less than ``subprocess`` here.

Programs named without a ``/`` are looked up on ``PATH`` once and then run by
absolute path: exec by bare name tries every ``PATH`` directory in turn (one
failed execve each), for every call.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import queue
import shutil
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Protocol, TypeVar

from vnetkit.errors import ConfigError, MissingTool, NotFound, PermissionDenied
from vnetkit.exec import _linux

__all__ = [
    "NETNS_RUN_DIR",
    "Completed",
    "Input",
    "Runner",
    "ScratchRunner",
    "SystemRunner",
    "default_runner",
    "netns_path",
    "validate_netns_name",
]

NETNS_RUN_DIR = "/run/netns"

T = TypeVar("T")

# The Debian/Ubuntu package that provides each program vnetkit runs.
_PACKAGE_OF = {
    "iptables": "iptables",
    "ip6tables": "iptables",
    "ip": "iproute2",
    "nft": "nftables",
    "conntrack": "conntrack",
    "ipset": "ipset",
}


@dataclass(frozen=True, slots=True)
class Completed:
    """What a finished program left: its argv, exit status and output."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    """Runs programs; the only door from vnetkit to other processes."""

    def run(self, argv: Sequence[str], *, netns: str | None = None, input: Input = None) -> Completed:
        """Run ``argv`` (inside ``netns`` when given) and return what it left.

        ``input`` is its stdin: a string, or pieces written as each is made.
        """
        ...

    def lock(self, netns: str | None = None) -> AbstractContextManager[None]:
        """Hold an exclusive lock shared by every vnetkit process on ``netns``."""
        ...

    def scratch(self) -> AbstractContextManager[Runner]:
        """A runner whose programs run in a private, unnamed namespace that ends with the block."""
        ...


def validate_netns_name(name: str) -> str:
    """Return ``name`` if it can name a network namespace, else raise ConfigError."""
    if not name or name in {".", ".."} or "/" in name or "\0" in name or len(name) > 255:
        raise ConfigError(
            f"invalid network namespace name {name!r}: use 1-255 characters without '/', not '.' or '..'"
        )
    return name


def netns_path(name: str) -> str:
    """Path of the bind mount that keeps namespace ``name`` alive."""
    return f"{NETNS_RUN_DIR}/{validate_netns_name(name)}"


def _package_hint(program: str) -> str:
    base = os.path.basename(program).split("-", 1)[0]
    package = _PACKAGE_OF.get(base, base)
    return f"install it: apt-get install {package}"


# Program name -> (the PATH it was looked up in, its absolute path there), kept by
# each runner. One entry per program, replaced when PATH changes; lookups that
# find nothing are not kept (the program may be installed later).
Where = dict[str, tuple[str | None, str]]


def _which(program: str, where: Where) -> tuple[str, bool]:
    """The file to exec for ``program``, and whether it came from the cache.

    A name with a ``/`` is used as given. A name found nowhere (or only as a
    file we may not execute) comes back bare, so exec searches PATH itself and
    fails exactly as it always has (``MissingTool``, ``PermissionDenied``).
    """
    if "/" in program:
        return program, False
    path = os.environ.get("PATH")
    hit = where.get(program)
    if hit is not None and hit[0] == path:
        return hit[1], True
    # exec's own search uses os.defpath when PATH is unset; look where it would.
    found = shutil.which(program, path=os.defpath if path is None else path)
    if found is None or not os.path.isabs(found):  # a relative PATH entry depends on the cwd
        return program, False
    where[program] = (path, found)
    return found, False


Input = str | Iterable[str] | None


def _spawn(argv: tuple[str, ...], input: Input, where: Where | None = None) -> Completed:
    """Run ``argv`` to its end, ``input`` on its stdin, and return what it left.

    The child is started by posix_spawn(3) (a vfork and an exec, nothing of
    Python in between) with file actions: stdin is ``/dev/null`` or a pipe
    that ``input`` is written to, stdout and stderr are memory files read
    after it exits, so no amount of output can block either side. Bytes that
    are not UTF-8 come back as surrogates (iptables cuts comments by bytes
    and can print half a character; a restore writes them back unchanged).
    """
    return _launch(argv, input, where).finish()


def _launch(argv: tuple[str, ...], input: Input, where: Where | None = None) -> _Child:
    """Start ``argv`` as :func:`_spawn` does and return it running.

    This half must run on a namespace's thread (the child is in the thread's
    namespace); :meth:`_Child.finish` can run on the caller's: the thread is
    free while the program runs, and the caller is woken by the program's
    exit, not by the thread (a thread wake-up less per call, ~50 us here).
    """
    out = os.memfd_create("stdout", os.MFD_CLOEXEC)
    err = stdin = -1
    try:
        err = os.memfd_create("stderr", os.MFD_CLOEXEC)
        if input is None:
            pid = _start(argv, (_STDIN_NULL, (_DUP2, out, 1), (_DUP2, err, 2)), where)
        else:
            read_end, stdin = os.pipe2(os.O_CLOEXEC)
            try:
                with contextlib.suppress(OSError):  # the pipe keeps its default size
                    fcntl.fcntl(stdin, _F_SETPIPE_SZ, _PIPE_SIZE)
                pid = _start(argv, ((_DUP2, read_end, 0), (_DUP2, out, 1), (_DUP2, err, 2)), where)
            finally:
                os.close(read_end)
    except BaseException:
        for fd in (out, err, stdin):
            if fd >= 0:
                os.close(fd)
        raise
    return _Child(argv, pid, out=out, err=err, stdin=stdin, input=input)


class _Child:
    """A program :func:`_launch` started; :meth:`finish` feeds it, waits for it and reads what it left.

    One never finished (its caller was interrupted while the namespace's
    thread started it) is killed and reaped when dropped, its descriptors closed.
    """

    def __init__(
        self, argv: tuple[str, ...], pid: int, *, out: int, err: int, stdin: int, input: Input
    ) -> None:
        self._argv = argv
        self._pid = pid
        self._out = out
        self._err = err
        self._stdin = stdin  # -1 without input
        self._input = input
        self._running = True

    def finish(self) -> Completed:
        """Write the input, wait for the exit, return what the program left (call once)."""
        self._running = False
        try:
            if self._input is None:
                returncode = _wait(self._pid)
            else:
                stdin, self._stdin = self._stdin, -1  # _stream closes it
                pieces = (self._input,) if isinstance(self._input, str) else self._input
                returncode = _stream(self._pid, stdin, pieces)
            return Completed(self._argv, returncode, _text(self._out), _text(self._err))
        finally:
            self._close()

    def _close(self) -> None:
        for fd in (self._out, self._err, self._stdin):
            if fd >= 0:
                os.close(fd)
        self._out = self._err = self._stdin = -1

    def __del__(self) -> None:
        if self._running:
            _kill(self._pid)
            self._close()


# File actions: stdin from /dev/null (opened by the child), and dup2(fd, target).
_STDIN_NULL = (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)
_DUP2 = os.POSIX_SPAWN_DUP2
# A stdin pipe this big: the writer rarely waits, the reader reads big blocks.
_F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Python 3.11 lacks the name)
_PIPE_SIZE = 1 << 20  # /proc/sys/fs/pipe-max-size's default
# Python ignores these; subprocess sets them back to their defaults in a child, and so does _start.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)
# The environment children get: os.environ's own dict of bytes, which every change to os.environ
# updates in place. Passed as it is, it costs ~5 us a spawn here; os.environb costs ~30 us and
# os.environ ~38 us (both are mappings that convert every key and value, in Python, each time).
_ENVIRON: Mapping[bytes, bytes] = getattr(os.environ, "_data", os.environb)


def _start(argv: tuple[str, ...], actions: Sequence[tuple[object, ...]], where: Where | None = None) -> int:
    """Start ``argv`` with the file ``actions`` and return its pid.

    The child inherits the calling thread's namespace, the environment and
    every inheritable descriptor (Python makes none by default) besides
    those the actions set. ``MissingTool`` or ``PermissionDenied`` when it
    cannot be executed.
    """
    known: Where = where if where is not None else {}
    executable, cached = _which(argv[0], known)
    # ``executable`` is what runs; the child still gets the caller's argv[0]. A bare
    # name (not found by _which) is searched by exec itself, to fail as it always has.
    spawn = os.posix_spawn if "/" in executable else os.posix_spawnp
    try:
        return spawn(executable, argv, _ENVIRON, file_actions=actions, setsigdef=_DEFAULT_SIGNALS)
    except FileNotFoundError:
        if cached:  # removed or moved since it was found: look again, once
            known.pop(argv[0], None)
            return _start(argv, actions, known)
        raise MissingTool(f"{argv[0]}: command not found; {_package_hint(argv[0])}", argv=argv) from None
    except PermissionError as exc:
        raise PermissionDenied(f"{argv[0]}: cannot execute ({exc.strerror})", argv=argv) from None


def _wait(pid: int) -> int:
    """Wait for child ``pid`` and return its exit status (negative: the signal that ended it).

    An interrupted wait (KeyboardInterrupt) kills the child first, as ``subprocess.run`` does.
    """
    try:
        status = os.waitpid(pid, 0)[1]
    except BaseException:
        _kill(pid)
        raise
    return os.waitstatus_to_exitcode(status)


def _kill(pid: int) -> None:
    """Kill child ``pid`` and reap it."""
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _text(fd: int) -> str:
    """What a child wrote to memory file ``fd``, decoded (bytes that are not UTF-8 as surrogates)."""
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0) if size else b""
    while len(data) < size:  # one pread returns at most ~2 GiB
        data += os.pread(fd, size - len(data), len(data))
    return data.decode("utf-8", "surrogateescape")


def _enter_fd(fd: int) -> None:
    try:
        _linux.setns(fd)
    finally:
        os.close(fd)


def _enter_new() -> None:
    _linux.unshare(_linux.CLONE_NEWNET)


def _stream(pid: int, stdin: int, pieces: Iterable[str]) -> int:
    """Write ``pieces`` to the ``stdin`` pipe of program ``pid`` as each is made; return its exit status.

    A program that reads its input as it comes (iptables-restore) works on the
    first pieces while the caller makes the next. Its output goes to memory
    files, so neither side can block the other; if it exits early (an error),
    the pieces left are not made. If making a piece fails, the program is
    killed before it sees the end of its input (half an input is never
    applied) and the error raised. ``stdin`` is closed here.
    """
    try:
        for piece in pieces:
            data = memoryview(piece.encode("utf-8", "surrogateescape"))
            while data:
                data = data[os.write(stdin, data) :]
    except BrokenPipeError:
        pass  # it stopped reading: its exit status and stderr say why
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(stdin)
    return _wait(pid)


class _NetnsWorker:
    """One thread living in one network namespace, running calls in order.

    ``enter`` moves the new thread into its namespace: setns(2) into a named
    one, or unshare(2) for a private one that dies with the thread.
    """

    def __init__(self, name: str, enter: Callable[[], None], ident: tuple[int, int]) -> None:
        self.name = name
        self.ident = ident
        self._enter = enter
        self._queue: queue.SimpleQueue[tuple[Callable[[], object], Future[object]] | None] = (
            queue.SimpleQueue()
        )
        self._ready = threading.Event()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._main, name=f"vnetkit-netns-{name}", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _main(self) -> None:
        try:
            self._enter()
        except OSError as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        while (item := self._queue.get()) is not None:
            fn, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                future.set_exception(exc)

    def call(self, fn: Callable[[], T]) -> T:
        future: Future[object] = Future()
        self._queue.put((fn, future))
        return future.result()  # type: ignore[return-value]

    def close(self) -> None:
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join()


@contextmanager
def _scratch() -> Iterator[ScratchRunner]:
    try:
        worker = _NetnsWorker("(scratch)", _enter_new, (0, 0))
    except PermissionError:
        raise PermissionDenied(
            "cannot make a scratch network namespace: CAP_SYS_ADMIN is needed (run as root)"
        ) from None
    try:
        yield ScratchRunner(worker)
    finally:
        worker.close()


class ScratchRunner:
    """Runs programs in a private namespace made by :meth:`SystemRunner.scratch`; nobody else
    can reach it, so its lock is a no-op and ``netns`` must be None."""

    def __init__(self, worker: _NetnsWorker) -> None:
        self._worker = worker
        self._where: Where = {}

    def run(self, argv: Sequence[str], *, netns: str | None = None, input: Input = None) -> Completed:
        if netns is not None:
            raise ConfigError(f"a scratch runner runs only in its own namespace, not in {netns!r}")
        args = tuple(argv)
        return self._worker.call(lambda: _launch(args, input, self._where)).finish()

    def lock(self, netns: str | None = None) -> AbstractContextManager[None]:
        return nullcontext()

    def scratch(self) -> AbstractContextManager[ScratchRunner]:
        """Another private namespace, not this one (a scratch is never shared)."""
        return _scratch()


class SystemRunner:
    """The real runner: spawns programs in namespaces, and keeps a worker thread in each for code.

    A program to run in a namespace is started from the calling thread itself:
    it enters the namespace (setns on the namespace's file, kept open), starts
    the program (children inherit the thread's namespace) and goes straight
    back to the namespace it came from, before anything else can run on it. No
    other thread is woken, so a call costs what the program costs (as
    go-iptables' process per call does). Code that must run inside a namespace
    (opening a netlink socket, /proc/sys, /dev/net/tun) runs on the
    namespace's worker thread (:meth:`call_in`). One instance may serve many
    clients and threads; files and workers are made on first use of a
    namespace and dropped by :meth:`release` (``netns.delete`` calls it) or
    :meth:`close`. A namespace deleted and re-created under the same name is
    noticed (its inode changes).
    """

    def __init__(self) -> None:
        self._workers: dict[str, _NetnsWorker] = {}
        self._files: dict[str, tuple[tuple[int, int], int]] = {}  # name -> (identity, open fd)
        self._guard = threading.Lock()
        self._where: Where = {}  # where each program was found on PATH

    def run(self, argv: Sequence[str], *, netns: str | None = None, input: Input = None) -> Completed:
        args = tuple(argv)
        if netns is None:
            return _spawn(args, input, self._where)
        ident, target = self._file(netns)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            try:
                _linux.setns(target)
            except PermissionError:
                raise PermissionDenied(
                    f"cannot enter network namespace {netns!r}: CAP_SYS_ADMIN is needed (run as root)"
                ) from None
            except OSError as exc:  # the file was closed under us (a concurrent release)
                raise NotFound(f"network namespace {netns!r} is gone: {exc.strerror}") from None
            try:
                # Never start a program in the wrong namespace: the descriptor could have been
                # closed and reused by a concurrent release; the thread's namespace must be it.
                if os.stat("/proc/thread-self/ns/net").st_ino != ident[1]:
                    raise NotFound(f"network namespace {netns!r} changed while entering it")
                child = _launch(args, input, self._where)
            finally:
                _linux.setns(home)  # back where this thread was, whatever happened
        finally:
            os.close(home)
        return child.finish()

    def _file(self, netns: str) -> tuple[tuple[int, int], int]:
        """An open descriptor of namespace ``netns``'s file, kept while the namespace is the same one."""
        path = netns_path(netns)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.release(netns)
            raise NotFound(f"network namespace {netns!r} does not exist") from None
        ident = (st.st_dev, st.st_ino)
        with self._guard:
            known = self._files.get(netns)
            if known is not None and known[0] == ident:
                return known
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise NotFound(f"network namespace {netns!r} does not exist") from None
            self._files[netns] = (ident, fd)
        if known is not None:
            os.close(known[1])
        return ident, fd

    def call_in(self, netns: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the thread that lives in ``netns`` and return its result."""
        return self._worker(netns).call(fn)

    def scratch(self) -> AbstractContextManager[ScratchRunner]:
        """A private network namespace for the ``with`` block, and a runner whose programs run in it.

        Made by unshare(2) on a thread of its own: it has no name and no
        mount, ``ip netns`` never sees it, and it is gone when the block ends
        (or the process dies), so nothing can be left behind.
        """
        return _scratch()

    @contextmanager
    def lock(self, netns: str | None = None) -> Iterator[None]:
        # flock on the namespace's own nsfs inode: every process that opens the
        # same namespace shares it, and nothing is left on disk afterwards.
        path = "/proc/self/ns/net" if netns is None else netns_path(netns)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(f"network namespace {netns!r} does not exist") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    def release(self, netns: str) -> None:
        """End the worker of ``netns`` and close its file (before deleting it: nothing may pin it)."""
        with self._guard:
            worker = self._workers.pop(netns, None)
            known = self._files.pop(netns, None)
        if known is not None:
            os.close(known[1])
        if worker is not None:
            worker.close()

    def close(self) -> None:
        """End every worker, close every file."""
        with self._guard:
            workers = list(self._workers.values())
            files = [fd for _, fd in self._files.values()]
            self._workers.clear()
            self._files.clear()
        for fd in files:
            os.close(fd)
        for worker in workers:
            worker.close()

    def _worker(self, netns: str) -> _NetnsWorker:
        path = netns_path(netns)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.release(netns)
            raise NotFound(f"network namespace {netns!r} does not exist") from None
        ident = (st.st_dev, st.st_ino)
        with self._guard:
            worker = self._workers.get(netns)
            if worker is not None and worker.ident == ident:
                return worker
            stale = self._workers.pop(netns, None)
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise NotFound(f"network namespace {netns!r} does not exist") from None
            try:
                worker = _NetnsWorker(netns, functools.partial(_enter_fd, fd), ident)
            except PermissionError:
                raise PermissionDenied(
                    f"cannot enter network namespace {netns!r}: CAP_SYS_ADMIN is needed (run as root)"
                ) from None
            self._workers[netns] = worker
        if stale is not None:
            stale.close()
        return worker


def default_runner() -> SystemRunner:
    """The runner of the default host (:func:`vnetkit.exec.host.default_host`): what clients use when
    given none."""
    from vnetkit.exec.host import default_host  # noqa: PLC0415 - the host module imports this one

    return default_host().runner
