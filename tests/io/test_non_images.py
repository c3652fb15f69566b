"""Which files set aside from a study could have been one of its images (the exit status of report)."""

from __future__ import annotations

import os

import numpy as np

from skcardio.io._non_images import non_image_reason, set_aside_reason

PIXELS = np.zeros((8, 8), np.uint16)


def test_files_that_never_were_images(tmp_path, make_dicom):
    (tmp_path / "notes.txt").write_text("acquired on the old scanner\n")
    (tmp_path / "study.zip").write_bytes(b"PK\x03\x04" + bytes(400))
    make_dicom(tmp_path / "report.dcm", PIXELS, SOPClassUID="1.2.840.10008.5.1.4.1.1.88.11", pixel_data=False)
    make_dicom(tmp_path / "seg.dcm", PIXELS, SOPClassUID="1.2.840.10008.5.1.4.1.1.66.4")
    make_dicom(tmp_path / "screen.dcm", PIXELS, PhotometricInterpretation="RGB")
    make_dicom(tmp_path / "DICOMDIR", PIXELS, pixel_data=False)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "to_folder").symlink_to(tmp_path / "folder")
    reasons = {name: non_image_reason(tmp_path / name) for name in (
        "notes.txt", "study.zip", "report.dcm", "seg.dcm", "screen.dcm", "DICOMDIR", "pipe", "to_folder")}
    assert reasons == {
        "notes.txt": "not DICOM, no 'DICM' at byte 128",
        "study.zip": "not DICOM, no 'DICM' at byte 128",
        "report.dcm": "no image class: Basic Text SR Storage",
        "seg.dcm": "no image class: Segmentation Storage",
        "screen.dcm": "a colour image, RGB",
        "DICOMDIR": "a DICOMDIR, the index of a DICOM medium",
        "pipe": "not a regular file",
        "to_folder": "not a regular file",
    }


def test_files_that_may_have_been_images(tmp_path, make_dicom):
    image = make_dicom(tmp_path / "image.dcm", PIXELS)
    # Cut short, whatever its name (scanners name files by UID: "1.3.12.2.1107.5.2.30" has a "suffix").
    for name in ("cut.dcm", "1.3.12.2.1107.5.2.30", "IM0001"):
        (tmp_path / name).write_bytes(image.read_bytes()[:300])
    make_dicom(tmp_path / "private.dcm", PIXELS, SOPClassUID="1.2.3.4.5")  # a private class with an image
    (tmp_path / "gone.dcm").symlink_to(tmp_path / "nowhere.dcm")  # the image it pointed at is missing
    for name in ("cut.dcm", "1.3.12.2.1107.5.2.30", "IM0001", "private.dcm", "gone.dcm", "image.dcm"):
        assert non_image_reason(tmp_path / name) is None, name


def test_set_aside_reason_keeps_the_readers_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x\n")
    error = ValueError(f"{tmp_path / 'notes.txt'}: not a DICOM file: expected 'DICM' at byte 128")
    assert set_aside_reason(tmp_path / "notes.txt", error) == (
        f"not a DICOM image (not DICOM, no 'DICM' at byte 128): {error}")
    assert set_aside_reason(tmp_path / "missing.dcm", error) == f"unreadable: {error}"
