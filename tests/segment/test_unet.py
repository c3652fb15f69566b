"""Tests of UNetSegmenter: learning, determinism, sklearn integration, safe persistence."""

from __future__ import annotations

import copy
import os
import pickle
import re
import warnings

import numpy as np
import pytest
import torch
from joblib import hash as joblib_hash
from scipy import ndimage
from sklearn import config_context
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from _sklearn_checks import TABLE_CHECKS
from _unet_discs import TINIEST, TINY, make_discs

from skcardio.exceptions import DegenerateModelWarning, SkcardioError, SkcardioWarning
from skcardio.metrics import dice_score, dice_scorer, iou_scorer
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_data import AugmentedSlices, robust_scale, unzoom_window, zoom_crop

# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_learns_synthetic_discs(fitted):
    X_test, y_test = make_discs(16, seed=1)
    pred = fitted.predict(X_test)
    assert pred.dtype == bool and pred.shape == y_test.shape
    assert dice_score(y_test, pred) > 0.9


def test_score_is_mean_dice_so_searches_need_no_scoring(fitted):
    X_test, y_test = make_discs(6, seed=3)
    assert fitted.score(X_test, y_test) == dice_score(y_test, fitted.predict(X_test))
    # GridSearchCV / cross_validate without scoring= fall back to estimator.score.
    assert check_scoring(fitted)(fitted, X_test, y_test) == fitted.score(X_test, y_test)


def test_predict_proba_is_probability_and_consistent_with_predict(fitted, discs):
    X, _ = discs
    proba = fitted.predict_proba(X[:4])
    assert proba.shape == (4, 64, 64) and proba.dtype == np.float32
    assert 0 <= proba.min() and proba.max() <= 1
    # Post-processing only removes minor components and fills holes.
    raw = copy.deepcopy(fitted).set_params(postprocess=False)
    np.testing.assert_array_equal(raw.predict(X[:4]), proba > 0.5)


def test_predicts_any_image_size_and_intensity_range(fitted):
    X, y = make_discs(3, size=72, seed=2)
    X = X[:, 3:-2, 1:]  # 67 x 71: not a multiple of the 4-pixel pooling grid
    pred = fitted.predict(X * 1000 - 5)
    assert pred.shape == (3, 67, 71)
    assert dice_score(y[:, 3:-2, 1:], pred) > 0.85


def test_nan_pixels_are_never_foreground(fitted, discs):
    X, y = discs
    X = X[:2].copy()
    X[:, :, :32] = np.nan
    pred = fitted.predict(X)
    assert not pred[:, :, :32].any()
    assert pred[:, :, 32:].any() or not y[:2, :, 32:].any()


def test_nan_hole_inside_the_pool_is_never_foreground(fitted):
    # Filling the pool's holes filled the NaN (outside-region) pixels too.
    X, y = make_discs(4, seed=1)
    X = X[:1].copy()
    row, col = np.argwhere(y[0]).mean(axis=0).round().astype(int)
    X[0, row - 1 : row + 2, col - 1 : col + 2] = np.nan
    pred = fitted.predict(X)[0]
    outside = np.isnan(X[0])
    assert not pred[outside].any()
    # The NaN block is a hole enclosed by the predicted pool, which is kept.
    ring = np.zeros_like(outside)
    ring[row - 2 : row + 3, col - 2 : col + 3] = True
    assert pred[ring & ~outside].all()
    np.testing.assert_array_equal(pred, ndimage.binary_fill_holes(pred) & ~outside)
    # Two channels: NaN in either one is outside the region. The low threshold
    # makes the whole image one component, enclosing the NaN block.
    two = UNetSegmenter(**TINIEST).fit(np.stack([X, X], axis=1), y[:1])
    X2 = np.stack([np.nan_to_num(X, nan=0.0), X], axis=1)
    assert not two.set_params(threshold=0.01).predict(X2)[0][outside].any()


def test_zoom_crop_and_paste_back_roundtrip():
    rows, cols = np.mgrid[:40, :50]
    image = np.sin(rows / 7.0) + np.cos(cols / 5.0)
    centre = np.array([18.0, 27.0])
    window = zoom_crop(image[None], centre, 2.0, 32)[0]
    assert window.shape == (32, 32)
    # The window centre is the requested image point.
    assert window[15:17, 15:17].mean() == pytest.approx(image[17:19, 26:28].mean(), abs=0.05)
    back = unzoom_window(window, centre, 2.0, image.shape)
    inside = ~np.isnan(back)
    # A 32-pixel window at 2x covers about 16 x 16 original pixels around the centre.
    assert 14 * 14 <= inside.sum() <= 16 * 16 and inside[18, 27] and not inside[0, 0]
    np.testing.assert_allclose(back[inside], image[inside], atol=0.05)


def test_refine_rescans_only_small_pools(fitted):
    X, y = make_discs(8, seed=5)
    rows, cols = np.mgrid[:64, :64]
    for i in range(4):  # shrink half of the discs to a radius of 3 pixels
        centre = np.argwhere(y[i]).mean(axis=0)
        y[i] = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < 9
        X[i] = np.where(y[i], X[i].max(), np.median(X[i]))
    plain = copy.deepcopy(fitted).set_params(refine=False)
    refining = copy.deepcopy(fitted).set_params(refine=True)  # off by default
    refined, coarse = refining.predict_proba(X), plain.predict_proba(X)
    pools = plain.predict(X).sum(axis=(1, 2))
    small = (pools > 0) & (pools * 1.25**2 <= fitted.typical_area_)
    assert small[:4].all() and not small[4:].all()
    changed = np.abs(refined - coarse) > 1e-6
    # Typical-size pools are left alone; small ones are predicted again near the pool only.
    assert not changed[~small].any()
    assert changed[small].any(axis=(1, 2)).all()
    for i in np.flatnonzero(small):
        centre = np.argwhere(y[i]).mean(axis=0)
        distance = np.hypot(*(np.argwhere(changed[i]) - centre).T)
        assert distance.max() < fitted.crop_size / 2 * np.sqrt(2)
    # ... which helps: a tiny pool is segmented at least as well after the zoomed pass.
    assert dice_score(y[:4], refining.predict(X[:4])) >= dice_score(y[:4], plain.predict(X[:4])) - 0.02


def test_same_random_state_gives_identical_predictions(discs):
    X, y = discs[0][:16], discs[1][:16]
    state = torch.get_rng_state()
    numpy_state = np.random.get_state()[1].copy()
    first = UNetSegmenter(**TINY, max_epochs=2, validation_fraction=None).fit(X, y)
    second = UNetSegmenter(**TINY, max_epochs=2, validation_fraction=None).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # ... and global random state is left alone.
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    other = UNetSegmenter(**{**TINY, "random_state": 1}, max_epochs=2, validation_fraction=None)
    assert not np.array_equal(other.fit(X, y).predict_proba(X), first.predict_proba(X))


def test_sample_weight_draws_each_epochs_slices_in_proportion(discs, monkeypatch):
    X, y = discs[0][:8], discs[1][:8]
    weights = np.array([0, 0, 0, 0, 1, 1, 1, 3], dtype=float)
    drawn = []
    original = AugmentedSlices.__getitem__

    def recording(self, index):
        drawn.append(int(index))
        return original(self, index)

    monkeypatch.setattr(AugmentedSlices, "__getitem__", recording)
    first = UNetSegmenter(**TINY, max_epochs=50, validation_fraction=None).fit(X, y, sample_weight=weights)
    first_draws = np.array(drawn)
    assert first_draws.size == 50 * 8  # as many draws per epoch as slices, not as positive weights
    assert set(first_draws) <= {4, 5, 6, 7}  # weight 0 is never drawn
    share = np.bincount(first_draws, minlength=8)[4:] / first_draws.size
    np.testing.assert_allclose(share, weights[4:] / weights.sum(), atol=0.06)
    # Seeded draws: the same weights and seed give the same model, other weights another.
    again = UNetSegmenter(**TINY, max_epochs=50, validation_fraction=None).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(first.predict_proba(X[:2]), again.predict_proba(X[:2]))
    other = UNetSegmenter(**TINY, max_epochs=50, validation_fraction=None).fit(X, y, sample_weight=weights[::-1])
    assert not np.array_equal(other.predict_proba(X[:2]), first.predict_proba(X[:2]))


def test_sample_weight_zero_on_every_slice_left_for_training_is_refused(discs):
    X, y = discs[0][:8], discs[1][:8]
    groups = np.repeat([0, 1], 4)
    refused = []
    for weighted in (0, 1):  # validation holds one of the two patients out: one of these trains on weight 0
        model = UNetSegmenter(**TINY, max_epochs=1, validation_fraction=0.5)
        try:
            model.fit(X, y, groups=groups, sample_weight=(groups == weighted).astype(float))
        except ValueError as error:
            refused.append(str(error))
    assert refused == [
        "sample_weight is 0 for all 4 training slices left after holding out 4 validation slices; "
        "at least one must be positive"
    ]


def test_sample_weight_as_list_or_series_is_neither_copied_wrong_nor_overwritten(discs):
    pd = pytest.importorskip("pandas")
    X, y = discs[0][:8], discs[1][:8]
    weights = np.array([1, 2, 0, 1, 1, 1, 2, 1], dtype=float)
    kept = weights.copy()
    fitted = [
        UNetSegmenter(**TINY, max_epochs=1, validation_fraction=None).fit(X, y, sample_weight=w)
        for w in (weights, list(weights), pd.Series(weights))
    ]
    np.testing.assert_array_equal(weights, kept)
    first = fitted[0].predict_proba(X[:2])
    for other in fitted[1:]:
        np.testing.assert_array_equal(other.predict_proba(X[:2]), first)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0] * 7, r"sample_weight must have shape \(8,\), one weight per slice of X, got shape \(7,\)"),
        ([1.0] * 6 + [-1.0, np.nan], r"finite and >= 0, got -1.0 for slice 6 \(2 such slice\(s\)\)"),
        (["a"] * 8, "sample_weight must hold numbers"),
        ([0.0] * 8, "sample_weight is 0 for all 8 training slices"),
    ],
)
def test_sample_weight_is_validated(weights, message, discs):
    X, y = discs[0][:8], discs[1][:8]
    model = UNetSegmenter(**TINY, max_epochs=1, validation_fraction=None)
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, sample_weight=weights)
    assert not hasattr(model, "net_")  # nothing half-fitted


def test_validation_holds_out_whole_patients_and_restores_best_epoch(discs, monkeypatch, tmp_path):
    X, y = discs
    groups = np.repeat(np.arange(8), 4)
    seen = {}
    original = UNetSegmenter._split

    def spy(self, n, groups_, rng):
        seen["split"] = original(self, n, groups_, rng)
        return seen["split"]

    monkeypatch.setattr(UNetSegmenter, "_split", spy)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    model = UNetSegmenter(**TINY, max_epochs=12, validation_fraction=0.25, patience=3)
    model.fit(X, y, groups=groups)
    train, valid = seen["split"]
    assert set(groups[train]).isdisjoint(groups[valid])
    assert len(valid) == 8  # two of eight patients
    history = model.net_.history
    losses = history[:, "valid_loss"]
    assert model.best_epoch_ == history[int(np.argmin(losses)), "epoch"]
    assert len(history) <= 12 and {"valid_dice", "train_loss"} <= set(history[-1])
    # The restored weights are the best epoch's: their validation loss is the minimum.
    padded = torch.from_numpy(model._check_images(X[valid]))
    logits = model.net_.forward(torch.from_numpy(robust_scale(padded.numpy())), training=False)
    loss = model.net_.criterion_(logits, torch.from_numpy(y[valid])).item()
    assert loss == pytest.approx(min(losses), rel=1e-4)
    # The temporary checkpoint directory is removed after fit.
    assert not list(tmp_path.glob("skcardio-unet-*"))


def test_validation_without_groups_warns(discs):
    X, y = discs
    with pytest.warns(SkcardioWarning, match="no groups"):
        UNetSegmenter(**TINY, max_epochs=1, validation_fraction=0.25).fit(X[:8], y[:8])


def test_single_group_trains_without_validation(discs):
    X, y = discs
    with pytest.warns(SkcardioWarning, match="single group"):
        model = UNetSegmenter(**TINY, max_epochs=2, validation_fraction=0.25)
        model.fit(X[:8], y[:8], groups=np.zeros(8))
    assert "valid_loss" not in model.net_.history[-1]
    assert model.best_epoch_ == 2


@pytest.mark.parametrize("validation_fraction", [0.5, None])
def test_diverged_training_raises_and_keeps_nothing(validation_fraction, discs, monkeypatch, tmp_path):
    # With validation, every validation loss NaN made skorch load a checkpoint
    # never written (FileNotFoundError); without, the weights were NaN/inf and
    # every pixel was predicted as blood pool.
    X, y = discs[0][:8], discs[1][:8]
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    model = UNetSegmenter(
        **{**TINIEST, "max_epochs": 2, "learning_rate": 1e6, "validation_fraction": validation_fraction}
    )
    expected = (
        "the validation loss was never finite \\(2 epoch\\(s\\), last nan\\), so there is no epoch to keep"
        if validation_fraction
        else "epoch 2, whose weights would be kept, ended with non-finite weights"
    )
    with pytest.raises(SkcardioError, match=f"^training diverged: {expected}; try a lower learning_rate "
                                            "\\(got 1000000.0\\)$"):
        model.fit(X, y, groups=np.repeat(np.arange(4), 2))
    assert _fitted_state(model) == {}
    # The checkpoint directory is removed (PyTorch may leave caches of its own
    # there, e.g. torchinductor_<user>, when a process first needs them).
    assert not list(tmp_path.glob("skcardio-unet-*"))


def test_validation_fraction_must_leave_a_patient_for_training(discs):
    X, y = discs[0][:4], discs[1][:4]
    groups = [0, 0, 1, 1]
    # sklearn's own message spoke of "n_samples=2" and an empty train set.
    with pytest.raises(ValueError, match="^validation_fraction=0.9 would hold out ceil\\(0.9 x 2\\) = 2 of "
                       "the 2 patients \\(groups\\) for validation, leaving none for training; with 2 "
                       "patients \\(groups\\) it must be at most 1/2 \\(or give more patients\\)$"):
        UNetSegmenter(**{**TINIEST, "validation_fraction": 0.9}).fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="ceil\\(0.8 x 4\\) = 4 of the 4 slices .*at most 3/4 "
                       "\\(or give more slices\\)$"):
        UNetSegmenter(**{**TINIEST, "validation_fraction": 0.8}).fit(X, y)
    # The limits themselves are accepted (sklearn rounds the held-out count up).
    UNetSegmenter(validation_fraction=0.5)._check_split(4, np.array(groups))
    UNetSegmenter(validation_fraction=0.75)._check_split(4, None)


def test_crop_size_leaves_a_bottleneck_of_two_pixels(discs):
    X, y = discs[0][:1], discs[1][:1]
    # 8-pixel crops at depth 4 gave a 1 x 1 bottleneck, which batch norm
    # refuses for a batch of one crop ("Expected more than 1 value per channel").
    tight = UNetSegmenter(**{**TINIEST, "depth": 4, "crop_size": 8})
    with pytest.raises(ValueError, match="^crop_size must be at least 2 \\*\\* depth = 16 \\(depth=4\\) so "
                       "that the bottleneck of a crop is at least 2 x 2 pixels, got 8$"):
        tight.fit(X, y)
    # 2 ** depth is enough, even for a single slice.
    assert UNetSegmenter(**{**TINIEST, "crop_size": 4}).fit(X, y).predict(X).shape == (1, 64, 64)


def test_random_state_none_uses_numpys_global_generator(discs):
    # The docstring said global random state was left untouched for every
    # random_state; None draws the seeds from NumPy's, as in scikit-learn.
    X, y = discs[0][:4], discs[1][:4]
    doc = " ".join(UNetSegmenter.__doc__.split())
    assert "``None`` draws the seeds from NumPy's global generator (advancing it)" in doc
    probas = []
    for _ in range(2):
        np.random.seed(5)
        _, keys, position, *_ = np.random.get_state()
        torch_state = torch.get_rng_state()
        probas.append(UNetSegmenter(**{**TINIEST, "random_state": None}).fit(X, y).predict_proba(X))
        assert torch.equal(torch.get_rng_state(), torch_state)
        _, keys_after, position_after, *_ = np.random.get_state()
        assert position_after != position or not np.array_equal(keys_after, keys)
    # ... so seeding NumPy makes such fits repeatable.
    np.testing.assert_array_equal(probas[0], probas[1])


def test_clone_and_params_roundtrip():
    model = UNetSegmenter(depth=3, learning_rate=1e-3, zoom_range=(0.8, 1.2))
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    cloned.set_params(depth=2, flip=False)
    assert (cloned.depth, cloned.flip, model.depth) == (2, False, 3)
    assert not hasattr(cloned, "net_")


def test_pickle_roundtrip(fitted, discs):
    X, _ = discs
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X[:4]), fitted.predict_proba(X[:4]))


def test_grid_search_with_group_kfold_in_parallel(tmp_path):
    X, y = make_discs(24, seed=3)
    groups = np.repeat(np.arange(6), 4)
    base = UNetSegmenter(
        **TINY, max_epochs=4, validation_fraction=0.2, patience=None, checkpoint_dir=tmp_path
    )
    with config_context(enable_metadata_routing=True):
        base.set_fit_request(groups=True)
        search = GridSearchCV(
            base,
            {"learning_rate": [3e-3, 1e-2]},
            cv=GroupKFold(n_splits=2),
            scoring=dice_scorer,
            n_jobs=2,
            refit=False,
        )
        search.fit(X, y, groups=groups)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # 2 candidates x 2 folds, each in its own checkpoint directory.
    checkpoints = sorted(tmp_path.glob("fit-*/params.pt"))
    assert len(checkpoints) == 4


def test_sample_weight_reaches_fit_through_metadata_routing(discs, monkeypatch):
    X, y = discs[0][:16], discs[1][:16]
    groups = np.repeat(np.arange(4), 4)
    weights = np.arange(16, dtype=float)
    seen = []
    original = UNetSegmenter.fit

    def recording(self, X, y, groups=None, sample_weight=None):
        seen.append(sample_weight)
        return original(self, X, y, groups=groups, sample_weight=sample_weight)

    monkeypatch.setattr(UNetSegmenter, "fit", recording)
    with config_context(enable_metadata_routing=True):
        # score() takes sample_weight too: say whether it is weighted, or scikit-learn refuses.
        model = UNetSegmenter(**TINY, max_epochs=1, validation_fraction=None)
        model.set_fit_request(groups=True, sample_weight=True).set_score_request(sample_weight=False)
        cross_validate(model, X, y, cv=GroupKFold(n_splits=2), params={"groups": groups, "sample_weight": weights})
    # Each fold's fit gets the weights of its own training slices: every slice trains in one of the two folds.
    assert len(seen) == 2 and all(len(w) == 8 for w in seen)
    assert sorted(np.concatenate(seen).tolist()) == weights.tolist()


def test_cross_validate_with_scorers(discs):
    X, y = discs
    groups = np.repeat(np.arange(4), 8)
    model = UNetSegmenter(**TINY, max_epochs=20, validation_fraction=None)
    scores = cross_validate(
        model, X, y, groups=groups, cv=GroupKFold(2), scoring={"dice": dice_scorer, "iou": iou_scorer}
    )
    assert (scores["test_iou"] <= scores["test_dice"]).all()
    assert (scores["test_dice"] > 0.5).all()


def test_pipeline_after_dicom_loader():
    from skcardio.datasets import load_sample
    from skcardio.preprocessing import DicomLoader

    sample = load_sample()
    pipeline = make_pipeline(
        DicomLoader(),
        UNetSegmenter(depth=2, base_channels=4, crop_size=64, max_epochs=1, validation_fraction=None),
    )
    pred = pipeline.fit(sample.frame[:4], sample.y[:4]).predict(sample.frame[:2])
    assert pred.shape == (2, 256, 256) and pred.dtype == bool


def test_slice_records_and_paths_are_refused_pointing_at_dicomloader():
    # They gave NumPy's "Cannot cast array data from dtype((numpy.record, ..." and, for paths,
    # "could not convert string to float"; the classical segmenters say what was expected.
    from skcardio.datasets import load_sample

    data = load_sample()
    with pytest.raises(ValueError, match=r"got slice records \(recarray with fields 'patient_id'.*DicomLoader"):
        UNetSegmenter(max_epochs=1).fit(data.frame, data.y)  # refused before any training
    model = UNetSegmenter.pretrained()
    for X in (data.frame, list(data.frame.dicom_path), data.frame.dicom_path[0]):
        with pytest.raises(ValueError, match=r"^expected images of shape \(n, H, W\) or \(n, C, H, W\), got .*"
                                             r"(slice records|path).*DicomLoader\(\)"):
            model.predict(X)


def test_invalid_inputs(fitted, discs):
    X, y = discs
    with pytest.raises(ValueError, match="shape \\(n, H, W\\) or \\(n, C, H, W\\)"):
        fitted.predict(X[0, 0])
    # The shape passed, not the one with the channel axis added inside (was (0, 1, 64, 64)).
    with pytest.raises(ValueError, match="non-empty images .*got shape \\(0, 64, 64\\)$"):
        fitted.predict(X[:0])
    with pytest.raises(ValueError, match="y must be masks of shape"):
        UNetSegmenter(**TINY).fit(X[:4], y[:3])
    with pytest.raises(ValueError, match="boolean masks"):
        UNetSegmenter(**TINY).fit(X[:4], y[:4] * 2)
    # The message says what was found: dtype and (up to 5 of) the other values.
    with pytest.raises(ValueError, match="got dtype uint8 with 1 other value\\(s\\): 255$"):
        UNetSegmenter(**TINY).fit(X[:4], y[:4].astype(np.uint8) * 255)
    five_of_seven = "float64 with 7 other value\\(s\\): 0.5, 1.5, 2.0, 2.5, 3.0 \\(and 2 more\\)$"
    with pytest.raises(ValueError, match=five_of_seven):
        y_float = np.array([[[0, 1, 0.5, 1.5], [2, 2.5, 3, 3.5]], [[4, 0, 0, 0], [0, 1, 1, 0]]])
        UNetSegmenter(**TINY).fit(X[:2, :2, :4], y_float)
    with pytest.raises(ValueError, match="2 channel\\(s\\), the model was fitted with 1"):
        fitted.predict(np.stack([X[:2], X[:2]], axis=1))


def test_rgb_pictures_get_advice_not_a_channel_count(discs):
    """Grayscale pictures read by imageio as RGB, (n, H, W, 3): their 64 rows were taken for channels."""
    X, y = discs
    fitted = UNetSegmenter(**TINIEST).fit(X[:4], y[:4])
    rgb = np.repeat(X[:2, ..., np.newaxis], 3, axis=-1)
    advice = (r"X of shape \(2, 64, 64, 3\) looks like RGB\(A\) pictures \(last axis 3\); expected \(n, H, W\) "
              r"grayscale images: convert them, e.g. X\[\.\.\., 0\] when the channels are equal")
    with pytest.raises(ValueError, match=advice):
        fitted.predict(rgb)
    with pytest.raises(ValueError, match=advice):
        UNetSegmenter(**TINY).fit(rgb, y[:2])
    np.testing.assert_array_equal(fitted.predict(rgb[..., 0]), fitted.predict(X[:2]))  # the advice works


def test_multichannel_input(discs):
    X, y = discs
    two = np.stack([X, y.astype(np.float32)], axis=1)
    model = UNetSegmenter(**TINY, max_epochs=2, validation_fraction=None).fit(two, y)
    assert model.n_channels_ == 2
    assert model.predict(two[:2]).shape == (2, 64, 64)


def test_fit_checks_groups_and_a_single_slice(discs):
    X, y = discs
    # Wrong-length groups are an error even when they would not be used.
    wrong_length = "groups must have shape \\(4,\\), one patient id per slice of X, got shape \\(2,\\)"
    with pytest.raises(ValueError, match=wrong_length):
        UNetSegmenter(**TINIEST).fit(X[:4], y[:4], groups=[1, 2])
    # One slice: no validation happens, so no warning about how it would be drawn.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = UNetSegmenter(**{**TINIEST, "validation_fraction": 0.25}).fit(X[:1], y[:1])
    # (A one-epoch model on one slice also warns that it is degenerate: not counted here.)
    messages = [str(w.message) for w in caught
                if issubclass(w.category, SkcardioWarning) and not issubclass(w.category, DegenerateModelWarning)]
    assert len(messages) == 1 and "single slice" in messages[0], messages
    assert caught[0].filename == __file__  # stacklevel points at the caller of fit
    assert "valid_loss" not in model.net_.history[-1]


def _interrupt_at(call: int):
    """An ``AugmentedSlices.__getitem__`` that presses Ctrl-C at its ``call``-th call."""
    original = AugmentedSlices.__getitem__
    calls = [0]

    def getitem(self, index):
        calls[0] += 1
        if calls[0] >= call:
            raise KeyboardInterrupt
        return original(self, index)

    return getitem


def _fitted_state(model) -> dict:
    return {k: v for k, v in vars(model).items() if k.endswith("_")}


@pytest.mark.parametrize("validation_fraction", [None, 0.25])
def test_ctrl_c_during_fit_propagates_and_keeps_the_previous_model(
    validation_fraction, discs, monkeypatch, tmp_path
):
    X, y = discs[0][:8], discs[1][:8]
    groups = np.repeat(np.arange(4), 2)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    params = {**TINIEST, "max_epochs": 3, "validation_fraction": validation_fraction}
    # Interrupted during epoch 1 of a first fit: nothing fitted is left behind.
    fresh = UNetSegmenter(**params)
    state = torch.get_rng_state()
    monkeypatch.setattr(AugmentedSlices, "__getitem__", _interrupt_at(3))
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X, y, groups=groups)
    assert _fitted_state(fresh) == {}
    assert torch.equal(torch.get_rng_state(), state)
    # The checkpoint directory is removed (PyTorch may leave caches of its own
    # there, e.g. torchinductor_<user>, when a process first needs them).
    assert not list(tmp_path.glob("skcardio-unet-*"))
    # Interrupted refit: the earlier model is kept whole.
    monkeypatch.undo()
    model = UNetSegmenter(**params).fit(X, y, groups=groups)
    before, proba = _fitted_state(model), model.predict_proba(X[:2])
    monkeypatch.setattr(AugmentedSlices, "__getitem__", _interrupt_at(3))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:6], y[:6], groups=groups[:6])
    assert _fitted_state(model) == before
    assert all(_fitted_state(model)[k] is v for k, v in before.items())
    np.testing.assert_array_equal(model.predict_proba(X[:2]), proba)


def test_failed_refit_leaves_every_fitted_attribute_unchanged(discs, monkeypatch):
    X, y = discs[0][:8], discs[1][:8]
    model = UNetSegmenter(**TINIEST).fit(X, y)
    before, proba = _fitted_state(model), model.predict_proba(X[:2])
    history = copy.deepcopy(model.net_.history.to_list())

    def broken(self, index):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(AugmentedSlices, "__getitem__", broken)
    # Another channel count, depth and smaller masks: all would change a fitted attribute.
    two_channels = np.stack([X[:3], X[:3]], axis=1)
    small = np.zeros_like(y[:3])
    small[:, 30:34, 30:34] = True
    model.set_params(depth=3, crop_size=48)
    with pytest.raises(RuntimeError, match="disk gone"):
        model.fit(two_channels, small)
    assert _fitted_state(model) == before
    assert all(_fitted_state(model)[k] is v for k, v in before.items())
    assert model.net_.history.to_list() == history
    np.testing.assert_array_equal(model.predict_proba(X[:2]), proba)


def test_predict_uses_the_fitted_depth_and_crop_size(fitted):
    X, _ = make_discs(3, size=72, seed=2)
    X = X[:, :66, :70]  # padded to 68 x 72 for depth 3, to 66 x 70 for depth 2
    X[0] = np.where(X[0] > np.percentile(X[0], 99), X[0].max(), np.median(X[0]))  # a small pool: refined
    refining = copy.deepcopy(fitted).set_params(refine=True)  # the refine window is crop_size_ wide
    expected = refining.predict_proba(X)
    changed = copy.deepcopy(refining).set_params(depth=2, crop_size=16)
    np.testing.assert_array_equal(changed.predict_proba(X), expected)
    assert (changed.depth_, changed.crop_size_) == (3, 48)


def test_image_versions_of_the_table_checks(fitted, discs, tmp_path):
    """sklearn's checks that the table-only harness cannot run on image stacks."""
    X, y = discs
    # check_dict_unchanged: predict and predict_proba change no attribute.
    before = dict(vars(fitted))
    weights = {k: v.clone() for k, v in fitted.net_.module_.state_dict().items()}
    history = len(fitted.net_.history)
    fitted.predict(X[:4])
    fitted.predict_proba(X[:4])
    assert vars(fitted).keys() == before.keys()
    assert all(vars(fitted)[k] is v for k, v in before.items())
    assert all(torch.equal(v, weights[k]) for k, v in fitted.net_.module_.state_dict().items())
    assert len(fitted.net_.history) == history
    # check_methods_subset_invariance: a slice's prediction does not depend on the batch.
    full, proba = fitted.predict(X[:8]), fitted.predict_proba(X[:8])
    for part in (slice(0, 3), slice(5, 6), [7, 1]):
        np.testing.assert_array_equal(fitted.predict(X[:8][part]), full[part])
        np.testing.assert_allclose(fitted.predict_proba(X[:8][part]), proba[part], atol=1e-6)
    # check_estimators_overwrite_params, check_dont_overwrite_parameters and
    # check_readonly_memmap_input on read-only (memory-mapped) images and masks.
    np.save(tmp_path / "X.npy", X[:6])
    np.save(tmp_path / "y.npy", y[:6])
    X_ro, y_ro = np.load(tmp_path / "X.npy", mmap_mode="r"), np.load(tmp_path / "y.npy", mmap_mode="r")
    model = UNetSegmenter(**TINIEST)
    params = copy.deepcopy(model.get_params())
    public = {k for k in vars(model) if not k.startswith("_")}
    model.fit(X_ro, y_ro)
    assert joblib_hash(model.get_params()) == joblib_hash(params)
    added = {k for k in vars(model) if not k.startswith("_")} - public
    assert added and all(k.endswith("_") for k in added), added
    assert model.predict(X_ro).shape == (6, 64, 64)
    np.testing.assert_array_equal(X_ro, X[:6])


_TABULAR = "UNetSegmenter takes image stacks (n, H, W); the check feeds a 2-D table"
EXPECTED_FAILURES = {
    name: _TABULAR
    for name in [
        *TABLE_CHECKS,
        "check_positive_only_tag_during_fit",
        # sample_weight's own behaviour on image stacks: test_sample_weight_*. (Unit weights
        # would fail the equivalence check on images too: any weights draw with replacement.)
        "check_sample_weights_pandas_series",
        "check_sample_weights_not_an_array",
        "check_sample_weights_list",
        "check_all_zero_sample_weights_error",
        "check_sample_weights_shape",
        "check_sample_weights_not_overwritten",
        "check_sample_weight_equivalence_on_dense_data",
    ]
}
EXPECTED_FAILURES.update(
    {
        "check_estimators_empty_data_messages": "empty input is refused with the image-stack wording, not '0 feature(s)'",
        "check_fit2d_1sample": "a 2-D table is refused before the sample count is looked at",
        "check_fit2d_1feature": "a 2-D table is refused before the feature count is looked at",
    }
)


class _TableTagged(UNetSegmenter):
    """UNetSegmenter claiming 2-D input, only so that sklearn runs its generic checks.

    With its real tags (3-D input only) ``parametrize_with_checks`` skips the
    estimator altogether; the API checks (parameters, cloning, tags, sparse
    and complex input, ``y=None``) still apply to image stacks.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        tags.input_tags.three_d_array = False
        return tags


@parametrize_with_checks(
    [_TableTagged(depth=1, base_channels=2, crop_size=8, max_epochs=1, validation_fraction=None, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
@pytest.mark.shared_data
def test_default_configuration_on_a_held_out_patient(shared_data_root):
    """The default model, trained on four shared patients, segments the fifth (several minutes)."""
    from skcardio.datasets import load_dataset

    data = load_dataset(shared_data_root)
    test = data.groups == "SCD0000301"
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)  # the real configuration, not the test one
    try:
        model = UNetSegmenter(random_state=0)
        model.fit(data.images[~test], data.y[~test], groups=data.groups[~test])
    finally:
        torch.set_num_threads(threads)
    assert dice_score(data.y[test], model.predict(data.images[test])) > 0.9


def test_segment_package_imports_torch_lazily():
    import subprocess
    import sys

    code = (
        "import sys, skcardio.segment as s; assert 'torch' not in sys.modules; "
        "assert s.UNetSegmenter.__name__ == 'UNetSegmenter'; assert 'torch' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_same_seed_same_model_when_fitted_in_threads(discs):
    # joblib's threading backend: PyTorch's one global RNG is shared by the
    # threads; each seeded fit must hold it alone, or the models differ.
    from concurrent.futures import ThreadPoolExecutor

    X, y = discs[0][:8], discs[1][:8]
    params = {**TINIEST, "max_epochs": 3}
    alone = UNetSegmenter(**params).fit(X, y).predict_proba(X)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(lambda: UNetSegmenter(**params).fit(X, y).predict_proba(X)) for _ in range(3)]
        results = [future.result() for future in futures]
    for proba in results:
        np.testing.assert_array_equal(proba, alone)


def test_predict_with_proba_is_predict_and_predict_proba(fitted, discs):
    X, _ = discs
    masks, proba = fitted.predict_with_proba(X[:4])
    np.testing.assert_array_equal(masks, fitted.predict(X[:4]))
    np.testing.assert_array_equal(proba, fitted.predict_proba(X[:4]))


class _ConstantNet(torch.nn.Module):
    """A network whose every logit is ``value``: a 1 x 1 convolution with zero weights and bias ``value``."""

    def __init__(self, value: float, in_channels: int = 1):
        super().__init__()
        self.head = torch.nn.Conv2d(in_channels, 1, kernel_size=1)
        torch.nn.init.zeros_(self.head.weight)
        torch.nn.init.constant_(self.head.bias, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)[:, 0]  # (n, H, W), as the U-Net's one target


@pytest.mark.parametrize(
    "value, message",
    [(-5.0, r"finds no blood pool in 8 of the 8 slices that have one"), (5.0, r"marks 100 % of every image as blood pool")],
)
def test_degenerate_predictions_names_empty_and_full_masks(value, message, discs):
    from skcardio.segment._unet_runtime import degenerate_predictions

    X, y = discs
    images = robust_scale(X[:8, None])
    assert re.fullmatch(message, degenerate_predictions(_ConstantNet(value), images, y[:8], 4, threshold=0.5))


@pytest.mark.parametrize(
    "threshold, message",
    [(0.5, r"finds no blood pool in 8 of the 8 slices that have one"), (0.45, r"marks 100 % of every image as blood pool")],
)
def test_degenerate_predictions_thresholds_probabilities_as_predict_does(threshold, message, discs):
    from skcardio.segment._unet_runtime import InferenceNet, degenerate_predictions

    # Logit 0 is probability 0.5: masks are where it exceeds the threshold (predict's rule), so
    # at 0.5 nothing is found and at 0.45 everything.
    X, y = discs
    net = _ConstantNet(0.0)
    images = robust_scale(X[:8, None])
    assert re.fullmatch(message, degenerate_predictions(net, images, y[:8], 4, threshold=threshold))
    model = UNetSegmenter(threshold=threshold, tta=False, refine=False, postprocess=False)
    model._set_fitted(InferenceNet(net, device="cpu"), "cpu", 1, 1, 0.0)  # as fit would leave it, with this network
    found = model.predict(X[:8])
    assert found.all() if threshold < 0.5 else not found.any()


def test_degenerate_predictions_accepts_a_working_model(fitted, discs):
    from skcardio.segment._unet_runtime import degenerate_predictions

    X, y = discs
    images = robust_scale(X[:, None])
    assert degenerate_predictions(fitted.net_.module_, images, y, 4, threshold=fitted.threshold) is None


def test_fit_warns_when_the_model_is_degenerate(discs, monkeypatch):
    from skcardio.segment import _unet

    X, y = discs
    seen = []

    def fake(module, images, masks, multiple, *, threshold):
        seen.append((type(module).__name__, len(images), threshold))
        return "finds no blood pool in 8 of the 8 slices that have one"

    monkeypatch.setattr(_unet, "degenerate_predictions", fake)
    advice = r"trained model finds no blood pool.*train longer \(max_epochs above 1\)"
    with pytest.warns(DegenerateModelWarning, match=advice) as caught:
        UNetSegmenter(**TINIEST, threshold=0.3).fit(X[:8], y[:8])
    assert seen == [("UNet", 8, 0.3)]  # the trained network itself, judged at the model's threshold
    assert issubclass(DegenerateModelWarning, SkcardioWarning)
    assert caught[0].filename == __file__  # stacklevel=2: the caller of fit
    # What skcardio train rewords (--epochs): the problem and the epochs, apart from the text.
    assert (caught[0].message.problem, caught[0].message.max_epochs) == (
        "finds no blood pool in 8 of the 8 slices that have one", TINIEST["max_epochs"]
    )


@pytest.mark.filterwarnings("ignore::skcardio.exceptions.DegenerateModelWarning")  # 2 epochs
def test_verbose_prints_epoch_loss_and_time_without_colour_codes(discs, capsys):
    X, y = discs
    UNetSegmenter(**{**TINIEST, "max_epochs": 2}, verbose=1).fit(X[:8], y[:8])
    printed = capsys.readouterr().out
    assert "\x1b" not in printed
    header, _, *rows = printed.strip().splitlines()
    assert header.split() == ["epoch", "train_loss", "dur"]
    assert [row.split()[0] for row in rows] == ["1", "2"]
    assert all(float(row.split()[2]) > 0 for row in rows)


# ------------------------------------------------------------ target="both"
