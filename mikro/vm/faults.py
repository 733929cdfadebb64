"""Why a task faults: one table for every backend (docs/vm.md).

A fault is a code and up to three operands; `reason` turns them into the text a report
shows. The interpreter faults with reason(...) directly; the native kernel records the code
and its operands in native memory and Python calls the same function, so the two backends
print the same words.
"""
from __future__ import annotations

from . import abi

# (ORDER FAULT) the native kernel records these numbers: NONE is "no fault"
(NONE, DIV0, MEM, BADARR, INDEX, NEGSIZE, OOM, STACK, BADRET, TRAP, SYS, HOST,
 SEGSTALE, SEGRO) = range(14)

# syscalls whose first argument is a handle (or a task id): a failure names it,
# `send(3) failed: ...`
HANDLE_SYSCALLS = frozenset({"send", "call", "recv", "reply", "close", "data", "set_data",
                             "conn", "push", "sendbuf", "callbuf", "recvbuf", "replybuf",
                             "notify", "recv_until", "call_until", "send_move", "call_move",
                             "reply_move", "monitor", "restart", "status", "recv_type", "grant",
                             "pushbuf"})

_FIXED = {DIV0: "division by zero", BADARR: "bad array reference", OOM: "out of memory",
          STACK: "stack overflow", BADRET: "bad return address",
          SEGSTALE: "stale segment reference (revoked, given back or never made)",
          SEGRO: "store through a read-only segment grant"}


def syscall_failure(name: str, handle: int, status: int) -> str:
    """The reason of a failed syscall made without `try`."""
    what = f"{name}({handle})" if name in HANDLE_SYSCALLS else name
    return f"{what} failed: {abi.ERROR_NAME[status]} ({abi.ERROR_TEXT[status]})"


def reason(code: int, a: int = 0, b: int = 0, c: int = 0, strings=()) -> str:
    """The text of fault `code`: MEM at address a; INDEX a of an array of length b;
    NEGSIZE a; TRAP the string a; SYS: syscall number a on handle b failed with c."""
    if code in _FIXED:
        return _FIXED[code]
    if code == MEM:
        return f"memory access out of bounds at {a}"
    if code == INDEX:
        return f"index {a} out of range for array of length {b}"
    if code == NEGSIZE:
        return f"negative array size {a}"
    if code == TRAP:
        return strings[a]
    if code == SYS:
        return syscall_failure(abi.SYSCALLS[a].name, b, c)
    return f"internal fault {code}"
