"""The Python side of a native run: allocate the kernel, boot, call native code per slice,
drain output and trace events, answer host tasks' messages, and read the tables back into a
RunResult."""
from __future__ import annotations

import array
import ctypes
import struct
import time

from ...vm import abi, faults, isa
from ...vm.faults import syscall_failure
from ...vm.kernel import HostMessage, KernelClosed, host_reply
from ...vm.options import RunOptions
from ...vm.result import Fault, Output, Restart, RunResult, Waiter, Where, idle
from ...vm.trace import FIELDS as TRACE_FIELDS
from ...vm.trace import KIND, Event
from . import layout as L
from . import arena
from .engine import Engine, name_ids, object_code
from .kernel_ir import ACT_BLOCK, KernelIR, return_site_flags, string_table
from .lower import RUN_BUDGET, RUN_HOST, RUN_IDLE, RUN_PAUSE, resume_keys

BUDGET = 1 << 16             # task switches per native call
ADDRESS_SPACE = 1 << 45      # bytes of task memory reserved at most (virtual, lazily mapped)
CHUNK = 1 << 22              # fuel units per native call when nothing else bounds it
CHUNK_TIMED = 1 << 18        # ... when a wall-clock limit is set
# Native code keeps a call's output in a buffer that only grows (kernel_ir out_append), and
# Python takes it when the call returns: the chunk of fuel starts small and adapts, so
# that a call prints about OUTPUT_PER_CALL bytes at most (a program printing at full speed
# held 206 MiB there with 4M-unit chunks).
CHUNK_START = 1 << 16
CHUNK_MIN = 1 << 8
OUTPUT_PER_CALL = 1 << 20
RING_START = 64              # entries of the ready queue's ring at first (kernel_ir._rq)
WAIT_STATE = {L.ST_RECV: "recv", L.ST_SEND: "send", L.ST_CALL_SEND: "call",
              L.ST_CALL_REPLY: "call", L.ST_OPEN: "open", L.ST_PUSH: "push",
              L.ST_RECVB: "recvbuf", L.ST_SENDB: "sendbuf", L.ST_CALLB_SEND: "callbuf",
              L.ST_CALLB_REPLY: "callbuf", L.ST_WAIT: "wait", L.ST_SLEEP: "sleep",
              L.READY: "ready", L.RUNNING: "ready"}


# Each Machine not closed yet -> the engine holding its native code. A Machine dropped in a
# reference cycle (a host handler that refers to its Kernel) is finalized together with
# its CompiledProgram, in no set order: llvmlite's finalizer could free the code before the
# Machine's calls mk_free in it (a segfault). Held here, the engine is not garbage until the
# Machine has been closed.
_OPEN: dict[int, Engine] = {}


def fault_reason(program, e: dict) -> str:
    code, a, b, c = e["fault_code"], e["fault_a"], e["fault_b"], e["fault_c"]
    if code == L.F_MEM:
        a += b          # the address R[b] + imm, as an exact integer
    return faults.reason(code, a, b, c, program.strings)


_V, _I = ctypes.c_void_p, ctypes.c_int64
# the functions Python calls: (name, result, arguments)
_ENTRY_POINTS = (("mk_run", _I, (_V,)), ("mk_walk", _I, (_V, _V, _I, _V)),
                 ("mk_free", None, (_V,)), ("mk_ready", None, (_V, _V)),
                 ("mk_grow", None, (_V,)), ("mk_sys", _I, (_V, _V, _I, _V, _V)),
                 ("mk_fault", None, (_V, _V, _I, _I)))


def _entry_points(engine: Engine) -> tuple:
    """The engine's entry points as ctypes functions, made once per engine."""
    fns = engine.entry_points
    if fns is None:
        fns = engine.entry_points = tuple(
            ctypes.CFUNCTYPE(res, *args)(engine.address(name))
            for name, res, args in _ENTRY_POINTS)
    return fns


_engines: dict[bytes, Engine] = {}


def _engine(obj: bytes) -> Engine:
    """The native interpreter's engine: one per build in the process, for every program."""
    if obj not in _engines:
        _engines[obj] = Engine(obj)
    return _engines[obj]


def _array(typecode: str, values) -> array.array:
    """Values in native memory (array.array, which costs no new ctypes type per table)."""
    out = array.array(typecode, values)
    return out if len(out) else array.array(typecode, [0])


class ProgTables:
    """The program's tables in native memory, as Kernel.prog (layout "Prog") points to
    them: what the native interpreter reads at run time."""

    def __init__(self, program, keys: list[int], entries: list[int], names: list[int]):
        n = len(program.code)
        blob, offs, lens = string_table(program.strings)
        where = {k: i for i, k in enumerate(keys)}
        word = (lambda v: (v & (2**64 - 1)) - (2**64 if v & (1 << 63) else 0))
        self.keep = [
            _array("Q", (isa.encode(i) for i in program.code)),
            _array("q", (word(c) for c in program.consts)),
            _array("B", blob), _array("q", offs), _array("q", lens), _array("q", names),
            _array("B", return_site_flags(program)), _array("q", entries), _array("q", keys),
            _array("q", (where.get(k, -1) for k in range(2 * n))),
        ]
        code, consts, strs, soff, slen, nm, retsite, ent, ks, key_of = \
            (a.buffer_info()[0] for a in self.keep)
        self.struct = L.C["Prog"](code=code, ncode=n, consts=consts, strs=strs, soff=soff,
                                  slen=slen, nstrings=len(program.strings), names=nm,
                                  retsite=retsite, entries=ent, ntypes=len(program.tasks),
                                  keys=ks, nkeys=len(keys), key_of=key_of)

    @property
    def address(self) -> int:
        return ctypes.addressof(self.struct)


# a program larger than this stays on the tier it started on: O2 on one function of that
# size takes minutes and GBs (5,927 VM instructions: 58 s, 440 MB)
TIER_UP_MAX_CODE = 20_000


def tier_up_after(program) -> float:
    """Seconds of native time a run spends before it compiles the optimised tier and goes
    on with it: about what that compile costs (measured on this machine kind: 1.3 s for
    622 VM instructions, 58 s for 5,927; superlinear, as O2 is on one large function), so
    that a run never pays more than about twice what the better choice in hindsight would
    have cost (the ski-rental rule), and a short run, most tests among them, never pays for
    it at all. Never, past TIER_UP_MAX_CODE."""
    n = len(program.code)
    if n > TIER_UP_MAX_CODE:
        return float("inf")
    return 0.05 + 1e-3 * n + 1.5e-6 * n * n


class CompiledProgram:
    """A program ready to run on one tier (engine.TIERS); `run` may be called any number of
    times. A run on the interpreter or baseline code that lasts moves on to optimised code
    (tier_up_after), and later runs start there."""

    def __init__(self, program, obj: bytes, traced: bool = False, tier: str = "optimised",
                 cache: bool = True):
        self.program = program
        self.traced = traced
        self.tier = tier
        self._cache = cache
        self._optimised = self if tier == "optimised" else None
        self.engine = _engine(obj) if tier == "interpreter" else Engine(obj)
        (self._run, self._walk, self._free, self._ready, self._grow, self._sys,
         self._fault) = _entry_points(self.engine)
        ids = name_ids(program)
        self.nnames = max(ids, default=-1) + 1
        # a name's registry index -> the first string of that text (the trace's name field)
        self.first_string: dict[int, int] = {}
        for i, nid in enumerate(ids):
            self.first_string.setdefault(nid, i)
        # Task.resume is an index into the program's resume keys (lower.resume_keys), which
        # compiled code holds as mk_keys = [count, keys...]; a task type's entry index
        # is mk_entry_resume[type]; a host task's is one past the keys. The interpreter
        # gets them, with the rest of the program, in Kernel.prog (ProgTables)
        if tier == "interpreter":
            self.keys = resume_keys(program)
            where = {k: i for i, k in enumerate(self.keys)}
            self.entry_resume = [where[t.entry] for t in program.tasks] or [0]
        else:
            at = self.engine.global_address("mk_keys")
            count = ctypes.c_int64.from_address(at).value
            self.keys = list((ctypes.c_int64 * count).from_address(at + 8))
            self.entry_resume = list((ctypes.c_int64 * max(len(program.tasks), 1)).from_address(
                self.engine.global_address("mk_entry_resume")))
        self.host_resume = len(self.keys)
        self.tables = ProgTables(program, self.keys, self.entry_resume, ids)
        self.native_seconds = 0.0

    def optimised(self) -> CompiledProgram:
        """The same program, optimised (compiled on first need; self if it is)."""
        if self._optimised is None:
            obj = object_code(self.program, cache=self._cache, traced=self.traced,
                              tier="optimised")
            self._optimised = CompiledProgram(self.program, obj, self.traced, "optimised",
                                              self._cache)
            assert (self._optimised.keys, self._optimised.entry_resume) == \
                (self.keys, self.entry_resume), "the tiers disagree on resume keys"
        return self._optimised

    def run(self, options: RunOptions | None = None) -> RunResult:
        self.native_seconds = 0.0      # time spent in native code by the last run
        options = options or RunOptions()
        if options.trace and not self.traced:
            raise ValueError("a traced run needs the traced build (x86.compile(traced=True))")
        m = Machine(self._optimised or self, options)
        try:
            m.advance()
            return m.result()
        finally:
            m.close()


class Machine:
    """One run in native memory, driven from Python: `spawn` and `host` add tasks, `advance`
    runs until the end or until a slice of fuel is used, `result` reads the tables back,
    `close` frees the native memory (also when the Machine is dropped). The same shape as
    the interpreter's Machine (mikro.vm.interp)."""

    def __init__(self, cp: CompiledProgram, opts: RunOptions, boot: bool = True):
        self.cp, self.p, self.opts = cp, cp.program, opts
        self.native_seconds = 0.0
        self.tier_up_at = tier_up_after(self.p)
        mw = max(int(opts.mem_words), 0)
        self.mem_bytes = max(mw * 8, 8)
        # one slot (task structure and memory) per task alive at once
        alive = max(0, min(int(opts.max_tasks), ADDRESS_SPACE // self.mem_bytes))
        self.tsize = ctypes.sizeof(L.CTask)
        a = self.arena = arena.take(self.tsize, self.mem_bytes, alive)
        self.cap = a.cap
        k = self.k = L.CKernel()
        k.tasks, k.mem_base, k.free, k.ready = a.tasks, a.mem, a.free, a.ready
        k.idmap, k.idmap_cap = a.idmap, a.idmap_cap
        k.task_cap = a.cap
        k.max_alive = a.alive
        k.mem_words = mw
        k.rq_mask = min(a.ring, RING_START) - 1
        seed = opts.seed & (2**64 - 1)
        k.seed = k.rng = seed - 2**64 if seed >= 2**63 else seed
        self.reg = (L.C["Reg"] * max(self.cp.nnames, 1))()
        k.reg = ctypes.addressof(self.reg)
        k.prog = cp.tables.address
        self.output = Output(opts.on_output, opts.output_limit)
        self.pending = ""
        self.chunk = CHUNK_START                 # fuel per native call (_adapt)
        self.left = None if opts.fuel is None else max(int(opts.fuel), 0)
        self.used = 0
        self.elapsed = 0.0
        self.status: str | None = None         # None while the run can go on
        self.limit = ""
        self.first = opts.time_limit is not None
        self.trace: list[Event] | None = [] if opts.trace else None
        self.hosts: dict[int, tuple] = {}        # task slot -> (handler, server chandle)
        self.host_names: dict[int, str] = {}     # task id -> name
        self.host_reasons: list[str] = []        # host fault reasons, by fault_a
        self.sysargs = (ctypes.c_int64 * 8)()
        self.sysout = (ctypes.c_int64 * KernelIR.NOUT)()
        self.closed = False
        _OPEN[id(self)] = cp.engine
        if boot:
            for b in self.p.boot:
                if self.k.alive + self.k.held >= self.k.max_alive:
                    break
                self._new_task(b.task, b.args)

    def task(self, i: int):
        return L.CTask.from_address(self.k.tasks + i * self.tsize)

    def _new_task(self, ttype: int, args, ready: bool = True):
        """A task slot set up as spawn does (a dead task's slot reused, zeroed), at the tail
        of the ready queue unless not `ready`; its task structure."""
        k = self.k
        if k.nfree:
            k.nfree -= 1
            n = ctypes.c_int64.from_address(k.free + 8 * k.nfree).value
            ctypes.memset(k.tasks + n * self.tsize, 0, self.tsize)
        else:
            n = k.nslots
            k.nslots += 1
        t = self.task(n)
        t.id, t.type, t.slot = k.ntasks + 1, ttype, n
        t.mem = k.mem_base + n * self.mem_bytes
        args = list(args)[:abi.MAX_TASK_PARAMS]
        for j, v in enumerate(args):
            t.regs[isa.A0 + j] = v
            t.args[j] = v
        ctypes.c_int64.from_address(k.idmap + 8 * t.id).value = n
        t.regs[isa.SP] = t.regs[isa.FP] = k.mem_words
        t.slice = abi.QUANTUM
        k.ntasks += 1
        k.alive += 1
        if k.alive > k.rq_mask + 1:
            self.cp._grow(ctypes.addressof(k))
        self._event("spawn", 0, peer=t.id, a=ttype, words=tuple(args[:abi.MSG_WORDS]))
        if ready:
            t.resume = self.cp.entry_resume[ttype]
            self.cp._ready(ctypes.addressof(k), ctypes.addressof(t))
        return t

    def _open(self) -> None:
        """Native memory is touched only while it is there: after close, a Python error."""
        if self.closed:
            raise KernelClosed("the run is closed: its native memory has been freed")

    def spawn(self, ttype: int, args=()) -> int:
        """Start a task of type ttype (at the tail of the ready queue); its id."""
        self._open()
        if self.k.alive + self.k.held >= self.k.max_alive:
            raise ValueError("the task table is full")
        return self._new_task(ttype, args).id

    # -- host tasks: Python acts for them through mk_sys ----------------------------------
    def host(self, name: str, handler) -> int:
        """A host task serving channel `name` with handler (docs/kernel.md); its id."""
        self._open()
        if name not in self.p.strings:
            raise ValueError(f"no task of the program names the channel {name!r}")
        string = self.p.strings.index(name)
        nid = name_ids(self.p)[string]
        if self.reg[nid].chan:
            raise ValueError(f"cannot serve {name!r}: the channel exists already")
        if self.k.alive + self.k.held >= self.k.max_alive:
            raise ValueError("the task table is full")
        t = self._new_task(L.HOST_TYPE, (), ready=False)
        self.host_names[t.id] = "host:" + name
        status, ch = self._syscall(t, "channel", string, abi.MANY)[:2]
        if status != abi.OK:
            raise RuntimeError(f"cannot serve {name!r}: {abi.ERROR_NAME[status]}")
        self.hosts[t.slot] = (handler, ch)
        self._serve(t, self._syscall(t, "recv", ch))
        return t.id

    def _syscall(self, t, name: str, *args: int):
        """Syscall `name` (one of kernel_ir.HOST_SYSCALLS) made by task t (a host task);
        (status, results...) or ACT_BLOCK."""
        for i, v in enumerate(args):
            self.sysargs[i] = v
        act = self.cp._sys(ctypes.addressof(self.k), ctypes.addressof(t), abi.SYS[name].num,
                           ctypes.addressof(self.sysargs), ctypes.addressof(self.sysout))
        self._drain_trace()
        return ACT_BLOCK if act == ACT_BLOCK else tuple(self.sysout)

    def _serve(self, t, got) -> None:
        """Host task t answers the message `got` (status, mhandle, words) and each one queued
        after it, then waits in recv (the reference kernel's serve_host)."""
        handler, ch = self.hosts[t.slot]
        while got != ACT_BLOCK:
            if got[0] != abi.OK:
                self._host_fault(t, syscall_failure("recv", ch, got[0]))
                return
            m, words = got[1], got[2:2 + abi.MSG_WORDS]
            ms = L.C["MhSlot"].from_address(t.mh + (m & (abi.MH_SLOTS - 1)) * ctypes.sizeof(L.C["MhSlot"]))
            conn = L.CConn.from_address(ms.conn)

            def set_data(v, conn=conn):
                conn.word = int(v)
            msg = HostMessage(words, L.CTask.from_address(conn.client).id, conn.id, conn.word,
                              set_data)
            try:
                reply = host_reply(handler(msg))
            except Exception as e:               # the handler's bug ends its task only
                self._host_fault(t, f"host handler raised {type(e).__name__}: {e}")
                return
            self._syscall(t, "reply", m, *reply, *(0,) * (abi.MSG_WORDS - len(reply)))
            got = self._syscall(t, "recv", ch)
        t.resume = self.cp.host_resume

    def _host_fault(self, t, reason: str) -> None:
        self.host_reasons.append(reason)
        self.cp._fault(ctypes.addressof(self.k), ctypes.addressof(t), L.F_HOST,
                       len(self.host_reasons) - 1)
        self._drain_trace()

    # -- the trace ----------------------------------------------------------------------
    def _event(self, kind: str, task: int, handle=0, peer=0, a=0, b=0, words=()) -> None:
        """An event Python makes (a spawn from Python), after those native code recorded."""
        if self.trace is not None:
            self._drain_trace()
            words = tuple(words) + (0,) * (abi.MSG_WORDS - len(words))
            self.trace.append(Event(self.used, kind, task, handle, peer, a, b, words))

    def _drain_trace(self) -> None:
        k = self.k
        if self.trace is None or not k.trace_len:
            return
        if k.trace_lost:
            raise MemoryError(f"the system refused memory for {k.trace_lost} trace events")
        first, names = self.cp.first_string, (KIND["channel"], KIND["open"])
        raw = ctypes.string_at(k.trace, k.trace_len)
        k.trace_len = 0
        for rec in struct.iter_unpack(f"<{len(TRACE_FIELDS)}q", raw):
            if rec[1] in names:
                rec = rec[:5] + (first[rec[5]],) + rec[6:]
            self.trace.append(Event.from_record(rec))

    def _drain(self):
        k = self.k
        if k.out_len:
            text = self.pending + ctypes.string_at(k.out, k.out_len).decode("utf-8", "replace")
            k.out_len = 0
            *lines, self.pending = text.split("\n")
            self.output.extend(lines)

    def close(self) -> None:
        """Free the run's native memory; the Machine can no longer run or report."""
        if not self.closed:
            self.closed = True
            self.cp._free(ctypes.addressof(self.k))
            arena.give_back(self.arena, self.k.nslots, self.k.ntasks)
            _OPEN.pop(id(self), None)

    def __del__(self):
        if getattr(self, "closed", True) is False:
            self.close()

    def advance(self, fuel: int | None = None) -> str | None:
        """Run until the run ends (its status) or `fuel` more units are used (None)."""
        self._open()
        if self.status is not None:
            return self.status
        opts, k = self.opts, self.k
        stint = None if fuel is None else max(int(fuel), 0)
        start = time.monotonic()
        chunk_max = CHUNK_TIMED if opts.time_limit is not None else CHUNK
        self.chunk = min(self.chunk, chunk_max)
        try:
            while True:
                chunk = self.chunk
                for bound in (self.left, stint):
                    if bound is not None:
                        chunk = min(chunk, bound)
                if self.first:
                    # the clock is read at the first fuel point too: the first call stops there
                    chunk, self.first = 0, False
                k.fuel = chunk
                k.budget = BUDGET
                k.trace_base = self.used + chunk
                t0 = time.perf_counter()
                rc = self.cp._run(ctypes.addressof(k))
                dt = time.perf_counter() - t0
                self.cp.native_seconds += dt
                self.native_seconds += dt
                spent = chunk - k.fuel
                self._adapt(spent, k.out_len, chunk_max)
                self.used += spent
                if self.left is not None:
                    self.left -= spent
                if stint is not None:
                    stint -= spent
                self._drain()
                self._drain_trace()
                if rc == RUN_HOST:
                    t = L.CTask.from_address(k.cur)
                    k.cur = None
                    self._serve(t, (t.regs[isa.A0],) + tuple(t.regs[isa.A0 + 1:isa.A0 + 6]))
                    self._drain()
                elif rc == RUN_IDLE:
                    self.status = "ended"
                    break
                elif rc not in (RUN_PAUSE, RUN_BUDGET):
                    raise RuntimeError(f"native kernel stopped with code {rc}")
                if rc == RUN_PAUSE and self.left == 0:
                    self.status, self.limit = "limit", f"fuel exhausted ({opts.fuel} units)"
                    break
                if (opts.time_limit is not None
                        and self.elapsed + time.monotonic() - start >= opts.time_limit):
                    self.status = "limit"
                    self.limit = f"time limit of {opts.time_limit:g} s reached"
                    break
                if rc == RUN_PAUSE and stint == 0:
                    break
                if self.cp.tier != "optimised" and self.native_seconds >= self.tier_up_at:
                    self.tier_up()
        except KeyboardInterrupt:
            self.status, self.limit = "interrupted", "keyboard interrupt"
        finally:
            self.elapsed += time.monotonic() - start
        return self.status

    def tier_up(self) -> None:
        """Go on with the optimised tier: the kernel and its tables live in native memory
        that both tiers read alike, and a task's resume index means the same point in both,
        so the run continues where it stands (between two calls into native code)."""
        self.cp = self.cp.optimised()
        self.k.prog = self.cp.tables.address
        _OPEN[id(self)] = self.cp.engine

    def _adapt(self, spent: int, printed: int, chunk_max: int) -> None:
        """The next chunk of fuel, from the bytes per unit of fuel the last call printed."""
        if printed > OUTPUT_PER_CALL:
            self.chunk = max(CHUNK_MIN, OUTPUT_PER_CALL * spent // printed)
        elif spent >= self.chunk and printed < OUTPUT_PER_CALL // 2:
            self.chunk = min(self.chunk * 2, chunk_max)

    def result(self) -> RunResult:
        """What the run gave so far; status "running" while it can go on."""
        self._open()
        status = self.status
        if status is None:
            status = "running"
        elif status == "ended":
            status = None
        return self._result(status, self.limit, self.used)

    def _restarts(self, name_of) -> list[Restart]:
        """The restarts of the run, in order, from Kernel.rlog."""
        k = self.k
        raw = ctypes.string_at(k.rlog, k.rlog_len) if k.rlog_len else b""
        return [Restart(old, new, name_of(ty, old), by, name_of(by_ty, by))
                for old, new, ty, by, by_ty in
                struct.iter_unpack(f"<{len(L.RESTART_FIELDS)}q", raw)]

    def _result(self, status, limit, used) -> RunResult:
        p, k = self.p, self.k
        res = RunResult(status="clean", fuel_used=used, tasks_spawned=k.ntasks, limit=limit,
                        switches=k.rq_head, trace=list(self.trace or ()))
        faults = []
        stuck = False
        n = len(p.code)
        names = [t.name for t in p.tasks]

        def name_of(ty, tid):
            if ty == L.HOST_TYPE:
                return self.host_names.get(tid, "host")
            return names[ty] if 0 <= ty < len(names) else "?"
        nf = len(L.LOG_FIELDS)
        log = ctypes.string_at(k.log, k.log_len) if k.log_len else b""
        chains = struct.unpack(f"<{k.chains_len // 8}q",
                               ctypes.string_at(k.chains, k.chains_len)) if k.chains_len else ()
        f = {name: i for i, name in enumerate(L.LOG_FIELDS)}
        fid, ftype, fkind, fcode = f["id"], f["type"], f["end_kind"], f["exit_code"]
        exits = res.exits
        for rec in struct.iter_unpack(f"<{nf}q", log):      # in the order the tasks ended
            if rec[fkind] == 1:
                exits[rec[fid]] = (name_of(rec[ftype], rec[fid]), rec[fcode])
            elif rec[fkind] == 2:
                e = dict(zip(L.LOG_FIELDS, rec))
                off, n_ = e["chain_off"], e["chain_len"]
                reason = self.host_reasons[e["fault_a"]] if e["fault_code"] == L.F_HOST \
                    else fault_reason(p, e)
                faults.append((e["end_seq"], Fault(e["id"], name_of(e["type"], e["id"]), reason,
                                                   Where(e["fault_pc"], tuple(chains[off:off + n_])))))
        n = len(p.code)
        live = []
        # the task table read in bulk: resume .. type are consecutive fields of a task
        head = struct.Struct("<8q")
        assert [f[0] for f in L.STRUCTS["Task"][0:8]] == [
            "resume", "slice", "state", "wait_handle", "wait_conn", "qnext", "id", "type"]
        head_off = L.CTask.resume.offset
        keys = self.cp.keys
        fp_off = L.CTask.regs.offset + 8 * isa.FP
        table = memoryview((ctypes.c_char * (k.nslots * self.tsize)).from_address(k.tasks)) \
            if k.nslots else memoryview(b"")
        for i in range(k.nslots):
            base = i * self.tsize
            idx, _, state, wait_handle, _, _, tid, ttype = head.unpack_from(table, base + head_off)
            if state != L.DEAD and tid:
                key = keys[idx] if 0 <= idx < len(keys) else 0
                live.append((tid, i, key, state, wait_handle, ttype))
        mw = k.mem_words
        scratch = (ctypes.c_int64 * L.CHAIN_MAX)()
        heap = (ctypes.c_int64 * (k.heap_len * len(L.HEAP_FIELDS))).from_address(k.heap) \
            if k.heap_len else ()
        for tid, i, key, state_code, wait_handle, ttype in sorted(live):
            state = WAIT_STATE.get(state_code, "ready")
            hw = ctypes.c_int64.from_address(k.hpos + 8 * (2 * i + L.H_WAIT)).value \
                if k.hpos else 0
            deadline = heap[(hw - 1) * len(L.HEAP_FIELDS)] if hw else None
            if not idle(state, deadline):
                stuck = True
            pc = key - n if key >= n else key
            chain: tuple[int, ...] = ()
            (fp,) = struct.unpack_from("<q", table, i * self.tsize + fp_off)
            if ttype == L.HOST_TYPE:
                pc = -1
            elif 0 <= fp and fp + 1 < mw:
                n_ = self.cp._walk(ctypes.addressof(k), k.tasks + i * self.tsize, fp,
                                   ctypes.addressof(scratch))
                chain = tuple(scratch[:n_])
            handle = None if state in ("open", "ready", "wait", "sleep") else wait_handle
            res.waiting.append(Waiter(tid, name_of(ttype, tid), state, handle, Where(pc, chain),
                                      deadline))
        res.faults = [f for _, f in sorted(faults, key=lambda x: x[0])]
        res.restarts = self._restarts(name_of)
        res.output = self.output.text() + (self.pending + "\n" if self.pending else "")
        res.output_dropped = self.output.dropped
        if status is not None:
            res.status = status
        elif stuck:
            res.status = "deadlock"
        elif res.faults:
            res.status = "fault"
        return res
