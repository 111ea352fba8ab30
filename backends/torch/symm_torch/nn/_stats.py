"""Running statistics: exponential moving averages of means and (cross-)covariances, plain and symmetric."""

from __future__ import annotations

from typing import Any

import numpy as np
import symm
import torch

from symm_torch._reps import as_rep_pair
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._hom import expand_hom, invariant_basis, register_hom

__all__ = ["EMAStats", "eEMAStats"]


def _dim(v: Any, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"{name} must be a positive int, got {v!r}")
    return v


class EMAStats(torch.nn.Module):
    r"""Exponential moving averages of the means and (cross-)covariances of ``x`` (and ``y``).

    In training mode every ``forward(x, y)`` folds the batch in: ``s ← (1 − momentum) s + momentum ŝ`` for
    ``s`` each of ``mean_x``, ``cov_xx`` and, with ``y``, ``mean_y``, ``cov_yy``, ``cov_yx``; the first batch
    initialises them. The inputs are returned unchanged, so the module can sit inside a model. In eval mode
    nothing is updated.

    Parameters
    ----------
    dim_x : int
    dim_y : int, optional
        Track ``y`` and the cross-covariance too.
    momentum : float
        In ``(0, 1]``.
    eps : float
        Added to the diagonal of the auto-covariances returned by :meth:`cov` (not to the buffers).
    center_with_running_mean : bool
        Centre the batch's second moments on the (updated) running means, dividing by ``N``; otherwise on
        the batch means, dividing by ``N − 1``.

    Attributes
    ----------
    mean_x, mean_y : torch.Tensor
        ``(dim_x,)``, ``(dim_y,)``.
    cov_xx, cov_yy, cov_yx : torch.Tensor
        ``(dim_x, dim_x)``, ``(dim_y, dim_y)``, ``(dim_y, dim_x)``.

    Notes
    -----
    ``forward(x, y=None)``: ``x`` of shape ``(..., dim_x)``, ``y`` of shape ``(..., dim_y)`` (statistics over
    every leading axis); returns ``(x, y)``.
    """

    def __init__(
        self,
        dim_x: int,
        dim_y: int | None = None,
        momentum: float = 0.1,
        eps: float = 1e-6,
        center_with_running_mean: bool = True,
    ) -> None:
        super().__init__()
        self.dim_x = _dim(dim_x, "dim_x")
        self.dim_y = None if dim_y is None else _dim(dim_y, "dim_y")
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        self.momentum, self.eps = float(momentum), float(eps)
        self.center_with_running_mean = bool(center_with_running_mean)
        self._register_stats()
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def _names(self) -> list[str]:
        return ["mean_x", "cov_xx"] + ([] if self.dim_y is None else ["mean_y", "cov_yy", "cov_yx"])

    # storage: dense here; the symmetric subclass stores coordinates
    def _register_stats(self) -> None:
        shapes = {"mean_x": (self.dim_x,), "cov_xx": (self.dim_x, self.dim_x)}
        if self.dim_y is not None:
            shapes |= {"mean_y": (self.dim_y,), "cov_yy": (self.dim_y, self.dim_y), "cov_yx": (self.dim_y, self.dim_x)}
        for name in self._names():
            self.register_buffer(name, torch.zeros(shapes[name]))

    def _stat(self, name: str) -> torch.Tensor:
        return getattr(self, name)

    def _ema(self, name: str, value: torch.Tensor, m: float) -> None:
        getattr(self, name).lerp_(value, m)

    def _dtype(self) -> torch.dtype:
        return next(b for b in self.buffers() if b.is_floating_point()).dtype

    # the symmetric subclass overrides these two
    def _mean(self, x: torch.Tensor, which: str) -> torch.Tensor:
        return x.mean(0)

    def _project(self, C: torch.Tensor, which: str) -> torch.Tensor:
        return C

    def _check(self, t: Any, dim: int, arg: str) -> torch.Tensor:
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{arg} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim < 1 or t.shape[-1] != dim:
            raise ValueError(f"{arg} must have {dim} features on its last axis, got shape {tuple(t.shape)}")
        if t.dtype != self._dtype():
            raise TypeError(
                f"{arg} has dtype {t.dtype} but the statistics are kept in {self._dtype()}; convert one of them"
            )
        return t.reshape(-1, dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Update the running statistics (training mode) and return ``(x, y)`` unchanged."""
        xf = self._check(x, self.dim_x, "x")
        if (y is None) != (self.dim_y is None):
            raise TypeError("y must be given exactly when the module was built with dim_y")
        yf = None if y is None else self._check(y, self.dim_y, "y")
        if yf is not None and yf.shape[0] != xf.shape[0]:
            raise ValueError(f"x and y must have the same number of samples, got {xf.shape[0]} and {yf.shape[0]}")
        if self.training:
            with torch.no_grad():
                self._update(xf.detach(), None if yf is None else yf.detach())
        return x, y

    def _update(self, x: torch.Tensor, y: torch.Tensor | None) -> None:
        first = int(self.num_batches_tracked) == 0
        m = 1.0 if first else self.momentum
        N = x.shape[0]
        if N < 2 and not self.center_with_running_mean:
            raise ValueError("centring on the batch mean needs at least 2 samples per batch")
        pairs = [("x", x)] + ([] if y is None else [("y", y)])
        centred = {}
        for which, t in pairs:
            bm = self._mean(t, which)
            self._ema(f"mean_{which}", bm, m)
            centred[which] = t - (self._stat(f"mean_{which}") if self.center_with_running_mean else bm)
        denom = N if self.center_with_running_mean else N - 1
        self._ema("cov_xx", self._project(centred["x"].T @ centred["x"] / denom, "xx"), m)
        if y is not None:
            self._ema("cov_yy", self._project(centred["y"].T @ centred["y"] / denom, "yy"), m)
            self._ema("cov_yx", self._project(centred["y"].T @ centred["x"] / denom, "yx"), m)
        self.num_batches_tracked.add_(1)

    def mean(self, which: str = "x") -> torch.Tensor:
        """The running mean of ``x`` or ``y``."""
        if which not in ("x", "y") or (which == "y" and self.dim_y is None):
            allowed = "'x' or 'y'" if self.dim_y else "'x'"
            raise ValueError(f"which must be {allowed}, got {which!r}")
        return self._stat(f"mean_{which}")

    def cov(self, which: str = "xx") -> torch.Tensor:
        """The running ``"xx"``, ``"yy"`` (with ``eps`` on the diagonal) or ``"yx"`` covariance."""
        if which not in ("xx", "yy", "yx") or (which != "xx" and self.dim_y is None):
            raise ValueError(f"which must be 'xx'{', yy or yx' if self.dim_y else ''}, got {which!r}")
        C = self._stat(f"cov_{which}")
        if which == "yx":
            return C
        return C + self.eps * torch.eye(C.shape[0], dtype=C.dtype, device=C.device)

    def export(self) -> torch.nn.Module:
        """A ``torch.nn.Identity``: the module computes the identity (apply it to ``x`` and ``y`` alike); the
        statistics are buffers, read them before exporting."""
        return torch.nn.Identity()


class eEMAStats(EMAStats, EquivariantModule):
    r"""Symmetric exponential moving averages, kept in ``Hom_G`` coordinates.

    The batch mean is ``P_inv x̄`` and the batch (cross-)covariance ``R(Ĉ) = (1/|G|) Σ_g ρ_y(g) Ĉ ρ_x(g)ᵀ``,
    the same projection as :func:`symm.cov` and :class:`symm.SymmetricMoments` (computed with
    :func:`symm.mean` and :func:`symm.project_equivariant`). The running statistics are stored as
    coordinates: a mean as its ``m_triv`` coordinates on the invariant subspace (``mean_x_coords``), a
    covariance as its ``hom_dim`` coordinates ``Θ`` in ``W = Q_y (⊕_k Σ_b Θ_{k,b} ⊗ E_b) Q_xᵀ``
    (``cov_xx_coords``, …), the parameterisation of :class:`~symm_torch.nn.eLinear`. A moving average of
    coordinates is a moving average of the matrices, so the running statistics are exactly symmetric at
    every step and equal the moving averages of the statistics of the orbit-augmented batches; memory is
    ``O(hom_dim)`` instead of ``O(D²)``. ``mean_x``, ``cov_xx``, … are the dense matrices rebuilt from them.

    Parameters
    ----------
    x_rep : symm.Rep or escnn FieldType / Representation
    y_rep : optional
        Of the same group.
    momentum, eps, center_with_running_mean
        As in :class:`EMAStats`.

    Notes
    -----
    ``forward(x, y=None)``: ``x`` of shape ``(..., D_x)``, ``y`` of shape ``(..., D_y)``; returns ``(x, y)``.
    ``ValueError`` at construction when ``x_rep`` (or ``y_rep``) has no trivial irrep (the mean would be
    identically zero) or ``Hom_G(x_rep, y_rep) = 0``.
    """

    def __init__(
        self,
        x_rep: Any,
        y_rep: Any = None,
        momentum: float = 0.1,
        eps: float = 1e-6,
        center_with_running_mean: bool = True,
    ) -> None:
        if x_rep is None:
            raise TypeError("missing the argument x_rep")
        rx, ry = as_rep_pair(x_rep, y_rep, ("x_rep", "y_rep"))
        self._reps = {"x": rx, "y": ry}
        super().__init__(rx.size, None if ry is None else ry.size, momentum, eps, center_with_running_mean)
        self.x_rep, self.y_rep = rx, ry
        self.in_rep = self.out_rep = rx
        self.in_type = self.out_type = x_rep

    def _register_stats(self) -> None:
        self._plans: dict[str, Any] = {}
        for name in self._names():
            kind, which = name.split("_")
            if kind == "mean":
                rep = self._reps[which]
                q = invariant_basis(rep)
                if q.shape[1] == 0:
                    raise ValueError(
                        f"eEMAStats: {rep.name} has no trivial irrep, so its symmetric mean is identically zero "
                        "(the invariant subspace has dimension 0)"
                    )
                self._register_constant(f"Q_inv_{which}", q)
                size = q.shape[1]
            else:
                plan = register_hom(self, self._reps[which[1]], self._reps[which[0]], prefix=f"{which}_")
                d = np.concatenate([np.full(c.s * c.m_y * c.m_x, float(c.d)) for c in plan.components])
                self._register_constant(f"{which}_d", d)
                self._plans[which] = plan
                size = plan.dim
            self.register_buffer(f"{name}_coords", torch.zeros(size))

    def _encode(self, name: str, value: torch.Tensor) -> torch.Tensor:
        kind, which = name.split("_")
        if kind == "mean":
            return value @ getattr(self, f"Q_inv_{which}")
        plan = self._plans[which]  # adjoint of the expansion, then (E_b orthogonal, ‖E_b‖² = d) divide by d
        with torch.enable_grad():
            theta = torch.zeros(plan.dim, dtype=value.dtype, device=value.device, requires_grad=True)
            (adj,) = torch.autograd.grad(expand_hom(self, plan, theta), theta, value)
        return adj / getattr(self, f"{which}_d")

    def _stat(self, name: str) -> torch.Tensor:
        kind, which = name.split("_")
        coords = getattr(self, f"{name}_coords")
        if kind == "mean":
            return getattr(self, f"Q_inv_{which}") @ coords
        return expand_hom(self, self._plans[which], coords)

    def _ema(self, name: str, value: torch.Tensor, m: float) -> None:
        getattr(self, f"{name}_coords").lerp_(self._encode(name, value), m)

    @property
    def mean_x(self) -> torch.Tensor:
        """The running symmetric mean of ``x``, (D_x,)."""
        return self._stat("mean_x")

    @property
    def mean_y(self) -> torch.Tensor:
        """The running symmetric mean of ``y``, (D_y,)."""
        return self._stat("mean_y")

    @property
    def cov_xx(self) -> torch.Tensor:
        """The running symmetric covariance of ``x``, (D_x, D_x)."""
        return self._stat("cov_xx")

    @property
    def cov_yy(self) -> torch.Tensor:
        """The running symmetric covariance of ``y``, (D_y, D_y)."""
        return self._stat("cov_yy")

    @property
    def cov_yx(self) -> torch.Tensor:
        """The running symmetric cross-covariance, (D_y, D_x)."""
        return self._stat("cov_yx")

    def _mean(self, x: torch.Tensor, which: str) -> torch.Tensor:
        return symm.mean(x, self._reps[which])

    def _project(self, C: torch.Tensor, which: str) -> torch.Tensor:
        return symm.project_equivariant(C, self._reps[which[1]], self._reps[which[0]])
