"""Integration fixtures: an IPTables client per backend and protocol, in a fresh namespace."""

from __future__ import annotations

import pytest

from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration

COMBOS = [("nft", "ipv4"), ("nft", "ipv6"), ("legacy", "ipv4"), ("legacy", "ipv6")]


@pytest.fixture(params=COMBOS, ids=[f"{b}-{p}" for b, p in COMBOS])
def ipt(request: pytest.FixtureRequest, netns: str) -> IPTables:
    """An IPTables client bound to this test's own namespace, for each backend and protocol."""
    backend, protocol = request.param
    return IPTables(protocol, backend=backend, netns=netns)
