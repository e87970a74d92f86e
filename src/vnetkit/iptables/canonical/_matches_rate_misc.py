"""rateest, connlabel, nfacct, osf and ipvs, as iptables-save 1.8.9 prints them.

Owns: rateest's rates (``5kbit`` -> ``5000bit``, bytes per second kept as
the kernel keeps them) and its two print layouts (absolute with one
estimator, relative with two, ``--rateest-delta``), connlabel's always
quoted bit number, nfacct's object name, osf's genre/TTL/log levels and
ipvs (protocols and ports printed as numbers, the VIP unmasked with a
prefix length). Names looked up on the host (connlabel names, protocol
and service names) go through ``ctx`` (resolver or HostDependent).
What only the ruleset knows (an estimator, accounting object or ipvs
kernel module that is missing) is accepted. Measured:
docs/canonical/spec-rate.md.
"""

from __future__ import annotations

import re

from vnetkit.iptables.canonical._ext import TCP, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._matches_rate import inet_aton, strtoul, strtoumax
from vnetkit.iptables.canonical._tables import PROTOCOL_INPUT
from vnetkit.iptables.canonical._values import (
    BITS,
    U16,
    U32,
    address_text,
    check_text,
    fail,
    ipv6_value,
    prefix_of,
    strtod,
    uint,
)
from vnetkit.model import Option

# ---------------------------------------------------------------- rateest

# iproute2's rate suffixes (case-insensitive) and their bits per unit.
_RATE_SUFFIXES = {
    "bit": 1.0,
    "kibit": 1024.0,
    "kbit": 1000.0,
    "mibit": 1024.0**2,
    "mbit": 1e6,
    "gibit": 1024.0**3,
    "gbit": 1e9,
    "tibit": 1024.0**4,
    "tbit": 1e12,
    "bps": 8.0,
    "kibps": 8.0 * 1024,
    "kbps": 8000.0,
    "mibps": 8.0 * 1024**2,
    "mbps": 8e6,
    "gibps": 8.0 * 1024**3,
    "gbps": 8e9,
    "tibps": 8.0 * 1024**4,
    "tbps": 8e12,
}
_MODES = ("--rateest-eq", "--rateest-lt", "--rateest-gt")


_STRTOD = re.compile(
    r"[ \t\n\v\f\r]*[+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)",
    re.IGNORECASE,
)


def _rate_bytes(text: str, where: str) -> int:
    """rateest_get_rate: C ``strtod`` then an optional suffix; bytes per second, cut to an integer."""
    m = _STRTOD.match(text)
    suffix = text[m.end() :] if m else text
    if m is None or (suffix and suffix.lower() not in _RATE_SUFFIXES):
        raise fail(
            f"could not parse rate {text!r} (a number with bit, kbit, mbit, Bps, KBps...)", location=where
        )
    number = m.group().strip(" \t\n\v\f\r")
    if re.search(r"inf|nan", number, re.IGNORECASE):
        raise fail(f"rate {text!r} is not a finite number", location=where)
    rate = strtod(number, where) * _RATE_SUFFIXES[suffix.lower() or "bit"] / 8.0
    if not -1.0 < rate < 2.0**32:  # converting it to the kernel's u32 is undefined in the tool
        raise fail(f"rate {text!r} is out of range (under 2^32 bytes per second)", location=where)
    return int(rate)


def _rate_text(rate: int) -> str:
    """rateest_print_rate: bits per second as ``%.0f`` of bit, Kbit (>= 1e6) or Mbit (>= 1e9)."""
    bits = rate * 8.0
    if bits >= 1e9:
        return f"{bits / 1e6:.0f}Mbit"
    if bits >= 1e6:
        return f"{bits / 1e3:.0f}Kbit"
    return f"{bits:.0f}bit"


def _estimator(o: Opts, key: str) -> str:
    name = check_text(o.value(key), o.where(key), limit=15, empty=False)
    if re.search(r"\s", name):
        raise fail(f"estimator name {name!r} holds whitespace", location=o.where(key))
    return name


def _rateest(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--rateest"):
        raise fail("needs --rateest NAME (or --rateest1 NAME)", location=o.where())
    name1 = _estimator(o, "--rateest")
    relative = o.has("--rateest2")
    delta = o.has("--rateest-delta")
    modes = [item for item in o.items if item.name in _MODES]
    if not modes:
        raise fail("needs --rateest-lt, --rateest-gt or --rateest-eq", location=o.where())
    mode, inverted = modes[-1].name, any(item.negated for item in modes)  # the last one counts
    kinds = [kind for kind in ("bps", "pps") if o.has(f"--rateest-{kind}") or o.has(f"--rateest-{kind}1")]
    if not kinds:
        raise fail("needs --rateest-bps or --rateest-pps", location=o.where())
    out: list[Option] = [Option("--rateest-delta")] if delta else []
    out.append(Option("--rateest1" if relative else "--rateest", (name1,)))
    for kind in kinds:
        values = []
        for key in (f"--rateest-{kind}1", f"--rateest-{kind}"):
            given = o.values(key) if o.has(key) else ()
            if not given:
                values.append(0)
            elif given[0][:1] in ("-", "!"):  # the tool leaves it for the next option
                raise fail(
                    f"{given[0]!r} is not read as the rate (it starts with - or !)", location=o.where(key)
                )
            elif kind == "bps":
                values.append(_rate_bytes(given[0], o.where(key)))
            else:
                values.append(uint(given[0], o.where(key)))
        shown = [_rate_text(v) if kind == "bps" else str(v) for v in values]
        if delta:
            out.append(Option(f"--rateest-{kind}1", (shown[0],)))
            out.append(Option(mode, (), inverted))
            out.append(Option(f"--rateest-{kind}2", (shown[1],)))
        else:
            out.append(Option(mode, (), inverted))
            out.append(Option(f"--rateest-{kind}", (shown[1],) if not relative else ()))
    if relative:
        out.append(Option("--rateest2", (_estimator(o, "--rateest2"),)))
    return tuple(out)


# ---------------------------------------------------------------- connlabel, nfacct, osf

_CONNLABEL_BITS = 128


def _connlabel(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--label"):
        raise fail("needs --label", location=o.where())
    text = o.value("--label")
    where = o.where("--label")
    if not text:
        raise fail("must not be empty", location=where)
    value, rest = strtoul(text, 0)
    if rest:
        ctx.host_dependent(
            f"label name {text!r} is looked up in /etc/xtables/connlabel.conf; give the bit number (0-127)",
            where,
        )
    bit = value & U32  # connlabel_value_parse returns the unsigned long as an int
    if bit >= 2**31:
        raise fail(f"label {text!r} is not a bit number (0-127)", location=where)
    if bit >= _CONNLABEL_BITS:
        raise fail(f"label bit {bit} is out of range (0-127)", location=where)
    out = [Option("--label", (str(bit),), o.neg("--label"))]
    if o.has("--set"):
        out.append(Option("--set"))
    return tuple(out)


def _nfacct(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--nfacct-name"):
        raise fail("needs --nfacct-name", location=o.where())
    name = check_text(o.value("--nfacct-name"), o.where("--nfacct-name"), limit=31, empty=False)
    return (Option("--nfacct-name", (name,)),)


def _osf(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--genre"):
        raise fail("needs --genre", location=o.where())
    ctx.needs_protocol({TCP: "tcp"}, o.where())
    genre = check_text(o.value("--genre"), o.where("--genre"), limit=31, empty=False)
    if re.search(r"\s", genre):
        raise fail(
            f"genre {genre!r} holds whitespace; iptables-save would split it", location=o.where("--genre")
        )
    out = [Option("--genre", (genre,), o.neg("--genre"))]
    for key in ("--ttl", "--log"):
        if o.has(key):
            out.append(Option(key, (str(uint(o.value(key), o.where(key), hi=2)),)))
    return tuple(out)


# ---------------------------------------------------------------- ipvs

_SERVICE_PROTOCOLS = ("tcp", "udp", "dccp", "udplite", "sctp")  # getaddrinfo's order without hints
_METHODS = ("GATE", "IPIP", "MASQ")


def _vproto(text: str, ctx: Ctx, where: str) -> int:
    """xtables_parse_protocol: a number (base 0), a name built into iptables (exact case), getprotobyname."""
    parsed = strtoumax(text)
    if parsed is not None and not parsed[1] and parsed[0] <= 255:
        return parsed[0]
    if text in PROTOCOL_INPUT:
        return PROTOCOL_INPUT[text]
    if ctx.resolver is None:
        ctx.host_dependent(f"protocol {text!r} would be looked up in /etc/protocols; give its number", where)
    found = ctx.resolver.protocol_number(text)
    if found is None:
        raise fail(f"unknown protocol {text!r}", location=where)
    return found


def _vport(text: str, ctx: Ctx, where: str) -> int:
    """getaddrinfo's service: ``strtoul(s, 10)`` to the end, cut to an int (-1 means "a name")
    and then to 16 bits; an empty text is port 0; anything else is a service name."""
    m = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?)([0-9]*)", text)
    if m is not None and (m.group(2) or not text):
        value = min(int(m.group(2) or "0"), 2**64 - 1)
        value = -value & (2**64 - 1) if m.group(1) == "-" else value
        if value & U32 != U32:
            return value & U16
    if ctx.resolver is None:
        ctx.host_dependent(
            f"service {text!r} would be looked up in /etc/services; give the port number", where
        )
    for protocol in _SERVICE_PROTOCOLS:
        found = ctx.resolver.service(text, protocol)
        if found is not None:
            return found
    raise fail(f"port {text!r} does not resolve to anything", location=where)


def _vaddr(text: str, ctx: Ctx, where: str) -> str:
    """XTTYPE_HOSTMASK: getaddrinfo's numeric forms (inet_aton on IPv4), then ``/N`` or a mask.

    Printed unmasked; the prefix is omitted when full, and a mask with holes
    (or a number past the family's bits, read as a mask: ``/33``) is a full mask.
    """
    host, slash, mask_text = text.partition("/")
    bits = BITS[ctx.family]
    value = inet_aton(host) if ctx.family == "ipv4" else ipv6_value(host)
    if value is None:
        other = ipv6_value(host) if ctx.family == "ipv4" else inet_aton(host)
        if other is not None:
            raise fail(f"{host!r} is not an address of this family", location=where)
        ctx.host_dependent(f"{host!r} would be resolved as a host name; give an address", where)
    prefix = bits
    if slash:
        parsed = strtoumax(mask_text)
        if parsed is not None and not parsed[1] and parsed[0] <= bits:
            prefix = parsed[0]
        else:
            mask = inet_aton(mask_text) if ctx.family == "ipv4" else ipv6_value(mask_text)
            if mask is None:
                raise fail(f"bad mask {mask_text!r} (a prefix length or a mask)", location=where)
            found = prefix_of(mask, ctx.family)
            prefix = bits if found is None else found  # holes: the tool keeps a full mask
    shown = address_text(value, ctx.family)
    return shown if prefix == bits else f"{shown}/{prefix}"


def _ipvs(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.items:
        raise fail("needs at least one option", location=o.where())
    others = [item for item in o.items if item.name != "--ipvs"]
    if others and o.neg("--ipvs"):
        raise fail("'! --ipvs' cannot be used together with other options", location=o.where("--ipvs"))
    if not others:
        return (Option("--ipvs", (), o.neg("--ipvs")),)
    out: list[Option] = []
    for key in ("--vproto", "--vaddr", "--vport", "--vdir", "--vmethod", "--vportctl"):
        if not o.has(key):
            continue
        text, where = o.value(key), o.where(key)
        if key == "--vproto":
            shown = str(_vproto(text, ctx, where))
        elif key == "--vaddr":
            shown = _vaddr(text, ctx, where)
        elif key in ("--vport", "--vportctl"):
            shown = str(_vport(text, ctx, where))
        elif key == "--vdir":
            if text.upper() not in ("ORIGINAL", "REPLY"):
                raise fail(f"bad direction {text!r}", location=where, choices=("ORIGINAL", "REPLY"))
            shown = text.upper()
        else:
            if text.upper() not in _METHODS:
                raise fail(f"bad method {text!r}", location=where, choices=_METHODS)
            shown = text.upper()
        out.append(Option(key, (shown,), o.neg(key)))
    return tuple(out)


MATCHES: tuple[Ext, ...] = (
    ext(
        "rateest",
        "match",
        _rateest,
        "--rateest|--rateest1 --rateest2 --rateest-delta --rateest-bps1 --rateest-pps1"
        " --rateest-bps|--rateest-bps2 --rateest-pps|--rateest-pps2 --rateest-lt --rateest-gt --rateest-eq",
        flags="--rateest-delta --rateest-lt --rateest-gt --rateest-eq",
        optional="--rateest-bps1 --rateest-pps1 --rateest-bps --rateest-pps",
        invert="--rateest-lt --rateest-gt --rateest-eq",
    ),
    ext("connlabel", "match", _connlabel, "--label --set", flags="--set", invert="--label"),
    ext("nfacct", "match", _nfacct, "--nfacct-name"),
    ext("osf", "match", _osf, "--genre --ttl --log", invert="--genre", family="ipv4"),
    ext(
        "ipvs",
        "match",
        _ipvs,
        "--ipvs --vproto --vaddr --vport --vdir --vmethod --vportctl",
        flags="--ipvs",
        invert="--ipvs --vproto --vaddr --vport --vmethod --vportctl",
    ),
)
