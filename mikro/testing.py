"""Tests written in `.mk`: `test "NAME" { ... }` blocks with their expected output.

A test file is a program whose top level may hold test blocks:

    task store { ... }
    spawn store()                       # the boot list runs beside every test

    test "a put is read back" {
        let c = open("store")
        call(c, PUT, 1, 42)
        print("got", call(c, GET, 1))   # expect: got 42
    }

Each test block compiles to a task type named `test "NAME"` (mikro.lang); running a test
spawns the boot list, then that task. It passes when its task ended normally (returned or
exited 0; a test task still waiting when the run ends has not passed, even though a run
whose tasks all wait in `recv` is clean), the run ends clean and its output is the
`# expect:` lines of the block, in order (output is not checked when there are none).
`# expect-status: fault` (or deadlock, limit) asks for another end of the run instead.
`mikro test` and the pytest plugin both run tests through `run_test`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import api
from .explore import Exploration, explore
from .vm.image import Program
from .vm.result import RunResult, waits

_EXPECT = re.compile(r"#\s*expect:\s?(.*?)\s*$")
_STATUS = re.compile(r"#\s*expect-status:\s*(\w+)")
STATUSES = ("clean", "fault", "deadlock", "limit")


@dataclass(frozen=True)
class MkTest:
    name: str                       # the NAME of `test "NAME"`
    task: str                       # its task type, `test "NAME"`
    path: str
    line: int                       # where the block starts
    expect: tuple[str, ...] | None  # expected output lines (None: not checked)
    status: str = "clean"


@dataclass
class Outcome:
    test: MkTest
    result: RunResult
    problems: list[str]             # what did not match; empty when the test passed
    seed: int = 0
    task: int = 0                   # the id of the test's task in the run

    @property
    def ok(self) -> bool:
        return not self.problems


def collect(path: str | Path, source: str | None = None) -> tuple[Program, list[MkTest]]:
    """The compiled program of a test file and its tests, in source order; raises
    CompileError (bad source) like mikro.compile."""
    from .lang import ast
    from .lang.parser import parse
    from .lang.modules import read_source
    path = str(path)
    source = read_source(path) if source is None else source
    program = api.compile_source(source, path)
    lines = source.splitlines()
    tests = []
    for item in parse(source, path).items:
        if not (isinstance(item, ast.TaskDef) and item.test):
            continue
        block = lines[item.span.line - 1:item.span.end_line]
        expect = [m.group(1) for line in block if (m := _EXPECT.search(line))]
        status = next((m.group(1) for line in block if (m := _STATUS.search(line))), "clean")
        tests.append(MkTest(item.name[6:-1], item.name, path, item.span.line,
                            tuple(expect) if expect else None, status))
    return program, tests


def check(test: MkTest, result: RunResult, program: Program, task: int) -> list[str]:
    """What in a run does not match the test's expectations; `task` is the test task's id."""
    problems = []
    if result.status != test.status:
        problems.append(f"the run ended {result.status}, expected {test.status}")
    if test.status == "clean":
        problems += _unfinished(result, program, task)
    if test.expect is not None:
        got = result.output.splitlines()
        if got != list(test.expect):
            problems.append("the output differs from the `# expect:` lines")
    return problems


def _unfinished(result: RunResult, program: Program, task: int) -> list[str]:
    """Why the test task did not end normally, or nothing when it did."""
    if task in result.exits:
        code = result.exits[task][1]
        return [] if code == 0 else [f"the test task exited with code {code}"]
    if any(f.task == task for f in result.faults):
        return []                         # the run's status and report say it
    for w in result.waiting:
        if w.task == task:
            return [f"the test task did not finish: it {waits(program, w)}"]
    return ["the test task did not run"]


def run_test(program: Program, test: MkTest, *, backend: str = api.DEFAULT_BACKEND,
             schedules: int = 1, first_seed: int = 0, fuel: int | None = None,
             time_limit: float | None = 60.0, jobs: int = 1) -> Outcome:
    """Run one test under `schedules` seeds from first_seed (on `jobs` processes); the
    first failing run, or the last passing one."""
    if test.status not in STATUSES:
        result = api.run(program, backend=backend, fuel=0)
        return Outcome(test, result, [f"unknown `# expect-status: {test.status}` "
                                      f"(expected one of {', '.join(STATUSES)})"])
    ids = _test_task(program, test, backend)
    found: Exploration = explore(program, schedules, backend=backend, first_seed=first_seed,
                                 fuel=fuel, passes=_Passes(test, program, ids),
                                 time_limit=time_limit, setup=_Spawn(test.task), jobs=jobs)
    seed = found.failing_seed if found.failing_seed is not None else first_seed + schedules - 1
    assert found.last is not None                 # schedules >= 1: some run was made
    return Outcome(test, found.last, check(test, found.last, program, ids), seed, ids)


def _test_task(program: Program, test: MkTest, backend: str) -> int:
    """The id the test's task gets: the same in every run, which spawns it before any
    task runs."""
    with api.Kernel(program, backend=backend) as k:
        return k.spawn(test.task)


@dataclass(frozen=True)
class _Spawn:
    """setup of a test's runs; a class, not a closure, so worker processes can take it"""
    task: str

    def __call__(self, kernel: api.Kernel) -> None:
        kernel.spawn(self.task)


@dataclass(frozen=True)
class _Passes:
    test: MkTest
    program: Program
    task: int

    def __call__(self, result: RunResult) -> bool:
        return not check(self.test, result, self.program, self.task)


def explain(program: Program, outcome: Outcome, backend: str, trace_tail: int = 12) -> str:
    """A failed test, for a person: where it is, what differed, the report and the last
    IPC events of the failing run (replayed with tracing on)."""
    t, r = outcome.test, outcome.result
    out = [f'test "{t.name}" failed on {backend} (seed {outcome.seed}) at {t.path}:{t.line}']
    out += ["  " + p for p in outcome.problems]
    report = r.report(program)
    if report:
        out.append("report:")
        out += ["  " + line for line in report.splitlines()]
    if t.expect is not None and r.output.splitlines() != list(t.expect):
        out.append("expected output:")
        out += ["  " + line for line in t.expect] or ["  (nothing)"]
        out.append("output:")
        out += ["  " + line for line in r.output.splitlines()] or ["  (nothing)"]
    with api.Kernel(program, backend=backend, seed=outcome.seed, trace=True,
                    time_limit=60.0) as k:
        k.spawn(t.task)
        replay = k.run()
    if replay.trace:
        from .tracechart import format_trace
        lines = format_trace(replay.trace, program).splitlines()[-trace_tail:]
        out.append(f"last {len(lines)} of {len(replay.trace)} IPC events:")
        out += ["  " + line for line in lines]
    return "\n".join(out) + "\n"
