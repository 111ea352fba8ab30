"""The module contract: export, TorchScript/torch.export, state_dict, deepcopy, pickle, .to(), compile,
gradients, and clear errors on bad input — for every module and model."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import pytest
import symm
import torch
from _torch_helpers import mixed_rep, outputs, randomise

from symm_torch.models import EMLP, IMLP
from symm_torch.nn import (
    Change2DisentangledBasis,
    EquivMultivariateNormal,
    InvariantBias,
    IrrepSubspaceNormPooling,
    eAffine,
    eBatchNorm1d,
    eConv1D,
    eConvTranspose1d,
    eLayerNorm,
    eLinear,
    eRMSNorm,
)

G = symm.groups.dihedral(4)
REP = mixed_rep(G)
D = REP.size

# name -> (factory, input shape, export kwargs)
CASES = {
    "eLinear": (lambda: eLinear(REP, G.regular_rep() * 2), (5, D), {}),
    "eConv1D": (lambda: eConv1D(REP, G.regular_rep(), 3, stride=2, padding=1, padding_mode="circular"), (2, D, 9), {}),
    "eConvTranspose1d": (lambda: eConvTranspose1d(REP, G.regular_rep(), 3, stride=2, output_padding=1), (2, D, 5), {}),
    "Change2DisentangledBasis": (lambda: Change2DisentangledBasis(REP), (5, D), {}),
    "Change2DisentangledBasis-3d": (lambda: Change2DisentangledBasis(REP), (2, 4, D), {}),
    "Change2DisentangledBasis-axis1": (lambda: Change2DisentangledBasis(REP, axis=1), (2, D, 4), {}),
    "IrrepSubspaceNormPooling": (lambda: IrrepSubspaceNormPooling(REP), (5, D), {}),
    "IrrepSubspaceNormPooling-3d": (lambda: IrrepSubspaceNormPooling(REP), (2, 6, D), {}),
    "IrrepSubspaceNormPooling-axis1": (lambda: IrrepSubspaceNormPooling(REP, axis=1), (2, D, 6), {}),
    "EquivMultivariateNormal": (
        lambda: EquivMultivariateNormal(REP, diagonal=False),
        (5, D + symm.invariant_sym_dim(REP)),
        {},
    ),
    "EMLP": (lambda: EMLP(REP, G.regular_rep(), hidden_units=[16, 16]), (5, D), {}),
    "IMLP": (lambda: IMLP(REP, 2, hidden_units=[16, 16]), (5, D), {}),
    "InvariantBias": (lambda: InvariantBias(REP), (5, D), {}),
    "eAffine": (lambda: eAffine(REP), (5, D), {}),
    "eLayerNorm": (lambda: eLayerNorm(REP), (5, D), {}),
    "eRMSNorm": (lambda: eRMSNorm(REP), (5, D), {}),
    "eBatchNorm1d": (lambda: eBatchNorm1d(REP), (5, D), {}),
}
# the feature axis of each case's input (-1 where not listed)
FEATURE_AXIS = {"eConv1D": -2, "eConvTranspose1d": -2, "Change2DisentangledBasis-axis1": 1}
FEATURE_AXIS["IrrepSubspaceNormPooling-axis1"] = 1


@pytest.fixture(params=list(CASES), ids=list(CASES))
def case(request):
    factory, shape, export_kw = CASES[request.param]
    torch.manual_seed(0)
    module = factory()
    randomise(module)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    return request.param, factory, module, x, export_kw


_outputs = outputs  # a MultivariateNormal is compared through (μ, Σ), as exported


def test_export_plain_torch_and_script(case):
    _, _, module, x, kw = case
    module = module.double().eval()
    x = x.double()
    exported = module.export(**kw)
    names = {type(m).__module__.split(".")[0] for m in exported.modules()}
    assert names <= {"torch"}, f"export must be plain torch modules, got {names}"
    ref = _outputs(module, x)
    for u, v in zip(ref, _outputs(exported, x), strict=True):
        torch.testing.assert_close(v, u, rtol=1e-6, atol=1e-6)
    scripted = exported if isinstance(exported, torch.jit.ScriptModule) else torch.jit.script(exported)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    buf.seek(0)
    loaded = torch.jit.load(buf)
    for u, v in zip(ref, _outputs(loaded, x), strict=True):
        torch.testing.assert_close(v, u, rtol=1e-6, atol=1e-6)


def _ranked(name: str, x: torch.Tensor, ndim: int) -> torch.Tensor:
    """An input like ``x`` with ``ndim`` axes: leading axes added or dropped, the feature axis kept."""
    axis = FEATURE_AXIS.get(name, -1) % x.ndim
    feat = x.shape[axis]
    if name.startswith("eConv"):  # (C, T) or (B, C, T)
        return x[0] if ndim == 2 else x
    if axis == x.ndim - 1:  # (..., D)
        return torch.randn(*[3, 2, 4][: ndim - 1], feat, generator=torch.Generator().manual_seed(2))
    return torch.randn(2, feat, *[3, 4][: ndim - 2], generator=torch.Generator().manual_seed(2))  # (B, D, ...)


@pytest.mark.parametrize("ndim", [2, 3])
def test_export_takes_every_rank_the_module_takes(case, ndim):
    """export() infers nothing from a rank argument: the exported module takes 2-D and 3-D inputs alike."""
    name, _, module, x, _ = case
    module = module.double().eval()
    xr = _ranked(name, x, ndim).double()
    assert xr.ndim == ndim
    exported = module.export()
    for u, v in zip(_outputs(module, xr), _outputs(exported, xr), strict=True):
        torch.testing.assert_close(v, u, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cls", [Change2DisentangledBasis, IrrepSubspaceNormPooling])
def test_export_ndim_is_kept_and_ndim_3_is_deprecated(cls):
    x2 = torch.randn(5, D, dtype=torch.float64)
    x3 = torch.randn(2, D, 4, dtype=torch.float64)
    module = cls(REP).double()
    torch.testing.assert_close(module.export(ndim=2)(x2), module(x2), rtol=1e-10, atol=1e-10)
    with pytest.warns(FutureWarning, match="axis=1"):
        old = module.export(ndim=3)
    torch.testing.assert_close(old(x3), cls(REP, axis=1).double()(x3), rtol=1e-10, atol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consistent with the module's axis: no warning
        cls(REP, axis=1).export(ndim=3)
    with pytest.raises(ValueError, match="ndim"):
        module.export(ndim=4)


def test_export_torch_export():
    model = EMLP(REP, G.regular_rep(), hidden_units=[16])
    x = torch.randn(4, D)
    ep = torch.export.export(model.export(), (x,))
    torch.testing.assert_close(ep.module()(x), model(x))


def test_state_dict_round_trip(case):
    _, factory, module, x, _ = case
    torch.manual_seed(123)
    other = factory()
    other.load_state_dict(module.state_dict())
    for u, v in zip(_outputs(module, x), _outputs(other, x), strict=True):
        torch.testing.assert_close(u, v, rtol=0, atol=0)
    # eval-mode caches see the loaded parameters too
    other.eval()
    with torch.no_grad():
        _outputs(other, x)
        other.load_state_dict(factory().state_dict())
        again = factory()
        again.load_state_dict(other.state_dict())
        for u, v in zip(_outputs(other, x), _outputs(again.eval(), x), strict=True):
            torch.testing.assert_close(u, v, rtol=0, atol=0)


def test_deepcopy_and_pickle(case):
    _, _, module, x, _ = case
    module.eval()
    with torch.no_grad():
        ref = _outputs(module, x)  # fills the eval caches, which must not break copying
        for clone in (copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
            for u, v in zip(ref, _outputs(clone, x), strict=True):
                torch.testing.assert_close(u, v, rtol=0, atol=0)


def test_to_dtype_and_device_moves_everything(case):
    _, _, module, x, _ = case
    module = module.to(torch.float64)
    for name, t in [*module.named_parameters(), *module.named_buffers()]:
        if t.is_floating_point():
            assert t.dtype == torch.float64, name
    y64 = _outputs(module, x.double())
    assert all(y.dtype == torch.float64 for y in y64)
    meta = copy.deepcopy(module).to("meta")
    for name, t in [*meta.named_parameters(), *meta.named_buffers()]:
        assert t.device.type == "meta", name
    # float32 → float64 keeps float64-exact constants (rebuilt from the host copy)
    back = module.float().double()
    for (name, a), (_, b) in zip(back.named_buffers(), module.named_buffers(), strict=True):
        assert torch.equal(a, b), name


def test_gradients_reach_every_parameter(case):
    _, _, module, x, _ = case
    x = x.clone().requires_grad_(True)
    loss = sum(y.square().sum() for y in _outputs(module, x))
    loss.backward()
    for name, p in module.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name
    assert x.grad is not None


def test_wrong_width_and_type_errors(case):
    name, _, module, x, _ = case
    axis = FEATURE_AXIS.get(name, -1)
    bad = torch.randn(*[s + 1 if i == (axis % x.ndim) else s for i, s in enumerate(x.shape)])
    with pytest.raises(ValueError, match=str(x.shape[axis])):
        module(bad)
    with pytest.raises(TypeError):
        module(x.numpy())


def test_reps_of_different_groups_are_rejected():
    C3 = symm.groups.cyclic(3)
    for build in (
        lambda: eLinear(REP, C3.regular_rep()),
        lambda: eConv1D(REP, C3.regular_rep(), 3),
        lambda: EMLP(REP, C3.regular_rep()),
    ):
        with pytest.raises(ValueError, match="same group"):
            build()
    with pytest.raises(ValueError, match="hidden_rep must be a rep of the model's group"):
        EMLP(REP, G.regular_rep(), hidden_rep=C3.regular_rep())
    with pytest.raises(TypeError, match=r"in_rep must be a symm\.Rep"):
        eLinear("regular", G.regular_rep())


@pytest.mark.compile
def test_torch_compile_same_outputs():
    torch._dynamo.reset()
    model = EMLP(REP, G.regular_rep(), hidden_units=[16])
    x = torch.randn(4, D)
    compiled = torch.compile(model)
    torch.testing.assert_close(compiled(x), model(x), rtol=1e-5, atol=1e-6)


def test_rep_arguments_in_rep_out_rep_with_silent_aliases():
    """Every module takes in_rep/out_rep; in_type/out_type (and y_type) keep working without a warning."""
    two = (REP, G.regular_rep())
    builders = {
        eLinear: {},
        eConv1D: {"kernel_size": 3},
        eConvTranspose1d: {},
        EMLP: {"hidden_units": [8]},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for cls, kw in builders.items():
            for m in (
                cls(*two, **kw),
                cls(in_rep=two[0], out_rep=two[1], **kw),
                cls(in_type=two[0], out_type=two[1], **kw),
            ):
                assert (m.in_rep, m.out_rep, m.in_type, m.out_type) == (*two, *two), cls.__name__
            with pytest.raises(TypeError, match="not both"):
                cls(*two, in_type=two[0], **kw)
            with pytest.raises(TypeError, match="missing the argument in_rep"):
                cls(out_rep=two[1], **kw)
        for cls in (Change2DisentangledBasis, IrrepSubspaceNormPooling, InvariantBias, eAffine, eLayerNorm):
            for m in (cls(REP), cls(in_rep=REP), cls(in_type=REP)):
                assert m.in_rep is REP and m.in_type is REP, cls.__name__
        assert IMLP(in_type=REP, out_dim=2, hidden_units=[8]).in_rep is REP
        heads = [EquivMultivariateNormal(REP)] + [EquivMultivariateNormal(**{k: REP}) for k in ("out_rep", "y_type")]
        heads.append(EquivMultivariateNormal(out_type=REP))
        for h in heads:
            assert h.out_rep is h.y_rep is REP and h.y_type is REP and h.in_rep.size == D + h.n_cov_params
    with pytest.raises(TypeError, match="not both"):
        EquivMultivariateNormal(REP, y_type=REP)


def test_equivariant_module_without_reps_in_the_constructor():
    """Subclasses may call super().__init__() and set their reps afterwards (the sequence modules do)."""
    from symm_torch.nn import EquivariantModule

    class Twice(EquivariantModule):
        _features_last = True

        def __init__(self, rep):
            super().__init__()
            self.in_rep = self.out_rep = self.in_type = self.out_type = rep

        def _forward(self, x):
            return 2 * x

    m = Twice(REP)
    x = torch.randn(3, D, dtype=torch.float64)
    torch.testing.assert_close(m(x), 2 * x)
    assert "size 16" in repr(m)
    only_in = EquivariantModule(REP)
    assert only_in.in_rep is REP and not hasattr(only_in, "out_rep")
    C3 = symm.groups.cyclic(3)
    with pytest.raises(ValueError, match="same group"):
        EquivariantModule(REP, C3.regular_rep())
    assert EquivariantModule(REP, 2).out_rep.size == 2  # an int: trivial copies of in_rep's group
