"""Coordinates in the isotypic basis, and the norms of the irreducible copies (invariant features)."""

from __future__ import annotations

from typing import Any

import numpy as np

from symm._engine import change_of_basis
from symm._rep import Rep
from symm._validate import check_features
from symm._xp import constant, device_of

__all__ = ["from_isotypic", "irrep_norms", "to_isotypic"]


def to_isotypic(x: Any, rep: Rep) -> Any:
    """Coordinates of ``x`` in the isotypic basis: ``z = x Q``.

    ``Q`` is ``rep.change_of_basis``, so ``Qᵀ ρ(g) Q = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``. The columns of ``z`` follow
    ``rep.isotypic_components``: trivial component first; inside component ``k`` copy ``c`` occupies columns
    ``slice.start + c·d_k`` to ``slice.start + (c+1)·d_k``.

    Parameters
    ----------
    x : array, shape (..., D)
    rep : Rep
        A representation of size ``D``.

    Returns
    -------
    array, shape (..., D)
        In ``x``'s namespace, device and dtype.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(2).permutation_rep()
    >>> z = symm.to_isotypic(np.array([[1.0, 1.0]]), rep)
    >>> np.round(np.abs(z), 6)  # all weight on the trivial (symmetric) coordinate
    array([[1.414214, 0.      ]])
    """
    xp, x = check_features(x, rep, "x")
    return x @ change_of_basis(rep, xp, device_of(x), x.dtype)


def from_isotypic(z: Any, rep: Rep) -> Any:
    """Back from isotypic coordinates: ``x = z Qᵀ`` (the inverse of :func:`to_isotypic`).

    Parameters
    ----------
    z : array, shape (..., D)
    rep : Rep

    Returns
    -------
    array, shape (..., D)

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.dihedral(3).regular_rep()
    >>> x = np.arange(6.0)[None]
    >>> bool(np.allclose(symm.from_isotypic(symm.to_isotypic(x, rep), rep), x))
    True
    """
    xp, z = check_features(z, rep, "z")
    return z @ change_of_basis(rep, xp, device_of(z), z.dtype, transpose=True)


def irrep_norms(x: Any, rep: Rep) -> Any:
    """The Euclidean norm of each irreducible copy of ``x``: invariant features.

    With ``z = x Q`` and copy ``c`` on the isotypic columns ``J_c`` (``d`` of them), the feature is
    ``‖z_{J_c}‖₂``. It does not change under ``x ↦ ρ(g) x`` because each copy transforms by the orthogonal
    ``ρ̂_k(g)``.

    Parameters
    ----------
    x : array, shape (..., D)
    rep : Rep

    Returns
    -------
    array, shape (..., n_copies)
        ``n_copies = Σ_k m_k = len(rep.irreps)``, in the order of ``rep.irreps``.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(4).natural_rep("rotation")
    >>> symm.irrep_norms(np.array([[3.0, 4.0]]), rep)
    array([[5.]])
    """
    xp, x = check_features(x, rep, "x")
    dev, dt = device_of(x), x.dtype
    q = change_of_basis(rep, xp, dev, dt)

    def build() -> np.ndarray:
        dims = [irrep.dim for irrep in rep.irreps]
        out = np.zeros((rep.size, len(dims)))
        out[np.arange(rep.size), np.repeat(np.arange(len(dims)), dims)] = 1.0
        return out

    pool = constant(rep, "symm.isotypic.copy_sum", build, xp, dev, dt)
    z = x @ q
    return xp.sqrt((z * z) @ pool)
