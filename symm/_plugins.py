"""Plugin discovery and environment report.

Plugins register under the entry-point group ``symm.backends``, e.g. in the plugin's ``pyproject.toml``::

    [project.entry-points."symm.backends"]
    torch = "symm_torch:plugin"

:func:`plugins` lists the installed plugins without importing them. :func:`require` loads one, and for a
known plugin that is not installed raises an :class:`ImportError` that names the pip command.
:func:`array_backends` and :func:`escnn_info` describe the array libraries found; nothing is imported
until it is asked for.
"""

from __future__ import annotations

import importlib
import importlib.metadata as _md
import importlib.util
import logging
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ENTRY_POINT_GROUP",
    "KNOWN_PLUGINS",
    "BackendInfo",
    "KnownPlugin",
    "PluginInfo",
    "array_backends",
    "escnn_info",
    "plugins",
    "require",
]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "symm.backends"


@dataclass(frozen=True)
class KnownPlugin:
    """A plugin symm knows how to point users to."""

    name: str
    distribution: str
    module: str
    source_dir: str

    def install_hint(self) -> str:
        return (
            f"from a symm checkout, `pip install ./{self.source_dir}` with the dependency versions of your choice "
            f"(the distribution {self.distribution!r} is not on PyPI yet)"
        )


KNOWN_PLUGINS: dict[str, KnownPlugin] = {
    "torch": KnownPlugin("torch", "symm-torch", "symm_torch", "backends/torch"),
}


@dataclass
class PluginInfo:
    """An installed plugin: the entry point's name, its distribution and version; the plugin object itself
    is loaded on first access of :meth:`load`."""

    name: str
    value: str
    distribution: str | None
    version: str | None
    _entry_point: Any = field(default=None, repr=False, compare=False)
    _loaded: Any = field(default=None, repr=False, compare=False)
    _is_loaded: bool = field(default=False, repr=False, compare=False)

    def load(self) -> Any:
        """Import the plugin and return the object its entry point names (cached)."""
        if not self._is_loaded:
            self._loaded = self._entry_point.load()
            self._is_loaded = True
        return self._loaded

    @property
    def loaded(self) -> Any:
        return self.load()


def _entry_points() -> list[Any]:
    try:
        eps = _md.entry_points(group=ENTRY_POINT_GROUP)
    except TypeError:  # pragma: no cover - Python < 3.10 style API
        eps = _md.entry_points().get(ENTRY_POINT_GROUP, [])
    return list(eps)


def plugins() -> dict[str, PluginInfo]:
    """The installed symm plugins, by entry-point name. Nothing is imported."""
    found: dict[str, PluginInfo] = {}
    for ep in _entry_points():
        dist = getattr(ep, "dist", None)
        dist_name = getattr(dist, "name", None) if dist is not None else None
        version = getattr(dist, "version", None) if dist is not None else None
        if ep.name in found:
            logger.warning(
                "symm plugin %r is registered twice (%s and %s); using the first",
                ep.name,
                found[ep.name].value,
                ep.value,
            )
            continue
        found[ep.name] = PluginInfo(ep.name, ep.value, dist_name, version, _entry_point=ep)
    return dict(sorted(found.items()))


def require(name: str) -> Any:
    """Load the plugin ``name`` and return its plugin object.

    Raises
    ------
    ImportError
        If the plugin is not installed; for a known plugin (e.g. ``"torch"``) the message names the pip
        command that installs it.
    """
    installed = plugins()
    if name in installed:
        return installed[name].load()
    known = KNOWN_PLUGINS.get(name)
    if known is not None:
        # Installed without metadata (e.g. on sys.path from a checkout): import it directly.
        if importlib.util.find_spec(known.module) is not None:
            module = importlib.import_module(known.module)
            return getattr(module, "plugin", module)
        raise ImportError(
            f"the symm {name!r} plugin is not installed; install it with {known.install_hint()}",
            name=known.module,
        )
    options = sorted(set(installed) | set(KNOWN_PLUGINS))
    raise ImportError(f"unknown symm plugin {name!r}; known plugins: {', '.join(options) or 'none'}")


# --------------------------------------------------------------------------------------------- backends


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
