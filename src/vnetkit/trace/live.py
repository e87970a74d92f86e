"""Live tracing: mark matching packets with an owned TRACE rule and explain what the kernel did to each.

Owns: the trace filter (``TraceFilter``: which packets to mark), the owned
TRACE rules (comment ``vnetkit:trace``, first in raw PREROUTING and OUTPUT,
always removed afterwards; leftovers of a killed run are removed first),
reading ``xtables-monitor --trace`` text (iptables 1.8.9 form, tolerant of
the later one), mapping nft rule handles to ``iptables -L --line-numbers``
positions (``nft -a list table``, minus the TRACE rules of our own) and
turning each traced packet into an ``Answer`` (the engine's shape: steps,
hits, disposition). The parsing and the answer building (``parse_line``,
``handle_positions``, ``Collector``) are pure. Does not own: the monitor
process (``vnetkit.exec.tracing``), iptables calls (``IPTables``), rendering
(``render``). Only the iptables-nft backend: legacy raises UnsupportedError.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field

from vnetkit.errors import ConfigError, NotFound, UnsupportedError
from vnetkit.exec.host import Host, default_host
from vnetkit.exec.runner import Runner
from vnetkit.exec.tracing import TraceMonitor
from vnetkit.iptables.client import BackendChoice, IPTables
from vnetkit.trace.answer import Answer, Hit, Step

__all__ = [
    "TRACE_COMMENT",
    "Collector",
    "PacketLine",
    "TraceFilter",
    "TraceLine",
    "handle_positions",
    "live_trace",
    "parse_line",
    "remove_trace_rules",
]

#: The comment that marks the TRACE rules vnetkit owns.
TRACE_COMMENT = "vnetkit:trace"
_TRACE_CHAINS = ("PREROUTING", "OUTPUT")
_HOOKS = frozenset({"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"})
_RETURN = "0xfffffffb"  # NFT_RETURN as xtables-monitor prints it
_READY_WAIT = 3.0  # seconds to wait for the monitor to report our own rule insertions
SETTLE = 0.3  # seconds without news after which a packet that was not dropped is complete


# -- the filter ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """Which packets to trace, as iptables match options (all optional; empty traces every packet)."""

    protocol: str | None = None
    source: str | None = None
    destination: str | None = None
    sport: int | None = None
    dport: int | None = None
    in_interface: str | None = None

    def __post_init__(self) -> None:
        if self.protocol is not None and not re.fullmatch(r"[a-z0-9]+", self.protocol):
            raise ConfigError(f"invalid protocol {self.protocol!r}: use a name such as tcp, udp, icmp")
        for what, value in (("source", self.source), ("destination", self.destination)):
            if value is not None:
                try:
                    ipaddress.ip_network(value, strict=False)
                except ValueError:
                    raise ConfigError(f"invalid {what} {value!r}: use an IPv4 address or prefix") from None
        for what, port in (("--sport", self.sport), ("--dport", self.dport)):
            if port is None:
                continue
            if not 0 <= port <= 65535:
                raise ConfigError(f"invalid {what} {port}: use 0-65535")
            if self.protocol not in ("tcp", "udp", "sctp", "udplite", "dccp"):
                raise ConfigError(f"{what} needs a protocol with ports: add -p tcp or -p udp")
        iface = self.in_interface
        if iface is not None and (not iface or len(iface) > 15 or re.search(r"[/:\s]", iface)):
            raise ConfigError(f"invalid interface name {iface!r}")

    def args(self) -> tuple[str, ...]:
        """The match options, as iptables arguments."""
        out: list[str] = []
        if self.protocol is not None:
            out += ["-p", self.protocol]
        if self.source is not None:
            out += ["-s", self.source]
        if self.destination is not None:
            out += ["-d", self.destination]
        if self.in_interface is not None:
            out += ["-i", self.in_interface]
        if self.sport is not None:
            out += ["--sport", str(self.sport)]
        if self.dport is not None:
            out += ["--dport", str(self.dport)]
        return tuple(out)

    def chains(self) -> tuple[str, ...]:
        """The raw chains that get a TRACE rule (an input interface rules out OUTPUT)."""
        return ("PREROUTING",) if self.in_interface is not None else _TRACE_CHAINS

    def label(self) -> str:
        """The protocol as packets are named in answers (``ip`` when any)."""
        return self.protocol or "ip"


# -- parsing xtables-monitor text ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PacketLine:
    """``PACKET: <family> <id> IN=... SRC=... DST=... [SPORT=... DPORT=...]``: the packet entering a chain."""

    trace_id: str
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class TraceLine:
    """``TRACE: <family> <id> table:chain:rule:0xHANDLE:VERDICT  rule`` (or ``:policy:VERDICT``)."""

    trace_id: str
    table: str
    chain: str
    kind: str  # "rule", "policy" or "return"
    handle: int | None
    verdict: str  # ACCEPT, DROP, CONTINUE, RETURN, JUMP:X, GOTO:X...
    rule: str  # as iptables -S writes it ("-A CHAIN ..."), "" for a policy


_PACKET = re.compile(r"^\s*PACKET:\s+(\d+)\s+([0-9a-fA-F]+)\s*(.*)$")
_TRACE = re.compile(r"^\s*TRACE:\s+(\d+)\s+([0-9a-fA-F]+)\s+(\S+)\s*(.*)$")
_WHERE = re.compile(r"^(?P<table>[^:]+):(?P<chain>.+):(?P<kind>rule|policy|return):?(?P<rest>.*)$")
_RULE_PREFIX = re.compile(r"^-[46]\s+-t\s+\S+\s+")


def _verdict(raw: str) -> str:
    if raw.lower() in (_RETURN, "return"):
        return "RETURN"
    head, _, target = raw.partition(":")
    return f"{head.upper()}:{target}" if target else head.upper()


def parse_line(line: str) -> PacketLine | TraceLine | None:
    """One line of ``xtables-monitor --trace``; None for lines that are neither (events, blanks)."""
    match = _PACKET.match(line)
    if match is not None:
        fields: dict[str, str] = {}
        for token in match.group(3).split():
            key, sep, value = token.partition("=")
            fields[key] = value if sep else ""
        return PacketLine(match.group(2).lower(), fields)
    match = _TRACE.match(line)
    if match is None:
        return None
    trace_id, where, rule = match.group(2).lower(), match.group(3), match.group(4).strip()
    parts = _WHERE.match(where)
    if parts is None:
        return None
    kind, rest = parts["kind"], parts["rest"]
    handle: int | None = None
    if kind in ("rule", "return"):
        head, _, tail = rest.partition(":")
        try:
            handle = int(head, 0)
        except ValueError:
            tail = rest
        rest = tail or ("RETURN" if kind == "return" else "")
    rule = _RULE_PREFIX.sub("", rule.strip('"'))
    return TraceLine(trace_id, parts["table"], parts["chain"], kind, handle, _verdict(rest), rule)


def handle_positions(nft_listing: str) -> dict[tuple[str, int], int]:
    """``(chain, handle) -> position`` from ``nft -a list table ip TABLE`` (positions count from 1)."""
    positions: dict[tuple[str, int], int] = {}
    chain: str | None = None
    count = 0
    for raw in nft_listing.splitlines():
        line = raw.strip()
        head = re.match(r'^chain\s+"?([^"\s]+)"?\s*\{', line)
        if head is not None:
            chain, count = head.group(1), 0
            continue
        if line == "}":
            chain = None
            continue
        found = re.search(r"#\s*handle\s+(\d+)\s*$", line)
        if chain is not None and found is not None and not line.startswith("type "):
            count += 1
            positions[(chain, int(found.group(1)))] = count
    return positions


# -- packets into answers -----------------------------------------------------------------------

#: ``(table, chain, handle) -> position`` as ``iptables -L --line-numbers`` counts without our
#: TRACE rules; None when the handle is unknown.
Resolver = Callable[[str, str, int], int | None]


@dataclass
class _Packet:
    trace_id: str
    first: dict[str, str]
    last: dict[str, str]
    events: list[TraceLine] = field(default_factory=list)
    seen: float = 0.0
    previous: dict[str, str] = field(default_factory=dict)  # the PACKET line before ``last``

    def entered_input(self) -> bool:
        return any(event.chain == "INPUT" for event in self.events)


def _action(verdict: str) -> str:
    head, _, target = verdict.partition(":")
    if head in ("JUMP", "GOTO") and target:
        return f"{head.lower()} {target}"
    return "continue" if head == "CONTINUE" else verdict


def _describe(fields: dict[str, str], proto: str) -> str:
    src = fields.get("SRC", "?") + (f":{fields['SPORT']}" if "SPORT" in fields else "")
    dst = fields.get("DST", "?") + (f":{fields['DPORT']}" if "DPORT" in fields else "")
    where = "".join(
        f" {word} {fields[key]}" for key, word in (("IN", "in"), ("OUT", "out")) if fields.get(key)
    )
    return f"{proto} {src} -> {dst}{where}"


class Collector:
    """Groups trace lines by packet and turns each finished packet into an ``Answer``.

    A packet is finished when a DROP ends it, or when nothing new came for it
    for ``settle`` seconds (``expire``), or at the end (``flush``). Pure: the
    caller passes the time and a ``resolve`` for rule positions.
    """

    def __init__(self, resolve: Resolver, *, proto: str = "ip", settle: float = SETTLE) -> None:
        self._resolve = resolve
        self._proto = proto
        self._settle = settle
        self._open: dict[str, _Packet] = {}

    def feed(self, line: str, now: float) -> list[Answer]:
        """Take one monitor line; the answers it finished (a DROP ends a packet at once).

        The kernel's trace id is a hash of the packet buffer's address, so a
        later packet can reuse it: a PACKET line with another IP ``ID``, or a
        trace that starts over (PREROUTING or OUTPUT after INPUT), begins a new one.
        """
        parsed = parse_line(line)
        if parsed is None:
            return []
        finished: list[Answer] = []
        packet = self._open.get(parsed.trace_id)
        if isinstance(parsed, PacketLine):
            if packet is not None and packet.events and parsed.fields.get("ID") != packet.last.get("ID"):
                finished.append(self._close(packet))
                packet = None
            if packet is None:
                fields = parsed.fields
                self._open[parsed.trace_id] = _Packet(parsed.trace_id, fields, fields, seen=now)
            else:
                packet.previous, packet.last, packet.seen = packet.last, parsed.fields, now
            return finished
        if packet is not None and parsed.chain in ("PREROUTING", "OUTPUT") and packet.entered_input():
            fields = packet.last  # a new packet: its PACKET line went to the old one
            packet.last = packet.previous or packet.last
            finished.append(self._close(packet))
            packet = _Packet(parsed.trace_id, fields, fields, seen=now)
            self._open[parsed.trace_id] = packet
        if packet is None:  # a trace whose PACKET line came before we listened
            packet = self._open[parsed.trace_id] = _Packet(parsed.trace_id, {}, {}, seen=now)
        packet.events.append(parsed)
        packet.seen = now
        if parsed.verdict == "DROP":
            finished.append(self._close(packet))
        return finished

    def _close(self, packet: _Packet) -> Answer:
        del self._open[packet.trace_id]
        return self._answer(packet)

    def expire(self, now: float) -> list[Answer]:
        """Answers for packets nothing was heard of for ``settle`` seconds."""
        done = [p for p in self._open.values() if now - p.seen >= self._settle and p.events]
        for packet in done:
            del self._open[packet.trace_id]
        return [self._answer(p) for p in done]

    def flush(self) -> list[Answer]:
        """Answers for every packet still open (the trace is over)."""
        done = [p for p in self._open.values() if p.events]
        self._open.clear()
        return [self._answer(p) for p in done]

    def _answer(self, packet: _Packet) -> Answer:
        steps: list[Step] = []
        hits: list[Hit] = []
        hook = ""
        hooks: list[str] = []
        last: Step | None = None
        for event in packet.events:
            if event.chain in _HOOKS:
                hook = event.chain
                if hook not in hooks:
                    hooks.append(hook)
            if event.table == "raw" and TRACE_COMMENT in event.rule:
                continue  # our own marking rule
            action = _action(event.verdict)
            if event.kind == "policy":
                step = Step("policy", hook, f"policy {action}", event.table, event.chain, 0, True, action)
                hits.append(Hit(event.table, event.chain, 0))
            else:
                position = (
                    None if event.handle is None else self._resolve(event.table, event.chain, event.handle)
                )
                text = event.rule or f"rule with nft handle {event.handle}"
                step = Step("rule", hook, text, event.table, event.chain, position or 0, True, action)
                hits.append(Hit(event.table, event.chain, position or 0))
            steps.append(step)
            if action in ("ACCEPT", "DROP"):
                last = step
        disposition, reason = self._fate(packet, last, hooks)
        fields = packet.last or packet.first
        final = {
            "src": fields.get("SRC"),
            "dst": fields.get("DST"),
            "sport": int(fields["SPORT"]) if fields.get("SPORT", "").isdigit() else None,
            "dport": int(fields["DPORT"]) if fields.get("DPORT", "").isdigit() else None,
        }
        length = int(packet.first["LEN"]) if packet.first.get("LEN", "").isdigit() else 0
        return Answer(
            packet=_describe(packet.first, self._proto) + f" (trace {packet.trace_id})",
            disposition=disposition,
            reason=reason,
            final=final,
            steps=tuple(steps),
            hits=tuple(hits),
            out_interface=fields.get("OUT") or None,
            length=length,
        )

    @staticmethod
    def _fate(packet: _Packet, last: Step | None, hooks: list[str]) -> tuple[str, str]:
        if last is not None and last.action == "DROP":
            return _dropped(last)
        by = "no verdict traced"
        if last is not None:
            by = f"accepted by policy of {last.table} {last.chain}" if last.kind == "policy" else ""
            by = by or f"accepted by {last.table} {last.chain} #{last.position}"
        out = (packet.last or packet.first).get("OUT", "") or "an interface"
        if "INPUT" in hooks:
            fate = ("delivered", f"{by}; delivered to a local process")
        elif "FORWARD" in hooks or ("POSTROUTING" in hooks and "PREROUTING" in hooks):
            fate = ("forwarded", f"{by}; forwarded out of {out}")
        elif "OUTPUT" in hooks:
            fate = ("forwarded", f"{by}; sent out of {out}")
        else:
            fate = ("undetermined", f"{by}; no later chain traced it (hooks without chains show nothing)")
        return fate


def _dropped(last: Step) -> tuple[str, str]:
    if last.kind == "policy":
        return "dropped", f"policy DROP of {last.table} {last.chain}"
    if "-j REJECT" in last.text:
        return "rejected", f"rejected by {last.table} {last.chain} #{last.position}"
    return "dropped", f"dropped by {last.table} {last.chain} #{last.position}"


# -- running it ---------------------------------------------------------------------------------


def remove_trace_rules(ipt: IPTables) -> int:
    """Delete every TRACE rule of ours from raw PREROUTING and OUTPUT; how many were removed."""
    removed = 0
    for chain in _TRACE_CHAINS:
        try:
            lines = ipt.list("raw", chain)
        except NotFound:
            continue
        rules = [line for line in lines if line.startswith("-A ")]
        ours = [pos for pos, line in enumerate(rules, 1) if TRACE_COMMENT in line and "-j TRACE" in line]
        for position in reversed(ours):
            ipt.delete_by_id("raw", chain, position)
            removed += 1
    return removed


class _Positions:
    """Resolves nft handles to positions by listing a table once (again when a handle is new)."""

    def __init__(self, runner: Runner, netns: str, ours: dict[str, int]) -> None:
        self._runner = runner
        self._netns = netns
        self._ours = ours  # raw chain -> TRACE rules of ours at its top
        self._tables: dict[str, dict[tuple[str, int], int]] = {}

    def _list(self, table: str) -> dict[tuple[str, int], int]:
        done = self._runner.run(("nft", "-a", "list", "table", "ip", table), netns=self._netns)
        return handle_positions(done.stdout) if done.returncode == 0 else {}

    def __call__(self, table: str, chain: str, handle: int) -> int | None:
        known = self._tables.get(table)
        if known is None or (chain, handle) not in known:
            known = self._tables[table] = self._list(table)
        position = known.get((chain, handle))
        if position is None:
            return None
        return position - self._ours.get(chain, 0) if table == "raw" else position


def live_trace(
    netns: str,
    match: TraceFilter | None = None,
    *,
    count: int | None = None,
    timeout: float | None = None,
    host: Host | None = None,
    backend: BackendChoice = "auto",
    ready: Callable[[], None] | None = None,
) -> Generator[Answer, None, None]:
    """Trace packets in ``netns`` that ``match`` selects; yield an ``Answer`` per packet as it finishes.

    ``backend`` picks the iptables backend (only ``nft`` can be traced).
    Stops after ``count`` packets or ``timeout`` seconds (whichever comes
    first; neither: until interrupted). The TRACE rules are removed when the
    generator ends, is closed or is interrupted; ``ready`` is called once
    they are in place and the monitor listens. Use it with
    ``contextlib.closing`` so an abandoned trace cleans up at once.
    """
    if count is not None and count < 1:
        raise ConfigError(f"invalid count {count}: use 1 or more")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"invalid timeout {timeout}: use a number of seconds > 0")
    match = match or TraceFilter()
    the_host = host if host is not None else default_host()
    ipt = IPTables(netns=netns, host=the_host, backend=backend)
    if ipt.backend != "nft":
        raise UnsupportedError(
            f"live tracing of the legacy backend ({ipt.binary}) in netns {netns} is not supported: "
            "trace the iptables-nft rules (--backend nft), or simulate offline: vnetkit trace simulate"
        )
    remove_trace_rules(ipt)  # a killed run's leftovers
    rule = (*match.args(), "-m", "comment", "--comment", TRACE_COMMENT, "-j", "TRACE")
    deadline = None if timeout is None else time.monotonic() + timeout
    with TraceMonitor(netns, runner=the_host.runner) as monitor:
        try:
            for chain in match.chains():
                ipt.insert("raw", chain, 1, *rule)
            _await_events(monitor, len(match.chains()))
            if ready is not None:
                ready()
            collector = Collector(
                _Positions(the_host.runner, netns, dict.fromkeys(match.chains(), 1)),
                proto=match.label(),
            )
            yield from _collect(monitor, collector, count, deadline)
        finally:
            remove_trace_rules(ipt)


def _await_events(monitor: TraceMonitor, expected: int) -> None:
    """Wait until the monitor reports our rule insertions (then it is surely listening)."""
    until = time.monotonic() + _READY_WAIT
    seen = 0
    while seen < expected:
        line = monitor.line(until - time.monotonic())
        if line is None:
            return  # it listens by now or never will; go on
        if "EVENT:" in line and TRACE_COMMENT in line:
            seen += 1


def _collect(
    monitor: TraceMonitor, collector: Collector, count: int | None, deadline: float | None
) -> Iterator[Answer]:
    given = 0
    while count is None or given < count:
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            break
        wait = SETTLE / 2 if deadline is None else min(SETTLE / 2, deadline - now)
        line = monitor.line(wait)
        now = time.monotonic()
        finished = collector.feed(line, now) if line is not None else []
        for answer in [*finished, *collector.expire(now)]:
            yield answer
            given += 1
            if count is not None and given >= count:
                return
    if count is None or given < count:
        for answer in collector.flush():
            yield answer
            given += 1
            if count is not None and given >= count:
                return
