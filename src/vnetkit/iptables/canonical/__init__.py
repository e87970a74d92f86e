"""``canonical(rule)``: the rule exactly as iptables-save prints it back once it is added.

Owns: normalising what a user wrote into what iptables 1.8.9 prints (see
docs/canonical/spec.md, measured on both backends), so a desired rule
compares equal to the live rule it describes (``sync``, ``Snapshot``):
core options (addresses masked and printed ``ADDR/N``, interfaces,
protocol names), which match each option belongs to (implicit ``-m tcp``,
an option goes to the latest match that defines it), each known
extension's print order and defaults (``_matches*``, ``_targets``), and the
nft backend's merging of tcp/udp matches. Pure: no I/O, nothing read from /etc.

Three answers, never a guess. The printed form (every extension iptables
1.8.9 ships for IPv4 and IPv6 is derived: the ``_matches*``/``_targets*``
modules, each from measured vectors). ``RuleError`` (what to give instead is
in the message) for what iptables refuses for the text alone, control
characters, strings iptables would cut inside a UTF-8 character (a cut
between characters is derived) and values iptables-save would print in a
form it cannot read back; its subclass ``HostDependent`` for names that need
this host's files (services, protocols, users, groups, host names) when no
``resolver`` is given. ``CannotDerive`` for an extension canonical() does not
know (one from a newer iptables) and, with a resolver, for a host file the
resolver does not cover (host names, /etc/iproute2 names): the caller asks
the tool (``vnetkit.iptables.fallback``). What only the table, chain,
kernel or ruleset can judge (DNAT in filter, a missing chain or ipset) is
accepted. A jump to a user chain is printed as written.

``backend=None`` answers for both backends: the form every backend that
accepts the rule prints, or ``RuleError`` when nft and legacy print it
differently (pass ``backend=`` then).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from vnetkit.errors import CannotDerive, HostDependent, RuleError
from vnetkit.iptables.canonical._ext import TCP, UDP, Backend, BackendRefusal, Ctx, Ext, Opts, Resolver
from vnetkit.iptables.canonical._matches_l4 import IMPLICIT, L4, SYN_FLAGS, l4_fields, l4_print, nft_fold
from vnetkit.iptables.canonical._registry import MATCHES, TARGETS
from vnetkit.iptables.canonical._tables import PROTOCOL_INPUT, PROTOCOL_PRINTED, UNNAMED_PROTOCOLS
from vnetkit.iptables.canonical._values import (
    Family,
    check_text,
    fail,
    host_dependent,
    network_text,
    parse_network,
    uint,
)
from vnetkit.model import Match, Option, Rule, Target

__all__ = [
    "MATCHES",
    "TARGETS",
    "Resolver",
    "canonical",
    "canonical_address",
    "canonical_protocol",
    "canonical_rules",
]


def canonical(
    rule: Rule,
    *,
    family: Literal["ipv4", "ipv6"] = "ipv4",
    backend: Literal["nft", "legacy"] | None = None,
    resolver: Resolver | None = None,
) -> Rule:
    """The rule as ``iptables-save`` prints it after ``iptables -A CHAIN <rule>``.

    Raises ``RuleError`` for a rule iptables would refuse and for ``-s``/``-d``
    lists, which become several rules (see :func:`canonical_rules`);
    ``CannotDerive`` for an extension or value whose printed form it does not
    model. A name looked up on the host (a service, protocol, user or group
    name; a host name) is ``HostDependent`` (a ``RuleError``) unless a
    ``resolver`` answers it; with a resolver, what it does not cover (host
    names, /etc/iproute2 names...) is ``CannotDerive``.
    """
    _check_mode(family, backend)
    for flag, value in (("-s", rule.source), ("-d", rule.destination)):
        if value is not None and "," in value:
            raise fail(
                f"{value!r} lists several addresses, which iptables adds as several rules;"
                " use canonical_rules()",
                location=flag,
            )
    try:
        if backend is not None:
            return _one(rule, family, backend, resolver)
        return _both(rule, family, resolver)
    except HostDependent as exc:
        if resolver is None:
            raise
        raise CannotDerive(f"{exc} (not covered by the resolver)", what=exc.location or "") from exc


def canonical_rules(
    rule: Rule,
    *,
    family: Literal["ipv4", "ipv6"] = "ipv4",
    backend: Literal["nft", "legacy"] | None = None,
    resolver: Resolver | None = None,
) -> list[Rule]:
    """The rules iptables-save prints for one ``-A``: one per ``-s``/``-d`` list element, source-major."""
    _check_mode(family, backend)
    sources = _elements(rule.source, rule.source_negated, "-s")
    destinations = _elements(rule.destination, rule.destination_negated, "-d")
    return [
        canonical(
            dataclasses.replace(rule, source=s, destination=d),
            family=family,
            backend=backend,
            resolver=resolver,
        )
        for s in sources
        for d in destinations
    ]


def canonical_address(text: str, *, family: Family | None = None) -> str | None:
    """``10.1.2.3/8`` -> ``10.0.0.0/8``, ``192.0.2.1`` -> ``192.0.2.1/32``; the any-address -> None.

    ``family`` None picks IPv6 when the text holds a colon.
    """
    chosen: Family = family if family is not None else ("ipv6" if ":" in text else "ipv4")
    value, mask = parse_network(text, chosen, "address")
    return None if mask == 0 else network_text(value, mask, chosen)


def canonical_protocol(text: str) -> str | None:
    """``TCP`` -> ``tcp``, ``6`` -> ``tcp``, ``icmpv6`` -> ``ipv6-icmp``; ``all``/``0`` -> None."""
    number = _protocol_number(text, None)
    return None if number == 0 else _protocol_name(number, text, None)


# ---------------------------------------------------------------- the two backends


def _check_mode(family: object, backend: object) -> None:
    if family not in ("ipv4", "ipv6"):
        raise RuleError(f"unknown family {family!r}: use 'ipv4' or 'ipv6'", choices=("ipv4", "ipv6"))
    if backend not in (None, "nft", "legacy"):
        raise RuleError(
            f"unknown backend {backend!r}: use 'nft', 'legacy' or None", choices=("nft", "legacy")
        )


def _both(rule: Rule, family: Family, resolver: Resolver | None) -> Rule:
    results: dict[str, Rule | BackendRefusal] = {}
    backends: tuple[Backend, ...] = ("nft", "legacy")
    for backend in backends:
        try:
            results[backend] = _one(rule, family, backend, resolver)
        except BackendRefusal as refusal:
            results[backend] = refusal
    nft, legacy = results["nft"], results["legacy"]
    if isinstance(nft, BackendRefusal) and isinstance(legacy, BackendRefusal):
        raise RuleError(f"refused by both backends: {nft} / {legacy}")
    if isinstance(nft, BackendRefusal):
        return legacy  # type: ignore[return-value]
    if isinstance(legacy, BackendRefusal) or nft == legacy:
        return nft
    raise RuleError(
        "the nft and legacy backends print this rule differently"
        f" ({' '.join(_args(nft))!r} / {' '.join(_args(legacy))!r}); pass backend='nft' or 'legacy'"
    )


def _args(rule: Rule) -> tuple[str, ...]:
    from vnetkit.iptables.rules import rule_args  # noqa: PLC0415 - the grammar imports this package

    return rule_args(rule)


# ---------------------------------------------------------------- core options


def _elements(text: str | None, negated: bool, flag: str) -> list[str | None]:
    if text is None or "," not in text:
        return [text]
    if negated:
        raise fail("'!' cannot negate a list of addresses", location=flag)
    items = text.split(",")
    if any(not item.strip() for item in items):
        raise fail(f"empty element in {text!r}", location=flag)
    return list(items)


def _address(
    text: str | None, negated: bool, family: Family, backend: Backend, flag: str
) -> tuple[str | None, bool]:
    if text is None:
        return None, False
    value, mask = parse_network(text, family, flag)
    if mask:
        return network_text(value, mask, family), negated
    if not negated:
        return None, False
    if backend == "nft":
        raise BackendRefusal(
            f"{flag}: iptables-nft refuses '! {flag}' of the any-address (it matches nothing)"
        )
    return ("0.0.0.0/0" if family == "ipv4" else "::/0"), True


def _interface(text: str | None, negated: bool, backend: Backend, flag: str) -> tuple[str | None, bool]:
    if text is None:
        return None, False
    check_text(text, flag, limit=15, empty=False)
    if re.search(r"\s", text):
        raise fail(f"interface name {text!r} holds whitespace; iptables-save would split it", location=flag)
    if text != "+":
        return text, negated
    # "+" is any interface: omitted, except that iptables-nft prints "! -i +".
    return ("+", True) if negated and backend == "nft" else (None, False)


def _protocol_number(text: str, resolver: Resolver | None) -> int:
    low = text.lower()  # iptables lowercases -p
    if low in PROTOCOL_INPUT:
        return PROTOCOL_INPUT[low]
    if re.fullmatch(r"[ \t\n\v\f\r]*\+?[0-9][0-9a-fx]*", low):
        return uint(low, "-p", hi=255)
    if resolver is not None:
        found = resolver.protocol_number(low)
        if found is None:
            raise fail(f"unknown protocol {text!r} (not in this host's /etc/protocols)", location="-p")
        return found
    raise host_dependent(
        f"protocol {text!r} would be looked up in /etc/protocols; use a name iptables knows"
        f" ({', '.join(sorted(PROTOCOL_INPUT))}) or a number",
        location="-p",
    )


def _protocol_name(number: int, text: str, resolver: Resolver | None) -> str:
    if number in PROTOCOL_PRINTED:
        return PROTOCOL_PRINTED[number]
    if resolver is not None:  # iptables-save asks getprotobynumber
        return resolver.protocol_name(number) or str(number)
    if number in UNNAMED_PROTOCOLS:
        return str(number)
    raise host_dependent(
        f"protocol {text!r} is printed under its /etc/protocols name on most hosts, which canonical() does"
        " not read; only iptables' built-in protocols and unassigned numbers (147-252) are supported",
        location="-p",
    )


# ---------------------------------------------------------------- matches: which option goes where


@dataclass
class _Entry:
    """A loaded match (or the target) and the options it received; ``spec`` None: an unknown extension."""

    name: str
    spec: Ext | None
    options: list[Option] = field(default_factory=list)

    def defines(self, option: str) -> bool:
        return self.spec is None or option in self.spec.spellings


def _split_value(opt: Option) -> Option:
    """``--dport=22`` is ``--dport 22`` for extension options (getopt_long)."""
    if opt.name.startswith("--") and "=" in opt.name:
        name, _, first = opt.name.partition("=")
        return Option(name, (first, *opt.values), opt.negated)
    return opt


def _unknown_option(name: str) -> RuleError:
    known = {alias for spec in (*MATCHES.values(), *TARGETS.values()) for alias in spec.spellings}
    longer = sorted(option for option in known if option.startswith(name) and option != name)
    hint = f" (give full option names, e.g. {longer[0]})" if longer else ""
    return fail(f"unknown option {name}{hint}; no loaded match or target defines it", location=name)


def _dispatch(rule: Rule, family: Family, protocol: int | None) -> tuple[list[_Entry], _Entry | None]:
    """Give each option to the extension iptables gives it to (see spec §3.2)."""
    loaded: list[_Entry] = []
    target = None
    if rule.target is not None:
        spec = TARGETS.get(rule.target.name)
        target = _Entry(rule.target.name, spec)

    def implicit(option: str) -> _Entry | None:
        name = IMPLICIT.get((family, protocol)) if protocol is not None else None
        if name is None or option not in MATCHES[name].spellings:
            return None
        entry = _Entry(name, MATCHES[name])
        loaded.append(entry)
        return entry

    def place(opt: Option, *, on_target: bool) -> None:
        opt = _split_value(opt)
        owner = target if on_target and target is not None and target.defines(opt.name) else None
        owner = owner or next((entry for entry in reversed(loaded) if entry.defines(opt.name)), None)
        if owner is None and target is not None and target.spec is not None and target.defines(opt.name):
            owner = target
        owner = owner or implicit(opt.name)
        if owner is None:
            raise _unknown_option(opt.name)
        owner.options.append(opt)

    stray: list[_Entry] = []
    protocol_match = IMPLICIT.get((family, protocol)) if protocol is not None else None
    for match in rule.matches:
        spec = MATCHES.get(match.name)
        if spec is None and match.name.lower() in MATCHES:
            raise fail(
                f"match names are case-sensitive: use -m {match.name.lower()}", location=f"-m {match.name}"
            )
        entry = _Entry(match.name, spec)
        loaded.append(entry)
        if match.name == protocol_match and match.options:
            stray.append(entry)
        for opt in match.options:
            place(opt, on_target=False)
    if rule.target is not None:
        for opt in rule.target.options:
            place(opt, on_target=True)
    # parse_rule makes "-p tcp" options into a tcp match at once; when every one of
    # them belongs to an earlier match (-m tcpmss -p tcp --mss 500), iptables loads no tcp match.
    dropped = {id(entry) for entry in stray if not entry.options}
    return [entry for entry in loaded if id(entry) not in dropped], target


# ---------------------------------------------------------------- one backend


def _strings(rule: Rule) -> Iterator[tuple[str, str]]:
    if rule.protocol is not None:
        yield rule.protocol, "-p"
    parts: list[tuple[str, tuple[Option, ...], str]] = [
        (m.name, m.options, f"-m {m.name}") for m in rule.matches
    ]
    if rule.target is not None:
        parts.append((rule.target.name, rule.target.options, f"-j {rule.target.name}"))
    for name, options, where in parts:
        yield name, where
        for opt in options:
            yield opt.name, where
            for value in opt.values:
                yield value, f"{where} {opt.name}"


def _one(rule: Rule, family: Family, backend: Backend, resolver: Resolver | None) -> Rule:
    for text, where in _strings(rule):
        check_text(text, where)
    source = _address(rule.source, rule.source_negated, family, backend, "-s")
    destination = _address(rule.destination, rule.destination_negated, family, backend, "-d")
    in_iface = _interface(rule.in_interface, rule.in_interface_negated, backend, "-i")
    out_iface = _interface(rule.out_interface, rule.out_interface_negated, backend, "-o")
    number = None if rule.protocol is None else _protocol_number(rule.protocol, resolver)
    if number == 0 and rule.protocol_negated:
        raise fail("'! -p all' would never match", location="-p")
    protocol = (
        None if not number or rule.protocol is None else _protocol_name(number, rule.protocol, resolver)
    )
    if rule.fragment is not None and family == "ipv6":
        raise fail("ip6tables has no -f; use -m frag", location="-f")
    entries, target_entry = _dispatch(rule, family, number or None)
    ctx = Ctx(
        family,
        backend,
        number or None,
        bool(protocol) and rule.protocol_negated,
        resolver=resolver,
        destination=destination[0],
    )
    fields: dict[int, L4] = {}
    for k, entry in enumerate(entries):
        if entry.spec is not None and entry.name in ("tcp", "udp"):
            fields[k] = l4_fields(Opts(entry.spec, entry.options), ctx)
    syn = any(f.name == "tcp" and f.flags[1] & SYN_FLAGS[1] and not f.flags[2] for f in fields.values())
    ctx = dataclasses.replace(ctx, tcp_syn=syn)
    matches = _matches(entries, fields, ctx)
    return Rule(
        source=source[0],
        source_negated=source[1],
        destination=destination[0],
        destination_negated=destination[1],
        in_interface=in_iface[0],
        in_interface_negated=in_iface[1],
        out_interface=out_iface[0],
        out_interface_negated=out_iface[1],
        protocol=protocol,
        protocol_negated=bool(protocol) and rule.protocol_negated,
        fragment=rule.fragment,
        matches=tuple(matches),
        target=None
        if rule.target is None or target_entry is None
        else _target(rule.target, target_entry, ctx),
    )


def _matches(entries: list[_Entry], fields: dict[int, L4], ctx: Ctx) -> list[Match]:
    out: list[Match | None] = []
    merged: dict[str, tuple[int, L4]] = {}  # nft: native tcp/udp matches folded into the first
    for k, entry in enumerate(entries):
        spec = entry.spec
        if spec is None or spec.handler is None:
            if spec is not None and ctx.family not in spec.families:
                raise fail(
                    f"does not exist in {'ip6tables' if ctx.family == 'ipv6' else 'iptables'}",
                    location=spec.where(),
                )
            raise CannotDerive(
                f"-m {entry.name}: canonical() does not model how iptables-save prints this match",
                what=f"-m {entry.name}",
            )
        if ctx.family not in spec.families:
            other = {"icmp": "icmp6", "icmp6": "icmp", "ttl": "hl", "hl": "ttl", "mh": ""}.get(spec.name, "")
            raise fail(
                f"does not exist in {'ip6tables' if ctx.family == 'ipv6' else 'iptables'}"
                + (f"; use -m {other}" if other else ""),
                location=spec.where(),
            )
        if k not in fields:
            out.append(Match(entry.name, spec.handler(Opts(spec, entry.options), ctx)))
            continue
        l4 = fields[k]
        proto = TCP if entry.name == "tcp" else UDP
        if ctx.protocol != proto:
            raise fail(f"needs -p {entry.name}", location=spec.where())
        native = ctx.backend == "nft" and l4.native
        if ctx.protocol_negated and not native:
            raise BackendRefusal(f"{spec.where()}: the kernel refuses this match with '! -p {entry.name}'")
        if not native:
            out.append(Match(entry.name, l4_print(l4)))
            continue
        # iptables-nft reads native expressions back into one match per rule, at the first.
        at, acc = merged.get(entry.name, (len(out), None))
        folded = nft_fold(acc, l4)
        if folded is not None:
            merged[entry.name] = (at, folded)
        out.append(None)
    for name, (at, acc) in merged.items():
        out[at] = Match(name, l4_print(acc))
    return [match for match in out if match is not None]


def _target(target: Target, entry: _Entry, ctx: Ctx) -> Target:
    spec = entry.spec
    if spec is None and not entry.options:
        return Target(target.name, (), target.goto)  # a jump to a user chain
    if spec is None or spec.handler is None:
        raise CannotDerive(
            f"-j {target.name}: canonical() does not model how iptables-save prints this target",
            what=f"-j {target.name}",
        )
    if target.goto:
        raise fail(f"-g needs a chain, and {target.name} is a target", location=f"-g {target.name}")
    if ctx.family not in spec.families:
        raise fail(
            f"does not exist in {'ip6tables' if ctx.family == 'ipv6' else 'iptables'}", location=spec.where()
        )
    return Target(target.name, spec.handler(Opts(spec, entry.options), ctx))
