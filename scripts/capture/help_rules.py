"""Generate rules for every option of every extension, from the installed tools' own ``--help``.

For each extension the iptables binaries ship for IPv4 and IPv6 (every
``libxt_*``, ``libipt_*`` and ``libip6t_*`` in the xtables directory), the
extension's help text (``iptables -m NAME -h`` / ``-j NAME -h``, run in a
private scratch namespace) names its options. Each option gets a few values
chosen from what its name and help text suggest (numbers, hex, ranges,
masks, addresses of the family, names, the choices the help lists), on top
of a minimal rule that the extension needs (its table, protocol and
mandatory options). Many of these rules are refused by the tool: that is the
point, canonical() must refuse exactly those too.

Writes tests/corpus/generated.json (family, table, chain, argv, source).

    .venv/bin/python scripts/capture/help_rules.py      (as root: the scratch namespace)
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

from vnetkit.exec import default_runner
from vnetkit.iptables.canonical import MATCHES, TARGETS

XTABLES = Path("/usr/lib/x86_64-linux-gnu/xtables")
OUT = Path(__file__).parents[2] / "tests" / "corpus" / "generated.json"
TOOL = {"ipv4": "iptables-legacy", "ipv6": "ip6tables-legacy"}
# The generic help ends with this line; an extension's help follows it.
GENERIC_END = re.compile(r"print package version\.?\s*$", re.M)
OPTION = re.compile(r"(--[a-z0-9][a-z0-9-]*)(?:[ \t=]+([^\s|\]\[]+))?")

# What an extension needs besides the option under test: table, protocol, mandatory options.
# A value is the argv that comes before (core options) and inside (the extension's own) the rule.
NEEDS: dict[str, tuple[str, str, str]] = {
    # name: (table, argv before "-m/-j NAME", the extension's own mandatory options)
    "tcp": ("filter", "-p tcp", "--dport 22"),
    "udp": ("filter", "-p udp", "--dport 53"),
    "sctp": ("filter", "-p sctp", "--dport 1"),
    "dccp": ("filter", "-p dccp", "--dport 1"),
    "udplite": ("filter", "-p udplite", "--dport 1"),
    "icmp": ("filter", "-p icmp", "--icmp-type echo-request"),
    "icmp6": ("filter", "-p ipv6-icmp", "--icmpv6-type echo-request"),
    "esp": ("filter", "-p esp", "--espspi 1"),
    "ah": ("filter", "-p ah", "--ahspi 1"),
    "mh": ("filter", "-p mh", "--mh-type 1"),
    "multiport": ("filter", "-p tcp", "--dports 1,2"),
    "tcpmss": ("filter", "-p tcp", "--mss 500"),
    "ecn": ("filter", "-p tcp", "--ecn-tcp-cwr"),
    "comment": ("filter", "", "--comment x"),
    "hashlimit": ("filter", "", "--hashlimit-upto 10/sec --hashlimit-name gen"),
    "set": ("filter", "", "--match-set {set} src"),
    "string": ("filter", "", "--algo bm --string abc"),
    "connlimit": ("filter", "-p tcp", "--connlimit-above 2"),
    "connbytes": ("filter", "", "--connbytes 10 --connbytes-dir both --connbytes-mode bytes"),
    "u32": ("filter", "", "--u32 0>>22&0x3C@12>>26&0x3C@0=0x10"),
    "statistic": ("filter", "", "--mode random --probability 0.5"),
    "policy": ("filter", "", "--dir in --pol none"),
    "quota": ("filter", "", "--quota 1000"),
    "cluster": ("mangle", "", "--cluster-total-nodes 2 --cluster-local-node 1"),
    "cpu": ("filter", "", "--cpu 0"),
    "helper": ("filter", "", "--helper ftp"),
    "nfacct": ("filter", "", "--nfacct-name gen"),
    "osf": ("filter", "-p tcp", "--genre Linux"),
    "cgroup": ("filter", "", "--cgroup 1"),
    "bpf": ("filter", "", "--bytecode 1,6_0_0_0"),
    "realm": ("filter", "", "--realm 1"),
    "devgroup": ("filter", "", "--src-group 1/0xff"),
    "addrtype": ("filter", "", "--src-type LOCAL"),
    "iprange": ("filter", "", "--src-range {addr}-{addr}"),
    "length": ("filter", "", "--length 10"),
    "ttl": ("filter", "", "--ttl-eq 1"),
    "hl": ("filter", "", "--hl-eq 1"),
    "mac": ("filter", "", "--mac-source 00:11:22:33:44:55"),
    "physdev": ("filter", "", "--physdev-in eth0"),
    "owner": ("filter", "", "--uid-owner 0"),
    "pkttype": ("filter", "", "--pkt-type unicast"),
    "state": ("filter", "", "--state NEW"),
    "dscp": ("filter", "", "--dscp 1"),
    "tos": ("filter", "", "--tos 0x10"),
    "connmark": ("filter", "", "--mark 1"),
    "mark": ("filter", "", "--mark 1"),
    "connlabel": ("filter", "", "--label 1"),
    "ipcomp": ("filter", "", "--ipcompspi 1"),
    "rateest": (
        "mangle",
        "",
        "--rateest1 gen --rateest-bps1 1mbit --rateest-gt --rateest2 gen --rateest-bps2 1mbit",
    ),
    "ipvs": ("filter", "", "--ipvs"),
    "recent": ("filter", "", "--name gen --rcheck"),
    "time": ("filter", "", "--timestart 09:00"),
    "limit": ("filter", "", "--limit 5/sec"),
    "conntrack": ("filter", "", "--ctstate NEW"),
    "socket": ("mangle", "", ""),
    "rpfilter": ("raw", "", ""),
    "frag": ("filter", "", "--fragid 1"),
    "rt": ("filter", "", "--rt-type 0"),
    "dst": ("filter", "", "--dst-len 8"),
    "hbh": ("filter", "", "--hbh-len 8"),
    "srh": ("filter", "", "--srh-next-hdr 17"),
    "ipv6header": ("filter", "", "--header ipv6-frag"),
    "eui64": ("filter", "", ""),
    "DNAT": ("nat", "-p tcp", "--to-destination {addr}"),
    "SNAT": ("nat", "-p tcp", "--to-source {addr}"),
    "MASQUERADE": ("nat", "-p tcp", ""),
    "REDIRECT": ("nat", "-p tcp", ""),
    "NETMAP": ("nat", "", "--to {net}"),
    "MARK": ("mangle", "", "--set-mark 1"),
    "CONNMARK": ("mangle", "", "--set-mark 1"),
    "CT": ("raw", "", "--notrack"),
    "TPROXY": ("mangle", "-p tcp", "--on-port 1"),
    "SET": ("filter", "", "--add-set {set} src"),
    "TEE": ("mangle", "", "--gateway {addr}"),
    "CHECKSUM": ("mangle", "", "--checksum-fill"),
    "CLASSIFY": ("mangle", "", "--set-class 1:1"),
    "DSCP": ("mangle", "", "--set-dscp 1"),
    "TOS": ("mangle", "", "--set-tos 0x10"),
    "TTL": ("mangle", "", "--ttl-set 1"),
    "HL": ("mangle", "", "--hl-set 1"),
    "ECN": ("mangle", "-p tcp", "--ecn-tcp-remove"),
    "HMARK": ("mangle", "", "--hmark-tuple src --hmark-mod 2"),
    "IDLETIMER": ("filter", "", "--timeout 10 --label gen"),
    "AUDIT": ("filter", "", "--type accept"),
    "CONNSECMARK": ("mangle", "", "--save"),
    "SECMARK": ("mangle", "", "--selctx system_u:object_r:ssh_packet_t:s0"),
    "TCPMSS": ("mangle", "-p tcp --tcp-flags SYN,RST SYN", "--set-mss 500"),
    "TCPOPTSTRIP": ("mangle", "-p tcp", "--strip-options mss"),
    "RATEEST": ("mangle", "", "--rateest-name gen --rateest-interval 250ms --rateest-ewma 0.5s"),
    "SYNPROXY": ("filter", "-p tcp", "--mss 1460"),
    "TRACE": ("raw", "", ""),
    "NOTRACK": ("raw", "", ""),
    "DNPT": ("mangle", "", "--src-pfx 2001:db8::/64 --dst-pfx 2001:db8:1::/64"),
    "SNPT": ("mangle", "", "--src-pfx 2001:db8::/64 --dst-pfx 2001:db8:1::/64"),
    "LED": ("filter", "", "--led-trigger-id gen"),
    "NFLOG": ("filter", "", ""),
    "LOG": ("filter", "", ""),
    "REJECT": ("filter", "", ""),
    "NFQUEUE": ("filter", "", ""),
    "CLUSTERIP": (
        "mangle",
        "-d 10.1.2.3",
        "--new --hashmode sourceip --clustermac 01:00:5e:00:00:01 --total-nodes 2 --local-node 1",
    ),
    "ULOG": ("filter", "", ""),
}

# Values for options whose values the help text cannot suggest.
VALUES: dict[str, list[str]] = {
    "--u32": ["0>>22&0x3C@12>>26&0x3C@0=0x10", "0&0xFFFF=0x100:0xFFFF", "6&0xFF=1&&4&0x3FFF=0"],
    "--bytecode": ["1,6 0 0 0", "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0"],
    "--tcp-flags": ["SYN,ACK SYN", "ALL NONE", "FIN,SYN,RST,ACK SYN"],
    "--chunk-types": ["any DATA,INIT", "all INIT", "only DATA:Be"],
    "--match-set": ["{set} src", "{set} src,dst", "{set} dst"],
    "--add-set": ["{set} src", "{set} src,dst"],
    "--del-set": ["{set} src"],
    "--map-set": ["{set} src"],
    "--algo": ["bm", "kmp"],
    "--string": ["abc", "GET /index.html"],
    "--hex-string": ["|41 42|", "a|0d0a|b"],
    "--icmp-type": ["echo-request", "3/4", "any"],
    "--icmpv6-type": ["echo-request", "1/3", "neighbour-solicitation"],
    "--reject-with": ["tcp-reset", "icmp-port-unreachable", "icmp6-adm-prohibited"],
    "--log-level": ["info", "4", "debug"],
    "--ctstate": ["NEW,ESTABLISHED", "INVALID", "DNAT"],
    "--state": ["NEW,RELATED", "INVALID"],
    "--ctstatus": ["ASSURED", "SEEN_REPLY,CONFIRMED"],
    "--pkt-type": ["unicast", "broadcast", "multicast"],
    "--src-type": ["LOCAL", "UNICAST,BROADCAST"],
    "--dst-type": ["LOCAL", "MULTICAST"],
    "--weekdays": ["Mon,Tue", "1,7"],
    "--monthdays": ["1,31", "15"],
    "--datestart": ["2026-01-02", "2026-01-02T03:04:05"],
    "--datestop": ["2026-12-31T23:59:59"],
    "--timestart": ["09:00", "9:30:15"],
    "--timestop": ["17:00", "23:59:59"],
    "--hashlimit-mode": ["srcip", "srcip,dstport"],
    "--mode": ["random", "nth", "tunnel", "transport"],
    "--hmark-tuple": ["src,dst", "src,dst,sport,dport,proto"],
    "--strip-options": ["mss", "sack-permitted,timestamp", "2,8"],
    "--header": ["ipv6-frag", "hop,dst", "ipv6-route,esp"],
    "--ctdir": ["ORIGINAL", "REPLY"],
    "--dir": ["in", "out"],
    "--pol": ["none", "ipsec"],
    "--proto": ["esp", "ah"],
    "--type": ["accept", "drop", "reject"],
    "--selctx": ["system_u:object_r:ssh_packet_t:s0"],
    "--helper": ["ftp", "sip"],
    "--genre": ["Linux", "Windows"],
    "--hashmode": ["sourceip", "sourceip-sourceport"],
    "--clustermac": ["01:00:5e:00:00:01"],
    "--mac-source": ["00:11:22:33:44:55", "0:1:2:3:4:5"],
    "--set-class": ["1:1", "ffff:ffff"],
    "--set-dscp-class": ["EF", "af11"],
    "--dscp-class": ["EF", "cs1"],
    "--physdev-in": ["eth0", "veth+"],
    "--physdev-out": ["eth1"],
    "--ecn-ip-ect": ["0", "3"],
    "--connbytes-dir": ["original", "both"],
    "--connbytes-mode": ["packets", "avgpkt"],
    "--vproto": ["tcp", "6"],
    "--vmethod": ["NAT", "GATE"],
    "--vdir": ["ORIGINAL", "REPLY"],
    "--label": ["1", "gen"],
    "--rt-0-addrs": ["{addr}", "{addr},{addr}"],
    "--kerneltz": [],
}

NUMBERS = ["1", "0x10", "65535", "0"]
NAMES = ["gen", "two words"]


def _help(family: str, kind: str, name: str) -> str:
    flag = "-m" if kind == "match" else "-j"
    with default_runner().scratch() as scratch:
        done = scratch.run((TOOL[family], flag, name, "-h"))
    text = done.stdout
    m = GENERIC_END.search(text)
    return text[m.end() :] if m else ""


def _extensions(family: str) -> list[tuple[str, str]]:
    out = []
    prefixes = ("libxt_", "libipt_") if family == "ipv4" else ("libxt_", "libip6t_")
    for path in sorted(XTABLES.glob("lib*.so")):
        stem = path.name[:-3]
        if not stem.startswith(prefixes):
            continue
        name = stem.split("_", 1)[1]
        if name in ("standard", "NAT"):  # the verdicts; SNAT/DNAT/MASQUERADE/... live in libxt_NAT
            continue
        out.append(("target" if name.isupper() else "match", name))
    # SNAT, DNAT, MASQUERADE, REDIRECT and NETMAP all live in libxt_NAT
    out += [
        ("target", n)
        for n in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP")
        if ("target", n) not in out
    ]
    return out


def _values(option: str, hint: str, help_text: str, family: str) -> list[str]:  # noqa: PLR0911 - one rule per kind of value
    if option in VALUES:
        return VALUES[option]
    low = f"{option} {hint}".lower()
    choices = re.findall(r"[{\[]?([A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)+)[}\]]?", hint)
    if choices:
        items = choices[0].split("|")
        return [*items[:3], ",".join(items[:2])]
    if any(
        k in low
        for k in ("addr", "address", "gateway", "to-destination", "to-source", "on-ip", "-src", "-dst", "ip ")
    ):
        return ["{addr}", "{addr}/{plen}", "{net}"]
    if any(k in low for k in ("mask", "prefix", "plen")):
        return ["24", "0", "0xff"]
    if "port" in low:
        return ["80", "1000:2000", "http"]
    if any(k in low for k in ("rate", "avg", "limit", "above", "upto", "bps", "pps")):
        return ["10/sec", "5/minute", "1mbit", "100"]
    if "time" in low and "timeout" not in low:
        return ["09:00", "10"]
    if any(k in low for k in ("name", "label", "prefix", "comment", "path", "trigger", "id ")):
        return NAMES
    return NUMBERS


def _fill(text: str, family: str) -> str:
    if family == "ipv4":
        subst = {"{addr}": "10.1.2.3", "{net}": "10.1.2.0/24", "{plen}": "16", "{set}": "s4"}
    else:
        subst = {"{addr}": "2001:db8::1", "{net}": "2001:db8::/64", "{plen}": "48", "{set}": "s6"}
    for key, value in subst.items():
        text = text.replace(key, value)
    return text


def _split(text: str) -> list[str]:
    return [word.replace("_", " ") if word.startswith("1,6") else word for word in shlex.split(text)]


def _arity(kind: str, name: str, option: str) -> int | None:
    spec = (MATCHES if kind == "match" else TARGETS).get(name)
    if spec is None or option not in spec.spellings:
        return None
    return spec.arity.get(spec.spellings[option], 1)


def generate() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for family in ("ipv4", "ipv6"):
        for kind, name in _extensions(family):
            help_text = _help(family, kind, name)
            table, before, needs = NEEDS.get(name, ("filter", "", ""))
            flag = "-m" if kind == "match" else "-j"
            options = dict.fromkeys(m.group(1) for m in OPTION.finditer(help_text))
            hints = {m.group(1): m.group(2) or "" for m in reversed(list(OPTION.finditer(help_text)))}
            cases: list[list[str]] = [_split(_fill(f"{before} {flag} {name} {needs}", family))]
            for option in options:
                arity = _arity(kind, name, option)
                values = [""] if arity == 0 else _values(option, hints.get(option, ""), help_text, family)
                if arity is None and not values:
                    values = [""]
                base = _split(_fill(needs, family))
                if option in base:  # replace the mandatory option's value with the one under test
                    k = base.index(option)
                    width = 1 + (1 if arity is None or arity < 0 else arity)
                    base = base[:k] + base[k + width :]
                for value in values[:3]:
                    words = [*_split(_fill(before, family)), flag, name, *base, option]
                    if value:
                        words += (
                            _split(_fill(value, family))
                            if " " in value and arity == 2
                            else [_fill(value, family)]
                        )
                    cases.append(words)
            for case in cases:
                words = [*case, "-j", "ACCEPT"] if kind == "match" else case
                # the kernel keeps one hashlimit table / IDLETIMER timer per name: one name per rule
                argv = [
                    f"{word}{len(out)}"
                    if k
                    and words[k - 1] in ("--hashlimit-name", "--label")
                    and name in ("hashlimit", "IDLETIMER")
                    else word
                    for k, word in enumerate(words)
                ]
                key = (family, table, tuple(argv))
                if key in seen:
                    continue
                seen.add(key)
                out.append({"family": family, "table": table, "chain": "X", "argv": argv,
                            "source": f"{TOOL[family]} {flag} {name} --help"})  # fmt: skip
    return out


def main() -> int:
    entries = generate()
    OUT.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(entries)} generated rules -> {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
