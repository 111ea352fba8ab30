"""eMultiheadAttention, invariant positions and the transformer layers: exact equivariance on every group
element (float64), invariant attention weights, torch.nn.MultiheadAttention's mask semantics (through the
export), gradients, optimizer steps, export, round trips and errors."""

from __future__ import annotations

import numpy as np
import pytest
import symm
import torch
from _torch_helpers import check_gradients_and_step, check_round_trips, randomise
from symm.testing import assert_equivariant

from symm_torch.nn import (
    InvariantPositionalEmbedding,
    PlainMultiheadAttention,
    PlainTransformerDecoderLayer,
    PlainTransformerEncoderLayer,
    causal_mask,
    eMultiheadAttention,
    eTransformerDecoder,
    eTransformerDecoderLayer,
    eTransformerEncoder,
    eTransformerEncoderLayer,
    head_partition,
)

pytestmark = [
    # torch.nn.MultiheadAttention (the export) deprecates mixing a float key_padding_mask with a bool attn_mask,
    # which the mask tests do on purpose; symm.testing reads max |f(x)| of outputs that require grad
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask:UserWarning"),
    pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad:UserWarning"),
]


def _random_basis(rep: symm.Rep, seed: int = 3) -> symm.Rep:
    P = np.linalg.qr(np.random.default_rng(seed).normal(size=(rep.size, rep.size)))[0]
    return rep.change_basis(P)


def reps() -> dict[str, tuple[symm.Rep, int]]:
    """(rep, heads): C3 and D3 regular copies, and C4 regular copies in a random orthogonal basis."""
    return {
        "C3": (symm.groups.cyclic(3).regular_rep() * 2, 2),
        "D3": (symm.groups.dihedral(3).regular_rep() * 2, 2),
        "C4-random-basis": (_random_basis(symm.groups.cyclic(4).regular_rep() * 2), 2),
    }


REPS = reps()
POSITIONS = {
    "none": {},
    "relative": {"rel_pos_max_distance": 2},
    "rotary-invariant": {"rotary": "invariant"},
    "rotary-copies": {"rotary": "copies"},
}
B, L, S = 2, 4, 3


@pytest.fixture(autouse=True)
def _float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _heads(rep: symm.Rep, heads: int, pos: dict) -> int:
    return 1 if pos.get("rotary") else heads  # rotary needs two copies of an irrep per head: one head here


def _masks(H: int) -> dict[str, dict]:
    gen = torch.Generator().manual_seed(0)
    bool_attn = torch.rand(L, S, generator=gen) < 0.3
    bool_attn[:, 0] = False  # no fully masked row
    kpm = torch.zeros(B, S, dtype=torch.bool)
    kpm[0, -1] = True
    return {
        "none": {},
        "causal": {"is_causal": True},
        "bool-attn": {"attn_mask": bool_attn},
        "float-attn-per-head": {"attn_mask": torch.randn(B * H, L, S, generator=gen)},
        "key-padding": {"key_padding_mask": kpm},
        "float-key-padding+attn": {"key_padding_mask": torch.randn(B, S, generator=gen), "attn_mask": bool_attn},
    }


@pytest.mark.parametrize("name", list(REPS))
@pytest.mark.parametrize("pos", list(POSITIONS))
def test_attention_equivariant_every_mask_and_position(name, pos):
    rep, heads = REPS[name]
    H = _heads(rep, heads, POSITIONS[pos])
    m = randomise(eMultiheadAttention(rep, H, **POSITIONS[pos])).eval()
    gen = torch.Generator().manual_seed(1)
    q, kv = torch.randn(B, L, rep.size, generator=gen), torch.randn(B, S, rep.size, generator=gen)
    for masks in _masks(H).values():
        # cross-attention: query and memory transform together (stacked on the time axis)
        def f(z, masks=masks):
            return m(z[:, :L], z[:, L:], z[:, L:], **masks)[0]

        assert_equivariant(f, rep, rep, torch.cat([q, kv], 1))
    # self-attention with the causal mask
    assert_equivariant(lambda x: m(x, is_causal=True)[0], rep, rep, q)
    # invariant weights, averaged and per head
    w = m(q, kv, kv, average_attn_weights=False)[1]
    for g in range(rep.group.order):
        R = torch.as_tensor(rep(g))
        wg = m(q @ R.T, kv @ R.T, kv @ R.T, average_attn_weights=False)[1]
        torch.testing.assert_close(wg, w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", list(REPS))
def test_heads_are_invariant_blocks(name):
    rep, heads = REPS[name]
    idx = head_partition(rep, heads)
    Q = rep.change_of_basis
    assert sorted(idx.reshape(-1).tolist()) == list(range(rep.size))
    for g in range(rep.group.order):
        Rg = Q.T @ rep(g) @ Q
        for h in range(heads):
            block = Rg[np.ix_(idx[h], idx[h])]
            np.testing.assert_allclose(block @ block.T, np.eye(len(idx[h])), atol=1e-12)  # orthogonal on the head
            others = np.setdiff1d(np.arange(rep.size), idx[h])
            np.testing.assert_allclose(Rg[np.ix_(others, idx[h])], 0, atol=1e-12)  # and no leak out of it


@pytest.mark.parametrize("pos", list(POSITIONS))
def test_attention_export_matches_torch_mask_semantics(pos):
    """The export is a torch.nn.MultiheadAttention (no positions): equal outputs and weights for every mask
    kind means the masks mean what they mean in torch."""
    rep, heads = REPS["D3"]
    H = _heads(rep, heads, POSITIONS[pos])
    m = randomise(eMultiheadAttention(rep, H, **POSITIONS[pos])).eval()
    ex = m.export()
    assert isinstance(ex, torch.nn.MultiheadAttention if pos == "none" else PlainMultiheadAttention)
    gen = torch.Generator().manual_seed(2)
    q, kv = torch.randn(B, L, rep.size, generator=gen), torch.randn(B, S, rep.size, generator=gen)
    for masks in _masks(H).values():
        if masks.get("is_causal"):
            masks = {"attn_mask": causal_mask(L, S)}  # torch's module wants the mask itself with is_causal
        for avg in (True, False):
            out, w = m(q, kv, kv, average_attn_weights=avg, **masks)
            out2, w2 = ex(q, kv, kv, average_attn_weights=avg, **masks)
            torch.testing.assert_close(out2, out, rtol=1e-10, atol=1e-10)
            torch.testing.assert_close(w2, w, rtol=1e-10, atol=1e-10)
        fused, none = m(q, kv, kv, need_weights=False, **masks)
        assert none is None
        torch.testing.assert_close(fused, out, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list(REPS))
@pytest.mark.parametrize("pos", ["relative", "rotary-copies"])
def test_attention_gradients_step_round_trips(name, pos):
    rep, heads = REPS[name]
    heads = _heads(rep, heads, POSITIONS[pos])
    kwargs = POSITIONS[pos]
    m = randomise(eMultiheadAttention(rep, heads, **kwargs))
    x = torch.randn(B, L, rep.size)
    check_gradients_and_step(m, x)
    m.eval()
    assert_equivariant(lambda z: m(z, is_causal=True)[0], rep, rep, x)
    check_round_trips(m, lambda: eMultiheadAttention(rep, heads, **kwargs), x)


def test_attention_errors():
    rep = symm.groups.dihedral(3).regular_rep() * 2  # multiplicities 2, 2, 4
    with pytest.raises(ValueError, match=r"num_heads=4 cannot split .* Valid head counts here: \[1, 2\]"):
        eMultiheadAttention(rep, 4)
    with pytest.raises(ValueError, match="num_heads=3"):
        eMultiheadAttention(symm.groups.cyclic(3).regular_rep() * 2, 3)
    with pytest.raises(ValueError, match="num_heads must be an int"):
        eMultiheadAttention(rep, 0)
    with pytest.raises(ValueError, match="rotary='invariant' needs two trivial copies"):
        eMultiheadAttention(rep, 2, rotary="invariant")
    with pytest.raises(ValueError, match="rotary must be one of"):
        eMultiheadAttention(rep, 2, rotary="full")
    with pytest.raises(ValueError, match="num_heads=5 must divide"):
        PlainMultiheadAttention(rep, 5)
    m = eMultiheadAttention(rep, 2)
    with pytest.raises(ValueError, match=r"query must have shape \(B, T, 12\)"):
        m(torch.randn(2, 3, 11))
    with pytest.raises(ValueError, match="must agree on B and S"):
        m(torch.randn(2, 3, 12), torch.randn(2, 4, 12), torch.randn(2, 5, 12))
    with pytest.raises(ValueError, match="attn_mask must have shape"):
        m(torch.randn(2, 3, 12), attn_mask=torch.zeros(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="key_padding_mask must have shape"):
        m(torch.randn(2, 3, 12), key_padding_mask=torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="dtype"):
        m(torch.randn(2, 3, 12, dtype=torch.float32))
    with pytest.raises(ValueError, match="no trivial irrep"):
        InvariantPositionalEmbedding(symm.groups.cyclic(3).irreps()[1], 4)


def test_float_mask_moves_weights_like_torch():
    """A -inf float mask and a True bool mask exclude the same keys."""
    rep, heads = REPS["C3"]
    m = randomise(eMultiheadAttention(rep, heads)).eval()
    x = torch.randn(B, L, rep.size)
    bool_mask = causal_mask(L).isinf()
    torch.testing.assert_close(m(x, attn_mask=bool_mask)[0], m(x, attn_mask=causal_mask(L))[0])
    torch.testing.assert_close(m(x, is_causal=True)[0], m(x, attn_mask=bool_mask)[0])
    w = m(x, is_causal=True)[1]
    assert float(w.triu(1).abs().max()) == 0.0


@pytest.mark.parametrize("name", list(REPS))
def test_invariant_positional_embedding(name):
    rep, _ = REPS[name]
    pe = randomise(InvariantPositionalEmbedding(rep, 6))
    x = torch.randn(B, L, rep.size)
    assert_equivariant(pe, rep, rep, x)
    torch.testing.assert_close(pe.export()(x), pe(x), rtol=0, atol=1e-13)
    check_gradients_and_step(pe, x)
    check_round_trips(pe, lambda: InvariantPositionalEmbedding(rep, 6), x)
    with pytest.raises(ValueError, match="exceeds max_len=6"):
        pe(torch.randn(1, 7, rep.size))


# ---------------------------------------------------------------------------------------------- transformer layers
LAYER_OPTS = {
    "pre-rms": {"norm_module": "rmsnorm"},
    "pre-layer-relative": {"norm_module": "layernorm", "rel_pos_max_distance": 2},
    "post-rms-rotary": {"norm_first": False, "rotary": "copies"},
    "post-layer": {"norm_first": False, "norm_module": "layernorm"},
}


def _layer_masks(H: int, T: int) -> dict[str, dict]:
    kpm = torch.zeros(B, T, dtype=torch.bool)
    kpm[1, -1] = True
    return {
        "none": {},
        "causal": {"is_causal": True},
        "mask": {"src_mask": causal_mask(T)},
        "padding": {"src_key_padding_mask": kpm},
    }


@pytest.mark.parametrize("name", list(REPS))
@pytest.mark.parametrize("opts", list(LAYER_OPTS))
def test_encoder_layer(name, opts):
    rep, heads = REPS[name]
    heads = _heads(rep, heads, LAYER_OPTS[opts])
    kwargs = dict(dim_feedforward=2 * rep.size, dropout=0.1, **LAYER_OPTS[opts])
    layer = randomise(eTransformerEncoderLayer(rep, heads, **kwargs)).eval()
    x = torch.randn(B, L, rep.size)
    ex = layer.export()
    assert isinstance(ex, PlainTransformerEncoderLayer)
    for masks in _layer_masks(heads, L).values():
        assert_equivariant(lambda z, masks=masks: layer(z, **masks), rep, rep, x)
        torch.testing.assert_close(ex(x, **masks), layer(x, **masks), rtol=1e-10, atol=1e-10)
    layer.train()
    torch.manual_seed(0)
    # pre-norm with LayerNorm: the keys have no invariant part beyond the key bias, so the (invariant)
    # query bias meets Σ_j ∂L/∂logit_j = 0 and gets no gradient
    check_gradients_and_step(layer, x, may_vanish=("q_proj.bias",) if opts.startswith("pre-layer") else ())
    layer.eval()
    assert_equivariant(lambda z: layer(z, is_causal=True), rep, rep, x)
    check_round_trips(layer, lambda: eTransformerEncoderLayer(rep, heads, **kwargs), x)


@pytest.mark.parametrize("name", list(REPS))
@pytest.mark.parametrize("opts", ["pre-rms", "post-layer"])
def test_decoder_layer(name, opts):
    rep, heads = REPS[name]
    kwargs = dict(dim_feedforward=2 * rep.size, **LAYER_OPTS[opts])
    layer = randomise(eTransformerDecoderLayer(rep, heads, **kwargs)).eval()
    tgt, mem = torch.randn(B, L, rep.size), torch.randn(B, S, rep.size)
    kpm = torch.zeros(B, S, dtype=torch.bool)
    kpm[0, 0] = True
    ex = layer.export()
    assert isinstance(ex, PlainTransformerDecoderLayer)
    for masks in (
        {},
        {"tgt_is_causal": True},
        {"tgt_mask": causal_mask(L), "memory_key_padding_mask": kpm},
        {"memory_is_causal": True},
    ):
        z = torch.cat([tgt, mem], 1)
        assert_equivariant(lambda z, masks=masks: layer(z[:, :L], z[:, L:], **masks), rep, rep, z)
        torch.testing.assert_close(ex(tgt, mem, **masks), layer(tgt, mem, **masks), rtol=1e-10, atol=1e-10)
    layer.train()
    check_gradients_and_step(layer, tgt, mem)
    layer.eval()
    assert_equivariant(lambda z: layer(z[:, :L], z[:, L:]), rep, rep, torch.cat([tgt, mem], 1))
    check_round_trips(layer, lambda: eTransformerDecoderLayer(rep, heads, **kwargs), tgt, mem)


@pytest.mark.parametrize("name", ["D3", "C4-random-basis"])
def test_stacks(name):
    rep, heads = REPS[name]
    enc = randomise(eTransformerEncoder(eTransformerEncoderLayer(rep, heads, dim_feedforward=rep.size), 2, norm=True))
    dec = randomise(eTransformerDecoder(eTransformerDecoderLayer(rep, heads, dim_feedforward=rep.size), 2, norm=True))
    enc.eval(), dec.eval()
    x, mem = torch.randn(B, L, rep.size), torch.randn(B, S, rep.size)
    assert_equivariant(lambda z: enc(z, is_causal=True), rep, rep, x)
    assert_equivariant(lambda z: dec(z[:, :L], enc(z[:, L:]), tgt_is_causal=True), rep, rep, torch.cat([x, mem], 1))
    torch.testing.assert_close(enc.export()(x, is_causal=True), enc(x, is_causal=True), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(dec.export()(x, mem), dec(x, mem), rtol=1e-10, atol=1e-10)
    check_gradients_and_step(enc, x)
    check_gradients_and_step(dec, x, mem)
    enc.eval(), dec.eval()
    assert_equivariant(lambda z: dec(z[:, :L], enc(z[:, L:])), rep, rep, torch.cat([x, mem], 1))
    check_round_trips(
        enc,
        lambda: eTransformerEncoder(eTransformerEncoderLayer(rep, heads, dim_feedforward=rep.size), 2, norm=True),
        x,
    )


def test_layer_errors():
    rep = symm.groups.cyclic(3).regular_rep() * 2
    with pytest.raises(ValueError, match="norm_module must be one of"):
        eTransformerEncoderLayer(rep, 2, norm_module="batchnorm")
    with pytest.raises(ValueError, match="cannot split"):
        eTransformerEncoderLayer(rep, 3)
    layer = eTransformerEncoderLayer(rep, 2)
    with pytest.raises(ValueError, match=r"src must have shape \(B, T, 6\)"):
        layer(torch.randn(3, 6))
    dec = eTransformerDecoderLayer(rep, 2)
    with pytest.raises(ValueError, match="memory must have shape"):
        dec(torch.randn(1, 3, 6), torch.randn(1, 3, 5))
    with pytest.raises(TypeError, match="stacks copies of a eTransformerEncoderLayer"):
        eTransformerEncoder(PlainTransformerEncoderLayer(rep, 2), 2)


@pytest.mark.compile
def test_encoder_layer_compiles():
    torch.set_default_dtype(torch.float32)
    rep = symm.groups.cyclic(3).regular_rep() * 2
    layer = randomise(eTransformerEncoderLayer(rep, 2, 12, dropout=0.0, rel_pos_max_distance=2)).to(torch.float32)
    x = torch.randn(2, 5, rep.size)
    ref = layer(x, is_causal=True)
    compiled = torch.compile(layer)
    out = compiled(x, is_causal=True)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    out.square().sum().backward()
    assert all(p.grad is not None for p in layer.parameters())


@pytest.mark.parametrize("bias", [True, False])
def test_attention_without_invariant_subspace(bias):
    """A rep with no trivial copy has no invariant bias: the export is a bias-free torch.nn.MultiheadAttention."""
    G = symm.groups.cyclic(3)
    rep = _random_basis(G.irreps()[1] * 2)
    m = randomise(eMultiheadAttention(rep, 2, bias=bias)).eval()
    x = torch.randn(B, L, rep.size)
    assert_equivariant(lambda z: m(z, is_causal=True)[0], rep, rep, x)
    ex = m.export()
    assert ex.in_proj_bias is None
    torch.testing.assert_close(ex(x, x, x)[0], m(x)[0], rtol=1e-10, atol=1e-10)
