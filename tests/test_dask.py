"""Dask arrays stay lazy through every function and compute to the NumPy answers, locally and on a
``dask.distributed`` cluster on loopback."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest
from _groups import case

import symm

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")


def _never(*args, **kwargs):
    raise AssertionError("a symm function triggered a Dask computation")


def _data(rng, c, n=300):
    x = rng.normal(size=(n, c.rep_x.size)) + 0.3
    y = x @ rng.normal(size=(c.rep_x.size, c.rep_y.size)) + rng.normal(size=(n, c.rep_y.size))
    return x, y


def _lazy_results(c, xd, yd):
    est = symm.SymmetricMoments(c.rep_x, c.rep_y)
    for k in range(3):
        sl = slice(k * 100, (k + 1) * 100)
        est.update(xd[sl], yd[sl])
    return {
        "mean": symm.mean(xd, c.rep_x),
        "var": symm.var(xd, c.rep_x),
        "cov": symm.cov(xd, yd, c.rep_x, c.rep_y),
        "auto": symm.cov(xd, None, c.rep_x),
        "lstsq": symm.lstsq(xd, yd, c.rep_x, c.rep_y),
        "iso": symm.to_isotypic(xd, c.rep_x),
        "norms": symm.irrep_norms(xd, c.rep_x),
        "est.cov": est.cov(),
        "est.lstsq": est.lstsq(),
        "est.var": est.var(),
    }


def _expected(c, x, y):
    est = symm.SymmetricMoments(c.rep_x, c.rep_y).update(x, y)
    return {
        "mean": symm.mean(x, c.rep_x),
        "var": symm.var(x, c.rep_x),
        "cov": symm.cov(x, y, c.rep_x, c.rep_y),
        "auto": symm.cov(x, None, c.rep_x),
        "lstsq": symm.lstsq(x, y, c.rep_x, c.rep_y),
        "iso": symm.to_isotypic(x, c.rep_x),
        "norms": symm.irrep_norms(x, c.rep_x),
        "est.cov": est.cov(),
        "est.lstsq": est.lstsq(),
        "est.var": est.var(),
    }


@pytest.mark.parametrize("name", ["Q8-quaternionic", "C4-perm", "D4-signed"])
def test_dask_stays_lazy_then_matches_numpy(name, rng):
    c = case(name)
    x, y = _data(rng, c)
    xd, yd = da.from_array(x, chunks=(70, -1)), da.from_array(y, chunks=(70, -1))
    with dask.config.set(scheduler=_never):
        lazy = _lazy_results(c, xd, yd)
    for key, val in lazy.items():
        assert isinstance(val, da.Array), key
    computed = dask.compute(lazy, scheduler="threads")[0]
    for key, want in _expected(c, x, y).items():
        np.testing.assert_allclose(computed[key], want, rtol=1e-10, atol=1e-10, err_msg=key)


def test_dask_distributed_local_cluster(rng):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")
    c = case("C6-complex")
    x, y = _data(rng, c)
    xd, yd = da.from_array(x, chunks=(50, -1)), da.from_array(y, chunks=(50, -1))
    with dask.config.set(scheduler=_never):
        lazy = _lazy_results(c, xd, yd)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        computed = client.compute(lazy, sync=True)
    for key, want in _expected(c, x, y).items():
        np.testing.assert_allclose(computed[key], want, rtol=1e-10, atol=1e-10, err_msg=key)


# ------------------------------------------------------------------------------- unknown lengths


def _unknown_length(rng, c):
    x, y = _data(rng, c, n=120)
    xd, yd = da.from_array(x, chunks=(40, -1)), da.from_array(y, chunks=(40, -1))
    keep = xd[:, 0] > 0.0
    return xd[keep], yd[keep], x[x[:, 0] > 0.0], y[x[:, 0] > 0.0]


_UNKNOWN_CALLS = {
    "update": lambda c, xd, yd: symm.SymmetricMoments(c.rep_x).update(xd),
    "update-y": lambda c, xd, yd: symm.SymmetricMoments(c.rep_x, c.rep_y).update(xd, yd),
    "lstsq": lambda c, xd, yd: symm.lstsq(xd, yd, c.rep_x, c.rep_y),
    "cov": lambda c, xd, yd: symm.cov(xd, yd, c.rep_x, c.rep_y),
    "var": lambda c, xd, yd: symm.var(xd, c.rep_x),
    "mean": lambda c, xd, yd: symm.mean(xd, c.rep_x),
}


@pytest.mark.parametrize("call", list(_UNKNOWN_CALLS))
def test_unknown_length_is_a_clear_error(call, rng):
    c = case("C4-perm")
    xd, yd, x, y = _unknown_length(rng, c)
    assert np.isnan(xd.shape[0])
    with dask.config.set(scheduler=_never):
        with pytest.raises(
            ValueError, match=r"x has an unknown number of samples \(shape \(nan, 12\)\).*compute_chunk"
        ):
            _UNKNOWN_CALLS[call](c, xd, yd)
        if call in ("update-y", "lstsq", "cov"):  # a y of unknown length is named as y
            with pytest.raises(ValueError, match=r"y has an unknown number of samples \(shape \(nan, 4\)\)"):
                _UNKNOWN_CALLS[call](c, da.from_array(x), yd)
    # the advice in the message works
    xd, yd = xd.compute_chunk_sizes(), yd.compute_chunk_sizes()
    got = _UNKNOWN_CALLS[call](c, xd, yd)
    want = _UNKNOWN_CALLS[call](c, x, y)
    if isinstance(got, symm.SymmetricMoments):
        got, want = got.cov(), want.cov()
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------- worker processes


def _partition_moments(rep_x, rep_y, x, y):
    return symm.SymmetricMoments(rep_x, rep_y).update(x, y)


def test_moments_merged_across_worker_processes(rng):
    """Per-partition estimators built in two worker processes (so pickled both ways, their reps distinct
    objects), merged pairwise in a tree on the workers, equal the one-shot answers to 1e-12."""
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install distributed)"
    )
    from _groups import random_orthogonal

    G = symm.groups.dihedral(3)
    rep_x = (G.regular_rep() + G.natural_rep("standard")).change_basis(random_orthogonal(8, 7), name="D3 mixed")
    rep_y = G.natural_rep("standard") + G.trivial_rep(1)
    x = rng.normal(size=(700, rep_x.size)) + rng.normal(size=rep_x.size)
    y = x @ rng.normal(size=(rep_x.size, rep_y.size)) + rng.normal(size=(700, rep_y.size))
    bounds = [0, 60, 200, 201, 333, 480, 700]  # seven uneven partitions, one of a single sample
    parts = [(x[a:b], y[a:b]) for a, b in itertools.pairwise(bounds)]
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, worker_dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        level = [client.submit(_partition_moments, rep_x, rep_y, px, py, pure=False) for px, py in parts]
        pids = set(client.run(os.getpid).values())
        while len(level) > 1:
            merge = symm.SymmetricMoments.merge
            pairs = [client.submit(merge, level[i], level[i + 1], pure=False) for i in range(0, len(level) - 1, 2)]
            level = pairs + level[2 * len(pairs) :]  # an odd one out waits for the next level
        est = level[0].result()
    assert len(pids) == 2 and os.getpid() not in pids
    assert est.n == len(x) and est.rep_x is not rep_x  # came back through pickle
    checks = {
        "mean": (est.mean(), symm.mean(x, rep_x)),
        "mean_y": (est.mean("y"), symm.mean(y, rep_y)),
        "var": (est.var(), symm.var(x, rep_x)),
        "var_y": (est.var("y", correction=0), symm.var(y, rep_y, correction=0)),
        "cov": (est.cov(), symm.cov(x, y, rep_x, rep_y)),
        "cov_x": (est.cov("x"), symm.cov(x, None, rep_x)),
        "lstsq": (est.lstsq(), symm.lstsq(x, y, rep_x, rep_y)),
    }
    for key, (got, want) in checks.items():
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=key)
