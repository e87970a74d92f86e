"""Read and write the text of iptables rule lines (``-S`` and iptables-save form).

Owns: splitting a line into arguments the way iptables-restore does (double
quotes, backslash escapes inside them), quoting an argument the way iptables
prints it, and moving packet/byte counters between the ``-c P B`` and
``[P:B]`` forms. Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from vnetkit.errors import ParseError

__all__ = ["Token", "counters_first", "quote", "split_line", "tokens"]

_PLAIN = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPED = re.compile(r"([\"\\'])")
_COUNTERS = re.compile(r"\[([0-9]+):([0-9]+)\] ")
_DIGITS = re.compile(r"[0-9]+")


class Token(NamedTuple):
    """One argument of a rule line and where it stood (``start``/``end`` offsets)."""

    text: str
    start: int
    end: int


def tokens(line: str) -> list[Token]:
    """Split ``line`` into arguments with their spans; ``ParseError`` on an open quote."""
    out: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t\n":
            i += 1
        if i >= n:
            break
        start = i
        chars: list[str] = []
        quoted = False
        while i < n and (quoted or line[i] not in " \t\n"):
            ch = line[i]
            if quoted and ch == "\\" and i + 1 < n:
                chars.append(line[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = not quoted
            else:
                chars.append(ch)
            i += 1
        if quoted:
            raise ParseError(f"unterminated quote in {line!r}", source="rule line")
        out.append(Token("".join(chars), start, i))
    return out


def split_line(line: str) -> list[str]:
    """The arguments of ``line``: ``'-A C -m comment --comment "a b"'`` gives 6 strings."""
    return [tok.text for tok in tokens(line)]


def quote(arg: str) -> str:
    """``arg`` as iptables prints it: bare when plain, else double-quoted with escapes."""
    if _PLAIN.fullmatch(arg):
        return arg
    return '"' + _ESCAPED.sub(r"\\\1", arg) + '"'


def counters_first(line: str) -> str:
    """Rewrite ``-A C ... -c P B ...`` (or ``-P C T -c P B``) as ``[P:B] -A C ...``.

    Lines already in ``[P:B]`` form and lines without counters come back unchanged.
    """
    if _COUNTERS.match(line):
        return line
    toks = tokens(line)
    for k in range(len(toks) - 2):
        if (
            toks[k].text == "-c"
            and _DIGITS.fullmatch(toks[k + 1].text)
            and _DIGITS.fullmatch(toks[k + 2].text)
        ):
            cut_from = toks[k - 1].end if k > 0 else toks[k].start
            rest = line[:cut_from] + line[toks[k + 2].end :]
            return f"[{toks[k + 1].text}:{toks[k + 2].text}] {rest}"
    return line
