"""Observe a lab: what exists of it in the kernel, read in a constant number of requests per node.

Owns: ``observe`` (for each node of a resolved lab and each namespace its
ledger lists: whether the namespace exists, its links, addresses, routes of
the main table, the sysctls the lab sets, and the live rule tables of each
family the lab has rules for) and the values it returns (``Observed``,
``NodeState``). Reads only; never changes anything. Does not own: deciding
what to change (``plan``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vnetkit.errors import NotFound
from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.iptables import IPTables
from vnetkit.iptables.sync import LiveTable, live_from_save
from vnetkit.links import Links
from vnetkit.model.addresses import Address
from vnetkit.model.records import Link
from vnetkit.model.routes import Route
from vnetkit.topology.spec import LabSpec, NodeSpec

__all__ = ["NodeState", "Observed", "observe", "observe_node"]

MAIN = 254


@dataclass
class NodeState:
    """One namespace as it is: ``exists`` False means nothing else was read."""

    netns: str
    exists: bool
    links: dict[str, Link] = field(default_factory=dict)
    addresses: list[Address] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    rules: dict[str, dict[str, LiveTable]] = field(default_factory=dict)  # "ipv4"/"ipv6" -> tables
    saved: dict[str, str] = field(default_factory=dict)  # "ipv4"/"ipv6" -> iptables-save text


@dataclass
class Observed:
    """What exists of one lab: by node name, plus namespaces only the ledger still names."""

    lab: str
    nodes: dict[str, NodeState] = field(default_factory=dict)
    leftovers: dict[str, str] = field(default_factory=dict)  # node -> namespace (gone from the file)


def family(ipv6: bool) -> str:
    """The key of a family in ``NodeState.rules``."""
    return "ipv6" if ipv6 else "ipv4"


def observe_node(node: NodeSpec, *, host: Host, backend: str = "auto") -> NodeState:
    """What exists of ``node``: its namespace, links, addresses, routes, sysctls and rules."""
    if not _netns.exists(node.netns):
        return NodeState(node.netns, exists=False)
    links = Links(node.netns, host=host)
    try:
        now = links.state(table=MAIN)  # three dumps: links, addresses, routes of the main table
    except NotFound:  # deleted while we read
        return NodeState(node.netns, exists=False)
    state = NodeState(
        node.netns,
        exists=True,
        links={link.name: link for link in now.links},
        addresses=list(now.addresses),
        routes=list(now.routes),
    )
    for key, _ in node.sysctls:
        state.sysctls[key] = links.sysctl(key)
    for rules in node.rules:
        ipt = IPTables("ipv6" if rules.ipv6 else "ipv4", netns=node.netns, host=host, backend=backend)  # type: ignore[arg-type]
        text = ipt.save_text()
        state.saved[family(rules.ipv6)] = text
        state.rules[family(rules.ipv6)] = live_from_save(text)
    return state


def observe(
    spec: LabSpec,
    *,
    host: Host,
    known: dict[str, str] | None = None,
    backend: str = "auto",
) -> Observed:
    """What exists of ``spec``'s lab; ``known`` (node -> namespace, from the ledger) adds leftovers."""
    out = Observed(spec.name)
    for node in spec.nodes:
        out.nodes[node.name] = observe_node(node, host=host, backend=backend)
    for name, netns in (known or {}).items():
        if name not in out.nodes and _netns.exists(netns):
            out.leftovers[name] = netns
    return out
