"""Waiting on many handles (select), the task's deadline on every wait (deadline) and typed
messages (recv_type), docs/kernel.md: each program runs on the reference interpreter and
on the three x86 tiers, traced and not, and every field of the results must agree
(test_x86_diff.same) before its output is checked."""
from __future__ import annotations

from mikro.vm import abi
from test_events import out, run

E = {name: code for name, (code, _) in abi.ERRORS.items()}
INVAL, BADH, TIMEOUT = E["E_INVAL"], E["E_BADHANDLE"], E["E_TIMEOUT"]


# -- select ---------------------------------------------------------------------------------
def test_select_serves_every_kind_of_member_and_an_always_ready_one_starves_none():
    src = """
task server {
    let a = channel("a", MANY)
    let b = channel("b", MANY)
    let one = channel("one", ONE)
    let set = array(4)
    set[0] = b; set[1] = BITS; set[2] = one; set[3] = a
    let n = 0
    while n < 14 {
        let h = select(set)
        if h == BITS {
            print("bits", wait())
        } else {
            let err, m, x = try recv(h)
            if err == 0 {
                print(h, x)
                reply(m, x)
            } else {
                print("closed", h)          # and ready from now on: a and b still come
                sleep(1)                    # (once their clients have called again)
            }
        }
        n += 1
    }
}
task busy(which, base) {
    let c = 0
    if which == 0 { c = open("a") } else { c = open("b") }
    let i = 0
    while i < 4 { call(c, base + i); i += 1 }
}
task peer {
    let o = open("one")
    call(o, 100)
    notify(o, 2)
    call(o, 101)
}
spawn server()
spawn busy(0, 10)
spawn busy(1, 20)
spawn peer()
"""
    # slot order from the one after the member taken last: a (0), b (1), one (2), BITS
    assert out(src) == ("0 10\n1 20\n2 100\n0 11\n1 21\n2 101\nbits 2\n0 12\n1 22\n"
                        "closed 2\n0 13\n1 23\nclosed 2\nclosed 2\n")


def test_select_wakes_for_a_message_a_push_a_signal_or_a_peer_that_goes():
    src = """
task server {
    let s = channel("s", MANY)
    let m, x = recv(s)
    let id = conn(m)
    reply(m)
    sleep(5)
    push(s, id, 7)
    sleep(5)
}
task client {
    let c = open("s")
    let o = channel("o", ONE)
    let set = array(2)
    set[0] = c; set[1] = BITS
    call(c, 1)
    let h = select(set)                 # the push
    let _, w = recv(h)
    print("push", h, w, now())
    h = select(set)                     # the server ended: its connection is ready
    print("gone", h, try recv(c), now())
    set[0] = o                          # (and stays ready: it leaves the set)
    h = select(set)                     # the other end of o sends
    let err, _, v = try recv(h)
    print("one", h, err, v, now())
    h = select(set)                     # ... signals, then goes
    print("bits", h, wait(), now())
    h = select(set)
    print("closed", h, try recv(o))
}
task other {
    let o = open("o")
    sleep(20)
    send(o, 9)
    sleep(5)
    notify(o, 1)
}
spawn server()
spawn client()
spawn other()
"""
    c = E["E_CLOSED"]
    assert out(src) == (f"push 0 7 5\ngone 0 {c} 10\none 1 0 9 20\nbits -1 1 25\n"
                        f"closed 1 {c}\n")


def test_select_sees_a_sender_that_waited_before_the_end_was_opened():
    src = """
task creator {
    let o = channel("o", ONE)
    send(o, 5)                          # waits: nobody has opened o yet
    let s = channel("s", MANY)
    sleep(10)
    send(o, 6)
}
task opener {
    sleep(5)
    let o = open("o")
    let set = array(1)
    set[0] = o
    print("ready", select(set), recv(o), now())
    print("ready", select(set), recv(o), now())
}
spawn creator()
spawn opener()
"""
    assert out(src) == "ready 0 0 5\nready 0 0 15\n"


def test_select_refuses_a_bad_set_with_the_documented_errors():
    src = """
fn try_set(set) {
    let err, h = try select(set)
    return err
}
task main {
    let a = channel("a", MANY)
    let b = channel("b", ONE)
    let s1 = array(2)
    s1[0] = a; s1[1] = a
    let s2 = array(2)
    s2[0] = BITS; s2[1] = BITS
    let s3 = array(1)
    s3[0] = 5                           # a slot not in use
    let s4 = array(1)
    s4[0] = 1000                        # forged: no handle at all
    let s5 = array(66)
    let s6 = array(0)
    let s7 = array(2)
    s7[0] = b; s7[1] = -2
    print(try_set(s1), try_set(s2), try_set(s3), try_set(s4), try_set(s5), try_set(s6))
    print(try_set(0), try_set(-3), try_set(1 << 40), try_set(s7))
    close(b)
    let s8 = array(1)
    s8[0] = b                           # closed
    print(try_set(s8))
    select(s1)
}
spawn main()
"""
    program, r = run(src)
    assert r.output == (f"{INVAL} {INVAL} {BADH} {BADH} {INVAL} {INVAL}\n"
                        f"{INVAL} {INVAL} {INVAL} {BADH}\n{BADH}\n")
    assert r.status == "fault"
    assert r.faults[0].reason == f"select failed: E_INVAL ({abi.ERROR_TEXT[INVAL]})"
    line = src.splitlines().index("    select(s1)") + 1
    assert f"ev.mk:{line}:" in r.report(program)


def test_select_reads_its_set_again_when_it_changed_in_place():
    src = """
task main {
    let a = channel("a", ONE)
    let b = channel("b", ONE)
    let set = array(2)
    set[0] = a; set[1] = BITS
    timer(1, now(), 0)
    sleep(1)                            # a bit is pending: select gives BITS at once
    print(select(set), select(set))
    set[1] = a                          # the same array, now a member twice
    print(try select(set))
    set[1] = b
    close(b)                            # a member closed since
    print(try select(set))
    set[1] = BITS
    close(a)
    print(try select(set))
    let c = channel("c", ONE)           # the slot of a again, a valid handle
    print(select(set), c)
}
spawn main()
"""
    assert out(src) == f"-1 -1\n{INVAL}\n{BADH}\n{BADH}\n-1 0\n"


def test_select_refuses_an_mhandle_and_a_selecting_task_is_idle_at_the_end():
    src = """
task server {
    let s = channel("s", MANY)
    let m, x = recv(s)
    let set = array(2)
    set[0] = s; set[1] = m
    print(try select(set))
    reply(m)
    set[1] = BITS
    select(set)
}
task client { call(open("s"), 1) }
spawn server()
spawn client()
"""
    program, r = run(src)
    assert r.status == "clean" and r.output == f"{INVAL}\n"
    assert [(w.state, w.handle) for w in r.waiting] == [("select", None)]


# -- the task's deadline ----------------------------------------------------------------------
def test_a_deadline_ends_every_kind_of_wait_and_leaves_nothing_behind():
    src = """
task server {
    let s = channel("s", MANY)
    sleep(100)                          # every client gives up meanwhile
    deadline(now())                     # past: a wait that takes polls
    print("queued", try recvbuf(s, 0))
    deadline(NEVER)
    let m, x = recv(s)                  # the one call still queued
    print("took", x)
    sleep(100)                          # its caller gives up
    print("late reply", try reply(m, 1))
    deadline(now() + 10)
    print("push", try push(s, 99, 1), try push(s, 1, 1), now())
    deadline(now() + 10)
    print("recv", try recv(s), now())
    deadline(now() + 10)
    print("recvbuf", try recvbuf(s, 0), now())
    let set = array(1)
    set[0] = s
    deadline(now() + 10)
    print("select", try select(set), now())
    deadline(now() + 10)
    print("type", try recv_type(s, 3), now())
}
task client {
    let c = open("s")
    deadline(10)
    let e1 = try send(c, 1)
    deadline(20)
    print("send", e1, "call", try call(c, 2), now())
    deadline(30)
    let e2 = try sendbuf(c, 0, 0, 0)
    deadline(40)
    print("sendbuf", e2, "callbuf", try callbuf(c, 0, 0, 0, 0), now())
    deadline(NEVER)
    wait()
}
task caller {
    let c = open("s")
    sleep(5)
    deadline(now() + 150)
    print("taken call", try call(c, 3), now())
    deadline(now() + 10)
    print("open", try open("nobody"), now())
    deadline(now() + 10)
    print("wait", try wait(), now())
}
spawn server()
spawn client()
spawn caller()
"""
    program, r = run(src)
    assert r.output == (
        f"send {TIMEOUT} call {TIMEOUT} 20\n"
        f"sendbuf {TIMEOUT} callbuf {TIMEOUT} 40\n"
        f"queued {TIMEOUT}\ntook 3\n"
        f"taken call {TIMEOUT} 155\n"
        f"open {TIMEOUT} 165\nwait {TIMEOUT} 175\n"
        "late reply 0\n"
        f"push {E['E_NOCONN']} {TIMEOUT} 210\n"
        f"recv {TIMEOUT} 220\nrecvbuf {TIMEOUT} 230\n"
        f"select {TIMEOUT} 240\ntype {TIMEOUT} 250\n"), r.output
    assert r.status == "clean", r.report(program)
    # each wait that a deadline ended is a timeout event naming its kind of wait
    kinds = [e.b for e in r.trace if e.kind == "timeout" and e.b != 1]     # not sleep's
    assert kinds == [5, 3, 7, 8, 3, 4, 2, 6, 0, 9, 10, 0]


def test_deadline_values_and_a_deadline_already_past():
    src = """
task server {
    let s = channel("s", MANY)
    let m, x = recv(s)
    print("got", x)
    reply(m)
}
task main {
    print(deadline(5), deadline(NEVER), try deadline(-2), try deadline(-1 << 63))
    print(deadline(9223372036854775807), deadline(NEVER))
    let c = open("s")
    deadline(0)                         # past: what hands over fails at once, doing nothing
    print("send past", try send(c, 1), try call(c, 2), try open("s"))
    let s2 = channel("t", MANY)
    print("recv past", try recv(s2), now())
    deadline(NEVER)
    call(c, 3)                          # the server never saw 1 or 2
}
spawn server()
spawn main()
"""
    program, r = run(src)
    assert r.output == (f"-1 5 {INVAL} {INVAL}\n-1 {abi.TIME_MAX}\n"
                        f"send past {TIMEOUT} {TIMEOUT} {TIMEOUT}\nrecv past {TIMEOUT} 0\n"
                        "got 3\n")


def test_a_task_waiting_with_its_deadline_is_not_deadlocked():
    src = """
task main {
    deadline(1000)
    let c = open("never")
}
task other {
    let o = channel("x", ONE)
    let set = array(1)
    set[0] = o
    deadline(50)
    send(o, 1)
}
task spinner {
    loop { }
}
spawn main()
spawn other()
spawn spinner()
"""
    program, r = run(src, fuel=3000)
    assert r.status == "limit"
    assert [(w.state, w.deadline) for w in r.waiting] == [("open", 1000), ("send", 50),
                                                           ("ready", None)]
    assert "waits in send(0) until tick 50 (not deadlocked" in r.report(program)


# -- message types and priorities -------------------------------------------------------------
def test_recv_type_takes_a_type_or_the_most_urgent_first_fifo_among_equals():
    src = """
task server {
    let s = channel("s", MANY)
    sleep(10)                           # every client has queued
    let i = 0
    while i < 3 {
        let m, x, _, _, ty = recv_type(s, 7)
        print("type 7:", x)
        reply(m)
        i += 1
    }
    deadline(now())                     # past: take what is queued, never wait
    loop {
        let err, m, x, _, _, ty = try recv_type(s, -3)
        if err != 0 { break }
        print("urgent:", x, ty)
        reply(m)
    }
    let m, x, _, _, ty = recv(s)
    print("fifo:", x, ty)
    reply(m)
}
task client(x, ty) { call(open("s"), x, 0, 0, ty) }
task late {
    let c = open("s")
    sleep(20)
    call(c, 99, 0, 0, 7)
}
spawn server()
spawn client(1, 3)
spawn client(2, 7)
spawn client(3, 0)
spawn client(4, 1)
spawn client(5, 3)
spawn client(6, 7)
spawn client(7, 2)
spawn client(8, 1)
spawn late()
"""
    program, r = run(src, fuel=200_000)
    assert r.status == "clean", r.report(program)
    # the third of type 7 comes later: the server waits for it (a message of another type
    # does not wake it); then types 1 to 3, the lowest first, in FIFO order among equals
    assert r.output == ("type 7: 2\ntype 7: 6\ntype 7: 99\nurgent: 4 1\nurgent: 8 1\n"
                        "urgent: 7 2\nurgent: 1 3\nurgent: 5 3\nfifo: 3 0\n")


def test_recv_type_waits_for_a_match_and_refuses_other_ends():
    src = """
task server {
    let s = channel("s", MANY)
    let o = channel("o", ONE)
    print(try recv_type(o, 1), try recv_type(99, 1))
    let m, x = recv_type(s, -2)         # waits: the first message (type 5) does not match
    print("urgent", x, now())
    reply(m)
    let m2, x2 = recv_type(s, 0)
    print("any", x2, now())
    reply(m2)
}
task client(x, ty, at) {
    let c = open("s")
    sleep(at)
    call(c, x, 0, 0, ty)
}
spawn server()
spawn client(1, 5, 3)
spawn client(2, 2, 7)
"""
    assert out(src) == f"{INVAL} {BADH}\nurgent 2 7\nany 1 7\n"


# -- exploration: a deadline against a message at the same tick --------------------------------
RACE = """
task server {
    let s = channel("s", MANY)
    let err, m, x = try recv_until(s, 100)
    if err == 0 { print("server: message first", x); reply(m) }
    else { print("server: timeout first") }
    let e2, bits = try wait_until(200)
    if e2 == 0 { print("server: bits first", bits) } else { print("server: timeout first") }
}
task client {
    let c = open("s")
    sleep(100)                          # due at the tick of the server's deadline
    let err = try call_until(c, 150, 7)
    sleep(100)
    notify(c, 1)
}
spawn server()
spawn client()
"""


def test_a_seed_decides_whether_a_deadline_or_a_message_of_its_tick_comes_first():
    """A deadline that comes ends the wait when its task next runs, so a task woken at
    the same tick may send first: the scheduler decides, and exploring seeds finds both
    orders, the same on every backend."""
    outcomes = set()
    for seed in range(8):
        program, r = run(RACE, seeds=(seed,))
        outcomes.add(tuple(line for line in r.output.splitlines()))
    firsts = {lines[0] for lines in outcomes}
    assert firsts == {"server: message first 7", "server: timeout first"}
    seconds = {lines[1] for lines in outcomes if len(lines) > 1}
    assert seconds == {"server: bits first 1", "server: timeout first"}


def test_exploration_finds_the_schedule_where_the_deadline_wins():
    import mikro
    from mikro.lang import compile_source
    program = compile_source(RACE, "race.mk")
    seeds = set()
    for backend in ("interp", "x86"):
        found = mikro.explore(program, 50, backend=backend,
                              passes=lambda r: "timeout" not in r.output)
        assert not found.ok and "timeout first" in found.result.output
        seeds.add(found.failing_seed)
    assert len(seeds) == 1
