"""Host-side plans of the Reynolds projection ``R(A) = (1/|G|) Σ_g ρ_y(g) A ρ_x(g)ᵀ``.

A plan holds NumPy (float64 / int64) tables of one rep (:class:`RepPlan`) or one pair of reps
(:class:`PairPlan`), built once and weakly attached to the reps:

- reps whose generators are signed permutation matrices (and whose group is small next to ``D``) use the
  element-wise form ``R(S)[r, c] = (1/|G|) Σ_g ε_g(r) ε_g(c) S[π_g(r), π_g(c)]``: one gather, ``|G|·D²`` work;
- every other rep goes to the isotypic basis, ``R(S) = Q_y Π(Q_yᵀ S Q_x) Q_xᵀ``, where ``Π`` keeps in each
  ``d × d`` block between two copies of an irrep its components along the endomorphism basis
  ``E_b`` (all of them: 1 for real, ``I, J`` for complex and ``1, I, J, K`` for quaternionic type), as one
  weighted gather.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from symm import _tolerances as tolerances
from symm._rep import Rep, shared_components
from symm._xp import hashable_key

__all__ = ["PairPlan", "RepPlan", "block_layout", "block_tables", "pair_plan", "projection_gather", "rep_plan"]

# Use the signed-permutation gather when |G| <= (D_x + D_y) * _PERM_RATIO: a gather of |G|·D_x·D_y entries is
# then cheaper than the four dense D³ products of the isotypic route.
_PERM_RATIO = 0.25
_PERM_MAX_ENTRIES = 1 << 22  # never build gather tables larger than this


class RepPlan:
    """Host-side constants of one rep (NumPy float64 / int64); weakly attached to the rep."""

    def __init__(self, rep: Rep) -> None:
        self.size = rep.size
        self.order = rep.group.order
        self.signed_perm = _element_signed_permutations(rep) if _is_monomial(rep) else None
        self._rep = weakref.ref(rep)
        self._projector: np.ndarray | None = None

    @property
    def rep(self) -> Rep:
        rep = self._rep()
        if rep is None:  # pragma: no cover - the plan lives in a WeakKeyDictionary keyed by the rep
            raise RuntimeError("representation was garbage collected")
        return rep

    def orbit_average(self) -> np.ndarray:
        """``(1/|G|) Σ_g |ρ(g)|`` for a signed permutation rep: averages a vector over the orbits of the
        coordinates (the diagonal of ``R(S)`` is this average of ``diag S``, the signs squaring away)."""
        perms, _ = self.signed_perm
        p = np.zeros((self.size, self.size))
        np.add.at(p, (perms, np.broadcast_to(np.arange(self.size), perms.shape)), 1.0)
        return p / self.order

    def projector(self) -> np.ndarray:
        """``P_inv`` (D, D): orbit average for signed permutations, ``Q_triv Q_trivᵀ`` otherwise."""
        if self._projector is None:
            if self.signed_perm is not None:
                perms, signs = self.signed_perm
                p = np.zeros((self.size, self.size))
                cols = np.broadcast_to(np.arange(self.size), perms.shape)
                np.add.at(p, (perms, cols), signs)
                self._projector = p / self.order
            else:
                rep = self.rep
                first = rep.isotypic_components[0]
                if first.irrep.is_trivial:
                    q = rep.change_of_basis[:, first.slice]
                    self._projector = q @ q.T
                else:
                    self._projector = np.zeros((self.size, self.size))
        return self._projector


class PairPlan:
    """Host-side plan of the Reynolds projection ``R`` for ``Hom(ρ_x, ρ_y)``."""

    def __init__(self, rep_x: Rep, rep_y: Rep) -> None:
        self.px, self.py = rep_plan(rep_x), rep_plan(rep_y)
        dx, dy, order = rep_x.size, rep_y.size, rep_x.group.order
        self.use_perm = (
            self.px.signed_perm is not None
            and self.py.signed_perm is not None
            and order <= max(8.0, (dx + dy) * _PERM_RATIO)
            and order * dx * dy <= _PERM_MAX_ENTRIES
        )
        self._rep_x, self._rep_y = weakref.ref(rep_x), weakref.ref(rep_y)
        self.device: dict[Any, Any] = {}  # device forms per (kind, namespace, device, dtype): see on_device
        self.host: dict[str, Any] = {}  # further host tables by name: see host_table

    def host_table(self, name: str, build: Callable[[], Any]) -> Any:
        """The host table ``name`` of this pair, built by ``build()`` on first use."""
        hit = self.host.get(name)
        if hit is None:
            hit = self.host[name] = build()
        return hit

    def on_device(self, kind: str, xp: Any, dev: Any, dt: Any, build: Callable[[], Any]) -> Any:
        """The device form ``kind`` of this pair on ``(xp, dev, dt)``, built by ``build()`` on first use.

        Concurrent first uses may both build; the forms are equal, and the last stored is kept.
        """
        key = (kind, xp.__name__, hashable_key(dev), dt)
        hit = self.device.get(key)
        if hit is None:
            hit = self.device[key] = build()
        return hit

    def reps(self) -> tuple[Rep, Rep]:
        rx, ry = self._rep_x(), self._rep_y()
        if rx is None or ry is None:  # pragma: no cover
            raise RuntimeError("representation was garbage collected")
        return rx, ry

    def perm_tables(self, symmetric: bool = False) -> dict[str, np.ndarray | None]:
        """Gather tables of ``R`` over the orbits of index pairs under ``(r, c) ↦ (π_g r, π_g c)``.

        With orbit representative ``(r₀, c₀)``, ``v = (1/|G|) Σ_g ε_g(r₀) ε_g(c₀) S[π_g r₀, π_g c₀]`` is
        ``R(S)[r₀, c₀]``, and equivariance gives ``R(S)[π_h r₀, π_h c₀] = ε_h(r₀) ε_h(c₀) v``. So ``R`` is two
        gathers of about ``D_y·D_x`` entries each (``|G|`` per orbit, ``|G| / |stabiliser|`` points per
        orbit). Keys: ``src`` (|G|·n_orbits,) into ``S.flat``, ``w`` (|G|, n_orbits) or ``None`` (all
        ``1/|G|``), ``orbit`` (D_y·D_x,) and ``sign`` (D_y·D_x,) or ``None`` (all ones).

        ``symmetric=True`` (only for ``ρ_x = ρ_y``) gives the tables for a symmetric ``S``, whose ``R(S)`` is
        symmetric too: the orbits are those of unordered pairs ``{r, c}``, about half as many, and ``(c, r)``
        reads the value of ``(r, c)``.
        """
        (pix, eps_x), (piy, eps_y) = self.px.signed_perm, self.py.signed_perm
        dx, dy = pix.shape[1], piy.shape[1]
        images = (piy[:, :, None] * dx + pix[:, None, :]).reshape(self.order, dx * dy)  # (|G|, pairs)
        signs = (eps_y[:, :, None] * eps_x[:, None, :]).reshape(self.order, dx * dy)
        pairs = np.arange(dx * dy)
        # the pair itself, or for a symmetric S also its transpose (c, r), is what the representative reaches
        targets = [pairs, pairs.reshape(dy, dx).T.reshape(-1)] if symmetric else [pairs]
        canon = np.min([images[:, t].min(axis=0) for t in targets], axis=0)
        reps, orbit = np.unique(canon, return_inverse=True)
        unsigned = bool(np.all(signs == 1.0))
        # h with π_h(rep) = p (or its transpose), for each pair p; then sign_p = ε_h(r₀) ε_h(c₀)
        reached = images[:, canon]
        h = np.argmax(np.any([reached == t[None, :] for t in targets], axis=0), axis=0)
        return {
            "src": images[:, reps].reshape(-1),
            "w": None if unsigned else signs[:, reps] / self.order,
            "orbit": orbit.reshape(-1),
            "sign": None if unsigned else signs[h, canon],
        }

    @property
    def order(self) -> int:
        return self.px.order

    def iso_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Weighted gather implementing ``Π`` on ``Z = Q_yᵀ S Q_x`` (flattened, with a zero appended).

        Returns ``idx`` (D_y·D_x·t,) and ``w`` (D_y·D_x, t): ``Π(Z).flat[p] = Σ_u w[p, u] Zpad[idx[p, u]]``.
        """
        rep_x, rep_y = self.reps()
        return projection_gather(rep_x, rep_y)


def projection_gather(rep_x: Rep, rep_y: Rep) -> tuple[np.ndarray, np.ndarray]:
    """Host tables of ``Π`` as a weighted gather over ``Z.flat`` with a trailing zero (see ``PairPlan``).

    Inside the block of copies ``(i, j)`` of irrep ``k``, ``Π(Z)_ij = Σ_b E_b ⟨E_b, Z_ij⟩ / d``: output
    ``(α, β)`` is ``Σ_{γ, δ} K[α, β, γ, δ] Z_ij[γ, δ]`` with ``K = Σ_b E_b ⊗ E_b / d``. Zero entries of
    ``K`` are dropped and the rest padded to a common width ``t``.
    """
    dx, dy = rep_x.size, rep_y.size

    def flat(k: int, r: np.ndarray, c: np.ndarray, comp: tuple) -> np.ndarray:
        _, cx, cy = comp
        return (cy.slice.start + r) * dx + (cx.slice.start + c)

    return _gather_tables(shared_components(rep_x, rep_y), dy * dx, flat)


def block_layout(rep_x: Rep, rep_y: Rep) -> tuple[tuple[int, int, int], ...]:
    """``((k, B_y, B_x), ...)``: the shared components of the pair grouped by their sizes ``(B_y, B_x)`` in the
    two reps, groups in order of first appearance, ``k`` components each. Each group is one stack
    ``(k, B_y, B_x)``, so no block is padded."""
    counts: dict[tuple[int, int], int] = {}
    for _, cx, cy in shared_components(rep_x, rep_y):
        counts[(cy.dim, cx.dim)] = counts.get((cy.dim, cx.dim), 0) + 1
    return tuple((k, by, bx) for (by, bx), k in counts.items())


def block_tables(rep_x: Rep, rep_y: Rep) -> dict[str, np.ndarray]:
    """Host tables of ``R`` through the diagonal blocks ``Z_k = Q_{y,k}ᵀ S Q_{x,k}`` of the shared components.

    The blocks are grouped by size (:func:`block_layout`); group after group, each block flattened, they fill
    one frame of ``Σ k·B_y·B_x`` entries. Keys: ``q_x`` (D_x, Σ k·B_x) and ``q_y`` (D_y, Σ k·B_y) hold the
    components' columns of ``Q`` in that order, so that ``x @ q_x`` rotates every block at once; ``idx``
    (t·size,) and ``w`` (t, size) apply ``Π`` to the frame (a zero appended); ``trivial`` is ``(g, mask)``
    for the shared trivial component, in group ``g`` at the place where ``mask`` (k, 1, 1) is one, or ``None``.
    """
    shared = shared_components(rep_x, rep_y)
    layout = block_layout(rep_x, rep_y)
    group_of = {(by, bx): g for g, (_, by, bx) in enumerate(layout)}
    members: list[list[int]] = [[] for _ in layout]
    for c, (_, cx, cy) in enumerate(shared):
        members[group_of[(cy.dim, cx.dim)]].append(c)
    order = [c for group in members for c in group]
    start = {}  # component -> first entry of its block in the frame
    offset = 0
    for c in order:
        start[c] = offset
        offset += shared[c][2].dim * shared[c][1].dim

    def flat(k: int, r: np.ndarray, c: np.ndarray, comp: tuple) -> np.ndarray:
        return start[k] + r * comp[1].dim + c

    idx, w = _gather_tables(shared, offset, flat)
    trivial = None
    for g, group in enumerate(members):
        for j, c in enumerate(group):
            if shared[c][0].is_trivial:
                mask = np.zeros((len(group), 1, 1))
                mask[j] = 1.0
                trivial = (g, mask)
    cols_x = np.concatenate([np.arange(shared[c][1].slice.start, shared[c][1].slice.stop) for c in order] or [[]])
    cols_y = np.concatenate([np.arange(shared[c][2].slice.start, shared[c][2].slice.stop) for c in order] or [[]])
    return {
        "q_x": rep_x.change_of_basis[:, cols_x.astype(np.int64)],
        "q_y": rep_y.change_of_basis[:, cols_y.astype(np.int64)],
        "idx": idx,
        "w": w,
        "trivial": trivial,
    }


def _gather_tables(shared: list, size: int, flat) -> tuple[np.ndarray, np.ndarray]:
    """``Π`` as a weighted gather in a frame of ``size`` entries where ``flat(k, r, c, comp)`` places row ``r``
    and column ``c`` of component ``k`` (local coordinates); index ``size`` is the appended zero."""
    tables = []  # per component: output positions (P,), sources (P, t_k), weights (P, t_k)
    for k, comp in enumerate(shared):
        irrep, cx, cy = comp
        d = irrep.dim
        E = irrep.endomorphism_basis
        kern = (np.einsum("bij,bkl->ijkl", E, E) / d).reshape(d * d, d * d)  # rows (α, β), columns (γ, δ)
        kern[np.abs(kern) < tolerances.EXACT_ZERO] = 0.0
        t_k = max(int((kern != 0).sum(axis=1).max()), 1)
        order = np.argsort(kern == 0, axis=1, kind="stable")[:, :t_k]  # nonzero columns first
        wk = np.take_along_axis(kern, order, axis=1)
        gam, dlt = np.divmod(order, d)
        alpha, beta = np.divmod(np.arange(d * d), d)
        rows = d * np.arange(cy.multiplicity)[:, None, None]  # first row of copy i, local to the component
        cols = d * np.arange(cx.multiplicity)[None, :, None]  # first column of copy j
        pos = flat(k, rows + alpha, cols + beta, comp)  # (m_y, m_x, d²)
        src = flat(k, rows[..., None] + gam, cols[..., None] + dlt, comp)  # (m_y, m_x, d², t_k)
        src = np.where(wk != 0.0, src, size)
        tables.append((pos.reshape(-1), src.reshape(-1, t_k), np.broadcast_to(wk, src.shape).reshape(-1, t_k)))
    t = max((src.shape[1] for _, src, _ in tables), default=1)
    # reduction-major layout (t, size): summing over the leading axis is several times faster than over a
    # short trailing one
    idx = np.full((t, size), size, dtype=np.int64)
    w = np.zeros((t, size))
    for pos, src, wt in tables:
        idx[: src.shape[1], pos] = src.T
        w[: src.shape[1], pos] = wt.T
    return idx.reshape(-1), w


_REP_PLANS: weakref.WeakKeyDictionary[Rep, RepPlan] = weakref.WeakKeyDictionary()
_PAIR_PLANS: weakref.WeakKeyDictionary[Rep, weakref.WeakKeyDictionary[Rep, PairPlan]] = weakref.WeakKeyDictionary()


def rep_plan(rep: Rep) -> RepPlan:
    plan = _REP_PLANS.get(rep)
    if plan is None:
        plan = _REP_PLANS[rep] = RepPlan(rep)
    return plan


def pair_plan(rep_x: Rep, rep_y: Rep) -> PairPlan:
    inner = _PAIR_PLANS.get(rep_x)
    if inner is None:
        inner = _PAIR_PLANS[rep_x] = weakref.WeakKeyDictionary()
    plan = inner.get(rep_y)
    if plan is None:
        plan = inner[rep_y] = PairPlan(rep_x, rep_y)
    return plan


def _is_monomial(rep: Rep) -> bool:
    """Whether every generator image is a signed permutation matrix (entries within 1e-12 of 0 or ±1)."""
    g = rep.generator_images
    nz = np.abs(g) > 0.5
    return bool(
        np.all(nz.sum(axis=1) == 1)
        and np.all(nz.sum(axis=2) == 1)
        and np.all(np.abs(np.abs(g) - nz) <= tolerances.EXACT_ZERO)
    )


def _element_signed_permutations(rep: Rep) -> tuple[np.ndarray, np.ndarray]:
    """``(π, ε)`` of every element, shape (|G|, D) each, with ``ρ(g) e_c = ε_g(c) e_{π_g(c)}``.

    Built along the group's breadth-first tree: ``π_{sh} = π_s ∘ π_h`` and ``ε_{sh} = ε_h · ε_s ∘ π_h``.
    """
    group, gens = rep.group, rep.generator_images
    gen_perm = np.argmax(np.abs(gens), axis=1)  # (n_s, D): column c -> row π(c)
    gen_sign = np.sign(np.take_along_axis(gens, gen_perm[:, None, :], axis=1)[:, 0, :])
    perms = np.empty((group.order, rep.size), dtype=np.int64)
    signs = np.empty((group.order, rep.size))
    perms[0], signs[0] = np.arange(rep.size), 1.0
    parent, pgen = group.spanning_tree
    for i in range(1, group.order):
        h, s = parent[i], pgen[i]
        perms[i] = gen_perm[s][perms[h]]
        signs[i] = signs[h] * gen_sign[s][perms[h]]
    return perms, signs
