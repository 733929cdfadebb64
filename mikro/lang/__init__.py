"""The mikro language: `.mk` source -> VM Program (docs/language.md).

    from mikro.lang import compile_source, CompileError
    try:
        program = compile_source(text, "prog.mk")
    except CompileError as e:
        print(e.render())          # rustc-style diagnostics
"""
from .compiler import compile_file, compile_source
from .diagnostics import CompileError, Diagnostic, SourceReadError

__all__ = ["compile_source", "compile_file", "CompileError", "Diagnostic", "SourceReadError"]
