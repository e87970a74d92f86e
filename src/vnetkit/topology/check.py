"""A lab's expectations, checked: which probes to run, where to listen, and the report.

Owns: turning resolved checks (``CheckSpec``) into probes (the source node's
namespace, the address, and the namespaces that listen for tcp/udp),
``all_pairs`` (a ping from every node to every other node), running them all
at once (``run_checks``), the report (``CheckReport``: JSON for programs,
a table of checks or a nodes x nodes matrix for people) and the warning
when the checks need more neighbour entries than the kernel's table, shared
by every namespace, has room for (``neighbours_needed``). Pure but for
``run_checks``, which hands the probes to ``vnetkit.exec.probe``. Does not
own: sockets, errno or timing (``exec.probe``), reading checks from a file
(``resolve``), or exit statuses and printing (the CLI).

Where a tcp/udp check listens: in its destination node (the node it names,
or the node that has its address) on its port; except that when
(destination node, port, proto) is a published port (``spec.publish``), the
listener goes in the published container on the container port, the DNAT
target, and not in the destination node: a listener there would answer when
the DNAT rule is missing and hide the failure. Listeners are placed for
``expect: fail`` too, so a failure means the network, not a missing server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.table import Table
from rich.text import Text

from vnetkit.errors import TopologyError
from vnetkit.exec.host import Host
from vnetkit.exec.probe import Listen, NeighbourTable, Probe, neighbour_table, run_probes
from vnetkit.model.addresses import Address
from vnetkit.topology.spec import CheckSpec, LabSpec, NodeSpec

__all__ = [
    "CheckReport",
    "CheckResult",
    "all_pairs",
    "choose_address",
    "destination",
    "listeners",
    "neighbour_warnings",
    "neighbours_needed",
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
        """``{"checks": [...], "ok": bool}`` with plain values only."""
        return {"checks": [result.to_json() for result in self.results], "ok": self.ok}

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


def neighbours_needed(spec: LabSpec, checks: Sequence[CheckSpec]) -> dict[int, int]:
    """How many neighbour (ARP/NDP) entries the checks make, by IP version.

    A destination on a subnet of its source takes an entry in the source, and
    (when it is a node of the lab) one in the destination for the source's
    address, made as it answers. Routed checks share their gateway's entry.
    """
    entries: set[tuple[str, IPAddress]] = set()
    for check in checks:
        source = _node(spec, check.source, check, "source")
        mine = [a.interface.ip for a in _addresses(source) if check.address in a.interface.network]
        if not mine:
            continue
        entries.add((source.netns, check.address))
        target = destination(spec, check)
        if target is not None and target.name != source.name:
            entries.add((target.netns, mine[0]))
    counts = {4: 0, 6: 0}
    for _, address in entries:
        counts[address.version] += 1
    return {version: count for version, count in counts.items() if count}


def neighbour_warnings(needed: dict[int, int], tables: Sequence[NeighbourTable]) -> list[str]:
    """What to tell a user whose checks need more neighbour entries than the kernel's table has room for."""
    found = []
    for table in tables:
        want = needed.get(table.version, 0)
        if want and table.in_use + want > table.limit:
            family = "ipv4" if table.version == 4 else "ipv6"
            found.append(
                f"these checks need about {want} neighbour entries (IPv{table.version}) at once; the "
                f"kernel's table, shared by every namespace, holds {table.limit} "
                f"(net.{family}.neigh.default.gc_thresh3) and has {table.in_use} in use: probes past "
                f"that fail for want of an entry, and no namespace (the host's own included) can add "
                f"a neighbour until entries idle for 5 s are reclaimed. Raise gc_thresh3 (and "
                f"gc_thresh2) on the host, or check fewer pairs at once"
            )
    return found


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
    spec: LabSpec, checks: Sequence[CheckSpec] | None = None, *, host: Host, timeout: float = 2.0
) -> CheckReport:
    """Run ``checks`` (None: the lab's own) all at once, each within ``timeout`` seconds, and report.

    ``TopologyError`` for a check naming a node the lab lacks; ``NotFound``
    when a node's namespace does not exist (the lab is not up).
    """
    chosen = tuple(spec.checks if checks is None else checks)
    probes = [probe_for(spec, check) for check in chosen]
    needed = neighbours_needed(spec, chosen)
    tables = [table for version in needed if (table := neighbour_table(version)) is not None]
    warnings = tuple(neighbour_warnings(needed, tables))
    found = run_probes(host, probes, timeout=timeout)
    results = tuple(
        CheckResult(check, "pass" if result.ok else "fail", result.rtt_ms, result.reason)
        for check, result in zip(chosen, found, strict=True)
    )
    return CheckReport(results, nodes=tuple(node.name for node in spec.nodes), warnings=warnings)
