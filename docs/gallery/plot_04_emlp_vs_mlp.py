"""
An equivariant MLP against a plain MLP
======================================

Twelve equal masses on a ring are joined by nonlinear springs (a Fermi–Pasta–Ulam–Tsingou chain): the force
on mass ``i`` is ``f_i(q) = Σ_{j = i±1} (q_j − q_i) + (q_j − q_i)³``. Rotating or mirroring the ring permutes
the masses and permutes their forces the same way: ``f`` is equivariant under the dihedral group ``D12``
acting by permutations. We learn ``f`` from 64 examples with :class:`symm_torch.models.EMLP`,
whose every layer is equivariant, and with a plain ``torch.nn`` MLP of the same widths, and compare their
test error and how far each is from equivariant.

This example needs the torch plugin: ``pip install . ./backends/torch "torch==2.13.0"`` from a checkout.
"""

# %%
# The task
# --------
import matplotlib.pyplot as plt
import numpy as np
import torch
from symm_torch.models import EMLP

import symm

torch.manual_seed(0)
torch.set_num_threads(1)  # models this small train fastest on one thread
rng = np.random.default_rng(0)

n_mass = 12
G = symm.groups.dihedral(n_mass)  # order 24
rep = G.natural_rep("permutation")  # D12 permuting the 12 masses


def forces(q):
    right = np.roll(q, -1, axis=1) - q
    left = np.roll(q, 1, axis=1) - q
    return right + left + right**3 + left**3


q_train = 0.6 * rng.normal(size=(64, n_mass))
q_test = 0.6 * rng.normal(size=(2000, n_mass))
xt, yt = (torch.tensor(a, dtype=torch.float32) for a in (q_train, forces(q_train)))
xs, ys = (torch.tensor(a, dtype=torch.float32) for a in (q_test, forces(q_test)))

# %%
# Two models of the same widths
# -----------------------------
# The EMLP's hidden layers are 4 copies of the regular representation of ``D12`` (96 units), on which a
# pointwise ReLU stays equivariant. The MLP has the same widths and no constraint.
widths = [n_mass, 96, 96, n_mass]
emlp = EMLP(rep, rep, hidden_units=widths[1:-1])
mlp = torch.nn.Sequential(
    torch.nn.Linear(widths[0], widths[1]),
    torch.nn.ReLU(),
    torch.nn.Linear(widths[1], widths[2]),
    torch.nn.ReLU(),
    torch.nn.Linear(widths[2], widths[3]),
)
n_params = {name: sum(p.numel() for p in m.parameters()) for name, m in (("EMLP", emlp), ("MLP", mlp))}
print("parameters:", n_params)

# %%
# Training: full batch, Adam, 300 steps each; the test error is recorded every 10 steps.
steps = 300
curves = {}
for name, model in (("EMLP", emlp), ("MLP", mlp)):
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    test = []
    for step in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        loss.backward()
        opt.step()
        if step % 10 == 9:
            with torch.no_grad():
                test.append(torch.nn.functional.mse_loss(model(xs), ys).item())
    curves[name] = test
    print(f"{name}: train MSE {loss.item():.3f}, test MSE {test[-1]:.3f} (variance of the target {ys.var():.1f})")

# %%
# The MLP fits the 64 training examples almost exactly and generalises worse: it has to learn from the data
# that every mass obeys the same law. The EMLP has that built in.
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
x_axis = np.arange(10, steps + 1, 10)
ax.semilogy(x_axis, curves["MLP"], color="tab:orange", label=f"torch.nn MLP ({n_params['MLP']} parameters)")
ax.semilogy(x_axis, curves["EMLP"], color="tab:blue", label=f"symm_torch EMLP ({n_params['EMLP']} parameters)")
ax.set_xlabel("training step (64 examples, full batch)")
ax.set_ylabel("test MSE")
ax.set_title("forces of a nonlinear ring of 12 masses (D12)")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
plt.show()

# %%
# Equivariance error on the test inputs, ``max_g ‖f̂(ρ(g) q) − ρ(g) f̂(q)‖ / ‖f̂(q)‖`` over the 24 elements:
# rounding for the EMLP, order one for the MLP.
with torch.no_grad():
    for name, model in (("EMLP", emlp), ("MLP", mlp)):
        out = model(xs)
        worst = 0.0
        for g in G.elements:
            rg = torch.tensor(rep(g), dtype=torch.float32)
            worst = max(worst, float((model(xs @ rg.T) - out @ rg.T).norm() / out.norm()))
        print(f"{name}: equivariance error {worst:.1e}")

# %%
# ``export()`` turns the EMLP into plain ``torch.nn`` modules with the same outputs, for deployment:
plain = emlp.export()
with torch.no_grad():
    print(type(plain).__name__, torch.allclose(plain(xs), emlp(xs), atol=1e-4))
