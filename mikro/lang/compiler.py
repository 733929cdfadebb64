"""The driver: files -> names -> bodies -> one Program, gathering every diagnostic."""
from __future__ import annotations

import sys

from ..vm import abi
from ..vm.image import Boot, Pos, Program, TaskType
from . import ast
from .diagnostics import CompileError, Diagnostic, span_of
from .link import Linker
from .lower import Lowerer
from .modules import Loader, Unit, read_source
from .symbols import (Err, FnSym, Reported, Tables, TaskSym, collect, fold, module_of, plural,
                      too_deep)


DEPTH = 20000                 # Python frames allowed while compiling


class _Program:
    """What the lowering of a body asks of the whole program."""

    def __init__(self, linker: Linker, tables: dict[int, Tables]) -> None:
        self.linker, self.tables = linker, tables
        self.konst, self.string = linker.konst, linker.string

    def task(self, unit: Unit, name: ast.Name) -> TaskSym:
        t = module_of(unit, self.tables, name)
        if name.name in t.tasks:
            return t.tasks[name.name]
        where = f" in module `{name.module}`" if name.module else ""
        raise Err("E0203", f"cannot find task `{name.text}`{where}", name.span,
                  "`spawn` starts a task defined with `task NAME { ... }`", "no such task")

    def function(self, unit: Unit, name: ast.Name, lowerer) -> FnSym:
        t = module_of(unit, self.tables, name)
        if name.name in t.fns:
            return t.fns[name.name]
        where = f" in module `{name.module}`" if name.module else ""
        help = f"define it: `fn {name.name}(...) {{ ... }}`" if name.module is None else ""
        if name.module is None and lowerer.local(name.name) is not None:
            help = f"`{name.name}` is a variable, not a function"
        elif name.name in t.tasks:
            help = f"`{name.text}` is a task: start it with `spawn {name.text}(...)`"
        raise Err("E0202", f"cannot find function `{name.text}`{where}", name.span, help,
                  "not found")


def compile_file(path: str, sources: dict[str, str] | None = None) -> Program:
    """The program of a file; `sources`, if given, gets the real path and text of every
    file it was compiled from (for mikro.cache)."""
    return compile_source(read_source(path), path, sources)


def compile_source(source: str, path: str = "<string>",
                   sources: dict[str, str] | None = None) -> Program:
    # Lowering recurses over expressions: let deep ones through, refuse absurd ones cleanly.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, DEPTH))
    try:
        return _compile(source, path, sources)
    except RecursionError:          # where no position is known (each body has its own)
        e = too_deep(None)
        raise CompileError([Diagnostic(e.code, e.message, path, 0, 0, 0, e.help)], {}) from None
    finally:
        sys.setrecursionlimit(limit)


def _compile(source: str, path: str, sources: dict[str, str] | None) -> Program:
    loader = Loader()
    main = loader.load_main(source, path)
    if loader.diagnostics or main is None:
        raise CompileError(loader.diagnostics, loader.sources)
    if sources is not None:
        sources.update((real, unit.source) for real, unit in loader.by_real.items())
    units = [main] + [u for u in loader.units if u is not main]
    tables = {id(u): Tables() for u in units}
    errors: dict[str, list[Err]] = {u.path: [] for u in units}
    ntasks = 0
    for u in loader.units:                       # modules before the files importing them
        ntasks = collect(u, tables, ntasks, errors[u.path])
    linker = Linker()
    files = {u.path: linker.file(u.path) for u in units}
    prog = _Program(linker, tables)
    lowered = []                                 # bodies, placed once all are error-free
    size = 0                                     # their instructions (without prologues)
    for u in units:
        for item in u.module.items:
            if isinstance(item, ast.TaskDef) and item.test and not u.main:
                continue
            if isinstance(item, (ast.TaskDef, ast.FnDef)):
                kind = "task" if isinstance(item, ast.TaskDef) else "fn"
                low = Lowerer(u, tables, files[u.path], kind, prog, errors[u.path])
                try:
                    lowered.append((u, item, low, low.lower(item)))
                except RecursionError:
                    errors[u.path].append(too_deep(low.too_deep or item.span))
                    continue
                size += len(lowered[-1][3].code)
                if size > abi.MAX_CODE:          # stop now rather than lower the rest
                    raise _too_large(path)
    boot = _boot(main, tables, errors[main.path])
    diags = [_diag(u.path, e) for u in units for e in errors[u.path] if not isinstance(e, Reported)]
    if diags:
        raise CompileError(diags, loader.sources)
    tasks: list[TaskType] = [None] * ntasks     # type: ignore[list-item]
    for u, item, low, body in lowered:
        f = files[u.path]
        if isinstance(item, ast.TaskDef):
            sym = tables[id(u)].tasks[item.name]
            entry = linker.place_task(item.name, body, len(item.params), _pos(f, item.span))
            tasks[sym.index] = TaskType(sym.qname, entry, len(item.params))
        else:
            end = Pos(f, item.body.span.end_line, max(1, item.body.span.end_col - 1))
            linker.place_function(tables[id(u)].fns[item.name], body, low.epilogue,
                                  _pos(f, item.span), end)
    program = linker.finish()
    if len(program.code) > abi.MAX_CODE:
        raise _too_large(path)
    program.tasks = tasks
    program.boot = boot
    return program


def _boot(main: Unit, tables, errors: list) -> list[Boot]:
    boot = []
    for item in main.module.items:
        if not isinstance(item, ast.BootSpawn):
            continue
        call = item.call
        try:
            t = module_of(main, tables, call.callee)
            task = t.tasks.get(call.callee.name)
            if task is None:
                raise Err("E0203", f"cannot find task `{call.callee.text}`", call.callee.span,
                          "`spawn` starts a task defined with `task NAME { ... }`", "no such task")
            if len(call.args) != task.nparams:
                n = len(call.args)
                raise Err("E0301", f"the task `{call.callee.text}` takes "
                          f"{plural(task.nparams, 'argument')} but {plural(n, 'argument')} "
                          f"{'was' if n == 1 else 'were'} given", call.span, "",
                          f"expected {plural(task.nparams, 'argument')}")
            args = []
            for a in call.args:
                try:
                    args.append(fold(a, main, tables, "an argument of a boot `spawn`"))
                except Err as e:
                    errors.append(e)
                except RecursionError:
                    errors.append(too_deep(a.span))
            boot.append(Boot(task.index, tuple(args)))
        except Err as e:
            errors.append(e)
    return boot


def _too_large(path: str) -> CompileError:
    return CompileError([Diagnostic(
        "E0407", f"the program is too large to compile: more than {abi.MAX_CODE} VM "
        "instructions", path, 0, 0, 0,
        "make it smaller, or split it into programs that talk over channels")])


def _pos(file: int, span) -> Pos:
    return Pos(file, span.line, span.col)


def _diag(path: str, e: Err) -> Diagnostic:
    line, col, end = span_of(e.span)
    return Diagnostic(e.code, e.message, path, line, col, end, e.help, e.label)
