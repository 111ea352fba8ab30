"""``symm.internal``: the semi-public tools that plugins build on."""

from __future__ import annotations

import pytest

from symm import groups, internal


def test_shared_components_pairs_the_irreps_present_in_both():
    G = groups.dihedral(3)
    _triv, sign, std = G.irreps()
    rx, ry = G.regular_rep(), sign + std * 2
    shared = internal.shared_components(rx, ry)
    assert [irrep for irrep, _, _ in shared] == [sign, std]
    for irrep, cx, cy in shared:
        assert cx.irrep is irrep and cy.irrep is irrep
        assert (cx.multiplicity, cy.multiplicity) == ((1, 1) if irrep is sign else (2, 2))


def test_escnn_group_is_none_for_a_group_not_read_from_escnn():
    assert internal.escnn_group(groups.cyclic(3)) is None
    with pytest.raises(TypeError, match=r"symm\.Group"):
        internal.escnn_group("C3")
