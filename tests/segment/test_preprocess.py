"""Pre-processing inside a region: contrast, normalisation, NaN-aware smoothing."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from skcardio.segment._preprocess import (
    normalize_intensity,
    preprocess_slice,
    region_of,
    smooth_in_region,
    stretch_contrast,
    validate_preprocess_params,
)


def test_region_of_crops_to_the_region_and_rejects_inf():
    image = np.full((10, 12), np.nan, dtype=np.float32)
    image[3:5, 4:9] = 7.0
    box, cropped, region = region_of(image)
    assert box == (slice(2, 6), slice(3, 10))  # 1-pixel margin
    assert cropped.dtype == np.float64 and region.sum() == 10 and region.shape == (4, 7)
    image[4, 4] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        region_of(image)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(contrast=(98, 2)), "contrast"),
        (dict(contrast=(2, 101)), "contrast"),
        (dict(contrast=5), "contrast"),
        (dict(contrast=(True, 98)), "contrast"),  # a bool is not a percentile
        (dict(contrast=np.array([98, 2])), "contrast"),
        (dict(contrast=np.array([[2, 98]])), "contrast"),
        (dict(contrast="29"), "contrast"),
        (dict(normalize="robust"), "normalize"),
        (dict(sigma=-1), "sigma"),
        (dict(sigma="1"), "sigma"),
        (dict(sigma=np.inf), "sigma"),
    ],
)
def test_invalid_preprocess_params(params, match):
    full = dict(contrast=None, normalize=None, sigma=0) | params
    with pytest.raises(ValueError, match=match):
        validate_preprocess_params(**full)


@pytest.mark.parametrize("contrast", [(2, 98), [2, 98], np.array([2, 98]), (np.int64(2), np.float32(98))])
def test_contrast_takes_any_pair_of_numbers(contrast):
    # A NumPy pair (a grid given as an array) was refused with a message naming a valid pair.
    validate_preprocess_params(contrast=contrast, normalize=None, sigma=0)


def test_stretch_contrast_uses_region_percentiles(slice_factory):
    image, region, _, raw = slice_factory()
    out = stretch_contrast(raw, region, (2, 98))
    low, high = np.percentile(raw[region], (2, 98))
    inside = out[region]
    assert inside.min() == 0 and inside.max() == 1
    # Pixels between the percentiles are rescaled linearly.
    middle = region & (raw > low) & (raw < high)
    np.testing.assert_allclose(out[middle], (raw[middle] - low) / (high - low))
    # The bright background (255) is not part of the percentiles: if it
    # were, the region's maximum would not reach 1.
    assert raw[~region].min() > high


@pytest.mark.parametrize("mode", ["zscore", "minmax"])
def test_normalize_uses_region_statistics(mode, slice_factory):
    _, region, _, raw = slice_factory()
    values = normalize_intensity(raw, region, mode)[region]
    if mode == "zscore":
        assert values.mean() == pytest.approx(0, abs=1e-9)
        assert values.std() == pytest.approx(1)
    else:
        assert (values.min(), values.max()) == pytest.approx((0, 1))


def test_normalize_flat_region_does_not_divide_by_zero():
    region = np.ones((3, 3), bool)
    out = normalize_intensity(np.full((3, 3), 7.0), region, "zscore")
    assert np.isfinite(out).all() and (out == 0).all()


def test_smoothing_ignores_pixels_outside_region(slice_factory):
    # A flat region next to a very bright outside: a plain Gaussian would
    # brighten the region's edge; the normalised convolution must not.
    image, region, _, raw = slice_factory(noise=0, blood=60.0)
    smoothed = smooth_in_region(raw, region, sigma=2)
    np.testing.assert_allclose(smoothed[region], 60.0)
    plain = ndi.gaussian_filter(raw, 2)
    assert plain[region].max() > 61  # the failure mode being guarded against


def test_smoothing_reduces_noise_inside_region(slice_factory):
    _, region, blood, raw = slice_factory(noise=20)
    smoothed = smooth_in_region(raw, region, sigma=1.5)
    inner = ndi.binary_erosion(blood, iterations=3)
    assert smoothed[inner].std() < raw[inner].std() / 2


def test_preprocess_slice_zero_sigma_no_options_is_identity_inside_region(slice_factory):
    image, region, _, raw = slice_factory()
    out = preprocess_slice(image, region, contrast=None, normalize=None, sigma=0)
    np.testing.assert_array_equal(out[region], raw[region])
    assert np.isfinite(out).all()
