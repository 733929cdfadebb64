"""The native interpreter: `mk_run` as a loop over VM code held in native memory.

Its machine code is the same for every program: the program's code, constants, strings
and resume keys are read from Kernel.prog at run time, so it is compiled once per machine
(and cached) and a program starts to run with nothing of its own to compile. It is the
first tier of the x86 backend (engine.TIERS): a run that lasts moves on to compiled code
(run.tier_up_after), which shares the kernel, the tables and the meaning of every resume
index.

It does what lower.py's code does, instruction for instruction, with the VM registers kept
in the task structure instead of SSA values: the same checks with the same fault operands,
fuel paid at the same points, a task suspended at the same resume keys. Where the compiled
code runs a woken receiver at once (lower._handoff), the interpreter queues it and picks,
which the compiled code's comment shows to be the same schedule.
"""
from __future__ import annotations

from llvmlite import ir

from ...vm import abi, isa
from . import layout as L
from .irb import (B, I8, I8P, I32, I64, alloc_too_big, below_heap, c64, compare, divrem,
                  shift)
from .segir import array_element, array_length
from .kernel_ir import (ACT_BLOCK, ACT_END, ACT_ERR, ACT_HANDOFF, ACT_YIELD, HANDOFF_OUT,
                        KernelIR, handoff_words)
from .lower import RUN_BADKEY, RUN_BUDGET, RUN_HOST, RUN_IDLE, RUN_PAUSE

OP = {op.name: op.code for op in isa.OPCODES}


class Loop:
    def __init__(self, module: ir.Module, lay: L.Layout, kir: KernelIR):
        self.m, self.lay, self.k = module, lay, kir

    def build(self) -> ir.Function:
        fn = ir.Function(self.m, ir.FunctionType(I64, [self.lay.ptr("Kernel")]), "mk_run")
        fn.attributes.add("nounwind")
        b = self.b = B(fn, self.lay)
        (K,) = fn.args
        self.K = K
        T = self.lay.ptr("Task")
        self.tv = b.var(None, T, name="t")
        self.pcv = b.var(0, name="pc")
        self.slicev = b.var(0, name="slice")
        self.fuelv = b.var(b.get(K, "fuel"), name="fuel")
        prog = b.get(K, "prog")
        self.code, self.n = b.get(prog, "code"), b.get(prog, "ncode")
        self.consts, self.keys = b.get(prog, "consts"), b.get(prog, "keys")
        self.nkeys, self.key_of = b.get(prog, "nkeys"), b.get(prog, "key_of")
        self.retsite = b.get(prog, "retsite")
        self.mw = b.get(K, "mem_words")
        self.sched, resume, self.loop = b.block("sched"), b.block("resume"), b.block("loop")
        self.out = b.var(None, ir.ArrayType(I64, KernelIR.NOUT), name="out")

        b.put(K, "rq_stop", b.add(b.get(K, "rq_head"), b.get(K, "budget")))
        cur = b.get(K, "cur")
        b.put(K, "cur", b.null(T))
        b.store(cur, self.tv)
        b.cbranch(b.isnull(cur), self.sched, resume)

        b.position_at_end(self.sched)
        idle, nonempty, spent, pick = (b.block(x) for x in ("idle", "nonempty", "spent", "pick"))
        count = b.get(K, "rq_head")
        b.cbranch(b.cmp("==", count, b.get(K, "rq_tail")), idle, nonempty)
        b.position_at_end(nonempty)
        b.cbranch(b.cmp("==", count, b.get(K, "rq_stop")), spent, pick)
        b.position_at_end(spent)
        self._leave(RUN_BUDGET)
        b.position_at_end(idle)
        # no task is ready: time moves on to the next deadline, if any (Kernel.tick)
        self._clock()
        left = b.block("idle.left")
        b.cbranch(b.cmp("!=", b.call(self.k.f["tick"], [K]), 0), self.sched, left)
        b.position_at_end(left)
        self._leave(RUN_IDLE)
        b.position_at_end(pick)
        self._clock()                   # the time of a timeout event (expire)
        b.store(b.call(self.k.f["rq_pick"], [K]), self.tv)
        b.branch(resume)

        # a task resumes at its key: a pc, or n + pc just after the blocking `sys` at pc
        b.position_at_end(resume)
        t = b.load(self.tv)
        b.store(b.get(t, "slice"), self.slicev)
        idx = b.get(t, "resume")
        jump, other, host, badkey = (b.block(x) for x in ("jump", "other", "host", "badkey"))
        b.cbranch(b.cmp("<", idx, self.nkeys, signed=False), jump, other)
        b.position_at_end(other)
        b.cbranch(b.cmp("==", idx, self.nkeys), host, badkey)
        b.position_at_end(host)
        b.put(K, "cur", t)
        self._leave(RUN_HOST)
        b.position_at_end(badkey)
        self._leave(RUN_BADKEY)
        b.position_at_end(jump)
        key = b.load(b.gep(self.keys, [idx]))
        at, after = b.block("resume.at"), b.block("resume.after")
        b.cbranch(b.cmp("<", key, self.n, signed=False), at, after)
        b.position_at_end(at)
        b.store(key, self.pcv)
        b.branch(self.loop)
        b.position_at_end(after)
        b.store(b.sub(key, self.n), self.pcv)
        post = b.block("post_sys")
        b.branch(post)

        # the loop: decode the instruction at pc and run it
        b.position_at_end(self.loop)
        pc = self.pc = b.load(self.pcv)
        end, decode = b.block("end"), b.block("decode")
        b.cbranch(b.cmp("<", pc, self.n, signed=False), decode, end)
        b.position_at_end(end)
        self._fault(L.F_BADRET)          # fell off the end of the code
        b.position_at_end(decode)
        word = b.load(b.gep(self.code, [pc]))
        field = (lambda shift: b.and_(b.lshr(word, c64(shift)), c64(0xFF)))
        self.ra, self.rb, self.rc = field(8), field(16), field(24)
        self.imm = b.ashr(word, c64(32))
        sw = b.switch(b.and_(word, c64(0xFF)), badkey)
        for op in isa.OPCODES:
            blk = b.block(op.name)
            sw.add_case(c64(op.code), blk)
            b.position_at_end(blk)
            getattr(self, "_op_" + op.name)(op)

        b.position_at_end(post)
        self._post_sys()
        return fn

    # -- helpers ----------------------------------------------------------------------------
    def t(self):
        return self.b.load(self.tv)

    def R(self, r):
        if isinstance(r, int):
            r = c64(r)
        return self.b.load(self.b.gep(self.b.fp(self.t(), "regs"), [c64(0), r]))

    def W(self, r, v):
        if isinstance(r, int):
            r = c64(r)
        self.b.store(v, self.b.gep(self.b.fp(self.t(), "regs"), [c64(0), r]))

    def goto(self, pc):
        self.b.store(pc, self.pcv)
        self.b.branch(self.loop)

    def next(self):
        self.goto(self.b.add(self.pc, c64(1)))

    def _leave(self, code: int):
        b = self.b
        b.put(self.K, "fuel", b.load(self.fuelv))
        b.put(self.K, "budget", b.sub(b.get(self.K, "rq_stop"), b.get(self.K, "rq_head")))
        b.ret(c64(code))

    def _clock(self):
        if self.k.traced:
            self.b.put(self.K, "fuel", self.b.load(self.fuelv))

    def _fault(self, code, a=c64(0), bb=c64(0), c=c64(0)):
        b = self.b
        self._clock()
        b.call(self.k.f["task_fault"], [self.K, self.t(), c64(code), a, bb, c, self.pc,
                                        self.R(isa.FP)])
        b.branch(self.sched)

    def _check(self, cond, code, *ops):
        b = self.b
        bad, ok = b.block("fault"), b.block("ok")
        b.cbranch(cond, bad, ok).set_weights([1, 2000])
        b.position_at_end(bad)
        self._fault(code, *ops)
        b.position_at_end(ok)

    def _suspend(self, key, pause: bool = False):
        """Save the task to resume at `key` (registers are in its structure already)."""
        b = self.b
        t = self.t()
        b.put(t, "resume", b.load(b.gep(self.key_of, [key])))
        b.put(t, "slice", b.load(self.slicev))
        if pause:
            b.put(self.K, "cur", t)
            b.put(self.K, "fuel", c64(0))
            b.ret(c64(RUN_PAUSE))
        else:
            b.branch(self.sched)

    def _pay(self):
        """The fuel left after a unit at pc; with none left the run pauses at pc."""
        b = self.b
        res = b.usub_with_overflow(b.load(self.fuelv), c64(1))
        stop, go = b.block("stop"), b.block("go")
        b.cbranch(b.extract_value(res, 1), stop, go).set_weights([1, 2000])
        b.position_at_end(stop)
        self._suspend(self.pc, pause=True)
        b.position_at_end(go)
        return b.extract_value(res, 0)

    def _slice(self, dest, resume):
        """Take a unit of the slice; at its end the task is queued again, to resume at
        `resume` (a key), else it goes on at dest."""
        b = self.b
        s = b.sub(b.load(self.slicev), c64(1))
        pre, cont = b.block("preempt"), b.block("cont")
        b.cbranch(b.cmp("==", s, 0), pre, cont).set_weights([1, 2000])
        b.position_at_end(pre)
        b.store(c64(abi.QUANTUM), self.slicev)
        b.call(self.k.f["rq_push"], [self.K, self.t()])
        self._suspend(resume)
        b.position_at_end(cont)
        b.store(s, self.slicev)
        self.goto(dest)

    def _jump(self, dest, before=None):
        """From pc to dest, paying fuel on a back-edge or call (docs/vm.md)."""
        b = self.b
        back, fwd = b.block("back"), b.block("fwd")
        paid = ir.Constant(ir.IntType(1), 1) if before else b.cmp("<=", dest, self.pc)
        b.cbranch(paid, back, fwd)
        b.position_at_end(fwd)
        self.goto(dest)
        b.position_at_end(back)
        left = self._pay()
        if before:
            before()
        b.store(left, self.fuelv)
        self._slice(dest, dest)

    def _addr(self, addr, code, *ops):
        self._check(self.b.cmp(">=", addr, self.mw, signed=False), code, *ops)
        return self.b.gep(self.b.get(self.t(), "mem"), [addr])

    # -- one method per opcode (ORDER OP) -------------------------------------------------------
    def _op_nop(self, op):
        self.next()

    def _op_li(self, op):
        self.W(self.ra, self.imm)
        self.next()

    def _op_lk(self, op):
        self.W(self.ra, self.b.load(self.b.gep(self.consts, [self.imm])))
        self.next()

    def _op_mov(self, op):
        self.W(self.ra, self.R(self.rb))
        self.next()

    def _bin(self, f):
        self.W(self.ra, f(self.R(self.rb), self.R(self.rc)))
        self.next()

    def _op_add(self, op):
        self._bin(self.b.add)

    def _op_sub(self, op):
        self._bin(self.b.sub)

    def _op_mul(self, op):
        self._bin(self.b.mul)

    def _divrem(self, is_div):
        b = self.b
        x, y = self.R(self.rb), self.R(self.rc)
        self._check(b.cmp("==", y, 0), L.F_DIV0)
        self.W(self.ra, divrem(b, x, y, is_div))
        self.next()

    def _op_div(self, op):
        self._divrem(True)

    def _op_rem(self, op):
        self._divrem(False)

    def _op_and(self, op):
        self._bin(self.b.and_)

    def _op_or(self, op):
        self._bin(self.b.or_)

    def _op_xor(self, op):
        self._bin(self.b.xor)

    def _shift(self, f):
        self._bin(lambda x, y: shift(self.b, f, x, y))

    def _op_shl(self, op):
        self._shift(self.b.shl)

    def _op_shr(self, op):
        self._shift(self.b.ashr)

    def _op_ushr(self, op):
        self._shift(self.b.lshr)

    def _cmp(self, rel):
        self._bin(lambda x, y: compare(self.b, rel, x, y))

    def _op_eq(self, op):
        self._cmp("==")

    def _op_ne(self, op):
        self._cmp("!=")

    def _op_lt(self, op):
        self._cmp("<")

    def _op_le(self, op):
        self._cmp("<=")

    def _op_addi(self, op):
        self.W(self.ra, self.b.add(self.R(self.rb), self.imm))
        self.next()

    def _op_ld(self, op):
        base = self.R(self.rb)
        p = self._addr(self.b.add(base, self.imm), L.F_MEM, base, self.imm)
        self.W(self.ra, self.b.load(p))
        self.next()

    def _op_st(self, op):
        base = self.R(self.rb)
        p = self._addr(self.b.add(base, self.imm), L.F_MEM, base, self.imm)
        self.b.store(self.R(self.ra), p)
        self.next()

    def _op_alloc(self, op):
        b = self.b
        n = self.R(self.rb)
        self._check(b.cmp("<", n, 0), L.F_NEGSIZE, n)
        ht = b.get(self.t(), "heap_top")
        self._check(alloc_too_big(b, ht, n, self.R(isa.SP), self.mw), L.F_OOM)
        mem = b.get(self.t(), "mem")
        b.store(n, b.gep(mem, [ht]))
        body = b.bitcast(b.gep(mem, [b.add(ht, c64(1))]), I8P)
        b.call(self.k.memset, [body, ir.Constant(I32, 0), b.mul(n, c64(8))])
        self.W(self.ra, b.add(ht, c64(1)))
        b.put(self.t(), "heap_top", b.add(b.add(ht, c64(1)), n))
        self.next()

    def _array(self, store=False):
        b = self.b
        return array_element(b, self.t(), b.get(self.t(), "mem"), self.mw, self.R(self.rb),
                             self.R(self.rc), store, self._check, b.load)

    def _op_ald(self, op):
        self.W(self.ra, self.b.load(self._array()))
        self.next()

    def _op_ast(self, op):
        self.b.store(self.R(self.ra), self._array(store=True))
        self.next()

    def _op_alen(self, op):
        b = self.b
        self.W(self.ra, array_length(b, self.t(), b.get(self.t(), "mem"), self.mw,
                                     self.R(self.rb), self._check, b.load))
        self.next()

    def _op_jmp(self, op):
        self._jump(self.imm)

    def _branch(self, cond):
        b = self.b
        taken, not_taken = b.block("taken"), b.block("not_taken")
        b.cbranch(cond, taken, not_taken)
        b.position_at_end(not_taken)
        self.next()
        b.position_at_end(taken)
        self._jump(self.imm)

    def _op_bz(self, op):
        self._branch(self.b.cmp("==", self.R(self.ra), 0))

    def _op_bnz(self, op):
        self._branch(self.b.cmp("!=", self.R(self.ra), 0))

    def _op_beq(self, op):
        self._branch(self.b.cmp("==", self.R(self.ra), self.R(self.rb)))

    def _op_bne(self, op):
        self._branch(self.b.cmp("!=", self.R(self.ra), self.R(self.rb)))

    def _op_blt(self, op):
        self._branch(self.b.cmp("<", self.R(self.ra), self.R(self.rb)))

    def _op_bge(self, op):
        self._branch(self.b.cmp(">=", self.R(self.ra), self.R(self.rb)))

    def _op_call(self, op):
        self._jump(self.imm, before=lambda: self.W(isa.LR, self.b.add(self.pc, c64(1))))

    def _op_ret(self, op):
        """A return address must be a return site (a bad one faults without paying)."""
        b = self.b
        lr = self.R(isa.LR)
        site = b.block("site")
        ok = b.block("retok")
        self._check(b.cmp(">=", lr, self.n, signed=False), L.F_BADRET)
        b.cbranch(b.icmp_unsigned("==", b.load(b.gep(self.retsite, [lr])), ir.Constant(I8, 0)),
                  site, ok)
        b.position_at_end(site)
        self._fault(L.F_BADRET)
        b.position_at_end(ok)
        b.store(self._pay(), self.fuelv)
        self._slice(lr, lr)

    def _op_enter(self, op):
        b = self.b
        sp = self.R(isa.SP)
        ht = b.get(self.t(), "heap_top")
        self._check(below_heap(b, sp, self.imm, ht), L.F_STACK)
        self.W(isa.SP, b.sub(sp, self.imm))
        self.next()

    def _op_leave(self, op):
        self.W(isa.SP, self.b.add(self.R(isa.SP), self.imm))
        self.next()

    def _op_trap(self, op):
        self._fault(L.F_TRAP, self.imm)

    def _op_sys(self, op):
        """One block per syscall, each the way lower._lower_sys does it for its syscall."""
        b = self.b
        bad = b.block("sys.bad")
        sw = b.switch(b.and_(self.imm, c64(abi.SYS_MASK)), bad)
        for sc in abi.SYSCALLS:
            blk = b.block(f"sys.{sc.name}")
            sw.add_case(c64(sc.num), blk)
            b.position_at_end(blk)
            self._sys(sc)
        b.position_at_end(bad)
        self._leave(RUN_BADKEY)

    def _sys(self, sc):
        b, k = self.b, self.K
        if sc.name in abi.FUEL_SYSCALLS:
            b.store(self._pay(), self.fuelv)
        args = [self.R(isa.A0 + j) for j in range(sc.nargs)]
        h = self.R(isa.A0)
        out = b.gep(self.out, [c64(0), c64(0)])
        self._clock()
        act = b.call(self.k.f["sys_" + sc.name], [k, self.t(), out] + args)
        res = (lambda j: b.load(b.gep(self.out, [c64(0), c64(j)])))
        after = b.add(self.pc, self.n)
        done, err = b.block("done"), b.block("err")
        sw = b.switch(act, done)
        sw.add_case(c64(ACT_ERR), err)
        if sc.blocks:
            blk = b.block("block")
            sw.add_case(c64(ACT_BLOCK), blk)
            b.position_at_end(blk)
            self._suspend(after)
        words = handoff_words(sc.name, args)
        if words is not None:
            ho = b.block("handoff")
            sw.add_case(c64(ACT_HANDOFF), ho)
            b.position_at_end(ho)
            w = b.inttoptr(res(HANDOFF_OUT), self.lay.ptr("Task"))
            self.k.give(b, w, res(1), words)
            b.call(self.k.f["rq_push"], [k, w])
            self._suspend(after)
        if sc.name == "exit":
            sw.add_case(c64(ACT_END), self.sched)
        if sc.name == "yield":
            y = b.block("yield")
            sw.add_case(c64(ACT_YIELD), y)
            b.position_at_end(y)
            self.W(isa.A0, c64(0))
            self._suspend(after)
        b.position_at_end(done)
        self.W(isa.A0, c64(0))
        for j in range(1, sc.nres + 1):
            self.W(isa.A0 + j, res(j))
        self.next()
        b.position_at_end(err)
        for j in range(sc.nres + 1):
            self.W(isa.A0 + j, res(j))
        self._status(c64(sc.num), h)

    def _status(self, num, h):
        """Without TRY a failed syscall faults the task; else go on at pc + 1."""
        b = self.b
        st = self.R(isa.A0)
        failed = b.and_(b.cmp("!=", st, 0), b.cmp("==", b.and_(self.imm, c64(abi.TRY)), 0))
        self._check(failed, L.F_SYS, num, h, st)
        self.next()

    def _post_sys(self):
        """Resumed after a blocking syscall: whoever woke the task wrote its status."""
        b = self.b
        self.pc = b.load(self.pcv)
        self.imm = b.ashr(b.load(b.gep(self.code, [self.pc])), c64(32))
        self._status(b.and_(self.imm, c64(abi.SYS_MASK)), b.get(self.t(), "wait_handle"))
