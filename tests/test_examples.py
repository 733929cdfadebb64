"""Every example runs through the CLI on every backend and prints what its .expected file says.

An .expected file holds the program's output followed by the end-of-run report (stderr).
"""
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mikro.cli import app
from mikro.vm.abi import EXIT_CODES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.mk"))
STATUS = {"deadlock.mk": "deadlock", "fault.mk": "fault", "supervisor.mk": "fault"}
BACKENDS = ["x86", "interp"]


def test_there_are_examples():
    assert len(PROGRAMS) >= 8


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_example(path, backend, monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    result = CliRunner().invoke(app, ["run", "--backend", backend, f"examples/{path.name}"])
    expected = path.with_suffix(".expected").read_text()
    assert result.stdout + result.stderr == expected
    assert result.exit_code == EXIT_CODES[STATUS.get(path.name, "clean")]
