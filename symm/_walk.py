"""Matrices along a group's breadth-first tree: every element's image from the generator images, two levels
of the tree at a time, and small matrix helpers. Plain NumPy on a group's element tree; nothing here knows
about reps or decompositions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from symm._group import Group

__all__ = ["all_matrices", "as_permutations", "element_permutations", "iter_images", "permutation_matrices", "polish"]


def permutation_matrices(perms: np.ndarray) -> np.ndarray:
    """Permutation matrices ``P`` with ``P e_i = e_{p[i]}``, shape (n_perms, n, n)."""
    perms = np.asarray(perms)
    n = perms.shape[-1]
    out = np.zeros((perms.shape[0], n, n))
    for k, p in enumerate(perms):
        out[k, p, np.arange(n)] = 1.0
    return out


def iter_images(group: Group, gens: np.ndarray, start: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(elements, ρ(g) @ start for those g)`` level by level of the breadth-first tree.

    ``ρ(g_s h) = ρ(g_s) ρ(h)`` with the parent ``h`` one level up, so only two levels are held at a time.
    """
    parent, pgen = group.spanning_tree
    where = np.empty(group.order, dtype=np.int64)
    prev_idx, prev = np.zeros(1, dtype=np.int64), start[None]
    yield prev_idx, prev
    for idx in group.levels()[1:]:
        where[prev_idx] = np.arange(len(prev_idx))
        cur = np.empty((len(idx), *start.shape))
        for s in range(gens.shape[0]):
            sel = pgen[idx] == s
            if sel.any():
                cur[sel] = np.matmul(gens[s], prev[where[parent[idx[sel]]]])
        yield idx, cur
        prev_idx, prev = idx, cur


def all_matrices(group: Group, gens: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """``ρ(g) @ start`` (default ``ρ(g)``) for all elements, shape (order, *start.shape)."""
    start = np.eye(gens.shape[1]) if start is None else start
    out = np.empty((group.order, *start.shape))
    for idx, images in iter_images(group, gens, start):
        out[idx] = images
    return out


def as_permutations(gens: np.ndarray) -> np.ndarray | None:
    """Generator images as permutation arrays ``p`` (``P e_i = e_{p[i]}``), or ``None`` if they are not."""
    if not np.all((gens == 0.0) | (gens == 1.0)):
        return None
    if not np.all(gens.sum(axis=1) == 1.0) or not np.all(gens.sum(axis=2) == 1.0):
        return None
    return np.argmax(gens, axis=1)


def element_permutations(group: Group, perms: np.ndarray) -> np.ndarray:
    """Every element's permutation of the rep's points, shape (order, D), from the generators' ``perms``."""
    out = np.empty((group.order, perms.shape[1]), dtype=np.int64)
    out[0] = np.arange(perms.shape[1])
    parent, pgen = group.spanning_tree
    for i in range(1, group.order):
        out[i] = perms[pgen[i]][out[parent[i]]]
    return out


def polish(q: np.ndarray, *, keep_orthogonal: bool = False) -> np.ndarray:
    """The nearest orthogonal matrix (polar factor).

    Near-orthogonal input (the usual case) takes Newton–Schulz steps ``q ← q (3I − qᵀq)/2``, which converge
    quadratically to the same polar factor at two matrix products a step; other input takes the SVD.

    ``keep_orthogonal``: return ``q`` unchanged when it is orthogonal to ``4·eps·√D`` already (a matrix that
    only orthogonal factors have touched since its last polish); by default a step is always taken, which
    also evens out rounding left by other operations.
    """
    eye = np.eye(q.shape[1])
    gram = q.T @ q
    if q.shape[0] == q.shape[1] and np.abs(gram - eye).max() < 1e-3:
        floor = 64 * np.finfo(np.float64).eps * np.sqrt(q.shape[1])
        if keep_orthogonal and np.abs(gram - eye).max() < 4 * np.finfo(np.float64).eps * np.sqrt(q.shape[1]):
            return q
        for _ in range(6):
            q = q @ (1.5 * eye - 0.5 * gram)
            gram = q.T @ q
            if np.abs(gram - eye).max() < floor:
                return q
    u, _, vt = np.linalg.svd(q)
    return u @ vt
