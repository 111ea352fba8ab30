"""Groups and reps meet by content, not identity (DESIGN §9): reps built from images of corresponding generators
share one group; the intern table holds groups weakly and respects ``max_order``; infinite matrix groups are
refused cheaply; constructor arguments are validated."""

from __future__ import annotations

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import symm
from symm import _group, groups


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _d3_reps() -> tuple[symm.Rep, symm.Rep]:
    """The 2-D standard rep and the 3-point permutation rep of D3, each built from its own matrices."""
    standard = np.stack([_rotation(2 * np.pi / 3), np.diag([1.0, -1.0])])
    rot, flip = np.eye(3)[[1, 2, 0]], np.eye(3)[[0, 2, 1]]  # the images of D3's rotation and flip on 3 points
    return symm.Rep.from_generators(standard, name="std"), symm.Rep.from_generators([rot, flip], name="perm")


# ---------------------------------------------------------------------- reps meet by content
def test_reps_from_corresponding_generators_meet():
    ra, rb = _d3_reps()
    assert ra.group is not rb.group  # two group objects, same group
    assert ra.group.name == "Group(matrix, 2 generators, order 6)"
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 2)), rng.normal(size=(40, 3))
    G = groups.dihedral(3)
    std, perm = G.natural_rep("standard"), G.natural_rep("permutation")
    np.testing.assert_allclose(symm.cov(x, y, ra, rb), symm.cov(x, y, std, perm), atol=1e-12)
    np.testing.assert_allclose(symm.lstsq(x, y, ra, rb), symm.lstsq(x, y, std, perm), atol=1e-12)
    assert symm.hom_dim(ra, rb) == symm.hom_dim(rb, ra) == symm.hom_dim(std, perm) == 1
    assert symm.hom_dim(std, ra) == 1  # a built-in permutation group meets a matrix group too
    A = rng.normal(size=(3, 2))
    np.testing.assert_allclose(symm.project_equivariant(A, ra, rb), symm.project_equivariant(A, std, perm))
    B = symm.hom_basis(ra, rb)  # Q of the re-expressed rep_y, matching its components
    assert B.shape == (1, 3, 2)
    for s in range(2):
        np.testing.assert_allclose(rb.generator_images[s] @ B[0], B[0] @ ra.generator_images[s], atol=1e-12)
    est = symm.SymmetricMoments(ra, rb)
    est.update(x, y)
    np.testing.assert_allclose(est.cov(), symm.cov(x, y, std, perm), atol=1e-12)
    np.testing.assert_allclose(est.lstsq(), symm.lstsq(x, y, std, perm), atol=1e-12)
    s = symm.direct_sum(ra, rb)
    assert s.group is ra.group and s.size == 5
    assert [c.multiplicity for c in s.isotypic_components] == [1, 2]
    assert ra.tensor(rb).group is ra.group


def test_reexpressed_rep_is_cached_and_shares_the_registry():
    from symm._rep import common_group

    ra, rb = _d3_reps()
    _, moved = common_group(ra, rb)
    assert common_group(ra, rb)[1] is moved  # decomposition and plans are reused
    assert moved.group is ra.group
    np.testing.assert_array_equal(moved.generator_images, rb.generator_images)
    registry = ra.group.irreps()
    assert all(any(c.irrep is irr for irr in registry) for c in moved.isotypic_components)
    ref = weakref.ref(moved)
    del moved, rb
    gc.collect()
    assert ref() is None  # weakly keyed by the original rep


def test_concurrent_first_meeting_builds_one_reexpressed_rep():
    from symm._rep import common_group

    ra, rb = _d3_reps()
    barrier = threading.Barrier(8)
    found = []

    def meet():
        barrier.wait()
        found.append(common_group(ra, rb)[1])

    threads = [threading.Thread(target=meet) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and all(r is found[0] for r in found)


def test_non_corresponding_generators_are_refused():
    r6 = symm.Rep.from_generators([_rotation(2 * np.pi / 6)])
    r3 = symm.Rep.from_generators([_rotation(2 * np.pi / 3)])  # the square of r6's generator: C6 -> C3
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"generators do not correspond.*\b6\b.*\b3\b"):
        symm.cov(x, x, r6, r3)
    with pytest.raises(ValueError, match="rep_x and rep_y are reps of different groups"):
        symm.hom_dim(groups.cyclic(6).regular_rep(), groups.cyclic(5).regular_rep())
    with pytest.raises(ValueError, match=r"paired generators .* order 30"):
        symm.lstsq(np.zeros((4, 6)), np.zeros((4, 5)), groups.cyclic(6).regular_rep(), groups.cyclic(5).regular_rep())
    with pytest.raises(ValueError, match="1 generator and"):
        symm.direct_sum(groups.cyclic(6).regular_rep(), groups.dihedral(3).regular_rep())


def test_from_generators_with_a_group():
    G = groups.dihedral(3)
    images = G.natural_rep("standard").generator_images
    rep = symm.Rep.from_generators(images, group=G, name="std")
    assert rep.group is G and rep.name == "std"
    with pytest.raises(ValueError, match="one matrix per generator of D3 \\(2\\), got 1"):
        symm.Rep.from_generators(images[:1], group=G)
    with pytest.raises(ValueError, match="homomorphism"):
        symm.Rep.from_generators([images[0], np.eye(2)], group=G)
    with pytest.raises(TypeError, match=r"group must be a symm\.Group"):
        symm.Rep.from_generators(images, group="D3")
    with pytest.raises(ValueError, match="omit it when passing group"):
        symm.Rep.from_generators(images, group=G, max_order=10)


def test_caller_arrays_are_neither_aliased_nor_frozen():
    mats = np.stack([_rotation(np.pi / 2)])
    rep = symm.Rep.from_generators(mats)
    assert mats.flags.writeable
    mats[0] = np.eye(2)
    assert rep.group.order == 4 and not np.allclose(rep.generator_images[0], np.eye(2))


# ---------------------------------------------------------------------- the intern table
def test_unused_groups_are_collected():
    gc.collect()
    before = len(_group._GROUPS)
    refs = []
    for k in range(300):
        sigma = np.random.default_rng(k).permutation(12)
        p = np.empty(12, dtype=np.int64)
        p[sigma] = sigma[np.roll(np.arange(12), 1)]  # a 12-cycle, conjugated: a distinct group each time
        G = symm.Group.from_permutations([p])
        if k % 50 == 0:
            G.regular_rep()  # a group holding reps (a reference cycle) goes as well
            refs.append(weakref.ref(G))
    del G
    gc.collect()
    assert len(_group._GROUPS) <= before + 1
    assert all(r() is None for r in refs)


def test_built_in_groups_are_collected_after_use():
    def use() -> weakref.ref:
        G = groups.dihedral(7)
        rep = G.regular_rep() + G.natural_rep("standard")
        x = np.random.default_rng(0).normal(size=(10, rep.size))
        symm.cov(x, None, rep)
        symm.lstsq(x, x[:, :2], rep, G.natural_rep("standard"))
        assert groups.dihedral(7) is G  # interned while in use
        return weakref.ref(G)

    ref = use()
    gc.collect()
    assert ref() is None


def test_cached_group_respects_max_order():
    G = symm.Group.from_permutations([[1, 2, 0]])
    assert G.order == 3
    with pytest.raises(ValueError, match="finite group of order <= 2"):
        symm.Group.from_permutations([[1, 2, 0]], max_order=2)
    assert symm.Group.from_permutations([[1, 2, 0]], max_order=3) is G
    H = symm.Group.from_matrices([_rotation(np.pi / 2)])
    with pytest.raises(ValueError, match="finite group of order <= 3"):
        symm.Group.from_matrices([_rotation(np.pi / 2)], max_order=3)
    assert H.order == 4


def test_concurrent_first_use_builds_one_group():
    gens = [[1, 2, 3, 4, 5, 6, 0, 7], [0, 1, 2, 3, 4, 5, 7, 6]]  # C7 x C2, used by no other test
    barrier = threading.Barrier(8)
    found = []

    def build():
        barrier.wait()
        found.append(symm.Group.from_permutations(gens))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(found) == 8 and all(g is found[0] for g in found)


# ---------------------------------------------------------------------- infinite or too large matrix groups
def test_irrational_rotation_in_high_dimension_is_refused_quickly():
    m = np.eye(64)
    m[:2, :2] = _rotation(1.0)  # 1 radian: infinite order
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"matrices\[0\] has infinite order or order > max_order=100000.*1 rad"):
            symm.Rep.from_generators([m])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # O(D²); the closure took O(max_order · D²), 1.6 GB at D = 32


def test_infinite_product_of_finite_generators_is_refused():
    def mirror(angle: float) -> np.ndarray:
        c, s = np.cos(2 * angle), np.sin(2 * angle)
        return np.array([[c, s], [s, -c]])

    with pytest.raises(ValueError, match=r"matrices\[0\] @ matrices\[1\] has infinite order"):
        symm.Group.from_matrices([mirror(0.0), mirror(0.5)])  # two mirrors whose product turns by 1 radian


def test_too_large_and_non_finite_matrix_orders():
    big = np.zeros((4, 4))
    big[:2, :2], big[2:, 2:] = _rotation(2 * np.pi / 7), _rotation(2 * np.pi / 11)
    with pytest.raises(ValueError, match=r"order >= 77 > max_order=50"):
        symm.Group.from_matrices([big], max_order=50)
    assert symm.Group.from_matrices([big], max_order=77).order == 77
    with pytest.raises(ValueError, match=r"matrices\[0\] has infinite order: .*\^1 differs"):
        symm.Group.from_matrices([[[1.0, 1.0], [0.0, 1.0]]])  # a shear: eigenvalues 1, infinite order
    with pytest.raises(ValueError, match="singular"):
        symm.Group.from_matrices([[[1.0, 0.0], [0.0, 0.0]]])
    with pytest.raises(ValueError, match="modulus 2"):
        symm.Group.from_matrices([[[2.0, 0.0], [0.0, 1.0]]])
    S = np.array([[1.0, 2.0], [0.0, 1.0]])  # a finite group in a non-orthogonal basis still closes
    conj = S @ _rotation(2 * np.pi / 5) @ np.linalg.inv(S)
    assert symm.Group.from_matrices([conj]).order == 5


def test_closure_memory_budget(monkeypatch):
    monkeypatch.setattr(_group, "CLOSURE_MEMORY_BUDGET", 100 * 9 * 16)  # 100 elements of 9 points, with keys
    gens = [[1, 0, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8, 0]]  # S9: 362880 elements
    with pytest.raises(ValueError, match=r"CLOSURE_MEMORY_BUDGET.*100 elements.*max_order=100000"):
        symm.Group.from_permutations(gens)
    with pytest.raises(ValueError, match=r"cyclic\(31\) .* more than CLOSURE_MEMORY_BUDGET"):
        groups.cyclic(31)  # refused up front: 31 elements of 31 points
    assert groups.cyclic(30).order == 30


# ---------------------------------------------------------------------- argument validation
@pytest.mark.parametrize(
    "size, error", [(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_trivial_rep_size(size, error):
    with pytest.raises(error, match=f"size must be an integer >= 1, got {size!r}"):
        groups.cyclic(3).trivial_rep(size)


def test_from_permutations_refuses_non_integers():
    with pytest.raises(TypeError, match=r"non-integer entry 1.5 at index \(0, 0\)"):
        symm.Group.from_permutations([[1.5, 0]])
    with pytest.raises(TypeError, match="permutations must hold integers"):
        symm.Group.from_permutations([[True, False]])
    with pytest.raises(TypeError, match="permutations must hold integers"):
        symm.Group.from_permutations([["1", "0"]])
    assert symm.Group.from_permutations([[1.0, 0.0]]).order == 2  # integral floats are integers
    with pytest.raises(TypeError, match="max_order must be an integer"):
        symm.Group.from_permutations([[1, 0]], max_order=2.0)
    with pytest.raises(ValueError, match="max_order must be an integer >= 1, got 0"):
        symm.Group.from_matrices([np.eye(2)], max_order=0)
    with pytest.raises(TypeError, match="name must be a str"):
        symm.Group.from_permutations([[1, 0]], name=3)


CONSTRUCTORS = [groups.cyclic, groups.dihedral, groups.symmetric, groups.alternating, groups.dicyclic]


@pytest.mark.parametrize("call", CONSTRUCTORS)
@pytest.mark.parametrize("arg", [[3], (3,), 3.0, np.float64(3.0), "3", None, True, np.bool_(True), -2, 0])
def test_constructors_refuse_bad_arguments(call, arg):
    with pytest.raises(ValueError, match=r"n must be an integer >= \d, got "):
        call(arg)


@pytest.mark.parametrize(
    "call, arg, match",
    [
        (groups.cyclic, 10**6, r"cyclic\(1000000\) has order 1000000, more than DEFAULT_MAX_ORDER"),
        (groups.cyclic, 20000, r"cyclic\(20000\) .* more than CLOSURE_MEMORY_BUDGET"),
        (groups.dihedral, 10**5, r"dihedral\(100000\) has order 200000"),
        (groups.symmetric, 9, r"symmetric\(9\) has order 9!"),
        (groups.symmetric, 10**12, r"has order 1000000000000!"),
        (groups.alternating, 9, r"alternating\(9\) has order 9!/2"),
        (groups.dicyclic, 10**5, r"dicyclic\(100000\) has order 400000"),
    ],
)
def test_constructors_refuse_too_large_arguments(call, arg, match):
    """Refused from the arguments alone: no element is built (memory stays far below one group's tables)."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=match):
            call(arg)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_direct_product_arguments():
    with pytest.raises(TypeError, match=r"direct_product takes two symm\.Group objects, got Group and list"):
        groups.direct_product(groups.cyclic(2), [3])
    with pytest.raises(ValueError, match=r"direct_product\(C400, C400\) has order 160000"):
        groups.direct_product(groups.cyclic(400), groups.cyclic(400))
    G = groups.direct_product(groups.cyclic(2), groups.cyclic(3))
    assert G is groups.direct_product(groups.cyclic(2), groups.cyclic(3)) and G.order == 6


def test_assert_equivariant_and_merge_accept_groups_met_by_content():
    """assert_equivariant and SymmetricMoments.merge meet groups by content too, like cov and lstsq."""
    c, s = np.cos(2 * np.pi / 3), np.sin(2 * np.pi / 3)
    std = [np.array([[c, -s], [s, c]]), np.diag([1.0, -1.0])]
    perm = [np.eye(3)[[1, 2, 0]], np.eye(3)[[0, 2, 1]]]
    rep_std = symm.Rep.from_generators(std)
    rep_perm = symm.Rep.from_generators(perm)
    assert rep_std.group is not rep_perm.group
    # the invariant map R^3 -> R^2 that sums the points is zero on the standard part: 0 is equivariant
    symm.testing.assert_equivariant(lambda x: 0.0 * x[:, :2], rep_perm, rep_std, np.ones((2, 3)))
    other = symm.Rep(rep_perm.group, rep_std.generator_images)  # the same images on the other group object
    x = np.random.default_rng(0).standard_normal((20, 2))
    a, b = symm.SymmetricMoments(rep_std), symm.SymmetricMoments(other)
    merged = a.update(x[:12]).merge(b.update(x[12:]))
    np.testing.assert_allclose(merged.cov(), symm.cov(x, None, rep_std), atol=1e-12)
