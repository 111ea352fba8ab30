"""The projection engine: host plans of the Reynolds projection and their device forms.

``plans`` builds NumPy tables once per rep or pair of reps; ``projection`` moves them to a namespace, device
and dtype and applies ``R``. The statistics, least squares and ``project_equivariant`` all go through here.
"""

from symm._engine.plans import PairPlan, RepPlan, block_layout, pair_plan, projection_gather, rep_plan
from symm._engine.projection import (
    BlockRoute,
    IsoProjection,
    PermProjection,
    block_route,
    change_of_basis,
    invariant_projector,
    orbit_average,
    projection,
)

__all__ = [
    "BlockRoute",
    "IsoProjection",
    "PairPlan",
    "PermProjection",
    "RepPlan",
    "block_layout",
    "block_route",
    "change_of_basis",
    "invariant_projector",
    "orbit_average",
    "pair_plan",
    "projection",
    "projection_gather",
    "rep_plan",
]
