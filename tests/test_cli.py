"""Bad input to the `mikro` command and to the API: a clear message and the documented exit
code, never a traceback; options checked before anything runs, by the same rules in both."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mikro
from mikro.cli import app
from mikro.vm import abi
from mikro.vm.abi import EXIT_CODES
from mikro.vm.options import RunOptions

ROOT = Path(__file__).resolve().parent.parent
HELLO = str(ROOT / "examples" / "hello.mk")


def cli(*args: str):
    return CliRunner().invoke(app, list(args))


def usage_error(result, says: str) -> None:
    assert result.exit_code == EXIT_CODES["usage"], result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    text = " ".join(result.stderr.replace("│", " ").split())     # as rich boxes and wraps it
    assert says in text, result.stderr


@pytest.mark.parametrize("args, says", [
    (["run", "--mem", "99999999999999999999"], "--mem': must be a number of words from 1 to"),
    (["run", "--mem", "0"], "(got 0)"),
    (["run", "--mem", str(abi.MAX_MEM_WORDS + 1)], f"(got {abi.MAX_MEM_WORDS + 1})"),
    (["run", "--fuel", "-1"], "--fuel': must be an integer from 0"),
    (["run", "--time-limit", "nan"], "--time-limit': must be a finite number of seconds"),
    (["run", "--time-limit", "-1"], "(got -1.0)"),
    (["run", "--seed", str(1 << 64)], "--seed': must be a 64-bit integer"),
    (["run", "--backend", "mips"], "unknown backend 'mips' (expected x86 or interp)"),
    (["test", "--schedules", "0"], "--schedules': must be an integer of at least 1 (got 0)"),
    (["test", "--schedules", "-5"], "(got -5)"),
    (["trace", "--limit", "-1"], "must be at least 0"),
])
def test_bad_options_are_usage_errors_before_anything_runs(args, says, tmp_path):
    # the file does not exist: a checked option is reported first, before the file is read
    usage_error(cli(*args, str(tmp_path / "nowhere.mk")), says)


@pytest.mark.parametrize("backend", mikro.BACKENDS)
@pytest.mark.parametrize("setting, value", [
    ("mem_words", 0), ("mem_words", 10**20), ("mem_words", abi.MAX_MEM_WORDS + 1),
    ("fuel", -1), ("time_limit", math.nan), ("time_limit", -0.5), ("time_limit", math.inf),
    ("seed", 1 << 64), ("max_tasks", 0), ("fuel", 1.5), ("mem_words", True),
])
def test_the_api_refuses_the_same_values(backend, setting, value):
    program = mikro.load(HELLO)
    with pytest.raises(ValueError, match=f"^{setting} must be"):
        mikro.Kernel(program, backend=backend, **{setting: value})
    with pytest.raises(ValueError, match=f"^{setting} must be"):
        RunOptions(**{setting: value})
    options = RunOptions()
    with pytest.raises(ValueError, match=f"^{setting} must be"):
        setattr(options, setting, value)             # set later: checked all the same


@pytest.mark.parametrize("backend", mikro.BACKENDS)
def test_the_largest_memory_runs_on_both_backends(backend):
    r = mikro.run(mikro.load(HELLO), backend=backend, mem_words=abi.MAX_MEM_WORDS)
    assert (r.status, r.output) == ("clean", "hello, world\n")
    r = mikro.run(mikro.load(HELLO), backend=backend, mem_words=abi.MIN_MEM_WORDS)
    assert (r.status, r.output) == ("clean", "hello, world\n")


def test_the_largest_memory_fits_in_what_the_x86_backend_reserves():
    from mikro.backends.x86.run import ADDRESS_SPACE
    assert abi.MAX_MEM_WORDS * 8 <= ADDRESS_SPACE


def test_explore_refuses_no_schedules():
    for n in (0, -5):
        with pytest.raises(ValueError, match="^schedules must be an integer of at least 1"):
            mikro.explore(mikro.load(HELLO), n)


def test_version_and_short_help():
    r = cli("--version")
    assert (r.exit_code, r.stdout) == (0, f"mikro {mikro.__version__}\n")
    for args in (["-h"], ["run", "-h"], ["test", "-h"]):
        r = cli(*args)
        assert r.exit_code == 0 and "Usage: " in r.stdout and "--help" in r.stdout


def test_the_version_has_one_home():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in text and 'version = {attr = "mikro.__version__"}' in text


def test_a_missing_source_and_a_missing_image_give_the_same_exit_code(tmp_path):
    for name in ("missing.mk", "missing.mko"):
        r = cli("run", str(tmp_path / name))
        assert r.exit_code == EXIT_CODES["io_error"], name
        assert "cannot read" in r.stderr and "No such file or directory" in r.stderr
        assert "could not compile" not in r.stderr


def test_a_corrupt_image_is_an_image_error(tmp_path):
    good = mikro.load(ROOT / "examples" / "echo.mk").to_bytes()
    for i, data in enumerate([good[:len(good) // 2], good.replace(b"BOOT", b"BOOX"),
                              b"MIKRO\0\x01\0CODE", b"not an image"]):
        path = tmp_path / f"bad{i}.mko"
        path.write_bytes(data)
        r = cli("run", str(path))
        assert r.exit_code == EXIT_CODES["io_error"], r.output
        assert r.stderr.startswith(f"error: {path}: invalid image: ")
        assert r.exception is None or isinstance(r.exception, SystemExit)


def test_an_image_that_fails_verification_is_an_image_error(tmp_path):
    program = mikro.load(ROOT / "examples" / "echo.mk")
    program.boot[0] = type(program.boot[0])(99, ())           # no task type 99
    path = tmp_path / "unverified.mko"
    path.write_bytes(program.to_bytes())
    r = cli("run", str(path))
    assert r.exit_code == EXIT_CODES["io_error"]
    assert r.stderr == f"error: {path}: invalid image: boot entry 0: no task type 99\n"


def test_asm_for_an_unknown_target_lists_the_known_ones():
    r = cli("asm", "--target", "mips", HELLO)
    assert r.exit_code == EXIT_CODES["usage"]
    assert r.stderr == "error: unknown target 'mips' (expected x86_64, aarch64, riscv64)\n"


def test_a_huge_decimal_literal_is_a_compile_error(tmp_path):
    source = "task t { let x = " + "9" * 5000 + " }\n"
    with pytest.raises(mikro.lang.CompileError) as info:      # not Python's ValueError
        mikro.compile_source(source, "big.mk")
    (d,) = info.value.diagnostics
    assert (d.code, d.line, d.col, d.label) == ("E0401", 1, 18, "does not fit in 64 bits")
    path = tmp_path / "big.mk"
    path.write_text(source)
    r = cli("check", str(path))
    assert r.exit_code == EXIT_CODES["compile_error"]
    assert "error[E0401]: integer literal out of range" in r.stderr and "^^^" in r.stderr


def test_a_source_file_too_large_is_refused_before_it_is_parsed(tmp_path):
    from mikro.lang.modules import MAX_SOURCE
    path = tmp_path / "huge.mk"
    path.write_text("#" * (MAX_SOURCE + 1))
    r = cli("check", str(path))
    assert r.exit_code == EXIT_CODES["compile_error"]
    assert r.stderr.startswith(f"error[E0407]: the file is too large to compile (more than "
                               f"{MAX_SOURCE} bytes)\n")
    (tmp_path / "main.mk").write_text('import "./huge.mk"\n')
    r = cli("check", str(tmp_path / "main.mk"))
    assert r.exit_code == EXIT_CODES["compile_error"] and "error[E0407]" in r.stderr


def test_a_program_of_too_many_instructions_is_refused():
    # every function is some 17 VM instructions: this is more than the VM takes
    n = abi.MAX_CODE // 10
    source = "".join(f"fn f{i}(x) {{ return x + {i} }}\n" for i in range(n))
    with pytest.raises(mikro.lang.CompileError) as info:
        mikro.compile_source(source + "task t { print(f0(1)) }\nspawn t()\n", "many.mk")
    (d,) = info.value.diagnostics
    assert d.code == "E0407"
    assert d.message == f"the program is too large to compile: more than {abi.MAX_CODE} VM instructions"


def test_the_verifier_refuses_too_many_instructions():
    from mikro.vm.verify import VerifyError, verify
    program = mikro.load(HELLO)
    program.code = program.code * (abi.MAX_CODE // len(program.code) + 1)
    program.lines = program.lines * (abi.MAX_CODE // len(program.lines) + 1)
    with pytest.raises(VerifyError, match=f"more than the {abi.MAX_CODE} a program may have"):
        verify(program)


ARGS = '''
task main(a, b) { print("sum", a + b) }
task other { print("other") }
spawn other()
spawn main(1, 2)
'''


@pytest.mark.parametrize("backend", mikro.BACKENDS)
def test_program_arguments_go_to_the_boot_spawn_of_main(backend, tmp_path):
    path = tmp_path / "args.mk"
    path.write_text(ARGS)
    r = cli("run", "-b", backend, str(path))
    assert (r.exit_code, r.stdout) == (0, "other\nsum 3\n")
    r = cli("run", "-b", backend, str(path), "--", "-3", "0x10")
    assert (r.exit_code, r.stdout) == (0, "other\nsum 13\n")
    for args, says in [(["5"], "`main` takes 2 arguments, 1 given"),
                       (["x", "1"], "the program argument 'x' is not an integer"),
                       ([str(1 << 64), "1"], "does not fit in 64 bits")]:
        r = cli("run", "-b", backend, str(path), "--", *args)
        assert r.exit_code == EXIT_CODES["usage"]
        assert r.stderr.startswith("error: ") and says in r.stderr
        assert r.stdout == ""                       # nothing ran
    r = cli("run", "-b", backend, str(ROOT / "examples" / "echo.mk"), "--", "1")
    assert r.exit_code == EXIT_CODES["usage"]
    assert "has no `spawn main(...)` in its boot list" in r.stderr
