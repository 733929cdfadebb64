"""The verifier: each rejection of docs/vm.md, and fuzzing with corrupted images."""
from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mikro.vm import abi, isa
from mikro.vm.asm import assemble
from mikro.vm.image import Boot, Function, ImageError, Pos, Program, TaskType
from mikro.vm.verify import VerifyError, verify

GOOD = """
.task main 2
    li a0, "hello"
    sys puts
    lk a0, 1234567890123
    sys puti
    sys putnl
    mov a0, s0
    call f
    bnz a0, main
    sys try yield
    li a0, 0
    sys exit
.func f 1
    enter 2
    st lr, sp, 0
    ld lr, sp, 0
    leave 2
    ret
.boot main 1 2
"""


def good() -> Program:
    return assemble(GOOD)


def with_code(p: Program, pc: int, ins: isa.Instr) -> Program:
    code = list(p.code)
    code[pc] = ins
    return dataclasses.replace(p, code=code)


def rejects(p: Program, text: str) -> None:
    with pytest.raises(VerifyError) as e:
        verify(p)
    assert text in str(e.value)


def test_good_program_passes():
    verify(good())


def test_empty_program_passes():
    verify(Program())


def test_unknown_opcode():
    rejects(with_code(good(), 1, isa.Instr(len(isa.OPCODES))), f"pc 1: unknown opcode {len(isa.OPCODES)}")


def test_register_out_of_range():
    rejects(with_code(good(), 5, isa.make("mov", 64, 1)), "pc 5: register 64 out of range")
    rejects(with_code(good(), 5, isa.make("mov", 1, 200)), "pc 5: register 200 out of range")


def test_write_to_zero():
    rejects(with_code(good(), 0, isa.make("li", 0, imm=1)), "pc 0: li writes r0")
    rejects(with_code(good(), 0, isa.make("add", 0, 1, 2)), "pc 0: add writes r0")


def test_reading_zero_is_fine():
    verify(with_code(good(), 0, isa.make("add", 1, 0, 0)))
    verify(with_code(good(), 0, isa.make("st", 0, isa.SP, imm=0)))


def test_unused_fields_are_ignored():
    verify(with_code(good(), 7, isa.make("bnz", 1, 17, 33, imm=0)))


@pytest.mark.parametrize("target", [-1, 12, 1000])
def test_branch_target_outside_code(target):
    p = good()
    assert len(p.code) > 0
    rejects(with_code(p, 7, isa.make("bnz", 1, imm=len(p.code) + target if target > 0 else target)),
            "pc 7: branch target")


def test_call_target_not_a_function_entry():
    rejects(with_code(good(), 6, isa.make("call", imm=0)), "pc 6: call target 0 is not a function entry")


def test_constant_and_string_index():
    rejects(with_code(good(), 2, isa.make("lk", 1, imm=1)), "pc 2: constant index 1 out of range")
    rejects(with_code(good(), 0, isa.make("trap", imm=5)), "pc 0: string index 5 out of range")
    rejects(with_code(good(), 0, isa.make("trap", imm=-1)), "pc 0: string index -1 out of range")


def test_unknown_syscall_and_flag():
    n = len(abi.SYSCALLS)
    rejects(with_code(good(), 1, isa.make("sys", imm=n)), f"pc 1: unknown syscall number {n}")
    rejects(with_code(good(), 1, isa.make("sys", imm=0x200 | 1)), "pc 1: unknown syscall flag")
    rejects(with_code(good(), 1, isa.make("sys", imm=-1)), "pc 1: unknown syscall flag")
    verify(with_code(good(), 1, isa.make("sys", imm=abi.TRY | abi.SYS["puts"].num)))


def test_last_instruction_falls_through():
    p = good()
    last = len(p.code) - 1
    rejects(with_code(p, last, isa.make("nop")), f"pc {last}: the last instruction can fall through")
    rejects(with_code(p, last, isa.make("sys", imm=abi.SYS["puts"].num)), "can fall through")
    rejects(with_code(p, last, isa.make("bz", 1, imm=0)), "can fall through")
    for ins in (isa.make("jmp", imm=0), isa.make("trap", imm=0),
                isa.make("sys", imm=abi.SYS["exit"].num | abi.TRY)):
        verify(with_code(p, last, ins))


def test_task_entries_out_of_range():
    p = good()
    rejects(dataclasses.replace(p, tasks=[TaskType("main", len(p.code), 2)]), "task 'main': entry")
    rejects(dataclasses.replace(p, tasks=[TaskType("main", -1, 2)]), "task 'main': entry")
    rejects(dataclasses.replace(p, tasks=[TaskType("main", 0, 7)]), "task 'main': 7 parameters")


def test_function_entries_out_of_range():
    p = good()
    f = p.functions[0]
    rejects(dataclasses.replace(p, functions=[dataclasses.replace(f, entry=len(p.code))]),
            "function 'f': entry")
    rejects(dataclasses.replace(p, functions=[dataclasses.replace(f, end=len(p.code) + 1)]),
            "function 'f': entry")
    rejects(dataclasses.replace(p, functions=[dataclasses.replace(f, end=f.entry)]),
            "function 'f': entry")
    rejects(dataclasses.replace(p, functions=[dataclasses.replace(f, nparams=9)]),
            "function 'f': 9 parameters")


def test_line_table_length():
    p = good()
    rejects(dataclasses.replace(p, lines=p.lines[:-1]),
            f"the line table has {len(p.code) - 1} entries for {len(p.code)} instructions")


def test_boot_entries():
    p = good()
    rejects(dataclasses.replace(p, boot=[Boot(1, ())]), "boot entry 0: no task type 1")
    rejects(dataclasses.replace(p, boot=[Boot(0, (1, 2, 3))]),
            "boot entry 0: 3 arguments for task 'main', which takes 2")
    verify(dataclasses.replace(p, boot=[Boot(0, ()), Boot(0, (5,))]))


def test_malformed_fields_never_escape():
    p = good()
    for bad in (dataclasses.replace(p, code=[None]), dataclasses.replace(p, consts=[1 << 70]),
                dataclasses.replace(p, strings=[3]), dataclasses.replace(p, tasks=[None]),
                dataclasses.replace(p, code=[isa.Instr("x")]),
                dataclasses.replace(p, lines=[None] * len(p.code)),
                dataclasses.replace(p, boot=[Boot(0, ("x",))])):
        with pytest.raises(VerifyError):
            verify(bad)


def _check_bytes(data: bytes) -> None:
    try:
        p = Program.from_bytes(data)
    except ImageError:
        return
    try:
        verify(p)
    except VerifyError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes(data):
    _check_bytes(data)
    _check_bytes(b"MIKRO\0\x01\x00" + data)


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 8))
def test_mutated_images(seed, count):
    data = bytearray(good().to_bytes())
    rnd = random.Random(seed)
    for _ in range(count):
        what = rnd.randrange(4)
        i = rnd.randrange(len(data))
        if what == 0:
            data[i] = rnd.randrange(256)
        elif what == 1:
            data[i] ^= 1 << rnd.randrange(8)
        elif what == 2:
            del data[i:i + rnd.randrange(1, 9)]
        else:
            data[i:i] = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 9)))
    _check_bytes(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255),
                          st.integers(0, 255), st.integers(isa.IMM_MIN, isa.IMM_MAX)),
                min_size=1, max_size=20))
def test_random_instructions(rows):
    code = [isa.Instr(*r) for r in rows]
    p = Program(code=code, consts=[1], strings=["s"], files=["f"], lines=[Pos(0, 1, 1)] * len(code),
                tasks=[TaskType("t", 0, 0)], functions=[Function("f", 0, len(code), 0)],
                boot=[Boot(0, ())])
    try:
        verify(p)
    except VerifyError:
        pass
