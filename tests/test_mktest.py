"""`.mk` test blocks pass only when their task ended normally and their expectations hold,
on every backend, in `mikro test` and in the pytest plugin; `mikro test` selects, replays
and sums up."""
from __future__ import annotations

import shlex

import pytest
from typer.testing import CliRunner

from mikro.cli import app
from mikro.testing import collect, run_test
from mikro.vm.abi import EXIT_CODES

SUITE = '''task srv {
    let ch = channel("srv", MANY)
    loop { let m, x = recv(ch); reply(m, x + 1) }
}
spawn srv()

test "adds one" {
    print(call(open("srv"), 1))     # expect: 2
}

test "waits forever" {
    let c = open("srv")
    let _, v = recv(c)
    assert(0, "never checked")
}

test "exits with a code" {
    exit(3)
}

test "adds one again" {
    assert(call(open("srv"), 41) == 42)
}
'''


@pytest.fixture
def suite(tmp_path):
    path = tmp_path / "test_suite.mk"
    path.write_text(SUITE)
    return path


def outcomes(path, backend):
    program, tests = collect(path)
    return {t.name: run_test(program, t, backend=backend) for t in tests}


def test_a_test_passes_only_when_its_task_ended_normally(suite, mikro_backend):
    got = outcomes(suite, mikro_backend)
    assert got["adds one"].ok and got["adds one again"].ok
    waits = got["waits forever"]
    assert waits.result.status == "clean"          # every task waits in recv: a clean run
    assert waits.problems == [f"the test task did not finish: it waits in recv(0) at {suite}:13"]
    assert got["exits with a code"].problems == ["the test task exited with code 3"]


def test_a_test_that_expects_a_deadlock_may_wait(tmp_path, mikro_backend):
    path = tmp_path / "test_dl.mk"
    path.write_text('test "waits" {\n    open("nobody")    # expect-status: deadlock\n}\n')
    (outcome,) = outcomes(path, mikro_backend).values()
    assert outcome.ok, outcome.problems


def cli(*args):
    return CliRunner().invoke(app, ["test", *map(str, args)])


def test_cli_sums_up_and_fails_unless_all_passed(suite):
    r = cli("--schedules", "2", "--backend", "interp", suite)
    assert r.exit_code == EXIT_CODES["test_failed"]
    lines = r.stdout.splitlines()
    assert lines[-1] == "2 passed, 2 failed"
    assert f'FAIL  {suite}:11 test "waits forever"' in lines
    assert "  the test task did not finish: it waits in recv(0) at " + f"{suite}:13" in lines


def test_cli_selects_tests_by_name_like_pytest(suite):
    r = cli("--schedules", "3", "-k", "ADDS", suite)
    assert r.exit_code == 0, r.stdout
    assert r.stdout.splitlines() == [f'ok    {suite}:7 test "adds one"',
                                     f'ok    {suite}:21 test "adds one again"',
                                     "2 passed, 0 failed"]
    r = cli("-k", "nothing like it", suite)
    assert r.exit_code == EXIT_CODES["usage"]
    assert r.stdout == "0 passed, 0 failed\n"
    assert r.stderr == "error: no test name holds 'nothing like it'\n"


def test_cli_replays_one_failing_test_alone(suite):
    r = cli("--schedules", "1", "-k", "forever", suite)
    (replay,) = [line for line in r.stdout.splitlines() if line.startswith("replay with: ")]
    command = shlex.split(replay[len("replay with: "):])
    assert command[:2] == ["mikro", "test"] and command[-1] == f"{suite}::waits forever"
    again = CliRunner().invoke(app, command[1:])
    assert again.exit_code == EXIT_CODES["test_failed"]
    assert again.stdout.count("FAIL") == 1 and again.stdout.endswith("0 passed, 1 failed\n")
    r = cli(f"{suite}::adds one")               # a name selects that test only, exactly
    assert r.exit_code == 0 and r.stdout.endswith("\n1 passed, 0 failed\n")
    r = cli(f"{suite}::adds")
    assert r.exit_code == EXIT_CODES["usage"]
    assert r.stderr == f"error: {suite} has no test named 'adds'\n"


def test_cli_passes_a_file_whose_tests_all_pass(tmp_path):
    path = tmp_path / "test_ok.mk"
    path.write_text('test "one" { print(1) }\ntest "two" { print(2)  # expect: 2\n}\n')
    r = cli("--schedules", "5", path)
    assert r.exit_code == 0 and r.stdout.endswith("\n2 passed, 0 failed\n")


pytest_plugins = ["pytester"]


def test_the_pytest_plugin_fails_a_test_that_never_finishes(pytester, suite):
    (pytester.path / "test_suite.mk").write_text(SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "test_suite.mk")
    result.assert_outcomes(passed=4, failed=4)          # each test on both backends
    result.stdout.fnmatch_lines(["*the test task did not finish: it waits in recv(0) at *:13*",
                                 "*the test task exited with code 3*"])
    bad = pytester.runpytest_inprocess("--mikro-schedules", "0", "test_suite.mk")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--mikro-schedules must be an integer of at least 1 (got 0)*"])
