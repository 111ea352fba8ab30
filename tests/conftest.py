"""Shared fixtures of the symm test suite.

``backend`` runs a test once per array backend (see ``_backends.py``); ``xp`` is ``backend.xp``.
Select backends with ``SYMM_BACKENDS`` (e.g. ``SYMM_BACKENDS=numpy,torch``); the others are skipped with
the reason.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

# JAX reads this at import: float64 must be on before any test touches jax.
os.environ.setdefault("JAX_ENABLE_X64", "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _backends import (
    BACKEND_NAMES,
    ENV_VAR,
    BackendUnavailable,
    get_backend,
    parse_selection,
    selection_spec,
)


def pytest_configure(config):
    try:
        parse_selection()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_report_header(config):
    spec = selection_spec() or "<unset: all>"
    return f"symm backends: {ENV_VAR}={spec} -> {', '.join(n for n in BACKEND_NAMES if n in parse_selection())}"


@pytest.fixture(params=BACKEND_NAMES)
def backend(request):
    """The array backend under test: ``.name .xp .device .dtype .asarray() .to_numpy() .rtol .atol``."""
    try:
        return get_backend(request.param)
    except BackendUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def xp(backend):
    """The array-api-compat namespace of the backend under test."""
    return backend.xp


@pytest.fixture
def rng():
    """A seeded NumPy generator; make data with it on the host, then move it with ``backend.asarray``."""
    return np.random.default_rng(20240521)
