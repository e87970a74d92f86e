"""``FakeNetlink`` itself: the namespaces it knows, and each request read and answered as the kernel would.

Owns: the ``Netlink`` protocol's one method, ``exchange``, done as the
real backend does it (the request encoded, and read back from its bytes
as the kernel reads it; a refusal becomes the vnetkit error through
``classify_netlink``, as on the real path), the namespaces (``None``, the
caller's own, and those made with ``add_namespace``), which of them a
namespace descriptor in a request stands for (the one whose file is the
same file), and turning each request into the kernel's operations
(``_links``, ``_ip``) and their results into replies (``_replies``).
"""

from __future__ import annotations

import errno
import ipaddress
import itertools
import os
import random
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import (
    RTM_DELADDR,
    RTM_DELLINK,
    RTM_DELNEIGH,
    RTM_DELROUTE,
    RTM_GETADDR,
    RTM_GETLINK,
    RTM_GETNEIGH,
    RTM_GETNSID,
    RTM_GETROUTE,
    RTM_NEWADDR,
    RTM_NEWLINK,
    RTM_NEWNEIGH,
    RTM_NEWNSID,
    RTM_NEWROUTE,
)

from vnetkit.errors import AlreadyExists, NotFound, UnsupportedError
from vnetkit.exec.fake_netlink import _ip as ip
from vnetkit.exec.fake_netlink import _replies as replies
from vnetkit.exec.fake_netlink import _routes as routes
from vnetkit.exec.fake_netlink._links import KINDS, Kernel, PeerSpec
from vnetkit.exec.fake_netlink._state import (
    IFF_UP,
    IP,
    RT_TABLE_MAIN,
    RTN_UNICAST,
    KernelError,
    Link,
    Netns,
    Route,
    Space,
)
from vnetkit.exec.netlink import (
    NLM_F_ACK,
    NLM_F_CREATE,
    NLM_F_DUMP,
    NLM_F_ECHO,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    NLM_F_REQUEST,
    classify_netlink,
)
from vnetkit.exec.runner import netns_path, validate_netns_name

__all__ = ["FakeNetlink"]

T = TypeVar("T")
Handler = Callable[[Space, Any, int], list[Any]]

_NO_NEXTHOP = frozenset({6, 7, 8})  # blackhole, unreachable, prohibit
_WRITES = frozenset({RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE})
_WRITES |= {RTM_NEWNEIGH, RTM_DELNEIGH, RTM_NEWNSID}
_MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}


def _version(family: int) -> int:
    return 4 if family == socket.AF_INET else 6


class FakeNetlink:
    """An in-memory kernel behind the ``Netlink`` protocol: the ``backend=`` of ``Links`` and ``inventory``.

    ::

        fake = FakeNetlink()
        fake.add_namespace("lab-c1")
        Links(backend=fake).add(Veth(name="veth0", peer="eth0", peer_netns="lab-c1"))

    A named namespace is found through its file, as the real backend finds
    it: code that opens ``/run/netns/NAME`` (a veth's peer namespace, the
    inventory) needs that file, so tests without root point the namespace
    directory at a temporary one holding a file per name. ``kinds`` are the
    link kinds its kernel has (fewer, to play a kernel that lacks one) and
    ``vlan_filtering`` whether its bridges can filter VLANs (the flag is kept
    and read back; the filtering itself is not modelled). Both default to
    the kernel the fake was proved against, which lacks VLAN filtering;
    ``seed`` makes the random MACs repeatable; ``privileged=False`` refuses
    every change with EPERM, as for a caller without CAP_NET_ADMIN.
    ``requests`` records each request: (namespace, message type, flags).
    """

    def __init__(
        self,
        *,
        kinds: Iterable[str] = KINDS,
        vlan_filtering: bool = False,
        seed: int | None = None,
        privileged: bool = True,
    ) -> None:
        rng = random.Random(seed)  # noqa: S311 - MACs, not secrets
        self._kernel = Kernel(kinds=kinds, vlan_filtering=vlan_filtering, rng=rng)
        self._privileged = privileged
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self.requests: list[tuple[Netns, int, int]] = []
        self._kernel.add_namespace(None, loopback_up=True)
        self._handlers: dict[int, Handler] = {
            RTM_NEWLINK: self._new_link,
            RTM_DELLINK: self._del_link,
            RTM_GETLINK: self._get_link,
            RTM_NEWADDR: self._new_addr,
            RTM_DELADDR: self._del_addr,
            RTM_GETADDR: self._get_addr,
            RTM_NEWROUTE: self._new_route,
            RTM_DELROUTE: self._del_route,
            RTM_GETROUTE: self._get_route,
            RTM_NEWNEIGH: self._new_neigh,
            RTM_DELNEIGH: self._del_neigh,
            RTM_GETNEIGH: self._get_neigh,
            RTM_GETNSID: self._get_nsid,
        }

    # -- namespaces ---------------------------------------------------------------------

    def add_namespace(self, name: str, *, loopback_up: bool = True) -> None:
        """A new named namespace with ``lo`` (up, with its addresses, unless ``loopback_up`` is False)."""
        with self._lock:
            if validate_netns_name(name) in self._kernel.spaces:
                raise AlreadyExists(f"create network namespace {name!r}: it exists")
            self._kernel.add_namespace(name, loopback_up=loopback_up)

    def delete_namespace(self, name: str) -> None:
        """Delete namespace ``name`` and its links (a veth's other end goes too, wherever it is)."""
        with self._lock:
            self._space(name)
            self._kernel.delete_namespace(name)

    @property
    def namespaces(self) -> list[str]:
        """The named namespaces, sorted."""
        return sorted(name for name in self._kernel.spaces if name is not None)

    def _space(self, netns: Netns) -> Space:
        try:
            return self._kernel.spaces[netns]
        except KeyError:
            raise NotFound(f"network namespace {netns!r} does not exist") from None

    def _namespace_of(self, fd: int) -> Netns:
        """The namespace whose file ``fd`` was opened from (IFLA_NET_NS_FD, NETNSA_FD)."""
        st = os.fstat(fd)
        for name in self._kernel.spaces:
            try:
                other = os.stat("/proc/self/ns/net" if name is None else netns_path(name))
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                return name
        raise _Unmodelled(fd)

    # -- the protocol ---------------------------------------------------------------------

    def exchange(self, netns: Netns, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        """One request in ``netns``, as ``NetlinkBackend.exchange``: replies' bytes, or a vnetkit error."""
        with self._lock:
            space = self._space(netns)
            self.requests.append((netns, msg_type, flags))
            seq = next(self._seq)
            dump = (flags & NLM_F_DUMP) == NLM_F_DUMP
            header = msg["header"]
            header["type"] = msg_type
            header["flags"] = flags | NLM_F_REQUEST | (0 if dump else NLM_F_ACK)
            header["sequence_number"] = seq
            header["pid"] = 0
            msg.encode()
            request = type(msg)(bytes(msg.data))  # what the kernel reads: the bytes, not our objects
            request.decode()
            try:
                if not self._privileged and msg_type in _WRITES:
                    raise KernelError(errno.EPERM)
                handler = self._handlers.get(msg_type)
                if handler is None:
                    raise KernelError(errno.EOPNOTSUPP)
                answers = handler(space, request, flags)
            except _Unmodelled as exc:
                raise NotFound(f"{action}: {exc}") from None
            except KernelError as exc:
                raise classify_netlink(NetlinkError(exc.errno, exc.message), action=action) from None
            return [replies.encode(answer, msg_type, seq, dump) for answer in answers]

    def in_namespace(self, netns: Netns, fn: Callable[[], T]) -> T:
        """Refused: what runs inside a namespace (tun/tap ioctls, sysctl files) is not rtnetlink."""
        with self._lock:
            self._space(netns)
        raise UnsupportedError(
            "FakeNetlink answers rtnetlink only: tun/tap devices and sysctls need a real namespace"
        )

    def release(self, netns: Netns) -> None:
        """Nothing to release: no socket or thread is held (``NetlinkBackend`` compatibility)."""

    def close(self) -> None:
        """Nothing to close (``NetlinkBackend`` compatibility)."""

    # -- links ------------------------------------------------------------------------------

    def _link_of(self, space: Space, req: Any) -> Link | None:
        index = int(req["index"])
        if index:
            return space.links.get(index)
        name = req.get_attr("IFLA_IFNAME")
        return space.named(name) if name else None

    def _new_link(self, space: Space, req: Any, flags: int) -> list[Any]:
        link = self._link_of(space, req)
        if link is not None:
            if flags & NLM_F_EXCL:
                raise KernelError(errno.EEXIST)
            if flags & NLM_F_REPLACE:
                raise KernelError(errno.EOPNOTSUPP)
            self._change_link(space, link, req)
            return []
        if not flags & NLM_F_CREATE or req["index"]:
            raise KernelError(errno.ENODEV)
        info = req.get_attr("IFLA_LINKINFO")
        kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
        if not kind:
            raise KernelError(errno.EOPNOTSUPP, "Unknown device type")
        data = info.get_attr("IFLA_INFO_DATA")
        attrs: dict[str, object] = {}
        peer = None
        if data is not None and kind == "veth":
            peer = self._peer(space, data.get_attr("VETH_INFO_PEER"))
        elif data is not None:
            attrs = dict(data["attrs"])
            for key in ("IFLA_MACVLAN_MODE", "IFLA_MACVTAP_MODE"):
                if isinstance(attrs.get(key), str):
                    attrs[key] = _MACVLAN_MODES[str(attrs[key])]
        if kind == "veth" and peer is None:
            raise KernelError(errno.EINVAL)
        created = self._kernel.create(
            space,
            name=req.get_attr("IFLA_IFNAME") or f"{kind}0",
            kind=kind,
            mtu=req.get_attr("IFLA_MTU"),
            mac=req.get_attr("IFLA_ADDRESS"),
            group=req.get_attr("IFLA_GROUP") or 0,
            master=req.get_attr("IFLA_MASTER"),
            lower=self._lower_of(kind, attrs, req),
            up=bool(req["flags"] & IFF_UP),
            data=attrs,
            peer=peer,
        )
        alias = req.get_attr("IFLA_IFALIAS")
        if alias:
            created.alias = alias
        return [replies.link_message(space, created)] if flags & NLM_F_ECHO else []

    @staticmethod
    def _lower_of(kind: str, attrs: dict[str, object], req: Any) -> int | None:
        """The device a new link sits on: IFLA_VXLAN_LINK for a vxlan, IFLA_LINK for the others."""
        lower = attrs.pop("IFLA_VXLAN_LINK", None) if kind == "vxlan" else req.get_attr("IFLA_LINK")
        return int(str(lower)) if lower is not None else None

    def _peer(self, space: Space, peer: Any) -> PeerSpec | None:
        if peer is None:
            return None
        fd = peer.get_attr("IFLA_NET_NS_FD")
        return PeerSpec(
            name=peer.get_attr("IFLA_IFNAME") or "veth0",
            netns=space.name if fd is None else self._namespace_of(int(fd)),
            mtu=peer.get_attr("IFLA_MTU"),
            mac=peer.get_attr("IFLA_ADDRESS"),
            up=bool(peer["flags"] & IFF_UP),
        )

    def _change_link(self, space: Space, link: Link, req: Any) -> None:
        """Bridge port settings (to the master it has now), then do_setlink() in its order: MAC, MTU,
        group, name, alias, flags, master."""
        info = req.get_attr("IFLA_LINKINFO")
        port = info.get_attr("IFLA_INFO_SLAVE_DATA") if info is not None else None
        if port is not None:
            self._kernel.set_port(link, dict(port["attrs"]))
        mac = req.get_attr("IFLA_ADDRESS")
        if mac is not None:
            self._kernel.set_mac(space, link, mac)
        mtu = req.get_attr("IFLA_MTU")
        if mtu is not None:
            self._kernel.set_mtu(space, link, int(mtu))
        group = req.get_attr("IFLA_GROUP")
        if group is not None:
            link.group = int(group)
        name = req.get_attr("IFLA_IFNAME")
        if name and req["index"]:
            self._kernel.rename(space, link, name)
        alias = req.get_attr("IFLA_IFALIAS")
        if alias is not None:
            link.alias = alias or None
        change = int(req["change"]) or 0xFFFFFFFF
        if req["flags"] or req["change"]:
            wanted = (req["flags"] & change) | ((IFF_UP if link.up else 0) & ~change)
            self._kernel.set_up(space, link, up=bool(wanted & IFF_UP))
        master = req.get_attr("IFLA_MASTER")
        if master is not None:
            self._kernel.set_master(space, link, int(master))

    def _del_link(self, space: Space, req: Any, flags: int) -> list[Any]:
        link = self._link_of(space, req)
        if link is not None:
            self._kernel.delete(space, link)
        elif req["index"] or req.get_attr("IFLA_IFNAME"):
            raise KernelError(errno.ENODEV)
        elif req.get_attr("IFLA_GROUP") is not None:
            self._kernel.delete_group(space, int(req.get_attr("IFLA_GROUP")))
        else:
            raise KernelError(errno.EINVAL)
        return []

    def _get_link(self, space: Space, req: Any, flags: int) -> list[Any]:
        if (flags & NLM_F_DUMP) == NLM_F_DUMP:
            return [replies.link_message(space, link) for _, link in sorted(space.links.items())]
        link = self._link_of(space, req)
        if link is None:
            raise KernelError(errno.ENODEV)
        return [replies.link_message(space, link)]

    # -- addresses --------------------------------------------------------------------------

    @staticmethod
    def _device(space: Space, index: int) -> Link:
        link = space.links.get(index)
        if link is None:
            raise KernelError(errno.ENODEV)
        return link

    @staticmethod
    def _ip_of(req: Any, *names: str) -> IP:
        for name in names:
            value = req.get_attr(name)
            if value:
                return ipaddress.ip_address(value)
        raise KernelError(errno.EINVAL)

    def _new_addr(self, space: Space, req: Any, flags: int) -> list[Any]:
        link = self._device(space, int(req["index"]))
        at = self._ip_of(req, "IFA_LOCAL", "IFA_ADDRESS")
        asked = req.get_attr("IFA_FLAGS")  # all 32 bits; the header holds the low 8
        ifa_flags = int(asked) if asked is not None else int(req["flags"])
        prefixlen, scope = int(req["prefixlen"]), int(req["scope"])
        added = ip.add_address(space, link, at, prefixlen, scope=scope, flags=ifa_flags)
        # IPv6 tells of a new address without the request's header: no echo.
        return [replies.address_message(space, added)] if flags & NLM_F_ECHO and at.version == 4 else []

    def _del_addr(self, space: Space, req: Any, flags: int) -> list[Any]:
        link = self._device(space, int(req["index"]))
        ip.delete_address(space, link, self._ip_of(req, "IFA_LOCAL", "IFA_ADDRESS"), int(req["prefixlen"]))
        return []

    def _get_addr(self, space: Space, req: Any, flags: int) -> list[Any]:
        if (flags & NLM_F_DUMP) != NLM_F_DUMP:
            raise KernelError(errno.EOPNOTSUPP)
        family, index = int(req["family"]), int(req["index"])
        out = []
        for version, table in ((4, space.v4), (6, space.v6)):
            if family and family != replies.family(version):
                continue
            for link_index in sorted(table):
                if not index or index == link_index:
                    out += [replies.address_message(space, addr) for addr in table[link_index]]
        return out

    # -- routes -------------------------------------------------------------------------------

    def _route_of(self, req: Any, *, adding: bool) -> Route:
        version = _version(int(req["family"]))
        zero = ipaddress.IPv4Address(0) if version == 4 else ipaddress.IPv6Address(0)
        dst = req.get_attr("RTA_DST") or zero
        gateway = req.get_attr("RTA_GATEWAY")
        metric = req.get_attr("RTA_PRIORITY")
        prefsrc = req.get_attr("RTA_PREFSRC")
        return Route(
            dst=ipaddress.ip_network(f"{dst}/{req['dst_len']}", strict=False),
            table=int(req.get_attr("RTA_TABLE") or req["table"] or RT_TABLE_MAIN),
            oif=req.get_attr("RTA_OIF"),
            metric=int(metric) if metric is not None else (1024 if version == 6 and adding else 0),
            proto=int(req["proto"]),
            scope=int(req["scope"]),
            type=int(req["type"]),
            gateway=ipaddress.ip_address(gateway) if gateway else None,
            prefsrc=ipaddress.ip_address(prefsrc) if prefsrc else None,
        )

    def _new_route(self, space: Space, req: Any, flags: int) -> list[Any]:
        route = self._route_of(req, adding=True)
        if route.type == RTN_UNICAST and route.oif is None and route.gateway is None:
            raise KernelError(errno.ENODEV)
        if route.type in _NO_NEXTHOP and route.family == 6:
            route.oif = 1  # IPv6 hangs blackhole, unreachable and prohibit routes on lo
        added = routes.add_route(
            space, route, exclusive=bool(flags & NLM_F_EXCL), replace=bool(flags & NLM_F_REPLACE)
        )
        return [replies.route_message(space, added)] if flags & NLM_F_ECHO else []

    def _del_route(self, space: Space, req: Any, flags: int) -> list[Any]:
        routes.delete_route(space, self._route_of(req, adding=False))
        return []

    def _get_route(self, space: Space, req: Any, flags: int) -> list[Any]:
        if (flags & NLM_F_DUMP) != NLM_F_DUMP:
            raise KernelError(errno.EOPNOTSUPP)
        family = int(req["family"])
        out = []
        for version in (4, 6):
            if not family or family == replies.family(version):
                out += [
                    replies.route_message(space, route) for route in routes.ordered_routes(space, version)
                ]
        return out

    # -- neighbours and namespace ids ---------------------------------------------------------------

    def _new_neigh(self, space: Space, req: Any, flags: int) -> list[Any]:
        link = self._device(space, int(req["ifindex"]))
        ip.add_neighbour(
            space,
            link,
            self._ip_of(req, "NDA_DST"),
            str(req.get_attr("NDA_LLADDR") or ""),
            state=int(req["state"]),
            create=bool(flags & NLM_F_CREATE),
            exclusive=bool(flags & NLM_F_EXCL),
            replace=bool(flags & NLM_F_REPLACE),
        )
        return []

    def _del_neigh(self, space: Space, req: Any, flags: int) -> list[Any]:
        ip.delete_neighbour(space, self._device(space, int(req["ifindex"])), self._ip_of(req, "NDA_DST"))
        return []

    def _get_neigh(self, space: Space, req: Any, flags: int) -> list[Any]:
        if (flags & NLM_F_DUMP) != NLM_F_DUMP:
            raise KernelError(errno.EOPNOTSUPP)
        family, index = int(req["family"]), int(req["ifindex"])
        out = []
        for version in (4, 6):
            if family and family != replies.family(version):
                continue
            out += [
                replies.neighbour_message(entry)
                for entry in space.neighbours
                if entry.ip.version == version and (not index or entry.index == index)
            ]
        return out

    def _get_nsid(self, space: Space, req: Any, flags: int) -> list[Any]:
        fd = req.get_attr("NETNSA_FD")
        if fd is None:
            raise KernelError(errno.EINVAL)
        try:
            target: Netns | _Unmodelled = self._namespace_of(int(fd))
        except _Unmodelled as exc:
            target = exc
        return [
            replies.nsid_message(space.nsids.get(target) if not isinstance(target, _Unmodelled) else None)
        ]


class _Unmodelled(Exception):
    """A namespace descriptor for a namespace the fake does not know."""

    def __init__(self, fd: int) -> None:
        super().__init__(f"descriptor {fd} is no namespace FakeNetlink models (add it with add_namespace)")
