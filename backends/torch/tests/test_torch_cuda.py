"""symm_torch on a CUDA device: every module moved with ``.to("cuda")`` computes what it computes on the CPU,
is equivariant on every group element there, trains there, and exports there. Skipped without a CUDA GPU."""

from __future__ import annotations

import copy

import pytest
import symm
import torch
from _torch_helpers import check_gradients_and_step, mixed_rep, outputs, randomise
from symm.testing import assert_equivariant

from symm_torch.models import EMLP, IMLP
from symm_torch.nn import (
    Change2DisentangledBasis,
    EquivMultivariateNormal,
    IrrepSubspaceNormPooling,
    eAffine,
    eBatchNorm1d,
    eConv1D,
    eConvTranspose1d,
    eLayerNorm,
    eLinear,
    eRMSNorm,
)

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA GPU (torch.cuda.is_available() is False)"
)

REP = mixed_rep(symm.groups.dihedral(4))
INV = REP.group.trivial_rep(3)

# name -> (factory, input shape, out rep or None when the output is not a feature vector of a rep)
CASES = {
    "eLinear": (lambda: eLinear(REP, REP), (5, REP.size), REP),
    "eConv1D": (lambda: eConv1D(REP, REP, kernel_size=3, padding=1), (2, REP.size, 7), REP),
    "eConvTranspose1d": (lambda: eConvTranspose1d(REP, REP, kernel_size=3), (2, REP.size, 7), REP),
    "EMLP": (lambda: EMLP(REP, REP, hidden_units=[2 * REP.group.order]), (5, REP.size), REP),
    "IMLP": (lambda: IMLP(REP, 3, hidden_units=[2 * REP.group.order]), (5, REP.size), INV),
    "eAffine": (lambda: eAffine(REP), (5, REP.size), REP),
    "eLayerNorm": (lambda: eLayerNorm(REP), (5, REP.size), REP),
    "eRMSNorm": (lambda: eRMSNorm(REP), (5, REP.size), REP),
    "eBatchNorm1d": (lambda: eBatchNorm1d(REP), (5, REP.size), REP),
    "Change2DisentangledBasis": (lambda: Change2DisentangledBasis(REP), (5, REP.size), None),
    "IrrepSubspaceNormPooling": (lambda: IrrepSubspaceNormPooling(REP), (5, REP.size), None),
    "EquivMultivariateNormal": (lambda: EquivMultivariateNormal(REP, diagonal=False), None, None),
}


def _input(name: str, shape, module) -> torch.Tensor:
    if shape is None:  # the Gaussian head takes its own input size
        shape = (5, module.in_rep.size)
    return torch.randn(shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)


@pytest.mark.parametrize("name", list(CASES))
def test_module_on_cuda_matches_cpu_is_equivariant_trains_and_exports(name):
    factory, shape, out_rep = CASES[name]
    cpu = randomise(factory().double(), seed=2)
    x = _input(name, shape, cpu)
    gpu = copy.deepcopy(cpu).to("cuda")
    xg = x.to("cuda")
    for got, want in zip(outputs(gpu, xg), outputs(cpu, x), strict=True):
        assert got.device.type == "cuda"
        torch.testing.assert_close(got.cpu(), want, rtol=1e-10, atol=1e-10)
    if out_rep is not None:
        axis = 1 if x.ndim == 3 else -1
        assert_equivariant(gpu, REP, out_rep, xg, axis=axis)
    gpu.eval()
    exported = gpu.export()
    for got, want in zip(outputs(exported, xg), outputs(gpu, xg), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    gpu.train()
    if any(True for _ in gpu.parameters()):
        check_gradients_and_step(gpu, xg)
        assert all(p.device.type == "cuda" for p in gpu.parameters())
        if out_rep is not None:
            assert_equivariant(gpu, REP, out_rep, xg, axis=1 if x.ndim == 3 else -1)


def test_float32_on_cuda_close_to_float64():
    module = randomise(EMLP(REP, REP, hidden_units=[16]).double(), seed=4).to("cuda")
    x = torch.randn(64, REP.size, dtype=torch.float64, device="cuda")
    ref = module(x)
    got = copy.deepcopy(module).float()(x.float())
    torch.testing.assert_close(got.double(), ref, rtol=1e-4, atol=1e-4)


def _sequence_cases() -> dict:
    from symm_torch.models import eConditionalUnet1D
    from symm_torch.nn import eMultiheadAttention, eTransformerEncoderLayer

    G = symm.groups.dihedral(4)
    rep, cond = G.regular_rep() * 2, G.regular_rep()
    x = torch.randn(2, 8, rep.size, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    xt = x.transpose(1, 2).contiguous()  # (B, D, T) for the U-Net
    c = torch.randn(2, cond.size, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    t = torch.tensor([3, 7])
    return {
        "eMultiheadAttention": (
            lambda: eMultiheadAttention(rep, 2),
            lambda m, d: m(*(3 * [x.to(d)]), attn_mask=torch.ones(8, 8, dtype=torch.bool, device=d).triu(1)),
        ),
        "eTransformerEncoderLayer": (
            lambda: eTransformerEncoderLayer(rep, 2, 2 * rep.size, dropout=0.0, rel_pos_max_distance=3),
            lambda m, d: m(x.to(d), is_causal=True),
        ),
        "eConditionalUnet1D": (
            lambda: eConditionalUnet1D(rep, cond, diffusion_step_embed_dim=8, down_dims=(8, 16)),
            lambda m, d: m(xt.to(d), t.to(d), c.to(d)),
        ),
    }


def _tensors(out) -> tuple:
    """A module's outputs as a tuple of tensors (attention returns ``(output, weights or None)``)."""
    return tuple(o for o in (out if isinstance(out, tuple) else (out,)) if o is not None)


@pytest.mark.parametrize("name", ["eMultiheadAttention", "eTransformerEncoderLayer", "eConditionalUnet1D"])
def test_sequence_module_on_cuda_matches_cpu_and_exports(name):
    factory, call = _sequence_cases()[name]
    cpu = randomise(factory().double(), seed=7).eval()
    gpu = copy.deepcopy(cpu).to("cuda")
    want = _tensors(call(cpu, "cpu"))
    for got in (_tensors(call(gpu, "cuda")), _tensors(call(gpu.export(), "cuda"))):
        for g, w in zip(got, want, strict=True):
            assert g.device.type == "cuda"
            torch.testing.assert_close(g.cpu(), w, rtol=1e-10, atol=1e-10)
