"""The native baselines: JIT-compiled loops calling libc, measured in ns per round trip.

- the limit: a plain indirect call in one process;
- between two processes pinned to one core: a pipe pair, a Unix socketpair, a System V
  message queue (message types route requests and replies), two POSIX message queues.
"""
from __future__ import annotations

import ctypes
import os
import socket
import time
from typing import Callable

from . import native_ir
from .jit import Jit, libc_address
from .procpair import run_pair

_jit: Jit | None = None
_libc = ctypes.CDLL(None, use_errno=True)
I64 = ctypes.c_int64
I32 = ctypes.c_int32


def jit() -> Jit:
    global _jit
    if _jit is None:
        _jit = Jit(native_ir.module(), native_ir.LIBC)
    return _jit


def indirect_call(n: int, batches: int) -> list[tuple[float, float]]:
    """ns per call through a function pointer, (wall, CPU) per batch."""
    j = jit()
    loop = j.func("indirect_loop", I64, ctypes.c_void_p, I64)
    target = j.address("echo")
    loop(target, min(n, 100_000))       # warm up
    out = []
    for _ in range(batches):
        c0, t0 = time.thread_time(), time.perf_counter()
        r = loop(target, n)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        if r != n:
            raise RuntimeError(f"indirect call loop returned {r}, expected {n}")
        out.append((wall / n * 1e9, cpu / n * 1e9))
    return out


def timed_batches(call: Callable[[int], object], n: int, batches: int) -> list[tuple[float, float]]:
    """One warm-up batch, then `batches` timed ones: (wall, CPU of this thread) in ns per
    operation. `call(n)` does n operations and raises on a failure."""
    out = []
    for b in range(batches + 1):
        c0, t0 = time.thread_time(), time.perf_counter()
        call(n)
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        if b:
            out.append((wall / n * 1e9, cpu / n * 1e9))
    return out


def both_sides(server: list, client: list) -> list[tuple[float, float]]:
    """Per batch: the client's wall time, and the CPU time of both processes (on one core,
    together they are the cost of the round trips)."""
    return [(w, c + s[1]) for (w, c), s in zip(client, server)]


def _pair(kind: str, client_args: tuple, server_args: tuple, n: int, batches: int,
          timeout: float) -> list[tuple[float, float]]:
    j = jit()
    nargs = len(client_args)
    client = j.func(f"{kind}_client", I64, *([I32] * nargs), I64)
    server = j.func(f"{kind}_server", I64, *([I32] * nargs), I64)

    def check(r: int, k: int, who: str):
        if r != k:
            raise RuntimeError(f"{who}: round trip {-1 - r} failed (errno {ctypes.get_errno()})")

    s, c = run_pair(lambda: timed_batches(lambda k: check(server(*server_args, k), k, "server"), n, batches),
                    lambda: timed_batches(lambda k: check(client(*client_args, k), k, "client"), n, batches),
                    timeout)
    return both_sides(s, c)


def pipe_pair(n: int, batches: int, timeout: float = 60.0) -> list[tuple[float, float]]:
    a_r, a_w = os.pipe()         # client -> server
    b_r, b_w = os.pipe()         # server -> client
    try:
        return _pair("rw", (a_w, b_r), (b_w, a_r), n, batches, timeout)
    finally:
        for fd in (a_r, a_w, b_r, b_w):
            os.close(fd)


def socket_pair(n: int, batches: int, timeout: float = 60.0) -> list[tuple[float, float]]:
    c, s = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        return _pair("rw", (c.fileno(), c.fileno()), (s.fileno(), s.fileno()), n, batches, timeout)
    finally:
        c.close()
        s.close()


IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0


def sysv_queue(n: int, batches: int, timeout: float = 60.0) -> list[tuple[float, float]]:
    q = _libc.msgget(IPC_PRIVATE, IPC_CREAT | 0o600)
    if q < 0:
        raise OSError(ctypes.get_errno(), f"msgget: {os.strerror(ctypes.get_errno())}")
    try:
        return _pair("sysv", (q,), (q,), n, batches, timeout)
    finally:
        _libc.msgctl(q, IPC_RMID, None)


class _MqAttr(ctypes.Structure):
    _fields_ = [("mq_flags", ctypes.c_long), ("mq_maxmsg", ctypes.c_long),
                ("mq_msgsize", ctypes.c_long), ("mq_curmsgs", ctypes.c_long),
                ("reserved", ctypes.c_long * 4)]


def _mq_open(name: bytes) -> int:
    attr = _MqAttr(0, 1, 8, 0)
    fd = _libc.mq_open(name, ctypes.c_int(os.O_CREAT | os.O_EXCL | os.O_RDWR),
                       ctypes.c_uint(0o600), ctypes.byref(attr))
    if fd < 0:
        raise OSError(ctypes.get_errno(), f"mq_open: {os.strerror(ctypes.get_errno())}")
    return fd


def posix_queue(n: int, batches: int, timeout: float = 60.0) -> list[tuple[float, float]]:
    libc_address("mq_open")
    names = [f"/mikro-bench-{os.getpid()}-{s}".encode() for s in ("req", "rep")]
    fds: list[int] = []
    try:
        for name in names:
            _libc.mq_unlink(name)
            fds.append(_mq_open(name))
        req, rep = fds
        return _pair("mq", (req, rep), (rep, req), n, batches, timeout)
    finally:
        for fd in fds:
            _libc.mq_close(fd)
        for name in names:
            _libc.mq_unlink(name)


# -- bulk transfers: the baselines of long messages ---------------------------------------
def _bulk_pair(client_fds: tuple[int, int], server_fds: tuple[int, int], size: int, n: int,
               batches: int, timeout: float) -> list[tuple[float, float]]:
    """ns per round trip moving `size` bytes each way between two processes on one core."""
    j = jit()
    sig = (I64, I32, I32, ctypes.c_void_p, I64, I64)
    client, server = j.func("bulk_client", *sig), j.func("bulk_server", *sig)

    def side(fn, fds, who):
        buf = ctypes.create_string_buffer(size)

        def call(k: int):
            r = fn(*fds, buf, size, k)
            if r != k:
                raise RuntimeError(f"{who}: round trip {-1 - r} failed (errno {ctypes.get_errno()})")
        return lambda: timed_batches(call, n, batches)

    s, c = run_pair(side(server, server_fds, "server"), side(client, client_fds, "client"),
                    timeout)
    return both_sides(s, c)


def bulk_pipe(size: int, n: int, batches: int, timeout: float = 60.0) -> list[tuple[float, float]]:
    a_r, a_w = os.pipe()         # client -> server
    b_r, b_w = os.pipe()         # server -> client
    try:
        return _bulk_pair((a_w, b_r), (b_w, a_r), size, n, batches, timeout)
    finally:
        for fd in (a_r, a_w, b_r, b_w):
            os.close(fd)


def bulk_socketpair(size: int, n: int, batches: int,
                    timeout: float = 60.0) -> list[tuple[float, float]]:
    c, s = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        return _bulk_pair((c.fileno(), c.fileno()), (s.fileno(), s.fileno()), size, n,
                          batches, timeout)
    finally:
        c.close()
        s.close()


def memcpy_copy(size: int, n: int, batches: int) -> list[tuple[float, float]]:
    """ns per memcpy of `size` bytes between two buffers of this process (warm in cache
    as a round trip's buffers are)."""
    loop = jit().func("memcpy_loop", I64, ctypes.c_void_p, ctypes.c_void_p, I64, I64)
    a, b = ctypes.create_string_buffer(size), ctypes.create_string_buffer(size)
    return timed_batches(lambda k: loop(a, b, size, k), n, batches)
