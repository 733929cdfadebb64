"""Native kernel structures: one definition gives the LLVM IR types and the ctypes views.

Every scalar field is 64 bits wide and every pointer is a pointer, so LLVM's natural
layout and ctypes' agree without padding rules. Python reads the tables through the
ctypes view (for the run result and tests); the IR reaches fields by name (irb.B.get/put).

A task structure holds what every task needs: its saved registers, its fixed array of
CH_SLOTS chandle slots (16 bytes each) and its bookkeeping. The MH_SLOTS mhandle slots
(16 bytes each) are a table of their own, allocated when the task creates its first MANY
channel (only the creator of a MANY channel receives mhandles) and freed when it ends.
Call chains for reports are not kept per task: a fault's chain is walked straight into
Kernel.chains, and Python walks a waiting task's chain into a scratch buffer.

A chandle slot is {chan, word}: `chan` the channel; `word` the slot kind (bits 0-1) and,
for a ONE channel, the end (bit 2: 0 the creator's, 1 the opener's), or for a MANY client,
the connection's address with the kind in its low bits (kernel objects are 16-byte
aligned). An mhandle slot is {conn, word}: the connection the message came through (its
client is the sender) and handle << 1 | waits: the mhandle of the slot's message (of its
next one while the slot is free; abi.mhandle(slot, gen)) and whether the sender waits for
a reply.
"""
from __future__ import annotations

from typing import Any

import ctypes

from llvmlite import ir

from ...vm import abi, faults, isa

I64 = "i64"

# Task states (internal; waiter states are derived from them in run.py)
READY, RUNNING, DEAD, ST_RECV, ST_SEND, ST_CALL_SEND, ST_CALL_REPLY, ST_OPEN, ST_PUSH = range(9)
# the waits of long messages (recvbuf, sendbuf, callbuf before and after it is taken)
ST_RECVB, ST_SENDB, ST_CALLB_SEND, ST_CALLB_REPLY = range(9, 13)
ST_WAIT, ST_SLEEP = 13, 14          # waiting for notification bits, or for the clock
# a sender whose message carries a chandle (kept in its a1), before the message is taken;
# a call_move then waits for its reply in ST_CALL_REPLY, as a call does
ST_SENDM, ST_CALLM_SEND = 15, 16
NAME_WORDS = abi.NAME_MAX // 8      # a name built at run time, packed (abi.pack_name)
ST_SELECT, ST_RECVT = 17, 18        # waiting in select, or in recv_type for a type
ST_PUSHB = 19                       # a server waiting in pushbuf (Conn.bpusher)

# a timer heap entry (kernel_ir._timers): four words, and the kinds of entry
HEAP_FIELDS = ("deadline", "seq", "task", "pos")       # pos: 2 * task slot + kind
H_WAIT, H_TIMER = 0, 1

# Chandle slot kinds (bits 0-1 of a slot's word), the end bit of a ONE slot, and the low
# bits a connection's address leaves free
K_FREE, K_ONE, K_SERVER, K_CLIENT = range(4)
K_MASK, END_BIT, PTR_LOW = 3, 4, 15

# Fault codes recorded by native code (the one table is mikro.vm.faults)
(F_NONE, F_DIV0, F_MEM, F_BADARR, F_INDEX, F_NEGSIZE, F_OOM, F_STACK, F_BADRET, F_TRAP,
 F_SYS, F_HOST, F_SEGSTALE, F_SEGRO) = (
    faults.NONE, faults.DIV0, faults.MEM, faults.BADARR, faults.INDEX, faults.NEGSIZE,
    faults.OOM, faults.STACK, faults.BADRET, faults.TRAP, faults.SYS, faults.HOST,
    faults.SEGSTALE, faults.SEGRO)

HOST_TYPE = abi.HOST_TYPE

CHAIN_MAX = abi.CHAIN_MAX
# one record per ended task in Kernel.log; fault chains go to Kernel.chains
# a decision in Kernel.xlog: the ways it could go (negated for choose), its value, the
# task it ran (or that chose) and the trace events before it
PLAN_LOG = ("options", "value", "task", "event")     # as mikro.vm.schedule.LOG_WORDS
LOG_FIELDS = ("id", "type", "end_kind", "exit_code", "fault_code", "fault_a", "fault_b",
              "fault_c", "fault_pc", "chain_off", "chain_len", "end_seq")

# one record per restart in Kernel.rlog: the old and new ids, the task's type, the
# supervisor's id and type
RESTART_FIELDS = ("old", "new", "type", "by", "by_type")

# name -> list of (field, type, count); type is I64 or the name of a struct (pointer to it),
# or ("inline", struct) for an embedded array of structs. "i8*" is a byte pointer.
STRUCTS: dict[str, list[tuple]] = {
    "ChSlot": [("chan", "Chan", 1), ("word", I64, 1)],
    "MhSlot": [("conn", "Conn", 1), ("word", I64, 1)],
    "Task": [
        # resume and slice first: at offsets 0 and 8 of a task they cost no address of their
        # own, which LLVM otherwise kept in registers the scheduler loop needs
        ("resume", I64, 1), ("slice", I64, 1), ("state", I64, 1),
        ("wait_handle", I64, 1), ("wait_conn", "Conn", 1), ("qnext", "Task", 1),
        ("id", I64, 1), ("type", I64, 1), ("regs", I64, isa.NREGS), ("slot", I64, 1), ("mem", "i64*", 1), ("heap_top", I64, 1),
        ("ch_used", I64, 1), ("mh_used", I64, 1), ("exit_code", I64, 1), ("end_kind", I64, 1),
        ("end_seq", I64, 1), ("fault_code", I64, 1), ("fault_a", I64, 1), ("fault_b", I64, 1),
        ("fault_c", I64, 1), ("fault_pc", I64, 1), ("chain_off", I64, 1), ("chain_len", I64, 1),
        ("line", "i8*", 1), ("line_len", I64, 1), ("line_cap", I64, 1), ("line_items", I64, 1),
        ("mh", "MhSlot", 1), ("ch", ("inline", "ChSlot"), abi.CH_SLOTS),
        # long messages: the buffer a task sends (word address, length) and the one it
        # receives into (address, capacity), checked when its syscall was made
        ("bsrc", I64, 1), ("blen", I64, 1), ("bdst", I64, 1), ("bcap", I64, 1),
        # notifications and time: the pending bits; its timer's bits and period, and the
        # last tick of a periodic timer parked (tm_parked 1) because the task did not wait
        # when it fired (where its entries are in the timer heap: Kernel.hpos)
        ("pending", I64, 1), ("tm_bits", I64, 1),
        ("tm_period", I64, 1), ("tm_parked", I64, 1), ("tm_last", I64, 1),
        # supervision: the spawn arguments (a restart gives them again); the supervisor and
        # the bits it gets at this task's end; the tasks this one supervises, a list
        # through their `sib`. An ended task with a supervisor keeps its slot (kernel_ir)
        ("args", I64, abi.MAX_TASK_PARAMS), ("sup", "Task", 1), ("sup_bits", I64, 1),
        ("kids", "Task", 1), ("sib", "Task", 1),
        # the deadline of its waits (dl_set 0: none); select's members (sel_mask: chandle
        # slots, sel_bits: the pending word) and the slot it looks at first (one after
        # the member it took last, slot 64 standing for the pending word); the type its
        # recv_type waits for; sel_hint: the chandle slots that became ready since select
        # last found them not ready (a superset of those ready now: select tests only these)
        ("dl", I64, 1), ("dl_set", I64, 1), ("sel_mask", I64, 1), ("sel_bits", I64, 1),
        ("sel_next", I64, 1), ("rtype", I64, 1), ("sel_hint", I64, 1),
        # shared segments: a table of SEG_SLOTS slots, allocated when the task first
        # holds a segment, freed when it ends (segir.py reads it on ald/ast/alen)
        ("segs", "SegSlot", 1),
        # the deadline that came while it waited (0: none): it is queued to run, still
        # waiting, and the deadline ends its wait when it is picked (kernel_ir expire)
        ("exp_at", I64, 1),
        # the set of its last select, as it read it (SELECT_MAX words, allocated by its
        # first select, 0 before), then where it was and what it meant (kernel_ir
        # SEL_KEPT): a task that never selects pays one pointer
        ("sel_copy", "i64*", 1),
    ],
    # a segment slot: key is the reference naming it while in use (0 when free, which no
    # reference is), base and len the segment's words, rw 1 when it may store, gen the
    # generation of its next reference
    "SegSlot": [("key", I64, 1), ("base", "i64*", 1), ("len", I64, 1), ("rw", I64, 1),
                ("seg", "Seg", 1), ("gen", I64, 1)],
    # a segment: its words, held by its creator (owner) and at most one borrower (user,
    # in its slot uslot); freed when neither holds it
    "Seg": [("data", "i64*", 1), ("len", I64, 1), ("owner", "Task", 1), ("user", "Task", 1),
            ("uslot", I64, 1)],
    "Chan": [("name", I64, 1), ("kind", I64, 1), ("dead", I64, 1),
             ("t0", "Task", 1), ("s0", I64, 1), ("t1", "Task", 1), ("s1", I64, 1),
             ("qhead", "Task", 1), ("qtail", "Task", 1),
             # MANY: the open connections in a table by id (kernel_ir._conn_table): conns
             # has conns_cap slots (a power of two, or 0), nlive of them in use; nconns is
             # the last id given. zombies: closed connections that mhandles still name
             ("conns", "Conn*", 1), ("nconns", I64, 1), ("conns_cap", I64, 1),
             ("next_alloc", "i8*", 1), ("nlive", I64, 1), ("zombies", "Conn", 1),
             # MANY: clients waiting in sendbuf/callbuf, a FIFO of their own (recvbuf's)
             ("bqhead", "Task", 1), ("bqtail", "Task", 1),
             # a channel named at run time by a name no string of the program has: its
             # node in the name tree (name is then -1; it is -1 too for `pair`'s)
             ("entry", "Name", 1)],
    "Conn": [("id", I64, 1), ("client", "Task", 1), ("slot", I64, 1), ("word", I64, 1),
             ("chan", "Chan", 1), ("open", I64, 1), ("pusher", "Task", 1),
             ("next_alloc", "i8*", 1), ("next_free", "Conn", 1),
             ("bpusher", "Task", 1)],       # the server waiting in pushbuf to it
    "Reg": [("chan", "Chan", 1), ("whead", "Task", 1), ("wtail", "Task", 1)],
    # a name built at run time that no string of the program is (kernel_ir._names): a
    # registry entry (the fields of Reg first) in a treap ordered by the packed name, with
    # a priority drawn for it; left links the free nodes
    "Name": [("chan", "Chan", 1), ("whead", "Task", 1), ("wtail", "Task", 1),
             ("left", "Name", 1), ("right", "Name", 1), ("parent", "Name", 1),
             ("prio", I64, 1), ("len", I64, 1), ("key", I64, NAME_WORDS)],
    # the program's tables, for the native interpreter (vmloop.py), whose code is the same
    # for every program; the compiled tiers have them built into their code instead
    "Prog": [("code", "i64*", 1), ("ncode", I64, 1), ("consts", "i64*", 1),
             ("strs", "i8*", 1), ("soff", "i64*", 1), ("slen", "i64*", 1),
             ("nstrings", I64, 1), ("names", "i64*", 1), ("retsite", "i8*", 1),
             ("entries", "i64*", 1), ("ntypes", I64, 1), ("keys", "i64*", 1),
             ("nkeys", I64, 1), ("key_of", "i64*", 1),
             # the strings that are valid run-time names, sorted by packed name: rows of
             # NAME_WORDS words and the name's registry index (kernel_ir.literal_names)
             ("lits", "i64*", 1), ("nlits", I64, 1)],
    "Kernel": [
        ("tasks", "Task", 1), ("ntasks", I64, 1), ("task_cap", I64, 1), ("alive", I64, 1),
        ("free", "i64*", 1), ("nfree", I64, 1), ("nslots", I64, 1),
        ("log", "i8*", 1), ("log_len", I64, 1), ("log_cap", I64, 1),
        ("chains", "i8*", 1), ("chains_len", I64, 1), ("chains_cap", I64, 1),
        ("budget", I64, 1), ("rq_stop", I64, 1),
        ("max_alive", I64, 1), ("mem_base", "i64*", 1), ("mem_words", I64, 1),
        ("ready", "Task*", 1), ("rq_head", I64, 1), ("rq_tail", I64, 1), ("rq_mask", I64, 1),
        ("cur", "Task", 1), ("fuel", I64, 1), ("seed", I64, 1), ("rng", I64, 1),
        ("out", "i8*", 1), ("out_len", I64, 1), ("out_cap", I64, 1),
        ("reg", "Reg", 1), ("end_seq", I64, 1), ("allocs", "i8*", 1), ("oom", I64, 1),
        # a traced build appends TRACE_FIELDS records here; an event's time is
        # trace_base - fuel (Python sets trace_base for each call into native code)
        ("trace", "i8*", 1), ("trace_len", I64, 1), ("trace_cap", I64, 1),
        ("trace_base", I64, 1), ("trace_lost", I64, 1),
        ("prog", "Prog", 1),
        ("conn_free", "Conn", 1),       # connections' storage to reuse (kernel_ir._conn_table)
        # the virtual clock and the timer heap (HEAP_FIELDS words an entry); hpos[2 * slot
        # + kind]: the index + 1 of the entry of that kind of the task in that slot
        ("now", I64, 1), ("heap", "i64*", 1), ("heap_len", I64, 1), ("heap_cap", I64, 1),
        ("heap_seq", I64, 1), ("hpos", "i64*", 1),
        # names built at run time: the treap's root, its free nodes, the priorities drawn
        ("names", "Name", 1), ("names_free", "Name", 1), ("names_seq", I64, 1),
        # supervision: idmap[index] is the slot of the task of that index (of its last
        # generation), for the tasks the run started, at most idmap_cap; a restart appends
        # RESTART_FIELDS words to rlog
        # held: the ended tasks kept for their supervisor, which hold their slots and count
        # against max_alive as live tasks do
        ("idmap", "i64*", 1), ("idmap_cap", I64, 1), ("held", I64, 1),
        ("rlog", "i8*", 1), ("rlog_len", I64, 1), ("rlog_cap", I64, 1),
        ("seg_words", I64, 1),          # words of the segments alive (abi.SEG_TOTAL_WORDS)
        # a planned run (kernel_ir._plan, mikro.vm.schedule): the tail's code (0: no plan),
        # the planned values, the decisions made, 1 + the first that did not fit, the
        # random tail's generator, pct's priorities and change points, the log (PLAN_LOG
        # words a decision) and the trace events Python holds before this call
        ("xmode", I64, 1), ("xdec", "i64*", 1), ("xdlen", I64, 1), ("xmade", I64, 1),
        ("xbad", I64, 1), ("xrng", I64, 1), ("xprio", "i64*", 1), ("xnprio", I64, 1),
        ("xchanges", "i64*", 1), ("xnchanges", I64, 1), ("xchanged", I64, 1),
        ("xlog", "i64*", 1), ("xevents", I64, 1),
        # 1: entry 0 of the heap is a hole, the root tick took last (kernel_ir heap_fill)
        ("heap_hole", I64, 1),
    ],
}

ORDER = ["ChSlot", "MhSlot", "Task", "SegSlot", "Seg", "Chan", "Conn", "Reg", "Name", "Prog",
         "Kernel"]


class Layout:
    """IR types of the kernel structures, made in one ir.Context."""

    def __init__(self, ctx: ir.Context):
        self.ctx = ctx
        self.types = {name: ctx.get_identified_type("mk." + name) for name in ORDER}
        self.index: dict[str, dict[str, int]] = {}
        for name in ORDER:
            body, idx = [], {}
            for i, (fname, ftype, count) in enumerate(STRUCTS[name]):
                t = self._ir(ftype)
                body.append(ir.ArrayType(t, count) if count > 1 else t)
                idx[fname] = i
            self.types[name].set_body(*body)
            self.index[name] = idx

    def _ir(self, ftype) -> ir.Type:
        if ftype == I64:
            return ir.IntType(64)
        if ftype == "i8*":
            return ir.IntType(8).as_pointer()
        if ftype == "i64*":
            return ir.IntType(64).as_pointer()
        if isinstance(ftype, tuple):
            return self.types[ftype[1]]
        if ftype.endswith("*"):
            return self.types[ftype[:-1]].as_pointer().as_pointer()
        return self.types[ftype].as_pointer()

    def ptr(self, name: str) -> ir.PointerType:
        return self.types[name].as_pointer()


def _ctypes_structs() -> dict[str, Any]:      # ctypes.Structure subclasses
    out: dict[str, type] = {}
    for name in ORDER:
        fields = []
        for fname, ftype, count in STRUCTS[name]:
            t: Any
            if ftype == I64:
                t = ctypes.c_int64
            elif isinstance(ftype, tuple):
                t = out[ftype[1]]
            else:
                t = ctypes.c_void_p
            fields.append((fname, t * count if count > 1 else t))
        out[name] = type(name, (ctypes.Structure,), {"_fields_": fields})
    return out


C = _ctypes_structs()
CTask, CKernel, CConn = C["Task"], C["Kernel"], C["Conn"]
MH_TABLE_BYTES = ctypes.sizeof(C["MhSlot"]) * abi.MH_SLOTS   # a MANY server's mhandle table
SEG_TABLE_BYTES = ctypes.sizeof(C["SegSlot"]) * abi.SEG_SLOTS  # a segment holder's table
