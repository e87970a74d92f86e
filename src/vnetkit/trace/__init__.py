"""Trace: what happens to a packet, live from the kernel or offline from saved state.

Owns the input every trace reads: ``Snapshot``, the rulesets, interfaces,
routes, policy rules, path sysctls and ipsets of one namespace, loaded from
saved tool output (``Snapshot.load``) or read live (``take``); the packet a
user asks about (``Packet``, ``parse_packet``, ``GRAMMAR``); the engine
(``Engine``, ``simulate``: the packet's path through netfilter and routing,
a pure function of the snapshot) and its answer (``Answer`` with its
``Step``s and ``Hit``s; ``render_text`` for people, ``Answer.to_json`` for
programs). Does not own: the command line (``vnetkit.cli.trace``).
"""

from __future__ import annotations

from vnetkit.trace.answer import Answer, Hit, Step
from vnetkit.trace.engine import Engine, simulate
from vnetkit.trace.packet import GRAMMAR, Packet, parse_packet
from vnetkit.trace.render import render_text
from vnetkit.trace.snapshot import PATH_SYSCTLS, PER_INTERFACE_SYSCTLS, Snapshot
from vnetkit.trace.snapshot_take import sysctl_argv, take
from vnetkit.trace.snapshot_values import Interface, IpSet, PolicyRule

__all__ = [
    "GRAMMAR",
    "PATH_SYSCTLS",
    "PER_INTERFACE_SYSCTLS",
    "Answer",
    "Engine",
    "Hit",
    "Interface",
    "IpSet",
    "Packet",
    "PolicyRule",
    "Snapshot",
    "Step",
    "parse_packet",
    "render_text",
    "simulate",
    "sysctl_argv",
    "take",
]
