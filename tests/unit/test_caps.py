"""``parse_version`` and the feature thresholds go-iptables uses."""

from __future__ import annotations

import dataclasses

import pytest

from vnetkit.errors import ParseError
from vnetkit.iptables.caps import Capabilities, blank_opt_column, parse_version


@pytest.mark.parametrize(
    ("text", "version", "backend"),
    [
        ("iptables v1.8.9 (nf_tables)\n", (1, 8, 9), "nft"),
        ("iptables v1.8.9 (legacy)\n", (1, 8, 9), "legacy"),
        ("ip6tables v1.8.7 (nf_tables)\n", (1, 8, 7), "nft"),
        ("iptables v1.8.10 (nf_tables)\n", (1, 8, 10), "nft"),
        ("iptables-legacy v1.8.4 (legacy)", (1, 8, 4), "legacy"),
        ("iptables v1.6.1\n", (1, 6, 1), "legacy"),
        ("iptables v1.4.21\n", (1, 4, 21), "legacy"),
    ],
)
def test_parse_version(text: str, version: tuple[int, int, int], backend: str) -> None:
    caps = parse_version(text)
    assert caps.version == version
    assert caps.backend == backend


@pytest.mark.parametrize(
    "text",
    ["", "\n", "iptables", "iptables v1.8", "iptables 1.8.9", "bash: iptables: command not found", "v.1.2"],
)
def test_garbage_is_a_parse_error(text: str) -> None:
    with pytest.raises(ParseError, match="cannot read an iptables version") as info:
        parse_version(text)
    assert info.value.source == "iptables --version"


@pytest.mark.parametrize(
    ("version", "wait", "wait_seconds", "random_fully"),
    [
        ((1, 4, 19), False, False, False),
        ((1, 4, 20), True, False, False),
        ((1, 4, 21), True, False, False),
        ((1, 4, 22), True, True, False),
        ((1, 6, 1), True, True, False),
        ((1, 6, 2), True, True, True),
        ((1, 8, 9), True, True, True),
        ((2, 0, 0), True, True, True),
        ((1, 3, 99), False, False, False),
    ],
)
def test_feature_thresholds(
    version: tuple[int, int, int], wait: bool, wait_seconds: bool, random_fully: bool
) -> None:
    caps = Capabilities(version, "legacy")
    assert (caps.has_wait, caps.has_wait_seconds, caps.has_random_fully) == (wait, wait_seconds, random_fully)


def test_thresholds_do_not_depend_on_backend() -> None:
    for version in ((1, 4, 20), (1, 6, 2)):
        nft, legacy = Capabilities(version, "nft"), Capabilities(version, "legacy")
        assert (nft.has_wait, nft.has_wait_seconds, nft.has_random_fully) == (
            legacy.has_wait,
            legacy.has_wait_seconds,
            legacy.has_random_fully,
        )


def test_capabilities_are_frozen() -> None:
    caps = parse_version("iptables v1.8.9 (nf_tables)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        caps.backend = "legacy"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("version", "protocol", "blank"),
    [
        ((1, 8, 8), "ipv6", True),
        ((1, 8, 7), "ipv6", True),
        ((1, 6, 1), "ipv6", True),
        ((1, 4, 21), "ipv6", True),
        ((1, 8, 9), "ipv6", False),
        ((1, 8, 10), "ipv6", False),
        ((2, 0, 0), "ipv6", False),
        ((1, 8, 8), "ipv4", False),
        ((1, 4, 21), "ipv4", False),
        ((1, 8, 9), "ipv4", False),
    ],
)
def test_blank_opt_column(version: tuple[int, int, int], protocol: str, blank: bool) -> None:
    # ip6tables printed a blank opt column until 1.8.9; iptables never did.
    assert blank_opt_column(version, protocol) is blank
