"""Blood-pool vs myocardium intensity distributions and their KS test."""

import numpy as np
import pytest
from skimage.draw import disk

from skcardio.analysis import KS_DTYPE, blood_myocardium_ks, intensity_distributions


def _two_tissue_slices(blood_mean, ring_mean, n=3, size=64, seed=0):
    """Blood disk (r=10) inside an o-contour disk (r=18), Gaussian intensities, sd 20."""
    rng = np.random.default_rng(seed)
    inner = np.zeros((n, size, size), bool)
    outer = np.zeros((n, size, size), bool)
    inner[(slice(None), *disk((32, 32), 10, shape=(size, size)))] = True
    outer[(slice(None), *disk((32, 32), 18, shape=(size, size)))] = True
    images = rng.normal(ring_mean, 20, (n, size, size))
    images[inner] = rng.normal(blood_mean, 20, inner.sum())
    images[~outer] = 0.0
    return images, inner, outer


def test_hand_computed_distributions():
    image = np.arange(16.0).reshape(4, 4)
    image[0, 1] = np.nan
    outer = np.zeros((4, 4), bool)
    outer[:3, :3] = True
    inner = np.zeros((4, 4), bool)
    inner[1, 1:3] = True
    dist = intensity_distributions(image, inner, outer)
    # blood: pixels (1,1), (1,2) = 5, 6; ring: the rest of the 3x3 block
    # except the NaN at (0,1): 0, 2, 4, 8, 9, 10.
    np.testing.assert_array_equal(dist.blood[0], [5.0, 6.0])
    np.testing.assert_array_equal(dist.myocardium[0], [0.0, 2.0, 4.0, 8.0, 9.0, 10.0])


def test_separated_tissues():
    images, inner, outer = _two_tissue_slices(blood_mean=300, ring_mean=100)
    result = blood_myocardium_ks(images, inner, outer)
    assert result.dtype == KS_DTYPE and result.shape == (3,)
    # means 10 sd apart: the empirical CDFs do not overlap at all
    np.testing.assert_array_equal(result.statistic, 1.0)
    assert (result.pvalue < 1e-50).all()
    np.testing.assert_array_equal(result.n_blood, inner[0].sum())
    np.testing.assert_array_equal(result.n_myocardium, (outer[0] & ~inner[0]).sum())
    np.testing.assert_allclose(result.blood_median, 300, atol=5)
    np.testing.assert_allclose(result.myocardium_median, 100, atol=5)


def test_overlapping_peaks():
    # Same distribution in both tissues: small statistic, non-small p-value;
    # a 1 sd shift: population KS distance 2 * Phi(0.5) - 1 = 0.383.
    same = blood_myocardium_ks(*_two_tissue_slices(150, 150, seed=1))
    shifted = blood_myocardium_ks(*_two_tissue_slices(170, 150, seed=1))
    assert (same.statistic < 0.1).all() and (same.pvalue > 1e-3).all()
    np.testing.assert_allclose(shifted.statistic, 0.383, atol=0.08)


def test_missing_region_gives_nan():
    images, inner, outer = _two_tissue_slices(300, 100, n=2)
    outer[1] = inner[1]  # no ring left on slice 1
    result = blood_myocardium_ks(images, inner, outer)
    assert np.isfinite(result.statistic[0]) and np.isnan(result.statistic[1])
    assert np.isnan(result.pvalue[1]) and np.isnan(result.myocardium_median[1])
    assert result.n_myocardium[1] == 0


def test_four_dimensional_images():
    # Overlapping tissues (statistic < 1) and a second channel of noise that
    # varies over the compared pixels: any use of channel 1 (alone or mixed
    # with channel 0) changes the statistics and medians.
    images, inner, outer = _two_tissue_slices(120, 100, n=2)
    noise = np.random.default_rng(1).normal(0, 200, images.shape)
    stacked = np.stack([images, noise], axis=1)
    expected = blood_myocardium_ks(images, inner, outer)
    assert (expected.statistic < 1).all()
    np.testing.assert_array_equal(blood_myocardium_ks(stacked, inner, outer), expected)


def test_shape_errors():
    masks = np.zeros((2, 8, 8), bool)
    with pytest.raises(ValueError, match=r"inner and outer must have the same shape"):
        intensity_distributions(np.zeros((2, 8, 8)), masks, masks[:1])
    with pytest.raises(ValueError, match=r"images must be .*\(2, 8, 8\).*\(2, 8, 9\)"):
        intensity_distributions(np.zeros((2, 8, 9)), masks, masks)


@pytest.mark.shared_data
def test_blood_brighter_than_myocardium_on_real_slices(shared_data_root):
    from skcardio.datasets import load_dataset

    data = load_dataset(shared_data_root, require="o-contour")
    result = blood_myocardium_ks(data.images, data.y, data.regions)
    assert len(result) == len(data.frame)
    # bright-blood cine MRI: the blood pool is brighter on every slice, and
    # the two samples differ clearly, yet their histograms overlap
    # (statistic well below 1), which is why plain thresholds struggle.
    assert (result.blood_median > result.myocardium_median).all()
    assert (result.pvalue < 0.05).all()
    assert 0.4 < np.median(result.statistic) < 0.95


def test_empty_stack_gives_empty_records():
    empty = np.zeros((0, 8, 8), bool)
    result = blood_myocardium_ks(np.zeros((0, 8, 8)), empty, empty)
    assert result.dtype == KS_DTYPE and result.shape == (0,)


def test_slice_without_i_contour_has_no_ring():
    # Only an o-contour: the disk holds blood and muscle, it is no myocardium ring.
    images, inner, outer = _two_tissue_slices(300, 100, n=2)
    inner[1] = False
    dist = intensity_distributions(images, inner, outer)
    assert dist.blood[1].size == 0 and dist.myocardium[1].size == 0
    result = blood_myocardium_ks(images, inner, outer)
    assert result.n_myocardium[1] == 0 and np.isnan(result.myocardium_median[1])
    assert np.isnan(result.statistic[1]) and np.isfinite(result.statistic[0])
