"""The symm-learning 0.2.6 README examples, verbatim except the import path (symm_learning → symm_torch).

The originals need escnn and are skipped without it; each has a twin on symm reps that always runs.
"""

from __future__ import annotations

import pytest
import symm
import torch


def test_seed_econv1d_example():
    pytest.importorskip("escnn")
    from escnn.group import DihedralGroup
    from escnn.nn import FieldType

    from symm_torch.nn import GSpace1D, eConv1D

    G = DihedralGroup(10)
    # Custom (hacky) 1D G-space needed to use `GeometricTensor`
    gspace = GSpace1D(G)  # Note G does not act on points in the 1D space.
    in_type = FieldType(gspace, [G.regular_representation])
    out_type = FieldType(gspace, [G.regular_representation] * 2)

    H, kernel_size, batch_size = 10, 3, 5
    # Inputs to Conv1D/eConv1D are of shape (B, in_type.size, T) where B is the batch size, C is the number
    # of channels and T is the time dimension.
    x = in_type(torch.randn(batch_size, in_type.size, H))
    # Instance of eConv1D
    conv_layer = eConv1D(in_type, out_type, kernel_size=3, stride=1, padding=0, bias=True)
    # Forward pass
    y = conv_layer(x)  # (B, out_type.size, H_out)
    # After training you can export this `EquivariantModule` to a `torch.nn.Module` by:
    conv1D = conv_layer.export()

    assert y.type == out_type and y.tensor.shape == (batch_size, out_type.size, H - kernel_size + 1)
    torch.testing.assert_close(conv1D(x.tensor), y.tensor)


def test_seed_equiv_multivariate_normal_example():
    pytest.importorskip("escnn")
    import escnn
    from escnn.group import CyclicGroup
    from escnn.nn import FieldType

    from symm_torch.models import EMLP
    from symm_torch.nn import EquivMultivariateNormal

    G = CyclicGroup(3)
    x_type = FieldType(escnn.gspaces.no_base_space(G), representations=[G.regular_representation])
    y_type = FieldType(escnn.gspaces.no_base_space(G), representations=[G.regular_representation] * 1)
    # Instanciate the output equivariant multivariate normal distribution in order to get the NN output type
    e_normal = EquivMultivariateNormal(y_type, diagonal=True)
    # Instanciate your NN model to output the parameters of the distribution
    nn = EMLP(in_type=x_type, out_type=e_normal.in_type)
    # Sample from the distribution
    x = x_type(torch.randn(10, x_type.size))
    z = nn(x)  # (B, dim_y + n_dof_cov)
    dist = e_normal.get_distribution(z)  # instance of torch.distributions.MultivariateNormal
    y = dist.sample()  # (B, n)

    assert z.type == e_normal.in_type
    assert isinstance(dist, torch.distributions.MultivariateNormal) and y.shape == (10, y_type.size)


def test_seed_econv1d_example_on_symm_reps():
    from symm_torch.nn import eConv1D

    G = symm.groups.dihedral(10)
    in_type, out_type = G.regular_rep(), G.regular_rep() * 2
    H, kernel_size, batch_size = 10, 3, 5
    x = torch.randn(batch_size, in_type.size, H)
    conv_layer = eConv1D(in_type, out_type, kernel_size=3, stride=1, padding=0, bias=True)
    y = conv_layer(x)
    conv1D = conv_layer.export()
    assert y.shape == (batch_size, out_type.size, H - kernel_size + 1)
    torch.testing.assert_close(conv1D(x), y)


def test_seed_equiv_multivariate_normal_example_on_symm_reps():
    from symm_torch.models import EMLP
    from symm_torch.nn import EquivMultivariateNormal

    G = symm.groups.cyclic(3)
    x_type, y_type = G.regular_rep(), G.regular_rep() * 1
    e_normal = EquivMultivariateNormal(y_type, diagonal=True)
    nn = EMLP(in_type=x_type, out_type=e_normal.in_type)
    z = nn(torch.randn(10, x_type.size))
    y = e_normal.get_distribution(z).sample()
    assert y.shape == (10, y_type.size)
