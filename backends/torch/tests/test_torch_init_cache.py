"""Initialisation schemes (fans per irrep block), the eval-mode weight cache, and the symm-learning 0.8.1
names and keywords of the models."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import symm
import torch
from _torch_helpers import mixed_rep
from symm.testing import assert_equivariant

from symm_torch.models import EMLP, IMLP, eMLP, iMLP
from symm_torch.nn import eConv1D, eConv1d, eLinear
from symm_torch.nn._hom import INIT_SCHEMES


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
def test_init_schemes_variance_per_irrep_block(scheme):
    """Empirical output variance per isotypic block matches the closed form of the scheme."""
    torch.manual_seed(0)
    G = symm.groups.dihedral(6)
    rin, rout = G.regular_rep() * 8, G.regular_rep() * 4 + G.trivial_rep(3)
    x = torch.randn(2000, rin.size, dtype=torch.float64)
    outs = [eLinear(rin, rout, bias=False, init_scheme=scheme).double()(x).detach() for _ in range(20)]
    y = torch.cat(outs) @ torch.as_tensor(rout.change_of_basis)  # isotypic coordinates
    if scheme == "identity":
        layer = eLinear(rin, rin, init_scheme="identity").double()
        torch.testing.assert_close(layer(x), x, rtol=1e-12, atol=1e-12)
        conv = eConv1D(rin, rin, 3, padding=1, init_scheme="identity").double()
        xt = torch.randn(2, rin.size, 5, dtype=torch.float64)
        torch.testing.assert_close(conv(xt), xt, rtol=1e-12, atol=1e-12)
        return
    for comp in rout.isotypic_components:
        s = comp.irrep.endomorphism_dim
        m_in = next(c.multiplicity for c in rin.isotypic_components if c.irrep is comp.irrep)
        fan_in, fan_out = s * m_in, s * comp.multiplicity
        expected = 2.0 * fan_in / (fan_in + fan_out) if scheme.startswith("xavier") else 2.0
        got = float(y[:, comp.slice].var())
        assert abs(got / expected - 1) < 0.15, (scheme, comp.irrep.name, got, expected)


def test_init_scheme_errors_and_gain():
    G = symm.groups.cyclic(4)
    with pytest.raises(ValueError, match="init_scheme"):
        eLinear(G.regular_rep(), G.regular_rep(), init_scheme="orthogonal")
    with pytest.raises(ValueError, match="init_scheme"):
        EMLP(G.regular_rep(), G.regular_rep(), init_scheme="he")
    assert eLinear(G.regular_rep(), G.regular_rep(), init_scheme="he_normal").init_scheme == "kaiming_normal"
    torch.manual_seed(0)
    a = eLinear(G.regular_rep(), G.regular_rep(), init_scheme="kaiming_uniform", init_gain=3.0)
    assert float(a.weight_params.abs().max()) <= 3.0 * np.sqrt(3.0) + 1e-6


def test_emlp_output_layer_gain_and_schemes():
    G = symm.groups.dihedral(3)
    for scheme in INIT_SCHEMES:
        model = EMLP(G.regular_rep(), G.regular_rep(), [12, 12], init_scheme=scheme)
        layers = [m for m in model.net if isinstance(m, eLinear)]
        assert all(m.init_scheme == scheme for m in layers)
        if scheme != "identity":
            assert layers[-1].init_gain == 1.0
            assert layers[0].init_gain == (2**-0.5 if scheme.startswith("xavier") else None)
        assert_equivariant(model.double(), G.regular_rep(), G.regular_rep(), torch.randn(4, 6, dtype=torch.float64))


# ---------------------------------------------------------------------------------------------- eval cache
def _layer_and_x(kind):
    G = symm.groups.dihedral(3)
    if kind == "eLinear":
        return eLinear(G.regular_rep() * 2, G.regular_rep()), torch.randn(4, 12)
    return eConv1D(G.regular_rep() * 2, G.regular_rep(), 3, padding=1), torch.randn(2, 12, 7)


@pytest.mark.parametrize("kind", ["eLinear", "eConv1D"])
def test_eval_cache_with_grad_enabled_and_gradients(kind):
    layer, x = _layer_and_x(kind)
    ref = copy.deepcopy(layer)  # training mode: no cache
    layer.eval()
    y = layer(x)  # grad enabled
    assert "_weight_cache" in layer.__dict__
    w_cached = layer.__dict__["_weight_cache"][1][0]
    layer(x)
    assert layer.__dict__["_weight_cache"][1][0] is w_cached  # reused, not re-expanded
    torch.testing.assert_close(y, ref(x), rtol=0, atol=0)
    # gradients through the cached weight equal those of the training-mode expansion
    y.square().sum().backward()
    ref(x).square().sum().backward()
    for (name, p), q in zip(layer.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, msg=name)
    xg = x.clone().requires_grad_(True)
    layer(xg).sum().backward()
    assert xg.grad is not None


@pytest.mark.parametrize("kind", ["eLinear", "eConv1D"])
def test_eval_cache_invalidation(kind):
    layer, x = _layer_and_x(kind)
    layer.eval()
    y0 = layer(x)
    # an optimizer step (in-place, grad enabled, eval mode)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(x).square().sum().backward()
    opt.step()
    y1 = layer(x)
    assert not torch.allclose(y0, y1)
    torch.testing.assert_close(y1, copy.deepcopy(layer).train()(x))
    # load_state_dict
    other, _ = _layer_and_x(kind)
    layer.load_state_dict(other.state_dict())
    torch.testing.assert_close(layer(x), other(x), rtol=0, atol=0)
    # train() drops the cache
    layer.train()
    assert "_weight_cache" not in layer.__dict__
    # in-place update under no_grad
    layer.eval()
    with torch.no_grad():
        layer(x)
        layer.weight_params.mul_(2.0)
        torch.testing.assert_close(layer(x), copy.deepcopy(layer).train()(x))
    # the cache survives neither pickling nor deepcopy, and results agree
    clone = pickle.loads(pickle.dumps(layer))
    assert "_weight_cache" not in clone.__dict__
    torch.testing.assert_close(clone(x), layer(x))


def test_eval_cache_filled_in_inference_mode_then_used_with_grad():
    layer, x = _layer_and_x("eLinear")
    layer.eval()
    with torch.inference_mode():
        y0 = layer(x)
    y = layer(x)
    y.sum().backward()
    assert layer.weight_params.grad is not None
    torch.testing.assert_close(y, y0)


def test_emlp_eval_runs_one_cached_expansion_with_the_same_outputs_and_gradients():
    G = symm.groups.dihedral(3)
    model = EMLP(G.regular_rep() * 2, G.regular_rep(), [24, 12], nonlinearity="pointwise").double()
    ref = copy.deepcopy(model)  # training mode: expands every call
    model.eval()
    x = torch.randn(5, 12, dtype=torch.float64)
    y = model(x)
    cache = model.__dict__["_weight_cache"]
    assert len(cache[1]) == 6  # (weight, bias) of the three layers
    assert model(x) is not None and model.__dict__["_weight_cache"] is cache  # reused
    torch.testing.assert_close(y, ref(x), rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(model(x), y, rtol=0, atol=0)
    y.square().sum().backward()
    ref(x).square().sum().backward()
    for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-12, atol=1e-12, msg=name)
    torch.optim.SGD(model.parameters(), lr=0.1).step()  # invalidates: the versions changed
    torch.testing.assert_close(model(x), copy.deepcopy(model).train()(x), rtol=1e-12, atol=1e-12)
    # a forward hook on a layer is honoured: the model then runs its layers as modules
    seen, expected = [], copy.deepcopy(model).train()(x)
    model.net[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    torch.testing.assert_close(model(x), expected, rtol=1e-12, atol=1e-12)
    assert seen == [(5, 24)]


def test_dtype_check_follows_module_conversion():
    G = symm.groups.cyclic(3)
    model = EMLP(G.regular_rep(), G.regular_rep(), [6])
    model(torch.randn(2, 3))
    model.double()
    assert model(torch.randn(2, 3, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(TypeError, match=r"computes in torch\.float64"):
        model(torch.randn(2, 3))


# ---------------------------------------------------------------------------------------------- 0.8.1 names
def test_0_8_1_aliases_and_keywords():
    G = symm.groups.dihedral(4)
    rin, rout = mixed_rep(G), G.regular_rep()
    torch.manual_seed(0)
    m = eMLP(
        in_rep=rin,
        out_rep=rout,
        hidden_units=[16, 16],
        activation=torch.nn.SiLU(),
        dropout=0.1,
        bias=True,
        hidden_rep=G.regular_rep(),
        init_scheme="xavier_normal",
    )
    assert isinstance(m, EMLP) and sum(isinstance(x, torch.nn.Dropout) for x in m.net) == 2
    assert_equivariant(m.double().eval(), rin, rout, torch.randn(4, rin.size, dtype=torch.float64))
    exported = m.export()
    x = torch.randn(4, rin.size, dtype=torch.float64)
    torch.testing.assert_close(exported.eval()(x), m(x))
    i = iMLP(in_rep=rin, out_dim=2, hidden_units=[16], activation=torch.nn.ReLU(), dropout=0.2)
    assert isinstance(i, IMLP)
    assert_equivariant(i.double().eval(), rin, G.trivial_rep(2), x)
    # EMLP itself takes the 0.8.1 keywords too
    e = EMLP(in_rep=rin, out_rep=rout, hidden_units=[16], dropout=0.5)
    assert e.in_rep is rin
    with pytest.raises(TypeError, match="not both"):
        EMLP(rin, rout, in_type=rin)  # in_type is the alias of in_rep
    with pytest.raises(TypeError, match="missing"):
        EMLP(out_rep=rout)
    with pytest.raises(ValueError, match="dropout"):
        EMLP(rin, rout, dropout=1.0)
    c = eConv1d(in_rep=rin, out_rep=rout, kernel_size=3, padding=1, init_scheme="kaiming_uniform")
    assert isinstance(c, eConv1D) and c(torch.randn(2, rin.size, 5)).shape == (2, rout.size, 5)
    assert eConv1d(rin, rout).init_scheme == "xavier_uniform" and eConv1d(rin, rout).kernel_size == 3


def test_dtype_mismatch_is_a_clear_error():
    G = symm.groups.cyclic(3)
    for module, x in [
        (eLinear(G.regular_rep(), G.regular_rep()), torch.randn(2, 3, dtype=torch.float64)),
        (eConv1D(G.regular_rep(), G.regular_rep(), 1), torch.randn(2, 3, 4, dtype=torch.float64)),
        (EMLP(G.regular_rep(), G.regular_rep(), [6]), torch.ones(2, 3, dtype=torch.int64)),
        (IMLP(G.regular_rep(), 2, [6]), torch.randn(2, 3, dtype=torch.float64)),
    ]:
        with pytest.raises(TypeError, match="dtype"):
            module(x)
