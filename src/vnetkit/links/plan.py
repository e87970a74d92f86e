"""Link plans: desired specs and what exists become an ordered, printable list of actions; then run.

Owns: ``plan_links`` (pure: no kernel, no names resolved to ifindexes; a
dry run is printing the plan), the ``LinkAction`` values it returns and
``execute``, which carries a plan out through ``Links`` clients in order
(names become ifindexes only there) and, when a step fails, undoes the
steps of this execution it can (created links deleted, changed settings
put back) and raises ``ApplyError`` naming what completed, what failed and
what was undone. Does not own: building the requests (``Links``), or
deciding which links a caller owns (``owned``, given by the caller: a lab
tags its links).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from vnetkit.errors import ApplyError, NotFound, VnetkitError
from vnetkit.exec.host import Host
from vnetkit.links.client import Links
from vnetkit.model.links import Bridge, LinkSpec, Veth
from vnetkit.model.records import Link

__all__ = ["LinkAction", "LinkPlan", "execute", "plan_links"]

Netns = str | None
K = TypeVar("K", bound=str | None)  # the namespaces' keys: names, or None for the caller's
Verb = Literal["create", "delete", "set"]
# A change in place: (setting, new value, value before); None for master/alias is "none",
# for hairpin "not a bridge port" (nothing to put back).
Change = tuple[str, object, object]


def _where(netns: Netns) -> str:
    return f"netns {netns}" if netns else "this namespace"


@dataclass(frozen=True, slots=True)
class LinkAction:
    """One step: ``create`` a link from its spec, ``delete`` a link, or ``set`` settings in place."""

    verb: Verb
    netns: Netns
    name: str
    spec: LinkSpec | None = None
    changes: tuple[Change, ...] = ()
    reason: str = ""

    def __str__(self) -> str:
        where = _where(self.netns)
        if self.verb == "create" and self.spec is not None:
            extra = []
            if isinstance(self.spec, Veth):
                extra.append(
                    f"peer {self.spec.peer}" + (f" in {self.spec.peer_netns}" if self.spec.peer_netns else "")
                )
            if self.spec.lower is not None:
                extra.append(f"on {self.spec.lower}")
            if self.spec.master is not None:
                extra.append(f"master {self.spec.master}")
            if self.spec.hairpin:
                extra.append("hairpin on")
            if isinstance(self.spec, Bridge) and self.spec.ports:
                extra.append(f"ports {', '.join(self.spec.ports)}")
            detail = f" ({', '.join(extra)})" if extra else ""
            text = f"create {self.spec.kind} {self.name} in {where}{detail}"
        elif self.verb == "delete":
            text = f"delete {self.name} in {where}"
        else:
            shown = ", ".join(f"{what} {_shown(what, new)}" for what, new, _ in self.changes)
            text = f"set {shown} of {self.name} in {where}"
        return f"{text}: {self.reason}" if self.reason else text


def _shown(what: str, value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        if what == "up":
            return "up" if value else "down"
        return "on" if value else "off"
    return str(value)


@dataclass(frozen=True, slots=True)
class LinkPlan:
    """The actions of a plan, in the order they must run; false when there is nothing to do."""

    actions: tuple[LinkAction, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.actions)

    def __len__(self) -> int:
        return len(self.actions)

    def __iter__(self) -> Iterator[LinkAction]:
        return iter(self.actions)

    def lines(self) -> list[str]:
        """Each action as one line of text."""
        return [str(action) for action in self.actions]


def _fixed_differences(record: Link, spec: LinkSpec) -> list[str]:
    """What only deleting and creating again can change (kind, VLAN id, VNI, mode, peer...)."""
    return record.differences(dataclasses.replace(spec, mtu=None, mac=None))


def _changes(record: Link, spec: LinkSpec) -> tuple[Change, ...]:
    changes: list[Change] = []
    if spec.mtu is not None and record.mtu != spec.mtu:
        changes.append(("mtu", spec.mtu, record.mtu))
    if spec.mac is not None and (record.mac or "").lower() != spec.mac.lower():
        changes.append(("mac", spec.mac, record.mac))
    if record.master != spec.master:
        changes.append(("master", spec.master, record.master))
    # After the master: a link joining a bridge starts with the mode off, whatever its old port had.
    if spec.hairpin is not None and (record.hairpin != spec.hairpin or record.master != spec.master):
        changes.append(("hairpin", spec.hairpin, record.hairpin))
    if spec.alias is not None and record.alias != spec.alias:
        changes.append(("alias", spec.alias, record.alias))
    if record.up is not None and record.up != spec.up:
        changes.append(("up", spec.up, record.up))
    return tuple(changes)


def plan_links(
    desired: Mapping[K, Iterable[LinkSpec]],
    observed: Mapping[K, Iterable[Link]],
    *,
    owned: Callable[[K, Link], bool] | None = None,
) -> LinkPlan:
    """The actions that turn ``observed`` into ``desired``, namespace by namespace; pure.

    A link that exists with the same kind and fixed settings is changed in
    place (MTU, MAC, master, a bridge port's hairpin mode, alias, up); one
    whose kind or fixed settings differ is deleted and created again; a
    missing one is created. Links that exist but are not desired are
    deleted only if ``owned(netns, link)`` says so (never by default); the
    peer of a desired veth counts as desired. Deletes come first (upper devices before their lower ones),
    then creates in dependency order (a master, a lower device or a bridge's
    port before what needs it), then changes in place.
    """
    have: dict[tuple[K, str], Link] = {
        (netns, link.name): link for netns, links in observed.items() for link in links
    }
    wanted: dict[tuple[K, str], LinkSpec] = {}
    implied: set[tuple[Netns, str]] = set()
    for netns, specs in desired.items():
        for spec in specs:
            wanted[(netns, spec.name)] = spec
            if isinstance(spec, Veth):
                implied.add((spec.peer_netns if spec.peer_netns is not None else netns, spec.peer))
    deletes: list[LinkAction] = []
    creates: list[LinkAction] = []
    sets: list[LinkAction] = []
    for (netns, name), spec in wanted.items():
        record = have.get((netns, name))
        if record is None:
            creates.append(LinkAction("create", netns, name, spec))
            continue
        fixed = _fixed_differences(record, spec)
        if fixed:
            reason = "; ".join(fixed)
            deletes.append(LinkAction("delete", netns, name, reason=reason))
            creates.append(LinkAction("create", netns, name, spec, reason=reason))
            continue
        changes = _changes(record, spec)
        if changes:
            sets.append(LinkAction("set", netns, name, changes=changes))
    if owned is not None:
        for (netns, name), link in have.items():
            if (netns, name) not in wanted and (netns, name) not in implied and owned(netns, link):
                deletes.append(LinkAction("delete", netns, name, reason="not desired"))
    return LinkPlan((*_deletes_in_order(deletes, have), *_creates_in_order(creates), *sets))


def _deletes_in_order(deletes: list[LinkAction], have: Mapping[tuple[Any, str], Link]) -> list[LinkAction]:
    """Upper devices (and bridge ports) before what they sit on."""

    def rank(action: LinkAction) -> int:
        link = have.get((action.netns, action.name))
        return 0 if link is not None and (link.link_index is not None or link.master) else 1

    return sorted(deletes, key=rank)


def _creates_in_order(creates: list[LinkAction]) -> list[LinkAction]:
    """Each create after the creates it needs: its master, its lower device, a bridge's ports."""
    by_key = {(a.netns, a.name): a for a in creates}

    def needs(action: LinkAction) -> list[tuple[Netns, str]]:
        spec = action.spec
        if spec is None:
            return []
        out = [(action.netns, name) for name in (spec.master, spec.lower) if name is not None]
        if isinstance(spec, Bridge):
            # a port created with this bridge as its master comes after the bridge instead
            out += [
                (action.netns, port)
                for port in spec.ports
                if not (
                    (port_action := by_key.get((action.netns, port))) is not None
                    and port_action.spec is not None
                    and port_action.spec.master == spec.name
                )
            ]
        return [key for key in out if key in by_key and key != (action.netns, action.name)]

    ordered: list[LinkAction] = []
    state: dict[tuple[Netns, str], int] = {}  # 1: being placed, 2: placed

    def place(action: LinkAction) -> None:
        key = (action.netns, action.name)
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise ApplyError(f"the desired links depend on one another in a circle at {action.name}")
        state[key] = 1
        for need in needs(action):
            place(by_key[need])
        state[key] = 2
        ordered.append(action)

    for action in creates:
        place(action)
    return ordered


def execute(
    plan: LinkPlan | Iterable[LinkAction],
    *,
    host: Host | None = None,
    links: Callable[[Netns], Links] | None = None,
) -> list[LinkAction]:
    """Carry out ``plan`` in order; the actions done. On a failure, undo and raise ``ApplyError``.

    ``links(netns)`` gives the client of each namespace (default:
    ``Links(netns, host=host)``; tests pass one on ``FakeNetlink``).
    Undone: links this execution created (deleted again, newest first) and
    settings it changed (put back). A deleted link cannot be brought back;
    the error says so.
    """
    clients: dict[Netns, Links] = {}

    def client(netns: Netns) -> Links:
        if netns not in clients:
            clients[netns] = links(netns) if links is not None else Links(netns, host=host)
        return clients[netns]

    done: list[LinkAction] = []
    for action in plan:
        try:
            _run(client(action.netns), action)
        except VnetkitError as exc:
            undone, kept = _undo(client, done)
            raise ApplyError(
                f"{action}: {exc}"
                + (f"; undone: {'; '.join(map(str, undone))}" if undone else "")
                + (f"; not undone: {'; '.join(map(str, kept))}" if kept else ""),
                completed=[str(a) for a in done],
                failed=str(action),
                rolled_back=[str(a) for a in undone],
            ) from exc
        done.append(action)
    return done


def _run(links: Links, action: LinkAction) -> None:
    if action.verb == "create" and action.spec is not None:
        links.add(action.spec)
    elif action.verb == "delete":
        with contextlib.suppress(NotFound):  # gone with the device it sat on (a vlan with its lower)
            links.delete(action.name)
    else:
        for what, new, _ in action.changes:
            _set(links, action.name, what, new)


def _set(links: Links, name: str, what: str, value: object) -> None:
    if what == "mtu":
        links.set_mtu(name, int(value))  # type: ignore[call-overload]
    elif what == "mac":
        links.set_mac(name, str(value))
    elif what == "master":
        if value is None:
            links.set_nomaster(name)
        else:
            links.set_master(name, str(value))
    elif what == "alias":
        links.set_alias(name, "" if value is None else str(value))
    elif what == "up":
        (links.set_up if value else links.set_down)(name)
    elif what == "hairpin" and value is not None:  # None: it was no port; leaving its master reset it
        links.set_hairpin(name, bool(value))


def _undo(
    client: Callable[[Netns], Links], done: list[LinkAction]
) -> tuple[list[LinkAction], list[LinkAction]]:
    """Undo ``done`` newest first: (what was undone, what could not be)."""
    undone: list[LinkAction] = []
    kept: list[LinkAction] = []
    for action in reversed(done):
        try:
            if action.verb == "create":
                with contextlib.suppress(NotFound):
                    client(action.netns).delete(action.name)
            elif action.verb == "set":
                # Newest first, but the hairpin mode after the master is back: a port that
                # leaves one bridge and rejoins another has lost it.
                olds = [(what, old) for what, _, old in reversed(action.changes)]
                for what, old in sorted(olds, key=lambda change: change[0] == "hairpin"):
                    _set(client(action.netns), action.name, what, old)
            else:
                kept.append(action)
                continue
        except VnetkitError:
            kept.append(action)
            continue
        undone.append(action)
    return undone, kept
