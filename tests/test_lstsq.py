"""symm.lstsq against plain least squares on the orbit-augmented data, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from _groups import CASE_NAMES, augment_pairs, case, oracle_lstsq, reynolds

import symm
from symm import groups

N = 40


@pytest.fixture(params=CASE_NAMES)
def cs(request):
    return case(request.param)


def _host(backend, x):
    return backend.to_numpy(backend.asarray(x))


def _problem(rng, c, n=N, noise=0.3):
    x = rng.normal(size=(n, c.rep_x.size)) + 0.5
    A = reynolds(rng.normal(size=(c.rep_y.size, c.rep_x.size)), c.rep_x, c.rep_y)
    y = x @ A.T + noise * rng.normal(size=(n, c.rep_y.size))
    return x, y


def _residual(x, y, A):
    return float(np.sum((y - x @ A.T) ** 2))


def test_lstsq_is_least_squares_on_augmented_data(backend, cs, rng):
    x, y = _problem(rng, cs)
    A = symm.lstsq(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y)
    backend.check_array(A)
    assert A.shape == (cs.rep_y.size, cs.rep_x.size)
    xh, yh = _host(backend, x), _host(backend, y)
    backend.assert_close(A, oracle_lstsq(xh, yh, cs.rep_x, cs.rep_y))


def test_lstsq_beats_equivariant_competitors(backend, cs, rng):
    x, y = _problem(rng, cs)
    A = backend.to_numpy(symm.lstsq(backend.asarray(x), backend.asarray(y), cs.rep_x, cs.rep_y))
    xa, ya = augment_pairs(x, y, cs.rep_x, cs.rep_y)
    best = _residual(xa, ya, A)
    slack = 1e-9 if backend.is_float64 else 1e-4
    unconstrained = np.linalg.lstsq(x, y, rcond=None)[0].T
    competitors = [reynolds(unconstrained, cs.rep_x, cs.rep_y)]
    competitors += [A + 0.01 * reynolds(rng.normal(size=A.shape), cs.rep_x, cs.rep_y) for _ in range(5)]
    for B in competitors:
        assert best <= _residual(xa, ya, B) * (1 + slack)
    # the unconstrained fit is better on the original data but is not equivariant
    assert _residual(x, y, unconstrained) <= _residual(x, y, A) * (1 + slack)


def test_lstsq_minimum_norm_when_singular(backend, cs, rng):
    """Data with no energy in the last isotypic copy: the Gram matrix is singular."""
    x, y = _problem(rng, cs)
    q = cs.rep_x.change_of_basis
    z = x @ q
    last = cs.rep_x.isotypic_components[-1]
    z[:, last.slice.stop - last.irrep.dim : last.slice.stop] = 0.0
    xs = z @ q.T
    A = symm.lstsq(backend.asarray(xs), backend.asarray(y), cs.rep_x, cs.rep_y)
    expect = oracle_lstsq(xs, y, cs.rep_x, cs.rep_y)
    tol = backend.atol * 10
    backend.assert_close(A, expect, atol=tol, rtol=tol)


def test_lstsq_recovers_equivariant_map(backend, rng):
    c = case("Q8-quaternionic")
    x, y = _problem(rng, c, n=200, noise=0.0)
    A_true = reynolds(np.linalg.lstsq(x, y, rcond=None)[0].T, c.rep_x, c.rep_y)
    A = symm.lstsq(backend.asarray(x), backend.asarray(y), c.rep_x, c.rep_y)
    backend.assert_close(A, A_true, atol=backend.atol * 10, rtol=backend.rtol * 10)


def test_lstsq_is_equivariant(backend, rng):
    for name in ("C6-complex", "Dic3", "D4-signed"):
        c = case(name)
        x, y = _problem(rng, c)
        A0 = backend.to_numpy(symm.lstsq(backend.asarray(x), backend.asarray(y), c.rep_x, c.rep_y))
        for g in c.rep_x.group.elements:
            gx, gy = c.rep_x(g), c.rep_y(g)
            A = symm.lstsq(backend.asarray(x @ gx.T), backend.asarray(y @ gy.T), c.rep_x, c.rep_y)
            backend.assert_close(A, A0)
            backend.assert_close(gy @ A0, A0 @ gx)


def test_lstsq_nan_propagates(backend, rng):
    c = case("C6-complex")
    x, y = _problem(rng, c)
    y[0, 0] = np.nan
    A = symm.lstsq(backend.asarray(x), backend.asarray(y), c.rep_x, c.rep_y)
    assert np.isnan(backend.to_numpy(A)).any()


def test_lstsq_bad_input(backend, rng):
    c = case("C6-complex")
    x, y = _problem(rng, c)
    xb, yb = backend.asarray(x), backend.asarray(y)
    with pytest.raises(ValueError, match="different groups"):
        symm.lstsq(xb, backend.asarray(np.zeros((N, 5))), c.rep_x, groups.cyclic(5).regular_rep())
    with pytest.raises(ValueError, match="same number of samples"):
        symm.lstsq(xb, backend.asarray(y[:-1]), c.rep_x, c.rep_y)
    with pytest.raises(ValueError, match="y has"):
        symm.lstsq(xb, xb, c.rep_x, c.rep_y)
    with pytest.raises(ValueError, match="2-D"):
        symm.lstsq(backend.asarray(x[0]), yb, c.rep_x, c.rep_y)
    with pytest.raises(TypeError, match="needs targets"):
        symm.lstsq(xb, None, c.rep_x, c.rep_y)


def test_lstsq_mixed_libraries_raise(rng):
    torch = pytest.importorskip("torch")
    c = case("C6-complex")
    x, y = _problem(rng, c)
    with pytest.raises(TypeError, match="different array libraries"):
        symm.lstsq(torch.asarray(x), y, c.rep_x, c.rep_y)
