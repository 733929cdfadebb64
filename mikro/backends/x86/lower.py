"""VM code -> LLVM IR: the whole program and the scheduler loop in one function, `mk_run`.

VM registers are allocas (SSA after mem2reg) of the running task; they are written to its
task structure only when it blocks, yields, is preempted or the run pauses. A task resumes
through a table of block addresses, one per resume key (resume_keys): a pc (task entry,
fuel point or its destination) or `len(code) + pc` for the point just after the blocking
`sys` at pc, where its status is checked; the task keeps the index of its key
(Task.resume). A call that ends a receiver's wait runs the receiver at once, its results
in registers, when the scheduler would pick it next (_handoff). `mk_run(kernel)` returns
RUN_IDLE when no task is ready, RUN_PAUSE when the fuel given for this call is used up
(the task stays at its fuel point), RUN_BUDGET after `kernel.budget` task switches (so
Python can check the clock even when no fuel is used),
RUN_HOST when it picks a host task (its resume index is one past the program's keys,
len(resume_keys(program)): Python answers its messages; kernel.cur is that task),
RUN_BADKEY on an internal error. A traced build writes the fuel left to kernel.fuel before
each syscall and fault, the trace's clock. Faults, pauses and preemptions are marked
unlikely, so LLVM keeps them off the straight path.
"""
from __future__ import annotations

from llvmlite import ir

from ...vm import abi, isa
from . import layout as L
from .irb import (B, I8P, I64, I32, alloc_too_big, below_heap, c64, compare, divrem,
                  shift)
from .segir import array_element, array_length
from .kernel_ir import (ACT_BLOCK, ACT_END, ACT_ERR, ACT_HANDOFF, ACT_YIELD, HANDOFF_OUT,
                        CALL_SYSCALLS, HANDOFF_TO, SPLITMIX_GAMMA, KernelIR,
                        handoff_words)

RUN_IDLE, RUN_PAUSE, RUN_BUDGET, RUN_BADKEY, RUN_HOST = 0, 1, 2, 3, 4


def fuel_points(program) -> list[tuple[int, int]]:
    """(pc, destination) of every instruction with a fixed destination that may cost fuel
    (docs/vm.md); `ret`, whose destination is lr, is lowered on its own."""
    out = []
    for pc, ins in enumerate(program.code):
        op = ins.info
        if op.name == "call" or (op.is_branch and ins.imm <= pc):
            out.append((pc, ins.imm))
    return out


def resume_keys(program) -> list[int]:
    """The points a task may resume at, sorted, as keys: a pc (task entry, fuel point or
    its destination, ret and return site) or len(code) + pc for the point after the `sys`
    at pc. A suspended task keeps the index of its key in this list (Task.resume)."""
    n = len(program.code)
    keys = {t.entry for t in program.tasks}
    for pc, dest in fuel_points(program):
        keys.add(pc)
        keys.add(dest)
    keys.update(n + pc for pc, ins in enumerate(program.code) if ins.info.name == "sys")
    # a `sys spawn` (or restart) is a fuel point too (docs/vm.md): with no fuel left the
    # task stays there
    keys.update(pc for pc, ins in enumerate(program.code) if ins.info.name == "sys"
                and abi.SYSCALLS[ins.imm & abi.SYS_MASK].name in abi.FUEL_SYSCALLS)
    sites = [s for s in program.return_sites() if s < n]
    rets = [pc for pc, ins in enumerate(program.code) if ins.info.name == "ret"]
    if rets and sites:
        keys.update(rets)
        keys.update(sites)
    return sorted(k for k in keys if 0 <= k < 2 * n)


def _succ(program, pc: int, sites: list[int]) -> list[int]:
    ins = program.code[pc]
    op = ins.info
    if op.name == "jmp" or op.name == "call":
        return [ins.imm]
    if op.is_branch:
        return [pc + 1, ins.imm]
    if op.name == "ret":
        return sites
    if op.name == "trap" or (op.name == "sys" and abi.SYSCALLS[ins.imm & abi.SYS_MASK].name == "exit"):
        return []
    return [pc + 1]


def _use_def(ins) -> tuple[int, int]:
    op = ins.info
    use = dfn = 0
    for f in "abc":
        kind = getattr(op, f)
        r = getattr(ins, f)
        if kind == "r":
            use |= 1 << r
        elif kind == "w":
            dfn |= 1 << r
    if op.name == "sys":
        sc = abi.SYSCALLS[ins.imm & abi.SYS_MASK]
        use |= ((1 << sc.nargs) - 1) << isa.A0
        dfn |= ((1 << (sc.nres + 1)) - 1) << isa.A0
    elif op.name == "call":
        dfn |= 1 << isa.LR
    elif op.name == "ret":
        use |= 1 << isa.LR
    elif op.name in ("enter", "leave"):
        use |= 1 << isa.SP
        dfn |= 1 << isa.SP
    elif op.name == "alloc":
        use |= 1 << isa.SP
    return use & ~1, dfn & ~1


def liveness(program) -> list[int]:
    """Registers live on entry to each pc (bit r = register r), over the whole program:
    a call flows into its callee's entry and a ret into every return site."""
    n = len(program.code)
    sites = sorted(s for s in program.return_sites() if s < n)
    succ = [_succ(program, pc, sites) for pc in range(n)]
    ud = [_use_def(i) for i in program.code]
    pred: list[list[int]] = [[] for _ in range(n + 1)]
    for pc, ss in enumerate(succ):
        for q in ss:
            pred[q].append(pc)
    live = [0] * (n + 1)
    work = list(range(n))
    on = [True] * n
    while work:
        pc = work.pop()
        on[pc] = False
        out = 0
        for q in succ[pc]:
            out |= live[q]
        use, dfn = ud[pc]
        new = use | (out & ~dfn)
        if new != live[pc]:
            live[pc] = new
            for q in pred[pc]:
                if not on[q]:
                    on[q] = True
                    work.append(q)
    return live


def reply_reads(program) -> int:
    """The registers a1..a4 (a mask, bit r = register r) that some `sys call` of the program
    reads from its reply: live after the call. Only tasks of the program call (a host task
    only receives and replies), so a reply need not write the others."""
    live = liveness(program)
    mask = ((1 << abi.SYS["call"].nres) - 1) << (isa.A0 + 1)
    out = 0
    for pc, ins in enumerate(program.code):
        if ins.info.name == "sys" and abi.SYSCALLS[ins.imm & abi.SYS_MASK].name in CALL_SYSCALLS:
            out |= live[pc + 1] & mask
    return out


def fp_dirty(program) -> list[bool]:
    """dirty[pc]: some path from a task's start to pc writes fp. Where none does, fp still
    holds its value at the start (mem_words, set by spawn and boot), so it needs neither
    saving nor restoring there."""
    n = len(program.code)
    sites = sorted(s for s in program.return_sites() if s < n)
    succ = [_succ(program, pc, sites) for pc in range(n)]
    dirty = [False] * (n + 1)
    work = [pc for pc, ins in enumerate(program.code) if _use_def(ins)[1] >> isa.FP & 1]
    while work:
        pc = work.pop()
        for q in succ[pc]:
            if not dirty[q]:
                dirty[q] = True
                if q < n:
                    work.append(q)
    return dirty


def regs_of(mask: int) -> list[int]:
    return [r for r in range(1, isa.NREGS) if mask >> r & 1]


class Lowering:
    def __init__(self, program, module: ir.Module, lay: L.Layout, kir: KernelIR,
                 lines=None):
        """lines: a `pc -> debug location` (inspect.DebugLines) to tag each instruction's
        IR with its source line, for `mikro asm --program`; None in a build that runs."""
        self.p = program
        self.m = module
        self.lay = lay
        self.k = kir
        self.n = len(program.code)
        self.lines = lines

    def _at(self, pc: int) -> None:
        if self.lines is not None:
            self.b.b.debug_metadata = self.lines.at(pc)

    def build(self) -> ir.Function:
        fn = ir.Function(self.m, ir.FunctionType(I64, [self.lay.ptr("Kernel")]), "mk_run")
        fn.attributes.add("nounwind")
        self.fn = fn
        b = self.b = B(fn, self.lay)
        if self.lines is not None:
            fn.set_metadata("dbg", self.lines.subprogram)
            self._at(-1)
        (self.K,) = fn.args
        T = self.lay.ptr("Task")
        self.regs = [None] + [b.var(None, I64, name=isa.REG_NAMES[r]) for r in range(1, isa.NREGS)]
        self.tv = b.var(None, T, name="t")
        self.memv = b.var(None, I64.as_pointer(), name="mem")
        self.slicev = b.var(None, I64, name="slice")
        self.fuelv = b.var(b.get(self.K, "fuel"), I64, name="fuel")
        self.mw = b.get(self.K, "mem_words")
        self.blocks = [fn.append_basic_block(f"pc{pc}") for pc in range(self.n + 1)]
        self.post = {}
        for pc, ins in enumerate(self.p.code):
            if ins.info.name == "sys":
                self.post[pc] = fn.append_basic_block(f"sys{pc}.resume")
        self.live = liveness(self.p)
        self.fp_dirty = fp_dirty(self.p)
        self.sites = sorted(s for s in self.p.return_sites() if s < self.n)
        self.ret_saved = 1 << isa.FP
        for site in self.sites:
            self.ret_saved |= self.live[site]
        sched, resume = b.block("sched"), b.block("resume")
        self.sched, self.resume = sched, resume
        idle, badkey = b.block("idle"), b.block("badkey")

        # the budget of task switches is spent when the ready queue's head count reaches
        # rq_stop (rq_head counts the tasks taken)
        # (kept in the kernel, not a register: the loop needs its registers more)
        b.put(self.K, "rq_stop", b.add(b.get(self.K, "rq_head"), b.get(self.K, "budget")))
        cur = b.get(self.K, "cur")
        b.put(self.K, "cur", b.null(T))
        b.store(cur, self.tv)
        b.cbranch(b.isnull(cur), sched, resume)

        b.position_at_end(sched)
        spent, nonempty, pick = b.block("budget.spent"), b.block("nonempty"), b.block("pick")
        count = b.get(self.K, "rq_head")
        b.cbranch(b.cmp("==", count, b.get(self.K, "rq_tail")), idle, nonempty)
        b.position_at_end(nonempty)
        b.cbranch(b.cmp("==", count, b.get(self.K, "rq_stop")), spent, pick)
        b.position_at_end(spent)
        self._leave(RUN_BUDGET)
        b.position_at_end(pick)
        self._clock()                   # the time of a timeout event (expire)
        b.store(b.call(self.k.f["rq_pick"], [self.K]), self.tv)
        b.branch(resume)

        b.position_at_end(idle)
        # no task is ready: time moves on to the next deadline, if any (Kernel.tick)
        self._clock()
        left = b.block("idle.left")
        b.cbranch(b.cmp("!=", b.call(self.k.f["tick"], [self.K]), 0), sched, left)
        b.position_at_end(left)
        self._leave(RUN_IDLE)

        b.position_at_end(badkey)
        self._leave(RUN_BADKEY)

        b.position_at_end(resume)
        t = b.load(self.tv)
        b.store(b.get(t, "mem"), self.memv)
        b.store(b.get(t, "slice"), self.slicev)
        keys = self.k.keys                      # resume_keys(program)
        self.kidx = {k: i for i, k in enumerate(keys)}
        # a task resumes through a table of block addresses, one per resume key; a host
        # task's index is one past them (host_resume)
        idx = b.get(t, "resume")
        jump, other, host = b.block("resume.jump"), b.block("resume.other"), b.block("host")
        b.cbranch(b.cmp("<", idx, len(keys), signed=False), jump, other)
        b.position_at_end(other)
        b.cbranch(b.cmp("==", idx, len(keys)), host, badkey)
        b.position_at_end(host)
        b.put(self.K, "cur", t)
        self._leave(RUN_HOST)
        b.position_at_end(jump)
        self.rblocks = {k: b.block(f"resume{k}") for k in keys}
        addr = [ir.BlockAddress(fn, self.rblocks[k]) for k in keys]
        addr = addr or [ir.BlockAddress(fn, badkey)]
        tab = ir.GlobalVariable(self.m, ir.ArrayType(I8P, len(addr)), "mk.resume")
        tab.global_constant = True
        tab.linkage = "internal"
        tab.initializer = ir.Constant(ir.ArrayType(I8P, len(addr)), addr)
        ibr = b.branch_indirect(b.load(b.gep(tab, [c64(0), idx], inbounds=True)))
        ibr.add_destination(badkey)
        for key in keys:
            # only the registers live at the resume point come back from the task
            blk = self.rblocks[key]
            ibr.add_destination(blk)
            b.position_at_end(blk)
            for r in regs_of(self.saved(key)):
                b.store(b.get(t, "regs", r), self.regs[r])
            if not self._fp_dirty(key):
                self.W(isa.FP, self.mw)
            b.branch(self.blocks[key] if key < self.n else self.post[key - self.n])

        # a task a handoff runs waited in recv (or recvbuf), whose results (status 0,
        # handle, words) it gets in registers: its own table of the points after those,
        # each loading the other live registers and going on after the sys (status 0:
        # nothing to check)
        nres = abi.SYS["recv"].nres
        assert all(abi.SYS[name].nres == nres for name in HANDOFF_TO)
        recv = [key for key in keys if key >= self.n and
                abi.SYSCALLS[self.p.code[key - self.n].imm & abi.SYS_MASK].name in HANDOFF_TO]
        self.hblocks = {key: b.block(f"handoff{key}") for key in recv}
        haddr = [ir.BlockAddress(fn, self.hblocks.get(k, badkey)) for k in keys]
        self.htab = ir.GlobalVariable(self.m, ir.ArrayType(I8P, len(haddr or addr)), "mk.handoff")
        self.htab.global_constant = True
        self.htab.linkage = "internal"
        self.htab.initializer = ir.Constant(ir.ArrayType(I8P, len(haddr or addr)), haddr or addr)
        results = ((1 << (nres + 1)) - 1) << isa.A0
        for key, blk in self.hblocks.items():
            b.position_at_end(blk)
            t = b.load(self.tv)
            for r in regs_of(self.saved(key) & ~results):
                b.store(b.get(t, "regs", r), self.regs[r])
            if not self._fp_dirty(key):
                self.W(isa.FP, self.mw)
            b.branch(self.blocks[key - self.n + 1])
        self.badkey = badkey

        for pc, ins in enumerate(self.p.code):
            b.position_at_end(self.blocks[pc])
            self._at(pc)
            getattr(self, "_lower_" + ins.info.name)(pc, ins)
        b.position_at_end(self.blocks[self.n])
        self._at(-1)
        self._fault(self.n, L.F_BADRET)
        for pc, blk in self.post.items():
            b.position_at_end(blk)
            self._at(pc)
            self._post_sys(pc, self.p.code[pc])
        return fn

    def _leave(self, code: int):
        """Return `code` to Python, the fuel and the budget of switches left written back."""
        b = self.b
        b.put(self.K, "fuel", b.load(self.fuelv))
        b.put(self.K, "budget", b.sub(b.get(self.K, "rq_stop"), b.get(self.K, "rq_head")))
        b.ret(c64(code))

    def _site_resume(self) -> ir.Function:
        """site_resume(pc): the resume index of return site pc (LLVM makes the switch a
        table of constants); only a task preempted on a `ret` needs it."""
        fn = self.m.globals.get("site_resume")
        if fn is None:
            fn = ir.Function(self.m, ir.FunctionType(I64, [I64]), "site_resume")
            fn.linkage = "internal"
            b = ir.IRBuilder(fn.append_basic_block())
            other = fn.append_basic_block()
            sw = b.switch(fn.args[0], other)
            for site in self.sites:
                blk = fn.append_basic_block()
                sw.add_case(c64(site), blk)
                ir.IRBuilder(blk).ret(c64(self.kidx[site]))
            ir.IRBuilder(other).ret(c64(-1))
        return fn

    def _fp_dirty(self, key: int) -> bool:
        return self.fp_dirty[key if key < self.n else key - self.n]

    def saved(self, key: int) -> int:
        """Registers kept in the task structure while it waits to resume at `key`: those live
        there, the frame pointer (reports walk the call chain from it) unless it still has
        its value from the task's start (fp_dirty), and, after a `sys`, a0 (the status,
        written by whoever wakes the task). Message words of a waiting sender are stored by
        the syscall itself."""
        fp = 1 << isa.FP
        regs = self.live[key] if key < self.n else self.live[key - self.n + 1] | 1 << isa.A0
        return regs | fp if self._fp_dirty(key) else regs & ~fp

    def stored(self, key: int) -> int:
        """Registers to write when suspending for `key`: those saved, less the results of a
        blocking syscall (whoever wakes the task writes all of them, status included)."""
        if key < self.n:
            return self.saved(key)
        sc = abi.SYSCALLS[self.p.code[key - self.n].imm & abi.SYS_MASK]
        if not sc.blocks:
            return self.saved(key)
        return self.saved(key) & ~(((1 << (sc.nres + 1)) - 1) << isa.A0)

    def _suspend(self, key: int, pause: bool = False, handoff=None):
        """Save the task to resume at `key`; then schedule (or pause the run, or hand off:
        `handoff` = (task, handle, words), see _handoff)."""
        b = self.b
        t = b.load(self.tv)
        for r in regs_of(self.stored(key)):
            b.put(t, "regs", self.R(r), r)
        b.put(t, "resume", c64(self.kidx[key]))
        b.put(t, "slice", b.load(self.slicev))
        if pause:
            b.put(self.K, "cur", t)
            b.put(self.K, "fuel", c64(0))
            b.ret(c64(RUN_PAUSE))
        elif handoff is not None:
            self._handoff(handoff)
        else:
            b.branch(self.sched)

    def _handoff(self, handoff):
        """Run w, whose wait in recv the syscall of a task that now waits ended, straight
        away when the ready queue is empty and the budget of switches not spent: queueing
        w and picking would take w then (with a seed, the draw is k = z mod 1 = 0: the
        head swaps with itself, so only the generator's state moves). The queue's counts
        move as a push and a pick would move them (rq_head counts the switches), and w's
        results (status 0, handle hv, the words) go straight to its registers. Otherwise,
        or when w is a host task (Python reads its results from memory), w is given its
        results, queued, and the scheduler picks as usual."""
        w, hv, words = handoff
        b, k = self.b, self.K
        head = b.get(k, "rq_head")
        idx = b.get(w, "resume")
        fast, slow = b.block("handoff"), b.block("handoff.queue")
        go = b.and_(b.cmp("==", head, b.get(k, "rq_tail")), b.cmp("!=", head, b.get(k, "rq_stop")))
        b.cbranch(b.and_(go, b.cmp("<", idx, len(self.k.keys), signed=False)), fast, slow)
        b.position_at_end(slow)
        self.k.give(b, w, hv, words)
        b.call(self.k.f["rq_push"], [k, w])
        b.branch(self.sched)
        b.position_at_end(fast)
        with b.when(b.cmp("!=", b.get(k, "seed"), 0)):
            b.put(k, "rng", b.add(b.get(k, "rng"), c64(SPLITMIX_GAMMA)))
        nxt = b.add(head, c64(1))
        b.put(k, "rq_head", nxt)
        b.put(k, "rq_tail", nxt)
        b.put(w, "state", L.READY)
        b.store(w, self.tv)
        b.store(b.get(w, "mem"), self.memv)
        b.store(b.get(w, "slice"), self.slicev)
        for r, v in enumerate([c64(0), hv] + list(words)):
            self.W(isa.A0 + r, v)
        ibr = b.branch_indirect(b.load(b.gep(self.htab, [c64(0), idx], inbounds=True)))
        ibr.add_destination(self.badkey)
        for blk in self.hblocks.values():
            ibr.add_destination(blk)

    # -- helpers ----------------------------------------------------------------------------
    def R(self, r):
        return c64(0) if r == 0 else self.b.load(self.regs[r])

    def W(self, r, v):
        if r != 0:
            self.b.store(v, self.regs[r])

    def next(self, pc):
        self.b.branch(self.blocks[pc + 1])

    def _clock(self):
        """A traced build: the fuel left, for the time of the events the next call records."""
        if self.k.traced:
            self.b.put(self.K, "fuel", self.b.load(self.fuelv))

    def _fault(self, pc, code, a=c64(0), bb=c64(0), c=c64(0)):
        b = self.b
        self._clock()
        b.call(self.k.f["task_fault"], [self.K, b.load(self.tv), c64(code), a, bb, c, c64(pc),
                                        self.R(isa.FP)])
        b.branch(self.sched)

    @staticmethod
    def _unlikely(br):
        """Faults, pauses and preemptions are the rare way out of a branch."""
        br.set_weights([1, 2000])

    def _check(self, cond, pc, code, *ops):
        """If cond: fault at pc with `code`; continue in a fresh block otherwise."""
        b = self.b
        bad, ok = b.block(f"pc{pc}.fault"), b.block(f"pc{pc}.ok")
        self._unlikely(b.cbranch(cond, bad, ok))
        b.position_at_end(bad)
        self._fault(pc, code, *ops)
        b.position_at_end(ok)

    def _pay(self, pc):
        """The fuel left after taking a unit at pc; with none left, the run pauses there.
        The borrow of fuel - 1 is the test, so that it costs one subtraction and one
        branch."""
        b = self.b
        res = b.usub_with_overflow(b.load(self.fuelv), c64(1))
        stop, go = b.block(f"pc{pc}.stop"), b.block(f"pc{pc}.go")
        self._unlikely(b.cbranch(b.extract_value(res, 1), stop, go))
        b.position_at_end(stop)
        self._suspend(pc, pause=True)
        b.position_at_end(go)
        return b.extract_value(res, 0)

    def _goto(self, pc, dest, before=None):
        """Jump from pc to dest, paying fuel on a back-edge or call (docs/vm.md)."""
        b = self.b
        if not (dest <= pc or before is not None):
            b.branch(self.blocks[dest])
            return
        left = self._pay(pc)
        if before:
            before()
        b.store(left, self.fuelv)
        s = b.sub(b.load(self.slicev), c64(1))
        pre, cont = b.block(f"pc{pc}.preempt"), b.block(f"pc{pc}.cont")
        self._unlikely(b.cbranch(b.cmp("==", s, 0), pre, cont))
        b.position_at_end(pre)
        b.store(c64(abi.QUANTUM), self.slicev)
        b.call(self.k.f["rq_push"], [self.K, b.load(self.tv)])
        self._suspend(dest)
        b.position_at_end(cont)
        b.store(s, self.slicev)
        b.branch(self.blocks[dest])

    def _addr(self, pc, addr, code, *ops):
        """Checked address: fault with `code` unless 0 <= addr < mem_words."""
        self._check(self.b.cmp(">=", addr, self.mw, signed=False), pc, code, *(ops or (addr,)))
        return self.b.gep(self.b.load(self.memv), [addr])

    # -- one function per opcode (ORDER OP) ---------------------------------------------------
    def _lower_nop(self, pc, i):
        self.next(pc)

    def _lower_li(self, pc, i):
        self.W(i.a, c64(i.imm))
        self.next(pc)

    def _lower_lk(self, pc, i):
        self.W(i.a, c64(self.p.consts[i.imm]))
        self.next(pc)

    def _lower_mov(self, pc, i):
        self.W(i.a, self.R(i.b))
        self.next(pc)

    def _binop(self, pc, i, f):
        self.W(i.a, f(self.R(i.b), self.R(i.c)))
        self.next(pc)

    def _lower_add(self, pc, i):
        self._binop(pc, i, self.b.add)

    def _lower_sub(self, pc, i):
        self._binop(pc, i, self.b.sub)

    def _lower_mul(self, pc, i):
        self._binop(pc, i, self.b.mul)

    def _divrem(self, pc, i, is_div):
        b = self.b
        x, y = self.R(i.b), self.R(i.c)
        self._check(b.cmp("==", y, 0), pc, L.F_DIV0)
        self.W(i.a, divrem(b, x, y, is_div))
        self.next(pc)

    def _lower_div(self, pc, i):
        self._divrem(pc, i, True)

    def _lower_rem(self, pc, i):
        self._divrem(pc, i, False)

    def _lower_and(self, pc, i):
        self._binop(pc, i, self.b.and_)

    def _lower_or(self, pc, i):
        self._binop(pc, i, self.b.or_)

    def _lower_xor(self, pc, i):
        self._binop(pc, i, self.b.xor)

    def _shift(self, pc, i, f):
        self._binop(pc, i, lambda x, y: shift(self.b, f, x, y))

    def _lower_shl(self, pc, i):
        self._shift(pc, i, self.b.shl)

    def _lower_shr(self, pc, i):
        self._shift(pc, i, self.b.ashr)

    def _lower_ushr(self, pc, i):
        self._shift(pc, i, self.b.lshr)

    def _cmpop(self, pc, i, op):
        self._binop(pc, i, lambda x, y: compare(self.b, op, x, y))

    def _lower_eq(self, pc, i):
        self._cmpop(pc, i, "==")

    def _lower_ne(self, pc, i):
        self._cmpop(pc, i, "!=")

    def _lower_lt(self, pc, i):
        self._cmpop(pc, i, "<")

    def _lower_le(self, pc, i):
        self._cmpop(pc, i, "<=")

    def _lower_addi(self, pc, i):
        self.W(i.a, self.b.add(self.R(i.b), c64(i.imm)))
        self.next(pc)

    def _load(self, p):
        ins = self.b.load(p)
        ins.set_metadata("tbaa", self.b.tag("mem"))
        return ins

    def _store(self, v, p):
        self.b.store(v, p).set_metadata("tbaa", self.b.tag("mem"))

    def _lower_ld(self, pc, i):
        base = self.R(i.b)
        p = self._addr(pc, self.b.add(base, c64(i.imm)), L.F_MEM, base, c64(i.imm))
        self.W(i.a, self._load(p))
        self.next(pc)

    def _lower_st(self, pc, i):
        base = self.R(i.b)
        p = self._addr(pc, self.b.add(base, c64(i.imm)), L.F_MEM, base, c64(i.imm))
        self._store(self.R(i.a), p)
        self.next(pc)

    def _lower_alloc(self, pc, i):
        b = self.b
        n = self.R(i.b)
        self._check(b.cmp("<", n, 0), pc, L.F_NEGSIZE, n)
        t = b.load(self.tv)
        ht = b.get(t, "heap_top")
        self._check(alloc_too_big(b, ht, n, self.R(isa.SP), self.mw), pc, L.F_OOM)
        mem = b.load(self.memv)
        self._store(n, b.gep(mem, [ht]))
        body = b.bitcast(b.gep(mem, [b.add(ht, c64(1))]), I8P)
        b.call(self.k.memset, [body, ir.Constant(I32, 0), b.mul(n, c64(8))])
        self.W(i.a, b.add(ht, c64(1)))
        t = b.load(self.tv)
        b.put(t, "heap_top", b.add(b.add(ht, c64(1)), n))
        self.next(pc)

    def _array(self, pc, i, store=False):
        """(pointer to element R[b][R[c]]) with the checks of docs/vm.md."""
        b = self.b
        return array_element(b, b.load(self.tv), b.load(self.memv), self.mw, self.R(i.b),
                             self.R(i.c), store, self._checker(pc), self._load)

    def _checker(self, pc):
        return lambda cond, code, *ops: self._check(cond, pc, code, *ops)

    def _lower_ald(self, pc, i):
        self.W(i.a, self._load(self._array(pc, i)))
        self.next(pc)

    def _lower_ast(self, pc, i):
        self._store(self.R(i.a), self._array(pc, i, store=True))
        self.next(pc)

    def _lower_alen(self, pc, i):
        b = self.b
        self.W(i.a, array_length(b, b.load(self.tv), b.load(self.memv), self.mw, self.R(i.b),
                                 self._checker(pc), self._load))
        self.next(pc)

    def _lower_jmp(self, pc, i):
        self._goto(pc, i.imm)

    def _branch(self, pc, i, cond):
        b = self.b
        taken = b.block(f"pc{pc}.taken")
        b.cbranch(cond, taken, self.blocks[pc + 1])
        b.position_at_end(taken)
        self._goto(pc, i.imm)

    def _lower_bz(self, pc, i):
        self._branch(pc, i, self.b.cmp("==", self.R(i.a), 0))

    def _lower_bnz(self, pc, i):
        self._branch(pc, i, self.b.cmp("!=", self.R(i.a), 0))

    def _lower_beq(self, pc, i):
        self._branch(pc, i, self.b.cmp("==", self.R(i.a), self.R(i.b)))

    def _lower_bne(self, pc, i):
        self._branch(pc, i, self.b.cmp("!=", self.R(i.a), self.R(i.b)))

    def _lower_blt(self, pc, i):
        self._branch(pc, i, self.b.cmp("<", self.R(i.a), self.R(i.b)))

    def _lower_bge(self, pc, i):
        self._branch(pc, i, self.b.cmp(">=", self.R(i.a), self.R(i.b)))

    def _lower_call(self, pc, i):
        self._goto(pc, i.imm, before=lambda: self.W(isa.LR, c64(pc + 1)))

    def _lower_ret(self, pc, i):
        """Validate lr (a bad one faults without paying), then pay a unit of fuel like a
        back-edge and jump to lr (docs/vm.md)."""
        b = self.b
        lr = self.R(isa.LR)
        sites = self.sites
        bad = b.block(f"pc{pc}.badret")
        sw = b.switch(lr, bad)
        ok = b.block(f"pc{pc}.retok") if sites else None
        for site in sites:
            sw.add_case(c64(site), ok)
        b.position_at_end(bad)
        self._fault(pc, L.F_BADRET)
        if not sites:
            return
        b.position_at_end(ok)
        b.store(self._pay(pc), self.fuelv)
        sl = b.sub(b.load(self.slicev), c64(1))
        pre, cont = b.block(f"pc{pc}.preempt"), b.block(f"pc{pc}.cont")
        self._unlikely(b.cbranch(b.cmp("==", sl, 0), pre, cont))
        b.position_at_end(pre)
        b.store(c64(abi.QUANTUM), self.slicev)
        t = b.load(self.tv)
        b.call(self.k.f["rq_push"], [self.K, t])
        # preempted on its way to lr: it resumes at that return site
        for r in regs_of(self.ret_saved):
            b.put(t, "regs", self.R(r), r)
        b.put(t, "resume", b.call(self._site_resume(), [lr]))
        b.put(t, "slice", b.load(self.slicev))
        b.branch(self.sched)
        b.position_at_end(cont)
        b.store(sl, self.slicev)
        sw = b.switch(lr, self.blocks[sites[0]])
        for site in sites[1:]:
            sw.add_case(c64(site), self.blocks[site])

    def _lower_enter(self, pc, i):
        b = self.b
        sp = self.R(isa.SP)
        ht = b.get(b.load(self.tv), "heap_top")
        self._check(below_heap(b, sp, c64(i.imm), ht), pc, L.F_STACK)
        self.W(isa.SP, b.sub(sp, c64(i.imm)))
        self.next(pc)

    def _lower_leave(self, pc, i):
        self.W(isa.SP, self.b.add(self.R(isa.SP), c64(i.imm)))
        self.next(pc)

    def _lower_trap(self, pc, i):
        self._fault(pc, L.F_TRAP, c64(i.imm))

    def _lower_sys(self, pc, i):
        b = self.b
        sc = abi.SYSCALLS[i.imm & abi.SYS_MASK]
        if sc.name in abi.FUEL_SYSCALLS:
            # one unit of the run's fuel, not of the slice; with none left the task stays here
            b.store(self._pay(pc), self.fuelv)
        args = [self.R(isa.A0 + j) for j in range(sc.nargs)]
        h = self.R(isa.A0)
        t = b.load(self.tv)
        # the status and results (kernel_ir: out), an array of each call site's own, so
        # that one passed to a syscall not inlined does not keep the others in memory
        sysout = b.var(None, ir.ArrayType(I64, KernelIR.NOUT), name=f"out{pc}")
        self._clock()
        act = b.call(self.k.f["sys_" + sc.name], [self.K, t, b.gep(sysout, [c64(0), c64(0)])]
                     + args)
        done = b.block(f"pc{pc}.done")
        sw = b.switch(act, done)
        if sc.blocks:
            blk = b.block(f"pc{pc}.block")
            sw.add_case(c64(ACT_BLOCK), blk)
            b.position_at_end(blk)
            self._suspend(self.n + pc)
        words = handoff_words(sc.name, args)
        if words is not None:
            ho = b.block(f"pc{pc}.handoff")
            sw.add_case(c64(ACT_HANDOFF), ho)
            b.position_at_end(ho)
            w = b.inttoptr(b.load(b.gep(sysout, [c64(0), c64(HANDOFF_OUT)])),
                           self.lay.ptr("Task"))
            hv = b.load(b.gep(sysout, [c64(0), c64(1)]))
            self._suspend(self.n + pc, handoff=(w, hv, words))
        if sc.name == "exit":
            sw.add_case(c64(ACT_END), self.sched)
        if sc.name == "yield":
            y = b.block(f"pc{pc}.yield")
            sw.add_case(c64(ACT_YIELD), y)
            b.position_at_end(y)
            self.W(isa.A0, c64(0))
            self._suspend(self.n + pc)
        # ACT_DONE: the status is 0; ACT_ERR: the status in out[0], which faults without TRY
        err = b.block(f"pc{pc}.err")
        sw.add_case(c64(ACT_ERR), err)
        b.position_at_end(done)
        self.W(isa.A0, c64(0))
        for j in range(1, sc.nres + 1):
            self.W(isa.A0 + j, b.load(b.gep(sysout, [c64(0), c64(j)])))
        self.next(pc)
        b.position_at_end(err)
        for j in range(sc.nres + 1):
            self.W(isa.A0 + j, b.load(b.gep(sysout, [c64(0), c64(j)])))
        self._status(pc, i, sc, h)

    def _status(self, pc, i, sc, h):
        """Without TRY a failed syscall faults the task; else go on at pc + 1."""
        b = self.b
        if i.imm & abi.TRY:
            self.next(pc)
            return
        st = self.R(isa.A0)
        self._check(b.cmp("!=", st, 0), pc, L.F_SYS, c64(sc.num), h, st)
        self.next(pc)

    def _post_sys(self, pc, i):
        sc = abi.SYSCALLS[i.imm & abi.SYS_MASK]
        h = self.b.get(self.b.load(self.tv), "wait_handle")
        self._status(pc, i, sc, h)
