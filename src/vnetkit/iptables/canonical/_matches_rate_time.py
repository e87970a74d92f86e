"""The time and u32 matches, as iptables-save 1.8.9 prints them.

Owns: ``-m time`` (dates and daytimes read the way libxt_time reads them,
with C's ``strtoul`` and ``mktime`` normalisation: ``2020-02-31`` is March
2; the default ``--datestop 2038-01-19T03:14:07`` it always prints;
``--timestop 23:59:59`` / ``--timestart 00:00:00`` filled in; weekdays and
monthdays as sorted lists, negations folded into the complement;
``--localtz`` printed ``--kerneltz``) and ``-m u32`` (the test language
re-printed in hex without blanks, with its limits of 10 tests, numbers and
values). Refused: what the tool refuses, and day masks that would print an
empty list (iptables-save writes a line it cannot read back).
Measured: docs/canonical/spec-rate.md.
"""

from __future__ import annotations

import datetime

from vnetkit.iptables.canonical._ext import Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._matches_rate import strtoul, strtoumax
from vnetkit.iptables.canonical._values import U32, fail
from vnetkit.model import Option

_DAY_MAX = 24 * 60 * 60 - 1
_ALL_MONTHDAYS, _ALL_WEEKDAYS = 0xFFFFFFFE, 0xFE
_DATESTOP_DEFAULT = 2**31 - 1  # INT_MAX; iptables-save prints it (it compares with LONG_MAX)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EPOCH = datetime.date(1970, 1, 1).toordinal()


def _date(text: str, where: str) -> int:
    """libxt_time's time_parse_date: ``YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`` in UTC, normalised like mktime."""
    bad = fail(f"invalid date {text!r}: give YYYY[-MM[-DD[Thh[:mm[:ss]]]]], 1970 to 2038", location=where)
    fields = [1, 1, 0, 0, 0]  # month, day, hour, minute, second
    limits = ((12, "-"), (31, "T"), (23, ":"), (59, ":"), (59, ""))
    year, rest = strtoul(text, 10)
    year &= U32
    if rest[:1] not in ("-", "") or not 1970 <= year <= 2038:
        raise bad
    for k, (top, stop) in enumerate(limits):
        if not rest:
            break
        value, rest = strtoul(rest[1:], 10)
        value &= U32
        if (rest and rest[:1] != stop) or (rest and not stop) or value > top:
            raise bad
        fields[k] = value
    month, day, hour, minute, second = fields
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1  # month 0 is December before
    days = datetime.date(year, month, 1).toordinal() - _EPOCH + day - 1
    stamp = days * 86400 + hour * 3600 + minute * 60 + second
    if stamp < 0:
        raise fail(f"{text!r} is before 1970-01-01 (mktime fails)", location=where)
    return stamp


def _daytime(text: str, where: str) -> int:
    """time_parse_minutes: ``hh:mm[:ss]`` (``9:`` is 09:00:00)."""
    bad = fail(f"invalid time {text!r}: give hh:mm[:ss] within 00:00:00-23:59:59", location=where)
    hour, rest = strtoul(text, 10)
    if rest[:1] != ":" or hour & U32 > 23:
        raise bad
    minute, rest = strtoul(rest[1:], 10)
    if rest[:1] not in (":", "") or minute & U32 > 59:
        raise bad
    second = 0
    if rest:
        second, rest = strtoul(rest[1:], 10)
        if rest or second & U32 > 59:
            raise bad
    return 3600 * (hour & U32) + 60 * (minute & U32) + (second & U32)


def _segments(text: str, size: int) -> list[str]:
    """my_strseg: comma-separated pieces, each cut to ``size - 1`` characters; a trailing comma ends it."""
    out: list[str] = []
    rest: str | None = text
    while rest:
        piece, comma, after = rest.partition(",")
        out.append(piece[: size - 1])
        rest = after if comma else None
    return out


def _monthdays(text: str, where: str) -> int:
    mask = 0
    for piece in _segments(text, 3):
        value, rest = strtoul(piece, 0)
        if rest or value > 31:
            raise fail(f"{piece!r} is not a day of the month (1-31)", location=where)
        mask |= 1 << value
    return mask


def _weekdays(text: str, where: str) -> int:
    mask = 0
    for piece in _segments(text, 4):
        value, rest = strtoul(piece, 0)
        if not rest:
            if value == 0:
                raise fail("weekdays are 1 (Mon) to 7 (Sun), or names", location=where)
            if value > 31:  # 1 << value is undefined in the tool
                raise fail(f"{piece!r} is not a weekday (1-7 or Mon-Sun)", location=where)
            mask |= 1 << value
            continue
        hits = [k + 1 for k, name in enumerate(_WEEKDAYS) if piece[:2] == name[:2] and len(piece) >= 2]
        if not hits:
            raise fail(f"{piece!r} is not a weekday", location=where, choices=_WEEKDAYS)
        for k in hits:
            mask |= 1 << k
    return mask & 0xFF


def _clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _stamp(stamp: int) -> str:
    moment = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _time(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if o.has("--utc") and (o.has("--localtz") or o.has("--kerneltz")):
        raise fail("--utc cannot be used together with --kerneltz or --localtz", location=o.where("--utc"))
    start = _daytime(o.value("--timestart"), o.where("--timestart")) if o.has("--timestart") else 0
    stop = _daytime(o.value("--timestop"), o.where("--timestop")) if o.has("--timestop") else _DAY_MAX
    dates = [
        _date(o.value(key), o.where(key)) if o.has(key) else default
        for key, default in (("--datestart", 0), ("--datestop", _DATESTOP_DEFAULT))
    ]
    monthdays, weekdays = _ALL_MONTHDAYS, _ALL_WEEKDAYS
    if o.has("--monthdays"):
        monthdays = _monthdays(o.value("--monthdays"), o.where("--monthdays"))
        monthdays ^= _ALL_MONTHDAYS if o.neg("--monthdays") else 0
    if o.has("--weekdays"):
        weekdays = _weekdays(o.value("--weekdays"), o.where("--weekdays"))
        weekdays ^= _ALL_WEEKDAYS if o.neg("--weekdays") else 0
    if o.has("--contiguous") and start < stop:
        raise fail("--contiguous needs --timestop before --timestart", location=o.where("--contiguous"))
    out: list[Option] = []
    if (start, stop) != (0, _DAY_MAX):
        out += [Option("--timestart", (_clock(start),)), Option("--timestop", (_clock(stop),))]
    for key, mask, full, names in (
        ("--monthdays", monthdays, _ALL_MONTHDAYS, [str(d) for d in range(1, 32)]),
        ("--weekdays", weekdays, _ALL_WEEKDAYS, list(_WEEKDAYS)),
    ):
        if mask != full:
            shown = [name for k, name in enumerate(names, start=1) if mask >> k & 1]
            if not shown:
                raise fail(
                    "matches no day; iptables-save would print an empty list it cannot read back",
                    location=o.where(key),
                )
            out.append(Option(key, (",".join(shown),)))
    for key, stamp in zip(("--datestart", "--datestop"), dates, strict=True):
        if stamp:
            out.append(Option(key, (_stamp(stamp),)))
    if o.has("--kerneltz") or o.has("--localtz"):
        out.append(Option("--kerneltz"))
    if o.has("--contiguous"):
        out.append(Option("--contiguous"))
    return tuple(out)


# ---------------------------------------------------------------- u32

_U32_MAX_ITEMS = 10


def _u32_number(text: str, at: int, where: str) -> tuple[int, int]:
    parsed = strtoumax(text[at:])
    if parsed is None or parsed[0] > U32:
        raise fail(f"at char {at}: not a number or out of range", location=where)
    value, rest = parsed
    return value, len(text) - len(rest)


def _u32_tests(text: str, where: str) -> list[tuple[list[tuple[str, int]], list[tuple[int, int]]]]:  # noqa: PLR0912, PLR0915 - libxt_u32's state machine
    """libxt_u32's parser: tests of ``location=values``, joined by ``&&``."""
    tests: list[tuple[list[tuple[str, int]], list[tuple[int, int]]]] = []
    location: list[tuple[str, int]] = []
    values: list[tuple[int, int]] = []
    reading_values = False
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\n\v\f\r":
            i += 1
        if i == n:
            if not reading_values:
                raise fail("abrupt end of input after a location", location=where)
            if not values:
                raise fail("a test ended with no value", location=where)
            tests.append((location, values))
            if len(tests) > _U32_MAX_ITEMS:
                raise fail('too many "&&"s (at most 10 tests)', location=where)
            return tests
        if not reading_values:
            if text[i] == "=":
                if not location:
                    raise fail(f"at char {i}: location missing", location=where)
                i += 1
                reading_values = True
                continue
            op = ""
            if location:
                op = next((sym for sym in ("<<", ">>", "&", "@") if text.startswith(sym, i)), "")
                if not op:
                    raise fail(f"at char {i}: operator expected (&, <<, >>, @)", location=where)
                i += len(op)
            number, i = _u32_number(text, i, where)
            location.append((op, number))
            if len(location) > _U32_MAX_ITEMS:
                raise fail("too many operators (at most 10 numbers)", location=where)
        elif text[i] == "&":
            if not text.startswith("&&", i):
                raise fail(f"at char {i + 1}: a second '&' was expected", location=where)
            if not values:
                raise fail(f"at char {i + 1}: values missing", location=where)
            tests.append((location, values))
            if len(tests) >= _U32_MAX_ITEMS + 1:
                raise fail('too many "&&"s (at most 10 tests)', location=where)
            location, values, reading_values = [], [], False
            i += 2
        else:
            if values:
                if text[i] != ",":
                    raise fail(f'at char {i}: expected "," or "&&"', location=where)
                i += 1
            low, i = _u32_number(text, i, where)
            while i < n and text[i] in " \t\n\v\f\r":
                i += 1
            high = low
            if i < n and text[i] == ":":
                high, i = _u32_number(text, i + 1, where)
            values.append((low, high))
            if len(values) > _U32_MAX_ITEMS:
                raise fail('too many ","s (at most 10 values)', location=where)


def _u32(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    if not o.has("--u32"):
        raise fail("needs --u32", location=o.where())
    parts = []
    for location, values in _u32_tests(o.value("--u32"), o.where("--u32")):
        where_text = "".join(f"{op}0x{number:x}" for op, number in location)
        value_text = ",".join(f"0x{lo:x}" if lo == hi else f"0x{lo:x}:0x{hi:x}" for lo, hi in values)
        parts.append(f"{where_text}={value_text}")
    return (Option("--u32", ("&&".join(parts),), o.neg("--u32")),)


MATCHES: tuple[Ext, ...] = (
    ext(
        "time",
        "match",
        _time,
        "--datestart --datestop --timestart --timestop --contiguous --weekdays --monthdays"
        " --localtz --utc --kerneltz",
        flags="--contiguous --localtz --utc --kerneltz",
        invert="--weekdays --monthdays",
    ),
    ext("u32", "match", _u32, "--u32", invert="--u32"),
)
