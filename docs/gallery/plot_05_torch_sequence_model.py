"""
An equivariant conditional transformer on a symmetric point mass
================================================================

A point mass moves in the plane under a potential with eight wells placed by the symmetries of the square
(the dihedral group ``D4``) and a little friction. Rotating the plane by 90° or mirroring it maps every
trajectory to another trajectory: the dynamics are ``D4``-equivariant. We forecast the next 8 positions from
the last 8 positions and the current velocity with :class:`symm_torch.models.eCondTransformer`, and compare it
with its plain twin :class:`symm_torch.models.CondTransformer` at about the same number of parameters.

Training trajectories all start in one quarter of the plane. We measure the error on new trajectories of
that kind ("seen") and on the same trajectories rotated and mirrored by every element of ``D4``
("transformed"), which the training set never showed.

This example needs the torch plugin: ``pip install . ./backends/torch "torch==2.13.0"`` from a checkout.
"""

# %%
# The system
# ----------
# ``V(p) = 0.15 ‖p‖² − (1/8) Σ_g exp(−‖ρ(g) p − c‖² / 0.18)``: a confining bowl and eight Gaussian wells, the
# orbit of one well at ``c`` under ``D4``. Averaging over the group makes ``V`` invariant by construction,
# so its force ``−∇V`` is equivariant. We integrate with a semi-implicit Euler step, friction 0.3.
import matplotlib.pyplot as plt
import numpy as np
import torch
from symm_torch.models import CondTransformer, eCondTransformer

import symm

torch.manual_seed(0)
torch.set_num_threads(1)  # models this small train fastest on one thread

G = symm.groups.dihedral(4)
rep = G.natural_rep("standard")  # D4 acting on the plane: rotations by 90° and mirrors
R = torch.tensor(np.stack([rep(g) for g in range(G.order)]), dtype=torch.float64)  # (8, 2, 2)
well = torch.tensor([1.0, 0.35], dtype=torch.float64)


def force(p):
    p = p.detach().requires_grad_(True)
    q = torch.einsum("gij,bj->bgi", R, p)  # ρ(g) p for every g: (B, 8, 2)
    V = 0.15 * p.square().sum(-1) - torch.exp(-(q - well).square().sum(-1) / 0.18).mean(-1)
    (grad,) = torch.autograd.grad(V.sum(), p)
    return -grad


def trajectories(p0, v0, frames=16, dt=0.05, every=2):
    p, v, out = p0.clone(), v0.clone(), []
    for k in range(frames * every):
        v = v + dt * (force(p) - 0.3 * v)
        p = p + dt * v
        if k % every == every - 1:
            out.append(torch.cat([p, v], -1))
    return torch.stack(out, 1)  # (B, frames, 4): position and velocity


def sample(n, gen):
    p0 = 0.2 + 1.3 * torch.rand(n, 2, generator=gen, dtype=torch.float64)  # one quarter of the plane
    v0 = 0.6 * torch.randn(n, 2, generator=gen, dtype=torch.float64)
    return trajectories(p0, v0)


gen = torch.Generator().manual_seed(0)
train, test = sample(256, gen), sample(256, gen)


def split(traj):
    """Past positions (B, 8, 2), current velocity (B, 2), future positions (B, 8, 2), float32."""
    past, vel, future = traj[:, :8, :2], traj[:, 7, 2:], traj[:, 8:, :2]
    return tuple(t.float() for t in (past, vel, future))


def transformed(traj):
    """Every trajectory moved by every element of D4 (positions and velocities rotate alike): (8 B, T, 4)."""
    p = torch.einsum("gij,btj->gbti", R, traj[..., :2])
    v = torch.einsum("gij,btj->gbti", R, traj[..., 2:])
    return torch.cat([p, v], -1).flatten(0, 1)


# %%
# Two models at about the same budget
# -----------------------------------
# The condition is one frame, the velocity (``cond_rep = ρ``); the input is the 8 past positions and the
# output the 8 future ones (``in_rep = out_rep = ρ``). The equivariant model's width is 6 copies of the
# regular rep (48 features); the plain twin gets the width that matches its parameter count.
kwargs = dict(in_horizon=8, cond_horizon=1, num_layers=1, num_attention_heads=1, p_drop_emb=0.0, p_drop_attn=0.0)
emodel = eCondTransformer(rep, rep, rep, embedding_dim=48, **kwargs)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


plain = min(
    (CondTransformer(rep, rep, rep, embedding_dim=w, **kwargs) for w in range(8, 64, 8)),
    key=lambda m: abs(n_params(m) - n_params(emodel)),
)
print(f"parameters: eCondTransformer {n_params(emodel)}, CondTransformer {n_params(plain)}")

# %%
# Training: Adam, mini-batches of 64, 400 steps each; the error is the mean squared error of the forecast.
data = {"seen": split(test), "transformed": split(transformed(test))}
past, vel, future = split(train)
errors = {}
for name, model in (("eCondTransformer", emodel), ("CondTransformer", plain)):
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(400):
        idx = torch.randint(0, past.shape[0], (64,), generator=gen)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(past[idx], 0, vel[idx]), future[idx])
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        errors[name] = {k: torch.nn.functional.mse_loss(model(x, 0, c), y).item() for k, (x, c, y) in data.items()}
    print(
        f"{name}: train MSE {loss.item():.4f}; test MSE " + ", ".join(f"{k} {e:.4f}" for k, e in errors[name].items())
    )

# %%
# The equivariant model has the same error on the transformed trajectories as on the seen ones: it cannot
# tell them apart. On the seen kind the plain twin does about as well (the printed numbers say which is
# ahead); on the transformed trajectories its error is an order of magnitude larger, since it has learned
# the dynamics of one quarter of the plane only.
fig, ax = plt.subplots(figsize=(6.4, 4.0), layout="constrained")
kinds = list(data)
width = 0.38
for i, (name, color) in enumerate((("eCondTransformer", "tab:blue"), ("CondTransformer", "tab:orange"))):
    vals = [errors[name][k] for k in kinds]
    model = emodel if i == 0 else plain
    ax.bar(
        np.arange(len(kinds)) + (i - 0.5) * width,
        vals,
        width,
        color=color,
        label=f"{name} ({n_params(model)} parameters)",
    )
ax.set_xticks(np.arange(len(kinds)), ["seen (one quarter of the plane)", "transformed (all of D4)"])
ax.set_yscale("log")
ax.set_ylabel("forecast MSE (8 future positions)")
ax.set_title("point mass in a D4-symmetric potential")
ax.legend()
plt.show()

# %%
# A few trajectories of the test set and their images under D4: the data the plain model never saw.
fig, ax = plt.subplots(figsize=(4.6, 4.6), layout="constrained")
moved = transformed(test[:3])
for k in range(moved.shape[0]):
    ax.plot(moved[k, :, 0].numpy(), moved[k, :, 1].numpy(), color="tab:gray" if k >= 3 else "tab:blue", lw=1)
ax.set_aspect("equal")
ax.set_title("trajectories (blue: seen kind; gray: their D4 images)")
plt.show()

# %%
# ``export()`` gives the plain twin holding plain ``torch.nn`` layers with the same outputs, for deployment:
x, c, _ = data["transformed"]
exported = emodel.export()
with torch.no_grad():
    print(type(exported).__name__, torch.allclose(exported(x, 0, c), emodel(x, 0, c), atol=1e-5))
