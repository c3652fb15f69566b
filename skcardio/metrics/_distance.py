"""Contour distances in millimetres: Hausdorff and the MICCAI 2009 APD.

Contour convention
------------------
Contours are 0.5 iso-lines of the masks (:func:`skimage.measure.find_contours`
on the mask padded with one row/column of ``False``): closed polylines whose
vertices lie half-way between the centres of an inside and an outside pixel,
at most ~0.71 px apart.

* The APD compares *outlines*, one closed polyline per mask, as a contour
  file would hold it: :func:`skcardio.io.mask_to_contour`, the outer boundary
  of the largest object (the 8-connected component with the most pixels).
  Other objects and holes are not part of the outline; IoU, Dice and the
  Hausdorff distance see them.
* The Hausdorff distance compares the *whole boundaries*: the iso-lines of
  every object and every hole.

Coordinates ``(row, col)`` are multiplied by the pixel spacing ``(row, col)``
in mm before any geometry, so normals are perpendicular in physical space.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.spatial.distance import directed_hausdorff
from skimage.measure import find_contours

from ..io import mask_to_contour
from ..utils._validation import check_masks, check_spacing

__all__ = ["hausdorff_distance", "average_perpendicular_distance", "good_contour_rate"]

# Vertices processed at once when intersecting normals with the expert
# contour: bounds the (points x segments) work arrays for speckled masks.
_CHUNK = 1024

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
    for begin in range(0, len(points), _CHUNK):
        p = points[begin : begin + _CHUNK, np.newaxis]
        n = normals[begin : begin + _CHUNK, np.newaxis]
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
        distances[begin : begin + _CHUNK] = np.where(
            np.isfinite(along_normal), along_normal, to_segment.min(axis=1)
        )
    return distances


def _outline(mask: np.ndarray) -> np.ndarray:
    """The contour a mask is written as: ``mask_to_contour`` in ``(row, col)``."""
    return mask_to_contour(mask)[:, ::-1]


def _slice_apd(truth: np.ndarray, pred: np.ndarray, spacing: np.ndarray) -> float:
    if not truth.any() and not pred.any():
        return 0.0
    if not truth.any() or not pred.any():
        return np.inf
    auto = _outline(pred) * spacing
    expert = _outline(truth) * spacing
    return float(_perpendicular_distances([auto], [expert]).mean())


def _slice_hausdorff(truth: np.ndarray, pred: np.ndarray, spacing: np.ndarray) -> float:
    if not truth.any() and not pred.any():
        return 0.0
    if not truth.any() or not pred.any():
        return np.inf
    u = np.concatenate(_mask_contours(truth)) * spacing
    v = np.concatenate(_mask_contours(pred)) * spacing
    return float(max(directed_hausdorff(u, v)[0], directed_hausdorff(v, u)[0]))


def _per_slice(func, y_true, y_pred, spacing) -> np.ndarray:
    y_true, y_pred = check_masks(y_true, y_pred)
    spacing = check_spacing(spacing, len(y_true))
    return np.array([func(t, p, s) for t, p, s in zip(y_true, y_pred, spacing)], dtype=np.float64)


def hausdorff_distance(
    y_true: ArrayLike, y_pred: ArrayLike, *, spacing: ArrayLike = 1.0, per_slice: bool = False
) -> float | np.ndarray:
    """Symmetric Hausdorff distance between the masks' contours, in mm.

    Per slice, the largest distance from a vertex of one mask's boundary to
    the nearest vertex of the other's, in both directions. Boundaries include
    every object and hole (module docstring), so a stray blob or a hole far
    from the expert contour shows here.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W)
        Expert and predicted masks: bool, or numbers that are all 0 or 1.
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
    Empty-mask rule (per slice): both empty gives 0.0; exactly one empty
    gives ``inf`` (so the mean over slices is ``inf`` too).

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.metrics import hausdorff_distance
    >>> y_true = np.zeros((12, 12), bool); y_true[3:8, 3:8] = True
    >>> y_pred = np.roll(y_true, 2, axis=1)          # shifted 2 columns
    >>> hausdorff_distance(y_true, y_pred, spacing=(1.0, 0.7))   # 2 px x 0.7 mm
    1.4
    """
    distances = _per_slice(_slice_hausdorff, y_true, y_pred, spacing)
    return distances if per_slice else float(distances.mean())


def average_perpendicular_distance(
    y_true: ArrayLike, y_pred: ArrayLike, *, spacing: ArrayLike = 1.0, per_slice: bool = False
) -> float | np.ndarray:
    """Average perpendicular distance (APD) from the predicted to the expert contour, in mm.

    The contour metric of the MICCAI 2009 LV segmentation challenge (Radau et
    al. 2009): for each vertex of the *automatic* contour, the distance along
    the contour's normal at that vertex to where the normal meets the
    *expert* contour, averaged over the automatic vertices. It is directed
    (automatic to expert), not the symmetric mean surface distance.

    Parameters
    ----------
    y_true : array-like of shape (n, H, W) or (H, W)
        Expert masks.
    y_pred : array-like of shape (n, H, W) or (H, W)
        Predicted masks (the automatic contours).
    spacing : float, array-like of shape (2,) or (n, 2), default=1.0
        Pixel spacing (row, col) in mm, for all slices or per slice.
    per_slice : bool, default=False
        Return the ``(n,)`` distances instead of their mean.

    Returns
    -------
    float or ndarray of shape (n,)
        Lower is better.

    Notes
    -----
    What is implemented, per slice: the automatic and expert contours are the
    outlines of ``y_pred`` and ``y_true`` (:func:`skcardio.io.mask_to_contour`,
    see the module docstring), then

    1. the tangent at each automatic vertex is the vector from the previous
       to the next vertex (the challenge code fits a line to the same three
       points), and the normal is perpendicular to it;
    2. the normal line is intersected exactly with every segment of the
       expert polyline and the nearest intersection (either side) is kept;
       the challenge code instead takes the expert vertex closest to the
       normal inside an angular sector around the contour's centroid and
       intersects the normal with a line fitted to that vertex and its two
       neighbours;
    3. a vertex whose normal meets no expert segment (a contour lying beside
       the expert one) gets its closest distance to the expert polyline; the
       challenge code leaves such vertices out, which leaves a contour whose
       normals all miss without any distance;
    4. the mean over all automatic vertices.

    The three-vertex tangent quantises normal directions on pixel outlines,
    and on jagged outlines some normals meet the expert contour at a grazing
    angle, far away. So the APD exceeds the mean closest-point distance: on
    digitised concentric disks of radii 20 and 30 px it is 10.46 px from the
    outer to the inner contour (10.12 px the other way), and on the plain
    Otsu outlines of the 12 embedded sample slices with both contours it is
    26-39 % above (per slice) the mean distance from the predicted outline's
    vertices to the nearest expert vertex.

    Anisotropic pixels are handled by scaling coordinates to mm first (the
    challenge code multiplies pixel distances by the row spacing only, which is
    the same for square pixels).

    Deliberate differences from the challenge's ``compare_contours.m``
    (version 1.0):

    * **Zeros are kept.** The challenge code averages only the distances
      greater than 0, so automatic vertices lying exactly on the expert
      contour are dropped; here every vertex counts. A vertex on the expert
      contour is a perfect vertex, and dropping it inflates the APD of good
      contours most.
    * **Every slice is averaged.** The challenge's overall APD is the mean
      over *good* contours only (APD below the limit); this function (and
      the ``neg_apd`` scorer) averages over all slices, bad ones and ``inf``
      included. Use ``per_slice=True`` to average over a subset.
    * **The expert contour is re-traced from the mask.** ``y_true`` is a
      mask, so the expert outline is its 0.5 iso-line, not the points of the
      contour file. That staircase zig-zags about the expert's polygon (on
      the 46 shared slices with both contours, the APD of the re-traced
      i-contour outline to the file points is 0.29 mm, 0.24-0.34 mm per
      slice), which moves a prediction's APD by a few tenths of a mm either
      way: +0.19 mm on average for plain Otsu, 0.00 mm for
      :func:`~skcardio.segment.make_classical_pipeline` (see
      ``docs/metrics.md``).

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
    >>> y_true = np.zeros((2, 12, 12), bool); y_true[:, 2:9, 2:9] = True
    >>> y_pred = y_true.copy(); y_pred[1] = False; y_pred[1, 5, 5] = True
    >>> # slice 1: every normal of the one-pixel diamond meets the square 3 px away
    >>> average_perpendicular_distance(y_true, y_pred, spacing=1.25, per_slice=True)
    array([0.  , 3.75])
    """
    distances = _per_slice(_slice_apd, y_true, y_pred, spacing)
    return distances if per_slice else float(distances.mean())


def good_contour_rate(
    y_true: ArrayLike, y_pred: ArrayLike, *, spacing: ArrayLike = 1.0, threshold: float = 5.0
) -> float:
    """Fraction of slices whose APD is below ``threshold`` mm ("good contours").

    The MICCAI 2009 LV segmentation challenge (Radau et al. 2009) counts an
    automatic contour as good when its average perpendicular distance to the
    expert contour is less than 5 mm.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n, H, W) or (H, W)
        Expert and predicted masks.
    spacing : float, array-like of shape (2,) or (n, 2), default=1.0
        Pixel spacing (row, col) in mm.
    threshold : float, default=5.0
        APD (mm) a slice must stay strictly below.

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
    apd = average_perpendicular_distance(y_true, y_pred, spacing=spacing, per_slice=True)
    return float(np.mean(apd < threshold))
