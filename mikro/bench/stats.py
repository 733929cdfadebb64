"""Summary statistics of a benchmark's batches: the median and the spread around it."""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Stat:
    """One figure measured over several batches (each batch gives one value)."""
    median: float
    lo: float          # smallest batch
    hi: float          # largest batch
    q1: float          # lower quartile
    q3: float          # upper quartile
    batches: int

    @classmethod
    def of(cls, samples: list[float]) -> "Stat":
        if not samples:
            raise ValueError("no samples")
        xs = sorted(float(x) for x in samples)
        if len(xs) == 1:
            q1 = q3 = xs[0]
        else:
            # inclusive quartiles: stay inside [min, max] even for 2 or 3 batches
            q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
        return cls(statistics.median(xs), xs[0], xs[-1], q1, q3, len(xs))

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def spread(self) -> float:
        """Relative IQR: how noisy the figure is (0 when all batches agree)."""
        return self.iqr / self.median if self.median else 0.0

    def inverse(self, k: float = 1.0) -> "Stat":
        """k / x of every batch (a time into a rate): the order of the bounds flips."""
        inv = lambda x: k / x if x else float("inf")
        return Stat(inv(self.median), inv(self.hi), inv(self.lo), inv(self.q3), inv(self.q1), self.batches)

    def to_dict(self) -> dict:
        """Plain data; a value that is not finite becomes None (JSON has no infinity)."""
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in asdict(self).items()}


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")
