"""The label offset: estimated per target from masks and labels, applied to probabilities."""

import numpy as np
import pytest

from skcardio.segment._unet_offset import estimate_label_offset, shift_proba


def _square(top: int, left: int) -> np.ndarray:
    mask = np.zeros((40, 40))
    mask[top : top + 6, left : left + 6] = 1
    return mask


def test_offset_is_the_median_per_target_over_usable_slices():
    predicted = np.stack([np.stack([_square(10, 10), _square(8, 8)])] * 3) > 0
    labels = np.stack(
        [
            np.stack([_square(11, 10), _square(8, 9)]),
            np.stack([_square(11, 10), np.full((40, 40), -1.0)]),  # epicardium unknown: left out
            np.stack([_square(14, 15), np.zeros((40, 40))]),  # an outlier pool; an empty label: left out
        ]
    )
    offset = estimate_label_offset(predicted, labels)
    np.testing.assert_allclose(offset, [[1.0, 0.0], [0.0, 1.0]])  # the median resists the outlier
    # No usable slice for a target: no shift.
    np.testing.assert_array_equal(estimate_label_offset(predicted[:, :1], np.zeros((3, 1, 40, 40))), [[0.0, 0.0]])


def test_shift_moves_each_target_by_its_own_offset_and_zero_is_a_no_op():
    proba = np.stack([np.stack([_square(10, 10), _square(10, 10)])]).astype(np.float32)
    shifted = shift_proba(proba, np.array([[2.0, 0.0], [0.0, -3.0]]))
    np.testing.assert_array_equal(shifted[0, 0], _square(12, 10))
    np.testing.assert_array_equal(shifted[0, 1], _square(10, 7))
    assert shift_proba(proba, np.zeros((2, 2))) is proba
    assert shift_proba(proba[:, 0], np.array([[1.0, 1.0]])).shape == (1, 40, 40)
    with pytest.raises(ValueError, match=r"one \(row, col\) pair per target, 2, got shape \(1, 2\)"):
        shift_proba(proba, np.array([[1.0, 1.0]]))
