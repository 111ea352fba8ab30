"""Host tables for plugins: the NumPy constants that equivariant layers hold as buffers.

Each function reads a :class:`Rep`'s isotypic decomposition (``ρ(g) = Q (⊕_k I_{m_k} ⊗ ρ̂_k(g)) Qᵀ``,
copies-major, the trivial irrep first) and returns float64 or int64 arrays, computed once on the host. A
plugin turns them into tensors and never re-derives them. Published through :mod:`symm.internal`.

"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symm import _tolerances as tolerances
from symm._rep import Rep, shared_components
from symm._validate import check_rep

__all__ = [
    "HomBlock",
    "HomExpansionTables",
    "PairMaps",
    "cholesky_layout",
    "copy_index",
    "copy_norm_rows",
    "hom_expansion_tables",
    "invariant_basis",
    "permutation_images",
]


def invariant_basis(rep: Rep) -> np.ndarray:
    """Orthonormal columns spanning the invariant subspace of ``rep``: the trivial columns of ``Q``.

    Parameters
    ----------
    rep : Rep
        Of size ``D``.

    Returns
    -------
    numpy.ndarray
        Shape ``(D, m_triv)``, float64, with ``m_triv`` the multiplicity of the trivial irrep (possibly 0
        columns). ``ρ(g) B = B`` for every ``g``, and ``B Bᵀ`` is :func:`symm.invariant_orthogonal_projector`.
    """
    check_rep(rep, "rep")
    comp = rep.isotypic_components[0]
    if comp.irrep.is_trivial:
        return rep.change_of_basis[:, comp.slice]
    return np.zeros((rep.size, 0))


def copy_index(rep: Rep) -> np.ndarray:
    """The irreducible copy of each isotypic coordinate.

    Parameters
    ----------
    rep : Rep
        Of size ``D`` with ``n`` irreducible copies (``len(rep.irreps)``).

    Returns
    -------
    numpy.ndarray
        Shape ``(D,)``, int64: coordinate ``i`` of ``Qᵀ x`` belongs to copy ``c(i)`` in ``0 … n−1``, in the order
        of ``rep.irreps``. A scale shared by the coordinates of one copy commutes with every ``ρ(g)``.
    """
    check_rep(rep, "rep")
    return np.concatenate([np.full(irr.dim, c, dtype=np.int64) for c, irr in enumerate(rep.irreps)])


def copy_norm_rows(rep: Rep) -> tuple[np.ndarray, int]:
    """Rows projecting features on each irreducible copy, zero-padded to one width: ``(P, d_max)``.

    Parameters
    ----------
    rep : Rep
        Of size ``D`` with ``n`` irreducible copies of dimensions ``d_c``.

    Returns
    -------
    P : numpy.ndarray
        Shape ``(n · d_max, D)``, float64. Rows ``c d_max … c d_max + d_c`` are ``Q_cᵀ`` (the ``d_c`` columns of
        ``Q`` spanning copy ``c``), the other rows of block ``c`` are zero. So ``(P x).reshape(n, d_max)`` has
        row norms ``‖Q_cᵀ x‖``: the invariant norm of each copy (:func:`symm.irrep_norms`).
    d_max : int
        The largest irrep dimension.
    """
    check_rep(rep, "rep")
    irreps = rep.irreps
    n, d_max, D = len(irreps), max(i.dim for i in irreps), rep.size
    Q = rep.change_of_basis
    rows = np.zeros((n * d_max, D))
    start = 0
    for c, irr in enumerate(irreps):
        rows[c * d_max : c * d_max + irr.dim] = Q[:, start : start + irr.dim].T
        start += irr.dim
    return rows, d_max


def permutation_images(rep: Rep) -> np.ndarray | None:
    """The generator images of ``rep`` as exact 0/1 permutation matrices, or ``None`` if they are not.

    Parameters
    ----------
    rep : Rep
        Of size ``D``, with ``k`` generator images.

    Returns
    -------
    numpy.ndarray or None
        Shape ``(k, D, D)``, float64 with entries exactly 0 or 1 and one 1 in every row and column, when every
        generator image is within ``1e-9`` of a permutation matrix; ``None`` otherwise. A pointwise function
        commutes with ``ρ(g)`` for every ``g`` exactly when ``rep`` is a permutation rep.
    """
    check_rep(rep, "rep")
    gens = rep.generator_images
    rounded = np.rint(gens)
    is_perm = (
        np.abs(gens - rounded).max() < tolerances.PERMUTATION
        and np.all((rounded == 0) | (rounded == 1))
        and np.all(rounded.sum(axis=1) == 1)
        and np.all(rounded.sum(axis=2) == 1)
    )
    return rounded if is_perm else None


def cholesky_layout(rep: Rep, diagonal: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gather tables for a lower-triangular factor ``L`` of the commutant of ``rep``, in the isotypic basis.

    ``L = ⊕_k Σ_b L_{k,b} ⊗ E_{k,b}`` with ``L_{k,0}`` lower triangular (its diagonal first, one entry per
    copy) and the other ``L_{k,b}`` strictly lower triangular; with ``diagonal`` only the diagonal of each
    ``L_{k,0}``. ``L Lᵀ`` is then the general positive semi-definite element of the commutant
    (``diagonal=False``, ``n = symm.invariant_sym_dim(rep)`` parameters) or one variance per copy (``n`` copies).

    Parameters
    ----------
    rep : Rep
        Of size ``D``.
    diagonal : bool

    Returns
    -------
    src : numpy.ndarray
        Shape ``(D², t)``, int64, in ``0 … n``; ``n`` points at an appended zero parameter.
    coeff : numpy.ndarray
        Shape ``(D², t)``, float64: ``L.flat[j] = Σ_t coeff[j, t] · p[src[j, t]]`` for parameters ``p`` (n,).
    diag_mask : numpy.ndarray
        Shape ``(n,)``, bool: which parameters are diagonal entries of an ``L_{k,0}`` (to be kept positive).
    """
    check_rep(rep, "rep")
    D = rep.size
    terms: list[list[tuple[int, float]]] = [[] for _ in range(D * D)]
    diag_mask: list[bool] = []
    for comp in rep.isotypic_components:
        irr, m, a0 = comp.irrep, comp.multiplicity, comp.slice.start
        d, E = irr.dim, irr.endomorphism_basis
        base = len(diag_mask)
        diag_mask.extend([True] * m)
        for i in range(m):  # L_0[i, i] > 0 times E_0 = I
            for r in range(d):
                terms[(a0 + i * d + r) * D + a0 + i * d + r].append((base + i, 1.0))
        if diagonal:
            continue
        pairs = [(i, j) for i in range(m) for j in range(i)]
        for b in range(E.shape[0]):
            for t, (i, j) in enumerate(pairs):
                idx = len(diag_mask) + b * len(pairs) + t
                for r, c in zip(*np.nonzero(np.abs(E[b]) > tolerances.EXACT_ZERO), strict=False):
                    terms[(a0 + i * d + r) * D + a0 + j * d + c].append((idx, float(E[b][r, c])))
        diag_mask.extend([False] * (E.shape[0] * len(pairs)))
    n = len(diag_mask)
    width = max(1, max(len(t) for t in terms))
    src = np.full((D * D, width), n, dtype=np.int64)
    coeff = np.zeros((D * D, width))
    for j, t in enumerate(terms):
        for k, (s, v) in enumerate(t):
            src[j, k], coeff[j, k] = s, v
    return src, coeff, np.array(diag_mask)


@dataclass(frozen=True)
class HomBlock:
    """One irrep shared by both reps of a Hom_G expansion: parameters ``Θ_{k,b} ∈ R^{m_y × m_x}``, ``b < s``.

    Attributes
    ----------
    irrep : symm.Irrep
        Its ``endomorphism_basis`` (s, d, d) holds the ``E_b``.
    offset : int
        Index of the block's first parameter; the block has ``s · m_y · m_x``, ordered ``(b, i, j)``.
    s, m_y, m_x, d : int
        ``dim End_G``, the multiplicities in ``rep_y`` and ``rep_x``, and the irrep's dimension.
    """

    irrep: Any
    offset: int
    s: int
    m_y: int
    m_x: int
    d: int


@dataclass(frozen=True)
class HomExpansionTables:
    """The host layout of ``W = Q_y (⊕_k Σ_b Θ_{k,b} ⊗ E_{k,b}) Q_xᵀ`` (see :func:`hom_expansion_tables`).

    Attributes
    ----------
    blocks : tuple of HomBlock
    dim : int
        ``dim Hom_G(rep_x, rep_y)``: the number of parameters.
    Qy_blocks : numpy.ndarray
        ``(P, s_y, s_y)``: the diagonal blocks of ``Q_y`` (zero-padded).
    QxT_blocks : numpy.ndarray
        ``(R, s_x, s_x)``: the transposed diagonal blocks of ``Q_x`` (zero-padded).
    gather : numpy.ndarray
        ``(P · s_y · R · s_x,)`` int64: indices into ``[vec(blocks of W_iso)…, 0]``.
    scatter : numpy.ndarray
        ``(D_y · D_x,)`` int64: indices of the block product that give ``W`` row-major.
    pairs : PairMaps or None
        The same expansion composed into one small matrix per kind of block pair, when those matrices are
        small (see :class:`PairMaps`); ``None`` otherwise.
    """

    blocks: tuple[HomBlock, ...]
    dim: int
    Qy_blocks: np.ndarray
    QxT_blocks: np.ndarray
    gather: np.ndarray
    scatter: np.ndarray
    pairs: PairMaps | None = None


@dataclass(frozen=True)
class PairMaps:
    """``W`` block pair by block pair: ``vec(W_pq) = M_{t(p,q)} θ_pq``, composed on the host.

    ``Q_y`` and ``Q_x`` are block diagonal up to permutations (:func:`q_blocks`), so the block of ``W`` between
    block ``p`` of ``Q_y`` and block ``q`` of ``Q_x`` depends only on the ``h`` parameters ``θ_pq`` of the irrep
    copies inside those two blocks, linearly. Pairs whose matrices agree share one; for ``ρ = ρ_0^{⊕n}`` there
    is one. The expansion is then a gather, one matrix product per kind and a gather: the fewest operations
    for autograd to record, at ``O(D_y D_x |ρ_0|)`` flops.

    Attributes
    ----------
    theta : numpy.ndarray
        ``(n_pairs, h)`` int64: indices into ``[θ…, 0]`` (``dim`` for padding).
    kinds : numpy.ndarray
        ``(n_pairs,)`` int64: which matrix each pair uses.
    maps : numpy.ndarray
        ``(n_kinds, h, s_y · s_x)``: ``vec(W_pq) = θ_pq @ maps[kind]``.
    scatter : numpy.ndarray
        ``(D_y · D_x,)`` int64: indices into ``[vec(W_pq) of every pair…, 0]`` giving ``W`` row-major.
    tiles : tuple of int or None
        ``(n_y, n_x, s_y, s_x)`` when the pairs' ``s_y × s_x`` blocks tile ``W`` in pair order (contiguous
        diagonal blocks of ``Q_y`` and ``Q_x``, as for ``ρ_0^{⊕n}``): ``scatter`` is then the reshape
        ``(n_y, n_x, s_y, s_x) → (n_y, s_y, n_x, s_x)``, which a plugin may apply as a transpose instead of a
        gather. ``None`` otherwise.
    """

    theta: np.ndarray
    kinds: np.ndarray
    maps: np.ndarray
    scatter: np.ndarray
    tiles: tuple[int, int, int, int] | None = None


#: composed pair matrices larger than this many entries in all are not built (a dense Q has one pair whose
#: matrix is the whole basis stack)
PAIR_MAPS_MAX_ENTRIES = 1 << 20


def q_blocks(Q: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The diagonal blocks of an orthogonal ``Q`` up to permutations: ``[(rows, cols), ...]``.

    Parameters
    ----------
    Q : numpy.ndarray
        Shape ``(D, D)``, orthogonal.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Row and column indices (int64) of each block: the connected components of the bipartite graph of
        ``Q``'s nonzero entries. Each ``Q[rows][:, cols]`` is square and orthogonal; ``Q`` is zero outside.
    """
    nz = np.abs(Q) > tolerances.Q_BLOCK_ZERO
    n = Q.shape[0]
    seen = np.zeros(n, dtype=bool)
    out = []
    for r0 in range(n):
        if seen[r0]:
            continue
        rows = np.zeros(n, dtype=bool)
        cols = np.zeros(n, dtype=bool)
        rows[r0] = True
        frontier = rows.copy()
        while frontier.any():
            new_cols = nz[frontier].any(axis=0) & ~cols
            cols |= new_cols
            new_rows = nz[:, new_cols].any(axis=1) & ~rows if new_cols.any() else np.zeros(n, dtype=bool)
            rows |= new_rows
            frontier = new_rows
        seen |= rows
        out.append((np.nonzero(rows)[0], np.nonzero(cols)[0]))
    return out


def _padded_blocks(Q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(Q_blocks (P, s, s), cols (P, s) with pad = D, block_of_row (D,), position_of_row (D,))``."""
    blocks = q_blocks(Q)
    D = Q.shape[0]
    s = max(len(r) for r, _ in blocks)
    qb = np.zeros((len(blocks), s, s))
    cols = np.full((len(blocks), s), D, dtype=np.int64)
    block_of_row = np.empty(D, dtype=np.int64)
    pos_of_row = np.empty(D, dtype=np.int64)
    for p, (r, c) in enumerate(blocks):
        qb[p, : len(r), : len(c)] = Q[np.ix_(r, c)]
        cols[p, : len(c)] = c
        block_of_row[r] = p
        pos_of_row[r] = np.arange(len(r))
    return qb, cols, block_of_row, pos_of_row


def hom_expansion_tables(rep_x: Rep, rep_y: Rep) -> HomExpansionTables:
    """Tables to expand ``W ∈ Hom_G(rep_x, rep_y)`` from its ``hom_dim`` parameters without a basis stack.

    ``W = Q_y (⊕_k Σ_b Θ_{k,b} ⊗ E_{k,b}) Q_xᵀ``. A consumer (1) builds each isotypic block
    ``Σ_b Θ_{k,b} ⊗ E_{k,b}`` (``m_y d × m_x d``), flattens the blocks in order and appends one zero, (2) gathers
    that vector with ``gather`` into shape ``(P, s_y, R · s_x)``, (3) multiplies by ``Qy_blocks`` on the left,
    reshapes to ``(P s_y, R, s_x)``, moves ``R`` first and multiplies by ``QxT_blocks`` on the right, and (4)
    gathers the flattened product with ``scatter`` into ``W`` of shape ``(D_y, D_x)``. ``Q`` of a direct sum is
    block diagonal up to permutations, so for ``ρ = ρ_0^{⊕n}`` this costs ``O(D_y D_x |ρ_0|)``, not ``O(D³)``.

    Parameters
    ----------
    rep_x, rep_y : Rep
        Of sizes ``D_x`` and ``D_y``, of one group.

    Returns
    -------
    HomExpansionTables
        With ``dim == 0`` (and no blocks) when the reps share no irrep.
    """
    check_rep(rep_x, "rep_x")
    check_rep(rep_y, "rep_y")
    shared = shared_components(rep_x, rep_y)
    blocks, offset, iso_offset = [], 0, 0
    D_y, D_x = rep_y.size, rep_x.size
    zero = sum(cy.dim * cx.dim for _, cx, cy in shared)
    iso_map = np.full((D_y + 1, D_x + 1), zero, dtype=np.int64)  # W_iso entry -> flat block index
    for irrep, cx, cy in shared:
        s = irrep.endomorphism_dim
        blocks.append(HomBlock(irrep, offset, s, cy.multiplicity, cx.multiplicity, irrep.dim))
        size = cy.dim * cx.dim
        iso_map[cy.slice, cx.slice] = iso_offset + np.arange(size).reshape(cy.dim, cx.dim)
        offset += s * cy.multiplicity * cx.multiplicity
        iso_offset += size
    qy, cols_y, prow, irow = _padded_blocks(rep_y.change_of_basis)
    qx, cols_x, qcol, jcol = _padded_blocks(rep_x.change_of_basis)
    # G[p, a, q, c] = W_iso[cols_y[p, a], cols_x[q, c]]; after both products the layout is (q, p, a, c)
    gather = iso_map[cols_y[:, :, None, None], cols_x[None, None, :, :]]  # (P, s_y, R, s_x)
    P, sy, _, sx = gather.shape
    final = ((qcol[None, :] * P + prow[:, None]) * sy + irow[:, None]) * sx + jcol[None, :]
    pairs = _pair_maps(shared, blocks, qy, qx, cols_y, cols_x, (prow, irow), (qcol, jcol), offset)
    return HomExpansionTables(
        tuple(blocks), offset, qy, np.swapaxes(qx, 1, 2), gather.reshape(-1), final.reshape(-1), pairs
    )


def _pair_maps(
    shared: list,
    blocks: list,
    qy: np.ndarray,
    qx: np.ndarray,
    cols_y: np.ndarray,
    cols_x: np.ndarray,
    rows_y: tuple[np.ndarray, np.ndarray],
    rows_x: tuple[np.ndarray, np.ndarray],
    dim: int,
) -> PairMaps | None:
    """The :class:`PairMaps` of an expansion, or ``None`` when their matrices would be too large."""
    P, sy = cols_y.shape
    R, sx = cols_x.shape
    D_y, D_x = len(rows_y[0]), len(rows_x[0])  # the column lists are padded with D
    block_y, pos_y = _column_places(cols_y, D_y)
    block_x, pos_x = _column_places(cols_x, D_x)
    name_y, name_x = _block_names(qy), _block_names(qx)  # equal blocks of Q give equal pair matrices
    terms: dict[tuple[int, int], list[tuple[int, int, int, int, int]]] = {}  # pair -> [(θ index, k, b, i, j)]
    for k, ((irrep, cx, cy), blk) in enumerate(zip(shared, blocks, strict=True)):
        d = irrep.dim
        by = block_y[cy.slice.start + d * np.arange(blk.m_y)[:, None] + np.arange(d)[None, :]]  # (m_y, d)
        bx = block_x[cx.slice.start + d * np.arange(blk.m_x)[:, None] + np.arange(d)[None, :]]
        if np.any(by != by[:, :1]) or np.any(bx != bx[:, :1]):  # an irrep copy split across blocks of Q
            return None
        for i in range(blk.m_y):
            for j in range(blk.m_x):
                for b in range(blk.s):
                    idx = blk.offset + (b * blk.m_y + i) * blk.m_x + j
                    terms.setdefault((int(by[i, 0]), int(bx[j, 0])), []).append((idx, k, b, i, j))
    if not terms:
        return None
    # positions inside its block of Q of every copy's columns, per component
    at_y = [[tuple(pos_y[_copy(cy, i)].tolist()) for i in range(cy.multiplicity)] for _, _, cy in shared]
    at_x = [[tuple(pos_x[_copy(cx, j)].tolist()) for j in range(cx.multiplicity)] for _, cx, _ in shared]
    h = max(len(t) for t in terms.values())
    keys = sorted(terms)
    kinds = np.empty(len(keys), dtype=np.int64)
    theta = np.full((len(keys), h), dim, dtype=np.int64)
    maps: list[np.ndarray] = []
    seen: dict[tuple, int] = {}
    for n, (p, q) in enumerate(keys):
        entries = terms[(p, q)]
        theta[n, : len(entries)] = [e[0] for e in entries]
        places = [(k, b, at_y[k][i], at_x[k][j]) for _, k, b, i, j in entries]
        key = (name_y[p], name_x[q], tuple(places))
        if key not in seen:
            m = np.zeros((h, sy, sx))
            for u, (k, b, ay, ax) in enumerate(places):
                m[u] = qy[p][:, list(ay)] @ shared[k][0].endomorphism_basis[b] @ qx[q][:, list(ax)].T
            seen[key] = len(maps)
            maps.append(m.reshape(h, sy * sx))
            if len(maps) * h * sy * sx > PAIR_MAPS_MAX_ENTRIES:
                return None
        kinds[n] = seen[key]
    # W[r, c] sits in pair (p(r), q(c)) at (position of r, position of c); pairs without parameters are zero
    (prow, irow), (qcol, jcol) = rows_y, rows_x
    pair_of = np.full((P, R), -1, dtype=np.int64)
    for n, (p, q) in enumerate(keys):
        pair_of[p, q] = n
    pair_index = pair_of[prow[:, None], qcol[None, :]]
    zero = len(keys) * sy * sx
    scatter = np.where(pair_index >= 0, (pair_index * sy + irow[:, None]) * sx + jcol[None, :], zero).reshape(-1)
    return PairMaps(theta, kinds, np.stack(maps), scatter, _tiles(scatter, len(prow), len(qcol), sy, sx))


def _tiles(scatter: np.ndarray, d_y: int, d_x: int, sy: int, sx: int) -> tuple[int, int, int, int] | None:
    """``(n_y, n_x, s_y, s_x)`` if ``scatter`` lays the pairs' blocks out in order over ``W`` (see ``PairMaps``)."""
    if d_y % sy or d_x % sx:
        return None
    n_y, n_x = d_y // sy, d_x // sx
    i, a = np.divmod(np.arange(d_y), sy)
    j, b = np.divmod(np.arange(d_x), sx)
    tiled = ((i[:, None] * n_x + j[None, :]) * sy + a[:, None]) * sx + b[None, :]
    return (n_y, n_x, sy, sx) if np.array_equal(tiled.reshape(-1), scatter) else None


def _column_places(cols: np.ndarray, D: int) -> tuple[np.ndarray, np.ndarray]:
    """For every isotypic column: the block of ``Q`` that holds it, and its position in that block."""
    block, pos = np.empty(D, dtype=np.int64), np.empty(D, dtype=np.int64)
    for p, row in enumerate(cols):
        real = row[row < D]
        block[real], pos[real] = p, np.arange(len(real))
    return block, pos


def _block_names(qb: np.ndarray) -> list[int]:
    """Equal (to 1e-12) blocks of ``Q`` get equal names."""
    names: dict[bytes, int] = {}
    return [names.setdefault((np.round(b, 12) + 0.0).tobytes(), len(names)) for b in qb]


def _copy(comp: Any, i: int) -> slice:
    """The isotypic columns of copy ``i`` of a component."""
    d = comp.irrep.dim
    return slice(comp.slice.start + i * d, comp.slice.start + (i + 1) * d)
