"""Rule matches as compiled predicates: what one rule asks of a packet, decided once per packet.

Owns: ``Ctx`` (the packet as the engine sees it at one point of its path:
addresses, ports, interfaces, marks, conntrack state, hook) and
``compile_rule``, which turns a ``Rule`` into a predicate run per packet
without re-reading the rule. A predicate answers True, False or None
(undetermined: the snapshot cannot say, e.g. a MAC address or a process
owner the packet spec does not give). Every core option and the extensions
real rulesets use are decided; an unknown extension is undetermined, never
a guess. Documented assumptions (each step that relies on one says so):
``limit`` and ``hashlimit`` are under their rate (match); ``recent``
``--set`` matches and ``--rcheck``/``--update``/``--remove`` find the
address absent (no match); ``statistic`` ``--mode random`` matches (the
packet takes the first of the alternatives) and ``--mode nth`` matches the
packet numbered 0; ``addrtype`` ``--limit-iface-*`` is ignored.
Does not own: the walk through chains (``engine``), routing (``routing``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from vnetkit.model.rule import Match, Option, Rule
from vnetkit.trace.snapshot_values import IpSet

__all__ = ["ASSUMED", "CompiledRule", "Ctx", "Pred", "compile_rule"]

Tri = bool | None
Pred = Callable[["Ctx"], Tri]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Extensions decided by an assumption (see the module docstring).
ASSUMED = frozenset({"limit", "hashlimit", "recent", "statistic"})

_PROTO_NAMES = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "ipv6-icmp": 58, "sctp": 132, "udplite": 136}


def _names(text: str) -> dict[str, tuple[int, int | None]]:
    """``name=type[/code] ...`` as a table."""
    table: dict[str, tuple[int, int | None]] = {}
    for word in text.split():
        name, _, number = word.partition("=")
        kind, _, code = number.partition("/")
        table[name] = (int(kind), int(code) if code else None)
    return table


_ICMP_NAMES = _names(
    "echo-reply=0 pong=0 destination-unreachable=3 network-unreachable=3/0 host-unreachable=3/1 "
    "protocol-unreachable=3/2 port-unreachable=3/3 fragmentation-needed=3/4 source-quench=4 redirect=5 "
    "echo-request=8 ping=8 time-exceeded=11 ttl-exceeded=11 parameter-problem=12 timestamp-request=13 "
    "timestamp-reply=14"
)
_ICMP6_NAMES = _names(
    "destination-unreachable=1 no-route=1/0 port-unreachable=1/4 packet-too-big=2 time-exceeded=3 "
    "ttl-exceeded=3 parameter-problem=4 echo-request=128 ping=128 echo-reply=129 pong=129 "
    "router-solicitation=133 router-advertisement=134 neighbour-solicitation=135 neighbor-solicitation=135 "
    "neighbour-advertisement=136 neighbor-advertisement=136"
)
_TCP_FLAG_NAMES = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}


@dataclass(slots=True)
class Ctx:
    """The packet at one point of its path; the engine changes it as NAT and marks do.

    ``state`` is the conntrack state in upper case (``NEW``...); ``hook`` and
    ``table`` where the packet is; ``iif``/``oif`` None when not (yet) known
    or not applicable; ``oif_known`` False when the output interface could
    not be decided (no routes in the snapshot). ``orig_*`` are the addresses
    and ports before any NAT (conntrack's original tuple).
    """

    proto: int
    src: IPAddress
    dst: IPAddress
    sport: int | None
    dport: int | None
    iif: str | None
    oif: str | None
    mark: int = 0
    ctmark: int = 0
    state: str = "NEW"
    hook: str = "PREROUTING"
    table: str = "raw"
    tcp_flags: frozenset[str] = frozenset()
    icmp_type: int | None = None
    icmp_code: int | None = None
    length: int = 60
    ttl: int = 64
    oif_known: bool = True
    orig_src: IPAddress | None = None
    orig_dst: IPAddress | None = None
    orig_sport: int | None = None
    orig_dport: int | None = None
    local: frozenset[IPAddress] = field(default_factory=frozenset)
    broadcast: frozenset[IPAddress] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to test: its predicates, and the reasons an undetermined answer would give.

    ``check`` is ``test`` as one function built for the number of predicates
    (the engine calls it per packet; any true value means a match).
    """

    preds: tuple[Pred, ...]
    unsure: tuple[str, ...] = ()
    assumed: tuple[str, ...] = ()
    check: Pred = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "check", _combine(self.preds))

    def test(self, ctx: Ctx) -> Tri:
        """True: matches; False: does not; None: cannot be decided from the snapshot."""
        result = self.check(ctx)
        return result if result is None else bool(result)


def _combine(preds: tuple[Pred, ...]) -> Pred:
    """One predicate: False if one is False, else None if one is None, else True."""
    if not preds:
        return _true
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        first, second = preds

        def two(ctx: Ctx) -> Tri:
            a = first(ctx)
            if a is False:
                return False
            b = second(ctx)
            if b is False:
                return False
            return None if a is None or b is None else True

        return two

    def every(ctx: Ctx) -> Tri:
        unknown = False
        for pred in preds:
            result = pred(ctx)
            if result is False:
                return False
            if result is None:
                unknown = True
        return None if unknown else True

    return every


# -- small parsers ----------------------------------------------------------------


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _neg(pred: Pred, negated: bool) -> Pred:
    if not negated:
        return pred

    def inverted(ctx: Ctx) -> Tri:
        result = pred(ctx)
        return None if result is None else not result

    return inverted


def _const(value: Tri) -> Pred:
    return lambda ctx: value


def _range(text: str, sep: str = ":") -> tuple[int, int]:
    low, found, high = text.partition(sep)
    first = int(low) if low else 0
    return first, int(high) if high else (65535 if found else first)


def _mark(text: str) -> tuple[int, int]:
    value, _, mask = text.partition("/")
    return int(value, 0), int(mask, 0) if mask else 0xFFFFFFFF


def _iface(name: str, field_name: str) -> Pred:
    if name.endswith("+"):
        prefix = name[:-1]
        return lambda ctx: (getattr(ctx, field_name) or "").startswith(prefix)
    return lambda ctx: getattr(ctx, field_name) == name


def _ports(text: str) -> list[tuple[int, int]]:
    return [_range(part) for part in text.split(",")]


def _in_ports(value: int | None, ranges: list[tuple[int, int]]) -> bool:
    return value is not None and any(low <= value <= high for low, high in ranges)


def _in_net(net: ipaddress.IPv4Network | ipaddress.IPv6Network, attr: str) -> Pred:
    if attr not in ("src", "dst"):
        return lambda ctx: getattr(ctx, attr) in net
    # As ``address in net``, on numbers: one address an equality, a network a mask.
    if net.prefixlen == net.max_prefixlen:
        address = net.network_address
        if attr == "src":
            return lambda ctx: ctx.src == address
        return lambda ctx: ctx.dst == address
    mask, network = int(net.netmask), int(net.network_address)
    if attr == "src":
        return lambda ctx: int(ctx.src) & mask == network
    return lambda ctx: int(ctx.dst) & mask == network


def _if_known(base: Pred) -> Pred:
    return lambda ctx: base(ctx) if ctx.oif_known else None


def _proto(number: int) -> Pred:
    return lambda ctx: ctx.proto == number


# -- core options ---------------------------------------------------------------


def _core(rule: Rule, family: str) -> list[Pred]:
    preds: list[Pred] = []
    for text, negated, attr in (
        (rule.source, rule.source_negated, "src"),
        (rule.destination, rule.destination_negated, "dst"),
    ):
        if text is None:
            continue
        net = _network(text)
        if net is None:  # a host name iptables-save never prints: undecidable here
            preds.append(_const(None))
            continue
        preds.append(_neg(_in_net(net, attr), negated))
    if rule.in_interface is not None:
        preds.append(_neg(_iface(rule.in_interface, "iif"), rule.in_interface_negated))
    if rule.out_interface is not None:
        base = _iface(rule.out_interface, "oif")
        preds.append(_neg(_if_known(base), rule.out_interface_negated))
    if rule.protocol is not None and rule.protocol.lower() not in ("all", "0"):
        word = rule.protocol.lower()
        number = _PROTO_NAMES.get(word, int(word) if word.isdigit() else -1)
        if family == "ipv6" and number == 1:
            number = 58
        preds.append(_neg(_proto(number), rule.protocol_negated) if number >= 0 else _const(None))
    if rule.fragment is not None:  # the engine's packets are never fragments
        preds.append(_const(not rule.fragment))
    return preds


# -- extensions -------------------------------------------------------------------

Compiler = Callable[[Option, str, Mapping[str, IpSet]], Pred | None]


def _opt_ports(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    name = option.name
    if name == "--syn":
        return lambda ctx: "syn" in ctx.tcp_flags and not ({"ack", "rst", "fin"} & ctx.tcp_flags)
    if name == "--tcp-flags" and len(option.values) == 2:
        mask = {f.lower() for f in _flag_set(option.values[0])}
        comp = {f.lower() for f in _flag_set(option.values[1])}
        return lambda ctx: (ctx.tcp_flags & mask) == comp
    ranges = _ports(option.values[0]) if option.values else []
    if name in ("--sport", "--source-port", "--sports", "--source-ports"):
        return _port_pred("sport", ranges)
    if name in ("--dport", "--destination-port", "--dports", "--destination-ports"):
        return _port_pred("dport", ranges)
    if name == "--ports":
        return lambda ctx: _in_ports(ctx.sport, ranges) or _in_ports(ctx.dport, ranges)
    return None


def _port_pred(attr: str, ranges: list[tuple[int, int]]) -> Pred:
    """The source or destination port in ``ranges``; one port or one range is compared directly."""
    if len(ranges) == 1:
        low, high = ranges[0]
        if attr == "sport":
            return lambda ctx: ctx.sport is not None and low <= ctx.sport <= high
        return lambda ctx: ctx.dport is not None and low <= ctx.dport <= high
    if attr == "sport":
        return lambda ctx: _in_ports(ctx.sport, ranges)
    return lambda ctx: _in_ports(ctx.dport, ranges)


def _flag_set(text: str) -> set[str]:
    if text.upper() == "ALL":
        return set(_TCP_FLAG_NAMES)
    if text.upper() == "NONE":
        return set()
    return {part.upper() for part in text.split(",")}


def _opt_icmp(option: Option, family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name not in ("--icmp-type", "--icmpv6-type") or not option.values:
        return None
    text = option.values[0].lower()
    names = _ICMP6_NAMES if family == "ipv6" else _ICMP_NAMES
    if text == "any":
        return lambda ctx: True
    if text in names:
        kind_n, code_n = names[text]
    else:
        kind, _, code = text.partition("/")
        if not kind.isdigit():
            return None
        kind_n, code_n = int(kind), int(code) if code else None
    return lambda ctx: ctx.icmp_type == kind_n and (code_n is None or ctx.icmp_code == code_n)


def _opt_state(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:  # noqa: PLR0911
    if option.name in ("--ctstate", "--state"):
        states = {s.upper() for s in option.values[0].split(",")}
        return lambda ctx: _state_now(ctx) in states
    if option.name in ("--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"):
        net = _network(option.values[0])
        if net is None:
            return None
        attr = {
            "--ctorigsrc": "orig_src",
            "--ctorigdst": "orig_dst",
            "--ctreplsrc": "dst",
            "--ctrepldst": "src",
        }
        inner = _in_net(net, attr[option.name])
        return lambda ctx: None if ctx.table == "raw" else inner(ctx)
    if option.name in ("--ctorigsrcport", "--ctorigdstport"):
        ranges = [_range(option.values[0])]
        a = "orig_sport" if option.name == "--ctorigsrcport" else "orig_dport"
        return lambda ctx: _in_ports(getattr(ctx, a), ranges)
    if option.name == "--ctproto":
        word = option.values[0].lower()
        number = _PROTO_NAMES.get(word, int(word) if word.isdigit() else -1)
        return lambda ctx: ctx.proto == number
    if option.name == "--ctdir":
        direction = option.values[0].upper()
        return lambda ctx: (direction == "ORIGINAL") if ctx.state == "NEW" else None
    return None


def _state_now(ctx: Ctx) -> str:
    """The state a state/conntrack match sees: conntrack has not run yet in raw (INVALID there)."""
    if ctx.state == "UNTRACKED":
        return "UNTRACKED"
    return "INVALID" if ctx.table == "raw" else ctx.state


def _opt_mark(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name != "--mark" or not option.values:
        return None
    value, mask = _mark(option.values[0])
    return lambda ctx: (ctx.mark & mask) == value


def _opt_connmark(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name != "--mark" or not option.values:
        return None
    value, mask = _mark(option.values[0])
    return lambda ctx: (ctx.ctmark & mask) == value


def _addr_type(ctx: Ctx, address: IPAddress) -> str:
    if address in ctx.local:
        return "LOCAL"
    if address in ctx.broadcast or (address.version == 4 and int(address) == 0xFFFFFFFF):
        return "BROADCAST"
    if address.is_multicast:
        return "MULTICAST"
    if address.is_unspecified:
        return "UNSPEC"
    return "UNICAST"


def _opt_addrtype(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name in ("--limit-iface-in", "--limit-iface-out"):
        return lambda ctx: True  # assumption: see the module docstring
    if option.name not in ("--src-type", "--dst-type"):
        return None
    types = {t.upper() for t in option.values[0].split(",")}
    attr = "src" if option.name == "--src-type" else "dst"
    return lambda ctx: _addr_type(ctx, getattr(ctx, attr)) in types


def _opt_iprange(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name not in ("--src-range", "--dst-range"):
        return None
    low_text, _, high_text = option.values[0].partition("-")
    low = ipaddress.ip_address(low_text)
    high = ipaddress.ip_address(high_text or low_text)
    attr = "src" if option.name == "--src-range" else "dst"
    return lambda ctx: getattr(ctx, attr).version == low.version and low <= getattr(ctx, attr) <= high


def _opt_numeric(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    name = option.name
    if name == "--length":
        low, high = _range(option.values[0])
        return lambda ctx: low <= ctx.length <= high
    ops: dict[str, Callable[[int, int], bool]] = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "lt": lambda a, b: a < b,
    }
    for prefix in ("--ttl-", "--hl-"):
        if name.startswith(prefix) and name[len(prefix) :] in ops:
            op, value = ops[name[len(prefix) :]], int(option.values[0])
            return lambda ctx: op(ctx.ttl, value)
    if name == "--pkt-type":
        kind = option.values[0].lower()
        return lambda ctx: _addr_type(ctx, ctx.dst).lower() in (kind, "local" if kind == "unicast" else "")
    return None


def _opt_set(option: Option, _family: str, sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name != "--match-set" or len(option.values) < 2:
        return None
    ipset = sets.get(option.values[0])
    if ipset is None:
        return lambda ctx: None
    directions = option.values[1].split(",")
    return lambda ctx: _set_has(ipset, directions, ctx, sets, 0)


def _set_has(ipset: IpSet, directions: list[str], ctx: Ctx, sets: Mapping[str, IpSet], depth: int) -> Tri:
    def addr(i: int) -> IPAddress:
        return ctx.src if directions[min(i, len(directions) - 1)] == "src" else ctx.dst

    def port(i: int) -> int | None:
        return ctx.sport if directions[min(i, len(directions) - 1)] == "src" else ctx.dport

    kind = ipset.type
    if kind == "list:set":
        results = [_set_has(sets[m], directions, ctx, sets, depth + 1) for m in ipset.members if m in sets]
        return True if True in results else (None if None in results or depth > 4 else False)
    if kind in ("hash:ip", "hash:net", "bitmap:ip"):
        return _net_member(ipset.members, addr(0))
    if kind in ("hash:ip,port", "hash:net,port"):
        proto = next((k for k, v in _PROTO_NAMES.items() if v == ctx.proto), str(ctx.proto))
        matched = False
        for member in ipset.members:
            words = member.split()
            ip_text, _, port_text = words[0].partition(",")
            net = _network(ip_text)
            pproto, _, pnum = port_text.rpartition(":")
            if net is None or not pnum.isdigit():
                return None
            if addr(0) in net and (pproto or "tcp") == proto and int(pnum) == port(1):
                if "nomatch" in words[1:]:
                    return False
                matched = True
        return matched
    return None


def _net_member(members: frozenset[str], address: IPAddress) -> Tri:
    best: tuple[int, bool] | None = None
    for member in members:
        words = member.split()
        net = _network(words[0])
        if net is None:
            return None
        if address in net and (best is None or net.prefixlen > best[0]):
            best = (net.prefixlen, "nomatch" not in words[1:])
    return best is not None and best[1]


def _opt_policy(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name == "--dir":
        return lambda ctx: True
    if option.name == "--pol":
        none = option.values[0] == "none"
        return lambda ctx: none  # the engine's packets are never IPsec
    return None


def _opt_owner(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    return lambda ctx: None if ctx.hook in ("OUTPUT", "POSTROUTING") else False


def _opt_physdev(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    # bridged paths are not modelled: no packet of the engine crosses a bridge port
    return lambda ctx: False


def _true(ctx: Ctx) -> Tri:
    """Matches every packet: ``compile_rule`` leaves it out of a rule's predicates."""
    return True


def _opt_true(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    return _true


def _opt_recent(option: Option, _family: str, _sets: Mapping[str, IpSet]) -> Pred | None:
    if option.name == "--set":
        return lambda ctx: True
    if option.name in ("--rcheck", "--update", "--remove"):
        return lambda ctx: False
    return lambda ctx: True  # --name, --seconds, --hitcount...: qualify the check above


_EXTENSIONS: dict[str, Compiler] = {
    "tcp": _opt_ports,
    "udp": _opt_ports,
    "sctp": _opt_ports,
    "udplite": _opt_ports,
    "multiport": _opt_ports,
    "icmp": _opt_icmp,
    "icmp6": _opt_icmp,
    "icmpv6": _opt_icmp,
    "conntrack": _opt_state,
    "state": _opt_state,
    "mark": _opt_mark,
    "connmark": _opt_connmark,
    "addrtype": _opt_addrtype,
    "iprange": _opt_iprange,
    "length": _opt_numeric,
    "ttl": _opt_numeric,
    "hl": _opt_numeric,
    "pkttype": _opt_numeric,
    "set": _opt_set,
    "policy": _opt_policy,
    "owner": _opt_owner,
    "physdev": _opt_physdev,
    "comment": _opt_true,
    "limit": _opt_true,
    "hashlimit": _opt_true,
    "statistic": _opt_true,
    "recent": _opt_recent,
}


_UNKNOWABLE = {"mac": "the packet's MAC address is not known", "owner": "the sending process is not known"}


def _match(match: Match, family: str, sets: Mapping[str, IpSet]) -> tuple[list[Pred], list[str]]:
    compiler = _EXTENSIONS.get(match.name)
    if compiler is None:
        return [_const(None)], [_UNKNOWABLE.get(match.name, f"-m {match.name} is not modelled")]
    preds: list[Pred] = []
    unsure: list[str] = []
    for option in match.options:
        try:
            pred = compiler(option, family, sets)
        except (ValueError, IndexError, KeyError):
            pred = None
        if pred is None:
            preds.append(_const(None))
            unsure.append(f"-m {match.name} {option.name} is not modelled")
            continue
        if pred is not _true or option.negated:  # a predicate always true changes no answer
            preds.append(_neg(pred, option.negated))
    if match.name in _UNKNOWABLE:
        unsure.append(_UNKNOWABLE[match.name])
    return preds, unsure


def compile_rule(rule: Rule, family: str, sets: Mapping[str, IpSet]) -> CompiledRule:
    """The predicates of ``rule`` for packets of ``family``, built once."""
    preds = _core(rule, family)
    unsure: list[str] = []
    assumed: list[str] = []
    for match in rule.matches:
        more, why = _match(match, family, sets)
        preds.extend(more)
        unsure.extend(why)
        if match.name in ASSUMED:
            assumed.append(match.name)
        if match.name == "set":
            for option in match.options:
                if option.values and option.values[0] not in sets:
                    unsure.append(f"ipset {option.values[0]!r} is not in the snapshot")
    if rule.out_interface is not None:
        unsure.append(f"the output interface is not known (-o {rule.out_interface})")
    return CompiledRule(tuple(preds), tuple(unsure), tuple(assumed))
