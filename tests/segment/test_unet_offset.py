"""The label offset: estimated per target from masks and labels, applied to probabilities.

The functions of ``_unet_offset`` on arrays; then ``UNetSegmenter(correct_offset=True)`` and
``calibrate_offset``, which measure and apply it.
"""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from _unet_discs import TINY, make_discs

from skcardio.metrics import dice_score
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_offset import estimate_label_offset, shift_proba

# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _square(top: int, left: int) -> np.ndarray:
    mask = np.zeros((40, 40))
    mask[top : top + 6, left : left + 6] = 1
    return mask


def test_offset_is_the_median_per_target_over_usable_slices():
    predicted = np.stack([np.stack([_square(10, 10), _square(8, 8)])] * 3) > 0
    labels = np.stack(
        [
            np.stack([_square(11, 10), _square(8, 9)]),
            np.stack([_square(11, 10), np.full((40, 40), -1.0)]),  # epicardium unknown: left out
            np.stack([_square(14, 15), np.zeros((40, 40))]),  # an outlier pool; an empty label: left out
        ]
    )
    offset = estimate_label_offset(predicted, labels)
    np.testing.assert_allclose(offset, [[1.0, 0.0], [0.0, 1.0]])  # the median resists the outlier
    # No usable slice for a target: no shift.
    np.testing.assert_array_equal(estimate_label_offset(predicted[:, :1], np.zeros((3, 1, 40, 40))), [[0.0, 0.0]])


def test_shift_moves_each_target_by_its_own_offset_and_zero_is_a_no_op():
    proba = np.stack([np.stack([_square(10, 10), _square(10, 10)])]).astype(np.float32)
    shifted = shift_proba(proba, np.array([[2.0, 0.0], [0.0, -3.0]]))
    np.testing.assert_array_equal(shifted[0, 0], _square(12, 10))
    np.testing.assert_array_equal(shifted[0, 1], _square(10, 7))
    assert shift_proba(proba, np.zeros((2, 2))) is proba
    assert shift_proba(proba[:, 0], np.array([[1.0, 1.0]])).shape == (1, 40, 40)
    with pytest.raises(ValueError, match=r"one \(row, col\) pair per target, 2, got shape \(1, 2\)"):
        shift_proba(proba, np.array([[1.0, 1.0]]))


def test_correct_offset_measures_a_label_displacement_that_flips_hide():
    # Labels drawn two rows below the discs: trained with flips, the network
    # cannot learn the displacement; correct_offset measures and applies it.
    X, y = make_discs(32, seed=0)
    lower = np.roll(y, 2, axis=1)
    model = UNetSegmenter(**TINY, max_epochs=40, validation_fraction=None, correct_offset=True).fit(X, lower)
    rows, cols = model.label_offset_[0]
    assert 1.5 < rows < 2.5 and abs(cols) < 0.5
    X_test, y_test = make_discs(8, seed=7)
    corrected = dice_score(np.roll(y_test, 2, axis=1), model.predict(X_test))
    model.label_offset_ = np.zeros((1, 2))
    assert corrected > dice_score(np.roll(y_test, 2, axis=1), model.predict(X_test)) + 0.02
    # The same estimate on a model trained without it, from its training slices: the offset
    # changes nothing in training, so calibrating a saved model is what fit would have done.
    plain = UNetSegmenter(**TINY, max_epochs=40, validation_fraction=None).fit(X, lower)
    assert not plain.label_offset_.any()
    plain.calibrate_offset(X, lower)
    np.testing.assert_array_equal(plain.label_offset_, [[rows, cols]])
    model.label_offset_ = plain.label_offset_
    np.testing.assert_array_equal(plain.predict_proba(X_test), model.predict_proba(X_test))


def test_calibrate_offset_starts_from_no_shift_and_refuses_misaligned_labels(fitted, discs, monkeypatch):
    from skcardio.segment import _unet_offset

    X, y = discs
    model = copy.deepcopy(fitted)
    expected = model.calibrate_offset(X, y).label_offset_.copy()
    model.label_offset_ = np.array([[3.0, 3.0]])  # a stale offset must not bias the new measurement
    np.testing.assert_array_equal(model.calibrate_offset(X, y).label_offset_, expected)
    monkeypatch.setattr(_unet_offset, "estimate_label_offset", lambda masks, labels: np.array([[12.0, 0.0]]))
    with pytest.raises(ValueError, match=r"labels sit \[\[12.0, 0.0\]\] .* more than 8 pixels"):
        model.calibrate_offset(X, y)
    np.testing.assert_array_equal(model.label_offset_, expected)  # left as it was


def test_offset_shifts_the_final_probabilities_after_tta_and_refine_and_before_the_region(fitted, discs):
    from scipy import ndimage

    X = discs[0][:3].copy()
    X[:, :, :8] = np.nan  # outside the region
    model = copy.deepcopy(fitted).set_params(tta=True, refine=True)
    unshifted = model.predict_proba(X)
    model.label_offset_ = np.array([[1.5, -2.0]])
    expected = ndimage.shift(unshifted, (0, 1.5, -2.0), order=1)
    expected[np.isnan(X)] = 0
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-6)
    assert not model.predict(X)[np.isnan(X)].any()


def test_offset_of_both_targets_and_old_pickles(discs):
    X, y = discs[0][:16], discs[1][:16]
    labels = np.stack([y, np.roll(y, -2, axis=2)], axis=1).astype(np.int8)  # epicardium 2 columns left
    model = UNetSegmenter(**TINY, target="both", max_epochs=40, validation_fraction=None, correct_offset=True)
    model.fit(X, labels)
    assert model.label_offset_.shape == (2, 2) and model.label_offset_[1, 1] < -1.0
    # A pickle of a model fitted before the offset existed: neither the parameter nor the attribute.
    old = copy.deepcopy(model)
    del old.correct_offset, old.label_offset_
    restored = pickle.loads(pickle.dumps(old))
    assert restored.correct_offset is False and restored.label_offset_.shape == (2, 2)
    assert clone(restored).get_params()["correct_offset"] is False
    zeroed = copy.deepcopy(model)
    zeroed.label_offset_ = np.zeros((2, 2))
    np.testing.assert_array_equal(restored.predict_proba(X[:2]), zeroed.predict_proba(X[:2]))


def test_calibrate_offset_needs_a_fitted_model_and_matching_labels(fitted, discs):
    X, y = discs
    with pytest.raises(NotFittedError):
        UNetSegmenter().calibrate_offset(X, y)
    with pytest.raises(ValueError, match="shape"):
        copy.deepcopy(fitted).calibrate_offset(X[:4], y[:3])
    assert fitted.label_offset_.shape == (1, 2) and not fitted.label_offset_.any()  # not estimated by default
