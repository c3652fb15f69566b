"""U-Net post-processing: which component is kept, and why (hand-made masks and probabilities)."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.draw import disk

from skcardio.segment._unet_postprocess import (
    _circularity,
    _fill_holes,
    component_scores,
    keep_main_component,
)

SHAPE = (128, 128)


def _disk(centre, radius):
    mask = np.zeros(SHAPE, bool)
    mask[disk(centre, radius, shape=SHAPE)] = True
    return mask


def _band(rows, cols):
    mask = np.zeros(SHAPE, bool)
    mask[rows[0]:rows[1], cols[0]:cols[1]] = True
    return mask


def _proba(*regions):
    """Probability 0.05 everywhere, ``p`` on each (mask, p) region."""
    proba = np.full(SHAPE, 0.05)
    for mask, p in regions:
        proba[mask] = p
    return proba


def test_round_pool_beats_larger_elongated_structure():
    # The failure seen on grouped CV (SC-HYP-38, SC-N-3, SC-N-40): a small,
    # confident, round pool near the centre and a larger, less confident,
    # elongated structure that wins on probability mass and centre prior alone.
    pool, other = _disk((60, 66), 7), _band((100, 110), (10, 120))
    proba = _proba((pool, 0.97), (other, 0.85))
    labels, _ = ndimage.label(proba > 0.5)
    pool_label, other_label = labels[60, 66], labels[105, 60]
    circularity = _circularity(labels, 2)
    without_shape = component_scores(labels, proba) / circularity
    assert without_shape[other_label - 1] > without_shape[pool_label - 1]  # the old ranking
    np.testing.assert_array_equal(keep_main_component(proba > 0.5, proba), pool)


def test_circularity_of_disc_strip_and_single_pixel():
    labels = np.zeros(SHAPE, int)
    labels[_disk((40, 40), 12)] = 1
    labels[_band((90, 93), (10, 110))] = 2
    labels[5, 120] = 3
    circularity = _circularity(labels, 3)
    assert circularity[0] > 0.85
    assert circularity[1] < 0.15
    assert circularity[2] == 1.0  # perimeter 0: clipped, not infinite


def test_centre_prior_breaks_a_tie_between_identical_discs():
    central, corner = _disk((64, 64), 8), _disk((20, 20), 8)
    proba = _proba((central, 0.9), (corner, 0.9))
    np.testing.assert_array_equal(keep_main_component(proba > 0.5, proba), central)


def test_higher_mean_probability_wins_at_equal_shape_and_distance():
    left, right = _disk((64, 44), 8), _disk((64, 84), 8)
    proba = _proba((left, 0.7), (right, 0.95))
    np.testing.assert_array_equal(keep_main_component(proba > 0.5, proba), right)


def test_holes_of_the_kept_component_are_filled():
    ring = _disk((64, 64), 12) & ~_disk((64, 64), 5)  # a pool around papillary muscles
    proba = _proba((ring, 0.9))
    np.testing.assert_array_equal(keep_main_component(proba > 0.5, proba), _disk((64, 64), 12))


def test_a_lone_component_is_kept_however_unlike_a_pool():
    strip = _band((2, 5), (0, 128))  # thin, at the border, far from the centre
    proba = _proba((strip, 0.6))
    np.testing.assert_array_equal(keep_main_component(proba > 0.5, proba), strip)


def test_empty_mask_stays_empty():
    proba = np.full(SHAPE, 0.1)
    out = keep_main_component(proba > 0.5, proba)
    assert out.shape == SHAPE and not out.any()
    assert component_scores(np.zeros(SHAPE, int), proba).shape == (0,)


@pytest.mark.parametrize("seed", range(5))
def test_fill_holes_on_the_bounding_box_equals_the_whole_image(seed):
    rng = np.random.default_rng(seed)
    noisy = ndimage.binary_opening(rng.random(SHAPE) < 0.55)
    labels, count = ndimage.label(noisy)
    # The largest component (touching the border) and a few small ones.
    sizes = ndimage.sum_labels(noisy, labels, np.arange(1, count + 1))
    for label in [1 + int(np.argmax(sizes)), 1, count]:
        component = labels == label
        np.testing.assert_array_equal(_fill_holes(component), ndimage.binary_fill_holes(component))
