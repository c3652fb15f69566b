"""Image folders: what a picture's header says is refused for the right reason.

A PNG header claiming 14000 x 14000 pixels or more (beyond Pillow's
decompression-bomb guard) gave "unreadable image (pillow: An unknown error
occurred while initializing plugin `pillow`.)" instead of the limit; a CMYK
JPEG was refused as "transparent pixels" (its black ink taken for alpha); a
palette or grayscale PNG whose tRNS chunk makes pixels transparent was
accepted, though transparency is refused. That check then refused label
PNGs too, though transparency means nothing for a label: a palette label whose
background index is transparent (as annotation tools save them) was refused
as "transparent pixels"; its labels are read again.
"""
import struct
import warnings
import zlib

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from PIL import Image

from skcardio.datasets import load_image_folder
from skcardio.exceptions import DatasetError
from skcardio.io import limits_context

NAME = "SC-N-2-IM-0001-0001"
SHAPE = (12, 10)


def _image():
    return (np.arange(np.prod(SHAPE)) % 200 + 20).reshape(SHAPE).astype(np.uint8)


@pytest.fixture
def root(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    label = np.zeros(SHAPE, np.uint8)
    label[3:7, 2:6] = 255
    iio.imwrite(tmp_path / "labels" / f"{NAME}.png", label)
    return tmp_path


def _load(root):
    return load_image_folder(root / "images", root / "labels")


def _png_header(path, width, height):
    """A PNG that claims ``width`` x ``height`` 8-bit gray pixels and holds none (a few dozen bytes)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
                     + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [8000, 13000, 14000, 20000, 65535])
def test_every_header_over_the_limit_gets_the_limit_message(root, side):
    # Above 2 x PIL.Image.MAX_IMAGE_PIXELS (179 M pixels: 13380 x 13380) Pillow
    # refuses to open the header: the limit was not named for 14000 and up.
    _png_header(root / "images" / f"{NAME}.png", side, side)
    with pytest.raises(DatasetError, match=rf"{NAME}\.png: the header claims {side} x {side}\b.*: {side * side} "
                                           r"values exceeds the limit max_image_pixels=33554432"):
        _load(root)


def test_a_header_beyond_pillow_under_a_raised_limit_names_pillows_guard(root):
    _png_header(root / "images" / f"{NAME}.png", 20000, 20000)
    limit = 2 * Image.MAX_IMAGE_PIXELS
    with limits_context(max_image_pixels=2**30), pytest.raises(
        DatasetError, match=rf"{NAME}\.png: the header claims 20000 x 20000 pixels: more than Pillow opens \(2 x "
                            rf"PIL\.Image\.MAX_IMAGE_PIXELS = {limit} pixels"
    ):
        _load(root)


def test_cmyk_is_refused_as_cmyk_not_as_transparency(root):
    Image.fromarray(_image()).convert("CMYK").save(root / "images" / f"{NAME}.jpg", "JPEG")
    with pytest.raises(DatasetError, match=rf"{NAME}\.jpg: CMYK colour image \(cyan, magenta, yellow and black ink: "
                                           r"its 4th channel is not transparency\); expected grayscale .*convert it"):
        _load(root)
    (root / "images" / f"{NAME}.jpg").unlink()
    tifffile.imwrite(root / "images" / f"{NAME}.tif", np.zeros((*SHAPE, 4), np.uint8), photometric="separated")
    with pytest.raises(DatasetError, match=rf"{NAME}\.tif: CMYK colour image"):
        _load(root)


def _save_png(root, image, **options):
    image.save(root / "images" / f"{NAME}.png", "PNG", **options)


@pytest.mark.parametrize("mode", ["L", "I;16"])
def test_a_gray_value_made_transparent_is_refused(root, mode):
    pixels = _image().astype(np.uint16 if mode == "I;16" else np.uint8)
    _save_png(root, Image.fromarray(pixels), transparency=int(pixels[0, 0]))
    count = int((pixels == pixels[0, 0]).sum())
    with pytest.raises(DatasetError, match=rf"{NAME}\.png: transparent pixels \({count} pixel\(s\) made transparent "
                                           rf"by the PNG's tRNS chunk: gray value {pixels[0, 0]}\); expected an opaque"):
        _load(root)
    _save_png(root, Image.fromarray(pixels), transparency=5)  # a value no pixel has: nothing transparent
    np.testing.assert_array_equal(_load(root).images[0], pixels)


def test_a_palette_with_transparent_entries_is_refused(root):
    gray = Image.fromarray(_image())
    palette = gray.convert("P")
    index = int(np.asarray(palette)[0, 0])
    _save_png(root, palette, transparency=index)
    with pytest.raises(DatasetError, match=r"transparent pixels \(\d+ pixel\(s\) made transparent by the PNG's tRNS "
                                           r"chunk: alpha values of palette entries\)"):
        _load(root)
    _save_png(root, palette)  # the same palette, opaque: read (as its gray values)
    np.testing.assert_array_equal(_load(root).images[0], _image())


def test_an_rgb_colour_key_is_refused(root):
    rgb = np.repeat(_image()[..., None], 3, axis=-1)
    key = tuple(int(v) for v in rgb[0, 0])
    _save_png(root, Image.fromarray(rgb), transparency=key)
    with pytest.raises(DatasetError, match=r"made transparent by the PNG's tRNS chunk: colour \(\d+, \d+, \d+\)\)"):
        _load(root)


def _mask():
    mask = np.zeros(SHAPE, bool)
    mask[3:7, 2:6] = True
    return mask


@pytest.mark.parametrize("transparency", [0, b"\x00\xff", b"\x80\xff"])
def test_a_palette_label_with_a_transparent_background_is_read(root, transparency):
    # Was "transparent pixels (... made transparent by the PNG's tRNS chunk: alpha values
    # of palette entries); expected an opaque image" for the label.
    Image.fromarray(_image()).save(root / "images" / f"{NAME}.png")
    label = Image.fromarray(_mask().astype(np.uint8)).convert("P")
    label.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    label.save(root / "labels" / f"{NAME}.png", transparency=transparency)
    with Image.open(root / "labels" / f"{NAME}.png") as saved:
        assert saved.mode == "P" and "transparency" in saved.info
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor does Pillow's advice to convert the palette to RGBA leak
        bunch = _load(root)
    np.testing.assert_array_equal(bunch.y[0], _mask())
    np.testing.assert_array_equal(bunch.images[0], _image())
    # As an image, the same picture is still refused: its transparent pixels hide intensities.
    (root / "images" / f"{NAME}.png").write_bytes((root / "labels" / f"{NAME}.png").read_bytes())
    with pytest.raises(DatasetError, match=rf"images/{NAME}\.png: transparent pixels \({SHAPE[0] * SHAPE[1] - 16} "
                                           r"pixel\(s\) made transparent by the PNG's tRNS chunk"):
        _load(root)


@pytest.mark.parametrize("mode", ["gray", "rgb"])
def test_a_label_colour_key_is_ignored(root, mode):
    Image.fromarray(_image()).save(root / "images" / f"{NAME}.png")
    values = _mask().astype(np.uint8) * 255
    if mode == "rgb":
        Image.fromarray(np.repeat(values[..., None], 3, axis=-1)).save(root / "labels" / f"{NAME}.png",
                                                                       transparency=(0, 0, 0))
    else:
        Image.fromarray(values).save(root / "labels" / f"{NAME}.png", transparency=0)
    np.testing.assert_array_equal(_load(root).y[0], _mask())


def test_plain_gray_and_rgb_pictures_still_read(root):
    _save_png(root, Image.fromarray(_image()))
    np.testing.assert_array_equal(_load(root).images[0], _image())
    (root / "images" / f"{NAME}.png").unlink()
    Image.fromarray(np.repeat(_image()[..., None], 3, axis=-1)).save(root / "images" / f"{NAME}.jpg", "JPEG",
                                                                     quality=100)
    assert _load(root).images.shape == (1, *SHAPE)
