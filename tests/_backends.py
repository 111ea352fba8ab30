"""Array backends for the numerical test suite.

Every numerical test takes the ``backend`` fixture (see ``conftest.py``) and runs once per backend below.
A backend knows how to move a NumPy float64 array onto itself (:meth:`Backend.asarray`) and back
(:meth:`Backend.to_numpy`), with tolerances suited to its dtype. The libraries themselves are set up by
:func:`symm.app.backends.setup`, as the demo sets them up.

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

from symm.app.backends import ArrayBackend, BackendUnavailable, setup, to_numpy

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


def _make(name: str, family: str, array: ArrayBackend) -> Backend:
    import array_api_compat

    sample = array.from_host(np.zeros(1))
    xp = array_api_compat.array_namespace(sample)
    rtol, atol = TOLERANCES[array.dtype]
    return Backend(
        name=name,
        family=family,
        xp=xp,
        device=array_api_compat.device(sample),
        dtype=getattr(xp, array.dtype),
        rtol=rtol,
        atol=atol,
        _asarray=array.from_host,
        _to_numpy=to_numpy,
    )


def _jax(name: str) -> Backend:
    if importlib.util.find_spec("jax") is None:
        raise BackendUnavailable("jax not installed")
    import jax

    jax.config.update("jax_enable_x64", True)
    array = setup("jax", None, "float64")
    if array.dtype != "float64":
        raise BackendUnavailable("jax float64 could not be enabled (jax_enable_x64)")
    return _make(name, "jax", array)


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": lambda: _make("numpy", "numpy", setup("numpy")),
    "numpy-float32": lambda: _make("numpy-float32", "numpy", setup("numpy", None, "float32")),
    "array_api_strict": lambda: _make("array_api_strict", "array_api_strict", setup("array_api_strict")),
    "array_api_strict-device1": lambda: _make(
        "array_api_strict-device1", "array_api_strict", setup("array_api_strict", "device1")
    ),
    "torch-float64": lambda: _make("torch-float64", "torch", setup("torch")),
    "torch-float32": lambda: _make("torch-float32", "torch", setup("torch", None, "float32")),
    "jax": lambda: _jax("jax"),
    "dask": lambda: _make("dask", "dask", setup("dask", dask_chunks=3)),
    "cupy": lambda: _make("cupy", "cupy", setup("cupy")),
    "torch-cuda": lambda: _make("torch-cuda", "torch", setup("torch", "cuda")),
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
