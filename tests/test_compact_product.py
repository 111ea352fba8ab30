"""Direct products of a compact group with a finite group: decomposition, evaluation, statistics, errors.

The Haar oracle of ``SO(2) × B`` is exact quadrature: ``n`` equally spaced angles (exact for bandwidth below
``n``) times every element of the finite factor, uniformly weighted.
"""

from __future__ import annotations

import numpy as np
import pytest

import symm
from symm import groups


def _random_rep(G, band, count, seed):
    """A sum of ``count`` random irreps of ``G`` up to ``band``, in a random orthogonal basis given by raw images
    (so the numerical decomposition runs)."""
    rng = np.random.default_rng(seed)
    irreps = G.irreps_up_to(band)
    rep = symm.direct_sum(*[irreps[i] for i in rng.integers(0, len(irreps), count)])
    p = np.linalg.qr(rng.standard_normal((rep.size, rep.size)))[0]
    return symm.Rep(G, p @ rep.generator_images @ p.T), rep, p


def _so2_product_quadrature(G, n_angles):
    """Defining matrices of ``SO(2) × B`` (either order) on the exact rule: angles × every element of B."""
    theta = 2 * np.pi * np.arange(n_angles) / n_angles
    rot = np.stack([np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) for t in theta])
    finite = G.finite
    elements = [finite.element_data(g) for g in finite.elements]
    mats = [np.eye(len(e))[:, e] if finite._kind == "perm" else e for e in elements]
    out = []
    for r in rot:
        for m in mats:
            out.append(G._block(r, m))
    return np.stack(out)


PRODUCTS = {
    "SO2xC2": lambda: groups.direct_product(groups.so2(), groups.cyclic(2)),
    "C3xSO2": lambda: groups.direct_product(groups.cyclic(3), groups.so2()),
    "SO2xS3": lambda: groups.direct_product(groups.so2(), groups.symmetric(3)),
    "SO3xD3": lambda: groups.direct_product(groups.so3(), groups.dihedral(3)),
    "O2xQ8": lambda: groups.direct_product(groups.o2(), groups.quaternion()),
}


@pytest.mark.parametrize("name", [n for n in PRODUCTS if n != "C3xSO2"])
def test_decomposition_contract(name):
    G = PRODUCTS[name]()
    rep, plain, p = _random_rep(G, 2, 9, seed=3)
    q = rep.change_of_basis
    assert np.abs(q.T @ q - np.eye(rep.size)).max() < 1e-12
    for s, image in enumerate(rep.generator_images):
        expected = np.zeros((rep.size, rep.size))
        for c in rep.isotypic_components:
            for k in range(c.multiplicity):
                o = c.slice.start + k * c.irrep.dim
                expected[o : o + c.irrep.dim, o : o + c.irrep.dim] = c.irrep.generator_images[s]
        assert np.abs(q.T @ image @ q - expected).max() < 1e-10
    want = sorted((c.irrep.id, c.multiplicity) for c in plain.isotypic_components)
    assert sorted((c.irrep.id, c.multiplicity) for c in rep.isotypic_components) == want
    g = G.sample(6, seed=1)
    assert np.abs(rep(g) - p @ plain(g) @ p.T).max() < 1e-11
    assert np.abs(rep(g[0] @ g[1]) - rep(g[0]) @ rep(g[1])).max() < 1e-11


def test_complex_so2_irreps_with_multiplicity_pair_into_complex_products():
    G = PRODUCTS["SO2xC2"]()
    rep, _, _ = _random_rep(G, 2, 12, seed=5)
    complex_comps = [c for c in rep.isotypic_components if c.irrep.type == "C"]
    assert complex_comps and max(c.multiplicity for c in complex_comps) >= 2
    a, b = G.factor_ids(complex_comps[0].irrep.id)
    assert G.compact.irrep(a).type == "C" and G.finite.irrep(b).type == "R"


@pytest.mark.parametrize("name", ["SO2xC2", "C3xSO2", "SO2xS3"])
def test_cov_and_mean_match_the_quadrature_oracle(name, backend, rng):
    G = PRODUCTS[name]()
    rep, _, _ = _random_rep(G, 2, 7, seed=11)
    x = rng.normal(size=(25, rep.size)) + rng.normal(size=rep.size)
    mats = rep(_so2_product_quadrature(G, 9))  # cov has band <= 4 < 9
    aug = np.einsum("gij,nj->gni", mats, x).reshape(-1, rep.size)
    mu = aug.mean(axis=0)
    backend.assert_close(symm.mean(backend.asarray(x), rep), mu)
    cov = (aug - mu).T @ (aug - mu) / len(aug)
    backend.assert_close(symm.cov(backend.asarray(x), None, rep, correction=0), cov)


def test_irrep_ids_follow_the_factor_order():
    G = PRODUCTS["C3xSO2"]()
    assert G.name == "C3xSO(2)"
    irr = G.irrep((0, 2))  # C3's trivial irrep times SO(2)'s frequency 2
    assert G.factor_ids(irr.id) == (2, 0) and irr.dim == 2 and irr.type == "C"
    assert G.sample(3, seed=0).shape == (3, 5, 5)


def test_errors():
    so2, c3 = groups.so2(), groups.cyclic(3)
    G = groups.direct_product(so2, c3)
    with pytest.raises(ValueError, match="not irreducible over R"):
        G.irrep((1, 1))  # a complex SO(2) irrep times a complex irrep of C3
    with pytest.raises(ValueError, match="one of SO\\(2\\), O\\(2\\), SO\\(3\\), O\\(3\\) with a finite group"):
        groups.direct_product(so2, groups.so3())
    with pytest.raises(ValueError, match="block-diagonal"):
        G.irrep((0, 0))(np.ones((5, 5)))
    with pytest.raises(ValueError, match="is not an element"):
        G.irrep((0, 0))(np.eye(5) * np.array([1, 1, 1, 1, -1]))
    bad = G.trivial_rep(2).generator_images.copy()
    bad[1] = np.array([[0.0, 1.0], [1.0, 0.0]])  # order 2, but the C3 generator has order 3
    with pytest.raises(ValueError, match="C3"):
        symm.Rep(G, bad)
    with pytest.raises(ValueError, match="infinite-dimensional"):
        G.regular_rep()


def test_pickle_round_trip():
    import pickle

    G = PRODUCTS["SO3xD3"]()
    assert pickle.loads(pickle.dumps(G)) is G
    rep, _, _ = _random_rep(G, 1, 4, seed=2)
    back = pickle.loads(pickle.dumps(rep))
    assert np.abs(back.change_of_basis - rep.change_of_basis).max() < 1e-12
