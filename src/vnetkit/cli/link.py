"""``vnetkit link ls|del|set``: see and change the links of a namespace, or of all of them.

Owns: the syntax of those commands (``link add`` lives in ``link_add``).
``ls`` reads the root namespace, one namespace (``--netns``) or every one
(``--all-netns``), with each veth's peer as ``<netns>:<name>``; ``del`` and
``set`` change only the namespace given with ``--netns`` (the root one only
with ``--root``). Input is checked before anything is touched.
Does not own: the verbs (``Links``), the cross-namespace view
(``inventory``) or output (``render_links``).
"""

from __future__ import annotations

import click

from vnetkit.cli import render, render_links
from vnetkit.cli.netopts import NetGroup, net_options
from vnetkit.links.inventory import Inventory, inventory
from vnetkit.model.names import check_ifname, check_mac

__all__ = ["link"]


@click.group(cls=NetGroup)
def link(**_: object) -> None:
    """Create, list, change and delete links (virtual NICs) in network namespaces.

    --netns and --json may be given here or to each command. Commands that
    change something act only inside --netns NAME; the root namespace (the
    host's own) needs an explicit --root on the command.
    """


@link.command("ls")
@click.option(
    "--all-netns", is_flag=True, help="Every namespace: the root one and all named ones, peers side by side."
)
@click.pass_context
def ls(ctx: click.Context, all_netns: bool) -> None:
    """List links with state, master, addresses and where each veth's peer is (<netns>:<name>)."""
    opts = net_options(ctx)
    if all_netns and opts.netns is not None:
        raise click.UsageError("give --netns NAME or --all-netns, not both", ctx=ctx)
    found: Inventory
    if all_netns:
        found = inventory(backend=opts.backend)
        title = "links (all namespaces)"
    elif opts.netns is not None:
        found = inventory(namespaces=[opts.netns], include_root=False, backend=opts.backend)
        title = f"links ({render_links.where(opts.netns)})"
    else:
        found = inventory(namespaces=(), backend=opts.backend)
        title = f"links ({render_links.where(None)})"
    if opts.json:
        render.emit_json([render_links.link_as_dict(entry) for entry in found.links])
    else:
        render_links.links(found.links, title=title, all_netns=all_netns)


@link.command("del", changes=True)
@click.argument("name")
@click.pass_context
def delete(ctx: click.Context, name: str) -> None:
    """Delete link NAME (a veth takes its peer with it)."""
    check_ifname(name)
    opts = net_options(ctx)
    opts.links(opts.target(f"delete link {name}")).delete(name)


@link.command("set", changes=True)
@click.argument("name")
@click.option("--up/--down", "up", default=None, help="Bring the link up or down.")
@click.option("--mtu", type=click.IntRange(68, 65535), help="Set the MTU.")
@click.option("--mac", help="Set the MAC address (six hex bytes, 02:00:00:00:00:01).")
@click.option("--master", metavar="BRIDGE", help="Enslave the link to BRIDGE.")
@click.option("--nomaster", is_flag=True, help="Release the link from its master.")
@click.option("--alias", help="Set the interface alias (ifalias).")
@click.pass_context
def set_(
    ctx: click.Context,
    *,
    name: str,
    up: bool | None,
    mtu: int | None,
    mac: str | None,
    master: str | None,
    nomaster: bool,
    alias: str | None,
) -> None:
    """Change link NAME: state, MTU, MAC, master, alias (down first, up last)."""
    check_ifname(name)
    if mac is not None:
        mac = check_mac(mac)
    if master is not None:
        check_ifname(master, what="master name")
        if nomaster:
            raise click.UsageError("give --master BRIDGE or --nomaster, not both", ctx=ctx)
    if up is None and mtu is None and mac is None and master is None and not nomaster and alias is None:
        raise click.UsageError("nothing to change: give --up, --down, --mtu, --mac, --master, ...", ctx=ctx)
    opts = net_options(ctx)
    client = opts.links(opts.target(f"change link {name}"))
    if up is False:
        client.set_down(name)
    if mtu is not None:
        client.set_mtu(name, mtu)
    if mac is not None:
        client.set_mac(name, mac)
    if alias is not None:
        client.set_alias(name, alias)
    if nomaster:
        client.set_nomaster(name)
    if master is not None:
        client.set_master(name, master)
    if up is True:
        client.set_up(name)
