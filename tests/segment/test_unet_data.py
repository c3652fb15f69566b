"""The U-Net's input scaling and padding: the fast paths give exactly what the plain ones gave."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from skcardio.segment._unet_data import SCALE_CLIP, SCALE_PERCENTILES, pad_to_multiple, robust_scale


def _plain_robust_scale(images: np.ndarray) -> np.ndarray:
    """robust_scale as first written: np.nanpercentile on every image, out-of-place arithmetic."""
    images = np.asarray(images, dtype=np.float32)
    flat = images.reshape(*images.shape[:2], -1)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN images
        low, high = np.nanpercentile(flat, SCALE_PERCENTILES, axis=-1)
    low = np.nan_to_num(low)[..., None, None]
    spread = np.nan_to_num(high)[..., None, None] - low
    spread = np.where(spread > 0, spread, 1.0)
    scaled = np.clip((images - low) / spread, *SCALE_CLIP)
    return np.nan_to_num(scaled, nan=0.0).astype(np.float32)


def _images(with_nan: bool) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = (rng.gamma(2.0, 150.0, size=(6, 2, 40, 36)) + rng.uniform(0, 500, size=(6, 2, 1, 1))).astype(np.float32)
    images[3] = 7.0  # constant image: shifted only
    if with_nan:
        images[0, :, :10] = np.nan  # outside a region
        images[2, 1, 5:20, 3:30] = np.nan  # one channel only
    return images


@pytest.mark.parametrize("with_nan", [False, True])
def test_robust_scale_is_bit_identical_to_the_plain_computation(with_nan):
    images = _images(with_nan)
    scaled = robust_scale(images)
    assert scaled.dtype == np.float32 and scaled.shape == images.shape
    np.testing.assert_array_equal(scaled, _plain_robust_scale(images))
    assert not np.isnan(scaled).any()


def test_robust_scale_of_an_all_nan_image_is_zero():
    images = _images(with_nan=True)
    images[1] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "All-NaN slice encountered" reached predict's users
        scaled = robust_scale(images)
    assert (scaled[1] == 0).all()
    np.testing.assert_array_equal(scaled, _plain_robust_scale(images))


def test_robust_scale_of_real_slices_is_bit_identical(synthetic):
    images = synthetic[0][:, None]  # NaN outside the region
    np.testing.assert_array_equal(robust_scale(images), _plain_robust_scale(images))
    filled = np.nan_to_num(images, nan=255.0)
    np.testing.assert_array_equal(robust_scale(filled), _plain_robust_scale(filled))


def test_pad_to_multiple_copies_only_when_it_pads():
    images = np.ones((2, 1, 32, 48), np.float32)
    same, size = pad_to_multiple(images, 8)
    assert same is images and size == (32, 48)
    padded, size = pad_to_multiple(images[..., :30, :45], 8)
    assert padded.shape == (2, 1, 32, 48) and size == (30, 45)
    assert (padded[..., 30:, :] == 0).all() and (padded[..., :, 45:] == 0).all()


def test_robust_scale_does_not_depend_on_how_the_input_is_split(monkeypatch):
    """Scaled a few images at a time (float64 temporaries of a chunk only): the same values as all at once."""
    from skcardio.segment import _unet_data

    images = np.concatenate([_images(with_nan=True), _images(with_nan=False)])  # 12 images, 2 channels
    images[7] = np.nan  # an all-NaN image inside a chunk
    expected = _plain_robust_scale(images)
    for images_per_chunk in (1, 5, 12, 100):
        monkeypatch.setattr(_unet_data, "SCALE_CHUNK_PIXELS", images_per_chunk * 2 * 40 * 36, raising=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(robust_scale(images), expected)
    np.testing.assert_array_equal(robust_scale(images.astype(np.float64)), expected)  # converted chunk by chunk


def test_robust_scale_makes_no_float64_copy_of_the_input(monkeypatch):
    """Beyond its float32 result, scaling holds a chunk's temporaries, not three times the input.

    robust_scale worked on the whole input in float64: a 262 MB input cost 786 MB more.
    """
    from _memory import traced_peak

    from skcardio.segment import _unet_data

    monkeypatch.setattr(_unet_data, "SCALE_CHUNK_PIXELS", 2 * 128 * 128, raising=False)  # 2 images of 32 at a time
    images = np.random.default_rng(0).gamma(2.0, 150.0, size=(32, 1, 128, 128)).astype(np.float32)
    size = images.nbytes
    scaled, peak = traced_peak(lambda: robust_scale(images))
    assert scaled.nbytes == size
    assert peak < 1.3 * size, peak / size
