"""KS score on hand-computed samples and known distributions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import ks_2samp

from skcardio.metrics import ks_score


def _one_row_case(true_values, pred_values):
    """A 1-row slice holding both samples side by side, and the two masks."""
    image = np.array([list(true_values) + list(pred_values)], dtype=float)[None]
    y_true = np.zeros(image.shape, bool)
    y_pred = np.zeros(image.shape, bool)
    y_true[0, 0, : len(true_values)] = True
    y_pred[0, 0, len(true_values) :] = True
    return image, y_true, y_pred


def test_hand_computed_disjoint_samples():
    # true {1,2,3,4}, pred {5,6,7,8}: the empirical CDFs never overlap, so the
    # statistic is 1; the exact two-sided p-value for n = m = 4 counts the 2
    # most extreme of the C(8, 4) = 70 equally likely orderings: 2 / 70.
    image, y_true, y_pred = _one_row_case([1, 2, 3, 4], [5, 6, 7, 8])
    pvalue, statistic = ks_score(y_true, y_pred, images=image, return_statistic=True)
    assert statistic == 1.0
    assert pvalue == pytest.approx(2 / 70)


def test_hand_computed_statistic():
    # true {1,2,3,4}, pred {1..8}: at x = 4, F_true = 1 and F_pred = 1/2.
    image, y_true, y_pred = _one_row_case([1, 2, 3, 4], range(1, 9))
    pvalue, statistic = ks_score(y_true, y_pred, images=image, return_statistic=True)
    assert statistic == 0.5
    assert pvalue == pytest.approx(ks_2samp(range(1, 9), [1, 2, 3, 4]).pvalue)


def test_identical_regions_are_maximally_alike():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 10, 10))
    masks = rng.random((2, 10, 10)) > 0.5
    pvalue, statistic = ks_score(masks, masks, images=images, per_slice=True, return_statistic=True)
    np.testing.assert_array_equal(statistic, [0.0, 0.0])
    np.testing.assert_array_equal(pvalue, [1.0, 1.0])


def test_known_distributions():
    # slice 0: both halves N(0, 1); slice 1: the predicted half shifted by 2 sd.
    rng = np.random.default_rng(1)
    images = rng.normal(size=(2, 60, 60))
    images[1, 30:] += 2.0
    y_true = np.zeros(images.shape, bool)
    y_true[:, :30] = True
    y_pred = ~y_true
    pvalue, statistic = ks_score(y_true, y_pred, images=images, per_slice=True, return_statistic=True)
    # the population KS distance is 0 for slice 0 and 2 * Phi(1) - 1 = 0.683
    # for slice 1; with 1800 pixels per sample the sampling error is ~0.03.
    assert statistic[0] < 0.06
    assert statistic[1] == pytest.approx(0.683, abs=0.05)
    assert pvalue[0] > 1e-3
    assert pvalue[1] < 1e-100


def test_nan_pixels_are_ignored():
    rng = np.random.default_rng(2)
    images = rng.normal(size=(1, 20, 20))
    y_true = np.zeros(images.shape, bool)
    y_true[0, :12] = True
    y_pred = np.zeros(images.shape, bool)
    y_pred[0, 8:] = True
    nan_images = images.copy()
    nan_images[0, :, :5] = np.nan
    kept = np.ones(images.shape, bool)
    kept[0, :, :5] = False
    expected = ks_score(y_true & kept, y_pred & kept, images=images, return_statistic=True)
    assert ks_score(y_true, y_pred, images=nan_images, return_statistic=True) == expected
    assert np.isfinite(expected).all()


def test_empty_rule():
    # slice 0: both empty -> p 1, statistic 0; slice 1: pred empty -> p 0,
    # statistic 1; slice 2: the only true pixels are NaN -> treated as empty;
    # slice 3: pred empty and the true pixels all NaN -> still a miss (the masks decide first).
    images = np.ones((4, 4, 4))
    images[2, 0, 0] = np.nan
    images[3, :2] = np.nan
    y_true = np.zeros(images.shape, bool)
    y_pred = np.zeros(images.shape, bool)
    y_true[1, :2] = True
    y_true[2, 0, 0] = True
    y_pred[2, 1:] = True
    y_true[3, :2] = True
    pvalue, statistic = ks_score(y_true, y_pred, images=images, per_slice=True, return_statistic=True)
    np.testing.assert_array_equal(pvalue, [1.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(statistic, [0.0, 1.0, 1.0, 1.0])
    assert ks_score(y_true, y_pred, images=images) == pytest.approx(1 / 4)


def test_four_dimensional_images_use_channel_zero():
    rng = np.random.default_rng(3)
    images = rng.normal(size=(2, 8, 8))
    # Channel 1 varies over the masked pixels (a constant one would leave the
    # ranks, hence the KS score, of a channel mean unchanged).
    other = rng.normal(size=images.shape) * 10
    masks_true = rng.random(images.shape) > 0.5
    masks_pred = rng.random(images.shape) > 0.5
    stacked = np.stack([images, other], axis=1)
    expected = ks_score(masks_true, masks_pred, images=images, return_statistic=True)
    assert ks_score(masks_true, masks_pred, images=stacked, return_statistic=True) == expected
    for mixed in (other, (images + other) / 2):  # what channel 1 or a channel mean would give
        assert ks_score(masks_true, masks_pred, images=mixed, return_statistic=True) != expected


def test_image_shape_error():
    masks = np.zeros((2, 4, 4), bool)
    with pytest.raises(ValueError, match=r"matching the masks' shape \(2, 4, 4\).*\(3, 4, 4\)"):
        ks_score(masks, masks, images=np.zeros((3, 4, 4)))


def test_four_dimensional_image_shape_error_names_the_shape_passed():
    # (3, 2, 4, 4) is three [image, region] pairs: the message must say so,
    # not the (3, 4, 4) left after taking channel 0.
    masks = np.zeros((2, 4, 4), bool)
    with pytest.raises(ValueError, match=r"shape \(2, 4, 4\); got an array of shape \(3, 2, 4, 4\)\."):
        ks_score(masks, masks, images=np.zeros((3, 2, 4, 4)))


def test_infinite_pixels_are_left_out_like_nan():
    # true {1, 2, inf}, pred {-inf, 3, 4}: without the infinite pixels the
    # samples are {1, 2} and {3, 4}, disjoint: statistic 1, exact p 2 / C(4, 2).
    image, y_true, y_pred = _one_row_case([1, 2, np.inf], [-np.inf, 3, 4])
    pvalue, statistic = ks_score(y_true, y_pred, images=image, return_statistic=True)
    assert statistic == 1.0
    assert pvalue == pytest.approx(2 / 6)


slices = st.integers(1, 3).flatmap(
    lambda n: st.tuples(
        arrays(bool, (n, 6, 7)),
        arrays(bool, (n, 6, 7)),
        arrays(float, (n, 6, 7), elements=st.floats(-1e3, 1e3) | st.just(np.nan)),
    )
)


# scipy falls back from the exact to the asymptotic p-value on some tied
# samples and says so; both lie in [0, 1].
@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")
@settings(max_examples=80, deadline=None)
@given(slices)
def test_pvalue_and_statistic_are_in_unit_interval(case):
    y_true, y_pred, images = case
    pvalue, statistic = ks_score(
        y_true, y_pred, images=images, per_slice=True, return_statistic=True
    )
    assert ((0 <= pvalue) & (pvalue <= 1)).all()
    assert ((0 <= statistic) & (statistic <= 1)).all()
    # the mean over slices is the mean of the per-slice values
    assert ks_score(y_true, y_pred, images=images) == pytest.approx(pvalue.mean())
