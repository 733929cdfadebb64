"""The programs shown in docs/language.md run as the page says, on every backend."""
import re
from pathlib import Path

import pytest

from mikro.testing import collect, run_test

PAGE = Path(__file__).resolve().parent.parent / "docs" / "language.md"
BLOCKS = re.findall(r"```\n(.*?)```\n", PAGE.read_text(), re.S)
PROGRAMS = [b for b in BLOCKS if re.search(r"^spawn ", b, re.M) and 'test "' not in b]
TEST_FILES = [b for b in BLOCKS if re.search(r'^test "', b, re.M)]


def test_the_page_has_programs():
    assert PROGRAMS and TEST_FILES


@pytest.mark.parametrize("source", PROGRAMS, ids=lambda s: s.splitlines()[0][:40])
def test_program_runs_clean(mikro, source):
    result = mikro.run(mikro.compile(source, "doc.mk"))
    mikro.expect_clean(result)
    assert result.output


@pytest.mark.parametrize("source", TEST_FILES, ids=lambda s: s.splitlines()[0][:40])
def test_test_file_passes(mikro_backend, source, tmp_path):
    path = tmp_path / "test_doc.mk"
    path.write_text(source)
    program, tests = collect(path)
    assert tests
    for t in tests:
        outcome = run_test(program, t, backend=mikro_backend)
        assert outcome.ok, outcome.problems
