"""Shared helpers of the symm_torch tests (imported by module name; not a conftest).

Equivariance itself is checked with ``symm.testing.assert_equivariant`` (``axis=1`` for ``(B, C, T)``);
these are the torch-specific helpers: random parameters, gradients, round trips.
"""

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


def randomise(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Give every parameter random values (so that no test passes on an identity or zero init)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p.dtype))
    return module


def outputs(module, *args) -> tuple:
    """Module outputs as a tuple of tensors (a ``MultivariateNormal`` as ``(mean, covariance)``)."""
    out = module(*args)
    if isinstance(out, torch.distributions.MultivariateNormal):
        return out.mean, out.covariance_matrix
    return out if isinstance(out, tuple) else (out,)


def check_round_trips(module: torch.nn.Module, factory, *args) -> None:
    """state_dict into a fresh module, deepcopy and pickle give bit-identical outputs."""
    import copy
    import pickle

    ref = outputs(module, *args)
    fresh = factory().to(next(iter(module.state_dict().values())).dtype) if module.state_dict() else factory()
    fresh.load_state_dict(module.state_dict())
    fresh.train(module.training)
    for clone in (fresh, copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
        for u, v in zip(ref, outputs(clone, *args), strict=True):
            torch.testing.assert_close(v, u, rtol=0, atol=0)


def check_gradients_and_step(
    module: torch.nn.Module, x: torch.Tensor, *extra, may_vanish: tuple[str, ...] = ()
) -> None:
    """Every parameter gets a gradient above rounding; then one optimizer step is taken (check equivariance
    after). Parameters whose names contain a ``may_vanish`` entry (or ``k_proj.bias``) may have a gradient that
    is zero by construction: the caller states why."""
    x = x.clone().requires_grad_(True)
    loss = sum(
        (y * torch.linspace(0.5, 1.5, y.shape[-1], dtype=y.dtype, device=y.device)).square().sum()
        for y in outputs(module, x, *extra)
    )
    loss.backward()
    scale = max(float(p.grad.abs().max()) for p in module.parameters() if p.grad is not None)
    for name, p in module.named_parameters():
        assert p.grad is not None, f"no gradient reaches {name}"
        # softmax(q·(k + b)) = softmax(q·k) per query: a key bias learns only with rotary positions
        if "k_proj.bias" in name or any(part in name for part in may_vanish):
            continue
        size = float(p.grad.abs().max())
        assert size > 1e-12 * scale, f"no gradient reaches {name} ({size:.1e} of {scale:.1e}: rounding only)"
    assert x.grad is not None
    torch.optim.Adam(module.parameters(), lr=0.1).step()
