"""Tests of ``symm.Rep``: construction and validation, element matrices, characters, direct sums, tensor
products, changes of basis and the built-in reps. Expectations are explicit matrices and character formulas
(fixed points for permutation reps, products for tensor products, sums for direct sums)."""

from __future__ import annotations

import numpy as np
import pytest
from _chartables import all_matrices, block_diagonal, random_orthogonal, rotated

import symm
from symm import groups


def _fixed_points(G, g):
    return int(np.sum(G.element_data(g) == np.arange(len(G.element_data(g)))))


# ---------------------------------------------------------------------- built-in reps
@pytest.mark.parametrize(
    "make",
    [lambda: groups.cyclic(6), lambda: groups.dihedral(5), lambda: groups.symmetric(4), lambda: groups.alternating(5)],
    ids=["C6", "D5", "S4", "A5"],
)
def test_permutation_and_regular_characters(make):
    G = make()
    # permutation rep: χ(g) = number of fixed points; regular: χ = |G| δ_{g,e}
    perm = G.permutation_rep()
    np.testing.assert_allclose(perm.character(), [_fixed_points(G, g) for g in G.elements])
    reg = G.regular_rep()
    np.testing.assert_allclose(reg.character(), [G.order if g == 0 else 0 for g in G.elements])
    # regular: ρ(g) e_h = e_{gh}
    for g in range(0, G.order, max(1, G.order // 5)):
        m = reg(g)
        for h in range(G.order):
            assert m[G.compose(g, h), h] == 1.0


@pytest.mark.parametrize("n", [3, 4, 5])
def test_standard_and_sign_reps_of_symmetric(n):
    G = groups.symmetric(n)
    std, perm, sign = G.natural_rep("standard"), G.permutation_rep(), G.natural_rep("sign")
    np.testing.assert_allclose(std.character(), perm.character() - 1, atol=1e-12)
    # sign(g) = (-1)^(n - number of cycles)
    for g in G.elements:
        p, seen, cycles = G.element_data(g), set(), 0
        for i in range(n):
            if i not in seen:
                cycles += 1
                while i not in seen:
                    seen.add(i)
                    i = int(p[i])
        assert sign(g)[0, 0] == (-1) ** (n - cycles)


def test_element_matrices_are_a_homomorphism():
    for rep in [
        groups.dicyclic(3).natural_rep("quaternion"),
        rotated(groups.alternating(4).regular_rep(), 1),
        groups.dihedral(6).natural_rep("standard"),
    ]:
        G = rep.group
        mats = rep.matrices()
        np.testing.assert_allclose(mats, all_matrices(rep), atol=1e-12)
        for a in range(G.order):
            for b in range(G.order):
                np.testing.assert_allclose(mats[a] @ mats[b], mats[G.compose(a, b)], atol=1e-12)
        np.testing.assert_allclose(mats[0], np.eye(rep.size))
        for g in range(G.order):
            np.testing.assert_allclose(rep(g), mats[g], atol=1e-12)
            np.testing.assert_allclose(mats[g].T @ mats[g], np.eye(rep.size), atol=1e-12)


def test_matrices_are_read_only():
    rep = groups.cyclic(4).regular_rep()
    with pytest.raises(ValueError):
        rep.matrices()[0, 0, 0] = 5.0
    with pytest.raises(ValueError):
        rep.generator_images[0, 0, 0] = 5.0


# ---------------------------------------------------------------------- operations
def test_direct_sum_is_block_diagonal_with_valid_decomposition():
    G = groups.dicyclic(3)
    a, b, c = G.regular_rep(), G.natural_rep("quaternion"), rotated(G.regular_rep(), 2)
    s = symm.direct_sum(a, b, c)
    assert s.size == a.size + b.size + c.size
    np.testing.assert_allclose(s.character(), a.character() + b.character() + c.character(), atol=1e-10)
    for g in range(G.order):
        m = s(g)
        np.testing.assert_allclose(m[:12, :12], a(g), atol=1e-12)
        np.testing.assert_allclose(m[12:16, 12:16], b(g), atol=1e-12)
        np.testing.assert_allclose(m[16:, 16:], c(g), atol=1e-12)
        Q = s.change_of_basis
        np.testing.assert_allclose(Q.T @ m @ Q, block_diagonal(s, g), atol=1e-10)
    for irr in G.irreps():
        assert s.multiplicity(irr) == a.multiplicity(irr) + b.multiplicity(irr) + c.multiplicity(irr)
    assert (a + b).size == 16 and (2 * b).size == 8 and (b * 3).size == 12


def test_tensor_product_character_is_the_product():
    G = groups.alternating(4)
    x, y = G.natural_rep("standard"), rotated(G.regular_rep(), 3)
    t = x.tensor(y)
    np.testing.assert_allclose(t.character(), x.character() * y.character(), atol=1e-9)
    for g in (1, 5, 11):
        np.testing.assert_allclose(t(g), np.kron(x(g), y(g)), atol=1e-12)


def test_change_basis():
    G = groups.cyclic(5)
    rep = G.regular_rep() * 2
    P = random_orthogonal(10, 4)
    new = rep.change_basis(P)
    for g in G.elements:
        np.testing.assert_allclose(new(g), P @ rep(g) @ P.T, atol=1e-12)
    np.testing.assert_allclose(new.change_of_basis.T @ new.change_of_basis, np.eye(10), atol=1e-12)
    with pytest.raises(ValueError, match="P must have shape"):
        rep.change_basis(np.eye(9))
    with pytest.raises(ValueError, match="P must be orthogonal"):
        rep.change_basis(2 * np.eye(10))


def test_from_generators_robot_mirror():
    """A 2-D robot with two arms: the mirror swaps the arms and negates the lateral coordinate."""
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    mirror = np.kron(swap, np.diag([-1.0, 1.0]))  # (x_left, y_left, x_right, y_right)
    rep = symm.Rep.from_generators([mirror])
    assert rep.group.order == 2
    # the invariant subspace is the +1 eigenspace of the mirror: dimension (tr I + tr M) / 2 = 2
    assert symm.hom_dim(rep.group.trivial_rep(), rep) == 2
    P = symm.invariant_orthogonal_projector(rep)
    np.testing.assert_allclose(P, (np.eye(4) + mirror) / 2, atol=1e-12)
    with pytest.raises(ValueError, match="max_order"):
        symm.Rep.from_generators([[[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]], max_order=3)


def test_irrep_objects():
    G = groups.dihedral(4)
    for irr in G.irreps():
        assert isinstance(irr, symm.Irrep)
        assert irr.size == irr.dim
        assert G.irrep(irr.id) is irr
        np.testing.assert_array_equal(irr.change_of_basis, np.eye(irr.dim))
        assert [c.multiplicity for c in irr.isotypic_components] == [1]


# ---------------------------------------------------------------------- bad input
def test_rep_validation_errors():
    G = groups.cyclic(4)
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(TypeError, match=r"group must be a symm.Group"):
        symm.Rep("C4", [rot])
    with pytest.raises(ValueError, match="generator_images must hold one matrix per generator"):
        symm.Rep(G, [rot, rot])
    with pytest.raises(ValueError, match="generator_images must have shape"):
        symm.Rep(G, np.zeros((1, 2, 3)))  # non-square
    with pytest.raises(ValueError, match="generator_images"):
        symm.Rep(G, [[[1.0, 0.0], [0.0]]])  # ragged
    with pytest.raises(ValueError, match="generator_images must have shape"):
        symm.Rep(G, np.zeros((1, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"generator_images\[0\] is not orthogonal"):
        symm.Rep(G, [2 * rot])
    with pytest.raises(ValueError, match="generator_images"):
        symm.Rep(G, [[[np.inf, 0.0], [0.0, 1.0]]])
    D = groups.dihedral(3)
    with pytest.raises(ValueError, match="generator_images must hold one matrix per generator"):
        symm.Rep(D, [np.eye(2)])


def test_images_that_are_not_a_homomorphism():
    # C3 = <r | r³ = 1>, but a rotation by 90° has order 4
    with pytest.raises(ValueError, match="generator_images do not define a homomorphism"):
        symm.Rep(groups.cyclic(3), [np.array([[0.0, -1.0], [1.0, 0.0]])])
    # the same with permutation matrices (index-gather path): a 2-cycle cannot be the image of C3's generator
    with pytest.raises(ValueError, match="generator_images do not define a homomorphism"):
        symm.Rep(groups.cyclic(3), [np.array([[0.0, 1.0], [1.0, 0.0]])])
    # D3: images that do not satisfy f r f = r⁻¹
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    r = np.array([[c, -s], [s, c]])
    with pytest.raises(ValueError, match="generator_images do not define a homomorphism"):
        symm.Rep(groups.dihedral(3), [r, np.eye(2)])  # f ↦ I would force r = r⁻¹


def test_reps_of_different_groups():
    a, b = groups.cyclic(4).regular_rep(), groups.cyclic(5).regular_rep()
    with pytest.raises(ValueError, match="different groups"):
        symm.direct_sum(a, b)
    with pytest.raises(ValueError, match="different groups"):
        a.tensor(b)
    with pytest.raises(ValueError, match="at least one rep"):
        symm.direct_sum()
    with pytest.raises(TypeError, match=r"direct_sum takes symm.Rep"):
        symm.direct_sum(a, np.eye(4))
