"""Change2DisentangledBasis and IrrepSubspaceNormPooling."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from symm_torch._escnn import is_field_type
from symm_torch._reps import as_rep
from symm_torch.nn._base import EquivariantModule

__all__ = ["Change2DisentangledBasis", "IrrepSubspaceNormPooling", "trivial_field_type"]


def trivial_field_type(like: Any, n: int) -> Any:
    """``n`` trivial fields on ``like``'s gspace (an escnn ``FieldType``)."""
    trivial = like.gspace.fibergroup.trivial_representation
    return type(like)(like.gspace, [trivial] * n)


def _check_ndim(module: EquivariantModule, x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    D = module.in_rep.size
    if x.ndim not in (2, 3) or x.shape[1] != D:
        raise ValueError(f"x must have shape (B, {D}) or (B, {D}, T) (features on axis 1), got shape {tuple(x.shape)}")


def _check_export_ndim(ndim: Any) -> int:
    if ndim not in (2, 3):
        raise ValueError(f"ndim must be 2 (inputs (B, D)) or 3 (inputs (B, D, T)), got {ndim!r}")
    return ndim


class Change2DisentangledBasis(EquivariantModule):
    r"""Move features to the isotypic (disentangled) basis: ``z = Qᵀ x``.

    In that basis ``ρ(g) = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``: the trivial component first, copies-major inside each
    component. ``out_rep`` is the same rep written in that basis (its change of basis is the identity).

    Parameters
    ----------
    in_type : symm.Rep or escnn FieldType
        The representation of the input features (size ``D``).

    Notes
    -----
    Input ``(B, D)`` or ``(B, D, T)`` (features on axis 1, as in escnn); output of the same shape.
    """

    def __init__(self, in_type: Any) -> None:
        super().__init__()
        self.in_type = in_type
        self.in_rep = as_rep(in_type, "in_type")
        Q = self.in_rep.change_of_basis
        self.out_rep = self.in_rep.change_basis(Q.T, name=f"{self.in_rep.name}_isotypic")
        self.out_type = self.out_rep
        if is_field_type(in_type):
            self.out_type = type(in_type)(in_type.gspace, [self.out_rep.to_escnn()])
        self._register_constant("Q", Q)
        self._register_constant("QT", Q.T)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_ndim(self, x)
        return x @ self.Q if x.ndim == 2 else self.QT @ x

    def export(self, ndim: int = 2) -> torch.nn.Module:
        """``torch.nn.Linear`` (``ndim=2``, inputs (B, D)) or a 1×1 ``torch.nn.Conv1d`` (``ndim=3``)."""
        D, QT = self.in_rep.size, self.QT
        if _check_export_ndim(ndim) == 2:
            mod = torch.nn.Linear(D, D, bias=False, device=QT.device, dtype=QT.dtype)
            w = QT
        else:
            mod = torch.nn.Conv1d(D, D, 1, bias=False, device=QT.device, dtype=QT.dtype)
            w = QT[..., None]
        with torch.no_grad():
            mod.weight.copy_(w)
        return mod


class IrrepSubspaceNormPooling(EquivariantModule):
    r"""One invariant feature per irreducible copy: the norm of the features' component in that copy.

    With ``Q_c`` the ``d_c`` columns of ``Q`` spanning copy ``c``, the output is ``‖Q_cᵀ x‖₂`` for every copy
    (in the order of ``in_rep.irreps``). Invariant because ``ρ(g)`` acts on ``Q_cᵀ x`` by the orthogonal
    ``ρ̂(g)``.

    Parameters
    ----------
    in_type : symm.Rep or escnn FieldType
        Input representation of size ``D`` with ``n`` irreducible copies.

    Notes
    -----
    Input ``(B, D)`` or ``(B, D, T)``; output ``(B, n)`` or ``(B, n, T)``: a trivial rep of size ``n``.
    """

    def __init__(self, in_type: Any) -> None:
        super().__init__()
        self.in_type = in_type
        self.in_rep = as_rep(in_type, "in_type")
        irreps = self.in_rep.irreps
        n, d_max, D = len(irreps), max(i.dim for i in irreps), self.in_rep.size
        self.n_copies, self.d_max = n, d_max
        Q = self.in_rep.change_of_basis
        rows = np.zeros((n * d_max, D))  # copy c occupies rows c*d_max .. c*d_max+d_c; the rest are zero
        start = 0
        for c, irr in enumerate(irreps):
            rows[c * d_max : c * d_max + irr.dim] = Q[:, start : start + irr.dim].T
            start += irr.dim
        self._register_constant("P", rows)
        self.out_rep = self.in_rep.group.trivial_rep(n)
        self.out_type = trivial_field_type(in_type, n) if is_field_type(in_type) else self.out_rep

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_ndim(self, x)
        if x.ndim == 2:
            z = (x @ self.P.T).reshape(x.shape[0], self.n_copies, self.d_max)
            return torch.linalg.vector_norm(z, dim=-1)
        z = (self.P @ x).reshape(x.shape[0], self.n_copies, self.d_max, x.shape[-1])
        return torch.linalg.vector_norm(z, dim=2)

    def export(self, ndim: int = 2) -> torch.nn.Sequential:
        """Plain modules: a projection (``Linear`` or 1×1 ``Conv1d``), then an L2 ``LPPool`` per copy.

        ``ndim=2`` for inputs (B, D), ``ndim=3`` for inputs (B, D, T).
        """
        P, L, d = self.P, self.P.shape[0], self.d_max
        D = self.in_rep.size
        if _check_export_ndim(ndim) == 2:
            proj = torch.nn.Linear(D, L, bias=False, device=P.device, dtype=P.dtype)
            w, pool, flat = P, torch.nn.LPPool1d(2, d, stride=d), torch.nn.Flatten(1)
        else:
            proj = torch.nn.Conv1d(D, L, 1, bias=False, device=P.device, dtype=P.dtype)
            w, pool, flat = P[..., None], torch.nn.LPPool2d(2, (d, 1), stride=(d, 1)), torch.nn.Flatten(1, 2)
        with torch.no_grad():
            proj.weight.copy_(w)
        return torch.nn.Sequential(proj, torch.nn.Unflatten(1, (1, L)), pool, flat)
