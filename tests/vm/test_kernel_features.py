"""Kernel link kinds this machine's kernel lacks: 802.1Q and 802.1ad vlans, ipvlan, bridge vlan filtering.

These run in the VM tier (``make test-vm``, a stock Debian kernel under QEMU);
elsewhere they are skipped when the running kernel lacks the feature. Every
test works only in scratch namespaces it made, drives ``ip``/``bridge``
through vnetkit's runner and reads the kernel's state back as JSON. Packets
stay between those namespaces (documentation addresses, 192.0.2.0/24).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from vnetkit.exec import default_runner

pytestmark = pytest.mark.integration


def _run(netns: str, *argv: str) -> str:
    done = default_runner().run(argv, netns=netns)
    assert done.returncode == 0, f"`{' '.join(argv)}` in {netns} failed: {done.stderr.strip()}"
    return done.stdout


def _link(netns: str, name: str) -> dict[str, Any]:
    links = json.loads(_run(netns, "ip", "-d", "-j", "link", "show", "dev", name))
    assert len(links) == 1, links
    link: dict[str, Any] = links[0]
    return link


def _ping(netns: str, address: str, *, expect: bool = True) -> None:
    done = default_runner().run(("ping", "-n", "-q", "-c", "1", "-W", "2", address), netns=netns)
    if expect:
        assert done.returncode == 0, f"ping {address} from {netns} failed: {done.stdout}{done.stderr}"
    else:
        assert done.returncode != 0, f"ping {address} from {netns} got through: {done.stdout}"


def _veth(netns: str, name: str = "p0", peer: str = "p1", *, peer_netns: str | None = None) -> None:
    there = () if peer_netns is None else ("netns", peer_netns)
    _run(netns, "ip", "link", "add", name, "type", "veth", "peer", "name", peer, *there)


@pytest.mark.kernel_vm("vlan")
def test_8021q_vlan_subinterface(netns: str) -> None:
    _veth(netns)
    _run(netns, "ip", "link", "add", "link", "p0", "name", "p0.10", "type", "vlan", "id", "10")

    link = _link(netns, "p0.10")
    assert link["link"] == "p0"
    assert link["linkinfo"]["info_kind"] == "vlan"
    data = link["linkinfo"]["info_data"]
    assert (data["protocol"], data["id"]) == ("802.1Q", 10)

    _run(netns, "ip", "link", "del", "p0.10")
    assert not any(
        entry["ifname"] == "p0.10" for entry in json.loads(_run(netns, "ip", "-j", "link", "show"))
    )


@pytest.mark.kernel_vm("vlan")
def test_8021q_vlan_carries_tagged_traffic_between_namespaces(netns_factory: Callable[[], str]) -> None:
    left, right = netns_factory(), netns_factory()
    _veth(left, "p0", "p1", peer_netns=right)
    for ns, port, address in ((left, "p0", "192.0.2.1/24"), (right, "p1", "192.0.2.2/24")):
        _run(ns, "ip", "link", "add", "link", port, "name", f"{port}.10", "type", "vlan", "id", "10")
        _run(ns, "ip", "address", "add", address, "dev", f"{port}.10")
        _run(ns, "ip", "link", "set", port, "up")
        _run(ns, "ip", "link", "set", f"{port}.10", "up")

    assert _link(right, "p1.10")["operstate"] == "UP"
    _ping(left, "192.0.2.2")


@pytest.mark.kernel_vm("vlan")
def test_8021ad_qinq_stack(netns: str) -> None:
    _veth(netns)
    _run(
        netns,
        "ip",
        "link",
        "add",
        "link",
        "p0",
        "name",
        "p0.100",
        "type",
        "vlan",
        "protocol",
        "802.1ad",
        "id",
        "100",
    )
    _run(netns, "ip", "link", "add", "link", "p0.100", "name", "p0.100.10", "type", "vlan", "id", "10")

    outer = _link(netns, "p0.100")
    assert outer["link"] == "p0"
    assert outer["linkinfo"]["info_kind"] == "vlan"
    assert (outer["linkinfo"]["info_data"]["protocol"], outer["linkinfo"]["info_data"]["id"]) == (
        "802.1ad",
        100,
    )

    inner = _link(netns, "p0.100.10")
    assert inner["link"] == "p0.100"
    assert (inner["linkinfo"]["info_data"]["protocol"], inner["linkinfo"]["info_data"]["id"]) == (
        "802.1Q",
        10,
    )


@pytest.mark.kernel_vm("ipvlan")
@pytest.mark.parametrize("mode", ["l2", "l3", "l3s"])
def test_ipvlan_modes_and_traffic_between_slaves(mode: str, netns_factory: Callable[[], str]) -> None:
    host, a, b = netns_factory(), netns_factory(), netns_factory()
    _veth(host)
    _run(host, "ip", "link", "set", "p0", "up")
    _run(host, "ip", "link", "set", "p1", "up")
    for ns, name, address in ((a, "ipv1", "192.0.2.11/24"), (b, "ipv2", "192.0.2.12/24")):
        _run(host, "ip", "link", "add", "link", "p0", "name", name, "type", "ipvlan", "mode", mode)
        link = _link(host, name)
        assert link["link"] == "p0"
        assert link["linkinfo"]["info_kind"] == "ipvlan"
        assert link["linkinfo"]["info_data"]["mode"] == mode
        _run(host, "ip", "link", "set", name, "netns", ns)
        _run(ns, "ip", "address", "add", address, "dev", name)
        _run(ns, "ip", "link", "set", name, "up")

    moved = _link(a, "ipv1")
    assert moved["linkinfo"]["info_data"]["mode"] == mode
    assert moved["address"] == _link(host, "p0")["address"]  # ipvlan slaves share the master's MAC
    _ping(a, "192.0.2.12")


@pytest.mark.kernel_vm("vlan_filtering")
def test_bridge_vlan_filtering_and_vlan_entries(netns: str) -> None:
    _veth(netns)
    _run(netns, "ip", "link", "add", "br0", "type", "bridge", "vlan_filtering", "1")
    _run(netns, "ip", "link", "set", "p0", "master", "br0")
    _run(netns, "bridge", "vlan", "add", "dev", "p0", "vid", "10", "pvid", "untagged")
    _run(netns, "bridge", "vlan", "add", "dev", "p0", "vid", "20")
    _run(netns, "bridge", "vlan", "del", "dev", "p0", "vid", "1")

    bridge = _link(netns, "br0")
    assert bridge["linkinfo"]["info_kind"] == "bridge"
    assert bridge["linkinfo"]["info_data"]["vlan_filtering"] == 1
    assert bridge["linkinfo"]["info_data"]["vlan_protocol"] == "802.1Q"
    port = _link(netns, "p0")
    assert port["master"] == "br0"
    assert port["linkinfo"]["info_slave_kind"] == "bridge"

    (entry,) = json.loads(_run(netns, "bridge", "-j", "vlan", "show", "dev", "p0"))
    vlans = {vlan["vlan"]: set(vlan.get("flags", [])) for vlan in entry["vlans"]}
    assert vlans == {10: {"PVID", "Egress Untagged"}, 20: set()}


@pytest.mark.kernel_vm("vlan_filtering")
def test_bridge_vlan_filtering_separates_access_ports(netns_factory: Callable[[], str]) -> None:
    switch = netns_factory()
    # (access vlan, last octet of the address) -> that host's namespace
    hosts = {key: netns_factory() for key in (("10", "1"), ("10", "2"), ("20", "3"))}
    _run(switch, "ip", "link", "add", "br0", "type", "bridge", "vlan_filtering", "1")
    _run(switch, "ip", "link", "set", "br0", "up")
    for index, ((vid, last), ns) in enumerate(hosts.items()):
        port = f"sw{index}"
        _veth(switch, port, "eth0", peer_netns=ns)
        _run(switch, "ip", "link", "set", port, "master", "br0")
        _run(switch, "bridge", "vlan", "add", "dev", port, "vid", vid, "pvid", "untagged")
        _run(switch, "bridge", "vlan", "del", "dev", port, "vid", "1")
        _run(switch, "ip", "link", "set", port, "up")
        _run(ns, "ip", "address", "add", f"192.0.2.{last}/24", "dev", "eth0")
        _run(ns, "ip", "link", "set", "eth0", "up")

    first = hosts["10", "1"]
    _ping(first, "192.0.2.2")  # same vlan: switched
    _ping(first, "192.0.2.3", expect=False)  # vlan 20: filtered by the bridge
