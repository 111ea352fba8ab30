"""Base class of the equivariant modules: rep bookkeeping, escnn in/out, exact constants at every dtype."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import symm
import torch

from symm_torch._escnn import is_field_type, split_input, wrap_output

__all__ = ["EquivariantModule"]


class EquivariantModule(torch.nn.Module):
    """A ``torch.nn.Module`` mapping features of ``in_rep`` to features of ``out_rep`` equivariantly.

    Subclasses implement :meth:`_forward` on plain tensors and :meth:`export`. The public :meth:`forward`
    accepts a tensor or an escnn ``GeometricTensor``; a ``GeometricTensor`` in gives one of ``out_type`` out.

    Representation constants (change of basis, endomorphism bases, ...) are registered with
    :meth:`_register_constant`: they are non-persistent buffers that follow ``.to(device)`` and
    ``.to(dtype)``, and are rebuilt from their float64 host copy on every dtype change, so a module built in
    float32 and moved to float64 is exact to float64 precision.

    Attributes
    ----------
    in_type, out_type : symm.Rep or escnn FieldType
        What the user passed (or the module built).
    in_rep, out_rep : symm.Rep
        The same as symm reps.
    """

    in_rep: symm.Rep
    out_rep: symm.Rep

    _features_last = False  # whether ``_forward`` takes features on the last axis (like torch.nn.Linear)

    def __init__(self) -> None:
        super().__init__()
        self._host_constants: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ constants
    def _register_constant(self, name: str, array: np.ndarray) -> None:
        array = np.array(array)  # a private, writable copy
        self._host_constants[name] = array
        if np.issubdtype(array.dtype, np.floating):
            tensor = torch.tensor(array, dtype=torch.get_default_dtype())
        else:
            tensor = torch.tensor(array, dtype=torch.long)
        self.register_buffer(name, tensor, persistent=False)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> EquivariantModule:
        super()._apply(fn, recurse)
        for name, host in self._host_constants.items():
            buf = self._buffers.get(name)
            if buf is not None and buf.is_floating_point():
                self._buffers[name] = torch.tensor(host, dtype=buf.dtype, device=buf.device)
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, x: Any) -> Any:
        """Apply the module to a tensor or a ``GeometricTensor`` of ``in_type``.

        Parameters
        ----------
        x : torch.Tensor or escnn GeometricTensor
            Features of ``in_rep``; see the subclass for the expected shape.

        Returns
        -------
        torch.Tensor or escnn GeometricTensor
            A ``GeometricTensor`` of ``out_type`` when ``x`` is one.
        """
        if isinstance(x, torch.Tensor):
            return self._forward(x)
        tensor, like = split_input(x, self.in_rep, self.in_type)
        if self._features_last:  # a GeometricTensor has its features on axis 1
            out = self._forward(tensor.movedim(1, -1)).movedim(-1, 1)
        else:
            out = self._forward(tensor)
        return wrap_output(out, like, self.out_type, self.out_rep)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _check_features(self, x: torch.Tensor, axis: int, min_ndim: int = 1) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim < min_ndim or x.shape[axis] != self.in_rep.size:
            where = "last axis" if axis == -1 else f"axis {axis}"
            raise ValueError(
                f"x must have {self.in_rep.size} features (the size of in_rep) along its {where}, "
                f"got shape {tuple(x.shape)}"
            )

    def export(self) -> torch.nn.Module:
        """Plain ``torch.nn`` modules computing the same function (no symm or escnn needed to run them)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"in={_describe(self.in_type, self.in_rep)}, out={_describe(self.out_type, self.out_rep)}"

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_weight_cache", None)
        return state


def _describe(t: Any, rep: symm.Rep) -> str:
    kind = "FieldType" if is_field_type(t) else "Rep"
    return f"{kind}({rep.group.name}, size {rep.size})"
