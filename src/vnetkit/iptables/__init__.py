"""The firewall capability: an iptables client with every verb of go-iptables.

``IPTables`` runs the verbs (through ``exec``); ``parse_stat``/``Stat`` and the
text helpers are pure.
"""

from vnetkit.iptables.caps import Capabilities, parse_version
from vnetkit.iptables.client import IPTables
from vnetkit.iptables.names import BUILTIN_CHAINS, TABLES
from vnetkit.iptables.stats import Stat, parse_listing, parse_stat

__all__ = [
    "BUILTIN_CHAINS",
    "TABLES",
    "Capabilities",
    "IPTables",
    "Stat",
    "parse_listing",
    "parse_stat",
    "parse_version",
]
