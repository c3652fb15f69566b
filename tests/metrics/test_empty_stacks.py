"""Every metric on stacks without slices (an error, not NaN) and on one slice (the checks: skcardio/utils/_validation.py)."""

import warnings

import numpy as np
import pytest

from skcardio.metrics import (
    average_perpendicular_distance,
    dice_score,
    fraction_iou_above,
    good_contour_rate,
    hausdorff_distance,
    iou_score,
    ks_score,
)

METRICS = {
    "iou": iou_score,
    "dice": dice_score,
    "fraction_iou_above": fraction_iou_above,
    "ks": lambda t, p, **kw: ks_score(t, p, images=np.zeros(t.shape), **kw),
    "hausdorff": hausdorff_distance,
    "apd": average_perpendicular_distance,
    "good_contour": good_contour_rate,
}
PER_SLICE = ["iou", "dice", "ks", "hausdorff", "apd"]


@pytest.mark.parametrize("name", METRICS)
def test_no_slices_is_an_error_not_nan(name):
    empty = np.zeros((0, 4, 5), bool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice" on the way
        with pytest.raises(
            ValueError,
            match=r"no slices were given: received masks of shape \(0, 4, 5\); "
            r"expected at least one slice",
        ):
            METRICS[name](empty, empty)


@pytest.mark.parametrize("name", PER_SLICE)
def test_no_slices_is_an_error_per_slice_too(name):
    empty = np.zeros((0, 4, 5), bool)
    with pytest.raises(ValueError, match="no slices were given"):
        METRICS[name](empty, empty, per_slice=True)


@pytest.mark.parametrize("name", METRICS)
def test_one_slice_is_enough(name):
    # The smallest valid stack: one slice, identical masks -> the best value
    # (1 for the scores and rates, 0 for the distances; KS p-value 1).
    mask = np.zeros((1, 4, 5), bool)
    mask[0, 1:3, 1:4] = True
    expected = 0.0 if name in ("hausdorff", "apd") else 1.0
    assert METRICS[name](mask, mask) == expected
