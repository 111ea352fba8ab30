"""eLinear: the G-equivariant linear layer."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import symm
import torch

from symm_torch._reps import as_rep, check_same_group
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._hom import expand_hom, init_std, register_hom

__all__ = ["eLinear"]


def register_invariant_bias(module: EquivariantModule, rep: symm.Rep, bias: bool) -> None:
    """Give ``module`` a bias in the invariant subspace of ``rep``: parameter ``bias_params`` (one per trivial
    copy) and constant ``Q_inv`` (D, m_trivial); ``bias_params`` is ``None`` without bias or trivial copies."""
    q_triv = _invariant_basis(rep)
    if bias and q_triv.shape[1] > 0:
        module._register_constant("Q_inv", q_triv)
        module.bias_params = torch.nn.Parameter(torch.empty(q_triv.shape[1]))
    else:
        module.register_parameter("bias_params", None)


def _invariant_basis(rep: symm.Rep) -> np.ndarray:
    """Columns of ``Q`` spanning the invariant subspace, shape (D, m_trivial) (possibly 0 columns)."""
    comp = rep.isotypic_components[0]
    if comp.irrep is rep.group.irreps()[0] and comp.irrep.dim == 1:
        return rep.change_of_basis[:, comp.slice]
    return np.zeros((rep.size, 0))


class eLinear(EquivariantModule):
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
        Input and output representations of the same group (sizes ``D_in``, ``D_out``).
    bias : bool
        Learn an invariant bias (zero-initialised).
    init_gain : float
        Initialisation: ``Θ_{k,b}`` entries are ``N(0, init_gain² / (s_k m_k^{in}))``, so every output
        coordinate has variance ``init_gain² · Var(x)`` for i.i.d. input coordinates (He initialisation for
        the default ``√2``). Closed form: construction costs no sampling of basis matrices.

    Notes
    -----
    Input ``(..., D_in)`` (features last, like ``torch.nn.Linear``); a ``GeometricTensor`` has its features on
    axis 1, and comes back as a ``GeometricTensor`` of ``out_type``. Output ``(..., D_out)``.

    The expanded weight is cached in eval mode when no gradient is needed (``torch.no_grad``/inference);
    the cache is keyed on the parameters' version counters, so in-place updates invalidate it.

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

    def __init__(self, in_rep: Any, out_rep: Any, bias: bool = True, init_gain: float = math.sqrt(2.0)) -> None:
        super().__init__()
        self.in_type, self.out_type = in_rep, out_rep
        self.in_rep = as_rep(in_rep, "in_rep")
        self.out_rep = as_rep(out_rep, "out_rep")
        check_same_group(self.in_rep, self.out_rep, ("in_rep", "out_rep"))
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {bias!r}")
        self.init_gain = float(init_gain)
        self._plan = register_hom(self, self.in_rep, self.out_rep)
        self.weight_params = torch.nn.Parameter(torch.empty(self._plan.dim))
        register_invariant_bias(self, self.out_rep, bias)
        self.reset_parameters()

    @property
    def hom_dim(self) -> int:
        """Number of free weight parameters, ``dim Hom_G(in_rep, out_rep)``."""
        return self._plan.dim

    def reset_parameters(self) -> None:
        """Draw ``Θ`` from the closed-form initialisation and zero the bias."""
        std = torch.as_tensor(init_std(self._plan, self.init_gain), dtype=self.weight_params.dtype)
        with torch.no_grad():
            self.weight_params.copy_(torch.randn(self._plan.dim, dtype=std.dtype) * std)
            if self.bias_params is not None:
                self.bias_params.zero_()

    # ------------------------------------------------------------------ expansion
    def _expand(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        weight = expand_hom(self, self._plan, self.weight_params)
        bias = None if self.bias_params is None else self.Q_inv @ self.bias_params
        return weight, bias

    def expanded(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(W, b)``: the weight (D_out, D_in) and bias (D_out,) or ``None``, cached in eval mode."""
        params = [p for p in (self.weight_params, self.bias_params) if p is not None]
        if self.training or (torch.is_grad_enabled() and any(p.requires_grad for p in params)):
            return self._expand()
        key = tuple((p._version, p.data_ptr(), p.dtype, p.device) for p in params)
        key += ((self.Qy_blocks.data_ptr(), self.Qy_blocks.dtype),)
        cache = self.__dict__.get("_weight_cache")
        if cache is None or cache[0] != key:
            with torch.no_grad():
                weight, bias = self._expand()
            cache = (key, weight, bias)
            self.__dict__["_weight_cache"] = cache
        return cache[1], cache[2]

    @property
    def weight(self) -> torch.Tensor:
        """The expanded equivariant weight, shape (D_out, D_in)."""
        return self.expanded()[0]

    @property
    def bias(self) -> torch.Tensor | None:
        """The expanded invariant bias, shape (D_out,), or ``None``."""
        return self.expanded()[1]

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        weight, bias = self.expanded()
        return torch.nn.functional.linear(x, weight, bias)

    def export(self) -> torch.nn.Linear:
        """A ``torch.nn.Linear`` with the expanded weight and bias (same dtype and device)."""
        weight, bias = self.expanded()
        lin = torch.nn.Linear(
            self.in_rep.size,
            self.out_rep.size,
            bias=self.bias_params is not None,
            device=weight.device,
            dtype=weight.dtype,
        )
        with torch.no_grad():
            lin.weight.copy_(weight)
            if self.bias_params is not None:
                lin.bias.copy_(bias)
        return lin
