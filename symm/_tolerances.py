"""Every numerical tolerance of symm, with the reason for its size.

Host-side representation data is NumPy float64, where rounding leaves errors of a few 1e-15 relative; each
tolerance below sits orders of magnitude above that and below the smallest real defect it must catch.
"""

from __future__ import annotations

#: How far generator images may be from an exact orthogonal representation (max entry of ``|MᵀM − I|``, and
#: of the homomorphism defect relative to the probe norm). The decomposition locates subspaces to ~1e-9 of a
#: defect, so anything farther is refused at construction, never accepted and then failed at use.
ORTHOGONALITY = 1e-10

#: A matrix counts as orthogonal for the infinite-order check when ``|MᵀM − I| <=`` this (looser than
#: ``ORTHOGONALITY``: the check only decides whether a condition number is needed).
ORTHOGONAL_FOR_ORDER = 1e-8

#: ``g^q`` counts as the identity when ``q`` times an eigenvalue angle is within this of ``2π·Z``.
ANGLE = 1e-5

#: Eigenvalues closer than this (relative to the spectrum's scale) belong to one eigenspace.
EIGEN_CLUSTER = 1e-8

#: A decomposition is accepted when ``Qᵀ ρ(g) Q`` is block diagonal to this (times ``sqrt(D)``).
DECOMPOSITION_CHECK = 1e-9

#: Singular values below this (relative to the largest) span a null space (intertwiners, commutants), and
#: 1-D irreps whose images differ by less are the same irrep.
RANK = 1e-8

#: Generator entries within this of 0 or ±1 make a signed permutation matrix; kernel weights below it are 0.
EXACT_ZERO = 1e-12

#: Entries of ``Q`` at most this are zero when ``Q`` is split into its diagonal blocks (``Q`` is orthogonal to
#: float64 rounding, and the blocks of a direct sum are exact zeros up to it).
Q_BLOCK_ZERO = 1e-13

#: Generator images within this of a 0/1 matrix make a permutation rep (pointwise maps commute with it).
PERMUTATION = 1e-9
