"""Where the schedules of an exploration come from: each strategy is a source of plans
(mikro.vm.schedule.Plan) in a fixed order, told each run's result, and able to say what it
covered. docs/testing.md gives their guarantees and when to use which.

- RandomWalk: the FIFO run, then seeded random draws at every decision.
- PCT: random priorities per task and d - 1 change points (Burckhardt et al., ASPLOS 2010):
  a bug of depth d among n tasks and k decisions is found by a run with probability at
  least 1 / (n k^(d-1)).
- Bounded: every schedule with at most 0, 1, 2, ... decisions that are not the default
  (preemptions of the FIFO order, or choose values other than 0), level by level; with
  `por`, states reached again by commuting steps are explored once.
- Portfolio: the three above, interleaved, for a user who names no strategy.
"""
from __future__ import annotations

import random
from itertools import cycle
from typing import Iterator

from .vm.result import RunResult
from .vm.schedule import CHOOSE, LOG_WORDS, Plan, ScheduleError, plan_of, to_string

STRATEGIES = ("seeds", "random", "pct", "preempt", "exhaustive", "portfolio")
PRIORITIES = 64          # pct: task ids beyond share these priorities (t % 64)
BRANCH_MAX = 4096        # the bounded search branches on a run's first decisions only


class Source:
    name = ""

    def next(self) -> Plan | None:
        """The next plan, or None when this source has no more."""
        raise NotImplementedError

    def seen(self, plan: Plan, result: RunResult) -> None:
        """The result of a run of a plan this source gave."""

    def covered(self) -> str:
        raise NotImplementedError


class Replay(Source):
    """One schedule, given as a string: `mikro test --schedule S`."""
    name = "schedule"

    def __init__(self, schedule: str):
        plan = plan_of(schedule)
        assert plan is not None                  # a string gives a plan
        self.plan, self.runs = plan, 0

    def next(self) -> Plan | None:
        if self.runs:
            return None
        self.runs = 1
        return self.plan

    def seen(self, plan: Plan, result: RunResult) -> None:
        if result.misfit:
            raise ScheduleError(result.misfit)

    def covered(self) -> str:
        return f"the schedule {to_string(self.plan.decisions)}"


class RandomWalk(Source):
    name = "random"

    def __init__(self, first_seed: int = 0):
        self.first_seed, self.runs = first_seed, 0

    def next(self) -> Plan:
        i, self.runs = self.runs, self.runs + 1
        return Plan() if i == 0 else Plan(tail="random", seed=self.first_seed + i)

    def covered(self) -> str:
        return f"{self.runs} random walk{'s' if self.runs != 1 else ''}"


class PCT(Source):
    """Priorities drawn per run from its own generator (seeded by the run's index), the
    change points among the decisions the longest run so far made."""

    def __init__(self, depth: int = 3, first_seed: int = 0):
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= 64:
            raise ValueError(f"the pct depth must be from 1 to 64 (got {depth!r})")
        self.depth, self.first_seed, self.runs, self.longest = depth, first_seed, 0, 8
        self.name = f"pct (depth {depth})"

    def next(self) -> Plan:
        i, self.runs = self.runs, self.runs + 1
        rng = random.Random((self.first_seed * 1_000_003 + i) * 64 + self.depth)
        prios = list(range(self.depth, self.depth + PRIORITIES))
        rng.shuffle(prios)
        changes = sorted(rng.randrange(self.longest) for _ in range(self.depth - 1))
        return Plan(tail="pct", seed=self.first_seed + i, priorities=tuple(prios),
                    changes=tuple(changes))

    def seen(self, plan: Plan, result: RunResult) -> None:
        self.longest = max(self.longest, result.decisions_made)

    def covered(self) -> str:
        return f"{self.runs} PCT run{'s' if self.runs != 1 else ''} of depth {self.depth}"


class Bounded(Source):
    """Level k holds every schedule whose run has exactly k decisions that are not 0:
    each schedule of level k - 1 with one more non-default value at a decision after its
    last one (so each is made once). With `limit`, no level past it; with `por`, a run
    that reaches a state (fingerprint) with the same next value as an earlier run stops
    branching there: the earlier run's subtree covers it."""

    def __init__(self, limit: int | None = None, por: bool = False):
        self.limit, self.por = limit, por
        self.name = "exhaustive" if por else "bounded preemption"
        self.level, self.level_runs = 0, 0
        self.done_levels: list[int] = []        # runs of each finished level
        self.parents: list[tuple[tuple[int, ...], list[int], list[int] | None]] = []
        self.todo: Iterator[tuple[int, ...]] = iter([()])
        self.visited: set = set()
        self.complete = False                   # every schedule was run
        self.pruned = 0                         # branches POR left out

    def next(self) -> Plan | None:
        while True:
            values = next(self.todo, None)
            if values is not None:
                self.level_runs += 1
                return Plan(values)
            self.done_levels.append(self.level_runs)
            if not self.parents:
                self.complete = True
                return None
            if self.limit is not None and self.level >= self.limit:
                return None
            self.level, self.level_runs = self.level + 1, 0
            self.todo, self.parents = self._children(self.parents), []

    def _children(self, parents) -> Iterator[tuple[int, ...]]:
        for values, options, fps in parents:
            for j in range(len(values), len(options)):
                for v in range(1, options[j]):
                    if fps is not None and (fps[j], v) in self.visited:
                        self.pruned += 1
                        continue
                    yield values + (0,) * (j - len(values)) + (v,)

    def seen(self, plan: Plan, result: RunResult) -> None:
        log = result.decision_log
        options = [abs(n) for n in log[:BRANCH_MAX * LOG_WORDS:LOG_WORDS]]
        fps = None
        if self.por:
            fps = fingerprints(result)
            values = log[1::LOG_WORDS]
            start = max(len(plan.decisions) - 1, 0)
            for j in range(start, len(options)):
                key = (fps[j], values[j])
                if key in self.visited and j > start:
                    self.pruned += sum(n - 1 for n in options[j + 1:])
                    options = options[:j]       # explored from there already
                    break
                self.visited.add(key)
        self.parents.append((plan.decisions, options, fps))

    def covered(self) -> str:
        runs = sum(self.done_levels)
        if self.complete:
            what = "every schedule"
            if self.por:
                what += (f" up to commuting steps ({self.pruned} branch"
                         f"{'es' if self.pruned != 1 else ''} left out)")
            return f"{what}: {runs} run{'s' if runs != 1 else ''}"
        if not self.done_levels:
            return f"{self.level_runs} of the schedules with no preemption"
        k = len(self.done_levels) - 1
        text = (f"all schedules with at most {k} preemption{'s' if k != 1 else ''}: "
                f"{runs} run{'s' if runs != 1 else ''}")
        if self.level_runs and self.level > k:
            text += f", and {self.level_runs} with {self.level}"
        return text


class Portfolio(Source):
    """Bounded preemptions level by level, PCT of depth 1 (a task starved for as long as
    others can run), 2 and 3, and random walks, in turn; a source that is spent is
    skipped. When the bounded search has run every schedule, so has the portfolio."""
    name = "portfolio"
    TURNS = ("bounded", "pct1", "bounded", "pct2", "random", "pct3")

    def __init__(self, first_seed: int = 0):
        self.sources: dict[str, Source] = {
            "bounded": Bounded(), "pct1": PCT(1, first_seed), "pct2": PCT(2, first_seed),
            "pct3": PCT(3, first_seed), "random": RandomWalk(first_seed)}
        self.turns = cycle(self.TURNS)
        self.owner: dict[int, Source] = {}
        self.bounded_spent = False

    def next(self) -> Plan | None:
        bounded = self.sources["bounded"]
        if getattr(bounded, "complete", False):
            return None
        for _ in range(len(self.TURNS)):
            name = next(self.turns)
            if name == "bounded" and self.bounded_spent:
                continue
            plan = self.sources[name].next()
            if plan is None:
                self.bounded_spent = True
                continue
            self.owner[id(plan)] = self.sources[name]
            return plan
        return None

    def seen(self, plan: Plan, result: RunResult) -> None:
        source = self.owner.pop(id(plan))
        source.seen(plan, result)
        if source is not self.sources["pct1"]:      # every PCT learns the run's length
            for name in ("pct1", "pct2", "pct3"):
                if self.sources[name] is not source:
                    self.sources[name].seen(plan, result)
        else:
            for name in ("pct2", "pct3"):
                self.sources[name].seen(plan, result)

    def covered(self) -> str:
        bounded = self.sources["bounded"]
        if getattr(bounded, "complete", False):
            return bounded.covered()
        parts = [bounded.covered()] + [self.sources[n].covered()
                                       for n in ("pct1", "pct2", "pct3", "random")
                                       if getattr(self.sources[n], "runs", 0)]
        return "; ".join(parts)


def fingerprints(result: RunResult) -> list[int]:
    """The state before each decision of a traced run, as a hash of what every task has
    seen: the events that name it (as the task or the peer, times left out) in their
    order, the turns it was picked for at a decision and its choose values. Steps of
    different tasks on unrelated handles commute, and the two orders give the same
    fingerprint."""
    seen: dict[int, int] = {}
    out, trace, at = [], result.trace, 0
    for d in result.decisions:
        while at < d.event and at < len(trace):
            e = trace[at]
            step = (e.kind, e.task, e.handle, e.peer, e.a, e.b, e.words, e.n)
            for tid in {e.task, e.peer} - {0}:
                seen[tid] = hash((seen.get(tid, 0), step))
            at += 1
        out.append(hash(frozenset(seen.items())))
        # a turn counts, events or not: a task that only yields moves on all the same
        seen[d.task] = hash((seen.get(d.task, 0), d.kind, d.value if d.kind == CHOOSE else 0))
    return out


def source(strategy: str, first_seed: int = 0, depth: int = 3,
           bound: int | None = None, schedule: str | None = None) -> Source:
    """The source of plans of a strategy named in STRATEGIES (but seeds), or of the one
    `schedule` (a string) when it is given."""
    if schedule is not None:
        return Replay(schedule)
    if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)
                              or bound < 0):
        raise ValueError(f"the preemption bound must be an integer of at least 0 (got {bound!r})")
    if strategy == "random":
        return RandomWalk(first_seed)
    if strategy == "pct":
        return PCT(depth, first_seed)
    if strategy == "preempt":
        return Bounded(limit=bound)
    if strategy == "exhaustive":
        return Bounded(por=True)
    if strategy == "portfolio":
        return Portfolio(first_seed)
    raise ValueError(f"unknown strategy {strategy!r} (expected one of {', '.join(STRATEGIES)})")
