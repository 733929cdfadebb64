"""Settings of one run, shared by every backend."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import abi

# characters of output a result keeps by default: the last lines that fit (RunResult.output)
OUTPUT_KEPT = 1 << 20


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
