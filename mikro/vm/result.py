"""What a run gives back, and its report: one format for every backend.

A backend fills a RunResult with raw facts (pcs, return addresses, handles); `report()`
turns them into text with the program's line table, so the interpreter and the JIT print
the very same report.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from .abi import CHAIN_MAX, EXIT_CODES, TID_INDEX_MAX, TID_SHIFT
from .image import Program
from .schedule import LOG_WORDS, Decision, decisions_of, to_string
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
class Restart:
    """A supervisor started an ended task again: its old id, its new one (the same index,
    the next generation), its task type's name, and the supervisor's id and name."""
    old: int
    new: int
    name: str
    by: int
    by_name: str


def label(name: str, tid: int) -> str:
    """How a report names a task: `worker#3`, and `worker#3.1` for generation 1 of index 3
    (the task a restart made of worker#3)."""
    index, gen = tid & TID_INDEX_MAX, tid >> TID_SHIFT
    return f"{name}#{index}" + (f".{gen}" if gen else "")


# the waits of an idle server: a run whose live tasks all wait in one of them ended clean
# waits a task may be left in at the end of a clean run: for a message, or for bits
IDLE_WAITS = frozenset({"recv", "recvbuf", "wait", "select"})


@dataclass(frozen=True)
class Waiter:
    """A task that was not dead when the run ended."""
    task: int
    name: str
    state: str          # "recv", "send", "call", "open", "push", "recvbuf", "sendbuf",
                        # "callbuf", "pushbuf", "wait", "sleep", "select" or "ready"
    handle: int | None  # the handle it waits on (None for open, wait, sleep, select, ready)
    where: Where
    deadline: int | None = None     # the tick at which its wait ends (recv_until, ...)


def idle(state: str, deadline: int | None) -> bool:
    """Whether a task left waiting at the end of a run is not part of a deadlock: it waits
    for a message (recv, recvbuf, select) or a notification (wait), which a well-formed program may never
    send, or its wait has a deadline that ends it."""
    return state in IDLE_WAITS or deadline is not None


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
    restarts: list[Restart] = field(default_factory=list)   # in the order they were made
    # a planned run (RunOptions.plan): its decisions (the first abi.DECISIONS_MAX, as
    # schedule.LOG_WORDS words each: made into Decisions only when asked) and how many
    # it made
    decision_log: tuple[int, ...] = ()
    decisions_made: int = 0
    misfit: str = ""                          # why the plan did not fit the run, if it did not

    @property
    def schedule(self) -> str:
        """The schedule string that replays a planned run (`@...`, mikro.vm.schedule)."""
        return to_string(self.decision_log[1::LOG_WORDS])

    @property
    def decisions(self) -> list[Decision]:
        return decisions_of(self.decision_log)

    @property
    def stats(self) -> dict[str, int]:
        """Counts of the run: fuel used, tasks spawned, task switches, trace events by kind."""
        out = {"fuel_used": self.fuel_used, "tasks_spawned": self.tasks_spawned,
               "switches": self.switches, "faults": len(self.faults),
               "restarts": len(self.restarts)}
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
            out.append(f"fault in task {label(f.name, f.task)} at {_at(program, f.where)}: "
                       f"{f.reason}")
            out.extend(_chain(program, f.where))
        for r in self.restarts:
            out.append(f"task {label(r.name, r.old)} restarted as {label(r.name, r.new)} "
                       f"by {label(r.by_name, r.by)}")
        if self.status == "deadlock":
            out.append("deadlock: no task can run")
            out.extend(_waiters(program, [w for w in self.waiting
                                          if not idle(w.state, w.deadline)]))
        elif self.status in ("limit", "interrupted"):
            out.append(f"{'interrupted' if self.status == 'interrupted' else 'limit'}: {self.limit}")
            out.extend(_waiters(program, self.waiting))
        for tid, (name, code) in sorted(self.exits.items()):
            if code != 0:
                out.append(f"task {label(name, tid)} exited with code {code}")
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


# Past this many waiting tasks a report groups them by where they wait (a run of 10^5
# tasks stays readable), and shows at most GROUPS places.
ONE_BY_ONE = 10
GROUPS = 20


def waits(program: Program, w: Waiter, many: bool = False) -> str:
    """What a task alive at the end does, and where: `waits in recv(3) at f.mk:4` (`wait
    in` for `many` tasks)."""
    if w.state == "ready":
        what = "were running" if many else "was running"
    else:
        what = f"{'wait' if many else 'waits'} in {w.state}"
        if w.handle is not None:
            what += f"({w.handle})"
        if w.deadline is not None:
            what += f" until tick {w.deadline} (not deadlocked: the deadline ends the wait)"
    return f"{what} at {_at(program, w.where)}"


def _waiters(program: Program, waiters: list[Waiter]) -> list[str]:
    if len(waiters) <= ONE_BY_ONE:
        out = []
        for w in waiters:
            out.append(f"  {label(w.name, w.task)} {waits(program, w)}")
            out += ["  " + line for line in _chain(program, w.where)]
        return out
    groups: dict[tuple, list[Waiter]] = {}
    for w in waiters:
        groups.setdefault((w.name, w.state, w.handle, w.where), []).append(w)
    ranked = sorted(groups.values(), key=lambda g: (-len(g), g[0].task))
    out = [f"  {len(waiters)} tasks in {len(ranked)} place{'s' if len(ranked) != 1 else ''}:"]
    for g in ranked[:GROUPS]:
        first, last = g[0], g[-1]
        if len(g) == 1:
            out.append(f"  {label(first.name, first.task)} {waits(program, first)}")
        else:
            out.append(f"  {len(g)} tasks, {label(first.name, first.task)} ... "
                       f"{label(last.name, last.task)}, "
                       f"{waits(program, first, many=True)}")
        out += ["  " + line for line in _chain(program, first.where)]
    rest = ranked[GROUPS:]
    if rest:
        out.append(f"  ... and {sum(len(g) for g in rest)} more tasks in {len(rest)} other places")
    return out


def _at(program: Program, where: Where) -> str:
    return "(host)" if where.pc < 0 else program.where(where.pc)


def _chain(program: Program, where: Where) -> list[str]:
    """`called from` lines, innermost first, naming the function (or task) of each call;
    a recursion (the same calls repeated) is shown once with its count."""
    def called(ra: int) -> str:
        owner = program.owner(ra - 1)
        return f"  called from {program.where(ra - 1)}" + (f" in {owner}" if owner else "")
    out = []
    chain, i = where.chain, 0
    while i < len(chain):
        period, times = _repeat(chain, i)
        lines = [called(ra) for ra in chain[i:i + period]]
        if times == 1:
            out += lines
        elif period == 1:
            out.append(f"{lines[0]} ({times} times)")
        else:
            out += lines + [f"  (the {period} calls above, {times} times in all)"]
        i += period * times
    if len(chain) >= CHAIN_MAX:
        out.append(f"  ... the chain is cut here: a report shows the {CHAIN_MAX} innermost calls")
    return out


def _repeat(chain: tuple[int, ...], i: int, longest: int = 8) -> tuple[int, int]:
    """(period, times): the shortest run of calls from i that repeats right after itself,
    and how many times in a row it occurs; (1, 1) when nothing repeats."""
    for period in range(1, longest + 1):
        unit = chain[i:i + period]
        times = 1
        while chain[i + times * period:i + (times + 1) * period] == unit:
            times += 1
        if times > 1:
            return period, times
    return 1, 1
