"""mikro's on-disk caches, under $MIKRO_CACHE_DIR (default ~/.cache/mikro): the x86
backend's object code (`KEY.o`, written for backends/x86/engine.py) and compiled program
images (`images/KEY.mkc`).

Whoever can write a cache entry chooses the code a later run executes, so the directory
is used only when it is private to this user:
- it is created with mode 0700; an existing one must be a directory owned by this user and
  not writable by its group or others, else it is not used at all (a warning on stderr,
  once per process) and runs compile everything, as with `--no-cache`;
- without $MIKRO_CACHE_DIR and without a home directory there is no cache: no shared
  fallback path another user could create first;
- every entry is sealed with the sha256 of its name and contents and checked before it is
  used: a truncated, empty or altered entry is a miss, compiled again and overwritten;
- the entries are bounded in size ($MIKRO_CACHE_MAX_MB, default 256 MiB): a write evicts
  the entries used least recently (by mtime, which a hit refreshes) beyond it.
`info()` and `clear()` show and empty the cache (`mikro cache`).

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
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .vm.image import ImageError, Program

_HERE = Path(__file__).resolve().parent
_TAG = b"mikro-image-cache 1\n"

DIR_ENV = "MIKRO_CACHE_DIR"
MAX_ENV = "MIKRO_CACHE_MAX_MB"
DEFAULT_MAX_MB = 256
# an entry is SEAL, the hex sha256 of its file name and payload, a newline, the payload
_SEAL = b"mikro-cache sha256 "
_SEALED_HEAD = len(_SEAL) + 64 + 1
# what the cache holds (entries, and the temporary files of writes under way)
_PATTERNS = ("*.o", "images/*.mkc", ".tmp-*", "images/.tmp-*")


def cache_dir() -> Path | None:
    """Where the caches are: $MIKRO_CACHE_DIR, else ~/.cache/mikro; None when neither can
    be found (no home directory). Whether it may be used is `usable_dir`'s question."""
    d = os.environ.get(DIR_ENV)
    if d:
        return Path(d)
    try:
        return Path.home() / ".cache" / "mikro"
    except RuntimeError:                    # no home directory: no cache rather than a
        return None                         # guessable path in a shared temp dir


def refusal(d: Path) -> str | None:
    """Why the existing directory `d` must not be used as a cache (None: it may be)."""
    st = d.stat()
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if st.st_uid != os.geteuid():
        return f"it is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"other users may write to it (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


_warned: set[str] = set()


def usable_dir(create: bool = False) -> Path | None:
    """The cache directory if it may be used (made, private, when `create`), else None: it
    is missing, cannot be made, or is refused (then a warning, once per process)."""
    d = cache_dir()
    if d is None:
        return None
    try:
        if create:
            d.parent.mkdir(parents=True, exist_ok=True)
            try:
                d.mkdir(mode=0o700)
            except FileExistsError:
                pass
        why = refusal(d)
    except OSError:
        return None
    if why is None:
        return d
    if str(d) not in _warned:
        _warned.add(str(d))
        sys.stderr.write(f"mikro: warning: not using the cache directory {d}: {why}; running "
                         f"without a cache (set {DIR_ENV} to a directory of your own)\n")
    return None


def max_bytes() -> int:
    """The size the entries are kept within: $MIKRO_CACHE_MAX_MB MiB (default 256)."""
    try:
        mb = int(os.environ.get(MAX_ENV, DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    return max(mb, 0) << 20


def _seal(name: str, payload: bytes) -> bytes:
    return _SEAL + _digest(name, payload).encode() + b"\n" + payload


def _digest(name: str, payload: bytes) -> str:
    return hashlib.sha256(name.encode() + b"\0" + payload).hexdigest()


def _read(relative: str) -> bytes | None:
    """The payload of entry `relative` if it is there and intact, else None (a miss)."""
    d = usable_dir()
    if d is None:
        return None
    path = d / relative
    try:
        data = path.read_bytes()
    except OSError:
        return None
    payload = data[_SEALED_HEAD:]
    if (not data.startswith(_SEAL) or data[_SEALED_HEAD - 1:_SEALED_HEAD] != b"\n"
            or data[len(_SEAL):_SEALED_HEAD - 1] != _digest(path.name, payload).encode()):
        return None
    try:
        os.utime(path)                      # recently used: evicted last
    except OSError:
        pass
    return payload


def _write(relative: str, payload: bytes) -> None:
    """Store entry `relative` (whole or not at all), then keep the cache within its size;
    a cache that cannot be written is skipped."""
    d = usable_dir(create=True)
    if d is None:
        return
    path = d / relative
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_seal(path.name, payload))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return
    _evict(d, max_bytes())


def _entries(d: Path) -> list[tuple[float, int, Path]]:
    """(mtime, size, path) of every file the cache holds."""
    out = []
    for pattern in _PATTERNS:
        for p in d.glob(pattern):
            try:
                st = p.lstat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                out.append((st.st_mtime, st.st_size, p))
    return out


def _evict(d: Path, limit: int) -> None:
    entries = sorted(_entries(d))
    total = sum(size for _, size, _ in entries)
    for _, size, p in entries:
        if total <= limit:
            break
        try:
            p.unlink()
            total -= size
        except OSError:
            pass


def load_object(key: str) -> bytes | None:
    """The x86 object code cached under `key`, if intact."""
    return _read(f"{key}.o")


def store_object(key: str, obj: bytes) -> None:
    _write(f"{key}.o", obj)


@dataclass
class CacheInfo:
    path: Path | None        # where the cache is (None: no home directory, no cache)
    usable: bool             # False: missing, or refused (`problem` says why)
    problem: str
    entries: int
    size: int                # bytes
    limit: int               # bytes the entries are kept within


def info() -> CacheInfo:
    """Where the cache is, whether it is used, and what it holds."""
    d = cache_dir()
    problem = ""
    entries: list = []
    if d is None:
        problem = f"no home directory and no ${DIR_ENV}"
    else:
        try:
            problem = refusal(d) or ""
        except FileNotFoundError:
            problem = "it does not exist yet"
        except OSError as e:
            problem = f"it cannot be read: {e.strerror or e}"
        if not problem:
            entries = _entries(d)
    return CacheInfo(d, d is not None and not problem, problem, len(entries),
                     sum(size for _, size, _ in entries), max_bytes())


def clear() -> int:
    """Remove every entry of a usable cache; how many files were removed."""
    d = usable_dir()
    removed = 0
    for _, _, p in _entries(d) if d is not None else ():
        try:
            p.unlink()
            removed += 1
        except OSError:
            pass
    return removed


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


def _entry(path: str) -> str:
    h = hashlib.sha256(_compiler_salt())
    h.update(path.encode() + b"\0" + os.path.realpath(path).encode())
    return f"images/{h.hexdigest()[:32]}.mkc"


def _source_digest(real: str) -> str | None:
    try:
        return hashlib.sha256(Path(real).read_bytes()).hexdigest()
    except OSError:
        return None


def load_image(path: str) -> Program | None:
    """The cached image of the program at `path` if its sources are unchanged, else None."""
    data = _read(_entry(path))
    if data is None:
        return None
    try:
        head, _, image = data.partition(b"\n")
        deps = json.loads(head)
        if not deps or any(_source_digest(real) != digest for real, digest in deps):
            return None
        return Program.from_bytes(image)
    except (ValueError, TypeError, ImageError):
        return None


def store_image(path: str, program: Program, sources: dict[str, str]) -> None:
    """Remember `program`, compiled from `path` out of `sources` (real path -> the text the
    compiler read); a cache that cannot be written is skipped."""
    deps = [(real, hashlib.sha256(text.encode()).hexdigest()) for real, text in sources.items()]
    if deps:
        _write(_entry(path), json.dumps(deps).encode() + b"\n" + program.to_bytes())
