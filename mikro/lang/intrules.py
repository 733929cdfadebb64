"""The integer rules of the language on Python ints, for constant folding: the results must
be those of the VM (docs/vm.md, "Integer rules")."""
from __future__ import annotations

from .literals import to_signed

MIN, MAX = -(1 << 63), (1 << 63) - 1


class DivisionByZero(ArithmeticError):
    pass


def _div(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero
    if a == MIN and b == -1:
        return MIN
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _rem(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero
    if a == MIN and b == -1:
        return 0
    return a - b * _div(a, b)


BINARY = {
    "+": lambda a, b: to_signed(a + b),
    "-": lambda a, b: to_signed(a - b),
    "*": lambda a, b: to_signed(a * b),
    "/": lambda a, b: to_signed(_div(a, b)),
    "%": _rem,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: to_signed(a << (b & 63)),
    ">>": lambda a, b: a >> (b & 63),
    ">>>": lambda a, b: to_signed((a & (1 << 64) - 1) >> (b & 63)),
    "==": lambda a, b: int(a == b),
    "!=": lambda a, b: int(a != b),
    "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b),
    ">": lambda a, b: int(a > b),
    ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(a != 0 and b != 0),
    "||": lambda a, b: int(a != 0 or b != 0),
}

UNARY = {
    "-": lambda a: to_signed(-a),
    "~": lambda a: ~a,
    "!": lambda a: int(a == 0),
}


def binary(op: str, a: int, b: int) -> int:
    """a op b under the 64-bit rules; raises DivisionByZero."""
    return BINARY[op](a, b)


def unary(op: str, a: int) -> int:
    return UNARY[op](a)
