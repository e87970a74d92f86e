"""Read a rule from argv or a save line into a ``Rule``; write it back.

Owns: the grammar of a rule's arguments (core options, ``-m`` matches with
their options, the ``-j``/``-g`` target with its options, ``!`` negations,
implicit protocol matches such as ``-p tcp --dport 22``), and the quoting of
arguments in save/restore lines. Rendering puts the core options in the order
iptables-save prints them, so a rule read from a dump renders back byte for
byte. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from vnetkit.errors import ParseError, RuleError
from vnetkit.iptables.canonical._ext import Ext
from vnetkit.iptables.canonical._registry import MATCHES, TARGETS
from vnetkit.iptables.text import join_args, split_line
from vnetkit.model import Counters, Match, Option, Rule, Target

__all__ = ["line_chain", "normal_line", "parse_rule", "parse_rule_line", "render_line", "rule_args"]

# Core options that take one value, by every spelling iptables accepts.
_CORE: dict[str, str] = {
    "-s": "source",
    "--source": "source",
    "--src": "source",
    "-d": "destination",
    "--destination": "destination",
    "--dst": "destination",
    "-i": "in_interface",
    "--in-interface": "in_interface",
    "-o": "out_interface",
    "--out-interface": "out_interface",
    "-p": "protocol",
    "--protocol": "protocol",
}
_FRAGMENT = frozenset({"-f", "--fragment", "--fragments"})
_JUMP = frozenset({"-j", "--jump"})
_GOTO = frozenset({"-g", "--goto"})
_MATCH = frozenset({"-m", "--match"})
_COUNTERS = frozenset({"-c", "--set-counters"})
_FAMILY = frozenset({"-4", "--ipv4", "-6", "--ipv6"})

# The match a bare protocol option (``-p tcp --dport 22``) belongs to.
_IMPLICIT = {
    "tcp": "tcp",
    "6": "tcp",
    "udp": "udp",
    "17": "udp",
    "icmp": "icmp",
    "1": "icmp",
    "icmpv6": "icmp6",
    "ipv6-icmp": "icmp6",
    "58": "icmp6",
    "sctp": "sctp",
    "132": "sctp",
    "dccp": "dccp",
    "33": "dccp",
    "esp": "esp",
    "50": "esp",
    "ah": "ah",
    "51": "ah",
    "mh": "mh",
    "ipv6-mh": "mh",
    "mobility-header": "mh",
    "135": "mh",
    # iptables loads the match named like the protocol: beyond its own names, that is the
    # /etc/protocols name of the number (dccp and ipcomp are the ones with a match)
    "ipcomp": "ipcomp",
    "108": "ipcomp",
}


def _is_option(token: str) -> bool:
    """``--dport`` or ``-j``, not a value such as ``-1`` or ``-``."""
    return len(token) > 1 and token[0] == "-" and not token[1].isdigit()


def _fail(message: str, args: Sequence[str]) -> RuleError:
    return RuleError(f"{message} in rule {' '.join(args)!r}")


def _implicit_options(
    core: dict[str, object], matches: list[tuple[str, list[Option]]], args: Sequence[str]
) -> list[Option]:
    """Where an option given without ``-m`` goes: the protocol's implicit match."""
    protocol = core.get("protocol")
    implicit = _IMPLICIT.get(str(protocol).lower()) if protocol is not None else None
    if implicit is None:
        raise _fail("an option comes before any -m or -j", args)
    for name, options in matches:
        if name == implicit:
            return options
    matches.append((implicit, []))
    return matches[-1][1]


def _extensions() -> tuple[Mapping[str, Ext], Mapping[str, Ext]]:
    """The option grammar of every extension canonical() models: (matches, targets) by name."""
    return MATCHES, TARGETS


# iptables' own long options (getopt_long's table) -> the short option each stands for;
# aliases share one (getopt takes an abbreviation they share as that option).
_COMMANDS = (
    "append delete check insert replace list list-rules flush zero new-chain delete-chain rename-chain"
    " policy table numeric verbose wait wait-interval exact version help line-numbers modprobe parse"
)
_GLOBAL = {f"--{name}": name for name in _COMMANDS.split()} | {
    "--source": "-s",
    "--src": "-s",
    "--destination": "-d",
    "--dst": "-d",
    "--protocol": "-p",
    "--in-interface": "-i",
    "--out-interface": "-o",
    "--jump": "-j",
    "--match": "-m",
    "--goto": "-g",
    "--fragments": "-f",
    "--set-counters": "-c",
    "--ipv4": "-4",
    "--ipv6": "-6",
}


def _owners(
    matches: list[tuple[str, list[Option]]],
    target: tuple[str, bool, list[Option]] | None,
    current: list[Option] | None,
    core: dict[str, object],
    *,
    implicit: bool = True,
) -> list[Ext]:
    """The loaded extensions an option may belong to, in the order iptables gives it out.

    The target first when its options are being read, then the matches from
    the latest (as getopt sees the merged option tables), then the target,
    then (``implicit``) the protocol's match that iptables loads on demand
    when getopt finds an option no loaded extension knows.
    """
    known_matches, known_targets = _extensions()
    owners: list[Ext | None] = []
    if target is not None and target[2] is current:
        owners.append(known_targets.get(target[0]))
    owners += [known_matches.get(match) for match, _ in reversed(matches)]
    if target is not None and target[2] is not current:
        owners.append(known_targets.get(target[0]))
    protocol = core.get("protocol")
    name = _IMPLICIT.get(str(protocol).lower()) if protocol is not None and implicit else None
    if name is not None and all(match != name for match, _ in matches):
        owners.append(known_matches.get(name))
    return [spec for spec in owners if spec is not None]


def _all_known(
    matches: list[tuple[str, list[Option]]], target: tuple[str, bool, list[Option]] | None
) -> bool:
    """True when every loaded extension is one whose options we know (else any prefix may be its)."""
    known_matches, known_targets = _extensions()
    if any(match not in known_matches for match, _ in matches):
        return False
    return target is None or target[0] in known_targets


def _arity(option: str, owners: list[Ext]) -> int | None:
    """How many values ``option`` takes, by the first owner that defines it; None if none does."""
    name = option.partition("=")[0] if option.startswith("--") else option
    for spec in owners:
        if name in spec.spellings:
            return spec.arity.get(spec.spellings[name], 1)
    return None


def _unabbreviate(option: str, owners: list[Ext]) -> str | None:
    """getopt_long's reading of ``--opt`` that is not a full name: the one option it is a prefix of.

    Options that are aliases of one another count as one. Returns the full
    name (an extension's printed name, or a core short option such as
    ``-s``), or None when the prefix matches nothing or more than one option.
    """
    name = option.partition("=")[0]
    hits: set[tuple[str, str]] = set()
    for long, short in _GLOBAL.items():
        if long.startswith(name):
            hits.add(("", short))
    for spec in owners:
        for spelling, printed in spec.spellings.items():
            if spelling.startswith(name):
                hits.add((f"{spec.kind} {spec.name}", printed))
    if len(hits) != 1:
        return None
    return next(iter(hits))[1]


def parse_rule(args: Sequence[str] | str, *, with_counters: bool = False) -> Rule:
    """A ``Rule`` from argv (``("-s", "10.0.0.1", "-j", "DROP")``) or one string of them.

    A string is split the way iptables-restore splits a line. ``-c P B`` is
    accepted and dropped (see :func:`parse_rule_line` to keep counters).
    Raises ``RuleError`` naming the problem.
    """
    tokens = tuple(split_line(args) if isinstance(args, str) else args)
    return _parse(tokens)[0]


_K_CORE, _K_FRAG, _K_JUMP, _K_GOTO, _K_MATCH, _K_COUNTERS, _K_FAMILY, _K_NOT = range(8)
_KIND: dict[str, int] = {
    **dict.fromkeys(_CORE, _K_CORE),
    **dict.fromkeys(_FRAGMENT, _K_FRAG),
    **dict.fromkeys(_JUMP, _K_JUMP),
    **dict.fromkeys(_GOTO, _K_GOTO),
    **dict.fromkeys(_MATCH, _K_MATCH),
    **dict.fromkeys(_COUNTERS, _K_COUNTERS),
    **dict.fromkeys(_FAMILY, _K_FAMILY),
    "!": _K_NOT,
}


def _parse(args: tuple[str, ...]) -> tuple[Rule, Counters | None]:  # noqa: PLR0912, PLR0915 - one grammar, one loop
    core: dict[str, object] = {}
    matches: list[tuple[str, list[Option]]] = []
    target: tuple[str, bool, list[Option]] | None = None
    counters = None
    current: list[Option] | None = None  # where an option without -m goes
    hot: Ext | None = None  # the extension whose options ``current`` holds, when known
    known_matches, known_targets = _extensions()
    negate = False
    i, n = 0, len(args)
    while i < n:
        tok = args[i]
        i += 1
        kind = _KIND.get(tok)
        owners: list[Ext] | None = None
        # The common case first: an option of the extension being read (its own name).
        printed = hot.spellings.get(tok) if hot is not None and kind is None else None
        want: int | None = None if printed is None or hot is None else hot.arity.get(printed, 1)
        if printed is None and kind is None and isinstance(tok, str) and tok.startswith("--"):
            owners = _owners(matches, target, current, core)
            if _arity(tok, owners) is None and _all_known(matches, target):
                # "--sour" is "--source", "--dp" is "--dport": among what is loaded, then
                # with the protocol's match, which iptables loads when getopt fails
                loaded = _owners(matches, target, current, core, implicit=False)
                full = _unabbreviate(tok, loaded) or _unabbreviate(tok, owners)
                if full is not None and full in _KIND:
                    tok, kind = full, _KIND[full]
                elif full is not None and full.startswith("--"):
                    tok = full + tok[len(tok.partition("=")[0]) :]
        if kind is None:
            if printed is None and not isinstance(tok, str):
                raise RuleError(f"rule arguments must be strings, got {tok!r} in {list(args)!r}")
            if printed is None and not _is_option(tok):
                raise _fail(f"unexpected argument {tok!r}", args)
            # An extension's option: as many values as the extension defines for it
            # (what getopt gives it, even a value that looks like an option); for an
            # option no known extension defines, up to the next option or "!".
            start = i
            if i < n and args[i] == "!" and i + 1 < n and not _is_option(args[i + 1]):
                # iptables 1.8 refuses the old "--dport ! 22" form too
                raise _fail(f"write '! {tok} {args[i + 1]}', not '{tok} ! {args[i + 1]}'", args)
            if current is None:
                current = _implicit_options(core, matches, args)
                hot = known_matches.get(matches[-1][0]) if matches and matches[-1][1] is current else None
            if printed is None:
                want = _arity(tok, owners if owners is not None else _owners(matches, target, current, core))
            if want is None:
                while i < n and args[i] != "!" and not _is_option(args[i]):
                    i += 1
            elif want < 0:  # an optional value: the next argument, unless it reads as an option or "!"
                if "=" not in tok and i < n and args[i][:1] not in ("-", "!"):
                    i += 1
            else:
                if "=" in tok and tok.startswith("--"):
                    want -= 1  # --opt=value carries its first value
                if want > 0 and i + want > n:
                    raise _fail(f"{tok} needs {want} value{'s' if want > 1 else ''}", args)
                i += max(want, 0)
            current.append(Option(tok, args[start:i], negate))
            negate = False
        elif kind == _K_NOT:
            if negate:
                raise _fail("'!' given twice", args)
            negate = True
        elif kind == _K_CORE:
            field = _CORE[tok]
            if i >= n:
                raise _fail(f"{tok} needs a value", args)
            if field in core:
                raise _fail(f"{tok} given twice", args)
            core[field] = args[i]
            if negate:
                core[field + "_negated"] = True
                negate = False
            i += 1
            current = hot = None
        elif kind == _K_FRAG:
            core["fragment"] = not negate
            negate = False
            current = hot = None
        elif negate:
            raise _fail(f"'!' cannot negate {tok}", args)
        elif kind == _K_MATCH:
            if i >= n:
                raise _fail(f"{tok} needs a match name", args)
            current = []
            matches.append((args[i], current))
            hot = known_matches.get(args[i])
            i += 1
        elif kind in (_K_JUMP, _K_GOTO):
            if i >= n:
                raise _fail(f"{tok} needs a target", args)
            if target is not None:
                raise _fail("more than one target", args)
            current = []
            target = (args[i], kind == _K_GOTO, current)
            hot = known_targets.get(args[i])
            i += 1
        elif kind == _K_COUNTERS:
            if i + 1 >= n or not (args[i].isdecimal() and args[i + 1].isdecimal()):
                raise _fail(f"{tok} needs packet and byte counts", args)
            counters = Counters(int(args[i]), int(args[i + 1]))
            i += 2
        # _K_FAMILY: -4/-6 in restore files; nothing to record
    if negate:
        raise _fail("'!' at the end", args)
    rule = Rule(
        **core,  # type: ignore[arg-type]
        matches=tuple([Match(name, tuple(options)) for name, options in matches]),
        target=None if target is None else Target(target[0], tuple(target[2]), target[1]),
    )
    return rule, counters


def parse_rule_line(line: str) -> tuple[str, Rule, Counters | None]:
    """``-A CHAIN ...`` or ``[P:B] -A CHAIN ...`` as (chain, rule, counters).

    Raises ``ParseError`` when the line is not an append line, ``RuleError``
    when its arguments are not a rule.
    """
    counters = None
    text = line
    if text.startswith("["):
        end = text.find("] ")
        packets, _, nbytes = text[1:end].partition(":")
        if end < 0 or not (packets.isdecimal() and nbytes.isdecimal()):
            raise ParseError(f"bad counters in {line!r}", source="rule line")
        counters = Counters(int(packets), int(nbytes))
        text = text[end + 2 :]
    args = tuple(split_line(text))
    if len(args) < 2 or args[0] not in ("-A", "--append"):
        raise ParseError(f"expected '-A CHAIN ...': {line!r}", source="rule line")
    rule, inline = _parse(args[2:])
    return args[1], rule, counters or inline


def line_chain(line: str) -> str:
    """The chain of a save line ``-A CHAIN ...`` (or ``[P:B] -A CHAIN ...``), without parsing the rule.

    iptables refuses whitespace in chain names, so the chain is the second
    word; the rest of the line is read only by :func:`parse_rule_line`.
    """
    if line.startswith("["):
        line = line[line.find("] ") + 2 :]
    end = line.find(" ", 3)
    return line[3:] if end < 0 else line[3:end]


def normal_line(line: str) -> str:
    """A save line as vnetkit renders it: the same arguments, quoted and spaced by :func:`join_args`.

    iptables-save quotes some values whatever they hold (connlabel's
    ``--label "1"``), prints some after two spaces (``--nfacct-name  x``) and
    others per extension; what a line means is its arguments. Comparing
    normal lines (a desired rule's :func:`render_line` is one already) makes
    those differences vanish. A line without quotes or double spaces is
    normal as it is, and costs one scan.
    """
    if '"' not in line and "  " not in line and not line.endswith(" "):
        return line
    return join_args(split_line(line))


def _option_args(options: Iterable[Option]) -> list[str]:
    out: list[str] = []
    for opt in options:
        if opt.negated:
            out.append("!")
        out.append(opt.name)
        out.extend(opt.values)
    return out


def rule_args(rule: Rule) -> tuple[str, ...]:
    """The rule as argv, core options first in iptables-save's order."""
    out: list[str] = []
    for flag, value, negated in (
        ("-s", rule.source, rule.source_negated),
        ("-d", rule.destination, rule.destination_negated),
        ("-i", rule.in_interface, rule.in_interface_negated),
        ("-o", rule.out_interface, rule.out_interface_negated),
        ("-p", rule.protocol, rule.protocol_negated),
    ):
        if value is not None:
            if negated:
                out.append("!")
            out += (flag, value)
    if rule.fragment is not None:
        out += ("-f",) if rule.fragment else ("!", "-f")
    for match in rule.matches:
        out += ("-m", match.name)
        out += _option_args(match.options)
    if rule.target is not None:
        out += ("-g" if rule.target.goto else "-j", rule.target.name)
        out += _option_args(rule.target.options)
    return tuple(out)


def render_line(chain: str, rule: Rule, counters: Counters | None = None, *, verb: str = "-A") -> str:
    """The rule as a save/restore line: ``[P:B] -A CHAIN ...`` with iptables' quoting."""
    args = rule_args(rule)
    line = f"{verb} {chain} {join_args(args)}" if args else f"{verb} {chain}"
    if counters is not None:
        return f"[{counters.packets}:{counters.bytes}] {line}"
    return line
