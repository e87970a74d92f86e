"""Realistic rulesets for router R and probe packets for them, from a seed (deterministic).

Owns: ``ruleset(rng, family)``, the ``iptables-restore`` text of one R
ruleset, assembled from templates written after the golden corpus
(``tests/golden``, ``/work/shared/reference/moby/iptabler``; not parsed
from it): Docker's DOCKER-USER /
DOCKER-FORWARD / DOCKER-CT / DOCKER-BRIDGE / DOCKER chains and its
addrtype-LOCAL DNAT and MASQUERADE; kube-proxy's KUBE-SERVICES / KUBE-SVC /
KUBE-SEP DNAT with KUBE-MARK-MASQ and the mark-gated KUBE-POSTROUTING;
Neutron's l3-agent mark, scope, SNAT and floating-IP DNAT chains; a host
firewall (lo, conntrack, ssh, multiport, REJECT, LOG); then mutated (ports,
addresses, targets, order, which chains exist, policies) and topped with
random rules of R's interfaces and networks (``probe.ADDR``). And
``probes(rng, family, n, ports)``: UDP datagrams and TCP SYNs from A's
network to R, B's network, a routed far network and the service addresses
the rulesets name. Pure. Does not own: loading or sending (``probe``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from tests.diff.probe import ADDR, Probe

__all__ = ["Case", "cases", "probes", "ruleset"]

BUILTIN = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
}
PORTS = [22, 53, 80, 123, 443, 3306, 5000, 6443, 8080, 8443, 9090, 30080]


@dataclass
class _Rules:
    """A ruleset under construction: per table, its chains (policy or None) and its rules in order."""

    family: str
    rng: random.Random
    chains: dict[str, dict[str, str | None]] = field(default_factory=dict)
    rules: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    ports: set[int] = field(default_factory=set)

    def chain(self, table: str, name: str) -> str:
        chains = self.chains.setdefault(table, {})
        if name not in chains:
            chains[name] = "ACCEPT" if name in BUILTIN[table] else None
        return name

    def add(self, table: str, chain: str, spec: str) -> None:
        self.chain(table, chain)
        self.rules.setdefault(table, []).append((chain, spec))

    def a(self, key: str, host: int | None = None) -> str:
        """An address (or a network prefix + host) of the lab for this family."""
        value = ADDR[self.family][key]
        return f"{value}{host}" if host is not None else value

    def host32(self, key: str, host: int) -> str:
        return f"{self.a(key, host)}/{'32' if self.family == 'ipv4' else '128'}"

    def to(self, address: str, port: int | None = None) -> str:
        if port is None:
            return address
        return f"[{address}]:{port}" if self.family == "ipv6" else f"{address}:{port}"

    def port(self) -> int:
        port = self.rng.choice(PORTS)
        self.ports.add(port)
        return port

    def text(self) -> str:
        out = []
        for table in ("raw", "mangle", "nat", "filter"):
            if table not in self.chains:
                continue
            out.append(f"*{table}")
            for name, policy in self.chains[table].items():
                out.append(f":{name} {policy or '-'} [0:0]")
            out += [f"-A {chain} {spec}" for chain, spec in self.rules.get(table, [])]
            out.append("COMMIT")
        return "\n".join(out) + "\n"


# -- shapes from the corpus ---------------------------------------------------------------


def _docker(r: _Rules) -> None:
    user = r.chain("filter", "DOCKER-USER")
    r.add("filter", "FORWARD", f"-j {user}")
    if r.rng.random() < 0.4:
        r.add("filter", user, f"-s {r.host32('anet', r.rng.randint(2, 9))} -j DROP")
    r.add("filter", user, "-j RETURN")
    r.add("filter", "FORWARD", "-j DOCKER-FORWARD")
    for sub in ("DOCKER-CT", "DOCKER-INTERNAL", "DOCKER-BRIDGE"):
        r.add("filter", "DOCKER-FORWARD", f"-j {sub}")
    r.add("filter", "DOCKER-FORWARD", "-i rb -j ACCEPT")
    r.add("filter", "DOCKER-CT", "-o rb -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    r.chain("filter", "DOCKER-INTERNAL")
    r.add("filter", "DOCKER-BRIDGE", "-o rb -j DOCKER")
    local = "127.0.0.0/8" if r.family == "ipv4" else "::1/128"
    r.add("nat", "PREROUTING", "-m addrtype --dst-type LOCAL -j DOCKER")
    r.add("nat", "OUTPUT", f"! -d {local} -m addrtype --dst-type LOCAL -j DOCKER")
    r.add("nat", "POSTROUTING", f"-s {r.a('bnet_cidr')} ! -o rb -j MASQUERADE")
    r.add("nat", "DOCKER", "-i rb -j RETURN")
    for _ in range(r.rng.randint(1, 3)):
        host, port, inner = r.rng.randint(2, 9), r.port(), r.port()
        proto = r.rng.choice(("tcp", "udp"))
        r.add(
            "filter",
            "DOCKER",
            f"-d {r.host32('bnet', host)} ! -i rb -o rb -p {proto} -m {proto} --dport {inner} -j ACCEPT",
        )
        r.add(
            "nat",
            "DOCKER",
            f"! -i rb -p {proto} -m {proto} --dport {port} "
            f"-j DNAT --to-destination {r.to(r.a('bnet', host), inner)}",
        )
    r.add("filter", "DOCKER", "! -i rb -o rb -j DROP")


def _kube(r: _Rules) -> None:
    r.add("nat", "PREROUTING", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    r.add("nat", "OUTPUT", '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    r.add("nat", "POSTROUTING", '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING')
    r.add("nat", "KUBE-MARK-MASQ", "-j MARK --or-mark 0x4000")
    r.add("nat", "KUBE-POSTROUTING", "-m mark ! --mark 0x4000/0x4000 -j RETURN")
    r.add("nat", "KUBE-POSTROUTING", "-j MARK --xor-mark 0x4000")
    r.add("nat", "KUBE-POSTROUTING", "-j MASQUERADE")
    for n in range(r.rng.randint(1, 3)):
        svc, sep = f"KUBE-SVC-{n}AAAAAAAAAAAAAA", f"KUBE-SEP-{n}BBBBBBBBBBBBBB"
        proto, port, inner, host = r.rng.choice(("tcp", "udp")), r.port(), r.port(), r.rng.randint(2, 9)
        r.add(
            "nat",
            "KUBE-SERVICES",
            f"-d {r.host32('far', 10 + n)} -p {proto} -m {proto} --dport {port} -j {svc}",
        )
        if r.rng.random() < 0.5:
            r.add("nat", "KUBE-NODEPORTS", f"-p {proto} -m {proto} --dport {30080 + n} -j {svc}")
            r.ports.add(30080 + n)
        r.add(
            "nat",
            svc,
            f"! -s {r.a('bnet_cidr')} -d {r.host32('far', 10 + n)} -p {proto} -m {proto} --dport {port} "
            "-j KUBE-MARK-MASQ",
        )
        r.add("nat", svc, f"-j {sep}")
        r.add("nat", sep, f"-s {r.host32('bnet', host)} -j KUBE-MARK-MASQ")
        r.add("nat", sep, f"-p {proto} -m {proto} -j DNAT --to-destination {r.to(r.a('bnet', host), inner)}")
    if "KUBE-NODEPORTS" in r.chains.get("nat", {}):
        r.add("nat", "KUBE-SERVICES", "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS")
    r.add("filter", "FORWARD", "-j KUBE-FORWARD")
    r.add("filter", "KUBE-FORWARD", "-m conntrack --ctstate INVALID -j DROP")
    r.add("filter", "KUBE-FORWARD", "-m mark --mark 0x4000/0x4000 -j ACCEPT")
    r.add("filter", "INPUT", "-m conntrack --ctstate NEW -j KUBE-FIREWALL")
    if r.family == "ipv4":
        r.add(
            "filter",
            "KUBE-FIREWALL",
            "! -s 127.0.0.0/8 -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP",
        )
    else:
        r.chain("filter", "KUBE-FIREWALL")


def _neutron(r: _Rules) -> None:
    r.add("mangle", "PREROUTING", "-j neutron-l3-agent-PREROUTING")
    r.add("mangle", "neutron-l3-agent-PREROUTING", "-i ra -j MARK --set-xmark 0x1/0xffff")
    r.add("filter", "FORWARD", "-j neutron-filter-top")
    r.add("filter", "FORWARD", "-j neutron-l3-agent-FORWARD")
    r.add("filter", "neutron-filter-top", "-j neutron-l3-agent-local")
    r.chain("filter", "neutron-l3-agent-local")
    r.add("filter", "neutron-l3-agent-FORWARD", "-j neutron-l3-agent-scope")
    r.add("filter", "neutron-l3-agent-scope", "-o rb -m mark ! --mark 0x1/0xffff -j DROP")
    r.add("nat", "POSTROUTING", "-j neutron-l3-agent-POSTROUTING")
    r.add("nat", "POSTROUTING", "-j neutron-postrouting-bottom")
    r.add("nat", "neutron-l3-agent-POSTROUTING", "! -o rb -m conntrack ! --ctstate DNAT -j ACCEPT")
    r.add(
        "nat",
        "neutron-postrouting-bottom",
        '-m comment --comment "Perform source NAT on outgoing traffic." -j neutron-l3-agent-snat',
    )
    r.add("nat", "neutron-l3-agent-snat", f"-o rb -j SNAT --to-source {r.a('rb')}")
    r.add("nat", "PREROUTING", "-j neutron-l3-agent-PREROUTING")
    r.add(
        "nat",
        "neutron-l3-agent-PREROUTING",
        f"-d {r.host32('far', 20)} -j DNAT --to-destination {r.a('bnet', r.rng.randint(2, 9))}",
    )


def _hostfw(r: _Rules) -> None:
    r.add("filter", "INPUT", "-i lo -j ACCEPT")
    r.add("filter", "INPUT", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    r.add("filter", "INPUT", "-m conntrack --ctstate INVALID -j DROP")
    r.add("filter", "INPUT", "-p tcp -m tcp --dport 22 -j ACCEPT")
    r.add("filter", "INPUT", "-p udp -m multiport --dports 53,123 -j ACCEPT")
    r.add("filter", "INPUT", f"-s {r.host32('anet', r.rng.randint(2, 9))} -j REJECT")
    r.add("filter", "INPUT", f"-p tcp -m tcp --dport {(low := r.port())}:{low + 50} -j ACCEPT")
    if r.rng.random() < 0.5:
        r.add("filter", "INPUT", '-j LOG --log-prefix "in-drop: "')
    r.add("filter", "OUTPUT", "-o lo -j ACCEPT")
    r.add("filter", "OUTPUT", "-p tcp -m tcp --sport 22 -j ACCEPT")
    r.add("filter", "FORWARD", "-j ufw-user-forward")
    for _ in range(r.rng.randint(1, 4)):
        proto = r.rng.choice(("tcp", "udp"))
        target = r.rng.choice(("ACCEPT", "DROP", "REJECT", "RETURN"))
        r.add(
            "filter", "ufw-user-forward", f"-i ra -o rb -p {proto} -m {proto} --dport {r.port()} -j {target}"
        )
    r.chains["filter"]["INPUT"] = r.rng.choice(("ACCEPT", "DROP"))


# -- random rules ---------------------------------------------------------------------------

_HOOK_OF_TARGETS = {
    "raw": ("ACCEPT", "RETURN", "DROP", "CT --notrack", ""),
    "mangle": ("ACCEPT", "RETURN", "MARK --set-mark 0x1", "MARK --or-mark 0x4000", "DROP", ""),
    "filter": ("ACCEPT", "DROP", "RETURN", "REJECT", "LOG", ""),
}


def _match(r: _Rules, hook: str) -> tuple[str, str | None]:  # noqa: PLR0912 - one branch per match kind
    """Random matches a rule in ``hook`` may carry; the protocol chosen (for ports in targets)."""
    rng, parts = r.rng, []
    proto = rng.choice((None, "tcp", "udp", "tcp", "udp"))
    if proto:
        parts.append(f"-p {proto}")
        kind = rng.random()
        if kind < 0.4:
            parts.append(f"-m {proto} --dport {r.port()}")
        elif kind < 0.55:
            low = r.port()
            parts.append(f"-m {proto} --dport {low}:{low + rng.choice((0, 10, 1000))}")
        elif kind < 0.7:
            parts.append(f"-m multiport --dports {r.port()},{r.port()}")
        elif kind < 0.8:
            parts.append(f"-m {proto} --sport {rng.choice(('1024:65535', '0:1023', '40000:50000'))}")
    if rng.random() < 0.35:
        neg = "! " if rng.random() < 0.2 else ""
        net = rng.choice((r.a("anet_cidr"), r.host32("anet", rng.randint(2, 9)), r.a("bnet_cidr")))
        parts.append(f"{neg}-s {net}")
    if rng.random() < 0.35:
        neg = "! " if rng.random() < 0.2 else ""
        net = rng.choice(
            (r.a("bnet_cidr"), r.host32("bnet", rng.randint(2, 9)), r.a("far_cidr"), r.host32("far", 10))
        )
        parts.append(f"{neg}-d {net}")
    if hook in ("PREROUTING", "INPUT", "FORWARD") and rng.random() < 0.3:
        parts.append(f"{'! ' if rng.random() < 0.2 else ''}-i {rng.choice(('ra', 'rb', 'r+'))}")
    if hook in ("FORWARD", "POSTROUTING") and rng.random() < 0.3:
        parts.append(f"{'! ' if rng.random() < 0.2 else ''}-o {rng.choice(('ra', 'rb', 'r+'))}")
    extra = rng.random()
    if extra < 0.1:
        parts.append(
            f"-m conntrack --ctstate {rng.choice(('NEW', 'ESTABLISHED', 'NEW,ESTABLISHED', 'INVALID'))}"
        )
    elif extra < 0.18:
        parts.append(f"-m mark {'! ' if rng.random() < 0.3 else ''}--mark 0x1/0xffff")
    elif extra < 0.25:
        parts.append(f"-m addrtype --dst-type {rng.choice(('LOCAL', 'UNICAST'))}")
    elif extra < 0.3 and r.family == "ipv4":
        parts.append(f"-m iprange --src-range {r.a('anet', 2)}-{r.a('anet', rng.randint(2, 9))}")
    elif extra < 0.35:
        parts.append(f'-m comment --comment "rule {rng.randint(1, 99)}"')
    return " ".join(parts), proto


def _nat_target(r: _Rules, hook: str, proto: str | None) -> str:
    rng = r.rng
    port = r.port() if proto and rng.random() < 0.5 else None
    if hook in ("PREROUTING", "OUTPUT"):
        kind = rng.random()
        if kind < 0.55:
            side = rng.choice(("bnet", "bnet", "anet"))
            return f"DNAT --to-destination {r.to(r.a(side, rng.randint(2, 9)), port)}"
        if kind < 0.75 and hook == "PREROUTING":
            return f"REDIRECT --to-ports {port}" if port else "REDIRECT"
        return rng.choice(("RETURN", "ACCEPT", ""))
    kind = rng.random()
    if kind < 0.4 and hook == "POSTROUTING":
        return "MASQUERADE" + (f" --to-ports {port}" if port else "")
    if kind < 0.8:
        return f"SNAT --to-source {r.to(rng.choice((r.a('rb'), r.a('ra'), r.a('bnet', 9))), port)}"
    return rng.choice(("RETURN", "ACCEPT", ""))


def _random(r: _Rules) -> None:
    rng = r.rng
    table = rng.choice(("raw", "mangle", "nat", "nat", "filter", "filter"))
    hook = rng.choice(BUILTIN[table])
    chain = hook
    if rng.random() < 0.6:
        chain = f"R{rng.randint(1, 999)}-{hook[:3]}"
        jump = "-g" if rng.random() < 0.15 else "-j"
        spec, _ = _match(r, hook)
        r.add(table, hook, f"{spec} {jump} {chain}".strip())
    for _ in range(rng.randint(1, 5)):
        spec, proto = _match(r, hook)
        if table == "nat":
            target = _nat_target(r, hook, proto)
        else:
            target = rng.choice(_HOOK_OF_TARGETS[table])
            if target == "REJECT" and hook == "OUTPUT":
                target = "DROP"
        r.add(
            table, chain, f"{spec} -j {target}".strip() if target else spec or '-m comment --comment "count"'
        )


def ruleset(rng: random.Random, family: str) -> tuple[str, list[int], str]:
    """One R ruleset: (restore text, the ports it names, the shapes it was built from)."""
    r = _Rules(family, rng)
    shapes = [s for s in (_docker, _kube, _neutron, _hostfw) if rng.random() < 0.35]
    for shape in shapes:
        shape(r)
    for _ in range(rng.randint(1, 5)):
        _random(r)
    # Mutations: built-in chains that exist without rules (nft counts only chains that exist),
    # policies, and the order of some chains' rules.
    for table, names in BUILTIN.items():
        for name in names:
            if rng.random() < 0.25:
                r.chain(table, name)
    for name in ("INPUT", "FORWARD"):
        if name in r.chains.get("filter", {}) and rng.random() < 0.25:
            r.chains["filter"][name] = "DROP"
    if rng.random() < 0.3 and r.rules:
        table = rng.choice(sorted(r.rules))
        rules = r.rules[table]
        chain = rng.choice(sorted({c for c, _ in rules}))
        mine = [i for i, (c, _) in enumerate(rules) if c == chain]
        specs = [rules[i] for i in mine]
        rng.shuffle(specs)
        for i, spec in zip(mine, specs, strict=True):
            rules[i] = spec
    label = ",".join(s.__name__.strip("_") for s in shapes) or "random"
    return r.text(), sorted(r.ports), label


def probes(rng: random.Random, family: str, count: int, ports: list[int], first_token: int) -> list[Probe]:
    """``count`` probes from A's network into R: to B's hosts, the far network, service addresses, R."""
    v = ADDR[family]
    out = []
    for n in range(count):
        kind = rng.random()
        if kind < 0.35:
            dst = f"{v['bnet']}{rng.randint(2, 9)}"
        elif kind < 0.6:
            dst = f"{v['far']}{rng.choice((10, 11, 12, 20, 77))}"
        elif kind < 0.8:
            dst = rng.choice((v["ra"], v["rb"]))
        else:
            dst = (
                f"{v['anet']}{rng.randint(2, 9)}" if rng.random() < 0.3 else f"{v['bnet']}{rng.randint(2, 9)}"
            )
        pool = [*ports, 30080, 30081, 30082] if ports else PORTS
        dport = rng.choice(pool) if rng.random() < 0.8 else rng.randint(1, 65535)
        sport = rng.choice((rng.randint(1024, 65535), rng.randint(1, 1023), 22, 53))
        src = f"{v['anet']}{rng.randint(2, 9)}"
        if dst == src:
            dst = f"{v['bnet']}{rng.randint(2, 9)}"
        out.append(Probe(rng.choice((6, 17)), src, dst, sport, dport, first_token + n))
    return out


@dataclass(frozen=True, slots=True)
class Case:
    """One ruleset and the probes sent through it."""

    family: str
    text: str
    shapes: str
    probes: tuple[Probe, ...]


def cases(seed: int, family: str, total: int, per_ruleset: int = 20) -> Iterator[Case]:
    """Rulesets and probes until ``total`` probes, all from ``seed``."""
    rng = random.Random(f"{seed}-{family}")  # noqa: S311 - reproducible by design, not secret
    made = 0
    while made < total:
        text, ports, shapes = ruleset(rng, family)
        batch = probes(rng, family, min(per_ruleset, total - made), ports, 0x1000 + made)
        made += len(batch)
        yield Case(family, text, shapes, tuple(batch))
