"""The two ways read_dicom reads a file: its own header scan (skcardio.io._fastdicom) and pydicom's parse.

Every file either path accepts must give the same slice, and every file either refuses, the same error.
"""
import re
import struct

import numpy as np
import pydicom
import pytest
from pydicom.datadict import tag_for_keyword
from pydicom.uid import RLELossless

from skcardio.exceptions import DicomReadError
from skcardio.io import read_dicom


def _pydicom_view(path):
    """The slice as read through pydicom only (the fallback path)."""
    from skcardio.io._dicom import _read_pydicom

    return _read_pydicom(str(path), True)


def _same(a, b):
    np.testing.assert_array_equal(a.image, b.image)
    fields_a = {k: v for k, v in a.__dict__.items() if k != "image"}
    fields_b = {k: v for k, v in b.__dict__.items() if k != "image"}
    assert str(fields_a) == str(fields_b)


def test_fast_path_matches_pydicom_on_real_data(shared_data_root):
    from skcardio.io._fastdicom import scan_header

    paths = sorted((shared_data_root / "dicoms").glob("*/*.dcm"))[::25]
    assert paths, f"no DICOM file under {shared_data_root / 'dicoms'}"
    for path in paths:
        assert scan_header(path.read_bytes()) is not None, f"{path} left the fast path"
        _same(read_dicom(path), _pydicom_view(path))


def test_fast_path_implicit_vr_sequences_and_bits_stored(tmp_path, make_dicom):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ImplicitVRLittleEndian

    from skcardio.io._fastdicom import scan_header

    inner = Dataset()
    inner.PatientID = "NOT-THIS-ONE"  # a wanted tag inside a sequence must be ignored
    inner.ReferencedSOPInstanceUID = "1.2.3"
    pixels = np.array([[0, 4095], [-2048, 7]], np.int16)
    for syntax in (None, ImplicitVRLittleEndian):
        path = make_dicom(
            tmp_path / f"{syntax}.dcm", pixels, syntax=syntax, slope=2, intercept=1,
            ReferencedStudySequence=Sequence([inner, inner]), BitsStored=12,
        )
        assert scan_header(path.read_bytes()) is not None
        s = read_dicom(path)
        assert s.patient_id == "SYN001"
        _same(s, _pydicom_view(path))


def test_fast_path_declines_what_it_does_not_handle(tmp_path, make_dicom):
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "a.dcm", np.zeros((2, 2), np.int16))
    data = path.read_bytes()
    assert scan_header(data) is not None
    assert scan_header(data[:-4]) is None  # truncated pixel data
    assert scan_header(b"\0" * 300) is None  # no DICM magic
    # Same length UID: Explicit VR Big Endian is left to pydicom.
    assert scan_header(data.replace(b"1.2.840.10008.1.2.1", b"1.2.840.10008.1.2.2")) is None


def _big_endian_copy(path, out):
    """Re-save a little-endian test file as Explicit VR Big Endian."""
    from pydicom.uid import ExplicitVRBigEndian

    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder(">")).tobytes()
    pydicom.dcmwrite(out, ds, little_endian=False, implicit_vr=False, force_encoding=True)
    return out


def test_big_endian_matches_pydicom(tmp_path, make_dicom):
    from skcardio.io._fastdicom import scan_header

    pixels = np.array([[0, 4095], [-2048, 7], [300, -1]], np.int16)
    path = _big_endian_copy(make_dicom(tmp_path / "le.dcm", pixels, slope=2, intercept=-5), tmp_path / "be.dcm")
    assert scan_header(path.read_bytes()) is None  # read through pydicom
    s = read_dicom(path)
    np.testing.assert_array_equal(s.image, pydicom.dcmread(path).pixel_array * 2.0 - 5)
    np.testing.assert_array_equal(s.image, pixels * 2.0 - 5)
    assert s.pixel_spacing == (0.7, 0.8) and s.shape == (3, 2)


def _synthetic_files(tmp_path, make_dicom):
    """Small files taking the fast path (explicit, implicit VR) and the pydicom path (big endian)."""
    from pydicom.uid import ImplicitVRLittleEndian

    pixels = np.arange(6, dtype=np.int16).reshape(2, 3)
    explicit = make_dicom(tmp_path / "explicit.dcm", pixels, slope=2, intercept=1)
    implicit = make_dicom(tmp_path / "implicit.dcm", pixels, syntax=ImplicitVRLittleEndian)
    return {"explicit": explicit, "implicit": implicit, "big_endian": _big_endian_copy(explicit, tmp_path / "be.dcm")}


@pytest.mark.filterwarnings("ignore:Invalid value for VR:UserWarning")  # pydicom on cut UIDs
@pytest.mark.parametrize("kind", ["explicit", "implicit", "big_endian"])
@pytest.mark.parametrize("pixels", [True, False])
def test_truncated_at_every_offset_raises_dicom_read_error(tmp_path, make_dicom, kind, pixels):
    from skcardio.io._dicom import _read_pydicom

    data = _synthetic_files(tmp_path, make_dicom)[kind].read_bytes()
    cut = tmp_path / "cut.dcm"
    for offset in range(len(data)):
        cut.write_bytes(data[:offset])
        # The public reader (fast path first) and the pydicom path on its own.
        for reader in (read_dicom, lambda p, pixels: _read_pydicom(str(p), pixels)):
            with pytest.raises(DicomReadError, match=r"cut\.dcm: "):
                reader(cut, pixels=pixels)


@pytest.mark.parametrize("keyword", ["Rows", "Columns", "BitsAllocated"])
@pytest.mark.parametrize("pixels", [True, False])
def test_missing_required_element(tmp_path, make_dicom, keyword, pixels):
    path = make_dicom(tmp_path / "m.dcm", np.zeros((2, 2), np.int16))
    ds = pydicom.dcmread(path)
    delattr(ds, keyword)
    ds.save_as(path)
    with pytest.raises(DicomReadError, match=rf"m\.dcm: missing required element\(s\) {keyword} \(0028,"):
        read_dicom(path, pixels=pixels)


@pytest.mark.parametrize(
    "tags, element",
    [
        ({"spacing": ("12",)}, r"PixelSpacing \(0028,0030\) must hold 2 .* got 1 value\(s\): '12'"),
        ({"spacing": ("1", "2", "3")}, r"PixelSpacing \(0028,0030\) must hold 2 .* got 3 value\(s\): '1\\\\2\\\\3'"),
        ({"ImagePositionPatient": ["1", "2"]}, r"ImagePositionPatient \(0020,0032\) must hold 3 .* got 2"),
        ({"ImageOrientationPatient": ["1", "0", "0", "0", "1"]}, r"ImageOrientationPatient \(0020,0037\) must hold 6"),
    ],
)
def test_wrong_number_of_values_refused_by_both_paths(tmp_path, make_dicom, tags, element):
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "vm.dcm", np.zeros((2, 2), np.int16), **tags)
    assert scan_header(path.read_bytes()) is not None
    with pytest.raises(DicomReadError, match=rf"vm\.dcm: {element}"):
        read_dicom(path)
    with pytest.raises(DicomReadError, match=rf"vm\.dcm: {element}"):
        _pydicom_view(path)


def test_non_decimal_value_refused_by_both_paths(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "v.dcm", np.zeros((2, 2), np.int16), slope="4.75")
    path.write_bytes(path.read_bytes().replace(b"4.75", b"1_00"))  # float("1_00") would be 100
    for reader in (read_dicom, _pydicom_view):
        with pytest.raises(DicomReadError, match=r"v\.dcm: RescaleSlope \(0028,1053\) must hold 1 .*'1_00'"):
            reader(path)


@pytest.mark.parametrize(
    "charset, name",
    [("ISO_IR 192", "Müller^Jürgen"), ("ISO_IR 100", "Müller^Jürgen"), ("ISO_IR 144", "Иванов^Иван"), (None, "Muller")],
)
def test_fast_path_decodes_text_in_the_declared_charset(tmp_path, make_dicom, charset, name):
    from skcardio.io._fastdicom import scan_header

    tags = {"SpecificCharacterSet": charset} if charset else {}
    path = make_dicom(tmp_path / "cs.dcm", np.zeros((2, 2), np.int16), patient_id=name, **tags)
    assert scan_header(path.read_bytes()) is not None
    assert read_dicom(path).patient_id == name == pydicom.dcmread(path).PatientID
    _same(read_dicom(path), _pydicom_view(path))


# --- Real-world variety: photometric interpretation, modality LUT, odd encodings ---


def _implicit_copy(path, out):
    from pydicom.uid import ImplicitVRLittleEndian

    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(out, enforce_file_format=True)
    return out


def _three_encodings(path, tmp_path):
    """The same file as explicit VR LE (fast path), implicit VR LE (fast path), big endian (pydicom)."""
    return [path, _implicit_copy(path, tmp_path / "imp.dcm"), _big_endian_copy(path, tmp_path / "be.dcm")]


@pytest.mark.parametrize("signed", [False, True])
def test_monochrome1_is_inverted_so_bright_stays_bright(tmp_path, make_dicom, signed):
    # MONOCHROME1: the minimum stored value is displayed white. The reader maps
    # it onto the MONOCHROME2 convention within the stored range (BitsStored,
    # PixelRepresentation), then applies the rescale, so a blood pool that looks
    # bright on a viewer is bright in the array.
    stored = np.array([[0, 100], [4095, 7]]) - (2048 if signed else 0)
    pixels = stored.astype(np.int16 if signed else np.uint16)
    path = make_dicom(tmp_path / "m1.dcm", pixels, slope=2, intercept=-1, BitsStored=12, HighBit=11,
                      PhotometricInterpretation="MONOCHROME1")
    lo, hi = (-2048, 2047) if signed else (0, 4095)
    expected = (lo + hi - stored) * 2.0 - 1
    for p in _three_encodings(path, tmp_path):
        np.testing.assert_array_equal(read_dicom(p).image, expected)
        assert read_dicom(p).image.dtype == np.float32
        _same(read_dicom(p), _pydicom_view(p))


@pytest.mark.parametrize("pixels", [True, False])
def test_non_grayscale_photometric_refused_by_both_paths(tmp_path, make_dicom, pixels):
    from skcardio.io._dicom import _read_pydicom

    path = make_dicom(tmp_path / "pal.dcm", np.zeros((2, 2), np.uint16), PhotometricInterpretation="PALETTE COLOR")
    for reader in (read_dicom, lambda p, pixels: _read_pydicom(str(p), pixels)):
        with pytest.raises(DicomReadError, match=r"pal\.dcm: expected a grayscale image .*MONOCHROME2.*got 'PALETTE COLOR'"):
            reader(path, pixels=pixels)


@pytest.mark.parametrize("lut_vr", ["US", "OW"])
def test_modality_lut_sequence_applied(tmp_path, make_dicom, lut_vr):
    from pydicom.dataset import Dataset
    from pydicom.pixels import apply_modality_lut
    from pydicom.sequence import Sequence

    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "US"
    lut = np.arange(4096, dtype="<u2") * 3
    item.add_new("LUTData", lut_vr, lut.tobytes() if lut_vr == "OW" else lut.tolist())
    pixels = np.array([[0, 100], [200, 4095]], np.uint16)
    path = make_dicom(tmp_path / "lut.dcm", pixels, BitsStored=12, HighBit=11, ModalityLUTSequence=Sequence([item]))
    # (An OW LUT would need its bytes swapped for the big-endian copy.)
    for p in _three_encodings(path, tmp_path)[: 3 if lut_vr == "US" else 2]:
        s = read_dicom(p)
        np.testing.assert_array_equal(s.image, pixels * 3.0)
        ds = pydicom.dcmread(p)
        np.testing.assert_array_equal(s.image, apply_modality_lut(ds.pixel_array, ds))
        _same(s, _pydicom_view(p))


def test_big_endian_8_bit_ow_matches_pydicom(tmp_path, make_dicom):
    # Explicit VR Big Endian, 8-bit pixels in an OW element: the bytes are
    # swapped in 16-bit words, so the first pixel is the second byte.
    from pydicom.uid import ExplicitVRBigEndian

    pixels = np.array([[0, 1, 2], [3, 100, 200]], np.uint8)
    path = make_dicom(tmp_path / "le8.dcm", pixels.astype(np.uint16), pixel_data=False,
                      BitsAllocated=8, BitsStored=8, HighBit=7, PixelRepresentation=0)
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    ds.PixelData = np.frombuffer(pixels.tobytes(), "<u2").astype(">u2").tobytes()
    ds["PixelData"].VR = "OW"
    out = tmp_path / "be8.dcm"
    pydicom.dcmwrite(out, ds, little_endian=False, implicit_vr=False, force_encoding=True)
    np.testing.assert_array_equal(pydicom.dcmread(out).pixel_array, pixels)
    np.testing.assert_array_equal(read_dicom(out).image, pixels)


def test_fallback_reads_the_file_once(tmp_path, make_dicom, monkeypatch):
    import os

    path = _big_endian_copy(make_dicom(tmp_path / "le.dcm", np.zeros((2, 2), np.int16)), tmp_path / "be.dcm")
    opened = []
    real_open = os.open

    def counting_open(file, *args, **kwargs):  # inputs are opened with os.open (regular files only)
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(path):
            opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    read_dicom(path)
    assert len(opened) == 1


# --- Corrupt or unusual encodings (from a fuzzing review): both paths agree ---


def _element(tag, vr, value, *, explicit=True):
    """One little-endian data element's bytes (2-byte length for the VRs used here)."""
    group, elem = tag >> 16, tag & 0xFFFF
    if not explicit:
        return struct.pack("<HHI", group, elem, len(value)) + value
    if vr in (b"OB", b"OW", b"SQ", b"UN"):
        return struct.pack("<HH2sHI", group, elem, vr, 0, len(value)) + value
    return struct.pack("<HH2sH", group, elem, vr, len(value)) + value


#: PatientID's tag and VR: the tests insert their elements before it.
_PATIENT_ID = b"\x10\x00\x20\x00LO"


def _open_sequence(*, explicit=True):
    """The header of an undefined-length sequence (ReferencedImageSequence), before its items."""
    return _element(0x00081140, b"SQ", b"", explicit=explicit)[:-4] + b"\xff\xff\xff\xff"


def _delimiter(element, length=0):
    """An item (0xE000; ``length`` 0xFFFFFFFF = undefined), item end (0xE00D) or sequence end (0xE0DD) tag."""
    return struct.pack("<HHI", 0xFFFE, element, length)


def _edit(path, old, new):
    """Replace the one occurrence of ``old`` in the file by ``new``."""
    data = path.read_bytes()
    assert data.count(old) == 1, (old, data.count(old))
    path.write_bytes(data.replace(old, new))
    return path


def _fast_view(path):
    """The slice as read by the fast path alone (None where it leaves the file to pydicom)."""
    from skcardio.io._dicom import _read_fast

    return _read_fast(path.read_bytes(), str(path), True)


def _both_refuse(path, message):
    """read_dicom (full and header-only) and the pydicom path alone raise the same error."""
    name = re.escape(path.name)
    for reader in (read_dicom, lambda p: read_dicom(p, pixels=False), _pydicom_view):
        with pytest.raises(DicomReadError, match=rf"{name}: {message}"):
            reader(path)


@pytest.mark.parametrize("keyword", ["BitsStored", "PhotometricInterpretation"])
def test_undefined_vr_code_leaves_the_fast_path(tmp_path, make_dicom, keyword):
    # PS3.5 7.1.2: an explicit VR is one of the defined codes. 'ES' is none:
    # the fast path read a 2-byte length for it and went on (a corrupt file
    # accepted); now it declines and pydicom names the element.
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "vr.dcm", np.zeros((2, 2), np.uint16), BitsStored=12,
                      PhotometricInterpretation="MONOCHROME1")
    data = path.read_bytes()
    at = data.index(_element(tag_for_keyword(keyword), b"US" if keyword == "BitsStored" else b"CS", b"")[:6])
    path.write_bytes(data[: at + 4] + b"ES" + data[at + 6 :])
    assert scan_header(path.read_bytes()) is None
    _both_refuse(path, rf"truncated or corrupt DICOM: cannot convert {keyword} \(0028,0...\) "
                       rf"\(NotImplementedError: Unknown Value Representation 'ES'")


def test_undefined_vr_code_elsewhere_is_left_to_pydicom(tmp_path, make_dicom):
    # On an element skcardio does not read, pydicom skips the value (2-byte
    # length, as for any unknown upper-case code): same slice on both paths,
    # MONOCHROME1 still inverted.
    from skcardio.io._fastdicom import scan_header

    pixels = np.array([[0, 4095]], np.uint16)
    path = make_dicom(tmp_path / "vr.dcm", pixels, BitsStored=12, PhotometricInterpretation="MONOCHROME1",
                      StudyDescription="MR")
    _edit(path, _element(0x00081030, b"LO", b"MR"), _element(0x00081030, b"ES", b"MR"))
    assert scan_header(path.read_bytes()) is None
    np.testing.assert_array_equal(read_dicom(path).image, [[4095, 0]])
    _same(read_dicom(path), _pydicom_view(path))


@pytest.mark.parametrize(
    "keyword, old, new",
    [("PixelRepresentation", b"\x01\x00", b"\x01"), ("BitsStored", b"\x0c\x00", b"\x0c\x00\x00"),
     ("Rows", b"\x02\x00", b"\x02")],
)
def test_us_value_of_odd_length_refused_by_both_paths(tmp_path, make_dicom, keyword, old, new):
    # A US of VM 1 is exactly 2 bytes. The fast path took 1 byte as absent and
    # 3 as their first 2: a file pydicom refuses gave an image.
    path = make_dicom(tmp_path / "us.dcm", np.zeros((2, 2), np.int16), BitsStored=12)
    tag = tag_for_keyword(keyword)
    _edit(path, _element(tag, b"US", old), _element(tag, b"US", new))
    _both_refuse(path, rf"truncated or corrupt DICOM: cannot convert {keyword} \(0028,0...\) \(.*BytesLengthException")


@pytest.mark.parametrize("keyword, number", [("Rows", 2), ("BitsAllocated", 16)])
def test_us_with_two_values_refused_by_both_paths(tmp_path, make_dicom, keyword, number):
    # pydicom gives a plain list of ints for 2 US values: joined as text it
    # raised TypeError; the fast path used the first value.
    path = make_dicom(tmp_path / "vm2.dcm", np.zeros((2, 2), np.int16))
    tag, value = tag_for_keyword(keyword), number.to_bytes(2, "little")
    _edit(path, _element(tag, b"US", value), _element(tag, b"US", value * 2))
    _both_refuse(path, rf"{keyword} \(0028,0..0\) must hold 1 .* got 2 value\(s\): '{number}\\\\{number}'")


def _nested_sequences(depth, explicit):
    """``depth`` levels of undefined-length sequences, each in an undefined-length item."""
    head, item = _open_sequence(explicit=explicit), _delimiter(0xE000, 0xFFFFFFFF)
    return (head + item) * depth + (_delimiter(0xE00D) + _delimiter(0xE0DD)) * depth


@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.parametrize("depth, readable", [(3, True), (60, True), (400, False)])
def test_deeply_nested_sequences_never_overflow_the_stack(tmp_path, make_dicom, implicit, depth, readable):
    # Nesting is legal and free to forge. The fast path skipped it
    # recursively (RecursionError escaped read_dicom at ~500 levels); now it
    # loops, leaving deep nesting to pydicom, whose recursive parser turns
    # the RecursionError into DicomReadError beyond what it can read.
    from pydicom.uid import ImplicitVRLittleEndian

    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "deep.dcm", np.arange(4, dtype=np.int16).reshape(2, 2),
                      syntax=ImplicitVRLittleEndian if implicit else None)
    patient = _PATIENT_ID[:4] if implicit else _PATIENT_ID  # the tag, and the VR when explicit
    _edit(path, patient, _nested_sequences(depth, not implicit) + patient)
    assert (scan_header(path.read_bytes()) is not None) == (depth <= 60)  # pydicom decides beyond
    if readable:
        np.testing.assert_array_equal(read_dicom(path).image, [[0, 1], [2, 3]])
        _same(read_dicom(path), _pydicom_view(path))
        assert (_fast_view(path) is not None) == (depth <= 60)
    else:
        _both_refuse(path, r"sequences nested too deeply for pydicom to parse \(RecursionError: .*\): expected")


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter:UserWarning")  # pydicom
def test_undefined_length_items_without_end_refused(tmp_path, make_dicom):
    # 1000 undefined-length item headers, none closed: the recursive skip
    # raised RecursionError; now the file is left to pydicom, which finds it cut short.
    path = make_dicom(tmp_path / "items.dcm", np.zeros((2, 2), np.int16))
    _edit(path, _PATIENT_ID, _open_sequence() + _delimiter(0xE000, 0xFFFFFFFF) * 1000 + _PATIENT_ID)
    _both_refuse(path, r"truncated or corrupt DICOM")


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter:UserWarning")  # pydicom
def test_mismatched_delimiter_leaves_the_fast_path(tmp_path, make_dicom):
    # An undefined-length sequence closed by an item delimiter is corrupt:
    # pydicom, reading on for the sequence delimiter, runs off the end; the
    # fast path (which took any delimiter) accepted it.
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "delim.dcm", np.zeros((2, 2), np.int16))
    _edit(path, _PATIENT_ID, _open_sequence() + _delimiter(0xE00D) + _PATIENT_ID)
    assert scan_header(path.read_bytes()) is None
    _both_refuse(path, r"truncated or corrupt DICOM \(OSError: No tag to read")


@pytest.mark.parametrize(
    "keyword, value", [("InstanceNumber", b"inf "), ("InstanceNumber", b"1e400 "), ("NumberOfFrames", b"1e400 ")]
)
@pytest.mark.parametrize("implicit", [False, True])
@pytest.mark.filterwarnings("ignore:Invalid value for VR IS:UserWarning")  # pydicom
def test_integer_string_overflow_refused_by_both_paths(tmp_path, make_dicom, keyword, value, implicit):
    # pydicom converts IS with int(float(...)): OverflowError escaped for
    # 'inf' and '1e400'. Both paths now report a malformed number, alike.
    from pydicom.uid import ImplicitVRLittleEndian

    path = make_dicom(tmp_path / "is.dcm", np.zeros((2, 2), np.int16), NumberOfFrames=1, instance=7,
                      syntax=ImplicitVRLittleEndian if implicit else None)
    tag, old = tag_for_keyword(keyword), b"7 " if keyword == "InstanceNumber" else b"1 "
    _edit(path, _element(tag, b"IS", old, explicit=not implicit), _element(tag, b"IS", value, explicit=not implicit))
    received = value.decode().strip()
    _both_refuse(path, rf"{keyword} \(00..,00..\) must hold 1 finite decimal number\(s\) .* got 1 value\(s\): '{received}'")


@pytest.mark.parametrize("bits_allocated", [None, 16])
@pytest.mark.filterwarnings("ignore:Expected explicit VR, but found implicit VR:UserWarning")  # pydicom
def test_implicit_data_set_under_explicit_vr_syntax(tmp_path, make_dicom, bits_allocated):
    # The meta says explicit VR, the data set is implicit: pydicom resolves
    # PixelData's 'OB or OW' from BitsAllocated, and raised AttributeError
    # without it. It is the documented missing-element error now.
    from pydicom.uid import ExplicitVRLittleEndian

    path = make_dicom(tmp_path / "imp.dcm", np.arange(4, dtype=np.int16).reshape(2, 2))
    ds = pydicom.dcmread(path)
    if bits_allocated is None:
        del ds.BitsAllocated
    pydicom.dcmwrite(path, ds, implicit_vr=True, little_endian=True, force_encoding=True)
    assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    if bits_allocated is None:
        _both_refuse(path, r"missing required element\(s\) BitsAllocated \(0028,0100\): a slice needs")
    else:
        np.testing.assert_array_equal(read_dicom(path).image, [[0, 1], [2, 3]])


@pytest.mark.parametrize("pixels", [True, False])
def test_undefined_length_pixel_data_under_native_syntax_refused(tmp_path, make_dicom, pixels):
    # An RLE file whose transfer syntax UID was rewritten to Explicit VR
    # Little Endian (same length): its encapsulated pixel data, item tags
    # included, was decoded as pixels on both paths (PS3.5 A.4: native pixel
    # data has a defined length).
    from pydicom.uid import ExplicitVRLittleEndian

    from skcardio.io._dicom import _read_pydicom

    path = make_dicom(tmp_path / "rle.dcm", np.arange(16, dtype=np.int16).reshape(4, 4))
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    _edit(path, RLELossless.encode(), ExplicitVRLittleEndian.encode())
    message = (r"rle\.dcm: undefined-length \(encapsulated\) pixel data under the native transfer syntax "
               r"1\.2\.840\.10008\.1\.2\.1 \(Explicit VR Little Endian\): expected 32 bytes")
    for reader in (read_dicom, lambda p, pixels: _read_pydicom(str(p), pixels)):
        with pytest.raises(DicomReadError, match=message):
            reader(path, pixels=pixels)


@pytest.mark.parametrize(
    "value, expected",
    [(b"2.5\t", 2.5), (b"2.5\xa0", 2.5), (b"\t2.5 ", 2.5), (b" 2.5\0", 2.5), (b"\x002.5 ", None), (b"2.5\x00\t", 2.5)],
)
@pytest.mark.parametrize("implicit", [False, True])
def test_decimal_string_padding_as_pydicom(tmp_path, make_dicom, value, expected, implicit):
    # pydicom strips all whitespace around a DS (tab, NBSP...) and trailing
    # spaces and NULs, nothing else: the fast path (which stripped spaces and
    # NULs at both ends) now does the same, so both paths read or refuse alike.
    from pydicom.uid import ImplicitVRLittleEndian

    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "ds.dcm", np.array([[1, 2]], np.int16), slope=4,
                      syntax=ImplicitVRLittleEndian if implicit else None)
    _edit(path, _element(0x00281053, b"DS", b"4.0 ", explicit=not implicit),
          _element(0x00281053, b"DS", value, explicit=not implicit))
    assert scan_header(path.read_bytes()) is not None
    if expected is None:
        received = repr(value.decode("latin-1").strip().rstrip(" \0"))
        _both_refuse(path, rf"RescaleSlope \(0028,1053\) must hold 1 .*: {re.escape(received)}")
    else:
        assert _fast_view(path).rescale_slope == expected
        _same(_fast_view(path), _pydicom_view(path))


@pytest.mark.parametrize(
    "values, expected",
    [(b"\t0.5\\0.25\xa0", (0.5, 0.25)), (b"0.5 \\ 0.25 ", (0.5, 0.25)), (b"0.5\\ \\0.25", None)],
)
def test_multi_valued_decimal_string_padding_as_pydicom(tmp_path, make_dicom, values, expected):
    # Each value of a DS is stripped of whitespace too, unless blank.
    path = make_dicom(tmp_path / "ms.dcm", np.zeros((2, 2), np.int16), spacing=(1, 2))
    _edit(path, _element(0x00280030, b"DS", b"1.0\\2.0 "), _element(0x00280030, b"DS", values))
    if expected is None:  # a blank value: quoted as pydicom keeps it, unstripped
        _both_refuse(path, r"PixelSpacing \(0028,0030\) must hold 2 .* got 3 value\(s\): '0\.5\\\\ \\\\0\.25'")
    else:
        assert _fast_view(path).pixel_spacing == expected
        _same(_fast_view(path), _pydicom_view(path))


@pytest.mark.parametrize("value", [b" MONOCHROME1", b"MONOCHROME1\0\0"])
def test_code_string_padding_as_pydicom(tmp_path, make_dicom, value):
    # pydicom removes only trailing spaces and NULs from a CS: a leading
    # space is part of the value, refused on both paths (the fast path
    # stripped it and inverted the image).
    path = make_dicom(tmp_path / "cs.dcm", np.array([[0, 65535]], np.uint16), PhotometricInterpretation="MONOCHROME1")
    _edit(path, _element(0x00280004, b"CS", b"MONOCHROME1 "), _element(0x00280004, b"CS", value))
    if value.startswith(b" "):
        _both_refuse(path, r"expected a grayscale image .* got ' MONOCHROME1'")
    else:
        np.testing.assert_array_equal(_fast_view(path).image, [[65535, 0]])
        _same(_fast_view(path), _pydicom_view(path))


@pytest.mark.parametrize(
    "old, new",
    [(_element(0x00201041, b"DS", b"-12.5 "), _element(0x00201041, b"LO", b" -12.5")),
     (_element(0x00280011, b"US", b"\x02\x00"), _element(0x00280011, b"SS", b"\x02\x00")),
     (b"\xe0\x7f\x10\x00OW", b"\xe0\x7f\x10\x00UN")],
    ids=["SliceLocation-LO", "Columns-SS", "PixelData-UN"],
)
def test_wanted_element_under_another_vr_is_left_to_pydicom(tmp_path, make_dicom, old, new):
    # pydicom converts by the file's VR: a SliceLocation in LO keeps its
    # leading space (refused), which the fast path's DS rules stripped. So
    # the fast path takes only the dictionary's VR (OB or OW for PixelData).
    from skcardio.io._fastdicom import scan_header

    path = _edit(make_dicom(tmp_path / "vr.dcm", np.arange(4, dtype=np.int16).reshape(2, 2)), old, new)
    assert scan_header(path.read_bytes()) is None
    _same_outcome(path)


@pytest.mark.parametrize("zeroed", [False, True])
def test_item_contents_in_an_undefined_length_sequence_are_checked(tmp_path, make_dicom, zeroed):
    # pydicom parses every item of an undefined-length sequence element by
    # element: the fast path skipped a defined-length item whole, and so
    # accepted a file whose item held an element with a zeroed length (its
    # value then read as element headers), which pydicom refuses. It walks
    # the items now, and leaves anything out of place to pydicom.
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "item.dcm", np.arange(4, dtype=np.int16).reshape(2, 2))
    content = _element(0x00081150, b"UI", b"1.2.3\0")
    if zeroed:
        content = content[:6] + b"\0\0" + content[8:]
    sequence = _open_sequence() + _delimiter(0xE000, len(content)) + content + _delimiter(0xE0DD)
    _edit(path, _PATIENT_ID, sequence + _PATIENT_ID)
    assert (scan_header(path.read_bytes()) is None) == zeroed
    if zeroed:
        _both_refuse(path, "truncated or corrupt DICOM")
    else:
        _same(read_dicom(path), _pydicom_view(path))


def _same_outcome(path):
    """read_dicom gives what the pydicom path alone gives: the same slice, or the same error."""
    try:
        expected = _pydicom_view(path)
    except DicomReadError as exc:
        with pytest.raises(DicomReadError, match=re.escape(str(exc))):
            read_dicom(path)
    else:
        _same(read_dicom(path), expected)


@pytest.mark.filterwarnings("ignore:End of file reached before delimiter:UserWarning")  # pydicom
def test_item_outside_any_sequence_leaves_the_fast_path(tmp_path, make_dicom):
    # A sequence whose length was zeroed leaves its item at the top level,
    # where pydicom reads an undefined-length item up to the next sequence
    # delimiter: the fast path, which walked into the item, accepted what
    # pydicom refuses. Elements after PixelData's tag (item tags included) are
    # out of order here: pydicom decides.
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "item.dcm", np.zeros((2, 2), np.int16))
    stray = (_element(0x00081140, b"SQ", b"") + _delimiter(0xE000, 0xFFFFFFFF)
             + _element(0x00081150, b"UI", b"1.2\0") + _delimiter(0xE00D))
    _edit(path, _PATIENT_ID, stray + _PATIENT_ID)
    assert scan_header(path.read_bytes()) is None
    with pytest.raises(DicomReadError) as public:
        read_dicom(path)
    with pytest.raises(DicomReadError) as alone:
        _pydicom_view(path)
    assert str(public.value) == str(alone.value)


@pytest.mark.parametrize("spacing", [b" 0.5\\  ;1", b"0.5\\-0.2\xe9", b"0.5\\\t1x ", b"0.5\\\x1e1 "])
@pytest.mark.filterwarnings("ignore:Failed to decode byte string:UserWarning")  # pydicom, on '\xe9'
def test_malformed_value_reported_in_the_same_words_by_both_paths(tmp_path, make_dicom, spacing):
    # pydicom keeps a DS it cannot convert as text (unstripped, decoded in the
    # file's character set): the fast path leaves such files to it, so that
    # the message quotes the value alike. U+001E is whitespace to str.strip(),
    # not to float(): the fast path stripped it and accepted '\x1e1' as 1.
    path = make_dicom(tmp_path / "bad.dcm", np.zeros((2, 2), np.int16), spacing=(1, 2), SpecificCharacterSet="ISO_IR 192")
    _edit(path, _element(0x00280030, b"DS", b"1.0\\2.0 "), _element(0x00280030, b"DS", spacing))
    with pytest.raises(DicomReadError, match=r"PixelSpacing \(0028,0030\) must hold 2") as public:
        read_dicom(path)
    with pytest.raises(DicomReadError) as alone:
        _pydicom_view(path)
    assert str(public.value) == str(alone.value)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI:UserWarning")  # pydicom
def test_transfer_syntax_with_two_values_refused(tmp_path, make_dicom):
    # A garbled TransferSyntaxUID with a '\' is a list in pydicom: looking it
    # up among the native syntaxes raised TypeError (unhashable MultiValue).
    path = make_dicom(tmp_path / "ts.dcm", np.zeros((2, 2), np.int16))
    _edit(path, b"1.2.840.10008.1.2.1\0", b"1.2.840.10008.1.2\\1\0")
    _both_refuse(path, r"TransferSyntaxUID \(0002,0010\) must hold 1 UID, got 2 value\(s\): '1\.2\.840\.10008\.1\.2\\\\1'")


@pytest.mark.parametrize("cut", [False, True])
def test_elements_after_pixel_data_are_checked(tmp_path, make_dicom, cut):
    # pydicom parses what follows PixelData (here Data Set Trailing Padding)
    # and refuses a file cut inside an element header there; the fast path,
    # which stopped at PixelData, accepted it. Now it reads whole trailing
    # elements and leaves anything else to pydicom.
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "pad.dcm", np.arange(4, dtype=np.int16).reshape(2, 2))
    padding = _element(0xFFFCFFFC, b"OB", b"\0" * 4)
    path.write_bytes(path.read_bytes() + (padding[:8] if cut else padding))
    assert (scan_header(path.read_bytes()) is None) == cut
    if cut:
        _both_refuse(path, r"truncated or corrupt DICOM \(struct\.error")
    else:
        np.testing.assert_array_equal(_fast_view(path).image, [[0, 1], [2, 3]])
        _same(_fast_view(path), _pydicom_view(path))


@pytest.mark.parametrize("patient_id", [True, False])
def test_character_set_with_a_nul_refused_by_both_paths(tmp_path, make_dicom, patient_id):
    # pydicom looks SpecificCharacterSet up as it reads it: an embedded NUL
    # is a ValueError, whatever follows. The fast path looked it up only to
    # decode PatientID, and without one accepted the file.
    path = make_dicom(tmp_path / "cs.dcm", np.zeros((2, 2), np.int16), SpecificCharacterSet="ISO_IR 100")
    _edit(path, _element(0x00080005, b"CS", b"ISO_IR 100"), _element(0x00080005, b"CS", b"ISO_IR\x00100"))
    if not patient_id:
        _edit(path, _element(0x00100020, b"LO", b"SYN001"), b"")
    _both_refuse(path, r"truncated or corrupt DICOM \(ValueError: embedded null character\)")


def test_command_group_first_is_left_to_pydicom(tmp_path, make_dicom):
    # pydicom reads group 0000 elements right after the meta as a command set
    # (implicit VR) and converts them: a CommandGroupLength (UL) of 2 bytes
    # makes it refuse the file, which the fast path, skipping it, accepted.
    from skcardio.io._fastdicom import scan_header

    path = make_dicom(tmp_path / "cmd.dcm", np.zeros((2, 2), np.int16))
    first = b"\x08\x00\x16\x00UI"  # SOPClassUID, the data set's first element
    _edit(path, first, struct.pack("<HHI", 0, 0, 2) + b"\0\0" + first)
    assert scan_header(path.read_bytes()) is None
    _both_refuse(path, r"truncated or corrupt DICOM: cannot convert CommandGroupLength \(0000,0000\) \(.*BytesLengthException")
