"""A bridge port's hairpin mode on the real kernel: set, read back, planned, and seen in the datapath.

Each test works in namespaces of its own (``netns`` / ``netns_factory``),
never in the root namespace, and nothing is connected to the root
namespace. What ``Links`` reports is checked against ``ip -d link show``
(iproute2 prints ``hairpin on|off`` for a bridge port) run in the same
namespace, and against the bridge itself: with the mode on, a broadcast
frame a port sends is flooded back out of that port. The same sequence on
``FakeNetlink`` reads back the same.
"""

from __future__ import annotations

import re
import socket
import struct
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from vnetkit.errors import OperationError
from vnetkit.exec.fake_netlink import FakeNetlink
from vnetkit.exec.host import Host
from vnetkit.links import Bridge, Link, Links, LinkSpec, Veth, execute, plan_links

pytestmark = pytest.mark.integration

_ETH_P_LOCAL = 0x88B5  # IEEE 802 local experimental ethertype: nothing else in the namespace speaks it
_PACKET_BROADCAST = 1


def _ip_hairpin(netns: str, name: str) -> str | None:
    """``on``/``off`` as ``ip -d link show`` prints it for a bridge port; None when it prints none."""
    out = subprocess.run(
        ["ip", "-n", netns, "-d", "link", "show", "dev", name], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\bhairpin (on|off)\b", out)
    return found.group(1) if found else None


def test_set_hairpin_reads_back_as_iproute2_shows_it(netns: str) -> None:
    with Host() as host:
        links = Links(netns, host=host)
        links.add(Bridge(name="br0"))
        links.add(Bridge(name="br1"))
        links.add(Veth(name="v1", peer="v2", master="br0"))
        assert links.get("v1").hairpin is False
        assert _ip_hairpin(netns, "v1") == "off"
        links.set_hairpin("v1", True)
        assert links.get("v1").hairpin is True
        assert _ip_hairpin(netns, "v1") == "on"
        assert {lk.name: lk.hairpin for lk in links.list()}["v1"] is True  # the dump says it too
        links.set_hairpin("v1", False)
        assert links.get("v1").hairpin is False
        assert _ip_hairpin(netns, "v1") == "off"

        # not a bridge port: no mode, and setting one is refused by name
        assert links.get("v2").hairpin is None
        assert links.get("br0").hairpin is None
        assert _ip_hairpin(netns, "v2") is None
        with pytest.raises(
            OperationError, match=f"set hairpin on of v2 in netns {netns}: v2 is not a bridge port"
        ):
            links.set_hairpin("v2", True)

        # the mode belongs to the port: another bridge, or none, and it is gone
        links.set_hairpin("v1", True)
        links.set_master("v1", "br1")
        assert links.get("v1").hairpin is False
        assert _ip_hairpin(netns, "v1") == "off"
        links.set_hairpin("v1", True)
        links.set_nomaster("v1")
        assert links.get("v1").hairpin is None


def test_add_makes_the_port_with_the_mode_on(netns: str) -> None:
    with Host() as host:
        links = Links(netns, host=host)
        links.add(Bridge(name="br0"))
        links.add(Veth(name="v1", peer="v2", master="br0", hairpin=True))
        links.add(Veth(name="v3", peer="v4", master="br0", hairpin=False))
        assert (links.get("v1").hairpin, _ip_hairpin(netns, "v1")) == (True, "on")
        assert (links.get("v3").hairpin, _ip_hairpin(netns, "v3")) == (False, "off")


def _flooded_back(host: Host, netns: str, ifname: str, mac: str) -> bool:
    """Whether a broadcast frame sent from ``ifname`` in ``netns`` comes back in on it (within 1 s)."""
    payload = b"vnetkit hairpin probe " + netns.encode()

    def probe() -> bool:
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_LOCAL)) as sock:
            sock.bind((ifname, _ETH_P_LOCAL))
            source = bytes.fromhex(mac.replace(":", ""))
            # A socket does not see its own frames leave: one it receives came in from the wire.
            sock.send(b"\xff" * 6 + source + struct.pack("!H", _ETH_P_LOCAL) + payload)
            deadline = time.monotonic() + 1.0
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data, address = sock.recvfrom(2048)
                except TimeoutError:
                    return False
                if payload in data and address[2] == _PACKET_BROADCAST:
                    return True
            return False

    return host.runner.call_in(netns, probe)


def _observed(host: Host, *names: str) -> dict[str | None, list[Link]]:
    return {name: Links(name, host=host).list() for name in names}


def test_plan_execute_turns_it_on_and_the_bridge_floods_back(netns_factory: Callable[[], str]) -> None:
    hostns, c1 = netns_factory(), netns_factory()
    with Host() as host:
        # The Docker shape: the host end is the port (made in the host's namespace), eth0 in the container.
        port = Veth(name="vethab12cd3", peer="eth0", peer_netns=c1, master="docker0")
        desired: dict[str | None, list[LinkSpec]] = {hostns: [Bridge(name="docker0"), port], c1: []}
        execute(plan_links(desired, _observed(host, hostns, c1)), host=host)
        links, container = Links(hostns, host=host), Links(c1, host=host)
        eth0 = container.get("eth0")
        assert links.get("vethab12cd3").hairpin is False
        assert eth0.hairpin is None
        assert eth0.mac is not None
        assert not _flooded_back(host, c1, "eth0", eth0.mac)

        desired[hostns] = [
            Bridge(name="docker0"),
            Veth(name="vethab12cd3", peer="eth0", peer_netns=c1, master="docker0", hairpin=True),
        ]
        plan = plan_links(desired, _observed(host, hostns, c1))
        assert plan.lines() == [f"set hairpin on of vethab12cd3 in netns {hostns}"]
        execute(plan, host=host)
        assert links.get("vethab12cd3").hairpin is True
        assert _ip_hairpin(hostns, "vethab12cd3") == "on"
        assert not plan_links(desired, _observed(host, hostns, c1))  # converged
        assert _flooded_back(host, c1, "eth0", eth0.mac)


def test_a_port_created_by_a_plan_has_it_from_the_start(netns_factory: Callable[[], str]) -> None:
    hostns, c1 = netns_factory(), netns_factory()
    with Host() as host:
        desired: dict[str | None, list[LinkSpec]] = {
            hostns: [
                Bridge(name="docker0"),
                Veth(name="vethx", peer="eth0", peer_netns=c1, master="docker0", hairpin=True),
            ],
            c1: [],
        }
        plan = plan_links(desired, _observed(host, hostns, c1))
        assert (
            plan.lines()[-1]
            == f"create veth vethx in netns {hostns} (peer eth0 in {c1}, master docker0, hairpin on)"
        )
        execute(plan, host=host)
        assert _ip_hairpin(hostns, "vethx") == "on"
        assert not plan_links(desired, _observed(host, hostns, c1))


def _sequence(links: Links) -> list[tuple[str, Any, Any]]:
    """Hairpin on, off, moved, released; what each link reads back after each step."""
    seen: list[tuple[str, Any, Any]] = []

    def read(step: str) -> None:
        seen.extend((step, lk.name, (lk.master, lk.hairpin)) for lk in links.list())
        seen.extend((step, lk.name, (lk.master, lk.hairpin)) for lk in (links.get("p1"), links.get("q1")))

    links.add(Bridge(name="br0"))
    links.add(Bridge(name="br1"))
    links.add(Veth(name="p1", peer="p2", master="br0", hairpin=True))
    links.add(Veth(name="q1", peer="q2", master="br0"))
    read("made")
    links.set_hairpin("q1", True)
    links.set_hairpin("p1", False)
    read("swapped")
    links.set_master("q1", "br1")
    links.set_nomaster("p1")
    read("moved")
    try:
        links.set_hairpin("p1", True)
    except OperationError as exc:
        seen.append(("refused", type(exc).__name__, str(exc)))
    return seen


def test_fake_netlink_reads_back_what_the_kernel_does(netns: str) -> None:
    with Host() as host:
        real = _sequence(Links(netns, host=host))
    fake = FakeNetlink()
    fake.add_namespace(netns)  # found by the same file the kernel's namespace has
    imitation = _sequence(Links(netns, backend=fake))
    assert imitation == real
    assert ("swapped", "q1", ("br0", True)) in real
    assert ("moved", "q1", ("br1", False)) in real
