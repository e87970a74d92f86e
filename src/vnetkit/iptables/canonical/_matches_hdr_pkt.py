"""Packet-property matches: dccp, ecn, ipcomp, realm, policy, cpu, quota, socket, cluster, cgroup.

Owns: their print order, the defaults iptables adds (``--pol ipsec``,
``--ipcompspi 0``, ``--cluster-local-node N`` printed as a nodemask), the
checks the tool and the kernel make on the text alone, and which values
are printed under names from the host's files (realm names from
/etc/iproute2/rt_realms, policy protocols from /etc/protocols, dccp
service names): those go through ``ctx.host_dependent`` or
``ctx.resolver``. Measured in docs/canonical/spec-hdr.md. Does not own:
the shared value parsers (``_matches_hdr``) or bpf (``_matches_hdr_bpf``).
"""

from __future__ import annotations

import re

from vnetkit.iptables.canonical._ext import DCCP, TCP, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._matches_hdr import ULONG, c_strtoul, host_and_mask, uint_parts
from vnetkit.iptables.canonical._tables import PROTOCOL_INPUT
from vnetkit.iptables.canonical._values import U16, U32, address_text, cut_text, fail, span, uint
from vnetkit.model import Option

IPCOMP = 108
_SPACE = " \t\n\v\f\r"

# ---------------------------------------------------------------- dccp

_DCCP_TYPES: tuple[str, ...] = (
    "REQUEST",
    "RESPONSE",
    "DATA",
    "ACK",
    "DATAACK",
    "CLOSEREQ",
    "CLOSE",
    "RESET",
    "SYNC",
    "SYNCACK",
    "INVALID",
)


def _dccp_port(text: str, where: str, ctx: Ctx) -> int:
    """A port as getaddrinfo(NULL, text) reads it: decimal, kept modulo 65536, else a service name."""
    number = re.fullmatch(r"[" + _SPACE + r"]*([+-]?)(\d+)", text)
    if number is not None:  # strtoul(text, &end, 10), kept in an int
        value = min(int(number.group(2), 10), ULONG)
        value = ((-value) % (ULONG + 1) if number.group(1) == "-" else value) & U32
        if value < 2**31:  # a negative int is looked up as a name, which no services file holds
            return value & U16
        raise fail(f"port {text!r} is out of range", location=where)
    if ctx.resolver is not None:
        found = ctx.resolver.service(text, None)  # getaddrinfo: the first protocol that has it
        if found is None:
            raise fail(f"service {text!r} is not known on this host", location=where)
        return found
    if re.fullmatch(r"[A-Za-z][\w.+-]*", text):
        ctx.host_dependent(
            f"service name {text!r} would be looked up in /etc/services; give the port number", where
        )
    raise fail(f"invalid port {text!r} (decimal only)", location=where)


def _dccp_ports(text: str, where: str, ctx: Ctx) -> str:
    parts = text.split(":")
    if len(parts) > 2:
        raise fail(f"{text!r} has more than two ':'-separated parts", location=where)
    lo = _dccp_port(parts[0], where, ctx) if parts[0] else 0
    hi = lo if len(parts) == 1 else (_dccp_port(parts[1], where, ctx) if parts[1] else U16)
    return span(lo, hi)


def _dccp(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({DCCP: "dccp"}, o.where())
    out: list[Option] = []
    for key in ("--sport", "--dport"):
        if o.has(key):
            out.append(Option(key, (_dccp_ports(o.value(key), o.where(key), ctx),), o.neg(key)))
    if o.has("--dccp-types"):
        where = o.where("--dccp-types")
        given = set()
        for name in o.value("--dccp-types").split(","):
            if name and name.upper() not in _DCCP_TYPES:
                raise fail(f"unknown DCCP type {name!r}", location=where, choices=_DCCP_TYPES)
            given.add(name.upper())
        shown = ",".join(name for name in _DCCP_TYPES if name in given)
        if not shown:  # printed as an empty word, which no parser reads back
            raise fail("no DCCP type given", location=where, choices=_DCCP_TYPES)
        out.append(Option("--dccp-types", (shown,), o.neg("--dccp-types")))
    if o.has("--dccp-option"):
        key = "--dccp-option"
        out.append(Option(key, (str(uint(o.value(key), o.where(key), lo=1, hi=0xFF)),), o.neg(key)))
    return tuple(out)


# ---------------------------------------------------------------- ecn, ipcomp


def _ecn(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.items:
        raise fail("needs --ecn-tcp-cwr, --ecn-tcp-ece or --ecn-ip-ect", location=o.where())
    out: list[Option] = []
    for key in ("--ecn-tcp-ece", "--ecn-tcp-cwr"):
        if o.has(key):
            ctx.needs_protocol({TCP: "tcp"}, o.where(key))
            out.append(Option(key, (), o.neg(key)))
    if o.has("--ecn-ip-ect"):
        key = "--ecn-ip-ect"
        out.append(Option(key, (str(uint(o.value(key), o.where(key), hi=3)),), o.neg(key)))
    return tuple(out)


def _ipcomp(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({IPCOMP: "ipcomp"}, o.where())
    lo, hi = 0, 0  # no --ipcompspi: the struct's zeroes, printed as 0
    if o.has("--ipcompspi"):
        lo, hi, _ = uint_parts(o.value("--ipcompspi"), o.where("--ipcompspi"))
    out = [] if (lo, hi) == (0, U32) else [Option("--ipcompspi", (span(lo, hi),), o.neg("--ipcompspi"))]
    return (*out, Option("--compres")) if o.has("--compres") else tuple(out)


# ---------------------------------------------------------------- realm


def _xt_uint(text: str, pos: int) -> tuple[int, int] | None:
    """``xtables_strtoui(text + pos, &end, 0, UINT32_MAX)``: (value, end), None when it fails."""
    if text[pos:].lstrip(_SPACE).startswith("-"):
        return None
    read = c_strtoul(text, pos)
    if read is None or read[2] or read[0] > U32:
        return None
    return read[0], read[1]


def _realm(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--realm"):
        raise fail("needs --realm", location=o.where())
    text, where = o.value("--realm"), o.where("--realm")
    value = _xt_uint(text, 0)
    if value is None or (value[1] < len(text) and text[value[1]] != "/"):
        ctx.host_dependent(
            f"realm {text!r} would be looked up in /etc/iproute2/rt_realms; give a number", where
        )
    number, end = value
    mask = U32
    if end < len(text):
        read = _xt_uint(text, end + 1)
        if read is None:
            raise fail(f"invalid mask in {text!r}", location=where)
        if read[1] != len(text):
            raise fail(f"trailing characters in {text!r}", location=where)
        mask = read[0]
    if mask == U32:
        ctx.host_dependent(
            f"a realm without a mask is printed under its /etc/iproute2/rt_realms name (0 is often 'cosmos');"
            f" give a mask (e.g. {number:#x}/0xff)",
            where,
        )
    return (Option("--realm", (f"{number:#x}/{mask:#x}",), o.neg("--realm")),)


# ---------------------------------------------------------------- policy

_POLICY_ELEMENT = ("--reqid", "--spi", "--proto", "--mode", "--tunnel-dst", "--tunnel-src")
_IPSEC = {50: "esp", 51: "ah", IPCOMP: "ipcomp"}


def _policy_proto(text: str, where: str, ctx: Ctx) -> int:
    """``XTTYPE_PROTOCOL``: a number, iptables' own names, else /etc/protocols; ah, esp or ipcomp."""
    read = _xt_uint(text, 0)
    if read is not None and read[1] == len(text) and read[0] <= 0xFF:
        number: int | None = read[0]
    else:
        number = PROTOCOL_INPUT.get(text)
        if number is None and ctx.resolver is None:
            ctx.host_dependent(
                f"protocol {text!r} would be looked up in /etc/protocols; give 50, 51 or 108", where
            )
        if number is None and ctx.resolver is not None:
            number = ctx.resolver.protocol_number(text)
    if number not in _IPSEC:
        raise fail(f"{text!r}: the protocol must be ah (51), esp (50) or ipcomp (108)", location=where)
    return number


def _policy_address(text: str, where: str, ctx: Ctx) -> str:
    value, prefix = host_and_mask(text, ctx.family, where, ctx)
    full = 32 if ctx.family == "ipv4" else 128
    return address_text(value, ctx.family) + ("" if prefix == full else f"/{prefix}")


def _policy_value(key: str, text: str, where: str, ctx: Ctx) -> str:
    """One element option's value as printed (``--proto`` as its number: see ``_proto_name``)."""
    if key == "--reqid":
        return str(uint(text, where))
    if key == "--spi":
        return f"{uint(text, where):#x}"
    if key == "--mode":
        if text not in ("transport", "tunnel"):
            raise fail(f"invalid mode {text!r}", location=where, choices=("transport", "tunnel"))
        return text
    if key == "--proto":
        return str(_policy_proto(text, where, ctx))
    return _policy_address(text, where, ctx)


def _proto_name(opt: Option, where: str, ctx: Ctx) -> Option:
    """``--proto`` as printed: the /etc/protocols name of the number (getprotobynumber), else the number."""
    if ctx.resolver is None:
        ctx.host_dependent(
            f"iptables-save prints protocol {opt.values[0]} under its /etc/protocols name", where
        )
    name = ctx.resolver.protocol_name(int(opt.values[0]))
    return Option(opt.name, (name or opt.values[0],), opt.negated)


def _policy_elements(o: Opts, ctx: Ctx) -> list[dict[str, Option]]:
    """The policy elements in order (split at --next), each option checked as the tool checks it."""
    elements: list[dict[str, Option]] = [{}]
    for item in o.items:
        where = o.where(item.name)
        if item.name == "--next":
            elements.append({})
            if len(elements) > 4:
                raise fail("at most 4 policy elements", location=where)
        elif item.name in _POLICY_ELEMENT:
            if item.name in elements[-1]:
                raise fail(f"{item.name} given twice in one policy element", location=where)
            shown = _policy_value(item.name, item.values[0], where, ctx)
            elements[-1][item.name] = Option(item.name, (shown,), item.negated)
    return elements


def _policy(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    direction = o.get("--dir")
    if direction is None:
        raise fail("needs --dir in or --dir out", location=o.where())
    if direction not in ("in", "out"):
        raise fail(f"invalid --dir {direction!r}", location=o.where("--dir"), choices=("in", "out"))
    pol = o.get("--pol") or "ipsec"
    if pol not in ("none", "ipsec"):
        raise fail(f"invalid --pol {pol!r}", location=o.where("--pol"), choices=("none", "ipsec"))
    o.requires("--next", "--strict")
    elements = _policy_elements(o, ctx)
    out = [Option("--dir", (direction,)), Option("--pol", (pol,))]
    if pol == "none":
        if o.has("--strict") or len(elements) > 1:
            raise fail("--pol none takes no --strict and no policy elements", location=o.where())
        return tuple(out)  # the element options are dropped
    if o.has("--strict"):
        out.append(Option("--strict"))
    for k, element in enumerate(elements):
        if o.has("--strict") and not element:
            raise fail(f"policy element {k} is empty under --strict", location=o.where())
        mode = element.get("--mode")  # none given counts as transport
        tunnel = mode is not None and (mode.values[0] == "tunnel") != mode.negated
        if ("--tunnel-src" in element or "--tunnel-dst" in element) and not tunnel:
            raise fail("--tunnel-src/--tunnel-dst need --mode tunnel", location=o.where())
        if k:
            out.append(Option("--next"))
        for key in _POLICY_ELEMENT:
            if key in element:
                opt = element[key]
                out.append(_proto_name(opt, o.where(key), ctx) if key == "--proto" else opt)
    return tuple(out)


# ---------------------------------------------------------------- cpu, quota, socket, cluster, cgroup


def _required(o: Opts, key: str, hi: int) -> tuple[Option, ...]:
    if not o.has(key):
        raise fail(f"needs {key}", location=o.where())
    return (Option(key, (str(uint(o.value(key), o.where(key), hi=hi)),), o.neg(key)),)


def _cpu(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return _required(o, "--cpu", U32)


def _quota(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return _required(o, "--quota", 2**64 - 1)


def _socket(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return tuple(Option(key) for key in ("--transparent", "--nowildcard", "--restore-skmark") if o.has(key))


def _cluster(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    local = o.one_of("--cluster-local-node", "--cluster-local-nodemask", required=False)
    values = {
        key: uint(o.value(key), o.where(key), lo=1, hi=32)
        for key in ("--cluster-total-nodes", "--cluster-local-node", "--cluster-local-nodemask")
        if o.has(key)
    }
    seed = (
        uint(o.value("--cluster-hash-seed"), o.where("--cluster-hash-seed"))
        if o.has("--cluster-hash-seed")
        else None
    )
    if local is None:
        raise fail("needs --cluster-local-node or --cluster-local-nodemask", location=o.where())
    mask = 1 << (values[local] - 1) if local == "--cluster-local-node" else values[local]
    total = values.get("--cluster-total-nodes")
    if total is not None and seed is not None and mask >= 1 << total:
        raise fail(f"{local} is too big for --cluster-total-nodes {total}", location=o.where(local))
    if total is None or seed is None:
        raise fail("needs --cluster-total-nodes and --cluster-hash-seed", location=o.where())
    return (
        Option("--cluster-local-nodemask", (f"0x{mask:08x}",), o.neg(local)),
        Option("--cluster-total-nodes", (str(total),)),
        Option("--cluster-hash-seed", (f"0x{seed:08x}",)),
    )


def _cgroup(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which("--path", "--cgroup")
    if key == "--path":  # cut at 511 bytes; the kernel looks it up: a missing cgroup is the host's business
        return (Option(key, (cut_text(o.value(key), 511, o.where(key)),), o.neg(key)),)
    return (Option(key, (str(uint(o.value(key), o.where(key))),), o.neg(key)),)


MATCHES: tuple[Ext, ...] = (
    ext(
        "dccp",
        "match",
        _dccp,
        "--sport|--source-port --dport|--destination-port --dccp-types --dccp-option",
        invert="*",
    ),
    ext(
        "ecn",
        "match",
        _ecn,
        "--ecn-tcp-cwr --ecn-tcp-ece --ecn-ip-ect",
        flags="--ecn-tcp-cwr --ecn-tcp-ece",
        invert="*",
    ),
    ext("ipcomp", "match", _ipcomp, "--ipcompspi --compres", flags="--compres", invert="--ipcompspi"),
    ext("realm", "match", _realm, "--realm", invert="*", family="ipv4"),
    ext(
        "policy",
        "match",
        _policy,
        "--dir --pol --strict --reqid --spi --proto --mode --tunnel-src --tunnel-dst --next",
        flags="--strict --next",
        invert=" ".join(_POLICY_ELEMENT),
        repeat=" ".join((*_POLICY_ELEMENT, "--next")),  # once per policy element
    ),
    ext("cpu", "match", _cpu, "--cpu", invert="*"),
    ext("quota", "match", _quota, "--quota", invert="*"),
    ext(
        "socket",
        "match",
        _socket,
        "--transparent --nowildcard --restore-skmark",
        flags="--transparent --nowildcard --restore-skmark",
    ),
    ext(
        "cluster",
        "match",
        _cluster,
        "--cluster-total-nodes --cluster-local-node --cluster-local-nodemask --cluster-hash-seed",
        invert="--cluster-local-node --cluster-local-nodemask",
    ),
    ext("cgroup", "match", _cgroup, "--path --cgroup", invert="*"),
)
