"""Resource limits and hostile inputs: refused before allocating, with the file and the limit named."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from _hostile import (
    deflate_bomb,
    deflated_slice,
    large_slice,
    long_line_contour,
    many_points_contour,
    rle_bomb,
)

from skcardio.exceptions import ContourReadError, DicomReadError, SkcardioWarning
from skcardio.io import Limits, get_limits, limits_context, read_contour, read_dicom, read_dicoms, set_limits
from skcardio.io._limits import _from_environment, quote, read_regular

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev/zero and symbolic links")


def test_limits_can_be_raised_and_restored():
    before = get_limits()
    with limits_context(max_contour_points=5) as inside:
        assert inside.max_contour_points == get_limits().max_contour_points == 5
    assert get_limits() == before
    previous = set_limits(max_link_rows=7)
    try:
        assert get_limits().max_link_rows == 7 and previous == before
    finally:
        set_limits(**vars(previous))
    with pytest.raises(TypeError):
        set_limits(max_pixels=3)  # not a limit
    with pytest.raises(ValueError, match="max_line_chars must be a positive integer, got 0"):
        Limits(max_line_chars=0)


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setenv("SKCARDIO_MAX_IMAGE_PIXELS", "1_000")
    assert _from_environment().max_image_pixels == 1000
    monkeypatch.setenv("SKCARDIO_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(ValueError, match="SKCARDIO_MAX_IMAGE_PIXELS must be a positive integer, got 'lots'"):
        _from_environment()


def test_quote_bounds_long_text():
    assert quote("ab") == "'ab'"
    assert quote("x" * 1000) == repr("x" * 80) + "... (1000 characters)"


@posix_only
def test_only_regular_files_are_read(tmp_path):
    fifo = tmp_path / "pipe.dcm"
    os.mkfifo(fifo)  # nobody writes: reading would block forever
    start = time.perf_counter()
    with pytest.raises(DicomReadError, match=r"pipe\.dcm: is a pipe \(FIFO\), expected a regular DICOM file"):
        read_dicom(fifo)
    with pytest.raises(ContourReadError, match=r"pipe\.dcm: is a pipe \(FIFO\), expected a regular contour file"):
        read_contour(fifo)
    assert time.perf_counter() - start < 5
    with pytest.raises(DicomReadError, match="/dev/zero: is a character device, expected a regular DICOM file"):
        read_dicom("/dev/zero")
    with pytest.raises(DicomReadError, match="is a folder, expected a regular DICOM file"):
        read_dicom(tmp_path)
    loop = tmp_path / "loop.dcm"
    loop.symlink_to(loop)
    with pytest.raises(DicomReadError, match=r"loop\.dcm: symbolic link loop"):
        read_dicom(loop)


def test_files_over_the_size_limit_are_refused_unread(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "a.dcm", np.zeros((4, 4), np.int16))
    size = path.stat().st_size
    with limits_context(max_file_bytes=size - 1):
        with pytest.raises(DicomReadError, match=rf"a DICOM file of {size} bytes exceeds the limit max_file_bytes={size - 1} "
                           r"\(raise it with skcardio\.io\.set_limits\(max_file_bytes=\.\.\.\) or the environment "
                           r"variable SKCARDIO_MAX_FILE_BYTES\)"):
            read_dicom(path)
    with limits_context(max_file_bytes=size):
        assert read_regular(str(path), DicomReadError, "DICOM", "max_file_bytes") == path.read_bytes()


def test_rle_bomb_is_refused_before_decoding(tmp_path):
    path = rle_bomb(tmp_path / "bomb.dcm")
    assert path.stat().st_size < 4096
    start = time.perf_counter()
    for pixels in (True, False):  # qc reads headers only: refused there too
        with pytest.raises(DicomReadError, match=r"bomb\.dcm: the header claims an image of 65535 x 65535 pixels: "
                           r"4294836225 pixels exceeds the limit max_image_pixels=33554432"):
            read_dicom(path, pixels=pixels)
    assert time.perf_counter() - start < 5


def test_deflate_bomb_is_refused_before_inflating_whole(tmp_path):
    path = deflate_bomb(tmp_path / "bomb.dcm", 8 << 20)
    assert path.stat().st_size < 64 << 10
    with limits_context(max_file_bytes=4 << 20):
        with pytest.raises(DicomReadError, match=r"bomb\.dcm: the deflated data set \(a decompression bomb\?\) "
                           r"inflates to more than 4194304 bytes, which exceeds the limit max_file_bytes"):
            read_dicom(path)
    # Under the limit it is a valid (padded) slice.
    assert read_dicom(path).image.shape == (8, 8)


def test_deflated_slices_still_read(tmp_path):
    pixels = np.arange(12, dtype=np.int16).reshape(3, 4)
    np.testing.assert_array_equal(read_dicom(deflated_slice(tmp_path / "d.dcm", pixels)).image, pixels)


def test_image_pixel_limit_on_the_fast_path(tmp_path, make_dicom):
    path = make_dicom(tmp_path / "a.dcm", np.zeros((8, 8), np.int16))
    with limits_context(max_image_pixels=63):
        with pytest.raises(DicomReadError, match=r"claims an image of 8 x 8 pixels: 64 pixels exceeds the limit max_image_pixels=63"):
            read_dicom(path)


@pytest.mark.parametrize("side", [4096])
def test_a_valid_4096_slice_is_read(tmp_path, side):
    image = read_dicom(large_slice(tmp_path / "big.dcm", side)).image
    assert image.shape == (side, side) and image.dtype == np.float32


def test_study_limit_stops_reading(tmp_path, make_dicom):
    paths = [make_dicom(tmp_path / f"{i}.dcm", np.zeros((8, 8), np.int16)) for i in range(3)]
    with limits_context(max_study_bytes=2 * 8 * 8 * 4):
        with pytest.raises(DicomReadError, match=r"2\.dcm: with this image, the images read take 768 bytes: "
                           r"their size exceeds the limit max_study_bytes=512"):
            read_dicoms(paths)
        assert len(read_dicoms(paths[:2])) == 2


@pytest.mark.parametrize(
    "kwargs, says",
    [
        (dict(slope=1e36), r"RescaleSlope \(0028,1053\) 1e\+36 and RescaleIntercept \(0028,1052\) 0\.0 map the stored values to "
                           r"\[-3\.28e\+40, 3\.28e\+40\]: expected values within \+-1e\+15"),
        (dict(slope=1, intercept=-1e20), r"RescaleSlope .* map the stored values to \[-1e\+20, -1e\+20\]"),
        (dict(spacing=(0, 0.7)), r"PixelSpacing \(0028,0030\) '0\.0\\\\0\.7' is not physical: expected pixel "
                                 r"spacings within \[0\.001, 50\] mm \(cine MRI pixels measure 1-2 mm"),
        (dict(spacing=(-1, -1)), r"PixelSpacing \(0028,0030\) '-1\.0\\\\-1\.0' is not physical"),
        # Areas of 0 (0 slices kept by report) and of inf (predict's area_mm2 said "no PixelSpacing").
        (dict(spacing=(1e-300, 1e-300)), r"PixelSpacing \(0028,0030\) '1e-300\\\\1e-300' is not physical"),
        (dict(spacing=(1e200, 1e200)), r"PixelSpacing \(0028,0030\) '1e\+200\\\\1e\+200' is not physical"),
    ],
    ids=["slope-overflow", "huge-intercept", "zero-spacing", "negative-spacing", "tiny-spacing", "huge-spacing"],
)
def test_non_physical_values_are_errors(tmp_path, make_dicom, kwargs, says):
    from skcardio.io._dicom import _read_pydicom

    path = make_dicom(tmp_path / "a.dcm", np.zeros((4, 4), np.int16), **kwargs)
    for pixels in (True, False):
        with pytest.raises(DicomReadError, match=rf"a\.dcm: {says}"):
            read_dicom(path, pixels=pixels)
        with pytest.raises(DicomReadError, match=rf"a\.dcm: {says}"):  # pydicom's path says the same
            _read_pydicom(str(path), pixels)


@pytest.mark.parametrize(
    "kwargs, says",
    [
        # A slice spacing of 1.6e302 mm in report; inf in the affine of predict --nifti.
        (dict(ImagePositionPatient=[0, 0, 1e300]), r"ImagePositionPatient \(0020,0032\) '0\.0\\\\0\.0\\\\1e\+300' is not "
                                                   r"physical: expected ImagePositionPatient coordinates within "
                                                   r"\[-100000, 100000\] mm"),
        (dict(ImageOrientationPatient=[1, 0, 0, 1, 0, 0]), r"ImageOrientationPatient \(0020,0037\) row and column vectors "
                                                           r"are zero or parallel: got '1\.0\\\\0\.0\\\\0\.0\\\\1\.0"),
        # Written by some derived or anonymised exports: such a slice is still segmented.
        (dict(ImageOrientationPatient=[0] * 6), r"ImageOrientationPatient \(0020,0037\) row and column vectors are zero "
                                                r"or parallel: got '0(\.0)?\\\\0"),
        (dict(ImageOrientationPatient=[1e300, 0, 0, 0, 1e300, 0]), r"ImageOrientationPatient \(0020,0037\) '1e\+300.*' "
                                                                   r"holds vectors of lengths 1e\+300 and 1e\+300: "
                                                                   r"expected two perpendicular unit vectors"),
    ],
    ids=["far-position", "parallel-orientation", "zero-orientation", "huge-orientation"],
)
def test_non_physical_position_or_orientation_is_read_as_absent(tmp_path, make_dicom, kwargs, says):
    from skcardio.io._dicom import _read_pydicom

    path = make_dicom(tmp_path / "a.dcm", np.zeros((4, 4), np.int16), **kwargs)
    for read in (read_dicom, lambda p, pixels: _read_pydicom(str(p), pixels)):
        for pixels in (True, False):
            with pytest.warns(SkcardioWarning, match=rf"a\.dcm: {says}.*; read as absent$"):
                dicom = read(path, pixels=pixels)
            key = "image_position" if "Position" in says else "image_orientation"
            assert np.isnan(getattr(dicom, key)).all()
    with pytest.warns(SkcardioWarning) as caught:
        read_dicom(path)
    assert caught[0].filename == __file__  # the caller's line


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(spacing=(0.001, 50)),  # the physical ranges' own bounds are in
        dict(ImagePositionPatient=[-1e5, 1e5, 0]),
        dict(ImageOrientationPatient=[0.6, 0.8, 0, 0, 0, -1]),  # oblique
        dict(ImageOrientationPatient=[0.7071, 0.7071, 0, 0, 0, -1]),  # rounded to 4 decimals
        dict(ImageOrientationPatient=[1, 0, 0, 0, 0.95, 0.31]),  # lengths 1 and 0.999
    ],
)
def test_physical_values_at_the_bounds_are_read(tmp_path, make_dicom, kwargs):
    path = make_dicom(tmp_path / "a.dcm", np.zeros((4, 4), np.int16), **kwargs)
    assert read_dicom(path).image.shape == (4, 4)


def test_contour_coordinate_limit(tmp_path):
    """A point at 1e300 made evaluate fail on the whole run (a sample count of -2**63 in its metrics)."""
    # Not "from conftest import": under xdist that name may be another folder's conftest.
    path = tmp_path / "c.txt"
    path.write_text("1 1\n1e300 1e300\n2e300 1\n")
    with pytest.raises(ContourReadError, match=r"c\.txt, line 2: '1e300 1e300': a coordinate of 1e\+300 pixels in "
                                               r"magnitude exceeds the limit max_contour_coordinate=100000"):
        read_contour(path)
    path.write_text("-100000 0\n0 100000\n100000 0\n")  # at the limit: read
    assert np.abs(read_contour(path)).max() == 100_000
    with limits_context(max_contour_coordinate=99_999):
        with pytest.raises(ContourReadError, match=r"line 1: '-100000 0': a coordinate of 100000 pixels"):
            read_contour(path)


def test_contour_point_limit_and_long_lines(tmp_path):
    path = many_points_contour(tmp_path / "c.txt", 1000)
    with limits_context(max_contour_points=999):
        with pytest.raises(ContourReadError, match=r"c\.txt, line 1000: more than 999 points exceeds the limit max_contour_points=999"):
            read_contour(path)
    assert read_contour(path).shape == (1000, 2)
    path = long_line_contour(tmp_path / "long.txt", 100_000)
    with pytest.raises(ContourReadError) as info:
        read_contour(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 2: '{'9' * 80}'... (100000 characters): a line of 100000 characters exceeds")
    assert len(message) < 500  # the line is quoted cut short
    with limits_context(max_line_chars=200_000), pytest.raises(ContourReadError) as info:
        read_contour(path)  # then the parser refuses it, still quoting 80 characters
    assert "expected 2 numbers 'x y'" in str(info.value) and len(str(info.value)) < 500


def test_a_contour_of_blank_lines_is_scanned_in_memory_that_follows_the_file(tmp_path):
    """Its lines were split into one list before any limit was checked: 16 MiB of "  " lines took 370 MB."""
    from _memory import traced_peak

    n_lines = (4 << 20) // 3
    path = tmp_path / "blank.txt"
    path.write_bytes(b"  \n" * n_lines)

    def read():
        with pytest.raises(ContourReadError) as info:
            read_contour(path)
        return str(info.value)

    message, peak = traced_peak(read)
    assert message == f"{path}: empty contour file (lines 1-{n_lines} are blank), expected lines of 'x y'"
    # The bytes and the text (4 MiB each, one after the other) and one chunk of lines: 92 MB before.
    assert peak < 3 * path.stat().st_size


def test_contour_size_limit(tmp_path):
    path = many_points_contour(tmp_path / "c.txt", 100)
    with limits_context(max_text_bytes=100):
        with pytest.raises(ContourReadError, match=r"a contour file of \d+ bytes exceeds the limit max_text_bytes=100"):
            read_contour(path)
