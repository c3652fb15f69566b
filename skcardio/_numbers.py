"""Type checks of numeric parameters shared by every subpackage (bools are not numbers here)."""

from __future__ import annotations

from numbers import Integral, Real

__all__ = ["is_int", "is_nonnegative_int", "is_number"]


def is_int(value) -> bool:
    """True for ints, NumPy's included (bools excluded)."""
    # np.integer registers as Integral; np.bool_ registers as neither.
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_nonnegative_int(value) -> bool:
    """True for ints >= 0 (bools excluded)."""
    return is_int(value) and value >= 0


def is_number(value) -> bool:
    """True for real numbers, NumPy's included (bools excluded)."""
    return isinstance(value, Real) and not isinstance(value, bool)
