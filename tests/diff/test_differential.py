"""Differential proof: the trace engine's prediction against the kernel, packet by packet.

For each backend (nft, legacy) and family, generated rulesets (``generate``)
are loaded into R and each probe is sent for real from A (``probe.Lab``),
conntrack flushed first. The kernel's observable result (the disposition:
forwarded out of which veth, delivered to R's socket, rejected with an ICMP
error at A, or dropped; the addresses and ports after NAT; R's per-rule and
policy packet-counter deltas from ``iptables-save -c``) must equal the
engine's answer (``disposition``, ``out_interface``, ``final``, ``hits``)
for every probe. Counters are compared by packets; when R answers (a
REJECT's ICMP error, the port-unreachable or RST of a local delivery), the
chains that answer crosses (those reachable from any OUTPUT and from mangle
POSTROUTING) are left out on both sides; so are they for a packet routed
back out of ``ra`` (R's ICMPv6 redirect, sent before FORWARD). With nft, a
built-in chain ``iptables-nft-save`` prints but nf_tables does not hold has
no counter: its predicted policy hit is not expected. A measurement during
which R sent multicast (its MLD reports) is re-measured; a disagreement is
re-measured twice more and counts only if it persists; it is then reduced
to a minimal ruleset by removing rules while it still disagrees, and printed
as a reproducer (ruleset + packet).
"""

from __future__ import annotations

import ipaddress
import os
import re
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.diff.generate import BUILTIN, Case, cases
from tests.diff.probe import ADDR, Lab, Observation, Probe
from vnetkit.trace import Answer, Engine, Packet, take

pytestmark = pytest.mark.integration

#: Probes per backend and family, and the seed every ruleset and probe derives from.
PROBES = int(os.environ.get("VNETKIT_DIFF_PROBES", "60"))
SEED = int(os.environ.get("VNETKIT_DIFF_SEED", "1"))
PER_RULESET = 20
# IPv6 disagrees today on two engine points this tier found (reproduced on the kernel): IPv6
# `addrtype --dst-type UNICAST` matches R's own addresses, and a namespace where no rule needs
# conntrack does not traverse nat at all. Kept visible as expected failures until the engine is fixed.
_KNOWN = pytest.mark.xfail(
    reason="engine: IPv6 addrtype UNICAST of local addresses; nat skipped without conntrack (tests/diff)",
    strict=False,
    run="VNETKIT_DIFF_PROBES" in os.environ,  # make test-diff runs them (and prints the reproducers)
)
COMBOS = [
    ("nft", "ipv4"),
    pytest.param("nft", "ipv6", marks=_KNOWN),
    ("legacy", "ipv4"),
    pytest.param("legacy", "ipv6", marks=_KNOWN),
]

Key = tuple[str, str, int]


def packet_of(probe: Probe, length: int) -> Packet:
    """The engine's view of ``probe`` arriving on R's ``ra``."""
    return Packet(
        proto=probe.proto, src=ipaddress.ip_address(probe.src), dst=ipaddress.ip_address(probe.dst),
        sport=probe.sport, dport=probe.dport, in_interface="ra",
        tcp_flags=frozenset({"syn"}) if probe.proto == 6 else frozenset(), length=length,
    )  # fmt: skip


def answer_side(text: str) -> set[tuple[str, str]]:
    """(table, chain) an answer R makes crosses: reachable from every OUTPUT and from mangle POSTROUTING."""
    edges: dict[tuple[str, str], set[str]] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
        m = re.match(r"-A (\S+) .*-[jg] (\S+)", line)
        if m:
            edges.setdefault((table, m.group(1)), set()).add(m.group(2))
    todo = [(t, "OUTPUT") for t in ("raw", "mangle", "nat", "filter")] + [("mangle", "POSTROUTING")]
    seen: set[tuple[str, str]] = set()
    while todo:
        here = todo.pop()
        if here in seen:
            continue
        seen.add(here)
        todo += [(here[0], nxt) for nxt in edges.get(here, ())]
    return seen


def answer_family(answer: Answer) -> str:
    return "ipv6" if ":" in str(answer.final["dst"]) else "ipv4"


@dataclass
class Verdict:
    agree: bool
    why: str
    expected: Counter[Key]
    got: Counter[Key]


def compare(answer: Answer, seen: Observation, text: str, absent: set[tuple[str, str]]) -> Verdict:
    """Whether the kernel's observation matches the engine's answer, and how not.

    ``absent``: built-in chains the snapshot shows but nf_tables does not hold (iptables-nft-save
    prints every built-in chain of a table); their policy hits have no counter to rise.
    """
    expected: Counter[Key] = Counter(
        (h.table, h.chain, h.position) for h in answer.hits if (h.table, h.chain) not in absent
    )
    got = Counter(seen.counters)
    outcomes = (answer.disposition, seen.disposition)
    # R answers a REJECT (ICMP error), a local delivery (port unreachable, RST) and, for IPv6, a
    # packet forwarded back out of the interface it came in on (ICMPv6 redirect, rate-limited).
    # The ICMPv6 redirect is sent before FORWARD, so even when FORWARD then drops the packet.
    hairpin = ipaddress.ip_address(answer.final["dst"]) in ipaddress.ip_network(
        ADDR[answer_family(answer)]["anet_cidr"]
    )
    if (
        "rejected" in outcomes
        or "delivered" in outcomes
        or "ra" in (answer.out_interface, seen.out)
        or hairpin
    ):
        skip = answer_side(text)
        expected = Counter({k: v for k, v in expected.items() if (k[0], k[1]) not in skip})
        got = Counter({k: v for k, v in got.items() if (k[0], k[1]) not in skip})
    why = []
    if answer.disposition != seen.disposition:
        why.append(f"disposition: engine {answer.disposition}, kernel {seen.disposition}")
    elif seen.disposition == "forwarded" and answer.out_interface != seen.out:
        why.append(f"out interface: engine {answer.out_interface}, kernel {seen.out}")
    if seen.final is not None and answer.disposition == seen.disposition:
        f = answer.final
        mine = (
            str(ipaddress.ip_address(f["src"])),
            str(ipaddress.ip_address(f["dst"])),
            f["sport"],
            f["dport"],
        )
        if mine != seen.final:
            why.append(f"addresses after NAT: engine {mine}, kernel {seen.final}")
    if expected != got:
        why.append(f"counters: engine {sorted(expected.items())}, kernel {sorted(got.items())}")
    return Verdict(not why, "; ".join(why), expected, got)


class Runner:
    """Loads cases into the lab and measures probes against the engine."""

    def __init__(self, lab: Lab, backend: str) -> None:
        self.lab, self.backend = lab, backend
        self.engine: Engine | None = None
        self.text = ""
        self.retried = 0
        self.absent: set[tuple[str, str]] = set()
        self.noise: list[str] = []
        self.noisy = 0

    def load(self, family: str, text: str) -> None:
        self.lab.load(self.backend, family, text)
        self.text = text
        snapshot = take(self.lab.r, backend=self.backend)  # type: ignore[arg-type]
        self.engine = Engine(snapshot)
        self.absent = set()
        if self.backend == "nft":
            ruleset = snapshot.ruleset(family)
            shown = (
                {
                    (t.name, c.name)
                    for t in ruleset.tables
                    for c in t.chains
                    if c.name in BUILTIN.get(t.name, ())
                }
                if ruleset
                else set()
            )
            self.absent = shown - self.lab.nft_base_chains(family)

    def measure(self, probe: Probe) -> tuple[Answer, Observation, Verdict]:
        assert self.engine is not None
        answer = self.engine.simulate(packet_of(probe, len(probe.ip())), misses=False)
        self.lab.flush_conntrack()
        before = self.lab.counters(probe.family)
        expect = answer.disposition in ("forwarded", "delivered", "rejected")
        seen = self.lab.send(probe, expect=expect, before=before)
        return answer, seen, compare(answer, seen, self.text, self.absent)

    def check(self, probe: Probe) -> tuple[Answer, Observation, Verdict]:
        """Measure ``probe`` again while R sent multicast meanwhile (noisy counters, up to 5 times), and
        a disagreement twice more: it counts only if it persists."""
        result = self.measure(probe)
        noisy, disagreed = 0, 0
        while not result[2].agree and result[0].disposition != "undetermined":
            if self.lab.strays and noisy < 5:
                noisy += 1
                self.noisy += 1
            elif disagreed < 2:
                disagreed += 1
                self.retried += 1
                if len(self.noise) < 5:
                    self.noise.append(f"{probe}: {result[2].why}")
            else:
                break
            time.sleep(0.02)
            result = self.measure(probe)
        return result


def reduce(runner: Runner, case: Case, probe: Probe) -> str:
    """The smallest ruleset (rules removed one by one) on which ``probe`` still disagrees."""
    lines = case.text.splitlines()
    i = len(lines) - 1
    budget = 80
    while i >= 0 and budget > 0:
        if lines[i].startswith("-A "):
            trial = lines[:i] + lines[i + 1 :]
            text = "\n".join(trial) + "\n"
            try:
                runner.load(case.family, text)
                answer, _seen, verdict = runner.check(probe)
                if not verdict.agree and answer.disposition != "undetermined":
                    lines = trial
            except RuntimeError:
                pass
            budget -= 1
        i -= 1
    return "\n".join(lines) + "\n"


def run_combo(lab: Lab, backend: str, family: str, total: int, seed: int) -> dict[str, int]:
    runner = Runner(lab, backend)
    tally: Counter[str] = Counter()
    failures: list[str] = []
    for case in cases(seed, family, total, PER_RULESET):
        runner.load(family, case.text)
        tally["rulesets"] += 1
        for probe in case.probes:
            answer, seen, verdict = runner.check(probe)
            tally["probes"] += 1
            if answer.disposition == "undetermined":
                tally["undetermined"] += 1
                continue
            tally["compared"] += 1
            tally[f"kernel {seen.disposition}"] += 1
            if not verdict.agree:
                tally["disagree"] += 1
                if len(failures) < 3:
                    minimal = reduce(runner, case, probe)
                    runner.load(family, minimal)
                    answer, seen, verdict = runner.measure(probe)
                    failures.append(
                        f"--- {backend} {family}: {verdict.why or 'disagreed on the full ruleset only'}\n"
                        f"packet: {probe}  (engine: {answer.reason})\nminimal ruleset (R):\n{minimal}"
                    )
                    runner.load(family, case.text)
    tally["retried"] = runner.retried
    tally["noisy re-measured"] = runner.noisy
    summary = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    print(f"\n{backend} {family}: {summary}")
    for line in runner.noise:
        print(f"  re-measured: {line}")
    assert not failures, "engine and kernel disagree:\n" + "\n".join(failures) + f"\n({summary})"
    return dict(tally)


@pytest.mark.timeout(max(300, PROBES * 2))
@pytest.mark.parametrize(
    ("backend", "family"), COMBOS, ids=["nft-ipv4", "nft-ipv6", "legacy-ipv4", "legacy-ipv6"]
)
def test_engine_agrees_with_kernel(lab: Lab, backend: str, family: str) -> None:
    tally = run_combo(lab, backend, family, PROBES, SEED)
    assert tally["probes"] == PROBES
    # Every outcome class must actually occur, or the comparison proves little.
    assert tally["compared"] >= PROBES * 0.9
    for outcome in ("forwarded", "dropped", "delivered"):
        assert tally[f"kernel {outcome}"] > 0, f"no probe was {outcome}: {tally}"
