"""Addresses and neighbours of ``FakeNetlink``'s kernel, and the addresses and routes it makes on its own.

Owns: adding and deleting addresses (IPv4 primaries and secondaries,
IPv6 by scope; the flags nodad and noprefixroute) and permanent
neighbours, and the routes and addresses the kernel makes itself
(``_routes`` keeps the tables): for an IPv4 address its local route
(table local), and while the link is up its prefix and broadcast routes;
for IPv6 the link-local address (EUI-64 of the MAC the link had when it
first got a carrier), fe80::/64 and ff00::/8, and the local route of each
address once duplicate address detection is over. Reacts to a link going
up, down, gaining a carrier, changing its MTU or going away.

Models the state once the kernel has settled: duplicate address detection
is over (an address is tentative only while its link has no carrier, as
it stays on a real kernel); no traffic flows, so the neighbour table holds
only what was added (no multicast or learned entries).
"""

from __future__ import annotations

import errno
import ipaddress

from vnetkit.exec.fake_netlink import _routes as routes
from vnetkit.exec.fake_netlink._state import (
    IFA_F_NODAD,
    IFA_F_NOPREFIXROUTE,
    IFA_F_PERMANENT,
    IFA_F_SECONDARY,
    IFA_F_TENTATIVE,
    IP,
    IPV6_MIN_MTU,
    NUD_PERMANENT,
    RT_SCOPE_HOST,
    RT_SCOPE_LINK,
    RT_SCOPE_UNIVERSE,
    RT_TABLE_LOCAL,
    RT_TABLE_MAIN,
    RTN_BROADCAST,
    RTN_LOCAL,
    RTN_MULTICAST,
    ZERO_MAC,
    Address,
    KernelError,
    Link,
    Neighbour,
    Network,
    Route,
    Space,
)

__all__ = [
    "add_address",
    "add_neighbour",
    "carrier_changed",
    "delete_address",
    "delete_neighbour",
    "link_deleted",
    "link_down",
    "link_up",
    "mtu_changed",
]

_IP6_RT_PRIO_ADDRCONF = 256
_LINK_LOCAL = ipaddress.ip_network("fe80::/64")
_MULTICAST6 = ipaddress.ip_network("ff00::/8")
_LOOPBACK4 = ipaddress.ip_interface("127.0.0.1/8")
_LOOPBACK6 = ipaddress.ip_address("::1")


def scope6(ip: IP) -> int:
    """The scope the kernel gives an IPv6 address (from the address itself)."""
    if ip.is_loopback:
        return RT_SCOPE_HOST
    if ip.is_link_local:
        return RT_SCOPE_LINK
    return 200 if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local else RT_SCOPE_UNIVERSE


def _src_scope(ip: IP) -> int:
    """ipv6_addr_src_scope(): larger is wider (global 14, site 5, link 2, loopback 1)."""
    return {RT_SCOPE_HOST: 1, RT_SCOPE_LINK: 2, 200: 5}.get(scope6(ip), 14)


def eui64_link_local(mac: str) -> ipaddress.IPv6Address:
    """fe80:: plus the modified EUI-64 of ``mac`` (the U/L bit flipped, ff:fe in the middle)."""
    b = bytes.fromhex(mac.replace(":", ""))
    iid = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid)


# -- IPv4 addresses and their routes ---------------------------------------------------


def _v4_routes(space: Space, link: Link, addr: Address, primary: Address) -> None:
    """fib_add_ifaddr(): the local route always; prefix and broadcast routes while the link is up."""
    local = ipaddress.ip_network(f"{addr.ip}/32")
    routes.kernel_route(
        space,
        Route(local, RT_TABLE_LOCAL, link.index, scope=RT_SCOPE_HOST, type=RTN_LOCAL, prefsrc=primary.ip),
    )
    if not link.up or addr.flags & IFA_F_SECONDARY:
        return
    net = addr.network
    if addr.prefixlen < 32 or net.network_address != addr.ip:
        if not addr.flags & IFA_F_NOPREFIXROUTE:
            if link.loopback:  # lo's prefix is local: 127.0.0.0/8 all answers here
                prefix = Route(net, RT_TABLE_LOCAL, link.index, scope=RT_SCOPE_HOST, type=RTN_LOCAL)
            else:
                prefix = Route(net, RT_TABLE_MAIN, link.index, scope=RT_SCOPE_LINK)
            prefix.prefsrc = addr.ip
            routes.kernel_route(space, prefix)
        if addr.prefixlen < 31:
            bcast = ipaddress.ip_network(f"{net.broadcast_address}/32")
            routes.kernel_route(
                space,
                Route(
                    bcast,
                    RT_TABLE_LOCAL,
                    link.index,
                    scope=RT_SCOPE_LINK,
                    type=RTN_BROADCAST,
                    prefsrc=addr.ip,
                ),
            )


def _primary_of(addrs: list[Address], addr: Address) -> Address:
    if not addr.flags & IFA_F_SECONDARY:
        return addr
    return next(
        a
        for a in addrs
        if not a.flags & IFA_F_SECONDARY and a.prefixlen == addr.prefixlen and addr.ip in a.network
    )


def _add_v4(space: Space, link: Link, ip: IP, prefixlen: int, *, scope: int, flags: int = 0) -> Address:
    addrs = space.v4.setdefault(link.index, [])
    kept = flags & ~(IFA_F_SECONDARY | IFA_F_NODAD | IFA_F_TENTATIVE)  # IPv4 has no DAD
    addr = Address(ip, prefixlen, link.index, flags=IFA_F_PERMANENT | kept, scope=scope)
    last_primary = 0
    for position, have in enumerate(addrs):
        if not have.flags & IFA_F_SECONDARY and scope <= have.scope:
            last_primary = position + 1
        if have.prefixlen == prefixlen and ip in have.network:
            if have.ip == ip:
                raise KernelError(errno.EEXIST, "ipv4: Address already assigned")
            addr.flags |= IFA_F_SECONDARY
    addrs.insert(len(addrs) if addr.flags & IFA_F_SECONDARY else last_primary, addr)
    _v4_routes(space, link, addr, _primary_of(addrs, addr))
    return addr


def _delete_v4(space: Space, link: Link, ip: IP, prefixlen: int) -> None:
    addrs = space.v4.get(link.index, [])
    found = next((a for a in addrs if a.ip == ip and a.prefixlen == prefixlen), None)
    if found is None:
        raise KernelError(errno.EADDRNOTAVAIL, "ipv4: Address not found")
    doomed = [found]
    if not found.flags & IFA_F_SECONDARY:  # promote_secondaries is off: they go with it
        doomed += [
            a
            for a in addrs
            if a.flags & IFA_F_SECONDARY and a.prefixlen == prefixlen and a.ip in found.network
        ]
    space.v4[link.index] = [a for a in addrs if a not in doomed]
    remaining = {a.ip for group in space.v4.values() for a in group}
    net = found.network
    bcast = ipaddress.ip_network(f"{net.broadcast_address}/32")
    routes.drop_routes(
        space,
        [
            r
            for r in space.routes
            if r.oif == link.index
            and r.family == 4
            and (
                (
                    r.type == RTN_LOCAL
                    and r.dst.prefixlen == 32
                    and r.dst.network_address in {a.ip for a in doomed} - remaining
                )
                or (r.prefsrc == found.ip and r.dst in (net, bcast))
            )
        ],
    )


# -- IPv6 addresses ------------------------------------------------------------------------


def _local6(space: Space, link: Link, addr: Address) -> None:
    routes.kernel_route(
        space, Route(ipaddress.ip_network(f"{addr.ip}/128"), RT_TABLE_LOCAL, link.index, type=RTN_LOCAL)
    )


def _prefix6(space: Space, link: Link, network: Network) -> None:
    if link.up:  # the kernel's own request fails for a link that is down, quietly
        routes.kernel_route(space, Route(network, RT_TABLE_MAIN, link.index, metric=_IP6_RT_PRIO_ADDRCONF))


def _mroute6(space: Space, link: Link) -> None:
    if link.up and not link.loopback:
        routes.kernel_route(
            space,
            Route(_MULTICAST6, RT_TABLE_LOCAL, link.index, metric=_IP6_RT_PRIO_ADDRCONF, type=RTN_MULTICAST),
        )


def _insert6(space: Space, link: Link, addr: Address) -> None:
    addrs = space.v6.setdefault(link.index, [])
    scope = _src_scope(addr.ip)
    position = next((n for n, have in enumerate(addrs) if scope >= _src_scope(have.ip)), len(addrs))
    addrs.insert(position, addr)


def _add_v6(space: Space, link: Link, ip: IP, prefixlen: int, *, flags: int = 0) -> Address:
    if not link.ipv6:
        if link.mtu < IPV6_MIN_MTU:
            raise KernelError(errno.EINVAL)
        link.ipv6 = True
    if any(a.ip == ip for a in space.v6.get(link.index, ())):
        raise KernelError(errno.EEXIST, "ipv6: address already assigned")
    _mroute6(space, link)
    settled = link.ready or link.noarp or link.loopback or bool(flags & IFA_F_NODAD)
    flags = (flags & ~(IFA_F_SECONDARY | IFA_F_TENTATIVE)) | IFA_F_PERMANENT
    addr = Address(ip, prefixlen, link.index, flags=flags | (0 if settled else IFA_F_TENTATIVE))
    addr.scope = scope6(ip)
    _insert6(space, link, addr)
    if not flags & IFA_F_NOPREFIXROUTE:
        _prefix6(space, link, addr.network)
    if settled:
        _local6(space, link, addr)
    return addr


def _delete_v6(space: Space, link: Link, ip: IP, prefixlen: int) -> None:
    if not link.ipv6:
        raise KernelError(errno.ENXIO, "ipv6: IPv6 is disabled on this device")
    addrs = space.v6.get(link.index, [])
    found = next((a for a in addrs if a.ip == ip and a.prefixlen == prefixlen), None)
    if found is None:
        raise KernelError(errno.EADDRNOTAVAIL, "ipv6: address not found")
    addrs.remove(found)
    shared = any(a.network == found.network for a in addrs)
    routes.drop_routes(
        space,
        [
            r
            for r in space.routes
            if r.oif == link.index
            and r.family == 6
            and (
                (r.type == RTN_LOCAL and r.dst.network_address == ip)
                or (not shared and r.dst == found.network and r.table == RT_TABLE_MAIN and r.gateway is None)
            )
        ],
    )


def add_address(space: Space, link: Link, ip: IP, prefixlen: int, *, scope: int, flags: int) -> Address:
    """RTM_NEWADDR: an address on ``link`` and its routes (``flags``: IFA_F_* asked for, e.g. nodad)."""
    if ip.version == 4:
        return _add_v4(space, link, ip, prefixlen, scope=scope, flags=flags)
    return _add_v6(space, link, ip, prefixlen, flags=flags)


def delete_address(space: Space, link: Link, ip: IP, prefixlen: int) -> None:
    """RTM_DELADDR: the address ``ip/prefixlen`` (and, for an IPv4 primary, its secondaries)."""
    if ip.version == 4:
        _delete_v4(space, link, ip, prefixlen)
    else:
        _delete_v6(space, link, ip, prefixlen)


# -- neighbours -------------------------------------------------------------------------------


def add_neighbour(
    space: Space, link: Link, ip: IP, lladdr: str, *, state: int, create: bool, exclusive: bool, replace: bool
) -> Neighbour | None:
    """RTM_NEWNEIGH for ``ip`` on ``link``."""
    if ip.version == 6 and not link.ipv6:
        raise KernelError(errno.EINVAL, "IPv6 is disabled on this device")
    if len(lladdr.split(":")) != 6:
        raise KernelError(errno.EINVAL)
    have = next((n for n in space.neighbours if n.ip == ip and n.index == link.index), None)
    if have is not None:
        if exclusive:
            raise KernelError(errno.EEXIST)
        if replace:
            have.lladdr, have.state = lladdr, state
        return have
    if not create:
        raise KernelError(errno.ENOENT)
    entry = Neighbour(ip, link.index, lladdr, state or NUD_PERMANENT)
    space.neighbours.append(entry)
    return entry


def delete_neighbour(space: Space, link: Link, ip: IP) -> None:
    """RTM_DELNEIGH."""
    have = next((n for n in space.neighbours if n.ip == ip and n.index == link.index), None)
    if have is None:
        raise KernelError(errno.ENOENT)
    space.neighbours.remove(have)


# -- what the kernel does when a link changes ---------------------------------------------------


def _configure6(space: Space, link: Link) -> None:
    """addrconf_dev_config(): ff00::/8, the link-local address and fe80::/64; tentative addresses settle."""
    link.ready = True
    _mroute6(space, link)
    if not link.loopback and link.mac != ZERO_MAC:
        ll = eui64_link_local(link.mac)
        if not any(a.ip == ll for a in space.v6.get(link.index, ())):
            _insert6(space, link, Address(ll, 64, link.index, scope=RT_SCOPE_LINK, proto=3))
            fe80 = Route(_LINK_LOCAL, RT_TABLE_MAIN, link.index, metric=_IP6_RT_PRIO_ADDRCONF)
            routes.kernel_route(space, fe80)
    for addr in space.v6.get(link.index, ()):
        addr.flags &= ~IFA_F_TENTATIVE
        _local6(space, link, addr)


def link_up(space: Space, link: Link, *, ready: bool) -> None:
    """NETDEV_UP: IPv4 prefix and broadcast routes back; IPv6 configured if ``ready`` (a carrier seen)."""
    if link.loopback:
        addrs = space.v4.setdefault(link.index, [])
        if not addrs:
            _add_v4(space, link, _LOOPBACK4.ip, _LOOPBACK4.network.prefixlen, scope=RT_SCOPE_HOST)
        if not any(a.ip == _LOOPBACK6 for a in space.v6.get(link.index, ())):
            _insert6(space, link, Address(_LOOPBACK6, 128, link.index, scope=RT_SCOPE_HOST, proto=1))
    addrs = space.v4.get(link.index, [])
    for addr in addrs:
        _v4_routes(space, link, addr, _primary_of(addrs, addr))
    for addr in space.v6.get(link.index, ()):  # addresses added while it was down
        if not link.loopback and not addr.flags & IFA_F_NOPREFIXROUTE:
            _prefix6(space, link, addr.network)
        if not addr.flags & IFA_F_TENTATIVE:
            _local6(space, link, addr)
    if link.ipv6 and ready:
        _configure6(space, link)


def link_down(space: Space, link: Link) -> None:
    """NETDEV_DOWN: routes through it go (IPv4 local routes stay), IPv6 addresses go, neighbours flushed."""
    routes.drop_routes(
        space,
        [r for r in space.routes if r.oif == link.index and (r.family == 6 or r.type != RTN_LOCAL)],
    )
    space.v6.pop(link.index, None)
    link.ready = False
    space.neighbours = [n for n in space.neighbours if n.index != link.index]


def carrier_changed(space: Space, link: Link) -> None:
    """NETDEV_CHANGE: a link that is up and got its carrier is configured for IPv6 (once per up)."""
    if link.up and link.carrier and link.ipv6 and not link.ready:
        _configure6(space, link)


def mtu_changed(space: Space, link: Link) -> None:
    """Below 1280 bytes IPv6 stops on the link (its addresses and routes go); at 1280 it may start again."""
    if link.mtu < IPV6_MIN_MTU and link.ipv6:
        routes.drop_routes(space, [r for r in space.routes if r.oif == link.index and r.family == 6])
        space.v6.pop(link.index, None)
        link.ready = False
        link.ipv6 = False
    elif link.mtu >= IPV6_MIN_MTU and not link.ipv6:
        link.ipv6 = True


def link_deleted(space: Space, link: Link) -> None:
    """The link is gone: its addresses, routes and neighbours with it."""
    routes.drop_routes(space, [r for r in space.routes if r.oif == link.index])
    space.v4.pop(link.index, None)
    space.v6.pop(link.index, None)
    space.neighbours = [n for n in space.neighbours if n.index != link.index]
