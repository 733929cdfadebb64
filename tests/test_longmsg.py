"""Long messages (docs/kernel.md "Long messages"): sendbuf, callbuf, recvbuf, replybuf.

Every program runs on the reference interpreter and on the three x86 tiers, paused and
moved between tiers, traced and untraced (test_x86_diff.same): all must agree exactly, and
each test also checks what the run printed against what docs/kernel.md says it must."""
from __future__ import annotations

from mikro.lang import compile_source
from mikro.vm import abi, interp
from mikro.vm.options import RunOptions
from test_x86_diff import same

E = {name: code for name, (code, _) in abi.ERRORS.items()}


def check(src: str, want: str, status: str = "clean", traced: bool = True, name: str = "lm.mk",
          **kw):
    program = compile_source(src, name)
    got = same(program, traced=traced, **kw)
    assert got.status == status, got.report(program)
    assert got.output == want
    return program, got


ONE = """
task a {
    let c = channel("p", ONE)
    let r = array(4)
    let m, x, y, z, n = recvbuf(c, r)          # b sent first: it waited, now taken
    print("a got", m, x, y, z, n, r[0], r[1], r[2], r[3])
    yield()
    let m2, op, _, _, n2 = recvbuf(c, r)        # a waits first; b's 8 words cut to 4
    print("a got call", m2, op, n2, r[0], r[3])
    let out = array(6)
    let i = 0
    while i < 6 { out[i] = 100 + i; i += 1 }
    replybuf(c, out, 1, 5, 7, 8, 9)             # 5 words, 3 fit
}
task b {
    let c = open("p")
    let s = array(8)
    let i = 0
    while i < 8 { s[i] = i * i; i += 1 }
    sendbuf(c, s, 2, 3, 1, 2, 3)
    let back = array(3)
    let w0, w1, w2, n = callbuf(c, s, 0, 8, back, 42)
    print("b reply", w0, w1, w2, n, back[0], back[1], back[2])
}
spawn a()
spawn b()
"""


def test_one_channel_both_orders_cut_to_fit_and_full_length_reported():
    program, _ = check(ONE, "a got 0 1 2 3 3 4 9 16 0\na got call 0 42 8 0 9\n"
                            "b reply 7 8 9 5 101 102 103\n")
    trace = interp.run(program, RunOptions(trace=True)).trace     # x86's is the same (same)
    lens = [(e.kind, e.n) for e in trace if e.kind in ("send", "call", "recv", "reply")]
    assert lens == [("send", 3), ("recv", 3), ("call", 8), ("recv", 8), ("reply", 5)]
    # the listing and the sequence chart show the buffer's length beside the words
    from mikro import tracechart
    listing = tracechart.format_trace(trace, program)
    assert "send     ch0 -> a#1  [1 2 3] +3 words" in listing
    assert "reply    ch0 -> b#2  [7 8 9] +5 words" in listing
    assert "call [42] +8 words" in tracechart.mermaid(trace, program)


MANY = """
task server {
    let ch = channel("s", MANY)
    let r = array(16)
    loop {
        let m, op, k, _, n = recvbuf(ch, r)
        let sum = 0
        let i = 0
        while i < n && i < len(r) { sum += r[i]; i += 1 }
        let out = array(k)
        i = 0
        while i < k { out[i] = op * 1000 + i; i += 1 }
        replybuf(m, out, 0, k, sum, n, conn(m))
    }
}
task client(id, n, k) {
    let c = open("s")
    let a = array(n)
    let i = 0
    while i < n { a[i] = id; i += 1 }
    let back = array(4)
    let sum, got, cid, rn = callbuf(c, a, 0, n, back, id, k)
    print(id, sum, got, cid, rn, back[0], back[1], back[2], back[3])
}
spawn server()
spawn client(1, 3, 2)
spawn client(2, 20, 4)
spawn client(3, 0, 9)
"""


def test_many_channel_queued_clients_in_order_server_idle_in_recvbuf_is_clean():
    check(MANY, "1 3 3 1 2 1000 1001 0 0\n2 32 20 2 4 2000 2001 2002 2003\n"
                "3 0 0 3 9 3000 3001 3002 3003\n")
    for seed in (1, 2, 3):
        program = compile_source(MANY, "lm.mk")
        assert same(program, seed=seed).status == "clean"


def test_sendbuf_to_a_many_server_and_no_buffers_at_all():
    check("""
task server {
    let ch = channel("s", MANY)
    let r = array(2)
    let m, x, _, _, n = recvbuf(ch, r)
    print("one-way", x, n, r[0], r[1])
    replybuf(m, 0, 0, 0)                 # answers nobody: the sender did not wait
    print("stale", try replybuf(m, 0, 0, 0), try reply(m))
    let m2, y, _, _, n2 = recvbuf(ch, 0)  # no buffer: nothing lands, the length is told
    print("no room", y, n2)
    replybuf(m2, 0, 0, 0, 5)
}
task client {
    let c = open("s")
    let a = array(3)
    a[0] = 7; a[1] = 8; a[2] = 9
    sendbuf(c, a, 1, 2, 11)
    print("reply", callbuf(c, a, 0, 3, 0, 12))
}
spawn server()
spawn client()
""", "one-way 11 2 8 9\nstale -1 -1\nno room 12 3\nreply 5\n")


def test_replybuf_answers_a_plain_call_with_words_and_reply_refuses_a_callbuf():
    check("""
task server {
    let ch = channel("s", MANY)
    let m, x = recv(ch)
    let b = array(2)
    replybuf(m, b, 0, 2, x + 1, x + 2, x + 3)     # a plain call: the words, then 0
    let m2, y, _, _, n = recvbuf(ch, 0)
    print("reply", try reply(m2, 1), E_INVAL)      # refused, m2 still good
    replybuf(m2, 0, 0, 0, y)
}
task client {
    let c = open("s")
    let a, b, d, e = call(c, 10)
    print(a, b, d, e)
    print(callbuf(c, 0, 0, 0, 0, 99))
}
spawn server()
spawn client()
""", "11 12 13 0\nreply -6 -6\n99\n")


def test_plain_and_long_messages_do_not_meet():
    """recv takes no buffer message and recvbuf no plain one: both wait (a deadlock)."""
    program, r = check("""
task server {
    let ch = channel("s", MANY)
    recvbuf(ch, 0)
}
task client {
    let c = open("s")
    call(c, 1)
}
task one {
    let c = channel("o", ONE)
    recv(c)
}
task other {
    let c = open("o")
    sendbuf(c, 0, 0, 0, 1)
}
spawn server()
spawn client()
spawn one()
spawn other()
""", "", status="deadlock")
    assert [(w.name, w.state) for w in r.waiting] == [
        ("server", "recvbuf"), ("client", "call"), ("one", "recv"), ("other", "sendbuf")]
    assert "waits in sendbuf(0)" in r.report(program)


def test_close_fails_waiting_long_messages():
    check("""
task server {
    let ch = channel("s", MANY)
    let m, _, _, _, _ = recvbuf(ch, 0)
    close(m)                              # the caller's callbuf fails
    yield()
    close(ch)                             # the queued sendbuf fails
}
task c1 {
    let c = open("s")
    print("c1", try callbuf(c, 0, 0, 0, 0))
}
task c2 {
    let c = open("s")
    yield()
    print("c2", try sendbuf(c, 0, 0, 0))
}
task o1 {
    let c = channel("o", ONE)
    yield()
    close(c)
}
task o2 {
    let c = open("o")
    print("o2", try recvbuf(c, 0))
}
spawn server()
spawn c1()
spawn c2()
spawn o1()
spawn o2()
""", "c1 -2\no2 -2\nc2 -2\n")


BAD = """
task main {
    let ch = channel("s", MANY)
    let o = channel("o", ONE)
    let c = open("s")
    let a = array(4)
    let f = array(2)
    f[0] = -5                             # f + 1 is a forged array of length -5
    f[1] = 1000000                        # f + 2 is a forged array of 10^6 words
    print("n<0", try sendbuf(c, a, 0, -1))
    print("off<0", try sendbuf(c, a, -1, 2))
    print("past end", try sendbuf(c, a, 3, 2), try sendbuf(c, a, 4, 1))
    print("huge", try sendbuf(c, a, 1, 9223372036854775807),
          try sendbuf(c, a, 9223372036854775807, 1))
    print("not an array", try sendbuf(c, 0, 0, 1), try sendbuf(c, -5, 0, 1),
          try sendbuf(c, 1 << 40, 0, 1))
    print("forged", try sendbuf(c, f + 2, 40000, 1), try callbuf(c, 0, 0, 0, f + 2))
    print("negative length word", try recvbuf(o, f + 1))
    print("rbuf", try callbuf(c, a, 0, 1, -1), try recvbuf(ch, 99999999))
    print("handles", try sendbuf(ch, a, 0, 1), try pushbuf(c, 1, a, 0, 1), try sendbuf(63, a, 0, 1),
          try replybuf(c, a, 0, 1), try replybuf(200, a, 0, 1))
}
spawn main()
"""


def test_bad_buffers_and_handles_give_errors_and_move_nothing():
    inval, bad = E["E_INVAL"], E["E_BADHANDLE"]
    check(BAD, "\n".join([
        f"n<0 {inval}", f"off<0 {inval}", f"past end {inval} {inval}", f"huge {inval} {inval}",
        f"not an array {inval} {inval} {inval}", f"forged {inval} {inval}",
        f"negative length word {inval}", f"rbuf {inval} {inval}",
        f"handles {inval} {inval} {bad} {inval} {bad}"]) + "\n",
        mem_words=4096)


def test_a_failed_long_message_without_try_faults_naming_the_line():
    program, r = check("""
task main {
    let c = channel("o", ONE)
    let a = array(2)
    sendbuf(c, a, 1, 2)
}
spawn main()
""", "", status="fault")
    assert r.report(program).startswith(
        "fault in task main#1 at lm.mk:5: sendbuf(0) failed: E_INVAL (")


def test_words_beyond_three_are_a_compile_error():
    import pytest
    from mikro.lang import CompileError
    with pytest.raises(CompileError) as e:
        compile_source("task t { sendbuf(0, 0, 0, 0, 1, 2, 3, 4) }\n", "lm.mk")
    assert "E0403" in e.value.render() and "beside its buffer" in e.value.render()


def test_a_large_buffer_moves_exactly():
    n = 20000
    check(f"""
task server {{
    let ch = channel("s", MANY)
    let r = array({n})
    loop {{
        let m, _, _, _, k = recvbuf(ch, r)
        replybuf(m, r, 0, k)              # echo it back
    }}
}}
task client {{
    let c = open("s")
    let a = array({n})
    let i = 0
    while i < {n} {{ a[i] = i * 7919 + 1; i += 1 }}
    let b = array({n})
    let _, _, _, k = callbuf(c, a, 0, {n}, b)
    let bad = 0
    i = 0
    while i < {n} {{ if b[i] != i * 7919 + 1 {{ bad += 1 }} i += 1 }}
    print(k, bad)
}}
spawn server()
spawn client()
""", f"{n} 0\n", traced=False, mem_words=65536)


# -- hostile programs: buffers at the edges of a task's memory, in hand-written VM code ------
MIN, MAX = -(1 << 63), (1 << 63) - 1


def _try(sys: str, *args: int) -> str:
    """`sys try NAME` with s0 (the handle) in a0 and the given arguments, then print a0."""
    regs = "".join(f"li a{i}, {v}\n" if -(1 << 31) <= v < 1 << 31 else f"lk a{i}, {v}\n"
                   for i, v in enumerate(args, 1))
    return f"mov a0, s0\n{regs}sys try {sys}\nmov s5, a0\nmov a0, s5\nsys puti\n"


def test_buffers_at_the_edges_of_memory_are_checked_exactly():
    """Memory of 16 words: a receive buffer may end at the top word and no further; a send
    range may reach the top whatever length word a forged reference claims; no reference
    or length, however large, reads or writes outside the two buffers."""
    from mikro.vm.asm import assemble as asm
    recv_bad = "".join(_try("recvbuf", ref) for ref in (17, 0x1_0000_0001, MIN, MAX, -1))
    send_bad = "".join(_try("sendbuf", *a) for a in (
        (1, 1, 15), (1, 0, 16), (1, MAX, MAX), (1, MAX, 1), (1, 0, MIN), (1, MIN, 1),
        (16, 0, 1), (17, 0, 1), (MIN, 0, 1), (MAX, 0, 1)))
    text = f"""
    .task rcv
    .task snd
    .boot rcv
    .boot snd
    rcv:
        li a0, "x"
        li a1, 1
        sys channel
        mov s0, a1
        li s1, 5
        st s1, zero, 11          ; ref 12 claims 5 words: one past the top
        {_try("recvbuf", 12)}
        sys putnl
        {recv_bad}
        sys putnl
        li s1, 4
        st s1, zero, 11          ; ref 12 of 4 words ends at the top word
        mov a0, s0
        li a1, 12
        sys recvbuf
        mov s6, a5
        ld s1, zero, 11
        ld s2, zero, 12
        ld s3, zero, 15
        mov a0, s6
        sys puti
        mov a0, s1
        sys puti
        mov a0, s2
        sys puti
        mov a0, s3
        sys puti
        sys putnl
        li a0, 0
        sys exit
    snd:
        li a0, "x"
        sys open
        mov s0, a1
        li s1, 15
        st s1, zero, 0           ; ref 1: an array of the 15 words up to the top
        li s2, 1
    fill:
        addi s3, s2, 100
        st s3, s2, 0
        addi s2, s2, 1
        li s4, 16
        blt s2, s4, fill
        {send_bad}
        sys putnl
        lk s1, {MAX}
        st s1, zero, 0           ; a forged length: the range still ends at the top
        mov a0, s0
        li a1, 1
        li a2, 0
        li a3, 15
        li a4, 0
        li a5, 0
        li a6, 0
        sys sendbuf
        li a0, 0
        sys exit
    """
    program = asm(text)
    r = same(program, traced=True, mem_words=16)
    inval = E["E_INVAL"]
    assert r.status == "clean", r.report(program)
    assert r.output.splitlines() == [
        f"{inval}", " ".join([str(inval)] * 5), " ".join([str(inval)] * 10),
        "15 4 101 104"]


def test_every_alignment_and_length_of_a_copy_moves_exactly():
    """The native copy moves whole vectors between a head and a tail of single words, and
    runs backward when the receiver's buffer lies just past the sender's modulo 4 KiB:
    ranges of every length around the vector sizes, at every offset, into buffers at
    every alignment, arrive word for word (the reference kernel's copy is the spec)."""
    check("""
task echo {
    let ch = channel("e", MANY)
    let pad = array(20)                     # r lies 8 to 168 bytes past main's ranges
    let r = array(200)                      # (modulo 4 KiB): those copies run backward
    loop {
        let m, _, _, _, n = recvbuf(ch, r)
        replybuf(m, r, 0, n)
    }
}
task main {
    let c = open("e")
    let a = array(300)
    let i = 0
    while i < 300 { a[i] = i * 1000003 + 17; i += 1 }
    let sizes = array(9)
    sizes[0] = 31; sizes[1] = 32; sizes[2] = 33; sizes[3] = 40; sizes[4] = 63
    sizes[5] = 64; sizes[6] = 65; sizes[7] = 100; sizes[8] = 150
    let bad = 0
    let p = 0
    while p < 9 {
        let pad = array(p)                  # b starts one word further each time
        let b = array(170)
        let off = 0
        while off < 10 {
            let k = 0
            while k < 9 {
                let n = sizes[k]
                let _, _, _, got = callbuf(c, a, off + p, n, b)
                let j = 0
                while j < n { if b[j] != a[off + p + j] { bad += 1 } j += 1 }
                if got != n { bad += 1 }
                k += 1
            }
            off += 3
        }
        p += 1
    }
    print("wrong", bad)
}
spawn echo()
spawn main()
""", "wrong 0\n", traced=False)


PUSHBUF = """
task server {
    let ch = channel("feed", MANY)
    let m, _ = recv(ch)
    let id = conn(m)
    reply(m)
    let data = array(10)
    let i = 0
    while i < 10 { data[i] = i * 3; i += 1 }
    pushbuf(ch, id, data, 2, 5, 7, 8)           # the client is not there yet: wait
    pushbuf(ch, id, data, 0, 10, 1)             # 10 words, 4 fit
    push(ch, id, 99)                            # plain: only its recv takes it
    let seg = segment(2)
    let e1 = try pushbuf(ch, id, data, 5, 6)    # past the array's end
    let e2 = try pushbuf(ch, id, data, 0, -1)
    let e3 = try pushbuf(ch, id, data, 0, 9223372036854775807)
    let e4 = try pushbuf(ch, id, seg, 0, 1)     # a segment is no buffer
    let e5 = try pushbuf(ch, 9, data, 0, 1)
    let e6 = try pushbuf(m, id, data, 0, 1)     # m was answered: no longer a handle
    print("server", e1, e2, e3, e4, e5, e6)
    let m2, _ = recv(ch)
    pushbuf(ch, id, data, 0, 1)                 # the client closes first: E_CLOSED
}
task client {
    let c = open("feed")
    call(c)
    let r = array(4)
    yield()
    let h, a, b, x, n = recvbuf(c, r)
    print("client", h, a, b, x, n, r[0], r[3])
    let h2, a2, _, _, n2 = recvbuf(c, r)
    print("client", a2, n2, r[0], r[3])
    let e, _, _, _, _, _ = try recvbuf(c, segment(1))
    let _, w = recv(c)
    print("push", w, e)
    send(c)
    close(c)
}
spawn server()
spawn client()
"""


def test_pushbuf_carries_a_buffer_to_a_clients_recvbuf():
    inval = E["E_INVAL"]
    program, got = check(PUSHBUF, f"client 0 7 8 0 5 6 15\nclient 1 10 0 9\npush 99 {inval}\n"
                                  f"server {inval} {inval} {inval} {inval} {E['E_NOCONN']} "
                                  f"{E['E_BADHANDLE']}\n", status="fault")
    assert "pushbuf(0) failed: E_CLOSED" in got.report(program)
    trace = interp.run(program, RunOptions(trace=True)).trace
    pushes = [(e.kind, e.words[0], e.n) for e in trace if e.kind == "push" or
              (e.kind == "recv" and e.task == 2)]
    assert pushes == [("push", 7, 5), ("recv", 7, 5), ("push", 1, 10), ("recv", 1, 10),
                      ("push", 99, 0), ("recv", 99, 0), ("push", 0, 1)]


PUSHBUF_CLOSE = """
task server {
    let ch = channel("feed", MANY)
    let m, _ = recv(ch)
    reply(m)
    close(ch)                                   # the client waiting in recvbuf: E_CLOSED
}
task client {
    let c = open("feed")
    call(c)
    let e, _, _, _, _, _ = try recvbuf(c, 0)
    let f, _, _, _, _, _ = try recvbuf(c, 0)
    print(e, f)
}
spawn server()
spawn client()
"""


def test_a_client_in_recvbuf_gets_closed_when_its_server_closes():
    check(PUSHBUF_CLOSE, f"{E['E_CLOSED']} {E['E_CLOSED']}\n")


def test_a_server_stuck_in_pushbuf_is_a_deadlock_naming_it():
    program, got = check("""
task server {
    let ch = channel("feed", MANY)
    let m, _ = recv(ch)
    let id = conn(m)
    reply(m)
    pushbuf(ch, id, 0, 0, 0, 5)                 # the client only takes plain pushes
}
task client {
    let c = open("feed")
    call(c)
    recv(c)
}
spawn server()
spawn client()
""", "", status="deadlock")
    assert [(w.name, w.state) for w in got.waiting] == [("server", "pushbuf"), ("client", "recv")]
    assert "server#1 waits in pushbuf(0) at lm.mk:7" in got.report(program)
