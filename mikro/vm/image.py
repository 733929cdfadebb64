"""The program image: what the compiler produces and every backend runs.

A Program holds the code (a list of Instr), the constant pool, the string table, the
task types, the functions, the boot list, the source files and the line table (one
source position per instruction). `to_bytes` / `from_bytes` give the `.mko` format:

    magic  b"MIKRO\\0" + u16 version
    then sections, each: u32 tag (4 ASCII bytes), u32 length, payload
      CODE  u32 n, n x u64 instruction words
      KONS  u32 n, n x i64
      STRS  u32 n, n x (u32 len, utf-8 bytes)
      FILE  u32 n, n x (u32 len, utf-8 bytes)
      LINE  u32 n, n x (u16 file, u32 line, u16 col)
      TASK  u32 n, n x (u32 len, utf-8 name, u32 entry, u8 nparams)
      FUNC  u32 n, n x (u32 len, utf-8 name, u32 entry, u32 end, u8 nparams)
      BOOT  u32 n, n x (u32 task, u8 nargs, nargs x i64)

Readers reject any
malformed input with ImageError; the verifier then checks the code itself.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .isa import Instr, decode, encode

MAGIC = b"MIKRO\0"
VERSION = 1


class ImageError(Exception):
    """A malformed or unreadable image."""


@dataclass(frozen=True)
class Pos:
    file: int       # index into Program.files
    line: int
    col: int


@dataclass(frozen=True)
class TaskType:
    name: str
    entry: int
    nparams: int


@dataclass(frozen=True)
class Function:
    name: str
    entry: int
    end: int        # one past its last instruction
    nparams: int


@dataclass(frozen=True)
class Boot:
    task: int
    args: tuple[int, ...]


@dataclass
class Program:
    code: list[Instr] = field(default_factory=list)
    consts: list[int] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    lines: list[Pos] = field(default_factory=list)
    tasks: list[TaskType] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    boot: list[Boot] = field(default_factory=list)

    # -- source positions -------------------------------------------------------
    def where(self, pc: int) -> str:
        """'file:line' of instruction pc (or '?' when unknown)."""
        if 0 <= pc < len(self.lines):
            p = self.lines[pc]
            name = self.files[p.file] if 0 <= p.file < len(self.files) else "?"
            return f"{name}:{p.line}"
        return "?"

    def function_at(self, pc: int) -> str | None:
        """Name of the function whose code holds pc, or None in a task body."""
        for f in self.functions:
            if f.entry <= pc < f.end:
                return f.name
        return None

    def owner(self, pc: int) -> str | None:
        """Name of the function or task type whose code holds pc (a task body runs from its
        entry to the next entry of a task or function), or None when nothing does."""
        name = self.function_at(pc)
        if name is not None:
            return name
        best = None
        for t in self.tasks:
            if t.entry <= pc and (best is None or t.entry > best.entry):
                best = t
        if best is None or any(best.entry < f.entry <= pc for f in self.functions):
            return None
        return best.name

    def return_sites(self) -> frozenset[int]:
        """The pcs a `ret` may go to: the instruction after each `call`."""
        from .isa import BY_NAME
        call = BY_NAME["call"].code
        return frozenset(pc + 1 for pc, ins in enumerate(self.code) if ins.op == call)

    # -- binary format ----------------------------------------------------------
    def to_bytes(self) -> bytes:
        out = bytearray(MAGIC + struct.pack("<H", VERSION))

        def section(tag: bytes, payload: bytes) -> None:
            out.extend(tag + struct.pack("<I", len(payload)) + payload)

        section(b"CODE", struct.pack(f"<I{len(self.code)}Q", len(self.code),
                                     *(encode(i) for i in self.code)))
        section(b"KONS", struct.pack(f"<I{len(self.consts)}q", len(self.consts), *self.consts))
        tasks = b"".join(_str(t.name) + struct.pack("<IB", t.entry, t.nparams) for t in self.tasks)
        funcs = b"".join(_str(f.name) + struct.pack("<IIB", f.entry, f.end, f.nparams)
                         for f in self.functions)
        section(b"STRS", _strs(self.strings))
        section(b"FILE", _strs(self.files))
        section(b"LINE", struct.pack("<I", len(self.lines)) + b"".join(
            struct.pack("<HIH", p.file, p.line, min(p.col, 0xFFFF)) for p in self.lines))
        section(b"TASK", struct.pack("<I", len(self.tasks)) + tasks)
        section(b"FUNC", struct.pack("<I", len(self.functions)) + funcs)
        section(b"BOOT", struct.pack("<I", len(self.boot)) + b"".join(
            struct.pack(f"<IB{len(b.args)}q", b.task, len(b.args), *b.args) for b in self.boot))
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Program":
        if not data.startswith(MAGIC):
            raise ImageError("not a mikro image (bad magic number)")
        r = _Reader(data)
        r.take(len(MAGIC))
        (version,) = r.unpack("<H")
        if version != VERSION:
            raise ImageError(f"image version {version} is not supported (expected {VERSION})")
        sections: dict[bytes, _Reader] = {}
        while not r.done():
            tag = r.take(4)
            (length,) = r.unpack("<I")
            if tag in sections:
                raise ImageError(f"section {tag.decode('ascii', 'replace')} appears twice")
            sections[tag] = _Reader(r.take(length), tag)
        need = [b"CODE", b"KONS", b"STRS", b"FILE", b"LINE", b"TASK", b"FUNC", b"BOOT"]
        for tag in need:
            if tag not in sections:
                raise ImageError(f"section {tag.decode()} is missing")
        p = cls()
        s = sections[b"CODE"]
        p.code = [decode(s.unpack("<Q")[0]) for _ in range(s.count())]
        s = sections[b"KONS"]
        p.consts = [s.unpack("<q")[0] for _ in range(s.count())]
        p.strings = sections[b"STRS"].strs()
        p.files = sections[b"FILE"].strs()
        s = sections[b"LINE"]
        p.lines = [Pos(*s.unpack("<HIH")) for _ in range(s.count())]
        s = sections[b"TASK"]
        for _ in range(s.count()):
            name = s.text()
            p.tasks.append(TaskType(name, *s.unpack("<IB")))
        s = sections[b"FUNC"]
        for _ in range(s.count()):
            name = s.text()
            p.functions.append(Function(name, *s.unpack("<IIB")))
        s = sections[b"BOOT"]
        for _ in range(s.count()):
            task, nargs = s.unpack("<IB")
            p.boot.append(Boot(task, tuple(s.unpack(f"<{nargs}q"))))
        for tag, sec in sections.items():
            if not sec.done():
                raise ImageError(f"section {tag.decode('ascii', 'replace')} has trailing bytes")
        return p


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<I", len(b)) + b


def _strs(items: list[str]) -> bytes:
    return struct.pack("<I", len(items)) + b"".join(_str(s) for s in items)


class _Reader:
    def __init__(self, data: bytes, tag: bytes = b"file"):
        self.data, self.pos, self.tag = data, 0, tag.decode("ascii", "replace")

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ImageError(f"image is truncated (in {self.tag})")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def count(self) -> int:
        (n,) = self.unpack("<I")
        if n > len(self.data):       # each entry takes at least one byte
            raise ImageError(f"count {n} in {self.tag} is larger than the section")
        return n

    def text(self) -> str:
        (n,) = self.unpack("<I")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ImageError(f"string in {self.tag} is not valid UTF-8") from e

    def strs(self) -> list[str]:
        return [self.text() for _ in range(self.count())]

    def done(self) -> bool:
        return self.pos == len(self.data)
