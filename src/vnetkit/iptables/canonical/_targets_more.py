"""More targets: AUDIT, CHECKSUM, CONNSECMARK, ECN, IDLETIMER, LED, RATEEST, SECMARK, SET,
TCPOPTSTRIP and ULOG (measured in docs/canonical/spec-targets.md).

Owns: each of these targets' print order, defaults, the byte limits iptables
cuts their strings at, and the checks iptables and the kernel make on their
text (RATEEST's interval/ewmalog quantisation, ECN's ``-p tcp``, SET's
direction lists). The address-bearing targets (TEE, DNPT/SNPT, HMARK,
CLUSTERIP) are in ``_targets_more_net``. Does not own: whether a named ipset,
interface or SELinux context exists (the ruleset's and kernel's business).
"""

from __future__ import annotations

import math
import re

from vnetkit.iptables.canonical._ext import TCP, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._values import U32, cut_text, fail, uint
from vnetkit.model import Option

_RAW_UNSAFE = re.compile(r'[\s"\\]')


def raw_text(text: str, where: str) -> str:
    """A value iptables-save prints bare (``%s``): refuse what would not read back as one word."""
    if not text or _RAW_UNSAFE.search(text):
        raise fail(
            f"{text!r}: iptables-save prints this value without quotes, so it must be non-empty"
            " and hold no whitespace, '\"' or '\\'",
            location=where,
        )
    return text


def _audit(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    text = o.get("--type")
    kinds = ("accept", "drop", "reject")
    if text is None:
        raise fail("needs --type accept, drop or reject", location=o.where(), choices=kinds)
    kind = text.lower() if text.isascii() else text  # strcasecmp
    if kind not in kinds:
        raise fail(f"unknown action type {text!r}", location=o.where("--type"), choices=kinds)
    return (Option("--type", (kind,)),)


def _checksum(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--checksum-fill"):
        raise fail("needs --checksum-fill", location=o.where())
    return (Option("--checksum-fill"),)


def _connsecmark(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return (Option(o.which("--save", "--restore")),)


_ECE, _CWR, _IP = 1, 2, 4


def _ecn(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    o.one_of("--ecn-tcp-remove", "--ecn-tcp-cwr", required=False)
    o.one_of("--ecn-tcp-remove", "--ecn-tcp-ece", required=False)
    if not o.items:
        raise fail("needs an operation (--ecn-tcp-remove)", location=o.where())
    op, ece, cwr, ect = 0, 0, 0, 0
    for item in o.items:  # libipt_ECN: --ecn-tcp-remove replaces the operation, the others add to it
        where = o.where(item.name)
        if item.name == "--ecn-tcp-remove":
            op, ece, cwr = _ECE | _CWR, 0, 0
        elif item.name == "--ecn-tcp-ece":
            op, ece = op | _ECE, uint(item.values[0], where, hi=1)
        elif item.name == "--ecn-tcp-cwr":
            op, cwr = op | _CWR, uint(item.values[0], where, hi=1)
        else:
            op, ect = op | _IP, uint(item.values[0], where, hi=3)
    if op & (_ECE | _CWR):
        ctx.needs_protocol({TCP: "tcp"}, o.where())  # the kernel's check for the TCP bits
    if op == _ECE | _CWR and ece == 0 and cwr == 0:
        return (Option("--ecn-tcp-remove"),)
    out = []
    for bit, key, value in (
        (_ECE, "--ecn-tcp-ece", ece),
        (_CWR, "--ecn-tcp-cwr", cwr),
        (_IP, "--ecn-ip-ect", ect),
    ):
        if op & bit:
            out.append(Option(key, (str(value),)))
    return tuple(out)


def _idletimer(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    for key in ("--timeout", "--label"):
        if not o.has(key):
            raise fail(f"needs {key}", location=o.where())
    timeout = uint(o.value("--timeout"), o.where("--timeout"))
    if not 0 < timeout < 2147483:  # the kernel: not zero, below INT_MAX / 1000
        raise fail(
            f"the kernel refuses a timeout of {timeout} (1-2147482 seconds)", location=o.where("--timeout")
        )
    where = o.where("--label")
    label = cut_text(o.value("--label"), 27, where)
    if not label or "/" in label or label in (".", ".."):  # the kernel names a sysfs file after it
        raise fail(f"{label!r} cannot name the timer's sysfs file", location=where)
    out = [Option("--timeout", (str(timeout),)), Option("--label", (raw_text(label, where),))]
    if o.has("--alarm"):
        out.append(Option("--alarm"))
    return tuple(out)


def _led(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    text = o.get("--led-trigger-id")
    if text is None:
        raise fail("needs --led-trigger-id", location=o.where())
    if len(text.encode()) > 16:  # the trigger is named "netfilter-<id>" in 27 bytes
        raise fail("at most 16 bytes", location=o.where("--led-trigger-id"))
    out = [Option("--led-trigger-id", (text,))]  # printed in double quotes (vnetkit.iptables.text)
    delay_text = o.get("--led-delay")
    if delay_text is not None:
        inf = delay_text[:3].isascii() and delay_text[:3].lower() == "inf"
        delay = U32 if inf else uint(delay_text, o.where("--led-delay"))
        if delay:  # printed with %d: "inf" (all ones) comes back as -1
            out.append(Option("--led-delay", (str(delay - (1 << 32) if delay >> 31 else delay),)))
    if o.has("--led-always-blink"):
        out.append(Option("--led-always-blink"))
    return tuple(out)


# ---------------------------------------------------------------- RATEEST

_UNITS = {
    **dict.fromkeys(("s", "sec", "secs"), 1_000_000),
    **dict.fromkeys(("ms", "msec", "msecs"), 1_000),
    **dict.fromkeys(("us", "usec", "usecs"), 1),
}
# The longest prefix C strtod reads: blanks, a sign, then a decimal or hex float, inf or nan.
_STRTOD = re.compile(
    r"[ \t\n\v\f\r]*([+-]?)(?:"
    r"(?P<hex>0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    r"|(?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<inf>(?i:inf(?:inity)?))|(?P<nan>(?i:nan)(?:\([0-9A-Za-z_]*\))?))"
)


def _rate_time(text: str, where: str) -> int:
    """libxt_RATEEST's time in microseconds: strtod, a unit (case-insensitive), then C's (unsigned) cast."""
    m = _STRTOD.match(text)
    unit = text[m.end() :].lower() if m else ""
    if m is None or (unit and unit not in _UNITS):
        raise fail(f"bad time {text!r} (a number and s, ms or us)", location=where)
    if m["hex"]:
        value = float.fromhex(m["hex"])
    elif m["dec"]:
        value = float(m["dec"])
    else:
        value = math.inf if m["inf"] else math.nan
    value = -value if m.group(1) == "-" else value
    value *= _UNITS[unit] if unit else 1
    # x86-64 converts through a 64-bit integer: out of range (and inf, nan) gives 2**63, whose low half is 0.
    if not math.isfinite(value) or abs(value) >= 2.0**63:
        return 0
    return int(value) & U32


def _rate_print(us: int) -> str:
    if us >= 1_000_000:
        return f"{us / 1_000_000:.1f}s"
    if us >= 1_000:
        return f"{us / 1_000:.1f}ms"
    return f"{us}us"


def _rateest(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--rateest-name"):
        raise fail("needs --rateest-name", location=o.where())
    where = o.where("--rateest-name")
    name = raw_text(cut_text(o.value("--rateest-name"), 15, where), where)
    for key in ("--rateest-interval", "--rateest-ewmalog"):
        if not o.has(key):
            raise fail(f"needs {key}", location=o.where())
    interval = _rate_time(o.value("--rateest-interval"), o.where("--rateest-interval"))
    ewma = _rate_time(o.value("--rateest-ewmalog"), o.where("--rateest-ewmalog"))
    step = next((k for k in range(6) if interval <= (1 << k) * 250_000), None)
    if step is None:
        raise fail("the interval is over 8 s", location=o.where("--rateest-interval"))
    log = 1
    while log < 32:  # as libxt_RATEEST's final check, (1 << 31) overflowing included
        weight = 1.0 - 1.0 / (-(1 << 31) if log == 31 else 1 << log)
        if interval / -math.log(weight) > ewma:
            break
        log += 1
    log -= 1
    if log == 0 or log >= 31:
        raise fail(
            "the averaging time is out of range for this interval (give an --rateest-ewmalog above it)",
            location=o.where("--rateest-ewmalog"),
        )
    printed = 250_000 << step
    return (
        Option("--rateest-name", (name,)),
        Option("--rateest-interval", (_rate_print(printed),)),
        Option("--rateest-ewmalog", (_rate_print(printed * (1 << log) & U32),)),
    )


# ---------------------------------------------------------------- SECMARK, SET, TCPOPTSTRIP, ULOG


def _secmark(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--selctx"):
        raise fail("needs --selctx", location=o.where())
    where = o.where("--selctx")
    return (Option("--selctx", (raw_text(cut_text(o.value("--selctx"), 255, where), where),)),)


def _set_dirs(text: str, where: str) -> str:
    """libxt_set's flags: up to 6 comma-separated words, each starting with src or dst."""
    if text.startswith(("-", "!")):
        raise fail("takes a set name and src/dst flags", location=where)
    words = text.split(",")
    if len(words) > 6:
        raise fail("at most 6 src/dst flags", location=where)
    if any(word[:3] not in ("src", "dst") for word in words):
        raise fail(
            f"{text!r}: give a comma-separated list of src and dst", location=where, choices=("src", "dst")
        )
    return ",".join(word[:3] for word in words)


def _set(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    sets = [key for key in ("--add-set", "--del-set", "--map-set") if o.has(key)]
    if not sets:
        raise fail("needs --add-set, --del-set or --map-set", location=o.where())
    for flag in ("--exist", "--timeout"):
        o.requires(flag, "--add-set")
    maps = [flag for flag in ("--map-mark", "--map-prio", "--map-queue") if o.has(flag)]
    for flag in maps:
        o.requires(flag, "--map-set")
    if o.has("--map-set") and not maps:
        raise fail("--map-set needs --map-mark, --map-prio or --map-queue", location=o.where())
    out: dict[str, Option] = {}
    for key in sets:  # '!' is accepted and ignored by libxt_SET
        name, dirs = o.values(key)
        if len(name.encode()) > 31:
            raise fail(f"set name {name!r} is over 31 bytes", location=o.where(key))
        out[key] = Option(key, (raw_text(name, o.where(key)), _set_dirs(dirs, o.where(key))))
    order: list[Option] = []
    if "--add-set" in out:
        order.append(out["--add-set"])
        if o.has("--exist"):
            order.append(Option("--exist"))
        if o.has("--timeout"):  # given twice, the last one counts
            timeout = uint(o.value("--timeout"), o.where("--timeout"), hi=U32 - 1)
            order.append(Option("--timeout", (str(timeout),)))
    order += [out[key] for key in ("--del-set", "--map-set") if key in out]
    return (*order, *(Option(flag) for flag in maps))


_TCP_OPTIONS = {"wscale": 3, "mss": 2, "sack-permitted": 4, "sack": 5, "timestamp": 8, "md5": 19}


def _tcpoptstrip(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({TCP: "tcp"}, o.where())  # the kernel's check
    if not o.has("--strip-options"):
        return ()
    where = o.where("--strip-options")
    seen: set[int] = set()
    for word in o.value("--strip-options").split(","):
        if not word:
            raise fail("an empty item in the list", location=where)
        number = _TCP_OPTIONS.get(word)
        if number is None:
            number = uint(word, where, hi=255)
        if number < 2:
            raise fail("option numbers 0 and 1 cannot be stripped", location=where)
        if number in seen:
            raise fail(f"option {number} given twice", location=where)
        seen.add(number)
    return (Option("--strip-options", (",".join(str(n) for n in sorted(seen)),)),)


def _ulog(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    raise fail(
        "ULOG left the kernel in Linux 3.17 and both iptables backends refuse it; use -j NFLOG"
        " (--nflog-group, --nflog-prefix, --nflog-size, --nflog-threshold)",
        location=o.where(),
    )


TARGETS: tuple[Ext, ...] = (
    ext("AUDIT", "target", _audit, "--type"),
    ext("CHECKSUM", "target", _checksum, "--checksum-fill", flags="--checksum-fill"),
    ext("CONNSECMARK", "target", _connsecmark, "--save --restore", flags="--save --restore"),
    ext(
        "ECN",
        "target",
        _ecn,
        "--ecn-tcp-remove --ecn-tcp-cwr --ecn-tcp-ece --ecn-ip-ect",
        flags="--ecn-tcp-remove",
        family="ipv4",
    ),
    ext("IDLETIMER", "target", _idletimer, "--timeout --label --alarm", flags="--alarm"),
    ext(
        "LED",
        "target",
        _led,
        "--led-trigger-id --led-delay --led-always-blink",
        flags="--led-always-blink",
    ),
    ext("RATEEST", "target", _rateest, "--rateest-name --rateest-interval --rateest-ewmalog"),
    ext("SECMARK", "target", _secmark, "--selctx"),
    ext(
        "SET",
        "target",
        _set,
        "--add-set --del-set --map-set --exist --timeout --map-mark --map-prio --map-queue",
        flags="--exist --map-mark --map-prio --map-queue",
        pairs="--add-set --del-set --map-set",
        invert="*",
        repeat="--exist --timeout --map-mark --map-prio --map-queue",
    ),
    ext("TCPOPTSTRIP", "target", _tcpoptstrip, "--strip-options"),
    ext(
        "ULOG",
        "target",
        _ulog,
        "--ulog-nlgroup --ulog-prefix --ulog-cprange --ulog-qthreshold",
        family="ipv4",
    ),
)
