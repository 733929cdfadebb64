"""LLVM IR of the native baselines: a client loop and a server loop per transport.

Each loop passes one 64-bit word per message; the server answers x with x + 1 and the
client checks it. A loop returns n when all n round trips succeeded, else -1 - i (the
round trip that failed), so a broken transport is an error, never a hang of the parent.
"""
from __future__ import annotations

DECLS = """
declare i64 @read(i32, i8*, i64)
declare i64 @write(i32, i8*, i64)
declare i32 @msgsnd(i32, i8*, i64, i32)
declare i64 @msgrcv(i32, i8*, i64, i64, i32)
declare i32 @mq_send(i32, i8*, i64, i32)
declare i64 @mq_receive(i32, i8*, i64, i32*)
declare i8* @memcpy(i8*, i8*, i64)
"""

LIBC = ("read", "write", "msgsnd", "msgrcv", "mq_send", "mq_receive", "memcpy")

# Each transport: (params, send fragment, receive fragment). A fragment leaves its success
# in %ok.<tag>; the word to send is in the message's data word, %pd points at it, %pm at
# the message (type word first, as msgsnd wants it).
_SEND = {
    "rw": "%r.{t} = call i64 @write(i32 %out, i8* %pd, i64 8)\n  %ok.{t} = icmp eq i64 %r.{t}, 8",
    "sysv": "store i64 {mtype}, i64* %mt\n  %r.{t} = call i32 @msgsnd(i32 %q, i8* %pm, i64 8, i32 0)\n"
            "  %ok.{t} = icmp eq i32 %r.{t}, 0",
    "mq": "%r.{t} = call i32 @mq_send(i32 %out, i8* %pd, i64 8, i32 0)\n  %ok.{t} = icmp eq i32 %r.{t}, 0",
}
_RECV = {
    "rw": "%r.{t} = call i64 @read(i32 %in, i8* %pd, i64 8)\n  %ok.{t} = icmp eq i64 %r.{t}, 8",
    "sysv": "%r.{t} = call i64 @msgrcv(i32 %q, i8* %pm, i64 8, i64 {mtype}, i32 0)\n"
            "  %ok.{t} = icmp eq i64 %r.{t}, 8",
    "mq": "%r.{t} = call i64 @mq_receive(i32 %in, i8* %pd, i64 8, i32* null)\n  %ok.{t} = icmp eq i64 %r.{t}, 8",
}
_PARAMS = {"rw": "i32 %out, i32 %in", "sysv": "i32 %q", "mq": "i32 %out, i32 %in",
           "bulk": "i32 %out, i32 %in, i8* %buf, i64 %size"}

# System V routing: requests travel as type 1, replies as type 2 on one queue.
REQUEST, REPLY = 1, 2


def _loop(name: str, kind: str, first: str, second: str, between: str) -> str:
    return f"""
define i64 @{name}({_PARAMS[kind]}, i64 %n) {{
entry:
  %msg = alloca [2 x i64], align 8
  %mt = getelementptr [2 x i64], [2 x i64]* %msg, i64 0, i64 0
  %md = getelementptr [2 x i64], [2 x i64]* %msg, i64 0, i64 1
  %pm = bitcast i64* %mt to i8*
  %pd = bitcast i64* %md to i8*
  store i64 0, i64* %mt
  store i64 0, i64* %md
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %next]
  {first}
  br i1 %ok.a, label %mid, label %fail
mid:
  {between}
  {second}
  br i1 %ok.b, label %next, label %fail
next:
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %n
  br i1 %more, label %loop, label %done
done:
  ret i64 %n
fail:
  %bad = sub i64 -1, %i
  ret i64 %bad
}}
"""


def _client(kind: str) -> str:
    send = _SEND[kind].format(t="a", mtype=REQUEST)
    recv = _RECV[kind].format(t="r", mtype=REPLY)
    # store i, send, receive, then check the answer is i + 1
    first = f"store i64 %i, i64* %md\n  {send}"
    second = (f"{recv}\n  %v = load i64, i64* %md\n  %want = add i64 %i, 1\n"
              f"  %same = icmp eq i64 %v, %want\n  %ok.b = and i1 %ok.r, %same")
    return _loop(f"{kind}_client", kind, first, second, "")


def _server(kind: str) -> str:
    recv = _RECV[kind].format(t="a", mtype=REQUEST)
    send = _SEND[kind].format(t="b", mtype=REPLY)
    between = "%x = load i64, i64* %md\n  %x1 = add i64 %x, 1\n  store i64 %x1, i64* %md"
    return _loop(f"{kind}_server", kind, recv, send, between)


def _bulk(client: bool) -> str:
    """bulk_client / bulk_server: `size` bytes of %buf each way per round trip (io_all)."""
    def move(t: str, fd: str, wr: int) -> str:
        return (f"%r.{t} = call i64 @io_all(i32 {fd}, i8* %buf, i64 %size, i1 {wr})\n"
                f"  %ok.{t} = icmp eq i64 %r.{t}, 0")
    if not client:
        return _loop("bulk_server", "bulk", move("a", "%in", 0), move("b", "%out", 1), "")
    first = ("%w = bitcast i8* %buf to i64*\n  store volatile i64 %i, i64* %w\n  "
             + move("a", "%out", 1))
    second = (move("r", "%in", 0) + "\n  %v = load volatile i64, i64* %w\n"
              "  %same = icmp eq i64 %v, %i\n  %ok.b = and i1 %ok.r, %same")
    return _loop("bulk_client", "bulk", first, second, "")


INDIRECT = """
define i64 @echo(i64 %x) noinline {
  %r = add i64 %x, 1
  ret i64 %r
}

; n calls through a function pointer the optimiser cannot see through; each call's
; argument is the previous result, so the calls cannot overlap
define i64 @indirect_loop(i64 (i64)* %f, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %x = phi i64 [0, %entry], [%y, %loop]
  %y = call i64 %f(i64 %x)
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %n
  br i1 %more, label %loop, label %done
done:
  ret i64 %y
}
"""


# Bulk transfers, the baselines of long messages: `size` bytes each way per round trip
# through a pipe pair or a socketpair (a read or write may move part of it: loop until all
# of it moved), and memcpy of `size` bytes, the limit of any copy. The client writes a
# word that changes every round trip at the front of its buffer and checks that the
# server sent it back, so no round trip can be skipped.
BULK = """
define i64 @io_all(i32 %fd, i8* %buf, i64 %size, i1 %wr) {
entry:
  br label %loop
loop:
  %done = phi i64 [0, %entry], [%done1, %more]
  %left = sub i64 %size, %done
  %p = getelementptr i8, i8* %buf, i64 %done
  br i1 %wr, label %w, label %r
w:
  %rw = call i64 @write(i32 %fd, i8* %p, i64 %left)
  br label %got
r:
  %rr = call i64 @read(i32 %fd, i8* %p, i64 %left)
  br label %got
got:
  %k = phi i64 [%rw, %w], [%rr, %r]
  %bad = icmp sle i64 %k, 0
  br i1 %bad, label %fail, label %more
more:
  %done1 = add i64 %done, %k
  %all = icmp sge i64 %done1, %size
  br i1 %all, label %ok, label %loop
ok:
  ret i64 0
fail:
  ret i64 -1
}

; n copies of size bytes, a to b and back in turn; the first word of each copy is
; read back (volatile), so the optimiser can neither merge nor drop one
define i64 @memcpy_loop(i8* %a, i8* %b, i64 %size, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [0, %entry], [%i1, %loop]
  %acc = phi i64 [0, %entry], [%acc1, %loop]
  %odd = trunc i64 %i to i1
  %dst = select i1 %odd, i8* %a, i8* %b
  %src = select i1 %odd, i8* %b, i8* %a
  call i8* @memcpy(i8* %dst, i8* %src, i64 %size)
  %wp = bitcast i8* %dst to i64*
  %v = load volatile i64, i64* %wp
  %acc1 = add i64 %acc, %v
  %i1 = add i64 %i, 1
  %more = icmp slt i64 %i1, %n
  br i1 %more, label %loop, label %done
done:
  ret i64 %acc1
}
"""


def module() -> str:
    """The whole module: every transport's client and server, and the indirect call."""
    parts = [DECLS, INDIRECT, BULK, _bulk(True), _bulk(False)]
    for kind in ("rw", "sysv", "mq"):
        parts += [_client(kind), _server(kind)]
    return "\n".join(parts)
