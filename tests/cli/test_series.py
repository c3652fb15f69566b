"""``skcardio predict --dicom-seg --nifti``: series files read back with highdicom and nibabel."""

from __future__ import annotations

import csv
import logging
import sys
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from _cine_studies import BrightDisc, write_study

from skcardio.cli import main
from skcardio.cli._series import SeriesFailure, not_written
from skcardio.datasets import get_sample_path
from skcardio.io import read_dicom, read_header
from skcardio.segment import UNetSegmenter

hd = pytest.importorskip("highdicom")
nib = pytest.importorskip("nibabel")

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PATIENT = get_sample_path() / "dicoms" / "SCD0000101"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "unet.pt"
    flags = ["--epochs", "1", "--depth", "2", "--base-channels", "4", "--crop-size", "64", "--quiet"]
    assert main(["train", "--out", str(path), *flags]) == 0
    return path


def _predict(model_path, out, *inputs, flags=("--dicom-seg", "--nifti")):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample's per-image FrameOfReferenceUIDs
        return main(["predict", str(model_path), *map(str, inputs), "--out", str(out), "--no-progress", *flags])


def _index(out):
    return list(csv.DictReader((out / "series.csv").open(encoding="utf-8")))


def test_one_phase_stack_as_nifti_and_seg(model_path, tmp_path):
    # Images 99, 119, 139, 159: one phase (18) at four evenly spaced positions.
    files = [PATIENT / f"{n}.dcm" for n in (99, 119, 139, 159)]
    out = tmp_path / "out"
    assert _predict(model_path, out, *files) == 0
    index = _index(out)
    assert [(r["format"], r["series_number"], r["slices"], r["file"]) for r in index] == [
        ("nifti", "300", "4", "series300_mask.nii.gz"),
        ("dicom-seg", "300", "4", "series300_seg.dcm"),
    ]
    masks = [np.load(out / f"{f.stem}_mask.npy") for f in files]
    volume = nib.load(out / "series300_mask.nii.gz")
    data, inverse = np.asarray(volume.dataobj), np.linalg.inv(volume.affine)
    assert data.shape == (256, 256, 4)
    for f, mask in zip(files, masks):
        corner = np.append(np.array(read_dicom(f, pixels=False).image_position) * [-1, -1, 1], 1)
        i, j, k = np.round(inverse @ corner)[:3].astype(int)
        assert (i, j) == (0, 0)
        np.testing.assert_array_equal(data[:, :, k].T, mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = hd.seg.segread(out / "series300_seg.dcm")
        uids = [read_header(f).SOPInstanceUID for f in files]
        back = seg.get_pixels_by_source_instance(uids, segment_numbers=[1])[..., 0].astype(bool)
    np.testing.assert_array_equal(back, np.stack(masks))


def test_cine_folder_one_seg_per_phase_and_nifti_refused(model_path, tmp_path, caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR, logger="skcardio.cli.predict"):
        assert _predict(model_path, out, PATIENT) == 1  # the NIfTI cannot be written
    assert "different numbers of images" in caplog.text and "nii" not in " ".join(p.name for p in out.rglob("*"))
    index = _index(out)
    # Images 108 and 119 share a position (ED and ES): two phases, two SEG files.
    assert [(r["format"], r["phase"], r["slices"], r["file"]) for r in index] == [
        ("dicom-seg", "0", "4", "SCD0000101/series300_phase00_seg.dcm"),
        ("dicom-seg", "1", "1", "SCD0000101/series300_phase01_seg.dcm"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in index:
            seg = hd.seg.segread(out / row["file"])
            sources = [item.ReferencedSOPInstanceUID for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence]
            assert len(sources) == int(row["slices"])

    # A later run without the options removes the series files of this one.
    assert _predict(model_path, out, PATIENT, flags=()) == 0
    assert not (out / "series.csv").exists()
    assert not list(out.rglob("*_seg.dcm"))


def test_missing_library_is_an_error_before_predicting(model_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "nibabel", None)
    assert _predict(model_path, tmp_path / "out", PATIENT, flags=("--nifti",)) == 2
    assert 'pip install "skcardio[nifti]"' in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_trimmed_masks_are_said_so_in_the_series_files(model_path, tmp_path):
    files = [PATIENT / f"{n}.dcm" for n in (99, 119, 139, 159)]
    names = {}
    for flags in ((), ("--trim-boundary=0.3",)):
        out = tmp_path / f"out{len(flags)}"
        assert _predict(model_path, out, *files, flags=("--dicom-seg", "--nifti", *flags)) == 0
        index = _index(out)
        descrip = nib.load(out / "series300_mask.nii.gz").header["descrip"].item().decode()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            algorithm = hd.seg.segread(out / "series300_seg.dcm").SegmentSequence[0].SegmentAlgorithmName
        names[flags] = ([r["boundary_level"] for r in index], descrip, algorithm)
    assert names[()] == (["", ""], "skcardio UNetSegmenter", "skcardio UNetSegmenter")
    trimmed = "skcardio UNetSegmenter, dark rim trimmed at 0.3"
    assert names[("--trim-boundary=0.3",)] == (["0.3", "0.3"], trimmed, trimmed)


def _run(command, folder, out, *flags):
    argv = [command, str(folder), "--out", str(out), "--no-progress", *flags]
    if command == "report":
        argv += ["--no-plots", "--no-trim-boundary"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(argv)


@pytest.mark.parametrize("command", ["predict", "report"])
def test_orientations_rounded_apart_give_every_phase_its_seg(tmp_path, make_dicom, monkeypatch, capsys, command):
    """SCD0000301 and SCD0000401 carry orientations 1e-6 apart: highdicom refused every SEG of them."""
    files = write_study(make_dicom, tmp_path / "a", n_phases=4, n_slices=4,
                        StudyInstanceUID=generate_uid(), FrameOfReferenceUID=generate_uid())
    for key in ((0, 1), (1, 2), (3, 3)):
        ds = pydicom.dcmread(files[key])
        ds.ImageOrientationPatient = [float(ds.ImageOrientationPatient[0]) + 1e-6, *ds.ImageOrientationPatient[1:]]
        ds.save_as(files[key], enforce_file_format=True)
    before = {path: path.read_bytes() for path in files.values()}
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: BrightDisc()))
    assert _run(command, tmp_path / "a", tmp_path / "out", "--dicom-seg") == 0
    assert "not written" not in capsys.readouterr().out
    segs = sorted(p.name for p in (tmp_path / "out" / "a").glob("*_seg.dcm"))
    assert segs == [f"series5_phase{k:02d}_seg.dcm" for k in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = hd.seg.segread(tmp_path / "out" / "a" / "series5_phase01_seg.dcm")
    sources = {item.ReferencedSOPInstanceUID for item in seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence}
    assert sources == {read_header(files[1, s]).SOPInstanceUID for s in range(4)}
    assert {path: path.read_bytes() for path in files.values()} == before  # the sources are not rewritten


@pytest.mark.parametrize("command", ["predict", "report"])
def test_summary_counts_the_seg_files_not_written(tmp_path, make_dicom, monkeypatch, capsys, command):
    """It said '1 series file(s) not written' where a SEG per phase, 4 files, was not written."""
    write_study(make_dicom, tmp_path / "a", n_phases=4, n_slices=3)  # no StudyInstanceUID: no SEG
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: BrightDisc()))
    assert _run(command, tmp_path / "a", tmp_path / "out", "--dicom-seg", "--nifti") == 1
    summary = capsys.readouterr().out.splitlines()[-1]
    assert summary.endswith("; 4 DICOM SEG file(s) of 1 series not written (see the errors above)")
    assert (tmp_path / "out" / "a" / "series5_mask.nii.gz").is_file()


def test_not_written_names_each_format_and_its_count():
    failures = [SeriesFailure("a", "DICOM SEG", 20), SeriesFailure("b", "NIfTI", 1), SeriesFailure("c", "DICOM SEG", 12)]
    assert not_written(failures) == (
        "32 DICOM SEG file(s) of 2 series, 1 NIfTI file(s) of 1 series not written (see the errors above)"
    )
    # A series whose phases cannot be told: its SEG files are not counted.
    assert not_written([SeriesFailure("a", "DICOM SEG", 20), SeriesFailure("b", "DICOM SEG", None)]) == (
        "DICOM SEG file(s) of 2 series not written (see the errors above)"
    )
    assert not_written([SeriesFailure("a", "series", None, scope="patient(s)")]) == (
        "series file(s) of 1 patient(s) not written (see the errors above)"
    )
    assert not_written([]) == ""
