"""Handles on the move (docs/kernel.md): send_move, call_move, reply_move, pair, and
names built at run time (channel and open given an array).

Every program runs on the reference interpreter and on the three x86 tiers, paused and
moved between tiers, traced and untraced (test_x86_diff.same): all must agree exactly, and
each test also checks what the run printed against what docs/kernel.md says it must."""
from __future__ import annotations

import dataclasses

from mikro.lang import compile_source
from mikro.vm import abi, interp
from mikro.vm.options import RunOptions
from test_longmsg import check          # both backends, every tier, traced: "lm.mk"

E = {name: code for name, (code, _) in abi.ERRORS.items()}


# -- moving a chandle -----------------------------------------------------------------
PRIVATE = """
task server {
    let s = channel("srv", MANY)
    loop {
        let m, op = recv(s)
        let mine, theirs = pair()
        reply_move(m, theirs, op * 2)       # the caller's end leaves this table
        let h, x = recv(mine)
        reply(h, x * 10)
        close(mine)
    }
}
task client(id) {
    let c = open("srv")
    let p, twice = call(c, id)
    print("client", id, "private", p, twice, call(p, id))
    assert(try call(p, 1) == E_CLOSED)      # the server closed its end
}
spawn server()
spawn client(1)
spawn client(2)
"""


def test_a_server_replies_with_a_private_channel_and_the_trace_shows_the_move():
    program, got = check(PRIVATE, "client 1 private 1 2 10\nclient 2 private 1 4 20\n")
    trace = interp.run(program, RunOptions(trace=True)).trace
    kinds = [(e.kind, e.task, e.handle, e.peer, e.a) for e in trace
             if e.kind in ("pair", "move")][:2]
    # the server's ends are ch1 and ch2; ch2 lands in client#2's table as its ch1
    assert kinds == [("pair", 1, 1, 0, 2), ("move", 2, 1, 1, 2)]
    reply = next(e for e in trace if e.kind == "reply")
    assert reply.words[:2] == (2, 2)        # the replier's words: its own chandle first


CLIENT_SENDS = """
task server {
    let s = channel("srv", MANY)
    loop {
        let m, h, x = recv(s)               # h: this task's own number for the moved end
        reply(m)
        send(h, x + 1)                      # talk on the moved end
        close(h)
    }
}
task client {
    let c = open("srv")
    let x = 1
    while x < 4 {
        let a, b = pair()
        let err = try send_move(c, b, x)
        print("sent", err, "again:", try send_move(c, b, x))   # b is gone from this table
        let _, got = recv(a)
        print("got", got)
        close(a)
        x += 1
    }
}
spawn server()
spawn client()
"""


def test_a_client_moves_an_end_to_a_server_which_uses_it():
    bad = E["E_BADHANDLE"]
    check(CLIENT_SENDS, "".join(f"sent 0 again: {bad}\ngot {x + 1}\n" for x in (1, 2, 3)))


CONNECTION = """
task server {
    let s = channel("srv", MANY)
    loop {
        let m, x = recv(s)
        notify(m, 1)                        # reaches whoever holds the connection now
        reply(m, x, conn(m))
    }
}
task owner {
    let c = open("srv")
    send(c, 5)                              # one-way: the server keeps its mhandle
    let o = open("hand")
    call_move(o, c, 9)                      # the connection goes to the helper
    print("owner bits", try wait_until(now() + 10))
}
task helper {
    let h = channel("hand", ONE)
    let m, c, n = recv(h)
    reply(h)
    let x, id = call(c, n)
    print("helper", c, x, "conn", id, "bits", wait())
}
spawn server()
spawn helper()
spawn owner()
"""


def test_a_moved_connection_keeps_its_id_and_its_server_reaches_the_new_holder():
    check(CONNECTION, f"helper 1 9 conn 1 bits 1\nowner bits {E['E_TIMEOUT']}\n")


# -- what cannot move ------------------------------------------------------------------
REFUSED = """
task server {
    let s = channel("srv", MANY)
    loop { let m = recv(s); reply(m) }
}
task main {
    let c = open("srv")
    let srv = channel("mine", MANY)
    let a, b = pair()
    close(b)
    print(try send_move(c, 99), try send_move(c, -1), try send_move(c, 64 + 5))   # forged
    print(try send_move(c, b), try call_move(c, b))                 # closed
    print(try send_move(c, c), try call_move(c, c))                 # the handle it travels on
    print(try send_move(c, srv), try reply_move(a, srv))            # a server end stays
    print(try reply_move(a, a), try reply_move(77, a))
    print(try send_move(srv, a), try send_move(99, a))
    print("still", call(c, 1))
}
spawn server()
spawn main()
"""


def test_forged_closed_self_and_server_handles_are_refused_and_nothing_moves():
    bh, inv = E["E_BADHANDLE"], E["E_INVAL"]
    check(REFUSED, f"{bh} {bh} {bh}\n{bh} {bh}\n{inv} {inv}\n{inv} {inv}\n{inv} {bh}\n"
                   f"{inv} {bh}\nstill 0\n")


def test_a_move_without_try_faults_naming_its_line():
    src = "task t {\n  let a, b = pair()\n  close(b)\n  send_move(a, b)\n}\nspawn t()\n"
    program, got = check(src, "", status="fault")
    assert got.faults[0].where.pc is not None
    report = got.report(program)
    assert "send_move(0) failed: E_BADHANDLE" in report and "lm.mk:4" in report


FULL_TABLE = """
fn fill() {
    let i = 0
    while i < 31 { pair(); i += 1 }         # 62 ends beside the one this task has
}
task server {
    let s = channel("srv", MANY)
    fill()
    let last = open("spare")                # the 64th slot: the table is full
    let m, x, y = recv(s)                   # the mover at the head fails, the plain one lands
    print("server took", x, y)
    reply(m)
    close(last)
    let m2, h, z = recv(s)                  # a slot is free again
    print("server took", h, z)
    reply(m2)
}
task spare { let s = channel("spare", MANY); recv(s) }
task mover(n) {
    let c = open("srv")
    let a, b = pair()
    print("mover", n, try send_move(c, b, n))
    if n == 2 { print("still mine", try notify(b, 1)) }
}
task plain {
    let c = open("srv")
    yield()
    send(c, 7, 8)
}
spawn spare()
spawn server()
spawn mover(1)
spawn plain()
"""


def test_a_full_receiver_table_fails_the_mover_and_the_receiver_goes_on():
    ns = E["E_NOSPACE"]
    check(FULL_TABLE, f"mover 1 {ns}\nserver took 7 8\n", status="clean")


ONE_FULL = """
task keeper {
    let h = channel("k", ONE)
    let i = 0
    while i < 31 { pair(); i += 1 }
    let x = channel("x", ONE)               # 64 ends
    let err, m, w = try recv(h)             # the mover's end cannot land: it fails, we wait on
    print("keeper", err, m, w)
}
task giver {
    let k = open("k")
    let a, b = pair()
    print("giver", try send_move(k, b, 3), "keeps", try notify(b, 0))
    send(k, 4)
}
spawn keeper()
spawn giver()
"""


def test_one_channel_receiver_with_a_full_table():
    check(ONE_FULL, f"giver {E['E_NOSPACE']} keeps 0\nkeeper 0 0 4\n")


REPLY_FULL = """
task server {
    let s = channel("srv", MANY)
    let m = recv(s)
    let a, b = pair()
    print("full", try reply_move(m, b, 1))
    print("again", try reply_move(m, b, 1))     # nothing moved: the mhandle stays valid
    reply(m, 5)
    let m2 = recv(s)                            # a one-way message: nobody to take it
    print("one-way", try reply_move(m2, b), "keeps", try notify(b, 0))
    reply(m2)
}
task client {
    let c = open("srv")
    let i = 0
    while i < 31 { pair(); i += 1 }
    channel("x", ONE)                           # 64 ends: a full table
    print("client woke", call(c))
}
task client2 { let c = open("srv"); yield(); yield(); send(c, 1) }
spawn server()
spawn client()
spawn client2()
"""


def test_reply_move_to_a_full_table_or_to_nobody():
    ns, cl = E["E_NOSPACE"], E["E_CLOSED"]
    check(REPLY_FULL, f"full {ns}\nagain {ns}\nclient woke 5\none-way {cl} keeps 0\n")


def test_pair_needs_two_free_slots():
    src = """
task t {
    let i = 0
    while i < 31 { pair(); i += 1 }
    let one = channel("x", ONE)
    print(try pair())
    close(one)
    let err, a, b = try pair()
    print(err, a, b)
}
spawn t()
"""
    check(src, f"{E['E_NOSPACE']}\n0 62 63\n")


# -- names built at run time -------------------------------------------------------------
NAMES = """
fn worker_name(n) {
    let a = array(16)
    let i = put_str(a, 0, "worker-")
    if n >= 10 { a[i] = '0' + n / 10; i += 1 }
    a[i] = '0' + n % 10
    return a
}
task worker(n) {
    let c = channel(worker_name(n), MANY)
    loop { let m, x = recv(c); reply(m, x * n) }
}
task boss {
    let w = open(worker_name(17))           # before it exists: waits
    print("17:", call(w, 2))
    print("3:", call(open("worker-3"), 5))  # a literal meets a name built at run time
    print("again:", try channel(worker_name(3), ONE))
}
spawn boss()
spawn worker(3)
spawn worker(17)
"""


def test_workers_named_by_number_meet_literal_and_built_names():
    program, got = check(NAMES, f"17: 34\n3: 15\nagain: {E['E_EXISTS']}\n")
    trace = interp.run(program, RunOptions(trace=True)).trace
    made = [e for e in trace if e.kind == "channel"]
    # "worker-3" is a string of the program: its index; "worker-17" is not: -1, its bytes
    assert made[0].a == program.strings.index("worker-3")
    assert (made[1].a, made[1].n, abi.unpack_name(made[1].words, made[1].n)) == \
        (-1, 9, b"worker-17")


BAD_NAMES = """
task t {
    let a = array(70)
    print(try open(0), try open(-5), try open(1 << 40), try channel(a, MANY))  # no array, empty
    let i = 0
    while i < 65 { a[i] = 'x'; i += 1 }
    print(try open(a), try channel(a, ONE))          # 65 bytes: too long
    a[64] = 0
    let err, c = try channel(a, ONE)                 # 64 bytes: fine
    print(err, c, try channel(a, 3))
    a[3] = 256
    print(try open(a))                               # not a byte
    a[3] = -1
    print(try open(a))
    a[3] = 0
    print(try open(a))                               # "xxx": waits for it? no: made below
}
task maker {
    let b = array(3)
    put_str(b, 0, "xxx")
    let c = channel(b, MANY)
    recv(c)
}
spawn maker()
spawn t()
"""


def test_names_that_are_not_valid_are_refused():
    inv = E["E_INVAL"]
    check(BAD_NAMES, f"{inv} {inv} {inv} {inv}\n{inv} {inv}\n0 0 {inv}\n{inv}\n{inv}\n0\n")


def test_a_bad_name_without_try_faults_naming_its_line():
    src = "task t {\n  let a = array(2)\n  open(a)\n}\nspawn t()\n"
    program, got = check(src, "", status="fault")
    report = got.report(program)
    assert "open_at failed: E_INVAL" in report and "lm.mk:3" in report


CHURN = """
fn name(n) {
    let a = array(8)
    let i = 0
    while n > 0 { a[i] = 'a' + n % 26; n /= 26; i += 1 }
    return a
}
task holder(first, count) {
    let i = 0
    while i < count { channel(name(first + i), MANY); i += 1 }
    wait()
}
task churn(n) {
    let i = 1
    while i <= n {
        let c = channel(name(1000 + i), MANY)    # made, closed, its node gone
        close(c)
        i += 1
    }
    let j = 1
    let open_ok = 0
    while j <= 600 {
        let err, c = try open(name(j * 7 % 120 + 1))
        if err == 0 { open_ok += 1; close(c) }
        j += 1
    }
    print("churned", n, "opened", open_ok)
}
spawn holder(1, 60)
spawn holder(61, 60)
spawn churn(300)
"""


def test_names_come_and_go_in_the_tree():
    # 120 names held while 300 others are made and closed, each leaving the tree
    check(CHURN, "churned 300 opened 600\n")


MANY_NAMES = """
fn name(a, k) {
    let i = 0
    while k > 0 { a[i] = 'a' + k % 26; k /= 26; i += 1 }
    a[i] = 0
    return a
}
task holder(first, count) {
    let a = array(8)
    let i = 0
    while i < count { channel(name(a, first + i), MANY); i += 1 }
    wait()
}
task main(n, step) {
    let i = 0
    while i < n { spawn holder(1 + i, 50); i += 50 }
    yield()
    let a = array(8)
    let found = 0
    i = 1
    while i <= n { let c = open(name(a, i)); close(c); found += 1; i += step }
    print("found", found, try channel(name(a, n), ONE), try open(name(a, 0)))
}
spawn main(1, 1)
"""


def test_a_hundred_thousand_names_on_the_native_kernel_and_thousands_on_both():
    """10^5 names held by 2,000 tasks: every one findable, none taken twice, an empty name
    refused; the reference kernel agrees on 3,000 (10^5 takes it half a minute)."""
    from mikro.backends import x86
    program = compile_source(MANY_NAMES, "n.mk")
    exists, inval = E["E_EXISTS"], E["E_INVAL"]
    for n, step in ((3_000, 7), (100_000, 997)):
        boot = dataclasses.replace(program.boot[0], args=(n, step))
        p = dataclasses.replace(program, boot=[boot])
        got = x86.compile(p, tier="interpreter").run(RunOptions(mem_words=256))
        assert got.status == "clean" and got.output == \
            f"found {(n - 1) // step + 1} {exists} {inval}\n", got.report(p)
        if n < 10_000:
            assert interp.run(p, RunOptions(mem_words=256)) == got


def test_the_listing_and_the_charts_show_moves_pairs_and_built_names():
    from mikro import tracechart as tc
    program = compile_source(PRIVATE, "p.mk")
    trace = interp.run(program, RunOptions(trace=True)).trace
    listing = tc.format_trace(trace, program)
    assert "server#1  pair     ch1 and ch2" in listing
    assert "client#2  move     ch1 <- server#1 (its ch2)" in listing
    steps, _ = tc.chart_steps(trace, program)
    move = next(s for s in steps if s.line == "move")
    assert (move.src, move.dst, move.label) == (1, 2, "move ch2 as ch1")
    assert "T1--)T2: move ch2 as ch1" in tc.mermaid(trace, program)
    assert 'class="step move"' in tc.svg(trace, program)
    program = compile_source(NAMES, "n.mk")
    listing = tc.format_trace(interp.run(program, RunOptions(trace=True)).trace, program)
    assert '"worker-17" MANY as ch0' in listing and '"worker-3" MANY as ch0' in listing
