"""Two forked processes pinned to one core: a server and a client that times its batches.

The parent never blocks in native code: it waits for the client's result with a timeout
and kills both children when it expires, so a stuck transport cannot hang the suite.
"""
from __future__ import annotations

import json
import os
import select
import signal
import time
from typing import Callable


class PairError(RuntimeError):
    pass


def pin_cpu() -> int:
    """The core both sides share: the last one this process may run on."""
    return max(os.sched_getaffinity(0))


def _child(fn: Callable[[], object], cpu: int, wfd: int | None) -> None:
    """Run fn in the forked child, report through wfd (None: report nothing), and never
    return."""
    code = 0
    try:
        os.sched_setaffinity(0, {cpu})
        result = fn()
        msg = {"ok": result}
    except BaseException as e:           # the child must report, whatever happens
        msg = {"error": f"{type(e).__name__}: {e}"}
        code = 1
    try:
        if wfd is not None:
            data = json.dumps(msg).encode()
            while data:
                data = data[os.write(wfd, data):]
    finally:
        os._exit(code)


def _reap(pid: int, grace: float) -> None:
    end = time.monotonic() + grace
    while time.monotonic() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.005)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def run_pair(server: Callable[[], object], client: Callable[[], object], timeout: float):
    """Fork the server, then the client (both pinned to one core); return what the client
    returned. Raises PairError on a failure or when `timeout` seconds pass."""
    cpu = pin_cpu()
    rfd, wfd = os.pipe()
    pids: list[int] = []
    try:
        pid = os.fork()
        if pid == 0:
            # only the client may hold the write end: its exit must end the parent's read
            os.close(rfd)
            os.close(wfd)
            _child(server, cpu, None)
        pids.append(pid)
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            _child(client, cpu, wfd)
        pids.append(pid)
        os.close(wfd)
        wfd = -1
        chunks, end = [], time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise PairError(f"timed out after {timeout:.0f} s")
            ready, _, _ = select.select([rfd], [], [], left)
            if ready:
                data = os.read(rfd, 65536)
                if not data:
                    break
                chunks.append(data)
        if not chunks:
            raise PairError("the client died without a result")
        msg = json.loads(b"".join(chunks))
        if "error" in msg:
            raise PairError(msg["error"])
        return msg["ok"]
    finally:
        os.close(rfd)
        if wfd >= 0:
            os.close(wfd)
        # a finished client lets the server end too; otherwise both are killed
        for pid in reversed(pids):
            _reap(pid, 2.0)
