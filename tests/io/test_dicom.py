
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, RLELossless

from skcardio.exceptions import DicomReadError, SkcardioWarning
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


def test_pixel_data_of_several_frames_refused(tmp_path, make_dicom):
    """1-bit data long enough for 16 frames: pydicom decodes all 16, and predict saw 16 channels.

    Refused before decoding, for its length, as uncompressed data of any depth
    longer than one frame (tests/io/test_dicom_layout.py).
    """
    import warnings

    path = make_dicom(tmp_path / "b.dcm", np.zeros((64, 64), np.int16), BitsAllocated=1, BitsStored=1, HighBit=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pydicom warning either
        with pytest.raises(DicomReadError, match=r"b\.dcm: pixel data longer than the header declares: 8192 bytes, "
                                                 r"expected 512 for one frame of Rows=64, Columns=64, BitsAllocated=1"):
            read_dicom(path)
    # One frame's bytes (64 x 64 bits) are a 1-bit image of (Rows, Columns).
    ds = pydicom.dcmread(path)
    ds.PixelData = np.packbits(np.eye(64, dtype=np.uint8), bitorder="little").tobytes()
    ds.save_as(path)
    np.testing.assert_array_equal(read_dicom(path).image, np.eye(64))


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


@pytest.mark.parametrize("as_type", [str, Path, lambda path: str(path).encode(), lambda path: np.str_(path)],
                         ids=["str", "Path", "bytes", "numpy.str_"])
def test_read_dicoms_refuses_a_single_path_naming_it(tmp_path, make_dicom, as_type):
    # A string was read character by character: "DicomReadError: /: is a folder". A numpy.str_ was named
    # "np.str_('.../one.dcm')".
    path = make_dicom(tmp_path / "one.dcm", np.zeros((4, 4), np.int16))
    with pytest.raises(TypeError, match=r"sequence of DICOM paths, got a single path '[^']*one\.dcm'; pass \[path\]"):
        read_dicoms(as_type(path))
    assert len(read_dicoms([path])) == 1  # as a list, it is read


def test_read_dicoms_takes_memory_like_objects_and_refuses_others(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "one.dcm", np.zeros((4, 4), np.int16))

    class Cache:  # joblib.Memory's interface, as scikit-learn's Pipeline(memory=...) takes
        calls = 0

        def cache(self, func):
            Cache.calls += 1
            return func

    assert read_dicoms([path], memory=Cache())[0].image.shape == (4, 4) and Cache.calls == 1
    with pytest.raises(TypeError, match=r"memory must be None, a cache folder .* got 5 \(int\)"):
        read_dicoms([path], memory=5)


def test_not_dicom_message_says_what_was_expected(tmp_path):
    path = tmp_path / "raw.dcm"
    path.write_bytes(b"\0" * 200)
    with pytest.raises(DicomReadError, match=r"raw\.dcm: not a DICOM file: expected 'DICM' at byte 128") as info:
        read_dicom(path)
    assert "force" not in str(info.value)  # read_dicom has no force option


@pytest.mark.parametrize("name, kind", [("a.dcm.png", "PNG"), ("b.dcm", "JPEG"), ("c.tif", "TIFF")])
def test_a_picture_is_named_as_one_not_told_to_be_resaved(tmp_path, name, kind):
    """A PNG was told that 'a raw data set without that header must be re-saved as a Part 10 file'."""
    from PIL import Image

    path = tmp_path / name
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path, format=kind)
    with pytest.raises(DicomReadError, match=rf"{re.escape(name)}: not a DICOM file but a {kind} image: expected "
                                             r"'DICM' at byte 128 .* read with skcardio\.datasets\.load_image_folder$"):
        read_dicom(path)


def test_float_pixel_data_refused_with_a_clear_message(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "f.dcm", np.zeros((2, 2), np.uint16), pixel_data=False, BitsAllocated=32)
    ds = pydicom.dcmread(path)
    ds.FloatPixelData = np.ones(4, np.float32).tobytes()
    ds.save_as(path)
    with pytest.raises(DicomReadError, match=r"f\.dcm: float pixel data \(FloatPixelData \(7FE0,0008\)\) is not supported"):
        read_dicom(path)


@pytest.mark.parametrize(
    "tags, what",
    [
        ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.66.4", "Modality": "SEG"}, r"Segmentation Storage"),
        ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.66.4", "Modality": "SEG", "NumberOfFrames": 3}, r"Segmentation Storage"),
        ({"SOPClassUID": "1.2.840.10008.5.1.4.1.1.66.7"}, r"Label Map Segmentation Storage"),
        ({"Modality": "seg "}, r"Modality SEG"),
    ],
)
@pytest.mark.parametrize("pixels", [True, False])
def test_dicom_seg_refused_by_both_paths(tmp_path, make_dicom, tags, what, pixels):
    """A SEG's pixel data are a mask: read as an image, predict would segment it (and read_cine count it)."""
    from skcardio.io._dicom import _read_pydicom

    path = make_dicom(tmp_path / "seg.dcm", np.zeros((16, 16), np.uint16), **tags)
    message = rf"seg\.dcm: a DICOM SEG \({what}\), not an image: expected an MR image"
    for reader in (read_dicom, lambda p, pixels: _read_pydicom(str(p), pixels)):
        with pytest.raises(DicomReadError, match=message):
            reader(path, pixels=pixels)


@pytest.mark.parametrize("pixels", [True, False])
def test_dicom_seg_named_only_by_its_file_meta_is_refused(tmp_path, make_dicom, pixels):
    """No SOPClassUID in the data set: the file meta's MediaStorageSOPClassUID tells the class."""
    from skcardio.io._dicom import _read_pydicom

    path = make_dicom(tmp_path / "seg.dcm", np.zeros((16, 16), np.uint16), Modality="OT")
    ds = pydicom.dcmread(path)
    del ds.SOPClassUID
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    ds.save_as(path)
    for reader in (read_dicom, lambda p, pixels: _read_pydicom(str(p), pixels)):
        with pytest.raises(DicomReadError, match=r"seg\.dcm: a DICOM SEG \(Segmentation Storage\), not an image"):
            reader(path, pixels=pixels)
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"  # MR Image Storage: an image
    ds.save_as(path)
    assert read_dicom(path).image.shape == (16, 16)


def test_an_image_with_its_sop_class_is_read(tmp_path, make_dicom):
    """MR Image Storage (and any modality but SEG) reads as before."""
    path = make_dicom(tmp_path / "mr.dcm", np.arange(16, dtype=np.uint16).reshape(4, 4),
                      SOPClassUID="1.2.840.10008.5.1.4.1.1.4", Modality="MR")
    np.testing.assert_array_equal(read_dicom(path).image, np.arange(16).reshape(4, 4))


def test_non_conformant_uid_neither_warned_nor_logged(tmp_path, make_dicom, caplog):
    """A UID component with a leading zero (anonymised data) still identifies a series: pydicom's
    remark is neither a warning nor a log line (it both warns and logs; the log line went through)."""
    import logging
    import warnings

    from skcardio.io._dicom import _read_pydicom

    uid = "2.16.124.113543.6006.99.08975550791105350405"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's remark on writing it
        path = make_dicom(tmp_path / "a.dcm", np.zeros((4, 4), np.int16), SeriesInstanceUID=uid)
    caplog.clear()  # and its log line
    pydicom_logger = logging.getLogger("pydicom")
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _read_pydicom(str(path), True).series_uid == uid  # the pydicom path, where values are validated
        pydicom_logger.warning("another remark")  # pydicom's other lines still show
    assert [r.getMessage() for r in caplog.records if r.name == "pydicom"] == ["another remark"]
    assert [str(w.message) for w in caught] == []
    assert pydicom_logger.filters == []  # the filter is removed after the read


@pytest.mark.parametrize("content, hint", [
    (b"", "the file is empty"),
    (bytes(300), "every byte is 0"),
    (b"\x01" * 100, "the file is shorter than a Part 10 header: cut short, or not DICOM"),
    (b"\x01" * 300, "an image whose start was overwritten, or a raw data set"),
])
def test_files_without_the_marker_say_what_they_may_be(tmp_path, content, hint):
    # Every one was told "a raw data set without that header must be re-saved": wrong for an emptied copy.
    path = tmp_path / "1.dcm"
    path.write_bytes(content)
    with pytest.raises(DicomReadError, match=rf"1\.dcm: not a DICOM file: expected 'DICM' at byte 128 .*; {hint}"):
        read_dicom(path)


@pytest.mark.parametrize("pixels", [True, False, "header"])
def test_a_garbled_vr_in_the_file_meta_is_a_read_error(tmp_path, make_dicom, pixels):
    """One corrupt byte in (0002,0002)'s VR: pydicom decodes it at first use, where NotImplementedError escaped."""
    from _hostile import garbled_vr

    from skcardio.io import read_header

    path = garbled_vr(make_dicom(tmp_path / "bad_vr.dcm", np.zeros((8, 8), np.int16)))
    message = (f"{path}: truncated or corrupt DICOM: cannot convert MediaStorageSOPClassUID (0002,0002) "
               "(NotImplementedError: Unknown Value Representation '0x55 0xf6' in tag (0002,0002))")
    with pytest.raises(DicomReadError) as info:
        read_header(path) if pixels == "header" else read_dicom(path, pixels=pixels)
    assert str(info.value) == message


def test_a_damaged_meta_element_that_read_dicom_does_not_read_leaves_the_image_readable(tmp_path, make_dicom):
    """As an element of the data set that read_dicom does not parse; read_header, whose callers copy every
    element (the SEG export), decodes them all and leaves it out, named in a warning: it stopped the SEG
    files of a whole series for an element they need not copy."""
    from _hostile import garbled_vr

    from skcardio.io import read_header

    path = garbled_vr(make_dicom(tmp_path / "bad_vr.dcm", np.arange(64, dtype=np.int16).reshape(8, 8)),
                      b"\x02\x00\x12\x00")  # ImplementationClassUID (0002,0012)
    np.testing.assert_array_equal(read_dicom(path).image, np.arange(64).reshape(8, 8))
    with pytest.warns(SkcardioWarning, match=re.escape(f"{path}: 1 header element(s) left out, their values damaged: "
                                                        "ImplementationClassUID (0002,0012); the header is read")):
        header = read_header(path)
    assert "ImplementationClassUID" not in header.file_meta and header.Modality == "MR"


def test_a_garbled_vr_in_a_sequence_item_is_a_read_error(tmp_path, make_dicom):
    """An element of a Modality LUT Sequence item is decoded when the LUT is applied: it escaped there."""
    from _hostile import garbled_vr
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    item = Dataset()
    item.LUTDescriptor = [16, 0, 16]
    item.ModalityLUTType = "US"
    item.add_new("LUTData", "US", list(range(16)))
    path = make_dicom(tmp_path / "lut.dcm", np.zeros((4, 4), np.uint16), BitsStored=4, HighBit=3,
                      ModalityLUTSequence=Sequence([item]))
    garbled_vr(path, b"\x28\x00\x06\x30", b"US")
    for pixels in (True, False):
        with pytest.raises(DicomReadError, match=re.escape(
                f"{path}: truncated or corrupt DICOM: cannot convert LUTData (0028,3006) in ModalityLUTSequence "
                "(0028,3000) item 1 (NotImplementedError: Unknown Value Representation '0x55 0xf6'")):
            read_dicom(path, pixels=pixels)


def test_what_pydicom_raises_is_the_files_error_what_skcardio_raises_is_not(tmp_path, make_dicom, monkeypatch):
    """The guard around reading a file: an exception met in pydicom (a value decoded at first use, wherever that is)
    becomes a DicomReadError naming the file; one raised by skcardio's own code (a defect) leaves as it is."""
    from _hostile import garbled_vr

    from skcardio.io import _dicom

    path = garbled_vr(make_dicom(tmp_path / "bad_vr.dcm", np.zeros((8, 8), np.int16)))
    monkeypatch.setattr(_dicom, "_convert_values", lambda ds, path, **options: None)  # the value now decoded on first use
    with pytest.raises(DicomReadError, match=re.escape(
            f"{path}: truncated or corrupt DICOM (NotImplementedError: Unknown Value Representation '0x55 0xf6' "
            "in tag (0002,0002))")):
        read_dicom(path)

    def defect(ds, path):
        raise TypeError("a defect in skcardio")

    good = make_dicom(tmp_path / "good.dcm", np.zeros((8, 8), np.int16))
    monkeypatch.setattr(_dicom, "_read_fast", lambda data, path, pixels: None)  # read by pydicom
    monkeypatch.setattr(_dicom, "_check_image", defect)
    with pytest.raises(TypeError, match="a defect in skcardio"):
        read_dicom(good)


def test_read_header_refuses_a_deflate_bomb_as_read_dicom_does(tmp_path):
    """read_header parsed a deflated data set without read_dicom's bound on its inflated size."""
    from _hostile import deflate_bomb

    from skcardio.io import limits_context, read_header

    path = deflate_bomb(tmp_path / "bomb.dcm", 4 << 20)
    with limits_context(max_file_bytes=1 << 20):
        for read in (read_dicom, read_header):
            with pytest.raises(DicomReadError, match="a decompression bomb"):
                read(path)
