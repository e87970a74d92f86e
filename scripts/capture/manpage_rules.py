"""Extract every example rule of the installed iptables(8) and iptables-extensions(8) man pages.

Writes tests/corpus/manpages.json: one entry per example command (or option
fragment shown as an example), with the man page, its line, the extension
section it stands in, family, table, chain and argv. The corpus test adds
each to the kernel on both backends and compares what iptables-save prints
with canonical() and its fallback (tests/integration/test_corpus.py).

    .venv/bin/python scripts/capture/manpage_rules.py [--check]

``--check`` exits 1 when the committed file differs from a fresh extraction
(the man pages of another iptables version). Reads only the man pages.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
import sys
from pathlib import Path

PAGES = ("iptables-extensions", "iptables")
MAN_DIR = Path("/usr/share/man/man8")
OUT = Path(__file__).parents[2] / "tests" / "corpus" / "manpages.json"
BUILTIN = {"INPUT", "OUTPUT", "FORWARD", "PREROUTING", "POSTROUTING"}

_FONT = re.compile(r"\\f[BIRP]|\\f\(..")
_ESCAPES = {"\\-": "-", "\\!": "!", "\\(em": "-", "\\(en": "-", "\\e": "\\", "\\&": "", "\\ ": " "}


def _text(line: str) -> str:
    line = _FONT.sub("", line)
    for esc, plain in _ESCAPES.items():
        line = line.replace(esc, plain)
    return line.strip()


def _lines(page: str) -> list[str]:
    with gzip.open(MAN_DIR / f"{page}.8.gz", "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def _command(words: list[str], section: str) -> dict[str, object] | None:
    """A rule from ``iptables [-t T] -A|-I CHAIN [N] rule...`` (or a bare rule); None if not one."""
    family = "ipv6" if words[0] == "ip6tables" else "ipv4"
    table, chain, argv = "filter", "X", []
    k = 1
    verb = False
    while k < len(words):
        word = words[k]
        if word in ("-t", "--table") and k + 1 < len(words):
            table = words[k + 1]
            k += 2
        elif word in ("-A", "-I", "--append", "--insert") and k + 1 < len(words):
            chain = words[k + 1] if words[k + 1] in BUILTIN else "X"
            verb = True
            k += 2
            if word in ("-I", "--insert") and k < len(words) and words[k].isdigit():
                k += 1
        elif word in ("-N", "-L", "-S", "-F", "-X", "-h", "--help", "-n", "-v", "-P", "-Z"):
            return None  # not a rule
        else:
            argv.append(word)
            k += 1
    if not argv or ".." in argv or any("$" in a or "`" in a or "{" in a for a in argv):
        return None  # an elided or templated example
    if not verb and section == "":
        return None
    return {"family": family, "table": table, "chain": chain, "argv": argv}


def extract(page: str) -> list[dict[str, object]]:
    lines = _lines(page)
    out: list[dict[str, object]] = []
    section = ""
    k = 0
    while k < len(lines):
        raw = lines[k]
        if raw.startswith(".SS "):
            section = _text(raw[4:]).split()[0]
        text = _text(raw)
        start = k + 1
        if re.match(r"(ip6?tables) -", text) and not raw.startswith("."):
            # a command; it continues on the lines up to the next macro, blank or comment line
            parts = [text]
            while (
                k + 1 < len(lines)
                and re.match(r"[^.#\s]", lines[k + 1])
                and not re.match(r"ip6?tables ", _text(lines[k + 1]))
            ):
                k += 1
                parts.append(_text(lines[k]))
            try:
                words = shlex.split(" ".join(parts))
            except ValueError:
                words = []
            entry = _command(words, section) if words else None
            if entry is not None:
                entry.update(page=page, line=start, section=section)
                out.append(entry)
        elif text.endswith("=>") and k + 1 < len(lines):
            # "what it does" => an option fragment of this section's extension
            fragment = _text(lines[k + 1])
            words = shlex.split(fragment)
            argv = list(words)
            if argv and not any(a == "-m" for a in argv):
                head = [a for a in argv if a in ("-s", "-d")]
                rest = argv
                if head:  # core options first, then the match
                    split = 2 * len(head)
                    rest = argv[split:]
                    argv = argv[:split]
                else:
                    argv = []
                argv = [*argv, "-m", section, *rest, "-j", "ACCEPT"]
            out.append(
                {
                    "family": "ipv4",
                    "table": "filter",
                    "chain": "X",
                    "argv": argv,
                    "page": page,
                    "line": k + 2,
                    "section": section,
                }
            )
            k += 1
        k += 1
    return out


def main(argv: list[str]) -> int:
    entries = [entry for page in PAGES for entry in extract(page)]
    text = json.dumps(entries, indent=1, ensure_ascii=False) + "\n"
    if argv == ["--check"]:
        same = OUT.read_text(encoding="utf-8") == text
        print(f"{OUT}: {'current' if same else 'differs from the installed man pages'}", file=sys.stderr)
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"{len(entries)} example rules -> {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
