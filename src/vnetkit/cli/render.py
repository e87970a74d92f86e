"""How results look: rich tables for people, JSON for programs, one-line diagnostics.

Owns: turning values the API returned (rule lines, chain names, ``Stat``)
into text on stdout, and error lines on stderr. Every table cell is a
``rich.text.Text``, so rule text such as ``--comment "[x]"`` is never read as
rich markup. Does not own: calling the API or deciding exit codes.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from collections.abc import Sequence

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from vnetkit.iptables import Stat
from vnetkit.iptables.rules import render_line
from vnetkit.iptables.sync import Change
from vnetkit.model import Counters, Ruleset

__all__ = [
    "Listing",
    "chains",
    "changes",
    "diagnostic",
    "emit_json",
    "listing",
    "ruleset_as_dict",
    "stat_as_dict",
    "stats",
    "yes_no",
]

# One chain of ``list``: its name and the lines the API returned for it.
Listing = tuple[str, list[str]]

_PIPE_WIDTH = 1000
_STATS_COLUMNS = ("#", "pkts", "bytes", "target", "prot", "opt", "in", "out", "source", "destination")


def _table(title: str) -> Table:
    # No vertical rules, so a rule line copied from the table is clean;
    # min_width keeps rich from wrapping a title wider than a narrow table.
    return Table(title=Text(title), title_justify="left", min_width=len(title), box=box.SIMPLE_HEAD)


def _console() -> Console:
    # Made per call so it writes to whatever sys.stdout is now (tests swap it).
    console = Console(file=sys.stdout, highlight=False, markup=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # A pipe has no width: keep each row on one line for grep and friends.
        console.width = _PIPE_WIDTH
    return console


def emit_json(data: object) -> None:
    """Print ``data`` as JSON on stdout."""
    click.echo(json.dumps(data, indent=2))


def diagnostic(message: str) -> None:
    """Print ``vnetkit: <message>`` on stderr, as one line whatever ``message`` holds."""
    text = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"vnetkit: {text}", err=True)


def yes_no(answer: bool) -> None:
    """Print ``yes`` or ``no``."""
    click.echo("yes" if answer else "no")


def listing(table: str, chains: Sequence[Listing]) -> None:
    """One table per chain: its ``-P``/``-N`` line, then the rules numbered from 1."""
    console = _console()
    for name, lines in chains:
        out = _table(f"{name} ({table})")
        out.add_column("#", justify="right")
        out.add_column("rule", overflow="fold")
        # ``-S CHAIN`` always starts with the chain's own -P or -N line.
        for number, line in enumerate(lines):
            out.add_row(Text(str(number) if number else ""), Text(line))
        console.print(out)


def chains(table: str, names: Sequence[str]) -> None:
    """The chain names of ``table``, one per row."""
    out = _table(f"chains ({table})")
    out.add_column("chain")
    for name in names:
        out.add_row(Text(name))
    _console().print(out)


def _negated(text: str, negated: bool) -> str:
    return f"!{text}" if negated else text


def stats(table: str, chain: str, rows: Sequence[Stat]) -> None:
    """Counters and columns of each rule, as ``iptables -L -v -n -x`` shows them."""
    out = _table(f"{chain} ({table})")
    out.collapse_padding = True  # eleven columns: one space between them, not two
    for name in _STATS_COLUMNS:
        # On a narrow terminal addresses and options fold; short columns keep their words.
        numeric = name in ("#", "pkts", "bytes")
        folds = name in ("source", "destination")
        out.add_column(name, justify="right" if numeric else "left", no_wrap=not folds, overflow="fold")
    out.add_column("options", overflow="fold")
    for number, stat in enumerate(rows, start=1):
        cells = (
            str(number),
            str(stat.packets),
            str(stat.bytes),
            stat.target,
            stat.protocol,
            stat.opt,
            _negated(stat.input, stat.input_negated),
            _negated(stat.output, stat.output_negated),
            _negated(str(stat.source), stat.source_negated),
            _negated(str(stat.destination), stat.destination_negated),
            stat.options,
        )
        out.add_row(*(Text(cell) for cell in cells))
    _console().print(out)


def _plain(value: object) -> object:
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    return value


def stat_as_dict(stat: Stat) -> dict[str, object]:
    """Every field of ``stat`` under its own name; networks as ``"192.0.2.0/24"`` strings."""
    return {name: _plain(value) for name, value in stat._asdict().items()}


def _counts(counters: Counters | None) -> dict[str, int] | None:
    return None if counters is None else {"packets": counters.packets, "bytes": counters.bytes}


def ruleset_as_dict(ruleset: Ruleset) -> dict[str, object]:
    """A ruleset for ``--json``: tables, their chains (policy, counters) and rules as save lines."""
    return {
        "tables": [
            {
                "name": table.name,
                "chains": [
                    {"name": c.name, "policy": c.policy, "counters": _counts(c.counters)}
                    for c in table.chains
                ],
                "rules": [
                    {"chain": e.chain, "rule": render_line(e.chain, e.rule), "counters": _counts(e.counters)}
                    for e in table.rules
                ],
            }
            for table in ruleset.tables
        ]
    }


_SIGNS = {"add": "+", "remove": "-", "create": "+", "delete": "-"}


def changes(items: Sequence[Change], *, applied: bool) -> None:
    """A sync plan, one line per change: ``+ filter VNK-WEB -A VNK-WEB ...``; a summary line last."""
    for change in items:
        what = change.rule or f"chain {change.chain}"
        click.echo(f"{_SIGNS.get(change.action, '?')} {change.table:<8} {what}")
    verb = "applied" if applied else "to apply"
    click.echo(f"{len(items)} change(s) {verb}" if items else "in sync: nothing to change")
