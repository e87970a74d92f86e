"""The trace engine: a packet's path through netfilter and routing, as a pure function of a snapshot.

Owns: ``Engine`` (a snapshot's chains compiled once into predicates, a long
chain indexed by exact destination so a kube-proxy ``KUBE-SERVICES`` is not
scanned, its routing tables indexed once), ``Engine.decide`` (the decision
alone: disposition, final addresses, hits; no steps built) and
``Engine.simulate`` / ``simulate`` (with the steps people read): the
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from vnetkit.errors import ConfigError
from vnetkit.iptables.rules import render_line
from vnetkit.model.rule import Rule, Target
from vnetkit.model.ruleset import Ruleset
from vnetkit.trace.answer import Answer, Hit, Step
from vnetkit.trace.matches import CompiledRule, Ctx, compile_rule
from vnetkit.trace.packet import PROTOCOLS, Packet
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
_FORWARDING = {"ipv4": "net.ipv4.ip_forward", "ipv6": "net.ipv6.conf.all.forwarding"}
_STATES = {state: state.upper() for state in ("new", "established", "related", "invalid", "untracked")}
_TEXTS = 65536  # address texts an engine remembers before it starts again
#: Protocol numbers to the names ``Packet.__str__`` writes (the first name of each number).
_PROTO_TEXT: dict[int, str] = {}
for _name, _number in PROTOCOLS.items():
    if _name != "ipv6-icmp":
        _PROTO_TEXT.setdefault(_number, _name)


@dataclass(frozen=True, slots=True)
class _Rule:
    compiled: CompiledRule
    rule: Rule
    chain: str
    position: int
    text: str
    hit: Hit  # the hit this rule counts when it matches (frozen: shared by every answer)
    jump: str | None  # the chain of the table its target names, if it names one
    test: Callable[[Ctx], bool | None]  # ``compiled.check``: None undetermined, else truth: matched
    opts: dict[str, str]  # the target's options: the first value of each ("" for none)
    to: tuple[IPAddress | None, int | None] | None  # DNAT/SNAT: the address and port it writes
    verdict: str  # the target's name ("" for none), ``goto``/``jump`` for a chain, ``other`` to look at


def _verdict_kind(rule: Rule, jump: str | None) -> str:
    target = rule.target
    if target is None:
        return ""
    if jump is not None:
        return "goto" if target.goto else "jump"
    return target.name if target.name in ("ACCEPT", "RETURN") else "other"


_INDEX_FROM = 32  # keyed rules a chain needs before it is worth an index
_MERGE_CACHE = 16  # at most this many unkeyed rules: a key's merged order is kept once computed


@dataclass(frozen=True, slots=True)
class _Chain:
    """A chain's rules, and for a long chain an index by exact destination (``-d A/32``, not negated).

    ``keyed`` maps a destination to the positions (0-based) of the rules that
    need it; ``always`` holds the other positions. A walk visits only
    ``always`` and the rules keyed by the packet's destination, in order: the
    rules it skips cannot match (their ``-d`` alone fails), so a walk that
    lists misses lists them without testing them (``miss_steps``).
    """

    table: str
    name: str
    rules: tuple[_Rule, ...]
    policy: str | None
    keyed: dict[int, tuple[int, ...]] | None = None
    always: tuple[int, ...] = ()
    every: range = range(0)  # all the positions, for a chain without an index
    _merged: dict[int, tuple[int, ...]] = field(default_factory=dict)
    _misses: dict[str, tuple[Step, ...]] = field(default_factory=dict)

    def order(self, dst: IPAddress) -> Sequence[int]:
        """The positions of the rules that may match a packet to ``dst``, in order."""
        if self.keyed is None:
            return range(len(self.rules))
        number = int(dst)
        keyed = self.keyed.get(number)
        if not keyed:
            return self.always
        merged = self._merged.get(number)
        if merged is None:
            merged = tuple(sorted(self.always + keyed))
            if len(self.always) <= _MERGE_CACHE:
                self._merged[number] = merged
        return merged

    def miss_steps(self, hook: str) -> tuple[Step, ...]:
        """The step of each rule not matching, reached from ``hook`` (built once per hook)."""
        steps = self._misses.get(hook)
        if steps is None:
            steps = tuple(
                Step("rule", hook, r.text, self.table, self.name, r.position, False, "") for r in self.rules
            )
            self._misses[hook] = steps
        return steps


def _chain(table: str, name: str, rules: list[_Rule], policy: str | None) -> _Chain:
    keyed: dict[int, list[int]] = {}
    always: list[int] = []
    for i, entry in enumerate(rules):
        rule = entry.rule
        net = _exact(rule.destination) if not rule.destination_negated else None
        if net is None:
            always.append(i)
        else:
            keyed.setdefault(net, []).append(i)
    if sum(len(v) for v in keyed.values()) < _INDEX_FROM:
        return _Chain(table, name, tuple(rules), policy, every=range(len(rules)))
    index = {k: tuple(v) for k, v in keyed.items()}
    return _Chain(table, name, tuple(rules), policy, index, tuple(always), range(len(rules)))


def _exact(text: str | None) -> int | None:
    """The address of ``-d A/32`` (``/128``) as a number; None for a network or none."""
    if text is None:
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return int(net.network_address) if net.prefixlen == net.max_prefixlen else None


_Tables = dict[str, dict[str, _Chain]]


def _compile(ruleset: Ruleset | None, family: str, snapshot: Snapshot) -> _Tables:
    tables: _Tables = {}
    if ruleset is None:
        return tables
    for table in ruleset.tables:
        entries: dict[str, list[Rule]] = {chain.name: [] for chain in table.chains}
        texts: dict[str, list[str]] = {chain.name: [] for chain in table.chains}
        for entry in table.rules:
            entries.setdefault(entry.chain, []).append(entry.rule)
            texts.setdefault(entry.chain, []).append(entry.source or render_line(entry.chain, entry.rule))
        chains: dict[str, list[_Rule]] = {}
        for name, rules in entries.items():
            compiled = chains.setdefault(name, [])
            for position, (rule, text) in enumerate(zip(rules, texts[name], strict=True), start=1):
                target = rule.target
                jump = target.name if target is not None and target.name in entries else None
                hit = Hit(table.name, name, position)
                check = compile_rule(rule, family, snapshot.ipsets)
                kind = _verdict_kind(rule, jump)
                opts = {o.name: o.values[0] if o.values else "" for o in target.options} if target else {}
                to = _parsed_to(target, opts)
                compiled.append(
                    _Rule(check, rule, name, position, text, hit, jump, check.check, opts, to, kind)
                )
        policies = {chain.name: chain.policy for chain in table.chains}
        tables[table.name] = {
            name: _chain(table.name, name, rules, policies.get(name)) for name, rules in chains.items()
        }
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
    """A snapshot made ready for many packets: chains compiled and indexed, routes indexed (once)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.router = Router(snapshot)
        self.tables = {
            "ipv4": _compile(snapshot.rules4, "ipv4", snapshot),
            "ipv6": _compile(snapshot.rules6, "ipv6", snapshot),
        }
        #: Per family and hook, the tables (in priority order) that have the hook's chain.
        self.hooks = {
            family: {
                hook: tuple((t, tables[t]) for t in names if t in tables and hook in tables[t])
                for hook, names in HOOK_TABLES.items()
            }
            for family, tables in self.tables.items()
        }
        self._interfaces = frozenset(interface.name for interface in snapshot.interfaces)
        self.forwarding_off = {
            family: snapshot.sysctl(key, "1") == "0" for family, key in _FORWARDING.items()
        }
        self._texts: dict[IPAddress, str] = {}

    def text(self, address: IPAddress) -> str:
        """``str(address)``, remembered (answers name the same addresses again and again)."""
        found = self._texts.get(address)
        if found is None:
            if len(self._texts) >= _TEXTS:
                self._texts.clear()
            found = self._texts[address] = str(address)
        return found

    def packet_text(self, packet: Packet) -> str:
        """``str(packet)`` (``Packet.__str__``), from remembered address texts."""
        name = _PROTO_TEXT.get(packet.proto) or str(packet.proto)
        src, dst = self.text(packet.src), self.text(packet.dst)
        if packet.sport is not None:
            src = f"[{src}]:{packet.sport}" if packet.src.version == 6 else f"{src}:{packet.sport}"
        if packet.dport is not None:
            dst = f"[{dst}]:{packet.dport}" if packet.dst.version == 6 else f"{dst}:{packet.dport}"
        where = f" in {packet.in_interface}" if packet.in_interface else " from local"
        return f"{name} {src} -> {dst}{where}"

    def simulate(self, packet: Packet, *, misses: bool = True) -> Answer:
        """What happens to ``packet``; ``misses`` False leaves rules that did not match out of the steps.

        ``ConfigError`` when the packet arrives on an interface the snapshot lacks.
        """
        self._check(packet)
        return self._run(packet, {}, misses, True)

    def decide(self, packet: Packet) -> Answer:
        """The decision alone: ``simulate`` without building steps (``steps`` is empty).

        Disposition, reason, final addresses, hits (so counters) and, for an
        undetermined packet, where and both continuations are those
        ``simulate`` gives; for checking many packets, where nobody reads the
        steps. ``ConfigError`` as ``simulate``.
        """
        self._check(packet)
        return self._run(packet, {}, False, False)

    def _check(self, packet: Packet) -> None:
        if (
            packet.in_interface is not None
            and self._interfaces
            and packet.in_interface not in self._interfaces
        ):
            try:
                self.snapshot.interface(packet.in_interface)
            except LookupError as exc:
                raise ConfigError(f"packet {packet}: {exc}") from None

    def _run(
        self, packet: Packet, decisions: dict[tuple[object, ...], bool], misses: bool, record: bool
    ) -> Answer:
        walk = _Walk(self, packet, decisions, misses, record)
        try:
            return walk.run()
        except _Fork as fork:
            if len(decisions) >= _MAX_FORKS:
                branches: dict[str, Answer] = {}
            else:
                branches = {
                    label: self._run(packet, {**decisions, fork.key: value}, misses, record)
                    for label, value in zip(fork.labels, (True, False), strict=True)
                }
            if record:
                walk.steps.append(fork.step)
            return walk.answer("undetermined", f"undetermined at {fork.step.text}", fork.step, branches)


def simulate(snapshot: Snapshot, packet: Packet, *, misses: bool = True) -> Answer:
    """``Engine(snapshot).simulate(packet)``: build an ``Engine`` once to ask about many packets."""
    return Engine(snapshot).simulate(packet, misses=misses)


_Frame = tuple[_Chain, Iterator[int], int]  # a chain, where its walk is, its first rule not listed


class _Walk:
    """One packet's walk; re-run from the start with a decision for each undetermined point.

    ``record`` False: no steps are built (``Engine.decide``); ``misses`` True
    (only with ``record``): the rules that did not match are listed too.
    """

    def __init__(
        self,
        engine: Engine,
        packet: Packet,
        decisions: dict[tuple[object, ...], bool],
        misses: bool,
        record: bool = True,
    ) -> None:
        self.engine, self.packet, self.decisions = engine, packet, decisions
        self.misses, self.record = misses and record, record
        self.family = family = packet.family
        self.tables = engine.tables[family]
        self.hooks = engine.hooks[family]
        self.steps: list[Step] = []
        self.hits: list[Hit] = []
        self.out: str | None = None
        self._gateway: IPAddress | None = None
        router = engine.router
        src, dst, sport, dport = packet.src, packet.dst, packet.sport, packet.dport
        state = _STATES.get(packet.state) or packet.state.upper()
        # Positional, in Ctx's field order (a packet's walk starts here: kept cheap).
        self.ctx = Ctx(
            packet.proto, src, dst, sport, dport, packet.in_interface, None, packet.mark, 0, state,
            "PREROUTING", "raw", packet.tcp_flags, packet.icmp_type, packet.icmp_code, packet.length,
            packet.ttl, True,
            src, dst, sport, dport, router.local, router.broadcast,
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
        if self.engine.forwarding_off[self.family]:
            forwarding = _FORWARDING[self.family]
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
        text = self.engine.text
        return f"{verb} {where} as {_end(text(c.src), c.src, c.sport)} -> {_end(text(c.dst), c.dst, c.dport)}"

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
        if self.record:
            self.steps.append(Step("route", hook, f"routing decision for {c.dst} mark {c.mark:#x}: "
                                                 f"{decision.describe()}"))  # fmt: skip
        kind = decision.kind
        if kind in ("unicast", "local"):
            return decision
        if kind == "blackhole":
            raise _End("dropped", f"dropped by a blackhole route ({decision.describe()})")
        if kind in ("unreachable", "prohibit"):
            raise _End("rejected", f"rejected by an {kind} route ({decision.describe()})")
        if kind == "none":
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
        for table, chains in self.hooks[hook]:
            if table == "nat" and (not nat or c.state != "NEW"):
                if self.misses:
                    self._note(hook, f"nat {hook} not consulted: state {c.state}" if nat else "nat skipped")
                continue
            if hook == "OUTPUT" and table in ("mangle", "nat"):
                before = (c.mark, c.src, c.dst)
                self._table(hook, table, chains)
                if (c.mark, c.src, c.dst) != before:
                    self._note(hook, f"re-routing after {table} OUTPUT changed the packet")
                    self._set_out(self._route(hook))
            else:
                self._table(hook, table, chains)

    def _table(self, hook: str, table: str, chains: dict[str, _Chain]) -> None:  # noqa: PLR0912 - one hot loop
        """Walk ``table``'s chain ``hook``: jumps push, gotos replace, RETURN and the end pop.

        Each chain visits only the rules its index leaves (``_Chain.order``);
        listing misses, the rules in between are listed as not matching.
        """
        ctx = self.ctx
        ctx.table = table
        record, misses, steps, hits = self.record, self.misses, self.steps, self.hits
        chain = top = chains[hook]
        rules, done = chain.rules, 0
        it = iter(chain.every if chain.keyed is None else chain.order(ctx.dst))
        stack: list[_Frame] = []
        while True:
            for position in it:
                entry = rules[position]
                if misses:
                    if position > done:
                        steps.extend(chain.miss_steps(hook)[done:position])
                    done = position + 1
                result = entry.test(ctx)
                if result is None:
                    result = self._unsure(entry, (hook, table, entry.chain, entry.position))
                if not result:
                    if misses:
                        steps.append(chain.miss_steps(hook)[position])
                    continue
                hits.append(entry.hit)
                verdict = entry.verdict
                if record or verdict == "other":
                    verdict = self._matched(entry, hook, table)
                if entry.jump is not None:
                    if verdict == "jump":
                        if len(stack) >= 100:
                            raise _End("dropped", f"chain depth over 100 at {entry.text}")
                        stack.append((chain, it, done))
                    chain = chains[entry.jump]
                    rules, done = chain.rules, 0
                    it = iter(chain.every if chain.keyed is None else chain.order(ctx.dst))
                    break
                if verdict == "ACCEPT":
                    return
                if verdict == "RETURN":
                    chain, it, done = stack.pop() if stack else (top, iter(()), len(top.rules))
                    rules = chain.rules
                    break
            else:  # the chain's end
                if misses and done < len(rules):
                    steps.extend(chain.miss_steps(hook)[done:])
                if not stack:
                    self._policy(table, hook, top.policy or "ACCEPT")
                    return
                chain, it, done = stack.pop()
                rules = chain.rules

    def _unsure(self, entry: _Rule, where: tuple[str, str, str, int]) -> bool:
        """A rule the snapshot cannot decide: the decision taken for it, or a fork."""
        why = "; ".join(entry.compiled.unsure) or "a match the snapshot cannot decide"
        step = self._rule_step(entry, where, None, f"undetermined: {why}")
        return self._decide(where, step, ("if_matched", "if_not_matched"))

    def _matched(self, entry: _Rule, hook: str, table: str) -> str:
        """A rule matched: its step, and what its target does: ``jump``/``goto`` (a chain),
        ``ACCEPT`` (ends the table), ``RETURN``, "" (go on); or the walk ends (``_End``)."""
        verdict, target = entry.verdict, entry.rule.target
        where = (hook, table, entry.chain, entry.position)
        if self.record:
            if entry.jump is not None:
                action = f"{verdict} {entry.jump}"
            else:
                assumed = f" (assumed: {', '.join(entry.compiled.assumed)})" if entry.compiled.assumed else ""
                action = (target.name if target else "continue") + assumed
            self.steps.append(self._rule_step(entry, where, True, action))
        if verdict == "other" and target is not None:
            return "ACCEPT" if self._verdict(entry, where, target) == "accept" else ""
        return verdict

    def _policy(self, table: str, hook: str, policy: str) -> None:
        self.hits.append(_policy_hit(table, hook))
        if self.record:
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
            self._nat(hook, target, entry.opts, entry.to)
            return "accept"
        if name in _PASSIVE:
            self._mangle(hook, target, entry.opts)
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

    def _decide(self, key: tuple[object, ...], step: Step, labels: tuple[str, str]) -> bool:
        if key in self.decisions:
            if self.record:
                self.steps.append(step)
            self._note(step.hook, f"continuation: {labels[0] if self.decisions[key] else labels[1]}")
            return self.decisions[key]
        raise _Fork(key, step, labels)

    def _note(self, hook: str, text: str) -> None:
        if self.record:
            self.steps.append(Step("note", hook, text))

    # -- targets that change the packet ---------------------------------------------------

    def _mangle(self, hook: str, target: Target, opts: dict[str, str]) -> None:
        c = self.ctx
        if target.name == "MARK":
            c.mark = _apply_mark(c.mark, opts)
            if self.record:
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
            if self.record:
                self.steps.append(Step("mark", hook, f"mark {c.mark:#x}, connmark {c.ctmark:#x}"))
        elif (target.name == "CT" and "--notrack" in opts) or target.name == "NOTRACK":
            c.state = "UNTRACKED"
            self._note(hook, "not tracked: state UNTRACKED, nat will not be consulted")

    def _nat(
        self, hook: str, target: Target, opts: dict[str, str], to: tuple[IPAddress | None, int | None] | None
    ) -> None:
        c = self.ctx
        before = (
            f"{_end(str(c.src), c.src, c.sport)} -> {_end(str(c.dst), c.dst, c.dport)}" if self.record else ""
        )
        name = target.name
        if name == "DNAT":
            address, port = to or _nat_to(opts.get("--to-destination", ""))
            c.dst = address or c.dst
            c.dport = port if port is not None and c.dport is not None else c.dport
        elif name == "SNAT":
            address, port = to or _nat_to(opts.get("--to-source", ""))
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
        if not self.record:
            return
        after = f"{_end(str(c.src), c.src, c.sport)} -> {_end(str(c.dst), c.dst, c.dport)}"
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
        text = self.engine.text
        final = {"src": text(c.src), "dst": text(c.dst), "sport": c.sport, "dport": c.dport}
        return Answer(self.engine.packet_text(self.packet), disposition, reason, final, tuple(self.steps),
                      tuple(self.hits), out, c.length, at, branches or {})  # fmt: skip


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


def _parsed_to(target: Target | None, opts: dict[str, str]) -> tuple[IPAddress | None, int | None] | None:
    """DNAT's ``--to-destination`` or SNAT's ``--to-source``, read once (None: not one, or unreadable)."""
    key = {"DNAT": "--to-destination", "SNAT": "--to-source"}.get(target.name if target else "")
    if key is None:
        return None
    try:
        return _nat_to(opts.get(key, ""))
    except ValueError:
        return None  # read again per packet, where it fails as before


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


def _end(text: str, address: IPAddress, port: int | None) -> str:
    """``text`` (``address`` written), with ``port``: ``10.0.0.1:80``, ``[2001:db8::1]:80``."""
    if port is None:
        return text
    return f"[{text}]:{port}" if address.version == 6 else f"{text}:{port}"


def _policy_hit(table: str, chain: str) -> Hit:
    return Hit(table, chain, 0)
