"""The O(1) claims as curves on the x86 backend: a cost per operation against a size.

Each point times n operations between the program's `go` line and its last line, so
spawning and connecting the crowd (a million tasks, for the largest point) stays out. The
time is the CPU time of the thread running the native kernel: a curve is about the cost of
an operation, and on a shared 2-core machine wall-clock time doubles whenever another
process lands on the same core, which would bend a flat curve at random points.
"""
from __future__ import annotations

import statistics
from typing import Callable

from . import programs
from .mikrorun import check_memory, per_op_diff, runner
from .model import Ctx, Curve, reason
from .stats import Stat

MEM_WORDS = 512       # 4 KiB of memory per task: a million tasks fit in RAM
# Operations done before `go`, unmeasured, so that each point times a steady state.
WARM = 1 << 20


def _curve(ctx: Ctx, curve: Curve, xs: list[int], make: Callable[[int, int, int], str]) -> None:
    """Fill `curve`; the first failure ends it at that point, with the reason.

    This machine's speed changes in phases (another process on the core's sibling, a
    change of clock) that last from milliseconds to seconds and can make one batch cost
    1.6 times another. Timed one after the other, the points of a flat curve each got a
    different mix of phases and the curve bent at random points. So each batch goes round
    all points, and before each point it times the first point again: the point's time
    over that one, measured a moment apart, is mostly free of the phase, and the curve's
    ratios (Curve.relative) are medians of those."""
    ctx.curves.append(curve)
    n = ctx.sizes.curve_ops
    points = []
    for x in xs:
        ctx.status(f"{curve.title}: compiling {x:,}")
        try:
            check_memory(x)
            points.append((x, runner(make(n, x, WARM), curve.key, "x86", f"go\n{n}\n", MEM_WORDS)))
        except Exception as e:
            curve.unavailable = f"at {x:,}: {reason(e)}"
            break
    times: dict[int, list[float]] = {x: [] for x, _ in points}
    rel: dict[int, list[float]] = {x: [] for x, _ in points}

    def ns(r) -> float:
        return r.timed().interval(cpu=True) / n * 1e9
    for batch in range(ctx.sizes.curve_batches):
        for i, (x, r) in enumerate(points):
            ctx.status(f"{curve.title}: {x:,} (batch {batch + 1})")
            try:
                base = ns(points[0][1])
                t = ns(r) if i else base
            except Exception as e:
                curve.unavailable = f"at {x:,}: {reason(e)}"
                del points[max(i, 1):]
                break
            times[points[0][0]].append(base)
            if i:
                times[x].append(t)
            rel[x].append(t / base)
    curve.points = [(x, Stat.of(times[x])) for x, _ in points if times[x]]
    curve.relative = {x: statistics.median(rel[x]) for x, _ in points if rel[x]}


def tasks(ctx: Ctx):
    _curve(ctx, Curve("curve.tasks", "round trip vs tasks", "tasks alive", "ns per round trip", "ns"),
           ctx.sizes.tasks, programs.roundtrip_tasks)


def connections(ctx: Ctx):
    _curve(ctx, Curve("curve.connections", "round trip vs connections", "connections on the server",
                      "ns per round trip", "ns"),
           ctx.sizes.connections, programs.roundtrip_connections)


def push(ctx: Ctx):
    _curve(ctx, Curve("curve.push", "push vs clients", "clients connected", "ns per push", "ns"),
           ctx.sizes.push, programs.push)


def timers(ctx: Ctx):
    _curve(ctx, Curve("curve.timers", "sleep vs pending timers", "deadlines pending",
                      "ns per sleep(1)", "ns"),
           ctx.sizes.timers, programs.timers)


def open_names(ctx: Ctx):
    """open + close never blocks, so no task switch returns control to Python between the
    go line and the end: time it as the difference of two runs instead. The names are built
    at run time; the name opened is a literal (curve.open) or built too (curve.open_at)."""
    for key, title, built in (("curve.open", "open vs names", False),
                              ("curve.open_at", "open of a built name vs names", True)):
        curve = Curve(key, title, "names registered", "ns per open + close", "ns")
        ctx.curves.append(curve)
        n = ctx.sizes.curve_ops
        for x in ctx.sizes.names:
            ctx.status(f"{curve.title}: {x:,}")
            try:
                check_memory(x // 60)
                s = per_op_diff(lambda k: programs.open_names(k, x, built), curve.key, n // 5,
                                n + n // 5, ctx.sizes.curve_batches, lambda k: f"go\n{k}\n")
            except Exception as e:
                curve.unavailable = f"at {x:,}: {reason(e)}"
                break
            curve.points.append((x, Stat.of([v * 1e9 for v in s])))
