"""The few calls that go from a lower layer of the data model up to a higher one, bound at import.

symm's modules import in the direction of the data flow:

    groups (``_group``, ``_compact``) → reps (``_rep``) → product groups (``_product``)
        → decompositions (``_decompose``, ``_lie_decompose``) → escnn interop (``_escnn``)

A handful of public methods of a lower layer need a higher one: ``Group.regular_rep`` returns a ``Rep``,
``Group.irreps`` decomposes the regular rep to fill the registry, ``Rep.isotypic_components`` runs a
decomposition, ``Group.from_escnn`` reads escnn. Each such call goes through a :class:`Hook` declared here,
which the higher module binds to its function when it is imported (``symm/__init__`` imports them all). The
lower module depends only on the hook's contract, stated in its docstring: this is the dependency inversion that
keeps ``symm``'s import graph acyclic (``tests/test_architecture.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "Hook",
    "decompose_compact",
    "decompose_finite",
    "fill_registry",
    "group_from_escnn",
    "irrep",
    "register_irrep",
    "rep",
    "rep_from_escnn",
    "rep_to_escnn",
]


class Hook:
    """A call into a higher layer: declared here with its contract, bound once by the module that implements it."""

    def __init__(self, name: str, contract: str) -> None:
        self.name = name
        self.__doc__ = contract
        self._function: Callable[..., Any] | None = None

    def bind(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """Bind ``function`` (usable as a decorator); rebinding to another function is an error."""
        if self._function is not None and self._function is not function:
            raise RuntimeError(f"symm hook {self.name!r} is already bound to {self._function!r}")
        self._function = function
        return function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._function is None:
            raise RuntimeError(f"symm hook {self.name!r} is not bound; import symm to load the module that binds it")
        return self._function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<symm hook {self.name}>"


rep = Hook("rep", "``rep(group, images, name=None) -> Rep``: the rep of ``group`` with these generator images.")
irrep = Hook(
    "irrep",
    "``irrep(group, images, *, id, type, endomorphism_basis, name) -> Irrep``: a canonical irrep, not registered.",
)
fill_registry = Hook("fill_registry", "``fill_registry(group)``: register a finite group's irreps, once.")
register_irrep = Hook(
    "register_irrep",
    "``register_irrep(group, id, images, type) -> Irrep``: add a canonical irrep to an open (large) registry.",
)
decompose_finite = Hook("decompose_finite", "``decompose_finite(rep) -> Decomposition`` for a finite group.")
decompose_compact = Hook("decompose_compact", "``decompose_compact(rep) -> Decomposition`` for a compact group.")
group_from_escnn = Hook("group_from_escnn", "``group_from_escnn(escnn_group) -> Group``.")
rep_from_escnn = Hook("rep_from_escnn", "``rep_from_escnn(escnn_rep_or_field_type) -> Rep``.")
rep_to_escnn = Hook("rep_to_escnn", "``rep_to_escnn(rep) -> escnn Representation``.")
