"""Equivariant nonlinearities for any orthogonal rep: GatedNonlinearity and NormNonlinearity.

A pointwise function commutes with ``ρ(g)`` only when ``ρ`` permutes coordinates. Compact groups have no
finite regular (permutation) rep, and a finite group's irreps are rarely permutation reps, so these two
modules act on each irreducible copy as a whole, in the isotypic basis ``z = Qᵀ x`` where
``ρ(g) = Q (⊕_k I_{m_k} ⊗ ρ̂_k(g)) Qᵀ``: multiplying the ``d_c`` coordinates of copy ``c`` by one invariant
scalar commutes with ``ρ̂_k(g)``. The copies are read from :func:`symm.internal.copy_index`,
:func:`symm.internal.copy_norm_rows` and ``rep.irreps`` (the trivial copies come first, ``Irrep.is_trivial``);
nothing is re-derived here.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import symm
import torch
from symm.internal import copy_index, copy_norm_rows

from symm_torch._escnn import is_field_type
from symm_torch._reps import as_rep
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._basis import copy_norms, trivial_field_type
from symm_torch.nn._kit import activation as make_activation

__all__ = ["GatedNonlinearity", "NormNonlinearity", "gate_count"]


def _copies(rep: symm.Rep) -> tuple[int, int, np.ndarray]:
    """``(n_copies, n_trivial, copy index of every isotypic coordinate)``; the trivial copies come first."""
    return len(rep.irreps), sum(irr.is_trivial for irr in rep.irreps), copy_index(rep)


def gate_count(rep: Any) -> int:
    """The number of gates :class:`GatedNonlinearity` needs for ``rep``: its non-trivial irreducible copies."""
    rep = as_rep(rep, "rep")
    n, t, _ = _copies(rep)
    return n - t


def _gated(x: torch.Tensor, Q: torch.Tensor, gate_idx: torch.Tensor, n_gates: int, n_triv: int):
    """``(trivial isotypic coordinates, gated non-trivial ones)`` of ``x = gates ⊕ fields`` (..., n_gates + D).

    Torch-only (TorchScript), shared with the exported module."""
    z = x[..., n_gates:] @ Q
    gates = torch.sigmoid(x[..., :n_gates])
    return z[..., :n_triv], z[..., n_triv:] * torch.index_select(gates, -1, gate_idx)


def _norm_scale(norms: torch.Tensor, activated: torch.Tensor) -> torch.Tensor:
    """``σ(‖x_c‖ + b_c) / ‖x_c‖``, and 0 where ``‖x_c‖ = 0`` (no NaN in values or gradients). TorchScript."""
    positive = norms > 0
    safe = torch.where(positive, norms, torch.ones_like(norms))
    return torch.where(positive, activated / safe, torch.zeros_like(norms))


class _ExportedGated(torch.nn.Module):
    """Torch-only :class:`GatedNonlinearity`, exported through ``torch.jit.script``."""

    def __init__(self, Q: torch.Tensor, gate_idx: torch.Tensor, n_gates: int, n_triv: int, act: torch.nn.Module):
        super().__init__()
        self.register_buffer("Q", Q.detach().clone())
        self.register_buffer("gate_idx", gate_idx.clone())
        self.n_gates, self.n_triv, self.act = n_gates, n_triv, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        triv, gated = _gated(x, self.Q, self.gate_idx, self.n_gates, self.n_triv)
        return torch.cat([self.act(triv), gated], -1) @ self.Q.transpose(0, 1)


class _ExportedNorm(torch.nn.Module):
    """Torch-only :class:`NormNonlinearity`, exported through ``torch.jit.script``."""

    def __init__(
        self, Q: torch.Tensor, P: torch.Tensor, idx: torch.Tensor, bias: torch.Tensor, d: int, act: torch.nn.Module
    ):
        super().__init__()
        self.register_buffer("Q", Q.detach().clone())
        self.register_buffer("P", P.detach().clone())
        self.register_buffer("idx", idx.clone())
        self.register_buffer("bias", bias.detach().clone())
        self.n, self.d, self.act = P.shape[0] // d, d, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        norms = copy_norms(x, self.P, self.n, self.d)
        scale = _norm_scale(norms, self.act(norms + self.bias))
        return ((x @ self.Q) * torch.index_select(scale, -1, self.idx)) @ self.Q.transpose(0, 1)


def _script(module: torch.nn.Module, owner: str) -> torch.nn.Module:
    """``torch.jit.script(module)``; the plain module (which needs symm_torch to unpickle) with a warning when
    its activation cannot be scripted."""
    try:
        return torch.jit.script(module)
    except Exception as err:  # any scripting failure of a user's activation
        warnings.warn(
            f"{owner}.export(): the activation {type(module.act).__name__} cannot be compiled by TorchScript "
            f"({type(err).__name__}); returning an unscripted torch module that computes the same function",
            RuntimeWarning,
            stacklevel=3,
        )
        return module


class GatedNonlinearity(EquivariantModule):
    r"""Gated nonlinearity: each non-trivial irreducible copy scaled by the sigmoid of its own invariant gate.

    The input is ``gates ⊕ fields``: ``n_gates`` invariant scalars (one per non-trivial irreducible copy of
    ``rep``, in the order of ``rep.irreps``) followed by the ``D`` features of ``rep``. With ``z = Qᵀ f`` the
    fields in the isotypic basis and ``z_c`` the ``d_c`` coordinates of copy ``c``,

    .. math::

        y = Q\,\bigl(\, \sigma(z_{triv}) \;\oplus\; \textstyle\bigoplus_{c \,\text{non-trivial}}
            \mathrm{sigmoid}(g_c)\, z_c \bigr)

    where ``σ`` (``activation``) acts pointwise on the trivial copies, which are invariant scalars. Every gate
    is invariant and ``ρ(h)`` acts on ``z_c`` by the orthogonal ``ρ̂_k(h)``, so
    ``y(ρ_in(h) x) = ρ(h) y(x)`` with ``ρ_in = trivial^{n_gates} ⊕ ρ``: the module is equivariant for any
    orthogonal ``ρ`` of a finite or compact group, permutation rep or not.

    Parameters
    ----------
    rep : symm.Rep or escnn FieldType
        The representation of the fields (size ``D``); it is the module's ``out_rep``. ``in_rep`` is
        ``trivial_rep(n_gates) ⊕ rep`` (``rep`` itself when every copy is trivial). ``in_type`` is a keyword
        alias of ``rep``.
    activation : str or torch.nn.Module, default "ReLU"
        Pointwise activation of the trivial copies (a ``torch.nn`` class name or a module, copied).

    Attributes
    ----------
    n_gates : int
        Number of gates (non-trivial copies of ``rep``), also :func:`gate_count`.
    n_trivial : int
        Number of trivial copies of ``rep``.

    Notes
    -----
    Input ``(..., n_gates + D)``, gates first; output ``(..., D)``. No parameters. ``export()`` gives a
    TorchScript module (plain torch) for inputs of any rank.

    Examples
    --------
    >>> import torch, symm
    >>> from symm_torch.nn import GatedNonlinearity
    >>> G = symm.groups.dihedral(4)
    >>> gate = GatedNonlinearity(G.natural_rep("standard") + G.trivial_rep())
    >>> gate.n_gates, gate.in_rep.size
    (1, 4)
    >>> gate(torch.randn(5, 4)).shape
    torch.Size([5, 3])
    """

    _features_last = True

    def __init__(self, rep: Any = None, activation: Any = "ReLU", *, in_type: Any = None) -> None:
        super().__init__()
        if rep is not None and in_type is not None:
            raise TypeError("give rep or its alias in_type, not both")
        fields = rep if rep is not None else in_type
        if fields is None:
            raise TypeError("missing the argument rep (or its alias in_type)")
        self.out_type = fields
        self.out_rep = as_rep(fields, "rep")
        n, t, idx = _copies(self.out_rep)
        self.n_gates, self.n_trivial = n - t, t
        if self.n_gates:
            self.in_rep = symm.direct_sum(self.out_rep.group.trivial_rep(self.n_gates), self.out_rep)
        else:
            self.in_rep = self.out_rep
        self.in_type = self.in_rep
        if is_field_type(fields):
            self.in_type = trivial_field_type(fields, self.n_gates) + fields if self.n_gates else fields
        self.act = make_activation(activation)
        self._register_constant("Q", self.out_rep.change_of_basis)
        # the gate of each non-trivial isotypic coordinate (the trivial copies 0..t-1 have none)
        self._register_constant("gate_idx", idx[t:] - t)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        triv, gated = _gated(x, self.Q, self.gate_idx, self.n_gates, self.n_trivial)
        return torch.cat([self.act(triv), gated], -1) @ self.Q.transpose(0, 1)

    def export(self) -> torch.nn.Module:
        """A TorchScript module computing the same function (plain torch; any input rank)."""
        plain = _ExportedGated(self.Q, self.gate_idx, self.n_gates, self.n_trivial, copy.deepcopy(self.act))
        return _script(plain, type(self).__name__)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_gates={self.n_gates}, act={type(self.act).__name__}"


class NormNonlinearity(EquivariantModule):
    r"""Norm nonlinearity: each irreducible copy rescaled by a function of its own norm.

    With ``z = Qᵀ x`` the features in the isotypic basis and ``z_c`` the ``d_c`` coordinates of copy ``c``,

    .. math::

        y = Q \bigoplus_c z_c \,\frac{\sigma(\lVert z_c\rVert + b_c)}{\lVert z_c\rVert},
        \qquad y_c = 0 \text{ where } z_c = 0,

    so the output copy has norm ``|σ(‖z_c‖ + b_c)|`` and the direction of ``z_c``. ``‖z_c‖`` is invariant and
    ``ρ(g)`` acts on ``z_c`` by the orthogonal ``ρ̂_k(g)``, so ``y(ρ(g) x) = ρ(g) y(x)`` for any orthogonal
    ``ρ`` of a finite or compact group. On a 1-dimensional copy this is ``sign(z_c) σ(|z_c| + b_c)``. Values
    and gradients are finite at ``z_c = 0`` (the copy's output and gradient are 0 there).

    Parameters
    ----------
    rep : symm.Rep or escnn FieldType
        The representation of the features (size ``D``, ``n`` irreducible copies); both ``in_rep`` and
        ``out_rep``. ``in_type`` is a keyword alias.
    activation : str or torch.nn.Module, default "ReLU"
        ``σ``, applied to the ``n`` shifted norms (a ``torch.nn`` class name or a module, copied). With ReLU
        and ``b_c < 0`` the copy is shrunk by ``|b_c|`` (soft thresholding); with ReLU and ``b_c = 0`` the map
        is the identity, so the bias is initialised at ``-0.1``.
    bias : bool, default True
        Learn one invariant bias ``b_c`` per copy (``bias_params``, shape ``(n,)``, initialised to ``-0.1``);
        ``False``: ``b_c = 0``.

    Notes
    -----
    Input ``(..., D)``; output ``(..., D)``. ``export()`` gives a TorchScript module (plain torch) for inputs
    of any rank.

    Examples
    --------
    >>> import torch, symm
    >>> from symm_torch.nn import NormNonlinearity
    >>> G = symm.groups.cyclic(5)
    >>> act = NormNonlinearity(G.irreps()[1] + G.trivial_rep())
    >>> act.bias_params.shape
    torch.Size([2])
    >>> act(torch.randn(4, 3)).shape
    torch.Size([4, 3])
    """

    _features_last = True
    BIAS_INIT = -0.1

    def __init__(self, rep: Any = None, activation: Any = "ReLU", bias: bool = True, *, in_type: Any = None) -> None:
        super().__init__(rep, in_type=in_type, required=("in_rep",))
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {bias!r}")
        self.out_type, self.out_rep = self.in_type, self.in_rep
        rows, d_max = copy_norm_rows(self.in_rep)
        self.n_copies, self.d_max = rows.shape[0] // d_max, d_max
        self.act = make_activation(activation)
        self._register_constant("Q", self.in_rep.change_of_basis)
        self._register_constant("P", rows)
        self._register_constant("idx", copy_index(self.in_rep))
        if bias:
            self.bias_params = torch.nn.Parameter(torch.empty(self.n_copies))
        else:
            self.register_parameter("bias_params", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Biases to ``BIAS_INIT`` (-0.1)."""
        if self.bias_params is not None:
            with torch.no_grad():
                self.bias_params.fill_(self.BIAS_INIT)

    def _bias(self) -> torch.Tensor:
        if self.bias_params is not None:
            return self.bias_params
        return torch.zeros(self.n_copies, dtype=self.Q.dtype, device=self.Q.device)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        norms = copy_norms(x, self.P, self.n_copies, self.d_max)
        scale = _norm_scale(norms, self.act(norms + self._bias()))
        return ((x @ self.Q) * torch.index_select(scale, -1, self.idx)) @ self.Q.transpose(0, 1)

    def export(self) -> torch.nn.Module:
        """A TorchScript module computing the same function (plain torch; the bias as a buffer; any rank)."""
        plain = _ExportedNorm(self.Q, self.P, self.idx, self._bias(), self.d_max, copy.deepcopy(self.act))
        return _script(plain, type(self).__name__)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, n_copies={self.n_copies}, act={type(self.act).__name__}"
