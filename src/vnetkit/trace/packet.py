"""A packet to explain, and the grammar users write it in.

Owns: ``Packet`` (a frozen value: protocol, source and destination
addresses and ports, the interface it arrives on or ``from_local``, the
conntrack state asked about, mark, TCP flags, ICMP type/code, length, TTL)
and ``parse_packet``, the contract grammar::

    PROTO SRC[:SPORT] -> DST[:DPORT] [in IFACE] [FLAG...]

PROTO is tcp, udp, icmp, icmpv6 or a protocol number; IPv6 addresses are in
brackets when a port follows (``tcp [2001:db8:1::2]:40000 -> [2001:db8:2::2]:80
in eth0``). Flags after it: ``syn`` ``ack`` ``fin`` ``rst`` (TCP flags; a TCP
packet with none is a SYN), ``state new|established|related|invalid``,
``mark 0x7``, ``type N`` / ``code N`` (ICMP), ``len N``, ``ttl N``. A
malformed spec is a ``ConfigError`` whose message shows the grammar. Pure.
Does not own: what happens to the packet (the engine).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from vnetkit.errors import ConfigError

__all__ = ["GRAMMAR", "Packet", "parse_packet"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
State = Literal["new", "established", "related", "invalid", "untracked"]

GRAMMAR = (
    "PROTO SRC[:SPORT] -> DST[:DPORT] [in IFACE] [syn|ack|fin|rst ...] "
    "[state new|established|related|invalid] [mark N] [type N] [code N] [len N] [ttl N]; "
    "PROTO: tcp, udp, icmp, icmpv6 or a number; IPv6 in brackets when a port follows, e.g. "
    "'tcp 10.0.0.2:40000 -> 198.51.100.2:80 in eth0', "
    "'tcp [2001:db8:1::2]:40000 -> [2001:db8:2::2]:80 in eth0', 'icmp 10.0.0.2 -> 10.0.0.1 in eth0'"
)

PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132}
_TCP_FLAGS = ("syn", "ack", "fin", "rst", "psh", "urg")
_STATES = ("new", "established", "related", "invalid", "untracked")
_ENDPOINT = re.compile(
    r"^(?:\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<addr>[^:\s]+)(?::(?P<port>\d+))?|(?P<bare6>[0-9a-fA-F:.]+))$"
)


@dataclass(frozen=True, slots=True)
class Packet:
    """One packet: the first of a connection unless ``state`` says otherwise.

    ``in_interface`` is where it arrives (None with ``from_local``: made by a
    local process, the OUTPUT path). ``proto`` is the IP protocol number;
    ``sport``/``dport`` only for tcp, udp and sctp; ``icmp_type``/``icmp_code``
    for icmp and icmpv6 (an echo request unless told).
    """

    proto: int
    src: IPAddress
    dst: IPAddress
    sport: int | None = None
    dport: int | None = None
    in_interface: str | None = None
    from_local: bool = False
    state: State = "new"
    mark: int = 0
    tcp_flags: frozenset[str] = field(default_factory=frozenset)
    icmp_type: int | None = None
    icmp_code: int | None = None
    length: int = 60
    ttl: int = 64

    def __post_init__(self) -> None:
        if self.src.version != self.dst.version:
            raise ConfigError(f"packet {self}: source and destination must both be IPv4 or both IPv6")
        if not 0 <= self.proto <= 255:
            raise ConfigError(f"protocol {self.proto}: use 0-255")
        for what in ("sport", "dport"):
            port = getattr(self, what)
            if port is not None and not 0 <= port <= 65535:
                raise ConfigError(f"{what} {port}: use 0-65535")
        if self.in_interface is None and not self.from_local:
            raise ConfigError(f"packet: say where it arrives ('in IFACE') or that it is local ({GRAMMAR})")

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        """``ipv4`` or ``ipv6``."""
        return "ipv6" if self.src.version == 6 else "ipv4"

    @property
    def has_ports(self) -> bool:
        """True for tcp, udp and sctp."""
        return self.proto in (6, 17, 132)

    def __str__(self) -> str:
        name = next(
            (k for k, v in PROTOCOLS.items() if v == self.proto and k != "ipv6-icmp"), str(self.proto)
        )
        return f"{name} {_end(self.src, self.sport)} -> {_end(self.dst, self.dport)}" + (
            f" in {self.in_interface}" if self.in_interface else " from local"
        )


def _end(address: IPAddress, port: int | None) -> str:
    if port is None:
        return str(address)
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def _bad(text: str, why: str) -> ConfigError:
    return ConfigError(f"packet {text!r}: {why}; write {GRAMMAR}")


def _endpoint(text: str, word: str) -> tuple[IPAddress, int | None]:
    m = _ENDPOINT.match(word)
    if m is None:
        raise _bad(text, f"{word!r} is not ADDRESS[:PORT]")
    raw = m.group("v6") or m.group("addr") or m.group("bare6")
    port = m.group("p6") or m.group("port")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        if m.group("addr") and ":" not in word:
            raise _bad(text, f"{raw!r} is not an IP address") from None
        try:  # an IPv6 address written without brackets and without a port
            return ipaddress.ip_address(word), None
        except ValueError:
            raise _bad(text, f"{word!r} is not an IP address (IPv6 with a port goes in brackets)") from None
    if port is not None and not 0 <= int(port) <= 65535:
        raise _bad(text, f"port {port} in {word!r}: use 0-65535")
    return address, None if port is None else int(port)


def parse_packet(text: str, *, from_local: bool = False, state: State | None = None) -> Packet:
    """The ``Packet`` of a spec in the grammar (see the module docstring); ``ConfigError`` if malformed."""
    words = text.split()
    if len(words) < 4 or words[2] != "->":
        raise _bad(text, "expected 'PROTO SRC -> DST'")
    proto_word = words[0].lower()
    if proto_word in PROTOCOLS:
        proto = PROTOCOLS[proto_word]
    elif proto_word.isdigit():
        proto = int(proto_word)
    else:
        raise _bad(text, f"unknown protocol {words[0]!r} (tcp, udp, icmp, icmpv6 or a number)")
    src, sport = _endpoint(text, words[1])
    dst, dport = _endpoint(text, words[3])
    if src.version != dst.version:
        raise _bad(text, "source and destination must both be IPv4 or both IPv6")
    has_ports = proto in (6, 17, 132)
    if (sport is not None or dport is not None) and not has_ports:
        raise _bad(text, f"{words[0]} has no ports")
    in_interface, flags, values = _options(text, proto, words[4:])
    if proto == 6 and not flags:
        flags.add("syn")
    if proto in (1, 58):
        values.setdefault("icmp_type", 8 if proto == 1 else 128)  # echo request
        values.setdefault("icmp_code", 0)
    if state is not None:
        values["state"] = state
    if in_interface is None and not from_local:
        raise _bad(text, "say where it arrives: 'in IFACE' (or ask about a local packet)")
    return Packet(
        proto=proto,
        src=src,
        dst=dst,
        sport=sport if sport is not None else (40000 if has_ports else None),
        dport=dport,
        in_interface=in_interface,
        from_local=from_local,
        tcp_flags=frozenset(flags),
        **values,  # type: ignore[arg-type]
    )


def _options(text: str, proto: int, words: list[str]) -> tuple[str | None, set[str], dict[str, object]]:
    """The words after ``SRC -> DST``: (the input interface, TCP flags, other fields)."""
    values: dict[str, object] = {}
    flags: set[str] = set()
    in_interface: str | None = None
    rest = iter(words)
    for word in rest:
        key = word.lower()
        if key == "in":
            in_interface = next(rest, None)
            if in_interface is None:
                raise _bad(text, "'in' needs an interface name")
        elif key in _TCP_FLAGS:
            if proto != 6:
                raise _bad(text, f"{word} is a TCP flag")
            flags.add(key)
        elif key == "state":
            state = next(rest, "").lower()
            if state not in _STATES:
                raise _bad(text, f"state {state!r}: use {', '.join(_STATES)}")
            values["state"] = state
        elif key in ("mark", "type", "code", "len", "ttl"):
            value = next(rest, None)
            try:
                number = int(value or "", 0)
            except ValueError:
                raise _bad(text, f"{key} needs a number") from None
            values[{"type": "icmp_type", "code": "icmp_code", "len": "length"}.get(key, key)] = number
        else:
            raise _bad(text, f"unknown word {word!r}")
    return in_interface, flags, values
