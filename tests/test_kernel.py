"""The kernel, syscall by syscall (docs/kernel.md), through small assembled programs: a
conformance suite. Each program runs on the reference kernel, whose result the test checks,
and on the native kernel's interpreter and baseline tiers, which must give the same result
field by field.

`P(...)` prints a line: quoted items are strings, anything else a register. Programs keep
what they print in s-registers, since every syscall sets a0 (status) and its results.
"""
from __future__ import annotations

from mikro.backends import x86
from mikro.vm import abi, interp
from mikro.vm.asm import assemble
from mikro.vm.kernel import Kernel
from mikro.vm.options import RunOptions
from mikro.vm.image import Program

E = {name: code for name, (code, _) in abi.ERRORS.items()}


def P(*items: str) -> str:
    out = []
    for it in items:
        if it.startswith('"'):
            out.append(f"li a0, {it}\nsys puts")
        else:
            out.append(f"mov a0, {it}\nsys puti")
    return "\n".join(out + ["sys putnl"]) + "\n"


EXIT = "li a0, 0\nsys exit\n"


def run(text: str, **kw):
    p = assemble(text, "k.masm")
    r = interp.run(p, RunOptions(**kw))
    native = {key: v for key, v in kw.items() if key != "on_output"}   # the test's callback
    for tier in ("interpreter", "baseline"):
        assert x86.compile(p, tier=tier).run(RunOptions(**native)) == r, tier
    return p, r


def out(text: str, **kw) -> str:
    p, r = run(text, **kw)
    assert r.status == "clean", r.report(p)
    return r.output


def err(name: str) -> str:
    code = E[name]
    return f"{name} ({abi.ERROR_TEXT[code]})"


# -- exit, spawn, self, yield -----------------------------------------------------------------
def test_exit_code_and_unfinished_line():
    p, r = run('.task main\nli a0, "partial"\nsys puts\nli a0, -3\nsys exit\n.boot main')
    assert r.status == "clean" and r.output == "partial\n"
    assert r.exits == {1: ("main", -3)}
    assert r.report(p) == "task main#1 exited with code -3\n"


def test_spawn_passes_arguments_and_gives_ids():
    text = (".task main\nli a0, 1\nli a1, 10\nli a2, 20\nli a3, 30\nli a4, 40\nli a5, 50\nli a6, 60\n"
            "sys spawn\nmov s0, a1\nsys self\nmov s1, a1\n" + P('"main"', "s1", '"spawned"', "s0") + EXIT +
            ".task child 6\nmov s0, a0\nmov s1, a1\nmov s2, a2\nmov s3, a3\nmov s4, a4\nmov s5, a5\n"
            "sys self\nmov s6, a1\n" + P('"child"', "s6", "s0", "s1", "s2", "s3", "s4", "s5") + EXIT +
            ".boot main")
    p, r = run(text)
    assert r.output == "main 1 spawned 2\nchild 2 10 20 30 40 50 60\n"
    assert r.tasks_spawned == 2 and r.exits == {1: ("main", 0), 2: ("child", 0)}


def test_spawn_errors():
    text = (".task main\nli a0, 5\nsys try spawn\nmov s0, a0\nmov s1, a1\n"
            "li a0, 1\nsys try spawn\nmov s2, a0\nli a0, 1\nsys try spawn\nmov s3, a0\nmov s4, a1\n"
            + P("s0", "s1", "s2", "s3", "s4") + "li a0, 1\nsys spawn\n" + EXIT +
            ".task idle\nsys yield\n" + EXIT + ".boot main")
    p, r = run(text, max_tasks=2)
    assert r.output == f"{E['E_INVAL']} 0 0 {E['E_NOSPACE']} 0\n"
    assert r.status == "fault"
    assert r.faults[0].reason == f"spawn failed: {err('E_NOSPACE')}"
    assert r.report(p) == f"fault in task main#1 at k.masm:25: spawn failed: {err('E_NOSPACE')}\n"


def test_boot_list_beyond_max_tasks_is_not_started():
    p, r = run(".task t\n" + P('"hi"') + EXIT + ".boot t\n.boot t\n.boot t", max_tasks=2)
    assert r.output == "hi\nhi\n" and r.tasks_spawned == 2


def test_yield_alternates():
    text = (".task t 1\nmov s0, a0\nli s1, 3\nloop:\n" + P("s0") + "sys yield\naddi s1, s1, -1\n"
            "bnz s1, loop\n" + EXIT + ".boot t 1\n.boot t 2")
    assert out(text) == "1\n2\n1\n2\n1\n2\n"


# -- output -------------------------------------------------------------------------------------
def test_output_items_are_space_separated_and_lines_never_mix():
    text = (".task a\n" + 'li a0, "a1"\nsys puts\nsys yield\nli a0, -5\nsys puti\nli a0, ""\n'
            "sys puts\nsys putnl\nsys putnl\n" + EXIT +
            ".task b\n" + P('"b"', "zero") + EXIT + ".boot a\n.boot b")
    lines = []
    p, r = run(text, on_output=lines.append)
    assert r.output == "b 0\na1 -5 \n\n"
    assert lines == ["b 0", "a1 -5 ", ""]


def test_puts_with_a_bad_string_index():
    p, r = run(".task t\nli a0, 99\nsys try puts\nmov s0, a0\n" + P("s0") + "li a0, 99\nsys puts\n"
               + EXIT + ".boot t")
    assert r.output == f"{E['E_INVAL']}\n"
    assert r.faults[0].reason == f"puts failed: {err('E_INVAL')}"


# -- channel and open ----------------------------------------------------------------------------
def test_channel_errors_in_order():
    text = (".task t\n"
            'li a0, "x"\nli a1, 3\nsys try channel\nmov s0, a0\n'
            'li a0, 77\nli a1, 1\nsys try channel\nmov s1, a0\n'
            'li a0, "x"\nli a1, 1\nsys channel\nmov s2, a1\n'
            'li a0, "x"\nli a1, 2\nsys try channel\nmov s3, a0\n'
            + P("s0", "s1", "s2", "s3") + EXIT + ".boot t")
    assert out(text) == f"{E['E_INVAL']} {E['E_INVAL']} 0 {E['E_EXISTS']}\n"


def test_channel_and_open_nospace():
    # 64 channels fill the table: the 65th channel and an open fail with E_NOSPACE
    text = (".task t\nli s0, 0\nli s1, 64\nloop:\nli a0, \"same\"\nli a1, 1\nsys try channel\n"
            "bnz a0, next\nmov s2, a1\nnext:\naddi s0, s0, 1\nblt s0, s1, loop\n"
            # only the first succeeded (E_EXISTS after): free slots remain, use opens of it
            + P("s2") + 'li a0, "same"\nsys try open\nmov s3, a0\nmov s4, a1\n' + P("s3", "s4")
            + EXIT + ".boot t")
    assert out(text) == "0\n0 1\n"     # the creator may open its own ONE channel


def test_table_fills_at_64():
    text = (".task t\n"
            'li a0, "n"\nli a1, 2\nsys channel\n'
            "li s0, 1\nli s1, 64\nloop:\nli a0, \"n\"\nsys open\nmov s2, a1\naddi s0, s0, 1\n"
            "blt s0, s1, loop\n"
            'li a0, "m"\nli a1, 2\nsys try channel\nmov s3, a0\nli a0, "n"\nsys try open\nmov s4, a0\n'
            + P("s2", "s3", "s4") + EXIT + ".boot t")
    assert out(text) == f"63 {E['E_NOSPACE']} {E['E_NOSPACE']}\n"


def test_open_waits_for_the_name():
    text = (".task opener\n" + P('"opening"') + 'li a0, "svc"\nsys open\nmov s0, a1\n'
            + P('"opened"', "s0") + EXIT +
            ".task creator\n" + P('"creating"') + 'li a0, "svc"\nli a1, 2\nsys channel\n'
            + P('"created"') + EXIT + ".boot opener\n.boot creator")
    assert out(text) == "opening\ncreating\ncreated\nopened 0\n"


def test_one_channel_takes_one_opener():
    text = (".task o 1\nmov s0, a0\n" 'li a0, "one"\nsys try open\nmov s1, a0\nmov s2, a1\n'
            + P("s0", "s1", "s2") + EXIT +
            ".task c\n" 'li a0, "one"\nli a1, 1\nsys channel\n'
            'li a0, "one"\nsys try open\nmov s1, a0\n' + P('"c"', "s1") + EXIT +
            ".boot o 1\n.boot o 2\n.boot c")
    # o1 and o2 wait; the channel connects o1 (its slot 0) and o2 gets E_BUSY
    assert out(text) == f"c {E['E_BUSY']}\n1 0 0\n2 {E['E_BUSY']} 0\n"


def test_many_channel_takes_every_waiting_opener():
    text = (".task o 1\nmov s0, a0\n" 'li a0, "m"\nsys open\nmov s1, a1\n' + P("s0", "s1") + EXIT +
            ".task c\n" 'li a0, "m"\nli a1, 2\nsys channel\n' + EXIT +
            ".boot o 1\n.boot o 2\n.boot c")
    assert out(text) == "1 0\n2 0\n"


def test_open_bad_name():
    p, r = run(".task t\nli a0, -1\nsys open\n" + EXIT + ".boot t")
    assert r.faults[0].reason == f"open failed: {err('E_INVAL')}"


# -- ONE channels ---------------------------------------------------------------------------------
ONE_PAIR = (".task a\n" 'li a0, "p"\nli a1, 1\nsys channel\nmov s0, a1\n{a}' + EXIT +
            ".task b\n" 'li a0, "p"\nsys open\nmov s0, a1\n{b}' + EXIT + ".boot a\n.boot b")


def one(a: str, b: str, **kw):
    return run(ONE_PAIR.replace("{a}", a).replace("{b}", b), **kw)


def test_one_send_waits_until_taken():
    a = ('mov a0, s0\nli a1, 1\nli a2, 2\nli a3, 3\nli a4, 4\nsys send\nmov s1, a0\n'
         + P('"sent"', "s1"))
    b = (P('"b"') + "mov a0, s0\nsys recv\nmov s1, a1\nmov s2, a2\nmov s3, a3\nmov s4, a4\nmov s5, a5\n"
         + P('"got"', "s1", "s2", "s3", "s4", "s5"))
    p, r = one(a, b)
    # a waits in send (no opener yet), b opens (slot 0) and takes the message
    assert r.output == "b\ngot 0 1 2 3 4\nsent 0\n"


def test_one_call_and_reply_both_ways():
    a = ("mov a0, s0\nli a1, 5\nsys call\nmov s1, a1\nmov s2, a2\n" + P('"a got"', "s1", "s2") +
         "mov a0, s0\nsys recv\nmov s3, a1\naddi a1, a2, 1\nmov a0, s3\nsys reply\n")
    b = ("mov a0, s0\nsys recv\nmov s1, a1\nmov s2, a2\naddi a1, s2, 100\nli a2, 7\nmov a0, s1\n"
         "sys reply\nmov a0, s0\nli a1, 41\nsys call\nmov s3, a1\n" + P('"b got"', "s3"))
    p, r = one(a, b)
    assert r.status == "clean" and r.output == "a got 105 7\nb got 42\n"


def test_one_reply_without_a_call():
    a = "mov a0, s0\nsys try reply\nmov s1, a0\n" + P("s1")
    p, r = one(a, "")
    assert r.output == f"{E['E_INVAL']}\n"


def test_one_close_wakes_the_waiting_peer():
    a = "mov a0, s0\nsys try recv\nmov s1, a0\nmov s2, a1\n" + P('"a"', "s1", "s2")
    b = ("sys yield\nmov a0, s0\nsys close\nmov a0, s0\nsys try send\nmov s1, a0\n" + P('"b"', "s1"))
    p, r = one(a, b)
    # b goes on after its close (a is woken) and finds its own chandle gone
    assert r.output == f"b {E['E_BADHANDLE']}\na {E['E_CLOSED']} 0\n"


def test_one_peer_end_gives_closed_later():
    a = "sys yield\nsys yield\nmov a0, s0\nsys try send\nmov s1, a0\nmov a0, s0\nsys try recv\nmov s2, a0\n" + P("s1", "s2")
    p, r = one(a, "")      # b opens and ends: its chandle closes, the channel is gone
    assert r.output == f"{E['E_CLOSED']} {E['E_CLOSED']}\n"


def test_one_name_is_free_after_close():
    text = (".task t\n" 'li a0, "n"\nli a1, 1\nsys channel\nmov a0, a1\nsys close\n'
            'li a0, "n"\nli a1, 2\nsys channel\nmov s0, a1\n' + P("s0") + EXIT + ".boot t")
    assert out(text) == "0\n"


def test_failed_call_without_try_faults_naming_the_handle():
    a = "mov a0, s0\nsys call\n"
    b = "mov a0, s0\nsys recv\nmov a0, s0\nsys close\n"
    p, r = one(a, b)
    assert r.status == "fault"
    assert r.report(p) == f"fault in task a#1 at k.masm:7: call(0) failed: {err('E_CLOSED')}\n"


# -- MANY channels ----------------------------------------------------------------------------------
SERVER = (".task server\n" 'li a0, "srv"\nli a1, 2\nsys channel\nmov s0, a1\n{s}' + EXIT)
CLIENT = (".task client 1\nmov s9, a0\n" 'li a0, "srv"\nsys open\nmov s0, a1\n{c}' + EXIT)


def many(s: str, c: str, clients=(1,), **kw):
    text = (SERVER.replace("{s}", s) + CLIENT.replace("{c}", c) + ".boot server\n"
            + "".join(f".boot client {i}\n" for i in clients))
    return run(text, **kw)


ECHO = ("loop:\nmov a0, s0\nsys recv\nmov s1, a1\nmov s2, a2\n" + P('"m"', "s1", "s2") +
        "mov a0, s1\naddi a1, s2, 1\nsys reply\njmp loop\n")


def test_many_call_reply_with_mhandles():
    c = "mov a0, s0\nmov a1, s9\nsys call\nmov s1, a1\n" + P('"c"', "s9", "s1")
    p, r = many(ECHO, c, clients=(10, 20))
    assert r.status == "clean"
    # the first mhandle is slot 0 gen 0 (64); its slot is reused with gen 1 (192)
    assert r.output == "m 64 10\nm 192 20\nc 10 11\nc 20 21\n"
    assert [(w.name, w.state, w.handle) for w in r.waiting] == [("server", "recv", 0)]


def test_many_send_is_one_way_and_mhandle_then_stale():
    s = ("mov a0, s0\nsys recv\nmov s1, a1\nmov s2, a2\nmov a0, s1\nsys reply\nmov a0, s1\n"
         "sys try reply\nmov s3, a0\nmov a0, s1\nsys try data\nmov s4, a0\n" + P("s2", "s3", "s4"))
    c = "mov a0, s0\nli a1, 9\nsys send\nmov s1, a0\n" + P('"sent"', "s1")
    p, r = many(s, c)
    assert r.output == f"sent 0\n9 {E['E_BADHANDLE']} {E['E_BADHANDLE']}\n"


def test_many_queued_clients_are_taken_in_fifo_order():
    s = "sys yield\nsys yield\n" + ECHO
    c = "mov a0, s0\nmov a1, s9\nsys call\n"
    p, r = many(s, c, clients=(1, 2, 3))
    assert r.output == "m 64 1\nm 192 2\nm 320 3\n"


def test_data_set_data_conn():
    s = ("loop:\nmov a0, s0\nsys recv\nmov s1, a1\nmov a0, s1\nsys data\nmov s2, a1\n"
         "mov a0, s1\nsys conn\nmov s3, a1\nmov a0, s1\naddi a1, s2, 5\nsys set_data\n"
         + P('"conn"', "s3", '"data"', "s2") +
         "mov a0, s1\nsys reply\njmp loop\n")
    c = "mov a0, s0\nsys call\nmov a0, s0\nsys call\n"
    p, r = many(s, c, clients=(1, 2))
    assert r.output == ("conn 1 data 0\nconn 2 data 0\nconn 1 data 5\nconn 2 data 5\n")


def test_data_on_a_chandle_is_badhandle():
    s = ("mov a0, s0\nsys try data\nmov s1, a0\nmov a0, s0\nsys try conn\nmov s2, a0\n"
         "mov a0, s0\nli a1, 1\nsys try set_data\nmov s3, a0\n" + P("s1", "s2", "s3"))
    p, r = many(s, "", clients=())
    assert r.output == f"{E['E_BADHANDLE']} {E['E_BADHANDLE']} {E['E_BADHANDLE']}\n"


def test_wrong_kinds_are_inval():
    s = ("mov a0, s0\nsys try send\nmov s1, a0\nmov a0, s0\nsys try reply\nmov s2, a0\n"
         "mov a0, s0\nsys recv\nmov s5, a1\nmov a0, s5\nsys try recv\nmov s3, a0\n"
         "mov a0, s5\nsys try send\nmov s4, a0\nmov a0, s5\nsys try push\nmov s6, a0\n"
         + P("s1", "s2", "s3", "s4", "s6"))
    c = ("mov a0, s0\nsys try reply\nmov s1, a0\nmov a0, s0\nli a1, 1\nsys try push\nmov s2, a0\n"
         + P('"c"', "s1", "s2") + "mov a0, s0\nsys send\n")
    p, r = many(s, c)
    i = E["E_INVAL"]
    assert r.output == f"c {i} {i}\n{i} {i} {i} {i} {i}\n"


def test_bad_handles():
    text = (".task t\nli a0, 5\nsys try send\nmov s0, a0\nli a0, 64\nsys try recv\nmov s1, a0\n"
            "li a0, -1\nsys try close\nmov s2, a0\nlk a0, 1000000000000\nsys try reply\nmov s3, a0\n"
            + P("s0", "s1", "s2", "s3") + "li a0, 7\nsys recv\n" + EXIT + ".boot t")
    p, r = run(text)
    b = E["E_BADHANDLE"]
    assert r.output == f"{b} {b} {b} {b}\n"
    assert r.faults[0].reason == f"recv(7) failed: {err('E_BADHANDLE')}"


def test_recv_without_free_mhandle_slots():
    s = ("li s5, 0\nli s6, 64\nloop:\nmov a0, s0\nsys recv\naddi s5, s5, 1\nblt s5, s6, loop\n"
         "mov a0, s0\nsys try recv\nmov s1, a0\n" + P('"full"', "s1"))
    c = "mov a0, s0\nsys send\n"
    p, r = many(s, c, clients=range(65))
    assert r.output == f"full {E['E_NOSPACE']}\n"
    # the server ends: the 65th client, still queued in send, gets E_CLOSED
    assert [f.reason for f in r.faults] == [f"send(0) failed: {err('E_CLOSED')}"]


def test_close_mhandle_fails_the_call_but_keeps_the_connection():
    s = ("mov a0, s0\nsys recv\nmov a0, a1\nsys close\nmov a0, s0\nsys recv\nmov a0, a1\nli a1, 8\n"
         "sys reply\n")
    c = ("mov a0, s0\nsys try call\nmov s1, a0\nmov s2, a1\nmov a0, s0\nsys call\nmov s3, a1\n"
         + P("s1", "s2", "s3"))
    p, r = many(s, c)
    assert r.output == f"{E['E_CLOSED']} 0 8\n"


def test_server_close_wakes_queued_and_receiving_clients():
    s = ("sys yield\nsys yield\nsys yield\nmov a0, s0\nsys recv\nmov s1, a1\nmov a0, s0\nsys close\n"
         + P('"closed"') + "mov a0, s1\nli a1, 99\nsys reply\n" + P('"replied"'))
    c = ("li a0, 2\nblt s9, a0, first\nmov a0, s0\nsys try recv\nmov s1, a0\n" + P('"r"', "s9", "s1")
         + "jmp done\nfirst:\nmov a0, s0\nsys try call\nmov s1, a0\nmov s2, a1\n" + P('"c"', "s9", "s1", "s2")
         + "mov a0, s0\nsys try send\nmov s3, a0\n" + P('"again"', "s3") + "done:\n")
    p, r = many(s, c, clients=(0, 1, 2))
    cl = E["E_CLOSED"]
    # client 0's call was received; client 1 is queued; client 2 waits in recv
    assert r.output == (f"closed\nreplied\nc 1 {cl} 0\nagain {cl}\nr 2 {cl}\nc 0 0 99\nagain {cl}\n")


def test_push_to_a_waiting_client_and_a_later_recv():
    s = ("mov a0, s0\nsys recv\nmov s1, a1\nmov a0, s1\nsys conn\nmov s2, a1\nmov a0, s1\nsys reply\n"
         "mov a0, s0\nmov a1, s2\nli a2, 5\nli a3, 6\nsys push\n" + P('"pushed"') +
         "mov a0, s0\nmov a1, s2\nli a2, 7\nsys push\n" + P('"pushed again"'))
    c = ("mov a0, s0\nsys call\nmov a0, s0\nsys recv\nmov s1, a1\nmov s2, a2\nmov s3, a3\n"
         + P('"got"', "s1", "s2", "s3") + "sys yield\nmov a0, s0\nsys recv\nmov s2, a2\n" + P('"got"', "s2"))
    p, r = many(s, c)
    # the first push waits (the client is ready, not in recv) until the client's recv
    assert r.output == "got 0 5 6\npushed\ngot 7\npushed again\n"


def test_push_errors_and_client_close():
    s = ("sys yield\nmov a0, s0\nli a1, 0\nsys try push\nmov s1, a0\nmov a0, s0\nli a1, 2\nsys try push\n"
         "mov s2, a0\nmov a0, s0\nli a1, 1\nsys try push\nmov s3, a0\n" + P("s1", "s2", "s3") +
         "mov a0, s0\nli a1, 1\nsys try push\nmov s4, a0\n" + P("s4"))
    c = "sys yield\nmov a0, s0\nsys close\n"
    p, r = many(s, c)
    n, cl = E["E_NOCONN"], E["E_CLOSED"]
    # the client opened (connection 1) before the server ran; the push waits, then the
    # client closes; after that the connection is gone
    assert r.output == f"{n} {n} {cl}\n{n}\n"


def test_task_end_closes_its_handles():
    s = "mov a0, s0\nsys recv\nli a0, 3\nsys exit\n"
    c = "mov a0, s0\nsys try call\nmov s1, a0\n" + P("s1") + "mov a0, s0\nsys try call\nmov s2, a0\n" + P("s2")
    p, r = many(s, c)
    # the server ends holding the mhandle (dropped: E_CLOSED) and its channel (gone)
    assert r.output == f"{E['E_CLOSED']}\n{E['E_CLOSED']}\n"
    assert r.exits[1] == ("server", 3)


# -- end of a run ------------------------------------------------------------------------------------
def test_idle_server_is_clean_and_waiting_opener_is_deadlock():
    p, r = many(ECHO, "", clients=())
    assert r.status == "clean" and r.waiting[0].state == "recv"
    p, r = run(".task t\n" 'li a0, "nobody"\nsys open\n' + EXIT + ".boot t")
    assert r.status == "deadlock"
    assert r.report(p) == "deadlock: no task can run\n  t#1 waits in open at k.masm:3\n"


def test_deadlock_report_lists_waiters_in_id_order():
    text = (SERVER.replace("{s}", "mov a0, s0\nsys recv\n") + ".task w\n" 'li a0, "p"\nli a1, 1\n'
            "sys channel\nmov a0, a1\nsys call\n" + EXIT + ".boot w\n.boot server")
    p, r = run(text)
    assert r.status == "deadlock"
    assert [(w.task, w.state, w.handle) for w in r.waiting] == [(1, "call", 0), (2, "recv", 0)]
    assert r.report(p) == "deadlock: no task can run\n  w#1 waits in call(0) at k.masm:15\n"


# -- the scheduler -------------------------------------------------------------------------------------
def test_splitmix64_reference_values():
    k = Kernel(Program(), seed=1234567)
    assert [k.splitmix64() for _ in range(3)] == [6457827717110365317, 3203168211198807973,
                                                  9817491932198370423]


def test_seeded_pick_swaps_the_kth_task_with_the_head():
    text = "".join(f".task t{i}\n" + P(f'"{i}"') + EXIT for i in range(5)) + \
        "".join(f".boot t{i}\n" for i in range(5))
    assert out(text) == "0\n1\n2\n3\n4\n"
    k = Kernel(Program(), seed=99)
    order, queue = [], list(range(5))
    while queue:
        j = k.splitmix64() % len(queue)
        queue[0], queue[j] = queue[j], queue[0]
        order.append(queue.pop(0))
    assert out(text, seed=99) == "".join(f"{i}\n" for i in order)
    assert out(text, seed=99) == out(text, seed=99)


def test_closed_connection_keeps_its_mhandles_and_ids_are_not_reused():
    s = ("mov a0, s0\nsys recv\nmov s1, a1\nmov a0, s0\nsys recv\nmov s2, a1\n"
         "mov a0, s1\nsys conn\nmov s3, a1\nmov a0, s2\nsys conn\nmov s4, a1\n"
         "mov a0, s1\nli a1, 5\nsys set_data\nmov a0, s1\nsys data\nmov s5, a1\n"
         "mov a0, s1\nsys reply\nmov s6, a0\nmov a0, s0\nli a1, 1\nsys try push\nmov s7, a0\n"
         + P("s3", "s4", "s5", "s6", "s7"))
    c = ("mov a0, s0\nli a1, 7\nsys send\nmov a0, s0\nsys close\n"
         'li a0, "srv"\nsys open\nmov s0, a1\nmov a0, s0\nli a1, 8\nsys send\n')
    p, r = many(s, c)
    assert r.output == f"1 2 5 0 {E['E_NOCONN']}\n"
