"""Equivariant ``torch.nn`` modules.

- :class:`eLinear`: ``W ∈ Hom_G(ρ_in, ρ_out)`` with ``hom_dim`` parameters, invariant bias.
- :class:`eConv1D` (and :func:`GSpace1D` for escnn users): a Conv1d whose kernel taps lie in Hom_G.
- :class:`Change2DisentangledBasis`: features to the isotypic basis.
- :class:`IrrepSubspaceNormPooling`: one invariant norm per irreducible copy.
- :class:`EquivMultivariateNormal` (0.8.1 name :class:`eMultivariateNormal`): an equivariant Gaussian head.
- :class:`InvariantBias`, :class:`eAffine`: invariant bias; one scale per irreducible copy plus invariant bias.
- :class:`eLayerNorm`, :class:`eRMSNorm`, :class:`eBatchNorm1d`: equivariant normalisation.
- :class:`GatedNonlinearity` (with :func:`gate_count`), :class:`NormNonlinearity`: nonlinearities for any
  orthogonal rep (non-permutation reps, compact groups), acting on each irreducible copy as a whole.
- :class:`eConvTranspose1d` (and :class:`eConv1d`, the 0.8.1 name of :class:`eConv1D`).
- :func:`impose_linear_equivariance` with :class:`CommutingConstraint` / :class:`InvariantConstraint`.
- :class:`EMAStats`, :class:`eEMAStats`: running (symmetric) means and covariances.
- :class:`eMultiheadAttention` (heads over G-invariant blocks), :class:`InvariantPositionalEmbedding`,
  :class:`eTransformerEncoderLayer`, :class:`eTransformerDecoderLayer`, :class:`eTransformerEncoder`,
  :class:`eTransformerDecoder`, and their plain twins ``Plain*`` (same signature, ``torch.nn`` layers).
"""

from symm_torch._escnn import GSpace1D
from symm_torch.nn._attention import (
    InvariantPositionalEmbedding,
    PlainMultiheadAttention,
    PlainPositionalEmbedding,
    causal_mask,
    eMultiheadAttention,
    head_partition,
)
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._basis import Change2DisentangledBasis, IrrepSubspaceNormPooling
from symm_torch.nn._constraints import CommutingConstraint, InvariantConstraint, impose_linear_equivariance
from symm_torch.nn._conv import eConv1D, eConv1d, eConvTranspose1d
from symm_torch.nn._linear import eLinear
from symm_torch.nn._nonlinear import GatedNonlinearity, NormNonlinearity, gate_count
from symm_torch.nn._norm import InvariantBias, eAffine, eBatchNorm1d, eLayerNorm, eRMSNorm
from symm_torch.nn._normal import EquivMultivariateNormal, eMultivariateNormal
from symm_torch.nn._stats import EMAStats, eEMAStats
from symm_torch.nn._transformer import (
    PlainTransformerDecoder,
    PlainTransformerDecoderLayer,
    PlainTransformerEncoder,
    PlainTransformerEncoderLayer,
    eTransformerDecoder,
    eTransformerDecoderLayer,
    eTransformerEncoder,
    eTransformerEncoderLayer,
)

__all__ = [
    "Change2DisentangledBasis",
    "CommutingConstraint",
    "EMAStats",
    "EquivMultivariateNormal",
    "EquivariantModule",
    "GSpace1D",
    "GatedNonlinearity",
    "InvariantBias",
    "InvariantConstraint",
    "InvariantPositionalEmbedding",
    "IrrepSubspaceNormPooling",
    "NormNonlinearity",
    "PlainMultiheadAttention",
    "PlainPositionalEmbedding",
    "PlainTransformerDecoder",
    "PlainTransformerDecoderLayer",
    "PlainTransformerEncoder",
    "PlainTransformerEncoderLayer",
    "causal_mask",
    "eAffine",
    "eBatchNorm1d",
    "eConv1D",
    "eConv1d",
    "eConvTranspose1d",
    "eEMAStats",
    "eLayerNorm",
    "eLinear",
    "eMultiheadAttention",
    "eMultivariateNormal",
    "eRMSNorm",
    "eTransformerDecoder",
    "eTransformerDecoderLayer",
    "eTransformerEncoder",
    "eTransformerEncoderLayer",
    "gate_count",
    "head_partition",
    "impose_linear_equivariance",
]
