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


def _ejection_fractions_per_patient_scan(masks, *, groups, phases, voxel_ml):
    """ejection_fractions as first written: every image compared with each patient and phase."""
    masks = np.asarray(masks)
    groups, phases, voxel_ml = (np.asarray(a) for a in (groups, phases, voxel_ml))
    volumes = masks.reshape(len(masks), -1).sum(axis=1) * voxel_ml.astype(float)
    result = {}
    for patient in dict.fromkeys(groups.tolist()):
        mine = groups == patient
        per_phase = [volumes[mine & (phases == p)].sum() for p in np.unique(phases[mine])]
        if len(per_phase) < 2:
            raise ValueError(f"patient {patient!r} has images of {len(per_phase)} phase(s); an EF needs at least 2")
        largest = max(per_phase)
        result[patient] = 100.0 * (largest - min(per_phase)) / largest if largest > 0 else np.nan
    return result


def _cohort(seed, patients=30):
    """Shuffled images of patients with 2-20 phases of 1-15 slices (more than 8: numpy's pairwise sums)."""
    rng = np.random.default_rng(seed)
    groups, phases = [], []
    for patient in range(patients):
        n_phases, n_slices = rng.integers(2, 21), rng.integers(1, 16)
        groups += [f"SC-{patient}"] * (n_phases * n_slices)
        phases += list(np.repeat(rng.choice(30, n_phases, replace=False) * 37.5, n_slices))  # trigger times
    order = rng.permutation(len(groups))
    masks = rng.random((len(groups), 6, 6)) < rng.uniform(0.1, 0.9, (len(groups), 1, 1))
    voxel_ml = rng.uniform(0.01, 0.05, len(groups))
    return masks[order], np.array(groups)[order], np.array(phases)[order], voxel_ml[order]


@pytest.mark.parametrize("seed", range(4))
def test_ejection_fractions_are_those_of_scanning_every_patient(seed):
    """Grouped once, not found patient by patient: the same patients, in the same order, the same EFs bit for bit."""
    masks, groups, phases, voxel_ml = _cohort(seed)
    masks[groups == groups[0]] = False  # an empty pool: EF NaN
    cases = [
        (groups, phases),
        (np.unique(groups, return_inverse=True)[1], phases),  # integer ids
        (groups.astype(object), phases.astype(int)),
        (groups, np.where(phases == phases[1], np.nan, phases)),  # a NaN phase: nothing equals it
    ]
    for ids, times in cases:
        expected = _ejection_fractions_per_patient_scan(masks, groups=ids, phases=times, voxel_ml=voxel_ml)
        got = ejection_fractions(masks, groups=ids, phases=times, voxel_ml=voxel_ml)
        assert list(got) == list(expected)
        np.testing.assert_array_equal(list(got.values()), list(expected.values()))  # NaN where NaN
        assert all(type(got[p]) is type(expected[p]) for p in got)


@pytest.mark.parametrize(
    "groups, phases",
    [
        (["a", "a", "b", "c", "c"], [0, 1, 0, 0, 0]),  # b: 1 phase, first met
        (["a", "a", "b", "b", "c"], [0, 1, 0, 0, 5]),  # b: one phase twice
        ([1.0, 1.0, np.nan, np.nan, 2.0], [0, 1, 0, 1, 0]),  # a NaN id matches no image: 0 phases
    ],
)
def test_too_few_phases_are_named_as_before(groups, phases):
    masks = stack([5, 4, 3, 2, 1])
    with pytest.raises(ValueError) as expected:
        _ejection_fractions_per_patient_scan(masks, groups=groups, phases=phases, voxel_ml=np.ones(5))
    with pytest.raises(ValueError, match=f"^{expected.value}$".replace("(", r"\(").replace(")", r"\)")):
        ejection_fractions(masks, groups=groups, phases=phases, voxel_ml=np.ones(5))


class _Counted:
    """A patient id or phase whose comparisons are counted (in ``_Counted.comparisons``)."""

    comparisons = 0

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return hash(self.value)

    def __eq__(self, other):
        _Counted.comparisons += 1
        return self.value == getattr(other, "value", other)

    def __ne__(self, other):
        return not self == other

    def __lt__(self, other):
        return self.value < other.value

    def __repr__(self):
        return f"_Counted({self.value!r})"


def test_ids_are_compared_about_once_per_image_not_once_per_patient_and_image():
    """Grouping costs the images, not patients x images (2.1 s for 1,000 patients).

    Every image's patient id was compared with each patient, and its phase
    with each phase of each patient: 50 patients of 20 images made over
    50,000 comparisons; grouping once makes about 3 per image.
    """
    patients, n_phases = 50, 20
    n = patients * n_phases
    masks = np.zeros((n, 2, 2), bool)
    masks[:, 0] = True
    masks[::n_phases, 1] = True  # phase 0 is the largest: every EF is 50 %
    groups = np.array([_Counted(i // n_phases) for i in range(n)], dtype=object)  # one object per image
    phases = np.array([_Counted(i % n_phases) for i in range(n)], dtype=object)
    _Counted.comparisons = 0
    efs = ejection_fractions(masks, groups=groups, phases=phases, voxel_ml=np.ones(n))
    assert len(efs) == patients and set(efs.values()) == {50.0}
    assert _Counted.comparisons <= 4 * n, _Counted.comparisons
