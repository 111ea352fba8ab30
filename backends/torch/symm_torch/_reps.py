"""Turning what users pass (``symm.Rep``, escnn ``FieldType`` / ``Representation``, int) into a Rep."""

from __future__ import annotations

from typing import Any

import symm

from symm_torch._escnn import field_type_rep, is_field_type

__all__ = ["as_rep", "check_same_group"]


def as_rep(obj: Any, arg: str, group: symm.Group | None = None) -> symm.Rep:
    """The ``symm.Rep`` described by ``obj``.

    Parameters
    ----------
    obj : symm.Rep, escnn FieldType, escnn Representation or int
        An int ``n`` means ``n`` copies of the trivial rep of ``group``.
    arg : str
        The argument's name, for error messages.
    group : symm.Group, optional
        Needed when ``obj`` is an int.

    Raises
    ------
    TypeError
        If ``obj`` is none of these.
    ValueError
        If ``obj`` is an int that is not positive, or an int without a ``group``.
    """
    if isinstance(obj, symm.Rep):
        return obj
    if is_field_type(obj):
        return field_type_rep(obj)
    if hasattr(obj, "irreps") and hasattr(obj, "change_of_basis") and hasattr(obj, "group"):
        return symm.Rep.from_escnn(obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        if group is None:
            raise ValueError(f"{arg}={obj} is an int, which needs a group to be read as {obj} trivial copies")
        if obj < 1:
            raise ValueError(f"{arg} must be a positive number of trivial copies, got {obj}")
        return group.trivial_rep(obj)
    raise TypeError(
        f"{arg} must be a symm.Rep, an escnn FieldType or Representation"
        f"{' or an int' if group is not None else ''}, got {type(obj).__name__}"
    )


def check_same_group(rep_a: symm.Rep, rep_b: symm.Rep, names: tuple[str, str]) -> None:
    """Raise ``ValueError`` if the two reps belong to different groups."""
    if rep_a.group is not rep_b.group:
        raise ValueError(
            f"{names[0]} and {names[1]} must be reps of the same group, got {rep_a.group.name} and {rep_b.group.name}"
        )
