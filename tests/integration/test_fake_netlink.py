"""FakeNetlink against the kernel: one sequence of ``Links`` operations, run on both, must read back the same.

The sequence makes every link kind this kernel has (a veth across two
namespaces, bridges with ports, vxlan over IPv4 and IPv6, macvlans in
several modes, a macvtap, ifbs), changes them (up/down, MTU, MAC, master and
no master, alias), adds IPv4 and IPv6 addresses, routes and neighbours,
takes links down and up again, provokes the kernel's refusals, and deletes
(one link, a veth from its far side, a bridge, a group in one request).
After each phase it reads everything back through the public API
(``Links.list/get/addresses/routes/neighbours`` and ``inventory``) from real
namespaces made for the test, and the same from a ``FakeNetlink`` given the
same namespace names; every refusal is kept as its class and message.

Normalised, and only because the kernel randomises them: MAC addresses the
sequence did not choose (and IPv6 link-local addresses made from them), and
the order of neighbour entries (the kernel's hash order, seeded at random);
neighbour entries the kernel makes for multicast traffic are left out (no
traffic flows in the fake). The real side is read once it has settled
(linkwatch and duplicate address detection take a second or two).
Ifindexes are compared as they are: both count up from ``lo``'s 1 in each
fresh namespace.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import itertools
import pprint
import re
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vnetkit.errors import VnetkitError
from vnetkit.exec.fake_netlink import FakeNetlink
from vnetkit.exec.netlink import NLM_F_DUMP, default_netlink
from vnetkit.links import (
    Bridge,
    Ifb,
    Ipvlan,
    Link,
    Links,
    Macvlan,
    Macvtap,
    Veth,
    Vlan,
    Vxlan,
    inventory,
    messages,
)
from vnetkit.model import Address, Neighbour, Route

pytestmark = pytest.mark.integration

Factory = Callable[[], str]
Snapshot = dict[str, Any]

M1, M2, M3, M4 = "02:00:00:00:01:01", "02:00:00:00:01:02", "02:00:00:00:00:03", "02:00:00:00:00:04"
KNOWN_MACS = frozenset({M1, M2, M3, M4, "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})
_NUD_NOARP = 0x40
_IFA_F_TENTATIVE = 0x40
_IFF_UP = 0x1
_IFF_LOWER_UP = 0x10000


@dataclasses.dataclass
class World:
    """Two namespaces and the backend that reaches them (None: the real one)."""

    a: str
    b: str
    backend: FakeNetlink | None
    log: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)

    @property
    def A(self) -> Links:
        return Links(self.a, backend=self.backend)

    @property
    def B(self) -> Links:
        return Links(self.b, backend=self.backend)

    def refused(self, label: str, fn: Callable[[], object]) -> None:
        """Run ``fn``, which the kernel should refuse; keep what it said (or that it did not)."""
        try:
            fn()
        except VnetkitError as exc:
            self.log.append((label, type(exc).__name__, str(exc)))
        else:
            self.log.append((label, "no error", ""))


# -- the sequence ------------------------------------------------------------------------------


def make_links(w: World) -> None:
    A, B = w.A, w.B
    A.add(Bridge(name="br0", ageing=30))
    w.log.append(("ensure bridge", "added", str(A.ensure(Bridge(name="br0", ageing=30)))))
    A.add(Veth(name="veth-b", peer="eth0", peer_netns=w.b, master="br0", mtu=1400, peer_mtu=1400))
    A.add(Veth(name="p1", peer="p2", mac=M1, peer_mac=M2))
    A.add(Bridge(name="br1", stp=True))
    A.add(Bridge(name="br2", ports=("p1",)))
    A.add(Vxlan(name="vx0", vni=42, remote="10.1.1.2", local="10.1.1.1", dev="p2"))
    A.add(
        Vxlan(
            name="vx6",
            vni=43,
            local="2001:db8:ff::1",
            remote="2001:db8:ff::2",
            dstport=8472,
            ttl=9,
            learning=False,
        )
    )
    A.add(Macvlan(name="mv0", link="p2", mode="bridge"))
    A.add(Macvlan(name="mv1", link="p2", mode="private", mtu=1300))
    A.add(Macvtap(name="mt0", link="p2", mode="vepa"))
    A.add(Ifb(name="ifb0"))
    A.add(Veth(name="d1", peer="d2", peer_up=False))
    A.add(Macvlan(name="mv2", link="d1", mode="source"))
    A.add(Veth(name="w1", peer="w2", up=False))
    B.add(Ifb(name="ifb1", up=False))
    B.add(Ifb(name="ifb2", up=False))
    B.add(Veth(name="n1", peer="n2", peer_up=False))


def configure(w: World) -> None:
    A, B = w.A, w.B
    A.set_down("ifb0")
    A.set_up("ifb0")
    A.set_mtu("veth-b", 1350)
    A.set_mtu("br2", 1280)
    A.set_mtu("p1", 1400)
    A.set_mac("veth-b", M3)
    A.set_alias("p2", "vnetkit:lab:n1:p2")
    A.set_nomaster("p1")
    A.set_master("ifb0", "br2")
    A.set_up("d2")
    B.set_up("ifb1")
    A.set_down("p2")
    A.set_up("p2")
    A.set_down("vx0")  # and quiet: a vxlan that is up sends what IPv6 sends, to its remote
    A.set_down("vx6")


def addresses(w: World) -> None:
    A, B = w.A, w.B
    A.add_address("br0", "172.18.0.1/16")
    A.add_address("br0", "172.18.0.2/16")
    A.add_address("br0", "fd00:18::1/64")
    B.add_address("eth0", "172.18.0.5/16")
    B.add_address("eth0", "fd00:18::5/64")
    for address in ("10.0.0.1/24", "10.0.1.1/31", "10.0.2.1/32", "2001:db8:1::1/128", "2001:db8::1/64"):
        A.add_address("p2", address)
    A.add_address("p2", "10.0.3.1/24")
    A.add_address("p2", "10.0.3.2/24")
    A.delete_address("p2", "10.0.3.1/24")  # a primary takes its secondaries along
    A.delete_address("br0", "172.18.0.2/16")
    A.delete_address("p2", "2001:db8:1::1/128")
    B.add_address("n1", "10.9.0.1/24")  # no carrier: routes flagged linkdown, IPv6 tentative
    B.add_address("n1", "2001:db8:9::1/64")
    A.add_address("w1", "10.8.0.1/24")  # down: local route only, IPv6 waits for up
    A.add_address("w1", "2001:db8:8::1/64")
    B.add_address("ifb1", "10.7.0.1/24")
    B.add_address("ifb2", "2001:db8:4::1/64")  # down, but no DAD on a NOARP device
    A.set_up("w1")
    A.add_address("p2", Address.parse("2001:db8:2::1/64 nodad"))
    A.add_address("p2", Address.parse("2001:db8:3::1/64 noprefixroute"))
    A.add_address("p2", Address.parse("10.0.12.1/24 scope link noprefixroute"))
    B.add_address("n1", Address.parse("2001:db8:98::1/64 nodad"))  # no carrier, yet not tentative
    w.log.append(("ensure address", "added", str(A.ensure_address("br0", "172.18.0.1/16"))))


def routes(w: World) -> None:
    A, B = w.A, w.B
    A.add_route("default", via="172.18.0.254")
    A.add_route("10.5.0.0/16", via="10.0.0.254", metric=10)
    A.add_route("10.5.0.0/16", via="10.0.0.253", metric=20)
    A.add_route("10.6.0.0/16", dev="p2", table=100)
    A.add_route("default", dev="p2", table=100)
    A.add_route("2001:db8:5::/48", via="fd00:18::fe")
    A.add_route("default", via="fd00:18::fe")
    A.add_route("2001:db8:6::/48", dev="p2", metric=5)
    A.add_route("2001:db8:7::/48", via="fe80::1", dev="br0")
    B.add_route("10.9.5.0/24", dev="n1")
    B.add_route("default", via="172.18.0.1")
    A.delete_route("10.5.0.0/16", via="10.0.0.253")
    A.delete_route("2001:db8:6::/48", dev="p2")
    A.add_route(Route.parse("blackhole 10.66.0.0/16"))
    A.add_route(Route.parse("unreachable 2001:db8:66::/48"))
    A.add_route(Route.parse("prohibit 10.67.0.0/16 table 100"))
    A.add_route(Route.parse("10.68.0.0/16 dev p2 proto static scope global"))
    A.add_route(Route.parse("local 10.69.0.1/32 dev p2 table 100"))
    A.delete_route(Route.parse("blackhole 10.66.0.0/16"))
    w.log.append(("ensure route", "added", str(A.ensure_route("10.5.0.0/16", via="10.0.0.254", metric=10))))


def neighbours(w: World) -> None:
    A, B = w.A, w.B
    A.add_neighbour("br0", "172.18.0.9", M4)
    A.add_neighbour("br0", "fd00:18::9", M4)
    B.add_neighbour("eth0", "172.18.0.1", M3)
    B.add_neighbour("n1", "10.9.0.9", M4)
    B.add_neighbour("ifb2", "10.4.0.9", M4)


def down_and_up(w: World) -> None:
    A, B = w.A, w.B
    A.set_down("br0")  # its IPv6 addresses, routes and neighbours go; IPv4 addresses stay
    A.set_up("br0")  # the link-local address comes back made from today's MAC
    B.set_up("n2")  # a carrier at last: tentative addresses settle, routes lose linkdown
    A.set_mtu("mv0", 1200)  # too small for IPv6


def refusals(w: World) -> None:
    A, B, r = w.A, w.B, w.refused
    r("name taken", lambda: A.add(Veth(name="p1", peer="zz")))
    r("peer name taken", lambda: A.add(Veth(name="zz", peer="p2")))
    r("peer name taken there", lambda: A.add(Veth(name="y1", peer="eth0", peer_netns=w.b)))
    r("bridge in a bridge", lambda: A.add(Bridge(name="br9", master="br0")))
    r("master not a bridge", lambda: A.add(Veth(name="x1", peer="x2", master="mv0")))
    r("set master not a bridge", lambda: A.set_master("p1", "vx0"))
    r("port carries a macvlan", lambda: A.set_master("p2", "br0"))
    r("macvlan on a port", lambda: A.add(Macvlan(name="mvx", link="veth-b")))
    r("macvlan on lo", lambda: A.add(Macvlan(name="mvy", link="lo")))
    r("passthru beside others", lambda: A.add(Macvlan(name="mvz", link="p2", mode="passthru")))
    r("vni taken", lambda: A.add(Vxlan(name="vx1", vni=42, remote="10.1.1.3")))
    r("multicast without dev", lambda: A.add(Vxlan(name="vxm", vni=50, group="239.1.1.1")))
    r("vlan", lambda: A.add(Vlan(name="v10", link="p2", id=10)))
    r("ipvlan", lambda: A.add(Ipvlan(name="ipv0", link="p2")))
    r("delete lo", lambda: A.delete("lo"))
    r("delete missing", lambda: A.delete("nope"))
    r("vxlan MTU", lambda: A.set_mtu("vx0", 9000))
    r("macvlan above its lower", lambda: A.set_mtu("mv1", 1600))
    r("multicast MAC", lambda: A.set_mac("p1", "01:00:00:00:00:01"))
    r("set on missing", lambda: A.set_up("nope"))
    r("v4 address twice", lambda: A.add_address("p2", "10.0.0.1/24"))
    r("v6 address twice", lambda: A.add_address("br0", "fd00:18::1/48"))
    r("v6 on a small MTU", lambda: A.add_address("mv0", "2001:db8:a::1/64"))
    r("v4 address missing", lambda: A.delete_address("p2", "10.0.0.7/24"))
    r("v6 address missing", lambda: A.delete_address("p2", "2001:db8::7/64"))
    r("v6 disabled", lambda: A.delete_address("mv0", "2001:db8:a::1/64"))
    r("route twice", lambda: A.add_route("10.5.0.0/16", via="10.0.0.254", metric=10))
    r("route other gateway", lambda: A.add_route("10.5.0.0/16", via="10.0.0.252", metric=10))
    r("gateway unreachable", lambda: A.add_route("10.6.0.0/16", via="10.99.0.1"))
    r("gateway on another dev", lambda: A.add_route("10.6.0.0/16", via="10.0.0.9", dev="br0"))
    r("v6 gateway unreachable", lambda: A.add_route("2001:db8:6::/48", via="2001:db8:99::1"))
    r("v6 route twice", lambda: A.add_route("2001:db8:5::/48", via="fd00:18::fe"))
    r("v6 gateway is mine", lambda: A.add_route("2001:db8:66::/48", via="fd00:18::1"))
    r("device down", lambda: B.add_route("10.4.0.0/16", dev="ifb2"))
    r("v6 device down", lambda: B.add_route("2001:db8:44::/48", dev="ifb2"))
    r("delete missing route", lambda: A.delete_route("10.77.0.0/16", via="10.0.0.254"))
    r("delete missing v6 route", lambda: A.delete_route("2001:db8:77::/48", dev="p2"))
    r("neighbour twice", lambda: B.add_neighbour("eth0", "172.18.0.1", M3))
    r("v6 neighbour on a small MTU", lambda: A.add_neighbour("mv0", "2001:db8::9", M4))
    r("missing namespace", lambda: Links("vnk-fake-netlink-missing", backend=w.backend).list())
    r(
        "peer in a missing namespace",
        lambda: A.add(Veth(name="y1", peer="y2", peer_netns="vnk-fake-netlink-missing")),
    )


def deletes(w: World) -> None:
    A, B = w.A, w.B
    A.add(Veth(name="g1", peer="g2", ifgroup=7, master="br0"))
    A.add(Veth(name="g3", peer="g4", ifgroup=7))
    A.add(Ifb(name="g5", ifgroup=7))
    w.log.append(("delete group", "count", str(A.delete_group(7))))
    A.delete("p2")  # its peer, the vxlan and the macvlans on it go too
    A.delete("br0")  # its port stays, released
    B.delete("eth0")  # the far end takes veth-b along


PHASES: list[tuple[str, Callable[[World], None]]] = [
    ("links", make_links),
    ("configure", configure),
    ("addresses", addresses),
    ("routes", routes),
    ("neighbours", neighbours),
    ("down and up", down_and_up),
    ("refusals", refusals),
    ("deletes", deletes),
]


# -- reading back, normalised --------------------------------------------------------------------


def mac(value: object) -> object:
    """A MAC the sequence chose stays; one the kernel drew (locally administered) becomes ``<random>``."""
    if not isinstance(value, str) or value in KNOWN_MACS:
        return value
    first = int(value.split(":")[0], 16)
    assert first & 0x03 == 0x02, f"{value} is not a random unicast MAC"
    return "<random>"


def address(text: object) -> object:
    """An IPv6 link-local address made from a random MAC becomes ``fe80::<random>``."""
    if not isinstance(text, str) or not text.startswith("fe80::") or text == "fe80::/64":
        return text
    ip, _, plen = text.partition("/")
    raw = ipaddress.IPv6Address(ip).packed[8:]
    if raw[3:5] != b"\xff\xfe":
        return text
    made_from = ":".join(f"{b:02x}" for b in (raw[0] ^ 0x02, raw[1], raw[2], raw[5], raw[6], raw[7]))
    if made_from in KNOWN_MACS:
        return text
    return "fe80::<random>" + (f"/{plen}" if plen else "")


def link(record: Link) -> dict[str, object]:
    out = dataclasses.asdict(record)
    out["mac"] = mac(out["mac"])
    out["addresses"] = [address(a) for a in record.addresses]
    out["info"] = dict(record.info)
    return out


def kernel_order(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Routes of one prefix and metric sorted by device, local routes of link-local addresses too.

    The kernel lists the routes it makes for each link (fe80::/64, ff00::/8)
    in the order linkwatch got to the links, which depends on timing; and
    the local routes of link-local addresses by address, which is random.
    """

    def group(route: dict[str, Any]) -> tuple[object, ...]:
        dst = str(route["dst"])
        block = "link-local /128" if dst.startswith("fe80::") and dst.endswith("/128") else dst
        return (route["table"], route["family"], block, route["metric"])

    out: list[dict[str, Any]] = []
    for _, run in itertools.groupby(routes, key=group):
        out += sorted(run, key=lambda r: (str(r["dst"]), str(r["dev"])))
    return out


_MAC_TEXT = re.compile(r"\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b")
_LINK_LOCAL_TEXT = re.compile(r"\bfe80::[0-9a-f:]*[0-9a-f](?:/\d+)?")


def scrub(text: str) -> str:
    """``text`` with random MACs and the link-local addresses made from them normalised."""
    text = _MAC_TEXT.sub(lambda m: str(mac(m.group())), text)
    return _LINK_LOCAL_TEXT.sub(lambda m: str(address(m.group())), text)


def _traffic(neighbour: Neighbour) -> bool:
    """An entry the kernel made for multicast traffic (there is none in the fake)."""
    return "NOARP" in neighbour.state and neighbour.ip.is_multicast


def read(links: Links) -> dict[str, object]:
    listed = links.list()
    routes = [
        {
            "text": scrub(str(r)),
            "index": r.index,
            "table": r.table,
            "family": r.dst.version,
            "dst": scrub(str(r.dst)),
            "metric": r.metric,
            "dev": r.dev,
        }
        for r in links.route_list()
    ]
    out: dict[str, object] = {
        "list": [link(record) for record in listed],
        "get": [link(links.get(record.name)) for record in listed],
        "addresses": [(a.index, scrub(str(a))) for a in links.address_list()],
        "routes": kernel_order(routes),
        "neighbours": sorted((n.index, scrub(str(n))) for n in links.neighbour_list() if not _traffic(n)),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the dict returns, kept one release
        out["old addresses"] = [address(a) for a in links.addresses()]
        out["old routes"] = kernel_order(
            [{**r, "dst": address(r["dst"]), "gateway": address(r["gateway"])} for r in links.routes()]
        )
        out["old neighbours"] = sorted(
            (
                {**n, "mac": mac(n["mac"])}
                for n in links.neighbours()
                if not (n["state"] == _NUD_NOARP and ipaddress.ip_address(str(n["ip"])).is_multicast)
            ),
            key=repr,
        )
    return out


# What goes over the wire, beyond what Links reads today: the fields and attributes FakeNetlink
# sends, compared with the kernel's (the kernel sends more; those are not compared).
WIRE_LINK: tuple[str, ...] = ("IFLA_IFNAME", "IFLA_TXQLEN", "IFLA_OPERSTATE", "IFLA_LINKMODE", "IFLA_MTU")
WIRE_LINK += ("IFLA_GROUP", "IFLA_MASTER", "IFLA_CARRIER", "IFLA_ADDRESS", "IFLA_BROADCAST", "IFLA_IFALIAS")
WIRE_LINK += ("IFLA_LINK_NETNSID", "IFLA_LINK")
_BRIDGE: tuple[str, ...] = ("FORWARD_DELAY", "HELLO_TIME", "MAX_AGE", "AGEING_TIME", "STP_STATE", "PRIORITY")
_BRIDGE += ("VLAN_FILTERING", "GROUP_FWD_MASK", "MCAST_SNOOPING", "GROUP_ADDR")
_VXLAN: tuple[str, ...] = (
    "ID",
    "GROUP",
    "GROUP6",
    "LINK",
    "LOCAL",
    "LOCAL6",
    "TTL",
    "TOS",
    "LEARNING",
    "AGEING",
    "LIMIT",
)
_VXLAN += ("PORT", "UDP_CSUM")
_MACVLAN = ("MODE", "FLAGS", "MACADDR_COUNT")
WIRE_INFO: dict[str, tuple[str, ...]] = {
    "bridge": tuple(f"IFLA_BR_{name}" for name in _BRIDGE),
    "vxlan": tuple(f"IFLA_VXLAN_{name}" for name in _VXLAN),
    "macvlan": tuple(f"IFLA_MACVLAN_{name}" for name in _MACVLAN),
    "macvtap": tuple(f"IFLA_MACVTAP_{name}" for name in _MACVLAN),
}
WIRE_PORT: tuple[str, ...] = (
    "IFLA_BRPORT_STATE",
    "IFLA_BRPORT_PRIORITY",
    "IFLA_BRPORT_COST",
    "IFLA_BRPORT_LEARNING",
)
WIRE_PORT += ("IFLA_BRPORT_UNICAST_FLOOD",)
WIRE_ADDR = ("IFA_ADDRESS", "IFA_LOCAL", "IFA_LABEL", "IFA_FLAGS", "IFA_PROTO")
WIRE_ROUTE = ("RTA_TABLE", "RTA_DST", "RTA_PRIORITY", "RTA_PREFSRC", "RTA_GATEWAY", "RTA_OIF", "RTA_PREF")
WIRE_NEIGH = ("NDA_DST", "NDA_LLADDR", "NDA_PROBES")


def _attrs(msg: Any, names: tuple[str, ...]) -> dict[str, object]:
    return {name: msg.get_attr(name) for name in names if msg.get_attr(name) is not None}


def _fields(msg: Any, *names: str) -> dict[str, object]:
    return {name: msg[name] for name in names}


def wire(backend: Any, netns: str) -> dict[str, object]:
    """The dumps of ``netns`` as messages: header fields and the attributes FakeNetlink sends."""
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg  # noqa: PLC0415 - test-only reader
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg  # noqa: PLC0415
    from pyroute2.netlink.rtnl.ndmsg import ndmsg  # noqa: PLC0415
    from pyroute2.netlink.rtnl.rtmsg import rtmsg  # noqa: PLC0415

    def dump(cls: Any, msg: Any, kind: int) -> list[Any]:
        replies = backend.exchange(netns, "dump", msg, kind, NLM_F_DUMP)
        assert all(int.from_bytes(r[4:6], "little") == kind - 2 for r in replies)  # RTM_NEWx
        return messages.decode(cls, replies)

    links = []
    for m in dump(ifinfmsg, messages.links(), 18):
        one = {**_fields(m, "index", "ifi_type", "flags"), **_attrs(m, WIRE_LINK)}
        one["IFLA_ADDRESS"] = mac(one.get("IFLA_ADDRESS"))
        info = m.get_attr("IFLA_LINKINFO")
        if info is not None:
            kind = info.get_attr("IFLA_INFO_KIND")
            data = info.get_attr("IFLA_INFO_DATA")
            one["kind"] = kind
            one["data"] = _attrs(data, WIRE_INFO.get(kind, ())) if data is not None else None
            port = info.get_attr("IFLA_INFO_SLAVE_DATA")
            one["port"] = _attrs(port, WIRE_PORT) if port is not None else None
        links.append(one)
    addrs = [
        {**_fields(m, "family", "prefixlen", "flags", "scope", "index"), **_attrs(m, WIRE_ADDR)}
        for m in dump(ifaddrmsg, messages.address(0), 22)
    ]
    for one in addrs:
        one["IFA_ADDRESS"] = address(one["IFA_ADDRESS"])
    routes = [
        {
            **_fields(m, "family", "dst_len", "table", "proto", "scope", "type", "flags"),
            **_attrs(m, WIRE_ROUTE),
        }
        for m in dump(rtmsg, messages.routes(0), 26)
    ]
    for one in routes:
        one["RTA_DST"] = address(f"{one.get('RTA_DST')}/{one['dst_len']}")
        one["dev"] = one.pop("RTA_OIF", None)
        one["metric"] = one.get("RTA_PRIORITY")
    neighbours = [
        {**_fields(m, "family", "ifindex", "state", "flags", "ndm_type"), **_attrs(m, WIRE_NEIGH)}
        for m in dump(ndmsg, messages.neighbours(), 30)
        if not (m["state"] == _NUD_NOARP and ipaddress.ip_address(m.get_attr("NDA_DST")).is_multicast)
    ]
    return {
        "links": links,
        "addresses": addrs,
        "routes": kernel_order(
            [{**r, "dst": r["RTA_DST"], "table": r.get("RTA_TABLE"), "family": r["family"]} for r in routes]
        ),
        "neighbours": sorted(neighbours, key=repr),
    }


def snapshot(w: World) -> Snapshot:
    seen = inventory(namespaces=[w.a, w.b], include_root=False, backend=w.backend)
    backend = w.backend if w.backend is not None else default_netlink()
    return {
        "A": read(w.A),
        "B": read(w.B),
        "wire A": wire(backend, w.a),
        "wire B": wire(backend, w.b),
        "inventory": [
            (str(entry), link(entry.link), str(entry.peer), str(entry.lower)) for entry in seen.links
        ],
        "pairs": [(str(one), str(other)) for one, other in seen.pairs()],
        "log": list(w.log),
    }


# -- settling the real kernel ----------------------------------------------------------------------


def _unsettled(netns: str) -> bool:
    """An IPv6 address still in duplicate address detection on a link that is up with a carrier."""
    nl = default_netlink()
    ready = _ready_links(netns)
    replies = nl.exchange(netns, "read addresses", messages.address(0), 22, NLM_F_DUMP)
    for msg in messages.decode(_ifaddrmsg(), replies):
        flags = msg.get_attr("IFA_FLAGS") or msg["flags"]
        if flags & _IFA_F_TENTATIVE and int(msg["index"]) in ready:
            return True
    return False


def _ifaddrmsg() -> Any:
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg  # noqa: PLC0415 - test-only reader

    return ifaddrmsg


def _ready_links(netns: str) -> set[int]:
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg  # noqa: PLC0415 - test-only reader

    replies = default_netlink().exchange(netns, "read links", messages.links(), 18, NLM_F_DUMP)
    return {
        int(m["index"])
        for m in messages.decode(ifinfmsg, replies)
        if m["flags"] & _IFF_UP and m["flags"] & _IFF_LOWER_UP
    }


def settled(w: World) -> Snapshot:
    """The snapshot once linkwatch and DAD are done: no pending DAD, and two reads alike."""
    last: Snapshot | None = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(1.2)  # linkwatch handles a device's events at most once a second
        if any(_unsettled(ns) for ns in (w.a, w.b)):
            continue
        now = snapshot(w)
        if now == last:
            return now
        last = now
    pytest.fail("the kernel did not settle in 20 s")


def run(w: World, read_back: Callable[[World], Snapshot]) -> Iterator[tuple[str, Snapshot]]:
    for name, phase in PHASES:
        phase(w)
        yield name, read_back(w)


def differences(real: Snapshot, fake: Snapshot, phase: str) -> list[str]:
    out = []
    for key in real:
        if real[key] != fake[key]:
            diff = difflib.unified_diff(
                pprint.pformat(real[key], width=110).splitlines(),
                pprint.pformat(fake[key], width=110).splitlines(),
                "kernel",
                "FakeNetlink",
                lineterm="",
            )
            out.append(f"after {phase!r}, {key}:\n" + "\n".join(diff))
    return out


def test_fake_netlink_reads_back_what_the_kernel_does(netns_factory: Factory) -> None:
    a, b = netns_factory(), netns_factory()
    real = list(run(World(a, b, backend=None), settled))
    fake = FakeNetlink()
    fake.add_namespace(a)
    fake.add_namespace(b)
    imitation = list(run(World(a, b, backend=fake), snapshot))
    problems = [
        problem
        for (phase, mine), (_, theirs) in zip(real, imitation, strict=True)
        for problem in differences(mine, theirs, phase)
    ]
    assert not problems, "\n\n".join(problems)


# -- the protocol itself: echoes, ids, refusals the links layer does not reach ---------------------


def _summary(reply: bytes) -> tuple[object, ...]:
    """What a reply says, by its type: the fields a client reads."""
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg  # noqa: PLC0415 - test-only reader
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg  # noqa: PLC0415
    from pyroute2.netlink.rtnl.nsidmsg import nsidmsg  # noqa: PLC0415
    from pyroute2.netlink.rtnl.rtmsg import rtmsg  # noqa: PLC0415

    kind = int.from_bytes(reply[4:6], "little")
    if kind == 16:
        [m] = messages.decode(ifinfmsg, [reply])
        return (
            "link",
            messages.ifindex_of(reply),
            m.get_attr("IFLA_IFNAME"),
            m["flags"],
            m.get_attr("IFLA_MTU"),
        )
    if kind == 20:
        [m] = messages.decode(ifaddrmsg, [reply])
        return (
            "address",
            *_fields(m, "family", "prefixlen", "flags", "scope", "index").values(),
            _attrs(m, WIRE_ADDR),
        )
    if kind == 24:
        [m] = messages.decode(rtmsg, [reply])
        return (
            "route",
            *_fields(m, "family", "dst_len", "table", "proto", "scope", "type").values(),
            _attrs(m, WIRE_ROUTE),
        )
    if kind == 88:
        [m] = messages.decode(nsidmsg, [reply])
        return ("nsid", m.get_attr("NETNSA_NSID"))
    return ("type", kind)


def protocol(backend: Any, a: str, b: str) -> list[tuple[object, ...]]:
    """Raw requests through the ``Netlink`` protocol, each with what came back or the error it raised."""
    import os  # noqa: PLC0415

    from vnetkit.exec.netlink import NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL  # noqa: PLC0415
    from vnetkit.exec.runner import netns_path  # noqa: PLC0415

    new = NLM_F_CREATE | NLM_F_EXCL
    out: list[tuple[object, ...]] = []

    def ask(label: str, netns: str, msg: Any, kind: int, flags: int = 0) -> None:
        try:
            replies = backend.exchange(netns, label, msg, kind, flags)
        except VnetkitError as exc:
            out.append((label, type(exc).__name__, str(exc)))
        else:
            out.append((label, [_summary(reply) for reply in replies]))

    def kind(name: str, what: str, data: dict[str, object] | None = None, **fields: int) -> Any:
        return messages.link([("IFLA_IFNAME", name), messages.link_info(what, data)], **fields)

    fd_b = os.open(netns_path(b), os.O_RDONLY | os.O_CLOEXEC)
    fds = {
        name: os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        for name, path in (("a", netns_path(a)), ("b", netns_path(b)), ("self", "/proc/self/ns/net"))
    }
    try:
        ask("create, echoed", a, kind("e0", "ifb", flags=_IFF_UP, change=_IFF_UP), 16, new | NLM_F_ECHO)
        ask(
            "veth, echoed",
            a,
            kind("e1", "veth", messages.veth_peer([("IFLA_IFNAME", "e2")])),
            16,
            new | NLM_F_ECHO,
        )
        peer = messages.veth_peer([("IFLA_IFNAME", "e4"), ("IFLA_NET_NS_FD", fd_b)])
        ask("veth there, echoed", a, kind("e3", "veth", peer), 16, new | NLM_F_ECHO)
        ask("vlan filtering", a, kind("brv", "bridge", {"IFLA_BR_VLAN_FILTERING": 1}), 16, new)
        ask("after a refused bridge", a, kind("e5", "ifb"), 16, new | NLM_F_ECHO)
        ask("tun", a, kind("t0", "tun"), 16, new)
        ask("dummy", a, kind("d0", "dummy"), 16, new)
        ask("no kind", a, messages.link([("IFLA_IFNAME", "d0")]), 16, new)
        ask(
            "set, echo asked",
            a,
            messages.link([("IFLA_IFNAME", "e1")], flags=_IFF_UP, change=_IFF_UP),
            16,
            NLM_F_ECHO,
        )
        ask("set missing", a, messages.link([("IFLA_IFNAME", "nope")], flags=_IFF_UP, change=_IFF_UP), 16)
        ask("master missing", a, messages.link([("IFLA_IFNAME", "e1"), ("IFLA_MASTER", 999)]), 16)
        ask("get missing index", a, messages.link(index=999), 18)
        ask("delete missing name", a, messages.link([("IFLA_IFNAME", "nope")]), 17)
        ask("delete empty group", a, messages.link([("IFLA_GROUP", 99)]), 17)
        ask("delete group with lo", a, messages.link([("IFLA_GROUP", 0)]), 17)
        ask("address, echoed", a, messages.address(2, "10.0.0.1", 24), 20, new | NLM_F_ECHO)
        ask("v6 address, echoed", a, messages.address(2, "2001:db8::1", 64), 20, new | NLM_F_ECHO)
        route = messages.route(
            delete=False, family=2, dst="10.5.0.0", dst_len=16, gateway=None, oif=2, metric=None, table=None
        )
        ask("route, echoed", a, route, 24, new | NLM_F_ECHO)
        neighbour = messages.neighbour(2, "10.0.0.9", M4)
        ask("neighbour without create", a, neighbour, 28)
        ask("delete missing neighbour", a, messages.neighbour(2, "10.0.0.9", M4), 29)
        for view in (a, b):
            for name, fd in fds.items():
                ask(f"id of {name} in {'a' if view == a else 'b'}", view, messages.netnsid(fd), 90)
    finally:
        for fd in (fd_b, *fds.values()):
            os.close(fd)
    return out


def test_fake_netlink_answers_requests_as_the_kernel_does(netns_factory: Factory) -> None:
    a, b = netns_factory(), netns_factory()
    real = protocol(default_netlink(), a, b)
    fake = FakeNetlink()
    fake.add_namespace(a)
    fake.add_namespace(b)
    imitation = protocol(fake, a, b)
    assert [x for x in imitation if x not in real] == [x for x in real if x not in imitation]
    assert imitation == real
