"""The reference kernel: tasks, handle tables, channels, the name registry and the scheduler.

This module is the executable form of docs/kernel.md; each syscall is one method
`sys_NAME(task, args...)` with one shape. It returns either a tuple `(status, results...)`
when the syscall completes at once (the interpreter writes a0 = status and a1.. = results,
zero on error), or BLOCK when the caller now waits, or SWITCH when the caller gave way
(yield), or END when the caller is gone (exit). Whoever wakes a waiting task writes its
status and results into its registers (`wake`).

The data structures are those of the design: a fixed array of CH_SLOTS chandle slots and of
MH_SLOTS mhandle slots in each task (a handle is an index), a channel object reached from a
slot, a MANY channel's connections indexed by id, a FIFO ready queue, and an ordered name
registry (binary search over sorted names). Plain and simple over fast and clever.

A traced kernel (`trace=[]`) appends an Event (mikro.vm.trace) at each point that table
names. A host task is a task whose code is a Python function: it serves a MANY channel, and
when the scheduler picks it, it answers every message queued for it (`serve_host`).
"""
from __future__ import annotations

import operator
from bisect import bisect_left
from collections import deque
from collections.abc import Callable

from . import abi, isa
from .abi import pack_name
from .faults import syscall_failure
from .result import Fault, Output, Restart, Where
from .schedule import CHOOSE, PICK, Plan, splitmix64
from .trace import TIMEOUT_WAITS, Event

BLOCK, SWITCH, END = "block", "switch", "end"      # what a syscall did with its caller

READY, RUNNING, BLOCKED, DEAD = "ready", "running", "blocked", "dead"


E = {name: code for name, (code, _) in abi.ERRORS.items()}
M64 = (1 << 64) - 1

# result registers (a1..) of each wait, zeroed when the wait ends in an error
_NRES = {"recv": abi.SYS["recv"].nres, "send": 0, "call": abi.SYS["call"].nres,
         "reply": abi.SYS["call"].nres, "open": abi.SYS["open"].nres, "push": 0,
         "recvbuf": abi.SYS["recvbuf"].nres, "sendbuf": 0, "callbuf": abi.SYS["callbuf"].nres,
         "replybuf": abi.SYS["callbuf"].nres, "wait": abi.SYS["wait"].nres, "sleep": 0,
         "send_move": 0, "call_move": abi.SYS["call_move"].nres,
         "select": abi.SYS["select"].nres, "recvt": abi.SYS["recv_type"].nres,
         "pushbuf": 0}
# the waits of a sender whose message carries a chandle (in its a1), before it is taken
MOVE_WAITS = ("send_move", "call_move")
# the waits in which a ONE end's peer gets E_CLOSED when the end closes
_ONE_WAITS = ("recv", "send", "call", "reply", "recvbuf", "sendbuf", "callbuf", "replybuf",
              *MOVE_WAITS)


class End:
    """What a chandle slot holds: one end of a channel."""
    __slots__ = ("kind", "chan", "side", "conn")

    def __init__(self, kind: str, chan: "Channel", side: int = 0, conn: "Connection | None" = None):
        self.kind = kind            # "one", "server" (MANY creator) or "client" (MANY opener)
        self.chan = chan
        self.side = side            # ONE: 0 creator, 1 opener
        self.conn = conn            # client: its connection


class MSlot:
    """An mhandle slot: the connection a message came through and its sender."""
    __slots__ = ("gen", "used", "conn", "sender", "waits")

    def __init__(self):
        self.gen = 0
        self.used = False
        self.conn: Connection | None = None
        self.sender: Task | None = None
        self.waits = False          # the sender used `call` and waits for the reply


class Channel:
    __slots__ = ("name", "kind", "dead", "ends", "queue", "bqueue", "conns", "last_id")

    def __init__(self, name: bytes | None, kind: int, creator: "Task", slot: int):
        self.name = name                         # None: an anonymous channel (`pair`)
        self.kind = kind
        self.dead = False
        # ONE: [(creator task, slot), (opener task, slot) or None]; MANY: [(server, slot)]
        self.ends: list[tuple[Task, int] | None] = [(creator, slot), None]
        self.queue: deque[Task] = deque()        # MANY: clients waiting to be received
        self.bqueue: deque[Task] = deque()       # MANY: ... in sendbuf or callbuf (recvbuf's)
        # MANY: the open connections by id; ids count from 1 and are never given twice,
        # a closed connection's entry goes (so a channel holds what is open, not all ever)
        self.conns: dict[int, Connection] = {}
        self.last_id = 0


class Connection:
    __slots__ = ("id", "client", "slot", "chan", "word", "pusher", "bpusher")

    def __init__(self, cid: int, client: "Task", slot: int, chan: Channel):
        self.id = cid
        self.client = client
        self.slot = slot
        self.chan = chan
        self.word = 0
        self.pusher: Task | None = None          # the server waiting in push to it
        self.bpusher: Task | None = None         # ... in pushbuf (recvbuf's)


class Segment:
    """A shared segment: words outside every task's memory (sparse: absent words are 0),
    held by its creator and by at most one borrower at a time; gone when neither holds it."""
    __slots__ = ("words", "n", "owner", "user")

    def __init__(self, n: int, owner: "Task"):
        self.words: dict[int, int] = {}
        self.n = n
        self.owner: Task | None = owner
        self.user: Task | None = None            # the task it is lent to


class SegMap:
    """A segment slot in use: the reference naming it, the segment, whether it may store."""
    __slots__ = ("ref", "seg", "writable")

    def __init__(self, ref: int, seg: Segment, writable: bool):
        self.ref = ref
        self.seg = seg
        self.writable = writable


class Task:
    """A task: VM state (registers, memory, pc) and kernel state (handle tables, wait)."""

    def __init__(self, tid: int, ttype: int, name: str, entry: int, args, mem_words: int):
        self.id = tid
        self.type = ttype
        self.name = name
        self.regs = [0] * isa.NREGS
        for i, v in enumerate(args[:abi.MAX_TASK_PARAMS]):
            self.regs[isa.A0 + i] = v
        self.regs[isa.SP] = self.regs[isa.FP] = mem_words
        self.mem: dict[int, int] = {}            # sparse: absent words are 0
        self.heap_top = 0
        self.pc = entry
        self.slice = abi.QUANTUM
        self.state = READY
        self.wait: str | None = None             # recv send call reply open push
        self.wait_handle: int | None = None
        self.resume_sys = False                  # resumes by finishing the `sys` at pc
        self.sys_handle = 0                      # a0 of the last syscall (named in its fault)
        self.ch: list[End | None] = [None] * abi.CH_SLOTS
        self.mh = [MSlot() for _ in range(abi.MH_SLOTS)]
        self.line: list[str] = []
        self.host: Callable | None = None        # a host task's handler (HostMessage -> reply)
        self.host_ch = 0                         # ... and its server chandle
        # long messages: the buffer it sends (address, length) and the one it receives
        # into (address, capacity), checked when it made its syscall
        self.bsrc = self.blen = self.bdst = self.bcap = 0
        # notifications and time: the pending bits, where the task's entries are in the
        # timer heap (by kind: its wait's deadline, its timer), and its timer
        self.pending = 0
        self.hpos: list[int | None] = [None, None]
        self.tm_bits = self.tm_period = 0
        self.tm_parked: int | None = None        # a periodic timer's last tick, not re-armed
        # supervision: the spawn arguments (a restart gives them again), the supervisor and
        # the bits it gets when this task ends, the tasks this one supervises, how it ended
        self.args = tuple(args[:abi.MAX_TASK_PARAMS])
        self.sup: Task | None = None
        self.sup_bits = 0
        self.kids: dict[int, Task] = {}          # by index
        self.ended = (abi.T_ALIVE, 0)
        # the deadline of its waits (None: none); what it waits for in select (bit s:
        # chandle s, bit BITS_SLOT: its pending word) and the slot it got last; the type
        # its recv_type waits for; the name it waits for in open, the connection in push
        self.deadline: int | None = None
        self.sel_mask = 0
        self.sel_last = BITS_SLOT
        self.rtype = 0
        self.open_name = b""
        self.push_conn: Connection | None = None
        # shared segments: what each segment slot maps (None: free) and its generation
        self.segs: list[SegMap | None] = [None] * abi.SEG_SLOTS
        self.seg_gen = [0] * abi.SEG_SLOTS
        # the deadline that came while it waited, with the task queued to run but still
        # waiting: a message may yet end the wait first (Kernel.expire)
        self.expiring: int | None = None


class KernelError(RuntimeError):
    """A Kernel used in a way its lifecycle does not allow (docs/embedding.md)."""


class KernelClosed(KernelError):
    """The Kernel was closed: by close(), at the end of its `with` block, by a host handler
    or on_output during its run, or because its run stopped on an exception."""


def host_word(v, what: str) -> int:
    """A value from Python as a VM word: an int (or any integer type with __index__, but
    not a bool: TypeError) in [-2**63, 2**64) (else ValueError); from 2**63 on it is the
    unsigned form of a negative word, which is what the VM sees."""
    if isinstance(v, bool) or not hasattr(type(v), "__index__"):
        why = " (a bool is not taken for a word)" if isinstance(v, bool) else ""
        raise TypeError(f"{what} {v!r}, which is not an int{why}")
    v = operator.index(v)
    if not -(1 << 63) <= v < 1 << 64:
        raise ValueError(f"{what} {v}, which is not a 64-bit word (-2**63 to 2**64 - 1)")
    return v - (1 << 64) if v >= 1 << 63 else v


class HostMessage:
    """What a host task's handler gets: the message words, the sending task's id, the id of
    the connection it came through and the server's per-client word for that connection.
    `set_data(v)` changes that word (as `set_data(m, v)` does in a task)."""
    __slots__ = ("words", "sender", "conn", "data", "_set")

    def __init__(self, words, sender: int, conn: int, data: int, set_data):
        self.words: tuple[int, ...] = tuple(words)
        self.sender = sender
        self.conn = conn
        self.data = data
        self._set = set_data

    def set_data(self, v: int) -> None:
        """Set the per-client word: v is checked as host_word does (TypeError, ValueError)."""
        v = host_word(v, "set_data was given")
        self._set(v)
        self.data = v

    def __repr__(self) -> str:
        return f"HostMessage(words={self.words}, sender={self.sender}, conn={self.conn}, data={self.data})"


def host_reply(out) -> tuple[int, ...]:
    """The reply words of a handler's return value: None (no words), an int or a sequence of
    at most MSG_WORDS ints, each checked as host_word does. Raises TypeError or ValueError."""
    if out is None:
        return ()
    words = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(words) > abi.MSG_WORDS:
        raise ValueError(f"handler returned {out!r}: expected None, an int or up to "
                         f"{abi.MSG_WORDS} ints")
    return tuple(host_word(w, "handler returned") for w in words)


WAIT, TIMER = 0, 1          # the kinds of timer heap entries: a wait's deadline, a task's timer
# `timeout`'s b: the wait that ended (recv_type's counts as recv's)
TIMEOUT_OF = {name: i for i, name in enumerate(TIMEOUT_WAITS)} | {
    "reply": TIMEOUT_WAITS.index("call"), "replybuf": TIMEOUT_WAITS.index("callbuf"),
    "recvt": TIMEOUT_WAITS.index("recv")}
BITS_SLOT = abi.CH_SLOTS    # select's bit for the pending word, after the chandles'
# the syscalls the task's deadline bounds: those that wait to hand something over check
# the deadline first and do nothing once it is past; those that wait to take something
# take what is there at once, whatever the deadline
DEADLINE_SENDS = frozenset({"open", "send", "call", "push", "sendbuf", "callbuf"})
DEADLINE_TAKES = frozenset({"recv", "wait", "recvbuf", "select", "recv_type"})


class Timers:
    """The pending deadlines: a binary heap of entries [deadline, seq, task, kind] ordered
    by (deadline, seq), seq counting the entries made, so equal deadlines go in the order
    they were set. A task knows where its entries are (Task.hpos, by kind), so an entry is
    removed in O(log n) when its wait ends some other way or its task ends. The native
    kernel keeps the same heap; any heap gives the same order, keys being unique."""

    def __init__(self):
        self.heap: list[list] = []
        self.seq = 0

    def _less(self, i: int, j: int) -> bool:
        a, b = self.heap[i], self.heap[j]
        return (a[0], a[1]) < (b[0], b[1])

    def _put(self, i: int, e: list) -> None:
        self.heap[i] = e
        e[2].hpos[e[3]] = i

    def _swap(self, i: int, j: int) -> None:
        a, b = self.heap[i], self.heap[j]
        self._put(i, b)
        self._put(j, a)

    def _up(self, i: int) -> None:
        while i > 0 and self._less(i, (i - 1) // 2):
            self._swap(i, (i - 1) // 2)
            i = (i - 1) // 2

    def _down(self, i: int) -> None:
        n = len(self.heap)
        while True:
            m = i
            for c in (2 * i + 1, 2 * i + 2):
                if c < n and self._less(c, m):
                    m = c
            if m == i:
                return
            self._swap(i, m)
            i = m

    def push(self, t: "Task", kind: int, deadline: int) -> None:
        self.seq += 1
        self.heap.append(None)
        self._put(len(self.heap) - 1, [deadline, self.seq, t, kind])
        self._up(len(self.heap) - 1)

    def remove(self, t: "Task", kind: int) -> list | None:
        """Take t's entry of that kind out of the heap (None if it has none)."""
        i = t.hpos[kind]
        if i is None:
            return None
        e = self.heap[i]
        last = self.heap.pop()
        t.hpos[kind] = None
        if i < len(self.heap):
            self._put(i, last)
            if i > 0 and self._less(i, (i - 1) // 2):
                self._up(i)
            else:
                self._down(i)
        return e

    def deadline(self, t: "Task", kind: int) -> int | None:
        i = t.hpos[kind]
        return None if i is None else self.heap[i][0]


class Registry:
    """Names (bytes: a string of the program in UTF-8, or a name built at run time) in an
    ordered map: sorted keys, binary search (O(log n) lookup). Each name has its live
    channel (or None) and the FIFO of tasks waiting in `open` for it."""

    def __init__(self):
        self.keys: list[bytes] = []
        self.entries: list[list] = []            # [channel or None, deque of openers]

    def find(self, name: bytes) -> list | None:
        i = bisect_left(self.keys, name)
        if i < len(self.keys) and self.keys[i] == name:
            return self.entries[i]
        return None

    def entry(self, name: bytes) -> list:
        i = bisect_left(self.keys, name)
        if i < len(self.keys) and self.keys[i] == name:
            return self.entries[i]
        self.keys.insert(i, name)
        self.entries.insert(i, [None, deque()])
        return self.entries[i]

    def drop_if_unused(self, name: bytes) -> None:
        i = bisect_left(self.keys, name)
        if i < len(self.keys) and self.keys[i] == name:
            chan, openers = self.entries[i]
            if chan is None and not openers:
                del self.keys[i]
                del self.entries[i]


class Kernel:
    def __init__(self, program, *, seed: int = 0, mem_words: int = abi.MEM_WORDS,
                 max_tasks: int = abi.MAX_TASKS, on_output=None, trace: list | None = None,
                 clock=lambda: 0, output_limit: int | None = None, plan: Plan | None = None):
        self.program = program
        self.mem_words = mem_words
        self.max_tasks = max_tasks
        self.seed = seed & M64
        self.rng = self.seed
        self.output = Output(on_output, output_limit)  # streamed to on_output, a tail kept
        self.ready: deque[Task] = deque()
        self.tasks: dict[int, Task] = {}         # live tasks by id
        self.spawned = 0
        self.registry = Registry()
        self.faults: list[Fault] = []
        self.exits: dict[int, tuple[str, int]] = {}
        # supervision: each task by index, alive or ended and kept for its supervisor
        self.by_index: dict[int, Task] = {}
        self.held = 0                            # ended tasks kept for their supervisor
        self.restarts: list[Restart] = []
        self._dispatch = [getattr(self, "sys_" + sc.name) for sc in abi.SYSCALLS]
        self._bounded = {sc.num: self._send_by_deadline if sc.name in DEADLINE_SENDS
                         else self._take_by_deadline for sc in abi.SYSCALLS
                         if sc.name in DEADLINE_SENDS | DEADLINE_TAKES}
        self.trace = trace                       # None: not traced
        self.now = 0                             # the virtual clock, in ticks
        self.timers = Timers()
        self.seg_words = 0                       # words of the segments alive (SEG_TOTAL_WORDS)
        self.clock = clock                       # the run's fuel used, the trace's time
        # a name's event field is the first string of that text (the same on every backend)
        self.name_index: dict[bytes, int] = {}
        for i, s in enumerate(program.strings):
            self.name_index.setdefault(s.encode(), i)
        self.plan = plan                         # None: the seed schedules (pick)
        self.log: list[int] = []                 # every decision of a planned run (capped),
                                                 # schedule.LOG_WORDS words each
        self.made = 0                            # decisions made
        self.misfit = 0                          # 1 + the first decision the plan misfit
        self.xrng = plan.seed & M64 if plan else 0
        self.priority = list(plan.priorities) if plan else []
        self.changed = 0                         # pct: the change points passed

    def record(self, kind: str, t: "Task | int", handle: int = 0, peer: "Task | int" = 0,
               a: int = 0, b: int = 0, words: tuple[int, ...] = (), n: int = 0) -> None:
        if self.trace is not None:
            words = tuple(words[:abi.MSG_WORDS]) + (0,) * (abi.MSG_WORDS - len(words[:abi.MSG_WORDS]))
            self.trace.append(Event(self.clock(), kind, t.id if isinstance(t, Task) else t,
                                    handle, peer.id if isinstance(peer, Task) else peer, a, b,
                                    words, n))

    # -- scheduling ---------------------------------------------------------------------
    def boot(self) -> None:
        """Spawn the boot list in order (entries past the task limit are not started)."""
        for b in self.program.boot:
            if len(self.tasks) < self.max_tasks:
                self.new_task(b.task, b.args)

    def new_task(self, ttype: int, args, parent: int = 0) -> Task:
        tt = self.program.tasks[ttype]
        self.spawned += 1
        t = Task(self.spawned, ttype, tt.name, tt.entry, args, self.mem_words)
        self.tasks[t.id] = t
        self.by_index[t.id] = t
        self.record("spawn", parent, peer=t, a=ttype, words=tuple(args))
        self.make_ready(t)
        return t

    def new_host(self, name: str, handler) -> Task:
        """A host task serving the MANY channel `name` with `handler`; it waits in recv at
        once. Raises ValueError when no string of the program is that name (no task could
        open it) or the channel cannot be made."""
        if name.encode() not in self.name_index:
            raise ValueError(f"no task of the program names the channel {name!r}")
        entry = self.registry.find(name.encode())
        if entry is not None and entry[0] is not None:
            raise ValueError(f"cannot serve {name!r}: the channel exists already")
        if self.taken() >= self.max_tasks:
            raise ValueError("the task table is full")
        self.spawned += 1
        t = Task(self.spawned, abi.HOST_TYPE, "host:" + name, -1, (), 0)
        t.host = handler
        self.tasks[t.id] = t
        self.by_index[t.id] = t
        self.record("spawn", 0, peer=t, a=-1)
        t.state = RUNNING
        t.host_ch = self.sys_channel(t, self.name_index[name.encode()], abi.MANY)[1]
        self.sys_recv(t, t.host_ch)
        return t

    def serve_host(self, t: Task) -> None:
        """Run host task t, picked with a message: answer it and every message queued after
        it through the handler, then wait in recv again. A handler that raises or returns
        something that is not a reply faults the host task (docs/kernel.md, host tasks)."""
        ch = t.host_ch
        got = (abi.OK,) + tuple(t.regs[isa.A0 + 1:isa.A0 + 6])
        while got is not BLOCK:
            if got[0] != abi.OK:
                reason = syscall_failure("recv", ch, got[0])
                self.end_task(t, fault=Fault(t.id, t.name, reason, Where(-1)))
                return
            m, words = got[1], got[2:]
            ms = self.mslot_of(t, m)
            conn = ms.conn

            def set_data(v, conn=conn):
                conn.word = int(v)
            msg = HostMessage(words, ms.sender.id, conn.id, conn.word, set_data)
            try:
                reply = host_reply(t.host(msg))
            except Exception as e:               # the handler's bug ends its task only
                reason = f"host handler raised {type(e).__name__}: {e}"
                self.end_task(t, fault=Fault(t.id, t.name, reason, Where(-1)))
                return
            self.sys_reply(t, m, *reply, *(0,) * (abi.MSG_WORDS - len(reply)))
            got = self.sys_recv(t, ch)

    def make_ready(self, t: Task) -> None:
        t.state = READY
        self.ready.append(t)

    def splitmix64(self) -> int:
        gamma, m1, m2 = abi.SPLITMIX
        self.rng = (self.rng + gamma) & M64
        z = self.rng
        z = ((z ^ (z >> 30)) * m1) & M64
        z = ((z ^ (z >> 27)) * m2) & M64
        return z ^ (z >> 31)

    def pick(self) -> Task | None:
        """The next task to run: the head of the ready queue; with a seed, the k-th task
        (k = splitmix64() mod length) swaps places with the head first."""
        if not self.ready:
            return None
        if self.plan is not None:
            if len(self.ready) > 1:
                k = self.decide(PICK, len(self.ready), lambda v: self.ready[v].id)
                self.ready[0], self.ready[k] = self.ready[k], self.ready[0]
        elif self.seed:
            k = self.splitmix64() % len(self.ready)
            self.ready[0], self.ready[k] = self.ready[k], self.ready[0]
        t = self.ready.popleft()
        if t.expiring is not None:
            self.expire(t)
        t.state = RUNNING
        return t

    # -- planned runs (docs/kernel.md, "Schedules") -------------------------------------
    def decide(self, kind: str, n: int, task_of) -> int:
        """The value of the next decision, which could go n >= 2 ways: the plan's, else
        its tail's; logged with the task it ran (task_of(value))."""
        i, plan = self.made, self.plan
        self.made += 1
        if i < len(plan.decisions):
            v = plan.decisions[i]
            if v >= n:                           # does not fit: noted, and taken as 0
                self.misfit = self.misfit or i + 1
                v = 0
        elif plan.tail == "random" or (plan.tail == "pct" and kind == CHOOSE):
            self.xrng, z = splitmix64(self.xrng)
            v = z % n
        elif plan.tail == "pct":
            v = self.pct_pick(i)
        else:
            v = 0
        if i < abi.DECISIONS_MAX:
            event = len(self.trace) if self.trace is not None else 0
            self.log += (n if kind == PICK else -n, v, task_of(v), event)
        return v

    def pct_pick(self, i: int) -> int:
        """The ready task of highest priority (the first of them in queue order); at a
        change point the one it would be first drops to priority `changes passed + 1`."""
        if self.changed < len(self.plan.changes) and self.plan.changes[self.changed] <= i:
            self.changed += 1
            self.priority[self.best_ready() % len(self.priority)] = self.changed
        return self._best_index()

    def best_ready(self) -> int:
        return self.ready[self._best_index()].id

    def _best_index(self) -> int:
        prio, n = self.priority, len(self.priority)
        best, at = None, 0
        for j, t in enumerate(self.ready):
            p = prio[t.id % n]
            if best is None or p > best:
                best, at = p, j
        return at

    def sys_choose(self, t: Task, n: int):
        """A value 0..n-1: a decision of a planned run, a draw of a seeded one, else 0."""
        if n < 1:
            return (E["E_INVAL"],)
        if n == 1:
            return (abi.OK, 0)
        if self.plan is not None:
            return (abi.OK, self.decide(CHOOSE, n, lambda v: t.id))
        if self.seed:
            return (abi.OK, self.splitmix64() % n)
        return (abi.OK, 0)

    # -- waiting and waking -------------------------------------------------------------
    def block(self, t: Task, wait: str, handle: int | None) -> str:
        t.state, t.wait, t.wait_handle = BLOCKED, wait, handle
        return BLOCK

    @staticmethod
    def waits(t: Task | None, states: tuple[str, ...], handle: int) -> bool:
        return (t is not None and t.state == BLOCKED and t.wait in states
                and t.wait_handle == handle)

    @staticmethod
    def in_reply(t: Task) -> bool:
        """t's message was taken and it waits for the reply of its `call`."""
        return t.state == BLOCKED and t.wait == "reply"

    @staticmethod
    def in_any_reply(t: Task) -> bool:
        """t waits for the reply of its `call` or `callbuf`."""
        return t.state == BLOCKED and t.wait in ("reply", "replybuf")

    def wake(self, t: Task, status: int, results: tuple[int, ...] = ()) -> None:
        """End t's wait: a0 = status, a1.. = results (all zero on an error)."""
        r = t.regs
        r[isa.A0] = status
        if status != abi.OK:
            results = (0,) * _NRES[t.wait]
        for i, v in enumerate(results):
            r[isa.A0 + 1 + i] = v
        t.wait = t.wait_handle = None
        if t.hpos[WAIT] is not None:             # its deadline no longer matters
            self.timers.remove(t, WAIT)
        if t.expiring is not None:               # queued already (expire)
            t.expiring, t.state = None, READY
        else:
            self.make_ready(t)

    # -- handle tables ------------------------------------------------------------------
    @staticmethod
    def free_ch(t: Task) -> int | None:
        """The lowest free chandle slot."""
        for s in range(abi.CH_SLOTS):
            if t.ch[s] is None:
                return s
        return None

    @staticmethod
    def free_mh(t: Task) -> int | None:
        for s in range(abi.MH_SLOTS):
            if not t.mh[s].used:
                return s
        return None

    @staticmethod
    def end_of(t: Task, h: int) -> End | None:
        return t.ch[h] if abi.is_chandle(h) else None

    @staticmethod
    def mslot_of(t: Task, h: int) -> MSlot | None:
        """The mhandle slot h names, if h is a live mhandle of t."""
        if not abi.is_mhandle(h):
            return None
        slot, gen = abi.mhandle_parts(h)
        ms = t.mh[slot]
        return ms if ms.used and ms.gen == gen else None

    def new_mhandle(self, t: Task, conn: Connection, sender: Task, waits: bool) -> int:
        s = self.free_mh(t)
        ms = t.mh[s]
        ms.used, ms.conn, ms.sender, ms.waits = True, conn, sender, waits
        return abi.mhandle(s, ms.gen)

    def drop_mhandle(self, t: Task, ms: MSlot) -> None:
        """Free an mhandle slot unanswered: a sender waiting for the reply gets E_CLOSED."""
        if ms.waits and self.in_any_reply(ms.sender):
            self.wake(ms.sender, E["E_CLOSED"])
        ms.used, ms.conn, ms.sender, ms.waits = False, None, None, False
        ms.gen = (ms.gen + 1) & abi.GEN_MASK

    def connect(self, c: Channel, w: Task) -> int | None:
        """A new chandle of w on channel c (None when w's table is full)."""
        s = self.free_ch(w)
        if s is None:
            return None
        if c.kind == abi.ONE:
            c.ends[1] = (w, s)
            w.ch[s] = End("one", c, side=1)
        else:
            c.last_id += 1
            cn = Connection(c.last_id, w, s, c)
            c.conns[cn.id] = cn
            w.ch[s] = End("client", c, conn=cn)
        return s

    def unregister(self, c: Channel) -> None:
        c.dead = True
        if c.name is None:
            return
        entry = self.registry.find(c.name)
        if entry is not None and entry[0] is c:
            entry[0] = None
            self.registry.drop_if_unused(c.name)

    def close_end(self, t: Task, s: int) -> None:
        """Close chandle slot s of t (docs/kernel.md, `close`)."""
        e = t.ch[s]
        c = e.chan
        if e.kind == "one":
            if not c.dead:
                self.unregister(c)
                peer = c.ends[1 - e.side]
                if peer is not None and self.waits(peer[0], _ONE_WAITS, peer[1]):
                    self.wake(peer[0], E["E_CLOSED"])
                elif peer is not None:
                    self.poke(peer[0], peer[1])
        elif e.kind == "server":
            self.unregister(c)
            # queued clients first (FIFO), then clients waiting in recv, by connection id
            while c.queue:
                self.wake(c.queue.popleft(), E["E_CLOSED"])
            while c.bqueue:
                self.wake(c.bqueue.popleft(), E["E_CLOSED"])
            for cn in list(c.conns.values()):          # in id order: ids only grow
                if self.waits(cn.client, ("recv", "recvbuf"), cn.slot):
                    self.wake(cn.client, E["E_CLOSED"])
                else:
                    self.poke(cn.client, cn.slot)
        else:
            cn = e.conn
            del c.conns[cn.id]
            for pusher in (cn.pusher, cn.bpusher):
                if pusher is not None:
                    self.wake(pusher, E["E_CLOSED"])
            cn.pusher = cn.bpusher = None
        t.ch[s] = None

    # -- output ---------------------------------------------------------------------------
    def put(self, t: Task, item: str) -> None:
        t.line.append(item)

    def flush(self, t: Task) -> None:
        line = " ".join(t.line)
        t.line = []
        self.output.write(line)

    # -- the end of a task ----------------------------------------------------------------
    def end_task(self, t: Task, code: int | None = None, fault: Fault | None = None) -> None:
        """Close its chandles in slot order, drop its mhandles in slot order, write out an
        unfinished line; record the exit code or the fault."""
        if fault is not None:
            self.record("fault", t)
        else:
            self.record("exit", t, a=code)
        for s in range(abi.CH_SLOTS):
            if t.ch[s] is not None:
                self.close_end(t, s)
        for ms in t.mh:
            if ms.used:
                self.drop_mhandle(t, ms)
        if t.line:
            self.flush(t)
        for kind in (WAIT, TIMER):
            self.timers.remove(t, kind)
        self.unmap_all(t)
        t.state = DEAD
        del self.tasks[t.id]
        t.mem = {}
        if fault is not None:
            self.faults.append(fault)
            t.ended = (abi.T_FAULTED, 0)
        else:
            self.exits[t.id] = (t.name, code)
            t.ended = (abi.T_EXITED, code)
        self.supervision_end(t)

    # -- syscalls ---------------------------------------------------------------------------
    def syscall(self, t: Task, num: int, args: list[int]):
        if t.deadline is not None and num in self._bounded:
            return self._bounded[num](t, num, args)
        return self._dispatch[num](t, *args)

    def string(self, i: int) -> str | None:
        return self.program.strings[i] if 0 <= i < len(self.program.strings) else None

    def sys_exit(self, t: Task, code: int):
        """Ends the task with `code` (kernel.md `exit`)."""
        self.end_task(t, code=code)
        return END

    def sys_spawn(self, t: Task, ttype: int, *args: int):
        """A new task at the tail of the ready queue; E_INVAL for an unknown task type,
        E_NOSPACE when max_tasks tasks are alive or TID_INDEX_MAX were started (kernel.md
        `spawn`)."""
        if not 0 <= ttype < len(self.program.tasks):
            return (E["E_INVAL"],)
        if self.taken() >= self.max_tasks or self.spawned >= abi.TID_INDEX_MAX:
            return (E["E_NOSPACE"],)
        return (abi.OK, self.new_task(ttype, args, parent=t.id).id)

    def sys_self(self, t: Task):
        """The caller's id (kernel.md `self`)."""
        return (abi.OK, t.id)

    def sys_yield(self, t: Task):
        """The caller goes to the tail of the ready queue (kernel.md `yield`)."""
        t.regs[isa.A0] = abi.OK
        self.make_ready(t)
        return SWITCH

    def sys_channel(self, t: Task, name: int, kind: int):
        """Create a channel; connect the openers waiting for its name (kernel.md `channel`)."""
        if kind not in (abi.ONE, abi.MANY):
            return (E["E_INVAL"],)
        text = self.string(name)
        if text is None:
            return (E["E_INVAL"],)
        return self.make_channel(t, text.encode(), kind)

    def make_channel(self, t: Task, text: bytes, kind: int):
        """`channel` once its arguments are checked: the channel named `text`."""
        s = self.free_ch(t)
        if s is None:
            return (E["E_NOSPACE"],)
        entry = self.registry.entry(text)
        if entry[0] is not None:
            return (E["E_EXISTS"],)
        c = Channel(text, kind, t, s)
        t.ch[s] = End("one" if kind == abi.ONE else "server", c, side=0)
        entry[0] = c
        name = self.name_event(text)
        self.record("channel", t, s, a=name[0], b=kind, words=name[1], n=name[2])
        openers, entry[1] = entry[1], deque()
        for w in openers:
            if kind == abi.ONE and c.ends[1] is not None:
                self.wake(w, E["E_BUSY"])
                continue
            ws = self.connect(c, w)
            if ws is None:
                self.wake(w, E["E_NOSPACE"])
            else:
                self.record_open(w, ws, name)
                self.wake(w, abi.OK, (ws,))
        return (abi.OK, s)

    def name_event(self, text: bytes) -> tuple[int, tuple[int, ...], int]:
        """The fields of a name in `channel` and `open` events: the first string of that
        text, or for a name that is no string of the program -1, its first 32 bytes in
        four words and its length."""
        if text in self.name_index:
            return self.name_index[text], (), 0
        return -1, pack_name(text)[:abi.MSG_WORDS], len(text)

    def record_open(self, w: Task, s: int, name: tuple) -> None:
        e = w.ch[s]
        self.record("open", w, s, peer=e.chan.ends[0][0], a=name[0],
                    b=e.conn.id if e.conn is not None else 0, words=name[1], n=name[2])

    def sys_open(self, t: Task, name: int):
        """Connect to a named channel, waiting until it exists (kernel.md `open`)."""
        text = self.string(name)
        if text is None:
            return (E["E_INVAL"],)
        return self.open_name(t, text.encode())

    def open_name(self, t: Task, text: bytes):
        """`open` once its name is checked: connect to channel `text`, or wait for it."""
        if self.free_ch(t) is None:
            return (E["E_NOSPACE"],)
        entry = self.registry.entry(text)
        c = entry[0]
        if c is not None:
            if c.kind == abi.ONE and c.ends[1] is not None:
                return (E["E_BUSY"],)
            s = self.connect(c, t)
            self.record_open(t, s, self.name_event(text))
            return (abi.OK, s)
        entry[1].append(t)
        t.open_name = text
        return self.block(t, "open", None)

    def _send(self, t: Task, h: int, words: tuple[int, ...], is_call: bool,
              deadline: int | None = None):
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        if e.kind == "server":
            return (E["E_INVAL"],)
        c = e.chan
        if c.dead:
            return (E["E_CLOSED"],)
        if deadline is not None:                 # call_until: the call waits in any case
            if deadline <= self.now:
                return (E["E_TIMEOUT"],)
            self.timers.push(t, WAIT, deadline)
            t.regs[isa.A0 + 1:isa.A0 + 1 + abi.MSG_WORDS] = words    # where senders keep them
        kind = "call" if is_call else "send"
        if e.kind == "one":
            peer = c.ends[1 - e.side]
            self.record(kind, t, h, peer=peer[0] if peer else 0, words=words)
            if peer is not None and self.waits(peer[0], ("recv",), peer[1]):
                self.record("recv", peer[0], peer[1], peer=t, a=int(is_call), words=words)
                self.wake(peer[0], abi.OK, (peer[1],) + words)
                return self.block(t, "reply", h) if is_call else (abi.OK,)
            if peer is not None:
                self.poke(peer[0], peer[1])
            return self.block(t, kind, h)
        server, ss = c.ends[0]
        self.record(kind, t, h, peer=server, words=words)
        if self.waits(server, ("recv",), ss) or self.typed_match(server, ss, words):
            m = self.new_mhandle(server, e.conn, t, is_call)
            self.record("recv", server, m, peer=t, a=int(is_call), b=e.conn.id, words=words)
            self.wake(server, abi.OK, (m,) + words)
            return self.block(t, "reply", h) if is_call else (abi.OK,)
        c.queue.append(t)
        self.poke(server, ss)
        return self.block(t, "call" if is_call else "send", h)

    def sys_send(self, t: Task, h: int, *words: int):
        """Pass four words; wait until they are taken (kernel.md `send`)."""
        return self._send(t, h, words, False)

    def sys_call(self, t: Task, h: int, *words: int):
        """Pass four words and wait for the reply (kernel.md `call`)."""
        return self._send(t, h, words, True)

    @staticmethod
    def _words(sender: Task, first: int) -> tuple[int, ...]:
        """The message words a waiting sender keeps in its registers from `first` on."""
        return tuple(sender.regs[first:first + abi.MSG_WORDS])

    def _pop_client(self, t: Task, queue: deque, call_wait: str):
        """The head of a server's FIFO, whether it waits for a reply, its connection, and
        the new mhandle of server t that names it."""
        q = queue.popleft()
        is_call = q.wait == call_wait
        conn = q.ch[q.wait_handle].conn
        return q, is_call, conn, self.new_mhandle(t, conn, q, is_call)

    def sys_recv(self, t: Task, h: int):
        """Take a message, waiting for one (kernel.md `recv`)."""
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        c = e.chan
        if e.kind == "server":
            if self.free_mh(t) is None:
                return (E["E_NOSPACE"],)
            self.refuse_moves(t, c.queue)
            if not c.queue:
                return self.block(t, "recv", h)
            moving = c.queue[0].wait in MOVE_WAITS
            q, is_call, conn, m = self._pop_client(t, c.queue, "call_move" if moving else "call")
            words = self._words(q, isa.A0 + 1)
            if moving:
                words = (self.move(q, words[0], t),) + words[1:]
            self.record("recv", t, m, peer=q, a=int(is_call), b=conn.id, words=words)
            if is_call:
                q.wait = "reply"
            else:
                self.wake(q, abi.OK)
            return (abi.OK, m) + words
        if c.dead:
            return (E["E_CLOSED"],)
        if e.kind == "one":
            pt, ps = c.ends[1 - e.side] or (None, None)
            if self.waits(pt, MOVE_WAITS, ps) and self.free_ch(t) is None:
                self.wake(pt, E["E_NOSPACE"])          # it cannot land: the sender fails
            if not self.waits(pt, ("send", "call") + MOVE_WAITS, ps):
                return self.block(t, "recv", h)
            words = self._words(pt, isa.A0 + 1)
            if pt.wait in MOVE_WAITS:
                pt.wait = "call" if pt.wait == "call_move" else "send"
                words = (self.move(pt, words[0], t),) + words[1:]
            self.record("recv", t, h, peer=pt, a=int(pt.wait == "call"), words=words)
            if pt.wait == "call":
                pt.wait = "reply"
            else:
                self.wake(pt, abi.OK)
            return (abi.OK, h) + words
        cn = e.conn
        if cn.pusher is None:
            return self.block(t, "recv", h)
        pusher, cn.pusher = cn.pusher, None
        words = self._words(pusher, isa.A0 + 2)
        self.record("recv", t, h, peer=pusher, words=words)
        self.wake(pusher, abi.OK)
        return (abi.OK, h) + words

    def sys_reply(self, t: Task, h: int, *words: int):
        """Answer a message, never blocking (kernel.md `reply`)."""
        ms = self.mslot_of(t, h)
        if ms is not None:
            if ms.waits and ms.sender.state == BLOCKED and ms.sender.wait == "replybuf":
                return (E["E_INVAL"],)          # a callbuf is answered by replybuf
            woken = ms.waits and self.in_reply(ms.sender)
            self.record("reply", t, h, peer=ms.sender if woken else 0, words=words)
            if woken:
                self.wake(ms.sender, abi.OK, words)
            ms.waits = False
            self.drop_mhandle(t, ms)
            return (abi.OK,)
        e = self.end_of(t, h)
        if e is None:
            return (E["E_BADHANDLE"],)
        if e.kind == "one" and not e.chan.dead:
            peer = e.chan.ends[1 - e.side]
            if peer is not None and self.waits(peer[0], ("reply",), peer[1]):
                self.record("reply", t, h, peer=peer[0], words=words)
                self.wake(peer[0], abi.OK, words)
                return (abi.OK,)
        return (E["E_INVAL"],)

    def sys_close(self, t: Task, h: int):
        """Close a chandle or drop an mhandle (kernel.md `close`)."""
        ms = self.mslot_of(t, h)
        if ms is not None:
            waiting = ms.waits and self.in_any_reply(ms.sender)
            self.record("close", t, h, peer=ms.sender if waiting else 0)
            self.drop_mhandle(t, ms)
            return (abi.OK,)
        if self.end_of(t, h) is None:
            return (E["E_BADHANDLE"],)
        self.record("close", t, h)
        self.close_end(t, h)
        return (abi.OK,)

    def sys_data(self, t: Task, m: int):
        """The per-client word behind mhandle m (kernel.md `data`)."""
        ms = self.mslot_of(t, m)
        if ms is None:
            return (E["E_BADHANDLE"],)
        return (abi.OK, ms.conn.word)

    def sys_set_data(self, t: Task, m: int, v: int):
        """Set the per-client word behind mhandle m (kernel.md `set_data`)."""
        ms = self.mslot_of(t, m)
        if ms is None:
            return (E["E_BADHANDLE"],)
        ms.conn.word = v
        return (abi.OK,)

    def sys_conn(self, t: Task, m: int):
        """The connection id behind mhandle m (kernel.md `conn`)."""
        ms = self.mslot_of(t, m)
        if ms is None:
            return (E["E_BADHANDLE"],)
        return (abi.OK, ms.conn.id)

    def sys_push(self, t: Task, h: int, cid: int, *words: int):
        """Server-initiated send to connection cid; wait until taken (kernel.md `push`)."""
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        if e.kind != "server":
            return (E["E_INVAL"],)
        cn = e.chan.conns.get(cid)
        if cn is None:
            return (E["E_NOCONN"],)
        self.record("push", t, h, peer=cn.client, a=cid, words=words)
        if self.waits(cn.client, ("recv",), cn.slot):
            self.record("recv", cn.client, cn.slot, peer=t, words=words)
            self.wake(cn.client, abi.OK, (cn.slot,) + words)
            return (abi.OK,)
        cn.pusher = t
        t.push_conn = cn
        self.poke(cn.client, cn.slot)
        return self.block(t, "push", h)

    def sys_puts(self, t: Task, s: int):
        """Append string S[s] to the task's line (kernel.md `puts`)."""
        text = self.string(s)
        if text is None:
            return (E["E_INVAL"],)
        self.put(t, text)
        return (abi.OK,)

    def sys_puti(self, t: Task, v: int):
        """Append integer v in decimal to the task's line (kernel.md `puti`)."""
        self.put(t, str(v))
        return (abi.OK,)

    def sys_putnl(self, t: Task):
        """End the task's line and write it to the run's output (kernel.md `putnl`)."""
        self.flush(t)
        return (abi.OK,)

    # -- long messages (docs/kernel.md "Long messages") --------------------------------------
    # A buffer is checked when its syscall is made and kept in the task (bsrc/blen, bdst/
    # bcap); a waiting task's memory does not change, so it stays good. The words move once,
    # from the sender's memory to the receiver's, when the two meet. Buffer messages wait in
    # states of their own (and on a MANY channel in a FIFO of their own): recv never sees
    # them and recvbuf sees nothing else, so a plain message's path is what it was.
    def buf_range(self, t: Task, ref: int, off: int, n: int) -> tuple[int, int] | None:
        """(address, n) of ref[off .. off+n) in t's memory; None when n < 0 or the range is
        not inside the array ref (its length word read as `len` does) and t's memory, in
        exact arithmetic. n = 0 is the empty buffer, whatever ref and off are."""
        if n == 0:
            return (0, 0)
        if n < 0 or off < 0 or not 1 <= ref <= self.mem_words:
            return None
        ln = t.mem.get(ref - 1, 0)
        if off > ln or n > ln - off or off + n > self.mem_words - ref:
            return None
        return (ref + off, n)

    def buf_whole(self, t: Task, ref: int) -> tuple[int, int] | None:
        """(address, length) of array ref of t (0: no buffer, length 0); None when ref is
        not an array inside t's memory."""
        if ref == 0:
            return (0, 0)
        if not 1 <= ref <= self.mem_words:
            return None
        ln = t.mem.get(ref - 1, 0)
        if not 0 <= ln <= self.mem_words - ref:
            return None
        return (ref, ln)

    @staticmethod
    def copy_buf(src: Task, addr: int, n: int, dst: Task, at: int, cap: int) -> None:
        """The one copy of a long message: min(n, cap) words, src's memory to dst's."""
        for i in range(min(n, cap)):
            v = src.mem.get(addr + i, 0)
            if v or at + i in dst.mem:
                dst.mem[at + i] = v

    def _deliver(self, s: Task, r: Task, handle: int, is_call: bool, cid: int,
                 via: str | None = None) -> tuple[int, ...]:
        """r, waiting in recvbuf (or taking s's message now), takes s's buffer message
        (made with `via`: callbuf, sendbuf by default, or pushbuf): the copy, and r's
        results (handle, words, length)."""
        via = via or ("callbuf" if is_call else "sendbuf")
        words = tuple(s.regs[isa.A0 + abi.SYS[via].nargs - abi.BUF_WORDS:][:abi.BUF_WORDS])
        self.record("recv", r, handle, peer=s, a=int(is_call), b=cid, words=words, n=s.blen)
        self.copy_buf(s, s.bsrc, s.blen, r, r.bdst, r.bcap)
        return (handle,) + words + (s.blen,)

    def _sendbuf(self, t: Task, h: int, buf: int, off: int, n: int, rbuf: int,
                 words: tuple[int, ...], is_call: bool):
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        if e.kind != "one" and e.kind != "client":
            return (E["E_INVAL"],)
        src, dst = self.buf_range(t, buf, off, n), self.buf_whole(t, rbuf)
        if src is None or dst is None:
            return (E["E_INVAL"],)
        c = e.chan
        if c.dead:
            return (E["E_CLOSED"],)
        (t.bsrc, t.blen), (t.bdst, t.bcap) = src, dst
        kind, after = ("call", "replybuf") if is_call else ("send", None)
        if e.kind == "one":
            peer = c.ends[1 - e.side]
            self.record(kind, t, h, peer=peer[0] if peer else 0, words=words, n=n)
            if peer is not None and self.waits(peer[0], ("recvbuf",), peer[1]):
                got = self._deliver(t, peer[0], peer[1], is_call, 0)
                self.wake(peer[0], abi.OK, got)
                return self.block(t, after, h) if is_call else (abi.OK,)
            return self.block(t, "callbuf" if is_call else "sendbuf", h)
        server, ss = c.ends[0]
        self.record(kind, t, h, peer=server, words=words, n=n)
        if self.waits(server, ("recvbuf",), ss):
            m = self.new_mhandle(server, e.conn, t, is_call)
            self.wake(server, abi.OK, self._deliver(t, server, m, is_call, e.conn.id))
            return self.block(t, after, h) if is_call else (abi.OK,)
        c.bqueue.append(t)
        return self.block(t, "callbuf" if is_call else "sendbuf", h)

    def sys_sendbuf(self, t: Task, h: int, buf: int, off: int, n: int, *words: int):
        """Three words and buf[off .. off+n); wait until taken (kernel.md `sendbuf`)."""
        return self._sendbuf(t, h, buf, off, n, 0, words, False)

    def sys_callbuf(self, t: Task, h: int, buf: int, off: int, n: int, rbuf: int, *words: int):
        """As sendbuf, then wait for the reply, its buffer into rbuf (kernel.md `callbuf`)."""
        return self._sendbuf(t, h, buf, off, n, rbuf, words, True)

    def sys_recvbuf(self, t: Task, h: int, rbuf: int):
        """Take a buffer message into array rbuf, waiting for one (kernel.md `recvbuf`)."""
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        dst = self.buf_whole(t, rbuf)
        if dst is None:
            return (E["E_INVAL"],)
        c = e.chan
        if e.kind == "client":
            return self._recv_pushbuf(t, h, e.conn, dst)
        if e.kind == "server":
            if self.free_mh(t) is None:
                return (E["E_NOSPACE"],)
            t.bdst, t.bcap = dst
            if not c.bqueue:
                return self.block(t, "recvbuf", h)
            q, is_call, conn, m = self._pop_client(t, c.bqueue, "callbuf")
            got = self._deliver(q, t, m, is_call, conn.id)
        else:
            if c.dead:
                return (E["E_CLOSED"],)
            t.bdst, t.bcap = dst
            q, ps = c.ends[1 - e.side] or (None, None)
            if not self.waits(q, ("sendbuf", "callbuf"), ps):
                return self.block(t, "recvbuf", h)
            is_call = q.wait == "callbuf"
            got = self._deliver(q, t, h, is_call, 0)
        if is_call:
            q.wait = "replybuf"
        else:
            self.wake(q, abi.OK)
        return (abi.OK,) + got

    def sys_replybuf(self, t: Task, h: int, buf: int, off: int, n: int, *words: int):
        """Answer with three words and buf[off .. off+n), never blocking (kernel.md
        `replybuf`): a callbuf gets them in its reply buffer, a call the words alone."""
        ms = self.mslot_of(t, h)
        if ms is not None:
            caller = ms.sender if ms.waits and self.in_any_reply(ms.sender) else None
        else:
            e = self.end_of(t, h)
            if e is None:
                return (E["E_BADHANDLE"],)
            peer = e.chan.ends[1 - e.side] if e.kind == "one" and not e.chan.dead else None
            if peer is None or not self.waits(peer[0], ("reply", "replybuf"), peer[1]):
                return (E["E_INVAL"],)
            caller = peer[0]
        src = self.buf_range(t, buf, off, n)
        if src is None:
            return (E["E_INVAL"],)
        self.record("reply", t, h, peer=caller or 0, words=words, n=n)
        if caller is not None:
            if caller.wait == "replybuf":
                self.copy_buf(t, src[0], n, caller, caller.bdst, caller.bcap)
                self.wake(caller, abi.OK, words + (n,))
            else:
                self.wake(caller, abi.OK, words + (0,))
        if ms is not None:
            ms.waits = False
            self.drop_mhandle(t, ms)
        return (abi.OK,)

    # -- notifications and time (docs/kernel.md, "Notifications and time") ---------------
    def tick(self) -> bool:
        """No task is ready: move the clock to the earliest deadline and fire every entry
        due then, in (deadline, seq) order; again while that readied no task (a periodic
        timer whose task does not wait for it is parked, so each round removes an entry or
        readies a task). Whether a task is ready now."""
        heap = self.timers.heap
        while not self.ready and heap:
            self.now = max(self.now, heap[0][0])
            while heap and heap[0][0] <= self.now:
                deadline, _, t, kind = heap[0]
                self.timers.remove(t, kind)
                if kind == WAIT and t.wait == "sleep":
                    self.record("timeout", t, a=deadline, b=TIMEOUT_OF["sleep"])
                    self.wake(t, abi.OK)
                elif kind == WAIT:
                    t.expiring = deadline
                    self.ready.append(t)
                else:
                    self.fire(t, deadline)
        return bool(self.ready)

    def fire(self, t: Task, deadline: int) -> None:
        """t's timer is due: OR its bits in; a task waiting for them takes them at once and
        the timer goes on, else a periodic timer is parked until the task waits (rearm)."""
        self.record("timer", t, a=deadline, b=t.tm_bits)
        waiting = t.state == BLOCKED and (t.wait == "wait" or t.wait == "select"
                                          and t.sel_mask >> BITS_SLOT & 1 == 1)
        self.signal(t, t.tm_bits)
        if t.tm_period == 0:
            t.tm_bits = 0
        elif waiting:
            self.arm_next(t, deadline, 1)
        else:
            t.tm_parked = deadline

    def arm_next(self, t: Task, last: int, k: int) -> None:
        """t's periodic timer, last due at `last`, next due k periods later (it ends when
        that is past TIME_MAX)."""
        if k <= (abi.TIME_MAX - last) // t.tm_period:
            self.timers.push(t, TIMER, last + k * t.tm_period)
        else:
            t.tm_bits = 0

    def rearm(self, t: Task) -> None:
        """A parked periodic timer goes on at its first tick after now, keeping its phase."""
        if t.tm_parked is not None:
            last, t.tm_parked = t.tm_parked, None
            self.arm_next(t, last, (self.now - last) // t.tm_period + 1)

    def signal(self, t: Task, bits: int) -> None:
        """OR bits into t's pending word; if t waits for them, it takes them and is woken."""
        t.pending |= bits
        if t.pending and t.state == BLOCKED and t.wait == "wait":
            bits, t.pending = t.pending, 0
            self.wake(t, abi.OK, (bits,))
        elif t.pending:
            self.poke(t, BITS_SLOT)

    def timed_block(self, t: Task, wait: str, handle: int | None, deadline: int):
        """Wait until woken or the deadline passes; E_TIMEOUT at once when it has."""
        if deadline <= self.now:
            return (E["E_TIMEOUT"],)
        self.timers.push(t, WAIT, deadline)
        return self.block(t, wait, handle)

    def handle_peer(self, t: Task, h: int) -> "Task | int":
        """The task at the other end of h (notify's rule), or the error code: E_BADHANDLE,
        E_INVAL for a MANY server end, E_CLOSED when no task is there."""
        ms = self.mslot_of(t, h)
        if ms is not None:
            if ms.conn.chan.conns.get(ms.conn.id) is not ms.conn:
                return E["E_CLOSED"]
            return ms.conn.client                # who holds the connection now
        e = self.end_of(t, h)
        if e is None:
            return E["E_BADHANDLE"]
        if e.kind == "server":
            return E["E_INVAL"]
        if e.chan.dead:
            return E["E_CLOSED"]
        end = e.chan.ends[0] if e.kind == "client" else e.chan.ends[1 - e.side]
        if end is None:
            return E["E_CLOSED"]
        return end[0]

    def sys_notify(self, t: Task, h: int, bits: int):
        """OR bits into the pending word of the task at the other end of h, never blocking
        (kernel.md `notify`)."""
        peer = self.handle_peer(t, h)
        if isinstance(peer, int):
            return (peer,)
        self.record("notify", t, h, peer=peer, a=bits)
        self.signal(peer, bits)
        return (abi.OK,)

    def _wait(self, t: Task, deadline: int | None):
        self.rearm(t)
        if t.pending:
            bits, t.pending = t.pending, 0
            return (abi.OK, bits)
        if deadline is None:
            return self.block(t, "wait", None)
        return self.timed_block(t, "wait", None, deadline)

    def sys_wait(self, t: Task):
        """Take and clear the pending bits, waiting until there are some (kernel.md `wait`)."""
        return self._wait(t, None)

    def sys_wait_until(self, t: Task, deadline: int):
        """`wait` ending with E_TIMEOUT at the deadline (kernel.md `wait_until`)."""
        if deadline < 0:
            return (E["E_INVAL"],)
        return self._wait(t, deadline)

    def sys_recv_until(self, t: Task, h: int, deadline: int):
        """`recv` ending with E_TIMEOUT at the deadline (kernel.md `recv_until`)."""
        if deadline < 0:
            return (E["E_INVAL"],)
        got = self.sys_recv(t, h)
        if got is not BLOCK:
            return got
        t.state, t.wait, t.wait_handle = RUNNING, None, None    # recv's wait, made timed
        return self.timed_block(t, "recv", h, deadline)

    def sys_call_until(self, t: Task, h: int, deadline: int, *words: int):
        """`call` ending with E_TIMEOUT at the deadline (kernel.md `call_until`)."""
        if deadline < 0:
            return (E["E_INVAL"],)
        return self._send(t, h, words, True, deadline)

    def expire(self, t: Task) -> None:
        """t, queued when its deadline came, is picked: unless something ended its wait
        meanwhile, the deadline does now. So a message sent at the tick of a deadline by
        a task woken at that tick comes first when that task runs first: the scheduler
        (a seed) decides, as between any two ready tasks."""
        deadline, t.expiring = t.expiring, None
        if t.state != BLOCKED:
            return
        self.record("timeout", t, t.wait_handle or 0, a=deadline, b=TIMEOUT_OF[t.wait])
        self.withdraw(t)
        t.regs[isa.A0] = E["E_TIMEOUT"]
        for i in range(_NRES[t.wait]):
            t.regs[isa.A0 + 1 + i] = 0
        t.wait = t.wait_handle = None

    def withdraw(self, t: Task) -> None:
        """t's wait ends by its deadline: what it left with others goes. An opener leaves
        the name's FIFO; a message still queued on a MANY channel leaves the queue; one
        taken leaves its mhandle answering nobody, so that a later reply through it cannot
        end another call of t; a push is no longer pending. (A ONE end needs none of it:
        its receiver finds a sender by its state, and a reply only answers a call it took.
        The waits that take, recv, recvbuf, wait and select, left nothing.)"""
        if t.wait == "open":
            self.registry.find(t.open_name)[1].remove(t)
            self.registry.drop_if_unused(t.open_name)
            return
        if t.wait == "push":
            t.push_conn.pusher = None
            return
        if t.wait not in ("send", "call", "reply", "sendbuf", "callbuf", "replybuf"):
            return
        e = t.ch[t.wait_handle]
        if e.kind != "client":
            return
        if t.wait in ("send", "call"):
            e.chan.queue.remove(t)
        elif t.wait in ("sendbuf", "callbuf"):
            e.chan.bqueue.remove(t)
        else:
            for ms in e.chan.ends[0][0].mh:
                if ms.used and ms.conn is e.conn and ms.waits:
                    ms.waits = False

    def sys_sleep(self, t: Task, ticks: int):
        """Wait `ticks` ticks of the virtual clock (kernel.md `sleep`)."""
        if not 0 <= ticks <= abi.TIME_MAX - self.now:
            return (E["E_INVAL"],)
        if ticks == 0:
            return (abi.OK,)
        self.timers.push(t, WAIT, self.now + ticks)
        return self.block(t, "sleep", None)

    def sys_now(self, t: Task):
        """The virtual clock (kernel.md `now`)."""
        return (abi.OK, self.now)

    def sys_timer(self, t: Task, bits: int, first: int, period: int):
        """Set (bits 0: stop) the task's timer (kernel.md `timer`)."""
        if first < 0 or period < 0:
            return (E["E_INVAL"],)
        self.timers.remove(t, TIMER)
        t.tm_parked = None
        t.tm_bits, t.tm_period = bits, period
        if bits:
            self.timers.push(t, TIMER, first)
        return (abi.OK,)

    # -- handles on the move (docs/kernel.md, "Handles on the move") ---------------------
    # A message of send_move, call_move or reply_move carries chandle x of its sender as
    # word 0. The sender keeps x while it waits (its table does not change meanwhile); when
    # the message is taken, x leaves its table and lands in the lowest free slot of the
    # receiver's, whose word 0 is that slot. A receiver with no free slot takes nothing: the
    # sender gets E_NOSPACE and the receiver goes on as if the message had not been sent.
    def movable(self, t: Task, h: int, x: int) -> int:
        """OK when chandle x of t may travel in a message on h; else the error."""
        e = self.end_of(t, x)
        if e is None:
            return E["E_INVAL"] if self.mslot_of(t, x) else E["E_BADHANDLE"]
        if e.kind == "server" or x == h:
            return E["E_INVAL"]
        return abi.OK

    def move(self, src: Task, x: int, dst: Task) -> int:
        """Chandle x of src moves to dst's lowest free slot (there is one); that slot."""
        e, src.ch[x] = src.ch[x], None
        s = self.free_ch(dst)
        dst.ch[s] = e
        if e.kind == "one":
            e.chan.ends[e.side] = (dst, s)
        else:
            e.conn.client, e.conn.slot = dst, s
        self.record("move", dst, s, peer=src, a=x)
        return s

    def refuse_moves(self, t: Task, queue: deque) -> None:
        """Server t takes from its FIFO: while t's table is full, each sender at the head
        whose message carries a chandle fails with E_NOSPACE."""
        while queue and queue[0].wait in MOVE_WAITS and self.free_ch(t) is None:
            self.wake(queue.popleft(), E["E_NOSPACE"])

    def _send_move(self, t: Task, h: int, x: int, words: tuple[int, ...], is_call: bool):
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        if e.kind == "server":
            return (E["E_INVAL"],)
        err = self.movable(t, h, x)
        if err != abi.OK:
            return (err,)
        c = e.chan
        if c.dead:
            return (E["E_CLOSED"],)
        kind = "call" if is_call else "send"
        if e.kind == "one":
            r, rs = c.ends[1 - e.side] or (None, None)
        else:
            r, rs = c.ends[0]
        taker = r if self.waits(r, ("recv",), rs) else None
        if taker is not None and self.free_ch(taker) is None:
            return (E["E_NOSPACE"],)
        self.record(kind, t, h, peer=r or 0, words=(x,) + words)
        if taker is None:
            if e.kind == "client":
                c.queue.append(t)
            return self.block(t, kind + "_move", h)
        if e.kind == "one":
            m, cid = rs, 0
        else:
            m, cid = self.new_mhandle(taker, e.conn, t, is_call), e.conn.id
        got = (self.move(t, x, taker),) + words
        self.record("recv", taker, m, peer=t, a=int(is_call), b=cid, words=got)
        self.wake(taker, abi.OK, (m,) + got)
        return self.block(t, "reply", h) if is_call else (abi.OK,)

    def sys_send_move(self, t: Task, h: int, x: int, *words: int):
        """`send` whose word 0 is chandle x, moved to the receiver (kernel.md `send_move`)."""
        return self._send_move(t, h, x, words, False)

    def sys_call_move(self, t: Task, h: int, x: int, *words: int):
        """`call` whose word 0 is chandle x, moved to the receiver (kernel.md `call_move`)."""
        return self._send_move(t, h, x, words, True)

    def sys_reply_move(self, t: Task, h: int, x: int, *words: int):
        """`reply` whose word 0 is chandle x, moved to the caller (kernel.md `reply_move`)."""
        ms = self.mslot_of(t, h)
        if ms is None and self.end_of(t, h) is None:
            return (E["E_BADHANDLE"],)
        err = self.movable(t, h, x)
        if err != abi.OK:
            return (err,)
        if ms is not None:
            if ms.waits and ms.sender.state == BLOCKED and ms.sender.wait == "replybuf":
                return (E["E_INVAL"],)          # a callbuf is answered by replybuf
            if not (ms.waits and self.in_reply(ms.sender)):
                return (E["E_CLOSED"],)         # nobody waits for this answer
            caller = ms.sender
        else:
            e = self.end_of(t, h)
            peer = e.chan.ends[1 - e.side] if e.kind == "one" and not e.chan.dead else None
            if peer is None or not self.waits(peer[0], ("reply",), peer[1]):
                return (E["E_INVAL"],)
            caller = peer[0]
        if self.free_ch(caller) is None:
            return (E["E_NOSPACE"],)
        self.record("reply", t, h, peer=caller, words=(x,) + words)
        self.wake(caller, abi.OK, (self.move(t, x, caller),) + words)
        if ms is not None:
            ms.waits = False
            self.drop_mhandle(t, ms)
        return (abi.OK,)

    def sys_pair(self, t: Task):
        """A new anonymous ONE channel, both ends the caller's (kernel.md `pair`)."""
        free = [s for s in range(abi.CH_SLOTS) if t.ch[s] is None][:2]
        if len(free) < 2:
            return (E["E_NOSPACE"],)
        s0, s1 = free
        c = Channel(None, abi.ONE, t, s0)
        c.ends[1] = (t, s1)
        t.ch[s0], t.ch[s1] = End("one", c, side=0), End("one", c, side=1)
        self.record("pair", t, s0, a=s1)
        return (abi.OK, s0, s1)

    # -- names built at run time ---------------------------------------------------------
    def name_at(self, t: Task, ref: int) -> bytes | None:
        """The name in array ref of t: its words before the first 0 (all of them if none),
        each a byte 1..255, 1 to NAME_MAX of them; None when ref is not an array of t or
        the name is not valid (kernel.md "Names built at run time")."""
        whole = self.buf_whole(t, ref)
        if whole is None or whole[1] == 0:
            return None
        addr, n = whole
        out = bytearray()
        for i in range(min(n, abi.NAME_MAX + 1)):
            v = t.mem.get(addr + i, 0)
            if v == 0:
                break
            if not 1 <= v <= 255:
                return None
            out.append(v)
        return bytes(out) if 1 <= len(out) <= abi.NAME_MAX else None

    def sys_channel_at(self, t: Task, ref: int, kind: int):
        """`channel` named by the name in array ref (kernel.md `channel_at`)."""
        if kind not in (abi.ONE, abi.MANY):
            return (E["E_INVAL"],)
        text = self.name_at(t, ref)
        if text is None:
            return (E["E_INVAL"],)
        return self.make_channel(t, text, kind)

    def sys_open_at(self, t: Task, ref: int):
        """`open` of the name in array ref (kernel.md `open_at`)."""
        text = self.name_at(t, ref)
        if text is None:
            return (E["E_INVAL"],)
        return self.open_name(t, text)
    # -- supervision (docs/kernel.md, "Supervision") ------------------------------------------
    # A task has at most one supervisor, which monitor makes it; an ended task stays in
    # by_index (its index, generation, type and arguments) while it has one, so that the
    # supervisor can read how it ended and restart it; otherwise its index is gone.
    def supervision_end(self, t: Task) -> None:
        """t has ended: the tasks it supervised have none now (an ended one is gone), and
        its own supervisor gets its bits; without one, t is gone."""
        for kid in t.kids.values():
            kid.sup = None
            if kid.state == DEAD:
                del self.by_index[kid.id & abi.TID_INDEX_MAX]
                self.held -= 1
        t.kids = {}
        if t.sup is None:
            del self.by_index[t.id & abi.TID_INDEX_MAX]
            return
        self.held += 1
        self.record("down", t, peer=t.sup, a=t.sup_bits)
        self.signal(t.sup, t.sup_bits)

    def taken(self) -> int:
        """The places of the task table in use: live tasks and those kept for their
        supervisor (max_tasks bounds both)."""
        return len(self.tasks) + self.held

    def task_of(self, tid: int) -> "Task | int":
        """The task id tid names, or the error: E_INVAL for a value that is no task id
        (negative, index 0 or past the tasks started, a generation not reached yet),
        E_CLOSED for a task that is gone or restarted since (a stale id)."""
        if tid < 0:
            return E["E_INVAL"]
        index, gen = abi.tid_parts(tid)
        if not 1 <= index <= self.spawned:
            return E["E_INVAL"]
        w = self.by_index.get(index)
        if w is None:
            return E["E_CLOSED"]
        now_gen = w.id >> abi.TID_SHIFT
        if gen != now_gen:
            return E["E_INVAL"] if gen > now_gen else E["E_CLOSED"]
        return w

    def sys_monitor(self, t: Task, tid: int, bits: int):
        """Supervise task tid: its end ORs bits into t's pending word (kernel.md `monitor`)."""
        w = self.task_of(tid)
        if isinstance(w, int):
            return (w,)
        if w is t or w.host is not None:
            return (E["E_INVAL"],)
        if w.sup is not None and w.sup is not t:
            return (E["E_BUSY"],)
        if w.sup is None:
            w.sup = t
            t.kids[w.id & abi.TID_INDEX_MAX] = w
        w.sup_bits = bits
        self.record("monitor", t, peer=w, a=bits)
        return (abi.OK,)

    def sys_status(self, t: Task, tid: int):
        """How task tid is: alive, exited (with its code) or faulted (kernel.md `status`)."""
        w = self.task_of(tid)
        if isinstance(w, int):
            return (w,)
        return (abi.OK,) + w.ended

    def sys_restart(self, t: Task, tid: int):
        """Start ended task tid again, its index kept, its generation one more (kernel.md
        `restart`)."""
        w = self.task_of(tid)
        if isinstance(w, int):
            return (w,)
        if w.sup is not t:
            return (E["E_INVAL"],)
        if w.state != DEAD:
            return (E["E_BUSY"],)
        gen = (w.id >> abi.TID_SHIFT) + 1
        if gen > abi.TID_GEN_MAX:
            return (E["E_NOSPACE"],)
        self.held -= 1                           # it held its place in the table while ended
        tt = self.program.tasks[w.type]
        n = Task(abi.tid(w.id & abi.TID_INDEX_MAX, gen), w.type, tt.name, tt.entry, w.args,
                 self.mem_words)
        n.sup, n.sup_bits = t, w.sup_bits
        t.kids[n.id & abi.TID_INDEX_MAX] = n
        self.tasks[n.id] = n
        self.by_index[n.id & abi.TID_INDEX_MAX] = n
        self.restarts.append(Restart(w.id, n.id, n.name, t.id, t.name))
        self.record("restart", t, peer=n, a=w.id)
        self.make_ready(n)
        return (abi.OK, n.id)
    # -- many handles, the task's deadline, typed messages ---------------------------------
    def poke(self, t: Task, s: int) -> None:
        """Member s of t's set became ready: a task waiting in select on it takes it."""
        if t.state == BLOCKED and t.wait == "select" and t.sel_mask >> s & 1:
            t.sel_last = s
            member = abi.BITS if s == BITS_SLOT else s
            self.record("select", t, a=member)
            self.wake(t, abi.OK, (member,))

    def member_ready(self, t: Task, s: int) -> bool:
        """A recv (wait for BITS_SLOT) on member s would not wait: a message is there to
        take or the other end is gone."""
        if s == BITS_SLOT:
            return t.pending != 0
        e = t.ch[s]
        c = e.chan
        if e.kind == "server":
            return bool(c.queue)
        if c.dead:
            return True
        if e.kind == "one":
            peer = c.ends[1 - e.side]
            return peer is not None and self.waits(peer[0], ("send", "call"), peer[1])
        return e.conn.pusher is not None

    def select_mask(self, t: Task, ref: int) -> int | tuple[int]:
        """The members of the array ref as a mask of slots, or the error: E_INVAL for no
        array, an empty one, one of more than SELECT_MAX, a member twice or an mhandle;
        E_BADHANDLE for a value that is not a handle of t (the first bad member counts)."""
        span = self.buf_whole(t, ref)
        if span is None or not 1 <= span[1] <= abi.SELECT_MAX:
            return (E["E_INVAL"],)
        mask = 0
        for i in range(span[1]):
            h = t.mem.get(span[0] + i, 0)
            if h == abi.BITS:
                s = BITS_SLOT
            elif self.end_of(t, h) is not None:
                s = h
            else:
                return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
            if mask >> s & 1:
                return (E["E_INVAL"],)
            mask |= 1 << s
        return mask

    def sys_select(self, t: Task, ref: int):
        """Wait until a member of the handle array ref is ready; the one after the member
        taken last, in slot order, comes first (kernel.md `select`)."""
        mask = self.select_mask(t, ref)
        if isinstance(mask, tuple):
            return mask
        if mask >> BITS_SLOT & 1:
            self.rearm(t)
        for j in range(1, BITS_SLOT + 2):
            s = (t.sel_last + j) % (BITS_SLOT + 1)
            if mask >> s & 1 and self.member_ready(t, s):
                t.sel_last = s
                member = abi.BITS if s == BITS_SLOT else s
                self.record("select", t, a=member)
                return (abi.OK, member)
        t.sel_mask = mask
        return self.block(t, "select", None)

    def sys_deadline(self, t: Task, deadline: int):
        """Set the deadline of the task's waits; NEVER: none (kernel.md `deadline`)."""
        if deadline < 0 and deadline != abi.NEVER:
            return (E["E_INVAL"],)
        old = abi.NEVER if t.deadline is None else t.deadline
        t.deadline = None if deadline == abi.NEVER else deadline
        return (abi.OK, old)

    def _send_by_deadline(self, t: Task, num: int, args):
        """A syscall that hands something over, bounded by the task's deadline: past it,
        E_TIMEOUT at once and nothing done; else the wait it makes ends there."""
        if t.deadline <= self.now:
            return (E["E_TIMEOUT"],)
        self.timers.push(t, WAIT, t.deadline)
        got = self._dispatch[num](t, *args)
        if got is not BLOCK:
            self.timers.remove(t, WAIT)
        return got

    def _take_by_deadline(self, t: Task, num: int, args):
        """A syscall that takes something, bounded by the task's deadline: what is there
        is taken at once; past the deadline it does not wait (E_TIMEOUT)."""
        got = self._dispatch[num](t, *args)
        if got is not BLOCK:
            return got
        if t.deadline <= self.now:
            t.state, t.wait, t.wait_handle = RUNNING, None, None
            return (E["E_TIMEOUT"],)
        self.timers.push(t, WAIT, t.deadline)
        return got

    @staticmethod
    def type_matches(want: int, mtype: int) -> bool:
        """recv_type's rule (System V msgrcv's): 0 takes any type, a positive `want` that
        type, a negative one any type from 1 to -want, the lowest first."""
        return want == 0 or mtype == want or want < 0 and 1 <= mtype <= -want

    def typed_match(self, server: Task, ss: int, words) -> bool:
        """server waits in recv_type on ss for a message like this one."""
        return (self.waits(server, ("recvt",), ss)
                and self.type_matches(server.rtype, words[abi.TYPE_WORD]))

    def first_of_type(self, queue: deque, want: int) -> Task | None:
        """The queued sender recv_type takes: the first of the wanted type, or for a
        negative type the first of the lowest type that matches."""
        best = None
        for q in queue:
            mtype = q.regs[isa.A0 + 1 + abi.TYPE_WORD]
            if not self.type_matches(want, mtype):
                continue
            if want >= 0:
                return q
            if best is None or mtype < best.regs[isa.A0 + 1 + abi.TYPE_WORD]:
                best = q
        return best

    def sys_recv_type(self, t: Task, h: int, want: int):
        """recv on a MANY server end of a message whose type matches (kernel.md
        `recv_type`)."""
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        if e.kind != "server":
            return (E["E_INVAL"],)
        if self.free_mh(t) is None:
            return (E["E_NOSPACE"],)
        c = e.chan
        q = self.first_of_type(c.queue, want)
        if q is None:
            t.rtype = want
            return self.block(t, "recvt", h)
        c.queue.remove(q)
        c.queue.appendleft(q)
        return self.sys_recv(t, h)

    # -- shared segments (kernel.md "Shared segments") -------------------------------------
    def seg_of(self, t: Task, ref: int) -> SegMap | None:
        """The live slot of t that ref names, or None."""
        sm = t.segs[ref & (abi.SEG_SLOTS - 1)]
        return sm if sm is not None and sm.ref == ref else None

    @staticmethod
    def free_seg_slot(t: Task) -> int | None:
        return next((i for i, sm in enumerate(t.segs) if sm is None), None)

    @staticmethod
    def map_seg(t: Task, slot: int, seg: Segment, writable: bool) -> int:
        ref = abi.segref(slot, t.seg_gen[slot])
        t.segs[slot] = SegMap(ref, seg, writable)
        return ref

    def unmap(self, t: Task, slot: int) -> None:
        """t lets go of its slot (whose generation moves on, so its reference goes
        stale); the segment goes when neither its creator nor its borrower holds it."""
        seg = t.segs[slot].seg
        t.segs[slot] = None
        t.seg_gen[slot] = (t.seg_gen[slot] + 1) & abi.GEN_MASK
        if seg.owner is t:
            seg.owner = None
        else:
            seg.user = None
        if seg.owner is None and seg.user is None:
            self.seg_words -= seg.n

    def unmap_all(self, t: Task) -> None:
        for slot, sm in enumerate(t.segs):
            if sm is not None:
                self.unmap(t, slot)

    def user_slot(self, seg: Segment) -> int:
        return next(i for i, sm in enumerate(seg.user.segs) if sm is not None and sm.seg is seg)

    def sys_segment(self, t: Task, n: int):
        """A new segment of n zero words, read-write for its creator (kernel.md `segment`)."""
        if not 0 <= n <= abi.SEG_MAX_WORDS:
            return (E["E_INVAL"],)
        slot = self.free_seg_slot(t)
        if slot is None or self.seg_words + n > abi.SEG_TOTAL_WORDS:
            return (E["E_NOSPACE"],)
        self.seg_words += n
        return (abi.OK, self.map_seg(t, slot, Segment(n, t), True))

    def sys_grant(self, t: Task, h: int, ref: int, rights: int):
        """Lend segment ref to the task at the other end of h (kernel.md `grant`)."""
        peer = self.handle_peer(t, h)
        if isinstance(peer, int):
            return (peer,)
        sm = self.seg_of(t, ref)
        if sm is None or sm.seg.owner is not t or rights not in (abi.RO, abi.RW) or peer is t:
            return (E["E_INVAL"],)
        if sm.seg.user is not None:
            return (E["E_BUSY"],)
        slot = self.free_seg_slot(peer)
        if slot is None:
            return (E["E_NOSPACE"],)
        sm.seg.user = peer
        theirs = self.map_seg(peer, slot, sm.seg, rights == abi.RW)
        self.record("grant", t, h, peer=peer, a=rights, b=sm.seg.n, words=(theirs, 0, 0, 0))
        return (abi.OK, theirs)

    def span(self, t: Task, ref: int, off: int, n: int, store: bool):
        """(words, first key) of ref[off .. off+n), n > 0: an array of t's memory, checked
        as a send buffer is, or a segment t holds (writable when store); None if neither."""
        if not abi.SEG_TAG <= ref < 2 * abi.SEG_TAG:
            at = self.buf_range(t, ref, off, n)
            return None if at is None else (t.mem, at[0])
        sm = self.seg_of(t, ref)
        if sm is None or off < 0 or off > sm.seg.n or n > sm.seg.n - off or store and not sm.writable:
            return None
        return sm.seg.words, off

    def sys_copy(self, t: Task, dst: int, doff: int, src: int, soff: int, n: int):
        """dst[doff .. doff+n) = src[soff .. soff+n), arrays or segments of t, as if through
        a temporary (kernel.md `copy`)."""
        if n == 0:
            return (abi.OK,)
        to, fro = self.span(t, dst, doff, n, True), self.span(t, src, soff, n, False)
        if n < 0 or to is None or fro is None:
            return (E["E_INVAL"],)
        words = [fro[0].get(fro[1] + i, 0) for i in range(n)]
        for i, v in enumerate(words):
            if v or to[1] + i in to[0]:
                to[0][to[1] + i] = v
        return (abi.OK,)

    def sys_revoke(self, t: Task, ref: int):
        """Its creator ends the grant of segment ref; its borrower gives it back
        (kernel.md `revoke`)."""
        sm = self.seg_of(t, ref)
        if sm is None:
            return (E["E_INVAL"],)
        seg = sm.seg
        if seg.owner is t:
            if seg.user is not None:
                user = seg.user
                self.record("revoke", t, ref, peer=user, a=0)
                self.unmap(user, self.user_slot(seg))
        else:
            self.record("revoke", t, ref, peer=seg.owner or 0, a=1)
            self.unmap(t, ref & (abi.SEG_SLOTS - 1))
        return (abi.OK,)

    # -- pushbuf: a long message from a server to one of its connections --------------------
    def sys_pushbuf(self, t: Task, h: int, cid: int, buf: int, off: int, n: int, *words: int):
        """push with a buffer: three words and buf[off .. off+n) to connection cid, taken
        by its client's recvbuf; wait until taken (kernel.md `pushbuf`)."""
        e = self.end_of(t, h)
        if e is None:
            return (E["E_INVAL"] if self.mslot_of(t, h) else E["E_BADHANDLE"],)
        if e.kind != "server":
            return (E["E_INVAL"],)
        src = self.buf_range(t, buf, off, n)
        if src is None:
            return (E["E_INVAL"],)
        cn = e.chan.conns.get(cid)
        if cn is None:
            return (E["E_NOCONN"],)
        t.bsrc, t.blen = src
        self.record("push", t, h, peer=cn.client, a=cid, words=words, n=n)
        if self.waits(cn.client, ("recvbuf",), cn.slot):
            self.wake(cn.client, abi.OK, self._deliver(t, cn.client, cn.slot, False, 0, "pushbuf"))
            return (abi.OK,)
        cn.bpusher = t
        return self.block(t, "pushbuf", h)

    def _recv_pushbuf(self, t: Task, h: int, cn: Connection, dst: tuple[int, int]):
        """recvbuf on a client connection: take its pending pushbuf, or wait for one."""
        if cn.chan.dead:
            return (E["E_CLOSED"],)
        t.bdst, t.bcap = dst
        if cn.bpusher is None:
            return self.block(t, "recvbuf", h)
        pusher, cn.bpusher = cn.bpusher, None
        got = self._deliver(pusher, t, h, False, 0, "pushbuf")
        self.wake(pusher, abi.OK)
        return (abi.OK,) + got
