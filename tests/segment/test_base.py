"""BaseSegmenter: what the three classical segmenters share (degenerate slices)."""

import warnings

import numpy as np
import pytest
from skimage.filters import threshold_otsu

from skcardio.exceptions import SkcardioWarning
from skcardio.segment import KMeansSegmenter, RegionGrowingSegmenter, ThresholdSegmenter


def _flattened_by_contrast():
    """A region whose (0, 50) percentiles are equal: contrast stretching makes it flat."""
    image = np.full((1, 12, 12), np.nan)
    values = np.zeros(100)
    values[60:] = np.linspace(1, 10, 40)  # 60 % of the region at its minimum
    image[0, 1:11, 1:11] = values.reshape(10, 10)
    return image


@pytest.mark.parametrize(
    "segmenter",
    [
        ThresholdSegmenter("yen", contrast=(0, 50)),
        ThresholdSegmenter("otsu", contrast=(0, 50)),
        KMeansSegmenter(contrast=(0, 50), random_state=0),
        RegionGrowingSegmenter(contrast=(0, 50)),
    ],
    ids=["yen", "otsu", "kmeans", "region-growing"],
)
def test_region_flattened_by_preprocessing_is_degenerate(segmenter):
    # Before this rule, yen and region growing marked the whole region and
    # otsu gave an empty mask without saying why.
    image = _flattened_by_contrast()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy warnings from skimage
        with pytest.warns(SkcardioWarning, match="constant intensity in the region after"):
            masks = segmenter.fit(image).predict(image)
    assert masks.shape == image.shape and not masks.any()


def test_same_region_without_contrast_is_segmented():
    # The rule is about pre-processing: the raw region is not constant.
    image = _flattened_by_contrast()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = ThresholdSegmenter("otsu").predict(image)[0]
    values = image[0, 1:11, 1:11]
    np.testing.assert_array_equal(mask[1:11, 1:11], values > threshold_otsu(values.ravel()))
    assert 0 < mask.sum() < 40  # some, not all, of the 40 pixels above the zeros


@pytest.mark.parametrize(
    "segmenter",
    [ThresholdSegmenter(), KMeansSegmenter(random_state=0), RegionGrowingSegmenter()],
    ids=["threshold", "kmeans", "region-growing"],
)
def test_fit_refuses_y_of_another_length(segmenter):
    X = np.tile(_flattened_by_contrast(), (6, 1, 1))
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[6, 3\]"):
        segmenter.fit(X, np.zeros((3, 12, 12), bool))
    assert segmenter.fit(X, np.zeros((6, 12, 12), bool)) is segmenter
