"""Hostile programs on the x86 backend: whatever a program does, only its task suffers and the
Python process survives, with bounded time and memory."""
from __future__ import annotations

import pytest

from mikro.backends import x86
from mikro.vm import abi
from mikro.vm.options import RunOptions
from mikro.vm.asm import assemble as asm

E_BADHANDLE = "E_BADHANDLE (not a handle of this task (never opened, closed, stale or of the wrong kind))"


def run(text: str, diff: bool = True, **kw):
    """Run on x86; small runs must also match the reference interpreter field by field."""
    program = asm(text)
    got = x86.run(program, RunOptions(**kw))
    if diff and "time_limit" not in kw:
        # the native interpreter too: it reads the program's tables from native memory
        assert x86.compile(program, tier="interpreter").run(RunOptions(**kw)) == got
    if diff and "time_limit" not in kw:
        from mikro.vm import interp
        want = interp.run(program, RunOptions(**kw))
        for field in ("status", "output", "faults", "waiting", "exits", "limit", "fuel_used",
                      "tasks_spawned"):
            assert getattr(got, field) == getattr(want, field), field
    return got


def test_hundred_thousand_tasks():
    r = run('''
    .task main
    .task child 1
    .boot main
        li s0, 100000
    loop:
        li a0, 1
        mov a1, s0
        sys spawn
        addi s0, s0, -1
        bnz s0, loop
        li a0, 0
        sys exit
    child:
        li a0, "nobody"
        sys open
        li a0, 0
        sys exit
    ''', diff=False)
    assert r.tasks_spawned == 100001
    assert r.status == "deadlock"
    assert len(r.waiting) == 100000
    assert r.waiting[0].state == "open" and r.waiting[-1].task == 100001


def test_million_opens_and_closes():
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
        mov a0, a1
        sys conn
        mov a0, a1
        sys puti
        sys putnl
        li a0, 0
        sys exit
    client:
        li s0, 1000000
    loop:
        li a0, "srv"
        sys open
        mov a0, a1
        sys close
        addi s0, s0, -1
        bnz s0, loop
        li a0, "srv"
        sys open
        mov a0, a1
        sys send
        li a0, 0
        sys exit
    ''', diff=False)
    assert r.output == "1000001\n"
    assert r.status == "clean"


def test_max_tasks_gives_enospace_and_spawn_bomb_is_bounded():
    r = run('''
    .task bomb
    .boot bomb
        li a0, 0
        sys try spawn
        li a0, 0
        sys try spawn
        li a0, 0
        sys exit
    ''', fuel=20_000, max_tasks=50)
    # fuel, not time, ends the bomb: the same run on both backends, whatever the machine
    assert r.status == "limit" and r.limit == "fuel exhausted (20000 units)"
    assert r.tasks_spawned > 1000 and len(r.waiting) <= 50


def test_deep_recursion_overflows_the_stack():
    r = run('''
    .task main
    .boot main
        call f
        li a0, 0
        sys exit
    .func f
    f:
        enter 4
        st lr, sp, 0
        st fp, sp, 1
        addi fp, sp, 0
        call f
        ld lr, sp, 0
        ld fp, sp, 1
        leave 4
        ret
    ''', mem_words=4096)
    assert r.status == "fault"
    (f,) = r.faults
    assert f.reason == "stack overflow"
    assert len(f.where.chain) == 64 and set(f.where.chain) == {8}


@pytest.mark.parametrize("addr", [-(1 << 63), -1, 1 << 15, (1 << 63) - 1])
def test_wild_addresses(addr):
    r = run(f'''
    .task main
    .boot main
        lk s0, {addr}
        ld a0, s0, 0
        li a0, 0
        sys exit
    ''')
    assert [f.reason for f in r.faults] == [f"memory access out of bounds at {addr}"]


def test_smashed_return_address():
    r = run('''
    .task main
    .boot main
        call f
        li a0, 0
        sys exit
    .func f
    f:
        enter 2
        st lr, sp, 0
        li s0, 12345
        st s0, sp, 0
        ld lr, sp, 0
        leave 2
        ret
    ''')
    assert [f.reason for f in r.faults] == ["bad return address"]
    assert r.faults[0].where.pc == 9


MEM = 4096
BOUNDARIES = [-(1 << 63), -(1 << 63) + 1, -2, -1, 0, 1, MEM - 3, MEM - 2, MEM - 1, MEM,
              MEM + 1, (1 << 63) - 2, (1 << 63) - 1]


@pytest.mark.parametrize("value", BOUNDARIES)
@pytest.mark.parametrize("word", ["fp", "saved fp", "return address"])
def test_a_smashed_frame_never_leads_the_fault_report_astray(word, value):
    """A fault report walks the call chain from fp (docs/vm.md, exact arithmetic): a forged
    fp, saved fp or return address at any boundary gives the reference's chain, reading
    nothing outside the task's memory. The task below it in memory leaves a return site in
    its last word, which a walk that strayed one word low would take for a frame."""
    smash = {"fp": f"lk fp, {value}",
             "saved fp": f"lk s0, {value}\n st s0, fp, 1",
             "return address": f"lk s0, {value}\n st s0, fp, 0"}[word]
    r = run(f'''
    .task below
    .task main
    .boot below
    .boot main
    below:
        li s0, 6                ; the pc after main's call: a return site
        lk s1, {MEM - 1}
        st s0, s1, 0
        li a0, "nobody"
        sys open
    main:
        call g
        li a0, 0
        sys exit
    .func g
    g:
        enter 2
        st lr, sp, 0
        st fp, sp, 1
        addi fp, sp, 0
        call f
    .func f
    f:
        enter 2
        st lr, sp, 0
        st fp, sp, 1
        addi fp, sp, 0
        {smash}
        li a0, 1
        div a0, a0, zero
        li a0, 0
        sys exit
    ''', mem_words=MEM)
    assert [f.reason for f in r.faults] == ["division by zero"]
    assert len(r.faults[0].where.chain) <= 2


@pytest.mark.parametrize("h", [-1, 63, 64, 1 << 20, (1 << 62) + 64, 64 | (5 << 7)])
@pytest.mark.parametrize("call", ["send", "call", "recv", "reply", "close", "push", "data"])
def test_forged_handles(h, call):
    r = run(f'''
    .task main
    .boot main
        lk a0, {h}
        sys {call}
        li a0, 0
        sys exit
    ''')
    assert [f.reason for f in r.faults] == [f"{call}({h}) failed: {E_BADHANDLE}"]


def test_huge_allocations_and_forged_array_references():
    r = run('''
    .task main
    .task t2
    .task t3
    .boot main
    .boot t2
    .boot t3
    main:
        lk s0, 9223372036854775807
        alloc a0, s0
        li a0, 0
        sys exit
    t2:
        li s0, 100
        ald a0, s0, s0
        li a0, 0
        sys exit
    t3:
        li s0, 2
        alloc s1, s0
        li s2, 5
        st s2, s1, -1
        li s3, 4
        ald a0, s1, s3
        li a0, 0
        sys exit
    ''', mem_words=64)
    # a forged length lets an array reach only the task's own memory
    assert [f.reason for f in r.faults] == ["out of memory", "bad array reference"]
    assert r.exits == {3: ("t3", 0)}


def test_runaway_loop_is_stopped_by_time_and_fuel():
    text = '''
    .task main
    .boot main
    loop:
        li a0, "spam"
        sys puts
        sys putnl
        jmp loop
    '''
    r = run(text, time_limit=0.3)
    assert r.status == "limit" and r.limit.startswith("time limit")
    lines = []
    r = run(text, diff=False, fuel=1000, on_output=lines.append)
    assert r.status == "limit" and r.fuel_used == 1000
    assert len(lines) == 1001 and r.output.count("\n") == 1001


def test_tiny_memory():
    r = run('''
    .task main
    .boot main
        enter 2
        li a0, 0
        sys exit
    ''', mem_words=1)
    assert [f.reason for f in r.faults] == ["stack overflow"]


def test_address_is_reported_exactly():
    r = run('''
    .task main
    .boot main
        lk s0, 9223372036854775807
        ld a0, s0, 2
        li a0, 0
        sys exit
    ''')
    assert [f.reason for f in r.faults] == ["memory access out of bounds at 9223372036854775809"]


def test_small_memories_share_pages_but_not_data():
    r = run('''
    .task keeper
    .task quitter
    .task fresh
    .boot keeper
    .boot quitter
    keeper:
        li s0, 42
        st s0, zero, 5
        sys yield
        sys yield
        ld a0, zero, 5
        sys puti
        li a0, 2
        sys spawn
        li a0, 0
        sys exit
    quitter:
        li s0, 7
        st s0, zero, 5
        li a0, 0
        sys exit
    fresh:
        ld a0, zero, 5
        sys puti
        sys putnl
        li a0, 0
        sys exit
    ''', mem_words=64)
    # the keeper's word survives its neighbour's end; a reused slot starts zeroed
    assert r.output == "42\n0\n"


def test_a_stale_mhandle_stays_stale_past_two_to_the_24_messages():
    """A slot's generation does not wrap into a live value (docs/kernel.md): after 2^24 + 1
    messages through one mhandle slot the first mhandle is still refused, and the client
    whose message now holds the slot never sees the forged reply."""
    from mikro import compile_source
    program = compile_source('''
task server {
    let ch = channel("s", MANY)
    let m0, x0 = recv(ch)
    reply(m0, x0)
    let i = 0
    while i < 16777215 {
        let m, x = recv(ch)
        reply(m, x)
        i += 1
    }
    let m, x = recv(ch)
    print(m != m0, try reply(m0, 666), try data(m0))
    reply(m, x + 1)
}
task client {
    let c = open("s")
    let i = 0
    while i < 16777216 {
        call(c, i)
        i += 1
    }
    print(call(c, 7))
}
spawn server()
spawn client()
''')
    r = x86.run(program, RunOptions())
    assert r.status == "clean"
    assert r.output == f"1 {abi.ERRORS['E_BADHANDLE'][0]} {abi.ERRORS['E_BADHANDLE'][0]}\n" \
                       "8\n"


def test_open_and_close_reuse_the_storage_of_connections():
    """A connection's storage is reused once it is closed and no mhandle names it, and the
    server's table holds the open ones only: 100,000 opens and closes, some with a message
    the server still holds, leave a handful of allocations, not one or more per open."""
    import ctypes

    import mikro
    program = mikro.compile('''
task server {
    let ch = channel("s", MANY)
    let held = array(8)
    let n = 0
    loop {
        let m, x = recv(ch)
        if x == 1 {
            let old = held[n % 8]
            if old != 0 { reply(old) }
            held[n % 8] = m
            n += 1
        } else {
            reply(m, conn(m))
        }
    }
}
task client {
    let i = 0
    let last = 0
    while i < 100000 {
        let c = open("s")
        if i % 10 == 0 { send(c, 1) }
        last = call(c, 0)
        close(c)
        i += 1
    }
    print(last)
}
spawn server()
spawn client()
''')
    k = mikro.Kernel(program, backend="x86")
    r = k.run()
    assert r.output == "100000\n"
    allocations, p = 0, k._machine.k.allocs
    while p:
        allocations += 1
        p = ctypes.c_void_p.from_address(p).value
    k.close()
    assert allocations < 64
