"""The Python API that test suites embed: Kernel, slices, host tasks, spawning from Python,
traces, schedule exploration, and `.mk` test blocks (mikro.testing, `mikro test`)."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import mikro as mk
from mikro.cli import app
from mikro.testing import collect, run_test
from mikro.vm.abi import EXIT_CODES

ROOT = Path(__file__).resolve().parent.parent

SERVED = '''
task client(n) {
    let d = open("disk")
    let i = 0
    while i < n {
        print("read", i, call(d, i))
        i += 1
    }
}
spawn client(3)
'''

LOOP = '''
task counter(n) {
    let i = 0
    while i < n { i += 1 }
    print("counted", i)
}
spawn counter(10000)
'''


def test_run_to_the_end(mikro_session):
    r = mikro_session.kernel(mikro_session.compile(LOOP)).run()
    assert (r.status, r.output) == ("clean", "counted 10000\n")
    assert r.fuel_used == 10000 and r.stats["fuel_used"] == 10000


def test_slices_add_up_to_the_whole_run(mikro_session):
    program = mikro_session.compile(LOOP)
    k = mikro_session.kernel(program)
    seen = []
    while True:
        r = k.run(fuel=3000)
        seen.append((r.status, r.fuel_used))
        if r.status != "running":
            break
    assert seen == [("running", 3000), ("running", 6000), ("running", 9000), ("clean", 10000)]
    assert r.output == "counted 10000\n"
    assert k.run().status == "clean"            # an ended run stays ended


def test_a_slice_and_the_fuel_limit(mikro_session):
    k = mikro_session.kernel(mikro_session.compile(LOOP), fuel=4500)
    assert k.run(fuel=3000).status == "running"
    r = k.run()
    assert (r.status, r.fuel_used, r.limit) == ("limit", 4500, "fuel exhausted (4500 units)")


def test_spawn_from_python_with_arguments(mikro_session):
    program = mikro_session.compile(LOOP)
    k = mikro_session.kernel(program, boot=False)
    assert k.spawn("counter", 5) == 1
    assert k.spawn("counter", 7) == 2
    with pytest.raises(ValueError, match="no task 'nope'"):
        k.spawn("nope")
    with pytest.raises(ValueError, match="takes 1 argument"):
        k.spawn("counter")
    r = k.run()
    assert r.output == "counted 5\ncounted 7\n" and r.tasks_spawned == 2


def test_a_host_task_serves_a_channel(mikro_session):
    program = mikro_session.compile(SERVED)
    k = mikro_session.kernel(program, trace=True)
    seen = []

    def disk(msg: mk.HostMessage):
        seen.append((msg.words[0], msg.sender, msg.conn))
        return msg.words[0] * 10
    assert k.host("disk", disk) == 2
    r = k.run()
    assert (r.status, r.output) == ("clean", "read 0 0\nread 1 10\nread 2 20\n")
    assert seen == [(0, 1, 1), (1, 1, 1), (2, 1, 1)]
    kinds = [e.kind for e in r.trace]
    assert kinds.count("recv") == 3 and kinds.count("reply") == 3


def test_a_host_handler_that_raises_faults_its_task_only(mikro_session):
    program = mikro_session.compile(SERVED)
    k = mikro_session.kernel(program)

    @k.host("disk")
    def disk(msg):
        if msg.words[0] == 1:
            raise OSError("disk on fire")
        return 5
    r = k.run()
    report = r.report(program)
    assert r.status == "fault"
    assert r.output == "read 0 5\n"
    assert "fault in task host:disk#2 at (host): host handler raised OSError: disk on fire" in report
    assert "fault in task client#1 at <test>:6: call(0) failed: E_CLOSED" in report


def test_host_per_client_data_and_bad_replies(mikro_session):
    program = mikro_session.compile('''
task client(id) {
    let d = open("counter")
    call(d)
    call(d)
    print(id, call(d))
}
spawn client(1)
spawn client(2)
''')
    k = mikro_session.kernel(program)

    def counter(msg):
        msg.set_data(msg.data + 1)
        return msg.data
    k.host("counter", counter)
    assert k.run().output == "1 3\n2 3\n"
    k = mikro_session.kernel(program)
    k.host("counter", lambda msg: "three")
    r = k.run()
    assert r.status == "fault"
    assert "handler returned 'three'" in r.report(program)


def test_host_needs_a_channel_the_program_names(mikro_session):
    k = mikro_session.kernel(mikro_session.compile(SERVED))
    with pytest.raises(ValueError, match="no task of the program names the channel 'dsik'"):
        k.host("dsik", lambda m: 0)


def test_exploration_finds_the_race_and_its_seed_replays_it(mikro_session):
    program = mikro_session.load(ROOT / "examples" / "race.mk")
    assert mikro_session.run(program).status == "clean"          # FIFO hides the bug
    found = mikro_session.explore(program, 100)
    assert not found.ok and found.failing_seed > 0
    reason = "assertion failed: a job arrived before the configuration"
    assert any(f.reason == reason for f in found.result.faults)
    replay = mikro_session.run(program, seed=found.failing_seed)
    assert replay == found.result


def test_mk_test_blocks_are_collected_with_their_expectations():
    program, tests = collect(ROOT / "tests" / "mk" / "test_stdlib.mk")
    names = [t.name for t in tests]
    assert names[0] == "kv: a put is read back, a missing key reads 0"
    assert tests[0].expect == ("49 -1 0", "1 0 2")
    last = tests[-1]
    assert (last.status, last.expect) == ("fault", None)
    assert all(f'test "{t.name}"' in [tt.name for tt in program.tasks] for t in tests)
    assert not any(b.task for b in program.boot if program.tasks[b.task].name.startswith("test"))


def test_a_failing_mk_test_says_why(tmp_path):
    src = tmp_path / "test_echo.mk"
    src.write_text('''task echo {
    let ch = channel("echo", MANY)
    loop { let m, x = recv(ch); reply(m, x + 1) }
}
spawn echo()
test "adds one" {
    print(call(open("echo"), 1))    # expect: 3
}
''')
    program, (t,) = collect(src)
    outcome = run_test(program, t, backend="interp")
    assert outcome.problems == ["the output differs from the `# expect:` lines"]
    assert outcome.result.output == "2\n"
    result = CliRunner().invoke(app, ["test", "--backend", "interp", "--schedules", "2", str(src)])
    assert result.exit_code == EXIT_CODES["test_failed"]
    assert f'FAIL  {src}:6 test "adds one"' in result.stdout
    assert "expected output:\n  3\noutput:\n  2\n" in result.stdout
    assert result.stdout.endswith("\n0 passed, 1 failed\n")


def test_test_is_still_a_name_inside_code(mikro_session):
    r = mikro_session.run(mikro_session.compile('''
fn test(x) { let test = x + 1; return test }
task main { print(test(41)) }
spawn main()
'''))
    assert r.output == "42\n"


def test_cli_test_explores_a_program_without_test_blocks():
    result = CliRunner().invoke(app, ["test", "--schedules", "100", str(ROOT / "examples" / "race.mk")])
    assert result.exit_code == EXIT_CODES["test_failed"]
    assert "replay with: mikro run --backend x86 --schedule @" in result.stdout
    assert result.stdout.endswith("\n0 passed, 1 failed\n")


def test_cli_trace_lists_events_and_writes_both_charts(tmp_path):
    result = CliRunner().invoke(app, ["trace", "--backend", "interp", "--limit", "5",
                                      "-o", str(tmp_path), str(ROOT / "examples" / "echo.mk")])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["0", "boot", "spawn", "echo#1", "()"]
    assert lines[-1] == "... 603 more events not shown"
    assert "client 1 done\nclient 2 done\n" in result.stderr
    assert (tmp_path / "echo.mmd").read_text().startswith("sequenceDiagram")
    assert (tmp_path / "echo.svg").read_text().startswith("<svg")


def test_the_embedding_page_shows_the_example_the_suite_runs():
    page = (ROOT / "docs" / "embedding.md").read_text()
    example = (ROOT / "tests" / "test_embedding_example.py").read_text()
    assert "```python\n" + example + "```\n" in page


def test_expect_clean_shows_the_report_and_the_trace_tail(mikro_session):
    program = mikro_session.compile(SERVED)
    k = mikro_session.kernel(program, trace=True)
    k.host("disk", lambda msg: 1 // msg.words[0])
    with pytest.raises(pytest.fail.Exception) as failed:
        mikro_session.expect_clean(k.run())
    text = str(failed.value)
    assert f"mikro run on {mikro_session.backend} ended fault:" in text
    assert "host handler raised ZeroDivisionError: integer division or modulo by zero" in text
    assert "IPC events:" in text and text.rstrip().splitlines()[-1].split()[1:3] == ["client#1", "fault"]
