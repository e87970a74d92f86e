"""The options every ``vnetkit ipt`` command shares, accepted on the group and on each command.

Owns: ``-t/--table``, ``-6``, ``--backend``, ``--netns``, ``--json`` and
``--timeout``; ``IptCommand``, the click command class that adds them to
every ``ipt`` command; and ``IptOptions``, the merged result (a value given to
the command wins over one given to the group, so both
``vnetkit ipt -t nat list`` and ``vnetkit ipt list -t nat`` work).
Does not own: validating values beyond their type (the API does that) or
running anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

import click

from vnetkit.cli.env import Env
from vnetkit.iptables import TABLES, BackendChoice, IPTables, Protocol

__all__ = ["IptCommand", "IptOptions", "common_params", "options_of"]

_META_KEY = "vnetkit.ipt.options"
_NAMES = ("table", "ipv6", "backend", "netns", "as_json", "timeout")


@dataclass(frozen=True, slots=True)
class IptOptions:
    """The common options after merging the group's and the command's."""

    env: Env
    table: str = "filter"
    protocol: Protocol = "ipv4"
    backend: BackendChoice = "auto"
    netns: str | None = None
    json: bool = False
    timeout: float | None = None

    def client(self) -> IPTables:
        """A client for these options (this runs ``iptables --version`` once)."""
        return self.env.make_iptables(
            self.protocol, backend=self.backend, netns=self.netns, timeout=self.timeout
        )


def common_params() -> list[click.Parameter]:
    """Fresh click parameters for the shared options; None means "not given here"."""
    return [
        click.Option(
            ["-t", "--table"],
            type=click.Choice(TABLES),
            default=None,
            help="Table to work on.  [default: filter]",
        ),
        click.Option(
            ["-6", "ipv6"], is_flag=True, default=False, help="Use ip6tables (IPv6) instead of iptables."
        ),
        click.Option(
            ["--backend"],
            type=click.Choice(get_args(BackendChoice)),
            default=None,
            help="iptables backend: auto (what the system uses), nft or legacy.  [default: auto]",
        ),
        click.Option(["--netns"], metavar="NAME", default=None, help="Work inside network namespace NAME."),
        click.Option(
            ["--json", "as_json"], is_flag=True, default=False, help="Print machine-readable JSON on stdout."
        ),
        click.Option(
            ["--timeout"],
            metavar="SECONDS",
            type=click.FloatRange(min=0),
            default=None,
            help="Wait at most SECONDS for the xtables lock (default: as long as it takes).",
        ),
    ]


def _merge(env: Env, group: dict[str, Any], own: dict[str, Any]) -> IptOptions:
    def pick(name: str) -> Any:
        value = own.get(name)
        return value if value is not None else group.get(name)

    return IptOptions(
        env=env,
        table=pick("table") or "filter",
        # Flags cannot say "not given": either place turns them on.
        protocol="ipv6" if own.get("ipv6") or group.get("ipv6") else "ipv4",
        backend=pick("backend") or "auto",
        netns=pick("netns"),
        json=bool(own.get("as_json") or group.get("as_json")),
        timeout=pick("timeout"),
    )


class IptCommand(click.Command):
    """A command of ``vnetkit ipt``: takes the shared options and merges them with the group's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(common_params())

    def invoke(self, ctx: click.Context) -> Any:
        own = {name: ctx.params.pop(name, None) for name in _NAMES}
        group: dict[str, Any] = ctx.parent.params if ctx.parent is not None else {}
        ctx.meta[_META_KEY] = _merge(ctx.find_object(Env) or Env.with_runner(), group, own)
        return super().invoke(ctx)


def options_of(ctx: click.Context) -> IptOptions:
    """The merged options of the running ``ipt`` command."""
    found = ctx.meta.get(_META_KEY)
    if not isinstance(found, IptOptions):
        raise click.UsageError("this command must run under 'vnetkit ipt'", ctx=ctx)
    return found
