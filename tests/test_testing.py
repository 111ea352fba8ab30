"""Tests of ``symm.testing.assert_equivariant``: it passes on equivariant maps and fails on the others."""

from __future__ import annotations

import numpy as np
import pytest
from _chartables import rotated

import symm
from symm import groups
from symm.testing import assert_equivariant


def _setup():
    G = groups.dicyclic(3)
    rx, ry = rotated(G.regular_rep(), 1), G.natural_rep("quaternion") * 2
    x = np.random.default_rng(0).standard_normal((5, rx.size))
    A = np.random.default_rng(1).standard_normal((ry.size, rx.size))
    return rx, ry, x, A


def test_passes_on_an_equivariant_linear_map():
    rx, ry, x, A = _setup()
    W = symm.project_equivariant(A, rx, ry)
    assert_equivariant(lambda v: v @ W.T, rx, ry, x)


def test_passes_on_a_nonlinear_equivariant_map():
    G = groups.symmetric(4)
    V = G.permutation_rep()
    x = np.random.default_rng(2).standard_normal((6, 4))
    assert_equivariant(lambda v: np.tanh(v) ** 3, V, V, x)  # pointwise maps commute with permutations
    assert_equivariant(lambda v: np.sort(v, axis=1), V, G.trivial_rep(4), x)  # sorting is invariant


def test_fails_on_a_non_equivariant_map():
    rx, ry, x, A = _setup()
    with pytest.raises(AssertionError, match="not equivariant at group element"):
        assert_equivariant(lambda v: v @ A.T, rx, ry, x)


def test_fails_on_a_slightly_broken_map():
    rx, ry, x, A = _setup()
    W = symm.project_equivariant(A, rx, ry)
    W[0, 0] += 1e-6
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda v: v @ W.T, rx, ry, x)


def test_fails_on_a_map_equivariant_only_on_the_generators_subgroup():
    """A map that commutes with the rotation of D4 but not with the reflection."""
    G = groups.dihedral(4)
    V = G.natural_rep("permutation")
    shift = np.roll(np.eye(4), 1, axis=0) + 0.5 * np.eye(4)  # a circulant: C4-equivariant, not D4
    x = np.random.default_rng(3).standard_normal((3, 4))
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda v: v @ shift.T, V, V, x)
    C = groups.cyclic(4)
    assert_equivariant(lambda v: v @ shift.T, C.permutation_rep(), C.permutation_rep(), x)


def test_backends(backend):
    rx, ry, x, A = _setup()
    W = backend.asarray(symm.project_equivariant(A, rx, ry))
    xb = backend.asarray(x)
    assert_equivariant(lambda v: v @ backend.xp.matrix_transpose(W), rx, ry, xb)
    Ab = backend.asarray(A)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda v: v @ backend.xp.matrix_transpose(Ab), rx, ry, xb)


def test_different_groups_rejected():
    x = np.zeros((1, 3))
    with pytest.raises(ValueError, match="different groups"):
        assert_equivariant(lambda v: v, groups.cyclic(3).regular_rep(), groups.cyclic(4).regular_rep(), x)


def test_axis_checks_features_on_that_axis():
    """(B, D, T) inputs with features on axis 1, as a convolution takes them; T = D so a wrong axis would run."""
    rx, ry, _, A = _setup()
    W = symm.project_equivariant(A, rx, ry)
    x = np.random.default_rng(2).standard_normal((2, rx.size, rx.size))
    mixer = np.random.default_rng(3).standard_normal((rx.size, rx.size))  # mixes time steps: commutes with ρ

    def conv_like(v):
        return np.einsum("od,bdt,ts->bos", W, v, mixer)

    assert_equivariant(conv_like, rx, ry, x, axis=1)
    with pytest.raises(AssertionError, match="not equivariant"):
        assert_equivariant(lambda v: np.einsum("od,bdt->bot", A, v), rx, ry, x, axis=1)
    with pytest.raises(ValueError, match="features on axis 0"):
        assert_equivariant(conv_like, rx, ry, x[:1], axis=0)
