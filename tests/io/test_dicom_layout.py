"""Pixel data must be what the header describes: one frame's bytes, in the standard bit layout.

A header whose Rows or BitsAllocated was changed left the pixel data longer
than one frame: read_dicom decoded the first frame's worth of bytes (the top
half of the image, or 16-bit data as interleaved 8-bit bytes) without a word,
and ``predict`` segmented it. A PixelRepresentation of 7 or a HighBit of 40
was read as if standard.
"""
import re

import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

from skcardio.exceptions import DicomReadError
from skcardio.io import read_dicom


def _pydicom_view(path, pixels=True):
    """The slice as read through pydicom only (the fallback path)."""
    from skcardio.io._dicom import _read_pydicom

    return _read_pydicom(str(path), pixels)


def _all_refuse(path, message):
    """read_dicom (full and header-only) and the pydicom path alone raise the same error."""
    name = re.escape(path.name)
    for reader in (read_dicom, lambda p: read_dicom(p, pixels=False), _pydicom_view):
        with pytest.raises(DicomReadError, match=rf"{name}: {message}"):
            reader(path)


def _big_endian(path):
    """Re-save a test file as Explicit VR Big Endian, its pixel data an OW element (read through pydicom)."""
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    ds["PixelData"].VR = "OW"
    pydicom.dcmwrite(path, ds, little_endian=False, implicit_vr=False, force_encoding=True)
    return path


@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian])
def test_8_bit_header_on_16_bit_data_refused(tmp_path, make_dicom, syntax):
    # Was a (16, 16) image of the 16-bit data's bytes, interleaved, on every path.
    pixels = np.arange(256, dtype=np.uint16).reshape(16, 16) * 100
    given = None if syntax == ExplicitVRBigEndian else syntax
    path = make_dicom(tmp_path / "ba8.dcm", pixels, syntax=given, BitsAllocated=8, BitsStored=8, HighBit=7)
    if syntax == ExplicitVRBigEndian:
        _big_endian(path)
        assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    _all_refuse(path, r"pixel data longer than the header declares: 512 bytes, expected 256 for one frame of "
                      r"Rows=16, Columns=16, BitsAllocated=8, SamplesPerPixel=1, NumberOfFrames=1; the header "
                      r"does not describe these pixel data")


def test_rows_halved_refused(tmp_path, make_dicom):
    # Rows=8 on 16-row data kept the top half and predict segmented it.
    path = make_dicom(tmp_path / "half.dcm", np.ones((16, 16), np.int16), Rows=8)
    _all_refuse(path, r"pixel data longer than the header declares: 512 bytes, expected 256 for one frame of "
                      r"Rows=8, Columns=16, BitsAllocated=16")


def test_trailing_bytes_refused(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "long.dcm", np.ones((4, 4), np.int16))
    ds = pydicom.dcmread(path)
    ds.PixelData += b"\0" * 2  # one even-length frame: no padding byte is allowed
    ds.save_as(path)
    _all_refuse(path, r"pixel data longer than the header declares: 34 bytes, expected 32 for one frame")


def test_one_bit_data_of_several_frames_refused_before_decoding(tmp_path, make_dicom):
    # 1-bit data long enough for 16 frames: refused for its length, as any other depth.
    path = make_dicom(tmp_path / "b.dcm", np.zeros((64, 64), np.int16), BitsAllocated=1, BitsStored=1)
    _all_refuse(path, r"pixel data longer than the header declares: 8192 bytes, expected 512 for one frame of "
                      r"Rows=64, Columns=64, BitsAllocated=1")


def test_the_padding_byte_of_an_odd_frame_is_accepted(tmp_path, make_dicom):
    pixels = np.arange(9, dtype=np.uint8).reshape(3, 3)
    path = make_dicom(tmp_path / "odd.dcm", np.zeros((3, 3), np.uint16), pixel_data=False,
                      BitsAllocated=8, BitsStored=8, PixelRepresentation=0)
    ds = pydicom.dcmread(path)
    ds.PixelData = pixels.tobytes() + b"\0"  # 9 bytes and the padding byte to even length
    ds["PixelData"].VR = "OB"
    ds.save_as(path)
    assert len(pydicom.dcmread(path).PixelData) == 10
    np.testing.assert_array_equal(read_dicom(path).image, pixels)
    np.testing.assert_array_equal(_pydicom_view(path).image, pixels)
    ds.PixelData = pixels.tobytes() + b"\0" * 3  # beyond the padding byte
    ds.save_as(path)
    _all_refuse(path, r"pixel data longer than the header declares: 12 bytes, expected 9 \(and the one padding "
                      r"byte to even length\) for one frame of Rows=3, Columns=3, BitsAllocated=8")


def test_exact_frames_still_read_on_every_path(tmp_path, make_dicom):
    pixels = np.arange(12, dtype=np.int16).reshape(3, 4) - 5
    for syntax in (None, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian):  # the bytes given are little-endian
        path = make_dicom(tmp_path / f"{syntax}.dcm", pixels, syntax=syntax)
        np.testing.assert_array_equal(read_dicom(path).image, pixels)


@pytest.mark.parametrize("value", [7, 2])
def test_pixel_representation_outside_the_standard_refused(tmp_path, make_dicom, value):
    # PixelRepresentation 7 was read as unsigned.
    path = make_dicom(tmp_path / "pr.dcm", np.full((4, 4), 60000, np.uint16), PixelRepresentation=value)
    _all_refuse(path, rf"PixelRepresentation \(0028,0103\) {value}: expected 0 \(unsigned\) or 1 \(two's complement\)")


@pytest.mark.parametrize("high_bit, stored", [(40, 16), (16, 16), (15, 12), (7, 12)])
def test_high_bit_other_than_bits_stored_minus_one_refused(tmp_path, make_dicom, high_bit, stored):
    # HighBit 40 (beyond the 16 bits allocated) was read as if 15; HighBit 15 with
    # BitsStored 12 (the stored bits at the top) was decoded from the lowest 12 bits.
    path = make_dicom(tmp_path / "hb.dcm", np.zeros((4, 4), np.uint16), BitsStored=stored, HighBit=high_bit)
    _all_refuse(path, rf"HighBit \(0028,0102\) {high_bit} with BitsStored {stored}: expected HighBit = "
                      rf"BitsStored - 1 = {stored - 1}")


def test_standard_bit_layouts_still_read(tmp_path, make_dicom):
    pixels = np.array([[0, 4095], [-2048, 7]], np.int16)
    path = make_dicom(tmp_path / "bs12.dcm", pixels, BitsStored=12, HighBit=11)
    np.testing.assert_array_equal(read_dicom(path).image, [[0, -1], [-2048, 7]])
    path = make_dicom(tmp_path / "nohb.dcm", pixels)
    ds = pydicom.dcmread(path)
    del ds.HighBit  # absent: taken as BitsStored - 1
    ds.save_as(path)
    np.testing.assert_array_equal(read_dicom(path).image, pixels)


def test_every_shared_dicom_still_reads(shared_data_root):
    paths = sorted((shared_data_root / "dicoms").glob("*/*.dcm"))
    assert paths
    for path in paths:
        assert read_dicom(path, pixels=False).shape == (256, 256), path
    for path in paths[::50]:
        assert read_dicom(path).image.shape == (256, 256), path
