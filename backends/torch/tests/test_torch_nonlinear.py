"""GatedNonlinearity, NormNonlinearity, and EMLP / IMLP on non-permutation hidden reps and compact groups
(issue 11, item 6).

Equivariance is exact (float64, every element of each finite group; Haar samples of SO(2), SO(3), O(2), O(3)) for any
orthogonal hidden rep: the nonlinearities act on whole irreducible copies. A pointwise activation on a
non-permutation rep is refused.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import symm
import torch
from _torch_helpers import check_gradients_and_step, check_round_trips, randomise
from symm.testing import assert_equivariant

from symm_torch.models import EMLP, IMLP
from symm_torch.nn import (
    Change2DisentangledBasis,
    EquivMultivariateNormal,
    GatedNonlinearity,
    IrrepSubspaceNormPooling,
    NormNonlinearity,
    eConv1D,
    eLinear,
    gate_count,
)


def _rotated(rep: symm.Rep, seed: int) -> symm.Rep:
    """``rep`` in a random orthogonal basis (no longer block-diagonal)."""
    P = np.linalg.qr(np.random.default_rng(seed).normal(size=(rep.size, rep.size)))[0]
    return rep.change_basis(P)


def _finite_reps() -> dict[str, symm.Rep]:
    D4, C5, Q8 = symm.groups.dihedral(4), symm.groups.cyclic(5), symm.groups.quaternion()
    c_type = next(irr for irr in C5.irreps() if irr.type == "C")
    h_type = next(irr for irr in Q8.irreps() if irr.type == "H")
    return {
        "D4-std+triv": D4.natural_rep("standard") + D4.trivial_rep(),
        "C5-Ctype": c_type + c_type,
        "C5-Ctype+triv-rotated": _rotated(c_type + C5.trivial_rep() + c_type, 3),
        "D4-rotated": _rotated(D4.natural_rep("standard") + D4.irreps()[1] + D4.trivial_rep(2), 4),
        "Q8-Htype+triv": h_type + Q8.trivial_rep(),
    }


REPS = _finite_reps()


@pytest.fixture(params=list(REPS), ids=list(REPS))
def rep(request):
    return REPS[request.param]


def _x(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_reps_are_not_permutation_reps():
    """The point of these tests: none of the hidden reps above acts by permutation matrices."""
    for rep in REPS.values():
        assert symm.internal.permutation_images(rep) is None


# ---------------------------------------------------------------------------------------------- the modules
def test_gated_equivariant_and_shapes(rep):
    gate = GatedNonlinearity(rep, activation="ELU").double()
    n_triv = symm.internal.invariant_basis(rep).shape[1]
    assert gate.n_gates == gate_count(rep) == len(rep.irreps) - n_triv > 0
    assert gate.in_rep.size == gate.n_gates + rep.size and gate.out_rep is rep
    x = _x(7, gate.in_rep.size)
    assert gate(x).shape == (7, rep.size)
    assert gate(x[0]).shape == (rep.size,) and gate(x.reshape(7, 1, -1)).shape == (7, 1, rep.size)
    assert_equivariant(gate, gate.in_rep, rep, x)


def test_gated_math():
    """Non-trivial copies times sigmoid(gate), trivial copies through the activation, in the isotypic basis."""
    rep = REPS["D4-rotated"]
    gate = GatedNonlinearity(rep, activation="Tanh").double()
    x = _x(5, gate.in_rep.size, seed=1)
    Q = torch.tensor(rep.change_of_basis)
    g, z = x[:, : gate.n_gates], x[:, gate.n_gates :] @ Q
    expected = []
    copy_of = symm.internal.copy_index(rep)
    n_triv = gate.n_trivial
    for i in range(rep.size):
        c = int(copy_of[i])
        expected.append(torch.tanh(z[:, i]) if c < n_triv else z[:, i] * torch.sigmoid(g[:, c - n_triv]))
    torch.testing.assert_close(gate(x), torch.stack(expected, -1) @ Q.T, rtol=1e-12, atol=1e-12)


def test_gated_all_trivial_rep_is_pointwise():
    G = symm.groups.dihedral(4)
    rep = _rotated(G.trivial_rep(3), 0)
    gate = GatedNonlinearity(rep).double()
    assert gate.n_gates == 0 and gate.in_rep is rep
    x = _x(4, 3)
    Q = torch.tensor(rep.change_of_basis)
    torch.testing.assert_close(gate(x), torch.relu(x @ Q) @ Q.T, rtol=1e-12, atol=1e-12)


def test_norm_equivariant_and_math(rep):
    act = randomise(NormNonlinearity(rep, activation="Softplus").double())
    x = _x(7, rep.size)
    assert_equivariant(act, rep, rep, x)
    # each copy keeps its direction and gets the norm softplus(‖z_c‖ + b_c)
    P, d = symm.internal.copy_norm_rows(rep)
    zc = (x @ torch.tensor(P).T).reshape(7, -1, d)
    yc = (act(x) @ torch.tensor(P).T).reshape(7, -1, d)
    n_in, n_out = zc.norm(dim=-1), yc.norm(dim=-1)
    torch.testing.assert_close(n_out, torch.nn.functional.softplus(n_in + act.bias_params.detach()))
    cos = (zc * yc).sum(-1) / (n_in * n_out)
    torch.testing.assert_close(cos, torch.ones_like(cos))


def test_norm_is_finite_at_zero():
    rep = REPS["D4-rotated"]
    act = NormNonlinearity(rep).double()
    Q = torch.tensor(rep.change_of_basis)
    x = _x(3, rep.size)
    x[0] = 0
    x[1] = (x[1] @ Q * torch.tensor(symm.internal.copy_index(rep) != 0)) @ Q.T  # copy 0 exactly zero
    x.requires_grad_(True)
    y = act(x)
    y.square().sum().backward()
    assert torch.isfinite(y).all() and torch.isfinite(x.grad).all() and torch.isfinite(act.bias_params.grad).all()
    y = y.detach()
    assert float(y[0].abs().max()) == 0.0
    assert float((y[1] @ Q)[0].abs()) < 1e-12


def test_norm_default_bias_is_not_identity():
    """ReLU with b = 0 would be the identity: the bias starts at -0.1 (soft thresholding)."""
    rep = REPS["D4-std+triv"]
    act = NormNonlinearity(rep).double()
    torch.testing.assert_close(act.bias_params.detach(), torch.full((2,), -0.1, dtype=torch.float64))
    x = _x(4, rep.size)
    assert not torch.allclose(act(x), x)
    assert NormNonlinearity(rep, bias=False).bias_params is None


@pytest.mark.parametrize("kind", ["gated", "norm"])
def test_nonlinearity_gradients_export_round_trips(rep, kind):
    torch.manual_seed(0)
    make = (lambda: GatedNonlinearity(rep, "ELU")) if kind == "gated" else (lambda: NormNonlinearity(rep, "ELU"))
    module = randomise(make().double())
    x = _x(6, module.in_rep.size)
    if kind == "norm":
        check_gradients_and_step(module, x)
    else:  # no parameters: the gradient reaches the input
        xg = x.clone().requires_grad_(True)
        module(xg).square().sum().backward()
        assert xg.grad is not None and float(xg.grad.abs().max()) > 0
    assert_equivariant(module, module.in_rep, module.out_rep, x)
    exported = module.export()
    assert isinstance(exported, torch.jit.ScriptModule)
    for xr in (x, x[0], x.reshape(2, 3, -1)):
        torch.testing.assert_close(exported(xr), module(xr), rtol=1e-12, atol=1e-12)
    check_round_trips(module, lambda: make().double(), x)


# ---------------------------------------------------------------------------------------------- the models
@pytest.mark.parametrize("kind", ["gated", "norm"])
def test_emlp_imlp_non_permutation_hidden_rep(rep, kind):
    torch.manual_seed(0)
    G = rep.group
    rin, rout = _rotated(rep + G.regular_rep(), 7), rep
    emlp = randomise(EMLP(rin, rout, hidden_units=[24, 24], hidden_rep=rep, nonlinearity=kind).double(), seed=1)
    assert emlp.nonlinearity == kind
    for h in emlp.hidden_reps:
        assert h.size == rep.size * -(-24 // rep.size)
    kinds = GatedNonlinearity if kind == "gated" else NormNonlinearity
    assert sum(isinstance(m, kinds) for m in emlp.net) == 2
    x = _x(6, rin.size)
    assert_equivariant(emlp, rin, rout, x)
    imlp = randomise(IMLP(rin, 3, hidden_units=[24, 16], hidden_rep=rep, nonlinearity=kind).double(), seed=2)
    assert_equivariant(imlp, rin, G.trivial_rep(3), x)
    for model in (emlp, imlp):
        exported = model.export()
        torch.testing.assert_close(exported(x), model(x), rtol=1e-10, atol=1e-10)
        clone = copy.deepcopy(model)
        check_gradients_and_step(clone, x)
        assert_equivariant(clone, rin, clone.out_rep, x)  # still equivariant after an optimizer step


def test_emlp_gated_default_hidden_rep_of_a_finite_group_is_regular():
    G = symm.groups.dihedral(3)
    rin = G.natural_rep("standard") + G.trivial_rep()
    model = EMLP(rin, rin, hidden_units=[12], nonlinearity="gated").double()
    assert model.hidden_reps[0].size == 12 and model.hidden_reps[0].irreps == (G.regular_rep() * 2).irreps
    assert_equivariant(model, rin, rin, _x(4, rin.size))
    assert EMLP(rin, rin, hidden_units=[12]).nonlinearity == "pointwise"  # finite group: unchanged default


def test_pointwise_on_non_permutation_hidden_rep_raises():
    G = symm.groups.dihedral(4)
    rep = REPS["D4-std+triv"]
    for kw in ({}, {"nonlinearity": "pointwise"}):
        with pytest.raises(ValueError, match=r"not a permutation rep.*nonlinearity='gated' or nonlinearity='norm'"):
            EMLP(G.regular_rep(), G.regular_rep(), hidden_rep=rep, activation="ReLU", **kw)
        with pytest.raises(ValueError, match="not a permutation rep"):
            IMLP(G.regular_rep(), 2, hidden_rep=rep, **kw)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        EMLP(G.regular_rep(), G.regular_rep(), nonlinearity="relu")
    with pytest.raises(ValueError, match="dropout"):
        EMLP(G.regular_rep(), G.regular_rep(), hidden_rep=rep, nonlinearity="norm", dropout=0.1)
    # dropout stays allowed with a permutation hidden rep, whatever the nonlinearity
    EMLP(G.regular_rep(), G.regular_rep(), hidden_units=[8], nonlinearity="gated", dropout=0.1)


# ------------------------------------------------------------------------------- compact groups (DESIGN §8)
# Needs the compact core (symm.groups.so2 / so3): these tests fail, never skip, without it. assert_equivariant checks
# f(ρ_in(g) x) = ρ_out(g) f(x) on N_SAMPLES Haar samples of an infinite group (G.sample, then rep(g) on them).
N_SAMPLES = 20


def _compact_rep(name: str) -> symm.Rep:
    G = {"SO2": symm.groups.so2, "SO3": symm.groups.so3, "O2": symm.groups.o2, "O3": symm.groups.o3}[name]()
    d = G.natural_rep("defining")
    return d + d.tensor(d)  # SO(2): k = 1 ⊕ (0, 0, 2); SO(3): l = 1 ⊕ (0, 1, 2); O(2), O(3): with parities


@pytest.fixture(params=["SO2", "SO3", "O2", "O3"])
def compact_rep(request):
    return _compact_rep(request.param)


def _samples(rep: symm.Rep) -> np.ndarray:
    return rep.group.sample(N_SAMPLES, seed=0)


def test_compact_group_facts(compact_rep):
    G = compact_rep.group
    assert G.is_finite is False and G.order is None
    with pytest.raises(ValueError):
        G.regular_rep()
    assert compact_rep(_samples(compact_rep)).shape == (N_SAMPLES, compact_rep.size, compact_rep.size)


@pytest.mark.parametrize("kind", ["gated", "norm"])
def test_compact_nonlinearities(compact_rep, kind):
    module = GatedNonlinearity(compact_rep, "ELU") if kind == "gated" else NormNonlinearity(compact_rep, "ELU")
    module = randomise(module.double())
    if kind == "gated":
        n_triv = sum(irr.is_trivial for irr in compact_rep.irreps)  # SO(2): 2 (1 ⊗ 1 = 0 ⊕ 0 ⊕ 2); SO(3): 1
        assert n_triv == {"SO(2)": 2, "SO(3)": 1, "O(2)": 1, "O(3)": 1}[compact_rep.group.name]
        assert module.n_gates == len(compact_rep.irreps) - n_triv
    x = _x(6, module.in_rep.size)
    assert_equivariant(module, module.in_rep, module.out_rep, x, max_elements=N_SAMPLES)
    torch.testing.assert_close(module.export()(x), module(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", [None, "norm"])
def test_compact_emlp_imlp(compact_rep, kind):
    torch.manual_seed(0)
    G, rep = compact_rep.group, compact_rep
    emlp = randomise(EMLP(rep, rep, hidden_units=[40, 40], nonlinearity=kind).double(), seed=1)
    assert emlp.nonlinearity == (kind or "gated")  # gated is the default without a finite regular rep
    band = symm.direct_sum(*G.irreps_up_to(2))
    assert all(h.irreps == (band * -(-40 // band.size)).irreps for h in emlp.hidden_reps)
    x = _x(5, rep.size)
    assert_equivariant(emlp, rep, rep, x, max_elements=N_SAMPLES)
    imlp = randomise(IMLP(rep, 3, hidden_units=[40, 20], nonlinearity=kind).double(), seed=2)
    assert_equivariant(imlp, rep, G.trivial_rep(3), x, max_elements=N_SAMPLES)
    for model in (emlp, imlp):
        torch.testing.assert_close(model.export()(x), model(x), rtol=1e-10, atol=1e-10)
        clone = copy.deepcopy(model)
        check_gradients_and_step(clone, x)
        assert_equivariant(clone, rep, clone.out_rep, x, max_elements=N_SAMPLES)


def test_compact_pointwise_raises(compact_rep):
    with pytest.raises(ValueError, match=r"not finite.*nonlinearity='gated'"):
        EMLP(compact_rep, compact_rep, nonlinearity="pointwise")
    with pytest.raises(ValueError, match=r"not a permutation rep.*nonlinearity='gated' or nonlinearity='norm'"):
        EMLP(compact_rep, compact_rep, hidden_rep=compact_rep, nonlinearity="pointwise")
    with pytest.raises(ValueError, match="dropout"):
        EMLP(compact_rep, compact_rep, dropout=0.1)


def test_compact_dense_seed_modules(compact_rep):
    """Change2DisentangledBasis, IrrepSubspaceNormPooling and EquivMultivariateNormal on a compact group."""
    rep = compact_rep
    G = rep.group
    x = _x(4, rep.size)
    c2d = Change2DisentangledBasis(rep).double()
    assert_equivariant(c2d, rep, c2d.out_rep, x, max_elements=N_SAMPLES)
    torch.testing.assert_close(c2d.export()(x), c2d(x), rtol=1e-12, atol=1e-12)
    pool = IrrepSubspaceNormPooling(rep).double()
    assert pool.n_copies == len(rep.irreps)
    assert_equivariant(pool, rep, G.trivial_rep(pool.n_copies), x, max_elements=N_SAMPLES)
    torch.testing.assert_close(pool.export()(x), pool(x), rtol=1e-12, atol=1e-12)
    head = randomise(EquivMultivariateNormal(rep, diagonal=False).double())
    assert head.n_cov_params == symm.invariant_sym_dim(rep)
    z = _x(4, head.in_rep.size, seed=5)
    assert_equivariant(lambda t: head(t).mean, head.in_rep, rep, z, max_elements=N_SAMPLES)
    _, cov = head.mean_and_covariance(z)
    r = torch.as_tensor(rep(_samples(rep)))
    err = (r[:, None] @ cov[None] @ r[:, None].transpose(-1, -2) - cov[None]).abs().max()
    assert float(err) < 1e-10 * float(cov.abs().max())


def test_compact_hom_layers(compact_rep):
    """eLinear and eConv1D (Hom_G weights, invariant biases) on a compact group."""
    rep = compact_rep
    G = rep.group
    x = _x(4, rep.size)
    lin = randomise(eLinear(rep, rep + G.trivial_rep()).double())
    assert lin.hom_dim == symm.hom_dim(rep, rep + G.trivial_rep())
    assert_equivariant(lin, rep, lin.out_rep, x, max_elements=N_SAMPLES)
    torch.testing.assert_close(lin.export()(x), lin(x), rtol=1e-12, atol=1e-12)
    conv = randomise(eConv1D(rep, rep, 3, padding=1).double())
    xc = torch.randn(2, rep.size, 7, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert_equivariant(conv, rep, rep, xc, axis=1, max_elements=N_SAMPLES)
    torch.testing.assert_close(conv.export()(xc), conv(xc), rtol=1e-12, atol=1e-12)
