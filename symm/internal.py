"""Semi-public tools for plugins that build on symm (such as ``symm-torch``).

These names are documented and tested, and change only with a note in the changelog, but they are not part of
the user-facing API in ``symm``. Plugins import from ``symm`` and ``symm.internal`` only.

- :func:`shared_components`, :func:`escnn_group`: bookkeeping of reps and groups.
- Host tables (NumPy, computed once from a rep's isotypic decomposition), which a plugin turns into buffers
  and never re-derives: :func:`invariant_basis`, :func:`copy_index`, :func:`copy_norm_rows`,
  :func:`permutation_images`, :func:`cholesky_layout` and :func:`hom_expansion_tables`
  (:class:`HomExpansionTables`, :class:`HomBlock`, :class:`PairMaps`).
"""

from __future__ import annotations

from typing import Any

from symm._group import Group
from symm._rep import shared_components
from symm._tables import (
    HomBlock,
    HomExpansionTables,
    PairMaps,
    cholesky_layout,
    copy_index,
    copy_norm_rows,
    hom_expansion_tables,
    invariant_basis,
    permutation_images,
)

__all__ = [
    "HomBlock",
    "HomExpansionTables",
    "PairMaps",
    "cholesky_layout",
    "copy_index",
    "copy_norm_rows",
    "escnn_group",
    "hom_expansion_tables",
    "invariant_basis",
    "permutation_images",
    "shared_components",
]


def escnn_group(group: Group) -> Any | None:
    """The escnn group that ``group`` was read from (``Group.from_escnn``), or ``None``."""
    if not isinstance(group, Group):
        raise TypeError(f"group must be a symm.Group, got {type(group).__name__}")
    return group._escnn_group
