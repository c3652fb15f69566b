"""read_cine: grouping one patient's DICOMs into a cine study, on synthetic and real studies."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pydicom
import pytest
from _hostile import deny_folders
from pydicom.uid import generate_uid

from _cine_studies import NORMAL, phantom, set_tags, write_study

from skcardio.exceptions import SkcardioWarning, StudyError
from skcardio.io import find_dicom_files, read_cine


def test_study_shape_order_and_geometry(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=6, n_slices=4)
    study = read_cine(tmp_path / "p")
    g = study.geometry
    assert study.images.shape == (6, 4, 48, 48) and study.images.dtype == np.float32
    assert (g.n_phases, g.n_slices) == (6, 4)
    # Positions along the oblique normal: 8 mm apart, ascending.
    np.testing.assert_allclose(np.diff(g.slice_positions), 8.0, atol=1e-6)
    origin = np.array([10.0, -20.0, 30.0])
    assert g.slice_positions[0] == pytest.approx(origin @ NORMAL)
    assert g.slice_spacing == pytest.approx(8.0) and g.spacing_source == "ImagePositionPatient"
    assert "agrees" in g.spacing_check
    assert g.pixel_spacing == (1.5, 1.5) and g.heart_rate == 60 and g.heart_rate_source == "HeartRate"
    for (p, s), path in files.items():
        assert g.paths[p, s] == str(path)
        assert g.instance_numbers[p, s] == s * 6 + p + 1
        assert g.trigger_times[p, s] == p * 50.0 + 5
        np.testing.assert_array_equal(study.images[p, s], phantom(p, s, 6, 4))
    np.testing.assert_allclose(g.disc_thickness, 8.0)
    assert study.set_aside == () and study.notes == ()
    assert study.patient_id == "SYN001"


def test_files_given_in_any_order(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=3)
    shuffled = [files[k] for k in sorted(files, key=lambda k: (-k[0], k[1]))]
    study = read_cine(shuffled)
    np.testing.assert_array_equal(study.geometry.instance_numbers[:, 0], [1, 2, 3])


def test_localiser_is_set_aside(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=3)
    scout = make_dicom(tmp_path / "p" / "900.dcm", phantom(0, 0, 3, 3), instance=900, patient_id="SYN001",
                       ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 3)
    assert [(a.path, a.reason) for a in study.set_aside] == [(str(scout), "localiser (ImageType ORIGINAL\\PRIMARY\\LOCALIZER)")]


def test_other_orientation_and_repeating_series_are_set_aside(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=3)
    # A long-axis image in the same series, and a second short-axis series at the same positions.
    lax = make_dicom(tmp_path / "p" / "500.dcm", phantom(0, 0, 3, 3), instance=500, patient_id="SYN001",
                     ImageOrientationPatient=[1, 0, 0, 0, 1, 0], ImagePositionPatient=[0, 0, 0])
    write_study(make_dicom, tmp_path / "p" / "repeat", n_phases=2, n_slices=1, series_number=9)
    study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 3)
    reasons = {a.path: a.reason for a in study.set_aside}
    assert reasons[str(lax)].startswith("another orientation (ImageOrientationPatient 1\\0\\0\\0\\1\\0")
    repeated = [r for p, r in reasons.items() if "repeat" in p]
    assert len(repeated) == 2 and all("another series (SeriesNumber 9) that repeats slice positions" in r for r in repeated)


def test_one_series_per_slice_is_joined(tmp_path, make_dicom):
    # Scanners that write one series per slice position: every series of the stack is used.
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    uids = {0: generate_uid(), 1: generate_uid()}
    for (_, s), path in files.items():
        import pydicom

        ds = pydicom.dcmread(path)
        ds.SeriesInstanceUID, ds.SeriesNumber = uids[s], 10 + s
        ds.save_as(path)
    study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 2) and len(study.geometry.series) == 2
    assert study.set_aside == ()


def test_missing_phase_is_an_error_naming_files(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=4, n_slices=3, skip={(2, 1)})
    with pytest.raises(StudyError, match=r"1 slice position\(s\) do not have the 4 phase\(s\) of the other 2: "
                                         r"position .* mm has 3 \(5\.dcm, 6\.dcm, 8\.dcm\); a phase is missing"):
        read_cine(tmp_path / "p")


@pytest.mark.parametrize("factor, one_slice", [(0.98, True), (1.02, False)])
def test_images_within_the_position_tolerance_are_one_slice(tmp_path, make_dicom, factor, one_slice):
    import pydicom

    from skcardio.io._cine import POSITION_TOLERANCE_MM

    assert POSITION_TOLERANCE_MM == 0.5  # as docs/clinical.md states
    offset = factor * POSITION_TOLERANCE_MM  # just inside / just outside the gap that starts a new position
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    ds = pydicom.dcmread(files[1, 1])  # one image of the second slice, moved along the normal
    ds.ImagePositionPatient = [float(v) for v in np.array(ds.ImagePositionPatient, dtype=float) + offset * NORMAL]
    ds.save_as(files[1, 1])
    if one_slice:
        assert read_cine(tmp_path / "p").images.shape[:2] == (3, 2)
    else:  # a position of its own, with one phase
        with pytest.raises(StudyError, match=r"a phase is missing"):
            read_cine(tmp_path / "p")


def test_truncated_file_is_named(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    data = files[1, 1].read_bytes()
    files[1, 1].write_bytes(data[: len(data) // 2])
    with pytest.raises(StudyError, match=r"a phase is missing or extra \(unreadable file\(s\) in the folder: 5\.dcm; the first: "
                                         r"truncated pixel data: .* bytes, expected 4608 for 48x48 at 16 bits\)"):
        read_cine(tmp_path / "p")


def test_truncated_extra_file_is_set_aside(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    (tmp_path / "p" / "junk.dcm").write_bytes(files[0, 0].read_bytes()[:300])  # an image cut short
    with pytest.warns(SkcardioWarning) as caught:  # set aside without a word: the study could lack images
        study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 2)
    (item,) = study.set_aside
    assert item.path.endswith("junk.dcm") and item.reason.startswith("unreadable: ")
    assert item.unreadable
    (warning,) = caught
    assert warning.filename == __file__  # stacklevel: the caller's line
    assert str(warning.message).startswith(
        f"{tmp_path / 'p'}: 1 of 7 file(s) cannot be read as DICOM images, set aside: junk.dcm ("
    )
    assert str(warning.message).endswith("(set_aside lists each with its reason); the study is read without them, "
                                         "and may lack images")
    assert study.notes == (str(warning.message).split(": ", 1)[1],)


def test_a_file_with_a_garbled_header_is_set_aside_and_the_study_read(tmp_path, make_dicom):
    """One corrupt byte in (0002,0002)'s VR: pydicom's NotImplementedError ended read_cine (and report's patient)."""
    from _hostile import garbled_vr

    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    bad = tmp_path / "p" / "bad_vr.dcm"
    bad.write_bytes(files[0, 0].read_bytes())
    garbled_vr(bad)
    with pytest.warns(SkcardioWarning, match=r"1 of 7 file\(s\) cannot be read as DICOM images, set aside: bad_vr\.dcm"):
        study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 2)
    (item,) = study.set_aside
    assert item.unreadable and item.path == str(bad)
    assert item.reason == (f"unreadable: {bad}: truncated or corrupt DICOM: cannot convert MediaStorageSOPClassUID "
                           "(0002,0002) (NotImplementedError: Unknown Value Representation '0x55 0xf6' in tag (0002,0002))")


def test_many_unreadable_files_are_counted_in_one_warning(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=3)
    for n in range(1, 6):
        (tmp_path / "p" / f"junk{n}.dcm").write_bytes(files[0, 0].read_bytes()[:300])  # images cut short
    with pytest.warns(SkcardioWarning) as caught:
        study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 3) and len(files) == 9
    (warning,) = caught
    assert re.search(r"5 of 14 file\(s\) cannot be read as DICOM images, set aside: junk1\.dcm \(.*\), junk2\.dcm, "
                     r"junk3\.dcm and 2 more \(set_aside lists", str(warning.message))


def test_duplicate_image_is_an_error(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    (tmp_path / "p" / "copy.dcm").write_bytes(files[1, 0].read_bytes())
    with pytest.raises(StudyError, match=r"duplicate images: (2\.dcm and copy\.dcm|copy\.dcm and 2\.dcm) share slice "
                                         r"position .* and trigger time 55 ms"):
        read_cine(tmp_path / "p")


def test_mixed_image_sizes_are_an_error(tmp_path, make_dicom):
    import pydicom

    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    ds = pydicom.dcmread(files[2, 0])  # 3.dcm, cropped to 40 rows in the same series
    ds.Rows = 40
    ds.PixelData = np.zeros((40, 48), np.int16).tobytes()
    ds.save_as(files[2, 0])
    with pytest.raises(StudyError, match=r"mixed image sizes in the stack: \(48, 48\) in 5 file\(s\), other values "
                                         r"in 1: 3\.dcm \(\(40, 48\)\)"):
        read_cine(tmp_path / "p")


def test_series_of_another_size_is_set_aside(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    write_study(make_dicom, tmp_path / "p" / "small", n_phases=2, n_slices=1, shape=(32, 32), series_number=7, gaps=[])
    study = read_cine(tmp_path / "p")
    assert study.images.shape == (3, 2, 48, 48)
    assert [a.reason for a in study.set_aside] == [
        "another series (SeriesNumber 7) that repeats slice positions of the main series (SeriesNumber 5)"
    ] * 2


def test_several_patients_are_an_error(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    write_study(make_dicom, tmp_path / "p" / "other", n_phases=2, n_slices=1, patient_id="SYN002")
    with pytest.raises(StudyError, match=r"files of 2 patients \(SYN001: 4 file\(s\), SYN002: 2 file\(s\)\)"):
        read_cine(tmp_path / "p")


def test_irregular_gap_warns_and_discs_follow_the_gaps(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=4, gaps=[8.0, 16.0, 8.0])
    with pytest.warns(SkcardioWarning, match=r"irregular slice gap: 16\.00 mm between positions .* \(3\.dcm\) and "
                                             r".* \(5\.dcm\), median gap 8\.00 mm") as caught:
        study = read_cine(tmp_path / "p")
    np.testing.assert_allclose(study.geometry.disc_thickness, [8, 12, 12, 8])
    # SpacingBetweenSlices (8) agrees with the median gap: no second warning.
    assert len(caught) == 1 and len(study.notes) == 1


def test_header_spacing_disagreeing_with_positions(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=3, gaps=[10.0, 10.0])  # header says 8
    with pytest.warns(SkcardioWarning, match=r"SpacingBetweenSlices 8 mm disagrees with the 10\.00 mm between positions; positions used"):
        study = read_cine(tmp_path / "p")
    assert study.geometry.slice_spacing == pytest.approx(10.0)


def test_one_slice_uses_the_header_spacing(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=1, spacing=7.0)
    g = read_cine(tmp_path / "p").geometry
    assert (g.slice_spacing, g.spacing_source) == (7.0, "SpacingBetweenSlices")


def test_heart_rate_from_nominal_interval(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2, heart_rate=None, NominalInterval=800)
    g = read_cine(tmp_path / "p").geometry
    assert (g.heart_rate, g.heart_rate_source) == (75.0, "NominalInterval")


def test_find_dicom_files(tmp_path, make_dicom):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "IM0001").write_bytes(b"x")
    (tmp_path / "a" / ".hidden").write_bytes(b"x")
    assert [p.name for p in find_dicom_files(tmp_path / "a")] == ["IM0001"]
    (tmp_path / "a" / "1.DCM").write_bytes(b"x")
    # Every file whatever its name: IM0001 was dropped (silently) once a *.dcm file came beside it.
    assert [p.name for p in find_dicom_files(tmp_path / "a")] == ["1.DCM", "IM0001"]
    with pytest.raises(StudyError, match="not a folder"):
        find_dicom_files(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(StudyError, match="no file found"):
        find_dicom_files(tmp_path / "empty")


def test_files_of_any_name_are_read(tmp_path, make_dicom):
    """A slice of *.DICOM files beside *.dcm ones was dropped without a word (a study of 2 slices, not 3); so were
    240 files without an extension beside one stray *.dcm file (only the stray one read)."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=3)
    for (_, slice_), path in files.items():
        if slice_ == 1:
            path.rename(path.with_suffix(".DICOM"))
        elif slice_ == 2:
            path.rename(path.with_suffix(""))
    study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (3, 3) and study.set_aside == ()
    assert sorted(p.rsplit("/", 1)[1] for p in study.geometry.paths[:, 1]) == ["4.DICOM", "5.DICOM", "6.DICOM"]


def test_special_entries_are_set_aside_and_named(tmp_path, make_dicom):
    """A pipe, a broken link and a link to a folder were passed over in silence (not listed anywhere)."""
    import os

    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    os.mkfifo(tmp_path / "p" / "pipe")
    (tmp_path / "p" / "gone.dcm").symlink_to(tmp_path / "nowhere.dcm")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "p" / "more").symlink_to(tmp_path / "elsewhere")
    # Only the broken link may have been an image (its target is missing): the pipe and the folder never were.
    with pytest.warns(SkcardioWarning, match=r"1 of 7 file\(s\) cannot be read as DICOM images"):
        study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (2, 2)
    reasons = {a.path.rsplit("/", 1)[1]: a.reason for a in study.set_aside}
    assert set(reasons) == {"pipe", "gone.dcm", "more"}
    assert [a.path.rsplit("/", 1)[1] for a in study.set_aside if a.unreadable] == ["gone.dcm"]
    assert reasons["pipe"] == f"not a DICOM image: {tmp_path / 'p' / 'pipe'}: not a regular file"
    assert reasons["more"] == f"not a DICOM image: {tmp_path / 'p' / 'more'}: not a regular file"
    assert f"gone.dcm: a broken link (to {tmp_path / 'nowhere.dcm'}, which does not exist)" in reasons["gone.dcm"]


def test_files_that_are_not_dicom_are_set_aside_without_a_warning(tmp_path, make_dicom):
    """A notes.txt or a DICOMDIR cannot have been an image: set aside, not counted as unreadable, no warning."""
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    (tmp_path / "p" / "notes.txt").write_text("acquired on the old scanner\n")
    image = sorted((tmp_path / "p").iterdir())[0]
    (tmp_path / "p" / "cut.dcm").write_bytes(image.read_bytes()[:300])  # DICOM, cut short: may be an image
    index = pydicom.dcmread(image)
    del index.PixelData, index.Rows, index.Columns
    index.save_as(tmp_path / "p" / "DICOMDIR")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (2, 2)
    reasons = {a.path.rsplit("/", 1)[1]: a for a in study.set_aside}
    assert set(reasons) == {"notes.txt", "DICOMDIR", "cut.dcm"}
    assert [name for name, a in reasons.items() if a.unreadable] == ["cut.dcm"]
    assert reasons["notes.txt"].reason.endswith("notes.txt: not DICOM, no 'DICM' at byte 128")
    assert reasons["DICOMDIR"].reason.endswith("DICOMDIR: a DICOMDIR, the index of a DICOM medium")
    assert all(a.reason.startswith("not a DICOM image: ") for a in reasons.values() if not a.unreadable)
    assert [str(w.message).split(": ", 1)[1][:45] for w in caught] == ["1 of 7 file(s) cannot be read as DICOM images"]


def test_emptied_files_of_a_slice_are_images_lost(tmp_path, make_dicom):
    """An interrupted copy leaves empty files: the apex slice's were set aside as 'not DICOM' without a word."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=3)
    for (_, slice_), path in files.items():
        if slice_ == 2:
            path.write_bytes(b"")
    with pytest.warns(SkcardioWarning, match=r"2 of 6 file\(s\) cannot be read as DICOM images"):
        study = read_cine(tmp_path / "p")
    assert study.images.shape[:2] == (2, 2)
    assert len(study.set_aside) == 2 and all(a.unreadable for a in study.set_aside)


@pytest.mark.parametrize("junk", [False, True])
def test_study_byte_limit_is_kept(tmp_path, make_dicom, junk):
    """The limit error made read_cine re-read every file one by one with no running total: a 63 MB study was read
    under a limit of 10 MB (and so, with an unreadable file beside the images, in any case)."""
    from skcardio.exceptions import DicomReadError
    from skcardio.io import limits_context

    write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    if junk:
        (tmp_path / "p" / "0junk.dcm").write_bytes(b"x")
    one = 48 * 48 * 4  # bytes of one float32 image
    with limits_context(max_study_bytes=4 * one):
        with pytest.raises(DicomReadError, match=rf"with this image, the images read take {5 * one} bytes: their size "
                                                 rf"exceeds the limit max_study_bytes={4 * one} \(raise it with"):
            read_cine(tmp_path / "p")
    with limits_context(max_study_bytes=6 * one), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_cine(tmp_path / "p").images.shape[:2] == (3, 2)


def test_hidden_folders_are_not_read(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    (tmp_path / "p" / ".snapshots").mkdir()
    (tmp_path / "p" / ".snapshots" / "1.dcm").write_bytes(b"x")
    assert [p.name for p in find_dicom_files(tmp_path / "p")] == ["1.dcm", "2.dcm", "3.dcm", "4.dcm"]


def test_folders_nested_too_deeply_are_an_error_naming_them(tmp_path):
    """1100 nested folders raised RecursionError through read_cine and report (os.walk before Python 3.12)."""
    from _hostile import nested_folders

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "1.dcm").write_bytes(b"x")
    with nested_folders(tmp_path / "p") as deepest:
        (deepest / "2.dcm").write_bytes(b"x")
        deeper = tmp_path.joinpath("p", *["d"] * 101)
        with pytest.raises(StudyError, match=re.escape(f"{deeper}: folder nested more than 100 levels deep: not read; "
                                                       f"expected every folder of the study {tmp_path / 'p'} to be")):
            find_dicom_files(tmp_path / "p")


def test_unreadable_subfolder_is_an_error_naming_it(tmp_path, make_dicom, monkeypatch):
    # Path.rglob passed over a folder it could not list: the study lost a slice without a word.
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=3)
    (tmp_path / "p" / "extra").mkdir()
    for (_, slice_), path in files.items():
        if slice_ == 2:
            path.rename(tmp_path / "p" / "extra" / path.name)
    assert read_cine(tmp_path / "p").images.shape[:2] == (2, 3)
    deny_folders(monkeypatch, tmp_path / "p" / "extra")
    expected = re.escape(f"{tmp_path / 'p' / 'extra'}: cannot read folder: permission denied; expected every folder of the study")
    with pytest.raises(StudyError, match=expected):
        read_cine(tmp_path / "p")
    deny_folders(monkeypatch, tmp_path / "p")
    with pytest.raises(StudyError, match=re.escape(f"{tmp_path / 'p'}: cannot read folder: permission denied")):
        find_dicom_files(tmp_path / "p")


@pytest.mark.shared_data
def test_real_studies(shared_data_root):
    expected = {"SCD0000101": (12, 10.0), "SCD0000301": (10, 8.0)}
    for patient, (n_slices, spacing) in expected.items():
        study = read_cine(shared_data_root / "dicoms" / patient)
        g = study.geometry
        assert study.images.shape == (20, n_slices, 256, 256)
        assert g.slice_spacing == pytest.approx(spacing, abs=1e-3)
        assert (g.trigger_times == np.sort(g.trigger_times, axis=0)).all()
        # Every file used once; instance numbers run slice by slice with 20 phases.
        assert sorted(g.instance_numbers.ravel()) == list(range(1, 20 * n_slices + 1))
        assert (np.diff(g.instance_numbers, axis=0) == 1).all()
        assert study.set_aside == () and study.notes == ()


def test_selected_slices_are_said_not_to_be_a_cine_study():
    """The embedded sample holds contoured slices only: the error says it is not a complete cine study."""
    from skcardio.datasets import get_sample_path

    with pytest.raises(StudyError, match=r"a phase is missing or extra; most positions hold a single image, so "
                                         r"these look like selected slices, not a complete cine study"):
        read_cine(get_sample_path() / "dicoms" / "SCD0000101")


@pytest.mark.parametrize("value", [0, 1e300])
def test_one_position_with_a_non_physical_spacing_is_an_error(tmp_path, make_dicom, value):
    """The header gives a single position's spacing: 0 gave volumes of 0. A bad SpacingBetweenSlices is
    noted and SliceThickness used; when that is bad too, the study is refused."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=1)
    set_tags(files, SpacingBetweenSlices=value, SliceThickness=value)
    said = re.escape(f"{value:g}")
    with pytest.raises(StudyError, match=rf"p: one slice position, whose slice spacing would be SliceThickness "
                                         rf"{said} mm in 3 of 3 file\(s\) \(1\.dcm, 2\.dcm, 3\.dcm\): expected slice "
                                         r"distances within \[0\.001, 100\] mm"):
        read_cine(tmp_path / "p")
    set_tags(files, SliceThickness=8.0)  # a good thickness beside the bad spacing: used
    with pytest.warns(SkcardioWarning, match=rf"SpacingBetweenSlices {said} mm .* ignored"):
        g = read_cine(tmp_path / "p").geometry
    assert (g.slice_spacing, g.spacing_source) == (8.0, "SliceThickness")


def test_negative_spacing_between_slices_is_its_size(tmp_path, make_dicom):
    """Some vendors write SpacingBetweenSlices negative: -10 gave negative volumes (ED and ES swapped)."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=1)
    set_tags(files, SpacingBetweenSlices=-10, SliceThickness=8)
    g = read_cine(tmp_path / "p").geometry
    assert (g.slice_spacing, g.spacing_source) == (10.0, "SpacingBetweenSlices")


def test_non_physical_header_spacing_beside_positions_is_ignored_with_a_warning(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=3)
    set_tags(files, SpacingBetweenSlices=1e300, SliceThickness=0)
    with pytest.warns(SkcardioWarning) as caught:
        g = read_cine(tmp_path / "p").geometry
    said = [str(w.message) for w in caught]
    assert len(said) == 2 and all(w.filename == __file__ for w in caught)  # stacklevel: the caller's line
    assert said[0].endswith("SpacingBetweenSlices 1e+300 mm in 6 of 6 file(s) (1.dcm, 3.dcm, 5.dcm, 2.dcm and 2 more) "
                            "ignored: expected slice distances within [0.001, 100] mm (short-axis slices lie 5-10 mm "
                            "apart and are as thick; the whole left ventricle is about 100 mm long)")
    assert "SliceThickness 0 mm in 6 of 6 file(s)" in said[1]
    assert (g.slice_spacing, g.spacing_source) == (pytest.approx(8.0), "ImagePositionPatient")
    assert np.isnan(g.slice_thickness) and g.spacing_check == "no SpacingBetweenSlices or SliceThickness to compare with"


def test_slices_further_apart_than_any_heart_are_an_error(tmp_path, make_dicom):
    """A position of 1e300 is refused by read_dicom; one 29 m away gave a slice spacing of metres."""
    write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=3, gaps=[8.0, 29_000.0])
    with pytest.raises(StudyError, match=r"neighbouring slice positions .* mm \(3\.dcm\) and .* mm \(5\.dcm\) lie "
                                         r"29000 mm apart along the stack normal \(ImagePositionPatient\): expected "
                                         r"slice distances within \[0\.001, 100\] mm"):
        read_cine(tmp_path / "p")
    write_study(make_dicom, tmp_path / "q", n_phases=2, n_slices=2, spacing=100.0)  # at the bound: read
    assert read_cine(tmp_path / "q").geometry.slice_spacing == pytest.approx(100.0)


@pytest.mark.parametrize(
    "tags, rate, source, says",
    [
        # A cardiac output of 19,552,793 L/min.
        ({"HeartRate": 1e9, "NominalInterval": 800}, 75.0, "NominalInterval",
         ["HeartRate 1e+09 bpm in 4 of 4 file(s) (1.dcm, 3.dcm, 2.dcm, 4.dcm) ignored: expected heart rates within "
          "[10, 1000] beats per minute"]),
        ({"HeartRate": 5, "NominalInterval": 1}, np.nan, "",
         ["HeartRate 5 bpm in 4 of 4 file(s)",
          "NominalInterval 1 ms (R-R interval) in 4 of 4 file(s) (1.dcm, 3.dcm, 2.dcm, 4.dcm) ignored: expected "
          "heart rates within [10, 1000] beats per minute (human hearts beat 25-300 times a minute, a mouse's up to "
          "700), an interval of 60-6000 ms"]),
        ({"HeartRate": 1000, "NominalInterval": 6000}, 1000.0, "HeartRate", []),  # the bounds are in
        ({"HeartRate": 0, "NominalInterval": 6000}, 10.0, "NominalInterval", []),  # 0: no ECG, as absent
    ],
)
def test_non_physical_heart_rate_is_ignored_with_a_warning(tmp_path, make_dicom, tags, rate, source, says):
    import warnings

    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2, heart_rate=None)
    set_tags(files, **tags)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g = read_cine(tmp_path / "p").geometry
    assert all(w.category is SkcardioWarning for w in caught)
    assert len(caught) == len(says) and all(text in str(w.message) for w, text in zip(caught, says))
    assert g.heart_rate == pytest.approx(rate, nan_ok=True) and g.heart_rate_source == source


def test_missing_pixel_spacing_is_named(tmp_path, make_dicom):
    """NaN != NaN: the error spoke of 'mixed pixel spacings: (nan, nan) in 1 file(s), other values in 6'."""
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    set_tags([files[1, 1]], PixelSpacing=None)
    with pytest.raises(StudyError, match=r"no PixelSpacing \(0028,0030\) in 1 of 4 files: 4\.dcm; areas and volumes "
                                         r"in mm need the pixel spacing of every image"):
        read_cine(tmp_path / "p")
    set_tags(files, PixelSpacing=None)
    with pytest.raises(StudyError, match=r"p: no PixelSpacing \(0028,0030\) in any file; areas"):
        read_cine(tmp_path / "p")
