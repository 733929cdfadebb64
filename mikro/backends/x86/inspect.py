"""The program's own part of the x86 backend's output, with its source lines: what
`mikro ir --program` and `mikro asm --program` show.

The IR of the VM instruction at pc lives in the blocks `pc<N>...` (and `sys<N>.resume`
after a blocking syscall) of `mk_run`; each run of blocks from one source line follows that
line as a comment, as `mikro dis` shows VM code. Optimised assembly keeps no block names,
so its program part is the whole `mk_run` function: the scheduler and the program's code,
without the kernel's other functions.
"""
from __future__ import annotations

import re

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


def program_asm(text: str) -> str:
    """The assembly of mk_run alone."""
    lines = _function(text, re.compile(r"^mk_run:"), "\t.size\tmk_run")
    return "\n".join(lines) + "\n"
