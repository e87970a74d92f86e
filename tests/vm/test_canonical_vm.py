"""canonical() for the extensions this machine's kernel lacks, against the tool on a kernel that has them.

LED, ipvs and CLUSTERIP were measured on a stock Debian kernel in the VM tier
(``docs/canonical/vectors/*_vm.json``). Here, in the VM tier, every one of
those vectors is applied again with the real tool (both backends, its
family), in a namespace of the test's own, and what iptables-save prints
must be what canonical() answers; what the tool refuses, canonical() must
refuse (CLUSTERIP on nft: the kernel's "not supported" for that backend).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest

from vnetkit.errors import RuleError
from vnetkit.exec import default_runner
from vnetkit.iptables.canonical import canonical_rules
from vnetkit.iptables.rules import normal_line, parse_rule, render_line

pytestmark = pytest.mark.integration

Backend = Literal["nft", "legacy"]
VECTORS = Path(__file__).parents[2] / "docs" / "canonical" / "vectors"
BASE = {"ipv4": "iptables", "ipv6": "ip6tables"}


def _vectors(extension: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted(VECTORS.glob("*_vm.json")):
        for v in json.loads(path.read_text(encoding="utf-8")):
            argv: list[str] = v["argv"]
            if any(argv[k] in ("-m", "-j") and argv[k + 1] == extension for k in range(len(argv) - 1)):
                out.append(v)
    assert out, f"no VM vectors for {extension}"
    return out


def _check(netns: str, extension: str, backend: Backend) -> None:
    run = default_runner().run
    wrong: list[str] = []
    checked = 0
    for k, v in enumerate(_vectors(extension)):
        tool = f"{BASE[v['family']]}-{backend}"
        chain = (
            v["chain"]
            if v["chain"] in ("INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING")
            else f"V{k}"
        )
        if chain != v["chain"]:
            run((tool, "-w", "-t", v["table"], "-N", chain), netns=netns)
        done = run((tool, "-w", "-t", v["table"], "-A", chain, *v["argv"]), netns=netns)
        saved = run((f"{tool}-save", "-t", v["table"]), netns=netns).stdout
        printed = [normal_line(line) for line in saved.splitlines() if line.startswith(f"-A {chain} ")]
        run((tool, "-w", "-t", v["table"], "-F", chain), netns=netns)
        try:
            rules = canonical_rules(parse_rule(v["argv"]), family=v["family"], backend=backend)
            got: list[str] | None = [render_line(chain, rule) for rule in rules]
        except RuleError:
            got = None
        checked += 1
        if done.returncode == 0 and got != printed:
            wrong.append(f"{v['argv']}: tool {printed}, canonical {got}")
        elif done.returncode != 0 and got is not None:
            wrong.append(f"{v['argv']}: the tool refuses ({done.stderr.strip()}), canonical {got}")
    print(f"\n{extension}/{backend}: {checked} rules checked against the tool")
    assert not wrong, "\n".join(wrong[:30])


@pytest.mark.kernel_vm("xt_LED")
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_led(netns: str, backend: Backend) -> None:
    _check(netns, "LED", backend)


@pytest.mark.kernel_vm("xt_ipvs")
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_ipvs(netns: str, backend: Backend) -> None:
    _check(netns, "ipvs", backend)


@pytest.mark.kernel_vm("CLUSTERIP")
@pytest.mark.parametrize("backend", ["nft", "legacy"])
def test_clusterip(netns: str, backend: Backend) -> None:
    _check(netns, "CLUSTERIP", backend)
