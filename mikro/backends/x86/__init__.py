"""The x86-64 backend: verified VM code lowered with llvmlite to machine code JIT-compiled in
process, beside a native kernel (scheduler, handle tables, channels, every syscall).

    from mikro.backends import x86
    result = x86.run(program, RunOptions(seed=3))       # same contract as mikro.vm.interp.run
    compiled = x86.compile(program)                     # owns the JIT engine
    compiled.run(RunOptions()); compiled.run(RunOptions(seed=1))
    print(x86.inspect_ir(program), x86.inspect_asm(program, target="aarch64"))

How a run goes:
- `layout.py` defines the kernel structures once (LLVM types and ctypes views);
  `kernel_ir.py` emits the kernel, one IR function per syscall; `lower.py` emits `mk_run`,
  the scheduler loop and all VM code in one function; `vmloop.py` emits the native
  interpreter, an `mk_run` that reads the program from native memory; `engine.py` builds
  one of three tiers (interpreter, the same for every program; baseline: the program's
  IR with registers in SSA and fast instruction selection; optimised: O2), emits object
  code, caches it, and loads it into MCJIT; `run.py` allocates, boots the tasks,
  calls `mk_run` per slice of fuel, drains the output and builds the RunResult.
- VM registers are SSA values of the running task. A task is saved only when it blocks,
  yields, is preempted or the run pauses, and then only the registers live where it will
  resume (liveness over the whole program from the opcode table), plus fp for reports
  where the task may have changed it.
- Task structures and task memories live in two address-space reservations (lazily
  mapped, MAP_NORESERVE), one slot per task alive at once; a dead task's slot is reused and
  its memory returned to the system. Ended tasks leave a record (exit code or fault) in a
  log Python reads at the end.
- Native code records a fault as a code and its operands; Python formats the reason
  strings of docs/vm.md, so both backends print the same report.
- A traced run uses a second build of the program whose kernel appends each IPC event to
  a buffer in native memory (mikro.vm.trace); Python reads it whenever native code returns.
  The untraced build, the one `mikro run` uses, has no trace code at all.
- A host task (a Python handler serving a channel) is a task slot whose resume key is past
  the program's code: when the scheduler picks it, `mk_run` returns RUN_HOST and Python
  answers its queued messages through `mk_sys` (the same syscall functions), then calls
  back into native code. Only host tasks bring control back to Python.

Limits of this backend the interpreter does not have: task memories are reserved up front,
at most 2^45 bytes in all, so with large `mem_words` fewer tasks can be alive at once
(spawn then fails with E_NOSPACE earlier; RunOptions keeps `mem_words` to 2^32, which
always fits once); a line longer than 64 MiB keeps its first 64 MiB.
"""
from __future__ import annotations

from collections import OrderedDict

from ...vm.image import Program
from ...vm.verify import verify
from ...vm.options import RunOptions
from ...vm.result import RunResult
from . import engine, inspect
from .run import CompiledProgram, Machine

__all__ = ["CompiledProgram", "Machine", "compile", "inspect_asm", "inspect_ir", "machine", "run"]


_recent: OrderedDict[str, CompiledProgram] = OrderedDict()
_RECENT = 8


def compile(program: Program, cache: bool = True, traced: bool = False,
            tier: str = "auto") -> CompiledProgram:
    """Verify and compile (or load from the object cache) a program; raises VerifyError as
    the interpreter does. `cache=False` neither reads nor writes the on-disk cache;
    `traced` builds the variant that records IPC events (RunOptions.trace). `tier`: one of
    engine.TIERS, or "auto": the optimised code when the cache has it, else the native
    interpreter, which a long run trades for optimised code on the way
    (run.tier_up_after)."""
    verify(program)
    obj = engine.cached(program, traced) if tier == "auto" and cache else None
    if tier == "auto":          # the entry just read is the one loaded, not read again
        tier = "optimised" if obj is not None else "interpreter"
    if obj is None:
        obj = engine.interpreter_code(traced) if tier == "interpreter" else \
            engine.object_code(program, cache=cache, traced=traced, tier=tier)
    return CompiledProgram(program, obj, traced=traced, tier=tier, cache=cache)


def _compiled(program: Program, cache: bool, traced: bool) -> CompiledProgram:
    """The program compiled; the last few stay compiled in the process, so running one
    program under many seeds compiles it once."""
    if not cache:
        return compile(program, cache=False, traced=traced)
    verify(program)
    key = engine.cache_key(program, traced)
    compiled = _recent.pop(key, None) or compile(program, traced=traced)
    _recent[key] = compiled
    while len(_recent) > _RECENT:
        _recent.popitem(last=False)
    return compiled


def run(program: Program, options: RunOptions | None = None, cache: bool = True) -> RunResult:
    """Run a verified program to its end on the native kernel."""
    options = options or RunOptions()
    return _compiled(program, cache, options.trace).run(options)


def machine(program: Program, options: RunOptions | None = None, boot: bool = True,
            cache: bool = True) -> Machine:
    """A run of the program that Python drives (spawn, host, advance, result)."""
    options = options or RunOptions()
    return Machine(_compiled(program, cache, options.trace), options, boot=boot)


def inspect_ir(program: Program, program_only: bool = False) -> str:
    """The LLVM IR of the program and its kernel, before optimisation (program_only: the
    blocks of the program's instructions, under their source lines)."""
    text = engine.ir_text(program)
    return inspect.program_ir(text, program) if program_only else text


def inspect_asm(program: Program, target: str = "x86_64", program_only: bool = False) -> str:
    """Optimised assembly for x86_64, aarch64 or riscv64 (program_only: mk_run alone, the
    scheduler and the program's code, each run of instructions under its source line)."""
    if not program_only:
        return engine.asm_text(program, target)
    return inspect.program_asm(engine.asm_text(program, target, debug=True), program)
