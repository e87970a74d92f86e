"""canonical(): the measured vectors of docs/canonical (iptables 1.8.9, both backends) and its properties.

Every vector a backend accepted must come out of ``canonical()`` exactly as
that backend's iptables-save printed it, unless it is in one of the
categories below, each with its reason: refused on purpose (the output
depends on the host, or iptables would damage the value), passed through
(the spec does not derive the extension's form), or a known bug in the rule
grammar. Vectors both backends refused must be refused too, except where
the refusal depends on the table, chain, kernel or ruleset.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import shlex
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vnetkit.errors import CannotDerive, HostDependent, RuleError
from vnetkit.exec.resolver import HostResolver
from vnetkit.iptables.canonical import (
    MATCHES,
    TARGETS,
    canonical,
    canonical_address,
    canonical_protocol,
    canonical_rules,
)
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line
from vnetkit.iptables.savefile import parse_save
from vnetkit.model import Rule, Target

Backend = Literal["nft", "legacy"]
_DOCS = Path(__file__).parents[2] / "docs" / "canonical"
# vectors.json: the core cases of scripts/capture/canonical_probe.py;
# vectors/*.json: one per case file of docs/canonical/cases/.
VECTORS: list[dict[str, Any]] = [
    vector
    for path in (_DOCS / "vectors.json", *sorted((_DOCS / "vectors").glob("*.json")))
    for vector in json.loads(path.read_text(encoding="utf-8"))
]
BACKENDS: tuple[Backend, ...] = ("nft", "legacy")


def _id(v: dict[str, Any]) -> str:
    """``4 filter/X -p tcp --dport 22 -j ACCEPT``: how the tables below name a vector."""
    return f"{v['family'][-1]} {v['table']}/{v['chain']} {shlex.join(v['argv'])}"


_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _limits(backend: Backend) -> dict[str, int]:
    """The bytes iptables keeps of each string option (it cuts the rest silently)."""
    nflog = 127 if backend == "nft" else 63
    return {
        "--comment": 255,
        "--log-prefix": 29,
        "--nflog-prefix": nflog,
        "--name": 199,
        "--label": 27,
        "--rateest-name": 15,
        "--selctx": 255,
        "--oif": 15,
    }


def _cut_splits(argv: list[str], option: str, limit: int) -> bool:
    """True when iptables' cut of ``option``'s value after ``limit`` bytes falls inside a UTF-8 character."""
    values = (argv[k + 1].encode() for k, a in enumerate(argv[:-1]) if a == option)
    return any(len(data) > limit and data[limit] & 0xC0 == 0x80 for data in values)


# Values iptables-save prints bare (%s): whitespace, a quote or a backslash would not read back.
_BARE = {"--label", "--rateest-name", "--selctx", "--oif"}
# Values getaddrinfo reads (TEE, DNPT/SNPT): names and scope ids depend on the host.
_HOSTS = {"--gateway", "--src-pfx", "--dst-pfx"}


def refused_on_purpose(v: dict[str, Any], backend: Backend) -> str | None:
    """Why canonical() refuses a vector the tool accepted (None: it must not refuse it)."""
    argv: list[str] = v["argv"]
    pairs = list(itertools.pairwise(argv))
    checks = [
        (bool(v.get("env")), f"printed form depends on {v.get('env')}"),
        (any(_CONTROL.search(a) for a in argv), "control character: iptables-save prints it raw"),
        (
            any(_cut_splits(argv, option, limit) for option, limit in _limits(backend).items()),
            "iptables' cut at the byte limit splits a UTF-8 character",
        ),
        (
            any(a in ("-i", "--name") and " " in b for a, b in pairs),
            "whitespace in a name splits the save line",
        ),
        (
            any(
                a in _BARE and (re.search(r'[\s"\\]', b) or (not b and a == "--rateest-name"))
                for a, b in pairs
            ),
            "a value printed bare holds whitespace, a quote or a backslash, or is empty",
        ),
        (
            any(a in _HOSTS and not re.fullmatch(r"[0-9a-fA-FxX.:/ ]*", b) for a, b in pairs),
            "a host name or an IPv6 scope id: resolved on the host",
        ),
        (argv[:2] == ["-p", "255"] or "ipv6header" in argv, "printed under an /etc/protocols name"),
        ("devgroup" in argv and not any("/" in a for a in argv), "printed under an /etc/iproute2/group name"),
    ]
    return next((reason for hit, reason in checks if hit), None)


def _not_modelled(v: dict[str, Any]) -> set[str]:
    """The vector's extensions canonical() has no handler for: it answers CannotDerive for those
    (sync and Snapshot then ask the tool). ``what`` of the answer must name one of them."""
    argv: list[str] = v["argv"]
    out = set()
    for flag, name in itertools.pairwise(argv):
        if flag in ("-m", "--match"):
            spec = MATCHES.get(name)
            if spec is None or spec.handler is None:
                out.add(f"-m {name}")
        elif flag in ("-j", "--jump"):
            spec = TARGETS.get(name)
            if (spec is None and argv.index(flag) + 2 < len(argv)) or (
                spec is not None and spec.handler is None
            ):
                out.add(f"-j {name}")
    return out


def _expect_cannot_derive(v: dict[str, Any], backend: Backend | None) -> bool:
    """True when canonical() answered CannotDerive for an extension it does not model."""
    answer: CannotDerive | None = None
    try:
        _canonical_lines(v, backend)
    except CannotDerive as caught:
        answer = caught
    except RuleError:
        return False
    if answer is None:
        return False
    assert answer.what in _not_modelled(v), f"CannotDerive for {answer.what}, a modelled extension"
    return True


# Known bugs in vnetkit.iptables.rules / text (reported; fixes are outside canonical()).
# Vectors the rule grammar could not read (none left: esp/ah/mh implicit
# matches and --hex-string quoting were fixed); kept as the place to list
# such cases with a strict xfail.
GRAMMAR_BUGS: dict[str, str] = {}

# Refused by the tool for reasons outside the rule's text: canonical() accepts them.
CONTEXT = {
    "4 filter/INPUT -o eth1 -j ACCEPT": "-o in INPUT (chain)",
    "4 filter/OUTPUT -i eth1 -j ACCEPT": "-i in OUTPUT (chain)",
    "4 filter/X -m set --match-set nosuchset src -j ACCEPT": "the ipset does not exist",
    "4 filter/X -m set --match-set s6 src -j ACCEPT": "the ipset has the other family",
    "4 filter/INPUT -m owner --uid-owner 0 -j ACCEPT": "owner outside OUTPUT/POSTROUTING (hook)",
    "4 filter/X -m nosuchmatch -j ACCEPT": "no such extension (not known to canonical())",
    "4 filter/X -j QUEUE": "nft: no NFT_QUEUE in this kernel",
    "4 filter/X -j accept": "no such chain (ruleset)",
    "4 filter/X -j NOSUCH": "no such chain (ruleset)",
    "4 nat/POSTROUTING -j DNAT --to-destination 10.0.0.1": "DNAT in POSTROUTING (hook)",
    "4 filter/X -j DNAT --to-destination 10.0.0.1": "DNAT outside nat (table)",
    "4 filter/X -j TRACE": "legacy: TRACE outside raw (table)",
    "4 nat/POSTROUTING -m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT": "--limit-iface-in (hook)",
    "4 filter/OUTPUT -m cgroup --path user.slice -j ACCEPT": "cgroup v2 path (kernel)",
    "4 filter/X -j CT --notrack": "CT outside raw (table)",
    "4 mangle/INPUT -j SECMARK --selctx system_u:object_r:ssh_packet_t:s0": "SELinux (kernel)",
    "4 filter/X -j LED --led-trigger-id foo": "LED (kernel)",
    "4 filter/OUTPUT -m physdev --physdev-out veth0 -j ACCEPT": "--physdev-out in OUTPUT (hook)",
    # Limits of the rule grammar: the Rule cannot tell these from accepted forms.
    "4 filter/X -6 -s 1.2.3.4 -j ACCEPT": "parse_rule drops -4/-6",
}


def _cases() -> list[Any]:
    return [
        pytest.param(
            v,
            backend,
            id=f"{k:04d}-{backend}",
            marks=[pytest.mark.xfail(strict=True, reason=GRAMMAR_BUGS[_id(v)])]
            if _id(v) in GRAMMAR_BUGS
            else [],
        )
        for k, v in enumerate(VECTORS)
        for backend in BACKENDS
    ]


def _canonical_lines(v: dict[str, Any], backend: Backend | None) -> str:
    rules = canonical_rules(parse_rule(v["argv"]), family=v["family"], backend=backend)
    return "\n".join(render_line(v["chain"], rule) for rule in rules)


@pytest.mark.parametrize(("v", "backend"), _cases())
def test_vector(v: dict[str, Any], backend: Backend) -> None:
    expected: str | None = v[backend]
    name = _id(v)
    if expected is None:  # the tool refused it
        if name in CONTEXT or v.get("context"):
            with contextlib.suppress(CannotDerive):
                _canonical_lines(v, backend)  # accepted: the refusal is not about the text
            return
        if _not_modelled(v):
            with pytest.raises((RuleError, CannotDerive)):
                _expect_cannot_derive(v, backend) or _canonical_lines(v, backend)
            return
        with pytest.raises(RuleError):
            _canonical_lines(v, backend)
        return
    reason = refused_on_purpose(v, backend)
    if reason is not None:
        with pytest.raises(RuleError):
            _canonical_lines(v, backend)
        return
    if _not_modelled(v) and _expect_cannot_derive(v, backend):
        return
    assert _canonical_lines(v, backend) == expected


def test_vector_tables_are_current() -> None:
    """Every name in the exception tables still matches a vector."""
    names = {_id(v) for v in VECTORS}
    assert set(GRAMMAR_BUGS) <= names
    assert set(CONTEXT) <= names


def test_counts() -> None:
    """How many vectors compare equal, per backend (the report quotes these)."""
    passed = dict.fromkeys(BACKENDS, 0)
    for v in VECTORS:
        for backend in BACKENDS:
            expected = v[backend]
            if expected is None or refused_on_purpose(v, backend):
                continue
            with contextlib.suppress(RuleError, CannotDerive):
                passed[backend] += _canonical_lines(v, backend) == expected
    accepted = {b: sum(v[b] is not None for v in VECTORS) for b in BACKENDS}
    print(f"vectors equal: {passed} of accepted {accepted}")
    assert min(passed.values()) >= 850


@pytest.mark.parametrize("v", VECTORS, ids=[f"{k:04d}" for k in range(len(VECTORS))])
def test_vector_without_backend(v: dict[str, Any]) -> None:
    """backend=None: the form every backend that accepts the rule prints, else RuleError."""
    name = _id(v)
    printed = {b: v[b] for b in BACKENDS if v[b] is not None}
    if (
        name in GRAMMAR_BUGS
        or name in CONTEXT
        or v.get("context")
        or not printed
        or any(refused_on_purpose(v, b) for b in printed)
        or _not_modelled(v)
    ):
        return
    if len(set(printed.values())) > 1:
        with pytest.raises(RuleError, match="print this rule differently"):
            _canonical_lines(v, None)
    else:
        assert _canonical_lines(v, None) == next(iter(printed.values()))


# ---------------------------------------------------------------- API and messages


def test_lists_need_canonical_rules() -> None:
    rule = parse_rule("-s 10.0.0.1,10.0.0.2/24 -d 192.0.2.1 -j ACCEPT")
    with pytest.raises(RuleError, match="canonical_rules"):
        canonical(rule)
    assert [r.source for r in canonical_rules(rule)] == ["10.0.0.1/32", "10.0.0.0/24"]
    with pytest.raises(RuleError, match="negate a list"):
        canonical_rules(parse_rule("! -s 10.0.0.1,10.0.0.2 -j ACCEPT"))
    assert canonical_rules(parse_rule("-j ACCEPT")) == [Rule(target=Target("ACCEPT"))]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("-s localhost -j ACCEPT", "give an address"),
        ("-p tcp --dport ssh -j ACCEPT", "give the port number"),
        ("-p tcp -m multiport --dports 22,http -j ACCEPT", "give the port number"),
        ("-m owner --uid-owner root -j ACCEPT", "numeric id"),
        ("-p gre -j ACCEPT", "/etc/protocols"),
        ("-p 47 -j ACCEPT", "/etc/protocols"),
        ("-m conntrack --ctproto gre -j ACCEPT", "give its number"),
        ("-m comment --comment " + "é" * 128 + " -j ACCEPT", "at most 255 bytes"),
        ("-p tcp --dport 22 --d 1.2.3.4 -j ACCEPT", "full option names"),
    ],
)
def test_refusals_say_what_to_give(argv: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        canonical(parse_rule(argv))


def test_control_characters_are_refused() -> None:
    with pytest.raises(RuleError, match="control character"):
        canonical(parse_rule(["-m", "comment", "--comment", "a\nb", "-j", "ACCEPT"]))


def test_an_extension_it_does_not_model_is_a_distinct_answer_not_a_guess() -> None:
    with pytest.raises(CannotDerive, match="-m nosuchmatch") as caught:
        canonical(parse_rule("-s 10.1.2.3/8 -m nosuchmatch --opt 9:0 -p TCP --dport 22 -j TGT"))
    assert caught.value.what == "-m nosuchmatch"
    assert not isinstance(caught.value, RuleError)
    with pytest.raises(CannotDerive, match="-j NOSUCHTARGET"):
        canonical(parse_rule("-j NOSUCHTARGET --opt 1"))
    # a jump to a user chain is no extension: printed as written
    assert canonical(parse_rule("-s 10.1.2.3/8 -p TCP --dport 22 -j TGT")).target == Target("TGT")


def test_backend_differences() -> None:
    two_tcp = parse_rule("-p tcp -m tcp --dport 22 -m tcp --sport 1 -j ACCEPT")
    assert (
        render_line("X", canonical(two_tcp, backend="nft"))
        == "-A X -p tcp -m tcp --sport 1 --dport 22 -j ACCEPT"
    )
    with pytest.raises(RuleError, match="differently"):
        canonical(two_tcp)
    # only legacy accepts it: backend=None gives legacy's form
    assert canonical(parse_rule("! -s 0.0.0.0/0 -j DROP")).source == "0.0.0.0/0"
    with pytest.raises(RuleError, match="iptables-nft refuses"):
        canonical(parse_rule("! -s 0.0.0.0/0 -j DROP"), backend="nft")
    # nft reads a negated low range back as its complement
    nft = canonical(parse_rule("-p udp ! --dport 0:1023 -j DROP"), backend="nft")
    assert render_line("X", nft) == "-A X -p udp -m udp --dport 1024:65535 -j DROP"


def test_address_and_protocol_helpers() -> None:
    assert canonical_address("10.1.2.3/8") == "10.0.0.0/8"
    assert canonical_address("010.1") == "8.1.0.0/32"
    assert canonical_address("0/0") is None
    assert canonical_address("2001:DB8:0:0:1:0:0:1") == "2001:db8::1:0:0:1/128"
    assert canonical_address("::ffff:1.2.3.4/96") == "::ffff:0.0.0.0/96"
    assert canonical_protocol("ICMPv6") == "ipv6-icmp"
    assert canonical_protocol("0x6") == "tcp"
    assert canonical_protocol("all") is None
    assert canonical_protocol("200") == "200"
    with pytest.raises(RuleError):
        canonical(Rule(), family="ipv5")  # type: ignore[arg-type]


# ---------------------------------------------------------------- idempotence

GOLDEN = sorted((Path(__file__).parents[1] / "golden" / "save").glob("*.save"))


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_real_rulesets_are_fixed_points(path: Path) -> None:
    """Docker, kube-proxy, Neutron and host firewall dumps of both backends: each rule prints itself."""
    family: Literal["ipv4", "ipv6"] = "ipv6" if "ipv6" in path.name else "ipv4"
    backend: Backend = "nft" if "-nft-" in path.name else "legacy"
    resolver = HostResolver()
    for table in parse_save(path.read_text(encoding="utf-8")).tables:
        for entry in table.rules:
            try:
                got = canonical(entry.rule, family=family, backend=backend)
            except HostDependent:  # an /etc/protocols name (-p gre, policy --proto esp): this host's
                got = canonical(entry.rule, family=family, backend=backend, resolver=resolver)
            assert got == entry.rule, entry.chain


_ADDR4 = st.builds(
    lambda a, p: f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}" + (f"/{p}" if p is not None else ""),
    st.integers(0, 2**32 - 1),
    st.none() | st.integers(0, 32),
)
_PORTS = st.builds(
    lambda a, b: f"{min(a, b)}:{max(a, b)}", st.integers(0, 65535), st.integers(0, 65535)
) | st.integers(0, 65535).map(str)
_WORD = st.text(alphabet="abcXYZ019 _-.\"'\\é", max_size=12).filter(lambda s: not s.startswith("-"))


_NEG = st.sampled_from([[], [], ["!"]])
_U32 = st.integers(0, 2**32 - 1)
_UNIT = st.sampled_from(["s", "min", "h", "day"])
_STATE = st.lists(st.sampled_from(["new", "ESTABLISHED", "related", "INVALID"]), min_size=1).map(",".join)


def _with(head: list[str], *parts: st.SearchStrategy[Any]) -> st.SearchStrategy[list[str]]:
    """``head`` then each part (a string, or a list of strings such as a negation)."""

    def join(values: tuple[Any, ...]) -> list[str]:
        out = list(head)
        for value in values:
            out += value if isinstance(value, list) else [value]
        return out

    return st.tuples(*parts).map(join)


_OTHER = st.one_of(
    _with(["-m", "comment", "--comment"], _WORD),
    _with(["-m", "conntrack"], _NEG, st.just("--ctstate"), _STATE),
    _with(["-m", "mark"], _NEG, st.just("--mark"), st.builds(lambda v, m: f"{v}/0x{m:x}", _U32, _U32)),
    _with(["-m", "limit", "--limit"], st.builds(lambda r, u: f"{r}/{u}", st.integers(1, 10000), _UNIT)),
    _with(["-m", "recent"], st.sampled_from(["--set", "--rcheck"]), st.just(["--name", "L1"])),
    _with(["-m", "statistic", "--mode", "random", "--probability"], st.floats(0, 1).map(str)),
    _with(["-m", "length"], _NEG, st.just("--length"), _PORTS),
)
_TARGET = st.sampled_from(
    [[], ["-j", "ACCEPT"], ["-g", "CHAIN"], ["-j", "REJECT"], ["-j", "LOG", "--log-level", "info"],
     ["-j", "MARK", "--or-mark", "0x10"], ["-j", "DNAT", "--to-destination", "10.0.0.1-10.0.0.9"]]
)  # fmt: skip


@st.composite
def _argv(draw: st.DrawFn) -> list[str]:
    argv: list[str] = []
    if draw(st.booleans()):
        argv += [*draw(_NEG), "-s", draw(_ADDR4)]
    if draw(st.booleans()):
        argv += [*draw(_NEG), "-i", draw(st.sampled_from(["eth0", "veth+", "+"]))]
    proto = draw(st.sampled_from(["tcp", "udp", "icmp", "6", "all", None]))
    if proto is not None:
        argv += [*draw(_NEG), "-p", proto]
    if proto in ("tcp", "udp", "6") and draw(st.booleans()):
        name = "udp" if proto == "udp" else "tcp"
        argv += ["-m", name, *draw(_NEG), "--dport", draw(_PORTS)]
        argv += [*draw(_NEG), "--syn"] if name == "tcp" and draw(st.booleans()) else []
    if proto == "icmp" and draw(st.booleans()):
        argv += ["--icmp-type", draw(st.sampled_from(["ping", "3/3", "any", "time-exceeded"]))]
    for part in draw(st.lists(_OTHER, max_size=3)):
        argv += part
    return argv + draw(_TARGET)


@settings(max_examples=300, deadline=None)
@given(_argv(), st.sampled_from(["nft", "legacy", None]))
def test_canonical_is_idempotent(argv: list[str], backend: Backend | None) -> None:
    try:
        once: Rule | None = canonical(parse_rule(argv), backend=backend)
    except RuleError:
        once = None
    assume(once is not None)
    assert once is not None
    assert canonical(once, backend=backend) == once
    line = render_line("X", once)  # and the printed line reads back as the same rule
    assert parse_rule_line(line)[1] == once


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8), st.integers(0, 128))
def test_ipv6_addresses_are_idempotent(groups: list[int], prefix: int) -> None:
    text = ":".join(f"{g:x}" for g in groups) + f"/{prefix}"
    once = canonical_address(text, family="ipv6")
    assert once is None or canonical_address(once, family="ipv6") == once
