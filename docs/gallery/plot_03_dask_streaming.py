"""
Streaming moments on Dask
=========================

Data that does not fit in memory, or that arrives in pieces, can be summarised in ``O(D²)`` memory. This
example shows the two ways symm offers:

* :class:`symm.SymmetricMoments`, a streaming estimator: ``update`` adds a batch, ``merge`` combines the
  estimators of two workers, and the statistics equal those of the whole data;
* the core functions on a Dask array, which stay lazy until ``.compute()`` and run chunk by chunk.
"""

# %%
# A stream of batches
# -------------------
# ``C8`` acting on 8 copies of its regular representation (``D = 64``): for instance 8 sensors on each of
# 8 identical arms of a robot. The batches come from a generator, as they would from disk.
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

import symm

rep = 8 * symm.groups.cyclic(8).regular_rep()
D = rep.size
rng = np.random.default_rng(0)
# A symmetric distribution: an equivariant mixing of white noise plus an invariant mean, so that the true
# covariance ``mixing mixingᵀ + 0.1 I`` is invariant.
mixing = symm.project_equivariant(rng.normal(size=(D, D)), rep, rep) / np.sqrt(D)
mean = symm.invariant_orthogonal_projector(rep) @ rng.normal(size=D)
true_cov = mixing @ mixing.T + 0.1 * np.eye(D)


def batches(n_batches, size, seed):
    gen = np.random.default_rng(seed)
    for _ in range(n_batches):
        z = gen.normal(size=(size, D))
        yield z @ mixing.T + np.sqrt(0.1) * gen.normal(size=(size, D)) + mean


# %%
# Two workers each stream half of the data into their own estimator; merging them gives the estimator of the
# whole, exactly.
worker_a, worker_b = symm.SymmetricMoments(rep), symm.SymmetricMoments(rep)
seen, running_cov = [], []
for xa in batches(20, 500, seed=1):
    worker_a.update(xa)
    seen.append(worker_a.n)
    running_cov.append(worker_a.cov())
for xb in batches(20, 500, seed=2):
    worker_b.update(xb)
total = worker_a.merge(worker_b)
print("samples:", worker_a.n, "+", worker_b.n, "=", total.n)

everything = np.concatenate([*batches(20, 500, seed=1), *batches(20, 500, seed=2)])
print("merged cov equals symm.cov of all the data:", np.allclose(total.cov(), symm.cov(everything, None, rep)))

# %%
# The same on a Dask array
# ------------------------
# :func:`symm.cov` on a Dask array returns a lazy Dask array; ``.compute()`` runs it chunk by chunk.
x = da.from_array(everything, chunks=(5000, D))
lazy = symm.cov(x, None, rep)
print(type(lazy).__name__, lazy.shape, "in", x.numblocks[0], "chunks")
print("Dask result equals the NumPy one:", np.allclose(lazy.compute(), total.cov()))

# %%
# How fast the streamed estimate settles
# --------------------------------------
# The error of the symmetric estimate after each batch of worker A, next to that of the plain covariance of
# everything seen so far (``np.cov``), both against the true covariance.
dist_symm = [np.linalg.norm(c - true_cov) / np.linalg.norm(true_cov) for c in running_cov]
stream = np.concatenate(list(batches(20, 500, seed=1)))
dist_plain = [np.linalg.norm(np.cov(stream[:n], rowvar=False) - true_cov) / np.linalg.norm(true_cov) for n in seen]
print(f"after {seen[-1]} samples: symm {dist_symm[-1]:.3f}, plain {dist_plain[-1]:.3f} (relative error)")

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
ax.loglog(seen, dist_plain, "o-", color="tab:orange", label="plain covariance of the stream so far")
ax.loglog(seen, dist_symm, "s-", color="tab:blue", label="SymmetricMoments.cov() after each update")
ax.set_xlabel("samples seen by worker A")
ax.set_ylabel(r"relative error $\|\hat\Sigma - \Sigma\|_F / \|\Sigma\|_F$")
ax.set_title(f"C8, D = {D}, batches of 500")
ax.grid(True, which="both", alpha=0.3)
ax.legend()
plt.show()
