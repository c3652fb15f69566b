"""ejection_fractions, ef_absolute_error and the grouped-CV scorer."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator
from sklearn.model_selection import GroupKFold, cross_validate

from skcardio.metrics import ef_absolute_error, ejection_fractions, make_ef_scorer


def stack(pixels_per_image, size=10):
    masks = np.zeros((len(pixels_per_image), size, size), bool)
    for mask, n in zip(masks, pixels_per_image):
        mask.flat[:n] = True
    return masks


def test_ejection_fractions_by_hand():
    # Patient a: phase 0 = 40 + 20 px, phase 1 = 20 + 10 px -> EF 50 %; patient b: 30 px vs 24 px -> 20 %.
    masks = stack([40, 20, 20, 10, 30, 24])
    efs = ejection_fractions(masks, groups=["a"] * 4 + ["b"] * 2, phases=[0, 0, 1, 1, 0, 1], voxel_ml=np.full(6, 0.02))
    assert list(efs) == ["a", "b"]
    assert efs["a"] == pytest.approx(50.0) and efs["b"] == pytest.approx(20.0)


def test_voxel_volume_weights_each_image():
    # Same pixels, but the second slice's discs are twice as thick: 10*1 + 10*2 = 30 vs 5*1 + 10*2 = 25.
    masks = stack([10, 10, 5, 10])
    efs = ejection_fractions(masks, groups=[1] * 4, phases=[0, 0, 1, 1], voxel_ml=[1, 2, 1, 2])
    assert efs[1] == pytest.approx(100 * 5 / 30)


def test_error_is_a_mean_over_patients():
    y_true = stack([40, 20, 30, 24])
    y_pred = stack([40, 30, 30, 24])
    error = ef_absolute_error(y_true, y_pred, groups=["a", "a", "b", "b"], phases=[0, 1, 0, 1], voxel_ml=np.ones(4))
    assert error == pytest.approx((50 - 25) / 2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(groups=["a", "a"], phases=[0, 1, 0], voxel_ml=[1, 1, 1]), r"groups must have one value per mask \(3\)"),
        (dict(groups=["a", "a", "b"], phases=[0, 1, 0], voxel_ml=[1, 1, 1]), "patient 'b' has images of 1 phase"),
    ],
)
def test_bad_metadata(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ef_absolute_error(stack([1, 2, 3]), stack([1, 2, 3]), **kwargs)


class Shrink(BaseEstimator):
    """Predicts the truth with ``rows`` rows removed: under-segments small pools most."""

    def __init__(self, rows=0):
        self.rows = rows

    def fit(self, X, y):
        return self

    def predict(self, X):
        masks = np.asarray(X) > 0.5
        masks[:, : self.rows] = False
        return masks


def test_scorer_in_grouped_cross_validation():
    y = np.zeros((8, 20, 20), bool)
    for i, rows in enumerate([12, 6, 12, 6, 14, 10, 14, 10]):
        y[i, 4 : 4 + rows, 2:18] = True
    X = y.astype(np.float32)
    meta = {"groups": np.repeat(["p1", "p2"], 4), "phases": np.tile([0, 1], 4), "voxel_ml": np.full(8, 0.018)}
    with sklearn.config_context(enable_metadata_routing=True):
        exact = cross_validate(Shrink(), X, y, cv=GroupKFold(2), scoring=make_ef_scorer(), params=meta)
        shrunk = cross_validate(Shrink(rows=6), X, y, cv=GroupKFold(2), scoring=make_ef_scorer(), params=meta)
    np.testing.assert_allclose(exact["test_score"], 0, atol=1e-12)
    # Removing rows 0-5 cuts rows 4 and 5 from every pool; each fold tests one patient.
    def ef(ed, es):
        return 100 * (ed - es) / ed

    expected = sorted([-abs(ef(12, 6) - ef(10, 4)), -abs(ef(14, 10) - ef(12, 8))])
    np.testing.assert_allclose(sorted(shrunk["test_score"]), expected)
