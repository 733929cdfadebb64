"""The Python side of a native run: allocate the kernel, boot, call native code per slice,
drain output, and read the tables back into a RunResult."""
from __future__ import annotations

import ctypes
import mmap
import struct
import time

from ...vm import abi, isa
from ...vm.options import RunOptions
from ...vm.result import Fault, RunResult, Waiter, Where
from . import layout as L
from .engine import Engine, name_ids
from .lower import RUN_BUDGET, RUN_IDLE, RUN_PAUSE

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_MAP_NORESERVE = 0x4000
_MAP_FAILED = ctypes.c_void_p(-1).value

BUDGET = 1 << 16             # task switches per native call
ADDRESS_SPACE = 1 << 45      # bytes of task memory reserved at most (virtual, lazily mapped)
CHUNK = 1 << 22              # fuel units per native call when nothing else bounds it
CHUNK_TIMED = 1 << 18        # ... when a wall-clock limit is set

# syscalls whose first argument is a handle: their fault reason names it
HANDLE_SYSCALLS = frozenset({"send", "call", "recv", "reply", "close", "data", "set_data",
                             "conn", "push"})
WAIT_STATE = {L.ST_RECV: "recv", L.ST_SEND: "send", L.ST_CALL_SEND: "call",
              L.ST_CALL_REPLY: "call", L.ST_OPEN: "open", L.ST_PUSH: "push",
              L.READY: "ready", L.RUNNING: "ready"}


def _reserve(size: int) -> int:
    addr = _libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE,
                      mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE, -1, 0)
    if addr in (None, _MAP_FAILED):
        raise MemoryError(f"cannot reserve {size} bytes of address space")
    return addr


def fault_reason(program, e: dict) -> str:
    code, a, b, c = e["fault_code"], e["fault_a"], e["fault_b"], e["fault_c"]
    if code == L.F_DIV0:
        return "division by zero"
    if code == L.F_MEM:
        # the address R[b] + imm, as an exact integer (a register plus the immediate)
        return f"memory access out of bounds at {a + b}"
    if code == L.F_BADARR:
        return "bad array reference"
    if code == L.F_INDEX:
        return f"index {a} out of range for array of length {b}"
    if code == L.F_NEGSIZE:
        return f"negative array size {a}"
    if code == L.F_OOM:
        return "out of memory"
    if code == L.F_STACK:
        return "stack overflow"
    if code == L.F_BADRET:
        return "bad return address"
    if code == L.F_TRAP:
        return program.strings[a]
    if code == L.F_SYS:
        sc = abi.SYSCALLS[a]
        what = f"{sc.name}({b})" if sc.name in HANDLE_SYSCALLS else sc.name
        return f"{what} failed: {abi.ERROR_NAME[c]} ({abi.ERROR_TEXT[c]})"
    return f"internal fault {code}"


class CompiledProgram:
    """A program compiled to machine code; `run` may be called any number of times."""

    def __init__(self, program, obj: bytes):
        self.program = program
        self.engine = Engine(obj)
        self._run = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)(self.engine.address("mk_run"))
        self._walk = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_int64, ctypes.c_void_p)(
            self.engine.address("mk_walk"))
        self._free = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self.engine.address("mk_free"))
        self.nnames = max(name_ids(program), default=-1) + 1
        self.native_seconds = 0.0

    def run(self, options: RunOptions | None = None) -> RunResult:
        self.native_seconds = 0.0      # time spent in native code by the last run
        m = Machine(self, options or RunOptions())
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
        mw = max(int(opts.mem_words), 0)
        self.mem_bytes = max(mw * 8, 8)
        # one slot (task structure and memory) per task alive at once
        alive = max(0, min(int(opts.max_tasks), ADDRESS_SPACE // self.mem_bytes))
        self.tsize = ctypes.sizeof(L.CTask)
        self.maps: list[tuple[int, int]] = []
        k = self.k = L.CKernel()
        while True:
            # where the system refuses to reserve that much address space, fewer tasks fit
            self.cap = max(1, alive)
            try:
                k.tasks = self._map(self.cap * self.tsize)
                k.mem_base = self._map(self.cap * self.mem_bytes)
                break
            except MemoryError:
                self._unmap()
                if alive <= 1:
                    raise
                alive //= 2
        ring = 1
        while ring < alive + 1:
            ring <<= 1
        k.task_cap = self.cap
        k.free = self._map(self.cap * 8)
        k.max_alive = alive
        k.mem_words = mw
        k.ready = self._map(ring * 8)
        k.rq_mask = ring - 1
        seed = opts.seed & (2**64 - 1)
        k.seed = k.rng = seed - 2**64 if seed >= 2**63 else seed
        self.reg = (L.C["Reg"] * max(self.cp.nnames, 1))()
        k.reg = ctypes.addressof(self.reg)
        self.output: list[str] = []
        self.pending = ""
        self.left = None if opts.fuel is None else max(int(opts.fuel), 0)
        self.used = 0
        self.elapsed = 0.0
        self.status: str | None = None         # None while the run can go on
        self.limit = ""
        self.first = opts.time_limit is not None
        self.closed = False
        if boot:
            for b in self.p.boot:
                if self.k.alive >= self.k.max_alive:
                    break
                self._new_task(b.task, b.args)

    def _map(self, size: int) -> int:
        addr = _reserve(size)
        self.maps.append((addr, size))
        return addr

    def _unmap(self):
        for addr, size in self.maps:
            _libc.munmap(addr, size)
        self.maps.clear()

    def task(self, i: int):
        return L.CTask.from_address(self.k.tasks + i * self.tsize)

    def _new_task(self, ttype: int, args) -> int:
        """A task slot set up as spawn does, at the tail of the ready queue; its id."""
        k, p = self.k, self.p
        if k.nfree:
            raise RuntimeError("spawning from Python after tasks have ended is not supported")
        ring = (ctypes.c_void_p * (k.rq_mask + 1)).from_address(k.ready)
        n = k.nslots
        t = self.task(n)
        t.id, t.type, t.slot = k.ntasks + 1, ttype, n
        k.nslots += 1
        t.mem = k.mem_base + n * self.mem_bytes
        for j, v in enumerate(list(args)[:abi.MAX_TASK_PARAMS]):
            t.regs[isa.A0 + j] = v
        t.regs[isa.SP] = t.regs[isa.FP] = k.mem_words
        t.key = p.tasks[ttype].entry
        t.slice = abi.QUANTUM
        t.state = L.READY
        ring[k.rq_tail & k.rq_mask] = self.k.tasks + n * self.tsize
        k.rq_tail += 1
        k.ntasks += 1
        k.alive += 1
        return t.id

    def spawn(self, ttype: int, args=()) -> int:
        """Start a task of type ttype (at the tail of the ready queue); its id."""
        if self.k.alive >= self.k.max_alive:
            raise ValueError("the task table is full")
        return self._new_task(ttype, args)

    def host(self, name: str, handler) -> int:
        raise NotImplementedError("host tasks on the x86 backend")

    def _drain(self):
        k = self.k
        if k.out_len:
            text = self.pending + ctypes.string_at(k.out, k.out_len).decode("utf-8", "replace")
            k.out_len = 0
            *lines, self.pending = text.split("\n")
            for line in lines:
                self.output.append(line)
                if self.opts.on_output is not None:
                    self.opts.on_output(line)

    def close(self) -> None:
        """Free the run's native memory; the Machine can no longer run or report."""
        if not self.closed:
            self.closed = True
            self.cp._free(ctypes.addressof(self.k))
            self._unmap()

    def __del__(self):
        if getattr(self, "closed", True) is False:
            self.close()

    def advance(self, fuel: int | None = None) -> str | None:
        """Run until the run ends (its status) or `fuel` more units are used (None)."""
        if self.status is not None:
            return self.status
        opts, k = self.opts, self.k
        stint = None if fuel is None else max(int(fuel), 0)
        start = time.monotonic()
        chunk_max = CHUNK_TIMED if opts.time_limit is not None else CHUNK
        try:
            while True:
                chunk = chunk_max
                for bound in (self.left, stint):
                    if bound is not None:
                        chunk = min(chunk, bound)
                if self.first:
                    # the clock is read at the first fuel point too: the first call stops there
                    chunk, self.first = 0, False
                k.fuel = chunk
                k.budget = BUDGET
                t0 = time.perf_counter()
                rc = self.cp._run(ctypes.addressof(k))
                self.cp.native_seconds += time.perf_counter() - t0
                spent = chunk - k.fuel
                self.used += spent
                if self.left is not None:
                    self.left -= spent
                if stint is not None:
                    stint -= spent
                self._drain()
                if rc == RUN_IDLE:
                    self.status = "ended"
                    break
                if rc not in (RUN_PAUSE, RUN_BUDGET):
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
        except KeyboardInterrupt:
            self.status, self.limit = "interrupted", "keyboard interrupt"
        finally:
            self.elapsed += time.monotonic() - start
        return self.status

    def result(self) -> RunResult:
        """What the run gave so far; status "running" while it can go on."""
        if self.closed:
            raise RuntimeError("the run's native memory has been freed")
        status = self.status
        if status is None:
            status = "running"
        elif status == "ended":
            status = None
        return self._result(status, self.limit, self.used)

    def _result(self, status, limit, used) -> RunResult:
        p, k = self.p, self.k
        res = RunResult(status="clean", fuel_used=used, tasks_spawned=k.ntasks, limit=limit)
        faults = []
        stuck = False
        n = len(p.code)
        names = [t.name for t in p.tasks]

        def name_of(ty):
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
                exits[rec[fid]] = (name_of(rec[ftype]), rec[fcode])
            elif rec[fkind] == 2:
                e = dict(zip(L.LOG_FIELDS, rec))
                off, n_ = e["chain_off"], e["chain_len"]
                faults.append((e["end_seq"], Fault(e["id"], name_of(e["type"]), fault_reason(p, e),
                                                   Where(e["fault_pc"], tuple(chains[off:off + n_])))))
        n = len(p.code)
        live = []
        # the task table read in bulk: key .. type are consecutive fields of a task
        head = struct.Struct("<8q")
        assert [f[0] for f in L.STRUCTS["Task"][1:9]] == [
            "key", "slice", "state", "wait_handle", "wait_conn", "qnext", "id", "type"]
        head_off = L.CTask.key.offset
        fp_off = L.CTask.regs.offset + 8 * isa.FP
        table = memoryview((ctypes.c_char * (k.nslots * self.tsize)).from_address(k.tasks)) \
            if k.nslots else memoryview(b"")
        for i in range(k.nslots):
            base = i * self.tsize
            key, _, state, wait_handle, _, _, tid, ttype = head.unpack_from(table, base + head_off)
            if state != L.DEAD and tid:
                live.append((tid, i, key, state, wait_handle, ttype))
        mw = k.mem_words
        scratch = (ctypes.c_int64 * L.CHAIN_MAX)()
        for tid, i, key, state_code, wait_handle, ttype in sorted(live):
            state = WAIT_STATE.get(state_code, "ready")
            if state != "recv":
                stuck = True
            pc = key - n if key >= n else key
            chain: tuple[int, ...] = ()
            (fp,) = struct.unpack_from("<q", table, i * self.tsize + fp_off)
            if 0 <= fp and fp + 1 < mw:
                n_ = self.cp._walk(ctypes.addressof(k), k.tasks + i * self.tsize, fp,
                                   ctypes.addressof(scratch))
                chain = tuple(scratch[:n_])
            handle = None if state in ("open", "ready") else wait_handle
            res.waiting.append(Waiter(tid, name_of(ttype), state, handle, Where(pc, chain)))
        res.faults = [f for _, f in sorted(faults, key=lambda x: x[0])]
        lines = self.output + [self.pending] if self.pending else self.output
        res.output = "".join(line + "\n" for line in lines)
        if status is not None:
            res.status = status
        elif stuck:
            res.status = "deadlock"
        elif res.faults:
            res.status = "fault"
        return res
