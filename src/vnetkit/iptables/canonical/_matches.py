"""Other matches: comment, addresses and interfaces, packet fields, owner, string.

Owns: comment, mac, iprange, addrtype, pkttype, length, ttl/hl, set,
physdev, owner, string (printable patterns as --string, others as
--hex-string), dscp, tos, devgroup and rpfilter: their print order,
defaults and checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from vnetkit.iptables.canonical._ext import Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._tables import (
    ADDRTYPES,
    ADDRTYPES_NOT_IPV6,
    DSCP_CLASSES,
    PKTTYPES,
    TOS_NAMES,
)
from vnetkit.iptables.canonical._values import (
    U16,
    U32,
    address_text,
    check_text,
    cut_text,
    fail,
    host_dependent,
    mark_text,
    names_in_order,
    numeric_address,
    span,
    uint,
    uint_range,
    value_mask,
)
from vnetkit.model import Option


def _comment(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--comment"):
        raise fail("needs --comment", location=o.where())
    return (Option("--comment", (cut_text(o.value("--comment"), 255, o.where("--comment")),)),)


def _mac(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    text = o.get("--mac-source")
    if text is None:
        raise fail("needs --mac-source", location=o.where())
    if not re.fullmatch(r"[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}", text):
        raise fail(
            f"bad MAC address {text!r} (six hex bytes joined by ':')", location=o.where("--mac-source")
        )
    shown = ":".join(f"{int(part, 16):02x}" for part in text.split(":"))
    return (Option("--mac-source", (shown,), o.neg("--mac-source")),)


def _iprange(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not (o.has("--src-range") or o.has("--dst-range")):
        raise fail("needs --src-range or --dst-range", location=o.where())
    out: list[Option] = []
    for key in ("--src-range", "--dst-range"):
        if o.has(key):
            first, dash, last = o.value(key).partition("-")
            lo = numeric_address(first, ctx.family, o.where(key))
            hi = numeric_address(last, ctx.family, o.where(key)) if dash else lo
            shown = f"{address_text(lo, ctx.family)}-{address_text(hi, ctx.family)}"
            out.append(Option(key, (shown,), o.neg(key)))
    return tuple(out)


def _addrtype(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not (o.has("--src-type") or o.has("--dst-type")):
        raise fail("needs --src-type or --dst-type", location=o.where())
    out: list[Option] = []
    for key in ("--src-type", "--dst-type"):
        if o.has(key):
            shown = names_in_order(o.value(key), ADDRTYPES, o.where(key))
            bad = ADDRTYPES_NOT_IPV6.intersection(shown.split(","))
            if ctx.family == "ipv6" and bad:
                raise fail(
                    f"the kernel does not match {', '.join(sorted(bad))} for IPv6", location=o.where(key)
                )
            out.append(Option(key, (shown,), o.neg(key)))
    side = o.one_of("--limit-iface-in", "--limit-iface-out", required=False)
    if side:
        out.append(Option(side))
    return tuple(out)


def _pkttype(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    text = o.get("--pkt-type")
    if text is None:
        raise fail("needs --pkt-type", location=o.where())
    shown = PKTTYPES.get(text.lower())
    if shown is None:
        raise fail(f"unknown packet type {text!r}", location=o.where("--pkt-type"), choices=tuple(PKTTYPES))
    return (Option("--pkt-type", (shown,), o.neg("--pkt-type")),)


def _length(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--length"):
        raise fail("needs --length", location=o.where())
    lo, hi = uint_range(o.value("--length"), o.where("--length"), hi=U16)
    return (Option("--length", (span(lo, hi),), o.neg("--length")),)


def _ttl(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which("--ttl-eq", "--ttl-gt", "--ttl-lt")
    return (Option(key, (str(uint(o.value(key), o.where(key), hi=255)),), o.neg(key)),)


def _hl(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which("--hl-eq", "--hl-gt", "--hl-lt")
    return (Option(key, (str(uint(o.value(key), o.where(key), hi=255)),), o.neg(key)),)


def _set(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--match-set"):
        raise fail("needs --match-set NAME src|dst[,...]", location=o.where())
    name, dirs = o.values("--match-set")
    check_text(name, o.where("--match-set"), limit=31, empty=False)
    if re.search(r"\s", name):
        raise fail(f"set name {name!r} holds whitespace", location=o.where("--match-set"))
    items = dirs.split(",")
    if not 1 <= len(items) <= 6 or any(item not in ("src", "dst") for item in items):
        raise fail(f"{dirs!r}: give a comma list of src and dst (at most 6)", location=o.where("--match-set"))
    out = [Option("--match-set", (name, dirs), o.neg("--match-set"))]
    if o.has("--return-nomatch"):
        out.append(Option("--return-nomatch"))
    for key in ("--update-counters", "--update-subcounters"):
        if o.neg(key):  # only the negated form changes anything
            out.append(Option(key, (), True))
    for kind in ("packets", "bytes"):
        counter = o.one_of(*(f"--{kind}-{op}" for op in ("eq", "lt", "gt")), required=False)
        if counter is not None:
            value = uint(o.value(counter), o.where(counter), hi=2**64 - 1)
            out.append(Option(counter, (str(value),), o.neg(counter)))
    return tuple(out)


def _interface_name(text: str, where: str) -> str:
    check_text(text, where, limit=15, empty=False)
    if re.search(r"\s", text):
        raise fail(f"interface name {text!r} holds whitespace", location=where)
    return text


def _physdev(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.items:
        raise fail("needs one or more options", location=o.where())
    out: list[Option] = []
    for key in (
        "--physdev-is-in",
        "--physdev-in",
        "--physdev-is-out",
        "--physdev-out",
        "--physdev-is-bridged",
    ):
        if o.has(key):
            values = (
                (_interface_name(o.value(key), o.where(key)),)
                if key in ("--physdev-in", "--physdev-out")
                else ()
            )
            out.append(Option(key, values, o.neg(key)))
    return tuple(out)


def _ids(text: str, where: str, lookup: Callable[[str], int | None] | None) -> str:
    """libxt_owner: a user/group name first (getpwnam/getgrnam), else ``N`` or ``N-M``."""
    if lookup is not None:
        found = lookup(text)
        if found is not None:
            return str(found)
    if re.fullmatch(r"\s*[A-Za-z_][\w.-]*", text):
        if lookup is None:
            raise host_dependent(
                f"user/group name {text.strip()!r} needs NSS; give the numeric id", location=where
            )
        raise fail(f"no user/group {text.strip()!r} on this host", location=where)
    lo, hi = uint_range(text, where, sep="-", hi=U32 - 1, empty_ends=False)
    if lo > hi:
        raise fail(f"reversed range {text!r}", location=where)
    return span(lo, hi, "-")


def _owner(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.items:
        raise fail("needs one or more options", location=o.where())
    o.requires("--suppl-groups", "--gid-owner")
    if o.has("--suppl-groups") and o.index("--suppl-groups") < o.index("--gid-owner"):
        raise fail("--suppl-groups must come after --gid-owner", location=o.where("--suppl-groups"))
    out: list[Option] = []
    if o.has("--socket-exists"):
        out.append(Option("--socket-exists", (), o.neg("--socket-exists")))
    resolver = ctx.resolver
    lookups = {
        "--uid-owner": None if resolver is None else resolver.user,
        "--gid-owner": None if resolver is None else resolver.group,
    }
    for key, lookup in lookups.items():
        if o.has(key):
            out.append(Option(key, (_ids(o.value(key), o.where(key), lookup),), o.neg(key)))
    if o.has("--suppl-groups"):
        out.append(Option("--suppl-groups"))
    return tuple(out)


def _hex_pattern(text: str, where: str) -> bytes:  # noqa: PLR0912 - mirrors libxt_string branch for branch
    """libxt_string's ``parse_hex_string``: ``|41 42|`` blocks, ``\\`` escapes, other bytes literal."""
    s = text.encode()
    if not s:
        raise fail("the pattern must hold at least one byte", location=where)
    out = bytearray()
    i, n, hexmode, literal = 0, len(s), False, False
    while i < n:
        c = s[i]
        if c == 0x5C and not hexmode:
            literal = True
        elif c == 0x5C:
            raise fail("cannot include literals in hex data", location=where)
        elif c == 0x7C:
            hexmode = not hexmode
            if hexmode:
                while i + 1 < n and s[i + 1] == 0x20:
                    i += 1
            if i + 1 >= n:
                break
            i += 1
        if literal:
            if i + 1 >= n:
                raise fail("bad literal placement at end of string", location=where)
            out.append(s[i + 1])
            i += 2
            literal = False
        elif hexmode:
            if i + 2 >= n:
                raise fail("odd number of hex digits or unclosed hex block", location=where)
            pair = s[i : i + 2].decode("latin-1")
            if not re.fullmatch(r"[0-9a-fA-F]{2}", pair):
                raise fail(f"invalid hex {pair!r}", location=where)
            out.append(int(pair, 16))
            i += 3 if s[i + 2] == 0x20 else 2
        else:
            out.append(s[i])
            i += 1
        if len(out) > 128:
            raise fail("pattern longer than 128 bytes", location=where)
    return bytes(out)


def _string(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    which = o.which("--string", "--hex-string")
    where = o.where(which)
    if which == "--string":
        pattern = o.value(which).encode()
        if not pattern or len(pattern) > 128:
            raise fail("the pattern must hold 1 to 128 bytes", location=where)
    else:
        pattern = _hex_pattern(o.value(which), where)
    algo = o.get("--algo")
    if algo not in ("bm", "kmp"):
        raise fail("needs --algo bm or --algo kmp", location=o.where("--algo"), choices=("bm", "kmp"))
    # libxt_string prints hex when a byte is not printable, or when the last one is a backslash.
    if all(0x20 <= byte < 0x7F for byte in pattern) and not pattern.endswith(b"\\"):
        out = [Option("--string", (pattern.decode("ascii"),), o.neg(which))]
    else:
        out = [Option("--hex-string", (f"|{pattern.hex()}|",), o.neg(which))]
    out.append(Option("--algo", (algo,)))
    start = uint(o.value("--from"), o.where("--from"), hi=U16) if o.has("--from") else 0
    stop = uint(o.value("--to"), o.where("--to"), hi=U16) if o.has("--to") else U16
    if start > stop:
        raise fail("--from is after --to", location=o.where())
    if start:
        out.append(Option("--from", (str(start),)))
    if stop != U16:
        out.append(Option("--to", (str(stop),)))
    if o.has("--icase"):
        out.append(Option("--icase"))
    return tuple(out)


def dscp_value(o: Opts, number: str, klass: str) -> int:
    which = o.which(number, klass)
    if which == number:
        return uint(o.value(which), o.where(which), hi=63)
    value = DSCP_CLASSES.get(o.value(which).upper())
    if value is None:
        raise fail(
            f"unknown DSCP class {o.value(which)!r}", location=o.where(which), choices=tuple(DSCP_CLASSES)
        )
    return value


def _dscp(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    negated = o.neg("--dscp") or o.neg("--dscp-class")
    return (Option("--dscp", (f"0x{dscp_value(o, '--dscp', '--dscp-class'):02x}",), negated),)


def tos_value(text: str, where: str) -> tuple[int, int]:
    """``V[/M]`` (mask 0xff by default) or a symbolic name (mask 0x3f), as libxt_tos reads it."""
    if re.match(r"\s*\+?[0-9]", text):
        value, mask = value_mask(text, where, hi=0xFF)
        return value, 0xFF if mask is None else mask
    named = TOS_NAMES.get(text.lower())
    if named is None:
        raise fail(f"unknown TOS name {text!r}", location=where, choices=tuple(TOS_NAMES))
    return named, 0x3F


def _tos(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--tos"):
        raise fail("needs --tos", location=o.where())
    value, mask = tos_value(o.value("--tos"), o.where("--tos"))
    return (Option("--tos", (f"0x{value:02x}/0x{mask:02x}",), o.neg("--tos")),)


def _devgroup(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.items:
        raise fail("needs --src-group or --dst-group", location=o.where())
    out: list[Option] = []
    for key in ("--src-group", "--dst-group"):
        if o.has(key):
            text = o.value(key)
            if not re.match(r"\s*\+?[0-9]", text):
                raise host_dependent(
                    f"group name {text!r} needs /etc/iproute2/group; give the number", location=o.where(key)
                )
            value, mask = value_mask(text, o.where(key))
            if mask is None or mask == U32:
                raise host_dependent(
                    f"{text!r}: a group without a mask is printed under its /etc/iproute2/group name"
                    " (0 is 'default'), which canonical() does not read; give a mask (e.g. 0x1/0xff)",
                    location=o.where(key),
                )
            out.append(Option(key, (mark_text(value, mask),), o.neg(key)))
    return tuple(out)


def _rpfilter(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return tuple(
        Option(key) for key in ("--loose", "--validmark", "--accept-local", "--invert") if o.has(key)
    )


def _udplite(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    raise fail(
        "iptables has no udplite match (and -p udplite no implicit one); use -m multiport", location=o.where()
    )


MATCHES: tuple[Ext, ...] = (
    ext("comment", "match", _comment, "--comment"),
    ext("mac", "match", _mac, "--mac-source", invert="*"),
    ext("iprange", "match", _iprange, "--src-range --dst-range", invert="*"),
    ext(
        "addrtype",
        "match",
        _addrtype,
        "--src-type --dst-type --limit-iface-in --limit-iface-out",
        flags="--limit-iface-in --limit-iface-out",
        invert="--src-type --dst-type",
    ),
    ext("pkttype", "match", _pkttype, "--pkt-type", invert="*"),
    ext("length", "match", _length, "--length", invert="*"),
    ext("ttl", "match", _ttl, "--ttl-eq --ttl-gt --ttl-lt", invert="--ttl-eq", family="ipv4"),
    ext("hl", "match", _hl, "--hl-eq --hl-gt --hl-lt", invert="--hl-eq", family="ipv6"),
    ext(
        "set",
        "match",
        _set,
        "--match-set|--set --return-nomatch --update-counters --update-subcounters"
        " --packets-eq --packets-lt --packets-gt --bytes-eq --bytes-lt --bytes-gt",
        flags="--return-nomatch --update-counters --update-subcounters",
        pairs="--match-set",
        invert="--match-set --update-counters --update-subcounters --packets-eq --bytes-eq",
    ),
    ext(
        "physdev",
        "match",
        _physdev,
        "--physdev-in --physdev-out --physdev-is-in --physdev-is-out --physdev-is-bridged",
        flags="--physdev-is-in --physdev-is-out --physdev-is-bridged",
        invert="*",
    ),
    ext(
        "owner",
        "match",
        _owner,
        "--uid-owner --gid-owner --suppl-groups --socket-exists",
        flags="--suppl-groups --socket-exists",
        invert="--uid-owner --gid-owner --socket-exists",
    ),
    ext(
        "string",
        "match",
        _string,
        "--string --hex-string --algo --from --to --icase",
        flags="--icase",
        invert="--string --hex-string",
    ),
    ext("dscp", "match", _dscp, "--dscp --dscp-class", invert="*"),
    ext("tos", "match", _tos, "--tos", invert="*"),
    ext("devgroup", "match", _devgroup, "--src-group --dst-group", invert="*"),
    ext(
        "rpfilter",
        "match",
        _rpfilter,
        "--loose --validmark --accept-local --invert",
        flags="--loose --validmark --accept-local --invert",
    ),
    ext("udplite", "match", _udplite, "--sport|--source-port --dport|--destination-port", invert="*"),
)
