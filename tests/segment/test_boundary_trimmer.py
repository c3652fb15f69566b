"""BoundaryTrimmer: a segmenter's masks trimmed at a level learnt in fit (scikit-learn conventions)."""

import numpy as np
import pytest
from _ramp_discs import ramp_disc
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import TABLE_CHECKS, claiming_2d

from skcardio.segment import BoundaryTrimmer, ThresholdSegmenter, calibrate_boundary_level


class Wide(BaseEstimator):
    """Stands in for a segmenter that draws its pools too far out; counts its fits."""

    def __init__(self, cut=110.0):
        self.cut = cut

    def fit(self, X, y, groups=None):
        self.fits_ = getattr(self, "fits_", 0) + 1
        self.groups_ = groups
        return self

    def predict(self, X):
        return np.asarray(X) > self.cut


def _pools(levels, size=32):
    """One slice per level: a disc fading into the wall over 4 px, its expert outline drawn at that level."""
    X = np.array([ramp_disc(level, size=size, radius=9)[0] for level in levels])
    r = ramp_disc(0, size=size, radius=9)[1]
    return X, np.broadcast_to(r <= 9, X.shape).copy()


def test_fit_learns_the_labels_level_and_predict_trims_there():
    X, y = _pools([0.3, 0.3])
    trimmer = BoundaryTrimmer(Wide()).fit(X, y)
    assert trimmer.level_ == calibrate_boundary_level(X, y)
    assert trimmer.estimator_.fits_ == 1 and not hasattr(trimmer.estimator, "fits_")  # a clone was fitted
    assert Wide().predict(X).sum() > y.sum()
    np.testing.assert_array_equal(trimmer.predict(X), y)
    assert trimmer.score(X, y) == 1.0


def test_a_given_level_is_used_as_it_is():
    X, y = _pools([0.3])
    trimmer = BoundaryTrimmer(Wide(), level=0.9).fit(X, y)
    assert trimmer.level_ == 0.9
    assert trimmer.predict(X).sum() < y.sum()  # 0.9 cuts into the expert's pool


def test_a_frozen_segmenter_is_not_refitted_and_fit_params_reach_the_segmenter():
    X, y = _pools([0.3])
    fitted = Wide().fit(X, y)
    BoundaryTrimmer(FrozenEstimator(fitted)).fit(X, y)
    assert fitted.fits_ == 1
    trimmer = BoundaryTrimmer(Wide()).fit(X, y, groups=["p"])
    assert trimmer.estimator_.groups_ == ["p"]


def test_grouped_cross_validation_calibrates_on_each_training_fold():
    X, y = _pools([0.2, 0.2, 0.5, 0.5])
    groups = np.array(["a", "a", "b", "b"])
    result = cross_validate(BoundaryTrimmer(Wide()), X, y, groups=groups, cv=GroupKFold(2),
                            return_estimator=True)
    levels = sorted(est.level_ for est in result["estimator"])
    assert levels == sorted([calibrate_boundary_level(X[:2], y[:2]), calibrate_boundary_level(X[2:], y[2:])])
    assert levels[0] < levels[1]


def test_metadata_routing_passes_groups_to_the_segmenter_that_requests_them():
    # cross_validate(..., params={"groups": g}) with routing on: the wrapped segmenter got nothing
    # (a U-Net's validation split then mixed patients).
    from sklearn import config_context

    X, y = _pools([0.2, 0.2, 0.5, 0.5, 0.3, 0.3])
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    with config_context(enable_metadata_routing=True):
        segmenter = Wide().set_fit_request(groups=True)
        result = cross_validate(BoundaryTrimmer(segmenter), X, y, cv=GroupKFold(3), params={"groups": groups},
                                return_estimator=True)
        seen = [sorted(set(est.estimator_.groups_)) for est in result["estimator"]]
        assert sorted(seen) == [["a", "b"], ["a", "c"], ["b", "c"]]
        # A segmenter that did not request groups is not given them, as scikit-learn's own meta-estimators do.
        with pytest.raises(ValueError, match="groups"):
            BoundaryTrimmer(Wide()).fit(X, y, groups=groups)
        # Its own score's request is kept beside the segmenter's fit request.
        weights = np.arange(1.0, 7.0)
        trimmer = BoundaryTrimmer(Wide().set_fit_request(groups=True)).set_score_request(sample_weight=True)
        result = cross_validate(trimmer, X, y, cv=GroupKFold(3), params={"groups": groups, "sample_weight": weights})
        assert np.isfinite(result["test_score"]).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"level": "auto"}, 'level must be "calibrate" or a finite number'),
        ({"level": float("inf")}, 'level must be "calibrate" or a finite number'),
        ({"band": 0}, "band must be an int >= 1"),
    ],
)
def test_bad_parameters_are_refused_in_fit_not_init(params, message):
    X, y = _pools([0.3])
    trimmer = BoundaryTrimmer(Wide(), **params)  # stores them only
    with pytest.raises(ValueError, match=message):
        trimmer.fit(X, y)


def test_predict_before_fit_and_labels_of_another_shape_are_refused():
    X, y = _pools([0.3])
    with pytest.raises(NotFittedError):
        BoundaryTrimmer(Wide()).predict(X)
    with pytest.raises(ValueError, match="masks must have the images' shape"):
        BoundaryTrimmer(Wide()).fit(X, y[:, :16])
    with pytest.raises(ValueError, match="BoundaryTrimmer: images must be finite"):
        BoundaryTrimmer(Wide()).fit(np.where(y, np.nan, X), y)


def test_nan_images_are_refused_naming_the_boundary_trimmer():
    # The message was PredictedRegion's ("a predicted region replaces NaN regions"), a step never used.
    X, y = _pools([0.3, 0.3])
    inside = np.where(ramp_disc(0, size=32, radius=9)[1] <= 13, X, np.nan)  # RegionSelector's output
    for call in (lambda: BoundaryTrimmer(ThresholdSegmenter()).fit(inside, y),
                 lambda: BoundaryTrimmer(Wide()).fit(X, y).predict(inside)):
        with pytest.raises(ValueError, match=r"^BoundaryTrimmer: images must be finite.*in 2 of 2 slice") as error:
            call()
        assert "PredictedRegion" not in str(error.value) and "predicted region" not in str(error.value)


def test_image_region_pairs_go_to_the_segmenter_and_channel_zero_is_trimmed_on():
    from sklearn.pipeline import make_pipeline

    from skcardio.preprocessing import RegionSelector
    from skcardio.segment import trim_dark_boundary

    X, y = _pools([0.3, 0.3, 0.5])
    region = np.broadcast_to(ramp_disc(0, size=32, radius=9)[1] <= 13, X.shape)
    pairs = np.stack([X, region], axis=1)  # as DicomLoader(region="o-contour") gives
    classical = make_pipeline(RegionSelector(), ThresholdSegmenter())
    trimmer = BoundaryTrimmer(classical).fit(pairs, y)
    assert trimmer.level_ == calibrate_boundary_level(X, y)
    masks = clone(classical).fit(pairs, y).predict(pairs)
    np.testing.assert_array_equal(trimmer.predict(pairs), trim_dark_boundary(X, masks, level=trimmer.level_))
    assert BoundaryTrimmer(classical, level=0.9).fit(pairs, y).predict(pairs).sum() < masks.sum()  # trimmed


def test_slice_records_are_refused_pointing_at_dicomloader():
    from skcardio.datasets import load_sample

    data = load_sample()
    with pytest.raises(ValueError, match=r"got slice records .*DicomLoader"):
        BoundaryTrimmer(ThresholdSegmenter()).fit(data.frame, data.y)


def test_labels_without_a_level_fail_before_the_segmenter_is_trained():
    class MustNotFit(Wide):
        def fit(self, X, y, groups=None):
            raise AssertionError("the segmenter was trained before the labels were checked")

    X, _ = _pools([0.3])
    with pytest.raises(ValueError, match="has a measurable pool and wall level"):
        BoundaryTrimmer(MustNotFit()).fit(X, np.zeros(X.shape, bool))


def test_clone_keeps_the_parameters():
    trimmer = BoundaryTrimmer(Wide(cut=5.0), level=0.2, band=3)
    copy = clone(trimmer)
    assert copy.get_params()["estimator__cut"] == 5.0 and copy.level == 0.2 and copy.band == 3


_NEEDS_IMAGES = "feeds a 2-D table; BoundaryTrimmer needs images (n, H, W) and masks of their shape"
EXPECTED_FAILURES = {
    **{name: _NEEDS_IMAGES for name in TABLE_CHECKS},
    "check_positive_only_tag_during_fit": "feeds a 2-D table of negative values; the error is about the shape",
    "check_estimators_empty_data_messages": "expects sklearn's message for a (n, 0) table; images get a shape error",
    "check_fit2d_1sample": "expects sklearn's 1-sample message for a table",
    "check_fit2d_1feature": "expects sklearn's 1-feature message for a table",
    "check_estimators_nan_inf": "feeds a 2-D table with NaN; the shape error comes first (NaN images are refused: "
                                "test_predict_before_fit_and_labels_of_another_shape_are_refused)",
}


@parametrize_with_checks(
    [claiming_2d(BoundaryTrimmer)(ThresholdSegmenter())],
    expected_failed_checks=lambda estimator: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
