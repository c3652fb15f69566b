"""Polygon checks used by quality control: area and self-crossing."""

from __future__ import annotations

import numpy as np

from ..io._mask import polygon_area  # the shoelace formula, shared with mask_to_contour

__all__ = ["polygon_area", "count_self_crossings"]


def count_self_crossings(points: np.ndarray) -> int:
    """Number of pairs of non-adjacent edges of a closed polygon that cross.

    Only proper crossings count (each edge passes strictly through the other);
    repeated vertices (zero-length edges) are ignored.

    Parameters
    ----------
    points : array-like of shape (n_points, 2)
        The polygon's vertices, in order; the first need not be repeated.

    Returns
    -------
    int
        The number of crossing pairs (0 for a simple polygon).

    Examples
    --------
    >>> from skcardio.qc import count_self_crossings
    >>> count_self_crossings([(0, 0), (2, 0), (2, 2), (0, 2)])
    0
    >>> count_self_crossings([(0, 0), (2, 2), (2, 0), (0, 2)])  # a bow tie
    1
    """
    p = np.asarray(points, dtype=float)
    keep = np.any(p != np.roll(p, 1, axis=0), axis=1)  # drop repeated vertices
    p = p[keep]
    n = len(p)
    if n < 4:
        return 0
    a, b = p, np.roll(p, -1, axis=0)  # edge k runs from a[k] to b[k]
    i, j = np.triu_indices(n, k=2)
    adjacent = (i == 0) & (j == n - 1)  # first and last edge share a vertex
    i, j = i[~adjacent], j[~adjacent]
    d1 = _orient(a[j], b[j], a[i])
    d2 = _orient(a[j], b[j], b[i])
    d3 = _orient(a[i], b[i], a[j])
    d4 = _orient(a[i], b[i], b[j])
    return int(np.count_nonzero((d1 * d2 < 0) & (d3 * d4 < 0)))


def _orient(p, q, r):
    """Sign of the turn p -> q -> r (cross product z component)."""
    return (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])
