"""Diagnostics: what the compiler says about bad input, rendered rustc-style.

    error[E0103]: expected an expression after `=`
     --> examples/echo.mk:7:19
      |
    7 |         let m, x =
      |                   ^ expected an expression
      = help: ...

Codes: E01xx syntax and reading, E02xx names, E03xx arity and usage, E04xx constants and
limits (docs/language.md lists them all).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

WIDTH = 120             # a longer source line is shown as a window around the caret


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    file: str
    line: int
    col: int
    end_col: int
    help: str = ""
    label: str = ""

    def render(self, source: str | None = None) -> str:
        out = [f"error[{self.code}]: {self.message}"]
        if self.line <= 0:
            out.append(f" --> {self.file}")
        else:
            num = str(self.line)
            pad = " " * len(num)
            out.append(f"{pad}--> {self.file}:{self.line}:{self.col}")
            text = _line(source, self.line)
            if text is not None:
                shown, lead, width = _window(text, self.col, self.end_col)
                caret = (lead + "^" * width + (" " + self.label if self.label else "")).rstrip()
                out += [f"{pad} |", f"{num} | {shown}".rstrip(), f"{pad} | {caret}"]
            if self.help:
                out.append(f"{pad} = help: {self.help}")
        return "\n".join(out) + "\n"


def show(text: str) -> str:
    """Text as a diagnostic prints it: control and invisible format characters (a NUL, an
    escape sequence, a right-to-left override) escaped, so what is shown is what is there;
    tabs stay, for the caret to line up."""
    return "".join(_show(c) for c in text)


def _show(c: str) -> str:
    if c == "\t" or c.isprintable() and unicodedata.category(c) != "Cf":
        return c
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def _window(text: str, col: int, end_col: int) -> tuple[str, str, int]:
    """(the line as shown, the lead before the caret, the caret's width): escaped, and cut
    to a window of WIDTH around the caret when it is longer."""
    end = max(col + 1, end_col)
    before = show(text[:col - 1]) + " " * max(0, col - 1 - len(text))
    span = show(text[col - 1:end - 1])
    rest = span + show(text[end - 1:])
    width = max(1, len(span))
    line = before + rest
    if len(line) > WIDTH:
        start = max(0, len(before) - WIDTH // 3)
        if start:
            before = "..." + before[start + 3:]
        room = WIDTH - len(before)
        line = before + rest[:room] + ("..." if len(rest) > room else "")
        width = max(1, min(width, room))
    lead = "".join(c if c == "\t" else " " for c in before)
    return line, lead, width


def _line(source: str | None, line: int) -> str | None:
    if source is None:
        return None
    lines = source.split("\n")
    if line - 1 >= len(lines):
        return None
    return lines[line - 1].rstrip("\r")


class CompileError(Exception):
    """Bad input: one or more diagnostics, each with its source line."""

    def __init__(self, diagnostics: list[Diagnostic], sources: dict[str, str] | None = None):
        self.sources = dict(sources or {})
        # in the order of the source: by file (the main file first), then line and column
        files = {f: i for i, f in enumerate(self.sources)}
        self.diagnostics = sorted(diagnostics, key=lambda d: (files.get(d.file, len(files)),
                                                              d.line, d.col))
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.file}:{first.line}:{first.col}: {first.message}" if first
                         else "compile error")

    def render(self) -> str:
        """All diagnostics, each followed by a blank line, then a summary line."""
        return "".join(d.render(self.sources.get(d.file)) + "\n"
                       for d in self.diagnostics) + self.summary()

    def summary(self) -> str:
        n = len(self.diagnostics)
        return f"error: could not compile due to {n} error{'s' if n != 1 else ''}\n"


class SourceReadError(CompileError):
    """The main source file cannot be read or decoded (an I/O error more than bad source)."""

    def summary(self) -> str:
        return ""                           # nothing was compiled


def span_of(span) -> tuple[int, int, int]:
    """(line, col, end_col) of a node span or a token; end_col is clipped to the line."""
    if span is None:
        return 0, 0, 0
    if hasattr(span, "end_line"):
        line, col = span.line, span.column if hasattr(span, "column") else span.col
        end_line = span.end_line
        end_col = span.end_column if hasattr(span, "end_column") else span.end_col
    else:
        line, col, end_line, end_col = span
    if end_line != line or end_col is None or end_col <= col:
        end_col = col + 1
    return line, col, end_col
