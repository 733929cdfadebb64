"""Supervision (docs/kernel.md, "Supervision"): monitor, status and restart, on every
backend. The programs that show the rules run on the reference interpreter and on the three
x86 tiers, traced and not (test_x86_diff.same); the hostile ones on the reference and the
native interpreter, every field of their results equal."""
from __future__ import annotations

from mikro.backends import x86
from mikro.lang import compile_source
from mikro.vm import abi, interp
from mikro.vm.options import RunOptions
from mikro.vm.result import Restart
from test_x86_diff import same

E = {name: code for name, (code, _) in abi.ERRORS.items()}
G1 = 1 << abi.TID_SHIFT                 # the id of generation 1 of index 0


def run(src: str, **kw):
    """Every backend and tier, traced too; the reference's traced result."""
    program = compile_source(src, "sup.mk")
    kw.setdefault("fuel", 1_000_000)
    same(program, traced=True, **kw)
    return program, interp.run(program, RunOptions(trace=True, **kw))


def both(src: str, **kw):
    """The reference and the native interpreter, every field equal."""
    program = compile_source(src, "sup.mk")
    kw.setdefault("fuel", 1_000_000)
    want = interp.run(program, RunOptions(**kw))
    assert x86.compile(program, tier="interpreter").run(RunOptions(**kw)) == want
    return program, want


CRASHER = """
task worker(n) {
    print("worker", n, "generation", self() >> 32)
    assert(self() >> 32 >= 2, "not yet")    # generations 0 and 1 fault, 2 ends
    return n
}
task sup {
    let w = spawn worker(7)
    monitor(w, 4)
    loop {
        let bits = wait()
        let how, code = status(w)
        print("bits", bits, "how", how, "code", code)
        if how != T_FAULTED { break }
        w = restart(w)
    }
}
spawn sup()
"""


def test_a_supervisor_restarts_a_faulting_task_and_learns_how_it_ended():
    program, r = run(CRASHER)
    assert r.output == ("worker 7 generation 0\nbits 4 how 2 code 0\n"
                        "worker 7 generation 1\nbits 4 how 2 code 0\n"
                        "worker 7 generation 2\nbits 4 how 1 code 7\n")
    # faults stay faults: the run's status says so, restarted or not
    assert r.status == "fault" and [f.task for f in r.faults] == [2, 2 + G1]
    assert r.restarts == [Restart(2, 2 + G1, "worker", 1, "sup"),
                          Restart(2 + G1, 2 + 2 * G1, "worker", 1, "sup")]
    assert r.exits == {1: ("sup", 0), 2 + 2 * G1: ("worker", 7)}
    assert r.tasks_spawned == 2
    assert r.report(program) == (
        "fault in task worker#2 at sup.mk:4: assertion failed: not yet\n"
        "fault in task worker#2.1 at sup.mk:4: assertion failed: not yet\n"
        "task worker#2 restarted as worker#2.1 by sup#1\n"
        "task worker#2.1 restarted as worker#2.2 by sup#1\n"
        "task worker#2.2 exited with code 7\n")
    kinds = [(e.kind, e.task, e.peer, e.a) for e in r.trace
             if e.kind in ("monitor", "down", "restart")]
    assert kinds == [("monitor", 1, 2, 4), ("down", 2, 1, 4), ("restart", 1, 2 + G1, 2),
                     ("down", 2 + G1, 1, 4), ("restart", 1, 2 + 2 * G1, 2 + G1),
                     ("down", 2 + 2 * G1, 1, 4)]


def test_a_restarted_server_registers_its_name_again_and_old_handles_stay_closed():
    src = """
task server {
    let s = channel("srv", MANY)
    let gen = self() >> 32
    loop {
        let m, x = recv(s)
        assert(x != 13, "unlucky")
        reply(m, x * 10 + gen)
    }
}
task sup(w) {
    monitor(w, 1)
    wait()
    restart(w)
    wait()
}
task client {
    let c = open("srv")
    print("first", call(c, 1))
    print("crash", try call(c, 13))
    sleep(5)                                # the supervisor restarts the server meanwhile
    print("old handle", try call(c, 2), try notify(c, 1))
    close(c)
    let c2 = open("srv")
    print("new handle", call(c2, 2))
}
spawn server()
spawn sup(1)
spawn client()
"""
    program, r = run(src)
    closed = E["E_CLOSED"]
    assert r.output == f"first 10\ncrash {closed}\nold handle {closed} {closed}\nnew handle 21\n"
    assert r.status == "fault" and len(r.faults) == 1 and len(r.restarts) == 1


def test_a_server_of_the_old_generation_cannot_answer_its_client_through_a_new_one():
    # the client's mhandle named the old generation's connection: the restarted client
    # (same index, same slot on the native kernel) is never reached through it
    src = """
task server {
    let s = channel("srv", MANY)
    let m1, x1 = recv(s)                    # a one-way message of generation 0
    let m2, x2 = recv(s)                    # a call of generation 1
    print("stale", try notify(m1, 1), try reply(m1, 99), "got", x1, x2)
    reply(m2, x2 + 1)
}
task client {
    let c = open("srv")
    if self() >> 32 == 0 {
        send(c, 5)
        assert(0, "down")
    }
    print("reply", call(c, 6))
}
task sup(w) {
    monitor(w, 1)
    wait()
    restart(w)
}
spawn sup(3)
spawn server()
spawn client()
"""
    program, r = run(src)
    assert r.output == f"stale {E['E_CLOSED']} 0 got 5 6\nreply 7\n"


def test_bad_task_ids_give_documented_errors():
    src = """
task short { }
task long { wait() }
task main {
    let gone = spawn short()                # ends with no supervisor: its index is gone
    let w = spawn long()
    yield()
    print("self", try monitor(self(), 1), try restart(self()))
    print("none", try status(0), try status(-1), try status(99), try status(1 << 63))
    print("gone", try status(gone), try monitor(gone, 1), try restart(gone))
    print("forged", try status(w + (1 << 32)), try monitor(w | 7 << 32, 1))
    print("live", try restart(w), try status(w))
    monitor(w, 2)
    print("busy", try restart(w))
    spawn rival(w)
    yield()
}
task rival(w) {
    print("rival", try monitor(w, 1), try restart(w))
}
spawn main()
"""
    program, r = both(src)
    inval, closed, busy = E["E_INVAL"], E["E_CLOSED"], E["E_BUSY"]
    assert r.output == (f"self {inval} {inval}\n"
                        f"none {inval} {inval} {inval} {inval}\n"
                        f"gone {closed} {closed} {closed}\n"
                        f"forged {inval} {inval}\n"
                        f"live {inval} 0\n"
                        f"busy {busy}\n"
                        f"rival {busy} {inval}\n")


def test_a_stale_id_faults_without_try_naming_the_line():
    src = """
task worker { assert(0) }
task sup {
    let w = spawn worker()
    monitor(w, 1)
    wait()
    let w2 = restart(w)
    wait()
    restart(w)                              # line 9: the id of generation 0
}
spawn sup()
"""
    program, r = both(src)
    assert r.status == "fault" and len(r.faults) == 3
    assert r.faults[-1].name == "sup"
    assert r.report(program).splitlines()[2] == (
        f"fault in task sup#1 at sup.mk:9: restart(2) failed: E_CLOSED "
        f"({abi.ERROR_TEXT[E['E_CLOSED']]})")


def test_the_end_of_a_supervisor_frees_its_tasks():
    # its ended task is gone; its live one may get another supervisor
    src = """
task quick { }
task slow { sleep(10) }
task sup {
    monitor(spawn quick(), 1)
    monitor(spawn slow(), 2)
    wait()
}
task watcher {
    sleep(1)                                # sup has ended by now
    let err, how = try status(4)           # sup#1, watcher#2, quick#3, slow#4
    print("quick", try status(3), "slow", err, how, try monitor(4, 8))
    print("bits", wait(), "how", status(4))
}
spawn sup()
spawn watcher()
"""
    program, r = run(src)
    assert r.output == f"quick {E['E_CLOSED']} slow 0 0 0\nbits 8 how 1\n"
    assert r.status == "clean"


def test_a_restart_storm_ends_at_the_fuel_limit():
    # a worker that faults at once, restarted for ever: every restart costs a unit of the
    # run's fuel, so the run stops at its limit with every fault and restart reported
    src = """
task worker { assert(0, "boom") }
task sup {
    let w = spawn worker()
    monitor(w, 1)
    loop {
        wait()
        w = restart(w)
    }
}
spawn sup()
"""
    program, r = both(src, fuel=300)
    assert r.status == "limit" and len(r.faults) > 50
    assert len(r.restarts) in (len(r.faults), len(r.faults) - 1)
    assert all(x.new == x.old + G1 for x in r.restarts)


def test_an_ended_task_kept_for_its_supervisor_holds_its_place_in_the_table():
    # as in a fixed task table: a spawn finds no place, the restart takes its own
    src = """
task worker { if self() >> 32 == 0 { assert(0) } }
task filler { }
task sup {
    let w = spawn worker()
    monitor(w, 1)
    wait()
    print(try spawn filler(), try restart(w) >= 0)
}
spawn sup()
"""
    program, r = both(src, max_tasks=2)
    assert r.output == f"{E['E_NOSPACE']} 1\n"


def test_a_host_task_cannot_be_supervised():
    import mikro as mk
    src = """
task main {
    let c = open("py")
    print(try monitor(2, 1), try restart(2), try status(2), call(c, 4))
}
spawn main()
"""
    program = compile_source(src, "sup.mk")
    results = []
    for backend in ("interp", "x86"):
        with mk.Kernel(program, backend=backend) as k:
            assert k.host("py", lambda msg: msg.words[0] + 1) == 2
            results.append(k.run())
    assert results[0] == results[1]
    assert results[0].output == f"{E['E_INVAL']} {E['E_INVAL']} 0 5\n"
