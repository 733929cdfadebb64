"""The reference interpreter: runs VM code instruction by instruction over the reference kernel.

`run(program, options)` verifies the program, boots the kernel and runs tasks one at a time,
each until it blocks, yields, ends, faults or uses up its slice of fuel (docs/vm.md). Each
opcode is one small function `op_NAME(vm, task, ins)`; the dispatch table is built from
isa.OPCODES. An op function returns True when the task leaves the processor (it blocked,
yielded, ended, faulted, was preempted, or the run stopped), else a false value.
Nothing a program does can raise a Python exception here: every misuse is a fault or an
error code.
"""
from __future__ import annotations

import time

from . import abi, isa
from .isa import A0, FP, LR, SP
from .faults import (BADARR, BADRET, DIV0, INDEX, MEM, NEGSIZE, OOM, STACK, TRAP, reason,
                     syscall_failure)
from .kernel import BLOCK, BLOCKED, END, SWITCH, WAIT, Kernel, KernelClosed, Task
from .options import RunOptions
from .result import Fault, RunResult, Waiter, Where, idle
from .verify import verify
from .words import div, rem, shl, shr, ushr, wrap

CHAIN_MAX = abi.CHAIN_MAX
TIME_CHECK = 1023       # the clock is read every 1024 units of fuel

_SYS_CALLS = abi.SYSCALLS


def run(program, options: RunOptions | None = None) -> RunResult:
    """Run a program to its end (clean, fault, deadlock, limit or interrupted)."""
    verify(program)
    m = Machine(program, options or RunOptions())
    m.advance()
    return m.result()


class Machine:
    """One run of a verified program, driven from Python: `spawn` and `host` add tasks,
    `advance` runs until the end or until a slice of fuel is used, `result` reports.
    The same shape as the x86 backend's Machine (mikro.backends.x86.run)."""

    def __init__(self, program, opts: RunOptions, boot: bool = True):
        self.program = program
        self.opts = opts
        self.code = program.code
        self.mem_words = int(opts.mem_words)
        self.sites = program.return_sites()
        self.fuel_used = 0
        self.kernel = Kernel(program, seed=int(opts.seed), mem_words=self.mem_words,
                             max_tasks=int(opts.max_tasks), on_output=opts.on_output,
                             trace=[] if opts.trace else None, clock=lambda: self.fuel_used,
                             output_limit=opts.output_limit)
        self.fuel_left = None if opts.fuel is None else max(int(opts.fuel), 0)
        self.slice_left: int | None = None     # fuel left in this call of advance()
        self.deadline: float | None = None
        self.elapsed = 0.0                     # seconds spent in advance() so far
        self.stopped: str | None = None        # why the run stopped early ("limit" text)
        self.status: str | None = None         # None while the run can go on
        self.current: Task | None = None       # a task paused at a fuel point resumes first
        self.running: Task | None = None
        self.switches = 0
        self.closed = False
        if boot:
            self.kernel.boot()

    def close(self) -> None:
        """Drop the run's state; the Machine can no longer run or report (as on x86)."""
        self.closed = True
        del self.kernel
        self.current = self.running = None

    def _open(self) -> None:
        if self.closed:
            raise KernelClosed("the run is closed")

    # -- tasks from Python ------------------------------------------------------------------
    def spawn(self, ttype: int, args=()) -> int:
        """Start a task of type ttype (at the tail of the ready queue); its id."""
        self._open()
        if self.kernel.taken() >= self.kernel.max_tasks:
            raise ValueError("the task table is full")
        return self.kernel.new_task(ttype, tuple(args)).id

    def host(self, name: str, handler) -> int:
        """A host task serving channel `name` with handler; its id."""
        self._open()
        return self.kernel.new_host(name, handler).id

    # -- the run --------------------------------------------------------------------------
    def advance(self, fuel: int | None = None) -> str | None:
        """Run until the run ends (its status) or `fuel` more units are used (None)."""
        self._open()
        if self.status is not None:
            return self.status
        k = self.kernel
        self.slice_left = None if fuel is None else max(int(fuel), 0)
        start = time.monotonic()
        if self.opts.time_limit is not None:
            self.deadline = start + self.opts.time_limit - self.elapsed
        try:
            while self.stopped is None:
                t, self.current = self.current, None
                if t is None:
                    t = k.pick()
                    if t is None:
                        if k.tick():             # time moves on to the next deadline
                            continue
                        break
                    self.switches += 1
                if t.host is not None:
                    k.serve_host(t)
                    continue
                self.slice(t)
                if self.current is not None:
                    return None                # the slice of fuel is used up
            self.status = "limit" if self.stopped is not None else "ended"
        except KeyboardInterrupt:
            self.status, self.stopped = "interrupted", "keyboard interrupt"
        finally:
            self.elapsed += time.monotonic() - start
        return self.status

    def slice(self, t: Task) -> None:
        """Run t until it leaves the processor."""
        self.running = t
        if t.resume_sys:
            t.resume_sys = False
            ins = self.code[t.pc]
            if self.finish_sys(t, ins, t.regs[A0]):
                return
        code, ops = self.code, OPS
        while True:
            ins = code[t.pc]
            if ops[ins.op](self, t, ins):
                return

    def result(self) -> RunResult:
        """What the run gave so far; status "running" while it can go on."""
        self._open()
        k = self.kernel
        res = RunResult(status="clean", fuel_used=self.fuel_used, tasks_spawned=k.spawned,
                        faults=list(k.faults), exits=dict(k.exits), limit=self.stopped or "",
                        switches=self.switches, trace=list(k.trace or ()),
                        restarts=list(k.restarts))
        stuck = False
        for tid in sorted(k.tasks):
            t = k.tasks[tid]
            deadline = k.timers.deadline(t, WAIT)
            if t.state == BLOCKED:
                wait = t.wait or "?"          # a blocked task always says what it waits for
                state = {"reply": "call", "replybuf": "callbuf"}.get(wait, wait)
                handle = t.wait_handle
            else:
                state, handle = "ready", None
            stuck = stuck or not idle(state, deadline)
            where = self.where(t, t.pc) if t.host is None else Where(-1)
            res.waiting.append(Waiter(t.id, t.name, state, handle, where, deadline))
        res.output, res.output_dropped = k.output.text(), k.output.dropped
        if self.status is None:
            res.status = "running"
        elif self.status in ("limit", "interrupted"):
            res.status = self.status
        elif stuck:
            res.status = "deadlock"
        elif res.faults:
            res.status = "fault"
        return res

    # -- faults and reports ---------------------------------------------------------------
    def where(self, t: Task, pc: int) -> Where:
        """pc and the return addresses of the call chain, walked from fp (docs/vm.md)."""
        chain: list[int] = []
        fp = t.regs[FP]
        mem = t.mem
        while len(chain) < CHAIN_MAX and 0 <= fp and fp + 1 < self.mem_words:
            ra = mem.get(fp, 0)
            if ra not in self.sites:
                break
            chain.append(ra)
            fp = mem.get(fp + 1, 0)
        return Where(pc, tuple(chain))

    def fault(self, t: Task, reason: str) -> bool:
        """End t with a fault at its pc; the run goes on."""
        self.kernel.end_task(t, fault=Fault(t.id, t.name, reason, self.where(t, t.pc)))
        return True

    # -- fuel -------------------------------------------------------------------------------
    def out_of_fuel(self) -> bool:
        """Whether the run stops before this fuel point (the task stays at it)."""
        if self.fuel_left is not None and self.fuel_left == 0:
            self.stopped = f"fuel exhausted ({self.opts.fuel} units)"
            return True
        if self.slice_left == 0:
            self.current = self.running        # it stays at this fuel point, resumes first
            return True
        if (self.deadline is not None and not self.fuel_used & TIME_CHECK
                and time.monotonic() >= self.deadline):
            self.stopped = f"time limit of {self.opts.time_limit:g} s reached"
            return True
        return False

    def pay(self) -> None:
        """Take one unit of the run's fuel."""
        if self.fuel_left is not None:
            self.fuel_left -= 1
        if self.slice_left is not None:
            self.slice_left -= 1
        self.fuel_used += 1

    def go_to(self, t: Task, dest: int) -> bool:
        """Take one unit of fuel and jump; preempt the task when its slice is used up."""
        self.pay()
        t.pc = dest
        t.slice -= 1
        if t.slice == 0:
            t.slice = abi.QUANTUM
            self.kernel.make_ready(t)
            return True
        return False

    # -- syscalls ---------------------------------------------------------------------------
    def finish_sys(self, t: Task, ins: isa.Instr, status: int) -> bool:
        """Without TRY a failed syscall faults the task; else go on after it."""
        if status != abi.OK and not ins.imm & abi.TRY:
            name = _SYS_CALLS[ins.imm & abi.SYS_MASK].name
            return self.fault(t, syscall_failure(name, t.sys_handle, status))
        t.pc += 1
        return False


# -- one function per opcode (ORDER OP) ---------------------------------------------------
def op_nop(vm, t, i):
    t.pc += 1


def op_li(vm, t, i):
    t.regs[i.a] = i.imm
    t.pc += 1


def op_lk(vm, t, i):
    t.regs[i.a] = vm.program.consts[i.imm]
    t.pc += 1


def op_mov(vm, t, i):
    t.regs[i.a] = t.regs[i.b]
    t.pc += 1


def op_add(vm, t, i):
    R = t.regs
    R[i.a] = wrap(R[i.b] + R[i.c])
    t.pc += 1


def op_sub(vm, t, i):
    R = t.regs
    R[i.a] = wrap(R[i.b] - R[i.c])
    t.pc += 1


def op_mul(vm, t, i):
    R = t.regs
    R[i.a] = wrap(R[i.b] * R[i.c])
    t.pc += 1


def op_div(vm, t, i):
    R = t.regs
    if R[i.c] == 0:
        return vm.fault(t, reason(DIV0))
    R[i.a] = div(R[i.b], R[i.c])
    t.pc += 1


def op_rem(vm, t, i):
    R = t.regs
    x, y = R[i.b], R[i.c]
    if y == 0:
        return vm.fault(t, reason(DIV0))
    R[i.a] = rem(x, y)
    t.pc += 1


def op_and(vm, t, i):
    R = t.regs
    R[i.a] = R[i.b] & R[i.c]
    t.pc += 1


def op_or(vm, t, i):
    R = t.regs
    R[i.a] = R[i.b] | R[i.c]
    t.pc += 1


def op_xor(vm, t, i):
    R = t.regs
    R[i.a] = R[i.b] ^ R[i.c]
    t.pc += 1


def op_shl(vm, t, i):
    R = t.regs
    R[i.a] = shl(R[i.b], R[i.c])
    t.pc += 1


def op_shr(vm, t, i):
    R = t.regs
    R[i.a] = shr(R[i.b], R[i.c])
    t.pc += 1


def op_ushr(vm, t, i):
    R = t.regs
    R[i.a] = ushr(R[i.b], R[i.c])
    t.pc += 1


def op_eq(vm, t, i):
    R = t.regs
    R[i.a] = int(R[i.b] == R[i.c])
    t.pc += 1


def op_ne(vm, t, i):
    R = t.regs
    R[i.a] = int(R[i.b] != R[i.c])
    t.pc += 1


def op_lt(vm, t, i):
    R = t.regs
    R[i.a] = int(R[i.b] < R[i.c])
    t.pc += 1


def op_le(vm, t, i):
    R = t.regs
    R[i.a] = int(R[i.b] <= R[i.c])
    t.pc += 1


def op_addi(vm, t, i):
    R = t.regs
    R[i.a] = wrap(R[i.b] + i.imm)
    t.pc += 1


def op_ld(vm, t, i):
    addr = t.regs[i.b] + i.imm
    if not 0 <= addr < vm.mem_words:
        return vm.fault(t, reason(MEM, addr))
    t.regs[i.a] = t.mem.get(addr, 0)
    t.pc += 1


def op_st(vm, t, i):
    addr = t.regs[i.b] + i.imm
    if not 0 <= addr < vm.mem_words:
        return vm.fault(t, reason(MEM, addr))
    t.mem[addr] = t.regs[i.a]
    t.pc += 1


def op_alloc(vm, t, i):
    R, mem = t.regs, t.mem
    n = R[i.b]
    if n < 0:
        return vm.fault(t, reason(NEGSIZE, n))
    top = t.heap_top
    if top + 1 + n > min(R[SP], vm.mem_words):
        return vm.fault(t, reason(OOM))
    # words above heap_top may have been written through `st`: zero the new array
    if n < len(mem):
        for addr in range(top + 1, top + 1 + n):
            mem.pop(addr, None)
    else:
        for addr in [a for a in mem if top < a <= top + n]:
            del mem[addr]
    mem[top] = n
    R[i.a] = top + 1
    t.heap_top = top + 1 + n
    t.pc += 1


def _element(vm, t, i) -> int | None:
    """The address of array R[b] at index R[c], or None after a fault."""
    r, idx = t.regs[i.b], t.regs[i.c]
    if not 0 <= r - 1 < vm.mem_words:
        vm.fault(t, reason(BADARR))
        return None
    n = t.mem.get(r - 1, 0)
    if idx < 0 or idx >= n:
        vm.fault(t, reason(INDEX, idx, n))
        return None
    if not 0 <= r + idx < vm.mem_words:
        vm.fault(t, reason(BADARR))
        return None
    return r + idx


def op_ald(vm, t, i):
    addr = _element(vm, t, i)
    if addr is None:
        return True
    t.regs[i.a] = t.mem.get(addr, 0)
    t.pc += 1


def op_ast(vm, t, i):
    addr = _element(vm, t, i)
    if addr is None:
        return True
    t.mem[addr] = t.regs[i.a]
    t.pc += 1


def op_alen(vm, t, i):
    r = t.regs[i.b]
    if not 0 <= r - 1 < vm.mem_words:
        return vm.fault(t, reason(BADARR))
    t.regs[i.a] = t.mem.get(r - 1, 0)
    t.pc += 1


def op_jmp(vm, t, i):
    if i.imm > t.pc:
        t.pc = i.imm
        return False
    return vm.out_of_fuel() or vm.go_to(t, i.imm)


def _branch(vm, t, i, taken: bool):
    if not taken:
        t.pc += 1
        return False
    return op_jmp(vm, t, i)


def op_bz(vm, t, i):
    return _branch(vm, t, i, t.regs[i.a] == 0)


def op_bnz(vm, t, i):
    return _branch(vm, t, i, t.regs[i.a] != 0)


def op_beq(vm, t, i):
    return _branch(vm, t, i, t.regs[i.a] == t.regs[i.b])


def op_bne(vm, t, i):
    return _branch(vm, t, i, t.regs[i.a] != t.regs[i.b])


def op_blt(vm, t, i):
    return _branch(vm, t, i, t.regs[i.a] < t.regs[i.b])


def op_bge(vm, t, i):
    return _branch(vm, t, i, t.regs[i.a] >= t.regs[i.b])


def op_call(vm, t, i):
    if vm.out_of_fuel():
        return True
    t.regs[LR] = t.pc + 1
    return vm.go_to(t, i.imm)


def op_ret(vm, t, i):
    lr = t.regs[LR]
    if lr not in vm.sites:
        return vm.fault(t, reason(BADRET))
    # a return costs a unit: `ret` can loop (lr is not cleared), and every loop must pay
    return vm.out_of_fuel() or vm.go_to(t, lr)


def op_enter(vm, t, i):
    R = t.regs
    if R[SP] - i.imm < t.heap_top:
        return vm.fault(t, reason(STACK))
    R[SP] = wrap(R[SP] - i.imm)
    t.pc += 1


def op_leave(vm, t, i):
    R = t.regs
    R[SP] = wrap(R[SP] + i.imm)
    t.pc += 1


def op_sys(vm, t, i):
    sc = _SYS_CALLS[i.imm & abi.SYS_MASK]
    if sc.name in abi.FUEL_SYSCALLS:
        # a spawn or restart costs a unit of the run's fuel (not of the slice): a chain of
        # tasks that each start one and end would otherwise run forever without paying
        if vm.out_of_fuel():
            return True
        vm.pay()
    R = t.regs
    t.sys_handle = R[A0]
    out = vm.kernel.syscall(t, sc.num, R[A0:A0 + sc.nargs])
    if out is BLOCK or out is SWITCH:
        t.resume_sys = True             # resumes by finishing this `sys` (status in a0)
        return True
    if out is END:
        return True
    status = out[0]
    R[A0] = status
    for j in range(1, sc.nres + 1):
        R[A0 + j] = out[j] if status == abi.OK else 0
    return vm.finish_sys(t, i, status)


def op_trap(vm, t, i):
    return vm.fault(t, reason(TRAP, i.imm, strings=vm.program.strings))


OPS = tuple(globals()["op_" + op.name] for op in isa.OPCODES)
