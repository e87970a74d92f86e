"""``vnetkit link add KIND NAME``: one command per link kind, each with its own options.

Owns: the options of each kind (veth, bridge, vlan, vxlan, macvlan,
macvtap, ipvlan, tun, tap, ifb) and the ones all share (--mtu, --mac,
--master, --alias, --down), and turning them into a spec. The spec checks
its values before anything is touched (bad input: exit 2); then the
namespace guard runs (the root namespace needs --root, on both ends of a
veth), then ``Links.add``, which leaves nothing half-made.
Does not own: what a kind means or how it is made (``model.links``,
``Links``).
"""

from __future__ import annotations

import dataclasses
import grp
import pwd
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import click

from vnetkit.cli.link import link
from vnetkit.cli.netopts import NetGroup, net_options
from vnetkit.errors import ConfigError
from vnetkit.model.links import Bridge, Ifb, Ipvlan, LinkSpec, Macvlan, Macvtap, Tuntap, Veth, Vlan, Vxlan

__all__ = ["add"]

F = TypeVar("F", bound=Callable[..., Any])

_MACVLAN_MODES = ("bridge", "vepa", "private", "passthru", "source")


@link.group("add", cls=NetGroup, changes=True)
def add(**_: object) -> None:
    """Create a link of KIND in --netns NAME (the root namespace only with --root).

    Each KIND has options of its own (vnetkit link add KIND --help). The
    link is made up unless --down; a veth's peer is made directly in
    --peer-netns (default: beside the link).
    """


EXIST_OK_HELP = "Succeed without change if it exists as asked (one that differs is still an error)."


def _shared(fn: F) -> F:
    """The options every kind takes."""
    options: list[Callable[[Any], Any]] = [
        click.argument("name"),
        click.option("--mtu", type=int, help="MTU (68..65535)."),
        click.option("--mac", help="MAC address (six hex bytes, 02:00:00:00:00:01)."),
        click.option("--master", metavar="BRIDGE", help="Enslave the new link to BRIDGE."),
        click.option("--alias", help="Interface alias (ifalias)."),
        click.option("--down", is_flag=True, help="Leave the link down (default: up)."),
        click.option("--exist-ok", is_flag=True, help=EXIST_OK_HELP),
        click.pass_context,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _common(shared: dict[str, Any]) -> dict[str, Any]:
    shared.pop("exist_ok")  # read by _create from the context
    return {
        "name": shared["name"],
        "mtu": shared["mtu"],
        "mac": shared["mac"],
        "master": shared["master"],
        "alias": shared["alias"],
        "up": not shared["down"],
    }


def _create(ctx: click.Context, spec: LinkSpec) -> None:
    """Guard the namespace(s), then create ``spec`` there."""
    opts = net_options(ctx)
    netns = opts.target(f"create {spec.kind or 'link'} {spec.name}")
    if isinstance(spec, Veth):
        if spec.peer_netns is not None:
            opts.guard(spec.peer_netns, f"create veth peer {spec.peer} in netns {spec.peer_netns}")
        elif netns is not None:
            # Say where the peer goes: made directly beside the link, never in the caller's namespace.
            spec = dataclasses.replace(spec, peer_netns=netns)
    links = opts.links(netns)
    if ctx.params.get("exist_ok"):
        links.ensure(spec)
    else:
        links.add(spec)


@add.command("veth", changes=True)
@click.option("--peer", required=True, metavar="NAME", help="Name of the other end.")
@click.option("--peer-netns", metavar="NS", help="Make the other end directly in namespace NS.")
@_shared
def veth(ctx: click.Context, peer: str, peer_netns: str | None, **shared: Any) -> None:
    """A veth pair NAME <-> --peer, the peer optionally in another namespace."""
    _create(ctx, Veth(peer=peer, peer_netns=peer_netns, **_common(shared)))


@add.command("bridge", changes=True)
@click.option("--stp/--no-stp", default=False, help="Spanning tree protocol.  [default: off]")
@click.option("--ageing", type=float, metavar="SECONDS", help="MAC ageing time.")
@click.option("--vlan-filtering", is_flag=True, help="Filter by VLAN on the bridge's ports.")
@_shared
def bridge(ctx: click.Context, stp: bool, ageing: float | None, vlan_filtering: bool, **shared: Any) -> None:
    """A Linux bridge."""
    spec = Bridge(stp=stp, ageing=ageing, vlan_filtering=vlan_filtering, **_common(shared))
    _create(ctx, spec)


@add.command("vlan", changes=True)
@click.option("--link", "lower", required=True, metavar="DEV", help="The device the VLAN sits on.")
@click.option("--id", "vlan_id", required=True, type=int, help="VLAN id (1..4094).")
@click.option("--protocol", type=click.Choice(["802.1Q", "802.1ad"]), default="802.1Q", show_default=True)
@_shared
def vlan(ctx: click.Context, lower: str, vlan_id: int, protocol: str, **shared: Any) -> None:
    """An 802.1Q (or 802.1ad) sub-interface of --link."""
    proto = cast(Literal["802.1Q", "802.1ad"], protocol)
    _create(ctx, Vlan(link=lower, id=vlan_id, protocol=proto, **_common(shared)))


@add.command("vxlan", changes=True)
@click.option("--vni", required=True, type=int, help="VXLAN network identifier (0..16777215).")
@click.option("--local", metavar="IP", help="Source address of the tunnel.")
@click.option("--remote", metavar="IP", help="Unicast address of the other end.")
@click.option("--group", metavar="IP", help="Multicast group of the segment.")
@click.option("--dev", metavar="DEV", help="Device the tunnel's packets leave by.")
@click.option("--dstport", type=int, default=4789, show_default=True, help="UDP port.")
@click.option("--no-learning", is_flag=True, help="Do not learn MAC addresses from packets.")
@click.option("--ttl", type=int, help="TTL of the tunnel's packets (0..255).")
@_shared
def vxlan(
    ctx: click.Context,
    *,
    vni: int,
    local: str | None,
    remote: str | None,
    group: str | None,
    dev: str | None,
    dstport: int,
    no_learning: bool,
    ttl: int | None,
    **shared: Any,
) -> None:
    """A VXLAN tunnel endpoint: --vni, and --remote (unicast) or --group (multicast)."""
    spec = Vxlan(
        vni=vni,
        local=local,
        remote=remote,
        group=group,
        dev=dev,
        dstport=dstport,
        learning=not no_learning,
        ttl=ttl,
        **_common(shared),
    )
    _create(ctx, spec)


def _macvlan_like(kind: type[Macvlan]) -> Callable[..., None]:
    @click.option("--link", "lower", required=True, metavar="DEV", help="The device it sits on.")
    @click.option("--mode", type=click.Choice(_MACVLAN_MODES), default="bridge", show_default=True)
    @_shared
    def command(ctx: click.Context, lower: str, mode: str, **shared: Any) -> None:
        chosen = cast(Literal["bridge", "vepa", "private", "passthru", "source"], mode)
        _create(ctx, kind(link=lower, mode=chosen, **_common(shared)))

    return command


add.command("macvlan", changes=True, help="A MAC-based sub-interface of --link.")(_macvlan_like(Macvlan))
add.command("macvtap", changes=True, help="A macvlan with a tap device (/dev/tapN) for a VM.")(
    _macvlan_like(Macvtap)
)


@add.command("ipvlan", changes=True)
@click.option("--link", "lower", required=True, metavar="DEV", help="The device it sits on.")
@click.option("--mode", type=click.Choice(["l2", "l3", "l3s"]), default="l2", show_default=True)
@_shared
def ipvlan(ctx: click.Context, lower: str, mode: str, **shared: Any) -> None:
    """An IP-based sub-interface of --link."""
    chosen = cast(Literal["l2", "l3", "l3s"], mode)
    _create(ctx, Ipvlan(link=lower, mode=chosen, **_common(shared)))


def _id_of(value: str | None, what: str, lookup: Callable[[str], int]) -> int | None:
    """A numeric id, or the id of a user/group name."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return lookup(value)
    except KeyError:
        raise ConfigError(f"invalid {what} {value!r}: no such {what}") from None


def _tuntap(mode: Literal["tun", "tap"]) -> Callable[..., None]:
    @click.option("--owner", metavar="USER", help="User (name or uid) allowed to open the device.")
    @click.option("--group", metavar="GROUP", help="Group (name or gid) allowed to open the device.")
    @click.option("--multi-queue", is_flag=True, help="One queue per opener.")
    @_shared
    def command(
        ctx: click.Context, owner: str | None, group: str | None, multi_queue: bool, **shared: Any
    ) -> None:
        spec = Tuntap(
            mode=mode,
            owner=_id_of(owner, "user", lambda n: pwd.getpwnam(n).pw_uid),
            group_owner=_id_of(group, "group", lambda n: grp.getgrnam(n).gr_gid),
            multi_queue=multi_queue,
            **_common(shared),
        )
        _create(ctx, spec)

    return command


add.command("tun", changes=True, help="A persistent tun device (layer 3).")(_tuntap("tun"))
add.command("tap", changes=True, help="A persistent tap device (layer 2).")(_tuntap("tap"))


@add.command("ifb", changes=True)
@_shared
def ifb(ctx: click.Context, **shared: Any) -> None:
    """An intermediate functional block device (ingress shaping)."""
    _create(ctx, Ifb(**_common(shared)))
