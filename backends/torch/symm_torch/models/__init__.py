"""Equivariant and invariant models: :class:`EMLP` and :class:`IMLP`."""

from symm_torch.models._mlp import EMLP, IMLP

__all__ = ["EMLP", "IMLP"]
