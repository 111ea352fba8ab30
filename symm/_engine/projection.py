"""The Reynolds projection on the device: a plan's tables moved to ``(namespace, device, dtype)``.

:func:`projection` returns a :class:`PermProjection` or an :class:`IsoProjection` (cached on the plan); both
apply ``R`` to ``(..., D_y, D_x)`` arrays with :meth:`reynolds`, and hold the complements ``I − P_inv`` that
the statistics use to correct plain means into symmetric ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symm._engine.plans import PairPlan, block_layout, block_tables, rep_plan
from symm._rep import Rep
from symm._xp import constant, device_of, gather

__all__ = [
    "BlockRoute",
    "IsoProjection",
    "PermProjection",
    "block_route",
    "change_of_basis",
    "invariant_projector",
    "orbit_average",
    "projection",
]


@dataclass(frozen=True)
class PermProjection:
    """``R`` for signed permutation reps: ``R(S)`` is a gather over the orbits of index pairs.

    ``src`` (|G|·n_orbits,) indexes ``S.flat``; ``w`` (|G|, n_orbits) holds ``ε_g(r₀) ε_g(c₀) / |G|`` or is
    ``None`` (every weight ``1/|G|``); ``orbit`` (D_y·D_x,) sends each entry to its orbit and ``sign`` (D_y·D_x,)
    gives its sign relative to the representative, or is ``None`` (all ones). The orbits are those of ordered
    pairs, or of unordered pairs for the form that :func:`projection` gives with ``symmetric=True``.
    """

    xp: Any
    comp_x: Any
    comp_y: Any
    src: Any
    w: Any
    orbit: Any
    sign: Any
    shape: tuple[int, int]

    def reynolds(self, S: Any, scale: float = 1.0) -> Any:
        """``scale · R(S)`` for ``S`` of shape (..., D_y, D_x); the scale multiplies one entry per orbit."""
        xp = self.xp
        *batch, dy, dx = S.shape
        g = xp.reshape(gather(xp.reshape(S, (*batch, dy * dx)), self.src), (*batch, *self.shape))
        if self.w is None:
            v = xp.sum(g, axis=-2) * (scale / self.shape[0])
        else:
            v = xp.sum(g * self.w, axis=-2)
            v = v if scale == 1.0 else v * scale
        out = gather(v, self.orbit)
        return xp.reshape(out if self.sign is None else out * self.sign, (*batch, dy, dx))


@dataclass(frozen=True)
class IsoProjection:
    """``R(S) = Q_y Π(Q_yᵀ S Q_x) Q_xᵀ`` with ``Π`` one weighted gather in the isotypic basis.

    ``idx`` (t·D_y·D_x,) indexes ``Z.flat`` with a zero appended, and ``w`` (t, D_y·D_x) weighs the ``t``
    gathered entries of each output entry.
    """

    xp: Any
    comp_x: Any
    comp_y: Any
    idx: Any
    w: Any
    qx: Any
    qy: Any
    qxt: Any
    qyt: Any
    zero: Any

    def reynolds(self, S: Any, scale: float = 1.0) -> Any:
        """``scale · R(S)`` for ``S`` of shape (..., D_y, D_x)."""
        out = self.qy @ self.project(self.qyt @ S @ self.qx) @ self.qxt
        return out if scale == 1.0 else out * scale

    def project(self, Z: Any) -> Any:
        """``Π(Z)`` for ``Z`` of shape (..., D_y, D_x) in the isotypic bases."""
        xp = self.xp
        *batch, dy, dx = Z.shape
        flat = xp.reshape(Z, (*batch, dy * dx))
        zero = self.zero if not batch else xp.zeros((*batch, 1), dtype=Z.dtype, device=device_of(Z))
        g = xp.reshape(gather(xp.concat((flat, zero), axis=-1), self.idx), (*batch, *self.w.shape))
        return xp.reshape(xp.sum(g * self.w, axis=-2), (*batch, dy, dx))

    def reynolds_diag(self, S: Any) -> Any:
        """``diag R(S)`` of an auto-covariance ``S`` (D, D), without forming ``R(S)``."""
        P = self.project(self.qxt @ S @ self.qx)
        return self.xp.sum((self.qx @ P) * self.qx, axis=1)


@dataclass(frozen=True)
class BlockRoute:
    """``Π(Q_yᵀ S Q_x)`` for ``S = (Y − ν)ᵀ(X − μ)`` (``μ``, ``ν`` the symmetric means), forming only the
    diagonal blocks of the shared components.

    The blocks are ``Z_k = ((Y − ν) Q_{y,k})ᵀ ((X − μ) Q_{x,k})``: ``N·(D_x·ΣB_x + Σ B_y·B_x)`` work instead of
    the ``N·D_y·D_x + D_y D_x (D_x + D_y)`` of forming ``S`` and rotating it. Components of equal sizes are
    batched: ``layout`` lists the groups ``(k, B_y, B_x)`` (see :func:`symm._engine.plans.block_tables`), and
    every method takes and returns one stack per group. ``rows_x`` holds each group's columns of ``Q_x`` as
    rows, ``(k, B_x, D_x)``. ``trivial`` is ``(group, mask)`` for the shared trivial component: ``mask``
    (k, 1, 1) is one at its place in the group's stack and zero elsewhere; ``None`` when no trivial irrep is
    shared.
    """

    xp: Any
    layout: tuple[tuple[int, int, int], ...]
    q_x: Any
    q_y: Any
    rows_x: tuple[Any, ...]
    idx: Any
    w: Any
    zero: Any
    trivial: tuple[int, Any] | None

    def rotate(self, x: Any, *, y: bool = False) -> list[Any]:
        """``(x − μ) Q_k`` for every shared component, one stack (k, N, B) per group, for ``x`` (N, D) and its
        symmetric mean ``μ = P_inv x̄``.

        ``μ`` is invariant, so ``μ Q_k = 0`` for every non-trivial component: only the trivial component's
        columns are centred, on their own mean (``μ Q_triv = x̄ Q_triv``), and ``μ`` is never formed.
        """
        xp = self.xp
        rotated = x @ (self.q_y if y else self.q_x)
        stacks, start = [], 0
        for k, by, bx in self.layout:
            b = by if y else bx
            part = rotated if len(self.layout) == 1 else rotated[:, start : start + k * b]
            stacks.append(xp.permute_dims(xp.reshape(part, (x.shape[0], k, b)), (1, 0, 2)))
            start += k * b
        if self.trivial is not None:
            g, mask = self.trivial
            stacks[g] = stacks[g] - mask * xp.mean(stacks[g], axis=1, keepdims=True)
        return stacks

    def project(self, xb: list[Any], yb: list[Any] | None = None, scale: float = 1.0) -> list[Any]:
        """``scale · Π(Z_k)``, one stack (k, B_y, B_x) per group, with ``Z_k = yb_kᵀ xb_k`` (``yb=None``: ``xb``)."""
        xp = self.xp
        ys = xb if yb is None else yb
        flats = [xp.reshape(xp.matrix_transpose(b) @ a, (-1,)) for a, b in zip(xb, ys, strict=True)]
        g = xp.reshape(gather(xp.concat((*flats, self.zero)), self.idx), self.w.shape)
        v = xp.sum(g * self.w, axis=0)
        v = v if scale == 1.0 else v * scale
        stacks, start = [], 0
        for k, by, bx in self.layout:
            stacks.append(xp.reshape(v[start : start + k * by * bx], (k, by, bx)))
            start += k * by * bx
        return stacks

    def expand(self, Zb: list[Any]) -> Any:
        """``Σ_k Q_{y,k} Zb_k Q_{x,k}ᵀ`` (D_y, D_x): the stacks back in the original bases.

        ``Zb_k Q_{x,k}ᵀ`` of a group is one batched product whose (k, B_y, D_x) result is already the group's
        rows of ``(⊕_k Zb_k) Q_xᵀ``; one product with ``Q_y`` then finishes.
        """
        xp = self.xp
        rows = [
            xp.reshape(z @ qt, (k * by, -1)) for (k, by, _), qt, z in zip(self.layout, self.rows_x, Zb, strict=True)
        ]
        if not rows:  # no shared component: the only equivariant map is zero
            return xp.zeros((self.q_y.shape[0], self.q_x.shape[0]), dtype=self.q_y.dtype, device=device_of(self.q_y))
        return self.q_y @ (rows[0] if len(rows) == 1 else xp.concat(rows, axis=0))

    def diag(self, Zb: list[Any]) -> Any:
        """``diag(Q_x P Q_xᵀ)`` (D_x,) for an auto-covariance whose isotypic blocks are the stacks ``Zb``."""
        xp = self.xp
        parts = [xp.sum((z @ qt) * qt, axis=(0, 1)) for qt, z in zip(self.rows_x, Zb, strict=True)]
        return sum(parts[1:], parts[0])


def projection(
    plan: PairPlan, xp: Any, dev: Any, dt: Any, *, symmetric: bool = False
) -> PermProjection | IsoProjection:
    """The device form of ``plan`` for ``(xp, dev, dt)``, cached on the plan.

    ``symmetric=True`` promises that every ``S`` given to it is symmetric (an auto-covariance: ``ρ_x`` is
    ``ρ_y``). The permutation route then gathers over the orbits of unordered pairs, about half as many reads,
    with the result exactly symmetric; the isotypic route has nothing to gain and is the same object.
    """
    rep_x, rep_y = plan.reps()
    symmetric = symmetric and plan.use_perm and rep_x is rep_y
    kind = "projection.symmetric" if symmetric else "projection"
    return plan.on_device(kind, xp, dev, dt, lambda: _projection(plan, xp, dev, dt, symmetric))


def _projection(plan: PairPlan, xp: Any, dev: Any, dt: Any, symmetric: bool) -> PermProjection | IsoProjection:
    rep_x, rep_y = plan.reps()
    comp_x = constant(rep_x, "I-P_inv", lambda: np.eye(rep_x.size) - rep_plan(rep_x).projector(), xp, dev, dt)
    comp_y = constant(rep_y, "I-P_inv", lambda: np.eye(rep_y.size) - rep_plan(rep_y).projector(), xp, dev, dt)
    if plan.use_perm:
        name = "perm.sym" if symmetric else "perm"
        tabs = plan.host_table(name, lambda: plan.perm_tables(symmetric))
        signed = tabs["w"] is not None
        return PermProjection(
            xp,
            comp_x,
            comp_y,
            constant(plan, f"{name}.src", lambda: tabs["src"], xp, dev, xp.int64),
            constant(plan, f"{name}.w", lambda: tabs["w"], xp, dev, dt) if signed else None,
            constant(plan, f"{name}.orbit", lambda: tabs["orbit"], xp, dev, xp.int64),
            constant(plan, f"{name}.sign", lambda: tabs["sign"], xp, dev, dt) if signed else None,
            (plan.order, len(tabs["src"]) // plan.order),
        )

    def iso_tables() -> tuple[np.ndarray, np.ndarray]:
        return plan.host_table("iso", plan.iso_tables)

    return IsoProjection(
        xp,
        comp_x,
        comp_y,
        constant(plan, "iso.idx", lambda: iso_tables()[0], xp, dev, xp.int64),
        constant(plan, "iso.w", lambda: iso_tables()[1], xp, dev, dt),
        change_of_basis(rep_x, xp, dev, dt),
        change_of_basis(rep_y, xp, dev, dt),
        change_of_basis(rep_x, xp, dev, dt, transpose=True),
        change_of_basis(rep_y, xp, dev, dt, transpose=True),
        constant(plan, "zero", lambda: np.zeros(1), xp, dev, dt),
    )


def change_of_basis(rep: Rep, xp: Any, dev: Any, dt: Any, *, transpose: bool = False) -> Any:
    """``Q`` (or ``Qᵀ``) of ``rep`` on ``(xp, dev, dt)``, cached on the rep."""
    if transpose:
        return constant(rep, "Q.T", lambda: rep.change_of_basis.T, xp, dev, dt)
    return constant(rep, "Q", lambda: rep.change_of_basis, xp, dev, dt)


def invariant_projector(rep: Rep, xp: Any, dev: Any, dt: Any) -> Any:
    """``P_inv = (1/|G|) Σ_g ρ(g)`` (D, D) on ``(xp, dev, dt)``, cached on the rep: the one invariant projector
    of symm (the orbit average for signed permutations, ``Q_triv Q_trivᵀ`` otherwise)."""
    return constant(rep, "P_inv", lambda: rep_plan(rep).projector(), xp, dev, dt)


def orbit_average(rep: Rep, xp: Any, dev: Any, dt: Any) -> Any:
    """``(1/|G|) Σ_g |ρ(g)|`` (D, D) of a signed permutation rep on ``(xp, dev, dt)``: ``diag R(S)`` is
    ``diag(S) @`` this matrix."""
    return constant(rep, "orbit_average", lambda: rep_plan(rep).orbit_average(), xp, dev, dt)


def block_route(plan: PairPlan, xp: Any, dev: Any, dt: Any) -> BlockRoute:
    """The :class:`BlockRoute` of ``plan`` on ``(xp, dev, dt)``, cached on the plan."""
    return plan.on_device("blocks", xp, dev, dt, lambda: _block_route(plan, xp, dev, dt))


def _block_route(plan: PairPlan, xp: Any, dev: Any, dt: Any) -> BlockRoute:
    rep_x, rep_y = plan.reps()
    tabs = plan.host_table("blocks", lambda: block_tables(rep_x, rep_y))
    layout = block_layout(rep_x, rep_y)
    rows, start = [], 0
    for g, (k, _, bx) in enumerate(layout):
        block = tabs["q_x"][:, start : start + k * bx].T.reshape(k, bx, -1)
        rows.append(constant(plan, f"blocks.rows_x.{g}", lambda block=block: block, xp, dev, dt))
        start += k * bx
    trivial = None
    if tabs["trivial"] is not None:
        g, mask = tabs["trivial"]
        trivial = (g, constant(plan, "blocks.trivial_mask", lambda: mask, xp, dev, dt))
    return BlockRoute(
        xp,
        layout,
        constant(plan, "blocks.q_x", lambda: tabs["q_x"], xp, dev, dt),
        constant(plan, "blocks.q_y", lambda: tabs["q_y"], xp, dev, dt),
        tuple(rows),
        constant(plan, "blocks.idx", lambda: tabs["idx"], xp, dev, xp.int64),
        constant(plan, "blocks.w", lambda: tabs["w"], xp, dev, dt),
        constant(plan, "zero", lambda: np.zeros(1), xp, dev, dt),
        trivial,
    )
