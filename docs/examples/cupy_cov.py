import cupy
import numpy as np

import symm

G = symm.groups.dihedral(6)
rep = symm.direct_sum(G.regular_rep(), G.natural_rep("standard"))
x = cupy.asarray(np.random.default_rng(0).normal(size=(1000, rep.size)))  # on the GPU

C = symm.cov(x, None, rep)  # a cupy.ndarray on the same GPU; no copy to the host
print(type(C).__name__, C.shape, C.device)
