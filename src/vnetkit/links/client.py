"""``Links``: create, configure, inspect and delete virtual NICs in one namespace.

Owns: turning a spec (``specs``) into netlink requests (``messages``) sent
through the ``NetlinkBackend``: one RTM_NEWLINK that creates the link already configured
(MTU, MAC, alias, group, master, up) whenever the kernel allows it, with the
peer of a veth made directly in its namespace; extra steps (bridge ports, a
veth peer's MTU) are undone if a later step fails. Also addresses, routes,
neighbours and per-namespace sysctls, and ``ensure_*`` forms that leave a
matching link alone and report a conflicting one.
Does not own: sockets or namespaces (``exec``), the cross-namespace view
(``inventory``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
from typing import Any

from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETROUTE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWNEIGH,
    RTM_NEWROUTE,
)
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
from pyroute2.netlink.rtnl.ndmsg import ndmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

from vnetkit.errors import AlreadyExists, ConfigError, InUse, NotFound, UnsupportedError, VnetkitError
from vnetkit.exec.netlink import (
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_EXCL,
    NetlinkBackend,
    default_netlink,
)
from vnetkit.exec.runner import netns_path, validate_netns_name
from vnetkit.links import messages, tuntap
from vnetkit.links.records import Link, link_from_message
from vnetkit.links.specs import Bridge, LinkSpec, Tuntap, Veth, check_ifname, check_mac

__all__ = ["Links"]

# Aliases: inside the class, ``list`` is a verb, not the builtin.
Strings = list[str]
Records = list[dict[str, object]]
Rows = list[dict[str, Any]]
Links_ = list[Link]


_IFF_UP = messages.IFF_UP
_CREATE = NLM_F_CREATE | NLM_F_EXCL

# Kinds some kernels lack, and what to use instead.
_ALTERNATIVES = {
    "vlan": "802.1Q vlan devices (kind vlan); segment with vxlan instead",
    "ipvlan": "ipvlan devices; use macvlan (mode bridge) instead",
    "vlan_filtering": "bridge vlan_filtering; use one bridge per VLAN, or vxlan",
    "macvtap": "macvtap devices; use a tap device on a bridge instead",
    "vxlan": "vxlan devices; use one bridge per segment instead",
}
_UNSUPPORTED: dict[str, str] = {}


def _network(text: str) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        raise ConfigError(f"invalid address {text!r}: use ADDRESS/PREFIX like 10.0.0.1/24") from None


def _route_target(
    dst: str, via: str | None, dev: str | None
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str | None]:
    """The destination network and gateway of a route, checked (``default`` follows the gateway's family)."""
    gateway = None
    if via is not None:
        try:
            gateway = str(ipaddress.ip_address(via))
        except ValueError:
            raise ConfigError(f"invalid gateway {via!r}") from None
    if dst == "default":
        network = ipaddress.ip_network("::/0" if gateway is not None and ":" in gateway else "0.0.0.0/0")
    else:
        try:
            network = ipaddress.ip_network(dst, strict=False)
        except ValueError:
            raise ConfigError(f"invalid route destination {dst!r}: use 'default' or a network") from None
    if via is None and dev is None:
        raise ConfigError(f"route {dst}: give a gateway (via) or a device (dev)")
    if gateway is not None and ipaddress.ip_address(gateway).version != network.version:
        raise ConfigError(f"route {dst}: gateway {gateway} is not of the destination's family")
    return network, gateway


def _describe(gateway: object, dev: object) -> str:
    return " ".join(
        part for part in (f"via {gateway}" if gateway else "", f"dev {dev}" if dev else "") if part
    )


class Links:
    """Links, addresses, routes and sysctls of one namespace (``netns=None``: the caller's).

    ::

        links = Links(netns="lab-host")
        links.add(Bridge(name="br0"))
        links.add(Veth(name="veth-c1", peer="eth0", peer_netns="lab-c1", master="br0"))
        links.add_address("br0", "172.18.0.1/16")
    """

    def __init__(self, netns: str | None = None, *, backend: NetlinkBackend | None = None) -> None:
        self._netns = validate_netns_name(netns) if netns is not None else None
        self._nl = backend if backend is not None else default_netlink()

    @property
    def netns(self) -> str | None:
        """The namespace this client works in."""
        return self._netns

    def _where(self, name: str) -> str:
        return f"{name} in netns {self._netns}" if self._netns else name

    def _send(self, action: str, msg: Any, msg_type: int, flags: int = 0) -> list[bytes]:
        return self._nl.exchange(self._netns, action, msg, msg_type, flags)

    def _dump(self, what: str, cls: Any, msg: Any, msg_type: int) -> list[Any]:
        where = self._netns or "this namespace"
        return messages.decode(cls, self._send(f"list {what} of {where}", msg, msg_type, NLM_F_DUMP))

    def index(self, name: str) -> int:
        """The ifindex of ``name``; ``NotFound`` if there is no such link."""
        request = messages.link_by_name(check_ifname(name))
        try:
            [reply] = self._send(f"look up {self._where(name)}", request, RTM_GETLINK)
        except NotFound:
            raise NotFound(f"link {self._where(name)} does not exist") from None
        return messages.ifindex_of(reply)

    # -- links ------------------------------------------------------------------

    def add(self, spec: LinkSpec) -> None:
        """Create the link described by ``spec``; nothing is left behind if any step fails."""
        if isinstance(spec, Tuntap):
            self._add_tuntap(spec)
            return
        attrs = [("IFLA_IFNAME", spec.name), *self._common(spec)]
        data = spec.attributes()
        if spec.lower is not None:
            if spec.kind == "vxlan":
                data["IFLA_VXLAN_LINK"] = self.index(spec.lower)
            else:
                attrs.append(("IFLA_LINK", self.index(spec.lower)))
        peer_fd = None
        if isinstance(spec, Veth):
            peer: list[tuple[str, object]] = [("IFLA_IFNAME", spec.peer)]
            if spec.peer_mac is not None:
                peer.append(("IFLA_ADDRESS", spec.peer_mac))
            if spec.peer_mtu is not None:
                peer.append(("IFLA_MTU", spec.peer_mtu))
            if spec.peer_netns is not None:
                peer_fd = self._open_netns(spec.peer_netns)
                peer.append(("IFLA_NET_NS_FD", peer_fd))
            # (The peer cannot be brought up in this request: the kernel opens it
            # before the pair is joined and refuses with ENOTCONN.)
            data = messages.veth_peer(peer)
        attrs.append(messages.link_info(spec.kind, data))
        # Up in the creating request itself: one round trip fewer per link.
        flags = _IFF_UP if spec.up else 0
        request = messages.link(attrs, flags=flags, change=flags)
        try:
            self._create(spec, request)
        finally:
            if peer_fd is not None:
                os.close(peer_fd)
        try:
            self._after_create(spec)
        except VnetkitError:
            self._undo(spec.name)
            raise

    def _create(self, spec: LinkSpec, request: Any) -> None:
        kind = "vlan_filtering" if isinstance(spec, Bridge) and spec.vlan_filtering else spec.kind
        if kind in _UNSUPPORTED:
            raise UnsupportedError(f"create {spec.kind} {self._where(spec.name)}: {_UNSUPPORTED[kind]}")
        try:
            self._send(f"create {spec.kind} {self._where(spec.name)}", request, RTM_NEWLINK, _CREATE)
        except InUse as exc:
            # The kernel says only EBUSY: tell the usual cause, a lower device that is a bridge port.
            master = self._master_of(spec.lower) if spec.lower is not None else None
            if master is None:
                raise
            raise InUse(
                f"{exc}: {spec.lower} is a port of {master}, and a bridge port cannot also carry "
                f"a {spec.kind} (put the {spec.kind} on {master}, or release {spec.lower} first)"
            ) from None
        except UnsupportedError:
            if kind in _ALTERNATIVES:
                # Detected once per process: later requests fail fast with the same advice.
                _UNSUPPORTED[kind] = f"this kernel lacks {_ALTERNATIVES[kind]}"
                raise UnsupportedError(
                    f"create {spec.kind} {self._where(spec.name)}: {_UNSUPPORTED[kind]}"
                ) from None
            raise

    def _master_of(self, name: str) -> str | None:
        """The master of link ``name``; None if it has none or is gone."""
        try:
            return self.get(name).master
        except NotFound:
            return None

    def _common(self, spec: LinkSpec) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        if spec.mtu is not None:
            out.append(("IFLA_MTU", spec.mtu))
        if spec.mac is not None:
            out.append(("IFLA_ADDRESS", spec.mac))
        if spec.ifgroup is not None:
            out.append(("IFLA_GROUP", spec.ifgroup))
        if spec.master is not None:
            out.append(("IFLA_MASTER", self.index(spec.master)))
        return out

    def _after_create(self, spec: LinkSpec) -> None:
        """Steps the creating request cannot carry: alias, bridge ports, the peer's state, up."""
        if spec.alias is not None:
            self.set_alias(spec.name, spec.alias)
        if isinstance(spec, Bridge):
            for port in spec.ports:
                self.set_master(port, spec.name)
        if isinstance(spec, Veth) and spec.peer_up:
            # The peer lives in peer_netns, or beside the link when none is given.
            peer_ns = spec.peer_netns if spec.peer_netns is not None else self._netns
            Links(peer_ns, backend=self._nl).set_up(spec.peer)
        if spec.up and isinstance(spec, Tuntap):  # made by ioctl, not by a request that set IFF_UP
            self.set_up(spec.name)

    def _undo(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.delete(name)

    def _open_netns(self, name: str) -> int:
        try:
            return os.open(netns_path(name), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise NotFound(f"network namespace {name!r} does not exist") from None

    def _add_tuntap(self, spec: Tuntap) -> None:
        # /dev/net/tun makes the device in the namespace of the calling
        # thread: so this runs on the namespace's own thread.
        action = f"create {spec.mode} {self._where(spec.name)}"
        self._nl.in_namespace(self._netns, lambda: tuntap.create(spec, action=action))
        try:
            common = self._common(spec)
            if common:
                self._send(
                    f"configure {self._where(spec.name)}",
                    messages.link([("IFLA_IFNAME", spec.name), *common]),
                    RTM_NEWLINK,
                )
            self._after_create(spec)
        except VnetkitError:
            self._undo(spec.name)
            raise

    def delete(self, name: str) -> None:
        """Delete a link (a veth takes its peer with it); ``NotFound`` if missing."""
        index = self.index(name)
        self._send(f"delete {self._where(name)}", messages.link(index=index), RTM_DELLINK)

    def delete_group(self, group: int) -> int:
        """Delete every link in interface ``group`` with one bulk request; returns how many there were."""
        doomed = [link.name for link in self.list() if link.group == group]
        if doomed:
            self._send(
                f"delete group {group} in {self._netns or 'this namespace'}",
                messages.link([("IFLA_GROUP", group)]),
                RTM_DELLINK,
            )
        return len(doomed)

    def exists(self, name: str) -> bool:
        """True if the link exists."""
        try:
            self.index(name)
        except NotFound:
            return False
        return True

    def get(self, name: str) -> Link:
        """The link's current state; ``NotFound`` if missing."""
        # A constant number of requests, however many links the namespace has:
        # the link by name, the names of its master and same-namespace peer, its addresses.
        request = messages.link_by_name(check_ifname(name))
        try:
            replies = self._send(f"read {self._where(name)}", request, RTM_GETLINK)
        except NotFound:
            raise NotFound(f"link {self._where(name)} does not exist") from None
        [msg] = messages.decode(ifinfmsg, replies)
        related = [msg.get_attr("IFLA_MASTER")]
        if (
            msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") == "veth"
            and msg.get_attr("IFLA_LINK_NETNSID") is None
        ):
            related.append(msg.get_attr("IFLA_LINK"))  # the peer, beside it
        names = {int(i): self._name_of(int(i)) for i in related if i and int(i) != int(msg["index"])}
        link = link_from_message(msg, {i: n for i, n in names.items() if n is not None})
        return link.with_addresses(self._addresses_by_index(link.index).get(link.index, ()))

    def _name_of(self, index: int) -> str | None:
        """The name of link ``index``; None if it is gone."""
        request = messages.link([("IFLA_EXT_MASK", messages.SKIP_STATS)], index=index)
        try:
            replies = self._send(
                f"look up link {index} in {self._netns or 'this namespace'}", request, RTM_GETLINK
            )
        except NotFound:
            return None
        return str(messages.decode(ifinfmsg, replies)[0].get_attr("IFLA_IFNAME"))

    def list(self) -> Links_:
        """Every link of the namespace, by ifindex, with addresses."""
        found = self._dump("links", ifinfmsg, messages.links(), RTM_GETLINK)
        names = {int(m["index"]): str(m.get_attr("IFLA_IFNAME")) for m in found}
        links = [link_from_message(m, names) for m in found]
        addresses = self._addresses_by_index()
        return [link.with_addresses(addresses.get(link.index, ())) for link in links]

    def _names(self) -> dict[int, str]:
        found = self._dump("links", ifinfmsg, messages.links(), RTM_GETLINK)
        return {int(m["index"]): str(m.get_attr("IFLA_IFNAME")) for m in found}

    def ensure(self, spec: LinkSpec) -> bool:
        """Create the link unless a matching one exists; True if created.

        A link of that name and another kind (or another lower device, VLAN
        id, VNI, peer...) is ``AlreadyExists`` naming the difference.
        """
        try:
            current = self.get(spec.name)
        except NotFound:
            self.add(spec)
            return True
        problems = current.differences(spec)
        if problems:
            raise AlreadyExists(f"link {self._where(spec.name)} exists but differs: {'; '.join(problems)}")
        return False

    # -- configuration -------------------------------------------------------------

    def _set(self, name: str, what: str, *attrs: tuple[str, object], flags: int = 0, change: int = 0) -> None:
        # Addressed by name: the kernel looks the link up, no extra round trip.
        request = messages.link([("IFLA_IFNAME", check_ifname(name)), *attrs], flags=flags, change=change)
        self._send(f"set {what} of {self._where(name)}", request, RTM_NEWLINK)

    def set_up(self, name: str) -> None:
        """Bring the link up."""
        self._set(name, "state up", flags=_IFF_UP, change=_IFF_UP)

    def set_down(self, name: str) -> None:
        """Bring the link down."""
        self._set(name, "state down", change=_IFF_UP)

    def set_mtu(self, name: str, mtu: int) -> None:
        """Set the MTU."""
        if isinstance(mtu, bool) or not 68 <= mtu <= 65535:
            raise ConfigError(f"invalid MTU {mtu!r}: use 68..65535")
        self._set(name, "MTU", ("IFLA_MTU", mtu))

    def set_mac(self, name: str, mac: str) -> None:
        """Set the MAC address."""
        self._set(name, "MAC address", ("IFLA_ADDRESS", check_mac(mac)))

    def set_alias(self, name: str, alias: str) -> None:
        """Set the ``ifalias`` (vnetkit marks what it creates this way)."""
        self._set(name, "alias", ("IFLA_IFALIAS", alias))

    def set_master(self, name: str, master: str) -> None:
        """Enslave the link to a bridge (or other master)."""
        self._set(name, f"master {master}", ("IFLA_MASTER", self.index(master)))

    def set_nomaster(self, name: str) -> None:
        """Release the link from its master."""
        self._set(name, "no master", ("IFLA_MASTER", 0))

    # -- addresses, routes, neighbours --------------------------------------------

    def add_address(self, name: str, address: str) -> None:
        """Add ``ADDRESS/PREFIX`` (IPv4 or IPv6) to the link."""
        iface = _network(address)
        self._add_address(name, self.index(name), iface)

    def _add_address(
        self, name: str, index: int, iface: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    ) -> None:
        request = messages.address(index, str(iface.ip), iface.network.prefixlen)
        self._send(f"add address {iface} to {self._where(name)}", request, RTM_NEWADDR, _CREATE)

    def delete_address(self, name: str, address: str) -> None:
        """Remove ``ADDRESS/PREFIX`` from the link."""
        iface = _network(address)
        request = messages.address(self.index(name), str(iface.ip), iface.network.prefixlen)
        self._send(f"delete address {iface} from {self._where(name)}", request, RTM_DELADDR)

    def ensure_address(self, name: str, address: str) -> bool:
        """Add ``ADDRESS/PREFIX`` unless the link has it; True if added.

        The same IP on the link with another prefix length is ``AlreadyExists``
        naming both (the kernel would keep the two side by side).
        """
        iface = _network(address)
        index = self.index(name)
        have = self._addresses_by_index(index).get(index, ())
        if str(iface) in have:
            return False
        other = [a for a in have if ipaddress.ip_interface(a).ip == iface.ip]
        if other:
            raise AlreadyExists(f"{self._where(name)} has {other[0]}, wanted {iface}")
        self._add_address(name, index, iface)
        return True

    def addresses(self, name: str | None = None) -> Strings:
        """``ADDRESS/PREFIX`` strings of one link, or of all links."""
        if name is None:
            return [a for addrs in self._addresses_by_index().values() for a in addrs]
        index = self.index(name)
        return list(self._addresses_by_index(index).get(index, ()))

    def _addresses_by_index(self, index: int = 0) -> dict[int, tuple[str, ...]]:
        """Addresses per ifindex: of every link, or only of ``index`` (filtered by the kernel)."""
        out: dict[int, list[str]] = {}
        for msg in self._dump("addresses", ifaddrmsg, messages.address(index), RTM_GETADDR):
            local = msg.get_attr("IFA_LOCAL") or msg.get_attr("IFA_ADDRESS")
            out.setdefault(int(msg["index"]), []).append(f"{local}/{msg['prefixlen']}")
        return {k: tuple(v) for k, v in out.items()}

    def add_route(
        self,
        dst: str = "default",
        *,
        via: str | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | None = None,
    ) -> None:
        """Add a route: ``dst`` is ``default`` or a network; ``via`` a gateway and/or ``dev``."""
        self._route_op(False, dst, via=via, dev=dev, metric=metric, table=table)

    def delete_route(
        self,
        dst: str = "default",
        *,
        via: str | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | None = None,
    ) -> None:
        """Delete a route given as for :meth:`add_route`."""
        self._route_op(True, dst, via=via, dev=dev, metric=metric, table=table)

    def _route_op(
        self,
        delete: bool,
        dst: str,
        *,
        via: str | None,
        dev: str | None,
        metric: int | None,
        table: int | None,
    ) -> None:
        network, gateway = _route_target(dst, via, dev)
        request = messages.route(
            delete=delete,
            family=socket.AF_INET6 if network.version == 6 else socket.AF_INET,
            dst=str(network.network_address) if network.prefixlen else None,
            dst_len=network.prefixlen,
            gateway=gateway,
            oif=self.index(dev) if dev is not None else None,
            metric=metric,
            table=table,
        )
        where = self._netns or "this namespace"
        if delete:
            self._send(f"delete route {dst} in {where}", request, RTM_DELROUTE)
        else:
            self._send(f"add route {dst} in {where}", request, RTM_NEWROUTE, _CREATE)

    def ensure_route(
        self,
        dst: str = "default",
        *,
        via: str | None = None,
        dev: str | None = None,
        metric: int | None = None,
        table: int | None = None,
    ) -> bool:
        """Add the route unless it is there; True if added.

        A route to the same destination with the same metric in the same
        table but another gateway or device is ``AlreadyExists`` naming both.
        """
        network, gateway = _route_target(dst, via, dev)
        wanted_dst = str(network) if network.prefixlen else "default"
        number = 254 if table is None else table
        six = network.version == 6
        priority = metric if metric is not None else (1024 if six else 0)  # the kernel's defaults
        oif = self.index(dev) if dev is not None else None
        for have in self._routes(socket.AF_INET6 if six else socket.AF_INET):
            if (have["dst"], have["table"], have["metric"] or 0) != (wanted_dst, number, priority):
                continue
            if (gateway is None or have["gateway"] == gateway) and (oif is None or have["oif"] == oif):
                return False
            theirs = self._name_of(int(have["oif"])) if have["oif"] else None
            raise AlreadyExists(
                f"route {dst} (table {number}, metric {priority}) in {self._netns or 'this namespace'} "
                f"goes {_describe(have['gateway'], theirs)}, wanted {_describe(gateway, dev)}"
            )
        self.add_route(dst, via=via, dev=dev, metric=metric, table=table)
        return True

    def routes(self, *, family: int = 0, table: int | None = None) -> Records:
        """Routes as dicts: dst, gateway, dev, metric, table, family."""
        rows = [row for row in self._routes(family) if table is None or row["table"] == table]
        names = self._names() if rows else {}
        for row in rows:
            row["dev"] = names.get(int(row.pop("oif") or 0))
        return list(rows)

    def _routes(self, family: int) -> Rows:
        """Routes of ``family`` (0: all) as dicts, with the outgoing device as ``oif`` (an ifindex)."""
        return [
            {
                "dst": f"{msg.get_attr('RTA_DST')}/{msg['dst_len']}"
                if msg.get_attr("RTA_DST")
                else "default",
                "gateway": msg.get_attr("RTA_GATEWAY"),
                "oif": msg.get_attr("RTA_OIF"),
                "metric": msg.get_attr("RTA_PRIORITY"),
                "table": msg.get_attr("RTA_TABLE") or msg["table"],
                "family": "ipv6" if msg["family"] == socket.AF_INET6 else "ipv4",
            }
            for msg in self._dump("routes", rtmsg, messages.routes(family), RTM_GETROUTE)
        ]

    def add_neighbour(self, name: str, ip: str, mac: str) -> None:
        """Add a permanent neighbour (ARP/NDP) entry."""
        index = self.index(name)
        try:
            address = str(ipaddress.ip_address(ip))
        except ValueError:
            raise ConfigError(f"invalid neighbour address {ip!r}: not an IP address") from None
        request = messages.neighbour(index, address, check_mac(mac))
        self._send(f"add neighbour {address} on {self._where(name)}", request, RTM_NEWNEIGH, _CREATE)

    def neighbours(self) -> Records:
        """Neighbour entries: ip, mac, dev, state."""
        names = self._names()
        return [
            {
                "ip": m.get_attr("NDA_DST"),
                "mac": m.get_attr("NDA_LLADDR"),
                "dev": names.get(int(m["ifindex"])),
                "state": m["state"],
            }
            for m in self._dump("neighbours", ndmsg, messages.neighbours(), RTM_GETNEIGH)
        ]

    # -- sysctls --------------------------------------------------------------------

    @staticmethod
    def _sysctl_path(key: str) -> str:
        parts = key.split("/") if "/" in key else key.split(".")
        if parts[0] != "net" or len(parts) < 3 or any(not p or p in (".", "..") for p in parts):
            raise ConfigError(
                f"invalid sysctl {key!r}: only per-namespace net.* keys, e.g. net.ipv4.ip_forward"
            )
        return "/proc/sys/" + "/".join(parts)

    def sysctl(self, key: str) -> str:
        """Read a ``net.*`` sysctl of this namespace."""
        path = self._sysctl_path(key)

        def read() -> str:
            with open(path, encoding="ascii") as handle:
                return handle.read().strip()

        try:
            return self._nl.in_namespace(self._netns, read)
        except FileNotFoundError:
            raise NotFound(f"sysctl {key} does not exist in {self._netns or 'this namespace'}") from None

    def ensure_sysctl(self, key: str, value: str | int) -> bool:
        """Write a ``net.*`` sysctl of this namespace unless it already reads ``value``; True if written."""
        if self.sysctl(key).split() == str(value).split():
            return False
        self.set_sysctl(key, value)
        return True

    def set_sysctl(self, key: str, value: str | int) -> None:
        """Write a ``net.*`` sysctl of this namespace (never of another)."""
        if self._netns is None:
            raise UnsupportedError(
                f"set sysctl {key}: refusing to change the caller's own namespace; give netns="
            )
        path = self._sysctl_path(key)

        def write() -> None:
            with open(path, "w", encoding="ascii") as handle:
                handle.write(f"{value}\n")

        try:
            self._nl.in_namespace(self._netns, write)
        except FileNotFoundError:
            raise NotFound(f"sysctl {key} does not exist in {self._netns}") from None
        except OSError as exc:
            raise ConfigError(f"set sysctl {key}={value} in {self._netns}: {exc.strerror}") from None
