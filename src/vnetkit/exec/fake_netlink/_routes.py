"""The routing tables of ``FakeNetlink``'s kernel: routes asked for or made, and the order of a dump.

Owns: adding a route as the kernel checks it (a device that is up; an
IPv4 gateway on a connected route, an IPv6 one reached by a route without
a gateway and not an address of ours, the route taking that route's
device; one route per table, prefix and metric), deleting the first route
that matches what is given, the routes the kernel adds for itself (kept
once), and the order a dump lists them in: by table, then as the kernel's
trees walk them (IPv4 by prefix, the longer one first; IPv6 in post-order,
a prefix after those it contains), then by metric, then oldest first.
"""

from __future__ import annotations

import errno

from vnetkit.exec.fake_netlink._state import (
    IP,
    RT_SCOPE_LINK,
    RT_SCOPE_NOWHERE,
    RT_SCOPE_UNIVERSE,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    RTN_LOCAL,
    RTN_UNICAST,
    KernelError,
    Link,
    Route,
    Space,
)

__all__ = ["add_route", "delete_route", "drop_routes", "insert", "kernel_route", "ordered_routes"]


def ordered_routes(space: Space, family: int) -> list[Route]:
    """Routes of one family (4 or 6) in dump order: by table, then as the kernel's tree walks them.

    IPv4 walks its trie by key, the longer prefix of one key first; IPv6 walks
    its radix tree in post-order, so a prefix comes after the prefixes it
    contains. Routes of one prefix by metric, then in the order they came.
    """
    if family == 4:
        key = lambda r: (r.table, int(r.dst.network_address), -r.dst.prefixlen, r.metric, r.seq)  # noqa: E731
    else:
        key = lambda r: (r.table, int(r.dst.broadcast_address), -r.dst.prefixlen, r.metric, r.seq)  # noqa: E731
    return sorted((r for r in space.routes if r.family == family), key=key)


def insert(space: Space, route: Route) -> Route:
    route.seq = space.next_seq()
    space.routes.append(route)
    return route


def kernel_route(space: Space, route: Route) -> None:
    """A route the kernel adds for itself; one already there (same prefix, table, type, device) stays."""
    for have in space.routes:
        if (have.dst, have.table, have.type, have.oif, have.metric) == (
            route.dst,
            route.table,
            route.type,
            route.oif,
            route.metric,
        ):
            return
    insert(space, route)


def drop_routes(space: Space, doomed: list[Route]) -> None:
    gone = {id(route) for route in doomed}
    space.routes = [route for route in space.routes if id(route) not in gone]


def _lookup(space: Space, ip: IP, tables: list[int], *, oif: int | None, connected: bool) -> Route | None:
    """The longest-prefix match for ``ip``, table by table (as the default rules try local, then main)."""
    for table in tables:
        found = [
            r
            for r in space.routes
            if r.table == table
            and r.family == ip.version
            and ip in r.dst
            and (oif is None or r.oif == oif)
            and (not connected or r.scope >= RT_SCOPE_LINK)
        ]
        if found:
            return max(found, key=lambda r: (r.dst.prefixlen, -r.metric))
    return None


def _device(space: Space, oif: int, message: str) -> Link:
    link = space.links.get(oif)
    if link is None:
        raise KernelError(errno.ENODEV)
    if not link.up:
        raise KernelError(errno.ENETDOWN, message)
    return link


def _nexthop4(space: Space, route: Route, tables: list[int]) -> None:
    """fib_check_nh(): a device that is up; a gateway on a connected route (whose device it takes)."""
    if route.gateway is None:
        if route.oif is not None:
            _device(space, route.oif, "Device for nexthop is not up")
        return
    if route.oif is not None:
        _device(space, route.oif, "Nexthop device is not up")
    via = _lookup(space, route.gateway, tables, oif=route.oif, connected=True)
    if via is None:
        raise KernelError(errno.ENETUNREACH, "Nexthop has invalid gateway")
    if via.type not in (RTN_UNICAST, RTN_LOCAL):
        raise KernelError(errno.EINVAL, "Nexthop has invalid gateway")
    route.oif = via.oif


def _nexthop6(space: Space, route: Route, tables: list[int]) -> None:
    """ip6_validate_gw(): a device that is up; a gateway not our own, reached by a route without one."""
    route.scope = RT_SCOPE_UNIVERSE  # IPv6 routes have no scope
    if route.oif is not None:
        _device(space, route.oif, "Nexthop device is not up")
    if route.gateway is None or route.gateway.is_link_local:
        return
    if any(a.ip == route.gateway for addrs in space.v6.values() for a in addrs):
        raise KernelError(errno.EINVAL, "Gateway can not be a local address")
    via = _lookup(space, route.gateway, tables, oif=route.oif, connected=False)
    if via is None or via.gateway is not None or via.oif is None:
        raise KernelError(errno.EHOSTUNREACH)
    route.oif = via.oif


def add_route(space: Space, route: Route, *, exclusive: bool, replace: bool) -> Route:
    """A route asked for (RTM_NEWROUTE), checked as the kernel checks its next hop.

    One route per table, prefix and metric: another is EEXIST with
    NLM_F_EXCL, whatever its next hop, in both families.
    """
    tables = [route.table, RT_TABLE_LOCAL, RT_TABLE_MAIN]
    if route.family == 4:
        _nexthop4(space, route, tables)
    else:
        _nexthop6(space, route, tables)
    same = [r for r in space.routes if (r.table, r.dst, r.metric) == (route.table, route.dst, route.metric)]
    if same:
        if exclusive:
            raise KernelError(errno.EEXIST)
        if replace:
            drop_routes(space, same[:1])
    return insert(space, route)


def delete_route(space: Space, want: Route) -> Route:
    """Delete the first route matching ``want`` (RTM_DELROUTE: unset fields match anything)."""
    for route in ordered_routes(space, want.family):
        if (route.table, route.dst) != (want.table, want.dst):
            continue
        if want.family == 4 and want.scope not in (RT_SCOPE_NOWHERE, route.scope):
            continue
        if want.type and route.type != want.type:
            continue
        if want.proto and route.proto != want.proto:
            continue
        if want.metric and route.metric != want.metric:
            continue
        if want.oif is not None and route.oif != want.oif:
            continue
        if want.gateway is not None and route.gateway != want.gateway:
            continue
        drop_routes(space, [route])
        return route
    raise KernelError(errno.ESRCH)
