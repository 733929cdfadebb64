"""The native kernel as LLVM IR: ready queue, handle tables, channels and every syscall.

Each syscall is one function `sys_NAME(Kernel*, Task*, out, a0, .., a(nargs-1))` with one
shape: it writes the status and results to out[0..5] (results zero on error) and returns
the action saying what the caller does next (ACT_*). A task that blocks is saved by the
caller after the syscall returns; whoever wakes it writes its status and results into its
saved registers (a reply only the results some call of the program reads,
lower.reply_reads; a call that hands off leaves the receiver's to the caller, ACT_HANDOFF),
and a waiting sender's message words wait in its saved argument registers. docs/kernel.md
is the specification; mikro/vm/kernel.py its reference form.

A traced build (`traced=True`) also appends an event record (mikro.vm.trace) at each point
the reference kernel records one; an untraced build has no trace code at all. `mk_sys` and
`mk_fault` let Python act for a host task (a task whose code is a Python handler).
"""
from __future__ import annotations

import ctypes

from llvmlite import ir

from ...vm import abi, isa, trace
from ...vm.kernel import DEADLINE_SENDS, DEADLINE_TAKES, TIMEOUT_OF
from ...vm.schedule import TAIL_CODE
from . import layout as L
from .irb import B, I8, I8P, I32, I64, I64P, c64
from .kernel_handles import HandlesIR, literal_names

# what the caller does after a syscall: go on (status 0), block, end, yield, go on
# with the error status in out[0] (ACT_ERR: the only action with a nonzero status), or
# ACT_HANDOFF: block, and the task in out[HANDOFF_OUT], whose wait in recv this call ended,
# is ready but neither queued nor given its results (status 0, handle out[1], the words
# of the call): the caller gives them and queues it, or runs it at once with them in
# registers where the scheduler would pick it (lower.py)
ACT_DONE, ACT_BLOCK, ACT_END, ACT_YIELD, ACT_ERR, ACT_HANDOFF = 0, 1, 2, 3, 4, 5
HANDOFF_OUT = 6
SPLITMIX_GAMMA = abi.SPLITMIX[0]        # the step of the seeded scheduler's generator


# the syscalls a task a call hands off to waits in (recv for call, recvbuf for callbuf)
HANDOFF_TO = ("recv", "recv_until", "recvbuf", "recv_type")


def handoff_words(name: str, args: list) -> list | None:
    """The words after the handle that the receiver a call hands off to gets (give): for
    `call`, its message; for `callbuf`, the three words and the buffer's length, as
    recvbuf's results. None for a syscall that never hands off."""
    if name == "call":
        return args[1:5]
    if name == "callbuf":
        return args[5:8] + [args[3]]
    return None

A0 = isa.A0
E = {name: code for name, (code, _) in abi.ERRORS.items()}
# result registers (a1..) a task blocked in each state gets back
NRES_OF_STATE = {L.ST_RECV: abi.SYS["recv"].nres, L.ST_SEND: 0, L.ST_CALL_SEND: 4,
                 L.ST_CALL_REPLY: 4, L.ST_OPEN: abi.SYS["open"].nres, L.ST_PUSH: 0,
                 L.ST_RECVB: abi.SYS["recvbuf"].nres, L.ST_SENDB: 0,
                 L.ST_CALLB_SEND: abi.SYS["callbuf"].nres, L.ST_CALLB_REPLY: abi.SYS["callbuf"].nres,
                 L.ST_WAIT: abi.SYS["wait"].nres, L.ST_SLEEP: 0, L.ST_PUSHB: 0,
                 L.ST_SENDM: 0, L.ST_CALLM_SEND: abi.SYS["call_move"].nres,
                 L.ST_SELECT: abi.SYS["select"].nres, L.ST_RECVT: abi.SYS["recv_type"].nres}
# a table's bitmap of slots in use when every slot is taken (one word: at most 64 slots)
assert abi.CH_SLOTS <= 64 and abi.MH_SLOTS <= 64
CH_FULL, MH_FULL = c64((1 << abi.CH_SLOTS) - 1), c64((1 << abi.MH_SLOTS) - 1)
# what select keeps after the words of the set it read last (Task.sel_copy): where the set
# was, its length, its chandle mask and whether BITS was a member (in the allocated block,
# not the task structure, which every task has)
SEL_KEPT = ("ref", "n", "mask", "bits")
# the syscalls that wait in recv (ST_RECV), whose wait a call may end by a handoff
RECV_SYSCALLS = ("recv", "recv_until", "recv_type")
# the syscalls whose caller waits for a reply (a reply writes the registers they read)
CALL_SYSCALLS = ("call", "call_until", "call_move")
# the syscalls that set deadlines: a program without them has no timer code at all
TIMED_SYSCALLS = ("wait_until", "recv_until", "sleep", "timer", "call_until", "deadline")
# the wait each state is, for the `b` of a timeout event (a recv's is the default, 0)
TIMEOUT_OF_STATE = {L.ST_WAIT: "wait", L.ST_SLEEP: "sleep", L.ST_CALL_SEND: "call",
                    L.ST_CALL_REPLY: "reply", L.ST_OPEN: "open", L.ST_SEND: "send",
                    L.ST_PUSH: "push", L.ST_SENDB: "sendbuf", L.ST_CALLB_SEND: "callbuf",
                    L.ST_CALLB_REPLY: "replybuf", L.ST_RECVB: "recvbuf", L.ST_SELECT: "select"}
BITS_SLOT = abi.CH_SLOTS       # select's slot for the pending word (vm.kernel.BITS_SLOT)
MADV_DONTNEED = 4
PAGE = 4096
LINE_MAX = 1 << 26
# the syscalls Python makes for a host task (run.Machine) through mk_sys
HOST_SYSCALLS = ("channel", "recv", "reply")
# the syscalls of long messages, which copy between two tasks' memories (buf_copy), and copy
BUF_SYSCALLS = ("sendbuf", "callbuf", "recvbuf", "replybuf", "pushbuf", "copy")
# the syscalls of shared segments: a program without them has no segment code in the kernel
SEG_SYSCALLS = ("segment", "grant", "revoke", "copy")
SEG_HEADER = 64      # bytes before a segment's words: its Seg record, and 64-byte alignment
COPY_VEC, COPY_UNROLL = 8, 4   # buf_copy: words per vector move, vector moves per step


def string_table(strings: list[str]) -> tuple[bytearray, list[int], list[int]]:
    """The program's strings as one byte blob, with each one's offset and length."""
    blob, offs, lens = bytearray(), [], []
    for text in strings:
        data = text.encode("utf-8")
        offs.append(len(blob))
        lens.append(len(data))
        blob += data
    return blob, offs, lens


def return_site_flags(program) -> list[int]:
    """flags[pc] = 1 where pc (0..len(code)) is a return site, for ret and call chains."""
    sites = program.return_sites()
    return [1 if pc in sites else 0 for pc in range(len(program.code) + 1)]


class KernelIR(HandlesIR):
    CH_FULL = CH_FULL

    def __init__(self, module: ir.Module, lay: L.Layout, program, names: list[int],
                 keys: list[int], traced: bool = False, reply_reads: int | None = None):
        """keys: the resume keys of the program (lower.resume_keys); reply_reads: the
        registers a1..a4 a caller may read from a reply (lower.reply_reads; all if None).
        program None: the kernel of the native interpreter (vmloop.py), the same for every
        program, which reads the program's tables from Kernel.prog at run time and has
        every syscall."""
        self.generic = program is None
        self.m = module
        self.reply_reads = ((1 << isa.NREGS) - 1) if reply_reads is None else reply_reads
        self.keys = keys
        self.traced = traced
        self.lay = lay
        self.p = program
        self.K = lay.ptr("Kernel")
        self.T = lay.ptr("Task")
        self.Ch = lay.ptr("Chan")
        self.Cn = lay.ptr("Conn")
        self.names = names
        # a syscall's code is built only where some sys instruction or a host task may
        # make it: the others would cost a cold compile their optimisation for nothing
        used = {sc.name for sc in abi.SYSCALLS} if program is None else {
            abi.SYSCALLS[ins.imm & abi.SYS_MASK].name for ins in program.code
            if ins.info.name == "sys"}
        self.syscalls = [sc for sc in abi.SYSCALLS if sc.name in used or sc.name in HOST_SYSCALLS]
        self.used = used
        self.timed = any(name in used for name in TIMED_SYSCALLS)
        self.segs = any(name in used for name in SEG_SYSCALLS)
        self._libc()
        self._tables()
        self.f: dict[str, ir.Function] = {}

    # -- externals and constant tables --------------------------------------------------
    def _libc(self):
        m = self.m
        self.calloc = ir.Function(m, ir.FunctionType(I8P, [I64, I64]), "calloc")
        self.realloc = ir.Function(m, ir.FunctionType(I8P, [I8P, I64]), "realloc")
        self.free = ir.Function(m, ir.FunctionType(ir.VoidType(), [I8P]), "free")
        self.memcpy = ir.Function(m, ir.FunctionType(I8P, [I8P, I8P, I64]), "memcpy")
        self.memset = ir.Function(m, ir.FunctionType(I8P, [I8P, I32, I64]), "memset")
        self.memmove = ir.Function(m, ir.FunctionType(I8P, [I8P, I8P, I64]), "memmove")
        self.memcmp = ir.Function(m, ir.FunctionType(I32, [I8P, I8P, I64]), "memcmp")
        self.madvise = ir.Function(m, ir.FunctionType(I32, [I8P, I64, I32]), "madvise")

    def _global(self, name, ty, init):
        g = ir.GlobalVariable(self.m, ty, name)
        g.global_constant = True
        g.linkage = "internal"
        g.initializer = init
        return g

    def _tables(self):
        self.g_nl = self._global("mk.nl", ir.ArrayType(I8, 1), ir.Constant(ir.ArrayType(I8, 1),
                                                                           bytearray(b"\n")))
        if self.generic:
            return
        p = self.p
        # a spawned task resumes at its entry: the index of that key. Python reads these
        # two tables (to boot tasks and to report where tasks wait), not recomputing them
        where = {k: i for i, k in enumerate(self.keys)}
        entries = [where[t.entry] for t in p.tasks] or [0]
        self.g_entries = self._global("mk_entry_resume", ir.ArrayType(I64, len(entries)),
                                      ir.Constant(ir.ArrayType(I64, len(entries)), entries))
        self.g_entries.linkage = ""         # exported (the default linkage)
        keys = [len(self.keys)] + self.keys
        g = self._global("mk_keys", ir.ArrayType(I64, len(keys)),
                         ir.Constant(ir.ArrayType(I64, len(keys)), keys))
        g.linkage = ""
        self.ntypes = len(p.tasks)
        sites = return_site_flags(p)
        self.g_retsite = self._global("mk.retsite", ir.ArrayType(I8, len(sites)),
                                      ir.Constant(ir.ArrayType(I8, len(sites)), sites))
        blob, offs, lens = string_table(p.strings)
        blob += b" "
        n = max(len(offs), 1)
        self.nstrings = len(p.strings)
        self.g_blob = self._global("mk.strs", ir.ArrayType(I8, len(blob)),
                                   ir.Constant(ir.ArrayType(I8, len(blob)), bytearray(blob)))
        self.g_soff = self._global("mk.soff", ir.ArrayType(I64, n),
                                   ir.Constant(ir.ArrayType(I64, n), offs or [0]))
        self.g_slen = self._global("mk.slen", ir.ArrayType(I64, n),
                                   ir.Constant(ir.ArrayType(I64, n), lens or [0]))
        self.g_names = self._global("mk.names", ir.ArrayType(I64, n),
                                    ir.Constant(ir.ArrayType(I64, n), self.names or [0]))
        lits = literal_names(p.strings, self.names)
        self.nlits = len(lits) // (L.NAME_WORDS + 1)
        self.g_lits = self._global("mk.lits", ir.ArrayType(I64, len(lits) or 1),
                                   ir.Constant(ir.ArrayType(I64, len(lits) or 1), lits or [0]))

    def _elem(self, b: B, g, idx):
        return b.load(b.gep(g, [c64(0), idx], inbounds=True))

    # the program's tables: constants of a compiled tier, Kernel.prog of the interpreter
    def _prog(self, b: B, k, field: str, idx=None):
        v = b.get(b.get(k, "prog"), field)
        return v if idx is None else b.load(b.gep(v, [idx]))

    def _count(self, b: B, k, field: str, n: int):
        return self._prog(b, k, field) if self.generic else c64(n)

    def _table(self, b: B, k, field: str, g, idx):
        return self._prog(b, k, field, idx) if self.generic else self._elem(b, g, idx)

    def _string(self, b: B, k, s):
        """(pointer, length) of string s of the program (s checked by the caller)."""
        off = self._table(b, k, "soff", getattr(self, "g_soff", None), s)
        n = self._table(b, k, "slen", getattr(self, "g_slen", None), s)
        base = self._prog(b, k, "strs") if self.generic else \
            b.gep(self.g_blob, [c64(0), c64(0)], inbounds=True)
        return b.gep(base, [off]), n

    # -- function scaffolding -----------------------------------------------------------
    def _fn(self, name, ret, args, inline=None):
        """A kernel function; inline: "always", "never", "unoptimised" (not inlined and
        not optimised: for the functions that run once per task or per run, or for host
        tasks, whose optimisation was most of a small program's cold compile) or None."""
        fn = ir.Function(self.m, ir.FunctionType(ret, args), name)
        fn.linkage = "internal"
        if inline == "always":
            fn.attributes.add("alwaysinline")
        elif inline == "never":
            fn.attributes.add("noinline")
        elif inline == "unoptimised":
            fn.attributes.add("noinline")
            fn.attributes.add("optnone")
        fn.attributes.add("nounwind")
        self.f[name] = fn
        return fn, B(fn, self.lay)

    def build(self):
        self._plan()
        self._rq()
        self._timers()
        self._wake()
        self._alloc()
        self._conn_table()
        self._text()
        self._trace()
        self._select_fns()
        self._tick()
        self._slots()
        self._handles()
        self._chain()
        self._close()
        self._supervision()
        self._segments()
        self._task_end()
        self._fault()
        self._connect()
        if any(sc.name in BUF_SYSCALLS for sc in self.syscalls):
            self._buf_copy()
        self._syscalls()
        self._exports()

    # -- the ready queue ------------------------------------------------------------------
    def _rq(self):
        """The ready queue: a ring of rq_mask + 1 entries; rq_head and rq_tail count the
        tasks taken and added since the run began (the queue holds rq_tail - rq_head).
        Only live tasks are ready, so a ring with room for every live task never fills:
        it starts small and doubles when a spawn makes more tasks alive than it holds,
        inside a region reserved for as many entries as tasks may be alive (run.py), and a
        push checks nothing. A ring as large as that region from the start would have the
        queue's positions walk through all of it, a fresh page every 512 switches, however
        few tasks are ever ready."""
        # rq_grow(k): double the ring. Entry i moves from i & mask to i & (2 mask + 1),
        # which is where it was or that plus the old size: the copy reads the old half
        # and writes only the new one, so its order does not matter.
        fn, b = self._fn("rq_grow", ir.VoidType(), [self.K], "unoptimised")
        (k,) = fn.args
        fn.attributes.add("cold")
        ring, head, mask = b.get(k, "ready"), b.get(k, "rq_head"), b.get(k, "rq_mask")
        wide = b.add(b.shl(mask, c64(1)), c64(1))

        def move(j):
            i = b.add(head, j)
            t = b.load_as(b.gep(ring, [b.and_(i, mask)]), "ring")
            b.store_as(t, b.gep(ring, [b.and_(i, wide)]), "ring")
        b.loop_range(b.sub(b.get(k, "rq_tail"), head), move)
        b.put(k, "rq_mask", wide)
        b.ret_void()

        fn, b = self._fn("rq_push", ir.VoidType(), [self.K, self.T], "always")
        k, t = fn.args
        tail = b.get(k, "rq_tail")
        pos = b.and_(tail, b.get(k, "rq_mask"))
        b.store_as(t, b.gep(b.get(k, "ready"), [pos]), "ring")
        b.put(k, "rq_tail", b.add(tail, c64(1)))
        b.put(t, "state", L.READY)
        b.ret_void()

        # rq_pick(k): the next task; the queue must not be empty. A task queued when its
        # deadline came has it applied now (expire, built with the clock: _tick)
        if self.timed:
            self.expire_b = self._fn("expire", ir.VoidType(), [self.K, self.T], "never")[1]
        fn, b = self._fn("rq_pick", self.T, [self.K], "always")
        (k,) = fn.args
        ring, count, mask = b.get(k, "ready"), b.get(k, "rq_head"), b.get(k, "rq_mask")
        head = b.and_(count, mask)
        seed = b.get(k, "seed")

        def swap(kk):
            # the k-th task swaps places with the head
            pa = b.gep(ring, [head])
            pb = b.gep(ring, [b.and_(b.add(head, kk), mask)])
            ta, tb = b.load_as(pa, "ring"), b.load_as(pb, "ring")
            b.store_as(tb, pa, "ring")
            b.store_as(ta, pb, "ring")
        with b.when(b.cmp("!=", seed, 0)):
            swap(b.urem(self.splitmix(b, k, "rng"), b.sub(b.get(k, "rq_tail"), count)))
        # a planned run (its seed is 0): a decision when two tasks or more are ready
        with b.when(b.cmp("!=", b.get(k, "xmode"), 0), likely=False):
            n = b.sub(b.get(k, "rq_tail"), count)
            with b.when(b.cmp(">", n, 1)):
                swap(b.call(self.f["decide"], [k, n, c64(0)]))
        t = b.load_as(b.gep(ring, [head]), "ring")
        b.put(k, "rq_head", b.add(count, c64(1)))
        if self.timed:
            with b.when(b.cmp("!=", b.get(t, "exp_at"), 0), likely=False):
                b.call(self.f["expire"], [k, t])
        b.ret(t)

    def splitmix(self, b: B, k, field: str):
        """The next draw of the splitmix64 generator whose state is Kernel.field."""
        st = b.add(b.get(k, field), c64(SPLITMIX_GAMMA))
        b.put(k, field, st)
        z = b.mul(b.xor(st, b.lshr(st, c64(30))), c64(abi.SPLITMIX[1]))
        z = b.mul(b.xor(z, b.lshr(z, c64(27))), c64(abi.SPLITMIX[2]))
        return b.xor(z, b.lshr(z, c64(31)))

    # -- planned runs (mikro.vm.schedule; Kernel.decide is the reference) -----------------
    def _plan(self):
        """decide(k, n, chooser) -> value: the next decision of a planned run, which could
        go n >= 2 ways (chooser: the id of the task in choose, 0 for a pick): the plan's
        value (0 and noted in xbad when it is n or more), else its tail's; logged.
        pct_best(k): the position in the ready queue of its task of highest priority."""
        fn, b = self._fn("pct_best", I64, [self.K], "never")
        (k,) = fn.args
        ring, head, mask = b.get(k, "ready"), b.get(k, "rq_head"), b.get(k, "rq_mask")
        prio, nprio = b.get(k, "xprio"), b.get(k, "xnprio")
        best, at = b.var(0), b.var(0)

        def each(j):
            t = b.load_as(b.gep(ring, [b.and_(b.add(head, j), mask)]), "ring")
            p = b.load(b.gep(prio, [b.urem(b.get(t, "id"), nprio)]))
            with b.when(b.or_(b.cmp("==", j, 0), b.cmp(">", p, b.load(best)))):
                b.store(p, best)
                b.store(j, at)
        b.loop_range(b.sub(b.get(k, "rq_tail"), head), each)
        b.ret(b.load(at))

        fn, b = self._fn("decide", I64, [self.K, I64, I64], "never")
        k, n, chooser = fn.args
        i = b.get(k, "xmade")
        b.put(k, "xmade", b.add(i, c64(1)))
        v = b.var(0)
        mode = b.get(k, "xmode")
        planned, tail = b.block("planned"), b.block("tail")
        done = b.block("decided")
        b.cbranch(b.cmp("<", i, b.get(k, "xdlen")), planned, tail)
        b.position_at_end(planned)
        pv = b.load(b.gep(b.get(k, "xdec"), [i]))
        with b.if_else(b.cmp(">=", pv, n, signed=False)) as (bad, good):
            with bad:
                with b.when(b.cmp("==", b.get(k, "xbad"), 0)):
                    b.put(k, "xbad", b.add(i, c64(1)))
            with good:
                b.store(pv, v)
        b.branch(done)
        b.position_at_end(tail)
        is_pct = b.cmp("==", mode, TAIL_CODE["pct"])
        drawn = b.or_(b.cmp("==", mode, TAIL_CODE["random"]),
                      b.and_(is_pct, b.cmp("!=", chooser, 0)))
        draw, other = b.block("draw"), b.block("other")
        b.cbranch(drawn, draw, other)
        b.position_at_end(draw)
        b.store(b.urem(self.splitmix(b, k, "xrng"), n), v)
        b.branch(done)
        b.position_at_end(other)
        with b.when(is_pct):
            ch = b.get(k, "xchanged")
            with b.when(b.cmp("<", ch, b.get(k, "xnchanges"))):
                with b.when(b.cmp("<=", b.load(b.gep(b.get(k, "xchanges"), [ch])), i)):
                    # the task that would run now drops to priority (change points passed)
                    ch1 = b.add(ch, c64(1))
                    b.put(k, "xchanged", ch1)
                    t = self.ready_at(b, k, b.call(self.f["pct_best"], [k]))
                    b.store(ch1, b.gep(b.get(k, "xprio"), [b.urem(b.get(t, "id"),
                                                                   b.get(k, "xnprio"))]))
            b.store(b.call(self.f["pct_best"], [k]), v)
        b.branch(done)
        b.position_at_end(done)
        val = b.load(v)
        with b.when(b.cmp("<", i, abi.DECISIONS_MAX)):
            rec = b.gep(b.get(k, "xlog"), [b.mul(i, c64(len(L.PLAN_LOG)))])
            is_pick = b.cmp("==", chooser, 0)
            task = b.select(is_pick, b.get(self.ready_at(b, k, val), "id"), chooser)
            size = c64(8 * len(trace.FIELDS))
            event = b.add(b.get(k, "xevents"), b.udiv(b.get(k, "trace_len"), size))
            for j, w in enumerate([b.select(is_pick, n, b.sub(c64(0), n)), val, task, event]):
                b.store(w, b.gep(rec, [c64(j)]))
        b.ret(val)

    def ready_at(self, b: B, k, j):
        """The task at position j of the ready queue (0: its head)."""
        ring, head = b.get(k, "ready"), b.get(k, "rq_head")
        return b.load_as(b.gep(ring, [b.and_(b.add(head, j), b.get(k, "rq_mask"))]), "ring")

    def _wake(self):
        """wake(k, t, status): status to a0; on error the result registers of its wait are 0.
        A task queued already, its deadline come (exp_at), is not queued twice."""
        fn, b = self._fn("wake", ir.VoidType(), [self.K, self.T, I64])
        k, t, st = fn.args
        with b.when(b.cmp("!=", st, 0)):
            self.zero_results(b, t)
        b.put(t, "regs", st, A0)
        self.untime(b, k, t)
        if self.timed:
            with b.when(b.cmp("!=", b.get(t, "exp_at"), 0), likely=False):
                b.put(t, "exp_at", 0)
                b.put(t, "state", L.READY)
                b.ret_void()
        b.call(self.f["rq_push"], [k, t])
        b.ret_void()

    def zero_results(self, b: B, t):
        """The result registers of the wait t is in, zeroed (it ends in an error)."""
        state = b.get(t, "state")
        for s, nres in NRES_OF_STATE.items():
            if nres:
                with b.when(b.cmp("==", state, s)):
                    for i in range(1, nres + 1):
                        b.put(t, "regs", 0, A0 + i)

    # -- memory for kernel objects ------------------------------------------------------
    def _alloc(self):
        """kalloc(k, size): zeroed memory freed with the run (a list through a header word),
        16-byte aligned as calloc's is (a chandle slot keeps its kind in a connection's
        low address bits)."""
        fn, b = self._fn("kalloc", I8P, [self.K, I64], "never")
        k, size = fn.args
        p = b.call(self.calloc, [c64(1), b.add(size, c64(16))])
        with b.when(b.isnull(p)):
            b.put(k, "oom", 1)
            b.ret(b.null(I8P))
        b.store(b.get(k, "allocs"), b.bitcast(p, I8P.as_pointer()))
        b.put(k, "allocs", p)
        b.ret(b.gep(p, [c64(16)]))

    def _cttz(self) -> ir.Function:
        """llvm.cttz.i64, declared once."""
        fn = self.m.globals.get("llvm.cttz.i64")
        return fn or ir.Function(self.m, ir.FunctionType(I64, [I64, ir.IntType(1)]),
                                 "llvm.cttz.i64")

    # -- the open connections of a MANY channel ------------------------------------------
    def _conn_table(self):
        """A channel's open connections in a table by id (open addressing, linear probing
        from id & (cap - 1), at most half full, deletion by shifting back, so no tombstone
        stays): find and add in O(1) expected, and a channel holds what is open, not every
        connection it ever had. A closed connection's storage is reused once no mhandle of
        the server names it (conn_release); the ids themselves are never given twice."""
        CnP = self.Cn.as_pointer()
        fn, b = self._fn("conn_find", self.Cn, [self.Ch, I64], "never")
        c, cid = fn.args
        cap = b.get(c, "conns_cap")
        with b.when(b.cmp("==", cap, 0)):
            b.ret(b.null(self.Cn))
        tab, mask = b.get(c, "conns"), b.sub(cap, c64(1))
        i = b.var(b.and_(cid, mask))
        head, hit, nxt = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        e = b.load_as(b.gep(tab, [b.load(i)]), "conns")
        with b.when(b.isnull(e)):
            b.ret(e)
        b.cbranch(b.cmp("==", b.get(e, "id"), cid), hit, nxt)
        b.position_at_end(hit)
        b.ret(e)
        b.position_at_end(nxt)
        b.store(b.and_(b.add(b.load(i), c64(1)), mask), i)
        b.branch(head)

        def place(b, tab, mask, cn):
            """Put cn in the first free slot from its home."""
            i = b.var(b.and_(b.get(cn, "id"), mask))
            head, free = b.block(), b.block()
            b.branch(head)
            b.position_at_end(head)
            at = b.gep(tab, [b.load(i)])
            b.store(b.and_(b.add(b.load(i), c64(1)), mask), i)
            b.cbranch(b.isnull(b.load_as(at, "conns")), free, head)
            b.position_at_end(free)
            b.store_as(cn, at, "conns")

        # conn_add(k, c, cn) -> 0, or -1 when the system refuses the memory of a larger table
        fn, b = self._fn("conn_add", I64, [self.K, self.Ch, self.Cn], "never")
        k, c, cn = fn.args
        cap, live = b.get(c, "conns_cap"), b.get(c, "nlive")
        with b.when(b.cmp(">", b.mul(b.add(live, c64(1)), c64(2)), cap)):
            nc = b.select(b.cmp("==", cap, 0), c64(16), b.mul(cap, c64(2)))
            raw = b.call(self.f["kalloc"], [k, b.mul(nc, c64(8))])
            with b.when(b.isnull(raw)):
                b.ret(c64(-1))
            new, old = b.bitcast(raw, CnP), b.get(c, "conns")

            def move(j):
                e = b.load_as(b.gep(old, [j]), "conns")
                with b.when(b.not_(b.isnull(e))):
                    place(b, new, b.sub(nc, c64(1)), e)
            b.loop_range(cap, move)
            b.put(c, "conns", new)
            b.put(c, "conns_cap", nc)
        place(b, b.get(c, "conns"), b.sub(b.get(c, "conns_cap"), c64(1)), cn)
        b.put(c, "nlive", b.add(b.get(c, "nlive"), c64(1)))
        b.ret(c64(0))

        # conn_drop(c, cn): take cn (in the table) out, shifting back the entries after it
        # that may sit closer to their home
        fn, b = self._fn("conn_drop", ir.VoidType(), [self.Ch, self.Cn], "never")
        c, cn = fn.args
        tab, mask = b.get(c, "conns"), b.sub(b.get(c, "conns_cap"), c64(1))
        i = b.var(b.and_(b.get(cn, "id"), mask))
        find, found = b.block(), b.block()
        b.branch(find)
        b.position_at_end(find)
        here = b.load_as(b.gep(tab, [b.load(i)]), "conns")
        miss = b.icmp_unsigned("!=", here, cn)
        with b.when(miss):
            b.store(b.and_(b.add(b.load(i), c64(1)), mask), i)
            b.branch(find)
        b.branch(found)
        b.position_at_end(found)
        b.store_as(b.null(self.Cn), b.gep(tab, [b.load(i)]), "conns")
        b.put(c, "nlive", b.sub(b.get(c, "nlive"), c64(1)))
        j = b.var(b.load(i))
        head, look, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        b.store(b.and_(b.add(b.load(j), c64(1)), mask), j)
        e = b.load_as(b.gep(tab, [b.load(j)]), "conns")
        b.cbranch(b.isnull(e), done, look)
        b.position_at_end(look)
        jv, iv = b.load(j), b.load(i)
        home = b.and_(b.get(e, "id"), mask)
        far = b.icmp_unsigned(">=", b.and_(b.sub(jv, home), mask), b.and_(b.sub(jv, iv), mask))
        with b.when(far):
            b.store_as(e, b.gep(tab, [iv]), "conns")
            b.store_as(b.null(self.Cn), b.gep(tab, [jv]), "conns")
            b.store(jv, i)
        b.branch(head)
        b.position_at_end(done)
        b.ret_void()

        # conn_new(k): zeroed storage for a connection, reused when some is free
        size = 8 * len(L.STRUCTS["Conn"])
        fn, b = self._fn("conn_new", self.Cn, [self.K], "never")
        (k,) = fn.args
        top = b.get(k, "conn_free")
        with b.when(b.not_(b.isnull(top))):
            b.put(k, "conn_free", b.get(top, "next_free"))
            b.call(self.memset, [b.bitcast(top, I8P), ir.Constant(I32, 0), c64(size)])
            b.ret(top)
        b.ret(b.bitcast(b.call(self.f["kalloc"], [k, c64(size)]), self.Cn))

        # named(c, cn): an mhandle of c's server names cn (its used slots, at most 64)
        ctz = self._cttz()
        fn, b = self._fn("conn_named", ir.IntType(1), [self.Ch, self.Cn], "never")
        c, cn = fn.args
        srv = b.get(c, "t0")
        mh = b.get(srv, "mh")
        with b.when(b.isnull(mh)):
            b.ret(ir.Constant(ir.IntType(1), 0))
        bits = b.var(b.get(srv, "mh_used"))
        head, body = b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        bv = b.load(bits)
        with b.when(b.cmp("==", bv, 0)):
            b.ret(ir.Constant(ir.IntType(1), 0))
        b.branch(body)
        b.position_at_end(body)
        sl = b.call(ctz, [bv, ir.Constant(ir.IntType(1), 1)])
        b.store(b.and_(bv, b.sub(bv, c64(1))), bits)
        with b.when(b.icmp_unsigned("==", b.get(b.gep(mh, [sl]), "conn"), cn)):
            b.ret(ir.Constant(ir.IntType(1), 1))
        b.branch(head)

        # conn_release(k, c, cn): cn was closed; its storage goes back to the kernel unless
        # an mhandle still names it (then it waits on c's zombies), and so do the zombies
        # no mhandle names any more
        fn, b = self._fn("conn_release", ir.VoidType(), [self.K, self.Ch, self.Cn], "never")
        k, c, cn = fn.args
        b.put(cn, "next_free", b.get(c, "zombies"))
        b.put(c, "zombies", cn)
        prev = b.var(None, self.Cn.as_pointer())
        b.store(b.fp(c, "zombies"), prev)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        z = b.load(b.load(prev))
        b.cbranch(b.isnull(z), done, body)
        b.position_at_end(body)
        named = b.call(self.f["conn_named"], [c, z])
        with b.if_else(named) as (keep, free):
            with keep:
                b.store(b.fp(z, "next_free"), prev)
            with free:
                b.store(b.get(z, "next_free"), b.load(prev))
                b.put(z, "next_free", b.get(k, "conn_free"))
                b.put(k, "conn_free", z)
        b.branch(head)
        b.position_at_end(done)
        b.ret_void()

    # -- text: per-task lines and the run's output ---------------------------------------
    def _grow(self, b: B, obj, pf, lf, cf, extra, refused=None):
        """Make room for `extra` more bytes in the buffer (pf, lf, cf) of obj. When the
        system refuses the memory, the calling function returns (void) with nothing done
        (after `refused()` emits what else to do)."""
        ln, cap = b.get(obj, lf), b.get(obj, cf)
        need = b.add(ln, extra)
        with b.when(b.cmp(">", need, cap)):
            nc = b.select(b.cmp(">", need, b.mul(cap, c64(2))), b.add(need, c64(64)),
                          b.mul(cap, c64(2)))
            np_ = b.call(self.realloc, [b.get(obj, pf), nc])
            with b.when(b.isnull(np_)):
                if refused is not None:
                    refused()
                b.ret_void()
            b.put(obj, pf, np_)
            b.put(obj, cf, nc)
        return ln

    def _text(self):
        fn, b = self._fn("out_append", ir.VoidType(), [self.K, I8P, I64], "never")
        k, src, n = fn.args
        ln = self._grow(b, k, "out", "out_len", "out_cap", n)
        dst = b.gep(b.get(k, "out"), [ln])
        b.call(self.memcpy, [dst, src, n])
        b.put(k, "out_len", b.add(ln, n))
        b.ret_void()

        fn, b = self._fn("line_append", ir.VoidType(), [self.T, I8P, I64], "never")
        t, src, n = fn.args
        # a line longer than LINE_MAX bytes keeps its first LINE_MAX bytes only
        with b.when(b.cmp(">", b.add(b.get(t, "line_len"), n), LINE_MAX)):
            b.ret_void()
        ln = self._grow(b, t, "line", "line_len", "line_cap", b.add(n, c64(1)))
        # items on a line are separated by one space
        items = b.get(t, "line_items")
        pos = b.var(ln)
        with b.when(b.cmp(">", items, 0)):
            b.store(ir.Constant(I8, 0x20), b.gep(b.get(t, "line"), [ln]))
            b.store(b.add(ln, c64(1)), pos)
        p = b.load(pos)
        b.call(self.memcpy, [b.gep(b.get(t, "line"), [p]), src, n])
        b.put(t, "line_len", b.add(p, n))
        b.put(t, "line_items", b.add(items, c64(1)))
        b.ret_void()

        fn, b = self._fn("line_flush", ir.VoidType(), [self.K, self.T], "never")
        k, t = fn.args
        b.call(self.f["out_append"], [k, b.get(t, "line"), b.get(t, "line_len")])
        b.call(self.f["out_append"], [k, b.gep(self.g_nl, [c64(0), c64(0)]), c64(1)])
        b.put(t, "line_len", 0)
        b.put(t, "line_items", 0)
        b.ret_void()

        fn, b = self._fn("put_int", ir.VoidType(), [self.T, I64], "never")
        t, v = fn.args
        buf = b.alloca(ir.ArrayType(I8, 24))
        neg = b.cmp("<", v, 0)
        u = b.var(b.select(neg, b.sub(c64(0), v), v))
        pos = b.var(24)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(body)
        b.position_at_end(body)
        uv = b.load(u)
        p = b.sub(b.load(pos), c64(1))
        b.store(p, pos)
        digit = b.trunc(b.add(b.urem(uv, c64(10)), c64(48)), I8)
        b.store(digit, b.gep(buf, [c64(0), p]))
        q = b.udiv(uv, c64(10))
        b.store(q, u)
        b.cbranch(b.cmp("!=", q, 0), body, head)
        b.position_at_end(head)
        with b.when(neg):
            p = b.sub(b.load(pos), c64(1))
            b.store(p, pos)
            b.store(ir.Constant(I8, 45), b.gep(buf, [c64(0), p]))
        p = b.load(pos)
        b.call(self.f["line_append"], [t, b.gep(buf, [c64(0), p]), b.sub(c64(24), p)])
        b.branch(done)
        b.position_at_end(done)
        b.ret_void()

    # -- the trace ------------------------------------------------------------------------
    def _trace(self):
        """trace_rec(k, kind, t, handle, peer, a, b, w0..w3): one record of TRACE fields,
        time first; peer may be null (0). A record the system has no memory for is
        counted in trace_lost."""
        if not self.traced:
            return
        T = self.T
        fn, b = self._fn("trace_rec", ir.VoidType(), [self.K, I64, T, I64, T] + [I64] * 7,
                         "never")
        k, kind, t, h, peer, a, bb, *w = fn.args
        size = 8 * len(trace.FIELDS)
        at = self._grow(b, k, "trace", "trace_len", "trace_cap", c64(size),
                        refused=lambda: b.put(k, "trace_lost", b.add(b.get(k, "trace_lost"),
                                                                    c64(1))))
        pid = b.var(0)
        with b.when(b.not_(b.isnull(peer))):
            b.store(b.get(peer, "id"), pid)
        rec = b.bitcast(b.gep(b.get(k, "trace"), [at]), I64P)
        values = [b.sub(b.get(k, "trace_base"), b.get(k, "fuel")), kind, b.get(t, "id"), h,
                  b.load(pid), a, bb] + list(w)
        for j, v in enumerate(values):
            b.store(v, b.gep(rec, [c64(j)]))
        b.put(k, "trace_len", b.add(at, c64(size)))
        b.ret_void()

    def rec(self, b: B, k, kind: str, t, h=0, peer=None, a=0, bb=0, words=(), n=0):
        """Record an event (traced builds only): the same point and fields as
        mikro.vm.kernel's `record`."""
        if not self.traced:
            return
        val = (lambda v: c64(v) if isinstance(v, int) else v)
        words = [val(w) for w in words] + [c64(0)] * (abi.MSG_WORDS - len(words))
        b.call(self.f["trace_rec"], [k, c64(trace.KIND[kind]), t, val(h),
                                     b.null(self.T) if peer is None else peer, val(a), val(bb)]
               + words + [val(n)])

    # -- handle slots -----------------------------------------------------------------------
    def _slots(self):
        ctz = self._cttz()
        for kind in ("ch", "mh"):
            fn, b = self._fn(f"{kind}_alloc", I64, [self.T], "always")
            (t,) = fn.args
            used = b.get(t, f"{kind}_used")
            s = b.call(ctz, [b.not_(used), ir.Constant(ir.IntType(1), 0)])
            b.put(t, f"{kind}_used", b.or_(used, b.shl(c64(1), s)))
            b.ret(s)
        fn, b = self._fn("ch_free", ir.VoidType(), [self.T, I64], "always")
        t, s = fn.args
        b.put(t, "ch_used", b.and_(b.get(t, "ch_used"), b.not_(b.shl(c64(1), s))))
        slot = b.gep(b.fp(t, "ch"), [c64(0), s])
        b.put(slot, "chan", b.null(self.Ch))
        b.put(slot, "word", L.K_FREE)
        b.ret_void()
        fn, b = self._fn("mh_free", ir.VoidType(), [self.T, I64], "always")
        t, s = fn.args
        b.put(t, "mh_used", b.and_(b.get(t, "mh_used"), b.not_(b.shl(c64(1), s))))
        slot = b.gep(b.get(t, "mh"), [s])
        # the next message in this slot has the next generation and waits for nothing yet
        h = b.lshr(b.get(slot, "word"), c64(1))
        gen = b.and_(b.add(b.lshr(h, c64(abi.GEN_SHIFT)), c64(1)), c64(abi.GEN_MASK))
        low = b.and_(h, c64((1 << abi.GEN_SHIFT) - 1))
        b.put(slot, "word", b.shl(b.or_(b.shl(gen, c64(abi.GEN_SHIFT)), low), c64(1)))
        b.ret_void()

        # hkind(t, h): 0 not a handle, K_ONE/K_SERVER/K_CLIENT a chandle, 4 an mhandle
        fn, b = self._fn("hkind", I64, [self.T, I64], "always")
        t, h = fn.args
        with b.when(b.cmp("<", h, abi.CH_SLOTS, signed=False)):
            used = b.and_(b.lshr(b.get(t, "ch_used"), h), c64(1))
            with b.when(b.cmp("==", used, 0)):
                b.ret(c64(0))
            b.ret(self.kind(b, b.gep(b.fp(t, "ch"), [c64(0), h])))
        self.live_mslot(b, t, h, lambda: b.ret(c64(0)))
        b.ret(c64(4))

    def live_mslot(self, b: B, t, h, fail):
        """(slot index, slot) of h (>= CH_SLOTS) once the tests that it is a live mhandle
        of t passed; `fail()` ends the block where one fails. A slot in use implies the
        table exists (a task without one has none in use), and it holds the mhandle of its
        message, a well-formed one (tag, slot and generation): equal to it, h is live."""
        s = b.and_(h, c64(abi.MH_SLOTS - 1))
        with b.when(b.cmp("==", b.and_(b.lshr(b.get(t, "mh_used"), s), c64(1)), 0),
                    likely=False):
            fail()
        ms = b.gep(b.get(t, "mh"), [s])
        with b.when(b.cmp("!=", b.lshr(b.get(ms, "word"), c64(1)), h), likely=False):
            fail()
        return s, ms

    def chandle(self, b: B, t, h):
        """(slot, kind) of h for a syscall that takes a chandle, the way hkind would give
        them, with the slot computed once: a live mhandle fails with E_INVAL, any other
        value that is not a chandle in use with E_BADHANDLE (both cold). A slot in use has
        a kind (1..3): ch_alloc and set_slot go together."""
        with b.when(b.cmp(">=", h, abi.CH_SLOTS, signed=False), likely=False):
            self.live_mslot(b, t, h, lambda: self.err(b, t, "E_BADHANDLE"))
            self.err(b, t, "E_INVAL")
        with b.when(b.cmp("==", b.and_(b.lshr(b.get(t, "ch_used"), h), c64(1)), 0),
                    likely=False):
            self.err(b, t, "E_BADHANDLE")
        slot = b.gep(b.fp(t, "ch"), [c64(0), h])
        return slot, self.kind(b, slot)

    # chandle slots: {chan, word}; mhandle slots: {conn, handle << 1 | waits} (layout.py)
    def slot(self, b: B, t, h):
        return b.gep(b.fp(t, "ch"), [c64(0), b.and_(h, c64(abi.CH_SLOTS - 1))])

    def kind(self, b: B, slot):
        return b.and_(b.get(slot, "word"), c64(L.K_MASK))

    def end(self, b: B, slot):
        """The end (0 creator, 1 opener) of a ONE slot."""
        return b.and_(b.lshr(b.get(slot, "word"), c64(2)), c64(1))

    def conn(self, b: B, slot):
        """The connection of a MANY client slot."""
        return b.inttoptr(b.and_(b.get(slot, "word"), c64(~L.PTR_LOW)), self.Cn)

    def set_slot(self, b: B, slot, chan, kind, end=None, conn=None):
        b.put(slot, "chan", chan)
        if conn is not None:
            word = b.or_(b.ptrtoint(conn, I64), c64(kind))
        elif end is not None:
            word = b.or_(c64(kind), b.shl(end, c64(2))) if isinstance(end, ir.Value) \
                else c64(kind | end << 2)
        else:
            word = kind if isinstance(kind, ir.Value) else c64(kind)
        b.put(slot, "word", word)

    def mslot(self, b: B, t, h):
        return b.gep(b.get(t, "mh"), [b.and_(h, c64(abi.MH_SLOTS - 1))])

    def mwaits(self, b: B, ms):
        return b.and_(b.get(ms, "word"), c64(1))

    def msender(self, b: B, ms):
        return b.get(b.get(ms, "conn"), "client")

    def mfill(self, b: B, ms, conn, waits):
        """A new message in mhandle slot ms: through conn, waits (i64 0/1) for a reply."""
        b.put(ms, "conn", conn)
        word = b.get(ms, "word")
        b.put(ms, "word", b.or_(word, waits if isinstance(waits, ir.Value) else c64(waits)))

    def mhandle(self, b: B, t, s):
        return b.lshr(b.get(b.gep(b.get(t, "mh"), [s]), "word"), c64(1))

    def peer(self, b: B, c, end):
        """(task, slot) of the other end of a ONE channel."""
        first = b.cmp("==", end, 0)
        return (b.select(first, b.get(c, "t1"), b.get(c, "t0")),
                b.select(first, b.get(c, "s1"), b.get(c, "s0")))

    def in_any_reply(self, b: B, t):
        """t (not null) waits for the reply of its call or callbuf."""
        st = b.get(t, "state")
        return b.or_(b.cmp("==", st, L.ST_CALL_REPLY), b.cmp("==", st, L.ST_CALLB_REPLY))

    def waits(self, b: B, t, states, handle, nonnull=False):
        """t is not null, waits in one of `states` on `handle` (nonnull: t cannot be)."""
        notnull = ir.Constant(ir.IntType(1), 1) if nonnull else b.not_(b.isnull(t))
        res = b.var(0, ir.IntType(1))
        with b.when(notnull):
            st = b.get(t, "state")
            any_ = ir.Constant(ir.IntType(1), 0)
            for s in states:
                any_ = b.or_(any_, b.cmp("==", st, s))
            b.store(b.and_(any_, b.cmp("==", b.get(t, "wait_handle"), handle)), res)
        return b.load(res)

    # -- call chains ----------------------------------------------------------------------
    def _chain(self):
        """mk_walk(k, t, fp, out) -> n: the return addresses of t's call chain from frame
        pointer fp (docs/vm.md), at most CHAIN_MAX, written to out[0..n-1]."""
        fn, b = self._fn("mk_walk", I64, [self.K, self.T, I64, I64P], "unoptimised")
        k, t, fp0, out = fn.args
        mw = b.get(k, "mem_words")
        mem = b.get(t, "mem")
        fp, n = b.var(fp0), b.var(0)
        head, step, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        nv, f = b.load(n), b.load(fp)
        # 0 <= fp and fp + 1 < mem_words in exact arithmetic: fp + 1 would wrap at 2^63 - 1
        # (mem_words >= 1, so mem_words - 1 does not)
        inmem = b.and_(b.cmp(">=", f, 0), b.cmp("<", f, b.sub(mw, c64(1))))
        b.cbranch(b.and_(b.cmp("<", nv, L.CHAIN_MAX), inmem), step, done)
        b.position_at_end(step)
        ra = b.load(b.gep(mem, [f]))
        ok = b.block()
        nsites = b.add(self._count(b, k, "ncode", len(self.p.code) if self.p else 0), c64(1))
        inrange = b.cmp("<", ra, nsites, signed=False)
        b.cbranch(inrange, ok, done)
        b.position_at_end(ok)
        site = self._table(b, k, "retsite", getattr(self, "g_retsite", None), ra)
        more = b.block()
        b.cbranch(b.icmp_unsigned("!=", site, ir.Constant(I8, 0)), more, done)
        b.position_at_end(more)
        b.store(ra, b.gep(out, [nv]))
        b.store(b.add(nv, c64(1)), n)
        b.store(b.load(b.gep(mem, [b.add(f, c64(1))])), fp)
        b.branch(head)
        b.position_at_end(done)
        b.ret(b.load(n))
        fn.linkage = "external"

        # chain_keep(k, t, fp): t's call chain appended to Kernel.chains, t.chain_off and
        # t.chain_len saying where (an empty chain when the system refuses the memory)
        fn, b = self._fn("chain_keep", ir.VoidType(), [self.K, self.T, I64], "unoptimised")
        k, t, fp0 = fn.args
        at = self._grow(b, k, "chains", "chains_len", "chains_cap", c64(8 * L.CHAIN_MAX))
        out = b.bitcast(b.gep(b.get(k, "chains"), [at]), I64P)
        n = b.call(self.f["mk_walk"], [k, t, fp0, out])
        b.put(t, "chain_off", b.udiv(at, c64(8)))
        b.put(t, "chain_len", n)
        b.put(k, "chains_len", b.add(at, b.mul(n, c64(8))))
        b.ret_void()

    # -- closing handles --------------------------------------------------------------------
    def _enqueue(self, b: B, obj, prefix: str, t):
        """t at the tail of the qnext-linked list obj.{prefix}head .. obj.{prefix}tail."""
        tail = b.get(obj, prefix + "tail")
        with b.if_else(b.isnull(tail)) as (empty, nonempty):
            with empty:
                b.put(obj, prefix + "head", t)
            with nonempty:
                b.put(tail, "qnext", t)
        b.put(obj, prefix + "tail", t)
        b.put(t, "qnext", b.null(self.T))

    def _dequeue(self, b: B, obj, prefix: str, q):
        """Take q, the head of the list obj.{prefix}head .. obj.{prefix}tail, off it."""
        nxt = b.get(q, "qnext")
        b.put(obj, prefix + "head", nxt)
        with b.when(b.isnull(nxt)):
            b.put(obj, prefix + "tail", b.null(self.T))
        b.put(q, "qnext", b.null(self.T))

    def _drain(self, b: B, first, each, link: str = "qnext"):
        """each(task) for every task of the list linked through `link` from `first`, in
        order, each unlinked before its turn (it may be queued again)."""
        w = b.var(first, self.T)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        wt = b.load(w)
        b.cbranch(b.isnull(wt), done, body)
        b.position_at_end(body)
        b.store(b.get(wt, link), w)
        b.put(wt, link, b.null(self.T))
        each(wt)
        b.branch(head)
        b.position_at_end(done)

    def _unregister(self, b: B, k, c):
        name = b.get(c, "name")
        with b.if_else(b.cmp(">=", name, 0)) as (literal, other):
            with literal:
                reg = b.gep(b.get(k, "reg"), [name])
                with b.when(b.icmp_unsigned("==", b.get(reg, "chan"), c)):
                    b.put(reg, "chan", b.null(self.Ch))
            with other:
                self.unregister_name(b, k, c)

    def _close(self):
        wake = self.f["wake"]
        fn, b = self._fn("drop_mh", ir.VoidType(), [self.K, self.T, I64], "unoptimised")
        k, t, s = fn.args
        ms = b.gep(b.get(t, "mh"), [s])
        with b.when(b.cmp("!=", self.mwaits(b, ms), 0)):
            snd = self.msender(b, ms)
            with b.when(self.in_any_reply(b, snd)):
                b.call(wake, [k, snd, c64(E["E_CLOSED"])])
        b.call(self.f["mh_free"], [t, s])
        b.ret_void()

        fn, b = self._fn("close_ch", ir.VoidType(), [self.K, self.T, I64], "unoptimised")
        k, t, s = fn.args
        slot = b.gep(b.fp(t, "ch"), [c64(0), s])
        kind, c = self.kind(b, slot), b.get(slot, "chan")
        dead = b.cmp("!=", b.get(c, "dead"), 0)
        with b.when(b.and_(b.cmp("==", kind, L.K_ONE), b.not_(dead))):
            b.put(c, "dead", 1)
            self._unregister(b, k, c)
            pt, ps = self.peer(b, c, self.end(b, slot))
            w = self.waits(b, pt, (L.ST_RECV, L.ST_SEND, L.ST_CALL_SEND, L.ST_CALL_REPLY,
                                   L.ST_RECVB, L.ST_SENDB, L.ST_CALLB_SEND, L.ST_CALLB_REPLY,
                                   L.ST_SENDM, L.ST_CALLM_SEND), ps)
            with b.when(w):
                b.call(wake, [k, pt, c64(E["E_CLOSED"])])
            with b.when(b.not_(b.isnull(pt))):
                self.poke(b, k, pt, ps)
        with b.when(b.cmp("==", kind, L.K_SERVER)):
            b.put(c, "dead", 1)
            self._unregister(b, k, c)
            # queued clients first (FIFO, those of recv, then those of recvbuf), then
            # clients waiting in recv, by connection id
            for qh, qt in (("qhead", "qtail"), ("bqhead", "bqtail")):
                self._drain(b, b.get(c, qh),
                            lambda w: b.call(wake, [k, w, c64(E["E_CLOSED"])]))
                b.put(c, qh, b.null(self.T))
                b.put(c, qt, b.null(self.T))
            # by id: ids 1..nconns, each looked up (closing a server costs what its
            # connections cost to open, once)

            def each(i):
                cn = b.call(self.f["conn_find"], [c, b.add(i, c64(1))])
                with b.when(b.not_(b.isnull(cn))):
                    cl = b.get(cn, "client")
                    with b.when(self.waits(b, cl, (L.ST_RECV, L.ST_RECVB), b.get(cn, "slot"))):
                        b.call(wake, [k, cl, c64(E["E_CLOSED"])])
                    self.poke(b, k, cl, b.get(cn, "slot"))
            b.loop_range(b.select(b.cmp("==", b.get(c, "nlive"), 0), c64(0),
                                  b.get(c, "nconns")), each)
        with b.when(b.cmp("==", kind, L.K_CLIENT)):
            cn = self.conn(b, slot)
            b.put(cn, "open", 0)
            b.call(self.f["conn_drop"], [c, cn])
            for field in ("pusher", "bpusher"):
                pu = b.get(cn, field)
                with b.when(b.not_(b.isnull(pu))):
                    b.put(cn, field, b.null(self.T))
                    b.call(wake, [k, pu, c64(E["E_CLOSED"])])
            b.call(self.f["conn_release"], [k, c, cn])
        b.call(self.f["ch_free"], [t, s])
        b.ret_void()

    def _task_end(self):
        fn, b = self._fn("task_end", ir.VoidType(), [self.K, self.T], "unoptimised")
        k, t = fn.args

        def close(i):
            with b.when(b.cmp("!=", b.and_(b.lshr(b.get(t, "ch_used"), i), c64(1)), 0)):
                b.call(self.f["close_ch"], [k, t, i])
        b.loop_range(c64(abi.CH_SLOTS), close)

        def drop(i):
            with b.when(b.cmp("!=", b.and_(b.lshr(b.get(t, "mh_used"), i), c64(1)), 0)):
                b.call(self.f["drop_mh"], [k, t, i])
        b.loop_range(c64(abi.MH_SLOTS), drop)
        b.call(self.free, [b.bitcast(b.get(t, "mh"), I8P)])
        b.put(t, "mh", b.null(self.lay.ptr("MhSlot")))
        if self.segs:
            b.call(self.f["seg_unmap_all"], [k, t])
        b.call(self.free, [b.bitcast(b.get(t, "sel_copy"), I8P)])
        b.put(t, "sel_copy", b.null(I64P))
        if self.timed:
            for kind in (L.H_WAIT, L.H_TIMER):
                self.unheap(b, k, t, kind)
        with b.when(b.cmp(">", b.get(t, "line_items"), 0)):
            b.call(self.f["line_flush"], [k, t])
        b.call(self.free, [b.get(t, "line")])
        b.put(t, "line", b.null(I8P))
        b.put(t, "line_cap", 0)
        b.put(t, "state", L.DEAD)
        b.put(k, "alive", b.sub(b.get(k, "alive"), c64(1)))
        seq = b.add(b.get(k, "end_seq"), c64(1))
        b.put(k, "end_seq", seq)
        b.put(t, "end_seq", seq)
        b.put(k, "cur", b.null(self.T))
        # the record of the ended task, then its slot is free for a new task
        rec = len(L.LOG_FIELDS) * 8
        at = self._grow(b, k, "log", "log_len", "log_cap", c64(rec))
        words = b.bitcast(b.gep(b.get(k, "log"), [at]), I64P)
        for j, name in enumerate(L.LOG_FIELDS):
            b.store(b.get(t, name), b.gep(words, [c64(j)]))
        b.put(k, "log_len", b.add(at, c64(rec)))
        held = b.call(self.f["sup_end"], [k, t])
        with b.when(b.not_(held)):
            b.call(self.f["slot_free"], [k, t])
        # the slot's memory must read zero for its next task: whole pages go back to the
        # system; the partial pages at either end (shared with the neighbouring slots when
        # memories are not page multiples) are cleared by hand
        mem = b.ptrtoint(b.get(t, "mem"), I64)
        size = b.mul(b.get(k, "mem_words"), c64(8))
        end = b.add(mem, size)
        lo = b.and_(b.add(mem, c64(PAGE - 1)), c64(-PAGE))
        hi = b.and_(end, c64(-PAGE))
        whole = b.cmp(">", hi, lo, signed=False)
        with b.if_else(whole) as (pages, small):
            with pages:
                b.call(self.memset, [b.inttoptr(mem, I8P), ir.Constant(I32, 0), b.sub(lo, mem)])
                b.call(self.madvise, [b.inttoptr(lo, I8P), b.sub(hi, lo),
                                      ir.Constant(I32, MADV_DONTNEED)])
                b.call(self.memset, [b.inttoptr(hi, I8P), ir.Constant(I32, 0), b.sub(end, hi)])
            with small:
                b.call(self.memset, [b.inttoptr(mem, I8P), ir.Constant(I32, 0), size])
        b.ret_void()

    def _fault(self):
        """fault(k, t, code, a, b, c, pc, fp): record the fault, walk the chain, end the task."""
        fn, b = self._fn("task_fault", ir.VoidType(), [self.K, self.T] + [I64] * 6, "unoptimised")
        k, t, code, fa, fb, fc, pc, fp = fn.args
        b.put(t, "fault_code", code)
        b.put(t, "fault_a", fa)
        b.put(t, "fault_b", fb)
        b.put(t, "fault_c", fc)
        b.put(t, "fault_pc", pc)
        b.put(t, "end_kind", 2)
        self.rec(b, k, "fault", t)
        b.call(self.f["chain_keep"], [k, t, fp])
        b.call(self.f["task_end"], [k, t])
        b.ret_void()

    # -- syscalls -------------------------------------------------------------------------
    NOUT = 7        # out[0] the status, out[1..5] the results, out[6] ACT_HANDOFF's task

    def _syscalls(self):
        """sys_NAME(k, t, out, args) -> action. The caller's `out` is a local array and
        the hot syscalls are inlined, so once optimised the status and results are SSA
        values and the action a constant on each path (which LLVM threads into the
        caller's dispatch; an aggregate return value kept it from doing so)."""
        if "select" in self.used:
            self._set_error()
        for sc in self.syscalls:
            hot = sc.name in ("send", "call", "recv", "reply")
            # one that only host tasks make is only called from mk_sys, itself unoptimised
            mode = ("always" if hot else None) if sc.name in self.used else "unoptimised"
            bounded = "deadline" in self.used and sc.name in DEADLINE_SENDS | DEADLINE_TAKES
            name = f"sys_{sc.name}" + (".body" if bounded else "")
            fn, b = self._fn(name, I64, [self.K, self.T, I64P] + [I64] * sc.nargs, mode)
            k, t, self.out, *a = fn.args
            for i in range(self.NOUT):
                self.setres(b, 0, i)
            self.errblk = {}
            getattr(self, f"_sys_{sc.name}")(b, k, t, a)
            if bounded:
                self._bounded(sc, mode)

    def _bounded(self, sc, mode):
        """sys_NAME of a syscall the task's deadline bounds (Kernel._send_by_deadline and
        _take_by_deadline): its body as it is for a task without a deadline; with one, a
        syscall that hands something over fails with E_TIMEOUT at once past it and else
        waits with it in the heap, and one that takes something takes what is there and
        waits only until it (E_TIMEOUT at once past it, nothing left waiting)."""
        body = self.f[f"sys_{sc.name}.body"]
        fn, b = self._fn(f"sys_{sc.name}", I64, [self.K, self.T, I64P] + [I64] * sc.nargs, mode)
        k, t, self.out, *a = fn.args
        self.errblk = {}
        with b.when(b.cmp("==", b.get(t, "dl_set"), 0), likely=True):
            b.ret(b.call(body, [k, t, self.out] + a))
        dl, now = b.get(t, "dl"), b.get(k, "now")
        if sc.name in DEADLINE_SENDS:
            with b.when(b.cmp("<=", dl, now), likely=False):
                self.err(b, t, "E_TIMEOUT")
            r = b.call(self.f["heap_push"], [k, t, c64(L.H_WAIT), dl])
            with b.when(b.cmp("<", r, 0), likely=False):
                self.err(b, t, "E_NOSPACE")
            act = b.call(body, [k, t, self.out] + a)
            waits = b.or_(b.cmp("==", act, ACT_BLOCK), b.cmp("==", act, ACT_HANDOFF))
            with b.when(b.not_(waits)):
                self.unheap(b, k, t, L.H_WAIT)
            b.ret(act)
            return
        state = b.get(t, "state")
        act = b.call(body, [k, t, self.out] + a)
        with b.when(b.cmp("!=", act, ACT_BLOCK)):
            b.ret(act)

        def undo(code):
            b.put(t, "state", state)
            for i in range(1, self.NOUT):
                self.setres(b, 0, i)
            self.setres(b, E[code], 0)
            b.ret(c64(ACT_ERR))
        with b.when(b.cmp("<=", dl, now), likely=False):
            undo("E_TIMEOUT")
        r = b.call(self.f["heap_push"], [k, t, c64(L.H_WAIT), dl])
        with b.when(b.cmp("<", r, 0), likely=False):
            undo("E_NOSPACE")
        b.ret(c64(ACT_BLOCK))

    def setres(self, b: B, v, i):
        b.store(c64(v) if isinstance(v, int) else v, b.gep(self.out, [c64(i)]))

    def ret(self, b: B, act):
        b.ret(c64(act))

    def err(self, b: B, t, code: str):
        """Fail with `code` (ACT_ERR): each error code of a syscall has one exit block,
        which sets the status, so the checks on its hot path stay plain branches, and the
        caller's way on from ACT_DONE knows the status is 0 without testing it."""
        blk = self.errblk.get(code)
        if blk is None:
            blk = self.errblk[code] = b.block("error." + code)
            with b.goto_block(blk):
                self.setres(b, E[code], 0)
                b.ret(c64(ACT_ERR))
        b.branch(blk)

    def handoff(self, b: B, k, t, w, hv, state, h, words):
        """t blocks in `state` on h after ending w's wait in recv: ACT_HANDOFF, for the
        caller to give w status 0, handle hv and the words (give) and queue or run it.
        A w queued already (its deadline came: exp_at) gets them here and stays queued."""
        if self.timed:
            with b.when(b.cmp("!=", b.get(w, "exp_at"), 0), likely=False):
                self.give(b, w, hv, words)
                b.call(self.f["wake"], [k, w, c64(0)])
                self.block_on(b, t, state, h)
        self.untime(b, k, w)
        self.setres(b, hv, 1)
        self.setres(b, b.ptrtoint(w, I64), HANDOFF_OUT)
        b.put(t, "state", state)
        b.put(t, "wait_handle", h)
        self.ret(b, ACT_HANDOFF)

    def give(self, b: B, w, hv, words):
        """The results of recv to w, whose wait a handoff ended (what wake writes)."""
        b.put(w, "regs", 0, A0)
        b.put(w, "regs", hv, A0 + 1)
        for i, v in enumerate(words):
            b.put(w, "regs", v, A0 + 2 + i)

    def done(self, b: B):
        self.ret(b, ACT_DONE)

    def block_on(self, b: B, t, state, h):
        b.put(t, "state", state)
        b.put(t, "wait_handle", h)
        self.ret(b, ACT_BLOCK)

    def _sys_exit(self, b, k, t, a):
        b.put(t, "exit_code", a[0])
        b.put(t, "end_kind", 1)
        self.rec(b, k, "exit", t, a=a[0])
        b.call(self.f["task_end"], [k, t])
        self.ret(b, ACT_END)

    def _sys_spawn(self, b, k, t, a):
        ntypes = self._count(b, k, "ntypes", getattr(self, "ntypes", 0))
        with b.when(b.cmp(">=", a[0], ntypes, signed=False), likely=False):
            self.err(b, t, "E_INVAL")
        nfree = b.get(k, "nfree")
        nslots = b.get(k, "nslots")
        taken = b.add(b.get(k, "alive"), b.get(k, "held"))
        full = b.or_(b.cmp(">=", taken, b.get(k, "max_alive")),
                     b.and_(b.cmp("==", nfree, 0), b.cmp(">=", nslots, b.get(k, "task_cap"))))
        full = b.or_(full, b.cmp(">=", b.get(k, "ntasks"), b.get(k, "idmap_cap")))
        with b.when(full, likely=False):
            self.err(b, t, "E_NOSPACE")
        # a slot of a dead task is reused (zeroed), else the next fresh (zero) one
        idx = b.var(0)
        with b.if_else(b.cmp(">", nfree, 0)) as (reuse, fresh):
            with reuse:
                nf = b.sub(nfree, c64(1))
                b.put(k, "nfree", nf)
                i = b.load_as(b.gep(b.get(k, "free"), [nf]), "free")
                b.store(i, idx)
                b.call(self.memset, [b.bitcast(b.gep(b.get(k, "tasks"), [i]), I8P),
                                     ir.Constant(I32, 0), c64(ctypes.sizeof(L.CTask))])
            with fresh:
                b.store(nslots, idx)
                b.put(k, "nslots", b.add(nslots, c64(1)))
        n = b.load(idx)
        nt = b.gep(b.get(k, "tasks"), [n])
        tid = b.add(b.get(k, "ntasks"), c64(1))
        b.put(k, "ntasks", tid)
        alive = b.add(b.get(k, "alive"), c64(1))
        b.put(k, "alive", alive)
        with b.when(b.cmp(">", alive, b.add(b.get(k, "rq_mask"), c64(1))), likely=False):
            b.call(self.f["rq_grow"], [k])
        b.put(nt, "slot", n)
        mw = b.get(k, "mem_words")
        b.put(nt, "id", tid)
        b.put(nt, "type", a[0])
        b.put(nt, "mem", b.gep(b.get(k, "mem_base"), [b.mul(n, mw)]))
        for i in range(abi.MAX_TASK_PARAMS):
            b.put(nt, "regs", a[1 + i], A0 + i)
            b.put(nt, "args", a[1 + i], i)
        b.store_as(n, b.gep(b.get(k, "idmap"), [tid]), "idmap")
        b.put(nt, "regs", mw, isa.SP)
        b.put(nt, "regs", mw, isa.FP)
        b.put(nt, "resume", self._table(b, k, "entries", getattr(self, "g_entries", None), a[0]))
        b.put(nt, "slice", abi.QUANTUM)
        self.rec(b, k, "spawn", t, peer=nt, a=a[0], words=a[1:1 + abi.MSG_WORDS])
        b.call(self.f["rq_push"], [k, nt])
        self.setres(b, tid, 1)
        self.ret(b, ACT_DONE)

    def _sys_self(self, b, k, t, a):
        self.setres(b, b.get(t, "id"), 1)
        self.ret(b, ACT_DONE)

    def _sys_yield(self, b, k, t, a):
        b.call(self.f["rq_push"], [k, t])
        self.ret(b, ACT_YIELD)

    def _name(self, b, k, t, s):
        """Registry index of string s (E_INVAL when s is not a string index)."""
        nstrings = self._count(b, k, "nstrings", getattr(self, "nstrings", 0))
        with b.when(b.cmp(">=", s, nstrings, signed=False), likely=False):
            self.err(b, t, "E_INVAL")
        return self._table(b, k, "names", getattr(self, "g_names", None), s)

    def _connect(self):
        """connect(k, c, w): a new chandle of task w on channel c; -1 if w's table is full."""
        fn, b = self._fn("connect", I64, [self.K, self.Ch, self.T], "never")
        k, c, w = fn.args
        with b.when(b.cmp("==", b.get(w, "ch_used"), CH_FULL)):
            b.ret(c64(-1))
        with b.when(b.cmp("==", b.get(c, "kind"), abi.ONE)):
            s = b.call(self.f["ch_alloc"], [w])
            slot = b.gep(b.fp(w, "ch"), [c64(0), s])
            self.set_slot(b, slot, c, L.K_ONE, end=1)
            b.put(c, "t1", w)
            b.put(c, "s1", s)
            self.poke(b, k, w, s)       # the creator may wait in send already
            b.ret(s)
        # memory the system refuses counts as a full table
        cn = b.call(self.f["conn_new"], [k])
        with b.when(b.isnull(cn)):
            b.ret(c64(-1))
        cid = b.add(b.get(c, "nconns"), c64(1))
        b.put(cn, "id", cid)
        with b.when(b.cmp("!=", b.call(self.f["conn_add"], [k, c, cn]), 0)):
            b.put(cn, "next_free", b.get(k, "conn_free"))
            b.put(k, "conn_free", cn)
            b.ret(c64(-1))
        b.put(c, "nconns", cid)
        s = b.call(self.f["ch_alloc"], [w])
        slot = b.gep(b.fp(w, "ch"), [c64(0), s])
        b.put(cn, "client", w)
        b.put(cn, "slot", s)
        b.put(cn, "chan", c)
        b.put(cn, "open", 1)
        self.set_slot(b, slot, c, L.K_CLIENT, conn=cn)
        b.ret(s)

    def _sys_channel(self, b, k, t, a):
        name, kind = a
        bad = b.and_(b.cmp("!=", kind, abi.ONE), b.cmp("!=", kind, abi.MANY))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        nm = self._name(b, k, t, name)
        with b.when(b.cmp("==", b.get(t, "ch_used"), CH_FULL), likely=False):
            self.err(b, t, "E_NOSPACE")
        reg = b.gep(b.get(k, "reg"), [nm])
        self._make_channel(b, k, t, reg, nm, b.null(self.lay.ptr("Name")), kind)

    def _make_channel(self, b, k, t, reg, nm, node, kind):
        """`channel` once the name is found: its registry entry reg, registry index nm (-1
        for a name no string of the program has: its tree node)."""
        with b.when(b.not_(b.isnull(b.get(reg, "chan"))), likely=False):
            self.err(b, t, "E_EXISTS")
        # the creator of a MANY channel receives mhandles: its table, made on first need
        MH = self.lay.ptr("MhSlot")
        need = b.and_(b.cmp("==", kind, abi.MANY), b.isnull(b.get(t, "mh")))
        with b.when(need):
            tab = b.call(self.calloc, [c64(abi.MH_SLOTS), c64(L.MH_TABLE_BYTES // abi.MH_SLOTS)])
            with b.when(b.isnull(tab), likely=False):
                self.err(b, t, "E_NOSPACE")
            b.put(t, "mh", b.bitcast(tab, MH))
            # the first message of slot s has the mhandle of generation 0
            b.loop_range(c64(abi.MH_SLOTS), lambda s: b.put(
                b.gep(b.get(t, "mh"), [s]), "word", b.shl(b.or_(s, c64(abi.MH_TAG)), c64(1))))
        raw = b.call(self.f["kalloc"], [k, c64(8 * len(L.STRUCTS["Chan"]))])
        with b.when(b.isnull(raw), likely=False):
            self.err(b, t, "E_NOSPACE")
        c = b.bitcast(raw, self.Ch)
        s = b.call(self.f["ch_alloc"], [t])
        slot = b.gep(b.fp(t, "ch"), [c64(0), s])
        b.put(c, "name", nm)
        b.put(c, "entry", node)
        b.put(c, "kind", kind)
        b.put(c, "t0", t)
        b.put(c, "s0", s)
        self.set_slot(b, slot, c, b.select(b.cmp("==", kind, abi.ONE), c64(L.K_ONE),
                                           c64(L.K_SERVER)))
        b.put(reg, "chan", c)
        nm, words, n = self.name_fields(b, c) if self.traced else (nm, (), 0)
        self.rec(b, k, "channel", t, s, a=nm, bb=kind, words=words, n=n)
        # openers waiting for the name, in FIFO order
        first = b.get(reg, "whead")
        b.put(reg, "whead", b.null(self.T))
        b.put(reg, "wtail", b.null(self.T))
        self._drain(b, first, lambda wt: self._connect_opener(b, k, t, c, kind, (nm, words, n), wt))
        self.setres(b, s, 1)
        self.ret(b, ACT_DONE)

    def _connect_opener(self, b, k, t, c, kind, nm, wt):
        """Opener wt, waiting for the name of the channel c that t just made, is
        connected or refused (kernel.md `channel`)."""
        # a ONE channel takes one opener: once it has one, the others get E_BUSY
        busy = b.and_(b.cmp("==", kind, abi.ONE), b.not_(b.isnull(b.get(c, "t1"))))
        with b.if_else(busy) as (then, other):
            with then:
                b.call(self.f["wake"], [k, wt, c64(E["E_BUSY"])])
            with other:
                ns = b.call(self.f["connect"], [k, c, wt])
                with b.if_else(b.cmp("<", ns, 0)) as (full, ok):
                    with full:
                        b.call(self.f["wake"], [k, wt, c64(E["E_NOSPACE"])])
                    with ok:
                        many = b.cmp("==", kind, abi.MANY)
                        self.rec(b, k, "open", wt, ns, t, a=nm[0],
                                 bb=b.select(many, b.get(c, "nconns"), c64(0)), words=nm[1],
                                 n=nm[2])
                        b.put(wt, "regs", ns, A0 + 1)
                        b.call(self.f["wake"], [k, wt, c64(0)])

    def _sys_open(self, b, k, t, a):
        nm = self._name(b, k, t, a[0])
        with b.when(b.cmp("==", b.get(t, "ch_used"), CH_FULL), likely=False):
            self.err(b, t, "E_NOSPACE")
        self._open_reg(b, k, t, b.gep(b.get(k, "reg"), [nm]), nm, a[0])

    def _open_reg(self, b, k, t, reg, nm, h):
        """`open` once the name is found: its registry entry reg, registry index nm."""
        c = b.get(reg, "chan")
        with b.when(b.not_(b.isnull(c))):
            one = b.cmp("==", b.get(c, "kind"), abi.ONE)
            with b.when(b.and_(one, b.not_(b.isnull(b.get(c, "t1")))), likely=False):
                self.err(b, t, "E_BUSY")
            s = b.call(self.f["connect"], [k, c, t])
            nm, words, n = self.name_fields(b, c) if self.traced else (nm, (), 0)
            self.rec(b, k, "open", t, s, b.get(c, "t0"), a=nm,
                     bb=b.select(one, c64(0), b.get(c, "nconns")), words=words, n=n)
            self.setres(b, s, 1)
            self.ret(b, ACT_DONE)
        self._enqueue(b, reg, "w", t)
        b.put(t, "wait_conn", b.null(self.Cn))
        self.block_on(b, t, L.ST_OPEN, h)

    def _keep_words(self, b, t, words, first):
        """A sender about to wait keeps its words where the receiver will take them."""
        for i, w in enumerate(words):
            b.put(t, "regs", w, first + i)

    def _send(self, b, k, t, a, is_call, deadline=None):
        """deadline: call_until's (a[1], its words after it), set once the handle is good;
        then a receiver found waiting is woken, not handed off (the tiers hand off `call`
        only), and the caller keeps its words in a1..a4 as a sender of `call` does."""
        h = a[0]
        words = a[1:5] if deadline is None else a[2:6]
        slot, kind = self.chandle(b, t, h)
        # one test on the way of a good handle: K_ONE and K_CLIENT are the odd kinds
        assert L.K_ONE & 1 and L.K_CLIENT & 1 and not L.K_SERVER & 1
        with b.when(b.cmp("==", b.and_(kind, c64(1)), 0), likely=False):
            self.err(b, t, "E_INVAL")
        c = b.get(slot, "chan")
        with b.when(b.cmp("!=", b.get(c, "dead"), 0), likely=False):
            self.err(b, t, "E_CLOSED")
        if deadline is not None:
            with b.when(b.cmp("<=", deadline, b.get(k, "now")), likely=False):
                self.err(b, t, "E_TIMEOUT")
            r = b.call(self.f["heap_push"], [k, t, c64(L.H_WAIT), deadline])
            with b.when(b.cmp("<", r, 0), likely=False):
                self.err(b, t, "E_NOSPACE")
        after = (L.ST_CALL_REPLY if is_call and deadline is None else None)
        ev = "call" if is_call else "send"
        with b.when(b.cmp("==", kind, L.K_ONE)):
            pt, ps = self.peer(b, c, self.end(b, slot))
            self.rec(b, k, ev, t, h, pt, words=words)
            with b.when(self.waits(b, pt, (L.ST_RECV,), ps)):
                self.rec(b, k, "recv", pt, ps, t, a=int(is_call), words=words)
                if after is not None:
                    self.handoff(b, k, t, pt, ps, after, h, words)
                else:
                    self.give(b, pt, ps, words)
                    b.call(self.f["wake"], [k, pt, c64(0)])
                    if is_call:
                        self.block_on(b, t, L.ST_CALL_REPLY, h)
                    else:
                        self.ret(b, ACT_DONE)
            self._keep_words(b, t, words, A0 + 1)
            with b.when(b.not_(b.isnull(pt))):
                self.poke(b, k, pt, ps)
            self.block_on(b, t, L.ST_CALL_SEND if is_call else L.ST_SEND, h)
        # a connection of a MANY channel: the server is the channel's creator
        srv, ss = b.get(c, "t0"), b.get(c, "s0")
        self.rec(b, k, ev, t, h, srv, words=words)
        takes = self.waits(b, srv, (L.ST_RECV,), ss, nonnull=True)
        if "recv_type" in self.used:
            takes = b.or_(takes, self.typed_match(b, srv, ss, words[abi.TYPE_WORD]))
        with b.when(takes):
            m = b.call(self.f["mh_alloc"], [srv])
            self.mfill(b, b.gep(b.get(srv, "mh"), [m]), self.conn(b, slot), 1 if is_call else 0)
            self.rec(b, k, "recv", srv, self.mhandle(b, srv, m), t, a=int(is_call),
                     bb=b.get(self.conn(b, slot), "id"), words=words)
            if after is not None:
                self.handoff(b, k, t, srv, self.mhandle(b, srv, m), after, h, words)
            else:
                self.give(b, srv, self.mhandle(b, srv, m), words)
                b.call(self.f["wake"], [k, srv, c64(0)])
                if is_call:
                    self.block_on(b, t, L.ST_CALL_REPLY, h)
                else:
                    self.ret(b, ACT_DONE)
        self._enqueue(b, c, "q", t)
        self._keep_words(b, t, words, A0 + 1)
        self.poke(b, k, srv, ss)
        self.block_on(b, t, L.ST_CALL_SEND if is_call else L.ST_SEND, h)

    def _sys_send(self, b, k, t, a):
        self._send(b, k, t, a, False)

    def _sys_call(self, b, k, t, a):
        self._send(b, k, t, a, True)

    def _take(self, b, k, t, s, handle, first_word_reg):
        """t receives the message of blocked sender s: words from s's saved registers."""
        self.setres(b, handle, 1)
        for i in range(abi.MSG_WORDS):
            self.setres(b, b.get(s, "regs", first_word_reg + i), 2 + i)

    def _sys_recv(self, b, k, t, a, deadline=None):
        h = a[0]
        if deadline is None:
            def block():
                self.block_on(b, t, L.ST_RECV, h)
        else:
            def block():
                self.timed_block(b, k, t, L.ST_RECV, h, deadline)
        slot, kind = self.chandle(b, t, h)
        c = b.get(slot, "chan")
        with b.when(b.cmp("==", kind, L.K_SERVER)):
            with b.when(b.cmp("==", b.get(t, "mh_used"), MH_FULL), likely=False):
                self.err(b, t, "E_NOSPACE")
            q = b.get(c, "qhead")
            with b.when(b.not_(b.isnull(q))):
                with b.when(self.moving(b, q), likely=False):
                    took = b.call(self.f["recv_moved"], [k, t, c, self.out])
                    with b.when(b.cmp("!=", took, 0)):
                        self.ret(b, ACT_DONE)
            q = b.get(c, "qhead")
            with b.when(b.not_(b.isnull(q))):
                self._dequeue(b, c, "q", q)
                m = b.call(self.f["mh_alloc"], [t])
                qslot = self.slot(b, q, b.get(q, "wait_handle"))
                is_call = b.cmp("==", b.get(q, "state"), L.ST_CALL_SEND)
                self.mfill(b, b.gep(b.get(t, "mh"), [m]), self.conn(b, qslot),
                           b.zext(is_call, I64))
                self.rec(b, k, "recv", t, self.mhandle(b, t, m), q, a=b.zext(is_call, I64),
                         bb=b.get(self.conn(b, qslot), "id"),
                         words=[b.get(q, "regs", A0 + 1 + i) for i in range(abi.MSG_WORDS)])
                self._take(b, k, t, q, self.mhandle(b, t, m), A0 + 1)
                with b.if_else(is_call) as (then, other):
                    with then:
                        b.put(q, "state", L.ST_CALL_REPLY)
                    with other:
                        b.call(self.f["wake"], [k, q, c64(0)])
                self.ret(b, ACT_DONE)
            block()
        with b.when(b.cmp("!=", b.get(c, "dead"), 0), likely=False):
            self.err(b, t, "E_CLOSED")
        with b.when(b.cmp("==", kind, L.K_ONE)):
            pt, ps = self.peer(b, c, self.end(b, slot))
            with b.when(self.waits(b, pt, (L.ST_SENDM, L.ST_CALLM_SEND), ps), likely=False):
                self.recv_one_moved(b, k, t, h, pt, block)
            with b.when(self.waits(b, pt, (L.ST_SEND, L.ST_CALL_SEND), ps)):
                is_call = b.cmp("==", b.get(pt, "state"), L.ST_CALL_SEND)
                self.rec(b, k, "recv", t, h, pt, a=b.zext(is_call, I64),
                         words=[b.get(pt, "regs", A0 + 1 + i) for i in range(abi.MSG_WORDS)])
                self._take(b, k, t, pt, h, A0 + 1)
                with b.if_else(is_call) as (then, other):
                    with then:
                        b.put(pt, "state", L.ST_CALL_REPLY)
                    with other:
                        b.call(self.f["wake"], [k, pt, c64(0)])
                self.ret(b, ACT_DONE)
            block()
        cn = self.conn(b, slot)
        pu = b.get(cn, "pusher")
        with b.when(b.not_(b.isnull(pu))):
            self.rec(b, k, "recv", t, h, pu,
                     words=[b.get(pu, "regs", A0 + 2 + i) for i in range(abi.MSG_WORDS)])
            self._take(b, k, t, pu, h, A0 + 2)
            b.put(cn, "pusher", b.null(self.T))
            b.call(self.f["wake"], [k, pu, c64(0)])
            self.ret(b, ACT_DONE)
        block()

    def _answer(self, b, k, s, words):
        # a result register no call of the program reads afterwards is left as it is
        for i, w in enumerate(words):
            if self.reply_reads >> (A0 + 1 + i) & 1:
                b.put(s, "regs", w, A0 + 1 + i)
        b.call(self.f["wake"], [k, s, c64(0)])

    def _sys_reply(self, b, k, t, a):
        h, words = a[0], a[1:5]
        # an mhandle first (a MANY server's reply), its slot found once
        with b.when(b.cmp(">=", h, abi.CH_SLOTS, signed=False)):
            s, ms = self.live_mslot(b, t, h, lambda: self.err(b, t, "E_BADHANDLE"))
            if self.traced:
                snd = self.msender(b, ms)
                # refused before it records (untraced, the test is off the plain path below)
                refuse = b.and_(b.cmp("!=", self.mwaits(b, ms), 0),
                                b.cmp("==", b.get(snd, "state"), L.ST_CALLB_REPLY))
                with b.when(refuse, likely=False):
                    self.err(b, t, "E_INVAL")
                woken = b.and_(b.cmp("!=", self.mwaits(b, ms), 0),
                               b.cmp("==", b.get(snd, "state"), L.ST_CALL_REPLY))
                self.rec(b, k, "reply", t, h, b.select(woken, snd, b.null(self.T)), words=words)
            with b.when(b.cmp("!=", self.mwaits(b, ms), 0)):
                snd = self.msender(b, ms)
                st = b.get(snd, "state")
                with b.if_else(b.cmp("==", st, L.ST_CALL_REPLY)) as (plain, other):
                    with plain:
                        self._answer(b, k, snd, words)
                    with other:
                        # a callbuf is answered by replybuf alone
                        with b.when(b.cmp("==", st, L.ST_CALLB_REPLY), likely=False):
                            self.err(b, t, "E_INVAL")
            b.call(self.f["mh_free"], [t, s])
            self.ret(b, ACT_DONE)
        slot, kind = self.chandle(b, t, h)
        with b.when(b.cmp("==", kind, L.K_ONE)):
            c = b.get(slot, "chan")
            pt, ps = self.peer(b, c, self.end(b, slot))
            ok = b.and_(b.cmp("==", b.get(c, "dead"), 0),
                        self.waits(b, pt, (L.ST_CALL_REPLY,), ps))
            with b.when(ok):
                self.rec(b, k, "reply", t, h, pt, words=words)
                self._answer(b, k, pt, words)
                self.ret(b, ACT_DONE)
        self.err(b, t, "E_INVAL")

    def _sys_close(self, b, k, t, a):
        h = a[0]
        kind = b.call(self.f["hkind"], [t, h])
        with b.when(b.cmp("==", kind, 0), likely=False):
            self.err(b, t, "E_BADHANDLE")
        with b.when(b.cmp("==", kind, 4)):
            if self.traced:
                ms = self.mslot(b, t, h)
                snd = self.msender(b, ms)
                waiting = b.and_(b.cmp("!=", self.mwaits(b, ms), 0), self.in_any_reply(b, snd))
                self.rec(b, k, "close", t, h, b.select(waiting, snd, b.null(self.T)))
            b.call(self.f["drop_mh"], [k, t, b.and_(h, c64(abi.MH_SLOTS - 1))])
            self.ret(b, ACT_DONE)
        self.rec(b, k, "close", t, h)
        b.call(self.f["close_ch"], [k, t, h])
        self.ret(b, ACT_DONE)

    def _mh_conn(self, b, t, h):
        kind = b.call(self.f["hkind"], [t, h])
        with b.when(b.cmp("!=", kind, 4), likely=False):
            self.err(b, t, "E_BADHANDLE")
        return b.get(self.mslot(b, t, h), "conn")

    def _sys_data(self, b, k, t, a):
        cn = self._mh_conn(b, t, a[0])
        self.setres(b, b.get(cn, "word"), 1)
        self.ret(b, ACT_DONE)

    def _sys_set_data(self, b, k, t, a):
        cn = self._mh_conn(b, t, a[0])
        b.put(cn, "word", a[1])
        self.ret(b, ACT_DONE)

    def _sys_conn(self, b, k, t, a):
        cn = self._mh_conn(b, t, a[0])
        self.setres(b, b.get(cn, "id"), 1)
        self.ret(b, ACT_DONE)

    def server_chan(self, b: B, t, h):
        """The channel of MANY server end h (E_BADHANDLE, E_INVAL for another handle)."""
        kind = b.call(self.f["hkind"], [t, h])
        with b.when(b.cmp("==", kind, 0), likely=False):
            self.err(b, t, "E_BADHANDLE")
        with b.when(b.cmp("!=", kind, L.K_SERVER), likely=False):
            self.err(b, t, "E_INVAL")
        return b.get(self.slot(b, t, h), "chan")

    def push_conn(self, b: B, t, c, cid):
        """Open connection cid of server channel c (E_NOCONN)."""
        bad = b.or_(b.cmp("<", cid, 1), b.cmp(">", cid, b.get(c, "nconns")))
        with b.when(bad, likely=False):
            self.err(b, t, "E_NOCONN")
        cn = b.call(self.f["conn_find"], [c, cid])
        with b.when(b.isnull(cn), likely=False):
            self.err(b, t, "E_NOCONN")
        return cn

    def _sys_push(self, b, k, t, a):
        h, cid, words = a[0], a[1], a[2:6]
        cn = self.push_conn(b, t, self.server_chan(b, t, h), cid)
        cl = b.get(cn, "client")
        cs = b.get(cn, "slot")
        self.rec(b, k, "push", t, h, cl, a=cid, words=words)
        with b.when(self.waits(b, cl, (L.ST_RECV,), cs)):
            self.rec(b, k, "recv", cl, cs, t, words=words)
            b.put(cl, "regs", cs, A0 + 1)
            for i, w in enumerate(words):
                b.put(cl, "regs", w, A0 + 2 + i)
            b.call(self.f["wake"], [k, cl, c64(0)])
            self.ret(b, ACT_DONE)
        b.put(cn, "pusher", t)
        b.put(t, "wait_conn", cn)
        self._keep_words(b, t, words, A0 + 2)
        self.poke(b, k, cl, cs)
        self.block_on(b, t, L.ST_PUSH, h)

    def _sys_puts(self, b, k, t, a):
        s = a[0]
        nstrings = self._count(b, k, "nstrings", getattr(self, "nstrings", 0))
        with b.when(b.cmp(">=", s, nstrings, signed=False), likely=False):
            self.err(b, t, "E_INVAL")
        ptr, n = self._string(b, k, s)
        b.call(self.f["line_append"], [t, ptr, n])
        self.ret(b, ACT_DONE)

    def _sys_puti(self, b, k, t, a):
        b.call(self.f["put_int"], [t, a[0]])
        self.ret(b, ACT_DONE)

    def _sys_putnl(self, b, k, t, a):
        b.call(self.f["line_flush"], [k, t])
        self.ret(b, ACT_DONE)

    # -- long messages (mikro/vm/kernel.py: the same rules) ---------------------------------
    # A buffer is checked when its syscall is made and kept in the task (bsrc/blen, bdst/
    # bcap): a waiting task's memory does not change. The words move once, by memcpy from
    # the sender's memory to the receiver's, when the two meet. Buffer messages wait in
    # states of their own (on a MANY channel, in the FIFO bqhead/bqtail): recv never meets
    # them and recvbuf meets nothing else, so nothing on a plain message's path changes.
    def _mem_word(self, b: B, t, addr):
        # untagged: it must not be moved across the program's own stores to its memory
        return b.load(b.gep(b.get(t, "mem"), [addr]))

    def _buf_range(self, b: B, k, t, ref, off, n):
        """The address of ref[off .. off+n) in t's memory (0 when n = 0, whatever ref and
        off are); E_INVAL when n < 0 or the range is not inside the array and t's memory,
        in exact arithmetic (each test guards the next)."""
        mw = b.get(k, "mem_words")
        addr = b.var(0)
        with b.when(b.cmp("!=", n, 0)):
            bad = b.or_(b.or_(b.cmp("<", n, 0), b.cmp("<", off, 0)),
                        b.cmp(">=", b.sub(ref, c64(1)), mw, signed=False))
            with b.when(bad, likely=False):
                self.err(b, t, "E_INVAL")
            ln = self._mem_word(b, t, b.sub(ref, c64(1)))
            bad = b.or_(b.or_(b.cmp(">", off, ln), b.cmp(">", n, b.sub(ln, off))),
                        b.cmp(">", b.add(off, n), b.sub(mw, ref)))
            with b.when(bad, likely=False):
                self.err(b, t, "E_INVAL")
            b.store(b.add(ref, off), addr)
        return b.load(addr)

    def _buf_whole(self, b: B, k, t, ref):
        """(address, length) of array ref of t ((0, 0) for ref 0); E_INVAL when it is not
        an array inside t's memory."""
        mw = b.get(k, "mem_words")
        cap = b.var(0)
        with b.when(b.cmp("!=", ref, 0)):
            with b.when(b.cmp(">=", b.sub(ref, c64(1)), mw, signed=False), likely=False):
                self.err(b, t, "E_INVAL")
            ln = self._mem_word(b, t, b.sub(ref, c64(1)))
            bad = b.or_(b.cmp("<", ln, 0), b.cmp(">", ln, b.sub(mw, ref)))
            with b.when(bad, likely=False):
                self.err(b, t, "E_INVAL")
            b.store(ln, cap)
        return ref, b.load(cap)

    def _buf_copy(self):
        """buf_copy(dst, src, n): n words by vector moves, COPY_UNROLL vectors loaded before
        any is stored. Not libc's memcpy: two tasks' memories lie a multiple of 4 KiB
        apart, so their buffers are often 8 mod 64 bytes apart, and this machine's memcpy
        (rep movsb from 4 KiB on) then runs 15 times slower than between buffers 64-byte
        aligned to each other. A load whose address equals that of a recent store modulo
        4 KiB waits for it: when dst lies less than 512 bytes past src modulo 4 KiB a
        forward copy would load right behind its own stores at every step, so the copy
        runs backward then. The two pointers may overlap as far as LLVM knows, so it keeps
        the loops rather than calling memcpy."""
        fn, b = self._fn("buf_copy", ir.VoidType(), [I64P, I64P, I64], "never")
        dst, src, n = fn.args
        vec = ir.VectorType(I64, COPY_VEC)
        step = COPY_VEC * COPY_UNROLL

        def block_at(p):
            at = [b.add(p, c64(j * COPY_VEC)) for j in range(COPY_UNROLL)]
            vs = [b.load(b.bitcast(b.gep(src, [q]), vec.as_pointer()), align=8) for q in at]
            for q, v in zip(at, vs):
                b.store(v, b.bitcast(b.gep(dst, [q]), vec.as_pointer()), align=8)

        def word(k):
            b.store(b.load(b.gep(src, [k])), b.gep(dst, [k]))

        d = b.ptrtoint(dst, I64)
        gap = b.and_(b.sub(d, b.ptrtoint(src, I64)), c64(4095))
        back = b.and_(b.cmp("!=", gap, 0), b.cmp("<", gap, 512))
        # the vector stores are 64-byte aligned (a store across two cache lines costs
        # twice): the words before the first aligned one and after the last go one by one
        lo = b.select(b.cmp("<", b.lshr(b.and_(b.sub(c64(0), d), c64(63)), c64(3)), n),
                      b.lshr(b.and_(b.sub(c64(0), d), c64(63)), c64(3)), n)
        steps = b.udiv(b.sub(n, lo), c64(step))
        hi = b.add(lo, b.mul(steps, c64(step)))
        with b.if_else(back) as (backward, forward):
            with backward:
                b.loop_range(b.sub(n, hi), lambda j: word(b.sub(b.sub(n, c64(1)), j)))
                b.loop_range(steps, lambda j: block_at(b.sub(hi, b.mul(b.add(j, c64(1)),
                                                                       c64(step)))))
                b.loop_range(lo, lambda j: word(b.sub(b.sub(lo, c64(1)), j)))
            with forward:
                b.loop_range(lo, word)
                b.loop_range(steps, lambda j: block_at(b.add(lo, b.mul(j, c64(step)))))
                b.loop_range(b.sub(n, hi), lambda j: word(b.add(hi, j)))
        b.ret_void()

    def _copy(self, b: B, src, addr, n, dst, at, cap):
        """The one copy of a long message: min(n, cap) words from src's memory to dst's."""
        cnt = b.select(b.cmp("<", n, cap), n, cap)
        with b.when(b.cmp(">", cnt, 0)):
            b.call(self.f["buf_copy"], [b.gep(b.get(dst, "mem"), [at]),
                                        b.gep(b.get(src, "mem"), [addr]), cnt])

    @staticmethod
    def _buf_first(is_call: bool, via: str | None = None) -> int:
        """The register of a waiting buffer sender's first word (of a callbuf or sendbuf,
        or of the syscall `via`)."""
        via = via or ("callbuf" if is_call else "sendbuf")
        return A0 + abi.SYS[via].nargs - abi.BUF_WORDS

    def _meet(self, b: B, k, s, r, hv, is_call, cid, words):
        """Receiver r takes sender s's buffer message (through handle hv): the event, the
        copy; the caller writes r's results (hv, words, s.blen)."""
        n = b.get(s, "blen")
        self.rec(b, k, "recv", r, hv, s, a=is_call, bb=cid, words=words, n=n)
        self._copy(b, s, b.get(s, "bsrc"), n, r, b.get(r, "bdst"), b.get(r, "bcap"))
        return n

    def _sendbuf(self, b, k, t, a, is_call):
        h, buf, off, n = a[:4]
        words = a[5:8] if is_call else a[4:7]
        slot, kind = self.chandle(b, t, h)
        with b.when(b.cmp("==", b.and_(kind, c64(1)), 0), likely=False):
            self.err(b, t, "E_INVAL")
        src = self._buf_range(b, k, t, buf, off, n)
        dst, cap = self._buf_whole(b, k, t, a[4]) if is_call else (c64(0), c64(0))
        c = b.get(slot, "chan")
        with b.when(b.cmp("!=", b.get(c, "dead"), 0), likely=False):
            self.err(b, t, "E_CLOSED")
        for f, v in (("bsrc", src), ("blen", n), ("bdst", dst), ("bcap", cap)):
            b.put(t, f, v)
        ev = "call" if is_call else "send"
        waiting = L.ST_CALLB_SEND if is_call else L.ST_SENDB

        def met(r, hv, cid):
            """r waited in recvbuf: a call hands off to it (handoff_words) and waits for
            the reply; a send gives r its results and wakes it."""
            self._meet(b, k, t, r, hv, int(is_call), cid, words)
            if is_call:
                self.handoff(b, k, t, r, hv, L.ST_CALLB_REPLY, h, list(words) + [n])
                return
            for i, v in enumerate([hv] + list(words) + [n]):
                b.put(r, "regs", v, A0 + 1 + i)
            b.call(self.f["wake"], [k, r, c64(0)])
            self.ret(b, ACT_DONE)

        with b.when(b.cmp("==", kind, L.K_ONE)):
            pt, ps = self.peer(b, c, self.end(b, slot))
            self.rec(b, k, ev, t, h, pt, words=words, n=n)
            with b.when(self.waits(b, pt, (L.ST_RECVB,), ps)):
                met(pt, ps, 0)
            self._keep_words(b, t, words, self._buf_first(is_call))
            self.block_on(b, t, waiting, h)
        srv, ss = b.get(c, "t0"), b.get(c, "s0")
        self.rec(b, k, ev, t, h, srv, words=words, n=n)
        with b.when(self.waits(b, srv, (L.ST_RECVB,), ss, nonnull=True)):
            m = b.call(self.f["mh_alloc"], [srv])
            cn = self.conn(b, slot)
            self.mfill(b, b.gep(b.get(srv, "mh"), [m]), cn, int(is_call))
            met(srv, self.mhandle(b, srv, m), b.get(cn, "id"))
        self._enqueue(b, c, "bq", t)
        self._keep_words(b, t, words, self._buf_first(is_call))
        self.block_on(b, t, waiting, h)

    def _sys_sendbuf(self, b, k, t, a):
        self._sendbuf(b, k, t, a, False)

    def _sys_callbuf(self, b, k, t, a):
        self._sendbuf(b, k, t, a, True)

    def _sys_recvbuf(self, b, k, t, a):
        h = a[0]
        slot, kind = self.chandle(b, t, h)
        dst, cap = self._buf_whole(b, k, t, a[1])
        c = b.get(slot, "chan")
        with b.when(b.cmp("==", kind, L.K_CLIENT), likely=False):
            self._recv_pushbuf(b, k, t, h, self.conn(b, slot), dst, cap)

        def take(q, hv, cid):
            """t takes the message of q, waiting in sendbuf or callbuf."""
            is_call = b.cmp("==", b.get(q, "state"), L.ST_CALLB_SEND)
            words = [b.select(is_call, b.get(q, "regs", self._buf_first(True) + i),
                              b.get(q, "regs", self._buf_first(False) + i))
                     for i in range(abi.BUF_WORDS)]
            n = self._meet(b, k, q, t, hv, b.zext(is_call, I64), cid, words)
            for i, v in enumerate([hv] + words + [n]):
                self.setres(b, v, 1 + i)
            with b.if_else(is_call) as (then, other):
                with then:
                    b.put(q, "state", L.ST_CALLB_REPLY)
                with other:
                    b.call(self.f["wake"], [k, q, c64(0)])
            self.ret(b, ACT_DONE)

        with b.when(b.cmp("==", kind, L.K_SERVER)):
            with b.when(b.cmp("==", b.get(t, "mh_used"), -1), likely=False):
                self.err(b, t, "E_NOSPACE")
            b.put(t, "bdst", dst)
            b.put(t, "bcap", cap)
            q = b.get(c, "bqhead")
            with b.when(b.not_(b.isnull(q))):
                self._dequeue(b, c, "bq", q)
                m = b.call(self.f["mh_alloc"], [t])
                cn = self.conn(b, self.slot(b, q, b.get(q, "wait_handle")))
                is_call = b.cmp("==", b.get(q, "state"), L.ST_CALLB_SEND)
                self.mfill(b, b.gep(b.get(t, "mh"), [m]), cn, b.zext(is_call, I64))
                take(q, self.mhandle(b, t, m), b.get(cn, "id"))
            self.block_on(b, t, L.ST_RECVB, h)
        with b.when(b.cmp("!=", b.get(c, "dead"), 0), likely=False):
            self.err(b, t, "E_CLOSED")
        b.put(t, "bdst", dst)
        b.put(t, "bcap", cap)
        pt, ps = self.peer(b, c, self.end(b, slot))
        with b.when(self.waits(b, pt, (L.ST_SENDB, L.ST_CALLB_SEND), ps)):
            take(pt, h, c64(0))
        self.block_on(b, t, L.ST_RECVB, h)

    def _sys_replybuf(self, b, k, t, a):
        h, buf, off, n = a[:4]
        words = a[4:7]

        def through_mhandle(ms, caller):
            with b.when(b.cmp("!=", self.mwaits(b, ms), 0)):
                snd = self.msender(b, ms)
                with b.when(self.in_any_reply(b, snd)):
                    b.store(snd, caller)

        def through_chandle(caller):
            slot, kind = self.chandle(b, t, h)
            c = b.get(slot, "chan")
            pt, ps = self.peer(b, c, self.end(b, slot))
            ok = b.and_(b.and_(b.cmp("==", kind, L.K_ONE), b.cmp("==", b.get(c, "dead"), 0)),
                        self.waits(b, pt, (L.ST_CALL_REPLY, L.ST_CALLB_REPLY), ps))
            with b.when(b.not_(ok), likely=False):
                self.err(b, t, "E_INVAL")
            b.store(pt, caller)

        caller, mslot = self.reply_to(b, t, h, through_mhandle, through_chandle)
        src = self._buf_range(b, k, t, buf, off, n)
        w = b.load(caller)
        self.rec(b, k, "reply", t, h, w, words=words, n=n)
        with b.when(b.not_(b.isnull(w))):
            long_ = b.cmp("==", b.get(w, "state"), L.ST_CALLB_REPLY)
            with b.when(long_):
                self._copy(b, t, src, n, w, b.get(w, "bdst"), b.get(w, "bcap"))
            for i, v in enumerate(list(words) + [b.select(long_, n, c64(0))]):
                b.put(w, "regs", v, A0 + 1 + i)
            b.call(self.f["wake"], [k, w, c64(0)])
        s = b.load(mslot)
        with b.when(b.cmp(">=", s, 0)):
            b.call(self.f["mh_free"], [t, s])
        self.ret(b, ACT_DONE)

    # -- entry points for Python ------------------------------------------------------------
    def _exports(self):
        """mk_free(k): free kernel objects, line buffers, mhandle tables and the output."""
        fn, b = self._fn("mk_free", ir.VoidType(), [self.K], "unoptimised")
        (k,) = fn.args
        tasks = b.get(k, "tasks")

        def each(i):
            t = b.gep(tasks, [i])
            b.call(self.free, [b.get(t, "line")])
            b.put(t, "line", b.null(I8P))
            b.call(self.free, [b.bitcast(b.get(t, "mh"), I8P)])
            b.put(t, "mh", b.null(self.lay.ptr("MhSlot")))
            b.call(self.free, [b.bitcast(b.get(t, "sel_copy"), I8P)])
            b.put(t, "sel_copy", b.null(I64P))
        b.loop_range(b.get(k, "nslots"), each)
        p = b.var(b.get(k, "allocs"), I8P)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        pv = b.load(p)
        b.cbranch(b.isnull(pv), done, body)
        b.position_at_end(body)
        b.store(b.load(b.bitcast(pv, I8P.as_pointer())), p)
        b.call(self.free, [pv])
        b.branch(head)
        b.position_at_end(done)
        b.put(k, "allocs", b.null(I8P))
        for buf in ("heap", "hpos"):
            b.call(self.free, [b.bitcast(b.get(k, buf), I8P)])
            b.put(k, buf, b.null(I64P))
        for buf in ("out", "log", "chains", "trace", "rlog"):
            b.call(self.free, [b.get(k, buf)])
            b.put(k, buf, b.null(I8P))
        b.ret_void()
        fn.linkage = "external"

        # mk_ready(k, t): t at the tail of the ready queue; mk_grow(k): double its ring
        # (Python's spawn and boot: kernel_ir._rq)
        fn, b = self._fn("mk_ready", ir.VoidType(), [self.K, self.T], "unoptimised")
        b.call(self.f["rq_push"], list(fn.args))
        b.ret_void()
        fn.linkage = "external"
        fn, b = self._fn("mk_grow", ir.VoidType(), [self.K], "unoptimised")
        b.call(self.f["rq_grow"], list(fn.args))
        b.ret_void()
        fn.linkage = "external"

        # mk_sys(k, t, num, args, out) -> action: syscall num (one of HOST_SYSCALLS) made by
        # task t with args[0..] (for a host task, whose code is Python); status and results
        # go to out[0..5]; a handoff is queued here (the caller sees ACT_BLOCK)
        fn, b = self._fn("mk_sys", I64, [self.K, self.T, I64, I64P, I64P], "unoptimised")
        k, t, num, args, out = fn.args
        bad = b.block("bad")
        sw = b.switch(num, bad)
        for sc in map(abi.SYS.get, HOST_SYSCALLS):
            blk = b.block(sc.name)
            sw.add_case(c64(sc.num), blk)
            b.position_at_end(blk)
            a = [b.load(b.gep(args, [c64(i)])) for i in range(sc.nargs)]
            act = b.call(self.f[f"sys_{sc.name}"], [k, t, out] + a)
            with b.when(b.cmp("==", act, ACT_HANDOFF)):
                w = b.inttoptr(b.load(b.gep(out, [c64(HANDOFF_OUT)])), self.T)
                self.give(b, w, b.load(b.gep(out, [c64(1)])), a[1:5])
                b.call(self.f["rq_push"], [k, w])
                b.ret(c64(ACT_BLOCK))
            b.ret(act)
        b.position_at_end(bad)
        b.ret(c64(-1))
        fn.linkage = "external"

        # mk_fault(k, t, code, a): fault task t (a host task: no pc, no call chain)
        fn, b = self._fn("mk_fault", ir.VoidType(), [self.K, self.T, I64, I64], "unoptimised")
        k, t, code, a = fn.args
        b.call(self.f["task_fault"], [k, t, code, a, c64(0), c64(0), c64(-1), c64(-1)])
        b.ret_void()
        fn.linkage = "external"

    # -- notifications and time (docs/kernel.md, "Notifications and time") --------------
    def _timers(self):
        """The timer heap: entries of HEAP_FIELDS words in Kernel.heap, ordered by
        (deadline, seq), the same heap in the same order as mikro.vm.kernel.Timers. Each
        entry's `pos` (2 * task slot + kind) names its word in Kernel.hpos, which holds its
        index + 1 (0: the task has no entry of that kind), so an entry is removed in
        O(log n). The positions are a dense array of their own rather than task fields: a
        sift moves up to log n entries, and writing each one's position into its task would
        cost a cache miss per move with 10^5 tasks. A sift moves the entries it passes into
        the hole and writes the sifted one once. Built only for a program that sets
        deadlines."""
        if not self.timed:
            fn, b = self._fn("tick", I64, [self.K], "unoptimised")
            b.ret(c64(0))
            return
        K, W = self.K, len(L.HEAP_FIELDS)
        DL, SEQ, _, POS = range(W)

        def word(b, k, i, j):
            return b.gep(b.get(k, "heap"), [b.add(b.mul(i, c64(W)), c64(j))])

        def load(b, k, i, j):
            return b.load_as(word(b, k, i, j), "heap")

        def less(b, d1, s1, d2, s2):
            return b.or_(b.cmp("<", d1, d2), b.and_(b.cmp("==", d1, d2), b.cmp("<", s1, s2)))

        # heap_put(k, i, deadline, seq, task, pos): the entry at i, its position noted
        fn, b = self._fn("heap_put", ir.VoidType(), [K] + [I64] * (1 + W), "always")
        k, i, *vals = fn.args
        for j, v in enumerate(vals):
            b.store_as(v, word(b, k, i, j), "heap")
        b.store_as(b.add(i, c64(1)), b.gep(b.get(k, "hpos"), [vals[POS]]), "hpos")
        b.ret_void()

        def move(b, k, src, dst):
            b.call(self.f["heap_put"], [k, dst] + [load(b, k, src, f) for f in range(W)])

        # heap_up(k, i, entry) and heap_down(k, i, entry): place the entry, starting at
        # the hole i, moving the entries it passes into the hole
        def sift(name, step):
            fn, b = self._fn(name, ir.VoidType(), [K] + [I64] * (1 + W), "never")
            k, i0, *e = fn.args
            i = b.var(i0)
            head, done = b.block(), b.block()
            b.branch(head)
            b.position_at_end(head)
            iv = b.load(i)
            j = step(b, k, iv, e)               # the entry to move into the hole, or -1
            go = b.block()
            b.cbranch(b.cmp("<", j, 0), done, go)
            b.position_at_end(go)
            move(b, k, j, iv)
            b.store(j, i)
            b.branch(head)
            b.position_at_end(done)
            b.call(self.f["heap_put"], [k, b.load(i)] + e)
            b.ret_void()

        def parent(b, k, iv, e):
            p = b.sdiv(b.sub(iv, c64(1)), c64(2))
            up = b.var(0, ir.IntType(1))
            with b.when(b.cmp(">", iv, 0)):
                b.store(less(b, e[DL], e[SEQ], load(b, k, p, DL), load(b, k, p, SEQ)), up)
            return b.select(b.load(up), p, c64(-1))

        def child(b, k, iv, e):
            n = b.get(k, "heap_len")
            c = b.add(b.mul(iv, c64(2)), c64(1))
            m = b.var(c64(-1))
            with b.when(b.cmp("<", c, n)):
                b.store(c, m)
                r = b.add(c, c64(1))
                with b.when(b.cmp("<", r, n)):
                    with b.when(less(b, load(b, k, r, DL), load(b, k, r, SEQ),
                                     load(b, k, c, DL), load(b, k, c, SEQ))):
                        b.store(r, m)
                mv = b.load(m)
                with b.when(b.not_(less(b, load(b, k, mv, DL), load(b, k, mv, SEQ),
                                        e[DL], e[SEQ]))):
                    b.store(c64(-1), m)
            return b.load(m)
        sift("heap_up", parent)
        sift("heap_down", child)

        # heap_fill(k): the hole tick left at the root (heap_hole) is filled: the last entry
        # sifts down from it. Taking the root leaves the hole rather than sifting at once,
        # so a root taken and a new earliest entry set cost O(1) instead of 2 log n moves
        fn, b = self._fn("heap_fill", ir.VoidType(), [K], "never")
        (k,) = fn.args
        with b.when(b.cmp("==", b.get(k, "heap_hole"), 0)):
            b.ret_void()
        b.put(k, "heap_hole", 0)
        last = b.sub(b.get(k, "heap_len"), c64(1))
        b.put(k, "heap_len", last)
        with b.when(b.cmp(">", last, 0)):
            b.call(self.f["heap_down"], [k, c64(0)] + [load(b, k, last, f) for f in range(W)])
        b.ret_void()

        # heap_first(k) -> the index of the earliest entry, -1 when there is none: the root,
        # or with a hole there the earlier of its children
        fn, b = self._fn("heap_first", I64, [K], "always")
        (k,) = fn.args
        n = b.get(k, "heap_len")
        with b.when(b.cmp("==", b.get(k, "heap_hole"), 0)):
            b.ret(b.select(b.cmp("==", n, 0), c64(-1), c64(0)))
        with b.when(b.cmp("<=", n, 2)):
            b.ret(b.select(b.cmp("==", n, 1), c64(-1), c64(1)))    # the hole alone: none
        right = less(b, load(b, k, c64(2), DL), load(b, k, c64(2), SEQ),
                     load(b, k, c64(1), DL), load(b, k, c64(1), SEQ))
        b.ret(b.select(right, c64(2), c64(1)))

        # heap_take_root(k): the root (the earliest entry) goes, leaving a hole
        fn, b = self._fn("heap_take_root", ir.VoidType(), [K], "always")
        (k,) = fn.args
        b.store_as(c64(0), b.gep(b.get(k, "hpos"), [load(b, k, c64(0), POS)]), "hpos")
        b.put(k, "heap_hole", 1)
        b.ret_void()

        # heap_push(k, t, kind, deadline) -> 0, or -1 when the system refuses the memory
        fn, b = self._fn("heap_push", I64, [K, self.T, I64, I64], "never")
        k, t, kind, deadline = fn.args
        with b.when(b.isnull(b.get(k, "hpos")), likely=False):
            raw = b.call(self.calloc, [b.mul(b.get(k, "task_cap"), c64(2)), c64(8)])
            with b.when(b.isnull(raw)):
                b.ret(c64(-1))
            b.put(k, "hpos", b.bitcast(raw, I64P))
        seq = b.add(b.get(k, "heap_seq"), c64(1))
        e = [deadline, seq, b.ptrtoint(t, I64), b.add(b.mul(b.get(t, "slot"), c64(2)), kind)]
        with b.when(b.cmp("!=", b.get(k, "heap_hole"), 0)):
            # the root is a hole: an entry before both children takes it, in O(1) (a task
            # that sets the earliest deadline each time it is woken by the last one)
            n = b.get(k, "heap_len")
            fits = b.var(1, ir.IntType(1))
            for child in (1, 2):
                with b.when(b.cmp(">", n, child)):
                    first = less(b, e[DL], e[SEQ], load(b, k, c64(child), DL),
                                 load(b, k, c64(child), SEQ))
                    b.store(b.and_(b.load(fits), first), fits)
            with b.when(b.load(fits)):
                b.put(k, "heap_seq", seq)
                b.put(k, "heap_hole", 0)
                b.call(self.f["heap_put"], [k, c64(0)] + e)
                b.ret(c64(0))
            b.call(self.f["heap_fill"], [k])
        n, cap = b.get(k, "heap_len"), b.get(k, "heap_cap")
        with b.when(b.cmp("==", n, cap), likely=False):
            nc = b.add(b.mul(cap, c64(2)), c64(64))
            raw = b.call(self.realloc, [b.bitcast(b.get(k, "heap"), I8P), b.mul(nc, c64(8 * W))])
            with b.when(b.isnull(raw)):
                b.ret(c64(-1))
            b.put(k, "heap", b.bitcast(raw, I64P))
            b.put(k, "heap_cap", nc)
        b.put(k, "heap_seq", seq)
        b.put(k, "heap_len", b.add(n, c64(1)))
        b.call(self.f["heap_up"], [k, n] + e)
        b.ret(c64(0))

        # heap_remove(k, i): take entry i out, its position cleared
        fn, b = self._fn("heap_remove", ir.VoidType(), [K, I64], "never")
        k, i = fn.args
        b.store_as(c64(0), b.gep(b.get(k, "hpos"), [load(b, k, i, POS)]), "hpos")
        last = b.sub(b.get(k, "heap_len"), c64(1))
        b.put(k, "heap_len", last)
        with b.when(b.cmp("<", i, last)):
            e = [load(b, k, last, f) for f in range(W)]
            p = b.sdiv(b.sub(i, c64(1)), c64(2))
            up = b.var(0, ir.IntType(1))
            with b.when(b.cmp(">", i, 0)):
                b.store(less(b, e[DL], e[SEQ], load(b, k, p, DL), load(b, k, p, SEQ)), up)
            with b.if_else(b.load(up)) as (then, other):
                with then:
                    b.call(self.f["heap_up"], [k, i] + e)
                with other:
                    b.call(self.f["heap_down"], [k, i] + e)
        b.ret_void()

    def hpos(self, b: B, k, t, kind: int):
        """The index + 1 of t's heap entry of that kind (0: none)."""
        h = b.get(k, "hpos")
        out = b.var(0)
        with b.when(b.not_(b.isnull(h))):
            at = b.add(b.mul(b.get(t, "slot"), c64(2)), c64(kind))
            b.store(b.load_as(b.gep(h, [at]), "hpos"), out)
        return b.load(out)

    def unheap(self, b: B, k, t, kind: int):
        """Take t's entry of that kind out of the heap, if it has one (the hole at the
        root filled first, which may move it)."""
        at = self.hpos(b, k, t, kind)
        with b.when(b.cmp("!=", at, 0), likely=False):
            b.call(self.f["heap_fill"], [k])
            b.call(self.f["heap_remove"], [k, b.sub(self.hpos(b, k, t, kind), c64(1))])

    def _tick(self):
        """tick(k), and the re-arming of periodic timers (Kernel.tick, arm_next, rearm)."""
        if not self.timed:
            return
        K = self.K
        DL, TASK, POS = (L.HEAP_FIELDS.index(f) for f in ("deadline", "task", "pos"))

        def load(b, k, i, j):
            return b.load_as(b.gep(b.get(k, "heap"), [b.add(b.mul(i, c64(len(L.HEAP_FIELDS))),
                                                              c64(j))]), "heap")

        self._withdraw()
        self._expire()

        # arm_next(k, t, last, n): t's periodic timer, last due at `last`, due again n
        # periods later; it ends when that is past TIME_MAX (or memory is refused)
        fn, b = self._fn("arm_next", ir.VoidType(), [K, self.T, I64, I64], "never")
        k, t, last, n = fn.args
        period = b.get(t, "tm_period")
        ok = b.cmp("<=", n, b.sdiv(b.sub(c64(abi.TIME_MAX), last), period))
        with b.if_else(ok) as (then, other):
            with then:
                r = b.call(self.f["heap_push"], [k, t, c64(L.H_TIMER),
                                                 b.add(last, b.mul(n, period))])
                with b.when(b.cmp("<", r, 0)):
                    b.put(t, "tm_bits", 0)
            with other:
                b.put(t, "tm_bits", 0)
        b.ret_void()

        # rearm(k, t): a parked periodic timer goes on at its first tick after now
        fn, b = self._fn("rearm", ir.VoidType(), [K, self.T], "never")
        k, t = fn.args
        with b.when(b.cmp("!=", b.get(t, "tm_parked"), 0)):
            b.put(t, "tm_parked", 0)
            last = b.get(t, "tm_last")
            n = b.add(b.sdiv(b.sub(b.get(k, "now"), last), b.get(t, "tm_period")), c64(1))
            b.call(self.f["arm_next"], [k, t, last, n])
        b.ret_void()

        # tick(k) -> 1 when a task is ready: Kernel.tick of the reference kernel
        fn, b = self._fn("tick", I64, [K], "never")
        (k,) = fn.args
        head, check, advance, due, fire, done = (b.block(x) for x in (
            "tick.head", "tick.check", "tick.advance", "tick.due", "tick.fire", "tick.done"))
        b.branch(head)
        b.position_at_end(head)
        with b.when(b.cmp("!=", b.get(k, "rq_head"), b.get(k, "rq_tail"))):
            b.ret(c64(1))
        earliest = b.call(self.f["heap_first"], [k])
        b.cbranch(b.cmp("<", earliest, 0), done, advance)
        b.position_at_end(advance)
        first = load(b, k, earliest, DL)
        with b.when(b.cmp(">", first, b.get(k, "now"))):
            b.put(k, "now", first)
        b.branch(check)
        b.position_at_end(check)
        earliest = b.call(self.f["heap_first"], [k])
        b.cbranch(b.cmp(">=", earliest, 0), due, head)
        b.position_at_end(due)
        deadline = load(b, k, earliest, DL)
        b.cbranch(b.cmp("<=", deadline, b.get(k, "now")), fire, head)
        b.position_at_end(fire)
        b.call(self.f["heap_fill"], [k])               # the entry due comes to the root
        t = b.inttoptr(load(b, k, c64(0), TASK), self.T)
        kind = b.and_(load(b, k, c64(0), POS), c64(1))
        b.call(self.f["heap_take_root"], [k])
        with b.if_else(b.cmp("==", kind, L.H_WAIT)) as (wait, timer):
            with wait:
                # a sleep ends; another wait ends when its task is picked (expire), so a
                # message sent at this tick may come first
                state = b.get(t, "state")
                with b.if_else(b.cmp("==", state, L.ST_SLEEP)) as (sleeping, other):
                    with sleeping:
                        self.rec(b, k, "timeout", t, a=deadline, bb=TIMEOUT_OF["sleep"])
                        b.call(self.f["wake"], [k, t, c64(0)])
                    with other:
                        b.put(t, "exp_at", deadline)
                        b.call(self.f["rq_push"], [k, t])
                        b.put(t, "state", state)
            with timer:
                self._fire(b, k, t, deadline)
        b.branch(check)
        b.position_at_end(done)
        b.ret(c64(0))

    def _expire(self):
        """expire(k, t): t, queued when its deadline came, is picked (Kernel.expire):
        unless something ended its wait meanwhile, the deadline does now."""
        b = self.expire_b
        k, t = b.fn.args
        deadline = b.get(t, "exp_at")
        b.put(t, "exp_at", 0)
        state = b.get(t, "state")
        with b.when(b.cmp("<", state, L.ST_RECV)):      # ready: its wait ended meanwhile
            b.ret_void()
        if self.traced:
            of = c64(TIMEOUT_OF["recv"])
            for st, name in TIMEOUT_OF_STATE.items():
                of = b.select(b.cmp("==", state, st), c64(TIMEOUT_OF[name]), of)
            quiet = b.or_(b.or_(b.cmp("==", state, L.ST_OPEN), b.cmp("==", state, L.ST_SELECT)),
                          b.cmp("==", state, L.ST_WAIT))
            self.rec(b, k, "timeout", t, b.select(quiet, c64(0), b.get(t, "wait_handle")),
                     a=deadline, bb=of)
        b.call(self.f["withdraw"], [k, t])
        self.zero_results(b, t)
        b.put(t, "regs", E["E_TIMEOUT"], A0)
        b.put(t, "state", L.READY)
        b.ret_void()

    def _fire(self, b: B, k, t, deadline):
        """t's timer is due (Kernel.fire): its bits ORed in, taken at once by a task that
        waits for them (the timer goes on), else a periodic timer is parked."""
        bits = b.get(t, "tm_bits")
        self.rec(b, k, "timer", t, a=deadline, bb=bits)
        state = b.get(t, "state")
        waiting = b.or_(b.cmp("==", state, L.ST_WAIT),
                        b.and_(b.cmp("==", state, L.ST_SELECT),
                               b.cmp("!=", b.get(t, "sel_bits"), 0)))
        self.signal(b, k, t, bits)
        period = b.get(t, "tm_period")
        with b.if_else(b.cmp("==", period, 0)) as (once, periodic):
            with once:
                b.put(t, "tm_bits", 0)
            with periodic:
                with b.if_else(waiting) as (then, other):
                    with then:
                        b.call(self.f["arm_next"], [k, t, deadline, c64(1)])
                    with other:
                        b.put(t, "tm_parked", 1)
                        b.put(t, "tm_last", deadline)

    def untime(self, b: B, k, t):
        """t's wait ends before its deadline: the entry goes (nothing in an untimed build)."""
        if self.timed:
            self.unheap(b, k, t, L.H_WAIT)

    def signal(self, b: B, k, t, bits):
        """OR bits into t's pending word; if t waits in `wait`, it takes them and is woken."""
        p = b.or_(b.get(t, "pending"), bits)
        b.put(t, "pending", p)
        with b.when(b.and_(b.cmp("!=", p, 0), b.cmp("==", b.get(t, "state"), L.ST_WAIT))):
            b.put(t, "pending", 0)
            b.put(t, "regs", p, A0 + 1)
            b.call(self.f["wake"], [k, t, c64(0)])
        with b.when(b.cmp("!=", p, 0)):
            self.poke(b, k, t, c64(BITS_SLOT))

    def timed_block(self, b: B, k, t, state, h, deadline):
        """Wait until woken or the deadline passes; E_TIMEOUT at once when it has."""
        with b.when(b.cmp("<=", deadline, b.get(k, "now")), likely=False):
            self.err(b, t, "E_TIMEOUT")
        r = b.call(self.f["heap_push"], [k, t, c64(L.H_WAIT), deadline])
        with b.when(b.cmp("<", r, 0), likely=False):
            self.err(b, t, "E_NOSPACE")
        self.block_on(b, t, state, h)

    def _sys_notify(self, b, k, t, a):
        h, bits = a
        pt = self.handle_peer(b, t, h)
        self.rec(b, k, "notify", t, h, pt, a=bits)
        self.signal(b, k, pt, bits)
        self.ret(b, ACT_DONE)

    def handle_peer(self, b: B, t, h):
        """The task at the other end of h (notify's rule); E_BADHANDLE, E_INVAL for a MANY
        server end, E_CLOSED when no task is there."""
        peer = b.var(None, self.T)
        with b.if_else(b.cmp(">=", h, abi.CH_SLOTS, signed=False)) as (mh, ch):
            with mh:
                s, ms = self.live_mslot(b, t, h, lambda: self.err(b, t, "E_BADHANDLE"))
                cn = b.get(ms, "conn")
                with b.when(b.cmp("==", b.get(cn, "open"), 0), likely=False):
                    self.err(b, t, "E_CLOSED")
                b.store(b.get(cn, "client"), peer)
            with ch:
                slot, kind = self.chandle(b, t, h)
                with b.when(b.cmp("==", kind, L.K_SERVER), likely=False):
                    self.err(b, t, "E_INVAL")
                c = b.get(slot, "chan")
                with b.when(b.cmp("!=", b.get(c, "dead"), 0), likely=False):
                    self.err(b, t, "E_CLOSED")
                one_peer, _ = self.peer(b, c, self.end(b, slot))
                b.store(b.select(b.cmp("==", kind, L.K_CLIENT), b.get(c, "t0"), one_peer), peer)
        pt = b.load(peer)
        with b.when(b.isnull(pt), likely=False):
            self.err(b, t, "E_CLOSED")
        return pt

    def _wait(self, b, k, t, deadline):
        if "timer" in self.used:
            b.call(self.f["rearm"], [k, t])
        p = b.get(t, "pending")
        with b.when(b.cmp("!=", p, 0)):
            b.put(t, "pending", 0)
            self.setres(b, p, 1)
            self.ret(b, ACT_DONE)
        if deadline is None:
            self.block_on(b, t, L.ST_WAIT, c64(0))
        else:
            self.timed_block(b, k, t, L.ST_WAIT, c64(0), deadline)

    def _sys_wait(self, b, k, t, a):
        self._wait(b, k, t, None)

    def _sys_wait_until(self, b, k, t, a):
        with b.when(b.cmp("<", a[0], 0), likely=False):
            self.err(b, t, "E_INVAL")
        self._wait(b, k, t, a[0])

    def _sys_recv_until(self, b, k, t, a):
        with b.when(b.cmp("<", a[1], 0), likely=False):
            self.err(b, t, "E_INVAL")
        self._sys_recv(b, k, t, a[:1], deadline=a[1])

    def _sys_call_until(self, b, k, t, a):
        with b.when(b.cmp("<", a[1], 0), likely=False):
            self.err(b, t, "E_INVAL")
        self._send(b, k, t, a, True, deadline=a[1])

    def _unlink(self, b: B, obj, prefix: str, t):
        """Take t off the qnext-linked list obj.{prefix}head .. tail, wherever it is in it
        (O(its place)): found by walking from the head."""
        prev = b.var(b.null(self.T), self.T)
        cur = b.var(b.get(obj, prefix + "head"), self.T)
        head, body, found = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        cv = b.load(cur)
        b.cbranch(b.icmp_unsigned("==", cv, t), found, body)
        b.position_at_end(body)
        b.store(cv, prev)
        b.store(b.get(cv, "qnext"), cur)
        b.branch(head)
        b.position_at_end(found)
        pv, nxt = b.load(prev), b.get(t, "qnext")
        with b.if_else(b.isnull(pv)) as (first, later):
            with first:
                b.put(obj, prefix + "head", nxt)
            with later:
                b.put(pv, "qnext", nxt)
        with b.when(b.isnull(nxt)):
            b.put(obj, prefix + "tail", pv)
        b.put(t, "qnext", b.null(self.T))

    def _withdraw(self):
        """withdraw(k, t): t's wait ends by its deadline (Kernel.withdraw): an opener leaves
        the name's FIFO, a push is no longer pending, a message still queued on a MANY
        channel leaves its queue (O(queue)), one taken leaves its mhandle answering nobody
        (the server's 64 mhandle slots looked at). The other waits left nothing."""
        fn, b = self._fn("withdraw", ir.VoidType(), [self.K, self.T], "never")
        k, t = fn.args
        state = b.get(t, "state")
        with b.when(b.cmp("==", state, L.ST_OPEN)):
            nm = self._table(b, k, "names", getattr(self, "g_names", None),
                             b.get(t, "wait_handle"))
            self._unlink(b, b.gep(b.get(k, "reg"), [nm]), "w", t)
            b.ret_void()
        with b.when(b.cmp("==", state, L.ST_PUSH)):
            b.put(b.get(t, "wait_conn"), "pusher", b.null(self.T))
            b.ret_void()
        queued = b.or_(b.cmp("==", state, L.ST_SEND), b.cmp("==", state, L.ST_CALL_SEND))
        bqueued = b.or_(b.cmp("==", state, L.ST_SENDB), b.cmp("==", state, L.ST_CALLB_SEND))
        taken = b.or_(b.cmp("==", state, L.ST_CALL_REPLY), b.cmp("==", state, L.ST_CALLB_REPLY))
        with b.when(b.not_(b.or_(b.or_(queued, bqueued), taken))):
            b.ret_void()
        slot = self.slot(b, t, b.get(t, "wait_handle"))
        with b.when(b.cmp("!=", self.kind(b, slot), L.K_CLIENT)):
            b.ret_void()
        c, cn = b.get(slot, "chan"), self.conn(b, slot)
        with b.when(queued):
            self._unlink(b, c, "q", t)
            b.ret_void()
        with b.when(bqueued):
            self._unlink(b, c, "bq", t)
            b.ret_void()
        srv = b.get(c, "t0")

        def each(s):
            ms = b.gep(b.get(srv, "mh"), [s])
            used = b.and_(b.lshr(b.get(srv, "mh_used"), s), c64(1))
            mine = b.and_(b.cmp("!=", used, 0), b.icmp_unsigned("==", b.get(ms, "conn"), cn))
            with b.when(mine):
                b.put(ms, "word", b.and_(b.get(ms, "word"), c64(-2)))
        b.loop_range(c64(abi.MH_SLOTS), each)
        b.ret_void()

    def _sys_sleep(self, b, k, t, a):
        ticks, now = a[0], b.get(k, "now")
        bad = b.or_(b.cmp("<", ticks, 0), b.cmp(">", ticks, b.sub(c64(abi.TIME_MAX), now)))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        with b.when(b.cmp("==", ticks, 0)):
            self.ret(b, ACT_DONE)
        r = b.call(self.f["heap_push"], [k, t, c64(L.H_WAIT), b.add(now, ticks)])
        with b.when(b.cmp("<", r, 0), likely=False):
            self.err(b, t, "E_NOSPACE")
        self.block_on(b, t, L.ST_SLEEP, c64(0))

    def _sys_now(self, b, k, t, a):
        self.setres(b, b.get(k, "now"), 1)
        self.ret(b, ACT_DONE)

    def _sys_choose(self, b, k, t, a):
        n = a[0]
        with b.when(b.cmp("<", n, 1), likely=False):
            self.err(b, t, "E_INVAL")
        with b.when(b.cmp("==", n, 1)):
            self.ret(b, ACT_DONE)
        with b.when(b.cmp("!=", b.get(k, "xmode"), 0)):
            self.setres(b, b.call(self.f["decide"], [k, n, b.get(t, "id")]), 1)
            self.ret(b, ACT_DONE)
        with b.when(b.cmp("!=", b.get(k, "seed"), 0)):
            self.setres(b, b.urem(self.splitmix(b, k, "rng"), n), 1)
            self.ret(b, ACT_DONE)
        self.ret(b, ACT_DONE)

    def _sys_timer(self, b, k, t, a):
        bits, first, period = a
        with b.when(b.or_(b.cmp("<", first, 0), b.cmp("<", period, 0)), likely=False):
            self.err(b, t, "E_INVAL")
        self.unheap(b, k, t, L.H_TIMER)
        b.put(t, "tm_parked", 0)
        b.put(t, "tm_bits", bits)
        b.put(t, "tm_period", period)
        with b.when(b.cmp("!=", bits, 0)):
            r = b.call(self.f["heap_push"], [k, t, c64(L.H_TIMER), first])
            with b.when(b.cmp("<", r, 0), likely=False):
                b.put(t, "tm_bits", 0)
                self.err(b, t, "E_NOSPACE")
        self.ret(b, ACT_DONE)

    # -- supervision (docs/kernel.md, "Supervision"; mikro/vm/kernel.py: the same rules) ------
    # A task has at most one supervisor (Task.sup), which keeps the tasks it supervises in a
    # list through their `sib`. An ended task with a supervisor keeps its slot (its index,
    # generation, type and arguments), so that the supervisor can read how it ended and
    # restart it in that slot; Kernel.idmap finds a task's slot from its index in O(1).
    def _supervision(self):
        fn, b = self._fn("slot_free", ir.VoidType(), [self.K, self.T], "never")
        k, t = fn.args
        nf = b.get(k, "nfree")
        b.store_as(b.get(t, "slot"), b.gep(b.get(k, "free"), [nf]), "free")
        b.put(k, "nfree", b.add(nf, c64(1)))
        b.ret_void()

        # sup_end(k, t) -> whether t keeps its slot: t has ended; the tasks it supervised
        # have no supervisor now (an ended one is gone: its slot is free), and its own
        # supervisor, if it has one, gets its bits
        fn, b = self._fn("sup_end", ir.IntType(1), [self.K, self.T], "never")
        k, t = fn.args

        def orphan(kv):
            b.put(kv, "sup", b.null(self.T))
            with b.when(b.cmp("==", b.get(kv, "state"), L.DEAD)):
                b.put(k, "held", b.sub(b.get(k, "held"), c64(1)))
                b.call(self.f["slot_free"], [k, kv])
        self._drain(b, b.get(t, "kids"), orphan, link="sib")
        b.put(t, "kids", b.null(self.T))
        sup = b.get(t, "sup")
        with b.when(b.isnull(sup)):
            b.ret(ir.Constant(ir.IntType(1), 0))
        b.put(k, "held", b.add(b.get(k, "held"), c64(1)))
        bits = b.get(t, "sup_bits")
        self.rec(b, k, "down", t, peer=sup, a=bits)
        self.signal(b, k, sup, bits)
        b.ret(ir.Constant(ir.IntType(1), 1))

    def _task_of(self, b: B, k, t, tid):
        """The task id tid names (Kernel.task_of): E_INVAL for a value that is no task id
        (negative, index 0 or past the tasks started, a generation not reached yet),
        E_CLOSED for a task that is gone (its slot free or reused) or restarted since."""
        with b.when(b.cmp("<", tid, 0), likely=False):
            self.err(b, t, "E_INVAL")
        idx = b.and_(tid, c64(abi.TID_INDEX_MAX))
        bad = b.or_(b.cmp("==", idx, 0), b.cmp(">", idx, b.get(k, "ntasks")))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        slot = b.load_as(b.gep(b.get(k, "idmap"), [idx]), "idmap")
        w = b.gep(b.get(k, "tasks"), [slot])
        wid = b.get(w, "id")
        gone = b.or_(b.cmp("!=", b.and_(wid, c64(abi.TID_INDEX_MAX)), idx),
                     b.and_(b.cmp("==", b.get(w, "state"), L.DEAD), b.isnull(b.get(w, "sup"))))
        with b.when(gone, likely=False):
            self.err(b, t, "E_CLOSED")
        gen, now_gen = b.lshr(tid, c64(abi.TID_SHIFT)), b.lshr(wid, c64(abi.TID_SHIFT))
        with b.when(b.cmp(">", gen, now_gen), likely=False):
            self.err(b, t, "E_INVAL")
        with b.when(b.cmp("<", gen, now_gen), likely=False):
            self.err(b, t, "E_CLOSED")
        return w

    def _sys_monitor(self, b, k, t, a):
        tid, bits = a
        w = self._task_of(b, k, t, tid)
        bad = b.or_(b.icmp_unsigned("==", w, t), b.cmp("==", b.get(w, "type"), L.HOST_TYPE))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        sup = b.get(w, "sup")
        with b.when(b.and_(b.not_(b.isnull(sup)), b.icmp_unsigned("!=", sup, t)), likely=False):
            self.err(b, t, "E_BUSY")
        with b.when(b.isnull(sup)):
            b.put(w, "sup", t)
            b.put(w, "sib", b.get(t, "kids"))
            b.put(t, "kids", w)
        b.put(w, "sup_bits", bits)
        self.rec(b, k, "monitor", t, peer=w, a=bits)
        self.ret(b, ACT_DONE)

    def _sys_status(self, b, k, t, a):
        assert (abi.T_EXITED, abi.T_FAULTED) == (1, 2)      # Task.end_kind's values
        w = self._task_of(b, k, t, a[0])
        dead = b.cmp("==", b.get(w, "state"), L.DEAD)
        how = b.select(dead, b.get(w, "end_kind"), c64(abi.T_ALIVE))
        self.setres(b, how, 1)
        self.setres(b, b.select(b.cmp("==", how, abi.T_EXITED), b.get(w, "exit_code"), c64(0)), 2)
        self.ret(b, ACT_DONE)

    def _sys_restart(self, b, k, t, a):
        w = self._task_of(b, k, t, a[0])
        with b.when(b.icmp_unsigned("!=", b.get(w, "sup"), t), likely=False):
            self.err(b, t, "E_INVAL")
        with b.when(b.cmp("!=", b.get(w, "state"), L.DEAD), likely=False):
            self.err(b, t, "E_BUSY")
        old = b.get(w, "id")
        gen = b.add(b.lshr(old, c64(abi.TID_SHIFT)), c64(1))
        with b.when(b.cmp(">", gen, abi.TID_GEN_MAX), likely=False):
            self.err(b, t, "E_NOSPACE")
        alive = b.get(k, "alive")
        at = self._rlog_room(b, k, t)
        # the slot is made new as spawn makes a reused one, keeping what a restart keeps
        keep = ["slot", "mem", "type", "sup", "sib", "sup_bits"]
        kept = {f: b.get(w, f) for f in keep}
        args = [b.get(w, "args", i) for i in range(abi.MAX_TASK_PARAMS)]
        b.call(self.memset, [b.bitcast(w, I8P), ir.Constant(I32, 0), c64(ctypes.sizeof(L.CTask))])
        for f, v in kept.items():
            b.put(w, f, v)
        new = b.or_(b.shl(gen, c64(abi.TID_SHIFT)), b.and_(old, c64(abi.TID_INDEX_MAX)))
        b.put(w, "id", new)
        mw = b.get(k, "mem_words")
        for i, v in enumerate(args):
            b.put(w, "args", v, i)
            b.put(w, "regs", v, A0 + i)
        b.put(w, "regs", mw, isa.SP)
        b.put(w, "regs", mw, isa.FP)
        ty = kept["type"]
        b.put(w, "resume", self._table(b, k, "entries", getattr(self, "g_entries", None), ty))
        b.put(w, "slice", abi.QUANTUM)
        b.put(k, "alive", b.add(alive, c64(1)))         # it held its place while ended
        b.put(k, "held", b.sub(b.get(k, "held"), c64(1)))
        with b.when(b.cmp(">", b.add(alive, c64(1)), b.add(b.get(k, "rq_mask"), c64(1))),
                    likely=False):
            b.call(self.f["rq_grow"], [k])
        words = b.bitcast(b.gep(b.get(k, "rlog"), [at]), I64P)
        for j, v in enumerate((old, new, ty, b.get(t, "id"), b.get(t, "type"))):
            b.store(v, b.gep(words, [c64(j)]))
        b.put(k, "rlog_len", b.add(at, c64(8 * len(L.RESTART_FIELDS))))
        self.rec(b, k, "restart", t, peer=w, a=old)
        b.call(self.f["rq_push"], [k, w])
        self.setres(b, new, 1)
        self.ret(b, ACT_DONE)

    def _rlog_room(self, b: B, k, t):
        """Room for one more restart record in Kernel.rlog (E_NOSPACE when the system
        refuses the memory, before anything changed); where it goes."""
        rec = c64(8 * len(L.RESTART_FIELDS))
        ln, cap = b.get(k, "rlog_len"), b.get(k, "rlog_cap")
        with b.when(b.cmp(">", b.add(ln, rec), cap), likely=False):
            nc = b.add(b.mul(cap, c64(2)), b.mul(rec, c64(16)))
            p = b.call(self.realloc, [b.get(k, "rlog"), nc])
            with b.when(b.isnull(p), likely=False):
                self.err(b, t, "E_NOSPACE")
            b.put(k, "rlog", p)
            b.put(k, "rlog_cap", nc)
        return ln
    # -- many handles, the task's deadline, typed messages --------------------------------
    def _select_fns(self):
        """poke(k, t, s): member s of t's set is ready, so a task waiting in select on it
        takes it (Kernel.poke); ready(k, t, s): a recv (a wait, for BITS_SLOT) on member s
        would not wait (Kernel.member_ready). Built for a program that selects."""
        if "select" not in self.used:
            return
        fn, b = self._fn("poke", ir.VoidType(), [self.K, self.T, I64], "never")
        k, t, s = fn.args
        with b.when(b.cmp("<", s, BITS_SLOT)):
            b.put(t, "sel_hint", b.or_(b.get(t, "sel_hint"), b.shl(c64(1), s)))
        mine = b.select(b.cmp("==", s, BITS_SLOT), b.get(t, "sel_bits"),
                        b.and_(b.lshr(b.get(t, "sel_mask"), b.and_(s, c64(63))), c64(1)))
        with b.when(b.and_(b.cmp("==", b.get(t, "state"), L.ST_SELECT), b.cmp("!=", mine, 0))):
            b.put(t, "sel_next", b.urem(b.add(s, c64(1)), c64(BITS_SLOT + 1)))
            self.rec(b, k, "select", t, a=self.member(b, s))
            b.put(t, "regs", self.member(b, s), A0 + 1)
            b.call(self.f["wake"], [k, t, c64(0)])
        b.ret_void()

        fn, b = self._fn("ready", ir.IntType(1), [self.K, self.T, I64], "never")
        k, t, s = fn.args
        with b.when(b.cmp("==", s, BITS_SLOT)):
            b.ret(b.cmp("!=", b.get(t, "pending"), 0))
        slot = self.slot(b, t, s)
        kind, c = self.kind(b, slot), b.get(slot, "chan")
        with b.when(b.cmp("==", kind, L.K_SERVER)):
            b.ret(b.not_(b.isnull(b.get(c, "qhead"))))
        with b.when(b.cmp("!=", b.get(c, "dead"), 0)):
            b.ret(ir.Constant(ir.IntType(1), 1))
        with b.when(b.cmp("==", kind, L.K_ONE)):
            pt, ps = self.peer(b, c, self.end(b, slot))
            b.ret(self.waits(b, pt, (L.ST_SEND, L.ST_CALL_SEND), ps))
        b.ret(b.not_(b.isnull(b.get(self.conn(b, slot), "pusher"))))

    def _set_error(self):
        """set_error(t, ref, n) -> the error of a bad select set (Kernel.select_mask): its
        members one at a time, in array order, until the first bad one. Apart from the
        hot select, which only learns that the set is bad."""
        fn, b = self._fn("set_error", I64, [self.T, I64, I64], "never")
        t, ref, n = fn.args
        mask, bits = b.var(0), b.var(0)

        def member(i):
            h = self._mem_word(b, t, b.add(ref, i))
            with b.if_else(b.cmp("==", h, abi.BITS)) as (pend, handle):
                with pend:
                    with b.when(b.cmp("!=", b.load(bits), 0)):
                        b.ret(c64(E["E_INVAL"]))
                    b.store(c64(1), bits)
                with handle:
                    kind = b.call(self.f["hkind"], [t, h])
                    with b.when(b.cmp("==", kind, 0)):
                        b.ret(c64(E["E_BADHANDLE"]))
                    with b.when(b.cmp("==", kind, 4)):
                        b.ret(c64(E["E_INVAL"]))
                    bit = b.shl(c64(1), h)
                    with b.when(b.cmp("!=", b.and_(b.load(mask), bit), 0)):
                        b.ret(c64(E["E_INVAL"]))
                    b.store(b.or_(b.load(mask), bit), mask)
        b.loop_range(n, member)
        b.ret(c64(E["E_INVAL"]))            # not reached: the set had a bad member

    def member(self, b: B, s):
        """The set member of slot s: the chandle, or BITS for the pending word."""
        return b.select(b.cmp("==", s, BITS_SLOT), c64(abi.BITS), s)

    def poke(self, b: B, k, t, s):
        """Tell t that member s of its set may be ready (nothing without select)."""
        if "select" in self.used:
            b.call(self.f["poke"], [k, t, s if isinstance(s, ir.Value) else c64(s)])

    def _sys_select(self, b, k, t, a):
        ref, n = self._buf_whole(b, k, t, a[0])
        with b.when(b.or_(b.cmp("<", n, 1), b.cmp(">", n, abi.SELECT_MAX)), likely=False):
            self.err(b, t, "E_INVAL")
        m, bv = self._set_of(b, t, ref, n)
        if "timer" in self.used:
            with b.when(b.cmp("!=", bv, 0)):
                b.call(self.f["rearm"], [k, t])
        # the slots from the one after the member taken last: the chandles from there,
        # BITS, then the chandles before it; of the chandles only those that became ready
        # since select last found them not ready (sel_hint) are tested
        first = b.get(t, "sel_next")

        def found(s):
            b.put(t, "sel_next", b.urem(b.add(s, c64(1)), c64(BITS_SLOT + 1)))
            self.rec(b, k, "select", t, a=self.member(b, s))
            self.setres(b, self.member(b, s), 1)
            self.ret(b, ACT_DONE)
        cand = b.and_(m, b.get(t, "sel_hint"))
        before = b.select(b.cmp(">=", first, BITS_SLOT), c64(-1),
                          b.sub(b.shl(c64(1), b.and_(first, c64(63))), c64(1)))
        self._scan_slots(b, k, t, b.and_(cand, b.not_(before)), found)
        with b.when(b.and_(b.cmp("!=", bv, 0), b.cmp("!=", b.get(t, "pending"), 0))):
            found(c64(BITS_SLOT))
        self._scan_slots(b, k, t, b.and_(cand, before), found)
        b.put(t, "sel_mask", m)
        b.put(t, "sel_bits", bv)
        self.block_on(b, t, L.ST_SELECT, c64(0))

    def _set_of(self, b: B, t, ref, n):
        """(mask, bits) of the set of n words at ref, or the error. The set a select
        reads is most often the one it read last: when the words are those it kept and
        their slots are still in use, their meaning is the one it kept (one memcmp),
        else they are checked and kept."""
        mask, bits = b.var(0), b.var(0)
        copy = b.get(t, "sel_copy")
        words = b.bitcast(b.gep(b.get(t, "mem"), [ref]), I8P)
        same = b.var(0, ir.IntType(1))

        def kept(at, name):              # what the kept set meant, after its words
            return b.gep(at, [c64(abi.SELECT_MAX + SEL_KEPT.index(name))])
        with b.when(b.not_(b.isnull(copy))):
            with b.when(b.and_(b.cmp("==", b.load(kept(copy, "ref")), ref),
                               b.cmp("==", b.load(kept(copy, "n")), n))):
                cm = b.load(kept(copy, "mask"))
                with b.when(b.cmp("==", b.and_(cm, b.not_(b.get(t, "ch_used"))), 0)):
                    equal = b.call(self.memcmp, [b.bitcast(copy, I8P), words,
                                                 b.mul(n, c64(8))])
                    b.store(b.icmp_signed("==", equal, ir.Constant(I32, 0)), same)
        with b.if_else(b.load(same)) as (known, fresh):
            with known:
                b.store(b.load(kept(copy, "mask")), mask)
                b.store(b.load(kept(copy, "bits")), bits)
            with fresh:
                m, bv, good = self._set_mask(b, t, ref, n)
                with b.when(b.not_(good), likely=False):
                    self.setres(b, b.call(self.f["set_error"], [t, ref, n]), 0)
                    self.ret(b, ACT_ERR)
                b.store(m, mask)
                b.store(bv, bits)
                with b.when(b.isnull(copy)):
                    raw = b.call(self.calloc, [c64(abi.SELECT_MAX + len(SEL_KEPT)), c64(8)])
                    b.put(t, "sel_copy", b.bitcast(raw, I64P))
                kept_at = b.get(t, "sel_copy")
                with b.when(b.not_(b.isnull(kept_at))):     # memory refused: nothing kept
                    b.call(self.memcpy, [b.bitcast(kept_at, I8P), words, b.mul(n, c64(8))])
                    for name, v in zip(SEL_KEPT, (ref, n, m, bv)):
                        b.store(v, kept(kept_at, name))
        return b.load(mask), b.load(bits)

    def _set_mask(self, b: B, t, ref, n):
        """(mask of chandle slots, 1 if BITS is a member, whether the set is good) of the n
        words at ref: one pass without branches (vectorised), so a set of 64 costs little
        more than a set of 1. Good: every word is BITS or a chandle in use, and none comes
        twice (the slots counted equal the chandles seen)."""
        used = b.get(t, "ch_used")
        mask, nbits, bad = b.var(0), b.var(0), b.var(0)

        def word(i):
            h = self._mem_word(b, t, b.add(ref, i))
            isbits = b.cmp("==", h, abi.BITS)
            isch = b.cmp("<", h, abi.CH_SLOTS, signed=False)
            bit = b.shl(c64(1), b.and_(h, c64(63)))
            okch = b.and_(isch, b.cmp("!=", b.and_(used, bit), 0))
            b.store(b.or_(b.load(bad), b.zext(b.not_(b.or_(isbits, okch)), I64)), bad)
            b.store(b.or_(b.load(mask), b.select(isch, bit, c64(0))), mask)
            b.store(b.add(b.load(nbits), b.zext(isbits, I64)), nbits)
        b.loop_range(n, word)
        m, nb = b.load(mask), b.load(nbits)
        ctpop = self.m.globals.get("llvm.ctpop.i64") or ir.Function(
            self.m, ir.FunctionType(I64, [I64]), "llvm.ctpop.i64")
        distinct = b.cmp("==", b.add(b.call(ctpop, [m]), nb), n)
        good = b.and_(b.and_(b.cmp("==", b.load(bad), 0), distinct), b.cmp("<=", nb, 1))
        return m, b.select(b.cmp("!=", nb, 0), c64(1), c64(0)), good

    def _scan_slots(self, b: B, k, t, slots, found):
        """found(s) for the lowest slot s of the mask `slots` that is ready; a slot found
        not ready leaves sel_hint (a later poke puts it back)."""
        ctz = self._cttz()
        left = b.var(slots)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        lv = b.load(left)
        b.cbranch(b.cmp("==", lv, 0), done, body)
        b.position_at_end(body)
        s = b.call(ctz, [lv, ir.Constant(ir.IntType(1), 1)])
        b.store(b.and_(lv, b.sub(lv, c64(1))), left)
        with b.when(b.call(self.f["ready"], [k, t, s])):
            found(s)
        b.put(t, "sel_hint", b.and_(b.get(t, "sel_hint"), b.not_(b.shl(c64(1), s))))
        b.branch(head)
        b.position_at_end(done)

    def _sys_deadline(self, b, k, t, a):
        d = a[0]
        with b.when(b.and_(b.cmp("<", d, 0), b.cmp("!=", d, abi.NEVER)), likely=False):
            self.err(b, t, "E_INVAL")
        self.setres(b, b.select(b.cmp("!=", b.get(t, "dl_set"), 0), b.get(t, "dl"),
                                c64(abi.NEVER)), 1)
        b.put(t, "dl_set", b.zext(b.cmp("!=", d, abi.NEVER), I64))
        b.put(t, "dl", d)
        self.ret(b, ACT_DONE)

    def type_matches(self, b: B, want, mtype):
        """recv_type's rule (Kernel.type_matches)."""
        neg = b.and_(b.cmp("<", want, 0),
                     b.and_(b.cmp(">=", mtype, 1), b.cmp("<=", mtype, b.sub(c64(0), want))))
        return b.or_(b.or_(b.cmp("==", want, 0), b.cmp("==", mtype, want)), neg)

    def typed_match(self, b: B, srv, ss, mtype):
        """srv waits in recv_type on ss for a message of type mtype (Kernel.typed_match)."""
        here = b.and_(b.cmp("==", b.get(srv, "state"), L.ST_RECVT),
                      b.cmp("==", b.get(srv, "wait_handle"), ss))
        return b.and_(here, self.type_matches(b, b.get(srv, "rtype"), mtype))

    def _sys_recv_type(self, b, k, t, a):
        h, want = a
        slot, kind = self.chandle(b, t, h)
        with b.when(b.cmp("!=", kind, L.K_SERVER), likely=False):
            self.err(b, t, "E_INVAL")
        with b.when(b.cmp("==", b.get(t, "mh_used"), MH_FULL), likely=False):
            self.err(b, t, "E_NOSPACE")
        c = b.get(slot, "chan")
        # the queued sender to take (Kernel.first_of_type): the first that matches, or
        # for a negative type the first of the lowest type that does
        best = b.var(b.null(self.T), self.T)
        cur = b.var(b.get(c, "qhead"), self.T)
        head, body, done = b.block(), b.block(), b.block()
        b.branch(head)
        b.position_at_end(head)
        q = b.load(cur)
        b.cbranch(b.isnull(q), done, body)
        b.position_at_end(body)
        b.store(b.get(q, "qnext"), cur)
        mtype = b.get(q, "regs", A0 + 1 + abi.TYPE_WORD)
        with b.when(self.type_matches(b, want, mtype)):
            bv = b.load(best)
            known = b.select(b.isnull(bv), q, bv)      # no load through a null pointer
            lower = b.or_(b.isnull(bv),
                          b.cmp("<", mtype, b.get(known, "regs", A0 + 1 + abi.TYPE_WORD)))
            with b.when(lower):
                b.store(q, best)
            with b.when(b.cmp(">=", want, 0)):
                b.branch(done)
        b.branch(head)
        b.position_at_end(done)
        q = b.load(best)
        with b.when(b.isnull(q)):
            b.put(t, "rtype", want)
            self.block_on(b, t, L.ST_RECVT, h)
        # it goes to the head of the queue, where recv takes it
        self._unlink(b, c, "q", q)
        b.put(q, "qnext", b.get(c, "qhead"))
        b.put(c, "qhead", q)
        with b.when(b.isnull(b.get(c, "qtail"))):
            b.put(c, "qtail", q)
        b.ret(b.call(self.f["sys_recv"], [k, t, self.out, h]))

    # -- shared segments (docs/kernel.md "Shared segments"; segir.py: their ald/ast/alen) --
    # A segment is one calloc: its Seg record, then its words at SEG_HEADER bytes. A task's
    # slot holds the reference naming it (key), the words' address, length and rights, so
    # an access reads one slot of the running task; no syscall is on an access's path.
    def _segments(self):
        if not self.segs:
            return
        self._seg_free_slot()
        fn, b = self._fn("seg_unmap", ir.VoidType(), [self.K, self.T, I64], "never")
        k, t, i = fn.args
        slot = b.gep(b.get(t, "segs"), [i])
        seg = b.get(slot, "seg")
        b.put(slot, "key", 0)
        b.put(slot, "seg", b.null(self.lay.ptr("Seg")))
        b.put(slot, "gen", b.and_(b.add(b.get(slot, "gen"), c64(1)), c64(abi.GEN_MASK)))
        owner = b.cmp("==", b.ptrtoint(b.get(seg, "owner"), I64), b.ptrtoint(t, I64))
        with b.if_else(owner) as (was_owner, was_user):
            with was_owner:
                b.put(seg, "owner", b.null(self.T))
            with was_user:
                b.put(seg, "user", b.null(self.T))
        with b.when(b.and_(b.isnull(b.get(seg, "owner")), b.isnull(b.get(seg, "user")))):
            b.put(k, "seg_words", b.sub(b.get(k, "seg_words"), b.get(seg, "len")))
            b.call(self.free, [b.bitcast(seg, I8P)])
        b.ret_void()
        self._seg_unmap_all()

    def _seg_free_slot(self):
        """seg_free_slot(t): t's lowest free segment slot, its table made at first;
        SEG_SLOTS when none is free (or the system refused the table)."""
        fn, b = self._fn("seg_free_slot", I64, [self.T], "never")
        (t,) = fn.args
        with b.when(b.isnull(b.get(t, "segs"))):
            table = b.call(self.calloc, [c64(1), c64(L.SEG_TABLE_BYTES)])
            with b.when(b.isnull(table), likely=False):
                b.ret(c64(abi.SEG_SLOTS))
            b.put(t, "segs", b.bitcast(table, self.lay.ptr("SegSlot")))

        def each(i):
            with b.when(b.cmp("==", b.get(b.gep(b.get(t, "segs"), [i]), "key"), 0)):
                b.ret(i)
        b.loop_range(c64(abi.SEG_SLOTS), each)
        b.ret(c64(abi.SEG_SLOTS))

    def _seg_unmap_all(self):
        """seg_unmap_all(k, t): an ending task lets go of every segment, and of its table."""
        fn, b = self._fn("seg_unmap_all", ir.VoidType(), [self.K, self.T], "unoptimised")
        k, t = fn.args
        with b.when(b.isnull(b.get(t, "segs"))):
            b.ret_void()

        def unmap(i):
            with b.when(b.cmp("!=", b.get(b.gep(b.get(t, "segs"), [i]), "key"), 0)):
                b.call(self.f["seg_unmap"], [k, t, i])
        b.loop_range(c64(abi.SEG_SLOTS), unmap)
        b.call(self.free, [b.bitcast(b.get(t, "segs"), I8P)])
        b.put(t, "segs", b.null(self.lay.ptr("SegSlot")))
        b.ret_void()

    def seg_map(self, b: B, t, i, seg, rw):
        """Slot i of t names seg from now on; its reference."""
        slot = b.gep(b.get(t, "segs"), [i])
        ref = b.or_(b.or_(c64(abi.SEG_TAG), b.shl(b.get(slot, "gen"), c64(abi.SEG_GEN_SHIFT))), i)
        b.put(slot, "key", ref)
        b.put(slot, "base", b.get(seg, "data"))
        b.put(slot, "len", b.get(seg, "len"))
        b.put(slot, "rw", rw)
        b.put(slot, "seg", seg)
        return ref

    def seg_live(self, b: B, t, ref):
        """The slot of t that ref names (E_INVAL when it names none)."""
        bad = b.or_(b.cmp("!=", b.lshr(ref, c64(62)), c64(1)), b.isnull(b.get(t, "segs")))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        slot = b.gep(b.get(t, "segs"), [b.and_(ref, c64(abi.SEG_SLOTS - 1))])
        with b.when(b.cmp("!=", b.get(slot, "key"), ref), likely=False):
            self.err(b, t, "E_INVAL")
        return slot

    def _sys_segment(self, b, k, t, a):
        n = a[0]
        with b.when(b.cmp(">", n, abi.SEG_MAX_WORDS, signed=False), likely=False):
            self.err(b, t, "E_INVAL")
        i = b.call(self.f["seg_free_slot"], [t])
        total = b.add(b.get(k, "seg_words"), n)
        full = b.or_(b.cmp("==", i, abi.SEG_SLOTS), b.cmp(">", total, abi.SEG_TOTAL_WORDS))
        with b.when(full, likely=False):
            self.err(b, t, "E_NOSPACE")
        p = b.call(self.calloc, [c64(1), b.add(c64(SEG_HEADER), b.mul(n, c64(8)))])
        with b.when(b.isnull(p), likely=False):
            self.err(b, t, "E_NOSPACE")
        seg = b.bitcast(p, self.lay.ptr("Seg"))
        b.put(seg, "data", b.bitcast(b.gep(p, [c64(SEG_HEADER)]), I64P))
        b.put(seg, "len", n)
        b.put(seg, "owner", t)
        b.put(k, "seg_words", total)
        self.setres(b, self.seg_map(b, t, i, seg, c64(1)), 1)
        self.ret(b, ACT_DONE)

    def _sys_grant(self, b, k, t, a):
        h, ref, rights = a
        peer = self.handle_peer(b, t, h)
        seg = b.get(self.seg_live(b, t, ref), "seg")
        bad = b.or_(b.cmp("!=", b.ptrtoint(b.get(seg, "owner"), I64), b.ptrtoint(t, I64)),
                    b.and_(b.cmp("!=", rights, abi.RO), b.cmp("!=", rights, abi.RW)))
        bad = b.or_(bad, b.cmp("==", b.ptrtoint(peer, I64), b.ptrtoint(t, I64)))
        with b.when(bad, likely=False):
            self.err(b, t, "E_INVAL")
        with b.when(b.not_(b.isnull(b.get(seg, "user"))), likely=False):
            self.err(b, t, "E_BUSY")
        i = b.call(self.f["seg_free_slot"], [peer])
        with b.when(b.cmp("==", i, abi.SEG_SLOTS), likely=False):
            self.err(b, t, "E_NOSPACE")
        b.put(seg, "user", peer)
        b.put(seg, "uslot", i)
        theirs = self.seg_map(b, peer, i, seg, b.zext(b.cmp("==", rights, abi.RW), I64))
        self.rec(b, k, "grant", t, h, peer, a=rights, bb=b.get(seg, "len"), words=(theirs,))
        self.setres(b, theirs, 1)
        self.ret(b, ACT_DONE)

    def _sys_revoke(self, b, k, t, a):
        ref = a[0]
        seg = b.get(self.seg_live(b, t, ref), "seg")
        owner = b.get(seg, "owner")
        with b.if_else(b.cmp("==", b.ptrtoint(owner, I64), b.ptrtoint(t, I64))) as (lender, borrower):
            with lender:
                user = b.get(seg, "user")
                with b.when(b.not_(b.isnull(user))):
                    self.rec(b, k, "revoke", t, ref, user, a=0)
                    b.call(self.f["seg_unmap"], [k, user, b.get(seg, "uslot")])
            with borrower:
                self.rec(b, k, "revoke", t, ref, owner, a=1)
                b.call(self.f["seg_unmap"], [k, t, b.and_(ref, c64(abi.SEG_SLOTS - 1))])
        self.ret(b, ACT_DONE)

    # -- pushbuf: a long message from a server to one of its connections (Conn.bpusher) ------
    def _sys_pushbuf(self, b, k, t, a):
        h, cid, buf, off, n = a[:5]
        words = a[5:8]
        c = self.server_chan(b, t, h)
        src = self._buf_range(b, k, t, buf, off, n)
        cn = self.push_conn(b, t, c, cid)
        b.put(t, "bsrc", src)
        b.put(t, "blen", n)
        cl, cs = b.get(cn, "client"), b.get(cn, "slot")
        self.rec(b, k, "push", t, h, cl, a=cid, words=words, n=n)
        with b.when(self.waits(b, cl, (L.ST_RECVB,), cs)):
            self._meet(b, k, t, cl, cs, 0, 0, words)
            for i, v in enumerate([cs] + list(words) + [n]):
                b.put(cl, "regs", v, A0 + 1 + i)
            b.call(self.f["wake"], [k, cl, c64(0)])
            self.ret(b, ACT_DONE)
        b.put(cn, "bpusher", t)
        b.put(t, "wait_conn", cn)
        self._keep_words(b, t, words, self._buf_first(False, "pushbuf"))
        self.block_on(b, t, L.ST_PUSHB, h)

    def _recv_pushbuf(self, b, k, t, h, cn, dst, cap):
        """recvbuf on a client connection: take its pending pushbuf, or wait for one."""
        with b.when(b.cmp("!=", b.get(b.get(cn, "chan"), "dead"), 0), likely=False):
            self.err(b, t, "E_CLOSED")
        b.put(t, "bdst", dst)
        b.put(t, "bcap", cap)
        pu = b.get(cn, "bpusher")
        with b.when(b.not_(b.isnull(pu))):
            first = self._buf_first(False, "pushbuf")
            words = [b.get(pu, "regs", first + i) for i in range(abi.BUF_WORDS)]
            n = self._meet(b, k, pu, t, h, 0, 0, words)
            for i, v in enumerate([h] + words + [n]):
                self.setres(b, v, 1 + i)
            b.put(cn, "bpusher", b.null(self.T))
            b.call(self.f["wake"], [k, pu, c64(0)])
            self.ret(b, ACT_DONE)
        self.block_on(b, t, L.ST_RECVB, h)

    # -- copy: words between arrays and segments of one task ---------------------------------
    def _span(self, b: B, k, t, ref, off, n, store: bool):
        """A pointer to ref[off .. off+n), n > 0: an array of t's memory (checked as a send
        buffer is) or a segment t holds (writable when store); E_INVAL if neither."""
        at = b.var(None, I64P)
        with b.if_else(b.cmp("==", b.lshr(ref, c64(62)), c64(1))) as (seg, arr):
            with seg:
                slot = self.seg_live(b, t, ref)
                ln = b.get(slot, "len")
                bad = b.or_(b.or_(b.cmp("<", off, 0), b.cmp(">", off, ln)), b.cmp(">", n, b.sub(ln, off)))
                if store:
                    bad = b.or_(bad, b.cmp("==", b.get(slot, "rw"), 0))
                with b.when(bad, likely=False):
                    self.err(b, t, "E_INVAL")
                b.store(b.gep(b.get(slot, "base"), [off]), at)
            with arr:
                b.store(b.gep(b.get(t, "mem"), [self._buf_range(b, k, t, ref, off, n)]), at)
        return b.load(at)

    def _sys_copy(self, b, k, t, a):
        dst, doff, src, soff, n = a
        with b.when(b.cmp("==", n, 0)):
            self.ret(b, ACT_DONE)
        with b.when(b.cmp("<", n, 0), likely=False):
            self.err(b, t, "E_INVAL")
        to = self._span(b, k, t, dst, doff, n, True)
        fro = self._span(b, k, t, src, soff, n, False)
        # the two ranges overlap only within one array or segment: memmove's rule there,
        # the long messages' copy elsewhere
        d, sv, size = b.ptrtoint(to, I64), b.ptrtoint(fro, I64), b.mul(n, c64(8))
        overlap = b.and_(b.cmp("<", d, b.add(sv, size), signed=False),
                         b.cmp("<", sv, b.add(d, size), signed=False))
        with b.if_else(overlap) as (same, apart):
            with same:
                b.call(self.memmove, [b.bitcast(to, I8P), b.bitcast(fro, I8P), size])
            with apart:
                b.call(self.f["buf_copy"], [to, fro, n])
        self.ret(b, ACT_DONE)
