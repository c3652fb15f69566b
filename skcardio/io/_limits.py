"""Resource limits on inputs, checked before anything is allocated; physical ranges of header values; regular files only.

Every reader of skcardio checks the size an input claims (bytes, pixels,
points, rows, network size) against :class:`Limits` before allocating it, so
that a hostile or broken file (a decompression bomb, ``/dev/zero``, a
10-million-point contour) is refused in a fraction of a second with an error
naming the file and the limit, instead of exhausting memory. The defaults are
far above any cine-MRI data; raise them with :func:`set_limits`,
:func:`limits_context` or ``SKCARDIO_<NAME>`` environment variables.

The :class:`PhysicalRange` constants bound what a header value can mean
(a pixel spacing, a slice distance, a patient coordinate, a heart rate):
fixed, generous physical bounds, not resources, so they are not raised. A
value beyond them is a broken or hostile file, which would otherwise give
volumes of 0 or of 10^300 mL, or a cardiac output of millions of L/min.
"""

from __future__ import annotations

import codecs
import dataclasses
import errno
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = [
    "Limits", "get_limits", "set_limits", "limits_context", "check_study_bytes", "read_regular", "open_regular",
    "utf8_text", "NotUtf8", "quote", "shorten", "PhysicalRange",
]

_MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Largest inputs skcardio reads; anything larger is refused before it is allocated.

    Each limit can be raised with :func:`set_limits` (process-wide),
    :func:`limits_context` (a ``with`` block) or the environment variable
    ``SKCARDIO_`` + the upper-case name (e.g. ``SKCARDIO_MAX_IMAGE_PIXELS``),
    read when skcardio is imported.

    Parameters
    ----------
    max_file_bytes : int, default 256 MiB
        Size of a DICOM file, and of its data set once inflated (deflated
        transfer syntax).
    max_image_pixels : int, default 2**25 (33.5 million, e.g. 5792 x 5792)
        Pixels (rows x columns x frames x samples) that the header of one
        DICOM image claims, checked before decoding: a 2 KB RLE file claiming
        65535 x 65535 is refused, a 4096 x 4096 image is read.
    max_study_bytes : int, default 4 GiB
        Decoded float32 bytes of all the images that one call to
        :func:`~skcardio.io.read_dicoms`, :func:`~skcardio.io.read_cine`,
        :func:`~skcardio.datasets.load_dataset` or
        :func:`~skcardio.datasets.load_image_folder` holds at once (a file
        set aside as unreadable is not counted, the others are; a picture is
        counted from its header, before it is decoded).
    max_text_bytes : int, default 16 MiB
        Size of a contour file or a ``link.csv``; and of one entry of a
        command's record of an earlier run (below): a row of
        ``predictions.csv`` or ``series.csv``, a patient of ``report.json``.
    max_record_bytes : int, default 1 GiB
        Size of a command's record of an earlier run in ``--out``
        (``predictions.csv``, ``series.csv``, ``report.json``,
        ``evaluate.json``), read as a stream to know which files of that run
        a re-run removes; the record names at most one file per 128 bytes
        of it (8.4 million). ``predictions.csv`` takes about 82 bytes a
        slice, one name each (8.4 million slices: 35,000 studies of 240),
        ``report.json`` about 7.5 KB a patient (140,000 patients); a larger
        one is not read, and the earlier run's files are kept.
    max_line_chars : int, default 4096
        Characters in one line of a contour file or ``link.csv``.
    max_contour_points : int, default 100000
        Points in one contour file (expert contours hold a few hundred).
    max_contour_coordinate : int, default 100000
        Largest ``|x|`` or ``|y|`` of a contour point, in pixels: far beyond
        any image (DICOM ``Rows`` and ``Columns`` are at most 65535). Drawing
        and measuring a contour takes time and memory in proportion to its
        extent: a point at 1e300 would need more than any memory holds.
    max_link_rows : int, default 100000
        Rows of a ``link.csv`` (one per patient).
    max_model_bytes : int, default 256 MiB
        Size of a model file, and the uncompressed size of its records.
    max_model_parameters : int, default 50 million
        Weights of the network a model file describes, counted before it is
        built (the default U-Net holds about 0.5 million); ``fit`` refuses to
        train a larger one, whose file could not be loaded.
    max_predict_pixels : int, default 2**22 (e.g. 2048 x 2048)
        Pixels of one image that ``skcardio predict`` segments (the U-Net's
        memory grows with the image: a larger slice is reported and skipped),
        and of the crops of a U-Net's ``refine`` pass: ``UNetSegmenter.load``
        refuses a model file whose ``crop_size`` squared exceeds it, and
        ``fit`` such a ``crop_size``.

    Examples
    --------
    >>> from skcardio.io import get_limits, limits_context
    >>> get_limits().max_contour_points
    100000
    >>> with limits_context(max_contour_points=10):
    ...     get_limits().max_contour_points
    10
    """

    max_file_bytes: int = 256 * _MiB
    max_image_pixels: int = 2**25
    max_study_bytes: int = 4096 * _MiB
    max_text_bytes: int = 16 * _MiB
    max_record_bytes: int = 1024 * _MiB
    max_line_chars: int = 4096
    max_contour_points: int = 100_000
    max_contour_coordinate: int = 100_000
    max_link_rows: int = 100_000
    max_model_bytes: int = 256 * _MiB
    max_model_parameters: int = 50_000_000
    max_predict_pixels: int = 2**22

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"limit {item.name} must be a positive integer, got {value!r}")

    def refusal(self, name: str, received: str) -> str:
        """The tail of an error message: ``'... exceeds the limit max_x=N (raise it with ...)'``.

        Parameters
        ----------
        name : str
            The limit exceeded, e.g. ``"max_file_bytes"``.
        received : str
            What exceeded it, e.g. ``"file a.dcm of 300 MB"``.

        Returns
        -------
        str
            ``received`` followed by the limit and how to raise it.
        """
        return (
            f"{received} exceeds the limit {name}={getattr(self, name)} (raise it with "
            f"skcardio.io.set_limits({name}=...) or the environment variable SKCARDIO_{name.upper()})"
        )


@dataclass(frozen=True)
class PhysicalRange:
    """The values a physical quantity of a cine MRI header can take; beyond them the file is broken.

    Unlike :class:`Limits` (resources, which a user may raise), these are
    fixed bounds of physics and anatomy, set generously: far outside what any
    scanner writes, well inside what keeps the arithmetic finite and the
    results meaningful. Each is checked in one place (``docs/security.md``).

    Parameters
    ----------
    quantity : str
        What the values are, e.g. ``"pixel spacings"``.
    low, high : float
        The smallest and the largest plausible value (both included).
    unit : str
        The unit of ``low`` and ``high``, e.g. ``"mm"``.
    why : str
        Why these bounds, quoted in errors.

    Examples
    --------
    >>> from skcardio.io._limits import PIXEL_SPACING_MM
    >>> 1.37 in PIXEL_SPACING_MM, 1e-300 in PIXEL_SPACING_MM, float("nan") in PIXEL_SPACING_MM
    (True, False, False)
    """

    quantity: str
    low: float
    high: float
    unit: str
    why: str

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high  # False for NaN

    def expected(self) -> str:
        """``'expected <quantity> within [low, high] <unit> (<why>)'``: the tail of an error message."""
        return f"expected {self.quantity} within [{self.low:g}, {self.high:g}] {self.unit} ({self.why})"


#: In-plane pixel size (``PixelSpacing``). Cine MRI pixels measure 1-2 mm, small-animal MRI ones
#: 0.05 mm; at 1e-300 mm every area is 0, at 1e200 mm every area overflows.
PIXEL_SPACING_MM = PhysicalRange(
    "pixel spacings", 0.001, 50.0, "mm",
    "cine MRI pixels measure 1-2 mm, small-animal ones 0.05 mm; a 256-pixel image of 50 mm pixels is 13 m wide",
)
#: Distance between slices: ``SpacingBetweenSlices``, ``SliceThickness`` and the gaps between the
#: slice positions. Short-axis slices lie 5-10 mm apart; a whole left ventricle is about 100 mm long.
SLICE_SPACING_MM = PhysicalRange(
    "slice distances", 0.001, 100.0, "mm",
    "short-axis slices lie 5-10 mm apart and are as thick; the whole left ventricle is about 100 mm long",
)
#: Each ``ImagePositionPatient`` coordinate: patient coordinates are measured from a point in the
#: scanner, within a metre or two of the patient; 100 m leaves room for any origin convention.
PATIENT_COORDINATE_MM = PhysicalRange(
    "ImagePositionPatient coordinates", -1e5, 1e5, "mm",
    "patient coordinates lie within a metre or two of the scanner's origin; 100 m is beyond any scanner room",
)
#: ``HeartRate``, and 60000 / ``NominalInterval`` (the R-R interval in ms): human hearts beat 25-300
#: times a minute, a mouse's up to 700; 10-1000 bpm is an R-R interval of 60-6000 ms.
HEART_RATE_BPM = PhysicalRange(
    "heart rates", 10.0, 1000.0, "beats per minute",
    "human hearts beat 25-300 times a minute, a mouse's up to 700",
)


def _from_environment() -> Limits:
    changes = {}
    for item in dataclasses.fields(Limits):
        text = os.environ.get(f"SKCARDIO_{item.name.upper()}")
        if text is None:
            continue
        try:
            changes[item.name] = int(text.replace("_", ""))
        except ValueError:
            raise ValueError(
                f"environment variable SKCARDIO_{item.name.upper()} must be a positive integer, got {text!r}"
            ) from None
    return Limits(**changes)


_current = _from_environment()


def get_limits() -> Limits:
    """The limits in force (see :class:`Limits`).

    Returns
    -------
    Limits
        The limits of the process (or of the innermost :func:`limits_context`).

    Examples
    --------
    >>> from skcardio.io import get_limits
    >>> get_limits().max_line_chars
    4096
    """
    return _current


def set_limits(**changes: int) -> Limits:
    """Change some limits for the whole process; return the previous :class:`Limits`.

    Parameters
    ----------
    **changes : int
        New values of :class:`Limits` attributes.

    Returns
    -------
    Limits
        The limits in force before the change (pass them back to restore them).

    Raises
    ------
    TypeError
        For a name that is not a limit.
    ValueError
        For a value that is not a positive integer.

    Examples
    --------
    >>> from skcardio.io import set_limits
    >>> previous = set_limits(max_link_rows=500_000)
    >>> _ = set_limits(**vars(previous))  # back to what it was
    """
    global _current
    previous = _current
    _current = dataclasses.replace(_current, **changes)
    return previous


@contextmanager
def limits_context(**changes: int) -> Iterator[Limits]:
    """Change some limits inside a ``with`` block (see :func:`set_limits`).

    Parameters
    ----------
    **changes : int
        New values of :class:`Limits` attributes, restored when the block ends.

    Yields
    ------
    Limits
        The limits in force inside the block.

    Examples
    --------
    >>> from skcardio.io import get_limits, limits_context
    >>> with limits_context(max_link_rows=10) as limits:
    ...     limits.max_link_rows
    10
    >>> get_limits().max_link_rows
    100000
    """
    previous = set_limits(**changes)
    try:
        yield _current
    finally:
        set_limits(**vars(previous))


def check_study_bytes(total: int, path: str, error: type[Exception]) -> None:
    """Refuse a set of images whose decoded size, ``path``'s included, exceeds ``max_study_bytes``.

    Parameters
    ----------
    total : int
        Decoded float32 bytes of the images read so far, ``path``'s included.
    path : str
        The file whose image brings the total to ``total``, named in the error.
    error : type of Exception
        What to raise: the reader's own error (``DicomReadError``, ``DatasetError``).

    Raises
    ------
    error
        If ``total`` exceeds ``max_study_bytes``.
    """
    limits = get_limits()
    if total > limits.max_study_bytes:
        raise error(
            f"{path}: with this image, the images read take {total} bytes: "
            + limits.refusal("max_study_bytes", "their size")
        )


def quote(text: str, limit: int = 80) -> str:
    """``repr(text)``, cut to ``limit`` characters with the full length said: errors quote bounded text."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def shorten(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters with the full length said."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def read_regular(path: str, error: type[Exception], what: str, limit: str) -> bytes:
    """The bytes of the regular file ``path``, at most the limit named ``limit``; else ``error``.

    Pipes, devices (``/dev/zero``), sockets and folders are refused before
    anything is read, without blocking on a pipe that nobody writes; a link
    loop is reported as such. The file is read at most one byte past the
    limit, so a file growing meanwhile cannot exhaust memory either.
    """
    fd, size, most = _open_regular(path, error, what, limit)
    try:
        with open(fd, "rb", buffering=0, closefd=False) as handle:
            # One read of the size stat gave (+1 to see growth); then at most up to the limit.
            data = handle.read(size + 1)
            if len(data) > size:
                data += handle.read(most + 1 - len(data)) or b""
        if len(data) > most:
            raise error(f"{path}: {_current.refusal(limit, f'{_article(what)} {what} file of more than {most} bytes')}")
        return data
    except OSError as exc:
        raise error(f"{path}: cannot read file ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


@contextmanager
def open_regular(path: str, error: type[Exception], what: str, limit: str) -> Iterator[io.BufferedReader]:
    """The regular file ``path`` opened to be read as a stream of at most the limit named ``limit``; else ``error``.

    The checks of :func:`read_regular` (no pipe, device or folder; the size
    stat gives within the limit), then reading raises ``error`` as soon as
    the file (growing meanwhile) passes the limit: memory is the reader's,
    whatever the file's size.
    """
    fd, _, most = _open_regular(path, error, what, limit)
    try:
        excess = f"{path}: {_current.refusal(limit, f'{_article(what)} {what} file of more than {most} bytes')}"
        yield io.BufferedReader(_Bounded(fd, most, error, excess, path))
    finally:
        os.close(fd)


def _open_regular(path: str, error: type[Exception], what: str, limit: str) -> tuple[int, int, int]:
    """``(descriptor, size, limit)`` of the regular file ``path`` opened for reading, its size within the limit."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise error(f"{path}: {open_problem(exc)}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: {special_file(info.st_mode)}, expected a regular {what} file")
        most = getattr(_current, limit)
        if info.st_size > most:
            raise error(f"{path}: {_current.refusal(limit, f'{_article(what)} {what} file of {info.st_size} bytes')}")
    except OSError as exc:
        os.close(fd)
        raise error(f"{path}: cannot read file ({exc.strerror or exc})") from None
    except BaseException:
        os.close(fd)
        raise
    return fd, info.st_size, most


def _article(what: str) -> str:
    return "an" if what[0].lower() in "aeiou" else "a"


class _Bounded(io.RawIOBase):
    """The bytes of the descriptor ``fd``, ``error(excess)`` once more than ``most`` are read (it is not closed)."""

    def __init__(self, fd: int, most: int, error: type[Exception], excess: str, path: str) -> None:
        super().__init__()
        self._fd, self._left, self._error, self._excess, self._path = fd, most, error, excess, path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = os.read(self._fd, min(len(buffer), self._left + 1))
        except OSError as exc:
            raise self._error(f"{self._path}: cannot read file ({exc.strerror or exc})") from None
        if len(data) > self._left:
            raise self._error(self._excess)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class NotUtf8(ValueError):
    """Bytes that are not UTF-8: the first bad ``byte``, its ``position`` in the file and its ``line``."""

    def __init__(self, byte: int, position: int, line: int, reason: str) -> None:
        super().__init__(f"byte 0x{byte:02x} at position {position} (line {line}): {reason}")
        self.byte, self.position, self.line, self.reason = byte, position, line, reason


def utf8_text(data: bytes) -> str:
    """``data`` decoded as UTF-8, a leading byte-order mark (some editors, Excel) left out.

    Decoded whole, not through a stream, which decodes in chunks: the
    position :class:`NotUtf8` gives is within the file (the mark counted),
    and so is its line, for the message of each text file read.
    """
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    try:
        return data[len(bom):].decode("utf-8")
    except UnicodeDecodeError as exc:
        position = len(bom) + exc.start
        raise NotUtf8(data[position], position, data.count(b"\n", 0, position) + 1, exc.reason) from exc


def open_problem(exc: OSError) -> str:
    """What an ``OSError`` of opening an input means, in words."""
    if exc.errno == errno.ENOENT:
        if exc.filename is not None and os.path.islink(exc.filename):  # listed in its folder, yet "no such file"
            return f"a broken link (to {os.readlink(exc.filename)}, which does not exist)"
        return "no such file"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (a link that points back to itself)"
    return f"cannot open file ({exc.strerror or exc})"


def special_file(mode: int) -> str:
    """'is a folder', 'is a pipe (FIFO)'...: what a non-regular file is."""
    kinds = (
        (stat.S_ISDIR, "is a folder"), (stat.S_ISFIFO, "is a pipe (FIFO)"),
        (stat.S_ISCHR, "is a character device"), (stat.S_ISBLK, "is a block device"),
        (stat.S_ISSOCK, "is a socket"),
    )
    return next((text for test, text in kinds if test(mode)), "is not a regular file")
