"""How links, addresses, routes and namespaces look: rich tables for people, plain dicts for ``--json``.

Owns: turning an ``Inventory`` (and the links, routes and namespace names
the API returns) into tables on stdout, and into the dicts ``--json``
prints (their shape is a contract: it stays as it is). A veth's far end is
written ``<netns>:<name>`` (the root namespace as ``(root)``), so "which
host interface is this container's eth0?" is one row. Every cell is a
``rich.text.Text``: interface aliases are never read as markup. Does not
own: calling the API or exit statuses.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vnetkit.links.inventory import InventoryLink, Ref, label
from vnetkit.model.records import Link
from vnetkit.model.routes import Route

__all__ = [
    "addresses",
    "link_as_dict",
    "links",
    "namespaces",
    "ref_as_dict",
    "route_as_dict",
    "routes",
    "where",
]

_ROUTE_COLUMNS = ("dst", "gateway", "dev", "metric", "table", "family")

_PIPE_WIDTH = 1000


def _console() -> Console:
    # As in ``render``: made per call (tests swap sys.stdout); one row per line in a pipe.
    console = Console(file=sys.stdout, highlight=False, markup=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _PIPE_WIDTH
    return console


def _table(title: str, columns: Sequence[str]) -> Table:
    out = Table(title=Text(title), title_justify="left", min_width=len(title), box=box.SIMPLE_HEAD)
    for name in columns:
        out.add_column(name, overflow="fold", justify="right" if name in ("mtu", "metric") else "left")
    return out


def _print(table: Table) -> None:
    _console().print(table)


def where(netns: str | None) -> str:
    """A namespace for a title: ``netns NAME`` or ``root namespace``."""
    return "root namespace" if netns is None else f"netns {netns}"


def ref_as_dict(ref: Ref | None) -> dict[str, object] | None:
    """A peer or lower device for ``--json``; ``netns`` null is the root namespace."""
    if ref is None:
        return None
    return {
        "netns": ref.netns,
        "name": ref.name,
        "index": ref.index,
        "netnsid": ref.netnsid,
        "located": ref.located,
    }


def link_as_dict(entry: InventoryLink) -> dict[str, object]:
    """One link for ``--json``: where it is, what it is, and where its other end is."""
    return {
        "netns": entry.netns,
        "index": entry.index,
        "name": entry.name,
        "kind": entry.kind,
        "state": entry.state,
        "mtu": entry.mtu,
        "mac": entry.mac,
        "master": entry.master,
        "alias": entry.link.alias,
        "addresses": list(entry.addresses),
        "peer": ref_as_dict(entry.peer),
        "lower": ref_as_dict(entry.lower),
        "info": dict(entry.link.info),
    }


def _text(value: object) -> Text:
    return Text("" if value is None else str(value))


def links(entries: Sequence[InventoryLink], *, title: str, all_netns: bool) -> None:
    """One row per link; a ``netns`` column when several namespaces are shown, ``lower`` when any has one."""
    columns = ["netns"] if all_netns else []
    columns += ["name", "kind", "state", "mtu"]
    columns += [] if all_netns else ["mac"]
    columns += ["master", "addresses", "peer"]
    with_lower = any(entry.lower is not None for entry in entries)
    if with_lower:
        columns.append("lower")
    out = _table(title, columns)
    for entry in entries:
        cells: list[object] = [label(entry.netns)] if all_netns else []
        cells += [entry.name, entry.kind or "-", entry.state, entry.mtu]
        cells += [] if all_netns else [entry.mac]
        cells += [entry.master, " ".join(entry.addresses), entry.peer]
        if with_lower:
            cells.append(entry.lower)
        out.add_row(*(_text(cell) for cell in cells))
    _print(out)


def addresses(entries: Sequence[Link], *, title: str) -> None:
    """One row per link: name, state and its ``ADDRESS/PREFIX`` list."""
    out = _table(title, ["name", "state", "addresses"])
    for entry in entries:
        out.add_row(_text(entry.name), _text(entry.state), _text(" ".join(entry.addresses)))
    _print(out)


def route_as_dict(route: Route) -> dict[str, object]:
    """One route for ``--json``: dst (``default`` or a network), gateway, metric, table, family, dev.

    As the kernel reports them: an IPv4 route's metric 0 is null (the kernel
    leaves it out), an IPv6 route's metric is a number.
    """
    return {
        "dst": "default" if route.is_default else str(route.dst),
        "gateway": None if route.gateway is None else str(route.gateway),
        "metric": None if route.family == "ipv4" and route.metric == 0 else route.metric,
        "table": route.table,
        "family": route.family,
        "dev": route.dev,
    }


def routes(entries: Sequence[Route], *, title: str) -> None:
    """One row per route: the values ``--json`` gives."""
    out = _table(title, _ROUTE_COLUMNS)
    for route in entries:
        row = route_as_dict(route)
        out.add_row(*(_text(row[name]) for name in _ROUTE_COLUMNS))
    _print(out)


def namespaces(names: Sequence[str]) -> None:
    """The named namespaces, one per row."""
    out = _table("network namespaces", ["name"])
    for name in names:
        out.add_row(_text(name))
    _print(out)
