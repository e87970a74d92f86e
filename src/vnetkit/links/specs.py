"""The link specs, where they used to live: now ``vnetkit.model.links`` (the same objects).

Kept so ``from vnetkit.links.specs import Veth`` (and ``check_ifname``,
``check_mac``) goes on working; new code imports from ``vnetkit.links`` or
``vnetkit.model``.
"""

from vnetkit.model.links import Bridge, Ifb, Ipvlan, LinkSpec, Macvlan, Macvtap, Tuntap, Veth, Vlan, Vxlan
from vnetkit.model.names import check_ifname, check_mac

__all__ = [
    "Bridge",
    "Ifb",
    "Ipvlan",
    "LinkSpec",
    "Macvlan",
    "Macvtap",
    "Tuntap",
    "Veth",
    "Vlan",
    "Vxlan",
    "check_ifname",
    "check_mac",
]
