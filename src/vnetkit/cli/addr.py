"""``vnetkit addr ls|add|del``: IPv4 and IPv6 addresses of the links in a namespace.

Owns: the syntax of those commands, and checking DEV and ADDR (read into
an ``Address``) before anything is touched (a malformed address is bad
input, exit 2). ``add`` and
``del`` act only inside ``--netns`` (the root namespace only with ``--root``).
Does not own: the verbs (``Links.add_address`` / ``delete_address``) or
output (``render_links``).
"""

from __future__ import annotations

import click

from vnetkit.cli import render, render_links
from vnetkit.cli.netopts import NetGroup, net_options
from vnetkit.model.addresses import Address
from vnetkit.model.names import check_ifname

__all__ = ["addr"]


def _check(dev: str, address: str) -> Address:
    check_ifname(dev)
    return Address.parse(address, dev=dev)


@click.group(cls=NetGroup)
def addr(**_: object) -> None:
    """List, add and delete the addresses of links (IPv4 and IPv6).

    --netns and --json may be given here or to each command; add and del
    change the root namespace only with --root.
    """


@addr.command("ls")
@click.argument("dev", required=False)
@click.pass_context
def ls(ctx: click.Context, dev: str | None) -> None:
    """List the addresses of every link, or of DEV."""
    if dev is not None:
        check_ifname(dev)
    opts = net_options(ctx)
    client = opts.links(opts.netns)
    if dev is not None:
        client.index(dev)  # NotFound names the link and the namespace
    entries = [e for e in client.list() if dev is None or e.name == dev]
    if opts.json:
        render.emit_json([{"dev": e.name, "state": e.state, "addresses": list(e.addresses)} for e in entries])
    else:
        render_links.addresses(entries, title=f"addresses ({render_links.where(opts.netns)})")


@addr.command("add", changes=True)
@click.argument("dev")
@click.argument("address", metavar="ADDR")
@click.option(
    "--exist-ok", is_flag=True, help="Succeed without change if DEV has ADDR (another prefix is an error)."
)
@click.pass_context
def add(ctx: click.Context, dev: str, address: str, exist_ok: bool) -> None:
    """Add ADDR (ADDRESS/PREFIX, IPv4 or IPv6) to link DEV."""
    wanted = _check(dev, address)
    opts = net_options(ctx)
    links = opts.links(opts.target(f"add address {wanted.interface} to {dev}"))
    if exist_ok:
        links.ensure_address(dev, wanted)
    else:
        links.add_address(dev, wanted)


@addr.command("del", changes=True)
@click.argument("dev")
@click.argument("address", metavar="ADDR")
@click.pass_context
def delete(ctx: click.Context, dev: str, address: str) -> None:
    """Remove ADDR (ADDRESS/PREFIX) from link DEV."""
    doomed = _check(dev, address)
    opts = net_options(ctx)
    opts.links(opts.target(f"delete address {doomed.interface} from {dev}")).delete_address(dev, doomed)
