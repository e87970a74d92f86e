"""trace lint: shadowed rules, unreferenced chains, jumps to missing chains; never a false "shadowed"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vnetkit.iptables.savefile import parse_save
from vnetkit.trace.lint import Finding, lint

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "save"
MOBY = Path("/work/shared/reference/moby/iptabler")


def _filter(*rules: str, chains: str = "") -> list[Finding]:
    """Lint a filter table whose INPUT chain holds ``rules`` (``-A`` lines or bare INPUT rules)."""
    lines = [line if line.startswith("-A ") else f"-A INPUT {line}" for line in rules]
    text = "\n".join(["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD DROP [0:0]", chains, *lines, "COMMIT"])
    return lint(parse_save(text.replace("\n\n", "\n") + "\n"))


def _shadowed(*rules: str) -> list[tuple[int, int]]:
    """(position, by position) of every shadowed finding of INPUT holding ``rules``."""
    return [(f.position, f.by[0]) for f in _filter(*rules) if f.kind == "shadowed" and f.by is not None]


# --- missing targets ---------------------------------------------------------------------------------


def test_jump_to_an_undeclared_name_is_a_missing_target() -> None:
    findings = _filter("-p tcp -j ACCEPT", "-j NOPE", "-g ALSO-NOPE")
    assert [(f.kind, f.position, f.rule) for f in findings] == [
        ("missing-target", 2, "-A INPUT -j NOPE"),
        ("missing-target", 3, "-A INPUT -g ALSO-NOPE"),
    ]
    assert findings[0].table == "filter"
    assert findings[0].chain == "INPUT"
    assert "NOPE" in findings[0].message
    assert "goes to ALSO-NOPE" in findings[1].message


def test_target_extensions_and_declared_chains_are_not_missing() -> None:
    findings = _filter(
        "-p tcp -j LOG --log-prefix x",
        "-j MARK --set-mark 1",
        "-p tcp -j REJECT --reject-with tcp-reset",
        "-j MINE",
        chains=":MINE - [0:0]",
    )
    assert findings == []


def test_a_chain_of_another_table_is_missing() -> None:
    text = "*nat\n:PREROUTING ACCEPT [0:0]\n:ELSEWHERE - [0:0]\n-A PREROUTING -j ELSEWHERE\nCOMMIT\n"
    text += "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ELSEWHERE\nCOMMIT\n"
    findings = lint(parse_save(text))
    assert [(f.kind, f.table, f.chain, f.position) for f in findings] == [
        ("missing-target", "filter", "INPUT", 1)
    ]


# --- unreferenced chains -----------------------------------------------------------------------------


def test_user_chain_nothing_jumps_to_is_unreferenced() -> None:
    findings = _filter(
        "-j USED",
        "-A GONE-TO -j ACCEPT",
        "-A FORWARD -g GONE-TO",
        "-A LONELY -j DROP",
        "-A LOOPY -j LOOPY",
        chains=":USED - [0:0]\n:GONE-TO - [0:0]\n:LONELY - [0:0]\n:LOOPY - [0:0]\n:EMPTY - [0:0]",
    )
    unreferenced = [(f.chain, f.position, f.rule) for f in findings if f.kind == "unreferenced"]
    assert unreferenced == [("LONELY", 0, ""), ("LOOPY", 0, ""), ("EMPTY", 0, "")]
    assert all(f.by is None for f in findings)


def test_built_in_chains_are_never_unreferenced() -> None:
    assert _filter() == []


# --- shadowed: what is reported ----------------------------------------------------------------------


def test_the_brief_example_is_shadowed() -> None:
    findings = _filter("-p tcp --dport 80 -j ACCEPT", "-s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j DROP")
    assert len(findings) == 1
    found = findings[0]
    assert (found.kind, found.position) == ("shadowed", 2)
    assert found.rule == "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j DROP"
    assert found.by == (1, "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT")
    assert "rule 1" in found.message
    assert "ACCEPT" in found.message
    assert json.loads(json.dumps(found.to_json())) == {
        "kind": "shadowed",
        "table": "filter",
        "chain": "INPUT",
        "position": 2,
        "rule": "-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 80 -j DROP",
        "by": {"position": 1, "rule": "-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT"},
        "message": found.message,
    }


@pytest.mark.parametrize("verdict", ["ACCEPT", "DROP", "REJECT", "RETURN", "QUEUE"])
def test_every_terminal_verdict_shadows(verdict: str) -> None:
    assert _shadowed(f"-i eth0 -j {verdict}", "-i eth0 -p udp -j ACCEPT") == [(2, 1)]


def test_goto_ends_the_chain_and_shadows() -> None:
    findings = _filter("-A X -j ACCEPT", "-g X", "-p tcp -j DROP", chains=":X - [0:0]")
    assert [(f.kind, f.position, f.by) for f in findings] == [("shadowed", 2, (1, "-A INPUT -g X"))]


def test_only_the_first_covering_rule_is_named_and_later_rules_each_reported() -> None:
    assert _shadowed("-p tcp -j DROP", "-j ACCEPT", "-p tcp --dport 22 -j ACCEPT", "-p udp -j DROP") == [
        (3, 1),
        (4, 2),
    ]


def test_comments_are_ignored() -> None:
    assert _shadowed(
        '-p tcp -m comment --comment "web" -m tcp --dport 443 -j ACCEPT',
        '-p tcp -m tcp --dport 443 -m comment --comment "other" -j DROP',
    ) == [(2, 1)]


def test_protocol_numbers_and_names_are_one_protocol() -> None:
    assert _shadowed("-p 6 -j DROP", "-p tcp -j ACCEPT") == [(2, 1)]
    assert _shadowed("-p all -j DROP", "-p udp -j ACCEPT") == [(2, 1)]


# --- shadowed: conservative cases --------------------------------------------------------------------


def test_non_terminal_targets_never_shadow() -> None:
    assert (
        _filter(
            "-p tcp -j LOG",
            "-p tcp -j MARK --set-mark 1",
            "-p tcp -j USER",
            "-p tcp -j ACCEPT",
            chains=":USER - [0:0]",
        )
        == []
    )


def test_a_count_only_rule_never_shadows() -> None:
    assert _shadowed("-p tcp", "-p tcp -j ACCEPT") == []


def test_an_extra_match_in_the_earlier_rule_makes_it_narrower() -> None:
    assert _shadowed("-p tcp -m limit --limit 5/sec -j ACCEPT", "-p tcp -j DROP") == []
    assert _shadowed("-p tcp --syn -j DROP", "-p tcp -j ACCEPT") == []
    assert (
        _shadowed(
            "-m conntrack --ctstate NEW --ctstatus SEEN_REPLY -j DROP", "-m state --state NEW -j ACCEPT"
        )
        == []
    )


def test_a_criterion_only_the_earlier_rule_has_is_narrower() -> None:
    assert _shadowed("-s 10.0.0.0/8 -j DROP", "-j ACCEPT") == []
    assert _shadowed("-p tcp -j DROP", "-j ACCEPT") == []
    assert _shadowed("-p tcp --dport 80 -j DROP", "-p tcp -j ACCEPT") == []
    assert _shadowed("-i eth0 -j DROP", "-o eth0 -j ACCEPT") == []
    assert _shadowed("-f -j DROP", "-j ACCEPT") == []


def test_addresses_by_containment() -> None:
    assert _shadowed("-s 10.0.0.0/8 -j DROP", "-s 10.1.2.0/24 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-s 10.1.2.0/24 -j DROP", "-s 10.0.0.0/8 -j ACCEPT") == []
    assert _shadowed("-d 10.0.0.0/8 -j DROP", "-s 10.1.2.0/24 -j ACCEPT") == []
    assert _shadowed("-s 0.0.0.0/0 -j DROP", "! -s 10.0.0.0/8 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-s some.host.example -j DROP", "-s some.host.example -j ACCEPT") == []


def test_ipv6_networks_never_contain_ipv4_ones() -> None:
    text = (
        "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s ::/0 -j DROP\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n"
    )
    assert [f for f in lint(parse_save(text)) if f.kind == "shadowed"] == []


def test_address_negations() -> None:
    # ! A covers ! B when B's network is within... the other way round: A's network within B's
    assert _shadowed("! -s 10.0.0.0/16 -j DROP", "! -s 10.0.0.0/8 -j ACCEPT") == [(2, 1)]
    assert _shadowed("! -s 10.0.0.0/8 -j DROP", "! -s 10.0.0.0/16 -j ACCEPT") == []
    assert _shadowed("! -s 10.0.0.0/8 -j DROP", "! -s 10.0.0.0/8 -p tcp -j ACCEPT") == [(2, 1)]
    # ! A covers B when they are disjoint, not when they overlap
    assert _shadowed("! -d 10.0.0.0/8 -j DROP", "-d 192.168.1.0/24 -j ACCEPT") == [(2, 1)]
    assert _shadowed("! -d 10.0.0.0/8 -j DROP", "-d 10.9.0.0/16 -j ACCEPT") == []
    assert _shadowed("-d 10.0.0.0/8 -j DROP", "! -d 10.0.0.0/8 -j ACCEPT") == []


def test_interface_wildcards() -> None:
    assert _shadowed("-i eth+ -j DROP", "-i eth0 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-i eth+ -j DROP", "-i eth1+ -j ACCEPT") == [(2, 1)]
    assert _shadowed("-i + -j DROP", "-i wlan0 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-i eth0 -j DROP", "-i eth+ -j ACCEPT") == []
    assert _shadowed("-i eth0 -j DROP", "-i eth00 -j ACCEPT") == []
    assert _shadowed("-o br+ -j DROP", "-o eth0 -j ACCEPT") == []


def test_interface_negations() -> None:
    assert _shadowed("! -i eth0 -j DROP", "-i eth1 -j ACCEPT") == [(2, 1)]
    assert _shadowed("! -i eth0 -j DROP", "-i eth+ -j ACCEPT") == []
    assert _shadowed("! -i eth+ -j DROP", "-i wlan0 -j ACCEPT") == [(2, 1)]
    assert _shadowed("! -o eth0 -j DROP", "! -o eth0 -p tcp -j ACCEPT") == [(2, 1)]
    assert _shadowed("! -o eth0 -j DROP", "! -o eth1 -j ACCEPT") == []
    assert _shadowed("! -o eth0 -j DROP", "! -o eth+ -j ACCEPT") == [(2, 1)]


def test_protocol_negations() -> None:
    assert _shadowed("! -p udp -j DROP", "-p tcp -j ACCEPT") == [(2, 1)]
    assert _shadowed("! -p udp -j DROP", "-p udp -j ACCEPT") == []
    assert _shadowed("! -p udp -j DROP", "-j ACCEPT") == []
    assert _shadowed("-p tcp -j DROP", "! -p udp -j ACCEPT") == []


def test_ports_and_port_sets() -> None:
    assert _shadowed(
        "-p tcp -m multiport --dports 80,443,8000:9000 -j DROP", "-p tcp --dport 8080 -j ACCEPT"
    ) == [(2, 1)]
    assert _shadowed(
        "-p tcp -m multiport --dports 80,443 -j DROP", "-p tcp -m multiport --dports 443,80 -j ACCEPT"
    ) == [(2, 1)]
    assert _shadowed("-p tcp -m multiport --dports 80,443 -j DROP", "-p tcp --dport 22 -j ACCEPT") == []
    assert _shadowed("-p tcp --dport 1000:2000 -j DROP", "-p tcp --dport 1500:2500 -j ACCEPT") == []
    assert (
        _shadowed("-p tcp --dport 1000:1499 -m multiport --dports 1500:2000 -j DROP", "-p tcp -j ACCEPT")
        == []
    )
    assert _shadowed("-p tcp -m multiport --ports 53 -j DROP", "-p tcp --sport 53 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-p tcp --sport 53 -j DROP", "-p tcp -m multiport --ports 53 -j ACCEPT") == []
    assert _shadowed("-p tcp --dport 80 -j DROP", "-p udp --dport 80 -j ACCEPT") == []
    assert _shadowed("-p tcp --dport 80 -j DROP", "-p tcp --sport 80 -j ACCEPT") == []
    assert _shadowed("-p udp --dport :1024 -j DROP", "-p udp --dport 53 -j ACCEPT") == [(2, 1)]


def test_port_negations_and_names() -> None:
    assert _shadowed("-p tcp ! --dport 22 -j DROP", "-p tcp --dport 80 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-p tcp ! --dport 22 -j DROP", "-p tcp --dport 20:30 -j ACCEPT") == []
    assert _shadowed("-p tcp ! --dport 20:30 -j DROP", "-p tcp ! --dport 0:100 -j ACCEPT") == [(2, 1)]
    assert _shadowed("-p tcp -m multiport ! --ports 22 -j DROP", "-p tcp --dport 80 -j ACCEPT") == []
    assert _shadowed("-p tcp --dport http -j DROP", "-p tcp --dport http -j ACCEPT") == []


def test_connection_states() -> None:
    assert _shadowed(
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-m state --state ESTABLISHED -j DROP"
    ) == [(2, 1)]
    assert (
        _shadowed("-m state --state ESTABLISHED -j ACCEPT", "-m conntrack --ctstate NEW,ESTABLISHED -j DROP")
        == []
    )
    assert _shadowed("-m conntrack ! --ctstate INVALID -j ACCEPT", "-m conntrack --ctstate NEW -j DROP") == [
        (2, 1)
    ]
    assert _shadowed("-m conntrack ! --ctstate INVALID -j ACCEPT", "-j DROP") == []
    assert _shadowed("-m conntrack --ctstate NEW -j ACCEPT", "-p tcp -j DROP") == []


def test_dotted_masks_are_not_read() -> None:
    # iptables keeps a non-contiguous mask as given; ipaddress would read 0.0.255.255 as a host mask
    assert _shadowed("-s 10.0.0.0/0.0.255.255 -j DROP", "-s 10.0.0.1/32 -j ACCEPT") == []


def test_the_earliest_covering_rule_is_named_whatever_it_pins() -> None:
    assert _shadowed("-s 10.0.0.1/32 -j DROP", "-p tcp -j ACCEPT", "-s 10.0.0.1/32 -p tcp -j ACCEPT") == [
        (3, 1)
    ]
    assert _shadowed("-p tcp -j ACCEPT", "-s 10.0.0.1/32 -j DROP", "-s 10.0.0.1/32 -p tcp -j ACCEPT") == [
        (3, 1)
    ]
    assert _shadowed(
        "-d 10.0.0.2/32 -j DROP", "-s 10.0.0.1/32 -j DROP", "-s 10.0.0.1 -d 10.0.0.2 -j ACCEPT"
    ) == [(3, 1)]


def test_a_long_chain_of_host_rules() -> None:
    rules = [
        f"-s 10.{i // 250}.{i % 250}.1/32 -p tcp -m tcp --dport {1000 + i} -j ACCEPT" for i in range(2000)
    ]
    rules += [
        "-s 10.0.5.1/32 -p tcp -m tcp --dport 1005 -j DROP",
        "-s 10.0.5.1/32 -p tcp --dport 1006 -j DROP",
    ]
    assert _shadowed(*rules) == [(2001, 6)]


def test_rules_in_other_chains_never_shadow() -> None:
    findings = _filter("-A FORWARD -j ACCEPT", "-A INPUT -j DROP")
    assert findings == []


# --- real rulesets -----------------------------------------------------------------------------------


def test_real_dumps_give_only_true_findings() -> None:
    """Read by hand: only neutron's security-group chains have rules after an unconditional RETURN."""
    dumps = sorted(GOLDEN.glob("*.save"))
    assert dumps
    shadowed: dict[str, set[tuple[str, int, int]]] = {}
    for dump in dumps:
        findings = lint(parse_save(dump.read_text()))
        assert not [f for f in findings if f.kind == "missing-target"], dump.name
        for found in findings:
            if found.kind == "shadowed":
                assert found.by is not None
                assert found.by[1] == f"-A {found.chain} -j RETURN", (dump.name, found)
                shadowed.setdefault(dump.name, set()).add((found.chain, found.position, found.by[0]))
    assert shadowed
    for name, found_set in shadowed.items():
        assert name.startswith("neutron-sg-"), name
        # the IPv4 chains RETURN at rule 6, the IPv6 ones (more ICMPv6 rules first) at rule 10
        at = 6 if "ipv4" in name else 10
        assert found_set == {
            (chain, position, at)
            for chain in ("neutron-openvswi-o1a2b3c4d-5", "neutron-openvswi-o7f8e9d0c-1")
            for position in (at + 1, at + 2)
        }, name


def test_kube_proxy_canary_chains_are_unreferenced() -> None:
    findings = lint(parse_save((GOLDEN / "kube-proxy-legacy-ipv4.save").read_text()))
    assert {(f.table, f.chain) for f in findings} == {
        (table, chain)
        for table in ("nat", "filter", "mangle")
        for chain in ("KUBE-KUBELET-CANARY", "KUBE-PROXY-CANARY")
    } | {("mangle", "KUBE-IPTABLES-HINT")}
    assert {f.kind for f in findings} == {"unreferenced"}


@pytest.mark.skipif(not MOBY.is_dir(), reason="moby reference goldens are not on this machine")
def test_moby_goldens_have_no_shadowed_rules_or_missing_targets() -> None:
    goldens = sorted(MOBY.glob("*.golden"))
    assert goldens
    for golden in goldens:
        findings = lint(parse_save(golden.read_text()))
        assert [f for f in findings if f.kind != "unreferenced"] == [], golden.name
        # what is unreferenced: only the filter DOCKER chain, declared even when no bridge jumps to it
        # (a cleaned state, or an internal network whose bridge chain has no jump to DOCKER)
        for found in findings:
            assert (found.table, found.chain) == ("filter", "DOCKER"), (golden.name, found)
            filter_lines = golden.read_text().split("*filter", 1)[1].split("COMMIT", 1)[0].splitlines()
            assert not [line for line in filter_lines if line.endswith(("-j DOCKER", "-g DOCKER"))]
    masq = (
        MOBY
        / "hairpin=false,internal=false,icc=false,masq=true,snat=false,gwm=nat,bindlh=false__iptables.golden"
    )
    if masq.exists():
        assert lint(parse_save(masq.read_text())) == []
