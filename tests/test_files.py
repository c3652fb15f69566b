"""The file helpers shared by the package (skcardio._files)."""

import os

import pytest

from skcardio._files import picture_format, replacing


def test_replacing_writes_a_name_as_long_as_the_file_system_takes(tmp_path):
    """The temporary file's name (``.NAME.<hex>.tmp``) must not be longer than the name that fits."""
    path = tmp_path / ("L" * 250 + ".txt")
    with replacing(path) as handle:
        handle.write("written")
    assert path.read_text() == "written" and os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize(
    "head, name, expected",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(124), "SC-N-2-IM-0001-0048.dcm.png", "PNG"),
        (b"\xff\xd8\xff\xe0" + bytes(128), "scan.dcm", "JPEG"),  # the bytes, not the name
        (b"II*\x00" + bytes(128), "", "TIFF"),
        (b"MM\x00*" + bytes(128), "", "TIFF"),
        (b"nothing known", "a.JPEG", "JPEG"),  # the bytes say nothing: the name
        (b"", "b.tif", "TIFF"),
        (b"nothing known", "c.dcm", None),
        # A DICOM Part 10 file whose preamble is a TIFF header (allowed: dual-personality files) is DICOM.
        (b"II*\x00" + bytes(124) + b"DICM", "d.tiff", None),
    ],
)
def test_picture_format_tells_pictures_from_dicom(head, name, expected):
    assert picture_format(head, name) == expected
