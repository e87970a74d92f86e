"""``vnetkit ns|link|addr|route`` against the real kernel.

Every changing command names ``--netns`` with a namespace from
``netns_factory`` (deleted after each test); the root namespace is only
read (``link ls``), and each test proves its links are the same afterwards.
The ``ns add/del`` round trip uses a unique name and always cleans up.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vnetkit.cli import main
from vnetkit.cli.render_links import link_as_dict
from vnetkit.exec import netns as _netns
from vnetkit.links import Links
from vnetkit.links.inventory import inventory
from vnetkit.testing import unique_name

pytestmark = pytest.mark.integration

Factory = Callable[[], str]
Result = tuple[int, str, str]


@pytest.fixture(autouse=True)
def root_namespace_untouched() -> Iterator[None]:
    """Reading the root namespace is allowed; changing it is not: its links must stay as they were."""
    before = {(link.name, link.kind) for link in Links().list()}
    yield
    assert {(link.name, link.kind) for link in Links().list()} == before


@pytest.fixture
def etc_netns() -> Iterator[None]:
    """/etc/netns is left as it was found: removed afterwards if the test made it (and it is empty)."""
    existed = os.path.isdir("/etc/netns")
    yield
    if not existed:
        with contextlib.suppress(OSError):  # not empty: someone else's file is in it now
            os.rmdir("/etc/netns")


@pytest.fixture
def cli(capfd: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``main(argv)``; (exit status, stdout, stderr), children's output included."""

    def run(*argv: str) -> Result:
        code = main(list(argv))
        out, err = capfd.readouterr()
        return code, out, err

    return run


def ok(cli: Callable[..., Result], *argv: str) -> str:
    code, out, err = cli(*argv)
    assert (code, err) == (0, ""), f"vnetkit {' '.join(argv)}: {err}"
    return out


def as_json(cli: Callable[..., Result], *argv: str) -> Any:
    return json.loads(ok(cli, *argv, "--json"))


def bridge_with_three_containers(cli: Callable[..., Result], netns_factory: Factory) -> tuple[str, list[str]]:
    host = netns_factory()
    containers = [netns_factory() for _ in range(3)]
    ok(cli, "link", "add", "--netns", host, "bridge", "br0")
    ok(cli, "addr", "add", "--netns", host, "br0", "172.18.0.1/16")
    for n, container in enumerate(containers, start=1):
        ok(cli, "link", "add", "--netns", host, "veth", f"veth-c{n}", "--peer", "eth0")
        ok(cli, "link", "del", "--netns", host, f"veth-c{n}")  # and once more, properly:
        ok(
            cli,
            *("link", "add", "--netns", host, "veth", f"veth-c{n}", "--master", "br0"),
            *("--peer", "eth0", "--peer-netns", container),
        )
        ok(cli, "addr", "add", "--netns", container, "eth0", f"172.18.0.{n + 1}/16")
    return host, containers


def _stable(row: dict[str, Any]) -> tuple[object, ...]:
    """What cannot change between two reads (state and IPv6 link-local addresses may)."""
    peer = row["peer"]
    return (
        row["netns"],
        row["name"],
        row["kind"],
        row["mtu"],
        row["master"],
        json.dumps(peer, sort_keys=True),
    )


def test_all_netns_answers_which_host_interface_each_eth0_is(
    cli: Callable[..., Result], netns_factory: Factory
) -> None:
    host, containers = bridge_with_three_containers(cli, netns_factory)
    mine = {host, *containers}
    rows = [row for row in as_json(cli, "link", "ls", "--all-netns") if row["netns"] in mine]
    for n, container in enumerate(containers, start=1):
        [eth0] = [r for r in rows if r["netns"] == container and r["name"] == "eth0"]
        assert (eth0["peer"]["netns"], eth0["peer"]["name"]) == (host, f"veth-c{n}")
        assert f"172.18.0.{n + 1}/16" in eth0["addresses"]
        [port] = [r for r in rows if r["netns"] == host and r["name"] == f"veth-c{n}"]
        assert (port["master"], port["peer"]["netns"], port["peer"]["name"]) == ("br0", container, "eth0")
    # The CLI and the library give the same answer.
    expected = [link_as_dict(e) for e in inventory(namespaces=sorted(mine), include_root=False).links]
    assert sorted(map(_stable, rows)) == sorted(map(_stable, expected))


def test_all_netns_table_shows_peers_side_by_side(cli: Callable[..., Result], netns_factory: Factory) -> None:
    host, containers = bridge_with_three_containers(cli, netns_factory)
    out = ok(cli, "link", "ls", "--all-netns")
    lines = out.splitlines()
    assert any(line.split()[:1] == ["(root)"] for line in lines)  # the root namespace, read only
    for n, container in enumerate(containers, start=1):
        [row] = [line for line in lines if line.split()[:2] == [container, "eth0"]]
        assert f"{host}:veth-c{n}" in row.split()
        [port] = [line for line in lines if line.split()[:2] == [host, f"veth-c{n}"]]
        assert f"{container}:eth0" in port.split()


def test_one_namespace_view(cli: Callable[..., Result], netns_factory: Factory) -> None:
    host, containers = bridge_with_three_containers(cli, netns_factory)
    rows = as_json(cli, "link", "ls", "--netns", containers[1])
    assert {r["netns"] for r in rows} == {containers[1]}
    [eth0] = [r for r in rows if r["name"] == "eth0"]
    assert (eth0["peer"]["netns"], eth0["peer"]["name"]) == (host, "veth-c2")
    out = ok(cli, "link", "--netns", containers[1], "ls")
    assert f"{host}:veth-c2" in out
    root = as_json(cli, "link", "ls")  # the root namespace, read only
    assert any(r["name"] == "lo" and r["netns"] is None for r in root)


def test_veth_peer_is_made_beside_the_link(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "veth", "a0", "--peer", "a1", "--mtu", "1400")
    assert Links(lab).exists("a1")
    assert not Links().exists("a1")  # never in the caller's namespace
    a0 = Links(lab).get("a0")
    assert (a0.mtu, a0.state) == (1400, "UP")


def test_link_set_and_del(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "bridge", "br0", "--stp", "--ageing", "30")
    ok(cli, "link", "add", "--netns", lab, "veth", "a0", "--peer", "a1", "--down")
    assert Links(lab).get("a0").state == "DOWN"
    ok(cli, "link", "set", "--netns", lab, "a0", "--up", "--mtu", "1300", "--mac", "02:00:00:00:00:aa")
    ok(cli, "link", "set", "--netns", lab, "a0", "--master", "br0", "--alias", "port [1]")
    a0 = Links(lab).get("a0")
    assert (a0.mtu, a0.mac, a0.master, a0.alias) == (1300, "02:00:00:00:00:aa", "br0", "port [1]")
    ok(cli, "link", "set", "--netns", lab, "a0", "--nomaster", "--down")
    a0 = Links(lab).get("a0")
    assert (a0.master, a0.state) == (None, "DOWN")
    br0 = Links(lab).get("br0")
    assert (br0.info["stp"], br0.info["ageing"]) == (True, 30.0)
    ok(cli, "link", "del", "--netns", lab, "a0")
    assert not Links(lab).exists("a0")
    assert not Links(lab).exists("a1")  # the peer went with it
    code, _, err = cli("link", "del", "--netns", lab, "a0")
    assert code == 1
    assert "does not exist" in err


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (("vxlan", "vx0", "--vni", "42", "--remote", "192.0.2.1", "--ttl", "8", "--no-learning"), "vxlan"),
        (("macvlan", "mv0", "--link", "up0", "--mode", "private"), "macvlan"),
        (("macvtap", "mvt0", "--link", "up0"), "macvtap"),
        (("tap", "tap0", "--owner", "root", "--group", "0", "--multi-queue"), "tun"),
        (("tun", "tun0", "--mtu", "1400"), "tun"),
        (("ifb", "ifb9", "--down"), "ifb"),
        (("bridge", "br9", "--no-stp", "--ageing", "0"), "bridge"),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else v,
)
def test_kinds(cli: Callable[..., Result], netns_factory: Factory, argv: tuple[str, ...], kind: str) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "veth", "up0", "--peer", "up1")
    ok(cli, "link", "add", "--netns", lab, *argv)
    assert Links(lab).get(argv[1]).kind == kind


@pytest.mark.kernel_vm("vlan_filtering")
def test_bridge_vlan_filtering(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "bridge", "br0", "--vlan-filtering")
    assert Links(lab).get("br0").info["vlan_filtering"] is True


@pytest.mark.kernel_vm("vlan")
def test_vlan(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "veth", "up0", "--peer", "up1")
    ok(cli, "link", "add", "--netns", lab, "vlan", "up0.10", "--link", "up0", "--id", "10")
    rows = as_json(cli, "link", "ls", "--netns", lab)
    [vlan] = [r for r in rows if r["name"] == "up0.10"]
    assert (vlan["kind"], vlan["info"]["vlan_id"], vlan["lower"]["name"]) == ("vlan", 10, "up0")


@pytest.mark.kernel_vm("ipvlan")
def test_ipvlan(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "veth", "up0", "--peer", "up1")
    ok(cli, "link", "add", "--netns", lab, "ipvlan", "ipv0", "--link", "up0", "--mode", "l3")
    assert Links(lab).get("ipv0").kind == "ipvlan"


def test_addresses_and_routes(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()
    ok(cli, "link", "add", "--netns", lab, "veth", "eth0", "--peer", "gw0")
    ok(cli, "addr", "add", "--netns", lab, "eth0", "10.1.0.2/24")
    ok(cli, "addr", "add", "--netns", lab, "eth0", "2001:db8::2/64")
    [row] = as_json(cli, "addr", "ls", "--netns", lab, "eth0")
    assert {"10.1.0.2/24", "2001:db8::2/64"} <= set(row["addresses"])
    ok(cli, "route", "add", "--netns", lab, "default", "--via", "10.1.0.1")
    ok(
        cli,
        "route",
        "add",
        "--netns",
        lab,
        "10.9.0.0/16",
        "--dev",
        "eth0",
        "--metric",
        "50",
        "--table",
        "100",
    )
    main_table = as_json(cli, "route", "ls", "--netns", lab, "-4")
    assert {"dst": "default", "gateway": "10.1.0.1", "dev": "eth0"}.items() <= main_table[0].items()
    assert all(r["family"] == "ipv4" for r in main_table)
    [custom] = as_json(cli, "route", "ls", "--netns", lab, "--table", "100")
    assert (custom["dst"], custom["metric"], custom["table"]) == ("10.9.0.0/16", 50, 100)
    assert "10.1.0.1" in ok(cli, "route", "ls", "--netns", lab)
    ok(cli, "route", "del", "--netns", lab, "default", "--via", "10.1.0.1")
    ok(
        cli,
        "route",
        "del",
        "--netns",
        lab,
        "10.9.0.0/16",
        "--dev",
        "eth0",
        "--metric",
        "50",
        "--table",
        "100",
    )
    assert not [r for r in as_json(cli, "route", "ls", "--netns", lab) if r["dst"] == "default"]
    ok(cli, "addr", "del", "--netns", lab, "eth0", "10.1.0.2/24")
    assert "10.1.0.2/24" not in {str(a.interface) for a in Links(lab).address_list("eth0")}
    code, _, err = cli("addr", "del", "--netns", lab, "eth0", "10.1.0.2/24")
    assert code == 1
    assert err.startswith("vnetkit: ")


@pytest.mark.usefixtures("etc_netns")
def test_ns_add_exec_del_round_trip(cli: Callable[..., Result], netns_factory: Factory) -> None:
    neighbour = netns_factory()
    name = unique_name()
    resolv = f"/etc/netns/{name}/resolv.conf"
    try:
        ok(cli, "ns", "add", name)
        assert _netns.exists(name)
        with open(resolv, encoding="utf-8") as handle:
            text = handle.read()
        assert text.startswith(f"# vnetkit: resolv.conf of network namespace {name}\n")
        assert all(line.startswith("#") for line in text.splitlines())
        assert {"name": name} in as_json(cli, "ns", "ls")

        out = ok(cli, "ns", "exec", name, "--", "ip", "-br", "link")
        assert [line.split()[0] for line in out.splitlines()] == ["lo"]  # inside: nothing but lo
        assert ok(cli, "ns", "exec", name, "--", "cat", "/etc/resolv.conf") == text
        assert cli("ns", "exec", name, "--", "sh", "-c", "exit 7")[0] == 7

        ok(cli, "ns", "del", name)
        assert not _netns.exists(name)
        assert not os.path.exists(os.path.dirname(resolv))
        assert _netns.exists(neighbour)  # only the namespace named
        code, _, err = cli("ns", "del", name)
        assert code == 1
        assert "does not exist" in err
    finally:
        if _netns.exists(name):
            _netns.delete(name)
        shutil.rmtree(os.path.dirname(resolv), ignore_errors=True)


@pytest.mark.usefixtures("etc_netns")
def test_ns_exec_creates_a_missing_resolv_conf(cli: Callable[..., Result], netns_factory: Factory) -> None:
    lab = netns_factory()  # made without vnetkit's resolv.conf
    resolv = f"/etc/netns/{lab}/resolv.conf"
    try:
        assert not os.path.exists(resolv)
        out = ok(cli, "ns", "exec", lab, "--", "cat", "/etc/resolv.conf")
        assert out.startswith(f"# vnetkit: resolv.conf of network namespace {lab}")
    finally:
        shutil.rmtree(os.path.dirname(resolv), ignore_errors=True)


def test_ns_exec_in_a_missing_namespace(cli: Callable[..., Result]) -> None:
    code, out, err = cli("ns", "exec", unique_name(), "--", "true")
    assert (code, out) == (1, "")
    assert "does not exist" in err


@pytest.mark.usefixtures("etc_netns")
def test_exist_ok_makes_each_add_idempotent_and_still_reports_conflicts(
    cli: Callable[..., Result], netns_factory: Factory
) -> None:
    lab = netns_factory()
    name = unique_name()
    try:
        for _ in range(2):  # the second round changes nothing and still exits 0
            ok(cli, "ns", "add", name, "--exist-ok")
            ok(cli, "link", "add", "--netns", lab, "veth", "xo0", "--peer", "xo1", "--exist-ok")
            ok(cli, "addr", "add", "--netns", lab, "xo0", "10.66.0.1/24", "--exist-ok")
            ok(cli, "route", "add", "--netns", lab, "10.67.0.0/16", "--via", "10.66.0.2", "--exist-ok")
        assert cli("ns", "add", name)[0] == 1  # without the flag: it exists
        assert {x.name for x in Links(lab).list()} == {"lo", "xo0", "xo1"}
        assert str(Links(lab).address_list("xo0")[0].interface) == "10.66.0.1/24"
        assert [str(r.dst) for r in Links(lab).route_list(family=2)].count("10.67.0.0/16") == 1

        conflicts = [
            ("link", "add", "--netns", lab, "bridge", "xo0", "--exist-ok"),
            ("addr", "add", "--netns", lab, "xo0", "10.66.0.1/16", "--exist-ok"),
            ("route", "add", "--netns", lab, "10.67.0.0/16", "--via", "10.66.0.9", "--exist-ok"),
        ]
        for argv in conflicts:
            code, out, err = cli(*argv)
            assert (code, out) == (1, ""), argv
            assert err.startswith("vnetkit: "), err
            assert "wanted" in err, err
    finally:
        if _netns.exists(name):
            _netns.delete(name)
        shutil.rmtree(f"/etc/netns/{name}", ignore_errors=True)
