"""How many programs the generated-program tests try: a quick count in the test suite, and
thousands in a fuzz campaign (README: `MIKRO_FUZZ=deep pytest tests/test_x86_diff.py -k
generated`), which runs the same tests and checks for as long as it takes."""
from __future__ import annotations

import os

DEEP = os.environ.get("MIKRO_FUZZ") == "deep"


def examples(quick: int, deep: int = 2000) -> int:
    return deep if DEEP else quick
