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
    image[9:12, 12:15] = 10.0  # bright blob centred 3 px from the centre
    image[10, 13] = 12.0  # its brightest pixel
    image[0:2, 0:2] = 15.0  # brighter but far away
    assert find_seed(image, np.ones_like(image, bool), radius=4) == (10, 13)


def _pool_in_myocardium(size=64, pool_radius=12, region_radius=22, seed=0):
    """Bright pool (200) in dark myocardium (80), noise sd 5; returns image, region, pool."""
    rows, cols = np.indices((size, size))
    distance = np.hypot(rows - size // 2, cols - size // 2)
    image = np.where(distance < pool_radius, 200.0, 80.0)
    image += np.random.default_rng(seed).normal(0, 5, image.shape)
    return image, distance < region_radius, distance < pool_radius


def test_seed_avoids_a_dark_spot_at_the_centre():
    # A dark papillary muscle wider than seed_radius covers the centroid.
    image, region, pool = _pool_in_myocardium()
    spot = np.hypot(*(np.indices(image.shape) - 32)) < 7
    image[spot] = 80.0
    row, col = find_seed(image, region, radius=5)
    assert pool[row, col] and not spot[row, col]
    masks = RegionGrowingSegmenter(fill_holes=True).predict(np.where(region, image, np.nan)[None])
    assert dice_score(pool, masks[0]) > 0.95


def test_seed_finds_the_bright_arc_of_a_ring_shaped_region():
    # The region's centroid is in a hole; the region pixel nearest to it is
    # dark myocardium, the blood pool is a bright arc further out.
    image, region, _ = _pool_in_myocardium(pool_radius=0)
    distance = np.hypot(*(np.indices(image.shape) - 32))
    region &= distance >= 10
    cols = np.indices(image.shape)[1]
    arc = region & (distance > 14) & (distance < 21) & (cols > 36)
    image[arc] = 200.0
    row, col = find_seed(image, region, radius=5)
    assert arc[row, col]
    masks = RegionGrowingSegmenter().predict(np.where(region, image, np.nan)[None])
    assert dice_score(arc, masks[0]) > 0.95


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
        (dict(tolerance=None), "needs edges=True, got edges=False"),
        (dict(tolerance=-1), "tolerance"),
        (dict(canny_sigma=0), "canny_sigma"),
        (dict(edges=True, canny_sigma=np.inf), "canny_sigma"),
        (dict(seed_radius=2.5), "seed_radius"),
        (dict(edges="yes"), "edges"),
        (dict(edges=True, canny_thresholds=np.array([0.2, 0.1])), "canny_thresholds"),
        (dict(edges=True, canny_thresholds=(0.1, np.inf)), r"canny_thresholds must be None or two finite numbers"),
    ],
)
def test_invalid_params(params, match, synthetic):
    with pytest.raises(ValueError, match=match):
        RegionGrowingSegmenter(**params).fit(synthetic[0])


def test_canny_thresholds_may_be_a_numpy_pair(synthetic):
    images, _, truth = synthetic
    as_tuple = RegionGrowingSegmenter(None, edges=True, canny_thresholds=(0.05, 0.2)).fit(images).predict(images)
    as_array = RegionGrowingSegmenter(None, edges=True, canny_thresholds=np.array([0.05, 0.2])).fit(images).predict(images)
    np.testing.assert_array_equal(as_array, as_tuple)


@pytest.mark.parametrize("edges", [True, np.True_])
def test_tolerance_none_with_edges_accepts_numpy_bools(edges, synthetic):
    images, regions, truth = synthetic
    masks = RegionGrowingSegmenter(None, edges=edges, fill_holes=True).fit(images).predict(images)
    assert dice_score(truth, masks) > 0.85


@pytest.mark.parametrize("tolerance", [0.0, 0.5])
def test_flood_never_crosses_walls_at_large_intensities(tolerance):
    # Walls (outside the region) were given the value seed + 2 * tolerance + 1,
    # which rounds back to the seed's value at 1e30: the flood crossed the gap
    # into the other part of the region.
    big = 1e30
    image = np.full((1, 9, 20), np.nan)
    image[0, 2:7, 2:7] = 2 * big
    image[0, 2, 2] = big
    image[0, 2:7, 12:17] = big
    image[0, 2:7, 12] = 2 * big  # same value as the seed, across the gap
    mask = RegionGrowingSegmenter(tolerance, normalize=None).predict(image)[0]
    assert mask[:, :10].sum() == 24
    assert not mask[:, 10:].any()


def test_seed_on_large_offset_intensities():
    # threshold_otsu's 256 bins cannot resolve a range of ~1e-14 of the values:
    # find_seed raised numpy's "Too many bins for data range".
    rows, cols = np.indices((20, 20))
    distance = np.hypot(rows - 10, cols - 10)
    image = np.where(distance < 4, 200.0, 60.0)
    image[distance >= 8] = np.nan
    expected = RegionGrowingSegmenter(50.0, normalize=None).predict(image[None])
    masks = RegionGrowingSegmenter(50.0, normalize=None).predict(image[None] + 1e17)
    assert masks.sum() > 0
    np.testing.assert_array_equal(masks, expected)


def test_seed_stays_in_the_region_at_rounding_level_contrast():
    # Values 2 ulps apart: nothing is above the smoothed image's Otsu threshold
    # in both images, and the seed was pixel (0, 0) of the crop, outside the
    # region; the flood then filled the region's complement.
    image = np.full((6, 3), np.nan)
    image[2, 1] = image[3, 1] = 1e12
    image[3, 2] = 1e12 + 2.44140625e-04
    region = ~np.isnan(image)
    assert region[find_seed(np.where(region, image, 0.0), region, 5)]
    mask = RegionGrowingSegmenter(tolerance=0.0, normalize=None).predict(image[None])[0]
    assert mask.any() and not (mask & ~region).any()
