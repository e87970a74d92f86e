"""canonical() with and without a resolver: names looked up on the host.

Without a resolver a service, protocol, user or group name (or a host name)
is ``HostDependent``, a ``RuleError``: the printed form depends on this
host's files. With one, the names it covers are answered the way iptables
answers them, and what it does not cover becomes ``CannotDerive`` (sync and
Snapshot then ask the tool).
"""

from __future__ import annotations

import pytest

from vnetkit.errors import CannotDerive, HostDependent, RuleError
from vnetkit.exec.resolver import HostResolver
from vnetkit.iptables.canonical import canonical
from vnetkit.iptables.rules import parse_rule, render_line


class FakeResolver:
    """A host whose databases hold a few names, some unlike any real /etc."""

    def __init__(self) -> None:
        self.services = {("http", "tcp"): 80, ("web", "tcp"): 8080, ("dns", "udp"): 53, ("sig", "sctp"): 2905}
        self.protocols = {"gre": 47, "ospf": 89, "weird": 200}
        self.users = {"root": 0, "alice": 1000}
        self.groups = {"root": 0, "staff": 50}

    def service(self, name: str, protocol: str) -> int | None:
        return self.services.get((name, protocol))

    def protocol_number(self, name: str) -> int | None:
        return self.protocols.get(name)

    def protocol_name(self, number: int) -> str | None:
        return next((name for name, n in self.protocols.items() if n == number), None)

    def user(self, name: str) -> int | None:
        return self.users.get(name)

    def group(self, name: str) -> int | None:
        return self.groups.get(name)


FAKE = FakeResolver()


def line(argv: str, **kwargs: object) -> str:
    return render_line("X", canonical(parse_rule(argv), backend="legacy", **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        ("-p tcp --dport http -j ACCEPT", "-A X -p tcp -m tcp --dport 80 -j ACCEPT"),
        ("-p tcp --sport web:65535 -j ACCEPT", "-A X -p tcp -m tcp --sport 8080:65535 -j ACCEPT"),
        (
            "-p udp -m multiport --dports dns,1000:2000 -j ACCEPT",
            "-A X -p udp -m multiport --dports 53,1000:2000 -j ACCEPT",
        ),
        ("-p sctp --dport sig -j ACCEPT", "-A X -p sctp -m sctp --dport 2905 -j ACCEPT"),
        ("-p gre -j ACCEPT", "-A X -p gre -j ACCEPT"),
        ("-p 47 -j ACCEPT", "-A X -p gre -j ACCEPT"),
        ("-p 200 -j ACCEPT", "-A X -p weird -j ACCEPT"),
        ("-p 201 -j ACCEPT", "-A X -p 201 -j ACCEPT"),
        (
            "-m owner --uid-owner alice --gid-owner staff -j ACCEPT",
            "-A X -m owner --uid-owner 1000 --gid-owner 50 -j ACCEPT",
        ),
        ("-m owner --uid-owner 5-10 -j ACCEPT", "-A X -m owner --uid-owner 5-10 -j ACCEPT"),
        ("-m conntrack --ctproto ospf -j ACCEPT", "-A X -m conntrack --ctproto 89 -j ACCEPT"),
    ],
)
def test_a_resolver_answers_names_as_iptables_does(argv: str, printed: str) -> None:
    assert line(argv, resolver=FAKE) == printed


@pytest.mark.parametrize(
    "argv",
    [
        "-p tcp --dport http -j ACCEPT",
        "-p udp -m multiport --dports dns -j ACCEPT",
        "-p gre -j ACCEPT",
        "-p 47 -j ACCEPT",
        "-m owner --uid-owner root -j ACCEPT",
        "-m conntrack --ctproto ospf -j ACCEPT",
        "-s localhost -j ACCEPT",
        "-m devgroup --src-group 1 -j ACCEPT",
    ],
)
def test_without_a_resolver_names_are_host_dependent(argv: str) -> None:
    with pytest.raises(HostDependent):
        line(argv)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("-p tcp --dport nosuch -j ACCEPT", "not known on this host"),
        ("-p nosuch -j ACCEPT", "unknown protocol"),
        ("-m owner --uid-owner bob -j ACCEPT", "no user/group 'bob'"),
    ],
)
def test_names_the_host_does_not_know_are_refused(argv: str, message: str) -> None:
    with pytest.raises(RuleError, match=message) as caught:
        line(argv, resolver=FAKE)
    assert not isinstance(caught.value, HostDependent)


@pytest.mark.parametrize(
    "argv",
    ["-s localhost -j ACCEPT", "-d example.org -j DROP", "-m devgroup --src-group 1 -j ACCEPT"],
)
def test_what_the_resolver_does_not_cover_cannot_be_derived(argv: str) -> None:
    with pytest.raises(CannotDerive):
        line(argv, resolver=FAKE)


def test_the_host_resolver_reads_this_host() -> None:
    host = HostResolver()
    assert host.service("http", "tcp") == 80
    assert host.service("no-such-service-here", "tcp") is None
    assert host.protocol_number("gre") == 47
    assert host.protocol_name(47) == "gre"
    assert host.protocol_name(58) == "ipv6-icmp"
    assert host.user("root") == 0
    assert host.group("root") == 0
    assert host.user("no-such-user-here") is None
