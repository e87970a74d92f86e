"""A resolved lab: every default filled, every name final, every object typed.

Owns: ``LabSpec`` (what ``resolve`` returns and every later step reads:
observe, plan, apply, check, graph), ``NodeSpec`` (one namespace: its link
specs, addresses, routes, sysctls and rules), ``RulesSpec`` (a node's
desired rules for one family, with how each is owned), ``CheckSpec`` and
``Publish``. Frozen values, pure. Does not own: how a file becomes one
(``resolve``) or what is done with it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from vnetkit.model import Rule
from vnetkit.model.addresses import Address
from vnetkit.model.links import LinkSpec
from vnetkit.model.routes import Route
from vnetkit.topology.model import Lab

__all__ = ["CheckSpec", "LabSpec", "NodeSpec", "Publish", "RulesSpec", "netns_name"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
TableChain = tuple[str, str]


def netns_name(lab: str, node: str) -> str:
    """The namespace of ``node`` in ``lab``: ``vnk-<lab>-<node>``."""
    return f"vnk-{lab}-{node}"


@dataclass(frozen=True, slots=True)
class RulesSpec:
    """A node's desired rules for one family, and how each is owned.

    ``chains``: chains the lab owns, each with exactly these rules, in order
    (created when missing, rules diffed in place, deleted when no longer
    desired). ``placed``: rules the lab puts in chains it does not own
    (built-in ones), each owned on its own (appended when missing; removed
    when a later apply no longer wants it). ``kept``: chains created when
    missing whose rules are never touched (a user's chain such as
    DOCKER-USER). ``policies``: built-in chains' policies.
    """

    ipv6: bool = False
    chains: tuple[tuple[TableChain, tuple[Rule, ...]], ...] = ()
    placed: tuple[tuple[TableChain, Rule], ...] = ()
    kept: tuple[TableChain, ...] = ()
    policies: tuple[tuple[TableChain, str], ...] = ()

    @property
    def tables(self) -> list[str]:
        """The tables these rules touch, in iptables' order."""
        seen = {t for (t, _), _ in self.chains} | {t for (t, _), _ in self.placed}
        seen |= {t for t, _ in self.kept} | {t for (t, _), _ in self.policies}
        return [t for t in ("raw", "mangle", "nat", "filter", "security") if t in seen]

    def __bool__(self) -> bool:
        return bool(self.chains or self.placed or self.kept or self.policies)


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node: its namespace and what should be in it.

    ``links`` are the links made in this namespace (a veth is listed by the
    node of its first end, with ``peer_netns`` naming the other end's
    namespace); ``interfaces`` names every interface the node has, in
    declaration order, veth ends made from the other side included.
    """

    name: str
    netns: str
    links: tuple[LinkSpec, ...] = ()
    interfaces: tuple[str, ...] = ()
    addresses: tuple[Address, ...] = ()
    routes: tuple[Route, ...] = ()
    sysctls: tuple[tuple[str, str], ...] = ()
    rules: tuple[RulesSpec, ...] = ()

    def addresses_of(self, ifname: str) -> list[Address]:
        """The addresses of one interface, in order."""
        return [a for a in self.addresses if a.dev == ifname]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One expectation, resolved: from a node to an address (and port), pass or fail.

    ``target`` is the destination node's name when the file named a node
    (None for an address). ``text`` is the check as written, for reports.
    """

    source: str
    address: IPAddress
    proto: Literal["icmp", "tcp", "udp"] = "icmp"
    port: int | None = None
    expect: Literal["pass", "fail"] = "pass"
    target: str | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Publish:
    """A published port, for pictures and reports: ``node:host_port`` reaches ``container:port``."""

    node: str
    host_port: int
    container: str
    address: IPAddress
    port: int
    proto: str = "tcp"


@dataclass(frozen=True, slots=True)
class LabSpec:
    """A whole lab, resolved; ``lab`` is the low-level form it came from (a recipe's expansion)."""

    name: str
    nodes: tuple[NodeSpec, ...]
    lab: Lab
    checks: tuple[CheckSpec, ...] = ()
    publish: tuple[Publish, ...] = ()
    recipe: str | None = None
    group: int = 0
    _index: dict[str, NodeSpec] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update((n.name, n) for n in self.nodes)

    def node(self, name: str) -> NodeSpec:
        """The node called ``name`` (KeyError if none)."""
        return self._index[name]

    def __iter__(self) -> Iterator[NodeSpec]:
        return iter(self.nodes)

    @property
    def namespaces(self) -> list[str]:
        """Every namespace of the lab, in node order."""
        return [n.netns for n in self.nodes]
