"""EMLP and IMLP: multilayer perceptrons with permutation-rep hidden layers."""

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


def _permutation_hidden_rep(hidden_rep: Any, group: symm.Group) -> symm.Rep:
    """The hidden rep, checked to act by permutation matrices (so pointwise activations commute with it)."""
    rep = group.regular_rep() if hidden_rep is None else as_rep(hidden_rep, "hidden_rep")
    if rep.group is not group:
        raise ValueError(f"hidden_rep must be a rep of the model's group {group.name}, got one of {rep.group.name}")
    rounded = permutation_images(rep)
    if rounded is None:
        raise ValueError(
            f"hidden_rep {rep.name!r} (size {rep.size}) is not a permutation rep: its generator images "
            "are not permutation matrices, so a pointwise activation would break equivariance. Use a "
            "regular or other permutation rep (default: the group's regular rep), or change its basis so "
            "that it permutes coordinates."
        )
    if rep is not group.regular_rep():
        rep = symm.Rep(group, rounded, name=rep.name)  # exact 0/1 images
    return rep


class EMLP(EquivariantModule):
    r"""A G-equivariant MLP: ``eLinear → σ → eLinear → σ → … → eLinear``.

    Hidden layer ``i`` carries ``⌈hidden_units[i] / |ρ_h|⌉`` copies of the hidden rep ``ρ_h`` (default the
    regular rep). ``ρ_h(g)`` permutes coordinates, so a pointwise activation ``σ`` commutes with it and every
    layer, hence the model, satisfies ``f(ρ_in(g) x) = ρ_out(g) f(x)``.

    Parameters
    ----------
    in_rep, out_rep : symm.Rep or escnn FieldType
        Input and output representations of one group (``out_rep`` may be an int: that many trivial copies).
    hidden_units : sequence of int
        Approximate widths of the hidden layers.
    activation : str or torch.nn.Module
        A ``torch.nn`` activation name or a pointwise module.
    bias : bool
        Invariant biases in every layer.
    hidden_rep : symm.Rep or escnn Representation, optional
        A permutation rep for the hidden layers; anything else raises ``ValueError``.
    dropout : float
        Probability of a ``torch.nn.Dropout`` after every activation (0: none). Dropout zeroes coordinates
        independently, so it commutes with permutation reps in distribution, and it is the identity in eval
        mode, where the model is exactly equivariant.
    init_scheme : str
        Initialisation of every :class:`~symm_torch.nn.eLinear` (see there), with fans per irrep block.
        Hidden layers use gain 1/√2 for the ``"xavier_*"`` schemes and √2 (the ReLU gain) for
        ``"kaiming_*"``; the output layer, which no activation follows, uses gain 1. The default
        ``"xavier_uniform"`` and these gains were chosen by measurement (``benchmarks/bench_learning.py``,
        docs: Benchmarks): with them EMLP learns the benchmark's teacher at least as well as symm-learning's
        eMLP at both learning rates; the former default (kaiming, gain √2 on every layer) did not.
    in_type, out_type : optional
        Keyword aliases of ``in_rep`` and ``out_rep`` (escnn's names, and symm-torch 0.1's).

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
    ) -> None:
        super().__init__(in_rep, out_rep, in_type=in_type, out_type=out_type, required=("in_rep", "out_rep"))
        units = _hidden_units(hidden_units)
        p = check_prob(dropout)
        self.init_scheme = check_init_scheme(init_scheme)
        base = _permutation_hidden_rep(hidden_rep, self.in_rep.group)
        self.hidden_reps = [base * math.ceil(u / base.size) for u in units]
        reps = [self.in_rep, *self.hidden_reps, self.out_rep]
        layers: list[torch.nn.Module] = []
        for i in range(len(reps) - 1):
            last = i == len(reps) - 2
            gain = None
            if self.init_scheme != "identity":
                gain = OUTPUT_GAIN if last else (HIDDEN_XAVIER_GAIN if self.init_scheme.startswith("xavier") else None)
            layers.append(eLinear(reps[i], reps[i + 1], bias=bias, init_scheme=init_scheme, init_gain=gain))
            if not last:
                layers.append(make_activation(activation))
                if p > 0:
                    layers.append(torch.nn.Dropout(p))
        self.net = torch.nn.Sequential(*layers)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_features(x, -1)
        return self.net(x)

    def export(self) -> torch.nn.Sequential:
        """``torch.nn.Sequential`` of ``Linear`` layers and activations with the same outputs."""
        return torch.nn.Sequential(*[m.export() if isinstance(m, eLinear) else copy.deepcopy(m) for m in self.net])


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
    ) -> None:
        super().__init__(in_rep, in_type=in_type, required=("in_rep",))
        if isinstance(out_dim, bool) or not isinstance(out_dim, int) or out_dim < 1:
            raise ValueError(f"out_dim must be a positive int, got {out_dim!r}")
        units = _hidden_units(hidden_units)
        if not units:
            raise ValueError("hidden_units must name at least one hidden layer (the one that is pooled)")
        base = _permutation_hidden_rep(hidden_rep, self.in_rep.group)
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
    init_scheme="xavier_uniform")``: ``activation`` may be a module (it is copied per layer) or a name. The
    default ``init_scheme`` is symm-torch's (chosen by measurement), not symm-learning's ``"xavier_normal"``.

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
    ) -> None:
        super().__init__(in_rep, out_rep, hidden_units, activation, bias, hidden_rep, dropout, init_scheme)


class iMLP(IMLP):
    """:class:`IMLP` under symm-learning 0.8.1's name and keywords.

    ``iMLP(in_rep, out_dim, hidden_units, activation=torch.nn.ReLU(), dropout=0.0, bias=True, hidden_rep=None,
    init_scheme="xavier_uniform")``.

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
    ) -> None:
        super().__init__(in_rep, out_dim, hidden_units, activation, bias, hidden_rep, dropout, init_scheme)
