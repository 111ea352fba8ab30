"""``symm demo``: symmetric versus empirical estimation of a G-invariant Gaussian, on every installed backend.

The demo builds a representation (by default ``D6`` acting on two copies of its regular rep and three copies
of its 2-D standard rep, seen through a random orthogonal change of basis), draws ``N`` samples from a
Gaussian whose mean and covariance are G-invariant, and estimates both with :func:`symm.mean` /
:func:`symm.cov` and with the plain empirical estimators. It prints the errors against the true parameters,
the times, and the ratios. ``--plot PATH`` also saves a figure of the estimation error against ``N``.

Theory (whitened coordinates, i.e. errors measured as ``‖Σ^{-1/2}(Σ̂ − Σ)Σ^{-1/2}‖²_F``, where both estimators
commute with the whitening because ``Σ^{-1/2}`` is itself G-invariant):

- empirical covariance: ``E‖·‖² = D(D+1)/(N−1)``;
- symmetric covariance: ``E‖·‖² ≈ 2·dof_G/N`` with ``dof_G = symm.invariant_sym_dim(rep)``;
- empirical mean: ``E‖Σ^{-1/2}(μ̂ − μ)‖² = D/N``; symmetric mean: ``m_0/N`` with ``m_0`` the multiplicity
  of the trivial irrep.

The functions here are also used by the documentation to draw its figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symm
from symm.app.backends import BACKENDS, ArrayBackend, library_version, setup, to_numpy
from symm.app.cli import CLIError, Command, write
from symm.app.progress import Progress

__all__ = [
    "BACKENDS",
    "COMMAND",
    "DemoProblem",
    "error_curves",
    "make_problem",
    "parse_group",
    "plot_error_curves",
    "run_demo",
]


_MAX_ORDER = 120


# --------------------------------------------------------------------------------------------- problem


def parse_group(name: str) -> symm.Group:
    """A built-in group from a short name: ``C8``, ``D6``, ``S4``, ``A5``, ``Q8``, ``Dic3``, ``D3xC2``.

    Parameters
    ----------
    name : str
        ``C<n>`` (cyclic), ``D<n>`` (dihedral, order 2n), ``S<n>`` (symmetric), ``A<n>`` (alternating),
        ``Q8`` (quaternion), ``Dic<n>`` (dicyclic, order 4n); factors joined by ``x`` give a direct product.
        Case-insensitive.

    Returns
    -------
    Group

    Raises
    ------
    ValueError
        If the name is not understood.

    Examples
    --------
    >>> from symm.app.demo import parse_group
    >>> parse_group("D6").order, parse_group("q8").order, parse_group("C2xC3").order
    (12, 8, 6)
    """
    text = name.strip().replace("×", "x")
    parts = re.split(r"\s*x\s*", text, flags=re.IGNORECASE)
    if not all(parts):
        raise ValueError(f"cannot parse group name {name!r}; use e.g. D6, C8, Q8, S4, A5, Dic3 or D3xC2")
    group = _parse_factor(parts[0], name)
    for part in parts[1:]:
        group = symm.groups.direct_product(group, _parse_factor(part, name))
    return group


def _parse_factor(text: str, full: str) -> symm.Group:
    m = re.fullmatch(r"(dic|c|d|s|a|q)(\d+)", text.strip(), flags=re.IGNORECASE)
    if m is None:
        raise ValueError(f"cannot parse group name {full!r}; use e.g. D6, C8, Q8, S4, A5, Dic3 or D3xC2")
    kind, n = m.group(1).lower(), int(m.group(2))
    minimum = {"c": 1, "d": 1, "s": 2, "a": 3, "dic": 2}
    if kind == "q":
        if n != 8:
            raise ValueError(f"the quaternion group is Q8 (got {text!r}); for order 4n use Dic<n>")
        return symm.groups.quaternion()
    if n < minimum[kind]:
        raise ValueError(f"{text!r}: n must be at least {minimum[kind]}")
    if kind in ("s", "a") and math.factorial(n) // (2 if kind == "a" else 1) > _MAX_ORDER:
        raise ValueError(
            f"{text!r} has order {math.factorial(n) // (2 if kind == 'a' else 1)}; the demo "
            f"uses the regular representation and allows groups of order at most {_MAX_ORDER}"
        )
    constructor = {
        "c": symm.groups.cyclic,
        "d": symm.groups.dihedral,
        "s": symm.groups.symmetric,
        "a": symm.groups.alternating,
        "dic": symm.groups.dicyclic,
    }[kind]
    return constructor(n)


def _standard_like(group: symm.Group) -> str | None:
    names = group.natural_rep_names
    for wanted in ("standard", "rotation", "quaternion"):
        for name in names:
            if name == wanted or name.endswith("." + wanted):
                return name
    return names[0] if names else None


@dataclass
class DemoProblem:
    """A G-invariant Gaussian ``N(mu, sigma)`` on the space of ``rep`` (host NumPy float64).

    Attributes
    ----------
    rep : Rep
        The representation, in a random orthogonal basis.
    description : str
        How ``rep`` was built, e.g. ``"2×regular ⊕ 3×standard"``.
    mu : ndarray, shape (D,)
        The true mean, invariant: ``ρ(g) mu = mu``.
    sigma : ndarray, shape (D, D)
        The true covariance, invariant: ``ρ(g) sigma ρ(g)ᵀ = sigma``; symmetric positive definite.
    """

    rep: symm.Rep
    description: str
    mu: np.ndarray
    sigma: np.ndarray
    _chol: np.ndarray = field(init=False, repr=False)
    _whiten: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._chol = np.linalg.cholesky(self.sigma)
        w, v = np.linalg.eigh(self.sigma)
        self._whiten = (v / np.sqrt(w)) @ v.T

    @property
    def dim(self) -> int:
        """``D``, the size of the representation."""
        return self.rep.size

    @property
    def dof(self) -> int:
        """``dof_G = symm.invariant_sym_dim(rep)``: free parameters of an invariant covariance."""
        return symm.invariant_sym_dim(self.rep)

    @property
    def trivial_multiplicity(self) -> int:
        """``m_0``: dimension of the invariant subspace (free parameters of an invariant mean)."""
        return sum(c.multiplicity for c in self.rep.isotypic_components if c.irrep.dim == 1 and _is_trivial(c))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples, shape ``(n, D)``, NumPy float64."""
        z = rng.standard_normal((n, self.dim))
        return self.mu + z @ self._chol.T

    def whitened_errors(self, mean: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
        """``‖Σ^{-1/2}(μ̂ − μ)‖²`` and ``‖Σ^{-1/2}(Σ̂ − Σ)Σ^{-1/2}‖²_F``."""
        dm = self._whiten @ (np.asarray(mean, dtype=np.float64) - self.mu)
        dc = self._whiten @ (np.asarray(cov, dtype=np.float64) - self.sigma) @ self._whiten
        return float(dm @ dm), float(np.sum(dc * dc))

    def relative_errors(self, mean: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
        """``‖μ̂ − μ‖ / ‖μ‖`` and ``‖Σ̂ − Σ‖_F / ‖Σ‖_F``."""
        mean = np.asarray(mean, dtype=np.float64)
        cov = np.asarray(cov, dtype=np.float64)
        em = np.linalg.norm(mean - self.mu) / max(np.linalg.norm(self.mu), 1e-300)
        ec = np.linalg.norm(cov - self.sigma) / np.linalg.norm(self.sigma)
        return float(em), float(ec)


def _is_trivial(component: Any) -> bool:
    images = component.irrep.generator_images
    return bool(np.allclose(images, 1.0))


def make_problem(
    group: symm.Group | str = "D6", *, regular: int | None = None, standard: int = 3, seed: int = 0
) -> DemoProblem:
    """The demo's default problem: ``regular × regular rep ⊕ standard × standard rep`` of ``group``.

    The rep is seen through a random orthogonal change of basis. The mean is a random invariant vector and the
    covariance is the group average of a random positive definite matrix, plus ``0.5·I``.

    Parameters
    ----------
    group : Group or str
        A group, or a name for :func:`parse_group` (default ``"D6"``).
    regular : int, optional
        Copies of the regular rep (default 2, or 1 for groups of order above 24).
    standard : int
        Copies of the group's standard-like natural rep (``standard``, ``rotation`` or ``quaternion``).
    seed : int
        Seed of the change of basis and of the parameters.

    Returns
    -------
    DemoProblem

    Examples
    --------
    >>> from symm.app.demo import make_problem
    >>> p = make_problem("D6")
    >>> p.description, p.dim, p.dof
    ('D6: 2×regular ⊕ 3×standard', 30, 50)
    """
    if isinstance(group, str):
        group = parse_group(group)
    if group.order > _MAX_ORDER:
        raise ValueError(
            f"group {group.name} has order {group.order}; the demo uses the regular "
            f"representation and allows groups of order at most {_MAX_ORDER}"
        )
    if regular is None:
        regular = 2 if group.order <= 24 else 1
    rng = np.random.default_rng(seed)
    parts: list[symm.Rep] = [group.regular_rep()] * regular
    labels = [f"{regular}×regular"] if regular else []
    natural = _standard_like(group)
    if natural is not None and standard:
        parts += [group.natural_rep(natural)] * standard
        labels.append(f"{standard}×{natural}")
    if not parts:
        raise ValueError("the demo rep is empty: ask for at least one regular or standard copy")
    base = symm.direct_sum(*parts) if len(parts) > 1 else parts[0]
    d = base.size
    basis, r = np.linalg.qr(rng.standard_normal((d, d)))
    basis = basis * np.sign(np.diag(r))
    rep = base.change_basis(basis, name=f"{group.name} demo rep")
    p_inv = symm.invariant_orthogonal_projector(rep)
    mu = p_inv @ rng.standard_normal(d)
    b = rng.standard_normal((d, d))
    sigma = symm.project_equivariant(b @ b.T / d, rep, rep) + 0.5 * np.eye(d)
    sigma = (sigma + sigma.T) / 2
    return DemoProblem(rep, f"{group.name}: " + " ⊕ ".join(labels), mu, sigma)


# --------------------------------------------------------------------------------------------- estimators


def symmetric_estimates(x: Any, rep: symm.Rep) -> tuple[Any, Any]:
    """``(symm.mean(x, rep), symm.cov(x, None, rep, rep))`` in the namespace of ``x``."""
    return symm.mean(x, rep), symm.cov(x, None, rep, rep)


def empirical_estimates(x: Any) -> tuple[Any, Any]:
    """The plain sample mean and unbiased sample covariance ``(D, D)``, in the namespace of ``x``."""
    import array_api_compat

    xp = array_api_compat.array_namespace(x)
    m = xp.mean(x, axis=0)
    xc = x - m
    return m, (xc.T @ xc) / (x.shape[0] - 1)


# --------------------------------------------------------------------------------------------- backends


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _best_time(func: Callable[[], Any], *, budget: float = 0.15, max_repeat: int = 25) -> tuple[float, Any]:
    """Best wall time of ``func()`` (result brought to the host) after one warm-up call."""
    result = func()
    best = math.inf
    spent = 0.0
    for i in range(max_repeat):
        t0 = time.perf_counter()
        result = func()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        spent += dt
        if spent > budget and i >= 2:
            break
    return best, result


# --------------------------------------------------------------------------------------------- run


@dataclass
class BackendResult:
    """One backend's row pair in the demo table."""

    backend: str
    version: str = ""
    device: str = ""
    dtype: str = ""
    status: str = "ok"
    note: str = ""
    errors: dict[str, tuple[float, float]] = field(default_factory=dict)
    whitened: dict[str, tuple[float, float]] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)


def run_backend(problem: DemoProblem, x_host: np.ndarray, backend: ArrayBackend) -> BackendResult:
    """Estimate mean and covariance of ``x_host`` on ``backend`` with symm and empirically; time both."""
    res = BackendResult(backend.name, backend.version, _device_name(backend), backend.dtype, note=backend.note)
    x = backend.from_host(x_host)
    estimators = {
        "symm": lambda: tuple(to_numpy(a) for a in symmetric_estimates(x, problem.rep)),
        "empirical": lambda: tuple(to_numpy(a) for a in empirical_estimates(x)),
    }
    for label, func in estimators.items():
        t, (m, c) = _best_time(func)
        res.times[label] = t
        res.errors[label] = problem.relative_errors(m, c)
        res.whitened[label] = problem.whitened_errors(m, c)
    if backend.name == "torch" and str(backend.device) == "cpu":
        res.note = "; ".join(filter(None, (res.note, _torch_threads_note(estimators["symm"], res.times["symm"]))))
    return res


#: a torch time this many times its 1-thread time is reported as thread oversubscription
OVERSUBSCRIBED = 3.0


def _torch_threads_note(func: Callable[[], Any], t_threads: float) -> str:
    """``"N threads"``, and a warning when the call is much faster on 1 thread: the other threads were
    waiting for cores (a loaded machine), so the timings say little about symm."""
    import torch

    threads = torch.get_num_threads()
    if threads == 1:
        return "1 thread"
    torch.set_num_threads(1)
    try:
        t_one, _ = _best_time(func)
    finally:
        torch.set_num_threads(threads)
    if t_threads <= OVERSUBSCRIBED * t_one:
        return f"{threads} threads"
    warnings.warn(
        f"torch timings are dominated by thread oversubscription: symm took {_fmt_time(t_threads)} with "
        f"{threads} threads and {_fmt_time(t_one)} with 1; run with OMP_NUM_THREADS=1 on a loaded machine",
        RuntimeWarning,
        stacklevel=2,
    )
    return f"{threads} threads: OVERSUBSCRIBED, {_fmt_time(t_one)} on 1 thread"


def run_demo(
    group: str = "D6",
    *,
    n: int = 2000,
    backends: Sequence[str] | None = None,
    device: str | None = None,
    dtype: str = "float64",
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[DemoProblem, list[BackendResult]]:
    """Run the demo's estimation on each backend and return the problem and one result per backend.

    Backends that are not installed (or cannot run on ``device``) are returned with ``status`` set to the
    reason. The same host samples are used on every backend.

    Examples
    --------
    >>> from symm.app.demo import run_demo
    >>> problem, results = run_demo("C4", n=200, backends=["numpy"])  # doctest: +SKIP
    >>> results[0].errors["symm"][1] < results[0].errors["empirical"][1]  # doctest: +SKIP
    True
    """
    problem = make_problem(group, seed=seed)
    x_host = problem.sample(n, np.random.default_rng(seed + 1))
    results = []
    for name in backends or BACKENDS:
        if progress is not None:
            progress.advance(0, desc=f"symm demo: {name}")
        module = name
        if not _installed(module):
            results.append(BackendResult(name, status="not installed"))
        else:
            try:
                backend = setup(name, device, dtype)
            except Exception as exc:
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                results.append(BackendResult(name, version=_safe_version(name), status=f"unavailable: {msg}"))
            else:
                try:
                    results.append(run_backend(problem, x_host, backend))
                except CLIError:
                    raise
                except Exception as exc:
                    msg = str(exc).splitlines()[0] if str(exc) else ""
                    results.append(
                        BackendResult(
                            name,
                            backend.version,
                            _device_name(backend),
                            backend.dtype,
                            status=f"failed: {type(exc).__name__}: {msg}",
                        )
                    )
        if progress is not None:
            progress.advance()
    return problem, results


def _safe_version(name: str) -> str:
    try:
        return library_version(name)
    except Exception:
        return "?"


def _device_name(backend: ArrayBackend) -> str:
    """``cpu``, ``cuda:0``, a JAX device in lower case, ...: how the results table names the device."""
    dev = backend.device
    if backend.name == "cupy":
        return f"cuda:{dev.id}"
    if backend.name == "array_api_strict":
        return "cpu" if "CPU" in str(dev) else str(dev).split("'")[-2]
    return str(dev).lower() if backend.name == "jax" else str(dev)


# --------------------------------------------------------------------------------------------- figure


def error_curves(
    problem: DemoProblem,
    ns: Sequence[int],
    *,
    trials: int = 20,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """Mean whitened squared errors of both estimators against ``N`` (NumPy, float64).

    Returns
    -------
    dict
        ``"n"``; ``"cov_symm"``, ``"cov_emp"``, ``"mean_symm"``, ``"mean_emp"`` (averages over ``trials``);
        and the theory curves ``"cov_theory_symm" = 2·dof_G/N``, ``"cov_theory_emp" = D(D+1)/(N−1)``,
        ``"mean_theory_symm" = m_0/N``, ``"mean_theory_emp" = D/N``; ``"trials"``, the number of trials per
        ``N`` (a 0-d array).
    """
    rng = np.random.default_rng(seed + 2)
    ns = np.asarray(sorted({int(v) for v in ns}), dtype=np.int64)
    out = {k: np.zeros(len(ns)) for k in ("cov_symm", "cov_emp", "mean_symm", "mean_emp")}
    for i, n in enumerate(ns):
        for _ in range(trials):
            x = problem.sample(int(n), rng)
            ms, cs = symmetric_estimates(x, problem.rep)
            me, ce = empirical_estimates(x)
            em_s, ec_s = problem.whitened_errors(ms, cs)
            em_e, ec_e = problem.whitened_errors(me, ce)
            out["cov_symm"][i] += ec_s / trials
            out["cov_emp"][i] += ec_e / trials
            out["mean_symm"][i] += em_s / trials
            out["mean_emp"][i] += em_e / trials
            if progress is not None:
                progress.advance()
    d = problem.dim
    nf = ns.astype(np.float64)
    out["n"] = ns
    out["trials"] = np.asarray(trials)
    out["cov_theory_symm"] = 2 * problem.dof / nf
    out["cov_theory_emp"] = d * (d + 1) / (nf - 1)
    out["mean_theory_symm"] = problem.trivial_multiplicity / nf
    out["mean_theory_emp"] = d / nf
    return out


def default_ns(n: int, points: int = 9) -> list[int]:
    """The ``N`` grid of the figure: ``points`` log-spaced sample sizes from 10 to ``max(n, 100)``."""
    hi = max(int(n), 100)
    return sorted({round(v) for v in np.geomspace(10, hi, points)})


def plot_error_curves(problem: DemoProblem, curves: dict[str, np.ndarray], *, fig: Any = None) -> Any:
    """Draw :func:`error_curves` as a two-panel log-log figure (mean, covariance); returns the figure.

    Needs matplotlib (``pip install "symm[plot]"``).
    """
    if fig is None:
        import matplotlib.figure

        fig = matplotlib.figure.Figure(figsize=(11, 4.6), layout="constrained")
    ax_m, ax_c = fig.subplots(1, 2)
    ns = curves["n"]
    trials = int(curves["trials"]) if "trials" in curves else None
    d, dof, m0 = problem.dim, problem.dof, problem.trivial_multiplicity
    blue, orange = "tab:blue", "tab:orange"
    # Measured points first, with open markers; the theory lines on top of them (higher zorder), so that a
    # measurement that sits on its theory curve does not hide it.
    data = {"markersize": 6, "markerfacecolor": "white", "linewidth": 1.2, "zorder": 2}
    theory = {"linestyle": "--", "linewidth": 2.0, "zorder": 3}
    ax_c.loglog(ns, curves["cov_emp"], "o-", color=orange, label="empirical covariance", **data)
    ax_c.loglog(ns, curves["cov_symm"], "s-", color=blue, label="symm.cov (group average)", **data)
    ax_c.loglog(ns, curves["cov_theory_emp"], color="saddlebrown", label=f"theory D(D+1)/(N−1), D = {d}", **theory)
    ax_c.loglog(ns, curves["cov_theory_symm"], color="navy", label=f"theory 2·dof_G/N, dof_G = {dof}", **theory)
    ax_c.set_title(r"Covariance: $E\,\|\Sigma^{-1/2}(\hat\Sigma - \Sigma)\,\Sigma^{-1/2}\|_F^2$")
    ax_c.set_ylabel("squared Frobenius error (whitened)")

    ax_m.loglog(ns, curves["mean_emp"], "o-", color=orange, label="empirical mean", **data)
    ax_m.loglog(ns, curves["mean_symm"], "s-", color=blue, label="symm.mean (invariant projection)", **data)
    ax_m.loglog(ns, curves["mean_theory_emp"], color="saddlebrown", label=f"theory D/N, D = {d}", **theory)
    ax_m.loglog(ns, curves["mean_theory_symm"], color="navy", label=f"theory m₀/N, m₀ = {m0}", **theory)
    ax_m.set_title(r"Mean: $E\,\|\Sigma^{-1/2}(\hat\mu - \mu)\|^2$")
    ax_m.set_ylabel("squared error (whitened)")
    for ax in (ax_m, ax_c):
        ax.set_xlabel("number of samples N")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8.5)
    averaged = f"averaged over {trials} trials per N" if trials is not None else "averaged over trials"
    fig.suptitle(
        f"Symmetric vs empirical estimation: {problem.description} (D = {d}) in a random orthogonal basis\n"
        f"errors in whitened coordinates (the theory curves hold for any invariant Σ), {averaged}",
        fontsize=10.5,
    )
    return fig


# --------------------------------------------------------------------------------------------- CLI


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--group", default="D6", help="group name: C8, D6, S4, A5, Q8, Dic3, D3xC2 (default D6)")
    p.add_argument("--n", type=int, default=2000, help="number of samples (default 2000)")
    p.add_argument(
        "--backend",
        default=None,
        help=f"comma-separated backends to run (default: all of {', '.join(BACKENDS)})",
    )
    p.add_argument("--device", default=None, help="device, e.g. cpu, cuda, cuda:1 (torch, jax, cupy)")
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"], help="default float64")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--plot",
        metavar="PATH",
        default=None,
        help="save a figure of the error against N (PNG, PDF or SVG; needs matplotlib)",
    )
    p.add_argument("--trials", type=int, default=20, help="trials per N for --plot (default 20)")


def _fmt_time(t: float) -> str:
    if t < 1e-3:
        return f"{t * 1e6:.0f} µs"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def _table(results: list[BackendResult]) -> list[str]:
    """The demo table: two rows (symm, empirical) per backend that ran, one line per backend that did not."""
    names = [f"{r.backend} {r.version}".strip() for r in results]
    w = max([len("backend"), *map(len, names)]) + 2
    lead = w + 9 + 9
    header = (
        f"{'backend':<{w}}{'device':<9}{'dtype':<9}{'estimator':<11}"
        f"{'mean err':>10}{'cov err':>10}{'time':>11}{'time ratio':>12}"
    )
    lines = [header, "-" * len(header)]
    missing = [r.backend for r in results if r.status == "not installed"]
    for name, r in zip(names, results, strict=True):
        if r.status == "not installed":
            continue
        if r.status != "ok":
            lines.append(f"{name:<{w}}{r.status}")
            continue
        ratio = r.times["symm"] / r.times["empirical"]
        for i, label in enumerate(("symm", "empirical")):
            em, ec = r.errors[label]
            first = f"{name:<{w}}{r.device:<9}{r.dtype:<9}" if i == 0 else " " * lead
            rat = f"{ratio:.2f}x" if i == 0 else ""
            line = f"{first}{label:<11}{em:>10.4f}{ec:>10.4f}{_fmt_time(r.times[label]):>11}{rat:>12}"
            lines.append(line.rstrip())
        if r.note:
            lines.append(" " * lead + f"({r.note})")
    if missing:
        lines.append(f"not installed: {', '.join(missing)} (install one to add its rows)")
    return lines


def _run(args: argparse.Namespace) -> int:
    if args.n < 3:
        raise CLIError(f"--n must be at least 3, got {args.n}")
    if args.trials < 1:
        raise CLIError(f"--trials must be at least 1, got {args.trials}")
    if args.seed < 0:
        raise CLIError(f"--seed must be a non-negative integer, got {args.seed}")
    try:
        group = parse_group(args.group)
    except ValueError as exc:
        raise CLIError(f"--group: {exc}") from None
    backends = None
    if args.backend:
        backends = [b.strip().replace("-", "_") for b in args.backend.split(",") if b.strip()]
        unknown = [b for b in backends if b not in BACKENDS]
        if unknown:
            raise CLIError(
                f"--backend {args.backend!r}: unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}"
            )
    if args.plot:
        if importlib.util.find_spec("matplotlib") is None:
            raise CLIError("--plot needs matplotlib: pip install 'symm[plot]' (or pip install matplotlib)")
        parent = os.path.dirname(os.path.abspath(args.plot))
        if not os.path.isdir(parent):
            raise CLIError(f"--plot: directory {parent} does not exist")

    if args.dtype == "float64" and "jax" not in sys.modules:
        # JAX defaults to float32; the demo compares float64 on every backend. Set it only before jax is
        # imported, so that a caller's already-configured jax is left alone.
        os.environ.setdefault("JAX_ENABLE_X64", "1")
    try:
        problem = make_problem(group, seed=args.seed)
    except ValueError as exc:
        raise CLIError(f"--group: {exc}") from None
    ns = default_ns(args.n) if args.plot else []
    steps = len(backends or BACKENDS) + len(ns) * args.trials
    with Progress(steps, "symm demo") as bar:
        problem, results = run_demo(
            group,
            n=args.n,
            backends=backends,
            device=args.device,
            dtype=args.dtype,
            seed=args.seed,
            progress=bar,
        )
        curves = None
        if args.plot:
            bar.advance(0, desc="symm demo: error vs N")
            curves = error_curves(problem, ns, trials=args.trials, seed=args.seed, progress=bar)

    d, dof = problem.dim, problem.dof
    write(f"symm demo: {problem.description}, D = {d}, in a random orthogonal basis")
    write(f"  G-invariant Gaussian, N = {args.n} samples, seed {args.seed}")
    write(
        f"  free parameters of an invariant covariance dof_G = {dof} (vs D(D+1)/2 = {d * (d + 1) // 2}); "
        f"of an invariant mean m₀ = {problem.trivial_multiplicity} (vs D = {d})"
    )
    write(
        "  mean err = ‖μ̂ − μ‖/‖μ‖, cov err = ‖Σ̂ − Σ‖_F/‖Σ‖_F; time = best of repeats for mean + cov, "
        "result on the host; time ratio = symm / empirical"
    )
    write("")
    for line in _table(results):
        write(line)
    ok = [r for r in results if r.status == "ok"]
    write("")
    if ok:
        r = ok[0]
        (wm_s, wc_s), (wm_e, wc_e) = r.whitened["symm"], r.whitened["empirical"]
        theory_c = 2 * dof / (d * (d + 1))
        theory_m = problem.trivial_multiplicity / d
        write(
            f"whitened squared error, symm / empirical ({r.backend}): covariance {wc_s / wc_e:.3f} "
            f"(theory 2·dof_G/(D(D+1)) = {theory_c:.3f}), mean {wm_s / wm_e:.3f} "
            f"(theory m₀/D = {theory_m:.3f}); one draw, so expect scatter"
        )
    else:
        write("no backend ran; see the table")
    if curves is not None:
        fig = plot_error_curves(problem, curves)
        fig.savefig(args.plot, dpi=130)
        write(f"figure: {args.plot} (error against N, {args.trials} trials per N, whitened coordinates)")
    return 0 if ok else 1


#: the ``symm demo`` subcommand (registered in :data:`symm.app.cli.EXTERNAL_COMMANDS`)
COMMAND = Command(
    "demo",
    "symmetric vs empirical mean and covariance of a G-invariant Gaussian on every installed backend",
    _run,
    _configure,
)
