"""Rate, time and state matches: hashlimit, time, u32, rateest, connlabel, nfacct, osf and ipvs
(filled in by the fidelity work; see docs/canonical/spec.md)."""

from __future__ import annotations

from vnetkit.iptables.canonical._ext import Ext

MATCHES: tuple[Ext, ...] = ()
