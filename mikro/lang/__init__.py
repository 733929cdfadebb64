"""The mikro language: `.mk` source -> VM Program (docs/language.md).

    from mikro.lang import compile_source, CompileError
    try:
        program = compile_source(text, "prog.mk")
    except CompileError as e:
        print(e.render())          # rustc-style diagnostics

The pipeline, one module per step:
    grammar.lark + postlex.py (newlines) -> parser.py (lark LALR, syntax.py for errors)
    -> ast.py -> modules.py (files, imports) -> symbols.py (items, constants)
    -> lower.py + calls.py + spill.py over emit.py (code of one body) -> link.py (Program);
    compiler.py drives it and gathers the diagnostics (diagnostics.py).
"""
from .compiler import compile_file, compile_source
from .diagnostics import CompileError, Diagnostic, SourceReadError

__all__ = ["compile_source", "compile_file", "CompileError", "Diagnostic", "SourceReadError"]
