"""read_cine without ImagePositionPatient/ImageOrientationPatient: SliceLocation orders the slices, and the
header's distance wins where SliceLocation's steps disagree with it (``skcardio.io._cine_spacing``)."""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pydicom
import pytest

from _cine_studies import expected_volumes, set_tags, write_study

from skcardio.clinical import lv_volumes
from skcardio.exceptions import SkcardioWarning
from skcardio.io import read_cine


def _slice_locations(files, gaps, scale: float) -> None:
    """Strip the position and orientation; SliceLocation = ``scale`` x the position along the normal + 3 mm.

    On the shared studies SliceLocation is one scanner coordinate: the spacing times one component of
    the normal (SCD0000101: 6.72 mm steps for slices 10 mm apart).
    """
    positions = np.concatenate([[0.0], np.cumsum(gaps)])
    for (_, s), path in files.items():
        ds = pydicom.dcmread(path)
        del ds.ImagePositionPatient, ds.ImageOrientationPatient
        ds.SliceLocation = round(float(scale * positions[s] + 3.0), 4)
        ds.save_as(path)


def test_spacing_between_slices_wins_over_the_steps_of_slice_location(tmp_path, make_dicom):
    """The 4.8 mm steps were the slice spacing: volumes 40 % short (SCD0000101: EDV 127 instead of 189 mL)."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=4, n_slices=4, spacing=8.0)
    _slice_locations(files, [8.0] * 3, 0.6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = read_cine(tmp_path / "p")
    (warning,) = caught
    assert warning.category is SkcardioWarning and warning.filename == __file__
    assert str(warning.message) == (
        f"{tmp_path / 'p'}: SpacingBetweenSlices 8 mm disagrees with the 4.80 mm steps of SliceLocation: "
        "SpacingBetweenSlices used (without ImagePositionPatient/ImageOrientationPatient, SliceLocation, a scanner "
        "coordinate that need not step by the distance between slices (on the shared studies it is the spacing "
        "times one component of the slice normal: 6.72 mm for 10 mm), only orders the slices)"
    )
    g = study.geometry
    assert (g.position_source, g.spacing_source, g.slice_spacing) == ("SliceLocation", "SpacingBetweenSlices", 8.0)
    assert g.spacing_check == str(warning.message).split(": ", 1)[1]
    np.testing.assert_allclose(g.slice_positions, [3.0, 7.8, 12.6, 17.4])  # the order, in SliceLocation's mm
    np.testing.assert_allclose(g.disc_thickness, 8.0)
    np.testing.assert_allclose(lv_volumes(study.images > 500, g), expected_volumes(4, 4))
    np.testing.assert_array_equal(g.instance_numbers, [[s * 4 + p + 1 for s in range(4)] for p in range(4)])


def test_discs_keep_the_proportions_of_irregular_slice_locations(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=4, gaps=[8.0, 16.0, 8.0])
    _slice_locations(files, [8.0, 16.0, 8.0], 0.6)
    with pytest.warns(SkcardioWarning) as caught:
        g = read_cine(tmp_path / "p").geometry
    said = [str(w.message) for w in caught]
    assert any("irregular slice gap: 9.60 mm" in m for m in said) and any("SpacingBetweenSlices used" in m for m in said)
    assert (g.slice_spacing, g.spacing_source) == (8.0, "SpacingBetweenSlices")
    np.testing.assert_allclose(g.disc_thickness, [8.0, 12.0, 12.0, 8.0])


@pytest.mark.parametrize(
    "scale, tags, spacing, source, check",
    [
        # Steps shorter than the slices are thick, no SpacingBetweenSlices: the thickness.
        (0.6, {"SpacingBetweenSlices": None}, 8.0, "SliceThickness",
         "no SpacingBetweenSlices, and the 4.80 mm steps of SliceLocation are less than the SliceThickness 8 mm "
         "(the slices would overlap): SliceThickness used (without"),
        # Steps that agree with SpacingBetweenSlices, or longer than SliceThickness (a gap): SliceLocation.
        (1.0, {}, 8.0, "SliceLocation", "SpacingBetweenSlices 8 mm agrees with the 8.00 mm between positions"),
        (1.5, {"SpacingBetweenSlices": None}, 12.0, "SliceLocation",
         "no SpacingBetweenSlices; SliceThickness 8 mm, 12.00 mm between positions"),
    ],
)
def test_which_distance_is_the_slice_spacing(tmp_path, make_dicom, scale, tags, spacing, source, check):
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=3, spacing=8.0)
    _slice_locations(files, [8.0, 8.0], scale)
    set_tags(files, **tags)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = read_cine(tmp_path / "p").geometry
    assert (g.slice_spacing, g.spacing_source) == (pytest.approx(spacing), source)
    assert g.spacing_check.startswith(check)
    assert len(caught) == (source != "SliceLocation")  # a warning when SliceLocation is overruled
    np.testing.assert_allclose(g.disc_thickness, spacing)


@pytest.mark.shared_data
def test_real_study_without_positions(shared_data_root, tmp_path):
    """SCD0000101's first phase, stripped of ImagePositionPatient/Orientation: 10 mm, not SliceLocation's 6.72."""
    folder = shared_data_root / "dicoms" / "SCD0000101"
    reference = read_cine(folder).geometry
    for path in reference.paths[0]:
        shutil.copy(path, tmp_path)
    set_tags(list(tmp_path.glob("*.dcm")), ImagePositionPatient=None, ImageOrientationPatient=None)
    with pytest.warns(SkcardioWarning, match=r"SpacingBetweenSlices 10 mm disagrees with the 6\.72 mm steps"):
        g = read_cine(tmp_path).geometry
    assert (g.slice_spacing, g.spacing_source, g.position_source) == (10.0, "SpacingBetweenSlices", "SliceLocation")
    np.testing.assert_allclose(g.disc_thickness, reference.disc_thickness, atol=0.01)  # SliceLocation: 3 decimals
    # SliceLocation orders the slices as the positions do (here in the other direction along the normal).
    order = g.instance_numbers[0].tolist()
    assert order in (reference.instance_numbers[0].tolist(), reference.instance_numbers[0].tolist()[::-1])
