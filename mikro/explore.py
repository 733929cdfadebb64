"""Schedule exploration: run a program under many reproducible interleavings.

Seed 0 is the FIFO schedule; seeds 1, 2, ... shuffle the ready queue with splitmix64
(docs/kernel.md). The first run that fails gives the seed that replays it exactly:
`mikro run --seed S prog.mk` or `mikro.run(program, seed=S)` (with the same `setup`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .api import DEFAULT_BACKEND, Kernel
from .vm.image import Program
from .vm.options import check
from .vm.result import RunResult


@dataclass
class Exploration:
    schedules: int                 # how many runs were made
    failing_seed: int | None       # the first seed whose run failed, or None
    result: RunResult | None       # that run's result
    statuses: dict[str, int]       # how many runs ended in each status

    @property
    def ok(self) -> bool:
        return self.failing_seed is None


def _clean(result: RunResult) -> bool:
    return result.status == "clean"


def explore(program: Program, schedules: int = 100, *, backend: str = DEFAULT_BACKEND,
            first_seed: int = 0, fuel: int | None = None,
            passes: Callable[[RunResult], bool] = _clean,
            setup: Callable[[Kernel], None] | None = None, **options) -> Exploration:
    """Run seeds first_seed, first_seed+1, ... until one fails `passes` (default: the run
    is clean) or `schedules` runs have passed. `setup(kernel)` is called on each run's
    Kernel before it starts (to add host tasks or spawn tasks); other keyword arguments go
    to the Kernel (trace, time_limit, boot, ...)."""
    check("schedules", schedules)
    check("seed", first_seed)
    statuses: dict[str, int] = {}
    for n, seed in enumerate(range(first_seed, first_seed + schedules), 1):
        with Kernel(program, backend=backend, seed=seed, fuel=fuel, **options) as k:
            if setup is not None:
                setup(k)
            result = k.run()
        statuses[result.status] = statuses.get(result.status, 0) + 1
        if not passes(result):
            return Exploration(n, seed, result, statuses)
    return Exploration(schedules, None, None, statuses)
