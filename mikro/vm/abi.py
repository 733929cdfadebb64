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
    # handles on the move (docs/kernel.md, "Handles on the move"): chandle a1 travels as
    # word 0 and leaves the sender's table as it lands in the receiver's, whose word 0 is
    # its own number for it; anonymous channels; names built at run time in task memory
    ("send_move",  5, 0, True,  "send on a0, moving chandle a1 to the receiver as word 0, "
                                "a2..a4 beside it; wait until taken"),
    ("call_move",  5, 4, True,  "call on a0 moving chandle a1 as word 0 with a2..a4; a1..a4 = reply"),
    ("reply_move", 5, 0, False, "answer handle a0 moving chandle a1 to the caller as word 0, a2..a4"),
    ("pair",       0, 2, False, "a1, a2 = the two ends of a new anonymous ONE channel"),
    ("channel_at", 2, 1, False, "create channel named by array a0, kind a1; a1 = chandle"),
    ("open_at",    1, 1, True,  "connect to the channel named by array a0, waiting until it "
                                "exists; a1 = chandle"),
    # supervision (docs/kernel.md, "Supervision"): a0 is a task id (gen << TID_SHIFT | index)
    ("monitor",    2, 0, False, "supervise task a0: OR bits a1 into the own pending word when it ends"),
    ("restart",    1, 1, False, "start ended task a0 again (a task the caller supervises); a1 = new id"),
    ("status",     1, 2, False, "how task a0 is: a1 = T_ALIVE, T_EXITED or T_FAULTED, a2 = exit code"),
    # many handles, deadlines on every wait, typed messages (docs/kernel.md, "Waiting on
    # many handles", "The task's deadline", "Message types and priorities")
    ("select",     1, 1, True,  "wait until a member of the handle array a0 is ready; a1 = that member"),
    ("deadline",   1, 1, False, "set the deadline of the task's waits to a0 (NEVER: none); a1 = the previous one"),
    ("recv_type",  2, 5, True,  "recv on server end a0 of a message whose type (word 3) matches a1"),
    # shared segments (docs/kernel.md, "Shared segments"): arrays outside task memory that
    # two tasks index at once; the creator grants one to the task at the other end of a handle
    ("segment",    1, 1, False, "a new shared segment of a0 words, zeroed; a1 = its reference"),
    ("grant",      3, 1, False, "lend segment a1 with rights a2 (RO/RW) to the task at the other "
                                "end of a0; a1 = that task's reference to it"),
    ("revoke",     1, 0, False, "end the grant of segment a0 (its creator), or give it back (its borrower)"),
    ("pushbuf",    8, 0, True,  "push a5..a7 and a2[a3 .. a3+a4) to connection a1 of server "
                                "channel a0, for its recvbuf; wait until taken"),
    # controlled nondeterminism (docs/kernel.md, "Schedules"): a value the scheduler decides
    ("choose",     1, 1, False, "a1 = a value from 0 to a0 - 1, decided as a scheduling choice"),
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

# What `status` says of a task: alive (running or waiting), ended by exit or return, faulted
T_ALIVE, T_EXITED, T_FAULTED = 0, 1, 2

# select's member for the task's own notification word, and the deadline that is none
BITS = -1
NEVER = -1

# Predefined constants of the language
# Segment rights of a grant: read only, or read and write
RO = 1
RW = 3

CONSTANTS: dict[str, int] = {"ONE": ONE, "MANY": MANY, "BITS": BITS, "NEVER": NEVER,
                             "RO": RO, "RW": RW,
                             **{name: code for name, (code, _) in ERRORS.items()},
                             "T_ALIVE": T_ALIVE, "T_EXITED": T_EXITED, "T_FAULTED": T_FAULTED}

# Limits
MSG_WORDS = 4            # words per message (the register fast path)
NAME_MAX = 64            # bytes of a channel name built at run time (one byte per word)
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
# A task id is gen << TID_SHIFT | index: the index counts the tasks started (1, 2, ...) and
# stays when a supervisor restarts the task, whose generation (0 at spawn) goes up by one,
# so every id of an earlier generation is stale (docs/kernel.md, "Supervision")
TID_SHIFT = 32
TID_INDEX_MAX = (1 << TID_SHIFT) - 1    # tasks started in a run at most
TID_GEN_MAX = (1 << 31) - 1             # restarts of one task at most: ids stay positive
# the syscalls that cost a unit of the run's fuel (not of the slice) as they start a task:
# without it a chain of tasks that each start the next and end would run on no fuel
FUEL_SYSCALLS = ("spawn", "restart")
SELECT_MAX = CH_SLOTS + 1  # members of a select's set: every chandle and BITS
TYPE_WORD = MSG_WORDS - 1  # the word of a message that recv_type matches (its type)
# Shared segments: a reference is SEG_TAG | gen << SEG_GEN_SHIFT | slot, above any array
# of task memory (at most 2^32 words), so ald/ast/alen tell the two apart by range alone
SEG_SLOTS = 16           # segment slots per task: the segments it made and those lent to it
SEG_TAG = 1 << 62
SEG_GEN_SHIFT = 4
SEG_MAX_WORDS = 1 << 24  # words of one segment (128 MiB)
SEG_TOTAL_WORDS = 1 << 27  # words of all segments alive in a run (1 GiB)


# The seeded scheduler's generator, splitmix64: the step and the two mixing multipliers
SPLITMIX = (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB)
# a run's schedule records at most this many decisions (docs/kernel.md, "Schedules")
DECISIONS_MAX = 1 << 16
HOST_TYPE = -1           # the task type of a host task (its code is a Python handler)


def tid(index: int, gen: int) -> int:
    return gen << TID_SHIFT | index


def tid_parts(t: int) -> tuple[int, int]:
    """(index, gen) of a task id; the caller checks t >= 0."""
    return t & TID_INDEX_MAX, t >> TID_SHIFT


def mhandle(slot: int, gen: int) -> int:
    return (gen & GEN_MASK) << GEN_SHIFT | MH_TAG | slot


def mhandle_parts(h: int) -> tuple[int, int]:
    """(slot, gen) of an mhandle value; the caller checks h >= MH_TAG."""
    return h & (MH_SLOTS - 1), (h >> GEN_SHIFT) & GEN_MASK


def pack_name(name: bytes) -> tuple[int, ...]:
    """A channel name as NAME_MAX // 8 signed words, 8 bytes each, little-endian, padded
    with 0: how the native kernel keeps and compares a name built at run time, and how a
    trace event carries its first 32 bytes."""
    raw = name.ljust(NAME_MAX, b"\0")
    return tuple(int.from_bytes(raw[i:i + 8], "little", signed=True)
                 for i in range(0, NAME_MAX, 8))


def unpack_name(words, n: int) -> bytes:
    """The first n bytes of a name packed as pack_name does."""
    raw = b"".join((w & (2**64 - 1)).to_bytes(8, "little") for w in words)
    return raw[:n]


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
