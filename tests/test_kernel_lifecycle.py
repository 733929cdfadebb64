"""What Python may do with a Kernel, and what it gets back, the same on both backends:
every misuse of the lifecycle is a Python exception (on x86 it used to be a segfault), the
values a host hands the VM are checked at the boundary, and output is streamed line by line
with a bounded tail kept for the result."""
from __future__ import annotations

import subprocess
import sys

import pytest

import mikro as mk
from test_embedding import SERVED     # a client calling "disk" with 0, 1, 2

PROGRAM = mk.compile(SERVED)

pytestmark = pytest.mark.parametrize("backend", mk.BACKENDS)


def _uses(k: mk.Kernel):
    """Every way to use a Kernel, each to be tried on its own."""
    return {"run": lambda: k.run(), "slice": lambda: k.run(fuel=10),
            "spawn": lambda: k.spawn("client", 1), "host": lambda: k.host("disk", lambda m: 0),
            "result": lambda: k.result}


def _all_refused(k: mk.Kernel, error, match: str) -> None:
    for use in _uses(k).values():
        with pytest.raises(error, match=match):
            use()


def test_every_use_after_close_is_refused(backend):
    k = mk.Kernel(PROGRAM, backend=backend)
    k.host("disk", lambda m: 1)
    assert k.run(fuel=2).status == "running"
    k.close()
    _all_refused(k, mk.KernelClosed, r"the Kernel is closed \(it was closed\)")
    k.close()                                   # closing again is harmless


def test_every_use_after_the_with_block_is_refused(backend):
    with mk.Kernel(PROGRAM, backend=backend) as k:
        k.host("disk", lambda m: 1)
        assert k.run().output == "read 0 1\nread 1 1\nread 2 1\n"
    _all_refused(k, mk.KernelClosed, "the Kernel is closed")
    with mk.Kernel(PROGRAM, backend=backend) as k:    # closed before it ever ran
        pass
    _all_refused(k, mk.KernelClosed, "the Kernel is closed")


def test_a_kernel_closed_by_its_host_handler_ends_the_run(backend):
    lines = []
    k = mk.Kernel(PROGRAM, backend=backend, on_output=lines.append)

    def disk(msg):
        if msg.words[0] == 1:
            k.close()                           # the run ends when this returns
        return 7
    k.host("disk", disk)
    with pytest.raises(mk.KernelClosed, match="closed during run"):
        k.run()
    assert lines == ["read 0 7"]
    _all_refused(k, mk.KernelClosed, "closed it during run")


def test_a_close_wins_over_what_the_handler_raises(backend):
    k = mk.Kernel(PROGRAM, backend=backend)

    def disk(msg):
        k.close()
        raise OSError("and then it broke")
    k.host("disk", disk)
    with pytest.raises(mk.KernelClosed):
        k.run()


def test_a_kernel_closed_by_on_output_ends_the_run(backend):
    lines = []

    def out(line):
        lines.append(line)
        k.close()
    k = mk.Kernel(PROGRAM, backend=backend, on_output=out)
    k.host("disk", lambda m: 2)
    with pytest.raises(mk.KernelClosed, match="closed during run"):
        k.run()
    assert lines == ["read 0 2"]
    _all_refused(k, mk.KernelClosed, "the Kernel is closed")


def test_an_exception_from_on_output_ends_the_run_and_closes_the_kernel(backend):
    def out(line):
        raise ValueError("no room for " + line)
    k = mk.Kernel(PROGRAM, backend=backend, on_output=out)
    k.host("disk", lambda m: 3)
    with pytest.raises(ValueError, match="no room for read 0 3"):
        k.run()
    _all_refused(k, mk.KernelClosed, "its run stopped on ValueError: no room for read 0 3")


def test_an_ended_run_takes_no_more_tasks_and_keeps_its_result(backend):
    k = mk.Kernel(PROGRAM, backend=backend)
    k.host("disk", lambda m: 4)
    r = k.run()
    assert r.status == "clean"
    for use in ("spawn", "host"):
        with pytest.raises(mk.KernelError, match="the run has ended"):
            _uses(k)[use]()
    assert k.run() == r and k.result == r
    k.close()


def test_tasks_may_be_added_between_slices_and_from_a_handler(backend):
    k = mk.Kernel(PROGRAM, backend=backend, boot=False)

    def disk(msg):
        if msg.words[0] == 1 and msg.sender == 3:
            k.spawn("client", 1)               # from inside the run: task 4
        return msg.words[0] * 10
    k.host("disk", disk)
    k.spawn("client", 2)
    assert k.run(fuel=1).status == "running"
    k.spawn("client", 2)                       # between slices: task 3
    r = k.run()
    assert (r.status, r.tasks_spawned) == ("clean", 4)
    assert r.output == "read 0 0\nread 1 10\nread 0 0\nread 1 10\nread 0 0\n"


def test_run_from_inside_the_run_faults_the_host_task(backend):
    k = mk.Kernel(PROGRAM, backend=backend)
    k.host("disk", lambda msg: k.run())
    r = k.run()
    assert r.status == "fault"
    assert ("fault in task host:disk#2 at (host): host handler raised KernelError: run() was "
            "called from inside the Kernel's own run") in r.report(PROGRAM)


DROPPED = """
import gc, sys
import mikro
from mikro.backends.x86.run import _OPEN
program = mikro.compile(sys.argv[2])
for i in range(12):
    k = mikro.Kernel(program, backend=sys.argv[1], cache=False)
    k.host("disk", lambda msg, k=k: 1)         # the handler refers to its Kernel: a cycle
    k.run(fuel=2)
    del k
    gc.collect()
print("ok", len(_OPEN))
"""


def test_a_kernel_dropped_in_a_reference_cycle_is_freed_safely(backend):
    """The garbage collector frees such a Kernel with its compiled program, in no set
    order; on x86 the engine's code used to go first and the run's free then jumped into
    it. In a child process, where a crash is a signal."""
    child = subprocess.run([sys.executable, "-c", DROPPED, backend, SERVED],
                           capture_output=True, text=True, timeout=300)
    assert (child.returncode, child.stdout) == (0, "ok 0\n"), child.stderr[-2000:]


# -- host values --------------------------------------------------------------------------
def _served(backend, handler):
    k = mk.Kernel(PROGRAM, backend=backend)
    k.host("disk", handler)
    return k.run()


@pytest.mark.parametrize("reply, printed", [
    (2**63 - 1, str(2**63 - 1)), (-2**63, str(-2**63)), (2**64 - 1, "-1"), (2**63, str(-2**63)),
    (type("Index", (), {"__index__": lambda self: 42})(), "42"), ((5, 6, 7, 8), "5")])
def test_replies_in_the_word_range_are_words(backend, reply, printed):
    r = _served(backend, lambda msg: reply)
    assert (r.status, r.output.splitlines()[0]) == ("clean", f"read 0 {printed}")


@pytest.mark.parametrize("reply, error", [
    (True, "TypeError: handler returned True, which is not an int (a bool is not taken"),
    (False, "TypeError: handler returned False"),
    (2**64, "ValueError: handler returned 18446744073709551616, which is not a 64-bit word"),
    (-2**63 - 1, "ValueError: handler returned -9223372036854775809"),
    (1.0, "TypeError: handler returned 1.0, which is not an int"),
    ((1, True), "TypeError: handler returned True"),
    ((1, 2, 3, 4, 5), "ValueError: handler returned (1, 2, 3, 4, 5): expected None, an int")])
def test_a_reply_that_is_not_a_word_faults_the_host_task(backend, reply, error):
    r = _served(backend, lambda msg: reply)
    assert r.status == "fault" and r.output == ""
    assert f"host:disk#2 at (host): host handler raised {error}" in r.report(PROGRAM)


@pytest.mark.parametrize("value, error", [
    (True, "TypeError: set_data was given True, which is not an int"),
    (2**70 + 5, "ValueError: set_data was given 1180591620717411303429, which is not a 64-bit"),
    ("1", "TypeError: set_data was given '1'")])
def test_set_data_takes_words_only(backend, value, error):
    def disk(msg):
        msg.set_data(value)
        return 0
    r = _served(backend, disk)
    assert f"host handler raised {error}" in r.report(PROGRAM)


def test_set_data_keeps_the_word_the_vm_sees(backend):
    seen = []

    def disk(msg):
        seen.append(msg.data)
        msg.set_data(2**64 - 1 - msg.words[0])
        return msg.data
    r = _served(backend, disk)
    assert r.output == "read 0 -1\nread 1 -2\nread 2 -3\n" and seen == [0, -1, -2]


def test_task_arguments_are_words(backend):
    k = mk.Kernel(PROGRAM, backend=backend, boot=False)
    with pytest.raises(TypeError, match="argument 1 of task client is True, which is not an int"):
        k.spawn("client", True)
    with pytest.raises(ValueError, match="not a 64-bit word"):
        k.spawn("client", 2**64)
    k.close()


# -- output -------------------------------------------------------------------------------
LINES = mk.compile('''
task t(n) {
    print("two\\nlines", 1)
    let i = 0
    while i < n {
        print("line", i)
        i += 1
    }
}
spawn t(3000)
''')


def test_on_output_gets_each_line_once_newlines_in_strings_too(backend):
    seen = []
    r = mk.run(LINES, backend=backend, on_output=seen.append)
    assert seen[:3] == ["two", "lines 1", "line 0"] and len(seen) == 3002
    assert r.output == "".join(line + "\n" for line in seen) and r.output_dropped == 0


def test_the_result_keeps_a_bounded_tail_of_the_output(backend):
    seen = []
    r = mk.run(LINES, backend=backend, on_output=seen.append, output_limit=100)
    assert len(seen) == 3002                    # all of it streamed
    kept = r.output.splitlines()
    assert kept == seen[-len(kept):] and r.output_dropped == 3002 - len(kept)
    # the last lines that fit in 100 characters, newlines counted
    assert len(r.output) <= 100 < len(r.output) + len(seen[-len(kept) - 1]) + 1
    assert mk.run(LINES, backend=backend, output_limit=0).output == ""
    assert mk.run(LINES, backend=backend, output_limit=None).output.count("\n") == 3002


def test_by_default_the_result_keeps_the_last_mebibyte(backend):
    big = mk.compile('''
task t {
    let i = 0
    while i < 11000 {
        print(i, "..............................................................................................")
        i += 1
    }
}
spawn t()
''')
    r = mk.run(big, backend=backend)
    assert 1_000_000 < len(r.output) <= 1 << 20 and r.output_dropped > 0
    assert r.output.endswith("10999 " + "." * 94 + "\n")
