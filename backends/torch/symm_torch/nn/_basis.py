"""Change2DisentangledBasis and IrrepSubspaceNormPooling: dense modules, features on the last axis.

Both take ``axis=`` for features elsewhere. In symm-torch 0.1 their features were on axis 1, ``(B, D)`` or
``(B, D, T)``; a module built without ``axis`` still reads a ``(B, D, T)`` input that way when it cannot be
channels-last (its last axis is not ``D``), with a ``FutureWarning``.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from symm.internal import copy_norm_rows

from symm_torch._escnn import is_field_type
from symm_torch.nn._base import EquivariantModule

__all__ = ["Change2DisentangledBasis", "IrrepSubspaceNormPooling", "copy_norms", "trivial_field_type"]


def trivial_field_type(like: Any, n: int) -> Any:
    """``n`` trivial fields on ``like``'s gspace (an escnn ``FieldType``)."""
    trivial = like.gspace.fibergroup.trivial_representation
    return type(like)(like.gspace, [trivial] * n)


def copy_norms(x: torch.Tensor, P: torch.Tensor, n: int, d: int) -> torch.Tensor:
    """``‖Q_cᵀ x‖`` of every copy ``c``: ``x`` (..., D), ``P`` (n d, D) with copy ``c`` in rows ``c d … c d + d_c``
    (zero-padded), output (..., n). Torch-only code, shared with the exported module."""
    z = x @ P.transpose(0, 1)
    return torch.linalg.vector_norm(z.reshape(list(z.shape[:-1]) + [n, d]), dim=-1)  # noqa: RUF005 (TorchScript)


class _ExportedNormPool(torch.nn.Module):
    """Torch-only :class:`IrrepSubspaceNormPooling` for any input rank, features on ``axis``; exported through
    ``torch.jit.script``."""

    def __init__(self, P: torch.Tensor, n: int, d: int, axis: int) -> None:
        super().__init__()
        self.register_buffer("P", P.detach().clone())
        self.n, self.d, self.axis = n, d, axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return copy_norms(x.movedim(self.axis, -1), self.P, self.n, self.d).movedim(-1, self.axis)


class _OnAxis(torch.nn.Module):
    """``inner`` applied to the features on ``axis`` of an input of any rank; exported through TorchScript."""

    def __init__(self, inner: torch.nn.Module, axis: int) -> None:
        super().__init__()
        self.inner, self.axis = inner, axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.movedim(self.axis, -1)).movedim(-1, self.axis)


def _check_axis(axis: Any) -> int | None:
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int)):
        raise TypeError(f"axis must be an int, got {axis!r}")
    return axis


class _DenseBasisModule(EquivariantModule):
    """Shared input handling of the two modules below: features on ``axis`` (default last), any rank."""

    axis = -1
    _axis_given = False  # class defaults: modules pickled before ``axis`` existed read inputs as built without it

    def __init__(self, in_rep: Any, axis: int | None, in_type: Any) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        self._axis_given = _check_axis(axis) is not None
        self.axis = -1 if axis is None else axis

    def _feature_axis(self, x: torch.Tensor) -> int:
        """The axis of ``x`` holding the features; see the module docstring for the old-convention fallback."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        D, shape = self.in_rep.size, tuple(x.shape)
        if self._axis_given:
            if x.ndim == 0 or not -x.ndim <= self.axis < x.ndim or x.shape[self.axis] != D:
                raise ValueError(f"x must have {D} features (the size of in_rep) on axis {self.axis}, got {shape}")
            return self.axis
        if x.ndim >= 3 and x.shape[1] == D:
            name = type(self).__name__
            if x.shape[-1] != D:
                warnings.warn(
                    f"{name} got an input of shape {shape}, whose features are on axis 1, (B, D, T): the convention "
                    f"of symm-torch 0.1. Features are now on the last axis, (..., D), as in torch.nn.Linear; "
                    f"this input is read the old way for now. Build the module with axis=1 to keep (B, D, T) "
                    f"inputs (and silence this warning), or move the features last.",
                    FutureWarning,
                    stacklevel=6,
                )
                return 1
            warnings.warn(
                f"{name} got an input of shape {shape}, with {D} (the size of in_rep) on both axis 1 and the last "
                f"axis. Features are now read on the last axis, (..., D); in symm-torch 0.1 they were read on "
                f"axis 1. Pass axis=-1 or axis=1 at construction to say which.",
                FutureWarning,
                stacklevel=6,
            )
        if x.ndim == 0 or x.shape[-1] != D:
            raise ValueError(f"x must have {D} features (the size of in_rep) on its last axis, got shape {shape}")
        return -1

    def _forward_geometric(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply_on(x, 1)  # a GeometricTensor has its features on axis 1

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        axis = self._feature_axis(x)
        self._check_dtype(x)
        return self._apply_on(x, axis)

    def _apply_on(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        raise NotImplementedError

    def _export_on_axis(self, inner: torch.nn.Module) -> torch.nn.Module:
        """``inner`` (features last) as is, or wrapped for the module's ``axis`` (TorchScript)."""
        if self.axis == -1:
            return inner
        return torch.jit.script(_OnAxis(inner, self.axis))

    def _legacy_ndim(self, ndim: Any) -> int:
        if ndim not in (2, 3):
            raise ValueError(f"ndim must be None, 2 (inputs (B, D)) or 3 (inputs (B, D, T)), got {ndim!r}")
        if ndim == 3 and not (self._axis_given and self.axis == 1):
            warnings.warn(
                f"{type(self).__name__}.export(ndim=3) returns a module for inputs (B, D, T), features on axis 1 "
                f"(the convention of symm-torch 0.1). Build the module with axis=1 and call export(), which "
                f"takes inputs of any rank with features on the module's axis.",
                FutureWarning,
                stacklevel=3,
            )
        return ndim


class Change2DisentangledBasis(_DenseBasisModule):
    r"""Move features to the isotypic (disentangled) basis: ``z = Qᵀ x``.

    In that basis ``ρ(g) = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``: the trivial component first, copies-major inside each
    component. ``out_rep`` is the same rep written in that basis (its change of basis is the identity).

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        The representation of the input features (size ``D``). ``in_type`` is a keyword alias.
    axis : int, default -1
        The feature axis. Without it, a ``(B, D, T)`` input whose last axis is not ``D`` is read with features
        on axis 1 (the convention of symm-torch 0.1) with a ``FutureWarning``; pass ``axis=1`` for that.

    Notes
    -----
    Input ``(..., D)`` (features last, as ``torch.nn.Linear``; any rank ≥ 1), or ``D`` features on ``axis``;
    output of the same shape. A ``GeometricTensor`` has its features on axis 1.
    """

    def __init__(self, in_rep: Any = None, axis: int | None = None, *, in_type: Any = None) -> None:
        super().__init__(in_rep, axis, in_type)
        Q = self.in_rep.change_of_basis
        self.out_rep = self.in_rep.change_basis(Q.T, name=f"{self.in_rep.name}_isotypic")
        self.out_type = self.out_rep
        if is_field_type(self.in_type):
            self.out_type = type(self.in_type)(self.in_type.gspace, [self.out_rep.to_escnn()])
        self._register_constant("Q", Q)
        self._register_constant("QT", Q.T)

    def _apply_on(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        if axis == -1 or axis == x.ndim - 1:
            return x @ self.Q
        return (x.movedim(axis, -1) @ self.Q).movedim(-1, axis)

    def export(self, ndim: int | None = None) -> torch.nn.Module:
        """Plain torch modules for inputs of any rank: a ``torch.nn.Linear`` (features on the last axis), or a
        TorchScript module around it for another ``axis``.

        ``ndim=2`` (inputs (B, D)) gives the ``Linear``; ``ndim=3`` a 1×1 ``torch.nn.Conv1d`` for inputs
        (B, D, T), deprecated (``FutureWarning``) unless the module was built with ``axis=1``.
        """
        D, QT = self.in_rep.size, self.QT
        if ndim is None or self._legacy_ndim(ndim) == 2:
            mod = torch.nn.Linear(D, D, bias=False, device=QT.device, dtype=QT.dtype)
            w = QT
        else:
            mod = torch.nn.Conv1d(D, D, 1, bias=False, device=QT.device, dtype=QT.dtype)
            w = QT[..., None]
        with torch.no_grad():
            mod.weight.copy_(w)
        return self._export_on_axis(mod) if ndim is None else mod


class IrrepSubspaceNormPooling(_DenseBasisModule):
    r"""One invariant feature per irreducible copy: the norm of the features' component in that copy.

    With ``Q_c`` the ``d_c`` columns of ``Q`` spanning copy ``c``, the output is ``‖Q_cᵀ x‖₂`` for every copy
    (in the order of ``in_rep.irreps``). Invariant because ``ρ(g)`` acts on ``Q_cᵀ x`` by the orthogonal
    ``ρ̂(g)``.

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Input representation of size ``D`` with ``n`` irreducible copies. ``in_type`` is a keyword alias.
    axis : int, default -1
        The feature axis. Without it, a ``(B, D, T)`` input whose last axis is not ``D`` is read with features
        on axis 1 (the convention of symm-torch 0.1) with a ``FutureWarning``; pass ``axis=1`` for that.

    Notes
    -----
    Input ``(..., D)`` (features last; any rank ≥ 1), or ``D`` features on ``axis``; output ``(..., n)``, the
    ``n`` norms in place of the features: a trivial rep of size ``n``.
    """

    def __init__(self, in_rep: Any = None, axis: int | None = None, *, in_type: Any = None) -> None:
        super().__init__(in_rep, axis, in_type)
        rows, d_max = copy_norm_rows(self.in_rep)  # copy c in rows c*d_max .. c*d_max+d_c; the rest are zero
        n = rows.shape[0] // d_max
        self.n_copies, self.d_max = n, d_max
        self._register_constant("P", rows)
        self.out_rep = self.in_rep.group.trivial_rep(n)
        self.out_type = trivial_field_type(self.in_type, n) if is_field_type(self.in_type) else self.out_rep

    def _apply_on(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        return copy_norms(x.movedim(axis, -1), self.P, self.n_copies, self.d_max).movedim(-1, axis)

    def export(self, ndim: int | None = None) -> torch.nn.Module:
        """Plain torch modules: a TorchScript module for inputs of any rank with features on ``axis``.

        ``ndim=2`` (inputs (B, D)) gives a ``torch.nn.Sequential``: a ``Linear`` projection, then an L2
        ``LPPool1d`` per copy; ``ndim=3`` the same with a 1×1 ``Conv1d`` for inputs (B, D, T), deprecated
        (``FutureWarning``) unless the module was built with ``axis=1``.
        """
        P, L, d = self.P, self.P.shape[0], self.d_max
        if ndim is None:
            return torch.jit.script(_ExportedNormPool(P, self.n_copies, d, self.axis))
        D = self.in_rep.size
        if self._legacy_ndim(ndim) == 2:
            proj = torch.nn.Linear(D, L, bias=False, device=P.device, dtype=P.dtype)
            w, pool, flat = P, torch.nn.LPPool1d(2, d, stride=d), torch.nn.Flatten(1)
        else:
            proj = torch.nn.Conv1d(D, L, 1, bias=False, device=P.device, dtype=P.dtype)
            w, pool, flat = P[..., None], torch.nn.LPPool2d(2, (d, 1), stride=(d, 1)), torch.nn.Flatten(1, 2)
        with torch.no_grad():
            proj.weight.copy_(w)
        return torch.nn.Sequential(proj, torch.nn.Unflatten(1, (1, L)), pool, flat)
