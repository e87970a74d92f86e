"""``vnetkit ipt save|restore|apply|diff``: whole rulesets and desired state from the command line.

Owns: the syntax of those four commands and reading their FILE argument
(``-`` is standard input). A file that does not parse is bad input (exit 2)
with its name and line. Does not own: the formats (``iptables.savefile``,
``iptables.sync``) or the work (``IPTables.save/restore/sync``).
"""

from __future__ import annotations

import sys

import click

from vnetkit.cli import render
from vnetkit.cli.ipt import ipt
from vnetkit.cli.options import options_of
from vnetkit.errors import ConfigError, ParseError
from vnetkit.iptables.savefile import parse_save, render_save
from vnetkit.iptables.sync import Desired, desired_from_save
from vnetkit.model import Ruleset

__all__ = ["apply", "diff", "restore", "save"]

_DESIRED_HELP = (
    "FILE is in iptables-save format. Chains whose names start with PREFIX are "
    "owned: after apply they hold exactly the file's rules. Rules the file puts "
    "in other chains (INPUT, PREROUTING...) are jumps to owned chains that must "
    "exist. Nothing else is touched; applying the same file twice changes nothing."
)


def _read(path: str) -> tuple[str, str]:
    """The text of FILE (``-`` for stdin) and the name to quote in errors."""
    if path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(), path
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None


def _parse(path: str) -> Ruleset:
    text, name = _read(path)
    try:
        return parse_save(text, source=name)
    except ParseError as exc:
        raise ConfigError(f"{name}:{exc.line}: {exc}") from None


def _desired(path: str, prefix: str) -> Desired:
    text, name = _read(path)
    try:
        return desired_from_save(text, prefix=prefix, source=name)
    except ParseError as exc:
        raise ConfigError(f"{name}:{exc.line}: {exc}") from None


@ipt.command("save")
@click.option("--counters", "-c", is_flag=True, help="Include packet and byte counters.")
@click.option("--only-table", is_flag=True, help="Only the table given with -t (default: every table).")
@click.pass_context
def save(ctx: click.Context, counters: bool, only_table: bool) -> None:
    """Print the ruleset in iptables-save format (redirect it to a file to keep it).

    `vnetkit ipt save > /etc/iptables/rules.v4` writes what
    `iptables-restore` (and `vnetkit ipt restore`) reads back at boot.
    """
    opts = options_of(ctx)
    ruleset = opts.client().save(counters=counters, table=opts.table if only_table else None)
    if opts.json:
        render.emit_json(render.ruleset_as_dict(ruleset))
    else:
        click.echo(render_save(ruleset), nl=False)


@ipt.command("restore")
@click.argument("file", metavar="FILE")
@click.option("--noflush", "-n", is_flag=True, help="Add to the tables instead of replacing them.")
@click.option("--counters", "-c", is_flag=True, help="Set the counters from the file.")
@click.pass_context
def restore(ctx: click.Context, file: str, noflush: bool, counters: bool) -> None:
    """Load FILE (iptables-save format, '-' for stdin); each table in it is replaced unless --noflush."""
    ruleset = _parse(file)
    options_of(ctx).client().restore(ruleset, flush=not noflush, counters=counters)


def _changes(ctx: click.Context, file: str, prefix: str, *, dry_run: bool) -> None:
    opts = options_of(ctx)
    plan = opts.client().sync(_desired(file, prefix), dry_run=dry_run)
    if opts.json:
        render.emit_json(
            {
                "applied": bool(plan) and not dry_run,
                "changes": [
                    {"action": c.action, "table": c.table, "chain": c.chain, "rule": c.rule}
                    for c in plan.changes
                ],
            }
        )
    else:
        render.changes(plan.changes, applied=not dry_run)


@ipt.command("apply", epilog=_DESIRED_HELP)
@click.argument("file", metavar="FILE")
@click.option("--prefix", default="VNK-", show_default=True, help="Chains with this prefix are ours.")
@click.option("--dry-run", is_flag=True, help="Show the changes without making them (same as diff).")
@click.pass_context
def apply(ctx: click.Context, file: str, prefix: str, dry_run: bool) -> None:
    """Make the owned chains and jumps look exactly as FILE says, in one transaction."""
    _changes(ctx, file, prefix, dry_run=dry_run)


@ipt.command("diff", epilog=_DESIRED_HELP)
@click.argument("file", metavar="FILE")
@click.option("--prefix", default="VNK-", show_default=True, help="Chains with this prefix are ours.")
@click.pass_context
def diff(ctx: click.Context, file: str, prefix: str) -> None:
    """Show what `apply FILE` would change; change nothing."""
    _changes(ctx, file, prefix, dry_run=True)
