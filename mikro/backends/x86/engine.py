"""llvmlite set-up, the IR module of a program, O2 optimisation, the JIT and the object cache.

Object code is cached (mikro.cache: a private directory, entries checked against their
hash before they are loaded), keyed by the program image, the backend's own source, the
LLVM version and the host CPU, so a program already seen loads in milliseconds instead of
being compiled again.
"""
from __future__ import annotations

import gc
import hashlib
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import llvmlite
from llvmlite import binding as llvm
from llvmlite import ir
from llvmlite.binding.newpassmanagers import NewPassManager

from ... import cache as objects
from ...vm import abi, isa
from . import layout as L
from .inspect import DebugLines
from .kernel_ir import KernelIR
from .lower import Lowering, reply_reads, resume_keys
from .vmloop import Loop

_ready = False


def init() -> None:
    global _ready
    if not _ready:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        # instruction scheduling dominates O2 compile time on big functions and does not
        # pay off on the IPC path
        llvm.set_option("", "-enable-misched=false")
        llvm.set_option("", "-post-RA-scheduler=false")
        _ready = True


def name_ids(program) -> list[int]:
    """A registry index per string: equal texts share one name."""
    ids: dict[str, int] = {}
    return [ids.setdefault(s, len(ids)) for s in program.strings]


def check(program) -> None:
    """What the lowering relies on (the verifier checks all of it and more): raise
    ValueError rather than build IR that LLVM would abort on."""
    n = len(program.code)
    for pc, ins in enumerate(program.code):
        if not 0 <= ins.op < len(isa.OPCODES):
            raise ValueError(f"pc {pc}: unknown opcode {ins.op}")
        op = ins.info
        if any(getattr(op, f) and getattr(ins, f) >= isa.NREGS for f in "abc"):
            raise ValueError(f"pc {pc}: register out of range")
        if op.imm in ("pc", "fn") and not 0 <= ins.imm < n:
            raise ValueError(f"pc {pc}: target {ins.imm} outside the code")
        if op.imm == "k" and not 0 <= ins.imm < len(program.consts):
            raise ValueError(f"pc {pc}: constant {ins.imm} out of range")
        if op.imm == "str" and not 0 <= ins.imm < len(program.strings):
            raise ValueError(f"pc {pc}: string {ins.imm} out of range")
        if op.name == "sys" and (ins.imm & abi.SYS_MASK) >= len(abi.SYSCALLS):
            raise ValueError(f"pc {pc}: unknown syscall {ins.imm & abi.SYS_MASK}")
    for t in program.tasks:
        if not 0 <= t.entry < n:
            raise ValueError(f"task {t.name}: entry {t.entry} outside the code")
    for b in program.boot:
        if not 0 <= b.task < len(program.tasks):
            raise ValueError(f"boot entry names task type {b.task}, which does not exist")


@contextmanager
def _no_gc():
    """Python's GC makes building and printing large IR super-linear: all of it is young
    objects that live until the text is made."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_module(program, triple: str | None = None, traced: bool = False,
                 debug: bool = False) -> ir.Module:
    """The IR of the program and its kernel (`debug`: with a line table, for a listing);
    program None: the native interpreter's (vmloop.py), the same for every program."""
    if program is not None:
        check(program)
    with _no_gc():
        ctx = ir.Context()
        mod = ir.Module(name="mikro", context=ctx)
        if triple:
            mod.triple = triple
        lay = L.Layout(ctx)
        if program is None:
            kir = KernelIR(mod, lay, None, [], [], traced)
            kir.build()
            Loop(mod, lay, kir).build()
            return mod
        kir = KernelIR(mod, lay, program, name_ids(program), resume_keys(program), traced,
                       reply_reads(program))
        kir.build()
        Lowering(program, mod, lay, kir, DebugLines(mod, program) if debug else None).build()
        return mod


def module_text(program, triple: str | None = None, traced: bool = False,
                debug: bool = False) -> str:
    """build_module's IR as LLVM reads it."""
    with _no_gc():
        return str(build_module(program, triple, traced, debug))


# The tiers of machine code, which agree in every result and share every table and resume
# index (a run moves from one to the next between two slices): "interpreter", the native
# interpreter (vmloop.py), the same machine code for every program, compiled once per
# machine, so a program has nothing of its own to compile; "baseline", the program's own
# code with its VM registers promoted to SSA and instructions selected fast; "optimised",
# the same IR through LLVM's O2.
TIERS = ("interpreter", "baseline", "optimised")
_BASELINE_PASSES = ("always_inliner", "sroa", "simplify_cfg")


def _target_machine(triple: str | None = None, cpu: str | None = None, features: str = "",
                    tier: str = "optimised"):
    init()
    if triple is None:
        target = llvm.Target.from_default_triple()
        cpu = llvm.get_host_cpu_name() if cpu is None else cpu
        features = llvm.get_host_cpu_features().flatten()
    else:
        target = llvm.Target.from_triple(triple)
        cpu = cpu or ""
    # the JIT places sections where it likes: with the small code model a large object's
    # references between them overflowed 32 bits and LLVM aborted the process (a program
    # of 6,000 VM instructions at the baseline tier); the large model costs nothing here
    return target.create_target_machine(cpu=cpu, features=features,
                                        opt=2 if tier == "optimised" else 0, reloc="pic",
                                        codemodel="large" if triple is None else "small")


def optimise(ir_text: str, tm, triple: str | None = None, tier: str = "optimised"):
    mod = llvm.parse_assembly(ir_text)
    if triple:
        mod.triple = triple
        mod.data_layout = str(tm.target_data)
    mod.verify()
    if tier == "optimised":
        pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=2))
        mpm = pb.getModulePassManager()
    else:
        pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=0))
        mpm = llvm.create_new_module_pass_manager()
        for name in _BASELINE_PASSES:
            getattr(mpm, f"add_{name}_pass")()
    try:
        mpm.run(mod, pb)
    finally:
        _free_pass_manager(mpm)
    mod.verify()
    return mod


def _free_pass_manager(mpm) -> None:
    """Free a ModulePassManager now: llvmlite's own __del__ never does (ObjectRef's no-op
    _dispose comes before NewPassManager's in its MRO), which kept about 100 KB of every
    compile for the rest of the process."""
    NewPassManager._dispose(mpm)
    mpm.detach()


_salt: bytes | None = None


def key_sources() -> list[Path]:
    """The source files that decide the machine code: this backend's and the VM's, whose
    tables (the quantum, error codes, trace kinds, layouts) are built into it."""
    here = Path(__file__).parent
    return sorted(here.glob("*.py")) + sorted((here.parent.parent / "vm").glob("*.py"))


def _backend_salt() -> bytes:
    """What decides the machine code besides the program: key_sources, LLVM and the CPU."""
    global _salt
    if _salt is None:
        init()
        h = hashlib.sha256()
        for f in key_sources():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        h.update(llvmlite.__version__.encode())
        h.update(".".join(map(str, llvm.llvm_version_info)).encode())
        h.update(llvm.get_host_cpu_name().encode())
        h.update(llvm.get_host_cpu_features().flatten().encode())
        _salt = h.digest()
    return _salt


def cache_key(program, traced: bool = False, tier: str = "optimised") -> str:
    h = hashlib.sha256(_backend_salt())
    if tier != "interpreter":           # the interpreter's code is the same for every program
        h.update(program.to_bytes())
    h.update(b"traced" if traced else b"")
    h.update(tier.encode())
    return h.hexdigest()[:32]


def cached(program, traced: bool = False, tier: str = "optimised") -> bytes | None:
    """The object cache's intact entry of this build, or None."""
    return objects.load_object(cache_key(program, traced, tier))


def object_code(program, cache: bool = True, traced: bool = False,
                tier: str = "optimised") -> bytes:
    """Machine code of the program for this host, of one tier (TIERS; a build that records
    the trace when `traced`), from the cache when an intact entry is there (mikro.cache
    checks it)."""
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r} (expected {', '.join(TIERS)})")
    init()
    key = cache_key(program, traced, tier) if cache else None
    if key is not None:
        obj = objects.load_object(key)
        if obj is not None:
            return obj
    # the interpreter is compiled once per machine: it gets the optimiser
    opt = "optimised" if tier == "interpreter" else tier
    tm = _target_machine(tier=opt)
    text = module_text(None if tier == "interpreter" else program, llvm.get_process_triple(),
                       traced)
    mod = optimise(text, tm, tier=opt)
    obj = tm.emit_object(mod)
    if key is not None:
        objects.store_object(key, obj)
    return obj


_interpreters: dict[bool, bytes] = {}


def interpreter_code(traced: bool = False) -> bytes:
    """The native interpreter's machine code: the same for every program, so made once per
    machine (the object cache keeps it even for runs that bypass the cache of programs:
    it is part of mikro, like a compiled library, not of the program)."""
    if traced not in _interpreters:
        _interpreters[traced] = object_code(None, cache=True, traced=traced, tier="interpreter")
    return _interpreters[traced]


class Engine:
    """Owns the JIT-compiled code: dropping it frees the machine code."""

    def __init__(self, obj: bytes):
        init()
        tm = _target_machine()
        empty = llvm.parse_assembly("")
        empty.triple = llvm.get_process_triple()
        self._engine = llvm.create_mcjit_compiler(empty, tm)
        self._engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        self._engine.finalize_object()
        self.entry_points: tuple | None = None    # ctypes functions, made by run.py once

    def global_address(self, name: str) -> int:
        addr = self._engine.get_global_value_address(name)
        if not addr:
            raise RuntimeError(f"symbol {name} missing from the compiled program")
        return addr

    def address(self, name: str) -> int:
        addr = self._engine.get_function_address(name)
        if not addr:
            raise RuntimeError(f"symbol {name} missing from the compiled program")
        return addr


def ir_text(program) -> str:
    return module_text(program)


def asm_text(program, target: str = "x86_64", debug: bool = False) -> str:
    """Assembly for x86_64 (in process), or another target in a child process, since LLVM
    aborts the process on a backend failure; `debug`: with the source lines as `.loc`."""
    triples = {"x86_64": None, "aarch64": "aarch64-unknown-linux-gnu",
               "riscv64": "riscv64-unknown-linux-gnu"}
    if target not in triples:
        raise ValueError(f"unknown target {target!r} (expected {', '.join(triples)})")
    text = module_text(program, debug=debug)
    triple = triples[target]
    if triple is None:
        tm = _target_machine()
        return tm.emit_assembly(optimise(text, tm, llvm.get_process_triple()))
    proc = subprocess.run([sys.executable, "-m", "mikro.backends.x86.engine", triple],
                          input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"LLVM failed for {target} (exit {proc.returncode}): "
                           f"{proc.stderr.strip()[-2000:]}")
    return proc.stdout


def _child(triple: str) -> None:
    init()
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    tm = _target_machine(triple, features="")
    sys.stdout.write(tm.emit_assembly(optimise(sys.stdin.read(), tm, triple)))


if __name__ == "__main__":
    _child(sys.argv[1])
