"""IPv6 extension-header matches, and the value parsers the header group shares.

Owns: dst, hbh, frag, rt, srh, eui64 and ipv6header (ip6tables only), as
measured in docs/canonical/spec-hdr.md; and three parsers that mirror
libxtables where ``_values`` has no equivalent: ``uint_parts`` (an
``XTTYPE_UINT*RC`` value: ``a``, ``a:b``, ``:b``, ``a:``, ``:``, even empty),
``c_strtoul`` (C ``strtoul``: a sign, base 0, wrap-around of negatives) and
``host_and_mask`` (an ``XTTYPE_HOSTMASK`` value read the way getaddrinfo
reads it: ``10.1`` is 10.0.0.1; unlike ``_values.host_mask`` the address and
prefix are kept for printing as given). ipv6header prints header names from
/etc/protocols except hop-by-hop: those go through ``ctx.resolver``.
Does not own: the other matches of the group (``_matches_hdr_pkt``,
``_matches_hdr_bpf``).
"""

from __future__ import annotations

import re

from vnetkit.iptables.canonical._ext import Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._values import (
    BITS,
    U16,
    U32,
    Family,
    address_text,
    fail,
    inet_aton,
    ipv6_value,
    prefix_of,
    span,
    uint,
)
from vnetkit.model import Option

ULONG = 2**64 - 1
_SPACE = " \t\n\v\f\r"
_DIGITS = {8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


# ---------------------------------------------------------------- value parsers


def c_strtoul(text: str, pos: int = 0) -> tuple[int, int, bool] | None:
    """C ``strtoul(text + pos, &end, 0)``: (value, end, overflowed), None when no digits.

    Leading blanks and a sign are skipped; ``0x`` (hex) or ``0`` (octal)
    choose the base; a negative number wraps around (``-1`` is ULONG_MAX);
    an overflow gives ULONG_MAX with the flag set (errno ERANGE).
    """
    n = len(text)
    while pos < n and text[pos] in _SPACE:
        pos += 1
    negative = pos < n and text[pos] == "-"
    if pos < n and text[pos] in "+-":
        pos += 1
    base = 10
    if text[pos : pos + 2] in ("0x", "0X") and pos + 2 < n and text[pos + 2] in _DIGITS[16]:
        base, pos = 16, pos + 2
    elif text[pos : pos + 1] == "0":
        base = 8
    start = pos
    while pos < n and text[pos] in _DIGITS[base]:
        pos += 1
    if pos == start:
        return None
    value = int(text[start:pos], base)
    if value > ULONG:
        return ULONG, pos, True
    return (-value) % (ULONG + 1) if negative else value, pos, False


def uint_parts(text: str, where: str, *, hi: int = U32) -> tuple[int, int, int]:
    """An ``XTTYPE_UINT*RC`` value as libxtables reads it: (low, high, number of parts).

    ``a`` is one part; ``a:b`` two; an empty part is 0 at the front and
    ``hi`` at the back (``5:`` is 5:hi, ``:`` is 0:hi, ``""`` is 0). The
    order of the two is not checked.
    """
    parts: list[int] = []
    pos = 0
    while True:
        if len(parts) == 2:
            raise fail(f"{text!r} has more than two ':'-separated parts", location=where)
        if pos >= len(text) or text[pos] == ":":
            value, end = (hi if len(parts) == 1 else 0), pos
        else:
            lead = text[pos:].lstrip(_SPACE)
            read = None if lead.startswith("-") else c_strtoul(text, pos)
            if read is None or read[2] or read[0] > hi:
                raise fail(f"invalid number in {text!r} (0-{hi}, decimal, 0x hex or 0 octal)", location=where)
            value, end = read[0], read[1]
            if end < len(text) and text[end] != ":":
                raise fail(f"unexpected characters in {text!r}", location=where)
        parts.append(value)
        if end >= len(text):
            break
        pos = end + 1
    return parts[0], parts[-1], len(parts)


def _numeric_host(text: str, family: Family) -> int | None:
    if family == "ipv4":
        return inet_aton(text)
    return None if "%" in text else ipv6_value(text)


def host_and_mask(text: str, family: Family, where: str, ctx: Ctx) -> tuple[int, int]:
    """An ``XTTYPE_HOSTMASK`` value: (address as given, prefix length).

    The address is read as getaddrinfo reads a numeric host (``10.1``,
    ``010.1.2.3`` on IPv4; ``inet_pton`` on IPv6) and is not masked; a name
    is resolved by the host, so it is host-dependent. The mask is ``/N``
    (base 0) or an address-form mask; one with holes counts as a full mask.
    """
    host, slash, mask_text = text.partition("/")
    bits = BITS[family]
    value = _numeric_host(host, family)
    if value is None:
        other: Family = "ipv6" if family == "ipv4" else "ipv4"
        if "%" not in host and (
            _numeric_host(host, other) is not None or re.fullmatch(r"[\d.]*|.*:.*", host)
        ):
            raise fail(f"{host!r} is not an {'IPv4' if family == 'ipv4' else 'IPv6'} address", location=where)
        ctx.host_dependent(f"{host!r} is resolved by this host (a name or a scope); give an address", where)
    if not slash:
        return value, bits
    if not mask_text.lstrip(_SPACE).startswith("-"):
        read = c_strtoul(mask_text)
        if read is not None and read[1] == len(mask_text) and not read[2] and read[0] <= bits:
            return value, read[0]
    mask = _numeric_host(mask_text, family)
    if mask is None:
        raise fail(f"invalid mask {mask_text!r} (a prefix length 0-{bits} or a mask)", location=where)
    prefix = prefix_of(mask, family)
    return value, bits if prefix is None else prefix


# ---------------------------------------------------------------- dst, hbh


def _opts_number(text: str, where: str) -> int:
    """libip6t_dst/hbh ``parse_opts_num``: strtoul, no trailing text, the low byte kept."""
    read = c_strtoul(text)
    if read is None:
        raise fail(f"no digits in {text!r}", location=where)
    if read[2]:
        raise fail(f"{text!r} is too big", location=where)
    if text and read[1] != len(text):
        raise fail(f"unexpected characters in {text!r}", location=where)
    return read[0] & 0xFF


def _header_options(text: str, where: str) -> str:
    """``TYPE[:LEN],...`` (at most 16; the 16th without a length), as printed back."""
    items = text.split(",")
    if len(items) > 16:
        raise fail("at most 16 options", location=where)
    out = []
    for k, item in enumerate(items):
        kind, colon, length = item.partition(":")
        if colon and k == 15:
            raise fail("the 16th option cannot have a length", location=where)
        number = _opts_number(kind, where)
        if not colon:
            out.append(str(number))
            continue
        if number == 0:
            raise fail("option type 0 (Pad1) has no length", location=where)
        size = _opts_number(length, where)
        out.append(str(number) if size == 0xFF else f"{number}:{size}")  # length 255 means "any"
    return ",".join(out)


def _ext_options(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    name = o.ext.name
    out: list[Option] = []
    if o.has(f"--{name}-len"):
        key = f"--{name}-len"
        out.append(Option(key, (str(uint(o.value(key), o.where(key))),), o.neg(key)))
    if o.has(f"--{name}-opts"):
        key = f"--{name}-opts"
        out.append(Option(key, (_header_options(o.value(key), o.where(key)),)))
    return tuple(out)


# ---------------------------------------------------------------- frag, rt


def _id_range(o: Opts, key: str) -> list[Option]:
    """An ``--fragid``/``--rt-segsleft`` range; 0:4294967295 is not printed (even negated)."""
    if not o.has(key):
        return []
    lo, hi, _ = uint_parts(o.value(key), o.where(key))
    return [] if (lo, hi) == (0, U32) else [Option(key, (span(lo, hi),), o.neg(key))]


def _number(o: Opts, key: str) -> list[Option]:
    if not o.has(key):
        return []
    return [Option(key, (str(uint(o.value(key), o.where(key))),), o.neg(key))]


def _frag(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    o.one_of("--fragmore", "--fraglast", required=False)
    out = _id_range(o, "--fragid") + _number(o, "--fraglen")
    flags = ("--fragres", "--fragfirst", "--fragmore", "--fraglast")
    return (*out, *(Option(key) for key in flags if o.has(key)))


def _rt(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    rtype = None if not o.has("--rt-type") else uint(o.value("--rt-type"), o.where("--rt-type"))
    type0 = rtype == 0 and not o.neg("--rt-type")
    for key in ("--rt-0-res", "--rt-0-addrs"):
        if o.has(key) and not (type0 and o.index("--rt-type") < o.index(key)):
            raise fail("needs --rt-type 0 (not negated) before it", location=o.where(key))
    if o.has("--rt-0-not-strict") and not (
        o.has("--rt-0-addrs") and o.index("--rt-0-addrs") < o.index("--rt-0-not-strict")
    ):
        raise fail("needs --rt-0-addrs before it", location=o.where("--rt-0-not-strict"))
    out = _number(o, "--rt-type") + _id_range(o, "--rt-segsleft") + _number(o, "--rt-len")
    if o.has("--rt-0-res"):
        out.append(Option("--rt-0-res"))
    if o.has("--rt-0-addrs"):
        where = o.where("--rt-0-addrs")
        items = o.value("--rt-0-addrs").split(",")
        if len(items) > 16:
            raise fail("at most 16 addresses", location=where)
        values = [ipv6_value(item) for item in items]
        bad = [item for item, value in zip(items, values, strict=True) if value is None]
        if bad:
            raise fail(f"{bad[0]!r} is not an IPv6 address (inet_pton, no names)", location=where)
        shown = ",".join(address_text(value, "ipv6") for value in values if value is not None)
        out.append(Option("--rt-0-addrs", (shown,)))
    if o.has("--rt-0-not-strict"):
        out.append(Option("--rt-0-not-strict"))
    return tuple(out)


# ---------------------------------------------------------------- srh, eui64

_SRH_U8 = tuple(
    f"--srh-{field}"
    for field in (
        "next-hdr",
        "hdr-len-eq",
        "hdr-len-gt",
        "hdr-len-lt",
        "segs-left-eq",
        "segs-left-gt",
        "segs-left-lt",
        "last-entry-eq",
        "last-entry-gt",
        "last-entry-lt",
    )
)
_SRH_SIDS = ("--srh-psid", "--srh-nsid", "--srh-lsid")


def _srh_field(key: str) -> str:
    return key if key == "--srh-next-hdr" else key.rsplit("-", 1)[0]


def _srh(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    # The -eq/-gt/-lt options of one field share one byte: the last value given wins for all.
    shared: dict[str, int] = {}
    for item in o.items:
        if item.name in _SRH_U8:
            shared[_srh_field(item.name)] = uint(item.values[0], o.where(item.name), hi=0xFF)
    out: list[Option] = []
    for key in _SRH_U8:
        if o.has(key):
            out.append(Option(key, (str(shared[_srh_field(key)]),), o.neg(key)))
    if o.has("--srh-tag"):
        out.append(
            Option(
                "--srh-tag",
                (str(uint(o.value("--srh-tag"), o.where("--srh-tag"), hi=U16)),),
                o.neg("--srh-tag"),
            )
        )
    for key in _SRH_SIDS:
        if o.has(key):
            value, prefix = host_and_mask(o.value(key), "ipv6", o.where(key), ctx)
            out.append(Option(key, (f"{address_text(value, 'ipv6')}/{prefix}",), o.neg(key)))
    return tuple(out)


def _eui64(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return ()


# ---------------------------------------------------------------- ipv6header

# libip6t_ipv6header's own names (tried after /etc/protocols), and the print order of its bits.
_HEADER_NAMES = {
    "hop-by-hop": 0, "protocol": 255, "hop": 0, "dst": 60, "route": 43, "frag": 44, "auth": 51, "esp": 50,
    "none": 59, "prot": 255, "0": 0, "60": 60, "43": 43, "44": 44, "51": 51, "50": 50, "59": 59, "255": 255,
}  # fmt: skip
_HEADER_ORDER = (0, 60, 43, 44, 51, 50, 59, 255)
_HEADER_PRINTED = {0: "hop-by-hop", 60: "dst", 43: "route", 44: "frag", 51: "auth", 50: "esp", 59: "none"}
_HEADER_PRINTED[255] = "protocol"


def _header_number(name: str, where: str, ctx: Ctx) -> int:
    """getprotobyname first, then the extension's table (exact, case-sensitive)."""
    number = ctx.resolver.protocol_number(name) if ctx.resolver is not None else None
    if number is None:
        number = _HEADER_NAMES.get(name)
    if number is None and ctx.resolver is None:
        ctx.host_dependent(
            f"header {name!r} would be looked up in /etc/protocols; use {', '.join(_HEADER_NAMES)}", where
        )
    if number not in _HEADER_ORDER:
        raise fail(f"unknown header {name!r}", location=where, choices=tuple(_HEADER_NAMES))
    return number


def _header_name(number: int, where: str, ctx: Ctx) -> str:
    """hop-by-hop from the extension's table; any other from getprotobynumber (then the table)."""
    if number == 0:
        return _HEADER_PRINTED[0]
    if ctx.resolver is None:
        ctx.host_dependent(
            f"iptables-save prints header {number} under its /etc/protocols name; only hop-by-hop is fixed",
            where,
        )
    return ctx.resolver.protocol_name(number) or _HEADER_PRINTED[number]


def _ipv6header(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--header"):
        raise fail("needs --header", location=o.where())
    where = o.where("--header")
    given = {_header_number(name, where, ctx) for name in o.value("--header").split(",") if name}
    if not given:
        raise fail("no header names given", location=where)
    names = ",".join(_header_name(number, where, ctx) for number in _HEADER_ORDER if number in given)
    out = [Option("--header", (names,), o.neg("--header"))]
    return (*out, Option("--soft")) if o.has("--soft") else tuple(out)


MATCHES: tuple[Ext, ...] = (
    ext("dst", "match", _ext_options, "--dst-len --dst-opts", invert="--dst-len", family="ipv6"),
    ext("hbh", "match", _ext_options, "--hbh-len --hbh-opts", invert="--hbh-len", family="ipv6"),
    ext(
        "frag",
        "match",
        _frag,
        "--fragid --fraglen --fragres --fragfirst --fragmore --fraglast",
        flags="--fragres --fragfirst --fragmore --fraglast",
        invert="--fragid --fraglen",
        family="ipv6",
    ),
    ext(
        "rt",
        "match",
        _rt,
        "--rt-type --rt-segsleft --rt-len --rt-0-res --rt-0-addrs --rt-0-not-strict",
        flags="--rt-0-res --rt-0-not-strict",
        invert="--rt-type --rt-segsleft --rt-len",
        family="ipv6",
    ),
    ext("srh", "match", _srh, " ".join((*_SRH_U8, "--srh-tag", *_SRH_SIDS)), invert="*", family="ipv6"),
    ext("eui64", "match", _eui64, "", family="ipv6"),
    ext(
        "ipv6header",
        "match",
        _ipv6header,
        "--header --soft",
        flags="--soft",
        invert="--header",
        family="ipv6",
    ),
)
