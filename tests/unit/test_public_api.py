"""The public surface: what ``__all__`` lists is exactly this, importable, and typed."""

from __future__ import annotations

import importlib
from importlib import resources

import pytest

import vnetkit
import vnetkit.exec
import vnetkit.iptables
import vnetkit.links
import vnetkit.model
from vnetkit import errors
from vnetkit.exec import fake, runner
from vnetkit.iptables import client, stats
from vnetkit.links import records, specs
from vnetkit.model import names

EXPECTED = {
    "vnetkit": [
        "AlreadyExists",
        "ApplyError",
        "CannotDerive",
        "CommandError",
        "ConfigError",
        "HostDependent",
        "IPTables",
        "InUse",
        "LockTimeout",
        "MissingTool",
        "NotFound",
        "OperationError",
        "ParseError",
        "PermissionDenied",
        "RuleError",
        "Stat",
        "TopologyError",
        "UnsupportedError",
        "VnetkitError",
        "__version__",
        "parse_stat",
    ],
    "vnetkit.iptables": [
        "BUILTIN_CHAINS",
        "BackendChoice",
        "TABLES",
        "Capabilities",
        "Change",
        "Desired",
        "IPTables",
        "Jump",
        "Protocol",
        "Snapshot",
        "Stat",
        "SyncPlan",
        "Transaction",
        "canonical",
        "desired_from_save",
        "parse_listing",
        "parse_rule",
        "parse_rule_line",
        "parse_save",
        "parse_stat",
        "parse_version",
        "plan_sync",
        "render_line",
        "render_save",
        "rule_args",
    ],
    "vnetkit.model": [
        "Address",
        "Bridge",
        "Chain",
        "Counters",
        "Entry",
        "Ifb",
        "Ipvlan",
        "Link",
        "LinkSpec",
        "Macvlan",
        "Macvtap",
        "Match",
        "Neighbour",
        "Option",
        "Route",
        "Rule",
        "Ruleset",
        "Table",
        "Target",
        "Tuntap",
        "Veth",
        "Vlan",
        "Vxlan",
    ],
    "vnetkit.links": [
        "Address",
        "Bridge",
        "Ifb",
        "Inventory",
        "InventoryLink",
        "Ipvlan",
        "Link",
        "LinkAction",
        "LinkPlan",
        "LinkSpec",
        "Links",
        "Macvlan",
        "NamespaceState",
        "Macvtap",
        "Namespaces",
        "Neighbour",
        "Ref",
        "Route",
        "Tuntap",
        "Veth",
        "Vlan",
        "Vxlan",
        "execute",
        "inventory",
        "plan_links",
    ],
    "vnetkit.exec": ["Completed", "FakeNetlink", "FakeRunner", "Runner", "SystemRunner", "default_runner"],
    "vnetkit.topology": [
        "Lab",
        "LabSpec",
        "Ledgers",
        "down",
        "labs",
        "load",
        "load_data",
        "plan",
        "resolve",
        "schema",
        "status",
        "up",
    ],
    "vnetkit.trace": [
        "Answer",
        "Engine",
        "GRAMMAR",
        "Hit",
        "Interface",
        "IpSet",
        "PATH_SYSCTLS",
        "PER_INTERFACE_SYSCTLS",
        "Packet",
        "PolicyRule",
        "Snapshot",
        "Step",
        "parse_packet",
        "render_text",
        "simulate",
        "sysctl_argv",
        "take",
    ],
}


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_all_is_exactly_the_expected_surface(module: str) -> None:
    mod = importlib.import_module(module)
    names = list(mod.__all__)
    assert sorted(names) == sorted(EXPECTED[module])
    assert len(set(names)) == len(names), "duplicates in __all__"


@pytest.mark.parametrize("module", sorted(EXPECTED))
def test_every_public_name_is_importable(module: str) -> None:
    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{module}.{name}"
    star: dict[str, object] = {}
    exec(f"from {module} import *", star)  # noqa: S102 - the star import is what users get
    assert set(star) - {"__builtins__"} == set(mod.__all__)


def test_every_error_is_public_at_the_top() -> None:
    assert set(errors.__all__) <= set(vnetkit.__all__)
    for name in errors.__all__:
        assert getattr(vnetkit, name) is getattr(errors, name)


def test_reexports_are_the_same_objects() -> None:
    assert vnetkit.IPTables is vnetkit.iptables.IPTables is client.IPTables
    assert vnetkit.Stat is vnetkit.iptables.Stat is stats.Stat
    assert vnetkit.parse_stat is vnetkit.iptables.parse_stat is stats.parse_stat
    assert vnetkit.exec.FakeRunner is fake.FakeRunner
    assert vnetkit.exec.Completed is runner.Completed


def test_links_values_are_the_models() -> None:
    for name in ("Address", "Link", "LinkSpec", "Neighbour", "Route", "Veth", "Bridge", "Vxlan", "Tuntap"):
        assert getattr(vnetkit.links, name) is getattr(vnetkit.model, name), name
    assert specs.Veth is vnetkit.model.Veth  # the old module re-exports the same objects
    assert specs.check_ifname is names.check_ifname
    assert records.Link is vnetkit.model.Link


def test_version_string() -> None:
    assert isinstance(vnetkit.__version__, str)
    assert vnetkit.__version__.count(".") == 2


def test_package_is_marked_typed() -> None:
    marker = resources.files("vnetkit").joinpath("py.typed")
    assert marker.is_file()
