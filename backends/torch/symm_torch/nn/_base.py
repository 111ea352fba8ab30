"""Base class of the equivariant modules: rep bookkeeping, escnn in/out, exact constants at every dtype."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import symm
import torch

from symm_torch._escnn import is_field_type, split_input, wrap_output
from symm_torch._reps import alias, as_rep_pair
from symm_torch.nn._hom import check_init_scheme, expand_hom, init_hom, invariant_basis, register_hom

__all__ = ["EquivariantModule", "HomLayer"]


class EquivariantModule(torch.nn.Module):
    """A ``torch.nn.Module`` mapping features of ``in_rep`` to features of ``out_rep`` equivariantly.

    Subclasses implement :meth:`_forward` on plain tensors and :meth:`export`. The public :meth:`forward`
    accepts a tensor or an escnn ``GeometricTensor``; a ``GeometricTensor`` in gives one of ``out_type`` out.

    Representation constants (change of basis, endomorphism bases, ...) are registered with
    :meth:`_register_constant`: they are non-persistent buffers that follow ``.to(device)`` and
    ``.to(dtype)``, and are rebuilt from their float64 host copy on every dtype change, so a module built in
    float32 and moved to float64 is exact to float64 precision.

    Parameters
    ----------
    in_rep, out_rep : symm.Rep, escnn FieldType or escnn Representation, optional
        Read once here for every subclass: each is converted to a ``symm.Rep`` (``out_rep`` may also be an
        int, that many trivial copies of ``in_rep``'s group), and where both are given they must be reps of
        one group (``ValueError``). A subclass whose reps are derived (or built later) calls
        ``super().__init__()`` with fewer arguments and sets ``in_rep`` / ``out_rep`` (and ``in_type`` /
        ``out_type``) itself.
    in_type, out_type : optional
        Keyword aliases of ``in_rep`` and ``out_rep`` (escnn's names); ``TypeError`` if both are given.
    required : tuple of str
        Which of ``"in_rep"``, ``"out_rep"`` must be given (``TypeError`` naming the argument otherwise).

    Attributes
    ----------
    in_type, out_type : symm.Rep or escnn FieldType
        What the user passed (or the module built), kept for escnn round trips: a ``GeometricTensor`` in
        gives a ``GeometricTensor`` of ``out_type`` out.
    in_rep, out_rep : symm.Rep
        The same as symm reps.

    Notes
    -----
    Shapes: dense modules take features on the last axis, ``(..., D)``, as ``torch.nn.Linear`` does;
    convolutions take ``(B, C, T)``, as ``torch.nn.Conv1d`` does. Each subclass states its shapes.
    """

    in_rep: symm.Rep
    out_rep: symm.Rep

    _features_last = False  # whether ``_forward`` takes features on the last axis (like torch.nn.Linear)

    def __init__(
        self,
        in_rep: Any = None,
        out_rep: Any = None,
        *,
        in_type: Any = None,
        out_type: Any = None,
        required: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self._host_constants: dict[str, np.ndarray] = {}
        in_rep = alias(in_rep, in_type, ("in_rep", "in_type"), required="in_rep" in required)
        out_rep = alias(out_rep, out_type, ("out_rep", "out_type"), required="out_rep" in required)
        rep_in, rep_out = as_rep_pair(in_rep, out_rep)
        if rep_in is not None:
            self.in_type, self.in_rep = in_rep, rep_in
        if rep_out is not None:
            self.out_type, self.out_rep = out_rep, rep_out

    # ------------------------------------------------------------------ constants
    def _register_constant(self, name: str, array: np.ndarray) -> None:
        array = np.array(array)  # a private, writable copy
        self._host_constants[name] = array
        if np.issubdtype(array.dtype, np.floating):
            tensor = torch.tensor(array, dtype=torch.get_default_dtype())
        else:
            tensor = torch.tensor(array, dtype=torch.long)
        self.register_buffer(name, tensor, persistent=False)

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> EquivariantModule:
        super()._apply(fn, recurse)
        self.__dict__.pop("_dtype", None)
        for name, host in self._host_constants.items():
            buf = self._buffers.get(name)
            if buf is not None and buf.is_floating_point():
                self._buffers[name] = torch.tensor(host, dtype=buf.dtype, device=buf.device)
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, x: Any) -> Any:
        """Apply the module to a tensor or a ``GeometricTensor`` of ``in_type``.

        Parameters
        ----------
        x : torch.Tensor or escnn GeometricTensor
            Features of ``in_rep``; see the subclass for the expected shape.

        Returns
        -------
        torch.Tensor or escnn GeometricTensor
            A ``GeometricTensor`` of ``out_type`` when ``x`` is one.
        """
        if isinstance(x, torch.Tensor):
            return self._forward(x)
        tensor, like = split_input(x, self.in_rep, self.in_type)
        return wrap_output(self._forward_geometric(tensor), like, self.out_type, self.out_rep)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _forward_geometric(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`_forward` on the tensor of a ``GeometricTensor``, whose features are on axis 1."""
        if self._features_last:
            return self._forward(x.movedim(1, -1)).movedim(-1, 1)
        return self._forward(x)

    def _check_features(self, x: torch.Tensor, axis: int, min_ndim: int = 1) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim < min_ndim or x.shape[axis] != self.in_rep.size:
            where = "last axis" if axis == -1 else f"axis {axis}"
            raise ValueError(
                f"x must have {self.in_rep.size} features (the size of in_rep) along its {where}, "
                f"got shape {tuple(x.shape)}"
            )
        self._check_dtype(x)

    def _check_dtype(self, x: torch.Tensor, arg: str = "x") -> None:
        """``TypeError`` if ``x``'s dtype is not the module's floating dtype (torch's own error is cryptic)."""
        dtype = self.__dict__.get("_dtype")
        if dtype is None:  # looked up once; _apply (``.to()``, ``.double()``, ...) forgets it
            ref = next((t for t in (*self.parameters(), *self.buffers()) if t.is_floating_point()), None)
            dtype = self.__dict__["_dtype"] = False if ref is None else ref.dtype
        if dtype is not False and x.dtype != dtype:
            raise TypeError(
                f"{arg} has dtype {x.dtype} but this module computes in {dtype}; convert the input "
                f"({arg}.to({dtype})) or the module (module.to({x.dtype}))"
            )

    def export(self) -> torch.nn.Module:
        """Plain ``torch.nn`` modules computing the same function (no symm or escnn needed to run them)."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"in={_describe(self.in_type, self.in_rep)}, out={_describe(self.out_type, self.out_rep)}"

    # ------------------------------------------------------------------ eval-mode cache
    def _cached(
        self, params: tuple[torch.Tensor, ...], expand: Callable[..., tuple[torch.Tensor, ...]]
    ) -> tuple[torch.Tensor, ...]:
        """``expand(*params)``, cached in eval mode whether or not grad is enabled.

        The cache is keyed on each parameter's version counter, storage and dtype/device and on the
        constants' storage, so an optimizer step, ``load_state_dict``, ``.to()`` or any in-place update
        through the parameter invalidates it; :meth:`train` drops it. (A write through ``p.data`` bypasses
        the version counter: call ``module.train(module.training)`` after one.) With grad enabled and
        parameters that require grad, the cached tensors are returned through an autograd function whose
        backward re-expands, so gradients reach the parameters exactly as in training mode.
        """
        if self.training:
            return expand(*params)
        key = tuple((p._version, p.data_ptr(), p.dtype, p.device) for p in params)
        key += tuple((b.data_ptr(), b.dtype) for b in self._buffers.values() if b is not None)
        key += (torch.is_inference_mode_enabled(),)  # inference tensors cannot enter autograd later
        cache = self.__dict__.get("_weight_cache")
        if cache is None or cache[0] != key:
            with torch.no_grad():
                cache = (key, tuple(expand(*params)))
            self.__dict__["_weight_cache"] = cache
        values = cache[1]
        if torch.is_grad_enabled() and any(p.requires_grad for p in params):
            return _ReuseExpansion.apply(expand, values, *params)
        return values

    def train(self, mode: bool = True) -> EquivariantModule:
        for m in self.modules():
            m.__dict__.pop("_weight_cache", None)
        return super().train(mode)

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("_weight_cache", None)
        self.__dict__.pop("_dtype", None)  # load_state_dict(assign=True) may bring another dtype
        super()._load_from_state_dict(*args, **kwargs)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_weight_cache", None)
        return state


class HomLayer(EquivariantModule):
    """A module whose weight lies in ``Hom_G`` (``weight_params``) and whose bias is invariant (``bias_params``).

    Subclasses call :meth:`_build_hom` once their reps are set, give :meth:`_expand_weight` (the free
    parameters to the dense weight in torch's layout) and :meth:`export` through :meth:`_export_into`.
    """

    weight_params: torch.nn.Parameter
    bias_params: torch.nn.Parameter | None
    Q_inv: torch.Tensor

    def _build_hom(self, bias: bool, init_scheme: str, init_gain: float | None, kernel_size: int | None = None) -> None:
        """Register the Hom_G constants, ``weight_params`` ((hom_dim,) or (kernel_size, hom_dim)) and the
        invariant bias (``bias_params``: one per trivial copy of ``out_rep``, or ``None``), then initialise."""
        if not isinstance(bias, bool):
            raise TypeError(f"bias must be a bool, got {bias!r}")
        self.init_scheme = check_init_scheme(init_scheme)
        self.init_gain = None if init_gain is None else float(init_gain)
        self._plan = register_hom(self, self.in_rep, self.out_rep)
        shape = (self._plan.dim,) if kernel_size is None else (kernel_size, self._plan.dim)
        self.weight_params = torch.nn.Parameter(torch.empty(shape))
        q_triv = invariant_basis(self.out_rep)
        if bias and q_triv.shape[1] > 0:
            self._register_constant("Q_inv", q_triv)
            self.bias_params = torch.nn.Parameter(torch.empty(q_triv.shape[1]))
        else:
            self.register_parameter("bias_params", None)
        self.reset_parameters()

    @property
    def hom_dim(self) -> int:
        """Number of free weight parameters per kernel tap, ``dim Hom_G(in_rep, out_rep)``."""
        return self._plan.dim

    def reset_parameters(self) -> None:
        """Draw ``Θ`` from ``init_scheme`` (closed-form variance, no basis sampled) and zero the bias."""
        kernel_size = None if self.weight_params.ndim == 1 else self.weight_params.shape[0]
        with torch.no_grad():
            self.weight_params.copy_(init_hom(self._plan, self.init_scheme, self.init_gain, kernel_size))
            if self.bias_params is not None:
                self.bias_params.zero_()

    def _expand_taps(self, theta: torch.Tensor) -> torch.Tensor:
        """``W`` of shape (..., D_out, D_in) from ``theta`` of shape (..., hom_dim)."""
        return expand_hom(self, self._plan, theta)

    def _expand_weight(self, theta: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _expand_params(self, theta: torch.Tensor, beta: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        weight = self._expand_weight(theta)
        return (weight,) if beta is None else (weight, self.Q_inv @ beta)

    def _expand(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(weight, bias or None)`` expanded anew, never from the cache."""
        out = self._expand_params(self.weight_params, self.bias_params)
        return out[0], (out[1] if len(out) > 1 else None)

    def expanded(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(weight, bias or None)`` in the layout of the torch module :meth:`export` returns; cached in eval."""
        params = tuple(p for p in (self.weight_params, self.bias_params) if p is not None)
        out = self._cached(params, self._expand_params)
        return out[0], (out[1] if len(out) > 1 else None)

    @property
    def weight(self) -> torch.Tensor:
        """The expanded equivariant weight, shaped as the exported torch module's ``weight``."""
        return self.expanded()[0]

    @property
    def bias(self) -> torch.Tensor | None:
        """The expanded invariant bias, shape (D_out,), or ``None``."""
        return self.expanded()[1]

    def _export_into(self, factory: Callable[..., torch.nn.Module], *args: Any, **kwargs: Any) -> torch.nn.Module:
        """``factory(*args, bias=..., device=..., dtype=..., **kwargs)`` holding the expanded weight and bias."""
        weight, bias = self.expanded()
        module = factory(*args, bias=bias is not None, device=weight.device, dtype=weight.dtype, **kwargs)
        with torch.no_grad():
            module.weight.copy_(weight)
            if bias is not None:
                module.bias.copy_(bias)
        return module


class _ReuseExpansion(torch.autograd.Function):
    """Returns cached expanded tensors; backward re-expands the parameters for their gradients.

    The expansion is linear, so its backward does not depend on the parameters' values: they are kept on
    ``ctx`` only to run ``expand`` again (not saved for backward, whose version check would cost more than the
    rest of this node, and could only object to an in-place update that cannot change the gradient).
    """

    @staticmethod
    def forward(
        ctx: Any, expand: Callable, values: tuple[torch.Tensor, ...], *params: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        # ``values`` travel as one opaque argument: only the parameters are inputs of the node
        ctx.expand, ctx.params = expand, params
        return tuple(v.detach() for v in values)

    @staticmethod
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        params = [p.detach().requires_grad_(p.requires_grad) for p in ctx.params]
        with torch.enable_grad():
            outs = ctx.expand(*params)
        pairs = [(o, g) for o, g in zip(outs, grads, strict=True) if g is not None and o.requires_grad]
        wanted = [p for p in params if p.requires_grad]
        if not pairs or not wanted:
            return (None, None, *([None] * len(params)))
        got = iter(torch.autograd.grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True))
        return (None, None, *[next(got) if p.requires_grad else None for p in params])


def _describe(t: Any, rep: symm.Rep) -> str:
    kind = "FieldType" if is_field_type(t) else "Rep"
    return f"{kind}({rep.group.name}, size {rep.size})"
