"""The array libraries and escnn found in this environment, for ``symm info`` and the demo.

Nothing is imported until it is asked for; a probe that fails is reported, never raised.
"""

from __future__ import annotations

import importlib
import importlib.metadata as _md
import importlib.util
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["BackendInfo", "array_backends", "escnn_info"]


@dataclass
class BackendInfo:
    """An array library: whether it is installed, its version, and (when probed) its devices."""

    name: str
    distribution: str
    installed: bool
    version: str | None = None
    devices: list[str] | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "installed": self.installed,
            "version": self.version,
            "devices": self.devices,
            "note": self.note,
        }


def _version(*dists: str) -> str | None:
    for dist in dists:
        try:
            return _md.version(dist)
        except _md.PackageNotFoundError:
            continue
    return None


def _devices_numpy() -> list[str]:
    return ["cpu"]


def _devices_array_api_strict() -> list[str]:
    import array_api_strict

    names = []
    for d in array_api_strict.__array_namespace_info__().devices():
        m = re.fullmatch(r".*Device\('(.*)'\)", str(d))
        names.append(m.group(1) if m else str(d))
    return names


def _devices_torch() -> list[str]:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


def _devices_jax() -> list[str]:
    import jax

    return [str(d) for d in jax.devices()]


def _devices_cupy() -> list[str]:
    import cupy

    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # no driver / no GPU
        raise RuntimeError(f"no CUDA device ({type(exc).__name__})") from exc
    return [f"cuda:{i}" for i in range(n)]


def _devices_dask() -> list[str]:
    return ["cpu"]


# name -> (import name, distribution names to try, device probe)
_BACKENDS: dict[str, tuple[str, tuple[str, ...], Any]] = {
    "numpy": ("numpy", ("numpy",), _devices_numpy),
    "array_api_strict": (
        "array_api_strict",
        ("array-api-strict", "array_api_strict"),
        _devices_array_api_strict,
    ),
    "torch": ("torch", ("torch",), _devices_torch),
    "jax": ("jax", ("jax",), _devices_jax),
    "cupy": ("cupy", ("cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy"), _devices_cupy),
    "dask": ("dask", ("dask",), _devices_dask),
}


def array_backends(*, probe_devices: bool = True, names: list[str] | None = None) -> dict[str, BackendInfo]:
    """The array libraries symm runs on, with versions and (if ``probe_devices``) devices.

    Installation and versions are read from package metadata, without importing anything. Probing devices
    imports each installed library, only when asked; a probe that fails is reported in ``note``.
    """
    result: dict[str, BackendInfo] = {}
    for name in names or list(_BACKENDS):
        if name not in _BACKENDS:
            raise ValueError(f"unknown array backend {name!r}; known: {', '.join(_BACKENDS)}")
        module, dists, probe = _BACKENDS[name]
        installed = importlib.util.find_spec(module) is not None
        version = _version(*dists) if installed else None
        dist = next((d for d in dists if _version(d) is not None), dists[0])
        info = BackendInfo(name, dist, installed, version)
        if installed and probe_devices:
            try:
                info.devices = probe()
            except Exception as exc:
                info.note = f"device probe failed: {type(exc).__name__}: {exc}"
        result[name] = info
    return result


def escnn_info() -> dict[str, Any]:
    """Whether escnn is importable and its version, without importing it."""
    try:
        available = importlib.util.find_spec("escnn") is not None
    except (ImportError, ValueError):
        available = False
    return {"available": available, "version": _version("escnn") if available else None}
