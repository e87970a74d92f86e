"""Live tracing's pure half: xtables-monitor 1.8.9 text (captured here) into answers with rule positions."""

# ruff: noqa: E501, W291 - the captures are the tool's real lines, long and with their trailing blanks

from __future__ import annotations

import pytest

from vnetkit.errors import ConfigError
from vnetkit.trace.answer import Answer
from vnetkit.trace.live import Collector, PacketLine, TraceFilter, TraceLine, handle_positions, parse_line

# Captured from xtables-monitor --trace (iptables 1.8.9, nf_tables) in a test namespace whose filter
# table is FILTER_NFT / NAT_NFT below, while vnetkit:trace rules sat at the top of raw PREROUTING/OUTPUT.
UDP_CAPTURE = """\
PACKET: 2 b7ec5f93 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=29 TOS=0x0 TTL=64 ID=61867 DF SPORT=58109 DPORT=9999 
 TRACE: 2 b7ec5f93 raw:PREROUTING:rule:0x3:CONTINUE  -4 -t raw -A PREROUTING -p udp -m comment --comment "vnetkit:trace" -j TRACE
 TRACE: 2 b7ec5f93 raw:PREROUTING:policy:ACCEPT 
PACKET: 2 b7ec5f93 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=29 TOS=0x0 TTL=64 ID=61867 DF SPORT=58109 DPORT=9999 
 TRACE: 2 b7ec5f93 nat:PREROUTING:policy:ACCEPT 
PACKET: 2 b7ec5f93 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=29 TOS=0x0 TTL=64 ID=61867 DF SPORT=58109 DPORT=9999 
 TRACE: 2 b7ec5f93 filter:INPUT:rule:0x5:DROP  -4 -t filter -A INPUT -p udp -m udp --dport 9999 -j DROP
PACKET: 2 5474e837 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=29 TOS=0x0 TTL=64 ID=61869 DF SPORT=58109 DPORT=9997 
 TRACE: 2 5474e837 raw:PREROUTING:rule:0x3:CONTINUE  -4 -t raw -A PREROUTING -p udp -m comment --comment "vnetkit:trace" -j TRACE
 TRACE: 2 5474e837 raw:PREROUTING:policy:ACCEPT 
PACKET: 2 5474e837 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=29 TOS=0x0 TTL=64 ID=61869 DF SPORT=58109 DPORT=9997 
 TRACE: 2 5474e837 nat:PREROUTING:rule:0x2:ACCEPT  -4 -t nat -A PREROUTING -p udp -m udp --dport 9997 -j DNAT --to-destination 10.9.0.1:9996
PACKET: 2 5474e837 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=29 TOS=0x0 TTL=64 ID=61869 DF SPORT=58109 DPORT=9996 
 TRACE: 2 5474e837 filter:INPUT:rule:0x9:JUMP:USERC  -4 -t filter -A INPUT -p udp -j USERC
 TRACE: 2 5474e837 filter:USERC:rule:0x8:CONTINUE  -4 -t filter -A USERC -p udp -j LOG --log-prefix x
 TRACE: 2 5474e837 filter:INPUT:policy:ACCEPT 
PACKET: 2 be7b3aea OUT=va SRC=10.9.0.1 DST=10.9.0.2 LEN=29 TOS=0x0 TTL=64 ID=10049 DF SPORT=33095 DPORT=5000 
 TRACE: 2 be7b3aea raw:OUTPUT:rule:0x5:CONTINUE  -4 -t raw -A OUTPUT -p udp -m comment --comment "vnetkit:trace" -j TRACE
 TRACE: 2 be7b3aea raw:OUTPUT:policy:ACCEPT 
"""

# The same capture's ICMP echo request: a user chain entered and left by RETURN (printed 0xfffffffb).
ICMP_CAPTURE = """\
PACKET: 2 1b6ad709 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=23219 DF 
 TRACE: 2 1b6ad709 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p icmp -m comment --comment "vnetkit:trace" -j TRACE
 TRACE: 2 1b6ad709 raw:PREROUTING:policy:ACCEPT 
PACKET: 2 1b6ad709 IN=va MACSRC=ba:d:bb:b3:b9:6f MACDST=3e:50:50:e7:1c:30 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=23219 DF 
 TRACE: 2 1b6ad709 filter:INPUT:rule:0x4:JUMP:USERC  -4 -t filter -A INPUT -p icmp -j USERC
 TRACE: 2 1b6ad709 filter:USERC:rule:0x7:0xfffffffb  -4 -t filter -A USERC -p icmp -j RETURN
 TRACE: 2 1b6ad709 filter:INPUT:policy:ACCEPT 
"""

FILTER_NFT = """\
table ip filter { # handle 1
\tchain USERC { # handle 1
\t\tip saddr 10.9.0.99 counter packets 0 bytes 0 drop # handle 6
\t\tmeta l4proto icmp counter packets 6 bytes 477 return # handle 7
\t\tmeta l4proto udp counter packets 2 bytes 58 log prefix "x" # handle 8
\t}

\tchain INPUT { # handle 2
\t\ttype filter hook input priority filter; policy accept;
\t\tudp dport 9998 counter packets 2 bytes 58 drop # handle 10
\t\ttcp dport 22 counter packets 0 bytes 0 accept # handle 3
\t\tmeta l4proto icmp counter packets 6 bytes 477 jump USERC # handle 4
\t\tudp dport 9999 counter packets 2 bytes 58 drop # handle 5
\t\tmeta l4proto udp counter packets 2 bytes 58 jump USERC # handle 9
\t}
}
"""
NAT_NFT = """\
table ip nat { # handle 3
\tchain PREROUTING { # handle 1
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tudp dport 9997 counter packets 2 bytes 58 dnat to 10.9.0.1:9996 # handle 2
\t}
}
"""
TABLES = {"filter": handle_positions(FILTER_NFT), "nat": handle_positions(NAT_NFT)}


def resolve(table: str, chain: str, handle: int) -> int | None:
    return TABLES.get(table, {}).get((chain, handle))


def collect(text: str, *, settle: float = 0.3) -> tuple[list[Answer], Collector]:
    collector = Collector(resolve, proto="udp", settle=settle)
    answers: list[Answer] = []
    for line in text.splitlines():
        answers += collector.feed(line, 0.0)
    return answers, collector


def test_parse_packet_line_reads_fields() -> None:
    parsed = parse_line(ICMP_CAPTURE.splitlines()[0])
    assert isinstance(parsed, PacketLine)
    assert parsed.trace_id == "1b6ad709"
    assert (parsed.fields["SRC"], parsed.fields["DST"], parsed.fields["IN"]) == ("10.9.0.2", "10.9.0.1", "va")


def test_parse_trace_lines_rule_jump_return_policy() -> None:
    lines = [parse_line(line) for line in ICMP_CAPTURE.splitlines()]
    traces = [line for line in lines if isinstance(line, TraceLine)]
    assert [(t.table, t.chain, t.kind, t.handle, t.verdict) for t in traces] == [
        ("raw", "PREROUTING", "rule", 2, "CONTINUE"),
        ("raw", "PREROUTING", "policy", None, "ACCEPT"),
        ("filter", "INPUT", "rule", 4, "JUMP:USERC"),
        ("filter", "USERC", "rule", 7, "RETURN"),
        ("filter", "INPUT", "policy", None, "ACCEPT"),
    ]
    assert traces[2].rule == "-A INPUT -p icmp -j USERC"


def test_parse_line_ignores_events_and_noise() -> None:
    assert (
        parse_line(' EVENT: -4 -t raw -A OUTPUT -p tcp -m comment --comment "vnetkit:trace" -j TRACE') is None
    )
    assert parse_line("NEWGEN: GENID=17 PID=15033 NAME=iptables") is None
    assert parse_line("") is None


def test_handle_positions_count_in_chain_order() -> None:
    positions = handle_positions(FILTER_NFT)
    assert positions[("INPUT", 10)] == 1
    assert positions[("INPUT", 5)] == 4
    assert positions[("INPUT", 9)] == 5
    assert positions[("USERC", 8)] == 3
    assert ("INPUT", 2) not in positions  # the chain's own handle is no rule


def test_collector_drop_is_final_at_once_with_position() -> None:
    answers, _ = collect(UDP_CAPTURE)
    assert len(answers) == 1  # only the dropped packet is finished before any time passes
    answer = answers[0].to_json()
    assert answer["disposition"] == "dropped"
    assert answer["reason"] == "dropped by filter INPUT #4"
    assert answer["hits"] == [
        {"table": "raw", "chain": "PREROUTING", "position": 0},
        {"table": "nat", "chain": "PREROUTING", "position": 0},
        {"table": "filter", "chain": "INPUT", "position": 4},
    ]
    assert answer["final"]["dport"] == 9999


def test_collector_expires_accepted_packets_with_nat_and_user_chain() -> None:
    _, collector = collect(UDP_CAPTURE, settle=0.3)
    assert collector.expire(0.1) == []  # not quiet long enough yet
    answers = {a.packet.split(" (trace")[0]: a for a in collector.expire(1.0)}
    delivered = answers["udp 10.9.0.2:58109 -> 10.9.0.1:9997 in va"]
    assert delivered.disposition == "delivered"
    assert [(h.table, h.chain, h.position) for h in delivered.hits] == [
        ("raw", "PREROUTING", 0),
        ("nat", "PREROUTING", 1),
        ("filter", "INPUT", 5),
        ("filter", "USERC", 3),
        ("filter", "INPUT", 0),
    ]
    assert delivered.final["dport"] == 9996  # after the DNAT
    assert [s.action for s in delivered.steps if s.kind == "rule"] == ["ACCEPT", "jump USERC", "continue"]
    sent = answers["udp 10.9.0.1:33095 -> 10.9.0.2:5000 out va"]
    assert sent.disposition == "forwarded"
    assert sent.reason.endswith("sent out of va")
    assert collector.flush() == []


def test_own_trace_rule_is_not_a_step() -> None:
    answers, collector = collect(ICMP_CAPTURE)
    assert answers == []
    (answer,) = collector.flush()
    assert all("vnetkit:trace" not in step.text for step in answer.steps)
    assert [(s.table, s.chain, s.position, s.action) for s in answer.steps] == [
        ("raw", "PREROUTING", 0, "ACCEPT"),
        ("filter", "INPUT", 3, "jump USERC"),
        ("filter", "USERC", 2, "RETURN"),
        ("filter", "INPUT", 0, "ACCEPT"),
    ]
    assert [s.hook for s in answer.steps] == ["PREROUTING", "INPUT", "INPUT", "INPUT"]


def test_reused_trace_id_with_new_ip_id_is_a_new_packet() -> None:
    second = ICMP_CAPTURE.replace("ID=23219", "ID=23220")
    answers, collector = collect(ICMP_CAPTURE + second)
    answers += collector.flush()
    assert len(answers) == 2
    assert [len(a.hits) for a in answers] == [4, 4]


def test_reused_trace_id_restarting_after_input_is_a_new_packet() -> None:
    answers, collector = collect(ICMP_CAPTURE + ICMP_CAPTURE)  # same IP ID (0 for some DF packets)
    answers += collector.flush()
    assert [len(a.hits) for a in answers] == [4, 4]


def test_policy_drop_and_reject() -> None:
    text = (
        "PACKET: 2 00000001 IN=va SRC=10.0.0.2 DST=10.0.0.1 LEN=60 ID=1 SPORT=1 DPORT=2 \n"
        " TRACE: 2 00000001 filter:INPUT:policy:DROP \n"
        "PACKET: 2 00000002 IN=va SRC=10.0.0.2 DST=10.0.0.1 LEN=60 ID=2 SPORT=1 DPORT=3 \n"
        " TRACE: 2 00000002 filter:INPUT:rule:0x3:DROP  -4 -t filter -A INPUT -p tcp -j REJECT\n"
    )
    answers, _ = collect(text)
    assert [(a.disposition, a.reason) for a in answers] == [
        ("dropped", "policy DROP of filter INPUT"),
        ("rejected", "rejected by filter INPUT #2"),
    ]


def test_filter_args_and_chains() -> None:
    match = TraceFilter(protocol="tcp", destination="10.0.0.1", dport=80)
    assert match.args() == ("-p", "tcp", "-d", "10.0.0.1", "--dport", "80")
    assert match.chains() == ("PREROUTING", "OUTPUT")
    assert TraceFilter(in_interface="eth0").chains() == ("PREROUTING",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"dport": 80},
        {"protocol": "icmp", "sport": 1},
        {"protocol": "tcp", "dport": 70000},
        {"source": "nope"},
    ],
)
def test_filter_rejects_bad_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        TraceFilter(**kwargs)  # type: ignore[arg-type]
