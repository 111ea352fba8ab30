"""Equivariant linear algebra on representation data: projectors, Hom_G bases and the Reynolds projection."""

from __future__ import annotations

from typing import Any

from symm._engine import invariant_projector, pair_plan, projection
from symm._hom_basis import HomBasis
from symm._rep import Rep, common_group, shared_components
from symm._validate import check_rep
from symm._xp import as_float_array, device_of, namespace_of

__all__ = [
    "hom_basis",
    "hom_dim",
    "invariant_orthogonal_projector",
    "invariant_sym_dim",
    "project_equivariant",
]


def invariant_orthogonal_projector(rep: Rep, *, xp: Any = None, device: Any = None, dtype: Any = None) -> Any:
    """The orthogonal projector onto the invariant subspace, ``P_inv = (1/|G|) Σ_g ρ(g) = Q_triv Q_trivᵀ``.

    Parameters
    ----------
    rep : Rep
        A representation of size ``D``.
    xp : namespace, optional
        The array namespace of the result (default NumPy).
    device, dtype : optional
        Device and dtype of the result (default: the namespace's default device and float64).

    Returns
    -------
    array, shape (D, D)

    Examples
    --------
    >>> import symm
    >>> G = symm.groups.cyclic(3)
    >>> P = symm.invariant_orthogonal_projector(G.permutation_rep())
    >>> bool(abs(P - 1 / 3).max() < 1e-12)
    True
    """
    check_rep(rep, "rep")
    if xp is None:
        import array_api_compat.numpy as xp
    return invariant_projector(rep, xp, device, xp.float64 if dtype is None else dtype)


def hom_dim(rep_x: Rep, rep_y: Rep) -> int:
    """``dim Hom_G(ρ_x, ρ_y) = Σ_k m_k^x m_k^y s_k`` (``s_k = dim End_G(ρ̂_k)``).

    Examples
    --------
    >>> import symm
    >>> G = symm.groups.symmetric(3)
    >>> V = G.permutation_rep()
    >>> symm.hom_dim(V, V)
    2
    """
    return sum(
        cx.multiplicity * cy.multiplicity * irrep.endomorphism_dim for irrep, cx, cy in shared_components(rep_x, rep_y)
    )


def invariant_sym_dim(rep: Rep) -> int:
    """Number of free parameters of a symmetric G-invariant ``D × D`` matrix (e.g. a symmetric covariance).

    Per isotypic component with multiplicity ``m`` and ``s = dim End_G``: ``m + s·m(m−1)/2``
    (real symmetric, complex Hermitian or quaternionic Hermitian ``m × m`` matrices).

    Examples
    --------
    >>> import symm
    >>> G = symm.groups.cyclic(4)
    >>> symm.invariant_sym_dim(G.regular_rep() * 2)  # 2 R-type irreps (3 each) + 1 C-type (4)
    10
    """
    check_rep(rep, "rep")
    return sum(
        c.multiplicity + c.irrep.endomorphism_dim * c.multiplicity * (c.multiplicity - 1) // 2
        for c in rep.isotypic_components
    )


def hom_basis(rep_x: Rep, rep_y: Rep) -> HomBasis:
    """A Frobenius-orthonormal basis of ``Hom_G(ρ_x, ρ_y)``, in factored form (:class:`symm.HomBasis`).

    Element ``(k, i, j, b)`` is ``Q_y[:, copy i of k] E_b Q_x[:, copy j of k]ᵀ / sqrt(d_k)``. The basis takes
    ``O(D_y·D_x)`` memory: ``B.expand(θ)`` builds ``Σ_k θ_k B_k`` and ``B.project(W)`` the coefficients
    ``⟨B_k, W⟩``; ``B.dense()`` (or ``np.asarray(B)``) gives the stack of shape (hom_dim, D_y, D_x).

    Examples
    --------
    >>> import numpy as np, symm
    >>> G = symm.groups.cyclic(4)
    >>> B = symm.hom_basis(G.regular_rep(), G.regular_rep())
    >>> B.shape
    (4, 4, 4)
    >>> B.dense().shape
    (4, 4, 4)
    """
    check_rep(rep_x, "rep_x")
    check_rep(rep_y, "rep_y")
    rep_x, rep_y = common_group(rep_x, rep_y, ("rep_x", "rep_y"))
    return HomBasis(rep_x, rep_y)


def project_equivariant(A: Any, rep_x: Rep, rep_y: Rep) -> Any:
    """The orthogonal (Frobenius) projection of ``A`` onto ``Hom_G(ρ_x, ρ_y)``.

    ``R(A) = (1/|G|) Σ_g ρ_y(g) A ρ_x(g)ᵀ``, computed as ``R(A) = Q_y Π(Q_yᵀ A Q_x) Q_xᵀ`` with ``Π`` the
    projection of each block between two copies of an irrep onto ``{Σ_b θ_b E_b}`` (one weighted gather);
    reps given by signed permutations on small groups use the orbit average of index pairs instead. Complex
    and quaternionic components keep all endomorphism coefficients. This is the projection ``cov`` uses.

    Parameters
    ----------
    A : array, shape (..., D_y, D_x)
        Any Array API array; leading batch dimensions are allowed.
    rep_x, rep_y : Rep
        Input and output representations of the same group.

    Returns
    -------
    array, shape (..., D_y, D_x)
        In ``A``'s namespace, device and dtype.

    Examples
    --------
    >>> import numpy as np, symm
    >>> G = symm.groups.cyclic(4)
    >>> rep = G.regular_rep()
    >>> A = symm.project_equivariant(np.random.default_rng(0).normal(size=(4, 4)), rep, rep)
    >>> bool(np.allclose(rep(1) @ A, A @ rep(1)))
    True
    """
    check_rep(rep_x, "rep_x")
    check_rep(rep_y, "rep_y")
    rep_x, rep_y = common_group(rep_x, rep_y, ("rep_x", "rep_y"))
    xp = namespace_of(A=A)
    A = as_float_array(A, xp, "A")
    if A.ndim < 2 or A.shape[-2:] != (rep_y.size, rep_x.size):
        raise ValueError(
            f"A must have shape (..., {rep_y.size}, {rep_x.size}) for reps of sizes "
            f"D_x={rep_x.size}, D_y={rep_y.size}; got {tuple(A.shape)}"
        )
    return projection(pair_plan(rep_x, rep_y), xp, device_of(A), A.dtype).reynolds(A)
