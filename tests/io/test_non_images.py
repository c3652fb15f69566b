"""Which files set aside from a study could have been one of its images (the exit status of report)."""

from __future__ import annotations

import os

import numpy as np

from skcardio.io._non_images import non_image_reason, set_aside_reason

PIXELS = np.zeros((8, 8), np.uint16)


def test_files_that_never_were_images(tmp_path, make_dicom):
    (tmp_path / "notes.txt").write_text("acquired on the old scanner\n")
    (tmp_path / "note").write_text("ok\n")  # short text: too short for the marker, but a note
    (tmp_path / "study.zip").write_bytes(b"PK\x03\x04" + bytes(400))
    make_dicom(tmp_path / "report.dcm", PIXELS, SOPClassUID="1.2.840.10008.5.1.4.1.1.88.11", pixel_data=False)
    make_dicom(tmp_path / "seg.dcm", PIXELS, SOPClassUID="1.2.840.10008.5.1.4.1.1.66.4")
    make_dicom(tmp_path / "DICOMDIR", PIXELS, pixel_data=False)
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "folder").mkdir()
    (tmp_path / "to_folder").symlink_to(tmp_path / "folder")
    reasons = {name: non_image_reason(tmp_path / name) for name in (
        "notes.txt", "note", "study.zip", "report.dcm", "seg.dcm", "DICOMDIR", "pipe", "to_folder")}
    assert reasons == {
        "notes.txt": "not DICOM, no 'DICM' at byte 128",
        "note": "not DICOM, no 'DICM' at byte 128",
        "study.zip": "not DICOM, no 'DICM' at byte 128",
        "report.dcm": "no image class: Basic Text SR Storage",
        "seg.dcm": "no image class: Segmentation Storage",
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
    (tmp_path / "empty.dcm").write_bytes(b"")  # an interrupted copy
    (tmp_path / "zeros").write_bytes(bytes(5000))
    (tmp_path / "raw.dcm").write_bytes(image.read_bytes()[132:])  # no preamble: the meta group's elements first
    make_dicom(tmp_path / "screen.dcm", PIXELS, PhotometricInterpretation="RGB")  # when in doubt: an image lost
    data = image.read_bytes()
    (tmp_path / "cut131.dcm").write_bytes(data[:131])  # cut within the marker
    (tmp_path / "tiff_preamble").write_bytes(b"II*\0" + bytes(60))  # a non-zero preamble, cut
    (tmp_path / "overwritten.dcm").write_bytes(bytes(512) + data[512:])  # its start zeroed, the header after
    (tmp_path / "noise.dcm").write_bytes(np.random.default_rng(0).bytes(512) + data[512:])
    names = ("cut.dcm", "1.3.12.2.1107.5.2.30", "IM0001", "private.dcm", "gone.dcm", "image.dcm", "empty.dcm",
             "zeros", "raw.dcm", "screen.dcm", "cut131.dcm", "tiff_preamble", "overwritten.dcm", "noise.dcm")
    for name in names:
        assert non_image_reason(tmp_path / name) is None, name


def test_what_cannot_be_judged_is_an_image_lost_and_nothing_leaks(tmp_path, make_dicom):
    """A corrupt SOP class value crashed read_cine (and a whole report); a deflate bomb was inflated whole."""
    import warnings

    from _hostile import deflate_bomb

    path = make_dicom(tmp_path / "bad_vr.dcm", PIXELS)
    data = path.read_bytes()
    at = data.index(b"\x08\x00\x16\x00UI")  # SOPClassUID's tag and VR
    path.write_bytes(data[:at + 4] + b"UL" + data[at + 6:])
    bomb = deflate_bomb(tmp_path / "bomb.dcm", 1 << 28)
    invalid = make_dicom(tmp_path / "sr.dcm", PIXELS, SOPClassUID="1.2.840.10008.5.1.4.1.1.88.011", pixel_data=False)
    transfer = make_dicom(tmp_path / "odd.dcm", PIXELS, SOPClassUID="1.2.840.10008.1.2.1", pixel_data=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert non_image_reason(path) is None
        assert non_image_reason(bomb) is None
        assert non_image_reason(invalid) is None  # an invalid UID pydicom does not know: judged as an image
        assert non_image_reason(transfer) is None  # a known UID, but no SOP class
    assert not caught, [str(w.message) for w in caught]  # no remark from pydicom reaches the caller


def test_set_aside_reason_keeps_the_readers_error(tmp_path):
    (tmp_path / "notes.txt").write_text("x\n")
    error = ValueError(f"{tmp_path / 'notes.txt'}: not a DICOM file: expected 'DICM' at byte 128")
    assert set_aside_reason(tmp_path / "notes.txt", error) == (
        f"not a DICOM image: {tmp_path / 'notes.txt'}: not DICOM, no 'DICM' at byte 128")
    assert set_aside_reason(tmp_path / "missing.dcm", error) == f"unreadable: {error}"
