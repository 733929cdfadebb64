"""Placing bodies into one Program: prologues and epilogues, labels, call targets, tables."""
from __future__ import annotations

from ..vm import isa
from ..vm.image import Function, Pos, Program
from .emit import Body, Label
from .symbols import FnSym

FP, LR, SP = isa.FP, isa.LR, isa.SP


class Linker:
    def __init__(self) -> None:
        self.program = Program()
        self._strings: dict[str, int] = {}
        self._consts: dict[int, int] = {}
        self._calls: list[tuple[int, FnSym]] = []

    def file(self, path: str) -> int:
        self.program.files.append(path)
        return len(self.program.files) - 1

    def string(self, s: str) -> int:
        if s not in self._strings:
            self._strings[s] = len(self.program.strings)
            self.program.strings.append(s)
        return self._strings[s]

    def konst(self, v: int) -> int:
        if v not in self._consts:
            self._consts[v] = len(self.program.consts)
            self.program.consts.append(v)
        return self._consts[v]

    def place_task(self, name: str, body: Body, nparams: int, pos: Pos) -> int:
        """A task body: `enter` only when it has frame slots; it ends in `sys exit`."""
        pre = [("enter", 0, 0, 0, body.max_slots)] if body.max_slots else []
        return self._place(body, pre, [], SP, 0, pos, pos)

    def place_function(self, fn, body: Body, epilogue: Label, pos: Pos, end: Pos) -> None:
        saved = body.used
        n = 2 + saved + body.max_slots
        pre = [("enter", 0, 0, 0, n), ("st", LR, SP, 0, 0), ("st", FP, SP, 0, 1),
               ("addi", FP, SP, 0, 0)]
        pre += [("st", isa.S0 + k, SP, 0, 2 + k) for k in range(saved)]
        post = [("ld", isa.S0 + k, FP, 0, 2 + k) for k in range(saved)]
        post += [("ld", LR, FP, 0, 0), ("ld", FP, FP, 0, 1), ("leave", 0, 0, 0, n),
                 ("ret", 0, 0, 0, 0)]
        body.place(epilogue)
        entry = self._place(body, pre, post, FP, 2 + saved, pos, end)
        fn.entry = entry
        self.program.functions.append(Function(fn.qname, entry, len(self.program.code),
                                               fn.nparams))

    def _place(self, body: Body, pre, post, slot_base_reg: int, slot_base: int,
               pos: Pos, end: Pos) -> int:
        p = self.program
        entry = len(p.code)
        base = entry + len(pre)
        for name, a, b, c, imm in pre:
            p.code.append(isa.make(name, a, b, c, imm))
            p.lines.append(pos)
        for name, a, b, c, imm, where, fix in body.code:
            if fix is not None:
                kind, what = fix
                if kind == "label":
                    imm = base + what.pc
                elif kind == "slot":
                    b, imm = slot_base_reg, slot_base + what
                elif kind == "fn":
                    self._calls.append((len(p.code), what))
            p.code.append(isa.make(name, a, b, c, imm))
            p.lines.append(where)
        for name, a, b, c, imm in post:
            p.code.append(isa.make(name, a, b, c, imm))
            p.lines.append(end)
        return entry

    def finish(self) -> Program:
        call = isa.BY_NAME["call"].code
        for pc, fn in self._calls:
            ins = self.program.code[pc]
            assert ins.op == call
            self.program.code[pc] = ins._replace(imm=fn.entry)
        return self.program

