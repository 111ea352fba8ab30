# A planar biped's state: (left hip, left knee, right hip, right knee, torso roll, torso pitch).
# Its sagittal mirror swaps the legs and flips the sign of the roll; the pitch is unchanged.
import numpy as np

import symm

mirror = np.zeros((6, 6))
mirror[0, 2] = mirror[2, 0] = 1.0  # left hip <-> right hip
mirror[1, 3] = mirror[3, 1] = 1.0  # left knee <-> right knee
mirror[4, 4] = -1.0  # roll flips
mirror[5, 5] = 1.0  # pitch is invariant
rep = symm.Rep.from_generators([mirror], name="biped mirror")

# The group is C2 (the mirror and the identity); the state splits into symmetric and antisymmetric parts.
print(rep.group.order, [(c.irrep.dim, c.multiplicity) for c in rep.isotypic_components])

# A symmetric covariance of recorded states: equal to its own mirror image.
x = np.random.default_rng(0).normal(size=(500, 6))
C = symm.cov(x, None, rep)
print(np.allclose(mirror @ C @ mirror.T, C))
