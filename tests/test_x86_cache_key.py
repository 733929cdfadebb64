"""The object cache's key covers everything that decides the machine code: a change of any
source of the backend or of the VM's tables gives another key, so stale code never runs."""
from __future__ import annotations

from pathlib import Path

import pytest

import mikro
from mikro.backends.x86 import engine

ROOT = Path(mikro.__file__).parent


def test_every_source_of_the_backend_and_the_vm_is_in_the_key():
    want = set((ROOT / "vm").glob("*.py")) | set((ROOT / "backends" / "x86").glob("*.py"))
    assert want <= set(engine.key_sources())


@pytest.mark.parametrize("name", ["vm/abi.py", "vm/trace.py", "backends/x86/layout.py"])
def test_a_change_of_a_table_changes_the_key(monkeypatch, name):
    program = mikro.compile_source('spawn t()\ntask t { print("x") }\n')
    monkeypatch.setattr(engine, "_salt", None)
    before = engine.cache_key(program)
    changed = ROOT / name
    read = Path.read_bytes

    def read_bytes(self):
        data = read(self)
        return data.replace(b"QUANTUM = 1000", b"QUANTUM = 32") + b"#" \
            if self == changed else data

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(engine, "_salt", None)
    assert engine.cache_key(program) != before
    monkeypatch.undo()
    engine._salt = None
    assert engine.cache_key(program) == before
