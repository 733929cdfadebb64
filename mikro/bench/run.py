"""`mikro bench`: run the selected benchmarks under a progress bar, then report."""
from __future__ import annotations

import json
import os
import sys
import time
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from . import machine, report, suite, targets
from .model import FULL, QUICK, Ctx, Row, reason


def _show_status(bar: Progress, task, name: str, text: str) -> None:
    bar.update(task, description=f"{name}: {text}")


def run(quick: bool = False, only: str | None = None, show: bool = True) -> tuple[Ctx, list, float]:
    """Run the benchmarks; the progress bar goes to stderr when `show` is set."""
    benches = suite.select(only)
    ctx = Ctx(QUICK if quick else FULL, quick)
    start = time.perf_counter()
    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=not show) as bar:
        task = bar.add_task("mikro bench", total=len(benches))
        for b in benches:
            ctx.status = partial(_show_status, bar, task, b.name)
            ctx.status(b.help)
            try:
                b.run(ctx)
            except Exception as e:          # a broken benchmark is a row, never a crash
                ctx.rows.append(Row(f"error.{b.name}", "errors", b.help, "", unavailable=reason(e)))
            bar.advance(task)
    goals = targets.evaluate(ctx.rows, ctx.curves, ctx.sizes.spawn)
    return ctx, goals, time.perf_counter() - start


def main(quick: bool = False, as_json: bool = False, plot: Path | None = None,
         only: str | None = None) -> int:
    try:
        suite.select(only)
    except KeyError as e:
        sys.stderr.write(f"error: {e.args[0]}\n")
        return 2
    load = os.getloadavg()[0]
    ctx, goals, seconds = run(quick, only, show=sys.stderr.isatty())
    info = machine.info()
    # other processes on the machine: what the figures shared it with
    info["load_1min"] = [round(load, 2), round(os.getloadavg()[0], 2)]
    data = report.to_data(ctx.rows, ctx.curves, goals, info, "quick" if quick else "full", seconds)
    if plot is not None:
        for path in report.write_plots(Path(plot), data):
            sys.stderr.write(f"wrote {path}\n")
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        out = Console()
        if not out.is_terminal:
            out = Console(width=150)          # a file or pipe: do not wrap at 80
        report.print_tables(out, ctx.rows, ctx.curves, goals, info, seconds)
    return 0
