"""The syscall ABI: syscall numbers, error codes and limits (ORDER SYS).

One home for each table; the compiler, both kernels, the docs and the tests read them
from here. docs/kernel.md specifies each syscall in prose.

Calling a syscall: `sys N` (N | TRY to ask for a status instead of a fault).
Arguments in a0.., status in a0 (0 or an E_ code), results in a1.. .
"""
from __future__ import annotations

from dataclasses import dataclass

TRY = 0x100          # flag in the `sys` immediate: report errors in a0, do not fault
SYS_MASK = 0xFF


@dataclass(frozen=True)
class Syscall:
    num: int
    name: str        # the builtin's name in the language
    nargs: int       # argument registers read: a0 .. a(nargs-1)
    nres: int        # result registers written: a1 .. a(nres)
    blocks: bool     # may block the caller
    doc: str


_SYSCALLS = [
    # name        args res blocks  meaning
    ("exit",       1, 0, False, "end the task with code a0"),
    ("spawn",      7, 1, False, "start task type a0 with arguments a1..a6; a1 = task id"),
    ("self",       0, 1, False, "a1 = own task id"),
    ("yield",      0, 0, False, "give way to the other ready tasks"),
    ("channel",    2, 1, False, "create channel named S[a0], kind a1 (ONE/MANY); a1 = chandle"),
    ("open",       1, 1, True,  "connect to channel named S[a0], waiting until it exists; a1 = chandle"),
    ("send",       5, 0, True,  "send words a1..a4 on handle a0; wait until taken"),
    ("call",       5, 4, True,  "send a1..a4 on a0 and wait for the reply; a1..a4 = reply"),
    ("recv",       1, 5, True,  "wait for a message on a0; a1 = handle to answer, a2..a5 = words"),
    ("reply",      5, 0, False, "answer the message behind handle a0 with a1..a4"),
    ("close",      1, 0, False, "close chandle a0 or drop mhandle a0"),
    ("data",       1, 1, False, "a1 = per-client word of the connection behind mhandle a0"),
    ("set_data",   2, 0, False, "set the per-client word of mhandle a0's connection to a1"),
    ("conn",       1, 1, False, "a1 = id of the connection behind mhandle a0"),
    ("push",       6, 0, True,  "send a2..a5 to connection a1 of server channel a0; wait until taken"),
    ("puts",       1, 0, False, "print string S[a0] (space-separated; line kept per task)"),
    ("puti",       1, 0, False, "print integer a0 (space-separated; line kept per task)"),
    ("putnl",      0, 0, False, "end the task's output line"),
    # long messages: three words and a buffer, copied once from the sender's memory to the
    # receiver's when they meet (docs/kernel.md "Long messages"); they meet only each other
    ("sendbuf",    7, 0, True,  "send words a4..a6 and a1[a2 .. a2+a3) on a0; wait until taken"),
    ("callbuf",    8, 4, True,  "send a5..a7 and a1[a2 .. a2+a3) on a0, the reply's buffer to "
                                "array a4; a1..a3 = reply words, a4 = reply length"),
    ("recvbuf",    2, 5, True,  "wait for a buffer message on a0 into array a1; a1 = handle, "
                                "a2..a4 = words, a5 = length sent"),
    ("replybuf",   7, 0, False, "answer handle a0 with a4..a6 and a1[a2 .. a2+a3)"),
    # notifications and time (docs/kernel.md, "Notifications and time")
    ("notify",     2, 0, False, "OR bits a1 into the pending word of the task at the other end of a0"),
    ("wait",       0, 1, True,  "take and clear the pending bits, waiting until some; a1 = bits"),
    ("wait_until", 1, 1, True,  "wait, but with E_TIMEOUT at deadline a0; a1 = bits"),
    ("recv_until", 2, 5, True,  "recv on a0, but with E_TIMEOUT at deadline a1"),
    ("sleep",      1, 0, True,  "wait a0 ticks of the virtual clock"),
    ("now",        0, 1, False, "a1 = the virtual clock, in ticks"),
    ("timer",      3, 0, False, "OR bits a0 into the own pending word at a1, then every a2 ticks (0: once); a0 = 0 stops it"),
    ("call_until", 6, 4, True,  "call on a0 with a2..a5, but with E_TIMEOUT at deadline a1; a1..a4 = reply"),
    # shared segments (docs/kernel.md, "Shared segments"): arrays outside task memory that
    # two tasks index at once; the creator grants one to the task at the other end of a handle
    ("segment",    1, 1, False, "a new shared segment of a0 words, zeroed; a1 = its reference"),
    ("grant",      3, 1, False, "lend segment a1 with rights a2 (RO/RW) to the task at the other "
                                "end of a0; a1 = that task's reference to it"),
    ("revoke",     1, 0, False, "end the grant of segment a0 (its creator), or give it back (its borrower)"),
    ("pushbuf",    8, 0, True,  "push a5..a7 and a2[a3 .. a3+a4) to connection a1 of server "
                                "channel a0, for its recvbuf; wait until taken"),
    ("copy",       5, 0, False, "copy a4 words from a2[a3 ..] to a0[a1 ..]: arrays or segments of the caller"),
]

SYSCALLS: tuple[Syscall, ...] = tuple(Syscall(i, *row) for i, row in enumerate(_SYSCALLS))
SYS: dict[str, Syscall] = {s.name: s for s in SYSCALLS}

# Error codes: 0 is success; each error is negative. (ORDER ERR)
ERRORS: dict[str, tuple[int, str]] = {
    "E_BADHANDLE": (-1, "not a handle of this task (never opened, closed, stale or of the wrong kind)"),
    "E_CLOSED":    (-2, "the other end is gone, or the message was dropped unanswered"),
    "E_NOSPACE":   (-3, "the handle table (or the task table) is full"),
    "E_EXISTS":    (-4, "a channel of that name exists already"),
    "E_BUSY":      (-5, "a ONE channel has its opener already, or a segment its borrower"),
    "E_INVAL":     (-6, "the operation does not apply to this handle or argument"),
    "E_NOCONN":    (-7, "no connection with that id on this server channel"),
    "E_TIMEOUT":   (-8, "the deadline passed before the wait ended"),
}
ERROR_NAME: dict[int, str] = {code: name for name, (code, _) in ERRORS.items()}
ERROR_TEXT: dict[int, str] = {code: text for _, (code, text) in ERRORS.items()}
OK = 0

# Channel kinds
ONE = 1
MANY = 2

# Predefined constants of the language
# Segment rights of a grant: read only, or read and write
RO = 1
RW = 3

CONSTANTS: dict[str, int] = {"ONE": ONE, "MANY": MANY, "RO": RO, "RW": RW,
                             **{name: code for name, (code, _) in ERRORS.items()}}

# Limits
MSG_WORDS = 4            # words per message (the register fast path)
BUF_WORDS = 3            # words beside the buffer of a long message
CH_SLOTS = 64            # chandle slots per task: chandles are 0..63
MH_SLOTS = 64            # mhandle slots per task
MH_TAG = 64              # an mhandle has this bit set (so it never equals a chandle)
GEN_SHIFT = 7            # mhandle = gen << GEN_SHIFT | MH_TAG | slot
# 56 bits: a slot's generation wraps only after 2^56 messages through it (years at full
# speed), so a stale mhandle never names a later message; mhandles stay below 2^63
GEN_MASK = (1 << 56) - 1
MAX_TASK_PARAMS = 6      # spawn passes the task type in a0 and arguments in a1..a6
MAX_FN_PARAMS = 8        # a0..a7
MAX_CODE = 1 << 16       # VM instructions in a program: compiling more to machine code takes
                         # gigabytes (the x86 backend compiles a program as one function)
MEM_WORDS = 1 << 15      # task memory, in 64-bit words (256 KiB), default
MIN_MEM_WORDS = 1        # a task has some memory
MAX_MEM_WORDS = 1 << 32  # 32 GiB: the x86 backend reserves a task's memory up front, and
                         # this much address space is there on every 64-bit system
QUANTUM = 1000           # fuel units a task runs before it is preempted
CHAIN_MAX = 64           # return addresses a report's call chain holds at most
MAX_TASKS = 1 << 20      # tasks alive at once, default
TIME_MAX = (1 << 63) - 1  # the last tick of the virtual clock: deadlines are 0..TIME_MAX
# Shared segments: a reference is SEG_TAG | gen << SEG_GEN_SHIFT | slot, above any array
# of task memory (at most 2^32 words), so ald/ast/alen tell the two apart by range alone
SEG_SLOTS = 16           # segment slots per task: the segments it made and those lent to it
SEG_TAG = 1 << 62
SEG_GEN_SHIFT = 4
SEG_MAX_WORDS = 1 << 24  # words of one segment (128 MiB)
SEG_TOTAL_WORDS = 1 << 27  # words of all segments alive in a run (1 GiB)


# The seeded scheduler's generator, splitmix64: the step and the two mixing multipliers
SPLITMIX = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
HOST_TYPE = -1           # the task type of a host task (its code is a Python handler)


def mhandle(slot: int, gen: int) -> int:
    return (gen & GEN_MASK) << GEN_SHIFT | MH_TAG | slot


def mhandle_parts(h: int) -> tuple[int, int]:
    """(slot, gen) of an mhandle value; the caller checks h >= MH_TAG."""
    return h & (MH_SLOTS - 1), (h >> GEN_SHIFT) & GEN_MASK


def is_chandle(h: int) -> bool:
    return 0 <= h < CH_SLOTS


def is_mhandle(h: int) -> bool:
    return MH_TAG <= h < (GEN_MASK + 1) << GEN_SHIFT and h & MH_TAG != 0


def segref(slot: int, gen: int) -> int:
    """The reference naming segment slot `slot` in its generation `gen`."""
    return SEG_TAG | (gen & GEN_MASK) << SEG_GEN_SHIFT | slot


# Run statuses and the exit codes of `mikro run` (ORDER STATUS)
EXIT_CODES: dict[str, int] = {
    "clean": 0,
    "compile_error": 1,
    "usage": 2,          # typer's code for a bad command line
    "fault": 3,
    "deadlock": 4,
    "limit": 5,
    "io_error": 6,       # file not found, unreadable or malformed .mko image
    "test_failed": 7,    # `mikro test`: a test or a program did not pass
    "interrupted": 130,  # Ctrl-C
}
