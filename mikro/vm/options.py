"""Settings of one run, shared by every backend, and the one check of their values.

Every setting is checked when it is set (`RunOptions(...)` or `options.fuel = ...`), so no
backend ever sees a bad one; the CLI checks its options with the same `check` before
anything runs, so `mikro run --fuel -1` and `mikro.run(p, fuel=-1)` say the same thing.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable

from . import abi
from .schedule import Plan

# characters of output a result keeps by default: the last lines that fit (RunResult.output)
OUTPUT_KEPT = 1 << 20

_WORD_MIN, _WORD_MAX = -(1 << 63), (1 << 64) - 1
_I64_MAX = (1 << 63) - 1
# name: (lowest, highest, what a good value is); None may also mean "no limit" where the
# field allows it (fuel, time_limit)
_INT_RANGES: dict[str, tuple[int, int, str]] = {
    "seed": (_WORD_MIN, _WORD_MAX, "a 64-bit integer"),
    "fuel": (0, _I64_MAX, "an integer from 0 to 2^63-1"),
    "mem_words": (abi.MIN_MEM_WORDS, abi.MAX_MEM_WORDS,
                  f"a number of words from {abi.MIN_MEM_WORDS} to {abi.MAX_MEM_WORDS} "
                  f"(2^{abi.MAX_MEM_WORDS.bit_length() - 1})"),
    "max_tasks": (1, _I64_MAX, "an integer of at least 1"),
    "schedules": (1, _I64_MAX, "an integer of at least 1"),
}
# processes that may run schedules at once: no more than the cores this process may use
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_INT_RANGES["jobs"] = (1, CORES, f"an integer from 1 to the number of cores ({CORES})")
_NONE_ALLOWED = frozenset({"fuel", "time_limit"})


def problem(name: str, value) -> str | None:
    """Why `value` is not a good value of the setting `name` ("must be ..."), or None."""
    if value is None and name in _NONE_ALLOWED:
        return None
    if name == "time_limit":
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            return f"must be a finite number of seconds, at least 0 (got {value!r})"
        return None
    low, high, what = _INT_RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return f"must be {what} (got {value!r})"
    return None


def check(name: str, value):
    """`value` if it is a good value of the setting `name`; else ValueError saying why."""
    why = problem(name, value)
    if why is not None:
        raise ValueError(f"{name} {why}")
    return value


@dataclass
class RunOptions:
    seed: int = 0                        # 0: FIFO scheduling; else splitmix64-seeded picks
    fuel: int | None = None              # total fuel units for the run (None: no limit)
    time_limit: float | None = None      # seconds of wall-clock time (None: no limit)
    mem_words: int = abi.MEM_WORDS       # memory of each task, in 64-bit words
    max_tasks: int = abi.MAX_TASKS       # tasks alive at once
    on_output: Callable[[str], None] | None = None   # called with each output line as printed
    output_limit: int | None = OUTPUT_KEPT   # characters of output the result keeps (None: all)
    trace: bool = False                  # record IPC events (mikro.vm.trace) in the result
    plan: Plan | None = None             # a planned schedule (mikro.vm.schedule); None: seed

    def __setattr__(self, name: str, value) -> None:
        if name in _INT_RANGES or name == "time_limit":
            check(name, value)
        super().__setattr__(name, value)
