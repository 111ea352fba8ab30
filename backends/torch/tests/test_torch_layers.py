"""The 0.8.1 layer family: InvariantBias, eAffine, eLayerNorm, eRMSNorm, eBatchNorm1d — equivariance on every
element of every test group (C_n, D_n, Q8, a product, each in a random orthogonal basis), gradients,
equivariance after an optimizer step, round trips, export, and clear errors."""

from __future__ import annotations

import pytest
import symm
import torch
from _torch_helpers import (
    check_equivariant,
    check_gradients_and_step,
    check_round_trips,
    groups,
    mixed_rep,
    outputs,
    randomise,
)

from symm_torch.nn import InvariantBias, eAffine, eBatchNorm1d, eLayerNorm, eRMSNorm

GROUPS = groups()
REPS = {name: mixed_rep(G) for name, G in GROUPS.items()}

FACTORIES = {
    "InvariantBias": InvariantBias,
    "eAffine": eAffine,
    "eAffine-random": lambda rep: eAffine(rep, init_scheme="random"),
    "eLayerNorm": eLayerNorm,
    "eRMSNorm": eRMSNorm,
    "eBatchNorm1d-train": eBatchNorm1d,
    "eBatchNorm1d-eval": lambda rep: eBatchNorm1d(rep).eval(),
}


def _x(rep, n=6, seed=0, dtype=torch.float64):
    return torch.randn(n, rep.size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype) + 0.5


@pytest.fixture(params=list(GROUPS), ids=list(GROUPS))
def gname(request):
    return request.param


@pytest.mark.parametrize("kind", list(FACTORIES))
def test_equivariant_gradients_step_round_trips_export(gname, kind):
    rep = REPS[gname]
    factory = lambda: FACTORIES[kind](rep).double()  # noqa: E731
    module = randomise(factory(), seed=1)
    if kind.startswith("eBatchNorm1d"):  # symmetric running statistics from a training batch
        training = module.training
        module.train()(_x(rep, 32, seed=5) * 2)
        module.train(training)
    x = _x(rep)
    check_equivariant(module, rep, rep, x)
    check_gradients_and_step(module, x)
    check_equivariant(module, rep, rep, x)  # still equivariant after an optimizer step
    check_round_trips(module, lambda: FACTORIES[kind](rep).double(), x)
    module.eval()
    exported = module.export()
    assert {type(m).__module__.split(".")[0] for m in exported.modules()} <= {"torch"}
    for u, v in zip(outputs(module, x), outputs(exported, x), strict=True):
        torch.testing.assert_close(v, u, rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match=str(rep.size)):
        module(torch.randn(3, rep.size + 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        module(x.float())


def test_film_affine(gname):
    rep = REPS[gname]
    film = eAffine(rep, learnable=False).double()
    n, m = film.n_copies, film.n_bias
    x = _x(rep)
    scale, bias = torch.randn(6, n, dtype=torch.float64), torch.randn(6, m, dtype=torch.float64)
    f = lambda t: film(t, scale, bias)  # noqa: E731 — invariant conditioning
    check_equivariant(f, rep, rep, x)
    learn = randomise(eAffine(rep).double())
    torch.testing.assert_close(
        film(x, learn.scale_params.expand(6, n), learn.bias_params.expand(6, m)), learn(x), rtol=1e-12, atol=1e-12
    )
    torch.testing.assert_close(film.export()(x, scale, bias), f(x), rtol=1e-12, atol=1e-12)
    with pytest.raises(TypeError, match="needs forward"):
        film(x)
    with pytest.raises(ValueError, match="scale"):
        film(x, torch.randn(6, n + 1, dtype=torch.float64))
    with pytest.raises(TypeError, match="learnable"):
        learn(x, scale)
    sc = scale.clone().requires_grad_(True)
    film(x, sc, bias).square().sum().backward()
    assert sc.grad is not None and float(sc.grad.abs().sum()) > 0


def test_no_invariant_subspace_raises():
    C4 = symm.groups.cyclic(4)
    rep = C4.irreps()[1] + C4.irreps()[2]  # no trivial copy: Hom_G(trivial, rep) = 0
    for build in (lambda: InvariantBias(rep), lambda: eAffine(rep, bias=True)):
        with pytest.raises(ValueError, match="dimension 0"):
            build()
    assert eAffine(rep, bias=False).n_bias == 0
    assert eLayerNorm(rep).affine.has_bias is False  # nothing invariant to add back: documented, no bias


def test_layer_and_rms_norm_match_torch_on_permutation_reps():
    G = symm.groups.dihedral(4)
    rep = G.regular_rep() * 2
    x = _x(rep, 5)
    ln = eLayerNorm(rep, equiv_affine=False).double()
    # the invariant subspace of regular×2 is spanned by the two copies' all-ones vectors: centre each copy
    xr = x.reshape(5, 2, 8)
    xc = (xr - xr.mean(-1, keepdim=True)).reshape(5, 16)
    torch.testing.assert_close(ln(x), xc / torch.sqrt(xc.square().mean(-1, keepdim=True) + 1e-6))
    one = G.regular_rep()
    torch.testing.assert_close(
        eLayerNorm(one, equiv_affine=False).double()(x[:, :8]), torch.nn.functional.layer_norm(x[:, :8], (8,), eps=1e-6)
    )
    torch.testing.assert_close(
        eRMSNorm(rep, equiv_affine=False).double()(x), torch.nn.functional.rms_norm(x, (16,), eps=1e-6)
    )
    y = eLayerNorm(mixed_rep(G), equiv_affine=False).double()(_x(mixed_rep(G)))
    P = torch.as_tensor(symm.invariant_orthogonal_projector(mixed_rep(G)))
    assert float((y @ P).abs().max()) < 1e-12  # centred: no invariant component left


def test_batchnorm_uses_batch_statistics_in_training_and_running_in_eval():
    G = symm.groups.dihedral(3)
    rep = mixed_rep(G)
    bn = eBatchNorm1d(rep, momentum=1.0, affine=False).double()
    x = _x(rep, 64) * 3 + 1
    y = bn(x)
    # running statistics are the symmetric ones (orbit-augmented oracle via symm.var_mean)
    torch.testing.assert_close(bn.running_mean, symm.mean(x, rep))
    Q = torch.as_tensor(rep.change_of_basis)
    iso = rep.change_basis(Q.numpy().T)
    torch.testing.assert_close(bn.running_var, symm.var(x @ Q, iso, correction=1))
    # training output: zero symmetric mean, unit symmetric variance on every irreducible copy
    torch.testing.assert_close(symm.mean(y, rep), torch.zeros(rep.size, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        symm.var(y @ Q, iso, correction=0), torch.ones(rep.size, dtype=torch.float64), atol=1e-4, rtol=0
    )
    # training ignores the running statistics (symm-learning 0.8.1 used them: not batch normalisation)
    with torch.no_grad():
        bn.running_var.mul_(7.0)
    torch.testing.assert_close(bn(x), y)
    bn.eval()
    y_eval = bn(x)
    assert not torch.allclose(y_eval, y)
    # 3-D input: statistics over every leading axis
    assert bn.train()(x.reshape(8, 8, rep.size)).shape == (8, 8, rep.size)
    with pytest.raises(ValueError, match="more than one sample"):
        bn(x[:1])
    with pytest.raises(ValueError, match="track_running_stats"):
        eBatchNorm1d(rep, track_running_stats=False).export()
