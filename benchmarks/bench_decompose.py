"""Benchmark: time of symm's numerical isotypic decomposition, and escnn's when escnn is importable.

The input is a rep given only by generator images in a random orthogonal basis, ``P ρ(g) Pᵀ`` (built with
``symm.Rep(G, ...)`` so no known decomposition is reused): regular(C8)^k for D = 64 ... 2048, a D6 mix at
D = 1024 and a few other groups. Each timing builds a fresh ``Rep`` and reads ``change_of_basis`` (the
decomposition is cached per rep).
The accuracy column is ``max_g |Qᵀ ρ(g) Q - ⊕ I ⊗ ρ̂(g)|`` over every element.

Compact groups (SO(3): degrees l ≤ 6; SO(2): frequencies k ≤ 8; each with multiplicities, D = 512 ... 2048)
are given the same way, by their images ``P dρ(X_i) Pᵀ`` in a random orthogonal basis. Their ``|G|`` column
reads ``inf`` and their accuracy column is ``max_i |Qᵀ dρ(X_i) Q - ⊕ I ⊗ dρ̂(X_i)|`` over the Lie images
(and the discrete ones, for O(2)/O(3)): the images determine the rep, so this is the same check.

escnn (``escnn.group._numerical.decompose_representation_finitegroup``, the routine behind
``build_from_discrete_group_representation``) needs numpy<2; it is timed only up to ``--escnn-max-d``
because its cost grows like D^6.

Usage::

    python benchmarks/bench_decompose.py [--repeat 3] [--escnn-max-d 64] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import symm
from symm import groups

#: target of the decomposition's accuracy, max over elements (float64)
ERROR_TARGET = 1e-12


def _random_orthogonal(n: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _rotated_images(rep: symm.Rep, seed: int) -> np.ndarray:
    p = _random_orthogonal(rep.size, seed)
    return p @ rep.generator_images @ p.T


def _accuracy(rep: symm.Rep) -> float:
    if not rep.group.is_finite:
        return _accuracy_images(rep)
    q, mats = rep.change_of_basis, rep.matrices()
    err = 0.0
    for g in range(rep.group.order):
        blocks = np.zeros((rep.size, rep.size))
        for c in rep.isotypic_components:
            blocks[c.slice, c.slice] = np.kron(np.eye(c.multiplicity), c.irrep(g))
        err = max(err, float(np.abs(q.T @ mats[g] @ q - blocks).max()))
    return err


def _accuracy_images(rep: symm.Rep) -> float:
    """``max_i |Qᵀ A_i Q - ⊕ I ⊗ Â_i|`` over the images ``A_i`` (Lie, then discrete) of a compact group's rep."""
    q = rep.change_of_basis
    err = 0.0
    for i, image in enumerate(rep.generator_images):
        blocks = np.zeros((rep.size, rep.size))
        for c in rep.isotypic_components:
            blocks[c.slice, c.slice] = np.kron(np.eye(c.multiplicity), c.irrep.generator_images[i])
        err = max(err, float(np.abs(q.T @ image @ q - blocks).max()))
    return err


def _band_limited(group: symm.Group, band: int, copies: int, size: int) -> symm.Rep:
    """``copies`` of every irrep up to ``band``, plus trivial copies up to ``size``."""
    irreps = group.irreps_up_to(band)
    rep = symm.direct_sum(*[copies * irrep for irrep in irreps])
    if rep.size < size:
        rep = rep + group.trivial_rep(size - rep.size)
    if rep.size != size:
        raise ValueError(f"{copies} copies of the irreps up to {band} exceed D = {size}")
    return rep


def time_symm(group: symm.Group, images: np.ndarray, repeat: int) -> tuple[float, float]:
    if group.is_finite:
        group.irreps()  # the irrep registry is built once per group; not part of a decomposition
    best, rep = np.inf, None
    for _ in range(repeat):
        rep = symm.Rep(group, images)
        t0 = time.perf_counter()
        rep.change_of_basis  # noqa: B018 - triggers the decomposition
        best = min(best, time.perf_counter() - t0)
    return best, _accuracy(rep)


def _escnn():
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import escnn.group as eg
            from escnn.group._numerical import decompose_representation_finitegroup
    except Exception:
        return None
    return eg, decompose_representation_finitegroup


def time_escnn(escnn, kind: str, n: int, k: int, seed: int) -> float:
    """escnn's decomposition of the same kind of rep (regular^k of its own group, rotated)."""
    eg, decompose = escnn
    G = {"cyclic": eg.cyclic_group, "dihedral": eg.dihedral_group}[kind](n)
    reg = G.regular_representation
    d = reg.size * k
    p = _random_orthogonal(d, seed)
    mats = {g: p @ np.kron(np.eye(k), reg(g)) @ p.T for g in G.elements}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        decompose(mats, G)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--escnn-max-d", type=int, default=64)
    ap.add_argument("--quick", action="store_true", help="only D <= 64")
    args = ap.parse_args()

    c8 = groups.cyclic(8)
    cases = [("C8", "regular^8", c8, c8.regular_rep() * 8, ("cyclic", 8, 8))]
    if not args.quick:
        cases += [
            ("C8", "regular^32", c8, c8.regular_rep() * 32, ("cyclic", 8, 32)),
            ("C8", "regular^64", c8, c8.regular_rep() * 64, ("cyclic", 8, 64)),
            ("C8", "regular^128", c8, c8.regular_rep() * 128, None),
            ("C8", "regular^256", c8, c8.regular_rep() * 256, None),
        ]
    d6, s4, q8, a5 = groups.dihedral(6), groups.symmetric(4), groups.quaternion(), groups.alternating(5)
    if not args.quick:  # a block of high multiplicity: 256 invariant features beside regular copies
        cases.append(("D6", "regular^64+trivial^256", d6, d6.regular_rep() * 64 + d6.trivial_rep(256), None))
    c3q8 = groups.direct_product(groups.cyclic(3), q8)
    cases += [
        ("D6", "regular^4", d6, d6.regular_rep() * 4, ("dihedral", 6, 4)),
        ("S4", "regular^2", s4, s4.regular_rep() * 2, None),
        ("Q8", "regular^8", q8, q8.regular_rep() * 8, None),
        ("C3xQ8", "regular^2", c3q8, c3q8.regular_rep() * 2, None),
        ("A5", "regular", a5, a5.regular_rep(), None),
    ]
    if not args.quick:
        cases.append(("A5", "regular^4", a5, a5.regular_rep() * 4, None))

    # compact groups: band-limited sums of irreps with multiplicities, given by rotated Lie images
    so3, so2 = groups.so3(), groups.so2()
    compact = [(so3, 6, 1, 64), (so2, 8, 3, 64)]  # quick: l ≤ 6 once (D = 49) + 15 trivial; k ≤ 8 ×3 + 13
    if not args.quick:
        compact = [(so3, 6, 10, 512), (so3, 6, 20, 1024), (so3, 6, 40, 2048), (so2, 8, 30, 512), (so2, 8, 60, 1024)]
    for group, band, copies, size in compact:
        name = f"{group.band_name}≤{band} ×{copies}"
        cases.append((group.name, name, group, _band_limited(group, band, copies, size), None))

    escnn = _escnn()
    print(f"numpy {np.__version__}; escnn {'available' if escnn else 'not importable (needs numpy<2)'}")
    header = (
        f"{'group':>6} {'rep':>11} {'D':>5} {'|G|':>4} {'symm [s]':>9} {'max error':>10} {'escnn [s]':>10}  "
        f"error ≤ {ERROR_TARGET:.0e}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for gname, rname, group, rep, escnn_case in cases:
        images = _rotated_images(rep, seed=rep.size)
        t, err = time_symm(group, images, args.repeat if rep.size <= 256 else 1)
        e = "-"
        if escnn and escnn_case and rep.size <= args.escnn_max_d:
            e = f"{time_escnn(escnn, *escnn_case, seed=rep.size):10.3f}"
        result = "PASS" if err <= ERROR_TARGET else "FAIL"
        verdicts.append(result)
        order = "inf" if group.order is None else str(group.order)
        print(f"{gname:>6} {rname:>11} {rep.size:5d} {order:>4} {t:9.3f} {err:10.1e} {e:>10}  {result}")
    print(f"results: {verdicts.count('PASS')} PASS, {verdicts.count('FAIL')} FAIL")


if __name__ == "__main__":
    main()
