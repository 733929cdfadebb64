"""Integer, character and string literals: their text -> value, with precise errors."""
from __future__ import annotations

import re

U64 = 1 << 64


class LiteralError(Exception):
    def __init__(self, code: str, message: str, help: str = "", label: str = ""):
        super().__init__(message)
        self.code, self.message, self.help, self.label = code, message, help, label


def to_signed(v: int) -> int:
    """The 64-bit two's-complement reading of v (any Python int)."""
    v &= U64 - 1
    return v - U64 if v >= 1 << 63 else v


_DIGITS = {"x": (16, "0-9a-fA-F", "hexadecimal"), "b": (2, "01", "binary")}


def parse_int(text: str) -> int:
    """Decimal, 0x.., 0b.., `_` between digits; must fit in 64 bits (read as two's complement)."""
    base, body, kind = 10, text, "decimal"
    if len(text) > 1 and text[0] == "0" and text[1] in "xXbB":
        base, allowed, kind = _DIGITS[text[1].lower()]
        body = text[2:]
        if not body:
            raise LiteralError("E0107", f"{kind} literal has no digits", "write for example `0x1f`",
                               "no digits")
        if not re.fullmatch(f"[{allowed}_]*", body):
            bad = next(c for c in body if c != "_" and not re.fullmatch(f"[{allowed}]", c))
            raise LiteralError("E0107", f"invalid digit `{bad}` in {kind} literal", "",
                               "invalid digit")
    if body.startswith("_") or body.endswith("_") or "__" in body:
        raise LiteralError("E0107", "`_` must stand between two digits", "write for example `1_000`",
                           "misplaced `_`")
    digits = body.replace("_", "").lstrip("0") or "0"
    # a decimal of more digits than 2^64 is past it: not converted (Python refuses to
    # convert one of thousands of digits)
    value = U64 if base == 10 and len(digits) > len(str(U64)) else int(digits, base)
    if value >= U64:
        raise LiteralError("E0401", "integer literal out of range",
                           "a literal must fit in 64 bits (at most 0xffff_ffff_ffff_ffff)",
                           "does not fit in 64 bits")
    return to_signed(value)


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "r": "\r", "0": "\0"}


def _unescape(body: str) -> str:
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt == "x":
            digits = body[i + 2:i + 4]
            if not re.fullmatch("[0-9a-fA-F]{2}", digits):
                raise LiteralError("E0108", "`\\x` needs two hexadecimal digits",
                                   "write for example `\\x41`", "bad escape")
            out.append(chr(int(digits, 16)))
            i += 4
            continue
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        raise LiteralError("E0108", f"unknown escape `\\{nxt}`",
                           "the escapes are \\n \\t \\r \\0 \\\\ \\\" \\' and \\xNN", "unknown escape")
    return "".join(out)


def parse_string(text: str) -> str:
    return _unescape(text[1:-1])


def parse_char(text: str) -> int:
    s = _unescape(text[1:-1])
    if len(s) != 1:
        raise LiteralError("E0108", "a character literal holds exactly one character",
                           "use a string for text, for example in `print`", "not one character")
    return ord(s)
