"""Plan a lab: desired (``LabSpec``) against observed (``Observed``) -> ordered, printable actions; pure.

Owns: ``plan_lab`` and the actions it returns (``LabPlan``): namespaces to
delete (nodes gone from the file) and to create, link actions
(``plan_links`` over every namespace at once, links owned by their
``vnetkit:<lab>:`` alias), sysctls, addresses, routes, and each node's
rules (``plan_rules``). The order is the order of dependencies: a
namespace before its links, a link before its addresses, addresses before
routes through them, everything before the rules. Nothing touches the
kernel here; the canonical forms of rules come from the function the caller
passes (it may ask the tool in a private scratch namespace, never the
lab's). Does not own: observing (``observe``) or carrying a plan out
(``apply``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from vnetkit.iptables.sync import Canonical, SyncPlan
from vnetkit.links.plan import LinkAction, plan_links
from vnetkit.model.addresses import Address
from vnetkit.model.links import LinkSpec
from vnetkit.model.records import Link
from vnetkit.model.routes import Route
from vnetkit.topology.firewall import Owned, owned_after, plan_rules
from vnetkit.topology.observe import NodeState, Observed, family
from vnetkit.topology.spec import LabSpec, NodeSpec

__all__ = [
    "AddressAction",
    "LabPlan",
    "LinkStep",
    "NamespaceAction",
    "RouteAction",
    "RulesAction",
    "SysctlAction",
    "plan_lab",
]

MAIN = 254


@dataclass(frozen=True, slots=True)
class NamespaceAction:
    """Create or delete a node's namespace (deleting it removes everything in it)."""

    verb: Literal["create", "delete"]
    node: str
    netns: str

    def __str__(self) -> str:
        return f"{self.verb} namespace {self.netns} (node {self.node})"


@dataclass(frozen=True, slots=True)
class LinkStep:
    """A link action in a node's namespace."""

    node: str
    action: LinkAction

    @property
    def netns(self) -> str:
        return str(self.action.netns)

    def __str__(self) -> str:
        return f"{self.node}: {self.action}"


@dataclass(frozen=True, slots=True)
class AddressAction:
    """Add or delete an address of a node's interface."""

    verb: Literal["add", "delete"]
    node: str
    netns: str
    address: Address

    def __str__(self) -> str:
        return f"{self.node}: {self.verb} address {self.address.interface} on {self.address.dev}"


@dataclass(frozen=True, slots=True)
class RouteAction:
    """Add or delete a route of a node."""

    verb: Literal["add", "delete"]
    node: str
    netns: str
    route: Route

    def __str__(self) -> str:
        return f"{self.node}: {self.verb} route {self.route}"


@dataclass(frozen=True, slots=True)
class SysctlAction:
    """Set a sysctl of a node's namespace (``before``: its value now, to undo)."""

    node: str
    netns: str
    key: str
    value: str
    before: str | None

    def __str__(self) -> str:
        was = f" (was {self.before})" if self.before is not None else ""
        return f"{self.node}: set {self.key} = {self.value}{was}"


@dataclass(frozen=True, slots=True)
class RulesAction:
    """Change a node's rules of one family: the planned changes; ``owned``: what it owns after."""

    node: str
    netns: str
    family: str
    plan: SyncPlan
    owned: Owned

    def __str__(self) -> str:
        return f"{self.node}: {family_word(self.family)} rules: {len(self.plan.changes)} change(s)"

    def lines(self) -> list[str]:
        """Each rule change as one line."""
        return [
            f"{self.node}: {family_word(self.family)} {c.action} {c.table} {c.chain}"
            + (f": {c.rule}" if c.rule else "")
            for c in self.plan.changes
        ]


def family_word(name: str) -> str:
    return "ip6tables" if name == "ipv6" else "iptables"


Action = NamespaceAction | LinkStep | AddressAction | RouteAction | SysctlAction | RulesAction


@dataclass(frozen=True, slots=True)
class LabPlan:
    """The actions that turn what exists into the lab, in order; false when there is nothing to do.

    ``owned`` is what the lab owns of the rules after the plan (for the
    ledger), by node then family, also for nodes whose rules need no change.
    """

    lab: str
    actions: tuple[Action, ...] = ()
    owned: Mapping[str, Mapping[str, Owned]] = field(default_factory=dict)
    removed: tuple[str, ...] = ()  # nodes whose namespace the plan deletes

    def __bool__(self) -> bool:
        return bool(self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def __iter__(self) -> Iterator[Action]:
        return iter(self.actions)

    def lines(self) -> list[str]:
        """Each action as a line; rule changes one per line."""
        out: list[str] = []
        for action in self.actions:
            out.extend(action.lines() if isinstance(action, RulesAction) else [str(action)])
        return out

    def to_json(self) -> list[dict[str, Any]]:
        """The actions as plain dicts (``kind``, ``node``, ``text``; rule changes listed)."""
        out: list[dict[str, Any]] = []
        for action in self.actions:
            entry: dict[str, Any] = {"kind": _kind(action), "node": action.node, "text": str(action)}
            if isinstance(action, RulesAction):
                entry["changes"] = [
                    {"action": c.action, "table": c.table, "chain": c.chain, "rule": c.rule}
                    for c in action.plan.changes
                ]
            out.append(entry)
        return out


def _kind(action: Action) -> str:
    return {
        NamespaceAction: "namespace",
        LinkStep: "link",
        AddressAction: "address",
        RouteAction: "route",
        SysctlAction: "sysctl",
        RulesAction: "rules",
    }[type(action)]


def plan_lab(
    spec: LabSpec,
    observed: Observed,
    *,
    canonical: Callable[[str], Canonical],
    owned: Mapping[str, Mapping[str, Owned]] | None = None,
) -> LabPlan:
    """The actions that make ``observed`` into ``spec``; pure.

    ``canonical(family)`` gives the canonical-form function of "ipv4" or
    "ipv6" rules; ``owned`` is what the last apply owned of each node's
    rules (the ledger's).
    """
    owned = owned or {}
    actions: list[Action] = []
    for gone, netns in observed.leftovers.items():
        actions.append(NamespaceAction("delete", gone, netns))
    states = {n.name: observed.nodes.get(n.name) or NodeState(n.netns, exists=False) for n in spec.nodes}
    for node in spec.nodes:
        if not states[node.name].exists:
            actions.append(NamespaceAction("create", node.name, node.netns))
    actions.extend(_links(spec, states))
    after: dict[str, dict[str, Owned]] = {}
    for node in spec.nodes:
        state = states[node.name]
        actions.extend(_sysctls(node, state))
        actions.extend(_addresses(node, state))
        actions.extend(_routes(node, state))
        for rules in node.rules:
            fam = family(rules.ipv6)
            canon = canonical(fam)
            before = owned.get(node.name, {}).get(fam, Owned())
            plan = plan_rules(rules, state.rules.get(fam, {}), canonical=canon, owned=before)
            after.setdefault(node.name, {})[fam] = owned_after(rules, canon)
            if plan:
                actions.append(RulesAction(node.name, node.netns, fam, plan, after[node.name][fam]))
    return LabPlan(spec.name, tuple(actions), after, tuple(observed.leftovers))


def _links(spec: LabSpec, states: Mapping[str, NodeState]) -> list[LinkStep]:
    prefix = f"vnetkit:{spec.name}:"
    desired: dict[str | None, list[LinkSpec]] = {node.netns: list(node.links) for node in spec.nodes}
    observed: dict[str | None, list[Link]] = {
        node.netns: list(states[node.name].links.values()) for node in spec.nodes
    }

    def owned(netns: str | None, link: Link) -> bool:
        return (link.alias or "").startswith(prefix)

    node_of = {node.netns: node.name for node in spec.nodes}
    plan = plan_links(desired, observed, owned=owned)
    return [LinkStep(node_of.get(str(a.netns), "?"), a) for a in plan]


def _sysctls(node: NodeSpec, state: NodeState) -> list[SysctlAction]:
    out = []
    for key, value in node.sysctls:
        now = state.sysctls.get(key)
        if now is None or now.strip() != value:
            out.append(SysctlAction(node.name, node.netns, key, value, now))
    return out


def _addresses(node: NodeSpec, state: NodeState) -> list[AddressAction]:
    want = {(a.dev, a.interface) for a in node.addresses}
    have = [a for a in state.addresses if a.dev in node.interfaces and not a.kernel_made]
    have_keys = {(a.dev, a.interface) for a in have}
    out: list[AddressAction] = []
    for a in have:
        if (a.dev, a.interface) not in want:
            out.append(AddressAction("delete", node.name, node.netns, a))
    for a in node.addresses:
        if (a.dev, a.interface) not in have_keys:
            out.append(AddressAction("add", node.name, node.netns, a))
    return out


def _matches(want: Route, have: Route) -> bool:
    return (
        want.dst == have.dst
        and want.gateway == have.gateway
        and want.metric == have.metric
        and want.table == have.table
        and (want.dev is None or want.dev == have.dev)
    )


def _routes(node: NodeSpec, state: NodeState) -> list[RouteAction]:
    static = [r for r in state.routes if r.protocol == "boot" and r.table == MAIN and r.type == "unicast"]
    out: list[RouteAction] = []
    for have in static:
        if not any(_matches(want, have) for want in node.routes):
            out.append(RouteAction("delete", node.name, node.netns, have))
    for want in node.routes:
        if not any(_matches(want, have) for have in static):
            out.append(RouteAction("add", node.name, node.netns, want))
    return out
