"""The x86-64 backend: verified VM code lowered with llvmlite to machine code JIT-compiled in
process, beside a native kernel (scheduler, handle tables, channels, every syscall).

    from mikro.backends import x86
    result = x86.run(program, RunOptions(seed=3))       # same contract as mikro.vm.interp.run
    compiled = x86.compile(program)                     # owns the JIT engine
    compiled.run(RunOptions()); compiled.run(RunOptions(seed=1))
    print(x86.inspect_ir(program), x86.inspect_asm(program, target="aarch64"))
"""
from __future__ import annotations

from collections import OrderedDict

from ...vm.image import Program
from ...vm.options import RunOptions
from ...vm.result import RunResult
from . import engine
from .run import CompiledProgram

__all__ = ["CompiledProgram", "compile", "inspect_asm", "inspect_ir", "run"]


_recent: OrderedDict[str, CompiledProgram] = OrderedDict()
_RECENT = 8


def compile(program: Program, cache: bool = True) -> CompiledProgram:
    """Compile (or load from the object cache) a verified program. `cache=False` neither
    reads nor writes the on-disk cache."""
    return CompiledProgram(program, engine.object_code(program, cache=cache))


def run(program: Program, options: RunOptions | None = None, cache: bool = True) -> RunResult:
    """Run a verified program to its end on the native kernel. The last few programs stay
    compiled in the process, so running one program under many seeds compiles it once."""
    if not cache:
        return compile(program, cache=False).run(options)
    key = engine.cache_key(program)
    compiled = _recent.pop(key, None) or compile(program)
    _recent[key] = compiled
    while len(_recent) > _RECENT:
        _recent.popitem(last=False)
    return compiled.run(options)


def inspect_ir(program: Program) -> str:
    """The LLVM IR of the program and its kernel, before optimisation."""
    return engine.ir_text(program)


def inspect_asm(program: Program, target: str = "x86_64") -> str:
    """Optimised assembly for x86_64, aarch64 or riscv64."""
    return engine.asm_text(program, target)
