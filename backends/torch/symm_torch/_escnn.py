"""Optional escnn interop, duck-typed: escnn is imported only when an escnn object has to be built.

A ``FieldType`` is recognised by its ``gspace`` and ``representation`` attributes and a ``GeometricTensor``
by its ``tensor`` and ``type`` attributes, so symm_torch works without escnn installed and never imports it
to inspect user input.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import symm
import torch
from symm.internal import escnn_group

__all__ = [
    "ESCNN_INSTALL_HINT",
    "GSpace1D",
    "is_field_type",
    "is_geometric_tensor",
    "require_escnn",
    "split_input",
    "wrap_output",
]

ESCNN_INSTALL_HINT = "install it with `pip install escnn` (escnn needs numpy<2)"


def require_escnn() -> Any:
    """Import and return ``escnn``, or raise an ``ImportError`` that says how to install it."""
    try:
        import escnn
        import escnn.gspaces
        import escnn.nn
    except ImportError as err:
        raise ImportError(f"this needs escnn, which is not installed; {ESCNN_INSTALL_HINT}") from err
    return escnn


def is_field_type(obj: Any) -> bool:
    """Whether ``obj`` looks like an escnn ``FieldType``."""
    return hasattr(obj, "gspace") and hasattr(obj, "representation") and hasattr(obj, "representations")


def is_geometric_tensor(obj: Any) -> bool:
    """Whether ``obj`` looks like an escnn ``GeometricTensor``."""
    return (
        not isinstance(obj, torch.Tensor)
        and isinstance(getattr(obj, "tensor", None), torch.Tensor)
        and is_field_type(getattr(obj, "type", None))
    )


def field_type_rep(field_type: Any) -> symm.Rep:
    """The symm rep of a ``FieldType`` (cached on the field type's identity)."""
    hit = _FT_CACHE.get(id(field_type))
    if hit is not None and hit[0] is field_type:
        return hit[1]
    rep = symm.Rep.from_escnn(field_type)
    _FT_CACHE[id(field_type)] = (field_type, rep)
    return rep


_FT_CACHE: dict[int, tuple[Any, symm.Rep]] = {}


def same_rep(a: symm.Rep, b: symm.Rep) -> bool:
    """Whether two reps are the same group action on the same coordinates."""
    return (
        a.group is b.group and a.size == b.size and bool(np.allclose(a.generator_images, b.generator_images, atol=1e-9))
    )


def split_input(x: Any, in_rep: symm.Rep, in_type: Any, arg: str = "x") -> tuple[torch.Tensor, Any]:
    """``(tensor, geometric_tensor_or_None)`` from a module input, checking a ``GeometricTensor``'s type.

    Raises
    ------
    TypeError
        If ``x`` is neither a tensor nor a ``GeometricTensor``.
    ValueError
        If the ``GeometricTensor``'s ``FieldType`` is not the module's input type.
    """
    if isinstance(x, torch.Tensor):
        return x, None
    if is_geometric_tensor(x):
        if is_field_type(in_type):
            if x.type != in_type:
                raise ValueError(
                    f"{arg} is a GeometricTensor of FieldType {x.type!r}, but this module expects {in_type!r}"
                )
        elif not same_rep(field_type_rep(x.type), in_rep):
            raise ValueError(
                f"{arg} is a GeometricTensor whose FieldType {x.type!r} is not this module's input rep "
                f"{in_rep!r} (same group and the same generator matrices are needed)"
            )
        return x.tensor, x
    raise TypeError(f"{arg} must be a torch.Tensor or an escnn GeometricTensor, got {type(x).__name__}")


def output_field_type(out_type: Any, out_rep: symm.Rep, like: Any) -> Any:
    """The output ``FieldType``: ``out_type``, or one on ``like.type.gspace`` built from ``out_rep``."""
    if is_field_type(out_type):
        return out_type
    if escnn_group(out_rep.group) is None:
        raise ValueError(
            f"the output rep {out_rep!r} is not of an escnn group, so it cannot be returned as a "
            "GeometricTensor; "
            "build the module from escnn FieldTypes (or reps of symm.Group.from_escnn(G))"
        )
    field_type_cls = type(like.type)
    return field_type_cls(like.type.gspace, [out_rep.to_escnn()])


def wrap_output(y: torch.Tensor, like: Any, out_type: Any, out_rep: symm.Rep) -> Any:
    """Wrap ``y`` in a ``GeometricTensor`` of the module's output type, of the same class as ``like``."""
    return type(like)(y, output_field_type(out_type, out_rep, like))


def GSpace1D(G: Any, name: str | None = None) -> Any:
    """A minimal escnn ``GSpace`` over a 1-D base space on which ``G`` acts trivially.

    It lets escnn users build ``FieldType``s (and ``GeometricTensor``s of shape ``(B, C, T)``) for
    :class:`~symm_torch.nn.eConv1D`: the group acts only on the channels, never on the time axis.

    Parameters
    ----------
    G : escnn.group.Group
        A finite escnn group.
    name : str, optional

    Returns
    -------
    escnn.gspaces.GSpace
        With ``dimensionality == 1`` and ``fibergroup is G``.

    Raises
    ------
    ImportError
        If escnn is not installed.
    """
    require_escnn()
    from symm_torch._gspace1d import GSpace1D as cls

    return cls(G, name)
