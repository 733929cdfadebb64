"""The builtins of the language: the syscalls users call by name, and the few others."""
from __future__ import annotations

from ..vm import abi

# name -> (fewest, most) arguments
SYSCALL_ARITY: dict[str, tuple[int, int]] = {
    "exit": (1, 1), "self": (0, 0), "yield": (0, 0), "channel": (2, 2), "open": (1, 1),
    "send": (1, 1 + abi.MSG_WORDS), "call": (1, 1 + abi.MSG_WORDS), "recv": (1, 1),
    "reply": (1, 1 + abi.MSG_WORDS), "close": (1, 1), "data": (1, 1), "set_data": (2, 2),
    "conn": (1, 1), "push": (2, 2 + abi.MSG_WORDS),
    "sendbuf": (4, 4 + abi.BUF_WORDS), "callbuf": (5, 5 + abi.BUF_WORDS), "recvbuf": (2, 2),
    "replybuf": (4, 4 + abi.BUF_WORDS),
    "notify": (2, 2), "wait": (0, 0), "wait_until": (1, 1), "recv_until": (2, 2),
    "sleep": (1, 1), "now": (0, 0), "timer": (3, 3), "call_until": (2, 2 + abi.MSG_WORDS),
    "send_move": (2, 1 + abi.MSG_WORDS), "call_move": (2, 1 + abi.MSG_WORDS),
    "reply_move": (2, 1 + abi.MSG_WORDS), "pair": (0, 0),
    "monitor": (2, 2), "restart": (1, 1), "status": (1, 1),
    "select": (1, 1), "deadline": (1, 1), "recv_type": (2, 2),
    "segment": (1, 1), "grant": (3, 3), "revoke": (1, 1), "pushbuf": (5, 5 + abi.BUF_WORDS),
    "choose": (1, 1),
    "copy": (5, 5),
}
# Where the message words start, for the syscalls that carry a message.
MESSAGE_AT = {"send": 1, "call": 1, "reply": 1, "push": 2, "sendbuf": 4, "callbuf": 5,
              "replybuf": 4, "call_until": 2, "send_move": 1, "call_move": 1, "reply_move": 1,
              "pushbuf": 5}
# The argument that must be a string literal (the channel name).
STRING_ARG = {"channel": 0, "open": 0}
# A name that is not a string literal is an array holding a name built at run time: the
# syscall of that form.
NAME_AT = {"channel": "channel_at", "open": "open_at"}
# The argument that must be a constant expression (the channel kind).
CONST_ARG = {"channel": 1}

OTHER = {"print": (0, None), "assert": (1, 2), "array": (1, 1), "len": (1, 1),
         "put_str": (3, 3)}
NAMES = frozenset(SYSCALL_ARITY) | frozenset(OTHER) | {"spawn"}


def results(name: str) -> int:
    return abi.SYS[name].nres


def describe_arity(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"at least {lo} argument{'s' if lo != 1 else ''}"
    if lo == hi:
        return f"{lo} argument{'s' if lo != 1 else ''}"
    return f"{lo} to {hi} arguments"
