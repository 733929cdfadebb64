"""The results of a run: rich tables for people, JSON for machines, SVG curves."""
from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from .model import Curve, Row
from .stats import Stat
from .svg import bar_chart, line_chart


def fmt(v: float) -> str:
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    a = abs(v)
    if a >= 100_000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _spread(s: Stat) -> str:
    return f"{fmt(s.lo)} – {fmt(s.hi)}"


def rows_table(rows: list[Row]) -> Table:
    t = Table(title="mikro bench", show_lines=False)
    for col in ("group", "benchmark", "median", "min – max", "IQR", "CPU", "unit", "note"):
        t.add_column(col, justify="left" if col in ("group", "benchmark", "unit", "note")
                     else "right")
    group = None
    for r in rows:
        g = r.group if r.group != group else ""
        group = r.group
        if r.stat is None:
            t.add_row(g, r.label, "-", f"[yellow]unavailable: {r.unavailable}[/]", "", "", r.unit, r.note)
        else:
            s = r.stat
            cpu = fmt(r.cpu.median) if r.cpu is not None else ""
            t.add_row(g, r.label, fmt(s.median), _spread(s), f"{s.spread:.0%}", cpu, r.unit, r.note)
    return t


def curves_table(curves: list[Curve]) -> Table:
    t = Table(title="O(1) claims (x86 backend)")
    for col in ("curve", "size", "median", "min – max", "unit", "vs first"):
        t.add_column(col, justify="left" if col in ("curve", "unit") else "right")
    for c in curves:
        first = True
        for x, s in c.points:
            rel = f"{c.relative[x]:.2f}" if x in c.relative else ""
            t.add_row(c.title if first else "", f"{x:,}", fmt(s.median), _spread(s), c.unit, rel)
            first = False
        ratio = c.ratio()
        t.add_row("" if c.points else c.title, "[bold]largest/smallest[/]", "", "", "",
                  f"[bold]{ratio:.2f}[/]" if ratio else "-")
        if c.unavailable:
            t.add_row("", "", "", f"[yellow]unavailable {c.unavailable}[/]", "", "")
        t.add_section()
    return t


def targets_table(targets) -> Table:
    t = Table(title="targets")
    t.add_column("target")
    t.add_column("measured", justify="right")
    t.add_column("")
    for g in targets:
        mark = {True: "[green]met[/]", False: "[red]not met[/]"}.get(g.met, f"[yellow]not measured: {g.why}[/]")
        t.add_row(g.label, g.value, mark)
    return t


def print_tables(console: Console, rows, curves, targets, machine: dict, seconds: float) -> None:
    if rows:
        console.print(rows_table(rows))
    if curves:
        console.print(curves_table(curves))
    console.print(targets_table(targets))
    console.print(f"{machine['cpu']}, {machine['cores']} cores; Python {machine['python']}; "
                  f"llvmlite {machine['llvmlite']} (LLVM {machine['llvm']}); {seconds:.0f} s; "
                  f"load average {machine['load_1min'][0]} before, {machine['load_1min'][1]} after")


def to_data(rows, curves, targets, machine: dict, mode: str, seconds: float) -> dict:
    """Everything of a run as plain data: what --json prints, and what plots are drawn from."""
    return {"mode": mode, "machine": machine, "seconds": round(seconds, 2),
            "rows": [r.to_dict() for r in rows],
            "curves": [c.to_dict() for c in curves],
            "targets": [t.to_dict() for t in targets]}


def write_plots(directory: Path, data: dict) -> list[Path]:
    """SVG charts of a run (as `to_data` gives it): the round trips side by side (CPU time
    where measured, which a busy machine does not inflate), and one chart per curve with
    the median and, as thin lines, the smallest and largest batch."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    bars = [(r["label"], r.get("cpu", r.get("stat", {})).get("median", 0.0)) for r in data["rows"]
            if r["key"].startswith(("rt.", "py.")) and "stat" in r and r["unit"] == "ns"]
    if bars:
        path = directory / "roundtrip.svg"
        path.write_text(bar_chart("one round trip (median CPU time)", "ns per round trip", bars))
        written.append(path)
    for c in data["curves"]:
        if not c["points"]:
            continue
        pts = [(p["x"], p["stat"]) for p in c["points"]]
        series = {"median": [(x, s["median"]) for x, s in pts],
                  "min": [(x, s["lo"]) for x, s in pts],
                  "max": [(x, s["hi"]) for x, s in pts]}
        path = directory / f"{c['key'].replace('curve.', '')}.svg"
        path.write_text(line_chart(f"{c['title']} (x86)", c["xlabel"], c["ylabel"], series,
                                   thin=frozenset({"min", "max"})))
        written.append(path)
    return written
