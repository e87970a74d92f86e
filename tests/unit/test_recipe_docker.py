"""The docker-bridge recipe: its file shape, its expansion, and Docker 29's rules against moby's goldens.

The goldens (moby ``TestIptabler``, docker-v29.x) are read from the shared
reference folder beside the repository (``/work/shared/reference/moby``); the
golden tests skip, saying so, only when that folder is absent.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from vnetkit.iptables import BUILTIN_CHAINS
from vnetkit.topology.model import BridgeInterface, Firewall, Lab, VethEnd
from vnetkit.topology.recipes import RECIPES, DockerBridgeLab, expand_any
from vnetkit.topology.recipes.docker_bridge import container_addresses, expand, published, veth_names
from vnetkit.topology.spec import Publish

REPO = Path(__file__).resolve().parents[2]
MOBY = Path(__file__).resolve().parents[3] / "shared/reference/moby"
GOLDENS = MOBY / "iptabler"
needs_moby = pytest.mark.skipif(not GOLDENS.is_dir(), reason=f"moby reference goldens not found at {GOLDENS}")

Tables = dict[str, dict[str, list[str]]]


def recipe(**fields: Any) -> DockerBridgeLab:
    data: dict[str, Any] = {"name": "web", "recipe": "docker-bridge", **fields}
    return DockerBridgeLab.model_validate(data)


def firewall(lab: Lab) -> Firewall:
    fw = lab.nodes["host"].firewall
    assert fw is not None
    return fw


# --- the goldens --------------------------------------------------------------------------------


def parse_golden(text: str) -> Tables:
    """An iptables-save dump as table -> chain -> rule texts (every declared chain, empty ones too)."""
    tables: Tables = {}
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            table = tables.setdefault(line[1:], {})
        elif line.startswith(":"):
            table[line[1:].split()[0]] = []
        elif line.startswith("-A "):
            chain, _, rule = line[3:].partition(" ")
            table[chain].append(rule)
    return tables


def golden_cases() -> list[tuple[str, dict[str, str]]]:
    """The goldens this recipe expresses: gateway mode nat, no SNAT address, no loopback binding, no WSL2."""
    if not GOLDENS.is_dir():
        return []
    cases = []
    for path in sorted(GOLDENS.glob("*__iptables.golden")):
        if path.name.startswith(("cleaned,", "no__")):
            continue  # no network at all: nothing a recipe makes
        keys = dict(kv.split("=") for kv in path.name.removesuffix("__iptables.golden").split(","))
        if "wsl2mirrored" in keys:
            continue
        external = keys.get("snat") == "false" and keys.get("gwm") == "nat" and keys.get("bindlh") == "false"
        if keys.get("internal") == "true" or external:
            cases.append((path.name, keys))
    return cases


def recipe_for(keys: dict[str, str]) -> DockerBridgeLab:
    """The lab the golden describes: br-dummy, 192.168.0.0/24, one container, tcp 8080->80 unless internal."""
    internal = keys["internal"] == "true"
    return recipe(
        bridge={"name": "br-dummy", "subnet": "192.168.0.0/24"},
        containers=["c1"],
        publish=[] if internal else [{"container": "c1", "port": 80, "host_port": 8080, "proto": "tcp"}],
        icc=keys["icc"] == "true",
        hairpin=keys["hairpin"] == "true",
        internal=internal,
        masquerade=keys.get("masq", "true") == "true",
    )


def test_the_goldens_are_all_there() -> None:
    if not GOLDENS.is_dir():
        pytest.skip(f"moby reference goldens not found at {GOLDENS}")
    names = [name for name, _ in golden_cases()]
    assert len(names) == 12, names  # hairpin x icc x masq (8) and hairpin x icc internal (4)


@needs_moby
@pytest.mark.parametrize(("name", "keys"), golden_cases(), ids=[name for name, _ in golden_cases()])
def test_rules_match_dockers_golden(name: str, keys: dict[str, str]) -> None:
    golden = parse_golden((GOLDENS / name).read_text())
    lab = recipe_for(keys)
    fw = firewall(expand(lab))
    assert fw.exact
    assert fw.keep == {"filter": ["DOCKER-USER"]}
    assert not fw.mangle
    assert not fw.security
    assert not fw.policies
    ours: Tables = {t: {chain: list(rules) for chain, rules in getattr(fw, t).items()} for t in golden}
    # The one difference the goldens (bridge driver only) cannot show: the daemon's DOCKER-USER jump.
    assert ours["filter"]["FORWARD"][0] == "-j DOCKER-USER"
    del ours["filter"]["FORWARD"][0]
    for table, chains in golden.items():
        builtins = BUILTIN_CHAINS[table]
        expected = {chain: rules for chain, rules in chains.items() if rules or chain not in builtins}
        assert ours[table] == expected, f"{name}: table {table}"
    assert ("DNAT" in (GOLDENS / name).read_text()) == bool(lab.publish)


def daemon_commands(doc: str) -> list[list[str]]:
    """The ``iptables commands`` blocks of an iptablesdoc page, each as its lines."""
    blocks = re.findall(r"<summary>iptables commands</summary>\n(.*?)</details>", doc, flags=re.S)
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in blocks]


@needs_moby
def test_docker_user_and_the_default_network_match_a_new_daemon() -> None:
    """new-daemon.md: docker0 172.17.0.0/16 with the userland proxy on, no container; the whole daemon."""
    filter_cmds, nat_cmds = daemon_commands((MOBY / "iptablesdoc/new-daemon.md").read_text())[:2]
    fw = firewall(expand(recipe(hairpin=False)))
    assert fw.keep == {"filter": ["DOCKER-USER"]}
    for table, cmds in (("filter", filter_cmds), ("nat", nat_cmds)):
        rules = getattr(fw, table)
        made = {line.split()[1] for line in cmds if line.startswith("-N ")}
        ours_made = {chain for chain in rules if chain not in BUILTIN_CHAINS[table]}
        if table == "filter":
            ours_made.add("DOCKER-USER")
        assert ours_made == made, table
        listed = [line for line in cmds if line.startswith("-A ")]
        assert [f"-A {chain} {rule}" for chain in rules for rule in rules[chain]] == listed, table
    assert "-N DOCKER-USER" in filter_cmds
    assert not [line for line in filter_cmds if line.startswith("-A DOCKER-USER")]  # Docker never fills it
    assert filter_cmds.index("-A FORWARD -j DOCKER-USER") < filter_cmds.index("-A FORWARD -j DOCKER-FORWARD")


def test_ports_are_ordered_as_docker_programs_them() -> None:
    """Per container in start order; within one, by container port, protocol, host port (cmpPortBinding).

    ACCEPTs are inserted at the head of filter DOCKER (usernet-portmap.md), so the last
    programmed comes first, above the network's DROP; DNATs and hairpin MASQUERADEs are
    appended. Docker's insert and append skip a rule already present: two host ports to
    c1:80 share one ACCEPT and one MASQUERADE. Every container, published or not, gets
    its raw direct-access DROP (filterDirectAccess runs per endpoint).
    """
    lab = recipe(
        bridge={"name": "br0", "subnet": "10.1.0.0/24"},
        containers=["c1", "c2", "c3"],
        publish=[
            {"container": "c2", "port": 53, "host_port": 5353, "proto": "udp"},
            {"container": "c1", "port": 80, "host_port": 8080},
            {"container": "c2", "port": 53, "host_port": 53, "proto": "tcp"},
            {"container": "c1", "port": 22, "host_port": 2222},
            {"container": "c1", "port": 80, "host_port": 8081},
        ],
    )
    fw = firewall(expand(lab))
    assert fw.filter["DOCKER"] == [
        "-d 10.1.0.3/32 ! -i br0 -o br0 -p udp -m udp --dport 53 -j ACCEPT",
        "-d 10.1.0.3/32 ! -i br0 -o br0 -p tcp -m tcp --dport 53 -j ACCEPT",
        "-d 10.1.0.2/32 ! -i br0 -o br0 -p tcp -m tcp --dport 80 -j ACCEPT",
        "-d 10.1.0.2/32 ! -i br0 -o br0 -p tcp -m tcp --dport 22 -j ACCEPT",
        "! -i br0 -o br0 -j DROP",
    ]
    assert fw.nat["DOCKER"] == [
        "-p tcp -m tcp --dport 2222 -j DNAT --to-destination 10.1.0.2:22",
        "-p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80",
        "-p tcp -m tcp --dport 8081 -j DNAT --to-destination 10.1.0.2:80",
        "-p tcp -m tcp --dport 53 -j DNAT --to-destination 10.1.0.3:53",
        "-p udp -m udp --dport 5353 -j DNAT --to-destination 10.1.0.3:53",
    ]
    assert fw.nat["POSTROUTING"] == [
        "-o br0 -m addrtype --src-type LOCAL -j MASQUERADE",
        "-s 10.1.0.0/24 ! -o br0 -j MASQUERADE",
        "-s 10.1.0.2/32 -d 10.1.0.2/32 -p tcp -m tcp --dport 22 -j MASQUERADE",
        "-s 10.1.0.2/32 -d 10.1.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
        "-s 10.1.0.3/32 -d 10.1.0.3/32 -p tcp -m tcp --dport 53 -j MASQUERADE",
        "-s 10.1.0.3/32 -d 10.1.0.3/32 -p udp -m udp --dport 53 -j MASQUERADE",
    ]
    assert fw.raw["PREROUTING"] == [f"-d 10.1.0.{n}/32 ! -i br0 -j DROP" for n in (2, 3, 4)]


def test_with_the_proxy_on_dnat_skips_the_bridge_and_there_is_no_hairpin_masquerade() -> None:
    lab = recipe(containers=["a"], publish=[{"container": "a", "port": 80, "host_port": 80}], hairpin=False)
    fw = firewall(expand(lab))
    assert fw.nat["DOCKER"] == [
        "! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:80"
    ]
    assert fw.nat["POSTROUTING"] == ["-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE"]
    assert fw.nat["OUTPUT"] == ["! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER"]
    assert expand(lab).nodes["host"].interfaces[veth_names(lab)["a"]].hairpin is None


# --- the expansion -------------------------------------------------------------------------------


def test_expansion_builds_host_outside_and_one_node_per_container() -> None:
    lab = recipe(
        containers=["c1", "c2"],
        publish=[{"container": "c2", "port": 443, "host_port": 8443}],
        checks=[{"from": "c1", "to": "outside"}, {"from": "outside", "to": "c1", "expect": "fail"}],
    )
    out = expand(lab)
    assert isinstance(out, Lab)
    assert out.name == "web"
    assert list(out.nodes) == ["host", "outside", "c1", "c2"]
    veths = veth_names(lab)
    host = out.nodes["host"]
    assert list(host.interfaces) == ["docker0", "eth0", veths["c1"], veths["c2"]]
    bridge = host.interfaces["docker0"]
    assert isinstance(bridge, BridgeInterface)
    assert bridge.addresses == [ipaddress.IPv4Interface("172.17.0.1/16")]
    assert host.interfaces["eth0"].addresses == [ipaddress.IPv4Interface("198.51.100.1/24")]
    for container in ("c1", "c2"):
        port = host.interfaces[veths[container]]
        assert isinstance(port, VethEnd)
        assert (port.master, port.hairpin, port.addresses) == ("docker0", True, [])
    assert host.sysctls == {"net.ipv4.ip_forward": 1}
    assert [(r.to, r.via) for r in host.routes] == [("default", ipaddress.IPv4Address("198.51.100.2"))]

    outside = out.nodes["outside"]
    assert outside.interfaces["eth0"].addresses == [ipaddress.IPv4Interface("198.51.100.2/24")]
    assert outside.routes == []
    assert outside.firewall is None
    for container, address in (("c1", "172.17.0.2/16"), ("c2", "172.17.0.3/16")):
        node = out.nodes[container]
        assert list(node.interfaces) == ["eth0"]
        assert node.interfaces["eth0"].addresses == [ipaddress.IPv4Interface(address)]
        assert [(r.to, r.via) for r in node.routes] == [("default", ipaddress.IPv4Address("172.17.0.1"))]
        assert node.firewall is None

    assert [link.endpoints for link in out.links] == [
        ("host:eth0", "outside:eth0"),
        ("c1:eth0", f"host:{veths['c1']}"),
        ("c2:eth0", f"host:{veths['c2']}"),
    ]
    assert out.checks == lab.checks
    assert [(c.source, c.to, c.expect) for c in out.checks] == [
        ("c1", "outside", "pass"),
        ("outside", "c1", "fail"),
    ]
    # The expansion is a valid low-level lab on its own: it survives a round trip through its own schema.
    assert Lab.model_validate(out.model_dump(by_alias=True)) == out


def test_addresses_are_allocated_in_order_from_the_second() -> None:
    lab = recipe(bridge={"subnet": "10.9.8.0/29"}, containers=["z", "a", "m", "b", "q"])
    assert {c: str(a) for c, a in container_addresses(lab).items()} == {
        "z": "10.9.8.2/29",
        "a": "10.9.8.3/29",
        "m": "10.9.8.4/29",
        "b": "10.9.8.5/29",
        "q": "10.9.8.6/29",
    }
    nodes = expand(lab).nodes
    assert [str(nodes[c].interfaces["eth0"].addresses[0]) for c in ("z", "a", "m", "b", "q")] == [
        f"10.9.8.{n}/29" for n in range(2, 7)
    ]
    assert nodes["host"].interfaces["docker0"].addresses == [ipaddress.IPv4Interface("10.9.8.1/29")]


def test_veth_names_are_stable_distinct_and_fit_the_kernel() -> None:
    containers = [f"c{n}" for n in range(50)]
    first = veth_names(recipe(containers=containers))
    again = veth_names(recipe(containers=list(reversed(containers))))
    assert first == again  # a container's name depends on (lab, container) only
    assert len(set(first.values())) == len(containers)
    for name in first.values():
        assert re.fullmatch(r"veth[0-9a-f]{7}", name)
        assert len(name.encode()) <= 15
    other = veth_names(
        DockerBridgeLab.model_validate({"name": "db", "recipe": "docker-bridge", "containers": ["c0"]})
    )
    assert other["c0"] != first["c0"]


def test_internal_network_has_no_way_in_or_out() -> None:
    fw = firewall(expand(recipe(containers=["c1"], internal=True, icc=False)))
    assert fw.filter["DOCKER-INTERNAL"] == [
        "! -s 172.17.0.0/16 -o docker0 -j DROP",
        "! -d 172.17.0.0/16 -i docker0 -j DROP",
    ]
    assert fw.filter["DOCKER-FORWARD"][-1] == "-i docker0 -o docker0 -j DROP"
    assert fw.raw == {}
    assert "POSTROUTING" not in fw.nat
    assert fw.nat["DOCKER"] == []


def test_published_lists_ports_for_reports() -> None:
    lab = recipe(
        containers=["c1", "c2"], publish=[{"container": "c2", "port": 53, "host_port": 53, "proto": "udp"}]
    )
    assert published(lab) == (Publish("host", 53, "c2", ipaddress.IPv4Address("172.17.0.3"), 53, "udp"),)


def test_recipes_table_and_expand_any() -> None:
    assert RECIPES["docker-bridge"] is DockerBridgeLab
    lab = recipe(containers=["c1"])
    assert expand_any(lab) == expand(lab)
    low = Lab(name="plain")
    assert expand_any(low) is low
    with pytest.raises(TypeError, match="docker-bridge"):
        expand_any(Firewall())


def test_defaults_and_schema() -> None:
    lab = recipe()
    assert (lab.bridge.name, str(lab.bridge.subnet), str(lab.uplink.subnet)) == (
        "docker0",
        "172.17.0.0/16",
        "198.51.100.0/24",
    )
    assert (lab.icc, lab.hairpin, lab.internal, lab.masquerade) == (True, True, False, True)
    assert (lab.containers, lab.publish, lab.checks) == ([], [], [])
    schema = DockerBridgeLab.model_json_schema()
    assert schema["properties"]["recipe"]["const"] == "docker-bridge"
    assert schema["additionalProperties"] is False


def test_the_example_file_expands() -> None:
    data = yaml.safe_load((REPO / "examples/docker-bridge.yaml").read_text())
    lab = RECIPES[data["recipe"]].model_validate(data)
    assert isinstance(lab, DockerBridgeLab)
    out = expand_any(lab)
    assert list(out.nodes) == ["host", "outside", "c1", "c2", "c3"]
    assert [(p.container, p.port, p.host_port, p.proto) for p in lab.publish] == [("c1", 80, 8080, "tcp")]
    assert [(c.source, c.to, c.proto, c.expect) for c in out.checks] == [
        ("c1", "outside", "icmp", "pass"),
        ("c1", "c2", "icmp", "pass"),
        ("outside", "host:8080", "tcp", "pass"),
        ("outside", "c1", "icmp", "fail"),
    ]


# --- validation ----------------------------------------------------------------------------------

C12 = {"containers": ["c1", "c2"]}
BAD: list[tuple[str, dict[str, Any], str]] = [
    ("container name with a space", {"containers": ["c 1"]}, "whitespace"),
    ("container name with a dot", {"containers": ["c.1"]}, "use letters, digits"),
    ("container named like the host", {"containers": ["host"]}, "taken by the recipe's node 'host'"),
    ("container named like outside", {"containers": ["outside"]}, "taken by the recipe's node 'outside'"),
    ("duplicate container", {"containers": ["c1", "c2", "c1"]}, "container 'c1' is listed twice"),
    ("bridge name too long", {"bridge": {"name": "br-0123456789abc"}}, "longer than 15 bytes"),
    ("bridge name with a slash", {"bridge": {"name": "br/0"}}, "'/'"),
    ("bridge named eth0", {"bridge": {"name": "eth0"}}, "taken in node 'host'"),
    ("subnet not a network", {"bridge": {"subnet": "banana"}}, "not a network"),
    ("subnet IPv6", {"bridge": {"subnet": "2001:db8::/64"}}, "IPv6"),
    ("subnet with host bits", {"bridge": {"subnet": "10.0.0.1/24"}}, "did you mean 10.0.0.0/24"),
    ("subnet too small", {"bridge": {"subnet": "10.0.0.0/31"}}, "too small"),
    ("subnet not text", {"bridge": {"subnet": 10}}, "written as a network"),
    ("uplink IPv6", {"uplink": {"subnet": "2001:db8::/64"}}, "uplink subnet"),
    (
        "uplink overlapping the bridge",
        {"bridge": {"subnet": "10.0.0.0/16"}, "uplink": {"subnet": "10.0.5.0/24"}},
        "overlaps the bridge subnet 10.0.0.0/16",
    ),
    (
        "bridge overlapping the default uplink",
        {"bridge": {"subnet": "198.51.0.0/16"}},
        "uplink subnet 198.51.100.0/24 overlaps the bridge subnet 198.51.0.0/16",
    ),
    (
        "more containers than the subnet holds",
        {"bridge": {"subnet": "10.0.0.0/29"}, "containers": [f"c{n}" for n in range(6)]},
        "6 containers do not fit in bridge subnet 10.0.0.0/29: it holds 5",
    ),
    (
        "publish to an unknown container",
        {**C12, "publish": [{"container": "c9", "port": 80, "host_port": 80}]},
        "'c9'; the containers are: c1, c2",
    ),
    (
        "publish proto sctp",
        {**C12, "publish": [{"container": "c1", "port": 80, "host_port": 80, "proto": "sctp"}]},
        "'tcp' or 'udp'",
    ),
    (
        "publish port 0",
        {**C12, "publish": [{"container": "c1", "port": 0, "host_port": 80}]},
        "greater than or equal to 1",
    ),
    (
        "publish host port 65536",
        {**C12, "publish": [{"container": "c1", "port": 80, "host_port": 65536}]},
        "less than or equal to 65535",
    ),
    (
        "host port published twice",
        {
            **C12,
            "publish": [
                {"container": "c1", "port": 80, "host_port": 80},
                {"container": "c2", "port": 81, "host_port": 80},
            ],
        },
        "host port 80/tcp is published twice (to c1 and c2)",
    ),
    (
        "publish on an internal network",
        {**C12, "internal": True, "publish": [{"container": "c1", "port": 80, "host_port": 80}]},
        "internal network publishes no ports",
    ),
    ("unknown field", {"containerz": ["c1"]}, "Extra inputs are not permitted"),
    ("bad lab name", {"name": "my lab"}, "lab name 'my lab' has whitespace"),
]


@pytest.mark.parametrize(("fields", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_refused_with_the_problem_named(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        recipe(**fields)
    assert message in str(err.value)


def test_wrong_recipe_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="docker-bridge"):
        DockerBridgeLab.model_validate({"name": "web", "recipe": "docker-swarm"})


def test_same_host_port_on_two_protocols_is_fine() -> None:
    lab = recipe(
        containers=["dns"],
        publish=[
            {"container": "dns", "port": 53, "host_port": 53, "proto": "udp"},
            {"container": "dns", "port": 53, "host_port": 53, "proto": "tcp"},
        ],
    )
    assert len(firewall(expand(lab)).nat["DOCKER"]) == 2


def test_a_full_subnet_is_accepted() -> None:
    lab = recipe(bridge={"subnet": "10.0.0.0/29"}, containers=[f"c{n}" for n in range(5)])
    assert str(container_addresses(lab)["c4"]) == "10.0.0.6/29"
