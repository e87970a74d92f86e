"""``vnetkit.trace.take`` against the kernel: it reads what the tools print, in a constant number of calls.

Each test builds its own namespace (veth pair, addresses, routes in main and
table 100, policy rules, an ipset, iptables rules) with ``ip -n`` and ``ip
netns exec``; nothing touches the root namespace.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import pytest

from vnetkit.exec.host import Host
from vnetkit.exec.netlink import Netlink
from vnetkit.exec.runner import Completed, Input, Runner
from vnetkit.iptables import BackendChoice
from vnetkit.trace import Snapshot, sysctl_argv, take

BACKENDS: list[BackendChoice] = ["nft", "legacy"]


def _sh(*argv: str, stdin: str | None = None) -> str:
    done = subprocess.run(argv, check=False, capture_output=True, text=True, input=stdin)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def _in(netns: str, *argv: str, stdin: str | None = None) -> str:
    return _sh("ip", "netns", "exec", netns, *argv, stdin=stdin)


def _build(netns: str, backend: str) -> None:
    batch = """\
link add v0 type veth peer name v1
link set v0 up
link set v1 up
address add 10.0.0.1/24 dev v0
address add 2001:db8::1/64 dev v0 nodad
address add 10.0.1.1/24 dev v1
route add 10.9.0.0/16 via 10.0.0.254 dev v0 metric 50
route add default via 10.0.0.254 dev v0 table 100
route add 2001:db8:5::/48 via 2001:db8::fe dev v0
rule add from 10.0.1.0/24 table 100 priority 1000
rule add fwmark 0x10/0xff iif v1 lookup 100 priority 1001
"""
    _sh("ip", "-n", netns, "-batch", "-", stdin=batch)
    _sh("ip", "-n", netns, "-6", "rule", "add", "to", "2001:db8:7::/48", "table", "100", "priority", "2000")
    _in(
        netns,
        "ipset",
        "restore",
        stdin="create blk hash:ip family inet\nadd blk 192.0.2.7\nadd blk 192.0.2.9\n",
    )
    rules4 = (
        "*filter\n-A INPUT -m set --match-set blk src -j DROP\nCOMMIT\n"
        "*nat\n-A POSTROUTING -o v0 -j MASQUERADE\nCOMMIT\n"
    )
    _in(netns, f"iptables-{backend}-restore", stdin=rules4)
    _in(netns, f"ip6tables-{backend}-restore", stdin="*filter\n-A FORWARD -i v1 -j ACCEPT\nCOMMIT\n")


def _loaded(netns: str, backend: str) -> Snapshot:
    names = [
        entry.split(":")[1].strip().split("@")[0] for entry in _in(netns, "ip", "-o", "link").splitlines()
    ]
    return Snapshot.load(
        rules4=_in(netns, f"iptables-{backend}-save"),
        rules6=_in(netns, f"ip6tables-{backend}-save"),
        addr_json=_in(netns, "ip", "-d", "-j", "addr"),
        route_json=_in(netns, "ip", "-j", "route", "show", "table", "all"),
        rule_json=_in(netns, "ip", "-j", "rule"),
        rule6_json=_in(netns, "ip", "-j", "-6", "rule"),
        ipsets=_in(netns, "ipset", "save"),
        sysctls=_in(netns, *sysctl_argv(names)),
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_take_equals_load_of_the_tools_output(netns: str, backend: BackendChoice) -> None:
    _build(netns, backend)
    with Host() as host:
        live = take(netns, host=host, backend=backend)
    saved = _loaded(netns, backend)

    assert live == saved
    assert {i.name for i in live.interfaces} == {"lo", "v0", "v1"}
    assert live.interface("v0").kind == "veth"
    assert live.interface("v0").up
    assert [str(r) for r in live.routes_of(100)] == ["default via 10.0.0.254 dev v0 table 100"]
    assert any(r.type == "local" and str(r.dst) == "10.0.0.1/32" for r in live.routes_of(255))
    marked = next(rule for rule in live.rules if rule.priority == 1001)
    assert (marked.fwmark, marked.fwmask, marked.iif, marked.table) == (0x10, 0xFF, "v1", 100)
    assert any(rule.family == "ipv6" and rule.priority == 2000 for rule in live.rules)
    assert live.ipsets["blk"].members == {"192.0.2.7", "192.0.2.9"}
    assert live.sysctls["net.ipv4.ip_forward"] == "0"
    assert "net.ipv4.conf.v1.rp_filter" in live.sysctls
    assert live.rules4 is not None
    assert live.rules4.table("nat") is not None
    assert live.rules6 is not None
    assert live.rules6.table("filter") is not None


class _CountingRunner:
    def __init__(self, inner: Runner) -> None:
        self.inner, self.calls = inner, 0

    def run(self, argv: Sequence[str], *, netns: str | None = None, input: Input = None) -> Completed:
        self.calls += 1
        return self.inner.run(argv, netns=netns, input=input)

    def lock(self, netns: str | None = None) -> AbstractContextManager[None]:
        return self.inner.lock(netns)

    def scratch(self) -> AbstractContextManager[Runner]:
        return self.inner.scratch()


class _CountingNetlink:
    def __init__(self, inner: Netlink) -> None:
        self.inner, self.calls = inner, 0

    def exchange(self, netns: str | None, action: str, msg: Any, msg_type: int, flags: int) -> list[bytes]:
        self.calls += 1
        return self.inner.exchange(netns, action, msg, msg_type, flags)


def _calls(netns: str, host: Host) -> tuple[int, int, int]:
    runner, netlink = _CountingRunner(host.runner), _CountingNetlink(host.netlink)
    snapshot = take(netns, host=host, backend="nft", runner=runner, netlink=netlink)
    return runner.calls, netlink.calls, len(snapshot.interfaces)


def test_take_makes_as_many_calls_for_200_interfaces_as_for_10(netns_factory: Any) -> None:
    small, large = netns_factory(), netns_factory()
    for netns, pairs in ((small, 5), (large, 100)):
        lines = [
            f"link add a{n} type veth peer name b{n}\naddress add 10.{n}.0.1/24 dev a{n}"
            for n in range(pairs)
        ]
        _sh("ip", "-n", netns, "-batch", "-", stdin="\n".join(lines) + "\n")
    with Host() as host:
        take(small, host=host, backend="nft")  # the iptables clients' one-time version probes
        few, many = _calls(small, host), _calls(large, host)
    assert few[2] == 11
    assert many[2] == 201
    assert few[:2] == many[:2]
    # six programs, and the two iptables version probes (asked every time of a runner not the host's)
    assert few[0] == 8
    assert few[1] == 5
