"""One picture of an image folder (PNG, TIFF, JPEG) -> a 2-D array, its header checked before decoding."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..exceptions import DatasetError
from ..io import get_limits
from ..io._limits import read_regular

__all__ = ["read_gray"]


def read_gray(path: str, *, label: bool = False) -> np.ndarray:
    """One 2-D array from an image file; equal colour channels are merged.

    ``label``: a label mask, whose PNG ``tRNS`` chunk is ignored. Annotation
    tools save palette labels with the background index transparent: only
    the values (palette colours) say what is labelled, as imageio decodes them.
    """
    import warnings

    import imageio.v3 as iio

    # The plugin is chosen by the extension: left to itself imageio also tries
    # its other backends (DICOM, video) on a broken file and reports theirs.
    tiff = path.lower().endswith((".tif", ".tiff"))
    plugin, kind = ("tifffile", "TIFF") if tiff else ("pillow", "PNG or JPEG")
    # A regular file of at most max_file_bytes, its claimed size checked before decoding.
    data = read_regular(path, DatasetError, "image", "max_file_bytes")
    header = _check_pixels(path, data, tiff)
    if header is not None and header.colour_model:
        raise DatasetError(
            f"{path}: {header.colour_model} colour image ({_COLOUR_MODELS[header.colour_model]}); expected "
            "grayscale (one channel, or three equal R, G, B channels): convert it to grayscale first"
        )
    try:
        with warnings.catch_warnings():
            # Pillow's advice on decoding a palette with an alpha table (a label's transparent
            # background; an image's transparency is refused below): nothing for the user to do.
            warnings.filterwarnings("ignore", "Palette images with Transparency expressed in bytes", UserWarning)
            array = np.asarray(iio.imread(data, plugin=plugin))
    except Exception as exc:  # OSError, ValueError, decoder-specific errors
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            f"{path}: unreadable image ({plugin}: {detail}); expected a valid, complete {kind} file"
        ) from exc
    if not label and header is not None and header.transparency is not None:
        _check_colour_key(path, data)
    if array.ndim == 3 and array.shape[-1] in (2, 3, 4):
        array = _merge_channels(array, path)
    if array.ndim != 2 or 0 in array.shape:
        raise DatasetError(f"{path}: array of shape {array.shape}; expected one 2-D grayscale or RGB image")
    if array.dtype.kind not in "buif":
        raise DatasetError(f"{path}: pixels of type {array.dtype}; expected integer or real intensities")
    return array


@dataclass(frozen=True)
class _Header:
    """What an image file's header claims, read before decoding it."""

    #: Values (pixels x bands x pages), at least.
    values: int
    #: How to say the size in a message.
    claimed: str
    #: A colour model other than grayscale or RGB(A) (a key of _COLOUR_MODELS), or "".
    colour_model: str = ""
    #: A PNG tRNS chunk's colour key (a palette's alpha table, a gray value or an RGB triple), or None.
    transparency: object = None
    #: Whether Pillow refuses to open it (a decompression bomb by its guard).
    beyond_pillow: bool = False


#: Colour models refused (decoded as 3 or 4 channels, the 4th no alpha), and what they are.
_COLOUR_MODELS = {
    "CMYK": "cyan, magenta, yellow and black ink: its 4th channel is not transparency",
    "YCbCr": "luma and two chroma channels",
    "LAB": "CIE L*a*b*",
    "HSV": "hue, saturation and value",
}


def _check_pixels(path: str, data: bytes, tiff: bool) -> _Header | None:
    """Refuse an image whose header claims more than ``max_image_pixels`` (all pages), before decoding.

    A PNG of a few KB can claim 65535 x 65535 pixels of zeros. A header that
    cannot be read is left to the decoder, which reports it (None).
    """
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a damaged header's warnings: the decoder reports the damage
            header = _claimed_size(data, tiff)
    except Exception:  # noqa: BLE001 (any header the decoder will refuse in its own words)
        return None
    limits = get_limits()
    if header.values > limits.max_image_pixels:
        raise DatasetError(
            f"{path}: the header claims {header.claimed}: "
            + limits.refusal("max_image_pixels", f"{header.values} values")
        )
    if header.beyond_pillow:  # max_image_pixels raised above what Pillow opens
        from PIL import Image

        raise DatasetError(
            f"{path}: the header claims {header.claimed}: more than Pillow opens (2 x PIL.Image.MAX_IMAGE_PIXELS = "
            f"{2 * Image.MAX_IMAGE_PIXELS} pixels, its decompression-bomb guard); expected at most that many "
            "(raise PIL.Image.MAX_IMAGE_PIXELS too)"
        )
    return header


def _claimed_size(data: bytes, tiff: bool) -> _Header:
    """What an image file's header claims (see :class:`_Header`)."""
    import io

    if tiff:
        import tifffile

        with tifffile.TiffFile(io.BytesIO(data)) as handle:
            pixels = sum(int(np.prod(page.shape)) for page in handle.pages)
            cmyk = handle.pages[0].photometric == tifffile.PHOTOMETRIC.SEPARATED
            return _Header(pixels, f"{len(handle.pages)} page(s) of {handle.pages[0].shape}", "CMYK" if cmyk else "")
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        # Above 2 x MAX_IMAGE_PIXELS Pillow opens no header: the size is in its message (and a PNG's IHDR).
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else 2 * Image.MAX_IMAGE_PIXELS + 1
        width, height = _png_size(data)
        claimed = f"{width} x {height} pixels" if width * height == pixels else f"{pixels} pixels"
        return _Header(pixels, claimed, beyond_pillow=True)
    with image:
        frames, bands = getattr(image, "n_frames", 1), len(image.getbands())
        claimed = f"{image.width} x {image.height} x {bands} band(s) x {frames} frame(s)"
        colour_model = image.mode if image.mode in _COLOUR_MODELS else ""
        return _Header(image.width * image.height * bands * frames, claimed, colour_model,
                       image.info.get("transparency"))


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG's IHDR chunk; (0, 0) if ``data`` does not start as a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 24:
        return 0, 0
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _check_colour_key(path: str, data: bytes) -> None:
    """Refuse pixels that a PNG's tRNS chunk makes transparent (imageio decodes them as opaque).

    A palette's alpha table, or the gray value or RGB triple that stands for
    a transparent pixel: transparency as an alpha channel is (see
    :func:`_merge_channels`). A key that no pixel has changes nothing.
    """
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        key, values = image.info.get("transparency"), np.asarray(image)
        mode = image.mode
    if key is None:
        return
    if mode == "P":  # the alpha of each palette entry: bytes, or the one transparent index
        alpha = np.full(256, 255, np.uint8)
        if isinstance(key, bytes):
            alpha[: len(key)] = np.frombuffer(key[:256], np.uint8)
        else:
            alpha[int(key)] = 0
        transparent, what = int((alpha[values] < 255).sum()), "alpha values of palette entries"
    elif values.ndim == 3:  # an RGB triple
        transparent, what = int((values[..., : len(key)] == np.asarray(key)).all(axis=-1).sum()), f"colour {key}"
    else:
        transparent, what = int((values == (bool(key) if values.dtype == bool else key)).sum()), f"gray value {key}"
    if transparent:
        raise DatasetError(
            f"{path}: transparent pixels ({transparent} pixel(s) made transparent by the PNG's tRNS chunk: {what}); "
            "expected an opaque image"
        )


def _merge_channels(array: np.ndarray, path: str) -> np.ndarray:
    """Gray (+alpha) or RGB(A) -> one channel, refusing real colour or transparency."""
    if array.shape[-1] in (2, 4):
        alpha = array[..., -1]
        opaque = np.iinfo(alpha.dtype).max if alpha.dtype.kind in "ui" else 1
        if (alpha != opaque).any():
            raise DatasetError(f"{path}: transparent pixels (alpha channel below {opaque}); expected an opaque image")
        array = array[..., :-1]
    if array.shape[-1] == 3 and not ((array[..., 0] == array[..., 1]).all() and (array[..., 0] == array[..., 2]).all()):
        differ = int(((array != array[..., :1]).any(axis=-1)).sum())
        raise DatasetError(
            f"{path}: colour image ({differ} pixel(s) with unequal R, G, B); expected grayscale "
            "(one channel, or three equal channels)"
        )
    return array[..., 0]
