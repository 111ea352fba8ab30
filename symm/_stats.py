"""Symmetry-aware first and second moments: ``mean``, ``var``, ``var_mean`` and ``cov``.

The heavy work is one plain cross-product of the centred data in the original basis (``N·D_x·D_y`` flops).
The symmetric-mean correction and the Reynolds projection ``R`` then act on ``D_y × D_x`` matrices only,
through host-precomputed constants that are cached per ``(namespace, device, dtype)``:

- reps whose generators are signed permutation matrices (and whose group is small next to ``D``) use the
  element-wise form ``R(S)[r, c] = (1/|G|) Σ_g ε_g(r) ε_g(c) S[π_g(r), π_g(c)]``: one gather, ``|G|·D²`` work;
- every other rep goes to the isotypic basis, ``R(S) = Q_y Π(Q_yᵀ S Q_x) Q_xᵀ``, where ``Π`` keeps in each
  ``d × d`` block between two copies of an irrep its components along the endomorphism basis
  ``E_b`` (all of them: 1 for real, ``I, J`` for complex and ``1, I, J, K`` for quaternionic type), as one
  weighted gather.
"""

from __future__ import annotations

import weakref
from numbers import Real
from typing import Any

import array_api_compat
import numpy as np

from symm._array_api import as_float_array, column_mean, column_sum, constant, device_of, hashable_key, namespace_of
from symm._rep import Rep, _common_group

__all__ = ["cov", "mean", "var", "var_mean"]

# Use the signed-permutation gather when |G| <= (D_x + D_y) * _PERM_RATIO: a gather of |G|·D_x·D_y entries is
# then cheaper than the four dense D³ products of the isotypic route.
_PERM_RATIO = 0.25
_PERM_MAX_ENTRIES = 1 << 22  # never build gather tables larger than this


# ============================================================================================ host plans


class _RepPlan:
    """Host-side constants of one rep (NumPy float64 / int64); weakly attached to the rep."""

    def __init__(self, rep: Rep) -> None:
        self.size = rep.size
        self.order = rep.group.order
        self.signed_perm = _element_signed_permutations(rep) if _is_monomial(rep) else None
        self._rep = weakref.ref(rep)
        self._projector: np.ndarray | None = None

    @property
    def rep(self) -> Rep:
        rep = self._rep()
        if rep is None:  # pragma: no cover - the plan lives in a WeakKeyDictionary keyed by the rep
            raise RuntimeError("representation was garbage collected")
        return rep

    def orbit_average(self) -> np.ndarray:
        """``(1/|G|) Σ_g |ρ(g)|`` for a signed permutation rep: averages a vector over the orbits of the
        coordinates (the diagonal of ``R(S)`` is this average of ``diag S``, the signs squaring away)."""
        perms, _ = self.signed_perm
        p = np.zeros((self.size, self.size))
        np.add.at(p, (perms, np.broadcast_to(np.arange(self.size), perms.shape)), 1.0)
        return p / self.order

    def projector(self) -> np.ndarray:
        """``P_inv`` (D, D): orbit average for signed permutations, ``Q_triv Q_trivᵀ`` otherwise."""
        if self._projector is None:
            if self.signed_perm is not None:
                perms, signs = self.signed_perm
                p = np.zeros((self.size, self.size))
                cols = np.broadcast_to(np.arange(self.size), perms.shape)
                np.add.at(p, (perms, cols), signs)
                self._projector = p / self.order
            else:
                rep = self.rep
                first = rep.isotypic_components[0]
                if first.irrep is rep.group._irreps[0]:
                    q = rep.change_of_basis[:, first.slice]
                    self._projector = q @ q.T
                else:
                    self._projector = np.zeros((self.size, self.size))
        return self._projector


class _PairPlan:
    """Host-side plan of the Reynolds projection ``R`` for ``Hom(ρ_x, ρ_y)``."""

    def __init__(self, rep_x: Rep, rep_y: Rep) -> None:
        self.px, self.py = _rep_plan(rep_x), _rep_plan(rep_y)
        dx, dy, order = rep_x.size, rep_y.size, rep_x.group.order
        self.use_perm = (
            self.px.signed_perm is not None
            and self.py.signed_perm is not None
            and order <= max(8.0, (dx + dy) * _PERM_RATIO)
            and order * dx * dy <= _PERM_MAX_ENTRIES
        )
        self._rep_x, self._rep_y = weakref.ref(rep_x), weakref.ref(rep_y)
        self.bundles: dict[Any, tuple] = {}

    def reps(self) -> tuple[Rep, Rep]:
        rx, ry = self._rep_x(), self._rep_y()
        if rx is None or ry is None:  # pragma: no cover
            raise RuntimeError("representation was garbage collected")
        return rx, ry

    def perm_tables(self) -> dict[str, np.ndarray | None]:
        """Gather tables of ``R`` over the orbits of index pairs under ``(r, c) ↦ (π_g r, π_g c)``.

        With orbit representative ``(r₀, c₀)``, ``v = (1/|G|) Σ_g ε_g(r₀) ε_g(c₀) S[π_g r₀, π_g c₀]`` is
        ``R(S)[r₀, c₀]``, and equivariance gives ``R(S)[π_h r₀, π_h c₀] = ε_h(r₀) ε_h(c₀) v``. So ``R`` is two
        gathers of about ``D_y·D_x`` entries each (``|G|`` per orbit, ``|G| / |stabiliser|`` points per
        orbit). Keys: ``src`` (|G|·n_orbits,) into ``S.flat``, ``w`` (|G|, n_orbits) or ``None`` (all
        ``1/|G|``), ``orbit`` (D_y·D_x,) and ``sign`` (D_y·D_x,) or ``None`` (all ones).
        """
        (pix, eps_x), (piy, eps_y) = self.px.signed_perm, self.py.signed_perm
        dx, dy = pix.shape[1], piy.shape[1]
        images = (piy[:, :, None] * dx + pix[:, None, :]).reshape(self.order, dx * dy)  # (|G|, pairs)
        signs = (eps_y[:, :, None] * eps_x[:, None, :]).reshape(self.order, dx * dy)
        canon = images.min(axis=0)
        reps, orbit = np.unique(canon, return_inverse=True)
        unsigned = bool(np.all(signs == 1.0))
        # h with π_h(rep) = p, for each pair p; then sign_p = ε_h(r₀) ε_h(c₀)
        h = np.argmax(images[:, canon] == np.arange(dx * dy)[None, :], axis=0)
        return {
            "src": images[:, reps].reshape(-1),
            "w": None if unsigned else signs[:, reps] / self.order,
            "orbit": orbit.reshape(-1),
            "sign": None if unsigned else signs[h, canon],
        }

    @property
    def order(self) -> int:
        return self.px.order

    def iso_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Weighted gather implementing ``Π`` on ``Z = Q_yᵀ S Q_x`` (flattened, with a zero appended).

        Returns ``idx`` (D_y·D_x·t,) and ``w`` (D_y·D_x, t): ``Π(Z).flat[p] = Σ_u w[p, u] Zpad[idx[p, u]]``.
        """
        rep_x, rep_y = self.reps()
        return projection_gather(rep_x, rep_y)


def projection_gather(rep_x: Rep, rep_y: Rep) -> tuple[np.ndarray, np.ndarray]:
    """Host tables of ``Π`` as a weighted gather over ``Z.flat`` with a trailing zero (see ``_PairPlan``).

    Inside the block of copies ``(i, j)`` of irrep ``k``, ``Π(Z)_ij = Σ_b E_b ⟨E_b, Z_ij⟩ / d``: output
    ``(α, β)`` is ``Σ_{γ, δ} K[α, β, γ, δ] Z_ij[γ, δ]`` with ``K = Σ_b E_b ⊗ E_b / d``. Zero entries of
    ``K`` are dropped and the rest padded to a common width ``t``.
    """
    from symm._linalg import shared_components

    dx, dy = rep_x.size, rep_y.size
    zero = dx * dy
    tables = []  # per component: row positions (P,), sources (P, t_k), weights (P, t_k)
    for irrep, cx, cy in shared_components(rep_x, rep_y):
        d = irrep.dim
        E = irrep.endomorphism_basis
        kern = (np.einsum("bij,bkl->ijkl", E, E) / d).reshape(d * d, d * d)  # rows (α, β), columns (γ, δ)
        kern[np.abs(kern) < 1e-12] = 0.0
        t_k = max(int((kern != 0).sum(axis=1).max()), 1)
        order = np.argsort(kern == 0, axis=1, kind="stable")[:, :t_k]  # nonzero columns first
        wk = np.take_along_axis(kern, order, axis=1)
        gam, dlt = np.divmod(order, d)
        alpha, beta = np.divmod(np.arange(d * d), d)
        rows = cy.slice.start + d * np.arange(cy.multiplicity)[:, None, None]  # first row of copy i
        cols = cx.slice.start + d * np.arange(cx.multiplicity)[None, :, None]  # first column of copy j
        pos = (rows + alpha) * dx + (cols + beta)  # (m_y, m_x, d²)
        src = (rows[..., None] + gam) * dx + (cols[..., None] + dlt)  # (m_y, m_x, d², t_k)
        src = np.where(wk != 0.0, src, zero)
        tables.append((pos.reshape(-1), src.reshape(-1, t_k), np.broadcast_to(wk, src.shape).reshape(-1, t_k)))
    t = max((src.shape[1] for _, src, _ in tables), default=1)
    # reduction-major layout (t, D_y·D_x): summing over the leading axis is several times faster than over a
    # short trailing one
    idx = np.full((t, dx * dy), zero, dtype=np.int64)
    w = np.zeros((t, dx * dy))
    for pos, src, wt in tables:
        idx[: src.shape[1], pos] = src.T
        w[: src.shape[1], pos] = wt.T
    return idx.reshape(-1), w


_REP_PLANS: weakref.WeakKeyDictionary[Rep, _RepPlan] = weakref.WeakKeyDictionary()
_PAIR_PLANS: weakref.WeakKeyDictionary[Rep, weakref.WeakKeyDictionary[Rep, _PairPlan]] = weakref.WeakKeyDictionary()


def _rep_plan(rep: Rep) -> _RepPlan:
    plan = _REP_PLANS.get(rep)
    if plan is None:
        plan = _REP_PLANS[rep] = _RepPlan(rep)
    return plan


def _pair_plan(rep_x: Rep, rep_y: Rep) -> _PairPlan:
    inner = _PAIR_PLANS.get(rep_x)
    if inner is None:
        inner = _PAIR_PLANS[rep_x] = weakref.WeakKeyDictionary()
    plan = inner.get(rep_y)
    if plan is None:
        plan = inner[rep_y] = _PairPlan(rep_x, rep_y)
    return plan


_MONOMIAL_TOL = 1e-12


def _is_monomial(rep: Rep) -> bool:
    """Whether every generator image is a signed permutation matrix (entries within 1e-12 of 0 or ±1)."""
    g = rep.generator_images
    nz = np.abs(g) > 0.5
    return bool(
        np.all(nz.sum(axis=1) == 1) and np.all(nz.sum(axis=2) == 1) and np.all(np.abs(np.abs(g) - nz) <= _MONOMIAL_TOL)
    )


def _element_signed_permutations(rep: Rep) -> tuple[np.ndarray, np.ndarray]:
    """``(π, ε)`` of every element, shape (|G|, D) each, with ``ρ(g) e_c = ε_g(c) e_{π_g(c)}``.

    Built along the group's breadth-first tree: ``π_{sh} = π_s ∘ π_h`` and ``ε_{sh} = ε_h · ε_s ∘ π_h``.
    """
    group, gens = rep.group, rep.generator_images
    gen_perm = np.argmax(np.abs(gens), axis=1)  # (n_s, D): column c -> row π(c)
    gen_sign = np.sign(np.take_along_axis(gens, gen_perm[:, None, :], axis=1)[:, 0, :])
    perms = np.empty((group.order, rep.size), dtype=np.int64)
    signs = np.empty((group.order, rep.size))
    perms[0], signs[0] = np.arange(rep.size), 1.0
    parent, pgen = group._parent, group._parent_gen
    for i in range(1, group.order):
        h, s = parent[i], pgen[i]
        perms[i] = gen_perm[s][perms[h]]
        signs[i] = signs[h] * gen_sign[s][perms[h]]
    return perms, signs


# ============================================================================================ device side


def _bundle(plan: _PairPlan, xp: Any, dev: Any, dt: Any) -> tuple:
    """Device constants of ``plan`` for ``(xp, dev, dt)``, cached on the plan."""
    key = (xp.__name__, hashable_key(dev), dt)
    hit = plan.bundles.get(key)
    if hit is not None:
        return hit
    rep_x, rep_y = plan.reps()
    px, py = plan.px, plan.py
    comp_x = constant(rep_x, "symm.stats.I-P", lambda: np.eye(px.size) - px.projector(), xp, dev, dt)
    comp_y = constant(rep_y, "symm.stats.I-P", lambda: np.eye(py.size) - py.projector(), xp, dev, dt)
    if plan.use_perm:
        tabs = plan.perm_tables()
        i64 = xp.int64
        src = constant(plan, "perm.src", lambda: tabs["src"], xp, dev, i64)
        orbit = constant(plan, "perm.orbit", lambda: tabs["orbit"], xp, dev, i64)
        if tabs["w"] is None:
            w = sign = None
        else:
            w = constant(plan, "perm.w", lambda: tabs["w"], xp, dev, dt)
            sign = constant(plan, "perm.sign", lambda: tabs["sign"], xp, dev, dt)
        bundle = ("perm", comp_x, comp_y, src, w, orbit, sign, (plan.order, len(tabs["src"]) // plan.order))
    else:
        idx_np = w_np = None

        def tables() -> tuple[np.ndarray, np.ndarray]:
            nonlocal idx_np, w_np
            if idx_np is None:
                idx_np, w_np = plan.iso_tables()
            return idx_np, w_np

        idx = constant(plan, "iso.idx", lambda: tables()[0], xp, dev, xp.int64)
        w = constant(plan, "iso.w", lambda: tables()[1], xp, dev, dt)
        qx = constant(rep_x, "symm.stats.Q", lambda: rep_x.change_of_basis, xp, dev, dt)
        qy = constant(rep_y, "symm.stats.Q", lambda: rep_y.change_of_basis, xp, dev, dt)
        qyt = constant(rep_y, "symm.stats.QT", lambda: rep_y.change_of_basis.T, xp, dev, dt)
        qxt = constant(rep_x, "symm.stats.QT", lambda: rep_x.change_of_basis.T, xp, dev, dt)
        zero = constant(plan, "zero", lambda: np.zeros(1), xp, dev, dt)
        bundle = ("iso", comp_x, comp_y, idx, w, qx, qy, qxt, qyt, zero)
    plan.bundles[key] = bundle
    return bundle


def reynolds(S: Any, plan: _PairPlan, xp: Any, bundle: tuple) -> Any:
    """``R(S)`` for ``S`` of shape (..., D_y, D_x), through the plan's constants."""
    *batch, dy, dx = S.shape
    if bundle[0] == "perm":
        _, _, _, src, w, orbit, sign, shape = bundle
        g = xp.reshape(_gather(xp.reshape(S, (*batch, dy * dx)), src), (*batch, *shape))
        v = xp.mean(g, axis=-2) if w is None else xp.sum(g * w, axis=-2)
        out = _gather(v, orbit)
        return xp.reshape(out if sign is None else out * sign, (*batch, dy, dx))
    _, _, _, idx, w, qx, qy, qxt, qyt, zero = bundle
    return qy @ _project_iso(qyt @ S @ qx, idx, w, zero, xp) @ qxt


def _gather(flat: Any, idx: Any) -> Any:
    """``flat[..., idx]`` for a non-negative integer index array along the last axis. torch uses
    ``index_select`` (array-api-compat's ``take`` re-maps negative indices with an extra pass every call); a
    1-D array uses integer-array indexing (Array API 2024.12), otherwise ``take``."""
    if _is_torch(flat):
        return flat.index_select(-1, idx)
    if flat.ndim == 1:
        return flat[idx]
    return array_api_compat.array_namespace(flat).take(flat, idx, axis=-1)


def _is_torch(a: Any) -> bool:
    return type(a).__module__ == "torch" or array_api_compat.is_torch_array(a)


def _project_iso(Z: Any, idx: Any, w: Any, zero: Any, xp: Any) -> Any:
    """``Π(Z)`` in the isotypic basis (one weighted gather), for ``Z`` of shape (..., D_y, D_x)."""
    *batch, dy, dx = Z.shape
    flat = xp.reshape(Z, (*batch, dy * dx))
    if batch:
        zero = xp.zeros((*batch, 1), dtype=Z.dtype, device=device_of(Z))
    g = xp.reshape(_gather(xp.concat((flat, zero), axis=-1), idx), (*batch, *w.shape))
    return xp.reshape(xp.sum(g * w, axis=-2), (*batch, dy, dx))


def _reynolds_diag(v_or_S: Any, plan: _PairPlan, xp: Any, bundle: tuple, avg: Any) -> Any:
    """``diag R(S)`` for an auto-covariance: from ``diag S`` for signed permutations (``avg`` is the orbit
    average), from ``S`` otherwise."""
    if avg is not None:
        return v_or_S @ avg
    _, _, _, idx, w, qx, _qy, qxt, _qyt, zero = bundle
    P = _project_iso(qxt @ v_or_S @ qx, idx, w, zero, xp)
    return xp.sum((qx @ P) * qx, axis=1)


# ============================================================================================ validation


def _check_rep(rep: Any, name: str) -> Rep:
    if not isinstance(rep, Rep):
        raise TypeError(f"{name} must be a symm.Rep, got {type(rep).__name__}")
    return rep


def _check_samples(x: Any, name: str, rep: Rep, rep_name: str, xp: Any) -> Any:
    if isinstance(x, np.ma.MaskedArray):  # an ndarray subclass: NumPy would drop or mishandle the mask
        raise TypeError(
            f"{name} is a numpy.ma.MaskedArray of shape {x.shape}; masked arrays are not supported (symm does "
            f"not honour masks): fill the masked entries ({name}.filled(value)) or drop the masked rows "
            f"(numpy.ma.compress_rows({name})) first"
        )
    x = as_float_array(x, xp, name)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (N, D) with samples along axis 0, got {x.ndim}-D shape "
            f"{tuple(x.shape)}"
        )
    _n_samples(x, name)
    if x.shape[1] != rep.size:
        raise ValueError(
            f"{name} has {x.shape[1]} columns but {rep_name} has size {rep.size}; {name} must have shape "
            f"(N, {rep.size})"
        )
    return x


def _check_correction(correction: Any, n: int, data: str = "x") -> float:
    """``correction`` as a float, checked against the number of samples ``n`` of ``data`` (named in errors)."""
    if isinstance(correction, bool) or not isinstance(correction, Real):
        raise TypeError(f"correction must be a real number, got {type(correction).__name__}")
    correction = float(correction)
    if not correction >= 0.0:
        raise ValueError(f"correction must be >= 0, got {correction}")
    if not n > correction:
        raise ValueError(
            f"too few samples: {data} has N={n} samples, but correction={correction:g} needs more than "
            f"{correction:g} (the normaliser N - correction must be positive)"
        )
    return correction


def _prepare(x: Any, y: Any, rep_x: Any, rep_y: Any) -> tuple[Any, Any, Any, Rep, Rep]:
    """Validate ``(x, y, rep_x, rep_y)``; returns ``(xp, x, y, rep_x, rep_y)`` with a common float dtype."""
    rep_x = _check_rep(rep_x, "rep_x")
    if y is None:
        if rep_y is not None and rep_y is not rep_x:
            _check_rep(rep_y, "rep_y")
            raise ValueError("y is None (auto-covariance of x), so rep_y must be None or rep_x")
        rep_y = rep_x
    else:
        if rep_y is None:
            raise ValueError("rep_y is required when y is given")
        rep_y = _check_rep(rep_y, "rep_y")
        rep_x, rep_y = _common_group(rep_x, rep_y, ("rep_x", "rep_y"))
    xp = namespace_of(x=x, y=y)
    x = _check_samples(x, "x", rep_x, "rep_x", xp)
    if y is not None:
        y = _check_samples(y, "y", rep_y, "rep_y", xp)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"x and y must have the same number of samples N, got {x.shape[0]} and {y.shape[0]}")
        if y.dtype != x.dtype:
            dt = xp.result_type(x, y)
            x, y = xp.astype(x, dt), xp.astype(y, dt)
    return xp, x, y, rep_x, rep_y


def _n_samples(x: Any, name: str = "x") -> int:
    n = x.shape[0]
    if n is None or n != n:  # unknown (lazy) length: None in the standard, NaN in Dask
        raise ValueError(
            f"{name} has an unknown number of samples (shape {tuple(x.shape)}), as a Dask array has after boolean "
            f"indexing; compute its length first, e.g. {name} = {name}.compute_chunk_sizes()"
        )
    return int(n)


# ============================================================================================ public API


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
    rep = _check_rep(rep, "rep")
    xp = namespace_of(x=x)
    x = _check_samples(x, "x", rep, "rep", xp)
    if _n_samples(x) < 1:
        raise ValueError(f"too few samples: x must hold at least one sample, got shape {tuple(x.shape)}")
    proj = constant(rep, "symm.stats.P", lambda: _rep_plan(rep).projector(), xp, device_of(x), x.dtype)
    return column_mean(x, xp) @ proj


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
    xp, x, y, rep_x, rep_y = _prepare(x, y, rep_x, rep_y)
    n = _n_samples(x)
    correction = _check_correction(correction, n)
    plan = _pair_plan(rep_x, rep_y)
    bundle = _bundle(plan, xp, device_of(x), x.dtype)
    comp_x, comp_y = bundle[1], bundle[2]
    xbar = column_mean(x, xp)
    xc = x - xbar
    if y is None:
        ybar, yc = xbar, xc
    else:
        ybar = column_mean(y, xp)
        yc = y - ybar
    S = _centred_moment(xc, yc, xbar, ybar, comp_x, comp_y, n, xp)
    return reynolds(S, plan, xp, bundle) / (n - correction)


def _centred_moment(xc: Any, yc: Any, xbar: Any, ybar: Any, comp_x: Any, comp_y: Any, n: int, xp: Any) -> Any:
    """``Σ (y − ν)(x − μ)ᵀ = (y − ȳ)ᵀ(x − x̄) + N (ȳ − ν)(x̄ − μ)ᵀ`` (``comp = I − P_inv``)."""
    a = ybar @ comp_y
    b = xbar @ comp_x
    return xp.matrix_transpose(yc) @ xc + xp.reshape(a * n, (-1, 1)) * xp.reshape(b, (1, -1))


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
    rep = _check_rep(rep, "rep")
    xp = namespace_of(x=x)
    x = _check_samples(x, "x", rep, "rep", xp)
    n = _n_samples(x)
    correction = _check_correction(correction, n)
    dev, dt = device_of(x), x.dtype
    plan = _pair_plan(rep, rep)
    bundle = _bundle(plan, xp, dev, dt)
    comp = bundle[1]
    proj = constant(rep, "symm.stats.P", lambda: _rep_plan(rep).projector(), xp, dev, dt)
    xbar = column_mean(x, xp)
    if plan.px.signed_perm is not None:  # diag R(S) needs only diag S: O(N·D) even where cov gathers no S
        a = xbar @ comp
        v = _centred_sum_squares(x, xbar, xp) + n * (a * a)
        out = _reynolds_diag(v, plan, xp, bundle, _orbit_average(rep, xp, dev, dt))
    else:
        xc = x - xbar
        S = _centred_moment(xc, xc, xbar, xbar, comp, comp, n, xp)
        out = _reynolds_diag(S, plan, xp, bundle, None)
    return out / (n - correction), xbar @ proj


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


def _cov_from_moments(m2: Any, xbar: Any, ybar: Any, n: int, rep_x: Rep, rep_y: Rep, correction: float, xp: Any) -> Any:
    """``cov`` from ``m2 = Σ (y − ȳ)(x − x̄)ᵀ`` and the plain means (used by the streaming estimator)."""
    correction = _check_correction(correction, n)
    plan = _pair_plan(rep_x, rep_y)
    bundle = _bundle(plan, xp, device_of(m2), m2.dtype)
    a, b = ybar @ bundle[2], xbar @ bundle[1]
    S = m2 + xp.reshape(a * n, (-1, 1)) * xp.reshape(b, (1, -1))
    return reynolds(S, plan, xp, bundle) / (n - correction)


def _var_from_moments(m2: Any, xbar: Any, n: int, rep: Rep, correction: float, xp: Any) -> Any:
    """``var`` from ``m2 = Σ (x − x̄)(x − x̄)ᵀ`` and the plain mean."""
    correction = _check_correction(correction, n)
    dev, dt = device_of(m2), m2.dtype
    plan = _pair_plan(rep, rep)
    bundle = _bundle(plan, xp, dev, dt)
    a = xbar @ bundle[1]
    if plan.px.signed_perm is not None:
        v = xp.linalg.diagonal(m2) + n * (a * a)
        return _reynolds_diag(v, plan, xp, bundle, _orbit_average(rep, xp, dev, dt)) / (n - correction)
    v = m2 + xp.reshape(a * n, (-1, 1)) * xp.reshape(a, (1, -1))
    return _reynolds_diag(v, plan, xp, bundle, None) / (n - correction)


def _orbit_average(rep: Rep, xp: Any, dev: Any, dt: Any) -> Any:
    return constant(rep, "symm.stats.orbit_average", lambda: _rep_plan(rep).orbit_average(), xp, dev, dt)


def _symmetric_mean(xbar: Any, rep: Rep, xp: Any) -> Any:
    proj = constant(rep, "symm.stats.P", lambda: _rep_plan(rep).projector(), xp, device_of(xbar), xbar.dtype)
    return xbar @ proj
