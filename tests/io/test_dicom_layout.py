"""Pixel data must be what the header describes: one frame's bytes, in a possible bit layout.

A header whose Rows or BitsAllocated was changed left the pixel data longer
than one frame by a whole frame or more: read_dicom decoded the first frame's
worth of bytes (the top half of the image, or 16-bit data as interleaved 8-bit
bytes) without a word, and ``predict`` segmented it. A PixelRepresentation of
7 or a HighBit of 40 was read as if standard.

Refusing every byte beyond one frame went too far: DICOM PS3.5 8.1.1 tells
readers to accept excess padding (pydicom reads it with a warning), and older
editions allowed "12 bits stored, high bit 15", which older scanners wrote
and pydicom reads (the low BitsStored bits). Both are read, as pydicom reads them.
"""
import re
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

from skcardio.exceptions import DicomReadError, SkcardioWarning
from skcardio.io import group_by_phase, read_dicom, write_dicom_seg, write_nifti


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


def _all_read(path, expected, extra=None):
    """read_dicom (full and header-only) and the pydicom path alone read ``expected``.

    With ``extra``, each warns once, naming the file and the extra bytes, at
    the line that called read_dicom (here); without it, none warns.
    """
    name = re.escape(path.name)
    for reader in (read_dicom, lambda p: read_dicom(p, pixels=False), _pydicom_view):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            image = reader(path).image
        if image is not None:
            np.testing.assert_array_equal(image, expected)
        if extra is None:
            assert not caught, [str(w.message) for w in caught]
            continue
        assert len(caught) == 1, [str(w.message) for w in caught]
        assert caught[0].category is SkcardioWarning
        assert re.search(rf"{name}: pixel data longer than the header declares: .*; the {extra} extra byte\(s\), "
                        r"less than a row, are taken for padding and ignored$", str(caught[0].message))
    if extra is not None:  # stacklevel: the caller of read_dicom
        with pytest.warns(SkcardioWarning, match=f"the {extra} extra byte") as caught:
            read_dicom(path)
        assert caught[0].filename == __file__


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
                      r"Rows=16, Columns=16, BitsAllocated=8, SamplesPerPixel=1, NumberOfFrames=1; the 256 bytes "
                      r"beyond it hold a whole frame or more: the header does not describe these pixel data")


def test_rows_halved_refused(tmp_path, make_dicom):
    # Rows=8 on 16-row data kept the top half and predict segmented it.
    path = make_dicom(tmp_path / "half.dcm", np.ones((16, 16), np.int16), Rows=8)
    _all_refuse(path, r"pixel data longer than the header declares: 512 bytes, expected 256 for one frame of "
                      r"Rows=8, Columns=16, BitsAllocated=16")


def test_trailing_bytes_refused(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "long.dcm", np.ones((4, 4), np.int16))
    ds = pydicom.dcmread(path)
    ds.PixelData += b"\0" * 32  # a whole second frame
    ds.save_as(path)
    _all_refuse(path, r"pixel data longer than the header declares: 64 bytes, expected 32 for one frame of "
                      r"Rows=4, Columns=4, BitsAllocated=16, SamplesPerPixel=1, NumberOfFrames=1; the 32 bytes "
                      r"beyond it hold a whole frame or more: the header does not describe these pixel data")


@pytest.mark.parametrize("extra", [2, 4, 6])
@pytest.mark.parametrize("syntax", [None, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian])
def test_excess_padding_below_a_frame_read_with_a_warning(tmp_path, make_dicom, extra, syntax):
    # PS3.5 8.1.1: readers should accept excess padding (pydicom does, with a warning).
    # Was a DicomReadError for any byte beyond the frame (and its one padding byte).
    pixels = np.arange(16, dtype=np.int16).reshape(4, 4) - 3
    given = None if syntax == ExplicitVRBigEndian else syntax
    path = make_dicom(tmp_path / "pad.dcm", pixels, syntax=given)
    if syntax == ExplicitVRBigEndian:
        _big_endian(path)  # the little-endian bytes as they are: each value byte-swapped
        pixels = pixels.byteswap()
    ds = pydicom.dcmread(path)
    np.testing.assert_array_equal(ds.pixel_array, pixels)
    # Less than a row (8 bytes).
    ds.PixelData += b"\x7f" * extra
    ds.save_as(path)
    assert len(pydicom.dcmread(path).PixelData) == 32 + extra
    _all_read(path, pixels, extra)


def test_a_row_or_more_of_data_beyond_the_frame_is_refused(tmp_path, make_dicom):
    # Columns=60 on 64-column data: read as a sheared (64, 60) image with a warning before.
    pixels = np.zeros((64, 64), np.int16)
    pixels[:, 30] = 500  # a vertical bar
    path = make_dicom(tmp_path / "shear.dcm", pixels)
    ds = pydicom.dcmread(path)
    ds.Columns = 60
    ds.save_as(path)
    _all_refuse(path, r"pixel data longer than the header declares: 8192 bytes, expected 7680 .*the 512 "
                      r"bytes beyond it hold a whole row \(120 bytes\) or more")


def test_real_file_with_excess_padding_reads_as_pydicom_does(shared_data_root, tmp_path):
    # SCD0000101/1.dcm with 6 or 510 zero bytes appended: pydicom reads its image; so did skcardio
    # before the length check, and does again. A whole row (512 bytes) is refused: zeros cannot be told
    # from the last row of an image whose Columns was lowered by one.
    source = shared_data_root / "dicoms" / "SCD0000101" / "1.dcm"
    original = read_dicom(source).image
    for extra in (6, 510):
        ds = pydicom.dcmread(source)
        ds.PixelData += b"\0" * extra
        path = tmp_path / f"pad{extra}.dcm"
        ds.save_as(path)
        with pytest.warns(UserWarning, match=f"contains {extra} bytes of excess padding"):
            np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array, original)
        _all_read(path, original, extra)


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
    _all_read(path, pixels)  # silently
    ds.PixelData = pixels.tobytes() + b"\0" * 3  # beyond the padding byte: a whole row of 3 bytes
    ds.save_as(path)
    _all_refuse(path, r"pixel data longer than the header declares: 12 bytes, .*the 3 bytes beyond it hold a whole "
                      r"row \(3 bytes\) or more")
    ds.PixelData = pixels.tobytes() * 2  # a whole frame more
    ds.save_as(path)
    _all_refuse(path, r"pixel data longer than the header declares: 18 bytes, expected 9 \(and the one padding "
                      r"byte to even length\) for one frame of Rows=3, Columns=3, BitsAllocated=8")


def test_one_bit_data_with_excess_padding_read_as_one_frame(tmp_path, make_dicom):
    # pydicom decodes 1-bit data: it gets one frame's bytes, and says nothing beyond skcardio's warning.
    bits = np.random.default_rng(0).random((32, 32)) > 0.5
    path = make_dicom(tmp_path / "b1.dcm", np.zeros((32, 32), np.int16), BitsAllocated=1, BitsStored=1)
    ds = pydicom.dcmread(path)
    ds.PixelData = np.packbits(bits.ravel(), bitorder="little").tobytes() + b"\xff" * 2  # a row is 4 bytes
    ds.save_as(path)
    _all_read(path, bits, 2)


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


@pytest.mark.parametrize("high_bit, stored", [(40, 16), (16, 16), (16, 12), (7, 12), (0, 12)])
def test_impossible_high_bit_refused(tmp_path, make_dicom, high_bit, stored):
    # HighBit 40 or 16 (beyond the 16 bits allocated) was read as if 15; 7 or 0 leaves no room for 12 stored bits.
    path = make_dicom(tmp_path / "hb.dcm", np.zeros((4, 4), np.uint16), BitsStored=stored, HighBit=high_bit)
    _all_refuse(path, rf"HighBit \(0028,0102\) {high_bit} with BitsStored {stored} and BitsAllocated 16: expected "
                      rf"BitsStored - 1 <= HighBit < BitsAllocated \({stored - 1} to 15;")


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("high_bit", [15, 13])
def test_high_bit_above_bits_stored_minus_one_read_as_pydicom_does(tmp_path, make_dicom, signed, high_bit):
    # "12 bits stored, high bit 15" (older editions of PS3.5 8.1.1; older scanners) was a
    # DicomReadError. pydicom ignores HighBit and reads the low BitsStored bits: so does skcardio.
    raw = np.array([[0x1FFF, 5], [0x7823, 0x0FFF]], np.int16 if signed else np.uint16)
    path = make_dicom(tmp_path / "hb.dcm", raw, BitsStored=12, HighBit=high_bit)
    expected = pydicom.dcmread(path).pixel_array
    low = raw.astype(np.int64) & 0xFFF
    np.testing.assert_array_equal(expected, np.where(low >= 0x800, low - 0x1000, low) if signed else low)
    _all_read(path, expected)


def test_padded_and_old_high_bit_files_export(tmp_path, make_dicom):
    # The exports read the sources' headers (read_header for a SEG) and geometry (read_dicom):
    # files read_dicom reads are exported too.
    hd = pytest.importorskip("highdicom")
    pytest.importorskip("nibabel")
    paths = []
    for k in range(2):
        path = make_dicom(tmp_path / f"{k}.dcm", np.full((6, 5), 100 * k, np.uint16), instance=k + 1,
                          BitsStored=12, HighBit=15 if k else 11, ImagePositionPatient=[0.0, 0.0, 8.0 * k],
                          StudyInstanceUID="1.2.3", SeriesInstanceUID="1.2.3.4", FrameOfReferenceUID="1.2.3.9")
        ds = pydicom.dcmread(path)
        ds.PixelData += b"\0" * 6 * (1 - k)
        ds.save_as(path)
        paths.append(path)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r".*0\.dcm: pixel data longer", SkcardioWarning)
        slices = [read_dicom(p, pixels=False) for p in paths]
    assert group_by_phase(slices) == [[0, 1]]
    masks = np.zeros((2, 6, 5), bool)
    masks[:, 2:4, 1:3] = True
    assert write_nifti(masks, slices, tmp_path / "m.nii.gz").is_file()
    seg = hd.seg.segread(write_dicom_seg(masks, paths, tmp_path / "seg.dcm"))
    assert seg.NumberOfFrames == 2


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


def test_a_whole_row_of_zeros_is_refused_too(shared_data_root, tmp_path):
    # Columns - 1 on an image whose last rows are zero gives the same bytes as a row of zeros appended:
    # the zeros were taken for padding and the image read sheared, with a warning only.
    source = shared_data_root / "dicoms" / "SCD0000101" / "1.dcm"
    ds = pydicom.dcmread(source)
    ds.PixelData += b"\0" * 512
    ds.save_as(tmp_path / "pad512.dcm")
    _all_refuse(tmp_path / "pad512.dcm", r"pixel data longer than the header declares: 131584 bytes, .*the 512 bytes "
                                         r"beyond it hold a whole row \(512 bytes\) or more")

