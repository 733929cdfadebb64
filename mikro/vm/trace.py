"""IPC trace events: one table of kinds and one record shape for every backend (ORDER EV).

A traced run records an Event at each of the points below, in the order they happen; both
kernels record the same events in the same order with the same fields, so traces can be
compared exactly. `time` is the run's logical clock: the fuel units used by the whole run
before the event (docs/vm.md), which counts the same on every backend. Fields a kind does
not use are 0. A syscall records only when it succeeds; a syscall's own event comes before
the events it causes in other tasks (a `send` to a waiting receiver: `send`, then `recv`).
docs/kernel.md ("Trace") says the same in prose.
"""
from __future__ import annotations

from dataclasses import dataclass

# kind, meaning of task / handle / peer / a / b / words (ORDER EV)
_EVENTS = [
    ("spawn",   "task (0: the boot list) started peer, of task type a; words: its first 4 arguments"),
    ("channel", "task created the channel named S[a], of kind b, as its chandle handle (a "
                "name built at run time: a is -1 when no string of the program is that name, "
                "words hold its first 32 bytes, n its length)"),
    ("open",    "task connected to the channel named S[a] as its chandle handle; peer: the "
                "channel's creator; b: the connection id (MANY) or 0 (a run-time name: as "
                "for channel)"),
    ("send",    "task sent words on handle; peer: the task at the other end (0: nobody yet)"),
    ("call",    "task called with words on handle; peer: as for send"),
    ("recv",    "task took words from peer, to answer through handle; a: 1 when peer waits for "
                "a reply; b: the connection id (MANY server) or 0"),
    ("reply",   "task answered through handle with words; peer: the caller it woke (0: none)"),
    ("push",    "task pushed words on server chandle handle to connection a; peer: its client"),
    ("close",   "task closed handle (a chandle, or an mhandle dropped unanswered); peer: the "
                "caller whose call fails with E_CLOSED (0: none)"),
    ("exit",    "task ended with code a (return or exit)"),
    ("fault",   "task faulted (the reason is in the run's faults)"),
    ("notify",  "task ORed bits a into the pending word of peer, through handle"),
    ("timeout", "the deadline a of task's wait passed: b is the wait, TIMEOUT_WAITS[b] (a recv, "
                "call, send, push or long message's on handle; 0 for the others)"),
    ("timer",   "task's timer fired at tick a, ORing bits b into its pending word"),
    ("move",    "a chandle landed in task's table as handle, moved by peer, whose chandle a it "
                "was (just before the recv that takes its message, just after the reply)"),
    ("pair",    "task created an anonymous ONE channel: its ends are handle (0) and a (1)"),
    # supervision (docs/kernel.md, "Supervision")
    ("monitor", "task became the supervisor of peer, which ORs bits a into its pending word "
                "when it ends"),
    ("down",    "task ended and ORed bits a into the pending word of peer, its supervisor"),
    ("restart", "task, the supervisor, started ended task a again as peer (its new id)"),
    ("select",  "task's select gave member a (a chandle, or BITS for its pending word)"),
    ("grant",   "task lent its segment, of b words, with rights a (RO 1, RW 3) to peer, the task "
                "at the other end of handle; w0: peer's reference to it"),
    ("revoke",  "task ended the grant of its segment handle (a 0: its creator took it from peer) "
                "or gave it back (a 1: peer is its creator, 0 when gone)"),
]

# the waits a deadline ends, by a timeout event's b (recv_type's counts as recv's)
TIMEOUT_WAITS = ("recv", "sleep", "wait", "call", "open", "send", "push", "sendbuf",
                 "callbuf", "recvbuf", "select")

KINDS: tuple[str, ...] = tuple(name for name, _ in _EVENTS)
KIND: dict[str, int] = {name: i for i, name in enumerate(KINDS)}
DOCS: dict[str, str] = dict(_EVENTS)
# n: the length of a long message's buffer (send, call, recv, reply of sendbuf, callbuf,
# recvbuf, replybuf): the words sent, whatever part of them fit the receiver's; 0 otherwise
FIELDS = ("time", "kind", "task", "handle", "peer", "a", "b", "w0", "w1", "w2", "w3", "n")


@dataclass(frozen=True)
class Event:
    time: int                       # fuel units the run had used
    kind: str                       # one of KINDS
    task: int                       # the task the event is about
    handle: int = 0
    peer: int = 0
    a: int = 0
    b: int = 0
    words: tuple[int, ...] = (0, 0, 0, 0)
    n: int = 0                      # a long message's buffer length

    @classmethod
    def from_record(cls, rec) -> "Event":
        """An Event from a flat record in FIELDS order (the native trace buffer)."""
        return cls(rec[0], KINDS[rec[1]], rec[2], rec[3], rec[4], rec[5], rec[6], tuple(rec[7:11]),
                   rec[11])
