"""Symmetry-aware first and second moments: ``mean``, ``var``, ``var_mean`` and ``cov``.

The heavy work is one plain cross-product of the centred data in the original basis (``N·D_x·D_y`` flops).
The symmetric-mean correction and the Reynolds projection ``R`` then act on ``D_y × D_x`` matrices only,
through the engine's cached device constants (:mod:`symm._engine`).
"""

from __future__ import annotations

from typing import Any

from symm._engine import (
    PairPlan,
    block_layout,
    block_route,
    invariant_projector,
    orbit_average,
    pair_plan,
    projection,
)
from symm._rep import Rep
from symm._validate import check_correction, check_rep, check_samples, n_samples, prepare
from symm._xp import column_mean, column_sum, device_of, namespace_of

__all__ = ["cov", "cov_from_moments", "mean", "symmetric_mean", "var", "var_from_moments", "var_mean"]


def mean(x: Any, rep: Rep) -> Any:
    """The symmetric mean ``P_inv x̄``: the mean of the orbit-augmented data ``{ρ(g) x_n}``.

    Parameters
    ----------
    x : array, shape (N, D)
        Samples along axis 0, in any Array API namespace. Integer input is promoted to the default float.
    rep : Rep
        The representation ``ρ`` of size ``D`` under which each sample transforms.

    Returns
    -------
    array, shape (D,)
        ``P_inv x̄`` with ``P_inv = (1/|G|) Σ_g ρ(g)`` (the projector onto the invariant subspace), in
        ``x``'s namespace, device and dtype.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(3).permutation_rep()
    >>> x = np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    >>> symm.mean(x, rep)
    array([2.5, 2.5, 2.5])
    """
    rep = check_rep(rep, "rep")
    xp = namespace_of(x=x)
    x = check_samples(x, "x", rep, "rep", xp)
    if n_samples(x) < 1:
        raise ValueError(f"too few samples: x must hold at least one sample, got shape {tuple(x.shape)}")
    return column_mean(x, xp) @ invariant_projector(rep, xp, device_of(x), x.dtype)


def cov(x: Any, y: Any = None, rep_x: Rep | None = None, rep_y: Rep | None = None, *, correction: float = 1) -> Any:
    """The symmetric (cross-)covariance ``R( Σ_n (y_n − ν)(x_n − μ)ᵀ / (N − correction) )``.

    ``μ = P_inv^x x̄`` and ``ν = P_inv^y ȳ`` are the symmetric means and
    ``R(A) = (1/|G|) Σ_g ρ_y(g) A ρ_x(g)ᵀ`` is the orthogonal projection onto ``Hom_G(ρ_x, ρ_y)``.
    With ``correction=0`` this is the population covariance of the orbit-augmented data set
    ``{(ρ_x(g) x_n, ρ_y(g) y_n)}``. It is computed from one plain product of the centred data,
    ``Σ (y − ν)(x − μ)ᵀ = Σ (y − ȳ)(x − x̄)ᵀ + N (ȳ − ν)(x̄ − μ)ᵀ``, followed by ``R`` on a ``D_y × D_x``
    matrix; complex and quaternionic components keep all their endomorphism coefficients.

    Parameters
    ----------
    x : array, shape (N, D_x)
    y : array, shape (N, D_y), optional
        ``None`` gives the auto-covariance of ``x``.
    rep_x : Rep
        Representation of the rows of ``x``.
    rep_y : Rep, optional
        Representation of the rows of ``y``, of the same group; may be ``None`` when ``y`` is ``None``.
    correction : float, default 1
        Degrees-of-freedom correction: the sum is divided by ``N − correction`` (must be positive).

    Returns
    -------
    array, shape (D_y, D_x)
        In the inputs' namespace, device and (promoted) dtype. An equivariant map: ``ρ_y(g) C = C ρ_x(g)``.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(4).regular_rep()
    >>> x = np.random.default_rng(0).normal(size=(50, 4))
    >>> C = symm.cov(x, None, rep)
    >>> C.shape, bool(np.allclose(rep(1) @ C, C @ rep(1)))
    ((4, 4), True)
    """
    if rep_x is None:
        raise TypeError("cov() needs rep_x, the representation of x")
    xp, x, y, rep_x, rep_y = prepare(x, y, rep_x, rep_y)
    n = n_samples(x)
    correction = check_correction(correction, n)
    plan = pair_plan(rep_x, rep_y)
    dev, dt = device_of(x), x.dtype
    if _blocks_pay(plan, n, auto=y is None):
        route = block_route(plan, xp, dev, dt)
        yb = None if y is None else route.rotate(y, y=True)
        return route.expand(route.project(route.rotate(x), yb, scale=1.0 / (n - correction)))
    # centred on the symmetric means, Σ (y − ν)(x − μ)ᵀ is one product
    xm = x - column_mean(x, xp) @ invariant_projector(rep_x, xp, dev, dt)
    ym = xm if y is None else y - column_mean(y, xp) @ invariant_projector(rep_y, xp, dev, dt)
    S = xp.matrix_transpose(ym) @ xm
    return projection(plan, xp, dev, dt, symmetric=y is None).reynolds(S, scale=1.0 / (n - correction))


def _blocks_pay(plan: PairPlan, n: int, *, auto: bool) -> bool:
    """Whether forming only the isotypic blocks from the rotated data, ``N·(D_x·ΣB_x [+ D_y·ΣB_y] + ΣB_y·B_x)``
    multiply-adds (sums over the shared components, ``B`` their sizes), costs less than forming ``S`` and
    rotating it, ``N·D_y·D_x + D_y·D_x·(D_x + D_y)``. Small ``N`` next to ``D`` (a training loop's calls) takes
    the blocks."""
    if plan.use_perm:
        return False
    layout = plan.host_table("layout", lambda: block_layout(*plan.reps()))
    dx, dy = plan.px.size, plan.py.size
    sum_x, sum_y = sum(k * bx for k, _, bx in layout), sum(k * by for k, by, _ in layout)
    data = n * (dx * sum_x + (0 if auto else dy * sum_y) + sum(k * by * bx for k, by, bx in layout))
    return data < n * dy * dx + dy * dx * (dx + dy)


def var(x: Any, rep: Rep, *, correction: float = 1) -> Any:
    """The symmetric variance ``diag(cov(x, None, rep))``, cross-copy terms included.

    Parameters
    ----------
    x : array, shape (N, D)
    rep : Rep
    correction : float, default 1
        The sum of squares is divided by ``N − correction``.

    Returns
    -------
    array, shape (D,)
        ``diag R(Σ (x_n − μ)(x_n − μ)ᵀ) / (N − correction)``; with ``correction=0`` the variance of each
        coordinate over the orbit-augmented data.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(2).permutation_rep()
    >>> symm.var(np.array([[0.0, 2.0], [2.0, 0.0]]), rep, correction=0)
    array([1., 1.])
    """
    return var_mean(x, rep, correction=correction)[0]


def var_mean(x: Any, rep: Rep, *, correction: float = 1) -> tuple[Any, Any]:
    """``(var(x, rep), mean(x, rep))`` in one pass, in torch's order.

    Parameters
    ----------
    x : array, shape (N, D)
    rep : Rep
    correction : float, default 1

    Returns
    -------
    var : array, shape (D,)
        ``diag cov(x, None, rep)``.
    mean : array, shape (D,)
        ``P_inv x̄``.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(2).permutation_rep()
    >>> v, m = symm.var_mean(np.array([[0.0, 2.0], [2.0, 0.0], [1.0, 1.0]]), rep)
    >>> v, m
    (array([1., 1.]), array([1., 1.]))
    """
    rep = check_rep(rep, "rep")
    xp = namespace_of(x=x)
    x = check_samples(x, "x", rep, "rep", xp)
    n = n_samples(x)
    correction = check_correction(correction, n)
    dev, dt = device_of(x), x.dtype
    plan = pair_plan(rep, rep)
    proj = projection(plan, xp, dev, dt)
    xbar = column_mean(x, xp)
    mu = xbar @ invariant_projector(rep, xp, dev, dt)
    if plan.px.signed_perm is not None:  # diag R(S) needs only diag S: O(N·D) even where cov gathers no S
        a = xbar @ proj.comp_x
        v = _centred_sum_squares(x, xbar, xp) + n * (a * a)
        out = v @ orbit_average(rep, xp, dev, dt)
    elif _blocks_pay(plan, n, auto=True):
        route = block_route(plan, xp, dev, dt)
        out = route.diag(route.project(route.rotate(x)))
    else:
        xm = x - mu
        out = proj.reynolds_diag(xp.matrix_transpose(xm) @ xm)
    return out / (n - correction), mu


def _centred_sum_squares(x: Any, xbar: Any, xp: Any, rows: int = 1 << 16) -> Any:
    """``Σ_n (x_n − x̄)²`` per column, over row blocks so that no temporary as large as ``x`` is made."""
    n = x.shape[0]
    total = None
    for start in range(0, n, rows):
        d = x[start : min(start + rows, n), ...] - xbar  # the standard leaves out-of-bounds stops unspecified
        part = column_sum(d * d, xp)
        total = part if total is None else total + part
    return total


# ============================================================================================ from moments


def cov_from_moments(m2: Any, xbar: Any, ybar: Any, n: int, rep_x: Rep, rep_y: Rep, correction: float, xp: Any) -> Any:
    """``cov`` from ``m2 = Σ (y − ȳ)(x − x̄)ᵀ`` and the plain means (used by the streaming estimator)."""
    correction = check_correction(correction, n)
    auto = xbar is ybar and rep_x is rep_y  # then S is symmetric
    proj = projection(pair_plan(rep_x, rep_y), xp, device_of(m2), m2.dtype, symmetric=auto)
    a, b = ybar @ proj.comp_y, xbar @ proj.comp_x
    S = m2 + xp.reshape(a * n, (-1, 1)) * xp.reshape(b, (1, -1))
    return proj.reynolds(S, scale=1.0 / (n - correction))


def var_from_moments(m2: Any, xbar: Any, n: int, rep: Rep, correction: float, xp: Any) -> Any:
    """``var`` from ``m2 = Σ (x − x̄)(x − x̄)ᵀ`` and the plain mean."""
    correction = check_correction(correction, n)
    dev, dt = device_of(m2), m2.dtype
    plan = pair_plan(rep, rep)
    proj = projection(plan, xp, dev, dt)
    a = xbar @ proj.comp_x
    if plan.px.signed_perm is not None:
        v = xp.linalg.diagonal(m2) + n * (a * a)
        return v @ orbit_average(rep, xp, dev, dt) / (n - correction)
    v = m2 + xp.reshape(a * n, (-1, 1)) * xp.reshape(a, (1, -1))
    return proj.reynolds_diag(v) / (n - correction)


def symmetric_mean(xbar: Any, rep: Rep, xp: Any) -> Any:
    """``P_inv x̄`` for a plain mean ``x̄`` (D,)."""
    return xbar @ invariant_projector(rep, xp, device_of(xbar), xbar.dtype)
