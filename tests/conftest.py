"""The test suite's own cache directory: no test reads or writes the user's cache.

Set when pytest is configured, before collection, so that anything a test module does at
import, and every subprocess a test starts, sees it too.
"""
from __future__ import annotations

import os
import shutil
import tempfile

_saved: dict[str, str | None] = {}


def pytest_configure(config):
    _saved["dir"] = os.environ.get("MIKRO_CACHE_DIR")
    _saved["tmp"] = tempfile.mkdtemp(prefix="mikro-test-cache-")     # private: mode 0700
    os.environ["MIKRO_CACHE_DIR"] = _saved["tmp"]


def pytest_unconfigure(config):
    if "tmp" not in _saved:
        return
    shutil.rmtree(_saved.pop("tmp"), ignore_errors=True)
    before = _saved.pop("dir")
    if before is None:
        os.environ.pop("MIKRO_CACHE_DIR", None)
    else:
        os.environ["MIKRO_CACHE_DIR"] = before
