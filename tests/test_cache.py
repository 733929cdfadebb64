"""The caches (mikro.cache): an unchanged program is not compiled again, and a change to any
of its source files, the main one or a module it imports, is seen; an entry is used only
when it is intact, and a directory only when it is private to this user; the cache stays
within its size."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from typer.testing import CliRunner

from mikro import api, cache
from mikro.backends.x86 import engine
from mikro.cli import app

MAIN = '''import "./greet.mk"

spawn greet.hello()
'''
GREET = '''task hello {
    print("%s")
}
'''


def _files(tmp_path, word="hello"):
    (tmp_path / "main.mk").write_text(MAIN)
    (tmp_path / "greet.mk").write_text(GREET % word)
    return tmp_path / "main.mk"


def _run(path, *extra):
    r = CliRunner().invoke(app, ["run", *extra, str(path)])
    return r.exit_code, r.output


def test_a_second_run_loads_the_image_and_sees_every_change(tmp_path, monkeypatch):
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    main = _files(tmp_path)
    assert _run(main) == (0, "hello\n")
    assert len(list((tmp_path / "cache" / "images").iterdir())) == 1
    assert cache.load_image(str(main)) == api.compile_file(main)
    # a change to the imported module, then to the main file
    (tmp_path / "greet.mk").write_text(GREET % "changed")
    assert cache.load_image(str(main)) is None
    assert _run(main) == (0, "changed\n")
    (tmp_path / "main.mk").write_text(MAIN + "spawn greet.hello()\n")
    assert _run(main) == (0, "changed\nchanged\n")
    assert cache.load_image(str(main)) == api.compile_file(main)


def test_no_cache_compiles_and_errors_are_never_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    main = _files(tmp_path)
    assert _run(main, "--no-cache") == (0, "hello\n")
    assert not (tmp_path / "cache" / "images").exists()
    (tmp_path / "greet.mk").write_text("task hello {\n    print(nope)\n}\n")
    for _ in range(2):
        code, out = _run(main)
        assert code == 1 and "greet.mk:2:11" in out and "nope" in out
    assert not (tmp_path / "cache" / "images").exists()


def test_a_broken_entry_is_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    main = _files(tmp_path)
    assert _run(main) == (0, "hello\n")
    (entry,) = (tmp_path / "cache" / "images").iterdir()
    entry.write_bytes(entry.read_bytes()[:-7])
    assert cache.load_image(str(main)) is None
    assert _run(main) == (0, "hello\n")


def test_a_cached_run_does_not_import_the_compiler(tmp_path):
    main = _files(tmp_path)
    script = (f"import sys; from mikro import api; p = api.load({str(main)!r}, cache=True); "
              "print('mikro.lang' in sys.modules, len(p.code) > 0)")
    env = {"MIKRO_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, check=True).stdout for _ in range(2)]
    assert runs == ["True True\n", "False True\n"]


def test_without_a_home_directory_there_is_no_cache(tmp_path, monkeypatch):
    def no_home(cls):
        raise RuntimeError("no home directory")
    monkeypatch.delenv("MIKRO_CACHE_DIR", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    main = _files(tmp_path)
    assert cache.cache_dir() is None
    assert _run(main) == (0, "hello\n")
    assert not list((tmp_path / "tmp").iterdir())       # no guessable path in the temp dir
    assert "no home directory" in cache.info().problem


def _flips(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x20]) + data[position + 1:]


def test_a_damaged_image_is_never_used(tmp_path, monkeypatch):
    """An image entry with any one byte changed, cut short or emptied is a miss: the program
    is compiled again (a flipped byte of a string once printed `heqlo`)."""
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    main = _files(tmp_path)
    assert _run(main) == (0, "hello\n")
    (entry,) = (tmp_path / "cache" / "images").iterdir()
    good = entry.read_bytes()
    compiled = api.compile_file(main)
    assert cache.load_image(str(main)) == compiled
    damaged = [_flips(good, i) for i in range(len(good))] + [good[:n] for n in
                                                             (0, 1, 40, len(good) - 1)]
    for n, data in enumerate(damaged):
        entry.write_bytes(data)
        assert cache.load_image(str(main)) is None, n
        if n % 40 == 0 or n >= len(good):
            assert _run(main) == (0, "hello\n")      # compiled again, the entry rewritten
            assert entry.read_bytes() == good


OBJECT_CHILD = """
import sys
from mikro import api, cache
from mikro.backends import x86
from mikro.backends.x86 import engine
program = api.compile('task hello { print("hello, world") }  spawn hello()')
key = engine.cache_key(program, tier="baseline")
x86.compile(program, tier="baseline")
entry = cache.usable_dir() / (key + ".o")
good = entry.read_bytes()
for spec in sys.argv[1:]:
    what, n = spec.split(":")
    n = int(n)
    entry.write_bytes(good[:n] if what == "cut" else
                      good[:n] + bytes([good[n] ^ 0x20]) + good[n + 1:])
    out = x86.compile(program, tier="baseline").run().output
    assert out == "hello, world\\n", (spec, out)
    assert cache.load_object(key) is not None, spec   # compiled again and stored
print("ok", len(sys.argv) - 1)
"""


def test_a_damaged_object_is_compiled_again_never_executed(tmp_path, monkeypatch):
    """Any changed byte of a cached object, or a cut one, is seen before the object is
    loaded. The runs happen in a child process: a damaged object that got executed would
    show as a signal, not take pytest down."""
    env = dict(os.environ, MIKRO_CACHE_DIR=str(tmp_path / "cache"))
    program = api.compile('task hello { print("hello, world") }  spawn hello()')
    key = engine.cache_key(program, tier="baseline")
    size = len(cache._seal(key + ".o", engine.object_code(program, cache=False,
                                                          tier="baseline")))
    # a sample run in the child (every position is checked in process below)
    positions = sorted({*range(0, 90, 30), *range(90, size, max(1, size // 6)), size - 1})
    specs = [f"flip:{i}" for i in positions] + [f"cut:{n}" for n in (0, 85, size // 2,
                                                                      size - 1)]
    child = subprocess.run([sys.executable, "-c", OBJECT_CHILD, *specs], env=env,
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])
    assert child.stdout == f"ok {len(specs)}\n"
    # and in process, every single position: the check refuses it before anything loads
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    entry = tmp_path / "cache" / f"{key}.o"
    good = entry.read_bytes()
    assert cache.load_object(key) == good[good.index(b"\n") + 1:]
    # in process: every byte of the seal and the start, then every 7th
    for i in sorted({*range(min(256, len(good))), *range(0, len(good), 7), len(good) - 1}):
        entry.write_bytes(_flips(good, i))
        assert cache.load_object(key) is None, i


def test_an_entry_under_another_name_is_a_miss(tmp_path, monkeypatch):
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    cache.store_object("a" * 32, b"code of a")
    os.replace(tmp_path / "cache" / ("a" * 32 + ".o"), tmp_path / "cache" / ("b" * 32 + ".o"))
    assert cache.load_object("b" * 32) is None


def test_the_cache_directory_is_made_private(tmp_path, monkeypatch):
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    old = os.umask(0)
    try:
        assert _run(_files(tmp_path)) == (0, "hello\n")
    finally:
        os.umask(old)
    d = tmp_path / "cache"
    assert (d.stat().st_mode & 0o777, (d / "images").stat().st_mode & 0o777) == (0o700, 0o700)
    assert {p.stat().st_mode & 0o777 for p in d.rglob("*") if p.is_file()} == {0o600}


def _refused(tmp_path, capfd, why):
    """A run with the cache directory refused: correct, warned once, nothing written."""
    d = tmp_path / "cache"
    main = _files(tmp_path)
    before = sorted(d.rglob("*"))
    for _ in range(2):
        assert api.run(api.load(main, cache=True)).output == "hello\n"
    err = capfd.readouterr().err
    assert err.count("warning: not using the cache directory") == 1 and why in err, err
    assert sorted(d.rglob("*")) == before
    assert not cache.info().usable and why in cache.info().problem


@pytest.mark.skipif(os.geteuid() != 0, reason="making a directory someone else's needs root")
def test_a_directory_owned_by_someone_else_is_refused(tmp_path, monkeypatch, capfd):
    d = tmp_path / "cache"
    d.mkdir(mode=0o700)
    os.chown(d, 12345, 12345)
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(d))
    _refused(tmp_path, capfd, "owned by uid 12345")


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777], ids=oct)
def test_a_directory_others_may_write_is_refused(tmp_path, monkeypatch, capfd, mode):
    d = tmp_path / "cache"
    d.mkdir()
    d.chmod(mode)
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(d))
    _refused(tmp_path, capfd, f"mode {mode:04o}")


def test_a_file_is_no_cache_directory(tmp_path, monkeypatch, capfd):
    (tmp_path / "cache").write_text("")
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(tmp_path / "cache"))
    _refused(tmp_path, capfd, "not a directory")


def test_the_cache_stays_within_its_size_and_keeps_what_is_used(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(d))
    monkeypatch.setenv("MIKRO_CACHE_MAX_MB", "1")
    blob = bytes(300_000)
    for n, key in enumerate("abc"):
        cache.store_object(key * 32, blob)
        os.utime(d / f"{key * 32}.o", (1000 + n, 1000 + n))
    assert cache.load_object("a" * 32) == blob              # a hit: used last now
    cache.store_object("d" * 32, blob)                      # 1.2 MB: the oldest goes
    assert sorted(p.name[0] for p in d.glob("*.o")) == ["a", "c", "d"]
    assert cache.info().size <= 1 << 20


def test_info_and_clear(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("MIKRO_CACHE_DIR", str(d))
    assert cache.info().problem == "it does not exist yet"
    main = _files(tmp_path)
    assert _run(main) == (0, "hello\n")
    from mikro.backends import x86
    x86.compile(api.load(main), tier="optimised")      # an object beside the image
    (d / "notes.txt").write_text("not the cache's")
    n = len([p for p in d.rglob("*") if p.suffix in (".o", ".mkc")])
    i = cache.info()
    assert n >= 2 and (i.path, i.usable, i.entries, i.limit) == (d, True, n, 256 << 20)
    assert i.size == sum(p.stat().st_size for p in d.rglob("*.[om]*") if p.is_file())
    r = CliRunner().invoke(app, ["cache"])
    assert r.exit_code == 0 and f"cache: {d}\nentries: {n}, " in r.output
    r = CliRunner().invoke(app, ["cache", "--clear"])
    assert r.exit_code == 0 and f"removed {n} entries" in r.output and "entries: 0," in r.output
    assert [p.name for p in d.rglob("*") if p.is_file()] == ["notes.txt"]
    assert _run(main) == (0, "hello\n")


def test_the_test_suite_has_its_own_cache():
    d = cache.cache_dir()
    assert d is not None and d.name.startswith("mikro-test-cache-")
