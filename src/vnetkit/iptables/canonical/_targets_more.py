"""More targets: AUDIT, CHECKSUM, CLUSTERIP, CONNSECMARK, DNPT/SNPT, ECN, HMARK, IDLETIMER, LED,
RATEEST, SECMARK, SET, TCPOPTSTRIP, TEE and ULOG (filled in by the fidelity work)."""

from __future__ import annotations

from vnetkit.iptables.canonical._ext import Ext

TARGETS: tuple[Ext, ...] = ()
