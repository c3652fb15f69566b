"""Convert between contour polygons and boolean masks."""

from __future__ import annotations

import numpy as np
from skimage.draw import polygon2mask
from skimage.measure import find_contours

__all__ = ["contour_to_mask", "mask_to_contour"]


def contour_to_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise a closed ``(x, y)`` polygon into a boolean mask.

    Convention: pixel ``[r, c]`` is True if and only if its centre, the point
    ``(x, y) = (c, r)``, lies inside the closed polygon **or on its boundary**
    (scikit-image's :func:`~skimage.draw.polygon2mask`). Pixel centres sit at
    integer coordinates, so a polygon through ``(0.5, 0.5)``, ``(2.5, 0.5)``,
    ``(2.5, 2.5)``, ``(0.5, 2.5)`` covers exactly the 2 x 2 pixels
    ``[1:3, 1:3]``. Parts of the polygon outside the image are clipped.

    Parameters
    ----------
    points : array-like of shape (n_points, 2)
        ``(x, y)`` = ``(col, row)`` vertices; the polygon is closed
        implicitly (the last point joins the first).
    shape : tuple of int
        ``(rows, columns)`` of the mask.

    Returns
    -------
    mask : ndarray of shape ``shape``, bool

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.io import contour_to_mask
    >>> square = [(1, 1), (3, 1), (3, 3), (1, 3)]  # (x, y)
    >>> contour_to_mask(square, (5, 5)).astype(int)
    array([[0, 0, 0, 0, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 1, 1, 1, 0],
           [0, 0, 0, 0, 0]])
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (n_points, 2), got {points.shape}")
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (rows, columns) with positive sizes, got {shape}")
    # polygon2mask takes (row, col) vertices: swap x and y.
    return polygon2mask(tuple(int(s) for s in shape), points[:, ::-1])


def mask_to_contour(mask: np.ndarray) -> np.ndarray:
    """Trace the outline of the largest object of a mask as ``(x, y)`` points.

    The outline is the 0.5 iso-line of the mask (marching squares,
    :func:`skimage.measure.find_contours`): it runs half-way between pixel
    centres inside and outside, so ``contour_to_mask(mask_to_contour(m),
    m.shape)`` gives back ``m`` for a simply connected object. Of several
    outlines, the longest is returned; the first point is not repeated.

    Parameters
    ----------
    mask : array-like of shape (rows, columns), bool

    Returns
    -------
    points : ndarray of shape (n_points, 2)
        ``(x, y)`` = ``(col, row)`` coordinates; shape ``(0, 2)`` for an
        empty mask.

    Examples
    --------
    >>> import numpy as np
    >>> from skcardio.io import contour_to_mask, mask_to_contour
    >>> mask = np.zeros((6, 6), bool); mask[2:4, 1:5] = True
    >>> points = mask_to_contour(mask)
    >>> bool((contour_to_mask(points, mask.shape) == mask).all())
    True
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (rows, columns), got shape {mask.shape}")
    # Pad so that objects touching the border still give closed outlines.
    padded = np.pad(mask.astype(np.float32), 1)
    outlines = find_contours(padded, 0.5)
    if not outlines:
        return np.empty((0, 2))
    longest = max(outlines, key=len)[:-1] - 1.0  # drop the closing repeat, undo pad
    return longest[:, ::-1].copy()  # (row, col) -> (x, y)
