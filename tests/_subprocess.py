"""Run Python snippets in fresh processes under chosen BLAS kernels and thread counts (DESIGN §9).

``OPENBLAS_CORETYPE`` forces the kernel of the OpenBLAS that numpy's wheels bundle; the kernels this CPU can
run come from :func:`symm.testing.openblas_kernels`.
"""

from __future__ import annotations

import os
import subprocess
import sys


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
