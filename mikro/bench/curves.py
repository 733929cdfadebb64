"""The O(1) claims as curves on the x86 backend: a cost per operation against a size.

Each point times n operations between the program's `go` line and its last line, so
spawning and connecting the crowd (a million tasks, for the largest point) stays out. The
time is the CPU time of the thread running the native kernel: a curve is about the cost of
an operation, and on a shared 2-core machine wall-clock time doubles whenever another
process lands on the same core, which would bend a flat curve at random points.
"""
from __future__ import annotations

from typing import Callable

from . import programs
from .mikrorun import check_memory, per_op, per_op_diff
from .model import Ctx, Curve, reason
from .stats import Stat

MEM_WORDS = 512       # 4 KiB of memory per task: a million tasks fit in RAM
# Operations done before `go`, unmeasured: after a crowd of 3x10^5 tasks or more was set
# up, the first ~10^6 round trips cost twice the later ones (memory touched for the first
# time), and a steady state is what the O(1) claim is about.
WARM = 1 << 20


def _curve(ctx: Ctx, curve: Curve, xs: list[int], make: Callable[[int, int, int], str]) -> None:
    """Fill `curve` point by point; the first failure ends it with the reason."""
    ctx.curves.append(curve)
    n = ctx.sizes.curve_ops
    for x in xs:
        ctx.status(f"{curve.title}: {x:,}")
        try:
            check_memory(x)
            s = per_op(lambda n: make(n, x, WARM), curve.key, n, ctx.sizes.curve_batches,
                       lambda n: f"go\n{n}\n", MEM_WORDS)
        except Exception as e:
            curve.unavailable = f"at {x:,}: {reason(e)}"
            return
        curve.points.append((x, Stat.of([cpu * 1e9 for _, cpu in s])))


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


def open_names(ctx: Ctx):
    """open + close never blocks, so no task switch returns control to Python between the
    go line and the end: time it as the difference of two runs instead."""
    curve = Curve("curve.open", "open vs names", "names registered", "ns per open + close", "ns")
    ctx.curves.append(curve)
    n = ctx.sizes.curve_ops
    for x in ctx.sizes.names:
        ctx.status(f"{curve.title}: {x:,}")
        try:
            s = per_op_diff(lambda k: programs.open_names(k, x), curve.key, n // 5, n + n // 5,
                            ctx.sizes.curve_batches, lambda k: f"go\n{k}\n")
        except Exception as e:
            curve.unavailable = f"at {x:,}: {reason(e)}"
            return
        curve.points.append((x, Stat.of([v * 1e9 for v in s])))
