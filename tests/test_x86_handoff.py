"""The x86 call that hands off to its receiver (lower.Lowering._handoff) and the reply that
writes only the results a call reads (lower.reply_reads): both must leave every run as the
reference interpreter's, whatever the seed, and however many tasks are ready at a call."""
from __future__ import annotations

import pytest

from mikro import api
from mikro.backends import x86
from mikro.bench.programs import ECHO
from mikro.vm.options import RunOptions
from test_x86_diff import same

SOURCE = '''
task echo {
    let ch = channel("echo", MANY)
    loop {
        let m, a, b, c, d = recv(ch)
        reply(m, a + 1, b, c * 2, d)
    }
}

task pair {
    let p = channel("pair", ONE)
    loop {
        let h, a, b, c, d = recv(p)
        reply(h, a + b)
    }
}

task client(n, k) {
    let c = open("echo")
    let i = 0
    let s = 0
    while i < n {
        let w, x, y, z = call(c, i, k, i, 7)
        s += w + x * 3 + y * 5 + z * 7
        i += 1
    }
    print(s)
}

task one(n) {
    let p = open("pair")
    let i = 0
    let s = 0
    while i < n {
        s += call(p, i, 3)
        i += 1
    }
    print(s)
}

task alone(n) {
    let c = open("echo")
    let i = 0
    let s = 0
    while i < n {
        s += call(c, i)
        i += 1
    }
    print(s)
}
'''


@pytest.mark.parametrize("seed", [0, 1, 5, 99])
@pytest.mark.parametrize("boot", ["spawn echo()\nspawn alone(300)\n",
                                  "spawn echo()\nspawn pair()\nspawn client(50, 1)\n"
                                  "spawn client(30, 2)\nspawn one(40)\nspawn alone(20)\n"])
def test_handoff_and_reply_results(seed, boot):
    program = api.compile_source(SOURCE + boot, "<handoff>")
    got = same(program, traced=True, seed=seed)
    # every client prints its sum (pair faults in recv once its caller is gone)
    assert len(got.output.splitlines()) == boot.count("(") - 1 - boot.count("pair()")


CROWD = '''
task worker(i) {
    let c = open("echo")
    let s = 0
    let j = 0
    while j < 40 {
        s += call(c, i * j)
        j += 1
    }
    print(i, s)
}

task crowd(n) {
    let i = 0
    while i < n {
        spawn worker(i)
        i += 1
    }
}

spawn echo()
spawn crowd(300)
'''


@pytest.mark.parametrize("seed", [0, 3])
def test_the_ready_queue_grows_and_keeps_the_schedule(seed):
    """The ring of the ready queue starts small and doubles when a spawn makes more tasks
    alive than it holds (kernel_ir._rq): with hundreds of tasks ready at once every growth
    must keep the queue's order, so the run is the interpreter's, seeded draws included."""
    from mikro.backends import x86
    from mikro.backends.x86.run import RING_START
    from mikro.vm.options import RunOptions
    program = api.compile_source(SOURCE + CROWD, "<crowd>")
    got = same(program, traced=True, seed=seed)
    assert got.status == "clean" and len(got.output.splitlines()) == 300
    m = x86.machine(program, RunOptions(seed=seed))
    try:
        assert m.k.rq_mask + 1 == RING_START
        assert m.advance() == "ended"
        assert m.k.rq_mask + 1 >= 256          # 300 workers were ready at once
    finally:
        m.close()


ECHO_LOOP = ECHO + """
task client(n) {
    let c = open("echo")
    let i = 0
    let x = 0
    while i < n {
        x = call(c, x)
        i += 1
    }
    print(x)
}
spawn echo()
spawn client(300000)
"""


def test_a_long_run_moves_to_optimised_code_and_a_short_one_does_not(monkeypatch):
    """A cold program starts on baseline code; a run that outlasts tier_up_after goes on
    with the optimised tier, and the next run starts there."""
    import importlib
    from mikro import compile_source
    native = importlib.import_module("mikro.backends.x86.run")
    program = compile_source(ECHO_LOOP)
    short = x86.compile(program, cache=False, tier="baseline")
    assert short.run(RunOptions(fuel=50)).status == "limit"
    assert short._optimised is None
    monkeypatch.setattr(native, "tier_up_after", lambda program: 0.0)
    long = x86.compile(program, cache=False, tier="baseline")
    r = long.run(RunOptions())
    assert r.output == "300000\n" and long._optimised is not None
    assert long._optimised.tier == "optimised"
    assert long.run(RunOptions()).output == "300000\n"
