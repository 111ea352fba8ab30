"""symm: learning and statistics with symmetry priors, on any Array API library.

Data ``x ∈ R^D`` transforms under a real orthogonal representation ``ρ`` of a finite group ``G``, or of a
compact Lie group (SO(2), O(2), SO(3), O(3), and their products with finite groups). symm splits
``R^D`` into isotypic subspaces and uses them for exact symmetric statistics and equivariant linear algebra.
Representation bookkeeping is host-side NumPy float64; array functions run on NumPy, CuPy, PyTorch, JAX, Dask
and array-api-strict and return results in the input's namespace, device and dtype.
"""

# _decompose, _escnn and _lie_decompose bind the data model's hooks (symm._hooks) when imported.
from symm import _decompose, _escnn, _lie_decompose, groups, testing  # noqa: F401
from symm._group import Group
from symm._hom_basis import HomBasis
from symm._isotypic import from_isotypic, irrep_norms, to_isotypic
from symm._linalg import (
    hom_basis,
    hom_dim,
    invariant_orthogonal_projector,
    invariant_sym_dim,
    project_equivariant,
)
from symm._plugins import plugins
from symm._rep import Irrep, IsotypicComponent, Rep, direct_sum
from symm._stats import SymmetricMoments, cov, lstsq, mean, var, var_mean

__version__ = "0.1.0"

__all__ = [
    "Group",
    "HomBasis",
    "Irrep",
    "IsotypicComponent",
    "Rep",
    "SymmetricMoments",
    "cov",
    "direct_sum",
    "from_isotypic",
    "groups",
    "hom_basis",
    "hom_dim",
    "invariant_orthogonal_projector",
    "invariant_sym_dim",
    "irrep_norms",
    "lstsq",
    "mean",
    "plugins",
    "project_equivariant",
    "testing",
    "to_isotypic",
    "var",
    "var_mean",
]
