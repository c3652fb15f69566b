"""PredictedRegion: [image, region] arrays from images and a fitted epicardium model."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline

from skcardio.preprocessing import PredictedRegion, RegionSelector
from skcardio.segment import ThresholdSegmenter, make_classical_pipeline


class _Oracle(BaseEstimator):
    """Predicts given regions (the expert o-contours): a model without errors."""

    def __init__(self, regions=None, target="epicardium"):
        self.regions = regions
        self.target = target

    def fit(self, X, y=None):
        self.target_ = self.target
        return self

    def predict(self, X):
        assert len(X) == len(self.regions)
        if self.target == "both":
            return np.stack([np.zeros_like(self.regions), self.regions], axis=1)
        return self.regions


@pytest.fixture(scope="module")
def sample():
    from skcardio.datasets import get_sample_path, load_dataset

    return load_dataset(get_sample_path(), require="o-contour")


@pytest.mark.parametrize("target", ["epicardium", "both"])
def test_pairs_hold_the_image_and_the_predicted_region(sample, target):
    step = PredictedRegion(_Oracle(sample.regions, target).fit(sample.images))
    pairs = step.fit_transform(sample.images)
    assert pairs.shape == (len(sample.images), 2, *sample.images.shape[1:]) and pairs.dtype == np.float32
    np.testing.assert_array_equal(pairs[:, 0], sample.images)
    np.testing.assert_array_equal(pairs[:, 1] > 0.5, sample.regions)


def test_pipelines_inside_a_predicted_region_match_the_expert_region(sample):
    model = _Oracle(sample.regions).fit(sample.images)
    expert = np.stack([sample.images, sample.regions.astype(np.float32)], axis=1)
    for make in (lambda: make_pipeline(RegionSelector(), ThresholdSegmenter()), make_classical_pipeline):
        predicted = make_pipeline(PredictedRegion(model), make()).fit(sample.images, sample.y)
        np.testing.assert_array_equal(predicted.predict(sample.images), make().fit(expert).predict(expert))


@pytest.mark.filterwarnings("ignore::skcardio.exceptions.DegenerateModelWarning")  # one epoch: any model will do
def test_with_a_fitted_unet():
    from skcardio.segment import UNetSegmenter

    rows, cols = np.mgrid[:32, :32]
    epi = np.hypot(rows - 16, cols - 16)[None] < np.linspace(6, 10, 6)[:, None, None]
    X = epi * 100.0 + np.random.default_rng(0).normal(0, 5, epi.shape)
    model = UNetSegmenter(depth=2, base_channels=4, crop_size=32, max_epochs=1, random_state=0,
                          target="epicardium").fit(X, epi)
    pairs = PredictedRegion(model).fit_transform(X)
    np.testing.assert_array_equal(pairs[:, 1] > 0.5, model.predict(X))


def test_refuses_unfitted_or_blood_pool_models_and_bad_images(sample):
    with pytest.raises(NotFittedError):
        PredictedRegion(_Oracle(sample.regions)).fit(sample.images)
    with pytest.raises(ValueError, match="predicts the epicardium.*target='endocardium'"):
        PredictedRegion(_Oracle(sample.regions, "endocardium").fit(None)).fit(sample.images)
    step = PredictedRegion(_Oracle(sample.regions).fit(None))
    with pytest.raises(ValueError, match=r"shape \(n, H, W\)"):
        step.fit(sample.images[:, None])
    nan = sample.images.copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        step.transform(nan)


def test_cross_validation_needs_a_frozen_model_and_says_so(sample):
    # cross_validate clones the pipeline, and the clone of a fitted model is not fitted: the error was
    # sklearn's bare "This UNetSegmenter instance is not fitted yet", with nothing about FrozenEstimator.
    from sklearn.model_selection import GroupKFold, cross_validate

    model = _Oracle(sample.regions).fit(sample.images)
    cv = GroupKFold(2)
    plain = make_pipeline(PredictedRegion(model), RegionSelector(), ThresholdSegmenter())
    with pytest.raises(NotFittedError, match=r"is a clone .*FrozenEstimator\(model\)"):
        cross_validate(plain, sample.images, sample.y, groups=sample.groups, cv=cv, error_score="raise")


def test_clones_of_clones_still_name_the_cause(sample):
    # GridSearchCV clones the estimator, then clones that clone for each candidate.
    from sklearn.base import clone

    step = clone(clone(PredictedRegion(_Oracle(sample.regions).fit(None))))
    with pytest.raises(NotFittedError, match=r"_Oracle was fitted, and clone\(\) .*FrozenEstimator"):
        step.fit(sample.images)


def test_a_frozen_model_survives_cross_validation(sample):
    from sklearn.frozen import FrozenEstimator
    from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

    class _Slices(_Oracle):
        """An oracle whose predict picks the regions of the slices it is given (by their images)."""

        def __init__(self, regions=None, target="epicardium", images=None):
            super().__init__(regions, target)
            self.images = images

        def predict(self, X):
            index = [int(np.flatnonzero((self.images == image).all(axis=(1, 2)))[0]) for image in X]
            return self.regions[index]

    frozen = FrozenEstimator(_Slices(sample.regions, images=sample.images).fit(None))
    pipe = make_pipeline(PredictedRegion(frozen), RegionSelector(), ThresholdSegmenter())
    cv = GroupKFold(2)
    scores = cross_validate(pipe, sample.images, sample.y, groups=sample.groups, cv=cv, error_score="raise")
    assert np.isfinite(scores["test_score"]).all()
    search = GridSearchCV(pipe, {"thresholdsegmenter__method": ["otsu", "mean"]}, cv=cv, error_score="raise")
    assert search.fit(sample.images, sample.y, groups=sample.groups).best_params_


def test_an_unfitted_model_not_cloned_is_asked_to_be_fitted(sample):
    with pytest.raises(NotFittedError, match=r"^PredictedRegion needs a fitted model: .*Fit it first"):
        PredictedRegion(_Oracle(sample.regions)).fit(sample.images)


def test_nan_images_are_refused_naming_predicted_region(sample):
    nan = sample.images.copy()
    nan[2, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"^PredictedRegion: images must be finite.*\(first: slice 2\)"):
        PredictedRegion(_Oracle(sample.regions).fit(None)).fit(nan)


class _Untargeted(BaseEstimator):
    """An estimator with no ``target``: not known to predict the epicardium, so refused."""

    def __init__(self, regions=None):
        self.regions = regions

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return self.regions


class _Custom(_Untargeted):
    """A custom epicardium model: it says what it predicts with a class attribute ``target``."""

    target = "epicardium"


@pytest.mark.parametrize("target", ["epicardium", "both"])
def test_pipelines_and_searches_around_the_model(sample, target):
    from sklearn.model_selection import GridSearchCV

    images = sample.images
    expected = PredictedRegion(_Oracle(sample.regions, target).fit(images)).fit_transform(images)
    pipeline = make_pipeline(_Oracle(sample.regions, target)).fit(images)
    search = GridSearchCV(_Oracle(sample.regions, target), {"target": [target]}, cv=2,
                          scoring=lambda *args: 0.0).fit(images)
    for model in (pipeline, search, make_pipeline(_Custom(sample.regions)).fit(images)):
        np.testing.assert_array_equal(PredictedRegion(model).fit_transform(images), expected)


def test_wrapped_blood_pool_models_and_wrong_shapes_are_refused(sample):
    images = sample.images
    wrapped = make_pipeline(_Oracle(sample.regions, "endocardium")).fit(images)
    with pytest.raises(ValueError, match="a Pipeline whose final estimator is a _Oracle with target='endocardium'"):
        PredictedRegion(wrapped).fit(images)
    # An epicardium model that does not predict (n, H, W) masks.
    stacked = _Custom(np.stack([sample.regions] * 2, axis=1)).fit(images)
    with pytest.raises(ValueError, match=rf"epicardium masks of shape \({len(images)}, 256, 256\).*got shape"):
        PredictedRegion(stacked).fit_transform(images)


def test_models_without_a_target_are_refused(sample):
    # A blood-pool segmenter has no target: taken for an epicardium model, its blood pool silently
    # became the region (the review's ThresholdSegmenter and KMeansSegmenter were accepted).
    from sklearn.model_selection import GridSearchCV

    images = sample.images
    advice = r"without a target.*target attribute: target = 'epicardium'"
    with pytest.raises(ValueError, match=r"got a ThresholdSegmenter " + advice):
        PredictedRegion(ThresholdSegmenter().fit(images, sample.y)).fit(images)
    with pytest.raises(ValueError, match=r"got a _Untargeted " + advice):
        PredictedRegion(_Untargeted(sample.regions).fit(images)).fit_transform(images)
    wrapped = make_pipeline(_Untargeted(sample.regions)).fit(images)
    with pytest.raises(ValueError, match=r"a Pipeline whose final estimator is a _Untargeted " + advice):
        PredictedRegion(wrapped).fit(images)
    search = GridSearchCV(_Untargeted(sample.regions), {"regions": [sample.regions]}, cv=2,
                          scoring=lambda *args: 0.0).fit(images)
    with pytest.raises(ValueError, match=advice):
        PredictedRegion(FrozenEstimator(search)).transform(images)
