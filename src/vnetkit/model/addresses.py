"""An address on a link, as a value: ``Address``.

Owns: the address and prefix (an ``ipaddress`` interface), the link it is
on, its scope and flags as the kernel reports them, their checking
(``ConfigError`` saying what to give instead), reading one from text
(``Address.parse``) and writing it back the way ``ip address`` words it.
Pure. Does not own: reading addresses from the kernel or adding them
(``vnetkit.links``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Literal

from vnetkit.errors import ConfigError
from vnetkit.model.names import ADDRESS_FLAGS, SCOPES, bits, check_ifname, number, word

__all__ = ["Address", "Interface", "default_scope"]

Interface = ipaddress.IPv4Interface | ipaddress.IPv6Interface

_USAGE = "use ADDRESS/PREFIX like 10.0.0.1/24 or 2001:db8::1/64"
_FLAG_WORDS = (*ADDRESS_FLAGS.values(), "temporary")


def _interface(text: str) -> Interface:
    try:
        return ipaddress.ip_interface(text)
    except ValueError:
        raise ConfigError(f"invalid address {text!r}: {_USAGE}") from None


def default_scope(interface: Interface) -> str:
    """The scope the kernel gives ``interface`` when none is asked for.

    IPv4: ``global`` (the kernel keeps what it is asked for; ``ip address
    add`` asks ``host`` for 127.0.0.0/8, say so to get it). IPv6: the kernel
    sets it from the address itself (``host`` for ::1, ``link`` for
    fe80::/10, ``site`` for fec0::/10), whatever was asked.
    """
    ip = interface.ip
    if ip.version == 4:
        return "global"
    if ip.is_loopback:
        return "host"
    if ip.is_link_local:
        return "link"
    return "site" if ip.is_site_local else "global"


@dataclass(frozen=True, slots=True)
class Address:
    """``10.0.0.1/24 dev eth0 scope global permanent``: an address, its prefix and the link it is on.

    ``interface`` is the address with its prefix length. ``dev`` is the
    link's name (None: not said). ``scope`` is a word of ``ip address``
    (``global``, ``link``, ``host``...; given none, the one the kernel gives,
    see ``default_scope``). ``flags`` are the kernel's IFA_F_* words (``permanent``,
    ``secondary``, ``tentative``...). ``index`` is the link's ifindex as read
    (0: not known); it is not part of equality: a link is named by its name
    within its namespace, and an index lasts only as long as the link.
    """

    interface: Interface
    dev: str | None = None
    scope: str = ""
    flags: frozenset[str] = frozenset()
    index: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.interface, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
            raise ConfigError(
                f"invalid address {self.interface!r}: give an ipaddress interface, "
                f"or text to Address.parse ({_USAGE})"
            )
        if self.dev is not None:
            check_ifname(self.dev, what="link name")
        scope = self.scope or default_scope(self.interface)
        object.__setattr__(self, "scope", word(SCOPES, number(SCOPES, scope, "address scope")))
        flags = frozenset(self.flags)
        bits(ADDRESS_FLAGS, (f if f != "temporary" else "secondary" for f in flags), "address flag")
        object.__setattr__(self, "flags", flags)
        if isinstance(self.index, bool) or not isinstance(self.index, int) or self.index < 0:
            raise ConfigError(f"invalid ifindex {self.index!r}: use a number 0 or more")

    @property
    def kernel_made(self) -> bool:
        """An IPv6 link-local address (fe80::/10): the kernel gives every IPv6 link one of its own."""
        return self.interface.version == 6 and self.interface.ip.is_link_local

    @classmethod
    def parse(cls, text: str, *, dev: str | None = None) -> Address:
        """An address from ``ADDRESS[/PREFIX] [dev NAME] [scope SCOPE] [FLAG...]``, as ``str()`` writes it.

        ``dev`` names the link when the text does not; without a prefix the
        address stands alone (/32, /128).
        """
        if not isinstance(text, str):
            raise ConfigError(f"invalid address {text!r}: {_USAGE}")
        words = text.split()
        if not words:
            raise ConfigError(f"invalid address {text!r}: it is empty; {_USAGE}")
        interface = _interface(words[0])
        scope = ""
        flags = []
        rest = iter(words[1:])
        for key in rest:
            if key in ("dev", "scope"):
                value = next(rest, None)
                if value is None:
                    raise ConfigError(f"invalid address {text!r}: {key} needs a value")
                if key == "dev":
                    if dev is not None and value != dev:
                        raise ConfigError(f"address {text!r} is on {value}, not {dev}")
                    dev = value
                else:
                    scope = value
            elif key in _FLAG_WORDS or re.fullmatch(r"0x[0-9a-f]+", key):
                flags.append(key)
            else:
                raise ConfigError(
                    f"invalid address {text!r}: {key!r} is not dev NAME, scope SCOPE or a flag "
                    f"({', '.join(_FLAG_WORDS)})"
                )
        return cls(interface, dev=dev, scope=scope, flags=frozenset(flags))

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """The address without its prefix."""
        return self.interface.ip

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        """The network the prefix makes of it."""
        return self.interface.network

    @property
    def prefixlen(self) -> int:
        """The prefix length."""
        return self.interface.network.prefixlen

    @property
    def family(self) -> Literal["ipv4", "ipv6"]:
        """``ipv4`` or ``ipv6``."""
        return "ipv4" if self.interface.version == 4 else "ipv6"

    def __str__(self) -> str:
        parts = [str(self.interface)]
        if self.dev is not None:
            parts += ["dev", self.dev]
        parts += ["scope", self.scope]
        order = {name: rank for rank, name in enumerate(_FLAG_WORDS)}
        parts += sorted(self.flags, key=lambda flag: (order.get(flag, len(order)), flag))
        return " ".join(parts)
