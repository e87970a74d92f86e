"""The link verbs of ``Links``: create, delete, read, list, change and ensure virtual NICs.

Owns: turning a spec (``vnetkit.model.links``) into netlink requests
(``messages``): one RTM_NEWLINK that creates the link already configured
(MTU, MAC, group, master, up) whenever the kernel allows it, with the peer
of a veth made directly in its namespace; extra steps (alias, bridge
ports, a bridge port's hairpin mode, a veth peer's state) are undone if a
later step fails. Reading links back as ``Link`` records, changing them in
place (a bridge port's hairpin mode too), deleting one or a whole
interface group, and ``ensure`` that leaves a matching link alone and
reports a conflicting one. Kinds this kernel lacks are remembered once and
refused with the alternative.
Does not own: tun/tap ioctls and namespace files (``vnetkit.exec``),
addresses, routes and sysctls (the other parts of ``Links``).
"""

from __future__ import annotations

import contextlib
from typing import Any

from vnetkit.errors import (
    AlreadyExists,
    ConfigError,
    InUse,
    NotFound,
    OperationError,
    UnsupportedError,
    VnetkitError,
)
from vnetkit.exec import nsfs, tuntap
from vnetkit.exec.netlink import NLM_F_CREATE, NLM_F_EXCL
from vnetkit.links import messages
from vnetkit.links.base import ClientBase
from vnetkit.links.records import link_from_message
from vnetkit.model.links import Bridge, LinkSpec, Tuntap, Veth
from vnetkit.model.names import check_ifname, check_mac
from vnetkit.model.records import Link

__all__ = ["LinkOps"]

Links_ = list[Link]  # inside the class ``list`` is a verb, not the builtin

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


class LinkOps(ClientBase):
    """Create, read, change and delete links."""

    def add(self, spec: LinkSpec) -> None:
        """Create the link described by ``spec``; nothing is left behind if any step fails."""
        if isinstance(spec, Tuntap):
            self._add_tuntap(spec)
            return
        with contextlib.ExitStack() as stack:
            attrs = [("IFLA_IFNAME", spec.name), *self._common(spec)]
            data = spec.attributes()
            if spec.lower is not None:
                if spec.kind == "vxlan":
                    data["IFLA_VXLAN_LINK"] = self.index(spec.lower)
                else:
                    attrs.append(("IFLA_LINK", self.index(spec.lower)))
            if isinstance(spec, Veth):
                peer: list[tuple[str, object]] = [("IFLA_IFNAME", spec.peer)]
                if spec.peer_mac is not None:
                    peer.append(("IFLA_ADDRESS", spec.peer_mac))
                if spec.peer_mtu is not None:
                    peer.append(("IFLA_MTU", spec.peer_mtu))
                if spec.peer_netns is not None:
                    peer.append(("IFLA_NET_NS_FD", stack.enter_context(nsfs.fd(spec.peer_netns))))
                # (The peer cannot be brought up in this request: the kernel opens it
                # before the pair is joined and refuses with ENOTCONN.)
                data = messages.veth_peer(peer)
            attrs.append(messages.link_info(spec.kind, data))
            # Up in the creating request itself: one round trip fewer per link.
            flags = _IFF_UP if spec.up else 0
            self._create(spec, messages.link(attrs, flags=flags, change=flags))
        try:
            self._after_create(spec)
        except VnetkitError:
            self._undo(spec.name)
            raise

    def _create(self, spec: LinkSpec, request: Any) -> None:
        kind = "vlan_filtering" if isinstance(spec, Bridge) and spec.vlan_filtering else spec.kind
        unsupported = self._unsupported()
        if kind in unsupported:
            raise UnsupportedError(f"create {spec.kind} {self._where(spec.name)}: {unsupported[kind]}")
        try:
            self._send(f"create {spec.kind} {self._where(spec.name)}", request, messages.RTM_NEWLINK, _CREATE)
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
                # Detected once per host: later requests fail fast with the same advice.
                unsupported[kind] = f"this kernel lacks {_ALTERNATIVES[kind]}"
                raise UnsupportedError(
                    f"create {spec.kind} {self._where(spec.name)}: {unsupported[kind]}"
                ) from None
            raise

    def _unsupported(self) -> dict[str, str]:
        """The link kinds this kernel lacks, with the advice (probed on first use, kept by the host)."""
        if self._detached:
            return self._probes  # another backend's kernel: not the host's to remember
        found: dict[str, str] = self._host.cache("link kinds this kernel lacks", dict)
        return found

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
        """Steps the creating request cannot carry: alias, hairpin, bridge ports, the peer's state, up."""
        if spec.alias is not None:
            self.set_alias(spec.name, spec.alias)
        if spec.hairpin:  # a new port's hairpin mode is off: only "on" needs a request
            self.set_hairpin(spec.name, True)
        if isinstance(spec, Bridge):
            for port in spec.ports:
                self.set_master(port, spec.name)
        if isinstance(spec, Veth) and spec.peer_up:
            # The peer lives in peer_netns, or beside the link when none is given.
            peer_ns = spec.peer_netns if spec.peer_netns is not None else self._netns
            LinkOps(peer_ns, backend=self._nl, host=self._host).set_up(spec.peer)
        if spec.up and isinstance(spec, Tuntap):  # made by ioctl, not by a request that set IFF_UP
            self.set_up(spec.name)

    def _undo(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.delete(name)

    def _add_tuntap(self, spec: Tuntap) -> None:
        # /dev/net/tun makes the device in the namespace of the calling
        # thread: so this runs on the namespace's own thread.
        action = f"create {spec.mode} {self._where(spec.name)}"
        self._in_namespace(lambda: tuntap.create(spec, action=action))
        try:
            common = self._common(spec)
            if common:
                self._send(
                    f"configure {self._where(spec.name)}",
                    messages.link([("IFLA_IFNAME", spec.name), *common]),
                    messages.RTM_NEWLINK,
                )
            self._after_create(spec)
        except VnetkitError:
            self._undo(spec.name)
            raise

    def delete(self, name: str) -> None:
        """Delete a link (a veth takes its peer with it); ``NotFound`` if missing."""
        index = self.index(name)
        self._send(f"delete {self._where(name)}", messages.link(index=index), messages.RTM_DELLINK)

    def delete_group(self, group: int) -> int:
        """Delete every link in interface ``group`` with one bulk request; returns how many there were."""
        doomed = [m for m in self._link_messages() if int(m.get_attr("IFLA_GROUP") or 0) == group]
        if doomed:
            self._send(
                f"delete group {group} in {self._here}",
                messages.link([("IFLA_GROUP", group)]),
                messages.RTM_DELLINK,
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
            replies = self._send(f"read {self._where(name)}", request, messages.RTM_GETLINK)
        except NotFound:
            raise NotFound(f"link {self._where(name)} does not exist") from None
        [msg] = messages.decode_links(replies)
        related = [msg.get_attr("IFLA_MASTER")]
        if (
            msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND") == "veth"
            and msg.get_attr("IFLA_LINK_NETNSID") is None
        ):
            related.append(msg.get_attr("IFLA_LINK"))  # the peer, beside it
        names = {int(i): self._name_of(int(i)) for i in related if i and int(i) != int(msg["index"])}
        link = link_from_message(msg, {i: n for i, n in names.items() if n is not None})
        return link.with_addresses(self._addresses_by_index(link.index).get(link.index, ()))

    def list(self) -> Links_:
        """Every link of the namespace, by ifindex, with addresses."""
        found = self._link_messages()
        names = {int(m["index"]): str(m.get_attr("IFLA_IFNAME")) for m in found}
        links = [link_from_message(m, names) for m in found]
        addresses = self._addresses_by_index()
        return [link.with_addresses(addresses.get(link.index, ())) for link in links]

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
        self._send(f"set {what} of {self._where(name)}", request, messages.RTM_NEWLINK)

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

    def set_hairpin(self, name: str, on: bool) -> None:
        """Turn the hairpin mode of bridge port ``name`` on or off (on: a frame may leave by its way in).

        The link must be a port already (``set_master`` first): a link that is
        not one is ``OperationError``; a port leaving its bridge loses the mode.
        """
        what = f"hairpin {'on' if on else 'off'}"
        try:
            self._set(name, what, messages.bridge_port({"IFLA_BRPORT_MODE": int(bool(on))}))
        except UnsupportedError:
            # EOPNOTSUPP: the link has no master whose ports take settings.
            raise OperationError(
                f"set {what} of {self._where(name)}: {name} is not a bridge port (give it a master first)"
            ) from None
