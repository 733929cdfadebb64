"""Schedule exploration: jobs > 1 gives the serial result, bad input is a clear error, and
the replay command a failure prints fails the same way on both backends."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mikro
from mikro.cli import app
from mikro.explore import ExploreError, explore
from mikro.vm.abi import EXIT_CODES
from mikro.vm.options import CORES

ROOT = Path(__file__).resolve().parent.parent
RACE = str(ROOT / "examples" / "race.mk")

# five tasks print in the order they are scheduled: 120 outputs, each a set of seeds
ORDER = mikro.compile("""
task t(i) { print(i) }
spawn t(1)
spawn t(2)
spawn t(3)
spawn t(4)
spawn t(5)
""")
RARE = "5\n4\n1\n3\n2\n"     # first printed by seed 170: past the first block of 600 seeds


class NotOutput:
    """fails a run that printed `text`; module-level, so worker processes can load it"""
    def __init__(self, text: str):
        self.text = text

    def __call__(self, result) -> bool:
        return result.output != self.text


class Raises:
    """raises on a run that printed `text` (on every run when it is None)"""
    def __init__(self, text: str | None = None):
        self.text = text

    def __call__(self, result) -> bool:
        if self.text is None or result.output == self.text:
            raise KeyError("boom")
        return True


@pytest.fixture
def pooled(monkeypatch):
    """blocks of 40 seeds, so that 600 seeds go mostly to the workers; the number of times
    the pool was used"""
    ex = sys.modules["mikro.explore"]      # `mikro.explore` is also the function
    used = []
    real = ex._explore_parallel

    def spy(*args):
        used.append(args[1])
        return real(*args)
    monkeypatch.setattr(ex, "BLOCK", 40)
    monkeypatch.setattr(ex, "_explore_parallel", spy)
    return used


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def same(a, b):
    assert (a.schedules, a.failing_seed, a.statuses, a.first_seed) == \
        (b.schedules, b.failing_seed, b.statuses, b.first_seed)
    for x, y in ((a.result, b.result), (a.last, b.last)):
        assert (x is None) == (y is None)
        if x is not None:
            assert (x.status, x.output) == (y.status, y.output)


@pytest.mark.parametrize("backend", ["x86", "interp"])
def test_two_jobs_find_the_first_failing_seed_in_seed_order(backend, pooled):
    serial = explore(ORDER, 600, backend=backend, passes=NotOutput(RARE))
    assert serial.failing_seed == 170 and serial.result.output == RARE
    assert serial.schedules == 171 and sum(serial.statuses.values()) == 171
    same(explore(ORDER, 600, backend=backend, passes=NotOutput(RARE), jobs=2), serial)
    assert pooled == [range(40, 600)]          # the first block ran here, the rest in workers


def test_two_jobs_count_the_same_outcomes_when_all_pass(pooled):
    serial = explore(ORDER, 150, first_seed=5, passes=NotOutput("never printed"))
    assert serial.ok and serial.schedules == 150 and serial.seeds == range(5, 155)
    parallel = explore(ORDER, 150, first_seed=5, passes=NotOutput("never printed"), jobs=2)
    same(parallel, serial)
    assert parallel.summary() == "150 schedules (seeds 5..154): 1 distinct outcome (150 clean)"
    assert pooled == [range(45, 155)]


def test_a_shallow_failure_is_found_before_any_worker_starts(pooled):
    found = explore(ORDER, 600, passes=NotOutput("1\n2\n3\n4\n5\n"), jobs=2)
    assert (found.failing_seed, found.schedules, pooled) == (0, 1, [])


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_predicate_that_raises_is_an_error_naming_the_seed(jobs, pooled):
    with pytest.raises(ExploreError, match=r"^the predicate `passes` raised on seed 0: "
                                           r"KeyError: 'boom'"):
        explore(ORDER, 50, passes=Raises(), jobs=jobs)
    with pytest.raises(ExploreError, match=r"^the predicate `passes` raised on seed 170: "):
        explore(ORDER, 600, passes=Raises(RARE), jobs=jobs)     # in a worker when jobs=2
    assert pooled == ([range(40, 600)] if jobs == 2 else [])


def test_jobs_need_picklable_callables_and_say_so():
    with pytest.raises(ExploreError, match="cannot be pickled.*module-level functions"):
        explore(ORDER, 50, passes=lambda r: True, jobs=2)


def test_jobs_beyond_the_cores_zero_or_negative_are_refused():
    for bad in (0, -1, CORES + 1):
        with pytest.raises(ValueError, match=f"^jobs must be an integer from 1 to the number "
                                             f"of cores \\({CORES}\\)"):
            explore(ORDER, 10, jobs=bad)
        r = cli("test", "--jobs", str(bad), RACE)
        assert r.exit_code == EXIT_CODES["usage"]
        text = " ".join(r.stderr.replace("│", " ").split())     # as rich boxes and wraps it
        assert f"--jobs' / '-j': must be an integer from 1 to the number of cores ({CORES}) " \
            f"(got {bad})" in text


def test_mikro_test_with_jobs_prints_what_one_job_prints():
    one, two = cli("test", "--strategy", "seeds", "--schedules", "500", RACE), \
        cli("test", "--strategy", "seeds", "--schedules", "500", "--jobs", "2", RACE)
    assert one.exit_code == two.exit_code == EXIT_CODES["test_failed"]
    assert one.stdout == two.stdout
    assert "explored 4 schedules (seeds 0..3): 2 distinct outcomes (3 clean, 1 deadlock)" \
        in one.stdout


def _replay(stdout: str) -> list[str]:
    line = next(x for x in stdout.splitlines() if x.startswith("replay with: mikro "))
    return shlex.split(line.removeprefix("replay with: mikro "))


@pytest.mark.parametrize("found_on", ["x86", "interp"])
def test_the_printed_replay_command_fails_the_same_way_on_both_backends(found_on):
    r = cli("test", "--strategy", "seeds", "--backend", found_on, "--schedules", "100", RACE)
    assert r.exit_code == EXIT_CODES["test_failed"]
    args = _replay(r.stdout)
    assert args[:3] == ["run", "--backend", found_on]
    for backend in ("x86", "interp"):
        again = cli(*(args[:2] + [backend] + args[3:]))
        assert again.exit_code == EXIT_CODES["deadlock"]
        assert "configurator#2 waits in open" in again.output


def test_the_replay_command_of_a_failing_test_block_fails_on_both_backends(tmp_path):
    source = Path(RACE).read_text().replace("spawn client()\n", "") + \
        'test "the job is scaled" {\n    let w = open("worker")\n' \
        '    print("job:", call(w, JOB, 4))  # expect: job: 40\n}\n'
    f = tmp_path / "race_test.mk"
    f.write_text(source)
    r = cli("test", "--strategy", "seeds", "--schedules", "200", "--jobs", "2", str(f))
    assert r.exit_code == EXIT_CODES["test_failed"], r.stdout
    args = _replay(r.stdout)
    assert args[:3] == ["test", "--backend", "x86"] and "--schedules" in args
    for backend in ("x86", "interp"):
        again = cli(*(args[:2] + [backend] + args[3:]))
        assert again.exit_code == EXIT_CODES["test_failed"]
        assert 'FAIL' in again.stdout and "0 passed, 1 failed" in again.stdout


@pytest.mark.parametrize("backend", ["x86", "interp"])
def test_a_block_of_seeds_verifies_the_program_once(backend, monkeypatch):
    """what does not change between schedules is not paid for per run"""
    import mikro.backends.x86 as x86
    import mikro.vm.verify as verify
    calls = []

    def counted(program):
        calls.append(program)
        return real(program)
    real = verify.verify
    explore(ORDER, 1, backend=backend)              # compiled (and verified) before
    monkeypatch.setattr(verify, "verify", counted)
    monkeypatch.setattr(x86, "verify", counted)
    found = explore(ORDER, 50, backend=backend)
    assert found.ok and found.schedules == 50 and len(calls) == 1
