"""What a Python user would pick instead: ns per request/reply round trip, (wall, CPU)
per batch.

asyncio.Queue between two coroutines, queue.Queue between two threads, and
multiprocessing.Pipe between two processes (forked and pinned to one core, as the native
process baselines are). Every wait is bounded.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import queue
import threading
import time

from .native import both_sides, timed_batches
from .procpair import run_pair

WAIT = 10.0     # seconds any single wait may take before the benchmark gives up


def asyncio_queue(n: int, batches: int) -> list[tuple[float, float]]:
    async def main() -> list[tuple[float, float]]:
        req: asyncio.Queue = asyncio.Queue()
        rep: asyncio.Queue = asyncio.Queue()

        async def server():
            while True:
                x = await req.get()
                if x is None:
                    return
                rep.put_nowait(x + 1)

        task = asyncio.create_task(server())
        out = []
        try:
            for b in range(batches + 1):
                c0, t0 = time.thread_time(), time.perf_counter()
                for i in range(n):
                    req.put_nowait(i)
                    if await rep.get() != i + 1:
                        raise RuntimeError("wrong reply")
                if b:
                    out.append(((time.perf_counter() - t0) / n * 1e9, (time.thread_time() - c0) / n * 1e9))
        finally:
            req.put_nowait(None)
            await task
        return out

    return asyncio.run(asyncio.wait_for(main(), WAIT * (batches + 1)))


def thread_queue(n: int, batches: int) -> list[tuple[float, float]]:
    req: queue.Queue = queue.Queue()
    rep: queue.Queue = queue.Queue()

    def server():
        while True:
            try:
                x = req.get(timeout=WAIT)
            except queue.Empty:
                return
            if x is None:
                return
            rep.put(x + 1)

    th = threading.Thread(target=server, daemon=True)
    th.start()
    out = []
    try:
        for b in range(batches + 1):
            # CPU time of the whole process: both threads
            c0, t0 = time.process_time(), time.perf_counter()
            for i in range(n):
                req.put(i)
                if rep.get(timeout=WAIT) != i + 1:
                    raise RuntimeError("wrong reply")
            if b:
                out.append(((time.perf_counter() - t0) / n * 1e9, (time.process_time() - c0) / n * 1e9))
    finally:
        req.put(None)
        th.join(WAIT)
    return out


def mp_pipe(n: int, batches: int, timeout: float = 120.0) -> list[tuple[float, float]]:
    c, s = multiprocessing.Pipe()

    def serve(k: int):
        for _ in range(k):
            s.send(s.recv() + 1)

    def call(k: int):
        for i in range(k):
            c.send(i)
            if c.recv() != i + 1:
                raise RuntimeError("wrong reply")

    try:
        sv, cl = run_pair(lambda: timed_batches(serve, n, batches),
                          lambda: timed_batches(call, n, batches), timeout)
        return both_sides(sv, cl)
    finally:
        c.close()
        s.close()
