"""Keeping values alive while later operands are evaluated, spilling them when registers run out.

An operand held in a temporary while the next ones are evaluated occupies a register. When
what follows needs more registers than are free (estimated bottom-up, Sethi-Ullman style),
the held temporary is stored to a frame slot and loaded back just before use. Programs of
ordinary depth never spill; deep ones still compile.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..vm import isa
from . import ast
from .emit import R, Opnd

if TYPE_CHECKING:
    from .emit import Body


class Spilling:
    # what the Lowerer (lower.py) provides, declared for the type checker
    body: Body
    stmt_top: int
    _need: dict[int, int]
    if TYPE_CHECKING:
        def operand(self, e, dest: int | None = None) -> Opnd: ...

    def need(self, e) -> int:
        """Registers an expression needs (an estimate that errs on the high side)."""
        memo = self._need
        key = id(e)
        if key in memo:
            return memo[key]
        if isinstance(e, (ast.Int, ast.Str)):
            n = 0
        elif isinstance(e, ast.Name):
            n = 1
        elif isinstance(e, ast.Unary):
            n = self.need(e.operand) + 1
        elif isinstance(e, ast.Binary):
            extra = 2 if e.op in ("&&", "||") else 1
            n = max(self.need(e.left), self.need(e.right) + 1) + extra
        elif isinstance(e, ast.Index):
            n = max(self.need(e.array), self.need(e.index) + 1) + 1
        elif isinstance(e, ast.Try):
            n = self.need(e.call)
        elif isinstance(e, ast.Call):
            n = max((self.need(a) + i for i, a in enumerate(e.args)), default=0) + 1
        else:
            n = 1
        memo[key] = n
        return n

    def evaluate_all(self, items: list) -> list[Opnd]:
        """Evaluate expressions (or take ready Opnds) left to right; a result may come back
        in a frame slot (Opnd.slot) when keeping it in a register would starve the rest."""
        needs = [0 if isinstance(x, Opnd) else self.need(x) for x in items]
        out = []
        for i, x in enumerate(items):
            o = x if isinstance(x, Opnd) else self.operand(x)
            rest = max((needs[j] + (j - i - 1) for j in range(i + 1, len(items))), default=0)
            out.append(self.hold(o, rest))
        return out

    def hold(self, o: Opnd, rest: int) -> Opnd:
        b = self.body
        top = isa.S0 + b.top - 1
        if o.const or o.slot is not None or o.value != top or o.value < isa.S0 + self.stmt_top \
                or b.top + rest <= isa.NSAVED:
            return o
        k = b.spill_slot()
        b.emit("st", o.value, 0, imm=0, fix=("slot", k))
        b.top -= 1
        return Opnd(False, -1, k)

    def unhold(self, o: Opnd) -> Opnd:
        if o.slot is None:
            return o
        r = self.body.temp()
        self.body.emit("ld", r, 0, imm=0, fix=("slot", o.slot))
        return R(r)
