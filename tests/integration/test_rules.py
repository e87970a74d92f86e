"""Rule verbs on both backends, IPv4 and IPv6, each test in its own namespace."""

from __future__ import annotations

import socket

import pytest

from vnetkit.errors import NotFound, RuleError
from vnetkit.exec import default_runner
from vnetkit.iptables import IPTables

pytestmark = pytest.mark.integration

CHAIN = "VNK-R"


def addr(ipt: IPTables, n: int) -> str:
    """The n-th test source address of the client's family, as iptables prints it."""
    return f"192.0.2.{n}/32" if ipt.protocol == "ipv4" else f"2001:db8::{n:x}/128"


def rule(ipt: IPTables, n: int, target: str = "ACCEPT") -> tuple[str, ...]:
    return ("-s", addr(ipt, n), "-p", "tcp", "--dport", str(1000 + n), "-j", target)


def line(ipt: IPTables, n: int, target: str = "ACCEPT") -> str:
    return f"-A {CHAIN} -s {addr(ipt, n)} -p tcp -m tcp --dport {1000 + n} -j {target}"


def test_rule_lifecycle(ipt: IPTables) -> None:
    ipt.new_chain("filter", CHAIN)
    before = ipt.list("filter", CHAIN)
    assert before == [f"-N {CHAIN}"]

    ipt.append("filter", CHAIN, *rule(ipt, 1))
    ipt.append("filter", CHAIN, *rule(ipt, 2))
    ipt.append_unique("filter", CHAIN, *rule(ipt, 2))  # duplicate: no-op
    assert ipt.list("filter", CHAIN) == [before[0], line(ipt, 1), line(ipt, 2)]
    assert ipt.exists("filter", CHAIN, *rule(ipt, 2))
    assert not ipt.exists("filter", CHAIN, *rule(ipt, 3))

    ipt.insert("filter", CHAIN, 2, *rule(ipt, 3))
    ipt.insert_unique("filter", CHAIN, 1, *rule(ipt, 3))  # already there: no-op
    ipt.insert_unique("filter", CHAIN, 1, *rule(ipt, 4))
    assert ipt.list("filter", CHAIN)[1:] == [line(ipt, 4), line(ipt, 1), line(ipt, 3), line(ipt, 2)]

    ipt.replace("filter", CHAIN, 1, *rule(ipt, 4, "DROP"))
    assert ipt.list_by_id("filter", CHAIN, 1) == line(ipt, 4, "DROP")
    assert ipt.list_by_id("filter", CHAIN, 4) == line(ipt, 2)
    with pytest.raises(NotFound):
        ipt.list_by_id("filter", CHAIN, 5)

    ipt.delete("filter", CHAIN, *rule(ipt, 1))
    ipt.delete_by_id("filter", CHAIN, 1)
    assert ipt.list("filter", CHAIN)[1:] == [line(ipt, 3), line(ipt, 2)]
    with pytest.raises(NotFound):
        ipt.delete("filter", CHAIN, *rule(ipt, 1))
    with pytest.raises(NotFound):
        ipt.delete_by_id("filter", CHAIN, 3)

    ipt.delete_if_exists("filter", CHAIN, *rule(ipt, 3))
    ipt.delete_if_exists("filter", CHAIN, *rule(ipt, 3))
    ipt.delete_if_exists("filter", "VNK-MISSING", *rule(ipt, 3))
    assert ipt.list("filter", CHAIN)[1:] == [line(ipt, 2)]

    ipt.clear_and_delete_chain("filter", CHAIN)
    assert not ipt.chain_exists("filter", CHAIN)


def test_list_is_identical_on_both_backends(netns: str) -> None:
    spec = ("!", "-s", "192.0.2.0/24", "-i", "eth0", "-p", "udp", "--dport", "53", "-j", "RETURN")
    listings = []
    for backend in ("nft", "legacy"):
        ipt = IPTables(backend=backend, netns=netns)
        ipt.new_chain("filter", CHAIN)
        ipt.append("filter", CHAIN, *spec)
        ipt.append("filter", CHAIN, "-j", "DROP")
        listings.append((ipt.list("filter", CHAIN), ipt.list_with_counters("filter", CHAIN)))
        ipt.clear_and_delete_chain("filter", CHAIN)
    assert listings[0] == listings[1]
    assert listings[0][0] == [
        f"-N {CHAIN}",
        f"-A {CHAIN} ! -s 192.0.2.0/24 -i eth0 -p udp -m udp --dport 53 -j RETURN",
        f"-A {CHAIN} -j DROP",
    ]
    assert listings[0][1][1:] == [f"[0:0] {text}" for text in listings[0][0][1:]]


def test_comment_with_spaces(ipt: IPTables) -> None:
    spec = ("-p", "tcp", "--dport", "22", "-m", "comment", "--comment", "two words", "-j", "ACCEPT")
    ipt.new_chain("filter", CHAIN)
    ipt.append("filter", CHAIN, *spec)
    assert ipt.exists("filter", CHAIN, *spec)
    assert ipt.list("filter", CHAIN)[1] == (
        f'-A {CHAIN} -p tcp -m tcp --dport 22 -m comment --comment "two words" -j ACCEPT'
    )
    [stat] = ipt.structured_stats("filter", CHAIN)
    assert stat.options == "tcp dpt:22 /* two words */"
    ipt.append_unique("filter", CHAIN, *spec)
    assert len(ipt.list("filter", CHAIN)) == 2
    ipt.delete("filter", CHAIN, *spec)
    assert not ipt.exists("filter", CHAIN, *spec)
    assert ipt.list("filter", CHAIN) == [f"-N {CHAIN}"]


def test_structured_stats_negations_interfaces_and_options(ipt: IPTables) -> None:
    v4 = ipt.protocol == "ipv4"
    net = "192.0.2.0/24" if v4 else "2001:db8::/32"
    dst = "198.51.100.7" if v4 else "2001:db8:1::7"
    ipt.new_chain("filter", CHAIN)
    ipt.append("filter", CHAIN, "!", "-s", net, "-i", "eth0", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
    ipt.append("filter", CHAIN, "-d", dst, "!", "-o", "eth1", "-j", "DROP")
    ipt.append("filter", CHAIN, "-s", dst)  # no target: counts only
    rows = ipt.stats("filter", CHAIN)
    assert [len(row) for row in rows] == [10, 10, 10]
    first, second, third = ipt.structured_stats("filter", CHAIN)

    assert (first.packets, first.bytes, first.target) == (0, 0, "ACCEPT")
    assert str(first.source) == net
    assert first.source_negated
    assert first.input == "eth0"
    assert not first.input_negated
    assert first.output == "*"
    assert first.options == "tcp dpt:22"
    assert not first.destination_negated
    assert first.destination.prefixlen == 0

    assert second.target == "DROP"
    assert str(second.destination) == dst + ("/32" if v4 else "/128")
    assert second.output == "eth1"
    assert second.output_negated

    assert third.target == ""
    assert str(third.source) == dst + ("/32" if v4 else "/128")


def test_bad_rule_is_rule_error_and_changes_nothing(ipt: IPTables) -> None:
    ipt.new_chain("filter", CHAIN)
    with pytest.raises(RuleError) as err:
        ipt.append("filter", CHAIN, "-s", "300.1.1.1", "-j", "DROP")
    assert err.value.exit_status == 2
    with pytest.raises(RuleError):
        ipt.append("filter", CHAIN, "-j", "VNK-NO-SUCH-CHAIN")
    with pytest.raises(RuleError):
        ipt.append("bogus", CHAIN, "-j", "DROP")
    assert ipt.list("filter", CHAIN) == [f"-N {CHAIN}"]


def test_clear_all_and_delete_all(ipt: IPTables) -> None:
    for name in ("VNK-A", "VNK-B"):
        ipt.new_chain("filter", name)
        ipt.append("filter", name, "-j", "RETURN")
    ipt.new_chain("nat", "VNK-N")
    ipt.append("filter", "INPUT", "-j", "VNK-A")
    ipt.clear_all("filter")
    assert ipt.list("filter", "INPUT") == ["-P INPUT ACCEPT"]
    assert ipt.list("filter", "VNK-A") == ["-N VNK-A"]
    ipt.delete_all("filter")
    assert ipt.list_chains("filter") == ["INPUT", "FORWARD", "OUTPUT"]
    assert "VNK-N" in ipt.list_chains("nat")
    ipt.clear_all_tables()
    ipt.delete_all_tables()
    assert "VNK-N" not in ipt.list_chains("nat")


def test_counters_move_with_traffic(netns: str) -> None:
    # Packets to our own address over lo traverse OUTPUT and INPUT in this namespace only.
    ipt = IPTables(netns=netns)
    ipt.append("filter", "OUTPUT", "-o", "lo", "-p", "udp", "--dport", "9", "-j", "ACCEPT")

    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for _ in range(3):
                sock.sendto(b"x" * 10, ("127.0.0.1", 9))

    default_runner().call_in(netns, send)
    [stat] = ipt.structured_stats("filter", "OUTPUT")
    assert stat.packets == 3
    assert stat.bytes == 3 * (20 + 8 + 10)
    counted = ipt.list_with_counters("filter", "OUTPUT")
    assert counted[1].startswith("[3:114] -A OUTPUT -o lo -p udp")
