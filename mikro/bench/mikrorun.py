"""Compile generated `.mk` source and time its runs on a backend, compilation excluded.

Every run has a wall-clock limit and must end clean with the expected output; anything
else is an error the suite reports as "unavailable: <reason>".
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from .. import api
from ..vm.options import RunOptions

RUN_LIMIT = 60.0      # seconds one run may take


class Unavailable(RuntimeError):
    """This backend cannot run this benchmark here (missing, failing, too slow)."""


TASK_BYTES = 8 << 10      # resident memory a blocked task may need, with room to spare


def check_memory(tasks: int) -> None:
    """Refuse a run that would not fit in the memory available: the kernel would kill the
    whole process rather than fail the run."""
    try:
        text = open("/proc/meminfo").read()
        avail = int(text.split("MemAvailable:")[1].split()[0]) * 1024
    except (OSError, IndexError, ValueError):
        return
    need = tasks * TASK_BYTES
    if need > avail * 0.8:
        raise Unavailable(f"{tasks:,} tasks need about {need / 2**30:.1f} GiB, "
                          f"{avail / 2**30:.1f} GiB available")


def compile_mk(source: str, name: str):
    try:
        from ..lang import CompileError
        return api.compile_source(source, f"<bench {name}>")
    except ImportError as e:
        raise Unavailable(f"compiler missing ({e})") from e
    except CompileError as e:
        raise Unavailable(f"compile error: {e.render().splitlines()[0]}") from e
    except Exception as e:               # a compiler bug must not end the suite
        raise Unavailable(f"compiler failed: {type(e).__name__}: {e}") from e


@dataclass
class Runner:
    """One compiled program on one backend: `run()` returns the seconds the run took."""
    program: object
    backend: str
    expect: str | None
    mem_words: int | None = None
    _compiled: Any = None             # x86.CompiledProgram, made on first use
    last: object = None          # the RunResult of the last run

    def __post_init__(self):
        if self.backend == "x86":
            try:
                from ..backends import x86
            except ImportError as e:
                raise Unavailable(f"x86 backend missing ({e})") from e
            try:
                # the figures are of the optimised tier, which a long run reaches
                self._compiled = x86.compile(self.program, tier="optimised")
            except Exception as e:
                raise Unavailable(f"x86 compile failed: {type(e).__name__}: {e}") from e
        elif self.backend == "interp":
            try:
                from ..vm import interp  # noqa: F401
            except ImportError as e:
                raise Unavailable(f"interpreter missing ({e})") from e

    def run(self) -> float:
        """Seconds of the whole run (the compiled program's; no compiling)."""
        return self.timed().wall

    def timed(self) -> "Timing":
        stamps: list[tuple[float, float, str]] = []
        opts = RunOptions(time_limit=RUN_LIMIT, on_output=lambda line: stamps.append(
            (time.perf_counter(), time.thread_time(), line)))
        if self.mem_words is not None:
            opts.mem_words = self.mem_words
        try:
            if self.backend == "x86":
                c0, t0 = time.thread_time(), time.perf_counter()
                r = self._compiled.run(opts)
            else:
                from ..vm import interp
                c0, t0 = time.thread_time(), time.perf_counter()
                r = interp.run(self.program, opts)
            wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        except Exception as e:
            raise Unavailable(f"{self.backend} run failed: {type(e).__name__}: {e}") from e
        if r.status != "clean":
            why = r.report(self.program).strip().splitlines()
            raise Unavailable(f"{self.backend} run ended {r.status}" + (f": {why[0]}" if why else ""))
        if self.expect is not None and r.output != self.expect:
            raise Unavailable(f"{self.backend} run printed {r.output[:40]!r}, expected {self.expect!r}")
        self.last = r
        return Timing(wall, cpu, stamps)


@dataclass
class Timing:
    wall: float                               # the whole run
    cpu: float                                # CPU time of this thread during the run
    stamps: list[tuple[float, float, str]]    # wall and CPU time when each line reached Python

    def interval(self, cpu: bool = False) -> float:
        """From the line `go` to the last line, in wall-clock time or in this thread's CPU
        time (which another process sharing the core does not inflate). Output reaches
        Python when native code returns (every 2^16 task switches on x86), so this is
        exact to about one such slice at either end."""
        times = [(cpu_t if cpu else wall, line) for wall, cpu_t, line in self.stamps]
        go = next((t for t, line in times if line == "go"), None)
        if go is None or len(times) < 2:
            raise Unavailable("the program printed no go line")
        return times[-1][0] - go


def runner(source: str, name: str, backend: str, expect: str | None,
           mem_words: int | None = None) -> Runner:
    return Runner(compile_mk(source, name), backend, expect, mem_words)


def per_op(make: Callable[[int], str], name: str, n: int, batches: int,
           expect: Callable[[int], str], mem_words: int | None = None,
           backend: str = "x86") -> list[tuple[float, float]]:
    """Seconds per operation of the steady state, (wall-clock, CPU) per batch: the interval
    between the program's `go` line and its last line, over the n operations done in
    between."""
    r = runner(make(n), name, backend, expect(n), mem_words)
    out = []
    for _ in range(batches):
        t = r.timed()
        out.append((t.interval() / n, t.interval(cpu=True) / n))
    return out


def per_op_diff(make: Callable[[int], str], name: str, n1: int, n2: int, batches: int,
                expect: Callable[[int], str], backend: str = "x86") -> list[float]:
    """CPU seconds per operation as (t(n2) - t(n1)) / (n2 - n1), t the CPU time of a run:
    for operations that never switch tasks (so native code does not return to Python
    between them and a `go` line cannot be timed) in programs whose setup is small. The
    two runs alternate, so drift of the machine hits both alike."""
    a = runner(make(n1), name, backend, expect(n1))
    b = runner(make(n2), name, backend, expect(n2))
    out = []
    for _ in range(batches):
        t1, t2 = a.timed().cpu, b.timed().cpu
        out.append(max(t2 - t1, 0.0) / (n2 - n1))
    return out
