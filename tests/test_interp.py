"""The reference interpreter: integer rules, fuel and preemption, scheduling, faults, reports."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mikro.vm import abi, interp, isa
from mikro.vm.asm import assemble
from mikro.vm.image import Boot, Function, Pos, Program, TaskType
from mikro.vm.options import RunOptions
from mikro.vm.result import Waiter, Where
from mikro.vm.verify import VerifyError

MIN, MAX = -(1 << 63), (1 << 63) - 1
MASK = (1 << 64) - 1
EDGE = [0, 1, -1, 2, -2, 3, 63, 64, 65, -64, MIN, MAX, MIN + 1, MAX - 1, 0x5555_5555_5555_5555]
EXIT = "li a0, 0\nsys exit\n"
PRINT = "sys puti\nsys putnl\n"


def run(text: str, **kw):
    p = assemble(text, "i.masm")
    return p, interp.run(p, RunOptions(**kw))


def signed(v: int) -> int:
    v &= MASK
    return v - (1 << 64) if v >> 63 else v


def model(name: str, x: int, y: int) -> int | None:
    """Python's arithmetic under the rules of docs/vm.md (None: the task faults)."""
    if name in ("div", "rem"):
        if y == 0:
            return None
        q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
        return signed(q) if name == "div" else signed(x - q * y)
    return signed({
        "add": x + y, "sub": x - y, "mul": x * y, "and": x & y, "or": x | y, "xor": x ^ y,
        "shl": x << (y & 63), "shr": x >> (y & 63), "ushr": (x & MASK) >> (y & 63),
        "eq": int(x == y), "ne": int(x != y), "lt": int(x < y), "le": int(x <= y),
    }[name])


ALU = [op.name for op in isa.OPCODES if (op.a, op.b, op.c, op.imm) == ("w", "r", "r", None)
       and op.name != "ald"]
BRANCH = {"beq": lambda a, b: a == b, "bne": lambda a, b: a != b, "blt": lambda a, b: a < b,
          "bge": lambda a, b: a >= b, "bz": lambda a, b: a == 0, "bnz": lambda a, b: a != 0}
values = st.one_of(st.sampled_from(EDGE), st.integers(MIN, MAX))


def test_print_and_exit():
    p, r = run('.task main\nli a0, "hello"\nsys puts\nli a0, 42\nsys puti\nsys putnl\n'
               'li a0, 3\nsys exit\n.boot main')
    assert (r.status, r.output, r.exits) == ("clean", "hello 42\n", {1: ("main", 3)})
    assert r.report(p) == "task main#1 exited with code 3\n"


def test_run_verifies_first():
    p = assemble(".task t\nnop\n")
    with pytest.raises(VerifyError):
        interp.run(p)


# -- integer rules ------------------------------------------------------------------------------
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALU), values, values)
def test_alu_against_python(name, x, y):
    p, r = run(f".task t\nlk s0, {x}\nlk s1, {y}\n{name} s2, s0, s1\nmov a0, s2\n{PRINT}{EXIT}.boot t")
    want = model(name, x, y)
    if want is None:
        assert r.status == "fault" and r.faults[0].reason == "division by zero"
    else:
        assert r.output == f"{want}\n"


@settings(max_examples=200, deadline=None)
@given(values, st.integers(isa.IMM_MIN, isa.IMM_MAX))
def test_addi_and_li(x, imm):
    p, r = run(f".task t\nlk s0, {x}\naddi a0, s0, {imm}\n{PRINT}li a0, {imm}\n{PRINT}{EXIT}.boot t")
    assert r.output == f"{signed(x + imm)}\n{imm}\n"


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(BRANCH)), values, values)
def test_branches_against_python(name, x, y):
    ops = "s0, s1" if name in ("beq", "bne", "blt", "bge") else "s0"
    p, r = run(f".task t\nlk s0, {x}\nlk s1, {y}\n{name} {ops}, yes\nli a0, 0\njmp out\n"
               f"yes:\nli a0, 1\nout:\n{PRINT}{EXIT}.boot t")
    assert r.output == f"{int(BRANCH[name](x, y))}\n"


def test_integer_edge_cases():
    cases = [("div", MIN, -1, MIN), ("rem", MIN, -1, 0), ("rem", -7, 2, -1), ("rem", 7, -2, 1),
             ("div", -7, 2, -3), ("shl", 1, 64, 1), ("shl", 1, -1, MIN), ("shr", MIN, 63, -1),
             ("ushr", MIN, 63, 1), ("ushr", -1, 0, -1), ("mul", MAX, 2, -2), ("add", MAX, 1, MIN)]
    for name, x, y, want in cases:
        assert model(name, x, y) == want
        p, r = run(f".task t\nlk s0, {x}\nlk s1, {y}\n{name} a0, s0, s1\n{PRINT}{EXIT}.boot t")
        assert r.output == f"{want}\n", (name, x, y)


# -- memory and arrays ----------------------------------------------------------------------------
def test_memory_is_private_and_zero_at_start():
    p, r = run(".task a\nli s0, 77\nst s0, zero, 100\nld a0, zero, 100\n" + PRINT + "sys yield\n" + EXIT +
               ".task b\nld a0, zero, 100\n" + PRINT + EXIT + ".boot a\n.boot b")
    assert r.output == "77\n0\n"


def test_arrays():
    p, r = run(".task t\nli s0, 3\nli s5, 9\nst s5, zero, 2\nalloc s1, s0\nalen a0, s1\n" + PRINT +
               "mov a0, s1\n" + PRINT + "li s2, 2\nli s3, 42\nast s3, s1, s2\nald a0, s1, s2\n" + PRINT +
               "ld a0, zero, 2\n" + PRINT + "alloc s4, s0\nmov a0, s4\n" + PRINT +
               "li s0, 0\nalloc s4, s0\nmov a0, s4\n" + PRINT + EXIT + ".boot t")
    # an array is its length word then its elements; the words are zeroed even if written before
    assert r.output == "3\n1\n42\n0\n5\n9\n"


def test_stack_starts_at_the_top_of_memory():
    p, r = run(".task t\nmov a0, sp\n" + PRINT + "mov a0, fp\n" + PRINT + EXIT + ".boot t", mem_words=500)
    assert r.output == "500\n500\n"


# -- faults -----------------------------------------------------------------------------------------
FAULTS = [
    ("li s0, 1\ndiv a0, s0, zero", "division by zero"),
    ("li s0, 1\nrem a0, s0, zero", "division by zero"),
    ("li s0, -3\nld a0, s0, 2", "memory access out of bounds at -1"),
    ("li s0, 1000\nst s0, s0, 24", "memory access out of bounds at 1024"),
    ("lk s0, 9223372036854775807\nld a0, s0, 1", "memory access out of bounds at 9223372036854775808"),
    ("li s0, 0\nli s1, 0\nald a0, s0, s1", "bad array reference"),
    ("li s0, 5000\nalen a0, s0", "bad array reference"),
    ("li s0, 2\nalloc s1, s0\nli s2, 2\nald a0, s1, s2", "index 2 out of range for array of length 2"),
    ("li s0, 2\nalloc s1, s0\nli s2, -1\nast s2, s1, s2", "index -1 out of range for array of length 2"),
    ("li s0, -4\nalloc s1, s0", "negative array size -4"),
    ("li s0, 1024\nalloc s1, s0", "out of memory"),
    ("li s0, 1023\nalloc s1, s0\nenter 1", "stack overflow"),
    ("enter 1025", "stack overflow"),
    ("ret", "bad return address"),
    ('trap "assertion failed: x > 0"', "assertion failed: x > 0"),
]


@pytest.mark.parametrize("body, reason", FAULTS)
def test_fault_reasons(body, reason):
    p, r = run(f".task t\n{body}\n{EXIT}.task other\nli a0, 1\n{PRINT}{EXIT}.boot t\n.boot other",
               mem_words=1024)
    assert r.status == "fault" and r.output == "1\n"        # the other task goes on
    line = body.count("\n") + 2
    assert r.faults == [interp.Fault(1, "t", reason, Where(line - 2, ()))]
    assert r.report(p) == f"fault in task t#1 at i.masm:{line}: {reason}\n"


def test_fault_inside_functions_reports_the_call_chain():
    text = (".task t\ncall f\n" + EXIT +
            ".func f\nenter 2\nst lr, sp, 0\nst fp, sp, 1\naddi fp, sp, 0\ncall g\nleave 2\nret\n"
            ".func g\nenter 2\nst lr, sp, 0\nst fp, sp, 1\naddi fp, sp, 0\n"
            "li s0, 1\ndiv a0, s0, zero\nleave 2\nret\n.boot t")
    p, r = run(text)
    assert r.faults[0].where == Where(15, (8, 1))
    assert r.report(p) == ("fault in task t#1 at i.masm:19: division by zero\n"
                           "  called from i.masm:10 in f\n  called from i.masm:2 in t\n")


def test_call_chain_walk_stops_at_garbage():
    # fp points at a word that is not a return site: no chain
    p, r = run(".task t\nli fp, 5\nli s0, 99\nst s0, zero, 5\ntrap \"x\"\n.boot t")
    assert r.faults[0].where == Where(3, ())
    # a cycle of frames is walked at most 64 times
    text = (".task t\ncall f\n" + EXIT + ".func f\nli s0, 1\nst s0, zero, 10\nli s0, 10\n"
            "st s0, zero, 11\nli fp, 10\ntrap \"x\"\n.boot t")
    p, r = run(text)
    assert r.faults[0].where == Where(8, (1,) * 64)


# -- fuel, preemption, limits -----------------------------------------------------------------------------
def counter(n: int, every: int) -> str:
    """A task that counts to n, printing its id and the count every `every` iterations."""
    return (f".task c 1\nmov s0, a0\nli s1, 0\nli s2, {n}\nli s3, {every}\nloop:\n"
            "rem s4, s1, s3\nbnz s4, skip\nmov a0, s0\nsys puti\nmov a0, s1\nsys puti\nsys putnl\n"
            "skip:\naddi s1, s1, 1\nblt s1, s2, loop\n" + EXIT)


def test_preemption_after_a_quantum():
    p, r = run(counter(2500, 500) + ".boot c 1\n.boot c 2")
    # each back-edge costs a unit; after QUANTUM units the task goes to the tail of the queue
    assert abi.QUANTUM == 1000
    assert r.output.split("\n")[:-1] == [
        "1 0", "1 500", "2 0", "2 500", "1 1000", "1 1500", "2 1000", "2 1500", "1 2000",
        "2 2000"]
    assert r.fuel_used == 2 * 2499


def test_forward_jumps_are_free_calls_and_returns_cost():
    p, r = run(".task t\njmp a\na:\ncall f\ncall f\n" + EXIT + ".func f\nret\n.boot t")
    assert r.status == "clean" and r.fuel_used == 4


def test_a_ret_loop_pays_fuel():
    # lr survives `ret`: returning to the site after a call just before it loops forever
    p, r = run(".task t\ncall f\n.func f\nli a0, \"x\"\nsys puts\nret\n.boot t", fuel=2500)
    assert r.status == "limit" and r.fuel_used == 2500
    assert r.output == "" and r.waiting[0].where.pc == 3
    p, r = run(".task t\ncall f\n.func f\nli a0, \"x\"\nsys puts\nret\n.task u\n" + PRINT + EXIT +
               ".boot t\n.boot u", fuel=2500)
    assert r.output == "0\n"           # preempted at the ret: the other task runs


def test_runaway_loop_hits_the_fuel_limit():
    p, r = run(".task t\nloop:\njmp loop\n.task u\nloop2:\nsys yield\njmp loop2\n.boot t\n.boot u",
               fuel=5000)
    assert r.status == "limit" and r.limit == "fuel exhausted (5000 units)"
    assert r.fuel_used == 5000
    assert r.waiting == [Waiter(1, "t", "ready", None, Where(0, ())),
                         Waiter(2, "u", "ready", None, Where(1, ()))]    # at its yield
    assert r.report(p) == ("limit: fuel exhausted (5000 units)\n  t#1 was running at i.masm:3\n"
                           "  u#2 was running at i.masm:6\n")
    assert r.exit_code == 5


def test_fuel_exactly_enough_is_clean():
    text = counter(10, 100) + ".boot c 1"
    p, r = run(text, fuel=9)
    assert r.status == "clean" and r.fuel_used == 9
    p, r = run(text, fuel=8)
    assert r.status == "limit" and r.fuel_used == 8


def test_the_same_fuel_gives_the_same_stop():
    text = counter(3000, 700) + ".boot c 1\n.boot c 2\n.boot c 3"
    a = [interp.run(assemble(text), RunOptions(fuel=f, seed=5)) for f in (3333, 3333)]
    assert a[0] == a[1]


def test_time_limit():
    p, r = run(".task t\nloop:\njmp loop\n.boot t", time_limit=0.2)
    assert r.status == "limit" and r.limit == "time limit of 0.2 s reached"
    assert r.waiting[0].state == "ready"


def test_keyboard_interrupt():
    def stop(line):
        raise KeyboardInterrupt
    p, r = run(".task t\nli a0, 1\n" + PRINT + "loop:\njmp loop\n.boot t", on_output=stop)
    assert r.status == "interrupted" and r.exit_code == 130
    assert r.report(p).startswith("interrupted: keyboard interrupt\n")


# -- scheduling with seeds ------------------------------------------------------------------------------
def test_seeds_give_different_reproducible_interleavings():
    text = ".task t 1\nmov s0, a0\nli s1, 4\nloop:\nmov a0, s0\n" + PRINT + \
        "sys yield\naddi s1, s1, -1\nbnz s1, loop\n" + EXIT + "".join(f".boot t {i}\n" for i in range(4))
    outs = {seed: run(text, seed=seed)[1].output for seed in range(6)}
    assert outs[0] == "0\n1\n2\n3\n" * 4
    assert len(set(outs.values())) > 2
    for seed in range(6):
        assert run(text, seed=seed)[1].output == outs[seed]
        assert sorted(outs[seed].split()) == sorted(outs[0].split())


# -- syscall registers ---------------------------------------------------------------------------------
def test_syscall_results_and_untouched_registers():
    text = (".task t\nli a1, 11\nli a2, 12\nli a6, 16\nsys self\nmov s0, a0\nmov s1, a1\nmov s2, a2\n"
            "mov s3, a6\nli a0, 99\nli a1, 5\nsys try spawn\nmov s4, a0\nmov s5, a1\n"
            + "".join(f"mov a0, s{i}\nsys puti\n" for i in range(6)) + "sys putnl\n" + EXIT + ".boot t")
    p, r = run(text)
    assert r.output == f"0 1 12 16 {abi.ERRORS['E_INVAL'][0]} 0\n"


# -- hostile programs -------------------------------------------------------------------------------------
@st.composite
def hostile(draw) -> Program:
    n = draw(st.integers(2, 25))
    code = []
    for _ in range(n):
        op = draw(st.sampled_from(isa.OPCODES))
        f = {x: draw(st.integers(1, isa.NREGS - 1)) for x in "abc"}
        imm = {None: st.just(0), "int": st.sampled_from([0, 1, -1, 5, 64, -64, isa.IMM_MAX, isa.IMM_MIN]),
               "pc": st.integers(0, n), "fn": st.just(0), "k": st.just(0), "str": st.just(0),
               "sys": st.integers(0, len(abi.SYSCALLS) - 1).map(lambda s: s | abi.TRY * (s % 2))}[op.imm]
        code.append(isa.Instr(op.code, *(f[x] if getattr(op, x) else 0 for x in "abc"), draw(imm)))
    code.append(isa.make("jmp", imm=0))
    return Program(code=code, consts=[draw(values)], strings=["x"], files=["h.mk"],
                   lines=[Pos(0, i, 1) for i in range(len(code))],
                   tasks=[TaskType("h", 0, 6)], functions=[Function("f", 0, len(code), 0)],
                   boot=[Boot(0, tuple(draw(st.lists(values, max_size=6))))] * 2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile(), st.integers(0, 3))
def test_hostile_programs_never_raise(p, seed):
    r = interp.run(p, RunOptions(fuel=3000, mem_words=64, max_tasks=8, seed=seed))
    assert r.status in ("clean", "fault", "deadlock", "limit")
    r.report(p)


def test_deadlock_inside_a_function_reports_the_chain():
    text = (".task t\ncall f\n" + EXIT + ".func f\nenter 2\nst lr, sp, 0\nst fp, sp, 1\n"
            "addi fp, sp, 0\nli a0, \"nobody\"\nsys open\nleave 2\nret\n.boot t")
    p, r = run(text)
    assert r.status == "deadlock" and r.exit_code == 4
    assert r.waiting == [Waiter(1, "t", "open", None, Where(8, (1,)))]
    assert r.report(p) == ("deadlock: no task can run\n  t#1 waits in open at i.masm:11\n"
                           "    called from i.masm:2 in t\n")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 9000), st.integers(0, 3))
def test_a_fuel_limit_cuts_the_same_run_short(fuel, seed):
    text = counter(1500, 250) + ".boot c 1\n.boot c 2\n.boot c 3"
    full = interp.run(assemble(text), RunOptions(seed=seed))
    cut = interp.run(assemble(text), RunOptions(seed=seed, fuel=fuel))
    assert full.output.startswith(cut.output)
    assert cut.fuel_used == min(fuel, full.fuel_used)
    assert cut.status == ("clean" if fuel >= full.fuel_used else "limit")
