"""A basis of ``Hom_G(ρ_x, ρ_y)`` in factored form: ``O(D²)`` memory whatever ``hom_dim`` is."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from symm._rep import Rep, shared_components
from symm._xp import as_float_array, constant, device_of, namespace_of

__all__ = ["HomBasis"]


class HomBasis:
    """The Frobenius-orthonormal basis of ``Hom_G(ρ_x, ρ_y)`` returned by :func:`symm.hom_basis`.

    Element ``(k, i, j, b)`` is ``B = Q_y[:, copy i of k] E_b Q_x[:, copy j of k]ᵀ / sqrt(d_k)``, for every
    irrep ``k`` shared by the two reps, copies ``i < m_k^y`` and ``j < m_k^x``, and endomorphism unit
    ``b < s_k``; elements are numbered in that order. The basis is kept as its factors (the two changes of
    basis and the small ``E_b``), so it takes ``O(D_y·D_x)`` memory, where the dense stack takes
    ``hom_dim·D_y·D_x`` (5.9 GB for the icosahedral group at ``D = 514``).

    Attributes
    ----------
    shape : tuple of int
        ``(hom_dim, D_y, D_x)``, the shape of the dense stack.

    Notes
    -----
    ``np.asarray(B)`` (or :meth:`dense`) builds the dense stack. Other ndarray attributes still work through
    the dense stack, with a ``DeprecationWarning``: earlier versions returned the stack itself.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(4).regular_rep()
    >>> B = symm.hom_basis(rep, rep)
    >>> B.shape
    (4, 4, 4)
    >>> A = B.expand(np.arange(4.0))          # Σ_k θ_k B_k
    >>> bool(np.allclose(B.project(A), np.arange(4.0)))
    True
    """

    def __init__(self, rep_x: Rep, rep_y: Rep) -> None:
        self.rep_x, self.rep_y = rep_x, rep_y
        self._shared = shared_components(rep_x, rep_y)
        self._sizes = [cx.multiplicity * cy.multiplicity * irrep.endomorphism_dim for irrep, cx, cy in self._shared]
        self.shape = (sum(self._sizes), rep_y.size, rep_x.size)

    @property
    def ndim(self) -> int:
        return 3

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return (
            f"<HomBasis of Hom_G({self.rep_x.name}, {self.rep_y.name}): {self.shape[0]} elements of {self.shape[1:]}>"
        )

    # ------------------------------------------------------------------ the two maps
    def expand(self, coefficients: Any) -> Any:
        """``Σ_k θ_k B_k``: the equivariant map with these coefficients.

        Parameters
        ----------
        coefficients : array, shape (..., hom_dim)
            Any Array API array; leading batch dimensions are allowed.

        Returns
        -------
        array, shape (..., D_y, D_x)
            In the coefficients' namespace, device and dtype; ``O(D_y·D_x)`` memory per batch entry.
        """
        xp = namespace_of(coefficients=coefficients)
        theta = as_float_array(coefficients, xp, "coefficients")
        if theta.ndim < 1 or theta.shape[-1] != self.shape[0]:
            raise ValueError(f"coefficients must have shape (..., {self.shape[0]}), got {tuple(theta.shape)}")
        batch = tuple(theta.shape[:-1])
        dy, dx = self.shape[1:]
        out = xp.zeros((*batch, dy, dx), dtype=theta.dtype, device=device_of(theta))
        start = 0
        for (irrep, cx, cy), size in zip(self._shared, self._sizes, strict=True):
            s = irrep.endomorphism_dim
            t = xp.reshape(theta[..., start : start + size], (*batch, cy.multiplicity, cx.multiplicity, s))
            start += size
            units = _units(irrep, xp, theta)  # (s, d, d)
            block = xp.tensordot(t, units, axes=1)  # (..., m_y, m_x, d, d)
            nb = len(batch)
            block = xp.permute_dims(block, (*range(nb), nb, nb + 2, nb + 1, nb + 3))
            block = xp.reshape(block, (*batch, cy.dim, cx.dim))
            qy, qx = _columns(self.rep_y, cy.slice, xp, theta), _columns(self.rep_x, cx.slice, xp, theta)
            out = out + qy @ block @ xp.matrix_transpose(qx)
        return out

    def project(self, W: Any) -> Any:
        """The coefficients ``θ_k = ⟨B_k, W⟩_F``; ``expand(project(W))`` is the orthogonal projection of ``W``.

        Parameters
        ----------
        W : array, shape (..., D_y, D_x)

        Returns
        -------
        array, shape (..., hom_dim)
        """
        xp = namespace_of(W=W)
        W = as_float_array(W, xp, "W")
        dy, dx = self.shape[1:]
        if W.ndim < 2 or tuple(W.shape[-2:]) != (dy, dx):
            raise ValueError(f"W must have shape (..., {dy}, {dx}), got {tuple(W.shape)}")
        batch = tuple(W.shape[:-2])
        nb = len(batch)
        parts = []
        for irrep, cx, cy in self._shared:
            d, s = irrep.dim, irrep.endomorphism_dim
            qy, qx = _columns(self.rep_y, cy.slice, xp, W), _columns(self.rep_x, cx.slice, xp, W)
            Z = xp.reshape(xp.matrix_transpose(qy) @ W @ qx, (*batch, cy.multiplicity, d, cx.multiplicity, d))
            Z = xp.permute_dims(Z, (*range(nb), nb, nb + 2, nb + 1, nb + 3))  # (..., m_y, m_x, d, d)
            units = _units(irrep, xp, W)
            theta = xp.tensordot(Z, xp.permute_dims(units, (1, 2, 0)), axes=2)  # (..., m_y, m_x, s)
            parts.append(xp.reshape(theta, (*batch, cy.multiplicity * cx.multiplicity * s)))
        if not parts:
            return xp.zeros((*batch, 0), dtype=W.dtype, device=device_of(W))
        return xp.concat(parts, axis=-1)

    def dense(self) -> np.ndarray:
        """The dense stack, shape (hom_dim, D_y, D_x), NumPy float64 (``hom_dim·D_y·D_x`` memory)."""
        out = np.empty(self.shape)
        k = 0
        qx, qy = self.rep_x.change_of_basis, self.rep_y.change_of_basis
        for irrep, cx, cy in self._shared:
            d = irrep.dim
            for i in range(cy.multiplicity):
                left = qy[:, cy.slice.start + i * d : cy.slice.start + (i + 1) * d]
                for j in range(cx.multiplicity):
                    right = qx[:, cx.slice.start + j * d : cx.slice.start + (j + 1) * d]
                    for e in irrep.endomorphism_basis:
                        out[k] = left @ e @ right.T / np.sqrt(d)
                        k += 1
        return out

    # ------------------------------------------------------------------ the dense stack, on request
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.dense()
        return out if dtype is None else out.astype(dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            k = int(key) % self.shape[0] if -self.shape[0] <= key < self.shape[0] else None
            if k is None:
                raise IndexError(f"index {key} is out of range for a basis of {self.shape[0]} elements")
            return self.expand(np.eye(self.shape[0])[k])
        return self.dense()[key]

    def __iter__(self) -> Any:
        return (self[k] for k in range(self.shape[0]))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        dense = self.dense()
        if not hasattr(dense, name):
            raise AttributeError(f"'HomBasis' object has no attribute {name!r}")
        warnings.warn(
            f"symm.hom_basis returns a HomBasis (factored, O(D²) memory); the ndarray attribute {name!r} builds "
            "the dense stack: call .dense() for it, or use .expand() / .project()",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(dense, name)


def _columns(rep: Rep, cols: slice, xp: Any, like: Any) -> Any:
    """Columns ``cols`` of ``rep``'s change of basis on ``like``'s namespace, device and dtype (cached)."""
    return constant(
        rep, ("Q", cols.start, cols.stop), lambda: rep.change_of_basis[:, cols], xp, device_of(like), like.dtype
    )


def _units(irrep: Any, xp: Any, like: Any) -> Any:
    """``E_b / sqrt(d)`` (s, d, d) of an irrep on ``like``'s namespace, device and dtype (cached)."""
    return constant(
        irrep, "E/sqrt(d)", lambda: irrep.endomorphism_basis / np.sqrt(irrep.dim), xp, device_of(like), like.dtype
    )
