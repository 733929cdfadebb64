"""Soaks: resident memory at the start and at the end of a long stretch of work in one process,
so that whatever is not freed shows as growth. Each soak runs in a child process of its own
(`python -m mikro.bench.soak KIND SIZE` prints its figures as JSON), so its figures are of
that work alone:

- `compile N`: N programs, each different, compiled to machine code of the baseline tier
  (object cache bypassed) and run, one after another; start is taken after the first
  tenth (at least 10), once the allocators have reached their working size;
- `open N`: one x86 run opening, using once and closing N connections to one server; start
  is taken after a run of a tenth as many;
- `print SECONDS`: one x86 run printing a line per loop iteration for that long, its
  output streamed to a callback that drops it; start is taken after a warm-up run of a
  tenth of that time.

Each figure is taken after a garbage collection and, with glibc, `malloc_trim(0)`: memory
the allocator keeps free for later is not what the work holds.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import subprocess
import sys

from .mikrorun import Unavailable
from .model import Ctx
from .programs import HUB

SOAK = "soak"
PRINTER = '''
task printer {
    let i = 0
    loop {
        print("line", i, "of a program that prints forever")
        i += 1
    }
}
spawn printer()
'''


def rss_mib() -> float:
    """Resident memory now, after a collection and giving free heap back to the system."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):      # not glibc
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def compiles(n: int) -> dict:
    import mikro
    from mikro.backends import x86
    warm = max(10, n // 10)
    start = None
    for i in range(n):
        program = mikro.compile(f"task t {{\n    print({i})\n}}\nspawn t()\n")
        # machine code of its own (the interpreter tier would compile nothing)
        if x86.compile(program, cache=False, tier="baseline").run().output != f"{i}\n":
            raise RuntimeError(f"program {i} printed the wrong thing")
        if i + 1 == warm:
            start = rss_mib()
    return {"start": start, "end": rss_mib()}


def printing(seconds: float) -> dict:
    import mikro
    program = mikro.compile(PRINTER)
    lines = 0

    def drop(line: str) -> None:
        nonlocal lines
        lines += 1
    mikro.run(program, time_limit=seconds / 10, on_output=drop)
    start = rss_mib()
    r = mikro.run(program, time_limit=seconds, on_output=drop)
    return {"start": start, "end": rss_mib(), "lines": lines, "kept": len(r.output)}


# an echo server (programs.HUB) and a task opening, using and closing connections to it
OPENER = HUB + '''
task opener(n) {
    let i = 0
    while i < n {
        let c = open("hub")
        call(c, i)
        close(c)
        i += 1
    }
    print(i)
}
spawn hub()
spawn opener(%d)
'''


def opens(n: int) -> dict:
    """One x86 run making n connections, each opened, used once and closed; start is taken
    after a run of a tenth as many."""
    import mikro
    mikro.run(mikro.compile(OPENER % max(n // 10, 1)))
    start = rss_mib()
    r = mikro.run(mikro.compile(OPENER % n))
    if r.output != f"{n}\n":
        raise RuntimeError(f"the run printed {r.output!r}")
    return {"start": start, "end": rss_mib()}


KINDS = {"compile": lambda size: compiles(int(size)), "print": lambda size: printing(float(size)),
         "open": lambda size: opens(int(size))}


def measure(kind: str, size) -> dict:
    """The soak in a child process: its figures, or Unavailable saying why not."""
    try:
        r = subprocess.run([sys.executable, "-m", "mikro.bench.soak", kind, str(size)],
                           capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        raise Unavailable("timed out") from None
    if r.returncode != 0:
        raise Unavailable(f"exit {r.returncode}: {r.stderr.strip()[-200:]}")
    return json.loads(r.stdout)


def soak(ctx: Ctx):
    """Resident memory before and after many compiles, and before and after printing."""
    n, seconds = ctx.sizes.soak_compiles, ctx.sizes.soak_print
    got: dict[str, dict] = {}

    def figure(kind: str, size, which: str):
        def value():
            if kind not in got:
                got[kind] = measure(kind, size)
            return [got[kind][which]]
        return value
    for which in ("start", "end"):
        ctx.row(f"soak.compile.{which}", SOAK, f"RSS at the {which}: {n:,} compiles and runs",
                "MiB", figure("compile", n, which), note="x86, one process, cache bypassed")
    for which in ("start", "end"):
        ctx.row(f"soak.print.{which}", SOAK, f"RSS at the {which}: {seconds:g} s of printing",
                "MiB", figure("print", seconds, which), note="x86, output streamed")
    opened = ctx.sizes.soak_opens
    for which in ("start", "end"):
        ctx.row(f"soak.open.{which}", SOAK, f"RSS at the {which}: {opened:,} opens and closes",
                "MiB", figure("open", opened, which), note="x86, one run")


if __name__ == "__main__":
    sys.stdout.write(json.dumps(KINDS[sys.argv[1]](sys.argv[2])) + "\n")
