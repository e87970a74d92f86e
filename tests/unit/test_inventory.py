"""The pure half of the inventory: peers and lower devices located from fake ``Link`` records.

No root, no kernel: ``assemble`` gets what the reading half would have read
(links per namespace, what each namespace's ids stand for, names of links
in namespaces not read) and must find every veth's other end, pair each
pair once, and say so when an end's namespace has no name.
"""

from __future__ import annotations

import json

from vnetkit.cli.render_links import link_as_dict
from vnetkit.links.inventory import ROOT_LABEL, Inventory, Ref, assemble, label
from vnetkit.links.records import Link


def mk(
    index: int,
    name: str,
    kind: str = "veth",
    *,
    link_index: int | None = None,
    netnsid: int | None = None,
    master: str | None = None,
    addresses: tuple[str, ...] = (),
) -> Link:
    """A Link as ``link_from_message`` would build it."""
    return Link(
        index=index,
        name=name,
        kind=kind,
        state="UP",
        mtu=1500,
        mac="02:00:00:00:00:01",
        master=master,
        alias=None,
        group=0,
        link_index=link_index,
        link_netnsid=netnsid,
        info={},
        addresses=addresses,
    )


def lo() -> Link:
    return mk(1, "lo", "loopback")


def docker_like() -> Inventory:
    """A host namespace with br0 and three containers' veths; ids as the host numbers them."""
    host = [
        lo(),
        mk(2, "br0", "bridge", addresses=("172.18.0.1/16",)),
        mk(5, "veth-c1", link_index=2, netnsid=0, master="br0"),
        mk(6, "veth-c2", link_index=2, netnsid=1, master="br0"),
        # c3's eth0 got index 7 too: the kernel leaves IFLA_LINK out, so link_index is None.
        mk(7, "veth-c3", netnsid=2, master="br0"),
    ]
    containers: dict[str | None, list[Link]] = {
        "c1": [lo(), mk(2, "eth0", link_index=5, netnsid=0)],
        "c2": [lo(), mk(2, "eth0", link_index=6, netnsid=0)],
        "c3": [lo(), mk(7, "eth0", netnsid=0)],
    }
    return assemble(
        {None: [mk(1, "lo", "loopback"), mk(2, "eth0", "")], "host": host, **containers},
        netnsids={
            "host": {0: "c1", 1: "c2", 2: "c3"},
            "c1": {0: "host"},
            "c2": {0: "host"},
            "c3": {0: "host"},
        },
    )


def test_each_bridge_port_knows_its_container() -> None:
    inv = docker_like()
    ports = inv.ports("br0", "host")
    assert [p.name for p in ports] == ["veth-c1", "veth-c2", "veth-c3"]
    expected = [(2, "c1", 0), (2, "c2", 1), (7, "c3", 2)]
    for port, (index, netns, nsid) in zip(ports, expected, strict=True):
        assert port.peer == Ref(netns=netns, index=index, name="eth0", netnsid=nsid)
        assert str(port.peer) == f"{netns}:eth0"


def test_a_containers_eth0_knows_its_host_interface() -> None:
    inv = docker_like()
    eth0 = inv.find("eth0", "c2")
    assert eth0 is not None
    assert str(eth0.peer) == "host:veth-c2"
    peer = inv.peer_of(eth0)
    assert peer is not None
    assert (peer.netns, peer.name, peer.master) == ("host", "veth-c2", "br0")


def test_same_ifindex_on_both_ends_is_still_found() -> None:
    inv = docker_like()
    c3 = inv.find("eth0", "c3")
    port = inv.find("veth-c3", "host")
    assert c3 is not None
    assert port is not None
    assert (c3.index, port.index) == (7, 7)
    assert inv.peer_of(port) == c3
    assert inv.peer_of(c3) == port


def test_pairs_are_listed_once_in_namespace_order() -> None:
    inv = docker_like()
    pairs = [(str(a), str(b)) for a, b in inv.pairs()]
    assert pairs == [
        ("host:veth-c1", "c1:eth0"),
        ("host:veth-c2", "c2:eth0"),
        ("host:veth-c3", "c3:eth0"),
    ]


def test_a_pair_inside_one_namespace() -> None:
    inv = assemble({"lab": [lo(), mk(2, "a", link_index=3), mk(3, "b", link_index=2)]})
    [(first, second)] = inv.pairs()
    assert (str(first), str(second)) == ("lab:a", "lab:b")
    assert first.peer == Ref(netns="lab", index=3, name="b")


def test_root_namespace_comes_first_and_has_a_label() -> None:
    inv = assemble(
        {
            "lab": [mk(2, "eth0", link_index=9, netnsid=0)],
            None: [lo(), mk(9, "veth0", link_index=2, netnsid=3)],
        },
        netnsids={"lab": {0: None}, None: {3: "lab"}},
    )
    [(first, second)] = inv.pairs()
    assert first.netns == "lab"  # the order given to assemble is the order reported
    assert str(second) == f"{ROOT_LABEL}:veth0"
    eth0 = inv.find("eth0", "lab")
    assert eth0 is not None
    assert str(eth0.peer) == "(root):veth0"
    assert label(None) == ROOT_LABEL
    assert label("x") == "x"


def test_peer_in_a_namespace_without_a_name() -> None:
    inv = assemble({None: [lo(), mk(12, "veth9f2", link_index=4, netnsid=5)]})
    veth = inv.find("veth9f2")
    assert veth is not None
    assert veth.peer == Ref(netns=None, index=4, name=None, netnsid=5, located=False)
    assert str(veth.peer) == "netnsid 5:if4"
    assert inv.peer_of(veth) is None
    assert inv.pairs() == []


def test_peer_in_a_namespace_not_read_is_named_from_elsewhere() -> None:
    inv = assemble(
        {"c1": [lo(), mk(2, "eth0", link_index=5, netnsid=0)]},
        netnsids={"c1": {0: "host"}},
        elsewhere={("host", 5): "veth-c1"},
    )
    eth0 = inv.find("eth0", "c1")
    assert eth0 is not None
    assert str(eth0.peer) == "host:veth-c1"
    assert inv.peer_of(eth0) is None  # host was not read
    assert inv.pairs() == []


def test_peer_name_unknown_when_its_namespace_was_not_read() -> None:
    inv = assemble({"c1": [mk(2, "eth0", link_index=5, netnsid=0)]}, netnsids={"c1": {0: "host"}})
    eth0 = inv.find("eth0", "c1")
    assert eth0 is not None
    assert eth0.peer == Ref(netns="host", index=5, name=None, netnsid=0)
    assert str(eth0.peer) == "host:if5"


def test_lower_devices_here_and_in_another_namespace() -> None:
    inv = assemble(
        {
            None: [lo(), mk(2, "eth0", "")],
            "vm": [
                lo(),
                mk(3, "macvlan0", "macvlan", link_index=2, netnsid=0),
                mk(4, "mv-same", "macvtap", netnsid=0),  # lower has index 4 in the root namespace
                mk(5, "eth0.10", "vlan", link_index=2),
                mk(2, "eth0", "veth", link_index=6),
                mk(6, "eth1", "veth", link_index=2),
            ],
        },
        netnsids={"vm": {0: None}},
        elsewhere={},
    )
    mv = inv.find("macvlan0", "vm")
    assert mv is not None
    assert mv.peer is None
    assert str(mv.lower) == "(root):eth0"
    same = inv.find("mv-same", "vm")
    assert same is not None
    assert same.lower == Ref(netns=None, index=4, name=None, netnsid=0)
    vlan = inv.find("eth0.10", "vm")
    assert vlan is not None
    assert str(vlan.lower) == "vm:eth0"
    assert inv.resolve(vlan.lower) == inv.find("eth0", "vm")


def test_links_without_another_end() -> None:
    inv = assemble({None: [lo(), mk(2, "br0", "bridge"), mk(3, "tap0", "tun"), mk(4, "ifb0", "ifb")]})
    for entry in inv.links:
        assert entry.peer is None
        assert entry.lower is None
    assert inv.pairs() == []


def test_lookups() -> None:
    inv = docker_like()
    assert inv.namespaces == (None, "host", "c1", "c2", "c3")
    assert [e.name for e in inv.of("host")] == ["lo", "br0", "veth-c1", "veth-c2", "veth-c3"]
    assert inv.find("eth0") is not None  # the root namespace's own eth0
    assert inv.find("eth0", "nowhere") is None
    assert inv.find("veth-c1") is None  # not in the root namespace
    assert inv.ports("br0") == []
    assert inv.resolve(None) is None
    assert inv.resolve(Ref(netns=None, index=1, name=None, netnsid=4, located=False)) is None


def test_entry_reads_like_its_link() -> None:
    inv = docker_like()
    br0 = inv.find("br0", "host")
    assert br0 is not None
    assert (br0.index, br0.kind, br0.state, br0.mtu, br0.mac, br0.master) == (
        2,
        "bridge",
        "UP",
        1500,
        "02:00:00:00:00:01",
        None,
    )
    assert br0.addresses == ("172.18.0.1/16",)
    assert str(br0) == "host:br0"


def test_empty() -> None:
    inv = assemble({})
    assert inv.links == ()
    assert inv.pairs() == []


def test_json_form_of_a_link() -> None:
    inv = docker_like()
    eth0 = inv.find("eth0", "c1")
    assert eth0 is not None
    data = link_as_dict(eth0)
    assert json.loads(json.dumps(data)) == data
    assert data["netns"] == "c1"
    assert data["peer"] == {"netns": "host", "name": "veth-c1", "index": 5, "netnsid": 0, "located": True}
    assert data["lower"] is None
    root_eth0 = inv.find("eth0")
    assert root_eth0 is not None
    assert link_as_dict(root_eth0)["netns"] is None
