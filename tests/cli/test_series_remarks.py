"""``skcardio predict --dicom-seg``: a remark about a series is said once, not once per phase's SEG."""

from __future__ import annotations

import warnings

import pydicom
import pytest
from pydicom.uid import generate_uid

from _cine_studies import BrightDisc, write_study

from skcardio.cli import main
from skcardio.exceptions import SkcardioWarning
from skcardio.segment import UNetSegmenter

pytest.importorskip("highdicom")


def test_anonymised_frames_of_reference_are_said_once(tmp_path, make_dicom, monkeypatch):
    # Anonymisers give each image its own FrameOfReferenceUID: predict printed the remark once per phase's
    # SEG, 20 near-identical lines for a cine series.
    monkeypatch.setattr(UNetSegmenter, "pretrained", classmethod(lambda cls, **kw: BrightDisc()))
    files = write_study(make_dicom, tmp_path / "a", n_phases=3, n_slices=2, StudyInstanceUID=generate_uid())
    for path in files.values():
        ds = pydicom.dcmread(path)
        ds.FrameOfReferenceUID = generate_uid()
        ds.save_as(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["predict", str(tmp_path / "a"), "--out", str(tmp_path / "out"), "--no-progress",
                     "--dicom-seg"]) == 0
    remarks = [str(w.message) for w in caught
               if w.category is SkcardioWarning and "different FrameOfReferenceUIDs" in str(w.message)]
    assert len(remarks) == 1, remarks
    assert remarks[0].endswith("(said of 3 phases' SEGs alike)")
    assert len(list((tmp_path / "out").rglob("*_seg.dcm"))) == 3
