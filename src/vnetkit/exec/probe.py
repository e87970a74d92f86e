"""Reachability probes: sockets vnetkit opens inside network namespaces, all driven from one thread.

Owns: the values (``Probe``: from a namespace to an address, icmp/tcp/udp,
and where to listen for it; ``Listen``; ``ProbeResult``), their checking,
and ``run_probes``, which runs them all at once and closes every socket it
opened, whatever happens; a failure comes back as a short reason
("refused", "timeout", "no route", ...: ``reason_of``). Does not own: the
sockets, errno values and matching of answers (``vnetkit.exec._probe_run``,
whose docstring says how a run works; ``_probe_wire``: packets), the kernel's neighbour table
(``vnetkit.exec.neighbours``), which checks to run or where listeners
belong (``vnetkit.topology.check``), or namespaces themselves.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from vnetkit.errors import ConfigError
from vnetkit.exec._probe_run import ProbeRun
from vnetkit.exec._probe_wire import reason_of
from vnetkit.exec.host import Host

__all__ = ["Listen", "Probe", "ProbeResult", "Proto", "reason_of", "run_probes"]

Proto = Literal["icmp", "tcp", "udp"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Listen:
    """Listen on ``port`` in namespace ``netns`` (the probe's protocol and address family)."""

    netns: str
    port: int


@dataclass(frozen=True, slots=True)
class Probe:
    """From namespace ``netns`` to ``address`` (``port`` for tcp/udp), with listeners in ``listen``."""

    netns: str
    address: IPAddress
    proto: Proto = "icmp"
    port: int | None = None
    listen: tuple[Listen, ...] = ()

    def __post_init__(self) -> None:
        if self.proto not in ("icmp", "tcp", "udp"):
            raise ConfigError(
                f"probe to {self.address}: unknown protocol {self.proto!r}: use icmp, tcp or udp"
            )
        if self.proto == "icmp":
            if self.port is not None or self.listen:
                raise ConfigError(f"icmp probe to {self.address}: an icmp probe has no port or listener")
            return
        for port in (self.port, *(where.port for where in self.listen)):
            if port is None or isinstance(port, bool) or not 1 <= port <= 65535:
                raise ConfigError(f"{self.proto} probe to {self.address}: port {port!r} is not in 1-65535")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a probe found: ``ok`` (answered, connected or echoed), round trip, and why (a few words)."""

    probe: Probe
    ok: bool
    rtt_ms: float | None
    reason: str


def run_probes(
    host: Host, probes: Sequence[Probe], *, timeout: float = 2.0, interval: float = 0.2
) -> list[ProbeResult]:
    """Run every probe at once and return their results in order; each gets ``timeout`` seconds.

    ``NotFound`` if a namespace does not exist, ``PermissionDenied`` without
    CAP_NET_RAW, ``OperationError`` if a listener cannot be opened (other
    than a port already in use). Every socket opened is closed before return.
    """
    for name, value in (("timeout", timeout), ("interval", interval)):
        if isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            raise ConfigError(f"invalid probe {name} {value!r}: use a number of seconds > 0")
    if not probes:
        return []
    chosen = list(probes)
    run = ProbeRun(host, chosen, timeout=timeout, interval=interval)
    try:
        run.open()
        run.loop()
        found = run.results()
    finally:
        run.close()
    return [
        ProbeResult(probe, ok, rtt, reason) for probe, (ok, rtt, reason) in zip(chosen, found, strict=True)
    ]
