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
from skcardio.exceptions import ContourReadError, SkcardioWarning, StudyError
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
    # A string key never matches: it read "not an image of the study (instances 1-4)" for "1".
    path.write_text("1 1\n5 1\n5 5\n")
    with pytest.raises(ValueError, match=r"c\.txt: contours must be keyed by the image's InstanceNumber as an int, got '1'"):
        expert_masks(study, {"1": path, 2: path})


def test_contour_enclosing_no_pixel_is_left_out_with_a_warning(tmp_path, make_dicom):
    """Counted, a contour outside the image added 0 to the expert's volume and the model's area to the model's:
    a model-vs-expert EF difference of +27.4 points instead of +1.4 on a real study."""
    write_study(make_dicom, tmp_path / "p", n_phases=4, n_slices=3)
    study = read_cine(tmp_path / "p")
    paths = {}
    for instance in (1, 3, 5, 7):  # phases 0 and 2 of slices 0 and 1
        paths[instance] = tmp_path / f"{instance}.txt"
        paths[instance].write_text("10 10\n20 10\n20 20\n10 20\n")
    paths[7].write_text("300 300\n350 300\n350 350\n")  # phase 2 of slice 1, outside the 48 x 48 image
    with pytest.warns(SkcardioWarning) as caught:
        masks, observed = expert_masks(study, paths)
    assert [str(w.message) for w in caught] == [
        f"{paths[7]}: the contour encloses no pixel of its image (3 of its 3 point(s) lie outside the 48x48 image): "
        "left out of the expert's images and volumes"
    ]
    assert caught[0].filename == __file__  # stacklevel: the caller's line
    np.testing.assert_array_equal(observed.nonzero(), ([0, 0, 2], [0, 1, 0]))
    # The model finds the square on every contoured image and a disc on the one left out.
    model = masks.copy()
    model[2, 1, 20:30, 20:30] = True
    with pytest.warns(SkcardioWarning, match=r"7\.txt: the contour encloses no pixel"):
        row = measure_study(study, model, contours=paths).row()
    assert row["expert_images"] == 3
    assert row["model_on_expert_esv_ml"] == row["expert_esv_ml"] and row["model_on_expert_ef_diff_points"] == 0

    paths[7].write_text("10.2 10.2\n10.6 10.2\n10.6 10.6\n")  # inside, between pixel centres
    with pytest.warns(SkcardioWarning, match=r"it encloses no pixel centre of the 48x48 image \(area 0\.08 px²\)"):
        _, observed = expert_masks(study, paths)
    assert observed.sum() == 3
    with pytest.warns(SkcardioWarning), pytest.raises(
        StudyError,
        match=rf"SYN001 \({re.escape(str(Path(study.geometry.paths[0, 0]).parent))}\): none of the 1 expert contour\(s\) "
        rf"encloses a pixel of its image, e.g. {re.escape(str(paths[7]))}",
    ):
        measure_study(study, model, contours={7: paths[7]})
