"""Read and write the text of iptables rule lines (``-S`` and iptables-save form).

Owns: splitting a line into arguments the way iptables-restore does (double
quotes, backslash escapes inside them), quoting an argument the way iptables
prints it, and moving packet/byte counters between the ``-c P B`` and
``[P:B]`` forms. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from vnetkit.errors import ParseError

__all__ = [
    "ALWAYS_QUOTED",
    "QUOTED_OPTIONS",
    "STRING_OPTIONS",
    "Token",
    "counters_first",
    "quote",
    "quote_save",
    "split_line",
    "tokens",
]

# Options whose value iptables prints with xtables_save_string (quoted unless plain).
STRING_OPTIONS = frozenset(
    {"--comment", "--log-prefix", "--nflog-prefix", "--ulog-prefix", "--helper", "--nfacct-name"}
)
# Options whose value iptables always prints in double quotes, escaping only the quote and backslash.
ALWAYS_QUOTED = frozenset({"--string", "--hex-string", "--u32", "--led-trigger-id"})
# Options whose value may print quoted even when plain (see quote_save).
QUOTED_OPTIONS = STRING_OPTIONS | ALWAYS_QUOTED

# A token: quoted parts ("..." with backslash escapes) and bare characters,
# or a lone quote that opens nothing (an error).
_TOKEN = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^\s"])+|"', re.DOTALL)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unquote(m: re.Match[str]) -> str:
    return _ESCAPE.sub(r"\1", m.group(1))


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
    """Split ``line`` into arguments with their spans; ``ParseError`` on an open quote.

    Inside double quotes a backslash escapes the next character; outside
    them it is literal, as in iptables-restore.
    """
    out: list[Token] = []
    for m in _TOKEN.finditer(line):
        text = m.group()
        if '"' in text:
            if text == '"':
                raise ParseError(f"unterminated quote in {line!r}", source="rule line")
            text = _QUOTED.sub(_unquote, text)
        out.append(Token(text, m.start(), m.end()))
    return out


def split_line(line: str) -> list[str]:
    """The arguments of ``line``: ``'-A C -m comment --comment "a b"'`` gives 6 strings."""
    if '"' not in line:
        return line.split()
    if "\\" not in line:
        # Fast path for the common dump line: whole arguments in plain quotes.
        parts = line.split('"')
        if (
            len(parts) % 2 == 1
            and all((k == 1 and not parts[0]) or parts[k - 1][-1:].isspace() for k in range(1, len(parts), 2))
            and all(not parts[k + 1] or parts[k + 1][0].isspace() for k in range(1, len(parts), 2))
        ):
            fast: list[str] = []
            for k, part in enumerate(parts):
                if k % 2:
                    fast.append(part)
                else:
                    fast.extend(part.split())
            return fast
    out = _TOKEN.findall(line)
    for k, text in enumerate(out):
        if '"' in text:
            if text == '"':
                raise ParseError(f"unterminated quote in {line!r}", source="rule line")
            out[k] = _QUOTED.sub(_unquote, text)
    return out


def quote(arg: str) -> str:
    """``arg`` as iptables prints it: bare when plain, else double-quoted with escapes."""
    if _PLAIN.fullmatch(arg):
        return arg
    return '"' + _ESCAPED.sub(r"\\\1", arg) + '"'


_NEEDS_QUOTES = re.compile(r'[\s"\\]')


def quote_save(arg: str, option: str = "") -> str:
    """``arg`` as iptables-save prints it after ``option``, valid for iptables-restore.

    Values of :data:`STRING_OPTIONS` follow :func:`quote`; any other argument
    is printed bare unless it is empty or holds whitespace, ``"`` or ``\\``.
    """
    if option in STRING_OPTIONS:
        return quote(arg)
    if option in ALWAYS_QUOTED:
        return '"' + re.sub(r'(["\\])', r"\\\1", arg) + '"'
    if arg and not _NEEDS_QUOTES.search(arg):
        return arg
    return '"' + re.sub(r'(["\\])', r"\\\1", arg) + '"'


# Over arguments joined by NUL (which no argument can hold): one needs quotes
# if it is empty or holds whitespace, a double quote or a backslash.
_CARE = re.compile(r'[\s"\\]|\x00\x00|^\x00|\x00$|^$')


def join_args(args: Sequence[str]) -> str:
    """Arguments as one save/restore line fragment, quoted where iptables quotes or must.

    The common rule (no quoting needed anywhere) costs one join and one scan.
    Raises ``TypeError`` if an argument is not a string.
    """
    joined = "\0".join(args)
    if QUOTED_OPTIONS.isdisjoint(args) and not (args and _CARE.search(joined)):
        return joined.replace("\0", " ")
    words: list[str] = []
    previous = ""
    for arg in args:
        words.append(quote_save(arg, previous))
        previous = arg
    return " ".join(words)


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
