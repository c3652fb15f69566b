"""Fixtures of the segmenter tests: hand-made slices with a known answer, real slices."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.draw import disk

from _unet_discs import TINY, make_discs


def make_slice(
    shape=(48, 48),
    *,
    centre=(24, 24),
    region_radius=18,
    blood_radius=10,
    blood=200.0,
    myocardium=60.0,
    noise=5.0,
    outside=255.0,
    seed=0,
):
    """One synthetic short-axis slice.

    A dark myocardium disk (the region, radius ``region_radius``) around a
    bright blood-pool disk (radius ``blood_radius``), Gaussian noise, and a
    very bright background outside the region that a segmenter must ignore.

    Returns
    -------
    image : ndarray (H, W) float, NaN outside the region
    region, blood_pool : ndarray (H, W) bool
    raw : ndarray (H, W) float, the image without NaN (background = ``outside``)
    """
    rng = np.random.default_rng(seed)
    region = np.zeros(shape, bool)
    region[disk(centre, region_radius, shape=shape)] = True
    blood_pool = np.zeros(shape, bool)
    blood_pool[disk(centre, blood_radius, shape=shape)] = True
    raw = np.full(shape, outside) + rng.normal(0, noise, shape)
    raw[region] = myocardium + rng.normal(0, noise, region.sum())
    raw[blood_pool] = blood + rng.normal(0, noise, blood_pool.sum())
    return np.where(region, raw, np.nan), region, blood_pool, raw


@pytest.fixture
def slice_factory():
    """:func:`make_slice`, for tests that build their own slices."""
    return make_slice


@pytest.fixture
def synthetic():
    """Three slices of different sizes of blood pool: images (3, H, W) NaN outside, truth."""
    slices = [
        make_slice(blood_radius=r, centre=(24 + d, 24 - d), seed=r)
        for r, d in [(8, 0), (10, 2), (12, -1)]
    ]
    images = np.stack([s[0] for s in slices])
    regions = np.stack([s[1] for s in slices])
    truth = np.stack([s[2] for s in slices])
    return images, regions, truth


@pytest.fixture(scope="session")
def both_contours(shared_data_root):
    """The shared slices with both contours: Bunch of images, regions, y, groups, frame."""
    from skcardio.datasets import load_dataset

    return load_dataset(shared_data_root, require="o-contour")


@pytest.fixture(scope="session")
def region_images(both_contours):
    """Images of ``both_contours`` with NaN outside the o-contour (RegionSelector's output)."""
    return np.where(both_contours.regions, both_contours.images, np.nan)


@pytest.fixture(scope="module")
def discs():
    """32 synthetic disc images (64 x 64) and their masks, for the U-Net tests."""
    return make_discs(32, seed=0)


@pytest.fixture(scope="module")
def fitted(discs):
    """A small UNetSegmenter trained for 20 epochs on ``discs`` (once per test module)."""
    from skcardio.segment import UNetSegmenter  # here: most segment tests never import PyTorch

    X, y = discs
    return UNetSegmenter(**TINY, max_epochs=20, validation_fraction=None).fit(X, y)
