"""Header and packet-property matches: IPv6 extension headers, dccp, ecn, ipcomp, realm, policy, cpu,
quota, socket, cluster, cgroup and bpf (filled in by the fidelity work; see docs/canonical/spec.md)."""

from __future__ import annotations

from vnetkit.iptables.canonical._ext import Ext

MATCHES: tuple[Ext, ...] = ()
