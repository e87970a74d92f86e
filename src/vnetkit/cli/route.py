"""``vnetkit route ls|add|del``: the routing tables of a namespace.

Owns: the syntax of those commands, table names (main, local, default, or
a number) and checking DST, --via and --dev before anything is touched
(bad input: exit 2). ``add`` and ``del`` act only inside ``--netns`` (the
root namespace only with ``--root``).
The routes are ``Route`` values (``Route.of`` checks the arguments, so
bad input is refused before anything is asked).
Does not own: the verbs (``Links.add_route`` / ``delete_route`` /
``route_list``) or output (``render_links``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, TypeVar

import click

from vnetkit.cli import render, render_links
from vnetkit.cli.netopts import NetGroup, net_options
from vnetkit.errors import ConfigError
from vnetkit.model.routes import Route

__all__ = ["route"]

F = TypeVar("F", bound=Callable[..., Any])

TABLES = {"default": 253, "main": 254, "local": 255}
_TABLE_HELP = "Routing table: main, local, default or a number 1..4294967295."


def table_number(text: str | None, *, allow_all: bool = False) -> int | None:
    """The number of table ``text`` (None: not given; with ``allow_all``, ``all`` is None too)."""
    if text is None or (allow_all and text == "all"):
        return None
    if text in TABLES:
        return TABLES[text]
    if text.isascii() and text.isdigit() and 1 <= int(text) <= 2**32 - 1:
        return int(text)
    names = ", ".join([*TABLES, "all"] if allow_all else TABLES)
    raise ConfigError(f"invalid routing table {text!r}: use {names} or a number 1..4294967295")


def _route(dst: str, via: str | None, dev: str | None, metric: int | None, table: str | None) -> Route:
    """The route the arguments describe, checked (bad input: ``ConfigError``, exit 2)."""
    number = table_number(table)
    route = Route.of(dst, via=via, dev=dev, metric=metric, table=number)
    if via is None and dev is None:
        raise ConfigError(f"route {dst}: give a gateway (--via) or a device (--dev)")
    return route


def _route_options(fn: F) -> F:
    options: list[Callable[[Any], Any]] = [
        click.argument("dst", metavar="DST"),
        click.option("--via", metavar="IP", help="Gateway."),
        click.option("--dev", metavar="DEV", help="Outgoing device."),
        click.option("--metric", type=click.IntRange(0, 2**32 - 1), help="Route metric (priority)."),
        click.option("--table", metavar="TABLE", help=_TABLE_HELP),
        click.pass_context,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.group(cls=NetGroup)
def route(**_: object) -> None:
    """List, add and delete routes.

    DST is 'default' or a network (10.0.0.0/24, 2001:db8::/64). --netns and
    --json may be given here or to each command; add and del change the root
    namespace only with --root.
    """


@route.command("ls")
@click.option("--table", default="main", show_default=True, metavar="TABLE", help=_TABLE_HELP + " Or all.")
@click.option("-4", "family", flag_value=socket.AF_INET, type=int, help="IPv4 routes only.")
@click.option("-6", "family", flag_value=socket.AF_INET6, type=int, help="IPv6 routes only.")
@click.pass_context
def ls(ctx: click.Context, table: str, family: int | None) -> None:
    """List the routes of a table (default: main), IPv4 and IPv6."""
    number = table_number(table, allow_all=True)
    opts = net_options(ctx)
    routes = opts.links(opts.netns).route_list(family=family or 0, table=number)
    if opts.json:
        render.emit_json([render_links.route_as_dict(r) for r in routes])
    else:
        render_links.routes(routes, title=f"routes ({render_links.where(opts.netns)}, table {table})")


@route.command("add", changes=True)
@click.option(
    "--exist-ok",
    is_flag=True,
    help="Succeed without change if the route is there (another route to DST, same metric: error).",
)
@_route_options
def add(
    ctx: click.Context,
    *,
    dst: str,
    via: str | None,
    dev: str | None,
    metric: int | None,
    table: str | None,
    exist_ok: bool,
) -> None:
    """Add a route to DST through --via and/or --dev."""
    wanted = _route(dst, via, dev, metric, table)
    opts = net_options(ctx)
    client = opts.links(opts.target(f"add route {dst}"))
    if exist_ok:
        client.ensure_route(wanted)
    else:
        client.add_route(wanted)


@route.command("del", changes=True)
@_route_options
def delete(
    ctx: click.Context, *, dst: str, via: str | None, dev: str | None, metric: int | None, table: str | None
) -> None:
    """Delete the route to DST given as for add."""
    doomed = _route(dst, via, dev, metric, table)
    opts = net_options(ctx)
    opts.links(opts.target(f"delete route {dst}")).delete_route(doomed)
