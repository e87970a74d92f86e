"""What the installed iptables can do, read once from its ``--version``.

Owns: parsing ``iptables v1.8.9 (nf_tables)`` into a version tuple and a
backend, the feature thresholds go-iptables uses, and which ``-L`` listing
layout a version prints. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from vnetkit.errors import ParseError

__all__ = ["Backend", "Capabilities", "blank_opt_column", "parse_version"]

Backend = Literal["nft", "legacy"]

_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)(?:\s+\((nf_tables|legacy)\))?")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """Version and backend of one iptables binary, and what follows from them."""

    version: tuple[int, int, int]
    backend: Backend

    @property
    def has_wait(self) -> bool:
        """``--wait`` exists from 1.4.20."""
        return self.version >= (1, 4, 20)

    @property
    def has_wait_seconds(self) -> bool:
        """``--wait SECONDS`` exists from 1.4.22."""
        return self.version >= (1, 4, 22)

    @property
    def has_random_fully(self) -> bool:
        """``--random-fully`` for MASQUERADE/SNAT exists from 1.6.2."""
        return self.version >= (1, 6, 2)


def blank_opt_column(version: tuple[int, int, int], protocol: str) -> bool:
    """True if ``-L`` listings of this iptables leave the ``opt`` column blank.

    ip6tables before 1.8.9 printed three spaces there (IPv6 has no fragment
    flag); from 1.8.9 it prints ``--`` like iptables always has. ``protocol``
    is ``"ipv4"`` or ``"ipv6"``. The answer is the ``blank_opt`` hint of
    :func:`vnetkit.iptables.stats.parse_stats`.
    """
    return protocol == "ipv6" and version < (1, 8, 9)


def parse_version(text: str) -> Capabilities:
    """Read ``iptables --version`` output; versions before 1.8 are always legacy."""
    m = _VERSION.search(text)
    if m is None:
        raise ParseError(
            f"cannot read an iptables version from {text.strip()!r}", source="iptables --version"
        )
    major, minor, patch, mode = m.groups()
    backend: Backend = "nft" if mode == "nf_tables" else "legacy"
    return Capabilities((int(major), int(minor), int(patch)), backend)
