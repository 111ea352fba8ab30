"""Canonical forms: irrep matrices and copy bases as functions of the group and the rep alone.

An eigensolver returns *some* orthonormal basis of each eigenspace, and which one depends on the BLAS/LAPACK
kernel, the thread count and the platform. symm never keeps such a basis. Every basis it stores is rebuilt
from intrinsic (basis-free) data by a fixed rule:

- **Irrep matrices** (:func:`canonical_irrep_basis`). A fixed element ``A = Σ_h c_h ρ̂(h)`` of the group algebra,
  with weights ``c_h`` that depend only on the element's index (a golden-ratio sequence), picks one line
  of the irrep: the top eigenspace of ``(A + Aᵀ)/2``, of dimension ``s = dim End`` (a real, complex or
  quaternionic line). Any unit vector ``v`` of that line gives the same result. The orbit ``ρ̂(g) v`` in
  element order is then orthonormalised over ``End`` (Gram–Schmidt that keeps the first vector whose residual
  exceeds a threshold), and the complex unit ``J`` (or the quaternion units ``I, J, K``) are fixed by the signs
  of the orbit's first non-real components. The result: escnn's endomorphism layout ``E_b = u_b ⊗ I`` and
  matrices that depend only on the irrep's class.
- **Copies of an irrep inside a rep** (:func:`canonical_copies`). Given aligned copies ``T_1..T_m`` (each
  ``Dxd`` with ``T_iᵀ ρ T_i = ρ̂``), the gauge freedom is ``T_j ↦ Σ_i T_i q_ij`` with ``(q_ij)`` orthogonal over
  ``End(ρ̂)``. The evaluation ``T ↦ T e_0`` identifies the intertwiners with a subspace ``W ⊂ R^D``; the
  projections of ``e_0, e_1, ...`` onto ``W``, orthonormalised over ``End`` in index order, give one basis
  that does not depend on the input copies.

Thresholds are ``sqrt(s / (π n))``: below every candidate's possible residual sum (so the scan always
completes), and irrational, so that no exactly representable residual sits on it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from symm._walk import iter_images

if TYPE_CHECKING:
    from symm._group import Group

__all__ = ["canonical_copies", "canonical_irrep_basis", "group_algebra_weights"]

# escnn's conventions for the endomorphism algebra of complex- and quaternionic-type irreps.
C_UNITS = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, -1.0], [1.0, 0.0]]])
H_UNITS = np.array(
    [
        np.eye(4),
        np.diag([1.0, -1.0, 1.0, -1.0])[::-1],
        [[0.0, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, -1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]],
        [[0.0, -1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0], [0.0, 0.0, -1.0, 0.0]],
    ]
)
H_SIGN = float(np.sum(H_UNITS[1] @ H_UNITS[2] * H_UNITS[3]) / 4.0)  # u1 u2 = sign * u3
ENDO_DIM = {"R": 1, "C": 2, "H": 4}

# Multipliers of the weight sequence, tried in turn until the chosen eigenspace is well separated.
_MULTIPLIERS = ((math.sqrt(5.0) - 1.0) / 2.0, math.sqrt(2.0) - 1.0, math.sqrt(3.0) - 1.0, math.pi - 3.0)
_GAP = 1e-3  # relative eigenvalue gap that isolates the chosen line from the rest of the spectrum


def endomorphism_basis(type_: str, d: int) -> np.ndarray:
    """escnn's basis of the endomorphisms of a ``d``-dimensional irrep of the given type, shape (s, d, d)."""
    if type_ == "R":
        return np.eye(d)[None]
    units = C_UNITS if type_ == "C" else H_UNITS
    return np.stack([np.kron(u, np.eye(d // len(units))) for u in units])


def group_algebra_weights(order: int, attempt: int = 0) -> np.ndarray:
    """Fixed weights ``c_h`` in ``[-1/2, 1/2)`` for elements ``h = 0 .. order-1``: ``frac((h+1)·α) - 1/2``.

    Pure IEEE arithmetic on the element index: the same numbers on every machine.
    """
    alpha = _MULTIPLIERS[attempt]
    return np.mod((np.arange(order, dtype=np.float64) + 1.0) * alpha, 1.0) - 0.5


def canonical_irrep_basis(group: Group, images: np.ndarray, type_: str, endo: np.ndarray) -> np.ndarray:
    """Orthogonal ``O`` such that ``Oᵀ ρ̂(g) O`` is the canonical form of the irrep's class.

    Parameters
    ----------
    group : Group
    images : ndarray, shape (n_generators, d, d)
        ``ρ̂`` of the group's generators. Element matrices are streamed level by level: memory ``O(|G|·d)``.
    type_ : {"R", "C", "H"}
    endo : ndarray, shape (s, d, d)
        Any basis of ``End_G(ρ̂)`` (``s = 1, 2, 4``).

    Returns
    -------
    ndarray, shape (d, d)
        ``O``; ``Oᵀ X O = u_b ⊗ I`` for escnn's units, and the result depends only on the class of ``ρ̂``.
    """
    d = images.shape[1]
    s = ENDO_DIM[type_]
    if d == s == 1:
        return np.eye(1)
    v = _canonical_line(group, images, s)
    orbit = np.empty((group.order, d))  # ρ̂(g) v in element order
    for idx, vecs in iter_images(group, images, v[:, None]):
        orbit[idx] = vecs[:, :, 0]
    ops = [np.eye(d), *_canonical_units(type_, endo, v, orbit)]
    basis = _orthonormalise_over_endo(orbit, lambda b: np.stack([op @ b for op in ops], axis=1), d // s, s, d)
    return _assemble(basis, ops, type_)


def canonical_copies(q: np.ndarray, endo: np.ndarray) -> np.ndarray:
    """The canonical basis of one isotypic block: ``q @ M`` for the gauge ``M`` fixed by the subspace alone.

    Parameters
    ----------
    q : ndarray, shape (D, m*d)
        Aligned copies, copies-major: ``q[:, c*d:(c+1)*d]ᵀ ρ(g) q[:, c*d:(c+1)*d] = ρ̂(g)``.
    endo : ndarray, shape (s, d, d)
        The irrep's endomorphism basis: orthogonal, ``E_0 = I``, with orthonormal first columns ``E_b e_0``.

    Returns
    -------
    ndarray, shape (D, m*d)
    """
    size = q.shape[0]
    s, d, _ = endo.shape
    m = q.shape[1] // d
    first_cols = endo[:, :, 0]  # (s, d): E_b e_0
    # coordinates of every standard basis vector e_p projected on W = {T e_0}: (T_i E_b e_0)_p
    coords = np.einsum("pcd,bd->pcb", q.reshape(size, m, d), first_cols).reshape(size, m * s)
    # right multiplication by E_b' in these coordinates: E_b E_b' = Σ_b'' f[b, b', b''] E_b''
    f = np.einsum("bij,cjk,eik->bce", endo, endo, endo) / d

    def module_span(u: np.ndarray) -> np.ndarray:
        u = u.reshape(m, s)
        return np.stack([(u @ f[:, b, :]).ravel() for b in range(s)], axis=1)

    units = _orthonormalise_over_endo(coords, module_span, m, s, size).T.reshape(m, m, s)  # (copy j, i, b)
    gauge = np.einsum("jib,bxy->ixjy", units, endo).reshape(m * d, m * d)
    return q @ gauge


# ---------------------------------------------------------------------- the steps
def _canonical_line(group: Group, images: np.ndarray, s: int) -> np.ndarray:
    """A unit vector of the top eigenspace (dimension ``s``) of the symmetric part of a fixed algebra element."""
    d = images.shape[1]
    for attempt in range(len(_MULTIPLIERS)):
        weights = group_algebra_weights(group.order, attempt)
        a = np.zeros((d, d))
        for idx, mats in iter_images(group, images, np.eye(d)):
            a += np.tensordot(weights[idx], mats, axes=1)
        w, v = np.linalg.eigh(0.5 * (a + a.T))
        spread = max(float(w[-1] - w[0]), 1e-300)
        if d == s or w[-s] - w[-s - 1] > _GAP * spread:
            return v[:, -1]
    raise RuntimeError("no group-algebra element separates a line of this irrep")  # pragma: no cover


def _canonical_units(type_: str, endo: np.ndarray, v: np.ndarray, orbit: np.ndarray) -> list[np.ndarray]:
    """The complex unit ``J`` or quaternion units ``I, J, K`` of ``End``, fixed by the orbit of ``v``.

    A unit's sign (and, for H, the frame ``I, J``) is taken from the first orbit vector with a component
    along ``X v`` for the imaginary units ``X``; this choice moves with ``v`` inside its line, so the final
    basis does not depend on which ``v`` the eigensolver returned.
    """
    if type_ == "R":
        return []
    d = endo.shape[1]
    eye = np.eye(d)
    pure = np.stack([e - np.trace(e) / d * eye for e in endo]).reshape(len(endo), -1)
    u, _, _ = np.linalg.svd(pure.T, full_matrices=False)
    imag = (u[:, : len(endo) - 1].T * np.sqrt(d)).reshape(-1, d, d)  # orthonormal imaginary units, X² = -I
    comps = orbit @ np.stack([x @ v for x in imag], axis=1)  # (order, s-1): <X_i v, ρ(g) v>
    tau = 1.0 / math.sqrt(math.pi * d)
    first = _first_above(np.linalg.norm(comps, axis=1), tau)
    i_dir = comps[first] / np.linalg.norm(comps[first])
    unit_i = np.tensordot(i_dir, imag, axes=1)
    if type_ == "C":
        return [unit_i]
    rest = comps - np.outer(comps @ i_dir, i_dir)
    second = _first_above(np.linalg.norm(rest, axis=1), tau)
    j_dir = rest[second] / np.linalg.norm(rest[second])
    unit_j = np.tensordot(j_dir, imag, axes=1)
    return [unit_i, unit_j, H_SIGN * unit_i @ unit_j]


def _orthonormalise_over_endo(candidates, module_span, count: int, s: int, n: int) -> np.ndarray:
    """Gram–Schmidt over ``End``: scan ``candidates`` (rows) in order, keep the first residual above threshold.

    ``module_span(u)`` returns the orthonormal columns ``u·E_b`` (b = 0..s-1) spanned with a kept unit
    vector ``u``. Returns the ``count`` kept unit vectors as columns, shape (len(row), count).

    The residual norms are kept as squares and lowered by each new block's projections, so a step reads the
    candidates once and writes nothing of their size; only the kept row is orthogonalised against the span
    (twice, for stability).
    """
    tau = math.sqrt(s / (math.pi * n))
    rows = np.asarray(candidates, dtype=np.float64)
    sq = np.einsum("ij,ij->i", rows, rows)  # squared norms of the residuals against the span kept so far
    span = np.zeros((rows.shape[1], count * s))
    kept = []
    start = width = 0
    for _ in range(count):
        p = start + _first_above(np.sqrt(np.maximum(sq[start:], 0.0)), tau)
        u = rows[p]
        for _ in range(2):
            u = u - span[:, :width] @ (span[:, :width].T @ u)
        u = u / np.linalg.norm(u)
        kept.append(u)
        block = module_span(u)
        proj = rows[p + 1 :] @ block
        sq[p + 1 :] -= np.einsum("ij,ij->i", proj, proj)
        span[:, width : width + block.shape[1]] = block
        width += block.shape[1]
        start = p + 1
    return np.stack(kept, axis=1)


def _assemble(basis: np.ndarray, ops: list[np.ndarray], type_: str) -> np.ndarray:
    """``O`` in escnn's ``u_b ⊗ I_c`` layout: column ``i*c + j`` combines ``op_a b_j`` with the units' first columns."""
    d, c = basis.shape
    if type_ == "R":
        return basis
    target = C_UNITS if type_ == "C" else H_UNITS
    w = np.stack([t[:, 0] for t in target], axis=1)
    k = len(target)
    o = np.zeros((d, d))
    for j in range(c):
        vecs = np.stack([op @ basis[:, j] for op in ops], axis=1)  # (d, k)
        o[:, [i * c + j for i in range(k)]] = vecs @ w.T
    return o


def _first_above(norms: np.ndarray, tau: float) -> int:
    hits = np.nonzero(norms > tau)[0]
    if len(hits) == 0:
        raise RuntimeError("canonical scan found no candidate above its threshold")  # pragma: no cover
    return int(hits[0])
