"""Reproducible benchmarks of symm against the alternatives a user would pick."""
