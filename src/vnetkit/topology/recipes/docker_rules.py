"""Docker 29's iptables rules for one bridge network, rule for rule, as iptables-save prints them.

Owns: ``docker_rules`` (the IPv4 rules the Docker daemon and its bridge
driver leave in the raw, filter and nat tables for one bridge network with
its endpoints and published ports, in Docker's order) and ``Binding`` (one
published port). The layout is the one of moby's iptabler goldens
(``TestIptabler``, docker-v29.x) plus the daemon's own DOCKER-USER chain and
its FORWARD jump (``iptablesdoc/new-daemon.md``); gateway mode ``nat``, no
SNAT address, ports published on every host address (no ``-p 127.0.0.1:``).

Docker's order comes from how it programs the rules: chains and per-network
rules at network creation (appended), then per container in start order the
raw direct-access DROP (appended), then per published port, in
``cmpPortBinding`` order, the DNAT and hairpin MASQUERADE (appended) and the
filter ACCEPT (inserted at the head of DOCKER). Docker's append and insert
are no-ops for a rule already in the chain, so two ports published to the
same container port share one ACCEPT. Pure; does not own the lab model
(``docker_bridge``) or how the rules reach a kernel.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["DOCKER_CHAINS", "USER_CHAIN", "Binding", "docker_rules"]

Rules = dict[str, dict[str, list[str]]]

# Docker's own chains, by table, as iptables-save lists them (sorted).
DOCKER_CHAINS: dict[str, tuple[str, ...]] = {
    "raw": (),
    "filter": ("DOCKER", "DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-FORWARD", "DOCKER-INTERNAL"),
    "nat": ("DOCKER",),
}
# The daemon's chain for users' rules: made empty, jumped to first from FORWARD, never filled by Docker.
USER_CHAIN = "DOCKER-USER"

_PROTO_ORDER = {"tcp": 0, "udp": 1}  # libnetwork types.Protocol: TCP < UDP < SCTP


@dataclass(frozen=True, slots=True)
class Binding:
    """One published port: ``host_port`` on the host's addresses to ``address:port`` (``proto``)."""

    address: ipaddress.IPv4Address
    port: int
    host_port: int
    proto: Literal["tcp", "udp"] = "tcp"


def _docker_order(bindings: Sequence[Binding]) -> list[Binding]:
    """The order Docker programs bindings in.

    Containers start in the order given and get addresses in that order, so
    container order is address order; within a container, ``cmpPortBinding``
    sorts exact host ports by container port, then protocol, then host port.
    """
    return sorted(bindings, key=lambda b: (int(b.address), b.port, _PROTO_ORDER[b.proto], b.host_port))


def _append(rules: list[str], rule: str) -> None:
    """Docker's ``Rule.Append``: a no-op when the rule is already in the chain."""
    if rule not in rules:
        rules.append(rule)


def _insert(rules: list[str], rule: str) -> None:
    """Docker's ``Rule.Insert`` (at the head): a no-op when the rule is already in the chain."""
    if rule not in rules:
        rules.insert(0, rule)


def docker_rules(
    *,
    bridge: str,
    subnet: ipaddress.IPv4Network,
    endpoints: Sequence[ipaddress.IPv4Address],
    bindings: Sequence[Binding] = (),
    icc: bool = True,
    hairpin: bool = True,
    internal: bool = False,
    masquerade: bool = True,
) -> Rules:
    """The rules of one Docker bridge network, by table then chain, in iptables-save's order.

    ``endpoints``: the containers' addresses in start order. ``hairpin``
    true means the userland proxy is off (Docker's ``Hairpin``). Every chain
    of Docker's is present, empty ones too (a jump needs its target);
    built-in chains appear only with rules. DOCKER-USER is not in the
    result: it is the user's chain (see ``USER_CHAIN``), reached by the
    first rule of FORWARD.
    """
    raw_pre: list[str] = []
    fwd = [f"-j {USER_CHAIN}", "-j DOCKER-FORWARD"]
    docker: list[str] = []
    docker_bridge: list[str] = []
    docker_ct: list[str] = []
    docker_fwd = ["-j DOCKER-CT", "-j DOCKER-INTERNAL", "-j DOCKER-BRIDGE"]
    docker_internal: list[str] = []
    nat_pre = ["-m addrtype --dst-type LOCAL -j DOCKER"]
    nat_out = [
        "-m addrtype --dst-type LOCAL -j DOCKER"
        if hairpin
        else "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"
    ]
    nat_post: list[str] = []
    nat_docker: list[str] = []

    # The network: setupIPTablesInternal / setDefaultForwardRule / setIcc.
    if internal:
        docker_fwd.append(f"-i {bridge} -o {bridge} -j {'ACCEPT' if icc else 'DROP'}")
        docker_internal += [f"! -s {subnet} -o {bridge} -j DROP", f"! -d {subnet} -i {bridge} -j DROP"]
    else:
        if hairpin:
            nat_post.append(f"-o {bridge} -m addrtype --src-type LOCAL -j MASQUERADE")
        if masquerade:
            nat_post.append(f"-s {subnet} ! -o {bridge} -j MASQUERADE")
        docker_ct.append(f"-o {bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        docker_bridge.append(f"-o {bridge} -j DOCKER")
        docker.append(f"! -i {bridge} -o {bridge} -j DROP")
        if icc:
            docker_fwd.append(f"-i {bridge} -j ACCEPT")
        else:
            docker_fwd += [f"-i {bridge} -o {bridge} -j DROP", f"-i {bridge} ! -o {bridge} -j ACCEPT"]

        # Each container as it starts: filterDirectAccess, then its ports (setPerPortIptables).
        for address in endpoints:
            _append(raw_pre, f"-d {address}/32 ! -i {bridge} -j DROP")
        for b in _docker_order(bindings):
            match = f"-p {b.proto} -m {b.proto}"
            in_ = "" if hairpin else f"! -i {bridge} "
            _append(
                nat_docker,
                f"{in_}{match} --dport {b.host_port} -j DNAT --to-destination {b.address}:{b.port}",
            )
            if hairpin:
                _append(
                    nat_post, f"-s {b.address}/32 -d {b.address}/32 {match} --dport {b.port} -j MASQUERADE"
                )
            _insert(docker, f"-d {b.address}/32 ! -i {bridge} -o {bridge} {match} --dport {b.port} -j ACCEPT")

    rules: Rules = {
        "raw": {"PREROUTING": raw_pre},
        "filter": {
            "FORWARD": fwd,
            "DOCKER": docker,
            "DOCKER-BRIDGE": docker_bridge,
            "DOCKER-CT": docker_ct,
            "DOCKER-FORWARD": docker_fwd,
            "DOCKER-INTERNAL": docker_internal,
        },
        "nat": {
            "PREROUTING": nat_pre,
            "OUTPUT": nat_out,
            "POSTROUTING": nat_post,
            "DOCKER": nat_docker,
        },
    }
    own = {table: set(chains) for table, chains in DOCKER_CHAINS.items()}
    return {
        table: {chain: body for chain, body in chains.items() if body or chain in own[table]}
        for table, chains in rules.items()
        if any(body or chain in own[table] for chain, body in chains.items())
    }
