"""The Reynolds projection on the device: a plan's tables moved to ``(namespace, device, dtype)``.

:func:`projection` returns a :class:`PermProjection` or an :class:`IsoProjection` (cached on the plan); both
apply ``R`` to ``(..., D_y, D_x)`` arrays with :meth:`reynolds`, and hold the complements ``I − P_inv`` that
the statistics use to correct plain means into symmetric ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symm._engine.plans import PairPlan, rep_plan
from symm._rep import Rep
from symm._xp import constant, device_of, gather, hashable_key

__all__ = [
    "IsoProjection",
    "PermProjection",
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
    gives its sign relative to the representative, or is ``None`` (all ones).
    """

    xp: Any
    comp_x: Any
    comp_y: Any
    src: Any
    w: Any
    orbit: Any
    sign: Any
    shape: tuple[int, int]

    def reynolds(self, S: Any) -> Any:
        """``R(S)`` for ``S`` of shape (..., D_y, D_x)."""
        xp = self.xp
        *batch, dy, dx = S.shape
        g = xp.reshape(gather(xp.reshape(S, (*batch, dy * dx)), self.src), (*batch, *self.shape))
        v = xp.mean(g, axis=-2) if self.w is None else xp.sum(g * self.w, axis=-2)
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

    def reynolds(self, S: Any) -> Any:
        """``R(S)`` for ``S`` of shape (..., D_y, D_x)."""
        return self.qy @ self.project(self.qyt @ S @ self.qx) @ self.qxt

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


def projection(plan: PairPlan, xp: Any, dev: Any, dt: Any) -> PermProjection | IsoProjection:
    """The device form of ``plan`` for ``(xp, dev, dt)``, cached on the plan."""
    key = ("projection", xp.__name__, hashable_key(dev), dt)
    hit = plan.device.get(key)
    if hit is not None:
        return hit
    rep_x, rep_y = plan.reps()
    comp_x = constant(rep_x, "I-P_inv", lambda: np.eye(rep_x.size) - rep_plan(rep_x).projector(), xp, dev, dt)
    comp_y = constant(rep_y, "I-P_inv", lambda: np.eye(rep_y.size) - rep_plan(rep_y).projector(), xp, dev, dt)
    if plan.use_perm:
        tabs = plan.perm_tables()
        signed = tabs["w"] is not None
        out: PermProjection | IsoProjection = PermProjection(
            xp,
            comp_x,
            comp_y,
            constant(plan, "perm.src", lambda: tabs["src"], xp, dev, xp.int64),
            constant(plan, "perm.w", lambda: tabs["w"], xp, dev, dt) if signed else None,
            constant(plan, "perm.orbit", lambda: tabs["orbit"], xp, dev, xp.int64),
            constant(plan, "perm.sign", lambda: tabs["sign"], xp, dev, dt) if signed else None,
            (plan.order, len(tabs["src"]) // plan.order),
        )
    else:
        tables: list[tuple[np.ndarray, np.ndarray]] = []

        def iso_tables() -> tuple[np.ndarray, np.ndarray]:
            if not tables:
                tables.append(plan.iso_tables())
            return tables[0]

        out = IsoProjection(
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
    plan.device[key] = out
    return out


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
