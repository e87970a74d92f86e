"""Read ``iptables -L CHAIN -v -n -x`` listings into rows and ``Stat`` values.

Owns: the column layout of that listing on every iptables version we know:
an empty target column (a rule without ``-j``), negated addresses and
interfaces, and both ip6tables layouts (before 1.8.9 its ``opt`` column was
blank, so whitespace splitting lost it; from 1.8.9 it prints ``--``).
Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass

from vnetkit.errors import ParseError

__all__ = ["Network", "Stat", "parse_listing", "parse_stat"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# "%8llu " packets, "%8llu " bytes, then the target column starts right after
# exactly one space: a space there means the rule has no target.
_COUNTS = re.compile(r"\s*(\d+)\s+(\d+) (.*)$")
_WORD = re.compile(r"\S+")
_DIGITS = re.compile(r"[0-9]+")
_OPT = re.compile(r"[-!][-f]")  # "--", "-f" or "!f"


@dataclass(frozen=True, slots=True)
class Stat:
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


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text.removeprefix("!"), strict=False)
    except ValueError:
        return False
    return True


def _with_prefix(addr: str) -> str:
    """``1.2.3.4`` -> ``1.2.3.4/32``, ``::1`` -> ``::1/128``; keeps ``!``."""
    if "/" in addr:
        return addr
    return addr + ("/128" if ":" in addr else "/32")


def parse_listing(text: str, *, source: str = "iptables -L") -> list[list[str]]:
    """Rows of ``[pkts, bytes, target, prot, opt, in, out, source, destination, options]``.

    ``text`` is the output of ``iptables -L CHAIN -v -n -x`` for one chain.
    Addresses get an explicit prefix length, so every row parses with
    :func:`parse_stat`. Raises ``ParseError`` naming the line it could not read.
    """
    rows: list[list[str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "Chain ", "pkts ")):
            continue
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
            and _is_address(cols[4][0])
            and _is_address(cols[5][0])
        )
        if not has_opt and len(cols) >= 4 and _is_address(cols[3][0]):
            cols.insert(1, ("", cols[0][1]))
        if len(cols) < 6:
            raise ParseError(f"expected six columns after the target: {line!r}", source=source, line=number)
        prot, opt, in_, out, src, dst = (text for text, _ in cols[:6])
        if not (_is_address(src) and _is_address(dst)):
            raise ParseError(
                f"expected source and destination addresses: {line!r}", source=source, line=number
            )
        options = rest[cols[5][1] :].strip()
        rows.append(
            [packets, nbytes, target, prot, opt, in_, out, _with_prefix(src), _with_prefix(dst), options]
        )
    return rows


def _network(text: str, what: str) -> tuple[Network, bool]:
    negated = text.startswith("!")
    try:
        return ipaddress.ip_network(text.removeprefix("!"), strict=False), negated
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
