"""escnn's group module for the interop tests, imported once, or the reason it is missing.

escnn needs ``numpy<2`` (through lie_learn): it runs in nox's ``escnn`` session and is absent elsewhere, where
the tests marked ``needs_escnn`` skip with the import error as their reason.
"""

from __future__ import annotations

import warnings

import pytest

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import escnn.group as eg
except Exception as exc:  # pragma: no cover - depends on the environment
    eg = None
    REASON = f"escnn is not importable ({type(exc).__name__}: {exc}); it needs numpy<2"
else:
    REASON = ""

needs_escnn = pytest.mark.skipif(eg is None, reason=REASON)
