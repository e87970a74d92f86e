"""An iptables rule as a value: what it matches and where it sends a packet.

Owns: ``Rule`` and its parts (``Match``, ``Option``, ``Target``) and
``Counters``. Values are kept as iptables prints them (strings such as
``"10.0.0.0/8"`` or ``"RELATED,ESTABLISHED"``) so a rule read from
iptables-save renders back byte for byte. Does not own: reading or writing
text (``vnetkit.iptables.rules``) or canonical forms
(``vnetkit.iptables.canonical``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Counters", "Match", "Option", "Rule", "Target"]


@dataclass(frozen=True, slots=True)
class Counters:
    """Packet and byte counters of a rule or a chain policy."""

    packets: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class Option:
    """One option of a match or target: ``! --dport 22`` is ``Option("--dport", ("22",), negated=True)``."""

    name: str
    values: tuple[str, ...] = ()
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """A match extension and its options, in order: ``-m tcp --dport 22``."""

    name: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True, slots=True)
class Target:
    """Where a matching packet goes: a verdict, an extension target or a chain.

    ``goto=True`` is ``-g CHAIN`` (return to the caller's caller) rather than ``-j``.
    """

    name: str
    options: tuple[Option, ...] = ()
    goto: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule, without its chain or position.

    The address, interface and protocol fields hold the text given (or printed
    by iptables); ``fragment`` is True for ``-f``, False for ``! -f``, None when
    absent. ``target`` None is a rule that only counts.
    """

    source: str | None = None
    source_negated: bool = False
    destination: str | None = None
    destination_negated: bool = False
    in_interface: str | None = None
    in_interface_negated: bool = False
    out_interface: str | None = None
    out_interface_negated: bool = False
    protocol: str | None = None
    protocol_negated: bool = False
    fragment: bool | None = None
    matches: tuple[Match, ...] = ()
    target: Target | None = None

    def match(self, name: str) -> Match | None:
        """The first match named ``name`` (``"tcp"``, ``"comment"``...), if any."""
        for item in self.matches:
            if item.name == name:
                return item
        return None
