"""Numerical isotypic decomposition by commutant sampling (the RepLAB approach).

For a rep given only by generator images:

1. draw random elements of the commutant ``{A : ρ(g) A = A ρ(g)}``: the Reynolds average over all elements for
   small groups (index gathers for permutation reps), otherwise a lazy random walk over the generators;
2. ``eigh`` of a symmetric sample: each eigenvalue cluster is one irreducible copy;
3. a non-symmetric sample links equivalent copies (Schur: a nonzero block between them) and gives the maps
   that align every copy with the first one;
4. ``dim End_G`` of one copy gives the type R / C / H;
5. a class already in the group's registry is mapped onto the registered matrices; a new class is registered
   in its canonical form (:func:`symm._canonical.canonical_irrep_basis`);
6. the copies of each class are put in their canonical basis (:func:`symm._canonical.canonical_copies`), so
   ``Q`` depends on the rep alone and not on the eigensolver's choice of eigenvectors;
7. the result is verified on every generator in float64 and ``Q`` is repolished to orthogonal.

The random commutant samples only locate the subspaces; every basis that is kept is rebuilt by a fixed rule.
Never identify irreps by their characters on the generators alone: two inequivalent irreps can agree there
(the two 3-dimensional irreps of A5). Equivalence is decided by intertwiners.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import numpy as np

from symm import _hooks as hooks
from symm import _tolerances as tolerances
from symm._canonical import canonical_copies, canonical_irrep_basis
from symm._canonical import endomorphism_basis as endomorphism_basis
from symm._rep import Decomposition, Irrep, IsotypicComponent, Rep
from symm._walk import (
    all_matrices,
    as_permutations,
    element_permutations,
    group_average,
    iter_images,
    permutation_matrices,
    polish,
)

if TYPE_CHECKING:
    from symm._group import Group

logger = logging.getLogger(__name__)

REGISTRY_FROM_REGULAR_MAX_ORDER = 256  # groups up to this order get all irreps from the regular rep
_REYNOLDS_FLOP_BUDGET = 2e10
_ATTEMPTS = 4

REGISTRY_BY_TENSORS_MAX_ORDER = 5000  # larger groups get all irreps from tensor products of a faithful rep
_CHARACTER_DECIMALS = 6


class _Retry(Exception):
    pass


# ---------------------------------------------------------------------- public entry points
@hooks.decompose_finite.bind
def decompose(rep: Rep) -> Decomposition:
    """Isotypic decomposition of ``rep``.

    Deterministic: ``Q`` and the irreps are canonical functions of the rep (see :mod:`symm._canonical`), the
    same to rounding on every BLAS kernel, thread count and platform, whatever was decomposed before.
    """
    ensure_registry(rep.group)
    with rep.group._registry_lock:  # an open registry may gain irreps: one decomposition per group at a time
        return _decompose_with_retries(rep)


def _decompose_with_retries(rep: Rep) -> Decomposition:
    last: Exception | None = None
    for attempt in range(_ATTEMPTS):
        try:
            return _decompose_once(rep, np.random.default_rng(attempt))
        except _Retry as err:
            last = err
            logger.debug("decomposition attempt %d failed: %s", attempt, err)
    raise RuntimeError(f"isotypic decomposition of {rep!r} failed after {_ATTEMPTS} attempts: {last}")


@hooks.fill_registry.bind
def ensure_registry(group: Group) -> None:
    """Fill the group's irrep registry once, under the group's lock, with canonical ids and matrices.

    - order <= ``REGISTRY_FROM_REGULAR_MAX_ORDER``: every irrep from the regular rep;
    - order <= ``REGISTRY_BY_TENSORS_MAX_ORDER``: from tensor products of a faithful rep's constituents with
      the irreps found so far, until ``Σ d²/s = |G|`` (every irrep occurs in a tensor power of a faithful rep);
    - larger groups: the registry stays open and irreps are registered as reps meet them, with content ids
      (dimension, type and a digest of the character), so ids never depend on the order of decompositions.

    Complete registries are sorted by (dimension, type, character) and numbered from 0 (trivial).
    """
    if group._registry_complete or group._registry_open:
        return
    with group._registry_lock:
        if group._registry_complete or group._registry_open or group._registry_building:
            return
        group._registry_building = True
        try:
            _register_trivial(group)
            if group.order <= REGISTRY_FROM_REGULAR_MAX_ORDER:
                _register_from_regular(group)
            elif group.order > REGISTRY_BY_TENSORS_MAX_ORDER or not _register_from_tensors(group):
                group._registry_open = True
                return
            _number_registry(group)
            group._registry_complete = True
        except BaseException:
            del group._irreps[1:]
            raise
        finally:
            group._registry_building = False


def _register_trivial(group: Group) -> None:
    if not group._irreps:
        ones = np.ones((len(group.generators), 1, 1))
        group._irreps.append(Irrep(group, ones, id=0, type="R", endomorphism_basis=np.ones((1, 1, 1)), name="trivial"))


def _register_from_regular(group: Group) -> None:
    regular = group.regular_rep()
    for attempt in range(_ATTEMPTS):
        try:
            found = _find_classes(regular, np.random.default_rng(attempt), respace=True)
            break
        except _Retry:
            continue
    else:  # pragma: no cover - numerically pathological
        raise RuntimeError(f"could not compute the irreps of {group.name}")
    for f in found:
        if not (f.dim == 1 and np.allclose(f.images, 1.0)):
            _register(group, f)


def _register_from_tensors(group: Group) -> bool:
    """Register every irrep from tensor products of a faithful rep; False if the group has no orthogonal one."""
    if group._kind == "perm":
        faithful = Rep(group, permutation_matrices(group._generator_data), name="permutation")
    else:
        gens = group._generator_data
        if np.abs(gens @ gens.transpose(0, 2, 1) - np.eye(gens.shape[1])).max() > tolerances.ORTHOGONALITY:
            return False
        faithful = Rep(group, gens, name="defining")
    _decompose_with_retries(faithful)
    factors = [irr for irr in group._irreps[1:]]
    done = 0
    while _registry_mass(group) < group.order - 0.5 and done < len(group._irreps):
        b = group._irreps[done]
        done += 1
        for a in factors:
            _decompose_with_retries(a.tensor(b))
            if _registry_mass(group) >= group.order - 0.5:
                break
    if abs(_registry_mass(group) - group.order) > 0.5:  # pragma: no cover - Burnside–Brauer guarantees it
        raise RuntimeError(f"tensor products found irreps of total mass {_registry_mass(group)} != {group.order}")
    return True


def _registry_mass(group: Group) -> float:
    """``Σ d²/s`` over the registered irreps: ``|G|`` exactly when the registry is complete."""
    return sum(irr.dim**2 / irr.endomorphism_dim for irr in group._irreps)


def _class_key(group: Group, images: np.ndarray, type_: str) -> tuple:
    chars = np.round(_character(group, images), _CHARACTER_DECIMALS) + 0.0
    return (images.shape[1], "RCH".index(type_), tuple(-chars))


def _number_registry(group: Group) -> None:
    """Sort the non-trivial irreps by (dimension, type, character) and number them 1, 2, ..."""
    rest = sorted(group._irreps[1:], key=lambda irr: _class_key(group, irr.generator_images, irr.type))
    group._irreps[1:] = rest
    for k, irr in enumerate(rest, start=1):
        irr.id, irr.name = k, f"irrep {k}"


@hooks.register_irrep.bind
def register_canonical(group: Group, id: str, images: np.ndarray, type_: str) -> Irrep:
    """Re-register an irrep of an open registry from its canonical images (unpickling in a fresh process)."""
    with group._registry_lock:
        for irr in group._irreps:
            if irr.id == id:
                return irr
        images = np.asarray(images, dtype=np.float64)
        irrep = Irrep(group, images, id=id, type=type_, endomorphism_basis=endomorphism_basis(type_, images.shape[1]))
        _insert_sorted(group, irrep)
        return irrep


def _insert_sorted(group: Group, irrep: Irrep) -> None:
    key = _class_key(group, irrep.generator_images, irrep.type)
    keys = [_class_key(group, irr.generator_images, irr.type) for irr in group._irreps[1:]]
    group._irreps.insert(1 + sum(k < key for k in keys), irrep)


def _register(group: Group, cls: _Class) -> Irrep:
    """Register a new class in its canonical form; in an open registry, at its sorted place with a content id."""
    o = canonical_irrep_basis(group, cls.images, cls.type, cls.endo)
    images = o.T @ cls.images @ o
    cls.bases = [u @ o for u in cls.bases]
    cls.images, cls.endo = images, endomorphism_basis(cls.type, cls.dim)
    if group._registry_open:
        key = _class_key(group, images, cls.type)
        digest = hashlib.sha1(repr(key).encode()).hexdigest()[:10]
        irrep = Irrep(group, images, id=f"{cls.dim}{cls.type}-{digest}", type=cls.type, endomorphism_basis=cls.endo)
        _insert_sorted(group, irrep)
    else:
        irrep = Irrep(group, images, id=len(group._irreps), type=cls.type, endomorphism_basis=cls.endo)
        group._irreps.append(irrep)
    logger.debug("registered irrep %s of %s", irrep.id, group.name)
    return irrep


# ---------------------------------------------------------------------- the algorithm
class _Class:
    """One class of equivalent irreducible copies found in a rep, after alignment and canonicalisation."""

    def __init__(self, bases: list[np.ndarray], images: np.ndarray, type_: str, endo: np.ndarray) -> None:
        self.bases = bases  # one (D, d) basis per copy, all with U_jᵀ ρ U_j = images
        self.images = images  # (n_generators, d, d)
        self.type = type_
        self.endo = endo  # a basis of End_G(images); escnn's canonical one once registered
        self.dim = images.shape[1]


def _decompose_once(rep: Rep, rng: np.random.Generator) -> Decomposition:
    group = rep.group
    classes = _find_classes(rep, rng)
    placed: list[tuple[Irrep, _Class]] = []
    for cls in classes:
        irrep, t = _match_registry(group, cls)
        if irrep is None:
            if not (group._registry_building or group._registry_open):
                raise _Retry(f"a {cls.dim}-dimensional copy matches no irrep of {group.name}")
            irrep = _register(group, cls)
        else:
            cls.bases = [u @ t.T for u in cls.bases]
        placed.append((irrep, cls))
    placed.sort(key=lambda p: group._irreps.index(p[0]))

    cols, comps, start = [], [], 0
    for irrep, cls in placed:
        m = len(cls.bases)
        cols.extend(cls.bases)
        comps.append(IsotypicComponent(irrep, m, slice(start, start + m * irrep.dim)))
        start += m * irrep.dim
    q = _refine(rep, np.concatenate(cols, axis=1), comps)
    gauged = [canonical_copies(q[:, c.slice], c.irrep.endomorphism_basis) for c in comps]  # orthogonal factors
    q = polish(np.concatenate(gauged, axis=1), keep_orthogonal=True)
    # verify on every generator against the registered irrep matrices: ρ(g_s) Q = Q B(g_s), B block diagonal
    for s, g in enumerate(rep.generator_images):
        qb = np.concatenate(
            [
                (q[:, c.slice].reshape(-1, c.multiplicity, c.irrep.dim) @ c.irrep.generator_images[s]).reshape(
                    rep.size, -1
                )
                for c in comps
            ],
            axis=1,
        )
        err = np.abs(g @ q - qb).max()
        if err > tolerances.DECOMPOSITION_CHECK * max(1.0, np.sqrt(rep.size)):
            raise _Retry(f"verification failed on generator {s} (error {err:.2e})")
    return Decomposition(q, tuple(comps))


def _refine(rep: Rep, q: np.ndarray, comps: list[IsotypicComponent]) -> np.ndarray:
    """Average ``q`` over the group as an intertwiner, ``(1/|G|) Σ_g ρ(g) q B(g)ᵀ``, then polish to orthogonal.

    ``B(g) = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``. The eigenvectors are only as accurate as ``eps/gap``; this group
    average removes their non-equivariant error in one step (skipped where the Reynolds path is too costly: then
    ``q`` is only polished). The average goes through cosets of a subgroup (:func:`symm._walk.group_average`):
    fewer than ``|G|`` products ``ρ(g_s) X``.
    """
    group, d, gens = rep.group, rep.size, rep.generator_images
    perms = as_permutations(gens)
    if perms is not None:
        if group.order * d * d > _REYNOLDS_FLOP_BUDGET:
            return polish(q)
        inverse = np.argsort(perms, axis=1)  # ρ(g_s) x is the row gather x[π_s⁻¹]
    elif not _reynolds_affordable(group, d, len(gens)):
        return polish(q)

    def intertwine(s: int, x: np.ndarray) -> np.ndarray:
        """``ρ(g_s) x B(g_s)ᵀ``."""
        rx = x[inverse[s]] if perms is not None else gens[s] @ x
        parts = [
            (rx[:, c.slice].reshape(d, c.multiplicity, c.irrep.dim) @ c.irrep.generator_images[s].T).reshape(d, -1)
            for c in comps
        ]
        return np.concatenate(parts, axis=1)

    return polish(group_average(group, intertwine, q))


def _find_classes(rep: Rep, rng: np.random.Generator, *, respace: bool = False) -> list[_Class]:
    """Irreducible copies of ``rep``, grouped into classes of equivalent copies, aligned and canonical.

    With ``respace``, the eigenvector basis is recomputed from the commutant element
    ``R(Σ_c c·U_c U_cᵀ)``, whose eigenvalue clusters are one apart: the copies then come out accurate to
    rounding instead of ``eps/gap`` (used for the irrep registry, whose matrices every rep reuses).
    """
    gens = rep.generator_images
    d_total = rep.size
    a, b, columns = _random_commutant_pair(rep, rng)
    w, v = np.linalg.eigh(a)
    nullity = int(np.sum(w <= 1e-6 * w[-1]))
    if columns and nullity:  # too few columns for a block of high multiplicity: add as many as it lacks
        more_a, more_b, _ = _random_commutant_pair(rep, rng, columns=nullity)  # the samples are sums over columns
        a, b = a + more_a, b + more_b
        w, v = np.linalg.eigh(a)
    scale = max(1.0, float(np.abs(w).max()))
    cuts = np.nonzero(np.diff(w) > tolerances.EIGEN_CLUSTER * scale)[0] + 1
    starts = np.concatenate([[0], cuts])
    sizes = np.diff(np.concatenate([starts, [d_total]]))
    if respace:
        labels = np.repeat(np.arange(len(sizes), dtype=np.float64), sizes)
        w, v = np.linalg.eigh(_commutant_samples(rep, ((v * labels) @ v.T)[None])[0])
        if np.abs(w - labels).max() > 1e-6:
            raise _Retry("respaced commutant element has unexpected eigenvalues")
    bases = [v[:, s : s + n] for s, n in zip(starts, sizes, strict=True)]

    # Schur: the block of B between two copies is nonzero iff they are equivalent.
    c = v.T @ b @ v
    block_norms = np.sqrt(np.add.reduceat(np.add.reduceat(c * c, starts, axis=0), starts, axis=1))
    threshold = 1e-7 * float(np.linalg.norm(b))
    n = len(bases)
    label = list(range(n))

    def root(i: int) -> int:
        while label[i] != i:
            label[i] = label[label[i]]
            i = label[i]
        return i

    for i in range(n):
        for j in np.nonzero(block_norms[i] > threshold)[0]:
            if j != i:
                if sizes[i] != sizes[j]:
                    raise _Retry("copies of different dimensions are linked")
                label[root(i)] = root(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)

    classes = []
    for members in groups.values():
        first = bases[members[0]]
        d = first.shape[1]
        # a copy is irreducible iff every commutant element restricted to it is a multiple of an orthogonal map
        own = first.T @ b @ first
        gram = own.T @ own
        if np.abs(gram - np.trace(gram) / d * np.eye(d)).max() > 1e-6 * max(np.trace(gram) / d, 1e-300):
            raise _Retry("an eigenvalue cluster is reducible")
        aligned = [first]
        first_b = first.T @ b
        for j in members[1:]:
            t = first_b @ bases[j]  # intertwines copy j to copy 1, a multiple of an orthogonal map
            t /= np.sqrt(np.trace(t @ t.T) / d)
            aligned.append(bases[j] @ t.T)
        images = np.einsum("di,sde,ej->sij", first, gens, first, optimize=True)
        endo = _intertwiners(images, images)
        if rep.group.order * d**3 <= _REYNOLDS_FLOP_BUDGET:  # group-average to remove the nullspace's rounding
            mats = all_matrices(rep.group, images)
            endo = np.stack([np.mean(mats @ e @ mats.transpose(0, 2, 1), axis=0) for e in endo])
        type_ = {1: "R", 2: "C", 4: "H"}.get(len(endo))
        if type_ is None:
            raise _Retry(f"a copy has an endomorphism algebra of dimension {len(endo)}")
        classes.append(_Class(aligned, images, type_, endo))
    return classes


def _random_commutant_pair(
    rep: Rep, rng: np.random.Generator, columns: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """A random symmetric and a random general commutant element, and the number of random columns used.

    For a matrix rep whose group is small enough to average over: ``R(Z Zᵀ)`` and ``R(Z M Zᵀ)`` with ``Z`` of
    ``k`` random columns (default ``⌈2D/|G|⌉``, at least 2) and ``M`` a random ``k x k`` matrix, as
    ``(1/|G|) Σ_g (ρ(g)Z)(ρ(g)Z)ᵀ`` and ``(1/|G|) Σ_g (ρ(g)Z M)(ρ(g)Z)ᵀ``. ``ρ(g)Z`` follows the generators down
    the element tree, once for both samples, and each average is one ``D x |G|k`` product: ``4|G|k·D²`` flops
    instead of ``4|G|·D³`` for averaging full random matrices. An isotypic block of multiplicity ``m`` gets rank
    ``min(m, k·d/s)``, so the symmetric sample is singular when ``k < m·s/d``; adding as many columns as its
    nullity always suffices. Other reps average full random matrices (``k = 0`` is returned).
    """
    group, gens, d = rep.group, rep.generator_images, rep.size
    if as_permutations(gens) is None and _reynolds_affordable(group, d, len(gens)):
        k = max(2, columns or -(-2 * d // group.order))  # k = 1 would make R(Z M Zᵀ) a multiple of R(Z Zᵀ)
        if k < d:
            z = rng.standard_normal((d, k))
            mix = rng.standard_normal((k, k))
            w = np.empty((d, group.order, k))
            for idx, images in iter_images(group, gens, z):
                w[:, idx] = images.transpose(1, 0, 2)
            w1, w2 = w.reshape(d, -1), (w @ mix).reshape(d, -1)
            return w1 @ w1.T / group.order, w2 @ w1.T / group.order, k
    x = rng.standard_normal((2, d, d))
    x[0] = x[0] + x[0].T
    a, b = _commutant_samples(rep, x)
    return a, b, 0


def _commutant_samples(rep: Rep, x: np.ndarray) -> np.ndarray:
    """Project the matrices ``x`` (k, D, D) onto the commutant of ``rep``."""
    group, gens = rep.group, rep.generator_images
    d = rep.size
    perms = as_permutations(gens)
    if perms is not None and group.order * d * d * len(x) <= _REYNOLDS_FLOP_BUDGET:
        # ρ(g) X ρ(g)ᵀ for a permutation matrix is an index gather
        acc = np.zeros_like(x)
        for p in element_permutations(group, perms):
            inv = np.argsort(p)
            acc += x[:, inv][:, :, inv]
        return acc / group.order
    if _reynolds_affordable(group, d, len(gens)):
        return group_average(group, lambda s, y: gens[s] @ y @ gens[s].T, x)
    return np.stack([_walk_commutant(gens, gens, xi) for xi in x])


def _reynolds_affordable(group: Group, d: int, n_gens: int) -> bool:
    """Whether averaging over all elements beats the random walk over the generators.

    The walk needs a few hundred steps of ``4·|S|`` products for typical groups; the Reynolds average needs
    ``2·|G|`` products per sample, so it wins for ``|G|`` up to a few hundred times ``|S|``, or when cheap.
    """
    return group.order <= 256 * n_gens or group.order * d**3 <= _REYNOLDS_FLOP_BUDGET


def _walk_commutant(gens_out: np.ndarray, gens_in: np.ndarray, x: np.ndarray, max_iter: int = 20000) -> np.ndarray:
    """Project ``x`` onto ``{T : gens_out[s] T = T gens_in[s]}`` by a lazy random walk over the generators."""
    n = len(gens_out)
    scale = max(float(np.abs(x).max()), 1e-300)
    best = np.inf
    for _ in range(max_iter):
        err = max(float(np.abs(go @ x - x @ gi).max()) for go, gi in zip(gens_out, gens_in, strict=False))
        # Stopping at 1e-13 leaves Q off by up to ~1e-9 (eigenvectors amplify the residual by 1/gap):
        # once below it, keep iterating down to the rounding floor (until the residual stops decreasing).
        if err <= 1e-13 * scale and err >= best:
            return x
        best = min(best, err)
        step = sum(go @ x @ gi.T + go.T @ x @ gi for go, gi in zip(gens_out, gens_in, strict=False)) / (2 * n)
        x = 0.5 * (x + step)
    if best <= 1e-13 * scale:
        return x
    raise _Retry("the commutant iteration did not converge")


def _intertwiners(images_out: np.ndarray, images_in: np.ndarray) -> np.ndarray:
    """Orthonormal basis of ``{T : A_s T = T B_s for all s}`` (Frobenius), shape (k, d_out, d_in)."""
    d_out, d_in = images_out.shape[1], images_in.shape[1]
    if d_out * d_in <= 1600:
        # vec(A T Bᵀ) = (A ⊗ B) vec(T); the condition is A_s T B_sᵀ = T for orthogonal B_s.
        eye = np.eye(d_out * d_in)
        system = np.concatenate([np.kron(a, b) - eye for a, b in zip(images_out, images_in, strict=False)])
        _, sv, vt = np.linalg.svd(system, full_matrices=True)
        rank = int(np.sum(sv > tolerances.RANK * max(1.0, sv.max(initial=0.0))))
        return vt[rank:].reshape(-1, d_out, d_in)
    rng = np.random.default_rng(1234)
    samples = [_walk_commutant(images_out, images_in, rng.standard_normal((d_out, d_in))) for _ in range(5)]
    flat = np.stack([s.ravel() for s in samples])
    _u, sv, vt = np.linalg.svd(flat, full_matrices=False)
    rank = int(np.sum(sv > tolerances.RANK * sv.max()))
    return vt[:rank].reshape(-1, d_out, d_in)


def _match_registry(group: Group, cls: _Class) -> tuple[Irrep | None, np.ndarray | None]:
    """The registered irrep equivalent to ``cls`` and an orthogonal ``T`` with ``T ρ_cls Tᵀ = ρ_irrep``."""
    for irrep in group._irreps:
        if irrep.dim != cls.dim or irrep.type != cls.type:
            continue
        if cls.dim == 1:
            if np.allclose(irrep.generator_images, cls.images, atol=tolerances.RANK):
                return irrep, np.eye(1)
            continue
        ts = _intertwiners(irrep.generator_images, cls.images)
        if len(ts):
            t = ts[0] / np.sqrt(np.trace(ts[0] @ ts[0].T) / cls.dim)
            return irrep, t
    return None, None


def _character(group: Group, images: np.ndarray) -> np.ndarray:
    return np.trace(all_matrices(group, images), axis1=1, axis2=2)
