"""Targets: verdicts, REJECT, LOG, NFLOG, MARK, CONNMARK, CT and the other packet changers.

Owns: each target's print order and defaults (REJECT's type, LOG's level,
MARK as ``--set-xmark V/M``, CONNMARK's masks, CT's zone) and the checks
iptables makes on these options. NAT targets are in ``_targets_nat``;
targets canonical() does not know (and jumps to user chains) are passed
through by ``canonical/__init__``.
"""

from __future__ import annotations

import re

from vnetkit.errors import RuleError
from vnetkit.iptables.canonical._ext import TCP, BackendRefusal, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._matches import dscp_value, tos_value
from vnetkit.iptables.canonical._tables import CT_EVENTS, EXP_EVENTS, LOG_LEVELS, REJECT_IPV4, REJECT_IPV6
from vnetkit.iptables.canonical._values import (
    U16,
    U32,
    check_text,
    cut_text,
    fail,
    uint,
    value_mask,
    xmark,
)
from vnetkit.model import Option


def _none(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return ()


def _reject(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    table = REJECT_IPV4 if ctx.family == "ipv4" else REJECT_IPV6
    text = o.get("--reject-with")
    if text is None:
        name = "icmp-port-unreachable" if ctx.family == "ipv4" else "icmp6-port-unreachable"
    else:
        low = text.lower()
        found = next((full for full, alias in table if full.startswith(low) or alias.startswith(low)), None)
        if found is None:
            raise fail(
                f"unknown reject type {text!r}",
                location=o.where("--reject-with"),
                choices=tuple(f for f, _ in table),
            )
        name = found
    if name == "tcp-reset":
        ctx.needs_protocol({TCP: "tcp"}, o.where("--reject-with"))
    return (Option("--reject-with", (name,)),)


def _log(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    out: list[Option] = []
    if o.has("--log-prefix"):
        prefix = cut_text(o.value("--log-prefix"), 29, o.where("--log-prefix"), empty=False)
        out.append(Option("--log-prefix", (prefix,)))
    if o.has("--log-level"):
        text = o.value("--log-level")
        level = LOG_LEVELS.get(text)
        if level is None:
            try:
                level = uint(text, o.where("--log-level"), hi=7)
            except RuleError:
                raise fail(
                    f"unknown log level {text!r}", location=o.where("--log-level"), choices=tuple(LOG_LEVELS)
                ) from None
        if level != 4:
            out.append(Option("--log-level", (str(level),)))
    for flag in (
        "--log-tcp-sequence",
        "--log-tcp-options",
        "--log-ip-options",
        "--log-uid",
        "--log-macdecode",
    ):
        if o.has(flag):
            out.append(Option(flag))
    return tuple(out)


def _nflog(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    out: list[Option] = []
    if o.has("--nflog-prefix"):
        limit = 127 if ctx.backend == "nft" else 63
        out.append(
            Option(
                "--nflog-prefix",
                (cut_text(o.value("--nflog-prefix"), limit, o.where("--nflog-prefix"), empty=False),),
            )
        )
    group = uint(o.value("--nflog-group"), o.where("--nflog-group"), hi=U16) if o.has("--nflog-group") else 0
    if group:
        out.append(Option("--nflog-group", (str(group),)))
    if o.has("--nflog-range") and o.has("--nflog-size"):
        raise fail("--nflog-range cannot be used with --nflog-size", location=o.where())
    if o.has("--nflog-range"):
        size = uint(o.value("--nflog-range"), o.where("--nflog-range"))
        if size and ctx.backend == "legacy":  # iptables-nft drops the option
            out.append(Option("--nflog-range", (str(size),)))
    if o.has("--nflog-size"):
        out.append(Option("--nflog-size", (str(uint(o.value("--nflog-size"), o.where("--nflog-size"))),)))
    threshold = (
        uint(o.value("--nflog-threshold"), o.where("--nflog-threshold"), hi=U16)
        if o.has("--nflog-threshold")
        else 0
    )
    if threshold:
        out.append(Option("--nflog-threshold", (str(threshold),)))
    return tuple(out)


def _mark_op(o: Opts, key: str) -> tuple[int, int]:
    """(value, mask) of ``--set-xmark`` for one MARK/CONNMARK operation."""
    where = o.where(key)
    if key == "--set-xmark":
        value, mask = value_mask(o.value(key), where)
        return value, U32 if mask is None else mask
    if key == "--set-mark":
        value, mask = value_mask(o.value(key), where)
        return value, U32 if mask is None else mask | value
    operand = uint(o.value(key), where)
    return {"--and-mark": (0, ~operand & U32), "--or-mark": (operand, operand), "--xor-mark": (operand, 0)}[
        key
    ]


_MARK_OPS = ("--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark")


def _mark(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which(*_MARK_OPS)
    return (Option("--set-xmark", (xmark(*_mark_op(o, key)),)),)


def _connmark(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    mode = o.which(*_MARK_OPS, "--save-mark", "--restore-mark")
    o.one_of("--mask", "--nfmask", required=False)
    o.one_of("--mask", "--ctmask", required=False)
    ctmark, ctmask, nfmask = 0, U32, U32
    shift: tuple[str, int] = ("", 0)
    for item in o.items:  # later options overwrite earlier ones, as in libxt_CONNMARK
        key = item.name
        if key in _MARK_OPS:
            ctmark, ctmask = _mark_op(o, key)
        elif key in ("--nfmask", "--ctmask", "--mask"):
            value = uint(item.values[0], o.where(key))
            nfmask = value if key != "--ctmask" else nfmask
            ctmask = value if key != "--nfmask" else ctmask
        elif key in ("--left-shift-mark", "--right-shift-mark"):  # revision 2
            shift = (key, uint(item.values[0], o.where(key), hi=32))
    out = (
        [Option("--set-xmark", (xmark(ctmark, ctmask),))]
        if mode in _MARK_OPS
        else [Option(mode), Option("--nfmask", (f"0x{nfmask:x}",)), Option("--ctmask", (f"0x{ctmask:x}",))]
    )
    if shift[1]:
        out.append(Option(shift[0], (str(shift[1]),)))
    return tuple(out)


def _events(text: str, table: tuple[str, ...], where: str) -> str:
    given = set(text.split(","))
    unknown = given - set(table)
    if unknown:
        raise fail(f"unknown event type {sorted(unknown)[0]!r}", location=where, choices=table)
    return ",".join(name for name in table if name in given)


def _ct(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    out: list[Option] = []
    if o.has("--notrack"):
        out.append(Option("--notrack"))
    if o.has("--helper"):
        name = check_text(o.value("--helper"), o.where("--helper"), limit=15, empty=False)
        if (ctx.protocol is None or ctx.protocol_negated) and not o.has("--notrack"):
            raise fail("a helper needs -p (without '!')", location=o.where("--helper"))
        out.append(Option("--helper", (name,)))
    if o.has("--timeout"):
        policy = check_text(o.value("--timeout"), o.where("--timeout"), limit=31, empty=False)
        if re.search(r'[\s"\\]', policy):
            raise fail(
                f"{policy!r}: iptables-save prints the timeout policy bare (without quotes), so"
                " whitespace, '\"' or '\\' would not read back",
                location=o.where("--timeout"),
            )
        out.append(Option("--timeout", (policy,)))
    if o.has("--ctevents"):
        out.append(Option("--ctevents", (_events(o.value("--ctevents"), CT_EVENTS, o.where("--ctevents")),)))
    if o.has("--expevents"):
        out.append(
            Option("--expevents", (_events(o.value("--expevents"), EXP_EVENTS, o.where("--expevents")),))
        )
    zone, orig, reply, by_mark = 0, False, False, False
    for item in o.items:  # libxt_CT: each zone option sets the id; directions and "mark" accumulate
        if item.name in ("--zone", "--zone-orig", "--zone-reply"):
            orig = orig or item.name == "--zone-orig"
            reply = reply or item.name == "--zone-reply"
            zone = 0
            if item.values[0].lower() == "mark":
                by_mark = True
            else:
                zone = uint(item.values[0], o.where(item.name), hi=U16)
    if zone or by_mark:  # a zone of 0 is not printed, whatever its direction
        key = "--zone-orig" if orig and not reply else "--zone-reply" if reply and not orig else "--zone"
        out.append(Option(key, ("mark" if by_mark else str(zone),)))
    return tuple(out)


def _tcpmss(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not (o.has("--set-mss") or o.has("--clamp-mss-to-pmtu")):  # both: the later one counts
        raise fail("needs --set-mss or --clamp-mss-to-pmtu", location=o.where())
    key = [item.name for item in o.items if item.name in ("--set-mss", "--clamp-mss-to-pmtu")][-1]
    ctx.needs_protocol({TCP: "tcp"}, o.where())
    if ctx.backend == "legacy" and not ctx.tcp_syn:
        raise BackendRefusal(
            f"{o.where()}: iptables-legacy needs a match on SYN (-p tcp --syn or --tcp-flags)"
        )
    top = U16 - (20 if ctx.family == "ipv4" else 40)
    mss = uint(o.value("--set-mss"), o.where("--set-mss"), hi=top) if o.has("--set-mss") else 0
    if key == "--clamp-mss-to-pmtu":
        return (Option(key),)
    return (Option(key, (str(mss),)),)


def _dscp_target(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return (Option("--set-dscp", (f"0x{dscp_value(o, '--set-dscp', '--set-dscp-class'):02x}",)),)


def _hops(o: Opts, prefix: str) -> tuple[Option, ...]:
    key = o.which(f"--{prefix}-set", f"--{prefix}-dec", f"--{prefix}-inc")
    low = 0 if key.endswith("-set") else 1
    return (Option(key, (str(uint(o.value(key), o.where(key), lo=low, hi=255)),)),)


def _ttl(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return _hops(o, "ttl")


def _hl(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return _hops(o, "hl")


def _classify(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    text = o.get("--set-class")
    m = re.fullmatch(r"\s*(?:0[xX])?([0-9a-fA-F]+):\s*(?:0[xX])?([0-9a-fA-F]+)", text or "")
    if m is None or int(m.group(1), 16) > U16 or int(m.group(2), 16) > U16:
        raise fail(f"bad class {text!r} (MAJOR:MINOR in hex)", location=o.where("--set-class"))
    return (Option("--set-class", (f"{int(m.group(1), 16):04x}:{int(m.group(2), 16):04x}",)),)


def _tos(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which("--set-tos", "--and-tos", "--or-tos", "--xor-tos")
    where = o.where(key)
    if key == "--set-tos":
        value, mask = tos_value(o.value(key), where)
    else:
        operand = uint(o.value(key), where, hi=0xFF)
        value, mask = {
            "--and-tos": (0, ~operand & 0xFF),
            "--or-tos": (operand, operand),
            "--xor-tos": (operand, 0),
        }[key]
    return (Option("--set-tos", (xmark(value, mask, 8),)),)


def _nfqueue(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    which = o.one_of("--queue-num", "--queue-balance", required=False)
    o.requires("--queue-cpu-fanout", "--queue-balance")
    if which == "--queue-balance":
        first, colon, last = o.value(which).partition(":")
        lo = uint(first, o.where(which), hi=U16)
        hi = uint(last, o.where(which), hi=U16) if colon else -1
        if hi <= lo:
            raise fail("needs a:b with a < b", location=o.where(which))
        out = [Option(which, (f"{lo}:{hi}",))]
    else:
        number = uint(o.value("--queue-num"), o.where("--queue-num"), hi=U16) if which else 0
        out = [Option("--queue-num", (str(number),))]
    out += [Option(flag) for flag in ("--queue-bypass", "--queue-cpu-fanout") if o.has(flag)]
    return tuple(out)


def _synproxy(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({TCP: "tcp"}, o.where())
    out: list[Option] = []
    for key in ("--sack-perm", "--timestamp", "--wscale", "--mss", "--ecn"):
        if o.has(key):
            if key == "--wscale":  # read as a u32, kept in a u8
                out.append(Option(key, (str(uint(o.value(key), o.where(key)) & 0xFF),)))
            elif key == "--mss":
                out.append(Option(key, (str(uint(o.value(key), o.where(key), hi=U16)),)))
            else:
                out.append(Option(key))
    return tuple(out)


TARGETS: tuple[Ext, ...] = (
    *(ext(name, "target", _none, "") for name in ("ACCEPT", "DROP", "RETURN", "QUEUE", "NOTRACK", "TRACE")),
    ext("REJECT", "target", _reject, "--reject-with"),
    ext(
        "LOG",
        "target",
        _log,
        "--log-prefix --log-level --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid"
        " --log-macdecode",
        flags="--log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode",
    ),
    ext(
        "NFLOG",
        "target",
        _nflog,
        "--nflog-group --nflog-prefix --nflog-range --nflog-size --nflog-threshold",
    ),
    ext("MARK", "target", _mark, " ".join(_MARK_OPS)),
    ext(
        "CONNMARK",
        "target",
        _connmark,
        " ".join(_MARK_OPS)
        + " --save-mark --restore-mark --nfmask --ctmask --mask --left-shift-mark --right-shift-mark",
        flags="--save-mark --restore-mark",
    ),
    ext(
        "CT",
        "target",
        _ct,
        "--notrack --helper --timeout --ctevents --expevents --zone-orig --zone-reply --zone",
        flags="--notrack",
    ),
    ext("TCPMSS", "target", _tcpmss, "--set-mss --clamp-mss-to-pmtu", flags="--clamp-mss-to-pmtu"),
    ext("DSCP", "target", _dscp_target, "--set-dscp --set-dscp-class"),
    ext("TTL", "target", _ttl, "--ttl-set --ttl-dec --ttl-inc", family="ipv4"),
    ext("HL", "target", _hl, "--hl-set --hl-dec --hl-inc", family="ipv6"),
    ext("CLASSIFY", "target", _classify, "--set-class"),
    ext("TOS", "target", _tos, "--set-tos --and-tos --or-tos --xor-tos"),
    ext(
        "NFQUEUE",
        "target",
        _nfqueue,
        "--queue-num --queue-balance --queue-bypass --queue-cpu-fanout",
        flags="--queue-bypass --queue-cpu-fanout",
    ),
    ext(
        "SYNPROXY",
        "target",
        _synproxy,
        "--sack-perm --timestamp --wscale --mss --ecn",
        flags="--sack-perm --timestamp --ecn",
    ),
)
