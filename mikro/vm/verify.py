"""The verifier: every check a Program passes before any backend sees it (docs/vm.md).

`verify(program)` returns None or raises VerifyError naming the instruction (or table
entry) and the problem. It is driven by the opcode table: each operand kind of isa.Op has
one check. It never raises anything else, whatever the Program holds.
"""
from __future__ import annotations

from . import abi, isa
from .image import Pos, Program


class VerifyError(Exception):
    """The program breaks a rule of the VM; the message names where and what."""


_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_EXIT = abi.SYS["exit"].num
_SYS = isa.BY_NAME["sys"].code


def verify(program: Program) -> None:
    try:
        _verify(program)
    except VerifyError:
        raise
    except Exception as e:      # a Program whose fields are not even of the right types
        raise VerifyError(f"malformed program: {type(e).__name__}: {e}") from None


def falls_through(ins: isa.Instr) -> bool:
    """Whether control may go on to the next instruction (`sys exit` never returns)."""
    if ins.info.ends_block:
        return False
    return not (ins.op == _SYS and ins.imm & abi.SYS_MASK == _EXIT)


def _int(v, lo: int, hi: int) -> bool:
    return type(v) is int and lo <= v <= hi


def _verify(p: Program) -> None:
    code = p.code
    n = len(code)
    if n > abi.MAX_CODE:
        raise VerifyError(f"{n} instructions, more than the {abi.MAX_CODE} a program may have")
    for i, f in enumerate(p.functions):
        if not (_int(f.entry, 0, n - 1) and _int(f.end, f.entry + 1, n)):
            raise VerifyError(f"function {f.name!r}: entry {f.entry} / end {f.end} outside the code")
        if not _int(f.nparams, 0, abi.MAX_FN_PARAMS):
            raise VerifyError(f"function {f.name!r}: {f.nparams} parameters (at most {abi.MAX_FN_PARAMS})")
    for t in p.tasks:
        if not _int(t.entry, 0, n - 1):
            raise VerifyError(f"task {t.name!r}: entry {t.entry} outside the code")
        if not _int(t.nparams, 0, abi.MAX_TASK_PARAMS):
            raise VerifyError(f"task {t.name!r}: {t.nparams} parameters (at most {abi.MAX_TASK_PARAMS})")
    if len(p.lines) != n:
        raise VerifyError(f"the line table has {len(p.lines)} entries for {n} instructions")
    for pc, pos in enumerate(p.lines):
        if not isinstance(pos, Pos):
            raise VerifyError(f"pc {pc}: the line table entry is not a source position")
    for i, k in enumerate(p.consts):
        if not _int(k, _I64_MIN, _I64_MAX):
            raise VerifyError(f"constant {i} is not a 64-bit integer")
    for i, s in enumerate(p.strings):
        if type(s) is not str:
            raise VerifyError(f"string {i} is not a string")
    entries = frozenset(f.entry for f in p.functions)
    for pc, ins in enumerate(code):
        _instr(p, pc, ins, entries)
    if n and falls_through(code[-1]):
        raise VerifyError(f"pc {n - 1}: the last instruction can fall through past the end of the code")
    for j, b in enumerate(p.boot):
        if not _int(b.task, 0, len(p.tasks) - 1):
            raise VerifyError(f"boot entry {j}: no task type {b.task}")
        t = p.tasks[b.task]
        if len(b.args) > t.nparams:
            raise VerifyError(f"boot entry {j}: {len(b.args)} arguments for task {t.name!r}, "
                              f"which takes {t.nparams}")
        if not all(_int(a, _I64_MIN, _I64_MAX) for a in b.args):
            raise VerifyError(f"boot entry {j}: an argument is not a 64-bit integer")


def _instr(p: Program, pc: int, ins, entries: frozenset[int]) -> None:
    if not isinstance(ins, isa.Instr):
        raise VerifyError(f"pc {pc}: not an instruction")
    if not _int(ins.op, 0, len(isa.OPCODES) - 1):
        raise VerifyError(f"pc {pc}: unknown opcode {ins.op}")
    op = ins.info
    for field in "abc":
        use, v = getattr(op, field), getattr(ins, field)
        if use is None:
            continue            # an unused field is ignored by every backend
        if not _int(v, 0, isa.NREGS - 1):
            raise VerifyError(f"pc {pc}: register {v} out of range (r0..r{isa.NREGS - 1})")
        elif use == "w" and v == isa.ZERO:
            raise VerifyError(f"pc {pc}: {op.name} writes r0 (zero)")
    imm, kind = ins.imm, op.imm
    if not _int(imm, isa.IMM_MIN, isa.IMM_MAX):
        raise VerifyError(f"pc {pc}: immediate {imm} does not fit in 32 bits")
    if kind == "pc" and not 0 <= imm < len(p.code):
        raise VerifyError(f"pc {pc}: branch target {imm} outside the code")
    elif kind == "fn" and imm not in entries:
        raise VerifyError(f"pc {pc}: call target {imm} is not a function entry")
    elif kind == "k" and not 0 <= imm < len(p.consts):
        raise VerifyError(f"pc {pc}: constant index {imm} out of range")
    elif kind == "str" and not 0 <= imm < len(p.strings):
        raise VerifyError(f"pc {pc}: string index {imm} out of range")
    elif kind == "sys":
        if imm < 0 or imm & ~(abi.SYS_MASK | abi.TRY):
            raise VerifyError(f"pc {pc}: unknown syscall flag in {imm:#x}")
        if imm & abi.SYS_MASK >= len(abi.SYSCALLS):
            raise VerifyError(f"pc {pc}: unknown syscall number {imm & abi.SYS_MASK}")
