"""A streaming, mergeable estimator of symmetric moments."""

from __future__ import annotations

from typing import Any

import numpy as np

from symm._rep import Rep, common_group
from symm._stats.lstsq import solve_grams
from symm._stats.moments import cov_from_moments, symmetric_mean, var_from_moments
from symm._validate import check_correction, check_rep, prepare
from symm._xp import column_mean, device_of, namespace_of

__all__ = ["SymmetricMoments"]


class SymmetricMoments:
    """Streaming, mergeable symmetric mean, variance, covariance and equivariant least squares.

    The estimator keeps the sample count ``N``, the plain means ``x̄`` (and ``ȳ``) and the centred
    second moments ``M_xx = Σ (x − x̄)(x − x̄)ᵀ`` (and ``M_yx``, ``M_yy``): memory is ``O(D²)`` whatever
    ``N`` is. Batches and estimators are combined in the parallel form of Chan, Golub and LeVeque: with
    ``δ = x̄_b − x̄_a``, ``x̄ = x̄_a + δ N_b / N`` and ``M = M_a + M_b + δ_y δ_xᵀ N_a N_b / N``. The symmetry
    is applied when a statistic is asked for, so the answers equal :func:`symm.mean`, :func:`symm.var`,
    :func:`symm.cov` and :func:`symm.lstsq` on the concatenated data (up to rounding).

    Parameters
    ----------
    rep_x : Rep
        Representation of the rows of ``x``.
    rep_y : Rep, optional
        Representation of the rows of ``y``, of the same group. When given, every :meth:`update` needs a
        ``y`` and the cross-moments (for ``cov`` and ``lstsq``) are tracked.

    Attributes
    ----------
    n : int
        Number of samples seen.

    Notes
    -----
    The estimator pickles and deep-copies: its state is the two reps, ``n`` and the moment arrays, which stay
    in the namespace and on the device of the data (the namespace is found again from them, never stored).
    Estimators built on equal reps merge, also when the reps are distinct objects (after a round trip
    through another process): they must be reps of the same group with equal ``generator_images``.

    Examples
    --------
    >>> import numpy as np, symm
    >>> rep = symm.groups.cyclic(4).regular_rep()
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> est = symm.SymmetricMoments(rep)
    >>> for batch in np.split(x, 4):
    ...     _ = est.update(batch)
    >>> bool(np.allclose(est.cov(), symm.cov(x, None, rep)))
    True
    """

    def __init__(self, rep_x: Rep, rep_y: Rep | None = None) -> None:
        self.rep_x = check_rep(rep_x, "rep_x")
        self.rep_y = None if rep_y is None else check_rep(rep_y, "rep_y")
        if self.rep_y is not None:
            self.rep_y = common_group(self.rep_x, self.rep_y, ("rep_x", "rep_y"))[1]
        self.n = 0
        self._xbar: Any = None
        self._ybar: Any = None
        self._mxx: Any = None
        self._myx: Any = None
        self._myy: Any = None

    # ----------------------------------------------------------------------------------------- updating
    def update(self, x: Any, y: Any = None) -> SymmetricMoments:
        """Add a batch ``x`` of shape (N_b, D_x) (and ``y`` of shape (N_b, D_y)); returns ``self``."""
        if self.rep_y is None and y is not None:
            raise ValueError("this estimator was built without rep_y, so update() takes no y")
        if self.rep_y is not None and y is None:
            raise ValueError("this estimator tracks y (rep_y was given): update(x, y) needs y")
        xp, x, y, _, _ = prepare(x, y, self.rep_x, self.rep_y)
        nb = int(x.shape[0])
        if nb == 0:
            return self
        xbar = column_mean(x, xp)
        xc = x - xbar
        xct = xp.matrix_transpose(xc)
        batch = {"n": nb, "xbar": xbar, "mxx": xct @ xc}
        if y is not None:
            ybar = column_mean(y, xp)
            yc = y - ybar
            yct = xp.matrix_transpose(yc)
            batch.update(ybar=ybar, myx=yct @ xc, myy=yct @ yc)
        self._absorb(xp, batch, "x")
        return self

    def merge(self, other: SymmetricMoments) -> SymmetricMoments:
        """A new estimator holding the data of ``self`` and ``other`` (neither is changed)."""
        if not isinstance(other, SymmetricMoments):
            raise TypeError(f"other must be a SymmetricMoments, got {type(other).__name__}")
        if (self.rep_y is None) != (other.rep_y is None):
            mine = "tracks y" if self.rep_y is not None else "does not track y"
            theirs = "tracks y" if other.rep_y is not None else "does not track y"
            raise ValueError(
                f"other {theirs} (rep_y={_rep_name(other.rep_y)}) but this estimator {mine} "
                f"(rep_y={_rep_name(self.rep_y)}); only estimators built on equal rep_x and rep_y merge"
            )
        for name in ("rep_x", "rep_y"):
            diff = _rep_difference(getattr(self, name), getattr(other, name))
            if diff is not None:
                raise ValueError(
                    f"other.{name} differs from this estimator's {name}: {diff}; only estimators built on "
                    "equal rep_x and rep_y merge"
                )
        out = SymmetricMoments(self.rep_x, self.rep_y)
        for src in (self, other):
            if src.n:
                out._absorb(src._xp, src._state(), "other")
        return out

    @property
    def _xp(self) -> Any:
        """The namespace of the stored moments, found from them (a module is not stored: it does not pickle)."""
        return None if self._xbar is None else namespace_of(state=self._xbar)

    def _state(self) -> dict:
        return {
            "n": self.n,
            "xbar": self._xbar,
            "ybar": self._ybar,
            "mxx": self._mxx,
            "myx": self._myx,
            "myy": self._myy,
        }

    def _absorb(self, xp: Any, b: dict, name: str) -> None:
        if self.n == 0:
            self.n = b["n"]
            self._xbar, self._mxx = b["xbar"], b["mxx"]
            self._ybar, self._myx, self._myy = b.get("ybar"), b.get("myx"), b.get("myy")
            return
        namespace_of(state=self._xbar, **{name: b["xbar"]})
        dt = xp.result_type(self._xbar, b["xbar"])
        na, nb = self.n, b["n"]
        n = na + nb
        f = na * nb / n

        def cast(a: Any) -> Any:
            return a if a.dtype == dt else xp.astype(a, dt)

        dx = cast(b["xbar"]) - cast(self._xbar)
        self._xbar = cast(self._xbar) + dx * (nb / n)
        self._mxx = cast(self._mxx) + cast(b["mxx"]) + f * (xp.reshape(dx, (-1, 1)) * xp.reshape(dx, (1, -1)))
        if self.rep_y is not None:
            dy = cast(b["ybar"]) - cast(self._ybar)
            self._ybar = cast(self._ybar) + dy * (nb / n)
            col = xp.reshape(dy, (-1, 1))
            self._myx = cast(self._myx) + cast(b["myx"]) + f * (col * xp.reshape(dx, (1, -1)))
            self._myy = cast(self._myy) + cast(b["myy"]) + f * (col * xp.reshape(dy, (1, -1)))
        self.n = n

    # ----------------------------------------------------------------------------------------- answers
    def _need(self, what: str, need_y: bool = False) -> None:
        if self.n == 0:
            raise ValueError(f"no data yet: call update() before {what}()")
        if need_y and self.rep_y is None:
            raise ValueError(f"{what}() needs y: build the estimator with rep_y and pass y to update()")

    def _check_correction(self, correction: Any) -> None:
        check_correction(correction, self.n, "the estimator's data (all it was given by update() and merge())")

    def _which(self, which: str) -> tuple[Any, Any, Rep]:
        if which == "x":
            return self._xbar, self._mxx, self.rep_x
        if which == "y":
            self._need("y statistics", need_y=True)
            return self._ybar, self._myy, self.rep_y
        raise ValueError(f"which must be 'x' or 'y', got {which!r}")

    def mean(self, which: str = "x") -> Any:
        """The symmetric mean ``P_inv x̄`` (``which="y"``: of ``y``), shape (D,)."""
        self._need("mean")
        xbar, _, rep = self._which(which)
        return symmetric_mean(xbar, rep, self._xp)

    def var(self, which: str = "x", *, correction: float = 1) -> Any:
        """The symmetric variance ``diag cov``, shape (D,), as :func:`symm.var`."""
        self._need("var")
        xbar, m2, rep = self._which(which)
        self._check_correction(correction)
        return var_from_moments(m2, xbar, self.n, rep, correction, self._xp)

    def cov(self, which: str | None = None, *, correction: float = 1) -> Any:
        """The symmetric covariance, as :func:`symm.cov`.

        ``which=None`` gives the cross-covariance (D_y, D_x) when ``y`` is tracked and the auto-covariance
        of ``x`` otherwise; ``"x"`` or ``"y"`` ask for an auto-covariance.
        """
        self._need("cov")
        self._check_correction(correction)
        if which is None and self.rep_y is not None:
            return cov_from_moments(
                self._myx, self._xbar, self._ybar, self.n, self.rep_x, self.rep_y, correction, self._xp
            )
        xbar, m2, rep = self._which("x" if which is None else which)
        return cov_from_moments(m2, xbar, xbar, self.n, rep, rep, correction, self._xp)

    def lstsq(self) -> Any:
        """The equivariant least-squares map ``A`` (D_y, D_x) of :func:`symm.lstsq` on all data seen."""
        self._need("lstsq", need_y=True)
        xp, n = self._xp, self.n
        xbar, ybar = self._xbar, self._ybar
        cxx = self._mxx + n * (xp.reshape(xbar, (-1, 1)) * xp.reshape(xbar, (1, -1)))
        cyx = self._myx + n * (xp.reshape(ybar, (-1, 1)) * xp.reshape(xbar, (1, -1)))
        return solve_grams(cxx, cyx, self.rep_x, self.rep_y, xp)

    @property
    def device(self) -> Any:
        """The device of the stored moments (``None`` before the first update)."""
        return None if self._xbar is None else device_of(self._xbar)

    def __repr__(self) -> str:
        ys = "" if self.rep_y is None else f", rep_y={self.rep_y.name}"
        return f"SymmetricMoments(rep_x={self.rep_x.name}{ys}, n={self.n})"


def _rep_name(rep: Rep | None) -> str:
    return "None" if rep is None else rep.name


def _rep_difference(a: Rep | None, b: Rep | None) -> str | None:
    """How ``b`` differs from ``a`` by content, or ``None`` when they are equal.

    Equal means: the same group (the same object, since groups are interned by their generators, or one whose
    generators correspond), the same size and equal ``generator_images``. Identity is not required, so reps
    that made a round trip through pickle (another process) still compare equal.
    """
    if a is b:
        return None
    if a is None or b is None:  # pragma: no cover - merge checks that first
        return f"{_rep_name(b)} vs {_rep_name(a)}"
    if a.group is not b.group:
        try:
            _, b = common_group(a, b)  # corresponding generators: the same group, met by content
        except ValueError:
            return f"it is a rep of a different group ({b.group.name} vs {a.group.name})"
    if a.size != b.size:
        return f"it has size {b.size}, not {a.size}"
    if not np.array_equal(a.generator_images, b.generator_images):
        return f"{b.name} and {a.name} have different generator_images (same group {a.group.name}, size {a.size})"
    return None
