"""plan_links + execute against the kernel: plan, apply, converge, change, and undo on failure."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from vnetkit.errors import ApplyError
from vnetkit.exec.host import Host
from vnetkit.links import Bridge, Link, Links, LinkSpec, Veth, Vxlan, execute, plan_links

pytestmark = pytest.mark.integration

TAG = "vnetkit:plan-test"


def _observed(host: Host, *names: str) -> dict[str | None, list[Link]]:
    return {name: Links(name, host=host).list() for name in names}


def _mine(netns: str | None, link: Link) -> bool:
    return link.alias == TAG


def test_plan_execute_converge_and_change(netns_factory: Callable[[], str]) -> None:
    hostns, c1 = netns_factory(), netns_factory()
    with Host() as host:
        desired: dict[str | None, list[LinkSpec]] = {
            hostns: [
                Bridge(name="br0", alias=TAG),
                Veth(name="v1", peer="eth0", peer_netns=c1, master="br0", alias=TAG),
                Vxlan(name="vx1", vni=5, alias=TAG),
            ],
            c1: [],
        }
        plan = plan_links(desired, _observed(host, hostns, c1), owned=_mine)
        assert [a.verb for a in plan] == ["create", "create", "create"]
        assert _observed(host, hostns)[hostns][0].name == "lo"  # planning changed nothing
        execute(plan, host=host)
        links = Links(hostns, host=host)
        assert links.get("v1").master == "br0"
        assert links.get("vx1").info["vxlan_id"] == 5
        assert Links(c1, host=host).get("eth0").kind == "veth"
        assert not plan_links(desired, _observed(host, hostns, c1), owned=_mine)  # converged

        desired[hostns] = [
            Bridge(name="br0", alias=TAG),
            Veth(name="v1", peer="eth0", peer_netns=c1, master="br0", alias=TAG, mtu=1400),
            Vxlan(name="vx1", vni=6, alias=TAG),
        ]
        plan = plan_links(desired, _observed(host, hostns, c1), owned=_mine)
        assert plan.lines() == [
            "delete vx1 in netns " + hostns + ": VNI is 5, wanted 6",
            "create vxlan vx1 in netns " + hostns + ": VNI is 5, wanted 6",
            "set mtu 1400 of v1 in netns " + hostns,
        ]
        execute(plan, host=host)
        assert links.get("v1").mtu == 1400
        assert links.get("vx1").info["vxlan_id"] == 6

        desired[hostns] = [Bridge(name="br0", alias=TAG)]  # the rest is no longer wanted
        plan = plan_links(desired, _observed(host, hostns, c1), owned=_mine)
        assert sorted(a.name for a in plan) == ["v1", "vx1"]
        execute(plan, host=host)
        assert [lk.name for lk in links.list()] == ["lo", "br0"]
        assert [lk.name for lk in Links(c1, host=host).list()] == ["lo"]  # the peer went with v1


def test_a_failure_undoes_what_this_execution_did(netns: str) -> None:
    with Host() as host:
        links = Links(netns, host=host)
        links.add(Bridge(name="keep", mtu=1500))
        links.add(Veth(name="v0", peer="v0p"))
        desired: dict[str | None, list[LinkSpec]] = {
            netns: [
                Bridge(name="keep", mtu=1400),
                Bridge(name="br1"),
                Veth(name="v1", peer="v2", master="br1"),
                Veth(name="v0", peer="v0p", master="ghost"),  # fails last: no such master
            ]
        }
        plan = plan_links(desired, _observed(host, netns))
        assert [a.verb for a in plan] == ["create", "create", "set", "set"]
        with pytest.raises(ApplyError) as caught:
            execute(plan, host=host)
        error = caught.value
        assert "v0" in error.failed
        assert len(error.completed) == 3
        assert len(error.rolled_back) == 3
        assert sorted(lk.name for lk in links.list()) == ["keep", "lo", "v0", "v0p"]
        assert links.get("keep").mtu == 1500  # the change in place was put back
