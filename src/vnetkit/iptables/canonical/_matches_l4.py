"""Protocol matches: tcp, udp, icmp, icmp6, multiport, esp, ah, mh, tcpmss (sctp: ``_matches_sctp``).

Owns: ports and port ranges, TCP flags, ICMP type names, and the tcp/udp
fields the nft backend turns into native expressions (``L4``; merging them
is ``canonical/__init__``'s job). Service names need /etc/services and are
refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from vnetkit.iptables.canonical._ext import (
    AH,
    DCCP,
    ESP,
    ICMP,
    ICMPV6,
    MH,
    SCTP,
    TCP,
    UDP,
    UDPLITE,
    Ctx,
    Ext,
    Opts,
    ext,
)
from vnetkit.iptables.canonical._matches_hdr import uint_parts
from vnetkit.iptables.canonical._tables import ICMP_TYPES, ICMPV6_TYPES, MH_TYPES
from vnetkit.iptables.canonical._values import (
    U16,
    U32,
    Service,
    fail,
    port,
    port_range,
    span,
    uint,
    uint_range,
)
from vnetkit.model import Option

FULL = (0, U16)
_FLAGS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10), ("URG", 0x20))
_FLAG_INPUT = dict(_FLAGS) | {"ALL": 0x3F, "NONE": 0}
SYN_FLAGS = (0x17, 0x02)  # --syn: FIN,SYN,RST,ACK SYN


@dataclass(frozen=True, slots=True)
class Ports:
    lo: int = 0
    hi: int = U16
    negated: bool = False

    @property
    def any(self) -> bool:
        return (self.lo, self.hi) == FULL


@dataclass(frozen=True, slots=True)
class L4:
    """A tcp or udp match as the kernel holds it (``xt_tcp``/``xt_udp``)."""

    name: str
    sport: Ports = Ports()
    dport: Ports = Ports()
    flags: tuple[int, int, bool] = (0, 0, False)  # mask, comparison, negated
    option: tuple[int, bool] | None = None  # --tcp-option

    @property
    def all_zero(self) -> bool:
        """Nothing set, nothing negated: iptables-nft keeps such a match as a compat match."""
        return (
            self.sport == Ports()
            and self.dport == Ports()
            and self.flags == (0, 0, False)
            and not self.option
        )

    @property
    def native(self) -> bool:
        """iptables-nft translates it to nftables expressions (and merges it, §3.3)."""
        return self.option is None and not self.all_zero


def flag_names(flags: int) -> str:
    names = [name for name, bit in _FLAGS if flags & bit]
    return ",".join(names) or "NONE"


def _parse_flags(text: str, where: str) -> int:
    value = 0
    for item in text.split(","):
        if not item:
            continue  # strtok skips empty items
        bit = _FLAG_INPUT.get(item.upper())
        if bit is None:
            raise fail(f"unknown TCP flag {item!r}", location=where, choices=tuple(_FLAG_INPUT))
        value |= bit
    return value


def services(ctx: Ctx, protocol: str | None) -> Service | None:
    """getservbyname for ``protocol`` (None: any) through the context's resolver; None without one."""
    resolver = ctx.resolver
    if resolver is None:
        return None
    return lambda name: resolver.service(name, protocol)


def l4_fields(o: Opts, ctx: Ctx) -> L4:
    """The fields of a tcp/udp match from its options."""
    ports = {}
    # libxt_tcp asks getservbyname(name, "tcp"); libxt_udp's XTTYPE_PORTRC asks getaddrinfo (any)
    service = services(ctx, "tcp" if o.ext.name == "tcp" else None)
    for key in ("--sport", "--dport"):
        if o.has(key):
            lo, hi = port_range(o.value(key), o.where(key), service=service)
            ports[key] = Ports(lo, hi, o.neg(key))
    flags = (0, 0, False)
    option = None
    if o.ext.name == "tcp":
        which = o.one_of("--syn", "--tcp-flags", required=False)
        if which == "--syn":
            flags = (*SYN_FLAGS, o.neg(which))
        elif which == "--tcp-flags":
            mask, comp = o.values(which)
            flags = (_parse_flags(mask, o.where(which)), _parse_flags(comp, o.where(which)), o.neg(which))
        if o.has("--tcp-option"):
            option = (
                uint(o.value("--tcp-option"), o.where("--tcp-option"), lo=1, hi=255),
                o.neg("--tcp-option"),
            )
    return L4(o.ext.name, ports.get("--sport", Ports()), ports.get("--dport", Ports()), flags, option)


def ports_option(key: str, ports: Ports) -> Option:
    return Option(key, (span(ports.lo, ports.hi),), ports.negated)


def _nft_ports(state: Ports, given: Ports) -> Ports:
    """How iptables-nft reads back one port expression into the match it is rebuilding.

    A single port is compared for (in)equality, ``0:B`` becomes ``<= B`` (or
    ``> B`` when negated, read back as ``B+1:65535``), any other range a range
    compare; a read-back negation is never cleared by a later expression.
    """
    if given.lo == given.hi:
        return Ports(given.lo, given.lo, state.negated or given.negated)
    if given.lo == 0:
        if given.negated:
            return Ports(min(given.hi + 1, U16), state.hi, state.negated)
        return Ports(state.lo, given.hi, state.negated)
    return Ports(given.lo, given.hi, state.negated or given.negated)


def nft_fold(acc: L4 | None, fields: L4) -> L4 | None:
    """Fold a native tcp/udp match into the one iptables-nft prints back (None: nothing yet).

    Native expressions of all matches of a rule are read back into one match
    created at the first of them; later ones update it field by field.
    """
    sport = None if fields.sport.any else fields.sport
    dport = None if fields.dport.any else fields.dport
    flags = fields.flags if fields.flags[0] else None
    if sport is None and dport is None and flags is None:
        return acc
    out = acc if acc is not None else L4(fields.name)
    if sport is not None:
        out = replace(out, sport=_nft_ports(out.sport, sport))
    if dport is not None:
        out = replace(out, dport=_nft_ports(out.dport, dport))
    if flags is not None:
        out = replace(out, flags=(flags[0], flags[1], out.flags[2] or flags[2]))
    return out


def l4_print(fields: L4) -> tuple[Option, ...]:
    """What libxt_tcp/libxt_udp save prints (legacy, and compat matches on nft)."""
    out: list[Option] = []
    for key, ports in (("--sport", fields.sport), ("--dport", fields.dport)):
        if not ports.any:
            out.append(ports_option(key, ports))
    if fields.option is not None:
        out.append(Option("--tcp-option", (str(fields.option[0]),), fields.option[1]))
    mask, comp, negated = fields.flags
    if mask or negated:
        out.append(Option("--tcp-flags", (flag_names(mask), flag_names(comp)), negated))
    return tuple(out)


def _l4(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    # Used when a caller asks for one match alone; the rule pipeline merges via l4_fields.
    return l4_print(l4_fields(o, ctx))


def _icmp_type(text: str, table: tuple[tuple[str, int, int, int], ...], where: str) -> tuple[int, int, int]:
    """libxt_icmp's parser: a unique case-insensitive prefix of a name, or ``T`` / ``T/C``."""
    hits = [entry for entry in table if entry[0].lower().startswith(text.lower())]
    if len(hits) > 1:
        raise fail(f"ambiguous ICMP type {text!r}: {hits[0][0]} or {hits[1][0]}?", location=where)
    if hits:
        return hits[0][1:]
    kind, slash, code = text.partition("/")
    number = uint(kind, where, hi=255)
    if slash:
        value = uint(code, where, hi=255)
        return number, value, value
    return number, 0, 255


def _icmp(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({ICMP: "icmp"}, o.where())
    if not o.has("--icmp-type"):
        return ()
    kind, lo, hi = _icmp_type(o.value("--icmp-type"), ICMP_TYPES, o.where("--icmp-type"))
    text = "any" if kind == 255 else f"{kind}" + ("" if (lo, hi) == (0, 255) else f"/{lo}")
    return (Option("--icmp-type", (text,), o.neg("--icmp-type")),)


def _icmp6(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({ICMPV6: "ipv6-icmp"}, o.where())
    if not o.has("--icmpv6-type"):
        return ()
    table = ICMPV6_TYPES
    kind, lo, hi = _icmp_type(o.value("--icmpv6-type"), table, o.where("--icmpv6-type"))
    text = f"{kind}" + ("" if (lo, hi) == (0, 255) else f"/{lo}")
    return (Option("--icmpv6-type", (text,), o.neg("--icmpv6-type")),)


_MULTIPORT_PROTOCOLS = {TCP: "tcp", UDP: "udp", UDPLITE: "udplite", SCTP: "sctp", DCCP: "dccp"}


def _multiport(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which("--sports", "--dports", "--ports")
    where = o.where(key)
    if ctx.protocol not in _MULTIPORT_PROTOCOLS or ctx.protocol_negated:
        raise fail("needs -p tcp, udp, udplite, sctp or dccp (without '!')", location=where)
    items: list[str] = []
    slots = 0
    service = services(ctx, _MULTIPORT_PROTOCOLS[ctx.protocol])
    for item in o.value(key).split(","):
        first, colon, last = item.partition(":")
        lo = port(first, where, service=service)
        if colon:
            hi = port(last, where, service=service)
            if lo >= hi:
                raise fail(f"invalid port range {item!r} (needs a < b)", location=where)
            items.append(f"{lo}:{hi}")
            slots += 2
        else:
            items.append(str(lo))
            slots += 1
    if slots > 15:
        raise fail("too many ports (at most 15; a range counts 2)", location=where)
    return (Option(key, (",".join(items),), o.neg(key)),)


def _spis(o: Opts, key: str) -> list[Option]:
    """An SPI range (``XTTYPE_UINT32RC``); 0:4294967295 is not printed, even negated."""
    if not o.has(key):
        return []
    lo, hi, _ = uint_parts(o.value(key), o.where(key))
    return [] if (lo, hi) == (0, U32) else [Option(key, (span(lo, hi),), o.neg(key))]


def _esp(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({ESP: "esp"}, o.where())
    return tuple(_spis(o, "--espspi"))


def _ah(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if ctx.family == "ipv4":  # ip6tables finds the AH header in the chain of headers: any -p will do
        ctx.needs_protocol({AH: "ah"}, o.where())
    out = _spis(o, "--ahspi")
    if ctx.family == "ipv4" and (o.has("--ahlen") or o.has("--ahres")):
        raise fail("--ahlen and --ahres exist only in ip6tables", location=o.where())
    if o.has("--ahlen"):
        length = uint(o.value("--ahlen"), o.where("--ahlen"))
        if length or o.neg("--ahlen"):  # a length of 0 is the default, not printed
            out.append(Option("--ahlen", (str(length),), o.neg("--ahlen")))
    if o.has("--ahres"):
        out.append(Option("--ahres"))
    return tuple(out)


def _mh_type(text: str, where: str) -> int:
    match = None
    for name, number in MH_TYPES:
        if name.startswith(text.lower()) and (match is None or len(name) == len(text)):
            match = number
    return match if match is not None else uint(text, where, hi=255)


def _mh(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({MH: "mh"}, o.where())
    if not o.has("--mh-type"):
        return ()
    where = o.where("--mh-type")
    first, colon, last = o.value("--mh-type").partition(":")
    lo = _mh_type(first, where) if first or not colon else 0
    hi = (_mh_type(last, where) if last else 255) if colon else lo
    if lo > hi:
        raise fail(f"invalid type range {o.value('--mh-type')!r} (min > max)", location=where)
    if (lo, hi) == (0, 255):
        return ()
    return (Option("--mh-type", (span(lo, hi),), o.neg("--mh-type")),)


def _tcpmss(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({TCP: "tcp"}, o.where())
    if not o.has("--mss"):
        raise fail("needs --mss", location=o.where())
    lo, hi = uint_range(o.value("--mss"), o.where("--mss"), hi=U16)
    return (Option("--mss", (span(lo, hi),), o.neg("--mss")),)


MATCHES: tuple[Ext, ...] = (
    ext(
        "tcp",
        "match",
        _l4,
        "--sport|--source-port --dport|--destination-port --syn --tcp-flags --tcp-option",
        flags="--syn",
        pairs="--tcp-flags",
        invert="*",
    ),
    ext("udp", "match", _l4, "--sport|--source-port --dport|--destination-port", invert="*"),
    ext("icmp", "match", _icmp, "--icmp-type", invert="*", family="ipv4"),
    ext("icmp6", "match", _icmp6, "--icmpv6-type", invert="*", family="ipv6"),
    ext(
        "multiport",
        "match",
        _multiport,
        "--sports|--source-ports --dports|--destination-ports --ports",
        invert="*",
    ),
    ext("esp", "match", _esp, "--espspi", invert="*"),
    ext("ah", "match", _ah, "--ahspi --ahlen --ahres", flags="--ahres", invert="--ahspi --ahlen"),
    ext("mh", "match", _mh, "--mh-type", invert="*", family="ipv6"),
    ext("tcpmss", "match", _tcpmss, "--mss", invert="*"),
)

# The match iptables loads for an option given after -p without -m.
IMPLICIT = {
    ("ipv4", TCP): "tcp",
    ("ipv6", TCP): "tcp",
    ("ipv4", UDP): "udp",
    ("ipv6", UDP): "udp",
    ("ipv4", SCTP): "sctp",
    ("ipv6", SCTP): "sctp",
    ("ipv4", ICMP): "icmp",
    ("ipv6", ICMPV6): "icmp6",
    ("ipv4", ESP): "esp",
    ("ipv6", ESP): "esp",
    ("ipv4", AH): "ah",
    ("ipv6", AH): "ah",
    ("ipv6", MH): "mh",
}
