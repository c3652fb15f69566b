"""Polygon checks used by quality control: area and self-crossing."""

from __future__ import annotations

import numpy as np

from ..io._mask import outside_image, polygon_area  # shared with mask_to_contour and expert_masks

__all__ = ["polygon_area", "count_self_crossings", "outside_image"]


#: Edge pairs tested at a time by :func:`count_self_crossings`: about 130 bytes each, so under 20 MB
#: of temporaries whatever the number of points (all pairs at once took 30 GiB for 90,000 points).
_PAIRS_PER_CHUNK = 1 << 17


def count_self_crossings(points: np.ndarray, *, max_pairs: int | None = None) -> int:
    """Number of pairs of non-adjacent edges of a closed polygon that cross.

    Only proper crossings count (each edge passes strictly through the other);
    repeated vertices (zero-length edges) are ignored.

    Only the pairs of edges whose extents overlap along x (or y, whichever
    gives fewer) are tested, a bounded number at a time: memory stays under
    20 MB whatever the number of points, and a smooth outline of 100,000
    points takes a tenth of a second. Time grows with those pairs, about
    1 µs each: n² / 2 at worst, for a tangle of long edges spanning one
    another (``max_pairs`` bounds it).

    Parameters
    ----------
    points : array-like of shape (n_points, 2)
        The polygon's vertices, in order; the first need not be repeated.
    max_pairs : int, default=None
        Most pairs of overlapping edges to test; more raise ``ValueError``
        before any is tested. None: no limit.

    Returns
    -------
    int
        The number of crossing pairs (0 for a simple polygon).

    Raises
    ------
    ValueError
        If more than ``max_pairs`` pairs of edges would be tested.

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
    order, ends = min((_sweep(a, b, axis) for axis in (0, 1)), key=lambda sweep: int(sweep[1].sum()))
    if max_pairs is not None and int(ends.sum()) > max_pairs:
        raise ValueError(
            f"{int(ends.sum())} pairs of overlapping edges to test among {n} points, more than max_pairs={max_pairs}"
        )
    # Edge order[k] can only cross the edges order[k + 1 : k + 1 + ends[k]] (they start before it ends).
    total, start = 0, 0
    cumulative = np.cumsum(ends)
    while start < n:
        budget = (cumulative[start - 1] if start else 0) + _PAIRS_PER_CHUNK
        stop = max(int(np.searchsorted(cumulative, budget, side="right")), start + 1)
        total += _crossings(a, b, order, ends, start, min(stop, n))
        start = stop
    return total


def _sweep(a: np.ndarray, b: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges sorted by their low end along ``axis``, and how many later ones start before each ends."""
    low, high = np.minimum(a[:, axis], b[:, axis]), np.maximum(a[:, axis], b[:, axis])
    order = np.argsort(low, kind="stable")
    reach = np.searchsorted(low[order], high[order], side="right")  # extents touching count: a superset
    return order, reach - np.arange(len(order)) - 1


def _crossings(a, b, order, ends, start: int, stop: int) -> int:
    """Proper crossings among the candidate pairs of sorted edges ``start`` to ``stop - 1``."""
    counts = ends[start:stop]
    first = np.repeat(np.arange(start, stop), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    i, j = order[first], order[first + 1 + offset]
    i, j = np.minimum(i, j), np.maximum(i, j)  # the argument order of the all-pairs formula: same round-off
    n = len(a)
    apart = (j - i >= 2) & ~((i == 0) & (j == n - 1))  # adjacent edges share a vertex
    i, j = i[apart], j[apart]
    d1 = _orient(a[j], b[j], a[i])
    d2 = _orient(a[j], b[j], b[i])
    d3 = _orient(a[i], b[i], a[j])
    d4 = _orient(a[i], b[i], b[j])
    return int(np.count_nonzero((d1 * d2 < 0) & (d3 * d4 < 0)))


def _orient(p, q, r):
    """Sign of the turn p -> q -> r (cross product z component)."""
    return (q[:, 0] - p[:, 0]) * (r[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (r[:, 0] - p[:, 0])
