"""Sequence models of robot learning: eTimeCNNEncoder and eCondTransformer, with their plain twins.

Each model is one core class written with :class:`~symm_torch.nn._kit.Kit`: the equivariant model builds it
with eLinear / eConv1d / eRMSNorm / eMultiheadAttention / EMLP, the plain twin (same signature, same widths)
with their ``torch.nn`` counterparts, for ablations. Hidden features are copies of the regular rep, so
pointwise activations commute with the group action.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import symm
import torch

from symm_torch._reps import as_rep, check_same_group
from symm_torch.models._mlp import EMLP, IMLP
from symm_torch.nn._attention import InvariantPositionalEmbedding, PlainPositionalEmbedding, causal_mask
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._kit import Kit, activation, check_int, check_prob, export_children, regular_rep
from symm_torch.nn._transformer import (
    PlainTransformerDecoder,
    PlainTransformerDecoderLayer,
    PlainTransformerEncoder,
    PlainTransformerEncoderLayer,
    eTransformerDecoder,
    eTransformerDecoderLayer,
    eTransformerEncoder,
    eTransformerEncoderLayer,
)

__all__ = [
    "CondTransformer",
    "TimeCNNEncoder",
    "eCondTransformer",
    "eTimeCNNEncoder",
    "head_mlp",
    "sinusoidal_embedding",
]

POS_ENCODINGS = ("absolute", "relative", "rotary", "none")
_PLAIN_TRANSFORMER = (
    PlainTransformerEncoderLayer,
    PlainTransformerEncoder,
    PlainTransformerDecoderLayer,
    PlainTransformerDecoder,
)
_EQUIVARIANT_TRANSFORMER = (
    eTransformerEncoderLayer,
    eTransformerEncoder,
    eTransformerDecoderLayer,
    eTransformerDecoder,
)


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of scalar time steps: ``t`` ``(B,)`` → ``(B, dim)`` (``sin`` then ``cos`` of
    ``t · 10000^{−i/(dim/2 − 1)}``). Invariant: ``G`` does not act on time steps."""
    half = dim // 2
    scale = math.log(10000.0) / max(half - 1, 1)
    freqs = torch.exp(-scale * torch.arange(half, dtype=t.dtype, device=t.device))
    ang = t[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(ang), torch.cos(ang)], dim=-1)
    return emb if dim % 2 == 0 else torch.nn.functional.pad(emb, (0, 1))


def timesteps(step: Any, batch: int, like: torch.Tensor) -> torch.Tensor:
    """Diffusion / flow steps as a ``(B,)`` tensor of ``like``'s dtype (a number or a 0-d tensor is broadcast)."""
    t = torch.as_tensor(step, device=like.device).to(like.dtype)
    if t.ndim == 0:
        return t.expand(batch)
    if t.shape != (batch,):
        raise ValueError(f"the time step must be a number or a tensor of shape (B,) = ({batch},), got {tuple(t.shape)}")
    return t


def head_mlp(plain: bool, in_rep: symm.Rep, out_rep: symm.Rep, hidden_units: Sequence[int], act: Any = "ReLU"):
    """EMLP, or IMLP when ``out_rep`` is trivial (``(B, D_in) → (B, D_out)``); plain: an MLP of the same hidden
    widths (no pooling: the twin's last hidden layer feeds the output layer directly)."""
    trivial_out = all(irr.is_trivial for irr in out_rep.irreps)
    if not plain:
        if trivial_out:
            return IMLP(in_rep, out_rep.size, hidden_units, activation=activation(act))
        return EMLP(in_rep, out_rep, hidden_units, activation=activation(act))
    G = in_rep.group
    widths = [in_rep.size, *[regular_rep(G, u).size for u in hidden_units], out_rep.size]
    layers: list[torch.nn.Module] = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(activation(act))
    return torch.nn.Sequential(*layers)


def _out_rep(out_rep: Any, group: symm.Group, name: str = "out_rep") -> symm.Rep:
    return as_rep(out_rep, name, group=group)


# ---------------------------------------------------------------------------------------------- eTimeCNNEncoder
class _TimeCNNCore(torch.nn.Module):
    _plain = False

    def __init__(
        self,
        in_rep: Any,
        out_rep: Any,
        hidden_channels: Sequence[int],
        time_horizon: int,
        activation: Any = "ReLU",
        bias: bool = True,
        mlp_hidden: Sequence[int] = (128,),
        append_last_frame: bool = False,
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        self._args = dict(
            hidden_channels=hidden_channels,
            time_horizon=time_horizon,
            activation=activation,
            bias=bias,
            mlp_hidden=mlp_hidden,
            append_last_frame=append_last_frame,
            kernel_size=kernel_size,
        )
        self.in_type, self.out_type = in_rep, out_rep
        rep = as_rep(in_rep, "in_rep")
        out = _out_rep(out_rep, rep.group)
        check_same_group(rep, out, ("in_rep", "out_rep"))
        self.in_rep, self.out_rep = rep, out
        self.time_horizon = check_int(time_horizon, "time_horizon")
        hidden_channels = list(hidden_channels)
        if not hidden_channels:
            raise ValueError("hidden_channels must name at least one convolution width")
        self.append_last_frame = bool(append_last_frame)
        kit = Kit(self._plain)
        convs: list[torch.nn.Module] = []
        prev, T = rep, self.time_horizon
        for c in hidden_channels:
            nxt = regular_rep(rep.group, check_int(c, "hidden_channels[i]"))
            convs += [kit.conv(prev, nxt, kernel_size, stride=2, padding=kernel_size // 2, bias=bias)]
            convs += [_activation(activation)]
            T = (T + 2 * (kernel_size // 2) - kernel_size) // 2 + 1
            prev = nxt
        if T < 1:
            raise ValueError(f"time_horizon={time_horizon} is too short for {len(hidden_channels)} stride-2 layers")
        self.time_horizon_out = T
        self.convs = torch.nn.Sequential(*convs)
        head_in = symm.direct_sum(*([prev] * T), *([rep] if self.append_last_frame else []))
        self.head = head_mlp(self._plain, head_in, out, list(mlp_hidden), activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, D_in, T)`` (``T = time_horizon``, channels first as in ``torch.nn.Conv1d``) →
        ``(B, D_out)``."""
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1:] != (self.in_rep.size, self.time_horizon):
            raise ValueError(
                f"x must have shape (B, {self.in_rep.size}, {self.time_horizon}) = (batch, in_rep.size, "
                f"time_horizon), got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
            )
        h = self.convs(x)  # (B, C, T_out)
        flat = h.transpose(1, 2).reshape(x.shape[0], -1)  # time-major: T_out blocks of the channel rep
        if self.append_last_frame:
            flat = torch.cat([flat, x[:, :, -1]], dim=1)
        return self.head(flat)


def _activation(act: Any) -> torch.nn.Module:
    return activation(act)


_TIME_CNN_DOC = """
    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of one frame (``D_in`` channels).
    out_rep : symm.Rep, escnn FieldType or int
        Output representation; an int ``n`` (or a rep of trivial irreps) makes an invariant encoder.
    hidden_channels : sequence of int
        Widths of the stride-2 convolutions, each rounded up to copies of the regular rep.
    time_horizon : int
        Number of frames ``T`` of the input.
    activation : str or torch.nn.Module
        Pointwise activation (default ``"ReLU"``).
    bias : bool
    mlp_hidden : sequence of int
        Hidden widths of the head.
    append_last_frame : bool
        Give the head the last input frame too.
    kernel_size : int
        Of the convolutions (padding ``kernel_size // 2``).

    Notes
    -----
    Input ``(B, D_in, T)``; output ``(B, D_out)``. The convolutions leave ``T_out`` frames
    (``time_horizon_out``), flattened time-major into ``T_out`` copies of the channel rep for the head.
"""


class eTimeCNNEncoder(_TimeCNNCore, EquivariantModule):
    __doc__ = (
        """A G-equivariant temporal CNN encoder: stride-2 :class:`~symm_torch.nn.eConv1d` layers, then an
    :class:`~symm_torch.models.EMLP` head (an :class:`~symm_torch.models.IMLP` head when ``out_rep`` is trivial).

    ``f(ρ_in(g) x) = ρ_out(g) f(x)`` with ``G`` acting on the channels of every frame.
"""
        + _TIME_CNN_DOC
        + """    ``export()``: the plain twin :class:`TimeCNNEncoder` holding every layer's export.
"""
    )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - forward is overridden
        return self.forward(x)

    def export(self) -> torch.nn.Module:
        """The plain twin with every layer exported (``Conv1d``, ``Linear``, pooling): the same outputs."""
        return export_children(self, TimeCNNEncoder(self.in_rep, self.out_rep, **self._args))


class TimeCNNEncoder(_TimeCNNCore):
    __doc__ = (
        """The plain twin of :class:`eTimeCNNEncoder` (same signature and widths; ``torch.nn.Conv1d`` and an
    MLP head). For ablations.
"""
        + _TIME_CNN_DOC
    )

    _plain = True


# ---------------------------------------------------------------------------------------------- eCondTransformer
class _CondTransformerCore(torch.nn.Module):
    _plain = False

    def __init__(
        self,
        in_rep: Any,
        cond_rep: Any,
        out_rep: Any,
        in_horizon: int,
        cond_horizon: int,
        num_layers: int,
        num_attention_heads: int,
        embedding_dim: int,
        p_drop_emb: float = 0.1,
        p_drop_attn: float = 0.1,
        causal_attn: bool = False,
        num_cond_layers: int = 0,
        pos_encoding: str = "absolute",
        norm_first: bool = True,
        norm_module: str = "rmsnorm",
        time_embedding_dim: int = 32,
    ) -> None:
        super().__init__()
        self._args = dict(
            in_horizon=in_horizon,
            cond_horizon=cond_horizon,
            num_layers=num_layers,
            num_attention_heads=num_attention_heads,
            embedding_dim=embedding_dim,
            p_drop_emb=p_drop_emb,
            p_drop_attn=p_drop_attn,
            causal_attn=causal_attn,
            num_cond_layers=num_cond_layers,
            pos_encoding=pos_encoding,
            norm_first=norm_first,
            norm_module=norm_module,
            time_embedding_dim=time_embedding_dim,
        )
        rep = as_rep(in_rep, "in_rep")
        cond = as_rep(cond_rep, "cond_rep")
        out = rep if out_rep is None else _out_rep(out_rep, rep.group)
        check_same_group(rep, cond, ("in_rep", "cond_rep"))
        check_same_group(rep, out, ("in_rep", "out_rep"))
        self.in_type, self.out_type = in_rep, out_rep if out_rep is not None else in_rep
        self.in_rep, self.cond_rep, self.out_rep = rep, cond, out
        self.in_horizon = check_int(in_horizon, "in_horizon")
        self.cond_horizon = check_int(cond_horizon, "cond_horizon")
        check_int(num_layers, "num_layers")
        check_int(num_cond_layers, "num_cond_layers", minimum=0)
        if pos_encoding not in POS_ENCODINGS:
            raise ValueError(f"pos_encoding must be one of {POS_ENCODINGS}, got {pos_encoding!r}")
        self.pos_encoding, self.causal_attn = pos_encoding, bool(causal_attn)
        self.time_embedding_dim = check_int(time_embedding_dim, "time_embedding_dim", minimum=2)
        kit = Kit(self._plain)
        G = rep.group
        model = regular_rep(G, check_int(embedding_dim, "embedding_dim"))
        self.model_rep = model
        n_cond_tokens = 1 + self.cond_horizon  # the time-step token, then the condition frames
        self.input_emb = kit.linear(rep, model)
        self.cond_emb = kit.linear(cond, model)
        # the invariant time step enters the invariant subspace of the model rep: Hom_G(trivial^k, ρ_model)
        self.time_emb = kit.linear(G.trivial_rep(self.time_embedding_dim), model)
        if pos_encoding == "absolute":
            pos = PlainPositionalEmbedding if self._plain else InvariantPositionalEmbedding
            self.pos_emb = pos(model, self.in_horizon)
            self.cond_pos_emb = pos(model, n_cond_tokens)
        self.drop = torch.nn.Dropout(check_prob(p_drop_emb, "p_drop_emb"))
        attn: dict[str, Any] = {}
        if pos_encoding == "relative":
            attn["rel_pos_max_distance"] = max(self.in_horizon, n_cond_tokens)
        elif pos_encoding == "rotary":
            attn["rotary"] = "copies"
        layer_args = dict(
            dim_feedforward=4 * model.size,
            dropout=check_prob(p_drop_attn, "p_drop_attn"),
            activation="GELU",
            norm_first=norm_first,
            norm_module=norm_module,
            **attn,
        )
        enc_layer, enc, dec_layer, dec = _PLAIN_TRANSFORMER if self._plain else _EQUIVARIANT_TRANSFORMER
        if num_cond_layers > 0:
            self.encoder = enc(enc_layer(model, num_attention_heads, **layer_args), num_cond_layers)
        else:
            hidden = regular_rep(G, 4 * model.size)
            self.encoder = torch.nn.Sequential(kit.linear(model, hidden), torch.nn.Mish(), kit.linear(hidden, model))
        self.decoder = dec(dec_layer(model, num_attention_heads, **layer_args), num_layers)
        # post-norm layers already end in a norm (a second eLayerNorm would cancel the first one's bias)
        self.ln_f = kit.norm(norm_module, model) if norm_first else torch.nn.Identity()
        self.head = kit.linear(model, out)

    def forward(self, X: torch.Tensor, opt_step: torch.Tensor | float | int, Z: torch.Tensor) -> torch.Tensor:
        """``X`` ``(B, T, D_in)`` with ``T ≤ in_horizon``; ``opt_step`` a number or ``(B,)`` (the diffusion or
        flow step, invariant); ``Z`` ``(B, T_c, D_cond)`` with ``T_c ≤ cond_horizon`` (or ``(B, D_cond)``, one
        frame) → ``(B, T, D_out)``."""
        D, Dc = self.in_rep.size, self.cond_rep.size
        if not isinstance(X, torch.Tensor) or X.ndim != 3 or X.shape[-1] != D or X.shape[1] > self.in_horizon:
            raise ValueError(
                f"X must have shape (B, T, {D}) with T <= in_horizon={self.in_horizon}, got "
                f"{tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__}"
            )
        if isinstance(Z, torch.Tensor) and Z.ndim == 2:
            Z = Z[:, None]
        if (
            not isinstance(Z, torch.Tensor)
            or Z.ndim != 3
            or Z.shape[-1] != Dc
            or Z.shape[0] != X.shape[0]
            or Z.shape[1] > self.cond_horizon
        ):
            raise ValueError(
                f"Z must have shape (B, T_c, {Dc}) or (B, {Dc}) with B={X.shape[0]} and T_c <= cond_horizon="
                f"{self.cond_horizon}, got {tuple(Z.shape) if isinstance(Z, torch.Tensor) else type(Z).__name__}"
            )
        B, T = X.shape[:2]
        t = timesteps(opt_step, B, X)
        time_tok = self.time_emb(sinusoidal_embedding(t, self.time_embedding_dim))[:, None]  # (B, 1, D_m)
        cond = torch.cat([time_tok, self.cond_emb(Z)], dim=1)  # (B, 1 + T_c, D_m)
        x = self.input_emb(X)
        if self.pos_encoding == "absolute":
            cond, x = self.cond_pos_emb(cond), self.pos_emb(x)
        memory = self.encoder(self.drop(cond))
        x = self.drop(x)
        tgt_mask = memory_mask = None
        if self.causal_attn:  # action t sees actions ≤ t, the time step and condition frames ≤ t
            tgt_mask = causal_mask(T, T, X.device, X.dtype)
            memory_mask = causal_mask(T, cond.shape[1], X.device, X.dtype).roll(1, dims=1)
            memory_mask[:, 0] = 0.0
        x = self.decoder(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask)
        return self.head(self.ln_f(x))


_COND_DOC = """
    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of one input frame (e.g. an action), ``D_in``.
    cond_rep : symm.Rep or escnn FieldType
        Representation of one condition frame (e.g. an observation), ``D_cond``.
    out_rep : symm.Rep, escnn FieldType, int or None
        Output frame representation (``None``: ``in_rep``).
    in_horizon, cond_horizon : int
        Longest input and condition sequences.
    num_layers : int
        Decoder layers.
    num_attention_heads : int
        Heads; must divide the number of regular copies of the model rep.
    embedding_dim : int
        Width of the model, rounded up to copies of the regular rep.
    p_drop_emb, p_drop_attn : float
        Dropout on the embeddings and inside the layers (training only).
    causal_attn : bool
        Frame ``t`` attends to frames ``≤ t``, the time step and condition frames ``≤ t``.
    num_cond_layers : int
        Encoder layers over the condition tokens (0: a two-layer MLP, as in diffusion policy).
    pos_encoding : {"absolute", "relative", "rotary", "none"}
        Invariant positions: learned absolute embeddings in the invariant subspace, a relative bias on the
        logits, or rotary embeddings on the multiplicity space (``rotary="copies"``).
    norm_first : bool
    norm_module : {"rmsnorm", "layernorm"}
    time_embedding_dim : int
        Sinusoidal features of the time step (mapped to the invariant subspace of the model rep).

    Notes
    -----
    ``forward(X, opt_step, Z)``: ``X`` ``(B, T, D_in)``, ``opt_step`` a number or ``(B,)``, ``Z``
    ``(B, T_c, D_cond)`` or ``(B, D_cond)`` → ``(B, T, D_out)``.
"""


class eCondTransformer(_CondTransformerCore, EquivariantModule):
    __doc__ = (
        """A G-equivariant conditional transformer regressor (the transformer of diffusion and flow policies).

    The condition frames and the time step become tokens of the model rep (copies of the regular rep; the
    time step in its invariant subspace); an encoder (or MLP) processes them; an
    :class:`~symm_torch.nn.eTransformerDecoder` attends from the embedded input frames to them; an eLinear
    head maps to ``out_rep``. ``f(ρ_in(g) X, t, ρ_cond(g) Z) = ρ_out(g) f(X, t, Z)``.
"""
        + _COND_DOC
        + """    ``export()``: the plain twin :class:`CondTransformer` holding every layer's export.
"""
    )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise TypeError("eCondTransformer needs forward(X, opt_step, Z)")

    def export(self) -> torch.nn.Module:
        """The plain twin with every layer exported: the same outputs, no symm needed."""
        return export_children(self, CondTransformer(self.in_rep, self.cond_rep, self.out_rep, **self._args))


class CondTransformer(_CondTransformerCore):
    __doc__ = (
        """The plain twin of :class:`eCondTransformer` (same signature and widths, ``torch.nn`` layers). For
    ablations.
"""
        + _COND_DOC
    )

    _plain = True
