"""Create, list and delete named network namespaces, the way iproute2 does.

Owns: the lifetime of ``/run/netns/<name>`` bind mounts. A namespace made here
is indistinguishable from one made by ``ip netns add``, costs no process, and
is made on a thread of vnetkit's own (a ``Maker``, which the ``Host`` keeps)
so the caller's namespace never changes. ``create``/``delete`` work through
a host (``host=``, else the default one), which releases its threads and
sockets in a namespace before deleting it. Does not own: running programs
inside a namespace (``runner``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import queue
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from vnetkit.errors import AlreadyExists, NotFound, OperationError, PermissionDenied
from vnetkit.exec import _linux
from vnetkit.exec.runner import NETNS_RUN_DIR, SystemRunner, netns_path

if TYPE_CHECKING:
    from vnetkit.exec.host import Host

__all__ = ["create", "delete", "exists", "list_names"]

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1


def ensure_run_dir() -> None:
    """Make /run/netns a shared mount point, as ``ip netns add`` does (a host does it once)."""
    os.makedirs(NETNS_RUN_DIR, mode=0o755, exist_ok=True)
    try:
        _linux.mount("", NETNS_RUN_DIR, "none", _linux.MS_SHARED | _linux.MS_REC)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        # Not a mount point yet: bind it onto itself, then make it shared.
        _linux.mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", _linux.MS_BIND | _linux.MS_REC)
        _linux.mount("", NETNS_RUN_DIR, "none", _linux.MS_SHARED | _linux.MS_REC)


def _set_loopback_up() -> None:
    """Bring ``lo`` up in the calling thread's namespace."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, req))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


class Maker:
    """One long-lived thread that makes namespaces, going back home after each.

    unshare(CLONE_NEWNET) moves the calling thread into the new namespace; the
    maker then bind-mounts it, brings ``lo`` up, runs the creation hooks, and
    setns()es back to the process's namespace (so it never pins one it made).
    One thread for every namespace saves starting one per namespace (~70 us
    of the ~0.6 ms a namespace costs).
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[[], None], Future[None]] | None] = queue.SimpleQueue()
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.broken = False
        threading.Thread(target=self._main, name="vnetkit-netns-maker", daemon=True).start()

    def _main(self) -> None:
        while (item := self._queue.get()) is not None:
            fn, future = item
            failure: BaseException | None = None
            try:
                _linux.setns(self._home)  # start every job at home
                fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                failure = exc
            try:
                _linux.setns(self._home)  # home before the caller hears back: it may delete the namespace
            except OSError:
                self.broken = True  # stuck in a namespace it made: let it end, and pin nothing more
            if failure is not None:
                future.set_exception(failure)
            else:
                future.set_result(None)
            if self.broken:
                break
        os.close(self._home)

    def run(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the maker thread, re-raising what it raised."""
        future: Future[None] = Future()
        self._queue.put((fn, future))
        future.result()

    def stop(self) -> None:
        """End the thread (after the jobs queued before)."""
        self._queue.put(None)


def create(name: str, *, loopback_up: bool = True, host: Host | None = None) -> None:
    """Create network namespace ``name`` (``lo`` up unless told otherwise).

    Raises ``AlreadyExists`` if the name is taken, ``PermissionDenied`` without
    CAP_SYS_ADMIN. A failure leaves no file behind.
    """
    _host(host).create_netns(name, loopback_up=loopback_up)


def _host(host: Host | None) -> Host:
    if host is not None:
        return host
    from vnetkit.exec.host import default_host  # noqa: PLC0415 - the host module imports this one

    return default_host()


def build(
    name: str, *, loopback_up: bool, maker: Callable[[], Maker], created: Callable[[str, int], None]
) -> None:
    """Make namespace ``name`` on ``maker()``'s thread; ``created(name, inode)`` runs inside it, right after.

    The run directory must be a shared mount already (:func:`ensure_run_dir`).
    """
    path = netns_path(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0)
    except FileExistsError:
        raise AlreadyExists(f"create network namespace {name!r}: it already exists") from None
    except PermissionError:
        raise PermissionDenied(
            f"create network namespace {name!r}: CAP_SYS_ADMIN is needed (run as root)"
        ) from None
    os.close(fd)

    def make() -> None:
        _linux.unshare(_linux.CLONE_NEWNET)
        _linux.mount(f"/proc/self/task/{threading.get_native_id()}/ns/net", path, "none", _linux.MS_BIND)
        if loopback_up:
            _set_loopback_up()
        created(name, os.stat(path).st_ino)

    try:
        maker().run(make)
    except OSError as exc:
        _remove(path)
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise PermissionDenied(
                f"create network namespace {name!r}: CAP_SYS_ADMIN is needed (run as root)"
            ) from None
        raise OperationError(f"create network namespace {name!r}: {exc.strerror}") from None
    except BaseException:
        _remove(path)  # nothing half-made is left, whatever went wrong
        raise


def _remove(path: str) -> None:
    try:
        _linux.umount2(path, _linux.MNT_DETACH)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOENT):
            raise
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def delete(name: str, *, runner: SystemRunner | None = None, host: Host | None = None) -> None:
    """Delete network namespace ``name``; ``NotFound`` if it does not exist.

    The host's worker thread and socket in the namespace end first (a thread
    left inside would keep the namespace alive, unseen); pass any other
    SystemRunner that worked there so its worker ends too.
    """
    if runner is not None:
        runner.release(name)
    _host(host).delete_netns(name)


def remove(name: str) -> None:
    """Remove the bind mount of namespace ``name``; ``NotFound`` if there is none."""
    path = netns_path(name)
    if not os.path.exists(path):
        raise NotFound(f"delete network namespace {name!r}: it does not exist")
    try:
        _remove(path)
    except PermissionError:
        raise PermissionDenied(
            f"delete network namespace {name!r}: CAP_SYS_ADMIN is needed (run as root)"
        ) from None
    except OSError as exc:
        raise OperationError(f"delete network namespace {name!r}: {exc.strerror}") from None


def exists(name: str) -> bool:
    """True if namespace ``name`` exists."""
    return os.path.exists(netns_path(name))


def list_names() -> list[str]:
    """Names of all named network namespaces, sorted."""
    try:
        return sorted(os.listdir(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []
