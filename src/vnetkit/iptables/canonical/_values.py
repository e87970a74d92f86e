"""Value parsers that mirror libxtables: numbers, ports, addresses, masks, text.

Owns: reading an option value the way iptables 1.8.9 reads it (``strtoul``
with base 0, iptables' own IPv4 parser that fills missing parts with zeros,
``inet_pton`` where the tool is strict) and writing it the way iptables-save
prints it (``0x%x`` marks, ``inet_ntop`` for IPv6, ``ADDR/N`` or
``ADDR/MASK``). Every failure is a ``RuleError`` naming the option. Does not
own: which option takes which kind of value (the extension modules).
Pure: ``socket.inet_pton``/``inet_ntop`` are the only library calls, and they
only convert text.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from typing import Literal

from vnetkit.errors import HostDependent, RuleError

Family = Literal["ipv4", "ipv6"]

BITS = {"ipv4": 32, "ipv6": 128}
U16 = 0xFFFF
U32 = 0xFFFFFFFF

# strtoul(s, &end, 0) consuming the whole string: blanks, an optional "+",
# then hex (0x...), octal (0...) or decimal. A "-" is refused, as libxtables does.
_UINT = re.compile(r"[ \t\n\v\f\r]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_UDEC = re.compile(r"[ \t\n\v\f\r]*\+?([0-9]+)")
# Characters that would break a save line or that iptables-restore cannot read back.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def fail(message: str, *, location: str | None = None, choices: tuple[str, ...] = ()) -> RuleError:
    """A ``RuleError`` whose message starts with what it is about."""
    return RuleError(f"{location}: {message}" if location else message, location=location, choices=choices)


def host_dependent(message: str, *, location: str) -> HostDependent:
    """A ``RuleError`` for a value printed after a look-up in this host's files or NSS.

    ``canonical()`` turns it into ``CannotDerive`` when it was given a resolver
    that does not cover the look-up, so the caller asks the tool instead.
    """
    return HostDependent(f"{location}: {message}", location=location)


Service = Callable[[str], "int | None"]


def uint(text: str, what: str, *, lo: int = 0, hi: int = U32, decimal: bool = False) -> int:
    """``text`` as libxtables' ``xtables_strtoui(text, NULL, &v, lo, hi)`` (base 0) reads it."""
    m = (_UDEC if decimal else _UINT).fullmatch(text)
    if m is None:
        raise fail(
            f"invalid number {text!r}" + ("" if decimal else " (decimal, 0x hex or 0 octal)"), location=what
        )
    digits = m.group(1)
    if decimal:
        value = int(digits, 10)
    elif digits[:2] in ("0x", "0X"):
        value = int(digits[2:], 16)
    elif digits.startswith("0"):
        value = int(digits, 8)
    else:
        value = int(digits, 10)
    if not lo <= value <= hi:
        raise fail(f"{text!r} is out of range ({lo}-{hi})", location=what)
    return value


def port(text: str, what: str, *, decimal: bool = False, service: Service | None = None) -> int:
    """A port number, or a service name looked up with ``service`` (getservbyname).

    Without ``service`` a name is ``HostDependent``: /etc/services decides it.
    """
    try:
        return uint(text, what, hi=U16, decimal=decimal)
    except RuleError:
        if not re.fullmatch(r"\s*[A-Za-z][\w.+-]*", text):
            raise
    if service is None:
        raise host_dependent(
            f"service name {text.strip()!r} would be looked up in /etc/services;"
            " give the port number instead",
            location=what,
        ) from None
    found = service(text)
    if found is None:
        raise fail(f"service {text!r} is not known on this host (/etc/services)", location=what) from None
    return found


def port_range(
    text: str,
    what: str,
    *,
    decimal: bool = False,
    allow_reversed: bool = False,
    service: Service | None = None,
) -> tuple[int, int]:
    """``a``, ``a:b``, ``:b`` (from 0) or ``a:`` (to 65535), as libxt_tcp reads them."""
    if ":" not in text:
        value = port(text, what, decimal=decimal, service=service)
        return value, value
    first, _, last = text.partition(":")
    lo = port(first, what, decimal=decimal, service=service) if first else 0
    hi = port(last, what, decimal=decimal, service=service) if last else U16
    if lo > hi and not allow_reversed:
        raise fail(f"invalid port range {text!r} (min > max)", location=what)
    return lo, hi


def uint_range(
    text: str, what: str, *, sep: str = ":", hi: int = U32, empty_ends: bool = True
) -> tuple[int, int]:
    """``a`` or ``a<sep>b`` of base-0 numbers (``a:`` and ``:b`` when ``empty_ends``)."""
    if sep not in text:
        value = uint(text, what, hi=hi)
        return value, value
    first, _, last = text.partition(sep)
    if not empty_ends and not (first and last):
        raise fail(f"invalid range {text!r}", location=what)
    lo = uint(first, what, hi=hi) if first else 0
    top = uint(last, what, hi=hi) if last else hi
    return lo, top


def span(lo: int, hi: int, sep: str = ":") -> str:
    """``a`` when the range is one value, else ``a:b``."""
    return str(lo) if lo == hi else f"{lo}{sep}{hi}"


def hexval(value: int) -> str:
    """``0x%x`` as iptables prints marks."""
    return f"0x{value:x}"


def value_mask(text: str, what: str, *, hi: int = U32) -> tuple[int, int | None]:
    """``V`` or ``V/M`` (marks, devgroups, TOS): each part base 0; the mask None when absent."""
    value, slash, mask = text.partition("/")
    v = uint(value, what, hi=hi)
    return v, (uint(mask, what, hi=hi) if slash else None)


def names_in_order(text: str, order: tuple[str, ...], where: str) -> str:
    """A comma list of names (case-insensitive, repeats merged) in the tool's print order."""
    given = set()
    for item in text.split(","):
        if item.upper() not in order:
            raise fail(f"unknown name {item!r}", location=where, choices=order)
        given.add(item.upper())
    return ",".join(name for name in order if name in given)


def mark_text(value: int, mask: int | None) -> str:
    """A mark as iptables prints it: ``0x1``, or ``0x1/0xff`` when the mask is not full."""
    return hexval(value) if mask is None or mask == U32 else f"{hexval(value)}/{hexval(mask)}"


def xmark(value: int, mask: int, bits: int = 32) -> str:
    """``0x%x/0x%x`` (``0x%02x/0x%02x`` for 8-bit TOS values), as --set-xmark and --set-tos print."""
    width = 2 if bits == 8 else 0
    return f"0x{value:0{width}x}/0x{mask:0{width}x}"


def check_text(text: str, what: str, *, limit: int | None = None, empty: bool = True) -> str:
    """Refuse control characters, text that is not UTF-8, and more than ``limit`` bytes.

    iptables cuts long strings at a byte limit (possibly inside a UTF-8
    character) and prints control characters raw, which breaks the save line.
    """
    if _CONTROL.search(text):
        raise fail(f"control character in {text!r}; iptables-save would print it raw", location=what)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise fail(f"{text!r} is not valid UTF-8 text", location=what) from None
    if limit is not None and size > limit:
        raise fail(
            f"{size} bytes is over the limit of {limit}; iptables would silently cut it", location=what
        )
    if not empty and not text:
        raise fail("must not be empty", location=what)
    return text


def cut_text(text: str, limit: int, what: str, *, empty: bool = True) -> str:
    """``text`` as iptables keeps it in a buffer of ``limit + 1`` bytes: its first ``limit`` bytes.

    iptables cuts silently; a cut that would split a UTF-8 character (and
    print the broken bytes) is refused.
    """
    check_text(text, what, empty=empty)
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    if data[limit] & 0xC0 == 0x80:  # a continuation byte: the cut falls inside a character
        kept = data[:limit].decode("utf-8", "ignore")
        raise fail(
            f"iptables keeps the first {limit} bytes, which ends inside the character"
            f" {text[len(kept)]!r}; give at most {limit} bytes",
            location=what,
        )
    return data[:limit].decode("utf-8")


# ---------------------------------------------------------------- addresses


def _ipv4_numeric(text: str, *, is_mask: bool) -> int | None:
    """libxtables ``__numeric_to_ipaddr``: 1-4 parts (all 4 for a mask), missing ones are 0."""
    if len(text) > 19:  # libxtables copies into a 20-byte buffer and would cut the text
        return None
    parts = text.split(".", 3)
    if len(parts) < 4 and is_mask:
        return None
    value = 0
    for part in parts:
        m = _UINT.fullmatch(part)
        if m is None:
            return None
        octet = uint(part, "address")
        if octet > 255:
            return None
        value = (value << 8) | octet
    return value << (8 * (4 - len(parts)))


def ipv4_strict(text: str) -> int | None:
    """A dotted quad as ``inet_pton`` reads it (no leading zeros, four decimal parts)."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        return None


def ipv6_value(text: str) -> int | None:
    """An IPv6 address as ``inet_pton`` reads it (``::ffff:1.2.3.4`` included)."""
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except OSError:
        return None


def address_text(value: int, family: Family) -> str:
    """The address as iptables prints it (glibc ``inet_ntop`` for IPv6)."""
    if family == "ipv4":
        return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def prefix_of(mask: int, family: Family) -> int | None:
    """The prefix length of a contiguous mask, None when the mask has holes."""
    bits = BITS[family]
    inverted = ~mask & ((1 << bits) - 1)
    if inverted & (inverted + 1):
        return None
    return bits - inverted.bit_length()


def mask_of(prefix: int, family: Family) -> int:
    bits = BITS[family]
    return ((1 << bits) - 1) ^ ((1 << (bits - prefix)) - 1)


def network_text(value: int, mask: int, family: Family) -> str:
    """``ADDR/N`` for a contiguous mask, else ``ADDR/MASK`` (``-s``, ``-d``)."""
    prefix = prefix_of(mask, family)
    tail = str(prefix) if prefix is not None else address_text(mask, family)
    return f"{address_text(value & mask, family)}/{tail}"


def _name_error(text: str, what: str) -> RuleError:
    return host_dependent(
        f"{text!r} is not a numeric address; host names are not resolved, give an address",
        location=what,
    )


def parse_network(text: str, family: Family, what: str) -> tuple[int, int]:
    """One element of ``-s``/``-d`` as iptables parses it: (address, mask), not yet masked.

    IPv4 uses iptables' own parser (``10.1`` is 10.1.0.0, ``010`` is octal);
    IPv6 uses ``inet_pton``. A zero mask means any address, whatever the host part.
    """
    host = text.lstrip(" \t\n\v\f\r")
    if not host:
        raise fail("empty address", location=what)
    if len(host) > 255:
        raise fail("address too long", location=what)
    bits = BITS[family]
    full = (1 << bits) - 1
    mask = full
    if "/" in host:
        host, _, mask_text = host.rpartition("/")
        mask = _parse_mask(mask_text, family, what)
    if mask == 0:
        return 0, 0
    value = _ipv4_numeric(host, is_mask=False) if family == "ipv4" else ipv6_value(host)
    if value is None:
        if family == "ipv4" and ipv6_value(host) is not None:
            raise fail(f"{host!r} is an IPv6 address; iptables takes IPv4", location=what)
        if family == "ipv6" and _ipv4_numeric(host, is_mask=False) is not None:
            raise fail(f"{host!r} is an IPv4 address; ip6tables takes IPv6", location=what)
        raise _name_error(host, what)
    return value, mask


def _parse_mask(text: str, family: Family, what: str) -> int:
    """``/N`` (base 0) or an address-form mask (dotted for IPv4, ``inet_pton`` for IPv6)."""
    bits = BITS[family]
    value = _ipv4_numeric(text, is_mask=True) if family == "ipv4" else ipv6_value(text)
    if value is not None:
        return value
    try:
        prefix = uint(text, what, hi=bits)
    except RuleError:
        raise fail(f"invalid mask {text!r}", location=what) from None
    return mask_of(prefix, family)


def inet_aton(text: str) -> int | None:
    """IPv4 as getaddrinfo(AI_NUMERICHOST) reads it: inet_aton, ``10.1`` is 10.0.0.1, ``0xff`` 0.0.0.255."""
    if not text or re.search(r"\s", text):
        return None
    try:
        return int.from_bytes(socket.inet_aton(text), "big")
    except OSError:
        return None


def host_address(text: str, family: Family, what: str) -> int:
    """An ``XTTYPE_HOST`` value: a numeric address as getaddrinfo reads it, else a host name."""
    value = inet_aton(text) if family == "ipv4" else ipv6_value(text)
    if value is None:
        raise _name_error(text, what)
    return value


def plen(text: str, family: Family, what: str) -> int:
    """An ``XTTYPE_PLEN`` value: a prefix length (base 0, up to 32 or 128), else a numeric mask.

    A mask becomes its prefix length, or 255 when it has holes (libxtables
    keeps the -1 of ``xtables_ipmask_to_cidr`` in a uint8).
    """
    bits = BITS[family]
    if _UINT.fullmatch(text) is not None and uint(text, what) <= bits:
        return uint(text, what)
    mask = inet_aton(text) if family == "ipv4" else ipv6_value(text)
    if mask is None:
        raise fail(f"{text!r} is neither a prefix length (0-{bits}) nor a network mask", location=what)
    prefix = prefix_of(mask, family)
    return 255 if prefix is None else prefix


def host_mask(text: str, family: Family, what: str) -> tuple[int, int | None]:
    """An ``XTTYPE_HOSTMASK`` value (conntrack, NETMAP): strict address, optional ``/N`` or mask.

    The tool resolves these with getaddrinfo, which reads ``10.1`` and ``010``
    differently from iptables' own parser; only plain dotted quads and IPv6
    text are accepted here. The mask is None when absent; a mask with holes
    is read as a full mask, as the tool does.
    """
    host, slash, mask_text = text.partition("/")
    value = ipv4_strict(host) if family == "ipv4" else ipv6_value(host)
    if value is None:
        if family == "ipv4" and _ipv4_numeric(host, is_mask=False) is not None:
            raise fail(f"write {host!r} as a plain dotted quad (a.b.c.d, no leading zeros)", location=what)
        raise _name_error(host, what)
    if not slash:
        return value, None
    bits = BITS[family]
    if _UINT.fullmatch(mask_text) is not None:
        return value, uint(mask_text, what, hi=bits)
    mask = ipv4_strict(mask_text) if family == "ipv4" else ipv6_value(mask_text)
    if mask is None:
        raise fail(f"invalid mask {mask_text!r}", location=what)
    prefix = prefix_of(mask, family)
    return value, bits if prefix is None else prefix


def strict_address(text: str, family: Family, what: str) -> int:
    """An address read with ``inet_pton`` (NAT targets, TPROXY, iprange on IPv6)."""
    value = ipv4_strict(text) if family == "ipv4" else ipv6_value(text)
    if value is None:
        raise fail(f"invalid {'IPv4' if family == 'ipv4' else 'IPv6'} address {text!r}", location=what)
    return value


def numeric_address(text: str, family: Family, what: str) -> int:
    """An address read with iptables' own numeric parser (iprange): ``10.1`` is 10.1.0.0."""
    value = _ipv4_numeric(text, is_mask=False) if family == "ipv4" else ipv6_value(text)
    if value is None:
        raise fail(f"invalid address {text!r}", location=what)
    return value


def strtod(text: str, what: str) -> float:
    """A number as C ``strtod`` reads it (decimal or hex float), finite."""
    t = text.lstrip(" \t\n\v\f\r")
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        return float(t)
    if re.fullmatch(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?\d+)?", t):
        return float.fromhex(t)
    raise fail(f"invalid number {text!r}", location=what)
