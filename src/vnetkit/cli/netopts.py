"""The options the ``ns``, ``link``, ``addr`` and ``route`` commands share, and the root-namespace guard.

Owns: ``--netns``, ``--json`` and ``--root``, accepted on each group and on
each command (the command's value wins, as for ``vnetkit ipt``); ``NetGroup``
and ``NetCommand``, the click classes that add them; ``NetOptions``, the
merged result, which hands out clients and decides where a command that
changes something may act. Without ``--netns`` a changing command would act
on the root namespace, which carries the host's own traffic: it is refused
unless ``--root`` is given right there, and so is a ``--netns`` name that is
only the root namespace under another name.
Does not own: validating values beyond their type (the API does that),
running anything, or output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from vnetkit.cli.env import Env
from vnetkit.errors import OperationError
from vnetkit.exec.netlink import NetlinkBackend
from vnetkit.exec.runner import validate_netns_name
from vnetkit.links import Links
from vnetkit.links.namespaces import Namespaces

__all__ = ["NetCommand", "NetGroup", "NetOptions", "net_options"]

_META_KEY = "vnetkit.net.options"
_NAMES = ("netns", "as_json", "root")
_ROOT_HELP = (
    "Act on the root network namespace (the host's own). Changing commands refuse it without this flag."
)


@dataclass(frozen=True, slots=True)
class NetOptions:
    """The shared options after merging the groups' and the command's."""

    env: Env
    netns: str | None = None
    json: bool = False
    root: bool = False

    @property
    def backend(self) -> NetlinkBackend | None:
        """The netlink backend the Env gives (None: the process-wide one)."""
        return self.env.netlink

    def namespaces(self) -> Namespaces:
        """The namespace manager the Env gives (default: the real one)."""
        return self.env.namespaces if self.env.namespaces is not None else Namespaces()

    def links(self, netns: str | None = None) -> Links:
        """A client for ``netns`` (reading: no guard; use :meth:`target` before changing)."""
        return Links(netns, backend=self.backend)

    def guard(self, netns: str | None, action: str) -> str | None:
        """``netns`` if ``action`` may change it; refuses the root namespace unless ``--root``."""
        if self.root:
            return netns
        if netns is None:
            raise OperationError(
                f"{action}: refusing to change the root network namespace (the host's own); "
                "give --netns NAME, or --root if that is really meant"
            )
        if self.namespaces().is_root(netns):
            raise OperationError(
                f"{action}: network namespace {netns!r} is the root namespace under another name; "
                "refusing without --root"
            )
        return netns

    def target(self, action: str) -> str | None:
        """The namespace a changing command works in: ``--netns``, or the root one with ``--root``."""
        return self.guard(self.netns, action)


def _params(*, root: bool) -> list[click.Parameter]:
    params: list[click.Parameter] = [
        click.Option(["--netns"], metavar="NAME", default=None, help="Work inside network namespace NAME."),
        click.Option(
            ["--json", "as_json"], is_flag=True, default=False, help="Print machine-readable JSON on stdout."
        ),
    ]
    if root:
        params.append(click.Option(["--root"], is_flag=True, default=False, help=_ROOT_HELP))
    return params


def _merge(ctx: click.Context, own: dict[str, Any]) -> NetOptions:
    """Walk from the command up through its groups; the nearest value given wins, flags add up."""
    values = dict(own)
    parent = ctx.parent
    while parent is not None:
        for name in _NAMES:
            if values.get(name) in (None, False) and parent.params.get(name) not in (None, False):
                values[name] = parent.params[name]
        parent = parent.parent
    netns = values.get("netns")
    if netns is not None:
        validate_netns_name(netns)
        if values.get("root"):
            raise click.UsageError("give --netns NAME or --root, not both", ctx=ctx)
    return NetOptions(
        env=ctx.find_object(Env) or Env.with_runner(),
        netns=netns,
        json=bool(values.get("as_json")),
        root=bool(values.get("root")),
    )


class NetCommand(click.Command):
    """A command that takes ``--netns`` and ``--json`` (and ``--root`` when it changes things)."""

    def __init__(self, *args: Any, changes: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_params(root=changes))

    def invoke(self, ctx: click.Context) -> Any:
        own = {name: ctx.params.pop(name, None) for name in _NAMES}
        ctx.meta[_META_KEY] = _merge(ctx, own)
        return super().invoke(ctx)


class NetGroup(click.Group):
    """A group whose commands are ``NetCommand``s; it takes the shared options too."""

    command_class = NetCommand

    def __init__(self, *args: Any, changes: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_params(root=changes))


def net_options(ctx: click.Context) -> NetOptions:
    """The merged options of the running command."""
    found = ctx.meta.get(_META_KEY)
    if not isinstance(found, NetOptions):
        raise click.UsageError("this command must run under a vnetkit group", ctx=ctx)
    return found
