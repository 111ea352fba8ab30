r"""Equivariant multi-head attention and invariant positional information.

Why the heads must be G-invariant blocks. Attention compares a query and a key by their inner product. With
equivariant projections, ``q ↦ ρ(g) q`` and ``k ↦ ρ(g) k``; the logit of a head ``h`` stays the same for every
``g`` when ``⟨P_h ρ(g) q, P_h ρ(g) k⟩ = ⟨P_h q, P_h k⟩``, i.e. when the coordinates of the head span a
subrepresentation on which ``ρ`` is orthogonal. In the isotypic basis ``z = Qᵀ x``,
``ρ(g) = ⊕_k I_{m_k} ⊗ ρ̂_k(g)``: every irreducible copy is such a block, and so is any union of whole copies.

The rule (:func:`head_partition`): every head takes ``m_k / H`` copies of every irrep ``k``, so ``H`` must divide
every multiplicity ``m_k`` of ``in_rep``. All heads then carry the same rep, of size ``D / H``. For ``n``
copies of the regular rep this means ``H`` divides ``n`` (each head a union of regular copies), and in general
the valid head counts are the divisors of ``gcd(m_k)``.

Positions never touch the group action: ``G`` acts on the features, not on time, so anything that depends only
on positions is invariant. Three ways to give the model positions:

- :class:`InvariantPositionalEmbedding`: a learned absolute embedding in the invariant subspace
  (``x_t + Q_triv β_t``; ``ρ(g) Q_triv β_t = Q_triv β_t``);
- ``rel_pos_max_distance``: a learned bias per head and clipped offset ``j − i`` added to the logits;
- ``rotary``: rotary embeddings (RoPE). A rotation ``R_t`` of a pair of coordinates commutes with ``ρ(g)`` only
  when the pair lies in the multiplicity space: both coordinates invariant (``rotary="invariant"``), or, more
  generally, the same coordinate of two copies of the same irrep, rotated together (``R_t ⊗ I_{d_k}``,
  ``rotary="copies"``). Rotating the coordinates *within* a non-trivial copy would break equivariance, so it is
  not offered.
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Any

import numpy as np
import symm
import torch
import torch.nn.functional as F

from symm_torch._reps import as_rep
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._kit import Kit, check_int, check_prob
from symm_torch.nn._linear import eLinear, invariant_basis

__all__ = [
    "ROTARY_MODES",
    "InvariantPositionalEmbedding",
    "PlainMultiheadAttention",
    "PlainPositionalEmbedding",
    "causal_mask",
    "eMultiheadAttention",
    "head_partition",
]

ROTARY_MODES = (None, "invariant", "copies")


# ---------------------------------------------------------------------------------------------- head layout
def head_partition(rep: symm.Rep, num_heads: int) -> np.ndarray:
    """Isotypic coordinates of every head, shape ``(num_heads, D / num_heads)``.

    Head ``h`` takes copies ``h m_k/H … (h+1) m_k/H − 1`` of every irrep ``k`` (whole copies, in isotypic
    order), so every head is a G-invariant block on which the Euclidean inner product is invariant.

    Raises
    ------
    ValueError
        If ``num_heads`` does not divide the multiplicity of every irrep of ``rep``.
    """
    H = check_int(num_heads, "num_heads")
    comps = rep.isotypic_components
    bad = [c for c in comps if c.multiplicity % H]
    if bad:
        g = reduce(math.gcd, [c.multiplicity for c in comps])
        valid = [h for h in range(1, g + 1) if g % h == 0]
        mults = ", ".join(f"{c.irrep.name}: {c.multiplicity}" for c in comps)
        raise ValueError(
            f"num_heads={H} cannot split {rep.name} into G-invariant heads: every head must hold whole "
            f"irreducible copies, the same number of each irrep, so num_heads must divide every multiplicity "
            f"({mults}). Valid head counts here: {valid}. Use copies of the regular rep (n copies: any divisor "
            f"of n) or change num_heads."
        )
    heads: list[list[int]] = [[] for _ in range(H)]
    for c in comps:
        d, per = c.irrep.dim, c.multiplicity // H
        for h in range(H):
            start = c.slice.start + h * per * d
            heads[h].extend(range(start, start + per * d))
    return np.array(heads, dtype=np.int64)


def _rotary_pairs(rep: symm.Rep, num_heads: int, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Head-local coordinate pairs ``(a, b)`` rotated together and their frequency index, equivariant layout."""
    a, b, f = [], [], []
    off, n_freq = 0, 0
    for c in rep.isotypic_components:
        d, per = c.irrep.dim, c.multiplicity // num_heads
        if mode == "copies" or c.irrep.is_trivial:
            for j in range(per // 2):
                for i in range(d):
                    a.append(off + 2 * j * d + i)
                    b.append(off + (2 * j + 1) * d + i)
                    f.append(n_freq)
                n_freq += 1
        off += per * d
    if not a:
        raise ValueError(
            f"rotary={mode!r} needs two {'trivial copies' if mode == 'invariant' else 'copies of one irrep'} per "
            f"head to rotate together; {rep.name} with {num_heads} heads has none. Use fewer heads, more copies"
            f"{', rotary=' + repr('copies') if mode == 'invariant' else ''}, rel_pos_max_distance or "
            "InvariantPositionalEmbedding."
        )
    return np.array(a), np.array(b), np.array(f) / max(n_freq, 1)


def _plain_rotary_pairs(head_dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if head_dim < 2:
        raise ValueError(f"rotary needs a head dimension >= 2, got {head_dim}")
    n = head_dim // 2
    return np.arange(0, 2 * n, 2), np.arange(1, 2 * n, 2), np.arange(n) / n


# ---------------------------------------------------------------------------------------------- torch-only math
def _as_float_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, float("-inf"))
    return mask.to(dtype)


def merge_masks(
    attn_mask: torch.Tensor | None,
    key_padding_mask: torch.Tensor | None,
    is_causal: bool,
    B: int,
    H: int,
    L: int,
    S: int,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor | None:
    """One additive mask broadcastable to ``(B, H, L, S)`` from torch.nn.MultiheadAttention's masks.

    ``attn_mask``: ``(L, S)`` or ``(B·H, L, S)``, bool (``True``: may not attend) or float (added to the logits).
    ``key_padding_mask``: ``(B, S)``, bool (``True``: padding, ignored) or float (added). ``is_causal`` without
    ``attn_mask``: the causal mask (query ``i`` sees keys ``j ≤ i``).
    """
    mask = None
    if attn_mask is not None:
        if attn_mask.shape == (L, S):
            mask = _as_float_mask(attn_mask, dtype)
        elif attn_mask.shape == (B * H, L, S):
            mask = _as_float_mask(attn_mask, dtype).view(B, H, L, S)
        else:
            raise ValueError(
                f"attn_mask must have shape (L, S) = {(L, S)} or (B·num_heads, L, S) = {(B * H, L, S)}, "
                f"got {tuple(attn_mask.shape)}"
            )
    elif is_causal:
        mask = causal_mask(L, S, device, dtype)
    if key_padding_mask is not None:
        if key_padding_mask.shape != (B, S):
            raise ValueError(f"key_padding_mask must have shape (B, S) = {(B, S)}, got {tuple(key_padding_mask.shape)}")
        kpm = _as_float_mask(key_padding_mask, dtype).view(B, 1, 1, S)
        mask = kpm if mask is None else mask + kpm
    return mask


def causal_mask(L: int, S: int | None = None, device: Any = None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """The float causal mask (as ``torch.nn.Transformer.generate_square_subsequent_mask``): ``-inf`` where key
    ``j > i`` (query ``i``), 0 elsewhere, shape ``(L, S)`` (``S = L`` by default)."""
    S = L if S is None else S
    dtype = dtype or torch.get_default_dtype()
    return torch.zeros(L, S, dtype=dtype, device=device).masked_fill(
        torch.ones(L, S, dtype=torch.bool, device=device).triu(1), float("-inf")
    )


def apply_rotary(
    x: torch.Tensor, idx_a: torch.Tensor, idx_b: torch.Tensor, inv_freq: torch.Tensor, base: float
) -> torch.Tensor:
    """Rotate the coordinate pairs ``(a, b)`` of ``x`` (``(B, H, T, d_h)``) by ``t · base^(−f)`` at position t."""
    T = x.shape[-2]
    pos = torch.arange(T, dtype=x.dtype, device=x.device)
    ang = pos[:, None] * torch.pow(torch.tensor(base, dtype=x.dtype, device=x.device), -inv_freq.to(x.dtype))
    cos, sin = torch.cos(ang), torch.sin(ang)
    xa, xb = x.index_select(-1, idx_a), x.index_select(-1, idx_b)
    return x.index_copy(-1, idx_a, xa * cos - xb * sin).index_copy(-1, idx_b, xa * sin + xb * cos)


class RelativePositionBias(torch.nn.Module):
    """A learned bias per head and clipped offset ``clamp(j − i, −M, M)``, added to the attention logits.

    Invariant by construction: it depends on positions only. ``forward(L, S)`` gives ``(H, L, S)``.
    """

    def __init__(self, num_heads: int, max_distance: int) -> None:
        super().__init__()
        self.max_distance = check_int(max_distance, "rel_pos_max_distance")
        self.table = torch.nn.Parameter(torch.zeros(num_heads, 2 * self.max_distance + 1))

    def forward(self, L: int, S: int) -> torch.Tensor:
        dev = self.table.device
        offset = torch.arange(S, device=dev)[None, :] - torch.arange(L, device=dev)[:, None]
        idx = offset.clamp(-self.max_distance, self.max_distance) + self.max_distance
        return self.table[:, idx]


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    mask: torch.Tensor | None,
    dropout_p: float,
    need_weights: bool,
    average_attn_weights: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Scaled dot-product attention on ``(B, H, T, d_h)``; weights ``(B, L, S)`` (averaged) or ``(B, H, L, S)``."""
    if not need_weights:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p), None
    logits = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits + mask
    w = torch.softmax(logits, dim=-1)
    if dropout_p > 0:
        w = F.dropout(w, dropout_p)
    out = w @ v
    return out, (w.mean(1) if average_attn_weights else w)


# ---------------------------------------------------------------------------------------------- the module
class _AttentionCore(torch.nn.Module):
    """Multi-head attention written once for the equivariant module and its plain twin (see ``_kit``)."""

    _plain = False

    def __init__(
        self,
        in_rep: Any,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        *,
        rel_pos_max_distance: int | None = None,
        rotary: str | None = None,
        rotary_base: float = 10000.0,
        init_scheme: str = "xavier_uniform",
    ) -> None:
        super().__init__()
        rep = as_rep(in_rep, "in_rep")
        self.in_type = self.out_type = in_rep
        self.in_rep = self.out_rep = rep
        self.num_heads = H = check_int(num_heads, "num_heads")
        self.dropout = check_prob(dropout)
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {bias!r}")
        if rotary not in ROTARY_MODES:
            raise ValueError(f"rotary must be one of {ROTARY_MODES}, got {rotary!r}")
        D = rep.size
        if self._plain:
            if D % H:
                raise ValueError(f"num_heads={H} must divide the feature size {D}")
            heads = None
        else:
            heads = head_partition(rep, H)
        self.head_dim = D // H
        self.embed_dim = D
        kit = Kit(self._plain)
        self.q_proj = kit.linear(rep, rep, bias, init_scheme)
        self.k_proj = kit.linear(rep, rep, bias, init_scheme)
        self.v_proj = kit.linear(rep, rep, bias, init_scheme)
        self.out_proj = kit.linear(rep, rep, bias, init_scheme)
        self.rel_pos = None if rel_pos_max_distance is None else RelativePositionBias(H, rel_pos_max_distance)
        self.rotary, self.rotary_base = rotary, float(rotary_base)
        if heads is not None:
            # columns of Q in head order: z = x @ Q_heads has head h in columns h·d_h … (h+1)·d_h − 1
            self._register_constant("Q_heads", rep.change_of_basis[:, heads.reshape(-1)])
        if rotary is not None:
            a, b, f = _plain_rotary_pairs(self.head_dim) if self._plain else _rotary_pairs(rep, H, rotary)
            self.register_buffer("rot_a", torch.as_tensor(a, dtype=torch.long), persistent=False)
            self.register_buffer("rot_b", torch.as_tensor(b, dtype=torch.long), persistent=False)
            self.register_buffer("rot_freq", torch.as_tensor(f, dtype=torch.float64), persistent=False)

    # weights in head layout: W' = Q_headsᵀ W (input projections), W_out' = W_out Q_heads
    def _proj(self, layer: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
        if isinstance(layer, eLinear):
            return layer.expanded()
        return layer.weight, layer.bias

    def head_weights(self) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, torch.Tensor | None]:
        """``(W_in (3D, D), b_in (3D,) or None, W_out (D, D), b_out or None)`` with the heads contiguous (in the
        layout of ``torch.nn.MultiheadAttention``): head ``h`` is rows ``h·d_h … (h+1)·d_h − 1`` of each of the
        query, key and value blocks."""
        ws, bs = [], []
        for layer in (self.q_proj, self.k_proj, self.v_proj):
            w, b = self._proj(layer)
            if not self._plain:
                Qh = self.Q_heads
                w = Qh.transpose(0, 1) @ w
                b = None if b is None else b @ Qh
            ws.append(w)
            bs.append(b)
        w_out, b_out = self._proj(self.out_proj)
        if not self._plain:
            w_out = w_out @ self.Q_heads
        b_in = None
        if any(b is not None for b in bs):
            b_in = torch.cat([b if b is not None else torch.zeros_like(ws[0][:, 0]) for b in bs])
        return torch.cat(ws), b_in, w_out, b_out

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor | None = None,
        value: torch.Tensor | None = None,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend from ``query`` to ``key``/``value`` (``None``: self-attention on ``query``).

        Parameters
        ----------
        query : torch.Tensor
            ``(B, L, D)``.
        key, value : torch.Tensor, optional
            ``(B, S, D)`` each (default: ``query``).
        key_padding_mask : torch.Tensor, optional
            ``(B, S)``; bool ``True`` marks padding (ignored keys), a float mask is added to the logits.
        need_weights : bool
            Also return the attention weights (computed explicitly; without them the fused
            ``scaled_dot_product_attention`` runs).
        attn_mask : torch.Tensor, optional
            ``(L, S)`` or ``(B·num_heads, L, S)``; bool ``True``: may not attend; float: added to the logits.
        average_attn_weights : bool
            Weights averaged over heads ``(B, L, S)``, else ``(B, num_heads, L, S)``.
        is_causal : bool
            Without ``attn_mask``: apply the causal mask (query ``i`` sees keys ``j ≤ i``). With ``attn_mask``,
            ``attn_mask`` is used, as in torch.

        Returns
        -------
        (torch.Tensor, torch.Tensor or None)
            The output ``(B, L, D)`` and the weights (invariant: the same for ``ρ(g)``-transformed inputs).
        """
        key = query if key is None else key
        value = key if value is None else value
        D = self.embed_dim
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, torch.Tensor) or t.ndim != 3 or t.shape[-1] != D:
                raise ValueError(
                    f"{name} must have shape (B, T, {D}) (batch first, features last), got "
                    f"{tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}"
                )
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(
                f"query (B, L, D), key and value (B, S, D) must agree on B and S, got {tuple(query.shape)}, "
                f"{tuple(key.shape)} and {tuple(value.shape)}"
            )
        if not self._plain:
            self._check_dtype(query, "query")
        w_in, b_in, w_out, b_out = self.head_weights()
        B, L, _ = query.shape
        S = key.shape[1]
        H, dh = self.num_heads, self.head_dim
        if key is query and value is query:
            q, k, v = F.linear(query, w_in, b_in).chunk(3, dim=-1)
        else:
            bq, bk, bv = (None, None, None) if b_in is None else b_in.chunk(3)
            wq, wk, wv = w_in.chunk(3)
            q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)
        q = q.reshape(B, L, H, dh).transpose(1, 2)
        k = k.reshape(B, S, H, dh).transpose(1, 2)
        v = v.reshape(B, S, H, dh).transpose(1, 2)
        if self.rotary is not None:
            q = apply_rotary(q, self.rot_a, self.rot_b, self.rot_freq, self.rotary_base)
            k = apply_rotary(k, self.rot_a, self.rot_b, self.rot_freq, self.rotary_base)
        mask = merge_masks(attn_mask, key_padding_mask, is_causal, B, H, L, S, q.dtype, q.device)
        if self.rel_pos is not None:
            rel = self.rel_pos(L, S).to(q.dtype)
            mask = rel if mask is None else mask + rel
        p = self.dropout if self.training else 0.0
        out, weights = attend(q, k, v, mask, p, need_weights, average_attn_weights)
        out = F.linear(out.transpose(1, 2).reshape(B, L, D), w_out, b_out)
        return out, weights


class eMultiheadAttention(_AttentionCore, EquivariantModule):
    r"""G-equivariant multi-head attention, batch first: ``(B, L, D) × (B, S, D) → (B, L, D)``.

    Query, key and value are :class:`~symm_torch.nn.eLinear` maps ``ρ → ρ``; the heads are G-invariant blocks
    of the isotypic basis (:func:`head_partition`), so every head's logits ``⟨q_h, k_h⟩ / √d_h`` are invariant
    and the softmax weights are the same for ``ρ(g)``-transformed inputs; the weighted sum of values is then
    equivariant and so is the output projection (an ``eLinear``):

    .. math::

        \mathrm{MHA}(ρ(g) Q, ρ(g) K, ρ(g) V) = ρ(g)\, \mathrm{MHA}(Q, K, V).

    **Head rule**: ``num_heads`` must divide the multiplicity of every irrep of ``in_rep`` (head ``h`` takes
    ``m_k / H`` copies of each irrep ``k``). For ``n`` copies of the regular rep: any divisor of ``n``.
    Otherwise ``ValueError`` says which multiplicities block the split and lists the valid head counts.

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of the features (size ``D``).
    num_heads : int
    dropout : float
        Dropout on the attention weights (training only; eval is exactly equivariant).
    bias : bool
        Invariant biases in the four projections.
    rel_pos_max_distance : int, optional
        Learned relative-position bias per head, offsets clipped to ``±rel_pos_max_distance`` (invariant).
    rotary : {None, "invariant", "copies"}
        Rotary embeddings on the multiplicity space (see the module notes): ``"invariant"`` rotates pairs of
        trivial copies of each head, ``"copies"`` pairs of copies of every irrep (``R_t ⊗ I_{d_k}``). Both
        commute with ``ρ(g)``; rotating inside an irreducible copy would not, and is not offered.
    rotary_base : float
        Base of the rotary frequencies ``base^{−p/P}``.
    init_scheme : str
        Of the four ``eLinear`` maps.

    Notes
    -----
    ``forward(query, key=None, value=None, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` follows ``torch.nn.MultiheadAttention`` (batch first):
    masks with the same meaning and shapes, returns ``(output (B, L, D), weights or None)``.

    ``export()`` returns a ``torch.nn.MultiheadAttention`` (``batch_first=True``) with the same outputs and
    weights, or, with relative or rotary positions (which torch's module lacks), the plain twin
    :class:`PlainMultiheadAttention` holding the same weights.
    """

    def __init__(self, in_rep: Any, num_heads: int, dropout: float = 0.0, bias: bool = True, **kwargs: Any) -> None:
        super().__init__(in_rep, num_heads, dropout, bias, **kwargs)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - forward is overridden
        return self.forward(x, need_weights=False)[0]

    def export(self) -> torch.nn.Module:
        """``torch.nn.MultiheadAttention`` with the folded weights (no positions), else the plain twin."""
        with torch.no_grad():
            w_in, b_in, w_out, b_out = (t.detach().clone() if t is not None else None for t in self.head_weights())
        D, dev, dtype = self.embed_dim, w_in.device, w_in.dtype
        if self.rel_pos is None and self.rotary is None:
            has_bias = b_in is not None or b_out is not None
            mha = torch.nn.MultiheadAttention(
                D, self.num_heads, dropout=self.dropout, bias=has_bias, batch_first=True, device=dev, dtype=dtype
            )
            with torch.no_grad():
                mha.in_proj_weight.copy_(w_in)
                mha.out_proj.weight.copy_(w_out)
                if has_bias:
                    mha.in_proj_bias.copy_(b_in if b_in is not None else torch.zeros_like(mha.in_proj_bias))
                    mha.out_proj.bias.copy_(b_out if b_out is not None else torch.zeros_like(mha.out_proj.bias))
            return mha.train(self.training)
        twin = PlainMultiheadAttention(
            self.in_rep,
            self.num_heads,
            self.dropout,
            True,
            rel_pos_max_distance=None if self.rel_pos is None else self.rel_pos.max_distance,
            rotary=self.rotary,
            rotary_base=self.rotary_base,
        ).to(device=dev, dtype=dtype)
        with torch.no_grad():
            for layer, w, b in zip(
                (twin.q_proj, twin.k_proj, twin.v_proj, twin.out_proj),
                (*w_in.chunk(3), w_out),
                (*(b_in.chunk(3) if b_in is not None else (None,) * 3), b_out),
                strict=True,
            ):
                layer.weight.copy_(w)
                layer.bias.copy_(b if b is not None else torch.zeros_like(layer.bias))
            if self.rel_pos is not None:
                twin.rel_pos.table.copy_(self.rel_pos.table)
        if self.rotary is not None:  # the equivariant module's rotated pairs, in head layout
            twin.rot_a, twin.rot_b, twin.rot_freq = self.rot_a.clone(), self.rot_b.clone(), self.rot_freq.clone()
        return twin.train(self.training)


class PlainMultiheadAttention(_AttentionCore):
    """The plain twin of :class:`eMultiheadAttention`: the same signature and widths, ``torch.nn.Linear``
    projections, contiguous heads (``num_heads`` must divide ``D``); ``rotary`` (any mode) rotates consecutive
    coordinate pairs of each head. For ablations.

    Notes
    -----
    Input and output as in :class:`eMultiheadAttention`: ``(B, L, D)``, ``(B, S, D)`` → ``(B, L, D)``.
    """

    _plain = True

    def __init__(self, in_rep: Any, num_heads: int, dropout: float = 0.0, bias: bool = True, **kwargs: Any) -> None:
        super().__init__(in_rep, num_heads, dropout, bias, **kwargs)


# ---------------------------------------------------------------------------------------------- absolute positions
class PlainPositionalEmbedding(torch.nn.Module):
    """A learned absolute positional embedding ``x_t + p_t``, ``p ∈ R^{max_len × D}`` (zero-initialised).

    Notes
    -----
    Input ``(B, T, D)`` with ``T ≤ max_len``; output ``(B, T, D)``.
    """

    def __init__(self, in_rep: Any, max_len: int) -> None:
        super().__init__()
        size = in_rep if isinstance(in_rep, int) else as_rep(in_rep, "in_rep").size
        self.max_len = check_int(max_len, "max_len")
        self.table = torch.nn.Parameter(torch.zeros(self.max_len, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = _check_positions(x, self.table.shape[1], self.max_len)
        return x + self.table[:T]


def _check_positions(x: torch.Tensor, D: int, max_len: int) -> int:
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != D:
        raise ValueError(
            f"x must have shape (B, T, {D}), got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x)}"
        )
    if x.shape[1] > max_len:
        raise ValueError(f"sequence length {x.shape[1]} exceeds max_len={max_len} of the positional embedding")
    return x.shape[1]


class InvariantPositionalEmbedding(EquivariantModule):
    r"""A learned absolute positional embedding in the invariant subspace: ``y_t = x_t + Q_{triv} β_t``.

    ``ρ(g) Q_triv β_t = Q_triv β_t``, so adding it commutes with the group action for every position. Only
    the ``m_triv`` invariant coordinates carry positions (``β ∈ R^{max_len × m_triv}``, zero-initialised).

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Must contain the trivial irrep (``ValueError`` otherwise: the invariant subspace would be 0).
    max_len : int
        Longest sequence.

    Notes
    -----
    Input ``(B, T, D)`` with ``T ≤ max_len``; output ``(B, T, D)``. ``export()``: a
    :class:`PlainPositionalEmbedding` holding ``β Q_trivᵀ``.
    """

    _features_last = True

    def __init__(self, in_rep: Any, max_len: int) -> None:
        super().__init__()
        self.in_type = self.out_type = in_rep
        self.in_rep = self.out_rep = as_rep(in_rep, "in_rep")
        self.max_len = check_int(max_len, "max_len")
        q = invariant_basis(self.in_rep)
        if q.shape[1] == 0:
            raise ValueError(
                f"InvariantPositionalEmbedding: {self.in_rep.name} has no trivial irrep, so no invariant direction "
                "can carry positions; add a trivial copy, or use rel_pos_max_distance / rotary='copies' in the "
                "attention"
            )
        self._register_constant("Q_inv", q)
        self.table = torch.nn.Parameter(torch.zeros(self.max_len, q.shape[1]))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        T = _check_positions(x, self.in_rep.size, self.max_len)
        self._check_dtype(x)
        return x + self.table[:T] @ self.Q_inv.transpose(0, 1)

    def export(self) -> PlainPositionalEmbedding:
        """A :class:`PlainPositionalEmbedding` with table ``β Q_trivᵀ`` (same outputs)."""
        out = PlainPositionalEmbedding(self.in_rep.size, self.max_len).to(self.table.device, self.table.dtype)
        with torch.no_grad():
            out.table.copy_(self.table @ self.Q_inv.transpose(0, 1))
        return out
