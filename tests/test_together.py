"""Kernel features used together, on every backend (test_x86_diff.same): each feature has
its own tests; these check what one does to the state another keeps (a select's readiness
hints for a handle that moved in, a segment and a deadline across a restart)."""
from __future__ import annotations

from mikro.lang import compile_source
from mikro.vm import interp
from mikro.vm.options import RunOptions
from test_x86_diff import same


def out(src: str, status: str = "clean") -> str:
    program = compile_source(src, "together.mk")
    for seed in (0, 3):
        same(program, traced=True, seed=seed, fuel=2_000_000)
    r = interp.run(program, RunOptions(fuel=2_000_000))
    assert r.status == status, r.report(program)
    return r.output


def test_select_finds_an_end_that_became_ready_before_it_moved_in():
    src = """
task producer {
    let ch = channel("prod", MANY)
    let m, b = recv(ch)
    reply(m, 0)
    send(b, 42)                        # waits: the other end has no reader yet
    print("producer sent")
}

task selector {
    let ch = channel("sel", MANY)
    let m, a = recv(ch)
    reply(m, 0)
    let set = array(1)
    set[0] = a
    print("selected", select(set) == a)
    let m2, w = recv(a)
    print("got", w)
}

task main {
    let a, b = pair()
    call_move(open("prod"), b)
    let i = 0
    while i < 5 { yield(); i += 1 }    # the producer now waits in send on b
    call_move(open("sel"), a)
}

spawn producer()
spawn selector()
spawn main()
"""
    assert sorted(out(src).splitlines()) == ["got 42", "producer sent", "selected 1"]


def test_a_restarted_task_holds_no_segment_and_no_deadline_of_its_last_generation():
    src = """
task worker {
    let gen = self() >> 32
    let w = channel("w", ONE)
    if gen == 0 {
        let m, s = recv(w)
        reply(m, 0)
        s[0] = 7                        # the lent segment, then a deadline, then a fault
        deadline(now() + 5)
        assert(0, "crash")
    }
    let t0 = now()
    let e, m = try recv_until(w, t0 + 50)   # the last generation's deadline would end it at 5
    print("gen", gen, e == E_TIMEOUT, "after", now() - t0)
}

task sup {
    let w = spawn worker()
    monitor(w, 1)
    let seg = segment(4)
    let c = open("w")
    let s = grant(c, seg, RW)
    call(c, s)
    wait()
    print("seg", seg[0])
    let how, code = status(w)
    let w2 = restart(w)
    monitor(w2, 1)
    wait()
    print("worker ended", how == T_FAULTED)
}

spawn sup()
"""
    assert out(src, status="fault").splitlines() == [
        "seg 7", "gen 1 1 after 50", "worker ended 1"]
