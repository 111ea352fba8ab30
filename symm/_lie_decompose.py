"""Isotypic decomposition of reps of compact Lie groups, from the Lie and discrete images alone.

No character table, no sampling, ``O(D³)``:

1. the eigenspaces of the Casimir ``C = −Σ_i dρ(X_i)²`` (``k²`` on frequency ``k`` of SO(2)/O(2),
   ``l(l+1)`` on degree ``l`` of SO(3)/O(3)) are the band spaces;
2. a discrete generator splits a band space where it tells irreps apart (O(2)'s flip on frequency 0: trivial
   or determinant; O(3)'s inversion: the parity);
3. in each isotypic space, *seed* vectors, one per copy, are the image of a fixed seed ``ê`` of the canonical
   irrep under every intertwiner: an eigenspace that is one-dimensional in the irrep (the zero weight of
   ``L_z`` for SO(3), the flip's +1 line for O(2); for the complex-type SO(2) irreps, lines of a complex
   eigenbasis of ``dρ(L)``);
4. a Krylov word basis of the irrep, ``u_{n+1} ∝ dρ̂(X_i) u_j − Σ c u``, built once on the small canonical
   matrices, is replayed on each seed: the copy's columns are ``T u_j``, so ``T`` maps ``ρ̂`` onto the copy
   exactly, and every copy is aligned with the canonical irrep;
5. the copies of each class are put in their canonical gauge (:func:`symm._canonical.canonical_copies`), so
   ``Q`` depends on the rep alone, and the result is verified on every image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from symm import _hooks as hooks
from symm import _tolerances as tolerances
from symm._canonical import canonical_copies
from symm._product import ProductGroup, product_irrep_data
from symm._rep import Decomposition, Irrep, IsotypicComponent, Rep
from symm._walk import polish

__all__ = ["decompose"]

_BAND = 1e-6  # Casimir eigenvalues within this of the band's value belong to it


@hooks.decompose_compact.bind
def decompose(rep: Rep) -> Decomposition:
    """Isotypic decomposition of a rep of a compact group; see the module docstring."""
    group = rep.group
    images = rep.generator_images
    spaces = _product_spaces(rep) if isinstance(group, ProductGroup) else _isotypic_spaces(rep)
    spaces.sort(key=lambda item: group.irrep_sort_key(item[0]))
    columns, comps, start = [], [], 0
    for irrep, w, aligned in spaces:
        d = irrep.dim
        if w.shape[1] % d:
            raise RuntimeError(
                f"the isotypic space of {irrep} in {rep!r} has dimension {w.shape[1]}, not a multiple of {d}"
            )
        q = w if aligned or d == 1 else w @ _aligned_copies(irrep, w.T @ images @ w, w.shape[1] // d)
        q = canonical_copies(q, irrep.endomorphism_basis)
        comps.append(IsotypicComponent(irrep, q.shape[1] // d, slice(start, start + q.shape[1])))
        columns.append(q)
        start += q.shape[1]
    Q = polish(np.concatenate(columns, axis=1))
    _verify(rep, Q, comps)
    return Decomposition(Q, tuple(comps))


def _product_spaces(rep: Rep) -> list[tuple[Irrep, np.ndarray, bool]]:
    """``[(irrep, Q_k, True)]`` for a rep of ``A × B`` (compact × finite), copies already aligned.

    The rep restricted to ``A`` is decomposed first. ``B`` commutes with ``A``, so on the aligned copies of a
    real ``A``-irrep ``a`` it acts as ``M(b) ⊗ I``: ``M`` is a rep of ``B`` on the multiplicity space, decomposed
    by the finite machinery, and copy ``j`` of ``b`` in it spans copies of ``(a, b)`` as ``ρ̂_b ⊗ ρ̂_a``. For a
    complex ``a`` (SO(2), ``k >= 1``), ``B`` acts on the copies' real span commuting with the complex structure
    ``𝒥 = I ⊗ J``; that span is decomposed under ``B`` and each real ``b`` component's copies are paired by ``𝒥``
    into copies of ``(a, b)`` as ``ρ̂_a ⊗ ρ̂_b``.
    """
    group = rep.group
    compact, finite = group.compact, group.finite
    n_a = len(compact.generators)
    images = rep.generator_images
    rep_a = Rep(compact, images[:n_a])
    gens_b = images[n_a:]
    size = rep.size
    out: list[tuple[Irrep, np.ndarray, bool]] = []
    for comp in rep_a.isotypic_components:
        a = comp.irrep
        v = rep_a.change_of_basis[:, comp.slice]  # (D, m·d_a), copies aligned
        m, d_a = comp.multiplicity, a.dim
        restricted = v.T @ gens_b @ v
        if a.type == "R":
            mult = np.trace(restricted.reshape(len(gens_b), m, d_a, m, d_a), axis1=2, axis2=4) / d_a
            rep_m = Rep(finite, mult)
            q_b = rep_m.change_of_basis
            for c in rep_m.isotypic_components:
                cols = np.einsum("xca,cq->xqa", v.reshape(size, m, d_a), q_b[:, c.slice]).reshape(size, -1)
                out.append((group.irrep(group.product_id(a.id, c.irrep.id)), cols, True))
            continue
        rep_v = Rep(finite, restricted)
        q_b = rep_v.change_of_basis
        cplx = np.kron(np.eye(m), a.endomorphism_basis[1])  # 𝒥 in the copies' coordinates
        for c in rep_v.isotypic_components:
            b = c.irrep
            product_irrep_data(a, b, group.n_lie)  # raises for a pair that is not irreducible over R
            basis = v @ q_b[:, c.slice]  # (D, 2n·d_b), b's copies aligned
            k = (
                np.trace(
                    (q_b[:, c.slice].T @ cplx @ q_b[:, c.slice]).reshape(c.multiplicity, b.dim, -1, b.dim),
                    axis1=1,
                    axis2=3,
                )
                / b.dim
            )
            w, vec = np.linalg.eigh(1j * k)
            seeds = np.sqrt(2.0) * vec[:, w < 0]  # K v = i v
            s, ks = seeds.imag, seeds.real  # K s = ks
            n = s.shape[1]
            blocks = basis.reshape(size, c.multiplicity, b.dim)
            first = np.einsum("xcb,cj->xjb", blocks, s)
            second = np.einsum("xcb,cj->xjb", blocks, ks)
            cols = np.stack([first, second], axis=2).reshape(size, n * 2 * b.dim)
            out.append((group.irrep(group.product_id(a.id, b.id)), cols, True))
    return _merge(out)


def _merge(spaces: list[tuple[Irrep, np.ndarray, bool]]) -> list[tuple[Irrep, np.ndarray, bool]]:
    """One entry per irrep: the columns of every source of its copies, side by side."""
    merged: dict[int, tuple[Irrep, list[np.ndarray]]] = {}
    for irrep, cols, _ in spaces:
        merged.setdefault(id(irrep), (irrep, []))[1].append(cols)
    return [(irrep, np.concatenate(cols, axis=1), True) for irrep, cols in merged.values()]


def _isotypic_spaces(rep: Rep) -> list[tuple[Irrep, np.ndarray, bool]]:
    """``[(irrep, W, False)]``: orthonormal bases ``W`` (D, n) of the isotypic spaces, one per irrep present."""
    group = rep.group
    kind, n_lie = group._kind, group.n_lie
    lie, disc = rep.generator_images[:n_lie], rep.generator_images[n_lie:]
    cas = -sum(a @ a for a in lie)
    vals, vecs = np.linalg.eigh((cas + cas.T) / 2)
    vals = np.clip(vals, 0.0, None)
    band = np.sqrt(vals) if n_lie == 1 else (np.sqrt(1.0 + 4.0 * vals) - 1.0) / 2.0
    rounded = np.round(band)
    err = np.abs(band - rounded)
    if err.max(initial=0.0) > _BAND * max(1.0, float(band.max(initial=0.0))):
        raise RuntimeError(f"the Casimir of {rep!r} has an eigenvalue off the bands (by {err.max():.2e})")
    out: list[tuple[Irrep, np.ndarray]] = []
    for b in np.unique(rounded).astype(int).tolist():
        w = vecs[:, rounded == b]
        if kind in ("so2", "so3"):
            out.append((group.irrep(b), w, False))
        elif kind == "o2" and b > 0:
            out.append((group.irrep((1, b)), w, False))
        else:  # split by the discrete generator's sign: O(2) frequency 0 (trivial / det), O(3) parity
            ids = [(0, 0), (1, 0)] if kind == "o2" else [(0, b), (1, b)]
            signs = {float(np.round(group.irrep(i).generator_images[n_lie][0, 0])): i for i in ids}
            h = w.T @ disc[0] @ w
            s_vals, s_vecs = np.linalg.eigh((h + h.T) / 2)
            for sign, i in sorted(signs.items()):
                sel = np.abs(s_vals - sign) < 0.5
                if sel.any():
                    out.append((group.irrep(i), w @ s_vecs[:, sel], False))
    return out


def _aligned_copies(irrep: Irrep, images: np.ndarray, m: int) -> np.ndarray:
    """``[T_1 … T_m]`` (n, m·d): isometric intertwiners from ``irrep`` onto its ``m`` copies, with orthogonal
    ranges, for the rep's images (n_images, n, n) restricted to the isotypic space."""
    n_lie = irrep.group.n_lie
    seed_hat, seeds = _seeds(irrep, images, m)
    steps, basis = _krylov_words(irrep.generator_images[:n_lie], seed_hat)
    vecs = [seeds]  # (n, m) each: T_c u_j for every copy c at once
    for j, i, coef, norm in steps:
        r = images[i] @ vecs[j] - sum(c * v for c, v in zip(coef, vecs, strict=False))
        vecs.append(r / norm)
    t = np.stack(vecs, axis=2) @ basis.T  # (n, m, d): T_c = V_c Uᵀ
    return t.reshape(images.shape[1], m * irrep.dim)


def _seeds(irrep: Irrep, images: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ê, S)``: a unit seed ``ê`` of the canonical irrep and ``S`` (n, m), the images ``T_c ê`` of the copies."""
    n_lie = irrep.group.n_lie
    hat = irrep.generator_images
    if n_lie == 1 and irrep.type == "C":  # SO(2), frequency k: complex lines of dρ(L), u = √2·Im v
        k = float(np.sqrt(-(hat[0] @ hat[0])[0, 0]))
        w, v = np.linalg.eigh(1j * images[0])
        seeds = np.sqrt(2.0) * v[:, np.abs(w + k) < 0.5].imag
        e = np.eye(irrep.dim)[0]
    elif n_lie == 1:  # O(2), frequency k: the flip's +1 line
        e = np.linalg.eigh(hat[1])[1][:, -1]
        seeds = np.linalg.eigh((images[1] + images[1].T) / 2)[1][:, -m:]
    else:  # SO(3) / O(3): the zero weight of L_z, a line in every copy
        e = np.linalg.eigh(-hat[2] @ hat[2])[1][:, 0]
        seeds = np.linalg.eigh(-images[2] @ images[2])[1][:, :m]
    if seeds.shape[1] != m:
        raise RuntimeError(f"expected {m} copies of {irrep}, found {seeds.shape[1]} seed lines")
    return e, seeds


def _krylov_words(hat: np.ndarray, e: np.ndarray) -> tuple[list[tuple[int, int, np.ndarray, float]], np.ndarray]:
    """An orthonormal basis ``U`` (d, d) of the irrep from ``ê`` by the Lie images, and the steps that built it.

    Each step ``(j, i, c, ν)`` makes ``u_new = (dρ̂(X_i) u_j − Σ_k c_k u_k) / ν``; at each step the candidate
    with the largest remainder is taken (two Gram–Schmidt passes), so no step divides by a small ``ν``.
    """
    d = hat.shape[1]
    basis = [e / np.linalg.norm(e)]
    steps: list[tuple[int, int, np.ndarray, float]] = []
    while len(basis) < d:
        u = np.stack(basis, axis=1)
        best: tuple[float, int, int, np.ndarray, np.ndarray] | None = None
        for j in range(len(basis)):
            for i in range(hat.shape[0]):
                w = hat[i] @ basis[j]
                c = u.T @ w
                r = w - u @ c
                c2 = u.T @ r
                r = r - u @ c2
                nr = float(np.linalg.norm(r))
                if best is None or nr > best[0] + 1e-12:
                    best = (nr, j, i, c + c2, r)
        nr, j, i, c, r = best
        if nr < 1e-6:
            raise RuntimeError("the Lie images do not generate the irrep from its seed")
        steps.append((j, i, c, nr))
        basis.append(r / nr)
    return steps, np.stack(basis, axis=1)


def _verify(rep: Rep, Q: np.ndarray, comps: list[Any]) -> None:
    """Raise ``RuntimeError`` unless ``Qᵀ M Q = ⊕ I_m ⊗ M̂`` for every image ``M`` of the rep."""
    size = rep.size
    for s, image in enumerate(rep.generator_images):
        expected = np.zeros((size, size))
        for c in comps:
            d = c.irrep.dim
            for k in range(c.multiplicity):
                o = c.slice.start + k * d
                expected[o : o + d, o : o + d] = c.irrep.generator_images[s]
        err = float(np.abs(Q.T @ image @ Q - expected).max())
        scale = max(1.0, float(np.abs(image).max()))
        if err > tolerances.DECOMPOSITION_CHECK * np.sqrt(size) * scale:
            raise RuntimeError(
                f"the decomposition of {rep!r} failed its check on image {s} ({rep.group.generators[s]}): "
                f"max |QᵀMQ - ⊕ M̂| = {err:.2e}"
            )
