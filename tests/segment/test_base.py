"""BaseSegmenter: what the three classical segmenters share (degenerate slices)."""

import warnings

import numpy as np
import pytest
import sklearn
from skimage.filters import threshold_otsu
from sklearn.base import BaseEstimator
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import make_pipeline

from skcardio.exceptions import SkcardioWarning
from skcardio.metrics import dice_score
from skcardio.preprocessing import RegionSelector
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


# --------------------------------------------------------------------------- score


def _one_right_one_wrong(synthetic):
    """Two slices: the first's expert mask is the blood pool (Dice ~1), the second's is empty (0)."""
    images, truth = synthetic[0][:2], synthetic[2][:2].copy()
    truth[1] = False
    return images, truth


def test_score_weights_slices_like_sklearn_scores(synthetic):
    images, truth = _one_right_one_wrong(synthetic)
    seg = ThresholdSegmenter(keep_largest=True, fill_holes=True).fit(images)
    first, second = dice_score(truth, seg.predict(images), per_slice=True)
    assert second == 0.0 and first > 0.9
    assert seg.score(images, truth) == pytest.approx((first + second) / 2)
    assert seg.score(images, truth, sample_weight=[3, 1]) == pytest.approx(0.75 * first)
    # Weights are relative (scaling them changes nothing) and a zero weight drops the slice.
    assert seg.score(images, truth, sample_weight=[2, 2]) == pytest.approx((first + second) / 2)
    assert seg.score(images, truth, sample_weight=[1, 0]) == pytest.approx(first)


@pytest.mark.parametrize(
    "weights, message",
    [
        ([1.0], r"sample_weight must have shape \(2,\), one weight per slice"),
        ([1.0, -1.0], "sample_weight must be finite and >= 0, got -1.0 for slice 1"),
        ([1.0, np.nan], "sample_weight must be finite and >= 0, got nan for slice 1"),
        ([0.0, 0.0], "sample_weight must not be all zero"),
    ],
)
def test_score_refuses_bad_sample_weight(synthetic, weights, message):
    images, truth = _one_right_one_wrong(synthetic)
    seg = ThresholdSegmenter().fit(images)
    with pytest.raises(ValueError, match=message):
        seg.score(images, truth, sample_weight=weights)


def test_pipeline_score_and_default_search_with_metadata_routing(synthetic):
    # With routing on, Pipeline.score routes sample_weight to the last step's
    # score, which then must accept it; without it every candidate of a search
    # without scoring= scored NaN (a warning only) and the first one won.
    images, regions, truth = synthetic
    pairs = np.stack([np.nan_to_num(images, nan=255.0), regions.astype(float)], axis=1)
    pipe = make_pipeline(RegionSelector(), ThresholdSegmenter())
    with sklearn.config_context(enable_metadata_routing=True):
        assert pipe.fit(pairs, truth).score(pairs, truth) == pytest.approx(
            dice_score(truth, pipe.predict(pairs))
        )
        search = GridSearchCV(
            pipe, {"thresholdsegmenter__method": ["otsu", "li"]}, cv=GroupKFold(n_splits=3),
            error_score="raise",
        ).fit(pairs, truth, groups=[0, 1, 2])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_warning_maps_failed_slices_to_reasons():
    # Callers that know the slices by name (skcardio evaluate) read the indices here.
    flat = _flattened_by_contrast()
    good = flat.copy()
    good[0, 1:11, 1:11] = np.arange(100).reshape(10, 10)
    X = np.concatenate([good, flat])
    with pytest.warns(SkcardioWarning, match="1 of 2 slices") as record:
        ThresholdSegmenter(contrast=(0, 50)).fit(X).predict(X)
    assert record[0].message.failed_slices == {1: "constant intensity in the region after pre-processing"}


# Methods a scikit-learn estimator is meant to define; any other name that
# BaseEstimator (or a mixin) also defines would be a shadowed method.
_ESTIMATOR_API = {"__init__", "__sklearn_tags__", "fit", "predict", "score", "transform", "fit_transform"}


@pytest.mark.parametrize("cls", [ThresholdSegmenter, KMeansSegmenter, RegionGrowingSegmenter])
def test_no_scikit_learn_method_is_shadowed(cls):
    ours = {
        name
        for klass in cls.__mro__
        if klass.__module__.startswith("skcardio")
        for name, value in vars(klass).items()
        if callable(value)  # methods, not class bookkeeping (__module__, __dict__)
    }
    shadowed = (ours & set(dir(BaseEstimator))) - _ESTIMATOR_API - set(dir(object))
    # BaseSegmenter._validate_params once meant something else than sklearn's.
    assert not shadowed, shadowed


@pytest.mark.parametrize("segmenter", [ThresholdSegmenter(), KMeansSegmenter(), RegionGrowingSegmenter()])
def test_slice_records_and_paths_are_refused_pointing_at_dicomloader(segmenter):
    # They said "expected images of shape (n, H, W), got shape (15,)" without saying what to do.
    from skcardio.datasets import load_sample

    frame = load_sample().frame
    with pytest.raises(ValueError, match=r"^expected images of shape \(n, H, W\), got slice records .*DicomLoader"):
        segmenter.fit(frame)
    with pytest.raises(ValueError, match=r"^expected images of shape \(n, H, W\), got list holding paths .*DicomLoader"):
        segmenter.fit(list(frame.dicom_path))
