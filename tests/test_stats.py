"""symm.mean / var / var_mean / cov against the orbit-augmented oracle, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from _groups import CASE_NAMES, augment, case, oracle_cov, oracle_mean, random_orthogonal

import symm
from symm import groups

N = 40


@pytest.fixture(params=CASE_NAMES)
def cs(request):
    return case(request.param)


def _data(rng, n, rep, shift=0.7):
    # a nonzero plain mean in every direction, so the symmetric-mean correction matters
    return rng.normal(size=(n, rep.size)) + shift * rng.normal(size=rep.size)


def _host(backend, x):
    """The host copy of ``x`` as the backend sees it (rounded to its dtype)."""
    return backend.to_numpy(backend.asarray(x))


# --------------------------------------------------------------------------------------------- oracles


def test_mean_is_mean_of_augmented_data(backend, cs, rng):
    x = _data(rng, N, cs.rep_x)
    out = symm.mean(backend.asarray(x), cs.rep_x)
    backend.check_array(out)
    assert out.shape == (cs.rep_x.size,)
    backend.assert_close(out, oracle_mean(_host(backend, x), cs.rep_x))


def test_cov_auto_is_population_cov_of_augmented_data(backend, cs, rng):
    x = _data(rng, N, cs.rep_x)
    out = symm.cov(backend.asarray(x), None, cs.rep_x, correction=0)
    backend.check_array(out)
    assert out.shape == (cs.rep_x.size, cs.rep_x.size)
    xh = _host(backend, x)
    backend.assert_close(out, oracle_cov(xh, xh, cs.rep_x, cs.rep_x))


def test_cov_cross_is_population_cov_of_augmented_data(backend, cs, rng):
    x, y = _data(rng, N, cs.rep_x), _data(rng, N, cs.rep_y)
    out = symm.cov(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y, correction=0)
    backend.check_array(out)
    assert out.shape == (cs.rep_y.size, cs.rep_x.size)
    backend.assert_close(out, oracle_cov(_host(backend, x), _host(backend, y), cs.rep_x, cs.rep_y))


@pytest.mark.parametrize("correction", [0, 1, 2.5])
def test_correction_rescales(backend, rng, correction):
    c = case("C6-complex")
    x, y = _data(rng, N, c.rep_x), _data(rng, N, c.rep_y)
    out = symm.cov(backend.asarray(x), backend.asarray(y), c.rep_x, c.rep_y, correction=correction)
    expect = oracle_cov(_host(backend, x), _host(backend, y), c.rep_x, c.rep_y) * N / (N - correction)
    backend.assert_close(out, expect)


def test_var_is_diag_cov_and_augmented_variance(backend, cs, rng):
    x = _data(rng, N, cs.rep_x)
    xb = backend.asarray(x)
    v = symm.var(xb, cs.rep_x, correction=0)
    backend.check_array(v)
    xa = augment(_host(backend, x), cs.rep_x)
    backend.assert_close(v, xa.var(axis=0))
    backend.assert_close(v, np.diag(backend.to_numpy(symm.cov(xb, None, cs.rep_x, correction=0))))
    v1 = symm.var(xb, cs.rep_x)
    backend.assert_close(v1, np.diag(backend.to_numpy(symm.cov(xb, None, cs.rep_x))))


def test_var_keeps_cross_copy_terms(backend, rng):
    """Copies of one irrep mixed by an orthogonal change of basis: dropping cross-copy terms is wrong."""
    G = groups.cyclic(4)
    base = G.regular_rep() * 3
    rep = base.change_basis(random_orthogonal(base.size, 11))
    # strongly correlated copies: every copy is the same signal
    z = rng.normal(size=(N, 4))
    x = np.concatenate([z, z, 0.5 * z], axis=1) @ random_orthogonal(12, 11).T
    v = symm.var(backend.asarray(x), rep, correction=0)
    xa = augment(_host(backend, x), rep)
    backend.assert_close(v, xa.var(axis=0))
    # the per-copy ("diagonal in the isotypic basis") estimate differs from the right answer
    q = rep.change_of_basis
    zc = x @ q
    per_copy = np.zeros((12, 12))
    for comp in rep.isotypic_components:
        d = comp.irrep.dim
        for c in range(comp.multiplicity):
            s = slice(comp.slice.start + c * d, comp.slice.start + (c + 1) * d)
            blk = (zc[:, s] - zc[:, s].mean(0) * (comp.irrep.id == 0)).T @ zc[:, s] / N
            per_copy[s, s] = np.trace(blk) / d * np.eye(d)
    assert np.abs(np.diag(q @ per_copy @ q.T) - xa.var(axis=0)).max() > 1e-2


def test_var_mean_order(backend, cs, rng):
    x = backend.asarray(_data(rng, N, cs.rep_x))
    v, m = symm.var_mean(x, cs.rep_x)
    backend.assert_close(v, symm.var(x, cs.rep_x))
    backend.assert_close(m, symm.mean(x, cs.rep_x))


def test_var_of_a_large_permutation_rep_is_diag_cov(backend, rng):
    """D8 regular × 40 (D = 640): too many entries for cov's gather tables, so cov goes through the isotypic
    basis while var averages diag S over the coordinate orbits; both must agree with the augmented data."""
    rep = groups.dihedral(8).regular_rep() * 40
    x = rng.normal(size=(40, rep.size)) + np.linspace(-1.0, 1.0, rep.size)
    v, m = symm.var_mean(backend.asarray(x), rep, correction=0)
    xa = augment(_host(backend, x), rep)
    backend.assert_close(v, xa.var(axis=0))
    backend.assert_close(m, xa.mean(axis=0))
    backend.assert_close(v, np.diag(backend.to_numpy(symm.cov(backend.asarray(x), None, rep, correction=0))))


@pytest.mark.parametrize("group", ["C8", "Q8"])
@pytest.mark.parametrize("n", [20, 600])
def test_both_routes_of_the_isotypic_projection(backend, rng, n, group):
    """Few samples: only the isotypic blocks are formed from the rotated data; many: S is formed and rotated.
    Both routes must give the augmented-data covariance and variance, auto and cross. The components come in
    several sizes (C8: real and complex; Q8: real and quaternionic), so the blocks form several stacks."""
    from symm._engine import pair_plan
    from symm._stats.moments import _blocks_pay

    G = groups.cyclic(8) if group == "C8" else groups.quaternion()
    rep_x = (G.regular_rep() * 4).change_basis(random_orthogonal(32, 21))
    rep_y = (G.regular_rep() * 3 + G.trivial_rep(3)).change_basis(random_orthogonal(27, 22))
    blocks = n < 100
    assert _blocks_pay(pair_plan(rep_x, rep_x), n, auto=True) == blocks
    assert _blocks_pay(pair_plan(rep_x, rep_y), n, auto=False) == blocks
    x = rng.normal(size=(n, rep_x.size)) + 0.3
    y = rng.normal(size=(n, rep_y.size)) - 0.2
    xb, yb = backend.asarray(x), backend.asarray(y)
    xh, yh = _host(backend, x), _host(backend, y)
    backend.assert_close(symm.cov(xb, None, rep_x, correction=0), oracle_cov(xh, xh, rep_x, rep_x))
    backend.assert_close(symm.cov(xb, yb, rep_x, rep_y, correction=0), oracle_cov(xh, yh, rep_x, rep_y))
    backend.assert_close(symm.var(xb, rep_x, correction=0), augment(xh, rep_x).var(axis=0))


@pytest.mark.parametrize("n", [20, 600])
def test_both_routes_without_a_trivial_component(backend, rng, n):
    """A rep with no trivial irrep has symmetric mean zero: no component is centred, however large the plain
    mean of the data, and the covariance is the second moment about zero of the augmented data."""
    from symm._engine import pair_plan
    from symm._stats.moments import _blocks_pay

    G = groups.cyclic(8)
    rep = symm.direct_sum(*G.irreps()[1:], *G.irreps()[2:]).change_basis(random_orthogonal(13, 23))
    assert _blocks_pay(pair_plan(rep, rep), n, auto=True) == (n < 100)
    x = rng.normal(size=(n, rep.size)) + 5.0
    xb, xh = backend.asarray(x), _host(backend, x)
    backend.assert_close(symm.mean(xb, rep), np.zeros(rep.size), atol=backend.atol)
    backend.assert_close(symm.cov(xb, None, rep, correction=0), oracle_cov(xh, xh, rep, rep))
    backend.assert_close(symm.var(xb, rep, correction=0), augment(xh, rep).var(axis=0))


@pytest.mark.parametrize("name", ["D4-signed", "D4-regular"])
def test_symmetric_orbit_gather_matches_the_ordered_one(backend, rng, name):
    """For a symmetric S the permutation route reads one entry per orbit of unordered pairs {r, c}; it must give
    the R(S) of the ordered-pair orbits, with signs, and read fewer entries (about half for groups with few
    involutions; D4 has five, whose orbits hold their own transposes)."""
    from symm._engine import pair_plan, projection

    rep = case(name).rep_x if name == "D4-signed" else groups.dihedral(4).regular_rep() * 3
    plan = pair_plan(rep, rep)
    assert plan.use_perm
    pairs = projection(plan, backend.xp, backend.device, backend.dtype)
    unordered = projection(plan, backend.xp, backend.device, backend.dtype, symmetric=True)
    a = rng.normal(size=(3, rep.size, rep.size))
    S = backend.asarray(a + np.swapaxes(a, -1, -2))  # a batch of symmetric matrices
    backend.assert_close(unordered.reynolds(S, 0.5), pairs.reynolds(S, 0.5))
    assert unordered.src.shape[0] < pairs.src.shape[0]


@pytest.mark.parametrize("n", [5, 600])
def test_cross_cov_without_a_shared_irrep_is_zero_on_both_routes(backend, rng, n):
    """Reps with no irrep in common: Hom_G is zero, so the cross-covariance is exactly zero, few samples or many."""
    G = groups.cyclic(3)
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    rot = symm.Rep(G, [np.array([[c, -s], [s, c]])]) * 3  # not a signed permutation: the isotypic routes
    x, y = backend.asarray(rng.normal(size=(n, 6))), backend.asarray(rng.normal(size=(n, 2)))
    for out in (symm.cov(x, y, rot, G.trivial_rep(2)), symm.cov(y, x, G.trivial_rep(2), rot)):
        assert backend.to_numpy(out).shape in ((2, 6), (6, 2))
        np.testing.assert_allclose(backend.to_numpy(out), 0.0, atol=1e-12)


# --------------------------------------------------------------------------------------------- equivariance


def test_estimators_are_equivariant(backend, rng):
    for name in ("C6-complex", "Q8-quaternionic", "D4-signed"):
        c = case(name)
        x, y = _data(rng, N, c.rep_x), _data(rng, N, c.rep_y)
        C0 = backend.to_numpy(symm.cov(backend.asarray(x), backend.asarray(y), c.rep_x, c.rep_y))
        m0 = backend.to_numpy(symm.mean(backend.asarray(x), c.rep_x))
        v0 = backend.to_numpy(symm.var(backend.asarray(x), c.rep_x))
        scale = max(np.abs(C0).max(), 1.0)
        for g in c.rep_x.group.elements:
            gx, gy = c.rep_x(g), c.rep_y(g)
            xg, yg = backend.asarray(x @ gx.T), backend.asarray(y @ gy.T)
            backend.assert_close(symm.cov(xg, yg, c.rep_x, c.rep_y), C0, atol=backend.atol * scale)
            backend.assert_close(symm.mean(xg, c.rep_x), m0)
            backend.assert_close(symm.var(xg, c.rep_x), v0, atol=backend.atol * scale)
            # and the outputs are invariant / equivariant objects
            backend.assert_close(gy @ C0, C0 @ gx, atol=backend.atol * scale)
            backend.assert_close(gx @ m0, m0)


# --------------------------------------------------------------------------------------------- dtypes, NaN


def test_integer_input_is_promoted(backend, rng):
    c = case("C4-perm")
    xi = rng.integers(-5, 5, size=(N, c.rep_x.size))
    xb = backend.asarray(xi)
    xb = backend.xp.astype(xb, backend.xp.int64)
    out = symm.cov(xb, None, c.rep_x)
    assert backend.xp.isdtype(out.dtype, "real floating")
    tol = 1e-10 if out.dtype == backend.xp.float64 else 1e-4
    expect = oracle_cov(xi.astype(float), xi.astype(float), c.rep_x, c.rep_x) * N / (N - 1)
    backend.assert_close(out, expect, rtol=tol, atol=tol)
    assert backend.xp.isdtype(symm.mean(xb, c.rep_x).dtype, "real floating")


def test_nan_propagates(backend, cs, rng):
    x = _data(rng, N, cs.rep_x)
    x[3, 0] = np.nan
    xb = backend.asarray(x)
    assert np.isnan(backend.to_numpy(symm.cov(xb, None, cs.rep_x))).any()
    assert np.isnan(backend.to_numpy(symm.var(xb, cs.rep_x))).any()
    out = backend.to_numpy(symm.cov(xb, backend.asarray(_data(rng, N, cs.rep_y)), cs.rep_x, cs.rep_y))
    assert np.isnan(out).any()


def test_float32_and_float64_agree(backend, rng):
    c = case("Q8-quaternionic")
    x = _data(rng, N, c.rep_x)
    out = backend.to_numpy(symm.cov(backend.asarray(x), None, c.rep_x))
    ref = symm.cov(x, None, c.rep_x)  # NumPy float64 reference
    np.testing.assert_allclose(out, ref, rtol=backend.rtol, atol=backend.atol)


# --------------------------------------------------------------------------------------------- errors


def test_bad_input_raises(backend, rng):
    c = case("C6-complex")
    rx, ry = c.rep_x, c.rep_y
    x = backend.asarray(_data(rng, N, rx))
    y = backend.asarray(_data(rng, N, ry))
    with pytest.raises(ValueError, match=r"x has 7 columns"):
        symm.cov(y, None, rx)
    with pytest.raises(ValueError, match=r"y has 12 columns"):
        symm.cov(x, x, rx, ry)
    with pytest.raises(ValueError, match=r"x must be a 2-D"):
        symm.mean(backend.asarray(np.zeros(rx.size)), rx)
    with pytest.raises(ValueError, match=r"x must be a 2-D"):
        symm.var(backend.asarray(np.zeros((2, 3, rx.size))), rx)
    with pytest.raises(ValueError, match=r"correction"):
        symm.cov(backend.asarray(np.zeros((1, rx.size))), None, rx)
    with pytest.raises(ValueError, match=r"correction"):
        symm.var(x, rx, correction=N)
    with pytest.raises(ValueError, match=r"correction"):
        symm.cov(x, None, rx, correction=-1)
    with pytest.raises(ValueError, match=r"same number of samples"):
        symm.cov(x, backend.asarray(_data(rng, N + 1, ry)), rx, ry)
    other = groups.cyclic(5).regular_rep()
    with pytest.raises(ValueError, match=r"rep_x and rep_y are reps of different groups"):
        symm.cov(x, backend.asarray(np.zeros((N, 5))), rx, other)
    with pytest.raises(TypeError, match=r"rep must be a symm.Rep"):
        symm.mean(x, "C6")
    with pytest.raises(ValueError, match=r"rep_y is required"):
        symm.cov(x, y, rx)


def test_mixed_libraries_raise(rng):
    torch = pytest.importorskip("torch")
    c = case("C6-complex")
    x = _data(rng, N, c.rep_x)
    y = _data(rng, N, c.rep_y)
    with pytest.raises(TypeError, match=r"x and y come from different array libraries"):
        symm.cov(x, torch.asarray(y), c.rep_x, c.rep_y)


def test_mixed_devices_raise(rng):
    xp = pytest.importorskip("array_api_strict")
    c = case("C6-complex")
    x = xp.asarray(_data(rng, N, c.rep_x))
    y = xp.asarray(_data(rng, N, c.rep_y), device=xp.Device("device1"))
    with pytest.raises(TypeError, match=r"x and y are on different devices"):
        symm.cov(x, y, c.rep_x, c.rep_y)


# --------------------------------------------------------------------------------------------- statistics


def _dof_brute_force(rep):
    """Dimension of the symmetric matrices in Hom_G(ρ, ρ), from hom_basis."""
    B = symm.hom_basis(rep, rep).dense()
    sym = (B + np.transpose(B, (0, 2, 1))).reshape(len(B), -1)
    return int(np.linalg.matrix_rank(sym, tol=1e-8))


def _dof_formula(rep):
    # per component: Θ_0 symmetric (m(m+1)/2) and Θ_b antisymmetric for b >= 1 ((s-1) m(m-1)/2)
    return sum(
        c.multiplicity + c.irrep.endomorphism_dim * c.multiplicity * (c.multiplicity - 1) // 2
        for c in rep.isotypic_components
    )


@pytest.mark.parametrize("name", CASE_NAMES)
def test_dof_formula_matches_brute_force(name):
    rep = case(name).rep_x
    assert _dof_formula(rep) == _dof_brute_force(rep)
    assert symm.invariant_sym_dim(rep) == _dof_formula(rep)


def test_monte_carlo_error_scales_with_dof(backend):
    """For Σ = I: E‖cov − I‖²_F ≈ 2·dof_G/N, against D(D+1)/N for the empirical covariance."""
    rng = np.random.default_rng(7)
    c = case("Q8-quaternionic")
    rep, d = c.rep_x, c.rep_x.size
    n, trials = 64, 300
    x = rng.normal(size=(trials, n, d))
    if backend.family == "dask":
        trials = 60  # each call builds a graph; keep the run short
    err_sym = err_emp = 0.0
    for t in range(trials):
        xb = backend.asarray(x[t])
        err_sym += np.sum((backend.to_numpy(symm.cov(xb, None, rep)) - np.eye(d)) ** 2)
        err_emp += np.sum((np.cov(x[t].T) - np.eye(d)) ** 2)
    err_sym, err_emp = err_sym / trials, err_emp / trials
    dof = _dof_formula(rep)
    assert err_sym == pytest.approx(2 * dof / n, rel=0.2)
    assert err_emp == pytest.approx(d * (d + 1) / n, rel=0.2)
    assert err_sym < 0.5 * err_emp


# --------------------------------------------------------------------------------------------- escnn


@pytest.mark.escnn
@pytest.mark.parametrize("gname", ["cyclic(6)", "dihedral(4)"])
def test_escnn_reps_through_from_escnn(backend, gname, rng):
    """escnn reps (with escnn's own change of basis) go through the same estimators and oracles."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eg = pytest.importorskip("escnn.group", reason="escnn is not importable (it needs numpy<2)")
    from _groups import oracle_lstsq

    G = eg.cyclic_group(6) if gname == "cyclic(6)" else eg.dihedral_group(4)
    ids = [irr.id for irr in G.irreps()] * 2
    size = sum(G.irrep(*i).size for i in ids)
    erep_x = eg.Representation(G, f"mixed_{gname}", ids, random_orthogonal(size, 3))
    rep_x = symm.Rep.from_escnn(erep_x)
    rep_y = symm.Rep.from_escnn(G.regular_representation)
    x, y = _data(rng, N, rep_x), _data(rng, N, rep_y)
    xb, yb = backend.asarray(x), backend.asarray(y)
    xh, yh = _host(backend, x), _host(backend, y)
    backend.assert_close(symm.mean(xb, rep_x), oracle_mean(xh, rep_x))
    backend.assert_close(symm.cov(xb, yb, rep_x, rep_y, correction=0), oracle_cov(xh, yh, rep_x, rep_y))
    backend.assert_close(symm.var(xb, rep_x, correction=0), augment(xh, rep_x).var(axis=0))
    backend.assert_close(symm.lstsq(xb, yb, rep_x, rep_y), oracle_lstsq(xh, yh, rep_x, rep_y))


def test_centred_sum_squares_over_row_blocks(backend):
    """var_mean's sum of squares runs over row blocks (no temporary as large as x); blocks add up exactly."""
    from symm._stats.moments import _centred_sum_squares

    x_np = np.random.default_rng(3).normal(size=(50, 6))
    x = backend.asarray(x_np)
    xbar = backend.xp.mean(x, axis=0)
    expected = ((x_np - x_np.mean(axis=0)) ** 2).sum(axis=0)
    for rows in (7, 50, 64):
        backend.assert_close(_centred_sum_squares(x, xbar, backend.xp, rows=rows), expected)
