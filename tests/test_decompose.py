"""Oracle tests of the isotypic decomposition ``ρ(g) = Q (⊕_k I_{m_k} ⊗ ρ̂_k(g)) Qᵀ`` and of the irrep registry.

Expectations come from mathematics only: the defining identity checked on every group element, Serre's
character formula for the isotypic projectors with literature character tables (``_chartables.py``), the
orthogonality relations, the counting formulas (classes, ``Σ d²/s = |G|``) and the Frobenius–Schur
indicator.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from _chartables import (
    all_matrices,
    alternating4_table,
    alternating5_table,
    block_diagonal,
    conjugacy_classes,
    cyclic_table,
    dihedral_table,
    frobenius_schur,
    product_table,
    quaternion_table,
    real_irreps,
    rotated,
    symmetric4_table,
)

import symm
from symm import groups

TOL = 1e-10


# ---------------------------------------------------------------------- the reps under test
def _mirror_robot() -> symm.Rep:
    """A quadruped's 12 joint angles (4 legs × [hip abduction, hip flexion, knee]); the sagittal mirror swaps
    left and right legs (LF<->RF, LH<->RH) and flips the sign of the abduction angles."""
    swap = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=float)
    signs = np.diag([-1.0, 1.0, 1.0])
    return symm.Rep.from_generators([np.kron(swap, signs)], name="quadruped mirror")


def _mirror_robot_two_planes() -> symm.Rep:
    """The same robot with the sagittal and the transversal (front <-> hind) mirrors: C2 × C2."""
    sag = np.kron(np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]), np.diag([-1, 1, 1]))
    tra = np.kron(np.array([[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0]]), np.diag([1, -1, -1]))
    return symm.Rep.from_generators(np.stack([sag, tra]).astype(float), name="quadruped 2 mirrors")


def _cases() -> dict[str, callable]:
    c5, c8, d5, d6 = groups.cyclic(5), groups.cyclic(8), groups.dihedral(5), groups.dihedral(6)
    s3, s4, a4, a5 = groups.symmetric(3), groups.symmetric(4), groups.alternating(4), groups.alternating(5)
    q8, dic3, dic4 = groups.quaternion(), groups.dicyclic(3), groups.dicyclic(4)
    c3q8 = groups.direct_product(groups.cyclic(3), q8)
    c2s3 = groups.direct_product(groups.cyclic(2), s3)
    return {
        # regular reps (every irrep, multiplicity d/s)
        "C5-regular": c5.regular_rep,
        "C8-regular": c8.regular_rep,
        "D5-regular": d5.regular_rep,
        "D6-regular": d6.regular_rep,
        "S4-regular": s4.regular_rep,
        "A4-regular": a4.regular_rep,
        "A5-regular": a5.regular_rep,
        "Q8-regular": q8.regular_rep,
        "Dic3-regular": dic3.regular_rep,
        "Dic4-regular": dic4.regular_rep,
        "C3xQ8-regular": c3q8.regular_rep,
        "C2xS3-regular": c2s3.regular_rep,
        "C1-regular": groups.cyclic(1).regular_rep,
        "D1-regular": groups.dihedral(1).regular_rep,
        "D2-regular": groups.dihedral(2).regular_rep,
        # natural reps
        "C8-rotation": lambda: c8.natural_rep("rotation"),
        "D6-permutation": lambda: d6.natural_rep("permutation"),
        "D5-standard": lambda: d5.natural_rep("standard"),
        "S4-permutation": s4.permutation_rep,
        "S4-standard": lambda: s4.natural_rep("standard"),
        "A5-permutation": a5.permutation_rep,
        "Q8-quaternion": lambda: q8.natural_rep("quaternion"),
        "Dic3-quaternion": lambda: dic3.natural_rep("quaternion"),
        # direct sums with multiplicities > 1 (assembled from the summands)
        "C5-regular+regular+rotation": lambda: symm.direct_sum(
            c5.regular_rep(), c5.regular_rep(), c5.natural_rep("rotation")
        ),
        "Q8-quaternion*3+regular": lambda: symm.direct_sum(q8.natural_rep("quaternion") * 3, q8.regular_rep()),
        "A5-regular+permutation": lambda: symm.direct_sum(a5.regular_rep(), a5.permutation_rep()),
        # random orthogonal changes of basis: the numerical path
        "rot(C8-regular*3)": lambda: rotated(c8.regular_rep() * 3, 1),
        "rot(D6-regular*2)": lambda: rotated(d6.regular_rep() * 2, 2),
        "rot(S4-regular+standard)": lambda: rotated(s4.regular_rep() + s4.natural_rep("standard"), 3),
        "rot(A4-regular*2)": lambda: rotated(a4.regular_rep() * 2, 4),
        "rot(A5-regular)": lambda: rotated(a5.regular_rep(), 5),
        "rot(Q8-quaternion*2+regular)": lambda: rotated(q8.natural_rep("quaternion") * 2 + q8.regular_rep(), 6),
        "rot(Dic3-regular*2)": lambda: rotated(dic3.regular_rep() * 2, 7),
        "rot(C3xQ8-regular*2)": lambda: rotated(c3q8.regular_rep() * 2, 8),
        "rot(C5-rotation*3)": lambda: rotated(c5.natural_rep("rotation") * 3, 9),
        # reps of a group that is the closure of the rep's own generators
        "from_generators(quadruped mirror)": _mirror_robot,
        "from_generators(quadruped 2 mirrors)": _mirror_robot_two_planes,
        # tensor products
        "S3-standard⊗standard": lambda: s3.natural_rep("standard").tensor(s3.natural_rep("standard")),
        "S4-permutation⊗permutation": lambda: s4.permutation_rep().tensor(s4.permutation_rep()),
        "Q8-quaternion⊗quaternion": lambda: q8.natural_rep("quaternion").tensor(q8.natural_rep("quaternion")),
        "rot(Dic3-quaternion⊗regular)": lambda: rotated(dic3.natural_rep("quaternion").tensor(dic3.regular_rep()), 10),
        "A5-standard⊗standard": lambda: a5.natural_rep("standard").tensor(a5.natural_rep("standard")),
    }


CASES = _cases()


@pytest.fixture(params=list(CASES), ids=list(CASES))
def rep(request):
    return CASES[request.param]()


# ---------------------------------------------------------------------- the defining identity
def test_q_orthogonal_and_block_diagonalises_every_element(rep):
    Q = rep.change_of_basis
    assert Q.shape == (rep.size, rep.size)
    np.testing.assert_allclose(Q.T @ Q, np.eye(rep.size), atol=TOL)
    mats = all_matrices(rep)
    for g in range(rep.group.order):
        np.testing.assert_allclose(
            Q.T @ mats[g] @ Q, block_diagonal(rep, g), atol=TOL, err_msg=f"element {g} of {rep.group.name}"
        )


def test_component_layout(rep):
    comps = rep.isotypic_components
    # contiguous slices covering 0..D, trivial first, each irrep once, registry order
    assert comps[0].slice.start == 0 and comps[-1].slice.stop == rep.size
    for a, b in itertools.pairwise(comps):
        assert a.slice.stop == b.slice.start
    registry = rep.group.irreps()
    idx = [registry.index(c.irrep) for c in comps]
    assert idx == sorted(set(idx))
    assert all(c.multiplicity >= 1 for c in comps)
    assert sum(c.dim for c in comps) == rep.size
    # multiplicities from the character inner product: m_k = <χ_ρ, χ_k> / s_k
    chi = np.trace(all_matrices(rep), axis1=1, axis2=2)
    for irr in registry:
        chi_k = np.trace(all_matrices(irr), axis1=1, axis2=2)
        m = chi @ chi_k / rep.group.order / irr.endomorphism_dim
        assert abs(m - rep.multiplicity(irr)) < 1e-9, irr
    assert list(rep.irreps) == [c.irrep for c in comps for _ in range(c.multiplicity)]


# ---------------------------------------------------------------------- literature character tables
def _tables():
    c3, q8, c2 = groups.cyclic(3), groups.quaternion(), groups.cyclic(2)
    return {
        "C1": (groups.cyclic(1), lambda G: cyclic_table(G, 1)),
        "C2": (c2, lambda G: cyclic_table(G, 2)),
        "C5": (groups.cyclic(5), lambda G: cyclic_table(G, 5)),
        "C8": (groups.cyclic(8), lambda G: cyclic_table(G, 8)),
        "D3": (groups.dihedral(3), lambda G: dihedral_table(G, 3)),
        "D4": (groups.dihedral(4), lambda G: dihedral_table(G, 4)),
        "D5": (groups.dihedral(5), lambda G: dihedral_table(G, 5)),
        "D6": (groups.dihedral(6), lambda G: dihedral_table(G, 6)),
        "S4": (groups.symmetric(4), symmetric4_table),
        "A4": (groups.alternating(4), alternating4_table),
        "A5": (groups.alternating(5), alternating5_table),
        "Q8": (q8, quaternion_table),
        "C3xQ8": (
            groups.direct_product(c3, q8),
            lambda G: product_table(G, c3, q8, cyclic_table(c3, 3), quaternion_table(q8)),
        ),
        "C2xS4": (
            groups.direct_product(c2, groups.symmetric(4)),
            lambda G: product_table(
                G, c2, groups.symmetric(4), cyclic_table(c2, 2), symmetric4_table(groups.symmetric(4))
            ),
        ),
    }


TABLES = _tables()


@pytest.fixture(params=list(TABLES), ids=list(TABLES))
def tabled(request):
    G, make = TABLES[request.param]
    return G, real_irreps(G, make(G))


def _character(rep) -> np.ndarray:
    return np.trace(all_matrices(rep), axis1=1, axis2=2)


def test_literature_table_is_a_character_table(tabled):
    """Sanity of the oracle itself: the tabulated characters are orthonormal class functions, as many as
    there are classes computed from compose/inverse, with Σ dim² = |G|."""
    G, reals = tabled
    complex_irreps = [c for r in reals for c in r.constituents]
    classes = conjugacy_classes(G)
    assert len(complex_irreps) == len(classes)
    gram = np.array([[np.vdot(b.values, a.values) / G.order for b in complex_irreps] for a in complex_irreps])
    np.testing.assert_allclose(gram, np.eye(len(complex_irreps)), atol=1e-12)
    assert sum(c.dim**2 for c in complex_irreps) == G.order
    for c in complex_irreps:
        for cls in classes:
            vals = c.values[list(cls)]
            np.testing.assert_allclose(vals, vals[0], atol=1e-12)


def _match(G, reals):
    """Map each registered irrep to the literature real irrep with the same character."""
    out = {}
    for irr in G.irreps():
        chi = _character(irr)
        hits = [r for r in reals if np.allclose(r.chi, chi, atol=1e-9)]
        assert len(hits) == 1, f"irrep {irr.id} of {G.name}: character {np.round(chi, 3)} not in the table"
        out[irr.id] = hits[0]
    return out


def test_registry_matches_literature_table(tabled):
    """The registered irreps are exactly the literature's real irreps: same characters, dims and types."""
    G, reals = tabled
    match = _match(G, reals)
    assert sorted(r.name for r in match.values()) == sorted(r.name for r in reals)
    for irr in G.irreps():
        lit = match[irr.id]
        assert irr.dim == lit.dim
        assert irr.type == lit.type, f"irrep {irr.id}: type {irr.type}, Frobenius–Schur says {lit.type}"
        assert irr.endomorphism_dim == lit.s
    assert G.irreps()[0].dim == 1 and np.allclose(_character(G.irreps()[0]), 1.0)


def _serre_projector(rep, lit) -> np.ndarray:
    """Serre's formula summed over the complex constituents: ``Σ_χ (d_χ/|G|) Σ_g conj(χ(g)) ρ(g)``."""
    mats = all_matrices(rep)
    out = np.zeros((rep.size, rep.size), dtype=complex)
    for c in lit.constituents:
        out += c.dim / rep.group.order * np.tensordot(c.values.conj(), mats, axes=1)
    assert np.abs(out.imag).max() < 1e-10
    return out.real


def _tabled_reps(G):
    reps = [G.regular_rep(), rotated(G.regular_rep() * (2 if G.order <= 30 else 1), 11)]
    for name in G.natural_rep_names:
        reps.append(rotated(G.natural_rep(name) * 2, 12))
    return reps


def test_isotypic_projectors_equal_serre_formula(tabled):
    G, reals = tabled
    match = _match(G, reals)
    for rep in _tabled_reps(G):
        Q = rep.change_of_basis
        present = set()
        for c in rep.isotypic_components:
            lit = match[c.irrep.id]
            present.add(lit.name)
            qk = Q[:, c.slice]
            np.testing.assert_allclose(
                qk @ qk.T, _serre_projector(rep, lit), atol=TOL, err_msg=f"{rep.name}, irrep {c.irrep.id}"
            )
        for lit in reals:  # the literature irreps the rep does not contain project to zero
            if lit.name not in present:
                np.testing.assert_allclose(_serre_projector(rep, lit), 0.0, atol=TOL)


# ---------------------------------------------------------------------- counting and orthogonality
ALL_GROUPS = {
    "C1": lambda: groups.cyclic(1),
    "C2": lambda: groups.cyclic(2),
    "C7": lambda: groups.cyclic(7),
    "C12": lambda: groups.cyclic(12),
    "D1": lambda: groups.dihedral(1),
    "D2": lambda: groups.dihedral(2),
    "D3": lambda: groups.dihedral(3),
    "D8": lambda: groups.dihedral(8),
    "S3": lambda: groups.symmetric(3),
    "S4": lambda: groups.symmetric(4),
    "S5": lambda: groups.symmetric(5),
    "A3": lambda: groups.alternating(3),
    "A4": lambda: groups.alternating(4),
    "A5": lambda: groups.alternating(5),
    "Q8": groups.quaternion,
    "Dic3": lambda: groups.dicyclic(3),
    "Dic5": lambda: groups.dicyclic(5),
    "C3xQ8": lambda: groups.direct_product(groups.cyclic(3), groups.quaternion()),
    "D3xC4": lambda: groups.direct_product(groups.dihedral(3), groups.cyclic(4)),
    "mirror-robot": lambda: _mirror_robot_two_planes().group,
}


@pytest.fixture(params=list(ALL_GROUPS), ids=list(ALL_GROUPS))
def group(request):
    return ALL_GROUPS[request.param]()


def test_irrep_counts_and_orthogonality(group):
    irreps = group.irreps()
    chars = np.stack([_character(irr) for irr in irreps])
    s = np.array([irr.endomorphism_dim for irr in irreps])
    d = np.array([irr.dim for irr in irreps])
    # real characters: <χ_k, χ_l> = s_k δ_kl
    np.testing.assert_allclose(chars @ chars.T / group.order, np.diag(s), atol=1e-9)
    # each real irrep holds 1 (R, H) or 2 (C) complex irreps; those are as many as the conjugacy classes
    n_complex = sum(2 if irr.type == "C" else 1 for irr in irreps)
    assert n_complex == len(conjugacy_classes(group))
    assert round(np.sum(d**2 / s)) == group.order
    assert np.isclose(np.sum(d**2 / s), group.order)
    # C and H types have even / multiple-of-4 dims; the trivial irrep comes first
    for irr in irreps:
        assert irr.type == {1: "R", 2: "C", 4: "H"}[irr.endomorphism_dim]
        assert irr.dim % irr.endomorphism_dim == 0 or irr.type == "R"
    assert irreps[0].dim == 1 and np.allclose(chars[0], 1.0)
    # the irrep matrices are orthogonal and define homomorphisms (checked on every product)
    for irr in irreps:
        mats = all_matrices(irr)
        np.testing.assert_allclose(
            mats.transpose(0, 2, 1) @ mats, np.broadcast_to(np.eye(irr.dim), mats.shape), atol=1e-12
        )
        for a in range(group.order):
            for b in range(0, group.order, max(1, group.order // 7)):
                np.testing.assert_allclose(mats[a] @ mats[b], mats[group.compose(a, b)], atol=1e-10)


def test_types_match_frobenius_schur(group):
    """For the real character χ_R of a real irrep, ν = (1/|G|) Σ χ_R(g²) is 1 (R: χ_R = χ), 0 (C: χ_R = χ + χ̄,
    ν(χ) = ν(χ̄) = 0) or -2 (H: χ_R = 2χ, ν(χ) = -1); and <χ_R, χ_R> is 1, 2, 4."""
    expected = {"R": 1.0, "C": 0.0, "H": -2.0}
    for irr in group.irreps():
        chi = _character(irr)
        assert abs(frobenius_schur(group, chi) - expected[irr.type]) < 1e-9, irr
        assert abs(chi @ chi / group.order - irr.endomorphism_dim) < 1e-9


# ---------------------------------------------------------------------- endomorphism bases (escnn convention)
J2 = np.array([[0.0, -1.0], [1.0, 0.0]])
# escnn's quaternion units (escnn.group.IrreducibleRepresentation.endomorphism_basis): 1, i, j, k as 4×4
H_UNITS = np.array(
    [
        np.eye(4),
        [[0, 0, 0, -1], [0, 0, 1, 0], [0, -1, 0, 0], [1, 0, 0, 0]],
        [[0, 0, -1, 0], [0, 0, 0, -1], [1, 0, 0, 0], [0, 1, 0, 0]],
        [[0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, -1, 0]],
    ],
    dtype=float,
)

ENDO_GROUPS = ["C7", "C12", "A4", "Q8", "Dic3", "Dic5", "C3xQ8", "D8"]


@pytest.mark.parametrize("name", ENDO_GROUPS)
def test_endomorphism_basis_convention(name):
    G = ALL_GROUPS[name]()
    for irr in G.irreps():
        E = irr.endomorphism_basis
        d = irr.dim
        assert E.shape == (irr.endomorphism_dim, d, d)
        np.testing.assert_array_equal(E[0], np.eye(d))
        if irr.type == "C":
            np.testing.assert_allclose(E[1], np.kron(J2, np.eye(d // 2)), atol=0)
        if irr.type == "H":
            for b in range(4):
                np.testing.assert_allclose(E[b], np.kron(H_UNITS[b], np.eye(d // 4)), atol=0)
        # orthogonal, mutually Frobenius-orthogonal, commuting with every irrep matrix
        for b in range(len(E)):
            np.testing.assert_allclose(E[b].T @ E[b], np.eye(d), atol=1e-14)
            for c in range(b + 1, len(E)):
                assert abs(np.sum(E[b] * E[c])) < 1e-14
        for m in all_matrices(irr):
            for e in E:
                np.testing.assert_allclose(m @ e, e @ m, atol=1e-10)
        # and they span the whole commutant of the irrep
        from _chartables import commutant_dim

        assert commutant_dim(irr.generator_images, irr.generator_images) == len(E)


def test_h_units_are_a_quaternion_algebra():
    """The unit convention is a quaternion algebra: i² = j² = k² = -1 and i j = ±k consistently."""
    i, j, k = H_UNITS[1:]
    for u in (i, j, k):
        np.testing.assert_array_equal(u @ u, -np.eye(4))
    sign = np.sum((i @ j) * k) / 4
    assert sign in (1.0, -1.0)
    np.testing.assert_array_equal(i @ j, sign * k)
    np.testing.assert_array_equal(j @ k, sign * i)
    np.testing.assert_array_equal(k @ i, sign * j)


# ---------------------------------------------------------------------- invariance and determinism
@pytest.mark.parametrize(
    "make",
    [
        lambda: groups.cyclic(8).regular_rep() * 2 + groups.cyclic(8).natural_rep("rotation"),
        lambda: groups.quaternion().regular_rep() + groups.quaternion().natural_rep("quaternion"),
        lambda: groups.alternating(5).permutation_rep() * 2 + groups.alternating(5).natural_rep("standard"),
        lambda: groups.direct_product(groups.cyclic(3), groups.quaternion()).regular_rep(),
    ],
    ids=["C8", "Q8", "A5", "C3xQ8"],
)
def test_multiplicities_invariant_under_change_of_basis(make):
    rep = make()
    want = [(c.irrep.id, c.multiplicity) for c in rep.isotypic_components]
    for seed in range(3):
        r = rotated(rep, 100 + seed)
        assert [(c.irrep.id, c.multiplicity) for c in r.isotypic_components] == want


@pytest.mark.parametrize("name", ["C12", "Q8", "A5", "C3xQ8", "D8"])
def test_decomposition_is_deterministic(name):
    G = ALL_GROUPS[name]()
    images = rotated(G.regular_rep() * (2 if G.order <= 30 else 1), 21).generator_images
    a = symm.Rep(G, images.copy())
    b = symm.Rep(G, images.copy())
    assert a is not b
    np.testing.assert_array_equal(a.change_of_basis, b.change_of_basis)
    assert [(c.irrep.id, c.multiplicity, c.slice) for c in a.isotypic_components] == [
        (c.irrep.id, c.multiplicity, c.slice) for c in b.isotypic_components
    ]


def test_change_basis_keeps_the_decomposition_valid():
    G = groups.dicyclic(3)
    rep = G.regular_rep() * 2
    P = np.linalg.qr(np.random.default_rng(3).normal(size=(24, 24)))[0]
    new = rep.change_basis(P)
    mats = all_matrices(new)
    Q = new.change_of_basis
    for g in range(G.order):
        np.testing.assert_allclose(Q.T @ mats[g] @ Q, block_diagonal(new, g), atol=TOL)
        np.testing.assert_allclose(mats[g], P @ all_matrices(rep)[g] @ P.T, atol=1e-12)


def test_isotypic_subspaces_follow_a_change_of_basis():
    """The isotypic projectors are intrinsic: those of P ρ Pᵀ are P (Q_k Q_kᵀ) Pᵀ."""
    G = groups.alternating(4)
    rep = G.regular_rep() * 2
    p = np.linalg.qr(np.random.default_rng(5).normal(size=(rep.size, rep.size)))[0]
    new = symm.Rep(G, p @ rep.generator_images @ p.T)
    Q, Qn = rep.change_of_basis, new.change_of_basis
    for c, cn in zip(rep.isotypic_components, new.isotypic_components, strict=False):
        assert c.irrep is cn.irrep and c.multiplicity == cn.multiplicity
        np.testing.assert_allclose(
            p @ Q[:, c.slice] @ Q[:, c.slice].T @ p.T, Qn[:, cn.slice] @ Qn[:, cn.slice].T, atol=TOL
        )


# ---------------------------------------------------------------------- the large-group path
@pytest.mark.parametrize(
    "make",
    [
        lambda: rotated(groups.quaternion().regular_rep() * 2, 31),
        lambda: rotated(groups.cyclic(5).regular_rep() * 2, 32),
        lambda: rotated(groups.symmetric(4).regular_rep(), 33),
        lambda: rotated(groups.symmetric(4).regular_rep() * 2, 1),  # was off by 3.6e-10 before the fix
        lambda: rotated(groups.cyclic(8).regular_rep() * 6, 1),  # was off by 8.2e-11
        lambda: rotated(groups.direct_product(groups.cyclic(3), groups.quaternion()).regular_rep(), 34),
    ],
    ids=["Q8", "C5", "S4", "S4x2", "C8x6", "C3xQ8"],
)
def test_random_walk_commutant_path_is_exact(make, monkeypatch):
    """Force the generator-walk commutant sampler (used when the Reynolds average is too expensive)."""
    import symm._decompose as dec

    monkeypatch.setattr(dec, "_REYNOLDS_FLOP_BUDGET", 0)
    rep = make()
    Q = rep.change_of_basis
    mats = all_matrices(rep)
    np.testing.assert_allclose(Q.T @ Q, np.eye(rep.size), atol=TOL)
    for g in range(rep.group.order):
        np.testing.assert_allclose(Q.T @ mats[g] @ Q, block_diagonal(rep, g), atol=TOL, err_msg=f"element {g}")


def test_group_beyond_registry_limit_registers_irreps_on_demand():
    """S6 (720 elements) is above the size where the registry is filled from the regular rep."""
    G = groups.symmetric(6)
    std = G.natural_rep("standard")
    rep = rotated(std.tensor(std), 41)
    # V⊗V for the standard rep V of S_n (n >= 4) has 4 distinct constituents, each once: <χ², χ²> = 4
    chi = _character(rep)
    assert abs(chi @ chi / G.order - 4) < 1e-9
    assert [c.multiplicity for c in rep.isotypic_components] == [1, 1, 1, 1]
    assert rep.isotypic_components[0].irrep is G.irreps()[0]
    mats = all_matrices(rep)
    Q = rep.change_of_basis
    for g in range(0, G.order, 7):
        np.testing.assert_allclose(Q.T @ mats[g] @ Q, block_diagonal(rep, g), atol=TOL)


@pytest.mark.parametrize(
    ("make", "applications"),
    [
        (lambda: groups.dihedral(6), 6),  # through ⟨rotation⟩ (6 elements) and its 2 cosets: 5 + 1
        (lambda: groups.cyclic(8), 7),  # one generator: every element
        (lambda: groups.symmetric(4), None),
        (lambda: groups.alternating(5), None),
        (lambda: groups.direct_product(groups.cyclic(3), groups.quaternion()), None),
        (lambda: groups.direct_product(groups.dihedral(3), groups.dihedral(4)), None),
        # six generators: every subset is planned once, and the split is a chain of index-2 subgroups
        (lambda: functools.reduce(groups.direct_product, [groups.cyclic(2)] * 6), 6),
    ],
    ids=["D6", "C8", "S4", "A5", "C3xQ8", "D3xD4", "C2^6"],
)
def test_group_average_through_cosets_equals_the_sum_over_elements(make, applications):
    """The coset-split average of an action given on generators equals the plain average over every element,
    with fewer applications than elements."""
    from symm._walk import group_average

    G = make()
    gens = G.regular_rep().generator_images
    x = np.random.default_rng(G.order).standard_normal((G.order, G.order))
    mats = all_matrices(G.regular_rep())
    calls = []

    def conjugate(s, y):
        calls.append(s)
        return gens[s] @ y @ gens[s].T

    got = group_average(G, conjugate, x)
    np.testing.assert_allclose(got, np.mean(mats @ x @ mats.transpose(0, 2, 1), axis=0), atol=1e-13)
    assert len(calls) == applications if applications is not None else len(calls) < G.order - 1
