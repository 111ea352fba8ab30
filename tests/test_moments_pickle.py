"""symm.SymmetricMoments pickles and deep-copies on every backend, restores its state bit for bit, and merges
with estimators whose reps are equal by content (after a round trip the reps are distinct objects)."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _groups import case

import symm

_STATE = ("_xbar", "_ybar", "_mxx", "_myx", "_myy")


def _data(rng, c, n=60):
    x = rng.normal(size=(n, c.rep_x.size)) + 0.5
    y = x @ rng.normal(size=(c.rep_x.size, c.rep_y.size)) + rng.normal(size=(n, c.rep_y.size))
    return x, y


def _filled(backend, c, x, y):
    est = symm.SymmetricMoments(c.rep_x, c.rep_y)
    for part_x, part_y in zip(np.array_split(x, 3), np.array_split(y, 3), strict=True):
        est.update(backend.asarray(part_x), backend.asarray(part_y))
    return est


def _answers(est):
    return {
        "mean": est.mean(),
        "mean_y": est.mean("y"),
        "var": est.var(),
        "cov": est.cov(),
        "cov_x": est.cov("x", correction=0),
        "lstsq": est.lstsq(),
    }


def _assert_same_state(backend, got, want):
    assert type(got) is symm.SymmetricMoments
    assert got.n == want.n
    assert got.rep_x.group is want.rep_x.group and got.rep_y.group is want.rep_y.group
    assert np.array_equal(got.rep_x.generator_images, want.rep_x.generator_images)
    assert np.array_equal(got.rep_y.generator_images, want.rep_y.generator_images)
    for attr in _STATE:
        a, b = getattr(got, attr), getattr(want, attr)
        backend.check_array(a, dtype=b.dtype)  # still in the caller's namespace, on its device
        assert np.array_equal(backend.to_numpy(a), backend.to_numpy(b)), attr  # bit for bit


@pytest.mark.parametrize("name", ["C6-complex", "D4-signed"])
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_round_trip_restores_state_exactly(backend, rng, name, how):
    c = case(name)
    x, y = _data(rng, c)
    est = _filled(backend, c, x, y)
    restored = pickle.loads(pickle.dumps(est)) if how == "pickle" else copy.deepcopy(est)
    _assert_same_state(backend, restored, est)
    want = _answers(est)
    for key, got in _answers(restored).items():
        backend.check_array(got)
        backend.assert_close(got, want[key], rtol=0, atol=0, err_msg=key)
    # the restored estimator keeps streaming, and merges with the original (distinct but equal reps)
    restored.update(backend.asarray(x[:5]), backend.asarray(y[:5]))
    both = restored.merge(est)
    assert both.n == 2 * len(x) + 5
    xs, ys = np.concatenate([x, x[:5], x]), np.concatenate([y, y[:5], y])
    backend.assert_close(both.cov(), symm.cov(backend.asarray(xs), backend.asarray(ys), c.rep_x, c.rep_y))
    backend.assert_close(both.lstsq(), symm.lstsq(backend.asarray(xs), backend.asarray(ys), c.rep_x, c.rep_y))


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_round_trip_of_an_empty_estimator(how):
    c = case("Q8-quaternionic")
    est = symm.SymmetricMoments(c.rep_x)
    restored = pickle.loads(pickle.dumps(est)) if how == "pickle" else copy.deepcopy(est)
    assert restored.n == 0 and restored.rep_y is None and restored.device is None
    x = np.random.default_rng(0).normal(size=(20, c.rep_x.size))
    np.testing.assert_allclose(restored.update(x).cov(), symm.cov(x, None, c.rep_x), rtol=1e-12, atol=1e-12)


def test_pickle_restores_exactly_in_another_process(tmp_path, rng):
    """A fresh interpreter unpickles the estimator bit for bit and merges it with one of its own."""
    c = case("C6-complex")
    x, y = _data(rng, c)
    est = symm.SymmetricMoments(c.rep_x, c.rep_y).update(x[:25], y[:25]).update(x[25:], y[25:])
    blob = tmp_path / "est.pkl"
    blob.write_bytes(pickle.dumps({"est": est, "x": x, "y": y}))
    script = textwrap.dedent(
        """
        import pickle, sys
        import numpy as np
        import symm

        d = pickle.loads(open(sys.argv[1], "rb").read())
        est, x, y = d["est"], d["x"], d["y"]
        own = symm.SymmetricMoments(pickle.loads(pickle.dumps(est.rep_x)), pickle.loads(pickle.dumps(est.rep_y)))
        own.update(x[:10], y[:10])
        both = est.merge(own)
        xs, ys = np.concatenate([x, x[:10]]), np.concatenate([y, y[:10]])
        np.testing.assert_allclose(both.cov(), symm.cov(xs, ys, est.rep_x, est.rep_y), rtol=1e-12, atol=1e-12)
        out = {k: getattr(est, k) for k in ("n", "_xbar", "_ybar", "_mxx", "_myx", "_myy")}
        open(sys.argv[1] + ".out", "wb").write(pickle.dumps(out))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script, str(blob)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    back = pickle.loads((tmp_path / "est.pkl.out").read_bytes())
    assert back["n"] == est.n
    for attr in _STATE:
        assert np.array_equal(back[attr], getattr(est, attr)), attr
