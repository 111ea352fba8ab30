"""eLinear: the G-equivariant linear layer."""

from __future__ import annotations

from typing import Any

import torch

from symm_torch.nn._base import HomLayer
from symm_torch.nn._hom import invariant_basis

__all__ = ["eLinear", "invariant_basis"]


class eLinear(HomLayer):
    r"""A G-equivariant linear layer ``y = W x + b`` with ``W ∈ Hom_G(ρ_in, ρ_out)`` and ``b`` invariant.

    .. math::

        W = Q_{out} \Bigl(\bigoplus_k \sum_b \Theta_{k,b} \otimes E_{k,b}\Bigr) Q_{in}^\top,
        \qquad b = Q_{out,\mathrm{triv}}\, \beta

    with one ``Θ_{k,b} ∈ R^{m_k^{out} × m_k^{in}}`` per irrep ``k`` shared by both reps and per endomorphism
    basis element ``E_{k,b}`` (``s_k = 1, 2, 4`` of them for real, complex and quaternionic irreps). The
    parameter ``weight_params`` holds exactly ``symm.hom_dim(in_rep, out_rep)`` numbers; ``bias_params`` one
    per trivial copy of ``out_rep``. Then ``ρ_out(g) W = W ρ_in(g)`` and ``ρ_out(g) b = b`` for every ``g``.

    Parameters
    ----------
    in_rep, out_rep : symm.Rep or escnn FieldType
        Input and output representations of the same group (sizes ``D_in``, ``D_out``). ``in_type`` and
        ``out_type`` are keyword aliases (escnn's names).
    bias : bool
        Learn an invariant bias (zero-initialised).
    init_scheme : {"xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "identity"}
        Initialisation of ``Θ``, with the fans of each irrep block: an output coordinate of block ``k`` sums
        ``fan_in = s_k m_k^{in}`` independent terms and ``fan_out = s_k m_k^{out}``. ``"kaiming_*"``: variance
        ``init_gain² / fan_in``, so every output coordinate has variance ``init_gain² · Var(x)`` for i.i.d.
        input coordinates (default gain √2, for ReLU); ``"xavier_*"``: ``init_gain² · 2 / (fan_in + fan_out)``
        (default gain 1); ``"identity"``: ``Θ_{k,0} = I``, the identity map when ``in_rep = out_rep``. Closed
        form: construction samples no basis matrices.
    init_gain : float, optional
        Gain of the scheme (``None``: its default).

    Notes
    -----
    Input ``(..., D_in)`` (features last, like ``torch.nn.Linear``); a ``GeometricTensor`` has its features on
    axis 1, and comes back as a ``GeometricTensor`` of ``out_type``. Output ``(..., D_out)``.

    The expanded weight is cached in eval mode, with or without grad (gradients still reach the
    parameters); the cache is keyed on the parameters' version counters, so optimizer steps,
    ``load_state_dict`` and other in-place updates invalidate it, and :meth:`train` drops it.

    Raises ``ValueError`` at construction when ``Hom_G(in_rep, out_rep) = 0`` (no shared irrep).

    Examples
    --------
    >>> import torch, symm
    >>> from symm_torch.nn import eLinear
    >>> G = symm.groups.dihedral(3)
    >>> layer = eLinear(G.regular_rep() * 2, G.regular_rep(), bias=True)
    >>> layer.weight_params.numel() == symm.hom_dim(G.regular_rep() * 2, G.regular_rep())
    True
    >>> layer(torch.randn(5, 12)).shape
    torch.Size([5, 6])
    """

    _features_last = True

    def __init__(
        self,
        in_rep: Any = None,
        out_rep: Any = None,
        bias: bool = True,
        init_scheme: str = "kaiming_normal",
        init_gain: float | None = None,
        *,
        in_type: Any = None,
        out_type: Any = None,
    ) -> None:
        super().__init__(in_rep, out_rep, in_type=in_type, out_type=out_type, required=("in_rep", "out_rep"))
        self._build_hom(bias, init_scheme, init_gain)

    # ------------------------------------------------------------------ expansion
    def _expand_weight(self, theta: torch.Tensor) -> torch.Tensor:
        return self._expand_taps(theta)  # (D_out, D_in)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        weight, bias = self.expanded()
        return torch.nn.functional.linear(x, weight, bias)

    def export(self) -> torch.nn.Linear:
        """A ``torch.nn.Linear`` with the expanded weight and bias (same dtype and device)."""
        return self._export_into(torch.nn.Linear, self.in_rep.size, self.out_rep.size)
