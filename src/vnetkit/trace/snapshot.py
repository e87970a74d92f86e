"""``Snapshot``: everything of one namespace that decides a packet's path, as one value.

Owns: the value (IPv4 and IPv6 rulesets, interfaces with addresses, routes,
policy rules, the sysctls that change the path, ipsets), its lookups, and
``Snapshot.load``, which builds one from the text users already have
(``iptables-save``, ``ip -j addr``, ``ip -j route show table all``, ``ip -j
rule``, ``ipset save``, ``sysctl``). Pure. Does not own: the parsers
(``snapshot_load``), reading a live namespace (``snapshot_take.take``), or
what a packet does (the trace engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from vnetkit.errors import ParseError
from vnetkit.iptables.savefile import parse_save
from vnetkit.model.routes import Route
from vnetkit.model.ruleset import Ruleset
from vnetkit.trace.snapshot_load import (
    parse_addr_json,
    parse_ipset_save,
    parse_route_json,
    parse_rule_json,
    parse_sysctl_text,
)
from vnetkit.trace.snapshot_values import Interface, IPInterface, IpSet, PolicyRule

__all__ = ["PATH_SYSCTLS", "PER_INTERFACE_SYSCTLS", "Snapshot"]

#: The namespace-wide sysctls that change a packet's path (read when present).
PATH_SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
    "net.ipv4.conf.all.route_localnet",
    "net.ipv4.conf.default.route_localnet",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
)
PER_INTERFACE_SYSCTLS = ("rp_filter", "route_localnet")  # net.ipv4.conf.<interface>.<key>


def _frozen(mapping: Mapping[str, object], what: str) -> Mapping[str, str]:
    for key, value in mapping.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ParseError(f"{what}: {key!r} = {value!r}: keys and values must be text", source=what)
    return MappingProxyType(dict(mapping))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A namespace's rulesets, interfaces, routes, policy rules, path sysctls and ipsets.

    ``rules4``/``rules6`` None: not read. ``routes`` are those of every table
    the listing had (``main`` and ``local``, and any table a policy rule
    looks up), both families, in the kernel's order. ``sysctls`` maps dotted
    keys (``net.ipv4.conf.eth0.rp_filter``) to their text; a key the
    namespace lacks (``bridge-nf-call-*`` without ``br_netfilter``) is absent.
    """

    rules4: Ruleset | None = None
    rules6: Ruleset | None = None
    interfaces: tuple[Interface, ...] = ()
    routes: tuple[Route, ...] = ()
    rules: tuple[PolicyRule, ...] = ()
    sysctls: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    ipsets: Mapping[str, IpSet] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sysctls", _frozen(self.sysctls, "sysctls"))
        object.__setattr__(self, "ipsets", MappingProxyType(dict(self.ipsets)))

    @classmethod
    def load(
        cls,
        *,
        rules4: str | None = None,
        rules6: str | None = None,
        addr_json: str | None = None,
        route_json: str | None = None,
        rule_json: str | None = None,
        rule6_json: str | None = None,
        ipsets: str | None = None,
        sysctls: Mapping[str, str] | str | None = None,
    ) -> Snapshot:
        """A snapshot from saved text: each argument is one tool's output, None when not at hand.

        ``rules4``/``rules6``: ``iptables-save`` / ``ip6tables-save``;
        ``addr_json``: ``ip -j addr`` (``ip -d -j addr`` also gives link kinds);
        ``route_json``: ``ip -j route show table all`` (or ``ip -j route``: main
        only), whose links must all be in ``addr_json``; ``rule_json`` /
        ``rule6_json``: ``ip -j rule`` / ``ip -j -6 rule``; ``ipsets``: ``ipset
        save``; ``sysctls``: a mapping, or ``sysctl`` output. Bad input raises
        ``ParseError`` naming the source and what was wrong.
        """
        interfaces = parse_addr_json(addr_json) if addr_json is not None else ()
        routes = parse_route_json(route_json, interfaces) if route_json is not None else ()
        rules: tuple[PolicyRule, ...] = ()
        if rule_json is not None:
            rules += parse_rule_json(rule_json, family="ipv4")
        if rule6_json is not None:
            rules += parse_rule_json(rule6_json, family="ipv6", source="ip -j -6 rule")
        if isinstance(sysctls, str):
            sysctls = parse_sysctl_text(sysctls)
        return cls(
            rules4=parse_save(rules4, source="iptables-save") if rules4 is not None else None,
            rules6=parse_save(rules6, source="ip6tables-save") if rules6 is not None else None,
            interfaces=interfaces,
            routes=routes,
            rules=rules,
            sysctls=sysctls or {},
            ipsets=parse_ipset_save(ipsets) if ipsets is not None else {},
        )

    # -- lookups ---------------------------------------------------------------------

    def interface(self, name: str) -> Interface:
        """The interface called ``name``; ``LookupError`` naming the ones there are if none is."""
        for interface in self.interfaces:
            if interface.name == name:
                return interface
        known = ", ".join(interface.name for interface in self.interfaces) or "none"
        raise LookupError(f"no interface {name!r} in the snapshot (there are: {known})")

    def local_addresses(self) -> tuple[IPInterface, ...]:
        """Every address of every interface (with its prefix), interfaces in order."""
        return tuple(address for interface in self.interfaces for address in interface.addresses)

    def routes_of(self, table: int) -> tuple[Route, ...]:
        """The routes of routing table ``table`` (254: main, 255: local), both families."""
        return tuple(route for route in self.routes if route.table == table)

    def ruleset(self, family: str) -> Ruleset | None:
        """``rules4`` for ``ipv4``, ``rules6`` for ``ipv6``."""
        return self.rules4 if family == "ipv4" else self.rules6

    def sysctl(self, key: str, default: str | None = None) -> str | None:
        """The value of sysctl ``key`` (dotted), or ``default`` when it was not read."""
        return self.sysctls.get(key, default)
