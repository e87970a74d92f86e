"""``make demo``: virtual links, then a firewall, all in sandbox namespaces.

This package owns the order of the demo and nothing else: first the links
walkthrough (``vnetkit.demo.links``: a veth pair, a bridge with three
containers, the inventory), then the firewall lab (``vnetkit.demo.firewall``:
rules, counters, desired-state sync, save and restore), then a lab file
(``vnetkit.demo.lab``: Docker's bridge network up, checked, drawn), then the removal of
every namespace either part made, also after a failure. Nothing touches the
root namespace. Run: ``python -m vnetkit.demo``.
"""

from __future__ import annotations

from collections.abc import Sequence

from vnetkit.demo import firewall, lab, links
from vnetkit.errors import VnetkitError
from vnetkit.exec import netns as nsops

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole demo; 0 when every step worked, 1 otherwise (after cleaning up)."""
    del argv
    console = firewall.console
    for name in (*firewall.NAMESPACES, *links.NAMESPACES):
        if nsops.exists(name):
            console.print(f"vnetkit demo: namespace {name} exists (a demo still running?); remove it first")
            return 1
    try:
        links.run(console)
        firewall.run()
        lab.run(console)
    except VnetkitError as exc:
        console.print(f"[red]vnetkit demo: {exc}[/]")
        return 1
    finally:
        firewall.step("removing everything the demo made")
        links.cleanup(console)
        firewall.cleanup()
        lab.cleanup(console)
    console.print("\n[bold green]done[/]: the root namespace was never touched.")
    return 0
