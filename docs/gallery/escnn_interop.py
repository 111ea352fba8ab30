"""
Coming from escnn or symm-learning
==================================

escnn groups and representations convert to symm exactly, keeping escnn's irrep ids and change of basis, and
symm-torch layers take escnn ``FieldType`` and ``GeometricTensor`` objects. The names of symm-learning
(``var_mean``, ``cov``, ``lstsq``, ``invariant_orthogonal_projector``, ``EMLP``, ...) carry over; the
migration page lists them one by one.

escnn needs ``numpy<2``, so this script is not executed in the documentation build. It runs in the
``escnn`` nox session (``nox -s escnn``), which installs escnn, torch and the plugin.
"""

# %%
# An escnn representation in symm
# -------------------------------
import numpy as np
import torch
from escnn import group, gspaces
from escnn import nn as enn
from symm_torch.nn import eLinear

import symm

G = group.dihedral_group(6)
rep = symm.Rep.from_escnn(G.regular_representation)
print("size", rep.size, "| group order", rep.group.order)
print("irreps (escnn ids):", [c.irrep.id for c in rep.isotypic_components])

# %%
# symm's statistics on it, in place of symm-learning's ``stats.cov`` (which needs the escnn rep):
x = np.random.default_rng(0).normal(size=(500, rep.size))
C = symm.cov(x, None, rep)
g = rep(3)
print("invariant covariance:", np.allclose(g @ C @ g.T, C))

# %%
# Back to escnn, and a symm-torch layer on escnn types
# ----------------------------------------------------
back = rep.to_escnn()
print(
    "round trip keeps the change of basis:", np.allclose(back.change_of_basis, G.regular_representation.change_of_basis)
)

field = enn.FieldType(gspaces.no_base_space(G), [G.regular_representation] * 2)
layer = eLinear(field, field)
out = layer(field(torch.randn(4, field.size)))
print(type(out).__name__, "of", out.type.size, "channels")
