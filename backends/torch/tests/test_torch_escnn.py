"""escnn interop: FieldType / GeometricTensor in and out, wrong types, escnn groups, GSpace1D.

Skipped as a whole without escnn; ``test_torch_no_escnn.py`` covers the missing-escnn path.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

pytest.importorskip("escnn", reason="escnn is not installed (pip install escnn; it needs numpy<2)")

import escnn
import escnn.gspaces
import escnn.nn
import symm
from escnn.nn import FieldType, GeometricTensor

from symm_torch.models import EMLP, IMLP
from symm_torch.nn import (
    Change2DisentangledBasis,
    EquivMultivariateNormal,
    GSpace1D,
    IrrepSubspaceNormPooling,
    eConv1D,
    eLinear,
)

ESCNN_GROUPS = {
    "C5": lambda: escnn.group.cyclic_group(5),
    "D4": lambda: escnn.group.dihedral_group(4),
    "C2xD3": lambda: escnn.group.direct_product(escnn.group.cyclic_group(2), escnn.group.dihedral_group(3)),
}


@pytest.fixture(params=list(ESCNN_GROUPS), ids=list(ESCNN_GROUPS))
def escnn_group(request):
    return ESCNN_GROUPS[request.param]()


def _types(G):
    gs = escnn.gspaces.no_base_space(G)
    irreps = list(G.irreps())
    in_type = FieldType(gs, [G.regular_representation, *irreps[1:]])
    out_type = FieldType(gs, [G.regular_representation] * 2 + irreps[-1:])
    return gs, in_type, out_type


def _check_escnn_equivariance(module, in_type, x, out_type=None, tol=1e-5):
    """escnn's own transforms: module(x.transform(g)) == module(x).transform(g) for every element."""
    with torch.no_grad():
        y = module(x)
        scale = max(float(y.tensor.abs().max()), 1.0)
        for g in in_type.gspace.fibergroup.elements:
            lhs = module(x.transform(g)).tensor
            rhs = y.transform(g).tensor
            assert float((lhs - rhs).abs().max()) / scale < tol, f"not equivariant at {g}"


def test_elinear_emlp_geometric_tensor_in_out(escnn_group):
    torch.manual_seed(0)
    _, in_type, out_type = _types(escnn_group)
    x = in_type(torch.randn(4, in_type.size))
    for module in (eLinear(in_type, out_type), EMLP(in_type, out_type, hidden_units=[24])):
        y = module(x)
        assert isinstance(y, GeometricTensor) and y.type == out_type
        _check_escnn_equivariance(module, in_type, x)
        torch.testing.assert_close(module(x.tensor), y.tensor)


def test_pooling_basis_imlp_normal_geometric_tensors(escnn_group):
    _, in_type, _ = _types(escnn_group)
    x = in_type(torch.randn(4, in_type.size))
    pool, imlp = IrrepSubspaceNormPooling(in_type), IMLP(in_type, 2, hidden_units=[16])
    change = Change2DisentangledBasis(in_type)
    for module in (pool, imlp, change):
        y = module(x)
        assert isinstance(y, GeometricTensor) and y.type == module.out_type
        _check_escnn_equivariance(module, in_type, x)
    head = EquivMultivariateNormal(in_type, diagonal=False)
    z = head.in_type(torch.randn(3, head.in_type.size))
    mean, _ = head.mean_and_covariance(z)
    assert isinstance(mean, GeometricTensor) and mean.type == in_type
    assert isinstance(head.get_distribution(z), torch.distributions.MultivariateNormal)
    torch.testing.assert_close(head(z).mean, mean.tensor)


def test_econv1d_on_gspace1d(escnn_group):
    gs = GSpace1D(escnn_group)
    assert gs.dimensionality == 1 and gs.fibergroup is escnn_group
    in_type = FieldType(gs, [escnn_group.regular_representation])
    out_type = FieldType(gs, [escnn_group.regular_representation] * 2)
    conv = eConv1D(in_type, out_type, 3, padding=1)
    x = in_type(torch.randn(2, in_type.size, 7))
    y = conv(x)
    assert isinstance(y, GeometricTensor) and y.type == out_type and y.tensor.shape == (2, out_type.size, 7)
    _check_escnn_equivariance(conv, in_type, x)
    assert copy.deepcopy(conv).in_type == in_type


def test_rep_conversion_matches_escnn(escnn_group):
    _, in_type, out_type = _types(escnn_group)
    rep = symm.Rep.from_escnn(in_type)
    layer = eLinear(in_type, out_type)
    assert layer.in_rep.size == in_type.size
    assert layer.hom_dim == symm.hom_dim(rep, symm.Rep.from_escnn(out_type))
    # escnn's own basis of Hom_G has the same dimension
    basis = escnn.nn.Linear(in_type, out_type).basisexpansion.dimension()
    assert layer.hom_dim == basis
    # the same matrices: every escnn element's image is one of symm's, and there are as many
    ours = rep.matrices()
    theirs = np.stack([in_type.representation(h) for h in escnn_group.elements])
    assert ours.shape == theirs.shape
    dist = np.abs(theirs[:, None] - ours[None]).max(axis=(2, 3))
    assert np.all(dist.min(axis=1) < 1e-10) and len(set(dist.argmin(axis=1))) == len(ours)


def test_module_from_reps_accepts_matching_geometric_tensor(escnn_group):
    _, in_type, out_type = _types(escnn_group)
    rin, rout = symm.Rep.from_escnn(in_type), symm.Rep.from_escnn(out_type)
    layer = eLinear(rin, rout)
    y = layer(in_type(torch.randn(3, in_type.size)))
    assert isinstance(y, GeometricTensor) and y.type.size == rout.size


def test_wrong_field_type_is_rejected(escnn_group):
    gs, in_type, out_type = _types(escnn_group)
    layer = eLinear(in_type, out_type)
    wrong = FieldType(gs, [escnn_group.trivial_representation] * in_type.size)
    with pytest.raises(ValueError, match="FieldType"):
        layer(wrong(torch.randn(2, in_type.size)))
    rin = symm.Rep.from_escnn(in_type)
    with pytest.raises(ValueError, match="FieldType"):
        eLinear(rin, rin)(wrong(torch.randn(2, in_type.size)))
    other = escnn.group.cyclic_group(7)
    with pytest.raises(ValueError, match="same group"):
        eLinear(in_type, FieldType(escnn.gspaces.no_base_space(other), [other.regular_representation]))


def test_escnn_linear_and_elinear_span_the_same_space():
    """Project escnn's random equivariant weight: it already lies in our Hom_G."""
    G = escnn.group.dihedral_group(3)
    gs = escnn.gspaces.no_base_space(G)
    in_type, out_type = FieldType(gs, [G.regular_representation]), FieldType(gs, list(G.irreps()))
    W = escnn.nn.Linear(in_type, out_type, bias=False).export().weight.detach().double().numpy()
    rin, rout = symm.Rep.from_escnn(in_type), symm.Rep.from_escnn(out_type)
    np.testing.assert_allclose(symm.project_equivariant(W, rin, rout), W, atol=1e-6)


def test_new_layers_take_field_types(escnn_group):
    from symm_torch.nn import InvariantBias, eAffine, eBatchNorm1d, eConvTranspose1d, eLayerNorm, eRMSNorm

    _, in_type, _ = _types(escnn_group)
    x = in_type(torch.randn(6, in_type.size))
    for module in (InvariantBias(in_type), eAffine(in_type), eLayerNorm(in_type), eRMSNorm(in_type)):
        y = module(x)
        assert isinstance(y, GeometricTensor) and y.type == in_type
        _check_escnn_equivariance(module, in_type, x)
    bn = eBatchNorm1d(in_type).eval()
    assert bn(x).type == in_type
    _check_escnn_equivariance(bn, in_type, x)
    gs = GSpace1D(escnn_group)
    t_in = FieldType(gs, [escnn_group.regular_representation])
    t_out = FieldType(gs, [escnn_group.regular_representation] * 2)
    conv = eConvTranspose1d(t_in, t_out, 3, stride=2)
    xt = t_in(torch.randn(2, t_in.size, 5))
    yt = conv(xt)
    assert isinstance(yt, GeometricTensor) and yt.type == t_out and yt.tensor.shape == (2, t_out.size, 11)
    _check_escnn_equivariance(conv, t_in, xt)


def test_dense_basis_modules_take_sequence_geometric_tensors(escnn_group):
    """A GeometricTensor on GSpace1D is (B, D, T): its features are on axis 1 whatever the module's axis."""
    gs = GSpace1D(escnn_group)
    in_type = FieldType(gs, [escnn_group.regular_representation, *list(escnn_group.irreps())[1:]])
    x = in_type(torch.randn(2, in_type.size, 5, dtype=torch.float64))
    for cls in (IrrepSubspaceNormPooling, Change2DisentangledBasis):
        module = cls(in_type).double()
        y = module(x)
        assert isinstance(y, GeometricTensor) and y.type == module.out_type and y.tensor.shape[::2] == (2, 5)
        torch.testing.assert_close(y.tensor, module(x.tensor.transpose(1, 2)).transpose(1, 2))
        _check_escnn_equivariance(module, in_type, x, tol=1e-10)
