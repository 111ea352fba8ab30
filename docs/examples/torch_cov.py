import numpy as np
import torch

import symm

G = symm.groups.dihedral(6)
rep = symm.direct_sum(G.regular_rep(), G.natural_rep("standard"))
x = torch.as_tensor(np.random.default_rng(0).normal(size=(1000, rep.size)))  # float64, CPU

mu = symm.mean(x, rep)  # a torch.Tensor, same device and dtype as x
C = symm.cov(x, None, rep)
print(type(C).__name__, tuple(C.shape), C.dtype)

# on a GPU, the same call runs there:  x = x.to("cuda");  symm.cov(x, None, rep).device -> cuda:0
