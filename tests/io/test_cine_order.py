"""read_cine's slice positions and phase order (``skcardio.io._cine_order``) on synthetic studies.

Images without a TriggerTime among timed ones, positions jittered within a slice; the exports rank
the phases of a position by the same rule.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pydicom
import pytest

from _cine_studies import NORMAL, phantom, set_tags, write_study

from skcardio.exceptions import SkcardioWarning, StudyError
from skcardio.io import group_by_phase, read_cine, read_dicom

#: ``write_study``'s instance numbers, ``[phase][slice]``, for 6 phases of 3 slices.
INSTANCES = [[s * 6 + p + 1 for s in range(3)] for p in range(6)]


def _move(path, mm: float) -> None:
    """Move an image ``mm`` along the stack normal."""
    ds = pydicom.dcmread(path)
    ds.ImagePositionPatient = [float(v) for v in np.array(ds.ImagePositionPatient, dtype=float) + mm * NORMAL]
    ds.save_as(path)


def test_an_image_without_trigger_time_keeps_its_phase(tmp_path, make_dicom):
    """Ranked by time, it came after the timed images of its slice: phase 5 of 6, every later phase moved up
    by one without a word (SCD0000101 without 45.dcm's TriggerTime: EDV 189.39 -> 189.74 mL)."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags([files[2, 1]], TriggerTime=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = read_cine(tmp_path / "p")
    (warning,) = caught
    assert warning.category is SkcardioWarning and warning.filename == __file__  # stacklevel=2: the caller
    assert str(warning.message).startswith(
        f"{tmp_path / 'p'}: no TriggerTime in 1 of 18 file(s) (9.dcm), unlike the others: the phases of their "
        "1 slice position(s) ("
    )
    assert "mm) are ranked by InstanceNumber instead (their trigger_times are NaN)" in str(warning.message)
    g = study.geometry
    np.testing.assert_array_equal(g.instance_numbers, INSTANCES)
    for (p, s), path in files.items():
        assert g.paths[p, s] == str(path)
        np.testing.assert_array_equal(study.images[p, s], phantom(p, s, 6, 3))
    assert np.isnan(g.trigger_times[2, 1]) and np.isfinite(np.delete(g.trigger_times.ravel(), 2 * 3 + 1)).all()
    assert len(study.notes) == 1


def test_a_slice_without_trigger_times_beside_timed_ones_is_said(tmp_path, make_dicom):
    """Its images were ranked by InstanceNumber already (all at the end, in order); now the study says so."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags([files[p, 2] for p in range(6)], TriggerTime=None)
    with pytest.warns(SkcardioWarning, match=r"no TriggerTime in 6 of 18 file\(s\) \(13\.dcm, 14\.dcm, 15\.dcm, "
                                             r"16\.dcm and 2 more\), unlike the others: the phases of their 1 slice "
                                             r"position\(s\) \(\S+ mm\) are ranked by InstanceNumber"):
        study = read_cine(tmp_path / "p")
    np.testing.assert_array_equal(study.geometry.instance_numbers, INSTANCES)


def test_no_trigger_time_at_all_is_ranked_by_instance_number_without_a_word(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags(files, TriggerTime=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study = read_cine(tmp_path / "p")
    np.testing.assert_array_equal(study.geometry.instance_numbers, INSTANCES)
    assert study.notes == ()


def test_no_trigger_time_and_no_instance_number_is_an_error_naming_the_files(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags([files[2, 1]], TriggerTime=None, InstanceNumber=None)
    with pytest.raises(StudyError, match=r"p: no TriggerTime in 1 of the 6 images at slice position \S+ mm "
                                         r"\(9\.dcm\), unlike the others, and no InstanceNumber in 9\.dcm to rank "
                                         r"them by: their phases cannot be told"):
        read_cine(tmp_path / "p")


def test_a_slice_without_trigger_times_nor_instance_numbers_beside_timed_ones_is_an_error(tmp_path, make_dicom):
    """Its images would be ranked by file name."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags([files[p, 2] for p in range(6)], TriggerTime=None)
    set_tags([files[3, 2]], InstanceNumber=None)
    with pytest.raises(StudyError, match=r"no TriggerTime in 6 of the 6 images at slice position \S+ mm \(13\.dcm, "
                                         r"14\.dcm, 15\.dcm, 16\.dcm and 2 more\), unlike the others, and no "
                                         r"InstanceNumber in 16\.dcm to rank them by"):
        read_cine(tmp_path / "p")


def test_instance_numbers_out_of_time_order_cannot_place_an_untimed_image(tmp_path, make_dicom):
    """Where the timed images' InstanceNumbers do not follow their trigger times, neither order is sure."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags([files[2, 1]], TriggerTime=None)
    set_tags([files[0, 1]], InstanceNumber=11)  # phase 0 (5 ms) and phase 4 (205 ms) swap their numbers
    set_tags([files[4, 1]], InstanceNumber=7)
    with pytest.raises(StudyError, match=r"no TriggerTime in 1 of the 6 images at slice position \S+ mm "
                                         r"\(9\.dcm\), unlike the others, and the InstanceNumbers of the others do "
                                         r"not follow their trigger times \(11\.dcm: InstanceNumber 7, 205 ms; "
                                         r"8\.dcm: InstanceNumber 8, 55 ms\)"):
        read_cine(tmp_path / "p")


def test_an_untimed_copy_of_an_image_is_a_duplicate(tmp_path, make_dicom):
    """Ranked last, the copy was an extra phase ("a phase is missing or extra"); it is named as the copy."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    copy = tmp_path / "p" / "99.dcm"
    shutil.copy(files[2, 1], copy)
    set_tags([copy], TriggerTime=None)
    with pytest.raises(StudyError, match=r"duplicate images: 9\.dcm and 99\.dcm share slice position \S+ mm and "
                                         r"InstanceNumber 9 \(no trigger time tells them apart\)"):
        read_cine(tmp_path / "p")


def test_exports_rank_the_phases_as_read_cine(tmp_path, make_dicom):
    """The SEG files of a phase (group_by_phase) hold the images of that phase in report.csv."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    set_tags([files[2, 1]], TriggerTime=None)
    keys = list(files)
    phases = group_by_phase([read_dicom(files[k], pixels=False) for k in keys])
    assert [sorted(keys[i] for i in phase) for phase in phases] == [[(p, s) for s in range(3)] for p in range(6)]


def test_jittered_positions_are_one_slice(tmp_path, make_dicom):
    """Images of a slice ±0.3 mm apart fell apart into positions of a few phases ("a phase is missing")."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    jitter = np.linspace(-0.3, 0.3, 6)
    for (p, s), path in files.items():
        _move(path, jitter[(p + 2 * s) % 6])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        study = read_cine(tmp_path / "p")
    g = study.geometry
    np.testing.assert_array_equal(g.instance_numbers, INSTANCES)
    # Each slice at the median of its images: the jitter moves no slice, nor the discs.
    origin = np.array([10.0, -20.0, 30.0]) @ NORMAL
    np.testing.assert_allclose(g.slice_positions, origin + np.array([0.0, 8.0, 16.0]), atol=1e-9)
    np.testing.assert_allclose(g.disc_thickness, 8.0)
    assert g.slice_spacing == pytest.approx(8.0) and study.notes == ()


def test_images_spread_over_millimetres_are_refused(tmp_path, make_dicom):
    """Each within 0.5 mm of the next, together 2.25 mm deep: no slice, but a stack of thin ones."""
    from skcardio.io._cine_order import POSITION_SPREAD_MM, POSITION_TOLERANCE_MM

    assert (POSITION_TOLERANCE_MM, POSITION_SPREAD_MM) == (0.5, 2.0)  # as docs/clinical.md states
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=3)
    for p in range(6):
        _move(files[p, 1], 0.45 * p)
    with pytest.raises(StudyError, match=r"p: 6 images from \S+ mm \(7\.dcm\) to \S+ mm \(12\.dcm\) along the "
                                         r"stack normal \(ImagePositionPatient\), each within 0\.5 mm of the next, "
                                         r"spread over 2\.25 mm: more than the 2\.0 mm of one slice position"):
        read_cine(tmp_path / "p")
