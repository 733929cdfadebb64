"""The integer rules of the VM on Python ints (docs/vm.md, "Integer rules"): one 64-bit
two's-complement word type. The reference interpreter computes with these, and the
compiler folds constants with them, so a folded expression and a computed one agree.
"""
from __future__ import annotations

MIN, MAX = -(1 << 63), (1 << 63) - 1
M64 = (1 << 64) - 1


def wrap(v: int) -> int:
    """v modulo 2**64, as a signed 64-bit integer."""
    return ((v - MIN) & M64) + MIN


def quotient(x: int, y: int) -> int:
    """x / y truncated toward zero, not wrapped (y != 0)."""
    q = abs(x) // abs(y)
    return q if (x < 0) == (y < 0) else -q


def div(x: int, y: int) -> int:
    """The word x / y (y != 0): MIN / -1 is MIN."""
    return wrap(quotient(x, y))


def rem(x: int, y: int) -> int:
    """The word x % y (y != 0), with the sign of x: MIN % -1 is 0."""
    return x - y * quotient(x, y)


def shl(x: int, n: int) -> int:
    return wrap(x << (n & 63))


def shr(x: int, n: int) -> int:
    """Arithmetic shift right."""
    return x >> (n & 63)


def ushr(x: int, n: int) -> int:
    """Logical shift right."""
    return wrap((x & M64) >> (n & 63))
