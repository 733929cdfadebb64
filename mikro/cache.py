"""mikro's on-disk caches, under $MIKRO_CACHE_DIR (default ~/.cache/mikro): the x86
backend's object code (backends/x86/engine.py) and, here, compiled program images.

An image entry is keyed by the compiler's own source and the main file's path, and holds
the hash of every source file the program was compiled from (the main file and each module
it imports, which the import rules find at fixed places). A lookup re-hashes those files
and gives the image only if none changed, so `mikro run` of an unchanged program neither
imports nor runs the compiler. Only programs that compiled are stored: a file with errors
is compiled again every time, and its diagnostics shown.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .vm.image import ImageError, Program

_HERE = Path(__file__).resolve().parent
_TAG = b"mikro-image-cache 1\n"


def cache_dir() -> Path:
    d = os.environ.get("MIKRO_CACHE_DIR")
    if d:
        return Path(d)
    try:
        return Path.home() / ".cache" / "mikro"
    except RuntimeError:                    # no home directory to be found
        return Path(tempfile.gettempdir()) / f"mikro-cache-{os.getuid()}"


_salt: bytes | None = None


def _compiler_salt() -> bytes:
    """What else decides the image: the compiler and the VM tables it lowers to."""
    global _salt
    if _salt is None:
        h = hashlib.sha256(_TAG)
        for folder in ("lang", "vm"):
            for f in sorted((_HERE / folder).iterdir()):
                if f.suffix in (".py", ".lark"):
                    h.update(f.name.encode() + b"\0" + f.read_bytes())
        _salt = h.digest()
    return _salt


def _entry(path: str) -> Path:
    h = hashlib.sha256(_compiler_salt())
    h.update(path.encode() + b"\0" + os.path.realpath(path).encode())
    return cache_dir() / "images" / f"{h.hexdigest()[:32]}.mkc"


def _digest(real: str) -> str | None:
    try:
        return hashlib.sha256(Path(real).read_bytes()).hexdigest()
    except OSError:
        return None


def load_image(path: str) -> Program | None:
    """The cached image of the program at `path` if its sources are unchanged, else None."""
    try:
        data = _entry(path).read_bytes()
        head, _, image = data.partition(b"\n")
        deps = json.loads(head)
        if not deps or any(_digest(real) != digest for real, digest in deps):
            return None
        return Program.from_bytes(image)
    except (OSError, ValueError, TypeError, ImageError):
        return None


def store_image(path: str, program: Program, sources: dict[str, str]) -> None:
    """Remember `program`, compiled from `path` out of `sources` (real path -> the text the
    compiler read); a cache that cannot be written is skipped."""
    deps = [(real, hashlib.sha256(text.encode()).hexdigest()) for real, text in sources.items()]
    if not deps:
        return
    entry = _entry(path)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(json.dumps(deps).encode() + b"\n" + program.to_bytes())
        os.replace(tmp, entry)
    except OSError:
        pass
