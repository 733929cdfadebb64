"""Markdown tables from the JSON of `mikro bench --json` (for docs/benchmarks.md).

    python -m mikro.bench.markdown results.json > tables.md
"""
from __future__ import annotations

import json
import sys

from .report import fmt


def _stat(s: dict) -> tuple[str, str, str]:
    iqr = (s["q3"] - s["q1"]) / s["median"] if s["median"] else 0.0
    return fmt(s["median"]), f"{fmt(s['lo'])} – {fmt(s['hi'])}", f"{iqr:.0%}"


def render(data: dict) -> str:
    m = data["machine"]
    out = [f"Machine: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), {m['os']}; "
           f"Python {m['python']}; llvmlite {m['llvmlite']} (LLVM {m['llvm']}). "
           f"Mode: {data['mode']}, {data['seconds']:.0f} s in all; load average (1 min) "
           f"{m['load_1min'][0]} before, {m['load_1min'][1]} after"
           + (f"; commit {m['commit']}." if m.get("commit") else "."), ""]
    out += ["| group | benchmark | median | min – max | IQR | CPU | unit | note |",
            "|---|---|--:|--:|--:|--:|---|---|"]
    group = None
    for r in data["rows"]:
        g = r["group"] if r["group"] != group else ""
        group = r["group"]
        if "stat" in r:
            med, rng, iqr = _stat(r["stat"])
        else:
            med, rng, iqr = "-", f"unavailable: {r.get('unavailable', '')}", ""
        cpu = fmt(r["cpu"]["median"]) if "cpu" in r else ""
        out.append(f"| {g} | {r['label']} | {med} | {rng} | {iqr} | {cpu} | {r['unit']} | {r.get('note', '')} |")
    out += ["", "| curve | size | median | min – max | unit | vs first |",
            "|---|--:|--:|--:|---|--:|"]
    for c in data["curves"]:
        for i, p in enumerate(c["points"]):
            med, rng, _ = _stat(p["stat"])
            rel = f"{p['relative']:.2f}" if "relative" in p else ""
            out.append(f"| {c['title'] if i == 0 else ''} | {p['x']:,} | {med} | {rng} | "
                       f"{c['unit']} | {rel} |")
        ratio = f"**{c['ratio']:.2f}**" if c["ratio"] else "-"
        out.append(f"| | largest/smallest | | | | {ratio} |")
        if c.get("unavailable"):
            out.append(f"| | | | unavailable {c['unavailable']} | | |")
    out += ["", "| target | measured | |", "|---|--:|---|"]
    for t in data["targets"]:
        mark = {True: "met", False: "**not met**"}.get(t["met"], f"not measured: {t['why']}")
        out.append(f"| {t['label']} | {t['value']} | {mark} |")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    with open(argv[0]) as f:
        sys.stdout.write(render(json.load(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
