"""Put the results of one `mikro bench --json` run into docs/benchmarks.md, and its plots
into docs/benchmarks/:

    mikro bench --json > run.json
    python benchmarks/update_docs.py run.json
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mikro.bench.markdown import render
from mikro.bench.report import write_plots

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
PLOTS = DOC.with_suffix("")           # docs/benchmarks/
BLOCK = re.compile(r"(<!-- results -->\n).*?(<!-- /results -->)", re.S)


def main(argv: list[str]) -> int:
    data = json.loads(Path(argv[0]).read_text())
    text = DOC.read_text()
    if not BLOCK.search(text):
        sys.stderr.write(f"error: {DOC} has no <!-- results --> block\n")
        return 1
    DOC.write_text(BLOCK.sub(lambda m: m.group(1) + render(data) + m.group(2), text))
    write_plots(PLOTS, data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
