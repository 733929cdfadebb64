"""The reference interpreter: integer rules, fuel and preemption, scheduling, faults, reports."""
from __future__ import annotations

from mikro.vm import abi, interp, isa
from mikro.vm.image import Boot, Pos, Program, TaskType


def test_print_and_exit():
    m = isa.make
    code = [m("li", isa.A0, imm=0), m("sys", imm=abi.SYS["puts"].num),
            m("li", isa.A0, imm=42), m("sys", imm=abi.SYS["puti"].num),
            m("sys", imm=abi.SYS["putnl"].num),
            m("li", isa.A0, imm=3), m("sys", imm=abi.SYS["exit"].num)]
    p = Program(code=code, strings=["hello"], files=["t.mk"],
                lines=[Pos(0, 1, 1)] * len(code), tasks=[TaskType("main", 0, 0)],
                boot=[Boot(0, ())])
    r = interp.run(p)
    assert (r.status, r.output, r.exits) == ("clean", "hello 42\n", {1: ("main", 3)})
    assert r.report(p) == "task main#1 exited with code 3\n"
