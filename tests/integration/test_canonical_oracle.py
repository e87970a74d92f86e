"""canonical() against the real tool: random rules added in a test namespace, read back with iptables-save.

Hypothesis draws batches of rules from the subset canonical() supports:
addresses with any prefix (host bits set, dotted masks, negation),
interfaces (wildcards, bare ``+``), protocols by name and number, ports and
ranges, TCP flags and ``--syn``, ICMP types by name and number, multiport,
comments with spaces and quotes, conntrack/state, mark/connmark, limit,
recent, statistic, addrtype, pkttype, length, ttl/hl and a dozen more
matches; verdicts, jumps and gotos to a user chain, REJECT, LOG, MARK,
CONNMARK, DNAT, SNAT, MASQUERADE, REDIRECT, NOTRACK, CT and more targets,
each in a table that allows it. Each batch goes into one transaction per
backend, in a user chain of each table; every saved rule must equal
``canonical(parse_rule(argv), family=..., backend=...)``, in order. Every
rule canonical() refuses must be refused by the tool too.

``VNK_ORACLE_EXAMPLES=200`` runs a longer hunt (default 10 batches per test).
"""

from __future__ import annotations

import ipaddress
import os
import string
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from vnetkit.errors import RuleError, VnetkitError
from vnetkit.iptables import IPTables
from vnetkit.iptables.canonical import canonical_rules
from vnetkit.iptables.rules import parse_rule, render_line
from vnetkit.model import Rule

pytestmark = pytest.mark.integration

Family = Literal["ipv4", "ipv6"]
Backend = Literal["nft", "legacy"]
Draw = st.DrawFn
Case = tuple[str, tuple[str, ...]]  # table, argv

CHAIN, JUMP = "VNK-CANON", "VNK-CANON-T"
TABLES = ("filter", "nat", "mangle", "raw")
REFUSED: Counter[str] = Counter()


# ---------------------------------------------------------------- values


def _neg(draw: Draw, p: float = 0.25) -> list[str]:
    return ["!"] if draw(st.floats(0, 1)) < p else []


def _pick(draw: Draw, items: Sequence[str]) -> str:
    return draw(st.sampled_from(list(items)))


def _number(draw: Draw, value: int) -> str:
    return _pick(draw, [str(value), hex(value)])


def _u32(draw: Draw) -> str:
    return _number(draw, draw(st.integers(0, 2**32 - 1)))


def _address(draw: Draw, family: Family, *, prefix: bool = True) -> str:
    if family == "ipv4":
        text = str(ipaddress.IPv4Address(draw(st.integers(0, 2**32 - 1))))
        if not (prefix and draw(st.booleans())):
            return text
        bits = draw(st.integers(0, 32))
        if draw(st.integers(0, 5)) == 0:
            return f"{text}/{ipaddress.IPv4Network(f'0.0.0.0/{bits}').netmask}"
        return f"{text}/{bits}"
    value = 0
    for group in draw(
        st.lists(st.sampled_from([0, 0, 0xFFFF, 1, 0x2001, 0xDB8, 0xABCD]), min_size=8, max_size=8)
    ):
        value = (value << 16) | group
    text = str(ipaddress.IPv6Address(value))
    text = text.upper() if draw(st.booleans()) else text
    return f"{text}/{draw(st.integers(0, 128))}" if prefix and draw(st.booleans()) else text


def _port(draw: Draw) -> int:
    return draw(st.one_of(st.integers(0, 1024), st.integers(0, 65535)))


def _ports(draw: Draw) -> tuple[int, int]:
    a, b = _port(draw), _port(draw)
    return min(a, b), max(a, b)


def _port_range(draw: Draw) -> str:
    lo, hi = _ports(draw)
    return _pick(draw, [str(lo), str(lo), f"{lo}:{hi}", f"{lo}:", f":{hi}"])


def _names(draw: Draw, names: Sequence[str]) -> str:
    chosen = draw(st.lists(st.sampled_from(list(names)), min_size=1, max_size=4))
    return ",".join(name.lower() if draw(st.booleans()) else name for name in chosen)


_TEXT = st.text(
    alphabet=st.sampled_from(list(string.ascii_letters + string.digits + " _-.:/'\"\\$#=,é")), max_size=30
).filter(lambda s: not s.startswith("-"))  # a leading '-' reads as an option
_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ALL", "NONE", "syn", "ack"]
_STATES = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"]
_ICMP = [
    *("echo-request", "ping", "port-unreachable", "destination-unreachable", "time-exceeded", "redirect"),
    *("fragmentation-needed", "any", "8", "3/3", "0", "11/1", "255", "Echo-Request"),
]
_ICMP6 = [
    *("echo-request", "echo-reply", "neighbour-solicitation", "neighbor-advertisement", "port-unreachable"),
    *("packet-too-big", "128", "1/4", "135", "255", "router-advertisement", "ttl-zero-during-transit"),
]


# ---------------------------------------------------------------- protocol and its matches


def _l4(draw: Draw, name: str) -> list[str]:
    out: list[str] = []
    for key in ("--sport", "--dport"):
        if draw(st.booleans()):
            out += [*_neg(draw), key, _port_range(draw)]
    if name == "tcp" and draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            out += [*_neg(draw), "--syn"]
        else:
            mask, comp = (
                ",".join(draw(st.lists(st.sampled_from(_FLAGS), min_size=1, max_size=3))) for _ in "mc"
            )
            out += [*_neg(draw), "--tcp-flags", mask, comp]
    return out


def _multiport(draw: Draw) -> list[str]:
    items = []
    for _ in range(draw(st.integers(1, 5))):
        lo, hi = _ports(draw)
        items.append(f"{lo}:{hi}" if lo < hi and draw(st.booleans()) else str(lo))
    key = _pick(draw, ["--dports", "--sports", "--ports", "--destination-ports"])
    return ["-m", "multiport", *_neg(draw), key, ",".join(items)]


def _protocol(draw: Draw, family: Family) -> tuple[str | None, list[str]]:
    """``-p`` and the protocol's own matches; the protocol's match name for the target."""
    icmp = "icmp" if family == "ipv4" else "icmpv6"
    given = draw(
        st.sampled_from([None, None, "tcp", "tcp", "udp", "TCP", "6", "17", icmp, "sctp", "all", "200"])
    )
    if given is None:
        return None, []
    out = [*_neg(draw, 0.1), "-p", given]
    name = {"6": "tcp", "17": "udp"}.get(given.lower(), given.lower())
    if name in ("tcp", "udp"):
        for _ in range(draw(st.integers(0, 2))):
            out += (["-m", name] if draw(st.booleans()) else []) + _l4(draw, name)
        if draw(st.integers(0, 3)) == 0:
            out += _multiport(draw)
    elif name == icmp and draw(st.booleans()):
        option = "--icmp-type" if family == "ipv4" else "--icmpv6-type"
        out += [*_neg(draw), option, _pick(draw, _ICMP if family == "ipv4" else _ICMP6)]
    elif name == "sctp" and draw(st.booleans()):
        out += [*_neg(draw), "--dport", _port_range(draw)]
    return name, out


# ---------------------------------------------------------------- other matches, one function each

Gen = Callable[[Draw, Family], list[str]]


def _comment(draw: Draw, family: Family) -> list[str]:
    return ["-m", "comment", "--comment", draw(_TEXT)]


def _conntrack(draw: Draw, family: Family) -> list[str]:
    out = ["-m", "conntrack", *_neg(draw), "--ctstate", _names(draw, _STATES)]
    if draw(st.booleans()):
        out += [*_neg(draw), "--ctstatus", _names(draw, ["EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED"])]
    if draw(st.booleans()):
        out += ["--ctdir", _pick(draw, ["ORIGINAL", "REPLY", "reply"])]
    if draw(st.booleans()):
        out += [*_neg(draw), "--ctorigsrc", _address(draw, family)]
    if draw(st.booleans()):
        out += ["--ctproto", _pick(draw, ["tcp", "6", "udp", "17", "all"])]
    return out


def _state(draw: Draw, family: Family) -> list[str]:
    return ["-m", "state", *_neg(draw), "--state", _names(draw, _STATES[:5])]


def _mark(draw: Draw, family: Family) -> list[str]:
    value = _u32(draw) + (f"/{_u32(draw)}" if draw(st.booleans()) else "")
    return ["-m", _pick(draw, ["mark", "connmark"]), *_neg(draw), "--mark", value]


def _limit(draw: Draw, family: Family) -> list[str]:
    out = ["-m", "limit"]
    if draw(st.integers(0, 4)):
        unit = _pick(
            draw, ["", "/s", "/sec", "/second", "/m", "/min", "/minute", "/h", "/hour", "/d", "/day"]
        )
        out += ["--limit", f"{draw(st.integers(1, 10000))}{unit}"]
    return out + (["--limit-burst", str(draw(st.integers(1, 10000)))] if draw(st.booleans()) else [])


def _recent(draw: Draw, family: Family) -> list[str]:
    command = _pick(draw, ["--set", "--rcheck", "--update", "--remove"])
    out = ["-m", "recent", *_neg(draw), command]
    if command in ("--rcheck", "--update"):
        if draw(st.booleans()):
            out += ["--seconds", str(draw(st.integers(1, 3600)))]
            out += [flag for flag in ("--reap", "--rttl") if draw(st.booleans())]
        if draw(st.booleans()):
            out += ["--hitcount", str(draw(st.integers(0, 20)))]
    if draw(st.booleans()):
        out += ["--name", _pick(draw, ["SSH", "web_1", "DEFAULT"])]
    return out + ([_pick(draw, ["--rsource", "--rdest"])] if draw(st.booleans()) else [])


def _statistic(draw: Draw, family: Family) -> list[str]:
    if draw(st.booleans()):
        p = _pick(draw, ["0.5", ".25", "1", "0", "0.1", "1e-1", "0x1p-3", "0.333", "0.999999"])
        return ["-m", "statistic", "--mode", "random", *_neg(draw), "--probability", p]
    every = draw(st.integers(1, 1000))
    packet = draw(st.integers(0, every - 1))
    return ["-m", "statistic", "--mode", "nth", *_neg(draw), "--every", str(every), "--packet", str(packet)]


def _addrtype(draw: Draw, family: Family) -> list[str]:
    types = ["UNICAST", "LOCAL", "MULTICAST", "ANYCAST", "UNSPEC", "unreachable"]
    types += ["BROADCAST", "BLACKHOLE", "PROHIBIT"] if family == "ipv4" else []
    out = ["-m", "addrtype", *_neg(draw), _pick(draw, ["--src-type", "--dst-type"]), _names(draw, types)]
    return out + (
        [_pick(draw, ["--limit-iface-in", "--limit-iface-out"])] if draw(st.integers(0, 3)) == 0 else []
    )


def _pkttype(draw: Draw, family: Family) -> list[str]:
    return [
        "-m",
        "pkttype",
        *_neg(draw),
        "--pkt-type",
        _pick(draw, ["unicast", "host", "BROADCAST", "multicast"]),
    ]


def _length(draw: Draw, family: Family) -> list[str]:
    return ["-m", "length", *_neg(draw), "--length", _port_range(draw)]


def _hops(draw: Draw, family: Family) -> list[str]:
    name = "ttl" if family == "ipv4" else "hl"
    op = _pick(draw, ["eq", "gt", "lt"])
    return ["-m", name, *(_neg(draw) if op == "eq" else []), f"--{name}-{op}", str(draw(st.integers(0, 255)))]


def _mac(draw: Draw, family: Family) -> list[str]:
    mac = ":".join(f"{draw(st.integers(0, 255)):x}" for _ in range(6))
    return ["-m", "mac", *_neg(draw), "--mac-source", mac.upper() if draw(st.booleans()) else mac]


def _iprange(draw: Draw, family: Family) -> list[str]:
    lo = _address(draw, family, prefix=False)
    text = lo if draw(st.booleans()) else f"{lo}-{_address(draw, family, prefix=False)}"
    return ["-m", "iprange", *_neg(draw), _pick(draw, ["--src-range", "--dst-range"]), text]


def _owner(draw: Draw, family: Family) -> list[str]:
    a, b = sorted((draw(st.integers(0, 70000)), draw(st.integers(0, 70000))))
    out = ["-m", "owner"]
    if draw(st.booleans()):
        out += [*_neg(draw), "--uid-owner", _pick(draw, [str(a), f"{a}-{b}"])]
    out += [*_neg(draw), "--gid-owner", _number(draw, b)]
    out += ["--suppl-groups"] if draw(st.booleans()) else []
    return out + ([*_neg(draw), "--socket-exists"] if draw(st.booleans()) else [])


def _string(draw: Draw, family: Family) -> list[str]:
    out = ["-m", "string", "--algo", _pick(draw, ["bm", "kmp"])]
    if draw(st.booleans()):
        out += [*_neg(draw), "--string", draw(_TEXT.filter(bool))]
    else:
        data = draw(st.binary(min_size=1, max_size=8))
        out += [*_neg(draw), "--hex-string", "|" + " ".join(f"{byte:02x}" for byte in data) + "|"]
    lo, hi = _ports(draw)
    out += draw(
        st.sampled_from([[], ["--from", str(lo)], ["--to", str(hi)], ["--from", str(lo), "--to", str(hi)]])
    )
    return out + (["--icase"] if draw(st.booleans()) else [])


def _helper(draw: Draw, family: Family) -> list[str]:
    return ["-m", "helper", *_neg(draw), "--helper", _pick(draw, ["ftp", "sip", "tftp", "FTP"])]


def _connlimit(draw: Draw, family: Family) -> list[str]:
    which = _pick(draw, ["--connlimit-upto", "--connlimit-above"])
    out = ["-m", "connlimit", *_neg(draw), which, str(draw(st.integers(0, 1000)))]
    if draw(st.booleans()):
        out += ["--connlimit-mask", str(draw(st.integers(0, 32 if family == "ipv4" else 128)))]
    return out + draw(st.sampled_from([[], ["--connlimit-saddr"], ["--connlimit-daddr"]]))


def _dscp(draw: Draw, family: Family) -> list[str]:
    if draw(st.booleans()):
        return ["-m", "dscp", *_neg(draw), "--dscp", _number(draw, draw(st.integers(0, 63)))]
    return ["-m", "dscp", *_neg(draw), "--dscp-class", _pick(draw, ["EF", "af41", "CS3", "BE"])]


def _tos(draw: Draw, family: Family) -> list[str]:
    value = _pick(draw, ["Minimize-Delay", "normal-service", "0x10", "8", "0x10/0x3f", "0x04/0xff"])
    return ["-m", "tos", *_neg(draw), "--tos", value]


def _devgroup(draw: Draw, family: Family) -> list[str]:
    value = f"{_u32(draw)}/{_number(draw, draw(st.integers(0, 2**32 - 2)))}"  # a full mask prints a name
    return ["-m", "devgroup", *_neg(draw), _pick(draw, ["--src-group", "--dst-group"]), value]


def _connbytes(draw: Draw, family: Family) -> list[str]:
    a, b = sorted((draw(st.integers(0, 10**6)), draw(st.integers(0, 10**6))))
    return [
        "-m", "connbytes", *_neg(draw), "--connbytes", _pick(draw, [str(a), f"{a}:{b}", f"{a}:"]),
        "--connbytes-dir", _pick(draw, ["original", "reply", "both"]),
        "--connbytes-mode", _pick(draw, ["packets", "bytes", "avgpkt"]),
    ]  # fmt: skip


def _physdev(draw: Draw, family: Family) -> list[str]:
    out = ["-m", "physdev"]
    keys = ["--physdev-in", "--physdev-out", "--physdev-is-in", "--physdev-is-out", "--physdev-is-bridged"]
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, unique=True)):
        out += [*_neg(draw), key, *([_pick(draw, ["veth0", "eth+"])] if key.count("-") == 3 else [])]
    return out


MATCHES: tuple[Gen, ...] = (
    _comment, _conntrack, _state, _mark, _limit, _recent, _statistic, _addrtype, _pkttype, _length, _hops,
    _mac, _iprange, _owner, _string, _helper, _connlimit, _dscp, _tos, _devgroup, _connbytes, _physdev,
)  # fmt: skip


def _rpfilter(draw: Draw) -> list[str]:  # raw and mangle only
    return [
        "-m",
        "rpfilter",
        *draw(
            st.lists(st.sampled_from(["--loose", "--validmark", "--accept-local", "--invert"]), unique=True)
        ),
    ]


# ---------------------------------------------------------------- targets, by table

TargetGen = Callable[[Draw, Family, str | None], list[str]]


def _log(draw: Draw, family: Family, proto: str | None) -> list[str]:
    out = ["-j", "LOG"]
    if draw(st.booleans()):
        out += ["--log-prefix", draw(st.text(alphabet="ABCdef: _'\"", min_size=1, max_size=25))]
    if draw(st.booleans()):
        out += ["--log-level", _pick(draw, ["0", "4", "7", "info", "warning", "debug", "0x3"])]
    return out + draw(
        st.lists(st.sampled_from(["--log-uid", "--log-tcp-options", "--log-ip-options"]), unique=True)
    )


def _nflog(draw: Draw, family: Family, proto: str | None) -> list[str]:
    out = ["-j", "NFLOG"] + (["--nflog-prefix", draw(_TEXT.filter(bool))] if draw(st.booleans()) else [])
    for key, top in (("--nflog-group", 65535), ("--nflog-threshold", 100), ("--nflog-size", 10**6)):
        out += [key, str(draw(st.integers(0, top)))] if draw(st.booleans()) else []
    return out


def _nfqueue(draw: Draw, family: Family, proto: str | None) -> list[str]:
    a, b = sorted((draw(st.integers(0, 65534)), draw(st.integers(0, 65534))))
    out = [
        "-j",
        "NFQUEUE",
        *draw(st.sampled_from([[], ["--queue-num", str(a)], ["--queue-balance", f"{a}:{b + 1}"]])),
    ]
    out += ["--queue-bypass"] if draw(st.booleans()) else []
    return out + (["--queue-cpu-fanout"] if "--queue-balance" in out and draw(st.booleans()) else [])


def _reject(draw: Draw, family: Family, proto: str | None) -> list[str]:
    if family == "ipv4":
        kinds = [
            "icmp-net-unreachable",
            "host-unreach",
            "icmp-port-unreachable",
            "icmp-admin-prohibited",
            "net-prohib",
        ]
    else:
        kinds = ["icmp6-no-route", "adm-prohibited", "icmp6-addr-unreachable", "port-unreach", "policy-fail"]
    kinds += ["tcp-reset", "tcp-rst"] if proto == "tcp" else []
    return ["-j", "REJECT", *(["--reject-with", _pick(draw, kinds)] if draw(st.booleans()) else [])]


def _mark_target(draw: Draw, family: Family, proto: str | None) -> list[str]:
    op = _pick(draw, ["--set-mark", "--set-xmark", "--and-mark", "--or-mark", "--xor-mark"])
    value = _u32(draw) + (
        f"/{_u32(draw)}" if op in ("--set-mark", "--set-xmark") and draw(st.booleans()) else ""
    )
    return ["-j", "MARK", op, value]


def _connmark_target(draw: Draw, family: Family, proto: str | None) -> list[str]:
    if draw(st.booleans()):
        return ["-j", "CONNMARK", "--set-mark", _number(draw, draw(st.integers(0, 2**16)))]
    masks = draw(st.sampled_from([[], ["--mask", "0xff"], ["--nfmask", "0xf0"], ["--ctmask", "0xff00"]]))
    return ["-j", "CONNMARK", _pick(draw, ["--save-mark", "--restore-mark"]), *masks]


def _mangle_extra(draw: Draw, family: Family, proto: str | None) -> list[str]:
    kind = _pick(draw, ["DSCP", "TTL" if family == "ipv4" else "HL", "CLASSIFY", "TOS"])
    if kind == "DSCP":
        if draw(st.booleans()):
            return ["-j", "DSCP", "--set-dscp", _number(draw, draw(st.integers(0, 63)))]
        return ["-j", "DSCP", "--set-dscp-class", _pick(draw, ["ef", "AF11", "cs7"])]
    if kind in ("TTL", "HL"):
        op = _pick(draw, ["set", "inc", "dec"])
        return ["-j", kind, f"--{kind.lower()}-{op}", str(draw(st.integers(0 if op == "set" else 1, 255)))]
    if kind == "CLASSIFY":
        return [
            "-j",
            "CLASSIFY",
            "--set-class",
            f"{draw(st.integers(0, 0xFFFF)):x}:{draw(st.integers(0, 0xFFFF)):x}",
        ]
    op = _pick(draw, ["--set-tos", "--and-tos", "--or-tos", "--xor-tos"])
    value = (
        _pick(draw, ["Minimize-Cost", "0x10", "0x10/0x3f"])
        if op == "--set-tos"
        else _number(draw, draw(st.integers(0, 255)))
    )
    return ["-j", "TOS", op, value]


def _tcp_target(draw: Draw, family: Family, proto: str | None) -> list[str]:
    if proto == "tcp" and draw(st.booleans()):
        return [
            "-j",
            "TCPMSS",
            *draw(
                st.sampled_from([["--clamp-mss-to-pmtu"], ["--set-mss", str(draw(st.integers(0, 65000)))]])
            ),
        ]
    if proto in ("tcp", "udp"):
        out = ["-j", "TPROXY", "--on-port", str(_port(draw))]
        out += ["--on-ip", _address(draw, family, prefix=False)] if draw(st.booleans()) else []
        return out + (["--tproxy-mark", _u32(draw)] if draw(st.booleans()) else [])
    return ["-j", "ACCEPT"]


def _notrack(draw: Draw, family: Family, proto: str | None) -> list[str]:
    if draw(st.booleans()):
        return ["-j", "NOTRACK"]
    out = ["-j", "CT", *(["--notrack"] if draw(st.booleans()) else [])]
    out += ["--zone", str(draw(st.integers(0, 65535)))] if draw(st.booleans()) else []
    return out + (
        ["--ctevents", _names(draw, ["new", "related", "destroy", "reply", "assured"]).lower()]
        if draw(st.booleans())
        else []
    )


def _nat_ports(draw: Draw, proto: str | None, sep: str = "-") -> str | None:
    if proto not in ("tcp", "udp", "sctp", "icmp") or not draw(st.booleans()):
        return None
    lo, hi = _ports(draw)
    return str(lo) if draw(st.booleans()) else f"{lo}{sep}{hi}"


def _nat(draw: Draw, family: Family, proto: str | None) -> list[str]:
    kind = _pick(draw, ["DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"])
    ports = _nat_ports(draw, proto)
    if kind == "NETMAP":
        return ["-j", "NETMAP", "--to", _address(draw, family)]
    if kind in ("MASQUERADE", "REDIRECT"):
        flags = ["--random"] + (["--random-fully"] if kind == "MASQUERADE" else [])
        out = ["-j", kind, *(["--to-ports", ports] if ports else [])]
        return out + draw(st.lists(st.sampled_from(flags), unique=True))
    address = _address(draw, family, prefix=False)
    address += f"-{_address(draw, family, prefix=False)}" if draw(st.booleans()) else ""
    if ports:
        address = f"[{address}]:{ports}" if family == "ipv6" else f"{address}:{ports}"
    flags = ["--random", "--persistent"] + (["--random-fully"] if kind == "SNAT" else [])
    option = "--to-destination" if kind == "DNAT" else "--to-source"
    return ["-j", kind, option, address, *draw(st.lists(st.sampled_from(flags), unique=True))]


def _verdict(draw: Draw, family: Family, proto: str | None) -> list[str]:  # no DROP: nat refuses it
    return draw(st.sampled_from([["-j", "ACCEPT"], ["-j", "RETURN"], ["-j", JUMP], ["-g", JUMP], []]))


def _synproxy(draw: Draw, family: Family, proto: str | None) -> list[str]:
    if proto != "tcp":
        return ["-j", "DROP"]
    out = ["-j", "SYNPROXY"]
    for key in draw(
        st.lists(st.sampled_from(["--sack-perm", "--timestamp", "--ecn", "--wscale", "--mss"]), unique=True)
    ):
        out += [
            key,
            *(
                [str(draw(st.integers(0, 14 if key == "--wscale" else 65535)))]
                if key in ("--wscale", "--mss")
                else []
            ),
        ]
    return out


def _drop(draw: Draw, family: Family, proto: str | None) -> list[str]:
    return ["-j", "DROP"]


_ANY_TABLE: tuple[TargetGen, ...] = (_verdict, _verdict, _log, _nflog, _nfqueue)
TARGETS: dict[str, tuple[TargetGen, ...]] = {
    "filter": (*_ANY_TABLE, _reject, _reject, _synproxy, _drop),
    "nat": (*_ANY_TABLE, _nat, _nat, _nat),
    "mangle": (*_ANY_TABLE, _mark_target, _connmark_target, _mangle_extra, _tcp_target),
    "raw": (*_ANY_TABLE, _notrack, _notrack),
}


@st.composite
def rule_cases(draw: Draw, family: Family) -> Case:
    table = _pick(draw, ["filter", "filter", "nat", "mangle", "raw"])
    argv: list[str] = []
    for flag in ("-s", "-d"):
        if draw(st.integers(0, 2)) == 0:
            argv += [*_neg(draw), flag, _address(draw, family)]
    for flag in ("-i", "-o"):
        if draw(st.integers(0, 3)) == 0:
            argv += [*_neg(draw), flag, _pick(draw, ["eth0", "veth+", "br-lan", "+", "eth0.100"])]
    proto, part = _protocol(draw, family)
    argv += part
    for gen in draw(st.lists(st.sampled_from(MATCHES), max_size=2)):
        argv += gen(draw, family)
    if table in ("raw", "mangle") and draw(st.integers(0, 5)) == 0:
        argv += _rpfilter(draw)
    argv += draw(st.sampled_from(TARGETS[table]))(draw, family, proto)
    return table, tuple(argv or ["-j", "ACCEPT"])  # a transaction refuses an empty rule


# ---------------------------------------------------------------- the oracle


def _clean(ipt: IPTables) -> None:
    with ipt.transaction() as tx:
        for table in TABLES:
            tx.clear_chain(table, CHAIN)
            tx.clear_chain(table, JUMP)


def _saved(ipt: IPTables, table: str) -> list[Rule]:
    ruleset = ipt.save(table=table)
    return [
        entry.rule for t in ruleset.tables if t.name == table for entry in t.rules if entry.chain == CHAIN
    ]


def _apply(ipt: IPTables, cases: list[Case]) -> None:
    try:
        with ipt.transaction() as tx:
            for table, argv in cases:
                tx.append(table, CHAIN, *argv)
    except VnetkitError:
        problems = []
        for table, argv in cases:  # find the rules the tool refuses, one by one
            try:
                ipt.append(table, CHAIN, *argv)
            except VnetkitError as exc:
                problems.append(f"{table}: {argv}: {exc}")
        pytest.fail("canonical() accepted rules the tool refuses:\n" + "\n".join(problems))


def _run_batch(ipt: IPTables, family: Family, backend: Backend, cases: list[Case]) -> None:
    expected: dict[str, list[tuple[tuple[str, ...], Rule]]] = {table: [] for table in TABLES}
    kept: list[Case] = []
    refused: list[tuple[Case, str]] = []
    for table, argv in cases:
        try:
            rules = canonical_rules(parse_rule(argv), family=family, backend=backend)
        except RuleError as refusal:
            REFUSED[str(refusal).split(":")[0]] += 1
            refused.append(((table, argv), str(refusal)))
            continue
        kept.append((table, argv))
        expected[table] += [(argv, rule) for rule in rules]
    _clean(ipt)
    _apply(ipt, kept)
    problems = []
    for table in TABLES:
        saved, want = _saved(ipt, table), expected[table]
        if len(saved) != len(want):
            problems.append(f"{table}: {len(saved)} rules saved, {len(want)} expected")
        for got, (argv, rule) in zip(saved, want, strict=False):
            if got != rule:
                problems.append(
                    f"{table} {' '.join(argv)}\n  tool:      {render_line(CHAIN, got)}"
                    f"\n  canonical: {render_line(CHAIN, rule)}"
                )
    assert not problems, f"{backend}/{family}:\n" + "\n".join(problems)
    # A rule canonical() refused must be refused by the tool too: this subset
    # holds no names to resolve, control characters or over-long strings.
    _clean(ipt)
    accepted = []
    for (table, argv), reason in refused:
        try:
            ipt.append(table, CHAIN, *argv)
        except VnetkitError:
            continue
        accepted.append(f"{table} {' '.join(argv)}\n  tool: {_saved(ipt, table)}\n  canonical(): {reason}")
        _clean(ipt)
    assert not accepted, "canonical() refused rules the tool accepts:\n" + "\n".join(accepted)


@pytest.mark.parametrize("backend", ["nft", "legacy"])
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_canonical_matches_iptables_save(netns: str, family: Family, backend: Backend) -> None:
    ipt = IPTables(family, backend=backend, netns=netns)
    REFUSED.clear()

    @settings(
        max_examples=int(os.environ.get("VNK_ORACLE_EXAMPLES", "10")),
        deadline=None,
        database=None,
        phases=[Phase.generate],  # each example runs the tool: report the first failure, do not shrink
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(rule_cases(family), min_size=40, max_size=50))
    def check(cases: list[Case]) -> None:
        _run_batch(ipt, family, backend, cases)

    check()
    print(f"{backend}/{family}: rules canonical() refused (the tool too), by reason: {dict(REFUSED)}")
    _clean(ipt)
    with ipt.transaction() as tx:
        for table in TABLES:
            tx.delete_chain(table, CHAIN)
            tx.delete_chain(table, JUMP)
    assert not any(table.rules for table in ipt.save().tables)  # cleaned up
    assert not any(chain.name in (CHAIN, JUMP) for table in ipt.save().tables for chain in table.chains)
