"""The trace engine: a packet's path through netfilter and routing, as a pure function of a snapshot.

Owns: ``Engine`` (a snapshot's chains compiled once into predicates, its
routing tables indexed once) and ``Engine.simulate`` / ``simulate``: the
hooks in the order of NETFILTER.md (PREROUTING -> routing -> INPUT or
FORWARD -> POSTROUTING; OUTPUT -> POSTROUTING for local packets, then
PREROUTING and INPUT without nat when the destination is local), the
tables of each hook by priority (raw, mangle, nat, filter, security),
jumps, gotos, RETURN and policies, ACCEPT ending only the current table,
DROP and REJECT final, conntrack state (INVALID as seen in raw,
UNTRACKED after ``CT --notrack``), NAT only on a connection's first packet
(DNAT, REDIRECT, SNAT, MASQUERADE, NETMAP) with re-routing after DNAT and
after a mangle OUTPUT change, MARK/CONNMARK and routing by mark. A rule the
snapshot cannot decide (see ``matches``), a queue or a target not modelled
makes the answer undetermined there, with both continuations computed.
Assumptions: forwarding is on unless the snapshot's sysctl says 0;
rp_filter and bridged paths are not modelled; for a packet that is not
NEW, NAT follows a conntrack entry the snapshot does not hold, so its
addresses are left as given. Does not own: the matches (``matches``),
routing (``routing``), the answer's shape (``answer``) or its text (``render``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from vnetkit.errors import ConfigError
from vnetkit.iptables.rules import render_line
from vnetkit.model.rule import Rule, Target
from vnetkit.model.ruleset import Ruleset
from vnetkit.trace.answer import Answer, Hit, Step
from vnetkit.trace.matches import CompiledRule, Ctx, compile_rule
from vnetkit.trace.packet import Packet
from vnetkit.trace.routing import Decision, Router
from vnetkit.trace.snapshot import Snapshot

__all__ = ["HOOK_TABLES", "Engine", "simulate"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: The tables of each hook, in priority order (NETFILTER.md).
HOOK_TABLES = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "security", "nat"),
    "FORWARD": ("mangle", "filter", "security"),
    "OUTPUT": ("raw", "mangle", "nat", "filter", "security"),
    "POSTROUTING": ("mangle", "nat"),
}
_NAT_TARGETS = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
_PASSIVE = frozenset(
    {"LOG", "NFLOG", "ULOG", "TRACE", "TCPMSS", "TOS", "DSCP", "TTL", "HL", "CHECKSUM", "CLASSIFY",
     "SET", "AUDIT", "SECMARK", "CONNSECMARK", "IDLETIMER", "LED", "RATEEST", "TEE", "NOTRACK", "CT",
     "MARK", "CONNMARK"}
)  # fmt: skip
_MAX_FORKS = 6


@dataclass(frozen=True, slots=True)
class _Rule:
    compiled: CompiledRule
    rule: Rule
    position: int
    text: str


@dataclass(frozen=True, slots=True)
class _Chain:
    """A chain's rules, and for a long chain an index by exact destination (``-d A/32``, not negated).

    ``keyed`` maps a destination to the positions (0-based) of the rules that
    need it; ``always`` holds the other positions. A walk that does not list
    misses visits only ``always`` and the rules keyed by the packet's
    destination, in order: the rules it skips cannot match.
    """

    rules: tuple[_Rule, ...]
    policy: str | None
    keyed: dict[IPAddress, tuple[int, ...]] | None = None
    always: tuple[int, ...] = ()

    def order(self, dst: IPAddress) -> Sequence[int]:
        """The positions of the rules that may match a packet to ``dst``, in order."""
        if self.keyed is None:
            return range(len(self.rules))
        keyed = self.keyed.get(dst)
        return sorted(self.always + keyed) if keyed else self.always


_INDEX_FROM = 32  # keyed rules a chain needs before it is worth an index


def _chain(rules: list[_Rule], policy: str | None) -> _Chain:
    keyed: dict[IPAddress, list[int]] = {}
    always: list[int] = []
    for i, entry in enumerate(rules):
        rule = entry.rule
        net = _exact(rule.destination) if not rule.destination_negated else None
        if net is None:
            always.append(i)
        else:
            keyed.setdefault(net, []).append(i)
    if sum(len(v) for v in keyed.values()) < _INDEX_FROM:
        return _Chain(tuple(rules), policy)
    return _Chain(tuple(rules), policy, {k: tuple(v) for k, v in keyed.items()}, tuple(always))


def _exact(text: str | None) -> IPAddress | None:
    if text is None:
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return net.network_address if net.prefixlen == net.max_prefixlen else None


_Tables = dict[str, dict[str, _Chain]]


def _compile(ruleset: Ruleset | None, family: str, snapshot: Snapshot) -> _Tables:
    tables: _Tables = {}
    if ruleset is None:
        return tables
    for table in ruleset.tables:
        chains: dict[str, list[_Rule]] = {chain.name: [] for chain in table.chains}
        for entry in table.rules:
            rules = chains.setdefault(entry.chain, [])
            text = entry.source or render_line(entry.chain, entry.rule)
            compiled = compile_rule(entry.rule, family, snapshot.ipsets)
            rules.append(_Rule(compiled, entry.rule, len(rules) + 1, text))
        policies = {chain.name: chain.policy for chain in table.chains}
        tables[table.name] = {name: _chain(rules, policies.get(name)) for name, rules in chains.items()}
    return tables


class _Fork(Exception):  # control flow inside the walk, never leaves this module
    def __init__(self, key: tuple[object, ...], step: Step, labels: tuple[str, str]) -> None:
        super().__init__(step.text)
        self.key, self.step, self.labels = key, step, labels


class _End(Exception):  # control flow inside the walk, never leaves this module
    def __init__(self, disposition: str, reason: str) -> None:
        super().__init__(reason)
        self.disposition, self.reason = disposition, reason


class Engine:
    """A snapshot made ready for many packets: chains compiled, routes indexed (once)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.router = Router(snapshot)
        self.tables = {
            "ipv4": _compile(snapshot.rules4, "ipv4", snapshot),
            "ipv6": _compile(snapshot.rules6, "ipv6", snapshot),
        }

    def simulate(self, packet: Packet, *, misses: bool = True) -> Answer:
        """What happens to ``packet``; ``misses`` False leaves rules that did not match out of the steps.

        ``ConfigError`` when the packet arrives on an interface the snapshot lacks.
        """
        if packet.in_interface is not None and self.snapshot.interfaces:
            try:
                self.snapshot.interface(packet.in_interface)
            except LookupError as exc:
                raise ConfigError(f"packet {packet}: {exc}") from None
        return self._run(packet, {}, misses)

    def _run(self, packet: Packet, decisions: dict[tuple[object, ...], bool], misses: bool) -> Answer:
        walk = _Walk(self, packet, decisions, misses)
        try:
            return walk.run()
        except _Fork as fork:
            if len(decisions) >= _MAX_FORKS:
                branches: dict[str, Answer] = {}
            else:
                branches = {
                    label: self._run(packet, {**decisions, fork.key: value}, misses)
                    for label, value in zip(fork.labels, (True, False), strict=True)
                }
            walk.steps.append(fork.step)
            return walk.answer("undetermined", f"undetermined at {fork.step.text}", fork.step, branches)


def simulate(snapshot: Snapshot, packet: Packet, *, misses: bool = True) -> Answer:
    """``Engine(snapshot).simulate(packet)``: build an ``Engine`` once to ask about many packets."""
    return Engine(snapshot).simulate(packet, misses=misses)


class _Walk:
    """One packet's walk; re-run from the start with a decision for each undetermined point."""

    def __init__(
        self, engine: Engine, packet: Packet, decisions: dict[tuple[object, ...], bool], misses: bool
    ) -> None:
        self.engine, self.packet, self.decisions, self.misses = engine, packet, decisions, misses
        self.tables = engine.tables[packet.family]
        self.steps: list[Step] = []
        self.hits: list[Hit] = []
        self.out: str | None = None
        self._gateway: IPAddress | None = None
        router = engine.router
        self.ctx = Ctx(
            proto=packet.proto, src=packet.src, dst=packet.dst, sport=packet.sport, dport=packet.dport,
            iif=packet.in_interface, oif=None, mark=packet.mark, state=packet.state.upper(),
            tcp_flags=packet.tcp_flags, icmp_type=packet.icmp_type, icmp_code=packet.icmp_code,
            length=packet.length, ttl=packet.ttl, orig_src=packet.src, orig_dst=packet.dst,
            orig_sport=packet.sport, orig_dport=packet.dport, local=router.local, broadcast=router.broadcast,
        )  # fmt: skip

    # -- the paths ------------------------------------------------------------------

    def run(self) -> Answer:
        try:
            disposition, reason = self._local() if self.packet.from_local else self._incoming()
        except _End as end:
            disposition, reason = end.disposition, end.reason
        return self.answer(disposition, reason)

    def _incoming(self) -> tuple[str, str]:
        self._hook("PREROUTING")
        decision = self._first_route("PREROUTING")
        if decision.kind == "local":
            self._hook("INPUT")
            return "delivered", f"delivered to a local socket ({self.ctx.dst})"
        forwarding = "net.ipv4.ip_forward" if self.packet.family == "ipv4" else "net.ipv6.conf.all.forwarding"
        if self.engine.snapshot.sysctl(forwarding, "1") == "0":
            raise _End("dropped", f"forwarding disabled ({forwarding} = 0)")
        if self.ctx.ttl <= 1:
            raise _End("dropped", "TTL exceeded (ICMP time exceeded to the sender)")
        self.ctx.ttl -= 1
        self._set_out(decision)
        self._hook("FORWARD")
        self._hook("POSTROUTING")
        return "forwarded", self._leaving("forwarded")

    def _local(self) -> tuple[str, str]:
        decision = self._first_route("OUTPUT")
        self._set_out(decision)
        self._hook("OUTPUT")
        self._hook("POSTROUTING")
        if decision.kind == "local" or self.ctx.dst in self.ctx.local:
            self.ctx.iif, self.ctx.oif = "lo", None
            self._note("PREROUTING", "local to local over lo: PREROUTING and INPUT without nat")
            self._hook("PREROUTING", nat=False)
            self._hook("INPUT", nat=False)
            return "delivered", f"delivered to a local socket ({self.ctx.dst})"
        # The contract has five dispositions: a local packet leaving is "forwarded" (its reason says sent).
        return "forwarded", self._leaving("sent")

    def _leaving(self, verb: str) -> str:
        c = self.ctx
        where = f"out of {self.out}" if self.out else "out of an interface the snapshot cannot tell"
        return f"{verb} {where} as {_end(c.src, c.sport)} -> {_end(c.dst, c.dport)}"

    def _first_route(self, hook: str) -> Decision:
        """The routing decision; without interfaces nor routes, whether the destination is local is a fork."""
        decision = self._route(hook)
        if decision.kind == "unknown" and not self.engine.snapshot.interfaces:
            text = f"no interfaces in the snapshot: is {self.ctx.dst} a local address?"
            step = Step("route", hook, text, matched=None, action="undetermined")
            if self._decide(("route", hook), step, ("if_local", "if_not_local")):
                return Decision("local")
        return decision

    def _route(self, hook: str) -> Decision:
        c = self.ctx
        decision = self.engine.router.decide(c.dst, src=c.src, mark=c.mark, iif=c.iif)
        self.steps.append(Step("route", hook, f"routing decision for {c.dst} mark {c.mark:#x}: "
                                             f"{decision.describe()}"))  # fmt: skip
        if decision.kind == "blackhole":
            raise _End("dropped", f"dropped by a blackhole route ({decision.describe()})")
        if decision.kind in ("unreachable", "prohibit"):
            raise _End("rejected", f"rejected by an {decision.kind} route ({decision.describe()})")
        if decision.kind == "none":
            raise _End("dropped", f"no route to {c.dst}")
        return decision

    def _set_out(self, decision: Decision) -> None:
        self.out = decision.dev
        self.ctx.oif = decision.dev
        self.ctx.oif_known = decision.kind != "unknown"
        self._gateway = decision.gateway

    # -- hooks and tables ---------------------------------------------------------------

    def _hook(self, hook: str, *, nat: bool = True) -> None:
        c = self.ctx
        c.hook = hook
        for table in HOOK_TABLES[hook]:
            if table == "nat" and (not nat or c.state != "NEW"):
                if table in self.tables and hook in self.tables[table] and self.misses:
                    self._note(hook, f"nat {hook} not consulted: state {c.state}" if nat else "nat skipped")
                continue
            before = (c.mark, c.src, c.dst)
            self._table(hook, table)
            if hook == "OUTPUT" and table in ("mangle", "nat") and (c.mark, c.src, c.dst) != before:
                self._note(hook, f"re-routing after {table} OUTPUT changed the packet")
                self._set_out(self._route(hook))

    def _table(self, hook: str, table: str) -> None:
        """Walk ``table``'s chain ``hook``: jumps push, gotos replace, RETURN and the end pop."""
        chains = self.tables.get(table)
        if chains is None or hook not in chains:
            return
        self.ctx.table = table
        chain, index, order = hook, 0, self._order(chains[hook])
        stack: list[tuple[str, int, Sequence[int]]] = []
        while True:
            if index >= len(order):
                if stack:
                    chain, index, order = stack.pop()
                    continue
                self._policy(table, hook, chains[hook].policy or "ACCEPT")
                return
            entry = chains[chain].rules[order[index]]
            index += 1
            where = (hook, table, chain, entry.position)
            result = entry.compiled.test(self.ctx)
            if result is None:
                why = "; ".join(entry.compiled.unsure) or "a match the snapshot cannot decide"
                step = self._rule_step(entry, where, None, f"undetermined: {why}")
                result = self._decide(where, step, ("if_matched", "if_not_matched"))
            if not result:
                if self.misses:
                    self.steps.append(self._rule_step(entry, where, False, ""))
                continue
            self.hits.append(Hit(table, chain, entry.position))
            target = entry.rule.target
            if target is not None and target.name in chains:
                self.steps.append(
                    self._rule_step(entry, where, True, ("goto " if target.goto else "jump ") + target.name)
                )
                if not target.goto:
                    if len(stack) >= 100:
                        raise _End("dropped", f"chain depth over 100 at {entry.text}")
                    stack.append((chain, index, order))
                chain, index, order = target.name, 0, self._order(chains[target.name])
                continue
            assumed = f" (assumed: {', '.join(entry.compiled.assumed)})" if entry.compiled.assumed else ""
            self.steps.append(
                self._rule_step(entry, where, True, (target.name if target else "continue") + assumed)
            )
            verdict = self._verdict(entry, where, target) if target is not None else None
            if verdict == "return":
                chain, index, order = stack.pop() if stack else (hook, 0, ())
            elif verdict == "accept":
                return

    def _policy(self, table: str, hook: str, policy: str) -> None:
        self.hits.append(Hit(table, hook, 0))
        self.steps.append(Step("policy", hook, f"policy {policy}", table, hook, 0, True, policy))
        if policy == "DROP":
            raise _End("dropped", f"dropped by the policy DROP of {table} {hook}")

    def _verdict(self, entry: _Rule, where: tuple[str, str, str, int], target: Target) -> str | None:
        """What a matched rule's (non-chain) target does: ``accept``, ``return``, None (go on), or ends."""
        hook, table, chain, position = where
        name = target.name
        if name in ("ACCEPT", "RETURN"):
            return name.lower()
        if name in ("DROP", "REJECT"):
            verb = "dropped" if name == "DROP" else "rejected"
            raise _End(verb, f"{verb} by {table} {chain} #{position}: {entry.text}")
        if name in _NAT_TARGETS and table == "nat":
            self._nat(hook, target)
            return "accept"
        if name in _PASSIVE:
            self._mangle(hook, target)
            return None
        queue = name in ("NFQUEUE", "QUEUE")
        action = "queued to userspace" if queue else f"target {name} not modelled"
        labels = ("if_accepted", "if_dropped") if queue else ("if_continues", "if_drops")
        if self._decide((*where, name), self._rule_step(entry, where, True, action), labels):
            return "accept" if queue else None
        raise _End("dropped", f"dropped by {entry.text} ({action})")

    @staticmethod
    def _rule_step(entry: _Rule, where: tuple[str, str, str, int], matched: bool | None, action: str) -> Step:
        hook, table, chain, position = where
        return Step("rule", hook, entry.text, table, chain, position, matched, action)

    def _order(self, chain: _Chain) -> Sequence[int]:
        return range(len(chain.rules)) if self.misses else chain.order(self.ctx.dst)

    def _decide(self, key: tuple[object, ...], step: Step, labels: tuple[str, str]) -> bool:
        if key in self.decisions:
            self.steps.append(step)
            self._note(step.hook, f"continuation: {labels[0] if self.decisions[key] else labels[1]}")
            return self.decisions[key]
        raise _Fork(key, step, labels)

    def _note(self, hook: str, text: str) -> None:
        self.steps.append(Step("note", hook, text))

    # -- targets that change the packet ---------------------------------------------------

    def _mangle(self, hook: str, target: Target) -> None:
        c = self.ctx
        opts = {o.name: o.values[0] if o.values else "" for o in target.options}
        if target.name == "MARK":
            c.mark = _apply_mark(c.mark, opts)
            self.steps.append(Step("mark", hook, f"mark set to {c.mark:#x}"))
        elif target.name == "CONNMARK":
            nfmask = int(opts.get("--nfmask", opts.get("--mask", "0xffffffff")), 0)
            ctmask = int(opts.get("--ctmask", opts.get("--mask", "0xffffffff")), 0)
            if "--save-mark" in opts:
                c.ctmark = (c.ctmark & ~ctmask) ^ (c.mark & nfmask)
            elif "--restore-mark" in opts:
                c.mark = (c.mark & ~nfmask) ^ (c.ctmark & ctmask)
            else:
                c.ctmark = _apply_mark(c.ctmark, opts)
            self.steps.append(Step("mark", hook, f"mark {c.mark:#x}, connmark {c.ctmark:#x}"))
        elif (target.name == "CT" and "--notrack" in opts) or target.name == "NOTRACK":
            c.state = "UNTRACKED"
            self._note(hook, "not tracked: state UNTRACKED, nat will not be consulted")

    def _nat(self, hook: str, target: Target) -> None:
        c = self.ctx
        before = f"{_end(c.src, c.sport)} -> {_end(c.dst, c.dport)}"
        opts = {o.name: o.values[0] if o.values else "" for o in target.options}
        name = target.name
        if name == "DNAT":
            address, port = _nat_to(opts.get("--to-destination", ""))
            c.dst = address or c.dst
            c.dport = port if port is not None and c.dport is not None else c.dport
        elif name == "SNAT":
            address, port = _nat_to(opts.get("--to-source", ""))
            c.src = address or c.src
            c.sport = port if port is not None and c.sport is not None else c.sport
        elif name == "REDIRECT":
            c.dst = self._address_of(c.iif) if hook == "PREROUTING" else _loopback(c.dst)
            if "--to-ports" in opts and c.dport is not None:
                c.dport = int(opts["--to-ports"].split("-")[0])
        elif name == "MASQUERADE":
            c.src = self._address_of(c.oif, near=self._gateway or c.dst)
            if "--to-ports" in opts and c.sport is not None:
                c.sport = int(opts["--to-ports"].split("-")[0])
        elif name == "NETMAP":
            net = ipaddress.ip_network(opts.get("--to", ""), strict=False)
            attr = "dst" if hook in ("PREROUTING", "OUTPUT") else "src"
            old = int(getattr(c, attr))
            mask = int(net.netmask)
            setattr(
                c, attr, ipaddress.ip_address((old & ~mask & int(net.hostmask)) | int(net.network_address))
            )
        after = f"{_end(c.src, c.sport)} -> {_end(c.dst, c.dport)}"
        self.steps.append(Step("nat", hook, f"{name}: {before} becomes {after}", "nat", hook, 0, True, name))

    def _address_of(self, interface: str | None, near: IPAddress | None = None) -> IPAddress:
        c = self.ctx
        if interface is not None:
            try:
                found = self.engine.snapshot.interface(interface).addresses
            except LookupError:
                found = ()
            mine = [a for a in found if a.version == c.dst.version]
            for address in mine:
                if near is not None and near in address.network:
                    return address.ip
            if mine:
                return mine[0].ip
        raise _End("dropped", f"no address of {interface or 'the interface'} to NAT to (the kernel drops it)")

    def answer(self, disposition: str, reason: str, at: Step | None = None,
               branches: dict[str, Answer] | None = None) -> Answer:  # fmt: skip
        c = self.ctx
        out = self.out if disposition == "forwarded" else None
        final = {"src": str(c.src), "dst": str(c.dst), "sport": c.sport, "dport": c.dport}
        return Answer(str(self.packet), disposition, reason, final, tuple(self.steps), tuple(self.hits),
                      out, c.length, at, branches or {})  # fmt: skip


def _apply_mark(mark: int, opts: dict[str, str]) -> int:
    for name, value in opts.items():
        number, _, mask_text = value.partition("/")
        v = int(number, 0) if number else 0
        mask = int(mask_text, 0) if mask_text else 0xFFFFFFFF
        if name == "--set-xmark":
            return ((mark & ~mask) ^ v) & 0xFFFFFFFF
        if name == "--set-mark":
            return ((mark & ~mask) | v) & 0xFFFFFFFF
        if name == "--and-mark":
            return mark & v
        if name == "--or-mark":
            return mark | v
        if name == "--xor-mark":
            return mark ^ v
    return mark


def _nat_to(text: str) -> tuple[IPAddress | None, int | None]:
    """The first address and port of ``--to-destination``/``--to-source`` (ranges: their first)."""
    if text.startswith("["):
        address_text, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") > 1:
        address_text, port_text = text, ""
    else:
        address_text, _, port_text = text.partition(":")
    address = ipaddress.ip_address(address_text.split("-")[0]) if address_text else None
    port = int(port_text.split("-")[0]) if port_text else None
    return address, port


def _loopback(like: IPAddress) -> IPAddress:
    return ipaddress.ip_address("::1" if like.version == 6 else "127.0.0.1")


def _end(address: IPAddress, port: int | None) -> str:
    if port is None:
        return str(address)
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"
