"""The iptables-save format: parse a dump into a ``Ruleset``, render one back.

Owns: ``*table`` / ``:CHAIN POLICY [P:B]`` / ``-A ...`` / ``COMMIT`` structure,
counters in both forms (``[P:B] -A ...`` and ``-c P B``), comment lines. A
real dump renders back byte for byte (tests/golden/save proves it on dumps of
both backends). Pure: no I/O.
"""

from __future__ import annotations

import gc

from vnetkit.errors import ParseError, VnetkitError
from vnetkit.iptables.rules import parse_rule_line, render_line
from vnetkit.model import Chain, Counters, Entry, Ruleset, Table

__all__ = ["parse_save", "render_save"]


def _counters(text: str, where: str, number: int) -> Counters:
    packets, sep, nbytes = text.removeprefix("[").removesuffix("]").partition(":")
    if not (
        sep and packets.isdecimal() and nbytes.isdecimal() and text.startswith("[") and text.endswith("]")
    ):
        raise ParseError(f"bad counters {text!r}", source=where, line=number)
    return Counters(int(packets), int(nbytes))


def parse_save(text: str, *, source: str = "iptables-save") -> Ruleset:
    """Read a dump as ``iptables-save`` (with or without ``-c``) prints it.

    Raises ``ParseError`` with the line number for anything that is not the
    format: a rule outside a table, a missing COMMIT, a malformed rule.
    """
    # Tens of thousands of small acyclic objects: the cyclic collector would
    # rescan them over and over (it doubled the time on 100k rules).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_save(text, source)
    finally:
        if was_enabled:
            gc.enable()


def _parse_save(text: str, source: str) -> Ruleset:  # noqa: PLR0912 - one line kind per branch
    tables: list[Table] = []
    pending: list[str] = []
    name: str | None = None
    chains: list[Chain] = []
    entries: list[Entry] = []
    number = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line or line.startswith("#"):
            if line:
                pending.append(line)
            continue
        head = line[0]
        if head in "-[":
            if name is None:
                raise ParseError(f"a rule outside any table: {line!r}", source=source, line=number)
            try:
                chain, rule, counters = parse_rule_line(line)
            except VnetkitError as exc:
                raise ParseError(f"{exc}", source=source, line=number) from None
            entry = Entry(chain, rule, counters)
            object.__setattr__(entry, "source", line)  # the render cache; see Entry
            entries.append(entry)
        elif head == ":":
            if name is None:
                raise ParseError(f"a chain outside any table: {line!r}", source=source, line=number)
            parts = line[1:].split()
            if len(parts) not in (2, 3):
                raise ParseError(f"expected ':CHAIN POLICY [P:B]': {line!r}", source=source, line=number)
            policy = None if parts[1] == "-" else parts[1]
            counters = _counters(parts[2], source, number) if len(parts) == 3 else None
            chains.append(Chain(parts[0], policy, counters))
        elif head == "*":
            if name is not None:
                raise ParseError(f"table {name} has no COMMIT before {line!r}", source=source, line=number)
            name = line[1:].strip()
            if not name:
                raise ParseError("a table without a name", source=source, line=number)
        elif line == "COMMIT":
            if name is None:
                raise ParseError("COMMIT outside any table", source=source, line=number)
            tables.append(Table(name, tuple(chains), tuple(entries), tuple(pending)))
            name, chains, entries, pending = None, [], [], []
        else:
            raise ParseError(f"unexpected line {line!r}", source=source, line=number)
    if name is not None:
        raise ParseError(f"table {name} has no COMMIT", source=source, line=number)
    return Ruleset(tuple(tables), tuple(pending))


def render_save(ruleset: Ruleset) -> str:
    """The ruleset in iptables-save format; what :func:`parse_save` read comes back byte for byte."""
    out: list[str] = []
    for table in ruleset.tables:
        out.extend(table.comments)
        out.append(f"*{table.name}")
        for chain in table.chains:
            counters = chain.counters
            tail = "" if counters is None else f" [{counters.packets}:{counters.bytes}]"
            out.append(f":{chain.name} {chain.policy or '-'}{tail}")
        out.extend(
            entry.source if entry.source is not None else render_line(entry.chain, entry.rule, entry.counters)
            for entry in table.rules
        )
        out.append("COMMIT")
    out.extend(ruleset.trailer)
    return "\n".join(out) + "\n" if out else ""
