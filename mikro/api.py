"""The Python API: compile a program, run it on a backend, get a RunResult.

The CLI is a thin layer over these functions, and test suites use them directly:

    import mikro
    program = mikro.load("examples/echo.mk")          # .mk source or .mko image
    result = mikro.run(program, backend="interp", seed=3)
    assert result.status == "clean"
    print(result.output, result.report(program))
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .vm.image import ImageError, Program
from .vm.options import RunOptions
from .vm.result import RunResult

BACKENDS = ("x86", "interp")
DEFAULT_BACKEND = "x86"


class LoadError(Exception):
    """A file that cannot be read or is not a valid image (I/O or image error)."""


def compile_source(source: str, path: str = "<string>") -> Program:
    """Compile `.mk` source text; raises mikro.lang.CompileError with diagnostics."""
    from .lang import compile_source as _compile
    return _compile(source, path)


def compile_file(path: str | Path) -> Program:
    """Compile a `.mk` file; raises CompileError (bad source) or LoadError (unreadable)."""
    from .lang import compile_file as _compile
    return _compile(str(path))


def load(path: str | Path) -> Program:
    """A program from a `.mk` source file or a verified `.mko` image."""
    path = Path(path)
    if path.suffix != ".mko":
        return compile_file(path)
    from .vm.verify import VerifyError, verify
    try:
        program = Program.from_bytes(path.read_bytes())
        verify(program)
    except OSError as e:
        raise LoadError(f"cannot read {path}: {e.strerror or e}") from e
    except (ImageError, VerifyError) as e:
        raise LoadError(f"{path}: invalid image: {e}") from e
    return program


def run(program: Program, *, backend: str = DEFAULT_BACKEND, seed: int = 0,
        fuel: int | None = None, time_limit: float | None = None,
        mem_words: int | None = None, on_output: Callable[[str], None] | None = None,
        cache: bool = True) -> RunResult:
    """Run a program to its end on a backend ("x86" or "interp")."""
    options = RunOptions(seed=seed, fuel=fuel, time_limit=time_limit, on_output=on_output)
    if mem_words is not None:
        options.mem_words = mem_words
    if backend == "interp":
        from .vm import interp
        return interp.run(program, options)
    if backend == "x86":
        from .backends import x86
        return x86.run(program, options, cache=cache)
    raise ValueError(f"unknown backend {backend!r} (expected one of {', '.join(BACKENDS)})")
