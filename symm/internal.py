"""Semi-public tools for plugins that build on symm (such as ``symm-torch``).

These names are documented and tested, and change only with a note in the changelog, but they are not part of
the user-facing API in ``symm``. Plugins import from ``symm`` and ``symm.internal`` only.

- :func:`shared_components`, :func:`escnn_group`: bookkeeping of reps and groups.
- Host tables (NumPy, computed once from a rep's isotypic decomposition), which a plugin turns into buffers
  and never re-derives: :func:`invariant_basis`, :func:`copy_index`, :func:`copy_norm_rows`,
  :func:`permutation_images`, :func:`cholesky_layout` and :func:`hom_expansion_tables`
  (:class:`HomExpansionTables`, :class:`HomBlock`).
"""

from __future__ import annotations

from typing import Any

from symm import _tables
from symm._group import Group
from symm._rep import Rep, shared_components
from symm._tables import (
    HomBlock,
    HomExpansionTables,
    cholesky_layout,
    copy_index,
    copy_norm_rows,
    invariant_basis,
    permutation_images,
)

__all__ = [
    "HomBlock",
    "HomExpansionTables",
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


def hom_expansion_tables(rep_x: Rep, rep_y: Rep) -> HomExpansionTables:
    """Tables to expand ``W ∈ Hom_G(rep_x, rep_y)`` (shape ``(D_y, D_x)``) from its ``hom_dim`` parameters.

    Parameters
    ----------
    rep_x, rep_y : symm.Rep
        Of sizes ``D_x`` and ``D_y``, of one group.

    Returns
    -------
    HomExpansionTables
        ``dim`` parameters in blocks (one per irrep shared by both reps), the diagonal blocks of ``Q_y`` and
        ``Q_xᵀ`` and the gather/scatter indices; how to use them is in ``symm._tables.hom_expansion_tables``.
        ``dim == 0`` when the reps share no irrep.
    """
    return _tables.hom_expansion_tables(rep_x, rep_y, shared_components(rep_x, rep_y))
