"""JAX transformations: the estimators work under ``jax.jit`` and ``jax.grad``, also when their cached device
constants are first created inside a trace (a cached tracer would leak out of it)."""

from __future__ import annotations

import numpy as np
import pytest

import symm

jax = pytest.importorskip("jax", reason="jax not installed")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def _fresh_rep() -> symm.Rep:
    """A new Rep object (so nothing is cached for it yet): Q8's regular rep twice, in a random basis."""
    base = symm.groups.quaternion().regular_rep() * 2
    p, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(base.size, base.size)))
    return symm.Rep(base.group, p @ base.generator_images @ p.T)


ESTIMATORS = {
    "mean": lambda x, rep: symm.mean(x, rep),
    "var_mean": lambda x, rep: symm.var_mean(x, rep)[0],
    "cov": lambda x, rep: symm.cov(x, None, rep),
    "lstsq": lambda x, rep: symm.lstsq(x, jnp.flip(x, axis=1), rep, rep),
    "project_equivariant": lambda x, rep: symm.project_equivariant(x[: rep.size], rep, rep),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_jit_first_use_inside_trace(name: str) -> None:
    rep = _fresh_rep()
    fn = ESTIMATORS[name]
    x = jnp.asarray(np.random.default_rng(0).normal(size=(64, rep.size)))
    jitted = jax.jit(lambda x: fn(x, rep))
    first = jitted(x)  # constants are created while tracing
    np.testing.assert_allclose(np.asarray(first), np.asarray(fn(x, rep)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jitted(x + 1.0)), np.asarray(fn(x + 1.0, rep)), rtol=1e-10, atol=1e-12)
    # the cached constants are reused by a later, different transformation
    grad = jax.grad(lambda x: jnp.sum(fn(x, rep) ** 2))(x)
    assert grad.shape == x.shape and bool(jnp.all(jnp.isfinite(grad)))


def test_grad_of_cov_matches_finite_differences() -> None:
    rep = _fresh_rep()
    x = jnp.asarray(np.random.default_rng(1).normal(size=(32, rep.size)))
    v = jnp.asarray(np.random.default_rng(2).normal(size=x.shape))

    def loss(x):
        return jnp.sum(symm.cov(x, None, rep) ** 2)

    g = jax.jit(jax.grad(loss))(x)
    eps = 1e-6
    fd = (loss(x + eps * v) - loss(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(float(jnp.sum(g * v)), float(fd), rtol=1e-6)
