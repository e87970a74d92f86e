"""The sctp match as iptables-save 1.8.9 prints it: ports and ``--chunk-types``.

Owns: libxt_sctp's chunk table (names, types, flag letters), how a chunk
list is read (mode, names in any case, ``ALL``/``NONE``, flags, at most four
chunk types with flags) and printed (by chunk type, each once, flags in
table order, upper case set, lower case clear), and its port ranges
(service names through the resolver, for protocol sctp). Both backends
print the same: iptables-nft keeps sctp as a compat match.
Does not own: multiport's sctp ports or the implicit ``-p sctp`` match
(``_matches_l4``). Measured in docs/canonical/spec-sctp.md.
"""

from __future__ import annotations

import string

from vnetkit.iptables.canonical._ext import SCTP, Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._matches_l4 import services
from vnetkit.iptables.canonical._values import fail, port_range, span
from vnetkit.model import Option

# libxt_sctp's table, in its order: name, chunk type, flag letters for bits 7..0
# ("-" fills the bits a chunk has no letter for, and is itself accepted: bit 7).
CHUNKS = (
    ("DATA", 0, "----IUBE"),
    ("INIT", 1, "--------"),
    ("INIT_ACK", 2, "--------"),
    ("SACK", 3, "--------"),
    ("HEARTBEAT", 4, "--------"),
    ("HEARTBEAT_ACK", 5, "--------"),
    ("ABORT", 6, "-------T"),
    ("SHUTDOWN", 7, "--------"),
    ("SHUTDOWN_ACK", 8, "--------"),
    ("ERROR", 9, "--------"),
    ("COOKIE_ECHO", 10, "--------"),
    ("COOKIE_ACK", 11, "--------"),
    ("ECN_ECNE", 12, "--------"),
    ("ECN_CWR", 13, "--------"),
    ("SHUTDOWN_COMPLETE", 14, "-------T"),
    ("I_DATA", 64, "----IUBE"),
    ("RE_CONFIG", 130, "--------"),
    ("PAD", 132, "--------"),
    ("ASCONF", 193, "--------"),
    ("ASCONF_ACK", 128, "--------"),
    ("FORWARD_TSN", 192, "--------"),
    ("I_FORWARD_TSN", 194, "--------"),
)
FLAG_SLOTS = 4  # XT_NUM_SCTP_FLAGS: chunk types that may carry flags
MODES = ("all", "any", "only")
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # strcasecmp: ASCII only
_BY_NAME = {name.lower(): index for index, (name, _, _) in enumerate(CHUNKS)}
_NAME_OF_TYPE = {number: name for name, number, _ in CHUNKS}


def _fold(text: str) -> str:
    return text.translate(_FOLD)


def _flags(index: int, letters: str, flags: dict[int, tuple[int, int]], where: str) -> None:
    """Add ``letters`` (upper: set, lower: clear) to the flags of table entry ``index``."""
    name, _, valid = CHUNKS[index]
    for letter in letters:
        upper = letter.upper() if letter.isascii() else letter
        position = valid.find(upper) if len(upper) == 1 else -1
        if position < 0:
            own = ", ".join(valid.replace("-", "")) or "none"
            raise fail(
                f"{name} has no flag {letter!r} (its flags: {own}; upper case: set, lower case: clear)",
                location=where,
            )
        if index not in flags and len(flags) == FLAG_SLOTS:
            raise fail(f"at most {FLAG_SLOTS} chunk types may carry flags", location=where)
        bit = 1 << (7 - position)
        mask, value = flags.get(index, (0, 0))
        flags[index] = (mask | bit, value | (bit if letter.isupper() else 0))


def chunk_list(text: str, where: str) -> str:
    """The chunk list as libxt_sctp prints it back (``ALL``, ``NONE`` or names by chunk type)."""
    if _fold(text) == "all":
        return "ALL"
    if _fold(text) == "none":
        return "NONE"
    types: set[int] = set()
    flags: dict[int, tuple[int, int]] = {}  # by table index, as libxt_sctp records them
    for item in text.split(","):
        if not item:
            continue  # strtok skips empty items
        name, colon, letters = item.partition(":")
        index = _BY_NAME.get(_fold(name))
        if index is None:
            if _fold(name) in ("all", "none"):
                hint = f"{name.upper()} stands alone, not in a list or with flags"
            elif name.strip().isdigit() or _fold(name).startswith("0x"):
                hint = "give its name: iptables knows chunk types by name only"
            else:
                hint = "names are case-insensitive, without blanks"
            raise fail(
                f"unknown chunk type {name!r} ({hint})",
                location=where,
                choices=tuple(entry[0] for entry in CHUNKS),
            )
        types.add(CHUNKS[index][1])
        if colon:
            _flags(index, letters, flags, where)
    if not types:
        return "NONE"
    items = []
    for number in sorted(types):
        # libxt_sctp prints the flags recorded under the table index equal to the chunk
        # type: right for DATA..SHUTDOWN_COMPLETE (index == type), never for I_DATA and
        # later, whose flags still take a slot but are not printed.
        mask, value = flags.get(number, (0, 0))
        letters = "".join(
            CHUNKS[number][2][7 - bit] if value >> bit & 1 else CHUNKS[number][2][7 - bit].lower()
            for bit in range(7, -1, -1)
            if mask >> bit & 1
        )
        items.append(_NAME_OF_TYPE[number] + (f":{letters}" if letters else ""))
    return ",".join(items)


def _sctp(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    ctx.needs_protocol({SCTP: "sctp"}, o.where())
    out: list[Option] = []
    for key in ("--sport", "--dport"):  # printed even when 0:65535
        if o.has(key):
            lo, hi = port_range(o.value(key), o.where(key), service=services(ctx, "sctp"))
            out.append(Option(key, (span(lo, hi),), o.neg(key)))
    key = "--chunk-types"
    if o.has(key):
        where = o.where(key)
        mode, chunks = o.values(key)
        if _fold(mode) not in MODES:
            raise fail(f"the mode {mode!r} is not one of all, any, only", location=where, choices=MODES)
        if chunks[:1] in ("-", "!"):
            raise fail(
                f"the chunk list {chunks!r} starts with {chunks[0]!r}: iptables reads it as an option",
                location=where,
            )
        out.append(Option(key, (_fold(mode), chunk_list(chunks, where)), o.neg(key)))
    return tuple(out)


MATCHES: tuple[Ext, ...] = (
    ext(
        "sctp",
        "match",
        _sctp,
        "--sport|--source-port --dport|--destination-port --chunk-types",
        invert="*",
        pairs="--chunk-types",
    ),
)
