"""``skcardio report --dicom-seg --nifti``: the series files of each patient, read back with highdicom and nibabel."""

from __future__ import annotations

import csv
import json
import re

import pytest
from _stand_ins import PoolsOfEighty

from _cine_studies import write_study

from skcardio.cli import main
from skcardio.clinical import measure_study, segment_study
from skcardio.io import read_cine
from skcardio.segment import UNetSegmenter

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _seg_study(make_dicom, folder, **tags):
    from pydicom.uid import generate_uid

    return write_study(make_dicom, folder, n_phases=4, n_slices=4, shape=(48, 48),
                       StudyInstanceUID=generate_uid(), FrameOfReferenceUID=generate_uid(), **tags)


def test_dicom_seg_and_nifti_read_back(tmp_path, make_dicom, monkeypatch, capsys):
    import numpy as np

    hd = pytest.importorskip("highdicom")
    nib = pytest.importorskip("nibabel")
    import pydicom

    from skcardio.io import read_dicom

    files = _seg_study(make_dicom, tmp_path / "a")
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    argv = ["report", str(tmp_path / "a"), "--out", str(out), "--no-progress", "--dicom-seg", "--nifti", "--no-trim-boundary"]
    assert main(argv) == 0
    assert "INFO" not in capsys.readouterr().err  # no line per source image from highdicom
    study = read_cine(tmp_path / "a")
    measured = measure_study(study, segment_study(study, PoolsOfEighty()))
    keep = measured.selection.keep
    assert keep.any() and not keep.all()  # both kinds of slices are checked
    counted = measured.masks & keep[None, :, None, None]

    index = list(csv.DictReader((out / "series.csv").open(encoding="utf-8")))
    assert [(r["format"], r["phase"], r["slices"], r["file"]) for r in index] == [
        ("nifti", "", "16", "a/series5_mask.nii.gz"),
        *[("dicom-seg", str(p), "4", f"a/series5_phase{p:02d}_seg.dcm") for p in range(4)],
    ]
    report = json.loads((out / "report.json").read_text())
    assert {r["file"] for r in index} | {"series.csv"} <= set(report["files"])

    # NIfTI: voxel (i, j, k, t) is pixel [row=j, col=i] of slice k at phase t; the affine is the DICOM geometry.
    volume = nib.load(out / "a" / "series5_mask.nii.gz")
    data = np.asarray(volume.dataobj).astype(bool)
    np.testing.assert_array_equal(data, counted.transpose(3, 2, 1, 0))
    lps_to_ras = np.array([-1, -1, 1])
    for (_phase, s), path in files.items():
        header = read_dicom(path, pixels=False)
        corner = np.linalg.inv(volume.affine) @ np.append(lps_to_ras * header.image_position, 1)
        np.testing.assert_allclose(corner[:3], [0, 0, s], atol=1e-6)
    row, col = np.array(header.image_orientation[:3]), np.array(header.image_orientation[3:])
    np.testing.assert_allclose(volume.affine[:3, 0], lps_to_ras * row * 1.5, atol=1e-9)
    np.testing.assert_allclose(volume.affine[:3, 1], lps_to_ras * col * 1.5, atol=1e-9)
    np.testing.assert_allclose(volume.affine[:3, 2], lps_to_ras * np.cross(row, col) * 8.0, atol=1e-6)
    # The files give the reported volumes.
    ml = data.sum(axis=(0, 1, 2)) * np.prod(volume.header.get_zooms()[:3]) / 1000
    np.testing.assert_allclose(ml, report["patients"][0]["volumes_ml"]["automatic"], atol=0.006)

    # DICOM SEG: one per phase, referencing that phase's images, each frame on its image's plane.
    for p in range(4):
        sources = [read_dicom(files[p, s], pixels=False) for s in range(4)]
        seg = hd.seg.segread(out / "a" / f"series5_phase{p:02d}_seg.dcm")
        uids = [pydicom.dcmread(files[p, s], stop_before_pixels=True).SOPInstanceUID for s in range(4)]
        assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == pydicom.dcmread(files[p, 0]).SeriesInstanceUID
        assert sorted(i.ReferencedSOPInstanceUID for i in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence) == sorted(uids)
        back = seg.get_pixels_by_source_instance(uids, segment_numbers=[1])[..., 0].astype(bool)
        np.testing.assert_array_equal(back, counted[p])
        assert seg.SegmentSequence[0].SegmentLabel == "LV blood pool"
        for frame in seg.PerFrameFunctionalGroupsSequence:
            source = frame.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
            s = uids.index(source)
            np.testing.assert_allclose(frame.PlanePositionSequence[0].ImagePositionPatient, sources[s].image_position)

    # The phases' SEGs are one series of four instances, each saying its phase (they were four series "1").
    segs = [pydicom.dcmread(out / "a" / f"series5_phase{p:02d}_seg.dcm", stop_before_pixels=True) for p in range(4)]
    assert len({seg.SeriesInstanceUID for seg in segs}) == 1
    assert segs[0].SeriesInstanceUID != pydicom.dcmread(files[0, 0]).SeriesInstanceUID
    assert [seg.InstanceNumber for seg in segs] == [1, 2, 3, 4] and {seg.SeriesNumber for seg in segs} == {1005}
    for p, seg in enumerate(segs):
        assert re.fullmatch(rf"LV blood pool, phase {p} of 4 \(\d+ ms\)", seg.ContentDescription)

    # A later run without the options removes this run's series files.
    assert main(["report", str(tmp_path / "a"), "--out", str(out), "--no-progress", "--no-plots"]) == 0
    assert not (out / "series.csv").exists() and not list(out.rglob("*_seg.dcm")) and not list(out.rglob("*.nii.gz"))


def test_series_file_that_cannot_be_written(tmp_path, make_dicom, monkeypatch, capsys):
    pytest.importorskip("highdicom")
    pytest.importorskip("nibabel")
    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=3)  # no StudyInstanceUID: no SEG
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), "--out", str(out), "--no-plots", "--dicom-seg", "--nifti"]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("skcardio report: error: a: series ") and "no StudyInstanceUID" in errors[0]
    assert "2 DICOM SEG file(s) of 1 series not written" in captured.out  # a SEG per phase
    assert (out / "report.csv").is_file() and (out / "a" / "series5_mask.nii.gz").is_file()
    assert not list(out.rglob("*_seg.dcm"))
    assert "no StudyInstanceUID" in json.loads((out / "report.json").read_text())["patients"][0]["series_errors"][0]


def test_missing_library_is_an_error_before_segmenting(tmp_path, make_dicom, monkeypatch, capsys):
    import sys

    write_study(make_dicom, tmp_path / "a", n_phases=2, n_slices=2)
    monkeypatch.setitem(sys.modules, "highdicom", None)
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: pytest.fail("model loaded")))
    assert main(["report", str(tmp_path / "a"), "--out", str(tmp_path / "out"), "--dicom-seg"]) == 2
    assert 'pip install "skcardio[dicomseg]"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_source_gone_before_the_series_files(tmp_path, make_dicom, monkeypatch, capsys):
    import skcardio.io
    from skcardio.exceptions import DicomReadError

    pytest.importorskip("nibabel")
    _seg_study(make_dicom, tmp_path / "a")
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: PoolsOfEighty()))

    def gone(path, **kwargs):
        raise DicomReadError(f"{path}: no such file")

    monkeypatch.setattr(skcardio.io, "read_dicom", gone)  # read_cine reads through its own import
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "a"), "--out", str(out), "--no-plots", "--nifti"]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("skcardio report: error: a: no series file written: ")
    assert (out / "report.csv").is_file() and (out / "series.csv").is_file() and not list(out.rglob("*.nii.gz"))


def test_trim_boundary_reaches_the_series_files(tmp_path, make_dicom, monkeypatch):
    """The series files hold the trimmed masks that the volumes count, and say at which level."""
    hd = pytest.importorskip("highdicom")
    nib = pytest.importorskip("nibabel")
    import numpy as np
    from scipy import ndimage as ndi

    class WidePools(PoolsOfEighty):
        def predict(self, images):
            return np.array([ndi.binary_dilation(mask) for mask in super().predict(images)])

    _seg_study(make_dicom, tmp_path / "a")
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: WidePools()))
    out = tmp_path / "out"
    argv = ["report", str(tmp_path / "a"), "--out", str(out), "--no-progress", "--no-plots", "--dicom-seg", "--nifti",
            "--trim-boundary=0.5"]
    assert main(argv) == 0
    index = list(csv.DictReader((out / "series.csv").open(encoding="utf-8")))
    assert len(index) == 5 and {r["boundary_level"] for r in index} == {"0.5"}
    report = json.loads((out / "report.json").read_text())
    assert {f["boundary_level"] for f in report["patients"][0]["series_files"]} == {0.5}  # a number, as in the rows
    volume = nib.load(out / "a" / "series5_mask.nii.gz")
    assert volume.header["descrip"].item() == b"skcardio UNetSegmenter, dark rim trimmed at 0.5"
    ml = np.asarray(volume.dataobj).astype(bool).sum(axis=(0, 1, 2)) * np.prod(volume.header.get_zooms()[:3]) / 1000
    np.testing.assert_allclose(ml, report["patients"][0]["volumes_ml"]["automatic"], atol=0.006)  # the trimmed ones
    seg = hd.seg.segread(out / "a" / "series5_phase00_seg.dcm")
    assert seg.SegmentSequence[0].SegmentAlgorithmName == "skcardio UNetSegmenter, dark rim trimmed at 0.5"
