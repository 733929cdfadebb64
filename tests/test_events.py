"""Notifications and time (docs/kernel.md, "Notifications and time"), on every backend: each
program runs on the reference interpreter and on the three x86 tiers, traced and not, and
every field of the results must agree (test_x86_diff.same) before its output is checked."""
from __future__ import annotations

import pytest

from mikro.lang import compile_source
from mikro.vm import abi, interp
from mikro.vm.options import RunOptions
from test_x86_diff import same

E = {name: code for name, (code, _) in abi.ERRORS.items()}
MAX = abi.TIME_MAX


def run(src: str, seeds=(0,), **kw):
    program = compile_source(src, "ev.mk")
    kw.setdefault("fuel", 2_000_000)
    for seed in seeds:
        same(program, traced=True, seed=seed, **kw)
    # the traced run, which `same` found equal on every backend
    return program, interp.run(program, RunOptions(trace=True, seed=seeds[-1], **kw))


def out(src: str, **kw) -> str:
    program, r = run(src, **kw)
    assert r.status == "clean", r.report(program)
    return r.output


# -- notifications ----------------------------------------------------------------------
def test_notify_coalesces_bits_and_wait_takes_them():
    src = """
task waiter {
    let s = channel("w", ONE)
    sleep(10)                           # the notifier has signalled three times by now
    print("bits", wait())
    let err, bits = try wait_until(now())
    print("again", err, bits)
    print("woken", wait(), now())
}
task notifier {
    let c = open("w")
    notify(c, 1)
    notify(c, 2)
    notify(c, 1 << 62)
    notify(c, 0)                        # ORs nothing, wakes nobody
    sleep(20)
    notify(c, 8)
}
spawn waiter()
spawn notifier()
"""
    assert out(src) == f"bits {1 | 2 | 1 << 62}\nagain {E['E_TIMEOUT']} 0\nwoken 8 20\n"


def test_notify_through_every_kind_of_handle():
    src = """
task server {
    let s = channel("srv", MANY)
    let m, x = recv(s)
    notify(m, 4)                        # an mhandle: its sender
    reply(m, 0)
    print("server", wait())
    print("server end", try notify(s, 1))
}
task client {
    let c = open("srv")
    call(c, 1)
    print("client", wait())
    notify(c, 16)                       # a connection: its server
    let o = channel("pair", ONE)
    print("pair", wait())
}
task other {
    let o = open("pair")
    notify(o, 32)                       # a ONE end: the other end's task
}
spawn server()
spawn client()
spawn other()
"""
    assert out(src) == f"client 4\nserver 16\nserver end {E['E_INVAL']}\npair 32\n"


def test_notify_errors_a_dead_task_and_forged_handles():
    src = """
task main {
    let o = channel("alone", ONE)
    print("no opener", try notify(o, 1))
    spawn peer()
    sleep(5)                            # the peer opened and exited: the channel is closed
    print("dead peer", try notify(o, 1))
    print("forged", try notify(7, 1), try notify(-1, 1), try notify(64 + 5, 1))
    let s = channel("srv", MANY)
    spawn caller()
    let m, x = recv(s)
    sleep(5)                            # the caller is gone, its mhandle stays
    print("gone caller", try notify(m, 1))
    notify(o, 1)
}
task peer { let c = open("alone") }
task caller { send(open("srv"), 1) }
spawn main()
"""
    program, r = run(src)
    closed, bad = E["E_CLOSED"], E["E_BADHANDLE"]
    assert r.output == (f"no opener {closed}\ndead peer {closed}\nforged {bad} {bad} {bad}\n"
                        f"gone caller {closed}\n")
    assert r.status == "fault"
    assert r.faults[0].reason == f"notify(0) failed: E_CLOSED ({abi.ERROR_TEXT[closed]})"


def test_a_task_waiting_for_bits_at_the_end_is_idle_not_deadlocked():
    program, r = run("task main { print(\"waits\"); wait() }\nspawn main()")
    assert r.status == "clean" and r.waiting[0].state == "wait"
    assert r.waiting[0].handle is None and r.waiting[0].deadline is None


# -- the clock, sleep and deadlines -------------------------------------------------------
def test_sleepers_wake_in_deadline_order_and_equal_deadlines_in_the_order_set():
    src = """
task sleeper(id, ticks) {
    sleep(ticks)
    print(id, now())
}
spawn sleeper(1, 30)
spawn sleeper(2, 10)
spawn sleeper(3, 30)
spawn sleeper(4, 0)
spawn sleeper(5, 20)
"""
    assert out(src) == "4 0\n2 10\n5 20\n1 30\n3 30\n"
    # with a seed, the tasks due at one tick are ready together and the seed picks
    outputs = {out(src, seeds=(s,)) for s in range(1, 12)}
    assert outputs == {"4 0\n2 10\n5 20\n1 30\n3 30\n", "4 0\n2 10\n5 20\n3 30\n1 30\n"}


def test_the_clock_moves_only_when_every_task_waits():
    src = """
task busy {
    let i = 0
    while i < 5000 { i += 1 }
    print("busy done at", now())
}
task sleeper {
    sleep(1)
    print("slept until", now())
}
spawn sleeper()
spawn busy()
"""
    assert out(src) == "busy done at 0\nslept until 1\n"


def test_recv_until_times_out_or_takes_a_message_before_the_deadline():
    src = """
task server {
    let s = channel("srv", MANY)
    let err, m, x = try recv_until(s, 100)
    print("first", err, m, x, now())
    let err2, m2, y = try recv_until(s, 1000)
    print("second", err2, y, now())
    reply(m2, y * 2)
    print("past", try recv_until(s, 50), "at once", now())
    let e3 = try recv_until(s, -1)
    print("negative", e3)
    recv_until(s, now() + 7)
}
task client {
    let c = open("srv")
    sleep(250)
    print("reply", call(c, 21), now())
}
spawn server()
spawn client()
"""
    program, r = run(src)
    t, inval = E["E_TIMEOUT"], E["E_INVAL"]
    assert r.output == (f"first {t} 0 0 100\nsecond 0 21 250\npast {t} at once 250\n"
                        f"negative {inval}\nreply 42 250\n")
    assert r.status == "fault"
    assert r.faults[0].reason == f"recv_until(0) failed: E_TIMEOUT ({abi.ERROR_TEXT[t]})"
    assert program.where(r.faults[0].where.pc) == "ev.mk:12"


def test_a_message_ends_a_timed_wait_and_its_deadline_goes():
    # the server's wait in recv_until ends by the call (a handoff on x86): its deadline at
    # 100 must not end the sleep that follows
    src = """
task server {
    let s = channel("srv", MANY)
    let m, x = recv_until(s, 100)
    reply(m, x)
    sleep(150)
    print("server", now())
    let err, bits = try wait_until(120)
    print("late", err, bits, now())
}
task client {
    print("client", call(open("srv"), 7), now())
}
spawn server()
spawn client()
"""
    assert out(src) == f"client 7 0\nserver 150\nlate {E['E_TIMEOUT']} 0 150\n"


def test_huge_and_negative_deadlines():
    src = f"""
task main {{
    print("sleep -1", try sleep(-1))
    print("wait -5", try wait_until(-5))
    print("timer", try timer(1, -1, 0), try timer(1, 0, -1))
    let err, bits = try wait_until({MAX})
    print("end of time", err, now() == {MAX})
    print("sleep 1", try sleep(1), "sleep 0", try sleep(0))
    timer(2, {MAX}, 1)                  # fires once: its next tick would pass the end
    print("bits", wait())
    print("over", try wait_until({MAX}))
}}
spawn main()
"""
    inval, t = E["E_INVAL"], E["E_TIMEOUT"]
    assert out(src) == (f"sleep -1 {inval}\nwait -5 {inval}\ntimer {inval} {inval}\n"
                        f"end of time {t} 1\nsleep 1 {inval} sleep 0 0\nbits 2\nover {t}\n")


# -- timers -------------------------------------------------------------------------------
def test_a_periodic_timer_delivers_bits_and_keeps_its_phase_when_parked():
    src = """
task main {
    timer(1, 10, 10)
    print("a", wait(), now())
    print("b", wait(), now())
    sleep(25)                           # ticks 30 and 40 pass while it sleeps: one bit
    print("slept", now())
    print("c", wait(), now())           # taken at once (parked at 40)
    print("d", wait(), now())           # the next tick is 50: the phase is kept
    timer(4, 60, 0)                     # replaced by a one-shot timer
    print("e", wait(), now())
    let err, bits = try wait_until(1000)
    print("f", err, now())
    timer(8, 1010, 5)
    timer(0, 0, 0)                      # stopped
    print("g", try wait_until(1100), now())
}
spawn main()
"""
    t = E["E_TIMEOUT"]
    assert out(src) == ("a 1 10\nb 1 20\nslept 45\nc 1 45\nd 1 50\ne 4 60\n"
                        f"f {t} 1000\ng {t} 1100\n")


def test_a_timer_whose_task_waits_elsewhere_does_not_keep_the_run_alive():
    src = """
task main {
    let s = channel("srv", MANY)
    timer(1, 5, 1)                      # the task never waits for it: parked once
    recv(s)
}
spawn main()
"""
    program, r = run(src, fuel=10_000)
    assert r.status == "clean" and r.fuel_used < 100
    assert [e.kind for e in r.trace if e.kind == "timer"] == ["timer"]


def test_an_ended_task_leaves_no_timer_behind():
    # task 1's timer and deadline go with it; on x86 task 3 reuses its slot
    src = """
task first {
    timer(1, 100, 10)
    spawn later()
}
task later {
    sleep(50)
    spawn last()
}
task last {
    let err, bits = try wait_until(200)
    print("last", err, bits, now())
}
spawn first()
"""
    assert out(src) == f"last {E['E_TIMEOUT']} 0 200\n"


def test_trace_records_notify_timeout_and_timer_events():
    src = """
task main {
    let o = channel("o", ONE)
    spawn other()
    timer(3, 7, 0)
    print(wait())
    sleep(4)
    let e2, b2 = try wait_until(20)     # the timer's bits at 7
    print(e2, b2, now())
    let e3 = try wait_until(20)
}
task other {
    notify(open("o"), 5)
}
spawn main()
"""
    program, r = run(src)
    got = [(e.kind, e.task, e.handle, e.peer, e.a, e.b) for e in r.trace
           if e.kind in ("notify", "timeout", "timer")]
    assert got == [("notify", 2, 0, 1, 5, 0), ("timeout", 1, 0, 0, 4, 1),
                   ("timer", 1, 0, 0, 7, 3), ("timeout", 1, 0, 0, 20, 2)]
    assert r.output == "5\n0 3 7\n"


# -- reports --------------------------------------------------------------------------------
def test_a_task_with_a_deadline_is_not_deadlocked_in_the_report():
    src = """
task server {
    let s = channel("srv", MANY)
    recv_until(s, 1000)
}
task spinner {
    loop { }
}
spawn server()
spawn spinner()
"""
    program, r = run(src, fuel=3000)
    assert r.status == "limit"
    server = r.waiting[0]
    assert (server.state, server.handle, server.deadline) == ("recv", 0, 1000)
    assert "waits in recv(0) until tick 1000 (not deadlocked: the deadline ends the wait)" \
        in r.report(program)


# -- hostile ----------------------------------------------------------------------------
def test_a_timer_set_a_million_times_holds_one_entry():
    src = """
task main {
    let i = 0
    while i < 1000000 {
        timer(1, 1000000 - i, 0)
        i += 1
    }
    print(wait(), now())
}
spawn main()
"""
    from mikro.backends import x86
    program = compile_source(src, "ev.mk")
    r = x86.run(program, RunOptions())
    assert r.status == "clean" and r.output == "1 1\n"


@pytest.mark.parametrize("backend", ["interp", "x86"])
def test_ten_thousand_sleepers(backend):
    src = """
task main {
    let i = 0
    while i < 10000 {
        spawn sleeper((i * 7919) % 10000 + 1)
        i += 1
    }
}
task sleeper(t) {
    sleep(t)
    if t == 10000 { print("last", now()) }
}
spawn main()
"""
    from mikro.backends import x86
    program = compile_source(src, "ev.mk")
    opts = RunOptions(mem_words=64)
    r = (interp.run if backend == "interp" else x86.run)(program, opts)
    assert r.status == "clean" and r.output == "last 10000\n"


# -- call_until -------------------------------------------------------------------------------
def test_call_until_gets_the_reply_or_gives_up_and_its_message_is_withdrawn():
    # the server takes the first call and holds it; the second call times out in the queue
    # and leaves it, so the server's next recv finds the third, not the second
    src = """
task server {
    let s = channel("srv", MANY)
    let m1, x1 = recv(s)
    sleep(100)
    let m3, x3 = recv(s)
    print("server took", x3, "at", now())
    reply(m3, x3 + 1)
    reply(m1, x1 + 1)                   # its caller gave up: this answers nobody
    print("late reply ok")
}
task client {
    let c = open("srv")
    print("past", try call_until(c, now(), 4), "negative", try call_until(c, -1, 4))
    let e1, r1 = try call_until(c, 10, 1)
    print("first", e1, r1, now())
    let e2, r2 = try call_until(c, 20, 2)
    print("second", e2, r2, now())
    let e3, r3 = try call_until(c, 1000, 3, 0, 0, 7)
    print("third", e3, r3, now())
}
spawn server()
spawn client()
"""
    t = E["E_TIMEOUT"]
    assert out(src) == (f"past {t} negative {E['E_INVAL']}\nfirst {t} 0 10\nsecond {t} 0 20\n"
                        "server took 3 at 100\nlate reply ok\nthird 0 4 100\n")


def test_a_late_reply_cannot_end_a_later_call():
    # the server holds the mhandle of a call that timed out, takes the next call, then
    # answers the old one: the caller must get the answer to its second call
    src = """
task server {
    let s = channel("srv", MANY)
    let m1, x1 = recv(s)
    let m2, x2 = recv(s)
    reply(m1, 111)
    reply(m2, 222)
}
task client {
    let c = open("srv")
    print("first", try call_until(c, 5, 1), now())
    print("second", call(c, 2), now())
}
spawn server()
spawn client()
"""
    assert out(src) == f"first {E['E_TIMEOUT']} 5\nsecond 222 5\n"


def test_call_until_on_a_one_channel_and_a_timeout_fault_names_the_handle():
    src = """
task server {
    let o = channel("pair", ONE)
    let m, x = recv(o)
    reply(o, x * 10)
    sleep(50)
}
task client {
    let o = open("pair")
    print("answer", call_until(o, 5, 4), now())
    call_until(o, now() + 5, 1)
}
spawn server()
spawn client()
"""
    program, r = run(src)
    assert r.output == "answer 40 0\n"
    assert r.faults[0].reason == \
        f"call_until(0) failed: E_TIMEOUT ({abi.ERROR_TEXT[E['E_TIMEOUT']]})"
    timeouts = [(e.task, e.handle, e.a, e.b) for e in r.trace if e.kind == "timeout"]
    assert timeouts == [(2, 0, 5, 3), (1, 0, 50, 1)]


@pytest.mark.parametrize("giving_up", [1, 2, 3])
def test_a_call_that_gives_up_leaves_the_queue_in_order(giving_up):
    # three callers queue on a busy server; one gives up: the server takes the other two in
    # order, and a caller that comes later still queues behind them
    src = f"""
task server {{
    let s = channel("srv", MANY)
    sleep(100)
    let i = 0
    while i < 3 {{
        let m, x = recv(s)
        print("took", x, "at", now())
        reply(m, x)
        i += 1
    }}
}}
task caller(id) {{
    let c = open("srv")
    let deadline = 1000
    if id == {giving_up} {{ deadline = 50 }}
    let err, r = try call_until(c, deadline, id)
    print("caller", id, err, r)
    if id == {giving_up} {{ sleep(20); print("again", call(c, 9)) }}
}}
spawn server()
spawn caller(1)
spawn caller(2)
spawn caller(3)
"""
    others = [i for i in (1, 2, 3) if i != giving_up]
    lines = out(src).splitlines()
    assert [line for line in lines if line.startswith("took")] == \
        [f"took {others[0]} at 100", f"took {others[1]} at 100", "took 9 at 100"]
    assert sorted(line for line in lines if not line.startswith("took")) == sorted(
        [f"caller {giving_up} {E['E_TIMEOUT']} 0", "again 9"]
        + [f"caller {i} 0 {i}" for i in others])


def test_a_crowd_of_deadlines_set_ended_early_and_replaced_fires_in_the_same_order():
    # 60 tasks, each driven by its own linear congruential generator: sleeps, waits with
    # deadlines that signals relayed from a random peer often end early (an entry taken
    # out of the middle of the heap), and timers set, replaced and stopped; every backend
    # must fire them in the same order
    src = """
const N = 60
task hub {
    let h = channel("hub", MANY)
    let held = array(N + 1)             # the mhandle of each node's last message
    loop {
        let m, id, target = recv(h)
        if held[target] != 0 { try notify(held[target], 1 << (id % 60)) }
        if held[id] != 0 { reply(held[id]) }
        held[id] = m
    }
}
task node(id, seed) {
    let r = seed
    let c = open("hub")
    let i = 0
    while i < 12 {
        r = (r * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
        let op = r % 5
        let d = (r >> 8) % 97
        if op == 0 { sleep(d) }
        if op == 1 {
            let e, bits = try wait_until(now() + d)
            print(id, "w", e, bits, now())
        }
        if op == 2 { send(c, id, (r >> 12) % N + 1) }
        if op == 3 { timer(1 << ((r >> 20) % 60), now() + d, (r >> 30) % 13) }
        if op == 4 { timer(0, 0, 0) }
        i += 1
    }
    print(id, "end", now())
}
spawn hub()
"""
    src += "".join(f"spawn node({i}, {i * 7919 + 13})\n" for i in range(1, 61))
    program, r = run(src, seeds=(0, 9))
    assert r.status == "clean", r.report(program)
    lines = r.output.splitlines()
    assert sum(line.split()[1] == "end" for line in lines) == 60
    waits = [line.split() for line in lines if line.split()[1] == "w"]
    assert {w[2] for w in waits} == {"0", str(E["E_TIMEOUT"])}     # both endings happen
