"""Shared helpers of the symm_torch tests (imported by module name; not a conftest)."""

from __future__ import annotations

import numpy as np
import symm
import torch


def groups() -> dict[str, symm.Group]:
    """Small groups: cyclic, dihedral, one with an H-type irrep, a direct product."""
    return {
        "C5": symm.groups.cyclic(5),
        "D4": symm.groups.dihedral(4),
        "Q8": symm.groups.quaternion(),
        "C2xD3": symm.groups.direct_product(symm.groups.cyclic(2), symm.groups.dihedral(3)),
    }


def mixed_rep(G: symm.Group) -> symm.Rep:
    """A rep with every irrep of G, some twice, in a scrambled (non-isotypic) basis."""
    irreps = G.irreps()
    rep = symm.direct_sum(*irreps, *irreps[1:3], G.regular_rep())
    P = np.linalg.qr(np.random.default_rng(1).normal(size=(rep.size, rep.size)))[0]
    return rep.change_basis(P)


def check_equivariant(f, rep_in: symm.Rep, rep_out: symm.Rep, x: torch.Tensor, axis: int = -1) -> float:
    """Max relative error of ``f(ρ_in(g) x) = ρ_out(g) f(x)`` over every element (features on ``axis``)."""
    tol = 1e-10 if x.dtype == torch.float64 else 1e-5
    with torch.no_grad():
        y = f(x)
        scale = max(float(y.abs().max()), 1.0)
        worst = 0.0
        for g in range(rep_in.group.order):
            r_in = torch.as_tensor(rep_in(g), dtype=x.dtype)
            r_out = torch.as_tensor(rep_out(g), dtype=y.dtype)
            gx = torch.movedim(torch.movedim(x, axis, -1) @ r_in.T, -1, axis)
            gy = torch.movedim(torch.movedim(y, axis, -1) @ r_out.T, -1, axis)
            err = float((f(gx) - gy).abs().max()) / scale
            worst = max(worst, err)
            assert err <= tol, f"not equivariant at element {g} of {rep_in.group.name}: {err:.2e} > {tol:.0e}"
    return worst
