"""Every program of the language page and every example compiles, and the image is well formed."""
from pathlib import Path

import pytest

from mikro.lang import compile_file, compile_source
from mikro.vm import abi, isa
from mikro.vm.image import Program

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.mk"))
STDLIB = sorted((ROOT / "mikro" / "stdlib").glob("*.mk"))

HELLO = 'task main {\n    print("hello, world")\n}\n\nspawn main()\n'


def check_structure(p: Program) -> None:
    assert len(p.lines) == len(p.code)
    assert p.code, "no code"
    last = p.code[-1]
    assert last.info.ends_block or (last.info.name == "sys"
                                    and last.imm & abi.SYS_MASK == abi.SYS["exit"].num)
    spans = sorted((f.entry, f.end) for f in p.functions)
    for (a, b), (c, _) in zip(spans, spans[1:]):
        assert a < b <= c, "functions overlap"
    for f in p.functions:
        assert 0 <= f.entry < f.end <= len(p.code)
        assert p.code[f.end - 1].info.name == "ret"
        # no jump leaves the function
        for ins in p.code[f.entry:f.end]:
            if ins.info.is_branch:
                assert f.entry <= ins.imm < f.end
    entries = {f.entry for f in p.functions}
    for ins in p.code:
        if ins.info.name == "call":
            assert ins.imm in entries
        if ins.info.imm == "str" or ins.info.name == "trap":
            assert 0 <= ins.imm < len(p.strings)
        if ins.info.name == "lk":
            assert 0 <= ins.imm < len(p.consts)
        assert ins.info.a != "w" or ins.a != isa.ZERO
    for t in p.tasks:
        assert 0 <= t.entry < len(p.code)
    for b in p.boot:
        assert 0 <= b.task < len(p.tasks)
        assert len(b.args) == p.tasks[b.task].nparams
    assert len(set(p.strings)) == len(p.strings)


def test_hello():
    p = compile_source(HELLO, "hello.mk")
    check_structure(p)
    assert p.files == ["hello.mk"]
    assert p.strings == ["hello, world"]
    assert [t.name for t in p.tasks] == ["main"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples(path, monkeypatch):
    monkeypatch.chdir(ROOT)
    p = compile_file(f"examples/{path.name}")
    check_structure(p)
    assert p.files[0] == f"examples/{path.name}"
