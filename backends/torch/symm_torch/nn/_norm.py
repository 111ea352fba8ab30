"""Invariant bias, equivariant affine maps and normalisation layers: InvariantBias, eAffine, eLayerNorm,
eRMSNorm and eBatchNorm1d.

All work in the isotypic basis ``z = Qᵀ x``, where ``ρ(g) = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``: a scale shared by the
``d_k`` coordinates of one irreducible copy commutes with every ``ρ(g)``, and so does any function of the
copy norms. Features are on the last axis, ``(..., D)``, as in symm-learning 0.8.1. Every constructor takes
the rep as ``in_rep`` (keyword alias ``in_type``, escnn's name); ``out_rep`` is the same rep.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import symm
import torch
from symm.internal import copy_index, invariant_basis

from symm_torch._escnn import split_input, wrap_output
from symm_torch.nn._base import EquivariantModule

__all__ = ["AFFINE_INIT_SCHEMES", "InvariantBias", "eAffine", "eBatchNorm1d", "eLayerNorm", "eRMSNorm"]

AFFINE_INIT_SCHEMES = ("identity", "random")


def _require_invariants(rep: symm.Rep, what: str) -> np.ndarray:
    q = invariant_basis(rep)
    if q.shape[1] == 0:
        raise ValueError(
            f"{what}: {rep.name} has no trivial irrep, so its invariant subspace (Hom_G(trivial, rep)) has "
            "dimension 0 and an invariant bias would be identically zero; add a trivial copy or use bias=False"
        )
    return q


class InvariantBias(EquivariantModule):
    r"""Add a learnable ``G``-invariant bias: ``y = x + Q_{triv} β``, ``β ∈ R^{m_{triv}}``.

    ``ρ(g) Q_triv β = Q_triv β`` for every ``g``, so the layer is equivariant. ``bias_params`` holds one number
    per trivial copy (zero-initialised).

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of the features (size ``D``). It must contain the trivial irrep, otherwise the only
        invariant bias is zero and ``ValueError`` is raised.

    Notes
    -----
    Input ``(..., D)``; output ``(..., D)``.
    """

    _features_last = True

    def __init__(self, in_rep: Any = None, *, in_type: Any = None) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        self.out_type, self.out_rep = self.in_type, self.in_rep
        q = _require_invariants(self.in_rep, "InvariantBias")
        self._register_constant("Q_inv", q)
        self.bias_params = torch.nn.Parameter(torch.zeros(q.shape[1]))

    @property
    def bias(self) -> torch.Tensor:
        """The invariant bias vector, shape (D,)."""
        return self.Q_inv @ self.bias_params

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        return x + self.bias

    def export(self) -> torch.nn.Linear:
        """A ``torch.nn.Linear`` with identity weight and the bias (the same outputs: ``1·x + 0·… = x``)."""
        b = self.bias.detach()
        D = self.in_rep.size
        lin = torch.nn.Linear(D, D, device=b.device, dtype=b.dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.eye(D, dtype=b.dtype, device=b.device))
            lin.bias.copy_(b)
        return lin


def _affine(
    x: torch.Tensor, Q: torch.Tensor, idx: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None
) -> torch.Tensor:
    """``Q diag(scale[idx]) Qᵀ x + bias``: torch-only, shared with the exported FiLM module."""
    z = (x @ Q) * torch.index_select(scale, -1, idx)
    y = z @ Q.transpose(0, 1)
    return y if bias is None else y + bias


class _ExportedFiLM(torch.nn.Module):
    """Torch-only ``(x, scale, bias) ↦ eAffine`` with external scale and bias; exported through TorchScript."""

    def __init__(self, Q: torch.Tensor, idx: torch.Tensor, Q_inv: torch.Tensor | None) -> None:
        super().__init__()
        self.register_buffer("Q", Q.detach().clone())
        self.register_buffer("idx", idx.clone())
        self.has_bias = Q_inv is not None
        self.register_buffer("Q_inv", Q_inv.detach().clone() if Q_inv is not None else torch.zeros(0))

    def forward(self, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        b: torch.Tensor | None = None
        if self.has_bias and bias is not None:
            b = bias @ self.Q_inv.transpose(0, 1)
        return _affine(x, self.Q, self.idx, scale, b)


class eAffine(EquivariantModule):
    r"""An equivariant affine map: one scale per irreducible copy and an invariant bias.

    .. math::

        y = Q \,\mathrm{diag}(s_{c(1)}, …, s_{c(D)})\, Q^\top x + Q_{triv}\, β

    with ``c(i)`` the irreducible copy of isotypic coordinate ``i``. A scale shared by the coordinates of one
    copy commutes with ``ρ̂_k(g)``, so ``y`` is equivariant.

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of the features (size ``D``, ``n`` irreducible copies, ``m_triv`` trivial ones).
    bias : bool
        Add an invariant bias (``m_triv`` numbers). ``ValueError`` if ``in_rep`` has no trivial copy.
    learnable : bool
        ``True``: ``scale_params`` (n,) and ``bias_params`` (m_triv,) are parameters. ``False`` (FiLM style):
        ``forward(x, scale, bias)`` takes them per sample.
    init_scheme : {"identity", "random"}
        ``"identity"``: scales 1, bias 0. ``"random"``: scales ``1 + 0.1 N(0, 1)`` and bias ``0.1 N(0, 1)``.

    Notes
    -----
    Input ``(..., D)``; output ``(..., D)``. With ``learnable=False``: ``scale`` of shape ``(..., n)`` and
    ``bias`` of shape ``(..., m_triv)`` (or ``None``), broadcastable against the input's leading axes.
    """

    _features_last = True

    def __init__(
        self,
        in_rep: Any = None,
        bias: bool = True,
        learnable: bool = True,
        init_scheme: str = "identity",
        *,
        in_type: Any = None,
    ) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        self.out_type, self.out_rep = self.in_type, self.in_rep
        for name, v in (("bias", bias), ("learnable", learnable)):
            if not isinstance(v, bool):
                raise TypeError(f"{name} must be a bool, got {v!r}")
        if init_scheme not in AFFINE_INIT_SCHEMES:
            raise ValueError(f"init_scheme must be one of {AFFINE_INIT_SCHEMES}, got {init_scheme!r}")
        self.learnable, self.init_scheme, self.has_bias = learnable, init_scheme, bias
        self.n_copies = len(self.in_rep.irreps)
        self._register_constant("Q", self.in_rep.change_of_basis)
        self._register_constant("idx", copy_index(self.in_rep))
        self.n_bias = 0
        if bias:
            q = _require_invariants(self.in_rep, "eAffine(bias=True)")
            self._register_constant("Q_inv", q)
            self.n_bias = q.shape[1]
        if learnable:
            self.scale_params = torch.nn.Parameter(torch.ones(self.n_copies))
            self.bias_params = torch.nn.Parameter(torch.zeros(self.n_bias)) if bias else None
            self.reset_parameters()

    def reset_parameters(self) -> None:
        """Scales and bias from ``init_scheme``."""
        if not self.learnable:
            return
        with torch.no_grad():
            self.scale_params.fill_(1.0)
            if self.init_scheme == "random":
                self.scale_params.add_(0.1 * torch.randn_like(self.scale_params))
            if self.bias_params is not None:
                self.bias_params.zero_()
                if self.init_scheme == "random":
                    self.bias_params.add_(0.1 * torch.randn_like(self.bias_params))

    def forward(self, x: Any, scale: torch.Tensor | None = None, bias: torch.Tensor | None = None) -> Any:
        """``x`` a tensor or ``GeometricTensor``; ``scale`` and ``bias`` only when ``learnable=False``."""
        if self.learnable and (scale is not None or bias is not None):
            raise TypeError("this eAffine is learnable: its scale and bias are parameters, not inputs")
        if not self.learnable and scale is None:
            raise TypeError("eAffine(learnable=False) needs forward(x, scale, bias)")
        if isinstance(x, torch.Tensor):
            return self._affine_of(x, scale, bias)
        tensor, like = split_input(x, self.in_rep, self.in_type)
        out = self._affine_of(tensor.movedim(1, -1), scale, bias).movedim(-1, 1)
        return wrap_output(out, like, self.out_type, self.out_rep)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._affine_of(x, None, None)

    def _affine_of(self, x: torch.Tensor, scale: torch.Tensor | None, beta: torch.Tensor | None) -> torch.Tensor:
        self._check_features(x, -1)
        if self.learnable:
            scale, beta = self.scale_params, self.bias_params
        else:
            if not isinstance(scale, torch.Tensor) or scale.shape[-1:] != (self.n_copies,):
                raise ValueError(
                    f"scale must have {self.n_copies} entries (one per irreducible copy) on its last axis, got "
                    f"{tuple(scale.shape) if isinstance(scale, torch.Tensor) else type(scale).__name__}"
                )
            if beta is not None and not self.has_bias:
                raise TypeError("this eAffine was built with bias=False; pass bias=None")
            if beta is not None and beta.shape[-1:] != (self.n_bias,):
                raise ValueError(
                    f"bias must have {self.n_bias} entries (one per trivial copy) on its last axis, got "
                    f"{tuple(beta.shape)}"
                )
        b = None if beta is None else beta @ self.Q_inv.transpose(0, 1)
        if self.learnable:  # one (D, D) product: A = Q diag(s) Qᵀ is symmetric
            A = (self.Q * torch.index_select(scale, 0, self.idx)) @ self.Q.transpose(0, 1)
            y = x @ A
            return y if b is None else y + b
        return _affine(x, self.Q, self.idx, scale, b)

    def matrix(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(A (D, D), b (D,) or None)`` of the learnable map ``y = A x + b``."""
        if not self.learnable:
            raise TypeError("eAffine(learnable=False) has no fixed matrix; its scale comes with the input")
        A = (self.Q * torch.index_select(self.scale_params, 0, self.idx)) @ self.Q.T
        b = None if self.bias_params is None else self.Q_inv @ self.bias_params
        return A, b

    def export(self) -> torch.nn.Module:
        """``torch.nn.Linear`` (learnable) or a TorchScript ``(x, scale, bias) ↦ y`` module (FiLM)."""
        if not self.learnable:
            return torch.jit.script(_ExportedFiLM(self.Q, self.idx, self.Q_inv if self.has_bias else None))
        A, b = self.matrix()
        D = self.in_rep.size
        lin = torch.nn.Linear(D, D, bias=b is not None, device=A.device, dtype=A.dtype)
        with torch.no_grad():
            lin.weight.copy_(A)
            if b is not None:
                lin.bias.copy_(b)
        return lin


def _check_eps(eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
        raise ValueError(f"eps must be a number >= 0, got {eps!r}")
    return float(eps)


class _ExportedNorm(torch.nn.Module):
    """Torch-only eLayerNorm / eRMSNorm (with the affine folded into a ``Linear``)."""

    def __init__(self, P_inv: torch.Tensor | None, eps: float, affine: torch.nn.Module | None) -> None:
        super().__init__()
        self.center = P_inv is not None
        self.register_buffer("P_inv", P_inv.detach().clone() if P_inv is not None else torch.zeros(0))
        self.eps = eps
        self.affine = affine if affine is not None else torch.nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.center:
            x = x - x @ self.P_inv
        x = x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps)
        return self.affine(x)


class eRMSNorm(EquivariantModule):
    r"""Equivariant RMS normalisation: ``y = affine(x / sqrt(‖x‖² / D + ε))``.

    ``‖ρ(g) x‖ = ‖x‖`` for an orthogonal ``ρ``, so dividing by the root mean square of all ``D`` features is
    equivariant; the optional affine map is an :class:`eAffine` without bias (one scale per irreducible
    copy).

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
    eps : float
    equiv_affine : bool
        Follow with a learnable :class:`eAffine` (``bias=False``).
    init_scheme : {"identity", "random"}
        Of the affine map.

    Notes
    -----
    Input ``(..., D)``; output ``(..., D)``.
    """

    _features_last = True
    _center = False

    def __init__(
        self,
        in_rep: Any = None,
        eps: float = 1e-6,
        equiv_affine: bool = True,
        init_scheme: str = "identity",
        bias: bool = False,
        *,
        in_type: Any = None,
    ) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        self.out_type, self.out_rep = self.in_type, self.in_rep
        self.eps = _check_eps(eps)
        if not isinstance(equiv_affine, bool):
            raise TypeError(f"equiv_affine must be a bool, got {equiv_affine!r}")
        if self._center:  # no trivial copy: centring removed nothing, so there is nothing to add back
            bias = bias and invariant_basis(self.in_rep).shape[1] > 0
        self.affine = eAffine(self.in_rep, bias=bias, init_scheme=init_scheme) if equiv_affine else None
        if self._center:
            self._register_constant("P_inv", symm.invariant_orthogonal_projector(self.in_rep))
            self._register_constant("Q_triv", invariant_basis(self.in_rep))

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        if self._center:  # P_inv x = Q_triv (Q_trivᵀ x): two thin products instead of a (D, D) one
            x = x - (x @ self.Q_triv) @ self.Q_triv.transpose(0, 1)
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + self.eps)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        y = self._normalise(x)
        return y if self.affine is None else self.affine(y)

    def export(self) -> torch.jit.ScriptModule:
        """A TorchScript module (runs without symm): the normalisation, then the affine map as a ``Linear``."""
        return torch.jit.script(
            _ExportedNorm(
                self.P_inv if self._center else None, self.eps, None if self.affine is None else self.affine.export()
            )
        )


class eLayerNorm(eRMSNorm):
    r"""Equivariant layer normalisation, centred by the invariant mean.

    .. math::

        x_c = x - P_{inv} x, \qquad y = \mathrm{affine}\Bigl(\frac{x_c}{\sqrt{‖x_c‖² / D + ε}}\Bigr)

    with ``P_inv = Q_triv Q_trivᵀ`` (:func:`symm.invariant_orthogonal_projector`), the orthogonal projection on
    the invariant subspace. Both steps commute with ``ρ(g)``. For a permutation rep with one trivial copy
    (e.g. the regular rep) ``P_inv x`` is the mean of the features times the all-ones vector, so without the
    affine map this *is* ``torch.nn.functional.layer_norm``.

    The choice, and how it differs from symm-learning 0.8.1: ``torch.nn.LayerNorm`` subtracts the mean of
    the features, which is not equivariant for a general rep. Its equivariant analogue subtracts the
    invariant component, which is what this layer does. symm-learning's ``eLayerNorm`` does not centre: it
    only rescales (by the norms of the irreducible copies), so an invariant offset in the input passes
    through. The price of centring: the invariant component of ``x`` is removed, so a rep made only of
    trivial copies normalises to zero (the affine bias then sets the output).

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
    eps : float
    equiv_affine : bool
        Follow with a learnable :class:`eAffine`.
    bias : bool
        Give that affine map an invariant bias (needs a trivial copy in ``in_rep``).
    init_scheme : {"identity", "random"}

    Notes
    -----
    Input ``(..., D)``; output ``(..., D)``.
    """

    _center = True

    def __init__(
        self,
        in_rep: Any = None,
        eps: float = 1e-6,
        equiv_affine: bool = True,
        bias: bool = True,
        init_scheme: str = "identity",
        *,
        in_type: Any = None,
    ) -> None:
        super().__init__(
            in_rep, eps=eps, equiv_affine=equiv_affine, init_scheme=init_scheme, bias=bias, in_type=in_type
        )


class eBatchNorm1d(EquivariantModule):
    r"""Equivariant batch normalisation with symmetric statistics.

    In the isotypic basis ``z = Qᵀ x`` every coordinate of irreducible copy ``c`` is normalised by the same
    variance ``v_c``, the symmetric variance of the copy (:func:`symm.var_mean`: the diagonal of the
    group-averaged covariance, constant over a copy), after subtracting the symmetric mean ``P_inv x̄``:

    .. math::

        y = \mathrm{affine}\Bigl(Q \,\frac{Q^\top (x - P_{inv} \bar x)}{\sqrt{v + ε}}\Bigr)

    - training: the **batch's** symmetric mean and (biased) variance; the running statistics are updated
      with momentum, the variance unbiased, as ``torch.nn.BatchNorm1d`` does;
    - eval: the running statistics (the batch's when ``track_running_stats=False``).

    symm-learning 0.8.1's ``eBatchNorm1d`` normalises with the running statistics during training too, which
    is not batch normalisation. Both statistics are symmetric, so the layer is equivariant in both modes (in
    training for a batch transformed by one ``g``).

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
    eps, momentum : float
        As in ``torch.nn.BatchNorm1d``.
    affine : bool
        Follow with a learnable :class:`eAffine` (with an invariant bias when ``in_rep`` has a trivial copy).
    track_running_stats : bool

    Attributes
    ----------
    running_mean : torch.Tensor
        (D,), the symmetric mean, invariant: ``P_inv running_mean = running_mean``.
    running_var : torch.Tensor
        (D,), the symmetric variance in isotypic coordinates (equal within each irreducible copy).

    Notes
    -----
    Input ``(..., D)`` (features last, as in symm-learning 0.8.1; statistics over every leading axis; not
    ``torch.nn.BatchNorm1d``'s ``(B, C, L)``); output ``(..., D)``.
    """

    _features_last = True

    def __init__(
        self,
        in_rep: Any = None,
        eps: float = 1e-5,
        momentum: float = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        in_type: Any = None,
    ) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        self.out_type, self.out_rep = self.in_type, self.in_rep
        self.eps = _check_eps(eps)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.track_running_stats = bool(track_running_stats)
        Q = self.in_rep.change_of_basis
        self.iso_rep = self.in_rep.change_basis(Q.T, name=f"{self.in_rep.name}_isotypic")
        self._register_constant("Q", Q)
        has_triv = invariant_basis(self.in_rep).shape[1] > 0
        self.affine = eAffine(self.in_rep, bias=has_triv) if affine else None
        D = self.in_rep.size
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(D))
            self.register_buffer("running_var", torch.ones(D))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        z = x @ self.Q  # isotypic coordinates
        if self.training or not self.track_running_stats:
            flat = z.reshape(-1, self.in_rep.size)
            if flat.shape[0] < 2:
                raise ValueError(
                    f"eBatchNorm1d needs more than one sample per batch in training, got shape {tuple(x.shape)}"
                )
            var, mean_iso = symm.var_mean(flat, self.iso_rep, correction=0)
            if self.training and self.track_running_stats:
                n = flat.shape[0]
                with torch.no_grad():
                    self.running_mean.lerp_(mean_iso.detach() @ self.Q.T, self.momentum)
                    self.running_var.lerp_(var.detach() * n / (n - 1), self.momentum)
                    self.num_batches_tracked.add_(1)
        else:
            mean_iso, var = self.running_mean @ self.Q, self.running_var
        r = torch.rsqrt(var + self.eps)
        if self.affine is not None:  # fold eAffine's per-copy scale into the isotypic scaling
            r = r * torch.index_select(self.affine.scale_params, 0, self.affine.idx)
        y = ((z - mean_iso) * r) @ self.Q.T
        if self.affine is not None and self.affine.bias_params is not None:
            y = y + self.affine.Q_inv @ self.affine.bias_params
        return y

    def export(self) -> torch.nn.Linear:
        """The eval-mode layer (running statistics, affine folded in) as a ``torch.nn.Linear``."""
        if not self.track_running_stats:
            raise ValueError("eBatchNorm1d(track_running_stats=False) always uses batch statistics: no fixed map")
        Q = self.Q
        A = (Q * torch.rsqrt(self.running_var + self.eps)) @ Q.T
        b = -A @ self.running_mean
        if self.affine is not None:
            A2, b2 = self.affine.matrix()
            A, b = A2 @ A, A2 @ b + (0 if b2 is None else b2)
        D = self.in_rep.size
        lin = torch.nn.Linear(D, D, device=A.device, dtype=A.dtype)
        with torch.no_grad():
            lin.weight.copy_(A)
            lin.bias.copy_(b)
        return lin
