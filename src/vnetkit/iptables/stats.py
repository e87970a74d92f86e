"""Read ``iptables -L CHAIN -v -n -x`` listings into rows and ``Stat`` values.

Owns: the column layout of that listing on every iptables version we know:
an empty target column (a rule without ``-j``), negated addresses and
interfaces, and both ip6tables layouts (before 1.8.9 its ``opt`` column was
blank, so whitespace splitting lost it; from 1.8.9 it prints ``--``).
Pure: no I/O.

Two ways in: :func:`parse_listing` gives go-iptables' rows of strings (and
:func:`parse_stat` types one), :func:`parse_stats` goes straight to ``Stat``
values: one precompiled regex per line and each distinct address parsed once
(a chain repeats ``0.0.0.0/0`` on nearly every line), so a 1000-rule chain
parses in about the time iptables takes to print it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import NamedTuple

from vnetkit.errors import ParseError

__all__ = ["ListingCache", "Network", "Stat", "parse_listing", "parse_stat", "parse_stats"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# "%8llu " packets, "%8llu " bytes, then the target column starts right after
# exactly one space: a space there means the rule has no target.
_COUNTS = re.compile(r"\s*(\d+)\s+(\d+) (.*)$")
_WORD = re.compile(r"\S+")
_DIGITS = re.compile(r"[0-9]+")
_OPT = re.compile(r"[-!][-f]")  # "--", "-f" or "!f"
_SKIP = ("#", "Chain ", "pkts ")  # warnings, chain headers, column headers

# A rule line for :func:`parse_stats`, in two parts. The counters (packets,
# bytes, then exactly one space), and the rest of the line, which is what
# stays the same when a chain is read again: target (everything up to the next
# space; empty when a space follows the bytes column at once), then the
# columns as whitespace-separated words, addresses split from their "!", and
# the options. The words are the ones the careful path below picks, so a line
# these match gives the same Stat either way.
_COUNTERS = re.compile(r"\s*([0-9]+)\s+([0-9]+) ")
_TARGET_PROT = r"([^ ]*) \s*(\S+)\s+"
_TAIL = r"(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(.*)"
# iptables, and ip6tables from 1.8.9: prot, opt ("--", "-f", "!f"), in, out, source, destination.
_REST_OPT = re.compile(_TARGET_PROT + r"([-!][-f])\s+" + _TAIL)
# ip6tables before 1.8.9: prot, a blank opt column, in, out, source, destination.
_REST_BLANK_OPT = re.compile(_TARGET_PROT + r"()" + _TAIL)
_Rest = tuple[str, str, str, str, str, "Network", "Network", str, bool, bool, bool, bool]
_KEPT = 16_384  # lines and addresses a ListingCache remembers before it starts afresh


class Stat(NamedTuple):
    """One rule's counters and columns, typed.

    ``input``/``output`` are interface names without the ``!``; the four
    ``*_negated`` flags say which column was negated (go-iptables' ParseStat
    fails on a negated address; this does not).
    """

    packets: int
    bytes: int
    target: str
    protocol: str
    opt: str
    input: str
    output: str
    source: Network
    destination: Network
    options: str
    source_negated: bool = False
    destination_negated: bool = False
    input_negated: bool = False
    output_negated: bool = False


class ListingCache:
    """What reading listings again and again costs less with: each distinct rest of a line (after
    the counters) and each address, read once.

    A listing repeats a few addresses on many lines, and a chain polled for
    its counters repeats its lines but for the counters. The values are
    immutable, so sharing them between ``Stat`` values is safe. A client
    keeps one in its host (``Host.cache``); without one, each call reads
    from scratch.
    """

    def __init__(self) -> None:
        self.rests: dict[tuple[bool, str], _Rest | None] = {}  # None: not this layout
        self.addresses: dict[str, tuple[Network, bool]] = {}

    def address(self, text: str) -> tuple[Network, bool]:
        """:func:`_address`, remembered."""
        found = self.addresses.get(text)
        if found is None:
            if len(self.addresses) >= _KEPT:
                self.addresses.clear()
            found = self.addresses[text] = _address(text)
        return found


def _address(text: str) -> tuple[Network, bool]:
    """``"!10.0.0.0/8"`` -> (``10.0.0.0/8``, True); ``ValueError`` if not an address."""
    negated = text.startswith("!")
    bare = text[1:] if negated else text
    # What ip_network does, minus its failed IPv4 attempt on every IPv6 address:
    # no IPv4 address has a ":" and every IPv6 address has one.
    if ":" in bare:
        return ipaddress.IPv6Network(bare, strict=False), negated
    return ipaddress.IPv4Network(bare, strict=False), negated


def _is_address(text: str, cache: ListingCache) -> bool:
    try:
        cache.address(text)
    except ValueError:
        return False
    return True


def _with_prefix(addr: str) -> str:
    """``1.2.3.4`` -> ``1.2.3.4/32``, ``::1`` -> ``::1/128``; keeps ``!``."""
    if "/" in addr:
        return addr
    return addr + ("/128" if ":" in addr else "/32")


def _is_skipped(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith(_SKIP)


def _row(line: str, number: int, source: str, cache: ListingCache) -> list[str]:
    """One rule line as a row of 10 strings, guessing the layout from the line alone."""
    m = _COUNTS.match(line)
    if m is None:
        raise ParseError(f"expected packet and byte counters: {line!r}", source=source, line=number)
    packets, nbytes, rest = m.groups()
    if rest.startswith(" "):
        target = ""
    else:
        target, _, rest = rest.partition(" ")
    # [prot, opt, in, out, src, dst, options...] with the end offset of each.
    cols = [(w.group(), w.end()) for w in _WORD.finditer(rest)]
    # ip6tables before 1.8.9 printed a blank opt column: then the fourth
    # column is already the source address, where "out" belongs.
    has_opt = (
        len(cols) >= 6
        and _OPT.fullmatch(cols[1][0]) is not None
        and _is_address(cols[4][0], cache)
        and _is_address(cols[5][0], cache)
    )
    if not has_opt and len(cols) >= 4 and _is_address(cols[3][0], cache):
        cols.insert(1, ("", cols[0][1]))
    if len(cols) < 6:
        raise ParseError(f"expected six columns after the target: {line!r}", source=source, line=number)
    prot, opt, in_, out, src, dst = (text for text, _ in cols[:6])
    if not (_is_address(src, cache) and _is_address(dst, cache)):
        raise ParseError(f"expected source and destination addresses: {line!r}", source=source, line=number)
    options = rest[cols[5][1] :].strip()
    return [packets, nbytes, target, prot, opt, in_, out, _with_prefix(src), _with_prefix(dst), options]


def parse_listing(
    text: str, *, source: str = "iptables -L", cache: ListingCache | None = None
) -> list[list[str]]:
    """Rows of ``[pkts, bytes, target, prot, opt, in, out, source, destination, options]``.

    ``text`` is the output of ``iptables -L CHAIN -v -n -x`` for one chain.
    Addresses get an explicit prefix length, so every row parses with
    :func:`parse_stat`. Raises ``ParseError`` naming the line it could not read.
    """
    known = cache if cache is not None else ListingCache()
    return [
        _row(line, number, source, known)
        for number, line in enumerate(text.splitlines(), start=1)
        if not _is_skipped(line)
    ]


def parse_stats(
    text: str,
    *,
    blank_opt: bool | None = None,
    source: str = "iptables -L",
    cache: ListingCache | None = None,
) -> list[Stat]:
    """The rules of one ``iptables -L CHAIN -v -n -x`` listing as :class:`Stat` values.

    The same values as ``[parse_stat(row) for row in parse_listing(text)]``,
    several times faster. ``blank_opt`` says which layout to expect: True for
    ip6tables before 1.8.9 (a blank ``opt`` column), False for every other
    iptables (see :func:`vnetkit.iptables.caps.blank_opt_column`), None to
    guess line by line. None and False give exactly what the guess gives.
    A line that does not fit the hinted layout falls back to the guess, so
    even a wrong hint reads real output (the one exception: True on 1.8.9
    output whose out interface is named like an address, which the blank-opt
    layout then fits). Raises ``ParseError`` naming the line it could not read.
    """
    layout = bool(blank_opt)
    lead = _COUNTERS.match
    known = cache if cache is not None else ListingCache()
    rests = known.rests
    stats: list[Stat] = []
    append = stats.append
    for number, line in enumerate(text.splitlines(), start=1):
        m = lead(line)
        if m is not None:
            # A chain polled again repeats its lines but for the counters: each
            # distinct rest of a line is read once.
            key = (layout, line[m.end() :])
            try:
                fields = rests[key]
            except KeyError:
                if len(rests) >= _KEPT:
                    rests.clear()
                fields = rests[key] = _rest(*key, known)
            if fields is not None:
                append(Stat(int(m[1]), int(m[2]), *fields))
                continue
        if _is_skipped(line):
            continue
        row = _row(line, number, source, known)
        try:
            append(parse_stat(row))
        except ParseError as exc:  # counters in non-ASCII digits: say where they are
            raise ParseError(f"{exc}: {line!r}", source=source, line=number) from None
    return stats


def _rest(blank_opt: bool, rest: str, cache: ListingCache) -> _Rest | None:
    """The columns after the counters in the layout given; None if they do not fit it."""
    m = (_REST_BLANK_OPT if blank_opt else _REST_OPT).fullmatch(rest)
    if m is None:
        return None
    target, prot, opt, in_, out, src, dst, options = m.groups()
    try:
        src_net, src_neg = cache.address(src)
        dst_net, dst_neg = cache.address(dst)
    except ValueError:
        return None  # not this layout after all (or garbage): the careful path decides
    in_neg = in_.startswith("!")
    out_neg = out.startswith("!")
    return (
        target,
        prot,
        opt,
        in_[1:] if in_neg else in_,
        out[1:] if out_neg else out,
        src_net,
        dst_net,
        options.strip(),
        src_neg,
        dst_neg,
        in_neg,
        out_neg,
    )


def _network(text: str, what: str) -> tuple[Network, bool]:
    try:
        return _address(text)
    except ValueError:
        raise ParseError(f"invalid {what} address {text!r}", source="stat row") from None


def _count(text: str, what: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise ParseError(f"invalid {what} count {text!r}", source="stat row")
    return int(text)


def parse_stat(row: Sequence[str]) -> Stat:
    """One row of :meth:`IPTables.stats` as a :class:`Stat`; ``ParseError`` if malformed."""
    if len(row) != 10:
        raise ParseError(
            f"a stat row has 10 fields, this one has {len(row)}: {list(row)!r}", source="stat row"
        )
    packets, nbytes, target, prot, opt, in_, out, src, dst, options = row
    source, source_negated = _network(src, "source")
    destination, destination_negated = _network(dst, "destination")
    return Stat(
        packets=_count(packets, "packet"),
        bytes=_count(nbytes, "byte"),
        target=target,
        protocol=prot,
        opt=opt,
        input=in_.removeprefix("!"),
        output=out.removeprefix("!"),
        source=source,
        destination=destination,
        options=options,
        source_negated=source_negated,
        destination_negated=destination_negated,
        input_negated=in_.startswith("!"),
        output_negated=out.startswith("!"),
    )
