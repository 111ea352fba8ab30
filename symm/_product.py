"""Direct products ``A × B`` of a compact Lie group ``A`` (SO(2), O(2), SO(3), O(3)) and a finite group ``B``.

The product is a compact group (:class:`~symm._compact.CompactGroup`): its Lie algebra is ``A``'s, and its
discrete generators are ``A``'s followed by ``B``'s generators. Its defining matrices are block-diagonal,
``diag(a, b)`` (or ``diag(b, a)`` when ``B`` comes first), with ``b`` the faithful action of ``B`` (its
permutation or generator matrices).

Irreps are the products ``(id_A, id_B)`` (ids in the order of the factors) of an irrep of each factor. When
``A``'s irrep has real type, ``ρ̂_b ⊗ ρ̂_a`` is irreducible of ``b``'s type; when it has complex type (SO(2),
``k >= 1``), ``ρ̂_a ⊗ ρ̂_b`` is irreducible of complex type if ``b`` has real type. The factor that carries the
type comes first in the Kronecker product, so the endomorphism basis keeps symm's form ``E = u ⊗ I``. A complex
irrep of SO(2) times a complex or quaternionic irrep of ``B`` is not irreducible over R; reps that contain such
a pair are refused with a ``ValueError``.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

from symm._compact import CompactGroup
from symm._group import Group
from symm._rep import Rep
from symm._walk import permutation_matrices

if TYPE_CHECKING:
    from symm._rep import Irrep

__all__ = ["ProductGroup", "product_group"]

_PRODUCTS: weakref.WeakKeyDictionary[Group, dict[tuple[str, bool], ProductGroup]] = weakref.WeakKeyDictionary()
_PRODUCTS_LOCK = threading.Lock()


class ProductGroup(CompactGroup):
    """``A × B`` with ``A`` compact and ``B`` finite (in either order); see the module docstring.

    Attributes
    ----------
    compact : CompactGroup
        The factor ``A``.
    finite : Group
        The factor ``B``.
    compact_first : bool
        Whether ``A`` is the first factor (its block comes first in the defining matrices, its id first in
        irrep ids).
    """

    def __init__(self, compact: CompactGroup, finite: Group, compact_first: bool) -> None:
        self.compact, self.finite, self.compact_first = compact, finite, compact_first
        gens_b = _defining_matrices(finite)
        ka, kb = compact.lie_basis.shape[1], gens_b.shape[1]
        eye_a, eye_b = np.eye(ka), np.eye(kb)
        lie = np.stack([self._block(x, 0 * eye_b) for x in compact.lie_basis])
        disc = [self._block(h, eye_b) for h in compact.discrete_generators]
        disc += [self._block(eye_a, h) for h in gens_b]
        names = compact.generators + tuple(f"{finite.name}[{s}]" for s in range(len(finite.generators)))
        a, b = compact.name, finite.name
        super().__init__(
            "product",
            f"{a}x{b}" if compact_first else f"{b}x{a}",
            lie,
            np.stack(disc),
            names,
            compact.structure_constants,
        )
        self._n_compact_images = len(compact.generators)

    # ------------------------------------------------------------------ defining matrices
    def _block(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        first, second = (a, b) if self.compact_first else (b, a)
        out = np.zeros((first.shape[0] + second.shape[0],) * 2)
        out[: first.shape[0], : first.shape[0]] = first
        out[first.shape[0] :, first.shape[0] :] = second
        return out

    def _parts(self, mats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ka = self.compact.lie_basis.shape[1]
        kb = mats.shape[-1] - ka
        first = ka if self.compact_first else kb
        p, q = mats[:, :first, :first], mats[:, first:, first:]
        return (p, q) if self.compact_first else (q, p)

    def sample(self, n: int, seed: Any = None) -> np.ndarray:
        """``n`` Haar-random elements as block-diagonal defining matrices: the compact factor's Haar measure
        times the uniform measure on the finite factor."""
        rng = np.random.default_rng(seed)
        a = self.compact.sample(n, rng)
        mats = _element_matrices(self.finite)[rng.integers(0, self.finite.order, size=len(a))]
        return np.stack([self._block(x, y) for x, y in zip(a, mats, strict=True)])

    def split(self, g: Any, name: str = "g") -> tuple[np.ndarray, np.ndarray]:
        """``(ω, flips)`` of the compact factor (see :meth:`CompactGroup.split`)."""
        return self.compact.split(self._parts(self._as_stack(g, name))[0], name)

    def element_parts(self, images: np.ndarray, g: Any, name: str = "g") -> tuple[np.ndarray, np.ndarray | None]:
        """``(ω, ρ(h) ρ(b))``: the compact factor's Lie coordinates, and the image of the discrete part."""
        mats = self._as_stack(g, name)
        a_part, b_part = self._parts(mats)
        omega, post = self.compact.element_parts(images[: self._n_compact_images], a_part, name)
        finite = self.finite
        gens = images[self._n_compact_images :]
        out = np.empty((len(mats), *images.shape[1:]))
        for n, b in enumerate(b_part):
            if finite._kind == "perm":
                element = finite._index.get(finite._key(np.argmax(b, axis=0))) if _is_permutation(b) else None
            else:
                element = finite._index.get(finite._key(b))
            if element is None:
                raise ValueError(f"{name} is not an element of {self.name}: its {finite.name} block is not an element")
            rho = np.eye(images.shape[1])
            for s in reversed(finite.word(element)):
                rho = gens[s] @ rho
            out[n] = rho if post is None else post[n] @ rho
        return omega, out

    def _as_stack(self, g: Any, name: str) -> np.ndarray:
        k = self.lie_basis.shape[1]
        mats = np.array(g, dtype=np.float64)
        if mats.ndim not in (2, 3) or mats.shape[-2:] != (k, k):
            raise ValueError(
                f"{name} must be a ({k}, {k}) defining matrix of {self.name} or a stack (n, {k}, {k}), "
                f"got shape {mats.shape}"
            )
        mats = mats.reshape(-1, k, k)
        a_part, b_part = self._parts(mats)
        off = np.abs(mats - np.stack([self._block(a, b) for a, b in zip(a_part, b_part, strict=True)]))
        if off.max(initial=0.0) > 1e-12:
            raise ValueError(f"{name} is not block-diagonal, so it is not an element of {self.name}")
        return mats

    def check_images(self, images: np.ndarray, name: str) -> None:
        """The finite factor's images define a rep of it, and commute with the compact factor's discrete images."""
        first = self.n_lie + len(self.compact.discrete_generators)
        gens = images[self._n_compact_images :]
        try:
            Rep(self.finite, gens)
        except ValueError as err:
            raise ValueError(f"{name}[{first}:], the images of {self.finite.name}'s generators: {err}") from err
        for j, h in enumerate(images[self.n_lie : first]):
            for s, r in enumerate(gens):
                err = float(np.abs(h @ r - r @ h).max())
                if err > 1e-8:
                    raise ValueError(
                        f"{name}[{self.n_lie + j}] and {name}[{first + s}] do not commute ({err:.2e}), but the "
                        f"factors of {self.name} do"
                    )

    # ------------------------------------------------------------------ irreps
    def _normalise_id(self, id: Any) -> Any:
        if not (isinstance(id, tuple) and len(id) == 2):
            raise ValueError(
                f"an irrep id of {self.name} is a pair (id of {self._first.name}, id of {self._second.name}), "
                f"got {id!r}"
            )
        ida, idb = id if self.compact_first else id[::-1]
        ida = self.compact.irrep(ida).id
        idb = self.finite.irrep(idb).id
        return (ida, idb) if self.compact_first else (idb, ida)

    @property
    def _first(self) -> Group:
        return self.compact if self.compact_first else self.finite

    @property
    def _second(self) -> Group:
        return self.finite if self.compact_first else self.compact

    def factor_ids(self, id: Any) -> tuple[Any, Any]:
        """``(id_A, id_B)``: the compact and the finite factor's ids of a product irrep id."""
        return id if self.compact_first else id[::-1]

    def product_id(self, ida: Any, idb: Any) -> tuple[Any, Any]:
        """The product irrep id of the compact irrep ``ida`` and the finite irrep ``idb``."""
        return (ida, idb) if self.compact_first else (idb, ida)

    def _ids_up_to(self, band: int) -> list[Any]:
        return [self.product_id(a.id, b.id) for a in self.compact.irreps_up_to(band) for b in self.finite.irreps()]

    def irreps_up_to(self, band: int) -> tuple[Irrep, ...]:
        """Products of the compact factor's irreps up to ``band`` with every irrep of the finite factor, except
        the pairs that are not irreducible over R (a complex SO(2) irrep with a non-real irrep)."""
        if isinstance(band, (bool, np.bool_)) or not isinstance(band, (int, np.integer)) or band < 0:
            raise ValueError(f"band must be an integer >= 0, got {band!r}")
        return tuple(
            self.irrep(self.product_id(a.id, b.id))
            for a in self.compact.irreps_up_to(int(band))
            for b in self.finite.irreps()
            if a.type == "R" or b.type == "R"
        )

    def irrep_sort_key(self, irrep: Irrep) -> Any:
        """The compact factor's order first, then the finite factor's registry order."""
        ida, idb = self.factor_ids(irrep.id)
        return (
            self.compact.irrep_sort_key(self.compact.irrep(ida)),
            self.finite.irrep_sort_key(self.finite.irrep(idb)),
        )

    def _irrep_data(self, key: Any) -> tuple[np.ndarray, str, np.ndarray]:
        ida, idb = self.factor_ids(key)
        a, b = self.compact.irrep(ida), self.finite.irrep(idb)
        return product_irrep_data(a, b, self.n_lie)

    def to_escnn(self) -> Any:
        """Not available: symm builds products of compact and finite groups itself."""
        raise ValueError(f"{self.name} has no escnn counterpart in symm; convert its factors instead")

    def __repr__(self) -> str:
        return f"<symm.Group {self.name}, compact × finite, Lie algebra of dimension {self.n_lie}>"

    def __reduce__(self) -> tuple:
        return (product_group, (self._first, self._second))


def product_irrep_data(a: Irrep, b: Irrep, n_lie: int) -> tuple[np.ndarray, str, np.ndarray]:
    """``(images, type, endomorphism_basis)`` of the product of the compact irrep ``a`` and finite irrep ``b``.

    Real ``a``: ``ρ̂_b ⊗ ρ̂_a`` (``b``'s index major), of ``b``'s type. Complex ``a`` and real ``b``:
    ``ρ̂_a ⊗ ρ̂_b``, complex. Raises ``ValueError`` for complex ``a`` with a non-real ``b``.
    """
    ia, ib = np.eye(a.dim), np.eye(b.dim)
    n_a = len(a.generator_images)
    if a.type == "R":
        images = [np.kron(ib, x) for x in a.generator_images] + [np.kron(y, ia) for y in b.generator_images]
        return np.stack(images), b.type, np.stack([np.kron(e, ia) for e in b.endomorphism_basis])
    if b.type != "R":
        raise ValueError(
            f"the product of {a} (complex type) and {b} (type {b.type}) is not irreducible over R; symm does not "
            "support reps of products that contain it"
        )
    images = [np.kron(x, ib) for x in a.generator_images[:n_a]] + [np.kron(ia, y) for y in b.generator_images]
    return np.stack(images), "C", np.stack([np.kron(e, ib) for e in a.endomorphism_basis])


def product_group(first: Group, second: Group) -> ProductGroup:
    """``first × second`` with one factor compact and the other finite; one object per pair."""
    compact_first = not first.is_finite
    compact, finite = (first, second) if compact_first else (second, first)
    if not isinstance(compact, CompactGroup) or isinstance(compact, ProductGroup) or not finite.is_finite:
        raise ValueError(
            f"direct_product of {first.name} and {second.name}: symm supports products of two finite groups, or "
            "of one of SO(2), O(2), SO(3), O(3) with a finite group"
        )
    key = (compact._kind, compact_first)
    with _PRODUCTS_LOCK:
        table = _PRODUCTS.setdefault(finite, {})
        group = table.get(key)
        if group is None:
            group = table[key] = ProductGroup(compact, finite, compact_first)
    return group


def _defining_matrices(group: Group) -> np.ndarray:
    data = group._generator_data
    return permutation_matrices(data) if group._kind == "perm" else np.array(data)


def _element_matrices(group: Group) -> np.ndarray:
    data = group._data
    return permutation_matrices(data) if group._kind == "perm" else np.array(data)


def _is_permutation(m: np.ndarray) -> bool:
    return bool(np.all((np.abs(m) < 1e-9) | (np.abs(m - 1) < 1e-9)) and np.allclose(m.sum(axis=0), 1.0))
