"""The canonical irreps of SO(2), O(2), SO(3), O(3) (``symm._lie_irreps``): algebra checks in NumPy, and
equality with escnn's irreps on random elements where escnn is importable.

escnn needs numpy<2, so the comparisons run in the ``escnn`` nox session (see DESIGN §7); elsewhere they are
skipped with the reason, as in ``test_escnn_interop.py``.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

import numpy as np
import pytest
from _escnn import eg, needs_escnn

from symm._lie_irreps import (
    DISCRETE_GENERATORS,
    GROUPS,
    L1_CHANGE_OF_BASIS,
    LIE_BASIS,
    STRUCTURE_CONSTANTS,
    defining_matrix_of_escnn_element,
    endomorphism_basis,
    escnn_element_of_defining_matrix,
    irrep_ids,
    irrep_images,
    irrep_type,
)

BANDS = {"so2": 8, "o2": 8, "so3": 12, "o3": 8}
CASES = [(g, i) for g in GROUPS for i in irrep_ids(g, BANDS[g])]


def _expm_skew(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` for a real skew matrix, through the eigendecomposition of the Hermitian ``i·a``."""
    lam, v = np.linalg.eigh(1j * a)
    return ((v * np.exp(-1j * lam)) @ v.conj().T).real


def _n_lie(group: str) -> int:
    return LIE_BASIS[group].shape[0]


def _commutant_dim(images: np.ndarray) -> int:
    """Dimension of ``{T : T A = A T for every image A}``, as the nullspace of the stacked linear system."""
    d = images.shape[1]
    eye = np.eye(d)
    system = np.concatenate([np.kron(a, eye) - np.kron(eye, a.T) for a in images])
    s = np.linalg.svd(system, compute_uv=False)
    return int(np.sum(s <= 1e-9 * max(1.0, s[0])))


def _id_label(case):
    return f"{case[0]}-{case[1]}"


# ---------------------------------------------------------------------- the bases
@pytest.mark.parametrize("group", GROUPS)
def test_lie_basis_is_skew_with_its_structure_constants(group):
    basis, c = LIE_BASIS[group], STRUCTURE_CONSTANTS[group]
    np.testing.assert_array_equal(basis, -basis.transpose(0, 2, 1))
    for i, x in enumerate(basis):
        for j, y in enumerate(basis):
            np.testing.assert_array_equal(x @ y - y @ x, np.tensordot(c[i, j], basis, axes=1))
    gens = DISCRETE_GENERATORS[group]
    assert gens.shape[1:] == basis.shape[1:]
    for h in gens:
        np.testing.assert_array_equal(h.T @ h, np.eye(len(h)))


def test_fixed_conventions():
    np.testing.assert_array_equal(LIE_BASIS["so2"][0], [[0, -1], [1, 0]])
    lx, ly, lz = LIE_BASIS["so3"]
    np.testing.assert_array_equal(lx @ ly - ly @ lx, lz)
    np.testing.assert_allclose(
        _expm_skew(0.3 * LIE_BASIS["so2"][0]), [[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]]
    )
    np.testing.assert_array_equal(DISCRETE_GENERATORS["o2"], [np.diag([1.0, -1.0])])
    np.testing.assert_array_equal(DISCRETE_GENERATORS["o3"], [-np.eye(3)])
    assert DISCRETE_GENERATORS["so2"].shape == (0, 2, 2)
    assert DISCRETE_GENERATORS["so3"].shape == (0, 3, 3)


# ---------------------------------------------------------------------- the irreps, without escnn
@pytest.mark.parametrize("case", CASES, ids=_id_label)
def test_images_are_a_representation_of_the_lie_algebra_and_component_group(case):
    group, id = case
    images = irrep_images(group, id)
    n = _n_lie(group)
    assert images.dtype == np.float64
    assert images.shape[0] == n + len(DISCRETE_GENERATORS[group])
    lie, disc = images[:n], images[n:]
    np.testing.assert_allclose(lie, -lie.transpose(0, 2, 1), atol=0)
    c = STRUCTURE_CONSTANTS[group]
    scale = max(1.0, float(np.abs(lie).max()))
    for i in range(n):
        for j in range(n):
            bracket = lie[i] @ lie[j] - lie[j] @ lie[i]
            np.testing.assert_allclose(bracket, np.tensordot(c[i, j], lie, axes=1), atol=1e-13 * scale**2)
    d = images.shape[1]
    for h in disc:
        np.testing.assert_allclose(h.T @ h, np.eye(d), atol=1e-15)
        np.testing.assert_allclose(h @ h, np.eye(d), atol=1e-15)  # both discrete generators are involutions
    if group == "o2":
        f = disc[0]
        np.testing.assert_allclose(f @ lie[0] @ f, -lie[0], atol=1e-15)
    if group == "o3":
        inv = disc[0]
        p, _ = id
        np.testing.assert_array_equal(inv, (-1.0) ** p * np.eye(d))
        for x in lie:
            np.testing.assert_allclose(inv @ x, x @ inv, atol=0)


@pytest.mark.parametrize("case", CASES, ids=_id_label)
def test_dimension_casimir_and_weights(case):
    group, id = case
    images = irrep_images(group, id)
    lie = images[: _n_lie(group)]
    d = images.shape[1]
    if group in ("so3", "o3"):
        l = id if group == "so3" else id[1]
        assert d == 2 * l + 1
        casimir = -sum(x @ x for x in lie)
        np.testing.assert_allclose(casimir, l * (l + 1) * np.eye(d), atol=1e-12 * max(1, l * l))
        # weights of L_z: i·m for m = -l..l
        w = np.sort(np.linalg.eigvals(lie[2]).imag)
        np.testing.assert_allclose(w, np.arange(-l, l + 1), atol=1e-10)
    else:
        k = id if group == "so2" else id[1]
        assert d == (1 if k == 0 else 2)
        ev = np.sort(np.linalg.eigvals(lie[0]).imag)
        np.testing.assert_allclose(ev, [0.0] if k == 0 else [-k, k], atol=1e-14)
        np.testing.assert_allclose(np.linalg.eigvals(lie[0]).real, 0.0, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=_id_label)
def test_irreducible_with_the_endomorphism_basis_as_commutant(case):
    group, id = case
    images = irrep_images(group, id)
    d = images.shape[1]
    typ = irrep_type(group, id)
    endo = endomorphism_basis(group, id)
    s = {"R": 1, "C": 2}[typ]
    assert endo.shape == (s, d, d)
    assert _commutant_dim(images) == s
    np.testing.assert_array_equal(endo[0], np.eye(d))
    gram = np.einsum("aij,bij->ab", endo, endo) / d
    np.testing.assert_allclose(gram, np.eye(s), atol=1e-15)
    for e in endo:
        np.testing.assert_allclose(e.T @ e, np.eye(d), atol=1e-15)
        for a in images:
            np.testing.assert_allclose(e @ a, a @ e, atol=1e-13)
    expected_c = group == "so2" and id != 0
    assert (typ == "C") == expected_c
    if typ == "C":
        np.testing.assert_array_equal(endo[1], [[0.0, -1.0], [1.0, 0.0]])


def test_complex_unit_matches_symm_canonical_layout():
    from symm._canonical import endomorphism_basis as canonical_endo

    for k in (1, 2, 5):
        np.testing.assert_array_equal(endomorphism_basis("so2", k), canonical_endo("C", 2))
    np.testing.assert_array_equal(endomorphism_basis("so3", 3), canonical_endo("R", 7))


def test_degree_one_irreps_are_the_defining_reps():
    np.testing.assert_array_equal(irrep_images("so2", 1), LIE_BASIS["so2"])
    np.testing.assert_array_equal(
        irrep_images("o2", (1, 1)), np.concatenate([LIE_BASIS["o2"], DISCRETE_GENERATORS["o2"]])
    )
    p = L1_CHANGE_OF_BASIS
    np.testing.assert_array_equal(p.T @ p, np.eye(3))
    so3 = irrep_images("so3", 1)
    np.testing.assert_allclose(p @ so3 @ p.T, LIE_BASIS["so3"], atol=1e-15)
    o3 = irrep_images("o3", (1, 1))
    defining = np.concatenate([LIE_BASIS["o3"], DISCRETE_GENERATORS["o3"]])
    np.testing.assert_allclose(p @ o3 @ p.T, defining, atol=1e-15)
    # (0, 1) is the pseudovector: rotations as the defining rep, the inversion trivial
    np.testing.assert_array_equal(irrep_images("o3", (0, 1))[3], np.eye(3))
    # the real harmonics of degree 1 are the coordinates (y, z, x)
    np.testing.assert_array_equal(np.argmax(p, axis=0), [1, 2, 0])


def test_exponentials_of_images_compose_like_the_group():
    """ρ(exp(A)) ρ(exp(B)) only depends on the product exp(A) exp(B): checked on a degree-2 relation."""
    rng = np.random.default_rng(0)
    for l in (2, 5, 9):
        lie = irrep_images("so3", l)
        w = rng.normal(size=3)
        # a rotation by π about any axis n squares to I, and conjugation carries axes: R_n(θ) = R R_z(θ) Rᵀ
        n = w / np.linalg.norm(w)
        half_turn = _expm_skew(np.pi * np.tensordot(n, lie, axes=1))
        np.testing.assert_allclose(half_turn @ half_turn, np.eye(2 * l + 1), atol=1e-12)
        full = _expm_skew(2 * np.pi * np.tensordot(n, lie, axes=1))
        np.testing.assert_allclose(full, np.eye(2 * l + 1), atol=1e-12)


def test_irrep_ids_follow_escnn_band_limited_order():
    assert irrep_ids("so2", 2) == [0, 1, 2]
    assert irrep_ids("o2", 2) == [(0, 0), (1, 0), (1, 1), (1, 2)]
    assert irrep_ids("so3", 1) == [0, 1]
    assert irrep_ids("o3", 1) == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_escnn_style_one_tuples_are_accepted():
    np.testing.assert_array_equal(irrep_images("so3", (3,)), irrep_images("so3", 3))
    np.testing.assert_array_equal(irrep_images("so2", (2,)), irrep_images("so2", 2))
    assert irrep_images("so3", np.int64(2)).shape == (3, 5, 5)


def test_returned_arrays_are_fresh():
    a = irrep_images("so3", 2)
    a[:] = 0.0
    assert np.abs(irrep_images("so3", 2)).max() > 0


@pytest.mark.parametrize(
    ("group", "id", "err", "match"),
    [
        ("so2", -1, ValueError, r"so2 irrep id -1: expected an int k >= 0"),
        ("so2", 1.5, TypeError, r"so2 irrep id 1.5: expected an int k >= 0"),
        ("so2", True, TypeError, r"so2 irrep id True"),
        ("so2", (1, 2), TypeError, r"so2 irrep id \(1, 2\)"),
        ("o2", (0, 1), ValueError, r"o2 irrep id \(0, 1\): expected \(0, 0\), \(1, 0\) or \(1, k\)"),
        ("o2", (2, 1), ValueError, r"o2 irrep id \(2, 1\)"),
        ("o2", (1, -1), ValueError, r"o2 irrep id \(1, -1\)"),
        ("o2", 1, TypeError, r"o2 irrep id 1: expected \(0, 0\)"),
        ("so3", -2, ValueError, r"so3 irrep id -2: expected an int l >= 0"),
        ("so3", "1", TypeError, r"so3 irrep id '1'"),
        ("o3", (2, 1), ValueError, r"o3 irrep id \(2, 1\): expected \(p, l\) with p in \{0, 1\}"),
        ("o3", (0, -1), ValueError, r"o3 irrep id \(0, -1\)"),
        ("o3", (0, 1.0), TypeError, r"o3 irrep id \(0, 1.0\)"),
        ("su2", 1, ValueError, r"unknown group 'su2'"),
        (3, 1, TypeError, r"group must be one of"),
    ],
)
def test_invalid_ids_are_named(group, id, err, match):
    with pytest.raises(err, match=match):
        irrep_images(group, id)
    with pytest.raises(err, match=match):
        irrep_type(group, id)


def test_invalid_band():
    with pytest.raises(ValueError, match="band must be an int >= 0"):
        irrep_ids("so3", -1)


# ---------------------------------------------------------------------- element helpers, duck-typed
class _FakeElement:
    def __init__(self, values):
        self.values = values

    def to(self, param):
        return self.values[param]


class _FakeGroup:
    def __init__(self, name):
        self.name = name

    def element(self, value, param):
        return SimpleNamespace(value=value, param=param)


def test_defining_matrix_of_duck_typed_elements():
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[c, -s], [s, c]])
    np.testing.assert_allclose(defining_matrix_of_escnn_element("so2", _FakeElement({"radians": 0.7})), rot)
    el = _FakeElement({"radians": (1, 0.7)})
    np.testing.assert_allclose(defining_matrix_of_escnn_element("o2", el), rot @ np.diag([1.0, -1.0]))
    r3 = _expm_skew(np.tensordot([0.3, -0.2, 1.1], LIE_BASIS["so3"], axes=1))
    np.testing.assert_allclose(defining_matrix_of_escnn_element("so3", _FakeElement({"MAT": r3})), r3)
    np.testing.assert_allclose(defining_matrix_of_escnn_element("o3", _FakeElement({"MAT": (1, r3)})), -r3)


def test_escnn_element_of_duck_typed_groups():
    c, s = np.cos(2.0), np.sin(2.0)
    rot = np.array([[c, -s], [s, c]])
    e = escnn_element_of_defining_matrix(_FakeGroup("SO(2)"), rot)
    assert e.param == "radians" and np.isclose(e.value, 2.0)
    e = escnn_element_of_defining_matrix(_FakeGroup("O(2)"), rot @ np.diag([1.0, -1.0]))
    assert e.param == "radians" and e.value[0] == 1 and np.isclose(e.value[1], 2.0)
    r3 = _expm_skew(np.tensordot([0.3, -0.2, 1.1], LIE_BASIS["so3"], axes=1))
    e = escnn_element_of_defining_matrix(_FakeGroup("O(3)"), -r3)
    assert e.param == "MAT" and e.value[0] == 1
    np.testing.assert_allclose(e.value[1], r3)
    e = escnn_element_of_defining_matrix(_FakeGroup("SO(3)"), r3)
    np.testing.assert_allclose(e.value, r3)
    with pytest.raises(ValueError, match="determinant -1"):
        escnn_element_of_defining_matrix(_FakeGroup("SO(3)"), -r3)
    with pytest.raises(ValueError, match="not orthogonal"):
        escnn_element_of_defining_matrix(_FakeGroup("SO(2)"), 2 * rot)
    with pytest.raises(ValueError, match="expected a 3x3 matrix"):
        escnn_element_of_defining_matrix(_FakeGroup("O(3)"), rot)
    with pytest.raises(ValueError, match="expected an escnn SO"):
        escnn_element_of_defining_matrix(_FakeGroup("D4"), rot)


# ---------------------------------------------------------------------- against escnn
_ESCNN_MAKERS = {
    "so2": lambda: eg.so2_group(6),
    "o2": lambda: eg.o2_group(6),
    "so3": lambda: eg.so3_group(8),
    "o3": lambda: eg.o3_group(6),
}
_ESCNN_BANDS = {"so2": 6, "o2": 6, "so3": 8, "o3": 6}
ESCNN_CASES = [(g, i) for g in GROUPS for i in irrep_ids(g, _ESCNN_BANDS[g])]


@cache
def _escnn_group(group: str):
    return _ESCNN_MAKERS[group]()


def _escnn_irrep(G, id):
    return G.irrep(*(id if isinstance(id, tuple) else (id,)))


def _random_elements(group: str, n: int, seed: int):
    """``n`` pairs (ω, f): Lie coordinates and a discrete exponent, and the defining matrix exp(Σ ω_i X_i) h^f."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(n):
        w = rng.normal(size=_n_lie(group)) * 1.5
        f = int(t % 2) if len(DISCRETE_GENERATORS[group]) else 0
        m = _expm_skew(np.tensordot(w, LIE_BASIS[group], axes=1))
        if f:
            m = m @ DISCRETE_GENERATORS[group][0]
        out.append((w, f, m))
    return out


@needs_escnn
@pytest.mark.parametrize("case", ESCNN_CASES, ids=_id_label)
def test_irrep_images_equal_escnn_irreps(case):
    group, id = case
    G = _escnn_group(group)
    erep = _escnn_irrep(G, id)
    images = irrep_images(group, id)
    n = _n_lie(group)
    for w, f, m in _random_elements(group, 20, seed=ESCNN_CASES.index(case)):
        ours = _expm_skew(np.tensordot(w, images[:n], axes=1))
        if f:
            ours = ours @ images[n]
        g = escnn_element_of_defining_matrix(G, m)
        np.testing.assert_allclose(defining_matrix_of_escnn_element(group, g), m, atol=1e-13)
        np.testing.assert_allclose(ours, erep(g), atol=1e-12, rtol=0, err_msg=f"{group} {id} ω={w} f={f}")
    assert irrep_type(group, id) == erep.type
    np.testing.assert_allclose(endomorphism_basis(group, id), erep.endomorphism_basis(), atol=1e-15)


@needs_escnn
@pytest.mark.parametrize("group", GROUPS)
def test_standard_representation_and_escnn_testing_elements(group):
    G = _escnn_group(group)
    std = G.standard_representation()
    std_id = {"so2": (1,), "o2": (1, 1), "so3": (1,), "o3": (1, 1)}[group]
    assert list(std.irreps) == [std_id]
    cob = L1_CHANGE_OF_BASIS if group in ("so3", "o3") else np.eye(2)
    np.testing.assert_allclose(std.change_of_basis, cob, atol=0)
    assert [i if isinstance(i, tuple) and len(i) == 2 else (i,) for i in irrep_ids(group, 2)] == list(G.bl_irreps(2))
    for g in G.testing_elements():  # escnn's own deterministic grid of elements
        m = defining_matrix_of_escnn_element(group, g)
        np.testing.assert_allclose(std(g), m, atol=1e-13)
        back = escnn_element_of_defining_matrix(G, m)
        for id in irrep_ids(group, 3):
            erep = _escnn_irrep(G, id)
            np.testing.assert_allclose(erep(back), erep(g), atol=1e-12)
