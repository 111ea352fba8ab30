"""Deprecated names still work, and say what replaces them."""

from __future__ import annotations

import numpy as np
import pytest

import symm
from symm import _plugins, groups


def test_rep_regular_and_trivial_warn_and_agree():
    G = groups.cyclic(3)
    with pytest.warns(DeprecationWarning, match="G.regular_rep"):
        reg = symm.Rep.regular(G)
    with pytest.warns(DeprecationWarning, match="G.trivial_rep"):
        triv = symm.Rep.trivial(G, 2)
    np.testing.assert_array_equal(reg.generator_images, G.regular_rep().generator_images)
    assert triv.size == 2 and np.all(triv.generator_images == np.eye(2))


def test_plugin_info_loaded_warns():
    info = _plugins.PluginInfo("fake", "x:y", None, None)
    object.__setattr__(info, "_loaded", {"name": "fake"})
    object.__setattr__(info, "_is_loaded", True)
    with pytest.warns(DeprecationWarning, match="load()"):
        assert info.loaded == {"name": "fake"}


def test_pickles_naming_the_old_decomposition_class_load():
    """Reps pickled before the layout change name ``symm._rep._Decomposition``; they still load."""
    import pickle

    rep = groups.dihedral(3).regular_rep()
    _ = rep.isotypic_components
    old = pickle.dumps(rep, protocol=0).replace(b"\nDecomposition\n", b"\n_Decomposition\n")
    assert b"_Decomposition" in old
    back = pickle.loads(old)
    np.testing.assert_allclose(back.change_of_basis, rep.change_of_basis)
