"""Generate docs/canonical/vectors.json by applying rules in scratch namespaces.

For every case and every backend (iptables-nft, iptables-legacy) of the case's
family, the probe runs ``<tool> -w -t TABLE -A CHAIN <argv>`` inside a
throwaway network namespace, reads the chain back with ``<tool>-save -t
TABLE`` and records the ``-A CHAIN ...`` lines (several lines joined with
"\\n" when one argv became several rules, ``null`` when the tool refused).
It then checks the fixed point: each printed line, split with
``vnetkit.iptables.text.split_line`` and appended again, must print itself.

Run as root from the repo:  .venv/bin/python scripts/capture/canonical_probe.py
A case file of docs/canonical/cases/ is measured into its own vectors file with
``--cases docs/canonical/cases/NAME.py --out docs/canonical/vectors/NAME.json``.
Only scratch namespaces named ``vnktest-canon-*`` are touched; they are
always deleted.  Nothing in the root namespace is changed.
"""

# ruff: noqa: E501 - the cases are whole iptables commands, one per line, as data

from __future__ import annotations

import itertools
import json
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from vnetkit.exec import default_runner
from vnetkit.iptables.text import split_line
from vnetkit.testing import scratch_netns

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "docs" / "canonical" / "vectors.json"
RUNNER = default_runner()
BUILTIN = {
    "INPUT",
    "OUTPUT",
    "FORWARD",
    "PREROUTING",
    "POSTROUTING",
}

CASES: list[dict[str, Any]] = []
_SEEN: set[tuple[str, str, str, tuple[str, ...]]] = set()


def c(
    fam: str,
    argv: str | list[str],
    *,
    table: str = "filter",
    chain: str = "X",
    note: str = "",
    context: str = "",
) -> None:
    """Register a case; ``fam`` is "4", "6" or "46".

    ``context`` says why the tool refuses a rule for a reason outside its text
    (the table, chain, hook, kernel or ruleset): canonical() must accept it.
    """
    args = shlex.split(argv) if isinstance(argv, str) else list(argv)
    for f in fam:
        key = (f, table, chain, tuple(args))
        if key in _SEEN:
            continue
        _SEEN.add(key)
        case = {
            "family": "ipv4" if f == "4" else "ipv6",
            "table": table,
            "chain": chain,
            "argv": args,
            "note": note,
        }
        if context:
            case["context"] = context
        CASES.append(case)


# ---------------------------------------------------------------- addresses
c("4", "-s 10.1.2.3 -j ACCEPT", note="host address gets /32")
c("4", "-s 10.1.2.3/8 -j ACCEPT", note="host bits masked")
c("4", "-s 10.1.2.3/255.255.255.0 -j ACCEPT", note="dotted netmask")
c("4", "-s 10.1.2.3/255.0.255.0 -j ACCEPT", note="non-contiguous netmask")
c("4", "-s 10.1.2.3/0 -j ACCEPT", note="prefix 0")
c("4", "-s 0.0.0.0/0 -j ACCEPT", note="any address")
c("4", "-s 0/0 -j ACCEPT")
c("4", "! -s 0.0.0.0/0 -j ACCEPT", note="negated any")
c("4", "-d 0.0.0.0/0 -s 0.0.0.0/0 -j ACCEPT")
c("4", "-s 10.1.2.3/32 -j ACCEPT")
c("4", "-s 10.1.2.3/33 -j ACCEPT", note="bad prefix")
c("4", "-s 10.1 -j ACCEPT", note="short dotted form")
c("4", "-s 10.1/16 -j ACCEPT")
c("4", "-s 010.001.002.003 -j ACCEPT", note="leading zeros")
c("4", "-s 256.1.1.1 -j ACCEPT", note="bad octet")
c("4", "-s localhost -j ACCEPT", note="hostname (resolver-dependent)")
c("4", "-s 10.0.0.1,10.0.0.2 -j ACCEPT", note="comma list")
c("4", "-s 10.0.0.2,10.0.0.1 -j ACCEPT", note="comma list order")
c("4", "-s 10.0.0.1,10.0.0.1 -j ACCEPT", note="duplicate in list")
c("4", "-s 10.0.0.1,10.0.0.2 -d 192.168.0.1,192.168.0.2 -j ACCEPT", note="cartesian product")
c("4", "! -s 10.0.0.1,10.0.0.2 -j ACCEPT", note="negated list")
c("4", "-s 10.0.0.5/24,10.0.0.9/24 -j ACCEPT", note="list collapsing to same net")
c("4", "-d 255.255.255.255 -j ACCEPT")
c("4", "! -s 10.0.0.0/8 -j DROP")
c("4", "-s ! 10.0.0.0/8 -j DROP", note="old intrapositioned negation")
c("4", "--source 1.2.3.4 --destination 5.6.7.8 -j ACCEPT", note="long names")
c("4", "--src 1.2.3.4 --dst 5.6.7.8 -j ACCEPT", note="long aliases")
c("4", "--sour 1.2.3.4 --dest 5.6.7.8 -j ACCEPT", note="getopt prefix abbreviations")
c("4", "--source=1.2.3.4 -j ACCEPT", note="--opt=value form")
c("4", "-d 5.6.7.8 -s 1.2.3.4 -j ACCEPT", note="order: -s before -d")
c("4", "-s 1.2.3.4 -s 5.6.7.8 -j ACCEPT", note="option given twice")
c("6", "-s 2001:db8::1 -j ACCEPT", note="host gets /128")
c("6", "-s 2001:DB8:0:0:0:0:0:1 -j ACCEPT", note="upper case, uncompressed")
c("6", "-s 2001:db8:0:0:1:0:0:1 -j ACCEPT", note="which zero run is compressed")
c("6", "-s 2001:db8:0:1:0:0:0:1 -j ACCEPT", note="longest zero run compressed")
c("6", "-s 2001:db8:1:2:3:4:5:6 -j ACCEPT")
c("6", "-s 2001:db8:0:1:2:3:4:5 -j ACCEPT", note="single zero group not compressed")
c("6", "-s 2001:db8:abcd:12::1/48 -j ACCEPT", note="host bits masked")
c("6", "-s 2001:db8::/ffff:ffff:ffff:ffff:: -j ACCEPT", note="mask form")
c("6", "-s 2001:db8::/ffff:0:ffff:: -j ACCEPT", note="non-contiguous mask")
c("6", "-s ::ffff:1.2.3.4 -j ACCEPT", note="v4-mapped")
c("6", "-s ::/0 -j ACCEPT", note="any")
c("6", "! -s ::/0 -j ACCEPT")
c("6", "-d ::1 -j ACCEPT")
c("6", "-d ::1/128 -j ACCEPT")
c("6", "-s fe80::1/64 -j ACCEPT")
c("6", "-s 2001:db8::1,2001:db8::2 -j ACCEPT", note="comma list")
c("6", "-s 2001:db8::1/129 -j ACCEPT", note="bad prefix")
c("6", "-s 10.0.0.1 -j ACCEPT", note="v4 address to ip6tables")
c("4", "-s 2001:db8::1 -j ACCEPT", note="v6 address to iptables")
c("6", "-d ::ffff:0:0/96 -s ::1 -j ACCEPT")

# ---------------------------------------------------------------- interfaces
c("46", "-i eth0 -j ACCEPT")
c("46", "-i eth+ -j ACCEPT", note="wildcard")
c("46", "! -i eth0 -j ACCEPT")
c("46", "-o veth+ -i eth0 -j ACCEPT", note="order -i before -o")
c("4", "--in-interface eth0 --out-interface eth1 -j ACCEPT")
c("4", "-i + -j ACCEPT", note="bare wildcard")
c("4", "-i eth0.100 -j ACCEPT")
c("4", "-i abcdefghijklmno -j ACCEPT", note="15 chars")
c("4", "-i abcdefghijklmnop -j ACCEPT", note="16 chars")
c("4", "-i eth* -j ACCEPT", note="star")
c("4", "-i eth:0 -j ACCEPT")
c("4", ["-i", "a b", "-j", "ACCEPT"], note="space in name")
c("4", "-o eth1 -j ACCEPT", chain="INPUT", note="-o in INPUT")
c("4", "-i eth1 -j ACCEPT", chain="OUTPUT", note="-i in OUTPUT")

# ---------------------------------------------------------------- protocol
c("4", "-p tcp -j ACCEPT")
c("4", "-p TCP -j ACCEPT", note="upper case")
c("4", "-p Tcp -j ACCEPT", note="mixed case")
c("4", "-p 6 -j ACCEPT", note="number")
c("4", "-p 17 -j ACCEPT")
c("4", "-p 1 -j ACCEPT")
c("4", "-p all -j ACCEPT")
c("4", "-p ALL -j ACCEPT")
c("4", "-p 0 -j ACCEPT")
c("4", "! -p tcp -j ACCEPT")
c("4", "--protocol udp -j ACCEPT")
c("4", "-p icmp -j ACCEPT")
c("4", "-p sctp -j ACCEPT")
c("4", "-p 132 -j ACCEPT")
c("4", "-p gre -j ACCEPT")
c("4", "-p 47 -j ACCEPT")
c("4", "-p esp -j ACCEPT")
c("4", "-p 50 -j ACCEPT")
c("4", "-p ah -j ACCEPT")
c("4", "-p udplite -j ACCEPT")
c("4", "-p 136 -j ACCEPT")
c("4", "-p ipip -j ACCEPT")
c("4", "-p 4 -j ACCEPT")
c("4", "-p 41 -j ACCEPT")
c("4", "-p ospf -j ACCEPT")
c("4", "-p 89 -j ACCEPT")
c("4", "-p vrrp -j ACCEPT")
c("4", "-p 112 -j ACCEPT")
c("4", "-p 255 -j ACCEPT")
c("4", "-p 200 -j ACCEPT", note="number without /etc/protocols name")
c("4", "-p 256 -j ACCEPT")
c("4", "-p foo -j ACCEPT")
c("4", "-p icmpv6 -j ACCEPT", note="icmpv6 on v4")
c("4", "-p 58 -j ACCEPT")
c("6", "-p icmpv6 -j ACCEPT")
c("6", "-p ipv6-icmp -j ACCEPT")
c("6", "-p 58 -j ACCEPT")
c("6", "-p ICMPv6 -j ACCEPT")
c("6", "-p icmp -j ACCEPT", note="icmp on v6")
c("6", "-p tcp -j ACCEPT")
c("6", "-p 6 -j ACCEPT")
c("6", "-p all -j ACCEPT")
c("6", "-p 0 -j ACCEPT")
c("6", "-p esp -j ACCEPT")
c("6", "-p mh -j ACCEPT")
c("6", "-p 135 -j ACCEPT")
c("6", "-p ipv6-frag -j ACCEPT")
c("6", "-p 44 -j ACCEPT")

# ---------------------------------------------------------------- fragment
c("4", "-f -j DROP")
c("4", "! -f -j DROP")
c("4", "--fragment -p udp -j DROP")
c("6", "-f -j DROP", note="-f on v6")

# ---------------------------------------------------------------- ordering
c("4", "-j ACCEPT -p tcp -d 1.2.3.4 -s 5.6.7.8 -o eth1 -i eth0", note="core order")
c("4", "-f -p udp -i eth0 -j ACCEPT", note="-f position")
c("4", "-m comment --comment x -p tcp --dport 22 -j ACCEPT", note="comment before tcp")
c("4", "-p tcp -m comment --comment x --dport 22 -j ACCEPT", note="tcp option after comment")
c("4", "-m mark --mark 1 -s 1.2.3.4 -m comment --comment x -j ACCEPT", note="matches keep user order")
c("4", "-m comment --comment a -m comment --comment b -j ACCEPT", note="two comments")
c("4", "-p tcp --dport 22 -m conntrack --ctstate NEW -m comment --comment c -j ACCEPT")
c("4", "-p tcp -m conntrack --ctstate NEW --dport 22 -j ACCEPT", note="implicit tcp after conntrack")

# ---------------------------------------------------------------- implicit matches / tcp / udp
c("46", "-p tcp --dport 22 -j ACCEPT", note="implicit -m tcp")
c("4", "-p tcp -m tcp --dport 22 -j ACCEPT")
c("4", "-p tcp -m tcp -j ACCEPT", note="-m tcp without options")
c("4", "-p tcp -m tcp -m tcp --dport 22 -j ACCEPT", note="-m tcp twice")
c("4", "-p tcp -m tcp --dport 22 -m tcp --sport 1 -j ACCEPT", note="-m tcp twice with options")
c("4", "-p tcp -m udp --dport 22 -j ACCEPT", note="udp match with -p tcp")
c("4", "-m tcp --dport 22 -j ACCEPT", note="-m tcp without -p")
c("4", "--dport 22 -p tcp -j ACCEPT", note="--dport before -p")
c("4", "-p tcp --destination-port 22 --source-port 1 -j ACCEPT")
c("4", "-p tcp --dp 22 -j ACCEPT", note="abbreviated --dport")
c("4", "-p tcp --dport=22 -j ACCEPT")
c("4", "-p tcp --dport ssh -j ACCEPT", note="service name")
c("4", "-p tcp --dport SSH -j ACCEPT", note="service name upper case")
c("4", "-p tcp --dport http -j ACCEPT")
c("4", "-p udp --dport domain -j ACCEPT")
c("4", "-p tcp --dport 1000:2000 -j ACCEPT", note="range")
c("4", "-p tcp --dport :1024 -j ACCEPT", note="open start")
c("4", "-p tcp --dport 1024: -j ACCEPT", note="open end")
c("4", "-p tcp --dport 0:65535 -j ACCEPT", note="full range")
c("4", "-p tcp --dport 0: -j ACCEPT")
c("4", "-p tcp --dport 22:22 -j ACCEPT")
c("4", "-p tcp --dport 2000:1000 -j ACCEPT", note="reversed range")
c("4", "-p tcp --dport 0 -j ACCEPT")
c("4", "-p tcp --dport 65536 -j ACCEPT")
c("4", "-p tcp --dport 022 -j ACCEPT", note="leading zero")
c("4", "-p tcp --dport 0x16 -j ACCEPT", note="hex")
c("4", "-p tcp --dport 1000-2000 -j ACCEPT", note="dash range")
c("4", "-p tcp --dport ssh:http -j ACCEPT", note="named range")
c("4", "-p tcp ! --dport 22 -j ACCEPT", note="negation")
c("4", "-p tcp --dport ! 22 -j ACCEPT", note="old negation")
c("4", "-p tcp --dport 80 --sport 22 -j ACCEPT", note="sport printed first?")
c("4", "-p udp --sport 53 --dport 1024:65535 -j ACCEPT")
c("4", "-p udp ! --sport 53 ! --dport 53 -j ACCEPT")
c("6", "-p udp --dport 53 -j ACCEPT")
c("4", "-p sctp --dport 22 -j ACCEPT", note="implicit sctp")
c("4", "-p udplite --dport 22 -j ACCEPT", note="udplite has no implicit match")
c("4", "-p 6 --dport 22 -j ACCEPT", note="numeric proto implicit match")
c("4", "-p TCP --dport 22 -j ACCEPT", note="upper proto implicit match")

# ---------------------------------------------------------------- tcp flags / options
c("4", "-p tcp --tcp-flags SYN,ACK SYN -j ACCEPT")
c("4", "-p tcp --tcp-flags ACK,SYN SYN -j ACCEPT", note="flag order")
c("4", "-p tcp --tcp-flags syn,ack syn -j ACCEPT", note="lower case")
c("4", "-p tcp --tcp-flags ALL NONE -j DROP")
c("4", "-p tcp --tcp-flags ALL ALL -j DROP")
c("4", "-p tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP", note="six flags = ALL?")
c("4", "-p tcp --tcp-flags FIN,SYN,RST,PSH,ACK,URG,ECE,CWR NONE -j DROP")
c("4", "-p tcp --tcp-flags ALL FIN,PSH,URG -j DROP")
c("4", "-p tcp --tcp-flags SYN,SYN SYN -j DROP", note="duplicate flag")
c("4", "-p tcp --syn -j ACCEPT")
c("4", "-p tcp ! --syn -j ACCEPT")
c("4", "-p tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT", note="spelled-out --syn")
c("4", "-p tcp ! --tcp-flags SYN,RST SYN,RST -j ACCEPT")
c("4", "-p tcp --tcp-flags SYN,RST SYN --dport 22 --sport 1 -j ACCEPT", note="tcp option order")
c("4", "-p tcp --tcp-option 2 -j ACCEPT")
c("4", "-p tcp ! --tcp-option 2 -j ACCEPT")
c("4", "-p tcp --syn --dport 22 -j ACCEPT")
c("6", "-p tcp --syn -j ACCEPT")

# ---------------------------------------------------------------- icmp
c("4", "-p icmp --icmp-type echo-request -j ACCEPT", note="name")
c("4", "-p icmp --icmp-type 8 -j ACCEPT", note="number")
c("4", "-p icmp --icmp-type 8/0 -j ACCEPT")
c("4", "-p icmp --icmp-type any -j ACCEPT")
c("4", "-p icmp --icmp-type 3 -j ACCEPT")
c("4", "-p icmp --icmp-type 3/4 -j ACCEPT")
c("4", "-p icmp --icmp-type destination-unreachable -j ACCEPT")
c("4", "-p icmp --icmp-type port-unreachable -j ACCEPT")
c("4", "-p icmp --icmp-type fragmentation-needed -j ACCEPT")
c("4", "-p icmp --icmp-type echo-reply -j ACCEPT")
c("4", "-p icmp --icmp-type 0 -j ACCEPT")
c("4", "-p icmp --icmp-type pong -j ACCEPT", note="alias")
c("4", "-p icmp --icmp-type time-exceeded -j ACCEPT")
c("4", "-p icmp --icmp-type 255 -j ACCEPT")
c("4", "-p icmp --icmp-type 42 -j ACCEPT")
c("4", "-p icmp ! --icmp-type 8 -j ACCEPT")
c("4", "-p icmp -m icmp --icmp-type 8 -j ACCEPT")
c("4", "-p icmp --icmp-type Echo-Request -j ACCEPT", note="case")
c("4", "-p 1 --icmp-type 8 -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type echo-request -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type 128 -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type 1/4 -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type neighbour-solicitation -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type neighbor-solicitation -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type 135 -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type any -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type destination-unreachable -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type 1 -j ACCEPT")
c("6", "-p icmpv6 ! --icmpv6-type 128 -j ACCEPT")
c("6", "-p ipv6-icmp --icmpv6-type 135 -j ACCEPT")
c("6", "-p 58 --icmpv6-type 135 -j ACCEPT")
c("6", "-p icmpv6 -m icmp6 --icmpv6-type 136 -j ACCEPT")
c("6", "-p icmpv6 --icmpv6-type 200 -j ACCEPT")

# ---------------------------------------------------------------- multiport
c("46", "-p tcp -m multiport --dports 22,80,443 -j ACCEPT")
c("4", "-p tcp -m multiport --sports 22,80 -j ACCEPT")
c("4", "-p tcp -m multiport --ports 22,80 -j ACCEPT")
c("4", "-p tcp -m multiport --dports 1000:2000,22 -j ACCEPT")
c("4", "-p tcp -m multiport --dports 443,80,22 -j ACCEPT", note="order kept?")
c("4", "-p tcp -m multiport --dports ssh,http -j ACCEPT")
c("4", "-p tcp -m multiport ! --dports 22,80 -j ACCEPT")
c("4", "-p tcp -m multiport --destination-ports 22 -j ACCEPT")
c("4", "-p tcp -m multiport --source-ports 22 -j ACCEPT")
c("4", "-m multiport --dports 22 -j ACCEPT", note="no -p")
c("4", "-p udp -m multiport --dports 53,123 -j ACCEPT")
c("4", "-p tcp -m multiport --dports 22,22 -j ACCEPT", note="duplicate")
c("4", "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15 -j ACCEPT", note="15 ports")
c("4", "-p tcp -m multiport --dports 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16 -j ACCEPT", note="16 ports")
c(
    "4",
    "-p tcp -m multiport --dports 1:2,3:4,5:6,7:8,9:10,11:12,13:14,15 -j ACCEPT",
    note="ranges count twice",
)
c("4", "-p tcp -m multiport --dports 22 --sports 80 -j ACCEPT", note="dports and sports")
c("4", "-p tcp -m multiport --dports :1024 -j ACCEPT")
c("4", "-p sctp -m multiport --dports 22 -j ACCEPT")

# ---------------------------------------------------------------- comment
for text in [
    "hello",
    "hello world",
    'a"b',
    "a\\b",
    "a'b",
    "",
    "x-y_z",
    "a.b",
    "vnetkit:lab",
    "a/b",
    "a,b",
    "héllo",
    "a$b",
    "tab\there",
    "#x",
    "a=b",
    "a  b",
    "trailing ",
    " leading",
    'a\\"b',
    "x" * 256,
    "x" * 255,
    "a\nb",
]:
    c("4", ["-m", "comment", "--comment", text, "-j", "ACCEPT"], note=f"comment {text[:20]!r}")
c("6", ["-m", "comment", "--comment", "hello world", "-j", "ACCEPT"])

# ---------------------------------------------------------------- conntrack / state
c("46", "-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT", note="order of states")
c("4", "-m conntrack --ctstate NEW -j ACCEPT")
c("4", "-m conntrack --ctstate new -j ACCEPT", note="lower case")
c(
    "4",
    "-m conntrack --ctstate UNTRACKED,SNAT,DNAT,RELATED,ESTABLISHED,NEW,INVALID -j ACCEPT",
    note="all states",
)
c("4", "-m conntrack --ctstate NEW,NEW -j ACCEPT")
c("4", "-m conntrack ! --ctstate INVALID -j ACCEPT")
c("4", "-m conntrack --ctstatus ASSURED -j ACCEPT")
c("4", "-m conntrack --ctstatus CONFIRMED,SEEN_REPLY,EXPECTED,ASSURED -j ACCEPT")
c("4", "-m conntrack --ctstatus NONE -j ACCEPT")
c("4", "-m conntrack --ctorigdst 10.0.0.1 -j ACCEPT")
c("4", "-m conntrack --ctorigsrc 10.1.2.3/8 -j ACCEPT")
c("4", "-m conntrack --ctrepldst 10.0.0.1 --ctreplsrc 10.0.0.2 -j ACCEPT")
c("4", "-m conntrack --ctdir ORIGINAL -j ACCEPT")
c("4", "-m conntrack --ctdir REPLY -j ACCEPT")
c("4", "-m conntrack --ctproto tcp -j ACCEPT")
c("4", "-m conntrack --ctproto 6 -j ACCEPT")
c("4", "-m conntrack --ctorigdstport 80 -j ACCEPT")
c("4", "-m conntrack --ctorigdstport 80:90 -j ACCEPT")
c("4", "-m conntrack --ctexpire 10:20 -j ACCEPT")
c(
    "4",
    "-m conntrack --ctdir REPLY --ctstatus ASSURED --ctorigdst 1.2.3.4 --ctproto tcp --ctstate NEW -j ACCEPT",
    note="option order",
)
c("6", "-m conntrack --ctorigdst 2001:db8::1 -j ACCEPT")
c("46", "-m state --state ESTABLISHED,RELATED -j ACCEPT")
c("4", "-m state --state NEW -j ACCEPT")
c("4", "-m state ! --state NEW -j ACCEPT")
c("4", "-m state --state INVALID,UNTRACKED -j ACCEPT")
c("4", "-m state --state SNAT -j ACCEPT", note="SNAT not valid for state")

# ---------------------------------------------------------------- mark / connmark
c("4", "-m mark --mark 1 -j ACCEPT")
c("4", "-m mark --mark 10 -j ACCEPT", note="decimal -> hex")
c("4", "-m mark --mark 0x1/0xff -j ACCEPT")
c("4", "-m mark --mark 1/0xffffffff -j ACCEPT", note="full mask")
c("4", "-m mark --mark 0xFF -j ACCEPT", note="upper-case hex")
c("4", "-m mark ! --mark 1 -j ACCEPT")
c("4", "-m mark --mark 0 -j ACCEPT")
c("4", "-m mark --mark 0xffffffff -j ACCEPT")
c("4", "-m mark --mark 0x100000000 -j ACCEPT", note="overflow")
c("4", "-m mark --mark 010 -j ACCEPT", note="octal?")
c("6", "-m mark --mark 0x10/0xf0 -j ACCEPT")
c("4", "-m connmark --mark 1 -j ACCEPT")
c("4", "-m connmark --mark 0x10/0xf0 -j ACCEPT")
c("4", "-m connmark ! --mark 1 -j ACCEPT")

# ---------------------------------------------------------------- limit
for lim in [
    "300/min",
    "5/sec",
    "10/s",
    "1/hour",
    "1/day",
    "3/minute",
    "7/min",
    "1000/sec",
    "100/min",
    "2/h",
    "1/second",
    "60/min",
    "3600/hour",
    "0/sec",
    "5",
]:
    c("4", f"-m limit --limit {lim} -j ACCEPT", note=f"limit {lim}")
c("4", "-m limit -j ACCEPT", note="no --limit")
c("4", "-m limit --limit 1/sec --limit-burst 5 -j ACCEPT", note="default burst")
c("4", "-m limit --limit 1/sec --limit-burst 10 -j ACCEPT")
c("4", "-m limit --limit-burst 10 -j ACCEPT")
c("4", "-m limit ! --limit 1/sec -j ACCEPT", note="negation")
c("6", "-m limit --limit 300/min --limit-burst 20 -j ACCEPT")

# ---------------------------------------------------------------- recent
c("4", "-m recent --set -j ACCEPT")
c("4", "-m recent --set --name foo -j ACCEPT")
c("4", "-m recent --name DEFAULT --set -j ACCEPT")
c("4", "-m recent --rcheck --seconds 60 --hitcount 4 -j DROP")
c("4", "-m recent --update --seconds 60 --name SSH --rsource -j DROP")
c("4", "-m recent --update --name SSH --rdest -j DROP")
c("4", "-m recent --rcheck --mask 255.255.255.0 -j DROP")
c("4", "-m recent --rcheck --seconds 60 --reap -j DROP")
c("4", "-m recent --rcheck --rttl -j DROP")
c("4", "-m recent --remove -j DROP")
c("4", "-m recent ! --rcheck -j DROP")
c("4", "-m recent --hitcount 2 --seconds 10 --update --name X1 -j DROP", note="option order")
c("6", "-m recent --set -j ACCEPT")
c("6", "-m recent --rcheck --mask ffff:ffff:ffff:ffff:: -j DROP")

# ---------------------------------------------------------------- mac / iprange / addrtype / pkttype
c("4", "-m mac --mac-source 00:11:22:AA:bb:cc -j ACCEPT", note="mac case")
c("4", "-m mac ! --mac-source 00:11:22:33:44:55 -j ACCEPT")
c("4", "-m mac --mac-source 0:1:2:3:4:5 -j ACCEPT", note="short octets")
c("6", "-m mac --mac-source 00:11:22:aa:bb:cc -j ACCEPT")
c("4", "-m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT")
c("4", "-m iprange --dst-range 10.0.0.1-10.0.0.9 -j ACCEPT")
c("4", "-m iprange ! --src-range 10.0.0.1-10.0.0.9 -j ACCEPT")
c(
    "4",
    "-m iprange --dst-range 10.0.0.9-10.0.0.1 --src-range 1.1.1.1-1.1.1.2 -j ACCEPT",
    note="order / reversed",
)
c("4", "-m iprange --src-range 10.0.0.1 -j ACCEPT", note="single address")
c("6", "-m iprange --src-range 2001:db8::1-2001:db8::0:9 -j ACCEPT")
c("4", "-m addrtype --src-type LOCAL -j ACCEPT")
c("4", "-m addrtype --dst-type local -j ACCEPT", note="lower case")
c("4", "-m addrtype --dst-type LOCAL,BROADCAST -j ACCEPT")
c("4", "-m addrtype --dst-type BROADCAST,LOCAL -j ACCEPT", note="order")
c("4", "-m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT", chain="PREROUTING", table="nat")
c("4", "-m addrtype ! --dst-type LOCAL -j ACCEPT")
c("4", "-m addrtype --dst-type LOCAL --src-type UNICAST -j ACCEPT", note="order src/dst")
c("6", "-m addrtype --dst-type LOCAL -j ACCEPT")
c("4", "-m pkttype --pkt-type broadcast -j ACCEPT")
c("4", "-m pkttype --pkt-type BROADCAST -j ACCEPT")
c("4", "-m pkttype --pkt-type multicast -j ACCEPT")
c("4", "-m pkttype --pkt-type host -j ACCEPT")
c("4", "-m pkttype --pkt-type unicast -j ACCEPT")
c("4", "-m pkttype ! --pkt-type unicast -j ACCEPT")
c("6", "-m pkttype --pkt-type multicast -j ACCEPT")

# ---------------------------------------------------------------- length / ttl / hl
c("4", "-m length --length 100 -j ACCEPT")
c("4", "-m length --length 100:200 -j ACCEPT")
c("4", "-m length --length :100 -j ACCEPT")
c("4", "-m length --length 100: -j ACCEPT")
c("4", "-m length ! --length 64 -j ACCEPT")
c("6", "-m length --length 1280:65535 -j ACCEPT")
c("4", "-m ttl --ttl-eq 64 -j ACCEPT")
c("4", "-m ttl --ttl-gt 1 -j ACCEPT")
c("4", "-m ttl --ttl-lt 10 -j ACCEPT")
c("4", "-m ttl ! --ttl-eq 64 -j ACCEPT")
c("6", "-m ttl --ttl-eq 64 -j ACCEPT", note="ttl on v6")
c("6", "-m hl --hl-eq 255 -j ACCEPT")
c("6", "-m hl --hl-gt 1 -j ACCEPT")
c("6", "-m hl --hl-lt 2 -j ACCEPT")
c("6", "-m hl ! --hl-eq 255 -j ACCEPT")
c("4", "-m hl --hl-eq 255 -j ACCEPT", note="hl on v4")

# ---------------------------------------------------------------- statistic
for prob in ["0.5", "0.25", "1", "0.1", "0", "0.333", "0.00001", ".5", "0.50000000001"]:
    c("4", f"-m statistic --mode random --probability {prob} -j ACCEPT", note=f"probability {prob}")
c("4", "-m statistic --mode nth --every 2 --packet 0 -j ACCEPT")
c("4", "-m statistic --mode nth --every 3 -j ACCEPT", note="packet omitted")
c("4", "-m statistic --mode nth --every 3 --packet 2 -j ACCEPT")
c("4", "-m statistic ! --mode random --probability 0.5 -j ACCEPT")
c("4", "-m statistic --mode nth ! --every 2 -j ACCEPT")
c("6", "-m statistic --mode random --probability 0.5 -j ACCEPT")

# ---------------------------------------------------------------- set (ipsets created by the probe)
c("4", "-m set --match-set s4 src -j ACCEPT")
c("4", "-m set --match-set s4 dst -j ACCEPT")
c("4", "-m set ! --match-set s4 src -j ACCEPT")
c("4", "-m set --match-set s4ip src,dst -j ACCEPT", note="hash:ip,port set")
c("4", "-m set --match-set s4 src --return-nomatch -j ACCEPT")
c("4", "-m set --match-set s4 src ! --update-counters -j ACCEPT")
c("4", "-m set --match-set s4 src --packets-gt 10 -j ACCEPT")
c("4", "-m set --match-set nosuchset src -j ACCEPT", note="missing set")
c("6", "-m set --match-set s6 src -j ACCEPT")
c("4", "-m set --match-set s6 src -j ACCEPT", note="v6 set on v4")

# ---------------------------------------------------------------- physdev
c("4", "-m physdev --physdev-in veth0 -j ACCEPT", chain="FORWARD")
c("4", "-m physdev --physdev-out veth+ -j ACCEPT", chain="FORWARD")
c("4", "-m physdev --physdev-is-bridged -j ACCEPT", chain="FORWARD")
c("4", "-m physdev --physdev-is-in --physdev-is-out -j ACCEPT", chain="FORWARD")
c("4", "-m physdev ! --physdev-is-bridged --physdev-in veth0 -j ACCEPT", chain="FORWARD")
c("6", "-m physdev --physdev-in veth0 -j ACCEPT", chain="FORWARD")

# ---------------------------------------------------------------- owner (OUTPUT)
c("4", "-m owner --uid-owner 0 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --uid-owner root -j ACCEPT", chain="OUTPUT", note="user name")
c("4", "-m owner --gid-owner 0 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --uid-owner 1000-2000 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner ! --uid-owner 0 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --socket-exists -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --gid-owner 0 --uid-owner 0 -j ACCEPT", chain="OUTPUT", note="order")
c("4", "-m owner --suppl-groups --gid-owner 0 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --uid-owner 0 -j ACCEPT", chain="INPUT", note="owner in INPUT")
c("6", "-m owner --uid-owner 0 -j ACCEPT", chain="OUTPUT")

# ---------------------------------------------------------------- string / helper / misc matches
c("4", "-m string --algo bm --string foo -j DROP")
c("4", "-m string --string foo --algo kmp -j DROP", note="order")
c("4", ["-m", "string", "--algo", "bm", "--string", "foo bar", "-j", "DROP"])
c("4", "-m string --algo bm --hex-string |41424344| -j DROP")
c("4", "-m string --algo bm --string AB|43| -j DROP", note="mixed hex")
c("4", "-m string --algo bm --from 10 --to 100 --string foo -j DROP")
c("4", "-m string --algo bm --string foo --icase -j DROP")
c("4", "-m string --algo bm ! --string foo -j DROP")
c("4", "-m string --string foo -j DROP", note="no --algo")
c("4", "-m helper --helper ftp -j ACCEPT")
c("4", "-m helper ! --helper ftp -j ACCEPT")
c("4", "-m tcpmss -p tcp --mss 1000:1500 -j ACCEPT")
c("4", "-m connlimit --connlimit-above 10 -j DROP")
c("4", "-m connlimit --connlimit-upto 10 --connlimit-mask 24 --connlimit-saddr -j DROP")
c("4", "-m hashlimit --hashlimit-upto 10/sec --hashlimit-name h1 -j ACCEPT")
c(
    "4",
    "-m hashlimit --hashlimit-above 100/min --hashlimit-burst 10 --hashlimit-mode srcip --hashlimit-name h2 -j DROP",
)
c("4", "-m dscp --dscp 10 -j ACCEPT")
c("4", "-m dscp --dscp-class EF -j ACCEPT")
c("4", "-m tos --tos 0x10 -j ACCEPT")
c("4", "-m tos --tos Minimize-Delay -j ACCEPT")
c("4", "-m time --timestart 09:00 --timestop 17:00 -j ACCEPT")
c("4", "-m time --weekdays Mon,Tue -j ACCEPT")
c("4", "-m u32 --u32 0>>22&0x3C@12>>26&0x3F=0x10 -j ACCEPT")
c("4", "-m quota --quota 1000 -j ACCEPT")
c("4", "-m devgroup --src-group 1 -j ACCEPT")
c("4", "-m cpu --cpu 0 -j ACCEPT")
c("4", "-m connbytes --connbytes 10:100 --connbytes-dir both --connbytes-mode bytes -j ACCEPT")
c("4", "-m policy --dir in --pol none -j ACCEPT")
c("4", "-m rpfilter -j ACCEPT", table="raw", chain="PREROUTING")
c("4", "-m rpfilter --invert --loose -j DROP", table="raw", chain="PREROUTING")
c("4", "-m socket -j ACCEPT", table="mangle", chain="PREROUTING")
c("4", "-p esp -m esp --espspi 100 -j ACCEPT")
c("4", "-p ah -m ah --ahspi 100 -j ACCEPT")
c("4", "-m ecn --ecn-tcp-cwr -p tcp -j ACCEPT")
c("4", "-p sctp -m sctp --chunk-types any INIT -j ACCEPT")
c("4", "-m nosuchmatch -j ACCEPT", note="unknown match")
c("4", "-m TCP -p tcp -j ACCEPT", note="match name case")
c("4", "-m conntrack -j ACCEPT", note="conntrack without options")
c("4", "-m mark -j ACCEPT", note="mark without options")

# ---------------------------------------------------------------- basic targets
for t in ["ACCEPT", "DROP", "RETURN", "QUEUE"]:
    c("4", f"-j {t}")
c("6", "-j DROP")
c("4", "-s 1.2.3.4", note="no target")
c("4", "", note="empty rule")
c("4", "-j accept", note="lower-case verdict")
c("4", "-j TGT", note="jump to user chain")
c("4", "-g TGT", note="goto user chain")
c("4", "--jump TGT")
c("4", "--goto TGT")
c("4", "--jum ACCEPT", note="abbreviated --jump")
c("4", "-j NOSUCH", note="missing chain")
c("4", "-j X", note="jump to itself")
c("4", "-j NFQUEUE --queue-num 1")
c("4", "-j NFQUEUE")
c("4", "-j NFQUEUE --queue-balance 0:3 --queue-bypass")
c("4", "-j NFQUEUE --queue-num 0")
c("4", "-p tcp --dport 22 -j TGT -m comment --comment after", note="-j before -m")

# ---------------------------------------------------------------- REJECT
c("4", "-j REJECT", note="default")
for rw in [
    "icmp-port-unreachable",
    "port-unreach",
    "icmp-host-unreachable",
    "host-unreach",
    "icmp-net-unreachable",
    "icmp-proto-unreachable",
    "icmp-net-prohibited",
    "icmp-host-prohibited",
    "icmp-admin-prohibited",
    "admin-prohib",
    "net-unreach",
]:
    c("4", f"-j REJECT --reject-with {rw}", note=f"reject-with {rw}")
c("4", "-p tcp -j REJECT --reject-with tcp-reset")
c("4", "-p tcp -j REJECT --reject-with tcp-rst", note="alias")
c("4", "-j REJECT --reject-with tcp-reset", note="tcp-reset without -p tcp")
c("4", "-j REJECT --reject-with icmp6-port-unreachable", note="v6 type on v4")
c("6", "-j REJECT", note="default")
for rw in [
    "icmp6-port-unreachable",
    "port-unreach",
    "icmp6-adm-prohibited",
    "adm-prohibited",
    "icmp6-no-route",
    "no-route",
    "icmp6-addr-unreachable",
    "addr-unreach",
    "icmp6-policy-fail",
    "icmp6-reject-route",
]:
    c("6", f"-j REJECT --reject-with {rw}", note=f"reject-with {rw}")
c("6", "-p tcp -j REJECT --reject-with tcp-reset")
c("6", "-j REJECT --reject-with icmp-port-unreachable", note="v4 type on v6")

# ---------------------------------------------------------------- LOG / NFLOG
c("46", "-j LOG", note="default")
c("4", "-j LOG --log-prefix abc")
c("4", ["-j", "LOG", "--log-prefix", "DROP: "], note="trailing space")
c("4", ["-j", "LOG", "--log-prefix", 'say "hi"'], note="quote inside")
c("4", ["-j", "LOG", "--log-prefix", "x" * 29], note="29 chars")
c("4", ["-j", "LOG", "--log-prefix", "x" * 30], note="30 chars")
c("4", ["-j", "LOG", "--log-prefix", ""], note="empty prefix")
for lvl in ["4", "warning", "warn", "7", "debug", "info", "6", "0", "emerg", "notice", "8", "Warning"]:
    c("4", f"-j LOG --log-level {lvl}", note=f"level {lvl}")
c("4", "-j LOG --log-tcp-options")
c("4", "-j LOG --log-ip-options")
c("4", "-j LOG --log-uid")
c("4", "-j LOG --log-tcp-sequence")
c("4", "-j LOG --log-macdecode")
c(
    "4",
    "-j LOG --log-uid --log-macdecode --log-ip-options --log-tcp-options --log-tcp-sequence --log-level 7 --log-prefix p",
    note="LOG option order",
)
c("6", "-j LOG --log-prefix v6 --log-level 3 --log-ip-options")
c("46", "-j NFLOG")
c("4", "-j NFLOG --nflog-group 1")
c("4", "-j NFLOG --nflog-group 0")
c("4", ["-j", "NFLOG", "--nflog-prefix", "x y"])
c("4", "-j NFLOG --nflog-range 64")
c("4", "-j NFLOG --nflog-size 64")
c("4", "-j NFLOG --nflog-threshold 2")
c("4", "-j NFLOG --nflog-threshold 1")
c("4", "-j NFLOG --nflog-threshold 2 --nflog-prefix p --nflog-group 5 --nflog-size 100", note="order")

# ---------------------------------------------------------------- MARK / CONNMARK (mangle)
M = {"table": "mangle", "chain": "PREROUTING"}
for spec in [
    "--set-mark 1",
    "--set-mark 0x1/0xff",
    "--set-mark 10",
    "--set-xmark 1",
    "--set-xmark 0x1/0xff",
    "--and-mark 0xff",
    "--or-mark 1",
    "--xor-mark 1",
    "--set-mark 0",
    "--set-mark 0xffffffff",
]:
    c("4", f"-j MARK {spec}", **M, note=f"MARK {spec}")
c("6", "-j MARK --set-mark 1", **M)
c("4", "-j MARK --set-mark 1", note="MARK in filter")
for spec in [
    "--set-mark 1",
    "--set-mark 0x1/0xff",
    "--set-xmark 1",
    "--save-mark",
    "--restore-mark",
    "--save-mark --nfmask 0xff --ctmask 0xff",
    "--save-mark --mask 0xff",
    "--restore-mark --mask 0xff",
    "--restore-mark --nfmask 0xf0 --ctmask 0xf",
    "--and-mark 0xff",
    "--or-mark 1",
]:
    c("4", f"-j CONNMARK {spec}", **M, note=f"CONNMARK {spec}")
c("6", "-j CONNMARK --restore-mark", **M)

# ---------------------------------------------------------------- NAT
PRE = {"table": "nat", "chain": "PREROUTING"}
POST = {"table": "nat", "chain": "POSTROUTING"}
c("4", "-j DNAT --to-destination 10.0.0.1", **PRE)
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1:80", **PRE)
c("4", "-j DNAT --to-destination 10.0.0.1-10.0.0.5", **PRE)
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1:80-90", **PRE)
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.5:80-90", **PRE)
c("4", "-j DNAT --to 10.0.0.1", **PRE, note="--to alias")
c("4", "-j DNAT --to-destination 10.0.0.1 --random", **PRE)
c("4", "-j DNAT --to-destination 10.0.0.1 --persistent", **PRE)
c("4", "-j DNAT --to-destination 10.0.0.1:80", **PRE, note="port without -p")
c("4", "-p tcp --dport 8080 -j DNAT --to-destination :80", **PRE, note="port only")
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1:80 --to-destination 10.0.0.2:80", **PRE, note="two --to")
c("4", "-j DNAT --to-destination 10.0.0.1", table="nat", chain="X", note="DNAT in user chain")
c("4", "-j DNAT --to-destination 10.0.0.1", table="nat", chain="POSTROUTING", note="DNAT in POSTROUTING")
c("4", "-j DNAT --to-destination 10.0.0.1", chain="X", note="DNAT in filter")
c("4", "-j DNAT", **PRE, note="no --to-destination")
c("6", "-j DNAT --to-destination 2001:db8::1", **PRE)
c("6", "-p tcp -j DNAT --to-destination [2001:db8::1]:80", **PRE)
c("6", "-p tcp -j DNAT --to-destination [2001:db8::1]-[2001:db8::5]:80-90", **PRE)
c("6", "-j DNAT --to-destination 2001:DB8:0::1", **PRE)
c("4", "-j SNAT --to-source 1.2.3.4", **POST)
c("4", "-j SNAT --to-source 1.2.3.4-1.2.3.8", **POST)
c("4", "-p udp -j SNAT --to-source 1.2.3.4:1024-65535", **POST)
c("4", "-j SNAT --to-source 1.2.3.4 --random-fully", **POST)
c("4", "-j SNAT --to-source 1.2.3.4 --random --persistent", **POST)
c("4", "-j SNAT --to-source 1.2.3.4 --random-fully --random", **POST, note="order")
c("6", "-j SNAT --to-source 2001:db8::1", **POST)
c("4", "-j MASQUERADE", **POST)
c("4", "-o eth0 -s 10.0.0.0/24 -j MASQUERADE", **POST)
c("4", "-p tcp -j MASQUERADE --to-ports 1024-65535", **POST)
c("4", "-p tcp -j MASQUERADE --to-ports 1024", **POST)
c("4", "-j MASQUERADE --to-ports 1024", **POST, note="ports without -p")
c("4", "-j MASQUERADE --random", **POST)
c("4", "-j MASQUERADE --random-fully", **POST)
c("4", "-j MASQUERADE --random --random-fully", **POST)
c("6", "-j MASQUERADE", **POST)
c("6", "-j MASQUERADE --random-fully", **POST)
c("4", "-j REDIRECT", **PRE)
c("4", "-p tcp -j REDIRECT --to-ports 8080", **PRE)
c("4", "-p tcp -j REDIRECT --to-ports 8080-8090", **PRE)
c("4", "-p tcp -j REDIRECT --to-port 8080", **PRE, note="--to-port alias")
c("4", "-p tcp -j REDIRECT --to-ports 8080 --random", **PRE)
c("6", "-p tcp -j REDIRECT --to-ports 8080", **PRE)
c("4", "-d 1.2.3.0/24 -j NETMAP --to 10.0.0.0/24", **PRE)

# ---------------------------------------------------------------- raw: CT / NOTRACK / TRACE
RAW = {"table": "raw", "chain": "PREROUTING"}
c("4", "-j CT --notrack", **RAW)
c("4", "-j CT --zone 1", **RAW)
c("4", "-j CT --zone-orig 1", **RAW)
c("4", "-p tcp --dport 21 -j CT --helper ftp", **RAW)
c("4", "-j CT --ctevents new,related", **RAW)
c("4", "-j CT --ctevents related,new", **RAW, note="order")
c("4", "-j CT", **RAW, note="no options")
c("4", "-j NOTRACK", **RAW)
c("6", "-j NOTRACK", **RAW)
c("6", "-j CT --notrack", **RAW)
c("4", "-j TRACE", **RAW)
c("6", "-j TRACE", **RAW)
c("4", "-j TRACE", note="TRACE in filter")

# ---------------------------------------------------------------- mangle targets
MF = {"table": "mangle", "chain": "FORWARD"}
c("4", "-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu", **MF)
c("4", "-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --set-mss 1400", **MF)
c("4", "-p tcp -j TCPMSS --clamp-mss-to-pmtu", **MF, note="without SYN flags")
c("6", "-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu", **MF)
c("4", "-j DSCP --set-dscp 10", **MF)
c("4", "-j DSCP --set-dscp 0x0a", **MF)
c("4", "-j DSCP --set-dscp-class EF", **MF)
c("4", "-j DSCP --set-dscp-class af41", **MF)
c("6", "-j DSCP --set-dscp 46", **MF)
c("4", "-j TTL --ttl-set 64", **MF)
c("4", "-j TTL --ttl-dec 1", **MF)
c("4", "-j TTL --ttl-inc 1", **MF)
c("6", "-j HL --hl-set 64", **MF)
c("6", "-j HL --hl-dec 1", **MF)
c("4", "-j CLASSIFY --set-class 1:10", table="mangle", chain="POSTROUTING")
c("4", "-j CLASSIFY --set-class 0001:0010", table="mangle", chain="POSTROUTING")
c("4", "-j CLASSIFY --set-class 1:a", table="mangle", chain="POSTROUTING", note="hex minor")
c("6", "-j CLASSIFY --set-class 1:10", table="mangle", chain="POSTROUTING")
c("4", "-j TOS --set-tos 0x10", **MF)
c("4", "-j TOS --set-tos Minimize-Delay", **MF)
c("4", "-p udp -j CHECKSUM --checksum-fill", table="mangle", chain="POSTROUTING")
c("4", "-j SET --add-set s4 src", **MF)
c("4", "-j SET --del-set s4 src,dst", **MF)
c("4", "-p tcp -j TPROXY --on-port 8080 --tproxy-mark 0x1/0x1", table="mangle", chain="PREROUTING")
c("4", "-j AUDIT --type accept")

# ---------------------------------------------------------------- misc syntax
c("4", "-4 -s 1.2.3.4 -j ACCEPT", note="-4 flag")
c("4", "-6 -s 1.2.3.4 -j ACCEPT", note="-6 flag on iptables")
c("4", "-c 10 20 -s 1.2.3.4 -j ACCEPT", note="counters (not printed without -c)")
c("4", "-s 1.2.3.4 -j ACCEPT -j DROP", note="two targets")
c("4", "-p tcp -p udp -j ACCEPT", note="two -p")
c("4", "-i eth0 -i eth1 -j ACCEPT", note="two -i")


# ---------------------------------------------------------------- round 2: edge cases found while reading round 1
# IPv4 address parser (dotted parts, strtoul base 0, missing parts = 0)
for a in [
    "1.2.3.4.5",
    "0x0a.1.2.3",
    "10.",
    "10.1.2",
    "1",
    "0xa",
    "10.1.2.3/255.255.255.255",
    "10.1.2.3/0.0.0.0",
    "10.1.2.3/255.255.255.128",
    "10.1.2.3/08",
    "10.1.2.3/0x8",
    "10.1.2.3/24/24",
    " 10.1.2.3",
    "10.1.2.3/",
    "10.1.2.3,",
    "10.1.2.3,,10.1.2.4",
]:
    c("4", ["-s", a, "-j", "ACCEPT"], note=f"v4 parse {a!r}")
c("4", "-d 10.9.8.7/28 -j ACCEPT")
# IPv6 text form (inet_ntop rules: embedded IPv4 for ::/96 and ::ffff:0:0/96)
for a in [
    "::1.2.3.4",
    "::2",
    "::0.0.1.0",
    "::100",
    "0:0:0:0:0:1:0:0",
    "::ffff:0:1",
    "1::",
    "2001:db8::",
    "fe80::1:0:0:0",
    "0:0:1::",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "::ffff:1.2.3.4/96",
    "64:ff9b::1.2.3.4",
    "::1:2:3:4:5:6",
    "1:0:0:2:0:0:0:3",
    "1:0:0:0:2:0:0:3",
    "::ffff:ffff:1.2.3.4",
    "2001:db8::1/0",
    "2001:db8::1/64/64",
    "[2001:db8::1]",
    "2001:db8::1/ffff::",
]:
    c("6", ["-s", a, "-j", "ACCEPT"], note=f"v6 text {a!r}")
c("6", "-s localhost -j ACCEPT", note="hostname on v6 (resolver-dependent)")
c("6", "-j ACCEPT -p udp -d 2001:db8::2 -s 2001:db8::1 -o eth1 -i eth0", note="v6 core order")
c("46", "! -i + -j ACCEPT", note="negated bare wildcard")
c("4", "! -p all -j ACCEPT")
c("4", "! -p 0 -j ACCEPT")
c("4", "-p dccp -j ACCEPT", note="dccp (name from /etc/protocols)")
c("4", "-p 33 -j ACCEPT")
c("4", "-p ipv6-mh -j ACCEPT")
c("6", "-p ah -j ACCEPT", note="ah on v6")
c("4", "-i eth0 -p tcp -s 1.2.3.4 ! -f -d 5.6.7.8 -o eth1 -j DROP", note="core order with ! -f")
# tcp/udp edges and nft merging of repeated -m tcp
c("4", "-p tcp --dport : -j ACCEPT")
c("4", "-p tcp ! --dport 0:65535 -j ACCEPT", note="negated full range")
c("4", "-p tcp --dport 08 -j ACCEPT", note="invalid octal")
c("4", "-p tcp --sport 0:65535 --dport 22 -j ACCEPT")
c("4", "-m tcp -p tcp --dport 22 -j ACCEPT", note="-m tcp before -p")
c(
    "4",
    "-p tcp -m tcp --dport 22 -m comment --comment x -m tcp --sport 1 -j ACCEPT",
    note="nft merge across comment?",
)
c("4", "-p tcp -m tcp ! --dport 22 -m tcp --sport 1 -j ACCEPT", note="nft merge with negation")
c("4", "-p tcp -m tcp --dport 22 -m tcp --dport 23 -j ACCEPT", note="two dport in two tcp matches")
c("4", "-p tcp -m tcp --sport 1 -m tcp --dport 22 -j ACCEPT", note="merge order")
c("4", "-p tcp -m tcp --dport 22 -m tcp --syn -j ACCEPT", note="merge with flags")
c("4", "-p tcp -m tcp --syn -m tcp --dport 22 -j ACCEPT")
c("4", "-p tcp -m tcp --tcp-option 2 -m tcp --dport 22 -j ACCEPT", note="tcp-option is not native in nft")
c("4", "-p udp --dport 53 -m udp --sport 1 -j ACCEPT", note="udp merge")
c("6", "-p tcp -m tcp --dport 22 -m tcp --sport 1 -j ACCEPT")
c(
    "4",
    "-p tcp --dport 22 -m conntrack --ctstate NEW --sport 1 -j ACCEPT",
    note="option to already loaded match",
)
c("4", "-p tcp --dport 22 -m tcp --sport 1 -j ACCEPT", note="implicit then explicit tcp")
c("4", "-p tcp -m tcp --dport 22 -m tcp -j ACCEPT", note="empty second tcp")
c("4", "-p udp -m udp -j ACCEPT")
c("4", "-p tcp -m multiport --dports 22:22,1000:,0:65535 -j ACCEPT")
c("4", "-p tcp -m multiport --dports ssh:http -j ACCEPT")
c("4", "-p tcp -m multiport --ports 1000:2000 -j ACCEPT")
c("4", "-m length --length 100:100 -j ACCEPT")
c("4", "-m length --length 0:65535 -j ACCEPT")
# icmp / icmpv6 name tables
ICMP4 = [
    "any",
    "echo-reply",
    "pong",
    "destination-unreachable",
    "network-unreachable",
    "host-unreachable",
    "protocol-unreachable",
    "port-unreachable",
    "fragmentation-needed",
    "source-route-failed",
    "network-unknown",
    "host-unknown",
    "network-prohibited",
    "host-prohibited",
    "TOS-network-unreachable",
    "TOS-host-unreachable",
    "communication-prohibited",
    "host-precedence-violation",
    "precedence-cutoff",
    "source-quench",
    "redirect",
    "network-redirect",
    "host-redirect",
    "TOS-network-redirect",
    "TOS-host-redirect",
    "echo-request",
    "ping",
    "router-advertisement",
    "router-solicitation",
    "time-exceeded",
    "ttl-exceeded",
    "ttl-zero-during-transit",
    "ttl-zero-during-reassembly",
    "parameter-problem",
    "ip-header-bad",
    "required-option-missing",
    "timestamp-request",
    "timestamp-reply",
    "address-mask-request",
    "address-mask-reply",
]
ICMP6 = [
    "destination-unreachable",
    "no-route",
    "communication-prohibited",
    "beyond-scope",
    "address-unreachable",
    "port-unreachable",
    "failed-policy",
    "reject-route",
    "packet-too-big",
    "time-exceeded",
    "ttl-exceeded",
    "ttl-zero-during-transit",
    "ttl-zero-during-reassembly",
    "parameter-problem",
    "bad-header",
    "unknown-header-type",
    "unknown-option",
    "echo-request",
    "ping",
    "echo-reply",
    "pong",
    "router-solicitation",
    "router-advertisement",
    "neighbour-solicitation",
    "neighbor-solicitation",
    "neighbour-advertisement",
    "neighbor-advertisement",
    "redirect",
]
for n in ICMP4:
    c("4", f"-p icmp --icmp-type {n} -j ACCEPT", note=f"icmp name {n}")
for n in ["8/1", "3/255", "3/256", "8/", "/0", "-1", "256", "echo", "0x8"]:
    c("4", ["-p", "icmp", "--icmp-type", n, "-j", "ACCEPT"], note=f"icmp form {n!r}")
for n in ICMP6:
    c("6", f"-p icmpv6 --icmpv6-type {n} -j ACCEPT", note=f"icmpv6 name {n}")
for n in ["128/0", "255", "1/255", "0"]:
    c("6", ["-p", "icmpv6", "--icmpv6-type", n, "-j", "ACCEPT"], note=f"icmpv6 form {n!r}")
# REJECT name tables
for rw in ["proto-unreach", "net-prohib", "host-prohib", "icmp-tcp-reset"]:
    c("4", f"-j REJECT --reject-with {rw}", note=f"reject-with {rw}")
for rw in ["policy-fail", "reject-route", "icmp6-addr-unreach"]:
    c("6", f"-j REJECT --reject-with {rw}", note=f"reject-with {rw}")
c("6", "-p udp -j REJECT --reject-with tcp-reset", note="tcp-reset with -p udp")
c("4", "-p tcp -j REJECT", note="default with -p tcp")
# LOG levels and prefixes
for lvl in ["alert", "crit", "error", "err", "panic", "1", "2", "3", "5", "04", "0x4", " 4"]:
    c("4", ["-j", "LOG", "--log-level", lvl], note=f"level {lvl!r}")
c("4", ["-j", "LOG", "--log-prefix", "it's"], note="single quote")
c("4", ["-j", "LOG", "--log-prefix", "a\\b"], note="backslash")
c("4", ["-j", "LOG", "--log-prefix", "IN=DROP:"], note="= and :")
c("4", ["-j", "LOG", "--log-prefix", "é" * 15], note="multibyte truncation at 29 bytes")
c("6", "-j LOG --log-level debug --log-uid --log-tcp-sequence")
# DSCP / TOS tables
for cls in [
    "CS0",
    "CS1",
    "CS2",
    "CS3",
    "CS4",
    "CS5",
    "CS6",
    "CS7",
    "AF11",
    "AF12",
    "AF13",
    "AF21",
    "AF22",
    "AF23",
    "AF31",
    "AF32",
    "AF33",
    "AF41",
    "AF42",
    "AF43",
    "EF",
    "BE",
    "ef",
    "cs6",
]:
    c("4", f"-m dscp --dscp-class {cls} -j ACCEPT", note=f"dscp class {cls}")
c("4", "-m dscp --dscp 0x2e -j ACCEPT")
c("4", "-m dscp ! --dscp 46 -j ACCEPT")
c("4", "-m dscp --dscp 64 -j ACCEPT", note="out of range")
for t in [
    "Maximize-Throughput",
    "Maximize-Reliability",
    "Minimize-Cost",
    "Normal-Service",
    "0x10/0x3f",
    "16",
    "minimize-delay",
]:
    c("4", f"-m tos --tos {t} -j ACCEPT", note=f"tos match {t}")
    c("4", f"-j TOS --set-tos {t}", table="mangle", chain="FORWARD", note=f"TOS target {t}")
c("4", "-j TOS --and-tos 0x0f", table="mangle", chain="FORWARD")
c("4", "-j TOS --or-tos 0x10", table="mangle", chain="FORWARD")
c("4", "-j TOS --xor-tos 0x10", table="mangle", chain="FORWARD")
# limit print algorithm
for lim in [
    "7/sec",
    "3/sec",
    "13/min",
    "333/sec",
    "10000/sec",
    "10001/sec",
    "1/min",
    "59/min",
    "61/min",
    "120/min",
    "7/hour",
    "25/hour",
    "24/day",
    "2/day",
    "1440/day",
    "3/hour",
    "1/s",
    "5/m",
    "5/d",
    "5/minute",
    "5/hours",
    "5/days",
    "5/foo",
    "abc",
    "5/",
    "1/sec/2",
    "0x10/sec",
    "010/sec",
    "4294967295/sec",
]:
    c("4", ["-m", "limit", "--limit", lim, "-j", "ACCEPT"], note=f"limit {lim}")
c("4", "-m limit --limit 1/min --limit-burst 1 -j ACCEPT")
c("4", "-m limit --limit-burst 0 -j ACCEPT")
c("4", "-m limit --limit-burst 10001 -j ACCEPT")
c("4", "-m limit --limit 5/sec --limit 6/sec -j ACCEPT", note="--limit twice")
# statistic
for prob in ["0.999999999", "0.7", "1.5", "-0.1", "0x1p-1", "1e-1", "0.0000000001"]:
    c("4", f"-m statistic --mode random --probability {prob} -j ACCEPT", note=f"probability {prob}")
c("4", "-m statistic --mode nth --every 2 --packet 2 -j ACCEPT", note="packet >= every")
c("4", "-m statistic --mode nth --packet 0 --every 2 -j ACCEPT", note="order")
# marks
c("4", "-j MARK --set-mark 0x10/0x1", table="mangle", chain="PREROUTING", note="set-mark with mask")
c("4", "-j MARK --set-xmark 0x10/0x1", table="mangle", chain="PREROUTING")
c("4", "-j CONNMARK --set-mark 0x10/0x1", table="mangle", chain="PREROUTING")
c("4", "-j CONNMARK --xor-mark 1", table="mangle", chain="PREROUTING")
c("4", "-j CONNMARK --save-mark --nfmask 0xff", table="mangle", chain="PREROUTING")
c("4", "-j CONNMARK --restore-mark --ctmask 0xff", table="mangle", chain="PREROUTING")
c("4", "-m connmark --mark 0x0/0xff -j ACCEPT")
# NAT forms
PRE = {"table": "nat", "chain": "PREROUTING"}
POST = {"table": "nat", "chain": "POSTROUTING"}
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1:80-80", **PRE)
c("4", "-j DNAT --to-destination 10.0.0.1-10.0.0.1", **PRE)
c("4", "-j DNAT --to-destination 10.0.0.5-10.0.0.1", **PRE, note="reversed range")
c("4", "-p udp -j DNAT --to-destination 10.0.0.1:53", **PRE)
c("4", "-p sctp -j DNAT --to-destination 10.0.0.1:80", **PRE)
c("4", "-p icmp -j DNAT --to-destination 10.0.0.1:80", **PRE)
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1:90-80", **PRE, note="reversed ports")
c("4", "-p tcp -j DNAT --to-destination 10.0.0.1:80-90/85", **PRE, note="base port (rev 2)")
c("4", "-j DNAT --to-destination 10.0.0.1/24", **PRE, note="prefix")
c("4", "-j DNAT --to-destination 010.0.0.1", **PRE, note="octal in NAT address")
c("4", "-j DNAT --to-destination 10.0.0.1 --random --random-fully --persistent", **PRE, note="flag order")
c("4", "-j DNAT --to-destination 10.0.0.1 --persistent --random", **PRE, note="flag order 2")
c("4", "-p tcp -j DNAT --to-destination :80-90", **PRE)
c("6", "-p tcp -j DNAT --to-destination [2001:db8::1-2001:db8::5]:80-90", **PRE)
c("6", "-j DNAT --to-destination 2001:db8::1-2001:db8::5", **PRE)
c("6", "-j DNAT --to-destination [2001:db8::1]", **PRE)
c("6", "-p tcp -j DNAT --to-destination [2001:db8::1]:80-80", **PRE)
c("6", "-p tcp -j DNAT --to-destination 2001:db8::1:80", **PRE, note="port without brackets")
c("6", "-j DNAT --to-destination ::ffff:1.2.3.4", **PRE)
c("6", "-p udp -j SNAT --to-source [2001:db8::1]:1024-2000", **POST)
c("4", "-p tcp -j MASQUERADE --to-ports 1024:2000", **POST)
c("4", "-p tcp -j MASQUERADE --to-ports 2000-1024", **POST)
c("4", "-p tcp -j MASQUERADE --to-ports 1024-1024", **POST)
c("4", "-p tcp -j REDIRECT --to-ports 8080-8080", **PRE)
c("4", "-j REDIRECT --random", **PRE)
c("6", "-p tcp -j TPROXY --on-port 8080 --tproxy-mark 0x1/0x1", table="mangle", chain="PREROUTING")
c("4", "-p tcp -j TPROXY --on-port 8080 --on-ip 10.0.0.1 --tproxy-mark 1", table="mangle", chain="PREROUTING")
c("4", "-p tcp -j TPROXY --on-port 8080", table="mangle", chain="PREROUTING", note="no mark")
# owner / string / conntrack / addrtype / misc
c("4", "-m owner --uid-owner 1000-1000 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --uid-owner 0-4294967294 -j ACCEPT", chain="OUTPUT")
c("4", "-m owner --gid-owner 0 --suppl-groups -j ACCEPT", chain="OUTPUT")
c("4", "-m owner ! --socket-exists -j ACCEPT", chain="OUTPUT")
c("4", ["-m", "string", "--algo", "bm", "--hex-string", "|00 01 41|", "-j", "DROP"], note="non-printable")
c("4", ["-m", "string", "--algo", "bm", "--string", 'a"b', "-j", "DROP"])
c("4", ["-m", "string", "--algo", "bm", "--string", "a\\b", "-j", "DROP"])
c("4", ["-m", "string", "--algo", "bm", "--string", "a|b", "-j", "DROP"], note="pipe in --string")
c("4", "-m string --algo bm --string foo --to 65535 -j DROP", note="default --to")
c("4", "-m string --algo bm --string foo --from 0 -j DROP", note="default --from")
c("4", "-m conntrack --ctorigsrc 10.1.2.3 -j ACCEPT", note="no /32 in conntrack")
c("4", "-m conntrack --ctorigsrc 10.0.0.0/255.255.255.0 -j ACCEPT")
c("4", "-m conntrack --ctorigsrc 10.0.0.0/255.0.255.0 -j ACCEPT")
c("4", "-m conntrack --ctorigsrc 10.0.0.1,10.0.0.2 -j ACCEPT", note="list in conntrack")
c("4", "-m conntrack ! --ctorigsrc 10.0.0.0/8 -j ACCEPT")
c("6", "-m conntrack --ctorigsrc 2001:db8::1/48 -j ACCEPT", note="v6 not masked?")
c("6", "-m conntrack --ctorigsrc 2001:DB8:0::1 -j ACCEPT")
c(
    "4",
    "-m conntrack --ctorigsrcport 1 --ctorigdstport 2 --ctreplsrcport 3 --ctrepldstport 4 --ctexpire 5 --ctdir ORIGINAL --ctstatus NONE --ctrepldst 1.1.1.4 --ctreplsrc 1.1.1.3 --ctorigdst 1.1.1.2 --ctorigsrc 1.1.1.1 --ctproto udp --ctstate NEW -j ACCEPT",
    note="full conntrack order",
)
c("4", "-m conntrack --ctexpire 10 -j ACCEPT")
c("4", "-m conntrack --ctexpire 10:10 -j ACCEPT")
c("4", "-m conntrack --ctorigdstport 80:80 -j ACCEPT")
c("4", "-m conntrack --ctproto all -j ACCEPT")
c("4", "-m conntrack --ctproto 0 -j ACCEPT")
c("4", "-m conntrack --ctproto gre -j ACCEPT")
c("4", "-m conntrack --ctstate NEW -m conntrack --ctstatus ASSURED -j ACCEPT", note="two conntrack matches")
c("4", "-m state --state NEW -m conntrack --ctstate NEW -j ACCEPT")
c(
    "4",
    "-m addrtype --src-type UNSPEC,UNICAST,LOCAL,BROADCAST,ANYCAST,MULTICAST,BLACKHOLE,UNREACHABLE,PROHIBIT,THROW,NAT,XRESOLVE -j ACCEPT",
    note="all addrtypes",
)
c("4", "-m addrtype --src-type XRESOLVE,UNSPEC -j ACCEPT")
c("4", "-m addrtype --dst-type LOCAL --limit-iface-out -j ACCEPT", table="nat", chain="POSTROUTING")
c(
    "4",
    "-m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT",
    table="nat",
    chain="POSTROUTING",
    note="iface-in in POSTROUTING",
)
c("4", "-m pkttype --pkt-type otherhost -j ACCEPT")
c("4", "-m pkttype --pkt-type loopback -j ACCEPT")
c("4", "-m mac --mac-source 00-11-22-33-44-55 -j ACCEPT", note="dash separated")
c("4", "-m mac --mac-source 001122334455 -j ACCEPT")
c("6", "-m iprange --dst-range ::1-::ffff:1.2.3.4 -j ACCEPT")
c("4", "-m iprange --src-range 10.0.0.1-10.0.0.9/24 -j ACCEPT")
c("4", "-m ttl --ttl-eq 0x40 -j ACCEPT")
c("4", "-m ttl --ttl-eq 256 -j ACCEPT")
c("4", "-m recent --set --name a.b -j ACCEPT", note="recent name needing quotes?")
c("4", "-m recent --set --name foo --rdest --mask 255.255.0.0 -j ACCEPT")
c("4", "-m recent --rcheck --seconds 0 --hitcount 0 -j ACCEPT", note="zero values omitted?")
c("4", "-m hashlimit --hashlimit-upto 300/min --hashlimit-name h3 -j ACCEPT", note="hashlimit rate print")
c(
    "4",
    "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-name h4 --hashlimit-htable-expire 10000 --hashlimit-mode srcip,dstport -j ACCEPT",
)
c(
    "6",
    "-m hashlimit --hashlimit-upto 10/sec --hashlimit-name h5 --hashlimit-mode srcip --hashlimit-srcmask 64 -j ACCEPT",
)
c("6", "-m connlimit --connlimit-above 10 -j DROP", note="v6 default mask")
c("4", "-m connlimit --connlimit-above 10 --connlimit-daddr -j DROP")
c("4", "-m time --datestart 2020-01-01 -j ACCEPT")
c("4", "-m time --timestart 9:0 --kerneltz -j ACCEPT")
c("4", "-m time --monthdays 15,1 -j ACCEPT")
c("4", "-m time --weekdays Tue,Mon,7 -j ACCEPT")
c("4", "-m time --datestop 2038-01-19T03:14:07 -j ACCEPT")
c("4", "-m quota ! --quota 1000 -j ACCEPT")
c("4", "-m helper --helper FTP -j ACCEPT", note="helper case")
c("4", "-m helper --helper ftp-21 -j ACCEPT")
c("6", "-m frag --fragid 100 --fraglast -j ACCEPT")
c("6", "-m ipv6header --header frag --soft -j ACCEPT")
c("6", "-m ipv6header --header 44 -j ACCEPT")
c("6", "-m rt --rt-type 0 -j ACCEPT")
c("6", "-m eui64 -j ACCEPT", chain="INPUT")
c("6", "-p ipv6-mh -m mh --mh-type binding-update -j ACCEPT")
c("4", "-m socket --transparent --nowildcard -j ACCEPT", table="mangle", chain="PREROUTING")
c("4", "-m devgroup --src-group 0x10/0xff -j ACCEPT")
c("4", "-m cgroup --path user.slice -j ACCEPT", chain="OUTPUT")
c("4", "-m cgroup --cgroup 1 -j ACCEPT", chain="OUTPUT")
# targets
c("4", "-j NFQUEUE --queue-num 1 --queue-bypass")
c("4", "-j NFQUEUE --queue-balance 0:3 --queue-cpu-fanout")
c("4", "-j NFQUEUE --queue-balance 3:3")
c("4", "-j NFQUEUE --queue-bypass")
c("4", "-j NFQUEUE --queue-num 65535")
c("4", "-j CT --zone-reply 1", table="raw", chain="PREROUTING")
c("4", "-j CT --zone 0", table="raw", chain="PREROUTING")
c("4", "-j CT --zone mark", table="raw", chain="PREROUTING")
c("4", "-j CT --expevents new", table="raw", chain="PREROUTING")
c(
    "4",
    "-j CT --ctevents new,related,destroy,reply,assured,protoinfo,helper,mark,natseqinfo,secmark",
    table="raw",
    chain="PREROUTING",
)
c("4", "-j CT --notrack --zone 1", table="raw", chain="PREROUTING")
c("4", "-j CT --helper ftp", table="raw", chain="OUTPUT", note="helper without -p")
c("4", "-j CT --notrack", chain="X", note="CT in filter")
c("4", "-j NOTRACK", table="raw", chain="OUTPUT")
c("4", "-j TTL --ttl-set 256", table="mangle", chain="FORWARD")
c("4", "-j TTL --ttl-dec 0", table="mangle", chain="FORWARD")
c("4", "-j DSCP --set-dscp 64", table="mangle", chain="FORWARD")
c("4", "-j DSCP --set-dscp-class be", table="mangle", chain="FORWARD")
c("4", "-j CLASSIFY --set-class 10", table="mangle", chain="POSTROUTING", note="no colon")
c("4", "-j CLASSIFY --set-class ffff:ffff", table="mangle", chain="POSTROUTING")
c("4", "-p tcp --syn -j TCPMSS --set-mss 1400", table="mangle", chain="POSTROUTING")
c(
    "4",
    "-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu",
    chain="FORWARD",
    note="TCPMSS in filter",
)
c("4", "-j SET --add-set s4 src --exist --timeout 10", table="mangle", chain="FORWARD")
c("4", "-j SET --map-set s4 dst --map-mark", table="mangle", chain="FORWARD")
c("4", "-j CONNSECMARK --save", table="mangle", chain="FORWARD")
c("4", "-j SNAT --to-source 1.2.3.4", table="nat", chain="INPUT")
c("4", "-j NETMAP --to 10.0.0.0/24", table="nat", chain="POSTROUTING")
c("6", "-j NETMAP --to 2001:db8::/64", table="nat", chain="PREROUTING")
c("6", "-j NETMAP --to 2001:db8::1/64", table="nat", chain="PREROUTING", note="unmasked netmap")
c("4", "-j NETMAP --to 10.0.0.1/24", table="nat", chain="PREROUTING", note="unmasked netmap")
c("4", "-j TEE --gateway 10.0.0.1", table="mangle", chain="PREROUTING")
c(
    "4",
    "-j HMARK --hmark-tuple src,dst --hmark-mod 10 --hmark-rnd 0xfeedcafe",
    table="mangle",
    chain="PREROUTING",
)
c("4", "-j IDLETIMER --timeout 10 --label foo")
c("4", "-j SECMARK --selctx system_u:object_r:ssh_packet_t:s0", table="mangle", chain="INPUT")
c("4", "-j CHECKSUM --checksum-fill", table="mangle", chain="POSTROUTING", note="no -p udp")
c("4", "-j ECN --ecn-tcp-remove", table="mangle", chain="FORWARD")
c("4", "-p tcp -j ECN --ecn-tcp-remove", table="mangle", chain="FORWARD")
c("4", "-p tcp -j TCPOPTSTRIP --strip-options sack-permitted,timestamp", table="mangle", chain="FORWARD")
c(
    "4",
    "-j RATEEST --rateest-name r1 --rateest-interval 250ms --rateest-ewmalog 1s",
    table="mangle",
    chain="FORWARD",
)
c("4", "-j LED --led-trigger-id foo")
c("4", "-j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460 -p tcp")
c("4", "-p tcp -j SYNPROXY --mss 1460 --wscale 7 --timestamp --sack-perm")


# ---------------------------------------------------------------- round 3: nft tcp/udp merging, byte limits
c("4", "-p tcp -m tcp --sport 1 -m tcp --sport 2 -j ACCEPT", note="nft: last value wins on merge")
c("4", "-p tcp -m tcp --dport 22 --tcp-option 2 -m tcp --sport 1 -j ACCEPT", note="tcp-option forces compat")
c(
    "4",
    "-p tcp -m tcp --dport 22 -m multiport --dports 80 -m tcp --sport 1 -j ACCEPT",
    note="merge across multiport",
)
c("4", "-p tcp -m tcp -m tcp --dport 22 -m tcp --sport 1 -j ACCEPT", note="empty first tcp")
c(
    "4",
    "-p tcp -m tcp --dport 22 -m tcp -m comment --comment x --sport 1 -j ACCEPT",
    note="option goes to latest match",
)
c("4", "-p tcp -m tcp --sport 1:2 -m tcp ! --sport 3 -j ACCEPT", note="conflicting merge")
c("4", "-p udp -m udp --dport 53 -m udp --dport 54 -j ACCEPT")
c("4", ["-m", "comment", "--comment", "é" * 127, "-j", "ACCEPT"], note="254 bytes")
c("4", ["-m", "comment", "--comment", "é" * 128, "-j", "ACCEPT"], note="256 bytes")
c("4", ["-j", "NFLOG", "--nflog-prefix", "x" * 63], note="63 chars")
c("4", ["-j", "NFLOG", "--nflog-prefix", "x" * 64], note="64 chars")
c("4", ["-j", "NFLOG", "--nflog-prefix", "x" * 65], note="65 chars")
c("4", ["-m", "recent", "--set", "--name", "x" * 200], note="long recent name")
c("4", ["-m", "recent", "--set", "--name", "a b"], note="space in recent name")
c("4", ["-m", "comment", "--comment", "a\\nb", "-j", "ACCEPT"], note="literal backslash-n")
c("4", "-m set --match-set s4 src,dst,src -j ACCEPT", note="more dirs than set dims")
c("4", "-m physdev --physdev-in veth0 -j ACCEPT", chain="INPUT", note="physdev in INPUT")
c("4", "-m physdev --physdev-out veth0 -j ACCEPT", chain="OUTPUT", note="physdev-out in OUTPUT")


# ---------------------------------------------------------------- round 4: native nft translations
c("4", "-m mark --mark 1 -m mark --mark 2 -j ACCEPT", note="mark is native in nft: no merge")
c("4", "-m limit --limit 1/s -m comment --comment y -m limit --limit 2/s --limit-burst 7 -j ACCEPT")
c("4", "! -p tcp --dport 22 -j ACCEPT", note="implicit match with negated protocol")
c("4", "-p udp -m udp ! --dport 0:65535 -j ACCEPT")
c("4", "-p tcp -m tcp --tcp-flags NONE NONE -j ACCEPT")
c("4", "-p tcp -m tcp ! --tcp-flags NONE NONE -j ACCEPT")
c("4", ["-j", "NFLOG", "--nflog-prefix", "x" * 127], note="127 chars")
c("4", ["-j", "NFLOG", "--nflog-prefix", "x" * 128], note="128 chars")
c("6", ["-j", "NFLOG", "--nflog-prefix", "x" * 64, "--nflog-group", "2"], note="64 chars v6")


# ---------------------------------------------------------------- round 5: which protocols have an implicit match
c("4", "-p esp --espspi 100 -j ACCEPT", note="implicit esp?")
c("4", "-p ah --ahspi 100 -j ACCEPT", note="implicit ah?")
c("4", "-p dccp --dport 22 -j ACCEPT", note="implicit dccp?")
c("4", "-p sctp --chunk-types any INIT -j ACCEPT", note="implicit sctp")
c("4", "-p icmp --icmpv6-type 128 -j ACCEPT", note="icmpv6 option on v4")
c("6", "-p icmp --icmp-type 8 -j ACCEPT", note="icmp option on v6")
c("6", "-p icmpv6 --icmp-type 8 -j ACCEPT", note="icmp option name with icmpv6")
c("6", "-p mh --mh-type 5 -j ACCEPT", note="implicit mh?")
c("6", "-p esp --espspi 100 -j ACCEPT")
c("6", "-p udp --sport 53 --dport 1024: -j ACCEPT")
c("6", "-p sctp --dport 22 -j ACCEPT")
c("6", "-p tcp --tcp-flags ALL NONE -j DROP")
c("4", "-p udp --syn -j ACCEPT", note="tcp option with -p udp")


c("4", ["-m", "string", "--algo", "bm", "--string", "a'b c", "-j", "DROP"], note="string match quoting")
c("4", ["-m", "string", "--algo", "bm", "--hex-string", "|7c|", "-j", "DROP"], note="hex pipe char")
c("4", ["-m", "string", "--algo", "bm", "--string", "tab\there", "-j", "DROP"], note="non-printable -> hex")


c(
    "4",
    "-j SNAT --to-source 1.2.3.4 --persistent --random-fully --random",
    table="nat",
    chain="POSTROUTING",
    note="SNAT flag order",
)
c(
    "4",
    "-j MASQUERADE --random-fully --random",
    table="nat",
    chain="POSTROUTING",
    note="MASQUERADE flag order",
)
c(
    "4",
    "-j CT --zone 1 --notrack --helper ftp --ctevents new --expevents new",
    table="raw",
    chain="PREROUTING",
    note="CT option order",
)
c("4", "-j NFLOG --nflog-threshold 0", note="threshold 0")
c("4", "-p tcp -m multiport --dports 22:22 -j ACCEPT")
c("4", "-p tcp -m multiport --dports 1000: -j ACCEPT")


c("4", "-p icmp --icmp-type echo-req -j ACCEPT", note="icmp name prefix")
c("6", "-p icmpv6 --icmpv6-type neighbour-sol -j ACCEPT", note="icmpv6 name prefix")
c("4", "-j REJECT --reject-with icmp-host-unr", note="reject name prefix")
c("4", "-j LOG --log-level deb", note="log level prefix")


# ======================================================================== environment tags

BUILTIN_PROTOS = {
    "tcp",
    "udp",
    "udplite",
    "icmp",
    "icmpv6",
    "ipv6-icmp",
    "esp",
    "ah",
    "sctp",
    "mh",
    "ipv6-mh",
    "mobility-header",
    "all",
}
PORT_OPTS = {
    "--dport",
    "--sport",
    "--dports",
    "--sports",
    "--ports",
    "--destination-port",
    "--source-port",
    "--destination-ports",
    "--source-ports",
    "--dp",
}


def env_tags(argv: list[str], outputs: list[str | None]) -> list[str]:
    """Which host files (beyond iptables' own tables) the result depends on."""
    tags: set[str] = set()
    for opt, val in itertools.pairwise(argv):
        if opt in PORT_OPTS and any(ch.isalpha() for ch in val.replace("0x", "")):
            tags.add("/etc/services")
        addr_opts = {"-s", "-d", "--source", "--destination", "--src", "--dst", "--sour", "--dest"}
        if opt in addr_opts and any(ch.isalpha() and ch not in "abcdefABCDEFx" for ch in val):
            tags.add("resolver (/etc/hosts, DNS)")
        if opt in {"--uid-owner", "--gid-owner"} and not val.replace("-", "").isdigit():
            tags.add("/etc/passwd, /etc/group")
        if (
            opt in {"-p", "--protocol", "--ctproto"}
            and val.lower() not in BUILTIN_PROTOS
            and not val.isdigit()
        ):
            tags.add("/etc/protocols")
    for out in outputs:
        for line in (out or "").splitlines():
            toks = line.split()
            for opt, val in itertools.pairwise(toks):
                if opt == "-p" and not val.isdigit() and val not in BUILTIN_PROTOS:
                    tags.add("/etc/protocols")
    return sorted(tags)


# ======================================================================== runner

TOOLS = {
    ("nft", "ipv4"): ("iptables-nft", "iptables-nft-save"),
    ("nft", "ipv6"): ("ip6tables-nft", "ip6tables-nft-save"),
    ("legacy", "ipv4"): ("iptables-legacy", "iptables-legacy-save"),
    ("legacy", "ipv6"): ("ip6tables-legacy", "ip6tables-legacy-save"),
}


class _Done:
    def __init__(self, proc: subprocess.CompletedProcess[bytes]) -> None:
        self.returncode = proc.returncode
        # iptables truncates strings at a byte limit and can cut a UTF-8
        # sequence in half: keep such bytes visible as \xNN
        self.stdout = proc.stdout.decode("utf-8", "backslashreplace")
        self.stderr = proc.stderr.decode("utf-8", "backslashreplace")


def run(ns: str, argv: list[str]) -> _Done:
    def spawn() -> _Done:
        return _Done(subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, check=False))

    return RUNNER.call_in(ns, spawn)


# Commands a case file (--cases) adds to the setup of each namespace: argv lists,
# "{tool}" replaced by the backend's iptables binary; a case file sets SETUP.
SETUP: list[list[str]] = []


def setup(ns: str, tool: str) -> None:
    for argv in (
        ["ipset", "create", "s4", "hash:ip", "family", "inet"],
        ["ipset", "create", "s4ip", "hash:ip,port", "family", "inet"],
        ["ipset", "create", "s6", "hash:ip", "family", "inet6"],
    ):
        r = run(ns, argv)
        if r.returncode:
            raise RuntimeError(f"{argv}: {r.stderr}")
    for template in SETUP:
        argv = [tool if word == "{tool}" else word for word in template]
        r = run(ns, argv)
        if r.returncode:
            raise RuntimeError(f"setup {argv}: {r.stderr}")
    for table in ("filter", "nat", "mangle", "raw"):
        for chain in ("X", "TGT"):
            r = run(ns, [tool, "-w", "-t", table, "-N", chain])
            if r.returncode:
                raise RuntimeError(f"{tool} -t {table} -N {chain}: {r.stderr}")


def chain_lines(ns: str, save: str, table: str, chain: str) -> list[str]:
    r = run(ns, [save, "-t", table])
    if r.returncode:
        raise RuntimeError(f"{save}: {r.stderr}")
    prefix = f"-A {chain} "
    out: list[str] = []
    keep = False
    for ln in r.stdout.splitlines():
        if ln.startswith(("-A ", ":", "*", "COMMIT", "#")):
            keep = ln.startswith(prefix) or ln == f"-A {chain}"
            if keep:
                out.append(ln)
        elif keep:  # a newline inside an argument (comment) broke the line
            out[-1] += "\n" + ln
    return out


def apply_one(ns: str, tool: str, save: str, case: dict[str, Any]) -> tuple[str | None, str, bool | None]:
    """Return (lines or None, stderr, fixpoint)."""
    table, chain = case["table"], case["chain"]
    r = run(ns, [tool, "-w", "-t", table, "-A", chain, *case["argv"]])
    err = r.stderr.strip()
    lines = chain_lines(ns, save, table, chain)
    run(ns, [tool, "-w", "-t", table, "-F", chain])
    if r.returncode:
        if lines:
            raise RuntimeError(f"refused but rules present: {case}")
        return None, err, None
    if not lines:
        return None, err + " [accepted but nothing printed]", None
    # fixed point: every printed line, re-added, prints itself
    fix = True
    for ln in lines:
        try:
            if "\\x" in ln:
                raise ValueError("undecodable bytes")
            args = split_line(ln)[2:]
        except ValueError:
            fix = False
            continue
        r2 = run(ns, [tool, "-w", "-t", table, "-A", chain, *args])
        again = chain_lines(ns, save, table, chain)
        run(ns, [tool, "-w", "-t", table, "-F", chain])
        if r2.returncode or again != [ln]:
            fix = False
    return "\n".join(lines), err, fix


def probe(
    backend: str, family: str, results: dict[tuple[int, str], tuple[str | None, str, bool | None]]
) -> None:
    tool, save = TOOLS[(backend, family)]
    with scratch_netns(prefix="vnktest-canon-") as ns:
        setup(ns, tool)
        for i, case in enumerate(CASES):
            if case["family"] != family:
                continue
            results[(i, backend)] = apply_one(ns, tool, save, case)


def main(argv: list[str]) -> int:
    """The built-in cases into vectors.json; ``--cases F --out O``: a case file's into O."""
    out_path = OUT
    if argv[:1] == ["--cases"] and len(argv) == 4 and argv[2] == "--out":
        CASES.clear()
        _SEEN.clear()
        scope: dict[str, Any] = {"c": c, "SETUP": SETUP}
        # A case file is this repo's data written as Python: c(...) calls, maybe SETUP.
        exec(compile(Path(argv[1]).read_text(encoding="utf-8"), argv[1], "exec"), scope)  # noqa: S102
        SETUP[:] = scope["SETUP"]
        out_path = Path(argv[3])
    elif argv:
        print("usage: canonical_probe.py [--cases CASEFILE --out VECTORS.json]", file=sys.stderr)
        return 2
    results: dict[tuple[int, str], tuple[str | None, str, bool | None]] = {}
    threads = [
        threading.Thread(target=probe, args=(b, f, results))
        for b in ("nft", "legacy")
        for f in ("ipv4", "ipv6")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out: list[dict[str, Any]] = []
    for i, case in enumerate(CASES):
        v: dict[str, Any] = {k: case[k] for k in ("family", "table", "chain", "argv")}
        for b in ("nft", "legacy"):
            line, err, fix = results[(i, b)]
            v[b] = line
            if err:
                v[f"{b}_stderr"] = err
            if fix is False:
                v[f"{b}_fixpoint"] = False
        env = env_tags(case["argv"], [v["nft"], v["legacy"]])
        if env:
            v["env"] = env
        if case["note"]:
            v["note"] = case["note"]
        if case.get("context"):
            v["context"] = case["context"]
        out.append(v)
    out_path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    n_diff = sum(1 for v in out if v["nft"] != v["legacy"])
    print(f"{len(out)} vectors, {n_diff} differ between backends -> {out_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
