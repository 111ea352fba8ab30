"""The 0.8.1 layer family: InvariantBias, eAffine, eLayerNorm, eRMSNorm, eBatchNorm1d — equivariance on every
element of every test group (C_n, D_n, Q8, a product, each in a random orthogonal basis), gradients,
equivariance after an optimizer step, round trips, export, and clear errors."""

from __future__ import annotations

import pytest
import symm
import torch
from _torch_helpers import (
    check_gradients_and_step,
    check_round_trips,
    groups,
    mixed_rep,
    outputs,
    randomise,
)
from symm.testing import assert_equivariant

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
    assert_equivariant(module, rep, rep, x)
    check_gradients_and_step(module, x)
    assert_equivariant(module, rep, rep, x)  # still equivariant after an optimizer step
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
    assert_equivariant(f, rep, rep, x)
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


# ------------------------------------------------------------------------------------- transposed convolution
def test_conv_transpose_equivariant_and_contract(gname):
    from symm_torch.nn import eConvTranspose1d

    G = GROUPS[gname]
    rin, rout = REPS[gname], G.regular_rep()
    factory = lambda: eConvTranspose1d(rin, rout, 3, stride=2, padding=1, output_padding=1).double()  # noqa: E731
    conv = randomise(factory(), seed=2)
    x = torch.randn(2, rin.size, 5, dtype=torch.float64)
    y = conv(x)
    assert y.shape == (2, rout.size, (5 - 1) * 2 - 2 + 2 + 1 + 1)
    assert_equivariant(conv, rin, rout, x, axis=1)
    check_gradients_and_step(conv, x)
    assert_equivariant(conv, rin, rout, x, axis=1)
    check_round_trips(conv, factory, x)
    conv.eval()
    torch.testing.assert_close(conv.export()(x), conv(x), rtol=1e-12, atol=1e-12)
    assert conv(x[0]).shape == conv(x)[0].shape
    with pytest.raises(ValueError, match=str(rin.size)):
        conv(torch.randn(2, rin.size + 1, 5, dtype=torch.float64))
    with pytest.raises(TypeError, match="dtype"):
        conv(x.float())


def test_conv_transpose_zero_hom_and_adjointness():
    from symm_torch.nn import eConv1D, eConvTranspose1d

    C4 = symm.groups.cyclic(4)
    with pytest.raises(ValueError, match="dimension 0"):
        eConvTranspose1d(C4.trivial_rep(), C4.irreps()[1], 3)
    with pytest.raises(ValueError, match="output_padding"):
        eConvTranspose1d(C4.regular_rep(), C4.regular_rep(), 3, output_padding=1)
    # the transpose of an eConv1D kernel is an eConvTranspose1d kernel (Hom_G(ρ_y, ρ_x) = Hom_G(ρ_x, ρ_y)ᵀ)
    G = symm.groups.dihedral(3)
    conv = eConv1D(G.regular_rep(), G.regular_rep() * 2, 3).double()
    tconv = eConvTranspose1d(G.regular_rep() * 2, G.regular_rep(), 3, bias=False).double()
    x, y = torch.randn(1, 6, 7, dtype=torch.float64), torch.randn(1, 12, 5, dtype=torch.float64)
    z = torch.nn.functional.conv_transpose1d(y, conv.weight)
    assert_equivariant(
        lambda t: torch.nn.functional.conv_transpose1d(t, conv.weight),
        *[G.regular_rep() * 2, G.regular_rep()],
        y,
        axis=1,
    )
    assert abs(float((conv(x) - conv.bias[:, None]).mul(y).sum() - x.mul(z).sum())) < 1e-10
    assert tconv.weight.shape == (12, 6, 3)


# ------------------------------------------------------------------------------------- constraints on nn.Linear
def test_impose_linear_equivariance(gname):
    from torch.nn.utils import parametrize

    from symm_torch.nn import CommutingConstraint, InvariantConstraint, impose_linear_equivariance

    G = GROUPS[gname]
    rin, rout = REPS[gname], G.regular_rep() + G.irreps()[-1]
    torch.manual_seed(0)
    lin = torch.nn.Linear(rin.size, rout.size).double()
    assert impose_linear_equivariance(lin, rin, rout) is lin
    assert isinstance(lin.parametrizations.weight[0], CommutingConstraint)
    assert isinstance(lin.parametrizations.bias[0], InvariantConstraint)
    x = _x(rin)
    assert_equivariant(lin, rin, rout, x)
    W = lin.weight.detach().numpy()
    assert abs(symm.project_equivariant(W, rin, rout) - W).max() < 1e-12
    check_gradients_and_step(lin, x)  # stays trainable
    assert_equivariant(lin, rin, rout, x)
    import copy

    for clone in (copy.deepcopy(lin),):
        torch.testing.assert_close(clone(x), lin(x), rtol=0, atol=0)
    other = impose_linear_equivariance(torch.nn.Linear(rin.size, rout.size).double(), rin, rout)
    other.load_state_dict(lin.state_dict())
    torch.testing.assert_close(other(x), lin(x), rtol=0, atol=0)
    # export: torch's own removal leaves a plain Linear with the projected values
    y = lin(x)
    parametrize.remove_parametrizations(lin, "weight")
    parametrize.remove_parametrizations(lin, "bias")
    assert type(lin) is torch.nn.Linear
    torch.testing.assert_close(lin(x), y, rtol=0, atol=0)


def test_impose_linear_equivariance_errors():
    from symm_torch.nn import CommutingConstraint, InvariantConstraint, impose_linear_equivariance

    C4 = symm.groups.cyclic(4)
    reg, sign = C4.regular_rep(), C4.irreps()[1] + C4.irreps()[1]
    with pytest.raises(ValueError, match="sizes"):
        impose_linear_equivariance(torch.nn.Linear(3, 4), reg, reg)
    with pytest.raises(TypeError, match=r"torch\.nn\.Linear"):
        impose_linear_equivariance(torch.nn.Conv1d(4, 4, 1), reg, reg)
    with pytest.raises(ValueError, match="dimension 0"):
        CommutingConstraint(C4.trivial_rep(), sign)
    with pytest.raises(ValueError, match="no trivial irrep"):
        InvariantConstraint(sign)
    with pytest.raises(ValueError, match="no trivial irrep"):
        impose_linear_equivariance(torch.nn.Linear(4, 2), reg, sign)
    lin = impose_linear_equivariance(torch.nn.Linear(4, 2, bias=False), reg, sign)
    assert lin(torch.randn(3, 4)).shape == (3, 2)
    with pytest.raises(ValueError, match="shape"):
        CommutingConstraint(reg, reg)(torch.randn(3, 4))


# ------------------------------------------------------------------------------------- running statistics
def test_ema_stats_plain_and_symmetric(gname):
    from symm_torch.nn import EMAStats, eEMAStats

    G = GROUPS[gname]
    rx, ry = REPS[gname], G.regular_rep()
    gen = torch.Generator().manual_seed(0)
    batches = [
        (
            torch.randn(40, rx.size, generator=gen, dtype=torch.float64) + 1,
            torch.randn(40, ry.size, generator=gen, dtype=torch.float64),
        )
        for _ in range(3)
    ]
    for center in (True, False):
        plain = EMAStats(rx.size, ry.size, momentum=0.3, center_with_running_mean=center).double()
        sym = eEMAStats(rx, ry, momentum=0.3, center_with_running_mean=center).double()
        # oracle: the plain EMA on orbit-augmented batches
        aug = EMAStats(rx.size, ry.size, momentum=0.3, center_with_running_mean=center).double()
        mats = [(torch.as_tensor(rx(g)), torch.as_tensor(ry(g))) for g in range(G.order)]
        for x, y in batches:
            out = sym(x, y)
            assert out[0] is x and out[1] is y
            plain(x, y)
            xa = torch.cat([x @ a.T for a, _ in mats])
            ya = torch.cat([y @ b.T for _, b in mats])
            aug(xa, ya)
        torch.testing.assert_close(sym.mean_x, aug.mean_x, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(sym.mean_y, aug.mean_y, rtol=1e-10, atol=1e-10)
        if center:  # (with batch centring the augmented set divides by |G|N − 1, not N − 1)
            for which in ("xx", "yy", "yx"):
                torch.testing.assert_close(sym.cov(which), aug.cov(which), rtol=1e-10, atol=1e-10)
        for g in range(G.order):
            a, b = mats[g]
            torch.testing.assert_close(b @ sym.cov_yx @ a.T, sym.cov_yx, rtol=1e-10, atol=1e-10)
            torch.testing.assert_close(a @ sym.mean_x, sym.mean_x, rtol=1e-10, atol=1e-10)
        assert not torch.allclose(plain.cov_yx, sym.cov_yx)
    # kept in Hom_G coordinates: hom_dim numbers per covariance, m_triv per mean
    assert sym.cov_yx_coords.numel() == symm.hom_dim(rx, ry) and sym.cov_xx_coords.numel() == symm.hom_dim(rx, rx)
    assert sym.mean_x_coords.numel() == rx.isotypic_components[0].multiplicity
    # eval mode: no update; round trips; errors
    sym.eval()
    before = sym.cov_xx.clone()
    sym(*batches[0])
    assert torch.equal(before, sym.cov_xx)
    other = eEMAStats(rx, ry).double()
    other.load_state_dict(sym.state_dict())
    torch.testing.assert_close(other.cov("yx"), sym.cov("yx"), rtol=0, atol=0)
    import pickle

    torch.testing.assert_close(pickle.loads(pickle.dumps(sym)).cov("xx"), sym.cov("xx"), rtol=0, atol=0)
    with pytest.raises(ValueError, match=str(rx.size)):
        sym(torch.randn(3, rx.size + 1, dtype=torch.float64), batches[0][1][:3])
    with pytest.raises(TypeError, match="dtype"):
        sym(batches[0][0].float(), batches[0][1].float())
    with pytest.raises(TypeError, match="y must be given"):
        sym(batches[0][0])
    with pytest.raises(ValueError, match="no trivial irrep"):
        eEMAStats(G.irreps()[1])
    x0 = batches[0][0]
    assert torch.equal(sym.export()(x0), x0)


@pytest.mark.compile
def test_torch_compile_new_layers():
    from symm_torch.nn import eConvTranspose1d

    torch._dynamo.reset()
    G = symm.groups.dihedral(3)
    R = G.regular_rep() * 2
    seq = torch.nn.Sequential(eLayerNorm(R), eBatchNorm1d(R), eAffine(R), eRMSNorm(R), InvariantBias(R)).double()
    x = torch.randn(8, 12, dtype=torch.float64)
    out = torch.compile(seq)(x)  # training mode: batch statistics through symm.var_mean
    torch.testing.assert_close(out, seq(x), rtol=1e-10, atol=1e-10)
    out.sum().backward()
    conv = eConvTranspose1d(G.regular_rep(), R, 3, stride=2).double()
    xt = torch.randn(2, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(torch.compile(conv)(xt), conv(xt), rtol=1e-10, atol=1e-10)
