"""``vnetkit ns ls|add|del|exec``: named network namespaces from the command line.

Owns: the syntax of those four commands. ``add`` and ``exec`` give the
namespace its own ``/etc/netns/NAME/resolv.conf`` (no nameserver), ``del``
deletes exactly the namespace named and the file vnetkit wrote; a name that
is the root namespace under another name is refused without ``--root``.
``exec`` exits with the program's own status.
Does not own: what those verbs do (``vnetkit.links.namespaces.Namespaces``).
"""

from __future__ import annotations

import click

from vnetkit.cli import render, render_links
from vnetkit.cli.env import Env
from vnetkit.cli.netopts import NetOptions
from vnetkit.exec.runner import validate_netns_name

__all__ = ["ns"]

_ROOT_HELP = "Allow NAME to be the root network namespace under another name."


def _options(ctx: click.Context, *, root: bool = False) -> NetOptions:
    return NetOptions(env=ctx.find_object(Env) or Env.with_runner(), root=root)


@click.group()
def ns() -> None:
    """Create, list, delete and enter named network namespaces (as ip netns does)."""


@ns.command("ls")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
@click.pass_context
def ls(ctx: click.Context, as_json: bool) -> None:
    """List the named network namespaces."""
    names = _options(ctx).namespaces().list()
    if as_json:
        render.emit_json([{"name": name} for name in names])
    else:
        render_links.namespaces(names)


@ns.command("add")
@click.argument("name")
@click.option("--exist-ok", is_flag=True, help="Succeed without change if NAME exists.")
@click.pass_context
def add(ctx: click.Context, name: str, exist_ok: bool) -> None:
    """Create network namespace NAME with lo up and a resolv.conf without nameserver."""
    spaces = _options(ctx).namespaces()
    if exist_ok:
        spaces.ensure(validate_netns_name(name))
    else:
        spaces.add(validate_netns_name(name))


@ns.command("del")
@click.argument("name")
@click.option("--root", is_flag=True, help=_ROOT_HELP)
@click.pass_context
def delete(ctx: click.Context, name: str, root: bool) -> None:
    """Delete network namespace NAME (only it), and the resolv.conf vnetkit wrote for it."""
    opts = _options(ctx, root=root)
    opts.guard(validate_netns_name(name), f"delete network namespace {name!r}")
    if opts.backend is not None:
        opts.backend.release(name)  # a socket left inside would keep it alive, unseen
    opts.namespaces().delete(name)


@ns.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    epilog="Put -- before COMMAND when it has options of its own: vnetkit ns exec lab -- ip -br link",
)
@click.option("--root", is_flag=True, help=_ROOT_HELP)
@click.argument("name")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def exec_(ctx: click.Context, root: bool, name: str, command: tuple[str, ...]) -> int:
    """Run COMMAND inside network namespace NAME (ip netns exec); exit with its status."""
    if command[0] == "--":  # options stop at NAME, so click leaves the separator in
        command = command[1:]
    if not command:
        raise click.UsageError("Missing COMMAND after --.", ctx=ctx)
    opts = _options(ctx, root=root)
    opts.guard(validate_netns_name(name), f"run {command[0]} in network namespace {name!r}")
    return opts.namespaces().exec(name, command)
