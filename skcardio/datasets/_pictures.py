"""One picture of an image folder (PNG, TIFF, JPEG) -> a 2-D array, its header checked before decoding."""

from __future__ import annotations

import io
import logging
import math
import operator
import os
import re
import struct
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np

from .._files import PICTURE_SUFFIXES, picture_signature
from ..exceptions import DatasetError
from ..io import get_limits
from ..io._limits import check_study_bytes, read_regular, shorten

__all__ = ["StudyBytes", "StudyTooLarge", "read_gray"]

logger = logging.getLogger("skcardio.datasets")


class StudyTooLarge(DatasetError):
    """The images of a folder together exceed ``max_study_bytes``: no more files are read, bad or not."""


class StudyBytes:
    """The float32 bytes of the images kept so far, held against ``max_study_bytes`` before each is decoded.

    As :func:`~skcardio.io.read_dicoms` holds a study's DICOM images: 45
    pairs of 5000 x 5000 PNGs of zeros (2.2 MB on disk) ended in a
    MemoryError instead of an error naming a file and the limit.
    """

    def __init__(self) -> None:
        self.total = 0

    def check(self, path: str, rows: int, columns: int) -> None:
        """Refuse ``path``, whose image of ``rows`` x ``columns`` would bring the total beyond the limit.

        Raises
        ------
        StudyTooLarge
            Naming ``path``, the total and the limit.
        """
        check_study_bytes(self.total + 4 * rows * columns, path, StudyTooLarge)

    def add(self, image: np.ndarray) -> None:
        """Count ``image`` (float32), kept: a file found bad is not counted."""
        self.total += image.nbytes


def read_gray(path: str, *, label: bool = False, study: StudyBytes | None = None) -> np.ndarray:
    """One 2-D array from a PNG, JPEG or TIFF file; equal colour channels are merged.

    Only the decoder of the file's extension reads it (Pillow's PNG or JPEG
    plugin, tifffile), once its first bytes are that format's signature;
    its header is checked against the limits before any pixel is decoded.

    Parameters
    ----------
    path : str
        The file; its extension (``.png``, ``.jpg``, ``.jpeg``, ``.tif``,
        ``.tiff``, any case) says its format.
    label : bool, default=False
        A label mask, whose PNG ``tRNS`` chunk is ignored: annotation tools
        save palette labels with the background index transparent, and only
        the values (palette colours) say what is labelled.
    study : StudyBytes or None, default=None
        The images read so far, which this one (held as float32) must not
        bring beyond ``max_study_bytes``: checked from the header, before
        decoding (from the array, where the header cannot be read).

    Returns
    -------
    ndarray of shape (H, W)
        The pixels as stored (boolean, integer or real).

    Raises
    ------
    DatasetError
        Naming the file, if it is not one 2-D grayscale image of its
        extension's format within the limits; :class:`StudyTooLarge` if it
        would bring ``study`` beyond ``max_study_bytes``.
    """
    # A regular file of at most max_file_bytes, its claimed size checked before decoding.
    data = read_regular(path, DatasetError, "image", "max_file_bytes")
    kind = _check_format(path, data)
    decoder = "tifffile" if kind == "TIFF" else "pillow"
    with _tifffile_log(path) if kind == "TIFF" else nullcontext():
        header = _check_pixels(path, data, kind)
        if study is not None and header is not None:
            study.check(path, header.rows, header.columns)
        try:
            array = _first_page(data) if kind == "TIFF" else _decode_pillow(data, kind)
        except Exception as exc:  # OSError, ValueError, decoder-specific errors
            raise DatasetError(
                f"{path}: unreadable image ({decoder}: {_problem(exc)}); expected a valid, complete {kind} file"
            ) from exc
        if not label and header is not None and header.transparency is not None:
            _check_colour_key(path, data)
        if array.ndim == 3 and array.shape[-1] in (2, 3, 4):
            array = _merge_channels(array, path)
        if array.ndim != 2 or 0 in array.shape:
            raise DatasetError(f"{path}: array of shape {array.shape}; expected one 2-D grayscale or RGB image")
        if array.dtype.kind not in "buif":
            raise DatasetError(f"{path}: pixels of type {array.dtype}; expected integer or real intensities")
        if study is not None and header is None:
            study.check(path, *array.shape)
        return array


def _check_format(path: str, data: bytes) -> str:
    """The format of ``path``'s extension (``"PNG"``, ``"JPEG"`` or ``"TIFF"``), which its first bytes must be.

    Left to choose, Pillow tries each of its plugins that takes the bytes:
    a ``.png`` holding PostScript ran Ghostscript, and BMP, GIF, PPM or TIFF
    bytes named ``.png`` or ``.jpg`` were read without a word. A TIFF must
    hold one page (:func:`_check_one_page`).
    """
    suffix = os.path.splitext(path)[1].lower()
    kind = PICTURE_SUFFIXES[suffix]
    found = picture_signature(data)
    if found != kind:
        what = ("it is empty" if not data else f"its first bytes are those of a {found} file" if found
                else f"its first bytes {data[:16]!r} are not the {kind} signature")
        raise DatasetError(
            f"{path}: not a {kind} file: {what}; expected a {kind} file, as its extension {suffix} says "
            f"(only the {kind} decoder reads it)"
        )
    if kind == "TIFF":
        _check_one_page(path, data)
    if kind == "PNG":
        _check_png_depth(path, data)
    return kind


#: PNG colour types (IHDR) whose 16-bit samples Pillow cuts to their high 8 bits.
_PNG_CUT_TO_8_BITS = {2: "RGB", 4: "gray + alpha", 6: "RGBA"}


def _check_png_depth(path: str, data: bytes) -> None:
    """Refuse a 16-bit colour or alpha PNG, which Pillow (and so imageio) reads as 8 bits without a word.

    A 16-bit RGB image of 1000-4000 was read as 3-15. Only 16-bit gray
    (colour type 0) is kept whole; no decoder among the dependencies reads
    the others at full depth. An IHDR cut short is left to the decoder.
    """
    ihdr = _png_ihdr(data)
    if ihdr is None:
        return
    _, _, depth, colour_type = ihdr
    if depth == 16 and colour_type in _PNG_CUT_TO_8_BITS:
        raise DatasetError(
            f"{path}: 16-bit {_PNG_CUT_TO_8_BITS[colour_type]} PNG (bit depth 16, colour type {colour_type}), "
            "whose values Pillow reads cut to their high 8 bits; expected 8-bit samples, or 16-bit grayscale "
            "without alpha (colour type 0): save it as 16-bit grayscale"
        )


def _decode_pillow(data: bytes, kind: str) -> np.ndarray:
    """The first frame of a PNG or JPEG, by Pillow's plugin of ``kind`` only, as imageio's Pillow plugin gives it.

    imageio cannot be told which plugin Pillow uses: given a file that its
    format's plugin refuses, Pillow tries the others (some read any bytes).
    """
    import warnings

    from PIL import Image

    with warnings.catch_warnings():
        # Pillow's advice on decoding a palette with an alpha table (a label's transparent
        # background; an image's transparency is refused by _check_colour_key): nothing to do.
        warnings.filterwarnings("ignore", "Palette images with Transparency expressed in bytes", UserWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[kind])
        except Image.UnidentifiedImageError:  # its text names the BytesIO object
            raise ValueError(f"cannot read it as a {kind} image: its header is damaged or cut short") from None
        with image:
            # imageio's conversions (PillowPlugin._apply_transforms): a palette's colours, not its
            # indices; a 16-bit gray PNG opened as 32-bit integers back to 16 bits.
            if image.mode == "P":
                return np.array(image.convert(image.palette.mode))
            if image.format == "PNG" and image.mode == "I":
                return np.array(image.convert("I;16" if sys.byteorder == "little" else "I;16B"))
            return np.array(image)


def _problem(exc: Exception) -> str:
    """A decoder's error in a few words: its first line, after its type where the text is a bare key or index."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if not text or isinstance(exc, (LookupError, TypeError, AttributeError)):  # KeyError('0') says "0"
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text


def _check_one_page(path: str, data: bytes) -> None:
    """Refuse a TIFF of more than one page, from the link of its first page to the next.

    No chain of pages is walked: tifffile's walk (``len(handle.pages)``,
    iterating them) runs without end, its memory growing, on pages that link
    to each other (a 236-byte file), and finding the series of 40,000 pages
    takes minutes. One 2-D image is one page; a stack is not an image.
    A header or first page cut short is left to tifffile, which reports it.
    """
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\x00", b"\x00+")  # BigTIFF: 8-byte offsets and counts, 20-byte entries
    offset, count, entry, start = ("Q", "Q", 20, 8) if big else ("I", "H", 12, 4)
    try:
        (first,) = struct.unpack_from(order + offset, data, start)
        if first < start + struct.calcsize(offset):
            return  # no page after the header: tifffile reports it
        (entries,) = struct.unpack_from(order + count, data, first)
        (following,) = struct.unpack_from(order + offset, data, first + struct.calcsize(count) + entries * entry)
    except (struct.error, OverflowError):  # an offset beyond the file, or any size
        return
    if 0 < following < len(data):  # tifffile ignores a link beyond the file (a broken last page)
        raise DatasetError(
            f"{path}: TIFF of more than one page (its first page links to a next one at byte {following}); "
            "expected a single-page TIFF (one 2-D image): save each image to its own file"
        )


def _first_page(data: bytes) -> np.ndarray:
    """The pixels of a TIFF's first page, as tifffile stores them (no series, no pyramid level)."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(data)) as handle:
        return handle.pages.first.asarray()


class _Heard(logging.Filter):
    """Keeps tifffile's log records (their text, once each: the file is opened twice) instead of letting them through."""

    #: Texts kept at most: a hostile file may make tifffile say many.
    most = 100

    def __init__(self) -> None:
        super().__init__()
        self.said: dict[str, None] = {}  # in the order said

    def filter(self, record: logging.LogRecord) -> bool:
        if len(self.said) < self.most:
            self.said.setdefault(shorten(record.getMessage(), 200))
        return False


@contextmanager
def _tifffile_log(path: str) -> Iterator[None]:
    """tifffile's log records of a TIFF's reading, said as one warning naming the file if it is read.

    tifffile logs each damaged structure it meets as an error of its own,
    without the file's name: a hostile file made it print a line per page
    it walked. A file it cannot read raises a DatasetError, which says why.
    """
    heard = _Heard()
    tiff_logger = logging.getLogger("tifffile")
    tiff_logger.addFilter(heard)
    try:
        yield
    finally:
        tiff_logger.removeFilter(heard)
    if heard.said:
        count = f"{len(heard.said)}{'+' if len(heard.said) == heard.most else ''}"
        logger.warning("%s: tifffile reported %s problem(s) in this TIFF, read anyway; the first: %s",
                       path, count, next(iter(heard.said)))


@dataclass(frozen=True)
class _Header:
    """What an image file's header claims, read before decoding it."""

    #: Values (pixels x bands x frames), at least.
    values: int
    #: How to say the size in a message.
    claimed: str
    #: A colour model other than grayscale or RGB(A) (a key of _COLOUR_MODELS), or "".
    colour_model: str = ""
    #: A PNG tRNS chunk's colour key (a palette's alpha table, a gray value or an RGB triple), or None.
    transparency: object = None
    #: Whether Pillow refuses to open it (a decompression bomb by its guard).
    beyond_pillow: bool = False
    #: Frames (of an animated PNG, or a JPEG's MPO pictures, of which the first is read).
    frames: int = 1
    #: Rows and columns of the image (of its first page or frame).
    rows: int = 0
    columns: int = 0


#: Colour models refused (decoded as 3 or 4 channels, the 4th no alpha), and what they are.
_COLOUR_MODELS = {
    "CMYK": "cyan, magenta, yellow and black ink: its 4th channel is not transparency",
    "YCbCr": "luma and two chroma channels",
    "LAB": "CIE L*a*b*",
    "HSV": "hue, saturation and value",
}


def _check_pixels(path: str, data: bytes, kind: str) -> _Header | None:
    """Refuse an image whose header claims more than ``max_image_pixels``, or what cannot be read, before decoding.

    A PNG of a few KB can claim 65535 x 65535 pixels of zeros. Refused too:
    a colour model other than gray or RGB (CMYK...), an animated PNG (the
    first frame only would be read). A header that cannot be read is left to
    the decoder, which reports it (None).
    """
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a damaged header's warnings: the decoder reports the damage
            header = _claimed_size(data, kind)
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
    if header.colour_model:
        raise DatasetError(
            f"{path}: {header.colour_model} colour image ({_COLOUR_MODELS[header.colour_model]}); expected "
            "grayscale (one channel, or three equal R, G, B channels): convert it to grayscale first"
        )
    if kind == "PNG" and header.frames > 1:
        raise DatasetError(
            f"{path}: animated PNG of {header.frames} frames; expected one image: save each frame to its own file"
        )
    return header


def _claimed_size(data: bytes, kind: str) -> _Header:
    """What an image file's header claims (see :class:`_Header`)."""
    if kind == "TIFF":
        import tifffile

        # The first page only (the others are refused by _check_one_page): tifffile's walk of the
        # pages, as handle.pages, follows their links without end when two point at each other.
        with tifffile.TiffFile(io.BytesIO(data)) as handle:
            page = handle.pages.first
            # Whole numbers only: a size tag of several values makes a tuple of a dimension (a header the
            # decoder refuses: TypeError), which math.prod would repeat instead of multiplying.
            shape = tuple(operator.index(n) for n in page.shape)
            rows, columns = operator.index(page.imagelength), operator.index(page.imagewidth)
            cmyk = page.photometric == tifffile.PHOTOMETRIC.SEPARATED
            # math.prod: a hostile shape's product overflows int64 in numpy, and would pass the limit.
            return _Header(math.prod(shape), f"a page of {shape}", "CMYK" if cmyk else "", rows=rows, columns=columns)
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data), formats=[kind])
    except Image.DecompressionBombError as exc:
        # Above 2 x MAX_IMAGE_PIXELS Pillow opens no header: the size is in its message (and a PNG's IHDR).
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else 2 * Image.MAX_IMAGE_PIXELS + 1
        width, height = (_png_ihdr(data) or (0, 0))[:2]
        claimed = f"{width} x {height} pixels" if width * height == pixels else f"{pixels} pixels"
        return _Header(pixels, claimed, beyond_pillow=True)
    with image:
        frames, bands = getattr(image, "n_frames", 1), len(image.getbands())
        claimed = f"{image.width} x {image.height} x {bands} band(s) x {frames} frame(s)"
        colour_model = image.mode if image.mode in _COLOUR_MODELS else ""
        return _Header(image.width * image.height * bands * frames, claimed, colour_model,
                       image.info.get("transparency"), frames=frames, rows=image.height, columns=image.width)


def _png_ihdr(data: bytes) -> tuple[int, int, int, int] | None:
    """Width, height, bit depth and colour type of a PNG's IHDR chunk; None if ``data`` does not start as one."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR" or len(data) < 26:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big"), data[24], data[25]


def _check_colour_key(path: str, data: bytes) -> None:
    """Refuse pixels that a PNG's tRNS chunk makes transparent (decoded as opaque: see :func:`_decode_pillow`).

    A palette's alpha table, or the gray value or RGB triple that stands for
    a transparent pixel: transparency as an alpha channel is (see
    :func:`_merge_channels`). A key that no pixel has changes nothing.
    """
    from PIL import Image

    with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
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
