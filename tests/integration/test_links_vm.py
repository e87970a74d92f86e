"""Links of the kinds this machine's kernel lacks: vlan (802.1Q, 802.1ad), ipvlan, bridge vlan_filtering.

Marked ``kernel_vm``: skipped (with the reason) on a kernel without the
feature, run by the VM tier on a stock Debian kernel (``make test-vm``, see
KERNEL-VM.md). Like ``test_links``: each test in namespaces of its own,
checked against ``ip -d -j`` run in the namespace, and cleaned up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest

from tests.integration.test_links import (
    assert_gone,
    assert_matches_ip,
    info_data,
    ip_json,
    ip_link,
    root_state,
)
from vnetkit.errors import AlreadyExists
from vnetkit.exec import default_runner
from vnetkit.links import Bridge, Ipvlan, Links, Veth, Vlan

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _root_namespace_untouched() -> Iterator[None]:
    before = root_state()
    yield
    assert root_state() == before, "the ROOT namespace's links or addresses changed"


@pytest.fixture
def two(netns_factory: Callable[[], str]) -> tuple[str, str]:
    """Two fresh namespaces, ``a`` and ``b``."""
    return netns_factory(), netns_factory()


def _trunk(links: Links, name: str, peer_ns: str, peer: str = "trunk0") -> int:
    """A veth end ``name`` here, its peer ``peer`` in ``peer_ns``: the lower device. Its ifindex."""
    links.add(Veth(name=name, peer=peer, peer_netns=peer_ns))
    return links.get(name).index


# -- vlan --------------------------------------------------------------------------------------------


@pytest.mark.kernel_vm("vlan")
@pytest.mark.parametrize(("protocol", "vid"), [("802.1Q", 10), ("802.1ad", 4094)])
def test_vlan_sub_interface(two: tuple[str, str], protocol: str, vid: int) -> None:
    a, b = two
    links = Links(a)
    lower = _trunk(links, "tr0", b)
    name = f"tr0.{vid}"

    links.add(Vlan(name=name, link="tr0", id=vid, protocol=cast(Any, protocol), mtu=1400))

    link = links.get(name)
    assert (link.kind, link.link_index, link.mtu) == ("vlan", lower, 1400)
    assert (link.info["vlan_id"], link.info["protocol"]) == (vid, protocol)
    oracle = ip_link(a, name)
    assert oracle["linkinfo"]["info_kind"] == "vlan"
    assert (oracle["linkinfo"]["info_data"]["protocol"], oracle["linkinfo"]["info_data"]["id"]) == (
        protocol,
        vid,
    )
    assert oracle["link"] == "tr0"
    assert "UP" in oracle["flags"]
    assert_matches_ip(links)

    assert links.ensure(Vlan(name=name, link="tr0", id=vid, protocol=cast(Any, protocol))) is False
    with pytest.raises(AlreadyExists, match=f"VLAN id is {vid}, wanted 11"):
        links.ensure(Vlan(name=name, link="tr0", id=11, protocol=cast(Any, protocol)))

    links.delete(name)
    assert_gone(links, name)
    assert links.exists("tr0")  # the lower device stays
    links.delete("tr0")
    assert_gone(links, "tr0")


@pytest.mark.kernel_vm("vlan")
def test_ping_over_vlan_sub_interfaces_both_ways(two: tuple[str, str]) -> None:
    a, b = two
    _trunk(Links(a), "tr0", b, peer="tr1")
    Links(a).add(Vlan(name="tr0.30", link="tr0", id=30))
    Links(b).add(Vlan(name="tr1.30", link="tr1", id=30))
    Links(a).add_address("tr0.30", "10.252.30.1/24")
    Links(b).add_address("tr1.30", "10.252.30.2/24")

    for ns, address in ((a, "10.252.30.2"), (b, "10.252.30.1")):
        done = default_runner().run(("ping", "-c", "2", "-i", "0.2", "-W", "2", "-n", address), netns=ns)
        assert done.returncode == 0, f"ping {address} from {ns}: {done.stdout}{done.stderr}"

    rx = ip_json(b, "-s", "link", "show", "dev", "tr1.30")[0]["stats64"]["rx"]["packets"]
    assert rx >= 4  # tagged frames went over the trunk and were untagged on the far side
    Links(a).delete("tr0")  # the vlan on it goes too, and the peer with its vlan
    assert_gone(Links(a), "tr0", "tr0.30")
    assert_gone(Links(b), "tr1", "tr1.30")


# -- ipvlan ------------------------------------------------------------------------------------------


@pytest.mark.kernel_vm("ipvlan")
@pytest.mark.parametrize("mode", ["l2", "l3", "l3s"])
def test_ipvlan_in_every_mode(two: tuple[str, str], mode: str) -> None:
    a, b = two
    links = Links(a)
    lower = _trunk(links, "il0", b)

    links.add(Ipvlan(name="ipv0", link="il0", mode=cast(Any, mode)))

    link = links.get("ipv0")
    assert (link.kind, link.link_index, link.info["mode"]) == ("ipvlan", lower, mode)
    oracle = ip_link(a, "ipv0")
    assert oracle["linkinfo"]["info_kind"] == "ipvlan"
    assert oracle["linkinfo"]["info_data"]["mode"] == mode
    assert oracle["link"] == "il0"
    assert_matches_ip(links)
    assert links.ensure(Ipvlan(name="ipv0", link="il0", mode=cast(Any, mode))) is False
    other = "l2" if mode != "l2" else "l3"
    with pytest.raises(AlreadyExists, match=f"mode is {mode}, wanted {other}"):
        links.ensure(Ipvlan(name="ipv0", link="il0", mode=cast(Any, other)))

    links.delete("ipv0")
    assert_gone(links, "ipv0")
    links.delete("il0")
    assert_gone(links, "il0")


# -- bridge vlan_filtering ------------------------------------------------------------------------------


@pytest.mark.kernel_vm("vlan_filtering")
def test_bridge_with_vlan_filtering(two: tuple[str, str]) -> None:
    a, b = two
    links = Links(a)
    _trunk(links, "vp0", b)

    links.add(Bridge(name="vbr0", vlan_filtering=True, ports=("vp0",)))

    assert links.get("vbr0").info["vlan_filtering"] is True
    assert info_data(a, "vbr0")["vlan_filtering"] == 1
    assert links.get("vp0").master == "vbr0"
    assert links.ensure(Bridge(name="vbr0", vlan_filtering=True)) is False
    with pytest.raises(AlreadyExists, match="vlan_filtering is True, wanted False"):
        links.ensure(Bridge(name="vbr0"))
    # the kernel's per-port VLAN table exists (default pvid 1 untagged)
    done = default_runner().run(("bridge", "-j", "vlan", "show", "dev", "vp0"), netns=a)
    assert done.returncode == 0, done.stderr
    [port] = [p for p in json.loads(done.stdout) if p.get("ifname") == "vp0"]
    assert {v["vlan"] for v in port["vlans"]} == {1}

    links.delete("vbr0")
    assert_gone(links, "vbr0")
    assert links.get("vp0").master is None
    links.delete("vp0")
    assert_gone(links, "vp0")
