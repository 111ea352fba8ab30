"""Array backends for the numerical test suite.

Every numerical test takes the ``backend`` fixture (see ``conftest.py``) and runs once per backend below.
A backend knows how to move a NumPy float64 array onto itself (:meth:`Backend.asarray`) and back
(:meth:`Backend.to_numpy`), with tolerances suited to its dtype.

Backends are selected with the environment variable ``SYMM_BACKENDS`` (comma list of backend names such as
``torch-float32`` or family prefixes such as ``torch``; unset, empty or ``all`` selects every backend).
A backend whose library or hardware is missing is skipped with the reason, never silently passed.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

#: every backend parameter, in the order the fixture runs them
BACKEND_NAMES: tuple[str, ...] = (
    "numpy",
    "numpy-float32",
    "array_api_strict",
    "array_api_strict-device1",
    "torch-float64",
    "torch-float32",
    "jax",
    "dask",
    "cupy",
    "torch-cuda",
)

ENV_VAR = "SYMM_BACKENDS"

# ``SYMM_BACKENDS`` also accepts these aliases; anything else must be a name or a family prefix.
_ALIASES = {"all": BACKEND_NAMES, "gpu": ("cupy", "torch-cuda")}

TOLERANCES = {
    # (rtol, atol)
    "float64": (1e-10, 1e-10),
    "float32": (1e-4, 1e-4),
}


class BackendUnavailable(Exception):
    """The backend's library or hardware is missing; the message is the skip reason."""


@dataclass(frozen=True)
class Backend:
    """One array backend as seen by the tests.

    Attributes
    ----------
    name : str
        Parameter id, e.g. ``"numpy"`` or ``"torch-float32"``.
    family : str
        Library family, e.g. ``"numpy"``, ``"torch"``, ``"array_api_strict"``.
    xp : module
        The array-api-compat namespace, ``array_api_compat.array_namespace(x)`` of this backend's arrays.
    device : object
        The device the backend puts arrays on (the backend's own device object).
    dtype : object
        The backend's floating dtype object (``xp.float64`` or ``xp.float32``).
    rtol, atol : float
        Comparison tolerances suited to ``dtype``.
    """

    name: str
    family: str
    xp: Any
    device: Any
    dtype: Any
    rtol: float
    atol: float
    _asarray: Callable[[np.ndarray], Any] = field(repr=False)
    _to_numpy: Callable[[Any], np.ndarray] = field(repr=False)

    @property
    def is_float64(self) -> bool:
        return self.dtype == self.xp.float64

    def asarray(self, a: Any) -> Any:
        """Convert a NumPy array (or nested list / scalar) to this backend, on ``device``, in ``dtype``."""
        return self._asarray(np.asarray(a, dtype=np.float64))

    def to_numpy(self, arr: Any) -> np.ndarray:
        """Convert an array of this backend (any device, lazy or not) to a NumPy float64 array."""
        return np.asarray(self._to_numpy(arr), dtype=np.float64)

    def device_of(self, arr: Any) -> Any:
        import array_api_compat

        return array_api_compat.device(arr)

    def check_array(self, arr: Any, *, dtype: Any = None) -> None:
        """Fail the test unless ``arr`` is in this backend's namespace, on ``device``, in ``dtype``."""
        import array_api_compat

        ns = array_api_compat.array_namespace(arr)
        if ns is not self.xp:
            raise AssertionError(f"[{self.name}] result namespace {ns.__name__} is not {self.xp.__name__}")
        want = self.dtype if dtype is None else dtype
        if arr.dtype != want:
            raise AssertionError(f"[{self.name}] result dtype {arr.dtype} is not {want}")
        dev = array_api_compat.device(arr)
        if str(dev) != str(self.device):
            raise AssertionError(f"[{self.name}] result device {dev} is not {self.device}")

    def assert_close(
        self,
        actual: Any,
        expected: Any,
        *,
        rtol: float | None = None,
        atol: float | None = None,
        err_msg: str = "",
    ) -> None:
        """``np.testing.assert_allclose`` with this backend's tolerances; arrays of this backend are
        converted with :meth:`to_numpy` first."""
        a = actual if isinstance(actual, np.ndarray | float | int) else self.to_numpy(actual)
        e = expected if isinstance(expected, np.ndarray | float | int) else self.to_numpy(expected)
        np.testing.assert_allclose(
            np.asarray(a, dtype=np.float64),
            np.asarray(e, dtype=np.float64),
            rtol=self.rtol if rtol is None else rtol,
            atol=self.atol if atol is None else atol,
            err_msg=f"[{self.name}] {err_msg}",
        )

    def __str__(self) -> str:
        return self.name


def _tol(dtype_name: str) -> tuple[float, float]:
    return TOLERANCES[dtype_name]


def _require(module: str, dist: str | None = None) -> Any:
    if importlib.util.find_spec(module) is None:
        raise BackendUnavailable(f"{dist or module} not installed")
    try:
        return importlib.import_module(module)
    except Exception as exc:  # broken install: still a skip, with the reason
        raise BackendUnavailable(f"{dist or module} failed to import: {type(exc).__name__}: {exc}") from exc


def _make(name, family, sample, asarray, to_numpy, dtype_name, device=None) -> Backend:
    import array_api_compat

    xp = array_api_compat.array_namespace(sample)
    rtol, atol = _tol(dtype_name)
    return Backend(
        name=name,
        family=family,
        xp=xp,
        device=array_api_compat.device(sample) if device is None else device,
        dtype=getattr(xp, dtype_name),
        rtol=rtol,
        atol=atol,
        _asarray=asarray,
        _to_numpy=to_numpy,
    )


# --------------------------------------------------------------------------------------------- factories


def _numpy(dtype_name: str, name: str) -> Backend:
    dt = np.dtype(dtype_name)

    def asarray(a):
        return np.asarray(a, dtype=dt)

    return _make(name, "numpy", asarray(np.zeros(1)), asarray, np.asarray, dtype_name)


def _array_api_strict(device_name: str | None, name: str) -> Backend:
    xp = _require("array_api_strict", "array-api-strict")
    info = xp.__array_namespace_info__()
    default = info.default_device()
    device = default if device_name is None else xp.Device(device_name)

    def asarray(a):
        return xp.asarray(a, dtype=xp.float64, device=device)

    def to_numpy(x):
        if hasattr(x, "to_device") and getattr(x, "device", default) != default:
            x = x.to_device(default)
        return np.asarray(x)

    return _make(name, "array_api_strict", asarray(np.zeros(1)), asarray, to_numpy, "float64", device)


def _torch(dtype_name: str, name: str, device_name: str = "cpu") -> Backend:
    torch = _require("torch")
    if device_name == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailable("no CUDA GPU (torch.cuda.is_available() is False)")
    # torch.device("cuda") names no index, while every tensor on it reports "cuda:0" (the current device)
    device = torch.device("cuda", torch.cuda.current_device()) if device_name == "cuda" else torch.device(device_name)
    dt = getattr(torch, dtype_name)

    def asarray(a):
        return torch.as_tensor(a, dtype=dt, device=device)

    def to_numpy(x):
        if isinstance(x, torch.Tensor):
            return x.detach().to(device="cpu", dtype=torch.float64).numpy()
        return np.asarray(x)

    return _make(name, "torch", asarray(np.zeros(1)), asarray, to_numpy, dtype_name, device)


def _jax(name: str) -> Backend:
    jax = _require("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    device = jax.devices()[0]

    def asarray(a):
        return jax.device_put(jnp.asarray(a, dtype=jnp.float64), device)

    def to_numpy(x):
        return np.asarray(jax.device_get(x))

    backend = _make(name, "jax", asarray(np.zeros(1)), asarray, to_numpy, "float64", device)
    if asarray(np.zeros(1)).dtype != jnp.float64:
        raise BackendUnavailable("jax float64 could not be enabled (jax_enable_x64)")
    return backend


def _dask(name: str) -> Backend:
    _require("dask")
    da = _require("dask.array", "dask[array]")

    def asarray(a):
        a = np.asarray(a, dtype=np.float64)
        # Tall sample matrices (N, D) are split along the sample axis so that reductions cross chunks;
        # everything else is one chunk.
        if a.ndim == 2 and a.shape[0] >= 8 and a.shape[0] >= 2 * a.shape[1]:
            chunks = (-(-a.shape[0] // 3), a.shape[1])
        else:
            chunks = a.shape if a.ndim else ()
        return da.from_array(a, chunks=chunks)

    def to_numpy(x):
        if hasattr(x, "compute"):
            x = x.compute()
        return np.asarray(x)

    return _make(name, "dask", asarray(np.zeros(1)), asarray, to_numpy, "float64")


def _cupy(name: str) -> Backend:
    cp = _require("cupy")
    try:
        n = cp.cuda.runtime.getDeviceCount()
    except Exception as exc:
        raise BackendUnavailable(f"no CUDA GPU for cupy ({type(exc).__name__}: {exc})") from exc
    if n < 1:
        raise BackendUnavailable("no CUDA GPU for cupy (device count 0)")

    def asarray(a):
        return cp.asarray(a, dtype=cp.float64)

    def to_numpy(x):
        return x.get() if isinstance(x, cp.ndarray) else np.asarray(x)

    return _make(name, "cupy", asarray(np.zeros(1)), asarray, to_numpy, "float64")


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": lambda: _numpy("float64", "numpy"),
    "numpy-float32": lambda: _numpy("float32", "numpy-float32"),
    "array_api_strict": lambda: _array_api_strict(None, "array_api_strict"),
    "array_api_strict-device1": lambda: _array_api_strict("device1", "array_api_strict-device1"),
    "torch-float64": lambda: _torch("float64", "torch-float64"),
    "torch-float32": lambda: _torch("float32", "torch-float32"),
    "jax": lambda: _jax("jax"),
    "dask": lambda: _dask("dask"),
    "cupy": lambda: _cupy("cupy"),
    "torch-cuda": lambda: _torch("float64", "torch-cuda", "cuda"),
}


# --------------------------------------------------------------------------------------------- selection


def selection_spec() -> str:
    return os.environ.get(ENV_VAR, "").strip()


def parse_selection(spec: str | None = None) -> frozenset[str]:
    """Backend names selected by a ``SYMM_BACKENDS`` value; raises ``ValueError`` on an unknown token."""
    spec = selection_spec() if spec is None else spec
    tokens = [t.strip() for t in spec.split(",") if t.strip()]
    if not tokens:
        return frozenset(BACKEND_NAMES)
    chosen: set[str] = set()
    for tok in tokens:
        if tok in _ALIASES:
            chosen.update(_ALIASES[tok])
            continue
        hits = [n for n in BACKEND_NAMES if n == tok or n.startswith(tok + "-")]
        if not hits:
            raise ValueError(
                f"{ENV_VAR}: unknown backend {tok!r}; known: {', '.join(BACKEND_NAMES)} "
                f"(or a family prefix such as 'torch', or 'all')"
            )
        chosen.update(hits)
    return frozenset(chosen)


@cache
def _load(name: str) -> Backend | BackendUnavailable:
    try:
        return _FACTORIES[name]()
    except BackendUnavailable as exc:
        return exc


def get_backend(name: str) -> Backend:
    """The backend called ``name``; raises :class:`BackendUnavailable` with the reason if it is missing,
    or if it is not selected by ``SYMM_BACKENDS``."""
    if name not in _FACTORIES:
        raise KeyError(f"unknown backend {name!r}; known: {', '.join(BACKEND_NAMES)}")
    if name not in parse_selection():
        raise BackendUnavailable(f"not selected in this session ({ENV_VAR}={selection_spec()})")
    result = _load(name)
    if isinstance(result, BackendUnavailable):
        raise result
    return result
