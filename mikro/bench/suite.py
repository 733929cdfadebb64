"""The benchmarks of `mikro bench`, each a function of the run's context, in suite order."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from . import costs, curves, native, pyalt, soak
from .curves import WARM
from .mikrorun import runner
from .model import Ctx
from .programs import (long_roundtrip, notify_roundtrip, restart_cycle, roundtrip,
                       segment_roundtrip, select_roundtrip, typed_roundtrip)

RT = "round trip"
PY = "python alternatives"
LONG = "long messages"
SUP = "supervision"
# the sizes of a long message's buffer, each way of a round trip: (bytes, key suffix)
LONG_SIZES = ((4096, "4k"), (65536, "64k"))
SELECT_SIZES = (1, 64)     # members of the select rows: the cost should not depend on it


def _indirect(ctx: Ctx):
    ctx.row("rt.indirect", RT, "native indirect call (the limit)", "ns",
            lambda: native.indirect_call(ctx.sizes.indirect, ctx.sizes.batches))


def _process_pair(key: str, label: str, fn):
    def bench(ctx: Ctx):
        ctx.row(key, RT, label, "ns", lambda: fn(ctx.sizes.native, ctx.sizes.batches),
                note="2 processes, 1 core")
    return bench


def _python(key: str, label: str, fn, note: str):
    def bench(ctx: Ctx):
        ctx.row(key, PY, label, "ns", lambda: fn(ctx.sizes.python, ctx.sizes.batches), note=note)
    return bench


def _mikro(backend: str, n_of: Callable[[Ctx], int]):
    def measure(ctx: Ctx) -> list[tuple[float, float]]:
        n = n_of(ctx)
        r = runner(roundtrip(n), "roundtrip", backend, f"go\n{n}\n")
        r.run()                                   # warm up
        out = []
        for _ in range(ctx.sizes.batches):
            t = r.timed()                         # the whole run over n: nothing subtracted
            out.append((t.wall / n * 1e9, t.cpu / n * 1e9))
        return out

    def steady(ctx: Ctx) -> list[tuple[float, float]]:
        n = n_of(ctx)
        warm = WARM if backend == "x86" else n // 10
        return _steady(ctx, roundtrip(n, warm), "roundtrip", n, backend)

    def bench(ctx: Ctx):
        ctx.row(f"rt.mikro.{backend}", RT, f"mikro call/reply ({backend})", "ns",
                lambda: measure(ctx), note="2 tasks; whole run / N")
        ctx.row(f"rt.mikro.{backend}.steady", RT, f"mikro call/reply ({backend}), steady", "ns",
                lambda: steady(ctx), note="2 tasks; between go and end")
    return bench


def _long(ctx: Ctx):
    """A round trip moving a buffer each way: callbuf/replybuf, a pipe pair and a
    socketpair moving the same bytes, and memcpy of the size (a round trip makes two)."""
    for size, tag in LONG_SIZES:
        scale = size // 4096
        n, n_native, n_copy = (max(x // scale, 10) for x in (
            ctx.sizes.long_x86, ctx.sizes.long_native, ctx.sizes.memcpy))
        words = size // 8

        def mikro(n=n, words=words) -> list[tuple[float, float]]:
            # the difference of a run of n and one of n / 4 round trips: a run of 64 KiB
            # messages switches too few times for its go line to reach Python before the end
            few = n // 4
            a, b = (runner(long_roundtrip(k, words), "long", "x86", f"go\n{k}\n") for k in (few, n))
            out = []
            for _ in range(ctx.sizes.batches):
                ta, tb = a.timed(), b.timed()
                out.append(((tb.wall - ta.wall) / (n - few) * 1e9,
                            (tb.cpu - ta.cpu) / (n - few) * 1e9))
            return out
        kib = f"{size // 1024} KiB"
        ctx.row(f"long.mikro.{tag}", LONG, f"mikro callbuf/replybuf, {kib} each way (x86)", "ns",
                mikro, note="2 tasks; difference of 2 runs")
        ctx.row(f"long.pipe.{tag}", LONG, f"pipe pair, {kib} each way", "ns",
                partial(native.bulk_pipe, size, n_native, ctx.sizes.batches),
                note="2 processes, 1 core")
        ctx.row(f"long.socketpair.{tag}", LONG, f"Unix socketpair, {kib} each way", "ns",
                partial(native.bulk_socketpair, size, n_native, ctx.sizes.batches),
                note="2 processes, 1 core")
        ctx.row(f"long.memcpy.{tag}", LONG, f"memcpy of {kib} (a round trip makes 2)", "ns",
                partial(native.memcpy_copy, size, n_copy, ctx.sizes.batches),
                note="the limit of a copy")


def _steady(ctx: Ctx, source: str, name: str, n: int,
            backend: str = "x86") -> list[tuple[float, float]]:
    """(wall, CPU) ns per operation of a program that prints go, does n operations and
    prints n: the interval between the two lines, once per batch."""
    r = runner(source, name, backend, f"go\n{n}\n")
    out = []
    for _ in range(ctx.sizes.batches):
        t = r.timed()
        out.append((t.interval() / n * 1e9, t.interval(cpu=True) / n * 1e9))
    return out


BULK = "bulk data"
BULK_PIECE = 1 << 20         # bytes each way of a round trip
BULK_MEM = 1 << 19           # words of task memory: two 1 MiB arrays and the stack


def _gbps(per_op: list[tuple[float, float]], nbytes: int) -> list[float]:
    """GB/s of the CPU time of each batch, from (wall, CPU) ns per operation moving nbytes:
    on a loaded machine the wall clock also counts the time others had the core."""
    return [nbytes / cpu for _, cpu in per_op]


def _bulk_mikro(program, name: str, n: int, batches: int) -> list[float]:
    """GB/s of the CPU time of n round trips moving BULK_PIECE each way: a run of n less
    one of none, so that making the tasks and giving their memory back do not count."""
    a, b = (runner(program(k, BULK_PIECE // 8), name, "x86", f"go\n{k}\n", BULK_MEM)
            for k in (0, n))
    out = []
    for _ in range(batches):
        ta, tb = a.timed(), b.timed()
        out.append(2 * BULK_PIECE * n / (max(tb.cpu - ta.cpu, 1e-9) * 1e9))
    return out


def _bulk(ctx: Ctx):
    """64 MiB (32 in the quick mode) moved in 1 MiB pieces, in GB/s of CPU time: round trips
    by long messages and through a shared segment, against the same round trips through a
    pipe pair (the CPU time of both processes) and memcpy."""
    n = (ctx.sizes.bulk_mib << 20) // (2 * BULK_PIECE)
    batches = ctx.sizes.batches
    size = f"{ctx.sizes.bulk_mib} MiB"
    ctx.row("bulk.long", BULK, "mikro callbuf/replybuf, 1 MiB each way (x86)", "GB/s",
            lambda: _bulk_mikro(long_roundtrip, "bulklong", n, batches),
            note=f"{size}; run less empty run, CPU")
    ctx.row("bulk.segment", BULK, "mikro shared segment, 1 MiB each way (x86)", "GB/s",
            lambda: _bulk_mikro(segment_roundtrip, "bulkseg", n, batches),
            note=f"{size}; copy into it; as above")
    ctx.row("bulk.pipe", BULK, "pipe pair, 1 MiB each way", "GB/s",
            lambda: _gbps(native.bulk_pipe(BULK_PIECE, n, batches), 2 * BULK_PIECE),
            note=f"{size}; 2 processes, 1 core")
    ctx.row("bulk.memcpy", BULK, "memcpy of 1 MiB pieces", "GB/s",
            lambda: _gbps(native.memcpy_copy(BULK_PIECE, 2 * n, batches), BULK_PIECE),
            note=f"{size}; the limit of a copy")


def _notify(ctx: Ctx):
    n = ctx.sizes.rt_x86
    ctx.row("rt.mikro.notify", RT, "mikro notify + wait, both ways (x86), steady", "ns",
            lambda: _steady(ctx, notify_roundtrip(n, WARM), "notify", n),
            note="2 tasks; between go and end")


def _restart(ctx: Ctx):
    """A restart cycle (restart, the task's end, the supervisor's wait) beside learning of
    a task's end without supervision (a new task each cycle, its end seen as E_CLOSED on a
    ONE channel), timed alike in the same run."""
    n = max(ctx.sizes.rt_x86 // 20, 100)

    def steady(fresh: bool):
        def measure() -> list[tuple[float, float]]:
            r = runner(restart_cycle(n, WARM // 20, fresh), "restart", "x86", f"go\n{n}\n")
            out = []
            for _ in range(ctx.sizes.batches):
                t = r.timed()
                out.append((t.interval() / n * 1e9, t.interval(cpu=True) / n * 1e9))
            return out
        return measure
    ctx.row("sup.mikro.restart", SUP, "mikro restart + exit + wait (x86), steady", "ns",
            steady(False), note="a supervisor and its task; between go and end")
    ctx.row("sup.mikro.spawn", SUP, "mikro spawn + exit seen as E_CLOSED (x86), steady", "ns",
            steady(True), note="a new task each cycle, no supervisor")


def _select(ctx: Ctx):
    n = ctx.sizes.rt_x86
    for members in SELECT_SIZES:
        ctx.row(f"rt.mikro.select{members}", RT,
                f"mikro call/reply, server in select over {members} (x86), steady", "ns",
                partial(_steady, ctx, select_roundtrip(n, members, WARM), "select", n),
                note="select + recv; between go and end")
    ctx.row("rt.mikro.recvtype", RT, "mikro call/reply, server in recv_type (x86), steady", "ns",
            lambda: _steady(ctx, typed_roundtrip(n, WARM), "typed", n),
            note="most urgent first; between go and end")


@dataclass(frozen=True)
class Bench:
    name: str                       # what --only takes
    run: Callable[[Ctx], None]
    help: str


BENCHES: list[Bench] = [
    Bench("indirect", _indirect, "a plain native indirect call"),
    Bench("mikro-x86", _mikro("x86", lambda c: c.sizes.rt_x86), "mikro round trip, x86 backend"),
    Bench("mikro-interp", _mikro("interp", lambda c: c.sizes.rt_interp), "mikro round trip, interpreter"),
    Bench("notify", _notify, "notify + wait both ways against the call/reply round trip"),
    Bench("restart", _restart, "a supervisor's restart cycle against spawning a new task"),
    Bench("select", _select, "call/reply through select over 1 and 64 handles, and recv_type"),
    Bench("pipe", _process_pair("rt.pipe", "pipe pair", native.pipe_pair), "two pipes"),
    Bench("socketpair", _process_pair("rt.socketpair", "Unix socketpair", native.socket_pair),
          "a Unix stream socketpair"),
    Bench("sysv", _process_pair("rt.sysv", "System V msg queue", native.sysv_queue),
          "msgsnd/msgrcv, message types route"),
    Bench("posixmq", _process_pair("rt.posixmq", "POSIX msg queues", native.posix_queue),
          "mq_send/mq_receive on two queues"),
    Bench("long", _long, "long messages of 4 and 64 KiB vs pipes, sockets and memcpy"),
    Bench("bulk", _bulk, "64 MiB in 1 MiB pieces: long messages, a shared segment, a pipe, memcpy"),
    Bench("asyncio", _python("py.asyncio", "asyncio.Queue", pyalt.asyncio_queue, "2 coroutines"),
          "asyncio.Queue between coroutines"),
    Bench("threads", _python("py.threads", "queue.Queue", pyalt.thread_queue, "2 threads"),
          "queue.Queue between threads"),
    Bench("mp-pipe", _python("py.mp_pipe", "multiprocessing.Pipe", pyalt.mp_pipe, "2 processes, 1 core"),
          "multiprocessing.Pipe between processes"),
    Bench("tasks", curves.tasks, "round trip vs number of tasks"),
    Bench("connections", curves.connections, "round trip vs connections on one server"),
    Bench("push", curves.push, "push to one of n clients vs n"),
    Bench("open", curves.open_names, "open vs number of registered names"),
    Bench("timers", curves.timers, "sleep(1) vs number of deadlines pending"),
    Bench("throughput", costs.throughput, "round trips per second, N clients on one server"),
    Bench("spawn", costs.spawn, "spawn time and memory per task"),
    Bench("compile", costs.compile_time, "compile time per VM instruction"),
    Bench("schedules", costs.schedules, "schedules explored per second, one process"),
    Bench("startup", costs.startup, "`mikro run hello.mk` start-up"),
    Bench("soak", soak.soak, "resident memory before and after many compiles, and printing"),
]


def select(only: str | None) -> list[Bench]:
    """The benchmarks named in a comma-separated list (all when None)."""
    if not only:
        return list(BENCHES)
    names = [n.strip() for n in only.split(",") if n.strip()]
    known = {b.name: b for b in BENCHES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"unknown benchmark {', '.join(unknown)} (known: {', '.join(known)})")
    return [b for b in BENCHES if b.name in names]
