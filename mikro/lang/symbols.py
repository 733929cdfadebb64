"""Module-level names: tasks, functions and constants of each file, constants folded.

Errors are raised as Err and collected by the caller; folding follows the integer rules of
intrules.py (the same results as the VM)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..vm import abi
from . import ast, builtins, intrules
from .modules import Unit


class Err(Exception):
    def __init__(self, code: str, message: str, span, help: str = "", label: str = ""):
        super().__init__(message)
        self.code, self.message, self.span, self.help, self.label = code, message, span, help, label


class Reported(Err):
    """A use of a constant whose definition has an error: that error is said once, at the
    definition, and the uses say nothing (no cascade suggesting `let A = ...`)."""

    def __init__(self, span):
        super().__init__("", "", span)


def boolean_help(name: str) -> str | None:
    """The hint for `true` or `false`, which the language does not have."""
    if name not in ("true", "false"):
        return None
    return (f"there are no booleans: a condition is true when it is not 0, so write "
            f"`{int(name == 'true')}` for `{name}`")


def too_deep(span) -> Err:
    """Python's recursion limit reached while compiling the code at span."""
    return Err("E0402", "the program is nested too deeply", span,
               "split deep expressions and blocks into smaller ones", "nested too deeply here")


@dataclass
class FnSym:
    qname: str
    node: ast.FnDef
    unit: Unit
    entry: int = -1

    @property
    def nparams(self) -> int:
        return len(self.node.params)


@dataclass
class TaskSym:
    qname: str
    index: int
    node: ast.TaskDef
    unit: Unit

    @property
    def nparams(self) -> int:
        return len(self.node.params)


@dataclass
class Tables:
    consts: dict[str, int] = field(default_factory=dict)
    broken: set[str] = field(default_factory=set)     # constants whose definition failed
    fns: dict[str, FnSym] = field(default_factory=dict)
    tasks: dict[str, TaskSym] = field(default_factory=dict)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def module_of(unit: Unit, tables: dict[int, Tables], name: ast.Name) -> Tables:
    """The tables a (maybe qualified) name is looked up in."""
    if name.module is None:
        return tables[id(unit)]
    mod = unit.imports.get(name.module)
    if mod is None:
        raise Err("E0209", f"there is no module `{name.module}` here", name.span,
                  f"import it first: `import \"{name.module}\"`", "unknown module")
    return tables[id(mod)]


def lookup_const(unit: Unit, tables: dict[int, Tables], name: ast.Name) -> int | None:
    t = module_of(unit, tables, name)
    if name.name in t.consts:
        return t.consts[name.name]
    if name.name in t.broken:
        raise Reported(name.span)
    if name.module is None and name.name in abi.CONSTANTS:
        return abi.CONSTANTS[name.name]
    return None


def fold(e, unit: Unit, tables: dict[int, Tables], what: str) -> int:
    """The value of a constant expression; `what` says where one is needed (for messages)."""
    if isinstance(e, ast.Int):
        return e.value
    if isinstance(e, ast.Name):
        v = lookup_const(unit, tables, e)
        if v is not None:
            return v
        t = module_of(unit, tables, e)
        if e.name in t.fns:
            raise Err("E0405", f"{what} must be a constant expression", e.span,
                      "a constant is computed at compile time from literals and other constants",
                      "a function, not a constant")
        where = f" in module `{e.module}`" if e.module else ""
        raise Err("E0201", f"cannot find constant `{e.text}`{where}", e.span,
                  e.module is None and boolean_help(e.name)
                  or "a constant expression may use literals and the constants defined above it",
                  "not found")
    if isinstance(e, ast.Unary):
        return intrules.unary(e.op, fold(e.operand, unit, tables, what))
    if isinstance(e, ast.Binary):
        a = fold(e.left, unit, tables, what)
        b = fold(e.right, unit, tables, what)
        try:
            return intrules.binary(e.op, a, b)
        except intrules.DivisionByZero:
            raise Err("E0406", "division by zero in a constant expression", e.span,
                      "", "divides by zero") from None
    if isinstance(e, ast.Str):
        raise Err("E0302", "expected an integer, found a string", e.span,
                  "strings may only be passed to print, assert, channel and open", "a string")
    raise Err("E0405", f"{what} must be a constant expression", e.span,
              "a constant is computed at compile time from literals and other constants",
              "not a constant")


def collect(unit: Unit, tables: dict[int, Tables], task_count: int, errors: list) -> int:
    """Fill the tables of one file; returns the next task index."""
    t = tables[id(unit)]

    def dup(kind: str, name: str, span) -> None:
        errors.append(Err("E0204", f"the {kind} `{name}` is defined twice", span,
                          "rename one of them", "defined again here"))

    def params(node, limit: int, kind: str) -> None:
        seen: set[str] = set()
        for p in node.params:
            if p.name in seen:
                errors.append(Err("E0205", f"the parameter `{p.name}` appears twice", p.span,
                                  "", "used again here"))
            seen.add(p.name)
        if len(node.params) > limit:
            errors.append(Err("E0404", f"too many parameters: a {kind} takes at most {limit}",
                              node.params[limit].span,
                              f"pass more values {'in an array' if kind == 'function' else 'through a channel or an array'}",
                              "one too many"))

    for item in unit.module.items:
        if isinstance(item, ast.TaskDef):
            if item.test and not unit.main:
                continue                     # a module's tests run when it is the main file
            params(item, abi.MAX_TASK_PARAMS, "task")
            if item.name in t.tasks:
                dup("test" if item.test else "task", item.name[6:-1] if item.test else item.name,
                    item.name_span)
                continue
            t.tasks[item.name] = TaskSym(unit.prefix + item.name, task_count, item, unit)
            task_count += 1
        elif isinstance(item, ast.FnDef):
            params(item, abi.MAX_FN_PARAMS, "function")
            if item.name in builtins.NAMES:
                errors.append(Err("E0210", f"`{item.name}` is a builtin and cannot be redefined",
                                  item.name_span, "choose another name", "a builtin"))
            elif item.name in t.fns:
                dup("function", item.name, item.name_span)
            else:
                t.fns[item.name] = FnSym(unit.prefix + item.name, item, unit)
    for item in unit.module.items:
        if isinstance(item, ast.ConstDef):
            if item.name in abi.CONSTANTS:
                errors.append(Err("E0210", f"`{item.name}` is a predefined constant and cannot be "
                                  "redefined", item.name_span, "choose another name", "predefined"))
                continue
            if item.name in t.consts or item.name in t.fns:
                dup("name", item.name, item.name_span)
                continue
            try:
                t.consts[item.name] = fold(item.value, unit, tables, "a `const`")
            except (Err, RecursionError) as e:
                errors.append(e if isinstance(e, Err) else too_deep(item.value.span))
                t.broken.add(item.name)
        elif isinstance(item, ast.BootSpawn) and not unit.main:
            errors.append(Err("E0308", "`spawn` at the top level of a module", item.span,
                              "only the main program has a boot list; the program that imports "
                              "this module spawns its tasks", "not in the main program"))
    return task_count
