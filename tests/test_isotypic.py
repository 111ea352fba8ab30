"""symm.to_isotypic / from_isotypic / irrep_norms on every backend."""

from __future__ import annotations

import numpy as np
import pytest
from _groups import CASE_NAMES, case

import symm


@pytest.fixture(params=CASE_NAMES)
def cs(request):
    return case(request.param)


def test_roundtrip_and_block_structure(backend, cs, rng):
    rep = cs.rep_x
    x = rng.normal(size=(7, rep.size))
    z = symm.to_isotypic(backend.asarray(x), rep)
    backend.check_array(z)
    backend.assert_close(z, x @ rep.change_of_basis)
    backend.assert_close(symm.from_isotypic(z, rep), x)
    # in isotypic coordinates every copy of an irrep transforms by the same canonical matrices
    q = rep.change_of_basis
    for g in rep.group.elements:
        zg = backend.to_numpy(symm.to_isotypic(backend.asarray(x @ rep(g).T), rep))
        zh = backend.to_numpy(z)
        for comp in rep.isotypic_components:
            d = comp.irrep.dim
            for c in range(comp.multiplicity):
                s = slice(comp.slice.start + c * d, comp.slice.start + (c + 1) * d)
                backend.assert_close(zg[:, s], zh[:, s] @ comp.irrep(g).T)
        assert q.shape == (rep.size, rep.size)


def test_batch_dims(backend, rng):
    rep = case("Q8-quaternionic").rep_x
    x = rng.normal(size=(2, 3, rep.size))
    backend.assert_close(symm.to_isotypic(backend.asarray(x), rep), x @ rep.change_of_basis)
    assert tuple(symm.irrep_norms(backend.asarray(x), rep).shape) == (2, 3, len(rep.irreps))


def test_irrep_norms_are_invariant(backend, cs, rng):
    rep = cs.rep_x
    x = rng.normal(size=(9, rep.size))
    nrm = symm.irrep_norms(backend.asarray(x), rep)
    backend.check_array(nrm)
    assert nrm.shape == (9, len(rep.irreps))
    n0 = backend.to_numpy(nrm)
    # the squared norms add up to |x|²
    backend.assert_close(np.sum(n0**2, axis=1), np.sum(x**2, axis=1))
    for g in rep.group.elements:
        backend.assert_close(symm.irrep_norms(backend.asarray(x @ rep(g).T), rep), n0)


def test_isotypic_bad_input(backend):
    rep = case("C6-complex").rep_x
    with pytest.raises(ValueError, match=r"x must have shape \(\.\.\., 12\)"):
        symm.to_isotypic(backend.asarray(np.zeros((3, 5))), rep)
    with pytest.raises(ValueError, match=r"z must have shape"):
        symm.from_isotypic(backend.asarray(np.zeros((3, 5))), rep)
    with pytest.raises(TypeError, match=r"rep must be a symm\.Rep"):
        symm.irrep_norms(backend.asarray(np.zeros((3, 12))), None)
