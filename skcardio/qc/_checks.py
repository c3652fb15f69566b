"""Quality control of contoured slices."""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from .._files import replacing
from .._numbers import is_number
from .._text import READABLE, printable
from ..datasets import Skipped, scan_layout
from ..exceptions import SkcardioError
from ..io import contour_to_mask, read_contour, read_dicom
from ._geometry import count_self_crossings, outside_image, polygon_area

__all__ = ["SliceQC", "QCReport", "check_dataset", "check_records"]

#: Most pairs of overlapping edges tested for self-crossings in one contour (about 10 s): every pair
#: of a 4,472-point contour. Expert outlines hold a few hundred points and pair each edge with a few
#: others; a contour with more pairs is a tangle, flagged without counting its crossings.
_MAX_CROSSING_PAIRS = 10**7
#: Largest i-contour bounding box, in pixels, rasterised to measure
#: ``i_outside_o``: a larger one has bad coordinates, not a heart, and would
#: only cost memory.
_MAX_CANVAS = 2048 * 2048


@dataclass
class SliceQC:
    """Quality-control result of one contoured slice.

    ``flags`` lists every problem found (empty: the slice is clean).
    Coordinates follow the contour files: ``x`` = column, ``y`` = row.

    Parameters
    ----------
    patient_id : str
        The slice's patient.
    instance : int
        Its DICOM instance number.
    dicom_path : str
        Its DICOM file.
    rows, columns : int, default=0
        The image size (0 when the DICOM could not be read).
    has_icontour, has_ocontour : bool, default=False
        Whether each contour file exists.
    i_points, o_points : int, default=0
        Points read from each contour file.
    i_area_px, o_area_px : float, default=nan
        Area enclosed by each contour, in pixels².
    i_outside_o_fraction : float, default=nan
        Fraction of the i-contour's pixels outside the o-contour (see
        :func:`check_records`).
    flags : list of str, default=[]
        The problems found (see :func:`check_records`).

    Examples
    --------
    >>> from skcardio.qc import SliceQC
    >>> SliceQC("SCD0000101", 48, "48.dcm", flags=["missing_ocontour"]).ok
    False
    """

    patient_id: str
    instance: int
    dicom_path: str
    rows: int = 0
    columns: int = 0
    has_icontour: bool = False
    has_ocontour: bool = False
    i_points: int = 0
    o_points: int = 0
    i_area_px: float = float("nan")
    o_area_px: float = float("nan")
    i_outside_o_fraction: float = float("nan")
    flags: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no flag was raised (bool)."""
        return not self.flags


@dataclass
class QCReport:
    """Per-slice QC results with a summary, a table and CSV export.

    ``slices`` holds one :class:`SliceQC` per contoured slice checked;
    ``skipped`` the dataset items that could not be checked (the
    :class:`skcardio.datasets.Skipped` entries of the layout scan that
    :func:`skcardio.datasets.load_dataset` reports too: malformed or duplicate
    ``link.csv`` rows, missing or unlinked folders, contours without a DICOM,
    misnamed files, folders or broken links where files are expected, stray
    entries beside ``i-contours/`` and ``o-contours/``, and the number of
    DICOMs without any contour per patient).
    The CSV export holds the slices only.

    Parameters
    ----------
    slices : list of SliceQC
        One result per contoured slice checked.
    skipped : list of skcardio.datasets.Skipped, default=[]
        The dataset items that could not be checked.

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.qc import check_dataset
    >>> report = check_dataset(get_sample_path())
    >>> print(report.summary())
    15 contoured slice(s) checked, 3 flagged; 0 dataset item(s) skipped, not checked
         3 x missing_ocontour
    >>> int(report.flagged.sum()), report.flag_counts()["missing_ocontour"]
    (3, 3)
    """

    slices: list[SliceQC]
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def flagged(self) -> np.ndarray:
        """Boolean array, True for slices with at least one flag."""
        return np.array([not s.ok for s in self.slices], dtype=bool)

    def flag_counts(self) -> Counter:
        """Count the slices that raised each kind of flag.

        Returns
        -------
        collections.Counter
            Flag name (without its details) -> number of slices.
        """
        return Counter(flag.split(":")[0] for s in self.slices for flag in s.flags)

    def summary(self) -> str:
        """Summarise the report in a few lines.

        Returns
        -------
        str
            Slices checked, flagged, dataset items skipped, and counts per flag.
        """
        lines = [
            f"{len(self.slices)} contoured slice(s) checked, {int(self.flagged.sum())} flagged; "
            f"{len(self.skipped)} dataset item(s) skipped, not checked"
        ]
        lines += [f"  {count:4d} x {printable(flag)}" for flag, count in sorted(self.flag_counts().items())]
        return "\n".join(lines)

    def format_table(self, *, only_flagged: bool = False) -> str:
        """Format a fixed-width table, one line per slice.

        Parameters
        ----------
        only_flagged : bool, default=False
            List only the slices with at least one flag.

        Returns
        -------
        str
            A header line, a rule, then one line per slice. Control characters
            of an id (ESC, a newline) are shown escaped (``\\x1b``, ``\\n``), so
            a line is one slice; :meth:`to_csv` writes the true values.
        """
        header = f"{'patient_id':<12} {'inst':>5} {'i':>2} {'o':>2} {'i_area':>8} {'o_area':>8} {'i_out_o':>8}  flags"
        lines = [header, "-" * len(header)]
        for s in self.slices:
            if only_flagged and s.ok:
                continue
            lines.append(
                f"{printable(s.patient_id):<12} {s.instance:>5} {'y' if s.has_icontour else '-':>2} "
                f"{'y' if s.has_ocontour else '-':>2} {s.i_area_px:>8.1f} {s.o_area_px:>8.1f} "
                f"{s.i_outside_o_fraction:>8.3f}  {printable('; '.join(s.flags)) or 'ok'}"
            )
        return "\n".join(lines)

    def format_skipped(self, *, max_per_reason: int | None = 20) -> str:
        """Format the skipped dataset items, one line each.

        At most ``max_per_reason`` items are listed for each kind of reason
        (``None``: all), the others counted in one line: a ``link.csv`` of
        thousands of bad rows gives a readable report (``skipped`` holds them all).

        Parameters
        ----------
        max_per_reason : int or None, default=20
            Items listed per kind of reason; None lists them all.

        Returns
        -------
        str
            Patient, path and reason of each item, their control characters
            escaped as in :meth:`format_table`; ``""`` if none.
        """
        if not self.skipped:
            return ""
        from ..datasets._dataset import reason_kind

        header = f"{'patient_id':<12} skipped path: reason"
        lines = [header, "-" * len(header)]
        counts: Counter = Counter()
        for item in self.skipped:
            kind = reason_kind(item.reason)
            counts[kind] += 1
            if max_per_reason is None or counts[kind] <= max_per_reason:
                lines.append(f"{printable(item.patient_id) or '-':<12} {printable(item.path)}: {printable(item.reason)}")
        lines += [
            f"{'-':<12} ... and {count - max_per_reason} more: {printable(kind)}"
            for kind, count in counts.items()
            if max_per_reason is not None and count > max_per_reason
        ]
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write one row per slice (``flags`` joined by ``"; "``), atomically.

        A failure leaves ``path`` as it was. A byte of a file name that is
        not UTF-8 is written ``\\xNN``.

        Parameters
        ----------
        path : str or path-like
            The CSV file to write (replaced if it exists).
        """
        names = [f.name for f in fields(SliceQC)]
        with replacing(path, "w", newline="", encoding="utf-8", errors=READABLE) as stream:
            writer = csv.DictWriter(stream, fieldnames=names)
            writer.writeheader()
            for s in self.slices:
                row = asdict(s)
                row["flags"] = "; ".join(s.flags)
                writer.writerow(row)


def _check_max_outside(value) -> float:
    """``max_outside_fraction`` as a float, or ValueError if it is not a number in [0, 1]."""
    if not is_number(value) or not 0 <= value <= 1:
        raise ValueError(f"max_outside_fraction must be a number between 0 and 1 (inclusive), got {value!r}")
    return float(value)


def check_dataset(root: str | os.PathLike, *, max_outside_fraction: float = 0.01) -> QCReport:
    """Check every contoured slice of a ``link.csv`` dataset folder.

    Slices with only one contour are checked too (and flagged as such).
    What the layout scan could not use (see :func:`skcardio.datasets.scan_layout`:
    malformed ``link.csv`` rows, linked folders that do not exist, folders not
    in ``link.csv``, contours without a DICOM, misnamed files, stray entries in
    contour folders) is listed in ``QCReport.skipped`` with the reason.

    Parameters
    ----------
    root : str or path-like
        Dataset folder (see :func:`skcardio.datasets.load_dataset`).
    max_outside_fraction : float, default=0.01
        Largest fraction of i-contour pixels allowed outside the o-contour
        before the slice is flagged ``i_outside_o``. The default, 1 %, tolerates
        contours that touch (a pixel or two of rounding) and flags real misalignment.

    Returns
    -------
    QCReport
        One :class:`SliceQC` per contoured slice, and the skipped items.

    Raises
    ------
    ValueError
        If ``max_outside_fraction`` is not a number in [0, 1].
    DatasetError
        If ``root`` is not a dataset folder (missing, or a file such as
        ``link.csv`` itself), or ``link.csv`` is missing, not UTF-8 text, not
        valid CSV or malformed in its header.

    Examples
    --------
    >>> from skcardio.datasets import get_sample_path
    >>> from skcardio.qc import check_dataset
    >>> report = check_dataset(get_sample_path())
    >>> len(report.slices)
    15
    >>> report.skipped
    []
    """
    _check_max_outside(max_outside_fraction)
    layout = scan_layout(root)
    report = check_records(layout.slices, max_outside_fraction=max_outside_fraction)
    report.skipped = list(layout.skipped)
    return report


def check_records(records, *, max_outside_fraction: float = 0.01) -> QCReport:
    """Check slice records (``load_dataset(...).frame`` or scanned files).

    Parameters
    ----------
    records : iterable of records
        The rows of ``load_dataset(...).frame``, or the ``slices`` of
        :func:`skcardio.datasets.scan_layout`: each with ``patient_id``,
        ``instance``, ``dicom_path``, ``icontour_path`` and
        ``ocontour_path`` (``""`` when absent).
    max_outside_fraction : float, default=0.01
        Largest fraction of i-contour pixels allowed outside the o-contour
        before the slice is flagged ``i_outside_o``.

    Returns
    -------
    QCReport
        One :class:`SliceQC` per record, in order (``skipped`` empty).

    Raises
    ------
    ValueError
        If ``max_outside_fraction`` is not a number in [0, 1].

    Notes
    -----
    The flags:

    ``missing_icontour`` / ``missing_ocontour``
        The slice has only one of the two contours.
    ``unreadable_dicom`` / ``unreadable_icontour`` / ``unreadable_ocontour``
        The file could not be read (includes contours with < 3 points).
    ``points_outside_image``
        Contour points beyond the image edge (x or y outside
        ``[-0.5, size - 0.5]``, the outer edge of the border pixels).
    ``zero_area``
        A contour encloses (almost) no area (< 1 pixel²).
    ``self_crossing``
        Two non-adjacent edges of a contour cross; also a contour with more
        than 10^7 pairs of overlapping edges (a tangle of thousands of
        points), whose crossings are not counted.
    ``i_outside_o``
        More than ``max_outside_fraction`` of the i-contour's pixels lie
        outside the o-contour. The fraction (``i_outside_o_fraction``) is
        measured from the two contours alone, on the pixel grid of their
        coordinates, so also when the DICOM is unreadable; it is NaN, and
        never flagged, when the i-contour encloses no pixel centre (or its
        bounding box exceeds 2048 x 2048 pixels), or either contour is
        missing or unreadable.
    ``size_mismatch``
        The image size differs from the most common size of the records.

    Examples
    --------
    >>> from skcardio.datasets import load_sample
    >>> from skcardio.qc import check_records
    >>> report = check_records(load_sample().frame)
    >>> [s.flags for s in report.slices][:2]
    [[], ['missing_ocontour']]
    """
    max_outside_fraction = _check_max_outside(max_outside_fraction)
    results = [_check_slice(r, max_outside_fraction) for r in records]
    shapes = Counter((s.rows, s.columns) for s in results if s.rows)
    if shapes:
        common = shapes.most_common(1)[0][0]
        for s in results:
            if s.rows and (s.rows, s.columns) != common:
                s.flags.append(f"size_mismatch: {s.rows}x{s.columns} vs {common[0]}x{common[1]}")
    return QCReport(results)


def _check_slice(record, max_outside_fraction: float) -> SliceQC:
    s = SliceQC(str(record.patient_id), int(record.instance), str(record.dicom_path))
    try:
        s.rows, s.columns = read_dicom(record.dicom_path, pixels=False).shape
    except SkcardioError as exc:
        s.flags.append(f"unreadable_dicom: {exc}")
    polygons = {}
    for kind in ("i", "o"):
        path = str(getattr(record, f"{kind}contour_path") or "")
        setattr(s, f"has_{kind}contour", bool(path))
        if not path:
            s.flags.append(f"missing_{kind}contour")
            continue
        try:
            points = read_contour(path)
        except SkcardioError as exc:
            s.flags.append(f"unreadable_{kind}contour: {exc}")
            continue
        setattr(s, f"{kind}_points", len(points))
        setattr(s, f"{kind}_area_px", polygon_area(points))
        s.flags += _polygon_flags(kind, points, (s.rows, s.columns))
        polygons[kind] = points
    if len(polygons) == 2:
        s.i_outside_o_fraction = _outside_fraction(polygons["i"], polygons["o"])
        # NaN (no i-contour pixel to measure) is never greater: not flagged.
        if s.i_outside_o_fraction > max_outside_fraction:
            s.flags.append(f"i_outside_o: {s.i_outside_o_fraction:.1%} of i-contour pixels")
    return s


def _outside_fraction(inner: np.ndarray, outer: np.ndarray) -> float:
    """Fraction of the pixels of polygon ``inner`` whose centres lie outside ``outer``.

    Pixels follow :func:`skcardio.io.contour_to_mask` (centres at integer
    ``(x, y)``, boundary included) on the grid of the contour coordinates,
    over ``inner``'s bounding box: no image is needed, so the fraction is
    measured when the DICOM is unreadable too, and pixels beyond the image
    edge count.

    Parameters
    ----------
    inner, outer : ndarray of shape (n_points, 2)
        ``(x, y)`` vertices of the i-contour and the o-contour.

    Returns
    -------
    float
        In [0, 1]; NaN when ``inner`` holds no pixel centre (nothing to
        measure), or its bounding box exceeds 2048 x 2048 pixels (only
        absurd coordinates do; spared the memory).
    """
    # Shift by whole pixels so that pixel centres stay at integer coordinates
    # (and, x - k being exact for 0 <= k <= x, the i-contour's exactly).
    origin = np.floor(inner.min(axis=0))
    # Python floats: 1e300 * 1e300 is inf, without the overflow of an int cast.
    width, height = (float(n) for n in np.floor(inner.max(axis=0)) - origin + 1)
    if width * height > _MAX_CANVAS:
        return float("nan")
    shape = (int(height), int(width))
    inside = contour_to_mask(inner - origin, shape)
    count = np.count_nonzero(inside)
    if not count:
        return float("nan")
    return float(np.count_nonzero(inside & ~contour_to_mask(outer - origin, shape)) / count)


def _polygon_flags(kind: str, points: np.ndarray, shape: tuple[int, int]) -> list[str]:
    flags = []
    if shape[0]:
        outside = outside_image(points, shape)
        if outside.any():
            flags.append(f"points_outside_image: {int(outside.sum())} {kind}-contour point(s)")
    if polygon_area(points) < 1.0:
        flags.append(f"zero_area: {kind}-contour")
    try:
        crossings = count_self_crossings(points, max_pairs=_MAX_CROSSING_PAIRS)
    except ValueError as exc:  # a tangle: counting would take minutes
        flags.append(f"self_crossing: {kind}-contour, not counted ({exc})")
        return flags
    if crossings:
        flags.append(f"self_crossing: {kind}-contour, {crossings} crossing(s)")
    return flags
