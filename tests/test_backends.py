"""Checks of the ``backend`` fixture itself."""

from __future__ import annotations

import array_api_compat
import numpy as np
import pytest
from _backends import BACKEND_NAMES, parse_selection


def test_round_trip(backend, rng):
    a = rng.standard_normal((12, 3))
    x = backend.asarray(a)
    back = backend.to_numpy(x)
    assert isinstance(back, np.ndarray)
    assert back.dtype == np.float64
    assert back.shape == a.shape
    np.testing.assert_allclose(back, a, rtol=backend.rtol, atol=backend.atol)


def test_dtype_device_namespace(backend):
    x = backend.asarray(np.arange(6.0).reshape(2, 3))
    assert array_api_compat.array_namespace(x) is backend.xp
    assert x.dtype == backend.dtype
    assert str(array_api_compat.device(x)) == str(backend.device)
    backend.check_array(x)
    assert backend.is_float64 == (backend.dtype == backend.xp.float64)
    assert (backend.rtol < 1e-8) == backend.is_float64


def test_operations_stay_on_backend(backend, xp):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = backend.asarray(a)
    y = x @ x + xp.ones((2, 2), dtype=backend.dtype, device=backend.device)
    backend.check_array(y)
    backend.assert_close(y, a @ a + 1.0)


def test_scalar_and_list_input(backend):
    backend.assert_close(backend.asarray([1.0, 2.0]), np.array([1.0, 2.0]))
    assert backend.to_numpy(backend.asarray(3.0)).shape == ()


def test_float32_tolerances(backend):
    if backend.is_float64:
        assert backend.rtol <= 1e-10
    else:
        assert 1e-6 <= backend.rtol <= 1e-3


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", set(BACKEND_NAMES)),
        ("all", set(BACKEND_NAMES)),
        ("numpy", {"numpy", "numpy-float32"}),
        ("torch", {"torch-float64", "torch-float32", "torch-cuda"}),
        ("torch-float32, jax", {"torch-float32", "jax"}),
        ("array_api_strict", {"array_api_strict", "array_api_strict-device1"}),
    ],
)
def test_selection(spec, expected):
    assert set(parse_selection(spec)) == expected


def test_selection_rejects_unknown():
    with pytest.raises(ValueError, match="unknown backend"):
        parse_selection("numpyy")
