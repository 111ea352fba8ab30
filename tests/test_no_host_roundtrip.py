"""No hidden host round-trips: a device array goes into ``cov`` / ``lstsq`` / ``mean`` / ``var_mean`` and
nothing on the way converts it to NumPy, to a Python scalar, or copies it back to the host.

Each backend gets a *guard* that turns such a conversion into an error:

- torch (CPU and CUDA): a :class:`torch.overrides.TorchFunctionMode` that raises on ``__array__``,
  ``.numpy()``, ``.tolist()``, ``.item()``, ``.cpu()``, ``float() / int() / bool() / complex()``,
  ``__index__``, ``__dlpack__``, printing a tensor, and ``.to(cpu)`` / ``.copy_`` of a device tensor into
  host memory.
  On CUDA the warm call also runs under ``torch.cuda.set_sync_debug_mode("error")``: no device
  synchronisation at all. ``lstsq`` may synchronise only inside ``torch.linalg`` solvers (their error-info
  check); every synchronising call is attributed to the torch function that made it.
- CuPy: implicit ``__array__`` always raises; the warm call is queued behind a GPU spin kernel and must
  return while the kernel still runs (any ``.get()``, scalar read-back or device sync waits for it).
  ``cupyx.allow_synchronize(False)`` is not used: CuPy 14 deprecated it and no longer checks it.
- array-api-strict: ``__array__`` of a non-CPU array raises by itself; the guard adds the scalar
  conversions and ``__dlpack__``, for every device.
- Dask: a scheduler that raises, so nothing is computed on the way (the result stays lazy).
- JAX on an accelerator: ``jax.transfer_guard_device_to_host("disallow")``. (On CPU, JAX's transfer guard
  does not see conversions, so those tests skip.)
- NumPy: host arrays; nothing to guard, skipped.

``test_guard_catches_*`` proves each guard actually fires on a deliberate conversion, so a passing guarded
run means something.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import symm


class HostRoundTrip(AssertionError):
    """A guarded computation converted a device array to host data."""


# Tensor methods whose call means "bring the data to the host" (or block on the device for a value).
_TORCH_FORBIDDEN = frozenset(
    {
        "__array__",
        "__array_wrap__",
        "__dlpack__",
        "numpy",
        "tolist",
        "item",
        "cpu",
        "__float__",
        "__int__",
        "__bool__",
        "__complex__",
        "__index__",
        "__format__",
        "__repr__",
        "__str__",
    }
)

# torch.linalg solvers check their error info on the host (a device sync); lstsq may use them.
_TORCH_SOLVER_SYNCS = frozenset(
    {
        "solve",
        "solve_ex",
        "pinv",
        "inv",
        "inv_ex",
        "eigh",
        "eigvalsh",
        "svd",
        "svdvals",
        "cholesky",
        "cholesky_ex",
        "lstsq",
        "qr",
        "det",
        "slogdet",
        "matrix_rank",
        "lu_factor",
        "lu_factor_ex",
    }
)


def _is_solver(name: str) -> bool:
    """``linalg_pinv`` (torch.linalg.pinv's ``__name__``), ``pinv``, ... are solvers."""
    return name.removeprefix("linalg_") in _TORCH_SOLVER_SYNCS


def _func_name(func: Any) -> str:
    return getattr(func, "__name__", None) or repr(func)


def _torch_guard_mode(*, record_syncs: bool = False) -> Any:
    """A TorchFunctionMode that raises :class:`HostRoundTrip` on host conversions of tensors.

    With ``record_syncs``, CUDA sync-debug warnings raised inside each torch call are collected in
    ``mode.syncs`` as the names of the calls that synchronised (use with ``set_sync_debug_mode("warn")``).
    """
    import torch
    from torch.overrides import TorchFunctionMode

    def _is_host(dev: Any) -> bool:
        try:
            return torch.device(dev).type == "cpu"
        except (TypeError, RuntimeError):
            return False

    def _target_device(args: tuple, kwargs: dict) -> Any:
        if "device" in kwargs:
            return kwargs["device"]
        for a in args[1:]:
            if isinstance(a, torch.Tensor):
                return a.device
            if isinstance(a, torch.device | str) and not isinstance(a, torch.dtype):
                return a
        return None

    class HostGuard(TorchFunctionMode):
        def __init__(self) -> None:
            super().__init__()
            self.syncs: list[str] = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            name = _func_name(func)
            if name in _TORCH_FORBIDDEN:
                raise HostRoundTrip(f"host conversion of a tensor: Tensor.{name}() was called")
            if name == "to" and args and isinstance(args[0], torch.Tensor):
                target = _target_device(args, kwargs)
                if target is not None and _is_host(target) and args[0].device.type != "cpu":
                    raise HostRoundTrip(f"device-to-host copy: Tensor.to({target!r}) of a {args[0].device} tensor")
            if name == "copy_" and len(args) >= 2 and isinstance(args[1], torch.Tensor):
                if args[0].device.type == "cpu" and args[1].device.type != "cpu":
                    raise HostRoundTrip(f"device-to-host copy: copy_ from {args[1].device} into host memory")
            if not record_syncs:
                return func(*args, **kwargs)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = func(*args, **kwargs)
            for w in caught:
                if "synchroniz" in str(w.message):
                    self.syncs.append(name)
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            return out

    return HostGuard()


@contextlib.contextmanager
def _torch_sync_debug(mode: str) -> Iterator[None]:
    import torch

    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode(mode)
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode(previous)


class Guard:
    """How one backend turns host round-trips into errors.

    ``cold()`` guards a first call (constants may still be moved host -> device); ``warm()`` guards a
    repeated call and also forbids device synchronisation where the backend can tell. ``errors`` are the
    exception types a guard raises; ``leaks`` are deliberate conversions each guard must catch.
    """

    def __init__(
        self,
        cold: Callable[[], contextlib.AbstractContextManager],
        warm: Callable[[str], contextlib.AbstractContextManager],
        errors: tuple[type[BaseException], ...],
        leaks: dict[str, Callable[[Any], Any]],
    ) -> None:
        self.cold = cold
        self.warm = warm
        self.errors = errors
        self.leaks = leaks
        self.syncs: list[str] = []


def _torch_guard(backend: Any) -> Guard:
    import torch

    on_cuda = torch.device(backend.device).type == "cuda"
    leaks = {
        ".numpy()": lambda t: t.numpy(),
        "np.asarray": lambda t: np.asarray(t),
        ".item()": lambda t: t[0].item(),
        ".tolist()": lambda t: t.tolist(),
        "float()": lambda t: float(t[0]),
        "int()": lambda t: int(t[0]),
        "bool()": lambda t: bool(t[0] > 0),
        ".cpu()": lambda t: t.cpu(),
        "f-string": lambda t: f"{t[0]:.3f}",
    }
    if on_cuda:
        leaks[".to('cpu')"] = lambda t: t.to("cpu")
        leaks["copy_ to host"] = lambda t: torch.empty(t.shape, dtype=t.dtype).copy_(t)

    @contextlib.contextmanager
    def warm(op: str) -> Iterator[None]:
        if not on_cuda:
            with _torch_guard_mode():
                yield
            return
        if op == "lstsq":
            # solvers may sync on their info check: attribute every sync to the torch call that made it
            mode = _torch_guard_mode(record_syncs=True)
            with _torch_sync_debug("warn"), mode:
                yield
            guard.syncs = list(mode.syncs)
            return
        with _torch_sync_debug("error"), _torch_guard_mode():
            yield

    guard = Guard(lambda: _torch_guard_mode(), warm, (HostRoundTrip, RuntimeError), leaks)
    return guard


# A kernel that keeps the GPU busy for a given time: work queued behind it stays pending, so a host call
# that returns while it still runs did not synchronise (no D2H copy, no .get(), no scalar read-back).
_SPIN_SRC = r"""
extern "C" __global__ void symm_spin(unsigned long long ns) {
    unsigned long long start, now;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do { asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now)); } while (now - start < ns);
}
"""
_SPIN_S = 0.5  # seconds the GPU is kept busy per guarded call
_SOLVERS = ("pinv", "solve", "inv", "eigh", "eigvalsh", "svd", "svdvals", "cholesky", "qr", "lstsq")


def _cupy_guard(backend: Any) -> Guard:
    """CuPy: implicit ``__array__`` always raises. CuPy 14's ``cupyx.allow_synchronize`` no longer detects
    anything, so the warm call is queued behind a GPU spin kernel: if the call blocks until the kernel ends,
    it synchronised with the device. Time spent inside ``xp.linalg`` solvers is allowed for ``lstsq``."""
    import cupy

    spin = cupy.RawKernel(_SPIN_SRC, "symm_spin")
    spin((1,), (1,), (np.uint64(1000),))  # compile now, not inside a timed call
    cupy.cuda.Device().synchronize()
    linalg = backend.xp.linalg

    @contextlib.contextmanager
    def no_sync(op: str = "") -> Iterator[None]:
        inside = [0.0]
        saved = {n: getattr(linalg, n) for n in _SOLVERS if hasattr(linalg, n)}

        def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    inside[0] += time.perf_counter() - t

            return wrapper

        stream = cupy.cuda.get_current_stream()
        spin((1,), (1,), (np.uint64(int(_SPIN_S * 1e9)),))
        t0 = time.perf_counter()
        try:
            for n, fn in saved.items():
                setattr(linalg, n, timed(fn))
            yield
            wall = time.perf_counter() - t0
            still_busy = not stream.done
        finally:
            for n, fn in saved.items():
                setattr(linalg, n, fn)
            stream.synchronize()
        outside = wall - inside[0]
        if outside > _SPIN_S / 2 or (not still_busy and inside[0] <= _SPIN_S / 2):
            raise HostRoundTrip(
                f"{op}: the call waited for the GPU ({wall:.2f}s behind a {_SPIN_S}s kernel, "
                f"{inside[0]:.2f}s of it in xp.linalg): a device sync / device-to-host copy on the way"
            )
        if inside[0] > _SPIN_S / 2 and op != "lstsq":
            raise HostRoundTrip(f"{op}: synchronised inside xp.linalg ({inside[0]:.2f}s)")

    leaks = {
        ".get()": lambda a: a.get(),
        "np.asarray": lambda a: np.asarray(a),
        ".item()": lambda a: a[0].item(),
        "float()": lambda a: float(a[0]),
        ".tolist()": lambda a: a.tolist(),
        "cupy.asnumpy": lambda a: cupy.asnumpy(a),
    }
    # the cold call is unguarded (constants are copied host -> device once); implicit __array__ still raises
    return Guard(contextlib.nullcontext, no_sync, (HostRoundTrip, TypeError), leaks)


def _strict_guard(backend: Any) -> Guard:
    import array_api_strict

    cls = type(backend.asarray([0.0]))
    names = [
        "__float__",
        "__int__",
        "__bool__",
        "__complex__",
        "__index__",
        "__dlpack__",
        "__array__",
        "tolist",
    ]

    @contextlib.contextmanager
    def patched(op: str = "") -> Iterator[None]:
        saved = {n: cls.__dict__[n] for n in names if n in cls.__dict__}

        def make(n: str) -> Callable[..., Any]:
            def raiser(self, *args, **kwargs):
                raise HostRoundTrip(f"host conversion of an array_api_strict array: {n}() was called")

            return raiser

        try:
            for n in names:
                setattr(cls, n, make(n))
            yield
        finally:
            for n in names:
                if n in saved:
                    setattr(cls, n, saved[n])
                else:
                    delattr(cls, n)

    leaks = {
        "np.asarray": lambda a: np.asarray(a),
        "float()": lambda a: float(a[0]),
        "bool()": lambda a: bool(a[0] > 0),
        "int()": lambda a: int(a[0]),
    }
    del array_api_strict
    return Guard(patched, patched, (HostRoundTrip, RuntimeError, TypeError), leaks)


def _dask_guard(backend: Any) -> Guard:
    import dask

    class Computed(HostRoundTrip):
        pass

    def refuse(dsk, keys, **kwargs):
        raise Computed("a Dask graph was computed on the way: the result must stay lazy")

    def lazy(op: str = "") -> contextlib.AbstractContextManager:
        return dask.config.set(scheduler=refuse)

    leaks = {
        ".compute()": lambda a: a.compute(),
        "np.asarray": lambda a: np.asarray(a),
        "float()": lambda a: float(a[0]),
    }
    return Guard(lazy, lazy, (Computed,), leaks)


def _jax_guard(backend: Any) -> Guard:
    import jax

    if getattr(backend.device, "platform", "cpu") == "cpu":
        pytest.skip("JAX on CPU: its transfer guard does not see host conversions of CPU arrays")

    def d2h(op: str = "") -> contextlib.AbstractContextManager:
        return jax.transfer_guard_device_to_host("disallow")

    leaks = {"np.asarray": lambda a: np.asarray(a), "float()": lambda a: float(a[0])}
    return Guard(d2h, d2h, (Exception,), leaks)


def guard_for(backend: Any) -> Guard:
    family = backend.family
    if family == "torch":
        return _torch_guard(backend)
    if family == "cupy":
        return _cupy_guard(backend)
    if family == "array_api_strict":
        return _strict_guard(backend)
    if family == "dask":
        return _dask_guard(backend)
    if family == "jax":
        return _jax_guard(backend)
    pytest.skip(f"{backend.name}: host arrays, nothing to round-trip")
    raise AssertionError  # unreachable


# ------------------------------------------------------------------------------------------------ data

N = 48


def _reps(group_name: str) -> tuple[symm.Rep, symm.Rep]:
    if group_name == "C4":  # R- and C-type irreps, different multiplicities in x and y
        G = symm.groups.cyclic(4)
        return G.regular_rep() * 2, G.regular_rep() + G.trivial_rep()
    G = symm.groups.quaternion()  # H-type irrep
    return G.regular_rep(), G.regular_rep() + G.trivial_rep(2)


def _ops() -> dict[str, Callable[[Any, Any, symm.Rep, symm.Rep], Any]]:
    return {
        "mean": lambda x, y, rx, ry: symm.mean(x, rx),
        "var_mean": lambda x, y, rx, ry: symm.var_mean(x, rx),
        "cov": lambda x, y, rx, ry: symm.cov(x, y, rx, ry),
        "cov_auto": lambda x, y, rx, ry: symm.cov(x, None, rx, rx),
        "lstsq": lambda x, y, rx, ry: symm.lstsq(x, y, rx, ry),
        "project_equivariant": lambda x, y, rx, ry: symm.project_equivariant(_cross(x, y), rx, ry),
    }


def _cross(x: Any, y: Any) -> Any:
    import array_api_compat

    xp = array_api_compat.array_namespace(x)
    return xp.matrix_transpose(y) @ x


def _results(out: Any) -> list[Any]:
    return list(out) if isinstance(out, tuple | list) else [out]


# ------------------------------------------------------------------------------------------------ tests


def test_guard_catches_deliberate_conversions(backend):
    """Each guard fires on a deliberate host conversion (else a passing guarded run proves nothing)."""
    guard = guard_for(backend)
    x = backend.asarray(np.linspace(-1.0, 1.0, 6))
    missed = []
    for label, leak in guard.leaks.items():
        try:
            with guard.warm("leak"):
                leak(x)
        except guard.errors:
            continue
        except Exception as exc:  # another error: the conversion did not go through, but say which
            missed.append(f"{label} raised {type(exc).__name__}: {exc}")
            continue
        missed.append(f"{label} went through")
    assert not missed, f"[{backend.name}] the guard missed: {missed}"


def test_guard_allows_device_work(backend):
    """The guards do not fire on plain device computation (else every guarded test would fail)."""
    guard = guard_for(backend)
    xp = backend.xp
    x = backend.asarray(np.arange(12.0).reshape(4, 3))
    with guard.cold():
        y = xp.matrix_transpose(x) @ x
        z = xp.sum(y, axis=0) / 3.0
    with guard.warm("leak"):
        y = xp.matrix_transpose(x) @ x
        z = xp.mean(y, axis=0) - z
    backend.check_array(z)


@pytest.mark.parametrize("group_name", ["C4", "Q8"])
@pytest.mark.parametrize("op", list(_ops()))
def test_no_host_roundtrip(backend, op, group_name, rng):
    """symm's array functions never convert a device array to host data (cold and warm calls)."""
    guard = guard_for(backend)
    rep_x, rep_y = _reps(group_name)
    x = backend.asarray(rng.normal(size=(N, rep_x.size)))
    y = backend.asarray(rng.normal(size=(N, rep_y.size)))
    fn = _ops()[op]

    with guard.cold():
        first = _results(fn(x, y, rep_x, rep_y))
    with guard.warm(op):
        second = _results(fn(x, y, rep_x, rep_y))

    for a, b in zip(first, second, strict=True):
        backend.check_array(b)
        backend.assert_close(b, a, err_msg=f"{op}: warm call differs from cold call")
    if guard.syncs:
        bad = sorted({n for n in guard.syncs if not _is_solver(n)})
        assert not bad, (
            f"[{backend.name}] {op} synchronised the device outside torch.linalg solvers, in: {bad} "
            f"(all synchronising calls: {guard.syncs})"
        )


def test_torch_sync_attribution():
    """The sync recorder names the torch call that synchronised, and solvers are told apart (CPU check of the
    machinery the torch-cuda ``lstsq`` test relies on)."""
    torch = pytest.importorskip("torch")
    from torch.overrides import handle_torch_function, has_torch_function

    def make(name: str) -> Callable[[Any], Any]:
        def fake(t):
            if has_torch_function((t,)):
                return handle_torch_function(fake, (t,), t)
            warnings.warn("called a synchronizing CUDA operation", UserWarning, stacklevel=2)
            return t

        fake.__name__ = name
        return fake

    t = torch.ones(3)
    mode = _torch_guard_mode(record_syncs=True)
    with mode:
        make("linalg_pinv")(t)
        make("index_put_")(t)
        t + 1
    assert mode.syncs == ["linalg_pinv", "index_put_"]
    assert [_is_solver(n) for n in mode.syncs] == [True, False]
