"""Labs with the other link kinds: vxlan over an underlay, macvlan, macvtap (this kernel), vlan and ipvlan
(the VM tier), each applied, planned again to nothing, checked with packets, and taken down.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vnetkit.errors import ApplyError, UnsupportedError
from vnetkit.exec import netns as _netns
from vnetkit.exec.host import Host
from vnetkit.topology import lab as labs
from vnetkit.topology.check import run_checks
from vnetkit.topology.ledger import Ledgers
from vnetkit.topology.load import load_data
from vnetkit.topology.resolve import resolve

_COUNT = iter(range(10_000))


@pytest.fixture
def host() -> Iterator[Host]:
    with Host() as h:
        yield h


@pytest.fixture
def ledgers(tmp_path: Path) -> Ledgers:
    return Ledgers(str(tmp_path / "labs"))


def _run(data: dict[str, Any], host: Host, ledgers: Ledgers) -> None:
    """Up, nothing left to plan, every check as expected, down, nothing left."""
    spec = resolve(load_data(data))
    try:
        labs.up(spec, host=host, ledgers=ledgers)
        assert not labs.plan(spec, host=host, ledgers=ledgers)[0]
        report = run_checks(spec, host=host)
        assert report.ok, [r.to_json() for r in report.failed]
    finally:
        labs.down(spec.name, host=host, ledgers=ledgers)
    assert [n for n in _netns.list_names() if n.startswith(f"vnk-{spec.name}-")] == []


def _name() -> str:
    return f"k{os.getpid() % 100000}x{next(_COUNT)}"


def test_vxlan_over_an_underlay(host: Host, ledgers: Ledgers) -> None:
    # Two sites joined by a routed underlay; a VXLAN segment (vni 42) over it carries 10.42.0.0/24.
    data = {
        "name": _name(),
        "nodes": {
            "a": {
                "interfaces": {
                    "eth0": {"addresses": ["192.0.2.1/24"]},
                    "vx0": {
                        "kind": "vxlan",
                        "vni": 42,
                        "remote": "192.0.2.2",
                        "local": "192.0.2.1",
                        "underlay": "eth0",
                        "addresses": ["10.42.0.1/24"],
                        "mtu": 1450,
                    },
                }
            },
            "b": {
                "interfaces": {
                    "eth0": {"addresses": ["192.0.2.2/24"]},
                    "vx0": {
                        "kind": "vxlan",
                        "vni": 42,
                        "remote": "192.0.2.1",
                        "local": "192.0.2.2",
                        "underlay": "eth0",
                        "addresses": ["10.42.0.2/24"],
                        "mtu": 1450,
                    },
                }
            },
        },
        "links": [{"endpoints": ["a:eth0", "b:eth0"]}],
        "checks": [
            {"from": "a", "to": "10.42.0.2", "proto": "icmp", "expect": "pass"},
            {"from": "b", "to": "10.42.0.1", "proto": "tcp", "port": 5000, "expect": "pass"},
        ],
    }
    _run(data, host, ledgers)


def test_macvlan_and_macvtap_on_a_bridge_port(host: Host, ledgers: Ledgers) -> None:
    data = {
        "name": _name(),
        "nodes": {
            "sw": {"interfaces": {"eth0": {"addresses": ["10.7.0.1/24"]}}},
            "h": {
                "interfaces": {
                    "eth0": {},
                    "mv0": {
                        "kind": "macvlan",
                        "lower": "eth0",
                        "mode": "bridge",
                        "addresses": ["10.7.0.2/24"],
                    },
                    "mt0": {"kind": "macvtap", "lower": "eth0", "mode": "bridge"},
                }
            },
        },
        "links": [{"endpoints": ["sw:eth0", "h:eth0"]}],
        "checks": [{"from": "sw", "to": "10.7.0.2", "proto": "icmp", "expect": "pass"}],
    }
    _run(data, host, ledgers)


def _vlan_lab() -> dict[str, Any]:
    return {
        "name": _name(),
        "nodes": {
            "a": {
                "interfaces": {
                    "eth0": {},
                    "eth0.10": {"kind": "vlan", "lower": "eth0", "id": 10, "addresses": ["10.10.0.1/24"]},
                }
            },
            "b": {
                "interfaces": {
                    "eth0": {},
                    "eth0.10": {"kind": "vlan", "lower": "eth0", "id": 10, "addresses": ["10.10.0.2/24"]},
                }
            },
        },
        "links": [{"endpoints": ["a:eth0", "b:eth0"]}],
        "checks": [{"from": "a", "to": "10.10.0.2", "proto": "icmp", "expect": "pass"}],
    }


@pytest.mark.kernel_vm("vlan")
def test_vlan(host: Host, ledgers: Ledgers) -> None:
    _run(_vlan_lab(), host, ledgers)


@pytest.mark.kernel_vm("ipvlan")
def test_ipvlan(host: Host, ledgers: Ledgers) -> None:
    data = {
        "name": _name(),
        "nodes": {
            "a": {"interfaces": {"eth0": {"addresses": ["10.11.0.1/24"]}}},
            "b": {
                "interfaces": {
                    "eth0": {},
                    "ipv0": {"kind": "ipvlan", "lower": "eth0", "mode": "l2", "addresses": ["10.11.0.2/24"]},
                }
            },
        },
        "links": [{"endpoints": ["a:eth0", "b:eth0"]}],
        "checks": [{"from": "a", "to": "10.11.0.2", "proto": "icmp", "expect": "pass"}],
    }
    _run(data, host, ledgers)


def test_a_kind_this_kernel_lacks_is_refused_and_undone(host: Host, ledgers: Ledgers) -> None:
    spec = resolve(load_data(_vlan_lab()))
    if _has_vlan():
        labs.up(spec, host=host, ledgers=ledgers)  # a kernel with vlan (the VM tier): it simply works
        labs.down(spec.name, host=host, ledgers=ledgers)
        return
    with pytest.raises(ApplyError, match="vlan") as caught:  # no 802.1Q here: everything is undone
        labs.up(spec, host=host, ledgers=ledgers)
    assert isinstance(caught.value.__cause__, ApplyError | UnsupportedError)
    assert [n for n in _netns.list_names() if n.startswith(f"vnk-{spec.name}-")] == []
    assert ledgers.labs() == []


def _has_vlan() -> bool:
    return os.path.exists("/proc/net/vlan") or os.path.exists("/sys/module/8021q")
