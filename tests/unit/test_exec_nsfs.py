"""The system access the links split moved to exec/: namespace files and sysctl keys, read only.

Nothing is created or changed: a namespace that does not exist is looked
up (one message, ``NotFound``), the caller's own namespace is compared
with itself, and sysctl keys are checked before any file is opened.
"""

from __future__ import annotations

import pytest

from vnetkit.errors import ConfigError, NotFound
from vnetkit.exec import nsfs, sysctl
from vnetkit.testing import unique_name


def test_a_missing_namespace_is_one_not_found_message() -> None:
    name = unique_name()
    message = f"network namespace {name!r} does not exist"
    assert str(nsfs.missing(name)) == message
    with pytest.raises(NotFound) as caught:
        nsfs.open_fd(name)
    assert str(caught.value) == message
    with pytest.raises(NotFound, match="does not exist"), nsfs.fd(name):
        pass
    assert nsfs.identity(name) is None
    assert nsfs.is_root(name) is False


def test_the_callers_own_namespace() -> None:
    assert nsfs.path(None) == nsfs.SELF
    assert nsfs.identity(None) is not None
    with nsfs.fd(None) as fd:
        assert fd >= 0


def test_bad_namespace_names_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        nsfs.open_fd("a/b")


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("net.ipv4.ip_forward", "/proc/sys/net/ipv4/ip_forward"),
        ("net/ipv4/conf/eth0.10/rp_filter", "/proc/sys/net/ipv4/conf/eth0.10/rp_filter"),
    ],
)
def test_sysctl_keys(key: str, path: str) -> None:
    assert sysctl.path(key) == path


@pytest.mark.parametrize("key", ["kernel.hostname", "net", "net.ipv4", "net.ipv4..x", "net/../kernel/x", ""])
def test_only_per_namespace_net_keys(key: str) -> None:
    with pytest.raises(ConfigError, match=r"net\.ipv4\.ip_forward"):
        sysctl.path(key)
