"""Reps of compact Lie groups given by images: validation, evaluation at group elements, tensor products.

A rep of a compact group ``G`` holds ``dρ(X_i)`` for each Lie basis element ``X_i`` (skew ``D × D``), then
``ρ(h_j)`` for each discrete generator ``h_j`` (orthogonal). Nothing here decomposes: evaluation reads the
rep's isotypic decomposition, which :mod:`symm._lie_decompose` computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from symm import _tolerances as tolerances

if TYPE_CHECKING:
    from symm._compact import CompactGroup
    from symm._rep import Rep

__all__ = ["check_images", "evaluate", "expm_skew", "tensor_images"]

_INTEGRAL = 1e-6  # eigenvalues of a Lie image within this of i·Z integrate to a rep of the group


def check_images(group: CompactGroup, images: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` naming the offending image unless ``images`` define a rep of ``group``.

    Checks: Lie images are skew; they satisfy ``[dρ(X_i), dρ(X_j)] = Σ_k c_ijk dρ(X_k)``; the torus generator
    (``L`` or ``L_z``) has eigenvalues in ``i·Z``, so the rep integrates to the group and is single-valued
    (half-integers would be a spin rep of SU(2), not of SO(3)); discrete images are orthogonal, conjugate the
    Lie images as the defining matrices do, and square to ``I`` as the defining involutions do.
    """
    n_lie = group.n_lie
    lie, disc = images[:n_lie], images[n_lie:]
    labels = group.generators
    scale = max(1.0, float(np.abs(lie).max(initial=0.0)))
    tol = tolerances.ORTHOGONALITY * scale
    for i, a in enumerate(lie):
        err = float(np.abs(a + a.T).max())
        if err > tol:
            raise ValueError(
                f"{name}[{i}], the image dρ({labels[i]}), is not skew-symmetric: max |A + Aᵀ| = {err:.2e} "
                f"(Lie images of an orthogonal rep are skew; symm accepts at most {tol:.0e})"
            )
    c = group.structure_constants
    for i in range(n_lie):
        for j in range(i + 1, n_lie):
            bracket = lie[i] @ lie[j] - lie[j] @ lie[i] - np.einsum("k,kab->ab", c[i, j], lie)
            err = float(np.abs(bracket).max()) / scale**2
            if err > tolerances.ORTHOGONALITY * 100:
                want = " + ".join(f"{c[i, j, k]:g}·dρ({labels[k]})" for k in range(n_lie) if c[i, j, k]) or "0"
                raise ValueError(
                    f"{name}[{i}] and {name}[{j}] break the commutation relations of {group.name}'s Lie basis: "
                    f"[dρ({labels[i]}), dρ({labels[j]})] must be {want}, and differs from it by {err:.2e} (relative)"
                )
    torus = n_lie - 1  # L for SO(2)/O(2), L_z for SO(3)/O(3)
    sq = -lie[torus] @ lie[torus]
    freq = np.sqrt(np.clip(np.linalg.eigvalsh((sq + sq.T) / 2), 0.0, None))
    bad = np.abs(freq - np.round(freq)) > _INTEGRAL * np.maximum(1.0, freq)
    if bad.any():
        lam = float(freq[np.argmax(bad)])
        spin = " (a half-integer: a double-valued spin rep of SU(2), not a rep of SO(3))" if n_lie == 3 else ""
        raise ValueError(
            f"{name}[{torus}], the image dρ({labels[torus]}), has the eigenvalue ±{lam:.6g}i, not an integer "
            f"multiple of i{spin}: exp(2π dρ({labels[torus]})) must be the identity for the images to integrate "
            f"to a rep of {group.name}"
        )
    eye = np.eye(images.shape[1])
    for j, (r, h) in enumerate(zip(disc, group.discrete_generators, strict=True)):
        k = n_lie + j
        err = float(np.abs(r.T @ r - eye).max())
        if err > tolerances.ORTHOGONALITY:
            raise ValueError(
                f"{name}[{k}], the image ρ({labels[k]}), is not orthogonal: max |MᵀM - I| = {err:.2e}, and symm "
                f"accepts at most {tolerances.ORTHOGONALITY:.0e}"
            )
        adjoint = np.einsum("kab,iac->ikbc", group.lie_basis, h @ group.lie_basis @ h.T).trace(axis1=2, axis2=3) / 2
        for i in range(n_lie):
            err = float(np.abs(r @ lie[i] @ r.T - np.einsum("k,kab->ab", adjoint[i], lie)).max()) / scale
            if err > tolerances.ORTHOGONALITY * 100:
                raise ValueError(
                    f"{name}[{k}], the image ρ({labels[k]}), is inconsistent with the Lie images: ρ(h) dρ({labels[i]}) "
                    f"ρ(h)ᵀ must equal dρ(h {labels[i]} h⁻¹) and differs by {err:.2e} (relative)"
                )
        order = _matrix_order(h)
        err = float(np.abs(np.linalg.matrix_power(r, order) - eye).max())
        if err > tolerances.ORTHOGONALITY * 100 * order:
            raise ValueError(
                f"{name}[{k}], the image ρ({labels[k]}), is not the identity to the power {order}, as "
                f"{labels[k]} of {group.name} is: max |ρ(h)^{order} - I| = {err:.2e}"
            )
    group.check_images(images, name)


def _matrix_order(h: np.ndarray, limit: int = 10**6) -> int:
    """The smallest ``n >= 1`` with ``h^n = I`` for a defining matrix of finite order."""
    eye = np.eye(h.shape[0])
    p, n = h, 1
    while np.abs(p - eye).max() > 1e-9:
        p, n = p @ h, n + 1
        if n > limit:  # pragma: no cover - defining discrete generators have small order
            raise RuntimeError("a discrete generator has no finite order")
    return n


def tensor_images(group: CompactGroup, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Images of ``ρ ⊗ σ``: ``dρ ⊗ I + I ⊗ dσ`` for Lie images and ``ρ(h) ⊗ σ(h)`` for discrete ones."""
    n = group.n_lie
    ia, ib = np.eye(a.shape[1]), np.eye(b.shape[1])
    lie = [np.kron(x, ib) + np.kron(ia, y) for x, y in zip(a[:n], b[:n], strict=True)]
    disc = [np.kron(x, y) for x, y in zip(a[n:], b[n:], strict=True)]
    return np.stack(lie + disc)


def evaluate(rep: Rep, g: Any) -> np.ndarray:
    """``ρ(g)`` for one defining matrix (k, k) -> (D, D), or a stack (n, k, k) -> (n, D, D).

    ``g = exp(Σ ω_i X_i) h`` gives ``ρ(g) = Q (⊕_k I_{m_k} ⊗ exp(Σ ω_i dρ̂_k(X_i))) Qᵀ ρ(h)``: small matrix
    exponentials of the canonical irreps, two ``D × D`` products per element.
    """
    group = rep.group
    single = np.ndim(g) == 2
    omega, post = group.element_parts(rep.generator_images, g)
    n_lie = group.n_lie
    blocks = np.zeros((len(omega), rep.size, rep.size))
    start = 0
    for comp in rep.isotypic_components:
        irrep = comp.irrep
        d = irrep.dim
        small = expm_skew(np.einsum("ni,iab->nab", omega, irrep.generator_images[:n_lie]))
        for _ in range(comp.multiplicity):
            blocks[:, start : start + d, start : start + d] = small
            start += d
    q = rep.change_of_basis
    out = q @ blocks @ q.T
    if post is not None:
        out = out @ post
    return out[0] if single else out


def expm_skew(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` of real skew-symmetric matrices (..., d, d), through ``eigh`` of the Hermitian ``i·a``."""
    w, v = np.linalg.eigh(1j * a)
    out = (v * np.exp(-1j * w)[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))
    return out.real
