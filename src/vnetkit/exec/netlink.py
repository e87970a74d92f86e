"""Netlink to any namespace without forking: one socket per namespace, opened inside it.

Owns: opening a NETLINK_ROUTE socket *inside* the target namespace (on the
creating thread of ``netns.create``, or on the namespace's worker thread, see
``runner``), proving it is there (SIOCGSKNS: the kernel tells which
namespace a socket belongs to), the request/reply exchange on it, and turning
the kernel's errors into vnetkit's.

Messages are pyroute2's (its codec: ``ifinfmsg``, ``ifaddrmsg`` ... with
every attribute's layout); the exchange is ours. pyroute2's own request
layer (``IPRoute.link(...)``) costs 150-300 us of Python per request, five
to ten times the kernel's work for most requests, measured in
``benchmarks/bench_links.py``; its ``netns=`` forks a helper per namespace,
and an ``IPRoute()`` made on a thread opens its socket on whatever thread
first uses it, which would be the root namespace.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

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
from vnetkit.exec import nsfs
from vnetkit.exec.runner import SystemRunner, default_runner, netns_path

__all__ = [
    "NLM_F_ACK",
    "NLM_F_APPEND",
    "NLM_F_CREATE",
    "NLM_F_DUMP",
    "NLM_F_ECHO",
    "NLM_F_EXCL",
    "NLM_F_REPLACE",
    "NLM_F_REQUEST",
    "Channel",
    "Netlink",
    "NetlinkBackend",
    "classify_netlink",
    "default_netlink",
]

T = TypeVar("T")

NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_ECHO = 0x8
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_APPEND = 0x800
_NLM_F_CAPPED = 0x100  # on an error: the request's payload is not echoed back
_NLM_F_ACK_TLVS = 0x200  # on an error: extended-ack attributes follow
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLMSGERR_ATTR_MSG = 1
_SOL_NETLINK = 270
_NETLINK_CAP_ACK = 10
_NETLINK_EXT_ACK = 11
_NETLINK_GET_STRICT_CHK = 12
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_BUFFER = 1 << 16  # the kernel fills dump replies up to 32 KiB; a larger datagram is an error
_DUMP_RETRIES = 5

_SIOCGSKNS = 0x894C  # get a socket's network namespace as an fd


def _namespace_inode_of(sock: socket.socket) -> int:
    fd = fcntl.ioctl(sock.fileno(), _SIOCGSKNS)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def _open_socket() -> socket.socket:
    """A NETLINK_ROUTE socket in the calling thread's namespace, with extended acks."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
    try:
        sock.setsockopt(_SOL_NETLINK, _NETLINK_EXT_ACK, 1)  # the kernel's reason, in words
        sock.setsockopt(_SOL_NETLINK, _NETLINK_CAP_ACK, 1)  # errors without our request echoed
        sock.setsockopt(_SOL_NETLINK, _NETLINK_GET_STRICT_CHK, 1)  # dumps filtered by the kernel
        sock.bind((0, 0))
    except OSError:
        sock.close()
        raise
    return sock


def _extack(reply: memoryview, flags: int, offset: int) -> str:
    """The kernel's message (NLMSGERR_ATTR_MSG) in an error reply, or ''."""
    if not flags & _NLM_F_ACK_TLVS:
        return ""
    length = _HEADER.unpack_from(reply, offset)[0]
    # After the header and errno: the request's header (and its payload unless capped), then the TLVs.
    request_length = 16 if flags & _NLM_F_CAPPED else _HEADER.unpack_from(reply, offset + 20)[0]
    start = offset + 20 + request_length
    end = offset + length
    while start + 4 <= end:
        size, kind = struct.unpack_from("=HH", reply, start)
        if size < 4:
            break
        if kind & 0x3FFF == _NLMSGERR_ATTR_MSG:
            return bytes(reply[start + 4 : start + size]).split(b"\0", 1)[0].decode("utf-8", "replace")
        start += (size + 3) & ~3
    return ""


class Channel:
    """One netlink socket in one namespace: requests in order, replies matched by sequence number."""

    def __init__(self, sock: socket.socket, inode: int) -> None:
        self.inode = inode
        self._sock = sock
        self._lock = threading.Lock()
        self._seq = 0

    def exchange(self, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        """Send pyroute2 message ``msg`` as ``msg_type`` and return the replies (whole messages).

        A request with NLM_F_DUMP collects every part of the dump (again if
        the kernel says it was interrupted); others wait for the ack (or the
        reply of a GET, then the ack: every request but a dump asks for one).
        A kernel error raises pyroute2's
        ``NetlinkError(errno, extack message)``.
        """
        for _ in range(_DUMP_RETRIES):
            replies, interrupted = self._once(msg, msg_type, flags)
            if not interrupted:
                return replies
        raise NetlinkError(errno.EINTR, "dump interrupted by changes, again and again")

    def _once(self, msg: Any, msg_type: int, flags: int) -> tuple[list[bytes], bool]:
        with self._lock:
            self._seq = seq = (self._seq + 1) & 0xFFFFFFFF or 1
            header = msg["header"]
            header["type"] = msg_type
            dump = (flags & NLM_F_DUMP) == NLM_F_DUMP
            header["flags"] = flags | NLM_F_REQUEST | (0 if dump else NLM_F_ACK)
            header["sequence_number"] = seq
            header["pid"] = 0
            msg.encode()
            self._sock.send(msg.data)
            return self._collect(seq)

    def _collect(self, seq: int) -> tuple[list[bytes], bool]:
        replies: list[bytes] = []
        interrupted = False
        buffer = bytearray(_BUFFER)
        view = memoryview(buffer)
        while True:
            size = self._sock.recv_into(buffer, _BUFFER, socket.MSG_TRUNC)
            if size > _BUFFER:
                raise NetlinkError(errno.EMSGSIZE, f"netlink reply of {size} bytes is too large")
            offset = 0
            while offset + 16 <= size:
                length, kind, flags, got, _ = _HEADER.unpack_from(buffer, offset)
                if length < 16 or offset + length > size:
                    raise NetlinkError(errno.EBADMSG, "malformed netlink reply")
                if got != seq:  # a late reply to an earlier, abandoned request
                    offset += (length + 3) & ~3
                    continue
                if kind == _NLMSG_ERROR:
                    code = -struct.unpack_from("=i", buffer, offset + 16)[0]
                    if code:
                        raise NetlinkError(code, _extack(view, flags, offset))
                    return replies, interrupted
                if kind == _NLMSG_DONE:
                    return replies, interrupted or bool(flags & NLM_F_DUMP_INTR)
                interrupted = interrupted or bool(flags & NLM_F_DUMP_INTR)
                replies.append(bytes(buffer[offset : offset + length]))
                offset += (length + 3) & ~3

    def close(self) -> None:
        self._sock.close()


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
    """The vnetkit error for a netlink/OS failure while doing ``action``."""
    code = getattr(exc, "code", None) if isinstance(exc, NetlinkError) else getattr(exc, "errno", None)
    if code in (errno.EPERM, errno.EACCES):
        return PermissionDenied(f"{action}: permission denied; CAP_NET_ADMIN is needed (run as root)")
    reason = os.strerror(code) if isinstance(code, int) and code > 0 else str(exc)
    detail = str(getattr(exc, "args", ("", ""))[-1]) if isinstance(exc, NetlinkError) else ""
    if detail and detail != reason and isinstance(code, int):
        reason = f"{reason} ({detail})"
    cls = _BY_ERRNO.get(code, OperationError) if isinstance(code, int) else OperationError
    return cls(f"{action}: {reason}")


class Netlink(Protocol):
    """What clients of rtnetlink need: send one request in a namespace and get its replies.

    :class:`NetlinkBackend` is the real one (a socket per namespace);
    ``vnetkit.exec.fake_netlink.FakeNetlink`` answers from an in-memory model,
    for tests without root.
    """

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        """Send ``msg`` (a pyroute2 message) in ``netns``; the replies' bytes, or a vnetkit error
        naming ``action``."""
        ...


class NetlinkBackend:
    """The one door to netlink: a ``Channel`` per namespace, opened inside it.

    Channels are cached per namespace and inode (a namespace re-created under
    the same name gets a new socket). ``exchange`` sends one request and
    classifies what goes wrong.
    """

    def __init__(self, runner: SystemRunner | None = None) -> None:
        self._runner = runner if runner is not None else default_runner()  # its own threads otherwise
        self._channels: dict[str | None, Channel] = {}
        self._guard = threading.Lock()

    def channel(self, netns: str | None) -> Channel:
        """The channel of ``netns`` (None: the caller's own namespace)."""
        if netns is None:
            inode = os.stat("/proc/self/ns/net").st_ino
        else:
            try:
                inode = os.stat(netns_path(netns)).st_ino
            except FileNotFoundError:
                self.release(netns)
                raise nsfs.missing(netns) from None
        with self._guard:
            cached = self._channels.get(netns)
            if cached is not None and cached.inode == inode:
                return cached
        sock = _open_socket() if netns is None else self._runner.call_in(netns, _open_socket)
        if _namespace_inode_of(sock) != inode:  # never talk to the wrong namespace
            sock.close()
            where = netns or "this namespace"
            raise OperationError(f"netlink socket for {where} opened in another namespace")
        return self._keep(netns, Channel(sock, inode))

    def _keep(self, netns: str | None, channel: Channel) -> Channel:
        with self._guard:
            stale = self._channels.get(netns)
            self._channels[netns] = channel
        if stale is not None and stale is not channel:
            stale.close()
        return channel

    def adopt(self, name: str, inode: int) -> None:
        """Open the channel of namespace ``name`` from a thread already inside it (``netns.create``)."""
        try:
            sock = _open_socket()
        except OSError:
            return  # opened on first use instead
        self._keep(name, Channel(sock, inode))

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        """One request in ``netns``; failures become vnetkit errors naming ``action``."""
        channel = self.channel(netns)
        try:
            return channel.exchange(msg, msg_type, flags)
        except (NetlinkError, OSError) as exc:
            raise classify_netlink(exc, action=action) from None

    def in_namespace(self, netns: str | None, fn: Callable[[], T]) -> T:
        """Run ``fn`` on a thread inside ``netns`` (for /proc/sys and /dev/net/tun)."""
        return fn() if netns is None else self._runner.call_in(netns, fn)

    def release(self, netns: str | None) -> None:
        """Close the socket of ``netns`` (before the namespace goes)."""
        with self._guard:
            cached = self._channels.pop(netns, None)
        if cached is not None:
            cached.close()

    def close(self) -> None:
        """Close every socket."""
        with self._guard:
            channels = list(self._channels.values())
            self._channels.clear()
        for channel in channels:
            channel.close()


def default_netlink() -> NetlinkBackend:
    """The netlink backend of the default host: what link clients use when given none."""
    from vnetkit.exec.host import default_host  # noqa: PLC0415 - the host module imports this one

    return default_host().netlink
