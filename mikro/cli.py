"""`mikro`: the command line, a thin typer layer over mikro.api.

Exit codes are mikro.vm.abi.EXIT_CODES: 0 clean, 1 compile error, 2 usage, 3 fault,
4 deadlock, 5 limit, 6 I/O or image error, 130 interrupted.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

from . import api
from .vm.abi import EXIT_CODES

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  help="Write, run, test and measure message-passing programs.")

FileArg = typer.Argument(..., help="A .mk source file (or a .mko image where it says so).")
# options that several commands take, declared once
BackendOpt = typer.Option(api.DEFAULT_BACKEND, "--backend", "-b",
                          help="x86 (JIT, native kernel) or interp (reference).")
SeedOpt = typer.Option(0, help="Scheduling seed: 0 is FIFO, others a reproducible shuffle.")
FuelOpt = typer.Option(None, help="Stop after this many fuel units (loop back-edges and calls).")
TimeLimitOpt = typer.Option(None, "--time-limit", help="Stop after this many seconds.")


@contextmanager
def _bad_input_exits():
    """Bad source or an unreadable file: its diagnostic, and exit with its code. (The
    compiler is imported only when needed: a cached image skips it.)"""
    try:
        yield
    except api.LoadError as e:
        sys.stderr.write(f"error: {e}\n")
        raise typer.Exit(EXIT_CODES["io_error"])
    except Exception as e:
        from .lang import CompileError
        if not isinstance(e, CompileError):
            raise
        sys.stderr.write(e.render())
        raise typer.Exit(EXIT_CODES["compile_error"])


def _load(path: Path, cache: bool = False):
    """Program from a path, or exit with the diagnostic and its code."""
    with _bad_input_exits():
        return api.load(path, cache=cache)


@app.command()
def run(file: Path = FileArg,
        backend: str = BackendOpt,
        seed: int = SeedOpt,
        fuel: Optional[int] = FuelOpt,
        time_limit: Optional[float] = TimeLimitOpt,
        mem: Optional[int] = typer.Option(None, help="Memory of each task, in 64-bit words."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Compile again, bypassing the image and object caches."),
        stats: bool = typer.Option(False, help="Print run statistics to stderr.")) -> None:
    """Run a program (.mk or .mko) and print its output; the report goes to stderr."""
    _backend_ok(backend)
    program = _load(file, cache=not no_cache)

    def echo(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    result = api.run(program, backend=backend, seed=seed, fuel=fuel, time_limit=time_limit,
                     mem_words=mem, on_output=echo, cache=not no_cache)
    sys.stdout.flush()
    sys.stderr.write(result.report(program))
    if stats:
        sys.stderr.write(f"status: {result.status}; tasks spawned: {result.tasks_spawned}; "
                         f"fuel used: {result.fuel_used}\n")
    raise typer.Exit(result.exit_code)


@app.command()
def test(files: list[Path] = typer.Argument(..., help="The .mk programs or test files."),
         schedules: int = typer.Option(100, help="How many interleavings to try per program or test."),
         first_seed: int = typer.Option(0, "--first-seed", help="The first seed (0 is FIFO)."),
         backend: str = BackendOpt,
         fuel: Optional[int] = typer.Option(None, help="Fuel limit of each run.")) -> None:
    """Run the test blocks of each file (or the program) under many schedules.

    Each `test "NAME" { ... }` block runs beside the boot list and must end clean with its
    `# expect:` output; a file without test blocks must run clean. The first failing
    schedule is printed with the seed that replays it."""
    from .explore import explore
    from .testing import collect, explain, run_test
    _backend_ok(backend)
    failed = 0
    for f in files:
        with _bad_input_exits():
            program, tests = collect(f)
        if tests:
            for t in tests:
                outcome = run_test(program, t, backend=backend, schedules=schedules,
                                   first_seed=first_seed, fuel=fuel)
                if outcome.ok:
                    sys.stdout.write(f'ok    {f}:{t.line} test "{t.name}"\n')
                    continue
                failed += 1
                sys.stdout.write(f'FAIL  {f}:{t.line} test "{t.name}"\n')
                sys.stdout.write(explain(program, outcome, backend))
                sys.stdout.write(f"replay with: mikro test --backend {backend} --schedules 1 "
                                 f"--first-seed {outcome.seed} {f}\n")
            continue
        found = explore(program, schedules, backend=backend, first_seed=first_seed, fuel=fuel)
        if found.ok:
            sys.stdout.write(f"{f}: {found.schedules} schedules, all clean\n")
            continue
        seed, result = found.failing_seed, found.result
        sys.stdout.write(f"{f}: schedule {found.schedules} of {schedules} fails "
                         f"(seed {seed}, {result.status})\n")
        sys.stdout.write(result.output)
        sys.stdout.write(result.report(program))
        sys.stdout.write(f"replay with: mikro run --backend {backend} --seed {seed} {f}\n")
        raise typer.Exit(result.exit_code)
    if failed:
        raise typer.Exit(EXIT_CODES["fault"])


def _backend_ok(backend: str) -> None:
    if backend not in api.BACKENDS:
        sys.stderr.write(f"error: unknown backend '{backend}' (expected x86 or interp)\n")
        raise typer.Exit(EXIT_CODES["usage"])


@app.command()
def trace(file: Path = FileArg,
          backend: str = BackendOpt,
          seed: int = SeedOpt,
          fuel: Optional[int] = FuelOpt,
          time_limit: Optional[float] = TimeLimitOpt,
          limit: int = typer.Option(1000, help="List at most this many events."),
          chart: int = typer.Option(200, help="Draw at most this many events in the charts."),
          out: Path = typer.Option(Path("."), "--out", "-o", help="Where to write the charts."),
          no_chart: bool = typer.Option(False, "--no-chart", help="Only list the events.")) -> None:
    """Run a program and list its IPC events; draw them as sequence charts.

    The charts are written as Mermaid text (NAME.mmd) and as an SVG picture (NAME.svg)."""
    from . import tracechart
    _backend_ok(backend)
    program = _load(file)
    result = api.run(program, backend=backend, seed=seed, fuel=fuel, time_limit=time_limit,
                     trace=True)
    listing = tracechart.format_trace(result.trace, program, limit=limit)
    sys.stdout.write(listing + "\n" if listing and not listing.endswith("\n") else listing)
    sys.stderr.write(result.output)
    sys.stderr.write(result.report(program))
    if not no_chart:
        try:
            out.mkdir(parents=True, exist_ok=True)
            for suffix, text in ((".mmd", tracechart.mermaid(result.trace, program, limit=chart)),
                                 (".svg", tracechart.svg(result.trace, program, limit=chart))):
                path = out / (file.stem + suffix)
                path.write_text(text)
                sys.stderr.write(f"wrote {path}\n")
        except OSError as e:
            sys.stderr.write(f"error: cannot write the charts: {e.strerror or e}\n")
            raise typer.Exit(EXIT_CODES["io_error"])
    raise typer.Exit(result.exit_code)


@app.command()
def check(files: list[Path] = typer.Argument(..., help="The .mk files to check.")) -> None:
    """Compile without running: report every diagnostic."""
    for f in files:
        _load(f)
    sys.stderr.write(f"ok: {len(files)} file{'s' if len(files) != 1 else ''} checked\n")


@app.command()
def build(file: Path = FileArg,
          output: Optional[Path] = typer.Option(None, "-o", "--output", help="The .mko image to write.")) -> None:
    """Compile a .mk file to a .mko image that `mikro run` takes."""
    program = _load(file)
    out = output or file.with_suffix(".mko")
    try:
        out.write_bytes(program.to_bytes())
    except OSError as e:
        sys.stderr.write(f"error: cannot write {out}: {e.strerror or e}\n")
        raise typer.Exit(EXIT_CODES["io_error"])


@app.command()
def dis(file: Path = FileArg) -> None:
    """Show the VM code of a program, interleaved with its source lines."""
    from .vm.asm import disassemble
    sys.stdout.write(disassemble(_load(file)))


@app.command()
def ir(file: Path = FileArg) -> None:
    """Show the LLVM IR the x86 backend generates for a program."""
    from .backends import x86
    sys.stdout.write(x86.inspect_ir(_load(file)))


@app.command()
def asm(file: Path = FileArg,
        target: str = typer.Option("x86_64", help="x86_64, aarch64 or riscv64.")) -> None:
    """Show the machine code for a program (for another ISA with --target)."""
    from .backends import x86
    sys.stdout.write(x86.inspect_asm(_load(file), target=target))


@app.command()
def bench(quick: bool = typer.Option(False, "--quick", help="A smoke run: under a minute."),
          as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
          plot: Optional[Path] = typer.Option(None, "--plot", help="Write SVG curves to this directory."),
          only: Optional[str] = typer.Option(None, "--only", help="Comma-separated benchmark names.")) -> None:
    """Measure IPC against pipes, sockets, message queues and Python's own queues."""
    from .bench.run import main as bench_main
    raise typer.Exit(bench_main(quick=quick, as_json=as_json, plot=plot, only=only))


@app.command()
def cache(clear: bool = typer.Option(False, "--clear", help="Remove every entry.")) -> None:
    """Show where the image and object caches are and what they hold (or empty them)."""
    from . import cache as caches
    if clear:
        sys.stdout.write(f"removed {caches.clear()} entries\n")
    i = caches.info()
    size = f"{i.size / 2**20:.1f} MiB" if i.size >= 2**20 else f"{i.size / 2**10:.0f} KiB"
    sys.stdout.write(f"cache: {i.path or '-'}{f' (not used: {i.problem})' if i.problem else ''}\n"
                     f"entries: {i.entries}, {size} of at most {i.limit / 2**20:g} MiB "
                     f"(${caches.MAX_ENV})\n")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_CODES["interrupted"])


if __name__ == "__main__":
    main()
