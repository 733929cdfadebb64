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


def _child(fn: Callable[[], object], cpu: int, wfd: int) -> None:
    """Run fn in the forked child, report through wfd, and never return."""
    code = 0
    try:
        os.sched_setaffinity(0, {cpu})
        result = fn()
        msg = {"ok": result}
    except BaseException as e:           # the child must report, whatever happens
        msg = {"error": f"{type(e).__name__}: {e}"}
        code = 1
    try:
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


def _fork(fn: Callable[[], object], cpu: int, keep: int, close: list[int]) -> int:
    pid = os.fork()
    if pid == 0:
        for fd in close:
            os.close(fd)
        _child(fn, cpu, keep)
    return pid


def run_pair(server: Callable[[], object], client: Callable[[], object], timeout: float):
    """Fork the server, then the client (both pinned to one core); return what each
    returned, (server's, client's). Raises PairError on a failure or when `timeout`
    seconds pass; a client that fails ends the wait at once."""
    cpu = pin_cpu()
    s_r, s_w = os.pipe()
    c_r, c_w = os.pipe()
    pids: list[int] = []
    fds = [s_r, s_w, c_r, c_w]
    try:
        # each child holds only its own write end: its exit ends the parent's read
        pids.append(_fork(server, cpu, s_w, [s_r, c_r, c_w]))
        pids.append(_fork(client, cpu, c_w, [s_r, s_w, c_r]))
        for fd in (s_w, c_w):
            os.close(fd)
            fds.remove(fd)
        got: dict[int, list[bytes]] = {s_r: [], c_r: []}
        open_fds, end = [c_r, s_r], time.monotonic() + timeout
        while open_fds:
            left = end - time.monotonic()
            if left <= 0:
                raise PairError(f"timed out after {timeout:.0f} s")
            ready, _, _ = select.select(open_fds, [], [], left)
            for fd in ready:
                data = os.read(fd, 65536)
                if data:
                    got[fd].append(data)
                    continue
                open_fds.remove(fd)
                if fd == c_r:
                    _check(got[c_r], "client")      # a failed client: stop now
        return _check(got[s_r], "server"), _check(got[c_r], "client")
    finally:
        for fd in fds:
            os.close(fd)
        # a finished client lets the server end too; otherwise both are killed
        for pid in reversed(pids):
            _reap(pid, 2.0)


def _check(chunks: list[bytes], who: str):
    if not chunks:
        raise PairError(f"the {who} died without a result")
    msg = json.loads(b"".join(chunks))
    if "error" in msg:
        raise PairError(f"{who}: {msg['error']}")
    return msg["ok"]
