"""Checks of numeric parameters shared by the subpackages."""

from fractions import Fraction

import numpy as np
import pytest

from skcardio._numbers import check_real


@pytest.mark.parametrize("value", [0.5, 1, np.float32(2.0), Fraction(1, 3)])
def test_check_real_accepts_finite_reals(value):
    check_real("rate", value, "a positive number", lambda v: v > 0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float64("-inf"), pytest.param(10**400, id="10**400"), "1", True, None])
def test_check_real_names_what_it_refuses(value):
    # 10**400 is an int too large for a float: a ValueError like the others, not an OverflowError.
    with pytest.raises(ValueError, match=r"^rate must be a positive number, got "):
        check_real("rate", value, "a positive number", lambda v: v > 0)
