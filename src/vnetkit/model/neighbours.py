"""A neighbour (ARP / NDP) entry, as a value: ``Neighbour``.

Owns: the IP address, link-layer address, link and state of an entry;
their checking (``ConfigError`` saying what to give instead), reading one
from text (``Neighbour.parse``) and writing it back the way ``ip neigh``
words it. Pure. Does not own: reading entries from the kernel or adding
them (``vnetkit.links``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

from vnetkit.errors import ConfigError
from vnetkit.model.names import NUD_STATES, bits, check_ifname, check_lladdr, flag_words

__all__ = ["Neighbour"]

_PERMANENT = frozenset({"PERMANENT"})
_NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Neighbour:
    """``10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 PERMANENT``: who answers for an IP on a link.

    ``lladdr`` is the link-layer address in lower case (None while it is
    not known, e.g. ``FAILED``). ``state`` holds the kernel's NUD_* words
    (``PERMANENT``, ``REACHABLE``, ``STALE``...; empty is ``NONE``).
    ``index`` is the link's ifindex as read (0: not known), not part of
    equality.
    """

    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    lladdr: str | None = None
    dev: str | None = None
    state: frozenset[str] = _PERMANENT
    index: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
            raise ConfigError(
                f"invalid neighbour address {self.ip!r}: "
                "give an ipaddress address, or text to Neighbour.parse"
            )
        if self.lladdr is not None:
            object.__setattr__(self, "lladdr", check_lladdr(self.lladdr))
        if self.dev is not None:
            check_ifname(self.dev, what="link name")
        state = frozenset(self.state)
        bits(NUD_STATES, state, "neighbour state")
        object.__setattr__(self, "state", state)
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise ConfigError(f"invalid ifindex {self.index!r}: use a number 0 or more")

    @classmethod
    def parse(cls, text: str) -> Neighbour:
        """An entry from ``IP [dev NAME] [lladdr ADDR] [STATE...]``, as ``str()`` writes it."""
        words = text.split() if isinstance(text, str) else []
        if not words:
            raise ConfigError(f"invalid neighbour {text!r}: use IP [dev NAME] [lladdr ADDR] [STATE...]")
        try:
            ip = ipaddress.ip_address(words[0])
        except ValueError:
            raise ConfigError(f"invalid neighbour address {words[0]!r}: not an IP address") from None
        options: dict[str, str] = {}
        state: list[str] = []
        rest = iter(words[1:])
        for key in rest:
            if key in ("dev", "lladdr"):
                value = next(rest, None)
                if value is None:
                    raise ConfigError(f"invalid neighbour {text!r}: {key} needs a value")
                options[key] = value
            elif key != _NONE:
                state.append(key)
        return cls(ip, lladdr=options.get("lladdr"), dev=options.get("dev"), state=frozenset(state))

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        """``ipv4`` or ``ipv6``."""
        return "ipv4" if self.ip.version == 4 else "ipv6"

    @property
    def nud(self) -> int:
        """The state as the kernel's NUD_* bits."""
        return bits(NUD_STATES, self.state, "neighbour state")

    def __str__(self) -> str:
        parts = [str(self.ip)]
        if self.dev is not None:
            parts += ["dev", self.dev]
        if self.lladdr is not None:
            parts += ["lladdr", self.lladdr]
        parts += flag_words(NUD_STATES, self.nud) or (_NONE,)
        return " ".join(parts)
