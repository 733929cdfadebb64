"""mikro: synchronous, connection-oriented message passing, after the mikro IPC design.

    import mikro
    program = mikro.compile('task hello { print("hi") }  spawn hello()')
    result = mikro.run(program)                  # or mikro.Kernel(program, ...) step by step
    print(result.status, result.output)

The API is mikro.api (docs/embedding.md); the CLI, the pytest plugin and the benchmarks use it.
"""
__version__ = "0.1.0"

from .api import (BACKENDS, DEFAULT_BACKEND, HostMessage, Kernel, KernelClosed,  # noqa: F401
                  KernelError, LoadError, compile, compile_file, compile_source, load, run)
from .explore import Exploration, explore  # noqa: F401
from .vm.result import Fault, RunResult, Waiter, Where  # noqa: F401
from .vm.schedule import Plan, ScheduleError  # noqa: F401
from .vm.trace import Event  # noqa: F401

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Event", "Exploration", "Fault", "HostMessage",
           "Kernel", "KernelClosed", "KernelError", "LoadError", "Plan", "RunResult", "ScheduleError", "Waiter", "Where",
           "compile", "compile_file", "compile_source", "explore", "load", "run"]
