"""Interoperability with escnn, read duck-typed: the core never imports escnn unless asked to export.

Finite escnn groups become symm groups of their own, with escnn's irreps as the registry. escnn's SO(2), O(2),
SO(3) and O(3) (any ``maximum_frequency``) become :func:`symm.groups.so2` … :func:`~symm.groups.o3`, whose
canonical irreps equal escnn's (:mod:`symm._lie_irreps`); their reps are rebuilt exactly from escnn's irrep ids
and change of basis, never decomposed numerically.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from symm import _hooks as hooks
from symm import _lie_irreps
from symm import _tolerances as tolerances
from symm._compact import CompactGroup, compact_group
from symm._group import DEFAULT_MAX_ORDER, Group
from symm._rep import Decomposition, Irrep, IsotypicComponent, Rep

__all__ = ["group_from_escnn", "rep_from_escnn", "rep_to_escnn"]

_FROM_ESCNN: dict[int, tuple[Any, Group]] = {}  # id(escnn group) -> (escnn group, symm group)
_name_counter = itertools.count()
#: escnn's names of the compact groups symm supports, and their symm kinds.
_COMPACT_KINDS = {"SO(2)": "so2", "O(2)": "o2", "SO(3)": "so3", "O(3)": "o3"}


def _require_escnn() -> Any:
    try:
        import escnn.group
    except ImportError as err:
        raise ImportError("this needs escnn; install it with `pip install escnn` (it needs numpy<2)") from err
    return escnn.group


@hooks.group_from_escnn.bind
def group_from_escnn(G: Any) -> Group:
    """The symm group of an escnn group ``G``.

    A finite group gets a symm group of its own, with escnn's irreps registered under escnn's ids. escnn's
    SO(2), O(2), SO(3) and O(3) give ``symm.groups.so2()`` … ``o3()`` (the same objects every time), which
    remember ``G`` for :meth:`~symm.Group.to_escnn`; other continuous groups raise ``ValueError``.
    """
    hit = _FROM_ESCNN.get(id(G))
    if hit is not None and hit[0] is G:
        return hit[1]
    if getattr(G, "continuous", False):
        return _compact_group_from_escnn(G)
    if not hasattr(G, "generators"):
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


def _compact_group_from_escnn(G: Any) -> CompactGroup:
    name = str(getattr(G, "name", G))
    kind = _COMPACT_KINDS.get(name)
    if kind is None:
        raise ValueError(
            f"the escnn group {name!r} is continuous, and symm supports escnn's finite groups and SO(2), O(2), "
            "SO(3) and O(3) only"
        )
    group = compact_group(kind)
    if group._escnn_group is None:
        group._escnn_group = G
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


@hooks.rep_from_escnn.bind
def rep_from_escnn(rep: Any) -> Rep:
    """The symm rep of an escnn ``Representation`` or ``FieldType``, keeping escnn's change of basis."""
    if hasattr(rep, "representation") and hasattr(rep, "gspace"):  # a FieldType
        rep = rep.representation
    group = group_from_escnn(rep.group)
    if isinstance(group, CompactGroup):
        return _compact_rep_from_escnn(rep, group)
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


def _compact_rep_from_escnn(rep: Any, group: CompactGroup) -> Rep:
    """``Q (⊕ ρ̂_i) Qᵀ`` from escnn's irrep ids and change of basis ``Q``, with that decomposition set directly.

    symm's irreps of ``group`` equal escnn's, so the images are exact; ``Q``'s columns are regrouped into symm's
    order (trivial first, by band, escnn's order of copies within a component).
    """
    kind = group._kind
    where = f"escnn rep {getattr(rep, 'name', '?')!r} of {group.name}"
    irreps = [group.irrep(_lie_irreps.normalise_id(kind, i)) for i in rep.irreps]
    size = sum(irr.dim for irr in irreps)
    q_escnn = np.asarray(rep.change_of_basis, dtype=np.float64)
    if q_escnn.shape != (size, size):
        raise ValueError(f"{where}: change_of_basis has shape {q_escnn.shape}, its irreps have total size {size}")
    err = np.abs(q_escnn.T @ q_escnn - np.eye(size)).max(initial=0.0)
    if not err <= tolerances.ORTHOGONALITY:
        raise ValueError(
            f"{where}: symm needs an orthogonal change_of_basis, and max |QᵀQ - I| = {err:.2e} "
            f"(at most {tolerances.ORTHOGONALITY:.0e}); orthogonalise it in escnn first"
        )
    blocks = np.zeros((len(group.generators), size, size))
    starts = np.cumsum([0] + [irr.dim for irr in irreps])
    for irr, s in zip(irreps, starts, strict=False):
        blocks[:, s : s + irr.dim, s : s + irr.dim] = irr.generator_images
    out = Rep(group, q_escnn @ blocks @ q_escnn.T, name=str(rep.name))
    _check_against_escnn(out, rep, where)
    order = sorted(range(len(irreps)), key=lambda c: (group.irrep_sort_key(irreps[c]), c))
    cols, comps, pos = [], [], 0
    for _, chunk in itertools.groupby(order, key=lambda c: irreps[c].id):
        chunk = list(chunk)
        irr = irreps[chunk[0]]
        cols.extend(q_escnn[:, starts[c] : starts[c] + irr.dim] for c in chunk)
        comps.append(IsotypicComponent(irr, len(chunk), slice(pos, pos + len(chunk) * irr.dim)))
        pos += len(chunk) * irr.dim
    out._decomposition = Decomposition(np.concatenate(cols, axis=1), tuple(comps))
    return out


def _check_against_escnn(out: Rep, rep: Any, where: str) -> None:
    """Refuse an escnn rep whose matrices are not those of its irreps and change of basis (a custom
    ``representation`` callable): compare on two fixed elements."""
    elements = out.group.sample(2, seed=0)
    for m in elements:
        theirs = np.asarray(rep(_lie_irreps.escnn_element_of_defining_matrix(rep.group, m)), dtype=np.float64)
        err = np.abs(out(m) - theirs).max()
        if not err <= 1e-8:
            raise ValueError(
                f"{where}: its matrices differ from those of its irreps {list(rep.irreps)} and change_of_basis "
                f"by {err:.2e}; symm rebuilds a rep from those, so it cannot represent this one"
            )


def _escnn_id(group: Group, irrep_id: Any) -> tuple:
    """escnn's id tuple of a symm irrep id: ``k`` → ``(k,)`` for SO(2) / SO(3); pairs stay pairs."""
    if isinstance(group, CompactGroup):
        return tuple(irrep_id) if isinstance(irrep_id, tuple) else (int(irrep_id),)
    return irrep_id


@hooks.rep_to_escnn.bind
def rep_to_escnn(rep: Rep) -> Any:
    """Export a rep to an escnn ``Representation`` with the same Q and irreps.

    The group must come from escnn (:meth:`symm.Group.from_escnn`) or be one of symm's SO(2), O(2), SO(3),
    O(3), whose escnn group is ``so2_group()`` … ``o3_group()``.
    """
    escnn_group = _require_escnn()
    G = rep.group.to_escnn()
    ids = [_escnn_id(rep.group, irr.id) for irr in rep.irreps]
    name = f"symm_{rep.name}_{next(_name_counter)}"
    return escnn_group.Representation(G, name, ids, rep.change_of_basis, supported_nonlinearities=[])


def escnn_element(group: Group, g: int) -> Any:
    """The escnn element of symm element ``g`` for a group built from escnn."""
    if group._escnn_elements is None:
        raise ValueError(f"group {group.name} was not built from escnn")
    return group._escnn_elements[group._check_element(g)]
