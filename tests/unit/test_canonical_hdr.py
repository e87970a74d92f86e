"""canonical() for the header and packet-property matches, beyond test_canonical.py's line-by-line vectors.

* docs/canonical/special/hdr.json: rules the shared harness cannot judge
  (names from the host's files, ipv6header's hop-by-hop, quoted cgroup
  paths); each note names its category (see cases/hdr_special.py).
* vectors/hdr.json rules that depend on /etc/protocols and /etc/services
  (dccp, ipcomp): with a resolver holding this host's names, canonical()
  derives them.
* refusals say what is wrong; the value parsers agree with the C library
  they mirror (property tests against libc through ctypes).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import json
import socket
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnetkit.errors import CannotDerive, HostDependent, RuleError
from vnetkit.iptables.canonical import MATCHES, canonical, canonical_rules
from vnetkit.iptables.canonical._matches_hdr import c_strtoul, uint_parts
from vnetkit.iptables.canonical._matches_hdr_bpf import check_program, parse_program
from vnetkit.iptables.canonical._values import inet_aton
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line
from vnetkit.model import Rule

Backend = Literal["nft", "legacy"]
_DOCS = Path(__file__).parents[2] / "docs" / "canonical"
SPECIAL: list[dict[str, Any]] = json.loads((_DOCS / "special" / "hdr.json").read_text(encoding="utf-8"))
VECTORS: list[dict[str, Any]] = json.loads((_DOCS / "vectors" / "hdr.json").read_text(encoding="utf-8"))
BACKENDS: tuple[Backend, ...] = ("nft", "legacy")
GROUP = (
    "dst", "hbh", "frag", "rt", "srh", "eui64", "ipv6header", "dccp", "ecn", "ipcomp", "realm", "policy",
    "cpu", "quota", "socket", "cluster", "cgroup", "bpf", "ah", "esp", "mh",
)  # fmt: skip

# The lines of this host's /etc/protocols (Debian netbase) that the vectors touch.
PROTOCOLS = """
hopopt 0 HOPOPT
tcp 6 TCP
dccp 33 DCCP
ipv6-route 43 IPv6-Route
ipv6-frag 44 IPv6-Frag
esp 50 IPSEC-ESP
ah 51 IPSEC-AH
ipv6-icmp 58 IPv6-ICMP
ipv6-nonxt 59 IPv6-NoNxt
ipv6-opts 60 IPv6-Opts
ipcomp 108 IPCOMP
"""


class ThisHost:
    """A resolver with the protocols of the host the vectors were measured on, and nothing else."""

    def __init__(self) -> None:
        self.names: dict[str, int] = {}
        self.numbers: dict[int, str] = {}
        for line in PROTOCOLS.strip().splitlines():
            name, number, *aliases = line.split()
            self.numbers[int(number)] = name
            self.names.update(dict.fromkeys((name, *aliases), int(number)))

    def service(self, name: str, protocol: str | None) -> int | None:
        return 22 if name == "ssh" and protocol in (None, "tcp", "udp", "dccp", "sctp") else None

    def protocol_number(self, name: str) -> int | None:
        return self.names.get(name)

    def protocol_name(self, number: int) -> str | None:
        return self.numbers.get(number)

    def user(self, name: str) -> int | None:
        return None

    def group(self, name: str) -> int | None:
        return None


HOST = ThisHost()


def _rules(v: dict[str, Any], backend: Backend, resolver: ThisHost | None = None) -> list[Rule]:
    return canonical_rules(parse_rule(v["argv"]), family=v["family"], backend=backend, resolver=resolver)


def _printed(v: dict[str, Any], backend: Backend) -> list[Rule]:
    return [parse_rule_line(line)[1] for line in v[backend].split("\n")]


def _name(v: dict[str, Any]) -> str:
    return f"{v['family'][-1]} {v['table']}/{v['chain']} {' '.join(v['argv'])}"


# ---------------------------------------------------------------- the special vectors


@pytest.mark.parametrize(
    ("v", "backend"),
    [(v, b) for v in SPECIAL for b in BACKENDS],
    ids=[f"{k:03d}-{b}" for k in range(len(SPECIAL)) for b in BACKENDS],
)
def test_special_vector(v: dict[str, Any], backend: Backend) -> None:
    kind = v["note"].split(":")[0]
    assert kind in ("derived", "printed", "protocols", "host"), v["note"]
    if v[backend] is None:  # refused by the tool
        if v.get("context"):
            _rules(v, backend)  # the refusal is the host's: canonical() accepts the text
        else:
            with pytest.raises(RuleError):
                _rules(v, backend, HOST)
        return
    if kind in ("derived", "printed"):
        assert _rules(v, backend) == _printed(v, backend), _name(v)
        return
    with pytest.raises(HostDependent):
        _rules(v, backend)
    if kind == "host":
        with pytest.raises(CannotDerive):
            _rules(v, backend, HOST)
    else:
        assert _rules(v, backend, HOST) == _printed(v, backend), _name(v)


# Implicit matches are named after /etc/protocols (iptables loads "-m dccp" for -p 33 because
# getprotobynumber(33) is "dccp"); the rule grammar knows dccp and ipcomp by name and number.
ON_PROTOCOLS = [v for v in VECTORS if v.get("env")]


@pytest.mark.parametrize(
    ("v", "backend"),
    [(v, b) for v in ON_PROTOCOLS for b in BACKENDS],
    ids=[f"{k:03d}-{b}" for k in range(len(ON_PROTOCOLS)) for b in BACKENDS],
)
def test_vector_with_this_hosts_protocols(v: dict[str, Any], backend: Backend) -> None:
    """-p dccp / -p ipcomp rules: derived once a resolver names the protocols."""
    if v[backend] is None:
        with pytest.raises(RuleError):
            _rules(v, backend, HOST)
    elif "--dccp-types" in v["argv"] and v.get(f"{backend}_fixpoint") is False:
        with pytest.raises(RuleError, match="no DCCP type"):  # printed as an empty word
            _rules(v, backend, HOST)
    else:
        assert _rules(v, backend, HOST) == _printed(v, backend), _name(v)


def test_every_option_of_the_group_has_a_vector() -> None:
    """Each spelling every extension of the group accepts appears in some measured vector."""
    seen = {arg.partition("=")[0] for v in (*VECTORS, *SPECIAL) for arg in v["argv"]}
    for name in GROUP:
        missing = set(MATCHES[name].spellings) - seen
        assert not missing, f"{name}: no vector for {sorted(missing)}"


def test_the_group_is_measured_on_both_families() -> None:
    families = {(m, v["family"]) for v in VECTORS for m in GROUP if m in v["argv"]}
    for name in GROUP:
        expected = {"ipv6"} if MATCHES[name].families == {"ipv6"} else {"ipv4", "ipv6"}
        assert {family for m, family in families if m == name} >= expected, name


# ---------------------------------------------------------------- answers and messages


def line(argv: str | list[str], family: Literal["ipv4", "ipv6"] = "ipv4", **kwargs: Any) -> str:
    return render_line("X", canonical(parse_rule(argv), family=family, backend="legacy", **kwargs))


def test_ah_needs_no_protocol_on_ipv6() -> None:
    assert line("-m ah --ahspi 0 -j ACCEPT", "ipv6") == "-A X -m ah --ahspi 0 -j ACCEPT"
    assert (
        line("! -p ah -m ah --ahlen 0 --ahspi :7 -j ACCEPT", "ipv6")
        == "-A X ! -p ah -m ah --ahspi 0:7 -j ACCEPT"
    )
    with pytest.raises(RuleError, match="needs -p ah"):
        line("-m ah --ahspi 0 -j ACCEPT")
    with pytest.raises(RuleError, match="needs -p esp"):
        line("-m esp --espspi 0 -j ACCEPT", "ipv6")
    with pytest.raises(RuleError, match="needs -p mh"):
        line("-m mh --mh-type 1 -j ACCEPT", "ipv6")
    with pytest.raises(RuleError, match="min > max"):
        line("-p mh -m mh --mh-type 5:3 -j ACCEPT", "ipv6")


@pytest.mark.parametrize(
    ("argv", "family", "message"),
    [
        ("-m rt --rt-0-res --rt-type 0 -j ACCEPT", "ipv6", "needs --rt-type 0"),
        ("-m rt --rt-type 0 --rt-0-not-strict -j ACCEPT", "ipv6", "needs --rt-0-addrs before it"),
        ("-m dst --dst-opts 0:1 -j ACCEPT", "ipv6", "has no length"),
        ("-m hbh --hbh-opts " + ",".join(map(str, range(17))) + " -j ACCEPT", "ipv6", "at most 16"),
        ("-m frag --fragmore --fraglast -j ACCEPT", "ipv6", "cannot be used together"),
        ("-m srh --srh-psid 10.0.0.1 -j ACCEPT", "ipv6", "not an IPv6 address"),
        ("-m ecn --ecn-tcp-ece -j ACCEPT", "ipv4", "needs -p tcp"),
        (
            "-m cluster --cluster-total-nodes 2 --cluster-local-node 3 --cluster-hash-seed 1",
            "ipv4",
            "too big",
        ),
        ("-m cgroup --path / --cgroup 1 -j ACCEPT", "ipv4", "cannot be used together"),
        ("-m policy --dir in --tunnel-src 10.0.0.1 -j ACCEPT", "ipv4", "need --mode tunnel"),
        ("-m policy --dir in --reqid 1 --next --reqid 2 -j ACCEPT", "ipv4", "also requires --strict"),
        ("-m policy --dir in --strict --reqid 1 --reqid 2 -j ACCEPT", "ipv4", "twice in one policy element"),
        ("-m realm --realm 1/ -j ACCEPT", "ipv4", "invalid mask"),
        ("-m ipv6header --header , -j ACCEPT", "ipv6", "no header names"),
        ("-m bpf --bytecode 1,4 -j ACCEPT", "ipv4", "is not 'code jt jf k'"),
        ("-m bpf --bytecode 0,6 -j ACCEPT", "ipv4", "1 to 64 instructions"),
        (["-m", "bpf", "--bytecode", "2,52 0 0 0,6 0 0 0"], "ipv4", "division by a zero constant"),
        (["-m", "bpf", "--bytecode", "2,21 0 1 6,6 0 0 0"], "ipv4", "jump past the end"),
        (["-m", "bpf", "--bytecode", "2,96 0 0 0,6 0 0 0"], "ipv4", "before any store"),
        (["-m", "bpf", "--bytecode", "1,4 0 0 0"], "ipv4", "must be a return"),
        (["-m", "bpf", "--bytecode", "2,48 0 0 4294963264,22 0 0 0"], "ipv4", "ancillary"),
        (["-m", "bpf", "--bytecode", "2,55 0 0 0,6 0 0 0"], "ipv4", "not a classic BPF instruction"),
        (["-m", "bpf", "--object-pinned", "/sys/fs/bpf/a b"], "ipv4", "unquoted"),
    ],
)
def test_refusals_say_what_is_wrong(
    argv: str | list[str], family: Literal["ipv4", "ipv6"], message: str
) -> None:
    with pytest.raises(RuleError, match=message):
        line(argv, family)


@pytest.mark.parametrize(
    ("argv", "family", "message"),
    [
        ("-m realm --realm 7 -j ACCEPT", "ipv4", "give a mask"),
        ("-m realm --realm cosmos -j ACCEPT", "ipv4", "rt_realms"),
        ("-m ipv6header --header frag -j ACCEPT", "ipv6", "/etc/protocols name"),
        ("-m ipv6header --header ipv6-frag -j ACCEPT", "ipv6", "looked up in /etc/protocols"),
        ("-m policy --dir in --proto esp -j ACCEPT", "ipv4", "/etc/protocols name"),
        (
            "-m policy --dir in --mode tunnel --tunnel-dst gw.example -j ACCEPT",
            "ipv4",
            "resolved by this host",
        ),
        ("-m srh --srh-nsid fe80::1%eth0 -j ACCEPT", "ipv6", "a name or a scope"),
        ("-p dccp -m dccp --dport ssh -j ACCEPT", "ipv4", "/etc/services|/etc/protocols"),
    ],
)
def test_names_from_the_host_are_host_dependent(
    argv: str, family: Literal["ipv4", "ipv6"], message: str
) -> None:
    with pytest.raises(HostDependent, match=message):
        line(argv, family)


def test_names_with_a_resolver() -> None:
    assert line("-m ipv6header --header frag,hop -j ACCEPT", "ipv6", resolver=HOST) == (
        "-A X -m ipv6header --header hop-by-hop,ipv6-frag -j ACCEPT"
    )
    assert line("-m policy --dir in --proto 108 -j ACCEPT", resolver=HOST) == (
        "-A X -m policy --dir in --pol ipsec --proto ipcomp -j ACCEPT"
    )
    with pytest.raises(RuleError, match="unknown header"):  # getprotobyname("tcp") is 6: no header
        line("-m ipv6header --header tcp -j ACCEPT", "ipv6", resolver=HOST)
    with pytest.raises(CannotDerive):  # realm names: no resolver covers /etc/iproute2/rt_realms
        line("-m realm --realm 7 -j ACCEPT", resolver=HOST)
    assert line("-p dccp -m dccp --dport ssh:1024 -j ACCEPT", resolver=HOST) == (  # getaddrinfo: any protocol
        "-A X -p dccp -m dccp --dport 22:1024 -j ACCEPT"
    )
    with pytest.raises(RuleError, match="not known on this host"):
        line("-p dccp -m dccp --dport nosuch -j ACCEPT", resolver=HOST)


# Measured by hand (no bpffs on the probe host): a socket filter pinned in a private bpffs
# (unshare -m), added with --object-pinned on both backends and families; all printed alike.
PINNED = ["/tmp/hdr/bpffs/prog", "/tmp/hdr/bpffs//prog", "/tmp/hdr/bpffs/./prog"]


@pytest.mark.parametrize("path", PINNED)
@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_bpf_object_pinned_prints_the_path_as_given(path: str, family: Literal["ipv4", "ipv6"]) -> None:
    argv = ["-m", "bpf", "--object-pinned", path, "-j", "ACCEPT"]
    assert line(argv, family) == f"-A X -m bpf --object-pinned {path} -j ACCEPT"


def test_cluster_node_is_printed_as_a_nodemask() -> None:
    assert line(
        "-m cluster --cluster-total-nodes 2 --cluster-local-node 2 --cluster-hash-seed 0xfeedcafe"
    ) == (
        "-A X -m cluster --cluster-local-nodemask 0x00000002 --cluster-total-nodes 2"
        " --cluster-hash-seed 0xfeedcafe"
    )


def test_repeated_policy_options_split_into_elements() -> None:
    assert line("-m policy --dir in --strict --reqid 1 --next --reqid 2 --spi 16 -j ACCEPT", "ipv6") == (
        "-A X -m policy --dir in --pol ipsec --strict --reqid 1 --next --reqid 2 --spi 0x10 -j ACCEPT"
    )


# ---------------------------------------------------------------- the parsers against libc

_LIBC = ctypes.CDLL(ctypes.util.find_library("c"))
_LIBC.strtoul.restype = ctypes.c_ulong
_LIBC.strtoul.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
_NUMERIC = st.text(alphabet=" \t+-0123456789abcdefxX:.", max_size=24)


def _libc_strtoul(text: str) -> tuple[int, int, bool] | None:
    data = text.encode()
    buf = ctypes.create_string_buffer(data)
    end = ctypes.c_char_p()
    ctypes.set_errno(0)
    value = _LIBC.strtoul(buf, ctypes.byref(end), 0)
    consumed = ctypes.cast(end, ctypes.c_void_p).value - ctypes.addressof(buf)  # type: ignore[operator]
    if consumed == 0:
        return None
    return value, consumed, ctypes.get_errno() != 0


@settings(max_examples=400, deadline=None)
@given(_NUMERIC)
def test_c_strtoul_is_libc_strtoul(text: str) -> None:
    assert c_strtoul(text) == _libc_strtoul(text)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(_NUMERIC, st.builds(".".join, st.lists(st.integers(0, 300).map(str), min_size=1, max_size=5)))
)
def test_inet_aton_is_getaddrinfo(text: str) -> None:
    """An IPv4 host as getaddrinfo reads a number (no name lookups: AI_NUMERICHOST)."""
    try:
        info = socket.getaddrinfo(text, None, socket.AF_INET, 0, 0, socket.AI_NUMERICHOST)
        expected: int | None = int.from_bytes(socket.inet_aton(str(info[0][4][0])), "big")
    except (socket.gaierror, UnicodeError):
        expected = None
    assert inet_aton(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.sampled_from(["", " ", "+", "0x", "0"]))
def test_ranges_read_back(lo: int, hi: int, prefix: str) -> None:
    text = f"{prefix}{lo:x}" if prefix == "0x" else f"{prefix}{lo:o}" if prefix == "0" else f"{prefix}{lo}"
    assert uint_parts(f"{text}:{hi}", "test") == (lo, hi, 2)
    assert uint_parts(text, "test") == (lo, lo, 1)
    assert uint_parts(f":{hi}", "test")[:2] == (0, hi)


_INSTRUCTION = st.tuples(
    st.sampled_from([0x06, 0x16, 0x20, 0x28, 0x30, 0x15, 0x05, 0x04, 0x07, 0x87, 0x00, 0x01]),
    st.integers(0, 3),
    st.integers(0, 3),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_INSTRUCTION, min_size=1, max_size=64), st.sampled_from([",", ", ", ",  "]))
def test_bpf_programs_read_back(program: list[tuple[int, int, int, int]], separator: str) -> None:
    """What canonical() prints for --bytecode is read back as the same program, and prints itself."""
    text = f"{len(program)}{separator}" + separator.join(" ".join(map(str, insn)) for insn in program)
    assert parse_program(text, "test") == program
    try:
        check_program(program, "test")
    except RuleError:
        return
    once = canonical(parse_rule(["-m", "bpf", "--bytecode", text]), backend="nft")
    assert canonical(once, backend="nft") == once


_HEADER_RULES = st.one_of(
    st.tuples(st.just("dst"), st.lists(st.integers(0, 600), min_size=1, max_size=16)),
    st.tuples(st.just("hbh"), st.lists(st.integers(1, 600), min_size=1, max_size=16)),
)


@settings(max_examples=200, deadline=None)
@given(_HEADER_RULES, st.lists(st.integers(0, 300), min_size=16, max_size=16))
def test_header_options_are_idempotent(rule: tuple[str, list[int]], lengths: list[int]) -> None:
    name, kinds = rule
    items = [
        str(kind) if kind % 256 == 0 or length > 255 or k == 15 else f"{kind}:{length}"
        for k, (kind, length) in enumerate(itertools.zip_longest(kinds, lengths[: len(kinds)], fillvalue=0))
    ]
    argv = ["-m", name, f"--{name}-opts", ",".join(items)]
    once = canonical(parse_rule(argv), family="ipv6", backend="legacy")
    assert canonical(once, family="ipv6", backend="legacy") == once
