"""A node's rules, resolved: its firewall and NAT entries become a ``RulesSpec`` per family.

Owns: where each rule goes and how it is owned (rules under a built-in
chain into an owned ``VNK-<CHAIN>`` reached by a tagged jump; ``VNK-...``
chains as they are; ``exact: true`` firewalls as written, untagged; kept
chains; policies), NAT entries as rules (masquerade/SNAT in POSTROUTING,
DNAT in PREROUTING and OUTPUT), the tag ``vnetkit:<lab>``, and rule text
the grammar refuses as a ``TopologyError`` with its YAML path. Pure. Does
not own: the rest of resolving (``resolve``).
"""

from __future__ import annotations

from vnetkit.errors import ConfigError, TopologyError
from vnetkit.iptables.names import is_builtin
from vnetkit.iptables.rules import parse_rule
from vnetkit.model import Rule
from vnetkit.topology.model import Dnat, Firewall, Masquerade, Snat, split_target
from vnetkit.topology.spec import RulesSpec

__all__ = ["FirewallRules", "nat_family", "tag"]


def _fail(where: str, message: str) -> TopologyError:
    return TopologyError(f"{where}: {message}", location=where)


def tag(lab: str) -> str:
    """The comment every rule a (non-exact) lab firewall writes carries: ``vnetkit:<lab>``."""
    return f"vnetkit:{lab}"


def nat_family(entry: Masquerade | Snat | Dnat) -> int:
    if isinstance(entry, Dnat):
        return split_target(entry.to)[0].version
    if isinstance(entry, Snat):
        return entry.to.version
    return entry.source.version if entry.source is not None else 4


class FirewallRules:
    """Builds a node's ``RulesSpec`` for one family from its firewall and NAT entries."""

    def __init__(self, lab: str, where: str, ipv6: bool) -> None:
        self.lab = lab
        self.where = where
        self.ipv6 = ipv6
        self.chains: dict[tuple[str, str], list[Rule]] = {}
        self.placed: list[tuple[tuple[str, str], Rule]] = []
        self.kept: list[tuple[str, str]] = []
        self.policies: list[tuple[tuple[str, str], str]] = []

    def _parse(self, where: str, text: str, tagged: bool) -> Rule:
        try:
            rule = parse_rule(text)
        except ConfigError as exc:
            raise _fail(where, f"{text!r}: {exc}") from None
        if tagged:
            rule = parse_rule(f"{text} -m comment --comment {tag(self.lab)}") if text else rule
        return rule

    def _owned(self, table: str, builtin: str) -> str:
        """The owned chain behind a built-in one, reached by a tagged jump made when first used."""
        chain = f"VNK-{builtin}"
        if (table, chain) not in self.chains:
            self.chains[(table, chain)] = []
            jump = parse_rule(f"-m comment --comment {tag(self.lab)} -j {chain}")
            self.placed.append(((table, builtin), jump))
        return chain

    def firewall(self, fw: Firewall) -> None:
        for table, chains in fw.tables().items():
            for chain, texts in chains.items():
                where = f"{self.where}.firewall.{table}.{chain}"
                builtin = is_builtin(table, chain)
                if not fw.exact and not builtin and not chain.startswith("VNK-"):
                    raise _fail(
                        where,
                        f"chain {chain!r}: use a built-in chain of table {table} or an owned chain "
                        "named VNK-... (or exact: true to write rules as they are)",
                    )
                if fw.exact:
                    rules = [self._parse(f"{where}[{i}]", t, False) for i, t in enumerate(texts)]
                    if builtin:
                        self.placed.extend(((table, chain), r) for r in rules)
                    else:
                        self.chains.setdefault((table, chain), []).extend(rules)
                    continue
                target = self._owned(table, chain) if builtin else chain
                self.chains.setdefault((table, target), []).extend(
                    self._parse(f"{where}[{i}]", t, True) for i, t in enumerate(texts)
                )
        for table, kept in fw.keep.items():
            for chain in kept:
                if is_builtin(table, chain):
                    raise _fail(
                        f"{self.where}.firewall.keep.{table}", f"{chain} is built in: it always exists"
                    )
                self.kept.append((table, chain))
        for table, policies in fw.policies.items():
            for chain, policy in policies.items():
                if not is_builtin(table, chain):
                    raise _fail(
                        f"{self.where}.firewall.policies.{table}.{chain}",
                        "only built-in chains have a policy",
                    )
                self.policies.append(((table, chain), policy))

    def nat(self, where: str, entry: Masquerade | Snat | Dnat) -> None:
        t = tag(self.lab)
        if isinstance(entry, Masquerade | Snat):
            parts = []
            if entry.source is not None:
                parts.append(f"-s {entry.source}")
            if entry.out is not None:
                parts.append(f"-o {entry.out}")
            action = "-j MASQUERADE" if isinstance(entry, Masquerade) else f"-j SNAT --to-source {entry.to}"
            text = " ".join([*parts, "-m comment --comment", t, action])
            chain = self._owned("nat", "POSTROUTING")
            self.chains[("nat", chain)].append(self._parse(where, text, False))
            return
        address, port = split_target(entry.to)
        to = (
            f"[{address}]:{port}"
            if port and address.version == 6
            else f"{address}:{port}"
            if port
            else str(address)
        )
        match = f"-p {entry.proto} -m {entry.proto} --dport {entry.port}"
        dest = f"-d {entry.destination}" if entry.destination is not None else "-m addrtype --dst-type LOCAL"
        inbound = f"-i {entry.in_} " if entry.in_ is not None else ""
        pre = f"{dest} {inbound}{match} -m comment --comment {t} -j DNAT --to-destination {to}"
        self.chains[("nat", self._owned("nat", "PREROUTING"))].append(self._parse(where, pre, False))
        if entry.in_ is None:
            out = f"{dest} {match} -m comment --comment {t} -j DNAT --to-destination {to}"
            self.chains[("nat", self._owned("nat", "OUTPUT"))].append(self._parse(where, out, False))

    def spec(self) -> RulesSpec:
        return RulesSpec(
            ipv6=self.ipv6,
            chains=tuple((key, tuple(rules)) for key, rules in self.chains.items()),
            placed=tuple(self.placed),
            kept=tuple(self.kept),
            policies=tuple(self.policies),
        )
