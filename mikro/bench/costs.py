"""Throughput and the costs around the IPC path: spawning, memory, compiling, starting up."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

from . import programs
from .mikrorun import Unavailable, check_memory, compile_mk, per_op, runner
from .model import Ctx, Curve, reason
from .stats import Stat

TP = "throughput"
COST = "cost"


def throughput(ctx: Ctx):
    """Round trips per second with k clients calling one echo server at once."""
    ops = ctx.sizes.curve_ops
    for k in ctx.sizes.clients:
        def measure(k=k):
            per = max(ops // k, 1)
            s = per_op(lambda n: programs.throughput(n // k, k), f"throughput{k}", per * k,
                       ctx.sizes.batches, lambda n: f"go\n{k}\n")
            rate = lambda v: 1 / v / 1e6 if v else float("inf")
            return [(rate(wall), rate(cpu)) for wall, cpu in s]
        ctx.row(f"tp.clients.{k}", TP, f"{k:,} client{'s' if k > 1 else ''} on one server",
                "M round trips/s", measure, note="x86")


def schedules(ctx: Ctx):
    """Schedules explored per second of one process (mikro.explore, jobs=1) on the program
    of examples/echo.mk: what a run costs beyond the work of the program itself."""
    from ..explore import explore
    program = compile_mk(programs.EXPLORED, "explored")
    for backend, n in (("x86", ctx.sizes.schedules_x86), ("interp", ctx.sizes.schedules_interp)):
        def measure(backend=backend, n=n):
            explore(program, 1, backend=backend)            # compiled before it is timed
            out = []
            for b in range(ctx.sizes.batches):
                wall, cpu = time.perf_counter(), time.process_time()
                found = explore(program, n, backend=backend, first_seed=1 + b * n)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                if not found.ok:
                    raise Unavailable(f"seed {found.failing_seed} ended {found.result.status}")
                out.append((n / wall, n / cpu if cpu > 0 else float("inf")))
            return out
        ctx.row(f"explore.{backend}", COST, f"schedules explored per second ({backend})",
                "schedules/s", measure, note="examples/echo.mk, one process")


def _hwm_kib() -> int:
    m = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())
    if m is None:
        raise Unavailable("no VmHWM in /proc/self/status")
    return int(m.group(1))


def _reset_hwm() -> None:
    Path("/proc/self/clear_refs").write_text("5")      # peak RSS := current RSS


def spawn(ctx: Ctx):
    """k tasks spawned, each connecting to a server and blocking in recv: the time from
    the first spawn to the last task blocked, and the peak memory they add."""
    k = ctx.sizes.spawn
    state: dict[str, list] = {"total": [], "rss": []}

    def total():
        check_memory(k)
        r = runner(programs.spawn_tasks(k), "spawn", "x86", f"go\n{k}\n")
        for _ in range(ctx.sizes.batches):
            try:
                _reset_hwm()
                before = _hwm_kib()
            except OSError:
                before = None
            t = r.timed()
            if before is not None:
                state["rss"].append((_hwm_kib() - before) * 1024 / k)
            state["total"].append((t.interval(), t.interval(cpu=True)))
        return state["total"]

    def need(key: str, why: str):
        if not state[key]:
            raise Unavailable(why)
        return state[key]

    ctx.row("spawn.total", COST, f"spawn {k:,} tasks (spawn + open + block)", "s", total, note="x86")
    ctx.row("spawn.per_task", COST, "spawn one task", "ns",
            lambda: [(w / k * 1e9, c / k * 1e9) for w, c in need("total", "spawn not measured")],
            note="x86")
    ctx.row("mem.kernel", COST, "kernel memory per task", "bytes", lambda: [_kernel_bytes()],
            note="task structure + queue slots")
    ctx.row("mem.server", COST, "kernel memory per server task, beyond a client", "bytes",
            lambda: [_server_bytes()], note="mhandle table (first MANY channel)")
    ctx.row("mem.rss", COST, "peak RSS per task", "bytes",
            lambda: need("rss", "peak RSS cannot be measured here"),
            note="task memory touched included")


def _layout():
    try:
        from ..backends.x86 import layout
    except ImportError as e:
        raise Unavailable(f"x86 backend missing ({e})") from e
    return layout


def _kernel_bytes() -> float:
    """What the x86 backend allocates for every task slot: its task structure (saved
    registers, the fixed chandle array, bookkeeping), a free-list entry and its share of
    the ready queue's ring, which has room for every live task and at most twice as many
    entries (it doubles as tasks are spawned): 16 bytes at worst. A task's memory (its VM
    words) is not counted: RSS shows what of it is touched. A server's mhandle table is
    not counted here: see `_server_bytes`."""
    import ctypes
    return float(ctypes.sizeof(_layout().CTask) + 8 + 2 * 8)


def _server_bytes() -> float:
    """What a task that creates a MANY channel costs beyond `_kernel_bytes`: its mhandle
    table (MH_SLOTS slots), allocated with calloc on its first MANY channel and freed when
    it ends; the allocator's own header (16 bytes with glibc) is not counted. Channel and
    connection objects are per channel and per connection, not per task, and not counted."""
    return float(_layout().MH_TABLE_BYTES)


SHAPES = {"straight": programs.straight_code, "mixed": programs.mixed_code}


def compile_time(ctx: Ctx):
    """Compile cost per VM instruction: the front end, then VM code to code ready to run in
    each tier (engine.TIERS), cold, for straight-line code and for code of every shape
    (branches, loops, calls, arrays, syscalls, IPC); a curve of the interpreter tier's cost
    (where every program starts) against program size says whether it stays linear; and a
    load from the object cache."""
    made: dict[str, object] = {}

    def program(shape: str, statements: int):
        key = f"{shape}{statements}"
        if key not in made:
            made[key] = compile_mk(SHAPES[shape](statements), "compile")
        return made[key]

    def front():
        out = []
        for _ in range(ctx.sizes.batches):
            t0 = time.perf_counter()
            p = compile_mk(programs.mixed_code(ctx.sizes.code), "compile")
            out.append((time.perf_counter() - t0) / len(p.code) * 1e6)
        return out

    def x86():
        try:
            from ..backends import x86 as backend
        except ImportError as e:
            raise Unavailable(f"x86 backend missing ({e})") from e
        return backend

    def back(p, tier: str, cache: bool = False, batches: int | None = None):
        backend = x86()
        if cache:
            backend.compile(p, cache=True, tier=tier)           # fill the object cache
        out = []
        cold = 1 if ctx.quick else min(ctx.sizes.batches, 3)     # a cold O2 compile is slow
        # the interpreter's start takes microseconds: enough of them to time (50,000 VM
        # instructions a batch), as many batches as the other figures
        reps = max(1, 50_000 // len(p.code)) if tier == "interpreter" else 1
        many = tier == "interpreter" or cache
        for _ in range(batches or (ctx.sizes.batches if many else cold)):
            t0 = time.perf_counter()
            for _ in range(reps):
                backend.compile(p, cache=cache, tier=tier)
            out.append((time.perf_counter() - t0) / reps / len(p.code) * 1e6)
        return out

    ctx.row("compile.front", COST, "compile .mk -> VM code", "us/instr", front,
            note="mixed shape")
    x86().compile(program("mixed", 10), tier="interpreter")   # the interpreter, made once
    for shape in SHAPES:
        p = program(shape, ctx.sizes.code)
        for tier in ("interpreter", "baseline", "optimised"):
            ctx.row(f"compile.{shape}.{tier}", COST, f"VM -> machine code, {shape}, {tier}",
                    "us/instr", partial(back, p, tier),
                    note=f"{len(p.code):,} VM instructions, cold")
    p = program("mixed", ctx.sizes.code)
    ctx.row("compile.cached", COST, "VM -> machine code, cached", "us/instr",
            lambda: back(p, "optimised", cache=True), note="object cache")

    curve = Curve("curve.compile", "start cost vs program size", "VM instructions",
                  "us per VM instruction (interpreter tier, cold)", "us")
    ctx.curves.append(curve)
    for statements in ctx.sizes.compile_curve:
        ctx.status(f"{curve.title}: {statements:,} statements")
        try:
            p = program("mixed", statements)
            curve.points.append((len(p.code), Stat.of(back(p, "interpreter"))))
        except Exception as e:
            curve.unavailable = f"at {statements:,} statements: {reason(e)}"
            break


def _mikro_cmd() -> list[str]:
    script = Path(sys.executable).with_name("mikro")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mikro.cli"]


def hello_path() -> Path:
    return Path(__file__).resolve().with_name("hello.mk")      # package data


def startup(ctx: Ctx):
    hello = hello_path()

    def measure(extra: list[str]):
        if not hello.exists():
            raise Unavailable(f"{hello} not found")
        cmd = _mikro_cmd() + ["run", *extra, str(hello)]
        _run(cmd)               # fill the object cache (when used) and Python's bytecode cache
        out = []
        for _ in range(ctx.sizes.startup):
            t0 = time.perf_counter()
            _run(cmd)
            out.append(time.perf_counter() - t0)
        return out

    ctx.row("startup.cold", COST, "mikro run hello.mk, cold", "s",
            lambda: measure(["--no-cache"]), note="object cache bypassed")
    ctx.row("startup.cached", COST, "mikro run hello.mk, cached", "s",
            lambda: measure([]), note="object cache warm")


def _run(cmd: list[str]) -> None:
    # as a user's Python runs: with its bytecode cache, whatever this environment says
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        raise Unavailable("timed out after 60 s") from None
    if r.returncode != 0:
        raise Unavailable(f"exit {r.returncode}: {(r.stderr or r.stdout).strip()[:100]}")
