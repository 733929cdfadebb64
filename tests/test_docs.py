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
def test_program_runs_clean(mikro_session, source):
    result = mikro_session.run(mikro_session.compile(source, "doc.mk"))
    mikro_session.expect_clean(result)
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


STDLIB_PAGE = PAGE.with_name("stdlib.md").read_text()
STDLIB = PAGE.parent.parent / "mikro" / "stdlib"


@pytest.mark.parametrize("source", re.findall(r"```\n(.*?)```\n", STDLIB_PAGE, re.S),
                         ids=lambda s: s.splitlines()[0])
def test_stdlib_page_programs_run_clean(mikro_session, source):
    result = mikro_session.run(mikro_session.compile(source, "doc.mk"))
    mikro_session.expect_clean(result)
    assert result.output


def test_stdlib_page_documents_every_module_and_only_what_they_define():
    modules = sorted(p.stem for p in STDLIB.glob("*.mk"))
    assert sorted(re.findall(r"^## `(\w+)`", STDLIB_PAGE, re.M)) == modules
    for module in modules:
        text = (STDLIB / f"{module}.mk").read_text()
        defined = {name: len([p for p in params.split(",") if p.strip()])
                   for name, params in re.findall(r"^(?:fn|task) (\w+)\(([^)]*)\)", text, re.M)}
        defined |= {name: None for name in re.findall(r"^task (\w+) \{", text, re.M)}
        consts = set(re.findall(r"^const (\w+) = (\d+)", text, re.M))
        rows = re.findall(rf"^\| `{module}\.(\w+)(?:\(([^)]*)\))?` \| ([^|]*) \|", STDLIB_PAGE, re.M)
        assert rows, module
        for name, params, gives in rows:
            if name.isupper():                      # a constant, with its value
                assert (name, gives.strip()) in consts, (module, name)
            else:
                assert name in defined, (module, name)
                assert defined[name] in (None, len([p for p in params.split(",") if p.strip()]))
