"""Turning what users pass (``symm.Rep``, escnn ``FieldType`` / ``Representation``, int) into a Rep.

Every module of the plugin reads its representation arguments here (through
:class:`~symm_torch.nn.EquivariantModule`'s constructor, or :func:`as_rep_pair` for the modules that are not
equivariant modules), so the conversion, the alias rules and the error messages are written once.
"""

from __future__ import annotations

from typing import Any

import symm

from symm_torch._escnn import field_type_rep, is_field_type

__all__ = ["alias", "as_rep", "as_rep_pair", "check_same_group"]


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


def as_rep_pair(
    in_obj: Any, out_obj: Any, names: tuple[str, str] = ("in_rep", "out_rep")
) -> tuple[symm.Rep | None, symm.Rep | None]:
    """``(in_rep, out_rep)`` read by :func:`as_rep`; either may be ``None``.

    ``out_obj`` may be an int (that many trivial copies of ``in_rep``'s group). Where both are given they
    must be reps of one group (``ValueError`` otherwise).
    """
    in_rep = None if in_obj is None else as_rep(in_obj, names[0])
    out_rep = None
    if out_obj is not None:
        out_rep = as_rep(out_obj, names[1], group=None if in_rep is None else in_rep.group)
    if in_rep is not None and out_rep is not None:
        check_same_group(in_rep, out_rep, names)
    return in_rep, out_rep


def alias(value: Any, old: Any, names: tuple[str, str], required: bool = True) -> Any:
    """``value``, or ``old`` passed under the alias ``names[1]`` of the argument ``names[0]``.

    ``TypeError`` when both are given, or (``required``) neither. Aliases are not deprecated: escnn users
    keep passing ``in_type=FieldType(...)``.
    """
    if value is not None and old is not None:
        raise TypeError(f"give {names[0]} or its alias {names[1]}, not both")
    if value is None and old is None and required:
        raise TypeError(f"missing the argument {names[0]} (or its alias {names[1]})")
    return value if value is not None else old
