"""The ``vnetkit`` command: top-level group, ``main(argv) -> int`` and the console entry point.

Owns: the one place where failures become exit statuses and a single stderr
line ``vnetkit: <message>``: 0 ok; 1 when the system refused
(``OperationError``, ``UnsupportedError`` and other vnetkit errors); 2 for bad
input (``ConfigError``, click usage errors). ``main`` never raises and never
prints a traceback. Does not own: the commands (``ipt``) or output (``render``).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import ClassVar

import click

from vnetkit import __version__
from vnetkit.cli import (
    ipt_ruleset,  # noqa: F401 - registers save/restore/apply/diff on ipt
    link_add,  # noqa: F401 - registers link add KIND on link
    render,
)
from vnetkit.cli.addr import addr
from vnetkit.cli.env import Env
from vnetkit.cli.ipt import ipt
from vnetkit.cli.link import link
from vnetkit.cli.ns import ns
from vnetkit.cli.route import route
from vnetkit.errors import ConfigError, RuleError, TopologyError, VnetkitError
from vnetkit.exec import Runner

__all__ = ["EXIT_BAD_INPUT", "EXIT_OK", "EXIT_REFUSED", "cli", "main", "run"]

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
_EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


class _Commands(click.Group):
    """The top-level group; ``lab`` (pydantic, the topology package) is imported only when asked for."""

    _LAZY: ClassVar[dict[str, tuple[str, str]]] = {
        "lab": ("vnetkit.cli.lab", "lab"),
        "trace": ("vnetkit.cli.trace", "trace"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self._LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._LAZY and cmd_name not in self.commands:
            module, attr = self._LAZY[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attr))
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vnetkit", message="%(prog)s %(version)s")
def cli() -> None:
    """vnetkit: build, firewall and explain Linux virtual networks.

    Results go to stdout (tables, or JSON with --json); errors go to stderr as
    one line. Exit status: 0 ok, 1 the system refused, 2 bad input.
    """


cli.add_command(ipt)
cli.add_command(ns)
cli.add_command(link)
cli.add_command(addr)
cli.add_command(route)


def _error_text(exc: VnetkitError) -> str:
    text = exc.message
    if isinstance(exc, RuleError | TopologyError) and exc.location:
        text += f" (at {exc.location})"
    if isinstance(exc, RuleError) and exc.choices:
        text += f" (choose from: {', '.join(exc.choices)})"
    return text


def _usage_text(exc: click.UsageError) -> str:
    text = exc.format_message()
    if exc.ctx is not None:
        text += f" (see '{exc.ctx.command_path} --help')"
    return text


def _quiet_broken_pipe() -> None:
    # The reader went away (``vnetkit ... | head``): stop writing, and keep
    # the interpreter from complaining when it flushes stdout at exit.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a descriptor (captured in tests)
        pass
    finally:
        os.close(devnull)


def _describe(exc: Exception) -> tuple[str, int]:
    """The stderr line and exit status for ``exc``."""
    if isinstance(exc, click.UsageError):
        return _usage_text(exc), EXIT_BAD_INPUT
    if isinstance(exc, click.ClickException):
        return exc.format_message(), exc.exit_code
    if isinstance(exc, click.Abort):
        return "interrupted", _EXIT_INTERRUPTED
    if isinstance(exc, ConfigError):
        return _error_text(exc), EXIT_BAD_INPUT
    if isinstance(exc, VnetkitError):
        return _error_text(exc), EXIT_REFUSED
    return f"internal error: {type(exc).__name__}: {exc} (please report this as a bug)", EXIT_REFUSED


def main(argv: Sequence[str] | None = None, *, runner: Runner | None = None, env: Env | None = None) -> int:
    """Run ``vnetkit`` with ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    ``runner`` is the Runner the iptables clients use (None: the real one);
    ``env`` replaces the whole environment, e.g. a custom client factory.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    obj = env if env is not None else Env.with_runner(runner)
    try:
        result = cli.main(args=args, prog_name="vnetkit", standalone_mode=False, obj=obj)
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # no subcommand given: the help is the answer
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        _quiet_broken_pipe()
        return EXIT_REFUSED
    except SystemExit as exc:  # click exits this way on EPIPE, even when not standalone
        return exc.code if isinstance(exc.code, int) else EXIT_REFUSED
    except Exception as exc:  # noqa: BLE001 - the promise is one line on stderr, never a traceback
        message, status = _describe(exc)
        render.diagnostic(message)
        return status
    return result if isinstance(result, int) else EXIT_OK


def run() -> None:
    """Console-script entry point: ``sys.exit(main())``."""
    sys.exit(main())
