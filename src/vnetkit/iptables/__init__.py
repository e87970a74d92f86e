"""The firewall capability: an iptables client with every verb of go-iptables.

``IPTables`` runs the verbs (through ``exec``); ``parse_stat``/``Stat`` and the
text helpers are pure.
"""

from vnetkit.iptables.caps import Capabilities, parse_version
from vnetkit.iptables.client import BackendChoice, IPTables, Protocol
from vnetkit.iptables.names import BUILTIN_CHAINS, TABLES
from vnetkit.iptables.stats import Stat, parse_listing, parse_stat

__all__ = [
    "BUILTIN_CHAINS",
    "TABLES",
    "BackendChoice",
    "Capabilities",
    "IPTables",
    "Protocol",
    "Stat",
    "parse_listing",
    "parse_stat",
    "parse_version",
]
