"""The image cache of `mikro run` (mikro.cache): an unchanged program is not compiled again,
and a change to any of its source files, the main one or a module it imports, is seen."""
from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from mikro import api, cache
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


def test_without_a_home_directory_the_cache_goes_to_the_temp_dir(tmp_path, monkeypatch):
    import os
    import tempfile
    from pathlib import Path

    def no_home(cls):
        raise RuntimeError("no home directory")
    monkeypatch.delenv("MIKRO_CACHE_DIR", raising=False)
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    main = _files(tmp_path)
    assert _run(main) == (0, "hello\n")
    assert cache.cache_dir() == tmp_path / "tmp" / f"mikro-cache-{os.getuid()}"
    assert list((cache.cache_dir() / "images").iterdir())
