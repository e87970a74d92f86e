"""No hidden process-wide state in exec/, links/ and iptables/: what clients keep lives in a Host.

Two checks. In the source: no ``global`` statement and no module-level
``functools.cache``/``lru_cache`` anywhere in these packages. At run time:
every module-level container (dict, list, set...) of every module in them is
snapshotted, a workload runs (rule grammar, canonical() with and without a
resolver, transactions, sync plans, snapshots, listings, the iptables client
on a fake runner, the links client and the inventory on the fake netlink),
and every container must be unchanged afterwards: tables are constants,
never caches. The one exception is the default host's holder
(``vnetkit.exec.host._default``), documented there.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import vnetkit
from vnetkit.errors import VnetkitError
from vnetkit.exec import FakeRunner, SystemRunner
from vnetkit.exec.fake_netlink import FakeNetlink
from vnetkit.exec.resolver import HostResolver
from vnetkit.iptables import IPTables, Snapshot, Transaction, parse_rule, parse_save, render_save
from vnetkit.iptables.canonical import canonical_rules
from vnetkit.iptables.stats import parse_listing, parse_stats
from vnetkit.iptables.sync import Desired, Jump, live_from_save, plan_sync
from vnetkit.links import Bridge, Links, Veth, inventory, plan_links

SRC = Path(vnetkit.__file__).parent
PACKAGES = ("exec", "links", "iptables")
HOLDERS = {"vnetkit.exec.host._default"}  # the default host, made on first use
MUTABLE = (dict, list, set, bytearray)


def _modules() -> Iterator[str]:
    for package in PACKAGES:
        yield f"vnetkit.{package}"
        root = SRC / package
        for info in pkgutil.walk_packages([str(root)], prefix=f"vnetkit.{package}."):
            yield info.name


def _sources() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((SRC / package).rglob("*.py"))


def test_no_global_statements_and_no_module_level_caches() -> None:
    offences = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                offences.append(f"{path.relative_to(SRC)}:{node.lineno}: global {', '.join(node.names)}")
        for node in tree.body:  # module level only: a cache on a method belongs to its object
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    text = ast.unparse(deco)
                    if "cache" in text:
                        offences.append(f"{path.relative_to(SRC)}:{node.lineno}: @{text} on {node.name}")
    assert not offences, "\n".join(offences)


def _containers() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if attr.startswith("__") or not isinstance(value, MUTABLE):
                continue
            if getattr(value, "__module__", None) not in (None, name):
                continue  # imported from elsewhere: checked there
            found[f"{name}.{attr}"] = value
    return found


def _workload() -> None:
    vectors = json.loads((Path(__file__).parents[2] / "docs" / "canonical" / "vectors.json").read_text())
    resolver = HostResolver()
    for v in vectors[::7]:
        for kwargs in ({}, {"resolver": resolver}):
            with contextlib.suppress(VnetkitError):
                canonical_rules(parse_rule(v["argv"]), family=v["family"], backend="nft", **kwargs)
    text = (
        "*filter\n:INPUT ACCEPT [0:0]\n:VNK-A - [0:0]\n-A INPUT -j VNK-A\n"
        "-A VNK-A -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    )
    assert render_save(parse_save(text)) == text
    desired = Desired("VNK-", {("filter", "VNK-A"): [parse_rule("-p tcp --dport 80 -j ACCEPT")]},
                      [Jump("filter", "INPUT", parse_rule("-j VNK-A"))])  # fmt: skip
    plan_sync(desired, live_from_save(text))
    Snapshot.of_save(text).exists("filter", "VNK-A", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
    tx = Transaction()
    for k in range(50):
        tx.append("filter", "VNK-A", "-s", f"10.0.0.{k}", "-j", "ACCEPT")
    tx.render()
    listing = (
        "Chain X (0 references)\n"
        "    pkts      bytes target     prot opt in     out     source               destination\n"
        "       1       60 ACCEPT     6    --  *      *       10.0.0.1             0.0.0.0/0   tcp dpt:22\n"
    )
    parse_listing(listing)
    parse_stats(listing)
    runner = FakeRunner().respond(("--version",), stdout="iptables v1.8.9 (nf_tables)\n")
    runner.respond(("iptables-nft-save",), stdout=text)
    ipt = IPTables(backend="nft", runner=runner)
    ipt.append("filter", "INPUT", "-j", "ACCEPT")
    ipt.structured_stats("filter", "X")
    ipt.sync(desired, dry_run=True)
    ipt.snapshot().exists("filter", "INPUT", "-j", "VNK-A")
    SystemRunner().run(("true",))  # a program found on PATH
    fake = FakeNetlink(seed=1)
    links = Links(backend=fake)
    links.add(Bridge(name="br0"))
    links.add(Veth(name="v1", peer="v2", master="br0"))
    links.add_address("br0", "10.0.0.1/24")
    links.route_list()
    links.get("v1")
    inventory(namespaces=[], backend=fake).pairs()
    plan_links({None: [Bridge(name="br1")]}, {None: links.list()})


def test_module_level_containers_are_constants() -> None:
    before = {name: copy.deepcopy(value) for name, value in _containers().items() if name not in HOLDERS}
    _workload()
    changed = [name for name, value in _containers().items() if name in before and value != before[name]]
    assert not changed, f"module-level state changed by the workload: {changed}"


@pytest.mark.parametrize("name", sorted(HOLDERS))
def test_the_documented_holders_exist(name: str) -> None:
    module, _, attr = name.rpartition(".")
    assert isinstance(getattr(importlib.import_module(module), attr), MUTABLE)
