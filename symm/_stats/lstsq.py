"""Equivariant least squares, solved block by block in the isotypic basis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

from symm._engine import PairPlan, change_of_basis, pair_plan, projection_gather
from symm._rep import Rep, shared_components
from symm._validate import n_samples, prepare
from symm._xp import constant, device_of, gather

__all__ = ["lstsq", "solve_grams"]


def lstsq(x: Any, y: Any, rep_x: Rep, rep_y: Rep) -> Any:
    """The equivariant least-squares map: ``A ∈ Hom_G(ρ_x, ρ_y)`` minimising ``‖Y − X Aᵀ‖_F``.

    The minimiser of minimum Frobenius norm is ``A = R(Σ y xᵀ) R(Σ x xᵀ)⁺`` with
    ``R(M) = (1/|G|) Σ_g ρ_y(g) M ρ_x(g)ᵀ``; it equals plain least squares on the orbit-augmented data
    ``{(ρ_x(g) x_n, ρ_y(g) y_n)}``. Both projected Gram matrices are block diagonal in the isotypic bases, so
    the pseudo-inverse is taken on each isotypic component separately (``m_k d_k`` square blocks, one
    batched call), and the result is mapped back, ``A = Q_y (⊕_k B_k) Q_xᵀ``. There is no intercept: centre
    the data first for an affine fit.

    Parameters
    ----------
    x : array, shape (N, D_x)
        Inputs, samples along axis 0.
    y : array, shape (N, D_y)
        Targets.
    rep_x, rep_y : Rep
        Representations of the rows of ``x`` and ``y``, of the same group.

    Returns
    -------
    array, shape (D_y, D_x)
        ``A`` with ``y_n ≈ A x_n``, in the inputs' namespace, device and dtype. Singular directions of the
        projected Gram matrix get the minimum-norm answer (relative cut-off ``max(m d)·eps`` per block).

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(3).permutation_rep()
    >>> x = np.random.default_rng(0).normal(size=(20, 3))
    >>> A_true = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [1.0, 0.0, 2.0]])  # a circulant
    >>> A = symm.lstsq(x, x @ A_true.T, rep, rep)
    >>> bool(np.allclose(A, A_true))
    True
    """
    if y is None:
        raise TypeError("lstsq() needs targets y of shape (N, D_y)")
    xp, x, y, rep_x, rep_y = prepare(x, y, rep_x, rep_y)
    if n_samples(x) < 1:
        raise ValueError(f"too few samples: x must hold at least one sample, got shape {tuple(x.shape)}")
    xt = xp.matrix_transpose(x)
    return solve_grams(xt @ x, xp.matrix_transpose(y) @ x, rep_x, rep_y, xp)


# --------------------------------------------------------------------------------------------- internals


class _LstsqTables:
    """Host gather tables of the block-wise solve for one ``(rep_x, rep_y)`` pair."""

    def __init__(self, plan: PairPlan) -> None:
        rep_x, rep_y = plan.reps()
        dx, dy = rep_x.size, rep_y.size
        shared = shared_components(rep_x, rep_y)
        self.k = len(shared)
        self.nx = max((cx.dim for _, cx, _ in shared), default=1)
        self.ny = max((cy.dim for _, _, cy in shared), default=1)
        k, nx, ny = max(self.k, 1), self.nx, self.ny
        # Π on Zxx = Q_xᵀ Cxx Q_x and on Zyx = Q_yᵀ Cyx Q_x, cut into per-component blocks (zero padded).
        idx_xx, w_xx = projection_gather(rep_x, rep_x)
        idx_yx, w_yx = projection_gather(rep_x, rep_y)
        idx_xx, w_xx = idx_xx.reshape(-1, dx * dx).T, w_xx.T  # to (D·D, t): one row per output entry
        idx_yx, w_yx = idx_yx.reshape(-1, dy * dx).T, w_yx.T
        self.idx_xx = np.full((k, nx, nx, idx_xx.shape[1]), dx * dx, dtype=np.int64)
        self.w_xx = np.zeros((k, nx, nx, idx_xx.shape[1]))
        self.idx_yx = np.full((k, ny, nx, idx_yx.shape[1]), dy * dx, dtype=np.int64)
        self.w_yx = np.zeros((k, ny, nx, idx_yx.shape[1]))
        # Back from the batch W (k, ny, nx) (flattened, zero appended) to the isotypic D_y × D_x matrix.
        self.idx_back = np.full((dy, dx), k * ny * nx, dtype=np.int64)
        for c, (_, cx, cy) in enumerate(shared):
            rx = np.arange(cx.slice.start, cx.slice.stop)
            ry = np.arange(cy.slice.start, cy.slice.stop)
            pos = (rx[:, None] * dx + rx[None, :]).reshape(-1)
            self.idx_xx[c, : len(rx), : len(rx)] = idx_xx[pos].reshape(len(rx), len(rx), -1)
            self.w_xx[c, : len(rx), : len(rx)] = w_xx[pos].reshape(len(rx), len(rx), -1)
            pos = (ry[:, None] * dx + rx[None, :]).reshape(-1)
            self.idx_yx[c, : len(ry), : len(rx)] = idx_yx[pos].reshape(len(ry), len(rx), -1)
            self.w_yx[c, : len(ry), : len(rx)] = w_yx[pos].reshape(len(ry), len(rx), -1)
            local = c * ny * nx + np.arange(len(ry))[:, None] * nx + np.arange(len(rx))[None, :]
            self.idx_back[np.ix_(ry, rx)] = local


@dataclass(frozen=True)
class _DeviceTables:
    """The tables of :class:`_LstsqTables` and the change of basis on one ``(namespace, device, dtype)``."""

    host: _LstsqTables
    idx_xx: Any
    w_xx: Any
    idx_yx: Any
    w_yx: Any
    idx_back: Any
    qx: Any
    qxt: Any
    qy: Any
    qyt: Any
    zero: Any


def _device_tables(plan: PairPlan, xp: Any, dev: Any, dt: Any) -> _DeviceTables:
    return plan.on_device("lstsq", xp, dev, dt, lambda: _build_device_tables(plan, xp, dev, dt))


def _build_device_tables(plan: PairPlan, xp: Any, dev: Any, dt: Any) -> _DeviceTables:
    rep_x, rep_y = plan.reps()
    tabs = plan.host_table("lstsq", lambda: _LstsqTables(plan))
    i64 = xp.int64
    return _DeviceTables(
        tabs,
        constant(plan, "lstsq.idx_xx", lambda: tabs.idx_xx.reshape(-1), xp, dev, i64),
        constant(plan, "lstsq.w_xx", lambda: tabs.w_xx, xp, dev, dt),
        constant(plan, "lstsq.idx_yx", lambda: tabs.idx_yx.reshape(-1), xp, dev, i64),
        constant(plan, "lstsq.w_yx", lambda: tabs.w_yx, xp, dev, dt),
        constant(plan, "lstsq.idx_back", lambda: tabs.idx_back.reshape(-1), xp, dev, i64),
        change_of_basis(rep_x, xp, dev, dt),
        change_of_basis(rep_x, xp, dev, dt, transpose=True),
        change_of_basis(rep_y, xp, dev, dt),
        change_of_basis(rep_y, xp, dev, dt, transpose=True),
        constant(plan, "zero", lambda: np.zeros(1), xp, dev, dt),
    )


def solve_grams(cxx: Any, cyx: Any, rep_x: Rep, rep_y: Rep, xp: Any) -> Any:
    """``R(Cyx) R(Cxx)⁺`` from the raw Gram matrices ``Cxx = Σ x xᵀ`` (D_x, D_x), ``Cyx = Σ y xᵀ``."""
    plan = pair_plan(rep_x, rep_y)
    dev, dt = device_of(cxx), cxx.dtype
    t = _device_tables(plan, xp, dev, dt)
    dx, dy = rep_x.size, rep_y.size
    if t.host.k == 0:
        return xp.zeros((dy, dx), dtype=dt, device=dev)
    zxx = xp.concat((xp.reshape(t.qxt @ cxx @ t.qx, (-1,)), t.zero))
    zyx = xp.concat((xp.reshape(t.qyt @ cyx @ t.qx, (-1,)), t.zero))
    bxx = xp.sum(xp.reshape(gather(zxx, t.idx_xx), t.w_xx.shape) * t.w_xx, axis=-1)
    byx = xp.sum(xp.reshape(gather(zyx, t.idx_yx), t.w_yx.shape) * t.w_yx, axis=-1)
    blocks = byx @ _pinv(bxx, xp)  # (k, ny, nx)
    flat = xp.concat((xp.reshape(blocks, (-1,)), t.zero))
    a_iso = xp.reshape(gather(flat, t.idx_back), (dy, dx))
    return t.qy @ a_iso @ t.qxt


def _pinv(b: Any, xp: Any) -> Any:
    """Batched Moore–Penrose pseudo-inverse; Dask has none in its Array API namespace, so there each (small)
    batch is inverted lazily chunk-wise with NumPy (the chunks of a Dask array are NumPy arrays)."""
    if array_api_compat.is_dask_namespace(xp):
        b = b.rechunk(b.shape)
        eps = float(np.finfo(np.dtype(b.dtype)).eps)
        rcond = max(b.shape[-2:]) * eps
        return b.map_blocks(lambda blk: np.linalg.pinv(blk, rcond), dtype=b.dtype)
    return xp.linalg.pinv(b)
