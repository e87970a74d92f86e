"""A Links client given a netlink backend of its own (a fake) and no host never reaches the real system."""

from __future__ import annotations

import pytest

from vnetkit.errors import UnsupportedError
from vnetkit.exec.fake_netlink import FakeNetlink
from vnetkit.links import Bridge, Links, Tuntap, Vxlan


def test_no_tuntap_or_sysctl_through_the_default_host() -> None:
    links = Links(backend=FakeNetlink(seed=1))
    with pytest.raises(UnsupportedError, match="pass host="):
        links.add(Tuntap(name="tap0"))
    with pytest.raises(UnsupportedError, match="pass host="):
        links.sysctl("net.ipv4.ip_forward")
    links.add(Bridge(name="br0"))  # netlink goes to the fake
    assert [link.name for link in links.list()] == ["lo", "br0"]


def test_a_fake_kernel_without_a_kind_is_not_remembered_for_the_real_one() -> None:
    lacking = Links(backend=FakeNetlink(seed=1, kinds=frozenset({"veth", "bridge"})))
    with pytest.raises(UnsupportedError, match="vxlan"):
        lacking.add(Vxlan(name="vx0", vni=1))
    other = Links(backend=FakeNetlink(seed=2))
    other.add(Vxlan(name="vx0", vni=1))  # another fake (and the host) still may
    assert other.get("vx0").kind == "vxlan"
