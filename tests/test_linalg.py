"""Oracle tests of the equivariant linear algebra: ``hom_dim``, ``hom_basis``, ``project_equivariant`` and
``invariant_orthogonal_projector``.

Expectations: the character inner product, the nullspace of the stacked Kronecker system on the generators,
counting formulas (``dim End_G(regular) = |G|``, Bell numbers for ``S_n``, ``⌊n/2⌋ + 1`` for ``D_n`` on
vertices) and the explicit average over group elements.
"""

from __future__ import annotations

import numpy as np
import pytest
from _chartables import all_matrices, commutant_dim, explicit_average, rotated

import symm
from symm import groups


def _pairs() -> dict[str, callable]:
    c5, d4, s4, a4 = groups.cyclic(5), groups.dihedral(4), groups.symmetric(4), groups.alternating(4)
    q8, dic3 = groups.quaternion(), groups.dicyclic(3)
    c3q8 = groups.direct_product(groups.cyclic(3), q8)
    return {
        # C-type irreps with multiplicity > 1 in a mixed basis (catches a dropped J term)
        "C5 rot(reg*2) -> reg+rotation": lambda: (
            rotated(c5.regular_rep() * 2, 1),
            c5.regular_rep() + c5.natural_rep("rotation"),
        ),
        # H-type irreps with multiplicity > 1 (catches dropped J/K terms)
        "Q8 rot(quat*2+reg) -> quat*3": lambda: (
            rotated(q8.natural_rep("quaternion") * 2 + q8.regular_rep(), 2),
            q8.natural_rep("quaternion") * 3,
        ),
        "Dic3 reg -> rot(reg*2)": lambda: (dic3.regular_rep(), rotated(dic3.regular_rep() * 2, 3)),
        # a 4-dimensional C-type irrep (kron(J, I_2)) with multiplicity 2 in the regular rep
        "C3xQ8 rot(reg) -> reg": lambda: (rotated(c3q8.regular_rep(), 4), c3q8.regular_rep()),
        "D4 perm -> rot(reg)": lambda: (d4.natural_rep("permutation"), rotated(d4.regular_rep(), 5)),
        "S4 std⊗std -> perm": lambda: (
            s4.natural_rep("standard").tensor(s4.natural_rep("standard")),
            s4.permutation_rep(),
        ),
        "A4 rot(reg) -> rot(reg+std)": lambda: (
            rotated(a4.regular_rep(), 6),
            rotated(a4.regular_rep() + a4.natural_rep("standard"), 7),
        ),
        "S4 sign -> std (no common irrep)": lambda: (s4.natural_rep("sign"), s4.natural_rep("standard")),
    }


PAIRS = _pairs()


# every backend runs on these (C-type and H-type with multiplicity > 1, the 4-dim C-type, an empty Hom)
BACKEND_PAIRS = [
    "C5 rot(reg*2) -> reg+rotation",
    "Q8 rot(quat*2+reg) -> quat*3",
    "C3xQ8 rot(reg) -> reg",
    "S4 sign -> std (no common irrep)",
]


@pytest.fixture(params=list(PAIRS), ids=list(PAIRS))
def pair(request):
    return PAIRS[request.param]()


@pytest.fixture(params=BACKEND_PAIRS, ids=BACKEND_PAIRS)
def bpair(request):
    return PAIRS[request.param]()


def _chi(rep) -> np.ndarray:
    return np.trace(all_matrices(rep), axis1=1, axis2=2)


# ---------------------------------------------------------------------- hom_dim / hom_basis
def test_hom_dim_is_character_inner_product(pair):
    rx, ry = pair
    expected = _chi(rx) @ _chi(ry) / rx.group.order
    assert abs(expected - round(expected)) < 1e-9
    assert symm.hom_dim(rx, ry) == round(expected)
    assert symm.hom_dim(ry, rx) == round(expected)


def test_hom_basis_is_an_orthonormal_basis_of_the_commutant(pair):
    rx, ry = pair
    B = symm.hom_basis(rx, ry).dense()
    n = symm.hom_dim(rx, ry)
    assert B.shape == (n, ry.size, rx.size)
    flat = B.reshape(n, ry.size * rx.size)
    np.testing.assert_allclose(flat @ flat.T, np.eye(n), atol=1e-10)
    mx, my = all_matrices(rx), all_matrices(ry)
    for g in range(rx.group.order):
        np.testing.assert_allclose(my[g] @ B, B @ mx[g], atol=1e-10, err_msg=f"element {g}")
    # spans the whole commutant: its dimension is the nullity of the Kronecker system on the generators
    assert n == commutant_dim(rx.generator_images, ry.generator_images)


@pytest.mark.parametrize(
    "make",
    [
        lambda: groups.cyclic(6),
        lambda: groups.dihedral(5),
        groups.quaternion,
        lambda: groups.alternating(4),
        lambda: groups.dicyclic(3),
        lambda: groups.direct_product(groups.cyclic(3), groups.quaternion()),
    ],
    ids=["C6", "D5", "Q8", "A4", "Dic3", "C3xQ8"],
)
def test_end_of_regular_has_dimension_order(make):
    G = make()
    assert symm.hom_dim(G.regular_rep(), G.regular_rep()) == G.order
    assert symm.hom_dim(rotated(G.regular_rep(), 8), G.regular_rep()) == G.order


@pytest.mark.parametrize("n", [4, 5])
def test_symmetric_group_bell_numbers(n):
    """For the permutation rep V of S_n (n >= 4): dim Hom(V^⊗a, V^⊗b) = Bell(a + b): 2, 5, 15."""
    V = groups.symmetric(n).permutation_rep()
    VV = V.tensor(V)
    assert symm.hom_dim(V, V) == 2
    assert symm.hom_dim(V, VV) == 5
    assert symm.hom_dim(VV, V) == 5
    assert symm.hom_dim(VV, VV) == 15
    assert symm.hom_basis(VV, VV).shape == (15, n * n, n * n)


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8])
def test_dihedral_vertices_endomorphisms(n):
    """D_n on the n vertices: the commutant is spanned by the orbitals (pairs at distance 0..⌊n/2⌋)."""
    V = groups.dihedral(n).natural_rep("permutation")
    assert symm.hom_dim(V, V) == n // 2 + 1
    assert symm.hom_dim(rotated(V, n), V) == n // 2 + 1


# ---------------------------------------------------------------------- project_equivariant
def test_project_equivariant_is_the_group_average_numpy(pair, rng):
    rx, ry = pair
    A = rng.standard_normal((ry.size, rx.size))
    out = symm.project_equivariant(A, rx, ry)
    np.testing.assert_allclose(out, explicit_average(A, all_matrices(rx), all_matrices(ry)), atol=1e-10)


def test_project_equivariant_is_the_group_average(bpair, backend, rng):
    rx, ry = bpair
    A = rng.standard_normal((ry.size, rx.size))
    expected = explicit_average(A, all_matrices(rx), all_matrices(ry))
    out = symm.project_equivariant(backend.asarray(A), rx, ry)
    backend.check_array(out)
    backend.assert_close(out, expected, err_msg="R(A) vs the explicit average")


def test_project_equivariant_batched(bpair, backend, rng):
    rx, ry = bpair
    A = rng.standard_normal((2, 3, ry.size, rx.size))
    expected = explicit_average(A, all_matrices(rx), all_matrices(ry))
    out = symm.project_equivariant(backend.asarray(A), rx, ry)
    backend.check_array(out)
    assert tuple(out.shape) == (2, 3, ry.size, rx.size)
    backend.assert_close(out, expected)


def test_project_equivariant_idempotent_and_equivariant(bpair, backend, rng):
    rx, ry = bpair
    A = backend.asarray(rng.standard_normal((ry.size, rx.size)))
    R = symm.project_equivariant(A, rx, ry)
    RR = symm.project_equivariant(R, rx, ry)
    backend.assert_close(RR, R, err_msg="idempotent")
    r = backend.to_numpy(R)
    mx, my = all_matrices(rx), all_matrices(ry)
    scale = max(1.0, np.abs(r).max())
    for g in range(rx.group.order):
        np.testing.assert_allclose(my[g] @ r, r @ mx[g], atol=backend.atol * scale, err_msg=f"element {g}")


def test_project_equivariant_is_the_orthogonal_projection(pair, rng):
    """R(A) = Σ_b <B_b, A> B_b over the orthonormal hom_basis, and A - R(A) ⟂ Hom_G."""
    rx, ry = pair
    A = rng.standard_normal((ry.size, rx.size))
    B = symm.hom_basis(rx, ry).dense()
    R = symm.project_equivariant(A, rx, ry)
    np.testing.assert_allclose(R, np.tensordot(np.tensordot(B, A, axes=2), B, axes=1), atol=1e-10)
    np.testing.assert_allclose(np.tensordot(B, A - R, axes=2), 0.0, atol=1e-10)


def test_hom_basis_expand_and_project_are_the_dense_maps(pair, rng):
    """expand(θ) = Σ θ_k B_k and project(W) = (⟨B_k, W⟩)_k, against the dense stack; expand∘project = R."""
    rx, ry = pair
    B = symm.hom_basis(rx, ry)
    dense = B.dense()
    theta = rng.standard_normal((2, len(B)))
    np.testing.assert_allclose(B.expand(theta), np.einsum("bk,kij->bij", theta, dense), atol=1e-10)
    W = rng.standard_normal((3, ry.size, rx.size))
    np.testing.assert_allclose(B.project(W), np.einsum("kij,bij->bk", dense, W), atol=1e-10)
    np.testing.assert_allclose(B.expand(B.project(W)), symm.project_equivariant(W, rx, ry), atol=1e-10)
    for k in range(len(B)):
        np.testing.assert_allclose(B[k], dense[k], atol=1e-12)
    np.testing.assert_array_equal(np.asarray(B), dense)


def test_hom_basis_on_every_backend(backend, rng):
    G = groups.dicyclic(3)
    rx, ry = rotated(G.regular_rep(), 3), G.natural_rep("quaternion") * 2
    B = symm.hom_basis(rx, ry)
    W = rng.standard_normal((ry.size, rx.size))
    theta = B.project(backend.asarray(W))
    backend.check_array(theta)
    out = B.expand(theta)
    backend.check_array(out)
    backend.assert_close(out, symm.project_equivariant(W, rx, ry))


def test_hom_basis_is_factored_and_small():
    """C8 regular × 64 (D = 512): the dense stack would take 68 GB; the basis takes O(D²)."""
    import tracemalloc

    rep = groups.cyclic(8).regular_rep() * 64
    _ = rep.isotypic_components
    tracemalloc.start()
    try:
        B = symm.hom_basis(rep, rep)
        A = B.expand(np.ones(len(B)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert B.shape == (32768, 512, 512)
    assert peak < 64 * 2**20
    np.testing.assert_allclose(rep(1) @ A, A @ rep(1), atol=1e-9)


def test_hom_basis_ndarray_attributes_warn():
    B = symm.hom_basis(groups.cyclic(3).regular_rep(), groups.cyclic(3).regular_rep())
    with pytest.warns(DeprecationWarning, match=r"\.dense\(\)"):
        flat = B.reshape(3, 9)
    np.testing.assert_array_equal(flat, B.dense().reshape(3, 9))
    with pytest.raises(ValueError, match=r"coefficients must have shape \(\.\.\., 3\)"):
        B.expand(np.ones(4))
    with pytest.raises(ValueError, match=r"W must have shape \(\.\.\., 3, 3\)"):
        B.project(np.ones((3, 4)))


def test_project_equivariant_keeps_every_endomorphism_coefficient():
    """An equivariant map built from the J (C-type) and the i, j, k (H-type) units is left unchanged."""
    for G, rep in [
        (groups.cyclic(5), groups.cyclic(5).regular_rep() * 2),
        (groups.quaternion(), groups.quaternion().natural_rep("quaternion") * 2),
    ]:
        rot = rotated(rep, 9)
        B = symm.hom_basis(rot, rot).dense()
        A = np.tensordot(np.random.default_rng(0).standard_normal(len(B)), B, axes=1)
        np.testing.assert_allclose(symm.project_equivariant(A, rot, rot), A, atol=1e-10)
        assert symm.hom_dim(rot, rot) == (20 if G.order == 5 else 16)  # C5: 2²·1 + 2·(2²·2); Q8: 2²·4


def test_project_equivariant_integer_input_is_promoted():
    rep = groups.cyclic(4).regular_rep()
    A = np.arange(16).reshape(4, 4)
    out = symm.project_equivariant(A, rep, rep)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, explicit_average(A.astype(float), rep.matrices(), rep.matrices()), atol=1e-12)


# ---------------------------------------------------------------------- invariant projector
@pytest.mark.parametrize(
    "make",
    [
        lambda: groups.dihedral(6).natural_rep("permutation"),
        lambda: rotated(groups.alternating(4).regular_rep(), 1),
        lambda: groups.quaternion().natural_rep("quaternion"),
        lambda: rotated(groups.cyclic(3).regular_rep() * 2, 2),
    ],
    ids=["D6-perm", "A4-rot(reg)", "Q8-quat (no invariants)", "C3-rot(reg*2)"],
)
def test_invariant_orthogonal_projector_is_the_average(make, backend):
    rep = make()
    expected = all_matrices(rep).mean(axis=0)
    P = symm.invariant_orthogonal_projector(rep, xp=backend.xp, device=backend.device, dtype=backend.dtype)
    backend.check_array(P)
    backend.assert_close(P, expected)


# ---------------------------------------------------------------------- errors
def test_reps_of_different_groups_are_rejected():
    a, b = groups.cyclic(4).regular_rep(), groups.cyclic(5).regular_rep()
    with pytest.raises(ValueError, match="rep_x and rep_y"):
        symm.hom_dim(a, b)
    with pytest.raises(ValueError, match="rep_x and rep_y"):
        symm.hom_basis(a, b)
    with pytest.raises(ValueError, match="rep_x and rep_y"):
        symm.project_equivariant(np.zeros((5, 4)), a, b)


def test_project_equivariant_bad_shape_and_type():
    rep = groups.cyclic(4).regular_rep()
    with pytest.raises(ValueError, match="A must have shape"):
        symm.project_equivariant(np.zeros((4, 3)), rep, rep)
    with pytest.raises(ValueError, match="A must have shape"):
        symm.project_equivariant(np.zeros(4), rep, rep)
    with pytest.raises(TypeError, match="A must hold real numbers"):
        symm.project_equivariant(np.zeros((4, 4), dtype=complex), rep, rep)
    with pytest.raises(TypeError, match="A must be an array"):
        symm.project_equivariant([[0.0] * 4] * 4, rep, rep)
    with pytest.raises(TypeError, match=r"rep_x must be a symm.Rep"):
        symm.hom_dim("regular", rep)
    with pytest.raises(TypeError, match=r"rep must be a symm.Rep"):
        symm.invariant_orthogonal_projector(np.eye(3))
