"""Differential tests: the x86 backend against the reference interpreter (mikro.vm.interp)
on hand-written, compiled and hypothesis-generated programs. Generated arithmetic programs
are also checked against a small model of the integer rules of docs/vm.md, so a wrong
result is caught even where both backends would agree on it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mikro.backends import x86
from mikro.lang import compile_source
from mikro.vm import abi, interp, isa
from mikro.vm.image import Boot, Pos, Program, TaskType
from mikro.vm.options import RunOptions
from mikro.vm.schedule import LOG_WORDS, Plan, plan_of
from fuzz import DEEP, examples
from mikro.vm.asm import assemble as asm

MASK = (1 << 64) - 1
MIN, MAX = -(1 << 63), (1 << 63) - 1
EDGE = [0, 1, -1, 2, 63, 64, 65, MIN, MAX, MIN + 1, MAX - 1, 0x5555_5555_5555_5555, 1000, -7]
REGS = list(range(isa.S0, isa.S0 + 6))
ALU = [op.name for op in isa.OPCODES if op.a == "w" and op.b == "r" and op.c == "r"
       and op.name not in ("ald",)]
BRANCHES = [op.name for op in isa.OPCODES if op.is_branch and op.name != "jmp"]


def paused(program: Program, **kw):
    """The x86 run with native code paused every few fuel units and task switches."""
    import sys
    native = sys.modules["mikro.backends.x86.run"]
    saved = native.CHUNK, native.BUDGET
    native.CHUNK, native.BUDGET = 97, 3
    try:
        return x86.run(program, RunOptions(**kw))
    finally:
        native.CHUNK, native.BUDGET = saved


def tiered_up(program: Program, start: str = "baseline", **kw):
    """The x86 run started on the `start` tier and moved to a higher one after its first
    slice, if it has more than one (the tiers share every table: the run must not notice):
    baseline code moves to optimised code; the interpreter moves to baseline code, which
    takes the same hand-over for a third of the compile time of optimised code (the
    examples cover the hand-over to optimised code)."""
    import sys
    native = sys.modules["mikro.backends.x86.run"]
    saved = native.CHUNK, native.BUDGET, native.tier_up_after
    native.CHUNK, native.BUDGET, native.tier_up_after = 97, 3, lambda program: 0.0
    traced = kw.get("trace", False)
    try:
        compiled = x86.compile(program, traced=traced, tier=start)
        if start == "interpreter":
            nxt = compiled._optimised = x86.compile(program, traced=traced, tier="baseline")
            nxt._optimised = nxt                    # and stays there
        return compiled.run(RunOptions(**kw))
    finally:
        native.CHUNK, native.BUDGET, native.tier_up_after = saved


# generated programs move from the interpreter to optimised code in the quick profile (a
# baseline compile each is the suite's time; examples and hostile tests cover that tier),
# from baseline code in a fuzz campaign
GENERATED_START = "baseline" if DEEP else "interpreter"

FIELDS = ("status", "output", "faults", "waiting", "exits", "limit", "fuel_used",
          "tasks_spawned", "switches", "trace", "restarts", "decision_log", "decisions_made",
          "misfit")


def same(program: Program, traced: bool = False, start: str = "baseline", **kw):
    """Run on both backends and compare every field; traced, also the IPC events, and
    tracing must not change the run."""
    got = x86.run(program, RunOptions(**kw))
    assert paused(program, **kw) == got
    assert tiered_up(program, start, **kw) == got
    assert x86.compile(program, tier="interpreter").run(RunOptions(**kw)) == got
    want = interp.run(program, RunOptions(**kw))
    for field in FIELDS:
        assert getattr(got, field) == getattr(want, field), field
    if traced:
        events = x86.run(program, RunOptions(trace=True, **kw))
        # the same run, but that decisions also say how many events came before them
        untraced = tuple(0 if i % LOG_WORDS == 3 else w for i, w in enumerate(events.decision_log))
        assert events.trace and \
            dataclasses.replace(events, trace=[], decision_log=untraced) == got
        assert paused(program, trace=True, **kw) == events
        assert tiered_up(program, start, trace=True, **kw) == events
        assert x86.compile(program, traced=True, tier="interpreter").run(
            RunOptions(trace=True, **kw)) == events
        reference = interp.run(program, RunOptions(trace=True, **kw))
        assert (events.trace, events.decision_log) == (reference.trace, reference.decision_log)
    return got


# -- a model of the integer rules, for generated straight-line and branchy code -------------
def _s(v: int) -> int:
    v &= MASK
    return v - (1 << 64) if v >> 63 else v


def _alu(name: str, x: int, y: int) -> int | None:
    if name in ("div", "rem"):
        if y == 0:
            return None
        q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        return _s(q) if name == "div" else _s(x - q * y)
    return _s({
        "add": lambda: x + y, "sub": lambda: x - y, "mul": lambda: x * y,
        "and": lambda: x & y, "or": lambda: x | y, "xor": lambda: x ^ y,
        "shl": lambda: x << (y & 63), "shr": lambda: x >> (y & 63),
        "ushr": lambda: (x & MASK) >> (y & 63),
        "eq": lambda: int(x == y), "ne": lambda: int(x != y), "lt": lambda: int(x < y),
        "le": lambda: int(x <= y),
    }[name]())


def _taken(name: str, a: int, b: int) -> bool:
    return {"bz": a == 0, "bnz": a != 0, "beq": a == b, "bne": a != b, "blt": a < b,
            "bge": a >= b}[name]


def model(program: Program) -> tuple[str, str | None]:
    """(output, fault reason) of one task running generated code."""
    R = [0] * isa.NREGS
    out, line, pc = [], [], 0
    while True:
        ins = program.code[pc]
        name = ins.info.name
        pc += 1
        if name == "li":
            R[ins.a] = ins.imm
        elif name == "lk":
            R[ins.a] = program.consts[ins.imm]
        elif name == "mov":
            R[ins.a] = R[ins.b]
        elif name == "addi":
            R[ins.a] = _s(R[ins.b] + ins.imm)
        elif name in ALU:
            v = _alu(name, R[ins.b], R[ins.c])
            if v is None:
                return "".join(out), "division by zero"
            R[ins.a] = v
        elif name in BRANCHES:
            if _taken(name, R[ins.a], R[ins.b]):
                pc = ins.imm
        elif name == "sys":
            sc = abi.SYSCALLS[ins.imm & abi.SYS_MASK].name
            if sc == "puti":
                line.append(str(R[isa.A0]))
            elif sc == "putnl":
                out.append(" ".join(line) + "\n")
                line = []
            elif sc == "exit":
                return "".join(out), None


@st.composite
def arith_program(draw) -> Program:
    m = isa.make
    p = Program(files=["gen"])
    code: list = []
    for r in REGS:
        v = draw(st.one_of(st.sampled_from(EDGE), st.integers(MIN, MAX)))
        p.consts.append(v)
        code.append(m("lk", r, imm=len(p.consts) - 1))
    body = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.integers(0, 9))
        a, b, c = (draw(st.sampled_from(REGS)) for _ in range(3))
        if kind <= 6:
            body.append(("alu", draw(st.sampled_from(ALU)), a, b, c))
        elif kind == 7:
            body.append(("addi", a, b, draw(st.integers(-(1 << 31), (1 << 31) - 1))))
        else:
            body.append(("br", draw(st.sampled_from(BRANCHES)), a, b,
                         draw(st.integers(1, 4))))
    loops = draw(st.integers(1, 3))
    code.append(m("li", isa.S0 + 6, imm=loops))
    start = len(code)
    # each body item is one instruction; branches skip forward by `skip` items
    for i, item in enumerate(body):
        if item[0] == "alu":
            code.append(m(item[1], item[2], item[3], item[4]))
        elif item[0] == "addi":
            code.append(m("addi", item[1], item[2], imm=item[3]))
        else:
            target = start + min(i + item[4], len(body))
            code.append(m(item[1], item[2], item[3], imm=target))
    # the body runs `loops` times: a back-edge that costs fuel
    code += [m("addi", isa.S0 + 6, isa.S0 + 6, imm=-1), m("bnz", isa.S0 + 6, imm=start)]
    for r in REGS:
        code += [m("mov", isa.A0, r), m("sys", imm=abi.SYS["puti"].num)]
    code += [m("sys", imm=abi.SYS["putnl"].num), m("li", isa.A0, imm=0),
             m("sys", imm=abi.SYS["exit"].num)]
    p.code = code
    p.lines = [Pos(0, i + 1, 1) for i in range(len(code))]
    p.tasks = [TaskType("main", 0, 0)]
    p.boot = [Boot(0, ())]
    return p


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arith_program(), st.one_of(st.none(), st.integers(0, 3)))
def test_generated_arithmetic(program, fuel):
    r = same(program, start=GENERATED_START, fuel=fuel)
    if fuel is None:
        output, fault = model(program)
        assert r.output == output
        assert [f.reason for f in r.faults] == ([fault] if fault else [])
    # pausing native code at every fuel unit gives the same run
    import sys
    native = sys.modules["mikro.backends.x86.run"]
    chunk = native.CHUNK
    native.CHUNK = 1
    try:
        assert x86.run(program, RunOptions(fuel=fuel)) == r
    finally:
        native.CHUNK = chunk


# -- hand-written programs ------------------------------------------------------------------
HAND = {
    "yield": '''
    .task main
    .task w 1
    .boot w 1
    .boot w 2
    .boot w 3
    main:
        li a0, 0
        sys exit
    w:
        mov s0, a0
        li s1, 3
    again:
        mov a0, s0
        sys puti
        sys putnl
        sys yield
        addi s1, s1, -1
        bnz s1, again
        mov a0, s0
        sys exit
    ''',
    "busy": '''
    .task b 1
    .boot b 1
    .boot b 2
    b:
        li s1, 2500
    loop:
        addi s1, s1, -1
        bnz s1, loop
        sys puti
        sys putnl
        li a0, 0
        sys exit
    ''',
}


@pytest.mark.parametrize("name", sorted(HAND))
@pytest.mark.parametrize("seed", [0, 1, 7, 123456789])
def test_hand_written(name, seed):
    same(asm(HAND[name]), traced=True, seed=seed)


@pytest.mark.parametrize("fuel", [0, 1, 999, 1000, 1001, 2500])
def test_fuel_limits(fuel):
    r = same(asm(HAND["busy"]), fuel=fuel)
    assert r.fuel_used == min(fuel, 2 * 2499)


# -- compiled programs ----------------------------------------------------------------------
EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.mk"))


def test_the_examples_are_there():
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples(path):
    program = compile_source(path.read_text(), str(path))
    for seed in (0, 3):
        same(program, traced=True, seed=seed, fuel=2_000_000)


# -- generated .mk programs (tests/progen.py), compiled ------------------------------------
def _compiled(src: str):
    # tests/progen.py writes valid programs: one the compiler refuses is a failure
    return compile_source(src, "gen.mk")


def _progen():
    import progen
    return progen


@settings(max_examples=examples(15), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_compute_programs(data):
    program = _compiled(data.draw(_progen().compute_programs()))
    for seed in (0, 11):
        same(program, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_ipc_programs(data):
    program = _compiled(data.draw(_progen().ipc_programs()))
    for seed in (0, 3, 12345):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_buffer_programs(data):
    program = _compiled(data.draw(_progen().buffer_programs()))
    for seed in (0, 5):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(12), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_timed_programs(data):
    program = _compiled(data.draw(_progen().timed_programs()))
    for seed in (0, 5):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(10), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_handle_programs(data):
    program = _compiled(data.draw(_progen().handle_programs()))
    for seed in (0, 7):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_supervised_programs(data):
    program = _compiled(data.draw(_progen().supervised_programs()))
    for seed in (0, 7):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(6), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_wait_programs(data):
    program = _compiled(data.draw(_progen().wait_programs()))
    for seed in (0, 7):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(6), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_segment_programs(data):
    program = _compiled(data.draw(_progen().segment_programs()))
    for seed in (0, 5):
        same(program, traced=True, start=GENERATED_START, seed=seed, fuel=200_000)


@settings(max_examples=examples(2), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_generated_planned_runs(data):
    """Both kernels take the same decisions under every kind of plan, and a run's
    schedule string replays it (choose among them)."""
    program = _compiled(data.draw(_progen().ipc_programs()))
    seed = data.draw(st.integers(1, 1 << 32))
    walk = same(program, traced=True, start=GENERATED_START, fuel=200_000,
                plan=Plan(tail="random", seed=seed))
    replay = same(program, start=GENERATED_START, fuel=200_000, plan=plan_of(walk.schedule))
    assert (replay.output, replay.decisions) == (walk.output, walk.decisions)
    prios = tuple(data.draw(st.permutations(range(3, 9))))
    changes = tuple(sorted(data.draw(st.lists(st.integers(0, 30), max_size=2))))
    same(program, start=GENERATED_START, fuel=200_000,
         plan=Plan(tail="pct", seed=seed, priorities=prios, changes=changes))
    shifted = tuple(data.draw(st.lists(st.integers(0, 3), max_size=12)))
    got = x86.run(program, RunOptions(fuel=200_000, plan=Plan(shifted)))     # may misfit
    want = interp.run(program, RunOptions(fuel=200_000, plan=Plan(shifted)))
    assert (got.output, got.decisions, got.misfit) == (want.output, want.decisions, want.misfit)


RET_LOOP = '''
    .task main
    .task other
    .boot main
    .boot other
    main:
        li s0, 1500
    loop:
        call f
        addi s0, s0, -1
        bnz s0, loop
        sys puti
        sys putnl
        li a0, 0
        sys exit
    other:
        sys yield
        li a0, 9
        sys puti
        sys putnl
        li a0, 0
        sys exit
    .func f
    f:
        addi a0, a0, 1
        ret
'''


@pytest.mark.parametrize("fuel", [None, 0, 1, 2, 3, 1000, 1001, 2999])
@pytest.mark.parametrize("seed", [0, 4])
def test_ret_pays_fuel_and_may_be_preempted(fuel, seed):
    r = same(asm(RET_LOOP), fuel=fuel, seed=seed)
    if fuel is None:
        assert r.fuel_used == 1500 * 3 - 1


SPAWN_CHAIN = '''
    .task link
    .boot link
        li a0, 0
        sys try spawn
        li a0, 0
        sys exit
'''


@pytest.mark.parametrize("fuel", [0, 1, 2, 500])
def test_a_spawn_chain_pays_fuel_and_stops(fuel):
    """Each task spawns the next and ends, with no back-edge: spawn's unit of fuel bounds it."""
    r = same(asm(SPAWN_CHAIN), traced=True, fuel=fuel)
    assert (r.status, r.fuel_used, r.tasks_spawned) == ("limit", fuel, fuel + 1)


CONN_CHURN = '''
task server {
    let ch = channel("s", MANY)
    let held = array(4)
    let n = 0
    loop {
        let m, op, x, me = recv(ch)
        if op == 1 {                    # keep the message unanswered, its client may close
            held[n % 4] = m
            n += 1
            continue
        }
        if op == 2 && x != me {         # push to connection x (not the caller's)
            print("push", x, try push(ch, x, 7))
        }
        if op == 3 {                    # answer what was held: data and id of each
            let i = 0
            while i < 4 {
                let h = held[i]
                if h != 0 {
                    print("held", data(h), conn(h), try reply(h, 1))
                    held[i] = 0
                }
                i += 1
            }
        }
        if op == 4 { close(ch); break }
        set_data(m, op * 100 + x)
        reply(m, conn(m))
    }
}
task churn(k) {
    let i = 0
    while i < k {
        let c = open("s")
        if i % 5 == 0 { send(c, 1, i) }
        call(c, 0, i)
        close(c)
        i += 1
    }
    print("churn done", k)
    spawn boss()
}
task waiter {
    let c = open("s")
    let e, h, w = try recv(c)
    print("waiter", e, w)
}
task boss {
    let c = open("s")
    let me = call(c, 0, 0)
    let i = 1
    while i < 40 {
        call(c, 2, i, me)
        i += 7
    }
    call(c, 3)
    send(c, 4)
    print("boss done")
}
spawn server()
spawn waiter()
spawn churn(30)
'''


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_connections_open_close_push_and_held_messages(seed):
    """Many connections opened and closed in turn, some with messages the server still
    holds: the table by id finds every open one, never a closed one, and a held message's
    data and id stay readable after its client closed, the same as the reference."""
    r = same(_compiled(CONN_CHURN), traced=True, seed=seed, fuel=2_000_000)
    assert "held" in r.output and "push" in r.output
