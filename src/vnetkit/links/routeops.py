"""The route and neighbour verbs of ``Links``: add, delete, ensure and list routes; add and list neighbours.

Owns: taking a route as a ``Route`` or as ``ip route add``'s arguments
(``dst``, ``via``, ``dev``, ``metric``, ``table``), the RTM_NEWROUTE /
RTM_DELROUTE requests filled the way ``ip`` fills them (the output link
looked up by name when sent), ``ensure_route`` (leaves a matching route
alone, reports one to the same destination, table and metric that goes
elsewhere), neighbour (ARP/NDP) entries, and reading both back as
``Route`` and ``Neighbour`` values.
Does not own: links, addresses, sysctls (the other parts of ``Links``).
"""

from __future__ import annotations

import socket
from typing import Any

from vnetkit.errors import AlreadyExists, ConfigError
from vnetkit.exec.netlink import NLM_F_CREATE, NLM_F_EXCL
from vnetkit.links import messages
from vnetkit.links.base import ClientBase
from vnetkit.links.records import neighbour_from_message, route_from_message
from vnetkit.model.names import ROUTE_PROTOCOLS, ROUTE_TYPES, SCOPES, check_ip, check_mac, number
from vnetkit.model.neighbours import Neighbour
from vnetkit.model.routes import Route

__all__ = ["RouteOps"]

_CREATE = NLM_F_CREATE | NLM_F_EXCL
_DEFAULT_METRIC = {4: 0, 6: 1024}  # what the kernel gives a route asked for without one


def _route(
    dst: str | Route, *, via: str | None, dev: str | None, metric: int | None, table: int | None
) -> Route:
    """``dst`` if it is a ``Route``, else the route ``ip route add DST [via] [dev] ...`` would make."""
    if isinstance(dst, Route):
        if (via, dev, metric, table) != (None, None, None, None):
            raise ConfigError(
                f"route {dst}: give a Route, or a destination with via/dev/metric/table, not both"
            )
        return dst
    route = Route.of(dst, via=via, dev=dev, metric=metric, table=table)
    if via is None and dev is None:
        raise ConfigError(f"route {dst}: give a gateway (via) or a device (dev)")
    return route


def _routes(found: list[Any], *, names: dict[int, str]) -> list[Route]:
    """The IPv4 and IPv6 routes among decoded replies (``dev`` from ``names``; ``index`` always set)."""
    out = []
    for msg in found:
        route = route_from_message(msg, names)
        if route is not None:
            out.append(route)
    return out


def _describe(gateway: object, dev: object) -> str:
    return " ".join(
        part for part in (f"via {gateway}" if gateway else "", f"dev {dev}" if dev else "") if part
    )


class RouteOps(ClientBase):
    """Routes and neighbour entries of one namespace."""

    def add_route(
        self,
        dst: str | Route = "default",
        *,
        via: str | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | None = None,
    ) -> None:
        """Add a route: a ``Route``, or ``dst`` (``default`` or a network) with ``via`` and/or ``dev``."""
        route = _route(dst, via=via, dev=dev, metric=metric, table=table)
        if route.type == "unicast" and route.gateway is None and route.dev is None:
            raise ConfigError(f"route {route}: give a gateway (via) or a device (dev)")
        self._route_op(False, route)

    def delete_route(
        self,
        dst: str | Route = "default",
        *,
        via: str | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | None = None,
    ) -> None:
        """Delete a route given as for :meth:`add_route`."""
        self._route_op(True, _route(dst, via=via, dev=dev, metric=metric, table=table))

    def _route_op(self, delete: bool, route: Route) -> None:
        four = route.dst.version == 4
        request = messages.route(
            delete=delete,
            family=socket.AF_INET if four else socket.AF_INET6,
            dst=str(route.dst.network_address) if route.dst.prefixlen else None,
            dst_len=route.dst.prefixlen,
            gateway=str(route.gateway) if route.gateway is not None else None,
            oif=self.index(route.dev) if route.dev is not None else None,
            metric=None if route.metric == _DEFAULT_METRIC[route.dst.version] else route.metric,
            table=route.table,
            protocol=number(ROUTE_PROTOCOLS, route.protocol, "route protocol"),
            # IPv6 routes have no scope (the kernel reports global): sent as ip sends it.
            scope=number(SCOPES, route.scope, "route scope") if four else None,
            type=number(ROUTE_TYPES, route.type, "route type"),
        )
        if delete:
            self._send(f"delete route {route} in {self._here}", request, messages.RTM_DELROUTE)
        else:
            self._send(f"add route {route} in {self._here}", request, messages.RTM_NEWROUTE, _CREATE)

    def ensure_route(
        self,
        dst: str | Route = "default",
        *,
        via: str | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | None = None,
    ) -> bool:
        """Add the route unless it is there; True if added.

        A route to the same destination with the same metric in the same
        table but another gateway or device is ``AlreadyExists`` naming both.
        """
        want = _route(dst, via=via, dev=dev, metric=metric, table=table)
        oif = self.index(want.dev) if want.dev is not None else None
        family = socket.AF_INET if want.dst.version == 4 else socket.AF_INET6
        for have in _routes(self._route_messages(family), names={}):  # by ifindex: no names needed
            if (have.dst, have.table, have.metric) != (want.dst, want.table, want.metric):
                continue
            if (want.gateway is None or have.gateway == want.gateway) and (oif is None or have.index == oif):
                return False
            theirs = self._name_of(have.index) if have.index else None
            raise AlreadyExists(
                f"route {want.dst if want.dst.prefixlen else 'default'} (table {want.table}, metric "
                f"{want.metric}) in {self._here} goes {_describe(have.gateway, theirs)}, "
                f"wanted {_describe(want.gateway, want.dev)}"
            )
        self.add_route(want)
        return True

    def route_list(self, *, family: int = 0, table: int | None = None) -> list[Route]:
        """The routes of ``family`` (``socket.AF_INET``, ``AF_INET6``; 0: both) in ``table`` (None: all)."""
        found = self._route_messages(family)
        names = self._names() if found else {}
        return [route for route in _routes(found, names=names) if table is None or route.table == table]

    def _route_messages(self, family: int) -> list[Any]:
        return messages.decode_routes(self._dump("routes", messages.routes(family), messages.RTM_GETROUTE))

    def add_neighbour(self, name: str, ip: str, mac: str) -> None:
        """Add a permanent neighbour (ARP/NDP) entry."""
        index = self.index(name)
        address = check_ip(ip, "neighbour address")
        request = messages.neighbour(index, address, check_mac(mac))
        self._send(f"add neighbour {address} on {self._where(name)}", request, messages.RTM_NEWNEIGH, _CREATE)

    def neighbour_list(self, name: str | None = None) -> list[Neighbour]:
        """The neighbour entries of link ``name``, or of every link, as ``Neighbour`` values."""
        index = self.index(name) if name is not None else None
        replies = self._dump("neighbours", messages.neighbours(), messages.RTM_GETNEIGH)
        found = [
            m for m in messages.decode_neighbours(replies) if index is None or int(m["ifindex"]) == index
        ]
        names = self._names() if found else {}
        out = []
        for msg in found:
            entry = neighbour_from_message(msg, names)
            if entry is not None:
                out.append(entry)
        return out
