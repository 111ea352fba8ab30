"""Equivariant transformer encoder and decoder layers and stacks, with their plain twins.

A layer is attention and a feed-forward block, each with a residual connection and a normalisation:
pre-norm (default, ``x + f(norm(x))``) or post-norm (``norm(x + f(x))``). Every piece is equivariant:
:class:`~symm_torch.nn.eMultiheadAttention`, :class:`~symm_torch.nn.eRMSNorm` or
:class:`~symm_torch.nn.eLayerNorm`, and the feed-forward ``eLinear(ρ, ρ_h) → σ → eLinear(ρ_h, ρ)`` whose
hidden rep ``ρ_h`` is copies of the regular rep (a permutation rep, so the pointwise ``σ`` commutes with it).
Sums of equivariant maps are equivariant, so the layer is. Dropout is the identity in eval mode, where the
layer is exactly equivariant.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from symm_torch._reps import as_rep
from symm_torch.nn._attention import PlainMultiheadAttention, causal_mask, eMultiheadAttention
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._kit import Kit, check_int, check_prob, export_children, regular_rep
from symm_torch.nn._kit import activation as _activation

__all__ = [
    "PlainTransformerDecoder",
    "PlainTransformerDecoderLayer",
    "PlainTransformerEncoder",
    "PlainTransformerEncoderLayer",
    "eTransformerDecoder",
    "eTransformerDecoderLayer",
    "eTransformerEncoder",
    "eTransformerEncoderLayer",
]


class _LayerCore(torch.nn.Module):
    _plain = False
    _cross = False  # a decoder layer also attends to the memory

    def __init__(
        self,
        in_rep: Any,
        nhead: int,
        dim_feedforward: int | None = None,
        dropout: float = 0.1,
        activation: Any = "GELU",
        layer_norm_eps: float = 1e-5,
        norm_first: bool = True,
        norm_module: str = "rmsnorm",
        bias: bool = True,
        **attn_kwargs: Any,
    ) -> None:
        super().__init__()
        activation_, cross = activation, self._cross
        rep = as_rep(in_rep, "in_rep")
        self.in_type = self.out_type = in_rep
        self.in_rep = self.out_rep = rep
        kit = Kit(self._plain)
        self.norm_first = bool(norm_first)
        self.dropout_p = check_prob(dropout)
        width = 4 * rep.size if dim_feedforward is None else check_int(dim_feedforward, "dim_feedforward")
        hidden = regular_rep(rep.group, width)
        self.dim_feedforward = hidden.size
        attn_cls = PlainMultiheadAttention if self._plain else eMultiheadAttention
        self.self_attn = attn_cls(rep, nhead, dropout, bias, **attn_kwargs)
        if cross:
            self.multihead_attn = attn_cls(rep, nhead, dropout, bias, **attn_kwargs)
        self.linear1 = kit.linear(rep, hidden, bias)
        self.activation = _activation(activation_)
        self.linear2 = kit.linear(hidden, rep, bias)
        self.norm1 = kit.norm(norm_module, rep, layer_norm_eps)
        self.norm2 = kit.norm(norm_module, rep, layer_norm_eps)
        if cross:
            self.norm3 = kit.norm(norm_module, rep, layer_norm_eps)
        self.dropout = torch.nn.Dropout(self.dropout_p)
        self._args = dict(
            nhead=nhead,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation_,
            layer_norm_eps=layer_norm_eps,
            norm_first=norm_first,
            norm_module=norm_module,
            bias=bias,
            **attn_kwargs,
        )

    def _check(self, x: torch.Tensor, name: str) -> None:
        D = self.in_rep.size
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != D:
            raise ValueError(
                f"{name} must have shape (B, T, {D}) (batch first, features last), got "
                f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
            )

    def _sa(self, x: torch.Tensor, mask: Any, kpm: Any, causal: bool) -> torch.Tensor:
        if causal and mask is None:  # explicit, so that the exported torch.nn.MultiheadAttention agrees
            mask = causal_mask(x.shape[1], x.shape[1], x.device, x.dtype)
        out = self.self_attn(x, x, x, attn_mask=mask, key_padding_mask=kpm, need_weights=False)
        return self.dropout(out[0])

    def _ff(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class _EncoderLayerCore(_LayerCore):
    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """``src`` ``(B, T, D)`` → ``(B, T, D)``; masks as in ``torch.nn.TransformerEncoderLayer``:
        ``src_mask`` ``(T, T)`` or ``(B·nhead, T, T)``, ``src_key_padding_mask`` ``(B, T)``; ``is_causal``
        without ``src_mask`` applies the causal mask."""
        self._check(src, "src")
        x = src
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff(self.norm2(x))
        x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff(x))


class _DecoderLayerCore(_LayerCore):
    _cross = True

    def _mha(self, x: torch.Tensor, mem: torch.Tensor, mask: Any, kpm: Any, causal: bool) -> torch.Tensor:
        if causal and mask is None:
            mask = causal_mask(x.shape[1], mem.shape[1], x.device, x.dtype)
        out = self.multihead_attn(x, mem, mem, attn_mask=mask, key_padding_mask=kpm, need_weights=False)
        return self.dropout(out[0])

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        tgt_key_padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> torch.Tensor:
        """``tgt`` ``(B, L, D)``, ``memory`` ``(B, S, D)`` → ``(B, L, D)``; masks as in
        ``torch.nn.TransformerDecoderLayer`` (``tgt_mask`` ``(L, L)``, ``memory_mask`` ``(L, S)``, key padding
        masks ``(B, L)`` and ``(B, S)``)."""
        self._check(tgt, "tgt")
        self._check(memory, "memory")
        x = tgt
        if self.norm_first:
            x = x + self._sa(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff(self.norm3(x))
        x = self.norm1(x + self._sa(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff(x))


_LAYER_DOC = """

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of the tokens (size ``D``, ``d_model`` in torch).
    nhead : int
        Attention heads; must split ``in_rep`` as :class:`~symm_torch.nn.eMultiheadAttention` requires.
    dim_feedforward : int, optional
        Width of the feed-forward hidden layer, rounded up to copies of the regular rep (default ``4 D``).
    dropout : float
        On the attention weights and after each block (training only).
    activation : str or torch.nn.Module
        Pointwise activation of the feed-forward block (default ``"GELU"``).
    layer_norm_eps : float
    norm_first : bool
        Pre-norm (default) or post-norm.
    norm_module : {"rmsnorm", "layernorm"}
        :class:`~symm_torch.nn.eRMSNorm` or :class:`~symm_torch.nn.eLayerNorm` (``torch.nn.RMSNorm`` /
        ``LayerNorm`` in the plain twin).
    bias : bool
        Invariant biases in the attention and feed-forward maps.
    **attn_kwargs
        ``rel_pos_max_distance``, ``rotary``, ``rotary_base``, ``init_scheme`` of the attention.
"""


class eTransformerEncoderLayer(_EncoderLayerCore, EquivariantModule):
    __doc__ = (
        """A G-equivariant transformer encoder layer (self-attention and feed-forward), batch first.

    ``f(ρ(g) x) = ρ(g) f(x)`` for every mask and position option. ``forward(src, src_mask=None,
    src_key_padding_mask=None, is_causal=False)``: ``src`` ``(B, T, D)`` → ``(B, T, D)``."""
        + _LAYER_DOC
        + """
    Notes
    -----
    ``export()``: the plain twin :class:`PlainTransformerEncoderLayer` holding every child's export (a
    ``torch.nn.MultiheadAttention``, TorchScript norms, ``torch.nn.Linear`` maps): the same outputs, no symm.
    """
    )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - forward is overridden
        return self.forward(x)

    def export(self) -> torch.nn.Module:
        """The plain twin holding the children's exports (see the class notes)."""
        return export_children(self, PlainTransformerEncoderLayer(self.in_rep, **self._args))


class PlainTransformerEncoderLayer(_EncoderLayerCore):
    __doc__ = (
        """The plain twin of :class:`eTransformerEncoderLayer`: the same signature and widths, ``torch.nn``
    layers (contiguous heads, ``torch.nn.RMSNorm`` / ``LayerNorm``). For ablations.
    ``src`` ``(B, T, D)`` → ``(B, T, D)``."""
        + _LAYER_DOC
    )

    _plain = True


class eTransformerDecoderLayer(_DecoderLayerCore, EquivariantModule):
    __doc__ = (
        """A G-equivariant transformer decoder layer: self-attention, cross-attention on ``memory``,
    feed-forward, batch first.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``: ``tgt`` ``(B, L, D)``,
    ``memory`` ``(B, S, D)`` → ``(B, L, D)``, with ``f(ρ(g) tgt, ρ(g) memory) = ρ(g) f(tgt, memory)``."""
        + _LAYER_DOC
        + """
    Notes
    -----
    ``export()``: the plain twin :class:`PlainTransformerDecoderLayer` holding every child's export.
    """
    )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - forward is overridden
        raise TypeError("eTransformerDecoderLayer needs forward(tgt, memory, ...)")

    def export(self) -> torch.nn.Module:
        """The plain twin holding the children's exports."""
        return export_children(self, PlainTransformerDecoderLayer(self.in_rep, **self._args))


class PlainTransformerDecoderLayer(_DecoderLayerCore):
    __doc__ = (
        """The plain twin of :class:`eTransformerDecoderLayer` (same signature and widths, ``torch.nn`` layers).
    ``tgt`` ``(B, L, D)``, ``memory`` ``(B, S, D)`` → ``(B, L, D)``."""
        + _LAYER_DOC
    )

    _plain = True


# ---------------------------------------------------------------------------------------------- stacks
class _StackCore(torch.nn.Module):
    _plain = False
    _layer_types: tuple[type, ...] = ()

    def __init__(self, layer: torch.nn.Module, num_layers: int, norm: torch.nn.Module | bool | None = None) -> None:
        super().__init__()
        if not isinstance(layer, self._layer_types):
            raise TypeError(
                f"{type(self).__name__} stacks copies of a {' or '.join(t.__name__ for t in self._layer_types)}, "
                f"got {type(layer).__name__}"
            )
        check_int(num_layers, "num_layers")
        self.in_type = self.out_type = layer.in_type
        self.in_rep = self.out_rep = layer.in_rep
        self.layers = torch.nn.ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        if norm is True:  # the final norm a pre-norm stack wants: the layers' norm type, freshly initialised
            norm = copy.deepcopy(layer.norm1)
            for m in norm.modules():
                if hasattr(m, "reset_parameters"):
                    m.reset_parameters()
        if norm is not None and not isinstance(norm, torch.nn.Module):
            raise TypeError(f"norm must be a module, True (a copy of the layers' norm) or None, got {norm!r}")
        self.norm = norm

    def _finish(self, x: torch.Tensor) -> torch.Tensor:
        return x if self.norm is None else self.norm(x)


class _EquivariantStack:
    """``export()`` of an equivariant stack: its plain twin (``_twin``) holding the exported layers and norm."""

    _twin: type

    def export(self) -> torch.nn.Module:
        """The plain twin stack of the exported layers (and exported final norm)."""
        twin = self._twin.__new__(self._twin)
        torch.nn.Module.__init__(twin)
        twin.num_layers, twin.norm = self.num_layers, None
        return export_children(self, twin)


class _EncoderStackCore(_StackCore):
    def forward(
        self,
        src: torch.Tensor,
        mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """``src`` ``(B, T, D)`` through every layer (same masks for each), then ``norm``."""
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask, is_causal)
        return self._finish(x)


class _DecoderStackCore(_StackCore):
    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        tgt_mask: torch.Tensor | None = None,
        memory_mask: torch.Tensor | None = None,
        tgt_key_padding_mask: torch.Tensor | None = None,
        memory_key_padding_mask: torch.Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> torch.Tensor:
        """``tgt`` ``(B, L, D)`` and ``memory`` ``(B, S, D)`` through every layer, then ``norm``."""
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask,
                memory_mask,
                tgt_key_padding_mask,
                memory_key_padding_mask,
                tgt_is_causal,
                memory_is_causal,
            )
        return self._finish(x)


_STACK_DOC = """

    Parameters
    ----------
    {layer} : {cls}
        Copied ``num_layers`` times (as ``torch.nn.{torch_cls}`` does).
    num_layers : int
    norm : torch.nn.Module, True or None
        Applied after the last layer (a pre-norm stack wants one); ``True``: a fresh copy of the layers' norm.
"""


class eTransformerEncoder(_EquivariantStack, _EncoderStackCore, EquivariantModule):
    __doc__ = (
        """A stack of :class:`eTransformerEncoderLayer` (equivariant): ``(B, T, D) → (B, T, D)``.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=False)``."""
        + _STACK_DOC.format(layer="encoder_layer", cls="eTransformerEncoderLayer", torch_cls="TransformerEncoder")
        + """
    Notes
    -----
    ``export()``: a :class:`PlainTransformerEncoder` of the exported layers.
    """
    )

    _layer_types = (eTransformerEncoderLayer,)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        return self.forward(x)


class PlainTransformerEncoder(_EncoderStackCore):
    __doc__ = """The plain twin of :class:`eTransformerEncoder` (stacks :class:`PlainTransformerEncoderLayer`)."""
    _plain = True
    _layer_types = (PlainTransformerEncoderLayer,)


class eTransformerDecoder(_EquivariantStack, _DecoderStackCore, EquivariantModule):
    __doc__ = (
        """A stack of :class:`eTransformerDecoderLayer` (equivariant): ``(B, L, D) × (B, S, D) → (B, L, D)``."""
        + _STACK_DOC.format(layer="decoder_layer", cls="eTransformerDecoderLayer", torch_cls="TransformerDecoder")
        + """
    Notes
    -----
    ``export()``: a :class:`PlainTransformerDecoder` of the exported layers.
    """
    )

    _layer_types = (eTransformerDecoderLayer,)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise TypeError("eTransformerDecoder needs forward(tgt, memory, ...)")


class PlainTransformerDecoder(_DecoderStackCore):
    __doc__ = """The plain twin of :class:`eTransformerDecoder` (stacks :class:`PlainTransformerDecoderLayer`)."""
    _plain = True
    _layer_types = (PlainTransformerDecoderLayer,)


eTransformerEncoder._twin = PlainTransformerEncoder
eTransformerDecoder._twin = PlainTransformerDecoder
