"""The engine of ``run_probes``: one run's sockets, its selector, what it sends and what it matches.

Owns: ``ProbeRun`` (made by ``vnetkit.exec.probe.run_probes`` for one call:
opens every socket the run needs, sends, listens, matches answers to probes
and closes every socket it opened). It is the only code that reads errno
values for probing. Does not own: the public values (``Probe``,
``ProbeResult``: ``vnetkit.exec.probe``), packet layouts and reasons in
words (``vnetkit.exec._probe_wire``), what a probe means for a lab
(``vnetkit.topology.check``).

How: a socket belongs to the namespace it was created in, whichever thread
uses it later, so each namespace's worker thread (``host.runner.call_in``)
only creates the sockets; binding, connecting, sending and receiving happen
on the caller's thread with one selector over every socket, non-blocking.

- ICMP: one raw socket per (source namespace, family) (SOCK_DGRAM ping
  sockets are off in new namespaces), filtered to echo replies and errors.
  Echo requests carry an identifier of this run; a reply counts when its
  (id, seq, source address) match a probe. What is unanswered is sent again
  every ``interval`` (the first packets to a new neighbour wait for ARP or
  may be dropped), until the deadline: loss before it is never a failure.
- TCP: a listener in each listening namespace (0.0.0.0 or :: on the port)
  before the non-blocking connect; pass means connected. Sockets close with
  an RST (SO_LINGER 0), so no TIME_WAIT is left on either side.
- UDP: a listener that echoes each datagram back from the address it was
  sent to (IP_PKTINFO); the probe resends its datagram until it is echoed.

A port already bound in a listening namespace (EADDRINUSE) is probed without
a listener of ours.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import secrets
import selectors
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vnetkit.errors import OperationError, PermissionDenied
from vnetkit.exec import _probe_wire as wire
from vnetkit.exec.host import Host

if TYPE_CHECKING:
    from vnetkit.exec.probe import Probe

__all__ = ["Outcome", "ProbeRun"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Outcome = tuple[bool, float | None, str]  # ok, round trip in ms (None unless ok), reason


@dataclass(slots=True)
class _State:
    probe: Probe
    family: int
    sock: socket.socket | None = None  # the raw socket it shares, or its own tcp/udp socket
    sent: list[float] = field(default_factory=list)  # when each attempt left
    done: bool = False
    ok: bool = False
    rtt_ms: float | None = None
    reason: str = "timeout"


def _family(address: IPAddress) -> int:
    return socket.AF_INET if address.version == 4 else socket.AF_INET6


def _create(kinds: Sequence[tuple[int, int, int]]) -> list[socket.socket | OSError]:
    """Create sockets (runs on a namespace's thread); a socket that cannot be made is its error."""
    made: list[socket.socket | OSError] = []
    try:
        for family, kind, proto in kinds:
            try:
                made.append(socket.socket(family, kind, proto))
            except OSError as exc:
                made.append(exc)
    except BaseException:
        for sock in made:
            if isinstance(sock, socket.socket):
                sock.close()
        raise
    return made


class ProbeRun:
    """One call of ``run_probes``: its sockets, its selector, its probes' states.

    ``open`` creates every socket in its namespace and opens the listeners,
    ``loop`` sends and waits, ``results`` says what each probe found, in
    order, and ``close`` (always call it) closes every socket opened.
    """

    def __init__(self, host: Host, probes: list[Probe], *, timeout: float, interval: float) -> None:
        self._host = host
        self._timeout = timeout
        self._interval = interval
        self._states = [_State(p, _family(p.address)) for p in probes]
        self._ident = secrets.randbits(16)
        self._token = secrets.token_bytes(8)
        self._sel = selectors.DefaultSelector()
        self._owned: list[socket.socket] = []  # every socket this run opened
        self._clients: set[socket.socket] = set()  # the tcp/udp probes' own: closed first
        self._by_sock: dict[int, int] = {}  # fileno of a tcp/udp probe socket -> probe index
        self._pending = 0
        self._t0 = 0.0

    # -- opening --------------------------------------------------------------------

    def open(self) -> None:
        """Create every socket in its namespace, then open the listeners (before any probe leaves)."""
        wanted: dict[str, list[tuple[tuple[int, int, int], Callable[[socket.socket | OSError], None]]]] = {}
        listeners: set[tuple[str, str, int, int]] = set()
        raws: dict[tuple[str, int], list[int]] = {}
        for index, state in enumerate(self._states):
            probe = state.probe
            if probe.proto == "icmp":
                raws.setdefault((probe.netns, state.family), []).append(index)
                continue
            for where in probe.listen:
                key = (where.netns, probe.proto, state.family, where.port)
                if key not in listeners:
                    listeners.add(key)
                    wanted.setdefault(where.netns, []).append(
                        (self._kind(probe.proto, state.family), self._listener(key))
                    )
            wanted.setdefault(probe.netns, []).append(
                (self._kind(probe.proto, state.family), self._client(index))
            )
        for (netns, family), indexes in raws.items():
            proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
            wanted.setdefault(netns, []).append(
                ((family, socket.SOCK_RAW, proto), self._raw(netns, family, indexes))
            )
        for netns, items in wanted.items():
            kinds = [kind for kind, _ in items]
            made = self._host.runner.call_in(netns, functools.partial(_create, kinds))
            for sock in made:  # owned before anything else can fail
                if isinstance(sock, socket.socket):
                    sock.setblocking(False)
                    self._owned.append(sock)
            for (_, use), sock in zip(items, made, strict=True):
                use(sock)

    @staticmethod
    def _kind(proto: str, family: int) -> tuple[int, int, int]:
        return (family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM, 0)

    def _listener(self, key: tuple[str, str, int, int]) -> Callable[[socket.socket | OSError], None]:
        netns, proto, family, port = key

        def use(sock: socket.socket | OSError) -> None:
            what = f"listen on {proto} port {port} in netns {netns}"
            if isinstance(sock, OSError):
                raise OperationError(f"cannot {what}: {sock.strerror}") from None
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if proto == "tcp":  # a TIME_WAIT left by someone else must not stop us
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                elif family == socket.AF_INET:
                    sock.setsockopt(socket.IPPROTO_IP, wire.IP_PKTINFO, 1)
                else:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
                sock.bind((wire.ANY4 if family == socket.AF_INET else wire.ANY6, port))
                if proto == "tcp":
                    sock.listen(socket.SOMAXCONN)
            except OSError as exc:
                self._drop(sock)
                if exc.errno == errno.EADDRINUSE:
                    return  # something listens already: probe it as it is
                raise OperationError(f"cannot {what}: {exc.strerror}") from None
            self._sel.register(sock, selectors.EVENT_READ, self._accept if proto == "tcp" else self._echo)

        return use

    def _client(self, index: int) -> Callable[[socket.socket | OSError], None]:
        state = self._states[index]

        def use(sock: socket.socket | OSError) -> None:
            if isinstance(sock, OSError):
                self._finish(state, ok=False, reason=wire.reason_of(sock.errno or 0), pending=False)
                return
            self._clients.add(sock)
            if state.probe.proto == "tcp":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, wire.LINGER_RESET)
            state.sock = sock
            self._pending += 1

        return use

    def _raw(self, netns: str, family: int, indexes: list[int]) -> Callable[[socket.socket | OSError], None]:
        def use(sock: socket.socket | OSError) -> None:
            if isinstance(sock, OSError):
                if sock.errno in (errno.EPERM, errno.EACCES):
                    raise PermissionDenied(
                        f"cannot open a raw ICMP socket in netns {netns}: CAP_NET_RAW is needed (run as root)"
                    ) from None
                for index in indexes:
                    self._finish(
                        self._states[index], ok=False, reason=wire.reason_of(sock.errno or 0), pending=False
                    )
                return
            sock.setsockopt(*wire.icmp_filter(family))
            self._sel.register(sock, selectors.EVENT_READ, self._icmp_reader(sock, family))
            for index in indexes:
                self._states[index].sock = sock
                self._pending += 1

        return use

    def _drop(self, sock: socket.socket) -> None:
        self._owned.remove(sock)
        sock.close()

    # -- running ----------------------------------------------------------------------

    def loop(self) -> None:
        """Start every probe, then wait for answers, resending, until all are done or the deadline."""
        self._t0 = now = time.monotonic()
        deadline = now + self._timeout
        for index, state in enumerate(self._states):
            if state.done:
                continue
            if state.probe.proto == "tcp":
                self._connect(index, state)
            elif state.probe.proto == "udp":
                self._connect_udp(index, state)
            if not state.done:
                self._send(index, state, now)
        round_ = 1
        while self._pending and (now := time.monotonic()) < deadline:
            due = self._t0 + round_ * self._interval
            if now >= due:
                for index, state in enumerate(self._states):
                    if not state.done and state.probe.proto != "tcp":
                        self._send(index, state, now)
                round_ = int((now - self._t0) / self._interval) + 1
                continue
            for key, _ in self._sel.select(min(due, deadline) - now):
                key.data(key.fileobj)

    def _connect(self, index: int, state: _State) -> None:
        assert state.sock is not None  # noqa: S101 - set by _client for every live tcp probe
        err = state.sock.connect_ex((str(state.probe.address), state.probe.port))
        state.sent.append(time.monotonic())
        if err == 0:
            self._finish(state, ok=True, reason="connected", rtt_from=0)
        elif err != errno.EINPROGRESS:
            self._finish(state, ok=False, reason=wire.reason_of(err))
        else:
            self._by_sock[state.sock.fileno()] = index
            self._sel.register(state.sock, selectors.EVENT_WRITE, self._connected)

    def _connect_udp(self, index: int, state: _State) -> None:
        assert state.sock is not None  # noqa: S101 - set by _client for every live udp probe
        err = state.sock.connect_ex((str(state.probe.address), state.probe.port))
        if err != 0:
            self._finish(state, ok=False, reason=wire.reason_of(err))
            return
        self._by_sock[state.sock.fileno()] = index
        self._sel.register(state.sock, selectors.EVENT_READ, self._udp_reply)

    def _payload(self, index: int, attempt: int) -> bytes:
        return wire.MAGIC + self._token + struct.pack("!IH", index, attempt)

    def _send(self, index: int, state: _State, now: float) -> None:
        sock = state.sock
        if sock is None or state.probe.proto == "tcp":
            return
        attempt = len(state.sent) & 0xFFFF
        data = self._payload(index, attempt)
        if state.probe.proto == "icmp":
            ident, seq = (self._ident + (index >> 16)) & 0xFFFF, index & 0xFFFF
            packet = wire.echo_request(state.family, ident, seq, data)
        try:
            if state.probe.proto == "icmp":
                sock.sendto(packet, (str(state.probe.address), 0))
            else:
                sock.send(data)
        except OSError as exc:
            if exc.errno not in wire.RETRY:
                self._finish(state, ok=False, reason=wire.reason_of(exc.errno or 0))
            return
        state.sent.append(now)

    def _finish(
        self, state: _State, *, ok: bool, reason: str, rtt_from: int | None = None, pending: bool = True
    ) -> None:
        if state.done:
            return
        state.done, state.ok, state.reason = True, ok, reason
        if rtt_from is not None and rtt_from < len(state.sent):
            state.rtt_ms = round((time.monotonic() - state.sent[rtt_from]) * 1000, 3)
        if pending:
            self._pending -= 1
        if state.probe.proto != "icmp" and state.sock is not None and state.sock.fileno() in self._by_sock:
            self._sel.unregister(state.sock)

    def _connected(self, sock: socket.socket) -> None:
        state = self._states[self._by_sock[sock.fileno()]]
        err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self._finish(state, ok=err == 0, reason="connected" if err == 0 else wire.reason_of(err), rtt_from=0)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            self._owned.append(conn)  # kept open until the end: closing early would reset the probe
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, wire.LINGER_RESET)

    def _echo(self, listener: socket.socket) -> None:
        v4 = listener.family == socket.AF_INET
        for _ in range(256):  # what has arrived; the selector calls again for more
            try:
                data, ancillary, _, peer = listener.recvmsg(2048, socket.CMSG_SPACE(20))
            except OSError:
                return
            replies = []
            for level, kind, info in ancillary:
                if v4 and (level, kind) == (socket.IPPROTO_IP, wire.IP_PKTINFO) and len(info) >= 12:
                    # reply from the address it was sent to: its ipi_addr as our ipi_spec_dst
                    replies.append((level, kind, struct.pack("=i4s4s", 0, info[8:12], bytes(4))))
                elif not v4 and (level, kind) == (socket.IPPROTO_IPV6, socket.IPV6_PKTINFO):
                    replies.append((level, kind, info[:20]))
            with contextlib.suppress(OSError):  # an echo that cannot leave is the probe's timeout
                listener.sendmsg([data], replies, 0, peer)

    def _udp_reply(self, sock: socket.socket) -> None:
        index = self._by_sock[sock.fileno()]
        state = self._states[index]
        prefix = wire.MAGIC + self._token + struct.pack("!I", index)
        while not state.done:
            try:
                data = sock.recv(2048)
            except OSError as exc:
                if exc.errno not in wire.RETRY:
                    self._finish(state, ok=False, reason=wire.reason_of(exc.errno or 0))
                return
            if data.startswith(prefix) and len(data) == len(prefix) + 2:
                self._finish(state, ok=True, reason="echo", rtt_from=struct.unpack("!H", data[-2:])[0])

    def _icmp_reader(self, sock: socket.socket, family: int) -> Callable[[socket.socket], None]:
        v4 = family == socket.AF_INET
        icmp = wire.V4 if v4 else wire.V6

        def read(_: socket.socket) -> None:
            for _round in range(1024):  # what has arrived; the selector calls again for more
                try:
                    packet, peer = sock.recvfrom(2048)
                except OSError:
                    return
                if v4:  # an IPv4 raw socket gets the IP header too
                    source, packet = packet[12:16], packet[(packet[0] & 0x0F) * 4 :]
                else:
                    source = ipaddress.IPv6Address(peer[0].partition("%")[0]).packed
                if len(packet) < 8:
                    continue
                kind, code = packet[0], packet[1]
                if kind == icmp.reply:
                    self._reply(sock, packet, source)
                elif kind in icmp.errors:
                    self._icmp_error(sock, packet[8:], icmp, kind, code)

        return read

    def _lookup(self, sock: socket.socket, echo: bytes) -> tuple[_State, int | None] | None:
        """The live icmp probe an echo message belongs to, and which attempt it was.

        A reply must carry our whole payload; an error may quote only the
        first 8 bytes of the request (RFC 792), then the attempt is unknown.
        """
        ident, seq = struct.unpack("!HH", echo[4:8])
        index = (((ident - self._ident) & 0xFFFF) << 16) | seq
        if index >= len(self._states):
            return None
        state = self._states[index]
        if state.sock is not sock or state.done or state.probe.proto != "icmp":
            return None
        payload, expected = echo[8:], self._payload(index, 0)
        if len(payload) == len(expected) and payload[:-2] == expected[:-2]:
            return state, struct.unpack("!H", payload[-2:])[0]
        if payload and not expected.startswith(payload[: len(expected) - 2]):
            return None  # the same id and seq, but not this run
        return state, None

    def _reply(self, sock: socket.socket, packet: bytes, source: bytes) -> None:
        found = self._lookup(sock, packet)
        if found is not None and found[1] is not None and source == found[0].probe.address.packed:
            self._finish(found[0], ok=True, reason="reply", rtt_from=found[1])

    def _icmp_error(self, sock: socket.socket, quoted: bytes, icmp: wire.Icmp, kind: int, code: int) -> None:
        """An ICMP error quoting one of our echo requests: the probe fails, saying why."""
        echo = wire.quoted_echo(icmp, quoted)
        found = self._lookup(sock, echo[1]) if echo is not None else None
        if echo is None or found is None or found[0].probe.address.packed != echo[0]:
            return
        self._finish(found[0], ok=False, reason=wire.icmp_reason(icmp, kind, code))

    # -- ending -----------------------------------------------------------------------

    def results(self) -> list[Outcome]:
        """Each probe's (ok, round trip in ms or None, reason), in order."""
        return [(s.ok, s.rtt_ms if s.ok else None, s.reason) for s in self._states]

    def close(self) -> None:
        """Close every socket this run opened: probes first (their RSTs end the accepted sides)."""
        self._sel.close()
        owned, self._owned = self._owned, []
        for sock in sorted(owned, key=lambda sock: sock not in self._clients):  # a stable sort
            with contextlib.suppress(OSError):
                sock.close()
        self._clients.clear()
