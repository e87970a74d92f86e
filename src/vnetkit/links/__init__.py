"""The links capability: network namespaces and the virtual NICs the kernel offers.

``Links`` creates, configures and inspects links, addresses, routes,
neighbours and sysctls in one namespace; the spec classes describe each
kind; ``inventory`` looks across all namespaces at once. The values
(specs, ``Link``, ``Address``, ``Route``, ``Neighbour``) live in
``vnetkit.model`` and are the same objects here.
"""

from vnetkit.links.client import Links
from vnetkit.links.inventory import Inventory, InventoryLink, Ref, inventory
from vnetkit.links.namespaces import Namespaces
from vnetkit.links.plan import LinkAction, LinkPlan, execute, plan_links
from vnetkit.links.state import NamespaceState
from vnetkit.model.addresses import Address
from vnetkit.model.links import Bridge, Ifb, Ipvlan, LinkSpec, Macvlan, Macvtap, Tuntap, Veth, Vlan, Vxlan
from vnetkit.model.neighbours import Neighbour
from vnetkit.model.records import Link
from vnetkit.model.routes import Route

__all__ = [
    "Address",
    "Bridge",
    "Ifb",
    "Inventory",
    "InventoryLink",
    "Ipvlan",
    "Link",
    "LinkAction",
    "LinkPlan",
    "LinkSpec",
    "Links",
    "Macvlan",
    "Macvtap",
    "NamespaceState",
    "Namespaces",
    "Neighbour",
    "Ref",
    "Route",
    "Tuntap",
    "Veth",
    "Vlan",
    "Vxlan",
    "execute",
    "inventory",
    "plan_links",
]
