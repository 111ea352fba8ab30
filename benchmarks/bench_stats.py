"""Speed of symm's symmetric statistics against the plain computations in the same library.

Run ``python benchmarks/bench_stats.py`` (``--quick`` for a CI-sized run). Every ratio is measured in one
process, round-robin (see ``_common.interleaved_medians``), so machine noise affects both sides alike; the
reported time is the fastest repeat.

Rows:

- ``cov``: ``symm.cov(x, y, rep, rep)`` against the plain cross-covariance ``(y − ȳ)ᵀ(x − x̄)/(N − 1)``, for
  16 copies of the regular rep of C8 (D = 128) and 8 copies of the regular rep of D6 (D = 96). "perm" is the
  rep as given (permutation matrices); "mixed" is the same rep after a random orthogonal change of basis,
  which takes the general isotypic route. Target: ratio ≤ 1.15.
- ``lstsq``: ``symm.lstsq`` against ``numpy.linalg.lstsq`` / ``torch.linalg.lstsq`` on the same data (the
  unconstrained fit, which is what a user would otherwise call). Target: ratio ≤ 0.7.
- ``overhead``: one ``symm.cov``, ``symm.mean`` or ``symm.var_mean`` call at N = 256, D = 128, torch CPU float32,
  rep already decomposed (targets 0.15 ms for a permutation rep, 0.3 ms in a mixed basis).
  Target: ≤ 0.3 ms.
- symm-learning 0.8.1 on the same data, when it is importable (it needs escnn, hence NumPy < 2).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from _common import RowPrinter, interleaved_medians, verdict

import symm
from symm import groups

HEADER = ["what", "lib", "dtype", "rep", "N", "baseline ms", "symm ms", "ratio", "target", "result"]
WIDTHS = [12, 5, 7, 23, 6, 11, 7, 5, 16, 6]
_OUT: RowPrinter | None = None


def _row(row: list[str]) -> list[str]:
    """Print a finished row at once (stdout, each row once) so that long runs show progress."""
    if _OUT is None:
        return row
    return _OUT.row(row)


def _reps() -> dict[str, symm.Rep]:
    c8 = groups.cyclic(8).regular_rep() * 16
    d6 = groups.dihedral(6).regular_rep() * 8
    rng = np.random.default_rng(0)
    out = {}
    for name, rep in (("C8 reg×16 (D=128)", c8), ("D6 reg×8 (D=96)", d6)):
        q, _ = np.linalg.qr(rng.normal(size=(rep.size, rep.size)))
        out[f"{name} perm"] = rep
        out[f"{name} mixed"] = rep.change_basis(q)
    for rep in out.values():
        _ = rep.isotypic_components  # decompose outside the timings
    return out


def _libraries(dtypes: list[str]) -> list[tuple[str, str, object]]:
    libs = [("numpy", dt, None) for dt in dtypes]
    try:
        import torch

        libs += [("torch", dt, torch) for dt in dtypes]
    except ImportError:
        pass  # said once, in main()
    return libs


def _arrays(lib: str, dt: str, mod: object, *arrays: np.ndarray) -> list:
    if lib == "numpy":
        return [np.ascontiguousarray(a, dtype=dt) for a in arrays]
    return [mod.asarray(a, dtype=getattr(mod, dt)) for a in arrays]


def bench_cov(n: int, repeats: int, dtypes: list[str]) -> list[list[str]]:
    rows = []
    rng = np.random.default_rng(1)
    for lib, dt, mod in _libraries(dtypes):
        for name, rep in _reps().items():
            x0 = rng.normal(size=(n, rep.size)) + 0.1
            y0 = rng.normal(size=(n, rep.size))
            x, y = _arrays(lib, dt, mod, x0, y0)

            def plain(x=x, y=y):
                xc = x - x.mean(0)
                yc = y - y.mean(0)
                return (yc.T @ xc) / (x.shape[0] - 1)

            def ours(x=x, y=y, rep=rep):
                return symm.cov(x, y, rep, rep)

            t_plain, t_ours = interleaved_medians([plain, ours], repeats)
            rows.append(
                _row(
                    [
                        "cov",
                        lib,
                        dt,
                        name,
                        f"{n}",
                        f"{t_plain * 1e3:.2f}",
                        f"{t_ours * 1e3:.2f}",
                        f"{t_ours / t_plain:.3f}",
                        "≤ 1.15",
                        verdict(t_ours / t_plain, 1.15),
                    ]
                )
            )
    return rows


def bench_lstsq(n: int, repeats: int, dtypes: list[str]) -> list[list[str]]:
    rows = []
    rng = np.random.default_rng(2)
    for lib, dt, mod in _libraries(dtypes):
        for name, rep in _reps().items():
            x0 = rng.normal(size=(n, rep.size))
            a0 = symm.project_equivariant(rng.normal(size=(rep.size, rep.size)), rep, rep)
            y0 = x0 @ a0.T + 0.1 * rng.normal(size=(n, rep.size))
            x, y = _arrays(lib, dt, mod, x0, y0)
            if lib == "numpy":

                def plain(x=x, y=y):
                    return np.linalg.lstsq(x, y, rcond=None)[0]
            else:

                def plain(x=x, y=y, mod=mod):
                    return mod.linalg.lstsq(x, y).solution

            def ours(x=x, y=y, rep=rep):
                return symm.lstsq(x, y, rep, rep)

            t_plain, t_ours = interleaved_medians([plain, ours], repeats)
            # exactness: against the float64 solution of the same problem (tests check that one against
            # plain least squares on the orbit-augmented data)
            ref = symm.lstsq(x0, y0, rep, rep)
            got = np.asarray(ours(), dtype=np.float64)
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            rows.append(
                _row(
                    [
                        "lstsq",
                        lib,
                        dt,
                        name,
                        f"{n}",
                        f"{t_plain * 1e3:.2f}",
                        f"{t_ours * 1e3:.2f}",
                        f"{t_ours / t_plain:.3f}",
                        f"≤ 0.7, err {err:.0e}",
                        verdict(t_ours / t_plain, 0.7) if err <= 1e-4 else "FAIL",
                    ]
                )
            )
    return rows


def bench_overhead(repeats: int) -> list[list[str]]:
    """Per-call time of cov, mean and var_mean at N = 256, D = 128 (torch float32): the regime of a training
    loop. Targets: 0.15 ms for a permutation rep, 0.3 ms in a mixed basis."""
    try:
        import torch
    except ImportError:
        return []
    rows = []
    rng = np.random.default_rng(3)
    for name, rep in _reps().items():
        if "D=128" not in name:
            continue
        x = torch.asarray(rng.normal(size=(256, 128)), dtype=torch.float32)
        target = 0.15 if "perm" in name else 0.3

        def plain_cov(x=x):
            xc = x - x.mean(0)
            return (xc.T @ xc) / (x.shape[0] - 1)

        ops = {
            "cov": (plain_cov, lambda x=x, rep=rep: symm.cov(x, None, rep)),
            "mean": (lambda x=x: x.mean(0), lambda x=x, rep=rep: symm.mean(x, rep)),
            "var_mean": (lambda x=x: torch.var_mean(x, 0), lambda x=x, rep=rep: symm.var_mean(x, rep)),
        }
        for op, (plain, ours) in ops.items():
            t_plain, t_ours = interleaved_medians([plain, ours], repeats, warmup=20, inner=20)
            rows.append(
                _row(
                    [
                        f"overhead {op}",
                        "torch",
                        "float32",
                        name,
                        "256",
                        f"{t_plain * 1e3:.3f}",
                        f"{t_ours * 1e3:.3f}",
                        f"{t_ours / t_plain:.3f}",
                        f"symm ≤ {target} ms",
                        verdict(t_ours * 1e3, target),
                    ]
                )
            )
    return rows


def bench_symm_learning(n: int, repeats: int) -> list[list[str]]:
    try:
        import symm_learning  # noqa: F401
        import torch
        from symm_learning import stats as sl_stats
    except ImportError:
        print("symm-learning not installed (it needs escnn, hence numpy<2): reference rows skipped")
        return []
    rows = []
    rng = np.random.default_rng(4)
    for name, rep in _reps().items():
        if "perm" not in name:
            continue
        try:
            erep = rep.to_escnn()
        except Exception as exc:  # the built-in groups are not escnn groups
            print(f"symm-learning row for {name} skipped: {type(exc).__name__}: {exc}")
            continue
        x = torch.asarray(rng.normal(size=(n, rep.size)), dtype=torch.float32)
        t_sl, t_ours = interleaved_medians(
            [lambda x=x, e=erep: sl_stats.cov(x, x, e, e), lambda x=x, r=rep: symm.cov(x, None, r)], repeats
        )
        rows.append(
            _row(
                [
                    "cov vs symm-learning",
                    "torch",
                    "float32",
                    name,
                    f"{n}",
                    f"{t_sl * 1e3:.2f}",
                    f"{t_ours * 1e3:.2f}",
                    f"{t_ours / t_sl:.3f}",
                    "reference",
                    "-",
                ]
            )
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N and few repeats (CI)")
    parser.add_argument("--n", type=int, default=None, help="number of samples (default 100000; quick 10000)")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args(argv)
    n = args.n or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (3 if args.quick else 9)
    dtypes = ["float32", "float64"]
    if args.threads:
        try:
            import torch

            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    global _OUT
    if importlib.util.find_spec("torch") is None:
        print("torch not installed: torch rows skipped")
    _OUT = RowPrinter(HEADER, WIDTHS)
    bench_cov(n, repeats, dtypes)
    bench_lstsq(n, repeats, dtypes)
    bench_overhead(max(repeats, 15))
    bench_symm_learning(n, repeats)
    _OUT.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
