"""Compact Lie groups SO(2), O(2), SO(3) and O(3), given by their defining representation.

A compact group is a :class:`~symm.Group` with ``is_finite`` False and ``order`` None. Its reps are given by
images: ``dρ(X_i)`` for each element of :attr:`CompactGroup.lie_basis` (skew-symmetric), then ``ρ(h_j)`` for
each of :attr:`CompactGroup.discrete_generators`. Elements are defining matrices (2×2 or 3×3); Haar averages
are taken exactly through the isotypic basis, never by sampling. Irreps follow escnn's ids and real bases
(see :mod:`symm._lie_irreps`).
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from symm import _hooks as hooks
from symm import _lie_irreps
from symm._group import Group

if TYPE_CHECKING:
    from symm._rep import Irrep, Rep

__all__ = ["CompactGroup", "compact_group", "identity_images"]

_NAMES = {"so2": "SO(2)", "o2": "O(2)", "so3": "SO(3)", "o3": "O(3)"}
_IMAGE_NAMES = {
    "so2": ("L",),
    "o2": ("L", "flip"),
    "so3": ("L_x", "L_y", "L_z"),
    "o3": ("L_x", "L_y", "L_z", "inversion"),
}
_BUILT: dict[str, CompactGroup] = {}
_BUILT_LOCK = threading.Lock()


class CompactGroup(Group):
    """A compact Lie group: SO(2), O(2), SO(3) or O(3), given by its defining representation.

    Build them with :func:`symm.groups.so2`, :func:`~symm.groups.o2`, :func:`~symm.groups.so3` and
    :func:`~symm.groups.o3`; each call returns the same object.

    Attributes
    ----------
    name : str
        ``"SO(2)"``, ``"O(2)"``, ``"SO(3)"`` or ``"O(3)"``.
    is_finite : bool
        False.
    order : None
        The group is infinite.
    lie_basis : ndarray, shape (n_lie, k, k)
        An orthonormal basis of the Lie algebra in the defining rep (skew, ``½ tr(X_iᵀ X_j) = δ_ij``):
        ``L`` for SO(2)/O(2); ``L_x, L_y, L_z`` for SO(3)/O(3), with ``[L_x, L_y] = L_z`` and cyclically.
    discrete_generators : ndarray, shape (n_discrete, k, k)
        Generators of the component group: ``diag(1, -1)`` for O(2), ``-I`` for O(3), none for SO(n).
    generators : tuple of str
        Names of the images a rep holds, in order: the Lie basis, then the discrete generators.
    structure_constants : ndarray, shape (n_lie, n_lie, n_lie)
        ``c[i, j, k]`` with ``[X_i, X_j] = Σ_k c[i, j, k] X_k``.
    """

    is_finite = False

    def __init__(
        self,
        kind: str,
        name: str,
        lie_basis: np.ndarray,
        discrete_generators: np.ndarray,
        image_names: tuple[str, ...],
        structure_constants: np.ndarray,
    ) -> None:
        self._kind = kind
        self.name = name
        self.order = None
        self.max_order = None
        basis = np.array(lie_basis, dtype=np.float64)
        discrete = np.array(discrete_generators, dtype=np.float64).reshape(-1, *basis.shape[1:])
        basis.setflags(write=False)
        discrete.setflags(write=False)
        self.lie_basis = basis
        self.discrete_generators = discrete
        self.generators = image_names
        self.structure_constants = structure_constants
        self._generator_data = np.concatenate([basis, discrete])
        self._irreps: list[Irrep] = []
        self._irrep_by_id: dict[Any, Irrep] = {}
        self._registry_lock = threading.RLock()
        self._natural = {"defining": self._generator_data}
        self._escnn_group: Any = None
        self._rep_cache: dict[str, Rep] = {}
        self._regrouped: weakref.WeakKeyDictionary[Rep, Rep] = weakref.WeakKeyDictionary()

    # ------------------------------------------------------------------ structure
    @property
    def n_lie(self) -> int:
        """The dimension of the Lie algebra: 1 for SO(2)/O(2), 3 for SO(3)/O(3)."""
        return self.lie_basis.shape[0]

    @property
    def band_name(self) -> str:
        """``"k"`` (frequency) for SO(2)/O(2), ``"l"`` (degree) for SO(3)/O(3)."""
        return "k" if self.n_lie == 1 else "l"

    def sample(self, n: int, seed: Any = None) -> np.ndarray:
        """``n`` Haar-random elements, as defining matrices, shape (n, k, k).

        Parameters
        ----------
        n : int
            How many, at least 1.
        seed : int or numpy.random.Generator, optional
            Seed of the draw (``None``: fresh entropy).
        """
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be an integer >= 1, got {n!r}")
        rng = np.random.default_rng(seed)
        if self.n_lie == 1:
            theta = rng.uniform(0.0, 2 * np.pi, size=int(n))
            c, s = np.cos(theta), np.sin(theta)
            out = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
        else:  # unit quaternions are uniform on S^3, which covers SO(3) evenly
            q = rng.standard_normal((int(n), 4))
            w, x, y, z = (q / np.linalg.norm(q, axis=1, keepdims=True)).T
            out = np.stack(
                [
                    np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
                    np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
                    np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
                ],
                -2,
            )
        if len(self.discrete_generators):
            flip = rng.integers(0, 2, size=int(n)).astype(bool)
            out[flip] = out[flip] @ self.discrete_generators[0]
        return out

    def element_parts(self, images: np.ndarray, g: Any, name: str = "g") -> tuple[np.ndarray, np.ndarray | None]:
        """``(ω, ρ(h))`` for ``g = exp(Σ_i ω_i X_i) · h``: Lie coordinates (n, n_lie) and the discrete part's
        matrices (n, D, D) under the rep with these ``images`` (``None`` when every ``h`` is the identity)."""
        omega, flips = self.split(g, name)
        if not flips.any():
            return omega, None
        post = np.broadcast_to(np.eye(images.shape[1]), (len(flips), *images.shape[1:])).copy()
        post[flips] = images[self.n_lie]
        return omega, post

    def check_images(self, images: np.ndarray, name: str) -> None:
        """Checks of a rep's images beyond those of :func:`symm._lie_rep.check_images` (none here)."""

    def split(self, g: Any, name: str = "g") -> tuple[np.ndarray, np.ndarray]:
        """``(ω, flips)`` with ``g = exp(Σ_i ω_i X_i) · h^flip``: Lie coordinates (n, n_lie) and discrete parts
        (n,) bool of defining matrices ``g`` (k, k) or (n, k, k).

        Raises
        ------
        ValueError
            If ``g`` has the wrong shape or is not an element of this group (orthogonal, with determinant 1
            for SO(n)).
        """
        k = self.lie_basis.shape[1]
        try:
            mats = np.array(g, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be a ({k}, {k}) defining matrix of {self.name} or a stack of them") from err
        if mats.ndim not in (2, 3) or mats.shape[-2:] != (k, k):
            raise ValueError(
                f"{name} must be a ({k}, {k}) defining matrix of {self.name} or a stack (n, {k}, {k}), "
                f"got shape {mats.shape}"
            )
        mats = mats.reshape(-1, k, k)
        err = np.abs(np.swapaxes(mats, 1, 2) @ mats - np.eye(k)).max(initial=0.0)
        if not err <= 1e-8:
            raise ValueError(
                f"{name} is not an element of {self.name}: it is not orthogonal (max |gᵀg - I| = {err:.2e})"
            )
        flips = np.linalg.det(mats) < 0
        if flips.any():
            if not len(self.discrete_generators):
                raise ValueError(f"{name} is not an element of {self.name}: it has determinant -1")
            mats = mats.copy()
            mats[flips] = mats[flips] @ self.discrete_generators[0].T  # h is an involution: h⁻¹ = hᵀ = h
        if self.n_lie == 1:
            omega = np.arctan2(mats[:, 1, 0], mats[:, 0, 0])[:, None]
        else:
            omega = _rotation_log(mats)
        return omega, flips

    # ------------------------------------------------------------------ irreps
    def irrep(self, id: Any) -> Irrep:
        """The irrep with this id (escnn's ids: ``k``, ``(j, k)``, ``l`` or ``(p, l)``), built on first use."""
        key = self._normalise_id(id)
        hit = self._irrep_by_id.get(key)
        if hit is not None:
            return hit
        with self._registry_lock:
            hit = self._irrep_by_id.get(key)
            if hit is None:
                images, type_, endo = self._irrep_data(key)
                trivial = images.shape[1] == 1 and np.array_equal(images, identity_images(self, 1))
                hit = hooks.irrep(
                    self, images, id=key, type=type_, endomorphism_basis=endo, name="trivial" if trivial else None
                )
                self._irrep_by_id[key] = hit
                self._irreps.append(hit)
        return hit

    def irreps(self) -> tuple[Irrep, ...]:
        """Refused: a compact group has infinitely many irreps; use :meth:`irreps_up_to` or :meth:`irrep`."""
        raise ValueError(
            f"{self.name} has infinitely many irreps; list the band-limited ones with irreps_up_to(band) or build "
            "one with irrep(id)"
        )

    def irreps_up_to(self, band: int) -> tuple[Irrep, ...]:
        """Every irrep of frequency ``k <= band`` (SO(2), O(2)) or degree ``l <= band`` (SO(3), O(3)), in order.

        Parameters
        ----------
        band : int
            At least 0.
        """
        if isinstance(band, (bool, np.bool_)) or not isinstance(band, (int, np.integer)) or band < 0:
            raise ValueError(f"band must be an integer >= 0, got {band!r}")
        return tuple(self.irrep(i) for i in self._ids_up_to(int(band)))

    def irrep_sort_key(self, irrep: Irrep) -> Any:
        """The position of ``irrep`` in the canonical order of isotypic components (trivial first, then by band)."""
        return _sort_key(self._kind, irrep.id)

    def _normalise_id(self, id: Any) -> Any:
        return _lie_irreps.normalise_id(self._kind, id)

    def _ids_up_to(self, band: int) -> list[Any]:
        return _lie_irreps.irrep_ids(self._kind, band)

    def _irrep_data(self, key: Any) -> tuple[np.ndarray, str, np.ndarray]:
        """``(images, type, endomorphism_basis)`` of the canonical irrep ``key``."""
        return (
            _lie_irreps.irrep_images(self._kind, key),
            _lie_irreps.irrep_type(self._kind, key),
            _lie_irreps.endomorphism_basis(self._kind, key),
        )

    # ------------------------------------------------------------------ reps
    def trivial_rep(self, size: int = 1) -> Rep:
        """``size`` copies of the trivial representation (Lie images 0, discrete images I)."""
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"size must be an integer >= 1, got {size!r}")
        return hooks.rep(self, identity_images(self, int(size)), name="trivial")

    def regular_rep(self) -> Rep:
        """Refused: the regular rep of an infinite group is infinite-dimensional."""
        raise ValueError(
            f"{self.name} is infinite, so its regular representation (functions on the group) is "
            "infinite-dimensional; use a band-limited sum of irreps instead, e.g. "
            f"symm.direct_sum(*G.irreps_up_to(2))"
        )

    def permutation_rep(self) -> Rep:
        """Refused: a compact Lie group is not a permutation group."""
        raise ValueError(f"{self.name} is a compact Lie group; it has no permutation rep")

    # ------------------------------------------------------------------ finite-only API
    def _finite_only(self, what: str) -> ValueError:
        return ValueError(
            f"{what} needs a finite group, and {self.name} is infinite; its elements are defining matrices "
            "(draw them with sample(n, seed))"
        )

    @property
    def elements(self) -> tuple[int, ...]:  # type: ignore[override]
        raise self._finite_only("elements")

    @property
    def identity(self) -> int:  # type: ignore[override]
        raise self._finite_only("identity")

    @property
    def spanning_tree(self) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[override]
        raise self._finite_only("spanning_tree")

    def levels(self) -> list[np.ndarray]:
        raise self._finite_only("levels")

    def element_data(self, g: int) -> np.ndarray:
        raise self._finite_only("element_data")

    def compose(self, a: int, b: int) -> int:
        raise self._finite_only("compose")

    def inverse(self, g: int) -> int:
        raise self._finite_only("inverse")

    def element_order(self, g: int) -> int:
        raise self._finite_only("element_order")

    def word(self, g: int) -> list[int]:
        raise self._finite_only("word")

    def to_escnn(self) -> Any:
        """escnn's group of the same name (``so2_group()``, ``o2_group()``, ``so3_group()``, ``o3_group()``)."""
        if self._escnn_group is None:
            import escnn.group

            self._escnn_group = getattr(escnn.group, f"{self._kind}_group")()
        return self._escnn_group

    def __repr__(self) -> str:
        return f"<symm.Group {self.name}, compact, Lie algebra of dimension {self.n_lie}>"

    def __reduce__(self) -> tuple:
        return (compact_group, (self._kind,))


def compact_group(kind: str) -> CompactGroup:
    """The compact group ``kind`` (``"so2"``, ``"o2"``, ``"so3"`` or ``"o3"``); one object per kind."""
    if kind not in _NAMES:
        raise ValueError(f"unknown compact group {kind!r}; known: {sorted(_NAMES)}")
    with _BUILT_LOCK:
        group = _BUILT.get(kind)
        if group is None:
            group = _BUILT[kind] = CompactGroup(
                kind,
                _NAMES[kind],
                _lie_irreps.LIE_BASIS[kind],
                _lie_irreps.DISCRETE_GENERATORS[kind],
                _IMAGE_NAMES[kind],
                _lie_irreps.STRUCTURE_CONSTANTS[kind],
            )
    return group


def _sort_key(kind: str, id: Any) -> tuple[int, int]:
    """Band first (frequency or degree), then the O(2) determinant or the O(3) parity."""
    if kind in ("so2", "so3"):
        return (id, 0)
    if kind == "o2":
        return (id[1], id[0]) if id[1] else (0, id[0])
    return (id[1], id[0])


def identity_images(group: Group, size: int) -> np.ndarray:
    """The images of ``size`` trivial copies: 0 for Lie images, I for discrete (and finite) generators."""
    eye = np.broadcast_to(np.eye(size), (len(group.generators), size, size)).copy()
    if not group.is_finite:
        eye[: group.n_lie] = 0.0
    return eye


# ---------------------------------------------------------------------------- matrix functions
def _rotation_log(r: np.ndarray) -> np.ndarray:
    """Rotation vectors ``ω`` (n, 3) with ``exp(Σ ω_i L_i) = r`` for rotation matrices ``r`` (n, 3, 3).

    Through the unit quaternion of ``r`` (the largest of its four candidate components is taken first, which
    keeps every angle, ``π`` included, accurate).
    """
    t = np.trace(r, axis1=1, axis2=2)
    d = np.diagonal(r, axis1=1, axis2=2)
    cand = np.stack([1 + t, 1 + 2 * d[:, 0] - t, 1 + 2 * d[:, 1] - t, 1 + 2 * d[:, 2] - t], axis=1)
    which = np.argmax(cand, axis=1)
    q = np.empty((len(r), 4))
    for i, (m, c) in enumerate(zip(r, which, strict=True)):
        s = 2.0 * np.sqrt(max(cand[i, c], 0.0))
        if c == 0:
            q[i] = [s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
        elif c == 1:
            q[i] = [(m[2, 1] - m[1, 2]) / s, s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
        elif c == 2:
            q[i] = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s]
        else:
            q[i] = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4]
    q[q[:, 0] < 0] *= -1.0
    vec = q[:, 1:]
    norm = np.linalg.norm(vec, axis=1)
    angle = 2.0 * np.arctan2(norm, q[:, 0])
    scale = np.where(norm > 0, angle / np.where(norm > 0, norm, 1.0), 2.0)
    return vec * scale[:, None]
