"""A lab's life: plan, up, status, down, list; the pipeline's steps put together.

Owns: ``plan`` (observe + plan_lab), ``up`` (plan, write the ledger
*before* creating anything, apply, write what is owned), ``down`` (delete
exactly the namespaces the ledger, or the file, names for this lab; safe
twice), ``status`` (each object ok / missing / drifted / extra) and
``labs`` (the labs with a ledger). Each takes the ``Host`` whose threads
and sockets it uses and the ``Ledgers`` directory. Does not own: any one
step (load, resolve, observe, plan_lab, apply_plan, the ledger format).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vnetkit.errors import ApplyError, NotFound
from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.iptables import IPTables
from vnetkit.iptables.sync import Canonical
from vnetkit.links import Namespaces
from vnetkit.topology.apply import apply_plan
from vnetkit.topology.firewall import Owned
from vnetkit.topology.ledger import Ledger, Ledgers
from vnetkit.topology.observe import Observed, observe
from vnetkit.topology.plan import LabPlan, plan_lab
from vnetkit.topology.spec import LabSpec

__all__ = ["LabInfo", "NodeStatus", "Status", "UpResult", "down", "labs", "plan", "status", "up"]


def _canonicals(host: Host, backend: str) -> Callable[[str], Canonical]:
    made: dict[str, Canonical] = {}

    def get(family: str) -> Canonical:
        if family not in made:
            made[family] = IPTables(family, host=host, backend=backend).canonicalizer()  # type: ignore[arg-type]
        return made[family]

    return get


def _owned(ledger: Ledger | None) -> dict[str, dict[str, Owned]]:
    return {} if ledger is None else ledger.rules


def plan(
    spec: LabSpec, *, host: Host, ledgers: Ledgers | None = None, backend: str = "auto"
) -> tuple[LabPlan, Observed]:
    """What ``up`` would do now, and what it saw; changes nothing."""
    ledgers = ledgers or Ledgers()
    ledger = ledgers.load(spec.name)
    known = ledger.nodes if ledger is not None else None
    observed = observe(spec, host=host, known=known, backend=backend)
    return plan_lab(spec, observed, canonical=_canonicals(host, backend), owned=_owned(ledger)), observed


@dataclass(frozen=True)
class UpResult:
    """What an ``up`` did: its plan (empty when the lab was already as declared) and the steps done."""

    plan: LabPlan
    done: tuple[str, ...] = ()


def up(
    spec: LabSpec,
    *,
    host: Host,
    ledgers: Ledgers | None = None,
    source: str | None = None,
    backend: str = "auto",
    progress: Callable[[int, int, str], None] | None = None,
) -> UpResult:
    """Make the lab exist as ``spec`` says, changing only what differs; ``ApplyError`` undoes this apply."""
    ledgers = ledgers or Ledgers()
    with ledgers.lock(spec.name):
        before = ledgers.load(spec.name)
        lab_plan, observed = plan(spec, host=host, ledgers=ledgers, backend=backend)
        if not lab_plan:
            if before is None or before.state != "up":  # an adopted lab: remember it
                _write(ledgers, spec, before, lab_plan, source, state="up")
            return UpResult(lab_plan)
        # Written before anything is created: a kill from here on leaves a ledger down can follow.
        _write(ledgers, spec, before, lab_plan, source, state="applying")
        try:
            done = apply_plan(
                lab_plan,
                spec,
                observed,
                host=host,
                canonical=_canonicals(host, backend),
                owned=_owned(before),
                backend=backend,
                progress=progress,
            )
        except ApplyError:
            if before is None:
                ledgers.remove(spec.name)
            else:
                ledgers.save(before)
            raise
        _write(ledgers, spec, before, lab_plan, source, state="up", applied=True)
        return UpResult(lab_plan, tuple(done))


def _write(
    ledgers: Ledgers,
    spec: LabSpec,
    before: Ledger | None,
    lab_plan: LabPlan,
    source: str | None,
    *,
    state: str,
    applied: bool = False,
) -> None:
    nodes = dict(before.nodes) if before is not None else {}
    nodes.update((n.name, n.netns) for n in spec.nodes)
    rules = dict(before.rules) if before is not None else {}
    if applied or not lab_plan:
        for node in lab_plan.removed:
            nodes.pop(node, None)
            rules.pop(node, None)
        for node, fams in lab_plan.owned.items():
            rules[node] = dict(fams)
    ledgers.save(
        Ledger(
            lab=spec.name,
            nodes=nodes,
            rules=rules,
            source=source if source is not None else (before.source if before else None),
            recipe=spec.recipe,
            state=state,
        )
    )


def down(name: str, *, host: Host, ledgers: Ledgers | None = None, spec: LabSpec | None = None) -> list[str]:
    """Delete the lab's namespaces (all it made lives in them) and its ledger; the namespaces deleted.

    The namespaces are the ledger's, and the file's when ``spec`` is given
    (a lab whose ledger is gone); never found by pattern. Safe to run
    twice: the second time there is nothing to delete.
    """
    ledgers = ledgers or Ledgers()
    with ledgers.lock(name):
        ledger = ledgers.load(name)
        targets: dict[str, str] = dict(ledger.nodes) if ledger is not None else {}
        if spec is not None:
            targets.update((n.name, n.netns) for n in spec.nodes)
        spaces = Namespaces()
        deleted: list[str] = []
        for netns in dict.fromkeys(targets.values()):
            if _netns.exists(netns):
                with contextlib.suppress(NotFound):
                    host.delete_netns(netns)
                    deleted.append(netns)
            spaces.remove_resolv_conf(netns)
        ledgers.remove(name)
    return deleted


@dataclass(frozen=True)
class LabInfo:
    """A lab that has a ledger: its name, state, namespaces (and how many exist), where it came from."""

    name: str
    state: str
    namespaces: tuple[str, ...]
    existing: int
    source: str | None
    recipe: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "nodes": len(self.namespaces),
            "namespaces_present": self.existing,
            "source": self.source,
            "recipe": self.recipe,
        }


def labs(ledgers: Ledgers | None = None) -> list[LabInfo]:
    """The labs with a ledger in ``ledgers``."""
    ledgers = ledgers or Ledgers()
    out = []
    for name in ledgers.labs():
        ledger = ledgers.load(name)
        if ledger is None:
            continue
        spaces = tuple(ledger.nodes.values())
        existing = sum(1 for ns in spaces if _netns.exists(ns))
        out.append(LabInfo(name, ledger.state, spaces, existing, ledger.source, ledger.recipe))
    return out


@dataclass
class NodeStatus:
    """One node: its namespace, state, and each interface with its addresses and state."""

    name: str
    netns: str
    state: str
    interfaces: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "netns": self.netns,
            "state": self.state,
            "interfaces": self.interfaces,
            "problems": self.problems,
        }


@dataclass
class Status:
    """A lab's state: per node, and the plan that would make it as declared (empty: all ok)."""

    lab: str
    nodes: list[NodeStatus]
    plan: LabPlan

    @property
    def ok(self) -> bool:
        return all(n.state == "ok" for n in self.nodes) and not self.plan

    def to_json(self) -> dict[str, Any]:
        return {
            "lab": self.lab,
            "ok": self.ok,
            "nodes": [n.to_json() for n in self.nodes],
            "pending": self.plan.lines(),
        }


def status(spec: LabSpec, *, host: Host, ledgers: Ledgers | None = None, backend: str = "auto") -> Status:
    """Each object of the lab: ok, missing, drifted (present, different) or extra (present, not declared)."""
    lab_plan, observed = plan(spec, host=host, ledgers=ledgers, backend=backend)
    by_node: dict[str, list[str]] = {}
    for action in lab_plan:
        by_node.setdefault(action.node, []).append(str(action))
    nodes: list[NodeStatus] = []
    for node in spec.nodes:
        state = observed.nodes[node.name]
        if not state.exists:
            nodes.append(
                NodeStatus(node.name, node.netns, "missing", problems=[f"namespace {node.netns} missing"])
            )
            continue
        interfaces = []
        for iface in node.interfaces:
            link = state.links.get(iface)
            want = [str(a.interface) for a in node.addresses_of(iface)]
            have = [str(a.interface) for a in state.addresses if a.dev == iface and not a.kernel_made]
            if link is None:
                word = "missing"
            elif sorted(want) != sorted(have):
                word = "drifted"
            else:
                word = "ok"
            interfaces.append(
                {
                    "name": iface,
                    "state": word,
                    "kind": link.kind if link else None,
                    "addresses": have,
                    "desired": want,
                }
            )
        declared = set(node.interfaces) | {"lo"}
        for name, link in state.links.items():
            if name not in declared:
                have = [str(a.interface) for a in state.addresses if a.dev == name and not a.kernel_made]
                interfaces.append(
                    {"name": name, "state": "extra", "kind": link.kind, "addresses": have, "desired": []}
                )
        problems = by_node.get(node.name, [])
        words = {i["state"] for i in interfaces}
        word = "ok" if not problems and words <= {"ok", "extra"} else "drifted"
        nodes.append(NodeStatus(node.name, node.netns, word, interfaces, problems))
    for name, netns in observed.leftovers.items():
        nodes.append(NodeStatus(name, netns, "extra", problems=[f"node {name} is no longer in the lab"]))
    return Status(spec.name, nodes, lab_plan)
