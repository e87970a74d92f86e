"""Frozen value types shared by every capability. Standard library only, no I/O.

Rules and rulesets (``rule``, ``ruleset``); what a link should be (the link
specs, ``links``) and what one is (``Link``, ``records``); addresses,
routes and neighbour entries (``addresses``, ``routes``, ``neighbours``),
``ipaddress``-based; the kernel's names and checks (``names``).
"""

from vnetkit.model.addresses import Address
from vnetkit.model.links import Bridge, Ifb, Ipvlan, LinkSpec, Macvlan, Macvtap, Tuntap, Veth, Vlan, Vxlan
from vnetkit.model.neighbours import Neighbour
from vnetkit.model.records import Link
from vnetkit.model.routes import Route
from vnetkit.model.rule import Counters, Match, Option, Rule, Target
from vnetkit.model.ruleset import Chain, Entry, Ruleset, Table

__all__ = [
    "Address",
    "Bridge",
    "Chain",
    "Counters",
    "Entry",
    "Ifb",
    "Ipvlan",
    "Link",
    "LinkSpec",
    "Macvlan",
    "Macvtap",
    "Match",
    "Neighbour",
    "Option",
    "Route",
    "Rule",
    "Ruleset",
    "Table",
    "Target",
    "Tuntap",
    "Veth",
    "Vlan",
    "Vxlan",
]
