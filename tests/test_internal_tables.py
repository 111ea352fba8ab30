"""``symm.internal`` host tables (``symm/_tables.py``): each table against its definition, on NumPy alone.

The reps mix every irrep type (R, C, H), multiplicities above one and a random orthogonal basis, so a table
that ignores cross-copy terms or the change of basis fails.
"""

from __future__ import annotations

import numpy as np
import pytest

import symm
from symm import groups, internal


def _orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _mixed(rep: symm.Rep, seed: int = 0) -> symm.Rep:
    return rep.change_basis(_orthogonal(rep.size, seed))


REPS = {
    "C5": lambda: _mixed(groups.cyclic(5).regular_rep() * 2, 1),
    "D4": lambda: _mixed(groups.dihedral(4).regular_rep() + groups.dihedral(4).natural_rep("standard"), 2),
    "Q8": lambda: _mixed(groups.quaternion().regular_rep() * 2 + groups.quaternion().trivial_rep(1), 3),
    "S3-no-trivial": lambda: groups.symmetric(3).irreps()[1] * 2 + groups.symmetric(3).irreps()[2],
}


@pytest.fixture(params=list(REPS), ids=list(REPS))
def rep(request):
    return REPS[request.param]()


def _elements(rep: symm.Rep) -> list[np.ndarray]:
    return [rep(g) for g in range(rep.group.order)]


def test_invariant_basis(rep):
    B = internal.invariant_basis(rep)
    m_triv = rep.multiplicity(rep.group.irreps()[0])
    assert B.shape == (rep.size, m_triv) and B.dtype == np.float64
    np.testing.assert_allclose(B.T @ B, np.eye(m_triv), atol=1e-12)
    for r in _elements(rep):
        np.testing.assert_allclose(r @ B, B, atol=1e-12)
    np.testing.assert_allclose(B @ B.T, symm.invariant_orthogonal_projector(rep), atol=1e-12)


def test_copy_index_and_copy_norm_rows(rep):
    idx = internal.copy_index(rep)
    dims = [irr.dim for irr in rep.irreps]
    assert idx.shape == (rep.size,) and idx.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(idx), dims)
    assert np.all(np.diff(idx) >= 0)
    P, d_max = internal.copy_norm_rows(rep)
    n = len(dims)
    assert d_max == max(dims) and P.shape == (n * d_max, rep.size)
    x = np.random.default_rng(0).normal(size=(7, rep.size))
    norms = np.linalg.norm((x @ P.T).reshape(7, n, d_max), axis=-1)
    np.testing.assert_allclose(norms, symm.irrep_norms(x, rep), atol=1e-12)
    for r in _elements(rep):  # invariant
        np.testing.assert_allclose(np.linalg.norm((x @ r.T @ P.T).reshape(7, n, d_max), axis=-1), norms, atol=1e-12)


def test_permutation_images():
    D4 = groups.dihedral(4)
    for rep in (D4.regular_rep(), D4.natural_rep("permutation"), D4.regular_rep() * 2):
        images = internal.permutation_images(rep)
        assert images is not None and images.shape == rep.generator_images.shape
        assert set(np.unique(images)) <= {0.0, 1.0}
        np.testing.assert_array_equal(images.sum(axis=1), 1)
        np.testing.assert_allclose(images, rep.generator_images, atol=1e-9)
    assert internal.permutation_images(D4.natural_rep("standard")) is None  # a rotation is no permutation
    assert internal.permutation_images(_mixed(D4.regular_rep(), 4)) is None  # nor is a rotated regular rep
    signed = D4.regular_rep().change_basis(np.diag([1.0, -1.0] + [1.0] * 6))
    assert internal.permutation_images(signed) is None  # -1 entries


@pytest.mark.parametrize("diagonal", [True, False], ids=["diag", "full"])
def test_cholesky_layout_spans_the_commutant(rep, diagonal):
    src, coeff, diag_mask = internal.cholesky_layout(rep, diagonal)
    n, D = diag_mask.size, rep.size
    assert src.shape == coeff.shape and src.shape[0] == D * D and src.dtype == np.int64
    assert n == (len(rep.irreps) if diagonal else symm.invariant_sym_dim(rep))
    assert int(diag_mask.sum()) == len(rep.irreps) and src.max() <= n
    rng = np.random.default_rng(1)
    p = rng.normal(size=n)
    p[diag_mask] = np.abs(p[diag_mask]) + 0.5
    L = (np.append(p, 0.0)[src] * coeff).sum(-1).reshape(D, D)
    assert np.allclose(np.triu(L, 1), 0)  # lower triangular in the isotypic basis
    Q = rep.change_of_basis
    S = Q @ L @ L.T @ Q.T
    np.testing.assert_allclose(symm.project_equivariant(S, rep, rep), S, atol=1e-12)
    assert np.linalg.eigvalsh(S).min() > 0
    # the map p -> L is injective: n independent parameters
    J = np.stack([(np.append(np.eye(n)[i], 0.0)[src] * coeff).sum(-1) for i in range(n)])
    assert np.linalg.matrix_rank(J) == n


def _expand(tables: internal.HomExpansionTables, theta: np.ndarray, D_y: int, D_x: int) -> np.ndarray:
    """The four documented steps, in NumPy."""
    flat = []
    for b in tables.blocks:
        t = theta[b.offset : b.offset + b.s * b.m_y * b.m_x].reshape(b.s, b.m_y, b.m_x)
        flat.append(sum(np.kron(t[k], b.irrep.endomorphism_basis[k]) for k in range(b.s)).reshape(-1))
    w_iso = np.concatenate([*flat, [0.0]])
    qy, qxt = tables.Qy_blocks, tables.QxT_blocks
    P, sy, R, sx = qy.shape[0], qy.shape[1], qxt.shape[0], qxt.shape[1]
    h = qy @ w_iso[tables.gather].reshape(P, sy, R * sx)
    h = h.reshape(P * sy, R, sx).transpose(1, 0, 2)
    return (h @ qxt).reshape(-1)[tables.scatter].reshape(D_y, D_x)


@pytest.mark.parametrize("pair", ["self", "to-regular", "from-regular"])
def test_hom_expansion_tables(rep, pair):
    G = rep.group
    rep_x, rep_y = {"self": (rep, rep), "to-regular": (rep, G.regular_rep()), "from-regular": (G.regular_rep(), rep)}[
        pair
    ]
    tables = internal.hom_expansion_tables(rep_x, rep_y)
    assert tables.dim == symm.hom_dim(rep_x, rep_y)
    assert tables.scatter.shape == (rep_y.size * rep_x.size,) and tables.gather.dtype == np.int64
    offsets = [b.offset for b in tables.blocks]
    assert offsets == sorted(offsets) and sum(b.s * b.m_y * b.m_x for b in tables.blocks) == tables.dim
    rng = np.random.default_rng(2)
    W = _expand(tables, rng.normal(size=tables.dim), rep_y.size, rep_x.size)
    np.testing.assert_allclose(symm.project_equivariant(W, rep_x, rep_y), W, atol=1e-12)
    assert np.abs(W).max() > 0.1
    # injective: the expansion of the unit vectors is a basis of Hom_G
    basis = np.stack([_expand(tables, e, rep_y.size, rep_x.size).ravel() for e in np.eye(tables.dim)])
    assert np.linalg.matrix_rank(basis) == tables.dim


@pytest.mark.parametrize("pair", ["self", "to-regular", "from-regular"])
def test_pair_maps_expand_as_the_four_steps(rep, pair):
    """The composed pair matrices give the same W as the four documented steps, where they are built."""
    G = rep.group
    rep_x, rep_y = {"self": (rep, rep), "to-regular": (rep, G.regular_rep()), "from-regular": (G.regular_rep(), rep)}[
        pair
    ]
    tables = internal.hom_expansion_tables(rep_x, rep_y)
    pairs = tables.pairs
    if pairs is None:
        pytest.skip("no pair matrices for this pair (a dense Q or an irrep copy split across blocks)")
    theta = np.random.default_rng(3).normal(size=tables.dim)
    blocks = np.append(theta, 0.0)[pairs.theta]  # (n_pairs, h)
    flat = np.einsum("nh,nhk->nk", blocks, pairs.maps[pairs.kinds]).reshape(-1)
    W = np.append(flat, 0.0)[pairs.scatter].reshape(rep_y.size, rep_x.size)
    np.testing.assert_allclose(W, _expand(tables, theta, rep_y.size, rep_x.size), atol=1e-12)
    if pairs.tiles is not None:  # the scatter is the documented reshape and transpose
        n_y, n_x, s_y, s_x = pairs.tiles
        tiled = flat.reshape(n_y, n_x, s_y, s_x).transpose(0, 2, 1, 3).reshape(rep_y.size, rep_x.size)
        np.testing.assert_array_equal(tiled, W)


def test_pair_maps_of_regular_copies_have_one_kind():
    G = groups.dihedral(6)
    rep = G.regular_rep() * 5
    pairs = internal.hom_expansion_tables(rep, rep).pairs
    assert pairs is not None and len(pairs.maps) == 1 and pairs.theta.shape == (25, G.order)
    assert pairs.tiles == (5, 5, G.order, G.order)
    interleaved = rep.change_basis(np.eye(rep.size)[np.arange(rep.size).reshape(5, -1).T.reshape(-1)])
    assert internal.hom_expansion_tables(interleaved, rep).pairs.tiles is None  # same blocks, not contiguous


def test_hom_expansion_tables_of_reps_sharing_no_irrep():
    C4 = groups.cyclic(4)
    tables = internal.hom_expansion_tables(C4.trivial_rep(2), C4.irreps()[1] * 3)
    assert tables.dim == 0 and tables.blocks == ()


def test_tables_reject_what_is_not_a_rep():
    for f in (internal.invariant_basis, internal.copy_index, internal.copy_norm_rows, internal.permutation_images):
        with pytest.raises(TypeError, match=r"symm\.Rep"):
            f(np.eye(3))
    with pytest.raises(TypeError, match=r"symm\.Rep"):
        internal.cholesky_layout("rep", diagonal=True)
