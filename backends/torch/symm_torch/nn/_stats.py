"""Running statistics: exponential moving averages of means and (cross-)covariances, plain and symmetric."""

from __future__ import annotations

from typing import Any

import symm
import torch

from symm_torch._reps import as_rep, check_same_group

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
        self.register_buffer("mean_x", torch.zeros(self.dim_x))
        self.register_buffer("cov_xx", torch.zeros(self.dim_x, self.dim_x))
        if self.dim_y is not None:
            self.register_buffer("mean_y", torch.zeros(self.dim_y))
            self.register_buffer("cov_yy", torch.zeros(self.dim_y, self.dim_y))
            self.register_buffer("cov_yx", torch.zeros(self.dim_y, self.dim_x))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

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
        if t.dtype != self.mean_x.dtype:
            raise TypeError(
                f"{arg} has dtype {t.dtype} but the statistics are kept in {self.mean_x.dtype}; convert one of them"
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
        pairs = [("x", x, self.mean_x)] + ([] if y is None else [("y", y, self.mean_y)])
        centred = {}
        for which, t, run in pairs:
            bm = self._mean(t, which)
            run.lerp_(bm, m)
            centred[which] = t - (run if self.center_with_running_mean else bm)
        denom = N if self.center_with_running_mean else N - 1
        self.cov_xx.lerp_(self._project(centred["x"].T @ centred["x"] / denom, "xx"), m)
        if y is not None:
            self.cov_yy.lerp_(self._project(centred["y"].T @ centred["y"] / denom, "yy"), m)
            self.cov_yx.lerp_(self._project(centred["y"].T @ centred["x"] / denom, "yx"), m)
        self.num_batches_tracked.add_(1)

    def mean(self, which: str = "x") -> torch.Tensor:
        """The running mean of ``x`` or ``y``."""
        return {"x": self.mean_x, "y": getattr(self, "mean_y", None)}[which]

    def cov(self, which: str = "xx") -> torch.Tensor:
        """The running ``"xx"``, ``"yy"`` (with ``eps`` on the diagonal) or ``"yx"`` covariance."""
        if which not in ("xx", "yy", "yx") or (which != "xx" and self.dim_y is None):
            raise ValueError(f"which must be 'xx'{', yy or yx' if self.dim_y else ''}, got {which!r}")
        C = getattr(self, f"cov_{which}")
        if which == "yx":
            return C
        return C + self.eps * torch.eye(C.shape[0], dtype=C.dtype, device=C.device)

    def export(self) -> torch.nn.Module:
        """The computed function is the identity on ``(x, y)``: a ``torch.nn.Identity``."""
        return torch.nn.Identity()


class eEMAStats(EMAStats):
    r"""Symmetric exponential moving averages: :class:`EMAStats` whose batch statistics are projected.

    The batch mean is ``P_inv x̄`` and the batch (cross-)covariance ``R(Ĉ) = (1/|G|) Σ_g ρ_y(g) Ĉ ρ_x(g)ᵀ``,
    the same projection as :func:`symm.cov` and :class:`symm.SymmetricMoments` (they are computed with
    :func:`symm.mean` and :func:`symm.project_equivariant`). A convex combination of invariant vectors and of
    elements of ``Hom_G`` stays in them, so the running statistics are exactly symmetric at every step:
    ``P_inv mean_x = mean_x`` and ``ρ_y(g) cov_yx ρ_x(g)ᵀ = cov_yx``; they equal the moving averages of the
    statistics of the orbit-augmented batches. The buffers are kept dense, ``(D_y, D_x)``, not in ``Hom_G``
    coordinates.

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
    """

    def __init__(
        self,
        x_rep: Any,
        y_rep: Any = None,
        momentum: float = 0.1,
        eps: float = 1e-6,
        center_with_running_mean: bool = True,
    ) -> None:
        rx = as_rep(x_rep, "x_rep")
        ry = None if y_rep is None else as_rep(y_rep, "y_rep")
        if ry is not None:
            check_same_group(rx, ry, ("x_rep", "y_rep"))
        super().__init__(rx.size, None if ry is None else ry.size, momentum, eps, center_with_running_mean)
        self.x_rep, self.y_rep = rx, ry

    def _mean(self, x: torch.Tensor, which: str) -> torch.Tensor:
        return symm.mean(x, self.x_rep if which == "x" else self.y_rep)

    def _project(self, C: torch.Tensor, which: str) -> torch.Tensor:
        reps = {"xx": (self.x_rep, self.x_rep), "yy": (self.y_rep, self.y_rep), "yx": (self.x_rep, self.y_rep)}
        return symm.project_equivariant(C, *reps[which])
