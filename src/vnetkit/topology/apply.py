"""Carry out a ``LabPlan`` in order; on a failure, undo this apply's steps and raise ``ApplyError``.

Owns: ``apply_plan`` (each action through the clients: namespaces through
the host, links through ``Links``/``execute``, addresses, routes and
sysctls through ``Links``, rules through ``IPTables.converge`` with the
lab's ownership, re-planned under the namespace's lock so a rule changed
since the plan is still handled right) and the undo: namespaces created
are deleted, links created deleted, settings put back, addresses and routes
removed or re-added, rule tables restored to what they were. Does not
own: the ledger (the caller writes it before and after), planning.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from vnetkit.errors import ApplyError, NotFound, VnetkitError
from vnetkit.exec.host import Host
from vnetkit.iptables import IPTables
from vnetkit.iptables.savefile import parse_save
from vnetkit.iptables.sync import Canonical, LiveTable, SyncPlan
from vnetkit.links import Links
from vnetkit.links.plan import LinkAction, execute
from vnetkit.model import Ruleset
from vnetkit.topology.firewall import Owned, desired_rules, plan_rules
from vnetkit.topology.observe import Observed, family
from vnetkit.topology.plan import (
    AddressAction,
    LabPlan,
    LinkStep,
    NamespaceAction,
    RouteAction,
    RulesAction,
    SysctlAction,
)
from vnetkit.topology.spec import LabSpec

__all__ = ["apply_plan"]

Undo = tuple[str, Callable[[], None]]


@dataclass
class _Run:
    spec: LabSpec
    observed: Observed
    host: Host
    canonical: Callable[[str], Canonical]
    owned: Mapping[str, Mapping[str, Owned]]
    backend: str = "auto"
    links: dict[str, Links] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    undo: list[Undo] = field(default_factory=list)

    def client(self, netns: str | None) -> Links:
        key = str(netns)
        if key not in self.links:
            self.links[key] = Links(netns, host=self.host)
        return self.links[key]

    def set_back(self, action: LinkAction) -> None:
        with contextlib.suppress(NotFound):
            execute([action], host=self.host, links=self.client)


def apply_plan(
    plan: LabPlan,
    spec: LabSpec,
    observed: Observed,
    *,
    host: Host,
    canonical: Callable[[str], Canonical],
    owned: Mapping[str, Mapping[str, Owned]] | None = None,
    backend: str = "auto",
    progress: Callable[[int, int, str], None] | None = None,
) -> list[str]:
    """Do ``plan``; the actions done, as text. ``ApplyError`` (everything undone) on a failure.

    ``owned`` is what the last apply owned of each node's rules (the ledger's), as for planning.
    """
    run = _Run(spec, observed, host, canonical, owned or {}, backend)
    actions = list(plan)
    total = len(actions)
    i = 0
    while i < total:
        action = actions[i]
        if isinstance(action, LinkStep):  # a run of link actions goes through execute() at once
            j = i
            while j < total and isinstance(actions[j], LinkStep):
                j += 1
            block = [a.action for a in actions[i:j] if isinstance(a, LinkStep)]
            _step(run, f"{len(block)} link action(s)", lambda b=block: _links(run, b))  # type: ignore[misc]
            i = j
        else:
            _step(run, str(action), lambda a=action: _one(run, a))  # type: ignore[misc]
            i += 1
        if progress is not None:
            progress(i, total, str(action))
    return run.done


def _step(run: _Run, text: str, fn: Callable[[], None]) -> None:
    try:
        fn()
    except VnetkitError as exc:
        undone, failed_undo = _rollback(run)
        completed = list(run.done)
        message = f"lab {run.spec.name}: {text} failed: {exc}"
        if undone:
            message += f"; undone: {len(undone)} step(s)"
        if failed_undo:
            message += f"; could not undo: {'; '.join(failed_undo)}"
        raise ApplyError(message, completed=completed, failed=text, rolled_back=undone) from exc


def _rollback(run: _Run) -> tuple[list[str], list[str]]:
    undone: list[str] = []
    failed: list[str] = []
    for text, fn in reversed(run.undo):
        try:
            fn()
            undone.append(text)
        except VnetkitError as exc:
            failed.append(f"{text}: {exc}")
    run.undo.clear()
    return undone, failed


def _one(run: _Run, action: object) -> None:
    if isinstance(action, NamespaceAction):
        _namespace(run, action)
    elif isinstance(action, AddressAction):
        _address(run, action)
    elif isinstance(action, RouteAction):
        _route(run, action)
    elif isinstance(action, SysctlAction):
        _sysctl(run, action)
    elif isinstance(action, RulesAction):
        _rules(run, action)
    else:  # pragma: no cover - LabPlan's union is closed
        raise TypeError(f"unknown action {action!r}")
    run.done.append(str(action))


def _namespace(run: _Run, action: NamespaceAction) -> None:
    host = run.host
    if action.verb == "create":
        host.create_netns(action.netns)
        run.undo.append((f"delete namespace {action.netns}", lambda: _delete_netns(host, action.netns)))
    else:
        _delete_netns(host, action.netns)


def _address(run: _Run, action: AddressAction) -> None:
    links = run.client(action.netns)
    dev, iface = str(action.address.dev), action.address.interface
    if action.verb == "add":
        links.add_address(dev, iface)
        run.undo.append(
            (f"delete {iface} from {dev}", lambda: _quiet(lambda: links.delete_address(dev, iface)))
        )
    else:
        links.delete_address(dev, iface)
        run.undo.append((f"add {iface} to {dev}", lambda: links.add_address(dev, iface)))


def _route(run: _Run, action: RouteAction) -> None:
    links = run.client(action.netns)
    route = action.route
    if action.verb == "add":
        links.add_route(route)
        run.undo.append((f"delete route {route}", lambda: _quiet(lambda: links.delete_route(route))))
    else:
        links.delete_route(route)
        run.undo.append((f"add route {route}", lambda: links.add_route(route)))


def _sysctl(run: _Run, action: SysctlAction) -> None:
    links = run.client(action.netns)
    links.set_sysctl(action.key, action.value)
    before, key = action.before, action.key
    if before is not None:
        run.undo.append((f"set {key} back to {before}", lambda: links.set_sysctl(key, before)))


def _links(run: _Run, block: list[LinkAction]) -> None:
    done = execute(block, host=run.host, links=run.client)  # undoes its own steps on a failure
    run.done.extend(str(a) for a in done)
    for action in done:
        if action.verb == "create":
            links, name = run.client(str(action.netns)), action.name
            run.undo.append((f"delete {name}", lambda c=links, n=name: _quiet(lambda: c.delete(n))))  # type: ignore[misc]
        elif action.verb == "set":
            back = LinkAction(
                "set", action.netns, action.name, changes=tuple((w, o, n) for w, n, o in action.changes)
            )
            run.undo.append((str(back), lambda b=back: run.set_back(b)))  # type: ignore[misc]


def _rules(run: _Run, action: RulesAction) -> None:
    rules = next(r for r in run.spec.node(action.node).rules if family(r.ipv6) == action.family)
    ipt = IPTables(action.family, netns=action.netns, host=run.host, backend=run.backend)  # type: ignore[arg-type]
    prior = run.owned.get(action.node, {}).get(action.family, Owned())
    before = run.observed.nodes.get(action.node)
    saved = before.saved.get(action.family) if before is not None else None

    def planner(live: dict[str, LiveTable], canon: Canonical) -> SyncPlan:
        return plan_rules(rules, live, canonical=canon, owned=prior)

    plan = ipt.converge(planner, desired_rules(rules), canonical=run.canonical(action.family))
    if plan and saved is not None:
        tables = plan.transaction.tables
        run.undo.append(
            (f"restore {action.family} tables of {action.node}", lambda: _restore(ipt, saved, tables))
        )


def _restore(ipt: IPTables, saved: str, tables: list[str]) -> None:
    ruleset = parse_save(saved, source="saved tables")
    ipt.restore(Ruleset(tuple(t for t in ruleset.tables if t.name in tables)))


def _delete_netns(host: Host, netns: str) -> None:
    with contextlib.suppress(NotFound):
        host.delete_netns(netns)


def _quiet(fn: Callable[[], None]) -> None:
    with contextlib.suppress(NotFound):
        fn()
