"""Run Python snippets in fresh processes under chosen BLAS kernels and thread counts (DESIGN §9).

``OPENBLAS_CORETYPE`` forces the kernel of the OpenBLAS that numpy's wheels bundle. A kernel the CPU cannot
run crashes the process, so only kernels whose instruction sets appear in ``/proc/cpuinfo`` are offered.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

# kernel -> CPU flag it needs (Nehalem runs on any x86-64)
_KERNEL_FLAGS = {"Nehalem": None, "Sandybridge": "avx", "Haswell": "avx2", "Zen": "avx2", "SkylakeX": "avx512f"}


def available_kernels() -> list[str]:
    """The OpenBLAS kernels this CPU can run, or ``[]`` off x86-64 or without ``/proc/cpuinfo``."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return []
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((line for line in f if line.startswith("flags")), "").split())
    except OSError:
        return []
    return [k for k, flag in _KERNEL_FLAGS.items() if flag is None or flag in flags]


def run_python(code: str, *args: str, kernel: str | None = None, threads: int = 1, timeout: float = 300) -> str:
    """Run ``code`` with ``args`` in a fresh interpreter; return its stdout, raising with its stderr on failure."""
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env.pop("OPENBLAS_CORETYPE", None)
    if kernel is not None:
        env["OPENBLAS_CORETYPE"] = kernel
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"subprocess (kernel={kernel}, threads={threads}) failed:\n{proc.stderr[-3000:]}")
    return proc.stdout
