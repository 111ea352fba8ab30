"""Exact quadrature rules for Haar integrals over SO(2), O(2), SO(3) and O(3), for the compact-group oracles.

A rule is a finite set of nodes ``g_j`` with positive weights ``w_j`` (summing to 1) such that
``Σ_j w_j f(g_j) = ∫_G f(g) dg`` *exactly* (to rounding) for every ``f`` in the span of the matrix entries of
the irreps of band at most ``band``: frequencies ``|k| ≤ band`` on SO(2)/O(2), degrees ``l ≤ band`` on
SO(3)/O(3). No Monte Carlo anywhere.

- SO(2): ``N = band + 1`` equally spaced angles ``θ_j = 2πj/N``. ``(1/N) Σ_j e^{ikθ_j}`` is 0 for
  ``0 < |k| < N``, which is exactly the Haar average of ``e^{ikθ}``.
- SO(3): ZYZ Euler angles ``g = R_z(α) R_y(β) R_z(γ)``, Haar measure ``sin β dα dβ dγ / 8π²``. The Wigner
  entries are ``D^l_{mn}(g) = e^{-imα} d^l_{mn}(β) e^{-inγ}``. ``N = band + 1`` equally spaced ``α`` and ``γ``
  kill every ``m ≠ 0`` / ``n ≠ 0`` term exactly (``|m|, |n| ≤ band < N``), and what is left, ``d^l_{00}(β) =
  P_l(cos β)``, is a polynomial of degree ``l ≤ band`` in ``cos β``: Gauss–Legendre with ``⌈(band+1)/2⌉``
  nodes in ``cos β`` (exact to degree ``2n−1``) integrates it exactly.
- O(2) / O(3): the rule of SO(2) / SO(3) on both cosets, ``g`` and ``g·h`` with the discrete generator ``h``
  (O(2)'s reflection, O(3)'s inversion), each with half the weight.

The band of an integrand is what matters: ``ρ(g)`` has the band of ``ρ``; ``ρ_y(g) A ρ_x(g)ᵀ`` (covariances,
the Reynolds projection) has band ``band(ρ_x) + band(ρ_y)``, since it is an entry of ``ρ_y ⊗ ρ_x``.

A rule stores its nodes as products of one-parameter subgroups, ``exp(t_1 X_{a_1}) ⋯ exp(t_r X_{a_r}) h^f``,
so :meth:`Rule.evaluate` gives ``ρ(g_j)`` of any rep straight from its images ``dρ(X_i)`` and ``ρ(h)``, by
matrix exponentials: independent of symm's evaluation (``rep(g)``) and of its isotypic decomposition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # an independent matrix exponential (Padé, scaling and squaring)
    from scipy.linalg import expm as _scipy_expm
except ImportError:  # pragma: no cover - scipy is in the test environment
    _scipy_expm = None

__all__ = ["Rule", "band_of", "expm", "haar_rule", "taylor_expm"]

#: Lie basis indices of the one-parameter factors of a node: SO(2) exp(θL); SO(3) R_z(α) R_y(β) R_z(γ)
_AXES = {"so2": (0,), "o2": (0,), "so3": (2, 1, 2), "o3": (2, 1, 2)}
_KINDS = {"SO(2)": "so2", "O(2)": "o2", "SO(3)": "so3", "O(3)": "o3"}


def expm(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` of real square matrices ``(..., d, d)``: ``scipy.linalg.expm`` where scipy imports, else
    :func:`taylor_expm`."""
    a = np.asarray(a, dtype=np.float64)
    if _scipy_expm is not None:
        return np.asarray(_scipy_expm(a))
    return taylor_expm(a)  # pragma: no cover - scipy is in the test environment


def taylor_expm(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` by scaling and squaring: the Taylor series of ``a / 2^s`` (norm below 1/2) to 30 terms, then
    ``s`` squarings. Accurate to rounding for the moderate norms of the tests; no eigensolver involved."""
    a = np.asarray(a, dtype=np.float64)
    norm = float(np.abs(a).sum(axis=-1).max(initial=0.0))
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0 else 0
    b = a / 2.0**s
    out = term = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
    for k in range(1, 30):
        term = term @ b / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


def band_of(images: np.ndarray, n_lie: int) -> int:
    """The band of a rep from its images: the largest ``|λ|`` of the eigenvalues ``iλ`` of the torus generator
    ``dρ(L)`` (SO(2)/O(2): the highest frequency) or ``dρ(L_z)`` (SO(3)/O(3): the highest weight, which is the
    highest degree ``l``)."""
    torus = np.asarray(images, dtype=np.float64)[n_lie - 1]
    return round(float(np.abs(np.linalg.eigvalsh(1j * torus)).max(initial=0.0)))


@dataclass(frozen=True)
class Rule:
    """A quadrature rule on a compact group.

    Attributes
    ----------
    kind : str
        ``"so2"``, ``"o2"``, ``"so3"`` or ``"o3"``.
    band : int
        The rule is exact for integrands of band at most this.
    axes : tuple of int
        Lie basis indices ``a_1, …, a_r`` of the one-parameter factors of every node.
    angles : ndarray, shape (n, r)
        ``t`` of node ``j``: ``g_j = exp(t_{j1} X_{a_1}) ⋯ exp(t_{jr} X_{a_r}) h^{flips_j}``.
    flips : ndarray of bool, shape (n,)
        Whether node ``j`` lies in the coset of the discrete generator ``h`` (always False on SO(n)).
    weights : ndarray, shape (n,)
        Positive, summing to 1.
    """

    kind: str
    band: int
    axes: tuple[int, ...]
    angles: np.ndarray
    flips: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.weights)

    def evaluate(self, images: np.ndarray) -> np.ndarray:
        """``ρ(g_j)`` for every node, shape (n, D, D), from the images of a rep (``dρ(X_i)`` for each Lie basis
        element, then ``ρ(h)``), by matrix exponentials of the images. Pass the group's ``lie_basis`` and
        ``discrete_generators`` (concatenated) to get the defining matrices of the nodes."""
        images = np.asarray(images, dtype=np.float64)
        n_lie = max(self.axes) + 1
        out = np.broadcast_to(np.eye(images.shape[1]), (len(self), *images.shape[1:])).copy()
        for col, axis in enumerate(self.axes):
            # the grids are products: exponentiate each distinct angle of this factor once
            values, where = np.unique(self.angles[:, col], return_inverse=True)
            factors = expm(values[:, None, None] * images[axis])
            out = out @ factors[where.ravel()]
        if self.flips.any():
            out[self.flips] = out[self.flips] @ images[n_lie]
        return out

    def integrate(self, values: np.ndarray) -> np.ndarray:
        """``Σ_j w_j values[j]``: the Haar integral of an integrand sampled at the nodes (axis 0)."""
        return np.tensordot(self.weights, np.asarray(values, dtype=np.float64), axes=1)


def _torus(n: int) -> np.ndarray:
    return 2.0 * np.pi * np.arange(n) / n


def haar_rule(kind: str, band: int) -> Rule:
    """The product rule of the module docstring for group ``kind`` (``"so2"``, ``"o2"``, ``"so3"``, ``"o3"``,
    or a group's name such as ``"SO(3)"``), exact for integrands of band at most ``band``.

    Sizes: SO(2) ``band + 1`` nodes; SO(3) ``(band + 1)² · ⌈(band + 1)/2⌉``; O(n) twice that of SO(n).
    """
    kind = _KINDS.get(kind, kind)
    if kind not in _AXES:
        raise ValueError(f"unknown group {kind!r}")
    if band < 0:
        raise ValueError(f"band must be >= 0, got {band}")
    n = band + 1
    if kind in ("so2", "o2"):
        angles = _torus(n)[:, None]
        weights = np.full(n, 1.0 / n)
    else:
        nodes, gl_weights = np.polynomial.legendre.leggauss((band + 2) // 2)  # exact to degree 2·⌈n/2⌉−1 ≥ band
        alpha, beta, gamma = np.meshgrid(_torus(n), np.arccos(nodes), _torus(n), indexing="ij")
        angles = np.stack([alpha.ravel(), beta.ravel(), gamma.ravel()], axis=1)
        weights = np.broadcast_to(gl_weights[None, :, None] / 2.0 / n**2, alpha.shape).ravel().copy()
    flips = np.zeros(len(weights), dtype=bool)
    if kind in ("o2", "o3"):  # both cosets, half the weight each
        angles = np.concatenate([angles, angles])
        flips = np.concatenate([flips, ~flips])
        weights = np.concatenate([weights, weights]) / 2.0
    return Rule(kind, int(band), _AXES[kind], angles, flips, weights)
