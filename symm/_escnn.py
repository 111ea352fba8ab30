"""Interoperability with escnn, read duck-typed: the core never imports escnn unless asked to export."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from symm._group import DEFAULT_MAX_ORDER, Group
from symm._rep import Decomposition, Irrep, IsotypicComponent, Rep

__all__ = ["group_from_escnn", "rep_from_escnn", "rep_to_escnn"]

_FROM_ESCNN: dict[int, tuple[Any, Group]] = {}  # id(escnn group) -> (escnn group, symm group)
_name_counter = itertools.count()


def _require_escnn() -> Any:
    try:
        import escnn.group
    except ImportError as err:
        raise ImportError("this needs escnn; install it with `pip install escnn` (it needs numpy<2)") from err
    return escnn.group


def group_from_escnn(G: Any) -> Group:
    """The symm group of a finite escnn group ``G``, with escnn's irreps registered under escnn's ids."""
    hit = _FROM_ESCNN.get(id(G))
    if hit is not None and hit[0] is G:
        return hit[1]
    if getattr(G, "continuous", False) or not hasattr(G, "generators"):
        raise ValueError(f"only finite escnn groups are supported, got {getattr(G, 'name', G)!r}")
    escnn_gens = list(G.generators)
    if not escnn_gens:  # the trivial group
        raise ValueError("the trivial escnn group has no generators; symm needs at least one")
    perms = _regular_permutations(G, escnn_gens)
    # A group of its own, not the cached one with the same permutations: that one may already hold another
    # registry (symm's ids, or another escnn group's, e.g. cyclic_group(2) and dihedral_group(1)).
    group = Group("perm", perms, name=str(G.name), max_order=max(DEFAULT_MAX_ORDER, len(perms[0])))
    # escnn element of each symm element, along the breadth-first tree
    elems = [G.identity]
    for i in range(1, group.order):
        elems.append(escnn_gens[group._parent_gen[i]] @ elems[group._parent[i]])
    group._escnn_group = G
    group._escnn_elements = elems
    if not group._irreps:
        irreps = sorted(G.irreps(), key=lambda r: not _is_trivial(r))
        for irr in irreps:
            images = np.stack([np.asarray(irr(g), dtype=np.float64) for g in escnn_gens])
            group._irreps.append(
                Irrep(
                    group,
                    images,
                    id=irr.id,
                    type=irr.type,
                    endomorphism_basis=irr.endomorphism_basis(),
                    name=irr.name,
                )
            )
        group._registry_complete = True
    _FROM_ESCNN[id(G)] = (G, group)
    return group


def _regular_permutations(G: Any, gens: list) -> np.ndarray:
    """The left regular action of each generator on ``G.elements`` (escnn's regular-rep basis order):
    ``perm[s][i] = j`` where ``g_s · e_i = e_j``. Element products and lookups take 0.13 s for the full
    icosahedral group, where building escnn's ``regular_representation`` takes 10 s; that is the fallback
    when an element cannot be looked up."""
    elements = list(G.elements)
    try:
        index = {e: i for i, e in enumerate(elements)}
        return np.array([[index[g @ e] for e in elements] for g in gens], dtype=np.int64)
    except (KeyError, TypeError):
        regular = G.regular_representation
        return np.stack([np.argmax(np.asarray(regular(g)), axis=0) for g in gens]).astype(np.int64)


def _is_trivial(irr: Any) -> bool:
    return irr.size == 1 and bool(getattr(irr, "is_trivial", lambda: False)())


def rep_from_escnn(rep: Any) -> Rep:
    """The symm rep of an escnn ``Representation`` or ``FieldType``, keeping escnn's change of basis."""
    if hasattr(rep, "representation") and hasattr(rep, "gspace"):  # a FieldType
        rep = rep.representation
    group = group_from_escnn(rep.group)
    gens = np.stack([np.asarray(rep(g), dtype=np.float64) for g in rep.group.generators])
    out = Rep(group, gens, name=str(rep.name))
    q_escnn = np.asarray(rep.change_of_basis, dtype=np.float64)
    registry = {irr.id: irr for irr in group._irreps}
    copies, start = [], 0  # (registry index, column slice) per copy, in escnn's order
    for irrep_id in rep.irreps:
        irr = registry[irrep_id]
        copies.append((group._irreps.index(irr), start, irr))
        start += irr.dim
    copies.sort(key=lambda c: c[0])  # stable: keeps escnn's order of copies within a component
    cols, comps, pos = [], [], 0
    for _, chunk in itertools.groupby(copies, key=lambda c: c[0]):
        chunk = list(chunk)
        irr = chunk[0][2]
        for _, s, _ in chunk:
            cols.append(q_escnn[:, s : s + irr.dim])
        comps.append(IsotypicComponent(irr, len(chunk), slice(pos, pos + len(chunk) * irr.dim)))
        pos += len(chunk) * irr.dim
    q = np.concatenate(cols, axis=1)
    out._decomposition = Decomposition(q, tuple(comps))
    return out


def rep_to_escnn(rep: Rep) -> Any:
    """Export a rep of an escnn-built group to an escnn ``Representation`` with the same Q and irreps."""
    escnn_group = _require_escnn()
    G = rep.group.to_escnn()
    ids = [irr.id for irr in rep.irreps]
    name = f"symm_{rep.name}_{next(_name_counter)}"
    return escnn_group.Representation(G, name, ids, rep.change_of_basis, supported_nonlinearities=[])


def escnn_element(group: Group, g: int) -> Any:
    """The escnn element of symm element ``g`` for a group built from escnn."""
    if group._escnn_elements is None:
        raise ValueError(f"group {group.name} was not built from escnn")
    return group._escnn_elements[group._check_element(g)]
