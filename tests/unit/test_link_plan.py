"""plan_links: desired specs and observed links become ordered, printable actions, without a kernel."""

from __future__ import annotations

from typing import Any

import pytest

from vnetkit.errors import ApplyError
from vnetkit.links import Bridge, Link, LinkAction, Macvlan, Veth, Vxlan, plan_links


def link(name: str, kind: str, **kw: Any) -> Link:
    fields: dict[str, Any] = {
        "index": kw.pop("index", 2),
        "name": name,
        "kind": kind,
        "state": "UP",
        "mtu": 1500,
        "mac": "02:00:00:00:00:01",
        "master": None,
        "alias": None,
        "group": 0,
        "link_index": None,
        "link_netnsid": None,
        "info": {},
        "up": True,
    }
    fields.update(kw)
    return Link(**fields)


def test_an_empty_namespace_gets_everything_created_masters_first() -> None:
    desired = {
        "host": [
            Veth(name="veth-c1", peer="eth0", peer_netns="c1", master="br0"),
            Bridge(name="br0"),
            Macvlan(name="mv0", link="veth-c1"),
        ]
    }
    plan = plan_links(desired, {"host": [link("lo", "loopback", index=1)]})
    assert [(a.verb, a.name) for a in plan] == [("create", "br0"), ("create", "veth-c1"), ("create", "mv0")]
    assert plan.lines() == [
        "create bridge br0 in netns host",
        "create veth veth-c1 in netns host (peer eth0 in c1, master br0)",
        "create macvlan mv0 in netns host (on veth-c1)",
    ]


def test_what_matches_plans_nothing() -> None:
    desired = {"host": [Bridge(name="br0"), Veth(name="v1", peer="eth0", peer_netns="c1", master="br0")]}
    observed = {
        "host": [link("br0", "bridge"), link("v1", "veth", master="br0", link_netnsid=0)],
        "c1": [link("eth0", "veth", link_netnsid=0)],
    }
    plan = plan_links(desired, observed, owned=lambda ns, lk: True)
    assert not plan  # the peer in c1 is implied by the veth, so even owned it stays


def test_settings_change_in_place() -> None:
    desired = {None: [Veth(name="v1", peer="v2", mtu=1400, master="br1", alias="lab:v1", up=False)]}
    observed = {None: [link("v1", "veth", master="br0", info={"peer": "v2"})]}
    [action] = plan_links(desired, observed)
    assert action.verb == "set"
    assert action.changes == (
        ("mtu", 1400, 1500),
        ("master", "br1", "br0"),
        ("alias", "lab:v1", None),
        ("up", False, True),
    )
    assert str(action) == "set mtu 1400, master br1, alias lab:v1, up down of v1 in this namespace"


def test_a_fixed_difference_is_delete_then_create_with_the_reason() -> None:
    desired = {"h": [Vxlan(name="vx0", vni=42)]}
    observed = {"h": [link("vx0", "vxlan", info={"vxlan_id": 7, "vxlan_port": 4789})]}
    plan = plan_links(desired, observed)
    assert plan.lines() == [
        "delete vx0 in netns h: VNI is 7, wanted 42",
        "create vxlan vx0 in netns h: VNI is 7, wanted 42",
    ]
    plan = plan_links({"h": [Bridge(name="x")]}, {"h": [link("x", "dummy")]})
    assert [a.verb for a in plan] == ["delete", "create"]
    assert "kind is dummy, wanted bridge" in plan.actions[0].reason


def test_only_owned_links_that_are_not_desired_are_deleted_uppers_first() -> None:
    observed = {
        "h": [
            link("lo", "loopback", index=1),
            link("eth9", "veth"),
            link("old-br", "bridge", alias="vnetkit:lab"),
            link("old-port", "veth", master="old-br", alias="vnetkit:lab"),
        ]
    }
    assert not plan_links({"h": []}, observed)  # nothing owned: nothing deleted

    def mine(netns: str | None, lk: Link) -> bool:
        return lk.alias == "vnetkit:lab"

    plan = plan_links({"h": []}, observed, owned=mine)
    assert plan.lines() == [
        "delete old-port in netns h: not desired",
        "delete old-br in netns h: not desired",
    ]


def test_a_bridge_listing_ports_comes_after_their_creation() -> None:
    desired = {"h": [Bridge(name="br0", ports=("v1",)), Veth(name="v1", peer="v2")]}
    plan = plan_links(desired, {"h": []})
    assert [a.name for a in plan] == ["v1", "br0"]
    # a port that names the bridge as its master is created after the bridge instead
    desired = {"h": [Bridge(name="br0", ports=("v1",)), Veth(name="v1", peer="v2", master="br0")]}
    assert [a.name for a in plan_links(desired, {"h": []})] == ["br0", "v1"]


def test_a_circle_of_dependencies_is_refused() -> None:
    desired = {"h": [Macvlan(name="a", link="b"), Macvlan(name="b", link="a")]}
    with pytest.raises(ApplyError, match="circle"):
        plan_links(desired, {"h": []})


def test_actions_are_values() -> None:
    a = LinkAction("delete", "h", "x", reason="r")
    assert a == LinkAction("delete", "h", "x", reason="r")
    assert hash(a) == hash(LinkAction("delete", "h", "x", reason="r"))


def test_hairpin_is_a_change_in_place_after_the_master() -> None:
    spec = Veth(name="v1", peer="eth0", peer_netns="c1", master="br0", hairpin=True)
    port = link("v1", "veth", master="br0", link_netnsid=0, hairpin=False)
    [action] = plan_links({"h": [spec]}, {"h": [port]})
    assert (action.verb, action.netns, action.changes) == ("set", "h", (("hairpin", True, False),))
    assert str(action) == "set hairpin on of v1 in netns h"
    on = link("v1", "veth", master="br0", link_netnsid=0, hairpin=True)
    assert not plan_links({"h": [spec]}, {"h": [on]})
    # None leaves the port's mode alone, whatever it is
    assert not plan_links({"h": [Veth(name="v1", peer="eth0", peer_netns="c1", master="br0")]}, {"h": [on]})
    # a link that is not yet a port: joining the bridge, then the mode
    loose = link("v1", "veth", link_netnsid=0)
    [action] = plan_links({"h": [spec]}, {"h": [loose]})
    assert action.changes == (("master", "br0", None), ("hairpin", True, None))
    assert str(action) == "set master br0, hairpin on of v1 in netns h"
    # another bridge: the new port starts without the mode, so it is set again
    [action] = plan_links(
        {"h": [spec]}, {"h": [link("v1", "veth", master="br9", link_netnsid=0, hairpin=True)]}
    )
    assert action.changes == (("master", "br0", "br9"), ("hairpin", True, True))


def test_a_port_created_with_hairpin_says_so() -> None:
    desired = {
        "h": [
            Bridge(name="docker0"),
            Veth(name="vethx", peer="eth0", peer_netns="c1", master="docker0", hairpin=True),
        ]
    }
    assert plan_links(desired, {"h": []}).lines() == [
        "create bridge docker0 in netns h",
        "create veth vethx in netns h (peer eth0 in c1, master docker0, hairpin on)",
    ]
