"""``skcardio predict --dicom-seg --nifti`` with a copy of an image among the inputs.

A copy of 48.dcm beside 49 and 50 gave exit 0, a NIfTI of 4 phases and two
SEGs (phase00, phase01) of 48's image. Now the series files are not written,
counted as such (exit 1), as for any series file that cannot be written; the
masks of every slice still are.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
import warnings

import pydicom
import pytest
from pydicom.uid import generate_uid

from _cine_studies import BrightDisc, write_study

from skcardio.cli import main
from skcardio.segment import UNetSegmenter

pytest.importorskip("highdicom")
pytest.importorskip("nibabel")


def _predict(folder, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return main(["predict", str(folder), "--out", str(out), "--no-progress", "--dicom-seg", "--nifti"])


@pytest.fixture
def study(tmp_path, make_dicom, monkeypatch):
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: BrightDisc()))
    return write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=1,
                       StudyInstanceUID=generate_uid(), FrameOfReferenceUID=generate_uid())


def test_a_copy_of_an_image_writes_no_series_file(tmp_path, study, capsys, caplog):
    shutil.copyfile(study[0, 0], tmp_path / "a" / "1copy.dcm")
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR, logger="skcardio.cli.predict"):
        assert _predict(tmp_path / "a", out) == 1
    assert re.search(r"duplicate images: \S*/1\.dcm and \S*/1copy\.dcm share slice position -?[\d.]+ mm and trigger "
                     r"time 5 ms; expected one image per position and phase \(remove the copy\)", caplog.text)
    captured = capsys.readouterr()
    assert "1 NIfTI file(s) of 1 series, DICOM SEG file(s) of 1 series not written" in captured.out
    assert sorted(p.name for p in (out / "a").glob("*_mask.png")) == ["1_mask.png", "1copy_mask.png", "2_mask.png",
                                                                      "3_mask.png"]
    assert not list(out.rglob("*_seg.dcm")) and not list(out.rglob("*.nii.gz"))
    assert list(csv.DictReader((out / "series.csv").open(encoding="utf-8"))) == []


def test_two_images_sharing_a_sop_instance_uid_write_no_seg(tmp_path, study, capsys, caplog):
    uid = pydicom.dcmread(study[0, 0]).SOPInstanceUID
    ds = pydicom.dcmread(study[2, 0])  # another phase: another image, with 1.dcm's UID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.save_as(study[2, 0])
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR, logger="skcardio.cli.predict"):
        assert _predict(tmp_path / "a", out) == 1
    assert re.search(rf"duplicate images: \S*/1\.dcm and \S*/3\.dcm share SOPInstanceUID {re.escape(uid)}: ", caplog.text)
    captured = capsys.readouterr()
    assert "DICOM SEG file(s) of 1 series not written" in captured.out
    assert not list(out.rglob("*_seg.dcm"))
    rows = list(csv.DictReader((out / "series.csv").open(encoding="utf-8")))
    assert [row["format"] for row in rows] == ["nifti"]  # a NIfTI references no image by its UID


def test_distinct_images_write_every_series_file(tmp_path, study, capsys):
    out = tmp_path / "out"
    assert _predict(tmp_path / "a", out) == 0
    assert "not written" not in capsys.readouterr().out
    assert sorted(p.name for p in (out / "a").glob("*_seg.dcm")) == [f"series5_phase{k:02d}_seg.dcm" for k in range(3)]
