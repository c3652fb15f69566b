"""DICOM SEG and NIfTI exports, checked by reading them back with highdicom and nibabel."""

import re
import sys
import warnings

import numpy as np
import pydicom
import pytest

from skcardio.exceptions import ExportError, SkcardioWarning
from skcardio.io import group_by_phase, read_dicom, read_header, write_dicom_seg, write_nifti

hd = pytest.importorskip("highdicom")
nib = pytest.importorskip("nibabel")

#: An oblique short-axis orientation (row direction, column direction), orthonormal.
_ROW = np.array([0.6, 0.8, 0.0])
_COL = np.array([0.0, 0.0, -1.0])
_NORMAL = np.cross(_ROW, _COL)
_SPACING = (1.5, 1.25)  # (between rows, between columns) mm


def _stack(tmp_path, make_dicom, depths=(0.0, 8.0, 16.0), phases=2, *, series=None, shape=(6, 5), shift=None):
    """Synthetic cine DICOMs: one file per (position, phase); returns their paths in a scrambled order."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    origin = np.array([10.0, -20.0, 30.0])
    series = series or "1.2.3.4.5"
    paths = []
    instance = 1
    for k, depth in enumerate(depths):
        for t in range(phases):
            position = origin + depth * _NORMAL + (shift if (shift is not None and k == 1 and t == 1) else 0)
            pixels = (np.arange(np.prod(shape)).reshape(shape) * (k + 1) + t).astype(np.int16)
            paths.append(make_dicom(
                tmp_path / f"{instance}.dcm", pixels, instance=instance, spacing=_SPACING,
                ImagePositionPatient=[float(v) for v in position],
                ImageOrientationPatient=[float(v) for v in (*_ROW, *_COL)],
                TriggerTime=40.0 * t, StudyInstanceUID="1.2.3.4", SeriesInstanceUID=series,
                FrameOfReferenceUID="1.2.3.4.9", SeriesNumber=7,
            ))
            instance += 1
    rng = np.random.default_rng(0)
    return [paths[i] for i in rng.permutation(len(paths))]


def _masks(n, shape=(6, 5), seed=0):
    return np.random.default_rng(seed).random((n, *shape)) > 0.5


# --------------------------------------------------------------------- NIfTI


def test_nifti_voxels_land_on_their_dicom_pixels(tmp_path, make_dicom):
    paths = _stack(tmp_path, make_dicom)
    slices = [read_dicom(p, pixels=False) for p in paths]
    masks = _masks(len(paths))
    volume = nib.load(write_nifti(masks, slices, tmp_path / "m.nii.gz"))
    data = np.asarray(volume.dataobj)
    assert data.shape == (5, 6, 3, 2) and data.dtype == np.uint8
    assert volume.header.get_xyzt_units() == ("mm", "msec")
    assert volume.header.get_zooms() == pytest.approx((1.25, 1.5, 8.0, 40.0))
    assert int(volume.header["qform_code"]) == int(volume.header["sform_code"]) == 1
    inverse = np.linalg.inv(volume.affine)
    for s, mask in zip(slices, masks):
        # Every pixel [row, col] of the slice, placed in LPS by the DICOM rule,
        # converted to RAS, must fall on the voxel holding that pixel's mask value.
        rows, cols = np.mgrid[: mask.shape[0], : mask.shape[1]]
        lps = (np.array(s.image_position)[:, None, None] + cols * _SPACING[1] * _ROW[:, None, None]
               + rows * _SPACING[0] * _COL[:, None, None])
        ras = lps * np.array([-1.0, -1.0, 1.0])[:, None, None]
        ijk = np.tensordot(inverse[:3, :3], ras, axes=1) + inverse[:3, 3][:, None, None]
        np.testing.assert_allclose(ijk, np.round(ijk), atol=1e-6)
        i, j, k = np.round(ijk).astype(int)
        phase = int(s.trigger_time // 40)
        np.testing.assert_array_equal(data[i, j, k, phase], mask.astype(np.uint8))


def test_nifti_single_slice_is_one_slice_volume(tmp_path, make_dicom):
    path = _stack(tmp_path, make_dicom, depths=(0.0,), phases=1)[0]
    mask = _masks(1)
    volume = nib.load(write_nifti(mask, [read_dicom(path, pixels=False)], tmp_path / "one.nii"))
    assert volume.shape == (5, 6, 1)
    np.testing.assert_array_equal(np.asarray(volume.dataobj)[:, :, 0].T, mask[0])
    # Third axis: the slice thickness (8 mm in make_dicom) along the normal, in RAS.
    np.testing.assert_allclose(volume.affine[:3, 2], 8.0 * _NORMAL * [-1, -1, 1], atol=1e-9)
    np.testing.assert_allclose(volume.affine[:3, 3], [-10.0, 20.0, 30.0])


@pytest.mark.parametrize("thickness", [1e300, -8.0])
def test_nifti_single_slice_of_a_non_physical_thickness_is_1_mm_thick(tmp_path, make_dicom, thickness):
    """A SliceThickness of 1e300 was inf in the affine (float32), as a PixelSpacing of 1e200 was."""
    path = _stack(tmp_path, make_dicom, depths=(0.0,), phases=1)[0]
    ds = pydicom.dcmread(path)
    ds.SliceThickness = thickness
    ds.save_as(path)
    volume = nib.load(write_nifti(_masks(1), [read_dicom(path, pixels=False)], tmp_path / "one.nii"))
    assert np.isfinite(volume.affine).all() and np.isfinite(volume.header.get_qform()).all()
    np.testing.assert_allclose(volume.affine[:3, 2], _NORMAL * [-1, -1, 1], atol=1e-6)


def test_nifti_written_the_same_whatever_the_input_order(tmp_path, make_dicom):
    paths = _stack(tmp_path, make_dicom)
    slices = [read_dicom(p, pixels=False) for p in paths]
    masks = _masks(len(paths))
    a = nib.load(write_nifti(masks, slices, tmp_path / "a.nii"))
    b = nib.load(write_nifti(masks[::-1], slices[::-1], tmp_path / "b.nii"))
    np.testing.assert_array_equal(np.asarray(a.dataobj), np.asarray(b.dataobj))
    np.testing.assert_array_equal(a.affine, b.affine)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"depths": (0.0, 8.0, 20.0)}, "not evenly spaced"),
        ({"shift": np.array([0.0, 0.0, 0.0]) + 0.5 * _ROW}, "shifted in plane"),
        # Just over the 0.01 mm grid tolerance on a coordinate of 30 mm: no relative slack on top of it.
        ({"shift": 1.02 * 0.01 * _COL}, "shifted in plane"),
    ],
)
def test_nifti_refuses_slices_off_one_grid(tmp_path, make_dicom, kwargs, message):
    from skcardio.io._export import GRID_TOLERANCE_MM

    assert GRID_TOLERANCE_MM == 0.01  # the shifts above are sized for it
    paths = _stack(tmp_path, make_dicom, **kwargs)
    slices = [read_dicom(p, pixels=False) for p in paths]
    with pytest.raises(ExportError, match=message):
        write_nifti(_masks(len(paths)), slices, tmp_path / "m.nii")
    assert not (tmp_path / "m.nii").exists()


def test_nifti_refuses_incomplete_phases(tmp_path, make_dicom):
    slices = [read_dicom(p, pixels=False) for p in _stack(tmp_path, make_dicom)]
    slices = sorted(slices, key=lambda s: s.instance_number)[:-1]  # last position has 1 phase of 2
    with pytest.raises(ExportError, match="different numbers of images"):
        write_nifti(_masks(len(slices)), slices, tmp_path / "m.nii")


def test_nifti_refuses_missing_geometry_naming_the_file(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "flat.dcm", np.zeros((6, 5), np.int16))
    s = read_dicom(path, pixels=False)
    from dataclasses import replace

    with pytest.raises(ExportError, match=r"flat\.dcm: no ImagePositionPatient"):
        write_nifti(_masks(1), [replace(s, image_position=(np.nan,) * 3)], tmp_path / "m.nii")


def test_nifti_refuses_one_mask_count_mismatch(tmp_path, make_dicom):
    slices = [read_dicom(p, pixels=False) for p in _stack(tmp_path, make_dicom)]
    with pytest.raises(ValueError, match="one mask per source slice: 6"):
        write_nifti(_masks(5), slices, tmp_path / "m.nii")


# --------------------------------------------------------------------- phases


def test_group_by_phase_splits_a_cine_stack(tmp_path, make_dicom):
    slices = [read_dicom(p, pixels=False) for p in _stack(tmp_path, make_dicom)]
    phases = group_by_phase(slices)
    assert len(phases) == 2 and sorted(sum(phases, [])) == list(range(6))
    for t, phase in enumerate(phases):
        assert {slices[i].trigger_time for i in phase} == {40.0 * t}
        assert len({round(float(np.dot(slices[i].image_position, _NORMAL)), 3) for i in phase}) == 3


@pytest.mark.parametrize("factor, one_position", [(0.9, True), (1.1, False)])
def test_images_within_the_grid_tolerance_are_at_one_position(tmp_path, make_dicom, factor, one_position):
    from skcardio.io._export import GRID_TOLERANCE_MM

    assert GRID_TOLERANCE_MM == 0.01  # as docs/data.md states: far below read_cine's 0.5 mm
    offset = factor * GRID_TOLERANCE_MM  # just inside / just outside
    paths = _stack(tmp_path, make_dicom, shift=offset * _NORMAL)  # one image of the middle position moved
    slices = [read_dicom(p, pixels=False) for p in paths]
    if one_position:
        assert sorted(len(phase) for phase in group_by_phase(slices)) == [3, 3]
        assert np.asarray(nib.load(write_nifti(_masks(6), slices, tmp_path / "m.nii")).dataobj).shape == (5, 6, 3, 2)
    else:
        with pytest.raises(ExportError, match=r"slice positions hold different numbers of images"):
            write_nifti(_masks(6), slices, tmp_path / "m.nii")
        # Neither one position nor two slices: refused, not ranked into phases of their own.
        depth = np.array([np.dot(s.image_position, _NORMAL) for s in slices])
        depth -= depth.min()  # 0, 8 and 16 mm, and 8.011 for the moved image
        moved = slices[int(np.argmax(np.abs(depth - depth.round())))].path
        with pytest.raises(ExportError, match=rf"^{re.escape(str(moved))}: .* lies 0\.011 mm along the normal"):
            group_by_phase(slices)


def test_group_by_phase_refuses_an_image_moved_within_one_slice(tmp_path, make_dicom):
    """0.3 mm off its slice (one slice for read_cine), an image would start a phase of its own and mix the SEGs."""
    paths = _stack(tmp_path, make_dicom, phases=3, shift=0.3 * _NORMAL)
    slices = [read_dicom(p, pixels=False) for p in paths]
    with pytest.raises(ExportError, match=r"lies 0\.300 mm along the normal from that of .*: more than the 0\.01 mm "
                                          r"of one position, within the 0\.5 mm of one slice"):
        group_by_phase(slices)
    # A plain stack (one image per position) may be thin: 0.3 mm apart are two slices.
    thin = _stack(tmp_path / "thin", make_dicom, depths=(0.0, 0.3, 0.6), phases=1)
    assert len(group_by_phase([read_dicom(p, pixels=False) for p in thin])) == 1


# --------------------------------------------------------------------- DICOM SEG


def _read_seg(path, sources):
    seg = hd.seg.segread(path)
    uids = [read_header(p).SOPInstanceUID for p in sources]
    back = seg.get_pixels_by_source_instance(uids, segment_numbers=[1])[..., 0]
    return seg, uids, back.astype(bool)


def test_seg_round_trip_exact_and_references_sources(tmp_path, make_dicom):
    paths = _stack(tmp_path, make_dicom, phases=1)
    masks = _masks(len(paths))
    masks[1] = False  # an empty frame is kept
    seg, uids, back = _read_seg(write_dicom_seg(masks, paths, tmp_path / "seg.dcm"), paths)
    np.testing.assert_array_equal(back, masks)
    referenced = {item.ReferencedSOPInstanceUID for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert referenced == set(uids)
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == "1.2.3.4.5"
    assert seg.StudyInstanceUID == "1.2.3.4" and seg.FrameOfReferenceUID == "1.2.3.4.9"
    segment = seg.SegmentSequence[0]
    assert segment.SegmentLabel == "LV blood pool"
    assert segment.SegmentedPropertyTypeCodeSequence[0].CodeValue == "87612001"  # blood
    assert segment.AnatomicRegionSequence[0].CodeValue == "87878005"  # left ventricle
    assert seg.SegmentationType == "BINARY" and seg.NumberOfFrames == len(paths)


def test_seg_refuses_two_series_and_one_position_twice(tmp_path, make_dicom):
    one = _stack(tmp_path / "a", make_dicom, depths=(0.0,), phases=1, series="1.2.3.4.5")
    other = _stack(tmp_path / "b", make_dicom, depths=(8.0,), phases=1, series="1.2.3.4.6")
    with pytest.raises(ExportError, match="one DICOM SEG covers one series"):
        write_dicom_seg(_masks(2), one + other, tmp_path / "seg.dcm")
    cine = _stack(tmp_path / "c", make_dicom, depths=(0.0,), phases=2)
    with pytest.raises(ExportError, match="group_by_phase"):
        write_dicom_seg(_masks(2), cine, tmp_path / "seg.dcm")
    assert not (tmp_path / "seg.dcm").exists()


def _tilt_orientation(path, by):
    """Move the first direction cosine of ``path``'s ImageOrientationPatient by ``by``, as scanners round it."""
    ds = pydicom.dcmread(path)
    ds.ImageOrientationPatient = [float(ds.ImageOrientationPatient[0]) + by, *ds.ImageOrientationPatient[1:]]
    ds.save_as(path, enforce_file_format=True)
    return [float(v) for v in ds.ImageOrientationPatient]


def test_seg_takes_orientations_rounded_differently_for_one(tmp_path, make_dicom):
    """Two shared patients' images differ by 1e-6 in a direction cosine: highdicom refused the whole SEG.

    Tilted here by 5e-5, within the 1e-4 tolerance but far from equal, so that the SEG's orientation tells
    which source's it is: the first one's, exactly.
    """
    paths = _stack(tmp_path, make_dicom, phases=1)
    tilted = _tilt_orientation(paths[1], 5e-5)
    first = [float(v) for v in pydicom.dcmread(paths[0]).ImageOrientationPatient]
    assert first == [*_ROW, *_COL] and tilted != first
    before = {p: p.read_bytes() for p in paths}
    masks = _masks(len(paths))
    seg, _, back = _read_seg(write_dicom_seg(masks, paths, tmp_path / "seg.dcm"), paths)
    np.testing.assert_array_equal(back, masks)
    shared = seg.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient
    assert [float(v) for v in shared] == first
    # The caller's files are not changed.
    assert {p: p.read_bytes() for p in paths} == before
    assert [float(v) for v in pydicom.dcmread(paths[1]).ImageOrientationPatient] == tilted


def test_seg_refuses_orientations_beyond_the_tolerance_naming_it(tmp_path, make_dicom):
    paths = _stack(tmp_path, make_dicom, phases=1)
    _tilt_orientation(paths[2], 1e-3)
    with pytest.raises(ExportError, match=rf"^{re.escape(str(tmp_path / 'seg.dcm'))}: no DICOM SEG of sources in "
                                          rf"different orientations: ImageOrientationPatient .* of "
                                          rf"{re.escape(str(paths[2]))} differs from .* of {re.escape(str(paths[0]))} "
                                          r"by 0\.001, more than the 0\.0001 tolerance"):
        write_dicom_seg(_masks(len(paths)), paths, tmp_path / "seg.dcm")
    assert not (tmp_path / "seg.dcm").exists()


@pytest.mark.parametrize("by, one", [(5e-5, True), (9.9e-5, True), (1.05e-4, False), (1e-3, False)])
def test_nifti_and_seg_take_the_same_orientations_for_one(tmp_path, make_dicom, by, one):
    """write_nifti took orientations 1.05e-4 apart (np.allclose: 1e-4 plus 1e-5 of the value), write_dicom_seg
    refused them (1e-4 at most): --nifti --dicom-seg wrote one file and not the other."""
    paths = _stack(tmp_path, make_dicom, phases=1)
    ds = pydicom.dcmread(paths[1])  # the second direction cosine, 0.8: the relative part of allclose was 8e-6
    ds.ImageOrientationPatient = [ds.ImageOrientationPatient[0], float(ds.ImageOrientationPatient[1]) + by,
                                  *ds.ImageOrientationPatient[2:]]
    ds.save_as(paths[1], enforce_file_format=True)
    masks = _masks(len(paths))
    written = []
    for write, sources, name in ((write_nifti, [read_dicom(p, pixels=False) for p in paths], "m.nii"),
                                 (write_dicom_seg, paths, "seg.dcm")):
        try:
            write(masks, sources, tmp_path / name)
        except ExportError as exc:
            assert "more than the 0.0001 tolerance (direction cosines)" in str(exc)
        written.append((tmp_path / name).exists())
    assert written == [one, one]


def test_seg_refuses_masks_of_another_size(tmp_path, make_dicom):
    paths = _stack(tmp_path, make_dicom, phases=1)
    with pytest.raises(ExportError, match="image of 6x5 pixels, but its mask is 6x6"):
        write_dicom_seg(_masks(3, shape=(6, 6)), paths, tmp_path / "seg.dcm")


def test_seg_without_highdicom_says_which_extra(tmp_path, make_dicom, monkeypatch):
    monkeypatch.setitem(sys.modules, "highdicom", None)
    with pytest.raises(ImportError, match=r"skcardio\[dicomseg\]"):
        write_dicom_seg(_masks(1), [tmp_path / "x.dcm"], tmp_path / "seg.dcm")


def test_nifti_without_nibabel_says_which_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "nibabel", None)
    with pytest.raises(ImportError, match=r"skcardio\[nifti\]"):
        write_nifti(_masks(1), [], tmp_path / "m.nii")


@pytest.mark.shared_data
def test_real_cine_series_round_trips(shared_data_root, tmp_path):
    """SCD0000101: 240 images, 12 positions x 20 phases, one FrameOfReferenceUID per image."""
    paths = sorted((shared_data_root / "dicoms" / "SCD0000101").glob("*.dcm"), key=lambda p: int(p.stem))
    slices = [read_dicom(p) for p in paths]
    images = np.stack([s.image for s in slices])
    masks = images > np.percentile(images, 80, axis=(1, 2), keepdims=True)  # real shapes, every slice different
    geometry = slices
    volume = nib.load(write_nifti(masks, geometry, tmp_path / "cine.nii.gz"))
    assert volume.shape == (256, 256, 12, 20)
    data = np.asarray(volume.dataobj)
    # Image numbers run phase-fastest: position (n - 1) // 20, phase (n - 1) % 20
    # (positions here run against the normal, so index k counts from the other end).
    inverse = np.linalg.inv(volume.affine)
    for n in (1, 48, 119, 240):
        s = geometry[n - 1]
        ras = np.append(np.array(s.image_position) * [-1, -1, 1], 1.0)
        i, j, k = np.round(inverse @ ras)[:3].astype(int)
        assert (i, j) == (0, 0)
        np.testing.assert_array_equal(data[:, :, k, (n - 1) % 20].T, masks[n - 1])
    phases = group_by_phase(geometry)
    assert [len(p) for p in phases] == [12] * 20
    sources = [paths[i] for i in phases[3]]
    with pytest.warns(SkcardioWarning, match="different FrameOfReferenceUIDs"):
        path = write_dicom_seg(masks[phases[3]], sources, tmp_path / "seg.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the source UIDs' leading zeros, on reading back
        _, _, back = _read_seg(path, sources)
    np.testing.assert_array_equal(back, masks[phases[3]])


@pytest.mark.shared_data
@pytest.mark.parametrize("patient", ["SCD0000301", "SCD0000401"])
def test_real_series_rounded_to_two_orientations_give_a_seg(shared_data_root, tmp_path, patient):
    """These patients' images carry two orientations 1e-6 apart (-0.307716 / -0.307715 in SCD0000301)."""
    paths = sorted((shared_data_root / "dicoms" / patient).glob("*.dcm"), key=lambda p: int(p.stem))
    geometry = [read_dicom(p, pixels=False) for p in paths]
    assert len({s.image_orientation for s in geometry}) == 2
    phases = group_by_phase(geometry)
    phase = next(p for p in phases if len({geometry[i].image_orientation for i in p}) == 2)
    sources = [paths[i] for i in phase]
    masks = _masks(len(sources), shape=geometry[0].shape)
    with pytest.warns(SkcardioWarning, match="different FrameOfReferenceUIDs"):
        path = write_dicom_seg(masks, sources, tmp_path / "seg.dcm")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the source UIDs' leading zeros, on reading back
        _, _, back = _read_seg(path, sources)
    np.testing.assert_array_equal(back, masks)


def test_masks_must_be_boolean(tmp_path, make_dicom):
    slices = [read_dicom(p, pixels=False) for p in _stack(tmp_path, make_dicom, phases=1)]
    with pytest.raises(ValueError, match=r"masks must be boolean .* values such as \[0, 2\]"):
        write_nifti(_masks(3).astype(int) * 2, slices, tmp_path / "m.nii")
    # 0/1 numbers are masks.
    volume = nib.load(write_nifti(_masks(3).astype(np.uint8), slices, tmp_path / "m.nii"))
    assert volume.shape == (5, 6, 3)


@pytest.mark.parametrize("implicit", [False, True])
def test_invalid_dates_are_written_empty(tmp_path, make_dicom, implicit):
    """Anonymised dates such as 00000000 are emptied, valid ones copied, in either VR encoding."""
    pytest.importorskip("highdicom")
    from pydicom.uid import ImplicitVRLittleEndian, generate_uid

    from skcardio.io._export import _conformed

    path = make_dicom(tmp_path / "a.dcm", np.zeros((8, 8), np.int16), StudyDate="00000000",
                      SeriesDate="20090101", StudyTime="", ContentTime="99999999", StudyInstanceUID=generate_uid())
    ds = pydicom.dcmread(path)
    if implicit:
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
        ds.save_as(path, enforce_file_format=True)
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == ImplicitVRLittleEndian
    ds = _conformed(ds)
    assert ds.StudyDate in (None, "") and ds.ContentTime in (None, "")
    assert ds.SeriesDate == "20090101" and "PatientName" in ds


def test_nifti_description_is_stored_and_a_long_one_refused(tmp_path, make_dicom):
    paths = _stack(tmp_path, make_dicom)
    slices = [read_dicom(p, pixels=False) for p in paths]
    written = nib.load(write_nifti(_masks(len(paths)), slices, tmp_path / "m.nii", description="skcardio, rim at 0.2"))
    assert written.header["descrip"].item() == b"skcardio, rim at 0.2"
    assert nib.load(write_nifti(_masks(len(paths)), slices, tmp_path / "d.nii")).header["descrip"].item() == b""
    for bad in ("x" * 81, "caf\u00e9", "a\x00b"):
        with pytest.raises(ValueError, match=r"bad.nii: description must be printable ASCII text of at most 80 char"):
            write_nifti(_masks(len(paths)), slices, tmp_path / "bad.nii", description=bad)
    assert not (tmp_path / "bad.nii").exists()


def test_seg_names_a_long_algorithm_and_refuses_one_over_64_characters(tmp_path, make_dicom):
    # "LV blood pool masks by <algorithm>" went over the 64 characters of ContentDescription,
    # and highdicom refused the whole SEG.
    paths = _stack(tmp_path, make_dicom, phases=1)
    algorithm = "skcardio UNetSegmenter, dark rim trimmed at 0.145"
    seg, _, back = _read_seg(write_dicom_seg(_masks(len(paths)), paths, tmp_path / "seg.dcm", algorithm=algorithm), paths)
    assert seg.SegmentSequence[0].SegmentAlgorithmName == algorithm
    assert seg.ContentDescription == "LV blood pool masks"
    short, _, _ = _read_seg(write_dicom_seg(_masks(len(paths)), paths, tmp_path / "short.dcm", algorithm="abc"), paths)
    assert short.ContentDescription == "LV blood pool masks by abc"
    longest, _, _ = _read_seg(write_dicom_seg(_masks(len(paths)), paths, tmp_path / "l.dcm", label="L" * 64), paths)
    assert longest.SegmentSequence[0].SegmentLabel == longest.ContentDescription == "L" * 64
    for kwargs in ({"algorithm": "a" * 65}, {"algorithm": "a\\b"}, {"label": "a\nb"}, {"label": ""}, {"algorithm": ""}):
        (name,) = kwargs
        message = f"long.dcm: {name} must be printable ASCII text of 1 to 64 characters, without "
        with pytest.raises(ValueError, match=re.escape(message)):
            write_dicom_seg(_masks(len(paths)), paths, tmp_path / "long.dcm", **kwargs)
    assert not (tmp_path / "long.dcm").exists()


def test_seg_series_metadata_defaults_and_given(tmp_path, make_dicom):
    """A SEG was series 1 (often the localiser's), instance 1, no SeriesDescription, a new series per file."""
    paths = _stack(tmp_path / "in", make_dicom, phases=1)
    seg = pydicom.dcmread(write_dicom_seg(_masks(len(paths)), paths, tmp_path / "a.dcm"))
    assert seg.SeriesNumber == 1007 and seg.InstanceNumber == 1  # the sources' series 7 + 1000
    assert seg.SeriesDescription == "LV blood pool by skcardio"
    assert seg.ContentDescription == "LV blood pool masks by skcardio"
    uid = pydicom.uid.generate_uid()
    given = pydicom.dcmread(write_dicom_seg(_masks(len(paths)), paths, tmp_path / "b.dcm", series_instance_uid=uid,
                                            instance_number=3, content_description="LV blood pool, phase 2 of 20"))
    assert given.SeriesInstanceUID == uid and given.InstanceNumber == 3
    assert given.ContentDescription == "LV blood pool, phase 2 of 20"


@pytest.mark.parametrize(("option", "value", "message"), [
    ("series_instance_uid", "1.02.3", "must be a DICOM UID"),
    ("series_instance_uid", "1." * 40 + "1", "must be a DICOM UID"),
    ("instance_number", 0, "instance_number must be an integer from 1"),
    ("instance_number", True, "instance_number must be an integer from 1"),
    ("content_description", "x" * 65, "content_description must be printable ASCII text of 1 to 64 characters"),
])
def test_seg_series_metadata_refused_naming_the_option(tmp_path, make_dicom, option, value, message):
    paths = _stack(tmp_path / "in", make_dicom, phases=1)
    with pytest.raises(ValueError, match=message):
        write_dicom_seg(_masks(len(paths)), paths, tmp_path / "seg.dcm", **{option: value})
    assert not (tmp_path / "seg.dcm").exists()


def test_seg_of_a_source_with_a_damaged_element_it_need_not_copy(tmp_path, make_dicom):
    """read_header refused a source for a damaged Manufacturer: the whole series' SEGs were not written."""
    from _hostile import garbled_vr

    paths = _stack(tmp_path / "in", make_dicom, phases=1)
    ds = pydicom.dcmread(paths[0])
    ds.Manufacturer = "ACME"
    ds.save_as(paths[0], enforce_file_format=True)
    garbled_vr(paths[0], b"\x08\x00\x70\x00", b"LO")  # Manufacturer (0008,0070)
    masks = _masks(len(paths))
    with pytest.warns(SkcardioWarning, match=r"1 header element\(s\) left out, their values damaged: Manufacturer "
                                             r"\(0008,0070\)"):
        seg, _, back = _read_seg(write_dicom_seg(masks, paths, tmp_path / "seg.dcm"), paths)
    np.testing.assert_array_equal(back, masks)
