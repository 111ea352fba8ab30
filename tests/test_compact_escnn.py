"""escnn interop for the compact groups SO(2), O(2), SO(3), O(3) (DESIGN §8, issue 11 item 5).

``Group.from_escnn`` maps escnn's ``so2_group()`` … ``o3_group()`` to ``symm.groups.so2()`` … ``o3()``;
``Rep.from_escnn`` rebuilds a band-limited escnn rep exactly from its irrep ids and change of basis (no numerical
decomposition) and ``to_escnn`` exports back. Every matrix is compared with escnn's on escnn elements, through
their defining matrices (``symm._lie_irreps``), to 1e-12.

escnn needs numpy<2, so the escnn tests run in an environment of their own (see DESIGN §7); elsewhere they are
skipped with the reason. The duck-typed tests at the top run everywhere.
"""

from __future__ import annotations

import sys
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from _escnn import eg, needs_escnn

import symm
from symm import _lie_irreps, groups

KINDS = ("so2", "o2", "so3", "o3")
TOL = 1e-12


def _symm_group(kind):
    return getattr(groups, kind)()


def _block_diagonal(rep, m):
    """``⊕ ρ̂_i(m)`` over ``rep.irreps`` in the order of Q's columns."""
    out = np.zeros((rep.size, rep.size))
    pos = 0
    for irr in rep.irreps:
        out[pos : pos + irr.dim, pos : pos + irr.dim] = irr(m)
        pos += irr.dim
    return out


def _assert_decomposition(rep, elements):
    """``rep.change_of_basis`` meets symm's contract: orthogonal, components in canonical order, contiguous
    copies-major slices, ``Qᵀ ρ(g) Q = ⊕ ρ̂(g)``."""
    q = rep.change_of_basis
    np.testing.assert_allclose(q.T @ q, np.eye(rep.size), atol=1e-12)
    comps = rep.isotypic_components
    keys = [rep.group.irrep_sort_key(c.irrep) for c in comps]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    pos = 0
    for c in comps:
        assert c.slice == slice(pos, pos + c.multiplicity * c.irrep.dim)
        pos = c.slice.stop
    assert pos == rep.size
    for m in elements:
        np.testing.assert_allclose(q.T @ rep(m) @ q, _block_diagonal(rep, m), atol=1e-12)


# ---------------------------------------------------------------------- duck-typed, without escnn
class _FakeElement:
    def __init__(self, group, matrix):
        self.group, self.matrix = group, np.asarray(matrix, dtype=np.float64)


class _FakeSO3:
    """Just enough of escnn's SO(3) for ``from_escnn``: ``name``, ``continuous`` and ``element(M, 'MAT')``."""

    name = "SO(3)"
    continuous = True

    def element(self, value, param):
        assert param == "MAT"
        return _FakeElement(self, value)


class _FakeRep:
    """An escnn-like rep ``Q (⊕ irreps) Qᵀ`` of :class:`_FakeSO3`, its matrices computed from symm's irreps."""

    def __init__(self, group, ids, q, name="fake"):
        self.group, self.irreps, self.change_of_basis, self.name = group, ids, q, name
        self.size = q.shape[0]

    def __call__(self, element):
        so3 = groups.so3()
        blocks = [so3.irrep(i[0])(element.matrix) for i in self.irreps]
        out = np.zeros((self.size, self.size))
        pos = 0
        for b in blocks:
            out[pos : pos + len(b), pos : pos + len(b)] = b
            pos += len(b)
        return self.change_of_basis @ out @ self.change_of_basis.T


@pytest.fixture
def fresh_so3(monkeypatch):
    """symm's SO(3) with no escnn group remembered (restored afterwards)."""
    G = groups.so3()
    monkeypatch.setattr(G, "_escnn_group", None)
    return G


def test_duck_typed_so3_maps_to_symm_so3_and_regroups_columns(fresh_so3):
    fake = _FakeSO3()
    assert symm.Group.from_escnn(fake) is fresh_so3
    assert fresh_so3._escnn_group is fake
    ids = [(2,), (0,), (1,), (2,), (0,)]
    size = sum(2 * i[0] + 1 for i in ids)
    q = np.linalg.qr(np.random.default_rng(3).standard_normal((size, size)))[0]
    rep = symm.Rep.from_escnn(_FakeRep(fake, ids, q))
    assert rep.group is fresh_so3
    assert [irr.id for irr in rep.irreps] == [0, 0, 1, 2, 2]
    assert [(c.irrep.id, c.multiplicity) for c in rep.isotypic_components] == [(0, 2), (1, 1), (2, 2)]
    # escnn's columns, in symm's order: trivial copies (escnn's copies 1, 4), l = 1 (copy 2), l = 2 (copies 0, 3)
    starts = np.cumsum([0] + [2 * i[0] + 1 for i in ids])
    expected = np.concatenate([q[:, starts[c] : starts[c + 1]] for c in (1, 4, 2, 0, 3)], axis=1)
    np.testing.assert_array_equal(rep.change_of_basis, expected)
    _assert_decomposition(rep, fresh_so3.sample(5, seed=0))


def test_duck_typed_rep_with_other_matrices_is_refused(fresh_so3):
    fake = _FakeSO3()

    class _Wrong(_FakeRep):
        def __call__(self, element):
            return element.matrix  # the defining matrix, but irrep 1 with Q = I is Pᵀ M P

    with pytest.raises(ValueError, match="differ from those of its irreps"):
        symm.Rep.from_escnn(_Wrong(fake, [(1,)], np.eye(3)))


def test_non_orthogonal_change_of_basis_is_refused(fresh_so3):
    fake = _FakeSO3()
    q = np.eye(4)
    q[0, 1] = 0.5
    with pytest.raises(ValueError, match="orthogonal change_of_basis"):
        symm.Rep.from_escnn(_FakeRep(fake, [(0,), (1,)], q))


def test_unsupported_continuous_group_is_refused_by_name():
    fake = SimpleNamespace(name="Cylindrical", continuous=True)
    with pytest.raises(ValueError, match="'Cylindrical' is continuous"):
        symm.Group.from_escnn(fake)


def test_compact_to_escnn_without_escnn_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "escnn", None)
    monkeypatch.setitem(sys.modules, "escnn.group", None)
    with pytest.raises(ImportError, match="pip install escnn"):
        groups.so3().irrep(1).to_escnn()


# ---------------------------------------------------------------------- with escnn
def _escnn_group(kind, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(eg, f"{kind}_group")(**kwargs)


def _elements(G, n=20, seed=0):
    """``n`` escnn elements: some of escnn's testing elements and some Haar-random ones from symm."""
    kind = _lie_irreps._escnn_kind(G)
    testing = list(G.testing_elements())
    pick = np.random.default_rng(seed).choice(len(testing), size=n // 2, replace=False)
    out = [testing[i] for i in sorted(pick)]
    for m in _symm_group(kind).sample(n - len(out), seed=seed):
        out.append(_lie_irreps.escnn_element_of_defining_matrix(G, m))
    return out


def _assert_same_matrices(symm_rep, escnn_rep, elements, tol=TOL):
    kind = symm_rep.group._kind
    for g in elements:
        m = _lie_irreps.defining_matrix_of_escnn_element(kind, g)
        np.testing.assert_allclose(symm_rep(m), escnn_rep(g), atol=tol, rtol=0, err_msg=str(g))


def _expected_q(symm_group, escnn_rep):
    """escnn's change of basis with its irrep columns permuted into symm's order."""
    kind = symm_group._kind
    irreps = [symm_group.irrep(_lie_irreps.normalise_id(kind, i)) for i in escnn_rep.irreps]
    starts = np.cumsum([0] + [irr.dim for irr in irreps])
    order = sorted(range(len(irreps)), key=lambda c: (symm_group.irrep_sort_key(irreps[c]), c))
    q = np.asarray(escnn_rep.change_of_basis)
    return np.concatenate([q[:, starts[c] : starts[c + 1]] for c in order], axis=1), [irreps[c].id for c in order]


def _escnn_id(kind, symm_id):
    return (symm_id,) if kind in ("so2", "so3") else tuple(symm_id)


def _check_from_escnn(escnn_rep, elements):
    """from_escnn keeps escnn's matrices, ids and (permuted) change of basis; to_escnn round-trips."""
    rep = symm.Rep.from_escnn(escnn_rep)
    sg = rep.group
    assert rep._decomposition is not None  # set directly, never computed
    _assert_same_matrices(rep, escnn_rep, elements)
    q, ids = _expected_q(sg, escnn_rep)
    np.testing.assert_array_equal(rep.change_of_basis, q)
    assert [irr.id for irr in rep.irreps] == ids
    assert sorted(_escnn_id(sg._kind, i) for i in ids) == sorted(map(tuple, escnn_rep.irreps))
    _assert_decomposition(rep, [_lie_irreps.defining_matrix_of_escnn_element(sg._kind, g) for g in elements[:5]])
    back = rep.to_escnn()
    assert back.group is escnn_rep.group
    assert list(back.irreps) == [_escnn_id(sg._kind, i) for i in ids]
    for g in elements:
        np.testing.assert_allclose(back(g), escnn_rep(g), atol=TOL, rtol=0)
    again = symm.Rep.from_escnn(back)
    np.testing.assert_array_equal(again.change_of_basis, rep.change_of_basis)
    return rep


@needs_escnn
@pytest.mark.parametrize("kind", KINDS)
def test_group_from_escnn_is_symms_group(kind):
    sg = _symm_group(kind)
    for kwargs in ({}, {"maximum_frequency": 3}):
        G = _escnn_group(kind, **kwargs)
        assert symm.Group.from_escnn(G) is sg
        assert sg.to_escnn().name == G.name
    assert sg.to_escnn() is _escnn_group(kind)  # escnn keeps one object per group
    assert not sg.is_finite and sg.order is None


@needs_escnn
@pytest.mark.parametrize("kind", KINDS)
def test_irreps_up_to_band_4(kind):
    G = _escnn_group(kind)
    elements = _elements(G)
    for escnn_id in G.bl_irreps(4):
        rep = _check_from_escnn(G.irrep(*escnn_id), elements)
        assert len(rep.irreps) == 1
        assert rep.irreps[0] is rep.group.irrep(_lie_irreps.normalise_id(kind, escnn_id))
        np.testing.assert_array_equal(rep.change_of_basis, np.eye(rep.size))
        # and symm's own irrep exports to escnn's
        back = rep.irreps[0].to_escnn()
        assert list(back.irreps) == [tuple(escnn_id)]
        for g in elements[:5]:
            np.testing.assert_allclose(back(g), G.irrep(*escnn_id)(g), atol=TOL, rtol=0)


@needs_escnn
@pytest.mark.parametrize("kind", KINDS)
def test_direct_sums_with_a_random_change_of_basis(kind):
    G = _escnn_group(kind)
    elements = _elements(G, seed=1)
    irreps = list(G.bl_irreps(3))
    rng = np.random.default_rng(7)
    ids = [irreps[i] for i in rng.permutation(len(irreps))] + [irreps[-1], irreps[0], irreps[1], irreps[-1]]
    size = sum(G.irrep(*i).size for i in ids)
    eye = eg.Representation(G, f"sum_eye_{kind}", ids, np.eye(size))
    _check_from_escnn(eye, elements)
    P = np.linalg.qr(rng.standard_normal((size, size)))[0]
    rot = eg.Representation(G, f"sum_rot_{kind}", ids, P)
    _check_from_escnn(rot, elements)
    # escnn's directsum of representations with their own changes of basis
    summed = eg.directsum([rot, G.standard_representation(), G.bl_regular_representation(1)], name=f"ds_{kind}")
    _check_from_escnn(summed, elements)


@needs_escnn
@pytest.mark.parametrize("kind", KINDS)
def test_standard_and_band_limited_regular_reps(kind):
    G = _escnn_group(kind)
    sg = _symm_group(kind)
    elements = _elements(G, seed=2)
    std = _check_from_escnn(G.standard_representation(), elements)
    defining = sg.natural_rep("defining")
    for g in elements:
        m = _lie_irreps.defining_matrix_of_escnn_element(kind, g)
        np.testing.assert_allclose(std(m), m, atol=TOL, rtol=0)
        np.testing.assert_allclose(defining(m), m, atol=TOL, rtol=0)
    np.testing.assert_allclose(std.generator_images, defining.generator_images, atol=TOL)
    reg = _check_from_escnn(G.bl_regular_representation(2), elements)
    assert reg.size == G.bl_regular_representation(2).size


@needs_escnn
@pytest.mark.parametrize("kind", KINDS)
def test_tensor_products(kind):
    G = _escnn_group(kind)
    elements = _elements(G, seed=3)
    std = G.standard_representation()
    _check_from_escnn(std.tensor(std), elements)
    top = G.bl_irreps(2)[-1]
    _check_from_escnn(G.irrep(*top).tensor(std), elements)
    _check_from_escnn(G.bl_regular_representation(1).tensor(std), elements)


@needs_escnn
def test_field_types():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import escnn.gspaces as gspaces
            import escnn.nn as enn
        except Exception as err:  # pragma: no cover - escnn.nn needs torch
            pytest.skip(f"escnn.nn is not importable: {err}")
        spaces = {
            "so2": gspaces.rot2dOnR2(N=-1, maximum_frequency=4),
            "o2": gspaces.flipRot2dOnR2(N=-1, maximum_frequency=4),
            "so3": gspaces.rot3dOnR3(maximum_frequency=2),
            "o3": gspaces.flipRot3dOnR3(maximum_frequency=2),
        }
    for kind, gspace in spaces.items():
        G = gspace.fibergroup
        ft = enn.FieldType(gspace, [G.standard_representation(), gspace.trivial_repr, G.bl_regular_representation(1)])
        rep = symm.Rep.from_escnn(ft)
        assert rep.group is _symm_group(kind)
        _assert_same_matrices(rep, ft.representation, _elements(G, seed=4))


@needs_escnn
@pytest.mark.parametrize("kind", KINDS)
def test_numerically_decomposed_rep_exports_and_matches_escnn(kind):
    """symm's own decomposition (plain images in a random basis, no escnn) agrees with escnn's: the same
    multiplicities, the same matrices, and the two changes of basis differ by an intertwiner."""
    G = _escnn_group(kind)
    for i in G.bl_irreps(6):  # escnn's Clebsch–Gordan decomposition only finds irreps already instantiated
        G.irrep(*i)
    sg = _symm_group(kind)
    elements = _elements(G, seed=5)
    std_e = G.standard_representation()
    defining = sg.natural_rep("defining")
    cases = [(defining.tensor(defining), std_e.tensor(std_e))]
    if kind in ("so3", "o3"):  # a larger product: (std ⊗ std) ⊗ irrep of band 2
        top = G.bl_irreps(2)[-1]
        irr = sg.irrep(_lie_irreps.normalise_id(kind, top))
        cases.append((defining.tensor(defining).tensor(irr), std_e.tensor(std_e).tensor(G.irrep(*top))))
    else:
        top = G.bl_irreps(3)[-1]
        irr = sg.irrep(_lie_irreps.normalise_id(kind, top))
        cases.append((defining.tensor(irr).tensor(defining), std_e.tensor(G.irrep(*top)).tensor(std_e)))
    for n, (plain, escnn_rep) in enumerate(cases):
        size = plain.size
        P = np.linalg.qr(np.random.default_rng(10 + n).standard_normal((size, size)))[0]
        ours = symm.Rep(sg, P @ plain.generator_images @ P.T)  # no decomposition given: symm computes it
        theirs_e = eg.Representation(G, f"rotated_{kind}_{n}", escnn_rep.irreps, P @ escnn_rep.change_of_basis)
        theirs = symm.Rep.from_escnn(theirs_e)
        _assert_same_matrices(ours, theirs_e, elements, tol=1e-11)
        np.testing.assert_allclose(ours.generator_images, theirs.generator_images, atol=1e-12)
        assert [(c.irrep.id, c.multiplicity) for c in ours.isotypic_components] == [
            (c.irrep.id, c.multiplicity) for c in theirs.isotypic_components
        ]
        ms = [_lie_irreps.defining_matrix_of_escnn_element(kind, g) for g in elements[:6]]
        _assert_decomposition(ours, ms)
        # C = Q_oursᵀ Q_escnn commutes with ⊕ ρ̂(g): an intertwiner, block diagonal over the components
        C = ours.change_of_basis.T @ theirs.change_of_basis
        np.testing.assert_allclose(C.T @ C, np.eye(size), atol=1e-10)
        for m in ms:
            B = _block_diagonal(ours, m)
            np.testing.assert_allclose(C @ B, B @ C, atol=1e-10)
        # and the export of symm's decomposition is escnn's rep
        back = ours.to_escnn()
        for g in elements:
            np.testing.assert_allclose(back(g), theirs_e(g), atol=1e-11, rtol=0)


@needs_escnn
def test_unsupported_escnn_continuous_group_is_refused():
    for make in (eg.cylinder_group, eg.full_cylinder_group):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = make(3)
        with pytest.raises(ValueError, match=f"{G.name!r} is continuous"):
            symm.Group.from_escnn(G)
        with pytest.raises(ValueError, match=f"{G.name!r} is continuous"):
            symm.Rep.from_escnn(G.trivial_representation)


@needs_escnn
def test_escnn_rep_with_a_non_orthogonal_change_of_basis_is_refused():
    G = _escnn_group("so2")
    q = np.eye(3)
    q[0, 1] = 0.5
    rep = eg.Representation(G, "skewed_so2", [(0,), (1,)], q)
    with pytest.raises(ValueError, match="orthogonal change_of_basis"):
        symm.Rep.from_escnn(rep)


@needs_escnn
def test_reps_from_escnn_pickle():
    import pickle

    G = _escnn_group("o3")
    rep = symm.Rep.from_escnn(G.bl_regular_representation(1))
    back = pickle.loads(pickle.dumps(rep))
    assert back.group is rep.group is groups.o3()
    np.testing.assert_array_equal(back.change_of_basis, rep.change_of_basis)
    assert [irr.id for irr in back.irreps] == [irr.id for irr in rep.irreps]
    assert all(a is b for a, b in zip(back.irreps, rep.irreps, strict=True))
