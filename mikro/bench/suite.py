"""The benchmarks of `mikro bench`, each a function of the run's context, in suite order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import costs, curves, native, pyalt, soak
from .curves import WARM
from .mikrorun import runner
from .model import Ctx
from .programs import roundtrip

RT = "round trip"
PY = "python alternatives"


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
    def measure(ctx: Ctx) -> list[float]:
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
        r = runner(roundtrip(n, warm), "roundtrip", backend, f"go\n{n}\n")
        out = []
        for _ in range(ctx.sizes.batches):
            t = r.timed()
            out.append((t.interval() / n * 1e9, t.interval(cpu=True) / n * 1e9))
        return out

    def bench(ctx: Ctx):
        ctx.row(f"rt.mikro.{backend}", RT, f"mikro call/reply ({backend})", "ns",
                lambda: measure(ctx), note="2 tasks; whole run / N")
        ctx.row(f"rt.mikro.{backend}.steady", RT, f"mikro call/reply ({backend}), steady", "ns",
                lambda: steady(ctx), note="2 tasks; between go and end")
    return bench


@dataclass(frozen=True)
class Bench:
    name: str                       # what --only takes
    run: Callable[[Ctx], None]
    help: str


BENCHES: list[Bench] = [
    Bench("indirect", _indirect, "a plain native indirect call"),
    Bench("mikro-x86", _mikro("x86", lambda c: c.sizes.rt_x86), "mikro round trip, x86 backend"),
    Bench("mikro-interp", _mikro("interp", lambda c: c.sizes.rt_interp), "mikro round trip, interpreter"),
    Bench("pipe", _process_pair("rt.pipe", "pipe pair", native.pipe_pair), "two pipes"),
    Bench("socketpair", _process_pair("rt.socketpair", "Unix socketpair", native.socket_pair),
          "a Unix stream socketpair"),
    Bench("sysv", _process_pair("rt.sysv", "System V msg queue", native.sysv_queue),
          "msgsnd/msgrcv, message types route"),
    Bench("posixmq", _process_pair("rt.posixmq", "POSIX msg queues", native.posix_queue),
          "mq_send/mq_receive on two queues"),
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
