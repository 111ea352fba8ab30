"""Validation of the arguments of the public functions: each error names the argument and what was expected."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from symm._rep import Rep, common_group
from symm._xp import as_float_array, namespace_of

__all__ = ["check_correction", "check_features", "check_rep", "check_samples", "n_samples", "prepare"]


def check_rep(rep: Any, name: str) -> Rep:
    if not isinstance(rep, Rep):
        raise TypeError(f"{name} must be a symm.Rep, got {type(rep).__name__}")
    return rep


def check_samples(x: Any, name: str, rep: Rep, rep_name: str, xp: Any) -> Any:
    if isinstance(x, np.ma.MaskedArray):  # an ndarray subclass: NumPy would drop or mishandle the mask
        raise TypeError(
            f"{name} is a numpy.ma.MaskedArray of shape {x.shape}; masked arrays are not supported (symm does "
            f"not honour masks): fill the masked entries ({name}.filled(value)) or drop the masked rows "
            f"(numpy.ma.compress_rows({name})) first"
        )
    x = as_float_array(x, xp, name)
    if x.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (N, D) with samples along axis 0, got {x.ndim}-D shape "
            f"{tuple(x.shape)}"
        )
    n_samples(x, name)
    if x.shape[1] != rep.size:
        raise ValueError(
            f"{name} has {x.shape[1]} columns but {rep_name} has size {rep.size}; {name} must have shape "
            f"(N, {rep.size})"
        )
    return x


def check_correction(correction: Any, n: int, data: str = "x") -> float:
    """``correction`` as a float, checked against the number of samples ``n`` of ``data`` (named in errors)."""
    if isinstance(correction, bool) or not isinstance(correction, Real):
        raise TypeError(f"correction must be a real number, got {type(correction).__name__}")
    correction = float(correction)
    if not correction >= 0.0:
        raise ValueError(f"correction must be >= 0, got {correction}")
    if not n > correction:
        raise ValueError(
            f"too few samples: {data} has N={n} samples, but correction={correction:g} needs more than "
            f"{correction:g} (the normaliser N - correction must be positive)"
        )
    return correction


def prepare(x: Any, y: Any, rep_x: Any, rep_y: Any) -> tuple[Any, Any, Any, Rep, Rep]:
    """Validate ``(x, y, rep_x, rep_y)``; returns ``(xp, x, y, rep_x, rep_y)`` with a common float dtype."""
    rep_x = check_rep(rep_x, "rep_x")
    if y is None:
        if rep_y is not None and rep_y is not rep_x:
            check_rep(rep_y, "rep_y")
            raise ValueError("y is None (auto-covariance of x), so rep_y must be None or rep_x")
        rep_y = rep_x
    else:
        if rep_y is None:
            raise ValueError("rep_y is required when y is given")
        rep_y = check_rep(rep_y, "rep_y")
        rep_x, rep_y = common_group(rep_x, rep_y, ("rep_x", "rep_y"))
    xp = namespace_of(x=x, y=y)
    x = check_samples(x, "x", rep_x, "rep_x", xp)
    if y is not None:
        y = check_samples(y, "y", rep_y, "rep_y", xp)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"x and y must have the same number of samples N, got {x.shape[0]} and {y.shape[0]}")
        if y.dtype != x.dtype:
            dt = xp.result_type(x, y)
            x, y = xp.astype(x, dt), xp.astype(y, dt)
    return xp, x, y, rep_x, rep_y


def n_samples(x: Any, name: str = "x") -> int:
    n = x.shape[0]
    if n is None or n != n:  # unknown (lazy) length: None in the standard, NaN in Dask
        raise ValueError(
            f"{name} has an unknown number of samples (shape {tuple(x.shape)}), as a Dask array has after boolean "
            f"indexing; compute its length first, e.g. {name} = {name}.compute_chunk_sizes()"
        )
    return int(n)


def check_features(x: Any, rep: Any, name: str) -> tuple[Any, Any]:
    """``(xp, x)`` for an array of shape ``(..., D)`` whose last axis transforms under ``rep``."""
    check_rep(rep, "rep")
    xp = namespace_of(**{name: x})
    x = as_float_array(x, xp, name)
    if x.ndim < 1 or x.shape[-1] != rep.size:
        raise ValueError(f"{name} must have shape (..., {rep.size}) for a rep of size {rep.size}, got {tuple(x.shape)}")
    return xp, x
