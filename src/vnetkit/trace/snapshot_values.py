"""The small values a ``Snapshot`` holds beside rulesets and routes: ``Interface``, ``PolicyRule``, ``IpSet``.

Owns: their fields and meaning. Pure, frozen. Does not own: reading them
from text (``snapshot_load``) or from the kernel (``snapshot_take``), or the
snapshot itself (``snapshot``).
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass
from typing import Literal

__all__ = ["Family", "Interface", "IpSet", "PolicyRule"]

Family = Literal["ipv4", "ipv6"]
IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Interface:
    """One link of the namespace: name, ifindex, addresses (kernel order), MAC, admin state, kind, master.

    ``kind`` is the link kind (``veth``, ``bridge``, ``loopback`` for ``lo``...;
    None when not known, as from ``ip -j addr`` read without ``-d``); ``master`` the name
    of the bridge (or other master) it is enslaved to.
    """

    name: str
    index: int
    addresses: tuple[IPInterface, ...] = ()
    mac: str | None = None
    up: bool = False
    kind: str | None = None
    master: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One ``ip rule``: ``priority``, its selector, and the ``table`` it looks up.

    ``src``/``dst`` None mean ``all``; ``fwmark``/``fwmask`` None mean no mark
    selector (a mark without a mask has mask 0xffffffff). ``invert`` is ``not``.
    ``action`` is ``to_tbl`` for a lookup, else ``ip rule``'s word
    (``unreachable``, ``prohibit``, ``blackhole``, ``goto``, ``nop``); ``table`` is 0 then.
    ``extra`` keeps the selectors and options this value does not model
    (``tos``, ``ipproto``, ``sport``, ``uidrange``, ``suppress_prefixlen``...)
    as sorted (key, text) pairs, so a reader can refuse what it cannot follow.
    """

    family: Family
    priority: int
    table: int = 0
    src: IPNetwork | None = None
    dst: IPNetwork | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    invert: bool = False
    action: str = "to_tbl"
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class IpSet:
    """One ipset as ``ipset save`` writes it: ``name``, ``type`` (``hash:ip``...), the words after the
    type on its ``create`` line (``family inet hashsize 1024``...), and its members, each the text after
    the set's name on an ``add`` line (``192.0.2.7``, ``10.0.0.0/24 nomatch``, ``10.0.0.1,tcp:80``)."""

    name: str
    type: str
    options: tuple[str, ...] = ()
    members: frozenset[str] = frozenset()

    @property
    def family(self) -> Family | None:
        """``ipv4`` / ``ipv6`` from the ``family`` option (None for a set without one, as ``list:set``)."""
        words = self.options
        for key, value in itertools.pairwise(words):
            if key == "family":
                return "ipv6" if value == "inet6" else "ipv4"
        return None
