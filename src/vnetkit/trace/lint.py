"""Lint a ruleset: rules that can never match, chains nothing reaches, jumps to missing chains.

Owns: :func:`lint` and its :class:`Finding`, and the conservative "rule A
covers rule B" test it decides shadowing with. Three kinds of finding:

- ``missing-target``: a rule jumps or goes to a name that is neither a chain
  its table declares nor a target extension vnetkit knows
  (``vnetkit.iptables.canonical``'s registry);
- ``unreferenced``: a user chain no rule of another chain of its table jumps
  or goes to;
- ``shadowed``: a rule every packet of which an earlier rule of the same
  chain matches first and stops the chain for (ACCEPT, DROP, REJECT, RETURN,
  QUEUE, or a goto, after which the chain is never resumed).

Shadowing is only reported when provable from what both rules say: the
protocol, addresses, interfaces (with ``+`` wildcards), tcp/udp/multiport
ports and conntrack/state sets. Any other match of the earlier rule (or a
value this module cannot read, such as a service name) makes it "unsure",
and an unsure pair is never reported. Pure: no I/O; does not own reading the
dump (``vnetkit.iptables.savefile.parse_save``) or the CLI.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import product
from typing import Generic, Literal, TypeVar

from vnetkit.iptables.canonical._registry import MATCHES, TARGETS
from vnetkit.iptables.rules import render_line
from vnetkit.model import Option, Rule, Ruleset, Table

__all__ = ["Finding", "FindingKind", "lint"]

FindingKind = Literal["shadowed", "unreferenced", "missing-target"]

# Verdicts after which the chain is not traversed any further for the packet.
_TERMINAL = frozenset({"ACCEPT", "DROP", "REJECT", "RETURN", "QUEUE"})

# Protocol names as iptables accepts them, by number; other names compare as text.
_PROTOCOLS = {
    "icmp": 1,
    "tcp": 6,
    "udp": 17,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "icmpv6": 58,
    "ipv6-icmp": 58,
    "dccp": 33,
    "sctp": 132,
    "udplite": 136,
}

# How a port or state option of an understood match is compared: (match, printed option) -> dimension.
_DIMENSIONS = {
    ("tcp", "--sport"): "sport",
    ("tcp", "--dport"): "dport",
    ("udp", "--sport"): "sport",
    ("udp", "--dport"): "dport",
    ("multiport", "--sports"): "sport",
    ("multiport", "--dports"): "dport",
    ("multiport", "--ports"): "ports",
    ("conntrack", "--ctstate"): "state",
    ("state", "--state"): "state",
}
_UNDERSTOOD = frozenset({"tcp", "udp", "multiport", "conntrack", "state", "comment"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint finding.

    ``position`` counts rules of ``chain`` from 1 as ``iptables -L
    --line-numbers`` does; 0 (and ``rule`` empty) for a finding about the
    whole chain. ``rule`` is the rule's save line (``-A CHAIN ...``). ``by``
    is, for ``shadowed``, the position and save line of the earlier rule.
    """

    kind: FindingKind
    table: str
    chain: str
    position: int
    rule: str
    by: tuple[int, str] | None
    message: str

    def to_json(self) -> dict[str, object]:
        """The finding as JSON-ready values."""
        return {
            "kind": self.kind,
            "table": self.table,
            "chain": self.chain,
            "position": self.position,
            "rule": self.rule,
            "by": None if self.by is None else {"position": self.by[0], "rule": self.by[1]},
            "message": self.message,
        }


def lint(ruleset: Ruleset) -> list[Finding]:
    """Every finding of ``ruleset``: per table, per chain in dump order, chain findings first."""
    findings: list[Finding] = []
    for table in ruleset.tables:
        findings.extend(_lint_table(table))
    return findings


def _chain_order(table: Table) -> list[str]:
    """Declared chains in order, then any chain that only has rules (a hand-written file)."""
    names = [chain.name for chain in table.chains]
    seen = set(names)
    for entry in table.rules:
        if entry.chain not in seen:
            seen.add(entry.chain)
            names.append(entry.chain)
    return names


def _lint_table(table: Table) -> Iterator[Finding]:
    declared = {chain.name for chain in table.chains}
    referenced = {
        entry.rule.target.name
        for entry in table.rules
        if entry.rule.target is not None and entry.rule.target.name != entry.chain
    }
    for name in _chain_order(table):
        chain = table.chain(name)
        if chain is not None and chain.policy is None and name not in referenced:
            yield Finding(
                kind="unreferenced",
                table=table.name,
                chain=name,
                position=0,
                rule="",
                by=None,
                message=f"user chain {name} of table {table.name}: no rule of another chain"
                " jumps or goes to it",
            )
        rules = table.rules_of(name)
        yield from _lint_chain(table.name, name, rules, declared)


def _lint_chain(table: str, chain: str, rules: list[Rule], declared: set[str]) -> Iterator[Finding]:
    stoppers = _Stoppers()  # earlier rules that stop the chain, provably read
    for position, rule in enumerate(rules, start=1):
        text = render_line(chain, rule)
        target = rule.target
        if target is not None and target.name not in declared and target.name not in TARGETS:
            verb = "goes" if target.goto else "jumps"
            yield Finding(
                kind="missing-target",
                table=table,
                chain=chain,
                position=position,
                rule=text,
                by=None,
                message=f"rule {position} of {table}/{chain} {verb} to {target.name}, which is"
                f" neither a chain of table {table} nor a known target extension",
            )
        profile = _profile(rule)
        for earlier, earlier_text, cover in stoppers.candidates(profile):
            if _covers(cover, profile):
                verdict = "goes to" if cover.goto else "ends the chain with"
                yield Finding(
                    kind="shadowed",
                    table=table,
                    chain=chain,
                    position=position,
                    rule=text,
                    by=(earlier, earlier_text),
                    message=f"rule {position} of {table}/{chain} can never match: rule {earlier} matches"
                    f" every packet it does and {verdict} {cover.target}",
                )
                break
        stops = target is not None and (
            (target.goto and target.name in declared) or (not target.goto and target.name in _TERMINAL)
        )
        if target is not None and stops and not profile.unsure:
            stoppers.add(position, text, profile)


_Key = tuple[object, object, object]


class _Stoppers:
    """The earlier rules that stop the chain, indexed so a long chain is not compared pair by pair.

    A rule that pins the protocol, or an exact source or destination host,
    can only cover a rule that pins the same: it is filed under those values
    (None for a criterion it leaves open) and looked up only by rules that
    could match its key.
    """

    def __init__(self) -> None:
        self._buckets: dict[_Key, list[tuple[int, str, _Profile]]] = {}

    @staticmethod
    def _pins(prof: _Profile) -> tuple[object, object, object]:
        out: list[object] = []
        if prof.protocol is not None and not prof.protocol.negated:
            out.append(prof.protocol.value)
        else:
            out.append(None)
        for item in (prof.source, prof.destination):
            net = item.value if item is not None and not item.negated else None
            exact = net is not None and net.prefixlen == net.max_prefixlen
            out.append(net if exact else None)
        return out[0], out[1], out[2]

    def add(self, position: int, text: str, prof: _Profile) -> None:
        self._buckets.setdefault(self._pins(prof), []).append((position, text, prof))

    def candidates(self, prof: _Profile) -> Iterator[tuple[int, str, _Profile]]:
        """The rules that might cover ``prof``, in chain order."""
        proto, src, dst = self._pins(prof)
        lists = [
            bucket
            for key in product({None, proto}, {None, src}, {None, dst})
            if (bucket := self._buckets.get(key))
        ]
        if len(lists) == 1:
            return iter(lists[0])
        return heapq.merge(*lists, key=lambda item: item[0])


# --- what a rule matches, as far as this module reads it ------------------------------------------

_V = TypeVar("_V")
_Net = ipaddress.IPv4Network | ipaddress.IPv6Network
_Ports = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class _Field(Generic[_V]):
    """One criterion: the set ``value`` stands for, or its complement when ``negated``.

    ``value`` None is a criterion this module cannot read.
    """

    value: _V | None
    negated: bool


@dataclass(frozen=True, slots=True)
class _Cond:
    """A port or conntrack-state criterion: ``dim`` is sport, dport, ports (either) or state."""

    dim: str
    ports: _Ports | None = None
    states: frozenset[str] | None = None
    negated: bool = False


@dataclass(slots=True)
class _Profile:
    """What a rule matches. ``unsure``: it has a criterion this module does not read."""

    protocol: _Field[int | str] | None = None
    source: _Field[_Net] | None = None
    destination: _Field[_Net] | None = None
    in_interface: _Field[str] | None = None
    out_interface: _Field[str] | None = None
    fragment: bool | None = None
    conds: list[_Cond] = field(default_factory=list)
    unsure: bool = False
    target: str = ""
    goto: bool = False


def _protocol(text: str) -> int | str | None:
    """The protocol's number when known, its lower-case name else; None for "all"/0 (any)."""
    name = text.lower()
    number = int(name) if name.isdecimal() else _PROTOCOLS.get(name)
    if number == 0 or name == "all":
        return None
    return number if number is not None else name


def _network(text: str) -> _Net | None:
    """``10.0.0.0/8`` or an address; None for a name or a dotted mask (maybe not contiguous)."""
    if not text.partition("/")[2].isdecimal() and "/" in text:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _ports(text: str) -> _Ports | None:
    """``80``, ``1000:2000``, ``:1024``, ``1024:`` or a multiport list of them; None for names."""
    out: list[tuple[int, int]] = []
    for part in text.split(","):
        low, sep, high = part.partition(":")
        low = low or ("0" if sep else "")
        high = (high or "65535") if sep else low
        if not (low.isdecimal() and high.isdecimal()) or int(low) > int(high) or int(high) > 65535:
            return None
        out.append((int(low), int(high)))
    return tuple(out)


def _cond(match: str, option: Option) -> _Cond | None:
    """The criterion ``option`` of ``match`` states, or None when this module cannot read it."""
    spec = MATCHES.get(match)
    if spec is None or "=" in option.name or len(option.values) != 1:
        return None
    dim = _DIMENSIONS.get((match, spec.spellings.get(option.name, option.name)))
    if dim is None:
        return None
    value = option.values[0]
    if dim == "state":
        return _Cond(dim, states=frozenset(value.upper().split(",")), negated=option.negated)
    ports = _ports(value)
    return None if ports is None else _Cond(dim, ports=ports, negated=option.negated)


def _read_matches(rule: Rule, prof: _Profile) -> None:
    """The port and state criteria of ``rule``'s matches; anything else makes ``prof`` unsure."""
    for match in rule.matches:
        if match.name not in _UNDERSTOOD:
            prof.unsure = True
        elif match.name != "comment":
            for option in match.options:
                cond = _cond(match.name, option)
                if cond is None:
                    prof.unsure = True
                else:
                    prof.conds.append(cond)


def _profile(rule: Rule) -> _Profile:
    prof = _Profile(fragment=rule.fragment)
    if rule.target is not None:
        prof.target, prof.goto = rule.target.name, rule.target.goto
    if rule.protocol is not None:
        number = _protocol(rule.protocol)
        if number is not None or rule.protocol_negated:  # "-p all" is no criterion; "! -p all" unread
            prof.protocol = _Field(number, rule.protocol_negated)
    for attr, text, negated in (
        ("source", rule.source, rule.source_negated),
        ("destination", rule.destination, rule.destination_negated),
    ):
        if text is not None:
            setattr(prof, attr, _Field(_network(text), negated))
    if rule.in_interface is not None:
        prof.in_interface = _Field(rule.in_interface, rule.in_interface_negated)
    if rule.out_interface is not None:
        prof.out_interface = _Field(rule.out_interface, rule.out_interface_negated)
    _read_matches(rule, prof)
    fields = (prof.protocol, prof.source, prof.destination, prof.in_interface, prof.out_interface)
    if any(item is not None and item.value is None for item in fields):
        prof.unsure = True
    ports = any(cond.ports is not None for cond in prof.conds)
    if ports and (prof.protocol is None or prof.protocol.negated):
        prof.unsure = True  # ports without a protocol: not a rule iptables loads
    return prof


# --- "every packet B matches, A matches": each of A's criteria follows from B's ----------------------


def _implied(
    a: _Field[_V] | None,
    b: _Field[_V] | None,
    subset: Callable[[_V, _V], bool],
    disjoint: Callable[[_V, _V], bool],
    full: Callable[[_V], bool],
) -> bool:
    """Whether B's criterion (None: any packet) implies A's; ``subset(x, y)`` is "x's set within y's"."""
    if a is None:
        return True
    if a.value is None:
        return False
    if b is None or b.value is None:
        return not a.negated and full(a.value)
    if not a.negated and not b.negated:
        return subset(b.value, a.value)
    if a.negated:
        return subset(a.value, b.value) if b.negated else disjoint(a.value, b.value)
    return full(a.value)


def _never(*_: object) -> bool:
    return False


def _same(x: object, y: object) -> bool:
    return x == y


def _other_protocol(x: int | str, y: int | str) -> bool:
    return isinstance(x, int) and isinstance(y, int) and x != y


def _net_subset(x: _Net, y: _Net) -> bool:
    return x.version == y.version and x.subnet_of(y)  # type: ignore[arg-type]


def _net_disjoint(x: _Net, y: _Net) -> bool:
    return x.version == y.version and not x.overlaps(y)


def _net_full(x: _Net) -> bool:
    return x.prefixlen == 0


def _if_subset(x: str, y: str) -> bool:
    """Every name ``x`` matches, ``y`` matches (``eth+`` is every name starting ``eth``)."""
    if y.endswith("+"):
        return x.removesuffix("+").startswith(y[:-1])
    return x == y


def _if_disjoint(x: str, y: str) -> bool:
    bx, by = x.removesuffix("+"), y.removesuffix("+")
    wx, wy = x.endswith("+"), y.endswith("+")
    if wx and wy:
        return not (bx.startswith(by) or by.startswith(bx))
    if wx:
        return not y.startswith(bx)
    if wy:
        return not x.startswith(by)
    return x != y


def _if_full(x: str) -> bool:
    return x == "+"


def _port_subset(x: _Ports, y: _Ports) -> bool:
    return all(any(lo <= xl and xh <= hi for lo, hi in _merged(y)) for xl, xh in x)


def _port_disjoint(x: _Ports, y: _Ports) -> bool:
    return all(xh < yl or yh < xl for xl, xh in x for yl, yh in y)


def _merged(ports: _Ports) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for low, high in sorted(ports):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], high))
        else:
            out.append((low, high))
    return out


def _cond_implied(a: _Cond, conds: list[_Cond]) -> bool:
    """Whether one of B's port/state criteria implies A's (B's criteria all hold at once)."""
    for b in conds:
        if a.states is not None and b.states is not None:
            if _implied(
                _Field(a.states, a.negated), _Field(b.states, b.negated), _set_subset, _set_disjoint, _never
            ):
                return True
            continue
        if a.ports is None or b.ports is None:
            continue
        if a.dim == b.dim:
            # "ports" negated is "neither port in the set": a positive B on either port does not imply it
            disjoint = _never if a.dim == "ports" else _port_disjoint
            if _implied(
                _Field(a.ports, a.negated), _Field(b.ports, b.negated), _port_subset, disjoint, _never
            ):
                return True
        elif a.dim == "ports" and not a.negated and not b.negated and _port_subset(b.ports, a.ports):
            return True  # B pins the source or destination port within A's either-port set
    return False


def _set_subset(x: frozenset[str], y: frozenset[str]) -> bool:
    return x <= y


def _set_disjoint(x: frozenset[str], y: frozenset[str]) -> bool:
    return not x & y


def _covers(a: _Profile, b: _Profile) -> bool:
    """Provably, every packet ``b`` matches ``a`` matches too (False when unsure)."""
    if a.unsure or (a.fragment is not None and a.fragment != b.fragment):
        return False
    return (
        _implied(a.protocol, b.protocol, _same, _other_protocol, _never)
        and _implied(a.source, b.source, _net_subset, _net_disjoint, _net_full)
        and _implied(a.destination, b.destination, _net_subset, _net_disjoint, _net_full)
        and _implied(a.in_interface, b.in_interface, _if_subset, _if_disjoint, _if_full)
        and _implied(a.out_interface, b.out_interface, _if_subset, _if_disjoint, _if_full)
        and all(_cond_implied(cond, b.conds) for cond in a.conds)
    )
