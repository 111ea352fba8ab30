"""Interop with escnn: ``Rep.from_escnn`` keeps escnn's irrep ids and change of basis; ``to_escnn`` round-trips.

escnn needs numpy<2, so these tests run in an environment of their own (see DESIGN §7); elsewhere they are
skipped with the reason. ``to_escnn`` without escnn must raise an ImportError naming the pip command.
"""

from __future__ import annotations

import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from _chartables import all_matrices, block_diagonal
from _escnn import eg, needs_escnn

import symm
from symm import groups


def test_to_escnn_without_escnn_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "escnn", None)
    monkeypatch.setitem(sys.modules, "escnn.group", None)
    with pytest.raises(ImportError, match="pip install escnn"):
        groups.cyclic(3).regular_rep().to_escnn()


# ---------------------------------------------------------------------- with escnn
def _escnn_groups():
    if eg is None:
        return {}
    return {
        "cyclic(5)": lambda: eg.cyclic_group(5),
        "cyclic(6)": lambda: eg.cyclic_group(6),
        "dihedral(3)": lambda: eg.dihedral_group(3),
        "dihedral(4)": lambda: eg.dihedral_group(4),
    }


ESCNN_GROUPS = _escnn_groups()


def _escnn_reps(G):
    """Reps of an escnn group: the regular rep, a direct sum of irreps (identity change of basis) and a
    direct sum of irreps with a random orthogonal change of basis."""
    irreps = G.irreps()
    reps = [G.regular_representation]
    ids = [irr.id for irr in irreps] + [irreps[-1].id, irreps[0].id, irreps[-1].id]
    size = sum(G.irrep(*i).size for i in ids)
    reps.append(eg.Representation(G, f"sum_{G.name}", ids, np.eye(size)))
    P = np.linalg.qr(np.random.default_rng(0).standard_normal((size, size)))[0]
    reps.append(eg.Representation(G, f"sum_rot_{G.name}", ids, P))
    return reps


@needs_escnn
@pytest.mark.parametrize("gname", list(ESCNN_GROUPS))
def test_from_escnn_keeps_ids_change_of_basis_and_matrices(gname):
    G = ESCNN_GROUPS[gname]()
    for erep in _escnn_reps(G):
        rep = symm.Rep.from_escnn(erep)
        sg = rep.group
        assert sg.order == G.order()
        # escnn's irrep ids and matrices are the registry
        assert sorted(map(str, (irr.id for irr in sg.irreps()))) == sorted(map(str, (i.id for i in G.irreps())))
        from symm._escnn import escnn_element

        for g in range(sg.order):
            eg_g = escnn_element(sg, g)
            np.testing.assert_allclose(rep(g), erep(eg_g), atol=1e-10, err_msg=f"element {g}")
            for irr in sg.irreps():
                np.testing.assert_allclose(all_matrices(irr)[g], G.irrep(*irr.id)(eg_g), atol=1e-10)
        # Q: escnn's change of basis, columns permuted into isotypic order (registry order, escnn's copy order)
        q_escnn = np.asarray(erep.change_of_basis)
        offsets = np.cumsum([0] + [G.irrep(*i).size for i in erep.irreps])
        registry = [irr.id for irr in sg.irreps()]
        order = sorted(range(len(erep.irreps)), key=lambda c: (registry.index(erep.irreps[c]), c))
        expected = np.concatenate([q_escnn[:, offsets[c] : offsets[c + 1]] for c in order], axis=1)
        np.testing.assert_allclose(rep.change_of_basis, expected, atol=1e-12)
        # and it is a valid decomposition
        Q = rep.change_of_basis
        mats = all_matrices(rep)
        for g in range(sg.order):
            np.testing.assert_allclose(Q.T @ mats[g] @ Q, block_diagonal(rep, g), atol=1e-10)


@needs_escnn
@pytest.mark.parametrize("gname", list(ESCNN_GROUPS))
def test_to_escnn_round_trip(gname):
    G = ESCNN_GROUPS[gname]()
    from symm._escnn import escnn_element

    for erep in _escnn_reps(G):
        rep = symm.Rep.from_escnn(erep)
        back = rep.to_escnn()
        assert back.group is G
        for g in range(rep.group.order):
            np.testing.assert_allclose(back(escnn_element(rep.group, g)), rep(g), atol=1e-10)
        again = symm.Rep.from_escnn(back)
        np.testing.assert_allclose(again.change_of_basis, rep.change_of_basis, atol=1e-12)
    # a rep that symm decomposed numerically exports too
    sg = symm.Group.from_escnn(G)
    P = np.linalg.qr(np.random.default_rng(1).standard_normal((sg.order * 2,) * 2))[0]
    reg2 = sg.regular_rep() * 2
    num = symm.Rep(sg, P @ reg2.generator_images @ P.T)
    back = num.to_escnn()
    for g in range(sg.order):
        np.testing.assert_allclose(back(escnn_element(sg, g)), num(g), atol=1e-10)


@needs_escnn
def test_group_from_escnn_is_cached_and_to_escnn_returns_it():
    G = eg.dihedral_group(5)
    assert symm.Group.from_escnn(G) is symm.Group.from_escnn(G)
    assert symm.Group.from_escnn(G).to_escnn() is G


@needs_escnn
@pytest.mark.parametrize("make", [lambda: eg.cyclic_group(6), lambda: eg.dihedral_group(3)], ids=["C6", "D3"])
def test_reps_of_escnn_groups_pickle(make):
    """escnn's own groups do not pickle; symm rebuilds them from escnn's keys."""
    import pickle

    rep = symm.Rep.from_escnn(make().regular_representation)
    back = pickle.loads(pickle.dumps(rep))
    assert back.group is rep.group
    np.testing.assert_array_equal(back.change_of_basis, rep.change_of_basis)
    assert [irr.id for irr in back.irreps] == [irr.id for irr in rep.irreps]


@needs_escnn
def test_to_escnn_of_a_non_escnn_group_raises():
    with pytest.raises(ValueError, match="not built from escnn"):
        groups.cyclic(5).regular_rep().to_escnn()
    with pytest.raises(ValueError, match="not built from escnn"):
        groups.cyclic(5).to_escnn()


@needs_escnn
def test_escnn_irrep_types_and_endomorphism_bases():
    for make in ESCNN_GROUPS.values():
        G = make()
        sg = symm.Group.from_escnn(G)
        for irr in sg.irreps():
            e = G.irrep(*irr.id)
            assert irr.type == e.type
            np.testing.assert_array_equal(irr.endomorphism_basis, e.endomorphism_basis())


@needs_escnn
@pytest.mark.parametrize("type_, d", [("C", 2), ("C", 4), ("H", 4), ("H", 8)])
def test_symm_endomorphism_convention_is_escnns(type_, d):
    """symm's own irreps (found numerically) use escnn's endomorphism basis for their type and size."""
    escnn_basis = eg.IrreducibleRepresentation.endomorphism_basis(SimpleNamespace(type=type_, size=d))
    candidates = [
        groups.cyclic(5),
        groups.quaternion(),
        groups.dicyclic(3),
        groups.direct_product(groups.cyclic(3), groups.quaternion()),
        groups.direct_product(groups.quaternion(), groups.symmetric(3)),
    ]
    found = [irr for G in candidates for irr in G.irreps() if irr.type == type_ and irr.dim == d]
    if not found:
        pytest.skip(f"no built-in group has a {d}-dimensional {type_}-type irrep")
    for irr in found:
        np.testing.assert_array_equal(irr.endomorphism_basis, escnn_basis)


@needs_escnn
def test_escnn_quaternionic_group_if_any():
    """escnn's finite groups that could carry quaternionic irreps; skip if escnn has none."""
    makers = [getattr(eg, n) for n in ("ico_group", "octa_group", "klein4_group") if hasattr(eg, n)]
    for make in makers:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = make()
        if any(irr.type == "H" for irr in G.irreps()):
            rep = symm.Rep.from_escnn(G.regular_representation)
            assert any(irr.type == "H" for irr in rep.group.irreps())
            return
    pytest.skip("escnn has no finite group with quaternionic irreps (its finite groups are real or complex)")


@needs_escnn
def test_escnn_groups_with_equal_permutations_keep_their_own_registries():
    """escnn's C2 and D1 (and a symm group built from the same permutations) have the same regular
    permutations; each must keep its own irrep ids and its own escnn group."""
    c2, d1 = eg.cyclic_group(2), eg.dihedral_group(1)
    a, b = symm.Group.from_escnn(c2), symm.Group.from_escnn(d1)
    assert a.to_escnn() is c2 and b.to_escnn() is d1
    assert {irr.id for irr in a.irreps()} == {irr.id for irr in c2.irreps()}
    assert {irr.id for irr in b.irreps()} == {irr.id for irr in d1.irreps()}
    rep = symm.Rep.from_escnn(d1.regular_representation)
    assert {c.irrep.id for c in rep.isotypic_components} == {irr.id for irr in d1.irreps()}
    c4 = eg.cyclic_group(4)
    own = symm.Group.from_permutations([np.roll(np.arange(4), -1)])  # escnn's regular permutation of C4
    own.irreps()
    assert {irr.id for irr in symm.Group.from_escnn(c4).irreps()} == {irr.id for irr in c4.irreps()}
