"""Without escnn: everything but the escnn types works, and asking for one says how to install it."""

from __future__ import annotations

import sys

import pytest
import symm
import torch

from symm_torch.models import EMLP


@pytest.fixture
def no_escnn(monkeypatch):
    for name in [m for m in sys.modules if m == "escnn" or m.startswith("escnn.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "escnn", None)  # `import escnn` raises ImportError


def test_gspace1d_names_the_install_command(no_escnn):
    from symm_torch.nn import GSpace1D

    with pytest.raises(ImportError, match=r"pip install escnn"):
        GSpace1D(object())


def test_modules_work_without_escnn(no_escnn):
    G = symm.groups.dihedral(3)
    model = EMLP(G.regular_rep(), G.regular_rep(), [12])
    assert model(torch.randn(2, 6)).shape == (2, 6)
