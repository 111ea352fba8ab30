"""eConditionalUnet1D: the 1-D U-Net of diffusion and flow policies, equivariant, with its plain twin.

Conditioning, and why it stays equivariant:

- the diffusion/flow step ``t`` is invariant (``G`` does not act on it): sinusoidal features and a plain MLP;
- the global condition ``c`` (of ``cond_rep``) enters twice: through invariant features, an
  :class:`~symm_torch.models.IMLP` of ``c``, and through an equivariant map ``eLinear(cond_rep, ρ_block)``
  added to every frame of each residual block (``ρ(g)`` moves it as it moves the block's features);
- FiLM: a plain ``Linear`` of the invariant features ``[emb(t), IMLP(c)]`` gives one scale per irreducible copy
  and one bias per trivial copy of the block's rep, applied by ``eAffine(learnable=False)``: a scale shared by the
  coordinates of one irreducible copy commutes with ``ρ(g)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import symm
import torch

from symm_torch._reps import as_rep, check_same_group
from symm_torch.models._sequence import head_mlp, sinusoidal_embedding, timesteps
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._kit import Kit, activation, check_int, export_children, regular_rep

__all__ = ["ConditionalUnet1D", "eConditionalUnet1D"]


class _ChannelsLast(torch.nn.Module):
    """Apply a features-last module to ``(B, C, T)``."""

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.transpose(1, 2)).transpose(1, 2)


def _conv_block(kit: Kit, rep_in: symm.Rep, rep_out: symm.Rep, k: int, act: Any, norm: bool) -> torch.nn.Sequential:
    layers = [kit.conv(rep_in, rep_out, k, padding=k // 2)]
    if norm:
        layers.append(_ChannelsLast(kit.norm("rmsnorm", rep_out)))
    layers.append(activation(act))
    return torch.nn.Sequential(*layers)


class _ResidualBlock(torch.nn.Module):
    """conv block → FiLM (+ equivariant condition) → conv block, plus a (1×1 conv) residual."""

    def __init__(
        self,
        kit: Kit,
        rep_in: symm.Rep,
        rep_out: symm.Rep,
        cond_rep: symm.Rep | None,
        film_dim: int,
        k: int,
        act: Any,
        norm: bool,
        predict_scale: bool,
    ) -> None:
        super().__init__()
        self.block1 = _conv_block(kit, rep_in, rep_out, k, act, norm)
        self.block2 = _conv_block(kit, rep_out, rep_out, k, act, norm)
        self.film, self.n_scale, self.n_bias = kit.film(rep_out)
        self.predict_scale = predict_scale
        self.film_gen = torch.nn.Linear(film_dim, (self.n_scale if predict_scale else 0) + self.n_bias)
        torch.nn.init.zeros_(self.film_gen.weight)  # start as the identity modulation
        torch.nn.init.zeros_(self.film_gen.bias)
        self.cond_map = kit.linear(cond_rep, rep_out) if cond_rep is not None else None
        self.residual = kit.conv(rep_in, rep_out, 1) if rep_in is not rep_out else torch.nn.Identity()

    def forward(self, x: torch.Tensor, feats: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        h = self.block1(x).transpose(1, 2)  # (B, T, C)
        p = self.film_gen(feats)[:, None]  # (B, 1, n_scale + n_bias)
        if self.predict_scale:
            scale = 1.0 + p[..., : self.n_scale]
        else:
            scale = torch.ones((*p.shape[:-1], self.n_scale), dtype=p.dtype, device=p.device)
        bias = p[..., p.shape[-1] - self.n_bias :] if self.n_bias else None
        h = self.film(h, scale, bias)
        if self.cond_map is not None and cond is not None:
            h = h + self.cond_map(cond)[:, None]
        return self.block2(h.transpose(1, 2)) + self.residual(x)


class _UnetCore(torch.nn.Module):
    _plain = False

    def __init__(
        self,
        in_rep: Any,
        cond_rep: Any = None,
        diffusion_step_embed_dim: int = 64,
        down_dims: Sequence[int] = (64, 128, 256),
        kernel_size: int = 3,
        cond_predict_scale: bool = True,
        activation: Any = "Mish",
        normalize: bool = True,
        cond_embed_dim: int | None = None,
    ) -> None:
        super().__init__()
        self._args = dict(
            diffusion_step_embed_dim=diffusion_step_embed_dim,
            down_dims=down_dims,
            kernel_size=kernel_size,
            cond_predict_scale=cond_predict_scale,
            activation=activation,
            normalize=normalize,
            cond_embed_dim=cond_embed_dim,
        )
        rep = as_rep(in_rep, "in_rep")
        cond = None if cond_rep is None else as_rep(cond_rep, "cond_rep")
        if cond is not None:
            check_same_group(rep, cond, ("in_rep", "cond_rep"))
        self.in_type = self.out_type = in_rep
        self.in_rep = self.out_rep = rep
        self.cond_rep = cond
        G = rep.group
        kit = Kit(self._plain)
        k = check_int(kernel_size, "kernel_size")
        if k % 2 == 0:
            raise ValueError(f"kernel_size must be odd (padding kernel_size // 2 keeps the length), got {k}")
        dims = [check_int(d, "down_dims[i]") for d in down_dims]
        if not dims:
            raise ValueError("down_dims must name at least one level")
        dsed = check_int(diffusion_step_embed_dim, "diffusion_step_embed_dim", minimum=2)
        self.dsed = dsed
        self.step_encoder = torch.nn.Sequential(
            torch.nn.Linear(dsed, 4 * dsed), torch.nn.Mish(), torch.nn.Linear(4 * dsed, dsed)
        )
        film_dim = dsed
        self.cond_encoder = None
        if cond is not None:
            ced = dsed if cond_embed_dim is None else check_int(cond_embed_dim, "cond_embed_dim")
            self.cond_encoder = head_mlp(self._plain, cond, G.trivial_rep(ced), [max(ced, 2 * G.order)], "Mish")
            film_dim += ced
        reps = [rep] + [regular_rep(G, d) for d in dims]
        self.n_levels = len(dims)

        def block(a: symm.Rep, b: symm.Rep) -> _ResidualBlock:
            return _ResidualBlock(kit, a, b, cond, film_dim, k, activation, normalize, cond_predict_scale)

        self.down = torch.nn.ModuleList()
        for i in range(len(dims)):
            a, b = reps[i], reps[i + 1]
            last = i == len(dims) - 1
            down = kit.conv(b, b, 3, stride=2, padding=1) if not last else torch.nn.Identity()
            self.down.append(torch.nn.ModuleList([block(a, b), block(b, b), down]))
        mid = reps[-1]
        self.mid = torch.nn.ModuleList([block(mid, mid), block(mid, mid)])
        self.up = torch.nn.ModuleList()
        for i in reversed(range(1, len(dims))):
            a, b = reps[i + 1], reps[i]  # from level i+1 (with the skip of level i+1) up to level i
            cat = symm.direct_sum(a, a)  # [features, skip]: both of level i+1's rep
            up = kit.conv_transpose(b, b, 4, stride=2, padding=1)
            self.up.append(torch.nn.ModuleList([block(cat, b), block(b, b), up]))
        start = reps[1]
        self.final = torch.nn.Sequential(
            _conv_block(kit, start, start, k, activation, normalize), kit.conv(start, rep, 1)
        )

    def forward(
        self, sample: torch.Tensor, timestep: torch.Tensor | float | int, cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``sample`` ``(B, D_in, T)`` (channels first, ``T`` divisible by ``2^(levels − 1)``), ``timestep`` a
        number or ``(B,)``, ``cond`` ``(B, D_cond)`` (required when the model has a ``cond_rep``) →
        ``(B, D_in, T)``."""
        D = self.in_rep.size
        if not isinstance(sample, torch.Tensor) or sample.ndim != 3 or sample.shape[1] != D:
            raise ValueError(
                f"sample must have shape (B, {D}, T) (channels first), got "
                f"{tuple(sample.shape) if isinstance(sample, torch.Tensor) else type(sample).__name__}"
            )
        B, T = sample.shape[0], sample.shape[2]
        if T % (2 ** (self.n_levels - 1)):
            raise ValueError(f"the horizon T={T} must be divisible by 2^(levels − 1) = {2 ** (self.n_levels - 1)}")
        if self.cond_rep is not None:
            Dc = self.cond_rep.size
            if not isinstance(cond, torch.Tensor) or cond.shape != (B, Dc):
                raise ValueError(
                    f"cond must have shape (B, {Dc}) = ({B}, {Dc}), got "
                    f"{tuple(cond.shape) if isinstance(cond, torch.Tensor) else cond!r}"
                )
        elif cond is not None:
            raise ValueError("this model was built without cond_rep; pass cond=None")
        feats = self.step_encoder(sinusoidal_embedding(timesteps(timestep, B, sample), self.dsed))
        if self.cond_encoder is not None:
            feats = torch.cat([feats, self.cond_encoder(cond)], dim=-1)
        x = sample
        skips = []
        for res1, res2, down in self.down:
            x = res2(res1(x, feats, cond), feats, cond)
            skips.append(x)
            x = down(x)
        for res in self.mid:
            x = res(x, feats, cond)
        for res1, res2, up in self.up:
            x = torch.cat([x, skips.pop()], dim=1)
            x = up(res2(res1(x, feats, cond), feats, cond))
        return self.final(x)


_UNET_DOC = """
    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Representation of one frame of the sample (e.g. an action), ``D_in``.
    cond_rep : symm.Rep or escnn FieldType, optional
        Representation of the global condition (e.g. stacked observations), ``D_cond``.
    diffusion_step_embed_dim : int
        Width of the time-step embedding.
    down_dims : sequence of int
        Channels of the levels, each rounded up to copies of the regular rep.
    kernel_size : int
        Odd kernel size of the convolutions.
    cond_predict_scale : bool
        FiLM with scale and bias (else bias only).
    activation : str or torch.nn.Module
        Pointwise activation (default ``"Mish"``).
    normalize : bool
        An RMS normalisation (eRMSNorm / ``torch.nn.RMSNorm``) over channels after each convolution.
    cond_embed_dim : int, optional
        Width of the invariant condition features (default ``diffusion_step_embed_dim``).

    Notes
    -----
    ``forward(sample, timestep, cond=None)``: ``sample`` ``(B, D_in, T)`` (channels first, as
    ``torch.nn.Conv1d`` and symm-learning 0.8.1) with ``T`` divisible by ``2^(len(down_dims) − 1)``, ``timestep``
    a number or ``(B,)``, ``cond`` ``(B, D_cond)`` → ``(B, D_in, T)``.
"""


class eConditionalUnet1D(_UnetCore, EquivariantModule):
    __doc__ = (
        """A G-equivariant conditional 1-D U-Net (diffusion policy's): residual blocks of
    :class:`~symm_torch.nn.eConv1d` with FiLM through :class:`~symm_torch.nn.eAffine`, stride-2 downsampling,
    :class:`~symm_torch.nn.eConvTranspose1d` upsampling and skip connections.

    ``f(ρ_in(g) x, t, ρ_cond(g) c) = ρ_in(g) f(x, t, c)``: see the module notes for the conditioning.
"""
        + _UNET_DOC
        + """    ``export()``: the plain twin :class:`ConditionalUnet1D` holding every layer's export.
"""
    )

    def _forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise TypeError("eConditionalUnet1D needs forward(sample, timestep, cond)")

    def export(self) -> torch.nn.Module:
        """The plain twin with every layer exported: the same outputs, no symm needed."""
        return export_children(self, ConditionalUnet1D(self.in_rep, self.cond_rep, **self._args))


class ConditionalUnet1D(_UnetCore):
    __doc__ = (
        """The plain twin of :class:`eConditionalUnet1D` (same signature and widths; ``torch.nn.Conv1d``,
    per-channel FiLM, an MLP for the condition). For ablations.
"""
        + _UNET_DOC
    )

    _plain = True
