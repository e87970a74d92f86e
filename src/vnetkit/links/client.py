"""``Links``: create, configure, inspect and delete virtual NICs in one namespace.

Owns: the one public class, made of its parts, one module each: links
(``linkops``: create, delete, get, list, set, ensure), addresses
(``addrops``), routes and neighbours (``routeops``), sysctls
(``sysctlops``), all standing on ``base`` (the namespace, the netlink
backend, names and ifindexes); and, for one release, the old string and
dict reads (``deprecated``).
Does not own: sockets, namespaces, ioctls or procfs (``vnetkit.exec``),
the values (``vnetkit.model``), the cross-namespace view (``inventory``).
"""

from __future__ import annotations

from vnetkit.links.addrops import AddressOps
from vnetkit.links.deprecated import DeprecatedReads
from vnetkit.links.linkops import LinkOps
from vnetkit.links.routeops import RouteOps
from vnetkit.links.state import StateOps
from vnetkit.links.sysctlops import SysctlOps

__all__ = ["Links"]


class Links(LinkOps, AddressOps, RouteOps, SysctlOps, StateOps, DeprecatedReads):
    """Links, addresses, routes, neighbours and sysctls of one namespace (``netns=None``: the caller's).

    ::

        links = Links(netns="lab-host")
        links.add(Bridge(name="br0"))
        links.add(Veth(name="veth-c1", peer="eth0", peer_netns="lab-c1", master="br0"))
        links.add_address("br0", "172.18.0.1/16")
        links.add_route(Route.parse("default via 172.18.0.254"))
        for address in links.address_list("br0"):
            print(address)  # 172.18.0.1/16 dev br0 scope global permanent

    Reads return ``vnetkit.model`` values (``Link``, ``Address``, ``Route``,
    ``Neighbour``); writes take them as well as text and arguments.
    """
