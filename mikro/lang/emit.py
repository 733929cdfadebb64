"""The code buffer of one task or function body: labels, registers, spill slots.

Registers are handed out as a stack over s0..s51: locals take the next free one while
fewer than LOCAL_REGS are live (later ones go to frame slots, addressed from sp), and
temporaries of an expression take the next free ones above them. The stack is cut back
at the end of each statement and block, so a body uses as few registers as it can, and a
function saves only s0..s(k-1), the ones it used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..vm import isa
from ..vm.image import Pos

LOCAL_REGS = 40                  # locals beyond this many live ones spill to frame slots


class TooComplex(Exception):
    """An expression needs more temporaries than there are registers."""


class Opnd(NamedTuple):
    const: bool
    value: int                  # the constant, or the register
    slot: int | None = None     # set when the value waits in a frame slot (spill.py)


# An expression's value: a constant (folded at compile time) or a register.
def K(v: int) -> Opnd:
    return Opnd(True, v)


def R(r: int) -> Opnd:
    return Opnd(False, r)


class Label:
    __slots__ = ("pc",)

    def __init__(self) -> None:
        self.pc: int | None = None


@dataclass
class Var:
    reg: int | None              # its s-register, or None when it lives in a frame slot
    slot: int = 0


class Body:
    def __init__(self, file: int) -> None:
        self.file = file
        self.code: list[list] = []       # [name, a, b, c, imm, pos, fix]
        self.pos = Pos(file, 0, 0)
        self.top = 0                     # next free s-register (as an index into s0..)
        self.used = 0                    # s-registers used: s0..s(used-1)
        self.slots = 0                   # frame slots live
        self.max_slots = 0

    # -- code --------------------------------------------------------------------------
    def at(self, span) -> Pos:
        """Set the source position of the instructions emitted from here on; returns the old one."""
        old = self.pos
        if span is not None:
            self.pos = Pos(self.file, span.line, span.col)
        return old

    def emit(self, name: str, a: int = 0, b: int = 0, c: int = 0, imm: int = 0, fix=None) -> None:
        self.code.append([name, a, b, c, imm, self.pos, fix])

    def jump(self, name: str, label: Label, a: int = 0, b: int = 0) -> None:
        self.emit(name, a, b, 0, 0, ("label", label))

    def place(self, label: Label) -> None:
        label.pc = len(self.code)

    def load_int(self, reg: int, value: int, konst) -> None:
        if isa.IMM_MIN <= value <= isa.IMM_MAX:
            self.emit("li", reg, imm=value)
        else:
            self.emit("lk", reg, imm=konst(value))

    # -- registers ---------------------------------------------------------------------
    def temp(self) -> int:
        if self.top >= isa.NSAVED:
            raise TooComplex
        r = isa.S0 + self.top
        self.top += 1
        self.used = max(self.used, self.top)
        return r

    def mark(self) -> tuple[int, int]:
        return self.top, self.slots

    def release(self, mark: tuple[int, int]) -> None:
        self.top, self.slots = mark

    def spill_slot(self) -> int:
        self.slots += 1
        self.max_slots = max(self.max_slots, self.slots)
        return self.slots - 1

    def local(self) -> Var:
        if self.top < LOCAL_REGS:
            return Var(self.temp())
        v = Var(None, self.slots)
        self.slots += 1
        self.max_slots = max(self.max_slots, self.slots)
        return v
