"""Equivariance and structure of every symm_torch module on small groups, every element checked."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import symm
import torch
from _torch_helpers import groups, mixed_rep
from symm.testing import assert_equivariant

from symm_torch.models import EMLP, IMLP
from symm_torch.nn import (
    Change2DisentangledBasis,
    EquivMultivariateNormal,
    IrrepSubspaceNormPooling,
    eConv1D,
    eLinear,
)

GROUPS = groups()
DTYPES = [torch.float64, torch.float32]


@pytest.fixture(params=list(GROUPS), ids=list(GROUPS))
def group(request):
    return GROUPS[request.param]


def _x(shape, dtype, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_elinear_equivariant(group, dtype):
    torch.manual_seed(0)
    rin, rout = mixed_rep(group), group.regular_rep() * 2
    layer = eLinear(rin, rout).to(dtype)
    with torch.no_grad():
        layer.bias_params.normal_()
    assert_equivariant(layer, rin, rout, _x((6, rin.size), dtype))
    assert_equivariant(eLinear(rout, rin).to(dtype), rout, rin, _x((6, rout.size), dtype))


def test_elinear_parameter_count_weight_and_bias(group):
    rin, rout = mixed_rep(group), group.regular_rep() + group.irreps()[-1]
    layer = eLinear(rin, rout).double()
    assert layer.weight_params.numel() == symm.hom_dim(rin, rout) == layer.hom_dim
    n_triv = rout.isotypic_components[0].multiplicity
    assert layer.bias_params.numel() == n_triv
    with torch.no_grad():
        layer.bias_params.normal_()
    W = layer.weight.detach().numpy()
    assert np.abs(symm.project_equivariant(W, rin, rout) - W).max() < 1e-12
    b = layer.bias.detach().numpy()
    assert np.abs(symm.invariant_orthogonal_projector(rout) @ b - b).max() < 1e-12
    # the Θ ↦ W map is injective: hom_dim independent weights
    basis = []
    for i in range(min(layer.hom_dim, 40)):
        with torch.no_grad():
            layer.weight_params.zero_()
            layer.weight_params[i] = 1.0
        basis.append(layer.weight.detach().numpy().ravel())
    assert np.linalg.matrix_rank(np.stack(basis)) == len(basis)


def test_elinear_no_shared_irreps_raises_and_no_bias():
    G = symm.groups.cyclic(4)
    sign = G.irreps()[1]
    for build in (lambda: eLinear(G.trivial_rep(2), sign * 3), lambda: eConv1D(G.trivial_rep(2), sign * 3, 3)):
        with pytest.raises(ValueError, match="dimension 0"):
            build()  # a silent zero map would be a bug in the caller's reps
    assert eLinear(G.regular_rep(), G.regular_rep(), bias=False).bias_params is None
    assert eLinear(G.trivial_rep(2), sign * 3 + G.trivial_rep()).hom_dim == 2


def test_elinear_init_variance_closed_form():
    torch.manual_seed(0)
    G = symm.groups.dihedral(6)
    rep = G.regular_rep() * 16
    layer = eLinear(rep, rep, bias=False)
    y = layer(torch.randn(4096, rep.size)).detach()
    assert 1.5 < float(y.var()) < 2.5  # He: Var(Wx) ≈ 2 Var(x)


def test_elinear_constants_are_never_a_dense_basis_stack():
    """Construction cost is structural: the layer's constants are O(D²), never hom_dim dense D×D matrices.

    (Construction time is measured in benchmarks/, not asserted here.)
    """
    C8 = symm.groups.cyclic(8)
    rep = C8.regular_rep() * 64
    layer = eLinear(rep, rep)
    assert layer.hom_dim == symm.hom_dim(rep, rep) == layer.weight_params.numel()
    stored = sum(b.numel() for b in layer.buffers())
    assert stored <= 4 * rep.size**2 < layer.hom_dim * rep.size**2


def test_elinear_eval_cache_invalidated_by_inplace_updates():
    G = symm.groups.cyclic(3)
    layer = eLinear(G.regular_rep() * 2, G.regular_rep()).eval()
    x = torch.randn(4, 6)
    with torch.no_grad():
        y0 = layer(x)
        assert layer.weight is layer.weight  # cached
        layer.weight_params.add_(1.0)
        y1 = layer(x)
    assert not torch.allclose(y0, y1)
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    layer.train()
    layer(x).square().sum().backward()
    opt.step()
    layer.eval()
    with torch.no_grad():
        assert torch.allclose(layer(x), torch.nn.functional.linear(x, layer._expand()[0], layer._expand()[1]))
        assert not torch.allclose(layer(x), y1)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("padding_mode", ["zeros", "reflect"])  # circular: test_torch_contract
def test_econv1d_equivariant(group, dtype, padding_mode):
    rin, rout = mixed_rep(group), group.regular_rep()
    conv = eConv1D(rin, rout, kernel_size=3, padding=1, padding_mode=padding_mode).to(dtype)
    with torch.no_grad():
        conv.bias_params.normal_()
    assert_equivariant(conv, rin, rout, _x((3, rin.size, 9), dtype), axis=1)


def test_econv1d_matches_conv1d_semantics_and_trains():
    G = symm.groups.dihedral(3)
    rin, rout = G.regular_rep(), G.regular_rep() * 2
    x = torch.randn(2, 6, 17)
    for kw in [dict(stride=2, dilation=2, padding=3), dict(padding="same"), dict(padding="valid", stride=3)]:
        conv = eConv1D(rin, rout, kernel_size=4, **kw)
        ref = torch.nn.functional.conv1d(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation)
        torch.testing.assert_close(conv(x), ref)
        assert conv(x[0]).shape == ref[0].shape  # unbatched (C, T)
    conv = eConv1D(rin, rout, kernel_size=3)
    conv(x).square().sum().backward()
    assert conv.weight_params.grad is not None and conv.weight_params.grad.abs().sum() > 0
    for k in range(3):
        W = conv.weight[..., k].detach().double().numpy()
        assert np.abs(symm.project_equivariant(W, rin, rout) - W).max() < 1e-6


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_change_to_disentangled_basis(group, dtype):
    rep = mixed_rep(group)
    mod = Change2DisentangledBasis(rep).to(dtype)
    x = _x((5, rep.size), dtype)
    assert_equivariant(mod, rep, mod.out_rep, x)
    assert_equivariant(mod, rep, mod.out_rep, _x((2, 4, rep.size), dtype))  # (B, T, D): features last
    on_1 = Change2DisentangledBasis(rep, axis=1).to(dtype)
    assert_equivariant(on_1, rep, on_1.out_rep, _x((2, rep.size, 4), dtype), axis=1)
    Q = torch.as_tensor(rep.change_of_basis, dtype=dtype)
    torch.testing.assert_close(mod(x), x @ Q)
    # in the new basis every ρ(g) is block diagonal with the irreps in canonical form
    start = 0
    for irr in mod.out_rep.irreps:
        for g in group.generators:
            np.testing.assert_allclose(
                mod.out_rep(g)[start : start + irr.dim, start : start + irr.dim], irr(g), atol=1e-10
            )
        start += irr.dim


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_irrep_norm_pooling(group, dtype):
    rep = mixed_rep(group)
    pool = IrrepSubspaceNormPooling(rep).to(dtype)
    n = len(rep.irreps)
    assert pool.out_rep.size == n
    x2, x3 = _x((5, rep.size), dtype), _x((5, 7, rep.size), dtype)
    y2, y3 = pool(x2), pool(x3)
    assert y2.shape == (5, n) and y3.shape == (5, 7, n)
    assert_equivariant(pool, rep, pool.out_rep, x2)
    assert_equivariant(pool, rep, pool.out_rep, x3)
    torch.testing.assert_close(y3[:, 2], pool(x3[:, 2]))  # (B, T, D) is per time step
    on_1 = IrrepSubspaceNormPooling(rep, axis=1).to(dtype)
    assert_equivariant(on_1, rep, on_1.out_rep, x3.transpose(1, 2), axis=1)
    torch.testing.assert_close(on_1(x3.transpose(1, 2)), y3.transpose(1, 2))
    z = x2 @ torch.as_tensor(rep.change_of_basis, dtype=dtype)
    start, cols = 0, []
    for irr in rep.irreps:
        cols.append(z[:, start : start + irr.dim].norm(dim=1))
        start += irr.dim
    torch.testing.assert_close(y2, torch.stack(cols, 1))


@pytest.mark.parametrize("cls", [Change2DisentangledBasis, IrrepSubspaceNormPooling])
def test_dense_basis_modules_axis_convention(cls):
    """Features last by default; the old axis-1 reading of (B, D, T) survives only with a FutureWarning."""
    G = symm.groups.dihedral(4)
    rep = mixed_rep(G)
    D = rep.size
    last, on_1 = cls(rep).double(), cls(rep, axis=1).double()
    x_btd = _x((3, 5, D), torch.float64)
    x_bdt = x_btd.transpose(1, 2).contiguous()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning where the reading is unambiguous
        y = last(x_btd)
        torch.testing.assert_close(on_1(x_bdt), y.transpose(1, 2), rtol=1e-12, atol=1e-12)
        last(_x((D,), torch.float64)), last(_x((2, 3, 4, D), torch.float64))  # any rank
    # (B, D, T) without axis=: read on axis 1 as before, with a FutureWarning that names axis=1
    with pytest.warns(FutureWarning, match="axis=1"):
        old = last(x_bdt)
    torch.testing.assert_close(old, on_1(x_bdt), rtol=0, atol=0)
    # (B, T, D) with T = D used to be read on axis 1; now on the last axis, and the ambiguity is said
    x_sq = _x((3, D, D), torch.float64)
    with pytest.warns(FutureWarning, match="both axis 1 and the last"):
        y_sq = last(x_sq)
    torch.testing.assert_close(y_sq, cls(rep, axis=-1).double()(x_sq), rtol=0, atol=0)
    with pytest.raises(ValueError, match=f"{D} features"):
        on_1(x_btd)
    with pytest.raises(ValueError, match=f"{D} features"):
        last(_x((3, D + 1, 5), torch.float64))
    with pytest.raises(TypeError, match="axis"):
        cls(rep, axis=1.0)


@pytest.mark.parametrize("diagonal", [True, False], ids=["diag", "full"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_equiv_multivariate_normal(group, diagonal, dtype):
    y_rep = mixed_rep(group) if group.order < 12 else group.regular_rep() * 2
    head = EquivMultivariateNormal(y_rep, diagonal=diagonal).to(dtype)
    comps = y_rep.isotypic_components
    expected = sum(c.multiplicity for c in comps) if diagonal else symm.invariant_sym_dim(y_rep)
    assert head.n_cov_params == expected and head.in_rep.size == y_rep.size + expected
    z = _x((4, head.in_rep.size), dtype)
    _, cov = head.mean_and_covariance(z)
    tol = 1e-10 if dtype == torch.float64 else 1e-5
    assert float(torch.linalg.eigvalsh(cov).min()) > 0
    torch.testing.assert_close(cov, cov.transpose(-1, -2))
    for g in range(group.order):
        r = torch.as_tensor(y_rep(g), dtype=dtype)
        err = float((r @ cov @ r.T - cov).abs().max() / cov.abs().max())
        assert err < tol
    # equivariant model → ρ-equivariant mean and covariance
    assert_equivariant(lambda t: head(t).mean, head.in_rep, y_rep, z)
    dist = head.get_distribution(z)
    assert isinstance(dist, torch.distributions.MultivariateNormal)
    torch.testing.assert_close(dist.covariance_matrix, cov, rtol=tol, atol=tol * float(cov.abs().max()))
    y = dist.sample()
    assert y.shape == (4, y_rep.size)
    lp = dist.log_prob(y)
    g = group.order - 1  # P(ρ_y(g) y | ρ_z(g) z) = P(y | z)
    r, r_in = (torch.as_tensor(rep(g), dtype=dtype) for rep in (y_rep, head.in_rep))
    lp_g = head.get_distribution(z @ r_in.T).log_prob(y @ r.T)
    # float32 log_prob of a random (ill-conditioned) Σ: the Cholesky solve loses digits, Σ itself is checked above
    torch.testing.assert_close(lp_g, lp, rtol=tol if dtype == torch.float64 else 1e-3, atol=0)


def test_full_covariance_spans_the_commutant():
    """diagonal=False reaches off-diagonal (cross-copy) blocks, including quaternionic ones."""
    Q8 = symm.groups.quaternion()
    rep = Q8.regular_rep() * 2  # the H-type irrep twice: cross terms with 4 coefficients
    head = EquivMultivariateNormal(rep, diagonal=False).double()
    n = head.n_cov_params
    z = torch.cat([torch.zeros(1, rep.size), torch.randn(1, n)], 1).double()
    cov = head.mean_and_covariance(z)[1][0].numpy()
    np.testing.assert_allclose(symm.project_equivariant(cov, rep, rep), cov, atol=1e-12)
    Q = rep.change_of_basis
    iso = Q.T @ cov @ Q
    H = next(c for c in rep.isotypic_components if c.irrep.type == "H")
    block = iso[H.slice, H.slice][4:, :4]
    assert np.abs(block).max() > 1e-3 and np.linalg.matrix_rank(block) == 4


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_emlp_imlp_equivariant(group, dtype):
    torch.manual_seed(0)
    rin, rout = mixed_rep(group), group.irreps()[-1] + group.trivial_rep()
    emlp = EMLP(rin, rout, hidden_units=[32, 32], activation="ELU").to(dtype)
    x = _x((6, rin.size), dtype)
    assert_equivariant(emlp, rin, rout, x)
    imlp = IMLP(rin, 3, hidden_units=[32, 16]).to(dtype)
    assert_equivariant(imlp, rin, group.trivial_rep(3), x)
    for m in emlp.hidden_reps:
        assert np.array_equal(np.sort(m.generator_images.sum(1)), np.ones_like(m.generator_images.sum(1)))


def test_emlp_hidden_rep_must_permute():
    G = symm.groups.dihedral(4)
    with pytest.raises(ValueError, match="not a permutation rep"):
        EMLP(G.regular_rep(), G.regular_rep(), hidden_rep=G.natural_rep("standard"))
    with pytest.raises(ValueError, match="not a permutation rep"):
        EMLP(
            G.regular_rep(),
            G.regular_rep(),
            hidden_rep=G.regular_rep().change_basis(np.linalg.qr(np.random.default_rng(0).normal(size=(8, 8)))[0]),
        )
    model = EMLP(G.regular_rep(), G.regular_rep(), [16], hidden_rep=G.permutation_rep())  # a non-regular perm rep
    assert model.hidden_reps[0].size == 4 * 4
    assert_equivariant(model, G.regular_rep(), G.regular_rep(), torch.randn(3, 8, dtype=torch.float64).float())
    with pytest.raises(ValueError, match="activation"):
        EMLP(G.regular_rep(), G.regular_rep(), activation="NoSuchThing")
    with pytest.raises(ValueError, match="hidden_units"):
        EMLP(G.regular_rep(), G.regular_rep(), hidden_units=[0])


@pytest.mark.parametrize("diagonal", [True, False], ids=["diag", "full"])
def test_normal_float32_any_finite_input(group, diagonal):
    """Positive definite by construction: float32 works at z ~ 10·N(0, 1) and at extreme values."""
    rep = mixed_rep(group)
    head = EquivMultivariateNormal(rep, diagonal=diagonal)
    n = head.in_rep.size
    gen = torch.Generator().manual_seed(0)
    z = 10 * torch.randn(64, n, generator=gen)
    extreme = torch.tensor([-1e4, -100.0, -20.0, 0.0, 20.0, 100.0, 1e4])
    z_ext = extreme[torch.randint(len(extreme), (64, n), generator=gen)]
    for zz in (z, z_ext):
        dist = head(zz)  # validate_args is on: raises if scale_tril is not a valid Cholesky factor
        assert bool((torch.diagonal(dist.scale_tril, dim1=-2, dim2=-1) > 0).all())
        y = dist.sample()
        assert bool(torch.isfinite(y).all()) and bool(torch.isfinite(dist.log_prob(y)).all())
        assert bool(torch.isfinite(dist.log_prob(dist.mean)).all())
    # float32 log_prob agrees with float64 on the same (float32) inputs, to the conditioning of Σ
    y = head(z).sample()
    lp32 = head(z).log_prob(y)
    head64 = EquivMultivariateNormal(rep, diagonal=diagonal).double()
    lp64 = head64(z.double()).log_prob(y.double())
    assert float(((lp32.double() - lp64).abs() / lp64.abs().clamp_min(1)).max()) < 5e-2
    # log_prob is invariant, exactly in float64 even at this scale
    z64, y64 = z.double(), y.double()
    lp = head64(z64).log_prob(y64)
    for g in range(group.order):
        r, r_in = (torch.as_tensor(rp(g), dtype=torch.float64) for rp in (rep, head.in_rep))
        lp_g = head64(z64 @ r_in.T).log_prob(y64 @ r.T)
        assert float(((lp_g - lp).abs() / lp.abs().clamp_min(1)).max()) < 1e-8


def test_normal_issue_reproducer_and_0_8_1_api():
    from symm_torch.nn import eMultivariateNormal

    G = symm.groups.dihedral(6)
    rep = symm.direct_sum(G.regular_rep(), G.natural_rep("standard"))
    h = EquivMultivariateNormal(rep, diagonal=False)
    z = torch.zeros(1, h.in_rep.size)
    z[:, 14:] = -20
    assert torch.isfinite(h.get_distribution(z).log_prob(torch.zeros(1, 14))).all()
    alias = eMultivariateNormal(out_rep=rep, diagonal=False)
    assert isinstance(alias, EquivMultivariateNormal) and alias.in_rep.size == h.in_rep.size
    dist = alias(z)
    assert isinstance(dist, torch.distributions.MultivariateNormal)
    torch.testing.assert_close(dist.mean, h.mean_and_covariance(z)[0])
    with pytest.raises(TypeError, match="dtype"):
        h(z.double())


def _dense_weight(layer):
    """``Q_out (⊕_k Σ_b Θ_{k,b} ⊗ E_{k,b}) Q_inᵀ`` from ``weight_params``, densely (the documented formula)."""
    theta = layer.weight_params.detach().double().numpy()
    w_iso = np.zeros((layer.out_rep.size, layer.in_rep.size))
    comps_x = {id(c.irrep): c for c in layer.in_rep.isotypic_components}
    blocks = [(cy, comps_x[id(cy.irrep)]) for cy in layer.out_rep.isotypic_components if id(cy.irrep) in comps_x]
    for c, (cy, cx) in zip(layer._plan.components, blocks, strict=True):
        t = theta[c.offset : c.offset + c.s * c.m_y * c.m_x].reshape(c.s, c.m_y, c.m_x)
        w_iso[cy.slice, cx.slice] = sum(np.kron(t[b], e) for b, e in enumerate(cy.irrep.endomorphism_basis))
    return layer.out_rep.change_of_basis @ w_iso @ layer.in_rep.change_of_basis.T


@pytest.mark.parametrize("case", ["copies (pair blocks)", "interleaved copies (pair gather)", "mixed (per irrep)"])
def test_every_weight_expansion_route_is_the_documented_formula(case):
    G = symm.groups.dihedral(3)
    reg, std = G.regular_rep(), G.natural_rep("standard")
    if case.startswith("copies"):
        rin, rout = reg * 3, reg * 2
    elif case.startswith("interleaved"):  # the copies' coordinates interleaved: same block matrices, not contiguous
        order = np.arange(12).reshape(2, 6).T.reshape(-1)
        rin, rout = (reg * 2).change_basis(np.eye(12)[order]), reg * 2
    else:
        rin, rout = reg + std, reg
    layer = eLinear(rin, rout).double()
    route = (layer._plan.pair_route, layer._plan.pair_blocks is not None)
    assert route == {"c": (True, True), "i": (True, False), "m": (False, False)}[case[0]]
    np.testing.assert_allclose(layer.expanded()[0].detach().numpy(), _dense_weight(layer), atol=1e-12)
