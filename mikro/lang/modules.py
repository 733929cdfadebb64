"""Source files and their imports: reading, parsing, finding modules, refusing cycles."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import ast
from .diagnostics import CompileError, Diagnostic, SourceReadError, span_of
from .parser import parse

STDLIB = Path(__file__).resolve().parent.parent / "stdlib"
MAX_SOURCE = 1 << 20        # bytes of one source file (UTF-8): refused before it is parsed


def too_large(path: str) -> Diagnostic:
    return Diagnostic("E0407", f"the file is too large to compile (more than {MAX_SOURCE} "
                      f"bytes)", path, 0, 0, 0, "split it into modules: `import \"./part.mk\"`")


@dataclass
class Unit:
    """One source file: the main program or a module."""
    path: str                     # as shown in diagnostics and Program.files
    source: str
    module: ast.Module
    prefix: str = ""              # "kv." for the module `kv`, "" for the main file
    imports: dict[str, "Unit"] = field(default_factory=dict)
    main: bool = False


class Loader:
    """Loads a program's files; gathers every diagnostic instead of stopping at the first."""

    def __init__(self) -> None:
        self.units: list[Unit] = []              # dependencies before their importers
        self.by_real: dict[str, Unit] = {}
        self.loading: list[str] = []             # real paths being loaded (import chain)
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, str] = {}

    def load_main(self, source: str, path: str) -> Unit | None:
        real = os.path.realpath(path) if os.path.isfile(path) else None
        return self._unit(source, path, real, "", main=True)

    def _unit(self, source: str, path: str, real: str | None, prefix: str,
              main: bool = False) -> Unit | None:
        if len(source) > MAX_SOURCE or len(source.encode("utf-8", "replace")) > MAX_SOURCE:
            self.diagnostics.append(too_large(path))
            return None
        self.sources[path] = source
        try:
            module = parse(source, path)
        except CompileError as e:
            self.diagnostics += e.diagnostics
            return None
        unit = Unit(path, source, module, prefix, main=main)
        if real:
            self.by_real[real] = unit
            self.loading.append(real)
        for item in module.items:
            if isinstance(item, ast.Import):
                self._import(unit, item, real)
        if real:
            self.loading.pop()
        self.units.append(unit)
        return unit

    def _error(self, unit: Unit, code: str, message: str, span, help: str = "", label: str = ""):
        line, col, end = span_of(span)
        self.diagnostics.append(Diagnostic(code, message, unit.path, line, col, end, help, label))

    def _import(self, unit: Unit, item: ast.Import, importer_real: str | None) -> None:
        name = item.path
        if name.startswith("./") or name.startswith("../"):
            base = os.path.dirname(unit.path)
            shown = os.path.normpath(os.path.join(base, name))
            real_dir = os.path.dirname(importer_real) if importer_real else os.path.dirname(
                os.path.abspath(unit.path))
            real_path = os.path.normpath(os.path.join(real_dir, name))
            alias = Path(name).stem
        else:
            if not name.replace("_", "a").isalnum():
                self._error(unit, "E0206", f"no module named `{name}`", item.span,
                            "a stdlib module is named like `kv`; a file is imported as `\"./file.mk\"`",
                            "not a module name")
                return
            shown = f"stdlib/{name}.mk"
            real_path = str(STDLIB / f"{name}.mk")
            alias = name
        if not alias.isidentifier():
            self._error(unit, "E0206", f"cannot use `{alias}` as a module name", item.span,
                        "the file name (without .mk) must be a valid identifier", "bad name")
            return
        if alias in unit.imports:
            self._error(unit, "E0212", f"the module `{alias}` is imported twice", item.span,
                        "", "imported again here")
            return
        real = os.path.realpath(real_path)
        if real in self.loading:
            chain = " -> ".join(Path(p).name for p in self.loading[self.loading.index(real):])
            self._error(unit, "E0207", f"import cycle: {chain} -> {Path(real).name}", item.span,
                        "modules may not import each other in a circle", "imported here")
            return
        if real in self.by_real:
            unit.imports[alias] = self.by_real[real]
            return
        try:
            data = _read(real_path)
        except OSError as e:
            if not Path(real_path).exists():
                what = "module" if not name.startswith(".") else "file"
                self._error(unit, "E0206", f"no {what} named `{name}`", item.span,
                            f"looked for {shown}", "not found")
            else:
                self._error(unit, "E0109", f"cannot read `{shown}`: {e.strerror or e}",
                            item.span, "", "imported here")
            return
        if len(data) > MAX_SOURCE:
            self.diagnostics.append(too_large(shown))
            return
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self._error(unit, "E0110", f"`{shown}` is not valid UTF-8 (byte {e.start})",
                        item.span, "", "imported here")
            return
        child = self._unit(source, shown, real, alias + ".")
        if child is not None:
            unit.imports[alias] = child


def _read(path: str) -> bytes:
    """The bytes of a file, but no more than one past MAX_SOURCE: a huge file is not read."""
    with open(path, "rb") as f:
        return f.read(MAX_SOURCE + 1)


def read_source(path: str) -> str:
    """The text of a source file; raises CompileError when it cannot be read or decoded."""
    try:
        data = _read(path)
    except OSError as e:
        raise SourceReadError([Diagnostic("E0109", f"cannot read `{path}`: {e.strerror or e}",
                                       path, 0, 0, 0)]) from None
    if len(data) > MAX_SOURCE:
        raise CompileError([too_large(path)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SourceReadError([Diagnostic("E0110", "the file is not valid UTF-8", path, line, col,
                                       col + 1, "save the file as UTF-8",
                                       f"byte 0x{data[e.start]:02x}")],
                           {path: data.decode("utf-8", "replace")}) from None
