"""Array backends by name: import one, resolve its device, and move host data onto it and back.

The one place where the demo, the environment report and the test suite set up NumPy, Dask,
array-api-strict, torch, JAX and CuPy. ``setup("torch", "cuda", "float32")`` returns an :class:`ArrayBackend`
or raises :class:`BackendUnavailable` with the reason (library missing, no such device, ...).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

__all__ = ["BACKENDS", "ArrayBackend", "BackendUnavailable", "setup", "to_numpy"]

#: the libraries, in the order the demo lists them
BACKENDS: tuple[str, ...] = ("numpy", "torch", "jax", "cupy", "dask", "array_api_strict")

_DISTRIBUTIONS = {"array_api_strict": "array-api-strict", "dask": "dask"}


class BackendUnavailable(RuntimeError):
    """The backend's library, device or dtype is not available here; the message says why."""


@dataclass(frozen=True)
class ArrayBackend:
    """An array library on one device and dtype.

    Attributes
    ----------
    name : str
        One of :data:`BACKENDS`.
    version : str
        The library's version.
    device : object
        The library's own device object (``torch.device("cuda", 0)``, a JAX device, ``"cpu"``, ...).
    dtype : str
        ``"float64"`` or ``"float32"``: the dtype actually used (JAX without x64 falls back to float32).
    from_host : callable
        ``(ndarray) -> array`` on ``device`` in ``dtype``.
    note : str
        Anything a report should say (a dtype fallback, lazy evaluation).
    """

    name: str
    version: str
    device: Any
    dtype: str
    from_host: Callable[[np.ndarray], Any]
    note: str = ""


def library_version(module: str) -> str:
    """The installed version of ``module``'s distribution (``"?"`` when unknown)."""
    try:
        return version(_DISTRIBUTIONS.get(module, module))
    except PackageNotFoundError:
        return str(getattr(importlib.import_module(module), "__version__", "?"))


def to_numpy(a: Any) -> np.ndarray:
    """An array of any supported library as a host NumPy array (forces lazy or asynchronous work)."""
    if hasattr(a, "compute") and hasattr(a, "dask"):
        a = a.compute()
    mod = type(a).__module__.split(".")[0]
    if mod == "torch":
        return a.detach().cpu().numpy()
    if mod == "cupy":
        return a.get()
    if mod == "jax" or mod == "jaxlib":
        import jax

        return np.asarray(jax.device_get(a))
    if mod == "array_api_strict":
        default = a.__array_namespace__().__array_namespace_info__().default_device()
        if a.device != default:
            a = a.to_device(default)
    try:
        return np.asarray(a)
    except Exception:
        return np.from_dlpack(a)


def _require(module: str) -> Any:
    if importlib.util.find_spec(module.split(".")[0]) is None:
        raise BackendUnavailable(f"{_DISTRIBUTIONS.get(module, module)} not installed")
    try:
        return importlib.import_module(module)
    except Exception as exc:  # a broken install is reported, not raised
        raise BackendUnavailable(f"{module} failed to import: {type(exc).__name__}: {exc}") from exc


def setup(name: str, device: str | None = None, dtype: str = "float64", *, dask_chunks: int = 4) -> ArrayBackend:
    """Import backend ``name`` on ``device`` (``None``: its default) with ``dtype``.

    Parameters
    ----------
    name : str
        One of :data:`BACKENDS`.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"gpu"`` (JAX), or an array-api-strict device name.
    dtype : {"float64", "float32"}
    dask_chunks : int
        Tall Dask sample matrices (``N >= 2D``) are split into this many chunks along the samples.

    Raises
    ------
    BackendUnavailable
        The library is missing or broken, or the device does not exist.
    ValueError
        An unknown backend name or dtype.
    """
    if dtype not in ("float64", "float32"):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    if name in ("numpy", "dask") and device not in (None, "cpu"):
        raise BackendUnavailable(f"{name} runs on the CPU only (asked for device {device!r})")
    return _SETUP[name](device, dtype, dask_chunks)


def _numpy(device: str | None, dtype: str, _chunks: int) -> ArrayBackend:
    dt = np.dtype(dtype)
    return ArrayBackend("numpy", np.__version__, "cpu", dtype, lambda a: np.asarray(a, dtype=dt))


def _dask(device: str | None, dtype: str, chunks: int) -> ArrayBackend:
    da = _require("dask.array")
    dt = np.dtype(dtype)

    def from_host(a: np.ndarray) -> Any:
        a = np.asarray(a, dtype=dt)
        # tall sample matrices (N, D) are split along the samples, so that reductions cross chunks; anything
        # else is one chunk
        if a.ndim == 2 and a.shape[0] >= 8 and a.shape[0] >= 2 * a.shape[1]:
            return da.from_array(a, chunks=(-(-a.shape[0] // chunks), a.shape[1]))
        return da.from_array(a, chunks=a.shape if a.ndim else ())

    note = f"lazy; {chunks} chunks; times include compute()"
    return ArrayBackend("dask", library_version("dask"), "cpu", dtype, from_host, note)


def _array_api_strict(device: str | None, dtype: str, _chunks: int) -> ArrayBackend:
    xp = _require("array_api_strict")
    info = xp.__array_namespace_info__()
    if device in (None, "cpu"):
        dev = info.default_device()
    else:
        names = {str(d): d for d in info.devices()}
        dev = next((d for d in info.devices() if device in str(d)), None)
        if dev is None:
            raise BackendUnavailable(f"array_api_strict has no device {device!r}; it has {sorted(names)}")
    xdt = getattr(xp, dtype)
    return ArrayBackend(
        "array_api_strict",
        library_version("array_api_strict"),
        dev,
        dtype,
        lambda a: xp.asarray(np.asarray(a), dtype=xdt, device=dev),
    )


def _torch(device: str | None, dtype: str, _chunks: int) -> ArrayBackend:
    torch = _require("torch")
    dev = torch.device(device or "cpu")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise BackendUnavailable("no CUDA GPU (torch.cuda.is_available() is False)")
        # torch.device("cuda") names no index, while every tensor on it reports one (the current device)
        dev = torch.device("cuda", torch.cuda.current_device() if dev.index is None else dev.index)
    try:
        torch.empty(1, device=dev)
    except Exception as exc:
        raise BackendUnavailable(f"torch cannot use device {device!r}: {exc}") from exc
    tdt = getattr(torch, dtype)
    return ArrayBackend(
        "torch",
        torch.__version__,
        dev,
        dtype,
        lambda a: torch.as_tensor(np.require(np.asarray(a), requirements="C"), dtype=tdt, device=dev),
    )


def _jax(device: str | None, dtype: str, _chunks: int) -> ArrayBackend:
    jax = _require("jax")
    jnp = _require("jax.numpy")
    if device is None:
        dev = jax.devices()[0]
    else:
        platform, _, index = device.partition(":")
        platform = {"cuda": "gpu"}.get(platform, platform)
        try:
            dev = jax.devices(platform)[int(index or 0)]
        except Exception as exc:
            raise BackendUnavailable(f"no jax device {device!r}") from exc
    used, note = dtype, ""
    if dtype == "float64" and not jax.config.read("jax_enable_x64"):
        used, note = "float32", "float32: set JAX_ENABLE_X64=1 for float64"
    jdt = getattr(jnp, used)
    return ArrayBackend(
        "jax", library_version("jax"), dev, used, lambda a: jax.device_put(jnp.asarray(a, dtype=jdt), dev), note
    )


def _cupy(device: str | None, dtype: str, _chunks: int) -> ArrayBackend:
    cupy = _require("cupy")
    index = 0
    if device not in (None, "cuda", "gpu"):
        platform, _, idx = device.partition(":")
        if platform not in ("cuda", "gpu"):
            raise BackendUnavailable(f"CuPy runs on CUDA devices only (asked for {device!r})")
        index = int(idx or 0)
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise BackendUnavailable(f"no CUDA GPU for cupy ({type(exc).__name__}: {exc})") from exc
    if count <= index:
        raise BackendUnavailable(f"no CUDA device {index} for cupy ({count} found)")

    def from_host(a: np.ndarray) -> Any:
        with cupy.cuda.Device(index):
            return cupy.asarray(a, dtype=dtype)

    return ArrayBackend("cupy", library_version("cupy"), cupy.cuda.Device(index), dtype, from_host)


_SETUP: dict[str, Callable[[str | None, str, int], ArrayBackend]] = {
    "numpy": _numpy,
    "dask": _dask,
    "array_api_strict": _array_api_strict,
    "torch": _torch,
    "jax": _jax,
    "cupy": _cupy,
}
