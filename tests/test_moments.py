"""symm.SymmetricMoments: streaming and merging give the one-shot answers, on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from _groups import CASE_NAMES, case

import symm
from symm import groups


@pytest.fixture(params=CASE_NAMES)
def cs(request):
    return case(request.param)


def _data(rng, c, n=90):
    x = rng.normal(size=(n, c.rep_x.size)) + rng.normal(size=c.rep_x.size)
    y = x @ rng.normal(size=(c.rep_x.size, c.rep_y.size)) + rng.normal(size=(n, c.rep_y.size)) + 2.0
    return x, y


def test_streaming_equals_one_shot(backend, cs, rng):
    x, y = _data(rng, cs)
    est = symm.SymmetricMoments(cs.rep_x, cs.rep_y)
    for sl in (slice(0, 7), slice(7, 40), slice(40, 41), slice(41, 90)):
        est.update(backend.asarray(x[sl]), backend.asarray(y[sl]))
    assert est.n == len(x)
    xb, yb = backend.asarray(x), backend.asarray(y)
    rx, ry = cs.rep_x, cs.rep_y
    pairs = [
        (est.mean(), symm.mean(xb, rx)),
        (est.mean("y"), symm.mean(yb, ry)),
        (est.var(), symm.var(xb, rx)),
        (est.var("y", correction=0), symm.var(yb, ry, correction=0)),
        (est.cov(), symm.cov(xb, yb, rx, ry)),
        (est.cov(correction=0), symm.cov(xb, yb, rx, ry, correction=0)),
        (est.cov("x"), symm.cov(xb, None, rx)),
        (est.cov("y"), symm.cov(yb, None, ry)),
        (est.lstsq(), symm.lstsq(xb, yb, rx, ry)),
    ]
    for got, want in pairs:
        backend.check_array(got)
        backend.assert_close(got, backend.to_numpy(want))


def test_merge_is_chan_parallel_form(backend, cs, rng):
    x, y = _data(rng, cs)
    parts = [symm.SymmetricMoments(cs.rep_x, cs.rep_y) for _ in range(4)]
    for k, p in enumerate(parts):
        sl = slice(k * 20, 90 if k == 3 else (k + 1) * 20)
        p.update(backend.asarray(x[sl]), backend.asarray(y[sl]))
    tree = parts[0].merge(parts[1]).merge(parts[2].merge(parts[3]))
    assert tree.n == 90 and parts[0].n == 20  # merge leaves its inputs alone
    empty = symm.SymmetricMoments(cs.rep_x, cs.rep_y)
    tree = tree.merge(empty)
    xb, yb = backend.asarray(x), backend.asarray(y)
    backend.assert_close(tree.cov(), symm.cov(xb, yb, cs.rep_x, cs.rep_y))
    backend.assert_close(tree.var(), symm.var(xb, cs.rep_x))
    backend.assert_close(tree.mean(), symm.mean(xb, cs.rep_x))
    backend.assert_close(tree.lstsq(), symm.lstsq(xb, yb, cs.rep_x, cs.rep_y))


def test_auto_only_estimator(backend, rng):
    c = case("Q8-quaternionic")
    x, _ = _data(rng, c)
    est = symm.SymmetricMoments(c.rep_x)
    for chunk in np.array_split(x, 5):
        est.update(backend.asarray(chunk))
    xb = backend.asarray(x)
    backend.assert_close(est.cov(), symm.cov(xb, None, c.rep_x))
    backend.assert_close(est.var(correction=0), symm.var(xb, c.rep_x, correction=0))
    with pytest.raises(ValueError, match="needs y"):
        est.lstsq()


def test_memory_is_o_d_squared(rng):
    c = case("C6-complex")
    est = symm.SymmetricMoments(c.rep_x, c.rep_y)
    for _ in range(20):
        x, y = _data(rng, c, n=500)
        est.update(x, y)
    sizes = [a.size for a in vars(est).values() if isinstance(a, np.ndarray)]
    d = max(c.rep_x.size, c.rep_y.size)
    assert est.n == 10_000 and max(sizes) <= d * d


def test_float64_agreement_1e_10(rng):
    """float64: the streamed answers equal the one-shot functions to 1e-10."""
    c = case("Dic3")
    x, y = _data(rng, c, n=1000)
    est = symm.SymmetricMoments(c.rep_x, c.rep_y)
    for chunk_x, chunk_y in zip(np.array_split(x, 13), np.array_split(y, 13), strict=True):
        est.update(chunk_x, chunk_y)
    np.testing.assert_allclose(est.cov(), symm.cov(x, y, c.rep_x, c.rep_y), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(est.lstsq(), symm.lstsq(x, y, c.rep_x, c.rep_y), rtol=1e-10, atol=1e-10)


def test_moments_errors(backend, rng):
    c = case("C6-complex")
    x, y = _data(rng, c)
    est = symm.SymmetricMoments(c.rep_x, c.rep_y)
    with pytest.raises(ValueError, match="no data yet"):
        est.cov()
    with pytest.raises(ValueError, match="needs y"):
        est.update(backend.asarray(x))
    with pytest.raises(ValueError, match="x has"):
        est.update(backend.asarray(y), backend.asarray(y))
    with pytest.raises(ValueError, match="without rep_y"):
        symm.SymmetricMoments(c.rep_x).update(backend.asarray(x), backend.asarray(y))
    with pytest.raises(ValueError, match="other does not track y"):
        est.merge(symm.SymmetricMoments(c.rep_y))
    with pytest.raises(ValueError, match="different groups"):
        symm.SymmetricMoments(c.rep_x, groups.cyclic(5).regular_rep())
    with pytest.raises(ValueError, match="which"):
        est.update(backend.asarray(x), backend.asarray(y)).var("z")


def test_mixed_libraries_across_updates(rng):
    torch = pytest.importorskip("torch")
    c = case("C4-perm")
    x, _ = _data(rng, c)
    est = symm.SymmetricMoments(c.rep_x).update(x)
    with pytest.raises(TypeError, match="different array libraries"):
        est.update(torch.asarray(x))


# ------------------------------------------------------------------------------------ merge by content


def test_merge_accepts_equal_but_distinct_reps(backend, rng):
    c = case("C6-complex")
    x, y = _data(rng, c)
    copy_x = symm.Rep(c.rep_x.group, c.rep_x.generator_images.copy(), name="copy of rep_x")
    copy_y = symm.Rep(c.rep_y.group, c.rep_y.generator_images.copy(), name="copy of rep_y")
    assert copy_x is not c.rep_x and copy_x.group is c.rep_x.group
    a = symm.SymmetricMoments(c.rep_x, c.rep_y).update(backend.asarray(x[:40]), backend.asarray(y[:40]))
    b = symm.SymmetricMoments(copy_x, copy_y).update(backend.asarray(x[40:]), backend.asarray(y[40:]))
    xb, yb = backend.asarray(x), backend.asarray(y)
    for merged in (a.merge(b), b.merge(a)):
        assert merged.n == len(x)
        backend.assert_close(merged.cov(), symm.cov(xb, yb, c.rep_x, c.rep_y))
        backend.assert_close(merged.lstsq(), symm.lstsq(xb, yb, c.rep_x, c.rep_y))


def test_merge_refuses_reps_that_differ():
    G = groups.dihedral(3)
    rep = G.regular_rep() + G.natural_rep("standard")
    est = symm.SymmetricMoments(rep, G.regular_rep())
    other_group = groups.cyclic(8).regular_rep()
    with pytest.raises(ValueError, match=r"other\.rep_x .*different group"):
        est.merge(symm.SymmetricMoments(other_group, groups.cyclic(8).regular_rep()))
    with pytest.raises(ValueError, match=r"other\.rep_x .*has size 6, not 8"):
        est.merge(symm.SymmetricMoments(G.regular_rep(), G.regular_rep()))
    turned = rep.change_basis(np.roll(np.eye(rep.size), 1, axis=0), name="turned")  # same group and size
    with pytest.raises(ValueError, match=r"other\.rep_x .*different generator_images"):
        est.merge(symm.SymmetricMoments(turned, G.regular_rep()))
    with pytest.raises(ValueError, match=r"other\.rep_y .*has size 2, not 6"):
        est.merge(symm.SymmetricMoments(rep, G.natural_rep("standard")))
    with pytest.raises(ValueError, match="other does not track y"):
        est.merge(symm.SymmetricMoments(rep))
    with pytest.raises(ValueError, match="other tracks y"):
        symm.SymmetricMoments(rep).merge(est)
    with pytest.raises(TypeError, match="other must be a SymmetricMoments"):
        est.merge(rep)


# ------------------------------------------------------------------------------------ input validation

_MASKED_CALLS = {
    "mean": lambda m, a, rep: symm.mean(m, rep),
    "var": lambda m, a, rep: symm.var(m, rep),
    "var_mean": lambda m, a, rep: symm.var_mean(m, rep),
    "cov": lambda m, a, rep: symm.cov(m, None, rep),
    "cov-y": lambda m, a, rep: symm.cov(a, m, rep, rep),
    "lstsq": lambda m, a, rep: symm.lstsq(m, a, rep, rep),
    "lstsq-y": lambda m, a, rep: symm.lstsq(a, m, rep, rep),
    "update": lambda m, a, rep: symm.SymmetricMoments(rep).update(m),
    "update-y": lambda m, a, rep: symm.SymmetricMoments(rep, rep).update(a, m),
}


@pytest.mark.parametrize("call", list(_MASKED_CALLS))
def test_masked_arrays_are_refused(call, rng):
    rep = case("C4-perm").rep_y
    a = rng.normal(size=(30, rep.size))
    masked = np.ma.masked_array(a, mask=a > 1.0)
    name = "y" if call.endswith("-y") else "x"
    with pytest.raises(TypeError, match=rf"{name} is a numpy\.ma\.MaskedArray of shape \(30, 4\); masked arrays"):
        _MASKED_CALLS[call](masked, a, rep)
    _MASKED_CALLS[call](np.ma.compress_rows(masked), np.ma.compress_rows(masked), rep)  # the advice works


def test_too_few_samples_name_the_data(rng):
    rep = case("C4-perm").rep_y
    x = rng.normal(size=(1, rep.size))
    with pytest.raises(ValueError, match=r"too few samples: x has N=1 samples, but correction=1"):
        symm.cov(x, None, rep)
    with pytest.raises(ValueError, match=r"too few samples: x has N=1 samples, but correction=1"):
        symm.var(x, rep)
    with pytest.raises(ValueError, match=r"too few samples: x must hold at least one sample, got shape \(0, 4\)"):
        symm.mean(x[:0], rep)
    with pytest.raises(ValueError, match=r"too few samples: x must hold at least one sample, got shape \(0, 4\)"):
        symm.lstsq(x[:0], x[:0], rep, rep)
    est = symm.SymmetricMoments(rep).update(x)
    with pytest.raises(ValueError, match=r"too few samples: the estimator's data .* has N=1 samples"):
        est.cov()
    with pytest.raises(ValueError, match=r"too few samples: the estimator's data .* has N=1 samples"):
        est.var(correction=2)
    np.testing.assert_allclose(est.var(correction=0), symm.var(x, rep, correction=0), rtol=1e-12, atol=1e-12)
