"""The bpf match: ``--bytecode`` read as libxt_bpf reads it and checked as the kernel checks it.

Owns: parsing ``LEN,code jt jf k,...`` the way libxt_bpf's ``sscanf`` calls
do (decimal fields that wrap to their C type, text after the fourth field
ignored, a trailing comma allowed), printing it back, and the kernel's
classic-BPF checks (``bpf_check_classic`` and ``check_load_and_stores`` in
net/core/filter.c: allowed opcodes, jumps in range, no division by a zero
constant, shifts below 32, scratch memory written before it is read, known
ancillary loads, a return last), so a program the kernel refuses is a
``RuleError``. ``--object-pinned`` names a pinned program on this host:
printed as written. Measured in docs/canonical/spec-hdr.md.
"""

from __future__ import annotations

import re

from vnetkit.iptables.canonical._ext import Ctx, Ext, Opts, ext
from vnetkit.iptables.canonical._values import cut_text, fail
from vnetkit.model import Option

MAX_INSTRUCTIONS = 64  # XT_BPF_MAX_NUM_INSTR
_ULONG = 2**64 - 1
_NUMBER = re.compile(r"[ \t\n\v\f\r]*([+-]?)(\d+)")
_SPACES = re.compile(r"[ \t\n\v\f\r]*")

# Opcodes the kernel accepts (chk_code_allowed).
_ALU = {op | src for op in (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xA0) for src in (0, 8)}
_JUMPS = {0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D, 0x45, 0x4D}  # jeq, jgt, jge, jset with k or x
_LOADS = {0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, 0x81, 0xB1, 0x01, 0x61}
_ALLOWED = (
    {0x04 | code for code in _ALU} | {0x84} | _LOADS | {0x02, 0x03, 0x07, 0x87, 0x06, 0x16, 0x05} | _JUMPS
)
_ABS_LOADS = {0x20, 0x28, 0x30}  # ld w/h/b abs: k may address an ancillary field
_ANCILLARY_OFF = 0xFFFFF000  # SKF_AD_OFF
_ANCILLARY = {_ANCILLARY_OFF + 4 * k for k in range(16)}  # SKF_AD_PROTOCOL .. SKF_AD_VLAN_TPID
_MEMORY = {0x60: "load", 0x61: "load", 0x02: "store", 0x03: "store"}


def _scan(text: str, pos: int, bits: int) -> tuple[int, int] | None:
    """One ``%hu``/``%hhu``/``%u`` conversion of glibc scanf: (value wrapped to ``bits``, end)."""
    m = _NUMBER.match(text, pos)
    if m is None:
        return None
    value = min(int(m.group(2)), _ULONG)  # strtoul saturates on overflow
    if m.group(1) == "-":
        value = (-value) % (_ULONG + 1)
    return value & ((1 << bits) - 1), m.end()


def _instruction(text: str, where: str, k: int) -> tuple[int, int, int, int]:
    """``sscanf(token, "%hu %hhu %hhu %u,")`` must convert four fields; the rest is ignored."""
    fields = []
    pos = 0
    for bits in (16, 8, 8, 32):
        read = _scan(text, pos, bits)
        if read is None:
            raise fail(
                f"instruction {k} ({text.split(',', maxsplit=1)[0]!r}) is not 'code jt jf k'", location=where
            )
        fields.append(read[0])
        pos = _SPACES.match(text, read[1]).end()  # type: ignore[union-attr]  # always matches
    code, jt, jf, value = fields
    return code, jt, jf, value


def parse_program(text: str, where: str) -> list[tuple[int, int, int, int]]:
    """libxt_bpf's ``bpf_parse_string``: the length, then that many instructions."""
    head = _scan(text, 0, 16)
    if head is None or text[head[1] : head[1] + 1] != ",":
        raise fail(
            "the program must start with its length and a comma (LEN,code jt jf k,...)", location=where
        )
    count = head[0]
    if not 0 < count <= MAX_INSTRUCTIONS:
        raise fail(f"a program has 1 to {MAX_INSTRUCTIONS} instructions, not {count}", location=where)
    program: list[tuple[int, int, int, int]] = []
    token = 0
    while (token := text.find(",", token) + 1) and token < len(text):
        if len(program) >= count:
            raise fail(f"more instructions than the length {count}", location=where)
        program.append(_instruction(text[token:], where, len(program)))
    if len(program) != count:
        raise fail(f"{len(program)} instructions for the length {count}", location=where)
    return program


def _check_instruction(pc: int, insn: tuple[int, int, int, int], size: int) -> str | None:
    """What ``bpf_check_classic`` objects to in one instruction, None when nothing."""
    code, jt, jf, value = insn
    problem = None
    if code not in _ALLOWED:
        problem = f"opcode {code} is not a classic BPF instruction"
    elif code in (0x34, 0x94) and value == 0:
        problem = "division by a zero constant"
    elif code in (0x64, 0x74) and value >= 32:
        problem = f"shift by {value}"
    elif code in _MEMORY and value >= 16:
        problem = f"scratch memory slot {value} (0-15)"
    elif (code == 0x05 and value >= size - pc - 1) or (
        code in _JUMPS and (pc + jt + 1 >= size or pc + jf + 1 >= size)
    ):
        problem = "jump past the end"
    elif code in _ABS_LOADS and value >= _ANCILLARY_OFF and value not in _ANCILLARY:
        problem = f"unknown ancillary offset {value:#x}"
    return problem


def _check_memory(program: list[tuple[int, int, int, int]]) -> str | None:
    """``check_load_and_stores``: a scratch slot is read only after a store on every path to it."""
    masks = [0xFFFF] * len(program)
    valid = 0
    for pc, (code, jt, jf, value) in enumerate(program):
        valid &= masks[pc]
        kind = _MEMORY.get(code)
        if kind == "store":
            valid |= 1 << value
        elif kind == "load" and not valid & (1 << value):
            return f"instruction {pc} reads scratch slot {value} before any store to it"
        elif code == 0x05:
            masks[pc + 1 + value] &= valid
            valid = 0xFFFF
        elif code in _JUMPS:
            masks[pc + 1 + jt] &= valid
            masks[pc + 1 + jf] &= valid
            valid = 0xFFFF
    return None


def check_program(program: list[tuple[int, int, int, int]], where: str) -> None:
    """Refuse what the kernel's classic-BPF checker refuses."""
    for pc, insn in enumerate(program):
        problem = _check_instruction(pc, insn, len(program))
        if problem is not None:
            raise fail(f"the kernel refuses the program: instruction {pc}: {problem}", location=where)
    if program[-1][0] not in (0x06, 0x16):
        raise fail("the kernel refuses the program: the last instruction must be a return", location=where)
    problem = _check_memory(program)
    if problem is not None:
        raise fail(f"the kernel refuses the program: {problem}", location=where)


def _bpf(o: Opts, ctx: Ctx) -> tuple[Option, ...]:
    key = o.which("--bytecode", "--object-pinned")
    where = o.where(key)
    if key == "--object-pinned":  # printed raw: it must survive the save line as one word
        path = cut_text(o.value(key), 511, where, empty=False)
        if re.search(r'[\s"\\\']', path):
            raise fail(
                f"{path!r} holds a blank, quote or backslash; iptables-save prints it unquoted",
                location=where,
            )
        return (Option(key, (path,)),)
    program = parse_program(o.value(key), where)
    check_program(program, where)
    body = ",".join(f"{code} {jt} {jf} {value}" for code, jt, jf, value in program)
    return (Option(key, (f"{len(program)},{body}",)),)


MATCHES: tuple[Ext, ...] = (ext("bpf", "match", _bpf, "--bytecode --object-pinned"),)
