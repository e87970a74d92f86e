"""Lab files: bad input gives one TopologyError naming the YAML path; planning is pure."""

from __future__ import annotations

import contextlib
import copy
import ipaddress
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnetkit.errors import ConfigError, TopologyError
from vnetkit.topology.load import load, load_data, schema
from vnetkit.topology.model import Check, Lab, LinkDecl, Node, RouteDecl, VethEnd
from vnetkit.topology.observe import Observed
from vnetkit.topology.plan import LinkStep, NamespaceAction, RulesAction, plan_lab
from vnetkit.topology.resolve import resolve

ROUTED: dict[str, Any] = {
    "name": "routed",
    "nodes": {
        "h1": {"interfaces": {"eth0": {"addresses": ["10.0.1.2/24"]}}, "routes": [{"via": "10.0.1.1"}]},
        "r1": {
            "interfaces": {"eth0": {"addresses": ["10.0.1.1/24"]}, "eth1": {"addresses": ["10.0.2.1/24"]}},
            "sysctls": {"net.ipv4.ip_forward": 1},
            "firewall": {"filter": {"FORWARD": ["-i eth0 -o eth1 -j ACCEPT", "-j DROP"]}},
            "nat": [{"type": "masquerade", "source": "10.0.1.0/24", "out": "eth1"}],
        },
        "h2": {"interfaces": {"eth0": {"addresses": ["10.0.2.2/24"]}}},
    },
    "links": [{"endpoints": ["h1:eth0", "r1:eth0"]}, {"endpoints": ["r1:eth1", "h2:eth0"]}],
    "checks": [{"from": "h1", "to": "h2"}],
}


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(ROUTED)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def _error(data: object) -> str:
    with pytest.raises(TopologyError) as caught:
        resolve(load_data(data))
    return str(caught.value)


def test_the_routed_lab_resolves() -> None:
    spec = resolve(load_data(ROUTED))
    assert spec.namespaces == ["vnk-routed-h1", "vnk-routed-r1", "vnk-routed-h2"]
    assert spec.checks[0].address == ipaddress.ip_address("10.0.2.2")
    [rules] = spec.node("r1").rules
    assert {chain for (_, chain), _ in rules.chains} == {"VNK-FORWARD", "VNK-POSTROUTING"}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_with(["nodes", "h1", "colour"], "red"), ["nodes.h1", "unknown key 'colour'", "interfaces"]),
        ({"name": "x", "recipe": "docker-bridge", "containers": ["c1", "c 1"]}, ["containers", "whitespace"]),
        ({"name": "x", "recipe": "docker-bridge", "containers": ["c1", "c1"]}, ["containers", "c1"]),
        (
            {
                "name": "x",
                "recipe": "docker-bridge",
                "containers": ["c1"],
                "publish": [{"container": "c9", "port": 80, "host_port": 80}],
            },
            ["publish", "c9", "c1"],
        ),
        ({"name": "x", "recipe": "nope"}, ["recipe", "docker-bridge"]),
        (_with(["nodes", "h1", "interfaces"], {"averyveryverylongname": {}}), ["longer than 15 bytes"]),
        (_with(["nodes", "h1", "routes"], [{"via": "10.9.9.9"}]), ["nodes.h1.routes[0].via", "10.0.1.0/24"]),
        (_with(["nodes", "h2", "interfaces"], {"eth0": {"addresses": ["10.0.1.7/24"]}}), ["overlaps"]),
        (
            _with(["nodes", "h1", "interfaces"], {"eth0": {"addresses": ["10.0.1.2/16"]}}),
            ["outside its subnet"],
        ),
        (
            _with(["links", 0, "endpoints"], ["h9:eth0", "r1:eth0"]),
            ["links[0].endpoints", "h9", "h1, h2, r1"],
        ),
        (
            _with(["nodes", "h1", "interfaces", "eth0", "kind"], "bond"),
            ["nodes.h1.interfaces.eth0", "bridge"],
        ),
        (
            _with(["nodes", "r1", "firewall"], {"filter": {"FORWARD": ["-p tcp --dport"]}}),
            ["nodes.r1.firewall.filter.FORWARD[0]"],
        ),
        (_with(["checks"], [{"from": "h1", "to": "nowhere"}]), ["checks[0].to", "h1, h2, r1"]),
        (_with(["name"], "bad name"), ["name", "whitespace"]),
        ("just text", ["mapping"]),
    ],
)
def test_bad_input_names_the_path_and_the_choices(data: object, words: list[str]) -> None:
    text = _error(data)
    for word in words:
        assert word in text, text


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(TopologyError, match="line 3"):
        load("name: x\nnodes: [\n", source="lab.yaml")


def test_a_key_given_twice_is_refused() -> None:
    text = "name: x\nnodes:\n  a: {}\n  b: {}\n  a: {}\n"
    with pytest.raises(TopologyError, match=r"'a' is given twice \(lines 3 and 5\)"):
        load(text, source="lab.yaml")
    with pytest.raises(TopologyError, match="eth0"):
        load("name: x\nnodes:\n  a:\n    interfaces:\n      eth0: {}\n      eth0: {}\n")


def test_the_schema_covers_every_form() -> None:
    data = schema()
    assert len(data["anyOf"]) == 2
    assert "containers" in str(data)


_scalar = st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=12)
_inner = _scalar | st.lists(_scalar, max_size=4) | st.dictionaries(st.text(max_size=10), _scalar, max_size=4)
_json = (
    _inner
    | st.lists(_inner, max_size=4)
    | st.dictionaries(
        st.text(max_size=10), _inner | st.dictionaries(st.text(max_size=10), _inner), max_size=4
    )
)
_keys = st.sampled_from(["name", "recipe", "nodes", "links", "checks", "containers", "publish", "bridge"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _json, max_size=5))
def test_fuzzed_files_raise_only_config_errors(data: dict[str, Any]) -> None:
    with contextlib.suppress(ConfigError):  # anything else (a TypeError, a KeyError) fails the test
        resolve(load_data(data))


def test_plan_is_pure_and_ordered() -> None:
    spec = resolve(load_data(ROUTED))

    def canonical(_: str) -> Any:
        return lambda rule: rule

    plan = plan_lab(spec, Observed("routed"), canonical=canonical)
    kinds = [type(a).__name__ for a in plan]
    assert kinds[:3] == ["NamespaceAction"] * 3
    first_link = kinds.index("LinkStep")
    assert all(isinstance(a, NamespaceAction) for a in list(plan)[:first_link])
    assert isinstance(list(plan)[-1], RulesAction | LinkStep) or kinds[-1] in ("AddressAction", "RouteAction")
    assert "r1: set net.ipv4.ip_forward = 1" in plan.lines()


def test_the_model_is_usable_from_python_without_a_file() -> None:
    lab = Lab(
        name="py",
        nodes={
            "a": Node(interfaces={"eth0": VethEnd(addresses=[ipaddress.ip_interface("10.5.0.1/24")])}),
            "b": Node(
                interfaces={"eth0": VethEnd(addresses=[ipaddress.ip_interface("10.5.0.2/24")])},
                routes=[RouteDecl(to="10.6.0.0/16", via=ipaddress.ip_address("10.5.0.1"))],
            ),
        },
        links=[LinkDecl(endpoints=("a:eth0", "b:eth0"))],
        checks=[Check.model_validate({"from": "b", "to": "a"})],
    )
    spec = resolve(lab)
    assert spec.namespaces == ["vnk-py-a", "vnk-py-b"]
    assert [str(r.dst) for r in spec.node("b").routes] == ["10.6.0.0/16"]
    assert spec.checks[0].address == ipaddress.ip_address("10.5.0.1")
    # the same lab from a dict resolves to the same spec
    assert resolve(load_data(lab.model_dump(by_alias=True, mode="json"))).nodes == spec.nodes
