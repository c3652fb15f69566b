"""segment_study and measure_study on a synthetic phantom with known volumes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from _cine_studies import expected_volumes, write_study

from skcardio.clinical import measure_study, segment_study
from skcardio.exceptions import SkcardioWarning
from skcardio.io import read_cine


class Bright:
    """A stand-in segmenter: pixels above 500, counting its calls."""

    def __init__(self):
        self.batches = []

    def predict(self, X):
        self.batches.append(len(X))
        return np.asarray(X) > 500


def test_automatic_volumes_of_the_phantom(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=4, heart_rate=75)
    study = read_cine(tmp_path / "p")
    segmenter, seen = Bright(), []
    masks = segment_study(study, segmenter, batch_size=7, progress=seen.append)
    assert segmenter.batches == [7, 7, 7, 3] and seen == segmenter.batches
    measurement = measure_study(study, masks)
    expected = expected_volumes(6, 4)
    np.testing.assert_allclose(measurement.volumes, expected)
    f = measurement.function
    assert (f.ed_phase, f.es_phase) == (int(np.argmax(expected)), int(np.argmin(expected)))
    assert f.ef == pytest.approx(100 * (expected.max() - expected.min()) / expected.max())
    assert f.cardiac_output == pytest.approx((expected.max() - expected.min()) * 75 / 1000)
    assert measurement.selection.keep.all() and measurement.expert is None
    row = measurement.row()
    assert row["slices_kept"] == 4 and math.isnan(row["expert_ef_pct"]) and math.isnan(row["auto_ef_diff_points"])


def test_no_slice_kept_gives_nan(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    study = read_cine(tmp_path / "p")
    measurement = measure_study(study, np.zeros(study.images.shape, bool))
    assert np.isnan(measurement.volumes).all() and math.isnan(measurement.function.ef)
    assert measurement.function.ed_phase == -1


def test_one_phase_study_has_no_ef(tmp_path, make_dicom):
    # Selected slices of one phase are a study too; its "EF" must not read 0.
    write_study(make_dicom, tmp_path / "p", n_phases=1, n_slices=3)
    study = read_cine(tmp_path / "p")
    with pytest.warns(SkcardioWarning, match="only 1 of 1 phase"):
        measurement = measure_study(study, Bright().predict(study.images))
    assert np.isfinite(measurement.volumes).all()
    assert math.isnan(measurement.function.ef) and math.isnan(measurement.row()["ef_pct"])
