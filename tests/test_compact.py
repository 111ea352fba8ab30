"""Compact groups SO(2), O(2), SO(3), O(3): the oracles of issue 11, on every backend.

Every Haar integral of an oracle is an *exact* quadrature (``_haar.py``: equally spaced angles on SO(2), Euler
angle grids times Gauss–Legendre in cos β on SO(3), both cosets for O(n)), sized from the band of the integrand,
never Monte Carlo. The representation matrices at the nodes are matrix exponentials of the rep's own images
(``Rule.evaluate``), so the oracles never use symm's ``rep(g)`` or its isotypic decomposition. Most reps are
given by raw images in a random orthogonal basis (``P · images · Pᵀ`` passed to ``symm.Rep``), so that symm's
decomposition runs numerically, with multiplicities above one (complex-type copies on SO(2)).

The oracles are float64 NumPy; inputs go to each backend as in ``test_stats.py`` and the oracles see the
backend's rounded copy of the data.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from math import comb

import numpy as np
import pytest
from _groups import random_orthogonal
from _haar import Rule, band_of, expm, haar_rule, taylor_expm

import symm
from symm import groups

N = 24
#: float64 agreement asked of symm against the quadrature oracles (relative to the size of the result)
TOL64 = 1e-12

GROUP_NAMES = ("SO(2)", "O(2)", "SO(3)", "O(3)")
_MAKE = {"SO(2)": groups.so2, "O(2)": groups.o2, "SO(3)": groups.so3, "O(3)": groups.o3}


def group(name: str) -> symm.Group:
    return _MAKE[name]()


# --------------------------------------------------------------------------------------------- rep builders


def block_images(*parts: np.ndarray | symm.Rep) -> np.ndarray:
    """The images of the direct sum of ``parts`` (reps or image stacks), block-diagonal, built by hand."""
    stacks = [p.generator_images if isinstance(p, symm.Rep) else np.asarray(p, dtype=np.float64) for p in parts]
    size = sum(s.shape[1] for s in stacks)
    out = np.zeros((stacks[0].shape[0], size, size))
    o = 0
    for s in stacks:
        d = s.shape[1]
        out[:, o : o + d, o : o + d] = s
        o += d
    return out


def kron_images(a: np.ndarray, b: np.ndarray, n_lie: int) -> np.ndarray:
    """Images of a tensor product, by hand: ``dρ⊗I + I⊗dσ`` for Lie images, ``ρ(h)⊗σ(h)`` for discrete ones."""
    ia, ib = np.eye(a.shape[1]), np.eye(b.shape[1])
    lie = [np.kron(x, ib) + np.kron(ia, y) for x, y in zip(a[:n_lie], b[:n_lie], strict=True)]
    return np.stack(lie + [np.kron(x, y) for x, y in zip(a[n_lie:], b[n_lie:], strict=True)])


def raw_rep(G: symm.Group, images: np.ndarray, seed: int | None, name: str) -> symm.Rep:
    """``symm.Rep(G, P images Pᵀ)`` with a random orthogonal ``P`` (no ``P`` for ``seed=None``): symm sees only
    the images, never a change of basis, so it decomposes them numerically."""
    if seed is not None:
        P = random_orthogonal(images.shape[1], seed)
        images = P @ images @ P.T
    return symm.Rep(G, images, name=name)


def irr(G: symm.Group, id) -> np.ndarray:
    return G.irrep(id).generator_images


def defining(G: symm.Group) -> np.ndarray:
    return np.concatenate([G.lie_basis, G.discrete_generators])


def pseudovector(G: symm.Group) -> np.ndarray:
    """O(3)'s axial vector (or O(2)'s vector twisted by the determinant): defining Lie images, ``ρ(h) = -h``."""
    return np.concatenate([G.lie_basis, -G.discrete_generators])


def tensor_power(images: np.ndarray, k: int, n_lie: int) -> np.ndarray:
    out = images
    for _ in range(k - 1):
        out = kron_images(out, images, n_lie)
    return out


# --------------------------------------------------------------------------------------------- statistics cases


@dataclass(frozen=True)
class Case:
    """A pair of reps of one compact group, with the matrices of both at the nodes of a rule exact for every
    integrand the oracles need (band ``band_x + band_y``, which covers ``band_x`` and ``2·band_x`` too when
    ``band_y >= band_x``)."""

    name: str
    rep_x: symm.Rep
    rep_y: symm.Rep
    rule: Rule
    mx: np.ndarray
    my: np.ndarray


def _build_case(name: str) -> Case:
    G = group(name)
    if name == "SO(2)":  # complex-type frequencies 1 (×2) and 2 (×3), trivial ×2, mixed
        x = block_images(irr(G, 0), irr(G, 0), irr(G, 1), irr(G, 1), irr(G, 2), irr(G, 2), irr(G, 2))
        y = tensor_power(defining(G), 2, 1)  # 0 ⊕ 0 ⊕ 2
    elif name == "O(2)":
        x = block_images(irr(G, (0, 0)), irr(G, (1, 0)), irr(G, (1, 0)), defining(G), irr(G, (1, 1)), irr(G, (1, 2)))
        y = block_images(defining(G), irr(G, (1, 0)), irr(G, (1, 2)))
    elif name == "SO(3)":  # V⊗V ⊕ V: l = 0, 1 (×2), 2
        V = defining(G)
        x = block_images(tensor_power(V, 2, 3), V)
        y = block_images(V, irr(G, 2), irr(G, 0))
    else:  # O(3): vectors ×2, a pseudovector, a scalar, an odd l = 2
        V = defining(G)
        x = block_images(V, V, pseudovector(G), irr(G, (0, 0)), irr(G, (1, 2)))
        y = block_images(V, irr(G, (1, 0)), irr(G, (0, 2)), irr(G, (0, 1)))
    seed = GROUP_NAMES.index(name)
    rep_x = raw_rep(G, x, 10 + seed, f"{name} x")
    rep_y = raw_rep(G, y, 20 + seed, f"{name} y")
    bx, by = band_of(rep_x.generator_images, G.n_lie), band_of(rep_y.generator_images, G.n_lie)
    assert by >= bx
    rule = haar_rule(name, bx + by)
    return Case(name, rep_x, rep_y, rule, rule.evaluate(rep_x.generator_images), rule.evaluate(rep_y.generator_images))


@functools.cache
def case(name: str) -> Case:
    c = _build_case(name)
    _ = c.rep_x.isotypic_components, c.rep_y.isotypic_components
    return c


@pytest.fixture(params=GROUP_NAMES)
def cs(request) -> Case:
    return case(request.param)


# --------------------------------------------------------------------------------------------- quadrature oracles


def _augment(x: np.ndarray, mats: np.ndarray) -> np.ndarray:
    """``ρ(g_j) x_n`` for every node and sample, shape (n_nodes, N, D)."""
    return np.einsum("jab,nb->jna", mats, x)


def oracle_mean(x: np.ndarray, c: Case) -> np.ndarray:
    return c.rule.integrate(_augment(x, c.mx).mean(axis=1))


def oracle_cov(x: np.ndarray, y: np.ndarray, c: Case, mx: np.ndarray, my: np.ndarray) -> np.ndarray:
    """Population covariance (D_y, D_x) of the augmented pairs ``(ρ_x(g) x_n, ρ_y(g) y_n)`` under the Haar
    measure: the quadrature-weighted average over nodes of the per-node sums."""
    xa, ya = _augment(x, mx), _augment(y, my)
    mu, nu = c.rule.integrate(xa.mean(axis=1)), c.rule.integrate(ya.mean(axis=1))
    return c.rule.integrate(np.einsum("jna,jnb->jab", ya - nu, xa - mu)) / x.shape[0]


def oracle_lstsq(x: np.ndarray, y: np.ndarray, c: Case) -> np.ndarray:
    """Plain minimum-norm least squares on the augmented rows ``√w_j ρ_x(g_j) x_n``, ``√w_j ρ_y(g_j) y_n``."""
    sw = np.sqrt(c.rule.weights)[:, None, None]
    xa = (sw * _augment(x, c.mx)).reshape(-1, x.shape[1])
    ya = (sw * _augment(y, c.my)).reshape(-1, y.shape[1])
    return np.linalg.lstsq(xa, ya, rcond=None)[0].T


def oracle_reynolds(A: np.ndarray, c: Case) -> np.ndarray:
    return c.rule.integrate(c.my @ A @ np.swapaxes(c.mx, 1, 2))


def invariant_nullspace_projector(images: np.ndarray, n_lie: int) -> np.ndarray:
    """``W Wᵀ`` with ``W`` an orthonormal basis of ``{v : dρ(X_i) v = 0, ρ(h) v = v}``, by SVD: the projector
    onto the trivial copies, computed without any group average."""
    eye = np.eye(images.shape[1])
    rows = np.concatenate([images[:n_lie], images[n_lie:] - eye]) if len(images) > n_lie else images
    w = _nullspace(rows.reshape(-1, images.shape[1]))
    return w @ w.T


def _nullspace(m: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    _, s, vt = np.linalg.svd(m)
    rank = int(np.sum(s > tol * max(1.0, s.max(initial=0.0))))
    return vt[rank:].T


def commutant_dim(images_x: np.ndarray, images_y: np.ndarray) -> int:
    """``dim {T : dρ_y(X) T = T dρ_x(X), ρ_y(h) T = T ρ_x(h)}`` as the nullspace of the stacked linear system
    (row-major ``vec``: ``vec(A T B) = (A ⊗ Bᵀ) vec T``); independent of any decomposition."""
    dx, dy = images_x.shape[1], images_y.shape[1]
    blocks = [np.kron(b, np.eye(dx)) - np.kron(np.eye(dy), a.T) for a, b in zip(images_x, images_y, strict=True)]
    m = np.concatenate(blocks)
    vals = np.linalg.eigvalsh(m.T @ m)
    return int(np.sum(vals < 1e-9 * max(1.0, vals.max())))


# --------------------------------------------------------------------------------------------- helpers


def _data(rng, n: int, size: int, shift: float = 0.7) -> np.ndarray:
    return rng.normal(size=(n, size)) + shift * rng.normal(size=size)


def _pair(rng, c: Case, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and a ``y`` linearly related to it (plus noise), so cross-moments are far from zero."""
    x = _data(rng, n, c.rep_x.size)
    return x, x @ rng.normal(size=(c.rep_x.size, c.rep_y.size)) + 0.3 * _data(rng, n, c.rep_y.size)


def _host(backend, x: np.ndarray) -> np.ndarray:
    """The host copy of ``x`` as the backend sees it (rounded to its dtype)."""
    return backend.to_numpy(backend.asarray(x))


def close(backend, actual, expected: np.ndarray, err_msg: str = "") -> None:
    """float64 backends: to ``TOL64`` relative to the size of the expected result; float32: the backend's
    tolerances, scaled the same way."""
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    tol = TOL64 if backend.is_float64 else backend.atol
    backend.assert_close(actual, expected, rtol=tol, atol=tol * scale, err_msg=err_msg)


# ============================================================================================= the rules themselves


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_rule_nodes_and_weights(name):
    G = group(name)
    rule = haar_rule(name, 4)
    assert np.all(rule.weights > 0)
    assert rule.weights.sum() == pytest.approx(1.0, abs=1e-14)
    mats = rule.evaluate(defining(G))
    k = G.lie_basis.shape[1]
    np.testing.assert_allclose(np.swapaxes(mats, 1, 2) @ mats, np.broadcast_to(np.eye(k), mats.shape), atol=1e-13)
    dets = np.linalg.det(mats)
    np.testing.assert_allclose(dets, np.where(rule.flips, -1.0, 1.0), atol=1e-13)
    assert rule.flips.any() == (name in ("O(2)", "O(3)"))
    if rule.flips.any():  # both cosets carry half the mass
        assert rule.weights[rule.flips].sum() == pytest.approx(0.5, abs=1e-14)
    # the nodes are elements of the group as symm sees them (symm.Rep accepts them)
    G.split(mats)


def _moments_so3(mats: np.ndarray, rule: Rule) -> dict[str, float]:
    return {
        "E[R]": float(np.abs(rule.integrate(mats)).max()),
        "E[R_00^2]": float(rule.integrate(mats[:, 0, 0] ** 2)),
        "E[R_00^4]": float(rule.integrate(mats[:, 0, 0] ** 4)),
        "E[R_00^2 R_11^2]": float(rule.integrate(mats[:, 0, 0] ** 2 * mats[:, 1, 1] ** 2)),
    }


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_rule_integrates_known_haar_moments(name):
    """Closed-form Haar moments of the defining matrices, of degree 1, 2 and 4 (band 4 rule)."""
    G = group(name)
    rule = haar_rule(name, 4)
    g = rule.evaluate(defining(G))
    np.testing.assert_allclose(rule.integrate(g), 0.0, atol=1e-14)  # no invariant vector in R^k
    second = rule.integrate(np.einsum("nij,nkl->nijkl", g, g))
    k = g.shape[1]
    eye = np.eye(k)
    if name == "SO(2)":  # E[g_ij g_kl] = (δ_ik δ_jl + ε_ik ε_jl) / 2
        eps = np.array([[0.0, 1.0], [-1.0, 0.0]])
        expect = (np.einsum("ik,jl->ijkl", eye, eye) + np.einsum("ik,jl->ijkl", eps, eps)) / 2
    else:  # O(2), SO(3), O(3): E[g_ij g_kl] = δ_ik δ_jl / k
        expect = np.einsum("ik,jl->ijkl", eye, eye) / k
    np.testing.assert_allclose(second, expect, atol=1e-14)
    # degree 4: the first column of g is uniform on the sphere; E[c⁴] = 3/8 on S¹ and E[z⁴] = 1/5 on S²
    fourth = rule.integrate(g[:, 0, 0] ** 4)
    assert fourth == pytest.approx(3 / 8 if k == 2 else 1 / 5, abs=1e-14)


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_rule_average_of_rep_is_the_nullspace_projector(name):
    """``Σ w_j ρ(g_j)`` equals the projector onto the trivial copies found as a nullspace, for reps of several
    bands (tensor powers of the defining rep in a random basis), with a rule of exactly the rep's band."""
    G = group(name)
    n_lie = G.n_lie
    V = defining(G)
    for power in (1, 2, 3):
        images = tensor_power(V, power, n_lie)
        P = random_orthogonal(images.shape[1], power)
        images = P @ images @ P.T
        band = band_of(images, n_lie)
        assert band == power
        rule = haar_rule(name, band)
        avg = rule.integrate(rule.evaluate(images))
        proj = invariant_nullspace_projector(images, n_lie)
        np.testing.assert_allclose(avg, proj, atol=1e-13, err_msg=f"{name} defining^⊗{power}")


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_rule_is_not_exact_above_its_band(name):
    """The grid sizes are tight: a rule of band L − 1 does not average the irrep of band L to zero (so the
    oracles below really need the bands they are given)."""
    G = group(name)
    L = 3
    top = {"SO(2)": L, "O(2)": (1, L), "SO(3)": L, "O(3)": (0, L)}[name]
    images = irr(G, top)
    assert np.abs(haar_rule(name, L).integrate(haar_rule(name, L).evaluate(images))).max() < 1e-13
    loose = haar_rule(name, L - 1)
    assert np.abs(loose.integrate(loose.evaluate(images))).max() > 0.05


def test_taylor_expm_matches_scipy_expm():
    """The fallback exponential of ``_haar`` (used where scipy is missing) agrees with ``expm``."""
    a = np.random.default_rng(0).normal(size=(4, 7, 7)) * np.array([0.0, 0.1, 3.0, 20.0])[:, None, None]
    a = a - np.swapaxes(a, 1, 2)
    np.testing.assert_allclose(taylor_expm(a), expm(a), atol=1e-10)
    np.testing.assert_allclose(taylor_expm(np.zeros((3, 3))), np.eye(3))


# ============================================================================================= statistics vs oracles


def test_mean(backend, cs, rng):
    x = _data(rng, N, cs.rep_x.size)
    out = symm.mean(backend.asarray(x), cs.rep_x)
    backend.check_array(out)
    close(backend, out, oracle_mean(_host(backend, x), cs))


def test_cov_auto(backend, cs, rng):
    x = _data(rng, N, cs.rep_x.size)
    out = symm.cov(backend.asarray(x), None, cs.rep_x, correction=0)
    backend.check_array(out)
    xh = _host(backend, x)
    close(backend, out, oracle_cov(xh, xh, cs, cs.mx, cs.mx))


def test_cov_cross(backend, cs, rng):
    x, y = _pair(rng, cs)
    out = symm.cov(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y, correction=0)
    backend.check_array(out)
    assert out.shape == (cs.rep_y.size, cs.rep_x.size)
    expect = oracle_cov(_host(backend, x), _host(backend, y), cs, cs.mx, cs.my)
    assert np.abs(expect).max() > 0.1  # the two reps share irreps: a nonzero cross-covariance
    close(backend, out, expect)
    out1 = symm.cov(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y)  # correction = 1
    close(backend, out1, expect * N / (N - 1))


def test_var_and_var_mean(backend, cs, rng):
    x = _data(rng, N, cs.rep_x.size)
    xb, xh = backend.asarray(x), _host(backend, x)
    pop = np.diag(oracle_cov(xh, xh, cs, cs.mx, cs.mx))
    v = symm.var(xb, cs.rep_x, correction=0)
    backend.check_array(v)
    close(backend, v, pop)
    close(backend, symm.var(xb, cs.rep_x), pop * N / (N - 1))
    v1, m1 = symm.var_mean(xb, cs.rep_x)
    close(backend, v1, pop * N / (N - 1))
    close(backend, m1, oracle_mean(xh, cs))


def test_lstsq(backend, cs, rng):
    x, y = _pair(rng, cs)
    out = symm.lstsq(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y)
    backend.check_array(out)
    assert out.shape == (cs.rep_y.size, cs.rep_x.size)
    expect = oracle_lstsq(_host(backend, x), _host(backend, y), cs)
    close(backend, out, expect)


def test_lstsq_with_fewer_samples_than_features(backend, cs, rng):
    """Two samples: the Gram matrices of the augmented data are singular in some blocks (the trivial copies of
    ``x`` see only the span of the two symmetric means), and the minimum-norm solution is the oracle."""
    x, y = _pair(rng, cs, 2)
    out = symm.lstsq(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y)
    close(backend, out, oracle_lstsq(_host(backend, x), _host(backend, y), cs))


def test_invariant_orthogonal_projector(backend, cs):
    for rep, mats in ((cs.rep_x, cs.mx), (cs.rep_y, cs.my)):
        out = symm.invariant_orthogonal_projector(rep, xp=backend.xp, device=backend.device, dtype=backend.dtype)
        backend.check_array(out)
        expect = cs.rule.integrate(mats)
        close(backend, out, expect)
        close(backend, out, invariant_nullspace_projector(rep.generator_images, rep.group.n_lie))


def test_project_equivariant(backend, cs, rng):
    A = rng.normal(size=(cs.rep_y.size, cs.rep_x.size))
    out = symm.project_equivariant(backend.asarray(A), cs.rep_x, cs.rep_y)
    backend.check_array(out)
    close(backend, out, oracle_reynolds(_host(backend, A), cs))
    # a batch of maps: each projected on its own
    A2 = np.stack([A, 2 * A + 1])
    out2 = symm.project_equivariant(backend.asarray(A2), cs.rep_x, cs.rep_y)
    close(backend, out2[1, ...], oracle_reynolds(_host(backend, A2[1]), cs))


def test_symmetric_moments_streaming_equals_batch(backend, cs, rng):
    x, y = _pair(rng, cs, 3 * N)
    xb, yb = backend.asarray(x), backend.asarray(y)
    batches = [(xb[i * N : (i + 1) * N, ...], yb[i * N : (i + 1) * N, ...]) for i in range(3)]  # one shape (jax)
    est = symm.SymmetricMoments(cs.rep_x, cs.rep_y)
    for bx, by in batches:
        est.update(bx, by)
    first = symm.SymmetricMoments(cs.rep_x, cs.rep_y).update(*batches[0]).update(*batches[1])
    merged = first.merge(symm.SymmetricMoments(cs.rep_x, cs.rep_y).update(*batches[2]))
    xh, yh = _host(backend, x), _host(backend, y)
    expect = {
        "mean": oracle_mean(xh, cs),
        "var": np.diag(oracle_cov(xh, xh, cs, cs.mx, cs.mx)) * (3 * N) / (3 * N - 1),
        "cov": oracle_cov(xh, yh, cs, cs.mx, cs.my) * (3 * N) / (3 * N - 1),
        "cov_y": oracle_cov(yh, yh, cs, cs.my, cs.my) * (3 * N) / (3 * N - 1),
        "lstsq": oracle_lstsq(xh, yh, cs),
    }
    for e in (est, merged):
        assert e.n == 3 * N
        close(backend, e.mean(), expect["mean"], "mean")
        close(backend, e.var(), expect["var"], "var")
        close(backend, e.cov(), expect["cov"], "cov")
        close(backend, e.cov("y"), expect["cov_y"], "cov y")
        close(backend, e.lstsq(), expect["lstsq"], "lstsq")
    close(backend, est.cov(), backend.to_numpy(symm.cov(xb, yb, cs.rep_x, cs.rep_y)), "batch cov")


def test_isotypic_coordinates_and_irrep_norms(backend, cs, rng):
    rep = cs.rep_x
    x = _data(rng, 5, rep.size)
    xb, xh = backend.asarray(x), _host(backend, x)
    z = symm.to_isotypic(xb, rep)
    backend.check_array(z)
    close(backend, z, xh @ rep.change_of_basis)
    close(backend, symm.from_isotypic(z, rep), xh)
    norms = symm.irrep_norms(xb, rep)
    assert norms.shape == (5, sum(c.multiplicity for c in rep.isotypic_components))
    for m in cs.mx[:: max(1, len(cs.mx) // 7)]:  # invariant at quadrature nodes (matrices from the images)
        close(backend, symm.irrep_norms(backend.asarray(xh @ m.T), rep), backend.to_numpy(norms))


# ============================================================================================= hom_dim


# (R³)^⊗3 with itself would be 729 unknowns: on SO(3)/O(3) its hom_dim (15) is checked from the known
# multiplicities in test_so3_vector_cubed instead
HOM_PAIRS = [
    (g, p)
    for g in GROUP_NAMES
    for p in ("x,x", "x,y", "y,x", "V^3,x", "V^3,y", "V^3,V^3")
    if not (g in ("SO(3)", "O(3)") and p == "V^3,V^3")
]


@functools.cache
def _cubed(name: str) -> symm.Rep:
    G = group(name)
    return raw_rep(G, tensor_power(defining(G), 3, G.n_lie), 31, f"{name} V^3")


@pytest.mark.parametrize(("name", "pair"), HOM_PAIRS)
def test_hom_dim_is_the_commutant_dimension(name, pair):
    c = case(name)
    reps = {"x": c.rep_x, "y": c.rep_y, "V^3": _cubed(name)}
    rx, ry = (reps[k] for k in pair.split(","))
    dim = commutant_dim(rx.generator_images, ry.generator_images)
    assert symm.hom_dim(rx, ry) == dim
    assert symm.hom_basis(rx, ry).shape[0] == dim


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_hom_basis_is_orthonormal_and_equivariant_at_the_nodes(name):
    c = case(name)
    B = symm.hom_basis(c.rep_x, c.rep_y).dense()
    flat = B.reshape(len(B), -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(len(B)), atol=1e-12)
    # ρ_y(g) B ρ_x(g)ᵀ = B at every node (the quadrature matrices come from the images, not from symm)
    moved = np.einsum("jab,kbc,jdc->jkad", c.my, B, c.mx)
    np.testing.assert_allclose(moved, np.broadcast_to(B, moved.shape), atol=1e-12)


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_invariant_sym_dim_is_the_dimension_of_symmetric_invariant_matrices(name):
    """``invariant_sym_dim`` counts the symmetric ``S`` with ``ρ(g) S ρ(g)ᵀ = S``: the nullspace of
    ``M S − S M = 0`` for every image ``M`` (Lie and discrete), on a basis of the symmetric matrices."""
    rep = case(name).rep_x
    D = rep.size
    # vec(S) with S = Sᵀ: parametrise by the upper triangle; the constraints are linear in it
    iu = np.triu_indices(D)
    sym_basis = np.zeros((len(iu[0]), D, D))
    sym_basis[np.arange(len(iu[0])), iu[0], iu[1]] = 1.0
    sym_basis = sym_basis + np.swapaxes(sym_basis, 1, 2)
    rows = [
        (np.einsum("ab,kbc->kac", M, sym_basis) - np.einsum("kab,bc->kac", sym_basis, M)).reshape(len(sym_basis), -1)
        for M in rep.generator_images
    ]
    m = np.concatenate(rows, axis=1).T
    vals = np.linalg.eigvalsh(m.T @ m)
    assert symm.invariant_sym_dim(rep) == int(np.sum(vals < 1e-9 * vals.max()))


# ============================================================================================= tensor powers


def _mults(rep: symm.Rep) -> dict:
    return {c.irrep.id: c.multiplicity for c in rep.isotypic_components}


def test_so3_vector_cubed():
    G = groups.so3()
    V = G.natural_rep("defining")
    assert _mults(V.tensor(V).tensor(V)) == {0: 1, 1: 3, 2: 2, 3: 1}
    raw = raw_rep(G, tensor_power(defining(G), 3, 3), 5, "V^3 raw")
    assert _mults(raw) == {0: 1, 1: 3, 2: 2, 3: 1}
    assert symm.hom_dim(raw, raw) == 1 + 3**2 + 2**2 + 1  # Σ m_l² (all of real type)
    assert symm.hom_dim(raw, V) == 3


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_so2_vector_powers_are_binomial(k):
    """``(R²)^⊗k``: weights ``±1`` add up, so frequency ``f`` carries ``C(k, (k − f)/2)`` real copies (``f > 0``)
    and the trivial irrep ``C(k, k/2)`` (``k`` even)."""
    G = groups.so2()
    V = G.natural_rep("defining")
    rep = V
    for _ in range(k - 1):
        rep = rep.tensor(V)
    expect = {f: comb(k, (k - f) // 2) for f in range(k % 2, k + 1, 2)}
    assert _mults(rep) == expect
    assert _mults(raw_rep(G, tensor_power(defining(G), k, 1), 40 + k, "raw")) == expect


def test_o3_parities():
    G = groups.o3()
    V = symm.Rep(G, defining(G), name="vector")
    A = symm.Rep(G, pseudovector(G), name="pseudovector")
    assert _mults(V) == {(1, 1): 1}
    assert _mults(A) == {(0, 1): 1}
    assert _mults(V.tensor(V)) == {(0, 0): 1, (0, 1): 1, (0, 2): 1}
    assert _mults(V.tensor(A)) == {(1, 0): 1, (1, 1): 1, (1, 2): 1}
    assert _mults(A.tensor(A)) == {(0, 0): 1, (0, 1): 1, (0, 2): 1}
    assert _mults(V.tensor(V).tensor(V)) == {(1, 0): 1, (1, 1): 3, (1, 2): 2, (1, 3): 1}
    # the antisymmetric part of v ⊗ w is the cross product: a pseudovector
    P_anti = (np.eye(9) - np.eye(9)[[3 * (i % 3) + i // 3 for i in range(9)]]) / 2
    comp = next(c for c in V.tensor(V).isotypic_components if c.irrep.id == (0, 1))
    Q1 = V.tensor(V).change_of_basis[:, comp.slice]
    np.testing.assert_allclose(P_anti @ Q1, Q1, atol=1e-12)


def test_o2_parities():
    G = groups.o2()
    V = symm.Rep(G, defining(G), name="vector")
    det = G.irrep((1, 0))
    assert _mults(V) == {(1, 1): 1}
    assert _mults(V.tensor(V)) == {(0, 0): 1, (1, 0): 1, (1, 2): 1}  # dot, cross (a pseudoscalar), frequency 2
    assert _mults(V.tensor(det)) == {(1, 1): 1}  # the twisted vector is equivalent to the vector
    assert _mults(symm.Rep(G, pseudovector(G))) == {(1, 1): 1}
    assert _mults(det.tensor(det)) == {(0, 0): 1}
    assert _mults(V.tensor(V).tensor(V)) == {(1, 1): 3, (1, 3): 1}
    # the pseudoscalar of v ⊗ w is the 2-D cross product v_0 w_1 − v_1 w_0: antisymmetric
    comp = next(c for c in V.tensor(V).isotypic_components if c.irrep.id == (1, 0))
    q = V.tensor(V).change_of_basis[:, comp.slice].ravel()
    np.testing.assert_allclose(np.abs(q), np.abs([0.0, 1.0, -1.0, 0.0]) / np.sqrt(2), atol=1e-12)
    assert q[1] == pytest.approx(-q[2], abs=1e-12)


# ============================================================================================= decomposition contract


def _contract_reps() -> dict[str, tuple[symm.Group, np.ndarray, dict]]:
    """name -> (group, raw images in the plain basis, expected multiplicities)."""
    s2, o2, s3, o3 = groups.so2(), groups.o2(), groups.so3(), groups.o3()
    L = s2.lie_basis
    return {
        # complex-type copies with m >= 2, some in the opposite orientation (images −kL)
        "SO(2) C-copies": (s2, block_images(L, -L, 3 * L, -3 * L, 3 * L, [[[0.0]]]), {0: 1, 1: 2, 3: 3}),
        "SO(2) V^4": (s2, tensor_power(defining(s2), 4, 1), {0: 6, 2: 4, 4: 1}),
        "O(2) mixed": (
            o2,
            block_images(defining(o2), pseudovector(o2), irr(o2, (1, 0)), irr(o2, (0, 0)), irr(o2, (1, 3))),
            {(0, 0): 1, (1, 0): 1, (1, 1): 2, (1, 3): 1},
        ),
        # the flip swaps two trivial-looking lines: frequency 0 splits into (0,0) ⊕ (1,0)
        "O(2) swap": (o2, np.array([np.zeros((2, 2)), [[0.0, 1.0], [1.0, 0.0]]]), {(0, 0): 1, (1, 0): 1}),
        "SO(3) V^3": (s3, tensor_power(defining(s3), 3, 3), {0: 1, 1: 3, 2: 2, 3: 1}),
        "SO(3) mixed": (s3, block_images(irr(s3, 2), irr(s3, 2), irr(s3, 4), defining(s3)), {1: 1, 2: 2, 4: 1}),
        "O(3) mixed": (
            o3,
            block_images(defining(o3), defining(o3), pseudovector(o3), irr(o3, (1, 2)), irr(o3, (0, 0))),
            {(0, 0): 1, (0, 1): 1, (1, 1): 2, (1, 2): 1},
        ),
        # the inversion swaps two copies of l = 1: one odd and one even copy
        "O(3) swap": (
            o3,
            np.concatenate(
                [block_images(s3.lie_basis, s3.lie_basis), np.kron([[0.0, 1.0], [1.0, 0.0]], np.eye(3))[None]]
            ),
            {(0, 1): 1, (1, 1): 1},
        ),
    }


CONTRACT_NAMES = tuple(_contract_reps())


@functools.cache
def contract_rep(name: str) -> tuple[symm.Rep, np.ndarray, dict]:
    G, images, mults = _contract_reps()[name]
    rep = raw_rep(G, images, 100 + CONTRACT_NAMES.index(name), name)
    return rep, rep.generator_images, mults


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_decomposition_contract(name):
    rep, images, mults = contract_rep(name)
    G = rep.group
    assert _mults(rep) == mults
    Q = rep.change_of_basis
    np.testing.assert_allclose(Q.T @ Q, np.eye(rep.size), atol=1e-12)
    # Qᵀ M Q is block-diagonal with the registry's canonical irrep images, copy after copy
    for s, M in enumerate(images):
        expected = np.zeros_like(M)
        for comp in rep.isotypic_components:
            assert comp.irrep is G.irrep(comp.irrep.id)
            d = comp.irrep.dim
            assert comp.slice.stop - comp.slice.start == comp.multiplicity * d
            for c in range(comp.multiplicity):
                o = comp.slice.start + c * d
                expected[o : o + d, o : o + d] = G.irrep(comp.irrep.id).generator_images[s]
        np.testing.assert_allclose(Q.T @ M @ Q, expected, atol=1e-10, err_msg=f"image {s} ({G.generators[s]})")
    assert [c.slice.start for c in rep.isotypic_components] == sorted(c.slice.start for c in rep.isotypic_components)
    assert rep.isotypic_components[-1].slice.stop == rep.size


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_rep_of_g_is_the_exponential_of_the_images(name):
    """``rep(exp(Σ ω_i X_i) h^f) = expm(Σ ω_i dρ(X_i)) ρ(h)^f`` with ω drawn here, large angles included (the
    log symm takes may differ from ω by a period; ρ must not care)."""
    rep, images, _ = contract_rep(name)
    G = rep.group
    n_lie = G.n_lie
    rng = np.random.default_rng(7)
    omega = rng.uniform(-3 * np.pi, 3 * np.pi, size=(6, n_lie))
    omega[0] = 0.0
    if n_lie == 3:  # rotations by π (about a coordinate axis and another axis) and just below π
        omega[1] = np.pi * np.array([1.0, 0.0, 0.0])
        omega[3] = np.pi * np.array([0.0, 0.6, 0.8])
        omega[4] = (np.pi - 1e-9) * np.array([0.0, 0.6, 0.8])
    else:
        omega[1], omega[3] = np.pi, -np.pi
    flips = np.array([False, True, False, True, True, False]) & (len(G.discrete_generators) > 0)
    gs, expect = [], []
    for w, f in zip(omega, flips, strict=True):
        g = expm(np.tensordot(w, G.lie_basis, axes=1))
        r = expm(np.tensordot(w, images[:n_lie], axes=1))
        if f:
            g, r = g @ G.discrete_generators[0], r @ images[n_lie]
        gs.append(g)
        expect.append(r)
    got = rep(np.stack(gs))
    np.testing.assert_allclose(got, np.stack(expect), atol=1e-10)
    np.testing.assert_allclose(rep(gs[2]), expect[2], atol=1e-10)
    np.testing.assert_allclose(rep(gs[0]), np.eye(rep.size), atol=1e-12)


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_rep_is_a_homomorphism_and_orthogonal(name):
    rep, _, _ = contract_rep(name)
    G = rep.group
    g1, g2 = G.sample(5, seed=1), G.sample(5, seed=2)
    r1, r2 = rep(g1), rep(g2)
    np.testing.assert_allclose(rep(g1 @ g2), r1 @ r2, atol=1e-10)
    np.testing.assert_allclose(r1 @ np.swapaxes(r1, 1, 2), np.broadcast_to(np.eye(rep.size), r1.shape), atol=1e-10)
    np.testing.assert_allclose(rep(np.swapaxes(g1, 1, 2)), np.swapaxes(r1, 1, 2), atol=1e-10)  # ρ(g⁻¹) = ρ(g)ᵀ


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_decomposition_is_deterministic(name):
    rep, images, _ = contract_rep(name)
    fresh = [symm.Rep(rep.group, np.array(images), name="again") for _ in range(2)]
    for other in fresh:
        np.testing.assert_allclose(other.change_of_basis, rep.change_of_basis, atol=1e-12, rtol=0)
        assert _mults(other) == _mults(rep)


# ============================================================================= group API and rep operations


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_group_api(name):
    G = group(name)
    assert G is group(name)
    k = G.lie_basis.shape[1]
    np.testing.assert_array_equal(G.natural_rep("defining").generator_images, defining(G))
    assert len(G.generators) == G.n_lie + len(G.discrete_generators)
    triv = G.trivial_rep(3)
    assert _mults(triv) == {G.irreps_up_to(0)[0].id: 3}
    np.testing.assert_array_equal(triv(G.sample(2, seed=0)), np.broadcast_to(np.eye(3), (2, 3, 3)))
    ids = [i.id for i in G.irreps_up_to(2)]
    assert len(ids) == len(set(ids)) == {"SO(2)": 3, "O(2)": 4, "SO(3)": 3, "O(3)": 6}[name]
    assert all(G.irrep(i) is G.irrep(i) for i in ids)
    # sample: elements of the group, reproducible by seed
    g = G.sample(50, seed=3)
    np.testing.assert_array_equal(g, G.sample(50, seed=3))
    np.testing.assert_allclose(np.swapaxes(g, 1, 2) @ g, np.broadcast_to(np.eye(k), g.shape), atol=1e-12)
    dets = np.linalg.det(g)
    assert np.all(dets > 0) if name.startswith("SO") else (np.any(dets < 0) and np.any(dets > 0))
    # split: g = exp(Σ ω_i X_i) h^flip
    omega, flips = G.split(g)
    rebuilt = expm(np.einsum("ni,iab->nab", omega, G.lie_basis))
    if len(G.discrete_generators):
        rebuilt[flips] = rebuilt[flips] @ G.discrete_generators[0]
    np.testing.assert_allclose(rebuilt, g, atol=1e-12)


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_tensor_direct_sum_and_change_basis(name):
    G = group(name)
    a, b = case(name).rep_x, G.natural_rep("defining")
    t = a.tensor(b)
    np.testing.assert_allclose(t.generator_images, kron_images(a.generator_images, b.generator_images, G.n_lie))
    s = symm.direct_sum(a, b)
    np.testing.assert_array_equal(s.generator_images, block_images(a, b))
    ma, mb = _mults(a), _mults(b)
    assert _mults(s) == {i: ma.get(i, 0) + mb.get(i, 0) for i in set(ma) | set(mb)}
    P = random_orthogonal(a.size, 77)
    c = a.change_basis(P)
    np.testing.assert_allclose(c.generator_images, P @ a.generator_images @ P.T, atol=1e-13)
    g = G.sample(4, seed=5)
    np.testing.assert_allclose(c(g), P @ a(g) @ P.T, atol=1e-12)
    np.testing.assert_allclose(t(g), np.einsum("nab,ncd->nacbd", a(g), b(g)).reshape(4, t.size, t.size), atol=1e-12)
    np.testing.assert_allclose(s(g)[:, : a.size, : a.size], a(g), atol=1e-12)
    Qc = c.change_of_basis
    for M, Mhat in zip(c.generator_images, a.change_of_basis.T @ a.generator_images @ a.change_of_basis, strict=True):
        np.testing.assert_allclose(Qc.T @ M @ Qc, Mhat, atol=1e-12)


def test_reps_of_different_compact_groups_do_not_mix():
    V3, W3 = groups.so3().natural_rep("defining"), groups.o3().natural_rep("defining")
    x = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"rep_x and rep_y are reps of different groups \(SO\(3\) vs O\(3\)\)"):
        symm.cov(x, x, V3, W3)
    with pytest.raises(ValueError, match=r"different groups"):
        symm.direct_sum(V3, W3)
    with pytest.raises(ValueError, match=r"different groups"):
        V3.tensor(W3)
    with pytest.raises(ValueError, match=r"different groups"):
        symm.hom_dim(V3, groups.so2().natural_rep("defining"))


# ============================================================================================= errors


def _spin_half_real() -> np.ndarray:
    """The spin-1/2 rep of su(2) as real 4×4 matrices: ``dρ(L_a) = −iσ_a/2`` (anti-Hermitian, with
    ``[dρ(L_x), dρ(L_y)] = dρ(L_z)``), realified by ``B + iC ↦ [[B, −C], [C, B]]``."""
    sigma = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0]).astype(complex)]
    out = []
    for s in sigma:
        a = -0.5j * s
        out.append(np.block([[a.real, -a.imag], [a.imag, a.real]]))
    return np.stack(out)


def test_spin_half_real_form_is_a_lie_algebra_rep():
    """The fixture of the next test really satisfies the commutation relations (only integrality fails)."""
    s = _spin_half_real()
    np.testing.assert_allclose(s + np.swapaxes(s, 1, 2), 0.0)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        np.testing.assert_allclose(s[i] @ s[j] - s[j] @ s[i], s[k], atol=1e-15)


def test_invalid_images_raise():
    s2, o2, s3, o3 = groups.so2(), groups.o2(), groups.so3(), groups.o3()
    L3 = s3.lie_basis
    bad = L3.copy()
    bad[0] = bad[0] + 1e-3 * np.eye(3)
    with pytest.raises(ValueError, match=r"generator_images\[0\].*not skew"):
        symm.Rep(s3, bad)
    with pytest.raises(ValueError, match=r"generator_images\[0\] and generator_images\[1\].*commutation"):
        symm.Rep(s3, L3[[1, 0, 2]])
    with pytest.raises(ValueError, match=r"generator_images\[0\].*not an integer"):
        symm.Rep(s2, 0.5 * s2.lie_basis)
    with pytest.raises(ValueError, match=r"generator_images\[0\].*not an integer"):
        symm.Rep(o2, [0.3 * o2.lie_basis[0], np.diag([1.0, -1.0])])
    with pytest.raises(ValueError, match=r"generator_images\[2\].*half-integer"):
        symm.Rep(s3, _spin_half_real())
    with pytest.raises(ValueError, match=r"generator_images\[1\].*not orthogonal"):
        symm.Rep(o2, [o2.lie_basis[0], 2 * np.diag([1.0, -1.0])])
    with pytest.raises(ValueError, match=r"generator_images\[1\].*inconsistent with the Lie images"):
        symm.Rep(o2, [o2.lie_basis[0], np.eye(2)])  # the flip must reverse the rotation
    with pytest.raises(ValueError, match=r"generator_images\[3\].*inconsistent with the Lie images"):
        symm.Rep(o3, [*L3, np.diag([1.0, 1.0, -1.0])])  # not central, as the inversion is
    with pytest.raises(ValueError, match=r"generator_images\[1\], the image ρ\(flip\).*ρ\(h\)(²|\^2) - I"):
        symm.Rep(o2, [np.zeros((2, 2)), [[0.0, -1.0], [1.0, 0.0]]])  # orthogonal, commutes with 0, order 4
    with pytest.raises(ValueError, match=r"generator_images must hold one matrix per generator of SO\(3\) \(3\)"):
        symm.Rep(s3, L3[:2])
    with pytest.raises(ValueError, match=r"generator_images must hold one matrix per generator of O\(3\) \(4\)"):
        symm.Rep(o3, L3)
    with pytest.raises(ValueError, match=r"generator_images"):
        symm.Rep(s3, np.zeros((3, 2, 3)))  # non-square


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_finite_only_api_refused(name):
    G = group(name)
    assert not G.is_finite and G.order is None
    with pytest.raises(ValueError, match=r"regular rep"):
        G.regular_rep()
    with pytest.raises(ValueError, match=r"irreps_up_to"):
        G.irreps()
    rep = G.natural_rep("defining")
    with pytest.raises(ValueError, match=r"matrices\(\).*infinite"):
        rep.matrices()
    with pytest.raises(ValueError, match=r"character\(\).*infinite"):
        rep.character()


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_bad_elements_raise(name):
    G = group(name)
    rep = G.natural_rep("defining")
    k = G.lie_basis.shape[1]
    with pytest.raises(ValueError, match=r"g is not an element .*not orthogonal"):
        rep(2 * np.eye(k))
    with pytest.raises(ValueError, match=r"g must be a .* got shape"):
        rep(np.eye(k + 1))
    with pytest.raises(ValueError, match=r"g must be a .* got shape"):
        rep(np.zeros((2, k, k + 1)))
    reflection = np.diag([1.0] * (k - 1) + [-1.0])
    if name.startswith("SO"):
        with pytest.raises(ValueError, match=r"g is not an element .*determinant -1"):
            rep(reflection)
    else:  # a det −1 element is fine for O(n)
        np.testing.assert_allclose(rep(reflection), reflection, atol=1e-12)


def test_invalid_irrep_ids_raise():
    s2, o2, s3, o3 = groups.so2(), groups.o2(), groups.so3(), groups.o3()
    for G, bad_value, bad_type in (
        (s2, -1, 1.5),
        (s3, -2, "1"),
        (o2, (0, 1), 3),
        (o2, (2, 1), (1, 1.0)),
        (o3, (2, 1), 2),
        (o3, (0, -1), (0, 1, 2)),
    ):
        with pytest.raises(ValueError, match=r"irrep id"):
            G.irrep(bad_value)
        with pytest.raises(TypeError, match=r"irrep id"):
            G.irrep(bad_type)
    with pytest.raises(ValueError, match=r"band"):
        s3.irreps_up_to(-1)


# ============================================================================================= testing helper


def test_assert_equivariant_on_compact_groups(backend, cs, rng):
    A = rng.normal(size=(cs.rep_y.size, cs.rep_x.size))
    Ab = symm.project_equivariant(backend.asarray(A), cs.rep_x, cs.rep_y)
    xp = backend.xp
    x = backend.asarray(_data(rng, 4, cs.rep_x.size))

    def f(v):
        return v @ xp.matrix_transpose(Ab)

    symm.testing.assert_equivariant(f, cs.rep_x, cs.rep_y, x, max_elements=8)
    Araw = backend.asarray(A)
    with pytest.raises(AssertionError, match=r"not equivariant at group element"):
        symm.testing.assert_equivariant(lambda v: v @ xp.matrix_transpose(Araw), cs.rep_x, cs.rep_y, x, max_elements=8)


# ============================================================================================= pickling


@pytest.mark.parametrize("name", GROUP_NAMES)
def test_pickle_group_is_the_same_object(name):
    G = group(name)
    assert pickle.loads(pickle.dumps(G)) is G


@pytest.mark.parametrize("name", CONTRACT_NAMES)
def test_pickle_decomposed_rep(name):
    rep, _, _ = contract_rep(name)
    _ = rep.isotypic_components
    back = pickle.loads(pickle.dumps(rep))
    assert back.group is rep.group
    np.testing.assert_array_equal(back.generator_images, rep.generator_images)
    np.testing.assert_allclose(back.change_of_basis, rep.change_of_basis, atol=1e-12, rtol=0)
    assert [(c.irrep.id, c.multiplicity, c.slice) for c in back.isotypic_components] == [
        (c.irrep.id, c.multiplicity, c.slice) for c in rep.isotypic_components
    ]
    g = rep.group.sample(3, seed=4)
    np.testing.assert_allclose(back(g), rep(g), atol=1e-12)
