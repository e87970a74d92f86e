"""The docker-bridge recipe's rules, loaded into a real kernel, print back exactly as Docker's goldens.

For every golden the recipe expresses and both backends: the host node's
firewall is restored as one iptables-restore into a scratch namespace, and
iptables-save (raw, filter, nat) must print the golden's lines, plus the
daemon's DOCKER-USER chain and its FORWARD jump. Rules the kernel prints the
way they were written are rules a later sync finds in place: it converges.
"""

from __future__ import annotations

import pytest

from tests.unit.test_recipe_docker import GOLDENS, golden_cases, needs_moby, recipe_for
from vnetkit.iptables import BUILTIN_CHAINS, BackendChoice, IPTables
from vnetkit.iptables.savefile import parse_save, render_save
from vnetkit.topology.recipes.docker_bridge import expand
from vnetkit.topology.recipes.docker_rules import USER_CHAIN

pytestmark = pytest.mark.integration

BACKENDS: tuple[BackendChoice, ...] = ("nft", "legacy")
CASES = [(name, keys, backend) for name, keys in golden_cases() for backend in BACKENDS]


def restore_text(tables: dict[str, dict[str, list[str]]], keep: dict[str, list[str]]) -> str:
    """The rules as one iptables-restore input: every table the golden has, its chains, its rules."""
    out = []
    for table, chains in tables.items():
        out.append(f"*{table}")
        out += [f":{chain} ACCEPT [0:0]" for chain in BUILTIN_CHAINS[table]]
        own = sorted({c for c in chains if c not in BUILTIN_CHAINS[table]} | set(keep.get(table, [])))
        out += [f":{chain} - [0:0]" for chain in own]
        out += [f"-A {chain} {rule}" for chain, rules in chains.items() for rule in rules]
        out.append("COMMIT")
    return "\n".join(out) + "\n"


def golden_tables(text: str) -> dict[str, list[str]]:
    """The golden's lines per table, plus the daemon's DOCKER-USER chain and its FORWARD jump."""
    tables: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("*"):
            lines = tables.setdefault(line[1:], [])
        if line:
            lines.append(line)
    filt = tables["filter"]
    filt.insert(filt.index(":DOCKER-INTERNAL - [0:0]") + 1, f":{USER_CHAIN} - [0:0]")
    filt.insert(filt.index("-A FORWARD -j DOCKER-FORWARD"), f"-A FORWARD -j {USER_CHAIN}")
    return tables


@needs_moby
@pytest.mark.parametrize(("name", "keys", "backend"), CASES, ids=[f"{b}-{n}" for n, _, b in CASES])
def test_restored_rules_print_as_the_golden(
    name: str, keys: dict[str, str], backend: BackendChoice, netns: str
) -> None:
    expected = golden_tables((GOLDENS / name).read_text())
    fw = expand(recipe_for(keys)).nodes["host"].firewall
    assert fw is not None
    tables = {table: getattr(fw, table) for table in expected}
    ipt = IPTables("ipv4", backend=backend, netns=netns)
    ipt.restore(parse_save(restore_text(tables, fw.keep), source=name))
    for table, lines in expected.items():
        printed = [
            line for line in render_save(ipt.save(table=table)).splitlines() if not line.startswith("#")
        ]
        assert printed == lines, f"{backend} {name}: {table}"
        # And each chain prints back exactly the text the recipe wrote: nothing for a sync to redo.
        for chain, rules in tables[table].items():
            assert [line.split(" ", 2)[2] for line in printed if line.startswith(f"-A {chain} ")] == rules
