"""Name tables compiled into iptables 1.8.9 and its extensions, in the tools' own order.

Owns: protocol names built into libxtables, ICMP and ICMPv6 type names,
REJECT types, log levels, conntrack states and statuses, address types,
packet types, DSCP classes, TOS names, Mobility Header types, CT events.
Order matters where the tool resolves abbreviations by the first match
(REJECT, MH) or prints flags in table order. Nothing here comes from /etc.
"""

from __future__ import annotations

# -p: the names libxtables knows without /etc/protocols, and how -p prints each number.
PROTOCOL_INPUT = {
    "tcp": 6,
    "udp": 17,
    "udplite": 136,
    "icmp": 1,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "esp": 50,
    "ah": 51,
    "sctp": 132,
    "mh": 135,
    "ipv6-mh": 135,
    "mobility-header": 135,
    "all": 0,
}
PROTOCOL_PRINTED = {
    6: "tcp",
    17: "udp",
    136: "udplite",
    1: "icmp",
    58: "ipv6-icmp",
    50: "esp",
    51: "ah",
    132: "sctp",
    135: "mobility-header",
}
# IANA has not assigned these numbers (as of 2024): no protocols file names them,
# so iptables-save prints the number whatever the host's /etc/protocols says.
UNNAMED_PROTOCOLS = frozenset(range(147, 253))

# (name, type, code_min, code_max) in libxt_icmp's order; prefixes must be unique.
ICMP_TYPES: tuple[tuple[str, int, int, int], ...] = (
    ("any", 255, 0, 255),
    ("echo-reply", 0, 0, 255),
    ("pong", 0, 0, 255),
    ("destination-unreachable", 3, 0, 255),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 255),
    ("redirect", 5, 0, 255),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 255),
    ("ping", 8, 0, 255),
    ("router-advertisement", 9, 0, 255),
    ("router-solicitation", 10, 0, 255),
    ("time-exceeded", 11, 0, 255),
    ("ttl-exceeded", 11, 0, 255),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 255),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 255),
    ("timestamp-reply", 14, 0, 255),
    ("address-mask-request", 17, 0, 255),
    ("address-mask-reply", 18, 0, 255),
)
ICMPV6_TYPES: tuple[tuple[str, int, int, int], ...] = (
    ("destination-unreachable", 1, 0, 255),
    ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3),
    ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5),
    ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 255),
    ("time-exceeded", 3, 0, 255),
    ("ttl-exceeded", 3, 0, 255),
    ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1),
    ("parameter-problem", 4, 0, 255),
    ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2),
    ("echo-request", 128, 0, 255),
    ("ping", 128, 0, 255),
    ("echo-reply", 129, 0, 255),
    ("pong", 129, 0, 255),
    ("router-solicitation", 133, 0, 255),
    ("router-advertisement", 134, 0, 255),
    ("neighbour-solicitation", 135, 0, 255),
    ("neighbor-solicitation", 135, 0, 255),
    ("neighbour-advertisement", 136, 0, 255),
    ("neighbor-advertisement", 136, 0, 255),
    ("redirect", 137, 0, 255),
)

# REJECT --reject-with: (printed name, alias) in the tool's order; the first
# entry whose name or alias starts with the (case-insensitive) input wins.
REJECT_IPV4 = (
    ("icmp-net-unreachable", "net-unreach"),
    ("icmp-host-unreachable", "host-unreach"),
    ("icmp-proto-unreachable", "proto-unreach"),
    ("icmp-port-unreachable", "port-unreach"),
    ("icmp-net-prohibited", "net-prohib"),
    ("icmp-host-prohibited", "host-prohib"),
    ("tcp-reset", "tcp-rst"),
    ("icmp-admin-prohibited", "admin-prohib"),
)
REJECT_IPV6 = (
    ("icmp6-no-route", "no-route"),
    ("icmp6-adm-prohibited", "adm-prohibited"),
    ("icmp6-addr-unreachable", "addr-unreach"),
    ("icmp6-port-unreachable", "port-unreach"),
    ("tcp-reset", "tcp-reset"),
    ("icmp6-policy-fail", "policy-fail"),
    ("icmp6-reject-route", "reject-route"),
)

LOG_LEVELS = {
    "alert": 1,
    "crit": 2,
    "debug": 7,
    "emerg": 0,
    "error": 3,
    "info": 6,
    "notice": 5,
    "panic": 0,
    "warning": 4,
}

# conntrack --ctstate / state --state, in the order iptables prints them.
CT_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT")
STATE_STATES = ("INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED")
CT_STATUSES = ("EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED")

ADDRTYPES = (
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
)
# The kernel refuses these for IPv6.
ADDRTYPES_NOT_IPV6 = frozenset({"BROADCAST", "BLACKHOLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"})

PKTTYPES = {"unicast": "unicast", "host": "unicast", "broadcast": "broadcast", "multicast": "multicast"}
PKTTYPES["otherhost"] = "otherhost"

DSCP_CLASSES = {
    **{f"CS{n}": 8 * n for n in range(8)},
    **{f"AF{x}{y}": 8 * x + 2 * y for x in range(1, 5) for y in range(1, 4)},
    "EF": 46,
    "BE": 0,
}

TOS_NAMES = {
    "minimize-delay": 0x10,
    "maximize-throughput": 0x08,
    "maximize-reliability": 0x04,
    "minimize-cost": 0x02,
    "normal-service": 0x00,
}

MH_TYPES = (
    ("binding-refresh-request", 0),
    ("brr", 0),
    ("home-test-init", 1),
    ("hoti", 1),
    ("careof-test-init", 2),
    ("coti", 2),
    ("home-test", 3),
    ("hot", 3),
    ("careof-test", 4),
    ("cot", 4),
    ("binding-update", 5),
    ("bu", 5),
    ("binding-acknowledgement", 6),
    ("ba", 6),
    ("binding-error", 7),
    ("be", 7),
)

CT_EVENTS = (
    "new",
    "related",
    "destroy",
    "reply",
    "assured",
    "protoinfo",
    "helper",
    "mark",
    "natseqinfo",
    "secmark",
)
EXP_EVENTS = ("new",)
