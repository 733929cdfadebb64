"""The machine a run was measured on."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or "unknown"


def _commit() -> str | None:
    """The commit of the source tree measured, when it is a git checkout."""
    root = Path(__file__).resolve().parents[2]
    try:
        r = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def info() -> dict:
    try:
        import llvmlite
        import llvmlite.binding as llvm
        llvmlite_v, llvm_v = llvmlite.__version__, ".".join(map(str, llvm.llvm_version_info))
    except ImportError:
        llvmlite_v = llvm_v = "missing"
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "cores_usable": len(os.sched_getaffinity(0)),
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "llvmlite": llvmlite_v, "llvm": llvm_v, "commit": _commit()}
