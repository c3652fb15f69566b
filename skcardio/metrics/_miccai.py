"""Per-vertex distances under the rules of the MICCAI 2009 LV challenge evaluator.

The rules of ``calc_dist`` in the challenge's ``compare_contours.m`` (version
1.0, 2009-06-29, Radau and Lu), re-implemented from their description; all
in pixel units (``x`` = column, ``y`` = row), as the challenge code works:

1. A closing point equal to the first is dropped from each contour.
2. Sector centres: the centroid of the expert polygon's pixels as MATLAB's
   ``poly2mask`` sets them (its documented algorithm: 5 x 5 subpixels per
   pixel, vertices moved to the nearest subpixel corner, a pixel inside when
   its centre subpixel is; see :func:`_pixels_inside`). If that pixel at the
   rounded expert centroid is set for the automatic polygon, both contours
   use the expert centroid, otherwise the automatic contour uses its own.
3. Each point's angle about its contour's centre, in degrees. The expert
   points in the sector of an automatic vertex at angle ``a`` are those at an
   angle within 50 degrees of ``a`` (``|b - a| < 50``, no wrap-around), or,
   when ``|a| >= 150``, those with ``|b| >= 130``.
4. Tangent: least-squares line ``y = m x + c`` through the vertex and its two
   neighbours; when the swapped fit ``x = m' y + c'`` has ``|m'| < 0.1`` and a
   smaller sum of absolute residuals, ``m = 1 / (m' + 1e-5)``. Three equal
   points give no tangent (distance 0). The normal is vertical when
   ``|m| < 0.01``, horizontal when ``|m| > 100``, else of slope ``-1 / m``.
5. The sector point nearest to the normal line (first in contour order); if
   two or more sector points lie within 0.5 px of the normal, the one of
   those nearest to the vertex instead (first of equals), taken at its first
   occurrence in the expert contour.
6. A line through that expert point with the slope fitted to it and its two
   neighbours (same rules as 4; horizontal if ``|m| < 0.01``, vertical if
   ``|m| > 100``).
7. The crossing of the normal with that line is kept only if it lies less
   than 1.5 px from a sector point; otherwise the vertex is dropped (also
   when the normal does meet the expert outline elsewhere).
8. The APD averages the distances greater than 0: zeros are dropped too.
   Here a distance up to 1e-9 px is a zero. In the challenge code a vertex
   on the expert line sometimes gets a round-off distance of about 1e-15 px
   instead of 0, which then counts; when depends on the rounding of the
   least-squares and 2 x 2 solvers (LAPACK routines that differ between
   MATLAB and Octave), so it cannot be reproduced: the rule as written is.

Exact ties are decided as in exact arithmetic, with MATLAB's semantics:
values within 1e-9 px (relative for slopes) are equal, ``min`` takes the
first of equals, a crossing exactly 1.5 px from the nearest sector point is
dropped (``<`` is strict), a normal exactly parallel to the fitted expert
line (or lying on it) makes the 2 x 2 system singular and drops the vertex.
On pixel outlines (half-pixel coordinates, 45-degree steps) such ties are
common; the challenge code decides them by the round-off of its
least-squares fits, so in Octave its result there changes with a
whole-pixel translation of both contours (which changes nothing in exact
arithmetic), whether the fits use Octave's solver or a QR one like MATLAB's;
this module's result does not change.

Where the challenge code stops with an error (a vertex with no expert point
in its sector, a polygon whose pixels form several 8-connected pieces or
none), this module goes on: such a vertex is dropped, the centroid is that of
all the polygon's pixels (of its vertices if it covers no pixel centre).
"""

from __future__ import annotations

import numpy as np

__all__ = ["miccai_apd", "miccai_distances", "polygon_centroid"]

#: Half-width of the angular sector of expert points searched, degrees.
SECTOR_DEG = 50.0
#: Automatic vertices at |angle| >= this use the sector |angle| >= WRAP_SECTOR_DEG.
WRAP_DEG = 150.0
WRAP_SECTOR_DEG = 130.0
#: Expert points this close to the normal (px) compete on distance to the vertex.
NEAR_NORMAL_PX = 0.5
#: A crossing farther than this (px) from every sector point drops the vertex.
MAX_CROSSING_PX = 1.5
# Distances (and APDs) up to this (px) are 0 and its round-off (identical
# contours gave 3e-16).
_ZERO_PX = 1e-9
# Quantities closer than this (px, or relative for slopes and determinants)
# are equal: the decisions are taken as in exact arithmetic, where the
# challenge code's result depends on the round-off of its least-squares fits.
_TIE = 1e-9


def _drop_closing_point(points: np.ndarray) -> np.ndarray:
    if len(points) > 1 and np.array_equal(points[0], points[-1]):
        return points[:-1]
    return points


#: MATLAB's ``poly2mask`` classifies pixels on a grid of this many subpixels per pixel side.
SUBPIXELS = 5


def _round_half_away_array(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.floor(np.abs(values) + 0.5)


#: Subpixel points traced at once by :func:`_toggles` (a longer edge is traced alone).
TRACE_POINTS = 2**18


def _edge_steps(start: np.ndarray, stop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal unit steps ``(x, y)`` of edges traced on the integer subpixel grid.

    Each edge (row of ``start`` to the same row of ``stop``) is traced one
    unit at a time along its longer axis, from its left (or, if steeper than
    45 degrees, its lower) end, the other coordinate rounded (halves away
    from zero). Each change of x between consecutive points of an edge is a
    horizontal step, recorded at the smaller x and the smaller y of the two
    points (so the direction of travel does not matter). Steps come edge by
    edge, in order. Memory: one value per traced point of all the edges.
    """
    x1, y1, x2, y2 = start[:, 0], start[:, 1], stop[:, 0], stop[:, 1]
    wide = np.abs(x2 - x1) >= np.abs(y2 - y1)
    flip = np.where(wide, x1 > x2, y1 > y2)
    x1, x2 = np.where(flip, x2, x1), np.where(flip, x1, x2)
    y1, y2 = np.where(flip, y2, y1), np.where(flip, y1, y2)
    # The traced coordinate runs from `first` to `last`; the other is fitted.
    first, last = np.where(wide, x1, y1), np.where(wide, x2, y2)
    base, other_last = np.where(wide, y1, x1), np.where(wide, y2, x2)
    counts = (last - first).astype(np.int64) + 1
    edge = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    traced = first[edge] + offset
    with np.errstate(divide="ignore", invalid="ignore"):
        # A point edge (one traced point, 0 / 0 here) has no step.
        slope = (other_last - base) / (last - first)
    fitted = _round_half_away_array(base[edge] + slope[edge] * (traced - first[edge]))
    x = np.where(wide[edge], traced, fitted)
    y = np.where(wide[edge], fitted, traced)
    moves = np.flatnonzero((edge[1:] == edge[:-1]) & (x[1:] != x[:-1]))
    return np.minimum(x[moves], x[moves + 1]), np.minimum(y[moves], y[moves + 1])


def _toggles(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(column, row)`` of each pixel where the polygon's subpixel path toggles inside and outside.

    Walking down a column, every pixel from a toggle's row on changes side
    (even-odd rule); :func:`_column_runs` turns these into runs. The edges
    are traced in batches of about :data:`TRACE_POINTS` subpixel points.
    """
    scale = SUBPIXELS
    grid = _round_half_away_array(scale * (points - 0.5) + 1.0)
    starts, stops = grid, np.roll(grid, -1, axis=0)
    traced = np.abs(stops - starts).max(axis=1) + 1
    ends = np.cumsum(traced)
    cols, rows = [], []
    begin = 0
    while begin < len(grid):
        done = ends[begin - 1] if begin else 0.0
        end = max(int(np.searchsorted(ends, done + TRACE_POINTS, side="right")), begin + 1)
        xe, ye = _edge_steps(starts[begin:end], stops[begin:end])
        xe, ye = xe.astype(np.int64), ye.astype(np.int64)
        # Only steps across a pixel's centre subpixel column count; a step at
        # subpixel row ye toggles every pixel row whose centre subpixel lies below it.
        centre = (xe + (scale - 1) // 2) % scale == 0
        cols.append((xe[centre] + (scale - 1) // 2) // scale)
        rows.append(-((-(ye[centre] + (scale - 1) // 2)) // scale))
        begin = end
    if not cols:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(cols), np.concatenate(rows)


def _column_runs(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pixels MATLAB's ``poly2mask`` sets (its documented algorithm), as runs of rows per column.

    Each pixel is split into 5 x 5 subpixels; the vertices move to the nearest
    subpixel corner; the polygon becomes a path along subpixel edges (rule of
    :func:`_edge_steps`); a pixel is inside when its centre subpixel is
    inside that path (even-odd rule). The centre subpixel never lies on the
    path, so there are no boundary ties, and a polygon through pixel centres
    keeps the pixels on its right and bottom sides only (MATLAB's example:
    the square with corners (4, 4) and (10, 10) sets columns and rows 5-10).
    No image bounds: pixels at negative coordinates count too.

    Returns ``(column, start, stop)``: rows ``start`` to ``stop - 1`` of
    ``column`` are inside. Runs, not a raster of the bounding box: memory
    follows the outline's length, not its area (a contour 10^5 pixels
    across would need a raster of 10^10 pixels).
    """
    cols, rows = _toggles(points)
    if cols.size == 0:
        return (np.empty(0, np.int64),) * 3
    # Down each column, the toggles open and close runs in turn (even-odd rule); an
    # unclosed run reaches the lowest toggled row of the polygon.
    order = np.lexsort((rows, cols))
    cols, rows = cols[order], rows[order]
    same_next = cols[1:] == cols[:-1]
    first = np.flatnonzero(np.r_[True, ~same_next])
    rank = np.arange(cols.size) - np.repeat(first, np.diff(np.r_[first, cols.size]))
    stops = np.where(np.r_[same_next, False], np.r_[rows[1:], 0], rows.max() + 1)
    opening = (rank % 2 == 0) & (stops > rows)
    return cols[opening], rows[opening], stops[opening]


def _pixels_inside(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of every pixel :func:`_column_runs` sets (memory in proportion to their number)."""
    cols, starts, stops = _column_runs(points)
    lengths = stops - starts
    rows = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths - starts, lengths)
    return np.repeat(cols, lengths), rows


def polygon_centroid(points: np.ndarray) -> np.ndarray:
    """Centroid ``(x, y)`` of the pixels MATLAB's ``poly2mask`` sets for a polygon.

    Parameters
    ----------
    points : ndarray of shape (m, 2)
        ``(x, y)`` vertices in pixels.

    Returns
    -------
    ndarray of shape (2,)
        The mean of the covered pixel centres; the mean of the vertices when
        the polygon covers no pixel centre.
    """
    cols, starts, stops = _column_runs(points)
    lengths = stops - starts
    count = int(lengths.sum())
    if count == 0:
        return points.mean(axis=0)
    # Exact integer sums (rows start..stop-1 add up to (start + stop - 1) * length / 2).
    sum_x = int(np.dot(cols, lengths))
    sum_y = int(np.sum((starts + stops - 1) * lengths // 2))  # the product is always even
    return np.array([sum_x / count, sum_y / count])


def _round_half_away(value: float) -> int:
    """MATLAB's ``round`` (halves away from zero; numpy rounds them to even)."""
    return int(np.sign(value) * np.floor(abs(value) + 0.5))


def _covers(points: np.ndarray, x: int, y: int) -> bool:
    cols, starts, stops = _column_runs(points)
    return bool(np.any((cols == x) & (starts <= y) & (y < stops)))


def _fitted_slopes(prev: np.ndarray, cur: np.ndarray, nxt: np.ndarray) -> np.ndarray:
    """Slope ``m`` of the three-point line (rule 4) for each row; inf for an exactly vertical fit."""
    x = np.stack([prev[:, 0], cur[:, 0], nxt[:, 0]], axis=1)
    y = np.stack([prev[:, 1], cur[:, 1], nxt[:, 1]], axis=1)
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    sxx, syy, sxy = (xc * xc).sum(1), (yc * yc).sum(1), (xc * yc).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        forward = sxy / sxx
        swapped = sxy / syy
        # With x all equal any forward solution fits the mean of y.
        residual_forward = np.where(sxx > 0, np.abs(yc - forward[:, None] * xc).sum(1), np.abs(yc).sum(1))
        residual_swapped = np.abs(xc - swapped[:, None] * yc).sum(1)
        strictly_smaller = residual_swapped < residual_forward - _TIE * (1.0 + residual_forward)
        use_swapped = (syy > 0) & (np.abs(swapped) < 0.1 - _TIE) & strictly_smaller
        return np.where(use_swapped, 1.0 / (swapped + 1e-5), forward)


def _angles(points: np.ndarray, centre: np.ndarray) -> np.ndarray:
    return np.degrees(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0]))


def _sectors(auto_deg: np.ndarray, expert_deg: np.ndarray) -> np.ndarray:
    """(n_auto, n_expert) bool: expert point in the vertex's sector (rule 3)."""
    wrap = np.abs(auto_deg)[:, None] >= WRAP_DEG
    return np.where(
        wrap,
        (np.abs(expert_deg) >= WRAP_SECTOR_DEG)[None, :],
        np.abs(expert_deg[None, :] - auto_deg[:, None]) < SECTOR_DEG,
    )


def _neighbours(points: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(points)
    return points[(index - 1) % n], points[index], points[(index + 1) % n]


def miccai_distances(auto: np.ndarray, expert: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (px) from each automatic vertex to the expert contour under the challenge's rules.

    Parameters
    ----------
    auto, expert : ndarray of shape (n, 2) and (m, 2)
        Closed contours, ``(x, y)`` in pixels (a closing repeat of the first
        point is dropped, rule 1 of the module docstring).

    Returns
    -------
    distances : ndarray of shape (n',)
        One value per automatic vertex (after rule 1): the distance, 0 when
        the three points are equal or the vertex lies on the fitted expert
        line, NaN for a dropped vertex.
    counted : ndarray of shape (n',), bool
        The vertices the APD averages: not dropped and not 0 (rule 8).

    Notes
    -----
    Each vertex is compared with every expert point, in blocks of vertices
    of at most :data:`CHUNK_PAIRS` (vertex, point) pairs (one vertex at a
    time when the expert contour alone has more points): memory follows the
    contours' lengths, not their product (800 vertices against 100,000
    expert points held 4 GB at once). Each vertex's result does not depend
    on the block it is in.
    """
    auto = _drop_closing_point(np.asarray(auto, dtype=np.float64))
    expert = _drop_closing_point(np.asarray(expert, dtype=np.float64))
    expert_centre = polygon_centroid(expert)
    rounded = (_round_half_away(expert_centre[0]), _round_half_away(expert_centre[1]))
    auto_centre = expert_centre if _covers(auto, *rounded) else polygon_centroid(auto)
    auto_deg, expert_deg = _angles(auto, auto_centre), _angles(expert, expert_centre)

    index = np.arange(len(auto))
    prev, cur, nxt = _neighbours(auto, index)
    same = (prev == cur).all(1) & (nxt == cur).all(1)
    slope = _fitted_slopes(prev, cur, nxt)

    # Normal line A x + B y + C = 0 through each vertex.
    vertical = np.abs(slope) < 0.01 * (1.0 - _TIE)
    horizontal = ~vertical & (np.abs(slope) > 100 * (1.0 + _TIE))
    with np.errstate(divide="ignore", invalid="ignore"):
        a_n = np.where(vertical, 1.0, np.where(horizontal, 0.0, -1.0 / slope))
    b_n = np.where(vertical, 0.0, np.where(horizontal, 1.0, -1.0))
    c_n = np.where(vertical, -cur[:, 0], np.where(horizontal, -cur[:, 1], cur[:, 1] - a_n * cur[:, 0]))
    normals = np.column_stack([a_n, b_n, c_n])
    first = _first_occurrences(expert)

    distance = np.empty(len(auto))
    valid = np.empty(len(auto), dtype=bool)
    rows = max(1, CHUNK_PAIRS // max(len(expert), 1))
    for begin in range(0, len(auto), rows):
        block = slice(begin, begin + rows)
        distance[block], valid[block] = _block_distances(
            cur[block], normals[block], auto_deg[block], expert, expert_deg, first
        )
    # Rule 8: zeros (and their round-off) do not count.
    distance = np.where(distance <= _ZERO_PX, 0.0, distance)
    distances = np.where(same, 0.0, np.where(valid, distance, np.nan))
    return distances, valid & (distances > 0)


#: At most this many (vertex, expert point) pairs are held at once by
#: :func:`miccai_distances` (about 1 MB per float64 work array; typical slices,
#: a few hundred points each, take one block).
CHUNK_PAIRS = 2**17


def _first_occurrences(expert: np.ndarray) -> np.ndarray:
    """For each expert point, the index of the first point with the same coordinates (rule 5).

    Equal as ``==`` compares (``-0.0 == 0.0``); a point with a NaN coordinate
    equals none, and maps to 0 (as ``argmax`` of no match).
    """
    m = len(expert)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    # Stable: among equal points, contour order, so each group starts at its first occurrence.
    order = np.lexsort((expert[:, 1], expert[:, 0]))
    ordered = expert[order]
    starts = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    first = np.empty(m, dtype=np.int64)
    first[order] = order[np.flatnonzero(starts)][np.cumsum(starts) - 1]
    first[np.isnan(expert).any(axis=1)] = 0
    return first


def _block_distances(
    cur: np.ndarray, normals: np.ndarray, auto_deg: np.ndarray, expert: np.ndarray, expert_deg: np.ndarray,
    first: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Rules 3 and 5-7 for a block of vertices: the distance to the crossing, and whether it is kept."""
    in_sector = _sectors(auto_deg, expert_deg)
    xc, yc = cur[:, :1], cur[:, 1:]
    ex, ey = expert[None, :, 0], expert[None, :, 1]
    a_n, b_n, c_n = normals.T

    # The expert points' distances to the normal. For a vertical (A, B = 1, 0)
    # or horizontal (0, 1) normal this is |x - xc| or |y - yc|, bit for bit.
    with np.errstate(invalid="ignore"):
        to_normal = np.abs(a_n[:, None] * ex + b_n[:, None] * ey + c_n[:, None])
        to_normal /= np.sqrt(a_n**2 + b_n**2)[:, None]
    to_normal[~in_sector] = np.inf

    # Rule 5: the chosen expert point; of equals, the first (MATLAB's min).
    nearest = _first_minimum(to_normal)
    close = to_normal <= NEAR_NORMAL_PX + _TIE
    contested = close.sum(1) >= 2
    chosen = nearest
    if contested.any():
        to_vertex = np.hypot(ex - xc[contested], ey - yc[contested])
        to_vertex[~close[contested]] = np.inf
        chosen = nearest.copy()
        chosen[contested] = _first_minimum(to_vertex)
    # First occurrence of the chosen point's coordinates in the expert contour.
    chosen = first[chosen]

    # Rule 6: the expert line through the chosen point.
    r_prev, r_cur, r_next = _neighbours(expert, chosen)
    r_slope = _fitted_slopes(r_prev, r_cur, r_next)
    r_horizontal = np.abs(r_slope) < 0.01 * (1.0 - _TIE)
    r_vertical = ~r_horizontal & (np.abs(r_slope) > 100 * (1.0 + _TIE))
    a_r = np.where(r_horizontal, 0.0, np.where(r_vertical, 1.0, r_slope))
    b_r = np.where(r_horizontal, 1.0, np.where(r_vertical, 0.0, -1.0))
    c_r = np.where(r_horizontal, -r_cur[:, 1], np.where(r_vertical, -r_cur[:, 0], r_cur[:, 1] - a_r * r_cur[:, 0]))

    # Rule 7: crossing of the two lines, kept if near a sector point.
    cross_x, cross_y = _solve_2x2(a_n, b_n, -c_n, a_r, b_r, -c_r)
    to_sector = np.hypot(ex - cross_x[:, None], ey - cross_y[:, None])
    to_sector[~in_sector] = np.inf
    valid = (to_sector.min(axis=1) < MAX_CROSSING_PX - _TIE) & in_sector.any(1)
    return np.hypot(cur[:, 0] - cross_x, cur[:, 1] - cross_y), valid


def _first_minimum(values: np.ndarray) -> np.ndarray:
    """Per row, the first index whose value is within ``_TIE`` of the row's minimum.

    MATLAB's ``min`` returns the first of equal values; values that are equal
    in exact arithmetic may differ in their last bits, so equal means within
    ``_TIE`` here. A row of inf gives 0 (as ``argmin``).
    """
    lowest = values.min(axis=1, keepdims=True)
    return np.argmax(values <= lowest + _TIE, axis=1)


def _solve_2x2(a11, a12, b1, a21, a22, b2) -> tuple[np.ndarray, np.ndarray]:
    """Solve each 2 x 2 system as LAPACK's LU with partial pivoting does (MATLAB's ``\\``).

    The same operations in the same order, so that round-off matches where it
    can. A singular system (a pivot within ``_TIE``, relative, of 0: the
    normal parallel to the expert line, or on it) gives NaN (MATLAB: Inf/NaN,
    so the vertex is dropped).
    """
    swap = np.abs(a21) > np.abs(a11)
    p1, p2, pb = np.where(swap, a21, a11), np.where(swap, a22, a12), np.where(swap, b2, b1)
    q1, q2, qb = np.where(swap, a11, a21), np.where(swap, a12, a22), np.where(swap, b1, b2)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = q1 * (1.0 / p1)
        u22 = q2 - factor * p2
        y = (qb - factor * pb) / u22
        x = (pb - p2 * y) / p1
    singular = (p1 == 0) | (np.abs(u22) <= _TIE * (np.abs(q2) + np.abs(factor * p2)))
    return np.where(singular, np.nan, x), np.where(singular, np.nan, y)


def miccai_apd(auto: np.ndarray, expert: np.ndarray) -> float:
    """Mean of the counted distances (px); 0.0 if none counts but some were measured, inf if all dropped."""
    distances, counted = miccai_distances(auto, expert)
    if not np.isfinite(distances).any():
        return np.inf
    apd = float(distances[counted].mean()) if counted.any() else 0.0
    # A mean of round-off (identical contours: about 1e-16 px) is 0.
    return apd if apd > _ZERO_PX else 0.0
