"""One snapshot of every link in every namespace, with each veth's far end found: ``inventory``.

Owns: reading the root namespace and the named ones (through ``Links`` and
the host's ``Netlink`` backend), turning the ids the kernel gives other namespaces
(``IFLA_LINK_NETNSID``, as seen *from* the link's namespace) back into
namespace names, and the pure assembly of what was read into an
``Inventory``: each link with its namespace, its veth peer or its lower
device (vlan, macvlan, macvtap, ipvlan), wherever those live.
Does not own: creating or changing anything, or namespace lifetime.

How a peer is found: a veth reports its peer's ifindex (``IFLA_LINK``) and,
when the peer is in another namespace, that namespace's id as the veth's
namespace numbers it. Asking the veth's namespace ``RTM_GETNSID`` for the
descriptor of each candidate namespace (the caller's own, each
``/run/netns/NAME``; opened by ``exec.nsfs``) maps ids to names; that query never allocates an id.
A namespace no name points at (a container's, kept alive only by its
processes) stays unnamed: the peer is reported with its id and ifindex.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from vnetkit.errors import NotFound
from vnetkit.exec import netns as _netns
from vnetkit.exec import nsfs
from vnetkit.exec.host import Host
from vnetkit.exec.netlink import Netlink
from vnetkit.exec.runner import validate_netns_name
from vnetkit.links import messages
from vnetkit.links.client import Links
from vnetkit.model.records import Link

__all__ = ["ROOT_LABEL", "Inventory", "InventoryLink", "Ref", "assemble", "inventory", "label"]

ROOT_LABEL = "(root)"
"""How the root namespace is written where a name is expected (tables, ``"<ns>:<name>"``)."""

Netns = str | None  # None: the root namespace (the caller's own)

# Kinds whose IFLA_LINK is the peer (veth) or the lower device. The kernel
# leaves IFLA_LINK out when it equals the link's own ifindex, which happens
# when the other end is in another namespace and got the same number.
_PEER_KINDS = frozenset({"veth"})
_LOWER_KINDS = frozenset({"vlan", "macvlan", "macvtap", "ipvlan", "ipvtap"})

_NSID_NOT_ASSIGNED = 2**31  # the kernel's -1, read as an unsigned 32-bit value


def label(netns: Netns) -> str:
    """The namespace as text: its name, or ``(root)``."""
    return ROOT_LABEL if netns is None else netns


@dataclass(frozen=True, slots=True)
class Ref:
    """The other end of a veth, or a lower device, as far as could be told.

    ``located`` is False when the namespace it lives in has no name vnetkit
    could find; then only ``netnsid`` (the id the link's namespace gives it)
    and ``index`` are known. ``name`` is None if that namespace was not read.
    """

    netns: Netns
    index: int
    name: str | None
    netnsid: int | None = None
    located: bool = True

    def __str__(self) -> str:
        name = self.name if self.name is not None else f"if{self.index}"
        if not self.located:
            return f"netnsid {self.netnsid}:{name}"
        return f"{label(self.netns)}:{name}"


@dataclass(frozen=True, slots=True)
class InventoryLink:
    """One link, the namespace it lives in, and where its peer or lower device is."""

    netns: Netns
    link: Link
    peer: Ref | None = None
    lower: Ref | None = None

    @property
    def name(self) -> str:
        """The interface name."""
        return self.link.name

    @property
    def index(self) -> int:
        """The ifindex, unique within its namespace only."""
        return self.link.index

    @property
    def kind(self) -> str:
        """``veth``, ``bridge``, ... ('' for a physical NIC)."""
        return self.link.kind

    @property
    def state(self) -> str:
        """Operational state: ``UP``, ``DOWN``, ``UNKNOWN``, ``LOWERLAYERDOWN``..."""
        return self.link.state

    @property
    def mtu(self) -> int:
        """The MTU."""
        return self.link.mtu

    @property
    def mac(self) -> str | None:
        """The MAC address, if the link has one."""
        return self.link.mac

    @property
    def master(self) -> str | None:
        """The bridge (or other master) it is enslaved to, in the same namespace."""
        return self.link.master

    @property
    def addresses(self) -> tuple[str, ...]:
        """``ADDRESS/PREFIX`` strings."""
        return self.link.addresses

    def __str__(self) -> str:
        return f"{label(self.netns)}:{self.name}"


@dataclass(frozen=True, slots=True)
class Inventory:
    """Every link of the namespaces read, root first; ``namespaces`` lists them in that order."""

    namespaces: tuple[Netns, ...]
    links: tuple[InventoryLink, ...]

    def of(self, netns: Netns) -> list[InventoryLink]:
        """The links of one namespace (None: the root one), by ifindex."""
        return [entry for entry in self.links if entry.netns == netns]

    def find(self, name: str, netns: Netns = None) -> InventoryLink | None:
        """The link called ``name`` in ``netns`` (None: the root namespace), or None."""
        for entry in self.links:
            if entry.netns == netns and entry.name == name:
                return entry
        return None

    def resolve(self, ref: Ref | None) -> InventoryLink | None:
        """The link ``ref`` points at, if it is in this inventory."""
        if ref is None or not ref.located:
            return None
        for entry in self.links:
            if entry.netns == ref.netns and entry.index == ref.index:
                return entry
        return None

    def peer_of(self, entry: InventoryLink) -> InventoryLink | None:
        """The other end of a veth, if its namespace was read."""
        return self.resolve(entry.peer)

    def ports(self, master: str, netns: Netns = None) -> list[InventoryLink]:
        """The links enslaved to ``master`` (a bridge) in ``netns``."""
        return [entry for entry in self.links if entry.netns == netns and entry.master == master]

    def pairs(self) -> list[tuple[InventoryLink, InventoryLink]]:
        """Every veth pair whose two ends were both read, once each.

        The first end is the one in the namespace listed first (the root
        namespace before named ones), then the lower ifindex.
        """
        order = {netns: number for number, netns in enumerate(self.namespaces)}
        seen: set[tuple[Netns, int]] = set()
        out = []
        for entry in self.links:
            if entry.kind not in _PEER_KINDS or (entry.netns, entry.index) in seen:
                continue
            peer = self.peer_of(entry)
            if peer is None:
                continue
            seen.update({(entry.netns, entry.index), (peer.netns, peer.index)})
            ends = sorted((entry, peer), key=lambda e: (order.get(e.netns, len(order)), e.index))
            out.append((ends[0], ends[1]))
        return out


# -- pure assembly ---------------------------------------------------------------


def _target(link: Link) -> int | None:
    """The ifindex of the peer or lower device, if the link has one."""
    if link.link_index is not None:
        return link.link_index
    if link.link_netnsid is not None and link.kind in _PEER_KINDS | _LOWER_KINDS:
        return link.index  # elsewhere, under the same number (IFLA_LINK left out)
    return None


def _needed_nsids(links: Iterable[Link]) -> set[int]:
    return {
        link.link_netnsid for link in links if link.link_netnsid is not None and _target(link) is not None
    }


def assemble(
    links: Mapping[Netns, Sequence[Link]],
    *,
    netnsids: Mapping[Netns, Mapping[int, Netns]] | None = None,
    elsewhere: Mapping[tuple[Netns, int], str] | None = None,
) -> Inventory:
    """An ``Inventory`` from what was read. Pure.

    ``links``: the links of each namespace read, in the order to report them.
    ``netnsids``: for each namespace read, the namespaces its ids stand for
    (an id missing here is a namespace without a name). ``elsewhere``: names
    of links in namespaces not read, by (namespace, ifindex).
    """
    netnsids = netnsids or {}
    elsewhere = elsewhere or {}
    names = {(netns, link.index): link.name for netns, group in links.items() for link in group}
    entries = []
    for netns, group in links.items():
        for link in group:
            target = _target(link)
            ref = None
            if target is not None:
                ref = _ref(netns, link, target, ids=netnsids.get(netns, {}), names=names, elsewhere=elsewhere)
            peer = ref if link.kind in _PEER_KINDS else None
            lower = ref if link.kind not in _PEER_KINDS else None
            entries.append(InventoryLink(netns=netns, link=link, peer=peer, lower=lower))
    return Inventory(namespaces=tuple(links), links=tuple(entries))


def _ref(
    netns: Netns,
    link: Link,
    target: int,
    *,
    ids: Mapping[int, Netns],
    names: Mapping[tuple[Netns, int], str],
    elsewhere: Mapping[tuple[Netns, int], str],
) -> Ref:
    nsid = link.link_netnsid
    if nsid is None:
        where = netns
    elif nsid in ids:
        where = ids[nsid]
    else:
        return Ref(netns=None, index=target, name=None, netnsid=nsid, located=False)
    name = names.get((where, target)) or elsewhere.get((where, target))
    return Ref(netns=where, index=target, name=name, netnsid=nsid)


# -- reading ---------------------------------------------------------------------


class _Candidates:
    """The namespaces an id may stand for, tried in a good order; each opened only while asked about.

    Ids mostly point where others already did: a host's veths at the
    containers that pointed at it, every container at the same host. So a
    view tries first the namespaces that have links ending in it, then the
    namespaces found most recently, then the rest (root first): one query
    per id in the common star-shaped layouts instead of one per namespace.
    """

    def __init__(self, names: Sequence[str]) -> None:
        self._order: list[Netns] = [None, *names]
        self._identity: dict[Netns, tuple[int, int] | None] = {}
        self._recent: dict[Netns, None] = {}  # insertion order: oldest first
        self._pointing_at: dict[Netns, dict[Netns, None]] = {}

    def _same(self, netns: Netns) -> tuple[int, int] | None:
        if netns not in self._identity:
            self._identity[netns] = nsfs.identity(netns)
        return self._identity[netns]

    def order(self, view: Netns) -> Iterator[Netns]:
        """Each candidate namespace once (one name per namespace), likeliest first for ``view``."""
        seen: set[tuple[int, int]] = set()
        likely = [*self._pointing_at.get(view, {}), *reversed(self._recent)]
        for netns in [*likely, *self._order]:
            ident = self._same(netns)
            if ident is None or ident in seen:  # gone, or a second name for one already tried
                continue
            seen.add(ident)
            yield netns

    def learn(self, view: Netns, target: Netns) -> None:
        """``view`` has links ending in ``target``."""
        self._recent.pop(target, None)
        self._recent[target] = None
        self._pointing_at.setdefault(target, {})[view] = None


def _resolve_ids(
    backend: Netlink, view: Netns, wanted: set[int], candidates: _Candidates
) -> dict[int, Netns]:
    """Which namespace each id in ``wanted`` stands for, as ``view`` numbers them."""
    found: dict[int, Netns] = {}
    where = label(view)
    for netns in candidates.order(view):
        if wanted <= found.keys():
            break
        with contextlib.ExitStack() as stack:
            try:
                fd = stack.enter_context(nsfs.fd(netns))
            except NotFound:  # deleted meanwhile
                continue
            nsid = _nsid_of(backend, view, fd, action=f"look up the id of netns {label(netns)} in {where}")
        if isinstance(nsid, int) and 0 <= nsid < _NSID_NOT_ASSIGNED and nsid in wanted and nsid not in found:
            found[nsid] = netns
            candidates.learn(view, netns)
    return found


def _nsid_of(backend: Netlink, view: Netns, fd: int, *, action: str) -> object:
    """The id ``view`` gives the namespace behind ``fd`` (RTM_GETNSID: looks up, never allocates)."""
    return messages.nsid_of(backend.exchange(view, action, messages.netnsid(fd), messages.RTM_GETNSID, 0))


def _read(backend: Netlink, netns: Netns) -> list[Link]:
    return Links(netns, backend=backend).list()


def _views(namespaces: Iterable[str] | None, include_root: bool) -> tuple[list[Netns], bool]:
    """The namespaces to read, root first, one name per namespace; and whether they were named."""
    explicit = namespaces is not None
    if namespaces is None:
        names = _netns.list_names()
    else:
        names = list(dict.fromkeys(validate_netns_name(n) for n in namespaces))
    views: list[Netns] = [None] if include_root else []
    seen = {nsfs.identity(None)} if include_root else set()
    for name in names:
        ident = nsfs.identity(name)
        if ident is None:
            if explicit:
                raise nsfs.missing(name)
            continue
        if ident in seen:  # the root namespace, or one already listed, under another name
            continue
        seen.add(ident)
        views.append(name)
    return views, explicit


def inventory(
    *,
    namespaces: Iterable[str] | None = None,
    include_root: bool = True,
    backend: Netlink | None = None,
    host: Host | None = None,
) -> Inventory:
    """Read every link of the root namespace and of ``namespaces`` (default: all named ones).

    Veth peers and lower devices are located in whatever namespace they
    live, read or not. Only reads. With ``host`` its backend is used (and
    kept); with ``backend``, that one; with neither, a private host whose
    sockets and threads are closed before returning, so none is left pinning
    a namespace someone else may be about to delete. A namespace named in
    ``namespaces`` that does not exist is ``NotFound``; one that vanishes
    while all are being read is left out.
    """
    private: Host | None = None
    nl: Netlink
    if backend is not None:
        nl = backend
    elif host is not None:
        nl = host.netlink
    else:
        private = Host()
        nl = private.netlink
    views, explicit = _views(namespaces, include_root)
    candidates = _Candidates(_netns.list_names())
    try:
        links: dict[Netns, list[Link]] = {}
        netnsids: dict[Netns, dict[int, Netns]] = {}
        for view in views:
            try:
                group = _read(nl, view)
                wanted = _needed_nsids(group)
                if wanted:
                    netnsids[view] = _resolve_ids(nl, view, wanted, candidates)
            except NotFound:
                if explicit:
                    raise
                continue
            finally:
                if private is not None and view is not None:
                    # Done with it: one namespace entered at a time, however many there are.
                    private.release(view)
            links[view] = group
        elsewhere = _read_elsewhere(nl, links, netnsids)
    finally:
        if private is not None:
            private.close()
    return assemble(links, netnsids=netnsids, elsewhere=elsewhere)


def _read_elsewhere(
    backend: Netlink,
    links: Mapping[Netns, Sequence[Link]],
    netnsids: Mapping[Netns, Mapping[int, Netns]],
) -> dict[tuple[Netns, int], str]:
    """Names of links in namespaces that were not read but hold a peer or lower device."""
    wanted: set[Netns] = set()
    for view, group in links.items():
        ids = netnsids.get(view, {})
        for link in group:
            nsid = link.link_netnsid
            if nsid is not None and nsid in ids and ids[nsid] not in links and _target(link) is not None:
                wanted.add(ids[nsid])
    out: dict[tuple[Netns, int], str] = {}
    for netns in wanted:
        with contextlib.suppress(NotFound):
            out.update({(netns, link.index): link.name for link in _read(backend, netns)})
    return out
