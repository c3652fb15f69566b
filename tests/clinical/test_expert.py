"""Expert volumes from i-contours, checked against a computation written independently here."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest

from _cine_studies import write_study

from skcardio.clinical import cardiac_function, expert_masks, lv_volumes, measure_study
from skcardio.exceptions import ContourReadError, StudyError
from skcardio.io import read_cine

PATIENTS = ["SCD0000101", "SCD0000201", "SCD0000301", "SCD0000401", "SCD0000501"]


def shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)))


def independent_expert_volumes(root: Path, patient: str) -> dict[int, float]:
    """{phase: mL} from polygon areas x pixel spacing x slice spacing, with pydicom only."""
    original = {row["patient_id"]: row["original_id"] for row in csv.DictReader((root / "link.csv").open())}[patient]
    headers = {}
    for path in (root / "dicoms" / patient).glob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        cosines = np.array(ds.ImageOrientationPatient, float)
        normal = np.cross(cosines[:3], cosines[3:])
        headers[int(ds.InstanceNumber)] = (
            float(np.dot(np.array(ds.ImagePositionPatient, float), normal)),
            float(ds.TriggerTime),
            float(ds.PixelSpacing[0]) * float(ds.PixelSpacing[1]),
        )
    positions = np.unique(np.round([h[0] for h in headers.values()], 1))
    spacing = float(np.median(np.diff(positions)))
    volumes: dict[int, float] = {}
    for path in (root / "contourfiles" / original / "i-contours").glob("*-icontour-manual.txt"):
        instance = int(re.search(r"IM-0001-(\d{4})", path.name).group(1))
        position, time, pixel_area = headers[instance]
        same_slice = sorted(t for d, t, _ in headers.values() if abs(d - position) < 0.5)
        phase = same_slice.index(time)
        area = shoelace(np.loadtxt(path))
        volumes[phase] = volumes.get(phase, 0.0) + area * pixel_area * spacing / 1000
    return volumes


def contours_of(root: Path, patient: str) -> dict[int, Path]:
    original = {row["patient_id"]: row["original_id"] for row in csv.DictReader((root / "link.csv").open())}[patient]
    folder = root / "contourfiles" / original / "i-contours"
    return {int(re.search(r"IM-0001-(\d{4})", p.name).group(1)): p for p in folder.glob("*.txt")}


@pytest.mark.shared_data
@pytest.mark.parametrize("patient", PATIENTS)
def test_expert_volumes_match_polygon_areas(shared_data_root, patient):
    study = read_cine(shared_data_root / "dicoms" / patient)
    masks, observed = expert_masks(study, contours_of(shared_data_root, patient))
    volumes = lv_volumes(masks, study.geometry, observed=observed)
    reference = independent_expert_volumes(shared_data_root, patient)
    assert sorted(reference) == list(np.flatnonzero(np.isfinite(volumes)))
    for phase, expected in reference.items():
        # Masks count every pixel whose centre is inside or on the polygon:
        # half a boundary pixel more than the polygon's area, 1.5-3 % here.
        assert 0 < volumes[phase] / expected - 1 < 0.035, (phase, volumes[phase], expected)
    function = cardiac_function(volumes)
    ed, es = max(reference, key=reference.get), min(reference, key=reference.get)
    assert (function.ed_phase, function.es_phase) == (ed, es)
    independent_ef = 100 * (reference[ed] - reference[es]) / reference[ed]
    assert function.ef == pytest.approx(independent_ef, abs=0.5)


def test_expert_on_a_synthetic_study(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=4, n_slices=3)
    study = read_cine(tmp_path / "p")
    square = "10 10\n20 10\n20 20\n10 20\n"
    paths = {}
    for instance in (1, 3, 5, 7):  # phases 0 and 2 of slices 0 and 1
        paths[instance] = tmp_path / f"{instance}.txt"
        paths[instance].write_text(square)
    masks, observed = expert_masks(study, paths)
    np.testing.assert_array_equal(observed.nonzero(), ([0, 0, 2, 2], [0, 1, 0, 1]))
    assert masks[0, 0].sum() == 121 and masks[1].sum() == 0
    measurement = measure_study(study, masks, contours=paths)  # masks as the "model": identical to the expert
    assert measurement.expert.edv == pytest.approx(2 * 121 * 1.5 * 1.5 * 8 / 1000)
    assert measurement.model_on_expert.edv == pytest.approx(measurement.expert.edv)
    row = measurement.row()
    assert row["expert_images"] == 4 and row["model_on_expert_ef_diff_points"] == 0


def test_contour_of_an_unknown_instance(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    study = read_cine(tmp_path / "p")
    path = tmp_path / "c.txt"
    path.write_text("1 1\n5 1\n5 5\n")
    with pytest.raises(StudyError, match=r"c\.txt: contour of instance 99, which is not an image of the study \(instances 1-4\)"):
        expert_masks(study, {99: path})
    path.write_text("1 1\nx 1\n5 5\n")
    with pytest.raises(ContourReadError, match="c.txt"):
        expert_masks(study, {1: path})
