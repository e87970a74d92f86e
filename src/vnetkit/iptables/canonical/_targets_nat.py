"""NAT and transparent-proxy targets: DNAT, SNAT, MASQUERADE, REDIRECT, NETMAP, TPROXY.

Owns: NAT ranges as libxt_NAT reads and prints them
(``ADDR[-ADDR][:PORT[-PORT[/BASE]]]``, ``[ADDR]:PORT`` for IPv6, ``a-a``
printed ``a``), the ports of MASQUERADE and REDIRECT, NETMAP's masked
network and TPROXY's defaults, with the protocol each needs for ports.
"""

from __future__ import annotations

import re

from vnetkit.iptables.canonical._ext import DCCP, ICMP, SCTP, TCP, UDP, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._matches_l4 import services
from vnetkit.iptables.canonical._values import (
    U16,
    U32,
    address_text,
    fail,
    host_mask,
    mask_of,
    port,
    strict_address,
    uint,
    value_mask,
    xmark,
)
from vnetkit.model import Option

_NAT_PROTOCOLS = {TCP: "tcp", UDP: "udp", SCTP: "sctp", DCCP: "dccp", ICMP: "icmp"}


def _nat_ports(text: str, ctx: Ctx, where: str) -> str:
    """libxt_NAT's parse_ports: ``P``, ``P-Q`` or ``P-Q/BASE``; base 0 numbers."""
    if ctx.protocol not in _NAT_PROTOCOLS:
        raise fail("ports need -p tcp, udp, sctp, dccp or icmp", location=where)
    m = re.match(r"[ \t]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if m is None:  # the whole value is a service name (any protocol), or garbage
        return str(port(text, where, service=services(ctx, None)))
    lo = uint(m.group(0), where, hi=U16)
    rest = text[m.end() :]
    if not rest:
        return str(lo)
    if rest[0] == ":":
        raise fail("invalid port:port syntax, use a dash", location=where)
    if rest[0] != "-":
        raise fail(f"garbage after port value: {rest!r}", location=where)
    last, slash, base = rest[1:].partition("/")
    hi = uint(last, where, hi=U16)
    if hi < lo:
        raise fail(f"reversed port range {text!r}", location=where)
    shown = str(lo) if hi == lo else f"{lo}-{hi}"
    if slash:
        base_port = (
            uint(base, where, lo=1, hi=U16)
            if re.match(r"[ \t]*\+?[0-9]", base)
            else port(base, where, service=services(ctx, None))
        )
        shown += f"/{base_port}"
    return shown


def _nat_range(text: str, ctx: Ctx, where: str) -> str:
    """``ADDR[-ADDR][:PORTS]`` (IPv6: ``[ADDR[-ADDR]]:PORTS`` or a bare address range)."""
    family = ctx.family
    if text.startswith("["):
        close = text.find("]")
        if family == "ipv4" or close < 0:
            raise fail(f"invalid address format {text!r}", location=where)
        addresses, rest = text[1:close], text[close + 1 :]
        if rest and not rest.startswith(":"):
            raise fail(f"invalid address format {text!r}", location=where)
        ports = rest[1:] if rest else None
    else:
        colon = text.find(":")
        if colon >= 0 and ":" in text[colon + 1 :]:
            colon = -1  # an IPv6 address, no port
        addresses, ports = (text[:colon], text[colon + 1 :]) if colon >= 0 else (text, None)
    port_text = _nat_ports(ports, ctx, where) if ports is not None else None
    if not addresses:
        if port_text is None:
            raise fail(f"no address or port in {text!r}", location=where)
        return f":{port_text}"
    first, dash, last = addresses.partition("-")
    lo = strict_address(first, family, where)
    hi = strict_address(last, family, where) if dash else lo
    shown = address_text(lo, family) + ("" if hi == lo else f"-{address_text(hi, family)}")
    if port_text is None:
        return shown
    return f"[{shown}]:{port_text}" if family == "ipv6" else f"{shown}:{port_text}"


def _dnat_snat(o: Opts, ctx: Ctx, key: str) -> tuple[Option, ...]:
    if not o.has(key):
        raise fail(f"needs {key}", location=o.where())
    shown = _nat_range(o.value(key), ctx, o.where(key))
    if key == "--to-source" and re.search(r":\d+-\d+/", shown):
        raise fail(
            "SNAT has no base port: iptables-save prints it as /0, which it cannot read back",
            location=o.where(key),
        )
    out = [Option(key, (shown,))]
    for flag in ("--random", "--random-fully", "--persistent"):
        if o.has(flag):
            out.append(Option(flag))
    return tuple(out)


def _dnat(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return _dnat_snat(o, ctx, "--to-destination")


def _snat(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    return _dnat_snat(o, ctx, "--to-source")


def _to_ports(o: Opts, ctx: Ctx) -> list[Option]:
    if not o.has("--to-ports"):
        return []
    where = o.where("--to-ports")
    # libxt_NAT's parse_ports, as for DNAT/SNAT; the compat range keeps no /BASE offset
    shown = _nat_ports(o.value("--to-ports"), ctx, where).partition("/")[0]
    return [Option("--to-ports", (shown,))]


def _masquerade(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    out = _to_ports(o, ctx)
    out += [Option(flag) for flag in ("--random", "--random-fully") if o.has(flag)]
    return tuple(out)


def _redirect(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    out = _to_ports(o, ctx)
    out += [Option(flag) for flag in ("--random",) if o.has(flag)]
    return tuple(out)


def _netmap(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--to"):
        raise fail("needs --to", location=o.where())
    value, prefix = host_mask(o.value("--to"), ctx.family, o.where("--to"))
    bits = 32 if ctx.family == "ipv4" else 128
    prefix = bits if prefix is None else prefix
    return (Option("--to", (f"{address_text(value & mask_of(prefix, ctx.family), ctx.family)}/{prefix}",)),)


def _tproxy(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--on-port"):
        raise fail("needs --on-port", location=o.where())
    ctx.needs_protocol({TCP: "tcp", UDP: "udp"}, o.where())
    on_port = port(o.value("--on-port"), o.where("--on-port"), decimal=True, service=services(ctx, None))
    address = strict_address(o.value("--on-ip"), ctx.family, o.where("--on-ip")) if o.has("--on-ip") else 0
    mark, mask = (0, 0)
    if o.has("--tproxy-mark"):
        mark, given = value_mask(o.value("--tproxy-mark"), o.where("--tproxy-mark"))
        mask = U32 if given is None else given
    return (
        Option("--on-port", (str(on_port),)),
        Option("--on-ip", (address_text(address, ctx.family),)),
        Option("--tproxy-mark", (xmark(mark, mask),)),
    )


TARGETS: tuple[Ext, ...] = (
    ext(
        "DNAT", "target", _dnat, "--to-destination|--to --random --persistent", flags="--random --persistent"
    ),
    ext(
        "SNAT",
        "target",
        _snat,
        "--to-source|--to --random --random-fully --persistent",
        flags="--random --random-fully --persistent",
    ),
    ext(
        "MASQUERADE",
        "target",
        _masquerade,
        "--to-ports --random --random-fully",
        flags="--random --random-fully",
    ),
    ext("REDIRECT", "target", _redirect, "--to-ports|--to-port --random", flags="--random"),
    ext("NETMAP", "target", _netmap, "--to"),
    ext("TPROXY", "target", _tproxy, "--on-port --on-ip --tproxy-mark"),
)
