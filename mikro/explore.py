"""Schedule exploration: run a program under many reproducible interleavings.

Seed 0 is the FIFO schedule; seeds 1, 2, ... shuffle the ready queue with splitmix64
(docs/kernel.md). The first run that fails gives the seed that replays it exactly:
`mikro run --seed S prog.mk` or `mikro.run(program, seed=S)` (with the same `setup`).

With `jobs` > 1 the first block of seeds runs in this process and the rest, cut into
consecutive blocks, in worker processes; the blocks are read back in seed order, so the
result is the serial one (docs/testing.md).
"""
from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable

from . import strategies
from .api import DEFAULT_BACKEND, Kernel, Prepared
from .vm.image import Program
from .vm.options import check
from .vm.result import RunResult
from .vm.schedule import LOG_WORDS, Plan

# seeds of the first block, run in the calling process (a shallow bug costs no worker),
# and the most a worker's block holds: a block pays for sending the program and preparing
# its run once (some milliseconds, as much as 200 runs of a small program), so the blocks
# are as large as keeps every worker busy to the end, and never so large that many runs
# are made past a failure
BLOCK = 200
BLOCK_MAX = 10 * BLOCK
# the fuel of each run of a planned strategy when neither fuel nor a time limit is given:
# a schedule under which the program never ends is that run's outcome (limit), not a hang
PLANNED_FUEL = 10_000_000
SHRINK_RUNS = 400        # runs the shrinking of one failure may make
SHRINK_LEVELS = 2        # it first searches every schedule with this many preemptions


class ExploreError(Exception):
    """A `passes` or `setup` callable raised, or cannot be sent to a worker process."""


@dataclass
class Exploration:
    schedules: int                 # how many runs were made (counted in seed order)
    failing_seed: int | None       # the first seed whose run failed, or None
    result: RunResult | None       # that run's result
    statuses: dict[str, int]       # how many runs ended in each status
    first_seed: int = 0            # the seeds run: first_seed .. first_seed + schedules - 1
    last: RunResult | None = field(default=None, repr=False)  # the last run's result
    strategy: str = "seeds"
    # a planned strategy: the failing run's schedule (shrunk) and the one found, what the
    # strategy covered, and whether that was every schedule of the program
    schedule: str | None = None
    found_schedule: str | None = None
    covered: str = ""
    complete: bool = False
    shrink_runs: int = 0           # runs the shrinking made (not in `schedules`)

    @property
    def ok(self) -> bool:
        return self.failing_seed is None and self.schedule is None

    @property
    def seeds(self) -> range:
        return range(self.first_seed, self.first_seed + self.schedules)

    def summary(self) -> str:
        """What was covered: the runs, their seeds (or what the strategy covered) and how
        they ended."""
        ends = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        if self.strategy != "seeds":
            return (f"{self.schedules} schedule{'s' if self.schedules != 1 else ''} "
                    f"({self.strategy}: {self.covered}): {len(self.statuses)} distinct "
                    f"outcome{'s' if len(self.statuses) != 1 else ''} ({ends})")
        ends = ", ".join(f"{n} {s}" for s, n in sorted(self.statuses.items()))
        return (f"{self.schedules} schedule{'s' if self.schedules != 1 else ''} "
                f"(seeds {self.first_seed}..{self.first_seed + self.schedules - 1}): "
                f"{len(self.statuses)} distinct outcome{'s' if len(self.statuses) != 1 else ''}"
                f" ({ends})")


def _clean(result: RunResult) -> bool:
    return result.status == "clean"


def _run_block(program: Program, seeds: range, backend: str, fuel: int | None,
               passes: Callable, setup: Callable | None, options: dict):
    """Run `seeds` in order until one fails: (runs made, failing seed or None, the last
    run's result, statuses). Runs in a worker process or in the caller's."""
    statuses: dict[str, int] = {}
    result = None
    ready = Prepared(program, backend, options.get("cache", True), options.get("trace", False))
    for n, seed in enumerate(seeds, 1):
        with Kernel(program, backend=backend, seed=seed, fuel=fuel, _prepared=ready,
                    **options) as k:
            if setup is not None:
                try:
                    setup(k)
                except Exception as e:
                    raise ExploreError(f"setup raised on seed {seed}: "
                                       f"{type(e).__name__}: {e}") from None
            result = k.run()
        statuses[result.status] = statuses.get(result.status, 0) + 1
        try:
            ok = passes(result)
        except Exception as e:
            raise ExploreError(f"the predicate `passes` raised on seed {seed}: "
                               f"{type(e).__name__}: {e}") from None
        if not ok:
            return n, seed, result, statuses
    return len(seeds), None, result, statuses


def explore(program: Program, schedules: int = 100, *, backend: str = DEFAULT_BACKEND,
            first_seed: int = 0, fuel: int | None = None,
            passes: Callable[[RunResult], bool] = _clean,
            setup: Callable[[Kernel], None] | None = None, jobs: int = 1,
            strategy: str = "seeds", depth: int = 3, bound: int | None = None,
            shrink: bool = True, schedule: str | None = None, **options) -> Exploration:
    """Run seeds first_seed, first_seed+1, ... until one fails `passes` (default: the run
    is clean) or `schedules` runs have passed. `setup(kernel)` is called on each run's
    Kernel before it starts (to add host tasks or spawn tasks); other keyword arguments go
    to the Kernel (trace, time_limit, boot, ...). `jobs` > 1 runs the seeds on that many
    processes, with the same result as jobs=1; `passes`, `setup` and the options must then
    be picklable (module-level functions, not lambdas or closures). ExploreError when
    `passes` or `setup` raises.

    `strategy` (mikro.strategies.STRATEGIES): "seeds" (the seeds above), or a planned one:
    "random", "pct" (of `depth`), "preempt" (at most `bound` preemptions, or level after
    level), "exhaustive" (with partial-order reduction) or "portfolio"; or the one run of
    `schedule` (a schedule string; ScheduleError when it does not fit). A planned one
    reports the failing run's schedule, shrunk unless `shrink` is False (docs/testing.md);
    each run has `fuel` (PLANNED_FUEL when None) unless a time_limit is given."""
    check("schedules", schedules)
    check("seed", first_seed)
    check("jobs", jobs)
    if schedule is not None:
        strategy = "schedule"
    if strategy != "seeds":
        src = strategies.source(strategy, first_seed, depth, bound, schedule)  # checks them
        if fuel is None and options.get("time_limit") is None:
            fuel = PLANNED_FUEL
        if jobs > 1:
            _picklable(program, backend, fuel, passes, setup, options)
        return _explore_planned(program, schedules, src, strategy, backend, fuel, passes,
                                setup, shrink, options)
    seeds = range(first_seed, first_seed + schedules)
    if jobs > 1:
        _picklable(program, backend, fuel, passes, setup, options)
    # the first block runs here: a shallow bug is found before any worker has started
    head = seeds if jobs == 1 else seeds[:BLOCK]
    n, failing, result, statuses = _run_block(program, head, backend, fuel, passes, setup,
                                              options)
    if failing is not None or len(head) == len(seeds):
        return Exploration(n, failing, result if failing is not None else None, statuses,
                           first_seed, result)
    rest = _explore_parallel(program, seeds[len(head):], backend, fuel, passes, setup,
                             options, jobs)
    for s, c in statuses.items():
        rest.statuses[s] = rest.statuses.get(s, 0) + c
    rest.schedules += n
    rest.first_seed = first_seed
    return rest


def _picklable(*args) -> None:
    try:
        pickle.dumps(args)
    except Exception as e:
        raise ExploreError(f"jobs > 1 sends `passes`, `setup` and the Kernel options to "
                           f"worker processes, and one of them cannot be pickled ({e}); use "
                           f"module-level functions instead of lambdas or closures, or "
                           f"jobs=1") from None


def _explore_parallel(program, seeds, backend, fuel, passes, setup, options, jobs):
    args = (program, backend, fuel, passes, setup, options)
    size = max(1, min(BLOCK_MAX, len(seeds) // (4 * jobs)))
    blocks = [seeds[i:i + size] for i in range(0, len(seeds), size)]
    done: dict[int, tuple] = {}
    # forkserver: workers start from a clean server process, never a fork of this one and
    # whatever JIT state or threads it holds mid-use
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # the server imports mikro once (modules only: no program is compiled or run in
        # it), so a worker forked from it starts without importing it again
        ctx.set_forkserver_preload(["mikro.api", "mikro.explore"])
    else:
        ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        pending: dict[Future, int] = {}
        nxt = 0         # the next block to submit
        first_fail = None   # the lowest block index that failed so far
        try:
            while True:
                # keep a few blocks per worker in flight, none past a known failure
                while nxt < len(blocks) and len(pending) < 2 * jobs and \
                        (first_fail is None or nxt < first_fail):
                    pending[pool.submit(_run_block, program, blocks[nxt], *args[1:])] = nxt
                    nxt += 1
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = pending.pop(fut)
                    try:
                        done[i] = fut.result()
                    except BrokenProcessPool as e:
                        raise ExploreError(
                            f"a worker process died ({e}); with jobs > 1 the main module "
                            f"must be importable by a new process (a script file whose "
                            f"work is under `if __name__ == '__main__':`)") from None
                    except Exception as e:      # raised in seed order, as a serial run would
                        done[i] = e
                    stopped = isinstance(done[i], Exception) or done[i][1] is not None
                    if stopped and (first_fail is None or i < first_fail):
                        first_fail = i
                # blocks after the first failure cannot change the result
                for fut, i in list(pending.items()):
                    if first_fail is not None and i > first_fail and fut.cancel():
                        del pending[fut]
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    last = len(blocks) - 1 if first_fail is None else first_fail
    if isinstance(done[last], Exception):
        raise done[last]
    statuses: dict[str, int] = {}
    runs = 0
    for i in range(last + 1):
        n, _, _, counts = done[i]
        runs += n
        for s, c in counts.items():
            statuses[s] = statuses.get(s, 0) + c
    _, failing, result, _ = done[last]
    return Exploration(runs, failing, result if failing is not None else None, statuses,
                       seeds.start, result)


class _Runner:
    """Runs plans of one program with the same setup, limits and check."""

    def __init__(self, program, backend, fuel, passes, setup, options, trace=False):
        self.program, self.backend, self.fuel = program, backend, fuel
        self.passes, self.setup = passes, setup
        self.options = dict(options, trace=trace or options.get("trace", False))
        self.ready = Prepared(program, backend, self.options.get("cache", True),
                              self.options["trace"])

    def run(self, plan: Plan, label: str) -> tuple[RunResult, bool]:
        """The run of `plan` and whether it passed; ExploreError naming `label` when
        `setup` or `passes` raises."""
        with Kernel(self.program, backend=self.backend, schedule=plan, fuel=self.fuel,
                    _prepared=self.ready, **self.options) as k:
            if self.setup is not None:
                try:
                    self.setup(k)
                except Exception as e:
                    raise ExploreError(f"setup raised on {label}: "
                                       f"{type(e).__name__}: {e}") from None
            result = k.run()
        try:
            ok = bool(self.passes(result))
        except Exception as e:
            raise ExploreError(f"the predicate `passes` raised on {label}: "
                               f"{type(e).__name__}: {e}") from None
        return result, ok


def _explore_planned(program, schedules, src, strategy, backend, fuel, passes, setup,
                     shrink, options) -> Exploration:
    """Run the plans of `src` until one fails or `schedules` runs have passed; shrink the
    failure's schedule."""
    por = isinstance(src, strategies.Bounded) and src.por
    runner = _Runner(program, backend, fuel, passes, setup, options, trace=por)
    statuses: dict[str, int] = {}
    result = None
    runs = 0
    while runs < schedules:
        plan = src.next()
        if plan is None:
            break
        runs += 1
        result, ok = runner.run(plan, f"schedule {runs}")
        statuses[result.status] = statuses.get(result.status, 0) + 1
        src.seen(plan, result)
        if not ok:
            found = result.schedule
            out = Exploration(runs, None, result, statuses, 0, result, strategy, found, found,
                              src.covered())
            if shrink and strategy != "schedule":
                _shrink(out, runner)
            return out
    complete = bool(getattr(src, "complete", False))
    return Exploration(runs, None, None, statuses, 0, result, strategy, None, None,
                       src.covered(), complete)


def _shrink(found: Exploration, runner: _Runner) -> None:
    """Make the failing schedule smaller: search the schedules with fewer non-default
    decisions (up to SHRINK_LEVELS) for the same failure, then bisect for the shortest failing prefix, then zero them in chunks, then one at a
    time (fewest preemptions), keeping each change after which the run still
    fails with the same status; what is left past the last non-default decision is the
    default, so the prefix is as short as the decisions kept."""
    result = found.result
    assert result is not None
    values = _trimmed(result)
    status = result.status
    runs = 0
    # the fewest non-default decisions first: a bounded search below the failure's count
    found_small, runs = _search_below(values, status, runner)
    if found_small is not None:
        values, result = _trimmed(found_small), found_small
    # the shortest prefix that fails (the rest the default), by bisection
    low, high = 0, len(values)
    while low < high and runs < SHRINK_RUNS:
        mid = (low + high) // 2
        runs += 1
        r, ok = runner.run(Plan(tuple(values[:mid])), "a shrinking run")
        if not ok and r.status == status:
            values, result = _trimmed(r), r
            high = min(mid, len(values))
        else:
            low = mid + 1
    chunk = max(1, sum(1 for v in values if v) // 2)
    while runs < SHRINK_RUNS:
        nonzero = [i for i, v in enumerate(values) if v]
        smaller = False
        for start in range(0, len(nonzero), chunk):
            if runs >= SHRINK_RUNS:
                break
            candidate = list(values)
            for i in nonzero[start:start + chunk]:
                candidate[i] = 0
            runs += 1
            r, ok = runner.run(Plan(tuple(candidate)), "a shrinking run")
            if not ok and r.status == status:
                values, result, smaller = _trimmed(r), r, True
                break
        if not smaller:
            if chunk == 1:
                break
            chunk = max(1, chunk // 2)
    found.result, found.last = result, result
    found.schedule = result.schedule
    found.shrink_runs = runs


def _search_below(values, status, runner):
    """A run failing with `status` whose schedule has fewer non-default decisions than
    `values`, from every schedule with at most SHRINK_LEVELS of them (level by level,
    within half the shrinking's runs): (that run or None, runs made)."""
    limit = min(SHRINK_LEVELS, sum(1 for v in values if v) - 1)
    if limit < 0:
        return None, 0
    search = strategies.Bounded(limit=limit)
    runs = 0
    while runs < SHRINK_RUNS // 2:
        plan = search.next()
        if plan is None:
            break
        runs += 1
        r, ok = runner.run(plan, "a shrinking run")
        search.seen(plan, r)
        if not ok and r.status == status:
            return r, runs
    return None, runs


def _trimmed(result: RunResult) -> list[int]:
    values = list(result.decision_log[1::LOG_WORDS])
    while values and values[-1] == 0:
        values.pop()
    return values


def decision_marks(result: RunResult, names: dict[int, str]) -> list[tuple[int, int, str]]:
    """(event index, task, text) for each preemption and choose of a traced planned run:
    where the interleaving and the chart mark them."""
    marks = []
    for i, d in enumerate(result.decisions):
        who = names.get(d.task, f"#{d.task}")
        if d.switch:
            marks.append((d.event, d.task, f"preemption (decision {i}): {who} runs, "
                                           f"not the head of the queue"))
        elif d.kind == "choose":
            marks.append((d.event, d.task, f"choose (decision {i}): {who} gets {d.value} "
                                           f"of 0..{d.options - 1}"))
    return marks


def interleaving(program: Program, result: RunResult) -> str:
    """A traced planned run's events, one a line (tracechart.format_trace), with a line
    before each preemption (a pick that did not take the queue's head) and choose."""
    from .tracechart import format_trace, task_names
    lines = format_trace(result.trace, program).splitlines() if result.trace else []
    marks: dict[int, list[str]] = {}
    for at, _, text in decision_marks(result, task_names(result.trace, program)):
        marks.setdefault(at, []).append("-- " + text)
    out = []
    for at in range(len(lines) + 1):
        out += marks.get(at, [])
        if at < len(lines):
            out.append(lines[at])
    return "\n".join(out) + ("\n" if out else "")
