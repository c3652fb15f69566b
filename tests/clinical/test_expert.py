"""Expert volumes from i-contours, checked against a computation written independently here."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest

from _cine_studies import write_study

from skcardio.clinical import expert_areas, expert_masks, lv_volumes, measure_study, volumes_from_areas
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
    contours = contours_of(shared_data_root, patient)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every slice contoured at both phases: nothing to warn about
        measurement = measure_study(study, expert_masks(study, contours)[0], contours=contours)
    volumes = measurement.expert_volumes
    reference = independent_expert_volumes(shared_data_root, patient)
    assert sorted(reference) == list(np.flatnonzero(np.isfinite(volumes)))
    for phase, expected in reference.items():
        # rel 1e-5: the independent spacing is the median gap of positions rounded to 0.1 mm.
        assert volumes[phase] == pytest.approx(expected, rel=1e-5), phase
    ed, es = max(reference, key=reference.get), min(reference, key=reference.get)
    assert (measurement.expert.ed_phase, measurement.expert.es_phase) == (ed, es)
    independent_ef = 100 * (reference[ed] - reference[es]) / reference[ed]
    assert measurement.expert.ef == pytest.approx(independent_ef, rel=1e-5)
    # The masks count every pixel whose centre is inside or on the polygon: half a
    # boundary pixel more than the polygon's area (1.8-2.8 % here), which is why
    # the expert's volumes are not taken from them.
    from_masks = lv_volumes(measurement.expert_masks, study.geometry, observed=measurement.expert_observed)
    for phase, expected in reference.items():
        assert 0.01 < from_masks[phase] / expected - 1 < 0.035, (phase, from_masks[phase], expected)


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
    measurement = measure_study(study, masks, contours=paths)  # the expert's masks as the "model"
    # The expert's volume from the 10 x 10 px squares as drawn; the masks count 11 x 11 pixel centres.
    assert measurement.expert.edv == pytest.approx(2 * 100 * 1.5 * 1.5 * 8 / 1000)
    assert measurement.model_on_expert.edv == pytest.approx(2 * 121 * 1.5 * 1.5 * 8 / 1000)
    areas, observed_too = expert_areas(study, paths)
    np.testing.assert_array_equal(observed_too, observed)
    np.testing.assert_allclose(areas[observed], 100 * 1.5 * 1.5)
    assert not areas[~observed].any()
    np.testing.assert_allclose(
        volumes_from_areas(areas, study.geometry, observed=observed), measurement.expert_volumes, equal_nan=True
    )
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
        "left out of the expert's images and volumes",
        # What leaving it out does to the volumes: slice 1 is missing from phase 2's.
        "SYN001: the expert contoured 1 slice(s) at some of the contoured phases [0, 2] but not at others: "
        "slice 1 at phase(s) [0] (instance(s) [5]), not at [2]. Each counts 0 in the expert's volume of a phase without its "
        "contour; expected the same slices at every contoured phase",
    ]
    assert {w.filename for w in caught} == {__file__}  # stacklevel: the caller's line
    np.testing.assert_array_equal(observed.nonzero(), ([0, 0, 2], [0, 1, 0]))
    # The model finds the square on every contoured image and a disc on the one left out.
    model = masks.copy()
    model[2, 1, 20:30, 20:30] = True
    with pytest.warns(SkcardioWarning, match=r"7\.txt: the contour encloses no pixel"), pytest.warns(
        SkcardioWarning, match="contoured 1 slice"
    ):
        row = measure_study(study, model, contours=paths).row()
    assert row["expert_images"] == 3
    # The model's masks on the expert's images: 11 x 11 pixel centres where the expert drew 10 x 10 px.
    assert row["model_on_expert_esv_ml"] == pytest.approx(1.21 * row["expert_esv_ml"])
    assert row["model_on_expert_ef_diff_points"] == pytest.approx(0, abs=1e-9)

    paths[7].write_text("10.2 10.2\n10.6 10.2\n10.6 10.6\n")  # inside, between pixel centres
    with pytest.warns(
        SkcardioWarning, match=r"it encloses no pixel centre of the 48x48 image \(area 0\.08 px²\)"
    ), pytest.warns(SkcardioWarning, match="contoured 1 slice"):
        _, observed = expert_masks(study, paths)
    assert observed.sum() == 3
    with pytest.warns(SkcardioWarning), pytest.raises(
        StudyError,
        match=rf"SYN001 \({re.escape(str(Path(study.geometry.paths[0, 0]).parent))}\): none of the 1 expert contour\(s\) "
        rf"lies within its image and encloses a pixel of it \(each left out with a warning\), "
        rf"e.g. {re.escape(str(paths[7]))}",
    ):
        measure_study(study, model, contours={7: paths[7]})


@pytest.mark.parametrize(
    "points, says",
    [
        # Within max_contour_coordinate: the shoelace area of the polygon gave an expert EDV of 7.5e8 mL, EF 100.
        ("1e5 1e5\n-1e5 1e5\n-1e5 -1e5\n1e5 -1e5\n", "the contour goes beyond its image (4 of its 4 point(s) lie "
         "outside the 48x48 image; polygon area 4e+10 px², 2304 pixel(s) inside the image)"),
        # One corner a pixel past the edge: its polygon is not its mask either.
        ("10 10\n20 10\n20 48\n10 20\n", "the contour goes beyond its image (1 of its 4 point(s) lie outside the "
         "48x48 image; polygon area 240 px², 270 pixel(s) inside the image)"),
    ],
    ids=["huge", "one-point"],
)
def test_contour_beyond_the_image_is_left_out_with_a_warning(tmp_path, make_dicom, points, says):
    """Its polygon's area was the expert's, its clipped mask the model's: an absurd expert EDV and EF, no word."""
    write_study(make_dicom, tmp_path / "p", n_phases=4, n_slices=3)
    study = read_cine(tmp_path / "p")
    paths = {}
    for instance in (1, 3, 5, 7):  # phases 0 and 2 of slices 0 and 1
        paths[instance] = tmp_path / f"{instance}.txt"
        paths[instance].write_text("10 10\n20 10\n20 20\n10 20\n")
    paths[1].write_text(points)  # phase 0 of slice 0
    with pytest.warns(SkcardioWarning) as caught:
        areas, observed = expert_areas(study, paths)
    assert str(caught[0].message) == f"{paths[1]}: {says}: left out of the expert's images and volumes"
    assert caught[0].filename == __file__ and "contoured 1 slice" in str(caught[1].message)
    np.testing.assert_array_equal(observed.nonzero(), ([0, 2, 2], [1, 0, 1]))
    assert areas.max() == pytest.approx(100 * 1.5 * 1.5)
    model = np.zeros(study.images.shape, bool)
    model[:, :, 10:21, 10:21] = True
    with pytest.warns(SkcardioWarning, match="goes beyond its image"), pytest.warns(SkcardioWarning, match="contoured"):
        m = measure_study(study, model, contours=paths)
    assert m.expert.edv == pytest.approx(2 * 100 * 1.5 * 1.5 * 8 / 1000)  # phase 2: two squares; not 7.5e8 mL
    assert m.row()["expert_images"] == 3


def test_a_slice_contoured_at_one_phase_only_is_named(tmp_path, make_dicom):
    """A missing mid-ventricular contour counts 0 in that phase's expert volume: said, with the slices named."""
    write_study(make_dicom, tmp_path / "p", n_phases=4, n_slices=3)
    study = read_cine(tmp_path / "p")
    instances = study.geometry.instance_numbers
    square = "10 10\n20 10\n20 20\n10 20\n"
    paths = {}
    for phase, slice_ in [(0, 0), (0, 1), (0, 2), (2, 0), (2, 2)]:  # slice 1 not contoured at phase 2
        instance = int(instances[phase, slice_])
        paths[instance] = tmp_path / f"{instance}.txt"
        paths[instance].write_text(square)
    with pytest.warns(SkcardioWarning) as caught:
        areas, observed = expert_areas(study, paths)
    assert len(caught) == 1
    assert str(caught[0].message) == (
        f"SYN001: the expert contoured 1 slice(s) at some of the contoured phases [0, 2] but not at others: "
        f"slice 1 at phase(s) [0] (instance(s) [{instances[0, 1]}]), not at [2]. Each counts 0 in the expert's "
        "volume of a phase without its contour; expected the same slices at every contoured phase"
    )
    assert caught[0].filename == __file__
    volumes = volumes_from_areas(areas, study.geometry, observed=observed)
    assert volumes[2] == pytest.approx(volumes[0] * 2 / 3)  # what the warning is about
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same slices at both phases: no warning
        paths[int(instances[2, 1])] = paths[int(instances[0, 1])]
        expert_areas(study, paths)
