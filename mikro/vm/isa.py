"""The mikro VM instruction set: the one opcode table (ORDER OP).

Every instruction is one 64-bit little-endian word:

    63                              32 31      24 23      16 15       8 7        0
   +----------------------------------+----------+----------+----------+----------+
   |            imm (signed 32)       |    c     |    b     |    a     |    op    |
   +----------------------------------+----------+----------+----------+----------+

a, b, c name registers (r0..r63); imm is an integer, a code address, a constant-pool
index, a string index or a syscall number, as the opcode's table entry says. The
encoder, decoder, assembler, disassembler, verifier, interpreter and the x86 lowering
are all driven by OPCODES below; nothing else lists the opcodes.

Registers: r0 reads 0 (writing it is rejected by the verifier); a0..a7 = r1..r8 carry
arguments and results of calls and syscalls and are clobbered by both; s0..s51 =
r9..r60 are callee-saved; fp = r61, lr = r62, sp = r63.

Notes (edge cases of the integer rules, see docs/vm.md):
  - add/sub/mul wrap modulo 2**64 (two's complement).
  - div/rem truncate toward zero; divisor 0 faults; MIN / -1 = MIN, MIN % -1 = 0.
  - shl/shr/ushr use only the count's low 6 bits; shr is arithmetic, ushr logical.
  - comparisons are signed and give 1 or 0.
  - fuel: a CALL, and a JMP or taken branch whose target is <= its own pc, cost 1 unit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

NREGS = 64
ZERO = 0
A0 = 1          # a0..a7 = r1..r8
NARGS = 8
S0 = 9          # s0..s51 = r9..r60
NSAVED = 52
FP = 61
LR = 62
SP = 63

REG_NAMES = (["zero"] + [f"a{i}" for i in range(NARGS)] + [f"s{i}" for i in range(NSAVED)]
             + ["fp", "lr", "sp"])
assert len(REG_NAMES) == NREGS


@dataclass(frozen=True)
class Op:
    """One opcode. a/b/c: 'w' register written, 'r' register read, None unused.
    imm: None, 'int', 'pc' (code address), 'fn' (function entry), 'k' (constant
    index), 'str' (string index) or 'sys' (syscall number | TRY flag)."""
    code: int
    name: str
    a: str | None
    b: str | None
    c: str | None
    imm: str | None
    doc: str

    @property
    def is_branch(self) -> bool:
        return self.imm == "pc"

    @property
    def ends_block(self) -> bool:
        """Control never falls through to the next instruction."""
        return self.name in ("jmp", "ret", "trap")


_TABLE = [
    # name    a    b    c    imm    semantics
    ("nop",   None, None, None, None,  "no operation"),
    ("li",    "w", None, None, "int",  "R[a] = imm"),
    ("lk",    "w", None, None, "k",    "R[a] = K[imm]"),
    ("mov",   "w", "r", None, None,    "R[a] = R[b]"),
    ("add",   "w", "r", "r", None,     "R[a] = R[b] + R[c]"),
    ("sub",   "w", "r", "r", None,     "R[a] = R[b] - R[c]"),
    ("mul",   "w", "r", "r", None,     "R[a] = R[b] * R[c]"),
    ("div",   "w", "r", "r", None,     "R[a] = R[b] / R[c]   (truncating; by 0 faults)"),
    ("rem",   "w", "r", "r", None,     "R[a] = R[b] % R[c]   (sign of R[b]; by 0 faults)"),
    ("and",   "w", "r", "r", None,     "R[a] = R[b] & R[c]"),
    ("or",    "w", "r", "r", None,     "R[a] = R[b] | R[c]"),
    ("xor",   "w", "r", "r", None,     "R[a] = R[b] ^ R[c]"),
    ("shl",   "w", "r", "r", None,     "R[a] = R[b] << (R[c] & 63)"),
    ("shr",   "w", "r", "r", None,     "R[a] = R[b] >> (R[c] & 63)   (arithmetic)"),
    ("ushr",  "w", "r", "r", None,     "R[a] = R[b] >>> (R[c] & 63)  (logical)"),
    ("eq",    "w", "r", "r", None,     "R[a] = R[b] == R[c]"),
    ("ne",    "w", "r", "r", None,     "R[a] = R[b] != R[c]"),
    ("lt",    "w", "r", "r", None,     "R[a] = R[b] < R[c]   (signed)"),
    ("le",    "w", "r", "r", None,     "R[a] = R[b] <= R[c]  (signed)"),
    ("addi",  "w", "r", None, "int",   "R[a] = R[b] + imm"),
    ("ld",    "w", "r", None, "int",   "R[a] = M[R[b] + imm]   (checked)"),
    ("st",    "r", "r", None, "int",   "M[R[b] + imm] = R[a]   (checked)"),
    ("alloc", "w", "r", None, None,    "R[a] = new zeroed array of R[b] words"),
    ("ald",   "w", "r", "r", None,     "R[a] = array R[b] at index R[c]   (checked)"),
    ("ast",   "r", "r", "r", None,     "array R[b] at index R[c] = R[a]   (checked)"),
    ("alen",  "w", "r", None, None,    "R[a] = length of array R[b]"),
    ("jmp",   None, None, None, "pc",  "pc = imm"),
    ("bz",    "r", None, None, "pc",   "if R[a] == 0: pc = imm"),
    ("bnz",   "r", None, None, "pc",   "if R[a] != 0: pc = imm"),
    ("beq",   "r", "r", None, "pc",    "if R[a] == R[b]: pc = imm"),
    ("bne",   "r", "r", None, "pc",    "if R[a] != R[b]: pc = imm"),
    ("blt",   "r", "r", None, "pc",    "if R[a] < R[b]: pc = imm   (signed)"),
    ("bge",   "r", "r", None, "pc",    "if R[a] >= R[b]: pc = imm  (signed)"),
    ("call",  None, None, None, "fn",  "R[lr] = pc + 1; pc = imm"),
    ("ret",   None, None, None, None,  "pc = R[lr]   (must be a return site, else fault)"),
    ("enter", None, None, None, "int", "sp -= imm   (fault 'stack overflow' below the heap)"),
    ("leave", None, None, None, "int", "sp += imm"),
    ("sys",   None, None, None, "sys", "syscall imm & 0xff; args a0.., status a0, results a1.."),
    ("trap",  None, None, None, "str", "fault the task with message S[imm]"),
]

OPCODES: tuple[Op, ...] = tuple(Op(i, *row) for i, row in enumerate(_TABLE))
BY_NAME: dict[str, Op] = {op.name: op for op in OPCODES}

IMM_MIN, IMM_MAX = -(1 << 31), (1 << 31) - 1


class Instr(NamedTuple):
    op: int
    a: int = 0
    b: int = 0
    c: int = 0
    imm: int = 0

    @property
    def info(self) -> Op:
        return OPCODES[self.op]


def encode(ins: Instr) -> int:
    """Instruction -> 64-bit word (unsigned)."""
    return ((ins.op & 0xFF) | (ins.a & 0xFF) << 8 | (ins.b & 0xFF) << 16
            | (ins.c & 0xFF) << 24 | (ins.imm & 0xFFFFFFFF) << 32)


def decode(word: int) -> Instr:
    imm = (word >> 32) & 0xFFFFFFFF
    if imm >= 1 << 31:
        imm -= 1 << 32
    return Instr(word & 0xFF, (word >> 8) & 0xFF, (word >> 16) & 0xFF, (word >> 24) & 0xFF, imm)


def make(name: str, a: int = 0, b: int = 0, c: int = 0, imm: int = 0) -> Instr:
    return Instr(BY_NAME[name].code, a, b, c, imm)
