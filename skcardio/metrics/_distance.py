"""Contour distances in millimetres: Hausdorff and the MICCAI 2009 APD.

Inputs
------
Each of ``y_true`` and ``y_pred`` is either a mask stack or a list of
contours, one ``(m, 2)`` array of ``(x, y)`` = ``(col, row)`` pixel
coordinates per slice, as the expert's contour files hold them
(:func:`skcardio.io.read_contour`). The MICCAI figures are defined on the
expert's *points*: a mask only approximates them (its traced outline lies
about 0.2 px outside the polygon it was drawn from).

* The APD compares *outlines*, one closed polyline per slice: a contour as
  given, or a mask's :func:`skcardio.io.mask_to_contour` (the outer boundary
  of the largest 8-connected object; other objects and holes are left to IoU,
  Dice and the Hausdorff distance).
* The Hausdorff distance compares a mask's *whole boundary* (the 0.5
  iso-lines of every object and hole, :func:`skimage.measure.find_contours`
  on the padded mask) or a contour's polyline.

APD definitions (``definition=``): ``"miccai2009"`` follows the challenge's
evaluation code (:mod:`._miccai`, in pixels, times the square pixel's size);
``"geometric"`` measures exactly along each normal in mm, coordinates scaled
by the pixel spacing first so anisotropic pixels are handled.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import directed_hausdorff
from skimage.measure import find_contours

from .._numbers import check_real
from ..io import mask_to_contour
from ..utils._validation import check_contours_or_masks, check_spacing
from ._miccai import miccai_apd

__all__ = ["hausdorff_distance", "average_perpendicular_distance", "good_contour_rate", "APD_DEFINITIONS"]

#: The APD definitions: the challenge's evaluation code, and exact geometry.
APD_DEFINITIONS = ("miccai2009", "geometric")

# Contour polylines are sampled this densely (px) for the Hausdorff distance.
_SAMPLING_PX = 0.1
# Row and column spacing may differ by this (relative) for definition="miccai2009".
_SQUARE_RTOL = 1e-3

# (Vertex, expert segment) pairs processed at once when intersecting normals
# with the expert contour: bounds the work arrays (about 2 MB each) whatever
# the lengths of the contours (a fixed 1024 vertices against a 100,000-point
# expert contour held 7.6 GB).
_CHUNK_PAIRS = 2**17

# Slack on the segment parameter s (a fraction of the segment's length) when
# testing whether a normal meets a segment. On pixel outlines normals often
# pass exactly through an expert vertex (s = 0 of one segment, s = 1 of the
# previous); once coordinates are scaled by a spacing such as 1.367188 mm,
# round-off puts s just outside [0, 1] for both segments and the hit was lost
# (a farther intersection or the closest-point fallback was used instead).
_S_TOLERANCE = 1e-9


def _mask_contours(mask: np.ndarray) -> list[np.ndarray]:
    """Closed 0.5 iso-contours of a 2-D bool mask, ``(m, 2)`` (row, col), last vertex not repeated."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    # Crop to the bounding box (plus the padding) for speed on 256 x 256 slices.
    crop = mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    offset = np.array([rows[0] - 1, cols[0] - 1], dtype=np.float64)
    contours = find_contours(np.pad(crop, 1).astype(np.float64), 0.5)
    return [contour[:-1] + offset for contour in contours]


def _cross(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """z-component of the 2-D cross product, broadcast over leading axes."""
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _vertex_normals(contour: np.ndarray) -> np.ndarray:
    """Unit normals of a closed polyline; the tangent at a vertex is next - previous vertex."""
    tangent = np.roll(contour, -1, axis=0) - np.roll(contour, 1, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A spike (previous == next vertex) has no tangent: NaN, never intersects.
        return normal / length


def _perpendicular_distances(auto: list[np.ndarray], expert: list[np.ndarray]) -> np.ndarray:
    """Distance from each auto vertex, along its normal, to the expert polylines.

    The normal line through each automatic-contour vertex is intersected with
    every segment of the expert polylines; the distance is the one to the
    nearest intersection (either side). A vertex whose normal meets no expert
    segment gets its closest distance to the expert polylines instead.
    """
    points = np.concatenate(auto)
    normals = np.concatenate([_vertex_normals(contour) for contour in auto])
    starts = np.concatenate(expert)
    segments = np.concatenate([np.roll(c, -1, axis=0) for c in expert]) - starts
    squared_lengths = np.einsum("ij,ij->i", segments, segments)
    distances = np.empty(len(points))
    chunk = max(1, _CHUNK_PAIRS // max(len(starts), 1))
    for begin in range(0, len(points), chunk):
        p = points[begin : begin + chunk, np.newaxis]
        n = normals[begin : begin + chunk, np.newaxis]
        to_start = starts[np.newaxis] - p
        # Solve p + t n = a + s d for every (vertex, segment) pair.
        denominator = _cross(n, segments[np.newaxis])
        with np.errstate(invalid="ignore", divide="ignore"):
            t = _cross(to_start, segments[np.newaxis]) / denominator
            s = _cross(to_start, n) / denominator
        parallel = np.abs(denominator) <= 1e-12
        hits = ~parallel & (s >= -_S_TOLERANCE) & (s <= 1.0 + _S_TOLERANCE)
        # Closest point of each segment: projection clipped to the segment.
        u = np.clip(-np.einsum("psk,sk->ps", to_start, segments) / squared_lengths, 0.0, 1.0)
        to_segment = np.linalg.norm(to_start + u[..., np.newaxis] * segments, axis=2)
        # A segment lying on the normal line (where staircase outlines cross at
        # right angles) meets it along its whole length: its nearest point is
        # the intersection (0 for a vertex on it), not a miss.
        on_line = parallel & (np.abs(_cross(to_start, n)) <= 1e-9 * (1.0 + np.linalg.norm(to_start, axis=2)))
        along_normal = np.where(hits, np.abs(t), np.where(on_line, to_segment, np.inf)).min(axis=1)
        distances[begin : begin + chunk] = np.where(
            np.isfinite(along_normal), along_normal, to_segment.min(axis=1)
        )
    return distances


def _outline(item: np.ndarray | None) -> np.ndarray | None:
    """A slice's outline as ``(x, y)`` points: a contour as given, a mask's ``mask_to_contour``."""
    if item is None or item.dtype != bool:
        return item
    return mask_to_contour(item) if item.any() else None


def _boundary_points(item: np.ndarray | None) -> np.ndarray | None:
    """``(x, y)`` points of a slice's boundary for the Hausdorff distance.

    A mask: the vertices of the iso-lines of every object and hole. A contour:
    its closed polyline sampled at most ``_SAMPLING_PX`` apart.
    """
    if item is None:
        return None
    if item.dtype == bool:
        return np.concatenate(_mask_contours(item))[:, ::-1] if item.any() else None
    closed = np.vstack([item, item[:1]])
    steps = np.maximum(np.ceil(np.linalg.norm(np.diff(closed, axis=0), axis=1) / _SAMPLING_PX), 1).astype(int)
    parts = [a + np.linspace(0.0, 1.0, k, endpoint=False)[:, None] * (b - a)
             for a, b, k in zip(closed[:-1], closed[1:], steps)]
    return np.concatenate(parts)


def check_definition(definition: str) -> str:
    """``definition`` if it is one of :data:`APD_DEFINITIONS`, else ``ValueError``."""
    if definition not in APD_DEFINITIONS:
        raise ValueError(f"definition must be one of {APD_DEFINITIONS}; got {definition!r}.")
    return definition


def square_pixels(spacing: np.ndarray) -> np.ndarray:
    """Whether each (row, col) spacing of ``spacing`` (..., 2) is square enough for ``"miccai2009"``.

    The one test of :func:`average_perpendicular_distance`; ``skcardio
    evaluate`` asks it too, to give the other slices the geometric APD.
    """
    spacing = np.asarray(spacing, dtype=np.float64)
    return np.isclose(spacing[..., 0], spacing[..., 1], rtol=_SQUARE_RTOL, atol=0.0)


def _square_pixel(spacing: np.ndarray, index: int) -> float:
    """The one pixel size the challenge's rules scale by (they measure in pixels)."""
    row, col = spacing
    if not square_pixels(spacing):
        raise ValueError(
            f"definition='miccai2009' measures in pixels and needs square pixels; slice {index} "
            f"has spacing (row, col) = ({row}, {col}) mm; use definition='geometric' for "
            "anisotropic pixels."
        )
    return float(row)


def _slice_apd(expert, auto, spacing: np.ndarray, definition: str, index: int) -> float:
    expert, auto = _outline(expert), _outline(auto)
    if expert is None and auto is None:
        return 0.0
    if expert is None or auto is None:
        return np.inf
    if definition == "miccai2009":
        return _square_pixel(spacing, index) * miccai_apd(auto, expert)
    # Geometric: in mm ((x, y) scaled by (col, row) spacing), without repeated points.
    auto, expert = (_distinct(c) * spacing[::-1] for c in (auto, expert))
    return float(_perpendicular_distances([auto], [expert]).mean())


def _distinct(contour: np.ndarray) -> np.ndarray:
    """A closed contour without repeated consecutive points (zero-length segments)."""
    keep = np.any(contour != np.roll(contour, -1, axis=0), axis=1)
    return contour[keep] if keep.any() else contour[:1]


def _slice_hausdorff(truth, pred, spacing: np.ndarray, index: int) -> float:
    u, v = _boundary_points(truth), _boundary_points(pred)
    if u is None and v is None:
        return 0.0
    if u is None or v is None:
        return np.inf
    u, v = u * spacing[::-1], v * spacing[::-1]
    return float(max(directed_hausdorff(u, v)[0], directed_hausdorff(v, u)[0]))


def _per_slice(func, y_true, y_pred, spacing, **kwargs) -> np.ndarray:
    y_true, y_pred = check_contours_or_masks(y_true, y_pred)
    spacing = check_spacing(spacing, len(y_true))
    return np.array(
        [func(t, p, s, index=i, **kwargs) for i, (t, p, s) in enumerate(zip(y_true, y_pred, spacing))],
        dtype=np.float64,
    )


def hausdorff_distance(
    y_true: ArrayLike | Sequence[ArrayLike | None],
    y_pred: ArrayLike | Sequence[ArrayLike | None],
    *,
    spacing: ArrayLike = 1.0,
    per_slice: bool = False,
) -> float | np.ndarray:
    """Symmetric Hausdorff distance between the masks' boundaries or the contours, in mm.

    Per slice, the largest distance from a point of one boundary to the
    nearest point of the other, in both directions. A mask's boundary holds
    every object and hole (module docstring), so a stray blob or a hole far
    from the expert contour shows here; a contour is its closed polyline.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W), or list of (m, 2) arrays
        Expert and predicted masks (bool, or numbers that are all 0 or 1), or
        contours: a list with one ``(m, 2)`` array of ``(x, y)`` = ``(col,
        row)`` pixel coordinates per slice (as :func:`skcardio.io.read_contour`
        returns; ``None`` or an empty array for a slice without contour). A
        mask stack and a contour list can be mixed.
    spacing : float, array-like of shape (2,) or (n, 2), default=1.0
        Pixel spacing (row, col) in mm, for all slices or per slice (the
        ``pixel_spacing`` field of the slice records). With the default, the
        unit is the pixel.
    per_slice : bool, default=False
        Return the ``(n,)`` distances instead of their mean.

    Returns
    -------
    float or ndarray of shape (n,)
        Lower is better.

    Notes
    -----
    Masks are compared through the vertices of their 0.5 iso-lines (at most
    0.71 px apart); a contour's polyline is sampled every 0.1 px or closer,
    so the value is within 0.05 px of the distance between the curves.

    Empty-mask rule (per slice): both empty gives 0.0; exactly one empty
    gives ``inf`` (so the mean over slices is ``inf`` too).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import hausdorff_distance
    >>> y_true = np.zeros((12, 12), bool); y_true[3:8, 3:8] = True
    >>> y_pred = np.roll(y_true, 2, axis=1)          # shifted 2 columns
    >>> float(hausdorff_distance(y_true, y_pred, spacing=(1.0, 0.7)))   # 2 px x 0.7 mm
    1.4
    >>> square = np.array([[2.5, 2.5], [7.5, 2.5], [7.5, 7.5], [2.5, 7.5]])  # (x, y)
    >>> float(hausdorff_distance([square], [square + [0.0, 3.0]]))   # 3 rows down
    3.0
    """
    distances = _per_slice(_slice_hausdorff, y_true, y_pred, spacing)
    return distances if per_slice else float(distances.mean())


def average_perpendicular_distance(
    y_true: ArrayLike | Sequence[ArrayLike | None],
    y_pred: ArrayLike | Sequence[ArrayLike | None],
    *,
    spacing: ArrayLike = 1.0,
    per_slice: bool = False,
    definition: str = "miccai2009",
) -> float | np.ndarray:
    """Average perpendicular distance (APD) from the predicted to the expert contour, in mm.

    The contour metric of the MICCAI 2009 LV segmentation challenge (Radau et
    al. 2009): for each vertex of the *automatic* contour, the distance along
    the contour's normal at that vertex to where the normal meets the
    *expert* contour, averaged over the automatic vertices. It is directed
    (automatic to expert), not the symmetric mean surface distance.

    Parameters
    ----------
    y_true : array-like of shape (n, H, W) or (H, W), or list of (m, 2) arrays
        Expert masks, or better the expert's contours as drawn: one ``(m, 2)``
        array of ``(x, y)`` = ``(col, row)`` pixel coordinates per slice (as
        :func:`skcardio.io.read_contour` returns; ``None`` or an empty array
        for a slice without contour). A mask is first traced back into an
        outline, which lies about 0.2 px outside the polygon it was drawn
        from: figures called MICCAI APD should use the contour files.
    y_pred : array-like of shape (n, H, W) or (H, W), or list of (m, 2) arrays
        Predicted masks (their outlines, :func:`skcardio.io.mask_to_contour`,
        are the automatic contours), or automatic contours.
    spacing : float, array-like of shape (2,) or (n, 2), default=1.0
        Pixel spacing (row, col) in mm, for all slices or per slice.
    per_slice : bool, default=False
        Return the ``(n,)`` distances instead of their mean.
    definition : {"miccai2009", "geometric"}, default="miccai2009"
        ``"miccai2009"``: the rules of the challenge's evaluation code
        (``compare_contours.m``, ``calc_dist``, version 1.0): distances
        measured in pixels to a line fitted through the expert point nearest
        to the normal within a +-50 degree sector, vertices whose crossing
        lies 1.5 px or more from every sector point dropped, zero distances
        left out of the mean; it needs square pixels. ``"geometric"``: the
        exact distance along the normal to the nearest crossing with the
        expert polyline, in mm (anisotropic pixels allowed); a vertex whose
        normal meets nothing takes its closest distance; every vertex, zeros
        included, is averaged. See ``docs/metrics.md``.

    Returns
    -------
    float or ndarray of shape (n,)
        Lower is better.

    Raises
    ------
    ValueError
        Bad shapes, spacing or contours, an unknown ``definition``, or
        ``definition="miccai2009"`` with non-square pixels (row and column
        spacing more than 0.1 % apart).

    Notes
    -----
    Per slice, with ``definition="miccai2009"`` (the rules are listed in
    ``docs/metrics.md``): the mean of the positive distances of the kept
    vertices, times the pixel spacing; 0.0 when every kept distance is 0,
    ``inf`` when every vertex is dropped. The challenge code has no value in
    those two cases (a mean of nothing); it also skips automatic contours of
    15 points or fewer or touching the image border, which are measured here.

    On pixel outlines the three-vertex tangent quantises normal directions,
    and on jagged outlines some normals meet the expert contour at a grazing
    angle: the APD exceeds the mean closest-point distance.

    The overall APD here averages every slice; the challenge reports the mean
    over the good contours only (APD below 5 mm). Average
    ``per_slice=True`` values over a subset for that figure.

    Empty-mask rule (per slice): both empty gives 0.0; exactly one empty gives
    ``inf``.

    References
    ----------
    P. Radau, Y. Lu, K. Connelly, G. Paul, A. J. Dick, G. A. Wright,
    "Evaluation Framework for Algorithms Segmenting Short Axis Cardiac MRI",
    The MIDAS Journal - Cardiac MR Left Ventricle Segmentation Challenge,
    2009, http://hdl.handle.net/10380/3070, and the challenge's evaluation
    code (``compare_contours.m``, ``calc_dist``, version 1.0, 2009-06-29).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import average_perpendicular_distance
    >>> expert = np.array([[x, 10.0] for x in range(2, 19)] + [[x, 20.0] for x in range(18, 1, -1)])
    >>> auto = expert + [0.0, 2.0]          # shifted 2 rows: 2 px on the long sides
    >>> float(average_perpendicular_distance([expert], [auto], spacing=1.25))
    2.5
    >>> y_true = np.zeros((2, 12, 12), bool); y_true[:, 2:9, 2:9] = True
    >>> y_pred = y_true.copy(); y_pred[1] = False; y_pred[1, 5, 5] = True
    >>> # slice 1: every normal of the one-pixel diamond meets the square 3 px away
    >>> average_perpendicular_distance(y_true, y_pred, definition="geometric", per_slice=True)
    array([0., 3.])
    """
    check_definition(definition)
    distances = _per_slice(_slice_apd, y_true, y_pred, spacing, definition=definition)
    return distances if per_slice else float(distances.mean())


def good_contour_rate(
    y_true: ArrayLike | Sequence[ArrayLike | None],
    y_pred: ArrayLike | Sequence[ArrayLike | None],
    *,
    spacing: ArrayLike = 1.0,
    threshold: float = 5.0,
    definition: str = "miccai2009",
) -> float:
    """Fraction of slices whose APD is below ``threshold`` mm ("good contours").

    The MICCAI 2009 LV segmentation challenge (Radau et al. 2009) counts an
    automatic contour as good when its average perpendicular distance to the
    expert contour is less than 5 mm.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W), or list of (m, 2) arrays
        Expert and predicted masks or contours, as for
        :func:`average_perpendicular_distance` (pass the expert's contour
        points for the challenge's figure).
    spacing : float, array-like of shape (2,) or (n, 2), default=1.0
        Pixel spacing (row, col) in mm.
    threshold : float, default=5.0
        APD (mm) a slice must stay strictly below.
    definition : {"miccai2009", "geometric"}, default="miccai2009"
        The APD's definition (see :func:`average_perpendicular_distance`).

    Returns
    -------
    float
        In ``[0, 1]``. A slice with exactly one empty mask (APD ``inf``) is
        not good; a slice where both are empty is.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import good_contour_rate
    >>> y_true = np.zeros((2, 12, 12), bool); y_true[:, 2:9, 2:9] = True
    >>> y_pred = y_true.copy(); y_pred[1] = False       # second slice missed
    >>> good_contour_rate(y_true, y_pred, spacing=1.25)
    0.5
    """
    check_real("threshold", threshold, "a distance > 0 (mm)", lambda v: v > 0)
    apd = average_perpendicular_distance(
        y_true, y_pred, spacing=spacing, per_slice=True, definition=definition
    )
    return float(np.mean(apd < threshold))
