"""Scorers in GridSearchCV / cross_validate with a tiny segmenter defined here."""

import warnings

import numpy as np
import pytest
from skimage.draw import disk
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline

from skcardio.exceptions import SkcardioWarning
from skcardio.metrics import (
    SCORERS,
    apd_scorer,
    average_perpendicular_distance,
    dice_score,
    dice_scorer,
    fraction_iou75_scorer,
    fraction_iou_above,
    get_scorers,
    good_contour_rate,
    good_contour_scorer,
    hausdorff_distance,
    hausdorff_scorer,
    iou_score,
    iou_scorer,
    ks_score,
    ks_scorer,
    make_distance_scorer,
    make_multimetric_scorer,
)


class MeanThreshold(BaseEstimator):
    """Pixels brighter than ``scale`` x the slice's region mean (NaN = outside)."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=float)
        means = np.nanmean(X, axis=(1, 2), keepdims=True)
        with np.errstate(invalid="ignore"):
            return X > self.scale * means


class NanOutside(TransformerMixin, BaseEstimator):
    """``[image, region]`` ``(n, 2, H, W)`` -> image with NaN outside the region."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=float)
        return np.where(X[:, 1] > 0.5, X[:, 0], np.nan)


class Lookup(TransformerMixin, BaseEstimator):
    """Slice records with an ``index`` field -> rows of ``arrays``."""

    def __init__(self, arrays=None):
        self.arrays = arrays

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return self.arrays[X["index"]]


def _synthetic(n=12, size=48, seed=0):
    """Bright blood disk inside a darker ring; 4 patients of 3 slices."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 2, size, size))
    y = np.zeros((n, size, size), bool)
    for i in range(n):
        centre = (size // 2 + rng.integers(-3, 4), size // 2 + rng.integers(-3, 4))
        y[i][disk(centre, 7 + i % 4, shape=(size, size))] = True
        X[i, 1][disk(centre, 15, shape=(size, size))] = 1.0
        X[i, 0] = rng.normal(60, 15, (size, size)) + 140 * y[i]
    groups = np.repeat(["p1", "p2", "p3", "p4"], n // 4)
    return X, y, groups


@pytest.fixture(scope="module")
def data():
    return _synthetic()


@pytest.fixture
def pipe():
    return make_pipeline(NanOutside(), MeanThreshold()).fit(*_synthetic()[:2])


def test_scorers_match_the_metrics(data, pipe):
    X, y, _ = data
    images = pipe[:-1].transform(X)
    y_pred = pipe.predict(X)
    assert iou_scorer(pipe, X, y) == iou_score(y, y_pred)
    assert dice_scorer(pipe, X, y) == dice_score(y, y_pred)
    assert fraction_iou75_scorer(pipe, X, y) == fraction_iou_above(y, y_pred)
    assert ks_scorer(pipe, X, y) == ks_score(y, y_pred, images=images)
    with pytest.warns(SkcardioWarning, match="distances are in pixels"):
        assert apd_scorer(pipe, X, y) == -average_perpendicular_distance(y, y_pred)
    with pytest.warns(SkcardioWarning):
        assert hausdorff_scorer(pipe, X, y) == -hausdorff_distance(y, y_pred)
    with pytest.warns(SkcardioWarning):
        assert good_contour_scorer(pipe, X, y) == good_contour_rate(y, y_pred)
    # The segmentation is good on this easy data, so the scores mean something.
    assert iou_scorer(pipe, X, y) > 0.8
    assert -5.0 < make_distance_scorer("apd", spacing=1.0)(pipe, X, y) <= 0.0


@pytest.mark.parametrize("scorer", [apd_scorer, make_multimetric_scorer(["neg_apd", "dice"])])
def test_pixel_distance_warning_points_at_the_caller(data, pipe, scorer):
    X, y, _ = data
    with pytest.warns(SkcardioWarning, match="distances are in pixels") as record:
        scorer(pipe, X, y)
    assert record[0].filename == __file__  # not a line inside skcardio


def test_ks_images_are_the_final_step_input(data, pipe):
    # Without the pipeline's NaN masking the images differ, and so does KS.
    X, y, _ = data
    segmenter_only = MeanThreshold().fit(None)
    raw = ks_scorer(segmenter_only, X[:, 0], y)
    assert raw == ks_score(y, segmenter_only.predict(X[:, 0]), images=X[:, 0])
    # A non-pipeline estimator given 4-D input uses channel 0 for KS.
    class ChannelZero(MeanThreshold):
        def predict(self, X):
            return super().predict(np.where(X[:, 1] > 0.5, X[:, 0], np.nan))

    four_d = ChannelZero().fit(None)
    assert ks_scorer(four_d, X, y) == ks_score(y, four_d.predict(X), images=X[:, 0])


def test_distance_scorers_use_record_spacing(data):
    X, y, _ = data
    records = np.rec.fromarrays(
        [np.arange(len(X)), np.tile([0.5, 0.5], (len(X), 1))],
        dtype=[("index", int), ("pixel_spacing", float, (2,))],
    )
    pipe = make_pipeline(Lookup(X), NanOutside(), MeanThreshold()).fit(records, y)
    y_pred = pipe.predict(records)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # records carry spacing: no warning
        value = apd_scorer(pipe, records, y)
    assert value == pytest.approx(-0.5 * average_perpendicular_distance(y, y_pred))
    assert ks_scorer(pipe, records, y) == ks_score(y, y_pred, images=pipe[:-1].transform(records))
    records.pixel_spacing[:] = 2.0
    assert hausdorff_scorer(pipe, records, y) == pytest.approx(-2 * hausdorff_distance(y, y_pred))


def test_make_distance_scorer_fallback_spacing(data, pipe):
    X, y, _ = data
    y_pred = pipe.predict(X)
    scorer = make_distance_scorer("apd", spacing=(2.0, 2.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scorer(pipe, X, y) == pytest.approx(-2 * average_perpendicular_distance(y, y_pred))
    strict = make_distance_scorer("good_contour", spacing=1.0, threshold=0.5)
    assert strict(pipe, X, y) == good_contour_rate(y, y_pred, threshold=0.5)
    with pytest.raises(ValueError, match=r"metric must be one of .*got 'dice'"):
        make_distance_scorer("dice")
    geometric = make_distance_scorer("apd", spacing=1.0, definition="geometric")
    assert geometric(pipe, X, y) == pytest.approx(
        -average_perpendicular_distance(y, y_pred, definition="geometric")
    )
    assert "definition='geometric'" in repr(geometric)
    with pytest.raises(ValueError, match=r"definition must be one of .*got 'exact'"):
        make_multimetric_scorer(["neg_apd"], definition="exact")


def test_ks_scorer_needs_images():
    records = np.rec.fromarrays([np.arange(3)], names="index")

    class RecordsSegmenter(MeanThreshold):
        def predict(self, X):
            return np.zeros((len(X), 4, 4), bool)

    with pytest.raises(ValueError, match="KS scorer needs the images.*fields \\('index',\\)"):
        ks_scorer(RecordsSegmenter().fit(None), records, np.zeros((3, 4, 4), bool))


def test_grid_search_with_groups(data):
    X, y, groups = data
    search = GridSearchCV(
        make_pipeline(NanOutside(), MeanThreshold()),
        {"meanthreshold__scale": [0.2, 1.0, 3.0]},
        cv=GroupKFold(n_splits=2),
        scoring=iou_scorer,
        error_score="raise",
    ).fit(X, y, groups=groups)
    # scale 0.2 keeps the whole region, 3.0 nothing; 1.0 separates the disk.
    assert search.best_params_ == {"meanthreshold__scale": 1.0}
    assert search.best_score_ > 0.8
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > scores[0] and scores[1] > scores[2]


def test_grid_search_with_every_scorer(data):
    X, y, groups = data
    for name, scorer in get_scorers().items():
        search = GridSearchCV(
            make_pipeline(NanOutside(), MeanThreshold()),
            {"meanthreshold__scale": [0.2, 1.0]},
            cv=GroupKFold(n_splits=2),
            scoring=scorer,
            error_score="raise",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkcardioWarning)
            search.fit(X, y, groups=groups)
        # scale 0.2 selects the whole ring: every scorer must prefer 1.0
        assert search.best_params_ == {"meanthreshold__scale": 1.0}, name


def test_cross_validate_with_scorer_dict(data):
    X, y, groups = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkcardioWarning)
        result = cross_validate(
            make_pipeline(NanOutside(), MeanThreshold()),
            X,
            y,
            groups=groups,
            cv=GroupKFold(n_splits=4),
            scoring=SCORERS,
            error_score="raise",
        )
    for name in SCORERS:
        values = result[f"test_{name}"]
        assert values.shape == (4,) and np.isfinite(values).all(), name
    assert (result["test_iou"] <= result["test_dice"]).all()
    assert ((0 <= result["test_ks"]) & (result["test_ks"] <= 1)).all()
    assert (result["test_neg_apd"] <= 0).all()


def test_multimetric_scorer(data, pipe):
    X, y, groups = data
    scorer = make_multimetric_scorer(spacing=1.0)
    values = scorer(pipe, X, y)
    assert set(values) == set(SCORERS)
    assert values["iou"] == iou_scorer(pipe, X, y)
    assert values["ks"] == ks_scorer(pipe, X, y)
    search = GridSearchCV(
        make_pipeline(NanOutside(), MeanThreshold()),
        {"meanthreshold__scale": [0.2, 1.0]},
        cv=GroupKFold(n_splits=2),
        scoring=make_multimetric_scorer(["iou", "neg_apd"], spacing=1.0),
        refit="iou",
        error_score="raise",
    ).fit(X, y, groups=groups)
    assert search.best_params_ == {"meanthreshold__scale": 1.0}
    assert "mean_test_neg_apd" in search.cv_results_
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['auc'\]"):
        make_multimetric_scorer(["iou", "auc"])


def test_multimetric_scorer_accepts_one_name(data, pipe):
    # A plain string is one metric name, not a sequence of letters.
    X, y, _ = data
    values = make_multimetric_scorer("iou")(pipe, X, y)
    assert values == {"iou": iou_scorer(pipe, X, y)}
    assert make_multimetric_scorer(("dice",))(pipe, X, y) == {"dice": dice_scorer(pipe, X, y)}
    with pytest.raises(ValueError, match=r"unknown metric\(s\) \['io'\]"):
        make_multimetric_scorer("io")


def test_nested_cross_validation_scores_the_best_estimator(data):
    X, y, groups = data
    inner = GridSearchCV(
        make_pipeline(NanOutside(), MeanThreshold()),
        {"meanthreshold__scale": [0.2, 1.0]},
        cv=GroupKFold(n_splits=2),
        scoring=iou_scorer,
    )
    # ks_scorer needs the segmenter's input: it unwraps best_estimator_.
    result = cross_validate(
        inner, X, y, groups=groups, cv=GroupKFold(n_splits=2),
        scoring={"ks": ks_scorer, "iou": iou_scorer}, error_score="raise",
        params={"groups": groups},
    )
    assert np.isfinite(result["test_ks"]).all()
    assert (result["test_iou"] > 0.8).all()


def test_ks_scorer_sees_through_a_frozen_pipeline(data, pipe):
    # FrozenEstimator (scoring a trained model under grouped CV) hid the pipeline: the KS scorer
    # then got the pipeline's input instead of the segmenter's.
    from sklearn.frozen import FrozenEstimator

    X, y, groups = data
    frozen = FrozenEstimator(pipe)
    assert ks_scorer(frozen, X, y) == ks_scorer(pipe, X, y)
    result = cross_validate(frozen, X, y, groups=groups, cv=GroupKFold(n_splits=2), scoring=ks_scorer,
                            error_score="raise")
    assert np.isfinite(result["test_score"]).all()


@pytest.mark.shared_data
def test_scorers_on_real_records(shared_data_root):
    from skcardio.datasets import load_dataset
    from skcardio.io import read_contour
    from skcardio.preprocessing import DicomLoader, RegionSelector

    data = load_dataset(shared_data_root, require="o-contour")
    frame, y = data.frame[:12], data.y[:12]
    pipe = make_pipeline(DicomLoader(region="o-contour"), RegionSelector(), MeanThreshold())
    pipe.fit(frame, y)
    y_pred = pipe.predict(frame)
    spacing = frame.pixel_spacing
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkcardioWarning)
        values = make_multimetric_scorer()(pipe, frame, y)
    # Distances are measured against the expert's file points y was drawn from.
    experts = [read_contour(path) for path in frame.icontour_path]
    assert values["neg_apd"] == pytest.approx(
        -average_perpendicular_distance(experts, y_pred, spacing=spacing)
    )
    assert values["neg_apd"] != pytest.approx(
        -average_perpendicular_distance(y, y_pred, spacing=spacing)
    )
    assert values["neg_hausdorff"] == pytest.approx(-hausdorff_distance(experts, y_pred, spacing=spacing))
    # The same masks as 0/1 numbers are the same expert contours.
    for dtype in (np.uint8, np.float64):
        assert apd_scorer(pipe, frame, y.astype(dtype)) == values["neg_apd"]
        assert hausdorff_scorer(pipe, frame, y.astype(dtype)) == values["neg_hausdorff"]
    # A y not drawn from the records' files is measured as a mask (its outline).
    moved = np.roll(y, 1, axis=2)
    assert make_distance_scorer("apd")(pipe, frame, moved) == pytest.approx(
        -average_perpendicular_distance(moved, y_pred, spacing=spacing)
    )
    geometric = make_distance_scorer("apd", definition="geometric")(pipe, frame, y)
    assert geometric == pytest.approx(
        -average_perpendicular_distance(experts, y_pred, spacing=spacing, definition="geometric")
    )
    assert values["ks"] == ks_score(y, y_pred, images=pipe[:-1].transform(frame))
    # Mean thresholding inside the o-contour finds much of the blood pool.
    assert values["dice"] > 0.5


@pytest.mark.shared_data
def test_grid_search_on_real_records_with_several_scorers(shared_data_root):
    """The records pipeline, patient-grouped folds, and the iou/dice/ks scorers together."""
    from skcardio.datasets import load_dataset
    from skcardio.preprocessing import DicomLoader, RegionSelector
    from skcardio.segment import ThresholdSegmenter

    data = load_dataset(shared_data_root, require="o-contour")
    pipe = make_pipeline(DicomLoader(region="o-contour"), RegionSelector(), ThresholdSegmenter())
    cv = GroupKFold(n_splits=3)
    search = GridSearchCV(
        pipe,
        {"thresholdsegmenter__method": ["otsu", "li"]},
        cv=cv,
        scoring={"iou": iou_scorer, "dice": dice_scorer, "ks": ks_scorer},
        refit="iou",
        error_score="raise",
    ).fit(data.frame, data.y, groups=data.groups)
    results = search.cv_results_
    for name in ("iou", "dice", "ks"):
        for fold in range(3):
            scores = results[f"split{fold}_test_{name}"]
            assert np.isfinite(scores).all() and ((0 <= scores) & (scores <= 1)).all(), name
    # Dice >= IoU on every slice, so on every fold mean too.
    for fold in range(3):
        assert (results[f"split{fold}_test_dice"] >= results[f"split{fold}_test_iou"]).all()
    # The two thresholds select different pixels: KS tells them apart.
    assert results["mean_test_ks"][0] != results["mean_test_ks"][1]
    assert search.best_index_ == int(np.argmax(results["mean_test_iou"]))
    # The search's first fold score is the metric on that fold's slices (the
    # pipeline learns nothing, so fitting on the training fold changes nothing).
    _, test = next(cv.split(data.frame, data.y, groups=data.groups))
    li = pipe.set_params(thresholdsegmenter__method="li").fit(data.frame[test])
    y_pred = li.predict(data.frame[test])
    assert results["split0_test_iou"][1] == pytest.approx(iou_score(data.y[test], y_pred))
    assert results["split0_test_ks"][1] == pytest.approx(
        ks_score(data.y[test], y_pred, images=li[:-1].transform(data.frame[test]))
    )


def test_get_scorers_gives_copies():
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        # The module's scorers keep their (empty) requests: sklearn's get_scorer copies too.
        changed = get_scorers()["iou"].set_score_request(sample_weight=True)
        assert changed.get_metadata_routing().score.requests["sample_weight"] is True
        for scorer in (iou_scorer, SCORERS["iou"], get_scorers()["iou"]):
            assert scorer.get_metadata_routing().score.requests["sample_weight"] is None
    assert get_scorers()["iou"] is not get_scorers()["iou"]


def test_ks_images_through_nested_pipelines(data):
    from sklearn.preprocessing import FunctionTransformer

    X, y, _ = data
    # Regions smaller than some pools: the NaN outside them change the KS samples.
    X = X.copy()
    X[::2, 1] = np.roll(X[::2, 1], 9, axis=-1)
    flat = make_pipeline(FunctionTransformer(), NanOutside(), MeanThreshold()).fit(X, y)
    expected = ks_score(y, flat.predict(X), images=flat[:-1].transform(X))
    nested = [
        make_pipeline(FunctionTransformer(), make_pipeline(NanOutside(), MeanThreshold())),
        make_pipeline(make_pipeline(FunctionTransformer(), NanOutside()), make_pipeline(MeanThreshold())),
        make_pipeline(make_pipeline(FunctionTransformer(), make_pipeline(NanOutside(), MeanThreshold()))),
    ]
    assert expected != ks_score(y, flat.predict(X), images=X)
    for pipe in nested:
        pipe.fit(X, y)
        # The images are the innermost segmenter's input (NaN outside the region), as in the flat pipeline.
        assert ks_scorer(pipe, X, y) == expected
        assert make_multimetric_scorer(["ks", "dice"])(pipe, X, y)["ks"] == expected



@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: make_distance_scorer(spacing=(1.37, -1.37)), r"spacing must be finite and positive \(mm\); got \[-1.37\]"),
        (lambda: make_distance_scorer(spacing="1"), r"spacing must be numbers .*got '1'"),
        (lambda: make_distance_scorer(spacing=np.ones((3, 3))), r"got shape \(3, 3\)"),
        (lambda: make_distance_scorer("good_contour", threshold=-5), r"threshold must be a distance > 0 \(mm\), got -5"),
        (lambda: make_multimetric_scorer(["good_contour"], threshold=np.nan), r"threshold must be .*got nan"),
        (lambda: make_multimetric_scorer([]), r"metrics must name at least one of \('iou', .*got none"),
    ],
    ids=["negative-spacing", "text-spacing", "spacing-shape", "negative-threshold", "nan-threshold", "no-metric"],
)
def test_scorers_refuse_bad_settings_when_made(make, match):
    # Accepted, they made every fold of a cross-validation NaN (or, with no metric, gave no score at all).
    with pytest.raises(ValueError, match=match):
        make()


def test_scorers_take_every_valid_spacing_when_made(data, pipe):
    X, y, _ = data
    for spacing in (1.0, np.float32(1.0), (1.0, 1.0), np.ones(2), np.ones((len(X), 2))):
        assert -5.0 < make_distance_scorer("apd", spacing=spacing)(pipe, X, y) <= 0.0
