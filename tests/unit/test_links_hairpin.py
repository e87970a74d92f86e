"""A bridge port's hairpin mode without root: the spec, the record, ``Links`` and the planner on FakeNetlink.

The fake's hairpin mode is proved against the kernel by
``tests/integration/test_links_hairpin.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vnetkit.errors import ApplyError, ConfigError, NotFound, OperationError, UnsupportedError
from vnetkit.exec import FakeNetlink, runner
from vnetkit.exec import netns as netns_module
from vnetkit.links import Bridge, Ifb, Links, LinkSpec, Veth, execute, messages, plan_links


@pytest.fixture
def fake() -> FakeNetlink:
    return FakeNetlink(seed=3)


@pytest.fixture
def links(fake: FakeNetlink) -> Links:
    made = Links(backend=fake)
    made.add(Bridge(name="br0"))
    return made


# -- the spec -------------------------------------------------------------------------------------


def test_hairpin_needs_a_master() -> None:
    with pytest.raises(ConfigError, match="hairpin of v1 is a bridge port's setting"):
        Veth(name="v1", peer="v2", hairpin=True)
    with pytest.raises(ConfigError, match="master"):
        Ifb(name="i0", hairpin=False)
    assert Veth(name="v1", peer="v2", master="br0", hairpin=True).hairpin is True
    assert Veth(name="v1", peer="v2", master="br0").hairpin is None  # left as the kernel makes it


# -- reading it back --------------------------------------------------------------------------------


def test_a_port_reads_back_its_mode_and_other_links_none(links: Links) -> None:
    links.add(Veth(name="v1", peer="v2", master="br0"))
    assert links.get("v1").hairpin is False
    assert links.get("v2").hairpin is None  # no bridge port
    assert links.get("br0").hairpin is None
    links.set_hairpin("v1", True)
    assert links.get("v1").hairpin is True
    assert {lk.name: lk.hairpin for lk in links.list()} == {"lo": None, "br0": None, "v2": None, "v1": True}
    links.set_hairpin("v1", False)
    assert links.get("v1").hairpin is False


def test_the_request_is_bridge_port_data_on_the_existing_link() -> None:
    name, info = messages.bridge_port({"IFLA_BRPORT_MODE": 1})
    msg = messages.link([("IFLA_IFNAME", "v1"), (name, info)])
    msg.encode()
    [decoded] = messages.decode_links([bytes(msg.data)])
    linkinfo = decoded.get_attr("IFLA_LINKINFO")
    assert linkinfo.get_attr("IFLA_INFO_KIND") is None  # not a change of the link's own kind
    assert linkinfo.get_attr("IFLA_INFO_SLAVE_KIND") == "bridge"
    assert linkinfo.get_attr("IFLA_INFO_SLAVE_DATA").get_attr("IFLA_BRPORT_MODE") == 1


def test_add_turns_it_on_after_enslaving(links: Links, fake: FakeNetlink) -> None:
    before = len(fake.requests)
    links.add(Veth(name="v1", peer="v2", master="br0", hairpin=True))
    assert links.get("v1").hairpin is True
    links.add(Veth(name="v3", peer="v4", master="br0", hairpin=False))
    assert links.get("v3").hairpin is False
    # off is how a new port starts: v3 took no more requests than a port without the setting
    writes = [kind for _, kind, _ in fake.requests[before:] if kind == messages.RTM_NEWLINK]
    assert len(writes) == 2 + 1 + 2  # v1: create, hairpin, peer up; v3: create, peer up


def test_a_link_that_is_no_port_is_refused_by_name(links: Links) -> None:
    links.add(Veth(name="v1", peer="v2"))
    with pytest.raises(OperationError, match="set hairpin on of v1: v1 is not a bridge port"):
        links.set_hairpin("v1", True)
    with pytest.raises(NotFound):
        links.set_hairpin("nope", True)


def test_leaving_the_bridge_loses_the_mode(links: Links) -> None:
    links.add(Bridge(name="br1"))
    links.add(Veth(name="v1", peer="v2", master="br0", hairpin=True))
    links.set_master("v1", "br1")
    assert links.get("v1").hairpin is False  # a new port
    links.set_hairpin("v1", True)
    links.set_nomaster("v1")
    assert links.get("v1").hairpin is None


class _PortSettingsRefused:
    """A backend whose kernel refuses bridge port settings (EOPNOTSUPP), and answers the rest as ``inner``."""

    def __init__(self, inner: FakeNetlink) -> None:
        self.inner = inner

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        info = dict(msg["attrs"]).get("IFLA_LINKINFO") if msg_type == messages.RTM_NEWLINK else None
        if info is not None and "IFLA_INFO_SLAVE_DATA" in dict(info["attrs"]):
            raise UnsupportedError(f"{action}: Operation not supported")
        return self.inner.exchange(netns, action, msg, msg_type, flags)

    def in_namespace(self, netns: str | None, fn: Any) -> Any:
        return self.inner.in_namespace(netns, fn)

    def release(self, netns: str | None) -> None:
        self.inner.release(netns)

    def close(self) -> None:
        self.inner.close()


def test_a_refused_hairpin_leaves_nothing_behind(links: Links, fake: FakeNetlink) -> None:
    refusing = Links(backend=_PortSettingsRefused(fake))
    with pytest.raises(OperationError, match="hairpin on of v1"):
        refusing.add(Veth(name="v1", peer="v2", master="br0", hairpin=True))
    assert [lk.name for lk in links.list()] == ["lo", "br0"]


# -- planning ----------------------------------------------------------------------------------------------


def _observed(links: Links) -> dict[str | None, list[Any]]:
    return {None: links.list()}


def test_plan_turns_it_on_in_place_and_then_has_nothing_to_do(links: Links) -> None:
    links.add(Veth(name="v1", peer="v2", master="br0"))
    desired: dict[str | None, list[LinkSpec]] = {
        None: [Bridge(name="br0"), Veth(name="v1", peer="v2", master="br0", hairpin=True)]
    }
    plan = plan_links(desired, _observed(links))
    [action] = plan
    assert (action.verb, action.name, action.changes) == ("set", "v1", (("hairpin", True, False),))
    assert plan.lines() == ["set hairpin on of v1 in this namespace"]
    execute(plan, links=lambda netns: links)
    assert links.get("v1").hairpin is True
    assert not plan_links(desired, _observed(links))
    # None leaves whatever the port has alone
    desired[None] = [Bridge(name="br0"), Veth(name="v1", peer="v2", master="br0")]
    assert not plan_links(desired, _observed(links))
    desired[None] = [Bridge(name="br0"), Veth(name="v1", peer="v2", master="br0", hairpin=False)]
    assert plan_links(desired, _observed(links)).lines() == ["set hairpin off of v1 in this namespace"]


def test_plan_creates_a_port_with_it_on(links: Links) -> None:
    desired: dict[str | None, list[LinkSpec]] = {
        None: [Bridge(name="br0"), Veth(name="v1", peer="v2", master="br0", hairpin=True)]
    }
    plan = plan_links(desired, _observed(links))
    assert plan.lines() == ["create veth v1 in this namespace (peer v2, master br0, hairpin on)"]
    execute(plan, links=lambda netns: links)
    assert links.get("v1").hairpin is True
    assert not plan_links(desired, _observed(links))


def test_a_port_moving_to_another_bridge_gets_the_mode_again(links: Links) -> None:
    links.add(Bridge(name="br1"))
    links.add(Veth(name="v1", peer="v2", master="br0", hairpin=True))
    desired: dict[str | None, list[LinkSpec]] = {
        None: [Bridge(name="br0"), Bridge(name="br1"), Veth(name="v1", peer="v2", master="br1", hairpin=True)]
    }
    [action] = plan_links(desired, _observed(links))
    assert action.changes == (("master", "br1", "br0"), ("hairpin", True, True))
    execute([action], links=lambda netns: links)
    record = links.get("v1")
    assert (record.master, record.hairpin) == ("br1", True)


def test_a_failed_plan_puts_the_mode_back_on_the_old_bridge(links: Links) -> None:
    links.add(Bridge(name="br1"))
    links.add(Veth(name="v1", peer="v2", master="br0", hairpin=True))
    desired: dict[str | None, list[LinkSpec]] = {
        None: [
            Bridge(name="br0"),
            Bridge(name="br1"),
            Veth(name="v1", peer="v2", master="br1", hairpin=False),
            Veth(name="v3", peer="v4", master="ghost"),  # fails: no such master
        ]
    }
    plan = plan_links(desired, _observed(links))
    assert [a.verb for a in plan] == ["create", "set"]
    with pytest.raises(ApplyError) as caught:
        execute(reversed(plan.actions), links=lambda netns: links)  # the set first, then the failure
    assert list(caught.value.rolled_back) == ["set master br1, hairpin off of v1 in this namespace"]
    record = links.get("v1")
    assert (record.master, record.hairpin) == ("br0", True)


# -- a veth made from the container's side, its peer a hairpin port of the host's bridge -------------------


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeNetlink:
    """A fake kernel with namespaces ``host`` and ``c1``, found by their files (as by the real backend)."""
    monkeypatch.setattr(runner, "NETNS_RUN_DIR", str(tmp_path))
    monkeypatch.setattr(netns_module, "NETNS_RUN_DIR", str(tmp_path))
    backend = FakeNetlink(seed=5)
    for name in ("host", "c1"):
        (tmp_path / name).touch()
        backend.add_namespace(name)
    return backend


def test_the_host_end_is_made_as_the_port_with_its_peer_in_the_container(two: FakeNetlink) -> None:
    desired: dict[str | None, list[LinkSpec]] = {
        "host": [
            Bridge(name="docker0"),
            Veth(name="vethab12cd3", peer="eth0", peer_netns="c1", master="docker0", hairpin=True),
        ],
        "c1": [],
    }

    def observed() -> dict[str | None, list[Any]]:
        return {ns: Links(ns, backend=two).list() for ns in ("host", "c1")}

    plan = plan_links(desired, observed())
    execute(plan, links=lambda netns: Links(netns, backend=two))
    host_end = Links("host", backend=two).get("vethab12cd3")
    assert (host_end.master, host_end.hairpin) == ("docker0", True)
    assert Links("c1", backend=two).get("eth0").hairpin is None
    assert not plan_links(desired, observed())
