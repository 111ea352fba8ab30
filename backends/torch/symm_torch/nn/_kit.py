"""Building blocks shared by the sequence modules and their plain (non-equivariant) twins.

Every sequence module (attention, transformer layers, the temporal CNN, the conditional U-Net and transformer)
is written once, as a "core" class whose ``forward`` only calls its child modules and torch functions. The
core asks :class:`Kit` for its children: ``Kit(plain=False)`` gives the equivariant layers (eLinear, eConv1d,
eRMSNorm, …) and ``Kit(plain=True)`` the ``torch.nn`` layers of the same widths. The equivariant class and its
plain twin are the same core with the two kits, so an ablation changes nothing but the constraint, and
:func:`export_children` can turn the equivariant module into its twin holding every child's ``export()``.
"""

from __future__ import annotations

import copy
from typing import Any

import symm
import torch

from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._conv import eConv1d, eConvTranspose1d
from symm_torch.nn._linear import eLinear
from symm_torch.nn._norm import eAffine, eLayerNorm, eRMSNorm

__all__ = ["NORM_MODULES", "Kit", "PlainFiLM", "activation", "check_prob", "export_children", "regular_rep"]

NORM_MODULES = ("rmsnorm", "layernorm")


def check_prob(p: Any, name: str = "dropout") -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {p!r}")
    return float(p)


def check_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def activation(act: Any) -> torch.nn.Module:
    """A fresh pointwise activation from a ``torch.nn`` class name or a module (copied)."""
    if isinstance(act, torch.nn.Module):
        return copy.deepcopy(act)
    if isinstance(act, str):
        cls = getattr(torch.nn, act, None)
        if isinstance(cls, type) and issubclass(cls, torch.nn.Module):
            return cls()
    raise ValueError(f"activation must be a torch.nn activation name (e.g. 'GELU', 'Mish') or a module, got {act!r}")


def regular_rep(group: symm.Group, width: int) -> symm.Rep:
    """``⌈width / |G|⌉`` copies of the regular rep: a permutation rep, so pointwise activations commute with it."""
    return group.regular_rep() * max(1, -(-width // group.order))


class PlainFiLM(torch.nn.Module):
    """Feature-wise affine modulation ``y = x · scale + bias`` (the plain twin of ``eAffine(learnable=False)``).

    Notes
    -----
    ``x`` ``(..., D)``; ``scale`` and ``bias`` ``(..., D)``, broadcastable against ``x``.
    """

    def forward(self, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        y = x * scale
        return y if bias is None else y + bias


class Kit:
    """Children for a core module: equivariant layers (``plain=False``) or ``torch.nn`` ones of the same widths."""

    def __init__(self, plain: bool) -> None:
        self.plain = plain

    def linear(self, in_rep: symm.Rep, out_rep: symm.Rep, bias: bool = True, init_scheme: str = "xavier_uniform"):
        if self.plain:
            return torch.nn.Linear(in_rep.size, out_rep.size, bias=bias)
        return eLinear(in_rep, out_rep, bias=bias, init_scheme=init_scheme)

    def conv(self, in_rep: symm.Rep, out_rep: symm.Rep, kernel_size: int, **kwargs: Any):
        """``(B, C, T)`` convolution; ``kwargs`` are ``torch.nn.Conv1d``'s (stride, padding, bias, …)."""
        if self.plain:
            return torch.nn.Conv1d(in_rep.size, out_rep.size, kernel_size, **kwargs)
        return eConv1d(in_rep, out_rep, kernel_size, **kwargs)

    def conv_transpose(self, in_rep: symm.Rep, out_rep: symm.Rep, kernel_size: int, **kwargs: Any):
        if self.plain:
            return torch.nn.ConvTranspose1d(in_rep.size, out_rep.size, kernel_size, **kwargs)
        return eConvTranspose1d(in_rep, out_rep, kernel_size, **kwargs)

    def norm(self, kind: str, rep: symm.Rep, eps: float = 1e-5):
        """Channels-last normalisation: ``"rmsnorm"`` or ``"layernorm"``."""
        if kind not in NORM_MODULES:
            raise ValueError(f"norm_module must be one of {NORM_MODULES}, got {kind!r}")
        if self.plain:
            return (torch.nn.RMSNorm if kind == "rmsnorm" else torch.nn.LayerNorm)(rep.size, eps=eps)
        return (eRMSNorm if kind == "rmsnorm" else eLayerNorm)(rep, eps=eps)

    def film(self, rep: symm.Rep, bias: bool = True):
        """``(module, n_scale, n_bias)``: ``module(x, scale (…, n_scale), bias (…, n_bias) or None)``.

        Equivariant: one scale per irreducible copy and one bias per trivial copy (``eAffine``), both fed with
        invariant features. Plain: one scale and one bias per feature.
        """
        if self.plain:
            return PlainFiLM(), rep.size, (rep.size if bias else 0)
        has_triv = rep.isotypic_components[0].irrep.is_trivial
        aff = eAffine(rep, bias=bias and has_triv, learnable=False)
        return aff, aff.n_copies, aff.n_bias


def exported(module: torch.nn.Module) -> torch.nn.Module:
    """``module.export()`` for an equivariant module; any other module copied with its children exported."""
    if isinstance(module, EquivariantModule):
        return module.export()
    clone = copy.deepcopy(module)
    for name, child in module.named_children():
        setattr(clone, name, exported(child))
    return clone


def export_children(module: torch.nn.Module, twin: torch.nn.Module) -> torch.nn.Module:
    """``twin`` (the plain twin, built with the same arguments) with every child replaced by the export of
    ``module``'s child of the same name; the cores' ``forward`` only calls children, so ``twin`` then computes
    ``module``'s function with plain torch modules."""
    for name, child in module.named_children():
        setattr(twin, name, exported(child))
    ref = next(iter(module.parameters()), None)
    if ref is not None:
        twin.to(ref.dtype)
    return twin.train(module.training)
