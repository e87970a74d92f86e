"""Netlink to any namespace without forking: one pyroute2 ``IPRoute`` per namespace.

Owns: opening a NETLINK_ROUTE socket *inside* the target namespace (on the
namespace's worker thread, see ``runner``), proving it is there (SIOCGSKNS:
the kernel tells which namespace a socket belongs to) before handing it to
pyroute2 with ``use_socket``, and turning pyroute2's errors into vnetkit's.

Why not pyroute2's own ``netns=``: it forks a helper per namespace (~3.5 ms)
and ``IPRoute()`` made on a thread opens its socket lazily on whatever thread
first uses it, so it would land in the caller's (root) namespace.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import threading
from collections.abc import Callable
from typing import TypeVar

from pyroute2 import IPRoute
from pyroute2.netlink import NETLINK_ROUTE
from pyroute2.netlink.exceptions import NetlinkError

from vnetkit.errors import (
    AlreadyExists,
    ConfigError,
    InUse,
    NotFound,
    OperationError,
    PermissionDenied,
    UnsupportedError,
    VnetkitError,
)
from vnetkit.exec.runner import SystemRunner, default_runner, netns_path, on_namespace_release

__all__ = ["NetlinkBackend", "classify_netlink", "default_netlink"]

T = TypeVar("T")

_SIOCGSKNS = 0x894C  # get a socket's network namespace as an fd


def _namespace_inode_of(sock: socket.socket) -> int:
    fd = fcntl.ioctl(sock.fileno(), _SIOCGSKNS)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


_BY_ERRNO: dict[int, type[VnetkitError]] = {
    errno.EEXIST: AlreadyExists,
    errno.ENODEV: NotFound,
    errno.ENOENT: NotFound,
    errno.ESRCH: NotFound,
    errno.EADDRNOTAVAIL: NotFound,
    errno.EBUSY: InUse,
    errno.EOPNOTSUPP: UnsupportedError,
    errno.EAFNOSUPPORT: UnsupportedError,
    errno.EPROTONOSUPPORT: UnsupportedError,
    errno.EINVAL: ConfigError,
    errno.ERANGE: ConfigError,
    errno.E2BIG: ConfigError,
}


def classify_netlink(exc: BaseException, *, action: str) -> VnetkitError:
    """The vnetkit error for a pyroute2/OS failure while doing ``action``."""
    code = getattr(exc, "code", None) if isinstance(exc, NetlinkError) else getattr(exc, "errno", None)
    if code in (errno.EPERM, errno.EACCES):
        return PermissionDenied(f"{action}: permission denied; CAP_NET_ADMIN is needed (run as root)")
    reason = os.strerror(code) if isinstance(code, int) and code > 0 else str(exc)
    cls = _BY_ERRNO.get(code, OperationError) if isinstance(code, int) else OperationError
    return cls(f"{action}: {reason}")


class NetlinkBackend:
    """The one door to netlink: an ``IPRoute`` per namespace, opened inside it.

    Sockets are cached per namespace and inode (a namespace re-created under
    the same name gets a new socket). ``call`` runs a function with the right
    ``IPRoute`` and classifies what it raises.
    """

    def __init__(self, runner: SystemRunner | None = None) -> None:
        self._runner = runner if runner is not None else default_runner()
        self._routes: dict[str | None, tuple[int, IPRoute]] = {}
        self._guard = threading.Lock()

    def route(self, netns: str | None) -> IPRoute:
        """The ``IPRoute`` of ``netns`` (None: the caller's own namespace)."""
        if netns is None:
            inode = os.stat("/proc/self/ns/net").st_ino
        else:
            try:
                inode = os.stat(netns_path(netns)).st_ino
            except FileNotFoundError:
                self.release(netns)
                raise NotFound(f"network namespace {netns!r} does not exist") from None
        with self._guard:
            cached = self._routes.get(netns)
            if cached is not None and cached[0] == inode:
                return cached[1]
        route = self._open(netns, inode)
        with self._guard:
            stale = self._routes.get(netns)
            self._routes[netns] = (inode, route)
        if stale is not None:
            stale[1].close()
        return route

    def _open(self, netns: str | None, inode: int) -> IPRoute:
        def make() -> socket.socket:
            return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_ROUTE)

        sock = make() if netns is None else self._runner.call_in(netns, make)
        if _namespace_inode_of(sock) != inode:  # never talk to the wrong namespace
            sock.close()
            where = netns or "this namespace"
            raise OperationError(f"netlink socket for {where} opened in another namespace")
        return IPRoute(use_socket=sock)

    def call(self, netns: str | None, action: str, fn: Callable[[IPRoute], T]) -> T:
        """``fn(route)`` for ``netns``; failures become vnetkit errors naming ``action``."""
        route = self.route(netns)
        try:
            return fn(route)
        except VnetkitError:
            raise
        except (NetlinkError, OSError) as exc:
            raise classify_netlink(exc, action=action) from None

    def in_namespace(self, netns: str | None, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a thread inside ``netns`` (for /proc/sys and /dev/net/tun)."""
        return fn() if netns is None else self._runner.call_in(netns, fn)

    def release(self, netns: str | None) -> None:
        """Close the socket of ``netns`` (before the namespace goes)."""
        with self._guard:
            cached = self._routes.pop(netns, None)
        if cached is not None:
            cached[1].close()

    def close(self) -> None:
        """Close every socket."""
        with self._guard:
            routes = list(self._routes.values())
            self._routes.clear()
        for _, route in routes:
            route.close()


_default: NetlinkBackend | None = None
_default_guard = threading.Lock()


def default_netlink() -> NetlinkBackend:
    """The process-wide backend that link clients use when given none."""
    global _default  # noqa: PLW0603 - a lazily made shared resource, not behaviour
    with _default_guard:
        if _default is None:
            _default = NetlinkBackend()
            on_namespace_release(_default.release)
        return _default
