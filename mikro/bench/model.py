"""What a benchmark run produces: rows (one figure each) and curves (a figure vs a size)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .stats import Stat


@dataclass
class Row:
    key: str                 # stable id, e.g. "rt.pipe"
    group: str               # the table section
    label: str
    unit: str
    stat: Stat | None = None
    unavailable: str = ""    # why there is no figure
    note: str = ""
    cpu: Stat | None = None  # the same batches in CPU time, where it was measured

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"key": self.key, "group": self.group, "label": self.label,
                             "unit": self.unit}
        if self.stat is not None:
            d["stat"] = self.stat.to_dict()
        if self.cpu is not None:
            d["cpu"] = self.cpu.to_dict()
        if self.unavailable:
            d["unavailable"] = self.unavailable
        if self.note:
            d["note"] = self.note
        return d


@dataclass
class Curve:
    key: str
    title: str
    xlabel: str
    ylabel: str
    unit: str
    points: list[tuple[int, Stat]] = field(default_factory=list)
    unavailable: str = ""    # why the curve stops early (or has no point at all)
    # x -> median over batches of the point's time over the first point's, timed just
    # before it (curves._curve); empty for a curve measured without that
    relative: dict[int, float] = field(default_factory=dict)

    def at(self, x: int) -> Stat | None:
        return next((s for px, s in self.points if px == x), None)

    def between(self, hi: int, lo: int) -> float | None:
        """The cost at hi over the cost at lo: from the relative times when there are."""
        if hi in self.relative and lo in self.relative:
            return self.relative[hi] / self.relative[lo] if self.relative[lo] > 0 else None
        a, b = self.at(hi), self.at(lo)
        return a.median / b.median if a and b and b.median > 0 else None

    def ratio(self) -> float | None:
        """Largest over smallest (relative times, else medians): 1.0 is perfectly flat."""
        vals = list(self.relative.values()) or [s.median for _, s in self.points]
        if len(vals) < 2 or min(vals) <= 0:
            return None
        return max(vals) / min(vals)

    def to_dict(self) -> dict:
        d = {"key": self.key, "title": self.title, "xlabel": self.xlabel, "ylabel": self.ylabel,
             "unit": self.unit,
             "points": [{"x": x, "stat": s.to_dict(), **({"relative": self.relative[x]}
                                                         if x in self.relative else {})}
                        for x, s in self.points],
             "ratio": self.ratio()}
        if self.unavailable:
            d["unavailable"] = self.unavailable
        return d


@dataclass
class Sizes:
    """How much work each benchmark does: the quick mode and the full suite differ only here."""
    batches: int              # batches of a single figure
    curve_batches: int        # batches of each point of a curve
    indirect: int             # calls per batch
    native: int               # round trips per batch between processes
    python: int               # round trips per batch of the Python alternatives
    rt_x86: int
    rt_interp: int
    curve_ops: int            # operations per point of a curve (the difference of two runs)
    tasks: list[int]
    connections: list[int]
    push: list[int]
    names: list[int]
    clients: list[int]
    spawn: int
    code: int                 # statements of the compile-time programs
    compile_curve: list[int]  # statements of the programs of the compile-cost curve
    startup: int              # runs of `mikro run hello.mk`
    soak_compiles: int        # programs compiled and run in one process (bench/soak.py)
    soak_print: float         # seconds of printing in one run
    soak_opens: int           # connections opened and closed in one run
    long_x86: int             # long-message round trips of 4 KiB (of 64 KiB: a 16th)
    long_native: int          # ... between processes, through a pipe pair or socketpair
    memcpy: int               # copies of 4 KiB (of 64 KiB: a 16th)
    timers: list[int]         # deadlines pending, the points of the timer curve
    schedules_x86: int        # schedules per batch of the exploration rate (bench/costs.py)
    schedules_interp: int
    bulk_mib: int             # MiB moved in 1 MiB pieces by the bulk-data figures


QUICK = Sizes(batches=3, curve_batches=3, indirect=2_000_000, native=4_000, python=2_000,
              rt_x86=500_000, rt_interp=500, curve_ops=200_000, tasks=[2, 100, 10_000],
              connections=[1, 100, 10_000], push=[1, 10, 1_000], names=[1, 100, 1_000],
              clients=[1, 100], spawn=100_000, code=100, startup=3,
              compile_curve=[10, 100, 1_000], soak_compiles=40, soak_print=1.0,
              soak_opens=100_000, long_x86=20_000, long_native=800, memcpy=50_000,
              timers=[10, 1_000, 100_000], schedules_x86=1_000, schedules_interp=100,
              bulk_mib=32)
FULL = Sizes(batches=7, curve_batches=5, indirect=10_000_000, native=20_000, python=10_000,
             rt_x86=2_000_000, rt_interp=5_000, curve_ops=2_000_000,
             tasks=[2, 10, 100, 1_000, 10_000, 100_000, 300_000, 1_000_000],
             connections=[1, 10, 100, 1_000, 10_000, 100_000],
             push=[1, 10, 100, 1_000, 10_000, 100_000],
             names=[1, 10, 100, 1_000, 10_000, 100_000],
             clients=[1, 10, 100, 1_000], spawn=100_000, code=300, startup=7,
             compile_curve=[10, 100, 1_000, 10_000], soak_compiles=1_000,
             soak_print=10.0, soak_opens=10_000_000, long_x86=200_000, long_native=8_000,
             memcpy=500_000, timers=[10, 100, 1_000, 10_000, 100_000], schedules_x86=10_000,
             schedules_interp=500, bulk_mib=64)


@dataclass
class Ctx:
    sizes: Sizes
    quick: bool
    rows: list[Row] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list)
    status: Callable[[str], None] = lambda text: None     # shows what runs now

    def row(self, key: str, group: str, label: str, unit: str,
            measure: Callable[[], list], note: str = "") -> Row:
        """Measure one figure: `measure` gives a value per batch, or a (wall, CPU) pair per
        batch. A failure becomes an unavailable row, never an exception."""
        self.status(label)
        r = Row(key, group, label, unit, note=note)
        try:
            batches = measure()
            if batches and isinstance(batches[0], (tuple, list)):
                r.stat = Stat.of([w for w, _ in batches])
                r.cpu = Stat.of([c for _, c in batches])
            else:
                r.stat = Stat.of(batches)
        except Exception as e:
            r.unavailable = reason(e)
        self.rows.append(r)
        return r


def reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:160]
