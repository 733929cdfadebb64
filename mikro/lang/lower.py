"""Lowering of one task or function body to VM code (docs/language.md, "Code").

One method per node kind (calls and builtins are in calls.py). Expressions give an Opnd:
a constant (folded here, with the integer rules of the VM) or a register. Locals and temporaries live in s-registers, which
survive calls; arguments and results travel in a0.. as docs/vm.md says.
"""
from __future__ import annotations

from ..vm import abi, isa
from . import ast, intrules
from .calls import Calls
from .spill import Spilling
from .emit import K, R, Body, Label, Opnd, TooComplex, Var
from .modules import Unit
from .symbols import Err, Tables, boolean_help, lookup_const, module_of

ZERO, A0 = isa.ZERO, isa.A0
ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "rem", "&": "and", "|": "or",
         "^": "xor", "<<": "shl", ">>": "shr", ">>>": "ushr"}
# comparison -> (op, swap operands)
COMPARE = {"==": ("eq", False), "!=": ("ne", False), "<": ("lt", False), "<=": ("le", False),
           ">": ("lt", True), ">=": ("le", True)}
# comparison -> (branch taken when true, swap), (branch taken when false, swap)
BRANCH = {"==": (("beq", False), ("bne", False)), "!=": (("bne", False), ("beq", False)),
          "<": (("blt", False), ("bge", False)), ">=": (("bge", False), ("blt", False)),
          ">": (("blt", True), ("bge", True)), "<=": (("bge", True), ("blt", True))}
STRING_HELP = "strings may only be passed to print, assert, channel and open"


class Lowerer(Calls, Spilling):
    def __init__(self, unit: Unit, tables: dict[int, Tables], file: int, kind: str,
                 program, errors: list) -> None:
        self.unit, self.tables, self.kind = unit, tables, kind
        self.prog = program            # gives konst(), string(), task_index
        self.errors = errors
        self.body = Body(file)
        self.scopes: list[dict[str, Var]] = []
        self.loops: list[tuple[Label, Label]] = []
        self.epilogue = Label()
        self.stmt_top = 0                # registers below this hold locals, not temporaries
        self.too_deep = None             # where Python's recursion limit was reached
        self._need: dict[int, int] = {}

    # -- bodies ------------------------------------------------------------------------
    def lower(self, node) -> Body:
        b = self.body
        b.at(node.span)
        self.scopes.append({})
        for i, p in enumerate(node.params[:max_params(self.kind)]):
            var = self.declare(p.name)
            self.store(var, R(A0 + i))
        self.block(node.body, new_scope=False)
        b.at(ast.Span(node.body.span.end_line, node.body.span.end_col - 1, 0, 0))
        b.emit("li", A0, imm=0)
        if self.kind == "task":
            b.emit("sys", imm=abi.SYS["exit"].num)
        self.scopes.pop()
        return b

    def block(self, block: ast.Block, new_scope: bool = True) -> None:
        m = self.body.mark()
        if new_scope:
            self.scopes.append({})
        for s in block.stmts:
            self.statement(s)
        if new_scope:
            self.scopes.pop()
        self.body.release(m)

    def statement(self, s) -> None:
        b = self.body
        m = b.mark()
        old = b.at(s.span)
        outer, self.stmt_top = self.stmt_top, b.top
        try:
            getattr(self, "s_" + type(s).__name__)(s)
            if not isinstance(s, ast.Let):    # a let's names stay live to the end of the block
                b.release(m)
        except RecursionError:
            self.too_deep = self.too_deep or s.span
            raise
        except (Err, TooComplex) as e:
            if isinstance(e, TooComplex):
                e = Err("E0402", "this expression is too complex", s.span,
                        "store parts of it in variables first", "needs too many registers")
            self.errors.append(e)
            b.release(m)
            if isinstance(s, ast.Let):        # bind the names anyway: no errors about them later
                for name, _ in s.names:
                    self.declare(name)
        finally:
            b.pos = old
            self.stmt_top = outer

    # -- names -------------------------------------------------------------------------
    def declare(self, name: str) -> Var:
        var = self.body.local()
        if name != "_":
            self.scopes[-1][name] = var
        return var

    def local(self, name: str) -> Var | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def store(self, var: Var, o: Opnd) -> None:
        b = self.body
        if var.reg is not None:
            if o.const:
                b.load_int(var.reg, o.value, self.prog.konst)
            elif o.value != var.reg:
                b.emit("mov", var.reg, o.value)
        else:
            b.emit("st", self.reg(o), 0, imm=0, fix=("slot", var.slot))

    # -- statements --------------------------------------------------------------------
    def s_Let(self, s: ast.Let) -> None:
        b = self.body
        m = b.mark()
        seen: set[str] = set()
        for name, span in s.names:
            if name in seen and name != "_":
                raise Err("E0205", f"the name `{name}` is bound twice in one `let`", span,
                          "", "bound again here")
            seen.add(name)
        if len(s.names) == 1:
            o = self.operand(s.value)
            b.release(m)
            var = self.declare(s.names[0][0])
            keep = b.mark()
            self.store(var, o)
            b.release(keep)
        else:
            regs = self.results(s.value, len(s.names))
            b.release(m)
            for (name, _), r in zip(s.names, regs):
                self.store(self.declare(name), R(r))

    def s_Assign(self, s: ast.Assign) -> None:
        b = self.body
        t = s.target
        if isinstance(t, ast.Name):
            var = self.local(t.name)
            if var is None:
                if lookup_const(self.unit, self.tables, t) is not None:
                    raise Err("E0208", f"cannot assign to the constant `{t.name}`", t.span,
                              "declare a variable with `let`", "a constant")
                raise Err("E0201", f"cannot find variable `{t.name}` in this scope", t.span,
                          f"declare it first: `let {t.name} = ...`", "not declared")
            value = s.value if s.op is None else ast.Binary(s.op, t, s.value, s.span, s.span)
            o = self.operand(value, dest=var.reg)
            self.store(var, o)
            return
        # a[i] = v, a[i] op= v: a and i first, then v
        assert isinstance(t, ast.Index)          # the parser allows no other target
        if s.op is None:
            held_arr, held_idx, held_v = self.evaluate_all([t.array, t.index, s.value])
            arr, idx = self.reg(self.unhold(held_arr)), self.reg(self.unhold(held_idx))
            v = self.reg(held_v)
        else:
            held_arr, held_idx = self.evaluate_all([t.array, t.index])
            arr, idx = self.reg(self.unhold(held_arr)), self.reg(held_idx)
            cur = b.temp()
            b.at(t.span)
            b.emit("ald", cur, arr, idx)
            v = self.reg(self.arith(s.op, R(cur), self.operand(s.value), s.span))
        b.at(s.span)
        b.emit("ast", v, arr, idx)

    def s_If(self, s: ast.If) -> None:
        b = self.body
        other, end = Label(), Label()
        self.branch(s.cond, other, False)
        self.block(s.then)
        if s.orelse is not None:
            b.at(s.then.span)
            b.jump("jmp", end)
        b.place(other)
        if isinstance(s.orelse, ast.If):
            self.statement(s.orelse)
        elif s.orelse is not None:
            self.block(s.orelse)
        b.place(end)

    def s_While(self, s: ast.While) -> None:
        b = self.body
        head, done = Label(), Label()
        b.place(head)
        if s.cond is not None:
            self.branch(s.cond, done, False)
        self.loops.append((head, done))
        self.block(s.body)
        self.loops.pop()
        b.at(s.span)
        b.jump("jmp", head)              # the back-edge, where fuel is counted
        b.place(done)

    def s_Jump(self, s: ast.Jump) -> None:
        if not self.loops:
            raise Err("E0307", f"`{s.kind}` outside of a loop", s.span,
                      "`break` and `continue` may only be used inside `while` or `loop`",
                      "not in a loop")
        head, done = self.loops[-1]
        self.body.jump("jmp", head if s.kind == "continue" else done)

    def s_Return(self, s: ast.Return) -> None:
        b = self.body
        o = self.operand(s.value) if s.value is not None else K(0)
        b.at(s.span)
        if o.const:
            b.load_int(A0, o.value, self.prog.konst)
        else:
            b.emit("mov", A0, o.value)
        if self.kind == "task":
            b.emit("sys", imm=abi.SYS["exit"].num)
        else:
            b.jump("jmp", self.epilogue)

    def s_ExprStmt(self, s: ast.ExprStmt) -> None:
        e = s.expr
        if isinstance(e, ast.Call):               # its value, if any, is not needed
            self.body.at(e.span)
            self.lower_call(e, False)
        else:
            self.operand(e)

    # -- conditions --------------------------------------------------------------------
    def branch(self, e, target: Label, when: bool) -> None:
        """Jump to target when e is true (when=True) or false (when=False)."""
        b = self.body
        if isinstance(e, ast.Unary) and e.op == "!":
            return self.branch(e.operand, target, not when)
        if isinstance(e, ast.Binary) and e.op in ("&&", "||"):
            if (e.op == "&&") != when:         # && false, || true: either side decides
                self.branch(e.left, target, when)
                self.branch(e.right, target, when)
            else:
                skip = Label()
                self.branch(e.left, skip, not when)
                self.branch(e.right, target, when)
                b.place(skip)
            return
        m = b.mark()
        if isinstance(e, ast.Binary) and e.op in BRANCH:
            left, right = self.evaluate_all([e.left, e.right])
            left = self.unhold(left)
            if left.const and right.const:
                if bool(intrules.binary(e.op, left.value, right.value)) == when:
                    b.jump("jmp", target)
                return
            name, swap = BRANCH[e.op][0 if when else 1]
            x, y = self.reg(left), self.reg(right)
            if swap:
                x, y = y, x
            old = b.at(e.span)
            b.jump(name, target, x, y)
            b.pos = old
            b.release(m)
            return
        o = self.operand(e)
        if o.const:
            if bool(o.value) == when:
                b.jump("jmp", target)
            return
        old = b.at(e.span)
        b.jump("bnz" if when else "bz", target, o.value)
        b.pos = old
        b.release(m)

    # -- expressions -------------------------------------------------------------------
    def reg(self, o: Opnd) -> int:
        """The operand in a register (a constant goes into a new temporary)."""
        if o.slot is not None:
            o = self.unhold(o)
        if not o.const:
            return o.value
        if o.value == 0:
            return ZERO
        r = self.body.temp()
        self.body.load_int(r, o.value, self.prog.konst)
        return r

    def _dest(self, dest: int | None, m) -> int:
        self.body.release(m)
        return dest if dest is not None else self.body.temp()

    def operand(self, e, dest: int | None = None) -> Opnd:
        """Lower e; dest, if given, may receive the result (the caller checks)."""
        b = self.body
        old = b.at(e.span) if not isinstance(e, (ast.Int, ast.Name)) else b.pos
        try:
            return getattr(self, "e_" + type(e).__name__)(e, dest)
        except RecursionError:
            self.too_deep = self.too_deep or e.span     # the innermost: where it got too deep
            raise
        finally:
            b.pos = old

    def e_Int(self, e: ast.Int, dest) -> Opnd:
        return K(e.value)

    def e_Str(self, e: ast.Str, dest) -> Opnd:
        raise Err("E0302", "expected an integer, found a string", e.span, STRING_HELP, "a string")

    def e_Name(self, e: ast.Name, dest) -> Opnd:
        if e.module is None:
            var = self.local(e.name)
            if var is not None:
                if var.reg is not None:
                    return R(var.reg)
                r = self.body.temp() if dest is None else dest
                self.body.emit("ld", r, 0, imm=0, fix=("slot", var.slot))
                return R(r)
        v = lookup_const(self.unit, self.tables, e)
        if v is not None:
            return K(v)
        t = module_of(self.unit, self.tables, e)
        if e.name in t.fns:
            raise Err("E0211", f"`{e.text}` is a function, not a value", e.span,
                      f"call it: `{e.text}(...)`", "a function")
        where = f" in module `{e.module}`" if e.module else " in this scope"
        help = "" if e.module else boolean_help(e.name) or f"declare it first: `let {e.name} = ...`"
        raise Err("E0201", f"cannot find `{e.text}`{where}", e.span, help, "not found")

    def e_Unary(self, e: ast.Unary, dest) -> Opnd:
        b = self.body
        m = b.mark()
        o = self.operand(e.operand)
        if o.const:
            return K(intrules.unary(e.op, o.value))
        if e.op == "~":
            ones = b.temp()
            b.emit("li", ones, imm=-1)
            d = self._dest(dest, m)
            b.emit("xor", d, o.value, ones)
            return R(d)
        d = self._dest(dest, m)
        if e.op == "-":
            b.emit("sub", d, ZERO, o.value)
        else:
            b.emit("eq", d, o.value, ZERO)
        return R(d)

    def e_Binary(self, e: ast.Binary, dest) -> Opnd:
        if e.op in ("&&", "||"):
            return self.logical(e)
        b = self.body
        m = b.mark()
        left, right = self.evaluate_all([e.left, e.right])
        return self.arith(e.op, self.unhold(left), right, e.span, dest, m)

    def arith(self, op: str, left: Opnd, right: Opnd, span, dest=None, m=None) -> Opnd:
        b = self.body
        if m is None:
            m = b.mark()
        if left.const and right.const:
            try:
                return K(intrules.binary(op, left.value, right.value))
            except intrules.DivisionByZero:
                pass                       # faults at run time, as it would unfolded
        old = b.at(span)
        try:
            if op in ("+", "-") and right.const:
                k = right.value if op == "+" else -right.value
                if isa.IMM_MIN <= k <= isa.IMM_MAX:
                    d = self._dest(dest, m)
                    b.emit("addi", d, left.value, imm=k)
                    return R(d)
            if op == "+" and left.const and isa.IMM_MIN <= left.value <= isa.IMM_MAX:
                d = self._dest(dest, m)
                b.emit("addi", d, right.value, imm=left.value)
                return R(d)
            x, y = self.reg(left), self.reg(right)
            if op in COMPARE:
                name, swap = COMPARE[op]
                if swap:
                    x, y = y, x
            else:
                name = ARITH[op]
            d = self._dest(dest, m)
            b.emit(name, d, x, y)
            return R(d)
        finally:
            b.pos = old

    def static(self, e) -> int | None:
        """The value of e when it is known at compile time (locals are not)."""
        if isinstance(e, ast.Int):
            return e.value
        if isinstance(e, ast.Name):
            if e.module is None and self.local(e.name) is not None:
                return None
            return lookup_const(self.unit, self.tables, e) if e.module is None or \
                e.module in self.unit.imports else None
        if isinstance(e, ast.Unary):
            v = self.static(e.operand)
            return None if v is None else intrules.unary(e.op, v)
        if isinstance(e, ast.Binary):
            a = self.static(e.left)
            if a is None:
                return None
            if e.op in ("&&", "||") and bool(a) == (e.op == "||"):
                return int(bool(a))
            c = self.static(e.right)
            if c is None:
                return None
            try:
                return intrules.binary(e.op, a, c)
            except intrules.DivisionByZero:
                return None
        return None

    def logical(self, e: ast.Binary) -> Opnd:
        v = self.static(e)
        if v is not None:
            return K(v)
        b = self.body
        m = b.mark()
        d = b.temp()
        end = Label()
        b.emit("li", d, imm=int(e.op == "||"))
        self.branch(e.left, end, e.op == "||")
        self.branch(e.right, end, e.op == "||")
        b.emit("li", d, imm=int(e.op == "&&"))
        b.place(end)
        b.release(m)
        return R(b.temp())

    def e_Index(self, e: ast.Index, dest) -> Opnd:
        b = self.body
        m = b.mark()
        held_arr, held_idx = self.evaluate_all([e.array, e.index])
        arr = self.reg(self.unhold(held_arr))
        idx = self.reg(held_idx)
        d = self._dest(dest, m)
        b.emit("ald", d, arr, idx)
        return R(d)

def max_params(kind: str) -> int:
    return abi.MAX_TASK_PARAMS if kind == "task" else abi.MAX_FN_PARAMS
