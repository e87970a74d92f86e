"""What probes put on the wire and how their answers read: ICMP echo, ICMP errors, errno in words.

Owns: the ICMP versions (``V4``, ``V6``: echo types and the error types
that quote a request), the raw socket filter that lets only those in
(``icmp_filter``), building an echo request (``echo_request``), finding our
request inside an ICMP error (``quoted_echo``), the reason an ICMP error or
an errno gives (``icmp_reason``, ``reason_of``) and the socket constants
Python's ``socket`` module does not name. Pure. Does not own: sockets or
the matching of answers to probes (``vnetkit.exec._probe_run``).
"""

from __future__ import annotations

import errno
import socket
import struct
from dataclasses import dataclass

__all__ = [
    "ANY4",
    "ANY6",
    "IP_PKTINFO",
    "LINGER_RESET",
    "MAGIC",
    "RETRY",
    "V4",
    "V6",
    "Icmp",
    "echo_request",
    "icmp_filter",
    "icmp_reason",
    "quoted_echo",
    "reason_of",
]

_SOL_RAW = 255
_ICMP_FILTER = 1  # SOL_RAW: a bit mask of the ICMP types this socket does not want
_ICMP6_FILTER = 1  # IPPROTO_ICMPV6: 256 bits, a set bit blocks that type
IP_PKTINFO = 8
LINGER_RESET = struct.pack("ii", 1, 0)  # close with an RST, leave no TIME_WAIT
RETRY = frozenset({errno.EAGAIN, errno.ENOBUFS, errno.EINTR})  # a send or receive to try again
MAGIC = b"vnetkit-probe"
ANY4 = "0.0.0.0"  # noqa: S104 - listeners bind every address of the (lab) namespace they are in
ANY6 = "::"


@dataclass(frozen=True, slots=True)
class Icmp:
    """One ICMP version: its protocol number, echo types and the error types that quote a request."""

    version: int
    proto: int
    request: int
    reply: int
    errors: frozenset[int]


V4 = Icmp(4, socket.IPPROTO_ICMP, 8, 0, frozenset({3, 11, 12}))
V6 = Icmp(6, socket.IPPROTO_ICMPV6, 128, 129, frozenset({1, 2, 3, 4}))
_ICMP_REASONS = {  # (family, type, code) -> reason; (family, type, -1) for any code
    (4, 3, 0): "net unreachable",
    (4, 3, 1): "host unreachable",
    (4, 3, 2): "protocol unreachable",
    (4, 3, 3): "port unreachable",
    (4, 3, 9): "prohibited",
    (4, 3, 10): "prohibited",
    (4, 3, 13): "prohibited",
    (4, 11, -1): "ttl exceeded",
    (6, 1, 0): "no route",
    (6, 1, 1): "prohibited",
    (6, 1, 3): "host unreachable",
    (6, 1, 4): "port unreachable",
    (6, 1, 6): "prohibited",
    (6, 2, -1): "packet too big",
    (6, 3, -1): "ttl exceeded",
}
_ERRNO_REASONS = {
    errno.ECONNREFUSED: "refused",
    errno.ETIMEDOUT: "timeout",
    errno.ENETUNREACH: "no route",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EPERM: "not permitted",  # a DROP in the source's own OUTPUT chain
    errno.EACCES: "not permitted",
    errno.ECONNRESET: "reset",
    errno.EADDRNOTAVAIL: "no source address",
    errno.EAFNOSUPPORT: "family not supported",
    errno.EMSGSIZE: "message too long",
}


def reason_of(err: int) -> str:
    """A few words for an errno a probe met."""
    return _ERRNO_REASONS.get(err) or (errno.errorcode.get(err, str(err)).lower() if err else "ok")


def icmp_reason(icmp: Icmp, kind: int, code: int) -> str:
    """A few words for an ICMP error of ``kind``/``code``."""
    found = _ICMP_REASONS.get((icmp.version, kind, code)) or _ICMP_REASONS.get((icmp.version, kind, -1))
    return found or f"icmp error {kind}/{code}"


def icmp_filter(family: int) -> tuple[int, int, bytes]:
    """(level, option, value) of the raw socket filter that lets in only echo replies and errors."""
    if family == socket.AF_INET:
        blocked = 0xFFFFFFFF & ~sum(1 << t for t in (V4.reply, *V4.errors))
        return _SOL_RAW, _ICMP_FILTER, struct.pack("I", blocked)
    words = [0xFFFFFFFF] * 8
    for t in (V6.reply, *V6.errors):
        words[t >> 5] &= ~(1 << (t & 31))
    return socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("8I", *words)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(family: int, ident: int, seq: int, data: bytes) -> bytes:
    """An ICMP (or ICMPv6) echo request carrying ``data``."""
    request = (V4 if family == socket.AF_INET else V6).request
    packet = struct.pack("!BBHHH", request, 0, 0, ident, seq) + data
    if family == socket.AF_INET:  # the kernel fills in the ICMPv6 checksum itself
        packet = packet[:2] + struct.pack("!H", _checksum(packet)) + packet[4:]
    return packet


def quoted_echo(icmp: Icmp, quoted: bytes) -> tuple[bytes, bytes] | None:
    """In the packet an ICMP error quotes: (its destination address, the echo request), if it is one."""
    if icmp.version == 4:
        if len(quoted) < 20:
            return None
        header = (quoted[0] & 0x0F) * 4
        target, proto, inner = quoted[16:20], quoted[9], quoted[header:]
    else:
        if len(quoted) < 40:
            return None
        target, proto, inner = quoted[24:40], quoted[6], quoted[40:]
    if proto != icmp.proto or len(inner) < 8 or inner[0] != icmp.request:
        return None
    return target, inner
