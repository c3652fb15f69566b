"""Read and write expert contour files (one ``x y`` point per line)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator

import numpy as np

from .._files import replacing
from ..exceptions import ContourReadError
from ._limits import NotUtf8, get_limits, quote, read_regular, utf8_text

__all__ = ["read_contour", "write_contour", "check_polygon"]

PathLike = str | os.PathLike

#: A polygon needs at least three vertices to enclose an area.
MIN_POINTS = 3
#: Field separators. str.split() would also take form feeds, no-break spaces
#: and other Unicode spaces, which are not part of the format.
_BLANK = " \t"
_SEPARATOR = re.compile(f"[{_BLANK}]+")
#: A plain decimal or scientific number. float() would also accept '1_0' (as
#: 10), 'nan', 'inf' and non-ASCII digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def read_contour(path: PathLike) -> np.ndarray:
    """Read a contour file of ``x y`` pixel coordinates, one point per line.

    ``x`` is the column and ``y`` the row of the image the contour belongs to,
    so ``points[:, ::-1]`` gives ``(row, col)`` pairs. Blank lines are ignored.

    Parameters
    ----------
    path : str or path-like
        The contour file, e.g. ``IM-0001-0048-icontour-manual.txt``.

    Returns
    -------
    points : ndarray of shape (n_points, 2), float64
        ``(x, y)`` = ``(col, row)`` coordinates.

    Raises
    ------
    ContourReadError
        If the file is missing, not a regular file (a pipe, a device), not
        UTF-8 (the message gives the line and the byte's position) or empty (the message says which lines are blank), a line does
        not hold exactly two finite numbers (the message gives the line
        number and quotes the line with :func:`repr`, cut to 80 characters,
        so stray ``\\r``, ``\\f`` or NUL characters show), or there are
        fewer than 3 points (the message gives their lines); or if the file
        exceeds a limit of :func:`skcardio.io.get_limits` (``max_text_bytes``,
        ``max_line_chars``, ``max_contour_points``, checked before the
        points are parsed; ``max_contour_coordinate``, a point's ``|x|`` or
        ``|y|``, as each line is).

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.io import read_contour
    >>> points = read_contour(load_sample().frame.icontour_path[0])
    >>> points.shape[1]
    2
    """
    path = os.fspath(path)
    text = _text(path)
    lines = (line.removesuffix("\r") for line in _lines(text))
    numbered = _point_lines(lines, path)
    points = [_parse_line(line, path, number) for number, line in numbered]
    if len(points) < MIN_POINTS:
        n_lines = text.count("\n") + (text != "" and not text.endswith("\n"))  # + a last line without "\n"
        raise ContourReadError(_too_few(path, [number for number, _ in numbered], n_lines))
    return np.asarray(points, dtype=np.float64)


def _text(path: str) -> str:
    """The contour file ``path`` decoded, its bytes let go once decoded."""
    # Bytes, not read_text(): universal newlines would also end a line at a lone "\r".
    data = read_regular(path, ContourReadError, "contour", "max_text_bytes")
    try:
        return utf8_text(data)
    except NotUtf8 as exc:
        # As link.csv's: the line, and the byte's position in the file (a byte-order mark counted).
        raise ContourReadError(
            f"{path}, line {exc.line}: is not UTF-8 text: byte 0x{exc.byte:02x} at position {exc.position} "
            f"({exc.reason}); expected a UTF-8 text file of 'x y' points"
        ) from exc


#: Characters of a contour file split into lines at once (at a line break past them).
_SPLIT_CHUNK = 1 << 16


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, as ``text.split("\\n")`` lists them, split a chunk at a time.

    Split on "\\n" only: str.splitlines() also breaks at \\x0b, \\x0c and
    \\x1c-\\x1e, which would shift the line numbers in error messages. A
    chunk at a time, so that the limits are checked as the file is scanned
    and memory follows a chunk's lines: the list of all of them took 370 MB
    for a 16 MiB file of blank lines (5.6 million "  " lines).
    """
    start = 0
    while True:
        end = text.find("\n", start + _SPLIT_CHUNK)
        if end < 0:
            yield from text[start:].split("\n")
            return
        yield from text[start:end].split("\n")
        start = end + 1


def _point_lines(lines, path: str) -> list[tuple[int, str]]:
    """``(number, line)`` of the non-blank lines, refused past the limits before any is parsed."""
    limits = get_limits()
    numbered = []
    for number, line in enumerate(lines, start=1):
        if len(line) > limits.max_line_chars:
            raise ContourReadError(
                f"{path}, line {number}: {quote(line)}: "
                + limits.refusal("max_line_chars", f"a line of {len(line)} characters")
            )
        if line.strip(_BLANK):
            numbered.append((number, line))
            if len(numbered) > limits.max_contour_points:
                raise ContourReadError(
                    f"{path}, line {number}: "
                    + limits.refusal("max_contour_points", f"more than {limits.max_contour_points} points")
                )
    return numbered


def _too_few(path: str, point_lines: list[int], n_lines: int) -> str:
    """Error message for a file with fewer than 3 points, naming the lines concerned."""
    if not point_lines:
        blank = {0: "no text", 1: "line 1 is blank"}.get(n_lines, f"lines 1-{n_lines} are blank")
        return f"{path}: empty contour file ({blank}), expected lines of 'x y'"
    where = " and ".join(str(number) for number in point_lines)
    return (
        f"{path}, line{'s' if len(point_lines) > 1 else ''} {where}: {len(point_lines)} point(s), "
        f"a contour needs at least {MIN_POINTS}"
    )


def _parse_line(line: str, path: str, number: int) -> tuple[float, float]:
    # Errors quote repr(line), not line.strip(): the stray "\r", "\f" or NUL
    # that caused the error must show.
    fields = _SEPARATOR.split(line.strip(_BLANK))
    if len(fields) != 2:
        raise ContourReadError(
            f"{path}, line {number}: expected 2 numbers 'x y', got {len(fields)} "
            f"field(s): {quote(line)}"
        )
    if not all(_DECIMAL.fullmatch(field) for field in fields):
        raise ContourReadError(
            f"{path}, line {number}: expected numbers 'x y' written as plain finite "
            f"decimals such as '120.5 137.5', got {quote(line)}"
        )
    x, y = float(fields[0]), float(fields[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ContourReadError(
            f"{path}, line {number}: coordinates must be finite, got {quote(line)}"
        )
    limits = get_limits()
    if max(abs(x), abs(y)) > limits.max_contour_coordinate:
        # Drawing or measuring the contour would take memory in proportion to its extent.
        raise ContourReadError(
            f"{path}, line {number}: {quote(line)}: "
            + limits.refusal("max_contour_coordinate", f"a coordinate of {max(abs(x), abs(y)):g} pixels in magnitude")
        )
    return x, y


def write_contour(path: PathLike, points: np.ndarray) -> None:
    """Write ``(x, y)`` points in the contour file format (two decimals).

    The file is written to a temporary name and renamed, so a failure never
    leaves a half-written contour behind.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    points : array-like of shape (n_points, 2)
        ``(x, y)`` = ``(col, row)`` coordinates, at least 3 finite points.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skcardio.io import read_contour, write_contour
    >>> square = np.array([[1.0, 1.0], [4.0, 1.0], [4.0, 4.0], [1.0, 4.0]])
    >>> path = os.path.join(tempfile.mkdtemp(), "c.txt")
    >>> write_contour(path, square)
    >>> np.array_equal(read_contour(path), square)
    True
    """
    points = check_polygon(points)
    text = "".join(f"{x:.2f} {y:.2f}\n" for x, y in points)
    with replacing(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def check_polygon(points) -> np.ndarray:
    """``points`` as a float ``(n, 2)`` array of at least 3 finite vertices, else ``ValueError``."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n_points, 2), got {points.shape}")
    if len(points) < MIN_POINTS:
        raise ValueError(f"a polygon needs at least {MIN_POINTS} points, got {len(points)}")
    if not np.isfinite(points).all():
        raise ValueError("points must be finite, got NaN or inf")
    return points
