"""Equivariance constraints on existing torch layers: torch parametrizations that project weights onto
``Hom_G`` and biases onto the invariant subspace."""

from __future__ import annotations

from typing import Any

import symm
import torch
from torch.nn.utils import parametrize

from symm_torch._reps import as_rep, as_rep_pair

__all__ = ["CommutingConstraint", "InvariantConstraint", "impose_linear_equivariance"]


class CommutingConstraint(torch.nn.Module):
    r"""A torch parametrization ``W ↦ R(W)``: the orthogonal (Frobenius) projection onto ``Hom_G(ρ_in, ρ_out)``.

    ``R(W) = (1/|G|) Σ_g ρ_out(g) W ρ_in(g)ᵀ`` (:func:`symm.project_equivariant`), so
    ``ρ_out(g) R(W) = R(W) ρ_in(g)`` for every ``W``, and ``R`` is the identity on equivariant maps. The
    unconstrained weight keeps training; its gradient is the projected gradient.

    Parameters
    ----------
    in_rep, out_rep : symm.Rep or escnn FieldType / Representation
        ``ValueError`` when ``Hom_G(in_rep, out_rep) = 0`` (the constraint would force ``W = 0``).

    Notes
    -----
    Input ``W`` of shape ``(..., D_out, D_in)``; output of the same shape.
    """

    def __init__(self, in_rep: Any, out_rep: Any) -> None:
        super().__init__()
        self.in_rep, self.out_rep = as_rep_pair(in_rep, out_rep)
        if self.in_rep is None or self.out_rep is None:
            raise TypeError("CommutingConstraint needs in_rep and out_rep")
        if symm.hom_dim(self.in_rep, self.out_rep) == 0:
            raise ValueError(
                f"Hom_G({self.in_rep.name}, {self.out_rep.name}) has dimension 0: the reps share no irrep, so the "
                "constraint would force the weight to zero"
            )

    def forward(self, W: torch.Tensor) -> torch.Tensor:
        shape = (self.out_rep.size, self.in_rep.size)
        if not isinstance(W, torch.Tensor) or W.shape[-2:] != shape:
            raise ValueError(
                f"W must have shape (..., {shape[0]}, {shape[1]}) (out_rep.size, in_rep.size), got "
                f"{tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__}"
            )
        return symm.project_equivariant(W, self.in_rep, self.out_rep)

    def extra_repr(self) -> str:
        return f"in={self.in_rep.name} (size {self.in_rep.size}), out={self.out_rep.name} (size {self.out_rep.size})"


class InvariantConstraint(torch.nn.Module):
    r"""A torch parametrization ``b ↦ P_inv b``: the orthogonal projection onto the invariant subspace.

    ``P_inv = Q_triv Q_trivᵀ`` (:func:`symm.invariant_orthogonal_projector`), so ``ρ(g) P_inv b = P_inv b``.

    Parameters
    ----------
    rep : symm.Rep or escnn FieldType / Representation
        ``ValueError`` when ``rep`` has no trivial irrep (the constraint would force ``b = 0``).

    Notes
    -----
    Input ``b`` of shape ``(..., D)``; output of the same shape.
    """

    def __init__(self, rep: Any) -> None:
        super().__init__()
        self.rep = as_rep(rep, "rep")
        P = symm.invariant_orthogonal_projector(self.rep)
        if abs(float(P.trace())) < 0.5:
            raise ValueError(
                f"{self.rep.name} has no trivial irrep: its invariant subspace has dimension 0, so the constraint "
                "would force the bias to zero; use a layer without bias"
            )
        self.register_buffer("P", torch.as_tensor(P, dtype=torch.get_default_dtype()), persistent=False)
        self._host = P

    def _apply(self, fn: Any, recurse: bool = True) -> InvariantConstraint:
        super()._apply(fn, recurse)
        self._buffers["P"] = torch.tensor(self._host, dtype=self.P.dtype, device=self.P.device)  # exact at any dtype
        return self

    def forward(self, b: torch.Tensor) -> torch.Tensor:
        if not isinstance(b, torch.Tensor) or b.shape[-1:] != (self.rep.size,):
            raise ValueError(
                f"b must have {self.rep.size} entries on its last axis, got "
                f"{tuple(b.shape) if isinstance(b, torch.Tensor) else type(b).__name__}"
            )
        P = self.P if self.P.dtype == b.dtype else torch.as_tensor(self._host, dtype=b.dtype, device=b.device)
        return b @ P

    def extra_repr(self) -> str:
        return f"rep={self.rep.name} (size {self.rep.size})"


def impose_linear_equivariance(lin: torch.nn.Linear, in_rep: Any, out_rep: Any) -> torch.nn.Linear:
    """Make a ``torch.nn.Linear`` G-equivariant with torch parametrizations, in place.

    Registers :class:`CommutingConstraint` on ``lin.weight`` and, when ``lin`` has a bias,
    :class:`InvariantConstraint` on ``lin.bias``. The layer stays a ``torch.nn.Linear`` and stays trainable:
    its unconstrained ``parametrizations.weight.original`` is what the optimizer updates, and every forward
    uses the projected weight. ``torch.nn.utils.parametrize.remove_parametrizations(lin, "weight")`` (and
    ``"bias"``) turns it back into a plain ``Linear`` holding the projected values.

    Parameters
    ----------
    lin : torch.nn.Linear
        With ``in_features == in_rep.size`` and ``out_features == out_rep.size``.
    in_rep, out_rep : symm.Rep or escnn FieldType / Representation

    Returns
    -------
    torch.nn.Linear
        ``lin`` itself.

    Raises
    ------
    TypeError
        If ``lin`` is not a ``torch.nn.Linear``.
    ValueError
        On a size mismatch, a Hom_G of dimension 0, or a bias when ``out_rep`` has no invariant subspace.

    Notes
    -----
    ``lin`` keeps its shapes: input ``(..., D_in)``, output ``(..., D_out)``. torch's parametrized modules
    deep-copy and save through ``state_dict`` but do not pickle (a torch limitation).
    """
    if not isinstance(lin, torch.nn.Linear):
        raise TypeError(f"lin must be a torch.nn.Linear, got {type(lin).__name__}")
    weight = CommutingConstraint(in_rep, out_rep)
    if (lin.out_features, lin.in_features) != (weight.out_rep.size, weight.in_rep.size):
        raise ValueError(
            f"lin maps {lin.in_features} -> {lin.out_features} features, but in_rep and out_rep have sizes "
            f"{weight.in_rep.size} and {weight.out_rep.size}"
        )
    bias = InvariantConstraint(weight.out_rep) if lin.bias is not None else None
    parametrize.register_parametrization(lin, "weight", weight.to(lin.weight.device))
    if bias is not None:
        parametrize.register_parametrization(lin, "bias", bias.to(lin.bias.device))
    return lin
