"""A namespace's links, addresses and routes read at once, fast: what a lab's re-up observes.

Owns: ``NamespaceState`` and reading it (``read_state``, or ``state()`` on a
client that has ``StateOps`` among its parts) in three dumps through the
client's netlink backend: one of links (without the statistics a dump
may leave out), one of addresses, one of the routes of one table (filtered by the kernel on a
socket with strict checking, and again here). The replies are read with
``messages``' small reader, which picks out only what the records need,
and turned into the very values ``Links.list()``, ``address_list()`` and
``route_list(table=...)`` return, by the same ``records`` functions. For a
container's namespace (``lo``, an ``eth0`` veth) the single reads take six
dumps and pyroute2's full decode of every message, about 2.8 ms here; this
takes about 0.3 ms, most of it the kernel's round trips and building the
``ipaddress`` values (``tests/integration/test_links_state.py`` prints both).
Does not own: the verbs and the single reads (``linkops``, ``addrops``,
``routeops``), sockets (``vnetkit.exec``), deciding what to change
(``vnetkit.topology``).
"""

from __future__ import annotations

from dataclasses import dataclass

from vnetkit.links import messages
from vnetkit.links.base import ClientBase
from vnetkit.links.records import address_from_message, address_text, link_from_message, route_from_message
from vnetkit.model.addresses import Address
from vnetkit.model.records import Link
from vnetkit.model.routes import Route

__all__ = ["MAIN", "NamespaceState", "StateOps", "read_state"]

MAIN = 254  # the main routing table


@dataclass(frozen=True, slots=True)
class NamespaceState:
    """Links (by ifindex, with their addresses), addresses and the routes of one table, of one namespace.

    Each list is what the single read returns, in the kernel's order:
    ``links`` as ``Links.list()``, ``addresses`` as ``Links.address_list()``,
    ``routes`` as ``Links.route_list(table=table)``. The three dumps are
    not one snapshot: a change between them shows in one and not another
    (as with the three reads).
    """

    links: list[Link]
    addresses: list[Address]
    routes: list[Route]
    table: int = MAIN


def read_state(client: ClientBase, *, table: int = MAIN) -> NamespaceState:
    """The links, addresses and routes of ``table`` of ``client``'s namespace, in three dumps."""
    found = messages.read_links(client._dump("links", messages.link_dump(), messages.RTM_GETLINK))
    replies = client._dump("addresses", messages.address_dump(), messages.RTM_GETADDR)
    found_addresses = messages.read_addresses(replies)
    replies = client._dump("routes", messages.routes_of_table(table), messages.RTM_GETROUTE)
    found_routes = messages.read_routes(replies, table=table)

    names = {int(msg["index"]): str(msg.get_attr("IFLA_IFNAME")) for msg in found}
    addresses = []
    by_link: dict[int, list[str]] = {}
    for msg in found_addresses:
        addresses.append(address_from_message(msg, names))
        by_link.setdefault(int(msg["index"]), []).append(address_text(msg))
    links = []
    for msg in found:
        link = link_from_message(msg, names)
        links.append(link.with_addresses(tuple(by_link.get(link.index, ()))))
    routes = []
    for msg in found_routes:
        route = route_from_message(msg, names)
        if route is not None:
            routes.append(route)
    return NamespaceState(links, addresses, routes, table)


class StateOps(ClientBase):
    """Everything of one namespace at once (a part of ``Links``)."""

    def state(self, *, table: int = MAIN) -> NamespaceState:
        """The links, addresses and routes of ``table`` (main unless told): ``list()``, ``address_list()``
        and ``route_list(table=table)`` in one call of three dumps, read fast."""
        return read_state(self, table=table)
