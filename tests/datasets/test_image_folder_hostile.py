"""Image folders: hostile pictures are refused in bounded time and memory, naming the file.

A 236-byte TIFF whose two pages link to each other made ``load_image_folder``
(and ``skcardio train``) run forever, its memory growing, tifffile printing
an error line per lap; a TIFF of 40,000 one-pixel pages, each its own series,
took 153 s to be read as its first page.
"""
import base64
import io
import json
import logging
import os
import re
import struct
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

import skcardio
from skcardio.datasets import SUNNYBROOK_NAME, load_image_folder
from skcardio.exceptions import DatasetError

NAME = "SC-N-2-IM-0001-0001"
SHAPE = (1, 1)

#: The reviewer's 236-byte TIFF: two pages, each linking to the other.
CYCLE_TIF = base64.b64decode(
    "SUkqAAgAAAAJAAABBAABAAAAAQAAAAEBBAABAAAAAQAAAAIBAwABAAAACAAAAAMBAwABAAAAAQAAAAYBAwABAAAAAQAAABEBBAABAAAA"
    "AAAAABUBAwABAAAAAQAAABYBBAABAAAAAQAAABcBBAABAAAAAQAAAHoAAAAJAAABBAABAAAAAQAAAAEBBAABAAAAAQAAAAIBAwABAAAA"
    "CAAAAAMBAwABAAAAAQAAAAYBAwABAAAAAQAAABEBBAABAAAAAAAAABUBAwABAAAAAQAAABYBBAABAAAAAQAAABcBBAABAAAAAQAAAAgA"
    "AAA="
)


def _tiff_pages(pages=1, *, link_last_to=None, tags=None):
    """A little-endian TIFF of ``pages`` 1 x 1 gray pages (value 7), written byte by byte (40,000 in 0.1 s).

    ``link_last_to``: the page the last one links to (a loop) instead of none;
    ``tags``: ``{tag: (type, count, value)}`` added to every page, or replacing its own.
    """
    entries = {256: (3, 1, 1), 257: (3, 1, 1), 258: (3, 1, 8), 259: (3, 1, 1), 262: (3, 1, 1), 273: (4, 1, None),
               277: (3, 1, 1), 278: (3, 1, 1), 279: (4, 1, 1), **(tags or {})}
    size = 2 + 12 * len(entries) + 4 + 2  # the page's directory, its pixel and a pad byte
    offsets = [8 + size * k for k in range(pages)]
    out = bytearray(b"II*\x00" + struct.pack("<I", offsets[0]))
    for k, offset in enumerate(offsets):
        following = offsets[k + 1] if k + 1 < pages else (0 if link_last_to is None else offsets[link_last_to])
        out += struct.pack("<H", len(entries))
        for tag, (kind, count, value) in sorted(entries.items()):
            value = offset + size - 2 if value is None else value  # StripOffsets: the pixel after the directory
            out += struct.pack("<HHI", tag, kind, count)
            out += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        out += struct.pack("<I", following) + b"\x07\x00"
    return bytes(out)


def _folder(root, image: bytes, suffix=".tif"):
    """``root`` holding images/NAME+suffix (``image``, the bytes) and its 1 x 1 label."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "images" / f"{NAME}{suffix}").write_bytes(image)
    iio.imwrite(root / "labels" / f"{NAME}.png", np.full(SHAPE, 255, np.uint8))
    return root


def _load_each_in_a_child(roots, timeout=120):
    """``load_image_folder`` of each root in a child process killed after ``timeout`` s: a hang fails the test.

    Returns ``({root: error message or "loaded"}, the child's stderr)``.
    """
    code = (
        "import json, sys\n"
        "from skcardio.datasets import load_image_folder\n"
        "found = {}\n"
        "for root in sys.argv[1:]:\n"
        "    try:\n"
        "        load_image_folder(root)\n"
        "        found[root] = 'loaded'\n"
        "    except Exception as exc:\n"
        "        found[root] = f'{type(exc).__name__}: {exc}'\n"
        "print(json.dumps(found))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(skcardio.__file__).parents[1])}
    try:
        done = subprocess.run([sys.executable, "-c", code, *map(str, roots)], capture_output=True, text=True,
                              timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"load_image_folder ran for more than {timeout} s (stderr: {str(exc.stderr)[-500:]})")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), done.stderr


def test_tiff_pages_linking_to_each_other_are_refused_at_once(tmp_path):
    # Each of these ran without end: tifffile's walk of the pages (iterating
    # handle.pages) follows the links around the loop, its list of pages
    # growing; its own check for a loop looks once, at the 100th page, and
    # misses one that starts later (the third file).
    roots = [
        _folder(tmp_path / "reviewer", CYCLE_TIF),
        _folder(tmp_path / "self", _tiff_pages(1, link_last_to=0)),
        _folder(tmp_path / "late", _tiff_pages(150, link_last_to=120)),
    ]
    found, stderr = _load_each_in_a_child(roots)
    for root in roots:
        path = root / "images" / f"{NAME}.tif"
        assert found[str(root)].startswith(f"DatasetError: {path}: TIFF of more than one page (its first page links "
                                           "to a next one at byte "), found[str(root)]
        assert found[str(root)].endswith("expected a single-page TIFF (one 2-D image): save each image to its own file")
    assert "tifffile" not in stderr and len(stderr) < 1000  # tifffile printed a line per lap


def test_a_tiff_of_many_pages_is_refused_not_read_as_its_first(tmp_path):
    # Pages written as separate series (contiguous=False) were read as the
    # first page, the series found in time quadratic in the pages: 153 s for
    # 40,000 pages of one pixel. One image is one page.
    series = tmp_path / "series"
    series.mkdir()
    with tifffile.TiffWriter(series / "three.tif") as writer:
        for value in (7, 8, 9):
            writer.write(np.full(SHAPE, value, np.uint8), contiguous=False)
    roots = [_folder(tmp_path / "three", (series / "three.tif").read_bytes()),
             _folder(tmp_path / "many", _tiff_pages(40_000))]
    found, _ = _load_each_in_a_child(roots, timeout=60)
    for root in roots:
        assert "TIFF of more than one page" in found[str(root)], found[str(root)]
    with pytest.raises(DatasetError, match=r"images/SC-N-2-IM-0001-0001\.tif: TIFF of more than one page"):
        load_image_folder(roots[0], on_error="raise")


def test_a_single_page_tiff_reads_as_before(tmp_path):
    data = load_image_folder(_folder(tmp_path, _tiff_pages(1)))
    assert data.images.tolist() == [[[7.0]]]


def test_tifffiles_complaints_are_one_warning_naming_the_file(tmp_path, caplog):
    # tifffile logs each damaged structure as its own error, without the
    # file's name (a hostile file: a line per page it walked). A file still
    # read gets one warning naming it; one that is not is a DatasetError.
    root = _folder(tmp_path, _tiff_pages(1, tags={305: (94, 1, 0), 306: (94, 1, 0)}))  # invalid data types
    with caplog.at_level(logging.WARNING):
        data = load_image_folder(root)
    assert data.images.tolist() == [[[7.0]]]
    assert [(r.name, r.levelname) for r in caplog.records] == [("skcardio.datasets", "WARNING")]
    assert caplog.records[0].getMessage().startswith(
        f"{root / 'images' / NAME}.tif: tifffile reported 2 problem(s) in this TIFF, read anyway; the first: "
    )
    assert "invalid data type 94" in caplog.records[0].getMessage()


def test_a_tiff_header_claiming_more_values_than_int64_holds_is_refused_by_the_limit(tmp_path):
    # 4294967295 x 4294967295 x 3000 values: their product in numpy's int64
    # was negative, under max_image_pixels, and the page went to the decoder.
    side = 2**32 - 1
    root = _folder(tmp_path, _tiff_pages(1, tags={256: (4, 1, side), 257: (4, 1, side), 277: (3, 1, 3000)}))
    values = side * side * 3000
    with pytest.raises(DatasetError, match=rf"{NAME}\.tif: the header claims a page of \({side}, {side}, 3000\): "
                                           rf"{values} values exceeds the limit max_image_pixels="):
        load_image_folder(root)


#: A minimal Encapsulated PostScript file: Pillow's EPS plugin takes it, and runs Ghostscript to decode it.
EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n%%EndComments\n"
       b"newpath 0 0 moveto 1 0 lineto 1 1 lineto closepath fill\nshowpage\n%%EOF\n")


def _picture(kind):
    """A 1 x 1 gray picture (value 7) in Pillow's format ``kind``, as bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full(SHAPE, 7, np.uint8)).save(buffer, kind)
    return buffer.getvalue()


def test_postscript_named_png_is_refused_before_any_decoder_sees_it(tmp_path, monkeypatch):
    # Pillow chose its plugin by the bytes: a .png holding PostScript went to
    # its EPS plugin, which runs Ghostscript on the file's program.
    import PIL.EpsImagePlugin
    from PIL import Image

    def no_decoder(*args, **kwargs):
        pytest.fail(f"a decoder was given the file ({args}, {kwargs})")  # not an Exception: not caught

    monkeypatch.setattr(Image, "open", no_decoder)
    monkeypatch.setattr(PIL.EpsImagePlugin, "Ghostscript", no_decoder)
    monkeypatch.setattr(tifffile, "TiffFile", no_decoder)
    root = _folder(tmp_path, EPS, ".png")
    with pytest.raises(DatasetError, match=re.escape(
        f"{root / 'images' / NAME}.png: not a PNG file: its first bytes b'%!PS-Adobe-3.0 E' are not the PNG "
        "signature; expected a PNG file, as its extension .png says (only the PNG decoder reads it)"
    )):
        load_image_folder(root)


@pytest.mark.parametrize("kind, suffix, found", [
    ("BMP", ".png", None), ("PPM", ".png", None), ("GIF", ".png", None), ("TIFF", ".png", "TIFF"),
    ("PPM", ".jpg", None), ("PNG", ".jpeg", "PNG"), ("TIFF", ".JPG", "TIFF"), ("PNG", ".tif", "PNG"),
    ("JPEG", ".tiff", "JPEG"),
])
def test_a_picture_of_another_format_than_its_extension_is_refused(tmp_path, kind, suffix, found):
    # BMP, PPM and TIFF bytes named .png or .jpg were decoded without a word.
    root = _folder(tmp_path, _picture(kind), suffix)
    expected = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF"}[suffix.lower()]
    what = f"its first bytes are those of a {found} file" if found else "its first bytes b'.*' are not the "
    with pytest.raises(DatasetError, match=rf"{NAME}{re.escape(suffix)}: not a {expected} file: {what}"):
        load_image_folder(root)
    with pytest.raises(DatasetError, match=rf"no usable image with its label; 1 item\(s\) skipped: 1 x not a {expected}"):
        load_image_folder(root, on_error="skip")  # a bad file, skipped


def test_an_empty_picture_is_said_to_be_empty(tmp_path):
    root = _folder(tmp_path, b"", ".png")
    with pytest.raises(DatasetError, match=rf"{NAME}\.png: not a PNG file: it is empty; expected a PNG file"):
        load_image_folder(root)


@pytest.mark.parametrize("kind, suffix", [("PNG", ".png"), ("JPEG", ".jpg")])
def test_pillow_opens_a_picture_with_its_extensions_plugin_only(tmp_path, monkeypatch, kind, suffix):
    # Given a file its format's plugin refuses, Pillow tries the others, some of
    # which take any bytes: it is told the one format to use.
    from PIL import Image

    formats, open_image = [], Image.open

    def spy(*args, **kwargs):
        formats.append(kwargs.get("formats"))
        return open_image(*args, **kwargs)

    monkeypatch.setattr(Image, "open", spy)
    data = load_image_folder(_folder(tmp_path, _picture(kind), suffix))
    assert data.images.tolist() == [[[7.0]]]
    assert formats == [[kind]] * 2 + [["PNG"]] * 2  # the image's header and pixels, then its PNG label's


def test_a_png_pillow_cannot_identify_is_said_so_without_a_python_object(tmp_path):
    root = _folder(tmp_path, b"\x89PNG\r\n\x1a\n", ".png")  # the signature alone
    with pytest.raises(DatasetError, match=rf"{NAME}\.png: unreadable image \(pillow: cannot read it as a PNG image: "
                                           r"its header is damaged or cut short\); expected a valid, complete PNG file$"):
        load_image_folder(root)


def test_an_animated_png_is_refused_before_decoding(tmp_path):
    from PIL import Image

    buffer = io.BytesIO()
    frames = [Image.fromarray(np.full(SHAPE, value, np.uint8)) for value in (7, 8, 9)]
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    root = _folder(tmp_path, buffer.getvalue(), ".png")
    with pytest.raises(DatasetError, match=rf"{NAME}\.png: animated PNG of 3 frames; expected one image"):
        load_image_folder(root)


def _png(samples: np.ndarray, colour_type: int) -> bytes:
    """A PNG of ``samples`` (H, W[, channels]) uint8 or big-endian 16-bit, colour type ``colour_type``, built by hand.

    Pillow writes no 16-bit colour PNG.
    """
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    height, width = samples.shape[:2]
    depth = samples.dtype.itemsize * 8
    rows = samples.astype(samples.dtype.newbyteorder(">")).reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)  # filter type 0 on every row
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


@pytest.mark.parametrize("colour_type, colours, alpha, what", [
    (2, 3, False, "RGB"), (4, 1, True, "gray \\+ alpha"), (6, 3, True, "RGBA"),
])
def test_a_16_bit_colour_or_alpha_png_is_refused_not_cut_to_8_bits(tmp_path, colour_type, colours, alpha, what):
    # Pillow reads these samples' high 8 bits: an RGB image of 1000-4000 was read as 3-15.
    gray = np.array([[1000, 4000]], np.uint16)
    samples = np.dstack([gray] * colours + [np.full_like(gray, 65535)] * alpha)  # equal channels, opaque
    root = _folder(tmp_path, _png(samples, colour_type), ".png")
    iio.imwrite(root / "labels" / f"{NAME}.png", np.array([[0, 255]], np.uint8))
    with pytest.raises(DatasetError, match=rf"{NAME}\.png: 16-bit {what} PNG \(bit depth 16, colour type {colour_type}\), "
                                           r"whose values Pillow reads cut to their high 8 bits; expected 8-bit"):
        load_image_folder(root)


def test_a_16_bit_gray_png_and_8_bit_colour_ones_are_read_whole(tmp_path):
    gray = np.array([[1000, 4000]], np.uint16)
    root = _folder(tmp_path, _png(gray, 0), ".png")
    iio.imwrite(root / "labels" / f"{NAME}.png", np.array([[0, 255]], np.uint8))
    assert load_image_folder(root).images.tolist() == [[[1000.0, 4000.0]]]
    rgba = np.dstack([np.array([[10, 200]], np.uint8)] * 3 + [np.full((1, 2), 255, np.uint8)])
    (root / "images" / f"{NAME}.png").write_bytes(_png(rgba, 6))
    assert load_image_folder(root).images.tolist() == [[[10.0, 200.0]]]


def _float_tiff(values) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, np.asarray(values, np.float64))
    return buffer.getvalue()


def test_float_values_beyond_float32_are_refused_not_made_infinite(tmp_path):
    # np.full((16, 16), 1e300) passed the check for infinite values, made on
    # the float64 pixels, and became inf once cast to float32 (a RuntimeWarning).
    root = _folder(tmp_path, _float_tiff(np.full((16, 16), 1e300)))
    iio.imwrite(root / "labels" / f"{NAME}.png", np.zeros((16, 16), np.uint8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        with pytest.raises(DatasetError, match=re.escape(
            f"{NAME}.tif: 256 pixel value(s) beyond 3.403e+38 in size, the range of the float32 images; expected "
            "finite intensities within that range (NaN marks pixels without data)"
        )):
            load_image_folder(root)
    big = np.finfo(np.float32).max
    (root / "images" / f"{NAME}.tif").write_bytes(_float_tiff([[-np.inf, -1e39, big, -float(big)]]))
    iio.imwrite(root / "labels" / f"{NAME}.png", np.zeros((1, 4), np.uint8))
    with pytest.raises(DatasetError, match=re.escape(
        f"{NAME}.tif: 1 infinite pixel value(s) and 1 pixel value(s) beyond 3.403e+38 in size"
    )):
        load_image_folder(root)
    (root / "images" / f"{NAME}.tif").write_bytes(_float_tiff([[np.nan, -1e38, big, -float(big)]]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images = load_image_folder(root).images
    assert np.isnan(images[0, 0, 0]) and images[0, 0, 1:].tolist() == [np.float32(-1e38), big, -big]


def _pairs(root, names):
    """``root`` with a 1 x 1 image (7) and label per name."""
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in names:
        iio.imwrite(root / "images" / name, np.full(SHAPE, 7, np.uint8))
        iio.imwrite(root / "labels" / name, np.full(SHAPE, 255, np.uint8))
    return root


def test_an_instance_number_beyond_int64_is_a_bad_file_not_a_crash(tmp_path):
    # A digit run too long for the frame's int64 field was an OverflowError,
    # with on_error="skip" too: the whole folder failed.
    huge = "99999999999999999999999"
    root = _pairs(tmp_path, [f"SC-N-2-IM-0001-{huge}.png", "SC-N-2-IM-0001-0001.png",
                             f"SC-N-2-IM-0001-{2**63 - 1}.png"])
    reason = (f"the groups pattern {SUNNYBROOK_NAME.pattern!r} found the instance "
              f"'{huge}'; expected a whole number of digits from 0 to {2**63 - 1}")
    with pytest.raises(DatasetError, match=re.escape(f"{root / 'images'}/SC-N-2-IM-0001-{huge}.png: {reason}")):
        load_image_folder(root)
    data = load_image_folder(root, on_error="skip")
    assert data.frame.instance.tolist() == [1, 2**63 - 1]  # the largest int64 is a number still
    assert [(s.path, s.reason, s.error) for s in data.skipped] == [
        (str(root / "images" / f"SC-N-2-IM-0001-{huge}.png"), reason, True)
    ]


def test_an_instance_group_matching_other_than_digits_is_a_bad_file(tmp_path):
    # A custom pattern whose group instance matched letters failed at int() (ValueError).
    root = _pairs(tmp_path, ["P1_abc.png", "P1_12.png", "P2_\u0663.png"])  # an Arabic-Indic 3: a digit
    groups = r"(?P<patient>P\d+)_(?P<instance>\w+)"
    with pytest.raises(DatasetError, match=re.escape(f"P1_abc.png: the groups pattern {groups!r} found the instance "
                                                     "'abc'; expected a whole number of digits")):
        load_image_folder(root, groups=groups)
    data = load_image_folder(root, groups=groups, on_error="skip")
    assert data.frame.instance.tolist() == [12, 3] and len(data.skipped) == 1


def test_images_together_beyond_max_study_bytes_are_refused_before_decoding(tmp_path, monkeypatch):
    # 45 pairs of 5000 x 5000 PNGs of zeros (2.2 MB on disk) ended in a
    # MemoryError: the images together were not held against max_study_bytes.
    from skcardio.datasets import _pictures
    from skcardio.io import limits_context

    names = [f"SC-N-2-IM-0001-000{k}.png" for k in (1, 2, 3)]
    root = _pairs(tmp_path, [])
    for name in names:
        iio.imwrite(root / "images" / name, np.zeros((10, 10), np.uint8))
        iio.imwrite(root / "labels" / name, np.zeros((10, 10), np.uint8))
    decoded, decode = [], _pictures._decode_pillow
    monkeypatch.setattr(_pictures, "_decode_pillow", lambda data, kind: decoded.append(kind) or decode(data, kind))
    expected = re.escape(
        f"{root / 'images' / names[2]}: with this image, the images read take 1200 bytes: their size exceeds the "
        "limit max_study_bytes=1000 (raise it with skcardio.io.set_limits(max_study_bytes=...) or the environment "
        "variable SKCARDIO_MAX_STUDY_BYTES)"
    )
    for on_error in ("raise", "skip"):  # the limit: no more files read, whatever on_error
        decoded.clear()
        with limits_context(max_study_bytes=1000), pytest.raises(DatasetError, match=f"^{expected}$"):
            load_image_folder(root, on_error=on_error)
        assert len(decoded) == 4  # two images and their labels: the third image was not decoded
    with limits_context(max_study_bytes=1200):
        assert load_image_folder(root).images.shape == (3, 10, 10)  # float32: 400 bytes an image


def test_a_pair_found_bad_does_not_count_towards_max_study_bytes(tmp_path):
    from skcardio.io import limits_context

    names = [f"SC-N-2-IM-0001-000{k}.png" for k in (1, 2, 3)]
    root = _pairs(tmp_path, [])
    for name in names:
        iio.imwrite(root / "images" / name, np.zeros((10, 10), np.uint8))
        iio.imwrite(root / "labels" / name, np.zeros((10, 10), np.uint8))
    iio.imwrite(root / "labels" / names[1], np.arange(100, dtype=np.uint8).reshape(10, 10))  # not binary
    with limits_context(max_study_bytes=800):
        data = load_image_folder(root, on_error="skip")
    assert data.frame.image_path.tolist() == [str(root / "images" / names[k]) for k in (0, 2)]
    assert [s.reason.split(":")[0] for s in data.skipped] == ["label is not binary"]


def test_a_tiff_size_tag_of_several_values_is_an_unreadable_file(tmp_path):
    # tifffile makes a tuple of a dimension whose tag holds several values: its
    # product with the others was a repeated tuple (a TypeError against the
    # limit; with a large dimension, memory without end), not a number.
    root = _folder(tmp_path, _tiff_pages(1, tags={256: (3, 2, 1), 257: (3, 1, 3)}))  # ImageWidth (1, 0)
    with pytest.raises(DatasetError, match=rf"{NAME}\.tif: unreadable image \(tifffile: TypeError: "):
        load_image_folder(root)
