"""Equivariant and invariant models.

- :class:`EMLP` and :class:`IMLP` (0.8.1 names :class:`eMLP`, :class:`iMLP`);
- sequence models of robot learning: :class:`eTimeCNNEncoder`, :class:`eCondTransformer`,
  :class:`eConditionalUnet1D`, and their plain twins :class:`TimeCNNEncoder`, :class:`CondTransformer`,
  :class:`ConditionalUnet1D` (same signature and widths, ``torch.nn`` layers) for ablations.
"""

from symm_torch.models._mlp import EMLP, IMLP, eMLP, iMLP
from symm_torch.models._sequence import CondTransformer, TimeCNNEncoder, eCondTransformer, eTimeCNNEncoder
from symm_torch.models._unet import ConditionalUnet1D, eConditionalUnet1D

__all__ = [
    "EMLP",
    "IMLP",
    "CondTransformer",
    "ConditionalUnet1D",
    "TimeCNNEncoder",
    "eCondTransformer",
    "eConditionalUnet1D",
    "eMLP",
    "eTimeCNNEncoder",
    "iMLP",
]
