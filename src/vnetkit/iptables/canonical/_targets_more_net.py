"""Targets that take addresses, prefixes and masks: TEE, DNPT/SNPT, HMARK and CLUSTERIP.

Owns: what these targets print and the checks iptables and the kernel make
on their text (NPT prefixes at most /64 with no host bits, HMARK's tuple and
masks, a zero TEE gateway, CLUSTERIP's MAC and single destination), reading
hosts and prefix lengths as libxtables does (getaddrinfo reads IPv4 like
``inet_aton``: ``10.1`` is 10.0.0.1; a length falls back to a netmask; the
readers are in ``_values``). Host names and IPv6 scope ids are the host's
business: ``ctx.host_dependent``. Does not own: the simpler targets
(``_targets_more``).
"""

from __future__ import annotations

import re
from typing import NoReturn

from vnetkit.iptables.canonical._ext import BackendRefusal, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._targets_more import raw_text
from vnetkit.iptables.canonical._values import (
    BITS,
    U16,
    U32,
    Family,
    address_text,
    cut_text,
    fail,
    inet_aton,
    ipv6_value,
    mask_of,
    uint,
)
from vnetkit.iptables.canonical._values import plen as plen_value
from vnetkit.model import Option

_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # what could be a host name


def _not_numeric(text: str, family: Family, ctx: Ctx, where: str) -> NoReturn:
    """What getaddrinfo does with a value that is no address of ``family``."""
    other_v6 = family == "ipv4" and ipv6_value(text.partition("%")[0]) is not None
    if other_v6 or (family == "ipv6" and inet_aton(text) is not None):
        tool = "iptables takes IPv4" if family == "ipv4" else "ip6tables takes IPv6"
        raise fail(f"{text!r} is an address of the other family; {tool}", location=where)
    if family == "ipv6" and "%" in text and ipv6_value(text.partition("%")[0]) is not None:
        ctx.host_dependent(f"{text!r}: the scope id is looked up among the host's interfaces", where)
    if not _NAME.fullmatch(text) or re.fullmatch(r"[0-9.]+|0[xX][0-9a-fA-F.]*", text):
        raise fail(
            f"{text!r} is not a valid {'IPv4' if family == 'ipv4' else 'IPv6'} address", location=where
        )
    ctx.host_dependent(f"{text!r} is a host name, resolved through /etc/hosts or DNS; give an address", where)


def host(text: str, ctx: Ctx, where: str) -> int:
    """An ``XTTYPE_HOST`` value: one address, as getaddrinfo reads it for the rule's family."""
    value = inet_aton(text) if ctx.family == "ipv4" else ipv6_value(text)
    if value is None:
        _not_numeric(text, ctx.family, ctx, where)
    return value


def plen(text: str, ctx: Ctx, where: str) -> int:
    """An ``XTTYPE_PLEN`` value (``_values.plen``); an IPv6 mask with a scope id is the host's business."""
    if ctx.family == "ipv6" and "%" in text and ipv6_value(text.partition("%")[0]) is not None:
        ctx.host_dependent(f"{text!r}: the scope id is looked up among the host's interfaces", where)
    return plen_value(text, ctx.family, where)


# ---------------------------------------------------------------- TEE, DNPT/SNPT


def _tee(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--gateway"):
        raise fail("needs --gateway", location=o.where())
    where = o.where("--gateway")
    gateway = host(o.value("--gateway"), ctx, where)
    if gateway == 0:
        raise fail("the kernel refuses the zero address as a gateway", location=where)
    out = [Option("--gateway", (address_text(gateway, ctx.family),))]
    if o.has("--oif"):
        oif = cut_text(o.value("--oif"), 15, o.where("--oif"))
        if oif:  # an empty one is not printed
            out.append(Option("--oif", (raw_text(oif, o.where("--oif")),)))
    return tuple(out)


def _npt(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    out = []
    for key in ("--src-pfx", "--dst-pfx"):
        if not o.has(key):
            raise fail("needs --src-pfx and --dst-pfx", location=o.where())
        where = o.where(key)
        address, slash, length = o.value(key).partition("/")
        value = host(address, ctx, where)
        prefix = plen(length, ctx, where) if slash else 128
        if prefix > 64:
            raise fail(f"the kernel takes prefixes up to /64, not /{prefix}", location=where)
        if value & ~mask_of(prefix, "ipv6"):
            raise fail(f"{o.value(key)!r} has bits set past the prefix length", location=where)
        if value or prefix:  # ::/0 is not printed
            out.append(Option(key, (f"{address_text(value, 'ipv6')}/{prefix}",)))
    return tuple(out)


# ---------------------------------------------------------------- HMARK

# --hmark-tuple words, in the order libxt_HMARK tries them, and the option each stands for.
_TUPLE = {
    "ct": "",
    "src": "--hmark-src-prefix",
    "dst": "--hmark-dst-prefix",
    "sport": "--hmark-sport-mask",
    "dport": "--hmark-dport-mask",
    "proto": "--hmark-proto-mask",
    "spi": "--hmark-spi-mask",
}
# Printed order, with the width each number is printed in (0: decimal).
_HMARK_PRINT = (
    ("--hmark-src-prefix", 0),
    ("--hmark-dst-prefix", 0),
    ("--hmark-sport-mask", 4),
    ("--hmark-dport-mask", 4),
    ("--hmark-spi-mask", 8),
    ("--hmark-sport", 4),
    ("--hmark-dport", 4),
    ("--hmark-spi", 8),
    ("--hmark-proto-mask", 2),
    ("--hmark-rnd", 8),
    ("--hmark-mod", 0),
    ("--hmark-offset", 0),
)
_HMARK_LIMITS = {
    "--hmark-sport-mask": U16,
    "--hmark-dport-mask": U16,
    "--hmark-sport": U16,
    "--hmark-dport": U16,
    "--hmark-proto-mask": U16,
}
_PACKET = {key for key, _ in _HMARK_PRINT[:9]}  # what makes a hash; rnd, mod and offset do not


def _tuple_words(text: str, where: str) -> list[str]:
    words = text.split(",")
    if not words[-1]:
        raise fail(
            "needs a list of src, dst, sport, dport, spi, proto, ct", location=where, choices=tuple(_TUPLE)
        )
    out = []
    for word in words:
        low = word.lower() if word.isascii() else word
        found = next((name for name in _TUPLE if word and name.startswith(low)), None)  # strncasecmp
        if found is None:
            raise fail(f"bad type {word!r}", location=where, choices=tuple(_TUPLE))
        out.append(found)
    return out


def _hmark_values(o: Opts, ctx: Ctx) -> tuple[dict[str, int], set[str], bool]:
    """The value of each field, the fields given (libxtables' xflags) and whether ct is hashed."""
    bits = BITS[ctx.family]
    values: dict[str, int] = {}
    given: set[str] = set()  # options given, and fields --hmark-tuple set
    ct = False
    for item in o.items:
        where = o.where(item.name)
        if item.name == "--hmark-tuple":
            for word in _tuple_words(item.values[0], where):
                ct = ct or word == "ct"
                key = _TUPLE[word]
                if key:
                    given.add(key)
                    values[key] = bits if key.endswith("prefix") else U32 if word == "spi" else U16
            continue
        if item.name in given:
            raise fail("already set by --hmark-tuple", location=where)
        given.add(item.name)
        text = item.values[0]
        if item.name.endswith("prefix"):
            length = plen(text, ctx, where)
            values[item.name] = bits if length == 255 else length
        elif item.name == "--hmark-mod":
            values[item.name] = uint(text, where, lo=1)
        else:
            values[item.name] = uint(text, where, hi=_HMARK_LIMITS.get(item.name, U32))
    return values, given, ct


def _hmark(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    values, given, ct = _hmark_values(o, ctx)
    for key in ("--hmark-mod", "--hmark-rnd"):
        if key not in values:
            raise fail(f"needs {key}", location=o.where())
    if "--hmark-spi-mask" in given and given & {"--hmark-sport-mask", "--hmark-dport-mask"}:
        raise fail(
            "--hmark-spi-mask cannot be used with --hmark-sport-mask or --hmark-dport-mask",
            location=o.where(),
        )
    if not (given & _PACKET or ct):
        raise fail("needs --hmark-tuple (or a mask) to hash on", location=o.where())
    if "--hmark-spi" in values and values.keys() & {"--hmark-sport", "--hmark-dport"}:
        raise fail("the kernel refuses --hmark-spi with --hmark-sport or --hmark-dport", location=o.where())
    out = [
        Option(key, (f"0x{values[key]:0{width}x}" if width else str(values[key]),))
        for key, width in _HMARK_PRINT
        if key in values
    ]
    return (*out, Option("--hmark-tuple", ("ct",))) if ct else tuple(out)


# ---------------------------------------------------------------- CLUSTERIP

_HASHMODES = ("sourceip", "sourceip-sourceport", "sourceip-sourceport-destport")
# One octet as libxtables reads it: strtoul(.., 16) consuming at most 2 characters (none is 0).
_OCTET = re.compile(r"(?P<sign>[ \t+-]?)(?P<hex>[0-9a-fA-F]{0,2})")


def _ethermac(text: str, where: str) -> list[int]:
    parts = text.split(":")
    octets = []
    for part in parts:
        m = _OCTET.fullmatch(part)
        if len(parts) != 6 or m is None or len(part) > 2 or (m["sign"] and not m["hex"]):
            raise fail(f"invalid MAC address {text!r} (six hex bytes joined by ':')", location=where)
        value = int(m["hex"] or "0", 16)
        octets.append(-value & 0xFF if m["sign"] == "-" else value)
    return octets


def _clusterip(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    keys = ("--new", "--hashmode", "--clustermac", "--total-nodes", "--local-node")
    if not o.has("--new"):  # the kernel wants a hash mode, which only --new sets
        raise fail(
            "needs --new, --hashmode, --clustermac, --total-nodes and --local-node", location=o.where()
        )
    for key in keys:
        if not o.has(key):
            raise fail(f"{key} is needed with the other CLUSTERIP options", location=o.where())
    mode = o.value("--hashmode")
    if mode not in _HASHMODES:
        raise fail(f"unknown hash mode {mode!r}", location=o.where("--hashmode"), choices=_HASHMODES)
    mac = _ethermac(o.value("--clustermac"), o.where("--clustermac"))
    if not mac[0] & 1:
        raise fail("the cluster MAC must be a multicast address", location=o.where("--clustermac"))
    total = uint(o.value("--total-nodes"), o.where("--total-nodes"), hi=16)
    local = uint(o.value("--local-node"), o.where("--local-node"), lo=1, hi=16)
    seed = uint(o.value("--hash-init"), o.where("--hash-init")) if o.has("--hash-init") else 0
    if ctx.destination in (None, "0.0.0.0/32") or not str(ctx.destination).endswith("/32"):
        raise fail("the kernel wants one destination address: -d ADDR/32 (not 0.0.0.0)", location=o.where())
    if ctx.backend == "nft":
        raise BackendRefusal(
            f"{o.where()}: the kernel refuses CLUSTERIP through nftables (use iptables-legacy)"
        )
    return (
        Option("--new"),
        Option("--hashmode", (mode,)),
        Option("--clustermac", (":".join(f"{octet:02X}" for octet in mac),)),
        Option("--total-nodes", (str(total),)),
        Option("--local-node", (str(local),)),
        Option("--hash-init", (str(seed),)),
    )


TARGETS: tuple[Ext, ...] = (
    ext("TEE", "target", _tee, "--gateway --oif"),
    ext("DNPT", "target", _npt, "--src-pfx --dst-pfx", family="ipv6"),
    ext("SNPT", "target", _npt, "--src-pfx --dst-pfx", family="ipv6"),
    ext(
        "HMARK",
        "target",
        _hmark,
        "--hmark-tuple --hmark-src-prefix --hmark-dst-prefix --hmark-sport-mask --hmark-dport-mask"
        " --hmark-spi-mask --hmark-sport --hmark-dport --hmark-spi --hmark-proto-mask --hmark-rnd"
        " --hmark-mod --hmark-offset",
    ),
    ext(
        "CLUSTERIP",
        "target",
        _clusterip,
        "--new --hashmode --clustermac --total-nodes --local-node --hash-init",
        flags="--new",
        family="ipv4",
    ),
)
