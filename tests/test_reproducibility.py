"""The same numbers on every BLAS kernel, thread count, process and call order (DESIGN §9).

Each scenario runs in fresh processes: canonical irrep ids and matrices and every change of basis must agree
to 1e-12, and an object pickled in one process must compute the same function in another. Finite groups and
compact groups (SO(2), SO(3), O(3), SO(2) × C2, in random bases) alike.
"""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
from _backends import parse_selection
from _subprocess import run_python

import symm
from symm.testing import openblas_kernels

pytestmark = pytest.mark.skipif(
    "numpy" not in parse_selection(), reason="runs once, in the numpy session (backend-independent host maths)"
)

# Decomposes a fixed set of reps, in the order given by argv[2] ("forward" or "reverse"), and pickles
# {name: (irrep ids, irrep matrices, Q, the rep itself)} to argv[1].
DUMP = r"""
import pickle, sys
import numpy as np
import symm

def rotated(rep, seed):
    P = np.linalg.qr(np.random.default_rng(seed).standard_normal((rep.size, rep.size)))[0]
    return symm.Rep(rep.group, P @ rep.generator_images @ P.T)

D6 = symm.groups.dihedral(6)
Q8 = symm.groups.quaternion()
C8 = symm.groups.cyclic(8)
A6 = symm.groups.alternating(6)
std6 = A6.natural_rep("standard")
mirror = np.diag([1.0, -1.0, 1.0, 1.0])
swap = np.eye(4)[[2, 3, 0, 1]]
reps = {
    "D6 regular+standard": symm.direct_sum(D6.regular_rep(), D6.natural_rep("standard")),
    "D6 rotated": rotated(symm.direct_sum(D6.regular_rep(), D6.natural_rep("standard")), 1),
    "Q8 regular x2 rotated (H-type)": rotated(Q8.regular_rep() * 2, 2),
    "C8 regular x3 rotated (C-type)": rotated(C8.regular_rep() * 3, 3),
    "from generators": symm.Rep.from_generators([mirror, swap]),
    "A6 standard (x) standard (order 360)": std6.tensor(std6),
    "A6 permutation": A6.permutation_rep(),
}
SO2, SO3, O3 = symm.groups.so2(), symm.groups.so3(), symm.groups.o3()
vec3, vec_o3 = SO3.natural_rep("defining"), O3.natural_rep("defining")
reps.update({
    "SO(3) (vec + vec x vec) x2 rotated": rotated(symm.direct_sum(vec3, vec3.tensor(vec3)) * 2, 4),
    "SO(2) frequencies 1, 2 x3 rotated (C-type)": rotated(symm.direct_sum(*SO2.irreps_up_to(2)) * 3, 5),
    "O(3) vec x vec x vec rotated": rotated(vec_o3.tensor(vec_o3).tensor(vec_o3), 6),
    "SO(2) x C2 rotated": rotated(
        symm.direct_sum(*symm.groups.direct_product(SO2, symm.groups.cyclic(2)).irreps_up_to(2)) * 2, 7
    ),
})
names = list(reps) if sys.argv[2] == "forward" else list(reversed(reps))
out = {}
for name in names:
    rep = reps[name]
    Q = rep.change_of_basis
    irreps = rep.group.irreps() if rep.group.is_finite else [c.irrep for c in rep.isotypic_components]
    out[name] = ([i.id for i in irreps], [i.generator_images for i in irreps], Q, rep)
with open(sys.argv[1], "wb") as f:
    pickle.dump(out, f)
"""

# Loads a pickle written by DUMP and checks, against this process's own registry, that every pickled Q still
# block-diagonalises its rep; prints the worst error.
CHECK = r"""
import pickle, sys
import numpy as np
import symm

with open(sys.argv[1], "rb") as f:
    data = pickle.load(f)
worst = 0.0
for name, (_ids, _mats, _Q, rep) in data.items():
    Q = rep.change_of_basis
    for s, g in enumerate(rep.generator_images):
        blocks = np.zeros_like(g)
        for c in rep.isotypic_components:
            blocks[c.slice, c.slice] = np.kron(np.eye(c.multiplicity), c.irrep.generator_images[s])
        worst = max(worst, float(np.abs(Q.T @ g @ Q - blocks).max()))
    fresh = symm.Rep(rep.group, rep.generator_images).change_of_basis  # decomposed anew in this process
    worst = max(worst, float(np.abs(fresh - Q).max()))
print(worst)
"""


def _dump(tmp_path, tag: str, order: str = "forward", kernel: str | None = None, threads: int = 1) -> dict:
    path = tmp_path / f"{tag}.pkl"
    run_python(DUMP, str(path), order, kernel=kernel, threads=threads)
    with open(path, "rb") as f:
        return pickle.load(f)


def _assert_same(a: dict, b: dict, what: str) -> None:
    assert a.keys() == b.keys()
    for name in a:
        ids_a, mats_a, q_a, _ = a[name]
        ids_b, mats_b, q_b, _ = b[name]
        assert ids_a == ids_b, f"{what}: irrep ids of {name} differ: {ids_a} vs {ids_b}"
        for ma, mb in zip(mats_a, mats_b, strict=True):
            np.testing.assert_allclose(ma, mb, atol=1e-12, err_msg=f"{what}: irrep matrices of {name}")
        np.testing.assert_allclose(q_a, q_b, atol=1e-12, err_msg=f"{what}: change of basis of {name}")


def test_canonical_forms_agree_across_kernels_threads_and_call_order(tmp_path):
    reference = _dump(tmp_path, "reference")
    _assert_same(reference, _dump(tmp_path, "reverse-2threads", "reverse", threads=2), "reverse order, 2 threads")
    kernels = openblas_kernels()
    for kernel in kernels:
        _assert_same(reference, _dump(tmp_path, kernel, kernel=kernel), f"OPENBLAS_CORETYPE={kernel}")
    if not kernels:
        pytest.skip("no x86-64 /proc/cpuinfo: OpenBLAS kernels cannot be forced here (threads and order checked)")


def test_pickled_reps_compute_the_same_function_under_another_kernel(tmp_path):
    kernels = openblas_kernels() or [None]
    path = tmp_path / "dumped.pkl"
    run_python(DUMP, str(path), "forward", kernel=kernels[0])
    for kernel in [None, *kernels[1:]]:
        worst = float(run_python(CHECK, str(path), kernel=kernel, threads=2))
        assert worst < 1e-12, f"a pickled rep no longer block-diagonalises under kernel {kernel}: {worst:.2e}"


def test_large_group_rep_unpickles_in_a_fresh_process(tmp_path):
    """A6 (order 360 > 256): irrep ids must not depend on what a process decomposed first."""
    path = tmp_path / "a6.pkl"
    code = (
        "import pickle, sys, symm\n"
        "G = symm.groups.alternating(6); s = G.natural_rep('standard'); r = s.tensor(s); r.change_of_basis\n"
        "pickle.dump(r, open(sys.argv[1], 'wb'))\n"
    )
    run_python(code, str(path))
    check = (
        "import pickle, sys, numpy as np, symm\n"
        "r = pickle.load(open(sys.argv[1], 'rb'))\n"
        "x = np.random.default_rng(0).standard_normal((40, r.size))\n"
        "c = symm.cov(x, None, r)\n"
        "err = max(np.abs(r(g) @ c @ r(g).T - c).max() for g in range(r.group.order))\n"
        "ref = symm.cov(x, None, symm.Rep(r.group, r.generator_images))\n"
        "print(max(err, np.abs(c - ref).max()))\n"
    )
    assert float(run_python(check, str(path))) < 1e-12


def _first_use_cov(perms, x, barrier, results, errors, k):
    try:
        barrier.wait()
        G = symm.Group.from_permutations(perms)
        rep = symm.direct_sum(G.permutation_rep(), G.trivial_rep(x.shape[1] - len(perms[0])))
        results[k] = symm.cov(x, None, rep)
    except Exception as err:
        errors.append(err)


def test_registry_fills_once_under_concurrent_first_use():
    """16 threads use a fresh group for the first time at once: no error, one registry, identical results."""
    x = np.random.default_rng(0).standard_normal((30, 13))
    for n in (5, 7, 9):  # a fresh group each round
        perms = [np.roll(np.arange(n), 1), np.arange(n)[::-1]]
        results, errors = [None] * 16, []
        barrier = threading.Barrier(16)
        threads = [
            threading.Thread(target=_first_use_cov, args=(perms, x, barrier, results, errors, k)) for k in range(16)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        G = symm.Group.from_permutations(perms)
        assert sum(irr.dim**2 for irr in G.irreps()) == G.order  # D_n: every irrep real, registered once
        assert all(np.array_equal(r, results[0]) for r in results)


def test_failed_decomposition_is_cached(monkeypatch):
    from symm import _hooks

    calls = []

    def failing(rep):
        calls.append(rep)
        raise RuntimeError("isotypic decomposition of <rep> failed after 4 attempts: boom")

    rep = symm.Rep(symm.groups.cyclic(3), [np.eye(3)[[1, 2, 0]]])
    monkeypatch.setattr(_hooks.decompose_finite, "_function", failing)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="boom"):
            _ = rep.change_of_basis
    assert len(calls) == 1


@pytest.mark.parametrize("noise", [1e-9, 1e-7])
def test_noisy_generators_are_refused_at_construction_with_the_distance(noise):
    G = symm.groups.cyclic(8)
    reg = G.regular_rep() * 2
    P = np.linalg.qr(np.random.default_rng(0).standard_normal((16, 16)))[0]
    exact = P @ reg.generator_images @ P.T
    assert symm.Rep(G, exact).change_of_basis.shape == (16, 16)  # exact input decomposes
    noisy = exact + noise * np.random.default_rng(1).standard_normal(exact.shape)
    with pytest.raises(ValueError, match=r"generator_images\[0\] is not orthogonal: max \|MᵀM - I\| = .*at most 1e-10"):
        symm.Rep(G, noisy)
    # an orthogonal perturbation passes the orthogonality check and is caught as a homomorphism defect
    a = np.random.default_rng(2).standard_normal((16, 16))
    a = noise * (a - a.T) / 2
    rot = np.linalg.solve(np.eye(16) - a / 2, np.eye(16) + a / 2)  # Cayley transform: exactly orthogonal
    with pytest.raises(ValueError, match=r"do not define a homomorphism .* at most 1e-10"):
        symm.Rep(G, rot @ exact)


def test_slightly_perturbed_generators_within_tolerance_decompose():
    G = symm.groups.cyclic(8)
    reg = G.regular_rep() * 4
    P = np.linalg.qr(np.random.default_rng(0).standard_normal((32, 32)))[0]
    a = np.random.default_rng(2).standard_normal((32, 32))
    a = 1e-12 * (a - a.T) / 2
    rot = np.linalg.solve(np.eye(32) - a / 2, np.eye(32) + a / 2)
    rep = symm.Rep(G, rot @ P @ reg.generator_images @ P.T)
    Q = rep.change_of_basis
    blocks = np.zeros((32, 32))
    for c in rep.isotypic_components:
        blocks[c.slice, c.slice] = np.kron(np.eye(c.multiplicity), c.irrep.generator_images[0])
    assert np.abs(Q.T @ rep.generator_images[0] @ Q - blocks).max() < 1e-9


def test_open_registry_ids_are_content_keyed_and_unpickle_in_a_fresh_process(tmp_path):
    """S7 (order 5040) is too large to complete: its irreps get content ids, the same in every process."""
    path = tmp_path / "s7.pkl"
    code = (
        "import pickle, sys, symm\n"
        "G = symm.groups.symmetric(7); r = G.permutation_rep(); r.change_of_basis\n"
        "pickle.dump(r, open(sys.argv[1], 'wb')); print([c.irrep.id for c in r.isotypic_components])\n"
    )
    ids = run_python(code, str(path)).strip()
    check = (
        "import pickle, sys, numpy as np, symm\n"
        "G = symm.groups.symmetric(7); s = G.permutation_rep()\n"
        "(s.tensor(s)).change_of_basis  # this process meets more irreps first\n"
        "r = pickle.load(open(sys.argv[1], 'rb'))\n"
        "x = np.random.default_rng(0).standard_normal((20, 7))\n"
        "err = np.abs(symm.cov(x, None, r) - symm.cov(x, None, symm.Rep(G, r.generator_images))).max()\n"
        "print([c.irrep.id for c in r.isotypic_components], err)\n"
    )
    out = run_python(check, str(path)).strip()
    assert out.startswith(ids)
    assert float(out.rsplit(" ", 1)[1]) < 1e-12
    assert "7R-" not in ids and ids.startswith("[0, '6R-")
