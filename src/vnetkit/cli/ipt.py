"""``vnetkit ipt``: the iptables commands, one click command per verb of the API.

Owns: the argv syntax of each command (what is an argument, where the rule
starts), which ``IPTables`` method it calls, and which renderer prints the
result. Everything after CHAIN (and POS for ``insert``) is the rule, passed
to iptables untouched, so vnetkit's own options go before CHAIN.
Does not own: what a verb means (``vnetkit.iptables``) or how output looks
(``render``).
"""

from __future__ import annotations

import click

from vnetkit.cli import render
from vnetkit.cli.options import IptCommand, common_params, options_of

__all__ = ["ipt"]

# Rule commands: options are read only up to CHAIN; the rest (``-s``, ``-j``,
# even ``--help``) belongs to the rule.
_RULE_SETTINGS = {"ignore_unknown_options": True, "allow_interspersed_args": False}
_RULE_EPILOG = (
    "RULE is everything after CHAIN, as iptables takes it, e.g. "
    "'-s 192.0.2.1 -p tcp --dport 22 -j DROP'. Options of vnetkit itself "
    "(--json, -t, --unique, ...) go before CHAIN."
)


class _IptGroup(click.Group):
    command_class = IptCommand


@click.group(cls=_IptGroup, params=common_params())
def ipt(**_: object) -> None:
    """Manage iptables rules and chains (IPv4 or IPv6, nft or legacy backend).

    The common options (-t, -6, --backend, --netns, --json, --timeout) may be
    given here or to each command; the command's value wins.
    """


@ipt.command("list")
@click.argument("chain", required=False)
@click.option("--counters", is_flag=True, help="Show [packets:bytes] in front of each line.")
@click.pass_context
def list_(ctx: click.Context, chain: str | None, counters: bool) -> None:
    """List the rules of CHAIN (default: of every chain of the table) as iptables -S prints them."""
    opts = options_of(ctx)
    client = opts.client()
    if chain is not None:
        verb = client.list_with_counters if counters else client.list
        result = [(chain, verb(opts.table, chain))]
    else:
        result = list(client.list_table(opts.table, counters=counters).items())
    if opts.json:
        render.emit_json([{"table": opts.table, "chain": name, "lines": lines} for name, lines in result])
    else:
        render.listing(opts.table, result)


@ipt.command("stats")
@click.argument("chain")
@click.pass_context
def stats(ctx: click.Context, chain: str) -> None:
    """Show the packet and byte counters and the columns of each rule in CHAIN."""
    opts = options_of(ctx)
    rows = opts.client().structured_stats(opts.table, chain)
    if opts.json:
        render.emit_json([render.stat_as_dict(row) for row in rows])
    else:
        render.stats(opts.table, chain, rows)


@ipt.command("chains")
@click.pass_context
def chains(ctx: click.Context) -> None:
    """List the chains of the table: built-in first, then user chains."""
    opts = options_of(ctx)
    names = opts.client().list_chains(opts.table)
    if opts.json:
        render.emit_json(names)
    else:
        render.chains(opts.table, names)


@ipt.command("append", context_settings=_RULE_SETTINGS, epilog=_RULE_EPILOG)
@click.option("--unique", is_flag=True, help="Do nothing if the rule is already in the chain.")
@click.argument("chain")
@click.argument("rule", nargs=-1, type=click.UNPROCESSED, required=True)
@click.pass_context
def append(ctx: click.Context, unique: bool, chain: str, rule: tuple[str, ...]) -> None:
    """Append RULE to the end of CHAIN (iptables -A)."""
    opts = options_of(ctx)
    client = opts.client()
    verb = client.append_unique if unique else client.append
    verb(opts.table, chain, *rule)


def _position_and_rule(rule: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    first = rule[0] if rule else ""
    if first.isascii() and first.isdigit():
        return int(first), rule[1:]
    return 1, rule


@ipt.command("insert", context_settings=_RULE_SETTINGS, epilog=_RULE_EPILOG)
@click.option("--unique", is_flag=True, help="Do nothing if the rule is already in the chain.")
@click.argument("chain")
@click.argument("rule", nargs=-1, type=click.UNPROCESSED, required=True, metavar="[POS] RULE...")
@click.pass_context
def insert(ctx: click.Context, unique: bool, chain: str, rule: tuple[str, ...]) -> None:
    """Insert RULE into CHAIN at position POS (iptables -I); POS is optional and defaults to 1."""
    pos, spec = _position_and_rule(rule)
    if not spec:
        raise click.UsageError("Missing RULE after the position.", ctx=ctx)
    opts = options_of(ctx)
    client = opts.client()
    verb = client.insert_unique if unique else client.insert
    verb(opts.table, chain, pos, *spec)


def _trailing_id(rule: tuple[str, ...]) -> str | None:
    """The N of ``CHAIN --id N`` (or ``--id=N``), when that is all that follows CHAIN."""
    if len(rule) == 2 and rule[0] == "--id":
        return rule[1]
    if len(rule) == 1 and rule[0].startswith("--id="):
        return rule[0].removeprefix("--id=")
    return None


@ipt.command(
    "delete", context_settings=_RULE_SETTINGS, epilog=_RULE_EPILOG + " Only --id N may also follow CHAIN."
)
@click.option("--id", "rule_id", type=int, metavar="N", help="Delete rule number N (1 is the first).")
@click.option("--if-exists", is_flag=True, help="Succeed when the rule is not there (or the chain).")
@click.argument("chain")
@click.argument("rule", nargs=-1, type=click.UNPROCESSED, metavar="(RULE... | --id N)")
@click.pass_context
def delete(
    ctx: click.Context, rule_id: int | None, if_exists: bool, chain: str, rule: tuple[str, ...]
) -> None:
    """Delete the first rule of CHAIN matching RULE, or rule number N (iptables -D)."""
    trailing = _trailing_id(rule)
    if trailing is not None and rule_id is None:
        try:
            rule_id = int(trailing)
        except ValueError:
            raise click.BadParameter(f"{trailing!r} is not a number.", ctx=ctx, param_hint="'--id'") from None
        rule = ()
    if rule_id is not None and rule:
        raise click.UsageError("Give either RULE or --id N, not both.", ctx=ctx)
    if rule_id is None and not rule:
        raise click.UsageError("Missing RULE (or --id N).", ctx=ctx)
    if rule_id is not None and if_exists:
        raise click.UsageError("--if-exists applies to RULE, not to --id.", ctx=ctx)
    opts = options_of(ctx)
    client = opts.client()
    if rule_id is not None:
        client.delete_by_id(opts.table, chain, rule_id)
    elif if_exists:
        client.delete_if_exists(opts.table, chain, *rule)
    else:
        client.delete(opts.table, chain, *rule)


@ipt.command("exists", context_settings=_RULE_SETTINGS, epilog=_RULE_EPILOG)
@click.argument("chain")
@click.argument("rule", nargs=-1, type=click.UNPROCESSED, required=True)
@click.pass_context
def exists(ctx: click.Context, chain: str, rule: tuple[str, ...]) -> None:
    """Say whether RULE is in CHAIN (iptables -C): exit 0 and 'yes' if so, exit 1 and 'no' if not."""
    opts = options_of(ctx)
    found = opts.client().exists(opts.table, chain, *rule)
    if opts.json:
        render.emit_json({"exists": found})
    else:
        render.yes_no(found)
    if not found:
        ctx.exit(1)


@ipt.command("new-chain")
@click.argument("chain")
@click.pass_context
def new_chain(ctx: click.Context, chain: str) -> None:
    """Create the user chain CHAIN (iptables -N)."""
    opts = options_of(ctx)
    opts.client().new_chain(opts.table, chain)


@ipt.command("flush")
@click.argument("chain", required=False)
@click.pass_context
def flush(ctx: click.Context, chain: str | None) -> None:
    """Delete every rule of CHAIN, or of every chain of the table when CHAIN is left out (iptables -F)."""
    opts = options_of(ctx)
    client = opts.client()
    if chain is None:
        client.clear_all(opts.table)
    else:
        client.flush_chain(opts.table, chain)


@ipt.command("delete-chain")
@click.argument("chain")
@click.pass_context
def delete_chain(ctx: click.Context, chain: str) -> None:
    """Delete the empty, unreferenced user chain CHAIN (iptables -X)."""
    opts = options_of(ctx)
    opts.client().delete_chain(opts.table, chain)


@ipt.command("rename-chain")
@click.argument("old")
@click.argument("new")
@click.pass_context
def rename_chain(ctx: click.Context, old: str, new: str) -> None:
    """Rename the user chain OLD to NEW (iptables -E)."""
    opts = options_of(ctx)
    opts.client().rename_chain(opts.table, old, new)


@ipt.command("policy")
@click.argument("chain")
@click.argument("target")
@click.pass_context
def policy(ctx: click.Context, chain: str, target: str) -> None:
    """Set the policy of the built-in CHAIN to TARGET, ACCEPT or DROP (iptables -P)."""
    opts = options_of(ctx)
    opts.client().change_policy(opts.table, chain, target)


@ipt.command("recover")
@click.option(
    "--discard",
    is_flag=True,
    help="Drop the journal and leave the tables as they are (when undoing keeps failing).",
)
@click.pass_context
def recover(ctx: click.Context, discard: bool) -> None:
    """Undo a transaction over several tables that a killed vnetkit process left half done.

    Every vnetkit change to the namespace does this first; this command does
    only this. It covers IPv4 and IPv6 and both backends (-6, --backend and
    -t do not narrow it). Exit 0 when there was nothing to do or it was undone.
    """
    opts = options_of(ctx)
    done = opts.client().recover(discard=discard)
    if opts.json:
        render.emit_json({"recovered": [recovery.as_dict() for recovery in done]})
    else:
        for recovery in done:
            click.echo(recovery.describe())
        if not done:
            click.echo("nothing to recover")
