"""target="epicardium" and "both": two masks per slice, missing labels, and their score (mean_known_dice)."""

import numpy as np
import pytest
from scipy import ndimage

from _unet_discs import TINIEST, TINY, make_discs

from skcardio.metrics import dice_score
from skcardio.segment import UNetSegmenter
from skcardio.segment._unet_targets import mean_known_dice

# One PyTorch thread per test process: CI runs ``pytest -n 2`` on 2 cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_mean_known_dice_checks_weights_as_every_score():
    # target="both" scored with np.average on unchecked weights: -1 gave a negative mean, [0, 0] ZeroDivisionError.
    labels = np.zeros((2, 2, 4, 4), np.int8)
    labels[:, :, 1:3, 1:3] = 1
    pred = labels > 0
    pred[1] = False
    assert mean_known_dice(labels, pred, [1.0, 3.0]) == pytest.approx(0.25)
    for weights, message in (([-1, 2], "finite and >= 0"), ([0, 0], "not be all zero"), ([1], r"shape \(2,\)")):
        with pytest.raises(ValueError, match=message):
            mean_known_dice(labels, pred, weights)


def _rings(n: int, seed: int = 0):
    """Images of a bright pool inside a grey ring, and (n, 2, H, W) labels (pool, epicardium)."""
    X, pool = make_discs(n, seed=seed)
    epi = np.array([ndimage.binary_dilation(p, iterations=4) for p in pool])
    X = X + 80 * (epi & ~pool)
    return X, np.stack([pool, epi], axis=1)


@pytest.fixture(scope="module")
def fitted_both():
    X, y = _rings(16)
    labels = y.astype(np.int8)
    labels[::2, 1] = -1  # half the slices have no epicardial label
    return UNetSegmenter(**TINY, target="both", max_epochs=20, validation_fraction=None).fit(X, labels)


def test_both_targets_predict_two_channels(fitted_both):
    X, y = _rings(6, seed=3)
    masks, proba = fitted_both.predict(X), fitted_both.predict_proba(X)
    assert masks.shape == proba.shape == (6, 2, 64, 64) and masks.dtype == bool
    assert fitted_both.net_.module_.head.out_channels == 2 and fitted_both.target_ == "both"
    # Learnt something of both, though half the epicardia were unlabelled.
    assert dice_score(y[:, 0], masks[:, 0]) > 0.5 and dice_score(y[:, 1], masks[:, 1]) > 0.5
    # score averages the known channels of each slice
    unknown = y.astype(float)
    unknown[:, 1] = np.nan
    assert fitted_both.score(X, unknown) == pytest.approx(dice_score(y[:, 0], masks[:, 0]))
    both = np.mean([dice_score(y[:, c], masks[:, c], per_slice=True) for c in (0, 1)], axis=0).mean()
    assert fitted_both.score(X, y) == pytest.approx(both)


def test_both_targets_nan_pixels_are_background(fitted_both):
    X, _ = _rings(2, seed=4)
    X[:, :, :32] = np.nan
    assert not fitted_both.predict(X)[:, :, :, :32].any()
    assert not fitted_both.predict_proba(X)[:, :, :, :32].any()


@pytest.mark.filterwarnings("ignore::skcardio.exceptions.DegenerateModelWarning")  # two epochs
def test_both_targets_with_validation_and_groups():
    X, y = _rings(8)
    labels = y.astype(np.float32)
    labels[:4, 1] = np.nan
    model = UNetSegmenter(**{**TINIEST, "max_epochs": 2, "validation_fraction": 0.5}, target="both")
    model.fit(X, labels, groups=np.repeat([0, 1, 2, 3], 2))
    assert "valid_dice" in model.net_.history[-1]


def test_epicardium_target_is_a_single_mask():
    X, y = _rings(4)
    model = UNetSegmenter(**TINIEST, target="epicardium").fit(X, y[:, 1])
    assert model.predict(X).shape == (4, 64, 64)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda y: y[:, 0], r"shape \(4, 2, 64, 64\) for target='both'"),
        (lambda y: np.where(y, 2, 0), r"0/1 \(or -1 / NaN for an unknown label\), got .* e\.g\. 2"),
        (lambda y: np.concatenate([y[:, :1], np.where(np.arange(64) < 5, -1, y[:, 1:])], 1),
         r"y\[0, 1\] is partly unknown"),
        (lambda y: np.where(np.arange(4)[:, None, None, None] == 2, -1, y), "slice 2 of y has no known label"),
        (lambda y: y.astype(str), "boolean, integer or float"),
    ],
)
def test_both_targets_refuses_bad_labels(change, message):
    X, y = _rings(4)
    with pytest.raises(ValueError, match=message):
        UNetSegmenter(**TINIEST, target="both").fit(X, change(y.astype(np.int8)))


@pytest.mark.parametrize("target", ["myocardium", None, ["both"]])
def test_refuses_unknown_target(target):
    X, y = _rings(2)
    with pytest.raises(ValueError, match="target must be one of"):
        UNetSegmenter(**TINIEST, target=target).fit(X, y[:, 0])
