"""assess_predictions and prediction_confidence: confidence and flags of predicted masks."""

import numpy as np
import pytest

from skcardio.qc import PREDICTION_FLAGS, assess_predictions, prediction_confidence
from skcardio.qc._prediction import PLAUSIBLE_AREA_MM2


def _disc(shape=(64, 64), centre=(32, 32), radius=10):
    rows, cols = np.indices(shape)
    return (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < radius**2


def test_certain_mask_has_confidence_one_and_no_flag():
    mask = _disc()[None]
    result = assess_predictions(mask, mask.astype(float), pixel_spacing=(1.4, 1.4))
    assert result["confidence"][0] == pytest.approx(1.0)
    assert not result["flagged"][0]
    assert set(result) == {"confidence", "flagged", *PREDICTION_FLAGS}


def test_confidence_is_the_mean_probability_inside_the_mask():
    mask = _disc()
    sure = np.where(mask, 0.99, 0.0)
    unsure = np.where(mask, 0.6, 0.0)
    half = sure.copy()
    half[:32] = np.where(mask[:32], 0.55, 0.0)  # the upper half hesitant
    outside = sure + np.where(_disc(radius=16) & ~mask, 0.45, 0.0)  # only pixels of the mask count
    result = assess_predictions(np.stack([mask] * 4), np.stack([sure, unsure, half, outside]))
    expected = [0.99, 0.6, (0.55 * mask[:32].sum() + 0.99 * mask[32:].sum()) / mask.sum(), 0.99]
    np.testing.assert_allclose(result["confidence"], expected)


def test_empty_mask_is_flagged_with_zero_confidence():
    masks = np.zeros((1, 32, 32), bool)
    result = assess_predictions(masks, np.full((1, 32, 32), 0.2))
    assert result["empty"][0] and result["flagged"][0]
    assert result["confidence"][0] == 0.0


def test_second_probable_region_is_flagged_but_a_speck_is_not():
    mask = _disc()
    second = np.where(mask, 0.9, 0.0)
    second[2:14, 48:62] = 0.8  # a bright structure of 168 pixels: 47 % of the pool's mass
    speck = np.where(mask, 0.9, 0.0)
    speck[2:6, 50:60] = 0.8  # 40 pixels: 11 % of the pool's mass
    result = assess_predictions(np.stack([mask, mask]), np.stack([second, speck]))
    assert result["several_components"].tolist() == [True, False]


def test_mask_touching_the_border_is_flagged():
    mask = _disc(centre=(5, 32))
    result = assess_predictions(mask[None], mask[None].astype(float))
    assert result["touches_border"][0] and result["flagged"][0]


def test_area_flag_uses_the_spacing_only_when_known():
    low, high = PLAUSIBLE_AREA_MM2
    tiny = np.zeros((64, 64), bool)
    tiny[30:32, 30:32] = True  # 4 px
    big = _disc(shape=(256, 256), centre=(128, 128), radius=60)  # ~11300 px
    assert 4 * 1.0 < low  # 4 mm² at 1 mm pixels
    pair = np.stack([tiny, tiny])
    result = assess_predictions(pair, pair.astype(float), pixel_spacing=[(1.0, 1.0), (np.nan, np.nan)])
    assert result["implausible_area"].tolist() == [True, False]
    assert big.sum() * 1.0 > high
    result = assess_predictions(big[None], big[None].astype(float), pixel_spacing=1.0)
    assert result["implausible_area"][0]
    assert not assess_predictions(big[None], big[None].astype(float), pixel_spacing=0.5)["implausible_area"][0]


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"same shape.*\(2, 8, 8\) and \(2, 8, 9\)"):
        assess_predictions(np.zeros((2, 8, 8), bool), np.zeros((2, 8, 9)))
    with pytest.raises(ValueError, match=r"pixel_spacing must have shape .*got \(3, 2\)"):
        assess_predictions(np.zeros((2, 8, 8), bool), np.zeros((2, 8, 8)), pixel_spacing=np.ones((3, 2)))


@pytest.mark.parametrize("function", [assess_predictions, prediction_confidence])
def test_probabilities_outside_zero_one_and_non_binary_masks_are_refused(function):
    # Unchecked, proba * 2 gave a confidence of 1.97 and NaN a NaN confidence, neither flagged.
    masks = np.zeros((3, 8, 8), bool)
    masks[:, 2:6, 2:6] = True
    proba = masks * 0.9
    for bad, value in ((proba * 2, "1.8"), (np.where(masks, np.nan, 0.0), "nan"), (proba - 1, "-1.0")):
        with pytest.raises(ValueError, match=rf"proba must be probabilities in \[0, 1\].*got {value} in 3 slice"):
            function(masks, bad)
    with pytest.raises(ValueError, match=r"masks must be boolean .*values such as \[0.0, 0.5\]"):
        function(masks * 0.5, proba)  # was read as True wherever non-zero
    assert function(masks.astype(np.uint8), proba) is not None  # 0/1 numbers are masks


def test_prediction_confidence_is_assess_predictions_confidence():
    rng = np.random.default_rng(0)
    proba = (0.55 + 0.4 * rng.random((5, 40, 40))) * np.stack([_disc((40, 40), (20, 20), r) for r in (4, 8, 12, 16, 18)])
    proba[1, 2:10, 28:38] = 0.8  # a second probable region: flagged, the confidence unaffected
    masks = proba > 0.5
    masks[3] = False  # an empty mask: 0
    masks[4] = _disc((40, 40), (2, 20), 6)  # touching the border, probabilities not its own
    expected = assess_predictions(masks, proba, pixel_spacing=(1.2, 1.2))
    assert expected["several_components"][1] and expected["empty"][3] and expected["touches_border"][4]
    np.testing.assert_array_equal(prediction_confidence(masks, proba), expected["confidence"])
    by_hand = [proba[i][masks[i]].mean() if masks[i].any() else 0.0 for i in range(5)]
    np.testing.assert_allclose(prediction_confidence(masks, proba), by_hand)
    assert prediction_confidence(masks, proba)[3] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        prediction_confidence(masks, proba[:, :-1])


def test_spacing_as_a_table_column_of_pairs():
    # A DataFrame's pixel_spacing column (one array per row) raised "setting an array element with a sequence".
    pd = pytest.importorskip("pandas")
    masks = np.stack([_disc(), _disc()])
    low, high = PLAUSIBLE_AREA_MM2
    area_px = masks[0].sum()
    # The first slice's pixels make the pool too small to be plausible, the second's do not.
    column = pd.Series([np.full(2, np.sqrt(low / area_px) / 2), np.full(2, np.sqrt(low / area_px) * 2)])
    flags = assess_predictions(masks, masks * 0.9, pixel_spacing=column)["implausible_area"]
    assert flags.tolist() == [True, False]
