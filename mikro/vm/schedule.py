"""Schedules as values: the plan a run's scheduler follows and the decisions it took.

A *decision* is a point where a run could go more than one way: a pick from a ready queue
holding two tasks or more, or a `choose(n)` with n >= 2. Its value is 0 for the default
(the queue's head, choose's 0) or k, the k-th task of the queue (which swaps places with
the head, as a seeded pick does) or choose's k. Points with one way only are not decisions.

A `Plan` gives the values of the first decisions and how the rest are taken (its tail):
all 0 (`fifo`), seeded splitmix64 draws (`random`), or PCT priorities (`pct`). Both
kernels follow a plan the same way (docs/kernel.md, "Schedules") and log every decision.

A schedule string is the printable form of a plan with the fifo tail: `@` and the
decisions that are not 0, as `INDEX:VALUE`, e.g. `@3:1,7:2`; `@` alone is the FIFO run.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import abi

TAILS = ("fifo", "random", "pct")
# (ORDER PLAN) the native kernel's numbers for the tails; 0 means "no plan"
TAIL_CODE = {"fifo": 1, "random": 2, "pct": 3}
PICK, CHOOSE = "pick", "choose"


class ScheduleError(ValueError):
    """A schedule string that is malformed, or that does not fit the program's run."""


@dataclass(frozen=True)
class Plan:
    decisions: tuple[int, ...] = ()     # the values of decisions 0, 1, ...
    tail: str = "fifo"                  # how the decisions after them are taken
    seed: int = 0                       # random: the draws; pct: those of choose
    priorities: tuple[int, ...] = ()    # pct: task id t starts at priorities[t % len]
    changes: tuple[int, ...] = ()       # pct: at the j-th of these decisions, the task
                                        # about to run drops to priority j + 1

    def __post_init__(self):
        if self.tail not in TAILS:
            raise ValueError(f"a plan's tail is one of {', '.join(TAILS)} (got {self.tail!r})")
        if self.tail == "pct" and not self.priorities:
            raise ValueError("a pct plan needs priorities")
        if len(self.decisions) > abi.DECISIONS_MAX:
            raise ScheduleError(f"a schedule holds at most {abi.DECISIONS_MAX} decisions")
        for what, values, low in (("decision values", self.decisions, 0),
                                  ("priorities", self.priorities, -(1 << 63)),
                                  ("change points", self.changes, 0)):
            if not all(type(v) is int and low <= v < 1 << 63 for v in values):
                raise ValueError(f"a plan's {what} are integers from {low} to 2^63-1")
        if type(self.seed) is not int or not -(1 << 63) <= self.seed < 1 << 64:
            raise ValueError(f"a plan's seed is a 64-bit integer (got {self.seed!r})")


@dataclass(frozen=True)
class Decision:
    kind: str        # PICK or CHOOSE
    options: int     # the ways it could go (>= 2)
    value: int       # the way it went: 0 .. options - 1
    task: int        # the task picked, or the task that called choose
    event: int       # how many trace events came before it (0 in an untraced run)

    @property
    def switch(self) -> bool:
        """a pick that did not take the queue's head: a preemption of the FIFO order"""
        return self.kind == PICK and self.value != 0


LOG_WORDS = 4    # a decision in a run's log: its ways (negated for choose), value, task, event


def decisions_of(log) -> list[Decision]:
    """The Decisions of a run's flat log (LOG_WORDS words each)."""
    return [Decision(PICK if log[i] > 0 else CHOOSE, abs(log[i]), log[i + 1], log[i + 2],
                     log[i + 3]) for i in range(0, len(log), LOG_WORDS)]


def to_string(values) -> str:
    """The schedule string of decision values (those after the last non-zero are 0)."""
    return "@" + ",".join(f"{i}:{v}" for i, v in enumerate(values) if v)


def parse(text: str) -> tuple[int, ...]:
    """The decision values of a schedule string; ScheduleError saying what is wrong."""
    if not isinstance(text, str) or not text.startswith("@"):
        raise ScheduleError(f"a schedule is `@` and INDEX:VALUE pairs, as `@3:1,7:2` "
                            f"(got {text!r})")
    body, last, pairs = text[1:], -1, []
    for part in body.split(",") if body else ():
        index, sep, value = part.partition(":")
        if not (sep and index.isdigit() and value.isdigit()):
            raise ScheduleError(f"schedule {text!r}: {part!r} is not INDEX:VALUE")
        i, v = int(index), int(value)
        if i <= last:
            raise ScheduleError(f"schedule {text!r}: decision {i} comes after {last}; "
                                f"indexes must grow")
        if i >= abi.DECISIONS_MAX:
            raise ScheduleError(f"schedule {text!r}: decision {i} is past the "
                                f"{abi.DECISIONS_MAX} a schedule holds")
        if v >= 1 << 63:
            raise ScheduleError(f"schedule {text!r}: decision {i} is {v}, past any choice")
        if v == 0:
            raise ScheduleError(f"schedule {text!r}: decision {i} is 0, which is written "
                                f"by leaving it out")
        pairs.append((i, v))
        last = i
    values = [0] * (last + 1)
    for i, v in pairs:
        values[i] = v
    return tuple(values)


def plan_of(schedule) -> Plan | None:
    """A Plan from a schedule string, a Plan, or None."""
    if schedule is None or isinstance(schedule, Plan):
        return schedule
    return Plan(parse(schedule))


def misfit(plan: Plan | None, log, bad: int, made: int) -> str | None:
    """Why a run's plan did not fit its program, or None. log: the run's flat decision
    log; bad: 1 + the index of the first
    decision whose planned value was too large (0: none); made: the decisions the run
    made (a planned value past them was never used)."""
    if plan is None or plan.tail != "fifo":
        return None
    if bad:
        i = bad - 1         # < DECISIONS_MAX, so the log holds it
        n = abs(log[i * LOG_WORDS])
        return (f"the schedule does not fit the program: decision {i} is "
                f"{plan.decisions[i]}, but it could go {n} ways there (0..{n - 1})")
    used = max((i for i, v in enumerate(plan.decisions) if v), default=-1)
    if used >= made:
        return (f"the schedule does not fit the program: it sets decision {used}, but "
                f"the run made {made} decision{'s' if made != 1 else ''}")
    return None


def splitmix64(state: int) -> tuple[int, int]:
    """(the next state, the draw) of the generator of docs/kernel.md."""
    gamma, m1, m2 = abi.SPLITMIX
    state = (state + gamma) & M64
    z = state
    z = ((z ^ (z >> 30)) * m1) & M64
    z = ((z ^ (z >> 27)) * m2) & M64
    return state, z ^ (z >> 31)


M64 = (1 << 64) - 1
