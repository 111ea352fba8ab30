"""Test helpers for users and for symm's own suite, backend-agnostic."""

from __future__ import annotations

import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from symm._rep import Rep, common_group
from symm._xp import constant, device_of, namespace_of, to_float, to_namespace

__all__ = ["assert_equivariant", "openblas_kernels"]


def assert_equivariant(
    f: Callable[[Any], Any],
    rep_in: Rep,
    rep_out: Rep,
    x: Any,
    *,
    axis: int = -1,
    rtol: float | None = None,
    atol: float | None = None,
    max_elements: int = 256,
    seed: int = 0,
) -> None:
    """Check ``f(ρ_in(g) x) = ρ_out(g) f(x)`` for every group element (or a random sample of them).

    Finite groups larger than ``max_elements`` and compact groups (SO(2), O(2), SO(3), O(3)) are checked on
    ``max_elements`` Haar-random elements (``group.sample``) drawn with ``seed``.

    Parameters
    ----------
    f : callable
        Maps an array with features of size D_in on ``axis`` to one with features of size D_out on the same
        axis, in the same namespace: ``(N, D_in) -> (N, D_out)`` for dense maps, ``(B, D_in, T) ->
        (B, D_out, T')`` with ``axis=1`` for convolutions.
    rep_in, rep_out : Rep
        Input and output representations. Pass ``rep_out = group.trivial_rep(D_out)`` for invariance.
    x : array, features of size D_in on ``axis``
        Test inputs in any Array API namespace.
    axis : int, default -1
        The feature axis of ``x`` and of ``f(x)``.
    rtol, atol : float, optional
        Tolerances relative to ``max |f(x)|``. Default: 1e-10 for float64, 1e-5 otherwise.
    max_elements : int
        Groups larger than this, and infinite groups, are checked on a random sample of this many elements.
    seed : int
        Seed of that sample.

    Raises
    ------
    AssertionError
        Naming the first element that fails and the error size.
    """
    xp = namespace_of(x=x)
    rep_in, rep_out = common_group(rep_in, rep_out, ("rep_in", "rep_out"))  # groups meet by content
    group = rep_in.group
    if not group.is_finite:
        elements: Any = group.sample(max_elements, seed)
    elif group.order <= max_elements:
        elements = range(group.order)
    else:
        elements = np.random.default_rng(seed).choice(group.order, size=max_elements, replace=False)
    f64 = x.dtype == xp.float64
    rtol = (1e-10 if f64 else 1e-5) if rtol is None else rtol
    atol = 0.0 if atol is None else atol
    dev = device_of(x)
    y = f(x)
    ref_scale = to_float(xp.max(xp.abs(y))) if y.size else 0.0
    if x.shape[axis] != rep_in.size:
        raise ValueError(f"x has {x.shape[axis]} features on axis {axis}, but rep_in has size {rep_in.size}")

    def act(r: Any, a: Any) -> Any:  # ρ applied to the features on ``axis``
        return xp.moveaxis(xp.moveaxis(a, axis, -1) @ xp.matrix_transpose(r), -1, axis)

    for g in elements:
        if group.is_finite:
            g = int(g)
            r_in = constant(rep_in, ("rho", g), lambda g=g: rep_in(g), xp, dev, x.dtype)
            r_out = constant(rep_out, ("rho", g), lambda g=g: rep_out(g), xp, dev, y.dtype)
        else:
            r_in, r_out = (to_namespace(r(g), xp, dev, x.dtype) for r in (rep_in, rep_out))
        lhs = f(act(r_in, x))
        rhs = act(r_out, y)
        err = to_float(xp.max(xp.abs(lhs - rhs))) if y.size else 0.0
        if not err <= atol + rtol * max(ref_scale, 1.0):
            raise AssertionError(
                f"not equivariant at group element {_element_text(g)} of {group.name}: "
                f"max |f(ρ_in(g)x) - ρ_out(g)f(x)| = {err:.3e} > {atol + rtol * max(ref_scale, 1.0):.3e}"
            )


def _element_text(g: Any) -> str:
    return str(g) if np.ndim(g) == 0 else np.array2string(np.asarray(g), precision=4, separator=", ")


# OpenBLAS kernel -> the CPU flag it needs (Nehalem runs on any x86-64)
_KERNEL_FLAGS = {"Nehalem": None, "Sandybridge": "avx", "Haswell": "avx2", "Zen": "avx2", "SkylakeX": "avx512f"}


def openblas_kernels() -> list[str]:
    """The ``OPENBLAS_CORETYPE`` values this CPU can run, for reproducibility tests in fresh processes.

    Forcing a kernel whose instructions the CPU lacks crashes the process, so only kernels whose flags appear
    in ``/proc/cpuinfo`` are listed. Off x86-64, or without ``/proc/cpuinfo``, the list is empty. The variable
    takes effect on the OpenBLAS that numpy's wheels bundle (``threadpoolctl`` shows which kernel runs).

    Returns
    -------
    list of str
        Among ``Nehalem``, ``Sandybridge``, ``Haswell``, ``Zen`` and ``SkylakeX``.
    """
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return []
    try:
        with open("/proc/cpuinfo") as f:
            flags = set(next((line for line in f if line.startswith("flags")), "").split())
    except OSError:
        return []
    return [k for k, flag in _KERNEL_FLAGS.items() if flag is None or flag in flags]
