"""canonical() for the "targets" group: AUDIT ... ULOG, and strings cut at a byte limit.

The measured vectors (docs/canonical/vectors/targets*.json) are checked one by
one in test_canonical.py; this file checks what they do not show directly:
every option of these targets is declared as iptables 1.8.9 defines it and
measured, the answers that are not a printed form (refusals, host-dependent
values, one backend refusing), and the arithmetic of RATEEST and HMARK.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import pytest

from vnetkit.errors import CannotDerive, HostDependent, RuleError
from vnetkit.iptables.canonical import TARGETS, canonical
from vnetkit.iptables.canonical._values import cut_text, inet_aton
from vnetkit.iptables.rules import parse_rule, parse_rule_line, render_line

_VECTORS = Path(__file__).parents[2] / "docs" / "canonical" / "vectors"
VECTORS: list[dict[str, Any]] = [
    vector
    for name in ("targets.json", "targets_vm.json")
    for vector in json.loads((_VECTORS / name).read_text(encoding="utf-8"))
]

# Each target's options as iptables 1.8.9 defines them (extensions/lib*_<NAME>.c):
# (spellings, options taking no value, options taking two, options that accept "!").
DECLARED: dict[str, tuple[str, str, str, str]] = {
    "AUDIT": ("--type", "", "", ""),
    "CHECKSUM": ("--checksum-fill", "--checksum-fill", "", ""),
    "CONNSECMARK": ("--save --restore", "--save --restore", "", ""),
    "DNPT": ("--src-pfx --dst-pfx", "", "", ""),
    "SNPT": ("--src-pfx --dst-pfx", "", "", ""),
    "ECN": ("--ecn-tcp-remove --ecn-tcp-cwr --ecn-tcp-ece --ecn-ip-ect", "--ecn-tcp-remove", "", ""),
    "HMARK": (
        "--hmark-tuple --hmark-src-prefix --hmark-dst-prefix --hmark-sport-mask --hmark-dport-mask"
        " --hmark-spi-mask --hmark-sport --hmark-dport --hmark-spi --hmark-proto-mask --hmark-rnd"
        " --hmark-mod --hmark-offset",
        "",
        "",
        "",
    ),
    "IDLETIMER": ("--timeout --label --alarm", "--alarm", "", ""),
    "LED": ("--led-trigger-id --led-delay --led-always-blink", "--led-always-blink", "", ""),
    "RATEEST": ("--rateest-name --rateest-interval --rateest-ewmalog", "", "", ""),
    "SECMARK": ("--selctx", "", "", ""),
    # libxt_SET parses the old way: "!" is accepted (and ignored) before any of its options.
    "SET": (
        "--add-set --del-set --map-set --exist --timeout --map-mark --map-prio --map-queue",
        "--exist --map-mark --map-prio --map-queue",
        "--add-set --del-set --map-set",
        "--add-set --del-set --map-set --exist --timeout --map-mark --map-prio --map-queue",
    ),
    "TCPOPTSTRIP": ("--strip-options", "", "", ""),
    "TEE": ("--gateway --oif", "", "", ""),
    "CLUSTERIP": ("--new --hashmode --clustermac --total-nodes --local-node --hash-init", "--new", "", ""),
    "ULOG": ("--ulog-nlgroup --ulog-prefix --ulog-cprange --ulog-qthreshold", "", "", ""),
}


def _canon(argv: str | list[str], family: str = "ipv4", backend: str | None = None) -> str:
    rule = canonical(parse_rule(argv), family=family, backend=backend)  # type: ignore[arg-type]
    return render_line("X", rule)


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_options_are_declared_as_iptables_defines_them(name: str) -> None:
    options, flags, pairs, invert = DECLARED[name]
    spec = TARGETS[name]
    assert spec.handler is not None
    assert set(spec.spellings) == set(options.split())
    assert {k for k, v in spec.arity.items() if v == 0} == set(flags.split())
    assert {k for k, v in spec.arity.items() if v == 2} == set(pairs.split())
    assert spec.invertible == frozenset(invert.split())


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_every_option_is_measured_on_each_family_it_exists_in(name: str) -> None:
    spec = TARGETS[name]
    for family in spec.families:
        argvs = [v["argv"] for v in VECTORS if v["family"] == family and name in v["argv"]]
        used = {a.partition("=")[0] for argv in argvs for a in argv}
        assert set(spec.spellings) <= used, f"{name} {family}: {set(spec.spellings) - used} not measured"


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_no_target_of_the_group_is_left_to_the_fallback(name: str) -> None:
    accepted = [v for v in VECTORS if name in v["argv"] and (v["nft"] or v["legacy"])]
    if name == "ULOG":
        assert not accepted  # refused by both tools, here and on the VM's kernel
        return
    assert accepted
    for v in accepted:
        backend: Literal["nft", "legacy"] = "nft" if v["nft"] else "legacy"
        try:
            canonical(parse_rule(v["argv"]), family=v["family"], backend=backend)
        except CannotDerive:  # pragma: no cover - the failure message is the point
            pytest.fail(f"{v['argv']}: CannotDerive")
        except RuleError:
            pass  # refused on purpose (host names, cuts inside a character): see test_canonical


# ---------------------------------------------------------------- strings cut at a byte limit


def test_cut_text_keeps_the_bytes_iptables_keeps() -> None:
    assert cut_text("x" * 30, 29, "w") == "x" * 29
    assert cut_text("a" + "é" * 20, 29, "w") == "a" + "é" * 14
    assert cut_text("é" * 14, 29, "w") == "é" * 14  # 28 bytes: no cut
    with pytest.raises(RuleError, match="inside the character 'é'; give at most 29 bytes"):
        cut_text("é" * 15, 29, "w")
    with pytest.raises(RuleError, match="'😀'"):
        cut_text("x" * 27 + "😀", 29, "w")


@pytest.mark.parametrize(
    ("argv", "backend", "printed"),
    [
        (
            ["-m", "comment", "--comment", "c" * 300, "-j", "ACCEPT"],
            None,
            "-m comment --comment " + "c" * 255,
        ),
        (["-j", "LOG", "--log-prefix", "p" * 40], None, "-j LOG --log-prefix " + "p" * 29),
        (["-j", "NFLOG", "--nflog-prefix", "n" * 100], "nft", "-j NFLOG --nflog-prefix " + "n" * 100),
        (["-j", "NFLOG", "--nflog-prefix", "n" * 100], "legacy", "-j NFLOG --nflog-prefix " + "n" * 63),
        (["-m", "recent", "--set", "--name", "r" * 250], None, "-m recent --set --name " + "r" * 199),
        (["-j", "IDLETIMER", "--timeout", "5", "--label", "l" * 30], None, "--label " + "l" * 27),
        (["-j", "TEE", "--gateway", "10.0.0.1", "--oif", "o" * 20], None, "--oif " + "o" * 15),
    ],
)
def test_strings_over_the_limit_are_cut(argv: list[str], backend: str | None, printed: str) -> None:
    assert printed in _canon(argv, backend=backend)


def test_nflog_prefixes_cut_differently_per_backend() -> None:
    argv = ["-j", "NFLOG", "--nflog-prefix", "a" + "é" * 64]  # 129 bytes: both cuts fall between characters
    assert _canon(argv, backend="nft").endswith('"a' + "é" * 63 + '"')
    assert _canon(argv, backend="legacy").endswith('"a' + "é" * 31 + '"')
    with pytest.raises(RuleError, match="differently"):
        _canon(argv)
    split = ["-j", "NFLOG", "--nflog-prefix", "é" * 64]  # 128 bytes: both cuts fall inside a character
    with pytest.raises(RuleError, match="at most 127 bytes"):
        _canon(split, backend="nft")
    with pytest.raises(RuleError, match="at most 63 bytes"):
        _canon(split, backend="legacy")


# ---------------------------------------------------------------- answers that are not a printed form


@pytest.mark.parametrize(
    ("argv", "family", "message"),
    [
        ("-j AUDIT --type acc", "ipv4", "unknown action type"),
        ("-p udp -j ECN --ecn-tcp-remove", "ipv4", "needs -p tcp"),
        ("-p tcp -j ECN --ecn-tcp-remove", "ipv6", "does not exist in ip6tables"),
        ("-j IDLETIMER --timeout 0 --label a", "ipv4", "1-2147482"),
        ("-j IDLETIMER --timeout 5 --label a/b", "ipv4", "sysfs"),
        (["-j", "IDLETIMER", "--timeout", "5", "--label", "a b"], "ipv4", "without quotes"),
        ("-j RATEEST --rateest-name r --rateest-interval 9s --rateest-ewmalog 40s", "ipv4", "over 8 s"),
        ("-j RATEEST --rateest-name r --rateest-interval 1s --rateest-ewmalog 1s", "ipv4", "out of range"),
        ("-j SET --add-set s src,dst,src,dst,src,dst,src", "ipv4", "at most 6"),
        ("-j SET --del-set s src --exist", "ipv4", "also requires --add-set"),
        ("-j SET --map-set s src", "ipv4", "--map-mark"),
        ("-p tcp -j TCPOPTSTRIP --strip-options 2,mss", "ipv4", "given twice"),
        ("-j TCPOPTSTRIP --strip-options 2", "ipv4", "needs -p tcp"),
        ("-j TEE --gateway 0.0.0.0", "ipv4", "zero address"),
        ("-j TEE --gateway 2001:db8::1", "ipv4", "other family"),
        ("-j DNPT --src-pfx 2001:db8::1/64 --dst-pfx fd00::/64", "ipv6", "bits set past the prefix"),
        ("-j DNPT --src-pfx 2001:db8::/65 --dst-pfx fd00::/64", "ipv6", "up to /64"),
        (
            "-j HMARK --hmark-tuple src --hmark-src-prefix 8 --hmark-mod 1 --hmark-rnd 1",
            "ipv4",
            "already set",
        ),
        ("-j HMARK --hmark-spi 1 --hmark-sport 2 --hmark-mod 1 --hmark-rnd 1", "ipv4", "kernel refuses"),
        ("-j HMARK --hmark-offset 1 --hmark-mod 1 --hmark-rnd 1", "ipv4", "to hash on"),
        ("-j ULOG --ulog-nlgroup 1", "ipv4", "use -j NFLOG"),
    ],
)
def test_refusals_say_what_to_give(argv: str | list[str], family: str, message: str) -> None:
    with pytest.raises(RuleError, match=re.escape(message)):
        _canon(argv, family)


@pytest.mark.parametrize(
    ("argv", "family"),
    [
        ("-j TEE --gateway localhost", "ipv4"),
        ("-j TEE --gateway fe80::1%lo", "ipv6"),
        ("-j DNPT --src-pfx fe80::%eth0/64 --dst-pfx fd00::/64", "ipv6"),
        ("-j DNPT --src-pfx router/64 --dst-pfx fd00::/64", "ipv6"),
    ],
)
def test_names_the_host_resolves_are_host_dependent(argv: str, family: str) -> None:
    with pytest.raises(HostDependent, match="host"):
        _canon(argv, family)


def test_clusterip_is_legacy_only_and_needs_one_destination() -> None:
    argv = "-d 10.0.0.1 -i lo -j CLUSTERIP --new --hashmode sourceip --clustermac 1:a:b:c:d:e --total-nodes 2"
    argv += " --local-node 1"
    assert _canon(argv).endswith(
        "-j CLUSTERIP --new --hashmode sourceip --clustermac 01:0A:0B:0C:0D:0E --total-nodes 2 --local-node 1"
        " --hash-init 0"
    )
    with pytest.raises(RuleError, match="nftables"):
        _canon(argv, backend="nft")
    with pytest.raises(RuleError, match="ADDR/32"):
        _canon(argv.replace("-d 10.0.0.1", "-d 10.0.0.0/24"))
    with pytest.raises(RuleError, match="needs --new"):
        _canon("-d 10.0.0.1 -j CLUSTERIP")


# ---------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10.1", 0x0A000001),
        ("10.1.2", 0x0A010002),
        ("167772161", 0x0A000001),
        ("0x0a.0.0.1", 0x0A000001),
        ("010.0.0.1", 0x08000001),
        ("10.0.0.08", None),
        ("10.0.0.256", None),
        ("1.2.3.4.5", None),
        ("10.", None),
        ("0x", None),
        (" 1.2.3.4", None),
        ("4294967296", None),
    ],
)
def test_inet_aton_reads_like_getaddrinfo(text: str, value: int | None) -> None:
    assert inet_aton(text) == value


@pytest.mark.parametrize(
    ("interval", "ewmalog", "printed"),
    [
        ("250ms", "1s", "--rateest-interval 250.0ms --rateest-ewmalog 1.0s"),
        ("100ms", "1s", "--rateest-interval 250.0ms --rateest-ewmalog 2.0s"),  # quantised
        ("1us", "1s", "--rateest-interval 250.0ms --rateest-ewmalog 2223.0s"),  # 32-bit product wraps
        ("250ms", "-1s", "--rateest-interval 250.0ms --rateest-ewmalog 4096.0s"),  # (unsigned) -1e6
        ("0x10ms", "1s", "--rateest-interval 250.0ms --rateest-ewmalog 8.0s"),  # hex float
        (" 3s", "7S", "--rateest-interval 4.0s --rateest-ewmalog 8.0s"),
    ],
)
def test_rateest_quantises_like_libxt_rateest(interval: str, ewmalog: str, printed: str) -> None:
    argv = [
        "-j",
        "RATEEST",
        "--rateest-name",
        "r",
        "--rateest-interval",
        interval,
        "--rateest-ewmalog",
        ewmalog,
    ]
    assert _canon(argv).endswith(printed)


def test_hmark_tuple_and_masks() -> None:
    line = _canon(
        "-j HMARK --hmark-src-prefix 255.255.0.0 --hmark-tuple sp,c,Dst --hmark-offset 0x10 --hmark-mod 3"
        " --hmark-rnd 9"
    )
    assert line.endswith(
        "-j HMARK --hmark-src-prefix 16 --hmark-dst-prefix 32 --hmark-sport-mask 0xffff"
        " --hmark-rnd 0x00000009 --hmark-mod 3 --hmark-offset 16 --hmark-tuple ct"
    )
    # a number over 32 is read as a netmask (0.0.0.33, with holes: all ones)
    assert "--hmark-src-prefix 32 " in _canon("-j HMARK --hmark-src-prefix 33 --hmark-mod 1 --hmark-rnd 1")


def test_set_takes_two_values_repeats_and_ignores_bang() -> None:
    line = _canon(
        "-j SET ! --map-set m src --map-mark --timeout 5 --add-set a dstx --timeout 6 --exist --exist"
    )
    assert line.endswith("-j SET --add-set a dst --exist --timeout 6 --map-set m src --map-mark")
    assert parse_rule_line(line)[1] == canonical(parse_rule(line.split(" ", 2)[2]))


def test_led_ids_print_quoted_and_read_back() -> None:
    line = _canon(["-j", "LED", "--led-trigger-id", 'a "b"', "--led-delay", "inf"])
    assert line == '-A X -j LED --led-trigger-id "a \\"b\\"" --led-delay -1'
    assert parse_rule_line(line)[1].target is not None
    assert _canon('-j LED --led-trigger-id ""') == '-A X -j LED --led-trigger-id ""'
