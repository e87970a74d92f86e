"""The links part of ``make demo``: the veth walkthrough of the Docker networking story.

Two namespaces joined by a veth pair (its peer made directly in the other
namespace), addresses, a ping each way; then a "host" namespace with a
bridge and three "containers" attached by veth pairs, and the inventory
answering "which bridge port belongs to which container?". Everything lives
in namespaces named ``vnk-demo-*`` that the demo creates and deletes; the
root namespace is only read.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from vnetkit.errors import VnetkitError
from vnetkit.exec import default_runner
from vnetkit.exec import netns as nsops
from vnetkit.links import Address, Bridge, Links, Route, Veth, inventory

__all__ = ["NAMESPACES", "cleanup", "run"]

A, B = "vnk-demo-a", "vnk-demo-b"
HOST = "vnk-demo-host"
CONTAINERS = ("vnk-demo-c1", "vnk-demo-c2", "vnk-demo-c3")
NAMESPACES = (A, B, HOST, *CONTAINERS)


def _ping(console: Console, netns: str, address: str) -> None:
    done = default_runner().run(("ping", "-c", "2", "-i", "0.2", "-W", "1", address), netns=netns)
    summary = next((line for line in done.stdout.splitlines() if "transmitted" in line), done.stderr.strip())
    console.print(f"[dim]{netns}#[/] ping {address}: {summary}", highlight=False)
    if done.returncode != 0:
        raise VnetkitError(f"ping {address} from {netns} failed: {summary}")


def _pair(console: Console) -> None:
    console.print("\n[bold cyan]==>[/] [bold]two namespaces joined by a veth pair (peer made in place)[/]")
    for name in (A, B):
        nsops.create(name)
    a, b = Links(A), Links(B)
    a.add(Veth(name="veth-a", peer="veth-b", peer_netns=B))
    a.add_address("veth-a", Address.parse("10.98.0.1/24"))
    b.add_address("veth-b", Address.parse("10.98.0.2/24"))
    console.print(f"{A}: veth-a 10.98.0.1/24  <->  {B}: veth-b 10.98.0.2/24", highlight=False)
    _ping(console, A, "10.98.0.2")
    _ping(console, B, "10.98.0.1")


def _bridge(console: Console) -> None:
    console.print("\n[bold cyan]==>[/] [bold]a bridge with three containers, like docker0[/]")
    nsops.create(HOST)
    host = Links(HOST)
    host.add(Bridge(name="br0"))
    host.add_address("br0", Address.parse("172.30.0.1/24"))
    for k, container in enumerate(CONTAINERS, start=1):
        nsops.create(container)
        # Host end on the bridge, container end named eth0, made inside the container.
        host.add(Veth(name=f"veth{k}c", peer="eth0", peer_netns=container, master="br0"))
        inside = Links(container)
        inside.add_address("eth0", Address.parse(f"172.30.0.1{k}/24"))
        inside.add_route(Route.parse("default via 172.30.0.1"))
        console.print(f"{container}: eth0 172.30.0.1{k}/24, default via 172.30.0.1", highlight=False)
    _ping(console, CONTAINERS[0], "172.30.0.13")
    _ping(console, CONTAINERS[2], "172.30.0.1")


def _inventory(console: Console) -> None:
    console.print(
        "\n[bold cyan]==>[/] [bold]which bridge port belongs to which container? (vnetkit.links.inventory)[/]"
    )
    inv = inventory(namespaces=[HOST, *CONTAINERS], include_root=False)
    table = Table(box=None, show_header=True, header_style="bold")
    for column in ("bridge port", "master", "peer namespace", "peer", "peer addresses"):
        table.add_column(column)
    for link in sorted(inv.links, key=lambda item: item.name):
        if link.netns != HOST or link.kind != "veth" or link.peer is None:
            continue
        peer = inv.resolve(link.peer)
        found = peer.link.interfaces if peer else ()
        addresses = ", ".join(str(a) for a in found if not a.ip.is_link_local)
        table.add_row(link.name, link.master or "-", str(link.peer.netns), link.peer.name, addresses)
    console.print(table)
    console.print("[dim]the same answer for every namespace on the machine: vnetkit link ls --all-netns[/]")


def run(console: Console) -> None:
    """The walkthrough; raises VnetkitError on failure (the caller cleans up)."""
    _pair(console)
    _bridge(console)
    _inventory(console)


def cleanup(console: Console) -> None:
    """Delete the demo's namespaces (their veth ends go with them)."""
    for name in NAMESPACES:
        if nsops.exists(name):
            nsops.delete(name)
            console.print(f"[dim]deleted network namespace[/] {name}")
