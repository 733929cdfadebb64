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
from pathlib import Path

import llvmlite
from llvmlite import binding as llvm
from llvmlite import ir
from llvmlite.binding.newpassmanagers import NewPassManager

from ... import cache as objects
from ...vm import abi, isa
from . import layout as L
from .kernel_ir import KernelIR
from .lower import Lowering, reply_reads, resume_keys

_ready = False
_SOURCES = ("layout.py", "irb.py", "kernel_ir.py", "lower.py", "engine.py")


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


def build_module(program, triple: str | None = None, traced: bool = False) -> ir.Module:
    check(program)
    enabled = gc.isenabled()
    gc.disable()        # the GC makes building large IR super-linear
    try:
        ctx = ir.Context()
        mod = ir.Module(name="mikro", context=ctx)
        if triple:
            mod.triple = triple
        lay = L.Layout(ctx)
        kir = KernelIR(mod, lay, program, name_ids(program), resume_keys(program), traced,
                       reply_reads(program))
        kir.build()
        Lowering(program, mod, lay, kir).build()
        return mod
    finally:
        if enabled:
            gc.enable()


def _target_machine(triple: str | None = None, cpu: str | None = None, features: str = ""):
    init()
    if triple is None:
        target = llvm.Target.from_default_triple()
        cpu = llvm.get_host_cpu_name() if cpu is None else cpu
        features = llvm.get_host_cpu_features().flatten()
    else:
        target = llvm.Target.from_triple(triple)
        cpu = cpu or ""
    return target.create_target_machine(cpu=cpu, features=features, opt=2, reloc="pic",
                                        codemodel="small")


def optimise(ir_text: str, tm, triple: str | None = None):
    mod = llvm.parse_assembly(ir_text)
    if triple:
        mod.triple = triple
        mod.data_layout = str(tm.target_data)
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=2)
    pb = llvm.create_pass_builder(tm, pto)
    mpm = pb.getModulePassManager()
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


def _backend_salt() -> bytes:
    """What else decides the machine code: this backend's source, LLVM and the host CPU."""
    global _salt
    if _salt is None:
        init()
        h = hashlib.sha256()
        here = Path(__file__).parent
        for name in _SOURCES:
            h.update((here / name).read_bytes())
        h.update(llvmlite.__version__.encode())
        h.update(".".join(map(str, llvm.llvm_version_info)).encode())
        h.update(llvm.get_host_cpu_name().encode())
        h.update(llvm.get_host_cpu_features().flatten().encode())
        _salt = h.digest()
    return _salt


def cache_key(program, traced: bool = False) -> str:
    h = hashlib.sha256(_backend_salt())
    h.update(program.to_bytes())
    h.update(b"traced" if traced else b"")
    return h.hexdigest()[:32]


def object_code(program, cache: bool = True, traced: bool = False) -> bytes:
    """Machine code of the program for this host (a build that records the trace when
    `traced`), from the cache when an intact entry is there (mikro.cache checks it)."""
    init()
    key = cache_key(program, traced) if cache else None
    if key is not None:
        obj = objects.load_object(key)
        if obj is not None:
            return obj
    tm = _target_machine()
    mod = optimise(str(build_module(program, llvm.get_process_triple(), traced)), tm)
    obj = tm.emit_object(mod)
    if key is not None:
        objects.store_object(key, obj)
    return obj


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
    return str(build_module(program))


def asm_text(program, target: str = "x86_64") -> str:
    """Assembly for x86_64 (in process), or another target in a child process, since LLVM
    aborts the process on a backend failure."""
    triples = {"x86_64": None, "aarch64": "aarch64-unknown-linux-gnu",
               "riscv64": "riscv64-unknown-linux-gnu"}
    if target not in triples:
        raise ValueError(f"unknown target {target!r} (expected {', '.join(triples)})")
    if triples[target] is None:
        tm = _target_machine()
        return tm.emit_assembly(optimise(ir_text(program), tm, llvm.get_process_triple()))
    proc = subprocess.run([sys.executable, "-m", "mikro.backends.x86.engine", triples[target]],
                          input=ir_text(program), capture_output=True, text=True)
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
