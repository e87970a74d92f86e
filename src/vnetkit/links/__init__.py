"""The links capability: network namespaces and the virtual NICs the kernel offers.

``Links`` creates, configures and inspects links, addresses, routes,
neighbours and sysctls in one namespace; the spec classes describe each kind;
``inventory`` looks across all namespaces at once.
"""

from vnetkit.links.client import Links
from vnetkit.links.inventory import Inventory, InventoryLink, Ref, inventory
from vnetkit.links.namespaces import Namespaces
from vnetkit.links.records import Link
from vnetkit.links.specs import Bridge, Ifb, Ipvlan, LinkSpec, Macvlan, Macvtap, Tuntap, Veth, Vlan, Vxlan

__all__ = [
    "Bridge",
    "Ifb",
    "Inventory",
    "InventoryLink",
    "Ipvlan",
    "Link",
    "LinkSpec",
    "Links",
    "Macvlan",
    "Macvtap",
    "Namespaces",
    "Ref",
    "Tuntap",
    "Veth",
    "Vlan",
    "Vxlan",
    "inventory",
]
