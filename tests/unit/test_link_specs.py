"""Link specs: every kind builds from valid options and refuses bad input before the kernel sees it.

Pure: no namespace, no netlink. What a spec turns into (``attributes()``,
``lower``) is checked against the pyroute2 attribute names and the kernel's
values (centiseconds, mode bits, ethertypes).
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

import pytest

from vnetkit.errors import ConfigError
from vnetkit.links import Bridge, Ifb, Ipvlan, LinkSpec, Macvlan, Macvtap, Tuntap, Veth, Vlan, Vxlan
from vnetkit.links.specs import check_ifname, check_mac

# -- every kind with valid options ----------------------------------------------------------


VALID: list[tuple[LinkSpec, str, str | None, dict[str, object]]] = [
    (
        Veth(name="veth0", peer="eth0", peer_netns="lab-c1", peer_mtu=1400, peer_mac="02:00:00:00:00:02"),
        "veth",
        None,
        {},
    ),
    (Bridge(name="br0"), "bridge", None, {"IFLA_BR_STP_STATE": 0}),
    (
        Bridge(name="br0", stp=True, ageing=30, ports=("veth0", "veth1")),
        "bridge",
        None,
        {"IFLA_BR_STP_STATE": 1, "IFLA_BR_AGEING_TIME": 3000},
    ),
    (
        Bridge(name="br0", vlan_filtering=True),
        "bridge",
        None,
        {"IFLA_BR_STP_STATE": 0, "IFLA_BR_VLAN_FILTERING": 1},
    ),
    (
        Vlan(name="eth0.10", link="eth0", id=10),
        "vlan",
        "eth0",
        {"IFLA_VLAN_ID": 10, "IFLA_VLAN_PROTOCOL": 0x8100},
    ),
    (
        Vlan(name="eth0.20", link="eth0", id=20, protocol="802.1ad"),
        "vlan",
        "eth0",
        {"IFLA_VLAN_ID": 20, "IFLA_VLAN_PROTOCOL": 0x88A8},
    ),
    (
        Vxlan(name="vx0", vni=42, local="10.0.0.1", remote="10.0.0.2", dstport=4790, learning=False, ttl=10),
        "vxlan",
        None,
        {
            "IFLA_VXLAN_ID": 42,
            "IFLA_VXLAN_PORT": 4790,
            "IFLA_VXLAN_LEARNING": 0,
            "IFLA_VXLAN_LOCAL": "10.0.0.1",
            "IFLA_VXLAN_GROUP": "10.0.0.2",
            "IFLA_VXLAN_TTL": 10,
        },
    ),
    (
        Vxlan(name="vx1", vni=7, group="239.1.1.1", dev="eth0"),
        "vxlan",
        "eth0",
        {
            "IFLA_VXLAN_ID": 7,
            "IFLA_VXLAN_PORT": 4789,
            "IFLA_VXLAN_LEARNING": 1,
            "IFLA_VXLAN_GROUP": "239.1.1.1",
        },
    ),
    (
        Vxlan(name="vx6", vni=16_777_215, local="fd00::1", remote="fd00::2"),
        "vxlan",
        None,
        {
            "IFLA_VXLAN_ID": 16_777_215,
            "IFLA_VXLAN_PORT": 4789,
            "IFLA_VXLAN_LEARNING": 1,
            "IFLA_VXLAN_LOCAL6": "fd00::1",
            "IFLA_VXLAN_GROUP6": "fd00::2",
        },
    ),
    (Macvlan(name="mv0", link="eth0"), "macvlan", "eth0", {"IFLA_MACVLAN_MODE": 4}),
    (Macvtap(name="mvt0", link="eth0", mode="vepa"), "macvtap", "eth0", {"IFLA_MACVTAP_MODE": 2}),
    (Ipvlan(name="ipv0", link="eth0", mode="l3s"), "ipvlan", "eth0", {"IFLA_IPVLAN_MODE": 2}),
    (Tuntap(name="tap0"), "tuntap", None, {}),
    (Tuntap(name="tun0", mode="tun", owner=1000, group_owner=1000, multi_queue=True), "tuntap", None, {}),
    (Ifb(name="ifb0"), "ifb", None, {}),
]


@pytest.mark.parametrize(
    ("spec", "kind", "lower", "attributes"), VALID, ids=[f"{s.kind}-{s.name}" for s, *_ in VALID]
)
def test_every_kind_builds_and_maps_to_netlink_attributes(
    spec: LinkSpec, kind: str, lower: str | None, attributes: dict[str, object]
) -> None:
    assert spec.kind == kind
    assert spec.lower == lower
    assert spec.attributes() == attributes
    assert spec.up is True  # created up unless told otherwise


def test_common_options_are_kept_and_mac_is_lower_cased() -> None:
    spec = Veth(
        name="v0",
        peer="p0",
        mtu=9000,
        mac="02:AB:cd:00:00:01",
        peer_mac="02:00:00:00:00:FF",
        up=False,
        master="br0",
        alias="vnetkit:lab:node:eth0",
        ifgroup=4_294_967_295,
    )
    assert (spec.mtu, spec.mac, spec.peer_mac) == (9000, "02:ab:cd:00:00:01", "02:00:00:00:00:ff")
    assert (spec.up, spec.master, spec.alias, spec.ifgroup) == (
        False,
        "br0",
        "vnetkit:lab:node:eth0",
        2**32 - 1,
    )
    assert spec.peer_up is True
    assert spec.peer_netns is None


def test_specs_are_frozen_and_keyword_only() -> None:
    spec = Bridge(name="br0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "br1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Bridge("br0")  # type: ignore[call-arg]
    assert Bridge(name="br0", stp=True) == Bridge(name="br0", stp=True)
    assert hash(Bridge(name="br0")) == hash(Bridge(name="br0"))


@pytest.mark.parametrize(
    ("mode", "bits"), [("private", 1), ("vepa", 2), ("bridge", 4), ("passthru", 8), ("source", 16)]
)
def test_macvlan_and_macvtap_modes_map_to_the_kernel_bits(mode: str, bits: int) -> None:
    assert Macvlan(name="mv0", link="eth0", mode=cast(Any, mode)).attributes() == {"IFLA_MACVLAN_MODE": bits}
    assert Macvtap(name="mvt0", link="eth0", mode=cast(Any, mode)).attributes() == {"IFLA_MACVTAP_MODE": bits}


@pytest.mark.parametrize(("mode", "value"), [("l2", 0), ("l3", 1), ("l3s", 2)])
def test_ipvlan_modes_map_to_the_kernel_values(mode: str, value: int) -> None:
    assert Ipvlan(name="ipv0", link="eth0", mode=cast(Any, mode)).attributes() == {"IFLA_IPVLAN_MODE": value}


@pytest.mark.parametrize(
    ("seconds", "centiseconds"), [(30, 3000), (0, 0), (0.5, 50), (1_000_000, 100_000_000)]
)
def test_bridge_ageing_is_sent_in_centiseconds(seconds: float, centiseconds: int) -> None:
    assert Bridge(name="br0", ageing=seconds).attributes()["IFLA_BR_AGEING_TIME"] == centiseconds


def test_vxlan_normalises_its_addresses() -> None:
    spec = Vxlan(name="vx0", vni=0, local="FD00:0:0::1", remote="fd00:0000::2")
    assert (spec.local, spec.remote) == ("fd00::1", "fd00::2")
    assert Vxlan(name="vx1", vni=1, group="ff05::1:3").attributes()["IFLA_VXLAN_GROUP6"] == "ff05::1:3"


# -- interface names -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "eth0", "x" * 15, "veth-c1.10", "é" * 7, "br_0", "vnk@1"])
def test_interface_names_the_kernel_accepts(name: str) -> None:
    assert check_ifname(name) == name
    assert Bridge(name=name).name == name


BAD_NAMES = [
    ("", "empty"),
    ("x" * 16, "16 bytes"),
    ("é" * 8, "16 bytes"),  # 8 characters, 16 bytes in UTF-8
    ("a/b", "'/'"),
    ("a:b", "':'"),
    ("a b", "whitespace"),
    ("a\tb", "whitespace"),
    ("a\nb", "whitespace"),
    (" eth0", "whitespace"),
    (".", "'.'"),
    ("..", "'.'"),
]


@pytest.mark.parametrize(("name", "why"), BAD_NAMES, ids=[repr(n) for n, _ in BAD_NAMES])
def test_bad_interface_names_are_config_errors(name: str, why: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_ifname(name)
    assert repr(name) in str(err.value)
    assert why.rsplit(maxsplit=1)[-1].strip("'") in str(err.value)
    with pytest.raises(ConfigError):
        Bridge(name=name)


def test_non_string_names_are_config_errors() -> None:
    for name in (None, 5, b"eth0"):
        with pytest.raises(ConfigError):
            check_ifname(cast(Any, name))


BAD_NAME = "this-name-is-too-long"  # 21 bytes

NAME_FIELDS: list[tuple[str, Any]] = [
    ("name", lambda: Ifb(name=BAD_NAME)),
    ("veth peer", lambda: Veth(name="v0", peer=BAD_NAME)),
    ("master", lambda: Veth(name="v0", peer="p0", master=BAD_NAME)),
    ("bridge port", lambda: Bridge(name="br0", ports=("ok0", BAD_NAME))),
    ("vlan lower", lambda: Vlan(name="v.10", link=BAD_NAME, id=10)),
    ("vxlan dev", lambda: Vxlan(name="vx0", vni=1, group="239.0.0.1", dev=BAD_NAME)),
    ("macvlan lower", lambda: Macvlan(name="mv0", link=BAD_NAME)),
    ("macvtap lower", lambda: Macvtap(name="mvt0", link=BAD_NAME)),
    ("ipvlan lower", lambda: Ipvlan(name="ipv0", link=BAD_NAME)),
    ("tuntap", lambda: Tuntap(name=BAD_NAME)),
]


@pytest.mark.parametrize("make", [m for _, m in NAME_FIELDS], ids=[w for w, _ in NAME_FIELDS])
def test_every_name_field_is_checked(make: Any) -> None:
    with pytest.raises(ConfigError, match=BAD_NAME):
        make()


# -- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("vid", [1, 2, 100, 4094])
def test_vlan_ids_in_range(vid: int) -> None:
    assert Vlan(name="v", link="eth0", id=vid).attributes()["IFLA_VLAN_ID"] == vid


@pytest.mark.parametrize("vid", [0, 4095, -1, 65536, True, 10.0, "10"])
def test_vlan_ids_out_of_range_are_config_errors(vid: object) -> None:
    with pytest.raises(ConfigError, match=r"VLAN id .*1\.\.4094"):
        Vlan(name="v", link="eth0", id=cast(Any, vid))


@pytest.mark.parametrize("vni", [0, 1, 4096, 16_777_215])
def test_vnis_in_range(vni: int) -> None:
    assert Vxlan(name="vx0", vni=vni, remote="10.0.0.2").attributes()["IFLA_VXLAN_ID"] == vni


@pytest.mark.parametrize("vni", [-1, 16_777_216, 2**32, False, "42"])
def test_vnis_out_of_range_are_config_errors(vni: object) -> None:
    with pytest.raises(ConfigError, match=r"VNI .*0\.\.16777215"):
        Vxlan(name="vx0", vni=cast(Any, vni), remote="10.0.0.2")


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: Ifb(name="i", mtu=67), "MTU"),
        (lambda: Ifb(name="i", mtu=65536), "MTU"),
        (lambda: Ifb(name="i", mtu=True), "MTU"),
        (lambda: Veth(name="v", peer="p", peer_mtu=0), "peer MTU"),
        (lambda: Ifb(name="i", ifgroup=-1), "interface group"),
        (lambda: Ifb(name="i", ifgroup=2**32), "interface group"),
        (lambda: Vxlan(name="vx", vni=1, dstport=0), "destination port"),
        (lambda: Vxlan(name="vx", vni=1, dstport=65536), "destination port"),
        (lambda: Vxlan(name="vx", vni=1, ttl=256), "TTL"),
        (lambda: Vxlan(name="vx", vni=1, ttl=-1), "TTL"),
        (lambda: Tuntap(name="t", owner=-1), "owner"),
        (lambda: Tuntap(name="t", owner=2**32 - 1), "owner"),  # (uid_t)-1 means "nobody set"
        (lambda: Tuntap(name="t", group_owner=2**32), "group_owner"),
        (lambda: Bridge(name="br0", ageing=-1), "ageing"),
        (lambda: Bridge(name="br0", ageing=1_000_001), "ageing"),
    ],
)
def test_numbers_out_of_range_are_config_errors(make: Any, what: str) -> None:
    with pytest.raises(ConfigError, match=what):
        make()


def test_alias_is_at_most_255_bytes() -> None:
    assert Ifb(name="i", alias="a" * 255).alias == "a" * 255
    with pytest.raises(ConfigError, match="alias"):
        Ifb(name="i", alias="a" * 256)
    with pytest.raises(ConfigError, match="alias"):
        Ifb(name="i", alias="é" * 128)  # 256 bytes


# -- MAC and IP addresses --------------------------------------------------------------------


@pytest.mark.parametrize("mac", ["02:00:00:00:00:01", "FF:ff:FF:ff:FF:ff", "00:00:00:00:00:00"])
def test_macs_accepted(mac: str) -> None:
    assert check_mac(mac) == mac.lower()


BAD_MACS = [
    "",
    "02:00:00:00:00",
    "02:00:00:00:00:01:02",
    "02-00-00-00-00-01",
    "0200.0000.0001",
    "020000000001",
    "02:00:00:00:00:0g",
    "2:0:0:0:0:1",
    " 02:00:00:00:00:01",
    "02:00:00:00:00:01\n",
]


@pytest.mark.parametrize("mac", BAD_MACS)
def test_malformed_macs_are_config_errors(mac: str) -> None:
    with pytest.raises(ConfigError, match="MAC"):
        check_mac(mac)
    with pytest.raises(ConfigError, match="MAC"):
        Ifb(name="i", mac=mac)
    with pytest.raises(ConfigError, match="MAC"):
        Veth(name="v", peer="p", peer_mac=mac)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("local", "10.0.0.256"),
        ("local", "10.0.0"),
        ("remote", "fd00::g"),
        ("remote", "10.0.0.2/32"),
        ("remote", "host.example"),
        ("group", "239.1.1"),
        ("group", ""),
    ],
)
def test_malformed_vxlan_addresses_are_config_errors(field: str, value: str) -> None:
    options: dict[str, Any] = {field: value}
    with pytest.raises(ConfigError, match=f"vxlan {field} address"):
        Vxlan(name="vx0", vni=1, **options)


def test_vxlan_remote_and_group_together_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="remote or group, not both"):
        Vxlan(name="vx0", vni=1, remote="10.0.0.2", group="239.1.1.1")


@pytest.mark.parametrize("group", ["10.0.0.1", "fd00::1", "255.255.255.255"])
def test_vxlan_group_must_be_multicast(group: str) -> None:
    with pytest.raises(ConfigError, match="not a multicast address"):
        Vxlan(name="vx0", vni=1, group=group)


@pytest.mark.parametrize(
    ("local", "peer"),
    [
        ({"local": "10.0.0.1"}, {"remote": "fd00::2"}),
        ({"local": "fd00::1"}, {"remote": "10.0.0.2"}),
        ({"local": "10.0.0.1"}, {"group": "ff05::1:3"}),
    ],
)
def test_vxlan_mixing_ipv4_and_ipv6_is_a_config_error(local: dict[str, Any], peer: dict[str, Any]) -> None:
    # One tunnel has one address family: a v4 local with a v6 remote would be
    # sent as vxlan_local6="10.0.0.1" and fail in pyroute2 (OperationError, mid-apply).
    with pytest.raises(ConfigError, match="vxlan"):
        Vxlan(name="vx0", vni=1, **local, **peer)


# -- modes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "choices"),
    [
        (lambda m: Macvlan(name="mv0", link="eth0", mode=m), "bridge"),
        (lambda m: Macvtap(name="mvt0", link="eth0", mode=m), "passthru"),
        (lambda m: Ipvlan(name="ipv0", link="eth0", mode=m), "l3s"),
        (lambda m: Tuntap(name="t0", mode=m), "'tap'"),
        (lambda m: Vlan(name="v.10", link="eth0", id=10, protocol=m), "802.1ad"),
    ],
    ids=["macvlan", "macvtap", "ipvlan", "tuntap", "vlan-protocol"],
)
@pytest.mark.parametrize("mode", ["bogus", "", "BRIDGE", "L2", "802.1q"])
def test_bad_modes_are_config_errors_that_list_the_choices(make: Any, choices: str, mode: str) -> None:
    with pytest.raises(ConfigError) as err:
        make(mode)
    assert repr(mode) in str(err.value)
    assert choices in str(err.value)


def test_config_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="VLAN id"):
        Vlan(name="v.0", link="eth0", id=0)
