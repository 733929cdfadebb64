"""`mikro`: the command line, a thin typer layer over mikro.api.

Exit codes are mikro.vm.abi.EXIT_CODES: 0 clean, 1 compile error, 2 usage, 3 fault,
4 deadlock, 5 limit, 6 I/O or image error, 7 a test failed, 130 interrupted. Options are
checked before anything runs, by the same rules as the API (mikro.vm.options).
"""
from __future__ import annotations

import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

import typer

from . import __version__, api
from .vm import options
from .vm.abi import EXIT_CODES

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="rich",
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Write, run, test and measure message-passing programs.")


def _checked(name: str):
    """A typer callback that lets through only the values the run setting `name` allows
    (None: the option was not given)."""
    def callback(value):
        why = None if value is None else options.problem(name, value)
        if why is not None:
            raise typer.BadParameter(why)
        return value
    return callback


def _backend_ok(value: str) -> str:
    if value not in api.BACKENDS:
        raise typer.BadParameter(f"unknown backend {value!r} (expected {' or '.join(api.BACKENDS)})")
    return value


def _at_least(low: int):
    def callback(value: int) -> int:
        if value < low:
            raise typer.BadParameter(f"must be at least {low} (got {value})")
        return value
    return callback


def _strategy_ok(value: str) -> str:
    from .strategies import STRATEGIES
    if value not in STRATEGIES:
        raise typer.BadParameter(f"unknown strategy {value!r} (expected one of "
                                 f"{', '.join(STRATEGIES)})")
    return value


def _between(low: int, high: Optional[int]):
    def callback(value: Optional[int]) -> Optional[int]:
        if value is not None and (value < low or (high is not None and value > high)):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise typer.BadParameter(f"must be {span} (got {value})")
        return value
    return callback


FileArg = typer.Argument(..., help="A .mk source file (or a .mko image where it says so).")
# options that several commands take, declared once
BackendOpt = typer.Option(api.DEFAULT_BACKEND, "--backend", "-b", callback=_backend_ok,
                          help="x86 (JIT, native kernel) or interp (reference).")
SeedOpt = typer.Option(0, callback=_checked("seed"),
                       help="Scheduling seed: 0 is FIFO, others a reproducible shuffle.")
FuelOpt = typer.Option(None, callback=_checked("fuel"),
                       help="Stop after this many fuel units (loop back-edges and calls).")
TimeLimitOpt = typer.Option(None, "--time-limit", callback=_checked("time_limit"),
                            help="Stop after this many seconds.")


def _schedule_ok(value: Optional[str]) -> Optional[str]:
    if value is not None:
        from .vm.schedule import ScheduleError, parse
        try:
            parse(value)
        except ScheduleError as e:
            raise typer.BadParameter(str(e))
    return value


ScheduleOpt = typer.Option(None, "--schedule", callback=_schedule_ok,
                           help="Replay this schedule (`@...`, as a failing `mikro test` "
                                "prints it) instead of a seed.")


def _misfit_exits(result) -> None:
    """A schedule that did not fit the program's run: say why, exit with the usage code."""
    if result.misfit:
        sys.stderr.write(f"error: {result.misfit}\n")
        raise typer.Exit(EXIT_CODES["usage"])


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"mikro {__version__}\n")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", "-V", is_eager=True,
                                          callback=_version, help="Print the version and exit.")) -> None:
    pass


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
        from .lang import CompileError, SourceReadError
        if not isinstance(e, CompileError):
            raise
        sys.stderr.write(e.render())
        # a file that cannot be read is the same error whether it is a .mk or a .mko
        raise typer.Exit(EXIT_CODES["io_error" if isinstance(e, SourceReadError)
                                    else "compile_error"])


def _load(path: Path, cache: bool = False):
    """Program from a path, or exit with the diagnostic and its code."""
    with _bad_input_exits():
        return api.load(path, cache=cache)


@app.command()
def run(file: Path = FileArg,
        args: Optional[list[str]] = typer.Argument(
            None, metavar="[-- ARGS]...", show_default=False,
            help="Integers for the boot `spawn main(...)`, in place of the arguments it lists."),
        backend: str = BackendOpt,
        seed: int = SeedOpt,
        schedule: Optional[str] = ScheduleOpt,
        fuel: Optional[int] = FuelOpt,
        time_limit: Optional[float] = TimeLimitOpt,
        mem: Optional[int] = typer.Option(None, callback=_checked("mem_words"),
                                          help="Memory of each task, in 64-bit words."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Compile again, bypassing the image and object caches."),
        stats: bool = typer.Option(False, help="Print run statistics to stderr.")) -> None:
    """Run a program (.mk or .mko) and print its output; the report goes to stderr."""
    program = _load(file, cache=not no_cache)
    main_args = _main_args(program, file, args) if args else None

    def echo(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    with api.Kernel(program, backend=backend, seed=seed, fuel=fuel, time_limit=time_limit,
                    mem_words=mem, on_output=echo, cache=not no_cache,
                    boot=main_args is None, schedule=schedule) as k:
        if main_args is not None:               # the boot list, with main's arguments replaced
            for b in program.boot:
                name = program.tasks[b.task].name
                k.spawn(name, *(main_args if name == "main" else b.args))
        result = k.run()
    sys.stdout.flush()
    _misfit_exits(result)
    sys.stderr.write(result.report(program))
    if stats:
        sys.stderr.write(f"status: {result.status}; tasks spawned: {result.tasks_spawned}; "
                         f"fuel used: {result.fuel_used}\n")
    raise typer.Exit(result.exit_code)


def _main_args(program, file: Path, args: list[str]) -> list[int]:
    """The program arguments, integers for the boot `spawn main(...)`; or exit (usage)."""
    def usage(message: str) -> typer.Exit:
        sys.stderr.write(f"error: {message}\n")
        return typer.Exit(EXIT_CODES["usage"])
    values = []
    for a in args:
        try:
            v = int(a, 0)
        except ValueError:
            raise usage(f"the program argument {a!r} is not an integer") from None
        if options.problem("seed", v) is not None:      # the seed's range: a 64-bit word
            raise usage(f"the program argument {a} does not fit in 64 bits")
        values.append(v)
    mains = [b for b in program.boot if program.tasks[b.task].name == "main"]
    if not mains:
        raise usage(f"{file} has no `spawn main(...)` in its boot list to take the program "
                    f"arguments")
    nparams = program.tasks[mains[0].task].nparams
    if len(values) != nparams:
        raise usage(f"`main` takes {nparams} argument{'s' if nparams != 1 else ''}, "
                    f"{len(values)} given")
    return values


@app.command()
def test(files: list[Path] = typer.Argument(
            ..., help="The .mk programs or test files; FILE::NAME for the test NAME alone."),
         keyword: Optional[str] = typer.Option(
             None, "-k", help="Only the tests whose name holds this text (in any case); a "
                              "file without tests is named by its path."),
         schedules: int = typer.Option(100, callback=_checked("schedules"),
                                       help="How many interleavings to try per program or test."),
         first_seed: int = typer.Option(0, "--first-seed", callback=_checked("seed"),
                                        help="The first seed (0 is FIFO) of seeds, random "
                                             "and pct."),
         strategy: str = typer.Option("portfolio", "--strategy", "-s", callback=_strategy_ok,
                                      help="portfolio (the default: a mix that needs no "
                                           "choice), seeds, random, pct, preempt or "
                                           "exhaustive (docs/testing.md)."),
         depth: int = typer.Option(3, callback=_between(1, 64),
                                   help="pct: the bug depth it aims at."),
         bound: Optional[int] = typer.Option(None, callback=_between(0, None),
                                             help="preempt: at most this many preemptions "
                                                  "(default: level after level)."),
         schedule: Optional[str] = ScheduleOpt,
         backend: str = BackendOpt,
         fuel: Optional[int] = typer.Option(None, callback=_checked("fuel"),
                                            help="Fuel limit of each run."),
         jobs: int = typer.Option(1, "--jobs", "-j", callback=_checked("jobs"),
                                  help="Processes to spread the schedules over (at most "
                                       "the cores); the result is that of one.")) -> None:
    """Run the test blocks of each file (or the program) under many schedules.

    A `test "NAME" { ... }` block runs beside the boot list; it passes when its task ends
    normally (returns, or exits 0), the run ends clean and it printed its `# expect:`
    lines. A file without test blocks must run clean. A failure prints its schedule,
    shrunk, and the command that replays it alone; the last line is `N passed, N failed`;
    the exit code is 0 only when all passed."""
    from .explore import explore
    from .testing import collect, explain, run_test
    from .vm.schedule import ScheduleError
    passed = failed = 0
    limits = f" --fuel {fuel}" if fuel is not None else ""
    how: dict[str, Any] = dict(strategy=strategy, schedule=schedule)
    explore_opts: dict[str, Any] = dict(depth=depth, bound=bound) if schedule is None else {}

    def selected(name: str) -> bool:
        return keyword is None or keyword.lower() in name.lower()
    for arg in files:
        f, _, only = str(arg).partition("::")
        with _bad_input_exits():
            program, tests = collect(f)
        if only:
            tests = [t for t in tests if t.name == only]
            if not tests:
                sys.stderr.write(f"error: {f} has no test named {only!r}\n")
                raise typer.Exit(EXIT_CODES["usage"])
        try:
            if tests:
                for t in tests:
                    if not selected(t.name):
                        continue
                    outcome = run_test(program, t, backend=backend, schedules=schedules,
                                       first_seed=first_seed, fuel=fuel, jobs=jobs, **how)
                    if outcome.ok:
                        passed += 1
                        sys.stdout.write(f'ok    {f}:{t.line} test "{t.name}"\n')
                        continue
                    failed += 1
                    sys.stdout.write(f'FAIL  {f}:{t.line} test "{t.name}"\n')
                    sys.stdout.write(explain(program, outcome, backend))
                    found = outcome.exploration
                    if found is not None and found.strategy != "seeds":
                        sys.stdout.write(f"explored {found.summary()}\n")
                        replay = f"--schedule {outcome.result.schedule}"
                    else:
                        replay = (f"--strategy seeds --schedules 1 "
                                  f"--first-seed {outcome.seed}")
                    sys.stdout.write(f"replay with: mikro test --backend {backend} "
                                     f"{replay}{limits} {shlex.quote(f'{f}::{t.name}')}\n")
                continue
            if not selected(f):
                continue
            found = explore(program, schedules, backend=backend, first_seed=first_seed,
                            fuel=fuel, jobs=jobs, **how, **explore_opts)
        except ScheduleError as e:
            sys.stderr.write(f"error: {f}: {e}\n")
            raise typer.Exit(EXIT_CODES["usage"])
        if found.ok:
            passed += 1
            sys.stdout.write(f"ok    {f}: {found.summary()}, all clean\n")
            continue
        failed += 1
        sys.stdout.write(_failure(program, f, found, schedules, backend, limits))
    sys.stdout.write(f"{passed} passed, {failed} failed\n")
    if not passed + failed:
        sys.stderr.write(f"error: no test name holds {keyword!r}\n")
        raise typer.Exit(EXIT_CODES["usage"])
    raise typer.Exit(EXIT_CODES["test_failed"] if failed else 0)


@app.command()
def trace(file: Path = FileArg,
          backend: str = BackendOpt,
          seed: int = SeedOpt,
          schedule: Optional[str] = ScheduleOpt,
          fuel: Optional[int] = FuelOpt,
          time_limit: Optional[float] = TimeLimitOpt,
          limit: int = typer.Option(1000, callback=_at_least(0),
                                    help="List at most this many events."),
          chart: int = typer.Option(200, callback=_at_least(0),
                                    help="Draw at most this many events in the charts."),
          out: Path = typer.Option(Path("."), "--out", "-o", help="Where to write the charts."),
          no_chart: bool = typer.Option(False, "--no-chart", help="Only list the events.")) -> None:
    """Run a program and list its IPC events; draw them as sequence charts.

    The listing goes to stdout; the program's output and the report go to stderr. The
    charts are written as Mermaid text (NAME.mmd), an SVG picture (NAME.svg) and Chrome
    trace-event JSON of the whole run (NAME.trace.json: open it in Perfetto or
    chrome://tracing)."""
    from . import tracechart
    from .explore import decision_marks, interleaving
    program = _load(file)
    with api.Kernel(program, backend=backend, seed=seed, fuel=fuel, time_limit=time_limit,
                    trace=True, schedule=schedule) as k:
        result = k.run()
    _misfit_exits(result)
    listing = tracechart.format_trace(result.trace, program, limit=limit) if schedule is None \
        else "\n".join(interleaving(program, result).splitlines()[:limit])
    sys.stdout.write(listing + "\n" if listing and not listing.endswith("\n") else listing)
    sys.stderr.write(result.output)
    sys.stderr.write(result.report(program))
    if not no_chart:
        try:
            out.mkdir(parents=True, exist_ok=True)
            marks = decision_marks(result, tracechart.task_names(result.trace, program))
            for suffix, text in ((".mmd", tracechart.mermaid(result.trace, program, limit=chart,
                                                             marks=marks)),
                                 (".svg", tracechart.svg(result.trace, program, limit=chart)),
                                 (".trace.json", tracechart.chrome(result.trace, program))):
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


ProgramOnly = typer.Option(False, "--program", "-p",
                           help="Only the program's own code, not the kernel's.")


@app.command()
def ir(file: Path = FileArg, program_only: bool = ProgramOnly) -> None:
    """Show the LLVM IR the x86 backend generates for a program."""
    from .backends import x86
    sys.stdout.write(x86.inspect_ir(_load(file), program_only=program_only))


@app.command()
def asm(file: Path = FileArg,
        target: str = typer.Option("x86_64", help="x86_64, aarch64 or riscv64."),
        program_only: bool = ProgramOnly) -> None:
    """Show the machine code for a program (for another ISA with --target)."""
    from .backends import x86
    program = _load(file)
    try:
        text = x86.inspect_asm(program, target=target, program_only=program_only)
    except ValueError as e:          # an unknown target; the message lists the known ones
        sys.stderr.write(f"error: {e}\n")
        raise typer.Exit(EXIT_CODES["usage"])
    sys.stdout.write(text)


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


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


PLANNED_FUEL = 10_000_000     # mikro.explore.PLANNED_FUEL, without importing explore


def _failure(program, f: str, found, schedules: int, backend: str, limits: str) -> str:
    """What `mikro test` prints for a program that failed under some schedule."""
    result = found.result
    out = []
    if found.strategy == "seeds":
        out.append(f"FAIL  {f}: schedule {found.schedules} of {schedules} fails "
                   f"(seed {found.failing_seed}, {result.status})\n")
        replay = f"--seed {found.failing_seed}"
    else:
        out.append(f"FAIL  {f}: schedule {found.schedules} of {schedules} fails "
                   f"({found.strategy}, {result.status})\n")
        replay = f"--schedule {found.schedule}"
    if result.status == "limit" and not limits:
        limits = f" --fuel {PLANNED_FUEL}"        # the limit that ended the failing run
    out += [result.output, result.report(program), f"explored {found.summary()}\n"]
    if found.strategy != "seeds":
        out.append(_shrunk(program, found, backend))
    out.append(f"replay with: mikro run --backend {backend} {replay}{limits} "
               f"{shlex.quote(f)}\n")
    return "".join(out)


def _shrunk(program, found, backend: str) -> str:
    """The failing schedule, how it was shrunk, and its interleaving with the preemptions
    marked (a traced replay)."""
    from .explore import interleaving
    from .vm.schedule import parse
    result = found.result
    switches = sum(1 for d in result.decisions if d.switch)
    text = (f"schedule {found.schedule}: {switches} preemption{'s' if switches != 1 else ''}"
            f", {_count(sum(1 for v in parse(found.schedule) if v), 'decision')} set"
            f" (shrunk from {found.found_schedule} in {_count(found.shrink_runs, 'run')})\n")
    # the same run: one that a limit ended stops at the same point
    fuel = result.fuel_used + (0 if result.status == "limit" else 1)
    with api.Kernel(program, backend=backend, trace=True, schedule=found.schedule,
                    fuel=fuel) as k:
        replay = k.run()
    lines = interleaving(program, replay).splitlines()
    shown = lines[-40:]
    text += f"interleaving ({'last 40 lines of ' if len(lines) > 40 else ''}the replay):\n"
    return text + "".join(f"  {line}\n" for line in shown)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_CODES["interrupted"])


if __name__ == "__main__":
    main()
