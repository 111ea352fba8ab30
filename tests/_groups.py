"""Representations shared by the statistics tests, and NumPy float64 oracles on the orbit-augmented data.

Each case is a pair ``(rep_x, rep_y)`` of reps of one group. Most ``rep_x`` are put in a random orthogonal
basis, which mixes the copies of every irrep (so estimators that ignore cross-copy terms fail); two are left
as (signed) permutation reps so that the gather path of the Reynolds projection is exercised as well, and one
is given only by rotated generator matrices, so that symm must find its isotypic decomposition numerically.

The oracles list the group elements themselves, by a closure over the generator matrices (:func:`images`):
they never use symm's element listing (``Rep.matrices``) or its decomposition.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

import symm
from symm import groups


@dataclass(frozen=True)
class Case:
    name: str
    rep_x: symm.Rep
    rep_y: symm.Rep


def random_orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _mixed(rep: symm.Rep, seed: int) -> symm.Rep:
    return rep.change_basis(random_orthogonal(rep.size, seed), name=f"{rep.name}·P")


def _build(name: str) -> Case:
    if name == "C6-complex":  # C-type irreps with multiplicity 2, mixed basis
        G = groups.cyclic(6)
        return Case(name, _mixed(G.regular_rep() * 2, 1), G.regular_rep() + G.trivial_rep(1))
    if name == "D4":
        G = groups.dihedral(4)
        rep_x = _mixed(G.regular_rep() + G.natural_rep("standard"), 2)
        return Case(name, rep_x, G.natural_rep("permutation"))
    if name == "Q8-quaternionic":  # H-type irrep with multiplicity 2
        G = groups.quaternion()
        return Case(name, _mixed(G.regular_rep() * 2, 3), G.natural_rep("quaternion") + G.trivial_rep(2))
    if name == "Dic3":  # dicyclic: H-type irreps next to C- and R-type ones
        G = groups.dicyclic(3)
        return Case(name, _mixed(G.natural_rep("quaternion") * 2 + G.trivial_rep(1), 4), G.regular_rep())
    if name == "C2xD3":
        G = groups.direct_product(groups.cyclic(2), groups.dihedral(3))
        rep_y = G.natural_rep("H.standard") + G.natural_rep("G.permutation")
        return Case(name, _mixed(G.regular_rep(), 5), rep_y)
    if name == "C4-perm":  # plain permutation rep: gather path
        G = groups.cyclic(4)
        return Case(name, G.regular_rep() * 3, G.regular_rep())
    if name == "D6-generators":  # given only by generator matrices in a random basis: numerical decomposition
        G = groups.dihedral(6)
        plain = G.regular_rep() + G.natural_rep("standard") * 2
        P = random_orthogonal(plain.size, 6)
        rep_x = symm.Rep(G, P @ plain.generator_images @ P.T, name="rotated generators")
        return Case(name, rep_x, G.natural_rep("standard") + G.trivial_rep(1))
    if name == "D4-signed":  # signed permutation rep: gather path with signs
        G = groups.dihedral(4)
        signed = symm.Rep(G, [[[0.0, -1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, -1.0]]], name="signed")
        return Case(name, signed * 2 + G.regular_rep(), signed)
    raise KeyError(name)


CASE_NAMES: tuple[str, ...] = (
    "C6-complex",
    "D4",
    "Q8-quaternionic",
    "Dic3",
    "C2xD3",
    "C4-perm",
    "D4-signed",
    "D6-generators",
)


@functools.cache
def case(name: str) -> Case:
    c = _build(name)
    # decompose eagerly so that timing-sensitive tests do not pay for it
    _ = c.rep_x.isotypic_components, c.rep_y.isotypic_components
    return c


# --------------------------------------------------------------------------------------------- oracles


def images(*reps: symm.Rep) -> list[tuple[np.ndarray, ...]]:
    """``(ρ_1(g), ρ_2(g), ...)`` for every element ``g``, by a breadth-first closure over the paired generator
    matrices ``(ρ_1(s), ρ_2(s), ...)``: independent of symm's own element listing. Elements are told apart by
    their rounded matrices, so each element of the (joint) image group appears once."""
    n_gens = len(reps[0].generator_images)
    gens = [tuple(r.generator_images[s] for r in reps) for s in range(n_gens)]

    def key(mats: tuple[np.ndarray, ...]) -> bytes:
        return (np.round(np.concatenate([m.ravel() for m in mats]), 6) + 0.0).tobytes()

    identity = tuple(np.eye(r.size) for r in reps)
    seen = {key(identity): identity}
    frontier = [identity]
    while frontier:
        new = []
        for mats in frontier:
            for gen in gens:
                prod = tuple(a @ b for a, b in zip(gen, mats, strict=True))
                k = key(prod)
                if k not in seen:
                    seen[k] = prod
                    new.append(prod)
        frontier = new
    return list(seen.values())


def augment(x: np.ndarray, rep: symm.Rep) -> np.ndarray:
    """The orbit-augmented data set ``{ρ(g) x_n}``, shape (|G|·N, D), group-element-major."""
    return np.concatenate([x @ m.T for (m,) in images(rep)])


def augment_pairs(x: np.ndarray, y: np.ndarray, rep_x: symm.Rep, rep_y: symm.Rep) -> tuple[np.ndarray, np.ndarray]:
    """The augmented pairs ``(ρ_x(g) x_n, ρ_y(g) y_n)``, one element listing for both."""
    pairs = images(rep_x, rep_y)
    return np.concatenate([x @ mx.T for mx, _ in pairs]), np.concatenate([y @ my.T for _, my in pairs])


def oracle_mean(x: np.ndarray, rep: symm.Rep) -> np.ndarray:
    return augment(x, rep).mean(axis=0)


def oracle_cov(x: np.ndarray, y: np.ndarray, rep_x: symm.Rep, rep_y: symm.Rep) -> np.ndarray:
    """Population covariance (D_y, D_x) of the augmented pairs ``(ρ_x(g) x_n, ρ_y(g) y_n)``."""
    xa, ya = augment_pairs(x, y, rep_x, rep_y)
    return (ya - ya.mean(0)).T @ (xa - xa.mean(0)) / len(xa)


def oracle_lstsq(x: np.ndarray, y: np.ndarray, rep_x: symm.Rep, rep_y: symm.Rep) -> np.ndarray:
    """Plain minimum-norm least squares on the augmented data, as a (D_y, D_x) map."""
    xa, ya = augment_pairs(x, y, rep_x, rep_y)
    return np.linalg.lstsq(xa, ya, rcond=None)[0].T


def reynolds(A: np.ndarray, rep_x: symm.Rep, rep_y: symm.Rep) -> np.ndarray:
    """Explicit group average ``(1/|G|) Σ_g ρ_y(g) A ρ_x(g)ᵀ``."""
    return np.mean([my @ A @ mx.T for mx, my in images(rep_x, rep_y)], axis=0)
