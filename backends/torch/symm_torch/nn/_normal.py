"""EquivMultivariateNormal: a G-equivariant Gaussian head."""

from __future__ import annotations

from typing import Any

import symm
import torch
import torch.nn.functional as F
from symm.internal import cholesky_layout

from symm_torch._escnn import is_field_type, split_input, wrap_output
from symm_torch._reps import alias
from symm_torch.nn._base import EquivariantModule

__all__ = ["EquivMultivariateNormal", "eMultivariateNormal"]


def mean_and_factor(
    z: torch.Tensor,
    Q: torch.Tensor,
    src: torch.Tensor,
    coeff: torch.Tensor,
    diag_mask: torch.Tensor,
    diag_offset: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(μ, A)`` from ``z = [μ, p]`` (..., D + n) with ``Σ = A Aᵀ + εI``, ``A = Q L`` and ``L`` the lower
    triangular isotypic factor: torch-only code, shared with the exported module."""
    D = Q.shape[0]
    mean, p = z[..., :D], z[..., D:]
    p = torch.where(diag_mask, F.softplus(p) + diag_offset, p)
    p = torch.cat([p, torch.zeros_like(p[..., :1])], dim=-1)
    flat = p.reshape(-1, p.shape[-1])[:, src]  # (N, D², t)
    L = (flat * coeff).sum(-1).reshape(list(z.shape[:-1]) + [D, D])  # noqa: RUF005 (TorchScript) ⊕_k Σ_b L_{k,b} ⊗ E_b
    return mean, Q @ L


def mean_and_covariance(
    z: torch.Tensor,
    Q: torch.Tensor,
    src: torch.Tensor,
    coeff: torch.Tensor,
    diag_mask: torch.Tensor,
    diag_offset: float,
    min_var: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(μ, Σ)`` from ``z = [μ, p]`` (..., D + n): torch-only code, shared with the exported module."""
    mean, A = mean_and_factor(z, Q, src, coeff, diag_mask, diag_offset)
    D = Q.shape[0]
    cov = A @ A.transpose(-1, -2) + min_var * torch.eye(D, dtype=z.dtype, device=z.device)
    return mean, cov


def scale_tril_of(A: torch.Tensor, min_var: float) -> torch.Tensor:
    """A lower-triangular ``S`` with a positive diagonal and ``S Sᵀ = A Aᵀ + εI``, without forming ``Σ``.

    ``M = [A, √ε I]`` has ``M Mᵀ = Σ``; the QR factorisation ``Mᵀ = U R`` gives ``Σ = Rᵀ R``, and flipping the
    signs of the rows of ``R`` makes its diagonal positive. QR is backward stable on ``M``, so rounding is
    relative to ``‖A‖`` rather than to ``‖A‖²`` as in a Cholesky factorisation of the assembled ``Σ``: in
    float32 the factor exists for any finite input, however ill-conditioned ``Σ`` is.
    """
    D = A.shape[-1]
    eye = torch.eye(D, dtype=A.dtype, device=A.device).expand(A.shape)
    M = torch.cat([A, eye * min_var**0.5], dim=-1) if min_var > 0 else A
    R = torch.linalg.qr(M.transpose(-1, -2), mode="reduced")[1]  # (..., D, D) upper triangular
    d = torch.diagonal(R, dim1=-2, dim2=-1)
    sign = torch.where(d < 0, -torch.ones_like(d), torch.ones_like(d))
    S = (R * sign[..., :, None]).transpose(-1, -2)  # Rᵀ with a non-negative diagonal
    tiny = torch.finfo(A.dtype).tiny
    return S - torch.diag_embed(torch.diagonal(S, dim1=-2, dim2=-1)) + torch.diag_embed(d.abs().clamp_min(tiny))


class _ExportedNormal(torch.nn.Module):
    """Torch-only ``z ↦ (μ, Σ)``; exported through ``torch.jit.script``."""

    def __init__(
        self,
        Q: torch.Tensor,
        src: torch.Tensor,
        coeff: torch.Tensor,
        diag_mask: torch.Tensor,
        diag_offset: float,
        min_var: float,
    ) -> None:
        super().__init__()
        self.register_buffer("Q", Q.clone())
        self.register_buffer("src", src.clone())
        self.register_buffer("coeff", coeff.clone())
        self.register_buffer("diag_mask", diag_mask.clone())
        self.diag_offset = diag_offset
        self.min_var = min_var

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return mean_and_covariance(z, self.Q, self.src, self.coeff, self.diag_mask, self.diag_offset, self.min_var)


class EquivMultivariateNormal(EquivariantModule):
    r"""A G-equivariant multivariate normal ``y ~ N(μ(x), Σ(x))`` parameterised by ``z = [μ, p]``.

    ``μ ∈ R^D`` transforms by ``ρ_y`` (``out_rep``); the ``n_cov_params`` entries of ``p`` are invariant
    (``in_rep`` is ``ρ_y ⊕ trivial^n``). The covariance lies in the commutant of ``ρ_y``, so
    ``ρ_y(g) Σ ρ_y(g)ᵀ = Σ`` and ``P(y | x) = P(ρ_y(g) y | ρ_x(g) x)`` when ``z`` comes from an equivariant
    network:

    .. math::

        \Sigma = Q \Bigl(\bigoplus_k L_k L_k^\top\Bigr) Q^\top + \varepsilon I, \qquad
        L_k = \sum_b L_{k,b} \otimes E_{k,b}

    - ``diagonal=True``: ``L_k = diag(σ_{k,1..m_k}) ⊗ I_{d_k}``, one standard deviation per irreducible copy,
      ``σ = softplus(p) + δ``: ``Σ = Q diag(σ² ⊗ I_d) Qᵀ + εI``; ``n_cov_params`` is the number of copies.
    - ``diagonal=False``: a Cholesky factor over ``R``, ``C`` or ``H`` per isotypic component: ``L_{k,0}``
      lower triangular with a positive diagonal ``softplus(p) + δ`` and the other ``L_{k,b}`` strictly lower
      triangular. ``L_k`` is then invertible and ``L_k L_kᵀ`` is the general positive-definite element of the
      commutant (``n_cov_params = symm.invariant_sym_dim(ρ_y)``).

    Parameters
    ----------
    out_rep : symm.Rep or escnn FieldType
        Representation of ``y``, the output (size ``D``). ``y_type`` (its symm-torch 0.1 name) and ``out_type``
        are keyword aliases. ``in_rep``, the rep of ``z``, is derived: ``out_rep ⊕ trivial^{n_cov_params}``.
    diagonal : bool
        Per-copy variances (default) or the full invariant covariance.
    min_var : float
        ``ε``, added to the covariance's diagonal (keeps it well conditioned).
    min_std : float
        ``δ``, added to the softplus of the diagonal Cholesky entries.

    Notes
    -----
    ``z``: ``(..., D + n_cov_params)``. :meth:`forward` (and its 0.2.6 name :meth:`get_distribution`) returns the
    ``torch.distributions.MultivariateNormal`` with ``loc`` ``(..., D)`` and ``scale_tril`` ``(..., D, D)``;
    :meth:`mean_and_covariance` returns ``(μ (..., D), Σ (..., D, D))``, as the exported module does.

    Positive definite by construction: the diagonal of each ``L_{k,0}`` is ``softplus(p) + δ > 0``, and the
    distribution's ``scale_tril`` comes from a QR factorisation of ``[Q L, √ε I]ᵀ`` (backward stable), not
    from a Cholesky factorisation of the assembled ``Σ``, which fails in float32 once ``Σ``'s condition number
    passes about ``10⁷``. ``log_prob`` is invariant: ``log p(ρ_y(g) y | ρ_z(g) z) = log p(y | z)``.

    Examples
    --------
    >>> import torch, symm
    >>> from symm_torch.nn import EquivMultivariateNormal
    >>> G = symm.groups.cyclic(3)
    >>> head = EquivMultivariateNormal(G.regular_rep(), diagonal=False)
    >>> head.in_rep.size, head.n_cov_params  # mean (3) + one variance per isotypic component (2)
    (5, 2)
    >>> head(torch.randn(4, 5)).sample().shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        out_rep: Any = None,
        diagonal: bool = True,
        min_var: float = 1e-6,
        min_std: float = 1e-3,
        *,
        y_type: Any = None,
        out_type: Any = None,
    ) -> None:
        out_rep = alias(out_rep, y_type, ("out_rep", "y_type"), required=False)
        super().__init__(out_rep=out_rep, out_type=out_type, required=("out_rep",))
        if not isinstance(diagonal, bool):
            raise TypeError(f"diagonal must be a bool, got {diagonal!r}")
        if not (min_var >= 0 and min_std >= 0):
            raise ValueError(f"min_var and min_std must be >= 0, got min_var={min_var}, min_std={min_std}")
        self.y_type, self.y_rep = self.out_type, self.out_rep
        y_type = self.y_type
        self.diagonal = diagonal
        self.min_var, self.min_std = float(min_var), float(min_std)
        src, coeff, diag_mask = cholesky_layout(self.y_rep, diagonal)
        self.n_cov_params = len(diag_mask)
        G = self.y_rep.group
        self.in_rep = symm.direct_sum(self.y_rep, G.trivial_rep(self.n_cov_params))
        self.in_type = self.in_rep
        if is_field_type(y_type):
            trivial = y_type.gspace.fibergroup.trivial_representation
            self.in_type = type(y_type)(y_type.gspace, list(y_type.representations) + [trivial] * self.n_cov_params)
        self._register_constant("Q", self.y_rep.change_of_basis)
        self._register_constant("src", src)
        self._register_constant("coeff", coeff)
        self.register_buffer("diag_mask", torch.as_tensor(diag_mask), persistent=False)

    def _check_z(self, z: Any) -> None:
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        if z.ndim < 1 or z.shape[-1] != self.in_rep.size:
            raise ValueError(
                f"z must have {self.in_rep.size} features (D={self.y_rep.size} mean entries + "
                f"{self.n_cov_params} covariance parameters) on its last axis, got shape {tuple(z.shape)}"
            )
        if not z.is_floating_point() or z.dtype != self.Q.dtype:
            raise TypeError(
                f"z has dtype {z.dtype} but this module computes in {self.Q.dtype}; convert the input "
                f"(z.to({self.Q.dtype})) or the module (module.to({z.dtype}))"
            )

    def _forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, S)``: the mean and a lower-triangular scale with a positive diagonal, ``S Sᵀ = Σ``."""
        self._check_z(z)
        mean, A = mean_and_factor(z, self.Q, self.src, self.coeff, self.diag_mask, self.min_std)
        return mean, scale_tril_of(A, self.min_var)

    def _tensor(self, z: Any) -> tuple[torch.Tensor, Any]:
        if isinstance(z, torch.Tensor):
            return z, None
        return split_input(z, self.in_rep, self.in_type, "z")

    def forward(self, z: Any) -> torch.distributions.MultivariateNormal:
        """The ``MultivariateNormal`` of mean ``μ(z)`` and covariance ``Σ(z)`` (symm-learning 0.8.1's forward).

        ``z`` is a tensor or a ``GeometricTensor`` of ``in_type``. The distribution is built from a
        lower-triangular ``scale_tril`` with a positive diagonal, never from a Cholesky factorisation of
        ``Σ``, so it exists for every finite ``z`` in float32 as in float64.
        """
        mean, scale_tril = self._forward(self._tensor(z)[0])
        return torch.distributions.MultivariateNormal(loc=mean, scale_tril=scale_tril)

    def get_distribution(self, z: Any) -> torch.distributions.MultivariateNormal:
        """The same as :meth:`forward` (the symm-learning 0.2.6 name)."""
        return self.forward(z)

    def mean_and_covariance(self, z: Any) -> tuple[Any, torch.Tensor]:
        """``(μ, Σ)``, what :meth:`export` computes; ``μ`` is a ``GeometricTensor`` of ``out_type`` if ``z`` is one."""
        tensor, like = self._tensor(z)
        self._check_z(tensor)
        mean, cov = mean_and_covariance(
            tensor, self.Q, self.src, self.coeff, self.diag_mask, self.min_std, self.min_var
        )
        return (mean if like is None else wrap_output(mean, like, self.out_type, self.out_rep)), cov

    def export(self) -> torch.jit.ScriptModule:
        """A TorchScript module ``z ↦ (μ, Σ)`` (runs without symm; save it with ``torch.jit.save``)."""
        return torch.jit.script(
            _ExportedNormal(self.Q, self.src, self.coeff, self.diag_mask, self.min_std, self.min_var)
        )

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, diagonal={self.diagonal}, n_cov_params={self.n_cov_params}"


class eMultivariateNormal(EquivMultivariateNormal):
    """:class:`EquivMultivariateNormal` under symm-learning 0.8.1's name and keywords:
    ``eMultivariateNormal(out_rep, diagonal=True)``; ``forward(z)`` returns the distribution.

    Notes
    -----
    ``z``: ``(..., D + n_cov_params)``; samples ``(..., D)``.
    """

    def __init__(
        self, out_rep: Any = None, diagonal: bool = True, min_var: float = 1e-6, min_std: float = 1e-3, **aliases: Any
    ) -> None:
        super().__init__(out_rep, diagonal=diagonal, min_var=min_var, min_std=min_std, **aliases)
