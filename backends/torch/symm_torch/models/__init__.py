"""Equivariant and invariant models: :class:`EMLP` and :class:`IMLP` (0.8.1 names :class:`eMLP`, :class:`iMLP`)."""

from symm_torch.models._mlp import EMLP, IMLP, eMLP, iMLP

__all__ = ["EMLP", "IMLP", "eMLP", "iMLP"]
