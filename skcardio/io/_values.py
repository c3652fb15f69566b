"""The numeric header values of a DICOM slice: parsed alike on both reading paths, and checked physically.

Both paths of :func:`~skcardio.io.read_dicom` (its own header scan and
pydicom's) give an element's values as text; these helpers turn them into
numbers, name the element in errors, and refuse values outside their
physical range (:class:`~skcardio.io._limits.PhysicalRange`).
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
from pydicom.datadict import keyword_for_tag, tag_for_keyword

from ..exceptions import DicomReadError, SkcardioWarning
from ._limits import PhysicalRange

#: Characters of DICOM decimal (DS) and integer (IS) strings. Python's float()
#: takes exactly the DS grammar once limited to these: no '1_0' (as 10), 'nan',
#: 'inf' or non-ASCII digits. (Cheaper than a full-grammar regex; this runs
#: ~15 times per slice.)
_NUMERIC_CHARS = re.compile(r"[-+.0-9eE]+")


def _texts(ds, keyword: str) -> list[str]:
    """An element's values as strings; [] when absent or empty.

    pydicom gives one value as a scalar and several as a list, the fast path a
    str or a list: both become the same list, so both paths parse alike.
    Both have already stripped the padding.
    """
    value = ds.get(keyword)
    if type(value) is list and (not value or type(value[0]) is str):  # the fast path's
        return value
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (int, float)):
        return [str(value)]
    if value is None:
        return []
    if isinstance(value, bytes):  # a numeric string stored under a binary VR
        text = value.decode("latin-1").strip("\0 ")
        return [part.strip() for part in text.split("\\")] if text else []
    # pydicom's MultiValue, or a plain list of ints for several binary numbers
    # (e.g. a US with 2 values): the count checks below name what is wrong.
    return [str(item) for item in value]


def _numbers(ds, keyword: str, n: int, path: str) -> tuple[float, ...] | None:
    """The n numbers of an element; None when absent, an error when malformed."""
    texts = _texts(ds, keyword)
    if not texts:
        return None
    values = ()
    if len(texts) == n and _NUMERIC_CHARS.fullmatch("".join(texts)):
        try:
            values = tuple(map(float, texts))
        except ValueError:
            pass  # e.g. '1e', '.', '1-2': reported below
    if not (values and all(map(math.isfinite, values))):
        received = "\\".join(texts)
        raise DicomReadError(
            f"{path}: {_name(keyword)} must hold {n} finite decimal number(s) separated by "
            f"'\\', got {len(texts)} value(s): {received!r}"
        )
    return values


def _floats(ds, keyword: str, n: int, path: str) -> tuple[float, ...]:
    """n numbers; NaNs when absent."""
    return _numbers(ds, keyword, n, path) or (math.nan,) * n


def _number(ds, keyword: str, default, path: str):
    """One number; ``default`` when absent."""
    values = _numbers(ds, keyword, 1, path)
    return default if values is None else values[0]


def _int(ds, keyword: str, default, path: str):
    """One integer; ``default`` when absent."""
    value = ds.get(keyword)
    if type(value) is int:  # US values, already binary integers in both paths
        return value
    values = _numbers(ds, keyword, 1, path)
    if values is None:
        return default
    if not values[0].is_integer():
        raise DicomReadError(f"{path}: {_name(keyword)} must be an integer, got {values[0]!r}")
    return int(values[0])


def _name(keyword: str) -> str:
    """'PixelSpacing (0028,0030)': how error messages name an element."""
    return _tag_name(tag_for_keyword(keyword))


def _tag_name(tag: int) -> str:
    """'PixelSpacing (0028,0030)' from the tag; '(0029,1010)' for a private one."""
    number = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    keyword = keyword_for_tag(tag)
    return f"{keyword} {number}" if keyword else number


def _check_range(ds, keyword: str, values: tuple[float, ...], plausible: PhysicalRange, path: str) -> None:
    """Refuse an element whose values lie outside their physical range (absent: NaNs, allowed)."""
    if not all(value in plausible for value in values if not math.isnan(value)):
        received = "\\".join(_texts(ds, keyword))
        raise DicomReadError(f"{path}: {_name(keyword)} {received!r} is not physical: {plausible.expected()}")


#: DICOM writes perpendicular unit vectors, rounded at worst: smallest sine of the angle between the
#: row and column directions (0.6 degree), and largest departure of their lengths from 1.
_MIN_SINE, _LENGTH_TOLERANCE = 0.01, 0.1


def _position_or_absent(ds, position: tuple[float, ...], plausible: PhysicalRange, path: str) -> tuple[float, ...]:
    """``ImagePositionPatient``, or NaNs with a warning when out of ``plausible``.

    Not an error: one slice is segmented without its position; the study
    reader and the exporters, which need it, then find it absent.
    """
    if all(value in plausible for value in position if not math.isnan(value)):
        return position
    received = "\\".join(_texts(ds, "ImagePositionPatient"))
    _absent(f"{path}: {_name('ImagePositionPatient')} {received!r} is not physical: {plausible.expected()}")
    return (math.nan,) * 3


def _orientation_or_absent(ds, orientation: tuple[float, ...], path: str) -> tuple[float, ...]:
    """``ImageOrientationPatient``, or NaNs with a warning for directions that span no plane.

    Their cross product is the stack's normal; some derived or anonymised
    exports write ``0\\0\\0\\0\\0\\0``. As for the position, not an error.
    """
    if math.isnan(orientation[0]):
        return orientation  # absent
    received = "\\".join(_texts(ds, "ImageOrientationPatient"))
    scale = max(map(abs, orientation))  # scaled first: cosines of 1e300 or 1e-300 cannot overflow here
    row, col = (np.array(orientation[k : k + 3]) / (scale or 1.0) for k in (0, 3))
    lengths = np.linalg.norm(row), np.linalg.norm(col)
    if min(lengths) == 0 or np.linalg.norm(np.cross(row, col)) < _MIN_SINE * lengths[0] * lengths[1]:
        problem = f"row and column vectors are zero or parallel: got {received!r}"
    elif not all(abs(scale * length - 1) <= _LENGTH_TOLERANCE for length in lengths):
        problem = f"{received!r} holds vectors of lengths {scale * lengths[0]:.3g} and {scale * lengths[1]:.3g}"
    else:
        return orientation
    _absent(f"{path}: {_name('ImageOrientationPatient')} {problem}: expected two perpendicular unit vectors "
            "(direction cosines)")
    return (math.nan,) * 6


def _absent(message: str) -> None:
    # 6: the caller of read_dicom (_absent, the check, _make_slice, _read_fast or _read_pydicom, read_dicom).
    warnings.warn(f"{message}; read as absent", SkcardioWarning, stacklevel=6)
