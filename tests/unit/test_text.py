"""Rule-line text: ``tokens``/``split_line`` (iptables-restore quoting), ``quote``
(iptables' ``xtables_save_string``) and ``counters_first``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vnetkit.errors import ParseError
from vnetkit.iptables.text import Token, counters_first, quote, split_line, tokens

# `iptables -v -S C1` (1.8.9): a comment with a double quote, a backslash and two spaces.
COMMENT_RULE = r'-A C1 -m comment --comment "say \"hi\" \\ there" -c 0 0 -j DROP'
COMMENT = 'say "hi" \\ there'

# -- split_line / tokens ----------------------------------------------------------------


def test_split_line_real_rule_with_escaped_comment() -> None:
    assert split_line(COMMENT_RULE) == [
        "-A",
        "C1",
        "-m",
        "comment",
        "--comment",
        COMMENT,
        "-c",
        "0",
        "0",
        "-j",
        "DROP",
    ]


def test_split_line_policy_with_counters() -> None:
    assert split_line("-P INPUT ACCEPT -c 5 300") == ["-P", "INPUT", "ACCEPT", "-c", "5", "300"]


@pytest.mark.parametrize(
    ("line", "args"),
    [
        ("", []),
        ("   \t \n", []),
        ("-N C1", ["-N", "C1"]),
        ("  -A\tC1   -j  DROP  \n", ["-A", "C1", "-j", "DROP"]),
        ('--comment ""', ["--comment", ""]),
        ('--comment "two  spaces"', ["--comment", "two  spaces"]),
        ('--comment "tab\there"', ["--comment", "tab\there"]),
        (r'--comment "it\'s"', ["--comment", "it's"]),
        ('--comment "a"', ["--comment", "a"]),
        # outside quotes a backslash is an ordinary character
        (r"--log-prefix a\b", ["--log-prefix", r"a\b"]),
        # an escaped quote does not close the quoted argument
        (r'"a\" b" c', ['a" b', "c"]),
    ],
)
def test_split_line_examples(line: str, args: list[str]) -> None:
    assert split_line(line) == args


@pytest.mark.parametrize(
    "line", ['-A C1 --comment "open', '"', r'--comment "ends in backslash\"', 'a "b" "c']
)
def test_unterminated_quote_is_a_parse_error(line: str) -> None:
    with pytest.raises(ParseError, match="unterminated quote") as info:
        tokens(line)
    assert info.value.source == "rule line"
    with pytest.raises(ParseError):
        split_line(line)


def test_tokens_carry_their_spans() -> None:
    line = ' -A C1  --comment "a b"\t-j X'
    toks = tokens(line)
    assert toks == [
        Token("-A", 1, 3),
        Token("C1", 4, 6),
        Token("--comment", 8, 17),
        Token("a b", 18, 23),
        Token("-j", 24, 26),
        Token("X", 27, 28),
    ]
    assert [line[t.start : t.end] for t in toks] == ["-A", "C1", "--comment", '"a b"', "-j", "X"]


def test_tokens_span_covers_escapes() -> None:
    [tok] = tokens(r'"say \"hi\""')
    assert tok.text == 'say "hi"'
    assert (tok.start, tok.end) == (0, 12)


# -- quote ---------------------------------------------------------------------------------


@pytest.mark.parametrize("arg", ["ACCEPT", "C1", "tcp", "VNK-lab_1", "-A", "--comment", "0", "_"])
def test_quote_plain_words_are_bare(arg: str) -> None:
    assert quote(arg) == arg


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("", '""'),
        ("two words", '"two words"'),
        ("vnetkit:lab", '"vnetkit:lab"'),
        ("192.0.2.0/24", '"192.0.2.0/24"'),
        ("a.b", '"a.b"'),
        (COMMENT, r'"say \"hi\" \\ there"'),
        ("it's", r'"it\'s"'),
        ("\\", r'"\\"'),
        ("caf\u00e9", '"caf\u00e9"'),
        ("tab\t", '"tab\t"'),
    ],
)
def test_quote_like_xtables_save_string(arg: str, quoted: str) -> None:
    assert quote(arg) == quoted


def test_quote_then_split_gives_the_real_line() -> None:
    args = ["-A", "C1", "-m", "comment", "--comment", COMMENT, "-c", "0", "0", "-j", "DROP"]
    assert " ".join(quote(a) for a in args) == COMMENT_RULE


_ARG = st.text(alphabet=st.characters(exclude_characters="\x00\n"))


@settings(database=None, deadline=None, max_examples=500)
@given(st.lists(_ARG))
def test_property_split_line_inverts_quote(args: list[str]) -> None:
    assert split_line(" ".join(quote(a) for a in args)) == args


@settings(database=None, deadline=None, max_examples=300)
@given(_ARG)
def test_property_quote_is_bare_only_for_plain_words(arg: str) -> None:
    quoted = quote(arg)
    plain = arg != "" and all(c.isascii() and (c.isalnum() or c in "_-") for c in arg)
    if plain:
        assert quoted == arg
    else:
        assert quoted.startswith('"')
        assert quoted.endswith('"')
        assert len(quoted) >= len(arg) + 2


@settings(database=None, deadline=None, max_examples=500)
@given(st.text())
def test_fuzz_tokens_raise_only_parse_error(line: str) -> None:
    try:
        toks = tokens(line)
    except ParseError:
        return
    for tok in toks:
        assert 0 <= tok.start < tok.end <= len(line)
    assert [t.start for t in toks] == sorted(t.start for t in toks)


@settings(database=None, deadline=None, max_examples=300)
@given(st.text(alphabet=' "\\-cA0123abc\t'))
def test_fuzz_counters_first_only_moves_counters(line: str) -> None:
    try:
        moved = counters_first(line)
    except ParseError:
        return
    if moved == line:
        return
    before, after = split_line(line), split_line(moved)
    k = next(
        i
        for i in range(len(before) - 2)
        if before[i] == "-c" and before[i + 1].isdigit() and before[i + 2].isdigit()
    )
    assert after == [f"[{before[k + 1]}:{before[k + 2]}]", *before[:k], *before[k + 3 :]]


# -- counters_first ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("-P INPUT ACCEPT -c 5 300", "[5:300] -P INPUT ACCEPT"),
        ("-A C1 -s 10.0.0.1/32 -c 12 3400 -j DROP", "[12:3400] -A C1 -s 10.0.0.1/32 -j DROP"),
        ("-A C1 -c 0 0", "[0:0] -A C1"),
        (
            "-A C1 -c 123456789012 98765432109876 -j ACCEPT",
            "[123456789012:98765432109876] -A C1 -j ACCEPT",
        ),
        (COMMENT_RULE, r'[0:0] -A C1 -m comment --comment "say \"hi\" \\ there" -j DROP'),
    ],
)
def test_counters_first_moves_counters_to_the_front(line: str, expected: str) -> None:
    assert counters_first(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "[1:2] -A C1 -j DROP",
        "[0:0] -P INPUT ACCEPT",
        "-N C1",
        "-A C1 -j DROP",
        "",
        # "-c" inside a quoted comment is text, not counters
        '-A C1 -m comment --comment "x -c 1 2" -j DROP',
        '-A C1 -m comment --comment "-c 1 2"',
        # "-c" not followed by two numbers
        "-A C1 -c 1 -j DROP",
        "-A C1 -c one two -j DROP",
    ],
)
def test_counters_first_leaves_other_lines_alone(line: str) -> None:
    assert counters_first(line) == line


def test_counters_first_after_a_quoted_comment_that_looks_like_counters() -> None:
    line = '-A C1 -m comment --comment "-c 1 2" -c 7 8 -j DROP'
    assert counters_first(line) == '[7:8] -A C1 -m comment --comment "-c 1 2" -j DROP'


def test_counters_first_result_splits_to_the_same_rule() -> None:
    moved = counters_first(COMMENT_RULE)
    rule = split_line(COMMENT_RULE)
    assert split_line(moved) == ["[0:0]", *rule[:6], *rule[9:]]


def test_counters_first_unterminated_quote() -> None:
    with pytest.raises(ParseError):
        counters_first('-A C1 --comment "open -c 1 2')
