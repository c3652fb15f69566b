import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, RLELossless

from skcardio.exceptions import DicomReadError
from skcardio.io import read_dicom, read_dicoms


def test_image_is_row_col_never_transposed(tmp_path, make_dicom):
    pixels = np.arange(15, dtype=np.int16).reshape(3, 5)  # 3 rows, 5 columns
    s = read_dicom(make_dicom(tmp_path / "a.dcm", pixels))
    assert s.image.shape == (3, 5)
    assert s.image.dtype == np.float32
    assert s.image[0, 4] == 4 and s.image[2, 0] == 10
    assert s.shape == (3, 5)


def test_metadata(tmp_path, make_dicom):
    s = read_dicom(make_dicom(tmp_path / "a.dcm", np.zeros((4, 4), np.int16), instance=7, patient_id="P9"))
    assert s.patient_id == "P9"
    assert s.instance_number == 7
    assert s.pixel_spacing == (0.7, 0.8)
    assert s.slice_thickness == 8.0
    assert s.slice_location == -12.5
    assert s.trigger_time == 40.0
    assert s.image_position == (1.0, 2.0, 3.0)
    assert s.image_orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_rescale_applied(tmp_path, make_dicom):
    pixels = np.array([[0, 10], [20, 30]], np.int16)
    s = read_dicom(make_dicom(tmp_path / "a.dcm", pixels, slope=0.5, intercept=-100))
    np.testing.assert_array_equal(s.image, pixels * 0.5 - 100)


def test_missing_slope_means_one(tmp_path, make_dicom):
    pixels = np.array([[0, 10], [20, 30]], np.int16)
    s = read_dicom(make_dicom(tmp_path / "a.dcm", pixels, intercept=5))
    np.testing.assert_array_equal(s.image, pixels + 5)
    assert s.rescale_slope == 1.0


def test_no_rescale_tags_keeps_values(tmp_path, make_dicom):
    pixels = np.array([[-3, 1000]], np.int16)
    s = read_dicom(make_dicom(tmp_path / "a.dcm", pixels))
    np.testing.assert_array_equal(s.image, pixels)
    assert (s.rescale_slope, s.rescale_intercept) == (1.0, 0.0)


def test_unsigned_pixels(tmp_path, make_dicom):
    pixels = np.array([[0, 65535]], np.uint16)
    np.testing.assert_array_equal(read_dicom(make_dicom(tmp_path / "a.dcm", pixels)).image, pixels)


def test_header_only(tmp_path, make_dicom):
    s = read_dicom(make_dicom(tmp_path / "a.dcm", np.zeros((4, 6), np.int16)), pixels=False)
    assert s.image is None and s.shape == (4, 6)


def test_matches_pydicom_on_real_data(shared_data_root):
    path = shared_data_root / "dicoms" / "SCD0000101" / "48.dcm"
    s = read_dicom(path)
    np.testing.assert_array_equal(s.image, pydicom.dcmread(path).pixel_array)
    assert s.patient_id == "SCD0000101" and s.instance_number == 48
    assert s.pixel_spacing == pytest.approx((1.367188, 1.367188))


def test_not_dicom(tmp_path):
    path = tmp_path / "notes.dcm"
    path.write_text("this is not a DICOM file at all\n" * 20)
    with pytest.raises(DicomReadError, match=r"notes\.dcm: not a DICOM"):
        read_dicom(path)


def test_missing_file(tmp_path):
    with pytest.raises(DicomReadError, match="no such file"):
        read_dicom(tmp_path / "gone.dcm")


def test_truncated_pixel_data(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "t.dcm", np.zeros((64, 64), np.int16))
    data = path.read_bytes()
    path.write_bytes(data[:-3000])
    with pytest.raises(DicomReadError, match=r"t\.dcm: truncated"):
        read_dicom(path)


def test_truncated_header(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "t.dcm", np.zeros((8, 8), np.int16))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DicomReadError, match=r"t\.dcm"):
        read_dicom(path)


def test_no_pixel_data(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "np.dcm", np.zeros((4, 4), np.int16), pixel_data=False)
    with pytest.raises(DicomReadError, match=r"np\.dcm: missing required element\(s\) PixelData \(7FE0,0010\)"):
        read_dicom(path)


def test_multiframe_refused(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "mf.dcm", np.zeros((4, 4), np.int16), NumberOfFrames=2)
    with pytest.raises(DicomReadError, match="single-frame"):
        read_dicom(path)


def test_compressed_without_decoder(tmp_path, make_dicom):
    # JPEG 2000 needs pylibjpeg-openjpeg / gdcm / pillow with openjpeg: none is a dependency.
    pytest.importorskip("pydicom")
    frame = encapsulate([b"\xff\x4f\xff\x51" + b"\0" * 40])
    path = make_dicom(tmp_path / "j2k.dcm", np.zeros((4, 4), np.int16), syntax=JPEG2000Lossless, pixel_data=False)
    ds = pydicom.dcmread(path)
    ds.PixelData = frame
    ds["PixelData"].VR = "OB"
    ds.save_as(path)
    with pytest.raises(DicomReadError, match=r"j2k\.dcm: cannot decode pixel data"):
        read_dicom(path)


def test_compressed_with_builtin_decoder(tmp_path, make_dicom):
    # RLE Lossless is decoded by pydicom itself: compressed data that can be
    # decoded must give the same image.
    pixels = np.arange(16, dtype=np.int16).reshape(4, 4)
    path = make_dicom(tmp_path / "rle.dcm", pixels)
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    np.testing.assert_array_equal(read_dicom(path).image, pixels)


def test_read_dicoms_parallel_and_cached(tmp_path, make_dicom):
    paths = [make_dicom(tmp_path / f"{i}.dcm", np.full((4, 4), i, np.int16), instance=i) for i in range(4)]
    cache = tmp_path / "cache"
    first = read_dicoms(paths, n_jobs=2, memory=cache)
    assert [s.instance_number for s in first] == [0, 1, 2, 3]
    assert [float(s.image[0, 0]) for s in first] == [0.0, 1.0, 2.0, 3.0]
    # An edited file must not be served stale from the cache.
    make_dicom(paths[1], np.full((4, 4), 42, np.int16), instance=1)
    again = read_dicoms(paths, memory=cache)
    assert float(again[1].image[0, 0]) == 42.0


def test_read_dicoms_names_bad_file(tmp_path, make_dicom):
    good = make_dicom(tmp_path / "good.dcm", np.zeros((4, 4), np.int16))
    bad = tmp_path / "bad.dcm"
    bad.write_text("nope")
    with pytest.raises(DicomReadError, match=r"bad\.dcm"):
        read_dicoms([good, bad])


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


def test_not_dicom_message_says_what_was_expected(tmp_path):
    path = tmp_path / "raw.dcm"
    path.write_bytes(b"\0" * 200)
    with pytest.raises(DicomReadError, match=r"raw\.dcm: not a DICOM file: expected 'DICM' at byte 128") as info:
        read_dicom(path)
    assert "force" not in str(info.value)  # read_dicom has no force option


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


def test_float_pixel_data_refused_with_a_clear_message(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "f.dcm", np.zeros((2, 2), np.uint16), pixel_data=False, BitsAllocated=32)
    ds = pydicom.dcmread(path)
    ds.FloatPixelData = np.ones(4, np.float32).tobytes()
    ds.save_as(path)
    with pytest.raises(DicomReadError, match=r"f\.dcm: float pixel data \(FloatPixelData \(7FE0,0008\)\) is not supported"):
        read_dicom(path)


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
    import builtins
    import io
    import os

    path = _big_endian_copy(make_dicom(tmp_path / "le.dcm", np.zeros((2, 2), np.int16)), tmp_path / "be.dcm")
    opened = []
    real_open = io.open

    def counting_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(path):
            opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    read_dicom(path)
    assert len(opened) == 1
