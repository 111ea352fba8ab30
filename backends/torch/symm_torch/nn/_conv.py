"""eConv1D: a G-equivariant 1-D convolution whose every kernel tap lies in Hom_G."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from symm_torch.nn._base import HomLayer

__all__ = ["eConv1D", "eConv1d", "eConvTranspose1d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if value is None and name == "kernel_size":
        raise TypeError("missing the argument kernel_size")
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


class _HomConv1d(HomLayer):
    """What eConv1D and eConvTranspose1d share: taps, the (B, C, T) input check and the export call."""

    def _set_taps(self, kernel_size: Any, stride: Any, dilation: Any) -> None:
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.stride = _positive_int(stride, "stride")
        self.dilation = _positive_int(dilation, "dilation")

    def _check_input(self, x: Any) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3):
            raise ValueError(
                f"x must have shape (B, {self.in_rep.size}, T) or ({self.in_rep.size}, T), got "
                f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}"
            )
        self._check_features(x, -2)

    def _export_conv(self, factory: Any, **kwargs: Any) -> torch.nn.Module:
        return self._export_into(
            factory,
            self.in_rep.size,
            self.out_rep.size,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            **kwargs,
        )


class eConv1D(_HomConv1d):
    r"""A G-equivariant ``torch.nn.Conv1d``: ``G`` acts on the channels, trivially on the time axis.

    .. math::

        y[:, t] = b + \sum_{k=0}^{K-1} W_k\, x[:, s t + d k - p], \qquad
        W_k = Q_{out} \Bigl(\bigoplus_i \sum_b \Theta_{k,i,b} \otimes E_{i,b}\Bigr) Q_{in}^\top
        \in \mathrm{Hom}_G(\rho_{in}, \rho_{out})

    so ``conv(ρ_in(g) x) = ρ_out(g) conv(x)`` for every ``g`` and every padding mode. The parameter
    ``weight_params`` has shape ``(K, hom_dim)`` and trains like any other (its gradient is not ``None``).

    Parameters
    ----------
    in_rep, out_rep : symm.Rep or escnn FieldType
        Channel representations (``C_in``, ``C_out`` channels). escnn users build them on
        :func:`~symm_torch.nn.GSpace1D`. ``in_type`` and ``out_type`` are keyword aliases (the names before
        0.2, and escnn's).
    kernel_size, stride, padding, dilation : int
        As in ``torch.nn.Conv1d`` (``padding`` may also be ``"valid"`` or ``"same"``).
    bias : bool
        Learn an invariant bias.
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
        As in ``torch.nn.Conv1d``.
    init_scheme : {"xavier_normal", "xavier_uniform", "kaiming_normal", "kaiming_uniform", "identity"}
        As in :class:`~symm_torch.nn.eLinear`, with fans ``K s_i m_i^{in}`` and ``K s_i m_i^{out}`` per irrep
        block; ``"identity"`` sets the centre tap to the identity and the others to zero.
    init_gain : float, optional
        Gain of the scheme (``None``: its default, √2 for kaiming, 1 for xavier).

    Notes
    -----
    Input ``(B, C_in, T)`` or ``(C_in, T)``; output ``(B, C_out, T_out)`` or ``(C_out, T_out)`` with
    ``T_out = ⌊(T + 2p − d(K−1) − 1)/s⌋ + 1``.

    The expanded kernel is cached in eval mode (as in :class:`~symm_torch.nn.eLinear`). Raises
    ``ValueError`` at construction when ``Hom_G(in_type, out_type) = 0``.
    """

    def __init__(
        self,
        in_rep: Any = None,
        out_rep: Any = None,
        kernel_size: int | None = None,
        stride: int = 1,
        padding: int | str = 0,
        dilation: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        init_scheme: str = "kaiming_normal",
        init_gain: float | None = None,
        *,
        in_type: Any = None,
        out_type: Any = None,
    ) -> None:
        super().__init__(in_rep, out_rep, in_type=in_type, out_type=out_type, required=("in_rep", "out_rep"))
        self._set_taps(kernel_size, stride, dilation)
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"padding must be an int >= 0, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != 1:
                raise ValueError(f"padding='same' needs stride=1 (as in torch.nn.Conv1d), got stride={stride}")
        else:
            padding = _positive_int(padding, "padding", minimum=0)
        self.padding = padding
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        self._build_hom(bias, init_scheme, init_gain, self.kernel_size)

    def _expand_weight(self, theta: torch.Tensor) -> torch.Tensor:
        return self._expand_taps(theta).permute(1, 2, 0)  # (K, out, in) -> (C_out, C_in, K)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        weight, bias = self.expanded()
        if self.padding_mode != "zeros" and not isinstance(self.padding, str) and self.padding > 0:
            x = F.pad(x, (self.padding, self.padding), mode=self.padding_mode)
            return F.conv1d(x, weight, bias, self.stride, 0, self.dilation)
        if self.padding_mode != "zeros" and self.padding == "same":
            total = self.dilation * (self.kernel_size - 1)
            x = F.pad(x, (total // 2, total - total // 2), mode=self.padding_mode)
            return F.conv1d(x, weight, bias, self.stride, 0, self.dilation)
        return F.conv1d(x, weight, bias, self.stride, self.padding, self.dilation)

    def export(self) -> torch.nn.Conv1d:
        """A ``torch.nn.Conv1d`` with the expanded kernel (C_out, C_in, K) and bias."""
        return self._export_conv(torch.nn.Conv1d, padding_mode=self.padding_mode)


class eConv1d(eConv1D):
    """:class:`eConv1D` under symm-learning 0.8.1's name and keywords: ``eConv1d(in_rep, out_rep, kernel_size=3,
    init_scheme="xavier_uniform", **conv1d_kwargs)``.

    ``conv1d_kwargs`` are ``stride``, ``padding``, ``dilation``, ``bias``, ``padding_mode`` and ``init_gain``.
    ``basis_expansion`` is accepted for compatibility and ignored: there is one expansion, which never
    builds a dense stack of basis matrices.

    Notes
    -----
    Input ``(B, C_in, T)`` or ``(C_in, T)``; output ``(B, C_out, T_out)`` or ``(C_out, T_out)``.
    """

    def __init__(
        self,
        in_rep: Any = None,
        out_rep: Any = None,
        kernel_size: int = 3,
        basis_expansion: str = "isotypic_expansion",
        init_scheme: str = "xavier_uniform",
        **conv1d_kwargs: Any,
    ) -> None:
        if not isinstance(basis_expansion, str):
            raise TypeError(f"basis_expansion must be a str, got {basis_expansion!r}")
        super().__init__(in_rep, out_rep, kernel_size, init_scheme=init_scheme, **conv1d_kwargs)


class eConvTranspose1d(_HomConv1d):
    r"""A G-equivariant ``torch.nn.ConvTranspose1d``: ``G`` acts on the channels, trivially on the time axis.

    .. math::

        y[:, s t + d k - p] \mathrel{+}= W_k\, x[:, t], \qquad W_k \in \mathrm{Hom}_G(\rho_{in}, \rho_{out})

    plus an invariant bias, so ``convT(ρ_in(g) x) = ρ_out(g) convT(x)``. Every tap ``W_k`` is parameterised
    as in :class:`eConv1D` (``weight_params`` of shape ``(K, hom_dim)``); torch's kernel is
    ``weight[:, :, k] = W_kᵀ``.

    Parameters
    ----------
    in_rep, out_rep : symm.Rep or escnn FieldType
        Channel representations (``C_in``, ``C_out``). ``in_type`` and ``out_type`` are keyword aliases.
    kernel_size, stride, padding, output_padding, dilation : int
        As in ``torch.nn.ConvTranspose1d``.
    bias : bool
        Learn an invariant bias.
    init_scheme : str
        As in :class:`eConv1D` (default ``"xavier_uniform"``, symm-learning 0.8.1's).
    init_gain : float, optional

    Notes
    -----
    Input ``(B, C_in, T)`` or ``(C_in, T)``; output ``(B, C_out, T_out)`` or ``(C_out, T_out)`` with
    ``T_out = (T − 1) s − 2p + d (K − 1) + output_padding + 1``. The expanded kernel is cached in eval mode.
    ``ValueError`` at construction when ``Hom_G(in_rep, out_rep) = 0``.
    """

    def __init__(
        self,
        in_rep: Any = None,
        out_rep: Any = None,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        output_padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
        init_scheme: str = "xavier_uniform",
        init_gain: float | None = None,
        *,
        in_type: Any = None,
        out_type: Any = None,
    ) -> None:
        super().__init__(in_rep, out_rep, in_type=in_type, out_type=out_type, required=("in_rep", "out_rep"))
        self._set_taps(kernel_size, stride, dilation)
        self.padding = _positive_int(padding, "padding", minimum=0)
        self.output_padding = _positive_int(output_padding, "output_padding", minimum=0)
        if self.output_padding >= max(self.stride, self.dilation):
            raise ValueError(
                f"output_padding ({self.output_padding}) must be smaller than stride or dilation "
                f"({self.stride}, {self.dilation}), as in torch.nn.ConvTranspose1d"
            )
        self._build_hom(bias, init_scheme, init_gain, self.kernel_size)

    def _expand_weight(self, theta: torch.Tensor) -> torch.Tensor:
        return self._expand_taps(theta).permute(2, 1, 0)  # (K, out, in) -> (C_in, C_out, K)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_input(x)
        weight, bias = self.expanded()
        return F.conv_transpose1d(x, weight, bias, self.stride, self.padding, self.output_padding, 1, self.dilation)

    def export(self) -> torch.nn.ConvTranspose1d:
        """A ``torch.nn.ConvTranspose1d`` with the expanded kernel (C_in, C_out, K) and bias."""
        return self._export_conv(torch.nn.ConvTranspose1d, output_padding=self.output_padding)
