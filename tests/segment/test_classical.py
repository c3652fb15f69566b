"""make_classical_pipeline, and grouped grid search / nested CV on the real shared data."""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline

from skcardio.metrics import dice_score, iou_scorer
from skcardio.preprocessing import DicomLoader, RegionSelector
from skcardio.qc import check_records
from skcardio.segment import ThresholdSegmenter, make_classical_pipeline

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def pairs(both_contours):
    """``[image, region]`` arrays (n, 2, H, W), as ``DicomLoader(region="o-contour")`` makes."""
    return np.stack([both_contours.images, both_contours.regions.astype(np.float32)], axis=1)


@pytest.fixture(scope="module")
def qc_clean(both_contours):
    """Slices that pass quality control (the i-contour lies inside the o-contour)."""
    return ~check_records(both_contours.frame).flagged


def test_factory_returns_an_unfitted_region_pipeline():
    pipe = make_classical_pipeline()
    assert isinstance(pipe, Pipeline)
    assert isinstance(pipe[0], RegionSelector) and isinstance(pipe[-1], ThresholdSegmenter)
    assert not hasattr(pipe[0], "n_features_in_")  # unfitted
    assert make_classical_pipeline() is not pipe  # a fresh pipeline each call
    clone(pipe)  # clonable like any estimator
    # ThresholdSegmenter's own defaults stay plain Otsu.
    assert ThresholdSegmenter().get_params()["method"] == "otsu"


def test_factory_on_hand_made_pairs(slice_factory):
    image, region, blood, raw = slice_factory()
    X = np.stack([raw, region.astype(float)])[np.newaxis]
    mask = make_classical_pipeline().fit(X).predict(X)[0]
    assert not (mask & ~region).any()
    # This pool has a sharp edge: the 1-pixel dilation meant for partial
    # volumes adds a ring (about 10 % here), the rest is exact.
    assert dice_score(blood, mask) > 0.85
    assert mask[blood].all()


def test_classical_pipeline_quality_on_unseen_patients(pairs, both_contours, qc_clean):
    """The quality bar: Dice >= 0.88 on patients held out by GroupKFold (QC-clean slices)."""
    y, groups = both_contours.y, both_contours.groups
    cv = GroupKFold(n_splits=len(np.unique(groups)))
    predicted = cross_val_predict(make_classical_pipeline(), pairs, y, groups=groups, cv=cv)
    dice = dice_score(y, predicted, per_slice=True)
    assert dice[qc_clean].mean() >= 0.88
    # Much better than the original analysis's plain Otsu on the same slices.
    otsu = make_pipeline(RegionSelector(), ThresholdSegmenter()).fit(pairs).predict(pairs)
    otsu_dice = dice_score(y, otsu, per_slice=True)
    assert dice[qc_clean].mean() > otsu_dice[qc_clean].mean() + 0.05
    assert dice.mean() > otsu_dice.mean() + 0.05  # also with the QC-flagged slices


def test_grouped_grid_search_from_slice_records(both_contours):
    """The documented recipe: records -> DicomLoader -> RegionSelector -> segmenter."""
    frame, y, groups = both_contours.frame, both_contours.y, both_contours.groups
    pipe = make_pipeline(DicomLoader(region="o-contour"), RegionSelector(), ThresholdSegmenter())
    grid = {
        "thresholdsegmenter__method": ["otsu", "li"],
        "thresholdsegmenter__convex_hull": [False, True],
    }
    search = GridSearchCV(
        pipe, grid, cv=GroupKFold(n_splits=5), scoring=iou_scorer, error_score="raise"
    )
    search.fit(frame, y, groups=groups)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and len(scores) == 4
    # The hull adds the papillary muscles that the expert contours include.
    assert search.best_params_["thresholdsegmenter__convex_hull"] is True
    masks = search.predict(frame[:3])
    assert masks.shape == y[:3].shape and masks.dtype == bool
    assert not (masks & ~both_contours.regions[:3]).any()


def test_selecting_the_region_once_gives_the_pipeline_search_scores(pairs, both_contours):
    """docs/segmentation.md "Faster searches": RegionSelector is stateless, so
    applying it once before searching the segmenter alone changes no score."""
    y, groups = both_contours.y, both_contours.groups
    grid = {"method": ["otsu", "li"], "keep_largest": [False, True]}
    cv = GroupKFold(n_splits=5)
    pipe_search = GridSearchCV(
        make_pipeline(RegionSelector(), ThresholdSegmenter()),
        {f"thresholdsegmenter__{k}": v for k, v in grid.items()}, cv=cv, scoring=iou_scorer,
    ).fit(pairs, y, groups=groups)
    fast = GridSearchCV(ThresholdSegmenter(), grid, cv=cv, scoring=iou_scorer)
    fast.fit(RegionSelector().fit_transform(pairs), y, groups=groups)
    np.testing.assert_array_equal(
        fast.cv_results_["mean_test_score"], pipe_search.cv_results_["mean_test_score"]
    )
    # Not a constant: the four settings score differently on real slices.
    assert len(np.unique(fast.cv_results_["mean_test_score"])) == 4


_INNER_SPLITS: list = []  # module level: the search deep-copies its splitter


class _RecordingGroupKFold(GroupKFold):
    """GroupKFold that records the patients of every split it makes."""

    def split(self, X, y=None, groups=None):
        for train, test in super().split(X, y, groups):
            _INNER_SPLITS.append((set(groups[train]), set(groups[test])))
            yield train, test


def test_nested_cv_routes_patient_groups_to_the_inner_search(pairs, both_contours):
    y, groups = both_contours.y, both_contours.groups
    pipe = make_pipeline(RegionSelector(), ThresholdSegmenter())
    _INNER_SPLITS.clear()
    # GroupKFold raises when it gets no groups: the inner search only runs
    # if metadata routing hands it the patient ids of each outer fold.
    inner = GridSearchCV(
        pipe, {"thresholdsegmenter__method": ["otsu", "li"]},
        cv=_RecordingGroupKFold(n_splits=2), scoring=iou_scorer,
        error_score="raise",
    )
    with sklearn.config_context(enable_metadata_routing=True):
        result = cross_validate(
            inner, pairs, y, cv=GroupKFold(n_splits=5), scoring=iou_scorer,
            params={"groups": groups}, return_estimator=True, error_score="raise",
        )
    assert np.isfinite(result["test_score"]).all() and len(result["test_score"]) == 5
    assert all(hasattr(est, "best_params_") for est in result["estimator"])
    # 5 outer folds x 2 inner splits: every inner split keeps patients apart
    # and uses the 4 patients of its outer training fold only.
    assert len(_INNER_SPLITS) == 5 * 2
    for train_patients, test_patients in _INNER_SPLITS:
        assert not train_patients & test_patients
        assert len(train_patients | test_patients) == 4


def test_nested_cv_without_routing_fails_in_the_inner_search(pairs, both_contours):
    """docs/segmentation.md: without routing, ``groups=`` reaches the outer splitter only."""
    inner = GridSearchCV(
        make_pipeline(RegionSelector(), ThresholdSegmenter()),
        {"thresholdsegmenter__method": ["otsu", "li"]}, cv=GroupKFold(n_splits=2),
        scoring=iou_scorer, error_score="raise",
    )
    with pytest.raises(ValueError, match="groups") as excinfo:
        cross_validate(inner, pairs, both_contours.y, groups=both_contours.groups,
                       cv=GroupKFold(n_splits=5), error_score="raise")
    # Raised while the inner search splits (the outer splitter had its groups).
    assert any(entry.name == "fit" and "_search.py" in str(entry.path)
               for entry in excinfo.traceback)


def test_unfitted_classical_pipeline_predicts_like_a_fitted_one(pairs):
    # Every step is stateless (like FunctionTransformer), so no fit is needed.
    np.testing.assert_array_equal(
        make_classical_pipeline().predict(pairs[:4]),
        make_classical_pipeline().fit(pairs).predict(pairs[:4]),
    )
