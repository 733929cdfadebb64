"""The native memory of a run: its task structures, task memory, free list, ready ring and
the table of task indexes (Kernel.idmap).

Each is a large reservation (address space only: pages come when touched). Reserving and
unmapping four of them cost more than a whole run of a small program, which an
exploration makes thousands of times; so a closed run's arena is cleaned where the run
used it and kept for the next run of the same shape.
"""
from __future__ import annotations

import ctypes
import mmap
import threading
from dataclasses import dataclass, field

from ...vm import abi

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_MAP_NORESERVE = 0x4000
_MAP_FAILED = ctypes.c_void_p(-1).value
_MADV_DONTNEED = 4           # private anonymous pages read as zero again
KEPT = 4                     # arenas kept per shape


def reserve(size: int) -> int:
    addr = _libc.mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE,
                      mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | _MAP_NORESERVE, -1, 0)
    if addr in (None, _MAP_FAILED):
        raise MemoryError(f"cannot reserve {size} bytes of address space")
    return addr


@dataclass
class Arena:
    """Room for `cap` task slots, of which at most `alive` hold a task at once."""
    task_bytes: int
    mem_bytes: int
    cap: int = 0
    alive: int = 0
    ring: int = 0                # entries reserved for the ready queue's ring
    tasks: int = 0
    mem: int = 0
    free: int = 0
    ready: int = 0
    idmap: int = 0               # a task index's slot (Kernel.idmap), for idmap_cap indexes
    idmap_cap: int = 0
    xlog: int = 0                # a planned run's decision log, reserved on first need
    key: tuple[int, int, int] = (0, 0, 0)     # what take() was asked for
    maps: list[tuple[int, int]] = field(default_factory=list)

    def map(self, size: int) -> int:
        addr = reserve(size)
        self.maps.append((addr, size))
        return addr

    def plan_log(self, size: int) -> int:
        if not self.xlog:
            self.xlog = self.map(size)
        return self.xlog

    def unmap(self) -> None:
        for addr, size in self.maps:
            _libc.munmap(addr, size)
        self.maps.clear()


_kept: dict[tuple[int, int, int], list[Arena]] = {}
_lock = threading.Lock()


def take(task_bytes: int, mem_bytes: int, alive: int) -> Arena:
    """An arena for up to `alive` tasks alive at once, all zero; fewer where the system
    refuses to reserve that much address space."""
    key = (task_bytes, mem_bytes, alive)
    with _lock:
        kept = _kept.get(key)
        if kept:
            return kept.pop()
    a = Arena(task_bytes, mem_bytes, key=key)
    while True:
        a.cap = max(1, alive)
        try:
            a.tasks = a.map(a.cap * task_bytes)
            a.mem = a.map(a.cap * mem_bytes)
            break
        except MemoryError:
            a.unmap()
            if alive <= 1:
                raise
            alive //= 2
    a.alive = alive
    a.ring = 1
    while a.ring < alive + 1:
        a.ring <<= 1
    a.free = a.map(a.cap * 8)
    a.ready = a.map(a.ring * 8)          # the ring grows into it (kernel_ir)
    a.idmap, a.idmap_cap = _reserve_idmap(a)
    return a


def _reserve_idmap(a: Arena) -> tuple[int, int]:
    """Kernel.idmap: a slot per task index (8 bytes per task started, lazily mapped), for
    TID_INDEX_MAX tasks, or fewer where the system refuses that address space."""
    n = abi.TID_INDEX_MAX + 1
    while True:
        try:
            return a.map(n * 8), n - 1
        except MemoryError:
            if n <= 1 << 16:
                raise
            n //= 2


def give_back(a: Arena, slots_used: int, tasks_started: int, log_words: int) -> None:
    """Keep a closed run's arena for the next run: the task structures and the memory of
    the `slots_used` slots it touched, the idmap of the tasks it started and the
    `log_words` of its decision log become zero again (the free list and the ring are read
    only where a run wrote them first). Unmapped when enough are kept."""
    ctypes.memset(a.tasks, 0, slots_used * a.task_bytes)
    _libc.madvise(a.mem, slots_used * a.mem_bytes, _MADV_DONTNEED)
    _libc.madvise(a.idmap, (tasks_started + 1) * 8, _MADV_DONTNEED)
    if log_words:
        _libc.madvise(a.xlog, log_words * 8, _MADV_DONTNEED)
    with _lock:
        kept = _kept.setdefault(a.key, [])
        if len(kept) < KEPT:
            kept.append(a)
            return
    a.unmap()
