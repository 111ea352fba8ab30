import jax
import jax.numpy as jnp
import numpy as np

import symm

jax.config.update("jax_enable_x64", True)  # JAX defaults to float32; set this before creating arrays

G = symm.groups.dihedral(6)
rep = symm.direct_sum(G.regular_rep(), G.natural_rep("standard"))
x = jnp.asarray(np.random.default_rng(0).normal(size=(1000, rep.size)))

C = symm.cov(x, None, rep)  # a jax.Array
print(isinstance(C, jax.Array), C.shape, C.dtype)
