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

from .api import DEFAULT_BACKEND, Kernel, Prepared
from .vm.image import Program
from .vm.options import check
from .vm.result import RunResult

# seeds per block a worker runs: big enough that sending a block costs little beside its
# runs, small enough that the runs past a failure are few
BLOCK = 200


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

    @property
    def ok(self) -> bool:
        return self.failing_seed is None

    @property
    def seeds(self) -> range:
        return range(self.first_seed, self.first_seed + self.schedules)

    def summary(self) -> str:
        """What was covered: the runs, their seeds and how they ended."""
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
            **options) -> Exploration:
    """Run seeds first_seed, first_seed+1, ... until one fails `passes` (default: the run
    is clean) or `schedules` runs have passed. `setup(kernel)` is called on each run's
    Kernel before it starts (to add host tasks or spawn tasks); other keyword arguments go
    to the Kernel (trace, time_limit, boot, ...). `jobs` > 1 runs the seeds on that many
    processes, with the same result as jobs=1; `passes`, `setup` and the options must then
    be picklable (module-level functions, not lambdas or closures). ExploreError when
    `passes` or `setup` raises."""
    check("schedules", schedules)
    check("seed", first_seed)
    check("jobs", jobs)
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
    size = max(1, min(BLOCK, len(seeds) // (2 * jobs)))
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
