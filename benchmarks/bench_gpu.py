"""GPU benchmark: symm's ``cov``, ``var_mean`` and ``lstsq`` on CuPy and torch-CUDA.

For every (backend, dtype, D, op) it reports:

- the median time of symm and of the plain counterpart on the same device (plain cov: centred
  ``Yᵀ X / (N-1)``; plain var_mean: ``mean`` and ``var`` along axis 0; plain lstsq: the normal equations
  ``solve(XᵀX, XᵀY)``), and the time of the plain cross-covariance product (``xprod``), with the ratios
  ``symm/plain`` and ``symm/xprod``;
- achieved GB/s (input bytes read once / time) against the device's nominal HBM bandwidth, and achieved
  TFLOP/s (dense-equivalent flops: cov ``2·N·Dx·Dy``, var_mean ``2·N·D²``, lstsq ``2·N·Dx·(Dx+Dy)``)
  against the nominal peak of the dtype (FP64 tensor core for float64; FP32, or TF32 where the backend
  enables it);
- peak device memory that the symm call allocated on top of its inputs, as a multiple of the input size
  (``torch.cuda.max_memory_allocated``; a CuPy memory-pool hook). symm must not copy the data more than once:
  ``extra/input <= 1`` (plus the small D×D results).

Timing uses CUDA events around each repetition after warm-up runs; representation bookkeeping (the isotypic
decomposition, constants moved to the device) happens in the warm-up.

Usage::

    python benchmarks/bench_gpu.py                      # N=1e6, D=256,1024, float32+float64, all ops
    python benchmarks/bench_gpu.py --n 200000 --d 256 --reps 2
    python benchmarks/bench_gpu.py --cpu-smoke          # tiny run on torch CPU, to test this script

Without a GPU it prints ``no GPU`` with the reasons and exits 0.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symm

# Nominal dense peaks from the vendors' datasheets (no structured sparsity): TFLOP/s and TB/s.
# fp64_tc: FP64 tensor core (cuBLAS DGEMM uses it on Hopper/Ampere); tf32: dense TF32 tensor core.
PEAKS: dict[str, dict[str, float]] = {
    "H100 SXM": {"fp64": 34.0, "fp64_tc": 67.0, "fp32": 67.0, "tf32": 494.7, "bw": 3.35},
    "H100 PCIe": {"fp64": 25.6, "fp64_tc": 51.2, "fp32": 51.2, "tf32": 378.0, "bw": 2.0},
    "H100 NVL": {"fp64": 30.0, "fp64_tc": 60.0, "fp32": 60.0, "tf32": 417.5, "bw": 3.9},
    "H200 SXM": {"fp64": 34.0, "fp64_tc": 67.0, "fp32": 67.0, "tf32": 494.7, "bw": 4.8},
    "H200 NVL": {"fp64": 30.0, "fp64_tc": 60.0, "fp32": 60.0, "tf32": 417.5, "bw": 4.8},
    "GH200": {"fp64": 34.0, "fp64_tc": 67.0, "fp32": 67.0, "tf32": 494.7, "bw": 4.0},
    "A100 SXM": {"fp64": 9.7, "fp64_tc": 19.5, "fp32": 19.5, "tf32": 156.0, "bw": 2.039},
    "A100 PCIe": {"fp64": 9.7, "fp64_tc": 19.5, "fp32": 19.5, "tf32": 156.0, "bw": 1.935},
}


def peak_key(device_name: str) -> str | None:
    """Map a CUDA device name (``NVIDIA H100 80GB HBM3``, ``NVIDIA H200``, ...) to a row of PEAKS."""
    n = device_name.upper()
    for chip in ("GH200", "H200", "H100", "A100"):
        if chip in n:
            if chip == "GH200":
                return "GH200"
            if "NVL" in n:
                return f"{chip} NVL" if f"{chip} NVL" in PEAKS else f"{chip} SXM"
            if "PCIE" in n:
                return f"{chip} PCIe"
            return f"{chip} SXM"
    return None


def gpu_status() -> tuple[dict[str, str], dict[str, str]]:
    """(available backends -> device name, unavailable backends -> reason)."""
    have: dict[str, str] = {}
    why: dict[str, str] = {}
    try:
        import torch

        if torch.cuda.is_available():
            have["torch-cuda"] = torch.cuda.get_device_name(0)
        else:
            why["torch-cuda"] = f"torch {torch.__version__}: torch.cuda.is_available() is False"
    except Exception as exc:
        why["torch-cuda"] = f"torch not importable ({type(exc).__name__}: {exc})"
    try:
        import cupy

        n = cupy.cuda.runtime.getDeviceCount()
        if n < 1:
            why["cupy"] = "cupy: no CUDA device"
        else:
            name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
            have["cupy"] = name.decode() if isinstance(name, bytes) else str(name)
    except Exception as exc:
        why["cupy"] = f"cupy unavailable ({type(exc).__name__}: {str(exc)[:120]})"
    return have, why


# ------------------------------------------------------------------------------------------------ backends


@dataclass
class Dev:
    """One array backend on one device: data creation, timing, memory and the plain counterparts."""

    name: str
    xp: Any
    lib: Any
    randn: Callable[[tuple[int, int], str], Any]
    sync: Callable[[], None]
    time_ms: Callable[[Callable[[], Any], int], list[float]]
    peak_extra: Callable[[Callable[[], Any]], int | None]
    free: Callable[[], None]
    tf32: bool


def _event_timer(event_cls: Callable[[], Any], elapsed: Callable[[Any, Any], float], sync: Callable[[], None]):
    def time_ms(fn: Callable[[], Any], reps: int) -> list[float]:
        out = []
        for _ in range(reps):
            start, end = event_cls(), event_cls()
            start.record()
            fn()
            end.record()
            end.synchronize()
            out.append(elapsed(start, end))
        sync()
        return out

    return time_ms


def torch_dev(device: str = "cuda") -> Dev:
    import array_api_compat
    import torch

    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(0)

    def randn(shape, dtype):
        return torch.randn(shape, generator=gen, dtype=getattr(torch, dtype), device=dev)

    if dev.type == "cuda":

        def sync():
            torch.cuda.synchronize(dev)

        time_ms = _event_timer(lambda: torch.cuda.Event(enable_timing=True), lambda s, e: s.elapsed_time(e), sync)

        def peak_extra(fn):
            sync()
            base = torch.cuda.memory_allocated(dev)
            torch.cuda.reset_peak_memory_stats(dev)
            out = fn()
            sync()
            peak = torch.cuda.max_memory_allocated(dev) - base
            del out
            return int(peak)

        def free():
            gc.collect()
            torch.cuda.empty_cache()

    else:

        def sync():
            pass

        def time_ms(fn, reps):
            out = []
            for _ in range(reps):
                t0 = time.perf_counter()
                fn()
                out.append(1e3 * (time.perf_counter() - t0))
            return out

        def peak_extra(fn):
            return None

        def free():
            gc.collect()

    xp = array_api_compat.array_namespace(torch.zeros(1, device=dev))
    tf32 = bool(dev.type == "cuda" and torch.backends.cuda.matmul.allow_tf32)
    name = "torch-cuda" if dev.type == "cuda" else f"torch-{dev.type}"
    return Dev(name, xp, torch, randn, sync, time_ms, peak_extra, free, tf32)


def cupy_dev() -> Dev:
    import array_api_compat
    import cupy

    rs = cupy.random.default_rng(0)
    pool = cupy.get_default_memory_pool()

    def randn(shape, dtype):
        return rs.standard_normal(shape, dtype=getattr(cupy, dtype))

    def sync():
        cupy.cuda.Device().synchronize()

    time_ms = _event_timer(cupy.cuda.Event, cupy.cuda.get_elapsed_time, sync)

    class PeakHook(cupy.cuda.MemoryHook):
        name = "symm-bench-peak"

        def __init__(self):
            super().__init__()
            self.current = 0
            self.peak = 0

        def malloc_postprocess(self, **kw):
            self.current += kw["mem_size"]
            self.peak = max(self.peak, self.current)

        def free_postprocess(self, **kw):
            self.current -= kw["mem_size"]

    def peak_extra(fn):
        sync()
        hook = PeakHook()
        try:
            with hook:
                out = fn()
                sync()
            del out
            return int(hook.peak)
        except Exception:  # hooks unavailable: pool high-water mark after releasing cached blocks
            pool.free_all_blocks()
            before = pool.total_bytes()
            out = fn()
            sync()
            del out
            return int(pool.total_bytes() - before)

    def free():
        gc.collect()
        pool.free_all_blocks()

    xp = array_api_compat.array_namespace(cupy.zeros(1))
    tf32 = os.environ.get("CUPY_TF32", "0") == "1"
    return Dev("cupy", xp, cupy, randn, sync, time_ms, peak_extra, free, tf32)


# ------------------------------------------------------------------------------------------------ ops


def plain_cov(xp, x, y):
    n = x.shape[0]
    xc = x - xp.mean(x, axis=0)
    yc = y - xp.mean(y, axis=0)
    return xp.matrix_transpose(yc) @ xc / (n - 1)


def plain_var_mean(xp, x, y):
    return xp.var(x, axis=0, correction=1), xp.mean(x, axis=0)


def plain_lstsq(xp, x, y):
    xt = xp.matrix_transpose(x)
    return xp.matrix_transpose(xp.linalg.solve(xt @ x, xt @ y))


OPS: dict[str, dict[str, Any]] = {
    "cov": {
        "symm": lambda x, y, rx, ry: symm.cov(x, y, rx, ry),
        "plain": plain_cov,
        "needs": "cov",
        "flops": lambda n, dx, dy: 2.0 * n * dx * dy,
        "uses_y": True,
    },
    "var_mean": {
        "symm": lambda x, y, rx, ry: symm.var_mean(x, rx),
        "plain": plain_var_mean,
        "needs": "var_mean",
        "flops": lambda n, dx, dy: 2.0 * n * dx * dx,
        "uses_y": False,
    },
    "lstsq": {
        "symm": lambda x, y, rx, ry: symm.lstsq(x, y, rx, ry),
        "plain": plain_lstsq,
        "needs": "lstsq",
        "flops": lambda n, dx, dy: 2.0 * n * dx * (dx + dy),
        "uses_y": True,
    },
}


@functools.cache
def make_rep(d: int) -> symm.Rep:
    """A rep of size ``d``: copies of the regular rep of the dihedral group D8 (order 16), R-type irreps of
    dimension 1 and 2 with multiplicities d/16 and d/8. Cached, so the host-side plans are built once per D."""
    G = symm.groups.dihedral(8)
    reg = G.regular_rep()
    if d % reg.size:
        raise SystemExit(f"D={d} must be a multiple of {reg.size}")
    return reg * (d // reg.size)


def _fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None or not np.isfinite(v) else format(v, spec)


def _peak_flops(peaks: dict[str, float] | None, dtype: str, tf32: bool) -> tuple[float | None, str]:
    if peaks is None:
        return None, "?"
    if dtype == "float64":
        return peaks["fp64_tc"], "FP64-TC"
    if tf32:
        return peaks["tf32"], "TF32"
    return peaks["fp32"], "FP32"


def measured_copy_gbs(dev: Dev, nbytes: int = 2 << 30) -> float | None:
    """Device-to-device copy rate, bytes read + written per second (a measured bandwidth ceiling)."""
    try:
        a = dev.randn((nbytes // 4 // 1024, 1024), "float32")
        dev.xp.asarray(a, copy=True)  # warm-up
        ts = dev.time_ms(lambda: dev.xp.asarray(a, copy=True), 3)
        a = None
        dev.free()
        return 2 * nbytes / (statistics.median(ts) * 1e-3) / 1e9
    except Exception as exc:
        print(f"  (copy bandwidth not measured: {type(exc).__name__}: {exc})")
        return None


def run(args: argparse.Namespace, devs: list[Dev], device_name: str) -> int:
    key = peak_key(device_name)
    peaks = PEAKS.get(key) if key else None
    print(f"device: {device_name} -> nominal peaks: {key or 'unknown (no % of peak)'} {peaks or ''}")
    missing = [op for op in args.ops if not hasattr(symm, OPS[op]["needs"])]
    if missing:
        print(f"NOTE: symm has no {', '.join(OPS[op]['needs'] for op in missing)} yet: only plain timings")
    header = (
        f"{'backend':<10} {'dtype':<7} {'D':>5} {'op':<8} {'symm ms':>9} {'plain ms':>9} {'s/plain':>7} "
        f"{'xprod ms':>9} {'s/xprod':>7} {'GB/s':>7} {'%BW':>5} {'TFLOP/s':>8} {'%pk':>5} {'pk':>7} "
        f"{'plainTF':>8} {'extraGB':>8} {'x/input':>7} check"
    )
    t_start = time.perf_counter()
    failures = 0
    for dev in devs:
        copy = measured_copy_gbs(dev) if dev.name != "torch-cpu" else None
        print(f"{dev.name}: tf32={dev.tf32}; measured D2D copy: {_fmt(copy, '.0f')} GB/s (read+write)")
    print()
    print(header)
    # backends interleaved, so that a spent time budget cuts the large cases of both alike
    for dtype in args.dtypes:
        for d in args.d:
            for dev in devs:
                if time.perf_counter() - t_start > args.budget_s:
                    print(f"{dev.name:<10} {dtype:<7} {d:>5} skipped: time budget {args.budget_s}s spent")
                    continue
                try:
                    failures += bench_config(args, dev, dtype, d, peaks)
                except Exception as exc:  # out of memory, missing op...: report and go on
                    failures += 1
                    print(f"{dev.name:<10} {dtype:<7} {d:>5} ERROR {type(exc).__name__}: {str(exc)[:300]}")
                dev.free()
    print(
        f"\nbench_gpu: done in {time.perf_counter() - t_start:.1f}s; {failures} problems "
        "(errors, MISMATCH against the projected plain estimate, or COPIES>1: symm allocated more than "
        "one copy of its input)"
    )
    return failures


def bench_config(args, dev: Dev, dtype: str, d: int, peaks) -> int:
    xp, n = dev.xp, args.n
    rep = make_rep(d)
    x = dev.randn((n, d), dtype)
    y = dev.randn((n, d), dtype)
    dev.sync()
    itemsize = 4 if dtype == "float32" else 8
    pk_flops, pk_name = _peak_flops(peaks, dtype, dev.tf32)
    failures = 0

    def timed(fn):
        for _ in range(args.warmup):
            fn()
        dev.sync()
        return statistics.median(dev.time_ms(fn, args.reps))

    t_xprod = timed(lambda: plain_cov(xp, x, y))
    for op in args.ops:
        spec = OPS[op]
        in_bytes = n * d * itemsize * (2 if spec["uses_y"] else 1)
        flops = spec["flops"](n, d, d)
        t_plain = timed(lambda spec=spec: spec["plain"](xp, x, y))
        has_symm = hasattr(symm, spec["needs"])
        t_symm = extra = None
        check = "n/a"
        if has_symm:
            try:
                t_symm = timed(lambda spec=spec: spec["symm"](x, y, rep, rep))
                extra = dev.peak_extra(lambda spec=spec: spec["symm"](x, y, rep, rep))
                check = sanity_check(op, xp, x, y, rep, dev)
                failures += check.startswith("MISMATCH")
            except Exception as exc:
                failures += 1
                check = f"ERROR {type(exc).__name__}: {str(exc)[:200]}"
        gbs = in_bytes / (t_symm * 1e-3) / 1e9 if t_symm else None
        tfl = flops / (t_symm * 1e-3) / 1e12 if t_symm else None
        plain_tfl = flops / (t_plain * 1e-3) / 1e12
        ratio_input = extra / in_bytes if extra is not None else None
        if ratio_input is not None and ratio_input > 1.05:
            check += " COPIES>1"
            failures += 1
        print(
            f"{dev.name:<10} {dtype:<7} {d:>5} {op:<8} {_fmt(t_symm):>9} {_fmt(t_plain):>9} "
            f"{_fmt(t_symm / t_plain if t_symm else None):>7} {_fmt(t_xprod):>9} "
            f"{_fmt(t_symm / t_xprod if t_symm else None):>7} {_fmt(gbs, '.0f'):>7} "
            f"{_fmt(100 * gbs / (1e3 * peaks['bw']) if gbs and peaks else None, '.0f'):>5} "
            f"{_fmt(tfl):>8} {_fmt(100 * tfl / pk_flops if tfl and pk_flops else None, '.0f'):>5} "
            f"{pk_name:>7} {_fmt(plain_tfl):>8} {_fmt(extra / 1e9 if extra is not None else None):>8} "
            f"{_fmt(ratio_input):>7} {check}",
            flush=True,
        )
    return failures


def sanity_check(op: str, xp, x, y, rep, dev: Dev) -> str:
    """On-device check of symm.cov against ``R(Yᶜᵀ Xᶜ / (N-1))`` centred at the symmetric means (cov only)."""
    if op != "cov":
        return "ok"
    c = symm.cov(x, y, rep, rep)
    n = x.shape[0]
    xc, yc = x - symm.mean(x, rep), y - symm.mean(y, rep)  # centred at the symmetric means
    ref = symm.project_equivariant(xp.matrix_transpose(yc) @ xc / (n - 1), rep, rep)
    err = float(xp.max(xp.abs(c - ref))) / max(float(xp.max(xp.abs(ref))), 1e-30)
    tol = 1e-3 if x.dtype == xp.float32 else 1e-9
    return f"ok rel.err {err:.1e}" if err < tol else f"MISMATCH rel.err {err:.1e}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="samples N (default 1e6)")
    p.add_argument("--d", type=int, nargs="+", default=[256, 1024], help="feature sizes D")
    p.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    p.add_argument("--ops", nargs="+", default=list(OPS), choices=list(OPS))
    p.add_argument("--backends", nargs="+", default=["cupy", "torch-cuda"], choices=["cupy", "torch-cuda"])
    p.add_argument("--reps", type=int, default=3, help="timed repetitions (median reported)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--budget-s", type=float, default=300.0, help="skip remaining configurations after this")
    p.add_argument("--cpu-smoke", action="store_true", help="tiny run on torch CPU, to test this script")
    args = p.parse_args(argv)

    if args.cpu_smoke:
        args.n = min(args.n, 4000)
        args.d = [16, 32]
        args.reps, args.warmup = 1, 1
        return 1 if run(args, [torch_dev("cpu")], "cpu (smoke test)") else 0

    have, why = gpu_status()
    chosen = [b for b in args.backends if b in have]
    if not chosen:
        reasons = "; ".join(f"{b}: {reason}" for b, reason in why.items())
        print(f"skipped: no GPU ({reasons})" if reasons else "skipped: no GPU")
        return 0
    for b, reason in why.items():
        print(f"{b}: not available: {reason}")
    print(f"symm {symm.__version__}; N={args.n}; D={args.d}; dtypes={args.dtypes}; reps={args.reps}")
    devs = []
    for b in chosen:
        try:
            devs.append(cupy_dev() if b == "cupy" else torch_dev("cuda"))
        except Exception as exc:
            print(f"{b}: setup failed: {type(exc).__name__}: {exc}")
    return 1 if run(args, devs, next(iter(have.values()))) else 0


if __name__ == "__main__":
    sys.exit(main())
