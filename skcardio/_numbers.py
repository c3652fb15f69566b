"""Type checks of numeric parameters shared by every subpackage (bools are not numbers here)."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["check_bool", "check_real", "is_finite_number", "is_int", "is_nonnegative_int", "is_number", "is_number_pair"]


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


def is_finite_number(value) -> bool:
    """True for real numbers finite as a float (bools excluded; an int beyond 1.8e308 is not)."""
    return is_number(value) and _fits_a_float(value)


def is_number_pair(value) -> bool:
    """True for two finite real numbers in a tuple, list, 1-D array or other sized sequence (text excluded).

    Not only tuples and lists: a grid of ``GridSearchCV`` or a computed value
    may give a NumPy array (``np.array([2, 98])``).
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or np.ndim(value) != 1:
        return False
    return len(value) == 2 and all(map(is_finite_number, value))


def check_real(name: str, value, expected: str, accept) -> None:
    """Raise ValueError unless ``value`` is a finite real number for which ``accept`` holds."""
    if not (is_finite_number(value) and accept(value)):
        raise ValueError(f"{name} must be {expected}, got {value!r}")


def check_bool(name: str, value) -> None:
    """Raise ValueError unless ``value`` is True or False (NumPy's included).

    Truthiness is not enough: ``"no"`` would switch an option on.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def _fits_a_float(value) -> bool:
    """True if ``value`` is finite as a float (an int beyond 1.8e308 is not: OverflowError)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
