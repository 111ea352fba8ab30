"""Real orthogonal representations of finite and compact groups and their isotypic decomposition."""

from __future__ import annotations

import itertools
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from symm import _hooks as hooks
from symm import _tolerances as tolerances
from symm._compact import identity_images
from symm._group import DEFAULT_MAX_ORDER, Group, as_matrix_stack, generators_correspond, paired_order
from symm._lie_rep import check_images, evaluate, tensor_images
from symm._walk import all_matrices, as_permutations, element_permutations, iter_images, polish

__all__ = ["Irrep", "IsotypicComponent", "Rep", "common_group", "direct_sum", "shared_components"]

ORTHOGONALITY_TOL = tolerances.ORTHOGONALITY  # the name tests and users know; see symm._tolerances
_MATRICES_CACHE_BYTES = 2**27  # matrices() of larger reps are recomputed rather than kept


@dataclass(frozen=True)
class IsotypicComponent:
    """One isotypic component of a rep: ``multiplicity`` copies of ``irrep`` on columns ``slice`` of Q.

    Inside the slice the columns are copies-major: copy ``c`` occupies ``slice.start + c*d .. + d``.
    """

    irrep: Irrep
    multiplicity: int
    slice: slice

    @property
    def dim(self) -> int:
        """``multiplicity * irrep.dim``."""
        return self.multiplicity * self.irrep.dim


@dataclass(frozen=True)
class Decomposition:
    change_of_basis: np.ndarray
    components: tuple[IsotypicComponent, ...]


_Decomposition = Decomposition  # the name in pickles made before 0.1's layout change; they still load


class Rep:
    """A real orthogonal representation ``ρ: G → O(D)``, given by the images of the group's generators.

    Its isotypic decomposition ``ρ(g) = Q (⊕_k I_{m_k} ⊗ ρ̂_k(g)) Qᵀ`` is computed on first use and cached.

    Parameters
    ----------
    group : Group
    generator_images : array_like, shape (n_generators, D, D)
        Finite group: orthogonal matrices, ``generator_images[s] = ρ(group.generators[s])``. Compact group:
        ``dρ(X_i)`` (skew) for each element of ``group.lie_basis``, then ``ρ(h_j)`` (orthogonal) for each of
        ``group.discrete_generators``. They must define a homomorphism; this is verified (for a compact
        group: skewness, the commutation relations, integrality, and the discrete images' consistency).
    name : str, optional

    Examples
    --------
    >>> import numpy as np, symm
    >>> G = symm.groups.cyclic(4)
    >>> rot = np.array([[0., -1.], [1., 0.]])
    >>> rep = symm.Rep(G, [rot])
    >>> rep.size, [c.multiplicity for c in rep.isotypic_components]
    (2, [1])
    """

    def __init__(self, group: Group, generator_images: Any, *, name: str | None = None) -> None:
        if not isinstance(group, Group):
            raise TypeError(f"group must be a symm.Group, got {type(group).__name__}")
        images = as_matrix_stack(generator_images, "generator_images")
        if images.shape[0] != len(group.generators):
            raise ValueError(
                f"generator_images must hold one matrix per generator of {group.name} "
                f"({len(group.generators)}), got {images.shape[0]}"
            )
        if group.is_finite:
            _check_orthogonal(images, "generator_images")
        else:
            check_images(group, images, "generator_images")
        self.group = group
        self.generator_images = images
        self.generator_images.setflags(write=False)
        self.name = name or "rep"
        self._decomposition: Decomposition | None = None
        self._decomposition_error: str | None = None
        self._matrices: np.ndarray | None = None
        if group.is_finite:
            self._check_homomorphism()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_generators(
        cls,
        matrices: Any,
        *,
        name: str | None = None,
        max_order: int | None = None,
        group: Group | None = None,
    ) -> Rep:
        """A rep given by the images of generators: of ``group``, or of the closure of the matrices themselves.

        Without ``group`` the group is ``Group.from_matrices(matrices)``. Two reps built this way from images of
        the same generators (say a 2-D rep and a permutation rep of D3) have different group objects, but they
        still meet: the statistics re-express one on the other's group once their generators are checked to
        correspond (see :func:`symm.cov`).

        Parameters
        ----------
        matrices : array_like, shape (n_generators, D, D)
            Orthogonal matrices.
        name : str, optional
        max_order : int, optional
            Largest group order allowed for the closure (default ``DEFAULT_MAX_ORDER``); only without ``group``.
        group : Group, optional
            The group; ``matrices[s]`` is the image of ``group.generators[s]``. It is verified that they define a
            homomorphism.

        Examples
        --------
        >>> import numpy as np, symm
        >>> mirror = np.diag([1., -1., 1.])
        >>> rep = symm.Rep.from_generators([mirror])
        >>> rep.group.order
        2
        >>> G = symm.groups.cyclic(2)
        >>> symm.Rep.from_generators([mirror], group=G).group is G
        True
        """
        mats = as_matrix_stack(matrices, "matrices")
        if not isinstance(group, Group) or group.is_finite:
            _check_orthogonal(mats, "matrices")
        if group is None:
            group = Group.from_matrices(mats, max_order=DEFAULT_MAX_ORDER if max_order is None else max_order)
            return cls(group, mats, name=name)
        if not isinstance(group, Group):
            raise TypeError(f"group must be a symm.Group or None, got {type(group).__name__}")
        if max_order is not None:
            raise ValueError(f"max_order={max_order!r} applies to the closure of matrices; omit it when passing group")
        if mats.shape[0] != len(group.generators):
            raise ValueError(
                f"matrices must hold one matrix per generator of {group.name} ({len(group.generators)}), "
                f"got {mats.shape[0]}"
            )
        return cls(group, mats, name=name)

    @classmethod
    def from_escnn(cls, rep: Any) -> Rep:
        """The symm rep of an escnn ``Representation`` (or ``FieldType``), keeping its irreps and change of basis."""
        return hooks.rep_from_escnn(rep)

    @classmethod
    def regular(cls, group: Group) -> Rep:
        """Deprecated: use ``group.regular_rep()``."""
        warnings.warn("Rep.regular(G) is deprecated; use G.regular_rep()", DeprecationWarning, stacklevel=2)
        return group.regular_rep()

    @classmethod
    def trivial(cls, group: Group, size: int = 1) -> Rep:
        """Deprecated: use ``group.trivial_rep(size)``."""
        warnings.warn("Rep.trivial(G, n) is deprecated; use G.trivial_rep(n)", DeprecationWarning, stacklevel=2)
        return group.trivial_rep(size)

    # ------------------------------------------------------------------ basics
    @property
    def size(self) -> int:
        """The dimension ``D``."""
        return self.generator_images.shape[1]

    def __call__(self, g: Any) -> np.ndarray:
        """``ρ(g)``: the matrix of group element ``g``, shape (D, D).

        Parameters
        ----------
        g : int, or array_like of shape (k, k) or (n, k, k) for a compact group
            An element of ``rep.group``. For a compact group, its defining matrix (or a stack of them, which
            gives a stack (n, D, D)): ``ρ(exp(Σ ω_i X_i) h) = exp(Σ ω_i dρ(X_i)) ρ(h)``. For a finite group, an
            integer ``0 <= g < group.order``. Elements are numbered in
            breadth-first order over words in the generators: ``0`` is the identity, ``1, ..., |S|`` are the
            generators in the order they were given (when they are distinct), then products of two
            generators, and so on. ``group.word(g)`` gives the generator indices of ``g``,
            ``group.compose(a, b)`` the number of ``a · b`` and ``group.inverse(g)`` that of ``g⁻¹``.

        Returns
        -------
        ndarray, shape (D, D)
            A new float64 array (a copy): ``rep(group.compose(a, b)) == rep(a) @ rep(b)``. Apply it to a
            sample with ``rep(g) @ x`` (one vector) or ``x @ rep(g).T`` (samples along axis 0).

        Raises
        ------
        TypeError
            If ``g`` is not an integer.
        ValueError
            If ``g`` is outside ``0 .. group.order - 1``.

        Examples
        --------
        >>> import numpy as np, symm
        >>> G = symm.groups.dihedral(6)
        >>> rep = G.natural_rep("standard")
        >>> bool(np.allclose(rep(0), np.eye(2))), bool(np.allclose(rep(1), rep.generator_images[0]))
        (True, True)
        >>> g = G.compose(1, 2)
        >>> bool(np.allclose(rep(g), rep(1) @ rep(2)))
        True
        """
        if not self.group.is_finite:
            return evaluate(self, g)
        g = self.group._check_element(g)
        if self._matrices is not None:
            return self._matrices[g].copy()
        out = np.eye(self.size)
        for s in reversed(self.group.word(g)):
            out = self.generator_images[s] @ out
        return out

    def matrices(self) -> np.ndarray:
        """All ``ρ(g)`` in ``group.elements`` order, shape (order, D, D). Read-only; cached when small.

        Finite groups only (a compact group's elements are not listed: evaluate ``rep(G.sample(n))``).
        """
        self._finite_only("matrices()")
        if self._matrices is not None:
            return self._matrices
        mats = all_matrices(self.group, self.generator_images)
        mats.setflags(write=False)
        if mats.nbytes <= _MATRICES_CACHE_BYTES:
            self._matrices = mats
        return mats

    def character(self) -> np.ndarray:
        """``χ(g) = tr ρ(g)`` for every element, shape (order,). Finite groups only."""
        self._finite_only("character()")
        chi = np.empty(self.group.order)
        for idx, mats in iter_images(self.group, self.generator_images, np.eye(self.size)):
            chi[idx] = np.trace(mats, axis1=1, axis2=2)
        return chi

    def _finite_only(self, what: str) -> None:
        if not self.group.is_finite:
            raise ValueError(
                f"{what} lists every element, and {self.group.name} is infinite; evaluate the rep on sampled "
                "elements instead: rep(G.sample(n, seed))"
            )

    def _check_homomorphism(self) -> None:
        """Verify ``ρ(g_s) ρ(h) = ρ(g_s h)`` on every edge of the Cayley graph.

        Permutation images are checked exactly as permutations; other images through their action on two
        random probe vectors, which costs ``O(|S|·|G|·D²)`` instead of ``O(|S|·|G|·D³)``.
        """
        group, gens = self.group, self.generator_images
        perms = as_permutations(gens)
        if perms is not None:
            elems = element_permutations(group, perms)
            for s in range(len(gens)):
                if not np.array_equal(perms[s][elems], elems[group._left_table[s]]):
                    raise ValueError(
                        f"generator_images do not define a homomorphism of {group.name}: "
                        f"ρ(g_{s})ρ(h) != ρ(g_{s}h) for some h"
                    )
            return
        probe = np.random.default_rng(0).standard_normal((self.size, 2))
        images = all_matrices(group, gens, probe)
        for s in range(len(gens)):
            err = np.abs(np.matmul(gens[s], images) - images[group._left_table[s]]).max()
            err /= max(1.0, float(np.abs(probe).max()) * np.sqrt(self.size))
            if err > ORTHOGONALITY_TOL:
                raise ValueError(
                    f"generator_images do not define a homomorphism of {group.name}: ρ(g_{s})ρ(h) differs "
                    f"from ρ(g_{s}h) by {err:.2e} (relative) for some h; symm accepts at most {ORTHOGONALITY_TOL:.0e}"
                )

    # ------------------------------------------------------------------ decomposition
    def _decomposed(self) -> Decomposition:
        if self._decomposition is None:
            if self._decomposition_error is not None:  # a failure is cached: the same input fails the same way
                raise RuntimeError(self._decomposition_error)
            decompose = hooks.decompose_finite if self.group.is_finite else hooks.decompose_compact
            try:
                self._decomposition = decompose(self)
            except RuntimeError as err:
                self._decomposition_error = str(err)
                raise
        return self._decomposition

    @property
    def change_of_basis(self) -> np.ndarray:
        """Orthogonal ``Q`` (D, D) with ``Qᵀ ρ(g) Q = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``, trivial first, copies-major."""
        return self._decomposed().change_of_basis

    @property
    def isotypic_components(self) -> tuple[IsotypicComponent, ...]:
        """The isotypic components in the order of ``Q``'s columns (trivial first)."""
        return self._decomposed().components

    @property
    def irreps(self) -> tuple[Irrep, ...]:
        """One irrep per irreducible copy, in the order of ``Q``'s columns."""
        return tuple(itertools.chain.from_iterable([c.irrep] * c.multiplicity for c in self.isotypic_components))

    def multiplicity(self, irrep: Irrep) -> int:
        """How many copies of ``irrep`` this rep contains."""
        return sum(c.multiplicity for c in self.isotypic_components if c.irrep is irrep)

    # ------------------------------------------------------------------ operations
    def change_basis(self, P: Any, *, name: str | None = None) -> Rep:
        """The equivalent rep ``g ↦ P ρ(g) Pᵀ`` for an orthogonal ``P`` (D, D). Reuses this decomposition."""
        P = np.asarray(P, dtype=np.float64)
        if P.shape != (self.size, self.size):
            raise ValueError(
                f"P must have shape ({self.size}, {self.size}) for a rep of size {self.size}, got {P.shape}"
            )
        err = np.abs(P.T @ P - np.eye(self.size)).max()
        if err > ORTHOGONALITY_TOL:
            raise ValueError(f"P must be orthogonal (max |PᵀP - I| = {err:.2e})")
        new = Rep(self.group, P @ self.generator_images @ P.T, name=name or self.name)
        if self._decomposition is not None:
            d = self._decomposition
            new._decomposition = Decomposition(polish(P @ d.change_of_basis), d.components)
        return new

    def __add__(self, other: Rep) -> Rep:
        """``rep + other``: the direct sum ``ρ ⊕ σ``, the same as :func:`symm.direct_sum` ``(rep, other)``.

        The result acts on ``R^(D_ρ + D_σ)`` by the block-diagonal matrices ``diag(ρ(g), σ(g))``: the first
        ``D_ρ`` coordinates are this rep's, the rest are ``other``'s.

        Examples
        --------
        >>> import symm
        >>> G = symm.groups.cyclic(4)
        >>> (G.regular_rep() + G.trivial_rep()).size
        5
        """
        return direct_sum(self, other)

    def __mul__(self, count: int) -> Rep:
        """``rep * k`` (or ``k * rep``): the direct sum of ``k`` copies of this rep, ``ρ ⊕ ... ⊕ ρ``.

        ``k`` must be a positive integer; the size of the result is ``k · D``. Products of two reps are
        :meth:`tensor`, not ``*``.

        Examples
        --------
        >>> import symm
        >>> (symm.groups.cyclic(8).regular_rep() * 16).size
        128
        """
        if not isinstance(count, int) or count < 1:
            return NotImplemented
        return direct_sum(*([self] * count))

    __rmul__ = __mul__

    def tensor(self, other: Rep) -> Rep:
        """The tensor product rep ``g ↦ ρ(g) ⊗ σ(g)`` (Kronecker order: this rep's index is major).

        For a compact group the Lie images are ``dρ(X) ⊗ I + I ⊗ dσ(X)``.

        ``other`` may be a rep of another group with corresponding generators (see :func:`direct_sum`).
        """
        if not isinstance(other, Rep):
            raise TypeError(f"tensor takes a symm.Rep, got {type(other).__name__}")
        _, other = common_group(self, other)
        if self.group.is_finite:
            pairs = zip(self.generator_images, other.generator_images, strict=True)
            images = np.stack([np.kron(a, b) for a, b in pairs])
        else:
            images = tensor_images(self.group, self.generator_images, other.generator_images)
        return Rep(self.group, images, name=f"{self.name}⊗{other.name}")

    def to_escnn(self) -> Any:
        """This rep as an escnn ``Representation`` (the group must come from escnn)."""
        return hooks.rep_to_escnn(self)

    def __repr__(self) -> str:
        parts = (
            ", ".join(f"{c.irrep.id}×{c.multiplicity}" for c in self.isotypic_components)
            if self._decomposition
            else "…"
        )
        return f"<symm.Rep {self.name} of {self.group.name}, size {self.size}: {parts}>"


class Irrep(Rep):
    """An irreducible representation in its canonical real form, registered with its group.

    Attributes
    ----------
    id : hashable
        Identifier within the group's registry (escnn's id for groups from escnn).
    dim : int
        The dimension ``d``.
    type : {"R", "C", "H"}
        Real, complex or quaternionic type.
    endomorphism_basis : ndarray, shape (s, d, d)
        Orthogonal basis of ``End_G(ρ̂)`` with ``s = 1, 2, 4``, following escnn's conventions
        (``E_0 = I``; ``E_b = u_b ⊗ I_{d/2}`` or ``u_b ⊗ I_{d/4}`` for the complex / quaternion units).
    """

    def __init__(
        self,
        group: Group,
        generator_images: Any,
        *,
        id: Any,
        type: str,
        endomorphism_basis: Any,
        name: str | None = None,
    ) -> None:
        super().__init__(group, generator_images, name=name or f"irrep {id}")
        if type not in ("R", "C", "H"):
            raise ValueError(f"type must be 'R', 'C' or 'H', got {type!r}")
        self.id = id
        self.type = type
        basis = np.asarray(endomorphism_basis, dtype=np.float64)
        self.endomorphism_basis = basis
        self.endomorphism_basis.setflags(write=False)
        ident = IsotypicComponent(self, 1, slice(0, self.size))
        self._decomposition = Decomposition(np.eye(self.size), (ident,))

    @property
    def dim(self) -> int:
        """The dimension ``d``."""
        return self.size

    @property
    def endomorphism_dim(self) -> int:
        """``s = dim End_G(ρ̂)``: 1, 2 or 4."""
        return self.endomorphism_basis.shape[0]

    @property
    def is_trivial(self) -> bool:
        """Whether this is the trivial irrep (dimension 1, every element acting as 1)."""
        return self.dim == 1 and bool(np.array_equal(self.generator_images, identity_images(self.group, 1)))

    def __repr__(self) -> str:
        return f"<symm.Irrep {self.id} of {self.group.name}: dim {self.dim}, type {self.type}>"

    def __reduce__(self) -> tuple:
        return (_registered_irrep, (self.group, self.id, self.generator_images, self.type))


def _registered_irrep(group: Group, id: Any, images: np.ndarray | None = None, type: str | None = None) -> Irrep:
    """The group's irrep ``id``; in an open registry (large groups), register it from its canonical images."""
    if not group.is_finite:
        return group.irrep(id)
    hooks.fill_registry(group)
    for irr in group._irreps:
        if irr.id == id:
            return irr
    if images is None or not group._registry_open:
        return group.irrep(id)  # raises, naming the id
    return hooks.register_irrep(group, id, images, type)


hooks.rep.bind(Rep)
hooks.irrep.bind(Irrep)


def direct_sum(*reps: Rep, name: str | None = None) -> Rep:
    """The direct sum ``ρ_1 ⊕ ... ⊕ ρ_n`` (block-diagonal). Reuses the summands' decompositions.

    The result is a rep of ``reps[0].group``. A summand of another group object is accepted when the two groups'
    generators correspond (the paired generators generate a group of the same order); it is re-expressed on
    ``reps[0].group``.

    Examples
    --------
    >>> import symm
    >>> G = symm.groups.dihedral(3)
    >>> rep = symm.direct_sum(G.regular_rep(), G.natural_rep("standard"))
    >>> rep.size
    8
    """
    if not reps:
        raise ValueError("direct_sum needs at least one rep")
    for r in reps:
        if not isinstance(r, Rep):
            raise TypeError(f"direct_sum takes symm.Rep objects, got {type(r).__name__}")
    reps = (reps[0], *(common_group(reps[0], r, ("reps[0]", f"reps[{i}]"))[1] for i, r in enumerate(reps[1:], 1)))
    sizes = [r.size for r in reps]
    total = sum(sizes)
    offsets = np.cumsum([0, *sizes])
    images = np.zeros((len(reps[0].group.generators), total, total))
    for r, o in zip(reps, offsets, strict=False):
        images[:, o : o + r.size, o : o + r.size] = r.generator_images
    out = Rep(reps[0].group, images, name=name or "⊕".join(r.name for r in reps))
    # Assemble the decomposition from the summands: block-diagonal Q, columns regrouped per irrep.
    columns: dict[int, list[np.ndarray]] = {}
    irreps: dict[int, Irrep] = {}
    for r, o in zip(reps, offsets, strict=False):
        q = r.change_of_basis
        for c in r.isotypic_components:
            key = id(c.irrep)
            block = np.zeros((total, c.dim))
            block[o : o + r.size] = q[:, c.slice]
            columns.setdefault(key, []).append(block)
            irreps[key] = c.irrep
    order = sorted(irreps, key=lambda k: irreps[k].group.irrep_sort_key(irreps[k]))
    q_cols, comps, start = [], [], 0
    for k in order:
        block = np.concatenate(columns[k], axis=1)
        m = block.shape[1] // irreps[k].dim
        comps.append(IsotypicComponent(irreps[k], m, slice(start, start + block.shape[1])))
        q_cols.append(block)
        start += block.shape[1]
    out._decomposition = Decomposition(np.concatenate(q_cols, axis=1), tuple(comps))
    return out


def _check_orthogonal(mats: np.ndarray, name: str) -> None:
    eye = np.eye(mats.shape[1])
    for s, m in enumerate(mats):
        err = np.abs(m.T @ m - eye).max()
        if err > ORTHOGONALITY_TOL:
            raise ValueError(
                f"{name}[{s}] is not orthogonal: max |MᵀM - I| = {err:.2e}, and symm accepts at most "
                f"{ORTHOGONALITY_TOL:.0e} (orthogonalise with a change of basis first, or polish noisy matrices)"
            )


def _same_group(a: Rep, b: Rep, names: tuple[str, str] = ("rep", "other")) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` are reps of the same group object (see :func:`common_group`)."""
    if a.group is not b.group:
        raise ValueError(f"{names[0]} and {names[1]} are reps of different groups ({a.group.name} vs {b.group.name})")


_REGROUP_LOCK = threading.Lock()


def common_group(a: Rep, b: Rep, names: tuple[str, str] = ("rep", "other")) -> tuple[Rep, Rep]:
    """``(a, b')`` with ``b'`` the rep ``b`` on ``a.group``: groups and reps meet by content, not identity.

    ``b`` itself when it is a rep of ``a.group``. Otherwise the generators of the two groups must correspond:
    ``g_s ↦ h_s`` extends to an isomorphism, i.e. the paired generators ``diag(g_s, h_s)`` generate a group of
    order ``|G_a| = |G_b|``. Then ``b' = Rep(a.group, b.generator_images)``, cached on ``a.group`` (weakly
    keyed by ``b``), so repeated calls reuse its decomposition and both share ``a.group``'s irrep registry.

    Raises
    ------
    ValueError
        If the generators do not correspond, giving both group orders.
    """
    ga, gb = a.group, b.group
    if ga is gb:
        return a, b
    with _REGROUP_LOCK:
        hit = ga._regrouped.get(b)
    if hit is not None:
        return a, hit
    if not (ga.is_finite and gb.is_finite):
        raise ValueError(f"{names[0]} and {names[1]} are reps of different groups ({ga.name} vs {gb.name})")
    if not generators_correspond(ga, gb):
        sa, sb = len(ga.generators), len(gb.generators)
        if sa != sb:
            why = f"{ga.name} has {sa} generator{'s' * (sa != 1)} and {gb.name} has {sb}"
        else:
            paired = paired_order(ga, gb)
            paired_text = "is larger" if paired is None else f"has order {paired}"
            why = (
                f"|G| = {ga.order} for {names[0]} ({ga.name}) and {gb.order} for {names[1]} ({gb.name}), and the "
                f"group generated by the paired generators diag(g_s, h_s) {paired_text}; corresponding generators "
                "give three equal orders"
            )
        raise ValueError(
            f"{names[0]} and {names[1]} are reps of different groups: their generators do not correspond ({why})"
        )
    moved = Rep(ga, b.generator_images, name=b.name)
    with _REGROUP_LOCK:
        return a, ga._regrouped.setdefault(b, moved)


def shared_components(rep_x: Rep, rep_y: Rep) -> list[tuple[Irrep, IsotypicComponent, IsotypicComponent]]:
    """The irreps present in both reps, with their components in each: ``[(irrep, comp_x, comp_y), ...]``.

    ``rep_y`` is first re-expressed on ``rep_x``'s group (see :func:`common_group`); the list follows the order
    of ``rep_x.isotypic_components``.
    """
    for rep, name in ((rep_x, "rep_x"), (rep_y, "rep_y")):
        if not isinstance(rep, Rep):
            raise TypeError(f"{name} must be a symm.Rep, got {type(rep).__name__}")
    rep_x, rep_y = common_group(rep_x, rep_y, ("rep_x", "rep_y"))
    by_irrep = {id(c.irrep): c for c in rep_y.isotypic_components}
    return [(c.irrep, c, by_irrep[id(c.irrep)]) for c in rep_x.isotypic_components if id(c.irrep) in by_irrep]
