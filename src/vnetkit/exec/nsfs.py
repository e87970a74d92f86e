"""Namespace files: ``/run/netns/NAME`` and ``/proc/self/ns/net``, opened, compared, and missed.

Owns: the one error for a named namespace that is not there
(``missing``: "network namespace X does not exist", ``NotFound``),
opening a namespace's file as a descriptor (``open_fd``, ``fd``; a
permission problem is ``PermissionDenied``), telling two names of one
namespace apart from two namespaces (``identity``), and whether a name is
the root namespace under another name (``is_root``).
Does not own: entering namespaces or their lifetime (``runner``, ``netns``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from vnetkit.errors import NotFound, PermissionDenied
from vnetkit.exec.runner import netns_path

__all__ = ["INIT", "SELF", "fd", "identity", "is_root", "missing", "open_fd", "path"]

SELF = "/proc/self/ns/net"
"""The caller's own network namespace."""

INIT = "/proc/1/ns/net"
"""PID 1's network namespace (the root one, seen from a process that moved)."""

Identity = tuple[int, int]  # (st_dev, st_ino) of the namespace's nsfs file


def missing(name: str | None) -> NotFound:
    """The error for network namespace ``name`` not existing (raise it)."""
    return NotFound(f"network namespace {name!r} does not exist")


def path(netns: str | None) -> str:
    """The file of ``netns`` (None: the caller's own namespace)."""
    return SELF if netns is None else netns_path(netns)


def open_fd(netns: str | None) -> int:
    """A read-only descriptor of ``netns`` (close it); ``NotFound`` if it does not exist."""
    try:
        return os.open(path(netns), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise missing(netns) from None
    except PermissionError:
        raise PermissionDenied(f"open network namespace {netns!r}: permission denied (run as root)") from None


@contextmanager
def fd(netns: str | None) -> Iterator[int]:
    """A descriptor of ``netns`` for the ``with`` block; ``NotFound`` if it does not exist."""
    handle = open_fd(netns)
    try:
        yield handle
    finally:
        os.close(handle)


def identity(netns: str | None) -> Identity | None:
    """What tells ``netns`` apart from every other namespace; None if it does not exist."""
    try:
        st = os.stat(path(netns))
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def is_root(name: str) -> bool:
    """True if namespace ``name`` is the caller's own (or PID 1's) under another name."""
    mine = identity(name)
    if mine is None:
        return False
    for other in (SELF, INIT):
        try:
            st = os.stat(other)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == mine:
            return True
    return False
