"""The one exception tree of vnetkit.

Owns: the error classes and their shared fields. Does not own: deciding which
class a failure belongs to; that happens once, in :mod:`vnetkit.exec`, the only
code that reads errno values or a tool's stderr.

Every error carries a message that says what was attempted on which object.
Errors that come from running a command also carry ``argv``, ``exit_status``
and ``stderr``; ``is_not_exist()`` mirrors go-iptables' ``IsNotExist``.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AlreadyExists",
    "ApplyError",
    "CannotDerive",
    "CommandError",
    "ConfigError",
    "HostDependent",
    "InUse",
    "LockTimeout",
    "MissingTool",
    "NotFound",
    "OperationError",
    "ParseError",
    "PermissionDenied",
    "RuleError",
    "TopologyError",
    "UnsupportedError",
    "VnetkitError",
]


class VnetkitError(Exception):
    """Base of every error vnetkit raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        argv: Sequence[str] | None = None,
        exit_status: int | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.argv: tuple[str, ...] | None = tuple(argv) if argv is not None else None
        self.exit_status = exit_status
        self.stderr = stderr

    def is_not_exist(self) -> bool:
        """True when the object asked for does not exist (go-iptables' IsNotExist)."""
        return isinstance(self, NotFound)

    def __str__(self) -> str:
        return self.message


class ConfigError(VnetkitError, ValueError):
    """Bad user input: a rule spec, a name, a file. The CLI exits 2."""


class RuleError(ConfigError):
    """An invalid rule, chain or table; ``choices`` lists what would be valid."""

    def __init__(
        self,
        message: str,
        *,
        location: str | None = None,
        choices: Sequence[str] = (),
        argv: Sequence[str] | None = None,
        exit_status: int | None = None,
        stderr: str | None = None,
    ) -> None:
        super().__init__(message, argv=argv, exit_status=exit_status, stderr=stderr)
        self.location = location
        self.choices = tuple(choices)


class HostDependent(RuleError):
    """A rule whose printed form depends on this host's files or NSS (a service, protocol,
    user or group name, a host name); ``canonical()`` answers it only when given a resolver."""


class TopologyError(ConfigError):
    """An invalid topology file; ``location`` is the YAML path or line."""

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.location = location


class ParseError(VnetkitError, ValueError):
    """Tool output (or a file) we could not read; says where."""

    def __init__(self, message: str, *, source: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.source = source
        self.line = line


class OperationError(VnetkitError):
    """The kernel or a tool refused what was asked. The CLI exits 1."""


class CommandError(OperationError):
    """A command failed for a reason with no more specific class."""


class NotFound(OperationError, LookupError):
    """A missing chain, rule, table, link or namespace."""


class AlreadyExists(OperationError):
    """The object to create is already there."""


class InUse(OperationError):
    """The object cannot go: a chain that still has rules or is referenced."""


class PermissionDenied(OperationError):
    """The caller lacks CAP_NET_ADMIN (run as root)."""


class LockTimeout(OperationError):
    """The xtables lock stayed held longer than the timeout."""


class UnsupportedError(VnetkitError):
    """The kernel or the installed tools lack a feature; names the alternative."""


class CannotDerive(UnsupportedError):
    """``canonical()`` does not model how iptables-save prints this rule (an extension or
    option it does not know); ``what`` names it. Not a guess and not a refusal: ask the
    tool instead (``vnetkit.iptables.fallback``)."""

    def __init__(self, message: str, *, what: str = "") -> None:
        super().__init__(message)
        self.what = what


class MissingTool(UnsupportedError):
    """A program vnetkit needs is not installed; says which package provides it."""


class ApplyError(VnetkitError):
    """A multi-step change failed part way: what completed, what failed, what was undone."""

    def __init__(
        self,
        message: str,
        *,
        completed: Sequence[str] = (),
        failed: str = "",
        rolled_back: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.completed = tuple(completed)
        self.failed = failed
        self.rolled_back = tuple(rolled_back)
