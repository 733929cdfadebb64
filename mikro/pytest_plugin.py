"""pytest plugin for test suites that embed mikro (registered as a `pytest11` entry point).

Fixtures:
  mikro_session  a Session bound to one backend: .compile(src), .load(path), .kernel(program,
                 ...), .run(program, ...), .explore(program, schedules), .expect_clean(result);
                 tests that use it run once per backend.
  mikro          the same Session, under its first name (it hides `import mikro` inside the
                 test that asks for it; suites written for it keep working).
  mikro_backend  the backend name of the current parametrisation ("x86" or "interp").
Marker:
  @pytest.mark.mikro(backends=["interp"])   run the test on those backends only.
Options:
  --mikro-backend NAME     run every mikro test on that backend only.
  --mikro-schedules N      run each `.mk` test under N schedules (seeds 0 .. N-1).
Collection:
  `test_*.mk` and `*_test.mk` files: each `test "NAME" { ... }` block is a test item per
  backend (mikro.testing). A failure shows the block's `.mk` line, the fault or deadlock
  report, the expected and actual output and the tail of the trace.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from . import api
from .explore import Exploration, explore
from .vm.image import Program
from .vm.options import problem
from .vm.result import RunResult


class Session:
    """Compiles and runs programs on one backend; remembers the last program for reports."""

    def __init__(self, backend: str):
        self.backend = backend
        self.program: Program | None = None

    def compile(self, source: str, path: str = "<test>") -> Program:
        self.program = api.compile_source(source, path)
        return self.program

    def load(self, path: str | Path) -> Program:
        self.program = api.load(path)
        return self.program

    def _use(self, program: Program | None) -> Program:
        """The program given, which becomes the current one, or the current one."""
        program = program or self.program
        if program is None:
            raise ValueError("no program: compile() or load() one first, or pass it")
        self.program = program
        return program

    def kernel(self, program: Program | None = None, **options) -> api.Kernel:
        """A Kernel on this backend (options: seed, fuel, time_limit, trace, boot, ...)."""
        return api.Kernel(self._use(program), backend=self.backend, **options)

    def run(self, program: Program | None = None, **options) -> RunResult:
        return api.run(self._use(program), backend=self.backend, **options)

    def explore(self, program: Program | None = None, schedules: int = 100, **options) -> Exploration:
        return explore(self._use(program), schedules, backend=self.backend, **options)

    def expect_clean(self, result: RunResult, program: Program | None = None,
                     trace_tail: int = 12) -> None:
        """Fail the test with the run's report (and the last IPC events, when the run was
        traced) unless it ended clean."""
        if result.status != "clean":
            program = self._use(program)
            text = (f"mikro run on {self.backend} ended {result.status}:\n"
                    f"{result.report(program)}output:\n{result.output}")
            if result.trace:
                from .tracechart import format_trace
                lines = format_trace(result.trace, program).splitlines()[-trace_tail:]
                text += f"last {len(lines)} of {len(result.trace)} IPC events:\n"
                text += "".join(f"  {line}\n" for line in lines)
            pytest.fail(text, pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mikro")
    group.addoption("--mikro-backend", choices=api.BACKENDS, default=None,
                    help="run mikro tests on this backend only")
    group.addoption("--mikro-schedules", type=int, default=1, metavar="N",
                    help="run each .mk test under N schedules (default 1: FIFO)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mikro(backends): run a mikro test on these backends only")
    why = problem("schedules", config.getoption("--mikro-schedules"))
    if why is not None:
        raise pytest.UsageError(f"--mikro-schedules {why}")


def _backends(config: pytest.Config, marker=None) -> list[str]:
    backends = list(api.BACKENDS)
    if marker is not None and "backends" in marker.kwargs:
        backends = [b for b in backends if b in marker.kwargs["backends"]]
    chosen = config.getoption("--mikro-backend")
    return [b for b in backends if not chosen or b == chosen]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mikro_backend" not in metafunc.fixturenames:
        return
    metafunc.parametrize("mikro_backend",
                         _backends(metafunc.config, metafunc.definition.get_closest_marker("mikro")))


@pytest.fixture
def mikro_session(mikro_backend: str) -> Session:
    return Session(mikro_backend)


@pytest.fixture
def mikro(mikro_session: Session) -> Session:
    """The first name of mikro_session, kept for the suites that use it."""
    return mikro_session


# -- .mk test files -----------------------------------------------------------------------

def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    name = file_path.name
    if file_path.suffix == ".mk" and (name.startswith("test_") or name.endswith("_test.mk")):
        return MkFile.from_parent(parent, path=file_path)
    return None


class MkFile(pytest.File):
    def collect(self):
        from .lang import CompileError
        from .testing import collect
        try:
            program, tests = collect(self.path)
        except CompileError as e:
            raise self.CollectError(e.render()) from None
        for test in tests:
            for backend in _backends(self.config):
                yield MkItem.from_parent(self, name=f"{test.name}[{backend}]", program=program,
                                         test=test, backend=backend)


class MkFailure(Exception):
    """A `.mk` test that did not pass; its text is the whole explanation."""


class MkItem(pytest.Item):
    def __init__(self, *, program, test, backend, **kw):
        super().__init__(**kw)
        self.program, self.test, self.backend = program, test, backend
        self.add_marker(pytest.mark.mikro(backends=[backend]))

    def runtest(self) -> None:
        from .testing import explain, run_test
        outcome = run_test(self.program, self.test, backend=self.backend,
                           schedules=self.config.getoption("--mikro-schedules"))
        if not outcome.ok:
            raise MkFailure(explain(self.program, outcome, self.backend))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, MkFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.test.line - 1, f'test "{self.test.name}" [{self.backend}]'
