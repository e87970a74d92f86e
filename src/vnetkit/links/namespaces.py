"""Named network namespaces as people use them: made, listed, entered, deleted, each with its own resolver.

Owns: ``Namespaces``: create, list and delete through ``exec.netns``, plus
``/etc/netns/<name>/resolv.conf``, which ``ip netns exec`` bind-mounts over
``/etc/resolv.conf`` inside the namespace. vnetkit writes that file with a
marker comment and no nameserver, so nothing run in the namespace reaches
the host's resolver, never overwrites one it did not write, and removes only
a file that carries its marker. Also running a program in a namespace in
the foreground (``ip netns exec``), and telling whether a name is the root
namespace under another name.
Does not own: namespace mechanics (``exec.netns``), namespace files or
writing files (``exec.nsfs``, ``exec.files``), or what lives inside.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence

from vnetkit.errors import AlreadyExists, ConfigError
from vnetkit.exec import files, nsfs
from vnetkit.exec import netns as _netns
from vnetkit.exec.foreground import run_foreground
from vnetkit.exec.runner import validate_netns_name

__all__ = ["ETC_NETNS", "Namespaces", "Spawn", "run_foreground"]

ETC_NETNS = "/etc/netns"

Spawn = Callable[[Sequence[str]], int]
"""Runs an argv in the foreground (inheriting stdin/stdout/stderr) and returns its exit status."""

Names = list[str]  # inside the class ``list`` is a verb


def _marker(name: str) -> str:
    return f"# vnetkit: resolv.conf of network namespace {name}\n"


def _resolv_text(name: str) -> str:
    return (
        f"{_marker(name)}"
        "# No nameserver on purpose: programs run in this namespace (ip netns exec)\n"
        "# do not reach the host's resolver. vnetkit deletes this file with the namespace.\n"
    )


class Namespaces:
    """Named network namespaces and their ``/etc/netns/<name>/resolv.conf``.

    ``etc_dir`` and ``spawn`` are for tests; the defaults are the real
    ``/etc/netns`` and a foreground child process.
    """

    def __init__(self, *, etc_dir: str = ETC_NETNS, spawn: Spawn | None = None) -> None:
        self._etc = etc_dir
        self._spawn = spawn if spawn is not None else run_foreground

    def list(self) -> Names:
        """Names of all named namespaces, sorted."""
        return _netns.list_names()

    def exists(self, name: str) -> bool:
        """True if namespace ``name`` exists."""
        return _netns.exists(validate_netns_name(name))

    def is_root(self, name: str) -> bool:
        """True if ``name`` is the caller's own (or PID 1's) namespace under another name."""
        return nsfs.is_root(validate_netns_name(name))

    def resolv_conf(self, name: str) -> str:
        """Path of the resolv.conf ``ip netns exec`` gives namespace ``name``."""
        return os.path.join(self._etc, validate_netns_name(name), "resolv.conf")

    def add(self, name: str) -> None:
        """Create namespace ``name`` (``lo`` up) with a resolver-less resolv.conf; all or nothing."""
        _netns.create(validate_netns_name(name))
        try:
            self.ensure_resolv_conf(name)
        except BaseException:
            _netns.delete(name)
            raise

    def ensure(self, name: str) -> bool:
        """Create namespace ``name`` unless it exists (its resolv.conf either way); True if created."""
        if not self.exists(name):
            try:
                self.add(name)
            except AlreadyExists:  # made meanwhile by someone else: theirs, and fine
                pass
            else:
                return True
        self.ensure_resolv_conf(name)
        return False

    def ensure_resolv_conf(self, name: str) -> bool:
        """Write vnetkit's resolv.conf for ``name`` unless one is there; True if written."""
        # One that is there is someone's own file (or ours): kept.
        return files.create_new(self.resolv_conf(name), _resolv_text(name))

    def remove_resolv_conf(self, name: str) -> bool:
        """Remove the resolv.conf of ``name`` if vnetkit wrote it, then its directory if empty."""
        path = self.resolv_conf(name)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                ours = handle.readline() == _marker(name)
        except FileNotFoundError:
            ours = False
        if ours:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):  # not empty: the rest is someone else's
                os.rmdir(os.path.dirname(path))
        return ours

    def delete(self, name: str) -> None:
        """Delete namespace ``name``, and only it, with the resolv.conf vnetkit wrote for it."""
        _netns.delete(validate_netns_name(name))
        self.remove_resolv_conf(name)

    def exec(self, name: str, argv: Sequence[str]) -> int:
        """Run ``argv`` in namespace ``name`` (``ip netns exec``) in the foreground; its exit status."""
        if not argv:
            raise ConfigError(f"run a program in network namespace {name!r}: no program given")
        if not self.exists(name):
            raise nsfs.missing(name)
        self.ensure_resolv_conf(name)
        return self._spawn(("ip", "netns", "exec", name, *argv))
