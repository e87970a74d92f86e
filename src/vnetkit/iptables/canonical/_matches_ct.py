"""Matches about connections and rates: conntrack, state, mark, connmark, limit, recent and kin.

Owns: the print order and defaults of conntrack, state, mark/connmark,
limit (rates re-derived from the kernel's period, as each backend reads
them back), recent (name, mask and side always printed), connlimit,
connbytes, helper and statistic, and the checks iptables makes on their
options (including two quirks of the tool: legacy limit's credit overflow
and conntrack's --ctproto 0 after '! --ctstatus').
"""

from __future__ import annotations

import math
import re

from vnetkit.iptables.canonical._ext import BackendRefusal, Ctx, Ext, Opts, Resolver, ext
from vnetkit.iptables.canonical._matches_l4 import services
from vnetkit.iptables.canonical._tables import CT_STATES, CT_STATUSES, PROTOCOL_INPUT, STATE_STATES
from vnetkit.iptables.canonical._values import (
    BITS,
    U32,
    address_text,
    check_text,
    cut_text,
    fail,
    host_address,
    host_dependent,
    host_mask,
    mark_text,
    names_in_order,
    plen,
    port_range,
    span,
    strtod,
    uint,
    uint_range,
    value_mask,
)
from vnetkit.model import Option

_CT_ADDRESSES = ("--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst")


_CT_PORTS = ("--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport", "--ctrepldstport")


def protocol_number(text: str, where: str, resolver: Resolver | None = None) -> int:
    """A protocol as a number: digits, a name built into iptables (case as given), or getprotobyname."""
    if text in PROTOCOL_INPUT:
        return PROTOCOL_INPUT[text]
    if re.fullmatch(r"\s*\+?[0-9]\w*", text):
        return uint(text, where, hi=255)
    if resolver is not None:
        found = resolver.protocol_number(text)
        if found is None:
            raise fail(f"unknown protocol {text!r} (not in this host's /etc/protocols)", location=where)
        return found
    raise host_dependent(
        f"protocol {text!r} would be looked up in /etc/protocols; give its number",
        location=where,
    )


def _conntrack(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.items:
        raise fail("needs one or more options", location=o.where())
    out: list[Option] = []

    def add(key: str, value: str) -> None:
        out.append(Option(key, (value,), o.neg(key)))

    if o.has("--ctstate"):
        add("--ctstate", names_in_order(o.value("--ctstate"), CT_STATES, o.where("--ctstate")))
    if o.has("--ctproto"):
        number = protocol_number(o.value("--ctproto"), o.where("--ctproto"), ctx.resolver)
        # libxt_conntrack tests XT_INV_PROTO (0x40) in its own flags, where 0x40 is --ctstatus.
        if number == 0 and o.neg("--ctstatus") and o.index("--ctstatus") < o.index("--ctproto"):
            raise fail("iptables refuses --ctproto 0 after '! --ctstatus'", location=o.where("--ctproto"))
        add("--ctproto", str(number))
    for key in _CT_ADDRESSES:
        if o.has(key):
            value, prefix = host_mask(o.value(key), ctx.family, o.where(key))
            shown = address_text(value, ctx.family)  # printed unmasked
            add(key, shown if prefix is None or prefix == BITS[ctx.family] else f"{shown}/{prefix}")
    for key in _CT_PORTS:
        if o.has(key):
            lo, hi = port_range(
                o.value(key), o.where(key), decimal=True, allow_reversed=True, service=services(ctx, None)
            )
            add(key, span(lo, hi))
    if o.has("--ctstatus"):
        status = o.value("--ctstatus")
        names = [item for item in status.split(",") if item.upper() != "NONE"]
        printed = names_in_order(",".join(names), CT_STATUSES, o.where("--ctstatus")) if names else ""
        add("--ctstatus", printed or "NONE")
    if o.has("--ctexpire"):
        lo, hi = uint_range(o.value("--ctexpire"), o.where("--ctexpire"))
        add("--ctexpire", span(lo, hi))
    if o.has("--ctdir"):
        direction = o.value("--ctdir").upper()
        if direction not in ("ORIGINAL", "REPLY"):
            raise fail(
                "must be ORIGINAL or REPLY", location=o.where("--ctdir"), choices=("ORIGINAL", "REPLY")
            )
        out.append(Option("--ctdir", (direction,)))
    return tuple(out)


def _state(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--state"):
        raise fail("needs --state", location=o.where())
    return (
        Option(
            "--state",
            (names_in_order(o.value("--state"), STATE_STATES, o.where("--state")),),
            o.neg("--state"),
        ),
    )


def _mark(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--mark"):
        raise fail("needs --mark", location=o.where())
    value, mask = value_mask(o.value("--mark"), o.where("--mark"))
    return (Option("--mark", (mark_text(value, mask),), o.neg("--mark")),)


# limit: periods in units of 1/10000 s, as libxt_limit and the kernel keep them.
_SCALE = 10000


_PRINT_UNITS = (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1))


_INPUT_UNITS = (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400))


def _period(text: str, where: str) -> int:
    number, slash, unit = text.partition("/")
    seconds = 1
    if slash:
        seconds = next((secs for full, secs in _INPUT_UNITS if unit and full.startswith(unit.lower())), 0)
        if not seconds:
            raise fail(f"bad rate unit in {text!r}", location=where, choices=("sec", "min", "hour", "day"))
    m = re.match(r"[ \t\n\v\f\r]*\+?([0-9]+)", number)  # atoi(): what follows the digits is ignored
    rate = int(m.group(1)) if m else 0
    if not 0 < rate < 2**31:
        raise fail(f"bad rate {text!r} (a decimal number per sec, min, hour or day)", location=where)
    period = _SCALE * seconds // rate
    if period == 0:
        raise fail(f"rate {text!r} is too fast (at most 10000/sec)", location=where)
    return period


def _rate_unit(period: int) -> tuple[int, int]:
    """libxt_limit's print_rate choice: (rate, index of the unit)."""
    i = 1
    while i < len(_PRINT_UNITS):
        mult = _SCALE * _PRINT_UNITS[i][1]
        if period > mult or mult // period < mult % period:
            break
        i += 1
    return _SCALE * _PRINT_UNITS[i - 1][1] // period, i - 1


def _rate_text(period: int) -> str:
    rate, unit = _rate_unit(period)
    return f"{rate}/{_PRINT_UNITS[unit][0]}"


def _user2credits(user: int) -> int:
    """The kernel's xt_limit conversion (HZ * CREDITS_PER_JIFFY = 32000 for HZ 250 and 1000)."""
    if user > U32 // 32000:
        return (user // _SCALE) * 32000 & U32  # u32 arithmetic: it wraps
    return user * 32000 // _SCALE


def _limit(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    period = _period(o.value("--limit"), o.where("--limit")) if o.has("--limit") else _SCALE * 3600 // 3
    burst = (
        uint(o.value("--limit-burst"), o.where("--limit-burst"), hi=10000) if o.has("--limit-burst") else 5
    )
    if ctx.backend == "legacy":
        if burst == 0 or _user2credits((period * burst) & U32) < _user2credits(period):
            raise BackendRefusal(
                f"{o.where()}: iptables-legacy refuses rate {_rate_text(period)} with burst {burst}"
                " (the kernel's credit counter would overflow)"
            )
        shown = _rate_text(period)
    else:
        # iptables-nft stores a rate per unit and derives the period again when it reads the rule.
        rate, unit = _rate_unit(period)
        shown = _rate_text(_SCALE * _PRINT_UNITS[unit][1] // rate)
        burst = burst or 5
    out = [Option("--limit", (shown,))]
    if burst != 5:
        out.append(Option("--limit-burst", (str(burst),)))
    return tuple(out)


def _recent(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    command = o.which("--set", "--rcheck", "--update", "--remove")
    out = [Option(command, (), o.neg(command))]
    if o.has("--seconds"):
        out.append(Option("--seconds", (str(uint(o.value("--seconds"), o.where("--seconds"), lo=1)),)))
    o.requires("--reap", "--seconds")
    if o.has("--reap"):
        out.append(Option("--reap"))
    if o.has("--hitcount"):
        hits = uint(o.value("--hitcount"), o.where("--hitcount"))
        if hits:
            out.append(Option("--hitcount", (str(hits),)))
    if o.has("--rttl"):
        if command not in ("--rcheck", "--update"):
            raise fail(f"--rttl cannot be used together with {command}", location=o.where("--rttl"))
        out.append(Option("--rttl"))
    name = o.get("--name")
    if name is None:
        name = "DEFAULT"
    name = cut_text(name, 199, o.where("--name"), empty=False)
    if "/" in name:
        raise fail(f"{name!r}: the kernel refuses a list name with '/'", location=o.where("--name"))
    if re.search(r"\s", name):
        raise fail(
            f"{name!r}: iptables-save prints the list name bare (without quotes): whitespace would not"
            " read back",
            location=o.where("--name"),
        )
    out.append(Option("--name", (name,)))
    bits = BITS[ctx.family]
    mask = (1 << bits) - 1
    if o.has("--mask"):
        mask = host_address(o.value("--mask"), ctx.family, o.where("--mask"))
    out.append(Option("--mask", (address_text(mask, ctx.family),)))
    side = "--rsource"
    for item in o.items:
        if item.name in ("--rsource", "--rdest"):
            side = item.name
    out.append(Option(side))
    return tuple(out)


def _statistic(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    mode = o.get("--mode")
    if mode not in ("random", "nth"):
        raise fail("needs --mode random or --mode nth", location=o.where("--mode"), choices=("random", "nth"))
    negated = o.neg("--probability") or o.neg("--every")
    if mode == "random":
        if not o.has("--probability") or o.has("--every") or o.has("--packet"):
            raise fail("--mode random takes --probability (only)", location=o.where())
        p = strtod(o.value("--probability"), o.where("--probability"))
        if not 0 <= p <= 1 or math.isnan(p):
            raise fail(f"probability {p} is outside 0-1", location=o.where("--probability"))
        n = math.floor(p * 2**31 + 0.5)
        return (Option("--mode", ("random",)), Option("--probability", (f"{n / 2**31:.11f}",), negated))
    if not (o.has("--every") and o.has("--packet")) or o.has("--probability"):
        raise fail("--mode nth takes --every and --packet", location=o.where())
    every = uint(o.value("--every"), o.where("--every"), lo=1)
    packet = uint(o.value("--packet"), o.where("--packet"), hi=every - 1)
    return (
        Option("--mode", ("nth",)),
        Option("--every", (str(every),), negated),
        Option("--packet", (str(packet),)),
    )


def _helper(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    name = o.get("--helper")
    if name is None:
        raise fail("needs --helper", location=o.where())
    check_text(name, o.where("--helper"), limit=29)
    if re.search(r"\s", name):
        raise fail(f"helper name {name!r} holds whitespace", location=o.where("--helper"))
    return (Option("--helper", (name,), o.neg("--helper")),)


def _connlimit(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    which = o.which("--connlimit-upto", "--connlimit-above")
    count = uint(o.value(which), o.where(which))
    if o.neg(which):
        which = "--connlimit-upto" if which == "--connlimit-above" else "--connlimit-above"
    bits = BITS[ctx.family]
    mask = (
        plen(o.value("--connlimit-mask"), ctx.family, o.where("--connlimit-mask"))
        if o.has("--connlimit-mask")
        else bits
    )
    mask = min(mask, bits)  # a mask with holes (255): libxtables keeps all ones
    side = "--connlimit-saddr"
    for item in o.items:
        if item.name in ("--connlimit-saddr", "--connlimit-daddr"):
            side = item.name
    return (Option(which, (str(count),)), Option("--connlimit-mask", (str(mask),)), Option(side))


def _connbytes(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    for key, allowed in (
        ("--connbytes-mode", ("packets", "bytes", "avgpkt")),
        ("--connbytes-dir", ("original", "reply", "both")),
    ):
        if o.get(key) not in allowed:
            raise fail(f"needs {key} {'|'.join(allowed)}", location=o.where(key), choices=allowed)
    if not o.has("--connbytes"):
        raise fail("needs --connbytes", location=o.where())
    top = 2**64 - 1
    text = o.value("--connbytes")
    lo, hi = (
        uint_range(text, o.where("--connbytes"), hi=top)
        if ":" in text
        else (uint(text, "--connbytes", hi=top), top)
    )
    if lo > hi:
        raise fail(f"reversed range {text!r}", location=o.where("--connbytes"))
    shown = str(lo) if hi == top else f"{lo}:{hi}"  # the upper end is printed unless unlimited
    return (
        Option("--connbytes", (shown,), o.neg("--connbytes")),
        Option("--connbytes-mode", (o.value("--connbytes-mode"),)),
        Option("--connbytes-dir", (o.value("--connbytes-dir"),)),
    )


MATCHES: tuple[Ext, ...] = (
    ext(
        "conntrack",
        "match",
        _conntrack,
        "--ctstate --ctproto --ctorigsrc --ctorigdst --ctreplsrc --ctrepldst --ctorigsrcport"
        " --ctorigdstport --ctreplsrcport --ctrepldstport --ctstatus --ctexpire --ctdir",
        invert="--ctstate --ctproto --ctorigsrc --ctorigdst --ctreplsrc --ctrepldst --ctorigsrcport"
        " --ctorigdstport --ctreplsrcport --ctrepldstport --ctstatus --ctexpire",
    ),
    ext("state", "match", _state, "--state", invert="*"),
    ext("mark", "match", _mark, "--mark", invert="*"),
    ext("connmark", "match", _mark, "--mark", invert="*"),
    ext("limit", "match", _limit, "--limit --limit-burst"),
    ext(
        "recent",
        "match",
        _recent,
        "--set --rcheck --update --remove --seconds --reap --hitcount --rttl --name --mask --rsource --rdest",
        flags="--set --rcheck --update --remove --reap --rttl --rsource --rdest",
        invert="--set --rcheck --update --remove",
    ),
    ext(
        "statistic",
        "match",
        _statistic,
        "--mode --probability --every --packet",
        invert="--probability --every",
    ),
    ext("helper", "match", _helper, "--helper", invert="*"),
    ext(
        "connlimit",
        "match",
        _connlimit,
        "--connlimit-upto --connlimit-above --connlimit-mask --connlimit-saddr --connlimit-daddr",
        flags="--connlimit-saddr --connlimit-daddr",
        invert="--connlimit-upto --connlimit-above",
    ),
    ext(
        "connbytes",
        "match",
        _connbytes,
        "--connbytes --connbytes-mode --connbytes-dir",
        invert="--connbytes",
    ),
)
