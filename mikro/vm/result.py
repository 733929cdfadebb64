"""What a run gives back, and its report: one format for every backend.

A backend fills a RunResult with raw facts (pcs, return addresses, handles); `report()`
turns them into text with the program's line table, so the interpreter and the JIT print
the very same report.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from .abi import EXIT_CODES
from .image import Program
from .trace import Event


@dataclass(frozen=True)
class Where:
    """A point in a task: the pc, and the return addresses of its call chain, innermost first.
    A host task (Python code) is at pc -1."""
    pc: int
    chain: tuple[int, ...] = ()


@dataclass(frozen=True)
class Fault:
    task: int
    name: str
    reason: str
    where: Where


@dataclass(frozen=True)
class Waiter:
    """A task that was not dead when the run ended."""
    task: int
    name: str
    state: str          # "recv", "send", "call", "open", "push" or "ready"
    handle: int | None  # the handle it waits on (None for open and ready)
    where: Where


@dataclass
class RunResult:
    status: str                               # clean, fault, deadlock, limit, interrupted,
                                              # or running (a run paused between slices)
    output: str = ""                          # the last lines printed (RunOptions.output_limit)
    faults: list[Fault] = field(default_factory=list)
    waiting: list[Waiter] = field(default_factory=list)
    exits: dict[int, tuple[str, int]] = field(default_factory=dict)   # id -> (name, code)
    limit: str = ""                           # what limit ended the run
    fuel_used: int = 0
    tasks_spawned: int = 0
    switches: int = 0                         # times the scheduler picked a task
    trace: list[Event] = field(default_factory=list)   # IPC events, when traced
    output_dropped: int = 0                   # lines printed before those `output` keeps

    @property
    def stats(self) -> dict[str, int]:
        """Counts of the run: fuel used, tasks spawned, task switches, trace events by kind."""
        out = {"fuel_used": self.fuel_used, "tasks_spawned": self.tasks_spawned,
               "switches": self.switches, "faults": len(self.faults)}
        for e in self.trace:
            out[e.kind] = out.get(e.kind, 0) + 1
        return out

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def report(self, program: Program) -> str:
        """The end-of-run report (empty for a clean run with nothing to say)."""
        out: list[str] = []
        for f in self.faults:
            out.append(f"fault in task {f.name}#{f.task} at {_at(program, f.where)}: {f.reason}")
            out.extend(_chain(program, f.where))
        if self.status == "deadlock":
            out.append("deadlock: no task can run")
            for w in self.waiting:
                if w.state != "recv":
                    out.extend(_waiter(program, w))
        elif self.status in ("limit", "interrupted"):
            out.append(f"{'interrupted' if self.status == 'interrupted' else 'limit'}: {self.limit}")
            for w in self.waiting:
                out.extend(_waiter(program, w))
        for tid, (name, code) in sorted(self.exits.items()):
            if code != 0:
                out.append(f"task {name}#{tid} exited with code {code}")
        return "".join(line + "\n" for line in out)


class Output:
    """A run's output as it is printed, the same on every backend: each line goes to
    `on_output` at once (a text with newlines is several lines), and only the last lines
    that fit in `limit` characters (newlines counted; None: no limit) are kept for the
    result, so a run that prints forever holds a bounded tail."""

    def __init__(self, on_output: Callable[[str], None] | None = None,
                 limit: int | None = None):
        self.on_output = on_output
        self.limit = None if limit is None else max(int(limit), 0)
        self.lines: deque[str] = deque()
        self.size = 0
        self.dropped = 0

    def write(self, text: str) -> None:
        """Printed text: each newline in it ends a line."""
        self.extend(text.split("\n"))

    def extend(self, lines: list[str]) -> None:
        """Lines printed, without their newlines, in order."""
        kept = self.lines
        kept.extend(lines)
        self.size += sum(map(len, lines)) + len(lines)
        if self.limit is not None:
            while self.size > self.limit:
                self.size -= len(kept.popleft()) + 1
                self.dropped += 1
        if self.on_output is not None:
            for line in lines:
                self.on_output(line)

    def text(self) -> str:
        return "".join(line + "\n" for line in self.lines)


def _waiter(program: Program, w: Waiter) -> list[str]:
    if w.state == "ready":
        what = "was running"
    elif w.handle is None:
        what = f"waits in {w.state}"
    else:
        what = f"waits in {w.state}({w.handle})"
    return [f"  {w.name}#{w.task} {what} at {_at(program, w.where)}"] + \
        ["  " + line for line in _chain(program, w.where)]


def _at(program: Program, where: Where) -> str:
    return "(host)" if where.pc < 0 else program.where(where.pc)


def _chain(program: Program, where: Where) -> list[str]:
    return [f"  called from {program.where(ra - 1)}" for ra in where.chain]
