"""Median cost of a call/reply round trip between two tasks on the x86 backend.

    python benchmarks/roundtrip.py [--n 2000000] [--idle 0 99998] [--repeat 5]

A client calls a MANY server n times; `--idle k` adds k tasks blocked in recv on their own
connection to another server, so the kernel holds 2 + k tasks (the O(1) claim: the cost of
a round trip must not depend on k).
"""
from __future__ import annotations

import argparse
import statistics

from mikro.backends import x86
from mikro.vm import abi, isa
from mikro.vm.image import Boot, Pos, Program, TaskType
from mikro.vm.options import RunOptions

A0, A1, A2, S0, S1, S2 = 1, 2, 3, 9, 10, 11


def sys(name: str) -> isa.Instr:
    return isa.make("sys", imm=abi.SYS[name].num)


def program(n: int, idle: int) -> Program:
    m = isa.make
    code: list[isa.Instr] = []
    # server: channel "rt" MANY; loop { recv; reply(h, w0 + 1) }
    server = len(code)
    code += [m("li", A0, imm=0), m("li", A1, imm=abi.MANY), sys("channel"), m("mov", S0, A1)]
    loop = len(code)
    code += [m("mov", A0, S0), sys("recv"), m("mov", A0, A1), m("addi", A1, A2, imm=1),
             sys("reply"), m("jmp", imm=loop)]
    # client: open "rt"; call n times; print the last reply
    client = len(code)
    code += [m("li", A0, imm=0), sys("open"), m("mov", S0, A1), m("li", S1, imm=n),
             m("li", S2, imm=0)]
    again = len(code)
    code += [m("mov", A0, S0), m("mov", A1, S2), sys("call"), m("mov", S2, A1),
             m("addi", S1, S1, imm=-1), m("bnz", S1, imm=again),
             m("mov", A0, S2), sys("puti"), sys("putnl"), m("li", A0, imm=0), sys("exit")]
    # idle: open "idle" and wait in recv for a push that never comes
    idle_t = len(code)
    code += [m("li", A0, imm=1), sys("open"), m("mov", A0, A1), sys("recv"),
             m("li", A0, imm=0), sys("exit")]
    # hub: the server of the idle tasks' connections, then waits in recv itself
    hub = len(code)
    code += [m("li", A0, imm=1), m("li", A1, imm=abi.MANY), sys("channel"), m("mov", A0, A1),
             sys("recv"), m("li", A0, imm=0), sys("exit")]
    tasks = [TaskType("server", server, 0), TaskType("client", client, 0),
             TaskType("idle", idle_t, 0), TaskType("hub", hub, 0)]
    boot = [Boot(3, ())] + [Boot(2, ())] * idle + [Boot(0, ()), Boot(1, ())]
    return Program(code=code, strings=["rt", "idle"], files=["roundtrip"],
                   lines=[Pos(0, pc + 1, 1) for pc in range(len(code))], tasks=tasks, boot=boot)


def _native(compiled, n: int) -> float:
    r = compiled.run(RunOptions())
    assert r.output == f"{n}\n", r
    return compiled.native_seconds


def measure(n: int, idle: int, repeat: int) -> float:
    """ns per round trip: native time of n round trips minus that of one (boot, blocking)."""
    big, one = x86.compile(program(n, idle)), x86.compile(program(1, idle))
    times = [_native(big, n) - _native(one, 1) for _ in range(repeat)]
    return statistics.median(times) / (n - 1) * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--idle", type=int, nargs="*", default=[0, 99_998])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    for idle in args.idle:
        ns = measure(args.n, idle, args.repeat)
        print(f"{idle + 2:>7} tasks: {ns:6.2f} ns per call/reply round trip (median of {args.repeat})")


if __name__ == "__main__":
    main()
