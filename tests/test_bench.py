"""The benchmark harness: statistics, baselines, SVG, and `mikro bench` end to end.
No timing assertions: only that each figure exists and is positive."""
from __future__ import annotations

import json
import re
import xml.dom.minidom
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mikro.bench import native, pyalt, suite
from mikro.bench.model import Curve
from mikro.bench.stats import Stat
from mikro.bench.svg import line_chart
from mikro.cli import app

# The only reason a figure may be missing from a sound install (docs/benchmarks.md): the
# machine has too little memory for a run of that many tasks (mikrorun.check_memory). Any
# other unavailable row is a broken benchmark, and fails here.
PLATFORM = re.compile(r"^[\d,]+ tasks need about [\d.]+ GiB, [\d.]+ GiB available$")


def measured(row: dict) -> bool:
    if row.get("unavailable"):
        assert PLATFORM.match(row["unavailable"]), f"{row['key']}: {row['unavailable']}"
        return False
    assert row["stat"]["median"] > 0, row["key"]
    return True


def test_stat_median_and_spread():
    s = Stat.of([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s.median, s.lo, s.hi, s.batches) == (3.0, 1.0, 5.0, 5)
    assert (s.q1, s.q3) == (2.0, 4.0)
    assert s.iqr == 2.0 and s.spread == pytest.approx(2 / 3)


def test_stat_single_and_inverse():
    s = Stat.of([4.0])
    assert s.q1 == s.q3 == s.median == 4.0 and s.spread == 0
    inv = Stat.of([1.0, 2.0, 4.0]).inverse(8.0)
    assert (inv.median, inv.lo, inv.hi) == (4.0, 2.0, 8.0)
    with pytest.raises(ValueError):
        Stat.of([])


def test_curve_ratio():
    c = Curve("k", "t", "x", "y", "ns", [(2, Stat.of([10.0])), (100, Stat.of([12.5]))])
    assert c.ratio() == pytest.approx(1.25)
    assert c.at(100).median == 12.5 and c.at(3) is None
    assert c.between(100, 2) == pytest.approx(1.25)


def test_curve_ratios_come_from_the_times_relative_to_the_first_point():
    # medians taken in different phases of the machine say 1.6; the same points timed a
    # moment after the first one say 1.05, and the targets are judged on that
    from mikro.bench.targets import evaluate
    pts = [(2, Stat.of([15.0])), (10, Stat.of([20.0])), (100_000, Stat.of([24.0]))]
    c = Curve("curve.tasks", "t", "x", "y", "ns", pts, relative={2: 1.0, 10: 0.98, 100_000: 1.05})
    assert c.between(100_000, 2) == pytest.approx(1.05)
    assert c.between(100_000, 10) == pytest.approx(1.05 / 0.98)
    assert c.ratio() == pytest.approx(1.05 / 0.98)
    flat = next(t for t in evaluate([], [c], 0) if t.label.startswith("flatness"))
    assert (flat.value, flat.met) == ("1.05", True)
    assert c.to_dict()["points"][2]["relative"] == 1.05


@pytest.mark.parametrize("fn", [native.pipe_pair, native.socket_pair, native.sysv_queue,
                                native.posix_queue, pyalt.mp_pipe])
def test_process_baselines(fn):
    out = fn(200, 2)
    assert len(out) == 2 and all(wall > 0 and cpu > 0 for wall, cpu in out)


@pytest.mark.parametrize("fn", [native.bulk_pipe, native.bulk_socketpair])
def test_bulk_baselines_move_every_byte(fn):
    out = fn(65536, 50, 2)       # a pipe holds 64 KiB: each round trip needs partial moves
    assert len(out) == 2 and all(wall > 0 and cpu > 0 for wall, cpu in out)


def test_memcpy_baseline():
    out = native.memcpy_copy(4096, 1000, 2)
    assert len(out) == 2 and all(wall > 0 and cpu > 0 for wall, cpu in out)


@pytest.mark.parametrize("fn", [native.indirect_call, pyalt.asyncio_queue, pyalt.thread_queue])
def test_in_process_baselines(fn):
    out = fn(500, 2)
    assert len(out) == 2 and all(wall > 0 and cpu > 0 for wall, cpu in out)


def test_svg_is_valid_xml():
    text = line_chart("round trip <vs> tasks", "tasks", "ns & more",
                      {"median": [(2, 5.0), (1000, 5.5), (10**6, 6.0)], "empty": []})
    doc = xml.dom.minidom.parseString(text)
    assert doc.documentElement.tagName == "svg"
    assert text.count("<polyline") == 1


def test_only_rejects_unknown_names():
    with pytest.raises(KeyError):
        suite.select("nope")
    assert [b.name for b in suite.select("pipe,indirect")] == ["indirect", "pipe"]


def test_cli_quick_json_only():
    r = CliRunner().invoke(app, ["bench", "--quick", "--json", "--only", "indirect,mikro-x86"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    keys = {row["key"]: row for row in data["rows"]}
    assert keys["rt.indirect"]["stat"]["median"] > 0 and keys["rt.indirect"]["cpu"]["median"] > 0
    assert measured(keys["rt.mikro.x86"])
    assert {t["label"] for t in data["targets"]} >= {"round trip <= 10 ns"}


def test_cli_plot(tmp_path):
    r = CliRunner().invoke(app, ["bench", "--quick", "--json", "--only", "push,indirect",
                                 "--plot", str(tmp_path)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    xml.dom.minidom.parse(str(tmp_path / "roundtrip.svg"))
    (push,) = data["curves"]
    assert push["points"] and not push.get("unavailable"), push.get("unavailable")
    xml.dom.minidom.parse(str(tmp_path / "push.svg"))


def test_bar_chart_and_markdown():
    from mikro.bench.markdown import render
    from mikro.bench.svg import bar_chart
    xml.dom.minidom.parseString(bar_chart("rt", "ns", [("mikro x86", 12.0), ("pipe pair", 4100.0)]))
    r = CliRunner().invoke(app, ["bench", "--quick", "--json", "--only", "indirect"])
    md = render(json.loads(r.stdout))
    assert "| native indirect call (the limit) |" in md and "| target |" in md


def test_missing_backend_is_reported_not_raised(monkeypatch):
    from mikro.bench import mikrorun
    from mikro.bench.run import run

    def broken(self):
        raise mikrorun.Unavailable("x86 backend missing (test)")
    monkeypatch.setattr(mikrorun.Runner, "__post_init__", broken)
    ctx, goals, _ = run(quick=True, only="mikro-x86,tasks", show=False)
    assert all(r.unavailable.startswith("x86 backend missing") for r in ctx.rows)
    assert ctx.curves[0].points == [] and "x86 backend missing" in ctx.curves[0].unavailable
    assert goals[0].met is None


def test_memory_guard_and_json_infinity():
    from mikro.bench.mikrorun import Unavailable, check_memory
    with pytest.raises(Unavailable):
        check_memory(10**12)
    check_memory(10)
    assert Stat.of([float("inf"), 1.0]).to_dict()["hi"] is None


def test_the_whole_quick_suite_runs_and_reports_every_figure():
    """The smoke test of `mikro bench --quick`: every benchmark gives a figure (or says
    why not), every target is judged or says why not. No timing is asserted."""
    r = CliRunner().invoke(app, ["bench", "--quick", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["mode"] == "quick"
    keys = {row["key"] for row in data["rows"]}
    assert keys >= {"rt.indirect", "rt.mikro.x86", "rt.mikro.interp", "rt.pipe", "rt.socketpair",
                    "rt.sysv", "rt.posixmq", "py.asyncio", "py.threads", "py.mp_pipe",
                    "spawn.total", "mem.kernel", "mem.server", "compile.mixed.interpreter",
                    "compile.mixed.baseline", "compile.straight.optimised", "startup.cached",
                    "soak.compile.start", "soak.compile.end", "soak.print.start", "soak.print.end",
                    "soak.open.start", "soak.open.end", "rt.mikro.notify",
                    "sup.mikro.restart", "sup.mikro.spawn",
                    "explore.x86", "explore.interp",
                    *(f"long.{k}.{size}" for k in ("mikro", "pipe", "socketpair", "memcpy")
                      for size in ("4k", "64k"))}
    for row in data["rows"]:
        measured(row)
    assert {c["key"] for c in data["curves"]} == {"curve.tasks", "curve.connections",
                                                  "curve.push", "curve.open", "curve.compile",
                                                  "curve.timers"}
    for c in data["curves"]:
        assert c["points"] and all(p["stat"]["median"] > 0 for p in c["points"]), c["key"]
        assert not c.get("unavailable") or PLATFORM.match(c["unavailable"]), c["unavailable"]
        if c["key"] not in ("curve.open", "curve.compile"):   # not timed against point 0
            assert all(p["relative"] > 0 for p in c["points"]), c["key"]
            assert c["points"][0]["relative"] == 1.0
    assert len(data["targets"]) == 16
    for t in data["targets"]:
        assert t["met"] in (True, False) or t["why"], t["label"]


def test_a_soak_reports_memory_at_its_start_and_end():
    """Only that the figures are there, and a gross leak (50 MiB over 20 compiles) absent."""
    from mikro.bench.soak import measure
    got = measure("compile", 20)
    assert 0 < got["start"] and 0 < got["end"] < got["start"] + 50
    got = measure("print", 0.3)
    assert got["lines"] > 0 and got["kept"] <= 1 << 20 and 0 < got["end"]


def test_unavailable_rows_fail_the_suite_unless_memory_is_short():
    with pytest.raises(AssertionError):
        measured({"key": "rt.mikro.x86", "unavailable": "x86 run ended fault: stack overflow"})
    assert not measured({"key": "curve.tasks",
                         "unavailable": "1,000,000 tasks need about 1.7 GiB, 1.2 GiB available"})


def test_the_start_up_benchmark_runs_a_program_installed_with_mikro():
    # a plain `pip install .` has no examples/ directory: the program is package data
    import mikro
    from mikro.bench.costs import hello_path
    package = Path(mikro.__file__).resolve().parent
    assert hello_path().parent == package / "bench" and hello_path().suffix == ".mk"
    assert mikro.run(mikro.load(hello_path())).output == "hello, world\n"
    pyproject = (package.parent / "pyproject.toml").read_text()
    assert '"*" = ["*.lark", "*.mk"]' in pyproject              # .mk files are package data
