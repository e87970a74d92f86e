"""pytest fixtures: each test gets its own network namespace, always deleted.

Fixtures: ``netns`` (name of a fresh namespace, ``lo`` up) and
``netns_factory`` (call it for more namespaces in one test). After each test
the plugin checks that the namespaces it made are gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from vnetkit.exec import netns as _netns
from vnetkit.testing import scratch_netns


@pytest.fixture
def netns_factory() -> Iterator[Callable[[], str]]:
    """Make as many fresh namespaces as the test needs; all deleted afterwards."""
    made: list[str] = []
    with ExitStack() as stack:

        def make() -> str:
            name = stack.enter_context(scratch_netns())
            made.append(name)
            return name

        yield make
    leaked = [name for name in made if _netns.exists(name)]
    if leaked:
        pytest.fail(f"network namespaces left behind: {leaked}")


@pytest.fixture
def netns(netns_factory: Callable[[], str]) -> str:
    """The name of a fresh network namespace for this test (``lo`` up)."""
    return netns_factory()
