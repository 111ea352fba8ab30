"""The Hom_G parameterisation shared by eLinear and eConv1D.

A map in ``Hom_G(ρ_x, ρ_y)`` is ``W = Q_y (⊕_k Σ_b Θ_{k,b} ⊗ E_b) Q_xᵀ`` with ``Θ_{k,b} ∈ R^{m_k^y × m_k^x}``,
one block per irrep ``k`` shared by both reps, ``E_b`` the irrep's endomorphism basis and ``Q`` the reps'
isotypic changes of basis. The free parameters are the entries of the ``Θ_{k,b}``: ``hom_dim`` numbers.

Expanding ``W`` never forms a stack of basis matrices. ``Q`` of a direct sum is block diagonal up to a
permutation of its columns, so the expansion (1) builds each isotypic block with one small ``einsum``,
(2) gathers the blocks of ``W_iso`` that meet each pair of diagonal blocks of ``Q_y`` and ``Q_x``, (3)
multiplies by those small blocks (a batched matmul) and (4) gathers the result back to ``(D_y, D_x)``.
For ``ρ = ρ_0^{⊕n}`` the cost is ``O(D_y D_x |ρ_0|)`` instead of ``O(D³)``. When every pair of blocks of
``Q_y`` and ``Q_x`` has the same composed matrix (copies of one rep, e.g. the regular-rep hidden layers of an
EMLP), the expansion is instead a gather, one matrix product and a gather (:class:`symm.internal.PairMaps`):
the same ``W`` with the fewest operations for autograd to record. The host tables come from
:func:`symm.internal.hom_expansion_tables`; this module only registers them and runs the torch side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import symm
import torch
from symm.internal import hom_expansion_tables, invariant_basis

__all__ = ["INIT_SCHEMES", "HomPlan", "expand_hom", "fans", "init_hom", "invariant_basis", "register_hom"]


@dataclass(frozen=True)
class _Component:
    offset: int  # first parameter
    s: int
    m_y: int
    m_x: int
    d: int
    basis: str  # buffer name of the endomorphism basis (s, d, d)
    fan_in: int  # s * m_x: squared norm of a row of the isotypic block per unit parameter variance


@dataclass(frozen=True)
class HomPlan:
    """Host-side layout of a Hom_G parameterisation; the tensors live as buffers on the owning module."""

    prefix: str
    components: tuple[_Component, ...]
    dim: int
    D_y: int
    D_x: int
    pair_route: bool = False  # expand through the composed pair matrix (PairMaps with one kind)
    pair_padded: bool = True  # some pair reads the padding zero appended to θ
    pair_blocks: tuple[int, int, int, int] | None = None  # (n_y, n_x, s_y, s_x): W is the pairs' blocks in order


def register_hom(module: torch.nn.Module, rep_x: symm.Rep, rep_y: symm.Rep, prefix: str = "") -> HomPlan:
    """Register the constants of ``Hom_G(rep_x, rep_y)`` (:func:`symm.internal.hom_expansion_tables`) as
    buffers of ``module``; return the layout."""
    tables = hom_expansion_tables(rep_x, rep_y)
    if tables.dim == 0:
        raise ValueError(
            f"Hom_G({rep_x.name}, {rep_y.name}) has dimension 0: the reps share no irrep, so the only "
            "equivariant linear map between them is zero; add a shared irrep (e.g. a trivial copy) to one of them"
        )
    comps = []
    for k, blk in enumerate(tables.blocks):
        name = f"{prefix}E{k}"
        module._register_constant(name, blk.irrep.endomorphism_basis)
        comps.append(_Component(blk.offset, blk.s, blk.m_y, blk.m_x, blk.d, name, blk.s * blk.m_x))
    pairs = tables.pairs
    if pairs is None or len(pairs.maps) != 1:
        module._register_constant(f"{prefix}Qy_blocks", tables.Qy_blocks)
        module._register_constant(f"{prefix}QxT_blocks", tables.QxT_blocks)
        module._register_constant(f"{prefix}gather", tables.gather)
        module._register_constant(f"{prefix}scatter", tables.scatter)
        return HomPlan(prefix, tuple(comps), tables.dim, rep_y.size, rep_x.size)
    # one kind of block pair: gather, one product, then a gather (or a transpose when the blocks tile W)
    module._register_constant(f"{prefix}pair_theta", pairs.theta)
    module._register_constant(f"{prefix}pair_map", pairs.maps[0])
    module._register_constant(f"{prefix}pair_scatter", pairs.scatter)
    padded = bool((pairs.theta >= tables.dim).any())
    return HomPlan(prefix, tuple(comps), tables.dim, rep_y.size, rep_x.size, True, padded, pairs.tiles)


def expand_hom(module: torch.nn.Module, plan: HomPlan, theta: torch.Tensor) -> torch.Tensor:
    """``W`` of shape (..., D_y, D_x) from parameters ``theta`` of shape (..., hom_dim)."""
    batch = theta.shape[:-1]
    if plan.dim == 0:
        return theta.new_zeros((*batch, plan.D_y, plan.D_x))
    pre = plan.prefix
    if plan.pair_route:
        padded = torch.cat((theta, theta.new_zeros((*batch, 1))), dim=-1) if plan.pair_padded else theta
        idx = getattr(module, f"{pre}pair_theta")
        blocks = torch.index_select(padded, -1, idx.reshape(-1)).reshape(*batch, *idx.shape)
        flat = blocks @ getattr(module, f"{pre}pair_map")
        if plan.pair_blocks is not None:
            n_y, n_x, s_y, s_x = plan.pair_blocks
            w = flat.reshape(*batch, n_y, n_x, s_y, s_x).transpose(-3, -2)
            return w.reshape(*batch, plan.D_y, plan.D_x)
        flat = torch.cat((flat.reshape(*batch, -1), theta.new_zeros((*batch, 1))), dim=-1)
        w = torch.index_select(flat, -1, getattr(module, f"{pre}pair_scatter"))
        return w.reshape(*batch, plan.D_y, plan.D_x)
    flat = []
    for c in plan.components:
        t = theta[..., c.offset : c.offset + c.s * c.m_y * c.m_x].reshape(*batch, c.s, c.m_y, c.m_x)
        E = getattr(module, c.basis)
        if c.s == 1:  # kron(Θ, E_0): a broadcast product
            blk = t[..., 0, :, None, :, None] * E[0][:, None, :]
        else:
            blk = torch.einsum("...bij,bkl->...ikjl", t, E)
        flat.append(blk.reshape(*batch, -1))
    flat.append(theta.new_zeros((*batch, 1)))
    w_iso = torch.cat(flat, dim=-1)
    # index_select (backward: index_add) is much faster on CPU than advanced indexing (index_put)
    qy, qxt = getattr(module, f"{pre}Qy_blocks"), getattr(module, f"{pre}QxT_blocks")
    P, sy, Qn, sx = qy.shape[0], qy.shape[1], qxt.shape[0], qxt.shape[1]
    g = torch.index_select(w_iso, -1, getattr(module, f"{pre}gather"))
    h = qy @ g.reshape(*batch, P, sy, Qn * sx)  # Q_y blocks from the left
    h = h.reshape(*batch, P * sy, Qn, sx).transpose(-3, -2)  # (..., Qn, P s_y, s_x)
    wb = h @ qxt  # Q_xᵀ blocks from the right
    w = torch.index_select(wb.reshape(*batch, -1), -1, getattr(module, f"{pre}scatter"))
    return w.reshape(*batch, plan.D_y, plan.D_x)


INIT_SCHEMES = ("xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "identity")
_DEFAULT_GAIN = {"xavier_normal": 1.0, "xavier_uniform": 1.0, "kaiming_normal": 2**0.5, "kaiming_uniform": 2**0.5}


_SCHEME_ALIASES = {"he_normal": "kaiming_normal", "he_uniform": "kaiming_uniform"}  # symm-learning 0.8.1's names


def check_init_scheme(init_scheme: object) -> str:
    """The scheme's name if it is one of :data:`INIT_SCHEMES` (or ``"he_*"``, read as ``"kaiming_*"``)."""
    init_scheme = _SCHEME_ALIASES.get(init_scheme, init_scheme)  # type: ignore[call-overload]
    if init_scheme not in INIT_SCHEMES:
        raise ValueError(f"init_scheme must be one of {INIT_SCHEMES} (or he_normal / he_uniform), got {init_scheme!r}")
    return init_scheme  # type: ignore[return-value]


def fans(plan: HomPlan, kernel_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Per-parameter ``(fan_in, fan_out)``, shape (hom_dim,) each: ``K s_k m_k^x`` and ``K s_k m_k^y``.

    In the block of irrep ``k`` a row of ``Σ_b Θ_b ⊗ E_b`` has squared norm ``Σ_{j,b} Θ_{b,ij}²`` (the rows
    of the ``E_b`` at one index are orthonormal) and ``Q_y``, ``Q_x`` are orthogonal, so an output coordinate
    sums ``K s_k m_k^x`` independent terms and an input coordinate feeds ``K s_k m_k^y``: the fans of the
    dense layer restricted to one irrep block.
    """
    fan_in, fan_out = np.empty(plan.dim), np.empty(plan.dim)
    for c in plan.components:
        n = c.s * c.m_y * c.m_x
        fan_in[c.offset : c.offset + n] = kernel_size * c.s * c.m_x
        fan_out[c.offset : c.offset + n] = kernel_size * c.s * c.m_y
    return fan_in, fan_out


def init_std(plan: HomPlan, gain: float) -> np.ndarray:
    """Per-parameter standard deviation ``gain / sqrt(s_k m_k^x)`` (He / kaiming), shape (hom_dim,)."""
    return gain / np.sqrt(fans(plan)[0])


def init_hom(
    plan: HomPlan, init_scheme: str, gain: float | None = None, kernel_size: int | None = None
) -> torch.Tensor:
    """Initial parameters, float64, shape (hom_dim,) or (kernel_size, hom_dim), drawn from torch's RNG.

    - ``"xavier_normal"`` / ``"xavier_uniform"``: variance ``gain² · 2 / (fan_in + fan_out)`` (default
      gain 1);
    - ``"kaiming_normal"`` / ``"kaiming_uniform"``: variance ``gain² / fan_in`` (default gain √2, ReLU);
    - ``"identity"``: ``Θ_{k,0} = I`` (rectangular eye when ``m_k^y ≠ m_k^x``), the other ``Θ_{k,b}`` zero,
      so ``W = Q_y (⊕_k I ⊗ I) Q_xᵀ``: the identity when ``ρ_x = ρ_y``; for a kernel, the centre tap only.

    The fans are per irrep block (:func:`fans`); uniform schemes use the bound ``√3 · std``.
    """
    init_scheme = check_init_scheme(init_scheme)
    K = 1 if kernel_size is None else kernel_size
    shape = (plan.dim,) if kernel_size is None else (K, plan.dim)
    if init_scheme == "identity":
        theta = torch.zeros(K, plan.dim, dtype=torch.float64)
        for c in plan.components:
            eye = torch.eye(c.m_y, c.m_x, dtype=torch.float64).reshape(-1)
            theta[K // 2, c.offset : c.offset + eye.numel()] = eye  # b = 0 comes first
        return theta.reshape(shape)
    gain = _DEFAULT_GAIN[init_scheme] if gain is None else float(gain)
    fan_in, fan_out = fans(plan, K)
    var = gain**2 * (2.0 / (fan_in + fan_out) if init_scheme.startswith("xavier") else 1.0 / fan_in)
    std = torch.as_tensor(np.sqrt(var), dtype=torch.float64)
    if init_scheme.endswith("normal"):
        noise = torch.randn(shape, dtype=torch.float64)
    else:
        noise = (torch.rand(shape, dtype=torch.float64) * 2 - 1) * np.sqrt(3.0)
    return noise * std
