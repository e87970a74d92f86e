"""canonical() for the sctp match, beyond test_canonical.py's line-by-line vectors.

docs/canonical/vectors/sctp.json is checked line for line by
test_canonical.py. Here: the declarations the rule grammar reads values by
(libxt_sctp's option table), that every option has vectors on both families
and that both backends print alike, the port names of this host (answered by
a resolver), the printed lines as fixed points, what the refusals say, the
chunk-list rules spec-sctp.md describes, and idempotence over random lists.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vnetkit.errors import HostDependent, RuleError
from vnetkit.iptables.canonical import MATCHES, canonical, canonical_rules
from vnetkit.iptables.canonical._matches_sctp import CHUNKS, chunk_list
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line
from vnetkit.model import Rule

Backend = Literal["nft", "legacy"]
_DOCS = Path(__file__).parents[2] / "docs" / "canonical"
VECTORS: list[dict[str, Any]] = json.loads((_DOCS / "vectors" / "sctp.json").read_text(encoding="utf-8"))
BACKENDS: tuple[Backend, ...] = ("nft", "legacy")


class ThisHost:
    """The services of the host the vectors were measured on (Debian netbase): amqp alone is sctp's."""

    def service(self, name: str, protocol: str | None) -> int | None:
        known = {("amqp", "sctp"): 5672, ("amqp", "tcp"): 5672, ("ssh", "tcp"): 22}
        return known.get((name, protocol or "tcp"))

    def protocol_number(self, name: str) -> int | None:
        return None

    def protocol_name(self, number: int) -> str | None:
        return None

    def user(self, name: str) -> int | None:
        return None

    def group(self, name: str) -> int | None:
        return None


def _cases(*, refused: bool = False, env: bool | None = None) -> list[Any]:
    return [
        pytest.param(v, backend, id=f"{k:04d}-{backend}-{v['family'][-1]}")
        for k, v in enumerate(VECTORS)
        for backend in BACKENDS
        if (refused or v[backend] is not None) and (env is None or bool(v.get("env")) == env)
    ]


def _printed(v: dict[str, Any], backend: Backend) -> list[Rule]:
    return [parse_rule_line(line)[1] for line in v[backend].split("\n")]


def line(argv: str | list[str], family: Literal["ipv4", "ipv6"] = "ipv4", **kwargs: Any) -> str:
    return render_line("X", canonical(parse_rule(argv), family=family, **kwargs))


# ---------------------------------------------------------------- declarations and coverage


@pytest.mark.parametrize(
    ("option", "printed", "arity"),
    [
        ("--sport", "--sport", 1),
        ("--source-port", "--sport", 1),
        ("--dport", "--dport", 1),
        ("--destination-port", "--dport", 1),
        ("--chunk-types", "--chunk-types", 2),
    ],
)
def test_declarations(option: str, printed: str, arity: int) -> None:
    """libxt_sctp's sctp_opts: every option takes '!'; --chunk-types takes its list as a second value."""
    spec = MATCHES["sctp"]
    assert spec.handler is not None
    assert spec.spellings[option] == printed
    assert spec.arity.get(printed, 1) == arity
    assert printed in spec.invertible
    assert set(spec.spellings) == {
        "--sport",
        "--source-port",
        "--dport",
        "--destination-port",
        "--chunk-types",
    }


def test_every_option_and_chunk_has_vectors_on_both_families() -> None:
    for family in ("ipv4", "ipv6"):
        given_ = {arg.partition("=")[0] for v in VECTORS if v["family"] == family for arg in v["argv"]}
        assert set(MATCHES["sctp"].spellings) <= given_, family
        printed = " ".join(v["legacy"] or "" for v in VECTORS if v["family"] == family)
        assert all(name in printed for name, _, _ in CHUNKS)
    assert len(VECTORS) >= 300


def test_both_backends_print_alike() -> None:
    """iptables-nft 1.8.9 keeps sctp as a compat match: the same lines, the same refusals."""
    assert all(v["nft"] == v["legacy"] for v in VECTORS)


@pytest.mark.parametrize(("v", "backend"), _cases(refused=True, env=True))
def test_service_names_with_this_hosts_resolver(v: dict[str, Any], backend: Backend) -> None:
    """Port names are getservbyname(name, "sctp"): amqp is sctp's here, ssh only tcp's."""
    rule = parse_rule(v["argv"])
    with pytest.raises(HostDependent, match="/etc/services"):
        canonical_rules(rule, family=v["family"], backend=backend)
    if v[backend] is None:
        with pytest.raises(RuleError, match="not known on this host"):
            canonical_rules(rule, family=v["family"], backend=backend, resolver=ThisHost())
    else:
        got = canonical_rules(rule, family=v["family"], backend=backend, resolver=ThisHost())
        assert got == _printed(v, backend)


@pytest.mark.parametrize(("v", "backend"), _cases())
def test_printed_lines_are_fixed_points(v: dict[str, Any], backend: Backend) -> None:
    """The probe checked the tool reads each printed line back as itself; canonical() must too."""
    assert v.get(f"{backend}_fixpoint", True)
    for text in v[backend].split("\n"):
        chain, rule, _ = parse_rule_line(text)
        assert render_line(chain, canonical(rule, family=v["family"], backend=backend)) == text


# ---------------------------------------------------------------- behaviours (spec-sctp.md)


@pytest.mark.parametrize(
    ("given_", "printed"),
    [
        ("Any data", "any DATA"),
        ("all ALL", "all ALL"),
        ("only none", "only NONE"),
        ("any ,", "any NONE"),  # strtok finds no item: an empty map prints NONE
        ("any I_FORWARD_TSN,ASCONF,ASCONF_ACK,DATA,data", "any DATA,ASCONF_ACK,ASCONF,I_FORWARD_TSN"),
        ("any DATA:eBuI", "any DATA:IuBe"),  # flag letters in table order, upper set, lower clear
        ("any DATA:bB,DATA:e", "any DATA:Be"),  # a set bit stays set; one chunk's flags merge
        ("any DATA:B-", "any DATA:-B"),  # '-' is accepted: the unused top bit, cleared
        ("any DATA:", "any DATA"),
        ("any ABORT:tT,SHUTDOWN_COMPLETE:t", "any ABORT:T,SHUTDOWN_COMPLETE:t"),
        # flags of I_DATA and later chunks are kept under their table index, not their
        # type, so libxt_sctp never prints them; they still take one of the four slots
        ("any I_DATA:IUBE,PAD:-", "any I_DATA,PAD"),
        ("any I_DATA:B,RE_CONFIG:-,PAD:-,ASCONF:-,DATA", "any DATA,I_DATA,RE_CONFIG,PAD,ASCONF"),
    ],
)
def test_chunk_types(given_: str, printed: str) -> None:
    assert line(f"-p sctp -m sctp --chunk-types {given_}") == f"-A X -p sctp -m sctp --chunk-types {printed}"


def test_print_order_and_negation() -> None:
    assert line("-p sctp --chunk-types=any INIT ! --dport 0:65535 --source-port :7", "ipv6") == (
        "-A X -p sctp -m sctp --sport 0:7 ! --dport 0:65535 --chunk-types any INIT"
    )
    assert line("-p sctp -m sctp ! --chunk-types ONLY ALL") == "-A X -p sctp -m sctp ! --chunk-types only ALL"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("--chunk-types none DATA", "mode 'none' is not one of all, any, only"),
        ("--chunk-types any DATA,ALL", "ALL stands alone"),
        ("--chunk-types any 64", "by name only"),
        ("--chunk-types any I-DATA", "unknown chunk type 'I-DATA'"),
        ("--chunk-types any -DATA", "reads it as an option"),
        ("--chunk-types any DATA:T", "DATA has no flag 'T' .its flags: I, U, B, E"),
        ("--chunk-types any INIT:b", "INIT has no flag 'b' .its flags: none"),
        ("--chunk-types any DATA:B,ABORT:T,SHUTDOWN_COMPLETE:T,INIT:-,SACK:-", "at most 4 chunk types"),
        ("--chunk-types any I_DATA:B,RE_CONFIG:-,PAD:-,ASCONF:-,DATA:B", "at most 4 chunk types"),
        ("--chunk-types any DATA --chunk-types all INIT", "given twice"),
        ("--sport 1 --source-port 2", "given twice"),
        ("--dport 5:3", "min > max"),
        ("--dport 65536", "out of range"),
        ("--dport ssh", "give the port number"),
    ],
)
def test_refusals_say_what_is_wrong(argv: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        line(f"-p sctp -m sctp {argv}")


@pytest.mark.parametrize("proto", ["", "-p tcp", "! -p sctp", "-p all"])
def test_needs_protocol_sctp(proto: str) -> None:
    with pytest.raises(RuleError, match="needs -p sctp"):
        line(f"{proto} -m sctp --dport 1")


# ---------------------------------------------------------------- properties

_NAMES = [name for name, _, _ in CHUNKS]
_ITEM = st.builds(
    lambda name, case, flags: (name.lower() if case else name) + (f":{flags}" if flags is not None else ""),
    st.sampled_from(_NAMES),
    st.booleans(),
    st.none() | st.text(alphabet="-IUBEiube", max_size=4),
)
_FLAGGABLE = {"DATA", "I_DATA"}


@given(st.lists(_ITEM, max_size=8))
def test_chunk_lists_are_fixed_points(items: list[str]) -> None:
    """What canonical() prints, it reads back as itself; names appear once, by chunk type."""
    try:
        printed = chunk_list(",".join(items), "-m sctp --chunk-types")
    except RuleError:
        return  # a flag the chunk does not have, or more than four chunk types with flags
    assert chunk_list(printed, "-m sctp --chunk-types") == printed
    if items:
        names = [item.partition(":")[0] for item in printed.split(",")]
        types = [next(number for name_, number, _ in CHUNKS if name_ == name) for name in names]
        assert types == sorted(set(types))
        assert {item.partition(":")[0].upper() for item in items} == set(names)


def test_flag_letters_exist_only_where_the_table_has_them() -> None:
    for name, _, valid in CHUNKS:
        letters = set(valid) - {"-"}
        if name in _FLAGGABLE:
            assert letters == set("IUBE")
        elif name in ("ABORT", "SHUTDOWN_COMPLETE"):
            assert letters == {"T"}
        else:
            assert not letters
