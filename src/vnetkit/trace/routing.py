"""The routing decision of a snapshot: which policy rule, which table, which route a packet takes.

Owns: ``decide`` (policy rules by priority, with their selectors: source,
destination, input and output interface, fwmark/mask, ``not``; then the
longest prefix of the table, the lowest metric among equals) and
``Decision``. When the snapshot has no policy rules of the family, the
kernel's defaults are used (0: local, 32766: main, 32767: default). When
it has no ``local`` table routes (an offline snapshot read from ``ip -j
route`` without ``table all``), every interface address counts as local.
Pure. Does not own: the snapshot (``snapshot``) or the hooks (``engine``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from vnetkit.model.routes import Route
from vnetkit.trace.snapshot import Snapshot
from vnetkit.trace.snapshot_values import PolicyRule

__all__ = ["Decision", "Router", "decide"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL, MAIN, DEFAULT = 255, 254, 253
_DEFAULT_RULES = ((0, LOCAL), (32766, MAIN), (32767, DEFAULT))


@dataclass(frozen=True, slots=True)
class Decision:
    """Where the routing decision sends a packet.

    ``kind``: ``local`` (to this host), ``unicast`` (out of ``dev``, via
    ``gateway`` when set), ``blackhole``/``unreachable``/``prohibit`` (a
    route of that type), ``none`` (no route), ``unknown`` (the snapshot has
    no routes: the output interface cannot be told). ``rule`` is the policy
    rule's priority, ``table`` the table looked up, ``route`` the chosen one.
    """

    kind: str
    dev: str | None = None
    gateway: IPAddress | None = None
    table: int | None = None
    rule: int | None = None
    route: Route | None = None

    def describe(self) -> str:
        """One line: ``10.0.0.0/24 dev eth0 table main (rule 32766)``."""
        if self.kind == "unknown":
            return "no routes in the snapshot: output interface unknown"
        if self.kind == "none":
            return "no route (network unreachable)"
        table = {LOCAL: "local", MAIN: "main", DEFAULT: "default"}.get(self.table or 0, str(self.table))
        where = str(self.route.dst) if self.route is not None else "(an address of this host)"
        via = f" via {self.gateway}" if self.gateway is not None else ""
        dev = f" dev {self.dev}" if self.dev else ""
        return f"{self.kind} {where}{via}{dev} table {table} (rule {self.rule})"


_Entry = tuple[int, int, Route]  # (mask, network) as numbers, the route


class Router:
    """The routing decisions of one snapshot, its tables and policy rules indexed once.

    Each table's routes of a family are kept longest prefix first, lowest
    metric next, the kernel's order among equals; a lookup takes the first
    whose network holds the destination, comparing numbers.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.tables: dict[int, list[Route]] = {}
        for route in snapshot.routes:
            self.tables.setdefault(route.table, []).append(route)
        self.local = frozenset(address.ip for address in snapshot.local_addresses())
        self.broadcast = frozenset(
            route.dst.network_address for route in self.tables.get(LOCAL, ()) if route.type == "broadcast"
        )
        self.owner = {address.ip: i.name for i in snapshot.interfaces for address in i.addresses}
        self._sorted: dict[tuple[int, int], tuple[_Entry, ...]] = {}
        for table, routes in self.tables.items():
            for version in (4, 6):
                mine = sorted(
                    (r for r in routes if r.dst.version == version),
                    key=lambda r: (-r.dst.prefixlen, r.metric or 0),
                )
                self._sorted[(table, version)] = tuple(
                    (int(r.dst.netmask), int(r.dst.network_address), r) for r in mine
                )
        self._rules = {family: self._policy_rules(family) for family in ("ipv4", "ipv6")}
        self._decisions: dict[tuple[int, int, int, int], Decision] = {}

    def rules(self, family: str) -> list[PolicyRule]:
        """The policy rules of ``family`` by priority (the kernel's defaults when the snapshot has none)."""
        return [rule for rule, _ in self._rules[family]]

    def _policy_rules(self, family: str) -> list[tuple[PolicyRule, bool]]:
        found = sorted((r for r in self.snapshot.rules if r.family == family), key=lambda r: r.priority)
        if not found:
            found = [PolicyRule(family=family, priority=p, table=t) for p, t in _DEFAULT_RULES]  # type: ignore[arg-type]
        return [(rule, _selects_all(rule)) for rule in found]

    def decide(
        self, dst: IPAddress, *, src: IPAddress | None = None, mark: int = 0, iif: str | None = None
    ) -> Decision:
        """The route a packet to ``dst`` takes (``iif`` None: generated locally)."""
        if not self.snapshot.routes:
            if dst in self.local:
                return Decision("local", dev=self.owner.get(dst), table=LOCAL, rule=0)
            return Decision("unknown")
        for rule, every in self._rules["ipv6" if dst.version == 6 else "ipv4"]:
            if not every and not _selects(rule, dst, src, mark, iif):
                continue
            if rule.action != "to_tbl":
                if rule.action in ("unreachable", "prohibit", "blackhole"):
                    return Decision(rule.action, rule=rule.priority)
                continue  # goto and nop: not followed, the next rule decides
            decision = self._lookup(rule.table, dst, rule.priority)
            if decision is not None:
                return decision
        return Decision("none")

    def _lookup(self, table: int, dst: IPAddress, priority: int) -> Decision | None:
        if table == LOCAL and LOCAL not in self.tables and dst in self.local:
            return Decision("local", dev=self.owner.get(dst), table=LOCAL, rule=priority)
        number = int(dst)
        for k, (mask, network, route) in enumerate(self._sorted.get((table, dst.version), ())):
            if number & mask == network:
                key = (table, dst.version, k, priority)
                decision = self._decisions.get(key)
                if decision is None:
                    decision = self._decisions[key] = _decision(route, table, priority)
                return decision
        return None


def _decision(best: Route, table: int, priority: int) -> Decision:
    kind = best.type
    if kind in ("local", "broadcast", "anycast"):
        kind = "local"
    elif kind not in ("blackhole", "unreachable", "prohibit"):
        kind = "unicast"
    return Decision(kind, dev=best.dev, gateway=best.gateway, table=table, rule=priority, route=best)


def _selects_all(rule: PolicyRule) -> bool:
    """True when ``rule`` selects every packet (no selector, not inverted)."""
    return (
        not rule.extra
        and not rule.invert
        and rule.src is None
        and rule.dst is None
        and rule.iif is None
        and rule.fwmark is None
    )


def _selects(rule: PolicyRule, dst: IPAddress, src: IPAddress | None, mark: int, iif: str | None) -> bool:
    if rule.extra:
        return False  # selectors not modelled (tos, ipproto, uidrange...): taken as not selecting
    hit = True
    if rule.src is not None and (src is None or src.version != rule.src.version or src not in rule.src):
        hit = False
    if rule.dst is not None and (dst.version != rule.dst.version or dst not in rule.dst):
        hit = False
    if rule.iif is not None and (rule.iif != (iif or "lo")):
        hit = False
    if rule.fwmark is not None and (mark & (rule.fwmask or 0xFFFFFFFF)) != rule.fwmark:
        hit = False
    return hit != rule.invert


def decide(snapshot: Snapshot, dst: IPAddress, *, src: IPAddress | None = None, mark: int = 0,
           iif: str | None = None) -> Decision:  # fmt: skip
    """The routing decision for one packet (builds a ``Router``; reuse one for many packets)."""
    return Router(snapshot).decide(dst, src=src, mark=mark, iif=iif)
