"""EMLP and IMLP: multilayer perceptrons with permutation-rep hidden layers and pointwise activations, or any
hidden rep with gated or norm nonlinearities."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import symm
import torch
from symm.internal import permutation_images

from symm_torch._escnn import is_field_type
from symm_torch._reps import as_rep
from symm_torch.nn._base import EquivariantModule
from symm_torch.nn._basis import IrrepSubspaceNormPooling, trivial_field_type
from symm_torch.nn._hom import check_init_scheme
from symm_torch.nn._kit import activation as make_activation
from symm_torch.nn._kit import check_prob
from symm_torch.nn._linear import eLinear
from symm_torch.nn._nonlinear import GatedNonlinearity, NormNonlinearity

__all__ = ["EMLP", "IMLP", "eMLP", "iMLP"]

# Chosen by measurement (benchmarks/bench_learning.py, docs: Benchmarks): xavier_uniform with fans per irrep
# block, hidden layers at gain 1/√2 and the output layer, which no activation follows, at gain 1.
DEFAULT_INIT_SCHEME = "xavier_uniform"
HIDDEN_XAVIER_GAIN = 2**-0.5
OUTPUT_GAIN = 1.0


def _hidden_units(hidden_units: Any) -> list[int]:
    if isinstance(hidden_units, int) or not isinstance(hidden_units, Sequence):
        raise TypeError(f"hidden_units must be a sequence of positive ints, got {hidden_units!r}")
    units = list(hidden_units)
    if any(isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in units):
        raise ValueError(f"hidden_units must be a sequence of positive ints, got {hidden_units!r}")
    return units


NONLINEARITIES = ("pointwise", "gated", "norm")
#: the default hidden rep of a group without a finite regular rep is the direct sum of its irreps up to this band
#: (``group.irreps_up_to(DEFAULT_BAND)``: SO(2) frequencies 0, 1, 2; SO(3) degrees l = 0, 1, 2)
DEFAULT_BAND = 2


def _is_finite(group: symm.Group) -> bool:
    return bool(getattr(group, "is_finite", True))


def _nonlinearity(nonlinearity: Any, group: symm.Group) -> str:
    """The checked nonlinearity kind; ``None``: pointwise for finite groups, gated for the others."""
    if nonlinearity is None:
        return "pointwise" if _is_finite(group) else "gated"
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES} or None, got {nonlinearity!r}")
    return nonlinearity


def _default_hidden_rep(group: symm.Group) -> symm.Rep:
    """The regular rep of a finite group; the irreps up to ``DEFAULT_BAND`` of any other group."""
    if _is_finite(group):
        return group.regular_rep()
    irreps = group.irreps_up_to(DEFAULT_BAND)
    return symm.direct_sum(*irreps, name=f"irreps up to {DEFAULT_BAND}")


def _all_trivial(rep: symm.Rep) -> bool:
    return all(irr.is_trivial for irr in rep.irreps)


def _permutes(rep: symm.Rep) -> bool:
    """Whether pointwise functions commute with ``rep``: a permutation rep (or one acting as the identity)."""
    if _all_trivial(rep):
        return True
    return _is_finite(rep.group) and permutation_images(rep) is not None


def _hidden_rep(hidden_rep: Any, group: symm.Group, kind: str) -> symm.Rep:
    """The hidden rep; for ``kind == "pointwise"`` checked to act by permutation matrices (so pointwise
    activations commute with it)."""
    if hidden_rep is None:
        if kind == "pointwise" and not _is_finite(group):
            raise ValueError(
                f"group {group.name} is not finite: it has no finite regular (permutation) rep, and pointwise "
                "activations commute only with permutation reps. Use nonlinearity='gated' (the default for "
                "this group) or nonlinearity='norm'."
            )
        return _default_hidden_rep(group)
    rep = as_rep(hidden_rep, "hidden_rep")
    if rep.group is not group:
        raise ValueError(f"hidden_rep must be a rep of the model's group {group.name}, got one of {rep.group.name}")
    if kind != "pointwise" or _all_trivial(rep):
        return rep
    rounded = permutation_images(rep) if _is_finite(group) else None
    if rounded is None:
        raise ValueError(
            f"hidden_rep {rep.name!r} (size {rep.size}) is not a permutation rep: its elements do not act by "
            "permutation matrices, and a pointwise activation commutes only with permutation reps, so it would "
            "break equivariance. Use nonlinearity='gated' or nonlinearity='norm' with this rep, or a regular or "
            "other permutation rep (default: the group's regular rep), or change its basis so that it "
            "permutes coordinates."
        )
    if rep is not group.regular_rep():
        rep = symm.Rep(group, rounded, name=rep.name)  # exact 0/1 images
    return rep


class EMLP(EquivariantModule):
    r"""A G-equivariant MLP: ``eLinear → σ → eLinear → σ → … → eLinear``.

    Hidden layer ``i`` carries ``⌈hidden_units[i] / |ρ_h|⌉`` copies of the hidden rep ``ρ_h``. Three kinds of
    nonlinearity ``σ`` keep every layer, hence the model, equivariant: ``f(ρ_in(g) x) = ρ_out(g) f(x)``.

    - ``"pointwise"`` (the default for finite groups): ``activation`` on every coordinate. It commutes with
      ``ρ_h(g)`` only when ``ρ_h`` permutes coordinates, so ``ρ_h`` must be a permutation rep (default: the
      regular rep); any other ``hidden_rep`` raises ``ValueError``.
    - ``"gated"`` (the default for groups without a finite regular rep, such as SO(2) and SO(3)): each hidden
      ``eLinear`` also outputs one invariant gate per non-trivial irreducible copy of the hidden layer, and
      :class:`~symm_torch.nn.GatedNonlinearity` scales every such copy by the sigmoid of its gate;
      ``activation`` acts on the trivial copies. Gates are invariant, so a layer whose input has no trivial
      copy (an ``in_rep`` without one) has input-independent gates: its invariant biases.
    - ``"norm"``: :class:`~symm_torch.nn.NormNonlinearity`, each copy ``x_c ↦ x_c σ(‖x_c‖ + b_c) / ‖x_c‖`` with
      ``σ = activation`` and a learnable bias per copy.

    The gated and norm nonlinearities act on whole irreducible copies, so they accept any hidden rep. The
    default ``ρ_h`` is the regular rep of a finite group and, for any other group, the direct sum of its irreps
    up to band 2 (``group.irreps_up_to(2)``: SO(2) frequencies 0, 1, 2, size 5; SO(3) degrees 0, 1, 2, size 9).

    Parameters
    ----------
    in_rep, out_rep : symm.Rep or escnn FieldType
        Input and output representations of one group (``out_rep`` may be an int: that many trivial copies).
    hidden_units : sequence of int
        Approximate widths of the hidden layers (gates not counted).
    activation : str or torch.nn.Module
        A ``torch.nn`` activation name or a pointwise module: the activation (``"pointwise"``), that of the
        trivial copies (``"gated"``), or ``σ`` of the norms (``"norm"``).
    bias : bool
        Invariant biases in every layer.
    hidden_rep : symm.Rep or escnn Representation, optional
        The hidden rep ``ρ_h`` (default above): a permutation rep for ``"pointwise"``, any rep of the group for
        ``"gated"`` and ``"norm"``.
    dropout : float
        Probability of a ``torch.nn.Dropout`` after every activation (0: none). Dropout zeroes coordinates
        independently, so it commutes with permutation reps in distribution, and it is the identity in eval
        mode, where the model is exactly equivariant. ``ValueError`` with a hidden rep that is not a
        permutation rep, with which it would not commute even in distribution.
    init_scheme : str
        Initialisation of every :class:`~symm_torch.nn.eLinear` (see there), with fans per irrep block.
        Hidden layers use gain 1/√2 for the ``"xavier_*"`` schemes and √2 (the ReLU gain) for
        ``"kaiming_*"``; the output layer, which no activation follows, uses gain 1. The default
        ``"xavier_uniform"`` and these gains were chosen by measurement (``benchmarks/bench_learning.py``,
        docs: Benchmarks): with them EMLP learns the benchmark's teacher at least as well as symm-learning's
        eMLP at both learning rates; the former default (kaiming, gain √2 on every layer) did not.
    in_type, out_type : optional
        Keyword aliases of ``in_rep`` and ``out_rep`` (escnn's names, and symm-torch 0.1's).
    nonlinearity : {"pointwise", "gated", "norm"}, optional
        See above; ``None`` (default): ``"pointwise"`` for a finite group, ``"gated"`` otherwise.

    Attributes
    ----------
    hidden_reps : list of symm.Rep
        The rep of each hidden layer's features (for ``"gated"``, after the gates are consumed).
    nonlinearity : str
        The kind in use.

    Notes
    -----
    Input ``(..., D_in)``; output ``(..., D_out)``. ``GeometricTensor`` in gives ``GeometricTensor`` out.

    Examples
    --------
    >>> import torch, symm
    >>> from symm_torch.models import EMLP
    >>> G = symm.groups.dihedral(4)
    >>> model = EMLP(G.regular_rep(), G.natural_rep("standard"), hidden_units=[32, 32])
    >>> model(torch.randn(3, 8)).shape
    torch.Size([3, 2])
    >>> std = G.natural_rep("standard") + G.trivial_rep()
    >>> gated = EMLP(std, std, hidden_units=[30], hidden_rep=std, nonlinearity="gated")
    >>> gated(torch.randn(3, 3)).shape
    torch.Size([3, 3])
    """

    _features_last = True

    def __init__(
        self,
        in_rep: Any = None,
        out_rep: Any = None,
        hidden_units: Sequence[int] = (128, 128),
        activation: Any = "ReLU",
        bias: bool = True,
        hidden_rep: Any = None,
        dropout: float = 0.0,
        init_scheme: str = DEFAULT_INIT_SCHEME,
        *,
        in_type: Any = None,
        out_type: Any = None,
        nonlinearity: str | None = None,
    ) -> None:
        super().__init__(in_rep, out_rep, in_type=in_type, out_type=out_type, required=("in_rep", "out_rep"))
        units = _hidden_units(hidden_units)
        p = check_prob(dropout)
        self.init_scheme = check_init_scheme(init_scheme)
        group = self.in_rep.group
        self.nonlinearity = _nonlinearity(nonlinearity, group)
        make_activation(activation)  # checked before any layer is built
        base = _hidden_rep(hidden_rep, group, self.nonlinearity)
        if p > 0 and not _permutes(base):
            raise ValueError(
                f"dropout={p} needs a permutation hidden rep: dropout zeroes coordinates independently, which "
                f"commutes (in distribution) only with permutation reps, and hidden_rep {base.name!r} is not one"
            )
        self.hidden_reps = [base * math.ceil(u / base.size) for u in units]
        hidden_gain = None
        if self.init_scheme != "identity":
            hidden_gain = HIDDEN_XAVIER_GAIN if self.init_scheme.startswith("xavier") else None
        layers: list[torch.nn.Module] = []
        prev = self.in_rep
        for rep in self.hidden_reps:
            nonlinear, target = self._nonlinear(rep, activation)
            layers.append(eLinear(prev, target, bias=bias, init_scheme=init_scheme, init_gain=hidden_gain))
            layers.append(nonlinear)
            if p > 0:
                layers.append(torch.nn.Dropout(p))
            prev = rep
        out_gain = None if self.init_scheme == "identity" else OUTPUT_GAIN
        layers.append(eLinear(prev, self.out_rep, bias=bias, init_scheme=init_scheme, init_gain=out_gain))
        self.net = torch.nn.Sequential(*layers)

    def _nonlinear(self, rep: symm.Rep, activation: Any) -> tuple[torch.nn.Module, symm.Rep]:
        """``(nonlinearity, the rep the layer before it outputs)`` for a hidden layer of ``rep``."""
        if self.nonlinearity == "gated":
            gate = GatedNonlinearity(rep, activation)
            return gate, gate.in_rep
        if self.nonlinearity == "norm":
            return NormNonlinearity(rep, activation), rep
        return make_activation(activation), rep

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        modules = tuple(self.net._modules.values())
        linears = [m for m in modules if isinstance(m, eLinear)]
        if self.training or _hooked(self.net, *linears):
            return self.net(x)
        # Eval: every layer's weight from one cached expansion (one autograd node with grad enabled), and plain
        # F.linear calls; the same numbers as self.net(x), with less per-layer overhead. (Parameters are read
        # from ``_parameters``: ``nn.Module.__getattr__`` would cost more than the rest of this bookkeeping.)
        params = [m._parameters for m in linears]
        flat = tuple(p for d in params for p in (d["weight_params"], d["bias_params"]) if p is not None)
        values = iter(self._cached(flat, self._expand_layers))
        for m in modules:
            if isinstance(m, eLinear):
                weight = next(values)
                bias = next(values) if m._parameters["bias_params"] is not None else None
                x = torch.nn.functional.linear(x, weight, bias)
            else:
                x = m(x)
        return x

    def _expand_layers(self, *flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every eLinear's ``(weight, [bias])`` in order, from their parameters in the same order."""
        params, out = iter(flat), []
        for m in self.net:
            if isinstance(m, eLinear):
                out += m._expand_params(next(params), next(params) if m.bias_params is not None else None)
        return tuple(out)

    def export(self) -> torch.nn.Sequential:
        """``torch.nn.Sequential`` of ``Linear`` layers and activations (TorchScript modules for the gated and
        norm nonlinearities) with the same outputs."""
        return torch.nn.Sequential(
            *[m.export() if isinstance(m, EquivariantModule) else copy.deepcopy(m) for m in self.net]
        )


def _hooked(*modules: torch.nn.Module) -> bool:
    """Whether a forward hook would run on any of ``modules`` (then EMLP's eval path calls the modules
    themselves)."""
    glob = torch.nn.modules.module
    if getattr(glob, "_global_forward_hooks", None) or getattr(glob, "_global_forward_pre_hooks", None):
        return True
    return any(m._forward_hooks or m._forward_pre_hooks for m in modules)


class IMLP(EquivariantModule):
    r"""A G-invariant MLP: an :class:`EMLP`, irrep-norm pooling, then an unconstrained linear head.

    ``f(x) = A · pool(EMLP(x)) + a`` with ``pool`` the norms of the irreducible copies of the last hidden
    layer (:class:`~symm_torch.nn.IrrepSubspaceNormPooling`), so ``f(ρ_in(g) x) = f(x)``.

    Parameters
    ----------
    in_rep : symm.Rep or escnn FieldType
        Input representation.
    out_dim : int
        Number of invariant outputs.
    hidden_units : sequence of int
        Widths of the hidden layers; the EMLP ends in the last one (``⌈hidden_units[-1] / |ρ_h|⌉`` copies of
        the hidden rep) and its irreducible copies are pooled.
    activation, bias, hidden_rep, dropout, init_scheme
        As in :class:`EMLP`; ``init_scheme`` is that of the EMLP's layers (the head is a plain
        ``torch.nn.Linear``).
    in_type : optional
        Keyword alias of ``in_rep`` (escnn's name, and symm-torch 0.1's).
    nonlinearity : {"pointwise", "gated", "norm"}, optional
        As in :class:`EMLP` (``None``: pointwise for a finite group, gated otherwise), with the same default
        hidden rep (the regular rep of a finite group, else ``group.irreps_up_to(2)`` summed).

    Notes
    -----
    Input ``(..., D_in)`` (features last); output ``(..., out_dim)`` (a trivial rep).
    """

    _features_last = True

    def __init__(
        self,
        in_rep: Any = None,
        out_dim: int | None = None,
        hidden_units: Sequence[int] = (128, 128),
        activation: Any = "ReLU",
        bias: bool = True,
        hidden_rep: Any = None,
        dropout: float = 0.0,
        init_scheme: str = DEFAULT_INIT_SCHEME,
        *,
        in_type: Any = None,
        nonlinearity: str | None = None,
    ) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        if isinstance(out_dim, bool) or not isinstance(out_dim, int) or out_dim < 1:
            raise ValueError(f"out_dim must be a positive int, got {out_dim!r}")
        units = _hidden_units(hidden_units)
        if not units:
            raise ValueError("hidden_units must name at least one hidden layer (the one that is pooled)")
        kind = _nonlinearity(nonlinearity, self.in_rep.group)
        base = _hidden_rep(hidden_rep, self.in_rep.group, kind)
        last = base * math.ceil(units[-1] / base.size)
        self.emlp = EMLP(
            self.in_rep,
            last,
            units[:-1],
            activation=activation,
            bias=bias,
            hidden_rep=base,
            dropout=dropout,
            init_scheme=init_scheme,
            nonlinearity=kind,
        )
        self.pool = IrrepSubspaceNormPooling(last, axis=-1)
        self.head = torch.nn.Linear(self.pool.n_copies, out_dim, bias=bias)
        self.out_rep = self.in_rep.group.trivial_rep(out_dim)
        self.out_type = trivial_field_type(self.in_type, out_dim) if is_field_type(self.in_type) else self.out_rep

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        return self.head(self.pool(self.emlp(x)))

    def export(self) -> torch.nn.Sequential:
        """``torch.nn.Sequential``: the exported EMLP, the pooling (TorchScript) and the head; any input rank."""
        return torch.nn.Sequential(*self.emlp.export(), self.pool.export(), copy.deepcopy(self.head))


class eMLP(EMLP):
    """:class:`EMLP` under symm-learning 0.8.1's name and keywords.

    ``eMLP(in_rep, out_rep, hidden_units, activation=torch.nn.ReLU(), dropout=0.0, bias=True, hidden_rep=None,
    init_scheme="xavier_uniform", *, nonlinearity=None)``: ``activation`` may be a module (it is copied per
    layer) or a name. The default ``init_scheme`` is symm-torch's (chosen by measurement), not symm-learning's
    ``"xavier_normal"``; ``nonlinearity`` is symm-torch's (see :class:`EMLP`).

    Notes
    -----
    Input ``(..., D_in)``; output ``(..., D_out)``.
    """

    def __init__(
        self,
        in_rep: Any,
        out_rep: Any,
        hidden_units: Sequence[int],
        activation: Any = "ReLU",
        dropout: float = 0.0,
        bias: bool = True,
        hidden_rep: Any = None,
        init_scheme: str = DEFAULT_INIT_SCHEME,
        *,
        nonlinearity: str | None = None,
    ) -> None:
        super().__init__(
            in_rep, out_rep, hidden_units, activation, bias, hidden_rep, dropout, init_scheme, nonlinearity=nonlinearity
        )


class iMLP(IMLP):
    """:class:`IMLP` under symm-learning 0.8.1's name and keywords.

    ``iMLP(in_rep, out_dim, hidden_units, activation=torch.nn.ReLU(), dropout=0.0, bias=True, hidden_rep=None,
    init_scheme="xavier_uniform", *, nonlinearity=None)``; ``nonlinearity`` is symm-torch's (see :class:`EMLP`).

    Notes
    -----
    Input ``(..., D_in)``; output ``(..., out_dim)``.
    """

    def __init__(
        self,
        in_rep: Any,
        out_dim: int,
        hidden_units: Sequence[int],
        activation: Any = "ReLU",
        dropout: float = 0.0,
        bias: bool = True,
        hidden_rep: Any = None,
        init_scheme: str = DEFAULT_INIT_SCHEME,
        *,
        nonlinearity: str | None = None,
    ) -> None:
        super().__init__(
            in_rep, out_dim, hidden_units, activation, bias, hidden_rep, dropout, init_scheme, nonlinearity=nonlinearity
        )
