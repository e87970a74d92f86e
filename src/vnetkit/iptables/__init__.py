"""The firewall capability: every verb of go-iptables, plus structured rules,
save/restore, atomic transactions and desired-state sync.

``IPTables`` runs things (through ``exec``); everything else here is pure:
the rule grammar (``parse_rule``, ``rule_args``, ``render_line``), the save
format (``parse_save``, ``render_save``), ``canonical``, ``Transaction``,
``Desired``/``plan_sync`` and ``Snapshot``.
"""

from vnetkit.iptables.canonical import canonical
from vnetkit.iptables.caps import Capabilities, parse_version
from vnetkit.iptables.client import BackendChoice, IPTables, Protocol
from vnetkit.iptables.names import BUILTIN_CHAINS, TABLES
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line, rule_args
from vnetkit.iptables.savefile import parse_save, render_save
from vnetkit.iptables.snapshot import Snapshot
from vnetkit.iptables.stats import Stat, parse_listing, parse_stat
from vnetkit.iptables.sync import Change, Desired, Jump, SyncPlan, desired_from_save, plan_sync
from vnetkit.iptables.transaction import Transaction

__all__ = [
    "BUILTIN_CHAINS",
    "TABLES",
    "BackendChoice",
    "Capabilities",
    "Change",
    "Desired",
    "IPTables",
    "Jump",
    "Protocol",
    "Snapshot",
    "Stat",
    "SyncPlan",
    "Transaction",
    "canonical",
    "desired_from_save",
    "parse_listing",
    "parse_rule",
    "parse_rule_line",
    "parse_save",
    "parse_stat",
    "parse_version",
    "plan_sync",
    "render_line",
    "render_save",
    "rule_args",
]
