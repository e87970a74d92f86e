"""The kernel's neighbour (ARP/NDP) table: how full it is, and entries pinned for the length of a run.

Owns: ``neighbour_table`` (read-only: entries in use, the limits, how often
it was full), ``Pin`` and ``pin_neighbours``, which adds permanent entries
in lab namespaces and, through the ``Pinned`` it returns, removes exactly
the entries it added. Does not own: which entries a set of checks needs or
whether to pin them (``vnetkit.topology.check``), nor other neighbour verbs
(``vnetkit.links``: ``Links.add_neighbour``, ``neighbour_list``).

Why pin: one table serves every namespace, the host's own included, and
past the root namespace's ``gc_thresh3`` no namespace can add an entry
("neighbour table overflow"). Since Linux 4.19 permanent entries are not
counted against that limit (``tbl->gc_entries``; verified on 6.18: 2,000
permanent entries beside 1,024 allowed, no ``table_fulls``, dynamic
resolution elsewhere unaffected), so a run that would need thousands of
dynamic entries can have them made permanent first, and make none.

How: one NETLINK_ROUTE socket per namespace, opened on that namespace's
worker thread and proved to be there (SIOCGSKNS); a namespace that is the
caller's own or init's is never opened: its pins are ``missed``. Requests are
built here with ``struct`` (pyroute2 belongs to the message layer) and sent
in batches: up to ``_BATCH`` requests in one ``send``, their acks read
after, one socket call for many entries instead of a round trip each.
Entries are added with NLM_F_CREATE|NLM_F_EXCL, so one already there, in
any state, is left as it was (EEXIST) and is not removed afterwards; before
removal each namespace's entries are read back and only ours (permanent,
our link-layer address, our link) are deleted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from vnetkit.errors import OperationError, VnetkitError
from vnetkit.exec import nsfs
from vnetkit.exec.host import Host
from vnetkit.exec.netlink import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NLM_F_REQUEST,
    classify_netlink,
)
from vnetkit.exec.runner import netns_path

__all__ = ["NeighbourTable", "Pin", "Pinned", "neighbour_table", "pin_neighbours"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_RTM_GETLINK = 18
_RTM_NEWNEIGH = 28
_RTM_DELNEIGH = 29
_RTM_GETNEIGH = 30
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_NLM_F_DUMP_INTR = 0x10
_IFLA_ADDRESS = 1
_IFLA_IFNAME = 3
_IFLA_EXT_MASK = 29
_RTEXT_FILTER_SKIP_STATS = 1 << 3
_NDA_DST = 1
_NDA_LLADDR = 2
_NUD_PERMANENT = 0x80
_SOL_NETLINK = 270
_NETLINK_CAP_ACK = 10
_SIOCGSKNS = 0x894C
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port id
_IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
_NDMSG = struct.Struct("=BxxxiHBB")  # ndmsg: family, ifindex, state, flags, type
_ATTR = struct.Struct("=HH")
_BATCH = 64  # requests per send: their acks fit the socket's receive buffer
_BUFFER = 1 << 16
_DUMP_RETRIES = 5
_TIMEOUT = 10.0  # seconds a namespace's kernel may take to answer a batch


@dataclass(frozen=True, slots=True)
class NeighbourTable:
    """The kernel's neighbour table of one IP version, as read now.

    One table serves every namespace. ``in_use``: its entries, permanent
    ones included (the kernel does not publish how many count against the
    limit, so this is an upper bound). ``soft`` and ``limit``: the root
    namespace's ``gc_thresh2`` (above it for 5 s, idle entries are reclaimed
    at once) and ``gc_thresh3`` (no entry is added past it). ``fulls``: how
    many times since boot an entry could not be added because it was full.
    """

    version: int
    in_use: int
    soft: int
    limit: int
    fulls: int = 0

    @property
    def sysctl(self) -> str:
        """The sysctl behind ``limit``."""
        return f"net.{'ipv4' if self.version == 4 else 'ipv6'}.neigh.default.gc_thresh3"


def neighbour_table(version: int) -> NeighbourTable | None:
    """How full the kernel's ARP (4) or NDP (6) table is now; None if it cannot be read."""
    family = "ipv4" if version == 4 else "ipv6"
    stat = "arp_cache" if version == 4 else "ndisc_cache"
    try:
        limits = []
        for name in ("gc_thresh2", "gc_thresh3"):
            with open(f"/proc/sys/net/{family}/neigh/default/{name}", encoding="ascii") as f:
                limits.append(int(f.read()))
        with open(f"/proc/net/stat/{stat}", encoding="ascii") as f:
            columns = f.readline().split()  # then a row per CPU; "entries" is the table's, on every row
            rows = [line.split() for line in f if line.strip()]
        in_use = int(rows[0][columns.index("entries")], 16)
        fulls = sum(int(row[columns.index("table_fulls")], 16) for row in rows)
    except (OSError, ValueError, IndexError):
        return None
    return NeighbourTable(version, in_use, limits[0], limits[1], fulls)


@dataclass(frozen=True, slots=True)
class Pin:
    """A permanent entry for a run: in ``netns``, on link ``dev``, ``address`` is at the link-layer
    address of link ``owner_dev`` in namespace ``owner_netns`` (read when pinned)."""

    netns: str
    dev: str
    address: IPAddress
    owner_netns: str
    owner_dev: str


@dataclass(frozen=True, slots=True)
class _Entry:
    """A pin as sent: its namespace, ifindex, address and link-layer address."""

    pin: Pin
    index: int
    mac: bytes


@dataclass(slots=True)
class _Links:
    """The links of one namespace: ifindex and link-layer address by name."""

    index: dict[str, int] = field(default_factory=dict)
    mac: dict[str, bytes] = field(default_factory=dict)


# -- one namespace's socket --------------------------------------------------------------------------


def _host_namespaces() -> set[tuple[int, int]]:
    """(device, inode) of the caller's own network namespace and of init's."""
    found = set()
    for path in ("/proc/self/ns/net", "/proc/1/ns/net"):
        with contextlib.suppress(OSError):
            info = os.stat(path)
            found.add((info.st_dev, info.st_ino))
    return found


def _is_host_namespace(netns: str, host: set[tuple[int, int]]) -> bool:
    """Whether namespace ``netns`` is one of ``host`` (``NotFound`` if there is no such namespace)."""
    try:
        info = os.stat(netns_path(netns))
    except FileNotFoundError:
        raise nsfs.missing(netns) from None
    return (info.st_dev, info.st_ino) in host


def _open() -> socket.socket:
    """A NETLINK_ROUTE socket in the calling thread's namespace, errors without our request echoed."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    try:
        sock.setsockopt(_SOL_NETLINK, _NETLINK_CAP_ACK, 1)
        sock.bind((0, 0))
        sock.settimeout(_TIMEOUT)
    except OSError:
        sock.close()
        raise
    return sock


def _namespace_inode_of(sock: socket.socket) -> int:
    fd = fcntl.ioctl(sock.fileno(), _SIOCGSKNS)
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def _attr(kind: int, value: bytes) -> bytes:
    data = _ATTR.pack(4 + len(value), kind) + value
    return data + b"\0" * (-len(data) % 4)


def _attrs(data: bytes, start: int) -> Iterator[tuple[int, bytes]]:
    while start + 4 <= len(data):
        size, kind = _ATTR.unpack_from(data, start)
        if size < 4:
            return
        yield kind & 0x3FFF, data[start + 4 : start + size]
        start += (size + 3) & ~3


class _Socket:
    """One namespace's socket: dumps, and batches of requests whose acks are read after each send."""

    def __init__(self, host: Host, netns: str) -> None:
        self.netns = netns
        self._seq = 0
        try:
            inode = os.stat(netns_path(netns)).st_ino
        except FileNotFoundError:
            raise nsfs.missing(netns) from None
        self._sock = host.runner.call_in(netns, _open)
        try:
            if _namespace_inode_of(self._sock) != inode:
                raise OperationError(f"netlink socket for netns {netns} opened in another namespace")
        except BaseException:
            self._sock.close()
            raise

    def close(self) -> None:
        self._sock.close()

    def _next(self) -> int:
        self._seq = (self._seq + 1) & 0xFFFFFFFF or 1
        return self._seq

    def _replies(self) -> Iterator[tuple[int, int, int, bytes]]:
        """(type, flags, sequence, payload) of each message the kernel sends back, as they come."""
        buffer = bytearray(_BUFFER)
        while True:
            size = self._sock.recv_into(buffer)
            offset = 0
            while offset + 16 <= size:
                length, kind, flags, seq, _ = _HEADER.unpack_from(buffer, offset)
                if length < 16 or offset + length > size:
                    raise OSError(errno.EBADMSG, "malformed netlink reply")
                yield kind, flags, seq, bytes(buffer[offset + 16 : offset + length])
                offset += (length + 3) & ~3

    def dump(self, msg_type: int, body: bytes) -> list[bytes]:
        """Every message of a dump (again if the kernel says it changed meanwhile)."""
        for _ in range(_DUMP_RETRIES):
            seq = self._next()
            header = _HEADER.pack(16 + len(body), msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
            self._sock.send(header + body)
            found, interrupted = [], False
            for kind, flags, got, payload in self._replies():
                if got != seq:
                    continue
                if kind == _NLMSG_ERROR:
                    code = -struct.unpack_from("=i", payload)[0]
                    raise OSError(code, os.strerror(code))
                interrupted = interrupted or bool(flags & _NLM_F_DUMP_INTR)
                if kind == _NLMSG_DONE:
                    break
                found.append(payload)
            if not interrupted:
                return found
        raise OSError(errno.EINTR, "dump interrupted by changes, again and again")

    def batch(self, msg_type: int, flags: int, bodies: Sequence[bytes]) -> list[int]:
        """Send each body as a request; each one's errno (0: done), in order."""
        codes: list[int] = []
        for start in range(0, len(bodies), _BATCH):
            chunk = bodies[start : start + _BATCH]
            order: dict[int, int] = {}  # sequence number -> place in the chunk
            data = bytearray()
            for body in chunk:
                seq = self._next()
                order[seq] = len(order)
                data += _HEADER.pack(16 + len(body), msg_type, flags | NLM_F_REQUEST | NLM_F_ACK, seq, 0)
                data += body
            self._sock.send(bytes(data))
            got: dict[int, int] = {}
            for kind, _, seq, payload in self._replies():
                if kind == _NLMSG_ERROR and seq in order:
                    got[order[seq]] = -struct.unpack_from("=i", payload)[0]
                    if len(got) == len(chunk):
                        break
            codes.extend(got[i] for i in range(len(chunk)))
        return codes

    def links(self) -> _Links:
        """Every link's ifindex and link-layer address, by name."""
        request = _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        request += _attr(_IFLA_EXT_MASK, struct.pack("=I", _RTEXT_FILTER_SKIP_STATS))
        found = _Links()
        for payload in self.dump(_RTM_GETLINK, request):
            index = _IFINFO.unpack_from(payload)[2]
            attrs = dict(_attrs(payload, _IFINFO.size))
            name = attrs.get(_IFLA_IFNAME, b"").split(b"\0", 1)[0].decode("utf-8", "replace")
            found.index[name] = index
            if _IFLA_ADDRESS in attrs:
                found.mac[name] = attrs[_IFLA_ADDRESS]
        return found

    def permanent(self) -> set[tuple[int, bytes, bytes]]:
        """(ifindex, address, link-layer address) of every permanent entry."""
        found = set()
        for payload in self.dump(_RTM_GETNEIGH, _NDMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)):
            _, index, state, _, _ = _NDMSG.unpack_from(payload)
            if state & _NUD_PERMANENT:
                attrs = dict(_attrs(payload, _NDMSG.size))
                found.add((index, attrs.get(_NDA_DST, b""), attrs.get(_NDA_LLADDR, b"")))
        return found


def _neighbour(entry: _Entry, *, delete: bool = False) -> bytes:
    family = socket.AF_INET if entry.pin.address.version == 4 else socket.AF_INET6
    body = _NDMSG.pack(family, entry.index, 0 if delete else _NUD_PERMANENT, 0, 0)
    body += _attr(_NDA_DST, entry.pin.address.packed)
    return body if delete else body + _attr(_NDA_LLADDR, entry.mac)


def _mac_text(mac: bytes) -> str:
    return ":".join(f"{byte:02x}" for byte in mac)


# -- pinning --------------------------------------------------------------------------------------------


class Pinned:
    """What one ``pin_neighbours`` call did; ``remove`` (or leaving a ``with`` block) undoes it.

    ``added``: the entries it made (only these are removed). ``existing``:
    entries that were there already, in whatever state, and are left alone.
    ``missed``: pins it could not make, each with why (no such link, no
    link-layer address, the host's own namespace).
    """

    def __init__(self) -> None:
        self.added: list[Pin] = []
        self.existing: list[Pin] = []
        self.missed: list[tuple[Pin, str]] = []
        self._sockets: dict[str, _Socket] = {}
        self._entries: dict[str, list[_Entry]] = {}

    def __enter__(self) -> Pinned:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    @property
    def namespaces(self) -> list[str]:
        """The namespaces entries were added in, in order."""
        return list(dict.fromkeys(pin.netns for pin in self.added))

    def remove(self) -> None:
        """Delete the entries this call added that are still as it made them; close its sockets.

        Safe twice. Every namespace is tried; ``OperationError`` afterwards
        names the entries that could not be deleted.
        """
        failed: list[str] = []
        try:
            for netns, entries in self._entries.items():
                if entries:
                    failed.extend(self._remove_in(netns, entries))
        finally:
            self._entries.clear()
            for sock in self._sockets.values():
                sock.close()
            self._sockets.clear()
        if failed:
            raise OperationError(f"could not remove pinned neighbour entries: {'; '.join(failed[:5])}")

    def _remove_in(self, netns: str, entries: list[_Entry]) -> list[str]:
        sock = self._sockets[netns]
        try:
            present = sock.permanent()
            ours = [e for e in entries if (e.index, e.pin.address.packed, e.mac) in present]
            codes = sock.batch(_RTM_DELNEIGH, 0, [_neighbour(e, delete=True) for e in ours])
        except OSError as exc:
            return [f"{len(entries)} in netns {netns}: {exc.strerror or exc}"]
        return [
            f"{entry.pin.address} on {entry.pin.dev} in netns {netns}: {os.strerror(code)}"
            for entry, code in zip(ours, codes, strict=True)
            if code not in (0, errno.ENOENT, errno.ENODEV)
        ]

    def _socket(self, host: Host, netns: str) -> _Socket:
        if netns not in self._sockets:
            self._sockets[netns] = _Socket(host, netns)
        return self._sockets[netns]

    def _add(self, host: Host, pins: Sequence[Pin]) -> None:
        protected = _host_namespaces()
        links: dict[str, _Links | None] = {}  # None: the host's own namespace, never opened
        usable: dict[str, list[_Entry]] = {}
        for pin in pins:
            for netns in (pin.netns, pin.owner_netns):
                if netns not in links:
                    hosts = _is_host_namespace(netns, protected)
                    links[netns] = None if hosts else self._links_of(host, netns)
            mine, theirs = links[pin.netns], links[pin.owner_netns]
            index = mine.index.get(pin.dev) if mine is not None else None
            mac = theirs.mac.get(pin.owner_dev) if theirs is not None else None
            if mine is None or theirs is None:
                why = f"netns {pin.netns if mine is None else pin.owner_netns} is the host's own namespace"
            elif index is None:
                why = f"no link {pin.dev} in netns {pin.netns}"
            elif mac is None:
                why = f"no link {pin.owner_dev} with a link-layer address in netns {pin.owner_netns}"
            else:
                usable.setdefault(pin.netns, []).append(_Entry(pin, index, mac))
                continue
            self.missed.append((pin, why))
        for netns, entries in usable.items():
            self._add_in(netns, entries)

    def _links_of(self, host: Host, netns: str) -> _Links:
        sock = self._socket(host, netns)
        try:
            return sock.links()
        except OSError as exc:
            raise classify_netlink(exc, action=f"list links of netns {netns}") from None

    def _add_in(self, netns: str, entries: list[_Entry]) -> None:
        sock = self._sockets[netns]
        made = self._entries.setdefault(netns, [])
        try:
            codes = sock.batch(_RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, [_neighbour(e) for e in entries])
        except OSError as exc:
            made.extend(entries)  # which were made is unknown: removal deletes those found as we make them
            raise classify_netlink(exc, action=f"pin neighbours in netns {netns}") from None
        refused: tuple[_Entry, int] | None = None
        for entry, code in zip(entries, codes, strict=True):
            if code == 0:
                made.append(entry)
                self.added.append(entry.pin)
            elif code == errno.EEXIST:
                self.existing.append(entry.pin)
            elif refused is None:
                refused = (entry, code)
        if refused is not None:
            entry, code = refused
            raise classify_netlink(
                OSError(code, os.strerror(code)),
                action=f"pin neighbour {entry.pin.address} lladdr {_mac_text(entry.mac)} on "
                f"{entry.pin.dev} in netns {netns}",
            )


def pin_neighbours(host: Host, pins: Iterable[Pin]) -> Pinned:
    """Add each pin as a permanent entry unless one is there; the ``Pinned`` removes what was added.

    Use it as ``with pin_neighbours(host, pins) as pinned: ...``. A pin
    whose namespace is the host's own, or whose links are missing, is
    ``missed``, not an error. ``NotFound`` when a namespace does not exist;
    a kernel refusal is its classified error, raised after what this call
    added is removed again.
    """
    pinned = Pinned()
    try:
        pinned._add(host, list(pins))
    except BaseException:
        with contextlib.suppress(VnetkitError):  # the first error is the one to tell
            pinned.remove()
        raise
    return pinned
