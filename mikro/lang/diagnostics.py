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

from dataclasses import dataclass


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
                width = max(1, self.end_col - self.col)
                # Keep tabs of the source so the caret lines up under it.
                lead = "".join(c if c == "\t" else " " for c in text[:self.col - 1])
                lead += " " * max(0, self.col - 1 - len(text))
                caret = (lead + "^" * width + (" " + self.label if self.label else "")).rstrip()
                out += [f"{pad} |", f"{num} | {text}".rstrip(), f"{pad} | {caret}"]
            if self.help:
                out.append(f"{pad} = help: {self.help}")
        return "\n".join(out) + "\n"


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
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.file}:{first.line}:{first.col}: {first.message}" if first
                         else "compile error")

    def render(self) -> str:
        """All diagnostics, each followed by a blank line, then a summary line."""
        parts = [d.render(self.sources.get(d.file)) + "\n" for d in self.diagnostics]
        n = len(self.diagnostics)
        parts.append(f"error: could not compile due to {n} error{'s' if n != 1 else ''}\n")
        return "".join(parts)


class SourceReadError(CompileError):
    """The main source file cannot be read or decoded (an I/O error more than bad source)."""


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
