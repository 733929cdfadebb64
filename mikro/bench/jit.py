"""Native code for the baselines, JIT-compiled with llvmlite from LLVM IR text.

libc functions are bound to their addresses in this process before code generation
(`llvm.add_symbol`): MCJIT does not report an unresolved symbol, the call would crash.
"""
from __future__ import annotations

import ctypes

_libc = ctypes.CDLL(None, use_errno=True)
_ready = False


class JitError(RuntimeError):
    """The IR could not be compiled, or a libc function it needs is missing."""


def _init():
    global _ready
    if not _ready:
        import llvmlite.binding as llvm
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _ready = True


def libc_address(name: str) -> int:
    try:
        address = ctypes.cast(getattr(_libc, name), ctypes.c_void_p).value
    except AttributeError:
        address = None
    if address is None:
        raise JitError(f"libc has no {name}")
    return address


class Jit:
    """A module compiled at O2; keeps its engine alive (dropping it frees the code)."""

    def __init__(self, ir_text: str, libc: tuple[str, ...] = ()):
        _init()
        import llvmlite.binding as llvm
        for name in libc:
            llvm.add_symbol(name, libc_address(name))
        try:
            mod = llvm.parse_assembly(ir_text)
            mod.verify()       # LLVM has assertions on: bad IR must never reach codegen
        except RuntimeError as e:
            raise JitError(f"invalid IR: {e}") from e
        target = llvm.Target.from_default_triple()
        tm = target.create_target_machine(opt=2, codemodel="jitdefault")
        pto = llvm.create_pipeline_tuning_options(speed_level=2)
        pb = llvm.create_pass_builder(tm, pto)
        pb.getModulePassManager().run(mod, pb)
        self._tm = tm
        self._engine = llvm.create_mcjit_compiler(mod, tm)
        self._engine.finalize_object()

    def address(self, name: str) -> int:
        addr = self._engine.get_function_address(name)
        if not addr:
            raise JitError(f"no function {name}")
        return addr

    def func(self, name: str, restype, *argtypes):
        """A ctypes callable of a compiled function (valid while this Jit lives)."""
        return ctypes.CFUNCTYPE(restype, *argtypes)(self.address(name))
