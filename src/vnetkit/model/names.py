"""Names the kernel accepts and the names ``ip`` gives the kernel's numbers.

Owns: checking interface names and link-layer addresses (``ConfigError``
naming what to give instead), and the tables between the kernel's numbers
and iproute2's words for scopes, routing tables, route protocols and
types, address flags and neighbour states, with the one way to read a word
or number (``number``) and to write one back (``word``). Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from vnetkit.errors import ConfigError

__all__ = [
    "ADDRESS_FLAGS",
    "NUD_STATES",
    "ROUTE_PROTOCOLS",
    "ROUTE_TYPES",
    "SCOPES",
    "TABLES",
    "bits",
    "check_ifname",
    "check_ip",
    "check_lladdr",
    "check_mac",
    "check_range",
    "flag_words",
    "number",
    "word",
]

_MAC = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")
_LLADDR = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){0,31}")


def check_ifname(name: str, *, what: str = "interface name") -> str:
    """``name`` if the kernel accepts it as an interface name (1-15 bytes, no '/', ':' or whitespace)."""
    if not isinstance(name, str) or not name:
        raise ConfigError(f"invalid {what} {name!r}: it is empty")
    size = len(name.encode())
    if size > 15:
        raise ConfigError(f"invalid {what} {name!r}: {size} bytes, at most 15")
    if name in (".", "..") or any(ch in "/:" or ch.isspace() for ch in name):
        raise ConfigError(f"invalid {what} {name!r}: no '/', ':' or whitespace, not '.' or '..'")
    return name


def check_mac(mac: str) -> str:
    """``mac`` in lower case if it is a 6-byte colon-separated address."""
    if not isinstance(mac, str) or not _MAC.fullmatch(mac):
        raise ConfigError(f"invalid MAC address {mac!r}: use six hex bytes like 02:00:00:00:00:01")
    return mac.lower()


def check_lladdr(lladdr: str) -> str:
    """``lladdr`` in lower case if it is colon-separated hex bytes (a MAC, or a tunnel's shorter address)."""
    if not isinstance(lladdr, str) or not _LLADDR.fullmatch(lladdr):
        raise ConfigError(
            f"invalid link-layer address {lladdr!r}: use hex bytes separated by ':' like 02:00:00:00:00:01"
        )
    return lladdr.lower()


def check_range(value: int, low: int, high: int, what: str) -> int:
    """``value`` if it is an int (not a bool) in ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"invalid {what} {value!r}: use {low}..{high}")
    return value


def check_ip(value: str, what: str) -> str:
    """``value`` as ``ipaddress`` writes it, if it is an IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigError(f"invalid {what} {value!r}: not an IP address") from None


# -- the kernel's numbers and iproute2's words (rtnetlink.h, neighbour.h, if_addr.h) ------

SCOPES: Mapping[int, str] = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
"""rtm_scope / ifa_scope: ``ip`` writes RT_SCOPE_UNIVERSE as ``global``."""

TABLES: Mapping[int, str] = {253: "default", 254: "main", 255: "local"}
"""The routing tables with names (every other is written as its number)."""

ROUTE_PROTOCOLS: Mapping[int, str] = {
    0: "unspec",
    1: "redirect",
    2: "kernel",
    3: "boot",
    4: "static",
    8: "gated",
    9: "ra",
    10: "mrt",
    11: "zebra",
    12: "bird",
    13: "dnrouted",
    14: "xorp",
    15: "ntk",
    16: "dhcp",
    17: "mrouted",
    18: "keepalived",
    42: "babel",
    99: "openr",
    186: "bgp",
    187: "isis",
    188: "ospf",
    189: "rip",
    192: "eigrp",
}
"""rtm_protocol: who made a route (``boot`` is what ``ip route add`` says)."""

ROUTE_TYPES: Mapping[int, str] = {
    0: "unspec",
    1: "unicast",
    2: "local",
    3: "broadcast",
    4: "anycast",
    5: "multicast",
    6: "blackhole",
    7: "unreachable",
    8: "prohibit",
    9: "throw",
    10: "nat",
    11: "xresolve",
}
"""rtm_type."""

ADDRESS_FLAGS: Mapping[int, str] = {
    0x01: "secondary",  # "temporary" on an IPv6 address (the same bit)
    0x02: "nodad",
    0x04: "optimistic",
    0x08: "dadfailed",
    0x10: "home",
    0x20: "deprecated",
    0x40: "tentative",
    0x80: "permanent",
    0x100: "mngtmpaddr",
    0x200: "noprefixroute",
    0x400: "autojoin",
    0x800: "stable-privacy",
}
"""IFA_F_* bits, as ``ip address`` names them."""

NUD_STATES: Mapping[int, str] = {
    0x01: "INCOMPLETE",
    0x02: "REACHABLE",
    0x04: "STALE",
    0x08: "DELAY",
    0x10: "PROBE",
    0x20: "FAILED",
    0x40: "NOARP",
    0x80: "PERMANENT",
}
"""NUD_* bits of a neighbour entry (0 is ``NONE``)."""


def word(table: Mapping[int, str], value: int) -> str:
    """The word for ``value``, or the number itself as text when the table has no word for it."""
    return table.get(value, str(value))


def number(table: Mapping[int, str], text: str | int, what: str, *, low: int = 0, high: int = 255) -> int:
    """The number for a word of ``table`` or a number in ``low..high``; ``ConfigError`` naming the words."""
    if isinstance(text, int) and not isinstance(text, bool):
        return check_range(text, low, high, what)
    if isinstance(text, str):
        for value, name in table.items():
            if name == text:
                return value
        if text.isascii() and text.isdigit() and low <= int(text) <= high:
            return int(text)
    words = ", ".join(table.values())
    raise ConfigError(f"invalid {what} {text!r}: use one of {words} or a number {low}..{high}")


def flag_words(table: Mapping[int, str], value: int) -> tuple[str, ...]:
    """The words for the bits set in ``value``, lowest bit first; a bit without a word as ``0x..``."""
    out = []
    bit = 1
    while bit <= value:
        if value & bit:
            out.append(table.get(bit, f"{bit:#x}"))
        bit <<= 1
    return tuple(out)


def bits(table: Mapping[int, str], words: Iterable[str], what: str) -> int:
    """The bits for ``words`` (as ``flag_words`` writes them); ``ConfigError`` naming the words."""
    by_word = {name: value for value, name in table.items()}
    out = 0
    for text in words:
        if text in by_word:
            out |= by_word[text]
        elif re.fullmatch(r"0x[0-9a-f]+", text) and (value := int(text, 16)) and not value & (value - 1):
            out |= value
        else:
            raise ConfigError(f"invalid {what} {text!r}: use any of {', '.join(table.values())}")
    return out
