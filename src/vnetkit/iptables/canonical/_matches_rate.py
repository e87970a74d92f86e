"""Rate matches: hashlimit, as iptables-save 1.8.9 prints it (revision 3, the kernel's highest).

Owns: how ``-m hashlimit`` reads its rates (packets per second, minute,
hour or day; bytes per second with ``b/s``), bursts, modes, masks and
htable options, the defaults it adds (``--hashlimit-burst 5``, an
``--hashlimit-htable-expire`` whenever the printed rate's unit differs from
the given one), the old ``--hashlimit`` spelling, and the kernel's checks
(overflowing bursts, masks, zero intervals). Measured: docs/canonical/spec-rate.md.
The other matches of the group live in ``_matches_rate_time`` (time, u32)
and ``_matches_rate_misc`` (rateest, connlabel, nfacct, osf, ipvs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vnetkit.iptables.canonical._ext import Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._values import (
    BITS,
    U32,
    check_text,
    fail,
    ipv6_value,
    prefix_of,
    uint,
)
from vnetkit.model import Option

U64 = 2**64 - 1
_SCALE = 1_000_000  # XT_HASHLIMIT_SCALE_v2: rates are kept as 1e-6 s between packets
_BURST_MAX = 1_000_000
_GC_DEFAULT = 1000  # ms
_BYTE_EXPIRE, _BYTE_EXPIRE_BURST = 15, 60  # s, the byte mode's default expiry without/with a burst
_MAX_SIZE = 1_048_576  # HASHLIMIT_MAX_SIZE: the kernel lowers htable-size and htable-max to it
_RATE_WORDS = (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400))
_RATE_UNITS = (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1))
_BYTE_UNITS = (("m", 1 << 20), ("k", 1 << 10), ("", 1))
_MODES = ("srcip", "srcport", "dstip", "dstport")  # the print order

_WS = " \t\n\v\f\r"
_ATON_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def atoll(text: str) -> int:
    """C ``atoll`` (glibc ``strtoll``, saturating): leading blanks, a sign, decimal digits; 0 if none."""
    m = re.match(r"[ \t\n\v\f\r]*([+-]?)([0-9]*)", text)
    if m is None or not m.group(2):
        return 0
    value = min(int(m.group(2)), 2**63 - 1 if m.group(1) != "-" else 2**63)
    return -value if m.group(1) == "-" else value


def strtoumax(text: str) -> tuple[int, str] | None:
    """libxtables ``xtables_strtoul`` with an end pointer: (value, rest), None when no number.

    Base 0 (``0x`` hex, ``0`` octal), leading blanks and ``+``; a ``-`` or an
    overflow of 64 bits is refused.
    """
    s = text.lstrip(_WS)
    if s.startswith("-"):
        return None
    s = s.removeprefix("+")
    m = re.match(r"0[xX]([0-9a-fA-F]+)", s)
    if m:
        value, used = int(m.group(1), 16), m.end()
    elif (m := re.match(r"0[0-7]*", s)) is not None:
        value, used = int(m.group(), 8), m.end()
    elif (m := re.match(r"[0-9]+", s)) is not None:
        value, used = int(m.group()), m.end()
    else:
        return None
    if value > U64:
        return None
    return value, s[used:]


def strtoul(text: str, base: int) -> tuple[int, str]:
    """C ``strtoul(text, &end, base)`` for base 10 or 0: (value, rest); (0, text) when no digits.

    A ``-`` negates modulo 2**64, an overflow gives ULONG_MAX, as glibc does.
    """
    m = re.match(r"[ \t\n\v\f\r]*([+-]?)", text)
    sign, s = (m.group(1), text[m.end() :]) if m else ("", text)
    if base == 0 and re.match(r"0[xX][0-9a-fA-F]", s):
        digits = re.match(r"[0-9a-fA-F]+", s[2:])
        value, rest = int(digits.group(), 16) if digits else 0, s[2 + (digits.end() if digits else 0) :]
    elif base == 0 and s.startswith("0"):
        digits = re.match(r"[0-7]+", s)
        value, rest = int(digits.group(), 8) if digits else 0, s[digits.end() if digits else 0 :]
    else:
        digits = re.match(r"[0-9]+", s)
        if digits is None:
            return 0, text
        value, rest = int(digits.group()), s[digits.end() :]
    if value > U64:
        return U64, rest
    return (-value & U64 if sign == "-" else value), rest


def inet_aton(text: str) -> int | None:
    """glibc ``inet_aton`` (getaddrinfo's numeric IPv4 form): 1-4 parts, base 0, the last fills the rest."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if not _ATON_PART.fullmatch(part):
            return None
        if part[:2] in ("0x", "0X"):
            values.append(int(part[2:] or "0", 16))
        else:
            values.append(int(part, 8 if part.startswith("0") else 10))
    *head, last = values
    if any(v > 255 for v in head) or last >= 1 << (8 * (4 - len(head))):
        return None
    value = 0
    for v in head:
        value = value << 8 | v
    return value << (8 * (4 - len(head))) | last


def _plen(text: str, ctx: Ctx, where: str) -> int:
    """``XTTYPE_PLEN``: a prefix length (base 0), or a mask in address form (as a prefix, 255 if holes)."""
    bits = BITS[ctx.family]
    parsed = strtoumax(text)
    if parsed is not None and not parsed[1] and parsed[0] <= bits:
        return parsed[0]
    mask = inet_aton(text) if ctx.family == "ipv4" else ipv6_value(text)
    if mask is None:
        raise fail(f"{text!r} is neither a prefix length (0-{bits}) nor a mask", location=where)
    prefix = prefix_of(mask, ctx.family)
    if prefix is None:
        raise fail(f"{text!r} is not a contiguous mask (the kernel refuses it)", location=where)
    return prefix


def _unit(text: str, where: str) -> int:
    """The seconds of a rate's ``/unit``: any case-insensitive prefix of second, minute, hour, day."""
    _, slash, unit = text.partition("/")
    if not slash:
        return 1
    for word, seconds in _RATE_WORDS:
        if unit and word.startswith(unit.lower()):
            return seconds
    raise fail(f"bad rate unit in {text!r}", location=where, choices=("sec", "min", "hour", "day"))


def bytes_to_cost(value: int, where: str) -> int:
    chunks = (value >> 4) & U32
    if chunks == U32:  # the tool divides by zero
        raise fail("rate makes iptables divide by zero", location=where)
    return U32 // (chunks + 1)


def cost_to_bytes(cost: int) -> int:
    return ((U32 // cost if cost else U32) - 1) << 4


def _rate(text: str, where: str) -> tuple[int, int, bool]:
    """(avg, seconds per unit, bytes mode) as libxt_hashlimit's parse_bytes/parse_rate read ``text``."""
    at = text.find("b/s")
    number = atoll(text) & U64
    if at > 0 and number:
        factor = {"m": 1 << 20, "k": 1 << 10}.get(text[at - 1], 1)
        cost = bytes_to_cost(number * factor & U64, where)
        if cost == 0:
            raise fail(f"rate {text!r} is too high", location=where)
        return cost, _BYTE_EXPIRE, True
    seconds = _unit(text, where)
    if not number:
        raise fail(f"bad rate {text!r}: give N[/sec|/min|/hour|/day] or N[k|m]b/s", location=where)
    avg = _SCALE * seconds // number
    if avg == 0:
        raise fail(f"rate {text!r} is too fast (at most 1000000/sec)", location=where)
    return avg, seconds, False


def _burst(text: str, where: str) -> int:
    """parse_burst: a number (base 0), then ``k``/``m`` multiplies by 1024/1048576; other tails ignored."""
    parsed = strtoumax(text)
    if parsed is None or parsed[0] < 1 or (not parsed[1] and parsed[0] > _BURST_MAX):
        raise fail(f"bad burst {text!r} (1-{_BURST_MAX}, or bytes such as 400kb)", location=where)
    value, rest = parsed
    return value * {"m": 1 << 20, "k": 1 << 10}.get(rest[:1], 1) & U64


def _mode(text: str, where: str) -> int:
    bits = 0
    for token in re.split(r"[,|]", text):
        if token:
            if token not in _MODES:
                raise fail(f"unknown mode {token!r}", location=where, choices=_MODES)
            bits |= 1 << _MODES.index(token)
    return bits


def print_rate(period: int) -> tuple[str, int]:
    """libxt_hashlimit's print_rate: the text and its unit in ms (the expiry it implies)."""
    i = 1
    while i < len(_RATE_UNITS):
        mult = _SCALE * _RATE_UNITS[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    name, seconds = _RATE_UNITS[i - 1]
    return f"{_SCALE * seconds // period}/{name}", seconds * 1000


def _print_bytes(cost: int) -> str:
    r = cost_to_bytes(cost)
    for name, thresh in _BYTE_UNITS[:-1]:
        # ~(thresh - 1) is computed in 32 bits: it also clears the high half of r.
        if r >= thresh and bytes_to_cost(r & ~(thresh - 1) & U32, "") == cost:
            return f"{r // thresh}{name}b/s"
    return f"{r}b/s"


def _print_burst_bytes(total: int) -> str:
    name, thresh = next(((n, t) for n, t in _BYTE_UNITS[:-1] if total >= t), ("", 1))
    return f"{total // thresh}{name}b"


# The kernel's credit scales for CONFIG_HZ 250 and 1000 (the same for both; 100 and 300
# differ near the overflow edge): HZ * CREDITS_PER_JIFFY / 1e6 and HZ * CREDITS_PER_JIFFY_BYTES.
_CREDITS_PER_USEC = 250 * (1 << 39) // _SCALE
_BYTE_CREDITS = 250 * (1 << 24)


def _name(text: str, where: str) -> str:
    check_text(text, where, limit=254, empty=False)
    if re.search(r"[\s/]", text) or text in (".", ".."):
        raise fail(
            f"table name {text!r}: no whitespace or '/' (a /proc file is named after it)", location=where
        )
    return text


@dataclass
class _Config:
    """struct hashlimit_cfg3 as libxt_hashlimit fills it (before the kernel's checks)."""

    inverted: bool
    in_bytes: bool
    avg: int
    burst: int
    mode: int
    masks: tuple[int, int]
    size: int
    max: int
    gc: int
    expire: int
    rate_match: bool
    interval: int


def _opt_u32(o: Opts, key: str, default: int) -> int:
    return uint(o.value(key), o.where(key)) if o.has(key) else default


def _parse(o: Opts, ctx: Ctx, which: str) -> _Config:
    avg, mult, in_bytes = _rate(o.value(which), o.where(which))
    bits = BITS[ctx.family]
    masks = tuple(
        _plen(o.value(k), ctx, o.where(k)) if o.has(k) else bits
        for k in ("--hashlimit-srcmask", "--hashlimit-dstmask")
    )
    cfg = _Config(
        inverted=(which == "--hashlimit-above") != o.neg(which),
        in_bytes=in_bytes,
        avg=avg,
        burst=_burst(o.value("--hashlimit-burst"), o.where("--hashlimit-burst"))
        if o.has("--hashlimit-burst")
        else 5,
        mode=_mode(o.value("--hashlimit-mode"), o.where("--hashlimit-mode"))
        if o.has("--hashlimit-mode")
        else 0,
        masks=(masks[0], masks[1]),
        size=_opt_u32(o, "--hashlimit-htable-size", 0),
        max=_opt_u32(o, "--hashlimit-htable-max", 0),
        gc=_opt_u32(o, "--hashlimit-htable-gcinterval", _GC_DEFAULT),
        expire=_opt_u32(o, "--hashlimit-htable-expire", mult * 1000),
        rate_match=o.has("--hashlimit-rate-match"),
        interval=0,
    )
    if in_bytes:
        if o.has("--hashlimit-burst"):
            where = o.where("--hashlimit-burst")
            unit = cost_to_bytes(avg)
            if unit == 0:  # the tool divides by zero
                raise fail("a byte rate this low takes no burst", location=where)
            if cfg.burst < unit:
                raise fail(f"burst cannot be smaller than {unit}b", location=where)
            cfg.burst = ((cfg.burst & U32) // unit + (1 if cfg.burst % unit else 0)) & U32
            if not o.has("--hashlimit-htable-expire"):
                cfg.expire = _BYTE_EXPIRE_BURST * 1000
        else:
            cfg.burst = 0
    elif cfg.burst > _BURST_MAX:
        raise fail(f"bad burst (1-{_BURST_MAX})", location=o.where("--hashlimit-burst"))
    if o.has("--hashlimit-rate-interval"):
        cfg.interval = atoll(o.value("--hashlimit-rate-interval")) & U32  # atoi
        if not 0 < cfg.interval < 2**31:
            raise fail("needs a positive number of seconds", location=o.where("--hashlimit-rate-interval"))
    if cfg.rate_match:
        cfg.avg = avg if in_bytes else avg // mult
        cfg.interval = cfg.interval or (1 if in_bytes else mult)
    return cfg


def _check_kernel(cfg: _Config, bits: int, o: Opts, which: str) -> None:
    """xt_hashlimit's checkentry (EINVAL, ERANGE)."""
    if cfg.gc == 0 or cfg.expire == 0:
        raise fail("--hashlimit-htable-gcinterval and -expire must not be 0", location=o.where())
    if max(cfg.masks) > bits:
        raise fail(f"masks are 0-{bits}", location=o.where())
    if cfg.rate_match:
        if cfg.avg == 0 or cfg.avg > U32:
            raise fail("rate out of range for --hashlimit-rate-match", location=o.where(which))
    elif cfg.in_bytes:
        if cfg.avg * _BYTE_CREDITS >> 32 == 0:
            raise fail(f"rate {o.value(which)!r} is too high for the kernel", location=o.where(which))
    elif (cfg.avg * cfg.burst & U64) * _CREDITS_PER_USEC & U64 < cfg.avg * _CREDITS_PER_USEC & U64:
        raise fail("rate and burst overflow the kernel's credit counter; lower the burst", location=o.where())


def _hashlimit(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    which = o.which("--hashlimit-upto", "--hashlimit-above")
    if not o.has("--hashlimit-name"):
        raise fail("needs --hashlimit-name", location=o.where())
    name = _name(o.value("--hashlimit-name"), o.where("--hashlimit-name"))
    cfg = _parse(o, ctx, which)
    bits = BITS[ctx.family]
    _check_kernel(cfg, bits, o, which)
    head = "--hashlimit-above" if cfg.inverted else "--hashlimit-upto"
    if cfg.in_bytes:
        quantum = 1000 * (_BYTE_EXPIRE_BURST if cfg.burst else _BYTE_EXPIRE)
        out = [Option(head, (_print_bytes(cfg.avg),))]
        if cfg.burst:
            out.append(Option("--hashlimit-burst", (_print_burst_bytes(cost_to_bytes(cfg.avg) * cfg.burst),)))
    else:
        shown, quantum = print_rate(cfg.avg)
        out = [Option(head, (shown,)), Option("--hashlimit-burst", (str(cfg.burst),))]
    if cfg.mode:
        out.append(
            Option("--hashlimit-mode", (",".join(m for k, m in enumerate(_MODES) if cfg.mode >> k & 1),))
        )
    out.append(Option("--hashlimit-name", (name,)))
    # The kernel lowers size and max to its limit in the rule it keeps.
    for key, value, default in (
        ("size", min(cfg.size, _MAX_SIZE), 0),
        ("max", min(cfg.max, _MAX_SIZE), 0),
        ("gcinterval", cfg.gc, _GC_DEFAULT),
        ("expire", cfg.expire, quantum),
    ):
        if value != default:
            out.append(Option(f"--hashlimit-htable-{key}", (str(value),)))
    for key, mask in zip(("--hashlimit-srcmask", "--hashlimit-dstmask"), cfg.masks, strict=True):
        if mask != bits:
            out.append(Option(key, (str(mask),)))
    if cfg.rate_match:
        out.append(Option("--hashlimit-rate-match"))
        if cfg.interval != 1:
            out.append(Option("--hashlimit-rate-interval", (str(cfg.interval),)))
    return tuple(out)


MATCHES: tuple[Ext, ...] = (
    ext(
        "hashlimit",
        "match",
        _hashlimit,
        "--hashlimit-upto|--hashlimit --hashlimit-above --hashlimit-burst --hashlimit-mode --hashlimit-name"
        " --hashlimit-srcmask --hashlimit-dstmask --hashlimit-htable-size --hashlimit-htable-max"
        " --hashlimit-htable-expire --hashlimit-htable-gcinterval --hashlimit-rate-match"
        " --hashlimit-rate-interval",
        flags="--hashlimit-rate-match",
        invert="--hashlimit-upto --hashlimit-above",
    ),
)
