"""canonical() and its fallback on rules we did not write, against the real tool.

The corpus: every example rule of the installed iptables-extensions(8) and
iptables(8) man pages (``tests/corpus/manpages.json``, extracted by
``scripts/capture/manpage_rules.py``; each example in both families), and
rules generated for every option of every extension from the tools' own
``--help`` (``tests/corpus/generated.json``, ``scripts/capture/help_rules.py``).

For each backend and family, every rule is added with ``iptables -A`` in a
private scratch namespace (its own user chain, or the built-in chain a man
page names) and read back with ``iptables-save``. Then, for each rule:

- the tool accepted it: canonical() (with this host's resolver) must print
  exactly those lines; where it answers ``CannotDerive``, the fallback (the
  tool in another scratch namespace) must;
- the tool refused it: canonical() or the fallback must raise ``RuleError``,
  unless the refusal is about the context (kernel, hook, missing object),
  listed in ``CONTEXT`` with the reason.

The counts (checked, derived, answered by the fallback, refused) are printed
and written to ``$VNK_CORPUS_REPORT`` when set. Then every accepted rule is
synced into owned chains of a test namespace, and a second sync must plan
nothing.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest

from vnetkit.errors import CannotDerive, RuleError
from vnetkit.exec import default_runner
from vnetkit.exec.resolver import HostResolver
from vnetkit.iptables import IPTables
from vnetkit.iptables.canonical import TARGETS, canonical_rules
from vnetkit.iptables.fallback import FallbackCanonical
from vnetkit.iptables.rules import line_chain, normal_line, parse_rule, render_line
from vnetkit.iptables.sync import Desired
from vnetkit.model import Rule

pytestmark = pytest.mark.integration

Family = Literal["ipv4", "ipv6"]
Backend = Literal["nft", "legacy"]
CORPUS = Path(__file__).parents[1] / "corpus"
BUILTIN = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}
BASE = {"ipv4": "iptables", "ipv6": "ip6tables"}

# canonical() refuses, on purpose, a rule whose printed form would not read back as the same
# rule (a value iptables-save prints bare with a space in it, a cut inside a character).
UNREADABLE = re.compile(r"split|read back|without quotes|printed bare|bare")

# Refused by the tool for a reason outside the rule's text; canonical() accepts them.
# extension (as -m NAME / -j NAME) -> why
CONTEXT = {
    "-j LED": "this kernel has no LED target (measured in the VM tier)",
    "-m ipvs": "this kernel has no ipvs match (measured in the VM tier)",
    "-j CLUSTERIP": "this kernel has no CLUSTERIP (removed in 6.3; measured in the VM tier)",
    "-j SECMARK": "no SELinux policy is loaded: the kernel refuses every context",
    "-m cgroup": "a --path must exist in this host's cgroup tree",
    "-m nfacct": "the accounting object must exist",
    "-m osf": "the kernel refuses osf without the fingerprints loaded",
    "-m socket": "the kernel allows socket only in mangle PREROUTING/INPUT",
}


@dataclass
class Seen:
    """What the tool did with one corpus rule."""

    entry: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    error: str = ""


def _corpus(family: Family) -> list[dict[str, Any]]:
    man = json.loads((CORPUS / "manpages.json").read_text(encoding="utf-8"))
    generated = json.loads((CORPUS / "generated.json").read_text(encoding="utf-8"))
    entries = [{**e, "family": family} for e in man]  # every example in both families
    return entries + [e for e in generated if e["family"] == family]


def _chains(argv: list[str]) -> set[str]:
    """User chains the rule jumps to (a target no extension defines, without options)."""
    out = set()
    for k, word in enumerate(argv[:-1]):
        if word in ("-j", "-g") and argv[k + 1] not in TARGETS and k + 2 == len(argv):
            out.add(argv[k + 1])
    return out


def _setup(run: Callable[[tuple[str, ...]], object], family: Family, tool: str) -> None:
    """The objects corpus rules refer to: ipsets, nfacct objects, rate estimators."""
    inet = "inet" if family == "ipv4" else "inet6"
    for name in ("s4", "s6", "test"):
        run(("ipset", "create", name, "hash:ip", "family", "inet6" if name == "s6" else inet))
    for name in ("gen", "http-traffic"):
        run(("nfacct", "add", name))
    run((tool, "-w", "-t", "mangle", "-N", "SETUP"))
    for name in ("gen", "eth0", "ppp0"):
        run((tool, "-w", "-t", "mangle", "-A", "SETUP", "-j", "RATEEST", "--rateest-name", name,
             "--rateest-interval", "250ms", "--rateest-ewmalog", "500ms"))  # fmt: skip


def _measure(family: Family, backend: Backend) -> list[Seen]:
    """Every corpus rule through ``iptables -A`` and ``iptables-save`` in a scratch namespace."""
    tool = f"{BASE[family]}-{backend}"
    entries = _corpus(family)
    seen = [Seen(e) for e in entries]
    with default_runner().scratch() as run:
        _setup(run.run, family, tool)
        chains: dict[str, list[str]] = {}
        for k, e in enumerate(entries):
            if e["chain"] not in BUILTIN:
                chains.setdefault(str(e["table"]), []).append(f"C{k}")
            for chain in _chains(list(e["argv"])):
                chains.setdefault(str(e["table"]), []).append(chain)
        text = "".join(
            f"*{table}\n" + "".join(f":{c} - [0:0]\n" for c in dict.fromkeys(names)) + "COMMIT\n"
            for table, names in chains.items()
        )
        done = run.run((f"{tool}-restore", "-w", "--noflush"), input=text)
        assert done.returncode == 0, done.stderr
        builtin: list[int] = []
        for k, (e, s) in enumerate(zip(entries, seen, strict=True)):
            if e["chain"] in BUILTIN:
                builtin.append(k)
                continue
            done = run.run((tool, "-w", "-t", str(e["table"]), "-A", f"C{k}", *e["argv"]))
            s.error = "" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")
        saved = run.run((f"{tool}-save",)).stdout
        table = ""
        for line in saved.splitlines():
            if line.startswith("*"):
                table = line[1:]
            elif line.startswith("-A C") and line_chain(line)[1:].isdigit():
                seen[int(line_chain(line)[1:])].lines.append(line)
        for k in builtin:  # one at a time: a built-in chain is shared
            e, s = entries[k], seen[k]
            table, chain = str(e["table"]), str(e["chain"])
            done = run.run((tool, "-w", "-t", table, "-A", chain, *e["argv"]))
            s.error = "" if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")
            out = run.run((f"{tool}-save", "-t", table)).stdout
            s.lines = [line for line in out.splitlines() if line.startswith(f"-A {chain} ")]
            run.run((tool, "-w", "-t", table, "-F", chain))
    return seen


def _extensions(argv: list[str]) -> set[str]:
    return {f"{argv[k]} {argv[k + 1]}" for k in range(len(argv) - 1) if argv[k] in ("-m", "-j")}


REPORT: dict[str, Counter[str]] = {}


@pytest.mark.parametrize("backend", ["nft", "legacy"])
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_canonical_and_its_fallback_equal_iptables_save(family: Family, backend: Backend) -> None:  # noqa: PLR0912, PLR0915 - one table of outcomes
    seen = _measure(family, backend)
    fallback = FallbackCanonical(default_runner(), family=family, backend=backend, resolver=HostResolver())
    parsed: list[Rule | RuleError] = []
    for s in seen:
        try:
            parsed.append(parse_rule(list(s.entry["argv"])))
        except RuleError as exc:
            parsed.append(exc)
    fallback.prefetch(
        (str(s.entry["table"]), r) for s, r in zip(seen, parsed, strict=True) if isinstance(r, Rule)
    )
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    for s, rule in zip(seen, parsed, strict=True):
        argv = list(s.entry["argv"])
        where = f"{s.entry.get('source') or s.entry.get('page')}: {' '.join(argv)}"
        chain = line_chain(s.lines[0]) if s.lines else "C"
        how, got = "refused", None
        if isinstance(rule, RuleError):
            error: RuleError | None = rule
        else:
            error = None
            try:
                got = [render_line(chain, r) for r in canonical_rules(
                    rule, family=family, backend=backend, resolver=fallback.resolver)]  # fmt: skip
                how = "derived"
            except CannotDerive:
                try:
                    got = [render_line(chain, fallback.tool.printed(str(s.entry["table"]), rule))]
                    how = "fallback"
                except RuleError as exc:
                    error = exc
            except RuleError as exc:
                error = exc
        counts["checked"] += 1
        printed = [normal_line(line) for line in s.lines]  # quoting and spacing aside
        if not s.error:
            if got is None and UNREADABLE.search(str(error)):
                counts["accepted, refused on purpose (does not read back)"] += 1
                continue
            counts[f"accepted, {how}"] += 1
            if got is None:
                wrong.append(f"refuses a rule the tool accepts ({error}): {where} -> {s.lines}")
            elif got != printed:
                wrong.append(f"wrong form ({how}): {where}\n  tool:      {s.lines}\n  canonical: {got}")
        elif got is None:
            counts["refused by both"] += 1
        else:
            context = [CONTEXT[x] for x in _extensions(argv) if x in CONTEXT]
            if s.entry["chain"] in BUILTIN:
                context.append("a built-in chain's hook")
            counts["refused by the tool for its context, accepted" if context else "WRONG"] += 1
            if os.environ.get("VNK_CORPUS_CONTEXT"):
                print(f"context {context}: {where}: {s.error}")
            if not context:
                wrong.append(f"accepts a rule the tool refuses ({s.error}): {where} -> {got}")
    REPORT[f"{backend}/{family}"] = counts
    print(f"\n{backend}/{family}: {dict(counts)}")
    path = os.environ.get("VNK_CORPUS_REPORT")
    if path:
        Path(path).write_text(json.dumps({k: dict(v) for k, v in REPORT.items()}, indent=1) + "\n")
    assert not wrong, f"{len(wrong)} of {len(seen)}:\n" + "\n".join(wrong[:60])


@pytest.mark.parametrize("backend", ["nft", "legacy"])
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_sync_of_every_accepted_rule_converges_in_one_pass(
    family: Family, backend: Backend, netns: str
) -> None:
    seen = _measure(family, backend)
    ipt = IPTables(family, backend=backend, netns=netns)
    runner = default_runner()
    _setup(lambda argv: runner.run(argv, netns=netns), family, ipt.binary)
    fallback = ipt._canonical()  # what sync compares with
    chains: dict[tuple[str, str], list[Rule]] = {}
    refused = 0
    for s in seen:
        argv = list(s.entry["argv"])
        if s.error or s.entry["chain"] in BUILTIN or _chains(argv) or len(s.lines) != 1:
            continue  # refused, in a shared chain, jumping elsewhere, or several rules
        rule = parse_rule(argv)
        try:
            fallback.prefetch([(str(s.entry["table"]), rule)])
            fallback(rule)
        except RuleError:  # refused on purpose: its printed form does not read back
            refused += 1
            continue
        chains.setdefault((str(s.entry["table"]), f"VNK-{s.entry['table']}"), []).append(rule)
    assert refused <= 4
    desired = Desired("VNK-", chains)
    plan = ipt.sync(desired)
    added = sum(len(rules) for rules in chains.values())
    assert len([c for c in plan.changes if c.action == "add"]) == added
    again = ipt.sync(desired, dry_run=True)
    assert not again, [(c.action, c.rule) for c in again.changes[:20]]
    print(f"\n{backend}/{family}: {added} rules synced, converged in one pass")


def _script(name: str) -> Any:
    import importlib.util  # noqa: PLC0415 - the capture scripts are not a package

    path = Path(__file__).parents[2] / "scripts" / "capture" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_corpus_files_are_what_the_scripts_extract_from_this_iptables() -> None:
    manpages = _script("manpage_rules")
    assert Path("/usr/share/man/man8/iptables-extensions.8.gz").exists(), (
        "iptables' man pages are not installed"
    )
    extracted = [entry for page in manpages.PAGES for entry in manpages.extract(page)]
    assert extracted == json.loads((CORPUS / "manpages.json").read_text(encoding="utf-8"))
    assert len(extracted) >= 50
    generated = _script("help_rules").generate()
    assert generated == json.loads((CORPUS / "generated.json").read_text(encoding="utf-8"))
