"""Differential tier fixtures: the lab A - R - B in three namespaces of the test's own, always deleted.

``make test`` runs the bounded part (``VNETKIT_DIFF_PROBES`` unset: 60 probes
per backend and family); ``make test-diff`` the long run (1,000 or more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.diff.probe import Lab


@pytest.fixture
def lab(netns_factory: Callable[[], str]) -> Iterator[Lab]:
    """A built lab (veths, R's addresses, routes, neighbours); sockets closed, namespaces deleted after."""
    made = Lab(netns_factory(), netns_factory(), netns_factory())
    try:
        made.build()
        yield made
    finally:
        made.close()
