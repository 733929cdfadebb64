"""The operators of the language on Python ints, for constant folding, on the VM's own
integer rules (mikro.vm.words), so a folded expression gives what the VM computes."""
from __future__ import annotations

from ..vm import words
from .literals import to_signed

class DivisionByZero(ArithmeticError):
    pass


def _div(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero
    return words.div(a, b)


def _rem(a: int, b: int) -> int:
    if b == 0:
        raise DivisionByZero
    return words.rem(a, b)


BINARY = {
    "+": lambda a, b: to_signed(a + b),
    "-": lambda a, b: to_signed(a - b),
    "*": lambda a, b: to_signed(a * b),
    "/": _div,
    "%": _rem,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": words.shl,
    ">>": words.shr,
    ">>>": words.ushr,
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
