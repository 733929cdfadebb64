"""The talk's targets, each judged met / not met from the figures of the same run."""
from __future__ import annotations

from dataclasses import dataclass

from .model import Curve, Row


@dataclass
class Target:
    label: str
    value: str               # the measured figure, as shown
    met: bool | None         # None: not measured in this run
    why: str = ""            # why it was not measured

    def to_dict(self) -> dict:
        return {"label": self.label, "value": self.value, "met": self.met, "why": self.why}


def _median(rows: dict[str, Row], key: str):
    r = rows.get(key)
    if r is None:
        return None, f"{key} not run"
    if r.stat is None:
        return None, r.unavailable or f"{key} has no figure"
    return r.stat.median, ""


def _curve_ratio(curves: dict[str, Curve], key: str, hi: int, lo: int):
    c = curves.get(key)
    if c is None:
        return None, f"{key} not run"
    a, b = c.at(hi), c.at(lo)
    if a is None or b is None:
        missing = hi if a is None else lo
        return None, f"no point at {missing:,}" + (f" ({c.unavailable})" if c.unavailable else "")
    return c.between(hi, lo), ""


def _cpu(rows: dict[str, Row], key: str):
    r = rows.get(key)
    return r.cpu.median if r is not None and r.cpu is not None else None


def _with_cpu(t: Target, cpu, fmt: str) -> Target:
    """The figure in CPU time beside the wall-clock one it is judged on."""
    if cpu is not None and t.met is not None:
        t.value += f" (CPU {fmt.format(cpu)})"
    return t


def _judge(label: str, value, why: str, ok, fmt: str) -> Target:
    if value is None:
        return Target(label, "-", None, why)
    return Target(label, fmt.format(value), bool(ok(value)))


def evaluate(rows: list[Row], curves: list[Curve], spawn_size: int) -> list[Target]:
    R = {r.key: r for r in rows}
    C = {c.key: c for c in curves}
    out = []
    rt, why = _median(R, "rt.mikro.x86")
    out.append(_with_cpu(_judge("round trip <= 10 ns", rt, why, lambda v: v <= 10, "{:.2f} ns"),
                         _cpu(R, "rt.mikro.x86"), "{:.2f}"))
    pipe, why2 = _median(R, "rt.pipe")
    speed = pipe / rt if pipe and rt else None
    cpu_rt, cpu_pipe = _cpu(R, "rt.mikro.x86"), _cpu(R, "rt.pipe")
    out.append(_with_cpu(_judge(">= 300x faster than the pipe pair", speed, why2 or why,
                                lambda v: v >= 300, "{:.0f}x"),
                         cpu_pipe / cpu_rt if cpu_pipe and cpu_rt else None, "{:.0f}x"))
    flat, why = _curve_ratio(C, "curve.tasks", 100_000, 2)
    out.append(_judge("flatness <= 1.25 (10^5 vs 2 tasks)", flat, why, lambda v: v <= 1.25, "{:.2f}"))
    push, why = _curve_ratio(C, "curve.push", 100_000, 10)
    out.append(_judge("push <= 2x from 10 to 10^5 clients", push, why, lambda v: v <= 2, "{:.2f}x"))
    sp, why = _median(R, "spawn.total")
    if sp is not None and spawn_size != 100_000:
        sp, why = None, f"spawned {spawn_size:,} tasks, not 10^5"
    out.append(_judge("10^5 tasks spawned in < 1 s", sp, why, lambda v: v < 1, "{:.3f} s"))
    mem, why = _median(R, "mem.kernel")
    out.append(_judge("< 2 KiB kernel memory per task", mem, why, lambda v: v < 2048, "{:,.0f} B"))
    cold, why = _median(R, "startup.cold")
    out.append(_judge("hello < 0.3 s cold", cold, why, lambda v: v < 0.3, "{:.3f} s"))
    warm, why = _median(R, "startup.cached")
    out.append(_judge("hello < 0.15 s cached", warm, why, lambda v: v < 0.15, "{:.3f} s"))
    us, why = _median(R, "compile.mixed.interpreter")
    out.append(_judge("start <= 100 us per VM instruction, cold", us, why,
                      lambda v: v <= 100, "{:.1f} us"))
    for tag, size in (("4k", "4 KiB"), ("64k", "64 KiB")):
        lm, why = _median(R, f"long.mikro.{tag}")
        cp, why2 = _median(R, f"long.memcpy.{tag}")
        rt, why3 = _median(R, "rt.mikro.x86")
        # the bound: a long message's round trip costs at most the four-word round
        # trip plus 1.5 times the two copies it makes
        bound = rt + 1.5 * 2 * cp if rt is not None and cp is not None else None
        out.append(_judge(f"{size} long round trip <= rt + 1.5 x 2 memcpy",
                          None if bound is None else lm, why or why2 or why3,
                          lambda v, bound=bound: v <= bound,
                          "{:.0f} ns" + ("" if bound is None else f" (bound {bound:.0f} ns)")))
    # both steady, between go and the end: the same harness on both
    nt, why = _median(R, "rt.mikro.notify")
    steady, why_rt = _median(R, "rt.mikro.x86.steady")
    ratio = nt / steady if nt and steady else None
    out.append(_judge("notify + wait <= the call/reply round trip", ratio, why or why_rt,
                      lambda v: v <= 1, "{:.2f}x"))
    rs, why = _median(R, "sup.mikro.restart")
    sp, why_sp = _median(R, "sup.mikro.spawn")
    ratio = rs / sp if rs and sp else None
    out.append(_judge("restart cycle <= a new task's, unsupervised", ratio, why or why_sp,
                      lambda v: v <= 1, "{:.2f}x"))
    tm, why = _curve_ratio(C, "curve.timers", 100_000, 10)
    out.append(_judge("sleep <= 2x from 10 to 10^5 deadlines pending", tm, why,
                      lambda v: v <= 2, "{:.2f}x"))
    sched, why = _median(R, "explore.x86")
    out.append(_with_cpu(_judge(">= 10^4 schedules explored per second (x86)", sched, why,
                                lambda v: v >= 10_000, "{:,.0f}/s"),
                         _cpu(R, "explore.x86"), "{:,.0f}/s"))
    c = C.get("curve.compile")
    lin = c.ratio() if c is not None else None
    out.append(_judge("start cost linear within 1.5x", lin,
                      "curve.compile not run" if c is None else "too few points",
                      lambda v: v <= 1.5, "{:.2f}x"))
    return out
