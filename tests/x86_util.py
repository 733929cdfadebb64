"""A tiny assembler for hand-written test programs of the x86 backend tests.

    task main          (a task type; its entry is the next instruction)
    func f 2           (a function with 2 parameters)
    boot main 1 2      (a boot entry with its arguments)
    loop:              (a label)
    li a0, "hello"     (a quoted immediate is a string index, interned)
    bnz a0, @loop      (@label: a code address)
    sys try open       (a syscall by name, optionally with try)
    lk a0, #12345      (#n: a constant-pool entry, interned)
"""
from __future__ import annotations

from mikro.vm import abi, isa
from mikro.vm.image import Boot, Function, Pos, Program, TaskType

REG = {name: i for i, name in enumerate(isa.REG_NAMES)}
REG.update({f"r{i}": i for i in range(isa.NREGS)})


def asm(text: str) -> Program:
    p = Program(files=["test.mk"])
    labels: dict[str, int] = {}
    pending: list[tuple[int, str, list[str], int]] = []
    tasks: list[tuple[str, int, int]] = []
    funcs: list[tuple[str, int, int]] = []
    boots: list[tuple[str, tuple[int, ...]]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(";")[0].strip()
        if not line:
            continue
        if line.endswith(":"):
            labels[line[:-1]] = len(pending)
            continue
        word, _, rest = line.partition(" ")
        if word == "task":
            parts = rest.split()
            tasks.append((parts[0], len(pending), int(parts[1]) if len(parts) > 1 else 0))
            continue
        if word == "func":
            parts = rest.split()
            funcs.append((parts[0], len(pending), int(parts[1]) if len(parts) > 1 else 0))
            continue
        if word == "boot":
            parts = rest.split()
            boots.append((parts[0], tuple(int(x) for x in parts[1:])))
            continue
        ops = [o.strip() for o in _split(rest)] if rest.strip() else []
        pending.append((lineno, word, ops, len(pending)))
    for lineno, word, ops, pc in pending:
        op = isa.BY_NAME[word]
        fields = {"a": 0, "b": 0, "c": 0, "imm": 0}
        it = iter(ops)
        for f in "abc":
            if getattr(op, f) is not None:
                fields[f] = REG[next(it)]
        if op.imm is not None:
            rest = list(it)
            if op.imm == "sys":
                words = " ".join(rest).split()
                flag = abi.TRY if words[0] == "try" else 0
                fields["imm"] = abi.SYS[words[-1]].num | flag
            else:
                fields["imm"] = _imm(p, rest[0], labels)
        p.code.append(isa.make(word, **fields))
        p.lines.append(Pos(0, lineno, 1))
    # a task or function whose name is also a label starts there
    tasks = [(n, labels.get(n, e), k) for n, e, k in tasks]
    funcs = [(n, labels.get(n, e), k) for n, e, k in funcs]
    p.tasks = [TaskType(n, e, k) for n, e, k in tasks]
    ends = sorted([e for _, e, _ in tasks + funcs] + [len(p.code)])
    for name, entry, k in funcs:
        end = min(x for x in ends if x > entry) if any(x > entry for x in ends) else len(p.code)
        p.functions.append(Function(name, entry, end, k))
    names = [t.name for t in p.tasks]
    p.boot = [Boot(names.index(n), args) for n, args in boots]
    return p


def _split(s: str) -> list[str]:
    out, cur, q = [], "", False
    for ch in s:
        if ch == '"':
            q = not q
        if ch == "," and not q:
            out.append(cur)
            cur = ""
        elif ch == " " and not q and not cur.strip():
            continue
        else:
            cur += ch
    out.append(cur)
    return [x for x in out if x.strip()]


def _imm(p: Program, tok: str, labels: dict[str, int]) -> int:
    tok = tok.strip()
    if tok.startswith('"'):
        s = tok[1:-1]
        if s not in p.strings:
            p.strings.append(s)
        return p.strings.index(s)
    if tok.startswith("@"):
        return labels[tok[1:]]
    if tok.startswith("#"):
        p.consts.append(int(tok[1:], 0))
        return len(p.consts) - 1
    return int(tok, 0)
