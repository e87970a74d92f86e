"""``canonical(rule)``: the form iptables-save prints for a rule once it is added.

Owns: normalising what the user wrote into what the tool prints back, so a
desired rule compares equal to the live rule it describes (``sync``,
``exists`` from a snapshot). Core options: addresses get their prefix
length and lose host bits, ``0.0.0.0/0`` disappears, protocol names and
numbers become iptables' names, implicit protocol matches are made explicit
(done by the rule grammar). Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from vnetkit.errors import RuleError
from vnetkit.model import Rule

__all__ = ["canonical", "canonical_address", "canonical_protocol"]

# How iptables-save names protocols (libxtables' table, then /etc/protocols).
_PROTOCOL_NAMES = {
    "1": "icmp",
    "2": "igmp",
    "4": "ipip",
    "6": "tcp",
    "17": "udp",
    "41": "ipv6",
    "47": "gre",
    "50": "esp",
    "51": "ah",
    "58": "ipv6-icmp",
    "132": "sctp",
    "33": "dccp",
    "136": "udplite",
    "icmpv6": "ipv6-icmp",
    "ipv6-icmp": "ipv6-icmp",
}


def canonical_address(text: str) -> str | None:
    """``10.1.2.3/8`` -> ``10.0.0.0/8``, ``192.0.2.1`` -> ``192.0.2.1/32``; the any-address -> None."""
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise RuleError(f"invalid address {text!r} (names are not resolved; give an address)") from None
    if network.prefixlen == 0:
        return None
    return str(network)


def canonical_protocol(text: str) -> str | None:
    """``TCP`` -> ``tcp``, ``6`` -> ``tcp``, ``icmpv6`` -> ``ipv6-icmp``; ``all``/``0`` -> None."""
    lowered = text.lower()
    if lowered in ("all", "0"):
        return None
    return _PROTOCOL_NAMES.get(lowered, lowered)


def canonical(rule: Rule) -> Rule:
    """The rule as iptables-save would print it back after adding it."""
    changes: dict[str, object] = {}
    for field in ("source", "destination"):
        value = getattr(rule, field)
        if value is not None:
            address = canonical_address(value)
            if address is None and not getattr(rule, f"{field}_negated"):
                changes[field] = None
            else:
                changes[field] = address if address is not None else value
    if rule.protocol is not None:
        protocol = canonical_protocol(rule.protocol)
        if protocol is None and not rule.protocol_negated:
            changes["protocol"] = None
        elif protocol is not None:
            changes["protocol"] = protocol
    if not changes:
        return rule
    return dataclasses.replace(rule, **changes)  # type: ignore[arg-type]
