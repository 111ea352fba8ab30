"""
Equivariant regression: a ring of masses and springs
====================================================

Eight equal masses sit on a ring, each joined to its neighbours by equal springs. Rotating the ring by one
place, or mirroring it, maps a motion of the system to another motion: the dynamics are equivariant under the
dihedral group ``D8``. Over a short time step the state ``x = (q, p)`` (displacements and momenta) evolves
linearly, ``x' = A x``, and the matrix ``A`` commutes with every symmetry.

We learn ``A`` from noisy pairs ``(x, x')`` with :func:`symm.lstsq`, which searches only the equivariant
matrices, and with plain least squares (``numpy.linalg.lstsq``), which searches all ``16 × 16 = 256``
entries.
"""

# %%
# The system and its symmetry
# ---------------------------
# The symmetry is given by the matrices by which it acts, with no group named: a rotation by one place and a
# mirror, each applied to ``q`` and to ``p`` alike. :meth:`symm.Rep.from_generators` finds the group they
# generate (order 16).
import matplotlib.pyplot as plt
import numpy as np

import symm

n_mass = 8
shift = np.roll(np.eye(n_mass), 1, axis=0)  # mass i -> i + 1
mirror = np.eye(n_mass)[::-1]  # mass i -> n - 1 - i
on_state = lambda m: np.kron(np.eye(2), m)  # the same permutation of q and of p  # noqa: E731
rep = symm.Rep.from_generators([on_state(shift), on_state(mirror)], name="ring of 8")
print("group order", rep.group.order, "| state dimension", rep.size)
print("free parameters of an equivariant A:", symm.hom_dim(rep, rep), "instead of", rep.size**2)

# %%
# The exact one-step map: ``A = exp(dt · [[0, I], [−K, 0]])`` with ``K`` the stiffness matrix of the ring
# (unit masses and springs), computed from the eigenvectors of ``K``.
K = 2 * np.eye(n_mass) - shift - shift.T
dt = 0.3
w2, V = np.linalg.eigh(K)
w = np.sqrt(np.maximum(w2, 0))
c = V @ np.diag(np.cos(w * dt)) @ V.T
s_over_w = V @ np.diag(np.where(w > 0, np.sin(w * dt) / np.where(w > 0, w, 1), dt)) @ V.T
s_times_w = V @ np.diag(w * np.sin(w * dt)) @ V.T
A = np.block([[c, s_over_w], [-s_times_w, c]])
g = rep(1)  # the matrix of one symmetry; A commutes with all of them
print("A is equivariant:", np.allclose(g @ A, A @ g))

# %%
# Learning ``A`` from noisy samples
# ---------------------------------
# Random states ``x``, next states ``x' = A x + noise``. Both estimators fit ``x' ≈ x Âᵀ``; the error is
# measured on ``A`` itself.
rng = np.random.default_rng(0)
ns = np.array([4, 8, 16, 24, 32, 48, 64, 128, 256])
trials = 20
err_symm, err_plain = np.zeros(len(ns)), np.zeros(len(ns))
for i, n in enumerate(ns):
    for _ in range(trials):
        x = rng.normal(size=(n, rep.size))
        y = x @ A.T + 0.1 * rng.normal(size=(n, rep.size))
        A_symm = symm.lstsq(x, y, rep, rep)  # shape (D_y, D_x): y ≈ x A_symmᵀ
        A_plain = np.linalg.lstsq(x, y, rcond=None)[0].T  # minimum-norm solution when n < 16
        err_symm[i] += np.linalg.norm(A_symm - A) / np.linalg.norm(A) / trials
        err_plain[i] += np.linalg.norm(A_plain - A) / np.linalg.norm(A) / trials
for n, a, b in zip(ns, err_symm, err_plain, strict=True):
    print(f"N = {n:4d}   symm.lstsq {a:.3f}   numpy.linalg.lstsq {b:.3f}")

# %%
# With fewer samples than unknowns per output (``N < 16``) plain least squares cannot even determine ``A``,
# and at ``N = 16`` it interpolates the noise;
# :func:`symm.lstsq` only has to fit the ``hom_dim`` free parameters, each seen through all 16 symmetries of
# every sample.
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
ax.loglog(ns, err_plain, "o-", color="tab:orange", label=f"numpy.linalg.lstsq (all {rep.size**2} entries)")
ax.loglog(ns, err_symm, "s-", color="tab:blue", label=f"symm.lstsq ({symm.hom_dim(rep, rep)} free parameters)")
ax.axvline(rep.size, color="gray", linestyle=":", label=f"N = D = {rep.size}")
ax.set_xlabel("number of samples N")
ax.set_ylabel(r"relative error $\|\hat A - A\|_F / \|A\|_F$")
ax.set_title(f"ring of 8 masses (D8), noise 0.1, {trials} trials per N")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
plt.show()

# %%
# The learned map keeps the symmetry exactly, whatever the noise: it commutes with every element.
print(
    "max over g of |ρ(g) Â − Â ρ(g)|:", max(np.abs(rep(h) @ A_symm - A_symm @ rep(h)).max() for h in rep.group.elements)
)
