"""The assembler and disassembler: the text form, errors, and the round trip."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mikro.lang import compile_file
from mikro.vm import abi, isa
from mikro.vm.asm import AsmError, assemble, disassemble, quote, unquote
from mikro.vm.image import Boot, Function, Pos, Program, TaskType
from mikro.vm.verify import verify

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HAND = """
; a task that prints through a function
.task main 1
    li a0, "hello"          ; a string literal is its index
    sys puts
    lk a1, 123456789012345
    mov a0, a1
    call show
    sys try yield
    li a0, 0
    sys exit
.func show 1
    sys puti
    sys putnl
    ret
.boot main 7
"""


def test_hand_written_program():
    p = assemble(HAND, "hand.masm")
    verify(p)
    m = isa.make
    assert p.code == [m("li", isa.A0, imm=0), m("sys", imm=abi.SYS["puts"].num),
                      m("lk", isa.A0 + 1, imm=0), m("mov", isa.A0, isa.A0 + 1),
                      m("call", imm=8), m("sys", imm=abi.SYS["yield"].num | abi.TRY),
                      m("li", isa.A0, imm=0), m("sys", imm=abi.SYS["exit"].num),
                      m("sys", imm=abi.SYS["puti"].num), m("sys", imm=abi.SYS["putnl"].num),
                      m("ret")]
    assert p.strings == ["hello"] and p.consts == [123456789012345]
    assert p.tasks == [TaskType("main", 0, 1)]
    assert p.functions == [Function("show", 8, 11, 1)]
    assert p.boot == [Boot(0, (7,))]
    assert p.files == ["hand.masm"]
    assert p.lines[0] == Pos(0, 4, 1) and p.lines[-1] == Pos(0, 15, 1)


def test_registers_by_any_name():
    p = assemble(".task t\n add r9, s0, zero\n add fp, lr, sp\n trap \"x\"")
    assert p.code[0] == isa.make("add", isa.S0, isa.S0, 0)
    assert p.code[1] == isa.make("add", isa.FP, isa.LR, isa.SP)


def test_disassembly_shows_labels_strings_and_syscalls():
    text = disassemble(assemble(HAND), with_source=False)
    assert 'li     a0, "hello"' not in text          # li takes an integer: shown as one
    assert "call   show" in text
    assert "sys    try yield" in text
    assert "lk     a1, 123456789012345" in text
    assert "show:\n" in text and "main:\n" in text
    assert '.task "main" 1 main' in text
    assert '.func "show" 1 show show.end' in text
    assert '.boot "main" 7' in text
    p = assemble('.task t\nloop:\n trap "bad \\"x\\""\n jmp loop\n')
    text = disassemble(p, with_source=False)
    assert 'trap   "bad \\"x\\""' in text
    assert "jmp    t" in text


def test_disassembly_interleaves_source(tmp_path):
    src = tmp_path / "prog.mk"
    src.write_text("first line\nsecond line\n")
    p = assemble(f'.file {quote(str(src))}\n.task t\n.loc 0:1:1\n nop\n nop\n.loc 0:2:3\n'
                 ' li a0, 0\n sys exit\n')
    text = disassemble(p)
    assert f"; {src}\n;    1 | first line\n     0  nop\n     1  nop\n;    2 | second line\n" in text
    assert ".loc" not in text
    text = disassemble(p, with_source=False)
    assert "    .loc 0:1:1\n" in text and "    .loc 0:2:3\n" in text
    assert "first line" not in text


def test_unreadable_source_is_left_out():
    p = assemble('.file "/nonexistent/x.mk"\n.task t\n.loc 0:1:1\n trap "x"\n')
    text = disassemble(p)
    assert "x.mk" in text and "|" not in text


@pytest.mark.parametrize("text, msg", [
    ("bogus a0", ":1: unknown instruction 'bogus'"),
    ("add a0, a1", ":1: add takes 3 operands, got 2"),
    ("add a0, a1, q7", ":1: expected a register, got 'q7'"),
    ("\njmp nowhere", ":2: unknown label nowhere"),
    ("li a0, 1 << 40", ":1: expected an immediate"),
    ("li a0, 0x100000000", ":1: an immediate 4294967296 out of range"),
    ("sys frobnicate", ":1: expected a syscall"),
    (".frob", ":1: unknown directive .frob"),
    ("x:\nx:", ":2: label x defined twice"),
    (".boot nobody", ":1: no task type 'nobody'"),
    ('trap "\\q"', ":1: bad escape"),
    (".loc 1:2", ":1: .loc takes file:line:col"),
])
def test_errors_name_the_line(text, msg):
    with pytest.raises(AsmError) as e:
        assemble(text, "bad.masm")
    assert str(e.value).startswith("bad.masm:")
    assert msg in str(e.value)


@given(st.text())
def test_quote_round_trip(s):
    q = quote(s)
    assert "\n" not in q and len(q.splitlines()) <= 1
    assert unquote(q) == s


def _round_trip(p: Program) -> None:
    text = disassemble(p, with_source=False)
    assert assemble(text) == p, text


def test_round_trip_hand_written():
    _round_trip(assemble(HAND))


def test_round_trip_tables_and_oddities():
    m = isa.make
    code = [m("lk", 1, imm=1), m("lk", 1, imm=0), m("trap", imm=2), m("trap", imm=0),
            m("bnz", 1, 5, 6, imm=0),                       # unused fields kept raw
            isa.Instr(200, 1, 2, 3, 4),                     # unknown opcode kept raw
            m("sys", imm=abi.SYS["send"].num | abi.TRY), m("jmp", imm=7)]
    p = Program(code=code, consts=[5, 5, -1], strings=["a", "b", "a", 'q"\n\\\u2028'],
                files=["x.mk", "y.mk"], lines=[Pos(i % 2, i, i * 3) for i in range(len(code))],
                tasks=[TaskType("t", 0, 2), TaskType("t", 3, 0), TaskType("odd name", 7, 1)],
                functions=[Function("f", 2, 4, 1), Function("f", 2, 8, 8), Function("1x", 6, 8, 0)],
                boot=[Boot(0, (1, -2)), Boot(1, ()), Boot(2, (-(1 << 63),))])
    _round_trip(p)


@st.composite
def programs(draw) -> Program:
    """Random programs built from the opcode table (verified ones: every operand in range)."""
    n = draw(st.integers(1, 30))
    consts = draw(st.lists(st.integers(-(1 << 63), (1 << 63) - 1), max_size=4))
    strings = draw(st.lists(st.text(max_size=8), max_size=4))
    entries = sorted(set(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))))
    code = []
    for pc in range(n):
        op = draw(st.sampled_from(isa.OPCODES))
        f = {x: draw(st.integers(1, isa.NREGS - 1)) if getattr(op, x) else 0 for x in "abc"}
        imm = {None: st.just(0), "int": st.integers(isa.IMM_MIN, isa.IMM_MAX),
               "pc": st.integers(0, n - 1), "fn": st.sampled_from(entries),
               "k": st.integers(0, max(len(consts) - 1, 0)),
               "str": st.integers(0, max(len(strings) - 1, 0)),
               "sys": st.integers(0, len(abi.SYSCALLS) - 1).map(
                   lambda s: s | draw(st.sampled_from([0, abi.TRY])))}[op.imm]
        if (op.imm == "k" and not consts) or (op.imm == "str" and not strings):
            op, f = isa.BY_NAME["nop"], {"a": 0, "b": 0, "c": 0}
            imm = st.just(0)
        code.append(isa.Instr(op.code, f["a"], f["b"], f["c"], draw(imm)))
    code.append(isa.make("jmp", imm=0))
    funcs = [Function(draw(st.sampled_from(["f", "g", "kv.get", "main", "L3", "a0", "x y"])), e,
                      draw(st.integers(e + 1, n + 1)), draw(st.integers(0, 8))) for e in entries]
    tasks = [TaskType(draw(st.sampled_from(["main", "f", "t"])), draw(st.integers(0, n)),
                      draw(st.integers(0, 6))) for _ in range(draw(st.integers(0, 3)))]
    boot = [Boot(i, tuple(draw(st.lists(st.integers(-(1 << 63), (1 << 63) - 1),
                                        max_size=t.nparams)))) for i, t in enumerate(tasks)]
    lines = [Pos(0, draw(st.integers(0, 5)), draw(st.integers(0, 3))) for _ in code]
    return Program(code=code, consts=consts, strings=strings, files=["g.mk"], lines=lines,
                   tasks=tasks, functions=funcs, boot=boot)


@settings(max_examples=200, deadline=None)
@given(programs())
def test_round_trip_random(p):
    verify(p)
    _round_trip(p)


def test_round_trip_compiled_examples():
    examples = sorted(EXAMPLES.glob("*.mk"))
    assert examples
    for path in examples:
        p = compile_file(str(path))
        verify(p)
        _round_trip(p)
        assert "|" in disassemble(p)


def test_string_arguments_of_syscalls_are_shown():
    p = assemble('.task t\nli a0, "svc"\nli a1, 2\nsys channel\nli a0, "svc"\nli a0, 0\nsys exit\n')
    lines = [x for x in disassemble(p, with_source=False).splitlines() if ".loc" not in x]
    assert lines[-6].endswith('li     a0, 0              ; "svc"')    # reaches channel
    assert lines[-3] == "     3  li     a0, 0"                        # overwritten before a syscall
    assert lines[-2] == "     4  li     a0, 0"                        # exit takes no string


def test_tasks_and_functions_declared_before_their_code():
    """`.task NAME` and `.func NAME` start at the label NAME when the text defines it
    (the declarations may come first), else at the next instruction."""
    from mikro.vm.asm import assemble
    p = assemble(".task first\n.task second\n.func f\n.boot second\n"
                 "second:\ncall f\nli a0, 0\nsys exit\n"
                 "first:\nli a0, 1\nsys exit\n"
                 "f:\nret\n")
    assert [(t.name, t.entry) for t in p.tasks] == [("first", 3), ("second", 0)]
    assert [(f.name, f.entry, f.end) for f in p.functions] == [("f", 5, 6)]
    q = assemble(".task t\nli a0, 0\nsys exit\n")
    assert q.tasks[0].entry == 0
