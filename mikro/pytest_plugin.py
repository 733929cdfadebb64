"""pytest plugin for test suites that embed mikro (registered as a `pytest11` entry point).

Fixtures:
  mikro          a Session bound to one backend: .compile(src), .load(path), .run(program, ...),
                 .explore(program, schedules); tests that use it run once per backend.
  mikro_backend  the backend name of the current parametrisation ("x86" or "interp").
Marker:
  @pytest.mark.mikro(backends=["interp"])   run the test on those backends only.
Option:
  --mikro-backend NAME   run every mikro test on that backend only.

A failed `session.expect_clean(result)` shows the fault or deadlock report with the `.mk`
lines it points at.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from . import api
from .explore import Exploration, explore
from .vm.image import Program
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

    def run(self, program: Program | None = None, **options) -> RunResult:
        program = program or self.program
        self.program = program
        return api.run(program, backend=self.backend, **options)

    def explore(self, program: Program | None = None, schedules: int = 100, **options) -> Exploration:
        return explore(program or self.program, schedules, backend=self.backend, **options)

    def expect_clean(self, result: RunResult, program: Program | None = None) -> None:
        """Fail the test with the run's report unless it ended clean."""
        if result.status != "clean":
            report = result.report(program or self.program)
            pytest.fail(f"mikro run on {self.backend} ended {result.status}:\n{report}"
                        f"output:\n{result.output}", pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--mikro-backend", choices=api.BACKENDS, default=None,
                     help="run mikro tests on this backend only")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mikro(backends): run a mikro test on these backends only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mikro_backend" not in metafunc.fixturenames:
        return
    backends = list(api.BACKENDS)
    marker = metafunc.definition.get_closest_marker("mikro")
    if marker and "backends" in marker.kwargs:
        backends = [b for b in backends if b in marker.kwargs["backends"]]
    chosen = metafunc.config.getoption("--mikro-backend")
    if chosen:
        backends = [b for b in backends if b == chosen]
    metafunc.parametrize("mikro_backend", backends)


@pytest.fixture
def mikro(mikro_backend: str) -> Session:
    return Session(mikro_backend)
