"""eTimeCNNEncoder, eCondTransformer and eConditionalUnet1D (and their plain twins): exact equivariance on every
group element (float64) for every position, mask and conditioning option, gradients to every parameter,
equivariance after an optimizer step, export, round trips, errors, and torch.compile of the U-Net."""

from __future__ import annotations

import numpy as np
import pytest
import symm
import torch
from _torch_helpers import check_gradients_and_step, check_round_trips, mixed_rep, randomise

from symm_torch.models import (
    ConditionalUnet1D,
    CondTransformer,
    TimeCNNEncoder,
    eConditionalUnet1D,
    eCondTransformer,
    eTimeCNNEncoder,
)


def cases() -> dict[str, tuple[symm.Rep, symm.Rep]]:
    """(in_rep, cond_rep): a standard rep of D3, a C3 rep, and every C4 irrep in a scrambled basis."""
    D3, C3, C4 = symm.groups.dihedral(3), symm.groups.cyclic(3), symm.groups.cyclic(4)
    std = D3.irreps()[2]
    P = np.linalg.qr(np.random.default_rng(5).normal(size=(6, 6)))[0]
    return {
        "D3": (std, symm.direct_sum(std, std, D3.irreps()[1])),
        "C3": (symm.direct_sum(*C3.irreps()), C3.regular_rep()),
        "C4-random-basis": (mixed_rep(C4), (C4.irreps()[2] * 3).change_basis(P)),
    }


CASES = cases()


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def check_equivariant_multi(f, reps_in, rep_out, inputs, axes, tol=1e-10, out_axis=-1):
    """``f(ρ_1(g) x_1, …) = ρ_out(g) f(x_1, …)`` on every element (``None`` rep: the input is invariant)."""

    def act(rep, x, axis, g):
        if rep is None:
            return x
        R = torch.as_tensor(rep(g), dtype=x.dtype)
        return torch.movedim(torch.movedim(x, axis, -1) @ R.T, -1, axis)

    with torch.no_grad():
        y = f(*inputs)
        scale = max(float(y.abs().max()), 1.0)
        for g in range(rep_out.group.order):
            moved = [act(r, x, a, g) for r, x, a in zip(reps_in, inputs, axes, strict=True)]
            err = float((f(*moved) - act(rep_out, y, out_axis, g)).abs().max()) / scale
            assert err <= tol, f"not equivariant at element {g} of {rep_out.group.name}: {err:.2e}"


# ---------------------------------------------------------------------------------------------- eTimeCNNEncoder
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("invariant", [False, True])
def test_time_cnn_encoder(name, invariant):
    rep, _ = CASES[name]
    G = rep.group
    out = 2 if invariant else rep
    out_rep = G.trivial_rep(2) if invariant else rep
    kwargs = dict(hidden_channels=[2 * G.order, 2 * G.order], time_horizon=6, mlp_hidden=[2 * G.order])
    m = randomise(eTimeCNNEncoder(rep, out, append_last_frame=invariant, **kwargs)).eval()
    x = torch.randn(3, rep.size, 6)
    check_equivariant_multi(m, [rep], out_rep, [x], [1])
    torch.testing.assert_close(m.export()(x), m(x), rtol=1e-10, atol=1e-10)
    m.train()
    check_gradients_and_step(m, x)
    m.eval()
    check_equivariant_multi(m, [rep], out_rep, [x], [1])
    check_round_trips(m, lambda: eTimeCNNEncoder(rep, out, append_last_frame=invariant, **kwargs), x)
    twin = TimeCNNEncoder(rep, out, append_last_frame=invariant, **kwargs)
    assert twin(x).shape == m(x).shape == (3, out_rep.size)
    assert sum(p.numel() for p in twin.parameters()) > sum(p.numel() for p in m.parameters())


def test_time_cnn_errors():
    rep = symm.groups.cyclic(3).regular_rep()
    m = eTimeCNNEncoder(rep, rep, [3], 4, mlp_hidden=[3])
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3, 4\)"):
        m(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match="time_horizon must be an int >= 1"):
        eTimeCNNEncoder(rep, rep, [3, 3, 3], 0)
    with pytest.raises(ValueError, match="hidden_channels must name"):
        eTimeCNNEncoder(rep, rep, [], 4)


# ---------------------------------------------------------------------------------------------- eCondTransformer
COND_OPTS = {
    "absolute": dict(pos_encoding="absolute"),
    "relative-causal": dict(pos_encoding="relative", causal_attn=True),
    "rotary-encoder": dict(pos_encoding="rotary", num_cond_layers=1),
    "none-causal-layernorm-post": dict(
        pos_encoding="none", causal_attn=True, norm_module="layernorm", norm_first=False
    ),
}


def _cond_transformer(cls, rep, cond, opts):
    return cls(rep, cond, rep, 4, 2, num_layers=1, num_attention_heads=1, embedding_dim=2 * rep.group.order, **opts)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("opts", list(COND_OPTS))
def test_cond_transformer(name, opts):
    rep, cond = CASES[name]
    m = randomise(_cond_transformer(eCondTransformer, rep, cond, COND_OPTS[opts])).eval()
    X, Z = torch.randn(2, 4, rep.size), torch.randn(2, 2, cond.size)
    t = torch.tensor([0.3, 5.0])
    check_equivariant_multi(lambda a, b: m(a, t, b), [rep, cond], rep, [X, Z], [-1, -1])
    check_equivariant_multi(lambda a, b: m(a[:, :3], 2, b), [rep, cond], rep, [X, Z[:, 0]], [-1, -1])
    torch.testing.assert_close(m.export()(X, t, Z), m(X, t, Z), rtol=1e-10, atol=1e-10)
    m.train()
    # post-norm with LayerNorm: the last decoder norm's (invariant) bias is removed again by the final norm
    check_gradients_and_step(m, X, t, Z, may_vanish=("norm3.affine.bias",) if "layernorm-post" in opts else ())
    m.eval()
    check_equivariant_multi(lambda a, b: m(a, t, b), [rep, cond], rep, [X, Z], [-1, -1])
    check_round_trips(m, lambda: _cond_transformer(eCondTransformer, rep, cond, COND_OPTS[opts]), X, t, Z)
    twin = _cond_transformer(CondTransformer, rep, cond, COND_OPTS[opts])
    assert twin(X, t, Z).shape == (2, 4, rep.size)


def test_cond_transformer_causal_mask_is_causal():
    rep, cond = CASES["C3"]
    m = randomise(_cond_transformer(eCondTransformer, rep, cond, {"causal_attn": True})).eval()
    X, Z = torch.randn(1, 4, rep.size), torch.randn(1, 2, cond.size)
    X2 = X.clone()
    X2[:, 3] += 1.0  # a change in the last frame does not reach the earlier ones
    torch.testing.assert_close(m(X2, 1, Z)[:, :3], m(X, 1, Z)[:, :3], rtol=0, atol=1e-12)


def test_cond_transformer_errors():
    rep, cond = CASES["C3"]
    with pytest.raises(ValueError, match="cannot split"):
        eCondTransformer(rep, cond, rep, 4, 2, 1, num_attention_heads=4, embedding_dim=6)
    with pytest.raises(ValueError, match="pos_encoding must be one of"):
        eCondTransformer(rep, cond, rep, 4, 2, 1, 1, 6, pos_encoding="learned")
    m = eCondTransformer(rep, cond, rep, 4, 2, 1, 1, 6)
    with pytest.raises(ValueError, match="in_horizon=4"):
        m(torch.randn(1, 5, rep.size), 0, torch.randn(1, 2, cond.size))
    with pytest.raises(ValueError, match="cond_horizon=2"):
        m(torch.randn(1, 4, rep.size), 0, torch.randn(1, 3, cond.size))
    with pytest.raises(ValueError, match="time step"):
        m(torch.randn(2, 4, rep.size), torch.zeros(3), torch.randn(2, 2, cond.size))


# ---------------------------------------------------------------------------------------------- eConditionalUnet1D
UNET_OPTS = {
    "film-scale": dict(cond_predict_scale=True),
    "film-bias-no-norm": dict(cond_predict_scale=False, normalize=False),
}


def _unet(cls, rep, cond, opts):
    G = rep.group
    return cls(rep, cond, diffusion_step_embed_dim=8, down_dims=(G.order, 2 * G.order), **opts)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("opts", list(UNET_OPTS))
def test_conditional_unet(name, opts):
    rep, cond = CASES[name]
    m = randomise(_unet(eConditionalUnet1D, rep, cond, UNET_OPTS[opts])).eval()
    x, c = torch.randn(2, rep.size, 4), torch.randn(2, cond.size)
    t = torch.tensor([1.0, 7.0])
    check_equivariant_multi(lambda a, b: m(a, t, b), [rep, cond], rep, [x, c], [1, -1], out_axis=1)
    torch.testing.assert_close(m.export()(x, t, c), m(x, t, c), rtol=1e-10, atol=1e-10)
    m.train()
    check_gradients_and_step(m, x, t, c)
    m.eval()
    check_equivariant_multi(lambda a, b: m(a, t, b), [rep, cond], rep, [x, c], [1, -1], out_axis=1)
    check_round_trips(m, lambda: _unet(eConditionalUnet1D, rep, cond, UNET_OPTS[opts]), x, t, c)
    twin = _unet(ConditionalUnet1D, rep, cond, UNET_OPTS[opts])
    assert twin(x, t, c).shape == x.shape


def test_conditional_unet_without_condition():
    rep, _ = CASES["D3"]
    m = randomise(eConditionalUnet1D(rep, None, 8, (6, 12, 12))).eval()
    x = torch.randn(2, rep.size, 8)
    check_equivariant_multi(lambda a: m(a, 3), [rep], rep, [x], [1], out_axis=1)
    torch.testing.assert_close(m.export()(x, 3), m(x, 3), rtol=1e-10, atol=1e-10)


def test_conditional_unet_errors():
    rep, cond = CASES["D3"]
    m = eConditionalUnet1D(rep, cond, 8, (6, 12, 12))
    with pytest.raises(ValueError, match="divisible by 2"):
        m(torch.randn(1, rep.size, 6), 0, torch.randn(1, cond.size))
    with pytest.raises(ValueError, match=r"cond must have shape \(B, 5\)"):
        m(torch.randn(1, rep.size, 8), 0)
    with pytest.raises(ValueError, match=r"sample must have shape \(B, 2, T\)"):
        m(torch.randn(1, 8, rep.size), 0, torch.randn(1, cond.size))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        eConditionalUnet1D(rep, cond, kernel_size=4)
    with pytest.raises(ValueError, match="built without cond_rep"):
        eConditionalUnet1D(rep, None, 8, (6,))(torch.randn(1, rep.size, 2), 0, torch.randn(1, cond.size))


@pytest.mark.compile
def test_conditional_unet_compiles():
    torch.set_default_dtype(torch.float32)
    rep, cond = CASES["D3"]
    m = randomise(eConditionalUnet1D(rep, cond, 8, (6, 12))).to(torch.float32)
    x, c = torch.randn(2, rep.size, 4), torch.randn(2, cond.size)
    ref = m(x, 2.0, c)
    compiled = torch.compile(m)
    out = compiled(x, 2.0, c)
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
    out.square().sum().backward()
    assert all(p.grad is not None for p in m.parameters())
