"""The Python API: compile a program, run it on a backend, get a RunResult.

The CLI is a thin layer over these functions, and test suites use them directly:

    import mikro
    program = mikro.load("examples/echo.mk")          # .mk source or .mko image
    result = mikro.run(program, backend="interp", seed=3)
    assert result.status == "clean"
    print(result.output, result.report(program))

`Kernel` drives one run step by step, with host tasks (Python handlers serving channels)
and extra tasks; docs/embedding.md shows it all.
"""
from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any, Callable

from .vm.image import ImageError, Program
from .vm.kernel import HostMessage, KernelClosed, KernelError, host_word  # noqa: F401
from .vm.options import OUTPUT_KEPT, RunOptions
from .vm.result import RunResult

BACKENDS = ("x86", "interp")
DEFAULT_BACKEND = "x86"


class LoadError(Exception):
    """A file that cannot be read or is not a valid image (I/O or image error)."""


def compile_source(source: str, path: str = "<string>") -> Program:
    """Compile `.mk` source text; raises mikro.lang.CompileError with diagnostics."""
    from .lang import compile_source as _compile
    return _compile(source, path)


def compile_file(path: str | Path) -> Program:
    """Compile a `.mk` file; raises CompileError (bad source) or LoadError (unreadable)."""
    from .lang import compile_file as _compile
    return _compile(str(path))


def load(path: str | Path, cache: bool = False) -> Program:
    """A program from a `.mk` source file or a verified `.mko` image. With `cache`, a
    source file whose sources are unchanged since an earlier load is not compiled again
    (mikro.cache), which `mikro run` uses."""
    path = Path(path)
    if path.suffix != ".mko":
        if not cache:
            return compile_file(path)
        from . import cache as images
        program = images.load_image(str(path))
        if program is None:
            from .lang import compile_file as _compile
            sources: dict[str, str] = {}
            program = _compile(str(path), sources)
            images.store_image(str(path), program, sources)
        return program
    from .vm.verify import VerifyError, verify
    try:
        program = Program.from_bytes(path.read_bytes())
        verify(program)
    except OSError as e:
        raise LoadError(f"cannot read {path}: {e.strerror or e}") from e
    except (ImageError, VerifyError) as e:
        raise LoadError(f"{path}: invalid image: {e}") from e
    return program


def compile(source: str | Path, path: str = "<string>") -> Program:
    """A program from `.mk` source text (a str) or from a file (a Path); raises CompileError."""
    if isinstance(source, Path):
        return compile_file(source)
    return compile_source(source, path)


def run(program: Program, *, backend: str = DEFAULT_BACKEND, seed: int = 0,
        fuel: int | None = None, time_limit: float | None = None,
        mem_words: int | None = None, on_output: Callable[[str], None] | None = None,
        output_limit: int | None = OUTPUT_KEPT, cache: bool = True,
        trace: bool = False) -> RunResult:
    """Run a program to its end on a backend ("x86" or "interp")."""
    with Kernel(program, backend=backend, seed=seed, fuel=fuel, time_limit=time_limit,
                mem_words=mem_words, on_output=on_output, output_limit=output_limit,
                cache=cache, trace=trace) as k:
        return k.run()


class Prepared:
    """A program verified, and compiled on x86, for many Kernels: explore makes one per
    block of seeds so that a run pays neither the verifier nor the compile cache's key
    (hashing the whole image) again."""

    def __init__(self, program: Program, backend: str, cache: bool = True,
                 trace: bool = False):
        self.program, self.backend, self.cache, self.trace = program, backend, cache, trace
        self.compiled = None
        if backend == "interp":
            from .vm.verify import verify
            verify(program)
        elif backend == "x86":
            from .backends import x86
            self.compiled = x86._compiled(program, cache, trace)     # verifies it
        else:
            raise ValueError(f"unknown backend {backend!r} (expected one of {', '.join(BACKENDS)})")

    def fits(self, program: Program, backend: str, cache: bool, trace: bool) -> bool:
        return (program is self.program and backend == self.backend and cache == self.cache
                and trace == self.trace)


class _Closing(BaseException):
    """Unwinds a run whose Kernel a host handler or on_output closed. Not an Exception,
    so that the backends' `except Exception` around a handler lets it through."""


class Kernel:
    """One run of a program on one backend, driven from Python.

        k = mikro.Kernel(program, backend="x86", seed=1, trace=True)
        k.host("disk", lambda msg: msg.words[0] * 2)    # a Python function serves "disk"
        k.spawn("client", 7)                            # a task of the program, with arguments
        partial = k.run(fuel=1000)                      # a slice: status "running" if not ended
        result = k.run()                                # on to the end

    The boot list is spawned at once unless `boot=False`; tasks get ids in the order they
    are made. `fuel` and `time_limit` bound the whole run (status "limit"); `run(fuel=N)`
    returns after N more units with the run paused, and may be called again. A host
    handler gets a HostMessage (words, sender, conn, data, set_data) and returns the reply:
    None, an int or up to four ints; if it raises, its host task faults and the run goes on.
    The result keeps the last `output_limit` characters of output (None: all of it);
    `on_output` sees every line.

    Its lifecycle, the same on both backends: after close() (or the `with` block) every
    use raises KernelClosed; a host handler or on_output may call close(), which ends the
    run when it returns (that run() raises KernelClosed); an exception out of on_output
    ends the run and closes the Kernel; once the run has ended, `run` and `result` give
    its result and spawn/host raise KernelError; run() from inside the run raises
    KernelError.
    """

    def __init__(self, program: Program, *, backend: str = DEFAULT_BACKEND, seed: int = 0,
                 fuel: int | None = None, time_limit: float | None = None,
                 mem_words: int | None = None, max_tasks: int | None = None,
                 trace: bool = False, boot: bool = True,
                 on_output: Callable[[str], None] | None = None,
                 output_limit: int | None = OUTPUT_KEPT, cache: bool = True,
                 _prepared: "Prepared | None" = None):
        self._machine: Any = None     # interp.Machine or x86 run.Machine: one interface
        self._closed_why = ""
        self._running = False
        self._close_asked = False
        if on_output is not None:
            on_output = self._callback(on_output)
        options = RunOptions(seed=seed, fuel=fuel, time_limit=time_limit, on_output=on_output,
                             output_limit=output_limit, trace=trace)
        if mem_words is not None:
            options.mem_words = mem_words
        if max_tasks is not None:
            options.max_tasks = max_tasks
        self.program = program
        self.backend = backend
        ready = _prepared if _prepared is not None and _prepared.fits(program, backend, cache,
                                                                      trace) \
            else Prepared(program, backend, cache, trace)
        if backend == "interp":
            from .vm import interp
            self._machine = interp.Machine(program, options, boot=boot)
        else:
            from .backends.x86.run import Machine
            assert ready.compiled is not None       # prepared for x86: compiled
            self._machine = Machine(ready.compiled, options, boot=boot)

    def spawn(self, task: str, *args: int) -> int:
        """Start a task of the program's task type `task` with arguments; its task id."""
        machine = self._can_add("spawn a task")
        types = [t.name for t in self.program.tasks]
        if task not in types:
            raise ValueError(f"the program has no task {task!r} (it has {', '.join(types) or 'none'})")
        tt = self.program.tasks[types.index(task)]
        if len(args) != tt.nparams:
            raise ValueError(f"task {task} takes {tt.nparams} argument(s), got {len(args)}")
        words = [host_word(a, f"argument {i + 1} of task {task} is") for i, a in enumerate(args)]
        return machine.spawn(types.index(task), words)

    def host(self, name: str, handler: Callable | None = None):
        """Serve the channel `name` with a Python handler (a host task); its task id.
        Without a handler, a decorator: `@k.host("clock")`."""
        if handler is None:
            return lambda fn: (self.host(name, fn), fn)[1]
        return self._can_add("serve a channel").host(name, self._callback(handler))

    def run(self, fuel: int | None = None) -> RunResult:
        """Run to the end, or for `fuel` more units; the result so far."""
        machine = self._live("run")
        if self._running:
            raise KernelError("run() was called from inside the Kernel's own run "
                              "(a host handler or on_output)")
        self._running = True
        try:
            machine.advance(fuel)
        except _Closing:
            self._free("a host handler or on_output closed it during run()")
            raise KernelClosed("the Kernel was closed during run() by a host handler or "
                               "on_output") from None
        except BaseException as e:
            self._free(f"its run stopped on {type(e).__name__}: {e}")
            raise
        finally:
            self._running = False
        return machine.result()

    @property
    def result(self) -> RunResult:
        """The result so far (status "running" while the run can go on)."""
        return self._live("read the result").result()

    def close(self) -> None:
        """Free the run's native memory now rather than when the Kernel is dropped. From a
        host handler or on_output, the run ends when that callback returns."""
        if self._running:
            self._close_asked = True
        elif self._machine is not None:
            self._free("it was closed")

    def __enter__(self) -> "Kernel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the lifecycle --------------------------------------------------------------------
    def _live(self, what: str):
        if self._machine is None:
            raise KernelClosed(f"cannot {what}: the Kernel is closed ({self._closed_why})")
        return self._machine

    def _can_add(self, what: str):
        machine = self._live(what)
        if machine.status is not None:
            raise KernelError(f"cannot {what}: the run has ended (make a new Kernel)")
        return machine

    def _free(self, why: str) -> None:
        machine, self._machine = self._machine, None
        self._closed_why = why
        machine.close()

    def _callback(self, fn: Callable) -> Callable:
        """fn as the run calls it: a close() inside it ends the run once it returns. It
        refers to the Kernel weakly, so that a dropped Kernel is freed at once."""
        kernel = weakref.ref(self)

        def call(*args):
            try:
                return fn(*args)
            finally:
                k = kernel()
                if k is not None and k._close_asked:
                    raise _Closing()        # the close wins over what fn returned or raised
        return call
