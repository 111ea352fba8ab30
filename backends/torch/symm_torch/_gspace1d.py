"""The escnn ``GSpace`` of :func:`symm_torch.nn.GSpace1D`. Importing this module imports escnn."""

from __future__ import annotations

from typing import Any

from escnn.gspaces import GSpace


class GSpace1D(GSpace):
    """A 1-D base space (a time axis) on which the fibre group acts trivially."""

    def __init__(self, G: Any, name: str | None = None) -> None:
        super().__init__(G, 1, name or f"{G.name}_on_R1")

    def restrict(self, id: Any) -> tuple[Any, Any, Any]:
        """The same base space with the subgroup ``id`` of the fibre group."""
        subgroup, parent, child = self.fibergroup.subgroup(id)
        return GSpace1D(subgroup), parent, child

    @property
    def basespace_action(self) -> Any:
        """The action on the 1-D base space: trivial."""
        return self.fibergroup.trivial_representation

    def _interpolate_transform_basespace(self, input: Any, element: Any, order: int = 2) -> Any:
        return input

    def _basis_generator(self, in_repr: Any, out_repr: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("GSpace1D builds no escnn kernel bases; use symm_torch.nn.eConv1D")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GSpace1D) and self.fibergroup == other.fibergroup

    def __hash__(self) -> int:
        return hash(("GSpace1D", self.fibergroup))

    def __reduce__(self) -> tuple:
        return (GSpace1D, (self.fibergroup, self.name))
