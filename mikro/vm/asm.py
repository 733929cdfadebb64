"""The assembler and disassembler of VM code, both driven by the opcode table.

The text form, one item a line (`;` starts a comment):

    .file "examples/echo.mk"        the source files, in index order
    .string "hello"                 the string table, in order (S[0], S[1], ...)
    .const 12345678901              the constant pool, in order (K[0], ...)
    .task "echo" 0 echo             a task type: name, parameters, entry label
    .func "f" 2 f f.end             a function: name, parameters, entry and end labels
    .boot "client" 1 100            a boot entry: task type (name or index), arguments
    echo:                           a label
    .loc 0:12:5                     source position (file:line:col) of what follows
        li a0, "hello"              an instruction: operands in the order a, b, c, imm

Operands: registers by name (`a0`, `s3`, `sp`, or `r12`); `int` immediates as integers;
code addresses and call targets as labels (or integers); `lk` takes a value (interned in
the constant pool) or `K[n]`; strings a literal (interned) or `S[n]`; `sys` a syscall name,
optionally after `try`. A string literal or `S[n]` as an integer immediate is that
string's index (`li a0, "echo"` before `sys open`). An instruction line may start with its pc (ignored), as the
disassembler writes it. Written by hand, `.task NAME [NPARAMS]` and `.func NAME [NPARAMS]`
without labels start at the label NAME when the text defines it, else at the next
instruction (a function ends where the next task or function starts); without `.file` the file is the assembly text itself and an instruction
without `.loc` is placed at its own line. `.instr OP A B C IMM` is an instruction in raw
fields (the disassembler writes it for anything the table cannot show).
"""
from __future__ import annotations

import re
from pathlib import Path

from . import abi, isa
from .image import Boot, Function, Pos, Program, TaskType


class AsmError(Exception):
    """Malformed assembly text; the message starts with `path:line:`."""


REGS = {name: i for i, name in enumerate(isa.REG_NAMES)}
REGS.update({f"r{i}": i for i in range(isa.NREGS)})
_LABEL = re.compile(r"[A-Za-z_.$][A-Za-z0-9_.$]*\Z")
_ESC = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNESC = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r", "0": "\0"}


# -- string literals ----------------------------------------------------------------------
def quote(s: str) -> str:
    out = []
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def unquote(tok: str) -> str:
    if len(tok) < 2 or tok[0] != '"' or tok[-1] != '"':
        raise ValueError(f"expected a string literal, got {tok}")
    body, out, i = tok[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            raise ValueError("unescaped quote in a string literal")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1:i + 2]
        if esc in _UNESC:
            out.append(_UNESC[esc])
            i += 2
            continue
        width = {"x": 2, "u": 4, "U": 8}.get(esc)
        digits = body[i + 2:i + 2 + (width or 0)]
        if width is None or len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise ValueError(f"bad escape in a string literal: \\{esc}")
        out.append(chr(int(digits, 16)))
        i += 2 + width
    return "".join(out)


def _split(s: str, sep: str) -> list[str]:
    """Split s at `sep` outside string literals."""
    parts, cur, q, esc = [], [], False, False
    for ch in s:
        if q:
            cur.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                q = False
        elif ch == '"':
            q = True
            cur.append(ch)
        elif ch == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _code_part(line: str) -> str:
    """The line without its comment."""
    return _split(line, ";")[0].strip()


def _words(s: str) -> list[str]:
    return [w for w in _split(s, " ") if w]


# -- the assembler ----------------------------------------------------------------------------
class _Asm:
    def __init__(self, path: str):
        self.path = path
        self.p = Program()
        self.lineno = 0
        self.labels: dict[str, int] = {}
        self.soft: set[str] = set()         # labels .task or .func made, which the text may define
        self.pending: list[tuple[int, isa.Op | None, list]] = []     # lineno, op (None: .instr), operands
        self.tasks: list[tuple[int, str, int, str]] = []    # lineno, name, nparams, label
        self.funcs: list[tuple[int, str, int, str, str | None, int]] = []
        self.boots: list[tuple[int, str, list[str]]] = []
        self.loc: Pos | None = None
        self.files_given = False

    def error(self, msg: str, lineno: int | None = None) -> AsmError:
        return AsmError(f"{self.path}:{lineno or self.lineno}: {msg}")

    def number(self, tok: str, lo: int, hi: int, what: str, lineno: int | None = None) -> int:
        try:
            v = int(tok, 0)
        except ValueError:
            raise self.error(f"expected {what}, got {tok!r}", lineno) from None
        if not lo <= v <= hi:
            raise self.error(f"{what} {v} out of range", lineno)
        return v

    def name(self, tok: str) -> str:
        if tok.startswith('"'):
            try:
                return unquote(tok)
            except ValueError as e:
                raise self.error(str(e)) from None
        return tok

    def line(self, text: str) -> None:
        line = _code_part(text)
        if not line:
            return
        if line.endswith(":") and _LABEL.match(line[:-1]):
            if line[:-1] in self.labels and line[:-1] not in self.soft:
                raise self.error(f"label {line[:-1]} defined twice")
            self.soft.discard(line[:-1])
            self.labels[line[:-1]] = len(self.pending)
            return
        word, _, rest = line.partition(" ")
        if word.isdigit():          # a listing's pc column
            line = rest.strip()
        if line.startswith("."):
            word, _, rest = line.partition(" ")
            handler = getattr(self, "dir_" + word[1:], None)
            if handler is None:
                raise self.error(f"unknown directive {word}")
            handler(_words(rest))
            return
        word, _, rest = line.partition(" ")
        op = isa.BY_NAME.get(word)
        if op is None:
            raise self.error(f"unknown instruction {word!r}")
        ops = [o.strip() for o in _split(rest, ",")] if rest.strip() else []
        self.add(op, ops)

    def add(self, op: isa.Op, ops: list[str]) -> None:
        self.pending.append((self.lineno, op, ops))
        self.p.lines.append(self.loc or Pos(0, self.lineno, 1))

    # directives
    def dir_file(self, args: list[str]) -> None:
        if len(args) != 1:
            raise self.error(".file takes one string")
        self.files_given = True
        self.p.files.append(self.name(args[0]))

    def dir_string(self, args: list[str]) -> None:
        if len(args) != 1:
            raise self.error(".string takes one string")
        self.p.strings.append(self.name(args[0]))

    def dir_const(self, args: list[str]) -> None:
        if len(args) != 1:
            raise self.error(".const takes one integer")
        self.p.consts.append(self.number(args[0], -(1 << 63), (1 << 63) - 1, "a 64-bit integer"))

    def dir_task(self, args: list[str]) -> None:
        if not 1 <= len(args) <= 3:
            raise self.error(".task takes a name, a number of parameters and a label")
        n = self.number(args[1], 0, 255, "a number of parameters") if len(args) > 1 else 0
        label = args[2] if len(args) > 2 else self.here(self.name(args[0]))
        self.tasks.append((self.lineno, self.name(args[0]), n, label))

    def dir_func(self, args: list[str]) -> None:
        if not 1 <= len(args) <= 4 or len(args) == 3:
            raise self.error(".func takes a name, a number of parameters, entry and end labels")
        n = self.number(args[1], 0, 255, "a number of parameters") if len(args) > 1 else 0
        entry, end = (args[2], args[3]) if len(args) == 4 else (self.here(self.name(args[0])), None)
        self.funcs.append((self.lineno, self.name(args[0]), n, entry, end, len(self.pending)))

    def dir_boot(self, args: list[str]) -> None:
        if not args:
            raise self.error(".boot takes a task type and its arguments")
        self.boots.append((self.lineno, args[0], args[1:]))

    def dir_loc(self, args: list[str]) -> None:
        parts = args[0].split(":") if len(args) == 1 else []
        if len(parts) != 3:
            raise self.error(".loc takes file:line:col")
        f, ln, col = (self.number(x, 0, (1 << 32) - 1, "a number") for x in parts)
        self.loc = Pos(f, ln, col)

    def dir_instr(self, args: list[str]) -> None:
        if len(args) != 5:
            raise self.error(".instr takes op a b c imm")
        vals = [self.number(x, 0, 255, "a field") for x in args[:4]]
        imm = self.number(args[4], isa.IMM_MIN, isa.IMM_MAX, "an immediate")
        self.pending.append((self.lineno, None, vals + [imm]))
        self.p.lines.append(self.loc or Pos(0, self.lineno, 1))

    def here(self, name: str) -> str:
        """A label for the next instruction: `name` itself when it is free, unless the
        text defines the label `name` itself, later (then the task or function starts
        there: a program may declare its tasks first and write their code below)."""
        if not _LABEL.match(name) or name in self.labels or name in REGS:
            name = f".here{len(self.labels)}"
        else:
            self.soft.add(name)
        self.labels[name] = len(self.pending)
        return name

    # second pass
    def target(self, tok: str, lineno: int) -> int:
        if tok in self.labels:
            return self.labels[tok]
        if _LABEL.match(tok):
            raise self.error(f"unknown label {tok}", lineno)
        return self.number(tok, isa.IMM_MIN, isa.IMM_MAX, "a label or code address", lineno)

    def interned(self, table: list, value) -> int:
        if value not in table:
            table.append(value)
        return table.index(value)

    def operand_imm(self, kind: str, tok: str, lineno: int) -> int:
        p = self.p
        if kind in ("pc", "fn"):
            return self.target(tok, lineno)
        if kind == "k":
            m = re.fullmatch(r"K\[(\d+)\]", tok)
            if m:
                return self.number(m.group(1), 0, isa.IMM_MAX, "a constant index", lineno)
            return self.interned(p.consts, self.number(tok, -(1 << 63), (1 << 63) - 1,
                                                    "a 64-bit constant", lineno))
        if kind == "str" or tok.startswith('"') or tok.startswith("S["):
            m = re.fullmatch(r"S\[(\d+)\]", tok)
            if m:
                return self.number(m.group(1), 0, isa.IMM_MAX, "a string index", lineno)
            try:
                return self.interned(p.strings, unquote(tok))
            except ValueError as e:
                raise self.error(str(e), lineno) from None
        if kind == "sys":
            words = tok.split()
            flag = 0
            if len(words) == 2 and words[0] == "try":
                flag, words = abi.TRY, words[1:]
            if len(words) != 1:
                raise self.error(f"expected a syscall, got {tok!r}", lineno)
            if words[0] in abi.SYS:
                return abi.SYS[words[0]].num | flag
            return self.number(words[0], 0, abi.SYS_MASK, "a syscall", lineno) | flag
        return self.number(tok, isa.IMM_MIN, isa.IMM_MAX, "an immediate", lineno)

    def instr(self, lineno: int, op: isa.Op | None, ops: list) -> isa.Instr:
        if op is None:
            return isa.Instr(*ops)
        fields = [f for f in "abc" if getattr(op, f) is not None] + (["imm"] if op.imm else [])
        if len(ops) != len(fields):
            raise self.error(f"{op.name} takes {len(fields)} operands, got {len(ops)}", lineno)
        vals = {"a": 0, "b": 0, "c": 0, "imm": 0}
        for f, tok in zip(fields, ops):
            if f == "imm":
                assert op.imm is not None
                vals["imm"] = self.operand_imm(op.imm, tok, lineno)
            elif tok in REGS:
                vals[f] = REGS[tok]
            else:
                raise self.error(f"expected a register, got {tok!r}", lineno)
        return isa.Instr(op.code, vals["a"], vals["b"], vals["c"], vals["imm"])

    def finish(self) -> Program:
        p = self.p
        if not self.files_given:
            p.files = [self.path]
        p.code = [self.instr(*item) for item in self.pending]
        n = len(p.code)
        for lineno, name, k, label in self.tasks:
            p.tasks.append(TaskType(name, self.target(label, lineno), k))
        starts = sorted({e.entry for e in p.tasks} | {self.labels[f[3]] for f in self.funcs
                                                      if f[3] in self.labels})
        for lineno, name, k, entry, end, at in self.funcs:
            e = self.target(entry, lineno)
            if end is None:
                end_pc = min([s for s in starts if s > e] + [n])
            else:
                end_pc = self.target(end, lineno)
            p.functions.append(Function(name, e, end_pc, k))
        names = [t.name for t in p.tasks]
        for lineno, tok, args in self.boots:
            if tok.startswith('"') or not re.fullmatch(r"-?\d+", tok):
                name = self.name(tok)
                if name not in names:
                    raise self.error(f"no task type {name!r}", lineno)
                task = names.index(name)
            else:
                task = self.number(tok, 0, (1 << 32) - 1, "a task index", lineno)
            p.boot.append(Boot(task, tuple(self.number(a, -(1 << 63), (1 << 63) - 1,
                                                    "a 64-bit argument", lineno) for a in args)))
        return p


def assemble(text: str, path: str = "<asm>") -> Program:
    """A Program from assembly text; AsmError names the line of a mistake."""
    a = _Asm(path)
    for lineno, line in enumerate(text.split("\n"), 1):
        a.lineno = lineno
        a.line(line.rstrip("\r"))
    return a.finish()


# -- the disassembler ----------------------------------------------------------------------------
def _labels(p: Program) -> dict[int, str]:
    """One label per pc that needs one: function entries, task entries, ends, branch targets."""
    wanted: list[tuple[int, str]] = []
    wanted += [(f.entry, f.name) for f in p.functions]
    wanted += [(t.entry, t.name) for t in p.tasks]
    wanted += [(f.end, f"{f.name}.end") for f in p.functions]
    for ins in p.code:
        if 0 <= ins.op < len(isa.OPCODES) and ins.info.imm in ("pc", "fn"):
            wanted.append((ins.imm, f"L{ins.imm}"))
    labels: dict[int, str] = {}
    used: set[str] = set()
    for pc, name in wanted:
        if pc in labels or not isinstance(pc, int) or not 0 <= pc <= len(p.code):
            continue
        if not _LABEL.match(name) or name in REGS or name.startswith(".here"):
            name = f"L{pc}"
        while name in used:
            name += "_"
        labels[pc] = name
        used.add(name)
    return labels


def _canonical(ins: isa.Instr) -> bool:
    """Whether the table can show ins exactly (known opcode, unused fields zero)."""
    if not 0 <= ins.op < len(isa.OPCODES):
        return False
    op = ins.info
    if any(getattr(op, f) is None and getattr(ins, f) for f in "abc") or (not op.imm and ins.imm):
        return False
    return all(getattr(op, f) is None or 0 <= getattr(ins, f) < isa.NREGS for f in "abc")


def _operand_imm(p: Program, ins: isa.Instr, labels: dict[int, str]) -> str:
    kind, imm = ins.info.imm, ins.imm
    if kind in ("pc", "fn"):
        return labels.get(imm, str(imm))
    if kind == "k":
        if 0 <= imm < len(p.consts) and p.consts.index(p.consts[imm]) == imm:
            return str(p.consts[imm])
        return f"K[{imm}]"
    if kind == "str":
        if 0 <= imm < len(p.strings) and p.strings.index(p.strings[imm]) == imm:
            return quote(p.strings[imm])
        return f"S[{imm}]"
    if kind == "sys":
        num, flag = imm & abi.SYS_MASK, imm & ~abi.SYS_MASK
        name = abi.SYSCALLS[num].name if num < len(abi.SYSCALLS) else str(num)
        if flag == abi.TRY:
            return f"try {name}"
        return name if flag == 0 else str(imm)
    return str(imm)


# syscalls that take a string index in a0 (their ABI line reads S[a0])
_STRING_SYSCALLS = frozenset(sc.num for sc in abi.SYSCALLS if "S[a0]" in sc.doc)


def _string_args(p: Program, labels: dict[int, str]) -> dict[int, int]:
    """pc -> string index of each `li a0, N` whose value reaches a syscall taking a string."""
    li, sys_ = isa.BY_NAME["li"].code, isa.BY_NAME["sys"].code
    found: dict[int, int] = {}
    pending: int | None = None
    for pc, ins in enumerate(p.code):
        if pc in labels:
            pending = None
        if ins.op == li and ins.a == isa.A0:
            pending = pc if 0 <= ins.imm < len(p.strings) else None
        elif ins.op == sys_:
            if pending is not None and ins.imm & abi.SYS_MASK in _STRING_SYSCALLS:
                found[pending] = p.code[pending].imm
            pending = None
        elif not _canonical(ins) or ins.info.imm in ("pc", "fn") or isa.A0 in (
                getattr(ins, f) for f in "abc" if getattr(ins.info, f) == "w"):
            pending = None
    return found


def format_instr(p: Program, ins: isa.Instr, labels: dict[int, str]) -> str:
    """One instruction as the assembler reads it."""
    if not _canonical(ins) or (ins.info.imm == "sys" and ins.imm & ~(abi.SYS_MASK | abi.TRY)):
        return f".instr {ins.op} {ins.a} {ins.b} {ins.c} {ins.imm}"
    op = ins.info
    ops = [isa.REG_NAMES[getattr(ins, f)] for f in "abc" if getattr(op, f) is not None]
    if op.imm:
        ops.append(_operand_imm(p, ins, labels))
    return f"{op.name:<6} {', '.join(ops)}".rstrip()


class _Sources:
    """Lines of the program's source files, read once; None for an unreadable file."""

    def __init__(self, files: list[str]):
        self.files = files
        self.cache: dict[int, list[str] | None] = {}

    def line(self, f: int, n: int) -> str | None:
        if f not in self.cache:
            try:
                self.cache[f] = Path(self.files[f]).read_text(encoding="utf-8").splitlines()
            except (OSError, IndexError, ValueError):
                self.cache[f] = None
        lines = self.cache[f]
        return lines[n - 1] if lines is not None and 1 <= n <= len(lines) else None


def disassemble(program: Program, with_source: bool = True) -> str:
    """VM code as assembly text: the tables, then the code with labels. With the source,
    each run of instructions from one source line follows that line (as a comment) when
    the file is readable; without it, `.loc` lines keep the exact line table."""
    p = program
    labels = _labels(p)
    out = ["; mikro VM code"]
    out += [f".file {quote(f)}" for f in p.files]
    out += [f".string {quote(s)}" for s in p.strings]
    out += [f".const {k}" for k in p.consts]
    out += [f".task {quote(t.name)} {t.nparams} {labels.get(t.entry, t.entry)}" for t in p.tasks]
    out += [f".func {quote(f.name)} {f.nparams} {labels.get(f.entry, f.entry)} "
            f"{labels.get(f.end, f.end)}" for f in p.functions]
    names = [t.name for t in p.tasks]
    for b in p.boot:
        ok = 0 <= b.task < len(names) and names.index(names[b.task]) == b.task
        task = quote(names[b.task]) if ok else str(b.task)
        out.append(" ".join([".boot", task] + [str(a) for a in b.args]))
    src = _Sources(p.files) if with_source else None
    names_at = _string_args(p, labels)
    last: Pos | None = None
    last_file = None
    for pc, ins in enumerate(p.code):
        if pc in labels:
            out.append(f"{labels[pc]}:")
        pos = p.lines[pc] if pc < len(p.lines) else None
        if pos != last and pos is not None:
            if src is None:
                out.append(f"    .loc {pos.file}:{pos.line}:{pos.col}")
            elif last is None or (pos.file, pos.line) != (last.file, last.line):
                text = src.line(pos.file, pos.line)
                if text is not None:
                    if pos.file != last_file:
                        out.append(f"; {p.files[pos.file]}")
                        last_file = pos.file
                    out.append(f"; {pos.line:4} | {text}")
            last = pos
        line = f"{pc:6}  {format_instr(p, ins, labels)}"
        if pc in names_at:
            line = f"{line:<34}; {quote(p.strings[names_at[pc]])}"
        out.append(line)
    if len(p.code) in labels:
        out.append(f"{labels[len(p.code)]}:")
    return "".join(line + "\n" for line in out)
