"""The program's own part of the x86 backend's output, with its source lines: what
`mikro ir --program` and `mikro asm --program` show.

The IR of the VM instruction at pc lives in the blocks `pc<N>...` (and `sys<N>.resume`
after a blocking syscall) of `mk_run`; each run of blocks from one source line follows that
line as a comment, as `mikro dis` shows VM code. Optimised assembly keeps no block names:
for it the IR is built with a line table (DebugLines: each instruction tagged with the
source line of its VM instruction), LLVM carries the lines through optimisation as `.loc`
directives, and the listing of `mk_run` shows each run of machine instructions under its
source line.
"""
from __future__ import annotations

import os
import re

from llvmlite import ir

from ...vm.asm import _Sources
from ...vm.image import Program

_BLOCK = re.compile(r'^"?(?:pc|sys)(\d+)[\w.]*"?:')
_LABEL = re.compile(r'^"?[\w.$]+"?:')


def _function(text: str, start: re.Pattern, end: str) -> list[str]:
    lines, out, inside = text.splitlines(), [], False
    for line in lines:
        if not inside and start.search(line):
            inside = True
        if inside:
            out.append(line)
            if line.startswith(end):
                break
    return out


def program_ir(text: str, program: Program) -> str:
    """The blocks of mk_run that hold the program's instructions, in pc order (a pc's
    blocks in the order LLVM has them), under their source lines."""
    blocks: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in _function(text, re.compile(r'^define .*@"?mk_run"?\('), "}"):
        m = _BLOCK.match(line)
        if m:
            current = blocks.setdefault(int(m.group(1)), [])
        elif _LABEL.match(line) or line.startswith("}"):
            current = None
        if current is not None:
            current.append(line)
    src = _Sources(program.files)
    out = [f"; the program's code in mk_run: {len(program.code)} VM instructions"]
    last = None
    for pc in sorted(blocks):
        pos = program.lines[pc] if pc < len(program.lines) else None
        if pos is not None and (pos.file, pos.line) != last:
            last = (pos.file, pos.line)
            source = src.line(pos.file, pos.line)
            out.append(f"; {program.files[pos.file]}:{pos.line}"
                       + (f" | {source.strip()}" if source is not None else ""))
        out += blocks[pc]
    return "\n".join(out) + "\n"


class DebugLines:
    """A line table for the IR of mk_run: at(pc) is the debug location of the source line
    of VM instruction pc (line 0, no line, for the scheduler's own code: pc -1)."""

    def __init__(self, module: ir.Module, program: Program):
        m, I32 = module, ir.IntType(32)
        self.m, self.p = m, program
        self.files = [m.add_debug_info("DIFile", {
            "filename": os.path.basename(f), "directory": os.path.dirname(os.path.abspath(f))})
            for f in program.files or ["<program>"]]
        cu = m.add_debug_info("DICompileUnit", {
            "language": ir.DIToken("DW_LANG_C"), "file": self.files[0], "producer": "mikro",
            "runtimeVersion": 0, "isOptimized": True,
            "emissionKind": ir.DIToken("LineTablesOnly")}, is_distinct=True)
        m.add_named_metadata("llvm.dbg.cu", cu)
        m.add_named_metadata("llvm.module.flags", [ir.Constant(I32, 2), "Dwarf Version",
                                                   ir.Constant(I32, 4)])
        m.add_named_metadata("llvm.module.flags", [ir.Constant(I32, 2), "Debug Info Version",
                                                   ir.Constant(I32, 3)])
        kind = m.add_debug_info("DISubroutineType", {"types": m.add_metadata([])})
        self.subprogram = m.add_debug_info("DISubprogram", {
            "name": "mk_run", "file": self.files[0], "scope": self.files[0], "line": 0,
            "type": kind, "unit": cu, "scopeLine": 0,
            "spFlags": ir.DIToken("DISPFlagDefinition | DISPFlagOptimized")}, is_distinct=True)
        self.scopes = [self.subprogram] + [m.add_debug_info("DILexicalBlockFile", {
            "scope": self.subprogram, "file": f, "discriminator": 0}) for f in self.files[1:]]
        self.cache: dict[tuple[int, int, int], object] = {}

    def at(self, pc: int):
        pos = self.p.lines[pc] if 0 <= pc < len(self.p.lines) else None
        key = (pos.file, pos.line, pos.col) if pos is not None else (0, 0, 0)
        if key not in self.cache:
            self.cache[key] = self.m.add_debug_info("DILocation", {
                "line": key[1], "column": key[2], "scope": self.scopes[key[0]]})
        return self.cache[key]


_FILE = re.compile(r'^\s*\.file\s+(\d+)\s+"([^"]*)"(?:\s+"([^"]*)")?')
_LOC = re.compile(r"^\s*\.loc\s+(\d+)\s+(\d+)")


def program_asm(text: str, program: Program | None = None) -> str:
    """The assembly of mk_run alone; with the program (and a build with DebugLines), each
    run of instructions under its source line, the `.loc` directives left out."""
    lines = _function(text, re.compile(r"^mk_run:"), "\t.size\tmk_run")
    if program is None:
        return "\n".join(lines) + "\n"
    names: dict[int, str] = {}
    for line in text.splitlines():
        m = _FILE.match(line)
        if m:
            names[int(m.group(1))] = os.path.join(m.group(2), m.group(3)) if m.group(3) \
                else m.group(2)
    files = {os.path.abspath(f): i for i, f in enumerate(program.files)}
    src = _Sources(program.files)
    out, last = [], None
    for line in lines:
        m = _LOC.match(line)
        if m is None:
            out.append(line)
            continue
        where, n = names.get(int(m.group(1)), ""), int(m.group(2))
        f = files.get(os.path.abspath(where))
        if n == 0 or f is None or (f, n) == last:
            continue
        last = (f, n)
        source = src.line(f, n)
        out.append(f"# {program.files[f]}:{n}" + (f" | {source.strip()}" if source else ""))
    return "\n".join(out) + "\n"
