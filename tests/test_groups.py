"""Tests of finite groups: orders, the group axioms on the multiplication, conjugacy-class counts from the
literature, words, inverses, and input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _chartables import conjugacy_classes, order_of

import symm
from symm import groups


def _partitions(n: int) -> int:
    """The partition number p(n) (number of conjugacy classes of S_n)."""
    p = [1] + [0] * n
    for k in range(1, n + 1):
        for m in range(k, n + 1):
            p[m] += p[m - k]
    return p[n]


# (constructor, order, number of conjugacy classes), all from the literature
GROUPS = {
    "C1": (lambda: groups.cyclic(1), 1, 1),
    "C6": (lambda: groups.cyclic(6), 6, 6),
    "C11": (lambda: groups.cyclic(11), 11, 11),
    "D1": (lambda: groups.dihedral(1), 2, 2),
    "D2": (lambda: groups.dihedral(2), 4, 4),
    "D5": (lambda: groups.dihedral(5), 10, (5 + 3) // 2),
    "D6": (lambda: groups.dihedral(6), 12, 6 // 2 + 3),
    "S3": (lambda: groups.symmetric(3), 6, _partitions(3)),
    "S4": (lambda: groups.symmetric(4), 24, _partitions(4)),
    "S5": (lambda: groups.symmetric(5), 120, _partitions(5)),
    "A3": (lambda: groups.alternating(3), 3, 3),
    "A4": (lambda: groups.alternating(4), 12, 4),
    "A5": (lambda: groups.alternating(5), 60, 5),
    "Q8": (groups.quaternion, 8, 5),
    "Dic3": (lambda: groups.dicyclic(3), 12, 3 + 3),
    "Dic4": (lambda: groups.dicyclic(4), 16, 4 + 3),
    "C3xS3": (lambda: groups.direct_product(groups.cyclic(3), groups.symmetric(3)), 18, 3 * 3),
    "Q8xC2": (lambda: groups.direct_product(groups.quaternion(), groups.cyclic(2)), 16, 5 * 2),
}


@pytest.fixture(params=list(GROUPS), ids=list(GROUPS))
def case(request):
    make, order, n_classes = GROUPS[request.param]
    return make(), order, n_classes


def test_order_and_class_count(case):
    G, order, n_classes = case
    assert G.order == order
    assert G.elements == tuple(range(order))
    assert len(conjugacy_classes(G)) == n_classes


def test_group_axioms(case):
    G, order, _ = case
    e = G.identity
    assert e == 0
    table = np.array([[G.compose(a, b) for b in range(order)] for a in range(order)])
    # Latin square (every row and column is a permutation) with identity row/column
    for a in range(order):
        assert sorted(table[a]) == list(range(order))
        assert sorted(table[:, a]) == list(range(order))
    np.testing.assert_array_equal(table[e], np.arange(order))
    np.testing.assert_array_equal(table[:, e], np.arange(order))
    # associativity on a sample
    rng = np.random.default_rng(0)
    for a, b, c in rng.integers(order, size=(200, 3)):
        assert table[table[a, b], c] == table[a, table[b, c]]
    for g in range(order):
        assert G.compose(g, G.inverse(g)) == e == G.compose(G.inverse(g), g)
        assert G.element_order(g) == order_of(G, g)
        assert order % G.element_order(g) == 0  # Lagrange


def test_words_rebuild_elements(case):
    G, order, _ = case
    for g in range(order):
        h = G.identity
        for s in reversed(G.word(g)):
            h = G.compose(G.generators[s], h)
        assert h == g


def test_compose_matches_the_faithful_action(case):
    G, order, _ = case
    for a in range(0, order, max(1, order // 10)):
        for b in range(0, order, max(1, order // 10)):
            da, db, dab = G.element_data(a), G.element_data(b), G.element_data(G.compose(a, b))
            if da.ndim == 1:  # permutation: (a·b)[i] = a[b[i]]
                np.testing.assert_array_equal(da[db], dab)
            else:
                np.testing.assert_allclose(da @ db, dab, atol=1e-12)


def test_element_orders_of_known_groups():
    # cyclic: φ(n) generators of order n
    G = groups.cyclic(12)
    assert sum(G.element_order(g) == 12 for g in G.elements) == 4
    # Q8: one element of order 2, six of order 4
    Q = groups.quaternion()
    assert sorted(Q.element_order(g) for g in Q.elements) == [1, 2, 4, 4, 4, 4, 4, 4]
    # D_n: n reflections of order 2 (+1 rotation by π for even n)
    assert sum(groups.dihedral(7).element_order(g) == 2 for g in range(14)) == 7
    assert sum(groups.dihedral(8).element_order(g) == 2 for g in range(16)) == 9
    # A5: 15 involutions, 20 of order 3, 24 of order 5
    A = groups.alternating(5)
    counts = np.bincount([A.element_order(g) for g in A.elements])
    assert (counts[1], counts[2], counts[3], counts[5]) == (1, 15, 20, 24)


def test_constructors_are_cached():
    assert groups.cyclic(5) is groups.cyclic(5)
    assert groups.quaternion() is groups.dicyclic(2)
    perm = np.roll(np.arange(5), 1)
    assert symm.Group.from_permutations([perm]) is groups.cyclic(5)
    assert symm.Group.from_permutations([list(perm)]) is symm.Group.from_permutations(perm[None])


def test_from_matrices_closes_finite_groups():
    c, s = np.cos(2 * np.pi / 6), np.sin(2 * np.pi / 6)
    G = symm.Group.from_matrices([[[c, -s], [s, c]], [[1.0, 0.0], [0.0, -1.0]]])
    assert G.order == 12
    assert len(conjugacy_classes(G)) == 6
    H = symm.Group.from_matrices(np.diag([1.0, -1.0, 1.0]))  # a 3x3 mirror
    assert H.order == 2


def test_symmetric_and_alternating_orders():
    for n in (2, 3, 4, 5):
        assert groups.symmetric(n).order == math.factorial(n)
    for n in (3, 4, 5):
        assert groups.alternating(n).order == math.factorial(n) // 2


# ---------------------------------------------------------------------- bad input
def test_from_permutations_rejects_non_permutations():
    with pytest.raises(ValueError, match=r"permutations\[1\]"):
        symm.Group.from_permutations([[1, 0, 2], [0, 0, 1]])
    with pytest.raises(ValueError, match="permutations"):
        symm.Group.from_permutations([[0, 1, 3]])
    with pytest.raises(ValueError, match="permutations"):
        symm.Group.from_permutations([[0, 1], [0, 1, 2]])  # ragged
    with pytest.raises(ValueError, match="permutations must have shape"):
        symm.Group.from_permutations([])


def test_infinite_group_is_rejected():
    angle = 1.0  # radians: an irrational multiple of π, so the rotation has infinite order
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    with pytest.raises(ValueError, match="max_order"):
        symm.Group.from_matrices([rot], max_order=500)


def test_growing_matrices_are_rejected():
    with pytest.raises(ValueError, match="finite group"):
        symm.Group.from_matrices([[[2.0, 0.0], [0.0, 1.0]]])


def test_over_limit_group_is_rejected():
    gens = [[1, 0, 2, 3, 4], [1, 2, 3, 4, 0]]  # S5, 120 elements
    with pytest.raises(ValueError, match="max_order"):
        symm.Group.from_permutations(gens, max_order=100)
    assert symm.Group.from_permutations(gens, max_order=120).order == 120


def test_from_matrices_rejects_bad_shapes():
    with pytest.raises(ValueError, match="matrices must have shape"):
        symm.Group.from_matrices(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="matrices"):
        symm.Group.from_matrices([[[1.0, np.nan], [0.0, 1.0]]])
    with pytest.raises(ValueError, match="matrices"):
        symm.Group.from_matrices([[[1.0, 0.0], [0.0]]])


@pytest.mark.parametrize("bad", [-1, 8, 100])
def test_bad_element_index(bad):
    G = groups.cyclic(8)
    with pytest.raises(ValueError, match="element"):
        G.compose(bad, 0)
    with pytest.raises(ValueError, match="element"):
        G.inverse(bad)
    with pytest.raises(ValueError, match="element"):
        G.regular_rep()(bad)


@pytest.mark.parametrize("bad", [1.0, "1", None, True])
def test_non_integer_element(bad):
    G = groups.cyclic(8)
    with pytest.raises(TypeError, match="group elements are integers"):
        G.compose(0, bad)
    with pytest.raises(TypeError, match="group elements are integers"):
        G.regular_rep()(bad)


@pytest.mark.parametrize(
    "call, arg",
    [
        (groups.cyclic, 0),
        (groups.dihedral, 0),
        (groups.symmetric, 1),
        (groups.alternating, 2),
        (groups.dicyclic, 1),
        (groups.cyclic, 2.5),
        (groups.cyclic, True),
    ],
    ids=["cyclic(0)", "dihedral(0)", "symmetric(1)", "alternating(2)", "dicyclic(1)", "cyclic(2.5)", "cyclic(True)"],
)
def test_constructor_arguments(call, arg):
    with pytest.raises(ValueError, match="n must be an integer"):
        call(arg)


def test_direct_product_type_check():
    with pytest.raises(TypeError, match="direct_product"):
        groups.direct_product(groups.cyclic(2), "C3")


def test_unknown_irrep_and_natural_rep():
    G = groups.cyclic(3)
    with pytest.raises(ValueError, match="no irrep with id"):
        G.irrep("nope")
    with pytest.raises(ValueError, match="no natural rep"):
        G.natural_rep("nope")
    with pytest.raises(ValueError, match="matrix group"):
        groups.quaternion().permutation_rep()
