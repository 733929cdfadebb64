"""`mikro bench`: the claims of the talk measured against the mechanisms it names.

    run.py        the command: select, run under a progress bar, report
    suite.py      the benchmarks in order, and the round-trip rows
    curves.py     the O(1) claims as curves (x86 backend)
    costs.py      throughput, spawning, memory, compile time, start-up
    programs.py   the generated .mk programs
    mikrorun.py   compile once, time runs of the compiled program
    native.py     native baselines: indirect call, pipes, sockets, System V and POSIX queues
    native_ir.py  their LLVM IR;  jit.py  llvmlite JIT;  procpair.py  two pinned processes
    pyalt.py      the Python alternatives
    stats.py, model.py, targets.py, machine.py   figures, results, targets, the machine
    report.py, svg.py, markdown.py               tables, JSON, SVG charts, markdown
"""
