"""Lowering of calls: syscalls (with `try` and several results), builtins, functions, spawn.

A mixin of the Lowerer (lower.py): arguments are evaluated left to right into s-registers,
then moved to a0.. with every unused argument register zeroed; results come back in a0
(functions) or a1.. (syscalls, status in a0) and are copied out before the next call.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..vm import abi, isa
from . import ast, builtins
from .emit import K, R, Label, Opnd
from .symbols import Err, fold, plural

if TYPE_CHECKING:
    from .emit import Body, Var
    from .modules import Unit
    from .symbols import Tables

A0 = isa.A0


class Calls:
    # what the Lowerer (lower.py) provides, declared for the type checker
    body: Body
    prog: Any
    unit: Unit
    tables: dict[int, Tables]
    if TYPE_CHECKING:
        def operand(self, e, dest: int | None = None) -> Opnd: ...
        def reg(self, o: Opnd) -> int: ...
        def _dest(self, dest: int | None, m) -> int: ...
        def branch(self, e, target: Label, when: bool) -> None: ...
        def local(self, name: str) -> Var | None: ...
        def evaluate_all(self, items: list) -> list[Opnd]: ...

    def results(self, e, n: int) -> list[int]:
        """Lower a call bound to n names; the registers of its first n results."""
        call = e.call if isinstance(e, ast.Try) else e
        several = "only a syscall gives several results (`call`, `recv`, `try ...`)"
        if not isinstance(call, ast.Call):
            if isinstance(e, ast.Try):
                self.refuse_try(call)
            raise Err("E0304", f"{n} names are bound but this expression gives one value",
                      e.span, several, "one value")
        syscall = call.spawn or (call.callee.module is None
                                 and call.callee.name in builtins.SYSCALL_ARITY)
        if not syscall:
            if isinstance(e, ast.Try):
                self.refuse_try(call)
            raise Err("E0304", f"{n} names are bound but `{call.callee.text}` gives one value",
                      e.span, several, "one value")
        regs = self.lower_call(call, isinstance(e, ast.Try))
        if n > len(regs):
            name = "spawn" if call.spawn else call.callee.name
            what = f"`try {name}`" if isinstance(e, ast.Try) else f"`{name}`"
            raise Err("E0304", f"{n} names are bound but {what} gives {plural(len(regs), 'result')}",
                      e.span, _results_help(name, isinstance(e, ast.Try)), "too few results")
        return regs[:n]

    def refuse_try(self, e) -> None:
        """Raise the error of `try` put before something that is not a syscall."""
        help = (f"`{e.callee.text}` is not a syscall: it cannot fail" if isinstance(e, ast.Call)
                else "write `try` before a syscall such as `let err, r = try call(c, x)`")
        raise Err("E0306", "`try` applies only to syscalls", e.span, help, "not a syscall")

    def e_Try(self, e: ast.Try, dest) -> Opnd:
        return self._call_value(e.call, True, dest)

    def e_Call(self, e: ast.Call, dest) -> Opnd:
        return self._call_value(e, False, dest)

    def _call_value(self, call, try_: bool, dest) -> Opnd:
        b = self.body
        m = b.mark()
        if not isinstance(call, ast.Call):
            self.refuse_try(call)
        regs = self.lower_call(call, try_)
        if not regs:
            name = call.callee.text
            raise Err("E0305", f"`{name}` gives no value", call.span,
                      "use it as a statement, or with `try` to get its status"
                      if name in builtins.SYSCALL_ARITY else "use it as a statement",
                      "no value")
        if regs[0] >= isa.S0:           # already in a temporary (array, len)
            return R(regs[0])
        d = self._dest(dest, m)
        b.emit("mov", d, regs[0])
        return R(d)

    # -- calls -------------------------------------------------------------------------
    def lower_call(self, e: ast.Call, try_: bool) -> list[int]:
        """Emit a call; the registers holding its results (a-registers are valid only until
        the next call)."""
        name = e.callee
        if e.spawn:
            return self.spawn(e, try_)
        if name.module is None and name.name in builtins.SYSCALL_ARITY:
            return self.syscall(e, try_)
        if try_:
            self.refuse_try(e)
        if name.module is None and name.name in builtins.OTHER:
            return getattr(self, "b_" + name.name)(e)
        return self.user_call(e)

    def arity(self, e: ast.Call, lo: int, hi: int | None, what: str) -> None:
        n = len(e.args)
        if n < lo or hi is not None and n > hi:
            raise Err("E0301", f"{what} takes {builtins.describe_arity(lo, hi)} but "
                      f"{plural(n, 'argument')} {'was' if n == 1 else 'were'} given", e.span,
                      "", f"expected {builtins.describe_arity(lo, hi)}")

    def args(self, args) -> list[Opnd]:
        return self.evaluate_all(list(args))

    def pass_args(self, ops: list[Opnd], first: int, upto: int) -> None:
        """Move operands into a(first).., zero the rest up to a(upto-1)."""
        b = self.body
        for i, o in enumerate(ops):
            if o.slot is not None:
                b.emit("ld", A0 + first + i, 0, imm=0, fix=("slot", o.slot))
            elif o.const:
                b.load_int(A0 + first + i, o.value, self.prog.konst)
            else:
                b.emit("mov", A0 + first + i, o.value)
        for i in range(first + len(ops), upto):
            b.emit("li", A0 + i, imm=0)

    def syscall(self, e: ast.Call, try_: bool) -> list[int]:
        b = self.body
        name = e.callee.name
        sc = abi.SYS[name]
        lo, hi = builtins.SYSCALL_ARITY[name]
        if name in builtins.MESSAGE_AT and len(e.args) > hi:
            first = builtins.MESSAGE_AT[name]
            most = hi - first
            help = (f"a message carries at most {most} words; send more in several messages"
                    if most == abi.MSG_WORDS else
                    f"a long message carries {most} words beside its buffer; send more in the buffer")
            raise Err("E0403", f"too many message words: {len(e.args) - first} "
                      f"(at most {most})", e.args[first + most].span, help, "one word too many")
        self.arity(e, lo, hi, f"`{name}`")
        ops: list = []                   # operands and expressions still to evaluate
        for i, a in enumerate(e.args):
            if builtins.STRING_ARG.get(name) == i:
                if not isinstance(a, ast.Str):
                    raise Err("E0303", f"the channel name of `{name}` must be a string literal",
                              a.span, f"write for example `{name}(\"echo\"{', MANY' if name == 'channel' else ''})`",
                              "not a string literal")
                ops.append(K(self.prog.string(a.value)))
            elif builtins.CONST_ARG.get(name) == i:
                ops.append(K(self.const_arg(a, "the channel kind")))
            else:
                ops.append(a)
        ops = self.evaluate_all(ops)
        b.at(e.span)
        self.pass_args(ops, 0, sc.nargs)
        b.emit("sys", imm=sc.num | (abi.TRY if try_ else 0))
        regs = [A0 + 1 + i for i in range(sc.nres)]
        return [A0] + regs if try_ else regs

    def const_arg(self, a, what: str) -> int:
        if isinstance(a, ast.Name) and a.module is None and self.local(a.name) is not None:
            raise Err("E0405", f"{what} must be a constant expression", a.span,
                      "use ONE or MANY", "a variable")
        return fold(a, self.unit, self.tables, what)

    def spawn(self, e: ast.Call, try_: bool) -> list[int]:
        b = self.body
        task = self.prog.task(self.unit, e.callee)
        self.arity(e, task.nparams, task.nparams, f"the task `{e.callee.text}`")
        ops = self.args(e.args)
        b.at(e.span)
        b.emit("li", A0, imm=task.index)
        self.pass_args(ops, 1, abi.SYS["spawn"].nargs)
        b.emit("sys", imm=abi.SYS["spawn"].num | (abi.TRY if try_ else 0))
        return [A0, A0 + 1] if try_ else [A0 + 1]

    def user_call(self, e: ast.Call) -> list[int]:
        b = self.body
        fn = self.prog.function(self.unit, e.callee, self)
        self.arity(e, fn.nparams, fn.nparams, f"the function `{e.callee.text}`")
        ops = self.args(e.args)
        b.at(e.span)
        self.pass_args(ops, 0, 0)
        b.emit("call", fix=("fn", fn))
        return [A0]

    def b_print(self, e: ast.Call) -> list[int]:
        b = self.body
        # evaluate everything, then print: one line at once
        values = self.evaluate_all([a for a in e.args if not isinstance(a, ast.Str)])
        parts: list[int | Opnd] = []     # a string's index, or a value's operand
        for a in e.args:
            parts.append(self.prog.string(a.value) if isinstance(a, ast.Str) else values.pop(0))
        b.at(e.span)
        for v in parts:
            if isinstance(v, int):
                b.emit("li", A0, imm=v)
                b.emit("sys", imm=abi.SYS["puts"].num)
            else:
                self.pass_args([v], 0, 0)
                b.emit("sys", imm=abi.SYS["puti"].num)
        b.emit("sys", imm=abi.SYS["putnl"].num)
        return []

    def b_assert(self, e: ast.Call) -> list[int]:
        b = self.body
        self.arity(e, 1, 2, "`assert`")
        why = "assertion failed"
        if len(e.args) == 2:
            if not isinstance(e.args[1], ast.Str):
                raise Err("E0303", "the reason of `assert` must be a string literal",
                          e.args[1].span, "write for example `assert(n > 0, \"n is positive\")`",
                          "not a string literal")
            why += ": " + e.args[1].value
        ok = Label()
        self.branch(e.args[0], ok, True)
        b.at(e.span)
        b.emit("trap", imm=self.prog.string(why))
        b.place(ok)
        return []

    def b_array(self, e: ast.Call) -> list[int]:
        self.arity(e, 1, 1, "`array`")
        m = self.body.mark()
        n = self.reg(self.operand(e.args[0]))
        d = self._dest(None, m)
        self.body.at(e.span)
        self.body.emit("alloc", d, n)
        return [d]

    def b_len(self, e: ast.Call) -> list[int]:
        self.arity(e, 1, 1, "`len`")
        m = self.body.mark()
        a = self.reg(self.operand(e.args[0]))
        d = self._dest(None, m)
        self.body.at(e.span)
        self.body.emit("alen", d, a)
        return [d]


def _results_help(name: str, try_: bool) -> str:
    if name in ("call",):
        return "`call` gives the 4 words of the reply" + (", after the status" if try_ else "")
    if name == "recv":
        return "`recv` gives the handle, then the 4 words" + (", after the status" if try_ else "")
    return "bind fewer names" + ("" if try_ else ", or use `try` to get the status first")
