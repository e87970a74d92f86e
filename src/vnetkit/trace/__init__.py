"""Trace: what happens to a packet, live from the kernel or offline from saved state.

This first increment owns the input every trace reads: ``Snapshot``, the
rulesets, interfaces, routes, policy rules, path sysctls and ipsets of one
namespace, loaded from saved tool output (``Snapshot.load``) or read live
(``take``). Does not own (yet): the engine and its rendering.
"""

from __future__ import annotations

from vnetkit.trace.snapshot import PATH_SYSCTLS, PER_INTERFACE_SYSCTLS, Snapshot
from vnetkit.trace.snapshot_take import sysctl_argv, take
from vnetkit.trace.snapshot_values import Interface, IpSet, PolicyRule

__all__ = [
    "PATH_SYSCTLS",
    "PER_INTERFACE_SYSCTLS",
    "Interface",
    "IpSet",
    "PolicyRule",
    "Snapshot",
    "sysctl_argv",
    "take",
]
