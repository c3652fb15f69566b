"""RegionGrowingSegmenter: seed choice, flood with tolerance, Canny edges as walls."""

import numpy as np
import pytest
from skimage.draw import disk

from skcardio.metrics import dice_score
from skcardio.segment import RegionGrowingSegmenter, ThresholdSegmenter
from skcardio.segment._base import DegenerateSliceError
from skcardio.segment._region_growing import find_seed


def test_flood_recovers_the_central_blood_pool(synthetic):
    images, regions, truth = synthetic
    masks = RegionGrowingSegmenter().predict(images)
    assert masks.dtype == bool and not (masks & ~regions).any()
    assert dice_score(truth, masks) > 0.97


def test_flood_ignores_bright_pixels_not_connected_to_the_centre(slice_factory):
    image, region, blood, _ = slice_factory(noise=2)
    image = image.copy()
    blob = np.zeros_like(region)
    blob[disk((24, 39), 2)] = True  # bright, inside the region, apart from the pool
    blob &= region & ~blood
    image[blob] = 200.0
    grown = RegionGrowingSegmenter().predict(image[None])[0]
    thresholded = ThresholdSegmenter().predict(image[None])[0]
    assert not grown[blob].any() and thresholded[blob].all()
    assert dice_score(blood, grown) > 0.97


def test_tolerance_controls_growth(slice_factory):
    # Blood pool with a brightness gradient: a small tolerance stops early.
    image, region, blood, _ = slice_factory(noise=0)
    image = image.copy()
    rows = np.indices(image.shape)[0]
    image[blood] = 150 + 4.0 * rows[blood]
    sizes = [
        RegionGrowingSegmenter(tol, normalize=None).predict(image[None]).sum()
        for tol in (2.0, 20.0, 70.0)
    ]
    assert sizes[0] < sizes[1] < sizes[2] <= blood.sum()


def test_canny_edges_bound_the_flood(synthetic):
    images, regions, truth = synthetic
    masks = RegionGrowingSegmenter(None, edges=True, fill_holes=True).predict(images)
    assert not (masks & ~regions).any()
    # Edges sit on the blood / myocardium boundary: the flood stays inside it.
    assert dice_score(truth, masks) > 0.85
    assert masks.sum() < regions.sum() * 0.7


def test_edges_plus_tolerance_is_no_larger_than_tolerance_alone(region_images):
    X = region_images[:6]
    alone = RegionGrowingSegmenter(2.0).predict(X)
    walled = RegionGrowingSegmenter(2.0, edges=True).predict(X)
    # Walls only stop the flood (the edge pixels it touches join it).
    assert walled.sum() < alone.sum()


def test_find_seed_picks_bright_pixel_near_centroid():
    image = np.zeros((21, 21))
    image[10, 13] = 10.0  # bright, 3 px from the centre
    image[0, 0] = 50.0  # brighter but far away
    assert find_seed(image, np.ones_like(image, bool), radius=4) == (10, 13)


def test_find_seed_falls_back_to_nearest_region_pixel_for_a_ring():
    region = np.zeros((21, 21), bool)
    region[disk((10, 10), 9)] = True
    region[disk((10, 10), 6)] = False  # a ring: nothing near the centroid
    row, col = find_seed(np.ones((21, 21)), region, radius=2)
    assert region[row, col]
    assert np.hypot(row - 10, col - 10) < 7.5


def test_find_seed_rejects_empty_region():
    with pytest.raises(DegenerateSliceError):
        find_seed(np.zeros((3, 3)), np.zeros((3, 3), bool), radius=1)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(tolerance=None), "needs edges=True"),
        (dict(tolerance=-1), "tolerance"),
        (dict(canny_sigma=0), "canny_sigma"),
        (dict(seed_radius=2.5), "seed_radius"),
        (dict(edges="yes"), "edges"),
    ],
)
def test_invalid_params(params, match, synthetic):
    with pytest.raises(ValueError, match=match):
        RegionGrowingSegmenter(**params).fit(synthetic[0])
