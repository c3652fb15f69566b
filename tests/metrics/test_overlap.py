"""IoU, Dice and the IoU pass rate on hand-computed masks and random masks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skcardio.metrics import dice_score, fraction_iou_above, iou_score


def _masks(shape, *blocks):
    """Stack of masks, one (row slice, col slice) block per slice (None = empty)."""
    masks = np.zeros(shape, dtype=bool)
    for index, block in enumerate(blocks):
        if block is not None:
            masks[(index, *block)] = True
    return masks


def test_hand_computed_iou_and_dice():
    # slice 0: true 3x3 = 9 px, pred = its bottom 2 rows = 6 px, all inside.
    #   IoU = 6 / 9 = 2/3, Dice = 2 * 6 / (9 + 6) = 0.8
    # slice 1: true 2x2 (rows 0-1, cols 0-1), pred 2x2 shifted one column.
    #   intersection 2, union 6: IoU = 1/3, Dice = 4 / 8 = 0.5
    y_true = _masks((2, 5, 5), np.s_[0:3, 0:3], np.s_[0:2, 0:2])
    y_pred = _masks((2, 5, 5), np.s_[1:3, 0:3], np.s_[0:2, 1:3])
    np.testing.assert_allclose(iou_score(y_true, y_pred, per_slice=True), [2 / 3, 1 / 3])
    np.testing.assert_allclose(dice_score(y_true, y_pred, per_slice=True), [0.8, 0.5])
    assert iou_score(y_true, y_pred) == pytest.approx(0.5)
    assert dice_score(y_true, y_pred) == pytest.approx(0.65)


@pytest.mark.parametrize("metric", [iou_score, dice_score])
def test_empty_mask_rule(metric):
    # both empty -> 1.0; only one empty -> 0.0, whichever it is.
    y_true = _masks((3, 4, 4), None, np.s_[0:2, 0:2], None)
    y_pred = _masks((3, 4, 4), None, None, np.s_[1:2, 1:2])
    np.testing.assert_array_equal(metric(y_true, y_pred, per_slice=True), [1.0, 0.0, 0.0])


@pytest.mark.parametrize("metric", [iou_score, dice_score])
def test_single_slice_and_numeric_masks(metric):
    y_true = np.zeros((4, 4), dtype=int)
    y_true[:2, :2] = 1
    y_pred = np.zeros((4, 4), dtype=float)
    y_pred[:2, :1] = 1.0
    value = metric(y_true, y_pred)
    assert isinstance(value, float)
    assert metric(y_true, y_pred, per_slice=True).shape == (1,)
    assert value == metric(y_true.astype(bool), y_pred.astype(bool))


@pytest.mark.parametrize("metric", [iou_score, dice_score])
def test_errors(metric):
    masks = np.zeros((2, 4, 4), bool)
    with pytest.raises(ValueError, match=r"same shape.*\(2, 4, 4\).*\(2, 4, 5\)"):
        metric(masks, np.zeros((2, 4, 5), bool))
    with pytest.raises(ValueError, match=r"\(n, H, W\).*shape \(1, 2, 4, 4\)"):
        metric(masks[None], masks[None])
    with pytest.raises(ValueError, match="all 0 or 1"):
        metric(masks, np.full((2, 4, 4), 0.5))
    with pytest.raises(ValueError, match="all 0 or 1"):
        metric(np.full((2, 4, 4), 2), masks)


def test_fraction_iou_above_is_strict():
    # IoUs: 1.0, 3/4 (pred 3 px inside true 4 px), 0.0 -> only the first is > 0.75
    y_true = _masks((3, 4, 4), np.s_[0:2, 0:2], np.s_[0:2, 0:2], np.s_[0:1, 0:1])
    y_pred = y_true.copy()
    y_pred[1, 1, 1] = False
    y_pred[2] = False
    assert fraction_iou_above(y_true, y_pred) == pytest.approx(1 / 3)
    assert fraction_iou_above(y_true, y_pred, threshold=0.7) == pytest.approx(2 / 3)
    for bad in (1.5, -0.1, float("nan"), "0.7"):  # 1.5 returned 0.0 for any masks
        with pytest.raises(ValueError, match=f"threshold must be an IoU in \\[0, 1\\], got {bad!r}"):
            fraction_iou_above(y_true, y_pred, threshold=bad)


mask_pairs = st.integers(1, 4).flatmap(
    lambda n: st.tuples(
        arrays(bool, (n, 5, 6)),
        arrays(bool, (n, 5, 6)),
    )
)


@settings(max_examples=100, deadline=None)
@given(mask_pairs)
def test_properties(pair):
    y_true, y_pred = pair
    iou = iou_score(y_true, y_pred, per_slice=True)
    dice = dice_score(y_true, y_pred, per_slice=True)
    # symmetric
    np.testing.assert_array_equal(iou, iou_score(y_pred, y_true, per_slice=True))
    np.testing.assert_array_equal(dice, dice_score(y_pred, y_true, per_slice=True))
    # bounded, and Dice never below IoU
    assert ((0 <= iou) & (iou <= dice) & (dice <= 1)).all()
    # Dice = 2 IoU / (1 + IoU) per slice
    np.testing.assert_allclose(dice, 2 * iou / (1 + iou))
    # a mask agrees perfectly with itself
    assert iou_score(y_true, y_true) == 1.0
    # the mean is the mean of the per-slice scores
    assert iou_score(y_true, y_pred) == pytest.approx(iou.mean())


@pytest.mark.parametrize("metric", [iou_score, dice_score])
def test_sample_weight_weighs_the_mean_over_slices(metric):
    # Scorers routed sample_weight to metrics that had no such argument (TypeError).
    y_true = _masks((3, 4, 4), np.s_[0:2, 0:2], np.s_[0:2, 0:2], np.s_[0:1, 0:1])
    y_pred = y_true.copy()
    y_pred[1, 1, 1] = False
    y_pred[2] = False
    scores = metric(y_true, y_pred, per_slice=True)
    assert metric(y_true, y_pred, sample_weight=[1, 2, 1]) == pytest.approx((scores[0] + 2 * scores[1]) / 4)
    assert metric(y_true, y_pred, sample_weight=None) == pytest.approx(scores.mean())
    with pytest.raises(ValueError, match="with per_slice=True, weigh the scores yourself"):
        metric(y_true, y_pred, per_slice=True, sample_weight=[1, 1, 1])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3,\)"):
        metric(y_true, y_pred, sample_weight=[1, 1])


def test_scorer_with_routed_sample_weight():
    from sklearn import config_context
    from sklearn.base import BaseEstimator
    from sklearn.metrics import make_scorer

    class Same(BaseEstimator):
        def predict(self, X):
            return np.asarray(X)

    y = _masks((2, 4, 4), np.s_[0:2, 0:2], np.s_[0:1, 0:1])
    pred = y.copy()
    pred[1] = False
    with config_context(enable_metadata_routing=True):
        scorer = make_scorer(dice_score).set_score_request(sample_weight=True)
        assert scorer(Same(), pred, y, sample_weight=[1, 0]) == 1.0


def test_fraction_iou_above_weighs_slices():
    from sklearn import config_context
    from sklearn.base import BaseEstimator

    from skcardio.metrics import get_scorers

    class Same(BaseEstimator):
        def predict(self, X):
            return np.asarray(X)

    # IoU 1.0, 0.5 and 1.0: two of three slices above 0.75.
    y = _masks((3, 4, 4), np.s_[0:2, 0:2], np.s_[0:2, 0:2], np.s_[0:1, 0:1])
    pred = y.copy()
    pred[1, 0] = False
    assert fraction_iou_above(y, pred) == pytest.approx(2 / 3)
    assert fraction_iou_above(y, pred, sample_weight=[1, 2, 1]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(3,\)"):
        fraction_iou_above(y, pred, sample_weight=[1, 1])
    # The scorer accepts a routed weight (it raised TypeError in every fold).
    with config_context(enable_metadata_routing=True):
        scorer = get_scorers()["fraction_iou75"].set_score_request(sample_weight=True)
        assert scorer(Same(), pred, y, sample_weight=[0, 1, 0]) == 0.0

