"""Unit tests of the x86 backend: hand-written programs with known results."""
from __future__ import annotations

import pytest

from mikro.backends import x86
from mikro.vm.options import RunOptions
from mikro.vm.asm import assemble as asm


def run(text: str, **kw):
    return x86.run(asm(text), RunOptions(**kw))


def test_print_arith_exit():
    r = run('''
    .task main
    .boot main
        li a0, "hello"
        sys puts
        li s0, 6
        li s1, -7
        mul a0, s0, s1
        sys puti
        sys putnl
        li a0, 3
        sys exit
    ''')
    assert r.status == "clean"
    assert r.output == "hello -42\n"
    assert r.exits == {1: ("main", 3)}
    assert r.tasks_spawned == 1


def test_integer_rules():
    r = run('''
    .task main
    .boot main
        lk s0, -9223372036854775808
        li s1, -1
        div a0, s0, s1
        sys puti
        rem a0, s0, s1
        sys puti
        li s2, 7
        li s3, -2
        div a0, s2, s3
        sys puti
        rem a0, s2, s3
        sys puti
        li s4, 65
        shl a0, s2, s4
        sys puti
        shr a0, s1, s4
        sys puti
        ushr a0, s1, s4
        sys puti
        lt a0, s1, s2
        sys puti
        sys putnl
        li a0, 0
        sys exit
    ''')
    assert r.output == "-9223372036854775808 0 -3 1 14 -1 9223372036854775807 1\n"


def test_loop_fuel_counted_on_back_edges():
    r = run('''
    .task main
    .boot main
        li s0, 10
    loop:
        addi s0, s0, -1
        bnz s0, loop
        mov a0, s0
        sys puti
        sys putnl
        li a0, 0
        sys exit
    ''')
    assert r.output == "0\n"
    assert r.fuel_used == 9


def test_fuel_limit_stops_at_the_instruction():
    r = run('''
    .task main
    .boot main
    loop:
        addi s0, s0, 1
        jmp loop
    ''', fuel=2500)
    assert r.status == "limit"
    assert r.fuel_used == 2500
    assert [(w.task, w.state, w.where.pc) for w in r.waiting] == [(1, "ready", 1)]


def test_calls_and_chain():
    r = run('''
    .task main
    .boot main
        li a0, 5
        call f
        sys puti
        sys putnl
        li a0, 0
        sys exit
    .func f 1
    f:
        enter 2
        st lr, sp, 0
        st fp, sp, 1
        addi fp, sp, 0
        addi a0, a0, 1
        li s0, 0
        div a0, a0, s0
        ld lr, sp, 0
        ld fp, sp, 1
        leave 2
        ret
    ''')
    assert r.status == "fault"
    (f,) = r.faults
    assert f.reason == "division by zero"
    assert f.where.pc == 12
    assert f.where.chain == (2,)


@pytest.mark.parametrize("body, reason", [
    ("li s0, -1\n ld a0, s0, 0", "memory access out of bounds at -1"),
    ("li s0, 40000\n st a0, s0, 0", "memory access out of bounds at 40000"),
    ("li s0, -3\n alloc a0, s0", "negative array size -3"),
    ("li s0, 3\n alloc s1, s0\n li s2, 3\n ald a0, s1, s2", "index 3 out of range for array of length 3"),
    ("li s1, 0\n alen a0, s1", "bad array reference"),
    ("enter 40000", "stack overflow"),
    ("li lr, 7\n ret", "bad return address"),
    ('trap "assertion failed: x > 0"', "assertion failed: x > 0"),
    ("li a0, 9\n sys close", "close(9) failed: E_BADHANDLE (not a handle of this task (never opened, closed, stale or of the wrong kind))"),
])
def test_faults(body, reason):
    r = run(f'''
    .task main
    .boot main
        {body}
        li a0, 0
        sys exit
    ''')
    assert r.status == "fault"
    assert [f.reason for f in r.faults] == [reason]


def test_spawn_yield_round_robin():
    r = run('''
    .task main
    .task worker 1
    .boot main
        li a0, 1
        li a1, 10
        sys spawn
        li a0, 1
        li a1, 20
        sys spawn
        li a0, 0
        sys exit
    worker:
        mov s0, a0
        li s1, 3
    again:
        mov a0, s0
        sys puti
        sys putnl
        sys yield
        addi s1, s1, -1
        bnz s1, again
        li a0, 0
        sys exit
    ''')
    assert r.output == "10\n20\n10\n20\n10\n20\n"
    assert r.tasks_spawned == 3


def test_preemption_interleaves_busy_tasks():
    text = '''
    .task main
    .task busy 1
    .boot busy 1
    .boot busy 2
    main:
        li a0, 0
        sys exit
    busy:
        mov s0, a0
        li s1, 1500
    loop:
        addi s1, s1, -1
        bnz s1, loop
        mov a0, s0
        sys puti
        sys putnl
        li a0, 0
        sys exit
    '''
    r = run(text)
    # each task runs 1000 units, is preempted, then finishes in its second slice
    assert r.output == "1\n2\n"
    assert r.fuel_used == 2 * 1499
    r = run(text, seed=12345)
    assert sorted(r.output.split()) == ["1", "2"]


def test_compiled_program_runs_twice_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path))
    p = asm('''
    .task main
    .boot main
        li a0, "x"
        sys puts
        sys putnl
        li a0, 0
        sys exit
    ''')
    assert x86.compile(p).tier == "interpreter"        # nothing of it cached yet
    c = x86.compile(p, tier="optimised")
    assert c.run().output == "x\n"
    assert c.run(RunOptions(seed=3)).output == "x\n"
    assert list(tmp_path.iterdir())
    again = x86.compile(p)                            # from the cache: optimised at once
    assert again.tier == "optimised" and again.run().output == "x\n"


def test_inspect():
    p = asm('''
    .task main
    .boot main
        li a0, 0
        sys exit
    ''')
    assert "define i64 @\"mk_run\"" in x86.inspect_ir(p)
    assert "mk_run" in x86.inspect_asm(p)


ECHO_SERVER = '''
    .task server
    .task client 1
    .boot server
    .boot client 1
    .boot client 2
    server:
        li a0, "echo"
        li a1, 2
        sys channel
        mov s0, a1
    serve:
        mov a0, s0
        sys recv
        mov s1, a1
        mov s2, a2
        mov a0, s1
        sys data
        add s3, a1, s2
        mov a0, s1
        mov a1, s3
        sys set_data
        mov a0, s1
        sys conn
        mov s4, a1
        mov a0, s1
        mov a1, s3
        mov a2, s4
        sys reply
        jmp serve
    client:
        mov s0, a0
        li a0, "echo"
        sys open
        mov s1, a1
        li s2, 3
    again:
        mov a0, s1
        mov a1, s0
        sys call
        mov s3, a2
        mov a0, a1
        sys puti
        mov a0, s3
        sys puti
        sys putnl
        addi s2, s2, -1
        bnz s2, again
        li a0, 0
        sys exit
'''


def test_many_channel_call_reply_data_conn():
    r = run(ECHO_SERVER)
    assert r.status == "clean"
    assert r.output == "1 1\n2 2\n2 1\n4 2\n3 1\n6 2\n"
    assert [(w.task, w.state, w.handle) for w in r.waiting] == [(1, "recv", 0)]
    assert r.exits == {2: ("client", 0), 3: ("client", 0)}


def test_one_channel_send_recv_and_close():
    r = run('''
    .task a
    .task b
    .boot a
    .boot b
    a:
        li a0, "pipe"
        li a1, 1
        sys channel
        mov s0, a1
        mov a0, s0
        li a1, 7
        li a2, 8
        sys send
        mov a0, s0
        sys recv
        mov a0, a2
        sys puti
        sys putnl
        mov a0, s0
        sys close
        li a0, 0
        sys exit
    b:
        li a0, "pipe"
        sys open
        mov s0, a1
        mov a0, s0
        sys recv
        add a0, a2, a3
        sys puti
        sys putnl
        mov a0, s0
        li a1, 42
        sys send
        mov a0, s0
        sys try recv
        sys puti
        sys putnl
        li a0, 0
        sys exit
    ''')
    assert r.status == "clean", r
    assert r.output == "15\n42\n-2\n"


def test_open_waits_for_the_name():
    r = run('''
    .task a
    .task b
    .boot a
    .boot b
    a:
        li a0, "late"
        sys open
        mov a0, a1
        sys recv
        mov a0, a2
        sys puti
        sys putnl
        li a0, 0
        sys exit
    b:
        sys yield
        li a0, "late"
        li a1, 1
        sys channel
        mov a0, a1
        li a1, 5
        sys call
        li a0, 0
        sys exit
    ''')
    assert r.output == "5\n"
    assert [f.reason for f in r.faults] == [
        "call(0) failed: E_CLOSED (the other end is gone, or the message was dropped unanswered)"]
    assert r.faults[0].where.pc == 15


def test_deadlock_lists_waiters():
    r = run('''
    .task a
    .task b
    .boot a
    .boot b
    a:
        li a0, "never"
        sys open
        li a0, 0
        sys exit
    b:
        li a0, "y"
        li a1, 1
        sys channel
        mov a0, a1
        sys recv
        li a0, 0
        sys exit
    ''')
    assert r.status == "deadlock"
    assert [(w.task, w.state, w.handle, w.where.pc) for w in r.waiting] == \
        [(1, "open", None, 1), (2, "recv", 0, 8)]


def test_stale_mhandle_and_push():
    r = run('''
    .task server
    .task client
    .boot server
    .boot client
    server:
        li a0, "srv"
        li a1, 2
        sys channel
        mov s0, a1
        mov a0, s0
        sys recv
        mov s1, a1
        mov a0, s1
        sys reply
        mov a0, s1
        sys try reply
        sys puti
        mov a0, s0
        li a1, 1
        li a2, 99
        sys push
        mov a0, s0
        li a1, 5
        sys try push
        sys puti
        sys putnl
        li a0, 0
        sys exit
    client:
        li a0, "srv"
        sys open
        mov s0, a1
        mov a0, s0
        sys call
        mov a0, s0
        sys recv
        mov a0, a2
        sys puti
        sys putnl
        li a0, 0
        sys exit
    ''')
    assert r.status == "clean", r
    assert r.output == "99\n-1 -7\n"


def test_task_end_closes_handles_and_wakes_callers():
    r = run('''
    .task server
    .task client
    .boot server
    .boot client
    server:
        li a0, "srv"
        li a1, 2
        sys channel
        mov a0, a1
        sys recv
        li a0, 1
        sys exit
    client:
        li a0, "srv"
        sys open
        mov a0, a1
        sys try call
        sys puti
        sys putnl
        mov a0, a1
        li a0, 0
        sys call
        li a0, 0
        sys exit
    ''')
    assert r.output == "-2\n"
    assert r.exits == {1: ("server", 1)}
    assert [f.reason for f in r.faults] == ["call(0) failed: E_CLOSED (the other end is gone, or the message was dropped unanswered)"]
    assert r.status == "fault"


def test_inspect_asm_for_other_targets():
    p = asm('''
    .task main
    .boot main
        li a0, 0
        sys exit
    ''')
    assert "mk_run" in x86.inspect_asm(p, "aarch64")
    with pytest.raises(ValueError):
        x86.inspect_asm(p, "z80")


def test_unverified_program_is_refused():
    from mikro.vm import isa
    p = asm('''
    .task main
    .boot main
        li a0, 0
        sys exit
    ''')
    from mikro.vm.verify import VerifyError
    p.code[1] = isa.make("jmp", imm=99)
    with pytest.raises(VerifyError):
        x86.compile(p, cache=False)


@pytest.mark.parametrize("seed", [0, 5])
def test_pausing_native_code_often_changes_nothing(monkeypatch, seed):
    import sys
    native = sys.modules["mikro.backends.x86.run"]
    p = asm(ECHO_SERVER)
    want = x86.run(p, RunOptions(seed=seed))
    monkeypatch.setattr(native, "CHUNK", 3)
    monkeypatch.setattr(native, "BUDGET", 2)
    got = x86.run(p, RunOptions(seed=seed))
    assert got == want


def test_seeded_runs_repeat():
    p = asm(ECHO_SERVER)
    runs = [x86.run(p, RunOptions(seed=s)) for s in (9, 9, 10)]
    assert runs[0] == runs[1]
    assert sorted(runs[0].output.splitlines()) == sorted(runs[2].output.splitlines())


def test_a_large_program_loads_in_either_tier():
    """Six thousand VM instructions of every shape: with the small code model the JIT's
    relocations between far-apart sections overflowed and LLVM aborted the process."""
    from mikro import compile_source
    from mikro.bench.programs import mixed_code
    program = compile_source(mixed_code(1000))
    assert len(program.code) > 5000
    r = x86.compile(program, cache=False, tier="baseline").run()
    assert r.status == "clean" and r.output.splitlines()[-1] == "-512"


def test_native_output_is_taken_in_small_batches():
    """x86: the native buffer a call prints into stays small, however fast the program
    prints (it held the output of 4M units of fuel, over 200 MiB, at a time)."""
    import mikro as mk
    backend = "x86"
    printer = mk.compile('''
task t {
    let i = 0
    while i < 2000000 {
        print("line", i, "of a program that prints fast")
        i += 1
    }
}
spawn t()
''')
    k = mk.Kernel(printer, backend=backend, output_limit=0)
    assert k.run().output_dropped == 2000000
    assert k._machine.k.out_cap < 16 << 20
    k.close()


def test_the_program_s_own_ir_and_assembly(tmp_path):
    """`mikro ir --program` and `mikro asm --program`: the program's part only, the IR
    under its source lines in pc order."""
    from typer.testing import CliRunner

    from mikro.cli import app
    src = tmp_path / "p.mk"
    src.write_text('fn f(a) { return a * 3 }\ntask t { print(f(2)) }\nspawn t()\n')
    r = CliRunner().invoke(app, ["ir", "--program", str(src)])
    assert r.exit_code == 0, r.output
    assert f"; {src}:1 | fn f(a) {{ return a * 3 }}" in r.output
    assert f"; {src}:2 | task t {{ print(f(2)) }}" in r.output
    assert "define" not in r.output and "call i64 @\"sys_puti\"" in r.output
    labels = [line.split(":")[0].strip('"').split(".")[0] for line in r.output.splitlines()
              if line[:1].isalpha() or line.startswith('"')]
    pcs = [int(x[2:]) for x in labels if x.startswith("pc")]
    assert pcs == sorted(pcs) and pcs[0] == 0
    full = CliRunner().invoke(app, ["ir", str(src)]).output
    assert "define internal i64 @\"sys_puti\"" in full
    r = CliRunner().invoke(app, ["asm", "-p", str(src)])
    assert r.exit_code == 0 and r.output.startswith("mk_run:")
    assert "sys_puti:" not in r.output and ".size\tmk_run" in r.output
    # the machine code under its source lines, carried through O2 as a line table
    assert f"# {src}:1 | fn f(a) {{ return a * 3 }}" in r.output
    assert f"# {src}:2 | task t {{ print(f(2)) }}" in r.output
    assert ".loc" not in r.output


def test_a_run_starts_on_zero_memory_after_runs_that_wrote_it():
    """The native memory of a closed run is kept for the next run of the same shape
    (backends/x86/arena.py): the next run must still find every word and task slot zero,
    also where the last run's tasks never ended (their memory was not cleared at exit)."""
    p = asm('''
    .task main
    .boot main
        ld s0, zero, 100
        li s1, 7
        st s1, zero, 100
        li a0, "mine"
        li a1, 1
        sys channel
        mov s2, a1
        mov a0, s0
        sys puti
        mov a0, s2
        sys puti
        sys putnl
        sys wait
        li a0, 0
        sys exit
    ''')
    cp = x86.compile(p, tier="interpreter")
    for seed in range(4):
        r = cp.run(RunOptions(seed=seed))
        assert r.output == "0 0\n", r.output          # not 7, not the second chandle
