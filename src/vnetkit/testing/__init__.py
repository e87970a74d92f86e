"""Helpers for testing code that uses vnetkit: throwaway network namespaces.

``scratch_netns()`` is a context manager; the pytest plugin
(``vnetkit.testing.pytest_plugin``, loaded automatically once vnetkit is
installed) turns it into the ``netns`` fixture.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager

from vnetkit.exec import netns as _netns

__all__ = ["TEST_PREFIX", "scratch_netns", "unique_name"]

TEST_PREFIX = "vnktest-"
_counter = itertools.count(1)


def unique_name(prefix: str = TEST_PREFIX) -> str:
    """A namespace name no other process or test uses: prefix, pid, counter."""
    return f"{prefix}{os.getpid()}-{next(_counter)}"


@contextmanager
def scratch_netns(prefix: str = TEST_PREFIX) -> Iterator[str]:
    """Create a fresh network namespace (``lo`` up), yield its name, always delete it."""
    name = unique_name(prefix)
    _netns.create(name)
    try:
        yield name
    finally:
        _netns.delete(name)
