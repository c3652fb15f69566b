"""A copy of an image among a series' sources is refused by the exports, as read_cine refuses it.

group_by_phase ranked a copy as a phase of its own: a copy of 48.dcm beside
49 and 50 gave a NIfTI of 4 phases and two SEGs (phase00, phase01) of 48's
image, and every later phase shifted. Two different images sharing one
SOPInstanceUID were accepted too, though a SEG references its sources by it.
"""

import shutil

import numpy as np
import pydicom
import pytest

from _cine_studies import NORMAL, write_study

from skcardio.exceptions import ExportError, StudyError
from skcardio.io import group_by_phase, read_cine, read_dicom, write_dicom_seg, write_nifti

pytest.importorskip("highdicom")
pytest.importorskip("nibabel")


def _slices(folder):
    return [read_dicom(p, pixels=False) for p in sorted(folder.glob("*.dcm"))]


def _study_with_a_copy(tmp_path, make_dicom, **kwargs):
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2, StudyInstanceUID="1.2.3", **kwargs)
    shutil.copyfile(files[1, 0], tmp_path / "p" / "copy.dcm")
    return files


def test_a_copy_is_refused_by_group_by_phase_write_nifti_and_read_cine_alike(tmp_path, make_dicom):
    files = _study_with_a_copy(tmp_path, make_dicom)
    slices = _slices(tmp_path / "p")
    original, copy = str(files[1, 0]), str(tmp_path / "p" / "copy.dcm")
    expected = (r"duplicate images: (\S+) and (\S+) share slice position -?\d+\.\d\d mm and trigger time 55 ms; "
                r"expected one image per position and phase \(remove the copy\)")
    for export in (lambda: group_by_phase(slices),
                   lambda: write_nifti(np.zeros((len(slices), 48, 48), bool), slices, tmp_path / "m.nii.gz")):
        with pytest.raises(ExportError, match=f"^{expected}$") as caught:
            export()
        assert {original, copy} <= set(str(caught.value).split())  # both files, by their paths
    assert not (tmp_path / "m.nii.gz").exists()
    # read_cine's words, from the one test of duplicates (its files named within the folder it names).
    with pytest.raises(StudyError, match=r"duplicate images: (2\.dcm and copy\.dcm|copy\.dcm and 2\.dcm) share slice "
                                         r"position .* and trigger time 55 ms; expected one image per position"):
        read_cine(tmp_path / "p")


def test_a_copy_alone_at_its_position_is_refused(tmp_path, make_dicom):
    # 48, 49 and 50 of SCD0000101 lie at one position: with a copy of 48, 4 "phases", phase00 and phase01 48's.
    files = write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=1)
    shutil.copyfile(files[0, 0], tmp_path / "p" / "48copy.dcm")
    slices = _slices(tmp_path / "p")
    with pytest.raises(ExportError, match=r"duplicate images: .*1\.dcm and .*48copy\.dcm share slice position"):
        group_by_phase(slices)
    with pytest.raises(ExportError, match="duplicate images"):
        write_nifti(np.zeros((4, 48, 48), bool), slices, tmp_path / "m.nii")


def test_a_copy_without_trigger_times_is_told_by_its_instance_number(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2)
    for path in files.values():
        ds = pydicom.dcmread(path)
        del ds.TriggerTime
        ds.save_as(path)
    shutil.copyfile(files[0, 1], tmp_path / "p" / "copy.dcm")
    with pytest.raises(ExportError, match=r"share slice position .* and InstanceNumber 3 \(no trigger time tells "
                                          r"them apart\)"):
        group_by_phase(_slices(tmp_path / "p"))


def test_two_images_sharing_a_sop_instance_uid_are_refused(tmp_path, make_dicom):
    files = write_study(make_dicom, tmp_path / "p", n_phases=2, n_slices=2, StudyInstanceUID="1.2.3")
    uid = pydicom.dcmread(files[0, 0]).SOPInstanceUID
    ds = pydicom.dcmread(files[1, 1])  # another phase, another position: another image
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.save_as(files[1, 1])
    slices = _slices(tmp_path / "p")
    assert [s.sop_instance_uid for s in slices].count(uid) == 2
    message = (rf"duplicate images: .*\.dcm and .*\.dcm share SOPInstanceUID {uid}: expected one image per "
               r"SOPInstanceUID, by which a DICOM SEG references its sources")
    with pytest.raises(ExportError, match=message):
        group_by_phase(slices)
    # One SEG of such sources, written directly: refused too.
    ds = pydicom.dcmread(files[0, 1])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.save_as(files[0, 1])
    with pytest.raises(ExportError, match=message):
        write_dicom_seg(np.zeros((2, 48, 48), bool), [files[0, 0], files[0, 1]], tmp_path / "seg.dcm")
    assert not (tmp_path / "seg.dcm").exists()
    # A NIfTI places images, it does not reference them: still written.
    assert write_nifti(np.zeros((4, 48, 48), bool), _slices(tmp_path / "p"), tmp_path / "m.nii").is_file()


def test_distinct_images_still_split_into_phases(tmp_path, make_dicom):
    write_study(make_dicom, tmp_path / "p", n_phases=3, n_slices=2)
    slices = _slices(tmp_path / "p")
    phases = group_by_phase(slices)
    assert [len(phase) for phase in phases] == [2, 2, 2]
    assert len({s.sop_instance_uid for s in slices}) == 6
    depth = {round(float(np.dot(slices[i].image_position, NORMAL)), 3) for i in phases[0]}
    assert len(depth) == 2
