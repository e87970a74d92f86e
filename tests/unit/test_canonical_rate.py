"""canonical() for the rate group: hashlimit, time, u32, rateest, connlabel, nfacct, osf, ipvs.

docs/canonical/vectors/rate*.json are checked line for line by
test_canonical.py. Here: the vectors of docs/canonical/special/rate*.json
(forms the line renderer cannot reproduce, compared as parsed rules; options
the rule grammar cannot read yet; values the tool damages, refused on
purpose; ipvs names, answered by this host's resolver), the fixed points
the tools confirmed, the declarations the rule grammar reads option values
by, and the behaviours the spec describes.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any, Literal

import pytest

from vnetkit.errors import HostDependent, RuleError
from vnetkit.exec.resolver import HostResolver
from vnetkit.iptables.canonical import MATCHES, canonical, canonical_rules
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line
from vnetkit.model import Rule

Backend = Literal["nft", "legacy"]
_DOCS = Path(__file__).parents[2] / "docs" / "canonical"
_GROUP = ("hashlimit", "time", "u32", "rateest", "connlabel", "nfacct", "osf", "ipvs")


def _load(pattern: str, folder: str) -> list[dict[str, Any]]:
    return [v for path in sorted((_DOCS / folder).glob(pattern)) for v in json.loads(path.read_text("utf-8"))]


SPECIAL = _load("rate*.json", "special")
VECTORS = _load("rate*.json", "vectors")


def _cases(vectors: list[dict[str, Any]], *, refused: bool = False) -> list[Any]:
    return [
        pytest.param(v, backend, id=f"{k:03d}-{backend}-{v['family'][-1]} {shlex.join(v['argv'])[:60]}")
        for k, v in enumerate(vectors)
        for backend in ("nft", "legacy")
        if refused or v[backend] is not None
    ]


def _canonical(v: dict[str, Any], backend: Backend) -> list[Rule]:
    return canonical_rules(parse_rule(v["argv"]), family=v["family"], backend=backend)


def _printed(v: dict[str, Any], backend: Backend) -> list[Rule]:
    return [parse_rule_line(line)[1] for line in v[backend].split("\n")]


@pytest.mark.parametrize(("v", "backend"), _cases(SPECIAL, refused=True))
def test_special_vector(v: dict[str, Any], backend: Backend) -> None:
    category = v["note"].partition(":")[0]
    if v[backend] is None:  # refused by the tool: refused here too (or accepted for its context)
        with pytest.raises(RuleError):
            canonical_rules(
                parse_rule(v["argv"]), family=v["family"], backend=backend, resolver=HostResolver()
            )
        return
    if category == "printed":  # quoting or spacing aside, the printed rule itself
        assert _canonical(v, backend) == _printed(v, backend)
    elif category == "resolver":  # names: as this host's files answer (the VM used this host's /etc)
        got = canonical_rules(
            parse_rule(v["argv"]), family=v["family"], backend=backend, resolver=HostResolver()
        )
        assert got == _printed(v, backend)
    elif category == "damaged":
        with pytest.raises(RuleError):
            _canonical(v, backend)
    else:  # "grammar": forms the rule grammar reads only with optional values (rateest's rates)
        assert category == "grammar"
        assert _canonical(v, backend) == _printed(v, backend)


@pytest.mark.parametrize(("v", "backend"), _cases(VECTORS))
def test_printed_lines_are_fixed_points(v: dict[str, Any], backend: Backend) -> None:
    """A line the tool reads back as itself, canonical() reads back as itself too."""
    if v.get(f"{backend}_fixpoint") is False or "\\x" in v[backend]:
        return
    for line in v[backend].split("\n"):
        chain, rule, _ = parse_rule_line(line)
        assert render_line(chain, canonical(rule, family=v["family"], backend=backend)) == line


def test_every_option_of_the_group_has_a_vector() -> None:
    """Each spelling the declarations accept appears in the measured cases."""
    given = {arg.partition("=")[0] for v in (*VECTORS, *SPECIAL) for arg in v["argv"]}
    for name in _GROUP:
        spec = MATCHES[name]
        assert spec.handler is not None, name
        missing = set(spec.spellings) - given
        assert not missing, f"{name}: no vector for {sorted(missing)}"


@pytest.mark.parametrize(
    ("name", "option", "printed", "arity", "invertible"),
    [
        ("hashlimit", "--hashlimit", "--hashlimit-upto", 1, True),
        ("hashlimit", "--hashlimit-above", "--hashlimit-above", 1, True),
        ("hashlimit", "--hashlimit-rate-match", "--hashlimit-rate-match", 0, False),
        ("hashlimit", "--hashlimit-burst", "--hashlimit-burst", 1, False),
        ("time", "--localtz", "--localtz", 0, False),
        ("time", "--contiguous", "--contiguous", 0, False),
        ("time", "--weekdays", "--weekdays", 1, True),
        ("time", "--datestart", "--datestart", 1, False),
        ("u32", "--u32", "--u32", 1, True),
        ("rateest", "--rateest1", "--rateest", 1, False),
        ("rateest", "--rateest-bps2", "--rateest-bps", -1, False),
        ("rateest", "--rateest-delta", "--rateest-delta", 0, False),
        ("rateest", "--rateest-lt", "--rateest-lt", 0, True),
        ("connlabel", "--set", "--set", 0, False),
        ("connlabel", "--label", "--label", 1, True),
        ("nfacct", "--nfacct-name", "--nfacct-name", 1, False),
        ("osf", "--genre", "--genre", 1, True),
        ("osf", "--log", "--log", 1, False),
        ("ipvs", "--ipvs", "--ipvs", 0, True),
        ("ipvs", "--vdir", "--vdir", 1, False),
        ("ipvs", "--vportctl", "--vportctl", 1, True),
    ],
)
def test_declarations(name: str, option: str, printed: str, arity: int, invertible: bool) -> None:
    """What the rule grammar reads values by: spellings, value counts, '!' (as in iptables 1.8.9)."""
    spec = MATCHES[name]
    assert spec.spellings[option] == printed
    assert spec.arity.get(printed, 1) == arity
    assert (printed in spec.invertible) is invertible


def line(argv: str, family: Literal["ipv4", "ipv6"] = "ipv4", **kwargs: Any) -> str:
    return render_line("X", canonical(parse_rule(argv), family=family, **kwargs))


def test_issue_examples() -> None:
    assert (
        line("-m hashlimit --hashlimit-upto 1/sec --hashlimit-name x -j ACCEPT")
        == "-A X -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name x -j ACCEPT"
    )
    assert (
        line("-m rateest --rateest RE1 --rateest-gt --rateest-bps 5kbit")
        == "-A X -m rateest --rateest RE1 --rateest-gt --rateest-bps 5000bit"
    )
    assert line("-m ipvs --vproto tcp --vport 80 --vaddr 1.2.3.4/255.255.255.0") == (
        "-A X -m ipvs --vproto 6 --vaddr 1.2.3.4/24 --vport 80"
    )


class _Services:
    """A resolver that knows two services and one protocol name."""

    def service(self, name: str, protocol: str) -> int | None:
        return {("http", "tcp"): 80, ("dns", "udp"): 53}.get((name, protocol))

    def protocol_number(self, name: str) -> int | None:
        return {"TCP": 6}.get(name)

    def protocol_name(self, number: int) -> str | None:
        return None

    def user(self, name: str) -> int | None:
        return None

    def group(self, name: str) -> int | None:
        return None


def test_ipvs_names_need_the_resolver() -> None:
    argv = "-m ipvs --vproto TCP --vport http --vaddr 1.2.3.4/255.255.255.0"
    with pytest.raises(HostDependent, match="/etc/protocols"):
        line(argv)
    assert line(argv, resolver=_Services()) == "-A X -m ipvs --vproto 6 --vaddr 1.2.3.4/24 --vport 80"
    # without socket type, getaddrinfo tries tcp, then udp, dccp, udplite and sctp
    assert line("-m ipvs --vportctl dns", resolver=_Services()) == "-A X -m ipvs --vportctl 53"
    with pytest.raises(RuleError, match="does not resolve"):
        line("-m ipvs --vport nosuch", resolver=_Services())


def test_connlabel_names_are_host_dependent() -> None:
    with pytest.raises(HostDependent, match=r"connlabel\.conf"):
        line("-m connlabel --label foo")
    assert canonical(parse_rule("-m connlabel ! --label 0x28 --set")).matches[0].options[0].values == ("40",)


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        # the printed unit differs from the given one: the default expiry is printed
        ("--hashlimit-upto 60/min", "--hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name h"
         " --hashlimit-htable-expire 60000"),
        ("--hashlimit 5/m", "--hashlimit-upto 5/min --hashlimit-burst 5 --hashlimit-name h"),
        ("! --hashlimit-above 5/s", "--hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name h"),
        ("--hashlimit-upto 4kb/s --hashlimit-burst 400kb", "--hashlimit-upto 4kb/s --hashlimit-burst 400kb"
         " --hashlimit-name h"),
        ("--hashlimit-upto 1000000mb/s", "--hashlimit-upto 22906492224b/s --hashlimit-name h"),
        ("--hashlimit-upto 1/min --hashlimit-rate-match", "--hashlimit-upto 1/sec --hashlimit-burst 5"
         " --hashlimit-name h --hashlimit-htable-expire 60000 --hashlimit-rate-match"
         " --hashlimit-rate-interval 60"),
        ("--hashlimit-upto 5 --hashlimit-htable-max 4294967295 --hashlimit-srcmask 255.255.0.0",
         "--hashlimit-upto 5/sec --hashlimit-burst 5 --hashlimit-name h --hashlimit-htable-max 1048576"
         " --hashlimit-srcmask 16"),
    ],
)  # fmt: skip
def test_hashlimit(argv: str, printed: str) -> None:
    assert line(f"-m hashlimit --hashlimit-name h {argv}") == f"-A X -m hashlimit {printed}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("--hashlimit-upto 1/day", "overflow"),  # 1/day with the default burst of 5 (HZ 250 and 1000)
        ("--hashlimit-upto 1000001/sec", "too fast"),
        ("--hashlimit-upto 96b/s --hashlimit-burst 5", "smaller than 96b"),
        ("--hashlimit-upto 5 --hashlimit-srcmask 255.0.255.0", "contiguous"),
        ("--hashlimit-upto 5 --hashlimit-mode none", "unknown mode"),
        ("--hashlimit-upto 5 --hashlimit-htable-expire 0", "must not be 0"),
    ],
)
def test_hashlimit_refusals(argv: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        line(f"-m hashlimit --hashlimit-name h {argv}")


@pytest.mark.parametrize(
    ("argv", "printed"),
    [
        ("--timestart 9:0", "--timestart 09:00:00 --timestop 23:59:59 --datestop 2038-01-19T03:14:07"),
        ("--datestart 2020-02-31", "--datestart 2020-03-02T00:00:00 --datestop 2038-01-19T03:14:07"),
        ("--datestart 2020-0-0", "--datestart 2019-11-30T00:00:00 --datestop 2038-01-19T03:14:07"),
        ("--datestop 1970-01-01", ""),
        ("--weekdays Sunx,Monday,7,1", "--weekdays Mon,Sun --datestop 2038-01-19T03:14:07"),
        ("! --monthdays 2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31",
         "--monthdays 1 --datestop 2038-01-19T03:14:07"),
        ("--monthdays 123", "--monthdays 12 --datestop 2038-01-19T03:14:07"),
        ("--localtz", "--datestop 2038-01-19T03:14:07 --kerneltz"),
    ],
)  # fmt: skip
def test_time(argv: str, printed: str) -> None:
    assert line(f"-m time {argv}") == f"-A X -m time {printed}".rstrip()


def test_time_refuses_an_empty_day_list() -> None:
    with pytest.raises(RuleError, match="matches no day"):
        line("-m time ! --weekdays Mon,Tue,Wed,Thu,Fri,Sat,Sun")


def test_u32_is_printed_in_hex_without_blanks() -> None:
    assert line('-m u32 ! --u32 " 0 = 1 : 2 , 3 && 4 & 0xff << 2 >> 1 @ 4 = 5"') == (
        '-A X -m u32 ! --u32 "0x0=0x1:0x2,0x3&&0x4&0xff<<0x2>>0x1@0x4=0x5"'
    )
    with pytest.raises(RuleError, match="too many"):
        line("-m u32 --u32 " + "&&".join(["0=1"] * 11))


def test_rateest_layouts() -> None:
    delta = "-m rateest --rateest-delta --rateest RE1 --rateest-bps1 8bit ! --rateest-lt --rateest-bps2"
    assert line(f"{delta} 1.5mbit") == f"-A X {delta} 1500Kbit"
    assert line("-m rateest --rateest RE1 --rateest-gt --rateest-bps 5kbit --rateest-pps 3") == (
        "-A X -m rateest --rateest RE1 --rateest-gt --rateest-bps 5000bit --rateest-gt --rateest-pps 3"
    )


def test_osf_needs_tcp_and_ipv4() -> None:
    assert line("-p tcp -m osf --log 2 --ttl 1 --genre Windows") == (
        "-A X -p tcp -m osf --genre Windows --ttl 1 --log 2"
    )
    with pytest.raises(RuleError, match="-p tcp"):
        line("-m osf --genre Linux")
    with pytest.raises(RuleError, match="ip6tables"):
        line("-p tcp -m osf --genre Linux", family="ipv6")
