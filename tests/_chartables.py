"""Literature character tables, by conjugacy class, and the group theory needed to use them.

Everything here is computed from the group's multiplication (``Group.compose`` / ``Group.inverse`` /
``Group.word``) and from textbook character tables (James & Liebeck, *Representations and Characters of
Groups*, ch. 18-20; Serre, *Linear Representations of Finite Groups*, §5). Nothing is taken from symm's own
irrep registry: these are the oracles the registry is tested against.

A table is a list of :class:`ComplexIrrep` (complex irreducible characters, as functions on the elements).
:func:`real_irreps` turns it into the real irreducible characters: an R-type character stays, a C-type pair
``{χ, χ̄}`` becomes ``χ + χ̄``, and an H-type ``χ`` becomes ``2χ`` (Frobenius–Schur indicator 1, 0, -1).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

PHI = (1 + np.sqrt(5)) / 2  # the golden ratio
OMEGA = np.exp(2j * np.pi / 3)


# ---------------------------------------------------------------------- group theory from compose / inverse
def power(G, g: int, k: int) -> int:
    out = G.identity
    for _ in range(k):
        out = G.compose(out, g)
    return out


def conjugacy_classes(G) -> list[frozenset[int]]:
    """The conjugacy classes, from ``compose`` and ``inverse`` only."""
    seen: set[int] = set()
    classes = []
    for g in range(G.order):
        if g in seen:
            continue
        cls = frozenset(G.compose(G.compose(h, g), G.inverse(h)) for h in range(G.order))
        seen |= cls
        classes.append(cls)
    return classes


def class_of(classes: list[frozenset[int]], g: int) -> frozenset[int]:
    return next(c for c in classes if g in c)


def order_of(G, g: int) -> int:
    """Element order, by repeated composition (independent of ``Group.element_order``)."""
    k, h = 1, g
    while h != G.identity:
        h, k = G.compose(h, g), k + 1
    return k


@dataclass(frozen=True)
class ComplexIrrep:
    """A complex irreducible character of a group, tabulated on every element."""

    name: str
    values: np.ndarray  # complex, shape (order,)

    @property
    def dim(self) -> int:
        return round(self.values[0].real)


@dataclass(frozen=True)
class RealIrrep:
    """A real irreducible character: ``type`` R, C or H and its real character ``chi`` (shape (order,))."""

    name: str
    type: str
    chi: np.ndarray
    constituents: tuple[ComplexIrrep, ...]  # the complex irreps it contains (1, or the pair for C-type)

    @property
    def dim(self) -> int:
        return round(self.chi[0])

    @property
    def s(self) -> int:
        return {"R": 1, "C": 2, "H": 4}[self.type]


def frobenius_schur(G, chi: np.ndarray) -> complex:
    """``(1/|G|) Σ_g χ(g²)``."""
    return sum(chi[G.compose(g, g)] for g in range(G.order)) / G.order


def real_irreps(G, table: list[ComplexIrrep]) -> list[RealIrrep]:
    """Real irreducible characters from a complex table, by the Frobenius–Schur indicator."""
    out, used = [], set()
    for i, irr in enumerate(table):
        if i in used:
            continue
        nu = frobenius_schur(G, irr.values)
        if abs(nu - 1) < 1e-9:
            out.append(RealIrrep(irr.name, "R", irr.values.real.copy(), (irr,)))
        elif abs(nu + 1) < 1e-9:
            out.append(RealIrrep(irr.name, "H", 2 * irr.values.real, (irr,)))
        elif abs(nu) < 1e-9:
            j = next(j for j, o in enumerate(table) if j != i and np.allclose(o.values, irr.values.conj()))
            used.add(j)
            out.append(RealIrrep(f"{irr.name}+{table[j].name}", "C", 2 * irr.values.real, (irr, table[j])))
        else:  # pragma: no cover - a wrong table
            raise AssertionError(f"Frobenius–Schur indicator {nu} of {irr.name} is not 1, 0 or -1")
        used.add(i)
    return out


def _from_classes(G, labels: list[str], rows: dict[str, list[complex]], label_of) -> list[ComplexIrrep]:
    lab = [label_of(g) for g in range(G.order)]
    pos = {name: i for i, name in enumerate(labels)}
    return [ComplexIrrep(name, np.array([vals[pos[l]] for l in lab], dtype=complex)) for name, vals in rows.items()]


# ---------------------------------------------------------------------- the tables
def cyclic_table(G, n: int) -> list[ComplexIrrep]:
    """``C_n = <r>``: ``χ_j(r^k) = exp(2πi jk/n)`` (every element is its own class)."""
    r = G.generators[0]
    k_of = {power(G, r, k): k for k in range(n)}
    assert len(k_of) == n
    ks = np.array([k_of[g] for g in range(G.order)])
    return [ComplexIrrep(f"χ{j}", np.exp(2j * np.pi * j * ks / n)) for j in range(n)]


def dihedral_table(G, n: int) -> list[ComplexIrrep]:
    """``D_n = <r, f | r^n = f² = 1, f r f = r⁻¹>`` (n >= 3), James & Liebeck §18.3.

    Elements ``r^k f^e``. Classes: ``{r^±k}``; the reflections form one class (n odd) or two,
    ``{r^{2j} f}`` and ``{r^{2j+1} f}`` (n even). Characters: trivial, ``e ↦ (-1)^e``; for n even also
    ``(-1)^k`` and ``(-1)^{k+e}``; and the 2-dimensional ``ψ_j(r^k) = 2cos(2πjk/n)``, ``ψ_j(r^k f) = 0``.
    """
    r, f = G.generators[0], G.generators[1]
    ke = {}
    for k in range(n):
        rk = power(G, r, k)
        ke[rk] = (k, 0)
        ke[G.compose(rk, f)] = (k, 1)
    assert len(ke) == 2 * n
    k = np.array([ke[g][0] for g in range(G.order)])
    e = np.array([ke[g][1] for g in range(G.order)])
    one = np.ones(G.order, dtype=complex)
    table = [ComplexIrrep("triv", one), ComplexIrrep("det", (-1.0) ** e * one)]
    if n % 2 == 0:
        table += [ComplexIrrep("sr", (-1.0) ** k * one), ComplexIrrep("srf", (-1.0) ** (k + e) * one)]
    for j in range(1, (n - 1) // 2 + 1):
        table.append(ComplexIrrep(f"ψ{j}", np.where(e == 0, 2 * np.cos(2 * np.pi * j * k / n), 0.0) + 0j))
    return table


def symmetric4_table(G) -> list[ComplexIrrep]:
    """S4 (James & Liebeck 18.1). Classes told apart by (element order, class size)."""
    classes = conjugacy_classes(G)
    names = {(1, 1): "1", (2, 6): "(12)", (2, 3): "(12)(34)", (3, 8): "(123)", (4, 6): "(1234)"}
    labels = ["1", "(12)", "(12)(34)", "(123)", "(1234)"]
    rows = {
        "triv": [1, 1, 1, 1, 1],
        "sign": [1, -1, 1, 1, -1],
        "2": [2, 0, 2, -1, 0],
        "3": [3, 1, -1, 0, -1],
        "3'": [3, -1, -1, 0, 1],
    }
    return _from_classes(G, labels, rows, lambda g: names[(order_of(G, g), len(class_of(classes, g)))])


def alternating4_table(G) -> list[ComplexIrrep]:
    """A4 (James & Liebeck 18.2). The two classes of 3-cycles: that of ``g0 = (0 1 2)`` and that of g0²."""
    classes = conjugacy_classes(G)
    g0 = G.generators[0]
    assert order_of(G, g0) == 3
    c_a, c_b = class_of(classes, g0), class_of(classes, G.compose(g0, g0))
    assert c_a != c_b

    def label(g: int) -> str:
        o = order_of(G, g)
        if o in (1, 2):
            return str(o)
        return "3a" if g in c_a else "3b"

    w, w2 = OMEGA, OMEGA**2
    rows = {"triv": [1, 1, 1, 1], "ω": [1, 1, w, w2], "ω̄": [1, 1, w2, w], "3": [3, -1, 0, 0]}
    return _from_classes(G, ["1", "2", "3a", "3b"], rows, label)


def alternating5_table(G) -> list[ComplexIrrep]:
    """A5 (James & Liebeck 20.13). The two classes of 5-cycles: that of a reference 5-cycle ``g0`` and that
    of ``g0²`` (``g0`` and ``g0²`` are not conjugate in A5)."""
    classes = conjugacy_classes(G)
    g0 = next(g for g in G.generators if order_of(G, g) == 5)
    c_a, c_b = class_of(classes, g0), class_of(classes, G.compose(g0, g0))
    assert c_a != c_b

    def label(g: int) -> str:
        o = order_of(G, g)
        if o < 5:
            return str(o)
        return "5a" if g in c_a else "5b"

    rows = {
        "triv": [1, 1, 1, 1, 1],
        "3": [3, -1, 0, PHI, 1 - PHI],
        "3'": [3, -1, 0, 1 - PHI, PHI],
        "4": [4, 0, 1, -1, -1],
        "5": [5, 1, -1, 0, 0],
    }
    return _from_classes(G, ["1", "2", "3", "5a", "5b"], rows, label)


def quaternion_table(G) -> list[ComplexIrrep]:
    """Q8 (James & Liebeck 18.5). Classes 1, -1, {±i}, {±j}, {±k}; i and j are the two generators."""
    classes = conjugacy_classes(G)
    i, j = G.generators
    minus_one = G.compose(i, i)
    ci, cj = class_of(classes, i), class_of(classes, j)
    assert ci != cj and order_of(G, minus_one) == 2

    def label(g: int) -> str:
        if g == G.identity:
            return "1"
        if g == minus_one:
            return "-1"
        return "i" if g in ci else "j" if g in cj else "k"

    rows = {
        "triv": [1, 1, 1, 1, 1],
        "χi": [1, 1, 1, -1, -1],
        "χj": [1, 1, -1, 1, -1],
        "χk": [1, 1, -1, -1, 1],
        "2": [2, -2, 0, 0, 0],
    }
    return _from_classes(G, ["1", "-1", "i", "j", "k"], rows, label)


def product_table(GH, G, H, table_g, table_h) -> list[ComplexIrrep]:
    """Irreps of ``G × H`` are the products ``χ ⊗ ψ`` (Serre §3.2). The factors of each element are read off
    its word in the generators (``(g, e)`` for G's generators first, then ``(e, h)``)."""
    n_g = len(G.generators)
    parts = []
    for x in range(GH.order):
        g, h = G.identity, H.identity
        for s in reversed(GH.word(x)):
            if s < n_g:
                g = G.compose(G.generators[s], g)
            else:
                h = H.compose(H.generators[s - n_g], h)
        parts.append((g, h))
    gi = np.array([p[0] for p in parts])
    hi = np.array([p[1] for p in parts])
    return [ComplexIrrep(f"{a.name}⊗{b.name}", a.values[gi] * b.values[hi]) for a in table_g for b in table_h]


# ---------------------------------------------------------------------- oracle helpers shared by the suite
def random_orthogonal(n: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal matrix (QR of a Gaussian matrix, signs fixed)."""
    a = np.random.default_rng(seed).standard_normal((n, n))
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diag(r))


def rotated(rep, seed: int, name: str | None = None):
    """``g ↦ P ρ(g) Pᵀ`` for a random orthogonal P, built from generator images so that the numerical
    decomposition runs (``change_basis`` would reuse the known decomposition)."""
    import symm

    p = random_orthogonal(rep.size, seed)
    return symm.Rep(rep.group, p @ rep.generator_images @ p.T, name=name or f"P·{rep.name}·Pᵀ")


_MATS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def all_matrices(rep) -> np.ndarray:
    """``ρ(g)`` for every element, computed from the generator images and ``Group.word`` (not ``matrices()``).
    Cached per rep object; read-only."""
    hit = _MATS.get(rep)
    if hit is None:
        hit = _MATS[rep] = _all_matrices(rep)
        hit.setflags(write=False)
    return hit


def _all_matrices(rep) -> np.ndarray:
    out = []
    for g in range(rep.group.order):
        m = np.eye(rep.size)
        for s in reversed(rep.group.word(g)):
            m = rep.generator_images[s] @ m
        out.append(m)
    return np.stack(out)


def block_diagonal(rep, g: int) -> np.ndarray:
    """``⊕_k I_{m_k} ⊗ ρ̂_k(g)`` with the registered irrep matrices, in the layout of ``rep``'s components."""
    out = np.zeros((rep.size, rep.size))
    for c in rep.isotypic_components:
        assert c.slice.stop - c.slice.start == c.multiplicity * c.irrep.dim
        out[c.slice, c.slice] = np.kron(np.eye(c.multiplicity), all_matrices(c.irrep)[g])
    return out


def explicit_average(A: np.ndarray, mats_x: np.ndarray, mats_y: np.ndarray) -> np.ndarray:
    """``(1/|G|) Σ_g ρ_y(g) A ρ_x(g)ᵀ`` by brute force (A may carry leading batch dimensions)."""
    return sum(my @ A @ mx.T for mx, my in zip(mats_x, mats_y, strict=False)) / len(mats_x)


def commutant_dim(images_x: np.ndarray, images_y: np.ndarray) -> int:
    """``dim {A : ρ_y(s) A = A ρ_x(s) for every generator s}``: nullity of the stacked Kronecker system
    ``(ρ_y(s) ⊗ ρ_x(s) - I) vec(A) = 0`` (row-major vec, orthogonal images)."""
    n = images_y.shape[1] * images_x.shape[1]
    system = np.concatenate([np.kron(y, x) - np.eye(n) for x, y in zip(images_x, images_y, strict=False)])
    sv = np.linalg.svd(system, compute_uv=False)
    return n - int(np.sum(sv > 1e-8 * max(1.0, sv.max())))
