"""A lab's expectations, checked: which probes to run, where to listen, and the report.

Owns: turning resolved checks (``CheckSpec``) into probes (the source node's
namespace, the address, and the namespaces that listen for tcp/udp),
``all_pairs`` (a ping from every node to every other node), the address to
reach a node by (``choose_address``, also what ``resolve`` uses for a check
to a node), running checks all at once (``run_checks``), the report
(``CheckReport``: JSON for programs, a table of checks or a nodes x nodes
matrix for people), and what the checks ask of the kernel's neighbour
table (``neighbour_needs``, ``neighbour_demands``): pins to make, or why
not to run at all. Pure but for ``run_checks``, which pins neighbours
(``vnetkit.exec.neighbours``) and hands the probes to ``vnetkit.exec.probe``.
Does not own: sockets, errno, netlink or timing (``exec``), reading checks
from a file (``resolve``), or exit statuses and printing (the CLI).

One neighbour table serves every namespace, the host's own included, capped
by the root namespace's ``gc_thresh3`` (1,024 by default; all pairs of 50
nodes on one segment need ~2,450 entries). When the checks need more than a
safe share of it, entries whose destination is an interface of the lab are
pinned for the run (permanent entries do not count against the cap); when
what cannot be pinned would still overflow it, the run is refused.

Where a tcp/udp check listens: in its destination node (the node it names,
or the node that has its address) on its port; except that when
(destination node, port, proto) is a published port (``spec.publish``), the
listener goes in the published container on the container port, the DNAT
target, and not in the destination node: a listener there would answer when
the DNAT rule is missing and hide the failure. Listeners are placed for
``expect: fail`` too, so a failure means the network, not a missing server.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.table import Table
from rich.text import Text

from vnetkit.errors import OperationError, TopologyError, VnetkitError
from vnetkit.exec.host import Host
from vnetkit.exec.neighbours import NeighbourTable, Pin, Pinned, neighbour_table, pin_neighbours
from vnetkit.exec.probe import Listen, Probe, run_probes
from vnetkit.model.addresses import Address
from vnetkit.topology.spec import CheckSpec, LabSpec, NodeSpec

__all__ = [
    "CheckReport",
    "CheckResult",
    "NeighbourDemand",
    "NeighbourNeed",
    "all_pairs",
    "choose_address",
    "destination",
    "listeners",
    "neighbour_demands",
    "neighbour_needs",
    "probe_for",
    "run_checks",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Outcome = Literal["pass", "fail"]

_PASS = Text("✓", style="bold green")
_FAIL = Text("✗", style="bold red")


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's result: its ``outcome``, round trip in ms (None unless it passed) and a short reason."""

    check: CheckSpec
    outcome: Outcome
    rtt_ms: float | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether the expectation held (the outcome is what was expected)."""
        return self.outcome == self.check.expect

    @property
    def to(self) -> str:
        """The destination as named: the node, else the address."""
        return self.check.target if self.check.target is not None else str(self.check.address)

    def to_json(self) -> dict[str, object]:
        """This result as plain values (the shape ``lab check --json`` prints)."""
        return {
            "from": self.check.source,
            "to": self.to,
            "address": str(self.check.address),
            "proto": self.check.proto,
            "port": self.check.port,
            "expect": self.check.expect,
            "result": self.outcome,
            "ok": self.ok,
            "rtt_ms": self.rtt_ms,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every check's result, in order; ``nodes`` (the lab's, in order) are the matrix's rows and columns.

    ``warnings`` say why failures may not be the lab's fault (a kernel table
    too small for this many checks at once); they are not part of ``ok``.
    """

    results: tuple[CheckResult, ...]
    nodes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every expectation held."""
        return all(result.ok for result in self.results)

    @property
    def failed(self) -> list[CheckResult]:
        """The results whose expectation did not hold."""
        return [result for result in self.results if not result.ok]

    def to_json(self) -> dict[str, object]:
        """``{"checks": [...], "ok": bool, "warnings": [...]}`` with plain values only."""
        return {
            "checks": [result.to_json() for result in self.results],
            "ok": self.ok,
            "warnings": list(self.warnings),
        }

    def table(self) -> Table:
        """One row per check: ✓ (green) when the expectation held, ✗ (red) when not."""
        held = len(self.results) - len(self.failed)
        title = f"checks: {held} of {len(self.results)} as expected"
        out = Table(title=Text(title), title_justify="left", min_width=len(title), box=box.SIMPLE_HEAD)
        for name in ("", "from", "to", "address", "proto", "port", "expect", "result", "rtt ms", "reason"):
            out.add_column(name, justify="right" if name in ("port", "rtt ms") else "left")
        for result in self.results:
            check = result.check
            out.add_row(
                _PASS if result.ok else _FAIL,
                Text(check.source),
                Text(result.to),
                Text(str(check.address)),
                Text(check.proto),
                Text("" if check.port is None else str(check.port)),
                Text(check.expect),
                Text(result.outcome, style="green" if result.ok else "red"),
                Text("" if result.rtt_ms is None else f"{result.rtt_ms:.2f}"),
                Text(result.reason),
            )
        return out

    def matrix(self) -> Table:
        """Nodes x nodes: a row per source, a column per destination (checks naming a node).

        ✓ when every check of the pair passed, ✗ when one failed, green when
        that was expected and red when not; · on the diagonal, blank for a
        pair with no check.
        """
        pairs: dict[tuple[str, str], list[CheckResult]] = {}
        for result in self.results:
            if result.check.target is not None:
                pairs.setdefault((result.check.source, result.check.target), []).append(result)
        named = {name for pair in pairs for name in pair}
        nodes = [n for n in self.nodes if n in named] + sorted(named.difference(self.nodes))
        held = sum(result.ok for found in pairs.values() for result in found)
        total = sum(len(found) for found in pairs.values())
        title = f"reachability: {held} of {total} as expected (rows: from, columns: to)"
        out = Table(title=Text(title), title_justify="left", min_width=len(title), box=box.SIMPLE_HEAD)
        out.add_column("from \\ to")
        for node in nodes:
            out.add_column(Text(node), justify="center")
        for source in nodes:
            cells = [Text(source)]
            for target in nodes:
                found = pairs.get((source, target), [])
                if source == target and not found:
                    cells.append(Text("·", style="dim"))
                elif not found:
                    cells.append(Text(""))
                else:
                    passed = all(result.outcome == "pass" for result in found)
                    ok = all(result.ok for result in found)
                    cells.append(Text("✓" if passed else "✗", style="bold green" if ok else "bold red"))
            out.add_row(*cells)
        return out


def _usable(address: Address) -> bool:
    """An address another node can be sent to without naming an interface."""
    ip = address.interface.ip
    return not (
        ip.is_loopback or ip.is_unspecified or ip.is_multicast or (ip.version == 6 and ip.is_link_local)
    )


def _addresses(node: NodeSpec) -> list[Address]:
    return [address for address in node.addresses if _usable(address)]


def choose_address(source: NodeSpec, target: NodeSpec) -> IPAddress | None:
    """The address of ``target`` to reach it from ``source`` at: the first one on a subnet the source
    is on, else the first of a family the source has, else its first; None if it has none."""
    theirs = _addresses(target)
    ours = _addresses(source)
    for address in theirs:
        if any(address.interface.ip in mine.interface.network for mine in ours):
            return address.interface.ip
    families = {mine.interface.version for mine in ours}
    for address in theirs:
        if address.interface.version in families:
            return address.interface.ip
    return theirs[0].interface.ip if theirs else None


def all_pairs(spec: LabSpec) -> list[CheckSpec]:
    """A ping (expect pass) from every node to every other node, in node order.

    A node without an address (loopback and IPv6 link-local do not count) is
    neither a destination nor a source: it has nothing to answer or send from.
    """
    usable = [node for node in spec.nodes if _addresses(node)]
    checks = []
    for source in usable:
        for target in usable:
            if target.name == source.name:
                continue
            address = choose_address(source, target)
            if address is not None:
                checks.append(
                    CheckSpec(
                        source=source.name,
                        address=address,
                        target=target.name,
                        text=f"{source.name} -> {target.name}",
                    )
                )
    return checks


def _node(spec: LabSpec, name: str, check: CheckSpec, role: str) -> NodeSpec:
    try:
        return spec.node(name)
    except KeyError:
        known = ", ".join(node.name for node in spec.nodes) or "none"
        raise TopologyError(
            f"check {_label(check)}: {role} {name!r} is not a node of lab {spec.name!r} (nodes: {known})"
        ) from None


def _label(check: CheckSpec) -> str:
    if check.text:
        return repr(check.text)
    port = "" if check.port is None else f":{check.port}"
    return f"{check.source} -> {check.target or check.address}{port} ({check.proto})"


def destination(spec: LabSpec, check: CheckSpec) -> NodeSpec | None:
    """The node a check goes to: the one it names, else the one with its address (None: not in the lab)."""
    if check.target is not None:
        return _node(spec, check.target, check, "destination")
    for node in spec.nodes:
        if any(address.interface.ip == check.address for address in node.addresses):
            return node
    return None


def listeners(spec: LabSpec, check: CheckSpec) -> tuple[Listen, ...]:
    """Where a tcp/udp check listens (see the module's docstring); none for icmp or outside the lab."""
    if check.proto == "icmp" or check.port is None:
        return ()
    target = destination(spec, check)
    if target is None:
        return ()
    published = [
        entry
        for entry in spec.publish
        if (entry.node, entry.host_port, entry.proto) == (target.name, check.port, check.proto)
    ]
    if not published:
        return (Listen(target.netns, check.port),)
    found: list[Listen] = []
    for entry in published:
        where = Listen(_node(spec, entry.container, check, "published container").netns, entry.port)
        if where not in found:
            found.append(where)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class NeighbourNeed:
    """A neighbour (ARP/NDP) entry the checks make: in ``netns``, on ``dev``, for ``address``.

    ``owner`` is the (namespace, interface) that has ``address`` when a
    node of the lab does (its link-layer address is the entry's); with
    ``dev`` it makes the entry pinnable.
    """

    netns: str
    address: IPAddress
    dev: str | None
    owner: tuple[str, str] | None

    def pin(self) -> Pin | None:
        """The permanent entry that stands in for this one; None when not known enough to make."""
        if self.dev is None or self.owner is None:
            return None
        return Pin(self.netns, self.dev, self.address, *self.owner)


def _owner(spec: LabSpec, address: IPAddress) -> tuple[str, str] | None:
    found = [(n.netns, a.dev) for n in spec.nodes for a in n.addresses if a.interface.ip == address]
    return next(((netns, dev) for netns, dev in found if dev is not None), None)


def neighbour_needs(spec: LabSpec, checks: Sequence[CheckSpec]) -> list[NeighbourNeed]:
    """The neighbour entries the checks make, each once, in order.

    A destination on a subnet of its source takes an entry in the source, and
    (when it is a node of the lab) one in the destination for the source's
    address, made as it answers. Routed checks share their gateway's entry.
    """
    found: dict[tuple[str, IPAddress], NeighbourNeed] = {}
    for check in checks:
        source = _node(spec, check.source, check, "source")
        mine = [a for a in _addresses(source) if check.address in a.interface.network]
        if not mine:
            continue
        key = (source.netns, check.address)
        if key not in found:
            found[key] = NeighbourNeed(source.netns, check.address, mine[0].dev, _owner(spec, check.address))
        target = destination(spec, check)
        if target is None or target.name == source.name:
            continue
        back = mine[0].interface.ip
        theirs = [a.dev for a in target.addresses if a.interface.ip == check.address]
        owner = (source.netns, mine[0].dev) if mine[0].dev is not None else None
        key = (target.netns, back)
        if key not in found:
            found[key] = NeighbourNeed(target.netns, back, theirs[0] if theirs else None, owner)
    return list(found.values())


@dataclass(frozen=True, slots=True)
class NeighbourDemand:
    """What the checks ask of one version's neighbour table: ``need`` entries, ``pins`` (permanent
    entries that stand in for some, when pinning) and ``left``, the entries no pin stands in for."""

    table: NeighbourTable
    need: int
    pins: tuple[Pin, ...]
    left: int

    @property
    def room(self) -> int:
        """A safe share of the table: half of what it has before it starts reclaiming (gc_thresh2)."""
        return max(0, (self.table.soft - self.table.in_use) // 2)

    def refusal(self, left: int | None = None, why: str = "") -> str | None:
        """Why the run must not go ahead (``left`` dynamic entries would overflow the table); else None."""
        left, table = self.left if left is None else left, self.table
        if table.in_use + left <= table.limit:
            return None
        why = why or "their destinations are not interfaces of the lab"
        return (
            f"refusing to run these checks: they need about {self.need} neighbour entries (IPv"
            f"{table.version}) at once and {left} cannot be pinned for the run ({why}). The kernel's "
            f"neighbour table is shared by every namespace, the host's own included: it holds "
            f"{table.limit} ({table.sysctl}) and has {table.in_use} in use, so probes would fail for want "
            f"of an entry and the host could not resolve its own neighbours meanwhile. Check fewer pairs "
            f"at once, or raise {table.sysctl} (and gc_thresh2) in the root namespace: your decision"
        )

    def warning(self) -> str | None:
        """What to tell a user whose unpinned entries crowd the table (without overflowing it)."""
        if self.left <= self.room:
            return None
        return (
            f"these checks make about {self.left} neighbour entries (IPv{self.table.version}) that cannot "
            f"be pinned; the kernel's table, shared by every namespace, reclaims idle entries past "
            f"{self.table.soft} (gc_thresh2) and has {self.table.in_use} in use: the host's own entries "
            f"may be reclaimed meanwhile"
        )

    def pinned(self, added: int, existing: int, namespaces: int) -> str:
        """What the report says when the run pinned entries."""
        table, there = self.table, f" ({existing} were there already: left alone)" if existing else ""
        return (
            f"neighbours pinned for this run: {added} permanent entries (IPv{table.version}) in "
            f"{namespaces} namespaces{there}, removed afterwards: the checks need about {self.need} "
            f"entries at once, the kernel's table (shared by every namespace and the host) has room for "
            f"about {self.room} (gc_thresh2 {table.soft}, {table.in_use} in use), and permanent entries "
            f"do not count against its limit ({table.limit})"
        )


def neighbour_demands(
    spec: LabSpec, checks: Sequence[CheckSpec], tables: Sequence[NeighbourTable], *, pin: bool | None = None
) -> list[NeighbourDemand]:
    """For each table (version) the checks use: their need, the pins to make, what is left (pure).

    ``pin``: None pins when the need is more than the room, True always, False never.
    """
    needs = neighbour_needs(spec, checks)
    out = []
    for table in tables:
        mine = [need for need in needs if need.address.version == table.version]
        if not mine:
            continue
        demand = NeighbourDemand(table, len(mine), (), len(mine))
        if pin or (pin is None and demand.need > demand.room):
            pins = tuple(made for need in mine if (made := need.pin()) is not None)
            demand = NeighbourDemand(table, len(mine), pins, len(mine) - len(pins))
        out.append(demand)
    return out


def probe_for(spec: LabSpec, check: CheckSpec) -> Probe:
    """The probe that checks ``check``: from its source node's namespace, listening where it should."""
    if check.proto != "icmp" and check.port is None:
        raise TopologyError(f"check {_label(check)}: a {check.proto} check needs a port")
    source = _node(spec, check.source, check, "source")
    return Probe(
        netns=source.netns,
        address=check.address,
        proto=check.proto,
        port=check.port if check.proto != "icmp" else None,
        listen=listeners(spec, check),
    )


def run_checks(
    spec: LabSpec,
    checks: Sequence[CheckSpec] | None = None,
    *,
    host: Host,
    timeout: float = 2.0,
    pin: bool | None = None,
) -> CheckReport:
    """Run ``checks`` (None: the lab's own) all at once, each within ``timeout`` seconds, and report.

    When they need more neighbour entries than the kernel's shared table has
    room for, the entries are pinned for the run (``neighbour_demands``; the
    report's ``warnings`` say so; ``pin`` True: always, False: never) and
    removed afterwards; when even that
    would leave the table overflowing, ``OperationError`` says why, before
    anything is sent. ``TopologyError`` for a check naming a node the lab
    lacks; ``NotFound`` when a node's namespace does not exist (the lab is
    not up).
    """
    chosen = tuple(spec.checks if checks is None else checks)
    probes = [probe_for(spec, check) for check in chosen]
    versions = sorted({need.address.version for need in neighbour_needs(spec, chosen)})
    tables = [table for version in versions if (table := neighbour_table(version)) is not None]
    demands = neighbour_demands(spec, chosen, tables, pin=pin)
    for demand in demands:
        if (refusal := demand.refusal()) is not None:
            raise OperationError(refusal)
    pins = [pin for demand in demands for pin in demand.pins]
    pinned = pin_neighbours(host, pins) if pins else None
    try:
        warnings = _pinned(demands, pinned) if pinned is not None else []
        warnings += [warning for demand in demands if (warning := demand.warning()) is not None]
        found = run_probes(host, probes, timeout=timeout)
    except BaseException:
        if pinned is not None:
            with contextlib.suppress(VnetkitError):  # the first error is the one to tell
                pinned.remove()
        raise
    if pinned is not None:
        pinned.remove()
    results = tuple(
        CheckResult(check, "pass" if result.ok else "fail", result.rtt_ms, result.reason)
        for check, result in zip(chosen, found, strict=True)
    )
    return CheckReport(results, nodes=tuple(node.name for node in spec.nodes), warnings=tuple(warnings))


def _pinned(demands: Sequence[NeighbourDemand], pinned: Pinned) -> list[str]:
    """The report's words for what was pinned; ``OperationError`` if what could not be still overflows."""
    notes = []
    for demand in demands:
        if not demand.pins:
            continue
        version = demand.table.version
        missed = [(pin, why) for pin, why in pinned.missed if pin.address.version == version]
        reasons = "; ".join(sorted({why for _, why in missed})[:3])
        if (refusal := demand.refusal(demand.left + len(missed), reasons)) is not None:
            raise OperationError(refusal)
        added = sum(pin.address.version == version for pin in pinned.added)
        existing = sum(pin.address.version == version for pin in pinned.existing)
        namespaces = len({pin.netns for pin in pinned.added if pin.address.version == version})
        notes.append(demand.pinned(added, existing, namespaces))
    return notes
