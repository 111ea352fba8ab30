"""Symmetric statistics: moments (``mean``, ``var``, ``var_mean``, ``cov``), equivariant least squares and the
streaming estimator, one job a module."""

from symm._stats.lstsq import lstsq
from symm._stats.moments import cov, mean, var, var_mean
from symm._stats.streaming import SymmetricMoments

__all__ = ["SymmetricMoments", "cov", "lstsq", "mean", "var", "var_mean"]
