"""Canonical irreps of SO(2), O(2), SO(3) and O(3) in escnn's ids and real bases, in pure NumPy.

A compact group is given by its defining matrices (DESIGN §8). ``LIE_BASIS[group]`` holds the skew-symmetric
basis ``X_i`` of its Lie algebra and ``DISCRETE_GENERATORS[group]`` the generators ``h_j`` of its component
group. The images of a representation are ``dρ(X_i)`` for every ``i``, then ``ρ(h_j)`` for every ``j``; an
element with defining matrix ``M = exp(Σ ω_i X_i) · h`` (``h`` a product of discrete generators, or ``I``) acts
as ``exp(Σ ω_i dρ(X_i)) · ρ(h)``.

:func:`irrep_images` gives these images for every irrep so that the matrices equal escnn's
``G.irrep(id)(g)`` exactly (to rounding) for the escnn element ``g`` with defining matrix ``M``; escnn is never
imported. The conventions pinned here (checked in ``tests/test_lie_irreps.py`` against escnn 1.0.11):

- SO(2): an element is its angle ``θ`` (escnn's ``'radians'``), defining matrix ``exp(θL)``. Irrep ``k = 0`` is
  trivial; ``k ≥ 1`` is the rotation by ``kθ``, ``dρ(L) = kL``, of complex type with ``End = span{I, J}``,
  ``J = [[0, -1], [1, 0]]``.
- O(2): an element is ``(f, θ)`` with ``f ∈ {0, 1}`` and defining matrix ``exp(θL) · F^f``,
  ``F = diag(1, -1)`` (rotation after the reflection across the first axis). Irreps: ``(0, 0)`` trivial,
  ``(1, 0)`` the determinant, ``(1, k)`` with ``dρ(L) = kL`` and ``ρ(F) = diag(1, -1)``; all of real type.
- SO(3): an element's defining matrix is escnn's ``'MAT'`` parametrisation. Irrep ``l`` acts on the real
  spherical harmonics ``m = -l, …, l`` (for ``l = 1`` the coordinates ``(y, z, x)``), so
  ``ρ_1(g) = Pᵀ M(g) P`` with the permutation ``P`` of :data:`L1_CHANGE_OF_BASIS`; escnn's standard
  representation is irrep 1 with change of basis ``P``.
- O(3): an element is ``(f, R)`` with ``R`` in SO(3) (``'MAT'``) and defining matrix ``(-1)^f R``. Irrep
  ``(p, l)`` is SO(3)'s irrep ``l`` with the inversion ``-I`` acting as ``(-1)^p``; the standard representation
  is ``(1, 1)``.
"""

from __future__ import annotations

import math
from functools import cache
from numbers import Integral
from typing import Any

import numpy as np

__all__ = [
    "DISCRETE_GENERATORS",
    "GROUPS",
    "L1_CHANGE_OF_BASIS",
    "LIE_BASIS",
    "STRUCTURE_CONSTANTS",
    "defining_matrix_of_escnn_element",
    "endomorphism_basis",
    "escnn_element_of_defining_matrix",
    "irrep_ids",
    "irrep_images",
    "irrep_type",
    "normalise_id",
]

#: The group names understood by this module.
GROUPS = ("so2", "o2", "so3", "o3")

_L2 = np.array([[0.0, -1.0], [1.0, 0.0]])
_LX = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
_LY = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [-1.0, 0.0, 0.0]])
_LZ = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])

#: Skew-symmetric basis ``X_i`` of each group's Lie algebra in the defining representation, shape (n, k, k).
LIE_BASIS: dict[str, np.ndarray] = {
    "so2": _L2[None],
    "o2": _L2[None],
    "so3": np.stack([_LX, _LY, _LZ]),
    "o3": np.stack([_LX, _LY, _LZ]),
}

#: Generators of each group's component group as defining matrices, shape (n, k, k) with ``n`` possibly 0.
DISCRETE_GENERATORS: dict[str, np.ndarray] = {
    "so2": np.zeros((0, 2, 2)),
    "o2": np.diag([1.0, -1.0])[None],
    "so3": np.zeros((0, 3, 3)),
    "o3": -np.eye(3)[None],
}


def _levi_civita() -> np.ndarray:
    eps = np.zeros((3, 3, 3))
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        eps[i, j, k] = 1.0
        eps[j, i, k] = -1.0
    return eps


#: Structure constants ``c[i, j, k]`` of ``LIE_BASIS``: ``[X_i, X_j] = Σ_k c[i, j, k] X_k``.
STRUCTURE_CONSTANTS: dict[str, np.ndarray] = {
    "so2": np.zeros((1, 1, 1)),
    "o2": np.zeros((1, 1, 1)),
    "so3": _levi_civita(),
    "o3": _levi_civita(),
}

#: escnn's change of basis of the SO(3) / O(3) standard representation: ``M(g) = P ρ_1(g) Pᵀ``. Column ``m``
#: of ``P`` is the coordinate axis of the real harmonic ``m = -1, 0, 1``: ``y``, ``z``, ``x``.
L1_CHANGE_OF_BASIS = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

_ID_HELP = {
    "so2": "an int k >= 0 (or escnn's (k,))",
    "o2": "(0, 0), (1, 0) or (1, k) with an int k >= 1",
    "so3": "an int l >= 0 (or escnn's (l,))",
    "o3": "(p, l) with p in {0, 1} and an int l >= 0",
}


def _check_group(group: str) -> str:
    if not isinstance(group, str):
        raise TypeError(f"group must be one of {GROUPS}, got {type(group).__name__} {group!r}")
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; expected one of {GROUPS}")
    return group


def _is_int(x: Any) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def normalise_id(group: str, id: Any) -> int | tuple[int, int]:
    """The canonical form of an irrep id: an int for SO(2) / SO(3), a pair of ints for O(2) / O(3)."""
    group = _check_group(group)
    help_ = _ID_HELP[group]
    if group in ("so2", "so3"):
        value = id[0] if isinstance(id, tuple) and len(id) == 1 else id
        if not _is_int(value):
            raise TypeError(f"invalid {group} irrep id {id!r}: expected {help_}")
        if value < 0:
            raise ValueError(f"invalid {group} irrep id {id!r}: expected {help_}")
        return int(value)
    if not (isinstance(id, tuple) and len(id) == 2 and all(_is_int(x) for x in id)):
        raise TypeError(f"invalid {group} irrep id {id!r}: expected {help_}")
    a, b = int(id[0]), int(id[1])
    if group == "o2":
        ok = (a == 0 and b == 0) or (a == 1 and b >= 0)
    else:
        ok = a in (0, 1) and b >= 0
    if not ok:
        raise ValueError(f"invalid {group} irrep id {id!r}: expected {help_}")
    return a, b


def irrep_ids(group: str, band: int) -> list[int | tuple[int, int]]:
    """The ids of the irreps of frequency at most ``band``, in escnn's ``G.bl_irreps(band)`` order.

    Parameters
    ----------
    group : {"so2", "o2", "so3", "o3"}
        The group.
    band : int
        The largest frequency ``k`` or ``l``, at least 0.

    Returns
    -------
    list
        SO(2): ``0, …, band``; O(2): ``(0, 0), (1, 0), (1, 1), …, (1, band)``; SO(3): ``0, …, band``;
        O(3): ``(0, 0), (1, 0), (0, 1), (1, 1), …, (0, band), (1, band)``.
    """
    group = _check_group(group)
    if not _is_int(band) or band < 0:
        raise ValueError(f"band must be an int >= 0, got {band!r}")
    if group in ("so2", "so3"):
        return list(range(band + 1))
    if group == "o2":
        return [(0, 0), (1, 0)] + [(1, k) for k in range(1, band + 1)]
    return [(p, l) for l in range(band + 1) for p in (0, 1)]


@cache
def _so3_generators(l: int) -> np.ndarray:
    """``dρ_l(L_x), dρ_l(L_y), dρ_l(L_z)`` on the real spherical harmonics ``m = -l, …, l``, shape (3, d, d).

    In the complex basis ``|l, m⟩`` the angular momentum is ``J_z|m⟩ = m|m⟩`` and
    ``J_±|m⟩ = sqrt(l(l+1) - m(m±1)) |m±1⟩``, ``J_x = (J_+ + J_-)/2``, ``J_y = (J_+ - J_-)/(2i)``; the
    infinitesimal rotation about axis ``a`` is ``-i J_a``. The unitary ``W`` maps ``|l, m⟩`` coordinates to the
    real harmonics: row ``m > 0`` is ``(|-m⟩ + (-1)^m |m⟩)/√2``, row ``m < 0`` is
    ``-i(|m⟩ - (-1)^m |-m⟩)/√2``, row 0 is ``|0⟩``; then ``dρ_l(L_a) = W (-i J_a) W^†`` is real and skew.
    """
    d = 2 * l + 1
    m = np.arange(-l, l + 1)
    j_plus = np.zeros((d, d), dtype=np.complex128)
    j_plus[np.arange(1, d), np.arange(d - 1)] = np.sqrt(l * (l + 1) - m[:-1] * (m[:-1] + 1.0))
    j_minus = j_plus.T
    j_ops = ((j_plus + j_minus) / 2, (j_plus - j_minus) / 2j, np.diag(m).astype(np.complex128))
    w = np.zeros((d, d), dtype=np.complex128)
    r = 1.0 / math.sqrt(2.0)
    w[l, l] = 1.0
    for mu in range(1, l + 1):
        sign = (-1.0) ** mu
        w[l + mu, l - mu] = r  # cosine-type row m = +mu
        w[l + mu, l + mu] = sign * r
        w[l - mu, l - mu] = -1j * r  # sine-type row m = -mu
        w[l - mu, l + mu] = 1j * sign * r
    out = np.stack([(w @ (-1j * j) @ w.conj().T).real for j in j_ops])
    out = (out - out.transpose(0, 2, 1)) / 2  # exactly skew
    out.setflags(write=False)
    return out


@cache
def _images(group: str, id: int | tuple[int, int]) -> np.ndarray:
    if group == "so2":
        k = id
        out = np.zeros((1, 1, 1)) if k == 0 else (k * _L2)[None]
    elif group == "o2":
        a, k = id
        if k == 0:
            out = np.array([[[0.0]], [[1.0 if a == 0 else -1.0]]])
        else:
            out = np.stack([k * _L2, np.diag([1.0, -1.0])])
    elif group == "so3":
        out = np.array(_so3_generators(id))
    else:
        p, l = id
        gens = _so3_generators(l)
        inversion = (-1.0) ** p * np.eye(2 * l + 1)
        out = np.concatenate([gens, inversion[None]])
    out = out + 0.0  # no negative zeros
    out.setflags(write=False)
    return out


def irrep_images(group: str, id: Any) -> np.ndarray:
    """The images of the canonical irrep ``id`` of ``group``, in escnn's real basis.

    Parameters
    ----------
    group : {"so2", "o2", "so3", "o3"}
        The group.
    id : int or tuple
        escnn's irrep id: SO(2) ``k >= 0``; O(2) ``(0, 0)``, ``(1, 0)``, ``(1, k >= 1)``; SO(3) ``l >= 0``;
        O(3) ``(p, l)`` with ``p`` in {0, 1} (``p = 1``: odd under the inversion). SO(2) and SO(3) also accept
        escnn's 1-tuples ``(k,)`` / ``(l,)``.

    Returns
    -------
    ndarray, shape (n_lie + n_discrete, d, d), float64
        ``dρ̂(X_i)`` for every ``X_i`` of ``LIE_BASIS[group]`` (skew), then ``ρ̂(h_j)`` for every ``h_j`` of
        ``DISCRETE_GENERATORS[group]`` (orthogonal). A fresh writable array.

    Raises
    ------
    TypeError
        If ``group`` is not a string or ``id`` has the wrong type.
    ValueError
        If ``group`` is unknown or ``id`` names no irrep.

    Examples
    --------
    >>> irrep_images("so2", 2)[0]
    array([[ 0., -2.],
           [ 2.,  0.]])
    >>> irrep_images("o3", (1, 0))
    array([[[ 0.]],
    <BLANKLINE>
           [[ 0.]],
    <BLANKLINE>
           [[ 0.]],
    <BLANKLINE>
           [[-1.]]])
    """
    group = _check_group(group)
    return np.array(_images(group, normalise_id(group, id)))


def irrep_type(group: str, id: Any) -> str:
    """The type of the irrep: ``"C"`` for SO(2)'s ``k >= 1``, ``"R"`` for every other irrep.

    Parameters
    ----------
    group : {"so2", "o2", "so3", "o3"}
        The group.
    id : int or tuple
        The irrep id, as in :func:`irrep_images`.

    Returns
    -------
    str
        ``"R"`` or ``"C"``.
    """
    group = _check_group(group)
    id = normalise_id(group, id)
    return "C" if group == "so2" and id >= 1 else "R"


def endomorphism_basis(group: str, id: Any) -> np.ndarray:
    """escnn's orthogonal basis of the commutant of the irrep's images, shape (s, d, d).

    Parameters
    ----------
    group : {"so2", "o2", "so3", "o3"}
        The group.
    id : int or tuple
        The irrep id, as in :func:`irrep_images`.

    Returns
    -------
    ndarray, shape (s, d, d)
        ``[I]`` for real type; ``[I, J]`` with ``J = [[0, -1], [1, 0]]`` for SO(2)'s ``k >= 1`` (symm's complex
        unit, ``E_1 = u ⊗ I_{d/2}`` with ``d = 2``).

    Examples
    --------
    >>> endomorphism_basis("so2", 3)[1]
    array([[ 0., -1.],
           [ 1.,  0.]])
    """
    d = irrep_images(group, id).shape[1]
    if irrep_type(group, id) == "C":
        return np.stack([np.eye(2), _L2.copy()])
    return np.eye(d)[None]


def _escnn_kind(escnn_group: Any) -> str:
    name = str(getattr(escnn_group, "name", ""))
    kinds = {"SO(2)": "so2", "O(2)": "o2", "SO(3)": "so3", "O(3)": "o3"}
    if name not in kinds:
        raise ValueError(f"expected an escnn SO(2), O(2), SO(3) or O(3) group, got {name or escnn_group!r}")
    return kinds[name]


def _as_orthogonal(matrix: Any, k: int, what: str, atol: float = 1e-8) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (k, k):
        raise ValueError(f"{what}: expected a {k}x{k} matrix, got shape {m.shape}")
    if not np.allclose(m.T @ m, np.eye(k), atol=atol, rtol=0.0):
        raise ValueError(f"{what}: the matrix is not orthogonal (|MᵀM - I| > {atol})")
    return m


def defining_matrix_of_escnn_element(group: str, element: Any) -> np.ndarray:
    """The defining matrix ``M(g)`` of an escnn element ``g`` of SO(2), O(2), SO(3) or O(3).

    Read duck-typed through ``element.to(param)``: ``'radians'`` for SO(2) (``θ``) and O(2) (``(f, θ)``),
    ``'MAT'`` for SO(3) (``R``) and O(3) (``(f, R)``).

    Parameters
    ----------
    group : {"so2", "o2", "so3", "o3"}
        The group the element belongs to.
    element : escnn GroupElement
        The element.

    Returns
    -------
    ndarray
        SO(2): ``exp(θL)``; O(2): ``exp(θL) · diag(1, -1)^f``; SO(3): ``R``; O(3): ``(-1)^f R``.
    """
    group = _check_group(group)
    if group in ("so2", "o2"):
        value = element.to("radians")
        flip, theta = (0, value) if group == "so2" else value
        c, s = math.cos(float(theta)), math.sin(float(theta))
        rot = np.array([[c, -s], [s, c]])
        return rot @ np.diag([1.0, -1.0]) if int(flip) else rot
    value = element.to("MAT")
    if group == "so3":
        return np.array(value, dtype=np.float64)
    flip, rot = value
    return (-1.0 if int(flip) else 1.0) * np.array(rot, dtype=np.float64)


def escnn_element_of_defining_matrix(escnn_group: Any, matrix: Any) -> Any:
    """The element of an escnn SO(2), O(2), SO(3) or O(3) group whose defining matrix is ``matrix``.

    escnn is not imported: the element is made with ``escnn_group.element(value, param)``, the group kind read
    from ``escnn_group.name``.

    Parameters
    ----------
    escnn_group : escnn Group
        ``so2_group(…)``, ``o2_group(…)``, ``so3_group(…)`` or ``o3_group(…)``.
    matrix : array_like, shape (2, 2) or (3, 3)
        An orthogonal matrix (with determinant 1 for SO(2) and SO(3)).

    Returns
    -------
    escnn GroupElement
        SO(2): angle ``atan2(M₁₀, M₀₀)``; O(2): ``(f, θ)`` with ``f = [det M < 0]`` and ``θ`` the angle of
        ``M · diag(1, -1)^f``; SO(3): ``('MAT', M)``; O(3): ``(f, det(M) · M)`` in ``'MAT'``.

    Raises
    ------
    ValueError
        If the group is not one of the four, or the matrix has the wrong shape, is not orthogonal or (for
        SO(2) / SO(3)) has determinant -1.
    """
    kind = _escnn_kind(escnn_group)
    k = LIE_BASIS[kind].shape[1]
    m = _as_orthogonal(matrix, k, f"defining matrix of {escnn_group.name}")
    flip = int(np.linalg.det(m) < 0)
    if flip and kind in ("so2", "so3"):
        raise ValueError(f"defining matrix of {escnn_group.name}: determinant -1 is not in the group")
    if kind in ("so2", "o2"):
        rot = m @ np.diag([1.0, -1.0]) if flip else m
        theta = math.atan2(rot[1, 0], rot[0, 0]) % (2 * math.pi)
        return escnn_group.element(theta if kind == "so2" else (flip, theta), "radians")
    if kind == "so3":
        return escnn_group.element(m, "MAT")
    return escnn_group.element((flip, -m if flip else m), "MAT")
